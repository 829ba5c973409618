/*
 * pincer/runs.h — following a run as it goes: each of its events, then its
 * end, pushed to the plugin. The non-blocking form of host->wait, for a
 * plugin that must not hold a thread per run (a server streaming a run's
 * progress to a client, say).
 *
 * Extension id "pincer.runs/1" (@since 1.1; gateway.h's "Versions" note holds
 * here too):
 *
 *     const pincer_runs_v1 *runs = host->get_extension(host, PINCER_RUNS_EXTENSION_ID);
 *     if (runs == NULL) { ... an older host: wait() on a thread of your own ... }
 *
 * follow() needs the capability "sessions.read" and a run the plugin may read
 * (host.h's "Sessions" rule; any other run is PINCER_ERR_NOT_FOUND). From then
 * on the host calls on_event [events-lane]:
 *   - once per event the run recorded (PINCER_RUN_EVENT), those recorded
 *     before follow() first, in order, each with its number `seq` from 0;
 *   - PINCER_RUN_GAP in place of events the lane had no room for (see the
 *     bound below): `seq` is the first one missed, `missed` how many — the
 *     plugin can read them later from host->messages or ask again;
 *   - PINCER_RUN_END exactly once, when the run has ended: its status, final
 *     text, error and duration (what wait() would answer). END is never
 *     dropped. After END the registration ends by itself and its release
 *     callback runs once on_event has returned.
 * With PINCER_RUN_FOLLOW_END_ONLY only the END call comes: a completion
 * callback.
 *
 * [events-lane] A lane of its own per plugin (pincer.h's vocabulary): calls
 * come one at a time, in order, never overlapping each other, and never
 * sharing a lane with the plugin's gates or observers — a gate of the same
 * plugin may run while on_event does. An on_event call may call host
 * functions (a follow-up prompt, another follow). It holds up only this lane.
 *
 * host->unregister stops following early: no call starts after it returns
 * except one already running; release follows as tools.h says. Stopping the
 * plugin stops every follow. The lane holds at most
 * PINCER_HOOK_MAX_QUEUED_EVENTS calls and PINCER_HOOK_MAX_QUEUED_EVENT_BYTES of
 * payload (hooks.h) not yet delivered; a plugin follows at most
 * PINCER_RUNS_MAX_FOLLOWS runs at once (PINCER_ERR_LIMIT past it).
 *
 * @since 1.1
 */
#ifndef PINCER_RUNS_H
#define PINCER_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "platform.h"
#include "result.h"
#include "tools.h"

PINCER_EXTERN_C_BEGIN

#define PINCER_RUNS_EXTENSION_ID "pincer.runs/1"

/* Runs one plugin may follow at once. */
#define PINCER_RUNS_MAX_FOLLOWS 64u

/* pincer_run_event.kind (int32_t). */
typedef enum pincer_run_event_kind {
    PINCER_RUN_EVENT = 0,
    PINCER_RUN_GAP = 1,
    PINCER_RUN_END = 2
} pincer_run_event_kind;

/* One call of on_event. Host-written (extension.h): read a field only when
 * struct_size covers it. Every pointer is owned by the host and valid only
 * during the call. */
typedef struct pincer_run_event {
    /* sizeof(pincer_run_event) as the host was compiled. */
    uint32_t struct_size;
    /* A pincer_run_event_kind. */
    int32_t kind;
    const char *run_id;
    /* EVENT: the event's number in the run, from 0. GAP: the number of the
     * first event missed. END: how many events the run recorded. */
    uint64_t seq;
    /* GAP: how many events were missed; 0 otherwise. */
    uint64_t missed;
    /* EVENT: the event as a JSON object, {"kind": "turn" | "tool_call" |
     * "tool_result" | "steer" | "compacted" | "hook" | "finished", "at":
     * <ms since the epoch>, …the kind's fields}. NULL otherwise. */
    const char *event_json;
    /* END: the run's pincer_run_status (sessions.h). 0 otherwise. */
    int32_t status;
    /* END: the run's final text, or NULL. */
    const char *final_text;
    /* END: why it did not complete, or NULL. */
    const char *error;
    /* END: how long it ran. */
    uint64_t duration_ms;
} pincer_run_event;

/* [events-lane] `context` is the follow request's, unchanged. */
typedef void (PINCER_ABI *pincer_run_event_fn)(void *context, const pincer_run_event *event);

/* pincer_run_follow.flags: only the END call (a completion callback). */
#define PINCER_RUN_FOLLOW_END_ONLY 1u

/* What follow() copies. A request struct (extension.h); struct_size must
 * reach `on_event`. Owned by the plugin; needed only during the call. */
typedef struct pincer_run_follow {
    /* sizeof(pincer_run_follow) as the plugin was compiled. */
    uint32_t struct_size;
    /* PINCER_RUN_FOLLOW_* bits; any other bit is PINCER_ERR_INVALID_ARGUMENT. */
    uint32_t flags;
    /* Required. A run id from spawn, prompt or a hook event. */
    const char *run_id;
    /* Required. */
    pincer_run_event_fn on_event;
    /* Optional. Handed back to on_event and release as is. */
    void *context;
    /* Optional (NULL). Once, after the last on_event call has returned (END
     * delivered, unregister, or the plugin stopping). When follow() fails it
     * is not called: the context is still yours. */
    pincer_release_fn release;
} pincer_run_follow;

/* The table get_extension(host, PINCER_RUNS_EXTENSION_ID) returns. Owned by
 * the host, valid until the plugin is dead. [any-thread] */
typedef struct pincer_runs_v1 {
    /* sizeof(pincer_runs_v1) as the host was compiled. */
    uint32_t struct_size;

    /* Follows a run (see above); *out (optional) receives the registration for
     * host->unregister. PINCER_ERR_NOT_FOUND for a run the plugin may not read
     * or the host no longer holds; PINCER_ERR_DENIED without "sessions.read";
     * PINCER_ERR_LIMIT past PINCER_RUNS_MAX_FOLLOWS. */
    pincer_result (PINCER_ABI *follow)(const pincer_host *host, const pincer_run_follow *follow, pincer_registration *out);
} pincer_runs_v1;

PINCER_EXTERN_C_END

#endif /* PINCER_RUNS_H */
