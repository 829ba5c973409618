/*
 * pincer/sessions.h — the values that spawn, prompt, wait and steer exchange.
 *
 * A session is a conversation with a model: a canonical key (stable, used to
 * address it), an id, a transcript, a tool policy, a system prompt, a model,
 * metadata namespaced per plugin, and a state (idle, streaming, compacting).
 * A run is one turn of work in a session: queued, then running, then one of
 * the terminal statuses. A session runs one run at a time; a prompt sent
 * while a run is active is queued behind it.
 *
 * Ownership, for every struct here: pointers the plugin puts in a request
 * are borrowed for the duration of the call (the host copies what it keeps);
 * fixed-size arrays in results are written by the host into the plugin's
 * struct; a `char *` in a result is allocated by the host and released by the
 * plugin with host->free(host, ptr). Growth: the struct-size rule of
 * extension.h — set struct_size in requests AND results before the call.
 *
 * @since 1.0
 */
#ifndef PINCER_SESSIONS_H
#define PINCER_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform.h"

PINCER_EXTERN_C_BEGIN

/* Capacity, including the NUL, of a session key or run id the host writes.
 * Keys and ids the plugin passes in must fit too (PINCER_ERR_INVALID_ARGUMENT
 * otherwise). */
#define PINCER_SESSION_KEY_CAPACITY 128u
#define PINCER_RUN_ID_CAPACITY 64u

/* Size limits of what a plugin hands the session functions, in bytes of
 * UTF-8 unless said otherwise; past one, PINCER_ERR_INVALID_ARGUMENT. A
 * message, prompt or steer text must also not be empty. */
#define PINCER_MAX_MESSAGE_BYTES (1u << 20)         /* spawn message, prompt and steer text */
#define PINCER_MAX_SYSTEM_PROMPT_BYTES (256u << 10)
#define PINCER_MAX_LABEL_BYTES 256u
#define PINCER_MAX_MODEL_BYTES 256u
#define PINCER_MAX_POLICY_PATTERNS 128u             /* per list: tools_allow, tools_deny */
#define PINCER_MAX_PATTERN_BYTES 256u
#define PINCER_MAX_METADATA_BYTES (64u << 10)       /* per namespace, as JSON text */
#define PINCER_MAX_METADATA_NAMESPACES 16u          /* in one spawn's metadata_json, whose
                                                      text is at most 16 × 64 KiB */
#define PINCER_MAX_TIMEOUT_SECONDS 604800u          /* 7 days */
/* Runs one session holds queued or running; past it prompt() gives
 * PINCER_ERR_LIMIT. A plugin's runs also count against the spawn guards
 * (host.h) and the plugin's queued-message budget. */
#define PINCER_MAX_QUEUED_RUNS 16u
/* Bytes of user messages one plugin may have queued across its sessions'
 * runs that have not started; past it prompt() gives PINCER_ERR_LIMIT. */
#define PINCER_MAX_QUEUED_MESSAGE_BYTES (16u << 20)

/* What spawn starts: a new session and its first run. A request struct;
 * struct_size must reach `message`. */
typedef struct pincer_spawn_request {
    /* sizeof(pincer_spawn_request) as the plugin was compiled. */
    uint32_t struct_size;
    /* Required. The first user message. */
    const char *message;
    /* Optional (NULL). Prepended to the model's context. */
    const char *system_prompt;
    /* Optional (NULL / 0). Tool names or glob patterns ("calendar*",
     * "group:fs"). With any allow entry, only matching tools may run; deny
     * always wins. Enforced where the tool executes, not only in the prompt.
     * At most PINCER_MAX_POLICY_PATTERNS each; a larger count (a wrapped
     * negative, say) is refused, never read as "no policy".
     * The host's session tools (sessions_spawn, sessions_steer, gateway: group
     * "sessions"), which act with the plugin's rights, are available to the
     * session only when tools_allow names them, by name or as
     * "group:sessions"; a glob such as "*" is not enough. Tools other plugins
     * registered are never available to the plugin's sessions (naming one here
     * is PINCER_ERR_DENIED) unless the operator set
     * plugins.entries.<id>.useOtherPluginsTools. */
    const char *const *tools_allow;
    size_t tools_allow_count;
    const char *const *tools_deny;
    size_t tools_deny_count;
    /* Optional (NULL = the host's default model). A model id from the catalog
     * (host->models); an unknown id gives PINCER_ERR_UNSUPPORTED. Another
     * model than the default needs plugins.entries.<id>.allowModelOverride. */
    const char *model;
    /* 0 = the host's default run timeout; at most PINCER_MAX_TIMEOUT_SECONDS.
     * The run ends TIMED_OUT after this. */
    uint32_t timeout_seconds;
    /* Optional (NULL). A short human-readable label shown in listings. */
    const char *label;
    /* Optional (NULL). Initial metadata, a JSON object keyed by namespace:
     * {"<plugin-id>": {…}, …}. The creator may hand any loaded plugin's
     * namespace its initial value — a policy for a policy plugin, say — and
     * its own. Each value is a JSON object. Each namespace's plugin sees its
     * own value (and only it) in before_session_create, may validate it and
     * block the spawn, and is the only one that may change it afterwards.
     * Handing a plugin a namespace shares the session with it: the plugin
     * may use the session as if it had created it (within its capabilities)
     * and its hooks see it (host.h, hooks.h). A namespace that names no
     * loaded plugin is PINCER_ERR_INVALID_ARGUMENT. */
    const char *metadata_json;
} pincer_spawn_request;

