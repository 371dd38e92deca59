/*
 * run.c - one restore: the days in order, --jobs day transactions at once,
 * a finisher behind them (see restore.h)
 *
 * Threads: the main thread plans days (lists them, wants their segments
 * from the fetcher) a few days ahead of the workers; each worker takes the
 * next planned day and runs it as one day transaction (load.h, bulk.c) on
 * its own loader, then builds the day's indexes and attaches its tables
 * (days are indexed side by side, each behind its own load, while the
 * other workers load on); the finisher takes committed days in commit
 * order and loads through the per-segment path what the day left to it; a
 * progress thread draws the line.  Everything shared is under one mutex.
 *
 * A day transaction that is lost (a block refused, a deadlock, a fork found
 * at commit) is begun again without the segment at fault, which goes to
 * the per-segment path; after RS_DAY_ATTEMPTS the whole day does.
 */
#define _GNU_SOURCE
#include "restore/restore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/cli.h"
#include "common/log.h"
#include "common/ticker.h"
#include "common/units.h"
#include "spool/source.h"

#define RS_DAY_ATTEMPTS 4
#define RS_PROGRESS_EVERY_US 250000	/* the progress line on a terminal */
#define RS_PLAN_AHEAD 2		/* days planned beyond the ones at work */

/* ---- bookkeeping ---- */

static void
note_error(struct rs_run *r, const char *name, const struct pga_err *err)
{
	load_errors_note(&r->errors, name, err);
}

