/*
 * task-dispatch: a task pipeline's first step. At start it hands a coding
 * task to an external agent the operator configured (acp.h, "pincer.acp/1"),
 * waits for the agent's answer, then continues the same agent session with a
 * follow-up prompt, logging each answer. Its config:
 *
 *   {"agent": "coder", "task": "Add a test for the parser", "followUp": "Now run it"}
 *
 * It shows the operator's gate both ways: with plugins.allowAcpSpawn true the
 * agent works; with it false (the default) the spawn is refused, and the log
 * line says which setting to change. On a host without the extension it logs
 * that and does nothing.
 *
 * The work runs on a thread of its own (start() returns at once; waiting there
 * would hold up the host's start), joined at shutdown.
 */
#include <pincer/pincer.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const pincer_host *host;
static pthread_t worker;
static int worker_started;
static char agent[64] = "coder", task[1024] = "Say hello", follow_up[1024] = "Say it again";

static void logf_line(pincer_log_level level, const char *format, const char *a, const char *b) {
    char line[2048];
    snprintf(line, sizeof line, format, a, b);
    host->log(host, level, line);
}

/* Copies the string member `key` of a flat JSON object into `out` (no escapes: a sample's config). */
static void config_string(const char *json, const char *key, char *out, size_t capacity) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *at = strstr(json, pattern);
    if (!at || !(at = strchr(at + strlen(pattern), '"'))) return;
    const char *end = strchr(++at, '"');
    if (!end || (size_t)(end - at) >= capacity) return;
    memcpy(out, at, (size_t)(end - at));
    out[end - at] = 0;
}

/* Waits for a run and logs how it ended; 0 when it completed. */
static int await_run(const char *run_id, const char *what) {
    pincer_run_info info = {.struct_size = sizeof info};
    pincer_result code = host->wait(host, run_id, 600000, &info);
    if (code != PINCER_OK) {
        logf_line(PINCER_LOG_ERROR, "%s: wait failed: %s", what, host->last_error(host));
        return 1;
    }
    if (info.status == PINCER_RUN_COMPLETED) {
        logf_line(PINCER_LOG_INFO, "%s: the agent answered: %s", what, info.final_text ? info.final_text : "");
    } else {
        logf_line(PINCER_LOG_WARN, "%s: the run did not complete: %s", what, info.error ? info.error : "no reason given");
    }
    host->free(host, info.final_text);
    host->free(host, info.error);
    return info.status == PINCER_RUN_COMPLETED ? 0 : 1;
}

static void *dispatch(void *arg) {
    (void)arg;
    const pincer_acp_v1 *acp = host->get_extension(host, PINCER_ACP_EXTENSION_ID);
    if (acp == NULL) {
        host->log(host, PINCER_LOG_WARN, "this host runs no external agents (no pincer.acp/1): nothing to dispatch");
        return NULL;
    }
    pincer_spawn_request request;
    memset(&request, 0, sizeof request);
    request.struct_size = sizeof request;
    request.message = task;
    request.label = "task-dispatch";
    pincer_spawn_result spawned = {.struct_size = sizeof spawned};
    if (acp->spawn(host, agent, &request, &spawned) != PINCER_OK) {
        logf_line(PINCER_LOG_WARN, "could not dispatch the task to agent '%s': %s", agent, host->last_error(host));
        return NULL;
    }
    logf_line(PINCER_LOG_INFO, "dispatched the task to agent '%s' (session %s)", agent, spawned.session_key);
    if (await_run(spawned.run_id, "task") != 0) return NULL;
    pincer_prompt_request prompt;
    memset(&prompt, 0, sizeof prompt);
    prompt.struct_size = sizeof prompt;
    prompt.session_key = spawned.session_key;
    prompt.text = follow_up;
    pincer_run_ref next = {.struct_size = sizeof next};
    if (host->prompt(host, &prompt, &next) != PINCER_OK) {
        logf_line(PINCER_LOG_WARN, "could not follow up in %s: %s", spawned.session_key, host->last_error(host));
        return NULL;
    }
    await_run(next.run_id, "follow-up");
    return NULL;
}

static pincer_result init(const pincer_host *h, const char *path, char *error, size_t capacity) {
    (void)path;
    (void)error;
    (void)capacity;
    host = h;
    char *config = NULL;
    if (h->get_config(h, &config) == PINCER_OK && config) {
        config_string(config, "agent", agent, sizeof agent);
        config_string(config, "task", task, sizeof task);
        config_string(config, "followUp", follow_up, sizeof follow_up);
        h->free(h, config);
    }
    return PINCER_OK;
}

static void start(const pincer_host *h) {
    (void)h;
    worker_started = pthread_create(&worker, NULL, dispatch, NULL) == 0;
}

static void shutdown_plugin(const pincer_host *h) {
    (void)h;
    /* host.h: blocking calls return at once while stopping, so the worker ends promptly. */
    if (worker_started) pthread_join(worker, NULL);
}

static const char *const capabilities[] = {PINCER_CAP_ACP_SPAWN, PINCER_CAP_SESSIONS_READ, PINCER_CAP_SESSIONS_PROMPT, NULL};

static const pincer_plugin_descriptor descriptor = {
    .struct_size = sizeof(pincer_plugin_descriptor),
    .id = "task-dispatch",
    .name = "Task dispatch",
    .version = "0.1.0",
    .description = "Hands a coding task to an external agent (ACP) and follows it up.",
    .capabilities = capabilities,
    .language = PINCER_SOURCE_LANGUAGE,
};

PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {
    .abi_version = PINCER_ABI_VERSION_INIT,
    .struct_size = sizeof(pincer_plugin_entry),
    .descriptor = &descriptor,
    .init = init,
    .start = start,
    .shutdown = shutdown_plugin,
};
