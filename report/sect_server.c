/*
 * sect_server.c - a server's heading (snapshots, gaps, resets) and charts
 *
 * Counter charts are per-interval rates over the grid's samples (see
 * sample.c); a point whose interval spans a gap is left out, so the line
 * breaks there.  Gauge charts are the maximum of each bucket
 * (t[i-1], t[i]] over every row: a peak between samples is not lost.
 */
#define _GNU_SOURCE
#include "report/report_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "common/units.h"
#include "report/sample.h"

/* ---- helpers shared by the charts ---- */

struct lines {
	int last[CHART_SERIES_MAX];
};

static void
lines_init(struct lines *l)
{
	for (int i = 0; i < CHART_SERIES_MAX; i++)
		l->last[i] = -2;
}

/* Point i of the grid into series n: a new line after a gap or a hole. */
static void
point(struct chart *c, struct lines *l, int n, const struct grid *g, int i, double v)
{
	if (n >= c->nseries || i < 0 || i >= g->n)
		return;
	chart_add(&c->s[n], g->t[i], v, g->brk[i] || l->last[n] != i - 1);
	l->last[n] = i;
}

static void
series_names(struct chart *c, const char *const *names)
{
	for (; *names; names++)
		chart_series_new(c, *names);
}

/*
 * The x axis of a server's charts: from its first snapshot in the window to
 * its last, so a server seen for a few minutes is not a line at the edge.
 */
void
grid_span(const struct rctx *x, const struct grid *g, int64_t *a, int64_t *b)
{
	int64_t pad;

	*a = x->since;
	*b = x->until;
	if (g == NULL || g->n == 0)
		return;
	*a = g->t[g->before0 && g->n > 1 ? 1 : 0];
	*b = g->t[g->n - 1];
	pad = g->step > 0 ? g->step : PGA_USEC_PER_SEC;
	if (*b - *a < pad)
		*a = *b - pad;
}

static void
chart_at(struct rctx *x, const struct grid *g, const char *id, const char *title, enum unit u)
{
	int64_t a, b;

	grid_span(x, g, &a, &b);
	chart_init(x->chart, id, title, u, a, b);
}

static int
draw(struct rctx *x, const char *missing)
{
	int n = chart_draw(x->h, x->chart, x->prefix, missing);

	if (n > 0)
		x->charts++;
	return n;
}

/* The grid for table: the server's own, or one from the table itself. */
const struct grid *
server_grid(struct rctx *x, const struct rsrv *v, const char *table, bool per_db,
	    struct pga_err *err)
{
	if (v->has_status)
		return v->grid->n > 0 ? v->grid : NULL;
	if (strcmp(x->g->source, table) != 0 &&
	    grid_build(x, v, table, per_db, x->g, err) < 0)
		return NULL;
	return x->g->n > 0 ? x->g : NULL;
}

/* The table exists and the server has a grid for it; else a message. */
static const struct grid *
chart_grid(struct rctx *x, const struct rsrv *v, const char *table, bool per_db,
	   const char *what)
{
	struct pga_err err = {0};
	const struct grid *g;
	bool have = false;

	if (rq_exists(&x->q, table, &have, &err) < 0 || !have) {
		if (err.code)
			sect_failed(x, what, &err);
		return NULL;
	}
	g = server_grid(x, v, table, per_db, &err);
	if (g == NULL && err.code)
		sect_failed(x, what, &err);
	return g;
}

/* ---- heading ---- */

static void
fact(struct rctx *x, const char *name, const char *value)
{
	html_fmt(x->h, "<tr><th>%s</th><td>", name);
	html_text(x->h, value);
	html_raw(x->h, "</td></tr>");
}

static void
server_gaps(struct rctx *x, const struct rsrv *v)
{
	const struct grid *g = v->grid;
	char a[40], b[40], d[16];
	int n = 0;

	if (!v->has_status)
		return;
	for (int i = 1; i < g->n; i++)
		n += g->brk[i];
	if (n == 0)
		return;
	html_fmt(x->h, "<p class=\"warn\" data-k=\"gaps\" data-v=\"%d\">Snapshots are missing"
		 " in %d place%s of this window; charts break there rather than draw across:",
		 n, n, n == 1 ? "" : "s");
	for (int i = 1, shown = 0; i < g->n && shown < 10; i++) {
		if (!g->brk[i])
			continue;
		fmt_time(g->t[i - 1], a, sizeof(a));
		fmt_time(g->t[i], b, sizeof(b));
		pga_format_duration(g->t[i] - g->t[i - 1], d, sizeof(d));
		html_fmt(x->h, "%s %s to %s (%s)", shown++ ? "," : "", a, b, d);
	}
	html_raw(x->h, ".</p>\n");
}

