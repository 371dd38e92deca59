/*
 * sect_statements.c - top statements by total time, calls, mean time, rows
 * and blocks read, each with a sparkline and its text
 *
 * One sampled query (sample.c) gives every pg_stat_statements entry's
 * totals over the window and its per-interval values; entries whose
 * newest text starts with PGA_SQL_MARK (pga's own statements) are left out
 * before ranking.  A reset shown by pg_stat_statements_info.stats_reset
 * (pg_stat_statements_reset()) counts as a reset of every entry, as in the
 * delta view.  Texts are fetched one at a time as they are written, cut at
 * REPORT_TEXT_MAX characters, and written in full once per server: later
 * rankings link to the first.
 */
#define _GNU_SOURCE
#include "report/report_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/sample.h"

#define SHORT_TEXT 160
#define RANKINGS 5

/* $6 the mark, $7 top N, $8 until */
#define STMT_TAIL(TOPLEVEL_EQ) \
	", inf AS (SELECT g.k, i.stats_reset FROM unnest($5::timestamptz[]) WITH ORDINALITY" \
	"  AS g(t, k) LEFT JOIN LATERAL (SELECT x.stats_reset FROM @s@.{INFO} x WHERE" \
	"  x.collector_id = $1 AND x.server_id = $2 AND x.dbname IS NULL AND x.snapshot_time = g.t" \
	"  LIMIT 1) i ON true)" \
	", e AS (SELECT d.userid, d.dbid, d.toplevel, d.queryid, d.k, d.e, c.r AS cr," \
	"  CASE WHEN c.r THEN d.calls ELSE d.d_calls END AS calls," \
	"  CASE WHEN c.r THEN d.total_exec_time + coalesce(d.total_plan_time, 0)" \
	"   ELSE d.d_total_exec_time + coalesce(d.d_total_plan_time, 0) END AS ms," \
	"  CASE WHEN c.r THEN d.rows ELSE d.d_rows END AS rws," \
	"  CASE WHEN c.r THEN d.shared_blks_read ELSE d.d_shared_blks_read END AS blks" \
	"  FROM d LEFT JOIN inf i1 ON i1.k = d.k LEFT JOIN inf i2 ON i2.k = d.l_k" \
	"  CROSS JOIN LATERAL (SELECT NOT d.rst AND i1.stats_reset IS DISTINCT FROM" \
	"   i2.stats_reset AS r) c WHERE d.e > 0)" \
	", t AS (SELECT userid, dbid, toplevel, queryid, sum(calls) AS calls, sum(ms) AS ms," \
	"  sum(rws) AS rws, sum(blks) AS blks, array_agg(k ORDER BY k) AS ks," \
	"  array_agg(calls / e ORDER BY k) AS a_calls, array_agg(ms / e ORDER BY k) AS a_ms," \
	"  array_agg(CASE WHEN calls > 0 THEN ms / calls END ORDER BY k) AS a_mean," \
	"  array_agg(rws / e ORDER BY k) AS a_rows, array_agg(blks / e ORDER BY k) AS a_blks" \
	"  FROM e GROUP BY 1, 2, 3, 4)" \
	", tx AS (SELECT t.*, q.query IS NOT NULL AS has_text," \
	"  coalesce(q.query ~ $6, false) AS own FROM t LEFT JOIN LATERAL" \
	"  (SELECT left(x.query, 64) AS query FROM @s@.{TEXTS} x WHERE x.collector_id = $1" \
	"   AND x.server_id = $2 AND x.dbname IS NULL AND x.userid = t.userid AND x.dbid = t.dbid" \
	"   AND " TOPLEVEL_EQ " AND x.queryid = t.queryid AND x.snapshot_time <= $8::timestamptz" \
	"   ORDER BY x.snapshot_time DESC LIMIT 1) q ON true)" \
	", r AS (SELECT tx.*," \
	"  row_number() OVER (ORDER BY ms DESC NULLS LAST, queryid) AS r_ms," \
	"  row_number() OVER (ORDER BY calls DESC NULLS LAST, queryid) AS r_calls," \
	"  row_number() OVER (ORDER BY CASE WHEN calls > 0 THEN ms / calls END DESC NULLS LAST," \
	"   queryid) AS r_mean," \
	"  row_number() OVER (ORDER BY rws DESC NULLS LAST, queryid) AS r_rows," \
	"  row_number() OVER (ORDER BY blks DESC NULLS LAST, queryid) AS r_blks" \
	"  FROM tx WHERE NOT own)" \
	" SELECT r.userid, r.dbid, r.toplevel, r.queryid, r.calls, r.ms, r.rws, r.blks," \
	"  r.r_ms, r.r_calls, r.r_mean, r.r_rows, r.r_blks, r.has_text," \
	"  (SELECT x.datname FROM @s@.{DBT} x WHERE x.collector_id = $1 AND x.server_id = $2" \
	"   AND x.dbname IS NULL AND x.datid = r.dbid AND x.snapshot_time = $4::timestamptz" \
	"   LIMIT 1) AS datname," \
	"  r.ks, r.a_ms, r.a_calls, r.a_mean, r.a_rows, r.a_blks," \
	"  (SELECT count(*) FROM tx WHERE own) AS own_entries" \
	" FROM r WHERE least(r_ms, r_calls, r_mean, r_rows, r_blks) <= $7::int" \
	" ORDER BY r_ms"

