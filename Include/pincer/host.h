/*
 * pincer/host.h — the host table: everything a plugin can ask of the host.
 *
 * The host hands each plugin its own `const pincer_host *` in init(). That
 * pointer is the plugin's identity: every function below takes it first, the
 * host checks it on every call (a pointer the host did not hand out, or one
 * whose host_data was changed, gets PINCER_ERR_BAD_HANDLE), and rate limits,
 * spawn guards, session ownership and logs are attributed to that plugin —
 * never to an id the plugin claims. After shutdown() returns, the handle
 * answers PINCER_ERR_SHUT_DOWN.
 *
 * Conventions for every function in the table:
 *  - Threads: [thread-safe] — callable from any thread, concurrently, unless
 *    the comment says otherwise.
 *  - Strings are NUL-terminated UTF-8. NULL where a string is required,
 *    invalid UTF-8, or a string over its size limit gives
 *    PINCER_ERR_INVALID_ARGUMENT and changes nothing.
 *  - Inputs are borrowed for the duration of the call; the host copies what
 *    it keeps.
 *  - Outputs go into caller-provided structs, or, for text of any length
 *    (JSON documents, final texts), into a `char **out` that the host fills
 *    with memory it allocated: release it with host->free(host, ptr). On an
 *    error, `*out` is set to NULL and nothing needs freeing.
 *  - Errors: the pincer_result codes of result.h; the message for the last
 *    failed call on this thread is host->last_error(host).
 *
 * This struct is frozen (ABI 1.0 is released): later versions add tables
 * through get_extension (see extension.h), never fields here.
 */
#ifndef PINCER_HOST_H
#define PINCER_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hooks.h"
#include "log.h"
#include "rate_limit.h"
#include "result.h"
#include "sessions.h"
#include "tools.h"
#include "version.h"

struct pincer_host {
    /* The ABI version the host was compiled against. */
    pincer_version abi_version;
    /* sizeof(pincer_host) as the host was compiled. */
    uint32_t struct_size;
    /* Owned by the host: identifies the calling plugin. Never read or write
     * it; a changed value makes every call fail with PINCER_ERR_BAD_HANDLE. */
    void *host_data;
    /* Static strings owned by the host, valid for the process lifetime. */
    const char *host_name;
    const char *host_version;

    /* ---- Host services: need no capability ------------------------------ */

    /* The host's table for an extension id ("pincer.acp/1"), or NULL when it
     * has none. The table is owned by the host and valid until shutdown()
     * returns. Never fails otherwise; a bad handle also gives NULL. */
    const void *(*get_extension)(const pincer_host *host, const char *id);

    /* The message of the last call on this thread that did not return
     * PINCER_OK. Owned by the host; valid until the next host call on this
     * thread. Never NULL (an empty string when there is none). */
    const char *(*last_error)(const pincer_host *host);

    /* Releases memory the host allocated for an output of this table.
     * NULL is allowed and ignored. */
    void (*free)(const pincer_host *host, void *ptr);

    /* Writes one line to the host's log, attributed to the plugin:
     * "[<plugin-id>] <message>". Lines over 64 KiB are cut. */
    pincer_result (*log)(const pincer_host *host, pincer_log_level level, const char *message);

    /* The plugin's own config object from the operator's config file
     * (plugins.entries.<id>.config), as JSON; "{}" when there is none. */
    pincer_result (*get_config)(const pincer_host *host, char **out_json);

    /* ---- Sessions: capability "sessions.spawn" ------------------------- */

    /* Creates an isolated session, owned by the calling plugin, and queues its
     * first run; returns at once (it does not wait for the model, nor for the
     * store to commit the new session: wait() on the run is the point where
     * its outcome is durable). Guards: at most maxConcurrentSpawns
     * plugin-spawned sessions with an active run, and at most
     * maxSpawnsPerMinute plugin spawns in any sliding minute, across all
     * plugins (operator config "guards"); past either, PINCER_ERR_LIMIT with
     * a message naming the setting. A request->model other than the default
     * needs plugins.entries.<id>.allowModelOverride (PINCER_ERR_DENIED). */
    pincer_result (*spawn)(const pincer_host *host, const pincer_spawn_request *request,
                           pincer_spawn_result *out);

    /* ---- Sessions: capability "sessions.control" ----------------------- */

    /* Ownership, for every function taking a session key or run id below
     * (and steer, is_streaming, get_metadata, set_metadata): a plugin reaches
     * only the sessions it created, and their runs, unless the operator set
     * plugins.entries.<id>.sessionAccess = "all". Otherwise the call returns
     * PINCER_ERR_DENIED, naming that setting. */

    /* Queues a follow-up user message in an existing session as a new run,
     * behind any active run; returns at once with the run id. */
    pincer_result (*prompt)(const pincer_host *host, const char *session_key, const char *text,
                            pincer_run_ref *out);

    /* Blocks the calling thread until the run ends or timeout_ms passes
     * (0 = do not block: report the current state). PINCER_OK when the run
     * has ended: out holds its terminal status and texts, and the host's
     * store has committed them. PINCER_ERR_TIMEOUT
     * when it has not: out->status is QUEUED or RUNNING and the run goes on.
     * [thread-safe, blocking] Never call it from a callback the host makes
     * into the plugin (hooks, tools): that thread may be the one the run
     * needs. */
    pincer_result (*wait)(const pincer_host *host, const char *run_id, uint32_t timeout_ms,
                          pincer_run_info *out);

