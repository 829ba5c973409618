/*
 * pincer/entry.h — what a plugin exports, who it says it is, what it asks for.
 *
 * A plugin is a shared object that exports exactly ONE of two symbols:
 *
 *     PINCER_EXPORT const pincer_plugin_entry pincer_plugin = { ... };   (C, C++, Rust)
 *     PINCER_EXPORT const pincer_plugin_entry *pincer_plugin_get(void);  (any language;
 *                                            the only way for Swift, which cannot
 *                                            export a data symbol)
 *
 * and hides every other symbol with the linker version script installed
 * beside this header (pincer-plugin.map), so two plugins never collide on a
 * helper's name: `nm -D --defined-only` lists no other global symbol (some
 * linkers, gold among them, keep local symbols in .dynsym; nothing can bind
 * to those). The map names both entries; lld wants --undefined-version to
 * accept it for a plugin that defines one. Both are
 * declared below with C linkage and default visibility, so a C++ definition
 * exports the right name; in C++ leave PINCER_EXPORT off the definition (g++
 * warns that visibility on a redeclaration is ignored), in C it is harmless.
 * pincer_plugin_get must return the same constant entry every time, and is
 * called once, on the loader thread.
 *
 * The host, for each .so in the plugin directory, in sorted order:
 *   1. dlopen(RTLD_NOW | RTLD_LOCAL); looks up pincer_plugin_get first, then
 *      pincer_plugin (a file with neither, but with the pre-release symbol
 *      `pincer_entry`, was built against 1.0-rc1 and is refused saying so);
 *   2. refuses the plugin unless entry->abi_version is compatible
 *      (version.h), before reading anything else;
 *   3. checks struct sizes (extension.h), the descriptor, the functions;
 *   4. applies the operator config (allow / deny, enabled, the file binding
 *      path / sha256, grants);
 *   5. calls init(); what init registered (tools, hooks) takes effect only
 *      when init succeeds; after every plugin's init, start() where present;
 *   6. at exit stops each plugin through the phases of host.h, in reverse
 *      load order.
 * A failure in any step refuses that plugin alone, with one line naming the
 * file and the reason. The host never dlclose()s a plugin: Swift and Rust
 * code cannot be unloaded safely, and the host does not know what a .so holds.
 *
 * The re-init rule: init() is called at most once per loaded image, and
 * shutdown() at most once, after it. A plugin never sees init again after
 * shutdown — the image stays mapped but dead; loading the same file again in
 * the same process is refused. A plugin need not support re-initialisation.
 *
 * @since 1.0
 */
#ifndef PINCER_ENTRY_H
#define PINCER_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "platform.h"
#include "result.h"
#include "version.h"

PINCER_EXTERN_C_BEGIN

/* The names of the two entry symbols, in the order the host looks them up. */
#define PINCER_ENTRY_FUNCTION_SYMBOL "pincer_plugin_get"
#define PINCER_ENTRY_DATA_SYMBOL "pincer_plugin"

typedef struct pincer_host pincer_host;

/*
 * Capabilities a plugin asks for in its descriptor. A host function that
 * needs a capability the plugin did not ask for, or that the operator did not
 * grant (plugins.entries.<id>.capabilities narrows the request), returns
 * PINCER_ERR_DENIED and names it. An id the host does not know is reported
 * at load (a warning line and a mark in `pincer plugins list`; a refusal
 * when the operator's config sets "strict": true) and otherwise ignored, so a
 * plugin built for a newer minor still loads.
 * get_extension, last_error, alloc, free, log, get_config, unregister and
 * run_stop_requested need no capability.
 */
#define PINCER_CAP_SESSIONS_SPAWN    "sessions.spawn"    /* spawn */
#define PINCER_CAP_SESSIONS_READ     "sessions.read"     /* wait, messages, get_session, is_streaming, get_metadata */
#define PINCER_CAP_SESSIONS_PROMPT   "sessions.prompt"   /* prompt, cancel_run */
#define PINCER_CAP_SESSIONS_STEER    "sessions.steer"    /* steer */
#define PINCER_CAP_SESSIONS_DELETE   "sessions.delete"   /* delete_session */
#define PINCER_CAP_SESSIONS_METADATA "sessions.metadata" /* set_metadata (the plugin's own namespace) */
#define PINCER_CAP_RATE_LIMIT        "rate_limit"        /* rate_limit_check, rate_limit_reset */
#define PINCER_CAP_HOST_READ         "host.read"         /* status, models, gateway_request */
#define PINCER_CAP_TOOLS_REGISTER    "tools.register"    /* register_tool */
#define PINCER_CAP_HOOKS_OBSERVE     "hooks.observe"     /* register_hook at an observer point */
#define PINCER_CAP_HOOKS_GATE        "hooks.gate"        /* register_hook at a gate point */

/* Limits on the descriptor. */
#define PINCER_PLUGIN_ID_MAX_BYTES 32u
#define PINCER_MAX_CAPABILITIES 64u

/*
 * Ids the host keeps for its own principals, separated by spaces. A plugin
 * whose descriptor claims one is refused: hook events, session owners and
 * metadata namespaces must never confuse a plugin with the host, the
 * operator or a gateway client.
 */
