/*
 * log.h - leveled logging to stderr
 *
 * One line per call: "2026-01-31 12:00:00.123 UTC pga[1234] LEVEL: message".
 * Thread-safe (each line is written with a single write(2)).  Messages follow
 * the error style (lowercase, quoted subjects) and must never contain secrets:
 * pass conninfo strings through pga_conninfo_redact() first.
 */
#ifndef PGA_LOG_H
#define PGA_LOG_H

#include "common/err.h"

enum pga_log_level {
	PGA_LOG_ERROR = 0,
	PGA_LOG_WARN,
	PGA_LOG_INFO,
	PGA_LOG_DEBUG,
	PGA_LOG_TRACE,
};

void pga_log_set_level(enum pga_log_level level);

void pga_log(enum pga_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * An error's message at level; at debug level a second line says where
 * pga_fail() recorded it ("raised at spool/spool.c:123"), for whoever
 * reads the log with the source at hand.
 */
void pga_log_err(enum pga_log_level level, const struct pga_err *err);

#define log_error(...) pga_log(PGA_LOG_ERROR, __VA_ARGS__)
#define log_err(err) pga_log_err(PGA_LOG_ERROR, (err))
#define log_warn(...) pga_log(PGA_LOG_WARN, __VA_ARGS__)
#define log_info(...) pga_log(PGA_LOG_INFO, __VA_ARGS__)
#define log_debug(...) pga_log(PGA_LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) pga_log(PGA_LOG_TRACE, __VA_ARGS__)

#endif
