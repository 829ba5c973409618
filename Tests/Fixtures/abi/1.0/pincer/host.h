/*
 * pincer/host.h — the host table: everything a plugin can ask of the host,
 * and the lifecycle that bounds it.
 *
 * The host hands each plugin its own `const pincer_host *` in init(). That
 * pointer is the plugin's identity: every function below takes it first and
 * checks it (a pointer the host did not hand out, or a table that was
 * changed, gets PINCER_ERR_BAD_HANDLE), and rate limits, spawn guards,
 * session ownership, error messages and logs are attributed to that plugin.
 * In-process this guards against mistakes, not against a hostile plugin:
 * see "The trust model" in pincer.h.
 *
 * Conventions for every function in the table (the rest of pincer.h holds too):
 *  - Threads: [any-thread] unless the comment says otherwise; the blocking
 *    ones are tagged [blocking].
 *  - Strings: NULL where a string is required, invalid UTF-8, or a string
 *    over its size limit gives PINCER_ERR_INVALID_ARGUMENT and changes
 *    nothing. Limits are listed beside the values they bound (sessions.h,
 *    tools.h, hooks.h, rate_limit.h, log.h).
 *  - Inputs are borrowed for the duration of the call; the host copies what
 *    it keeps.
 *  - Outputs go into caller-provided structs (result structs: set
 *    struct_size first, extension.h), or, for text of any length (JSON
 *    documents, final texts), into a `char **out` that the host fills with
 *    memory it allocated: release it with host->free(host, ptr).
 *  - Errors: the codes of result.h; host->last_error(host) explains the last
 *    failure of this plugin on this thread.
 *  - Sessions: a plugin reaches the sessions it created and their runs, the
 *    sessions whose creator handed it a metadata namespace (that shares the
 *    session with it: sessions.h), and every session when the operator set
 *    plugins.entries.<id>.sessionAccess = "all"; its capabilities still
 *    decide which calls it may make. A session it may not use answers
 *    exactly as one that does not exist (PINCER_ERR_NOT_FOUND,
 *    PINCER_STEER_NO_SESSION).
 *
 * ---- The plugin's lifecycle ------------------------------------------------
 *
 *   loaded ─ init() ─► live ─ start() ─► live ──► stopping ─► draining ─► shutdown() ─► dead
 *
 *  live      Every function works; the host calls the plugin's tools and hooks.
 *  stopping  No new callback into the plugin starts (its gates block, its
 *            queued observer events are dropped, its tools answer the model
 *            with an error). Its threads blocked in wait() return
 *            PINCER_ERR_SHUT_DOWN at once, and so does every later wait()
 *            and every register_tool / register_hook. Other non-blocking
 *            calls still work.
 *  draining  The host waits for the plugin's callbacks already running to
 *            return, at most plugins.drainTimeoutMs (default 5000 ms, at
 *            most 60000). When that passes, the host logs the overrun
 *            against the plugin and goes on.
 *  shutdown  shutdown() is called [loader-thread]: join your threads. The
 *            handle still answers non-blocking calls until it returns.
 *  dead      No code of the plugin ever runs again (the .so stays mapped);
 *            every call answers PINCER_ERR_SHUT_DOWN. Release callbacks of
 *            its registrations ran before shutdown(); a registration whose
 *            call overran the drain is never released (the host logs it).
 *
 * At host shutdown the order is: stop taking work; end every run (the
 * operator's and the plugins' alike: INTERRUPTED); then stop the plugins in
 * reverse load order, each through the phases above; then flush the store.
 * So no run ever proceeds after a policy plugin's gates are gone. Sessions
 * stay in the store. A run a plugin cancels itself ends CANCELLED.
 *
 * The table itself never grows (extension.h): struct_size is sizeof(pincer_host)
 * for every 1.x host, and new functions come through get_extension.
 *
 * @since 1.0
 */
#ifndef PINCER_HOST_H
#define PINCER_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hooks.h"
#include "log.h"
#include "platform.h"
#include "rate_limit.h"
#include "result.h"
#include "sessions.h"
#include "tools.h"
#include "version.h"

