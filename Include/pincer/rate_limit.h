/*
 * pincer/rate_limit.h — the answer of host->rate_limit_check, and its bounds.
 *
 * A sliding-window limiter: a key is allowed at most max_requests requests in
 * any window of window_ms milliseconds ending now. Only an allowed check
 * counts as a request. Keys are the plugin's own strings (an IP, a sender, an
 * agent id), namespaced per plugin: two plugins using the same key never
 * share a window.
 *
 * A key remembers the window_ms it was last checked with; checking it with
 * another window_ms or max_requests applies the new values to the requests
 * already counted (never allowing more than the new max_requests in the new
 * window). Use one key per limit.
 *
 * Exactness and memory. While a key has counted at most
 * PINCER_RATE_LIMIT_EXACT_REQUESTS requests in its window, the window is
 * exact: each request's timestamp is kept. Past that, the key counts requests
 * per 1/PINCER_RATE_LIMIT_BUCKETS of the window from then on (until it is
 * evicted or reset). The approximation errs one way only: it never allows more
 * than max_requests in any window of window_ms; it may refuse up to
 * window_ms / PINCER_RATE_LIMIT_BUCKETS early (remaining may read low, and
 * retry_after_ms late, by as much). Either way a key holds at most 520 bytes
 * of state plus its key (at most PINCER_RATE_LIMIT_MAX_KEY_BYTES) and an
 * 8-byte header: under 1 KiB per key, whatever max_requests is. Keys whose
 * window has emptied are evicted, and past the operator's per-plugin key cap
 * (rateLimit.maxKeysPerPlugin) the least recently used key is evicted first.
 *
 * @since 1.0
 */
#ifndef PINCER_RATE_LIMIT_H
#define PINCER_RATE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

PINCER_EXTERN_C_BEGIN

/* Bounds on the arguments; outside them the check returns
 * PINCER_ERR_INVALID_ARGUMENT. */
#define PINCER_RATE_LIMIT_MAX_REQUESTS 65535u
#define PINCER_RATE_LIMIT_MAX_WINDOW_MS (30ull * 24 * 3600 * 1000)
#define PINCER_RATE_LIMIT_MAX_KEY_BYTES 256u
/* Up to this many counted requests a key's window is exact; past them, bucketed. */
#define PINCER_RATE_LIMIT_EXACT_REQUESTS 64u
#define PINCER_RATE_LIMIT_BUCKETS 128u

/* A result struct (extension.h). */
typedef struct pincer_rate_limit_result {
    /* Set by the plugin before the call (sizeof); the host writes back what it filled. */
    uint32_t struct_size;
    /* True when this request fits in the window (and now counts). */
    bool allowed;
    /* Requests still allowed in the current window after this one. */
    uint32_t remaining;
    /* 0 when allowed; else milliseconds until one more request would be
     * allowed, rounded up (exact in the exact mode; see above otherwise). */
    uint64_t retry_after_ms;
} pincer_rate_limit_result;

#define PINCER_RATE_LIMIT_RESULT_MIN_SIZE (offsetof(pincer_rate_limit_result, retry_after_ms) + sizeof(uint64_t))

PINCER_EXTERN_C_END

#endif /* PINCER_RATE_LIMIT_H */
