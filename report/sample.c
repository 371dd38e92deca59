/*
 * sample.c - counters sampled at the grid's times, as per-interval deltas
 *
 * The statement a sample_spec becomes, for one collector and server:
 *
 *   ser  the series of the metric present in the window, found by a
 *        "loose" walk of the series index: each step asks for the first
 *        key after the last one found (one descent per partition), so the
 *        cost follows the number of series, not of rows;
 *   smp  each series probed at each grid time: an equality on the whole
 *        series key and the time, one index descent into one partition;
 *   d    per series, each sample minus the one before with the delta
 *        views' reset rule (a counter lower than before, or the reset
 *        column changed: the delta is the counter itself), the interval's
 *        length in seconds as e;
 *
 * and then the spec's own SELECT over d.  Parameters: $1 collector_id,
 * $2 server_id, $3 and $4 the first and last grid time, $5 the grid as a
 * timestamptz[] literal, $6.. the spec's own.
 */
#define _GNU_SOURCE
#include "report/sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dynbuf.h"

#define SAMPLE_SQL_MAX (RQ_SQL_MAX / 2)
#define IN_WINDOW " AND x.snapshot_time >= $3::timestamptz AND x.snapshot_time <= $4::timestamptz"

/* How each name of a list is written: fmt gets the name twice (%.*s twice). */
enum col_form {
	F_X,		/* x.c */
	F_SER,		/* ser.c */
	F_PLAIN,	/* c */
	F_S,		/* , s.c */
	F_EQ,		/* AND x.c = ser.c (IS NULL for the null key) */
	F_LAG,		/* , lag(s.c) OVER w AS l_c */
	F_RESET,	/* OR coalesce(s.c < lag(s.c) OVER w, false) */
	F_DELTA,	/* , CASE WHEN q.rst THEN q.c ELSE q.c - q.l_c END AS d_c */
};

struct builder {
	struct dynbuf b;
	const struct sample_spec *s;
};

static void
put_col(struct builder *w, enum col_form f, const char *c, size_t n, int i)
{
	struct dynbuf *b = &w->b;
	const char *nk = w->s->null_key;
	int l = (int)n;

	switch (f) {
	case F_X: dynbuf_addf(b, "%sx.%.*s", i ? ", " : "", l, c); break;
	case F_SER: dynbuf_addf(b, "%sser.%.*s", i ? ", " : "", l, c); break;
	case F_PLAIN: dynbuf_addf(b, "%s%.*s", i ? ", " : "", l, c); break;
	case F_S: dynbuf_addf(b, ", s.%.*s", l, c); break;
	case F_EQ:
		if (nk != NULL && strlen(nk) == n && memcmp(nk, c, n) == 0)
			dynbuf_addf(b, " AND x.%.*s IS NULL", l, c);
		else
			dynbuf_addf(b, " AND x.%.*s = ser.%.*s", l, c, l, c);
		break;
	case F_LAG: dynbuf_addf(b, ", lag(s.%.*s) OVER w AS l_%.*s", l, c, l, c); break;
	case F_RESET:
		dynbuf_addf(b, " OR coalesce(s.%.*s < lag(s.%.*s) OVER w, false)", l, c, l, c);
		break;
	case F_DELTA:
		dynbuf_addf(b, ", CASE WHEN q.rst THEN q.%.*s ELSE q.%.*s - q.l_%.*s END AS d_%.*s",
			    l, c, l, c, l, c, l, c);
		break;
	}
}

/* Each name of the comma-separated list [from, to) of pga's column names. */
static void
cols_range(struct builder *w, const char *from, const char *to, enum col_form f)
{
	int i = 0;

	for (const char *p = from; p < to && *p;) {
		size_t n = strcspn(p, ",");
		const char *c = p;

		if (p + n > to)
			n = (size_t)(to - p);
		p += n;
		while (n > 0 && *c == ' ')
			c++, n--;
		while (n > 0 && c[n - 1] == ' ')
			n--;
		if (n > 0)
			put_col(w, f, c, n, i++);
		if (p < to && *p == ',')
			p++;
	}
}

