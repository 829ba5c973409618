/*
 * pincer/hooks.h — hooks: a plugin's say in what the engine does.
 *
 * A plugin registers a hook with host->register_hook (capability
 * "hooks.register") for one hook point. Two kinds of point:
 *
 *  - Gates (BEFORE_SESSION_CREATE, BEFORE_TOOL_CALL) decide: continue,
 *    continue with a patch, or block with a reason. The engine waits for
 *    the answer, up to the hook's deadline.
 *  - Observers (SESSION_CREATED, AFTER_TOOL_CALL, RUN_EVENT) are told what
 *    happened. The engine does not wait for them: events are queued and
 *    delivered in order.
 *
 * Order and composition. For one point, hooks run by descending priority;
 * equal priorities run in the order they were registered (plugins load in
 * sorted file order). At a gate, the first BLOCK wins and no later hook runs;
 * each patch applies at once, so later hooks see the patched event.
 *
 * Deadlines and safe defaults. Each hook has a deadline (deadline_ms; 0 takes
 * the host's default, operator config hooks.defaultDeadlineMs, 1000 ms unless
 * set). A gate that returns anything but PINCER_OK, answers a verdict that is
 * not one of pincer_hook_verdict, hands back a patch the host cannot apply,
 * or does not answer within its deadline BLOCKS, with a reason naming the
 * plugin and what went wrong — a broken policy plugin fails closed. The
 * engine goes on; a late answer is discarded when it comes. An observer that
 * fails is logged and otherwise ignored.
 *
 * Threads. [hook thread] Each plugin has one hook thread of its own: all of
 * its hooks are called there, one at a time, never concurrently with each
 * other. Gates go ahead of queued observer events. A hook may call host
 * functions, but never wait() (the run it would wait for may be waiting for
 * this very hook). A gate a hook's own call triggers (a spawn from a hook
 * meets the plugin's before_session_create) runs at once, nested, on the
 * same thread. A hook stuck in the plugin holds up only that plugin's
 * hooks, which meanwhile time out to their safe defaults. A plugin's queue
 * holds at most 8192 undelivered observer events; past that, new ones are
 * dropped and the host logs how many.
 *
 * Scope. A plugin's hooks see the sessions it may use: those it created, or
 * every session when the operator set plugins.entries.<id>.sessionAccess =
 * "all" (what a policy plugin needs).
 *
 * Lifetime. Like tools, hooks stay registered until the plugin's shutdown()
 * returns: its own threads may still cause hook calls while it shuts down.
 * Once shutdown() returns no new hook call starts, observer events still
 * queued are dropped, and a gate still waiting for the plugin blocks.
 */
#ifndef PINCER_HOOKS_H
#define PINCER_HOOKS_H

#include <stdint.h>

#include "result.h"

typedef int32_t pincer_hook_point;
enum pincer_hook_point_code {
    /* Gate, before a session is written. payload_json:
     *   {"message":…, "systemPrompt":…|null, "toolPolicy":{"allow":[…],"deny":[…]},
     *    "model":…, "label":…|null, "timeoutSeconds":…, "metadata":{…},
     *    "parentSessionKey":…|null}
     * where metadata is this plugin's own namespace, parentSessionKey the
     * session whose sessions_spawn tool call asked for this one, and
     * toolPolicy has "inherited":[{"allow","deny"}…] when the parent's
     * policies also apply. Patch (every member
     * optional): {"systemPrompt": "…" | null, "toolsAllow": [patterns]
     * (replaces the allow list), "toolsDeny": [patterns] (added to the deny
     * list: a hook can deny more, never un-deny), "metadata": {…} (replaces
     * this plugin's own namespace)}. A block refuses the spawn with
     * PINCER_ERR_DENIED and the reason. */
    PINCER_HOOK_BEFORE_SESSION_CREATE = 0,
    /* Observer, once the session is written. payload_json as for
     * BEFORE_SESSION_CREATE, with every patch applied. */
    PINCER_HOOK_SESSION_CREATED = 1,
    /* Gate, after the tool policy allowed a call and before the tool runs.
     * payload_json: {"arguments":{…}}. Patch: {"arguments":{…}} replaces the
     * arguments the tool receives. A block reaches the model as a tool error
     * carrying the reason; the tool never runs. */
    PINCER_HOOK_BEFORE_TOOL_CALL = 2,
    /* Observer, after a tool ran (or was refused). payload_json:
     *   {"arguments":{…}, "result":"…", "isError":true|false, "durationMs":…} */
    PINCER_HOOK_AFTER_TOOL_CALL = 3,
    /* Observer, as a run goes, in order. payload_json has "kind":
     *   {"kind":"text_delta", "text":"…"}      streamed model text, piece by piece
     *   {"kind":"turn", "text":"…"}            a model turn's whole text
     *   {"kind":"tool_call", "id":…, "name":…, "arguments":{…}}
     *   {"kind":"tool_result", "id":…, "name":…, "isError":…, "content":"…"}
     *                                          (content cut at 500 characters)
     *   {"kind":"steer", "text":"…"}           steering delivered to the model
     *   {"kind":"compacted", "messages":N}     N messages became a summary
     *   {"kind":"hook", "point":…, "plugin":…, "decision":"patched"|"blocked",
     *    "tool":…, "reason":…}                 a gate changed a tool call
     *   {"kind":"finished", "status":"completed"|"failed"|"timed_out"|
     *    "cancelled"|"interrupted", "durationMs":…, "error":…}
     * Later versions may add kinds and members: ignore what you do not know. */
    PINCER_HOOK_RUN_EVENT = 4
};

