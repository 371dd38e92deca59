#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

static enum pga_log_level current_level = PGA_LOG_INFO;
/* set once per configuration, before threads start logging */
static enum pga_log_dest log_dest = PGA_LOG_TO_STDERR;
static int log_stamp = 1;		/* our timestamp in front */
static int log_prio_prefix;		/* "<3>" in front: journald reads it */
static char log_ident[64] = "pga";
static atomic_int log_over_progress;	/* clear a progress line first */

#define PGA_SYSLOG_PATH "/dev/log"	/* glibc's _PATH_LOG */

static const int level_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG};

static const char *const level_names[] = {
	"error", "warn", "info", "debug", "trace",
};

void
pga_log_set_level(enum pga_log_level level)
{
	current_level = level;
}

/* $JOURNAL_STREAM is "DEV:INO" of the stream systemd connected to journald. */
static int
stderr_is_journal(const struct stat *st)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;

	return js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	       (unsigned long long)st->st_dev == dev && (unsigned long long)st->st_ino == ino;
}

void
pga_log_configure(enum pga_log_dest dest, enum pga_log_stamp stamp, int facility,
		  const char *ident)
{
	struct stat st;
	int journal = 0, stamped = 1, no_syslog;

	if (fstat(STDERR_FILENO, &st) == 0) {
		journal = stderr_is_journal(&st);
		stamped = !journal && (isatty(STDERR_FILENO) || S_ISREG(st.st_mode));
	}
	if (log_dest == PGA_LOG_TO_SYSLOG)
		closelog();
	/* no syslog daemon: its lines would vanish, so stderr keeps them */
	no_syslog = dest == PGA_LOG_TO_SYSLOG &&
		    (stat(PGA_SYSLOG_PATH, &st) != 0 || !S_ISSOCK(st.st_mode));
	if (no_syslog)
		dest = PGA_LOG_TO_STDERR;
	log_dest = dest;
	strlcpy(log_ident, ident != NULL && *ident ? ident : "pga", sizeof(log_ident));
	if (dest == PGA_LOG_TO_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	log_stamp = stamp == PGA_LOG_STAMP_ON || (stamp == PGA_LOG_STAMP_AUTO && stamped);
	log_prio_prefix = dest == PGA_LOG_TO_STDERR && journal;
	if (no_syslog)
		pga_log(PGA_LOG_WARN, "log-destination is syslog but '%s' is not a socket (no "
			"syslog daemon?): logging to stderr", PGA_SYSLOG_PATH);
}

void
pga_log_progress(int on)
{
	atomic_store(&log_over_progress, on);
}

int
pga_log_stamped(void)
{
	return log_dest == PGA_LOG_TO_STDERR && log_stamp;
}

void
pga_log_err(enum pga_log_level level, const struct pga_err *err)
{
	pga_log(level, "%s", err->msg);
	if (err->file != NULL && current_level >= PGA_LOG_DEBUG)
		pga_log(PGA_LOG_DEBUG, "raised at %s:%d", err->file, err->line);
}

void
pga_log(enum pga_log_level level, const char *fmt, ...)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	int saved_errno = errno;
	size_t n;
	va_list ap;

	if (level > current_level)
		return;
	n = 0;
	if (log_dest == PGA_LOG_TO_STDERR && atomic_load(&log_over_progress))
		n = strlcpy(line, "\r\033[K", sizeof(line));
	if (log_dest == PGA_LOG_TO_STDERR && log_prio_prefix)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "<%d>", level_prio[level]);
	if (log_dest == PGA_LOG_TO_STDERR && log_stamp) {
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		n += strftime(line + n, sizeof(line) - n, "%Y-%m-%d %H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ld UTC pga[%ld] ",
				      (long)(tv.tv_usec / 1000), (long)getpid());
	}
	if (log_dest == PGA_LOG_TO_STDERR)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s: ", level_names[level]);
	errno = saved_errno;
	va_start(ap, fmt);
	if (n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (log_dest == PGA_LOG_TO_SYSLOG) {
		/* syslog stamps, names us and keeps the level itself */
		syslog(level_prio[level], "%s", line);
		errno = saved_errno;
		return;
	}
	n = strlen(line);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* one write per line keeps lines from different threads whole */
	if (write(STDERR_FILENO, line, n) < 0)
		(void)0;
	errno = saved_errno;
}