#define PINCER_RESERVED_IDS "operator pincer host system gateway admin anonymous"

/*
 * Who the plugin is. A request struct (extension.h); struct_size must reach
 * `version`. Owned by the plugin; every pointer must stay valid and
 * unchanged from the moment the .so is loaded until the process exits (static
 * storage is the intended use). All strings are NUL-terminated UTF-8.
 */
typedef struct pincer_plugin_descriptor {
    /* sizeof(pincer_plugin_descriptor) as the plugin was compiled. */
    uint32_t struct_size;
    /* Required. Unique among loaded plugins: 1 to PINCER_PLUGIN_ID_MAX_BYTES
     * characters matching [a-z][a-z0-9_-]*, and none of PINCER_RESERVED_IDS.
     * No '.': the id prefixes the plugin's tool names ("<id>.<name>") and
     * namespaces its rate-limit keys, metadata and gateway methods. */
    const char *id;
    /* Required. Human-readable name, at most 256 bytes. */
    const char *name;
    /* Required. The plugin's own version, e.g. "1.4.2"; at most 64 bytes. */
    const char *version;
    /* Optional (NULL). One sentence on what the plugin does; at most 4 KiB. */
    const char *description;
    /* Optional (NULL = none). NULL-terminated array of PINCER_CAP_* ids, at
     * most PINCER_MAX_CAPABILITIES, each at most 64 bytes. */
    const char *const *capabilities;
    /* Optional (NULL = not said). The language the plugin is written in, as
     * 1 to 16 characters of [a-z0-9+#_-]: "c", "c++", "swift", "rust", ...
     * PINCER_SOURCE_LANGUAGE below says "c" or "c++" from the compiler; the
     * Swift and Rust SDKs fill it in. Shown by `pincer plugins list`; the
     * host never acts on it. @since 1.0 */
    const char *language;
    /* Optional (NULL = none). The toolkit that built the entry, as
     * "<name>/<version>", at most 64 bytes of printable ASCII without spaces,
     * e.g. "PincerPluginKit/0.1.0". Shown by `pincer plugins list`. @since 1.0 */
    const char *sdk;
} pincer_plugin_descriptor;

/* "c" or "c++": the descriptor's `language` for a plugin written in either. */
#ifdef __cplusplus
#define PINCER_SOURCE_LANGUAGE "c++"
#else
#define PINCER_SOURCE_LANGUAGE "c"
#endif

/*
 * The exported entry. A request struct (extension.h) whose first field is the
 * ABI version the plugin was compiled against: the host reads nothing else
 * before checking it. struct_size must reach `shutdown`.
 */
typedef struct pincer_plugin_entry {
    /* PINCER_ABI_VERSION_INIT. */
    pincer_version abi_version;
    /* sizeof(pincer_plugin_entry) as the plugin was compiled. */
    uint32_t struct_size;
    /* Required. See pincer_plugin_descriptor for its lifetime. */
    const pincer_plugin_descriptor *descriptor;

    /* Required. [loader-thread] Called once, before any other function of
     * the plugin. `host` is the plugin's own handle: its identity, the only
     * one it may pass to host functions, valid until the plugin is dead.
     * `plugin_path` is the file the host loaded (borrowed for the call).
     * Keep init cheap: read config, register, allocate; no long work here.
     * On failure return a code other than PINCER_OK and write a reason into
     * `error` (NUL-terminated UTF-8, at most error_capacity bytes including
     * the NUL; the host owns the buffer). The host then refuses the plugin,
     * withdraws whatever it registered (calling their release callbacks),
     * prints the reason and never calls it again — not even shutdown(). */
    pincer_result (PINCER_ABI *init)(const pincer_host *host, const char *plugin_path, char *error,
                                     size_t error_capacity);

    /* Optional (NULL). [loader-thread] Called once after every plugin's init
     * succeeded and the engine accepts work: the place to begin background
     * work. Should return promptly; start a thread for anything long. Your
     * tools and hooks are live from the end of your init, so they may be
     * called before start() (by a later plugin's init, say). */
    void (PINCER_ABI *start)(const pincer_host *host);

    /* Required. [loader-thread] Called once, in the shutdown phase (host.h):
     * stop and join your own threads here. No callback of yours will start,
     * and none is running unless one overran the drain (the host logs it;
     * its registration is then never released). The handle still answers
     * non-blocking calls until this returns, PINCER_ERR_SHUT_DOWN after. */
    void (PINCER_ABI *shutdown)(const pincer_host *host);

    /* Optional (NULL). [any-thread] Returns the plugin's table for an
     * extension id ("vendor.name/N"), or NULL when it has none. `host` is
     * the plugin's own handle. The table is owned by the plugin and must stay
     * valid until the process exits. Never called before init() succeeded
     * nor once the plugin is stopping. */
    const void *(PINCER_ABI *get_extension)(const pincer_host *host, const char *id);
} pincer_plugin_entry;

/* The two entry symbols (export exactly one; see the top of this file). */
PINCER_EXPORT extern const pincer_plugin_entry pincer_plugin;
PINCER_EXPORT const pincer_plugin_entry *PINCER_ABI pincer_plugin_get(void);

PINCER_EXTERN_C_END

#endif /* PINCER_ENTRY_H */
