/*
 * pincer/log.h — severities for host->log.
 */
#ifndef PINCER_LOG_H
#define PINCER_LOG_H

#include <stdint.h>

typedef int32_t pincer_log_level;
enum pincer_log_level_code {
    PINCER_LOG_DEBUG = 0,
    PINCER_LOG_INFO = 1,
    PINCER_LOG_WARN = 2,
    PINCER_LOG_ERROR = 3
};

#endif /* PINCER_LOG_H */
