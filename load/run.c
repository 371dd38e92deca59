/*
 * run.c - a whole `pga load` (or restore): source, loaders, progress
 *
 * The main thread walks the source and hands segments to ro->jobs worker
 * threads through a bounded queue; each worker owns one loader (one
 * connection).  Files are handed over by path; a tar entry is a stream
 * that is gone at the next entry, so the main thread first copies it to
 * an unlinked temporary file and hands over the descriptor (at most
 * 2 x jobs such files exist at once).
 *
 * A segment another loader holds right now (LOAD_BUSY) is put aside and
 * taken again at the end, waiting for the claim this time: by then that
 * loader has committed it (a duplicate) or failed (we load it).
 *
 * Per-segment failures (corrupt, held as a fork, rejected data) and
 * blocks or columns refused inside loaded segments are counted, logged
 * and recorded, and the run goes on: exit 2.  An error that would fail
 * every segment (loader_error_fatal(): a lost connection, permission
 * denied, a read-only or full database, a missing schema) or a source that
 * cannot be read stops the run at once, said once: exit 1.
 *
 * The summary counts what was committed: the rows of a segment that was
 * refused or rolled back are not added; a segment whose COMMIT was under
 * way when the connection was lost is counted apart, "in doubt".
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/cli.h"
#include "common/config.h"
#include "common/fsutil.h"
#include "common/grow.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/pgutil.h"
#include "common/ticker.h"
#include "common/units.h"
#include "spool/source.h"

#define COPY_BUF (256 * 1024)
#define PROGRESS_EVERY_US 250000	/* the progress line on a terminal */

struct work {
	char name[SEG_NAME_MAX];
	char *path;			/* or fd >= 0 */
	int fd;
};

struct run {
	const struct load_run_opts *ro;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct work *q;			/* ring buffer */
	size_t qcap, qhead, qlen;
	struct work *deferred;
	size_t ndeferred, deferred_cap;
	bool closed, fatal;
	int busy_workers;
	struct load_totals t;
	long expected;			/* segments in the source, -1 unknown */
	struct load_errors errors;
	struct pga_err fatal_err;
	int64_t start_us;
	bool deadline_hit;		/* the pass stopped taking segments at ro->deadline_us */
	struct loader *filter;		/* ro->skip_known: names the ledger holds */
};

static void
work_release(struct work *w)
{
	free(w->path);
	if (w->fd >= 0)
		close(w->fd);
	w->path = NULL;
	w->fd = -1;
}

/* ---- queue ---- */

static bool
queue_push(struct run *r, struct work *w)
{
	bool ok;

	pthread_mutex_lock(&r->mu);
	while (r->qlen == r->qcap && !r->fatal)
		pthread_cond_wait(&r->cv, &r->mu);
	ok = !r->fatal;
	if (ok) {
		r->q[(r->qhead + r->qlen++) % r->qcap] = *w;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return ok;
}

/* Next work item; *wait set for deferred ones.  false when all is done. */
static bool
queue_pop(struct run *r, struct work *w, bool *wait)
{
	bool got = false;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		if (r->fatal || (pga_stop_requested() && r->qlen == 0))
			break;
		if (r->qlen > 0) {
			*w = r->q[r->qhead];
			r->qhead = (r->qhead + 1) % r->qcap;
			r->qlen--;
			*wait = false;
			got = true;
			break;
		}
		if (r->closed && r->ndeferred > 0) {
			*w = r->deferred[--r->ndeferred];
			*wait = true;
			got = true;
			break;
		}
		if (r->closed && r->busy_workers == 0)
			break;
		pthread_cond_wait(&r->cv, &r->mu);
	}
	if (got)
		r->busy_workers++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return got;
}

static void
defer(struct run *r, struct work *w)
{
	pthread_mutex_lock(&r->mu);
	if (PGA_GROW(r->deferred, r->deferred_cap, r->ndeferred + 1, SIZE_MAX, NULL) == 0) {
		r->deferred[r->ndeferred++] = *w;
		w->path = NULL;
		w->fd = -1;
	}
	pthread_mutex_unlock(&r->mu);
}

