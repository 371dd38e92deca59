/*
 * ship.c - the shipping engine: one runner thread per destination, each
 * with max-parallel upload slots; see ship.h for the rules.
 *
 * Threads: the main thread starts the runners, flushes counters every
 * second and does the housekeeping (retention, stale markers).  A runner
 * lists ready/, picks what its destination has not acknowledged, and lets
 * its slot threads take segments in order from a shared index.  A slot
 * owns one struct dest (one connection) and delivers one segment at a time
 * with retries.  Shared between threads: the spool handle (path-based
 * calls only), the prep table (locked), counters (atomics) and each
 * runner's state (its mutex).
 */
#define _GNU_SOURCE
#include "ship/ship.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <bsd/libutil.h>
#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/grow.h"
#include "common/log.h"
#include "common/units.h"
#include "ship/dest.h"
#include "ship/ratelimit.h"
#include "ship/ship_int.h"
#include "spool/spool.h"

#define SHIP_GRACE_US (10 * PGA_USEC_PER_SEC)
#define SHIP_FLUSH_US (200 * 1000)
/* how soon the main thread sees a signal or the runners' end */
#define SHIP_SUPERVISE_US (20 * 1000)
#define SHIP_PROGRESS_US (250 * 1000)	/* the progress line, on a terminal */
#define SHIP_STATE_EVERY_US PGA_USEC_PER_SEC
#define SHIP_SLICE_US (100 * 1000)
#define SHIP_MAX_DESTS 64

struct shipper;

struct runner {
	struct shipper *sh;
	const struct pga_dest *cfg;
	char what[PGA_NAME_MAX + 16];
	struct dest **slots;
	size_t nslots;
	struct dest_shared *shared;	/* what the slots share (a listing, a token) */
	struct ratelimit rl;
	pthread_t thread;
	bool started;
	atomic_bool done;		/* the runner thread has finished */
	/* the pass in progress */
	struct spool_list list;
	size_t *pending;
	size_t npending;
	atomic_size_t next;
	atomic_bool failed;		/* stop taking segments this pass */
	bool stopped;			/* conflict: for the rest of the process */
	int outcome;			/* last pass: 0 ok, else the error code */
	uint64_t pass_delivered, pass_bytes;
	/* persistent state, under mu */
	pthread_mutex_t mu;
	struct ship_dest_state st;
	int64_t st_written_us;
};

/* What a configuration decides; a reload builds a new set beside the old. */
struct dest_set {
	const struct pga_config *cfg;
	struct pga_config *owned;	/* cfg when it came from a reload */
	struct runner *runners;
	size_t nrunners;
	const char *enabled[SHIP_MAX_DESTS];	/* every enabled destination */
	size_t nenabled;
	bool retain_shipped;
	int64_t retain_us;
};

/* A removal queued for the reaper, with the hold that keeps drop-oldest off it. */
struct reap_item {
	char name[SEG_NAME_MAX];
	int hold;			/* spool_hold's fd, closed once removed; or -1 */
};

struct shipper {
	struct dest_set ds;
	const struct ship_opts *o;
	struct spool *sp;
	char spool[PATH_MAX];
	char root[PATH_MAX];		/* SPOOL/ship (spool_part_dir), "" until the spool is open */
	int lock_fd;
	struct ship_prep *prep;
	int64_t deadline_us;		/* monotonic; 0: none */
	atomic_bool stop;		/* SIGTERM/SIGINT seen by the main thread */
	atomic_bool draining;		/* SIGHUP: finish what is in flight, then reload */
	atomic_llong stop_seen_us;
	atomic_ullong c_delivered, c_bytes, c_errors;
	/* the progress line: what this run found pending and has delivered */
	atomic_ullong p_pending, p_delivered, p_bytes;
	int64_t p_start_us, p_last_us;
	/* removals of fully shipped segments, done off the upload path */
	pthread_mutex_t reap_mu;
	pthread_cond_t reap_cv;
	struct reap_item *reap;
	size_t nreap, reap_cap;
	bool reap_busy, reap_stop, reaper_started;
	pthread_t reaper;
};

/* ---- stopping ---- */

static bool
deadline_passed(const struct shipper *sh)
{
	return sh->deadline_us != 0 && pga_mono_us() >= sh->deadline_us;
}

/*
 * Signals are blocked in every thread but the main one, which turns the
 * signal flag into sh->stop: the other threads only read the atomic.
 */
static bool
stopping(const struct shipper *sh)
{
	return atomic_load(&sh->stop) || deadline_passed(sh);
}

/* Cancel callback of every dest: abandon in-flight work after the grace. */
static bool
ship_cancel(void *ctx)
{
	struct shipper *sh = ctx;
	long long seen, now;

	if (!stopping(sh))
		return false;
	now = pga_mono_us();
	seen = atomic_load(&sh->stop_seen_us);
	if (seen == 0) {
		atomic_compare_exchange_strong(&sh->stop_seen_us, &seen, now);
		return false;
	}
	return now - seen > SHIP_GRACE_US;
}

/*
 * SIGHUP in --loop: no slot takes another segment, what is in flight
 * finishes (it is not cancelled), runners end their pass; then the main
 * thread reads the configuration again (ship_reload).
 */
static bool
winding_down(const struct shipper *sh)
{
	return stopping(sh) || atomic_load(&sh->draining);
}

/* Sleep up to us, waking early on stop or reload; true if winding down. */
static bool
nap(const struct shipper *sh, int64_t us)
{
	int64_t end = pga_mono_us() + us;

	while (!winding_down(sh)) {
		int64_t left = end - pga_mono_us();
		struct timespec ts;

		if (left <= 0)
			return false;
		if (left > SHIP_SLICE_US)
			left = SHIP_SLICE_US;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000;
		nanosleep(&ts, NULL);
	}
	return true;
}

