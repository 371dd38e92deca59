/*
 * `pga restore`: rebuild a central database from an archive of segments,
 * the newest day first, resumable; or --verify-only, the DR drill.  The
 * work is restore/ (restore.h); this file is the command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/log.h"
#include "common/units.h"
#include "load/load.h"
#include "restore/restore.h"
#include "spool/source.h"

static const char *const restore_help[] = {
	"usage: pga restore --db CONNINFO --from SOURCE [--until T] [--since T]",
	"                   [--order newest-first|oldest-first] [--jobs N] [--prefetch SIZE]",
	"                   [--index-memory SIZE] [--schema NAME] [--json] [--no-manifest]",
	"   or: pga restore --verify-only --from SOURCE [--json] [--no-manifest]",
	"",
	"  --db CONNINFO     the central database: a fresh one, or one an interrupted",
	"                    restore of the same source left (default: [global] central)",
	"  --from SOURCE     a directory of segments, a tar from 'pga spool pack',",
	"                    one segment file, a bucket URL (s3://bucket/prefix,",
	"                    gs://..., azure://account/container/prefix) or dest:NAME",
	"  --until T         only snapshots taken at or before T (ISO 8601 UTC or -2h)",
	"  --since T         only snapshots taken at or after T",
	"  --order O         newest-first (default: the last day of every collector is",
	"                    queryable first) or oldest-first",
	"  --jobs N          days loaded at once, one connection each (default 2)",
	"  --prefetch SIZE   segments downloaded ahead of the loaders, at most (default 1G)",
	"  --index-memory SIZE  maintenance_work_mem of the index builds (default 256M)",
	"  --segment-by-segment  load the way pga load does (no day transactions)",
	"  --schema NAME     schema of the central tables (default: central-schema)",
	"  --json            summary as JSON",
	"  --no-manifest     read an archive that has no MANIFEST.sha256 (never the default)",
	"  --verify-only     no database: verify every segment, the manifest, each",
	"                    collector's history; report per collector",
	"",
	"Run again with the same arguments, a restore continues where it stopped.",
	"Exit status: 0 restored (or the source is whole), 2 some segments refused,",
	"1 failure (or the source is not whole), 64 usage.",
	NULL,
};

struct restore_args {
	struct restore_opts o;
	struct load_run_opts ro;	/* what load_resolve_common() fills */
	const char *db, *since, *until;
	long jobs;
	bool verify_only;
};

static int
parse_size_arg(const char *what, const char *arg, uint64_t *out)
{
	struct pga_err err = {0};

	if (pga_parse_size(arg, out, &err) < 0 || *out == 0)
		return pga_cli_usage(restore_help, "invalid %s '%s'", what, arg);
	return 0;
}

static int
parse_order(const char *arg, enum restore_order *o)
{
	if (strcmp(arg, "newest-first") == 0)
		*o = RESTORE_NEWEST_FIRST;
	else if (strcmp(arg, "oldest-first") == 0)
		*o = RESTORE_OLDEST_FIRST;
	else
		return pga_cli_usage(restore_help, "--order is newest-first or oldest-first, not '%s'",
				     arg);
	return 0;
}

static int
parse_restore_args(int argc, char **argv, struct restore_args *a)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"from", required_argument, NULL, 'f'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"jobs", required_argument, NULL, 'j'},
		{"order", required_argument, NULL, 'o'},
		{"prefetch", required_argument, NULL, 'p'},
		{"index-memory", required_argument, NULL, 'm'},
		{"segment-by-segment", no_argument, NULL, 'g'},
		{"schema", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'J'},
		{"no-manifest", no_argument, NULL, 'M'},
		{"verify-only", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	uint64_t mem;
	int c, rc = 0;

	while (rc == 0 && (c = getopt_long(argc, argv, "hj:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->db = optarg; break;
		case 'f': a->o.from = optarg; break;
		case 'S': a->since = optarg; break;
		case 'U': a->until = optarg; break;
		case 's': a->ro.lo.schema = optarg; break;
		case 'J': a->o.json = true; break;
		case 'g': a->o.per_segment = true; break;
		case 'V': a->verify_only = true; break;
		case 'o': rc = parse_order(optarg, &a->o.order); break;
		case 'p': rc = parse_size_arg("--prefetch", optarg, &a->o.prefetch); break;
		case 'm':
			rc = parse_size_arg("--index-memory", optarg, &mem);
			a->o.index_mem_kb = (long)(mem / 1024);
			break;
		case 'M':	/* the sequential path opens its source deep in load_run() */
			a->o.no_manifest = true;
			seg_source_set_defaults(&(struct seg_source_opts){.no_manifest = true});
			break;
		case 'j':
			a->jobs = load_parse_jobs(optarg);
			if (a->jobs < 0)
				return pga_cli_usage(restore_help, "invalid --jobs '%s' (1 to 64)", optarg);
			break;
		case 'h':
			pga_cli_help(restore_help);
			return -1;
		default:
			return PGA_EXIT_USAGE;
		}
	}
	if (rc != 0)
		return rc;
	if (optind < argc)
		return pga_cli_usage(restore_help, "unexpected argument '%s'", argv[optind]);
	if (a->o.from == NULL)
		return pga_cli_usage(restore_help, "restore needs --from");
	return 0;
}

static int
resolve(struct restore_args *a, struct pga_ctx *ctx, struct pga_err *err)
{
	int rc;

	if (a->verify_only) {
		if (a->db != NULL || a->since != NULL || a->until != NULL)
			return pga_fail(err, PGA_EINVAL, "--verify-only reads no database and every"
					" snapshot: --db, --since and --until do not go with it");
		return 0;
	}
	rc = load_resolve_common(&a->ro, ctx->cfg, a->db, a->since, a->until, a->jobs, err);
	if (rc < 0)
		return rc;
	a->o.lo = a->ro.lo;
	a->o.lo.init = true;
	a->o.jobs = a->jobs > 0 ? (int)a->jobs : 2;
	if (a->o.prefetch == 0)
		a->o.prefetch = 1ull << 30;
	if (a->o.index_mem_kb == 0)
		a->o.index_mem_kb = 256 * 1024;
	a->o.progress = !a->o.json && isatty(STDERR_FILENO);
	return 0;
}

int
cmd_restore(int argc, char **argv, struct pga_ctx *ctx)
{
	struct restore_args a;
	struct pga_err err = {0};
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_restore_args(argc, argv, &a);
	if (rc != 0)
		return rc < 0 ? PGA_EXIT_OK : rc;
	if (resolve(&a, ctx, &err) < 0)
		return pga_cli_usage(restore_help, "%s", err.msg);
	pga_cli_catch_signals();
	if (a.verify_only)
		return restore_verify(&a.o, stdout);
	return restore_run(&a.o, stdout);
}
