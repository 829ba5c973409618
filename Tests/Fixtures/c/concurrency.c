/* Many threads on the host table at once: the answers stay exact and nothing fails. */
#define FIXTURE_ID "fx-concurrency"
#include "fixture.h"

#include <stdatomic.h>

enum { THREADS = 8, CALLS = 4000, LIMIT = 1000 };

static char session_key[PINCER_SESSION_KEY_CAPACITY];
static atomic_int allowed_total;
static atomic_int failures;
static atomic_int steered;
static char first_failure[512];

static void note_failure(const char *what) {
    if (atomic_fetch_add(&failures, 1) == 0) snprintf(first_failure, sizeof first_failure, "%s: %s", what, host->last_error(host));
}

static void *worker(void *arg) {
    long id = (long)arg;
    char own_key[32];
    snprintf(own_key, sizeof own_key, "thread-%ld", id);
    pincer_rate_limit_result r = {.struct_size = sizeof(pincer_rate_limit_result)};
    bool streaming;
    pincer_steer_outcome outcome;
    for (int i = 0; i < CALLS; i++) {
        /* One key shared by every thread: exactly LIMIT checks may pass. */
        if (host->rate_limit_check(host, "shared", LIMIT, 600000, &r) != PINCER_OK) note_failure("rate_limit_check shared");
        else if (r.allowed) atomic_fetch_add(&allowed_total, 1);
        /* A key per thread, 10 per window: exactly 10 pass for each thread. */
        if (host->rate_limit_check(host, own_key, 10, 600000, &r) != PINCER_OK) note_failure("rate_limit_check own");
        if (host->is_streaming(host, session_key, &streaming) != PINCER_OK) note_failure("is_streaming");
        if (i % 500 == 0) {
            if (host->steer(host, session_key, "keep going", &outcome) != PINCER_OK) note_failure("steer");
            else if (outcome == PINCER_STEER_QUEUED) atomic_fetch_add(&steered, 1);
        }
    }
    /* The per-thread key has exactly 10 requests counted. */
    if (host->rate_limit_check(host, own_key, 11, 600000, &r) != PINCER_OK || !r.allowed || r.remaining != 0)
        note_failure("own key count");
    return NULL;
}

static int run_case(const char *name, char *report, size_t capacity) {
    if (strcmp(name, "hammer") == 0) {
        pincer_spawn_request req;
        memset(&req, 0, sizeof req);
        req.struct_size = sizeof req;
        req.message = "long @sleep{\"ms\":3000}";
        pincer_spawn_result s = {.struct_size = sizeof(pincer_spawn_result)};
        EXPECT_CODE(PINCER_OK, host->spawn(host, &req, &s));
        snprintf(session_key, sizeof session_key, "%s", s.session_key);
        bool streaming = false;
        for (int i = 0; i < 2000 && !streaming; i++) {
            EXPECT_CODE(PINCER_OK, host->is_streaming(host, session_key, &streaming));
            if (!streaming) fixture_sleep_ms(1);
        }
        pthread_t threads[THREADS];
        for (long t = 0; t < THREADS; t++) EXPECT(pthread_create(&threads[t], NULL, worker, (void *)t) == 0, "pthread_create");
        for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
        EXPECT(atomic_load(&failures) == 0, "%d calls failed; first: %s", atomic_load(&failures), first_failure);
        EXPECT(atomic_load(&allowed_total) == LIMIT, "%d checks of the shared key were allowed, limit %d",
               atomic_load(&allowed_total), LIMIT);
        EXPECT(atomic_load(&steered) > 0, "no steer was queued");
        EXPECT_CODE(PINCER_OK, host->cancel_run(host, s.run_id));
        return 0;
    }
    snprintf(report, capacity, "unknown case %s", name);
    return 1;
}