void
sect_server_head(struct rctx *x, struct rsrv *v)
{
	char buf[64], port[16], ver[16];

	snprintf(x->prefix, sizeof(x->prefix), "s%d-%d", v->cid, v->sid);
	html_fmt(x->h, "<section class=\"server\" id=\"%s\" data-collector-id=\"%d\""
		 " data-server-id=\"%d\"><h2>Server ", x->prefix, v->cid, v->sid);
	html_text(x->h, *v->target ? v->target : v->host);
	html_raw(x->h, " <span class=\"sub\">");
	if (*v->host) {
		html_text(x->h, v->host);
		html_fmt(x->h, ":%d, ", v->port);
	}
	html_raw(x->h, "collected by ");
	html_text(x->h, v->collector);
	html_raw(x->h, "</span></h2>\n<table class=\"facts\">");
	snprintf(port, sizeof(port), "%d", v->sid);
	fact(x, "server id", port);
	fact(x, "system identifier", v->sysid);
	snprintf(ver, sizeof(ver), "%d.%d", v->version / 10000, v->version % 10000);
	fact(x, "server version", v->version ? ver : "unknown");
	if (v->has_status) {
		snprintf(buf, sizeof(buf), "%" PRId64, v->grid->snapshots);
		fact(x, "snapshots in the window", buf);
		pga_format_duration(v->grid->step, buf, sizeof(buf));
		fact(x, "interval between snapshots (median)", buf);
		if (v->grid->bucketed) {
			pga_format_duration(v->grid->width, buf, sizeof(buf));
			fact(x, "chart resolution (one point per)", buf);
		}
	} else {
		fact(x, "snapshots in the window", "no snapshot_status rows (blocks not written by"
		     " pga collect): times come from each metric");
	}
	html_raw(x->h, "</table>\n");
	server_gaps(x, v);
}

/* ---- pg_stat_database: transactions, cache hits, tuples ---- */

static const struct sample_spec db_spec = {
	.name = "chart: pg_stat_database",
	.table = "pg_stat_database",
	.keys = "datid",
	.cols = "x.xact_commit, x.xact_rollback, x.blks_read, x.blks_hit, x.tup_returned,"
		" x.tup_fetched, x.tup_inserted, x.tup_updated, x.tup_deleted, x.stats_reset",
	.counters = "xact_commit, xact_rollback, blks_read, blks_hit, tup_returned, tup_fetched,"
		    " tup_inserted, tup_updated, tup_deleted",
	.reset = "stats_reset",
	.tail = "SELECT k, sum((coalesce(d_xact_commit, 0) + coalesce(d_xact_rollback, 0)) / e),"
		" sum(d_blks_hit), sum(d_blks_read),"
		" sum((d_tup_returned + d_tup_fetched) / e),"
		" sum((d_tup_inserted + d_tup_updated + d_tup_deleted) / e),"
		" count(*) FILTER (WHERE rst)"
		" FROM d WHERE e > 0 GROUP BY k ORDER BY k",
};

