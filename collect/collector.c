/*
 * collector.c - targets, the job queue, the worker pool and the cycle
 *
 * A cycle queues one cluster job per target; a cluster job queues one job
 * per further database once it has discovered them.  Workers take jobs in
 * queue order (every target's cluster job first, so one target's hundred
 * databases do not starve the others' snapshots) until the queue is empty
 * and no job is running.  Each target counts its jobs; the worker that
 * finishes a target's last job settles it (state file, figures, backoff).
 */
#define _GNU_SOURCE
#include "collect/collect_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "collect/cpg.h"
#include "collect/custom.h"
#include "collect/hoststats.h"
#include "common/grow.h"
#include "common/pgutil.h"
#include "common/cli.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/units.h"

#define BACKOFF_MAX_CYCLES 16

/* ---- configuration ---- */

static bool
selected(const struct pga_target *t, const char *const *only, size_t nonly)
{
	if (only == NULL)
		return t->enabled;
	for (size_t i = 0; i < nonly; i++)
		if (strcmp(only[i], t->name) == 0)
			return true;
	return false;
}

/* The conninfo's dbname and host, as libpq parses them. */
static int
conninfo_fields(const char *conninfo, char *dbname, size_t dcap, char *host,
		size_t hcap, char *hostaddr, size_t acap, struct pga_err *err)
{
	PQconninfoOption *opts;
	int rc = pga_conninfo_check(conninfo, err);

	if (rc < 0)
		return rc;
	opts = PQconninfoParse(conninfo, NULL);
	dbname[0] = host[0] = hostaddr[0] = '\0';
	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "dbname") == 0)
			strlcpy(dbname, o->val, dcap);
		else if (strcmp(o->keyword, "host") == 0)
			strlcpy(host, o->val, hcap);
		else if (strcmp(o->keyword, "hostaddr") == 0)
			strlcpy(hostaddr, o->val, acap);
	}
	PQconninfoFree(opts);
	return 0;
}

static bool
db_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < CDB_NAME_MAX && strcmp(s, "*") != 0;
}

