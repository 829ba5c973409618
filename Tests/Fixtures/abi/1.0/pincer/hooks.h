/*
 * pincer/hooks.h — hooks: a plugin's say in what the engine does.
 *
 * A plugin registers a hook with host->register_hook for one hook point. Two
 * kinds of point, each with its own capability:
 *
 *  - Gates (BEFORE_SESSION_CREATE, BEFORE_TOOL_CALL; "hooks.gate") decide:
 *    continue, continue with a patch, or block with a reason. The engine
 *    waits for the answer, up to the hook's deadline.
 *  - Observers (SESSION_CREATED, AFTER_TOOL_CALL, RUN_EVENT; "hooks.observe")
 *    are told what happened. The engine does not wait for them: events are
 *    queued and delivered in order.
 *
 * Order and composition. For one point, hooks run by descending priority;
 * equal priorities run in the order they were registered (plugins load in
 * sorted file order). At a gate, the first BLOCK wins and no later hook runs;
 * each patch applies at once, so later hooks see the patched event.
 *
 * Patches only narrow. A before_session_create patch can add a deny list, add
 * an allow list the session's tools must ALSO match (it never replaces the
 * creator's), set the system prompt, and replace the hook's own plugin's
 * metadata namespace; nothing a hook returns can give a session a tool its
 * creator, its parents or the host's policy did not allow.
 *
 * Deadlines and safe defaults. Each hook has a deadline (deadline_ms; 0 takes
 * the host's default, operator config hooks.defaultDeadlineMs, 1000 ms unless
 * set). A gate that returns anything but PINCER_OK, answers a verdict that is
 * not one of pincer_hook_verdict, hands back a patch the host cannot apply,
 * does not answer within its deadline, or whose plugin is stopping or dead,
 * BLOCKS, with a reason naming the plugin and what went wrong — a broken
 * policy plugin fails closed. The engine goes on; a late answer is discarded
 * when it comes. An observer that fails is logged and otherwise ignored.
 *
 * Lanes. [gate-lane] / [observer-lane] (pincer.h): each plugin has a gate
 * lane and an observer lane. Calls on one lane never overlap and come in
 * order; the two lanes are independent, so a slow observer never makes the
 * plugin's own gates late. A lane is not an OS thread: do not rely on thread
 * identity or thread-local state between calls.
 * Nesting: a host call the plugin makes from its own gate may meet the
 * plugin's gates again (a before_session_create gate that spawns meets
 * before_session_create). That nested gate runs at once, within the call,
 * rather than queueing behind the gate that made it; past
 * PINCER_HOOK_MAX_NESTING nested gates the call is refused
 * (PINCER_ERR_LIMIT, naming the limit). A gate that calls wait() on a run
 * that waits for it (the tool call it gates, or the run whose sessions_spawn
 * call is creating the session it gates) gets PINCER_ERR_WOULD_BLOCK. Make
 * these calls on the thread the gate was entered on (pincer.h).
 *
 * Bounds. A plugin's gate lane holds at most PINCER_HOOK_MAX_PENDING_GATES
 * gate calls waiting to start: past that, the gate blocks at once, with a
 * reason naming that limit. A gate call whose deadline passes before it
 * starts is dropped from the lane with its event. One still running at its
 * deadline has blocked then, and the engine went on without it; until it
 * returns, the plugin's later gate calls block at once, with a reason saying
 * so — a stuck gate holds one of the host's threads, never one per call. The observer lane holds at most
 * PINCER_HOOK_MAX_QUEUED_EVENTS events and PINCER_HOOK_MAX_QUEUED_EVENT_BYTES
 * bytes of payload; past either, new events are dropped and the host logs how
 * many. A plugin registers at most PINCER_MAX_HOOKS_PER_PLUGIN hooks.
 *
 * Scope. A plugin's hooks see the sessions it may use: those it created, or
 * every session when the operator set plugins.entries.<id>.sessionAccess =
 * "all", and those whose creator handed it a metadata namespace (sessions.h):
 * handing a policy plugin a namespace places the session under it — its
 * before_session_create gate validates the value and may block, and its gates
 * and observers follow the session from then on, without any wider grant.
 *
 * Lifetime. A hook is withdrawn by host->unregister or when its plugin stops;
 * its release callback then runs once its last call has returned. From the
 * moment its plugin is stopping, no new hook call starts: its gates block,
 * its undelivered observer events are dropped.
 *
 * @since 1.0
 */
#ifndef PINCER_HOOKS_H
#define PINCER_HOOKS_H

