/*
 * The benchmark plugin: times host calls from the plugin's side of the
 * boundary, against a plain C function-pointer call of the same shape in the
 * same run. It offers the table "pincer.bench/1"; the bench driver calls it,
 * and also asks it for the malloc heap in use (mallinfo2 is not visible to Swift).
 */
#define _POSIX_C_SOURCE 200809L
#include <pincer/pincer.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const pincer_host *host;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The baseline: a function with is_streaming's signature that does almost nothing. */
__attribute__((noinline)) static pincer_result plain_call(const pincer_host *h, const char *key, bool *out) {
    *out = h != NULL && key[0] != 0;
    return PINCER_OK;
}
typedef pincer_result (*is_streaming_fn)(const pincer_host *, const char *, bool *);
static is_streaming_fn volatile plain_pointer = plain_call;

/* ns per call of get_extension with an unknown id: the boundary's own cost (handle check, no work). */
static double time_empty_call(uint64_t iterations) {
    const void *found = NULL;
    uint64_t start = now_ns();
    for (uint64_t i = 0; i < iterations; i++) found = host->get_extension(host, "bench.none/1");
    uint64_t elapsed = now_ns() - start;
    return found ? -1 : (double)elapsed / (double)iterations;
}

/* ns per call of is_streaming (host) or of the plain pointer, over `iterations`. */
static double time_is_streaming(const char *key, uint64_t iterations, int use_host) {
    is_streaming_fn fn = use_host ? host->is_streaming : plain_pointer;
    bool streaming = false;
    uint64_t failures = 0;
    uint64_t start = now_ns();
    for (uint64_t i = 0; i < iterations; i++) failures += fn(host, key, &streaming) != PINCER_OK;
    uint64_t elapsed = now_ns() - start;
    if (failures) {
        fprintf(stderr, "bench: %llu calls failed: %s\n", (unsigned long long)failures, host->last_error(host));
        return -1; /* a timing of failing calls means nothing */
    }
    return (double)elapsed / (double)iterations;
}

/* ns per rate_limit_check over `iterations`, cycling through `key_count` distinct keys;
 * counts the allowed ones into *allowed. */
static double time_rate_limit(uint32_t key_count, uint64_t iterations, uint32_t max_requests, uint64_t window_ms,
                              uint64_t *allowed) {
    char (*keys)[24] = malloc(sizeof *keys * key_count);
    for (uint32_t k = 0; k < key_count; k++) snprintf(keys[k], sizeof keys[k], "198.51.%u.%u", k / 256, k % 256);
    pincer_rate_limit_result r = {.struct_size = sizeof(pincer_rate_limit_result)};
    uint64_t ok = 0, failures = 0;
    uint32_t k = 0;
    uint64_t start = now_ns();
    for (uint64_t i = 0; i < iterations; i++) {
        failures += host->rate_limit_check(host, keys[k], max_requests, window_ms, &r) != PINCER_OK;
        ok += r.allowed;
        if (++k == key_count) k = 0;
    }
    uint64_t elapsed = now_ns() - start;
    free(keys);
    *allowed = ok;
    if (failures) {
        fprintf(stderr, "bench: %llu checks failed: %s\n", (unsigned long long)failures, host->last_error(host));
        return -1;
    }
    return (double)elapsed / (double)iterations;
}

/* Forgets the windows of the first `key_count` keys time_rate_limit uses, so a fill can be timed again from the same state. */
static void reset_keys(uint32_t key_count) {
    char key[24];
    for (uint32_t k = 0; k < key_count; k++) {
        snprintf(key, sizeof key, "198.51.%u.%u", k / 256, k % 256);
        host->rate_limit_reset(host, key);
    }
}

/* Bytes of malloc heap in use in the whole process (the host's allocations too),
 * counting blocks malloc served with mmap (large arrays) as well. */
static uint64_t heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return (uint64_t)(info.uordblks + info.hblkhd);
}

typedef struct bench_v1 {
    double (*is_streaming)(const char *key, uint64_t iterations, int use_host);
    double (*rate_limit)(uint32_t key_count, uint64_t iterations, uint32_t max_requests, uint64_t window_ms, uint64_t *allowed);
    uint64_t (*heap_in_use)(void);
    double (*empty_call)(uint64_t iterations);
    void (*reset_keys)(uint32_t key_count);
} bench_v1;

static const bench_v1 bench = {time_is_streaming, time_rate_limit, heap_in_use, time_empty_call, reset_keys};

static const void *get_extension(const pincer_host *h, const char *id) {
    (void)h;
    return id[0] == 'p' && __builtin_strcmp(id, "pincer.bench/1") == 0 ? &bench : NULL;
}

static pincer_result init(const pincer_host *h, const char *path, char *error, size_t capacity) {
    (void)path;
    (void)error;
    (void)capacity;
    host = h;
    return PINCER_OK;
}

static void shutdown(const pincer_host *h) { (void)h; }

static const char *const capabilities[] = {PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_STEER, PINCER_CAP_RATE_LIMIT, NULL};
#ifndef BENCH_ID
#define BENCH_ID "bench"
#endif
static const pincer_plugin_descriptor descriptor = {sizeof(pincer_plugin_descriptor), BENCH_ID, "Benchmark", "1.0.0",
                                                    "Times host calls.", capabilities, PINCER_SOURCE_LANGUAGE, NULL};

PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor,
                                                        init, NULL, shutdown, get_extension};
