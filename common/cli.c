#include "common/cli.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

/* read from every thread: an atomic, not just a sig_atomic_t */
static _Atomic int stop_requested;

int
pga_cli_error(const struct pga_err *err)
{
	log_error("%s", err->msg);
	return PGA_EXIT_FAIL;
}

int
pga_cli_usage(const char *const *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pga: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	for (const char *const *l = usage; l && *l; l++)
		fprintf(stderr, "%s\n", *l);
	return PGA_EXIT_USAGE;
}

int
pga_cli_help(const char *const *usage)
{
	for (const char *const *l = usage; *l; l++)
		printf("%s\n", *l);
	return PGA_EXIT_OK;
}

static void
on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_requested, 1);
}

void
pga_cli_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool
pga_stop_requested(void)
{
	return atomic_load(&stop_requested) != 0;
}
