/*
 * cjob.c - one job of a cycle: a session on one database of a target
 *
 * The cluster job opens the target's snapshot (one REPEATABLE READ READ
 * ONLY transaction; its start time is the snapshot time of every block of
 * the target), discovers the databases and queues a job for each, then runs
 * the cluster metrics.  A database job runs the per-database metrics in its
 * own transaction on its own connection.  A session opens with one round
 * trip (settings of a new connection, BEGIN, SAVEPOINT pga, the snapshot
 * query); each metric is then one round trip, a bare COPY (...) TO STDOUT,
 * or, on a connection kept across cycles (loop mode), the catalog metrics'
 * SELECTs prepared once per connection (cpg_prepared: the server plans
 * each once, not every cycle; the same CSV bytes; rows held as one result
 * of at most CPG_PREP_ROWS, a metric with more read by COPY from then on),
 * all of a session's sent together and read in order (cpg_batch, libpq's
 * pipeline mode: one round trip for the lot, a third less client CPU than
 * one each, bench/21-scale.sh).  A metric that fails (permission, timeout)
 * is rolled back to the savepoint and the session goes on with the next
 * one, in the same snapshot; in a batch the server skips the rest, which
 * go again in the next batch.
 *
 * The snapshot query also learns what the catalog's metrics need (cfacts.c):
 * the extensions of the session's database and the metrics' conditions; a
 * metric whose need is not met here is skipped, without a block or an
 * error.  The conditions of one database ({datid}) come with the cluster
 * session's list of databases, so a database session asks only for its
 * extensions.  Cluster-wide data of an extension (pg_stat_kcache,
 * pg_wait_sampling), like pg_stat_statements, is taken once per target, by
 * the first session whose database has the extension.  The bloat metrics
 * run every bloat-every cycles, decided for the target in its cluster job.
 */
#define _GNU_SOURCE
#include "collect/collect_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "collect/cpg.h"
#include "collect/csvlog.h"
#include "collect/custom.h"
#include "collect/hoststats.h"
#include "common/cli.h"
#include "common/dynbuf.h"
#include "common/grow.h"
#include "common/log.h"
#include "common/units.h"

#define SQL_MIN_CAP 65536
/* The CSV of a prepared statement's rows on its way to the block: most
 * results reach it in one piece. */
#define CSV_BUF 65536
#define TEXTS_NEW_LIMIT 10000000
/* Text the server cannot convert to UTF-8 is read unconverted, then escaped. */
#define RAW_ENCODING "SELECT set_config('client_encoding', 'SQL_ASCII', true); "

/* ---- sessions ---- */

static long long
ms(int64_t us)
{
	return us <= 0 ? 0 : us < 1000 ? 1 : us / 1000;
}

#define CLIENT_ENCODING \
	"CASE current_setting('server_encoding') WHEN 'SQL_ASCII' THEN 'SQL_ASCII' ELSE 'UTF8' END"

/*
 * The settings that decide what COPY prints and how our SQL reads, the
 * same in every session whatever the server, the role or the database
 * says: set in a new session's first transaction (session_settings) and
 * checked in every transaction (settings_ok_sql), from this one list.
 *
 * search_path: our SQL names pg_catalog objects unqualified and the
 * extension by its schema, so nothing in public can shadow them.
 * client_encoding (also a connection parameter, cpg.c): the server
 * converts from the database's encoding, and the central side is UTF8; a
 * SQL_ASCII database has no encoding to convert from and would refuse
 * every value that is not UTF-8 already (22021), so it is read as it is
 * and common/utf8.c escapes what is not UTF-8.  DateStyle/TimeZone: the
 * central side parses what COPY prints (DateStyle keeps the server's order
 * for input, which ISO output does not use).  standard_conforming_strings:
 * how our SQL, and the custom metrics' check (custom.h), read a backslash
 * in a literal.  extra_float_digits 1: every float8 printed exactly
 * (shortest form; a role's 0 would round to 15 digits).  IntervalStyle and
 * bytea_output: what a custom metric's interval or bytea looks like.
 */
static const struct fixed_setting {
	const char *name, *value;	/* value: SQL */
	const char *shown;		/* a predicate on current_setting(name) */
} fixed_settings[] = {
	{"search_path", "'pg_catalog'", "= 'pg_catalog'"},
	{"client_encoding", CLIENT_ENCODING, "= " CLIENT_ENCODING},
	{"DateStyle", "'ISO'", "LIKE 'ISO,%'"},
	{"TimeZone", "'UTC'", "= 'UTC'"},
	{"jit", "'off'", "= 'off'"},
	{"standard_conforming_strings", "'on'", "= 'on'"},
	{"extra_float_digits", "'1'", "= '1'"},
	{"IntervalStyle", "'postgres'", "= 'postgres'"},
	{"bytea_output", "'hex'", "= 'hex'"},
};

/*
 * Settings of a new session, run inside its first transaction (local: for
 * this transaction only, see settings_ok_sql): the fixed ones, the
 * timeouts, and on 15+ a snapshot of the statistics for the transaction.
 * One SELECT of set_config() costs the server a fraction of that many
 * SETs; session-level settings made in the first transaction persist after
 * its COMMIT (loop mode); a session that fails is closed, never reused.
 */
static int
session_settings(struct collector *c, struct ctarget *t, PGconn *conn, bool local, char *buf,
		 size_t cap, struct pga_err *err)
{
	const struct pga_global *g = &c->cfg->global;
	const char *l = local ? "true" : "false";
	struct dynbuf b;

	dynbuf_init_fixed(&b, buf, cap);
	dynbuf_adds(&b, " SELECT");
	for (size_t i = 0; i < sizeof(fixed_settings) / sizeof(fixed_settings[0]); i++)
		dynbuf_addf(&b, " set_config('%s', %s, %s),", fixed_settings[i].name,
			    fixed_settings[i].value, l);
	dynbuf_addf(&b, " set_config('statement_timeout', '%lld', %s),"
		    " set_config('lock_timeout', '%lld', %s),"
		    " set_config('idle_in_transaction_session_timeout', '%lld', %s)",
		    ms(g->statement_timeout), l, ms(g->lock_timeout), l,
		    ms(t->cfg->target_deadline > 1000000 ? t->cfg->target_deadline : 1000000), l);
	if (PQserverVersion(conn) >= 150000)
		dynbuf_addf(&b, ", set_config('stats_fetch_consistency', 'snapshot', %s)", l);
	dynbuf_addc(&b, ';');
	return dynbuf_check(&b, "the session's settings", err);
}

/*
 * Whether the fixed settings are still ours, a boolean the snapshot query
 * returns.  A kept connection through a pooler in transaction mode
 * (pgbouncer's pool_mode = transaction) may run each transaction on another
 * server connection, or on one another client changed with SET: its
 * extra_float_digits could round every float, its DateStyle print
 * 07/12/2026.  A session whose settings drifted sets them again for the
 * transaction (settings_again).
 */
static int
settings_ok_sql(char *buf, size_t cap, struct pga_err *err)
{
	struct dynbuf b;

	dynbuf_init_fixed(&b, buf, cap);
	for (size_t i = 0; i < sizeof(fixed_settings) / sizeof(fixed_settings[0]); i++)
		dynbuf_addf(&b, "%scurrent_setting('%s') %s", i ? " AND " : "(",
			    fixed_settings[i].name, fixed_settings[i].shown);
	dynbuf_addc(&b, ')');
	return dynbuf_check(&b, "the settings check", err);
}

static int
session_connect(struct collector *c, struct csession *s, const char *dbname,
		struct pga_err *err)
{
	struct ctarget *t = s->t;
	int64_t d = t->deadline;

	if (c->cfg->global.connect_timeout > 0 &&
	    pga_mono_us() + c->cfg->global.connect_timeout < d)
		d = pga_mono_us() + c->cfg->global.connect_timeout;
	s->fresh = true;
	return cpg_connect(&s->conn, t->cfg->conninfo, dbname, d, err);
}

/*
 * One savepoint for the whole session: a metric that fails rolls back to
 * it and the session goes on (the transaction's snapshot is unchanged);
 * a successful COPY leaves nothing to undo, so none is set per metric.
 */
#define SNAP_SQL \
	"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;%s SAVEPOINT pga;" \
	" SELECT extract(epoch FROM date_trunc('second', now()))::int8 * 1000000" \
	"  + extract(microseconds FROM now())::int8 %% 1000000, %s," \
	" current_setting('server_version_num')::int, current_database()," \
	" pg_backend_pid(), e.extversion, quote_ident(n.nspname), %s, %s, %s%s" \
	" FROM (SELECT 1) AS one LEFT JOIN pg_extension e" \
	"  ON e.extname = 'pg_stat_statements'" \
	" LEFT JOIN pg_namespace n ON n.oid = e.extnamespace%s"
#define SYSID "(SELECT system_identifier FROM pg_control_system())"
#define SETTINGS_HASH \
	"(SELECT md5(string_agg(name || '=' || coalesce(setting, ''), ',' ORDER BY name))" \
	" FROM pg_settings WHERE source NOT IN ('session', 'client'))"
#define DATA_DIRECTORY \
	"CASE WHEN pg_has_role('pg_read_all_settings', 'USAGE')" \
	" THEN current_setting('data_directory') END"