static void
cols(struct builder *w, const char *list, enum col_form f)
{
	if (list != NULL)
		cols_range(w, list, list + strlen(list), f);
}

/* The keys before the null key, or after it. */
static void
keys_part(struct builder *w, bool before, enum col_form f)
{
	const char *k = w->s->keys, *at = strstr(k, w->s->null_key);

	if (before)
		cols_range(w, k, at, f);
	else
		cols_range(w, at + strlen(w->s->null_key), k + strlen(k), f);
}

/*
 * The step of the walk when one key is NULL in every row (pg_stat_statements
 * before 1.9 has no toplevel): a row comparison over a NULL is NULL, so the
 * next key is the smaller of two probes, each matching the index: the same
 * leading keys and greater keys after the null one, or greater leading keys.
 * For cluster-wide metrics only (no dbname among the keys compared).
 */
static void
null_step(struct builder *w, const char *sel, const char *ord, const char *from)
{
	struct dynbuf *b = &w->b;

	dynbuf_addf(b, "SELECT * FROM ((SELECT %s %s", sel, from);
	keys_part(w, true, F_EQ);
	dynbuf_addf(b, " AND x.%s IS NULL AND (", w->s->null_key);
	keys_part(w, false, F_X);
	dynbuf_adds(b, ") > (");
	keys_part(w, false, F_SER);
	dynbuf_addf(b, ")" IN_WINDOW " ORDER BY %s LIMIT 1) UNION ALL (SELECT %s %s AND (", ord,
		    sel, from);
	keys_part(w, true, F_X);
	dynbuf_adds(b, ") > (");
	keys_part(w, true, F_SER);
	dynbuf_addf(b, ") AND x.%s IS NULL" IN_WINDOW " ORDER BY %s LIMIT 1)) b ORDER BY ",
		    w->s->null_key, ord);
	keys_part(w, true, F_PLAIN);
	dynbuf_adds(b, ", ");
	keys_part(w, false, F_PLAIN);
	dynbuf_adds(b, " LIMIT 1");
}

/*
 * The series: a loose walk of the index, or one pseudo-series without
 * keys.  ord is "x.k1, ..., x.dbname" (dbname only per database), the
 * index's order after the collector and server (load/schema.c
 * series_cols), so each step is one descent per partition; sel is the
 * same with a NULL dbname for a cluster-wide metric, whose index has none.
 */
static void
ser_cte(struct builder *w)
{
	const struct sample_spec *s = w->s;
	struct dynbuf *b = &w->b;
	struct builder k = {.s = s};
	char ord[512], sel[512 + 32], from[256];

	if (s->keys == NULL || *s->keys == '\0') {
		/* $3 and $4 are used (their types must be known) though there is no walk */
		dynbuf_adds(b, "ser AS (SELECT NULL::text AS dbname WHERE $3::timestamptz <="
			    " $4::timestamptz)");
		return;
	}
	dynbuf_init_fixed(&k.b, ord, sizeof(ord));
	cols(&k, s->keys, F_X);
	if (s->per_db)
		dynbuf_adds(&k.b, ", x.dbname");
	snprintf(sel, sizeof(sel), "%s%s", ord, s->per_db ? "" : ", NULL::text AS dbname");
	snprintf(from, sizeof(from), "FROM @s@.%s x WHERE x.collector_id = $1 AND x.server_id = $2%s%s",
		 s->table, s->per_db ? " AND x.dbname IS NOT NULL" : "", s->extra ? s->extra : "");
	dynbuf_addf(b, "ser AS ((SELECT %s %s" IN_WINDOW " ORDER BY %s LIMIT 1) UNION ALL"
		    " SELECT n.* FROM ser CROSS JOIN LATERAL (", sel, from, ord);
	if (s->null_key != NULL) {
		null_step(w, sel, ord, from);
	} else {
		dynbuf_addf(b, "SELECT %s %s AND (", sel, from);
		cols(w, s->keys, F_X);
		dynbuf_adds(b, s->per_db ? ", x.dbname) > (" : ") > (");
		cols(w, s->keys, F_SER);
		dynbuf_addf(b, "%s)" IN_WINDOW " ORDER BY %s LIMIT 1", s->per_db ? ", ser.dbname" : "",
			    ord);
	}
	dynbuf_adds(b, ") n)");
}

