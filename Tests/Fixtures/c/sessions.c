/* prompt, wait, messages, get_session, delete_session, cancel_run. */
#define FIXTURE_ID "fx-sessions"
#include "fixture.h"

static pincer_result spawn(const char *message, uint32_t timeout_seconds, pincer_spawn_result *out) {
    pincer_spawn_request r = fixture_request(message);
    r.timeout_seconds = timeout_seconds;
    r.label = "sessions-fixture";
    r.metadata_json = "{\"fx-sessions\":{\"owner\":\"fx-sessions\"}}";
    return host->spawn(host, &r, out);
}

static int run_case(const char *name, char *report, size_t capacity) {
    pincer_spawn_result s = {.struct_size = sizeof(pincer_spawn_result)};
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    char *json = NULL;
    if (strcmp(name, "follow_up") == 0) {
        EXPECT_CODE(PINCER_OK, spawn("first", 0, &s));
        EXPECT_CODE(PINCER_OK, host->wait(host, s.run_id, 10000, &info));
        host->free(host, info.final_text);
        pincer_run_ref ref = {.struct_size = sizeof(pincer_run_ref)};
        EXPECT_CODE(PINCER_OK, fixture_prompt(s.session_key, "second @echo{\"text\":\"again\"}", &ref));
        EXPECT(strcmp(ref.run_id, s.run_id) != 0, "the follow-up reused the run id");
        EXPECT_CODE(PINCER_OK, host->wait(host, ref.run_id, 10000, &info));
        EXPECT(info.status == PINCER_RUN_COMPLETED, "status %d", info.status);
        EXPECT(strstr(info.final_text, "You said: second. Tool results: echo → again."), "final %s", info.final_text);
        host->free(host, info.final_text);
        EXPECT_CODE(PINCER_OK, host->messages(host, s.session_key, 0, &json));
        EXPECT(strstr(json, "\"content\":\"first\"") && strstr(json, "\"toolName\":\"echo\""), "transcript %s", json);
        host->free(host, json);
        EXPECT_CODE(PINCER_OK, host->messages(host, s.session_key, 1, &json));
        EXPECT(strstr(json, "\"content\":\"first\"") == NULL && strstr(json, "You said: second"), "limit 1 gave %s", json);
        host->free(host, json);
        EXPECT_CODE(PINCER_OK, host->get_session(host, s.session_key, &json));
        EXPECT(strstr(json, "\"label\":\"sessions-fixture\"") && strstr(json, "\"metadata\":{\"owner\":\"fx-sessions\"}") &&
                   strstr(json, "\"total\":2"),
               "session %s", json);
        host->free(host, json);
        snprintf(report, capacity, "%s", s.session_key);
        return 0;
    }
    if (strcmp(name, "wait_timeout") == 0) {
        EXPECT_CODE(PINCER_OK, spawn("slow @sleep{\"ms\":400}", 0, &s));
        EXPECT_CODE(PINCER_ERR_TIMEOUT, host->wait(host, s.run_id, 20, &info));
        EXPECT(info.status == PINCER_RUN_RUNNING || info.status == PINCER_RUN_QUEUED, "status %d", info.status);
        EXPECT(info.final_text == NULL, "final text before the end");
        EXPECT_CODE(PINCER_ERR_TIMEOUT, host->wait(host, s.run_id, 0, &info));
        EXPECT_CODE(PINCER_OK, host->wait(host, s.run_id, 10000, &info));
        EXPECT(info.status == PINCER_RUN_COMPLETED && info.duration_ms >= 400, "status %d after %llu ms", info.status,
               (unsigned long long)info.duration_ms);
        host->free(host, info.final_text);
        return 0;
    }
    if (strcmp(name, "cancel") == 0) {
        EXPECT_CODE(PINCER_OK, spawn("long @sleep{\"ms\":8000}", 0, &s));
        pincer_run_ref queued = {.struct_size = sizeof(pincer_run_ref)};
        EXPECT_CODE(PINCER_OK, fixture_prompt(s.session_key, "after it", &queued));
        fixture_sleep_ms(30);
        EXPECT_CODE(PINCER_OK, host->cancel_run(host, queued.run_id));
        EXPECT_CODE(PINCER_OK, host->wait(host, queued.run_id, 0, &info));
        EXPECT(info.status == PINCER_RUN_CANCELLED, "queued run status %d", info.status);
        host->free(host, info.error);
        EXPECT_CODE(PINCER_OK, host->cancel_run(host, s.run_id));
        EXPECT_CODE(PINCER_OK, host->wait(host, s.run_id, 2000, &info));
        EXPECT(info.status == PINCER_RUN_CANCELLED && info.duration_ms < 2000, "status %d after %llu ms", info.status,
               (unsigned long long)info.duration_ms);
        EXPECT(info.error && strstr(info.error, "cancelled"), "error %s", info.error);
        host->free(host, info.error);
        EXPECT_CODE(PINCER_OK, host->cancel_run(host, s.run_id)); /* already ended: nothing changes */
        return 0;
    }
    if (strcmp(name, "delete") == 0) {
        EXPECT_CODE(PINCER_OK, spawn("busy @sleep{\"ms\":8000}", 0, &s));
        fixture_sleep_ms(20);
        EXPECT_CODE(PINCER_OK, host->delete_session(host, s.session_key));
        EXPECT_CODE(PINCER_OK, host->wait(host, s.run_id, 2000, &info));
        EXPECT(info.status == PINCER_RUN_CANCELLED, "status %d", info.status);
        EXPECT(info.error && strstr(info.error, "deleted"), "error %s", info.error);
        host->free(host, info.error);
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->get_session(host, s.session_key, &json));
        EXPECT(json == NULL, "out not cleared");
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->messages(host, s.session_key, 0, &json));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->delete_session(host, s.session_key));
        EXPECT_ERROR_MENTIONS(s.session_key);
        return 0;
    }
    if (strcmp(name, "run_timeout") == 0) {
        EXPECT_CODE(PINCER_OK, spawn("stuck @sleep{\"ms\":5000}", 1, &s));
        EXPECT_CODE(PINCER_OK, host->wait(host, s.run_id, 4000, &info));
        EXPECT(info.status == PINCER_RUN_TIMED_OUT, "status %d", info.status);
        EXPECT(info.error && strstr(info.error, "timeout of 1 s"), "error %s", info.error);
        host->free(host, info.error);
        return 0;
    }
    if (strcmp(name, "failed_run") == 0) {
        EXPECT_CODE(PINCER_OK, spawn("please #fail", 0, &s));
        EXPECT_CODE(PINCER_OK, host->wait(host, s.run_id, 4000, &info));
        EXPECT(info.status == PINCER_RUN_FAILED, "status %d", info.status);
        EXPECT(info.error && strstr(info.error, "asked to fail"), "error %s", info.error);
        host->free(host, info.error);
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