    /* The session's transcript as JSON:
     * {"sessionKey":…, "messages":[{"role":"user"|"assistant"|"tool"|"steer"|"system",
     *   "content":…, …}]}. limit > 0 keeps only the last `limit` messages. */
    pincer_result (*messages)(const pincer_host *host, const char *session_key, uint32_t limit,
                              char **out_json);

    /* The session's description as JSON: key, id, state, model, label,
     * system prompt, tool policy, the calling plugin's metadata, run counts. */
    pincer_result (*get_session)(const pincer_host *host, const char *session_key, char **out_json);

    /* Deletes the session and its transcript; an active run is cancelled
     * first. Returns once the deletion is committed to the host's store.
     * PINCER_ERR_NOT_FOUND when no such session exists. */
    pincer_result (*delete_session)(const pincer_host *host, const char *session_key);

    /* Cancels a queued or running run; it ends CANCELLED. PINCER_OK also when
     * it had already ended (nothing changes). */
    pincer_result (*cancel_run)(const pincer_host *host, const char *run_id);

    /* ---- Steering: capability "sessions.steer" ------------------------- */

    /* Queues `text` for the session's running run, delivered at the next
     * tool-call or turn boundary. PINCER_OK with *out telling what happened
     * (see pincer_steer_outcome); an unknown key is PINCER_STEER_NO_SESSION,
     * not an error. */
    pincer_result (*steer)(const pincer_host *host, const char *session_key, const char *text,
                           pincer_steer_outcome *out);

    /* Whether the session is streaming (a run is at work in it), without
     * side effects. PINCER_ERR_NOT_FOUND for an unknown key. Cheap: meant to
     * be polled. */
    pincer_result (*is_streaming)(const pincer_host *host, const char *session_key, bool *out);

    /* ---- Rate limiting: capability "rate_limit" ------------------------- */

    /* Checks, and when allowed counts, one request for `key` against at most
     * max_requests (1..PINCER_RATE_LIMIT_MAX_REQUESTS) per sliding window of
     * window_ms (1..PINCER_RATE_LIMIT_MAX_WINDOW_MS). See rate_limit.h. */
    pincer_result (*rate_limit_check)(const pincer_host *host, const char *key, uint32_t max_requests,
                                      uint64_t window_ms, pincer_rate_limit_result *out);

    /* Forgets every request counted for `key`. PINCER_OK also for a key
     * that was never seen. */
    pincer_result (*rate_limit_reset)(const pincer_host *host, const char *key);

    /* ---- Host state, read-only: capability "host.read" ------------------ */

    /* The host's status summary as JSON: version, ABI, uptime, plugins,
     * sessions, runs, guards, default model. */
    pincer_result (*status)(const pincer_host *host, char **out_json);

    /* The model catalog as JSON: {"default":…, "models":[{"id":…, …}]}. */
    pincer_result (*models)(const pincer_host *host, char **out_json);

    /* A gateway method by name with JSON params (NULL = none), answering
     * JSON. Only read-only methods are served: "status" and "models.list".
     * Any other method is refused with PINCER_ERR_DENIED, naming the
     * allowlist. */
    pincer_result (*gateway_request)(const pincer_host *host, const char *method,
                                     const char *params_json, char **out_json);

    /* ---- Memory the host will own --------------------------------------- */

    /* Allocates `size` bytes the host may later take over and free: what a
     * callback hands back to the host (a tool's *out_text) must come from
     * here. NULL when size is 0 or the memory is not available. */
    void *(*alloc)(const pincer_host *host, size_t size);

    /* ---- Tools: capability "tools.register" ----------------------------- */

    /* Registers a tool (see tools.h); the definition is copied. A name
     * already taken, by this plugin, another or the host, is refused with
     * PINCER_ERR_INVALID_ARGUMENT naming who has it. [loader thread or any] */
    pincer_result (*register_tool)(const pincer_host *host, const pincer_tool_definition *tool);

    /* ---- Session metadata: capability "sessions.control" ---------------- */

    /* The calling plugin's own metadata namespace on a session, as a JSON
     * object ("{}" when it has set none). Other plugins' namespaces are never
     * visible. The session must be one the plugin may use. */
    pincer_result (*get_metadata)(const pincer_host *host, const char *session_key, char **out_json);

    /* Replaces the calling plugin's own metadata namespace on a session with
     * `json_object` (a JSON object, at most 64 KiB); kept in the store with
     * the session. */
    pincer_result (*set_metadata)(const pincer_host *host, const char *session_key, const char *json_object);

    /* ---- Hooks: capability "hooks.register" ----------------------------- */

    /* Registers a hook (see hooks.h); the definition is copied. A point
     * outside pincer_hook_point_code, a NULL call or a deadline over
     * PINCER_HOOK_MAX_DEADLINE_MS is refused with PINCER_ERR_INVALID_ARGUMENT.
     * A plugin may register several hooks, also for one point. [loader thread or any] */
    pincer_result (*register_hook)(const pincer_host *host, const pincer_hook_definition *hook);
};

#endif /* PINCER_HOST_H */
