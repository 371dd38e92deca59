/*
 * `pga check`: the "test connection" button, from two parts' reports: the
 * targets' (collect/check.c, check_targets) and the destinations'
 * (ship/ship_status.c, ship_check_destinations): reachability and
 * credentials of each.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "collect/collect.h"
#include "common/cli.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "ship/ship.h"

#define MAX_ONLY 256

static const char *const check_help[] = {
	"usage: pga check [--json] [--target NAME]...",
	"",
	"Connect to every enabled target and report its version, identity, the",
	"monitoring privileges of the role, the databases pga would visit,",
	"pg_stat_statements, and every metric run once as a cycle would (output",
	"thrown away); then open every enabled destination and check that it is",
	"reachable and accepts the credentials (skipped with --target).",
	"Exit status: 0 nothing wrong, 1 something is (or the configuration is",
	"bad), 64 usage.",
	"",
	"  --json          one JSON object on stdout",
	"  --target NAME   only this target (repeatable)",
	NULL,
};

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
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"target", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *only[MAX_ONLY];
	struct pga_err err = {0};
	struct jsonw j;
	size_t nonly = 0;
	bool json = false;
	int c, failures = 0, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 't':
			if (nonly == MAX_ONLY)
				return pga_cli_usage(check_help, "too many --target options");
			only[nonly++] = optarg;
			break;
		case 'h': return pga_cli_help(check_help);
		default: return PGA_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return pga_cli_usage(check_help, "unexpected argument '%s'", argv[optind]);
	if (json) {
		jsonw_init(&j, stdout);
		jsonw_obj_open(&j);
	}
	rc = check_targets(ctx, nonly ? only : NULL, nonly, json ? &j : NULL, &failures, &err);
	if (rc == 0 && nonly == 0 && ctx->cfg->ndests > 0)
		rc = check_dests(ctx, json ? &j : NULL, &failures, &err);
	if (json) {
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
