/*
 * log.h - leveled logging to stderr
 *
 * One line per call: "2026-01-31 12:00:00.123 UTC pga[1234] LEVEL: message".
 * Thread-safe (each line is written with a single write(2)).  Where the
 * line goes and whether it carries our timestamp is pga_log_configure()'s:
 * a journal or syslog stamps lines itself, so there the timestamp is left
 * out and journald gets the level as a "<N>" syslog prefix.  Messages follow
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

enum pga_log_dest { PGA_LOG_TO_STDERR = 0, PGA_LOG_TO_SYSLOG };
/* Our timestamp: auto leaves it out where the receiver stamps lines. */
enum pga_log_stamp { PGA_LOG_STAMP_AUTO = 0, PGA_LOG_STAMP_ON, PGA_LOG_STAMP_OFF };

/*
 * Where lines go.  stderr: with auto, the timestamp is written when stderr
 * is a terminal or a regular file (a log a cron line appends to), not when
 * it is journald's stream ($JOURNAL_STREAM names stderr's device and inode)
 * or a pipe or socket (logger, a service manager); under journald each line
 * starts with its syslog priority "<3>" so `journalctl -p` filters by level.
 * syslog: syslog(3) with ident and facility (LOG_DAEMON, LOG_LOCAL0 ...),
 * LOG_PID; ident is copied.  Call again to change (SIGHUP reload).
 */
void pga_log_configure(enum pga_log_dest dest, enum pga_log_stamp stamp, int facility,
		       const char *ident);
/*
 * A command draws a progress line on stderr (a terminal) that ends in no
 * newline: while on, each log line first clears it ("\r\033[K") so the two
 * never run into one line; the command redraws it.
 */
void pga_log_progress(int on);
/* Whether lines carry our timestamp now (tests, `pga help`). */
int pga_log_stamped(void);

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
