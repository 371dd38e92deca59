/*
 * sect_misc.c - settings changed in the window, server log errors by
 * SQLSTATE, and the messages every section shares
 */
#define _GNU_SOURCE
#include "report/report_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
sect_nodata(struct rctx *x, const char *msg)
{
	html_raw(x->h, "<p class=\"nodata\">");
	html_text(x->h, msg);
	html_raw(x->h, "</p>\n");
}

void
sect_failed(struct rctx *x, const char *what, const struct pga_err *err)
{
	x->q.failed = true;
	html_raw(x->h, "<p class=\"error\">Could not compute ");
	html_text(x->h, what);
	html_raw(x->h, ": ");
	html_text(x->h, err->msg);
	html_raw(x->h, "</p>\n");
}

static void
srv_params(const struct rsrv *v, char *cid, char *sid)
{
	snprintf(cid, 16, "%d", v->cid);
	snprintf(sid, 16, "%d", v->sid);
}

/* ---- settings ---- */

#define SETTINGS_MAX 200
/* how far before the window a settings snapshot is looked for */
#define SETTINGS_LOOKBACK "7 days"

static const char settings_sql[] =
	"SELECT " RQ_US("q.snapshot_time") ", " RQ_US("q.l_t") ", q.name, q.l_setting, q.setting,"
	" q.unit, q.source, q.pending_restart FROM (SELECT x.snapshot_time, x.name, x.setting,"
	"  x.unit, x.source, x.pending_restart, lag(x.setting) OVER w AS l_setting,"
	"  lag(x.snapshot_time) OVER w AS l_t FROM @s@.pg_settings x WHERE x.collector_id = $1"
	"  AND x.server_id = $2 AND x.dbname IS NULL"
	"  AND x.snapshot_time > $3::timestamptz - interval '" SETTINGS_LOOKBACK "'"
	"  AND x.snapshot_time <= $4::timestamptz"
	"  WINDOW w AS (PARTITION BY x.name ORDER BY x.snapshot_time)) q"
	" WHERE q.l_t IS NOT NULL AND q.setting IS DISTINCT FROM q.l_setting"
	" AND q.snapshot_time > $3::timestamptz ORDER BY 1, 3 LIMIT " "201";

void
sect_settings(struct rctx *x, struct rsrv *v)
{
	char cid[16], sid[16], t[40];
	const char *p[4] = {cid, sid, x->since_s, x->until_s};
	struct pga_err err = {0};
	PGresult *r = NULL;
	bool have = false;
	int n;

	html_fmt(x->h, "<h3 id=\"%s-settings\">Settings changed in the window</h3>\n", x->prefix);
	srv_params(v, cid, sid);
	if (rq_exists(&x->q, "pg_settings", &have, &err) < 0 || !have ||
	    rq_exec(&x->q, "settings changed", settings_sql, NULL, 4, p, &r, &err) < 0) {
		if (err.code)
			sect_failed(x, "settings", &err);
		else
			sect_nodata(x, "this central schema has no pg_settings table");
		return;
	}
	n = PQntuples(r);
	if (n == 0) {
		sect_nodata(x, "no setting changed in the window (settings are compared between"
			    " the snapshots that took them: every settings-every cycles and when"
			    " they change)");
		PQclear(r);
		return;
	}
	html_raw(x->h, "<table class=\"sortable\" data-list=\"settings\"><thead><tr><th>seen at</th>"
		 "<th>setting</th><th>before</th><th>after</th><th>unit</th><th>source</th>"
		 "<th>pending restart</th></tr></thead><tbody>\n");
	for (int i = 0; i < n && i < SETTINGS_MAX; i++) {
		fmt_time(rq_i64(r, i, 0, INT64_MIN), t, sizeof(t));
		html_fmt(x->h, "<tr><td data-v=\"%" PRId64 "\">%s</td>", rq_i64(r, i, 0, 0), t);
		for (int c = 2; c < 8; c++) {
			html_raw(x->h, c == 3 || c == 4 ? "<td class=\"val\">" : "<td>");
			if (c == 7)
				html_raw(x->h, rq_str(r, i, c) && strcmp(PQgetvalue(r, i, c), "t") == 0 ?
					 "yes" : "");
			else
				html_text(x->h, rq_str(r, i, c));
			html_raw(x->h, "</td>");
		}
		html_raw(x->h, "</tr>\n");
	}
	html_raw(x->h, "</tbody></table>\n");
	if (n > SETTINGS_MAX)
		html_fmt(x->h, "<p class=\"note\">Only the first %d changes are listed.</p>\n",
			 SETTINGS_MAX);
	PQclear(r);
}

/* ---- server log errors ---- */

#define LOG_GROUPS 50

static const char logs_any_sql[] =
	"SELECT 1 FROM @s@.postgres_log x WHERE x.collector_id = $1 AND x.server_id = $2"
	" AND x.dbname IS NULL LIMIT 1";