#include <stdint.h>

#include "platform.h"
#include "result.h"
#include "tools.h"

PINCER_EXTERN_C_BEGIN

#define PINCER_MAX_HOOKS_PER_PLUGIN 64u
/* The longest deadline a hook may ask for. */
#define PINCER_HOOK_MAX_DEADLINE_MS 60000u
#define PINCER_HOOK_MAX_NESTING 4u
#define PINCER_HOOK_MAX_PENDING_GATES 64u
#define PINCER_HOOK_MAX_QUEUED_EVENTS 8192u
#define PINCER_HOOK_MAX_QUEUED_EVENT_BYTES (64u << 20)
/* The largest reason or patch a hook may hand back (bytes, without the NUL). */
#define PINCER_HOOK_REASON_MAX_BYTES (64u << 10)
#define PINCER_HOOK_PATCH_MAX_BYTES (1u << 20)

typedef int32_t pincer_hook_point;
enum pincer_hook_point_code {
    /* Gate, before a session is written. payload_json:
     *   {"message":…, "systemPrompt":…|null, "toolPolicy":{"allow":[…],"deny":[…]},
     *    "model":…, "label":…|null, "timeoutSeconds":…, "metadata":{…},
     *    "parentSessionKey":…|null}
     * where metadata is this plugin's own namespace as the creator handed it
     * ({} when none: validate it here, and block what you do not accept),
     * parentSessionKey the session whose sessions_spawn tool call asked for
     * this one, and toolPolicy has "inherited":[{"allow","deny"}…] when
     * further policies apply (a parent's, or an earlier hook's allow list).
     * Patch (every member optional):
     *   {"systemPrompt": "…" | null,
     *    "toolsAllow": [patterns]  a further allow list the session's tools
     *                              must also match (it narrows, never widens),
     *    "toolsDeny": [patterns]   added to the deny list,
     *    "metadata": {…}}          replaces this plugin's own namespace.
     * A block refuses the spawn with PINCER_ERR_DENIED and the reason. */
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
     *    "cancelled"|"interrupted", "durationMs":…, "error":…,
     *    "finalText":"…"}                      (finalText when it completed)
     * Later versions may add kinds and members: ignore what you do not know. */
    PINCER_HOOK_RUN_EVENT = 4
};

/* What one hook call is about. Host-written (extension.h): read a field only
 * when struct_size covers it. Every pointer is owned by the host and valid
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
    /* Who created the session: a plugin id, or "operator" (an id no plugin
     * may have: entry.h's PINCER_RESERVED_IDS). */
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

/* A gate's answer, written by the hook into the host's struct (host-written:
 * set only fields struct_size covers). The host sets verdict = CONTINUE and
 * both pointers to NULL before the call. reason and patch_json must be NULL or
 * memory from host->alloc holding UTF-8 text NUL-terminated within the
 * allocation (at most PINCER_HOOK_REASON_MAX_BYTES / _PATCH_MAX_BYTES); the
 * host takes both and frees them, whatever the verdict and the result code,
 * and never reads past what it allocated. Observers may ignore it: the host
 * frees what they set and reads nothing else. */
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
 * A hook. [gate-lane] for gates, [observer-lane] for observers. `context` is
 * the definition's context pointer, unchanged. Return PINCER_OK with the
 * decision filled in; any other code counts as a failure (a gate then blocks).
 */
typedef pincer_result (PINCER_ABI *pincer_hook_fn)(void *context, const pincer_hook_event *event,
                                                   pincer_hook_decision *decision);

/* What register_hook copies. A request struct (extension.h); struct_size must
 * reach `call`. Owned by the plugin; needed only during the call. */
typedef struct pincer_hook_definition {
    /* sizeof(pincer_hook_definition) as the plugin was compiled. */
    uint32_t struct_size;
    /* Required. One of pincer_hook_point_code. */
    pincer_hook_point point;
    /* Higher runs first. Any value; 0 is the usual one. */
    int32_t priority;
    /* 0 = the host's default; at most PINCER_HOOK_MAX_DEADLINE_MS. */
    uint32_t deadline_ms;
    /* Required. */
    pincer_hook_fn call;
    /* Optional. Handed back to call and release as is. */
    void *context;
    /* Optional (NULL). @since 1.0-rc2. As pincer_tool_definition.release
     * (tools.h says when and where it runs). */
    pincer_release_fn release;
} pincer_hook_definition;

PINCER_EXTERN_C_END

#endif /* PINCER_HOOKS_H */
