/*
 * Shared scaffolding for the test fixture plugins. A fixture defines
 *
 *     #define FIXTURE_ID "fx-name"
 *     #include "fixture.h"
 *     static int run_case(const char *name, char *report, size_t capacity) { ... }
 *
 * and gets a complete plugin: descriptor, init, shutdown, and the extension
 * "pincer.test/1", through which the Swift tests run one named case at a time.
 * A case returns 0 when every expectation held (it may leave output in
 * `report`, e.g. a session key), or non-zero with the failed expectation in
 * `report`. Knobs, for the refusal fixtures: FIXTURE_ABI_MAJOR,
 * FIXTURE_ABI_MINOR, FIXTURE_ABI_PRERELEASE, FIXTURE_NULL_INIT, FIXTURE_INIT_FAILS,
 * FIXTURE_NULL_DESCRIPTOR, FIXTURE_ENTRY_NAME, FIXTURE_ABI_PRERELEASE,
 * FIXTURE_ENTRY_FUNCTION (export pincer_plugin_get instead of the data
 * symbol), FIXTURE_CAPABILITIES, and FIXTURE_ON_INIT (a function the fixture
 * defines before including this file, called in init before it succeeds or
 * fails), FIXTURE_ON_SHUTDOWN (likewise, called in shutdown).
 */
#ifndef FIXTURE_H
#define FIXTURE_H

#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#include <pincer/pincer.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const pincer_host *host;

static int run_case(const char *name, char *report, size_t capacity);

#define EXPECT(cond, ...)                                   \
    do {                                                    \
        if (!(cond)) {                                      \
            int n_ = snprintf(report, capacity, "line %d: ", __LINE__); \
            snprintf(report + n_, capacity - (size_t)n_, __VA_ARGS__); \
            return 1;                                       \
        }                                                   \
    } while (0)

/* Expects a call to return `code`; on mismatch the report has both and the host's message. */
#define EXPECT_CODE(code, call)                                                              \
    do {                                                                                     \
        pincer_result got_ = (call);                                                         \
        EXPECT(got_ == (code), "%s returned %d, expected %d (%s): %s", #call, got_, (int)(code), #code, \
               host->last_error(host));                                                      \
    } while (0)

/* Expects the thread's last error message to contain `part`. */
#define EXPECT_ERROR_MENTIONS(part) \
    EXPECT(strstr(host->last_error(host), (part)) != NULL, "last_error '%s' does not mention '%s'", host->last_error(host), (part))

/* A spawn request for `message`, every other field at its default. */
static inline pincer_spawn_request fixture_request(const char *message) {
    pincer_spawn_request r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.message = message;
    return r;
}

/* host->prompt with its request built from the two strings. */
static inline pincer_result fixture_prompt(const char *session_key, const char *text, pincer_run_ref *out) {
    pincer_prompt_request r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.session_key = session_key;
    r.text = text;
    return host->prompt(host, &r, out);
}

static inline void fixture_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct fixture_test_v1 {
    int32_t (*run)(const char *name, char *report, size_t capacity);
} fixture_test_v1;

static int32_t fixture_run(const char *name, char *report, size_t capacity) {
    report[0] = 0;
    return run_case(name, report, capacity);
}

static const fixture_test_v1 fixture_test = {fixture_run};

static const void *fixture_get_extension(const pincer_host *h, const char *id) {
    (void)h;
    return strcmp(id, "pincer.test/1") == 0 ? &fixture_test : NULL;
}

__attribute__((unused)) static pincer_result fixture_init(const pincer_host *h, const char *path, char *error, size_t error_capacity) {
    (void)path;
    host = h;
#ifdef FIXTURE_ON_INIT
    FIXTURE_ON_INIT(h);
#endif
#ifdef FIXTURE_INIT_FAILS
    snprintf(error, error_capacity, "fixture refuses to start: %s", FIXTURE_INIT_FAILS);
    return PINCER_ERR_PLUGIN;
#else
    (void)error;
    (void)error_capacity;
    return PINCER_OK;
#endif
}

static void fixture_shutdown(const pincer_host *h) {
    (void)h;
#ifdef FIXTURE_ON_SHUTDOWN
    FIXTURE_ON_SHUTDOWN();
#endif
}

#ifndef FIXTURE_CAPABILITIES
#define FIXTURE_CAPABILITIES PINCER_CAP_SESSIONS_SPAWN, PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_PROMPT, PINCER_CAP_SESSIONS_DELETE, PINCER_CAP_SESSIONS_METADATA, PINCER_CAP_SESSIONS_STEER, \
                             PINCER_CAP_RATE_LIMIT, PINCER_CAP_HOST_READ
#endif
static const char *const fixture_capabilities[] = {FIXTURE_CAPABILITIES, NULL};

#ifndef FIXTURE_LANGUAGE
#define FIXTURE_LANGUAGE PINCER_SOURCE_LANGUAGE
#endif
#ifndef FIXTURE_SDK
#define FIXTURE_SDK NULL
#endif
static const pincer_plugin_descriptor fixture_descriptor = {
    sizeof(pincer_plugin_descriptor), FIXTURE_ID, "Fixture " FIXTURE_ID, "1.0.0", "A test fixture.",
    fixture_capabilities, FIXTURE_LANGUAGE, FIXTURE_SDK};

#ifndef FIXTURE_ABI_MAJOR
#define FIXTURE_ABI_MAJOR PINCER_ABI_MAJOR
#endif
#ifndef FIXTURE_ABI_MINOR
#define FIXTURE_ABI_MINOR PINCER_ABI_MINOR
#endif
#ifndef FIXTURE_ABI_PRERELEASE
#define FIXTURE_ABI_PRERELEASE PINCER_ABI_PRERELEASE
#endif
#ifndef FIXTURE_ENTRY_NAME
#define FIXTURE_ENTRY_NAME pincer_plugin
#endif

#ifdef FIXTURE_ENTRY_FUNCTION
#define FIXTURE_ENTRY_DECLARATION static const pincer_plugin_entry fixture_entry
#else
#define FIXTURE_ENTRY_DECLARATION PINCER_EXPORT const pincer_plugin_entry FIXTURE_ENTRY_NAME
#endif

FIXTURE_ENTRY_DECLARATION = {
    {FIXTURE_ABI_MAJOR, FIXTURE_ABI_MINOR, 0, FIXTURE_ABI_PRERELEASE},
    sizeof(pincer_plugin_entry),
#ifdef FIXTURE_NULL_DESCRIPTOR
    NULL,
#else
    &fixture_descriptor,
#endif
#ifdef FIXTURE_NULL_INIT
    NULL,
#else
    fixture_init,
#endif
    NULL,
    fixture_shutdown,
    fixture_get_extension};

#ifdef FIXTURE_ENTRY_FUNCTION
PINCER_EXPORT const pincer_plugin_entry *pincer_plugin_get(void) { return &fixture_entry; }
#endif

#endif /* FIXTURE_H */
