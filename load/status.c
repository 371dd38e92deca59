/*
 * status.c - the central side as `pga status --central` shows it
 *
 * Per collector: last snapshot time and lag, segments and rows loaded,
 * segments loaded in part (a --since/--until window), gaps (missing
 * sequence numbers between 1 and the newest loaded: reported until the
 * missing segments arrive), chain breaks (a header whose previous-segment
 * hash does not match the ledger's segment before it) and unresolved
 * quarantine records.  Everything is computed from the ledger at query
 * time; nothing here writes.
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonw.h"
#include "common/log.h"
#include "common/units.h"

#define STATUS_LIST_MAX 20

static int64_t
col_i64(const PGresult *res, int row, int col, int64_t dflt)
{
	return PQgetisnull(res, row, col) ? dflt : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int
ld_check_fresh(struct loader *l, struct pga_err *err)
{
	char sql[256];
	PGresult *res = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.segments", l->qschema);
	rc = ld_exec(l, sql, 0, NULL, &res, err);
	if (rc == 0 && col_i64(res, 0, 0, 0) > 0)
		rc = pga_fail(err, PGA_EINVAL,
			      "the central database already holds %s segments in schema '%s':"
			      " restore needs a fresh database (use 'pga load' to add to it)",
			      PQgetvalue(res, 0, 0), l->schema);
	PQclear(res);
	return rc;
}

void
ld_warn_gaps(struct loader *l)
{
	char sql[512];
	PGresult *res = NULL;
	struct pga_err err = {0};

	snprintf(sql, sizeof(sql), "SELECT collector, from_seq, to_seq FROM %s.gaps"
		 " ORDER BY collector, from_seq LIMIT 10", l->qschema);
	if (ld_exec(l, sql, 0, NULL, &res, &err) == 0)
		for (int i = 0; i < PQntuples(res); i++)
			log_warn("collector '%s': segments %s to %s are missing (gap)",
				 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
	PQclear(res);
	snprintf(sql, sizeof(sql), "SELECT collector, seq FROM %s.chain_breaks"
		 " ORDER BY collector, seq LIMIT 10", l->qschema);
	if (ld_exec(l, sql, 0, NULL, &res, &err) == 0)
		for (int i = 0; i < PQntuples(res); i++)
			log_warn("collector '%s': segment %s does not chain to the segment before it"
				 " (previous-segment hash differs)", PQgetvalue(res, i, 0),
				 PQgetvalue(res, i, 1));
	PQclear(res);
}

/* ---- pga status --central ---- */

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"

enum {
	C_NAME, C_HOST, C_WRITER, C_FIRST, C_LOADED, C_LAST_SEQ, C_LAST_SNAP, C_SEGS,
	C_PARTIAL, C_ROWS, C_GAPS, C_MISSING, C_BREAKS, C_QUAR, C_NCOLS
};

static int
query_collectors(struct loader *l, PGresult **res, struct pga_err *err)
{
	char sql[2048];
	const char *s = l->qschema;

	snprintf(sql, sizeof(sql),
		 "SELECT c.collector, c.hostname, c.writer, " US("c.first_seen") ", " US("c.last_seen") ","
		 " c.last_seq, " US("g.last_snapshot") ", coalesce(g.segments, 0),"
		 " coalesce(g.partial, 0), coalesce(g.rows, 0),"
		 " (SELECT count(*) FROM %s.gaps x WHERE x.collector_id = c.collector_id),"
		 " (SELECT coalesce(sum(missing), 0) FROM %s.gaps x WHERE x.collector_id = c.collector_id),"
		 " (SELECT count(*) FROM %s.chain_breaks x WHERE x.collector_id = c.collector_id),"
		 " (SELECT count(*) FROM %s.quarantine q WHERE q.collector = c.collector"
		 "  AND q.resolved_at IS NULL)"
		 " FROM %s.collectors c LEFT JOIN (SELECT collector_id, max(max_snapshot) AS last_snapshot,"
		 "  count(*) AS segments, count(*) FILTER (WHERE NOT complete) AS partial,"
		 "  sum(rows) AS rows FROM %s.segments GROUP BY collector_id) g USING (collector_id)"
		 " ORDER BY c.collector", s, s, s, s, s, s);
	return ld_exec(l, sql, 0, NULL, res, err);
}

