/*
 * sect_tables.c - the largest tables; tables by sequential scans, dead
 * tuples and vacuum age; unused and duplicate indexes
 *
 * Totals over the window (sequential scans, index scans) come from a
 * coarse grid of at most COARSE+1 samples per table: the sum of the
 * differences is exact unless a reset falls inside a coarse interval, and
 * it costs (tables x samples) index probes whatever the window's length.
 * Levels (sizes, dead tuples, last vacuum) are the newest sample's.
 */
#define _GNU_SOURCE
#include "report/report_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "report/sample.h"

#define COARSE 12

/* At most max+1 points of src, its first and last among them. */
static void
grid_pick(const struct grid *src, struct grid *dst, int max)
{
	memset(dst, 0, sizeof(*dst));
	for (int i = 0; i <= max && src->n > 0; i++) {
		int j = src->n <= max + 1 ? i : (int)((int64_t)i * (src->n - 1) / max);

		if (j >= src->n)
			break;
		if (dst->n > 0 && dst->t[dst->n - 1] == src->t[j])
			continue;
		dst->t[dst->n++] = src->t[j];
	}
	dst->step = src->step;
	grid_literal(dst);
}

static void
num_cell(struct rctx *x, const char *k, const PGresult *r, int i, int col, enum unit u)
{
	char b[32];

	if (PQgetisnull(r, i, col)) {
		html_fmt(x->h, "<td class=\"num\" data-k=\"%s\" data-v=\"\">-</td>", k);
		return;
	}
	fmt_value(rq_f64(r, i, col, 0), u, b, sizeof(b));
	/* a number by the column's type; escaped all the same */
	html_fmt(x->h, "<td class=\"num\" data-k=\"%s\" data-v=\"", k);
	html_text(x->h, PQgetvalue(r, i, col));
	html_fmt(x->h, "\">%s</td>", b);
}

static void
text_cell(struct rctx *x, const char *a, const char *b)
{
	html_raw(x->h, "<td>");
	if (a != NULL) {
		html_text(x->h, a);
		html_raw(x->h, ".");
	}
	html_text(x->h, b);
	html_raw(x->h, "</td>");
}

/* The grid of a per-database metric, or a message in the page. */
static const struct grid *
table_grid(struct rctx *x, const struct rsrv *v, const char *table, const char *what)
{
	struct pga_err err = {0};
	const struct grid *g;
	bool have = false;

	if (rq_exists(&x->q, table, &have, &err) < 0 || !have) {
		if (err.code)
			sect_failed(x, what, &err);
		else
			sect_nodata(x, "this central schema has no such table");
		return NULL;
	}
	g = server_grid(x, v, table, true, &err);
	if (g == NULL) {
		if (err.code)
			sect_failed(x, what, &err);
		else
			sect_nodata(x, "not collected for this server in the window");
	}
	return g;
}

/* ---- the largest tables ---- */

static const struct sample_spec largest_spec = {
	.name = "largest tables",
	.table = "table_sizes",
	.per_db = true,
	.keys = "relid",
	.cols = "x.schemaname, x.relname, x.total_bytes",
	.counters = "",
	.keep_first = true,
	.tail = ", t AS (SELECT dbname, relid, min(k) AS fk, max(k) AS lk FROM d GROUP BY 1, 2)"
		" SELECT t.dbname, a.schemaname, a.relname, a.total_bytes,"
		"  CASE WHEN t.fk < t.lk THEN a.total_bytes - b.total_bytes END"
		" FROM t JOIN d a ON a.dbname = t.dbname AND a.relid = t.relid AND a.k = t.lk"
		" JOIN d b ON b.dbname = t.dbname AND b.relid = t.relid AND b.k = t.fk"
		" ORDER BY a.total_bytes DESC NULLS LAST, 1, 2, 3 LIMIT $6::int",
};

