/*
 * pincer/result.h — the one result-code enum, used by every fallible call.
 *
 * Like SQLite's result codes: a call returns PINCER_OK or one of the codes
 * below; nothing aborts the process and nothing unwinds across the boundary.
 * After a call returned anything but PINCER_OK, host->last_error(host) on the
 * same thread gives a human-readable message naming the argument, setting or
 * value that caused it. Messages are kept per thread AND per plugin: one
 * plugin never reads another's.
 *
 * The codes travel as pincer_result (a fixed 32-bit integer); the enum only
 * names them. Readers must treat an unknown code as a failure: later minor
 * versions may add codes, and never change the meaning of one.
 *
 * @since 1.0
 */
#ifndef PINCER_RESULT_H
#define PINCER_RESULT_H

#include <stdint.h>

#include "platform.h"

PINCER_EXTERN_C_BEGIN

typedef int32_t pincer_result;

enum pincer_result_code {
    /* The call did what it says. Outputs are filled. */
    PINCER_OK = 0,
    /* An argument is NULL where it may not be, not valid UTF-8, over its
     * size limit, out of range, or a struct_size is below the struct's
     * minimum. The message names the argument. */
    PINCER_ERR_INVALID_ARGUMENT = 1,
    /* The host pointer is not one the host handed out, or its table's
     * host_data was changed. The call was ignored. */
    PINCER_ERR_BAD_HANDLE = 2,
    /* The plugin is stopping (for blocking calls) or dead (for every call),
     * or the host is shutting down and takes no new work: see the lifecycle
     * in host.h. */
    PINCER_ERR_SHUT_DOWN = 3,
    /* No session or run with that key or id exists for this caller. A
     * session another plugin owns, which the caller may not use, is
     * reported exactly like one that does not exist. */
    PINCER_ERR_NOT_FOUND = 4,
    /* The operator's config, the plugin's granted capabilities or a policy
     * does not allow this. The message names the setting that would. */
    PINCER_ERR_DENIED = 5,
    /* A bound refused the call: a guard (concurrent spawns, spawns per
     * minute), a queue or a per-plugin resource limit. The message names the
     * setting or limit. Retrying later may succeed. */
    PINCER_ERR_LIMIT = 6,
    /* A wait ran out of time. The thing waited for goes on. */
    PINCER_ERR_TIMEOUT = 7,
    /* The host ran into a failure of its own (out of memory, I/O). */
    PINCER_ERR_INTERNAL = 8,
    /* Well formed, but asks for something this host does not offer: an
     * unknown model, an unknown gateway method, a non-zero field past the
     * end of a struct as this host knows it (a newer header's option), or
     * text that cannot travel as a C string (it contains U+0000). */
    PINCER_ERR_UNSUPPORTED = 9,
    /* Returned BY a plugin's callback (a tool, init) to say it failed; the
     * host never returns it from a host function. A gate that fails makes
     * the call it gates fail with PINCER_ERR_DENIED and a reason saying the
     * gate failed. */
    PINCER_ERR_PLUGIN = 10,
    /* @since 1.0-rc2. A [blocking] call from inside a callback would wait for
     * work that cannot go on until that callback returns (a tool waiting on
     * an unfinished run of the session it serves, a before_tool_call gate
     * waiting on the run it gates, a gate waiting on the run whose tool call
     * spawned the session it gates). Nothing waited. */
    PINCER_ERR_WOULD_BLOCK = 11
};

PINCER_EXTERN_C_END

#endif /* PINCER_RESULT_H */