PINCER_EXTERN_C_BEGIN

/* The largest JSON params gateway_request accepts, and the largest method name. */
#define PINCER_GATEWAY_PARAMS_MAX_BYTES (1u << 20)
#define PINCER_GATEWAY_METHOD_MAX_BYTES 256u

struct pincer_host {
    /* The ABI version the host was compiled against. */
    pincer_version abi_version;
    /* sizeof(pincer_host) as the host was compiled (see above). */
    uint32_t struct_size;
    /* Owned by the host. Never read or write it. */
    void *host_data;
    /* Static strings owned by the host, valid for the process lifetime. */
    const char *host_name;
    const char *host_version;

    /* ---- Host services: need no capability ------------------------------ */

    /* The host's table for an extension id ("pincer.acp/1"), or NULL when it
     * has none. The table is owned by the host and valid until the plugin is
     * dead. A bad handle also gives NULL. */
    const void *(PINCER_ABI *get_extension)(const pincer_host *host, const char *id);

    /* The message of this plugin's last call on this thread that did not
     * return PINCER_OK. Owned by the host; valid until this plugin's next
     * failing host call on this thread (read it in the same synchronous
     * frame as the call that failed: an async binding may resume elsewhere). Never NULL ("" when there is none). For a
     * bad handle, the message of the last bad-handle call on this thread. */
    const char *(PINCER_ABI *last_error)(const pincer_host *host);

    /* Allocates `size` bytes the host may later take over and free: what a
     * callback hands back to the host (a tool's *out_text, a gate's reason
     * and patch) must come from here. The host remembers the size and never
     * reads past it. NULL when size is 0, over 1 GiB, the handle is bad or
     * dead, or the memory is not available. */
    void *(PINCER_ABI *alloc)(const pincer_host *host, size_t size);

    /* Releases memory from host->alloc or from an output of this table.
     * NULL is allowed and ignored; a pointer from anywhere else is undefined
     * behaviour (the host cannot always tell). */
    void (PINCER_ABI *free)(const pincer_host *host, void *ptr);

    /* Writes one line to the host's log, attributed to the plugin (log.h
     * says what the host does to the text). */
    pincer_result (PINCER_ABI *log)(const pincer_host *host, pincer_log_level level, const char *message);

    /* The plugin's own config object from the operator's config file
     * (plugins.entries.<id>.config), as JSON; "{}" when there is none. */
    pincer_result (PINCER_ABI *get_config)(const pincer_host *host, char **out_json);

    /* ---- Sessions: "sessions.spawn" -------------------------------------- */

    /* Creates an isolated session, owned by the calling plugin, and queues its
     * first run; returns at once (it does not wait for the model, nor for the
     * store to commit the new session: wait() on the run is the point where
     * its outcome is durable). The before_session_create gates run first.
     * Guards: at most guards.maxConcurrentSpawns plugin sessions with an
     * active run and at most guards.maxSpawnsPerMinute plugin spawns in any
     * sliding minute, across all plugins; past either, PINCER_ERR_LIMIT
     * naming the setting. [blocking] while gates decide (their deadlines). */
    pincer_result (PINCER_ABI *spawn)(const pincer_host *host, const pincer_spawn_request *request,
                                      pincer_spawn_result *out);

    /* ---- Runs: "sessions.prompt" ----------------------------------------- */

    /* Queues a follow-up user message in an existing session as a new run,
     * behind any active run; returns at once with the run id. A prompt that
     * wakes an idle plugin session counts against guards.maxConcurrentSpawns;
     * PINCER_MAX_QUEUED_RUNS and PINCER_MAX_QUEUED_MESSAGE_BYTES bound the
     * queue (PINCER_ERR_LIMIT). The request is a struct so that a later
     * minor can add per-run options (extension.h). */
    pincer_result (PINCER_ABI *prompt)(const pincer_host *host, const pincer_prompt_request *request,
                                       pincer_run_ref *out);

