/*
 * pincer/pincer.h — the Pincer plugin ABI, version 1.0. Include this one.
 *
 *   version.h    the ABI version and the compatibility rule
 *   result.h     the result codes every call returns
 *   entry.h      what a plugin exports (pincer_entry) and its descriptor
 *   host.h       the host table a plugin calls
 *   sessions.h   spawn / prompt / wait / steer values
 *   rate_limit.h the rate limiter's answer
 *   tools.h      tools a plugin offers to sessions
 *   hooks.h      hooks: gates and observers on sessions, tool calls, runs
 *   log.h        log severities
 *   extension.h  how the ABI grows: versioned extension ids
 *
 * A minimal plugin, built as a shared object and linked with the version
 * script pincer-plugin.map:
 *
 *   #include <pincer/pincer.h>
 *   static pincer_result init(const pincer_host *h, char *err, size_t cap) {
 *       (void)err; (void)cap;
 *       return h->log(h, PINCER_LOG_INFO, "hello");
 *   }
 *   static void shutdown(const pincer_host *h) { (void)h; }
 *   static const pincer_plugin_descriptor descriptor = {
 *       sizeof(pincer_plugin_descriptor), "hello", "Hello", "1.0.0", NULL, NULL };
 *   PINCER_EXPORT const pincer_plugin_entry pincer_entry = {
 *       PINCER_ABI_VERSION_INIT, sizeof(pincer_plugin_entry), &descriptor,
 *       init, NULL, shutdown, NULL };
 */
#ifndef PINCER_H
#define PINCER_H

#include "entry.h"
#include "extension.h"
#include "hooks.h"
#include "host.h"
#include "log.h"
#include "rate_limit.h"
#include "result.h"
#include "sessions.h"
#include "tools.h"
#include "version.h"

#endif /* PINCER_H */