/* What spawn answers when it returns PINCER_OK: the session exists and its
 * first run is queued. A result struct. */
typedef struct pincer_spawn_result {
    /* Set by the plugin before the call (sizeof); the host writes back what it filled. */
    uint32_t struct_size;
    /* The new session's canonical key, NUL-terminated. */
    char session_key[PINCER_SESSION_KEY_CAPACITY];
    /* The first run's id, NUL-terminated; pass it to wait(). */
    char run_id[PINCER_RUN_ID_CAPACITY];
} pincer_spawn_result;

#define PINCER_SPAWN_RESULT_MIN_SIZE (offsetof(pincer_spawn_result, run_id) + PINCER_RUN_ID_CAPACITY)

/* What prompt queues: a follow-up user message in an existing session, as a
 * new run. A request struct; struct_size must reach `text`. */
typedef struct pincer_prompt_request {
    /* sizeof(pincer_prompt_request) as the plugin was compiled. */
    uint32_t struct_size;
    /* Required. The session's key. */
    const char *session_key;
    /* Required. The user message. */
    const char *text;
} pincer_prompt_request;

/* A run id, as prompt() answers it. A result struct. */
typedef struct pincer_run_ref {
    /* Set by the plugin before the call (sizeof); the host writes back what it filled. */
    uint32_t struct_size;
    char run_id[PINCER_RUN_ID_CAPACITY];
} pincer_run_ref;

#define PINCER_RUN_REF_MIN_SIZE (offsetof(pincer_run_ref, run_id) + PINCER_RUN_ID_CAPACITY)

typedef int32_t pincer_run_status;
enum pincer_run_status_code {
    PINCER_RUN_QUEUED = 0,      /* waiting for the session's previous run */
    PINCER_RUN_RUNNING = 1,     /* the model or a tool is at work */
    PINCER_RUN_COMPLETED = 2,   /* final text available */
    PINCER_RUN_FAILED = 3,      /* error available */
    PINCER_RUN_TIMED_OUT = 4,   /* its timeout passed; error says which */
    PINCER_RUN_CANCELLED = 5,   /* cancel_run, or its session was deleted */
    PINCER_RUN_INTERRUPTED = 6  /* the host stopped while it was queued or ran */
};

/* What wait answers. A result struct. */
typedef struct pincer_run_info {
    /* Set by the plugin before the call (sizeof); the host writes back what it filled. */
    uint32_t struct_size;
    pincer_run_status status;
    /* Host-allocated, release with host->free. The final assistant text when
     * status is COMPLETED, else NULL. */
    char *final_text;
    /* Host-allocated, release with host->free. Why the run failed, timed out
     * or was cancelled, else NULL. */
    char *error;
    /* Wall time from the run's start to its end (0 while not ended). */
    uint64_t duration_ms;
} pincer_run_info;

#define PINCER_RUN_INFO_MIN_SIZE (offsetof(pincer_run_info, duration_ms) + sizeof(uint64_t))

/* What steer did with the text. */
typedef int32_t pincer_steer_outcome;
enum pincer_steer_outcome_code {
    /* Queued: delivered to the model at the run's next tool-call or turn
     * boundary, visible in the transcript as a "steer" message. */
    PINCER_STEER_QUEUED = 0,
    /* No session has that key (or none the caller may use). */
    PINCER_STEER_NO_SESSION = 1,
    /* The session exists but has no queued or running run. */
    PINCER_STEER_NO_ACTIVE_RUN = 2,
    /* A run is active but not streaming yet (queued, or about to finish). */
    PINCER_STEER_NOT_STREAMING = 3,
    /* The session is compacting its transcript; try again shortly. */
    PINCER_STEER_COMPACTING = 4,
    /* The run already holds PINCER_STEER_MAX_PENDING undelivered steers;
     * try again after its next boundary. */
    PINCER_STEER_BUSY = 5
};

/* Undelivered steering texts a run holds at most. */
#define PINCER_STEER_MAX_PENDING 32u

PINCER_EXTERN_C_END

#endif /* PINCER_SESSIONS_H */
