/*
 * pincer/tools.h — tools a plugin offers to sessions.
 *
 * A plugin registers a tool with host->register_tool (capability
 * "tools.register"). Sessions' models may then call it by name; the host runs
 * the session's tool policy first, where the call executes, so a denied call
 * never reaches the plugin. Names are unique across plugins: registering a
 * name another plugin (or the host) already has is refused, naming both.
 * A plugin's tools are withdrawn when it shuts down.
 */
#ifndef PINCER_TOOLS_H
#define PINCER_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"

/* One call of a tool. Every pointer is owned by the host and valid only
 * during the invoke call; copy what you keep. Strings are UTF-8. */
typedef struct pincer_tool_call {
    /* sizeof(pincer_tool_call) as the host was compiled. */
    uint32_t struct_size;
    const char *session_key;
    const char *session_id;
    const char *run_id;
    /* The model's id for this call, unique within the run. */
    const char *tool_call_id;
    const char *tool_name;
    /* The arguments the model gave: a JSON object. */
    const char *arguments_json;
} pincer_tool_call;

/*
 * Runs a tool. [run thread] Called on the worker thread of the session whose
 * model made the call; calls for different sessions may arrive concurrently.
 * The tool may call host functions, except wait() on a run of the same session.
 *
 * `context` is the definition's context pointer, unchanged. On success return
 * PINCER_OK with *out_text set to the result the model reads; on failure
 * return any other code with *out_text set to an error message (or NULL). In
 * both cases *out_text must be NULL or memory from host->alloc, holding
 * NUL-terminated UTF-8: the host takes it and frees it. A result that is not
 * UTF-8 reaches the model as an error, never as text.
 */
typedef pincer_result (*pincer_tool_invoke)(void *context, const pincer_tool_call *call, char **out_text);

/* What register_tool copies. Owned by the plugin; needed only during the call. */
typedef struct pincer_tool_definition {
    /* sizeof(pincer_tool_definition). */
    uint32_t struct_size;
    /* Required. 1 to 64 characters of [a-z0-9_.-], starting with a letter. */
    const char *name;
    /* Required. What the tool does, for the model. */
    const char *description;
    /* Optional (NULL = {"type":"object"}). JSON Schema of the arguments object. */
    const char *parameters_json;
    /* Optional (NULL). A group name; policies may say "group:<name>". */
    const char *group;
    /* Required. */
    pincer_tool_invoke invoke;
    /* Optional. Handed back to invoke as is; must stay valid until shutdown() returns. */
    void *context;
} pincer_tool_definition;

#endif /* PINCER_TOOLS_H */
