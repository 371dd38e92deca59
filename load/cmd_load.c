/* `pga load`: segments into the central database (see load/load.h) */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "common/units.h"
#include "load/load.h"
#include "spool/source.h"

static const char *const load_help[] = {
	"usage: pga load [--db CONNINFO] [--from SOURCE] [--since T] [--until T]",
	"                [--collector ID] [--dry-run] [--jobs N] [--retain DURATION]",
	"                [--deadline DUR] [--schema NAME] [--json] [--no-manifest]",
	"   or: pga load --loop [--interval DUR] [--passes N] [--from SOURCE] [--retain D]",
	"                [--deadline DUR] [--db CONNINFO] [--jobs N] [--schema NAME]",
	"   or: pga load --init [--db CONNINFO] [--schema NAME]",
	"   or: pga load --resolve-fork COLLECTOR:SEQ --keep SHA256-PREFIX [--db CONNINFO]",
	"                [--schema NAME]",
	"",
	"  --db CONNINFO     central database (default: [global] central); a password",
	"                    here is refused (argv is public): use ~/.pgpass or the config",
	"  --from SOURCE     a spool directory, a directory of segments, a tar from",
	"                    'pga spool pack', one segment file, a bucket URL",
	"                    (s3://, gs://, azure://) or dest:NAME (default: load-from,",
	"                    else the local spool)",
	"  --since T, --until T",
	"                    only snapshots taken in [T1, T2]: ISO 8601 UTC or -2h, -7d",
	"  --collector ID    only segments of this collector",
	"  --dry-run         verify and count what would load, write nothing",
	"  --jobs N          loaders in parallel, one connection each (default: load-jobs)",
	"  --retain D        then drop daily partitions older than D (e.g. 90d); with no",
	"                    --from and no local spool, only that (--loop: load-retain)",
	"  --deadline DUR    take no new segment after DUR, finish those in flight, exit 2",
	"                    (default: load-deadline)",
	"  --loop            a pass every --interval (default: load-interval) until",
	"                    SIGTERM/SIGINT; what the ledger holds is not read again; a",
	"                    failed pass is retried with backoff (load-retry-max-delay);",
	"                    SIGHUP reads the configuration again between passes",
	"  --passes N        with --loop: stop after N passes",
	"  --init            create or upgrade the central schema, then stop (or load --from)",
	"  --schema NAME     schema of the central tables (default: central-schema)",
	"  --json            summary as JSON",
	"  --no-manifest     read an archive that has no MANIFEST.sha256 (never the default)",
	"  --resolve-fork COLLECTOR:SEQ --keep PREFIX",
	"                    decide a fork 'pga status --central' shows: keep the version",
	"                    of that seq whose sha256 starts with PREFIX (8+ hex digits),",
	"                    unload the other branch (rows kept in held_rows), load the",
	"                    kept one and the held segments that then fit the chain",
	"",
	"Exit status: 0 all loaded (or already there), 2 something refused, held or",
	"dropped (segments, blocks, columns: see pga status --central), 1 failure",
	"(the load stopped: connection, permissions, read-only or full database).",
	NULL,
};

struct load_args {
	struct load_run_opts ro;
	const char *db, *since, *until, *retain, *fork, *keep, *deadline, *interval;
	bool init, loop;
	long jobs;
	long long passes;
	int64_t deadline_us, interval_us;
};

