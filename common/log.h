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

enum pga_log_level {
	PGA_LOG_ERROR = 0,
	PGA_LOG_WARN,
	PGA_LOG_INFO,
	PGA_LOG_DEBUG,
	PGA_LOG_TRACE,
};

void pga_log_set_level(enum pga_log_level level);
enum pga_log_level pga_log_get_level(void);

/* Parse "error|warn|info|debug|trace"; returns -1 if unknown. */
int pga_log_parse_level(const char *name);

void pga_log(enum pga_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) pga_log(PGA_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) pga_log(PGA_LOG_WARN, __VA_ARGS__)
#define log_info(...) pga_log(PGA_LOG_INFO, __VA_ARGS__)
#define log_debug(...) pga_log(PGA_LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) pga_log(PGA_LOG_TRACE, __VA_ARGS__)

#endif