static int
query_lists(struct loader *l, PGresult **gaps, PGresult **quar, struct pga_err *err)
{
	char sql[1024];
	int rc;

	snprintf(sql, sizeof(sql), "SELECT collector, from_seq, to_seq FROM %s.gaps"
		 " ORDER BY collector, from_seq LIMIT %d", l->qschema, STATUS_LIST_MAX);
	rc = ld_exec(l, sql, 0, NULL, gaps, err);
	if (rc < 0)
		return rc;
	snprintf(sql, sizeof(sql), "SELECT coalesce(collector, ''), name, kind, error, times,"
		 " " US("last_seen") " FROM %s.quarantine WHERE resolved_at IS NULL"
		 " ORDER BY last_seen DESC LIMIT %d", l->qschema, STATUS_LIST_MAX);
	return ld_exec(l, sql, 0, NULL, quar, err);
}

static void
json_collectors(struct jsonw *jw, const PGresult *res, int64_t now)
{
	jsonw_key(jw, "collectors");
	jsonw_arr_open(jw);
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t last = col_i64(res, i, C_LAST_SNAP, INT64_MIN);

		jsonw_obj_open(jw);
		jsonw_key(jw, "collector");
		jsonw_str(jw, PQgetvalue(res, i, C_NAME));
		jsonw_key(jw, "hostname");
		jsonw_str(jw, PQgetisnull(res, i, C_HOST) ? NULL : PQgetvalue(res, i, C_HOST));
		jsonw_key(jw, "writer");
		jsonw_str(jw, PQgetisnull(res, i, C_WRITER) ? NULL : PQgetvalue(res, i, C_WRITER));
		jsonw_key(jw, "first_seen");
		jsonw_time(jw, col_i64(res, i, C_FIRST, INT64_MIN));
		jsonw_key(jw, "last_loaded");
		jsonw_time(jw, col_i64(res, i, C_LOADED, INT64_MIN));
		jsonw_key(jw, "last_seq");
		jsonw_i64(jw, col_i64(res, i, C_LAST_SEQ, 0));
		jsonw_key(jw, "last_snapshot");
		jsonw_time(jw, last);
		jsonw_key(jw, "lag_us");
		if (last == INT64_MIN)
			jsonw_null(jw);
		else
			jsonw_i64(jw, now - last);
		jsonw_key(jw, "segments");
		jsonw_i64(jw, col_i64(res, i, C_SEGS, 0));
		jsonw_key(jw, "partial");
		jsonw_i64(jw, col_i64(res, i, C_PARTIAL, 0));
		jsonw_key(jw, "rows");
		jsonw_i64(jw, col_i64(res, i, C_ROWS, 0));
		jsonw_key(jw, "gaps");
		jsonw_i64(jw, col_i64(res, i, C_GAPS, 0));
		jsonw_key(jw, "missing_segments");
		jsonw_i64(jw, col_i64(res, i, C_MISSING, 0));
		jsonw_key(jw, "chain_breaks");
		jsonw_i64(jw, col_i64(res, i, C_BREAKS, 0));
		jsonw_key(jw, "quarantined");
		jsonw_i64(jw, col_i64(res, i, C_QUAR, 0));
		jsonw_obj_close(jw);
	}
	jsonw_arr_close(jw);
}

static void
json_lists(struct jsonw *jw, const PGresult *gaps, const PGresult *quar)
{
	jsonw_key(jw, "gaps");
	jsonw_arr_open(jw);
	for (int i = 0; i < PQntuples(gaps); i++) {
		jsonw_obj_open(jw);
		jsonw_key(jw, "collector");
		jsonw_str(jw, PQgetvalue(gaps, i, 0));
		jsonw_key(jw, "from_seq");
		jsonw_i64(jw, col_i64(gaps, i, 1, 0));
		jsonw_key(jw, "to_seq");
		jsonw_i64(jw, col_i64(gaps, i, 2, 0));
		jsonw_obj_close(jw);
	}
	jsonw_arr_close(jw);
	jsonw_key(jw, "quarantine");
	jsonw_arr_open(jw);
	for (int i = 0; i < PQntuples(quar); i++) {
		jsonw_obj_open(jw);
		jsonw_key(jw, "collector");
		jsonw_str(jw, PQgetvalue(quar, i, 0));
		jsonw_key(jw, "segment");
		jsonw_str(jw, PQgetvalue(quar, i, 1));
		jsonw_key(jw, "kind");
		jsonw_str(jw, PQgetvalue(quar, i, 2));
		jsonw_key(jw, "error");
		jsonw_str(jw, PQgetvalue(quar, i, 3));
		jsonw_key(jw, "times");
		jsonw_i64(jw, col_i64(quar, i, 4, 0));
		jsonw_key(jw, "last_seen");
		jsonw_time(jw, col_i64(quar, i, 5, INT64_MIN));
		jsonw_obj_close(jw);
	}
	jsonw_arr_close(jw);
}