static int
parse_load_args(int argc, char **argv, struct load_args *a, struct pga_ctx *ctx)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"from", required_argument, NULL, 'f'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"collector", required_argument, NULL, 'c'},
		{"dry-run", no_argument, NULL, 'n'},
		{"jobs", required_argument, NULL, 'j'},
		{"retain", required_argument, NULL, 'r'},
		{"init", no_argument, NULL, 'i'},
		{"schema", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'J'},
		{"no-manifest", no_argument, NULL, 'M'},
		{"resolve-fork", required_argument, NULL, 'F'},
		{"keep", required_argument, NULL, 'K'},
		{"loop", no_argument, NULL, 'l'},
		{"interval", required_argument, NULL, 'I'},
		{"deadline", required_argument, NULL, 'D'},
		{"passes", required_argument, NULL, 'P'},
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
		case 'c': a->ro.lo.collector = optarg; break;
		case 'n': a->ro.lo.dry_run = true; break;
		case 'r': a->retain = optarg; break;
		case 'i': a->init = true; break;
		case 's': a->ro.lo.schema = optarg; break;
		case 'J': a->ro.json = true; break;
		case 'M':	/* the source is opened deep in load_run() */
			seg_source_set_defaults(&(struct seg_source_opts){.no_manifest = true});
			break;
		case 'F': a->fork = optarg; break;
		case 'K': a->keep = optarg; break;
		case 'l': a->loop = true; break;
		case 'I': a->interval = optarg; break;
		case 'D': a->deadline = optarg; break;
		case 'P':
			a->passes = strtoll(optarg, NULL, 10);
			if (a->passes < 1)
				return pga_cli_usage(load_help, "invalid --passes '%s'", optarg);
			break;
		case 'j':
			a->jobs = load_parse_jobs(optarg);
			if (a->jobs < 0)
				return pga_cli_usage(load_help, "invalid --jobs '%s' (1 to 64)", optarg);
			break;
		case 'h':
			pga_cli_help(load_help);
			return -1;
		default:
			return PGA_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return pga_cli_usage(load_help, "unexpected argument '%s'", argv[optind]);
	if ((a->fork == NULL) != (a->keep == NULL))
		return pga_cli_usage(load_help, "--resolve-fork and --keep go together");
	if (a->fork != NULL && (a->ro.from || a->init || a->retain || a->ro.lo.dry_run))
		return pga_cli_usage(load_help, "--resolve-fork is a command of its own");
	if (a->loop && (a->fork || a->init || a->ro.lo.dry_run || a->since || a->until))
		return pga_cli_usage(load_help, "--loop loads every snapshot, for good: not with"
				     " --resolve-fork, --init, --dry-run, --since or --until");
	if (!a->loop && (a->interval || a->passes))
		return pga_cli_usage(load_help, "--interval and --passes only go with --loop");
	if (a->keep != NULL && (strlen(a->keep) < 8 || strlen(a->keep) > 64 ||
				strspn(a->keep, "0123456789abcdefABCDEF") != strlen(a->keep)))
		return pga_cli_usage(load_help, "--keep wants 8 to 64 hex digits of a sha256, not '%s'",
				     a->keep);
	(void)ctx;
	return 0;
}

/* --since/--until/--retain and the configuration into the run options. */
static int
resolve_args(struct load_args *a, struct pga_ctx *ctx, struct pga_err *err)
{
	struct load_opts *lo = &a->ro.lo;
	int rc = load_resolve_common(&a->ro, ctx->cfg, a->db, a->since, a->until, a->jobs, err);

	if (rc < 0)
		return rc;
	if (a->retain && pga_parse_duration(a->retain, &a->ro.retain_us, err) < 0)
		return pga_err_prefix(err, "--retain");
	if (a->retain && a->ro.retain_us <= 0)
		return pga_fail(err, PGA_EINVAL, "--retain must be positive");
	if (a->deadline && (pga_parse_duration(a->deadline, &a->deadline_us, err) < 0 ||
			    a->deadline_us <= 0))
		return pga_fail(err, PGA_EINVAL, "invalid --deadline '%s'", a->deadline);
	if (a->interval && (pga_parse_duration(a->interval, &a->interval_us, err) < 0 ||
			    a->interval_us <= 0))
		return pga_fail(err, PGA_EINVAL, "invalid --interval '%s'", a->interval);
	if (lo->collector && !pga_name_valid(lo->collector))
		return pga_fail(err, PGA_EINVAL, "invalid collector id '%s'", lo->collector);
	return 0;
}

static int
init_only(struct load_args *a, struct pga_err *err)
{
	struct loader *l = NULL;
	int rc;

	a->ro.lo.init = true;
	rc = loader_open(&l, &a->ro.lo, err);
	loader_close(l);
	if (rc < 0)
		return pga_cli_error(err);
	printf("central schema '%s' is ready\n", a->ro.lo.schema ? a->ro.lo.schema : "pga");
	return PGA_EXIT_OK;
}

static int
retain_only(struct load_args *a, struct pga_err *err)
{
	struct loader *l = NULL;
	uint64_t dropped = 0, busy = 0;
	int rc = loader_open(&l, &a->ro.lo, err);

	if (rc == 0)
		rc = loader_retain(l, pga_now_us() - a->ro.retain_us, &dropped, &busy, err);
	loader_close(l);
	if (rc < 0)
		return pga_cli_error(err);
	printf("retention: %llu partitions dropped, %llu in use left for next time\n",
	       (unsigned long long)dropped, (unsigned long long)busy);
	return busy ? PGA_EXIT_PARTIAL : PGA_EXIT_OK;
}