static int
check_databases(const struct pga_target *t, const char *dbname, struct pga_err *err)
{
	char buf[4096], *save = NULL;

	if (t->databases == NULL || strcmp(t->databases, "*") == 0)
		return 0;
	if (strcmp(dbname, "*") == 0)
		return pga_fail(err, PGA_ECONFIG,
				"'databases' lists databases but the conninfo says dbname=*");
	if (strlcpy(buf, t->databases, sizeof(buf)) >= sizeof(buf))
		return pga_fail(err, PGA_ECONFIG, "'databases' is too long");
	for (char *d = strtok_r(buf, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
		while (*d == ' ')
			d++;
		d[strcspn(d, " ")] = '\0';
		if (!db_name_ok(d))
			return pga_fail(err, PGA_ECONFIG, "'databases': invalid database name '%s'", d);
	}
	return 0;
}

static int
validate_target(const struct pga_config *cfg, const struct pga_target *t,
		struct pga_err *err)
{
	char dbname[256], host[1024], hostaddr[256], where[PATH_MAX + 16];
	int rc;

	pga_config_target_where(cfg, t, "conninfo", where, sizeof(where));
	rc = conninfo_fields(t->conninfo, dbname, sizeof(dbname), host, sizeof(host),
			     hostaddr, sizeof(hostaddr), err);
	if (rc == 0)
		pga_config_target_where(cfg, t, "databases", where, sizeof(where));
	if (rc == 0)
		rc = check_databases(t, dbname, err);
	if (rc < 0) {
		char msg[PGA_ERR_MSG_MAX];

		memcpy(msg, err->msg, sizeof(msg));
		return pga_fail(err, PGA_ECONFIG, "%s: [target:%s] %s", where, t->name, msg);
	}
	return 0;
}

int
collect_validate(const struct pga_config *cfg, const char *const *only,
		 size_t nonly, struct pga_err *err)
{
	size_t n = 0;

	for (size_t i = 0; i < nonly; i++) {
		size_t j = 0;

		while (j < cfg->ntargets && strcmp(cfg->targets[j].name, only[i]) != 0)
			j++;
		if (j == cfg->ntargets)
			return pga_fail(err, PGA_EINVAL, "no target '%s' in '%s'", only[i],
					cfg->path ? cfg->path : "the configuration");
	}
	for (size_t i = 0; i < cfg->ntargets; i++) {
		int rc;

		if (!selected(&cfg->targets[i], only, nonly))
			continue;
		rc = validate_target(cfg, &cfg->targets[i], err);
		if (rc < 0)
			return rc;
		n++;
	}
	if (custom_validate(cfg, err) < 0)
		return err->code;
	if (n == 0)
		return pga_fail(err, PGA_ECONFIG, "no enabled [target:NAME] in '%s'",
				cfg->path ? cfg->path : "the configuration (none given)");
	return 0;
}

/* ---- targets ---- */

static int
split_databases(struct ctarget *t, struct pga_err *err)
{
	char *copy = strdup(t->cfg->databases), *save = NULL;

	if (copy == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	for (char *d = strtok_r(copy, ",", &save); d; d = strtok_r(NULL, ",", &save)) {
		char **v = reallocarray(t->dblist, t->ndblist + 1, sizeof(*v));

		while (*d == ' ')
			d++;
		d[strcspn(d, " ")] = '\0';
		if (v == NULL || (v[t->ndblist] = strdup(d)) == NULL) {
			if (v != NULL)
				t->dblist = v;
			free(copy);
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		}
		t->dblist = v;
		t->ndblist++;
	}
	free(copy);
	return 0;
}

static int
target_init(struct collector *c, struct ctarget *t, const struct pga_target *cfg,
	    struct pga_err *err)
{
	char dbname[256], host[1024], hostaddr[256];
	int rc = conninfo_fields(cfg->conninfo, dbname, sizeof(dbname), host,
				 sizeof(host), hostaddr, sizeof(hostaddr), err);

	t->cfg = cfg;
	if (rc < 0)
		return rc;
	t->all_dbs = strcmp(dbname, "*") == 0 ||
		     (cfg->databases != NULL && strcmp(cfg->databases, "*") == 0);
	if (strcmp(dbname, "*") == 0)
		t->cluster_db = "postgres";
	t->local = host_is_local(host, hostaddr);
	if (cfg->databases != NULL && !t->all_dbs)
		rc = split_databases(t, err);
	if (rc == 0 && cfg->csvlog != NULL)
		rc = csvlog_init(&t->csvlog, cfg->csvlog, c->state_dir, cfg->name, err);
	return rc;
}

static void
target_free(struct ctarget *t)
{
	PQfinish(t->cconn);
	for (size_t i = 0; i < t->ndbs; i++)
		PQfinish(t->dbs[i].conn);
	free(t->dbs);
	for (size_t i = 0; i < t->ndblist; i++)
		free(t->dblist[i]);
	free(t->dblist);
	cstate_free(&t->state);
}

/* 4 workers per core for I/O-bound work, no more than there are jobs. */
static int
worker_count(const struct collect_opts *o, const struct collector *c)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	long long want = o->cfg->global.workers;
	long long jobs = 0;

	if (want <= 0)
		want = 4 * (cores > 0 ? cores : 1);
	for (size_t i = 0; i < c->ntargets; i++)
		jobs += c->targets[i].all_dbs ? want :
			c->targets[i].ndblist > 0 ? (long long)c->targets[i].ndblist : 1;
	if (want > jobs)
		want = jobs;
	return (int)(want < 1 ? 1 : want > 256 ? 256 : want);
}

int
collector_new(struct collector **out, const struct collect_opts *o,
	      struct pga_err *err)
{
	struct collector *c = calloc(1, sizeof(*c));
	int rc = 0;

	*out = NULL;
	if (c == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	c->cfg = o->cfg;
	c->sp = o->sp;
	c->keep = o->keep_connections;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->count_mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	catalog_all(&c->nmetrics);
	/* by catalog index, then block headers, then custom metrics */
	c->escaped = calloc(c->nmetrics + 2, sizeof(*c->escaped));
	rc = c->escaped == NULL ? pga_fail(err, PGA_ENOMEM, "out of memory") :
	     spool_part_dir(o->sp, COLLECT_STATE_DIR, c->state_dir, sizeof(c->state_dir), err);
	c->targets = calloc(o->cfg->ntargets ? o->cfg->ntargets : 1, sizeof(*c->targets));
	if (rc == 0 && c->targets == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < o->cfg->ntargets; i++) {
		if (!selected(&o->cfg->targets[i], o->only, o->nonly))
			continue;
		c->targets[c->ntargets].index = c->ntargets;
		rc = target_init(c, &c->targets[c->ntargets++], &o->cfg->targets[i], err);
	}
	if (rc == 0) {
		c->nworkers = worker_count(o, c);
		c->workers = calloc((size_t)c->nworkers, sizeof(*c->workers));
		if (c->workers == NULL)
			rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	if (rc < 0) {
		collector_free(c);
		return rc;
	}
	log_debug("collector: %zu targets, %d workers", c->ntargets, c->nworkers);
	*out = c;
	return 0;
}

void
collector_free(struct collector *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ntargets; i++)
		target_free(&c->targets[i]);
	for (int i = 0; c->workers && i < c->nworkers; i++)
		cworker_free(&c->workers[i]);
	free(c->workers);
	free(c->targets);
	free(c->jobs);
	free(c->escaped);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->count_mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

size_t
collector_ntargets(const struct collector *c)
{
	return c->ntargets;
}

/* ---- the queue ---- */

/* With c->mu held. */
static int
push_job(struct collector *c, struct ctarget *t, long db, struct pga_err *err)
{
	if (PGA_GROW(c->jobs, c->capjobs, c->njobs + 1, SIZE_MAX, err) < 0)
		return err->code;
	c->jobs[c->njobs++] = (struct cjob){.t = t, .db = db};
	t->pending++;
	return 0;
}

int
collector_enqueue_dbs(struct collector *c, struct ctarget *t, struct pga_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; rc == 0 && i < t->ndbs; i++)
		if (!t->dbs[i].on_cluster)
			rc = push_job(c, t, (long)i, err);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void
collector_fatal(struct collector *c, const struct pga_err *err)
{
	pthread_mutex_lock(&c->mu);
	if (!c->fatal) {
		c->fatal = true;
		c->fatal_err = *err;
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void
ctarget_fail(struct collector *c, struct ctarget *t, bool cluster,
	     const struct pga_err *err)
{
	bool spool;

	pthread_mutex_lock(&c->mu);
	/* the spool's failure is the cycle's, said once: not the target's fault */
	spool = c->fatal && strcmp(err->msg, c->fatal_err.msg) == 0;
	t->failed = true;
	if (cluster && !spool)
		t->cluster_failed = true;	/* backs off */
	else if (!cluster)
		t->dbs_failed++;
	if (t->why[0] == '\0')
		strlcpy(t->why, err->msg, sizeof(t->why));
	pthread_mutex_unlock(&c->mu);
	if (spool)
		log_debug("target '%s': %s", t->cfg->name, err->msg);
	else if (err->code == PGA_ECANCEL)
		log_info("target '%s': %s", t->cfg->name, err->msg);
	else
		log_warn("target '%s': %s", t->cfg->name, err->msg);
}

void
collector_count_escaped(struct collector *c, struct ctarget *t, size_t i, uint64_t n)
{
	pthread_mutex_lock(&c->mu);
	c->escaped[i <= c->nmetrics + 1 ? i : c->nmetrics] += n;
	t->values_escaped += n;
	pthread_mutex_unlock(&c->mu);
}

/*
 * The snapshot's status block goes last, once every job of the target is
 * done.  A snapshot is complete only when nothing cut it short and its
 * status block is in the spool: without one it is partial centrally too.
 * Returns whether it is complete; *written whether any block of it is in
 * the spool (a snapshot with none is no snapshot: the target failed).
 */
static bool
settle_snapshot(struct collector *c, struct cworker *w, struct ctarget *t, bool *written)
{
	struct pga_err err = {0};
	bool complete = !t->failed;

	*written = t->blocks > 0;
	if (cjob_status_block(w, t, complete, &err) == 0) {
		pthread_mutex_lock(&c->mu);
		c->st.blocks++;
		c->st.rows++;
		pthread_mutex_unlock(&c->mu);
		*written = true;
		return complete;
	}
	/* the spool logged and counted the lost block; the cycle has failed */
	pga_err_prefix(&err, "snapshot status not written");
	collector_fatal(c, &err);
	pthread_mutex_lock(&c->mu);
	t->failed = true;
	if (t->why[0] == '\0')
		strlcpy(t->why, err.msg, sizeof(t->why));
	pthread_mutex_unlock(&c->mu);
	return false;
}

/* The target's last job is done: its status, state, figures and backoff. */
static void
target_settle(struct collector *c, struct cworker *w, struct ctarget *t)
{
	struct pga_err err = {0};
	char size[16];
	bool complete = false, written = false;

	t->settled = true;
	if (t->snapshot_open)
		complete = settle_snapshot(c, w, t, &written);
	if (!t->cluster_failed && t->state_loaded && t->state.path[0] &&
	    cstate_save(&t->state, &err) < 0)
		log_warn("target '%s': %s", t->cfg->name, err.msg);
	if (t->cluster_failed) {
		unsigned skip = t->fails < 5 ? (1u << t->fails) : BACKOFF_MAX_CYCLES;

		t->fails++;
		t->skip_until = c->cycle_no + (skip > BACKOFF_MAX_CYCLES ? BACKOFF_MAX_CYCLES : skip);
	} else {
		t->fails = 0;
	}
	pga_format_size(t->bytes, size, sizeof(size));
	log_debug("target '%s': %s, %u databases, %" PRIu64 " blocks, %" PRIu64 " rows, %s,"
		  " %" PRIu64 " metric errors, %.3f s", t->cfg->name,
		  t->failed ? "failed" : "ok", t->dbs_ok, t->blocks, t->rows, size,
		  t->metric_errors, (double)(pga_mono_us() - t->started_us) / 1e6);
	if (chealth_record_target(c->state_dir, t->cfg->name, c->cycle_wall_us, !t->failed,
				  t->why, &err) < 0)
		log_warn("target '%s': %s", t->cfg->name, err.msg);
	pthread_mutex_lock(&c->mu);
	if (t->failed)
		c->st.targets_failed++;
	else
		c->st.targets_ok++;
	if (t->failed && !t->counted)
		c->failed_unwritten++;
	if (complete)
		c->st.snapshots_complete++;
	else if (written)
		c->st.snapshots_partial++;
	c->st.blocks += t->blocks;
	c->st.rows += t->rows;
	c->st.bytes += t->bytes;
	c->st.metric_errors += t->metric_errors;
	c->st.databases += t->dbs_ok;
	c->st.values_escaped += t->values_escaped;
	pthread_mutex_unlock(&c->mu);
}

static void *
worker_main(void *arg)
{
	struct cworker *w = arg;
	struct collector *c = w->c;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		struct cjob job;
		bool last;

		while (c->next == c->njobs && c->busy > 0 && !c->fatal)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->next == c->njobs || c->fatal)
			break;
		job = c->jobs[c->next++];
		c->busy++;
		pthread_mutex_unlock(&c->mu);
		cjob_run(w, &job);
		pthread_mutex_lock(&c->mu);
		last = --job.t->pending == 0;
		if (last) {
			pthread_mutex_unlock(&c->mu);
			target_settle(c, w, job.t);
			pthread_mutex_lock(&c->mu);
		}
		c->busy--;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* ---- the cycle ---- */

static void
target_reset(struct ctarget *t)
{
	t->deadline = pga_mono_us() + t->cfg->target_deadline;
	t->started_us = pga_mono_us();
	t->pending = 0;
	t->pgss_claimed = false;
	t->ext_claimed = 0;
	t->failed = t->cluster_failed = false;
	t->snapshot_open = t->settled = false;
	t->counted = false;
	t->why[0] = '\0';
	t->dbs_ok = t->dbs_failed = 0;
	t->blocks = t->rows = t->bytes = t->metric_errors = 0;
	t->values_escaped = 0;
	t->unconverted = 0;
}

static int
queue_targets(struct collector *c, struct pga_err *err)
{
	int rc = 0;

	c->njobs = c->next = 0;
	c->busy = 0;
	c->fatal = false;
	for (size_t i = 0; i < c->ntargets; i++)
		c->targets[i].queued = false;
	for (size_t i = 0; rc == 0 && i < c->ntargets; i++) {
		struct ctarget *t = &c->targets[i];

		if (c->keep && c->cycle_no < t->skip_until) {
			log_info("target '%s': skipped (backing off after %u failed cycles)",
				 t->cfg->name, t->fails);
			c->st.targets_skipped++;
			continue;
		}
		target_reset(t);
		rc = push_job(c, t, -1, err);
		t->queued = rc == 0;
	}
	return rc;
}

static int
run_workers(struct collector *c, struct pga_err *err)
{
	int started = 0, rc = 0;

	for (int i = 0; i < c->nworkers; i++) {
		struct cworker *w = &c->workers[i];

		w->c = c;
		if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
			rc = pga_fail(err, PGA_ENOMEM, "could not start a worker thread: %m");
			break;
		}
		w->started = true;
		started++;
	}
	if (started == 0 && rc == 0)
		rc = pga_fail(err, PGA_EINTERNAL, "no worker started");
	if (started == 0)
		return rc;
	for (int i = 0; i < c->nworkers; i++)
		if (c->workers[i].started) {
			pthread_join(c->workers[i].tid, NULL);
			c->workers[i].started = false;
		}
	return 0;	/* the started workers did all the jobs */
}

/*
 * After a spool failure (or a stop) the workers leave jobs in the queue:
 * each is a database (or a whole target) not collected, and every target
 * still open is settled here, its snapshot partial.
 */
static void
settle_unfinished(struct collector *c)
{
	struct pga_err why = {0};
	const struct pga_err *e = &why;

	pga_fail(&why, PGA_ECANCEL, "cycle stopped before the target was done");
	if (c->fatal)
		e = &c->fatal_err;
	for (size_t i = c->next; i < c->njobs; i++) {
		struct cjob *j = &c->jobs[i];

		ctarget_fail(c, j->t, j->db < 0, e);
		j->t->pending--;
	}
	c->next = c->njobs;
	for (size_t i = 0; i < c->ntargets; i++) {
		struct ctarget *t = &c->targets[i];

		if (t->queued && !t->settled)
			target_settle(c, &c->workers[0], t);
	}
}

/* One line for the cycle: which metrics had values that are not UTF-8. */
static void
escaped_detail(struct collector *c, struct collect_stats *st)
{
	const struct metric_def *all;
	size_t n, len = 0, cap = sizeof(st->escaped_detail);

	st->escaped_detail[0] = '\0';
	all = catalog_all(&n);
	for (size_t i = 0; i <= c->nmetrics + 1 && len < cap; i++) {
		if (c->escaped[i] == 0)
			continue;
		len += (size_t)snprintf(st->escaped_detail + len, cap - len, "%s%s %" PRIu64,
					len ? ", " : "", i < n ? all[i].name : i == n ?
					"block headers" : "custom metrics", c->escaped[i]);
	}
	if (st->values_escaped > 0)
		log_warn("%" PRIu64 " values held bytes that are not UTF-8, written as \\xNN: %s",
			 st->values_escaped, st->escaped_detail);
}

static const char *const counter_names[CC__COUNT] = {
	[CC_CYCLES] = "cycles",
	[CC_CYCLES_FAILED] = "cycles_failed",
	[CC_CYCLES_SKIPPED] = "cycles_skipped",
	[CC_TARGETS_OK] = "targets_ok",
	[CC_TARGETS_FAILED] = "targets_failed",
	[CC_SNAPSHOTS_COMPLETE] = "snapshots_complete",
	[CC_SNAPSHOTS_PARTIAL] = "snapshots_partial",
	[CC_METRIC_ERRORS] = "metric_errors",
	[CC_VALUES_ESCAPED] = "values_escaped",
};

const struct spool_counter_set collect_counters = {"collect", counter_names, CC__COUNT};

static void
count_cycle(struct collector *c, struct collect_stats *st)
{
	struct spool_counters d = {0};
	struct pga_err err = {0};

	/* snapshots, their targets, metric errors and escaped values were
	 * counted with the snapshots' blocks (cjob.c commit_counted); what has
	 * no block is counted here: the cycle, and targets that failed before
	 * any block of theirs reached the spool */
	d.v[CC_CYCLES] = 1;
	d.v[CC_CYCLES_FAILED] = st->failed;
	d.v[CC_TARGETS_FAILED] = c->failed_unwritten;
	if (spool_counters_add(c->sp, &collect_counters, &d, &err) < 0)
		log_warn("%s (kept, written with the next counters)", err.msg);
}

int
collector_cycle(struct collector *c, struct collect_stats *st, struct pga_err *err)
{
	struct pga_err herr = {0};
	int64_t start = pga_mono_us();
	int rc;

	memset(&c->st, 0, sizeof(c->st));
	c->failed_unwritten = 0;
	memset(c->escaped, 0, (c->nmetrics + 2) * sizeof(*c->escaped));
	c->cycle_no++;
	c->cycle_wall_us = pga_now_us();
	rc = queue_targets(c, err);
	if (rc == 0 && c->njobs > 0)
		rc = run_workers(c, err);
	settle_unfinished(c);
	c->st.elapsed_us = pga_mono_us() - start;
	c->st.interrupted = pga_stop_requested();
	if (rc == 0 && c->fatal) {
		*err = c->fatal_err;
		rc = err->code < 0 ? err->code : PGA_EIO;
	}
	c->st.failed = rc < 0 || c->st.blocks == 0;
	*st = c->st;
	escaped_detail(c, st);
	count_cycle(c, st);
	if (chealth_record_cycle(c->state_dir, c->cycle_wall_us, st, &herr) < 0)
		log_warn("%s", herr.msg);
	return rc;
}
