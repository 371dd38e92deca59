/*
 * sect_collectors.c - the collectors as the central database sees them
 * (the old web UI's list), and the servers that have data in the window
 *
 * Collectors: from the registry and the ledger, as `pga status --central`
 * computes them: last snapshot and lag, segments, gaps (missing sequence
 * numbers), refused segments (unresolved quarantine records).
 */
#define _GNU_SOURCE
#include "report/report_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/units.h"

/* $1 the collector ids, NULL for all */
static const char collectors_sql[] =
	"SELECT c.collector, c.hostname, " RQ_US("g.last_snapshot") ", coalesce(g.segments, 0),"
	" coalesce(g.rows, 0),"
	" (SELECT count(*) FROM @s@.gaps x WHERE x.collector_id = c.collector_id),"
	" (SELECT coalesce(sum(missing), 0) FROM @s@.gaps x WHERE x.collector_id = c.collector_id),"
	" (SELECT count(*) FROM @s@.quarantine q WHERE q.collector = c.collector"
	"  AND q.resolved_at IS NULL),"
	" (SELECT count(*) FROM @s@.chain_breaks x WHERE x.collector_id = c.collector_id),"
	" " RQ_US("c.last_seen") ", c.collector_id, {HELD}"
	" FROM @s@.collectors c LEFT JOIN (SELECT collector_id, max(max_snapshot) AS last_snapshot,"
	"  count(*) AS segments, sum(rows) AS rows FROM @s@.segments GROUP BY collector_id) g"
	" USING (collector_id) WHERE $1::int[] IS NULL OR c.collector_id = ANY($1::int[])"
	" ORDER BY c.collector";

static void
cell_num(struct rctx *x, const char *k, int64_t v, bool warn)
{
	html_fmt(x->h, "<td class=\"num%s\" data-k=\"%s\" data-v=\"%" PRId64 "\">%" PRId64 "</td>",
		 warn && v > 0 ? " bad" : "", k, v, v);
}

int
sect_collectors(struct rctx *x, struct pga_err *err)
{
	const char *p[1] = {*x->collectors_arr ? x->collectors_arr : NULL};
	/* held forks: a central schema from before migration 2 has none */
	const char *vars[] = {"HELD", "(SELECT count(*) FROM @s@.held_segments h WHERE"
			      " h.collector = c.collector AND h.resolved_at IS NULL)", NULL};
	PGresult *r = NULL;
	char t[40], lag[16];
	bool held = false;
	int rc;

	html_raw(x->h, "<section id=\"collectors\"><h2>Collectors</h2>\n");
	rc = rq_exists(&x->q, "held_segments", &held, err);
	if (rc == 0 && !held)
		vars[1] = "0";
	if (rc == 0)
		rc = rq_exec(&x->q, "collectors", collectors_sql, vars, 1, p, &r, err);
	if (rc < 0) {
		sect_failed(x, "the collectors", err);
		html_raw(x->h, "</section>\n");
		return 0;
	}
	if (PQntuples(r) == 0) {
		sect_nodata(x, "No collector has loaded anything into this central database yet:"
			    " run pga load (or pga restore) first.");
		html_raw(x->h, "</section>\n");
		PQclear(r);
		return 0;
	}
	html_raw(x->h, "<table class=\"sortable\" data-list=\"collectors\"><thead><tr><th>collector"
		 "</th><th>host</th><th>last snapshot</th><th class=\"num\">lag</th>"
		 "<th class=\"num\">segments</th><th class=\"num\">rows</th><th class=\"num\">gaps"
		 "</th><th class=\"num\">segments missing</th><th class=\"num\">refused</th>"
		 "<th class=\"num\">held forks</th><th class=\"num\">chain breaks</th></tr>"
		 "</thead><tbody>\n");
	for (int i = 0; i < PQntuples(r); i++) {
		int64_t last = rq_i64(r, i, 2, INT64_MIN);

		html_fmt(x->h, "<tr data-collector=\"%" PRId64 "\"><td>", rq_i64(r, i, 10, 0));
		html_text(x->h, rq_str(r, i, 0));
		html_raw(x->h, "</td><td>");
		html_text(x->h, rq_str(r, i, 1));
		fmt_time(last, t, sizeof(t));
		if (last == INT64_MIN)
			strlcpy(lag, "-", sizeof(lag));
		else
			pga_format_duration(x->now - last, lag, sizeof(lag));
		html_fmt(x->h, "</td><td>%s</td><td class=\"num\" data-k=\"lag\" data-v=\"%" PRId64
			 "\">%s</td>", t, last == INT64_MIN ? 0 : (int64_t)((x->now - last) / PGA_USEC_PER_SEC),
			 lag);
		cell_num(x, "segments", rq_i64(r, i, 3, 0), false);
		cell_num(x, "rows", rq_i64(r, i, 4, 0), false);
		cell_num(x, "gaps", rq_i64(r, i, 5, 0), true);
		cell_num(x, "missing", rq_i64(r, i, 6, 0), true);
		cell_num(x, "refused", rq_i64(r, i, 7, 0), true);
		cell_num(x, "held", rq_i64(r, i, 11, 0), true);
		cell_num(x, "chain_breaks", rq_i64(r, i, 8, 0), true);
		html_raw(x->h, "</tr>\n");
	}
	html_raw(x->h, "</tbody></table>\n<p class=\"note\">Lag: time since the newest snapshot"
		 " loaded. Gaps: segments missing between the first and the newest loaded (they may"
		 " still be on their way). Refused: unresolved refusals of segments or blocks"
		 " (quarantine). Held forks: segments kept out because they fork their collector's"
		 " chain, until pga load --resolve-fork decides. pga status --central lists them."
		 "</p>\n</section>\n");
	PQclear(r);
	return 0;
}

