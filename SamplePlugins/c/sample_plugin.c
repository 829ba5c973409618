/*
 * The C sample plugin: every host function of ABI 1.0, used the way a real
 * plugin would, each result written to the host's log.
 *
 * init() only reads its config (it must stay cheap); start() launches one
 * worker thread that walks through the tour below; shutdown() joins it, so
 * nothing of the plugin runs after its handle is gone.
 *
 *   host state    status, models, gateway_request (read-only allowlist)
 *   spawn         a session with a restricted tool policy; the denied tool
 *                 comes back as an error the model sees
 *   wait/messages the run's result and transcript; get_session; metadata
 *   prompt+steer  a follow-up that sleeps in a tool; steered while it streams
 *   rate limit    a key checked until refused, then reset
 *   cancel/delete a long run cancelled, the session deleted
 *   tools         c-sample.greet, registered in init, called by a session
 *   hooks         a before_tool_call gate that refuses naps over 3 s, and a
 *                 run_event observer that logs how each of its runs ended
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, pthreads */
#include <pincer/pincer.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const pincer_host *host;
static pthread_t worker;
static int worker_started;

static const char *result_name(pincer_result code) {
    static const char *names[] = {"OK", "INVALID_ARGUMENT", "BAD_HANDLE", "SHUT_DOWN", "NOT_FOUND", "DENIED",
                                  "LIMIT", "TIMEOUT", "INTERNAL", "UNSUPPORTED", "PLUGIN"};
    return code >= 0 && code <= PINCER_ERR_PLUGIN ? names[code] : "UNKNOWN";
}

static void say(const char *format, ...) {
    char line[4096];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    host->log(host, PINCER_LOG_INFO, line);
}

/* Logs a failed call with its code and the host's message; returns whether it succeeded. */
static int check(const char *what, pincer_result code) {
    if (code != PINCER_OK) say("%s: %s — %s", what, result_name(code), host->last_error(host));
    return code == PINCER_OK;
}

