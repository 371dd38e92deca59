/*
 * pga - PostgreSQL statistics collector that never loses a snapshot
 *
 * main.c holds the command table, parses every option from the option
 * table (common/options.h), resolves the configuration for the commands
 * that need one, and is the one place where the process exits.  Each
 * command lives in its own file in cmd/.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "common/options.h"

/* What a command needs before it runs (git's RUN_SETUP). */
#define RUN_SETUP 0x1		/* the configuration: pga.conf, environment */
#define SUBCOMMANDS 0x2		/* the next argument names a subcommand ("spool put") */

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, struct pga_ctx *ctx);
	unsigned flags;
};

/* Sorted by name; each one's options and usage are in common/options.c. */
static const struct command commands[] = {
	{"check", cmd_check, RUN_SETUP},
	{"collect", cmd_collect, RUN_SETUP},
	{"help", cmd_help, 0},
	{"load", cmd_load, RUN_SETUP},
	{"report", cmd_report, RUN_SETUP},
	{"restore", cmd_restore, RUN_SETUP},
	{"ship", cmd_ship, RUN_SETUP},
	{"spool", cmd_spool, RUN_SETUP | SUBCOMMANDS},
	{"status", cmd_status, RUN_SETUP},
	{"version", cmd_version, 0},
};

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

/* "unknown command 'colect'; did you mean 'collect'?", as git says it. */
static int
unknown_command(const char *name)
{
	const char *cands[sizeof(commands) / sizeof(commands[0])], *pick;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		cands[i] = commands[i].name;
	pick = pga_suggest(name, cands, sizeof(commands) / sizeof(commands[0]));
	if (pick != NULL)
		return pga_cli_usage(NULL, "unknown command '%s'; did you mean '%s'?", name, pick);
	return pga_cli_usage(NULL, "unknown command '%s' (see 'pga help')", name);
}

/*
 * The command's table entry from argv[*at] (and its subcommand, which
 * *at then points at); exits on a usage error or a group's --help.
 */
static const struct pga_cmd *
command_spec(const struct command *c, int argc, char **argv, int *at)
{
	char name[64];
	const struct pga_cmd *spec;

	if (!(c->flags & SUBCOMMANDS)) {
		spec = pga_cmd_find(c->name);
		if (spec == NULL)
			die(PGA_EXIT_FAIL, "error: command '%s' has no usage (a bug)", c->name);
		return spec;
	}
	if (*at + 1 < argc && (strcmp(argv[*at + 1], "-h") == 0 ||
			       strcmp(argv[*at + 1], "--help") == 0)) {
		cmd_usage_group(stdout, c->name);
		exit(PGA_EXIT_OK);
	}
	if (*at + 1 >= argc) {
		fprintf(stderr, "pga: %s needs a subcommand\n", c->name);
		cmd_usage_group(stderr, c->name);
		exit(PGA_EXIT_USAGE);
	}
	snprintf(name, sizeof(name), "%s %s", c->name, argv[*at + 1]);
	spec = pga_cmd_find(name);
	if (spec == NULL) {
		const char *cands[32], *pick;
		size_t n = 0, len = strlen(c->name);

		for (size_t i = 0; i < pga_ncmds && n < 32; i++)
			if (strncmp(pga_cmds[i].name, c->name, len) == 0 && pga_cmds[i].name[len] == ' ')
				cands[n++] = pga_cmds[i].name + len + 1;
		pick = pga_suggest(argv[*at + 1], cands, n);
		fprintf(stderr, "pga: unknown %s subcommand '%s'%s%s%s\n", c->name, argv[*at + 1],
			pick ? "; did you mean '" : "", pick ? pick : "", pick ? "'?" : "");
		cmd_usage_group(stderr, c->name);
		exit(PGA_EXIT_USAGE);
	}
	(*at)++;
	return spec;
}

/* The command's options and arguments; exits on a usage error or --help. */
static void
parse_command(const struct pga_cmd *spec, int argc, char **argv, struct pga_ctx *ctx,
	      int *first)
{
	struct pga_err err = {0};
	int rc = pga_opts_parse(spec->id, argc, argv, &ctx->argv, first, &err);
	int nargs = argc - *first;

	if (rc == 1) {
		cmd_usage(stdout, spec);
		exit(PGA_EXIT_OK);
	}
	if (rc < 0)
		exit(pga_cli_usage(spec, "%s", err.msg));
	if (spec->nargs == 0 && nargs > 0)
		exit(pga_cli_usage(spec, "unexpected argument '%s'", argv[*first]));
	if (spec->nargs > 0 && nargs != spec->nargs)
		exit(pga_cli_usage(spec, "'pga %s' takes %s %s", spec->name,
				   spec->nargs == 1 ? "exactly one" : "more", spec->args));
	if (pga_opts_check_required(spec, &ctx->argv, &err) < 0)
		exit(pga_cli_usage(spec, "%s", err.msg));
}

/* Configuration and logging, before the command runs: errors end here. */
static void
setup(const struct command *c, struct pga_ctx *ctx)
{
	struct pga_err err = {0};

	ctx->src = (struct pga_config_src){.path = pga_argv_get(&ctx->argv, "config"),
					   .no_file = !(c->flags & RUN_SETUP),
					   .cmd = ctx->cmd->id, .argv = &ctx->argv};
	if (pga_config_resolve(&ctx->src, &ctx->cfg, &err) < 0) {
		if (err.code == PGA_EINVAL)	/* the environment's or the command line's */
			exit(pga_cli_usage(ctx->cmd, "error: %s", err.msg));
		die(PGA_EXIT_FAIL, "error: %s", err.msg);
	}
	pga_cli_apply_log_level(ctx->cfg);
	cmd_setup(ctx->cfg);
}

int
main(int argc, char **argv)
{
	static struct pga_ctx ctx;
	const struct command *cmd;
	struct pga_err err = {0};
	int first, rc, status;

	rc = pga_opts_parse(PGA_CMD_GLOBAL, argc, argv, &ctx.argv, &first, &err);
	if (rc == 1 || rc == 2) {
		if (rc == 1)
			pga_usage_main(stdout);
		return rc == 1 ? PGA_EXIT_OK : cmd_version(0, NULL, NULL);
	}
	if (rc < 0)
		return pga_cli_usage(NULL, "%s", err.msg);
	if (first >= argc) {
		pga_usage_main(stderr);
		return PGA_EXIT_USAGE;
	}
	cmd = find_command(argv[first]);
	if (cmd == NULL)
		return unknown_command(argv[first]);
	ctx.cmd = command_spec(cmd, argc, argv, &first);
	argc -= first;
	argv += first;
	parse_command(ctx.cmd, argc, argv, &ctx, &first);
	signal(SIGPIPE, SIG_IGN);
	pga_cli_catch_hup();
	setup(cmd, &ctx);
	ctx.stdout_tty = isatty(STDOUT_FILENO);
	status = cmd->fn(argc - first, argv + first, &ctx);
	if (pga_reload_pending())
		log_info("received SIGHUP: 'pga %s' does not reload its configuration "
			 "(only --loop does); the next run reads it", ctx.cmd->name);
	pga_config_free(ctx.cfg);
	/* a full disk or closed pipe on stdout is a failure, not a truncation */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			die(PGA_EXIT_FAIL, "error: could not write to standard output: %s",
			    strerror(errno));
	}
	return status;
}
