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

/* Subcommand entry points, one file each. */
int cmd_check(int argc, char **argv, struct pga_ctx *ctx);
int cmd_collect(int argc, char **argv, struct pga_ctx *ctx);
int cmd_load(int argc, char **argv, struct pga_ctx *ctx);
int cmd_restore(int argc, char **argv, struct pga_ctx *ctx);
int cmd_ship(int argc, char **argv, struct pga_ctx *ctx);
int cmd_spool(int argc, char **argv, struct pga_ctx *ctx);
int cmd_status(int argc, char **argv, struct pga_ctx *ctx);

#endif