enum {
	C_USERID, C_DBID, C_TOPLEVEL, C_QUERYID, C_CALLS, C_MS, C_ROWS, C_BLKS, C_RANK,
	C_HAS_TEXT = C_RANK + RANKINGS, C_DATNAME, C_KS, C_ARRAYS, C_OWN = C_ARRAYS + RANKINGS
};

static const struct sample_spec spec_a = {
	.name = "statements",
	.table = "pg_stat_statements",
	.keys = "userid, dbid, toplevel, queryid",
	.extra = " AND x.toplevel IS NOT NULL",
	.cols = "x.calls, x.total_exec_time, x.total_plan_time, x.rows, x.shared_blks_read,"
		" x.stats_since",
	.counters = "calls, total_exec_time, total_plan_time, rows, shared_blks_read",
	.reset = "stats_since",
	.tail = STMT_TAIL("x.toplevel = t.toplevel"),
};

/* pg_stat_statements before 1.9: no toplevel, NULL in every row */
static const struct sample_spec spec_b = {
	.name = "statements (no toplevel)",
	.table = "pg_stat_statements",
	.keys = "userid, dbid, toplevel, queryid",
	.extra = " AND x.toplevel IS NULL",
	.null_key = "toplevel",
	.cols = "x.calls, x.total_exec_time, x.total_plan_time, x.rows, x.shared_blks_read,"
		" x.stats_since",
	.counters = "calls, total_exec_time, total_plan_time, rows, shared_blks_read",
	.reset = "stats_since",
	.tail = STMT_TAIL("x.toplevel IS NULL"),
};

struct ranking {
	const char *id, *title, *empty;
	int col;		/* the total it ranks by, or -1: mean */
	enum unit spark;
};

static const struct ranking rankings[RANKINGS] = {
	{"time", "Top statements by total time", "no statement took time", C_MS, UNIT_MS},
	{"calls", "Top statements by calls", "no statement was called", C_CALLS, UNIT_RATE},
	{"mean", "Top statements by mean time", "no statement was called", -1, UNIT_MS},
	{"rows", "Top statements by rows", "no statement returned or changed rows", C_ROWS,
	 UNIT_RATE},
	{"blks", "Top statements by shared blocks read", "no statement read a block from outside"
	 " shared buffers", C_BLKS, UNIT_RATE},
};

/* "{1,2.5,NULL}" into v; present[i] false for NULL. Returns the count. */
static int
parse_array(const char *s, double *v, bool *present, int max)
{
	int n = 0;

	if (s == NULL || *s++ != '{')
		return 0;
	while (*s && *s != '}' && n < max) {
		char *end;

		if (strncmp(s, "NULL", 4) == 0) {
			present[n] = false;
			v[n++] = 0;
			s += 4;
		} else {
			v[n] = strtod(s, &end);
			present[n++] = end != s;
			s = end == s ? s + 1 : end;
		}
		if (*s == ',')
			s++;
	}
	return n;
}

/* The sparkline of column col of row i: values at the grid's points. */
static void
sparkline(struct rctx *x, const struct grid *g, const PGresult *r, int i, int col, enum unit u)
{
	double ks[CHART_POINTS_MAX], v[CHART_POINTS_MAX];
	bool kp[CHART_POINTS_MAX], vp[CHART_POINTS_MAX], brk[CHART_POINTS_MAX];
	int64_t t[CHART_POINTS_MAX], x0, x1;
	int nk = parse_array(rq_str(r, i, C_KS), ks, kp, CHART_POINTS_MAX);
	int nv = parse_array(rq_str(r, i, col), v, vp, CHART_POINTS_MAX);
	int n = 0, last = -2;

	for (int j = 0; j < nk && j < nv; j++) {
		int k = (int)ks[j] - 1;

		if (!vp[j] || k < 1 || k >= g->n || g->brk[k])
			continue;
		t[n] = g->t[k];
		brk[n] = last != k - 1;
		v[n++] = v[j];
		last = k;
	}
	grid_span(x, g, &x0, &x1);
	spark_draw(x->h, t, v, brk, n, x0, x1, u);
}

