/*
 * A plugin that keeps every rule, unless built with one FAULT_* macro, which
 * breaks exactly one rule for `pincer validate` to catch (ValidateTests):
 *
 *   FAULT_BOTH_ENTRIES        exports pincer_plugin and pincer_plugin_get        (exports)
 *   FAULT_CONSTRUCTOR_CRASH   a constructor that crashes in dlopen              (loads)
 *   FAULT_ENTRY_CRASH         pincer_plugin_get crashes                         (entry)
 *   FAULT_MAJOR               built for ABI 2                                   (version)
 *   FAULT_BAD_ID              an id with a space and capitals                   (descriptor)
 *   FAULT_UNKNOWN_CAP         asks for "sessions.spawm"                         (capabilities: warn; fail with --strict)
 *   FAULT_NULL_SHUTDOWN       no shutdown function                              (functions)
 *   FAULT_INIT_FAILS          init refuses to start                             (lifecycle)
 *   FAULT_REINIT_MARKER=path  init claims a file and never gives it back        (reinit)
 *   FAULT_BAD_TOOL_NAME       also registers a tool outside its prefix          (registrations)
 *   FAULT_GATE_BAD_VERDICT    its gate answers verdict 7                        (hooks)
 *   FAULT_GATE_SLOW           its gate answers after its 100 ms deadline        (hooks)
 *   FAULT_TOOL_NOT_ALLOC      its tool returns memory not from host->alloc      (tools)
 *   FAULT_TOOL_BAD_UTF8       its tool returns bytes that are not UTF-8         (tools)
 *   FAULT_CALLS_AFTER_SHUTDOWN a thread of its own logs after shutdown returned (after-shutdown)
 *   FAULT_THREAD_LEFT         a thread of its own outlives shutdown             (threads)
 *   FAULT_RUN_LEFT            start() spawns a long run and shutdown leaves it  (runs)
 */
#define _POSIX_C_SOURCE 200809L
#include <pincer/pincer.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const pincer_host *host;
static pthread_t worker;
static int worker_started;

__attribute__((unused)) static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A real fault, not raise() (a handler that returns would let raise() go on), through a
 * pointer the compiler cannot prove NULL (a store to a literal NULL is optimised away). */
static int *volatile nowhere;
__attribute__((unused)) static void crash(void) { *nowhere = 1; }

#ifdef FAULT_CONSTRUCTOR_CRASH
__attribute__((constructor)) static void crash_on_load(void) { crash(); }
#endif

__attribute__((unused)) static char *host_text(const char *text) {
    size_t n = strlen(text) + 1;
    char *copy = host->alloc(host, n);
    if (copy) memcpy(copy, text, n);
    return copy;
}

static pincer_result tool_answer(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    (void)call;
#if defined(FAULT_TOOL_NOT_ALLOC)
    static char not_from_alloc[] = "from a static buffer";
    *out_text = not_from_alloc;
#elif defined(FAULT_TOOL_BAD_UTF8)
    *out_text = host_text("\xff\xfe not text");
#else
    *out_text = host_text("the answer");
#endif
    return PINCER_OK;
}

static pincer_result gate(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    (void)event;
#ifdef FAULT_GATE_SLOW
    sleep_ms(400);
#endif
#ifdef FAULT_GATE_BAD_VERDICT
    decision->verdict = 7;
#else
    decision->verdict = PINCER_HOOK_CONTINUE;
#endif
    return PINCER_OK;
}

#if defined(FAULT_CALLS_AFTER_SHUTDOWN) || defined(FAULT_THREAD_LEFT)
static atomic_int stopping;

static void *work(void *argument) {
    (void)argument;
#ifdef FAULT_CALLS_AFTER_SHUTDOWN
    while (!atomic_load(&stopping)) sleep_ms(10);
    sleep_ms(100); /* by then shutdown has returned */
    host->log(host, PINCER_LOG_INFO, "still here after shutdown");
#endif
#ifdef FAULT_THREAD_LEFT
    sleep_ms(10000);
#endif
    return NULL;
}
#endif