/* ---- the servers with data in the window ---- */

/* The tables the report reads: rows in any of them put a server in the page. */
static const char *const evidence[] = {
	"snapshot_status", "pg_stat_database", "pg_stat_statements", "pg_stat_user_tables",
	"activity_summary", "pg_settings", "pg_stat_wal", "table_sizes", "postgres_log",
	"pg_database", "pg_stat_checkpointer", "xid_wraparound", "pg_stat_replication",
	"pg_replication_slots", "pg_stat_user_indexes", "index_sizes", NULL,
};

/* $1 since, $2 until, $3 collector ids or NULL, $4 server filter (text[]) or NULL */
static int
servers_sql(struct rctx *x, char *buf, size_t cap, struct pga_err *err)
{
	size_t o;
	bool any = false;

	o = (size_t)snprintf(buf, cap,
		"SELECT c.collector_id, s.server_id, c.collector, coalesce(s.target, ''), s.host,"
		" s.port, coalesce(s.server_version, 0), s.system_identifier::text,"
		" EXISTS (SELECT 1 FROM @s@.snapshot_status x WHERE x.collector_id = c.collector_id"
		"  AND x.server_id = s.server_id AND x.dbname IS NULL AND x.snapshot_time > $1::timestamptz"
		"  AND x.snapshot_time <= $2::timestamptz)"
		" FROM @s@.collectors c CROSS JOIN @s@.servers s"
		" WHERE ($3::int[] IS NULL OR c.collector_id = ANY($3::int[]))"
		" AND ($4::text[] IS NULL OR s.server_id::text = ANY($4::text[])"
		"  OR s.target = ANY($4::text[]) OR s.host = ANY($4::text[])) AND (false");
	for (int i = 0; evidence[i] != NULL && o < cap; i++) {
		bool have = false;

		if (rq_exists(&x->q, evidence[i], &have, err) < 0)
			return err->code;
		if (!have)
			continue;
		any = true;
		o += (size_t)snprintf(buf + o, cap - o, " OR EXISTS (SELECT 1 FROM @s@.%s x WHERE"
				      " x.collector_id = c.collector_id AND x.server_id = s.server_id"
				      " AND x.snapshot_time > $1::timestamptz AND x.snapshot_time <="
				      " $2::timestamptz)", evidence[i]);
	}
	if (o + 64 >= cap)
		return pga_fail(err, PGA_EINTERNAL, "servers query does not fit");
	snprintf(buf + o, cap - o, ") ORDER BY coalesce(nullif(s.target, ''), s.host), s.server_id,"
		 " c.collector LIMIT %d", REPORT_SERVERS_MAX + 1);
	if (!any)
		return pga_fail(err, PGA_EVERSION, "the central schema has no metric tables:"
				" run pga load --init");
	return 0;
}

/* The --server values as a text[] literal ("" when none). */
static void
server_filter(const struct report_opts *o, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	if (o->nservers == 0)
		return;
	buf[n++] = '{';
	for (size_t i = 0; i < o->nservers && n + 8 < cap; i++) {
		if (i)
			buf[n++] = ',';
		buf[n++] = '"';
		for (const char *p = o->servers[i]; *p && n + 4 < cap; p++) {
			if (*p == '"' || *p == '\\')
				buf[n++] = '\\';
			buf[n++] = *p;
		}
		buf[n++] = '"';
	}
	buf[n++] = '}';
	buf[n] = '\0';
}

int
sect_servers_list(struct rctx *x, struct rsrv **out, int *n, struct pga_err *err)
{
	char *sql = malloc(RQ_SQL_MAX), filter[4096];
	const char *p[4] = {x->since_s, x->until_s, *x->collectors_arr ? x->collectors_arr : NULL,
			    NULL};
	struct rsrv *v = NULL;
	PGresult *r = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (sql == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	server_filter(x->o, filter, sizeof(filter));
	p[3] = *filter ? filter : NULL;
	rc = servers_sql(x, sql, RQ_SQL_MAX, err);
	if (rc == 0)
		rc = rq_exec(&x->q, "servers in the window", sql, NULL, 4, p, &r, err);
	free(sql);
	if (rc < 0)
		return rc;
	if (PQntuples(r) > 0)
		v = calloc((size_t)PQntuples(r), sizeof(*v));
	if (PQntuples(r) > 0 && v == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		v[i].cid = (int)rq_i64(r, i, 0, 0);
		v[i].sid = (int)rq_i64(r, i, 1, 0);
		strlcpy(v[i].collector, PQgetvalue(r, i, 2), sizeof(v[i].collector));
		strlcpy(v[i].target, PQgetvalue(r, i, 3), sizeof(v[i].target));
		strlcpy(v[i].host, PQgetvalue(r, i, 4), sizeof(v[i].host));
		v[i].port = (int)rq_i64(r, i, 5, 0);
		v[i].version = (int)rq_i64(r, i, 6, 0);
		strlcpy(v[i].sysid, PQgetvalue(r, i, 7), sizeof(v[i].sysid));
		v[i].has_status = strcmp(PQgetvalue(r, i, 8), "t") == 0;
	}
	if (rc == 0) {
		*out = v;
		*n = PQntuples(r);
		if (*n > REPORT_SERVERS_MAX) {
			*n = REPORT_SERVERS_MAX;
			html_fmt(x->h, "<p class=\"warn\">More than %d servers have data in this"
				 " window: the first %d are shown; choose with --server or"
				 " --collector.</p>\n", REPORT_SERVERS_MAX, REPORT_SERVERS_MAX);
		}
	} else {
		free(v);
	}
	PQclear(r);
	return rc;
}