#define SHORT_BYTES (SHORT_TEXT * 4 + 1)

/* Statements whose text was written on this server, with the text's start. */
struct shown {
	int n;
	struct {
		char key[64];
		char start[SHORT_BYTES];	/* the text's first SHORT_TEXT characters */
		bool longer;			/* and there is more */
	} s[RANKINGS * REPORT_TOP_MAX];
};

/* The first n characters (code points) of s into buf (cap bytes). */
static bool
text_start(const char *s, size_t n, char *buf, size_t cap)
{
	size_t o = 0, chars = 0;

	for (; s[o] && o + 4 < cap; chars++) {
		size_t len = 1;

		if (chars == n)
			break;
		while (((unsigned char)s[o + len] & 0xc0) == 0x80)
			len++;
		o += len;
	}
	memcpy(buf, s, o);
	buf[o] = '\0';
	return s[o] != '\0';
}

static void
short_text(struct rctx *x, const char *start, bool longer)
{
	html_text(x->h, start);
	if (longer)
		html_raw(x->h, "\xe2\x80\xa6");
}

/* The full text, written once per server; later rankings link to it. */
static void
statement_text(struct rctx *x, const struct rsrv *v, const PGresult *r, int i,
	       struct shown *sh, bool toplevel_null)
{
	static const char sql_a[] =
		"SELECT left(x.query, $8::int), length(x.query) FROM @s@.pg_stat_statements_texts x"
		" WHERE x.collector_id = $1 AND x.server_id = $2 AND x.dbname IS NULL"
		" AND x.userid = $3 AND x.dbid = $4 AND x.toplevel = $5 AND x.queryid = $6"
		" AND x.snapshot_time <= $7::timestamptz ORDER BY x.snapshot_time DESC LIMIT 1";
	static const char sql_b[] =
		"SELECT left(x.query, $8::int), length(x.query) FROM @s@.pg_stat_statements_texts x"
		" WHERE x.collector_id = $1 AND x.server_id = $2 AND x.dbname IS NULL"
		" AND x.userid = $3 AND x.dbid = $4 AND x.toplevel IS NULL AND $5::text IS NULL"
		" AND x.queryid = $6 AND x.snapshot_time <= $7::timestamptz"
		" ORDER BY x.snapshot_time DESC LIMIT 1";
	char cid[16], sid[16], key[64], max[16];
	const char *p[8] = {cid, sid, rq_str(r, i, C_USERID), rq_str(r, i, C_DBID),
			    rq_str(r, i, C_TOPLEVEL), rq_str(r, i, C_QUERYID), x->until_s, max};
	struct pga_err err = {0};
	PGresult *t = NULL;
	int j;

	snprintf(key, sizeof(key), "%s-%s-%s-%s", p[2], p[3], p[4] ? p[4] : "n", p[5]);
	for (j = 0; j < sh->n && strcmp(sh->s[j].key, key) != 0; j++)
		;
	if (j < sh->n) {
		html_raw(x->h, "<code class=\"sql\">");
		short_text(x, sh->s[j].start, sh->s[j].longer);
		html_raw(x->h, "</code>");
		if (sh->s[j].longer)
			html_fmt(x->h, " <a href=\"#%s-q%d\">full text above</a>", x->prefix, j);
		return;
	}
	if (strcmp(rq_str(r, i, C_HAS_TEXT), "t") != 0) {
		html_raw(x->h, "<span class=\"nodata\">text not collected yet (texts are taken"
			 " every texts-every cycles and for new statements)</span>");
		return;
	}
	snprintf(cid, sizeof(cid), "%d", v->cid);
	snprintf(sid, sizeof(sid), "%d", v->sid);
	snprintf(max, sizeof(max), "%d", REPORT_TEXT_MAX);
	if (rq_exec(&x->q, "statement text", toplevel_null ? sql_b : sql_a, NULL, 8, p, &t,
		    &err) < 0 || PQntuples(t) != 1) {
		html_raw(x->h, "<span class=\"nodata\">text not found</span>");
		PQclear(t);
		return;
	}
	j = sh->n < (int)(sizeof(sh->s) / sizeof(sh->s[0])) ? sh->n++ : sh->n - 1;
	snprintf(sh->s[j].key, sizeof(sh->s[j].key), "%s", key);
	sh->s[j].longer = text_start(PQgetvalue(t, 0, 0), SHORT_TEXT, sh->s[j].start,
				     sizeof(sh->s[j].start));
	html_fmt(x->h, "<code class=\"sql\" id=\"%s-q%d\">", x->prefix, j);
	short_text(x, sh->s[j].start, sh->s[j].longer);
	if (sh->s[j].longer) {
		int64_t len = rq_i64(t, 0, 1, 0);

		html_fmt(x->h, "</code><details><summary>full text (%" PRId64
			 " characters%s)</summary><pre class=\"sql\">", len,
			 len > REPORT_TEXT_MAX ? ", the first " REPORT_TEXT_MAX_S " shown" : "");
		html_text(x->h, PQgetvalue(t, 0, 0));
		html_raw(x->h, "</pre></details>");
	} else {
		html_raw(x->h, "</code>");
	}
	PQclear(t);
}