    /* Cancels a queued or running run; it ends CANCELLED once the tool or
     * model turn at work returns (a tool can learn it through
     * run_stop_requested). PINCER_OK also when it had already ended (nothing
     * changes). */
    pincer_result (PINCER_ABI *cancel_run)(const pincer_host *host, const char *run_id);

    /* ---- Reading: "sessions.read" ---------------------------------------- */

    /* [blocking] Blocks the calling thread until the run ends or timeout_ms
     * passes (0 = do not block: report the current state). PINCER_OK when the
     * run has ended: out holds its terminal status and texts, and the host's
     * store has committed them. PINCER_ERR_TIMEOUT when it has not: out holds
     * QUEUED or RUNNING, texts NULL, and the run goes on.
     * PINCER_ERR_WOULD_BLOCK from a tool or gate serving a run of the same
     * session; PINCER_ERR_SHUT_DOWN at once when the plugin starts stopping.
     * A final text containing U+0000 gives PINCER_ERR_UNSUPPORTED (read it
     * through messages(), where JSON escapes it). The host remembers ended
     * runs for wait() within a bound (the last 10,000, holding at most
     * 64 MiB of messages, texts and events); an older one answers
     * PINCER_ERR_NOT_FOUND (its session's transcript keeps what it said). */
    pincer_result (PINCER_ABI *wait)(const pincer_host *host, const char *run_id, uint32_t timeout_ms,
                                     pincer_run_info *out);

    /* The session's transcript as JSON:
     * {"sessionKey":…, "messages":[{"role":"user"|"assistant"|"tool"|"steer"|"system",
     *   "content":…, …}]}. limit > 0 keeps only the last `limit` messages. */
    pincer_result (PINCER_ABI *messages)(const pincer_host *host, const char *session_key, uint32_t limit,
                                         char **out_json);

    /* The session's description as JSON: key, id, state, model, label,
     * system prompt, tool policy, the calling plugin's own metadata, run
     * counts. */
    pincer_result (PINCER_ABI *get_session)(const pincer_host *host, const char *session_key, char **out_json);

    /* Whether the session is streaming (a run is at work in it and the
     * session is not compacting), without side effects. PINCER_ERR_NOT_FOUND
     * for an unknown key. Cheap: meant to be polled. */
    pincer_result (PINCER_ABI *is_streaming)(const pincer_host *host, const char *session_key, bool *out);

    /* The calling plugin's own metadata namespace on a session, as a JSON
     * object ("{}" when it has none). Other namespaces are never visible. */
    pincer_result (PINCER_ABI *get_metadata)(const pincer_host *host, const char *session_key, char **out_json);

    /* ---- Steering: "sessions.steer" -------------------------------------- */

    /* Queues `text` for the session's running run, delivered at the next
     * tool-call or turn boundary. PINCER_OK with *out telling what happened
     * (see pincer_steer_outcome); an unknown key is PINCER_STEER_NO_SESSION,
     * not an error. */
    pincer_result (PINCER_ABI *steer)(const pincer_host *host, const char *session_key, const char *text,
                                      pincer_steer_outcome *out);

    /* ---- Deleting: "sessions.delete" ------------------------------------- */

    /* [blocking] Deletes the session and its transcript; an active run is
     * cancelled first. Returns once the deletion is committed to the host's
     * store. */
    pincer_result (PINCER_ABI *delete_session)(const pincer_host *host, const char *session_key);

    /* ---- Metadata: "sessions.metadata" ----------------------------------- */

    /* Replaces the calling plugin's own metadata namespace on a session with
     * `json_object` (a JSON object, at most PINCER_MAX_METADATA_BYTES); kept
     * in the store with the session. Only the namespace's plugin may change
     * it once the session exists. */
    pincer_result (PINCER_ABI *set_metadata)(const pincer_host *host, const char *session_key,
                                             const char *json_object);

    /* ---- Rate limiting: "rate_limit" ------------------------------------- */

    /* Checks, and when allowed counts, one request for `key` (at most
     * PINCER_RATE_LIMIT_MAX_KEY_BYTES) against at most max_requests
     * (1..PINCER_RATE_LIMIT_MAX_REQUESTS) per sliding window of window_ms
     * (1..PINCER_RATE_LIMIT_MAX_WINDOW_MS). See rate_limit.h. */
    pincer_result (PINCER_ABI *rate_limit_check)(const pincer_host *host, const char *key, uint32_t max_requests,
                                                 uint64_t window_ms, pincer_rate_limit_result *out);

