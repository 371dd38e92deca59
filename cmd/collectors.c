/*
 * `pga collectors add|list|revoke|remove`: the central registry of
 * collectors and their public keys (load.h, SCHEMA.md "Signatures and the
 * registry").  Under require-signature a segment loads only when signed by
 * a key registered here to its collector id and not revoked at its
 * creation time.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/cli.h"
#include "common/units.h"
#include "load/load.h"

int
cmd_collectors(int argc, char **argv, struct pga_ctx *ctx)
{
	const struct pga_config *cfg = ctx->cfg;
	const struct pga_args *a = &cfg->args;
	struct load_opts o = {.conninfo = cfg->global.central, .schema = cfg->global.central_schema,
			      .since = INT64_MIN, .until = INT64_MAX};
	struct pga_err err = {0};
	unsigned id = ctx->cmd->id;
	int64_t from = pga_now_us();
	int rc;

	if (o.conninfo == NULL || o.conninfo[0] == '\0')
		return pga_cli_usage(ctx->cmd, "no central database: give --db or set 'central' "
				     "in [global]");
	if (id == PGA_CMD_COLLECTORS_REVOKE && a->revoke_from != NULL &&
	    pga_parse_time(a->revoke_from, from, &from, &err) < 0)
		return pga_cli_usage(ctx->cmd, "--from: %s", err.msg);
	if (id == PGA_CMD_COLLECTORS_ADD)
		rc = load_registry_add(&o, argv[0], a->public_key, a->environment, a->group,
				       a->description, stdout, &err);
	else if (id == PGA_CMD_COLLECTORS_LIST)
		rc = load_registry_list(&o, a->json, stdout, &err);
	else
		rc = load_registry_change(&o, argv[0], id == PGA_CMD_COLLECTORS_REMOVE, from,
					  a->public_key, stdout, &err);
	(void)argc;
	return rc < 0 ? pga_cli_error(&err) : PGA_EXIT_OK;
}
