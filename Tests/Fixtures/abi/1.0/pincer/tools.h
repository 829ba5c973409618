/*
 * pincer/tools.h — tools a plugin offers to sessions.
 *
 * A plugin registers a tool with host->register_tool (capability
 * "tools.register"). Sessions' models may then call it by name; the host runs
 * the session's tool policy first, where the call executes, so a denied call
 * never reaches the plugin.
 *
 * Names. A tool's full name is "<plugin-id>.<name>": the registering
 * plugin's id, a dot, then 1 to 31 characters matching [a-z][a-z0-9_-]*
 * (so a full name is at most 64 bytes). The plugin passes the full name; the
 * host checks the prefix is its own id. The host's own tools have no dot, so
 * no two plugins, and no plugin and the host, can ever claim one name.
 *
 * Groups are named like tools, "<plugin-id>.<group>", so a plugin can never
 * put its tool in the host's groups ("basic", "sessions") or another's.
 *
 * Lifetime. A registration lasts until host->unregister(host, registration)
 * withdraws it, or the plugin stops. Once withdrawn no new call starts; the
 * definition's release callback (if any) is called exactly once, after the
 * last call in flight has returned — so a binding can free the closure behind
 * `context`. Release never overlaps a call of its own registration. It runs
 * on the thread that ended the last call (a run's or a lane's), or inside
 * unregister itself when no call is running (do not hold a lock release
 * needs across unregister), or on the loader thread when the plugin stops
 * (before shutdown()). It may call host functions.
 *
 * @since 1.0
 */
#ifndef PINCER_TOOLS_H
#define PINCER_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"
#include "result.h"

PINCER_EXTERN_C_BEGIN

/* Limits on a plugin's tools; past one, register_tool gives
 * PINCER_ERR_INVALID_ARGUMENT (sizes) or PINCER_ERR_LIMIT (count). So a
 * plugin's tools hold at most 256 × (4 KiB + 64 KiB + 64 B) ≈ 17 MiB. */
#define PINCER_MAX_TOOLS_PER_PLUGIN 256u
#define PINCER_TOOL_NAME_MAX_BYTES 64u
#define PINCER_TOOL_DESCRIPTION_MAX_BYTES (4u << 10)
#define PINCER_TOOL_SCHEMA_MAX_BYTES (64u << 10)
#define PINCER_TOOL_GROUP_MAX_BYTES 64u
/* The largest result a tool may hand back (bytes, without the NUL). */
#define PINCER_TOOL_RESULT_MAX_BYTES (16u << 20)

/* A handle for one registration (tool or hook); 0 is never one. */
typedef uint64_t pincer_registration;

/* One call of a tool. Host-written (extension.h): read a field only when
 * struct_size covers it. Every pointer is owned by the host and valid only
 * during the invoke call; copy what you keep. Strings are UTF-8. */
typedef struct pincer_tool_call {
    /* sizeof(pincer_tool_call) as the host was compiled. */
    uint32_t struct_size;
    const char *session_key;
    const char *session_id;
    const char *run_id;
    /* The model's id for this call, unique within the run. */
    const char *tool_call_id;
    /* The full name, "<plugin-id>.<name>". */
    const char *tool_name;
    /* The arguments the model gave (after any before_tool_call patch): a
     * JSON object. Integers are exact, whatever their size. */
    const char *arguments_json;
    /* The directory the session works in (operator config engine.workspaceDir),
     * the same a hook event carries, so a tool and a policy plugin resolve a
     * relative path alike. Read it only when PINCER_STRUCT_HAS covers it. */
    const char *workspace_dir;
} pincer_tool_call;

/*
 * Runs a tool. [run-lane] Called on behalf of the session whose model made
 * the call: calls for one session never overlap, calls for different sessions
 * may. The tool may call host functions; wait() on an unfinished run of the
 * same session returns PINCER_ERR_WOULD_BLOCK (that run cannot go on until
 * the tool returns). *out_text is NULL when invoke is called. A long tool should poll host->run_stop_requested(host,
 * call->run_id, &stop) and return early once it is true: the run was
 * cancelled, timed out or the host is stopping, and whatever the tool returns
 * then is discarded — it never enters the transcript.
 *
 * `context` is the definition's context pointer, unchanged. On success return
 * PINCER_OK with *out_text set to the result the model reads; on failure
 * return any other code with *out_text set to an error message (or NULL). In
 * both cases *out_text must be NULL or memory from host->alloc holding UTF-8
 * text, NUL-terminated within the allocation: the host takes it and frees
 * it, and never reads past the size it allocated. A result that is not UTF-8,
 * not terminated, or over PINCER_TOOL_RESULT_MAX_BYTES reaches the model as
 * an error, never as text.
 */
typedef pincer_result (PINCER_ABI *pincer_tool_invoke)(void *context, const pincer_tool_call *call, char **out_text);

/* Called once when a registration's context is no longer needed (see
 * "Lifetime" above). [any-thread] */
typedef void (PINCER_ABI *pincer_release_fn)(void *context);

/* What register_tool copies. A request struct (extension.h); struct_size must
 * reach `invoke`. Owned by the plugin; needed only during the call. */
typedef struct pincer_tool_definition {
    /* sizeof(pincer_tool_definition) as the plugin was compiled. */
    uint32_t struct_size;
    /* Required. "<plugin-id>.<name>" (see "Names" above). */
    const char *name;
    /* Required. What the tool does, for the model. */
    const char *description;
    /* Optional (NULL = {"type":"object"}). JSON Schema of the arguments object. */
    const char *parameters_json;
    /* Optional (NULL). A group, "<plugin-id>.<name>" (named like a tool);
     * policies may say "group:<plugin-id>.<name>". */
    const char *group;
    /* Required. */
    pincer_tool_invoke invoke;
    /* Optional. Handed back to invoke and release as is. */
    void *context;
    /* Optional (NULL). @since 1.0-rc2. Called once, with context, after a
     * successful registration is withdrawn (unregister, the plugin stopping,
     * or its init failing) and its last call has returned. When
     * register_tool fails, it is not called: the context is still yours. */
    pincer_release_fn release;
} pincer_tool_definition;

PINCER_EXTERN_C_END

#endif /* PINCER_TOOLS_H */