/* log_time leads the series index after the server: the range is an index condition */
static const char logs_sql[] =
	"SELECT coalesce(x.sql_state_code, ''), x.error_severity, count(*),"
	" " RQ_US("min(x.log_time)") ", " RQ_US("max(x.log_time)") ", min(left(x.message, 400))"
	" FROM @s@.postgres_log x WHERE x.collector_id = $1 AND x.server_id = $2"
	" AND x.dbname IS NULL AND x.log_time > $3::timestamptz AND x.log_time <= $4::timestamptz"
	" AND x.snapshot_time > $3::timestamptz"
	" AND x.error_severity IN ('ERROR', 'FATAL', 'PANIC')"
	" GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT " "50";

/* SQLSTATE classes (the first two characters), from the PostgreSQL manual's appendix A */
static const char *const classes[][2] = {
	{"08", "connection exception"}, {"0A", "feature not supported"},
	{"21", "cardinality violation"}, {"22", "data exception"},
	{"23", "integrity constraint violation"}, {"24", "invalid cursor state"},
	{"25", "invalid transaction state"}, {"28", "invalid authorization"},
	{"2B", "dependent privilege descriptors still exist"},
	{"2D", "invalid transaction termination"}, {"34", "invalid cursor name"},
	{"3D", "invalid catalog name"}, {"3F", "invalid schema name"},
	{"40", "transaction rollback"}, {"42", "syntax error or access rule violation"},
	{"44", "with check option violation"}, {"53", "insufficient resources"},
	{"54", "program limit exceeded"}, {"55", "object not in prerequisite state"},
	{"57", "operator intervention"}, {"58", "system error"}, {"72", "snapshot failure"},
	{"F0", "configuration file error"}, {"HV", "foreign data wrapper error"},
	{"P0", "PL/pgSQL error"}, {"XX", "internal error"},
};

static const char *
class_of(const char *state)
{
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strncmp(state, classes[i][0], 2) == 0)
			return classes[i][1];
	return "";
}

void
sect_logs(struct rctx *x, struct rsrv *v)
{
	char cid[16], sid[16], a[40], b[40];
	const char *p[4] = {cid, sid, x->since_s, x->until_s};
	struct pga_err err = {0};
	PGresult *r = NULL;
	bool have = false;

	html_fmt(x->h, "<h3 id=\"%s-logs\">Server log errors by SQLSTATE</h3>\n", x->prefix);
	srv_params(v, cid, sid);
	if (rq_exists(&x->q, "postgres_log", &have, &err) < 0 || !have ||
	    rq_exec(&x->q, "log: collected at all", logs_any_sql, NULL, 2, p, &r, &err) < 0) {
		if (err.code)
			sect_failed(x, "log errors", &err);
		else
			sect_nodata(x, "this central schema has no postgres_log table");
		return;
	}
	if (PQntuples(r) == 0) {
		sect_nodata(x, "the server log is not collected for this server (pga reads it when"
			    " the server writes csvlog and the target's csvlog key points at it)");
		PQclear(r);
		return;
	}
	PQclear(r);
	r = NULL;
	if (rq_exec(&x->q, "log errors", logs_sql, NULL, 4, p, &r, &err) < 0) {
		sect_failed(x, "log errors", &err);
		return;
	}
	if (PQntuples(r) == 0) {
		sect_nodata(x, "no ERROR, FATAL or PANIC in the server log in the window");
		PQclear(r);
		return;
	}
	html_raw(x->h, "<table class=\"sortable\" data-list=\"log-errors\"><thead><tr>"
		 "<th>SQLSTATE</th><th>class</th><th>severity</th><th class=\"num\">count</th>"
		 "<th>first</th><th>last</th><th>a message</th></tr></thead><tbody>\n");
	for (int i = 0; i < PQntuples(r) && i < LOG_GROUPS; i++) {
		html_raw(x->h, "<tr><td>");
		html_text(x->h, PQgetvalue(r, i, 0));
		html_raw(x->h, "</td><td>");
		html_text(x->h, class_of(PQgetvalue(r, i, 0)));
		html_raw(x->h, "</td><td>");
		html_text(x->h, PQgetvalue(r, i, 1));
		fmt_time(rq_i64(r, i, 3, INT64_MIN), a, sizeof(a));
		fmt_time(rq_i64(r, i, 4, INT64_MIN), b, sizeof(b));
		html_fmt(x->h, "</td><td class=\"num\" data-k=\"count\" data-v=\"%" PRId64 "\">%"
			 PRId64 "</td><td>%s</td><td>%s</td><td class=\"msg\">", rq_i64(r, i, 2, 0),
			 rq_i64(r, i, 2, 0), a, b);
		if (html_text_cut(x->h, PQgetvalue(r, i, 5), 300))
			html_raw(x->h, "\xe2\x80\xa6");
		html_raw(x->h, "</td></tr>\n");
	}
	html_raw(x->h, "</tbody></table>\n");
	PQclear(r);
}
