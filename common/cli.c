#include "common/cli.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "common/log.h"
#include "common/units.h"

/* read from every thread: an atomic, not just a sig_atomic_t */
static _Atomic int stop_requested;
static _Atomic int reload_requested;

int
pga_cli_error(const struct pga_err *err)
{
	log_err(err);
	return PGA_EXIT_FAIL;
}

int
pga_cli_usage(const struct pga_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pga: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (cmd != NULL)
		pga_usage_print(stderr, cmd);
	else
		pga_usage_main(stderr);
	return PGA_EXIT_USAGE;
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

static void
on_hup(int sig)
{
	(void)sig;
	atomic_store(&reload_requested, 1);
}

void
pga_cli_catch_hup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	/* a reload request must not fail a read or write in progress */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
}

bool
pga_reload_take(void)
{
	return atomic_exchange(&reload_requested, 0) != 0;
}

bool
pga_reload_pending(void)
{
	return atomic_load(&reload_requested) != 0;
}

int
pga_cli_reload(const struct pga_ctx *ctx, struct pga_config **out, struct pga_err *err)
{
	return pga_config_resolve(&ctx->src, out, err);
}

#define CLI_SLEEP_SLICE_US 100000

void
pga_cli_sleep_until(int64_t until_us)
{
	while (!pga_stop_requested() && !pga_reload_pending()) {
		int64_t left = until_us - pga_mono_us();
		struct timespec ts;

		if (left <= 0)
			return;
		if (left > CLI_SLEEP_SLICE_US)
			left = CLI_SLEEP_SLICE_US;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000;
		nanosleep(&ts, NULL);
	}
}

void
pga_cli_apply_log_level(const struct pga_config *cfg)
{
	/* in the order of log-facility's choices (options.c) */
	static const int facilities[] = {LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL1,
					 LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5,
					 LOG_LOCAL6, LOG_LOCAL7};
	int f = cfg->global.log_facility;

	pga_log_configure((enum pga_log_dest)cfg->global.log_destination,
			  (enum pga_log_stamp)cfg->global.log_timestamp,
			  facilities[f >= 0 && f < 10 ? f : 0], cfg->global.log_ident);
	pga_log_set_level((enum pga_log_level)cfg->global.log_level);
}