static void
set_fatal(struct rs_run *r, const struct pga_err *err)
{
	pthread_mutex_lock(&r->mu);
	if (!r->fatal) {
		r->fatal = true;
		r->fatal_err = *err;
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static bool
stopping(struct rs_run *r)
{
	bool s;

	pthread_mutex_lock(&r->mu);
	if (pga_stop_requested())
		r->stopped = true;
	s = r->fatal || r->stopped;
	pthread_mutex_unlock(&r->mu);
	return s;
}

static void
add_stats(struct rs_totals *t, const struct load_seg_stats *st)
{
	t->rows += st->rows;
	t->bytes += st->bytes;
	t->seg_bytes += st->seg_bytes;
	t->blocks_refused += st->blocks_refused;
	t->rows_refused += st->rows_refused;
	t->columns_dropped += st->columns_dropped;
	t->partial += st->partial;
	t->in_doubt += st->in_doubt;
}

static struct rs_day *
find_day(struct rs_run *r, int32_t day)
{
	for (size_t lo = 0, hi = r->ndays; lo < hi;) {
		size_t mid = (lo + hi) / 2;

		if (r->sorted[mid] == day)
			return &r->days[r->sorted_idx[mid]];
		if (r->sorted[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
want_add(struct rs_day *d, const struct rs_seg *s, struct rs_item *it, struct pga_err *err)
{
	if (d->nwant == d->wcap) {
		size_t cap = d->wcap ? d->wcap * 2 : 64;
		void *p = reallocarray(d->want, cap, sizeof(*d->want));

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		d->want = p;
		d->wcap = cap;
	}
	memset(&d->want[d->nwant], 0, sizeof(d->want[0]));
	d->want[d->nwant].s = *s;
	d->want[d->nwant++].item = it;
	return 0;
}

static int
slow_append(struct rs_day *d, const struct rs_seg *s)
{
	for (size_t i = 0; i < d->nslow; i++)
		if (strcmp(d->slow[i].name, s->name) == 0)
			return 0;
	if (d->nslow == d->scap) {
		size_t cap = d->scap ? d->scap * 2 : 16;
		void *p = reallocarray(d->slow, cap, sizeof(*d->slow));

		if (p == NULL)
			return PGA_ENOMEM;
		d->slow = p;
		d->scap = cap;
	}
	d->slow[d->nslow++] = *s;
	return 0;
}

/* A late item: the per-segment path for a day that is done (or not planned). */
static int
late_push(struct rs_run *r, int32_t day, const struct rs_seg *s)
{
	if (r->nlate == r->late_cap) {
		size_t cap = r->late_cap ? r->late_cap * 2 : 16;
		void *p = reallocarray(r->late, cap, sizeof(*r->late));

		if (p == NULL)
			return PGA_ENOMEM;
		r->late = p;
		r->late_cap = cap;
	}
	r->late[r->nlate].day = day;
	r->late[r->nlate++].s = *s;
	pthread_cond_broadcast(&r->cv);
	return 0;
}

/* s goes through the per-segment path for day, after that day is attached. */
static void
to_slow(struct rs_run *r, int32_t day, const struct rs_seg *s)
{
	struct rs_day *d;
	int rc;

	pthread_mutex_lock(&r->mu);
	d = find_day(r, day);
	rc = d == NULL || d->state == RS_DONE ? late_push(r, day, s) : slow_append(d, s);
	r->t.deferred++;
	pthread_mutex_unlock(&r->mu);
	if (rc < 0) {
		struct pga_err err = {0};

		pga_fail(&err, PGA_ENOMEM, "out of memory");
		set_fatal(r, &err);
	}
}

/*
 * A segment of day `from` has snapshots of other days: each day still to
 * come gets it; a day begun already gets it through the per-segment path.
 */
static bool
carry(struct rs_run *r, const struct rs_seg *s, int32_t from, int fd)
{
	char path[64];
	struct seg_header h;
	struct seg_footer f = {0};
	struct pga_err err = {0};
	int32_t lo, hi, wlo, whi;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	bool own, first = true;
	struct rs_seg c = *s;

	if (seg_read_footer_file(path, &h, &f, &err) < 0 || f.nblocks == 0) {
		free(f.index);
		return false;	/* the load says what is wrong with it */
	}
	free(f.index);
	lo = rs_day_of(f.min_snapshot_us);
	hi = rs_day_of(f.max_snapshot_us);
	wlo = rs_day_of(r->o->lo.since == INT64_MIN ? f.min_snapshot_us : r->o->lo.since);
	whi = rs_day_of(r->o->lo.until == INT64_MAX ? f.max_snapshot_us : r->o->lo.until);
	own = from >= lo && from <= hi && from >= wlo && from <= whi;
	for (int32_t e = lo > wlo ? lo : wlo; e <= hi && e <= whi; e++) {
		struct rs_day *d;
		bool later;

		if (e == from)
			continue;
		c.counts = !own && first;
		first = false;
		pthread_mutex_lock(&r->mu);
		d = find_day(r, e);
		later = d != NULL && d->state <= RS_PLANNED;
		if (later && want_add(d, &c, d->state == RS_PLANNED ? rs_fetch_want(r->fetch, &c) : NULL,
				      &err) < 0)
			later = false;
		pthread_mutex_unlock(&r->mu);
		if (!later)
			to_slow(r, e, &c);
	}
	return !own && !first;
}

/* ---- a worker: one day transaction ---- */

struct worker {
	struct rs_run *r;
	struct loader *l;
	struct rs_reader *rd;
	pthread_t th;
};

struct day_try {
	struct rs_totals t;		/* what this attempt added */
	char **excluded;		/* names left to the per-segment path */
	size_t nexcl;
	int attempt;
	uint64_t loads;			/* segments with rows in this day */
};

static bool
excluded(const struct day_try *dt, const char *name)
{
	for (size_t i = 0; i < dt->nexcl; i++)
		if (strcmp(dt->excluded[i], name) == 0)
			return true;
	return false;
}

static void
exclude(struct rs_run *r, struct rs_day *d, struct day_try *dt, const struct rs_seg *s)
{
	char **p = reallocarray(dt->excluded, dt->nexcl + 1, sizeof(char *));

	if (p != NULL) {
		dt->excluded = p;
		p[dt->nexcl] = strdup(s->name);
		if (p[dt->nexcl] != NULL)
			dt->nexcl++;
	}
	to_slow(r, d->day, s);
}

/* The bytes of w (fetched ahead on the first attempt, read again after). */
static int
want_fd(struct worker *wk, struct rs_want *w, int *fd, struct pga_err *err)
{
	if (w->item != NULL) {
		int rc = rs_fetch_take(wk->r->fetch, w->item, fd, err);

		rs_fetch_release(wk->r->fetch, w->item);
		w->item = NULL;
		return rc;
	}
	return rs_reader_get(wk->rd, &w->s, fd, err);
}

enum add_outcome { ADD_OK, ADD_REDO, ADD_STOP };

static enum add_outcome
add_one(struct worker *wk, struct rs_day *d, struct day_try *dt, struct rs_want *w)
{
	struct rs_run *r = wk->r;
	struct load_seg_stats st;
	enum load_result res = LOAD_FILTERED;
	struct pga_err err = {0};
	bool moved = false, counts;
	int fd = -1, rc = want_fd(wk, w, &fd, &err);

	if (rc < 0) {
		log_error("could not read '%s': %s", w->s.name, err.msg);
		pthread_mutex_lock(&r->mu);
		r->t.failed++;
		note_error(r, w->s.name, &err);
		pthread_mutex_unlock(&r->mu);
		return ADD_OK;
	}
	if (dt->attempt == 0)
		w->moved = carry(r, &w->s, d->day, fd);
	moved = w->moved;
	/* counted once: in its own day, unless none of its snapshots are there */
	counts = w->s.day == d->day ? !moved : w->s.counts;
	rc = loader_day_add(wk->l, w->s.name, fd, &res, &st, &err);
	close(fd);
	if (rc == 0 && res == LOAD_DEFERRED) {
		exclude(r, d, dt, &w->s);
		return ADD_OK;
	}
	if (rc == 0) {
		/* a segment counts once, in the day it is named under; its rows
		 * count wherever they load */
		if (counts) {
			dt->t.segments++;
			dt->t.loaded += res == LOAD_LOADED;
			dt->t.duplicate += res == LOAD_DUPLICATE;
			dt->t.filtered += res == LOAD_FILTERED;
		}
		add_stats(&dt->t, &st);
		dt->loads += res == LOAD_LOADED;
		return ADD_OK;
	}
	if (res == LOAD_DEFERRED) {
		log_info("'%s': %s: the day's transaction begins again without it", w->s.name,
			 err.msg);
		exclude(r, d, dt, &w->s);
		return ADD_REDO;
	}
	if (loader_error_fatal(&err)) {
		set_fatal(r, &err);
		return ADD_STOP;
	}
	log_info("day transaction lost (%s): beginning it again", err.msg);
	return ADD_REDO;
}

/* One attempt at the day; ADD_OK once committed with *tables. */
static enum add_outcome
try_day(struct worker *wk, struct rs_day *d, struct day_try *dt, struct load_day_table **tables,
	size_t *ntables)
{
	struct rs_run *r = wk->r;
	struct pga_err err = {0};
	const char *culprit = NULL;
	enum add_outcome out = ADD_OK;
	size_t n;

	memset(&dt->t, 0, sizeof(dt->t));
	dt->loads = 0;
	if (loader_day_begin(wk->l, d->day, &err) < 0) {
		set_fatal(r, &err);
		return ADD_STOP;
	}
	pthread_mutex_lock(&r->mu);
	n = d->nwant;	/* carried in while planned: all there once active */
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; out == ADD_OK && i < n; i++) {
		if (stopping(r))
			out = ADD_STOP;
		else if (!excluded(dt, d->want[i].s.name))
			out = add_one(wk, d, dt, &d->want[i]);
	}
	if (out != ADD_OK) {
		loader_day_abort(wk->l);
		return out;
	}
	if (loader_day_commit(wk->l, tables, ntables, &culprit, &err) == 0)
		return ADD_OK;
	loader_day_abort(wk->l);
	if (culprit != NULL) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(d->want[i].s.name, culprit) == 0)
				exclude(r, d, dt, &d->want[i].s);
		return ADD_REDO;
	}
	if (loader_error_fatal(&err)) {
		set_fatal(r, &err);
		return ADD_STOP;
	}
	return ADD_REDO;
}

/* The day's fetched-ahead segments that will never be taken now. */
static void
drop_wants(struct rs_run *r, struct rs_day *d)
{
	for (size_t i = 0; i < d->nwant; i++) {
		rs_fetch_drop(r->fetch, d->want[i].item);
		d->want[i].item = NULL;
	}
}

/* false when the run stops (the day is left as it was: nothing committed) */
static bool
run_day(struct worker *wk, struct rs_day *d, struct load_day_table **tables, size_t *ntables)
{
	struct rs_run *r = wk->r;
	struct day_try dt = {0};
	enum add_outcome out = ADD_REDO;

	for (dt.attempt = 0; out == ADD_REDO && dt.attempt < RS_DAY_ATTEMPTS; dt.attempt++) {
		out = try_day(wk, d, &dt, tables, ntables);
		if (out == ADD_REDO) {
			pthread_mutex_lock(&r->mu);
			r->t.retries++;
			pthread_mutex_unlock(&r->mu);
		}
	}
	if (out == ADD_REDO) {
		/* the day would not commit whole: every segment one by one */
		log_warn("day %d would not load in one transaction: segment by segment", d->day);
		for (size_t i = 0; i < d->nwant; i++)
			if (!excluded(&dt, d->want[i].s.name))
				to_slow(r, d->day, &d->want[i].s);
	}
	drop_wants(r, d);
	pthread_mutex_lock(&r->mu);
	if (out == ADD_OK) {
		struct rs_totals *t = &r->t, *a = &dt.t;

		t->segments += a->segments;
		t->loaded += a->loaded;
		t->duplicate += a->duplicate;
		t->filtered += a->filtered;
		t->rows += a->rows;
		t->bytes += a->bytes;
		t->seg_bytes += a->seg_bytes;
		t->columns_dropped += a->columns_dropped;
		t->partial += a->partial;
		d->segments += dt.loads;
		d->rows += a->rows;
	}
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; i < dt.nexcl; i++)
		free(dt.excluded[i]);
	free(dt.excluded);
	return out != ADD_STOP;
}

/* The next day to work on, once it is planned; NULL when there is none. */
static struct rs_day *
next_day(struct rs_run *r)
{
	struct rs_day *d = NULL;

	pthread_mutex_lock(&r->mu);
	while (!r->fatal && !r->stopped && r->next_work < r->ndays &&
	       r->days[r->next_work].state != RS_PLANNED)
		pthread_cond_wait(&r->cv, &r->mu);
	if (!r->fatal && !r->stopped && r->next_work < r->ndays) {
		d = &r->days[r->next_work++];
		d->state = RS_ACTIVE;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return d;
}

static int attach_day(struct rs_run *r, struct loader *l, struct rs_day *d);

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	struct rs_run *r = wk->r;
	struct rs_day *d;

	while ((d = next_day(r)) != NULL) {
		struct load_day_table *tables = NULL;
		size_t ntables = 0;

		if (!run_day(wk, d, &tables, &ntables))
			break;
		d->tables = tables;	/* the day is this worker's until committed */
		d->ntables = ntables;
		if (attach_day(r, wk->l, d) < 0)
			break;
		pthread_mutex_lock(&r->mu);
		d->state = RS_COMMITTED;
		r->fin_q[r->fin_len++] = (size_t)(d - r->days);
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	pthread_mutex_lock(&r->mu);
	r->workers_left--;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- the finisher: indexes, attach, the per-segment path ---- */

struct finisher {
	struct rs_run *r;
	struct loader *l;
	struct rs_reader *rd;
	pthread_t th;
};

/* One segment through loader_load_fd() for day's window. */
static void
slow_load(struct finisher *fn, int32_t day, const struct rs_seg *s)
{
	struct rs_run *r = fn->r;
	const struct load_opts *lo = &r->o->lo;
	int64_t start = (int64_t)day * RS_DAY_US, end = start + RS_DAY_US - 1;
	struct load_seg_stats st = {0};
	enum load_result res = LOAD_FILTERED;
	struct pga_err err = {0};
	int fd = -1, rc = rs_reader_get(fn->rd, s, &fd, &err);

	if (rc == 0) {
		loader_set_window(fn->l, start > lo->since ? start : lo->since,
				  end < lo->until ? end : lo->until);
		loader_set_wait(fn->l, true);
		rc = loader_load_fd(fn->l, s->name, fd, &res, &st, &err);
		close(fd);
	}
	pthread_mutex_lock(&r->mu);
	if (rc < 0 && loader_error_fatal(&err)) {
		r->t.failed++;
		pthread_mutex_unlock(&r->mu);
		set_fatal(r, &err);
		return;
	}
	if (rc < 0) {
		r->t.refused++;
		r->t.held += res == LOAD_HELD;
		note_error(r, s->name, &err);
		log_error("%s", err.msg);
	}
	/* a segment counts once (see add_one()) */
	if (s->counts) {
		r->t.loaded += rc == 0 && res == LOAD_LOADED;
		r->t.duplicate += rc == 0 && res == LOAD_DUPLICATE;
		r->t.filtered += rc == 0 && res == LOAD_FILTERED;
		r->t.segments++;
	}
	add_stats(&r->t, &st);
	{
		struct rs_day *d = find_day(r, day);

		if (d != NULL && rc == 0 && res == LOAD_LOADED) {
			d->segments++;
			d->rows += st.rows;
		}
	}
	pthread_mutex_unlock(&r->mu);
}

/*
 * Day tables committed by a transaction whose client was killed while its
 * backend went on (the rerun began before it committed): attached here,
 * or the rows the ledger counts would stay out of sight.
 */
static int
attach_strays(struct loader *l, const struct restore_opts *o, int32_t day, bool any_day,
	      struct pga_err *err)
{
	struct load_day_table *t = NULL;
	size_t n = 0;
	int rc = loader_day_unattached(l, &t, &n, err);

	for (size_t i = 0; rc == 0 && i < n; i++)
		if (any_day || t[i].day == day)
			rc = loader_day_attach(l, t[i].metric, t[i].day, o->index_mem_kb,
					       o->index_workers, err);
	free(t);
	return rc;
}

/*
 * The day's tables indexed and attached, by whoever holds it: the worker
 * that committed it (so days are indexed side by side, each behind its own
 * load), else the finisher.
 */
static int
attach_day(struct rs_run *r, struct loader *l, struct rs_day *d)
{
	struct pga_err err = {0};

	if (attach_strays(l, r->o, d->day, false, &err) < 0) {
		set_fatal(r, &err);
		return err.code;
	}
	for (size_t i = 0; i < d->ntables; i++) {
		int rc = loader_day_attach(l, d->tables[i].metric, d->tables[i].day,
					   r->o->index_mem_kb, r->o->index_workers, &err);

		for (int again = 0; rc < 0 && !loader_error_fatal(&err) && again < 3; again++) {
			log_info("attaching '%s' of day %d: %s: trying again", d->tables[i].metric,
				 d->day, err.msg);
			usleep(200000);
			rc = loader_day_attach(l, d->tables[i].metric, d->tables[i].day,
					       r->o->index_mem_kb, r->o->index_workers, &err);
		}
		if (rc < 0) {
			set_fatal(r, &err);
			return rc;
		}
		pthread_mutex_lock(&r->mu);
		r->t.tables_attached++;
		pthread_mutex_unlock(&r->mu);
	}
	free(d->tables);
	d->tables = NULL;
	d->ntables = 0;
	return 0;
}

/* A committed day: attached, then its per-segment loads; done. */
static void
finish_day(struct finisher *fn, struct rs_day *d)
{
	struct rs_run *r = fn->r;

	if (attach_day(r, fn->l, d) < 0)
		return;
	pthread_mutex_lock(&r->mu);
	while (d->nslow > 0 && !r->fatal) {
		struct rs_seg *slow = d->slow;
		size_t n = d->nslow;

		d->slow = NULL;
		d->nslow = d->scap = 0;
		pthread_mutex_unlock(&r->mu);
		for (size_t i = 0; i < n && !stopping(r); i++)
			slow_load(fn, d->day, &slow[i]);
		free(slow);
		pthread_mutex_lock(&r->mu);
	}
	if (!r->fatal && !r->stopped) {
		d->state = RS_DONE;
		d->queryable_us = pga_mono_us() - r->start_us;
		r->t.days_done++;
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void *
finisher_main(void *arg)
{
	struct finisher *fn = arg;
	struct rs_run *r = fn->r;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (r->fatal || r->stopped)
			break;
		if (r->late_head < r->nlate) {
			struct rs_late late = r->late[r->late_head++];

			pthread_mutex_unlock(&r->mu);
			slow_load(fn, late.day, &late.s);
			pthread_mutex_lock(&r->mu);
			continue;
		}
		if (r->fin_head < r->fin_len) {
			struct rs_day *d = &r->days[r->fin_q[r->fin_head++]];

			pthread_mutex_unlock(&r->mu);
			finish_day(fn, d);
			pthread_mutex_lock(&r->mu);
			continue;
		}
		if (r->workers_left == 0)
			break;
		pthread_cond_wait(&r->cv, &r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- planning: days listed and fetched ahead of the workers ---- */

static int
plan_day(struct rs_run *r, struct rs_day *d, struct pga_err *err)
{
	struct rs_seg *segs = NULL;
	size_t n = 0;
	int rc = rs_catalog_list_day(r->cat, d->day, &segs, &n, err);

	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct rs_item *it = rs_fetch_want(r->fetch, &segs[i]);

		if (it == NULL)
			rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		else
			rc = want_add(d, &segs[i], it, err);
		if (rc == 0 && segs[i].coll >= 0)
			d->colls[segs[i].coll] = 1;
	}
	/* what was carried in before it was planned gets fetched now */
	for (size_t i = 0; rc == 0 && i < d->nwant; i++)
		if (d->want[i].item == NULL && i < d->nwant - n)
			d->want[i].item = rs_fetch_want(r->fetch, &d->want[i].s);
	if (rc == 0)
		d->state = RS_PLANNED;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	free(segs);
	return rc;
}

/* Main thread: plan while the workers work, RS_PLAN_AHEAD days beyond them. */
static int
plan_all(struct rs_run *r, int jobs, struct pga_err *err)
{
	int rc = 0;

	while (rc == 0 && !stopping(r)) {
		size_t i;

		pthread_mutex_lock(&r->mu);
		while (!r->fatal && !r->stopped && r->next_plan < r->ndays &&
		       r->next_plan >= r->next_work + (size_t)jobs + RS_PLAN_AHEAD)
			pthread_cond_wait(&r->cv, &r->mu);
		i = r->next_plan < r->ndays ? r->next_plan++ : r->ndays;
		pthread_mutex_unlock(&r->mu);
		if (i == r->ndays)
			break;
		rc = plan_day(r, &r->days[i], err);
	}
	return rc;
}

/* ---- setting up ---- */

/*
 * Every day of the source is planned: a segment is named after its
 * creation, and a segment named after --until (or before --since) may
 * still hold snapshots inside the window (a collector that caught up, a
 * `pga spool put --time`), so none is left unread; its footer says, and
 * the loader filters it without loading anything.  Days within a day of
 * the window come first, in the order asked; the others last.
 */
static int
build_days(struct rs_run *r, struct pga_err *err)
{
	const struct load_opts *lo = &r->o->lo;
	size_t n, k = 0, nc = rs_catalog_ncollectors(r->cat), pos = 0;
	const int32_t *days = rs_catalog_days(r->cat, &n);
	int32_t lo_day = lo->since == INT64_MIN ? INT32_MIN : rs_day_of(lo->since) - 1;
	int32_t hi_day = lo->until == INT64_MAX ? INT32_MAX : rs_day_of(lo->until) + 1;
	bool newest = r->o->order == RESTORE_NEWEST_FIRST;

	r->days = calloc(n ? n : 1, sizeof(*r->days));
	r->sorted = calloc(n ? n : 1, sizeof(*r->sorted));
	r->sorted_idx = calloc(n ? n : 1, sizeof(*r->sorted_idx));
	r->fin_q = calloc(n ? n : 1, sizeof(*r->fin_q));
	if (r->days == NULL || r->sorted == NULL || r->sorted_idx == NULL || r->fin_q == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	r->ndays = n;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			size_t at = newest ? n - 1 - i : i;
			bool inside = days[at] >= lo_day && days[at] <= hi_day;

			if (inside != (pass == 0))
				continue;
			r->days[pos].day = days[at];
			r->days[pos].colls = calloc(nc ? nc : 1, 1);
			if (r->days[pos].colls == NULL)
				return pga_fail(err, PGA_ENOMEM, "out of memory");
			pos++;
		}
	for (size_t i = 0; i < n; i++) {
		r->sorted[k] = days[i];
		for (size_t p = 0; p < n; p++)
			if (r->days[p].day == days[i])
				r->sorted_idx[k] = p;
		k++;
	}
	return 0;
}

/* Ledger collectors this source does not have: data from elsewhere. */
static int
check_ledger(struct rs_run *r, struct loader *l, struct pga_err *err)
{
	struct load_ledger_collector *lc = NULL;
	size_t n = 0;
	int rc = loader_ledger_summary(l, &lc, &n, err);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		r->t.already_segments += lc[i].segments;
		r->t.already_rows += lc[i].rows;
		if (rs_catalog_collector_index(r->cat, lc[i].collector) < 0)
			rc = pga_fail(err, PGA_EINVAL, "the central database holds %" PRIu64
				      " segments of collector '%s', which '%s' does not have: it holds"
				      " data from another source; restore into a fresh database, or"
				      " add this source with 'pga load --from'", lc[i].segments,
				      lc[i].collector, r->o->from);
	}
	if (rc == 0 && r->t.already_segments > 0)
		log_info("the central database holds %" PRIu64 " segments (%" PRIu64 " rows) of this"
			 " source already: continuing, nothing is loaded twice",
			 r->t.already_segments, r->t.already_rows);
	free(lc);
	return rc;
}

/* Day tables an interrupted restore committed and never attached. */
static int
finish_leftovers(struct rs_run *r, struct loader *l, struct pga_err *err)
{
	struct load_day_table *t = NULL;
	size_t n = 0;
	int rc = loader_day_unattached(l, &t, &n, err);

	if (rc == 0 && n > 0)
		log_info("%zu day tables of an interrupted restore: indexing and attaching them", n);
	free(t);
	return rc == 0 ? attach_strays(l, r->o, 0, true, err) : rc;
}

static void
say_wal_level(struct rs_run *r, struct loader *l)
{
	struct pga_err err = {0};

	if (loader_wal_level(l, r->wal_level, sizeof(r->wal_level), &err) < 0)
		return;
	if (strcmp(r->wal_level, "minimal") != 0)
		log_warn("wal_level is '%s': every restored row is written to the WAL too; a"
			 " restore runs about a third faster at wal_level = minimal with"
			 " max_wal_senders = 0 (restart; set them back and take a new base backup"
			 " afterwards)", r->wal_level);
}

/* ---- the run ---- */

struct threads {
	struct worker *wk;
	int nwk;
	struct finisher fin;
	bool fin_on;
	struct pga_ticker prog;
};

static int
open_loader(struct rs_run *r, struct loader **l, bool init, struct pga_err *err)
{
	struct load_opts lo = r->o->lo;

	lo.init = init;
	return loader_open(l, &lo, err);
}

static int
start_threads(struct rs_run *r, struct threads *th, struct pga_err *err)
{
	int jobs = r->o->jobs > 0 ? r->o->jobs : 1, rc = 0;

	th->wk = calloc((size_t)jobs, sizeof(*th->wk));
	if (th->wk == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	th->fin.r = r;
	rc = open_loader(r, &th->fin.l, false, err);
	if (rc == 0)
		rc = rs_reader_open(r->cat, &th->fin.rd, err);
	for (int i = 0; rc == 0 && i < jobs; i++) {
		th->wk[i].r = r;
		rc = open_loader(r, &th->wk[i].l, false, err);
		if (rc == 0)
			rc = rs_reader_open(r->cat, &th->wk[i].rd, err);
		if (rc == 0 && pthread_create(&th->wk[i].th, NULL, worker_main, &th->wk[i]) != 0)
			rc = pga_fail(err, PGA_ENOMEM, "could not start a day worker");
		if (rc == 0) {
			pthread_mutex_lock(&r->mu);
			r->workers_left++;
			pthread_mutex_unlock(&r->mu);
			th->nwk++;
		}
	}
	if (rc == 0 && pthread_create(&th->fin.th, NULL, finisher_main, &th->fin) != 0)
		rc = pga_fail(err, PGA_ENOMEM, "could not start the finisher");
	th->fin_on = rc == 0;
	if (rc == 0 && r->o->progress)
		pga_ticker_start(&th->prog, RS_PROGRESS_EVERY_US, rs_progress_line, r);
	return rc;
}

static void
stop_threads(struct rs_run *r, struct threads *th, bool planning_failed)
{
	pthread_mutex_lock(&r->mu);
	if (planning_failed)
		r->stopped = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	for (int i = 0; i < th->nwk; i++)
		pthread_join(th->wk[i].th, NULL);
	pthread_mutex_lock(&r->mu);
	r->workers_left = 0;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (th->fin_on)
		pthread_join(th->fin.th, NULL);
	pga_ticker_stop(&th->prog);
	for (int i = 0; th->wk != NULL && i < (r->o->jobs > 0 ? r->o->jobs : 1); i++) {
		loader_close(th->wk[i].l);
		rs_reader_close(th->wk[i].rd);
	}
	loader_close(th->fin.l);
	rs_reader_close(th->fin.rd);
	free(th->wk);
}

static int
exit_status(const struct rs_run *r)
{
	bool refusals = r->t.refused > 0 || r->t.blocks_refused > 0 || r->t.columns_dropped > 0 ||
			r->t.failed > 0;

	if (r->fatal || r->stopped)
		return PGA_EXIT_FAIL;
	return refusals ? PGA_EXIT_PARTIAL : PGA_EXIT_OK;
}

static void
free_run(struct rs_run *r)
{
	for (size_t i = 0; i < r->ndays; i++) {
		free(r->days[i].want);
		free(r->days[i].slow);
		free(r->days[i].tables);
		free(r->days[i].colls);
	}
	free(r->days);
	free(r->sorted);
	free(r->sorted_idx);
	free(r->fin_q);
	free(r->late);
	rs_fetch_stop(r->fetch);
	rs_catalog_free(r->cat);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

/* Set up: the database, the leftovers, the days; the main loader stays open. */
static int
prepare(struct rs_run *r, struct loader **main, struct pga_err *err)
{
	int jobs = r->o->jobs > 0 ? r->o->jobs : 1;
	int rc = open_loader(r, main, true, err);

	if (rc == 0)
		rc = check_ledger(r, *main, err);
	if (rc == 0) {
		say_wal_level(r, *main);
		rc = finish_leftovers(r, *main, err);
	}
	if (rc == 0)
		rc = build_days(r, err);
	if (rc == 0)
		rc = rs_fetch_start(&r->fetch, r->cat, jobs + 1, r->o->prefetch, err);
	return rc;
}

/* A compressed tar or one file: in its own order, segment by segment. */
static int
run_in_order(const struct restore_opts *o, FILE *out)
{
	struct load_run_opts ro = {.lo = o->lo, .from = o->from, .jobs = o->jobs,
				   .json = o->json, .progress = o->progress};

	if (o->order == RESTORE_NEWEST_FIRST)
		log_warn("'%s' can only be read in its own order (a compressed archive or a single"
			 " file): restoring it segment by segment, oldest first; an uncompressed"
			 " tar (pga spool pack) restores newest first", o->from);
	ro.lo.init = true;
	return load_run(&ro, out, NULL);
}

int
restore_run(const struct restore_opts *o, FILE *out)
{
	struct rs_run r = {.o = o};
	struct threads th = {0};
	struct loader *main = NULL;
	struct pga_err err = {0};
	int rc, status;

	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	r.start_us = pga_mono_us();
	rc = rs_catalog_open(&r.cat, o->from, o->no_manifest, &err);
	if (rc == 0 && (!rs_catalog_random(r.cat) || o->per_segment)) {
		free_run(&r);
		return run_in_order(o, out);
	}
	if (rc == 0)
		rc = prepare(&r, &main, &err);
	if (rc == 0)
		rc = start_threads(&r, &th, &err);
	if (rc < 0 && th.nwk == 0 && !th.fin_on) {
		pga_cli_error(&err);
		stop_threads(&r, &th, true);
		loader_close(main);
		free_run(&r);
		return PGA_EXIT_FAIL;
	}
	if (rc == 0)
		rc = plan_all(&r, o->jobs > 0 ? o->jobs : 1, &err);
	if (rc < 0)
		set_fatal(&r, &err);
	stop_threads(&r, &th, rc < 0);
	/* the last strays of a killed run's backends (attach_strays()) */
	if (!r.fatal && !r.stopped && attach_strays(main, o, 0, true, &err) < 0)
		set_fatal(&r, &err);
	if (r.fatal)
		log_error("stopping: %s", r.fatal_err.msg);
	else if (r.stopped)
		log_error("interrupted: run the same command again to continue where it stopped");
	r.t.elapsed_us = pga_mono_us() - r.start_us;
	if (o->json)
		rs_summary_json(&r, out);
	else
		rs_summary(&r, out);
	status = exit_status(&r);
	loader_close(main);
	free_run(&r);
	return status;
}
