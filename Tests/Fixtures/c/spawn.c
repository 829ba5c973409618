/* spawn: a restricted session runs, bad requests are refused with reasons. */
#ifndef FIXTURE_ID
#define FIXTURE_ID "fx-spawn"
#endif
#include "fixture.h"


static int run_case(const char *name, char *report, size_t capacity) {
    pincer_spawn_result out = {.struct_size = sizeof(pincer_spawn_result)};
    if (strcmp(name, "restricted") == 0) {
        const char *allow[] = {"echo", "clock"};
        const char *deny[] = {"clock"};
        pincer_spawn_request r = fixture_request("go @echo{\"text\":\"x\"} @clock @sleep{\"ms\":1}");
        r.system_prompt = "be brief";
        r.tools_allow = allow;
        r.tools_allow_count = 2;
        r.tools_deny = deny;
        r.tools_deny_count = 1;
        r.model = "local/instant";
        r.timeout_seconds = 30;
        r.label = "restricted";
        r.metadata_json = "{\"" FIXTURE_ID "\":{\"ticket\":7}}";
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &out));
        EXPECT(out.struct_size == sizeof out, "result struct_size %u", out.struct_size);
        EXPECT(strncmp(out.session_key, "plugin:" FIXTURE_ID ":", strlen("plugin:" FIXTURE_ID ":")) == 0,
               "key %s lacks the plugin prefix", out.session_key);
        EXPECT(strncmp(out.run_id, "run-", 4) == 0, "run id %s", out.run_id);
        pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
        EXPECT_CODE(PINCER_OK, host->wait(host, out.run_id, 10000, &info));
        EXPECT(info.status == PINCER_RUN_COMPLETED, "status %d", info.status);
        EXPECT(info.final_text && strstr(info.final_text, "echo → x"), "final text %s", info.final_text);
        EXPECT(strstr(info.final_text, "clock failed: tool 'clock' is denied"), "clock not denied: %s", info.final_text);
        EXPECT(strstr(info.final_text, "sleep failed: tool 'sleep' is not in the session's allow list"),
               "sleep not refused by allow list: %s", info.final_text);
        EXPECT(info.error == NULL, "error set on a completed run");
        host->free(host, info.final_text);
        snprintf(report, capacity, "%s", out.session_key);
        return 0;
    }
    if (strcmp(name, "hold") == 0) {
        /* A spawn whose run lasts two seconds; report 0 + key, or 2 + the refusal. */
        pincer_spawn_request r = fixture_request("hold @sleep{\"ms\":2000}");
        pincer_result code = host->spawn(host, &r, &out);
        if (code != PINCER_OK) {
            snprintf(report, capacity, "%d %s", code, host->last_error(host));
            return 2;
        }
        snprintf(report, capacity, "%s", out.session_key);
        return 0;
    }
    if (strcmp(name, "quick") == 0) {
        /* A spawn that completes at once; waits for it so it stops counting as concurrent. */
        pincer_spawn_request r = fixture_request("quick");
        pincer_result code = host->spawn(host, &r, &out);
        if (code != PINCER_OK) {
            snprintf(report, capacity, "%d %s", code, host->last_error(host));
            return 2;
        }
        pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
        EXPECT_CODE(PINCER_OK, host->wait(host, out.run_id, 10000, &info));
        host->free(host, info.final_text);
        return 0;
    }
    if (strcmp(name, "model_not_granted") == 0) {
        pincer_spawn_request r = fixture_request("x");
        r.model = "local/instant";
        EXPECT_CODE(PINCER_ERR_DENIED, host->spawn(host, &r, &out));
        EXPECT_ERROR_MENTIONS("set plugins.entries." FIXTURE_ID ".allowModelOverride = true");
        r.model = "local/scripted"; /* the default model is no override */
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &out));
        return 0;
    }
    if (strcmp(name, "model_narrowed") == 0) {
        /* Run with allowedModels = ["local/instant"]. */
        pincer_spawn_request r = fixture_request("x");
        r.model = "local/instant";
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &out));
        r.model = "nope/model";
        EXPECT_CODE(PINCER_ERR_DENIED, host->spawn(host, &r, &out));
        EXPECT_ERROR_MENTIONS("model 'nope/model' is not in plugins.entries." FIXTURE_ID ".allowedModels (local/instant)");
        return 0;
    }
    if (strcmp(name, "refusals") == 0) {
        pincer_spawn_request r = fixture_request("x");
        r.model = "nope/model";
        EXPECT_CODE(PINCER_ERR_UNSUPPORTED, host->spawn(host, &r, &out));
        EXPECT_ERROR_MENTIONS("nope/model");
        EXPECT_ERROR_MENTIONS("local/scripted");
        r = fixture_request("x");
        r.struct_size = 3;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &out));
        EXPECT_ERROR_MENTIONS("struct_size");
        r = fixture_request("x");
        r.metadata_json = "{\"open\":";
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &out));
        EXPECT_ERROR_MENTIONS("metadata_json is not valid JSON");
        r.metadata_json = "[1,2]";
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &out));
        EXPECT_ERROR_MENTIONS("must be an object keyed by namespace");
        r = fixture_request("");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &out));
        EXPECT_ERROR_MENTIONS("message is empty");
        r = fixture_request("x");
        r.tools_allow_count = 2; /* with a NULL array */
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->spawn(host, &r, &out));
        EXPECT_ERROR_MENTIONS("tools_allow is NULL");
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
