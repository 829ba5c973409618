/*
 * The memory storms of scripts/storm, one per process: what a plugin can make the
 * host hold, measured as the host's peak resident set (VmHWM). The storm is chosen by
 * the environment and runs in start(), when the engine takes work:
 *
 *   PINCER_STORM=keys     N rate-limit keys (default 500), each with max_requests 65535 fully used
 *   PINCER_STORM=tools    N tools with 64 KiB schemas (default 20000)
 *   PINCER_STORM=prompts  N prompts of 1 MiB into one session, as fast as they are taken (default 2000)
 *   PINCER_STORM=retained N prompts of 1 MiB, each waited for before the next (default 200):
 *                         every run is taken, runs and ends
 *   PINCER_STORM=gate     a gate that never answers (10 ms deadline) and N spawns of 1 MiB
 *                         messages from 8 threads, all refused (default 2000)
 *   PINCER_STORM_COUNT=N  overrides the default
 *   PINCER_STORM_CAP_MIB  stops a storm once the host's resident set passes it (default 2048),
 *                         so an unbounded host is measured, not let loose on the machine
 *
 * It prints one line to stderr:
 *   storm <name> x<N>: <accepted>/<refused>[ (stopped at the cap)]; VmRSS before <kB> kB; VmHWM <kB> kB
 * Written against ABI 1.0-rc2; the "before" figures in scripts/storm came from a copy
 * adapted to rc1's headers, run against the commit before rc2.
 */
#define _POSIX_C_SOURCE 200809L
#include <pincer/pincer.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const pincer_host *host;
static char *megabyte;
static long cap_kib;
static atomic_long accepted, refused;
static atomic_int gate_release, capped;

/* A line of /proc/self/status in KiB: the host's own figures, read from inside it. */
static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long value = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') value = atol(line + n + 1);
    }
    if (f) fclose(f);
    return value;
}

static int over_cap(void) {
    if (status_kib("VmRSS") <= cap_kib) return 0;
    atomic_store(&capped, 1);
    return 1;
}

static void count(pincer_result code) {
    if (code == PINCER_OK) atomic_fetch_add(&accepted, 1);
    else atomic_fetch_add(&refused, 1);
}

static void keys(long n) {
    pincer_rate_limit_result r = {.struct_size = sizeof r};
    for (long k = 0; k < n && !over_cap(); k++) {
        char key[32];
        snprintf(key, sizeof key, "198.51.%ld.%ld", k / 256, k % 256);
        for (uint32_t i = 0; i < PINCER_RATE_LIMIT_MAX_REQUESTS; i++) host->rate_limit_check(host, key, PINCER_RATE_LIMIT_MAX_REQUESTS, 600000, &r);
        count(r.allowed ? PINCER_OK : PINCER_ERR_LIMIT);
    }
}

static pincer_result tool_nothing(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
    *out_text = NULL;
    return PINCER_OK;
}

static void tools(long n) {
    static char schema[(64u << 10) + 1];
    const char *head = "{\"type\":\"object\",\"description\":\"";
    size_t fill = (64u << 10) - strlen(head) - 2;
    strcpy(schema, head);
    memset(schema + strlen(head), 'z', fill);
    strcpy(schema + strlen(head) + fill, "\"}");
    for (long i = 0; i < n && (i % 64 != 0 || !over_cap()); i++) {
        char name[64];
        snprintf(name, sizeof name, "storm.t%ld", i);
        pincer_tool_definition tool;
        memset(&tool, 0, sizeof tool);
        tool.struct_size = sizeof tool;
        tool.name = name;
        tool.description = "storm";
        tool.parameters_json = schema;
        tool.invoke = tool_nothing;
        count(host->register_tool(host, &tool, NULL));
    }
}

static int spawn(const char *message, char *key, char *run) {
    pincer_spawn_request request;
    memset(&request, 0, sizeof request);
    request.struct_size = sizeof request;
    request.message = message;
    pincer_spawn_result out = {.struct_size = sizeof out};
    if (host->spawn(host, &request, &out) != PINCER_OK) return 0;
    if (key) snprintf(key, PINCER_SESSION_KEY_CAPACITY, "%s", out.session_key);
    if (run) snprintf(run, PINCER_RUN_ID_CAPACITY, "%s", out.run_id);
    return 1;
}

static void wait_for(const char *run) {
    pincer_run_info info = {.struct_size = sizeof info};
    if (host->wait(host, run, 600000, &info) == PINCER_OK) {
        host->free(host, info.final_text);
        host->free(host, info.error);
    }
}

/* Fires N prompts; the peak is the queue's. Then cancels what was taken (it would run for
 * minutes), or, one at a time, waits for each run to end before the next. */
