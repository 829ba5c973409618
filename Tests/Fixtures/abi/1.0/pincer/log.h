/*
 * pincer/log.h — severities for host->log, and what the host does to a line.
 *
 * One call is one line, attributed by the host: "[<plugin-id>] <message>"
 * (the standard sink adds the level before the message for levels other
 * than INFO: "[<plugin-id>] warn: <message>").
 * So that no plugin can forge a line in another's name or the host's, the
 * host escapes every control character in the message (line breaks, tabs,
 * terminal escape sequences, C1 controls) as a visible escape ("\n",
 * "\x1b", "\u{85}") instead of printing it. A message over PINCER_LOG_MAX_BYTES
 * is cut at the last whole UTF-8 character within the limit and marked "…";
 * the part within the limit must be valid UTF-8.
 *
 * @since 1.0
 */
#ifndef PINCER_LOG_H
#define PINCER_LOG_H

#include <stdint.h>

#include "platform.h"

PINCER_EXTERN_C_BEGIN

#define PINCER_LOG_MAX_BYTES (64u << 10)

typedef int32_t pincer_log_level;
enum pincer_log_level_code {
    PINCER_LOG_DEBUG = 0,
    PINCER_LOG_INFO = 1,
    PINCER_LOG_WARN = 2,
    PINCER_LOG_ERROR = 3
};

PINCER_EXTERN_C_END

#endif /* PINCER_LOG_H */