/* ---- accounting ---- */

void
load_errors_note(struct load_errors *e, const char *name, const struct pga_err *err)
{
	if (e->n < LOAD_ERRORS_MAX) {
		struct load_error *x = &e->v[e->n++];

		strlcpy(x->name, name, sizeof(x->name));
		x->code = err->code;
		strlcpy(x->msg, err->msg, sizeof(x->msg));
	}
}

void
load_errors_json(const struct load_errors *e, struct jsonw *jw)
{
	jsonw_key(jw, "errors");
	jsonw_arr_open(jw);
	for (size_t i = 0; i < e->n; i++) {
		jsonw_obj_open(jw);
		jsonw_key(jw, "segment");
		jsonw_str(jw, e->v[i].name);
		jsonw_key(jw, "class");
		jsonw_str(jw, pga_err_name(e->v[i].code));
		jsonw_key(jw, "error");
		jsonw_str(jw, e->v[i].msg);
		jsonw_obj_close(jw);
	}
	jsonw_arr_close(jw);
}

static void
note_error(struct run *r, const char *name, const struct pga_err *err)
{
	load_errors_note(&r->errors, name, err);
}

/*
 * A fatal error stops the run and is logged once, by report(); a worker
 * that meets one after the first says nothing more.  Returns whether the
 * caller should log err.
 */
static bool
account(struct run *r, const struct work *w, int rc, enum load_result res,
	const struct load_seg_stats *st, const struct pga_err *err)
{
	struct load_totals *t = &r->t;
	bool log = rc < 0;

	pthread_mutex_lock(&r->mu);
	t->segments++;
	if (rc < 0 && loader_error_fatal(err)) {
		t->failed++;
		log = false;
		if (!r->fatal) {
			r->fatal = true;
			r->fatal_err = *err;
		}
	} else if (rc < 0) {
		t->refused++;
		t->conflicts += rc == PGA_ECONFLICT;
		t->held += res == LOAD_HELD;
		note_error(r, w->name, err);
	} else {
		t->loaded += res == LOAD_LOADED;
		t->duplicate += res == LOAD_DUPLICATE;
		t->filtered += res == LOAD_FILTERED;
		t->busy += res == LOAD_BUSY;
	}
	t->blocks += st->blocks;
	t->rows += st->rows;
	t->bytes += st->bytes;
	t->seg_bytes += st->seg_bytes;
	t->blocks_skipped += st->blocks_skipped;
	t->columns_dropped += st->columns_dropped;
	t->blocks_refused += st->blocks_refused;
	t->rows_refused += st->rows_refused;
	t->partial += st->partial;
	t->in_doubt += st->in_doubt;
	t->rows_in_doubt += st->rows_in_doubt;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return log;
}

static const char *
result_name(enum load_result res, bool dry)
{
	switch (res) {
	case LOAD_LOADED: return dry ? "would load" : "loaded";
	case LOAD_DUPLICATE: return "already loaded";
	case LOAD_FILTERED: return "filtered";
	case LOAD_BUSY: return "busy";
	case LOAD_HELD: return "held";
	case LOAD_DEFERRED: return "deferred";
	}
	return "?";
}

/* ---- workers ---- */

struct worker {
	struct run *r;
	struct loader *l;
	pthread_t th;
};

static void
load_one(struct worker *wk, struct work *w, bool wait)
{
	struct load_seg_stats st = {0};
	enum load_result res = LOAD_FILTERED;
	struct pga_err err = {0};
	int rc;

	loader_set_wait(wk->l, wait || w->fd >= 0);
	if (w->path != NULL)
		rc = loader_load_file(wk->l, w->name, w->path, &res, &st, &err);
	else
		rc = loader_load_fd(wk->l, w->name, w->fd, &res, &st, &err);
	if (rc == 0 && res == LOAD_BUSY && !wait) {
		log_debug("'%s' is being loaded by another loader: later", w->name);
		defer(wk->r, w);
		pthread_mutex_lock(&wk->r->mu);
		pthread_cond_broadcast(&wk->r->cv);
		pthread_mutex_unlock(&wk->r->mu);
		return;
	}
	if (account(wk->r, w, rc, res, &st, &err))
		log_err(&err);
	else if (rc == 0)
		log_debug("'%s': %s, %" PRIu64 " rows", w->name,
			  result_name(res, wk->r->ro->lo.dry_run), st.rows);
	else
		log_debug("'%s': %s", w->name, err.msg);
}

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	struct work w;
	bool wait;

	while (queue_pop(wk->r, &w, &wait)) {
		load_one(wk, &w, wait);
		work_release(&w);
		pthread_mutex_lock(&wk->r->mu);
		wk->r->busy_workers--;
		pthread_cond_broadcast(&wk->r->cv);
		pthread_mutex_unlock(&wk->r->mu);
	}
	return NULL;
}