/* ---- per-destination state ---- */

static void
runner_save_state(struct runner *r, bool force)
{
	struct pga_err err = {0};
	struct ship_dest_state copy;
	int64_t now = pga_mono_us();

	pthread_mutex_lock(&r->mu);
	if (!force && now - r->st_written_us < SHIP_STATE_EVERY_US) {
		pthread_mutex_unlock(&r->mu);
		return;
	}
	r->st_written_us = now;
	copy = r->st;
	pthread_mutex_unlock(&r->mu);
	if (ship_state_write(r->sh->root, r->cfg->name, &copy, &err) < 0)
		log_warn("%s: could not save its state: %s", r->what, err.msg);
}

/*
 * The first failure of a streak reaches the state file before the spool
 * counters can count it (they are flushed by another thread): otherwise
 * `pga ship --status` could show ship_errors rising beside "last error:
 * never" (4801 saw it).  Later failures are saved at most once a second.
 */
static void
runner_note_error(struct runner *r, const struct pga_err *err)
{
	bool first;

	pthread_mutex_lock(&r->mu);
	r->st.errors++;
	r->st.last_error_us = pga_now_us();
	first = r->st.failing_since_us == 0;
	if (first)
		r->st.failing_since_us = r->st.last_error_us;
	strlcpy(r->st.last_error, err->msg, sizeof(r->st.last_error));
	pthread_mutex_unlock(&r->mu);
	runner_save_state(r, first);
	atomic_fetch_add(&r->sh->c_errors, 1);
}

/* ---- delivering one segment ---- */

static int
deliver(struct runner *r, struct dest *d, const struct dest_upload *up,
	struct pga_err *err)
{
	long long attempts = r->cfg->retries + 1;
	int rc;

	for (int a = 1;; a++) {
		int64_t wait;

		rc = d->ops->put(d, up, err);
		if (rc == 0 || rc == PGA_ENOTFOUND)
			return rc;
		if (rc == PGA_ECANCEL)
			return rc;
		runner_note_error(r, err);
		if (!dest_retryable(rc) || a >= attempts || stopping(r->sh) ||
		    atomic_load(&r->failed))
			return rc;
		if (atomic_load(&r->sh->draining)) {
			log_warn("%s (attempt %d of %lld for '%s'); trying again after the reload",
				 err->msg, a, attempts, up->name);
			return pga_fail(err, PGA_ECANCEL, "reloading");
		}
		wait = dest_backoff_us(a, r->cfg->retry_max_delay);
		log_warn("%s (attempt %d of %lld for '%s'); retrying in %lld ms",
			 err->msg, a, attempts, up->name, (long long)(wait / 1000));
		if (nap(r->sh, wait))
			return pga_fail(err, PGA_ECANCEL, "stopping");
	}
}

/* Every enabled destination but skip (NULL: none) has acknowledged name. */
static bool
acked_by_all(struct shipper *sh, const char *skip, const char *name)
{
	struct ship_ack ack;

	for (size_t i = 0; i < sh->ds.nenabled; i++)
		if ((skip == NULL || strcmp(sh->ds.enabled[i], skip) != 0) &&
		    !ship_ack_read(sh->root, sh->ds.enabled[i], name, &ack))
			return false;
	return true;
}

/* The segment leaves the spool, then its markers (a crash between: GC'd). */
static int
remove_shipped(struct shipper *sh, const char *name)
{
	struct pga_err err = {0};

	if (spool_remove(sh->sp, name, &err) == PGA_ELOCKED) {
		/* its markers stay: housekeeping removes it once the writer has
		 * recorded it (or a writer that starts again chains to it) */
		log_debug("shipped segment '%s' stays for now: %s", name, err.msg);
		return err.code;
	}
	if (err.code < 0) {
		log_error("could not remove shipped segment '%s': %s", name, err.msg);
		return err.code;
	}
	log_debug("removed shipped segment '%s'", name);
	for (size_t i = 0; i < sh->ds.nenabled; i++)
		ship_ack_remove(sh->root, sh->ds.enabled[i], name);
	prep_forget(sh->prep, name);
	return 0;
}

static void
maybe_remove(struct shipper *sh, const char *name)
{
	if (acked_by_all(sh, NULL, name))
		remove_shipped(sh, name);
}

/*
 * Removal (an unlink and a directory fsync in the spool) is handed to the
 * reaper thread, so an upload slot goes on to its next segment at once.
 * Until the removal is durable a crash means one harmless resend.  false:
 * the queue could not take it (the caller writes a marker instead).
 */
static bool
reap_later(struct shipper *sh, const char *name, int *hold)
{
	bool ok = true;

	pthread_mutex_lock(&sh->reap_mu);
	if (PGA_GROW(sh->reap, sh->reap_cap, sh->nreap + 1, SIZE_MAX, NULL) < 0)
		ok = false;
	if (ok) {
		struct reap_item *it = &sh->reap[sh->nreap++];

		strlcpy(it->name, name, sizeof(it->name));
		it->hold = *hold;	/* the reaper's now */
		*hold = -1;
		pthread_cond_broadcast(&sh->reap_cv);	/* idle waiters share the cv */
	}
	pthread_mutex_unlock(&sh->reap_mu);
	return ok;
}

