/*
 * pincer/pincer.h — the Pincer plugin ABI, version 1.0-rc2. Include this one.
 *
 *   version.h    the ABI version, the compatibility rule, the release state
 *   result.h     the result codes every call returns
 *   entry.h      what a plugin exports, its descriptor, capabilities, ids
 *   host.h       the host table a plugin calls, and the plugin's lifecycle
 *   sessions.h   spawn / prompt / wait / steer values and their limits
 *   rate_limit.h the rate limiter's answer and its memory bound
 *   tools.h      tools a plugin offers to sessions
 *   hooks.h      hooks: gates and observers on sessions, tool calls, runs
 *   log.h        log severities and what the host does to a line
 *   extension.h  how the ABI grows: the struct-size rule, extension ids
 *   gateway.h    (1.1) a plugin's JSON-RPC methods and HTTP routes on the gateway
 *   runs.h       (1.1) following a run: its events and its end, pushed to the plugin
 *   acp.h        (1.2) sessions on external coding agents (Agent Client Protocol)
 *   CHANGES      what changed between releases, and why
 *
 * A minimal plugin (C; C++ is the same, the headers are extern "C"), built as
 * a shared object and linked with the version script pincer-plugin.map:
 *
 *   #include <pincer/pincer.h>
 *   static pincer_result init(const pincer_host *h, const char *path, char *err, size_t cap) {
 *       (void)path; (void)err; (void)cap;
 *       return h->log(h, PINCER_LOG_INFO, "hello");
 *   }
 *   static void stop(const pincer_host *h) { (void)h; }
 *   static const pincer_plugin_descriptor descriptor = {
 *       .struct_size = sizeof(pincer_plugin_descriptor),
 *       .id = "hello", .name = "Hello", .version = "1.0.0",
 *       .language = PINCER_SOURCE_LANGUAGE };
 *   PINCER_EXPORT const pincer_plugin_entry pincer_plugin = {
 *       .abi_version = PINCER_ABI_VERSION_INIT, .struct_size = sizeof(pincer_plugin_entry),
 *       .descriptor = &descriptor, .init = init, .shutdown = stop };
 *
 * ---- Threads: the one vocabulary every header uses -------------------------
 *
 *   [any-thread]     The plugin may call it from any thread, concurrently.
 *   [loader-thread]  The host calls it on the thread that loads plugins, never
 *                    concurrently with another lifecycle call of any plugin.
 *   [gate-lane]      The host calls it on the plugin's gate lane: one call at
 *                    a time, in order, never overlapping another gate call of
 *                    the same plugin (except the nesting hooks.h allows). A
 *                    lane is a promise of order and non-concurrency, not of an
 *                    OS thread: consecutive calls may come on different threads.
 *   [observer-lane]  The same, on the plugin's observer lane. The two lanes
 *                    are independent: a gate call may overlap an observer call.
 *   [run-lane]       The host calls it for one session's run: calls for one
 *                    session never overlap; calls for different sessions may.
 *   [gateway-thread] (1.1) The host calls it on a thread kept for gateway
 *                    requests, never a server's event loop; calls may overlap.
 *   [events-lane]    (1.1) The same as a lane, on the plugin's third lane, for
 *                    the runs it follows (runs.h); independent of the other two.
 *   [blocking]       May block the calling thread. From a callback the host
 *                    made into the plugin it returns PINCER_ERR_WOULD_BLOCK at
 *                    once when what it would wait for cannot progress until
 *                    that callback returns.
 *
 * Host calls made from inside a callback: make them on the thread the
 * callback was entered on. That is how the host knows they are nested (a gate
 * met again from its own spawn runs at once; a wait on the run the callback
 * serves is refused at once). The same call handed to another thread and
 * waited for is an unrelated call: it waits for the callback like anyone else,
 * and a nested gate then reaches its deadline and blocks. Code that may
 * resume elsewhere (a Swift `await`, a Rust future) makes such calls before
 * it suspends, or synchronously: the SDKs offer blocking forms for use
 * inside callbacks.
 *
 * Callbacks never unwind: init, start, shutdown, get_extension, tools, hooks
 * and release callbacks must return normally (a C++ exception or a Rust panic
 * crossing the boundary is undefined behaviour: catch it and return a code).
 *
 * ---- Types -----------------------------------------------------------------
 *
 * The layout is LP64 (Linux on x86_64 and aarch64): size_t and pointers are
 * 8 bytes. bool is C's _Bool, one byte. Enums travel as fixed-width integers
 * (pincer_result, pincer_run_status, … are int32_t); the enum types only name
 * the values.
 *
 * ---- Strings ---------------------------------------------------------------
 *
 * Every string is NUL-terminated UTF-8, both ways. U+0000 therefore cannot
 * travel in a string: text the host holds that contains it (a model's output,
 * say) is refused with PINCER_ERR_UNSUPPORTED rather than cut at the NUL;
 * JSON outputs escape it as \u0000 and carry it intact.
 *
 * ---- Outputs after an error ------------------------------------------------
 *
 * A call that does not return PINCER_OK writes no output, with two rules that
 * hold everywhere: a `char **out` is set to NULL on entry (so it is always
 * safe to pass to host->free), and wait() on PINCER_ERR_TIMEOUT fills its
 * result with the run's current status. Result structs report how much the
 * host wrote in their struct_size (extension.h).
 *
 * ---- The trust model (read this) -------------------------------------------
 *
 * A plugin is native code in the host's process. It shares the host's memory
 * and can read or write anything there, call any function, or end the
 * process. Nothing in this ABI can prevent a hostile plugin from doing so.
 * What the host does enforce is against mistakes and accidents:
 *  - each plugin gets its own handle; every call checks it: a pointer the
 *    host did not hand out (a copy of the table, say) or a table whose
 *    host_data was changed gets PINCER_ERR_BAD_HANDLE, a dead plugin's handle
 *    PINCER_ERR_SHUT_DOWN; each table lives in a page of its own at a random
 *    address (no fixed offset leads from one plugin's table to another's);
 *  - capabilities, session ownership, tool policies, rate-limit namespaces
 *    and every size limit are checked on every call, and bad input (NULL,
 *    invalid UTF-8, absurd sizes, wrapped counts) gets a code, never a crash;
 *  - the operator may bind a config entry to a file (path and/or SHA-256),
 *    so another .so claiming the same id does not inherit its grants.
 * Loading runs the plugin's code before the operator's config is applied to
 * it: dlopen runs its constructors and the host calls pincer_plugin_get to
 * learn its id. A denied or disabled plugin is never initialised, but its
 * file has run. Load only plugins you would link into the host yourself. Running untrusted
 * plugins needs real isolation (a separate process behind this same ABI): a
 * later, separate mode, not this one.
 */
#ifndef PINCER_H
#define PINCER_H

#include "entry.h"
#include "extension.h"
#include "gateway.h"
#include "hooks.h"
#include "host.h"
#include "log.h"
#include "rate_limit.h"
#include "result.h"
#include "runs.h"
#include "sessions.h"
#include "tools.h"
#include "version.h"
/* The 1.2 extension, after the 1.0 headers its declarations use. */
#include "acp.h"

#endif /* PINCER_H */