static void
chart_database(struct rctx *x, const struct rsrv *v, int64_t *resets)
{
	static const char *const tup[] = {"read (returned + fetched)",
					  "written (inserted + updated + deleted)", NULL};
	struct chart *c = x->chart;
	const struct grid *g = chart_grid(x, v, "pg_stat_database", false, "pg_stat_database");
	struct pga_err err = {0};
	PGresult *r = NULL;
	struct lines l;
	int rows = 0;

	if (g != NULL && sample_query(x, v, g, &db_spec, 0, NULL, &r, &err) < 0)
		sect_failed(x, "pg_stat_database", &err);
	rows = r ? PQntuples(r) : 0;
	for (int i = 0; i < rows; i++)
		*resets += rq_i64(r, i, 6, 0);
	chart_at(x, g, "tps", "Transactions per second (commits + rollbacks)", UNIT_RATE);
	chart_series_new(c, "all databases");
	lines_init(&l);
	for (int i = 0; i < rows; i++) {
		int k = (int)rq_i64(r, i, 0, 0) - 1;

		if (!g->brk[k])
			point(c, &l, 0, g, k, rq_f64(r, i, 1, 0));
	}
	draw(x, "pg_stat_database is not collected for this server in the window");
	chart_at(x, g, "hit", "Cache hit ratio (shared buffers)", UNIT_PERCENT);
	chart_series_new(c, "blks_hit / (blks_hit + blks_read)");
	lines_init(&l);
	for (int i = 0; i < rows; i++) {
		int k = (int)rq_i64(r, i, 0, 0) - 1;
		double hit = rq_f64(r, i, 2, 0), rd = rq_f64(r, i, 3, 0);

		if (!g->brk[k] && hit + rd > 0)
			point(c, &l, 0, g, k, 100 * hit / (hit + rd));
	}
	draw(x, "no block reads or hits in the window");
	chart_at(x, g, "tup", "Tuples read and written per second", UNIT_RATE);
	series_names(c, tup);
	lines_init(&l);
	for (int i = 0; i < rows; i++) {
		int k = (int)rq_i64(r, i, 0, 0) - 1;

		if (g->brk[k])
			continue;
		if (!PQgetisnull(r, i, 4))
			point(c, &l, 0, g, k, rq_f64(r, i, 4, 0));
		if (!PQgetisnull(r, i, 5))
			point(c, &l, 1, g, k, rq_f64(r, i, 5, 0));
	}
	draw(x, "no tuple counters in the window");
	PQclear(r);
}

/* ---- WAL and checkpoints ---- */

static const struct sample_spec wal_spec = {
	.name = "chart: pg_stat_wal",
	.table = "pg_stat_wal",
	.keys = "",
	/* the position's difference is WAL bytes whatever pg_stat_reset_shared() did */
	.cols = "x.wal_lsn - '0/0'::pg_lsn AS wal_pos",
	.counters = "wal_pos",
	.tail = "SELECT k, sum(d_wal_pos / e), bool_or(rst) FROM d WHERE e > 0 GROUP BY k ORDER BY k",
};

static const struct sample_spec ckpt_spec = {
	.name = "chart: pg_stat_checkpointer",
	.table = "pg_stat_checkpointer",
	.keys = "",
	.cols = "x.num_timed, x.num_requested, x.stats_reset",
	.counters = "num_timed, num_requested",
	.reset = "stats_reset",
	.tail = "SELECT k, sum(d_num_timed), sum(d_num_requested) FROM d WHERE e > 0"
		" GROUP BY k ORDER BY k",
};

static void
chart_wal(struct rctx *x, const struct rsrv *v)
{
	static const char *const ck[] = {"timed", "requested", NULL};
	struct chart *c = x->chart;
	const struct grid *g = chart_grid(x, v, "pg_stat_wal", false, "pg_stat_wal");
	struct pga_err err = {0};
	PGresult *r = NULL;
	struct lines l;
	char note[160], w[16];

	if (g != NULL && sample_query(x, v, g, &wal_spec, 0, NULL, &r, &err) < 0)
		sect_failed(x, "pg_stat_wal", &err);
	chart_at(x, g, "wal", "WAL written, bytes per second", UNIT_BYTES_RATE);
	c->note = "from the WAL position: on a standby, WAL replayed";
	chart_series_new(c, "WAL bytes/s");
	lines_init(&l);
	/* a position that went backwards (a new timeline, a restore) is no rate */
	for (int i = 0; r && i < PQntuples(r); i++) {
		int k = (int)rq_i64(r, i, 0, 0) - 1;

		if (!g->brk[k] && strcmp(PQgetvalue(r, i, 2), "f") == 0)
			point(c, &l, 0, g, k, rq_f64(r, i, 1, 0));
	}
	draw(x, "pg_stat_wal is not collected for this server in the window");
	PQclear(r);
	r = NULL;
	g = chart_grid(x, v, "pg_stat_checkpointer", false, "pg_stat_checkpointer");
	if (g != NULL && sample_query(x, v, g, &ckpt_spec, 0, NULL, &r, &err) < 0)
		sect_failed(x, "pg_stat_checkpointer", &err);
	chart_at(x, g, "ckpt", "Checkpoints, timed and requested", UNIT_COUNT);
	if (g != NULL) {
		pga_format_duration(g->bucketed ? g->width : g->step, w, sizeof(w));
		snprintf(note, sizeof(note), "checkpoints in each interval (%s); requested ones mean"
			 " max_wal_size was reached or a CHECKPOINT was run", w);
		c->note = note;
	}
	series_names(c, ck);
	lines_init(&l);
	for (int i = 0; r && i < PQntuples(r); i++) {
		int k = (int)rq_i64(r, i, 0, 0) - 1;

		if (g->brk[k])
			continue;
		point(c, &l, 0, g, k, rq_f64(r, i, 1, 0));
		point(c, &l, 1, g, k, rq_f64(r, i, 2, 0));
	}
	draw(x, "pg_stat_checkpointer is not collected for this server in the window");
	PQclear(r);
}