/* COLLECTOR:SEQ, SEQ in decimal as pga status --central prints it. */
static int
parse_fork(const char *arg, char *collector, size_t cap, uint64_t *seq, struct pga_err *err)
{
	const char *colon = strrchr(arg, ':');
	char *end;

	if (colon == NULL || (size_t)(colon - arg) >= cap)
		return pga_fail(err, PGA_EINVAL, "--resolve-fork wants COLLECTOR:SEQ, not '%s'", arg);
	memcpy(collector, arg, (size_t)(colon - arg));
	collector[colon - arg] = '\0';
	errno = 0;
	*seq = strtoull(colon + 1, &end, 10);
	if (!pga_name_valid(collector) || colon[1] == '\0' || *end != '\0' || errno != 0 ||
	    *seq == 0)
		return pga_fail(err, PGA_EINVAL, "--resolve-fork wants COLLECTOR:SEQ, not '%s'", arg);
	return 0;
}

static int
resolve_fork(struct load_args *a, struct pga_err *err)
{
	struct loader *l = NULL;
	char collector[PGA_NAME_MAX + 1];
	uint64_t seq = 0;
	int rc = parse_fork(a->fork, collector, sizeof(collector), &seq, err);

	if (rc < 0)
		return pga_cli_usage(load_help, "%s", err->msg);
	rc = loader_open(&l, &a->ro.lo, err);
	if (rc == 0)
		rc = loader_resolve_fork(l, collector, seq, a->keep, stdout, err);
	loader_close(l);
	if (rc < 0)
		return pga_cli_error(err);
	return rc > 0 ? PGA_EXIT_PARTIAL : PGA_EXIT_OK;
}

static int
loop(struct load_args *a, struct pga_ctx *ctx, struct pga_err *err)
{
	struct load_loop_opts o = {.ro = a->ro, .passes = a->passes, .ctx = ctx,
				   .interval_us = a->interval_us, .deadline_us = a->deadline_us};

	o.set.db = a->db != NULL;
	o.set.schema = a->ro.lo.schema != NULL && a->ro.lo.schema != ctx->cfg->global.central_schema;
	o.set.jobs = a->jobs > 0;
	o.set.from = a->ro.from != NULL;
	o.set.interval = a->interval != NULL;
	o.set.deadline = a->deadline != NULL;
	o.set.retain = a->retain != NULL;
	if (load_loop_configure(&o, ctx->cfg, err) < 0)
		return pga_cli_error(err);
	pga_cli_catch_signals();
	log_info("loading from '%s' every %.3f s%s", o.ro.from, (double)o.interval_us / 1e6,
		 o.ro.retain_us > 0 ? ", with central retention" : "");
	return load_loop(&o, stdout);
}

int
cmd_load(int argc, char **argv, struct pga_ctx *ctx)
{
	struct load_args a;
	struct pga_err err = {0};
	struct stat st;
	int rc;

	memset(&a, 0, sizeof(a));
	rc = parse_load_args(argc, argv, &a, ctx);
	if (rc != 0)
		return rc < 0 ? PGA_EXIT_OK : rc;
	if (resolve_args(&a, ctx, &err) < 0)
		return err.code == PGA_EINVAL ? pga_cli_usage(load_help, "%s", err.msg)
					      : pga_cli_error(&err);
	if (a.fork != NULL)
		return resolve_fork(&a, &err);
	if (a.loop)
		return loop(&a, ctx, &err);
	if (a.init && a.ro.from == NULL)
		return init_only(&a, &err);
	a.ro.lo.init = a.init;
	if (!a.deadline)
		a.deadline_us = ctx->cfg->global.load_deadline;
	a.ro.deadline_us = a.deadline_us > 0 ? pga_mono_us() + a.deadline_us : 0;
	if (a.ro.from == NULL && ctx->cfg->global.load_from != NULL)
		a.ro.from = ctx->cfg->global.load_from;
	if (a.ro.from == NULL) {
		a.ro.from = ctx->cfg->global.spool_path;
		if (a.retain && stat(a.ro.from, &st) != 0)
			return retain_only(&a, &err);
	}
	a.ro.progress = !a.ro.json && isatty(STDERR_FILENO);
	pga_cli_catch_signals();
	return load_run(&a.ro, stdout, NULL);
}
