/* steer and is_streaming. */
#define FIXTURE_ID "fx-steer"
#include "fixture.h"

static int run_case(const char *name, char *report, size_t capacity) {
    pincer_spawn_result s = {.struct_size = sizeof(pincer_spawn_result)};
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    pincer_steer_outcome outcome;
    bool streaming = false;
    if (strcmp(name, "steer") == 0) {
        pincer_spawn_request r = fixture_request("work @sleep{\"ms\":300} @echo{\"text\":\"done\"}");
        EXPECT_CODE(PINCER_OK, host->spawn(host, &r, &s));
        for (int i = 0; i < 1000 && !streaming; i++) {
            EXPECT_CODE(PINCER_OK, host->is_streaming(host, s.session_key, &streaming));
            if (!streaming) fixture_sleep_ms(1);
        }
        EXPECT(streaming, "never streaming");
        EXPECT_CODE(PINCER_OK, host->steer(host, s.session_key, "turn left", &outcome));
        EXPECT(outcome == PINCER_STEER_QUEUED, "outcome %d", outcome);
        EXPECT_CODE(PINCER_OK, host->wait(host, s.run_id, 10000, &info));
        EXPECT(info.status == PINCER_RUN_COMPLETED, "status %d", info.status);
        host->free(host, info.final_text);
        char *json = NULL;
        EXPECT_CODE(PINCER_OK, host->messages(host, s.session_key, 0, &json));
        /* The steer message lands after the sleep's result, and the very next model turn answers it. */
        char *sleep_at = strstr(json, "\"toolName\":\"sleep\"");
        char *steer_at = strstr(json, "\"role\":\"steer\",\"content\":\"turn left\"");
        char *seen_at = strstr(json, "\"content\":\"Steering noted: turn left. Calling echo.\"");
        EXPECT(sleep_at && steer_at && seen_at && sleep_at < steer_at && steer_at < seen_at, "transcript %s", json);
        host->free(host, json);
        EXPECT_CODE(PINCER_OK, host->is_streaming(host, s.session_key, &streaming));
        EXPECT(!streaming, "still streaming after the run");
        EXPECT_CODE(PINCER_OK, host->steer(host, s.session_key, "late", &outcome));
        EXPECT(outcome == PINCER_STEER_NO_ACTIVE_RUN, "outcome %d", outcome);
        return 0;
    }
    if (strcmp(name, "unknown") == 0) {
        EXPECT_CODE(PINCER_OK, host->steer(host, "plugin:nobody:000", "hello", &outcome));
        EXPECT(outcome == PINCER_STEER_NO_SESSION, "outcome %d", outcome);
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->is_streaming(host, "plugin:nobody:000", &streaming));
        EXPECT_ERROR_MENTIONS("plugin:nobody:000");
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