/* What one hook call is about. Every pointer is owned by the host and valid
 * only during the call; copy what you keep. Strings are UTF-8. */
typedef struct pincer_hook_event {
    /* sizeof(pincer_hook_event) as the host was compiled. */
    uint32_t struct_size;
    pincer_hook_point point;
    /* The session's canonical key and id (for BEFORE_SESSION_CREATE: those
     * it will have if no hook blocks). */
    const char *session_key;
    const char *session_id;
    /* The run at work; for the session points, the session's first run. */
    const char *run_id;
    /* Who created the session: a plugin id, or "operator". */
    const char *owner;
    /* The directory the host runs sessions' work in (engine.workspaceDir). */
    const char *workspace_dir;
    /* The tool points: the tool's name and the model's id for the call;
     * NULL at the other points. */
    const char *tool_name;
    const char *tool_call_id;
    /* A JSON object; its members per point are listed above. */
    const char *payload_json;
} pincer_hook_event;

typedef int32_t pincer_hook_verdict;
enum pincer_hook_verdict_code {
    PINCER_HOOK_CONTINUE = 0, /* go on (with decision->patch_json applied, if set) */
    PINCER_HOOK_BLOCK = 1     /* refuse, with decision->reason */
};

/* A gate's answer, written by the hook into the host's struct. The host sets
 * verdict = CONTINUE and both pointers to NULL before the call. reason and
 * patch_json must be NULL or memory from host->alloc holding NUL-terminated
 * UTF-8; the host takes both and frees them, whatever the verdict and the
 * result code. Observers may ignore it: the host frees what they set and
 * reads nothing else. */
typedef struct pincer_hook_decision {
    /* sizeof(pincer_hook_decision) as the host was compiled. */
    uint32_t struct_size;
    pincer_hook_verdict verdict;
    /* Why a BLOCK blocks; shown to the model or the spawning caller. */
    char *reason;
    /* A JSON object with the members the point allows (see above). */
    char *patch_json;
} pincer_hook_decision;

/*
 * A hook. [hook thread] `context` is the definition's context pointer,
 * unchanged. Return PINCER_OK with the decision filled in; any other code
 * counts as a failure (a gate then blocks).
 */
typedef pincer_result (*pincer_hook_fn)(void *context, const pincer_hook_event *event,
                                        pincer_hook_decision *decision);

/* What register_hook copies. Owned by the plugin; needed only during the call. */
typedef struct pincer_hook_definition {
    /* sizeof(pincer_hook_definition). */
    uint32_t struct_size;
    /* Required. One of pincer_hook_point_code. */
    pincer_hook_point point;
    /* Higher runs first. Any value; 0 is the usual one. */
    int32_t priority;
    /* 0 = the host's default; at most PINCER_HOOK_MAX_DEADLINE_MS. */
    uint32_t deadline_ms;
    /* Required. */
    pincer_hook_fn call;
    /* Optional. Handed back to call as is; must stay valid until shutdown() returns. */
    void *context;
} pincer_hook_definition;

/* The longest deadline a hook may ask for. */
#define PINCER_HOOK_MAX_DEADLINE_MS 60000

#endif /* PINCER_HOOKS_H */
