/*
 * pincer/entry.h — what a plugin exports: one constant struct, `pincer_entry`.
 *
 * A plugin is a shared object that exports exactly one symbol:
 *
 *     PINCER_EXPORT const pincer_plugin_entry pincer_entry = { ... };
 *
 * and hides every other symbol with a linker version script (pincer-plugin.map,
 * installed beside this header: `global: pincer_entry; local: *;`), so two
 * plugins never collide on a helper's name and `nm -D --defined-only` lists
 * the entry alone.
 *
 * The host, for each .so in the plugin directory, in sorted order:
 *   1. dlopen(RTLD_NOW | RTLD_LOCAL); dlsym("pincer_entry");
 *   2. refuses the plugin unless entry->abi_version has the host's major
 *      number, before reading anything else;
 *   3. checks struct_size, the descriptor and the required functions;
 *   4. applies the operator config (allow / deny lists, enabled, grants);
 *   5. calls init(); after every plugin's init, calls start() where present;
 *   6. at exit calls shutdown() on every plugin whose init succeeded, in
 *      reverse load order.
 * A failure in any step refuses that plugin alone, with one line naming the
 * file and the reason. The host never dlclose()s a plugin: Swift and Rust
 * code cannot be unloaded safely, and the host does not know what a .so holds.
 */
#ifndef PINCER_ENTRY_H
#define PINCER_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"
#include "version.h"

#if defined(__GNUC__) || defined(__clang__)
#define PINCER_EXPORT __attribute__((visibility("default")))
#else
#define PINCER_EXPORT
#endif

/* The name of the one symbol a plugin exports. */
#define PINCER_ENTRY_SYMBOL "pincer_entry"

typedef struct pincer_host pincer_host;

/*
 * Capabilities a plugin asks for in its descriptor. A host function that
 * needs a capability the plugin did not ask for, or that the operator did not
 * grant, returns PINCER_ERR_DENIED and names the capability. An id the host
 * does not know is ignored (a newer plugin on an older host), never fatal.
 * log, last_error, free, alloc, get_config and get_extension need no capability.
 */
#define PINCER_CAP_SESSIONS_SPAWN   "sessions.spawn"   /* spawn */
#define PINCER_CAP_SESSIONS_CONTROL "sessions.control" /* prompt, wait, messages, get_session, delete_session */
#define PINCER_CAP_SESSIONS_STEER   "sessions.steer"   /* steer, is_streaming */
#define PINCER_CAP_RATE_LIMIT       "rate_limit"       /* rate_limit_check, rate_limit_reset */
#define PINCER_CAP_HOST_READ        "host.read"        /* status, models, gateway_request */
#define PINCER_CAP_TOOLS_REGISTER   "tools.register"   /* register_tool */
#define PINCER_CAP_HOOKS_REGISTER   "hooks.register"   /* register_hook */

/*
 * Who the plugin is. Owned by the plugin; every pointer must stay valid and
 * unchanged from the moment the .so is loaded until the process exits (static
 * storage is the intended use). All strings are NUL-terminated UTF-8.
 */
typedef struct pincer_plugin_descriptor {
    /* sizeof(pincer_plugin_descriptor) as the plugin was compiled. */
    uint32_t struct_size;
    /* Required. Unique among loaded plugins; 1 to 64 characters from
     * [a-z0-9._-], starting with a letter or digit. Namespaces the plugin's
     * rate-limit keys, metadata and gateway methods. */
    const char *id;
    /* Required. Human-readable name. */
    const char *name;
    /* Required. The plugin's own version, e.g. "1.4.2". */
    const char *version;
    /* Optional (NULL). One sentence on what the plugin does. */
    const char *description;
    /* Optional (NULL = none). NULL-terminated array of PINCER_CAP_* ids. */
    const char *const *capabilities;
} pincer_plugin_descriptor;

/*
 * The exported entry. Its first field is the ABI version the plugin was
 * compiled against; the host reads nothing else before checking it.
 */
typedef struct pincer_plugin_entry {
    /* PINCER_ABI_VERSION_INIT. */
    pincer_version abi_version;
    /* sizeof(pincer_plugin_entry) as the plugin was compiled. */
    uint32_t struct_size;
    /* Required. See pincer_plugin_descriptor for its lifetime. */
    const pincer_plugin_descriptor *descriptor;

    /* Required. [loader thread] Called once, before any other function of
     * the plugin. `host` is the plugin's own handle: valid until shutdown()
     * returns, and the only one it may pass to host functions. Keep init
     * cheap: read config, register, allocate; do no long work here.
     * On failure return a code other than PINCER_OK and write a reason into
     * `error` (NUL-terminated UTF-8, at most error_capacity bytes including
     * the NUL; the host owns the buffer). The host then refuses the plugin,
     * prints the reason and never calls it again — not even shutdown(). */
    pincer_result (*init)(const pincer_host *host, char *error, size_t error_capacity);

    /* Optional (NULL). [loader thread] Called once after every plugin's init
     * succeeded and the engine accepts work: the place to begin background
     * work. Should return promptly; start a thread for anything long. */
    void (*start)(const pincer_host *host);

    /* Required. [loader thread] Called once, last. Stop and join your own
     * threads here: the handle may be used until shutdown() returns, and
     * answers PINCER_ERR_SHUT_DOWN afterwards. */
    void (*shutdown)(const pincer_host *host);

    /* Optional (NULL). [thread-safe] Returns the plugin's table for an
     * extension id ("vendor.name/N"), or NULL when it has none. The table is
     * owned by the plugin and valid until shutdown() returns. Not called
     * before init(). */
    const void *(*get_extension)(const char *id);
} pincer_plugin_entry;

#endif /* PINCER_ENTRY_H */
