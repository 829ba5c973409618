/*
 * pincer/result.h — the one result-code enum, used by every fallible call.
 *
 * Like SQLite's result codes: a call returns PINCER_OK or one of the codes
 * below; nothing aborts the process and nothing unwinds across the boundary.
 * After a call returned anything but PINCER_OK, host->last_error(host) on the
 * same thread gives a human-readable message naming the argument, setting or
 * value that caused it.
 *
 * The codes travel as pincer_result (a fixed 32-bit integer); the enum only
 * names them. Readers must treat an unknown code as a failure: later minor
 * versions may add codes, and never change the meaning of one.
 */
#ifndef PINCER_RESULT_H
#define PINCER_RESULT_H

#include <stdint.h>

typedef int32_t pincer_result;

enum pincer_result_code {
    /* The call did what it says. Outputs are filled. */
    PINCER_OK = 0,
    /* An argument is NULL where it may not be, not valid UTF-8, too long, out
     * of range, or a struct's struct_size is not the one this ABI defines.
     * The message names the argument. */
    PINCER_ERR_INVALID_ARGUMENT = 1,
    /* The host pointer is not one the host handed out, or its host_data was
     * modified. The call was ignored. */
    PINCER_ERR_BAD_HANDLE = 2,
    /* The plugin has been shut down (or its init failed); its host handle
     * answers nothing any more. */
    PINCER_ERR_SHUT_DOWN = 3,
    /* No session or run with that key or id exists (for this caller). */
    PINCER_ERR_NOT_FOUND = 4,
    /* The operator's config, the plugin's descriptor or a policy does not
     * allow this. The message names the setting that would allow it. */
    PINCER_ERR_DENIED = 5,
    /* A guard refused the call: too many concurrent spawns, too many spawns
     * per minute, too many plugins. Retrying later may succeed. */
    PINCER_ERR_LIMIT = 6,
    /* A wait ran out of time. The thing waited for goes on. */
    PINCER_ERR_TIMEOUT = 7,
    /* The host ran into a failure of its own (out of memory, I/O). */
    PINCER_ERR_INTERNAL = 8,
    /* The request is well formed but names something the host does not
     * offer: an unknown model, an unknown gateway method. */
    PINCER_ERR_UNSUPPORTED = 9,
    /* A plugin callback failed: returned an error or produced bad output. */
    PINCER_ERR_PLUGIN = 10
};

#endif /* PINCER_RESULT_H */