/* ---- producer ---- */

static int
copy_to_tmp(const struct seg_item *it, int *fd_out, struct pga_err *err)
{
	const char *tmp = getenv("TMPDIR");
	char *buf = malloc(COPY_BUF);
	int fd, rc = 0;

	*fd_out = -1;
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (buf == NULL || fd < 0) {
		rc = buf == NULL ? pga_fail(err, PGA_ENOMEM, "out of memory")
				 : pga_fail(err, PGA_EIO, "could not create a temporary file in '%s': %m", tmp);
		goto out;
	}
	for (;;) {
		ssize_t n = it->read(it->ctx, buf, COPY_BUF);

		if (n < 0) {
			rc = pga_fail(err, PGA_EIO, "could not read '%s' from the archive: %m", it->name);
			break;
		}
		if (n == 0)
			break;
		rc = pga_write_all(fd, buf, (size_t)n, tmp, err);
		if (rc < 0)
			break;
	}
out:
	free(buf);
	if (rc < 0 && fd >= 0)
		close(fd);
	else
		*fd_out = fd;
	return rc;
}

static int
produce(struct run *r, struct seg_source *src, struct pga_err *err)
{
	struct seg_item it;
	int rc = 0;

	while (!pga_stop_requested()) {
		struct work w = {.fd = -1};

		if (r->ro->deadline_us > 0 && pga_mono_us() >= r->ro->deadline_us) {
			r->deadline_hit = true;
			return 0;
		}
		rc = seg_source_next(src, &it, err);
		if (rc != 1)
			break;

		strlcpy(w.name, it.name, sizeof(w.name));
		if (it.path != NULL) {
			w.path = strdup(it.path);
			if (w.path == NULL)
				return pga_fail(err, PGA_ENOMEM, "out of memory");
		} else if (it.fd >= 0) {
			/* already a local copy (a bucket object): keep it, no second copy */
			w.fd = dup(it.fd);
			if (w.fd < 0)
				return pga_fail(err, PGA_EIO, "could not keep '%s': %m", it.name);
		} else {
			rc = copy_to_tmp(&it, &w.fd, err);
			if (rc < 0)
				return rc;
		}
		if (!queue_push(r, &w)) {
			work_release(&w);
			return 0;
		}
	}
	return pga_stop_requested() ? pga_fail(err, PGA_ECANCEL, "interrupted") : rc;
}

/* ---- progress ---- */

