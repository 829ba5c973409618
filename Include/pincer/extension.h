/*
 * pincer/extension.h — how the ABI grows without breaking a shipped plugin.
 *
 * ---- What "frozen" means (from the final 1.0 on) ---------------------------
 *
 *  1. No published field is ever moved, removed, retyped or given a new
 *     meaning; no enum value changes meaning; no function changes signature.
 *  2. A struct with a struct_size field may grow at its tail, and only there,
 *     under the struct-size rule below. That is how a later minor adds an
 *     option to an existing call (a new spawn option) or a value to an answer
 *     (a run's token usage).
 *  3. New FUNCTIONS arrive only as new tables behind versioned extension ids.
 *     The host table (pincer_host) and the plugin entry never gain functions.
 * The build enforces exactly this: Include/pincer/layout/abi-1.0.json
 * records every struct, and its check accepts fields appended to a sized
 * struct and nothing else; abidiff compares each build strictly with the
 * recorded baseline, which is re-recorded — deliberately, with the layout
 * description, in the commit that appends a tail — and never to pass a test.
 *
 * ---- The struct-size rule --------------------------------------------------
 *
 * Every struct that can grow starts with `uint32_t struct_size`.
 *
 *  - Requests (the plugin fills, the host reads: pincer_spawn_request,
 *    pincer_tool_definition, pincer_hook_definition, the descriptor and the
 *    entry). The plugin sets struct_size = sizeof the struct as it was
 *    compiled. If that is SMALLER than the host's, the host reads what is
 *    there and takes the documented default (zero, NULL) for every field
 *    past it. Each request struct names its minimum: "struct_size must reach
 *    <field>" — the last field the host cannot do without — else
 *    PINCER_ERR_INVALID_ARGUMENT. A field before that point may still be
 *    optional (NULL) by its own comment. A SMALLER size that ends inside a
 *    field (one no compiler gives: not a multiple of the struct's
 *    alignment) is PINCER_ERR_INVALID_ARGUMENT too: the host never reads
 *    half a pointer. If it is LARGER (the
 *    plugin was built against a newer minor), the host accepts it only when
 *    every byte past the end it knows is zero; otherwise the call fails with
 *    PINCER_ERR_UNSUPPORTED naming the offset of the first non-zero byte —
 *    fail closed: a newer plugin's option, a restriction perhaps, is never
 *    silently dropped by an older host. struct_size over
 *    PINCER_MAX_STRUCT_SIZE is PINCER_ERR_INVALID_ARGUMENT. So: zero the
 *    whole struct first (memset, `= {0}`, `{}`), padding included, then set
 *    fields; and set a field a later minor added only when
 *    host->abi_version.minor says the host has it. In C, name the fields
 *    you set (designated initializers, or one assignment each): a positional
 *    initializer draws -Wmissing-field-initializers (-Wextra) once a header
 *    you rebuild against adds a field, though the binary you built stays valid.
 *  - Results (the plugin provides, the host fills: pincer_spawn_result,
 *    pincer_run_ref, pincer_run_info, pincer_rate_limit_result). The plugin
 *    sets struct_size before the call; it must be at least the struct's 1.0
 *    minimum, PINCER_<STRUCT>_MIN_SIZE beside each result (the end of its
 *    1.0 fields: it never changes). The host writes min(struct_size, its
 *    own size) bytes and stores that number back into struct_size, so the
 *    plugin knows which fields hold answers.
 *  - Host-written structs (pincer_host, pincer_hook_event, pincer_tool_call,
 *    pincer_hook_decision). The host sets struct_size; the plugin reads a
 *    field only when struct_size covers it (PINCER_STRUCT_HAS below) and
 *    writes a field of the decision only when it is covered.
 *
 * The descriptor and the entry follow the request rule too, so a field a
 * later minor adds to them is one an older host must understand: purely
 * informational additions go through an extension id instead.
 *
 * ---- Extension ids ---------------------------------------------------------
 *
 * New capability arrives as a new table behind a versioned string id:
 *
 *     const pincer_acp_v1 *acp = host->get_extension(host, "pincer.acp/1");
 *     if (acp == NULL) { ... this host has no ACP support: degrade ... }
 *
 * The id is "<vendor>.<name>/<revision>"; the "pincer." vendor prefix is the
 * project's own. A changed table is a new revision ("pincer.acp/2"), and the
 * host keeps serving "/1" for the plugins compiled against it. The same rule
 * holds the other way: the host asks the plugin entry's get_extension for the
 * tables a plugin offers. Each id is introduced in its own header, which
 * names the minor version that added it. An id is matched exactly:
 * "pincer.acp/1x" or "pincer.acp" is unknown.
 *
 * @since 1.0
 */
#ifndef PINCER_EXTENSION_H
#define PINCER_EXTENSION_H

#include <stddef.h>

#include "platform.h"

/* The largest struct_size the host accepts in a request: a guard against a
 * garbage size making it read far past the struct. */
#define PINCER_MAX_STRUCT_SIZE 4096u

/* True when a host-written struct (or a result the host filled) covers
 * `field`: read the field only then. `ptr` points at the struct. */
#define PINCER_STRUCT_HAS(ptr, type, field) \
    ((size_t)(ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ABI 1.0 defines no host extensions. Later minors add theirs, each in its own
 * header: 1.1 "pincer.gateway/1" (gateway.h) and "pincer.runs/1" (runs.h);
 * 1.2 "pincer.acp/1" (acp.h). */

#endif /* PINCER_EXTENSION_H */