/* A follow-up message in a session: prompt takes a request struct, so later minors can add options. */
static pincer_result prompt(const char *session_key, const char *text, pincer_run_ref *out) {
    pincer_prompt_request request = {.struct_size = sizeof request, .session_key = session_key, .text = text};
    return host->prompt(host, &request, out);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const char *run_status_name(pincer_run_status s) {
    static const char *names[] = {"queued", "running", "completed", "failed", "timed_out", "cancelled", "interrupted"};
    return s >= 0 && s <= PINCER_RUN_INTERRUPTED ? names[s] : "unknown";
}

/* Waits for a run and logs how it ended. */
static void wait_and_report(const char *what, const char *run_id) {
    pincer_run_info info = {.struct_size = sizeof(pincer_run_info)};
    if (!check(what, host->wait(host, run_id, 30000, &info))) return;
    say("%s: run %s %s in %llu ms: %s", what, run_id, run_status_name(info.status),
        (unsigned long long)info.duration_ms, info.final_text ? info.final_text : (info.error ? info.error : ""));
    host->free(host, info.final_text);
    host->free(host, info.error);
}

static void tour_host_state(void) {
    char *json = NULL;
    if (check("status", host->status(host, &json))) say("status: %s", json);
    host->free(host, json);
    if (check("models", host->models(host, &json))) say("models: %s", json);
    host->free(host, json);
    if (check("gateway_request status", host->gateway_request(host, "status", NULL, &json)))
        say("gateway_request status: answered (%zu bytes of JSON)", strlen(json));
    host->free(host, json);
    pincer_result code = host->gateway_request(host, "sessions.delete", "{\"key\":\"any\"}", &json);
    say("gateway_request sessions.delete: refused as it should be: %s — %s", result_name(code), host->last_error(host));
}

static void tour_sessions(void) {
    const char *allow[] = {"echo", "sleep", "clock"};
    const char *deny[] = {"clock"};
    pincer_spawn_request request = {
        .struct_size = sizeof(pincer_spawn_request),
        .message = "Plan the release @echo{\"text\":\"checklist ready\"} @clock",
        .system_prompt = "You are a careful release assistant.",
        .tools_allow = allow, .tools_allow_count = 3,
        .tools_deny = deny, .tools_deny_count = 1,
        .model = NULL,
        .timeout_seconds = 60,
        .label = "release-helper",
        .metadata_json = "{\"c-sample\":{\"ticket\":\"REL-42\"}}",
    };
    pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
    if (!check("spawn", host->spawn(host, &request, &spawned))) return;
    say("spawn: session=%s run=%s (allow echo,sleep,clock; deny clock)",
        spawned.session_key, spawned.run_id);
    wait_and_report("spawn/wait", spawned.run_id);

    char *json = NULL;
    if (check("messages", host->messages(host, spawned.session_key, 0, &json))) say("messages: %s", json);
    host->free(host, json);
    if (check("get_session", host->get_session(host, spawned.session_key, &json))) say("get_session: %s", json);
    host->free(host, json);
    if (check("set_metadata", host->set_metadata(host, spawned.session_key, "{\"ticket\":\"REL-42\",\"reviewed\":true}")) &&
        check("get_metadata", host->get_metadata(host, spawned.session_key, &json)))
        say("set_metadata/get_metadata: my namespace now %s", json);
    host->free(host, json);

    /* A follow-up whose tool sleeps, so the run streams long enough to steer. */
    pincer_run_ref follow_up = {.struct_size = sizeof(pincer_run_ref)};
    if (!check("prompt", prompt(spawned.session_key, "Now double-check it @sleep{\"ms\":300}", &follow_up))) return;
    say("prompt: queued run %s", follow_up.run_id);
    bool streaming = false;
    for (int i = 0; i < 500 && !streaming; i++) {
        if (!check("is_streaming", host->is_streaming(host, spawned.session_key, &streaming))) return;
        if (!streaming) sleep_ms(2);
    }
    say("is_streaming: %s", streaming ? "true" : "false");
    pincer_steer_outcome outcome;
    if (check("steer", host->steer(host, spawned.session_key, "also confirm the changelog", &outcome)))
        say("steer while streaming: %s", outcome == PINCER_STEER_QUEUED ? "queued" : "not queued");
    wait_and_report("prompt/wait", follow_up.run_id);
    if (check("steer", host->steer(host, spawned.session_key, "too late", &outcome)))
        say("steer on an idle session: %s", outcome == PINCER_STEER_NO_ACTIVE_RUN ? "no_active_run" : "unexpected");
    if (check("steer", host->steer(host, "plugin:nobody:0", "hello?", &outcome)))
        say("steer on an unknown session: %s", outcome == PINCER_STEER_NO_SESSION ? "no_session" : "unexpected");

    /* A long run, cancelled; then the session is deleted. */
    pincer_run_ref long_run = {.struct_size = sizeof(pincer_run_ref)};
    if (check("prompt", prompt(spawned.session_key, "Wait a long time @sleep{\"ms\":3000}", &long_run))) {
        sleep_ms(20);
        if (check("cancel_run", host->cancel_run(host, long_run.run_id))) wait_and_report("cancel_run/wait", long_run.run_id);
    }
    if (check("delete_session", host->delete_session(host, spawned.session_key))) {
        pincer_result code = host->get_session(host, spawned.session_key, &json);
        say("delete_session: done; get_session now answers %s", result_name(code));
    }
}

static void tour_rate_limit(void) {
    const char *key = "203.0.113.7";
    pincer_rate_limit_result r = {.struct_size = sizeof(pincer_rate_limit_result)};
    int allowed = 0;
    for (int i = 0; i < 10; i++) {
        if (!check("rate_limit_check", host->rate_limit_check(host, key, 5, 1000, &r))) return;
        if (!r.allowed) {
            say("rate_limit_check %s: %d allowed, request %d refused (remaining %u, retry after %llu ms)", key, allowed,
                i + 1, r.remaining, (unsigned long long)r.retry_after_ms);
            break;
        }
        allowed++;
    }
    if (check("rate_limit_reset", host->rate_limit_reset(host, key)) &&
        check("rate_limit_check", host->rate_limit_check(host, key, 5, 1000, &r)))
        say("rate_limit_reset: the next check is %s (remaining %u)", r.allowed ? "allowed" : "refused", r.remaining);
}

/* The sample's tool: greets whoever the arguments name. Its result must come from host->alloc. */
static pincer_result greet(void *context, const pincer_tool_call *call, char **out_text) {
    (void)context;
    const char *name = strstr(call->arguments_json, "\"name\":\"");
    char who[64] = "stranger";
    if (name) {
        name += 8;
        size_t n = strcspn(name, "\"");
        if (n < sizeof who) {
            memcpy(who, name, n);
            who[n] = 0;
        }
    }
    char text[128];
    int length = snprintf(text, sizeof text, "Hello, %s, from C", who);
    *out_text = host->alloc(host, (size_t)length + 1);
    if (*out_text == NULL) return PINCER_ERR_INTERNAL;
    memcpy(*out_text, text, (size_t)length + 1);
    return PINCER_OK;
}

/* Spawns a session with one message, waits for its run, logs how it ended, deletes it. */
static void spawn_and_report(const char *what, const char *message) {
    pincer_spawn_request request = {.struct_size = sizeof(pincer_spawn_request), .message = message};
    pincer_spawn_result spawned = {.struct_size = sizeof(pincer_spawn_result)};
    if (!check(what, host->spawn(host, &request, &spawned))) return;
    wait_and_report(what, spawned.run_id);
    host->delete_session(host, spawned.session_key);
}

static void tour_tools(void) { spawn_and_report("tool c-sample.greet", "Say hello @c-sample.greet{\"name\":\"operator\"}"); }

/* A gate [hook thread]: a "sleep" call over 3000 ms is blocked, with a reason the model reads. */
static pincer_result limit_naps(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    const char *ms = strstr(event->payload_json, "\"ms\":");
    if (strcmp(event->tool_name, "sleep") == 0 && ms && atoi(ms + 5) > 3000) {
        const char reason[] = "the C sample allows naps of at most 3000 ms";
        decision->verdict = PINCER_HOOK_BLOCK;
        decision->reason = host->alloc(host, sizeof reason);
        if (decision->reason) memcpy(decision->reason, reason, sizeof reason);
    }
    return PINCER_OK;
}

/* An observer [hook thread]: logs the end of every run of the sample's sessions. */
static pincer_result log_run_ends(void *context, const pincer_hook_event *event, pincer_hook_decision *decision) {
    (void)context;
    (void)decision;
    if (strstr(event->payload_json, "\"kind\":\"finished\"")) say("run_event: %s %s", event->run_id, event->payload_json);
    return PINCER_OK;
}

static void tour_hooks(void) { spawn_and_report("before_tool_call hook", "Rest a while @sleep{\"ms\":5000}"); }

static void *tour(void *unused) {
    (void)unused;
    tour_host_state();
    tour_sessions();
    tour_rate_limit();
    tour_tools();
    tour_hooks();
    say("tour finished");
    return NULL;
}

static pincer_result sample_init(const pincer_host *h, const char *path, char *error, size_t error_capacity) {
    char *config = NULL;
    if (h->get_config(h, &config) != PINCER_OK) {
        snprintf(error, error_capacity, "cannot read my config: %s", h->last_error(h));
        return PINCER_ERR_PLUGIN;
    }
    host = h;
    say("init: host %s %s (ABI %u.%u-rc%u) loaded me from %s, my config %s", h->host_name, h->host_version,
        h->abi_version.major, h->abi_version.minor, h->abi_version.prerelease, path, config);
    h->free(h, config);
    pincer_tool_definition tool = {
        .struct_size = sizeof(pincer_tool_definition),
        .name = "c-sample.greet",
        .description = "Greets the person named in 'name'.",
        .parameters_json = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}",
        .group = "c-sample.samples",
        .invoke = greet,
    };
    if (h->register_tool(h, &tool, NULL) != PINCER_OK) {
        snprintf(error, error_capacity, "cannot register my tool: %s", h->last_error(h));
        return PINCER_ERR_PLUGIN;
    }
    pincer_hook_definition gate = {
        .struct_size = sizeof(pincer_hook_definition), .point = PINCER_HOOK_BEFORE_TOOL_CALL, .call = limit_naps};
    pincer_hook_definition observer = {
        .struct_size = sizeof(pincer_hook_definition), .point = PINCER_HOOK_RUN_EVENT, .call = log_run_ends};
    if (h->register_hook(h, &gate, NULL) != PINCER_OK || h->register_hook(h, &observer, NULL) != PINCER_OK) {
        snprintf(error, error_capacity, "cannot register my hooks: %s", h->last_error(h));
        return PINCER_ERR_PLUGIN;
    }
    return PINCER_OK;
}

