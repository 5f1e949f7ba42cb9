/*
 * JSON-line logging: one line per event on stderr with time, level, service and
 * request id, so the combined logs of all daemons can be read and parsed alike.
 */
#ifndef TRIPDESK_LOG_H
#define TRIPDESK_LOG_H

#include <stdarg.h>

typedef enum { TD_LOG_DEBUG = 0, TD_LOG_INFO, TD_LOG_WARN, TD_LOG_ERROR } td_log_level;

/* Sets the service name written on every line and the minimum level
 * (from TRIPDESK_LOG_LEVEL: debug|info|warn|error, default info). */
void td_log_init(const char *service);

/* Logs a formatted message; request_id may be NULL. */
void td_log(td_log_level level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define td_debug(...) td_log(TD_LOG_DEBUG, NULL, __VA_ARGS__)
#define td_info(...) td_log(TD_LOG_INFO, NULL, __VA_ARGS__)
#define td_warn(...) td_log(TD_LOG_WARN, NULL, __VA_ARGS__)
#define td_error(...) td_log(TD_LOG_ERROR, NULL, __VA_ARGS__)

#endif