static double
total_of(const PGresult *r, int i, int col)
{
	double calls = rq_f64(r, i, C_CALLS, 0);

	if (col >= 0)
		return rq_f64(r, i, col, 0);
	return calls > 0 ? rq_f64(r, i, C_MS, 0) / calls : 0;
}

static void
num_cell(struct rctx *x, const char *k, double v, enum unit u)
{
	char b[32];

	fmt_value(v, u, b, sizeof(b));
	html_fmt(x->h, "<td class=\"num\" data-k=\"%s\" data-v=\"%.10g\">%s</td>", k, v, b);
}

static void
ranking_table(struct rctx *x, const struct rsrv *v, const struct grid *g, const PGresult *r,
	      int w, struct shown *sh, bool toplevel_null)
{
	const struct ranking *k = &rankings[w];
	int rows = 0;

	html_fmt(x->h, "<h4 id=\"%s-top-%s\">", x->prefix, k->id);
	html_text(x->h, k->title);
	html_raw(x->h, "</h4>\n");
	for (int rank = 1; rank <= x->top; rank++) {
		int i;

		for (i = 0; i < PQntuples(r) && rq_i64(r, i, C_RANK + w, 0) != rank; i++)
			;
		if (i == PQntuples(r) || total_of(r, i, k->col) <= 0)
			break;
		if (rows++ == 0)
			html_fmt(x->h, "<table class=\"sortable stmts\" data-ranking=\"%s\"><thead><tr>"
				 "<th class=\"num\">#</th><th>database</th><th class=\"num\">calls</th>"
				 "<th class=\"num\">total time</th><th class=\"num\">mean</th>"
				 "<th class=\"num\">rows</th><th class=\"num\">blocks read</th>"
				 "<th>over the window</th><th>statement</th></tr></thead><tbody>\n",
				 k->id);
		/* numbers by their columns' types (bigint, oid, boolean) */
		html_fmt(x->h, "<tr data-queryid=\"%" PRId64 "\" data-userid=\"%" PRId64 "\""
			 " data-dbid=\"%" PRId64 "\" data-toplevel=\"%s\"><td class=\"num\""
			 " data-v=\"%d\">%d</td><td>", rq_i64(r, i, C_QUERYID, 0),
			 rq_i64(r, i, C_USERID, 0), rq_i64(r, i, C_DBID, 0),
			 PQgetisnull(r, i, C_TOPLEVEL) ? "" : *PQgetvalue(r, i, C_TOPLEVEL) == 't' ?
			 "t" : "f", rank, rank);
		html_text(x->h, rq_str(r, i, C_DATNAME) ? rq_str(r, i, C_DATNAME) : rq_str(r, i, C_DBID));
		html_raw(x->h, "</td>");
		num_cell(x, "calls", rq_f64(r, i, C_CALLS, 0), UNIT_COUNT);
		num_cell(x, "total_ms", rq_f64(r, i, C_MS, 0), UNIT_MS);
		num_cell(x, "mean_ms", total_of(r, i, -1), UNIT_MS);
		num_cell(x, "rows", rq_f64(r, i, C_ROWS, 0), UNIT_COUNT);
		num_cell(x, "blks_read", rq_f64(r, i, C_BLKS, 0), UNIT_COUNT);
		html_raw(x->h, "<td class=\"spark\">");
		sparkline(x, g, r, i, C_ARRAYS + w, k->spark);
		html_raw(x->h, "</td><td class=\"sqlcell\">");
		statement_text(x, v, r, i, sh, toplevel_null);
		html_raw(x->h, "</td></tr>\n");
	}
	if (rows > 0)
		html_raw(x->h, "</tbody></table>\n");
	else
		sect_nodata(x, k->empty);
}