/* ---- gauges: the maximum of each bucket ---- */

/* $1 collector, $2 server, $3 first grid time, $4 last, $5 the grid */
#define GAUGE_HEAD \
	"WITH g AS (SELECT array_agg(t + interval '1 microsecond' ORDER BY t) AS thr" \
	" FROM unnest($5::timestamptz[]) t) "
#define GAUGE_WHERE \
	" x.collector_id = $1 AND x.server_id = $2 AND x.dbname IS NULL" \
	" AND x.snapshot_time >= $3::timestamptz AND x.snapshot_time <= $4::timestamptz"

static int
gauge_query(struct rctx *x, const struct rsrv *v, const struct grid *g, const char *name,
	    const char *sql, PGresult **r, struct pga_err *err)
{
	char cid[16], sid[16], t0[40], tn[40];
	const char *p[5] = {cid, sid, t0, tn, g->arr};

	snprintf(cid, sizeof(cid), "%d", v->cid);
	snprintf(sid, sizeof(sid), "%d", v->sid);
	rq_time(g->t[0], t0, sizeof(t0));
	rq_time(g->t[g->n - 1], tn, sizeof(tn));
	return rq_exec(&x->q, name, sql, NULL, 5, p, r, err);
}

/* Bucket k of a gauge row: bucket 0 is before the window when the grid starts there. */
static int
gauge_k(const struct grid *g, const PGresult *r, int row, int col)
{
	int k = (int)rq_i64(r, row, col, -1);

	return k < 0 || k >= g->n || (k == 0 && g->before0) ? -1 : k;
}

static const char activity_sql[] =
	GAUGE_HEAD
	"SELECT k, max(a), max(i), max(t), max(o), max(xa) FROM (SELECT"
	"  width_bucket(x.snapshot_time, g.thr) AS k, x.snapshot_time,"
	"  coalesce(sum(x.backends) FILTER (WHERE x.backend_type = 'client backend'"
	"   AND x.state = 'active'), 0) AS a,"
	"  coalesce(sum(x.backends) FILTER (WHERE x.backend_type = 'client backend'"
	"   AND x.state = 'idle'), 0) AS i,"
	"  coalesce(sum(x.backends) FILTER (WHERE x.backend_type = 'client backend'"
	"   AND x.state LIKE 'idle in transaction%'), 0) AS t,"
	"  coalesce(sum(x.backends) FILTER (WHERE x.backend_type = 'client backend'"
	"   AND (x.state IS NULL OR x.state NOT IN ('active', 'idle')"
	"   AND x.state NOT LIKE 'idle in transaction%')), 0) AS o,"
	"  max(x.max_xact_age) AS xa"
	"  FROM @s@.activity_summary x, g WHERE" GAUGE_WHERE " GROUP BY 1, 2) s"
	" GROUP BY k ORDER BY k";

static void
chart_activity(struct rctx *x, const struct rsrv *v)
{
	static const char *const st[] = {"active", "idle", "idle in transaction", "other", NULL};
	struct chart *c = x->chart;
	const struct grid *g = chart_grid(x, v, "activity_summary", false, "activity_summary");
	struct pga_err err = {0};
	PGresult *r = NULL;
	struct lines l;

	if (g != NULL && gauge_query(x, v, g, "chart: activity_summary", activity_sql, &r, &err) < 0)
		sect_failed(x, "activity_summary", &err);
	chart_at(x, g, "conn", "Client connections by state (most in each interval)", UNIT_COUNT);
	series_names(c, st);
	lines_init(&l);
	for (int i = 0; r && i < PQntuples(r); i++) {
		int k = gauge_k(g, r, i, 0);

		for (int s = 0; k >= 0 && s < 4; s++)
			point(c, &l, s, g, k, rq_f64(r, i, 1 + s, 0));
	}
	draw(x, "activity_summary is not collected for this server in the window");
	chart_at(x, g, "xact", "Longest transaction (age of the oldest open transaction)", UNIT_SECONDS);
	chart_series_new(c, "oldest transaction");
	lines_init(&l);
	for (int i = 0; r && i < PQntuples(r); i++) {
		int k = gauge_k(g, r, i, 0);

		if (k >= 0 && !PQgetisnull(r, i, 5))
			point(c, &l, 0, g, k, rq_f64(r, i, 5, 0));
	}
	draw(x, "no open transaction was seen in the window");
	PQclear(r);
}

