/* `pga collect`: one cycle (cron, systemd timer) or --loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cmd/cmd.h"
#include "cmd/health.h"
#include "collect/collect.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/units.h"
#include "spool/spool.h"

/* What the command line and the configuration ask of this run. */
struct collect_args {
	bool loop;
	long long cycles;
	const char *spool;		/* as at the start: a reload does not move it */
	const char *const *only;	/* --target names, or NULL for every enabled one */
	size_t nonly;
};

static int
get_args(struct collect_args *a, struct pga_ctx *ctx)
{
	const struct pga_config *cfg = ctx->cfg;

	memset(a, 0, sizeof(*a));
	a->loop = cfg->args.loop;
	a->cycles = cfg->args.cycles;
	a->spool = cfg->global.spool_path;
	a->only = cfg->args.target.n ? (const char *const *)cfg->args.target.v : NULL;
	a->nonly = cfg->args.target.n;
	if (a->loop && cfg->global.interval <= 0)
		return pga_cli_usage(ctx->cmd, "--loop needs an interval above zero");
	if (!a->loop && a->cycles > 0)
		return pga_cli_usage(ctx->cmd, "--cycles only goes with --loop");
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

static double
tv_s(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

/* The process's CPU since before (all threads) and its peak RSS: for the
 * bench (bench/21-scale.sh) and whoever sizes a collector's host. */
static void
cpu_summary(uint64_t cycle, const struct rusage *before)
{
	struct rusage now;

	if (getrusage(RUSAGE_SELF, &now) != 0)
		return;
	log_debug("cycle %" PRIu64 ": client cpu %.4f s (user %.4f, system %.4f), peak rss %ld KiB",
		  cycle, tv_s(now.ru_utime) - tv_s(before->ru_utime) + tv_s(now.ru_stime) -
		  tv_s(before->ru_stime), tv_s(now.ru_utime) - tv_s(before->ru_utime),
		  tv_s(now.ru_stime) - tv_s(before->ru_stime), now.ru_maxrss);
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
		d.v[CC_CYCLES_SKIPPED] = 1;
	else
		d.v[CC_CYCLES_FAILED] = 1;
	d.v[CC_CYCLES] = !skipped && !cycle_counted;
	rc = spool_open(&sp, path, &err);
	if (rc == PGA_ENOTFOUND)
		return;		/* no spool yet: nothing to count in, the error said it */
	if (rc == 0)
		rc = spool_counters_add(sp, &collect_counters, &d, &err);
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

static void
count_skipped(struct spool *sp, uint64_t skipped)
{
	struct spool_counters d = {0};
	struct pga_err err = {0};

	d.v[CC_CYCLES_SKIPPED] = skipped;
	if (spool_counters_add(sp, &collect_counters, &d, &err) < 0)
		pga_log_err(PGA_LOG_WARN, &err);
}

/* What the loop runs with; a reload replaces cfg, col and perhaps sp. */
struct loop {
	struct pga_ctx *ctx;
	const struct collect_args *a;
	const struct pga_config *cfg;	/* in use: ctx->cfg, or owned */
	struct pga_config *owned;	/* the last configuration a reload read */
	struct collector *col;
	struct spool *sp;
	int64_t interval;
	bool last_failed;		/* the last cycle failed (and was counted so) */
};

/* Use cfg from now on (NULL: the one main() read), freeing a reloaded one. */
static void
loop_use_config(struct loop *l, struct pga_config *cfg)
{
	pga_config_free(l->owned);
	l->owned = cfg;
	l->cfg = cfg != NULL ? cfg : l->ctx->cfg;
}

static int
new_collector(struct loop *l, const struct pga_config *cfg, struct collector **out,
	      struct pga_err *err)
{
	const struct collect_args *a = l->a;
	struct collect_opts o = {.cfg = cfg, .sp = l->sp, .only = a->only, .nonly = a->nonly,
				 .keep_connections = true};

	return collector_new(out, &o, err);
}

static bool
lists_equal(const struct pga_list *x, const struct pga_list *y)
{
	size_t nx = x ? x->n : 0, ny = y ? y->n : 0;

	if (nx != ny)
		return false;
	for (size_t i = 0; i < nx; i++)
		if (strcmp(x->v[i], y->v[i]) != 0)
			return false;
	return true;
}

static bool
spool_opts_equal(const struct spool_opts *x, const struct spool_opts *y)
{
	/* a new sign-key-file (or new key bytes under the same name, which a
	 * reload cannot see) takes effect when the spool reopens */
	return strcmp(x->collector, y->collector) == 0 && x->max_bytes == y->max_bytes &&
	       x->full == y->full && x->seg_max_size == y->seg_max_size &&
	       x->seg_max_age_us == y->seg_max_age_us && x->level == y->level &&
	       strcmp(x->sign_key_file ? x->sign_key_file : "",
		      y->sign_key_file ? y->sign_key_file : "") == 0 &&
	       lists_equal(x->encrypt_to, y->encrypt_to);
}

/*
 * Spool settings changed: seal what is open and reopen with the new ones
 * (0).  If the spool will not open so, it opens with the old settings
 * again (1: the reload is refused); when even that fails there is no spool
 * left to write to and the loop ends (< 0).  The collector is gone after.
 */
static int
reopen_spool(struct loop *l, const struct pga_config *old, const struct pga_config *cfg,
	     struct pga_err *err)
{
	struct spool_opts so;
	int rc;

	collector_free(l->col);
	l->col = NULL;
	rc = spool_close(l->sp, err);
	l->sp = NULL;
	if (rc < 0) {
		log_err(err);
		if (!l->last_failed)	/* the last cycle's data may not be sealed */
			count_lost_cycle(l->a->spool, false, true);
		l->last_failed = true;
	}
	spool_opts_from_config(&so, cfg);
	/* l->cfg becomes cfg once the reload is taken; drops before that ask
	 * the old configuration's destinations */
	cmd_spool_where(&so, &l->cfg);
	rc = spool_open_writer(&l->sp, l->a->spool, &so, err);
	if (rc == 0)
		return 0;
	log_error("configuration not reloaded, keeping the previous one: could not reopen "
		  "the spool with its settings: %s", err->msg);
	spool_opts_from_config(&so, old);
	cmd_spool_where(&so, &l->cfg);
	rc = spool_open_writer(&l->sp, l->a->spool, &so, err);
	return rc < 0 ? rc : 1;
}

/*
 * Check all of a new configuration before anything changes; the old one
 * stays when any of it is wrong.
 */
static int
reload_check(struct loop *l, const struct pga_config *cfg, struct pga_err *err)
{
	const struct collect_args *a = l->a;

	if (collect_validate(cfg, a->only, a->nonly, err) < 0)
		return err->code;
	if (cfg->global.interval <= 0)
		return pga_fail(err, PGA_ECONFIG, "interval must be above zero in --loop");
	if (strcmp(cfg->global.spool_path, a->spool) != 0)
		log_warn("reload: spool-path changed to '%s'; that takes a restart, still "
			 "writing to '%s'", cfg->global.spool_path, a->spool);
	return 0;
}

/* SIGHUP between cycles: a new configuration, all or nothing. */
static int
reload(struct loop *l)
{
	struct pga_config *cfg = NULL;
	struct spool_opts now, want;
	struct collector *col = NULL;
	struct pga_err err = {0};
	int rc;

	log_info("received SIGHUP: reading the configuration again");
	if (pga_cli_reload(l->ctx, &cfg, &err) < 0 || reload_check(l, cfg, &err) < 0) {
		log_error("configuration not reloaded, keeping the previous one: %s", err.msg);
		pga_config_free(cfg);
		return 0;
	}
	spool_opts_from_config(&now, l->cfg);
	spool_opts_from_config(&want, cfg);
	rc = spool_opts_equal(&now, &want) ? 0 : reopen_spool(l, l->cfg, cfg, &err);
	if (rc != 0) {
		pga_config_free(cfg);
		if (rc < 0 || new_collector(l, l->cfg, &l->col, &err) < 0)
			return pga_cli_error(&err);
		return 0;
	}
	/* the old collector's state is on disk after each cycle: a new one
	 * built beside it picks up where it stopped */
	if (new_collector(l, cfg, &col, &err) < 0) {
		log_error("configuration not reloaded, keeping the previous one: %s", err.msg);
		pga_config_free(cfg);
		if (l->col == NULL && new_collector(l, l->cfg, &l->col, &err) < 0)
			return pga_cli_error(&err);
		return 0;
	}
	collector_free(l->col);
	l->col = col;
	loop_use_config(l, cfg);
	l->interval = cfg->global.interval;
	pga_cli_apply_log_level(cfg);
	log_info("configuration reloaded from '%s': %zu targets, interval %.3f s",
		 cfg->path ? cfg->path : "defaults", collector_ntargets(col),
		 (double)l->interval / 1e6);
	return 0;
}

/*
 * Cycles start on the ticks t0 + k * interval and never overlap: a cycle
 * that runs past the next tick skips it (counted), and the next cycle
 * starts on the first tick after it ended.  A reload (SIGHUP) is taken
 * after a cycle, never inside one; the ticks then start again from that
 * cycle's start with the new interval.
 */
static int
run_loop(struct loop *l)
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
		int64_t started = pga_mono_us();
		uint64_t next;
		struct rusage r0;
		int rc;

		getrusage(RUSAGE_SELF, &r0);
		rc = collector_cycle(l->col, &st, &err);
		l->last_failed = st.failed;
		summary(++done, &st);
		cpu_summary(done, &r0);
		health_write_configured(l->cfg, l->a->spool);
		if (rc < 0)
			return pga_cli_error(&err);
		if (spool_tick(l->sp, &err) < 0)
			return pga_cli_error(&err);
		/* what the cycle freed in the arenas goes back to the kernel too,
		 * so an idle loop between cycles holds only what it keeps */
		malloc_trim(0);
		if (l->a->cycles > 0 && done >= (uint64_t)l->a->cycles)
			break;
		next = (uint64_t)((pga_mono_us() - t0) / l->interval) + 1;
		if (next > tick + 1) {
			log_warn("cycle took %.3f s, longer than the interval: skipping %" PRIu64
				 " tick(s)", (double)st.elapsed_us / 1e6, next - tick - 1);
			count_skipped(l->sp, next - tick - 1);
		}
		tick = next;
		pga_cli_sleep_until(t0 + (int64_t)tick * l->interval);
		while (!pga_stop_requested() && pga_reload_take()) {
			if (reload(l) < 0)
				return PGA_EXIT_FAIL;
			t0 = started;
			tick = (uint64_t)((pga_mono_us() - t0) / l->interval) + 1;
			pga_cli_sleep_until(t0 + (int64_t)tick * l->interval);
		}
	}
	return PGA_EXIT_OK;
}

static int
open_spool(const struct collect_args *a, struct loop *l, struct spool **sp)
{
	struct spool_opts so;
	struct pga_err err = {0};
	int rc;

	spool_opts_from_config(&so, l->cfg);
	cmd_spool_where(&so, &l->cfg);
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
	struct loop l = {.ctx = ctx, .a = &a, .cfg = ctx->cfg};
	struct pga_err err = {0};
	bool failed_counted = false;
	int status = get_args(&a, ctx);

	(void)argc;
	(void)argv;
	if (status != 0)
		return status;
	/* everything that can be checked is checked before any connection */
	if (collect_validate(ctx->cfg, a.only, a.nonly, &err) < 0) {
		status = pga_cli_error(&err);
		count_lost_cycle(a.spool, false, false);
		return status;
	}
	status = open_spool(&a, &l, &l.sp);
	if (status != 0)
		return status;
	pga_cli_catch_signals();
	o = (struct collect_opts){.cfg = ctx->cfg, .sp = l.sp, .only = a.only, .nonly = a.nonly,
				  .keep_connections = a.loop};
	if (collector_new(&l.col, &o, &err) < 0) {
		spool_free(l.sp);
		status = pga_cli_error(&err);
		count_lost_cycle(a.spool, false, false);
		return status;
	}
	l.interval = ctx->cfg->global.interval;
	if (a.loop) {
		status = run_loop(&l);
		failed_counted = l.last_failed;
	} else {
		struct collect_stats st;
		struct rusage r0;

		getrusage(RUSAGE_SELF, &r0);
		status = collector_cycle(l.col, &st, &err) < 0 ? pga_cli_error(&err) : cycle_status(&st);
		failed_counted = st.failed;
		summary(1, &st);
		cpu_summary(1, &r0);
	}
	collector_free(l.col);
	if (l.sp != NULL) {
		struct pga_err cerr = {0};

		/* a broken spool fails again the same way: say it once */
		if (spool_close(l.sp, &cerr) < 0) {
			if (strcmp(cerr.msg, err.msg) != 0)
				pga_cli_error(&cerr);
			status = PGA_EXIT_FAIL;
			if (!failed_counted)
				count_lost_cycle(a.spool, false, true);
		}
	}
	/* after the spool is closed: what the cycle sealed is pending */
	if (!a.loop)
		health_write_configured(ctx->cfg, a.spool);
	loop_use_config(&l, NULL);
	return status;
}
