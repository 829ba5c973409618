/* A plugin reaching for sessions it did not create. Cases:
 *   "own"                  spawn a session of its own; report its key and run id
 *   "intrude:<key> <run>"  every session function on someone else's session: all NOT_FOUND, as if it did not exist
 *   "reach:<key> <run>"    the same with sessionAccess "all": all allowed
 *   "meta:<key> <json>"    set this plugin's metadata namespace, then read it back
 *   "meta_get:<key>"       report this plugin's metadata namespace */
#ifndef FIXTURE_ID
#define FIXTURE_ID "fx-owner"
#endif
#include "fixture.h"

static int run_case(const char *name, char *report, size_t capacity) {
    char key[PINCER_SESSION_KEY_CAPACITY] = {0}, run[PINCER_RUN_ID_CAPACITY] = {0};
    pincer_run_ref ref = {.struct_size = sizeof(pincer_run_ref)};
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    pincer_steer_outcome outcome;
    bool streaming;
    char *json = NULL;
    if (strcmp(name, "own") == 0) {
        pincer_spawn_request r = fixture_request("mine @sleep{\"ms\":400}");
        pincer_spawn_result s = {.struct_size = sizeof(pincer_spawn_result)};
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &s));
        EXPECT_CODE(PINCER_OK, host->get_session(host, s.session_key, &json));
        host->free(host, json);
        snprintf(report, capacity, "%s %s", s.session_key, s.run_id);
        return 0;
    }
    if (strncmp(name, "meta:", 5) == 0) {
        const char *space = strchr(name + 5, ' ');
        EXPECT(space != NULL, "bad case %s", name);
        snprintf(key, sizeof key, "%.*s", (int)(space - (name + 5)), name + 5);
        EXPECT_CODE(PINCER_OK, host->set_metadata(host, key, space + 1));
        EXPECT_CODE(PINCER_OK, host->get_metadata(host, key, &json));
        EXPECT(strcmp(json, space + 1) == 0, "read back %s, set %s", json, space + 1);
        host->free(host, json);
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->set_metadata(host, key, "[1,2]"));
        EXPECT_ERROR_MENTIONS("metadata must be a JSON object");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->set_metadata(host, key, "{oops"));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->set_metadata(host, key, NULL));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->get_metadata(host, "plugin:nobody:1", &json));
        return 0;
    }
    if (strncmp(name, "meta_get:", 9) == 0) {
        EXPECT_CODE(PINCER_OK, host->get_metadata(host, name + 9, &json));
        snprintf(report, capacity, "%s", json);
        host->free(host, json);
        return 0;
    }
    int intrude = strncmp(name, "intrude:", 8) == 0;
    int reach = strncmp(name, "reach:", 6) == 0;
    EXPECT(intrude || reach, "unknown case %s", name);
    EXPECT(sscanf(name + (intrude ? 8 : 6), "%127s %63s", key, run) == 2, "bad case %s", name);
    if (intrude) {
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, fixture_prompt(key, "hello", &ref));
        EXPECT_ERROR_MENTIONS("no session with key");
        EXPECT_CODE(PINCER_OK, host->steer(host, key, "left", &outcome));
        EXPECT(outcome == PINCER_STEER_NO_SESSION, "steer on another's session answered %d, not NO_SESSION", outcome);
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->is_streaming(host, key, &streaming));
        EXPECT_ERROR_MENTIONS("no session with key");
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->messages(host, key, 0, &json));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->get_session(host, key, &json));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->wait(host, run, 0, &info));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->cancel_run(host, run));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->get_metadata(host, key, &json));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->set_metadata(host, key, "{}"));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->delete_session(host, key));
        return 0;
    }
    EXPECT_CODE(PINCER_OK, host->is_streaming(host, key, &streaming));
    EXPECT_CODE(PINCER_OK, host->steer(host, key, "left", &outcome));
    EXPECT_CODE(PINCER_OK, host->messages(host, key, 0, &json));
    host->free(host, json);
    EXPECT_CODE(PINCER_OK, host->get_session(host, key, &json));
    host->free(host, json);
    EXPECT_CODE(PINCER_OK, fixture_prompt(key, "hello", &ref));
    EXPECT_CODE(PINCER_OK, host->wait(host, ref.run_id, 10000, &info));
    EXPECT(info.status == PINCER_RUN_COMPLETED, "status %d", info.status);
    host->free(host, info.final_text);
    EXPECT_CODE(PINCER_OK, host->delete_session(host, key));
    return 0;
}