static void
text_collectors(FILE *out, const PGresult *res, int64_t now)
{
	fprintf(out, "%-20s %-21s %8s %9s %12s %6s %8s %6s %6s\n", "COLLECTOR", "LAST SNAPSHOT",
		"LAG", "SEGMENTS", "ROWS", "GAPS", "MISSING", "CHAIN", "QUAR");
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t last = col_i64(res, i, C_LAST_SNAP, INT64_MIN);
		char ts[40] = "-", lag[16] = "-";

		if (last != INT64_MIN) {
			pga_format_time(last - last % PGA_USEC_PER_SEC, ts, sizeof(ts));
			pga_format_duration(now > last ? now - last : 0, lag, sizeof(lag));
		}
		fprintf(out, "%-20s %-21s %8s %9s %12s %6s %8s %6s %6s\n", PQgetvalue(res, i, C_NAME),
			ts, lag, PQgetvalue(res, i, C_SEGS), PQgetvalue(res, i, C_ROWS),
			PQgetvalue(res, i, C_GAPS), PQgetvalue(res, i, C_MISSING),
			PQgetvalue(res, i, C_BREAKS), PQgetvalue(res, i, C_QUAR));
	}
}

static void
text_lists(FILE *out, const PGresult *gaps, const PGresult *quar)
{
	for (int i = 0; i < PQntuples(gaps); i++)
		fprintf(out, "gap: collector '%s' segments %s to %s missing\n", PQgetvalue(gaps, i, 0),
			PQgetvalue(gaps, i, 1), PQgetvalue(gaps, i, 2));
	for (int i = 0; i < PQntuples(quar); i++)
		fprintf(out, "quarantined (%s): '%s': %s\n", PQgetvalue(quar, i, 2),
			PQgetvalue(quar, i, 1), PQgetvalue(quar, i, 3));
}

static int
attention(const PGresult *res, const PGresult *quar)
{
	int n = 0;

	for (int i = 0; i < PQntuples(res); i++)
		n += col_i64(res, i, C_GAPS, 0) > 0 || col_i64(res, i, C_BREAKS, 0) > 0 ||
		     col_i64(res, i, C_QUAR, 0) > 0;
	for (int i = 0; i < PQntuples(quar); i++)
		n += PQgetvalue(quar, i, 0)[0] == '\0';	/* no collector: unreadable header */
	return n;
}

static void
emit_json(struct jsonw *jw, const struct loader *l, const PGresult *res,
	  const PGresult *gaps, const PGresult *quar, int64_t now)
{
	jsonw_obj_open(jw);
	jsonw_key(jw, "schema");
	jsonw_str(jw, l->schema);
	jsonw_key(jw, "schema_version");
	jsonw_i64(jw, LD_SCHEMA_VERSION);
	json_collectors(jw, res, now);
	json_lists(jw, gaps, quar);
	jsonw_obj_close(jw);
}

static int
status_central(const struct load_opts *o, bool json, FILE *out, struct jsonw *into,
	       struct pga_err *err)
{
	struct load_opts ro = *o;
	struct loader *l = NULL;
	PGresult *res = NULL, *gaps = NULL, *quar = NULL;
	int64_t now = pga_now_us();
	int rc;

	ro.dry_run = true;	/* read only: no DDL, no catalog upgrade */
	ro.init = false;
	rc = loader_open(&l, &ro, err);
	if (rc == 0)
		rc = query_collectors(l, &res, err);
	if (rc == 0)
		rc = query_lists(l, &gaps, &quar, err);
	if (rc == 0 && into != NULL) {
		jsonw_key(into, "central");
		emit_json(into, l, res, gaps, quar, now);
	} else if (rc == 0 && json) {
		struct jsonw jw;

		jsonw_init(&jw, out);
		emit_json(&jw, l, res, gaps, quar, now);
		jsonw_end(&jw);
	} else if (rc == 0) {
		fprintf(out, "central: schema '%s' (version %d), %d collectors\n", l->schema,
			LD_SCHEMA_VERSION, PQntuples(res));
		text_collectors(out, res, now);
		text_lists(out, gaps, quar);
	}
	if (rc == 0)
		rc = attention(res, quar);
	PQclear(res);
	PQclear(gaps);
	PQclear(quar);
	loader_close(l);
	return rc;
}

int
load_status_central(const struct load_opts *o, bool json, FILE *out, struct pga_err *err)
{
	return status_central(o, json, out, NULL, err);
}

int
load_status_central_jsonw(const struct load_opts *o, struct jsonw *jw, struct pga_err *err)
{
	return status_central(o, true, NULL, jw, err);
}