static void sample_start(const pincer_host *h) {
    (void)h;
    worker_started = pthread_create(&worker, NULL, tour, NULL) == 0;
    if (!worker_started) say("start: could not start the worker thread");
}

static void sample_shutdown(const pincer_host *h) {
    (void)h;
    if (worker_started) pthread_join(worker, NULL);
    worker_started = 0;
}

static const char *const capabilities[] = {PINCER_CAP_SESSIONS_SPAWN, PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_PROMPT, PINCER_CAP_SESSIONS_DELETE, PINCER_CAP_SESSIONS_METADATA,
                                           PINCER_CAP_SESSIONS_STEER, PINCER_CAP_RATE_LIMIT,
                                           PINCER_CAP_HOST_READ, PINCER_CAP_TOOLS_REGISTER,
                                           PINCER_CAP_HOOKS_GATE, PINCER_CAP_HOOKS_OBSERVE, NULL};

static const pincer_plugin_descriptor descriptor = {
    .struct_size = sizeof(pincer_plugin_descriptor),
    .id = "c-sample",
    .name = "C sample plugin",
    .version = "0.1.0",
    .description = "Tours every host function of ABI 1.0 and logs what each answers.",
    .capabilities = capabilities,
    .language = PINCER_SOURCE_LANGUAGE,
};

PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {
    .abi_version = PINCER_ABI_VERSION_INIT,
    .struct_size = sizeof(pincer_plugin_entry),
    .descriptor = &descriptor,
    .init = sample_init,
    .start = sample_start,
    .shutdown = sample_shutdown,
    .get_extension = NULL,
};
