/*
 * grid.c - the times a server's counters are sampled at (see report_int.h)
 *
 * snapshot_status has one row per snapshot, so the times come from there
 * cheaply; a server that has none (blocks from `pga spool put`, an older
 * collector) gets its times from the metric's own table instead.
 */
#define _GNU_SOURCE
#include "report/report_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "common/units.h"

#define WIN "collector_id = $1 AND server_id = $2 AND {DB}"

static const char stats_sql[] =
	"SELECT count(*), coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY d), 0)::float8"
	" FROM (SELECT extract(epoch FROM t - lag(t) OVER (ORDER BY t))::float8 AS d"
	"  FROM (SELECT DISTINCT snapshot_time AS t FROM @s@.{T}"
	"   WHERE " WIN " AND snapshot_time > $3 AND snapshot_time <= $4) s) d";

static const char every_sql[] =
	"SELECT DISTINCT " RQ_US("snapshot_time") " FROM @s@.{T}"
	" WHERE " WIN " AND snapshot_time > $3 AND snapshot_time <= $4 ORDER BY 1";

/* $5: bucket width in microseconds; the bucket number comes second */
static const char bucket_sql[] =
	"SELECT " RQ_US("max(snapshot_time)") ", b FROM (SELECT snapshot_time,"
	"  ceil(" RQ_US("snapshot_time - $3::timestamptz") " / $5::float8)::int AS b"
	"  FROM @s@.{T} WHERE " WIN " AND snapshot_time > $3 AND snapshot_time <= $4) s"
	" GROUP BY b ORDER BY b";

/* the newest partition first: an ordered append stops at the first row */
static const char before_sql[] =
	"SELECT " RQ_US("snapshot_time") " FROM @s@.{T} WHERE " WIN
	" AND snapshot_time <= $3 ORDER BY snapshot_time DESC LIMIT 1";

static void
grid_add(struct grid *g, int64_t t, bool brk)
{
	if (g->n < CHART_POINTS_MAX) {
		g->t[g->n] = t;
		g->brk[g->n] = brk || g->n == 0;
		g->n++;
	}
}

void
grid_literal(struct grid *g)
{
	size_t o = 0;

	g->arr[o++] = '{';
	for (int i = 0; i < g->n; i++) {
		char t[40];

		rq_time(g->t[i], t, sizeof(t));
		o += (size_t)snprintf(g->arr + o, sizeof(g->arr) - o, "%s\"%s\"", i ? "," : "", t);
	}
	strlcpy(g->arr + o, "}", sizeof(g->arr) - o);
}

static int
grid_times(struct rctx *x, const char *const *vars, const char *const *p, struct grid *g,
	   struct pga_err *err)
{
	char width[32];
	const char *pw[5] = {p[0], p[1], p[2], p[3], width};
	PGresult *r = NULL;
	int rc, prev_b = 0;

	if (!g->bucketed) {
		rc = rq_exec(&x->q, "grid: snapshots", every_sql, vars, 4, p, &r, err);
		for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
			int64_t t = rq_i64(r, i, 0, 0);
			/* more than 2.5 intervals without a snapshot: a gap */
			bool gap = g->n > 0 && g->step > 0 && (t - g->t[g->n - 1]) * 2 > g->step * 5;

			grid_add(g, t, gap);
		}
		PQclear(r);
		return rc;
	}
	snprintf(width, sizeof(width), "%" PRId64, g->width);
	rc = rq_exec(&x->q, "grid: buckets", bucket_sql, vars, 5, pw, &r, err);
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		int b = (int)rq_i64(r, i, 1, 0);

		grid_add(g, rq_i64(r, i, 0, 0), g->n > 0 && b != prev_b + 1);
		prev_b = b;
	}
	PQclear(r);
	return rc;
}

int
grid_build(struct rctx *x, const struct rsrv *v, const char *table, bool per_db, struct grid *g,
	   struct pga_err *err)
{
	char cid[16], sid[16];
	const char *p[4] = {cid, sid, x->since_s, x->until_s};
	/* a cluster-wide table's dbname is NULL in every row and not in its
	 * series index: a condition on it would only cost heap reads */
	const char *vars[] = {"T", table, "DB", per_db ? "dbname IS NOT NULL" : "true", NULL};
	int64_t span = x->until - x->since;
	PGresult *r = NULL;
	int rc;

	memset(g, 0, sizeof(*g));
	strlcpy(g->source, table, sizeof(g->source));
	snprintf(cid, sizeof(cid), "%d", v->cid);
	snprintf(sid, sizeof(sid), "%d", v->sid);
	rc = rq_exec(&x->q, "grid: snapshot count", stats_sql, vars, 4, p, &r, err);
	if (rc < 0)
		return rc;
	g->snapshots = rq_i64(r, 0, 0, 0);
	g->step = (int64_t)(rq_f64(r, 0, 1, 0) * PGA_USEC_PER_SEC);
	PQclear(r);
	if (g->snapshots == 0)
		return 0;
	rc = rq_exec(&x->q, "grid: before the window", before_sql, vars, 3, p, &r, err);
	if (rc == 0 && PQntuples(r) == 1) {
		grid_add(g, rq_i64(r, 0, 0, 0), true);
		g->before0 = true;
	}
	PQclear(r);
	g->bucketed = g->snapshots > x->points;
	if (g->bucketed) {
		g->width = (span + x->points - 1) / x->points;
		if (g->width < 2 * g->step)
			g->width = 2 * g->step;
	}
	if (rc == 0)
		rc = grid_times(x, vars, p, g, err);
	/* the first point inside the window continues from the one before
	 * only when no gap lies between them */
	if (rc == 0 && g->before0 && g->n > 1 && g->step > 0 &&
	    (g->t[1] - g->t[0]) * 2 <= g->step * 5)
		g->brk[1] = false;
	grid_literal(g);
	return rc;
}
