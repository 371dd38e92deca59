/* `pga collect`: one cycle (cron, systemd timer) or --loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect/collect.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/units.h"
#include "spool/spool.h"

#define MAX_ONLY 256

static const char *const collect_help[] = {
	"usage: pga collect [--loop [--interval DUR] [--cycles N]] [--spool DIR]",
	"                   [--target NAME]... [--workers N]",
	"",
	"Take one snapshot of every enabled target into the spool and exit, or with",
	"--loop keep the connections open and take one every interval.",
	"",
	"  --loop           run cycles until SIGTERM/SIGINT, then seal and exit 0",
	"  --interval DUR   time between cycle starts in --loop (default: interval)",
	"  --cycles N       with --loop: stop after N cycles",
	"  --spool DIR      spool directory (default: spool-path)",
	"  --target NAME    only this target (repeatable; also disabled ones)",
	"  --workers N      parallel connections (default: workers, or 4 per core)",
	"",
	"A cycle summary goes to stderr.  Exit status (one cycle): 0 every target",
	"collected, 2 some targets or metrics failed, 1 nothing collected or the",
	"spool failed, 64 usage.",
	NULL,
};

struct collect_args {
	bool loop;
	int64_t interval;
	long long cycles;
	const char *spool;
	const char *only[MAX_ONLY];
	size_t nonly;
	int workers;
};

static int
parse_count(const char *s, long long min, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return (*s == '\0' || *end != '\0' || errno != 0 || *out < min || *out > max) ? -1 : 0;
}

static int
parse_args(int argc, char **argv, struct collect_args *a, struct pga_ctx *ctx)
{
	static const struct option opts[] = {
		{"loop", no_argument, NULL, 'l'},
		{"interval", required_argument, NULL, 'i'},
		{"cycles", required_argument, NULL, 'n'},
		{"spool", required_argument, NULL, 's'},
		{"target", required_argument, NULL, 't'},
		{"workers", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct pga_err err = {0};
	long long n;
	int c;

	memset(a, 0, sizeof(*a));
	a->interval = ctx->cfg->global.interval;
	a->spool = ctx->cfg->global.spool_path;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': a->loop = true; break;
		case 's': a->spool = optarg; break;
		case 'i':
			if (pga_parse_duration(optarg, &a->interval, &err) < 0 || a->interval <= 0)
				return pga_cli_usage(collect_help, "invalid --interval '%s'", optarg);
			break;
		case 'n':
			if (parse_count(optarg, 1, 1LL << 40, &a->cycles) < 0)
				return pga_cli_usage(collect_help, "invalid --cycles '%s'", optarg);
			break;
		case 'w':
			if (parse_count(optarg, 1, 256, &n) < 0)
				return pga_cli_usage(collect_help, "--workers must be 1 to 256, not '%s'",
						     optarg);
			a->workers = (int)n;
			break;
		case 't':
			if (a->nonly == MAX_ONLY)
				return pga_cli_usage(collect_help, "too many --target options");
			a->only[a->nonly++] = optarg;
			break;
		case 'h':
			pga_cli_help(collect_help);
			return -1;
		default:
			return PGA_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return pga_cli_usage(collect_help, "unexpected argument '%s'", argv[optind]);
	if (a->loop && a->interval <= 0)
		return pga_cli_usage(collect_help, "--loop needs an interval above zero");
	if (!a->loop && a->cycles > 0)
		return pga_cli_usage(collect_help, "--cycles only goes with --loop");
	return 0;
}

static void
summary(uint64_t cycle, const struct collect_stats *st)
{
	char size[16];

	pga_format_size(st->bytes, size, sizeof(size));
	log_info("cycle %" PRIu64 ": targets %u ok, %u failed, %u skipped; %" PRIu64
		 " databases, %" PRIu64 " blocks, %" PRIu64 " rows, %s; %" PRIu64
		 " metric errors; snapshots %u complete, %u partial; %" PRIu64
		 " values escaped%s%s%s; %.3f s%s", cycle, st->targets_ok, st->targets_failed,
		 st->targets_skipped, st->databases, st->blocks, st->rows, size,
		 st->metric_errors, st->snapshots_complete, st->snapshots_partial,
		 st->values_escaped, st->escaped_detail[0] ? " (" : "", st->escaped_detail,
		 st->escaped_detail[0] ? ")" : "", (double)st->elapsed_us / 1e6,
		 st->interrupted ? " (interrupted)" : "");
}

/*
 * A cycle that failed before it could collect (the spool would not open,
 * the configuration is wrong), or whose spool failed only when closing,
 * is counted all the same: through a reader's handle, the writer's is gone.
 * One that found another writer running was skipped, not failed.
 */
static void
count_lost_cycle(const char *path, bool skipped, bool cycle_counted)
{
	struct spool_counters d = {0};
	struct pga_err err = {0};
	struct spool *sp = NULL;
	int rc;

	if (skipped)
		d.v[SC_CYCLES_SKIPPED] = 1;
	else
		d.v[SC_CYCLES_FAILED] = 1;
	d.v[SC_CYCLES] = !skipped && !cycle_counted;
	rc = spool_open(&sp, path, &err);
	if (rc == PGA_ENOTFOUND)
		return;		/* no spool yet: nothing to count in, the error said it */
	if (rc == 0)
		rc = spool_counters_add(sp, &d, &err);
	if (rc == 0) {
		spool_free(sp);
		return;
	}
	if (sp != NULL && spool_close(sp, &err) == 0)
		return;
	log_error("the %s cycle is not counted: %s", skipped ? "skipped" : "failed", err.msg);
}

