/* rate_limit_check and rate_limit_reset. */
#ifndef FIXTURE_ID
#define FIXTURE_ID "fx-ratelimit"
#endif
#include "fixture.h"

static int run_case(const char *name, char *report, size_t capacity) {
    pincer_rate_limit_result r = {.struct_size = sizeof(pincer_rate_limit_result)};
    if (strcmp(name, "window") == 0) {
        for (uint32_t i = 0; i < 3; i++) {
            EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, "10.0.0.1", 3, 300, &r));
            EXPECT(r.allowed && r.remaining == 2 - i && r.retry_after_ms == 0, "check %u: allowed %d remaining %u", i,
                   r.allowed, r.remaining);
        }
        EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, "10.0.0.1", 3, 300, &r));
        EXPECT(!r.allowed && r.remaining == 0 && r.retry_after_ms > 0 && r.retry_after_ms <= 300, "4th: allowed %d retry %llu",
               r.allowed, (unsigned long long)r.retry_after_ms);
        EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, "10.0.0.2", 3, 300, &r));
        EXPECT(r.allowed && r.remaining == 2, "another key shares the window");
        fixture_sleep_ms((int)r.retry_after_ms + 350);
        EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, "10.0.0.1", 3, 300, &r));
        EXPECT(r.allowed && r.remaining == 2, "after the window: allowed %d remaining %u", r.allowed, r.remaining);
        return 0;
    }
    if (strcmp(name, "reset") == 0) {
        EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, "caller", 1, 60000, &r));
        EXPECT(r.allowed, "first refused");
        EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, "caller", 1, 60000, &r));
        EXPECT(!r.allowed && r.retry_after_ms > 59000, "second: allowed %d retry %llu", r.allowed, (unsigned long long)r.retry_after_ms);
        EXPECT_CODE(PINCER_OK, host->rate_limit_reset(host, "caller"));
        EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, "caller", 1, 60000, &r));
        EXPECT(r.allowed, "refused after reset");
        EXPECT_CODE(PINCER_OK, host->rate_limit_reset(host, "never-seen"));
        return 0;
    }
    if (strcmp(name, "shared_key") == 0) {
        /* Run by two plugins: each must get its own window for the same key. */
        EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, "same-key", 1, 60000, &r));
        EXPECT(r.allowed, "the first check of this plugin was refused: the key is shared across plugins");
        EXPECT_CODE(PINCER_OK, host->rate_limit_check(host, "same-key", 1, 60000, &r));
        EXPECT(!r.allowed, "the second check was allowed");
        return 0;
    }
    if (strcmp(name, "bad_arguments") == 0) {
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->rate_limit_check(host, "k", 0, 1000, &r));
        EXPECT_ERROR_MENTIONS("max_requests is 0");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->rate_limit_check(host, "k", 70000, 1000, &r));
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->rate_limit_check(host, "k", 1, 0, &r));
        EXPECT_ERROR_MENTIONS("window_ms is 0");
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->rate_limit_check(host, "k", 1, PINCER_RATE_LIMIT_MAX_WINDOW_MS + 1, &r));
        char long_key[PINCER_RATE_LIMIT_MAX_KEY_BYTES + 2];
        memset(long_key, 'k', sizeof long_key - 1);
        long_key[sizeof long_key - 1] = 0;
        EXPECT_CODE(PINCER_ERR_INVALID_ARGUMENT, host->rate_limit_check(host, long_key, 1, 1000, &r));
        EXPECT_ERROR_MENTIONS("longer than 256 bytes");
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