static void *
reaper_main(void *arg)
{
	struct shipper *sh = arg;
	struct reap_item it;

	pthread_mutex_lock(&sh->reap_mu);
	for (;;) {
		while (sh->nreap == 0 && !sh->reap_stop)
			pthread_cond_wait(&sh->reap_cv, &sh->reap_mu);
		if (sh->nreap == 0)
			break;
		it = sh->reap[--sh->nreap];
		sh->reap_busy = true;
		pthread_mutex_unlock(&sh->reap_mu);
		remove_shipped(sh, it.name);
		if (it.hold >= 0)
			close(it.hold);
		pthread_mutex_lock(&sh->reap_mu);
		sh->reap_busy = false;
		pthread_cond_broadcast(&sh->reap_cv);
	}
	pthread_mutex_unlock(&sh->reap_mu);
	return NULL;
}

/*
 * Wait until every queued removal is done: a segment whose last
 * confirmation left no marker must be gone before a new pass lists ready/,
 * or it would be sent again.
 */
static void
reap_wait_idle(struct shipper *sh)
{
	pthread_mutex_lock(&sh->reap_mu);
	while (sh->reaper_started && (sh->nreap > 0 || sh->reap_busy))
		pthread_cond_wait(&sh->reap_cv, &sh->reap_mu);
	pthread_mutex_unlock(&sh->reap_mu);
}

/*
 * Record a confirmed delivery.  With spool-retain = shipped, the last
 * destination to confirm has the segment removed at once: its marker is
 * written but not fsync'd (it lives only until that removal, and a power
 * cut before the removal is durable costs one harmless resend), and the
 * segment's hold goes to the reaper with it.  So until the removal a full
 * spool's drop-oldest passes the segment over, and a ship killed in
 * between leaves the marker that tells drop-oldest every destination has
 * it (spool_where): a delivered segment is never counted as dropped.
 * Otherwise the marker is written and fsync'd, then the others are looked
 * at again (two destinations finishing together: the later one's second
 * look sees both).  *hold is -1 when the reaper took it.
 */
static int
record_ack(struct runner *r, const struct dest_upload *up, int64_t now, int *hold,
	   struct pga_err *err)
{
	struct shipper *sh = r->sh;
	struct ship_ack ack = {.size = up->size, .acked_us = now};
	bool last = sh->ds.retain_shipped && acked_by_all(sh, r->cfg->name, up->name);
	int rc;

	memcpy(ack.sha256, up->sha256, PGA_SHA256_LEN);
	rc = ship_ack_write(sh->root, r->cfg->name, up->name, &ack, !last, err);
	if (rc < 0 && last) {	/* a hint only: the removal goes on (a full disk needs it) */
		log_debug("%s (removing it all the same)", err->msg);
		pga_err_clear(err);
		rc = 0;
	}
	if (rc < 0)
		return rc;
	/* not last: another destination may have confirmed meanwhile */
	if (!last && !(sh->ds.retain_shipped && acked_by_all(sh, NULL, up->name)))
		return 0;
	if (reap_later(sh, up->name, hold) || !last)
		return 0;
	/* the queue could not take it: housekeeping removes it, by a marker that lasts */
	return ship_ack_write(sh->root, r->cfg->name, up->name, &ack, true, err);
}

static int
acknowledge(struct runner *r, const struct dest_upload *up, int *hold, struct pga_err *err)
{
	struct shipper *sh = r->sh;
	int64_t now = pga_now_us();
	int rc = record_ack(r, up, now, hold, err);

	if (rc < 0)
		return rc;
	atomic_fetch_add(&sh->c_delivered, 1);
	atomic_fetch_add(&sh->c_bytes, up->size);
	atomic_fetch_add(&sh->p_delivered, 1);
	atomic_fetch_add(&sh->p_bytes, up->size);
	pthread_mutex_lock(&r->mu);
	r->st.delivered++;
	r->st.bytes += up->size;
	r->st.last_success_us = now;
	r->st.failing_since_us = 0;
	r->pass_delivered++;
	r->pass_bytes += up->size;
	pthread_mutex_unlock(&r->mu);
	runner_save_state(r, false);
	log_debug("%s: shipped '%s' (%" PRIu64 " bytes)", r->what, up->name, up->size);
	return 0;
}

/* Prepare, deliver and acknowledge one segment; 0 also when skipped. */
static int
ship_one(struct runner *r, struct dest *d, const struct spool_entry *e,
	 struct pga_err *err)
{
	struct shipper *sh = r->sh;
	struct dest_upload up = {.name = e->name};
	struct prep_info info;
	enum prep_state state;
	char path[PATH_MAX];
	int hold = -1, rc;

