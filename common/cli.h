/*
 * cli.h - what every command gets from main() and shares with the others
 *
 * main.c parses pga's own options and the command's from the option table
 * (common/options.h), resolves the configuration (defaults, file,
 * environment, command line: common/config.h) unless the command needs
 * none, and calls the command's entry point (cmd/cmd.h) with its
 * positional arguments.  A command returns an exit status (PGA_EXIT_*),
 * never calls exit() itself, and reports errors with log_error() or
 * pga_cli_error() before returning; usage errors with pga_cli_usage().
 */
#ifndef PGA_CLI_H
#define PGA_CLI_H

#include <stdbool.h>

#include "common/config.h"
#include "common/err.h"
#include "common/options.h"

struct pga_ctx {
	const struct pga_cmd *cmd;	/* the command running ("spool put") */
	struct pga_config *cfg;		/* never NULL: defaults if no file */
	bool stdout_tty;
	struct pga_argv argv;		/* pga's and the command's options */
	struct pga_config_src src;	/* how cfg was made, for a reload */
};

/* Print "pga: error: <msg>" to stderr; returns PGA_EXIT_FAIL. */
int pga_cli_error(const struct pga_err *err);
/*
 * Print "pga: <msg>" and the usage of cmd (NULL: pga's own) to stderr;
 * returns PGA_EXIT_USAGE.
 */
int pga_cli_usage(const struct pga_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Install SIGINT/SIGTERM handlers that only set a flag (see pga_stop_requested). */
void pga_cli_catch_signals(void);
bool pga_stop_requested(void);

/*
 * SIGHUP asks a running pga to read its configuration again, as it asks
 * postgres and pgbouncer.  main() installs a handler for every command that
 * only sets a flag (SA_RESTART), so SIGHUP never ends a process.  The loops
 * (collect --loop, ship --loop) take the request at a safe point, between
 * cycles or passes, and apply a new configuration only when all of it is
 * valid; a one-shot command ignores it and main() logs that it did.
 */
void pga_cli_catch_hup(void);
/* A SIGHUP came since the last call; clears the request. */
bool pga_reload_take(void);
/* A SIGHUP came and nobody took it (main() logs it as ignored). */
bool pga_reload_pending(void);
/*
 * Read the configuration again from where it came from (-c, or the
 * $PGA_CONFIG / default lookup), with the same environment and command
 * line over it: what they set stays set.  On success *out is a new
 * configuration the caller owns; nothing is applied yet.  On error err
 * says why (file and line).
 */
int pga_cli_reload(const struct pga_ctx *ctx, struct pga_config **out,
		   struct pga_err *err);
/*
 * Sleep until the monotonic time until_us (pga_mono_us), in slices of
 * 100 ms, returning early once a stop or a reload has been requested: the
 * wait between a --loop's cycles or passes.
 */
void pga_cli_sleep_until(int64_t until_us);
/* Apply cfg's log-level, log-destination, log-timestamp, log-facility, log-ident. */
void pga_cli_apply_log_level(const struct pga_config *cfg);

#endif