static int
cycle_status(const struct collect_stats *st)
{
	if (st->failed)
		return PGA_EXIT_FAIL;
	if (st->targets_failed > 0 || st->metric_errors > 0 || st->interrupted)
		return PGA_EXIT_PARTIAL;
	return PGA_EXIT_OK;
}

/* Sleep until the monotonic time `until`, waking early for a stop request. */
static void
sleep_until(int64_t until)
{
	while (!pga_stop_requested()) {
		int64_t left = until - pga_mono_us();
		struct timespec ts;

		if (left <= 0)
			return;
		if (left > 100000)
			left = 100000;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000;
		nanosleep(&ts, NULL);
	}
}

static void
count_skipped(struct spool *sp, uint64_t skipped)
{
	struct spool_counters d = {0};
	struct pga_err err = {0};

	d.v[SC_CYCLES_SKIPPED] = skipped;
	if (spool_counters_add(sp, &d, &err) < 0)
		log_warn("%s", err.msg);
}

/*
 * Cycles start on the ticks t0 + k * interval and never overlap: a cycle
 * that runs past the next tick skips it (counted), and the next cycle
 * starts on the first tick after it ended.
 */
static int
run_loop(struct collector *col, struct spool *sp, const struct collect_args *a,
	 bool *last_failed)
{
	int64_t t0 = pga_mono_us();
	uint64_t tick = 0, done = 0;
	struct pga_err err = {0};

	/* The workers are new threads every cycle, each in whichever glibc
	 * arena it gets, and zstd resizes its workspaces as block sizes vary.
	 * glibc raises its mmap threshold after the first large free, so those
	 * megabyte buffers then land in the arenas and fragment them: measured
	 * over 170 cycles of 100 databases, RSS climbed past 50 MiB.  A fixed
	 * threshold keeps them in mmaps of their own, returned on free; RSS
	 * then stays between 24 and 30 MiB over 200 cycles. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	while (!pga_stop_requested()) {
		struct collect_stats st;
		uint64_t next;
		int rc = collector_cycle(col, &st, &err);

		*last_failed = st.failed;
		summary(++done, &st);
		if (rc < 0)
			return pga_cli_error(&err);
		if (spool_tick(sp, &err) < 0)
			return pga_cli_error(&err);
		/* what the cycle freed in the arenas goes back to the kernel too,
		 * so an idle loop between cycles holds only what it keeps */
		malloc_trim(0);
		if (a->cycles > 0 && done >= (uint64_t)a->cycles)
			break;
		next = (uint64_t)((pga_mono_us() - t0) / a->interval) + 1;
		if (next > tick + 1) {
			log_warn("cycle took %.3f s, longer than the interval: skipping %" PRIu64
				 " tick(s)", (double)st.elapsed_us / 1e6, next - tick - 1);
			count_skipped(sp, next - tick - 1);
		}
		tick = next;
		sleep_until(t0 + (int64_t)tick * a->interval);
	}
	return PGA_EXIT_OK;
}

static int
open_spool(const struct collect_args *a, struct pga_ctx *ctx, struct spool **sp)
{
	struct spool_opts so;
	struct pga_err err = {0};
	int rc;

	spool_opts_from_config(&so, ctx->cfg);
	rc = spool_open_writer(sp, a->spool, &so, &err);
	if (rc == PGA_ELOCKED) {
		log_error("another pga collect (or spool writer) is running: %s", err.msg);
		count_lost_cycle(a->spool, true, false);
		return PGA_EXIT_FAIL;
	}
	if (rc < 0) {
		rc = pga_cli_error(&err);
		count_lost_cycle(a->spool, false, false);
		return rc;
	}
	return 0;
}

int
cmd_collect(int argc, char **argv, struct pga_ctx *ctx)
{
	struct collect_args a;
	struct collect_opts o = {0};
	struct collector *col = NULL;
	struct spool *sp = NULL;
	struct pga_err err = {0};
	bool failed_counted = false;
	int status = parse_args(argc, argv, &a, ctx);

	if (status != 0)
		return status < 0 ? PGA_EXIT_OK : status;
	/* everything that can be checked is checked before any connection */
	if (collect_validate(ctx->cfg, a.nonly ? a.only : NULL, a.nonly, &err) < 0) {
		status = pga_cli_error(&err);
		count_lost_cycle(a.spool, false, false);
		return status;
	}
	status = open_spool(&a, ctx, &sp);
	if (status != 0)
		return status;
	pga_cli_catch_signals();
	o = (struct collect_opts){.cfg = ctx->cfg, .sp = sp, .only = a.nonly ? a.only : NULL,
				  .nonly = a.nonly, .workers = a.workers, .keep_connections = a.loop};
	if (collector_new(&col, &o, &err) < 0) {
		spool_free(sp);
		status = pga_cli_error(&err);
		count_lost_cycle(a.spool, false, false);
		return status;
	}
	if (a.loop) {
		status = run_loop(col, sp, &a, &failed_counted);
	} else {
		struct collect_stats st;

		status = collector_cycle(col, &st, &err) < 0 ? pga_cli_error(&err) : cycle_status(&st);
		failed_counted = st.failed;
		summary(1, &st);
	}
	collector_free(col);
	{
		struct pga_err cerr = {0};

		/* a broken spool fails again the same way: say it once */
		if (spool_close(sp, &cerr) < 0) {
			if (strcmp(cerr.msg, err.msg) != 0)
				pga_cli_error(&cerr);
			status = PGA_EXIT_FAIL;
			if (!failed_counted)
				count_lost_cycle(a.spool, false, true);
		}
	}
	return status;
}
