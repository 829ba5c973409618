/*
 * pincer/rate_limit.h — the answer of host->rate_limit_check.
 *
 * A sliding-window limiter: a key is allowed at most max_requests requests in
 * any window of window_ms milliseconds ending now — a true sliding window over
 * the timestamps of allowed requests, not fixed buckets. Only an allowed
 * check counts as a request. Keys are the plugin's own strings (an IP, a
 * sender, an agent id) and are namespaced per plugin: two plugins using the
 * same key never share a window. Memory is bounded: keys whose window has
 * emptied are evicted, and past the operator's per-plugin key cap the least
 * recently used key is evicted first.
 */
#ifndef PINCER_RATE_LIMIT_H
#define PINCER_RATE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* Bounds on the arguments; outside them the check returns
 * PINCER_ERR_INVALID_ARGUMENT. */
#define PINCER_RATE_LIMIT_MAX_REQUESTS 65535u
#define PINCER_RATE_LIMIT_MAX_WINDOW_MS (30ull * 24 * 3600 * 1000)
#define PINCER_RATE_LIMIT_MAX_KEY_BYTES 256u

typedef struct pincer_rate_limit_result {
    /* True when this request fits in the window (and now counts). */
    bool allowed;
    /* Requests still allowed in the current window after this one. */
    uint32_t remaining;
    /* 0 when allowed; else milliseconds until the oldest counted request
     * leaves the window, rounded up. */
    uint64_t retry_after_ms;
} pincer_rate_limit_result;

#endif /* PINCER_RATE_LIMIT_H */
