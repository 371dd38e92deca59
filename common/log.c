#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum pga_log_level current_level = PGA_LOG_INFO;

static const char *const level_names[] = {
	"error", "warn", "info", "debug", "trace",
};

void
pga_log_set_level(enum pga_log_level level)
{
	current_level = level;
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
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - n, ".%03ld UTC pga[%ld] %s: ",
		      (long)(tv.tv_usec / 1000), (long)getpid(),
		      level_names[level]);
	errno = saved_errno;
	va_start(ap, fmt);
	if (n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* one write per line keeps lines from different threads whole */
	if (write(STDERR_FILENO, line, n) < 0)
		(void)0;
	errno = saved_errno;
}
