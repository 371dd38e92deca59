/*
 * pga - PostgreSQL statistics collector that never loses a snapshot
 *
 * main.c holds the command table, the global options and the one place
 * where the process exits.  Each subcommand lives in its own file.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/catalog.h"
#include "common/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "ship/ship.h"
#include "spool/spool.h"

#ifndef PGA_VERSION
#define PGA_VERSION "0.0.0"
#endif

static int cmd_help(int argc, char **argv, struct pga_ctx *ctx);
static int cmd_version(int argc, char **argv, struct pga_ctx *ctx);

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct pga_ctx *ctx);
	const char *summary;
};

/* Sorted by name. */
static const struct command commands[] = {
	{"check", cmd_check, "test connections to every target and destination"},
	{"collect", cmd_collect, "take a snapshot of every target into the spool"},
	{"help", cmd_help, "show help for a command, or the config keys"},
	{"load", cmd_load, "import segments into the central database"},
	{"report", cmd_report, "write an HTML report from the central database"},
	{"restore", cmd_restore, "rebuild a central database from a bucket or archive"},
	{"ship", cmd_ship, "deliver sealed segments to the destinations"},
	{"spool", cmd_spool, "inspect, verify, write and pack the local spool"},
	{"status", cmd_status, "show spool, shipping and central state"},
	{"version", cmd_version, "print the version"},
};

static const char *const main_usage[] = {
	"usage: pga [-c FILE] [--log-level LEVEL] <command> [<args>]",
	"",
	"  -c, --config FILE    configuration file (default $PGA_CONFIG or " PGA_DEFAULT_CONFIG ")",
	"  --log-level LEVEL    error, warn, info, debug or trace",
	"",
	"Run 'pga help <command>' for a command's options, 'pga help config' for the",
	"configuration keys, 'pga help metrics' for what is collected.",
	"Exit status: 0 ok, 1 failure, 2 partial success, 64 usage.",
	NULL,
};

static void
print_commands(FILE *out)
{
	for (const char *const *l = main_usage; *l; l++)
		fprintf(out, "%s\n", *l);
	fprintf(out, "\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

static __attribute__((noreturn, format(printf, 2, 3))) void
die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pga: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(status);
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
cmd_help(int argc, char **argv, struct pga_ctx *ctx)
{
	const struct command *c;
	char *sub[3];

	if (argc < 2 || strcmp(argv[1], "help") == 0) {
		print_commands(stdout);
		return PGA_EXIT_OK;
	}
	if (strcmp(argv[1], "config") == 0) {
		enum pga_config_doc kind = PGA_DOC_TEXT;

		if (argc > 2 && strcmp(argv[2], "--example") == 0)
			kind = PGA_DOC_EXAMPLE;
		else if (argc > 2 && strcmp(argv[2], "--man") == 0)
			kind = PGA_DOC_SCDOC;
		pga_config_print_doc(stdout, kind);
		return PGA_EXIT_OK;
	}
	if (strcmp(argv[1], "metrics") == 0) {
		catalog_print_doc(stdout);
		return PGA_EXIT_OK;
	}
	c = find_command(argv[1]);
	if (c == NULL)
		return pga_cli_usage(main_usage, "unknown command '%s'", argv[1]);
	sub[0] = argv[1];
	sub[1] = "--help";
	sub[2] = NULL;
	optind = 0;
	return c->fn(2, sub, ctx);
}

static int
cmd_version(int argc, char **argv, struct pga_ctx *ctx)
{
	(void)argc;
	(void)argv;
	(void)ctx;
	printf("pga %s\n", PGA_VERSION);
	return PGA_EXIT_OK;
}

/*
 * `pga spool put` of a catalog metric keeps the catalog's columns: spool/
 * knows no catalog, so it asks through this check (spool_set_metric_check).
 */
static int
catalog_metric_check(const char *metric, const char *const *cols, uint16_t ncols,
		     struct pga_err *err)
{
	const struct metric_def *m = catalog_find(metric);

	if (m == NULL)
		return 0;
	for (uint16_t i = 0; ncols == m->ncols && i < ncols; i++) {
		size_t j = 0;

		while (j < m->ncols && strcmp(cols[i], m->cols[j].name) != 0)
			j++;
		if (j == m->ncols)
			break;
		if (i + 1 == ncols)
			return 1;	/* put refuses a column named twice */
	}
	return pga_fail(err, PGA_EINVAL, "metric '%s' is pga's own: --columns must be its %zu"
			" columns ('pga help metrics' lists them); put other data under another"
			" name", metric, m->ncols);
}

/* Configuration and logging, before any command runs: errors end here. */
static void
setup(const char *config, const char *level, struct pga_ctx *ctx)
{
	struct pga_err err = {0};

	if (pga_config_load(config, &ctx->cfg, &err) < 0)
		die(PGA_EXIT_FAIL, "error: %s", err.msg);
	pga_log_set_level((enum pga_log_level)ctx->cfg->global.log_level);
	ship_register_url_source(ctx->cfg);
	spool_set_metric_check(catalog_metric_check);
	ctx->log_level_override = -1;
	if (level == NULL)
		level = getenv("PGA_LOG_LEVEL");
	if (level != NULL) {
		int l = pga_log_parse_level(level);

		if (l < 0)
			die(PGA_EXIT_USAGE, "error: unknown log level '%s'", level);
		ctx->log_level_override = l;
		pga_log_set_level((enum pga_log_level)l);
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"log-level", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct pga_ctx ctx = {0};
	const char *config = NULL, *level = NULL;
	const struct command *cmd;
	int c, status;

	/* '+' stops at the first non-option: the subcommand's own options follow */
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'L':
			level = optarg;
			break;
		case 'h':
			print_commands(stdout);
			return PGA_EXIT_OK;
		case 'V':
			return cmd_version(0, NULL, NULL);
		default:
			return PGA_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		print_commands(stderr);
		return PGA_EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (cmd == NULL)
		return pga_cli_usage(main_usage, "unknown command '%s'", argv[optind]);
	signal(SIGPIPE, SIG_IGN);
	pga_cli_catch_hup();
	setup(config, level, &ctx);
	ctx.stdout_tty = isatty(STDOUT_FILENO);
	argc -= optind;
	argv += optind;
	optind = 0;	/* the subcommand runs getopt afresh */
	status = cmd->fn(argc, argv, &ctx);
	if (pga_reload_pending())
		log_info("received SIGHUP: 'pga %s' does not reload its configuration "
			 "(only --loop does); the next run reads it", cmd->name);
	pga_config_free(ctx.cfg);
	/* a full disk or closed pipe on stdout is a failure, not a truncation */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			die(PGA_EXIT_FAIL, "error: could not write to standard output: %s",
			    strerror(errno));
	}
	return status;
}
