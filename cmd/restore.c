/*
 * `pga restore`: rebuild a central database from an archive of segments
 *
 * The schema is created in the (fresh) database and every segment of the
 * source is replayed through the loader, optionally only up to --until (and
 * from --since): the same archive replayed with different windows gives
 * exactly the snapshots of each window.  A database whose ledger already
 * holds segments is refused: adding to one is `pga load`.
 *
 * Sources: a directory tree of segments (a spool, an unpacked archive, a
 * file:// destination), a tar from `pga spool pack`, or one segment file.
 * Bucket URLs (s3://, gs://, azure://, or dest:NAME) are read through the
 * shipper's destinations, one object at a time (spool/source.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/units.h"
#include "load/load.h"
#include "spool/source.h"

static int
resolve(struct load_run_opts *ro, struct pga_ctx *ctx, struct pga_err *err)
{
	const struct pga_args *args = &ctx->cfg->args;
	int rc;

	ro->from = args->from;
	ro->json = args->json;
	/* the source is opened deep in load_run() */
	if (args->no_manifest)
		seg_source_set_defaults(&(struct seg_source_opts){.no_manifest = true});
	rc = load_resolve_common(ro, ctx->cfg, args->since, args->until, err);
	if (rc < 0)
		return rc;
	ro->lo.init = true;
	ro->fresh = true;
	ro->progress = !ro->json && isatty(STDERR_FILENO);
	return 0;
}

int
cmd_restore(int argc, char **argv, struct pga_ctx *ctx)
{
	struct load_run_opts ro;
	struct pga_err err = {0};

	(void)argc;
	(void)argv;
	memset(&ro, 0, sizeof(ro));
	if (resolve(&ro, ctx, &err) < 0)
		return pga_cli_usage(ctx->cmd, "%s", err.msg);
	pga_cli_catch_signals();
	return load_run(&ro, stdout, NULL);
}