static void
largest(struct rctx *x, const struct rsrv *v)
{
	char top[16];
	const char *extra[1] = {top};
	struct pga_err err = {0};
	const struct grid *g;
	struct grid *two = malloc(sizeof(*two));
	PGresult *r = NULL;

	html_fmt(x->h, "<h4 id=\"%s-largest\">Largest tables</h4>\n", x->prefix);
	g = table_grid(x, v, "table_sizes", "largest tables");
	if (g == NULL || two == NULL)
		goto out;
	grid_pick(g, two, 1);	/* growth: from the first sample to the last */
	snprintf(top, sizeof(top), "%d", x->top);
	if (sample_query(x, v, two, &largest_spec, 1, extra, &r, &err) < 0) {
		sect_failed(x, "largest tables", &err);
		goto out;
	}
	if (PQntuples(r) == 0) {
		sect_nodata(x, "no table in the window");
		goto out;
	}
	html_raw(x->h, "<table class=\"sortable\" data-list=\"largest\"><thead><tr><th>database</th>"
		 "<th>table</th><th class=\"num\">total size</th><th class=\"num\">growth in the"
		 " window</th></tr></thead><tbody>\n");
	for (int i = 0; i < PQntuples(r); i++) {
		html_raw(x->h, "<tr>");
		text_cell(x, NULL, rq_str(r, i, 0));
		text_cell(x, rq_str(r, i, 1), rq_str(r, i, 2));
		num_cell(x, "total_bytes", r, i, 3, UNIT_BYTES);
		num_cell(x, "growth", r, i, 4, UNIT_BYTES);
		html_raw(x->h, "</tr>\n");
	}
	html_raw(x->h, "</tbody></table>\n");
out:
	PQclear(r);
	free(two);
}

/* ---- tables by sequential scans, dead tuples, vacuum age ---- */

static const struct sample_spec tables_spec = {
	.name = "tables",
	.table = "pg_stat_user_tables",
	.per_db = true,
	.keys = "relid",
	.cols = "x.schemaname, x.relname, x.seq_scan, x.seq_tup_read, x.n_live_tup, x.n_dead_tup,"
		" greatest(x.last_vacuum, x.last_autovacuum) AS vac",
	.counters = "seq_scan, seq_tup_read",
	.keep_first = true,
	.tail = ", t AS (SELECT dbname, relid, sum(d_seq_scan) FILTER (WHERE l_ts IS NOT NULL) AS seq,"
		"  sum(d_seq_tup_read) FILTER (WHERE l_ts IS NOT NULL) AS seq_read, max(k) AS lk"
		"  FROM d GROUP BY 1, 2)"
		", l AS (SELECT t.*, d.schemaname, d.relname, d.n_live_tup, d.n_dead_tup, d.vac, d.ts"
		"  FROM t JOIN d ON d.dbname = t.dbname AND d.relid = t.relid AND d.k = t.lk)"
		", z AS (SELECT l.*,"
		"  row_number() OVER (ORDER BY seq DESC NULLS LAST, dbname, relid) AS r_seq,"
		"  row_number() OVER (ORDER BY n_dead_tup DESC NULLS LAST, dbname, relid) AS r_dead,"
		"  row_number() OVER (ORDER BY vac NULLS FIRST, n_dead_tup DESC NULLS LAST, dbname,"
		"   relid) AS r_vac FROM l)"
		" SELECT z.dbname, z.schemaname, z.relname, z.seq, z.seq_read, z.n_live_tup,"
		"  z.n_dead_tup, extract(epoch FROM $7::timestamptz - z.vac)::float8, z.r_seq,"
		"  z.r_dead, z.r_vac, s.total_bytes, s.relfrozenxid_age"
		" FROM z LEFT JOIN LATERAL (SELECT x.total_bytes, x.relfrozenxid_age"
		"  FROM @s@.table_sizes x WHERE x.collector_id = $1 AND x.server_id = $2"
		"  AND x.dbname = z.dbname AND x.relid = z.relid AND x.snapshot_time = z.ts"
		"  LIMIT 1) s ON true"
		" WHERE least(z.r_seq, z.r_dead, z.r_vac) <= $6::int",
};

enum { T_DB, T_SCHEMA, T_REL, T_SEQ, T_SEQ_READ, T_LIVE, T_DEAD, T_VAC, T_RANK, T_SIZE = T_RANK + 3,
       T_XID };

