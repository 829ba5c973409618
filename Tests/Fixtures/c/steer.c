/* steer and is_streaming. */
#define _DEFAULT_SOURCE /* mmap's MAP_ANONYMOUS under -std=c11 */
#define FIXTURE_ID "fx-steer"
#include "fixture.h"

#include <sys/mman.h>
#include <unistd.h>

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
        /* The host tries first where this plugin's last is_streaming found its session: a key
         * one byte shorter or longer than that one is still another key... */
        char key[PINCER_SESSION_KEY_CAPACITY + 1];
        size_t n = strlen(s.session_key);
        memcpy(key, s.session_key, n - 1), key[n - 1] = '\0';
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->is_streaming(host, key, &streaming));
        memcpy(key, s.session_key, n), key[n] = '0', key[n + 1] = '\0';
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->is_streaming(host, key, &streaming));
        /* ...a key ending where readable memory ends is read no further, whatever the guess... */
        long page = sysconf(_SC_PAGESIZE);
        char *pages = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        EXPECT(pages != MAP_FAILED && mprotect(pages + page, (size_t)page, PROT_NONE) == 0, "guard page");
        EXPECT_CODE(PINCER_OK, host->is_streaming(host, s.session_key, &streaming));
        strcpy(pages + page - 2, "p");
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->is_streaming(host, pages + page - 2, &streaming));
        memcpy(pages + page - (n + 1), s.session_key, n + 1);
        EXPECT_CODE(PINCER_OK, host->is_streaming(host, pages + page - (n + 1), &streaming));
        EXPECT(!streaming, "streaming, read at a page's end");
        munmap(pages, 2 * (size_t)page);
        /* ...and a deleted session is gone, though the guess still names where it was. */
        EXPECT_CODE(PINCER_OK, host->delete_session(host, s.session_key));
        EXPECT_CODE(PINCER_ERR_NOT_FOUND, host->is_streaming(host, s.session_key, &streaming));
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