    /* Forgets every request counted for `key`. PINCER_OK also for a key
     * that was never seen. */
    pincer_result (PINCER_ABI *rate_limit_reset)(const pincer_host *host, const char *key);

    /* ---- Host state, read-only: "host.read" ------------------------------ */

    /* The host's status summary as JSON: version, ABI, uptime, plugins,
     * sessions, runs, guards, default model. */
    pincer_result (PINCER_ABI *status)(const pincer_host *host, char **out_json);

    /* The model catalog as JSON: {"default": "<id>", "models": [{"id",
     * "provider", "description", "tools": bool, "streaming": bool,
     * "contextWindow": tokens the model reads at most, or null when the
     * operator did not say}]}. Later hosts may add members: ignore what you
     * do not know. */
    pincer_result (PINCER_ABI *models)(const pincer_host *host, char **out_json);

    /* A gateway method by name with JSON params (NULL = none), answering
     * JSON. Only read-only methods are served to plugins: "status" and
     * "models.list". A method the gateway has but plugins may not call is
     * PINCER_ERR_DENIED, naming the allowlist; an unknown method is
     * PINCER_ERR_UNSUPPORTED. */
    pincer_result (PINCER_ABI *gateway_request)(const pincer_host *host, const char *method,
                                                const char *params_json, char **out_json);

    /* ---- Registrations: "tools.register", "hooks.gate" / "hooks.observe" - */

    /* Registers a tool (tools.h); the definition is copied. *out (may be NULL)
     * receives the registration's handle. A name that is not
     * "<this plugin's id>.<name>", or already registered, is
     * PINCER_ERR_INVALID_ARGUMENT; past PINCER_MAX_TOOLS_PER_PLUGIN,
     * PINCER_ERR_LIMIT. Registrations made during init() take effect when
     * init succeeds. */
    pincer_result (PINCER_ABI *register_tool)(const pincer_host *host, const pincer_tool_definition *tool,
                                              pincer_registration *out);

    /* Registers a hook (hooks.h); the definition is copied. *out (may be NULL)
     * receives the registration's handle. A point outside
     * pincer_hook_point_code, a NULL call or a deadline over
     * PINCER_HOOK_MAX_DEADLINE_MS is PINCER_ERR_INVALID_ARGUMENT; past
     * PINCER_MAX_HOOKS_PER_PLUGIN, PINCER_ERR_LIMIT. A gate point needs
     * "hooks.gate", an observer point "hooks.observe". */
    pincer_result (PINCER_ABI *register_hook)(const pincer_host *host, const pincer_hook_definition *hook,
                                              pincer_registration *out);

    /* Withdraws one of the plugin's own registrations: no new call of it
     * starts, and its release callback runs once its last call has returned
     * (at once when none is running). Returns without waiting for calls in
     * flight, so it is safe from inside the callback itself.
     * PINCER_ERR_NOT_FOUND for a handle that is not a live registration of
     * this plugin. */
    pincer_result (PINCER_ABI *unregister)(const pincer_host *host, pincer_registration registration);

    /* ---- Runs, from a tool: no capability -------------------------------- */

    /* Whether the run has been asked to stop: cancelled, its session deleted,
     * its timeout passed, or the host stopping — and true for a run that has
     * already ended, however it ended (nothing it serves can matter any more;
     * a cancel_run after its end changes nothing). A tool polls it for the run
     * it serves (call->run_id) and returns early: what it returns then is
     * discarded. Answers for runs the plugin's tools are serving and runs of
     * sessions the plugin may use; PINCER_ERR_NOT_FOUND otherwise. Cheap. */
    pincer_result (PINCER_ABI *run_stop_requested)(const pincer_host *host, const char *run_id, bool *out);
};

PINCER_EXTERN_C_END

#endif /* PINCER_HOST_H */