/* Which walk fits: toplevel is NULL in every row before pg_stat_statements 1.9. */
static int
toplevel_kind(struct rctx *x, const struct rsrv *v, const struct grid *g, int *kind,
	      struct pga_err *err)
{
	static const char sql[] =
		"SELECT x.toplevel IS NULL FROM @s@.pg_stat_statements x WHERE x.collector_id = $1"
		" AND x.server_id = $2 AND x.dbname IS NULL AND x.snapshot_time >= $3::timestamptz"
		" AND x.snapshot_time <= $4::timestamptz LIMIT 1";
	char cid[16], sid[16], t0[40], tn[40];
	const char *p[4] = {cid, sid, t0, tn};
	PGresult *r = NULL;
	int rc;

	snprintf(cid, sizeof(cid), "%d", v->cid);
	snprintf(sid, sizeof(sid), "%d", v->sid);
	rq_time(g->t[0], t0, sizeof(t0));
	rq_time(g->t[g->n - 1], tn, sizeof(tn));
	rc = rq_exec(&x->q, "statements: any row", sql, NULL, 4, p, &r, err);
	*kind = rc < 0 || PQntuples(r) == 0 ? 0 : strcmp(PQgetvalue(r, 0, 0), "t") == 0 ? 2 : 1;
	PQclear(r);
	return rc;
}

void
sect_statements(struct rctx *x, struct rsrv *v)
{
	char top[16];
	const char *extra[3] = {PGA_SQL_MARK_RE, top, x->until_s};
	const char *vars[] = {"INFO", "pg_stat_statements_info", "TEXTS", "pg_stat_statements_texts",
			      "DBT", "pg_database", NULL};
	struct pga_err err = {0};
	const struct grid *g;
	struct sample_spec s;
	struct shown *sh = NULL;
	PGresult *r = NULL;
	char *sql = NULL;
	bool have[3] = {false, false, false};
	int kind = 0;

	html_fmt(x->h, "<h3 id=\"%s-statements\">Statements</h3>\n", x->prefix);
	for (int i = 0; i < 3 && err.code == 0; i++)
		if (rq_exists(&x->q, vars[2 * i + 1], &have[i], &err) == 0 && !have[i])
			pga_fail(&err, PGA_ENOTFOUND, "this central schema has no table %s",
				 vars[2 * i + 1]);
	if (rq_exists(&x->q, "pg_stat_statements", &have[0], &err) == 0 && !have[0])
		pga_fail(&err, PGA_ENOTFOUND, "this central schema has no table pg_stat_statements");
	if (err.code) {
		sect_failed(x, "statements", &err);
		return;
	}
	g = server_grid(x, v, "pg_stat_statements", false, &err);
	if (g != NULL && g->n > 1)
		toplevel_kind(x, v, g, &kind, &err);
	if (kind == 0) {
		if (err.code)
			sect_failed(x, "statements", &err);
		else
			sect_nodata(x, "pg_stat_statements is not collected for this server in the"
				    " window (the extension must be installed in the target's database)");
		return;
	}
	snprintf(top, sizeof(top), "%d", x->top);
	s = kind == 2 ? spec_b : spec_a;
	sql = malloc(RQ_SQL_MAX);
	sh = calloc(1, sizeof(*sh));
	if (sql == NULL || sh == NULL) {
		pga_fail(&err, PGA_ENOMEM, "out of memory");
		sect_failed(x, "statements", &err);
		goto out;
	}
	/* the tail's {INFO} and friends are the only template variables here */
	if (rq_expand(&x->q, s.tail, vars, sql, RQ_SQL_MAX, &err) < 0) {
		sect_failed(x, "statements", &err);
		goto out;
	}
	s.tail = sql;
	if (sample_query(x, v, g, &s, 3, extra, &r, &err) < 0) {
		sect_failed(x, "statements", &err);
		goto out;
	}
	if (PQntuples(r) > 0 && rq_i64(r, 0, C_OWN, 0) > 0)
		html_fmt(x->h, "<p class=\"note\" data-k=\"own\" data-v=\"%" PRId64 "\">%" PRId64
			 " pg_stat_statements entr%s of pga's own (marked %s after the first word)"
			 " left out of the rankings.</p>\n", rq_i64(r, 0, C_OWN, 0),
			 rq_i64(r, 0, C_OWN, 0), rq_i64(r, 0, C_OWN, 0) == 1 ? "y" : "ies",
			 PGA_SQL_MARK);
	for (int w = 0; w < RANKINGS; w++)
		ranking_table(x, v, g, r, w, sh, kind == 2);
out:
	PQclear(r);
	free(sql);
	free(sh);
}