static void
print_progress(void *arg, bool final)
{
	struct run *r = arg;
	char size[16], eta[24] = "";
	int64_t el = pga_mono_us() - r->start_us;
	double secs = el > 0 ? (double)el / 1e6 : 1e-6;
	struct load_totals t;

	pthread_mutex_lock(&r->mu);
	t = r->t;
	pthread_mutex_unlock(&r->mu);
	pga_format_size(t.bytes, size, sizeof(size));
	if (r->expected > 0 && t.segments > 0 && (long)t.segments < r->expected) {
		char d[16];

		pga_format_duration((int64_t)((double)el / (double)t.segments *
					      (double)(r->expected - (long)t.segments)), d, sizeof(d));
		snprintf(eta, sizeof(eta), "  ETA %s", d);
	}
	if (r->expected > 0)
		fprintf(stderr, "\r\033[K%" PRIu64 "/%ld segments  %" PRIu64 " rows  %s  %.1f MB/s%s",
			t.segments, r->expected, t.rows, size, (double)t.bytes / 1e6 / secs, eta);
	else
		fprintf(stderr, "\r\033[K%" PRIu64 " segments  %" PRIu64 " rows  %s  %.1f MB/s",
			t.segments, t.rows, size, (double)t.bytes / 1e6 / secs);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* ---- summary ---- */

/* error: what stopped the run or failed it (NULL: nothing), as on stderr */
static void
print_json(const struct run *r, const char *error, FILE *out)
{
	const struct load_totals *t = &r->t;
	struct jsonw jw;

	jsonw_init(&jw, out);
	jsonw_obj_open(&jw);
#define U(k, v) do { jsonw_key(&jw, k); jsonw_u64(&jw, v); } while (0)
	jsonw_key(&jw, "dry_run");
	jsonw_bool(&jw, r->ro->lo.dry_run);
	U("segments", t->segments);
	U("loaded", t->loaded);
	U("duplicate", t->duplicate);
	U("filtered", t->filtered);
	U("refused", t->refused);
	U("conflicts", t->conflicts);
	U("held", t->held);
	U("failed", t->failed);
	U("partial", t->partial);
	U("blocks", t->blocks);
	U("rows", t->rows);
	U("in_doubt", t->in_doubt);
	U("rows_in_doubt", t->rows_in_doubt);
	U("bytes", t->bytes);
	U("segment_bytes", t->seg_bytes);
	U("blocks_skipped", t->blocks_skipped);
	U("blocks_refused", t->blocks_refused);
	U("rows_refused", t->rows_refused);
	U("columns_dropped", t->columns_dropped);
	U("partitions_dropped", t->partitions_dropped);
	U("partitions_busy", t->partitions_busy);
	U("known", t->known);
	jsonw_key(&jw, "deadline_reached");
	jsonw_bool(&jw, r->deadline_hit);
#undef U
	jsonw_key(&jw, "elapsed_seconds");
	jsonw_seconds(&jw, t->elapsed_us);
	jsonw_key(&jw, "error");
	if (error != NULL)
		jsonw_str(&jw, error);
	else
		jsonw_null(&jw);
	load_errors_json(&r->errors, &jw);
	jsonw_obj_close(&jw);
	jsonw_end(&jw);
}

static void
print_summary(const struct run *r, FILE *out)
{
	const struct load_totals *t = &r->t;
	double secs = (double)t->elapsed_us / 1e6;
	char size[16];

	pga_format_size(t->bytes, size, sizeof(size));
	fprintf(out, "%s %" PRIu64 " of %" PRIu64 " segments (%" PRIu64 " already loaded, %" PRIu64
		" filtered, %" PRIu64 " refused): %" PRIu64 " rows, %s in %.2fs (%.1f MB/s)",
		r->ro->lo.dry_run ? "would load" : "loaded", t->loaded, t->segments, t->duplicate,
		t->filtered, t->refused, t->rows, size, secs,
		secs > 0 ? (double)t->bytes / 1e6 / secs : 0.0);
	if (t->partial)
		fprintf(out, ", %" PRIu64 " in part (time window)", t->partial);
	if (t->held)
		fprintf(out, ", %" PRIu64 " held centrally as forks", t->held);
	if (t->blocks_refused)
		fprintf(out, ", %" PRIu64 " blocks refused (%" PRIu64 " rows)", t->blocks_refused,
			t->rows_refused);
	if (t->columns_dropped)
		fprintf(out, ", %" PRIu64 " unknown columns dropped", t->columns_dropped);
	if (t->failed)
		fprintf(out, ", %" PRIu64 " not loaded (the run stopped)", t->failed);
	if (t->in_doubt)
		fprintf(out, ", %" PRIu64 " in doubt (connection lost during COMMIT, %" PRIu64
			" rows not counted: load again to settle)", t->in_doubt, t->rows_in_doubt);
	if (t->partitions_dropped || t->partitions_busy)
		fprintf(out, ", %" PRIu64 " partitions dropped", t->partitions_dropped);
	if (t->known)
		fprintf(out, ", %" PRIu64 " in the ledger already, not read again", t->known);
	if (r->deadline_hit)
		fprintf(out, "; load-deadline reached: the rest is for the next pass");
	fputc('\n', out);
}

/* ---- the source, and what of it the ledger holds ---- */

/* seg_source filter: names whose segment the ledger holds complete. */
static int
filter_known(void *ctx, const char *const *names, size_t n, bool *keep, struct pga_err *err)
{
	struct run *r = ctx;
	bool known[SEG_FILTER_BATCH] = {0};
	int rc = n <= SEG_FILTER_BATCH ? loader_known(r->filter, names, n, known, err)
				       : pga_fail(err, PGA_EINTERNAL, "filter batch too large");

	for (size_t i = 0; rc == 0 && i < n; i++)
		keep[i] = !known[i];
	return rc;
}

static int
open_source(struct run *r, struct seg_source **src, struct pga_err *err)
{
	struct seg_source_opts so;
	struct load_opts lo = r->ro->lo;
	int rc;

	seg_source_get_defaults(&so);
	if (r->ro->skip_known) {
		lo.init = false;
		rc = loader_open(&r->filter, &lo, err);
		if (rc < 0)
			return rc;
		so.filter = filter_known;
		so.filter_ctx = r;
	}
	return seg_source_open_opts(src, r->ro->from, &so, err);
}

/* ---- the run ---- */

static int
open_loaders(struct run *r, struct worker *wk, int jobs, struct pga_err *err)
{
	struct load_opts lo = r->ro->lo;
	int rc = loader_open(&wk[0].l, &lo, err);

	lo.init = false;	/* the first one did it */
	for (int i = 1; rc == 0 && i < jobs; i++)
		rc = loader_open(&wk[i].l, &lo, err);
	return rc;
}

static int
start_workers(struct run *r, struct worker *wk, int jobs, int *started,
	      struct pga_err *err)
{
	for (int i = 0; i < jobs; i++) {
		wk[i].r = r;
		if (pthread_create(&wk[i].th, NULL, worker_main, &wk[i]) != 0)
			return pga_fail(err, PGA_ENOMEM, "could not start a loader thread");
		(*started)++;
	}
	return 0;
}

static int
finish(struct run *r, struct worker *wk, struct pga_err *err)
{
	int rc = 0;

	if (r->ro->retain_us > 0 && !r->ro->lo.dry_run && !r->fatal)
		rc = loader_retain(wk[0].l, pga_now_us() - r->ro->retain_us,
				   &r->t.partitions_dropped, &r->t.partitions_busy, err);
	if (!r->ro->lo.dry_run && !r->fatal)
		ld_warn_gaps(wk[0].l);
	return rc;
}

static int
exit_status(const struct run *r, int rc)
{
	uint64_t ok = r->t.loaded + r->t.duplicate + r->t.filtered;
	bool refusals = r->t.refused > 0 || r->t.blocks_refused > 0 || r->t.columns_dropped > 0;

	if (r->fatal || (rc < 0 && ok == 0))
		return PGA_EXIT_FAIL;
	if (rc < 0 || refusals)
		return ok > 0 || refusals ? PGA_EXIT_PARTIAL : PGA_EXIT_FAIL;
	return r->deadline_hit ? PGA_EXIT_PARTIAL : PGA_EXIT_OK;
}

/* Close the queue, wait for the workers (they drain it) and the progress line. */
static void
stop_all(struct run *r, struct worker *wk, int started, bool nothing_ran,
	 struct pga_ticker *prog)
{
	pthread_mutex_lock(&r->mu);
	r->closed = true;
	if (nothing_ran)
		r->fatal = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	for (int i = 0; i < started; i++)
		pthread_join(wk[i].th, NULL);
	pga_ticker_stop(prog);
}

static void
release_all(struct run *r, struct worker *wk, int jobs, struct seg_source *src)
{
	for (size_t i = 0; i < r->qlen; i++)
		work_release(&r->q[(r->qhead + i) % r->qcap]);
	for (size_t i = 0; i < r->ndeferred; i++)
		work_release(&r->deferred[i]);
	for (int i = 0; wk != NULL && i < jobs; i++)
		loader_close(wk[i].l);
	seg_source_free(src);
	free(r->deferred);
	free(r->q);
	free(wk);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

/* After the segments: retention, gap warnings, the summary; the exit status. */
static int
report(struct run *r, struct worker *wk, int rc, struct pga_err *err, FILE *out)
{
	if (rc < 0)
		log_err(err);
	if (r->fatal)
		log_error("stopping: %s", r->fatal_err.msg);
	if (rc == 0 && finish(r, wk, err) < 0) {
		log_err(err);
		rc = err->code;
	}
	r->t.elapsed_us = pga_mono_us() - r->start_us;
	if (r->ro->json)
		print_json(r, r->fatal ? r->fatal_err.msg : rc < 0 ? err->msg : NULL, out);
	else
		print_summary(r, out);
	return exit_status(r, rc);
}

int
load_run(const struct load_run_opts *ro, FILE *out, struct load_totals *tot)
{
	int jobs = ro->jobs > 0 ? ro->jobs : 1, started = 0, rc, status;
	struct worker *wk = calloc((size_t)jobs, sizeof(*wk));
	struct run r = {.ro = ro, .qcap = (size_t)jobs * 2, .expected = -1};
	struct seg_source *src = NULL;
	struct pga_err err = {0};
	struct pga_ticker prog = {0};

	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	r.q = calloc(r.qcap, sizeof(*r.q));
	r.start_us = pga_mono_us();
	rc = wk && r.q ? 0 : pga_fail(&err, PGA_ENOMEM, "out of memory");
	if (rc == 0)
		rc = open_loaders(&r, wk, jobs, &err);
	if (rc == 0)
		rc = open_source(&r, &src, &err);
	if (rc == 0) {
		r.expected = seg_source_count(src);
		rc = start_workers(&r, wk, jobs, &started, &err);
	}
	if (rc == 0 && ro->progress)
		pga_ticker_start(&prog, PROGRESS_EVERY_US, print_progress, &r);
	if (rc == 0)
		rc = produce(&r, src, &err);
	if (src != NULL)
		r.t.known = seg_source_filtered(src);
	stop_all(&r, wk, started, rc < 0 && started == 0, &prog);
	if (rc < 0 && started == 0) {
		/* nothing ran: a connection, schema or source problem (--json
		 * still gets its summary: a monitor reads one on every exit) */
		pga_cli_error(&err);
		r.t.elapsed_us = pga_mono_us() - r.start_us;
		if (ro->json)
			print_json(&r, err.msg, out);
		status = PGA_EXIT_FAIL;
	} else {
		status = report(&r, wk, rc, &err, out);
	}
	if (tot != NULL)
		*tot = r.t;
	loader_close(r.filter);
	release_all(&r, wk, jobs, src);
	return status;
}

/* ---- shared by pga load and pga restore ---- */

int
load_resolve_common(struct load_run_opts *ro, const struct pga_config *cfg,
		    const char *since, const char *until, struct pga_err *err)
{
	struct load_opts *lo = &ro->lo;
	int64_t now = pga_now_us();

	lo->conninfo = cfg->global.central;
	lo->require_signature = cfg->global.require_signature;
	if (lo->schema == NULL)
		lo->schema = cfg->global.central_schema;
	lo->since = INT64_MIN;
	lo->until = INT64_MAX;
	if (since && pga_parse_time(since, now, &lo->since, err) < 0)
		return pga_err_prefix(err, "--since");
	if (until && pga_parse_time(until, now, &lo->until, err) < 0)
		return pga_err_prefix(err, "--until");
	if (lo->since > lo->until)
		return pga_fail(err, PGA_EINVAL, "--since is after --until");
	if (lo->conninfo == NULL || *lo->conninfo == '\0')
		return pga_fail(err, PGA_EINVAL,
				"no central database: give --db or set 'central' in [global]");
	ro->jobs = (int)cfg->global.load_jobs;
	return 0;
}
