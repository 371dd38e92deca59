/* `pga ship [--loop] [--dest NAME] [--spool DIR]`: the shipping engine (ship/ship.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/health.h"
#include "common/cli.h"
#include "common/log.h"
#include "ship/ship.h"

/* After each destination's pass: the prometheus-file, if configured. */
static void
after_pass(const struct pga_config *cfg, void *arg)
{
	(void)arg;
	health_write_configured(cfg, NULL);
}

int
cmd_ship(int argc, char **argv, struct pga_ctx *ctx)
{
	struct ship_opts o = {.dest = ctx->cfg->args.dest, .loop = ctx->cfg->args.loop,
			      .after_pass = after_pass,
			      /* a terminal, as load's; a loop's log would tear it */
			      .progress = !ctx->cfg->args.loop && isatty(STDERR_FILENO)};
	struct pga_err err = {0};
	int status;

	(void)argc;
	(void)argv;
	pga_cli_catch_signals();
	if (o.loop)
		o.reload_ctx = ctx;
	status = ship_run(ctx->cfg, &o, &err);
	if (err.code != 0)
		log_err(&err);
	return status;
}