static void prompts(long n, int one_at_a_time) {
    char key[PINCER_SESSION_KEY_CAPACITY], run[PINCER_RUN_ID_CAPACITY], last[PINCER_RUN_ID_CAPACITY] = "";
    char (*taken)[PINCER_RUN_ID_CAPACITY] = calloc((size_t)n, PINCER_RUN_ID_CAPACITY);
    long taken_count = 0;
    if (!spawn("hello", key, run)) {
        fprintf(stderr, "storm: spawn failed: %s\n", host->last_error(host));
        return;
    }
    wait_for(run);
    for (long i = 0; i < n && (i % 16 != 0 || !over_cap()); i++) {
        pincer_run_ref ref = {.struct_size = sizeof ref};
        pincer_prompt_request request = {.struct_size = sizeof request, .session_key = key, .text = megabyte};
        pincer_result code = host->prompt(host, &request, &ref);
        count(code);
        if (code != PINCER_OK) continue;
        snprintf(last, sizeof last, "%s", ref.run_id);
        snprintf(taken[taken_count++], PINCER_RUN_ID_CAPACITY, "%s", ref.run_id);
        if (one_at_a_time) wait_for(last);
    }
    for (long i = 0; i < taken_count; i++) host->cancel_run(host, taken[i]);
    if (last[0]) wait_for(last);
    free(taken);
}

static pincer_result gate_stuck(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    (void)event;
    (void)decision;
    struct timespec pause = {0, 5000000};
    while (!atomic_load(&gate_release)) nanosleep(&pause, NULL);
    return PINCER_OK;
}

static long per_thread;

static void *spawner(void *arg) {
    (void)arg;
    for (long i = 0; i < per_thread && (i % 16 != 0 || !over_cap()); i++) {
        pincer_spawn_request request;
        memset(&request, 0, sizeof request);
        request.struct_size = sizeof request;
        request.message = megabyte;
        pincer_spawn_result out = {.struct_size = sizeof out};
        count(host->spawn(host, &request, &out));
    }
    return NULL;
}

static void gate(long n) {
    pincer_hook_definition hook;
    memset(&hook, 0, sizeof hook);
    hook.struct_size = sizeof hook;
    hook.point = PINCER_HOOK_BEFORE_SESSION_CREATE;
    hook.deadline_ms = 10;
    hook.call = gate_stuck;
    if (host->register_hook(host, &hook, NULL) != PINCER_OK) {
        fprintf(stderr, "storm: register_hook failed: %s\n", host->last_error(host));
        return;
    }
    pthread_t threads[8];
    per_thread = n / 8;
    for (int i = 0; i < 8; i++) pthread_create(&threads[i], NULL, spawner, NULL);
    for (int i = 0; i < 8; i++) pthread_join(threads[i], NULL);
    atomic_store(&gate_release, 1);
}

static void prompts_fast(long n) { prompts(n, 0); }
static void prompts_one_at_a_time(long n) { prompts(n, 1); }

static const struct {
    const char *name;
    void (*run)(long n);
    long count;
} storms[] = {{"keys", keys, 500}, {"tools", tools, 20000}, {"prompts", prompts_fast, 2000},
              {"retained", prompts_one_at_a_time, 200}, {"gate", gate, 2000}};

static void start(const pincer_host *h) {
    (void)h;
    const char *name = getenv("PINCER_STORM");
    if (!name) return;
    const char *count_text = getenv("PINCER_STORM_COUNT"), *cap_text = getenv("PINCER_STORM_CAP_MIB");
    cap_kib = (cap_text ? atol(cap_text) : 2048) * 1024;
    megabyte = malloc(PINCER_MAX_MESSAGE_BYTES + 1);
    memset(megabyte, 'a', PINCER_MAX_MESSAGE_BYTES);
    megabyte[PINCER_MAX_MESSAGE_BYTES] = 0;
    for (size_t i = 0; i < sizeof storms / sizeof storms[0]; i++) {
        if (strcmp(name, storms[i].name) != 0) continue;
        long n = count_text ? atol(count_text) : storms[i].count, before = status_kib("VmRSS");
        storms[i].run(n);
        fprintf(stderr, "storm %s x%ld: %ld/%ld%s; VmRSS before %ld kB; VmHWM %ld kB\n", name, n, atomic_load(&accepted),
                atomic_load(&refused), atomic_load(&capped) ? " (stopped at the cap)" : "", before, status_kib("VmHWM"));
        return;
    }
    fprintf(stderr, "storm: unknown PINCER_STORM=%s\n", name);
}

static pincer_result init(const pincer_host *h, const char *path, char *error, size_t capacity) {
    (void)path;
    (void)error;
    (void)capacity;
    host = h;
    return PINCER_OK;
}

static void shutdown(const pincer_host *h) { (void)h; }

static const char *const capabilities[] = {PINCER_CAP_SESSIONS_SPAWN, PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_PROMPT,
                                           PINCER_CAP_RATE_LIMIT, PINCER_CAP_TOOLS_REGISTER, PINCER_CAP_HOOKS_GATE, NULL};
static const pincer_plugin_descriptor descriptor = {sizeof(pincer_plugin_descriptor), "storm", "Memory storms", "1.0.0",
                                                    "What a plugin can make the host hold.", capabilities, PINCER_SOURCE_LANGUAGE, NULL};
PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor, init,
                                                         start, shutdown, NULL};