static void
tables_list(struct rctx *x, const PGresult *r, int w, const char *id, const char *title,
	    const char *empty)
{
	int rows = 0;

	html_fmt(x->h, "<h4 id=\"%s-tables-%s\">%s</h4>\n", x->prefix, id, title);
	for (int rank = 1; rank <= x->top; rank++) {
		int i;

		for (i = 0; i < PQntuples(r) && rq_i64(r, i, T_RANK + w, 0) != rank; i++)
			;
		if (i == PQntuples(r) || (w == 0 && rq_f64(r, i, T_SEQ, 0) <= 0) ||
		    (w == 1 && rq_f64(r, i, T_DEAD, 0) <= 0))
			break;
		if (rows++ == 0)
			html_fmt(x->h, "<table class=\"sortable\" data-list=\"tables-%s\"><thead><tr>"
				 "<th>database</th><th>table</th><th class=\"num\">seq scans</th>"
				 "<th class=\"num\">rows read by them</th><th class=\"num\">live"
				 " tuples</th><th class=\"num\">dead tuples</th><th class=\"num\">since"
				 " the last vacuum</th><th class=\"num\">xid age</th><th class=\"num\">"
				 "size</th></tr></thead><tbody>\n", id);
		html_raw(x->h, "<tr>");
		text_cell(x, NULL, rq_str(r, i, T_DB));
		text_cell(x, rq_str(r, i, T_SCHEMA), rq_str(r, i, T_REL));
		num_cell(x, "seq_scan", r, i, T_SEQ, UNIT_COUNT);
		num_cell(x, "seq_tup_read", r, i, T_SEQ_READ, UNIT_COUNT);
		num_cell(x, "n_live_tup", r, i, T_LIVE, UNIT_COUNT);
		num_cell(x, "n_dead_tup", r, i, T_DEAD, UNIT_COUNT);
		if (PQgetisnull(r, i, T_VAC))
			html_raw(x->h, "<td class=\"num\" data-k=\"vacuum_age\" data-v=\"\">never</td>");
		else
			num_cell(x, "vacuum_age", r, i, T_VAC, UNIT_SECONDS);
		num_cell(x, "xid_age", r, i, T_XID, UNIT_COUNT);
		num_cell(x, "size", r, i, T_SIZE, UNIT_BYTES);
		html_raw(x->h, "</tr>\n");
	}
	if (rows > 0)
		html_raw(x->h, "</tbody></table>\n");
	else
		sect_nodata(x, empty);
}

static void
tables(struct rctx *x, const struct rsrv *v)
{
	char top[16];
	const char *extra[2] = {top, x->until_s};
	struct pga_err err = {0};
	const struct grid *g;
	struct grid *c = malloc(sizeof(*c));
	PGresult *r = NULL;

	g = table_grid(x, v, "pg_stat_user_tables", "tables");
	if (g == NULL || c == NULL)
		goto out;
	grid_pick(g, c, COARSE);
	snprintf(top, sizeof(top), "%d", x->top);
	if (sample_query(x, v, c, &tables_spec, 2, extra, &r, &err) < 0) {
		sect_failed(x, "tables", &err);
		goto out;
	}
	tables_list(x, r, 0, "seq", "Tables by sequential scans", "no sequential scan in the window");
	tables_list(x, r, 1, "dead", "Tables by dead tuples", "no dead tuples");
	tables_list(x, r, 2, "vacuum", "Tables by vacuum age (never vacuumed first)",
		    "no table in the window");
out:
	PQclear(r);
	free(c);
}

/* ---- unused indexes ---- */

