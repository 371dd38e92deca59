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
#include <getopt.h>
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

static const char *const restore_help[] = {
	"usage: pga restore --db CONNINFO --from SOURCE [--until T] [--since T]",
	"                   [--jobs N] [--schema NAME] [--json] [--no-manifest]",
	"",
	"  --db CONNINFO   a fresh central database (default: [global] central)",
	"  --from SOURCE   a directory of segments, a tar from 'pga spool pack',",
	"                  one segment file, a bucket URL (s3://bucket/prefix,",
	"                  gs://..., azure://account/container/prefix) or dest:NAME",
	"  --until T       only snapshots taken at or before T (ISO 8601 UTC or -2h)",
	"  --since T       only snapshots taken at or after T",
	"  --jobs N        loaders in parallel (default: load-jobs)",
	"  --schema NAME   schema of the central tables (default: central-schema)",
	"  --json          summary as JSON",
	"  --no-manifest   read an archive that has no MANIFEST.sha256 (never the default)",
	"",
	"Exit status: 0 restored, 2 some segments refused, 1 failure.",
	NULL,
};

struct restore_args {
	struct load_run_opts ro;
	const char *db, *since, *until;
	long jobs;
};

static int
parse_restore_args(int argc, char **argv, struct restore_args *a)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"from", required_argument, NULL, 'f'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"jobs", required_argument, NULL, 'j'},
		{"schema", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'J'},
		{"no-manifest", no_argument, NULL, 'M'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "hj:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': a->db = optarg; break;
		case 'f': a->ro.from = optarg; break;
		case 'S': a->since = optarg; break;
		case 'U': a->until = optarg; break;
		case 's': a->ro.lo.schema = optarg; break;
		case 'J': a->ro.json = true; break;
		case 'M':	/* the source is opened deep in load_run() */
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
	if (optind < argc)
		return pga_cli_usage(restore_help, "unexpected argument '%s'", argv[optind]);
	if (a->ro.from == NULL)
		return pga_cli_usage(restore_help, "restore needs --from");
	return 0;
}

static int
resolve(struct restore_args *a, struct pga_ctx *ctx, struct pga_err *err)
{
	struct load_opts *lo = &a->ro.lo;
	int rc = load_resolve_common(&a->ro, ctx->cfg, a->db, a->since, a->until, a->jobs, err);

	if (rc < 0)
		return rc;
	lo->init = true;
	a->ro.fresh = true;
	a->ro.progress = !a->ro.json && isatty(STDERR_FILENO);
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
	return load_run(&a.ro, stdout, NULL);
}