	rc = prep_get(sh->prep, sh->sp, e->name, &info, &state, err);
	if (rc < 0 || state != PREP_OK)
		return rc;	/* quarantined or dropped: nothing to ship */
	rc = spool_ready_path(sh->sp, e->name, path, sizeof(path), err);
	/* held, a full spool's drop-oldest passes it over: never dropped and delivered */
	if (rc == 0)
		rc = spool_hold(sh->sp, e->name, &hold, err);
	if (rc == PGA_ENOTFOUND) {
		log_debug("'%s' left the spool before shipping it", e->name);
		pga_err_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	up.path = path;
	up.size = info.size;
	memcpy(up.sha256, info.sha256, PGA_SHA256_LEN);
	memcpy(up.md5, info.md5, sizeof(up.md5));
	rc = deliver(r, d, &up, err);
	if (rc == PGA_ENOTFOUND && access(path, F_OK) != 0) {
		log_debug("'%s' left the spool while shipping it", e->name);
		pga_err_clear(err);
		rc = 0;
	} else if (rc == 0) {
		rc = acknowledge(r, &up, &hold, err);
	}
	if (hold >= 0)
		close(hold);
	return rc;
}

struct slot_arg {
	struct runner *r;
	struct dest *d;
};

static void *
slot_main(void *arg)
{
	struct slot_arg *sa = arg;
	struct runner *r = sa->r;

	while (!winding_down(r->sh) && !atomic_load(&r->failed)) {
		size_t i = atomic_fetch_add(&r->next, 1);
		struct pga_err err = {0};
		int rc;

		if (i >= r->npending)
			break;
		rc = ship_one(r, sa->d, &r->list.v[r->pending[i]], &err);
		if (rc == 0 || rc == PGA_ECANCEL)
			continue;
		if (atomic_exchange(&r->failed, true))
			continue;	/* another slot already stopped the pass */
		r->outcome = rc;
		if (rc == PGA_ECONFLICT) {
			r->stopped = true;
			log_error("%s: stopping this destination until pga ship is restarted",
				  err.msg);
		} else {
			log_err(&err);
		}
		pthread_mutex_lock(&r->mu);
		r->st.stopped = r->stopped;
		r->st.last_error_us = pga_now_us();
		if (r->st.failing_since_us == 0)
			r->st.failing_since_us = r->st.last_error_us;
		strlcpy(r->st.last_error, err.msg, sizeof(r->st.last_error));
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

/* ---- one pass of one destination ---- */

static int
find_pending(struct runner *r, struct pga_err *err)
{
	struct shipper *sh = r->sh;
	struct ship_ack ack;
	int rc;

	spool_list_free(&r->list);
	free(r->pending);
	r->pending = NULL;
	r->npending = 0;
	rc = spool_list_ready(sh->sp, &r->list, err);
	if (rc == 0)
		rc = ship_order_oldest_first(&r->list, err);
	if (rc < 0)
		return rc;
	r->pending = calloc(r->list.n ? r->list.n : 1, sizeof(*r->pending));
	if (r->pending == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->list.n; i++)
		if (!ship_ack_read(sh->root, r->cfg->name, r->list.v[i].name, &ack))
			r->pending[r->npending++] = i;
	atomic_fetch_add(&sh->p_pending, r->npending);
	return 0;
}

static int
run_slots(struct runner *r, struct pga_err *err)
{
	size_t n = r->nslots < r->npending ? r->nslots : r->npending;
	pthread_t tids[64];
	struct slot_arg args[64];
	size_t started = 0;

	atomic_store(&r->next, 0);
	for (; started < n && started < 64; started++) {
		args[started].r = r;
		args[started].d = r->slots[started];
		if (pthread_create(&tids[started], NULL, slot_main, &args[started]) != 0)
			break;
	}
	if (started == 0 && n > 0)
		return pga_fail(err, PGA_ENOMEM, "could not start upload threads");
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	return 0;
}

static int
runner_pass(struct runner *r)
{
	struct pga_err err = {0};
	int64_t t0 = pga_mono_us();
	int rc;

	atomic_store(&r->failed, false);
	r->outcome = 0;
	r->pass_delivered = r->pass_bytes = 0;
	reap_wait_idle(r->sh);
	rc = find_pending(r, &err);
	if (rc == 0 && r->npending > 0)
		rc = run_slots(r, &err);
	if (rc < 0) {
		r->outcome = rc;
		log_error("%s: %s", r->what, err.msg);
		pthread_mutex_lock(&r->mu);
		r->st.last_error_us = pga_now_us();
		if (r->st.failing_since_us == 0)
			r->st.failing_since_us = r->st.last_error_us;
		strlcpy(r->st.last_error, err.msg, sizeof(r->st.last_error));
		pthread_mutex_unlock(&r->mu);
	}
	if (r->pass_delivered > 0) {
		char size[16];

		pga_format_size(r->pass_bytes, size, sizeof(size));
		log_info("%s: shipped %" PRIu64 " segments (%s) in %.1f s", r->what,
			 r->pass_delivered, size, (double)(pga_mono_us() - t0) / 1e6);
	}
	pthread_mutex_lock(&r->mu);
	r->st.last_pass_us = pga_now_us();
	pthread_mutex_unlock(&r->mu);
	runner_save_state(r, true);
	return r->outcome;
}

static void *
runner_main(void *arg)
{
	struct runner *r = arg;
	struct shipper *sh = r->sh;

	for (;;) {
		int rc = runner_pass(r);

		if (sh->o->after_pass != NULL)
			sh->o->after_pass(sh->ds.cfg, sh->o->after_pass_arg);
		if (!sh->o->loop || r->stopped || winding_down(sh))
			break;
		/* more may have been sealed meanwhile: go again if this pass did work */
		if (rc == 0 && r->pass_delivered > 0)
			continue;
		if (nap(sh, sh->ds.cfg->global.ship_interval))
			break;
	}
	atomic_store(&r->done, true);
	return NULL;
}

/* ---- housekeeping: retention and stale markers ---- */

struct names {
	char **v;
	size_t n, cap;
};

static int
names_add(void *ctx, const char *name)
{
	struct names *ns = ctx;

	if (PGA_GROW(ns->v, ns->cap, ns->n + 1, SIZE_MAX, NULL) < 0)
		return PGA_ENOMEM;
	ns->v[ns->n] = strdup(name);
	if (ns->v[ns->n] == NULL)
		return PGA_ENOMEM;
	ns->n++;
	return 0;
}

static void
names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

static int
cmp_entry_name(const void *a, const void *b)
{
	return strcmp(((const struct spool_entry *)a)->name, ((const struct spool_entry *)b)->name);
}

static bool
in_ready(const struct spool_list *ready, const char *name)
{
	struct spool_entry key;

	strlcpy(key.name, name, sizeof(key.name));
	return ready->n > 0 &&
	       bsearch(&key, ready->v, ready->n, sizeof(*ready->v), cmp_entry_name) != NULL;
}

/* Retention for one segment every enabled destination has acknowledged. */
static void
retain_one(struct shipper *sh, const struct spool_entry *e, int64_t now)
{
	int64_t last = 0;
	struct ship_ack ack;

	for (size_t i = 0; i < sh->ds.nenabled; i++) {
		if (!ship_ack_read(sh->root, sh->ds.enabled[i], e->name, &ack))
			return;
		if (ack.acked_us > last)
			last = ack.acked_us;
	}
	if (sh->ds.retain_shipped || last + sh->ds.retain_us <= now)
		maybe_remove(sh, e->name);
}

static int
housekeeping(struct shipper *sh, struct pga_err *err)
{
	struct names acks[SHIP_MAX_DESTS];
	struct spool_list ready = {0};
	int64_t now = pga_now_us();
	int rc = 0;

	memset(acks, 0, sizeof(acks));
	/* markers first, ready/ second: a marker not in ready/ is then surely stale */
	for (size_t i = 0; i < sh->ds.nenabled && rc == 0; i++)
		rc = ship_ack_walk(sh->root, sh->ds.enabled[i], names_add, &acks[i], err);
	if (rc == 0)
		rc = spool_list_ready(sh->sp, &ready, err);
	if (rc < 0)
		goto out;
	if (ready.n > 1)
		qsort(ready.v, ready.n, sizeof(*ready.v), cmp_entry_name);
	for (size_t i = 0; i < sh->ds.nenabled; i++)
		for (size_t k = 0; k < acks[i].n; k++)
			if (!in_ready(&ready, acks[i].v[k]))
				ship_ack_remove(sh->root, sh->ds.enabled[i], acks[i].v[k]);
	for (size_t k = 0; k < ready.n && sh->ds.nenabled > 0; k++)
		retain_one(sh, &ready.v[k], now);
out:
	for (size_t i = 0; i < sh->ds.nenabled; i++)
		names_free(&acks[i]);
	spool_list_free(&ready);
	return rc;
}

/* Append ", 'name'" (or "'name'" first) to a note; truncated at cap. */
static void
note_name(char *buf, size_t cap, const char *name)
{
	size_t len = strlen(buf);

	if (len + 1 < cap)
		snprintf(buf + len, cap - len, "%s'%s'", len ? ", " : "", name);
}

enum spool_where
ship_where(const struct spool *sp, const struct pga_config *cfg, const char *name,
	   char *note, size_t cap)
{
	char root[PATH_MAX], have[256] = "", miss[256] = "";
	struct pga_err err = {0};
	struct ship_ack ack;
	size_t nhave = 0, nmiss = 0;

	note[0] = '\0';
	if (spool_part_dir(sp, SHIP_DIR, root, sizeof(root), &err) < 0)
		return SPOOL_NOWHERE;
	for (size_t i = 0; i < cfg->ndests; i++) {
		const char *d = cfg->dests[i].name;

		if (!cfg->dests[i].enabled)
			continue;
		if (ship_ack_read(root, d, name, &ack)) {
			note_name(have, sizeof(have), d);
			nhave++;
		} else {
			note_name(miss, sizeof(miss), d);
			nmiss++;
		}
	}
	if (nhave == 0)
		return SPOOL_NOWHERE;
	if (nmiss == 0) {
		snprintf(note, cap, "delivered to %s", have);
		return SPOOL_EVERYWHERE;
	}
	snprintf(note, cap, "delivered to %s, not to %s", have, miss);
	return SPOOL_SOMEWHERE;
}

static const char *const counter_names[SHC__COUNT] = {
	[SHC_SEGMENTS_SHIPPED] = "segments_shipped",
	[SHC_BYTES_SHIPPED] = "bytes_shipped",
	[SHC_SHIP_ERRORS] = "ship_errors",
};

const struct spool_counter_set ship_counters = {"ship", counter_names, SHC__COUNT};

static void
flush_counters(struct shipper *sh)
{
	struct spool_counters d = {0};
	struct pga_err err = {0};

	d.v[SHC_SEGMENTS_SHIPPED] = atomic_exchange(&sh->c_delivered, 0);
	d.v[SHC_BYTES_SHIPPED] = atomic_exchange(&sh->c_bytes, 0);
	d.v[SHC_SHIP_ERRORS] = atomic_exchange(&sh->c_errors, 0);
	if (d.v[SHC_SEGMENTS_SHIPPED] == 0 && d.v[SHC_SHIP_ERRORS] == 0)
		return;
	if (spool_counters_add(sh->sp, &ship_counters, &d, &err) < 0) {
		log_warn("could not update spool counters: %s", err.msg);
		atomic_fetch_add(&sh->c_delivered, d.v[SHC_SEGMENTS_SHIPPED]);
		atomic_fetch_add(&sh->c_bytes, d.v[SHC_BYTES_SHIPPED]);
		atomic_fetch_add(&sh->c_errors, d.v[SHC_SHIP_ERRORS]);
	}
}

/* ---- set-up ---- */

static bool
shipper_cancel_trampoline(void *ctx)
{
	return ship_cancel(ctx);
}

static int
runner_open(struct runner *r, struct shipper *sh, const struct pga_dest *cfg,
	    struct pga_err *err)
{
	int rc;

	r->sh = sh;
	r->cfg = cfg;
	snprintf(r->what, sizeof(r->what), "dest '%s'", cfg->name);
	pthread_mutex_init(&r->mu, NULL);
	ratelimit_init(&r->rl, cfg->rate_limit);
	r->nslots = (size_t)(cfg->max_parallel > 0 ? cfg->max_parallel : 1);
	r->slots = calloc(r->nslots, sizeof(*r->slots));
	if (r->slots == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = dest_shared_new(&r->shared, cfg, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < r->nslots; i++) {
		rc = dest_open_shared(&r->slots[i], cfg, r->shared, err);
		if (rc < 0)
			return rc;
		r->slots[i]->rl = &r->rl;
		r->slots[i]->cancel = shipper_cancel_trampoline;
		r->slots[i]->cancel_ctx = sh;
	}
	return 0;
}

/* The destination's folder and state, once the spool is open. */
static int
runner_attach(struct runner *r, struct pga_err *err)
{
	char dir[PATH_MAX];
	int rc = pga_path(dir, sizeof(dir), err, "%s/%s", r->sh->root, r->cfg->name);

	if (rc == 0)
		rc = pga_mkdir_p(dir, 0750, err);
	if (rc == 0)
		rc = ship_state_read(r->sh->root, r->cfg->name, &r->st, err);
	r->st.stopped = false;
	return rc;
}

static void
runner_close(struct runner *r)
{
	for (size_t i = 0; r->slots != NULL && i < r->nslots; i++)
		dest_close(r->slots[i]);
	free(r->slots);
	dest_shared_free(r->shared);
	spool_list_free(&r->list);
	free(r->pending);
	if (r->sh != NULL) {
		ratelimit_destroy(&r->rl);
		pthread_mutex_destroy(&r->mu);
	}
}

static int
take_lock(struct shipper *sh, struct pga_err *err)
{
	int rc = spool_part_lock(sh->sp, SHIP_DIR, &sh->lock_fd, err);

	if (rc == PGA_ELOCKED)
		return pga_fail(err, PGA_ELOCKED, "another 'pga ship' is running on spool '%s' (%s)",
				sh->spool, err->msg);
	return rc;
}

/* Pick the destinations: enabled ones, or the one --dest names. */
static int
select_dests(struct shipper *sh, struct dest_set *ds, struct pga_err *err)
{
	const struct pga_config *cfg = ds->cfg;
	size_t want = 0;

	for (size_t i = 0; i < cfg->ndests; i++) {
		const struct pga_dest *d = &cfg->dests[i];

		if (d->enabled && ds->nenabled < SHIP_MAX_DESTS)
			ds->enabled[ds->nenabled++] = d->name;
		if (sh->o->dest != NULL && strcmp(d->name, sh->o->dest) == 0 && !d->enabled)
			return pga_fail(err, PGA_EINVAL, "destination '%s' is disabled (enabled = off)",
					d->name);
		if (d->enabled && (sh->o->dest == NULL || strcmp(d->name, sh->o->dest) == 0))
			want++;
	}
	if (cfg->ndests == 0)
		return pga_fail(err, PGA_ECONFIG, "no [dest:NAME] section in the configuration: nowhere to ship");
	if (sh->o->dest != NULL && want == 0)
		return pga_fail(err, PGA_EINVAL, "no destination named '%s' in the configuration",
				sh->o->dest);
	if (want == 0)
		return pga_fail(err, PGA_ECONFIG, "every destination is disabled: nowhere to ship");
	if (ds->nenabled >= SHIP_MAX_DESTS)
		return pga_fail(err, PGA_ECONFIG, "more than %d destinations", SHIP_MAX_DESTS - 1);
	ds->runners = calloc(want, sizeof(*ds->runners));
	if (ds->runners == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	return 0;
}

/* Each runner's folder and state, when the spool is open (else later). */
static int
attach_runners(struct shipper *sh, struct dest_set *ds, struct pga_err *err)
{
	int rc = 0;

	for (size_t i = 0; i < ds->nrunners && rc == 0 && sh->root[0]; i++)
		rc = runner_attach(&ds->runners[i], err);
	return rc;
}

/* Validate every destination before opening any, so nothing is half set up. */
static int
open_runners(struct shipper *sh, struct dest_set *ds, struct pga_err *err)
{
	const struct pga_config *cfg = ds->cfg;
	int rc = 0;

	for (size_t i = 0; i < cfg->ndests && rc == 0; i++)
		if (cfg->dests[i].enabled)
			rc = dest_validate(&cfg->dests[i], err);
	for (size_t i = 0; i < cfg->ndests && rc == 0; i++) {
		const struct pga_dest *d = &cfg->dests[i];

		if (!d->enabled || (sh->o->dest != NULL && strcmp(d->name, sh->o->dest) != 0))
			continue;
		rc = runner_open(&ds->runners[ds->nrunners++], sh, d, err);
	}
	return rc == 0 ? attach_runners(sh, ds, err) : rc;
}

static void
dest_set_close(struct dest_set *ds)
{
	for (size_t i = 0; i < ds->nrunners; i++)
		runner_close(&ds->runners[i]);
	free(ds->runners);
	pga_config_free(ds->owned);
	memset(ds, 0, sizeof(*ds));
}

/* Everything cfg decides, all or nothing: on error ds holds nothing. */
static int
dest_set_open(struct shipper *sh, struct dest_set *ds, const struct pga_config *cfg,
	      struct pga_err *err)
{
	int rc;

	memset(ds, 0, sizeof(*ds));
	ds->cfg = cfg;
	rc = ship_parse_retain(cfg->global.spool_retain, &ds->retain_shipped, &ds->retain_us, err);
	if (rc == 0)
		rc = select_dests(sh, ds, err);
	if (rc == 0)
		rc = open_runners(sh, ds, err);
	if (rc < 0)
		dest_set_close(ds);
	return rc;
}

/*
 * A daemon may start before the collector has ever run: in --loop a spool
 * that does not exist yet is waited for, not an error.
 */
static bool
stop_pending(void)
{
	sigset_t pending;

	/* SIGINT/SIGTERM are blocked here (see ship_run): look for them */
	sigpending(&pending);
	return pga_stop_requested() || sigismember(&pending, SIGTERM) ||
	       sigismember(&pending, SIGINT);
}

static int
open_spool(struct shipper *sh, struct pga_err *err)
{
	bool said = false;
	int rc;

	while ((rc = spool_open(&sh->sp, sh->spool, err)) == PGA_ENOTFOUND && sh->o->loop) {
		if (stop_pending())
			return pga_fail(err, PGA_ECANCEL, "stopped while waiting for spool '%s'",
					sh->spool);
		if (!said)
			log_warn("%s; waiting for it to appear", err->msg);
		said = true;
		usleep(200000);
	}
	return rc;
}

static int
shipper_init(struct shipper *sh, const struct pga_config *cfg,
	     const struct ship_opts *o, struct pga_err *err)
{
	const char *spool = cfg->global.spool_path;
	char dir[PATH_MAX];
	int rc;

	memset(sh, 0, sizeof(*sh));
	sh->o = o;
	sh->lock_fd = -1;
	if (strlcpy(sh->spool, spool, sizeof(sh->spool)) >= sizeof(sh->spool))
		return pga_fail(err, PGA_EINVAL, "spool path too long");
	rc = dest_set_open(sh, &sh->ds, cfg, err);
	if (rc == 0)
		rc = open_spool(sh, err);
	if (rc == 0)
		rc = spool_part_dir(sh->sp, SHIP_DIR, dir, sizeof(dir), err);
	if (rc == 0)
		rc = pga_mkdir_p(dir, 0750, err);
	if (rc == 0)
		rc = take_lock(sh, err);
	if (rc == 0) {
		strlcpy(sh->root, dir, sizeof(sh->root));
		rc = attach_runners(sh, &sh->ds, err);
	}
	if (rc == 0)
		rc = prep_new(&sh->prep, err);
	pthread_mutex_init(&sh->reap_mu, NULL);
	pthread_cond_init(&sh->reap_cv, NULL);
	if (rc == 0 && pthread_create(&sh->reaper, NULL, reaper_main, sh) != 0)
		rc = pga_fail(err, PGA_ENOMEM, "could not start the removal thread");
	sh->reaper_started = rc == 0;
	if (rc == 0 && !o->loop && cfg->global.ship_deadline > 0)
		sh->deadline_us = pga_mono_us() + cfg->global.ship_deadline;
	return rc;
}

/* Let the reaper finish every queued removal, then stop it. */
static void
reaper_stop(struct shipper *sh)
{
	if (!sh->reaper_started)
		return;
	pthread_mutex_lock(&sh->reap_mu);
	sh->reap_stop = true;
	pthread_cond_broadcast(&sh->reap_cv);
	pthread_mutex_unlock(&sh->reap_mu);
	pthread_join(sh->reaper, NULL);
	sh->reaper_started = false;
}

static void
shipper_fini(struct shipper *sh)
{
	reaper_stop(sh);
	free(sh->reap);
	dest_set_close(&sh->ds);
	prep_free(sh->prep);
	if (sh->sp != NULL)
		spool_free(sh->sp);
	if (sh->lock_fd >= 0)
		close(sh->lock_fd);
}

/* ---- the run ---- */

/*
 * "\r12/120 segments  35.2M  4.1 MB/s  ETA 28s" on a terminal, as load's:
 * segments count once per destination.  final: the last one, with '\n'.
 */
static void
print_progress(struct shipper *sh, bool final)
{
	uint64_t done = atomic_load(&sh->p_delivered), total = atomic_load(&sh->p_pending);
	uint64_t bytes = atomic_load(&sh->p_bytes);
	int64_t el = pga_mono_us() - sh->p_start_us;
	double secs = el > 0 ? (double)el / 1e6 : 1e-6;
	char size[16], eta[32] = "";

	if (!sh->o->progress || (final && sh->p_last_us == 0))
		return;
	pga_format_size(bytes, size, sizeof(size));
	if (done > 0 && done < total) {
		char d[16];

		pga_format_duration((int64_t)((double)el / (double)done * (double)(total - done)),
				    d, sizeof(d));
		snprintf(eta, sizeof(eta), "  ETA %s", d);
	}
	fprintf(stderr, "\r\033[K%" PRIu64 "/%" PRIu64 " segments  %s  %.1f MB/s%s%s", done, total,
		size, (double)bytes / 1e6 / secs, eta, final ? "\n" : "");
	fflush(stderr);
	sh->p_last_us = pga_mono_us();
}

static void
supervise(struct shipper *sh)
{
	int64_t last_hk = pga_mono_us(), last_flush = last_hk;

	for (;;) {
		bool all_done = true;
		struct timespec ts = {0, SHIP_SUPERVISE_US * 1000};

		for (size_t i = 0; i < sh->ds.nrunners; i++)
			all_done &= atomic_load(&sh->ds.runners[i].done);
		if (all_done)
			break;
		nanosleep(&ts, NULL);	/* a signal cuts it short */
		if (pga_stop_requested())
			atomic_store(&sh->stop, true);
		/* a one-shot run leaves the request for main() to log as ignored */
		if (sh->o->loop && sh->o->reload_ctx != NULL && !atomic_load(&sh->draining) &&
		    pga_reload_take()) {
			log_info("received SIGHUP: finishing the uploads in flight, then reading "
				 "the configuration again");
			atomic_store(&sh->draining, true);
		}
		if (pga_mono_us() - last_flush >= SHIP_FLUSH_US) {
			flush_counters(sh);
			last_flush = pga_mono_us();
		}
		if (sh->o->progress && pga_mono_us() - sh->p_last_us >= SHIP_PROGRESS_US)
			print_progress(sh, false);
		if (sh->o->loop && pga_mono_us() - last_hk >= sh->ds.cfg->global.ship_interval) {
			struct pga_err err = {0};

			if (housekeeping(sh, &err) < 0)
				log_warn("housekeeping: %s", err.msg);
			last_hk = pga_mono_us();
		}
	}
}

static int
exit_status(const struct shipper *sh)
{
	size_t failed = 0, stopped = 0;

	for (size_t i = 0; i < sh->ds.nrunners; i++) {
		if (sh->ds.runners[i].outcome != 0 || sh->ds.runners[i].stopped)
			failed++;
		if (sh->ds.runners[i].stopped)
			stopped++;
	}
	/* --loop ends only on request, or when every destination had to stop */
	if (sh->o->loop)
		return stopped == sh->ds.nrunners ? PGA_EXIT_FAIL :
		       stopped > 0 ? PGA_EXIT_PARTIAL : PGA_EXIT_OK;
	if (failed == sh->ds.nrunners)
		return PGA_EXIT_FAIL;
	if (failed > 0)
		return PGA_EXIT_PARTIAL;
	if (!sh->o->loop && deadline_passed(sh))
		return PGA_EXIT_PARTIAL;
	return PGA_EXIT_OK;
}

/* Signals go to the main thread: threads started here inherit the mask. */
static void
block_signals(sigset_t *old)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, old);
}

/* One thread per runner; a runner stopped by a conflict stays stopped. */
static void
start_runners(struct shipper *sh)
{
	sigset_t old;

	block_signals(&old);
	for (size_t i = 0; i < sh->ds.nrunners; i++) {
		struct runner *r = &sh->ds.runners[i];

		r->started = false;
		atomic_store(&r->done, r->stopped);
		if (r->stopped)
			continue;
		if (pthread_create(&r->thread, NULL, runner_main, r) != 0) {
			atomic_store(&r->done, true);
			r->outcome = PGA_ENOMEM;
			log_error("%s: could not start its thread", r->what);
			continue;
		}
		r->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
join_runners(struct shipper *sh)
{
	for (size_t i = 0; i < sh->ds.nrunners; i++)
		if (sh->ds.runners[i].started)
			pthread_join(sh->ds.runners[i].thread, NULL);
}

/*
 * SIGHUP, every runner ended its pass: read the configuration again and
 * rebuild the destinations from it (added, removed, changed; a destination
 * stopped by a conflict is tried again).  Any error keeps the old set.
 * The spool, its lock, the verified-segment table and the counters stay.
 */
static void
ship_reload(struct shipper *sh)
{
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};
	struct dest_set ds;

	reap_wait_idle(sh);	/* the reaper reads the enabled list */
	flush_counters(sh);
	if (pga_cli_reload(sh->o->reload_ctx, &cfg, &err) < 0 ||
	    dest_set_open(sh, &ds, cfg, &err) < 0) {
		log_error("configuration not reloaded, keeping the previous one: %s", err.msg);
		pga_config_free(cfg);
		return;
	}
	if (strcmp(cfg->global.spool_path, sh->spool) != 0)
		log_warn("reload: spool-path changed to '%s'; that takes a restart, still "
			 "shipping from '%s'", cfg->global.spool_path, sh->spool);
	dest_set_close(&sh->ds);
	ds.owned = cfg;
	sh->ds = ds;
	pga_cli_apply_log_level(cfg);
	log_info("configuration reloaded from '%s': %zu destinations",
		 cfg->path ? cfg->path : "defaults", sh->ds.nrunners);
	if (housekeeping(sh, &err) < 0)	/* a removed destination waited for nothing */
		log_warn("housekeeping: %s", err.msg);
}

int
ship_run(const struct pga_config *cfg, const struct ship_opts *o,
	 struct pga_err *err)
{
	struct shipper sh;
	struct pga_err herr = {0};
	sigset_t old;
	int status = PGA_EXIT_FAIL;

	/* while setting up, a signal waits (open_spool looks for it) */
	block_signals(&old);
	if (shipper_init(&sh, cfg, o, err) < 0)
		goto out;
	if (housekeeping(&sh, &herr) < 0)	/* finish what a crash left */
		log_warn("housekeeping: %s", herr.msg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (;;) {
		sh.p_start_us = pga_mono_us();
		pga_log_progress(o->progress);
		start_runners(&sh);
		supervise(&sh);
		join_runners(&sh);
		print_progress(&sh, true);
		pga_log_progress(false);
		if (!atomic_load(&sh.draining) || stopping(&sh))
			break;
		ship_reload(&sh);
		atomic_store(&sh.draining, false);
	}
	reaper_stop(&sh);
	if (housekeeping(&sh, &herr) < 0)
		log_warn("housekeeping: %s", herr.msg);
	flush_counters(&sh);
	status = exit_status(&sh);
out:
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	shipper_fini(&sh);
	return status;
}
