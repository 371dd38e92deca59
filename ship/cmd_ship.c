/* `pga ship [--loop] [--spool DIR] [--dest NAME]` */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "common/log.h"
#include "ship/dest.h"
#include "ship/ship.h"

static const char *const ship_help[] = {
	"usage: pga ship [--loop] [--spool DIR] [--dest NAME]",
	"",
	"Deliver sealed segments, oldest first, to every enabled [dest:NAME].",
	"A segment leaves the spool once every enabled destination confirmed it",
	"and spool-retain allows.",
	"",
	"  --loop        keep shipping (every ship-interval) until SIGTERM or SIGINT;",
	"                uploads in flight then get 10 s to finish.  SIGHUP reads the",
	"                configuration again once the uploads in flight are done",
	"  --spool DIR   the spool directory (default: spool-path)",
	"  --dest NAME   ship only to this destination",
	"",
	"Exit status: 0 everything delivered, 1 failure, 2 some destinations failed",
	"or ship-deadline stopped a one-shot run early.",
	NULL,
};

/* the usage, then the destination kinds from the scheme table */
static int
ship_usage(void)
{
	pga_cli_help(ship_help);
	printf("\n");
	dest_print_kinds(stdout);
	return PGA_EXIT_OK;
}

int
cmd_ship(int argc, char **argv, struct pga_ctx *ctx)
{
	static const struct option opts[] = {
		{"loop", no_argument, NULL, 'l'},
		{"spool", required_argument, NULL, 's'},
		{"dest", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ship_opts o = {0};
	struct pga_err err = {0};
	int c, status;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': o.loop = true; break;
		case 's': o.spool = optarg; break;
		case 'd': o.dest = optarg; break;
		case 'h': return ship_usage();
		default: return PGA_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return pga_cli_usage(ship_help, "unexpected argument '%s'", argv[optind]);
	pga_cli_catch_signals();
	if (o.loop)
		o.reload_ctx = ctx;
	status = ship_run(ctx->cfg, &o, &err);
	if (err.code != 0)
		log_error("%s", err.msg);
	return status;
}
