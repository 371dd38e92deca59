/*
 * cli.h - what every subcommand gets from main() and shares with the others
 *
 * main.c parses the global options (-c FILE, --log-level), loads the
 * configuration once, and calls the subcommand's entry point with the
 * remaining arguments (argv[0] is the subcommand's name).  A subcommand
 * returns an exit status (PGA_EXIT_*), never calls exit() itself, and
 * reports errors with log_error() or pga_cli_error() before returning.
 */
#ifndef PGA_CLI_H
#define PGA_CLI_H

#include <stdbool.h>

#include "common/config.h"
#include "common/err.h"

struct pga_ctx {
	struct pga_config *cfg;		/* never NULL: defaults if no file */
	bool stdout_tty;
	int log_level_override;		/* --log-level or PGA_LOG_LEVEL, else -1 */
};

/* Print "pga: error: <msg>" to stderr; returns PGA_EXIT_FAIL. */
int pga_cli_error(const struct pga_err *err);
/* Print a usage error and the usage lines; returns PGA_EXIT_USAGE. */
int pga_cli_usage(const char *const *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print the usage lines to stdout; returns PGA_EXIT_OK. */
int pga_cli_help(const char *const *usage);

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
 * Read the configuration again from where it came from (the file it was
 * read from, or the $PGA_CONFIG / default lookup when there was none).
 * On success *out is a new configuration the caller owns; nothing is
 * applied yet.  On error err says why (file and line).
 */
int pga_cli_reload(const struct pga_ctx *ctx, struct pga_config **out,
		   struct pga_err *err);
/* Apply cfg's log-level, unless --log-level or PGA_LOG_LEVEL said otherwise. */
void pga_cli_apply_log_level(const struct pga_ctx *ctx, const struct pga_config *cfg);

/* Subcommand entry points, one file each. */
int cmd_check(int argc, char **argv, struct pga_ctx *ctx);
int cmd_collect(int argc, char **argv, struct pga_ctx *ctx);
int cmd_load(int argc, char **argv, struct pga_ctx *ctx);
int cmd_report(int argc, char **argv, struct pga_ctx *ctx);	/* cmd/report.c */
int cmd_restore(int argc, char **argv, struct pga_ctx *ctx);
int cmd_ship(int argc, char **argv, struct pga_ctx *ctx);
int cmd_spool(int argc, char **argv, struct pga_ctx *ctx);
int cmd_status(int argc, char **argv, struct pga_ctx *ctx);

#endif