#define DATABASES \
	"; SELECT d.datname%s FROM pg_database d WHERE d.datallowconn AND NOT d.datistemplate" \
	" AND has_database_privilege(d.datname, 'CONNECT') ORDER BY d.datname"
#define MYDB_OID "(SELECT oid FROM pg_database WHERE datname = current_database())"

static void
snap_parse(struct csnap *sn, const PGresult *r)
{
	const char *v;

	memset(sn, 0, sizeof(*sn));
	if (PQntuples(r) != 1 || PQnfields(r) < 10)
		return;
	sn->snapshot_us = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	sn->sysid = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	sn->server_version = atoi(PQgetvalue(r, 0, 2));
	strlcpy(sn->database, PQgetvalue(r, 0, 3), sizeof(sn->database));
	sn->backend_pid = atoi(PQgetvalue(r, 0, 4));
	strlcpy(sn->pgss_version, PQgetvalue(r, 0, 5), sizeof(sn->pgss_version));
	strlcpy(sn->pgss_schema, PQgetvalue(r, 0, 6), sizeof(sn->pgss_schema));
	strlcpy(sn->settings_hash, PQgetvalue(r, 0, 7), sizeof(sn->settings_hash));
	v = PQgetvalue(r, 0, 8);
	strlcpy(sn->data_directory, v, sizeof(sn->data_directory));
	sn->settings_ok = strcmp(PQgetvalue(r, 0, 9), "t") == 0;
}

/* The values of the catalog's placeholders but the extensions' schemas. */
static void
catalog_vars_of(const struct collector *c, const struct ctarget *t, struct catalog_vars *v)
{
	const struct pga_global *g = &c->cfg->global;

	memset(v, 0, sizeof(*v));
	v->limit = t->cfg->query_stats_limit;
	v->functions_limit = g->functions_limit;
	v->sessions_limit = g->sessions_limit;
	/* a size cap of 0 measures nothing, as a limit of 0 does */
	v->exact_limit = g->bloat_exact_max_size > 0 ? g->bloat_exact_limit : 0;
	v->exact_max_size = g->bloat_exact_max_size > 0 ? (long long)g->bloat_exact_max_size : 1;
	v->where = "true";
}

struct want_ctx {
	const struct ctarget *t;
	const struct cdb *db;
	bool cluster;
	int version;
};

static bool
per_database(const struct metric_def *m)
{
	return m->scope == METRIC_DATABASE && m->when != NULL &&
	       strstr(m->when, "{datid}") != NULL;
}

/* Whether a session asks for a metric's condition: it might run it. */
static bool
session_wants(const struct metric_def *m, void *ctx)
{
	const struct want_ctx *w = ctx;

	if (m->source != METRIC_SQL)
		return false;
	/* known from the cluster session's list of databases */
	if (w->db != NULL && w->db->when_known && per_database(m))
		return false;
	/* the cluster session starts before the cycle's cadence is known */
	if ((m->flags & METRIC_BLOAT) && !w->cluster && !w->t->bloat_due)
		return false;
	if (m->ext == NULL && !(m->flags & METRIC_NEEDS_PGSS) &&
	    catalog_sql_for(m, w->version) == NULL)
		return false;
	if (m->ext != NULL && m->scope == METRIC_CLUSTER)
		return true;	/* once per target, in whichever session has it */
	return w->cluster || m->scope == METRIC_DATABASE;
}

/* The conditions of one database that the list of all can carry. */
static bool
list_wants(const struct metric_def *m, void *ctx)
{
	const struct want_ctx *w = ctx;

	return m->source == METRIC_SQL && per_database(m) && m->ext == NULL &&
	       catalog_sql_for(m, w->version) != NULL;
}

