/*
 * loop.c - pga load --loop: the central side runs itself (see load.h)
 *
 * Passes start on the ticks t0 + k * interval and never overlap, as pga
 * collect --loop's cycles: a pass that runs past the next tick skips it
 * (logged and counted).  A pass is one load_run() of the source with
 * skip_known, so what the ledger holds is never opened or downloaded
 * again, with the pass's deadline (load-deadline: no new segment after
 * it, those in flight finish), and the central retention after it
 * (load-retain: whole day partitions).  A pass that fails as a whole (the
 * database is down or read-only, the source cannot be read) is tried
 * again after an exponential backoff with full jitter, capped at
 * load-retry-max-delay, rather than at the next tick; the first good pass
 * resets it.  SIGHUP reads the configuration again between passes, all
 * or nothing (a configuration with an error is refused in one line and
 * the old one goes on); what the command line said stays.  SIGTERM or
 * SIGINT: the pass in flight finishes the segments it is loading (each
 * commits or rolls back whole) and the loop ends, exit 0.
 */
#define _GNU_SOURCE
#include "load/load.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "common/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "common/units.h"

#define LOOP_BACKOFF_BASE_US 1000000LL

/* Full jitter: uniform in [0, min(cap, base * 2^(failures-1))]. */
static int64_t
backoff_us(int failures, int64_t cap)
{
	int64_t ceil = LOOP_BACKOFF_BASE_US;

	for (int i = 1; i < failures && ceil < cap; i++)
		ceil *= 2;
	if (ceil > cap)
		ceil = cap;
	return ceil <= 0 ? 0 : (int64_t)arc4random_uniform((uint32_t)(ceil > UINT32_MAX ? UINT32_MAX : ceil));
}

/*
 * The settings of a configuration (the command line and the environment
 * are in it, over the file: a reload keeps what they said).
 */
int
load_loop_configure(struct load_loop_opts *o, const struct pga_config *cfg, struct pga_err *err)
{
	struct load_run_opts *ro = &o->ro;
	const struct pga_global *g = &cfg->global;

	ro->lo.conninfo = g->central;
	ro->lo.schema = g->central_schema;
	ro->jobs = (int)g->load_jobs;
	ro->from = cfg->args.from ? cfg->args.from : g->load_from ? g->load_from : g->spool_path;
	o->interval_us = g->load_interval;
	o->deadline_us = g->load_deadline;
	o->retry_max_us = g->load_retry_max_delay;
	ro->retain_us = pga_config_given(cfg, "retain") ? cfg->args.retain : g->load_retain;
	if (ro->lo.conninfo == NULL || *ro->lo.conninfo == '\0')
		return pga_fail(err, PGA_ECONFIG,
				"no central database: give --db or set 'central' in [global]");
	if (o->interval_us <= 0)
		return pga_fail(err, PGA_ECONFIG, "load-interval must be above zero in --loop");
	if (ro->retain_us < 0 || o->deadline_us < 0)
		return pga_fail(err, PGA_ECONFIG, "load-retain and load-deadline cannot be negative");
	return 0;
}

/* SIGHUP between passes: a new configuration, all or nothing. */
static void
reload(struct load_loop_opts *o, struct pga_config **owned)
{
	struct pga_config *cfg = NULL;
	struct load_loop_opts next = *o;
	struct pga_err err = {0};

	log_info("received SIGHUP: reading the configuration again");
	if (pga_cli_reload(o->ctx, &cfg, &err) < 0 || load_loop_configure(&next, cfg, &err) < 0 ||
	    (o->on_reload != NULL && o->on_reload(cfg, &err) < 0)) {
		log_error("configuration not reloaded, keeping the previous one: %s", err.msg);
		pga_config_free(cfg);
		return;
	}
	*o = next;
	pga_config_free(*owned);
	*owned = cfg;
	pga_cli_apply_log_level(cfg);
	log_info("configuration reloaded from '%s': loading from '%s' every %.3f s",
		 cfg->path ? cfg->path : "defaults", o->ro.from, (double)o->interval_us / 1e6);
}

/* One pass; true when it failed as a whole (worth a backoff). */
static bool
pass(struct load_loop_opts *o, FILE *out, uint64_t n)
{
	struct load_run_opts ro = o->ro;
	struct load_totals t = {0};
	int status;

	ro.skip_known = true;
	ro.progress = false;
	ro.deadline_us = o->deadline_us > 0 ? pga_mono_us() + o->deadline_us : 0;
	status = load_run(&ro, out, &t);
	fflush(out);
	log_debug("pass %" PRIu64 ": exit status %d", n, status);
	return status == PGA_EXIT_FAIL && !pga_stop_requested();
}

int
load_loop(struct load_loop_opts *o, FILE *out)
{
	struct pga_config *owned = NULL;
	int64_t t0 = pga_mono_us();
	uint64_t tick = 0, done = 0;
	int failures = 0;

	while (!pga_stop_requested()) {
		int64_t started = pga_mono_us();
		uint64_t next;

		if (pass(o, out, ++done)) {
			int64_t wait = backoff_us(++failures, o->retry_max_us);

			log_warn("pass %" PRIu64 " failed (%d in a row): trying again in %.1f s", done,
				 failures, (double)wait / 1e6);
			pga_cli_sleep_until(pga_mono_us() + wait);
		} else {
			failures = 0;
		}
		if (o->passes > 0 && done >= (uint64_t)o->passes)
			break;
		if (failures == 0) {
			next = (uint64_t)((pga_mono_us() - t0) / o->interval_us) + 1;
			if (next > tick + 1)
				log_warn("pass took %.3f s, longer than load-interval: skipping %" PRIu64
					 " tick(s)", (double)(pga_mono_us() - started) / 1e6, next - tick - 1);
			tick = next;
			pga_cli_sleep_until(t0 + (int64_t)tick * o->interval_us);
		}
		while (!pga_stop_requested() && pga_reload_take()) {
			reload(o, &owned);
			t0 = pga_mono_us();
			tick = 0;
			pga_cli_sleep_until(t0 + o->interval_us);
		}
	}
	pga_config_free(owned);
	return PGA_EXIT_OK;
}