static const char xid_sql[] =
	GAUGE_HEAD
	"SELECT width_bucket(x.snapshot_time, g.thr) AS k, max(x.oldest_datfrozenxid_age),"
	" max(x.autovacuum_freeze_max_age)"
	" FROM @s@.xid_wraparound x, g WHERE" GAUGE_WHERE " GROUP BY 1 ORDER BY 1";

static void
chart_xid(struct rctx *x, const struct rsrv *v)
{
	struct chart *c = x->chart;
	const struct grid *g = chart_grid(x, v, "xid_wraparound", false, "xid_wraparound");
	struct pga_err err = {0};
	PGresult *r = NULL;
	struct lines l;
	char note[128];
	int64_t freeze = 0;

	if (g != NULL && gauge_query(x, v, g, "chart: xid_wraparound", xid_sql, &r, &err) < 0)
		sect_failed(x, "xid_wraparound", &err);
	chart_at(x, g, "xid", "XID age (oldest datfrozenxid)", UNIT_COUNT);
	chart_series_new(c, "age(datfrozenxid), oldest database");
	lines_init(&l);
	for (int i = 0; r && i < PQntuples(r); i++) {
		int k = gauge_k(g, r, i, 0);

		if (k >= 0 && !PQgetisnull(r, i, 1))
			point(c, &l, 0, g, k, rq_f64(r, i, 1, 0));
		freeze = rq_i64(r, i, 2, freeze);
	}
	if (freeze > 0) {
		snprintf(note, sizeof(note), "autovacuum_freeze_max_age is %" PRId64 "; wraparound"
			 " stops writes near 2,000,000,000", freeze);
		c->note = note;
	}
	draw(x, "xid_wraparound is not collected for this server in the window");
	PQclear(r);
}

/* label rank first: at most four standbys or slots, the worst ones */
static const char repl_sql[] =
	GAUGE_HEAD
	", top AS (SELECT x.application_name AS name FROM @s@.pg_stat_replication x WHERE"
	GAUGE_WHERE " GROUP BY 1 ORDER BY max(coalesce(x.replay_lag_bytes, 0)) DESC,"
	" max(coalesce(x.replay_lag, 0)) DESC, 1 LIMIT 4)"
	"SELECT top.name, width_bucket(x.snapshot_time, g.thr) AS k, max(x.replay_lag),"
	" max(x.replay_lag_bytes) FROM @s@.pg_stat_replication x JOIN top"
	" ON top.name IS NOT DISTINCT FROM x.application_name, g WHERE" GAUGE_WHERE
	" GROUP BY 1, 2 ORDER BY 1, 2";

static const char slots_sql[] =
	GAUGE_HEAD
	", top AS (SELECT x.slot_name AS name FROM @s@.pg_replication_slots x WHERE" GAUGE_WHERE
	" GROUP BY 1 ORDER BY max(coalesce(x.retained_wal_bytes, 0)) DESC, 1 LIMIT 4)"
	"SELECT top.name, width_bucket(x.snapshot_time, g.thr) AS k, max(x.retained_wal_bytes)"
	" FROM @s@.pg_replication_slots x JOIN top ON top.name = x.slot_name, g WHERE"
	GAUGE_WHERE " GROUP BY 1, 2 ORDER BY 1, 2";

/* Rows (label, k, values...) into one series per label, value column col. */
static void
labelled(struct rctx *x, const struct grid *g, PGresult *r, int col)
{
	struct chart *c = x->chart;
	struct lines l;
	const char *prev = NULL;
	int n = -1;

	lines_init(&l);
	for (int i = 0; r && i < PQntuples(r); i++) {
		const char *name = rq_str(r, i, 0);
		int k = gauge_k(g, r, i, 1);

		if (prev == NULL || strcmp(prev, name ? name : "") != 0) {
			chart_series_new(c, name ? name : "(none)");
			n++;
			prev = name ? name : "";
		}
		if (k >= 0 && !PQgetisnull(r, i, col))
			point(c, &l, n, g, k, rq_f64(r, i, col, 0));
	}
}