/* "; SELECT d.datname, <conditions> FROM pg_database d ..." into buf. */
static int
databases_sql(struct ctarget *t, struct want_ctx *wc, struct catalog_vars *v, char *buf,
	      size_t cap, struct pga_err *err)
{
	struct cfacts f;
	char *cols = malloc(cap);
	int rc;

	if (cols == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	v->datid = "d.oid";
	rc = cfacts_sql(&f, false, list_wants, wc, v, cols, cap, err);
	v->datid = MYDB_OID;
	if (rc == 0 && (size_t)snprintf(buf, cap, DATABASES, cols) >= cap)
		rc = pga_fail(err, PGA_EINTERNAL, "database list query does not fit in %zu bytes",
			      cap);
	if (rc == 0) {
		memcpy(t->db_when_idx, f.when_idx, f.nwhen);
		t->ndb_when = f.nwhen;
	}
	free(cols);
	return rc;
}

/* the fixed snapshot query, the session's settings, the catalog's columns
 * (CFACTS_SQL_CAP) and the database list's (half of it) */
#define SNAP_CAP (4096 + CFACTS_SQL_CAP * 3 / 2)

/*
 * The session's settings drifted (settings_ok_sql): set again for this
 * transaction, outside the savepoint (a metric that fails rolls back to
 * it), in one round trip; the snapshot is the transaction's, unchanged.
 * Said once per target: a pooler that does it once will do it again.
 */
static int
settings_again(struct collector *c, struct csession *s, struct pga_err *err)
{
	char sql[1200], sets[1024];
	PGresult *res[3];
	int n = 0, rc;

	rc = session_settings(c, s->t, s->conn, true, sets, sizeof(sets), err);
	if (rc < 0)
		return rc;
	if ((size_t)snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT pga;%s SAVEPOINT pga", sets) >=
	    sizeof(sql))
		return pga_fail(err, PGA_EINTERNAL, "the settings do not fit in %zu bytes", sizeof(sql));
	if (!atomic_exchange(&s->t->drift_said, true))
		log_warn("target '%s'%s%s%s: the session's settings were not ours in this"
			 " transaction (a pooler in transaction mode, or a SET by another client"
			 " of it): set again for each such transaction",
			 s->t->cfg->name, s->database ? " database '" : "",
			 s->database ? s->database : "", s->database ? "'" : "");
	rc = cpg_exec(s->conn, sql, s->t->deadline, res, 3, &n, err);
	for (int i = 0; i < n; i++)
		PQclear(res[i]);
	s->savepoint = rc == 0;
	return rc;
}

static int
session_begin(struct collector *c, struct csession *s, bool cluster, PGresult **dbl,
	      struct pga_err *err)
{
	struct ctarget *t = s->t;
	struct want_ctx wc = {.t = t, .db = s->db, .cluster = cluster,
			      .version = PQserverVersion(s->conn)};
	struct catalog_vars v;
	struct cfacts facts;
	PGresult *res[3];
	char *sql = malloc(SNAP_CAP), *extra = malloc(CFACTS_SQL_CAP), sets[1024] = "", ok[1024];
	char *dbs = malloc(CFACTS_SQL_CAP / 2);
	int n = 0, base = s->fresh ? 1 : 0, want, rc = 0;

	if (sql == NULL || extra == NULL || dbs == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	/* one round trip: the settings of a new session, the transaction, the
	 * snapshot facts and the catalog's (extensions, conditions); the
	 * identity, settings hash and databases (with the conditions of each
	 * one) for the cluster job */
	catalog_vars_of(c, t, &v);
	v.datid = MYDB_OID;
	if (rc == 0)
		rc = cfacts_sql(&facts, true, session_wants, &wc, &v, extra, CFACTS_SQL_CAP, err);
	if (rc == 0 && cluster && t->all_dbs)
		rc = databases_sql(t, &wc, &v, dbs, CFACTS_SQL_CAP / 2, err);
	else if (rc == 0)
		dbs[0] = '\0';
	if (rc < 0) {
		free(sql);
		free(extra);
		free(dbs);
		return rc;
	}
	if (rc == 0 && s->fresh)
		rc = session_settings(c, t, s->conn, false, sets, sizeof(sets), err);
	if (rc == 0)
		rc = settings_ok_sql(ok, sizeof(ok), err);
	if (rc == 0 && (size_t)snprintf(sql, SNAP_CAP, SNAP_SQL, sets, cluster ? SYSID : "NULL",
					cluster ? SETTINGS_HASH : "NULL",
					cluster && t->local && t->cfg->os_stats ? DATA_DIRECTORY
										: "NULL",
					ok, extra, dbs) >= SNAP_CAP)
		rc = pga_fail(err, PGA_EINTERNAL, "snapshot query does not fit in %d bytes",
			      SNAP_CAP);
	free(extra);
	free(dbs);
	want = base + (cluster && t->all_dbs ? 2 : 1);
	if (rc == 0)
		rc = cpg_exec(s->conn, sql, t->deadline, res, 3, &n, err);
	free(sql);
	if (rc == 0 && (n != want || PQntuples(res[base]) != 1))
		rc = pga_fail(err, PGA_EDB, "snapshot query returned an unexpected result");
	if (rc == 0) {
		snap_parse(&s->snap, res[base]);
		s->snap.facts = facts;
		cfacts_parse(&s->snap.facts, true, res[base], 0, 10);
		if (s->db != NULL && s->db->when_known) {
			struct cfacts known = {.nwhen = t->ndb_when};

			memcpy(known.when_idx, t->db_when_idx, t->ndb_when);
			memcpy(known.off, s->db->when_off, sizeof(known.off));
			cfacts_merge(&s->snap.facts, &known);
		}
	}
	if (rc == 0 && n == base + 2 && dbl != NULL) {
		*dbl = res[base + 1];
		res[base + 1] = NULL;
	}
	for (int i = 0; i < n; i++)
		PQclear(res[i]);
	s->savepoint = rc == 0;
	if (rc == 0 && !s->snap.settings_ok)
		rc = settings_again(c, s, err);
	s->fresh = false;
	return rc;
}

/*
 * Connect (or reuse *slot) and open the snapshot transaction.  A kept
 * connection that died between cycles (server restart, idle timeout) is
 * replaced once, at once: that is not a failure of the target.
 */
static int
session_open(struct collector *c, struct csession *s, PGconn **slot,
	     const char *dbname, bool cluster, PGresult **dbl, struct pga_err *err)
{
	bool reused = *slot != NULL;
	int rc = 0;

	s->conn = *slot;
	*slot = NULL;
	if (!reused)
		rc = session_connect(c, s, dbname, err);
	if (rc == 0)
		rc = session_begin(c, s, cluster, dbl, err);
	if (rc == PGA_ENET && reused) {
		log_info("target '%s'%s%s: kept connection lost, reconnecting (%s)",
			 s->t->cfg->name, dbname ? " database " : "", dbname ? dbname : "",
			 err->msg);
		PQfinish(s->conn);
		s->conn = NULL;
		rc = session_connect(c, s, dbname, err);
		if (rc == 0)
			rc = session_begin(c, s, cluster, dbl, err);
	}
	if (rc < 0) {
		PQfinish(s->conn);
		s->conn = NULL;
	}
	return rc;
}

/* Keep the connection for the next cycle, or close it. */
static void
session_end(struct collector *c, struct csession *s, PGconn **slot, bool ok)
{
	struct pga_err err = {0};
	int64_t d = pga_mono_us() + 1000000;
	int n;

	if (s->conn == NULL)
		return;
	if (d < s->t->deadline)
		d = s->t->deadline;
	if (c->keep && ok && !pga_stop_requested() &&
	    cpg_exec(s->conn, "COMMIT", d, NULL, 0, &n, &err) == 0) {
		*slot = s->conn;
	} else {
		PQfinish(s->conn);
	}
	s->conn = NULL;
}

/* ---- metrics ---- */

static void
tstat_add(struct collector *c, struct ctarget *t, uint64_t rows, uint64_t bytes,
	  bool error)
{
	pthread_mutex_lock(&c->mu);
	if (error) {
		t->metric_errors++;
	} else {
		t->blocks++;
		t->rows += rows;
		t->bytes += bytes;
	}
	pthread_mutex_unlock(&c->mu);
}

/* ---- blocks: every byte goes through the UTF-8 escaper (common/utf8.h) ---- */

static int
to_spool(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	return spool_stream_write(ctx, buf, len, err);
}

static int
block_write(struct cworker *w, const char *buf, size_t len, struct pga_err *err)
{
	return utf8_stream_write(&w->u8, buf, len, to_spool, w->stream, err);
}

static int
block_begin(struct cworker *w, const struct seg_block_meta *meta, struct pga_err *err)
{
	utf8_stream_reset(&w->u8);
	return spool_stream_begin(w->stream, meta, err);
}

/*
 * The first block of a snapshot in the spool counts the snapshot partial
 * and its target failed, together with the block (spool_stream_commit_
 * tagged): a snapshot cut short by anything, a kill -9 included, stays
 * counted so.  Its status block takes that back when it says complete.
 * tag: what this block counts besides (the status block's), or NULL.
 */
static int
commit_counted(struct cworker *w, struct ctarget *t, const struct spool_counters *tag,
	       uint64_t *rows, struct pga_err *err)
{
	struct collector *c = w->c;
	struct spool_counters d = {0};
	bool first;
	int rc;

	if (tag != NULL)
		d = *tag;
	pthread_mutex_lock(&c->count_mu);	/* held across the commit: one first block */
	first = !t->counted;
	if (first) {
		d.v[CC_SNAPSHOTS_PARTIAL] += 1;
		d.v[CC_TARGETS_FAILED] += 1;
	} else {
		pthread_mutex_unlock(&c->count_mu);
	}
	rc = first || tag != NULL
		     ? spool_stream_commit_tagged(w->stream, rows, &collect_counters, &d, err)
		     : spool_stream_commit(w->stream, rows, err);
	if (first) {
		t->counted = rc == 0;
		pthread_mutex_unlock(&c->count_mu);
	}
	return rc;
}

/* Commit the block; the values it escaped are counted for metric m. */
static int
block_commit(struct cworker *w, struct ctarget *t, const struct metric_def *m,
	     const struct spool_counters *tag, uint64_t *rows, struct pga_err *err)
{
	const struct metric_def *all;
	size_t n;
	int rc = utf8_stream_finish(&w->u8, to_spool, w->stream, err);

	if (rc < 0) {
		spool_stream_abort(w->stream);
		return rc;
	}
	rc = commit_counted(w, t, tag, rows, err);
	all = catalog_all(&n);
	/* custom metrics are counted together, after the block headers */
	if (rc == 0 && w->u8.values > 0)
		collector_count_escaped(w->c, t, (m->flags & METRIC_CUSTOM) ? n + 1 :
					(size_t)(m - all), w->u8.values);
	return rc;
}

static int
push_id(uint64_t **v, size_t *n, size_t *cap, uint64_t id)
{
	if (PGA_GROW(*v, *cap, *n + 1, SIZE_MAX, NULL) < 0)
		return -1;
	(*v)[(*n)++] = id;
	return 0;
}

/* Reads queryid (the 4th column) of pg_stat_statements rows as they stream. */
struct qscan {
	unsigned field;
	bool inq;
	unsigned nlen;
	char num[24];
};

struct csink {
	struct cworker *w;
	struct ctarget *t;
	struct qscan *q;
};

static void
qscan_id(struct csink *k)
{
	struct cworker *w = k->w;
	struct qscan *q = k->q;
	char *end;
	long long id;

	if (q->nlen == 0 || q->nlen >= sizeof(q->num))
		return;		/* NULL: masked for lack of pg_read_all_stats */
	q->num[q->nlen] = '\0';
	id = strtoll(q->num, &end, 10);
	if (*end != '\0')
		return;
	if (push_id(&w->ids, &w->nids, &w->capids, (uint64_t)id) == 0 &&
	    !cstate_has_qid(&k->t->state, (uint64_t)id))
		push_id(&w->newids, &w->nnew, &w->capnew, (uint64_t)id);
}

static void
qscan_feed(struct csink *k, const char *buf, size_t len)
{
	struct qscan *q = k->q;

	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];

		if (ch == '"')
			q->inq = !q->inq;
		else if (q->inq)
			continue;
		else if (ch == ',' || ch == '\n') {
			if (q->field == 3)
				qscan_id(k);
			q->field = ch == '\n' ? 0 : q->field + 1;
			q->nlen = 0;
		} else if (q->field == 3 && q->nlen < sizeof(q->num)) {
			q->num[q->nlen++] = ch;
		}
	}
}

static int
sink_block(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	struct csink *k = ctx;

	if (k->q != NULL)
		qscan_feed(k, buf, len);
	return block_write(k->w, buf, len, err);
}