static pincer_result init(const pincer_host *h, const char *path, char *error, size_t error_capacity) {
    (void)path;
    host = h;
#ifdef FAULT_INIT_FAILS
    snprintf(error, error_capacity, "faulty refuses to start");
    return PINCER_ERR_PLUGIN;
#endif
#ifdef FAULT_REINIT_MARKER
    if (open(FAULT_REINIT_MARKER, O_CREAT | O_EXCL | O_WRONLY, 0600) < 0) {
        snprintf(error, error_capacity, "%s exists: an earlier process never gave it back", FAULT_REINIT_MARKER);
        return PINCER_ERR_PLUGIN;
    }
#endif
    (void)error;
    (void)error_capacity;
    pincer_tool_definition tool;
    memset(&tool, 0, sizeof tool);
    tool.struct_size = sizeof tool;
    tool.name = "faulty.answer";
    tool.description = "Answers.";
    tool.invoke = tool_answer;
    pincer_result code = host->register_tool(host, &tool, NULL);
    if (code != PINCER_OK) return code;
#ifdef FAULT_BAD_TOOL_NAME
    tool.name = "other.answer";
    host->register_tool(host, &tool, NULL); /* refused: not its prefix; a careless plugin ignores that */
#endif
    pincer_hook_definition hook;
    memset(&hook, 0, sizeof hook);
    hook.struct_size = sizeof hook;
    hook.point = PINCER_HOOK_BEFORE_TOOL_CALL;
    hook.deadline_ms = 100;
    hook.call = gate;
    return host->register_hook(host, &hook, NULL);
}

static void start(const pincer_host *h) {
    (void)h;
#if defined(FAULT_CALLS_AFTER_SHUTDOWN) || defined(FAULT_THREAD_LEFT)
    worker_started = pthread_create(&worker, NULL, work, NULL) == 0;
#endif
#ifdef FAULT_RUN_LEFT
    pincer_spawn_request request;
    memset(&request, 0, sizeof request);
    request.struct_size = sizeof request;
    request.message = "@sleep{\"ms\":10000}";
    pincer_spawn_result result;
    memset(&result, 0, sizeof result);
    result.struct_size = sizeof result;
    host->spawn(host, &request, &result);
#endif
}

__attribute__((unused)) static void shutdown_plugin(const pincer_host *h) {
    (void)h;
#if defined(FAULT_CALLS_AFTER_SHUTDOWN) || defined(FAULT_THREAD_LEFT)
    atomic_store(&stopping, 1); /* and returns without joining its thread */
#else
    if (worker_started) pthread_join(worker, NULL);
#endif
}

static const char *const capabilities[] = {PINCER_CAP_TOOLS_REGISTER, PINCER_CAP_HOOKS_GATE, PINCER_CAP_SESSIONS_SPAWN,
#ifdef FAULT_UNKNOWN_CAP
                                           "sessions.spawm",
#endif
                                           NULL};

static const pincer_plugin_descriptor descriptor = {
    .struct_size = sizeof(pincer_plugin_descriptor),
#ifdef FAULT_BAD_ID
    .id = "Faulty Plugin",
#else
    .id = "faulty",
#endif
    .name = "Faulty",
    .version = "1.0.0",
    .capabilities = capabilities,
    .language = PINCER_SOURCE_LANGUAGE,
};

static const pincer_plugin_entry entry = {
#ifdef FAULT_MAJOR
    .abi_version = {2, 0, 0, 0},
#else
    .abi_version = PINCER_ABI_VERSION_INIT,
#endif
    .struct_size = sizeof(pincer_plugin_entry),
    .descriptor = &descriptor,
    .init = init,
    .start = start,
#ifndef FAULT_NULL_SHUTDOWN
    .shutdown = shutdown_plugin,
#endif
};

#if defined(FAULT_ENTRY_CRASH)
PINCER_EXPORT const pincer_plugin_entry *pincer_plugin_get(void) {
    crash();
    return &entry;
}
#else
PINCER_EXPORT const pincer_plugin_entry *pincer_plugin_get(void) { return &entry; }
#endif
#ifdef FAULT_BOTH_ENTRIES
PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {
    PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor, init, start, shutdown_plugin, NULL};
#endif