static void
chart_replication(struct rctx *x, const struct rsrv *v)
{
	const struct grid *g = chart_grid(x, v, "pg_stat_replication", false, "pg_stat_replication");
	struct pga_err err = {0};
	PGresult *r = NULL;

	if (g != NULL && gauge_query(x, v, g, "chart: pg_stat_replication", repl_sql, &r, &err) < 0)
		sect_failed(x, "pg_stat_replication", &err);
	chart_at(x, g, "repl", "Replication lag, replay (most in each interval)", UNIT_SECONDS);
	labelled(x, g, r, 2);
	draw(x, "no standby was connected in the window (pg_stat_replication)");
	chart_at(x, g, "replb", "Replication lag, WAL bytes not yet replayed", UNIT_BYTES);
	labelled(x, g, r, 3);
	draw(x, "no standby was connected in the window (pg_stat_replication)");
	PQclear(r);
	r = NULL;
	g = chart_grid(x, v, "pg_replication_slots", false, "pg_replication_slots");
	if (g != NULL && gauge_query(x, v, g, "chart: pg_replication_slots", slots_sql, &r, &err) < 0)
		sect_failed(x, "pg_replication_slots", &err);
	chart_at(x, g, "slots", "WAL retained by replication slots", UNIT_BYTES);
	labelled(x, g, r, 2);
	draw(x, "no replication slot in the window");
	PQclear(r);
}

/* ---- database sizes, sampled ---- */

static const struct sample_spec size_spec = {
	.name = "chart: pg_database",
	.table = "pg_database",
	.keys = "datid",
	.cols = "x.datname, x.size_bytes",
	.counters = "",
	.keep_first = true,
	.tail = ", top AS (SELECT datid FROM d WHERE k = (SELECT max(k) FROM d)"
		"  AND size_bytes IS NOT NULL ORDER BY size_bytes DESC, datid LIMIT 3)"
		" SELECT 0 AS n, NULL AS name, k, sum(size_bytes) FROM d GROUP BY k"
		" UNION ALL SELECT 1 + (SELECT count(*) FROM top t2 WHERE t2.datid < d.datid),"
		"  max(datname), k, sum(size_bytes) FROM d WHERE datid IN (SELECT datid FROM top)"
		"  GROUP BY d.datid, k ORDER BY 1, 3",
};

static void
chart_sizes(struct rctx *x, const struct rsrv *v)
{
	struct chart *c = x->chart;
	const struct grid *g = chart_grid(x, v, "pg_database", false, "pg_database");
	struct pga_err err = {0};
	PGresult *r = NULL;
	struct lines l;
	int n = -1;

	if (g != NULL && sample_query(x, v, g, &size_spec, 0, NULL, &r, &err) < 0)
		sect_failed(x, "pg_database", &err);
	chart_at(x, g, "size", "Database size", UNIT_BYTES);
	lines_init(&l);
	for (int i = 0; r && i < PQntuples(r); i++) {
		int k = (int)rq_i64(r, i, 2, 0) - 1;

		if ((int)rq_i64(r, i, 0, 0) != n) {
			n = (int)rq_i64(r, i, 0, 0);
			chart_series_new(c, n == 0 ? "all databases" : PQgetvalue(r, i, 1));
		}
		if ((k > 0 || !g->before0) && !PQgetisnull(r, i, 3))
			point(c, &l, c->nseries - 1, g, k, rq_f64(r, i, 3, 0));
	}
	draw(x, "pg_database is not collected for this server in the window");
	PQclear(r);
}

void
sect_server_charts(struct rctx *x, struct rsrv *v)
{
	int64_t resets = 0;

	html_fmt(x->h, "<h3 id=\"%s-charts\">Activity</h3>\n", x->prefix);
	html_raw(x->h, "<div class=\"charts\">\n");
	chart_database(x, v, &resets);
	chart_wal(x, v);
	chart_activity(x, v);
	chart_xid(x, v);
	chart_replication(x, v);
	chart_sizes(x, v);
	html_raw(x->h, "</div>\n");
	if (resets > 0)
		html_fmt(x->h, "<p class=\"warn\" data-k=\"resets\" data-v=\"%" PRId64 "\">Statistics"
			 " were reset in this window (%" PRId64 " database interval%s): an interval"
			 " with a reset counts from zero, never as a negative rate.</p>\n", resets,
			 resets, resets == 1 ? "" : "s");
}