static const struct sample_spec unused_spec = {
	.name = "unused indexes",
	.table = "pg_stat_user_indexes",
	.per_db = true,
	.keys = "indexrelid",
	.cols = "x.schemaname, x.relname, x.indexrelname, x.idx_scan",
	.counters = "idx_scan",
	.keep_first = true,
	.tail = ", t AS (SELECT dbname, indexrelid, sum(d_idx_scan) FILTER (WHERE l_ts IS NOT NULL)"
		"  AS scans, count(*) AS samples, max(k) AS lk, min(ts) AS first_ts, max(ts) AS last_ts"
		"  FROM d GROUP BY 1, 2)"
		", z AS (SELECT t.*, d.schemaname, d.relname, d.indexrelname, s.size_bytes,"
		"  s.indisunique, s.indisprimary FROM t JOIN d ON d.dbname = t.dbname"
		"  AND d.indexrelid = t.indexrelid AND d.k = t.lk LEFT JOIN LATERAL"
		"  (SELECT x.size_bytes, x.indisunique, x.indisprimary FROM @s@.index_sizes x"
		"   WHERE x.collector_id = $1 AND x.server_id = $2 AND x.dbname = t.dbname"
		"   AND x.indexrelid = t.indexrelid AND x.snapshot_time = t.last_ts LIMIT 1) s ON true)"
		" SELECT dbname, schemaname, relname, indexrelname, size_bytes,"
		"  extract(epoch FROM last_ts - first_ts)::float8"
		" FROM z WHERE scans = 0 AND samples > 1 AND NOT coalesce(indisunique, false)"
		"  AND NOT coalesce(indisprimary, false)"
		" ORDER BY size_bytes DESC NULLS LAST, 1, 2, 4 LIMIT $6::int",
};

static void
unused(struct rctx *x, const struct rsrv *v)
{
	char top[16];
	const char *extra[1] = {top};
	struct pga_err err = {0};
	const struct grid *g;
	struct grid *c = malloc(sizeof(*c));
	PGresult *r = NULL;

	html_fmt(x->h, "<h4 id=\"%s-unused\">Unused indexes</h4>\n", x->prefix);
	g = table_grid(x, v, "pg_stat_user_indexes", "unused indexes");
	if (g == NULL || c == NULL)
		goto out;
	grid_pick(g, c, COARSE);
	snprintf(top, sizeof(top), "%d", x->top);
	if (sample_query(x, v, c, &unused_spec, 1, extra, &r, &err) < 0) {
		sect_failed(x, "unused indexes", &err);
		goto out;
	}
	if (PQntuples(r) == 0) {
		sect_nodata(x, "every index was scanned in the window (unique and primary key"
			    " indexes are not listed: they enforce a constraint)");
		goto out;
	}
	html_raw(x->h, "<p class=\"note\">Not scanned once in the window; unique and primary key"
		 " indexes are left out (they enforce a constraint). Check standbys before dropping:"
		 " their scans are not counted here.</p>\n<table class=\"sortable\" data-list=\"unused\">"
		 "<thead><tr><th>database</th><th>table</th><th>index</th><th class=\"num\">size</th>"
		 "<th class=\"num\">unused for</th></tr></thead><tbody>\n");
	for (int i = 0; i < PQntuples(r); i++) {
		html_raw(x->h, "<tr>");
		text_cell(x, NULL, rq_str(r, i, 0));
		text_cell(x, rq_str(r, i, 1), rq_str(r, i, 2));
		text_cell(x, NULL, rq_str(r, i, 3));
		num_cell(x, "size", r, i, 4, UNIT_BYTES);
		num_cell(x, "unused_for", r, i, 5, UNIT_SECONDS);
		html_raw(x->h, "</tr>\n");
	}
	html_raw(x->h, "</tbody></table>\n");
out:
	PQclear(r);
	free(c);
}

/* ---- duplicate indexes ---- */

/*
 * Two indexes of a table are duplicates when their definitions are the
 * same once the index name (and UNIQUE) is taken out: same method,
 * columns or expressions, operator classes, INCLUDE and predicate.
 */
