/*
 * `pga check`: the "test connection" button, from two parts' reports: the
 * targets' (collect/check.c, check_targets) and the destinations'
 * (ship/ship_report.c, ship_check_destinations): reachability and
 * credentials of each.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "collect/collect.h"
#include "common/cli.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "ship/ship.h"

static int
check_dests(struct pga_ctx *ctx, struct jsonw *jw, int *failures, struct pga_err *err)
{
	int bad = 0, rc;

	if (jw != NULL)
		jsonw_key(jw, "destinations");
	else
		printf("\ndestinations\n");
	rc = ship_check_destinations(ctx, jw, stdout, &bad, err);
	*failures += bad;
	return rc;
}

int
cmd_check(int argc, char **argv, struct pga_ctx *ctx)
{
	const struct pga_args *a = &ctx->cfg->args;
	const char *const *only = a->target.n ? (const char *const *)a->target.v : NULL;
	struct pga_err err = {0};
	struct jsonw j;
	int failures = 0, rc;

	(void)argc;
	(void)argv;
	if (a->json) {
		jsonw_init(&j, stdout);
		jsonw_obj_open(&j);
	}
	rc = check_targets(ctx, only, a->target.n, a->json ? &j : NULL, &failures, &err);
	if (rc == 0 && only == NULL && ctx->cfg->ndests > 0)
		rc = check_dests(ctx, a->json ? &j : NULL, &failures, &err);
	if (a->json) {
		jsonw_key(&j, "ok");
		jsonw_bool(&j, rc == 0 && failures == 0);
		jsonw_obj_close(&j);
		jsonw_end(&j);
	}
	if (rc < 0)
		return pga_cli_error(&err);
	if (failures > 0)
		log_error("%d target%s or destination%s with problems", failures,
			  failures == 1 ? "" : "s", failures == 1 ? "" : "s");
	return failures > 0 ? PGA_EXIT_FAIL : PGA_EXIT_OK;
}