static int
sql_reserve(struct cworker *w, size_t need, struct pga_err *err)
{
	char *p;

	if (need <= w->sqlcap)
		return 0;
	if (need < SQL_MIN_CAP)
		need = SQL_MIN_CAP;
	p = realloc(w->sql, need);
	if (p == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	w->sql = p;
	w->sqlcap = need;
	return 0;
}

static int
build_copy_sql(struct cworker *w, const char *sql, const struct catalog_vars *v,
	       const char *pre, bool raw, bool custom, struct pga_err *err)
{
	static const char tail[] = ") TO STDOUT (FORMAT csv)";
	size_t len, hl;
	int rc = sql_reserve(w, strlen(sql) + (pre ? strlen(pre) : 0) + 256, err);

	if (rc < 0)
		return rc;
	hl = (size_t)snprintf(w->sql, w->sqlcap, "%s%s%s", raw ? RAW_ENCODING : "",
			      pre ? pre : "", custom ? CUSTOM_COPY_HEAD : "COPY (");
	if (custom) {	/* a DBA's text, checked (custom.h): no placeholders */
		len = strlen(sql);
		memcpy(w->sql + hl, sql, len);
		memcpy(w->sql + hl + len, CUSTOM_COPY_TAIL, sizeof(CUSTOM_COPY_TAIL));
		return 0;
	}
	rc = catalog_expand(sql, v, w->sql + hl, w->sqlcap - hl - sizeof(tail), &len, err);
	if (rc == 0)
		memcpy(w->sql + hl + len, tail, sizeof(tail));
	return rc;
}

/* A catalog metric's SELECT alone, expanded: what cpg_prepared prepares. */
static int
build_select_sql(struct cworker *w, const char *sql, const struct catalog_vars *v, size_t *len,
		 struct pga_err *err)
{
	int rc = sql_reserve(w, strlen(sql) + 256, err);

	if (rc == 0)
		rc = catalog_expand(sql, v, w->sql, w->sqlcap, len, err);
	return rc;
}

static int
ensure_stream(struct cworker *w, struct pga_err *err)
{
	if (w->stream != NULL)
		return 0;
	/* blocks go to the segment a session's worth at a time (flush_job) */
	return spool_stream_new(w->c->sp, SPOOL_STREAM_BATCH, &w->stream, err);
}

/*
 * The metric's columns with their central types and roles: the segment
 * describes itself (FORMAT.md "Column descriptors"), so a loader that
 * never heard of the metric still builds its typed table and delta view.
 */
static void
block_describe(struct cworker *w, const struct metric_def *m, struct seg_block_meta *meta)
{
	static const uint8_t roles[] = {
		[COL_KEY] = SEG_ROLE_KEY, [COL_COUNTER] = SEG_ROLE_COUNTER,
		[COL_GAUGE] = SEG_ROLE_GAUGE, [COL_INFO] = SEG_ROLE_INFO,
	};

	for (size_t i = 0; i < m->ncols; i++) {
		w->cols[i] = m->cols[i].name;
		w->desc[i].type = m->cols[i].type;
		w->desc[i].role = roles[m->cols[i].kind];
		if (m->reset_col != NULL && strcmp(m->reset_col, m->cols[i].name) == 0)
			w->desc[i].role = SEG_ROLE_RESET;
	}
	meta->ncols = (uint16_t)m->ncols;
	meta->cols = w->cols;
	meta->desc = w->desc;
	meta->flags = m->scope == METRIC_DATABASE ? SEG_BLOCK_PER_DATABASE : 0;
}

static void
block_meta(struct cworker *w, struct csession *s, const struct metric_def *m,
	   struct seg_block_meta *meta)
{
	*meta = s->t->base;
	strlcpy(meta->metric, m->name, sizeof(meta->metric));
	/* a SQL_ASCII cluster may name a database with any bytes: the header
	 * gets it escaped, the connection keeps the real name */
	if (utf8_escape_str(meta->database, sizeof(meta->database),
			    m->scope == METRIC_DATABASE && s->database ? s->database : "",
			    NULL) > 0 && !s->header_counted) {
		s->header_counted = true;
		collector_count_escaped(w->c, s->t, w->c->nmetrics, 1);
	}
	block_describe(w, m, meta);
}

static bool
conn_level(int rc)
{
	return rc == PGA_ETIMEOUT || rc == PGA_ECANCEL || rc == PGA_ENET;
}

static void
metric_error(struct collector *c, struct csession *s, const struct metric_def *m,
	     const struct pga_err *err)
{
	log_warn("target '%s'%s%s%s metric '%s': %s", s->t->cfg->name,
		 s->database ? " database '" : "", s->database ? s->database : "",
		 s->database ? "'" : "", m->name, err->msg);
	tstat_add(c, s->t, 0, 0, true);
}

/*
 * After a failed COPY: a server error is this metric's alone (roll back to
 * the savepoint, go on); a lost connection ends the session; anything else
 * came from the spool and ends the cycle.
 */
static int
copy_failed(struct cworker *w, struct csession *s, const struct metric_def *m,
	    int rc, struct pga_err *err)
{
	int n;

	if (rc == PGA_EDB) {
		metric_error(w->c, s, m, err);
		rc = cpg_exec(s->conn, "ROLLBACK TO SAVEPOINT pga", s->t->deadline,
			      NULL, 0, &n, err);
		return rc < 0 ? rc : 1;
	}
	if (!conn_level(rc))
		collector_fatal(w->c, err);
	return rc;
}

/* An error converting to UTF-8: read the metric again without conversion. */
static bool
unconvertible(const struct pga_err *err)
{
	return err->code == PGA_EDB && (strstr(err->msg, "(SQLSTATE 22P05)") != NULL ||
					strstr(err->msg, "(SQLSTATE 22021)") != NULL);
}

/* The stream open and m's block begun; failing here stops the collector. */
static int
open_block(struct cworker *w, struct csession *s, const struct metric_def *m,
	   struct pga_err *err)
{
	struct seg_block_meta meta;
	int rc = ensure_stream(w, err);

	if (rc == 0) {
		block_meta(w, s, m, &meta);
		rc = block_begin(w, &meta, err);
	}
	if (rc < 0)
		collector_fatal(w->c, err);
	return rc;
}

/*
 * Whether the metric runs as a prepared statement (cpg_prepared): on a
 * connection kept across cycles, a catalog metric's own SELECT.  Not the
 * pg_stat_statements counters (their queryids are read from the COPY's
 * CSV) nor texts (low cadence, and their encoding fallbacks are COPY's),
 * nor a custom metric (a DBA's SQL, described anew every cycle), nor what
 * runs after a prefix or unconverted: those stay COPYs.  In one-shot mode
 * a new connection would gain nothing from preparing.
 */
static bool
preparable(const struct csession *s, const struct metric_def *m, bool scan, const char *pre,
	   bool raw)
{
	return s->prepare && !scan && pre == NULL && !raw &&
	       !(m->flags & (METRIC_CUSTOM | METRIC_TEXTS));
}

/* The metric's rows into the open block: prepared where it may, else COPY. */
static int
fetch_rows(struct cworker *w, struct csession *s, const struct metric_def *m, const char *sql,
	   const struct catalog_vars *v, bool *prep, size_t len, const char *pre, bool raw,
	   struct csink *k, uint64_t *bytes, struct pga_err *err)
{
	int rc = CPG_NOT_PREPARED;

	if (*prep && w->csv == NULL && (w->csv = malloc(CSV_BUF)) == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (*prep)
		rc = cpg_prepared(s->conn, w->sql, len, CPG_PREP_ROWS, s->t->deadline, sink_block, k,
				  w->csv, CSV_BUF, bytes, err);
	if (rc == CPG_SWITCHED)
		log_debug("target '%s'%s%s metric '%s': more than %u rows, by COPY from now on",
			  s->t->cfg->name, s->database ? " database " : "",
			  s->database ? s->database : "", m->name, CPG_PREP_ROWS);
	if (rc == CPG_SWITCHED || rc == CPG_COPIED)
		*prep = false;
	if (rc != CPG_NOT_PREPARED)
		return rc < 0 ? rc : 0;
	/* nothing was sent: the connection holds as many statements as it may */
	rc = 0;
	if (*prep)
		rc = build_copy_sql(w, sql, v, pre, raw, (m->flags & METRIC_CUSTOM) != 0, err);
	*prep = false;
	return rc < 0 ? rc : cpg_copy(s->conn, w->sql, s->t->deadline, sink_block, k, bytes, err);
}

/*
 * One COPY (or prepared SELECT) into one block: 0, or the error (the block
 * is aborted; a spool error has stopped the cycle already).
 */
static int
copy_metric(struct cworker *w, struct csession *s, const struct metric_def *m,
	    const char *sql, const struct catalog_vars *v, bool scan, const char *pre,
	    bool raw, struct pga_err *err)
{
	struct qscan q = {0};
	struct csink k = {.w = w, .t = s->t, .q = scan ? &q : NULL};
	size_t nids = w->nids, nnew = w->nnew, len = 0;
	uint64_t bytes = 0, rows = 0;
	bool prep = preparable(s, m, scan, pre, raw);
	int64_t t0;
	int rc;

	rc = prep ? build_select_sql(w, sql, v, &len, err) :
	     build_copy_sql(w, sql, v, pre, raw, (m->flags & METRIC_CUSTOM) != 0, err);
	if (rc < 0) {
		collector_fatal(w->c, err);
		return rc;
	}
	rc = open_block(w, s, m, err);
	if (rc < 0)
		return rc;
	t0 = pga_mono_us();
	rc = fetch_rows(w, s, m, sql, v, &prep, len, pre, raw, &k, &bytes, err);
	log_trace("target '%s'%s%s metric '%s': %" PRIu64 " bytes in %.2f ms%s", s->t->cfg->name,
		  s->database ? " database " : "", s->database ? s->database : "", m->name, bytes,
		  (double)(pga_mono_us() - t0) / 1000, prep ? ", prepared" : "");
	if (rc < 0) {
		spool_stream_abort(w->stream);
		w->nids = nids;	/* the ids of rows that were thrown away */
		w->nnew = nnew;
		return rc;
	}
	rc = block_commit(w, s->t, m, NULL, &rows, err);
	if (rc < 0) {
		collector_fatal(w->c, err);
		return rc;
	}
	tstat_add(w->c, s->t, rows, bytes, false);
	return 0;
}

#define METRIC_ELSEWHERE 2
#define METRIC_NOT_RUN 3	/* a due metric the session did not reach */

/* A metric due in a session: its SQL for this server and its variables. */
struct due {
	const struct metric_def *m;
	const char *sql;
	struct catalog_vars v;
	int rc;			/* run_metric's, or METRIC_NOT_RUN */
};

/*
 * Whether m runs in this session, and with what SQL: not on a server
 * without its view, nor where a condition is not met (an extension this
 * database lacks, a standby-only view on a primary, no command in
 * progress): no block then.
 */
static bool
metric_due(struct csession *s, const struct metric_def *m, const struct catalog_vars *vars,
	   struct due *d)
{
	bool pgss = m->flags & METRIC_NEEDS_PGSS;
	int version = pgss ? catalog_pgss_version(s->snap.pgss_version) : s->snap.server_version;
	enum cfacts_why why;

	d->m = m;
	d->v = *vars;
	d->rc = METRIC_NOT_RUN;
	if (m->ext != NULL || m->when != NULL) {
		why = cfacts_skip(&s->snap.facts, m, &version, &d->v.ext);
		if (why != CFACTS_RUN) {
			char text[256];

			cfacts_why(&s->snap.facts, m, why, s->snap.database, text, sizeof(text));
			log_trace("target '%s' metric '%s': skipped: %s", s->t->cfg->name, m->name,
				  text);
			return false;
		}
	}
	d->sql = catalog_sql_for(m, version);
	return d->sql != NULL;
}

/*
 * After a metric's first try failed with rc: what follows from its error
 * (run_metric's return values).
 */
static int
metric_retry(struct cworker *w, struct csession *s, const struct due *d, bool scan,
	     const char *pre, int rc, struct pga_err *err)
{
	const struct metric_def *m = d->m;
	int n;

	if (rc < 0 && err->code == PGA_EDB && strcmp(err->sqlstate, "26000") == 0) {
		/* the connection's statements are gone (cpg_prepared): said once,
		 * and the metric read again as a COPY */
		log_info("target '%s'%s%s: %s", s->t->cfg->name, s->database ? " database " : "",
			 s->database ? s->database : "", err->msg);
		rc = cpg_exec(s->conn, "ROLLBACK TO SAVEPOINT pga", s->t->deadline, NULL, 0, &n,
			      err);
		if (rc == 0)
			rc = copy_metric(w, s, m, d->sql, &d->v, scan, pre, false, err);
	}
	if (rc < 0 && unconvertible(err) && (m->flags & METRIC_TEXTS)) {
		/* pg_stat_statements converts on the server: no client setting helps */
		rc = cpg_exec(s->conn, "ROLLBACK TO SAVEPOINT pga", s->t->deadline, NULL, 0, &n,
			      err);
		return rc < 0 ? rc : METRIC_ELSEWHERE;
	}
	if (rc < 0 && unconvertible(err)) {
		/* a character the database's encoding has and UTF-8 has not (or
		 * bytes invalid in it): PostgreSQL cannot convert, so take the
		 * bytes as they are; what is not UTF-8 is escaped */
		log_debug("target '%s' metric '%s': %s: read again unconverted", s->t->cfg->name,
			  m->name, err->msg);
		rc = cpg_exec(s->conn, "ROLLBACK TO SAVEPOINT pga", s->t->deadline, NULL, 0, &n,
			      err);
		if (rc == 0)
			rc = copy_metric(w, s, m, d->sql, &d->v, scan, pre, true, err);
		if (rc == 0) {
			__atomic_add_fetch(&s->t->unconverted, 1, __ATOMIC_RELAXED);
			/* back to the session's encoding: a COPY TO leaves nothing else
			 * to undo, its rows are already here */
			return cpg_exec(s->conn, "ROLLBACK TO SAVEPOINT pga", s->t->deadline, NULL,
					0, &n, err);
		}
	}
	return rc < 0 ? copy_failed(w, s, m, rc, err) : 0;
}

/* A due metric on its own (a COPY, or prepared): run_metric's result. */
static int
run_due(struct cworker *w, struct csession *s, const struct due *d, bool scan, const char *pre,
	struct pga_err *err)
{
	return metric_retry(w, s, d, scan, pre,
			    copy_metric(w, s, d->m, d->sql, &d->v, scan, pre, false, err), err);
}

/*
 * Stream one metric into a block.  Returns 0 (collected, or not on this
 * version), 1 (the metric failed; counted and logged), METRIC_ELSEWHERE
 * (texts that cannot be read in this database: not counted yet, see
 * texts_elsewhere), or < 0 when the session is lost or the spool failed.
 */
static int
run_metric(struct cworker *w, struct csession *s, const struct metric_def *m,
	   const struct catalog_vars *vars, bool scan, const char *pre, struct pga_err *err)
{
	struct due d;

	if (!metric_due(s, m, vars, &d))
		return 0;
	return run_due(w, s, &d, scan, pre, err);
}

/* ---- a session's prepared metrics in one round trip (cpg_batch) ---- */

/* The next batched metric's rows into its block: 0, CPG_SWITCHED or the error. */
static int
batch_one(struct cworker *w, struct csession *s, struct cpg_batch *b, const struct due *d,
	  size_t nb, struct pga_err *err)
{
	struct csink k = {.w = w, .t = s->t};
	uint64_t bytes = 0, rows = 0;
	int rc = open_block(w, s, d->m, err);

	if (rc < 0)
		return rc;
	rc = cpg_batch_next(b, sink_block, &k, w->csv, CSV_BUF, &bytes, err);
	if (rc != 0) {
		spool_stream_abort(w->stream);
		if (rc == CPG_SWITCHED)
			log_debug("target '%s'%s%s metric '%s': more than %u rows, by COPY from"
				  " now on", s->t->cfg->name, s->database ? " database " : "",
				  s->database ? s->database : "", d->m->name, CPG_PREP_ROWS);
		return rc;
	}
	log_trace("target '%s'%s%s metric '%s': %" PRIu64 " bytes, one of a batch of %zu,"
		  " prepared", s->t->cfg->name, s->database ? " database " : "",
		  s->database ? s->database : "", d->m->name, bytes, nb);
	rc = block_commit(w, s->t, d->m, NULL, &rows, err);
	if (rc < 0) {
		collector_fatal(w->c, err);
		return rc;
	}
	tstat_add(w->c, s->t, rows, bytes, false);
	return 0;
}

/* The connection's failure ends the session; the spool's, the cycle. */
static int
batch_lost(struct cworker *w, int rc, struct pga_err *err)
{
	if (!conn_level(rc))
		collector_fatal(w->c, err);
	return rc;
}

/*
 * Queue d[0..n) in b, as many as it takes: the count looked at; later[i]
 * for one that runs outside the batch (a COPY).
 */
static int
batch_fill(struct cworker *w, struct cpg_batch *b, struct due *d, size_t n, bool *later,
	   size_t *looked, struct pga_err *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		size_t len;

		rc = build_select_sql(w, d[i].sql, &d[i].v, &len, err);
		if (rc < 0) {
			collector_fatal(w->c, err);
			break;
		}
		rc = cpg_batch_add(b, w->sql, len, err);
		if (rc == CPG_BATCH_FULL) {
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		later[i] = rc != 0;
	}
	*looked = i;
	return rc;
}

/*
 * d[0..n) in one round trip, as many as a batch takes: how many were
 * settled (each one's rc set), 0 when this connection does not batch, or
 * < 0 when the session is lost or the spool failed.  A metric that fails
 * ends the batch: the transaction rolls back to the savepoint (its retry,
 * run_metric's) and the caller sends the ones after it in a new batch.
 */
static long
run_batch(struct cworker *w, struct csession *s, struct due *d, size_t n, struct pga_err *err)
{
	struct cpg_batch b;
	struct pga_err e2 = {0};
	bool later[CPG_BATCH_MAX] = {0};
	size_t looked = 0, failed = n;
	int rc, frc = 0;

	if (w->csv == NULL && (w->csv = malloc(CSV_BUF)) == NULL) {
		pga_fail(err, PGA_ENOMEM, "out of memory");
		collector_fatal(w->c, err);
		return err->code;
	}
	rc = cpg_batch_begin(&b, s->conn, CPG_PREP_ROWS, s->t->deadline, err);
	if (rc == CPG_NOT_PREPARED)
		return 0;
	if (rc == 0)
		rc = batch_fill(w, &b, d, n < CPG_BATCH_MAX ? n : CPG_BATCH_MAX, later, &looked, err);
	if (rc == 0)
		rc = cpg_batch_send(&b, err);
	if (rc < 0)	/* nothing came back: a libpq refusal is the session's end */
		return err->code == PGA_EDB ? rc : batch_lost(w, rc, err);
	for (size_t i = 0; i < looked && rc == 0 && failed == n; i++) {
		if (later[i])
			continue;
		frc = batch_one(w, s, &b, &d[i], b.n, err);
		if (frc == 0)
			d[i].rc = 0;
		else if (frc == CPG_SWITCHED)
			later[i] = true;
		else if (frc < 0 && err->code != PGA_EDB)
			rc = batch_lost(w, frc, err);
		else if (frc < 0)
			failed = i;
	}
	if (rc == 0 && (rc = cpg_batch_end(&b, &e2)) < 0)
		*err = e2;
	if (rc < 0)
		return rc;
	if (failed < n) {
		/* the rest of the batch was skipped; the transaction is aborted */
		d[failed].rc = metric_retry(w, s, &d[failed], false, NULL, frc, err);
		if (d[failed].rc < 0)
			return d[failed].rc;
		looked = failed + 1;
	}
	for (size_t i = 0; i < looked; i++) {
		if (!later[i])
			continue;
		d[i].rc = run_due(w, s, &d[i], false, NULL, err);
		if (d[i].rc < 0)
			return d[i].rc;
	}
	return (long)looked;
}

/* Metrics due in this session, d[0..n): in batches where the connection may. */
static int
run_dues(struct cworker *w, struct csession *s, struct due *d, size_t n, struct pga_err *err)
{
	for (size_t i = 0; i < n;) {
		long k = s->prepare ? run_batch(w, s, d + i, n - i, err) : 0;

		if (k < 0)
			return (int)k;
		if (k == 0) {
			d[i].rc = run_due(w, s, &d[i], false, NULL, err);
			if (d[i].rc < 0)
				return d[i].rc;
			k = 1;
		}
		i += (size_t)k;
		if (i < n && pga_stop_requested())
			return pga_fail(err, PGA_ECANCEL, "interrupted");
	}
	return 0;
}

/* The settings block was written: not again until they change (one
 * that failed or was not reached is taken again the next cycle). */
static void
dues_done(struct csession *s, const struct due *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((d[i].m->flags & METRIC_SETTINGS) && d[i].rc == 0) {
			s->t->state.settings_cycle = s->t->state.cycle;
			strlcpy(s->t->state.settings_hash, s->snap.settings_hash,
				sizeof(s->t->state.settings_hash));
		}
	}
}

static int
run_scope(struct cworker *w, struct csession *s, enum metric_scope scope,
	  bool settings, struct pga_err *err)
{
	struct due d[CPG_BATCH_MAX];
	struct catalog_vars v;
	const struct metric_def *all;
	size_t n, nd = 0;
	int rc = 0;

	catalog_vars_of(w->c, s->t, &v);
	all = catalog_all(&n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct metric_def *m = &all[i];

		if (m->source != METRIC_SQL || m->scope != scope ||
		    (m->flags & METRIC_NEEDS_PGSS) || (!settings && (m->flags & METRIC_SETTINGS)) ||
		    ((m->flags & METRIC_BLOAT) && !s->t->bloat_due) ||
		    (m->ext != NULL && scope == METRIC_CLUSTER))
			continue;
		if (pga_stop_requested())
			return pga_fail(err, PGA_ECANCEL, "interrupted");
		if (!metric_due(s, m, &v, &d[nd]))
			continue;
		if (++nd < CPG_BATCH_MAX)
			continue;
		rc = run_dues(w, s, d, nd, err);
		dues_done(s, d, nd);
		nd = 0;
	}
	if (rc == 0 && nd > 0) {
		rc = run_dues(w, s, d, nd, err);
		dues_done(s, d, nd);
	}
	return rc;
}

/* ---- custom metrics ([metric:NAME], custom.h) ---- */

/* One custom metric: described by this server, then run as a catalog one. */
static int
run_one_custom(struct cworker *w, struct csession *s, const struct pga_metric *pm,
	       const struct catalog_vars *v, struct pga_err *err)
{
	struct custom_def d;
	char *pre = NULL;
	int n, rc = custom_describe(s->conn, w->c->cfg, pm, s->t->deadline, &d, err);

	if (rc == PGA_EDB || rc == PGA_EINVAL) {
		/* the server refused it, or its result does not fit: this metric's
		 * error alone; a refused Parse aborted the transaction */
		metric_error(w->c, s, &d.def, err);
		rc = rc == PGA_EINVAL ? 0 : cpg_exec(s->conn, "ROLLBACK TO SAVEPOINT pga",
						     s->t->deadline, NULL, 0, &n, err);
		custom_def_release(&d);
		return rc < 0 ? rc : 1;
	}
	if (rc == 0 && (pre = custom_prefix(w->c->cfg, pm)) == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	if (rc == PGA_ENOMEM)
		collector_fatal(w->c, err);
	if (rc == 0 && CUSTOM_PREFIX_APART(s->snap.server_version)) {
		rc = cpg_exec(s->conn, pre, s->t->deadline, NULL, 0, &n, err);
		free(pre);
		pre = NULL;
		if (rc == PGA_EDB) {
			metric_error(w->c, s, &d.def, err);
			rc = cpg_exec(s->conn, "ROLLBACK TO SAVEPOINT pga", s->t->deadline, NULL, 0,
				      &n, err);
			rc = rc < 0 ? rc : 1;
		}
	}
	if (rc == 0)
		rc = run_metric(w, s, &d.def, v, false, pre, err);
	free(pre);
	custom_def_release(&d);
	return rc;
}

/* The custom metrics of scope that are due in this session. */
static int
run_custom(struct cworker *w, struct csession *s, enum metric_scope scope,
	   struct pga_err *err)
{
	const struct pga_config *cfg = w->c->cfg;
	struct catalog_vars v;

	catalog_vars_of(w->c, s->t, &v);
	for (size_t i = 0; i < cfg->nmetrics; i++) {
		const struct pga_metric *pm = &cfg->metrics[i];
		int rc;

		if ((pm->scope == PGA_METRIC_DATABASE) != (scope == METRIC_DATABASE) ||
		    !custom_due(pm, s->snap.server_version, s->t->state.cycle))
			continue;
		if (pga_stop_requested())
			return pga_fail(err, PGA_ECANCEL, "interrupted");
		rc = run_one_custom(w, s, pm, &v, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- pg_stat_statements ---- */

/*
 * "SELECT set_config('pga.qids', '{1,2,3}', true); " for the ids not seen
 * before.  The ids travel in a transaction-local setting rather than in the
 * COPY's text: a text that changed every cycle would itself be a new
 * statement in pg_stat_statements every cycle, whose text the next cycle
 * would fetch, forever.
 */
static char *
new_ids_setting(const struct cworker *w)
{
	size_t cap = w->nnew * 21 + 64, len;
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	len = (size_t)snprintf(s, cap, "SELECT set_config('pga.qids', '{");
	for (size_t i = 0; i < w->nnew; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s%" PRId64, i ? "," : "",
					(int64_t)w->newids[i]);
	snprintf(s + len, cap - len, "}', true); ");
	return s;
}

/*
 * pg_stat_statements converts every text to the encoding of the database it
 * is read in, and a text it cannot convert (bytes a SQL_ASCII database
 * took) fails the whole call.  In a SQL_ASCII database nothing is
 * converted: read the texts there, on a connection of their own (what is
 * not UTF-8 is then escaped).  Returns 0 (read), 1 (failed there: counted)
 * or METRIC_ELSEWHERE (no SQL_ASCII database with the extension).
 */
static int
texts_elsewhere(struct cworker *w, struct csession *s, const struct catalog_vars *v,
		const char *pre, struct pga_err *err)
{
	const struct metric_def *m = catalog_find("pg_stat_statements_texts");
	PGresult *r = NULL;
	int n = 0, rc;

	rc = cpg_exec(s->conn, "SELECT datname FROM pg_database WHERE encoding = 0"
		      " AND datallowconn AND has_database_privilege(datname, 'CONNECT')"
		      " ORDER BY datname LIMIT 16", s->t->deadline, &r, 1, &n, err);
	if (rc < 0 || n != 1)
		return rc < 0 ? rc : METRIC_ELSEWHERE;
	rc = METRIC_ELSEWHERE;
	for (int i = 0; rc == METRIC_ELSEWHERE && i < PQntuples(r); i++) {
		struct csession side = {.t = s->t};
		struct catalog_vars sv = *v;
		struct pga_err e = {0};
		PGconn *slot = NULL;
		const char *db = PQgetvalue(r, i, 0);

		if (session_open(w->c, &side, &slot, db, false, NULL, &e) < 0) {
			log_debug("target '%s': query texts: %s", s->t->cfg->name, e.msg);
			continue;
		}
		/* SQL_ASCII has nothing to convert from: take the bytes as they are */
		if (side.snap.pgss_version[0] != '\0' &&
		    catalog_pgss_version(side.snap.pgss_version) >= 0 &&
		    cpg_exec(side.conn, RAW_ENCODING, s->t->deadline, NULL, 0, &n, &e) == 0) {
			sv.pgss = side.snap.pgss_schema;
			rc = run_metric(w, &side, m, &sv, false, pre, &e);
			if (rc < 0 && w->c->fatal) {
				*err = e;
				rc = e.code;
			} else if (rc < 0 || rc == METRIC_ELSEWHERE) {
				metric_error(w->c, &side, m, &e);
				rc = 1;
			}
			if (rc == 0)
				log_info("target '%s': query texts read in SQL_ASCII database '%s'"
					 " (database '%s' cannot convert them all)", s->t->cfg->name,
					 db, s->snap.database);
		}
		session_end(w->c, &side, &slot, false);
	}
	PQclear(r);
	return rc;
}

static int
run_texts(struct cworker *w, struct csession *s, struct catalog_vars *v,
	  bool full, bool counters_ok, struct pga_err *err)
{
	struct cstate *st = &s->t->state;
	char *pre = NULL;
	int rc;

	if (!full && (!counters_ok || w->nnew == 0))
		return 0;
	if (!full) {
		pre = new_ids_setting(w);
		if (pre == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		v->where = "queryid = ANY (current_setting('pga.qids')::bigint[])";
		/* every row of those queryids (one per user, database and level):
		 * they are all marked as shipped afterwards; pg_stat_statements.max
		 * bounds the count */
		v->limit = TEXTS_NEW_LIMIT;
	}
	/* once texts had to be read elsewhere, go there first (loop mode): each
	 * failed attempt is an ERROR in the server's log */
	rc = s->t->texts_raw ? texts_elsewhere(w, s, v, pre, err) : METRIC_ELSEWHERE;
	if (rc == METRIC_ELSEWHERE) {
		s->t->texts_raw = false;
		rc = run_metric(w, s, catalog_find("pg_stat_statements_texts"), v, false, pre, err);
	}
	if (rc == METRIC_ELSEWHERE) {
		struct pga_err why = *err;

		rc = texts_elsewhere(w, s, v, pre, err);
		s->t->texts_raw = rc == 0;
		if (rc == METRIC_ELSEWHERE) {
			pga_err_prefix(&why, "no SQL_ASCII database with pg_stat_statements to read"
				       " them unconverted");
			metric_error(w->c, s, catalog_find("pg_stat_statements_texts"), &why);
			rc = 1;
		}
	}
	if (rc == 0 && full) {
		st->texts_cycle = st->cycle;
		if (counters_ok)
			rc = cstate_set_qids(st, w->ids, w->nids, true, err);
	} else if (rc == 0) {
		rc = cstate_set_qids(st, w->newids, w->nnew, false, err);
	}
	free(pre);
	return rc;
}

static int
run_pgss(struct cworker *w, struct csession *s, struct pga_err *err)
{
	struct ctarget *t = s->t;
	struct cstate *st = &t->state;
	struct catalog_vars v;
	bool full = st->texts_cycle == 0 ||
		    st->cycle - st->texts_cycle >= (uint64_t)t->cfg->texts_every ||
		    st->nqids > 4 * (size_t)t->cfg->query_stats_limit;
	int rc, counters;

	catalog_vars_of(w->c, t, &v);
	v.pgss = s->snap.pgss_schema;
	w->nids = w->nnew = 0;
	counters = run_metric(w, s, catalog_find("pg_stat_statements"), &v, true, NULL, err);
	if (counters < 0)
		return counters;
	rc = run_metric(w, s, catalog_find("pg_stat_statements_totals"), &v, false, NULL, err);
	if (rc >= 0)
		rc = run_metric(w, s, catalog_find("pg_stat_statements_info"), &v, false, NULL,
				err);
	if (rc < 0)
		return rc;
	rc = run_texts(w, s, &v, full, counters == 0, err);
	return rc < 0 ? rc : 0;
}

static bool
claim_pgss(struct collector *c, struct csession *s)
{
	bool mine = false;

	if (s->snap.pgss_version[0] == '\0' || catalog_pgss_version(s->snap.pgss_version) < 0)
		return false;
	pthread_mutex_lock(&c->mu);
	if (!s->t->pgss_claimed)
		mine = s->t->pgss_claimed = true;
	pthread_mutex_unlock(&c->mu);
	return mine;
}

/* ---- cluster-wide data of an extension (pg_stat_kcache, ...) ---- */

/*
 * An extension in shared memory holds every database's data, but its
 * functions exist only in the databases that created it: the first session
 * of the cycle whose database has it takes its cluster metrics.
 */
static bool
claim_ext(struct collector *c, struct csession *s, int e)
{
	bool mine = false;

	pthread_mutex_lock(&c->mu);
	if (!(s->t->ext_claimed & (1u << e))) {
		s->t->ext_claimed |= 1u << e;
		mine = true;
	}
	pthread_mutex_unlock(&c->mu);
	return mine;
}

static int
run_ext_claims(struct cworker *w, struct csession *s, struct pga_err *err)
{
	const struct metric_def *all;
	struct catalog_vars v;
	unsigned tried = 0, mine = 0;
	size_t n;

	catalog_vars_of(w->c, s->t, &v);
	all = catalog_all(&n);
	for (size_t i = 0; i < n; i++) {
		const struct metric_def *m = &all[i];
		int e = catalog_ext_index(m->ext), rc;

		if (m->source != METRIC_SQL || m->scope != METRIC_CLUSTER || e < 0 ||
		    !s->snap.facts.ext[e].installed)
			continue;
		if (!(tried & (1u << e)) && claim_ext(w->c, s, e))
			mine |= 1u << e;
		tried |= 1u << e;
		if (!(mine & (1u << e)))
			continue;
		rc = run_metric(w, s, m, &v, false, NULL, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- host metrics and the server log (produced here, not by SQL) ---- */

static int
write_stream(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	return block_write(ctx, buf, len, err);
}

/* Like run_metric for a block we produce ourselves; fn fills it. */
static int
run_local(struct cworker *w, struct csession *s, const struct metric_def *m,
	  int (*fn)(struct cworker *, struct csession *, const struct metric_def *,
		    struct pga_err *), struct pga_err *err)
{
	uint64_t rows = 0;
	int rc = open_block(w, s, m, err);

	if (rc < 0)
		return rc;
	rc = fn(w, s, m, err);
	if (rc == 0)
		rc = block_commit(w, s->t, m, NULL, &rows, err);
	if (rc == 0) {
		tstat_add(w->c, s->t, rows, 0, false);
		return 0;
	}
	spool_stream_abort(w->stream);
	if (rc == PGA_EIO || rc == PGA_ENOSPC || rc == PGA_EFULL || rc == PGA_ENOMEM) {
		collector_fatal(w->c, err);
		return rc;
	}
	metric_error(w->c, s, m, err);
	return 1;
}

static int
host_fill(struct cworker *w, struct csession *s, const struct metric_def *m,
	  struct pga_err *err)
{
	const char *dir = s->t->cfg->data_directory ? s->t->cfg->data_directory :
			  s->snap.data_directory;

	return host_metric(m->name, dir, write_stream, w, err);
}

static int
csvlog_fill(struct cworker *w, struct csession *s, const struct metric_def *m,
	    struct pga_err *err)
{
	(void)m;
	return csvlog_read(&s->t->csvlog, write_stream, w, err);
}

/*
 * The log's read position is saved only once its block is durable in the
 * segment: the stream holds committed blocks until a flush
 * (SPOOL_STREAM_BATCH), and the part file's tail is not fsync'd until the
 * seal, so a kill -9 or a power cut in between would lose records the saved
 * position has passed (spool_stream_sync: one fdatasync a cycle).  A block
 * the flush refuses (quota) leaves the position where it was: the records
 * are read again next cycle, as when a commit alone is refused.
 */
static int
csvlog_flush_done(struct cworker *w, struct csession *s, struct pga_err *err)
{
	int rc = spool_stream_sync(w->stream, err);

	if (rc < 0) {
		collector_fatal(w->c, err);
		return rc;
	}
	csvlog_done(&s->t->csvlog);
	return 0;
}

static int
run_local_metrics(struct cworker *w, struct csession *s, struct pga_err *err)
{
	const struct metric_def *all;
	size_t n;
	int rc = 0;

	all = catalog_all(&n);
	for (size_t i = 0; i < n && rc >= 0; i++) {
		if (all[i].source == METRIC_HOST && s->t->local && s->t->cfg->os_stats)
			rc = run_local(w, s, &all[i], host_fill, err);
		else if (all[i].source == METRIC_CSVLOG && s->t->cfg->csvlog != NULL) {
			rc = run_local(w, s, &all[i], csvlog_fill, err);
			if (rc == 0)
				rc = csvlog_flush_done(w, s, err);
		}
	}
	return rc < 0 ? rc : 0;
}

/* ---- jobs ---- */

static bool
settings_due(const struct collector *c, const struct csession *s)
{
	const struct cstate *st = &s->t->state;

	return st->settings_cycle == 0 ||
	       st->cycle - st->settings_cycle >= (uint64_t)c->cfg->global.settings_every ||
	       strcmp(st->settings_hash, s->snap.settings_hash) != 0;
}

/* Identity of every block of the target this cycle; the state follows it. */
static void
target_identity(struct collector *c, struct ctarget *t, struct csession *s)
{
	struct seg_block_meta *b = &t->base;
	struct pga_err err = {0};
	const char *host = PQhost(s->conn), *port = PQport(s->conn);

	memset(b, 0, sizeof(*b));
	b->snapshot_us = s->snap.snapshot_us;
	b->sysid = s->snap.sysid;
	b->server_version = (uint32_t)s->snap.server_version;
	b->port = (uint16_t)(port ? atoi(port) : 0);
	strlcpy(b->target, t->cfg->name, sizeof(b->target));
	if (utf8_escape_str(b->host, sizeof(b->host), host ? host : "", NULL) > 0)
		collector_count_escaped(c, t, c->nmetrics, 1);
	t->snapshot_open = true;
	if (!t->state_loaded) {
		if (cstate_load(&t->state, c->state_dir, t->cfg->name, &err) < 0)
			log_warn("target '%s': %s (query texts and settings are sent every cycle)",
				 t->cfg->name, err.msg);
		t->state_loaded = true;
	}
	if (t->state.sysid != s->snap.sysid) {
		/* another cluster behind the same name: what we knew is void */
		t->state.sysid = s->snap.sysid;
		t->state.texts_cycle = t->state.settings_cycle = t->state.bloat_cycle = 0;
		t->state.nqids = 0;
		t->state.qids_dirty = true;
	}
	t->state.cycle++;
	/* decided for the whole target before its databases are queued; a
	 * database that fails then waits for the next bloat cycle */
	t->bloat_due = t->state.bloat_cycle == 0 ||
		       t->state.cycle - t->state.bloat_cycle >= (uint64_t)c->cfg->global.bloat_every;
	if (t->bloat_due)
		t->state.bloat_cycle = t->state.cycle;
}

/* Fill t->dbs with this cycle's databases; close the ones that went away. */
static int
discover(struct collector *c, struct ctarget *t, struct csession *s,
	 PGresult *dbl, struct pga_err *err)
{
	size_t n = dbl ? (size_t)PQntuples(dbl) : t->dblist ? t->ndblist : 1;
	size_t keep = 0;

	for (size_t i = 0; i < t->ndbs; i++)
		t->dbs[i].listed = t->dbs[i].on_cluster = false;
	for (size_t i = 0; i < n; i++) {
		const char *name = dbl ? PQgetvalue(dbl, (int)i, 0) :
				   t->dblist ? t->dblist[i] : s->snap.database;
		size_t j = 0;

		while (j < t->ndbs && strcmp(t->dbs[j].name, name) != 0)
			j++;
		if (j == t->ndbs) {
			if (PGA_GROW(t->dbs, t->capdbs, t->ndbs + 1, SIZE_MAX, err) < 0)
				return err->code;
			memset(&t->dbs[j], 0, sizeof(t->dbs[j]));
			strlcpy(t->dbs[j].name, name, sizeof(t->dbs[j].name));
			t->ndbs++;
		}
		t->dbs[j].listed = true;
		t->dbs[j].on_cluster = strcmp(name, s->snap.database) == 0;
		t->dbs[j].when_known = dbl != NULL;
		if (dbl != NULL) {
			struct cfacts f = {.nwhen = t->ndb_when};

			memcpy(f.when_idx, t->db_when_idx, t->ndb_when);
			cfacts_parse(&f, false, dbl, (int)i, 1);
			memcpy(t->dbs[j].when_off, f.off, sizeof(f.off));
		}
	}
	for (size_t i = 0; i < t->ndbs; i++) {
		if (t->dbs[i].listed)
			t->dbs[keep++] = t->dbs[i];
		else
			PQfinish(t->dbs[i].conn);
	}
	t->ndbs = keep;
	return collector_enqueue_dbs(c, t, err);
}

static bool
cluster_db_listed(const struct ctarget *t)
{
	for (size_t i = 0; i < t->ndbs; i++)
		if (t->dbs[i].on_cluster)
			return true;
	return false;
}

static void
run_cluster_job(struct cworker *w, struct ctarget *t)
{
	struct collector *c = w->c;
	struct csession s = {.t = t, .prepare = c->keep};
	struct pga_err err = {0};
	PGresult *dbl = NULL;
	bool mine;
	int rc;

	rc = session_open(c, &s, &t->cconn, t->cluster_db, true, &dbl, &err);
	if (rc < 0) {
		ctarget_fail(c, t, true, &err);
		return;
	}
	target_identity(c, t, &s);
	rc = discover(c, t, &s, dbl, &err);
	PQclear(dbl);
	mine = claim_pgss(c, &s);
	if (rc == 0)
		rc = run_scope(w, &s, METRIC_CLUSTER, settings_due(c, &s), &err);
	if (rc == 0)
		rc = run_custom(w, &s, METRIC_CLUSTER, &err);
	if (rc == 0 && mine)
		rc = run_pgss(w, &s, &err);
	if (rc == 0)
		rc = run_ext_claims(w, &s, &err);
	if (rc == 0 && cluster_db_listed(t)) {
		s.database = s.snap.database;
		rc = run_scope(w, &s, METRIC_DATABASE, false, &err);
		if (rc == 0)
			rc = run_custom(w, &s, METRIC_DATABASE, &err);
		s.database = NULL;
	}
	session_end(c, &s, &t->cconn, rc == 0);
	if (rc == 0)
		rc = run_local_metrics(w, &s, &err);
	if (rc < 0)
		ctarget_fail(c, t, true, &err);
	else if (rc == 0 && cluster_db_listed(t))
		__atomic_add_fetch(&t->dbs_ok, 1, __ATOMIC_RELAXED);
}

static void
run_db_job(struct cworker *w, struct ctarget *t, struct cdb *d)
{
	struct collector *c = w->c;
	struct csession s = {.t = t, .database = d->name, .db = d, .prepare = c->keep};
	struct pga_err err = {0};
	int rc;

	if (cpg_left(t->deadline) == 0) {
		pga_fail(&err, PGA_ETIMEOUT, "database '%s': target deadline passed before its turn",
			 d->name);
		ctarget_fail(c, t, false, &err);
		return;
	}
	rc = session_open(c, &s, &d->conn, d->name, false, NULL, &err);
	if (rc == 0)
		rc = run_scope(w, &s, METRIC_DATABASE, false, &err);
	if (rc == 0)
		rc = run_custom(w, &s, METRIC_DATABASE, &err);
	if (rc == 0 && claim_pgss(c, &s))
		rc = run_pgss(w, &s, &err);
	if (rc == 0)
		rc = run_ext_claims(w, &s, &err);
	session_end(c, &s, &d->conn, rc == 0);
	if (rc < 0) {
		if (!c->fatal || strcmp(err.msg, c->fatal_err.msg) != 0)
			pga_err_prefix(&err, "database '%s'", d->name);
		ctarget_fail(c, t, false, &err);
	} else if (rc == 0) {
		__atomic_add_fetch(&t->dbs_ok, 1, __ATOMIC_RELAXED);
	}
}

/*
 * The job's blocks into the spool, in one write (SPOOL_STREAM_BATCH), before
 * the job counts as done: the target's status block comes after every
 * job's blocks.  The spool counted and named each block it lost; the
 * cycle has failed then, and the snapshot is partial.
 */
static void
flush_job(struct cworker *w, const struct cjob *job)
{
	struct pga_err err = {0};

	if (w->stream == NULL || spool_stream_flush(w->stream, &err) == 0)
		return;
	collector_fatal(w->c, &err);
	ctarget_fail(w->c, job->t, job->db < 0, &err);
}

void
cjob_run(struct cworker *w, const struct cjob *job)
{
	struct pga_err err = {0};
	int64_t t0;

	if (w->c->fatal) {
		/* the spool failed: the target's snapshot is cut short */
		ctarget_fail(w->c, job->t, job->db < 0, &w->c->fatal_err);
		return;
	}
	if (pga_stop_requested()) {
		pga_fail(&err, PGA_ECANCEL, "interrupted before its turn");
		ctarget_fail(w->c, job->t, job->db < 0, &err);
		return;
	}
	t0 = pga_mono_us();
	if (job->db < 0)
		run_cluster_job(w, job->t);
	else
		run_db_job(w, job->t, &job->t->dbs[job->db]);
	flush_job(w, job);
	log_trace("target '%s' %s%s%s: job from %.1f to %.1f ms of the target's time",
		  job->t->cfg->name, job->db < 0 ? "cluster" : "database '",
		  job->db < 0 ? "" : job->t->dbs[job->db].name, job->db < 0 ? "" : "'",
		  (double)(t0 - job->t->started_us) / 1000,
		  (double)(pga_mono_us() - job->t->started_us) / 1000);
}

/* ---- the snapshot's status ---- */

/* CSV of a text value, quoted; "" doubled. */
static size_t
csv_text(char *buf, size_t cap, const char *v)
{
	size_t n = 0;

	buf[n++] = '"';
	for (; *v && n + 3 < cap; v++) {
		if (*v == '"')
			buf[n++] = '"';
		buf[n++] = *v;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return n;
}

int
cjob_status_block(struct cworker *w, struct ctarget *t, bool complete,
		  struct pga_err *err)
{
	const struct metric_def *m = catalog_find("snapshot_status");
	struct seg_block_meta meta = t->base;
	struct spool_counters tag = {0};
	char row[2 * PGA_ERR_MSG_MAX + 256];
	size_t n;
	uint64_t rows = 0;
	int rc;

	strlcpy(meta.metric, m->name, sizeof(meta.metric));
	meta.database[0] = '\0';
	if (complete) {		/* modulo 2^64: takes back what the first block counted */
		tag.v[CC_SNAPSHOTS_PARTIAL] = (uint64_t)-1;
		tag.v[CC_TARGETS_FAILED] = (uint64_t)-1;
		tag.v[CC_SNAPSHOTS_COMPLETE] = 1;
		tag.v[CC_TARGETS_OK] = 1;
	}
	tag.v[CC_METRIC_ERRORS] = t->metric_errors;
	tag.v[CC_VALUES_ESCAPED] = t->values_escaped;
	block_describe(w, m, &meta);
	n = (size_t)snprintf(row, sizeof(row), "%s,%" PRIu64 ",%" PRIu64 ",%u,%u,%" PRIu64
			     ",%" PRIu64 ",%u,%.6f,", complete ? "complete" : "partial",
			     t->blocks, t->rows, t->dbs_ok, t->dbs_failed, t->metric_errors,
			     t->values_escaped, t->unconverted,
			     (double)(pga_mono_us() - t->started_us) / 1e6);
	if (!complete)
		n += csv_text(row + n, sizeof(row) - n - 1, t->why[0] ? t->why : "cut short");
	row[n++] = '\n';
	rc = ensure_stream(w, err);
	if (rc < 0)
		return rc;
	rc = block_begin(w, &meta, err);
	if (rc == 0)
		rc = block_write(w, row, n, err);
	if (rc == 0)
		return block_commit(w, t, m, &tag, &rows, err);	/* aborts on failure */
	spool_stream_abort(w->stream);
	return rc;
}

void
cworker_free(struct cworker *w)
{
	spool_stream_free(w->stream);
	free(w->sql);
	free(w->csv);
	free(w->ids);
	free(w->newids);
	memset(w, 0, sizeof(*w));
}