static const struct sample_spec dup_spec = {
	.name = "duplicate indexes",
	.table = "index_sizes",
	.per_db = true,
	.keys = "indexrelid",
	.cols = "x.relid, x.schemaname, x.relname, x.indexrelname, x.size_bytes, x.indexdef",
	.counters = "",
	.keep_first = true,
	.tail = ", z AS (SELECT d.*, regexp_replace(indexdef,"
		"  '^CREATE (UNIQUE )?INDEX (\"([^\"]|\"\")+\"|\\S+) ON ', '') AS sig FROM d"
		"  WHERE indexdef IS NOT NULL)"
		", g AS (SELECT dbname, relid, sig, sum(size_bytes) AS bytes FROM z"
		"  GROUP BY 1, 2, 3 HAVING count(*) > 1 ORDER BY 4 DESC NULLS LAST, 1, 2, 3"
		"  LIMIT $6::int)"
		" SELECT dense_rank() OVER (ORDER BY g.bytes DESC NULLS LAST, g.dbname, g.relid,"
		"  g.sig), z.dbname, z.schemaname, z.relname, z.indexrelname, z.size_bytes,"
		"  z.indexdef, (SELECT count(*) FROM d WHERE indexdef IS NOT NULL)"
		" FROM g JOIN z USING (dbname, relid, sig) ORDER BY 1, z.indexrelname",
};

static void
duplicates(struct rctx *x, const struct rsrv *v)
{
	static const char col_sql[] =
		"SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(quote_ident($1)"
		" || '.index_sizes') AND attname = 'indexdef' AND NOT attisdropped";
	char top[16];
	const char *extra[1] = {top};
	struct pga_err err = {0};
	const struct grid *g;
	struct grid *one = malloc(sizeof(*one));
	PGresult *r = NULL;
	int64_t prev = 0;

	html_fmt(x->h, "<h4 id=\"%s-duplicates\">Duplicate indexes</h4>\n", x->prefix);
	if (rq_exec(&x->q, "index definitions", col_sql, NULL, 1, &x->q.schema, &r, &err) < 0 ||
	    rq_i64(r, 0, 0, 0) == 0) {
		if (err.code)
			sect_failed(x, "duplicate indexes", &err);
		else
			sect_nodata(x, "this central schema has no index definitions"
				    " (index_sizes.indexdef): load with a newer pga");
		goto out;
	}
	PQclear(r);
	r = NULL;
	g = table_grid(x, v, "index_sizes", "duplicate indexes");
	if (g == NULL || one == NULL)
		goto out;
	/* only the newest sample: what the indexes are now */
	memset(one, 0, sizeof(*one));
	one->t[0] = g->t[g->n - 1];
	one->n = 1;
	grid_literal(one);
	snprintf(top, sizeof(top), "%d", x->top);
	if (sample_query(x, v, one, &dup_spec, 1, extra, &r, &err) < 0) {
		sect_failed(x, "duplicate indexes", &err);
		goto out;
	}
	if (PQntuples(r) == 0) {
		sect_nodata(x, "no two indexes of a table have the same definition (or index"
			    " definitions were not collected yet)");
		goto out;
	}
	html_raw(x->h, "<p class=\"note\">Indexes of one table with the same definition but"
		 " their name: all but one can go (keep the one a constraint uses).</p>\n"
		 "<table data-list=\"duplicates\"><thead><tr><th class=\"num\">#</th><th>database</th>"
		 "<th>table</th><th>index</th><th class=\"num\">size</th><th>definition</th></tr>"
		 "</thead><tbody>\n");
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t grp = rq_i64(r, i, 0, 0);

		html_fmt(x->h, "<tr%s><td class=\"num\">%" PRId64 "</td>", grp != prev && prev ?
			 " class=\"grp\"" : "", grp);
		prev = grp;
		text_cell(x, NULL, rq_str(r, i, 1));
		text_cell(x, rq_str(r, i, 2), rq_str(r, i, 3));
		text_cell(x, NULL, rq_str(r, i, 4));
		num_cell(x, "size", r, i, 5, UNIT_BYTES);
		html_raw(x->h, "<td><code class=\"sql\">");
		html_text(x->h, rq_str(r, i, 6));
		html_raw(x->h, "</code></td></tr>\n");
	}
	html_raw(x->h, "</tbody></table>\n");
out:
	PQclear(r);
	free(one);
}

void
sect_tables(struct rctx *x, struct rsrv *v)
{
	largest(x, v);
	tables(x, v);
}

void
sect_indexes(struct rctx *x, struct rsrv *v)
{
	html_fmt(x->h, "<h3 id=\"%s-indexes\">Indexes</h3>\n", x->prefix);
	unused(x, v);
	duplicates(x, v);
}
