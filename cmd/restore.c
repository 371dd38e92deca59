/*
 * `pga restore`: rebuild a central database from an archive of segments,
 * the newest day first, resumable; or --verify-only, the DR drill.  The
 * work is restore/ (restore.h); this file is the command line.
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
#include "restore/restore.h"
#include "spool/source.h"

/* restore's own default: two days at once, one connection each */
#define RESTORE_JOBS_DEFAULT 2

static int
resolve(struct restore_opts *o, struct pga_ctx *ctx, struct pga_err *err)
{
	const struct pga_args *args = &ctx->cfg->args;
	struct load_run_opts ro;
	int rc;

	memset(&ro, 0, sizeof(ro));
	o->from = args->from;
	o->json = args->json;
	o->no_manifest = args->no_manifest;
	o->per_segment = args->segment_by_segment;
	o->order = args->order == 1 ? RESTORE_OLDEST_FIRST : RESTORE_NEWEST_FIRST;
	o->prefetch = args->prefetch;
	o->index_mem_kb = (long)(args->index_memory / 1024);
	o->index_workers = (int)args->index_workers;
	if (o->prefetch == 0 || args->index_memory < 1024)
		return pga_fail(err, PGA_EINVAL, "--prefetch and --index-memory must be positive");
	/* the sequential path opens its source deep in load_run() */
	if (args->no_manifest)
		seg_source_set_defaults(&(struct seg_source_opts){.no_manifest = true});
	if (args->verify_only) {
		if (pga_argv_get(&ctx->argv, "central") || args->since || args->until)
			return pga_fail(err, PGA_EINVAL, "--verify-only reads no database and every"
					" snapshot: --db, --since and --until do not go with it");
		return 0;
	}
	rc = load_resolve_common(&ro, ctx->cfg, args->since, args->until, err);
	if (rc < 0)
		return rc;
	o->lo = ro.lo;
	o->lo.init = true;
	o->jobs = pga_config_given(ctx->cfg, "load-jobs") ? ro.jobs : RESTORE_JOBS_DEFAULT;
	o->progress = !o->json && isatty(STDERR_FILENO);
	return 0;
}

int
cmd_restore(int argc, char **argv, struct pga_ctx *ctx)
{
	struct restore_opts o;
	struct pga_err err = {0};
	int rc;

	(void)argc;
	(void)argv;
	memset(&o, 0, sizeof(o));
	if (resolve(&o, ctx, &err) < 0)
		return pga_cli_usage(ctx->cmd, "%s", err.msg);
	if (cmd_decrypt_keys(ctx->cfg, &err) < 0)
		return pga_cli_error(&err);
	pga_cli_catch_signals();
	rc = ctx->cfg->args.verify_only ? restore_verify(&o, stdout) : restore_run(&o, stdout);
	cmd_decrypt_keys_release();
	return rc;
}