int
sample_sql(const struct sample_spec *s, char *buf, size_t cap, struct pga_err *err)
{
	struct builder w = {.s = s};
	struct dynbuf *b = &w.b;

	dynbuf_init_fixed(b, buf, cap);
	dynbuf_adds(b, "WITH RECURSIVE ");
	ser_cte(&w);
	/* smp: every series at every grid time */
	dynbuf_addf(b, ", smp AS (SELECT ser.*, g.k, v.* FROM ser CROSS JOIN"
		    " unnest($5::timestamptz[]) WITH ORDINALITY AS g(t, k) CROSS JOIN LATERAL"
		    " (SELECT x.snapshot_time AS ts, %s FROM @s@.%s x WHERE x.collector_id = $1"
		    " AND x.server_id = $2%s", s->cols, s->table,
		    s->per_db ? " AND x.dbname = ser.dbname" : "");
	cols(&w, s->keys, F_EQ);
	dynbuf_addf(b, "%s AND x.snapshot_time = g.t LIMIT 1) v)", s->extra ? s->extra : "");
	/* d: per series, each sample minus the one before */
	dynbuf_adds(b, ", d AS (SELECT q.*, extract(epoch FROM q.ts - q.l_ts)::float8 AS e");
	cols(&w, s->counters, F_DELTA);
	dynbuf_adds(b, " FROM (SELECT s.*, lag(s.ts) OVER w AS l_ts, lag(s.k) OVER w AS l_k");
	cols(&w, s->counters, F_LAG);
	dynbuf_adds(b, ", (false");
	cols(&w, s->counters, F_RESET);
	if (s->reset != NULL)
		dynbuf_addf(b, " OR s.%s IS DISTINCT FROM lag(s.%s) OVER w", s->reset, s->reset);
	dynbuf_adds(b, ") AS rst FROM smp s WINDOW w AS (PARTITION BY s.dbname");
	cols(&w, s->keys, F_S);
	dynbuf_adds(b, " ORDER BY s.k)) q");
	dynbuf_adds(b, s->keep_first ? ") " : " WHERE q.l_ts IS NOT NULL) ");
	dynbuf_adds(b, s->tail);
	return dynbuf_check(b, "report query", err);
}

int
sample_query(struct rctx *x, const struct rsrv *v, const struct grid *g,
	     const struct sample_spec *s, int nextra, const char *const *extra, PGresult **res,
	     struct pga_err *err)
{
	char cid[16], sid[16], t0[40], tn[40];
	const char *p[5 + SAMPLE_EXTRA_MAX] = {cid, sid, t0, tn, g->arr};
	char *sql = malloc(SAMPLE_SQL_MAX);
	int rc;

	*res = NULL;
	if (sql == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	snprintf(cid, sizeof(cid), "%d", v->cid);
	snprintf(sid, sizeof(sid), "%d", v->sid);
	rq_time(g->t[0], t0, sizeof(t0));
	rq_time(g->t[g->n - 1], tn, sizeof(tn));
	for (int i = 0; i < nextra && i < SAMPLE_EXTRA_MAX; i++)
		p[5 + i] = extra[i];
	rc = sample_sql(s, sql, SAMPLE_SQL_MAX, err);
	if (rc == 0)
		rc = rq_exec(&x->q, s->name, sql, NULL, 5 + nextra, p, res, err);
	free(sql);
	return rc;
}
