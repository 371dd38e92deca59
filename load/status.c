/*
 * status.c - the central side as `pga status --central` shows it
 *
 * Per collector: last snapshot time and lag, segments and rows loaded,
 * segments loaded in part (a --since/--until window), gaps (missing
 * sequence numbers between 1 and the newest loaded: reported until the
 * missing segments arrive), chain breaks (a header whose previous-segment
 * hash does not match the ledger's segment before it), unresolved
 * refusals (quarantine: whole segments and single blocks), held forks and
 * the blocks refused inside loaded segments.  Then the lists: gaps, forks
 * (each held version beside the loaded one at its seq: hashes, names,
 * hosts) and refusals (segment, block, metric, SQLSTATE, reason).
 * Everything is computed from the ledger at query time; nothing here
 * writes.  Strings from headers and messages are escaped: a collector id
 * or host name is attacker-controlled text until proven otherwise.
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/jsonw.h"
#include "common/log.h"
#include "common/units.h"
#include "common/utf8.h"

#define STATUS_LIST_MAX 20

static int64_t
col_i64(const PGresult *res, int row, int col, int64_t dflt)
{
	return PQgetisnull(res, row, col) ? dflt : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Only these go into the array literal below (segment names are made of them). */
static bool
literal_safe(const char *s)
{
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") ==
	       strlen(s);
}

/* {"a","b"}: the values are segment names and ids, nothing to escape */
static void
sb_array(struct dynbuf *b, const char *const *v, size_t n)
{
	dynbuf_addf(b, "'{");
	for (size_t i = 0; i < n; i++)
		dynbuf_addf(b, "%s\"%s\"", i ? "," : "", v[i]);
	dynbuf_addf(b, "}'");
}

int
loader_known(struct loader *l, const char *const *names, size_t n, bool *known,
	     struct pga_err *err)
{
	const char **coll = calloc(n ? n : 1, sizeof(*coll)), **seqs = calloc(n ? n : 1, sizeof(*seqs));
	const char **ok = calloc(n ? n : 1, sizeof(*ok));
	char (*cbuf)[66] = calloc(n ? n : 1, 66), (*sbuf)[24] = calloc(n ? n : 1, 24);
	struct dynbuf b = DYNBUF_INIT(LD_TEXT_MAX);
	PGresult *res = NULL;
	size_t m = 0;
	int rc = 0;

	if (coll == NULL || seqs == NULL || ok == NULL || cbuf == NULL || sbuf == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		uint64_t seq;

		known[i] = false;
		if (seg_name_parse(names[i], cbuf[m], sizeof(cbuf[m]), &seq, NULL) != 0 ||
		    !literal_safe(names[i]))
			continue;
		snprintf(sbuf[m], sizeof(sbuf[m]), "%" PRIu64, seq);
		coll[m] = cbuf[m];
		seqs[m] = sbuf[m];
		ok[m++] = names[i];
	}
	dynbuf_addf(&b, "SELECT u.name FROM unnest(");
	sb_array(&b, coll, m);
	dynbuf_addf(&b, "::text[], ");
	sb_array(&b, seqs, m);
	dynbuf_addf(&b, "::bigint[], ");
	sb_array(&b, ok, m);
	dynbuf_addf(&b, "::text[]) WITH ORDINALITY AS u(collector, seq, name, i) JOIN %s.collectors c"
		  " USING (collector) JOIN %s.segments s ON s.collector_id = c.collector_id"
		  " AND s.seq = u.seq WHERE s.complete AND s.name = u.name ORDER BY u.i",
		  l->qschema, l->qschema);
	if (rc == 0 && m > 0) {
		rc = dynbuf_check(&b, "status query", err);
		if (rc == 0)
			rc = ld_exec(l, dynbuf_str(&b), 0, NULL, &res, err);
	}
	/* both lists are in the source's order: walk them together */
	for (int r = 0, i = 0; rc == 0 && res != NULL && r < PQntuples(res); r++)
		for (; i < (int)n; i++)
			if (strcmp(names[i], PQgetvalue(res, r, 0)) == 0) {
				known[i] = true;
				break;
			}
	PQclear(res);
	dynbuf_free(&b);
	free(coll);
	free(seqs);
	free(ok);
	free(cbuf);
	free(sbuf);
	return rc;
}

int
loader_ledger_summary(struct loader *l, struct load_ledger_collector **out, size_t *n,
		      struct pga_err *err)
{
	char sql[512];
	PGresult *res = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	snprintf(sql, sizeof(sql), "SELECT c.collector, count(*), coalesce(sum(s.rows), 0),"
		 " count(*) FILTER (WHERE NOT s.complete) FROM %s.segments s JOIN %s.collectors c"
		 " USING (collector_id) GROUP BY 1 ORDER BY 1", l->qschema, l->qschema);
	rc = ld_exec(l, sql, 0, NULL, &res, err);
	if (rc == 0 && PQntuples(res) > 0) {
		*out = calloc((size_t)PQntuples(res), sizeof(**out));
		if (*out == NULL)
			rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		struct load_ledger_collector *c = &(*out)[i];

		strlcpy(c->collector, PQgetvalue(res, i, 0), sizeof(c->collector));
		c->segments = (uint64_t)col_i64(res, i, 1, 0);
		c->rows = (uint64_t)col_i64(res, i, 2, 0);
		c->partial = (uint64_t)col_i64(res, i, 3, 0);
		(*n)++;
	}
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

/*
 * Every string shown here may have come from a segment header or a
 * server message: escaped (control characters, ANSI escapes, bytes that
 * are not UTF-8), in text and in JSON alike.
 */
#define SAFE_MAX 2048

struct safe {
	char s[SAFE_MAX];
};

static const char *
safe(struct safe *b, const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	utf8_escape_text(PQgetvalue(res, row, col), b->s, sizeof(b->s));
	return b->s;
}

static void
json_safe(struct jsonw *jw, const char *key, const PGresult *res, int row, int col)
{
	struct safe b;

	jsonw_key(jw, key);
	jsonw_str(jw, safe(&b, res, row, col));
}

enum {
	C_NAME, C_HOST, C_WRITER, C_FIRST, C_LOADED, C_LAST_SEQ, C_LAST_SNAP, C_SEGS,
	C_PARTIAL, C_ROWS, C_GAPS, C_MISSING, C_BREAKS, C_QUAR, C_HELD, C_BREFUSED,
	C_RREFUSED, C_NCOLS
};

static int
query_collectors(struct loader *l, PGresult **res, struct pga_err *err)
{
	char sql[3072];
	const char *s = l->qschema;

	snprintf(sql, sizeof(sql),
		 "SELECT c.collector, c.hostname, c.writer, " US("c.first_seen") ", " US("c.last_seen") ","
		 " c.last_seq, " US("g.last_snapshot") ", coalesce(g.segments, 0),"
		 " coalesce(g.partial, 0), coalesce(g.rows, 0),"
		 " (SELECT count(*) FROM %s.gaps x WHERE x.collector_id = c.collector_id),"
		 " (SELECT coalesce(sum(missing), 0) FROM %s.gaps x WHERE x.collector_id = c.collector_id),"
		 " (SELECT count(*) FROM %s.chain_breaks x WHERE x.collector_id = c.collector_id),"
		 " (SELECT count(*) FROM %s.quarantine q WHERE q.collector = c.collector"
		 "  AND q.resolved_at IS NULL),"
		 " (SELECT count(*) FROM %s.held_segments h WHERE h.collector = c.collector"
		 "  AND h.resolved_at IS NULL),"
		 " coalesce(g.blocks_refused, 0), coalesce(g.rows_refused, 0)"
		 " FROM %s.collectors c LEFT JOIN (SELECT collector_id, max(max_snapshot) AS last_snapshot,"
		 "  count(*) AS segments, count(*) FILTER (WHERE NOT complete) AS partial,"
		 "  sum(rows) AS rows, sum(blocks_refused) AS blocks_refused,"
		 "  sum(rows_refused) AS rows_refused FROM %s.segments GROUP BY collector_id) g"
		 " USING (collector_id) ORDER BY c.collector", s, s, s, s, s, s, s);
	return ld_exec(l, sql, 0, NULL, res, err);
}

struct lists {
	PGresult *gaps, *quar, *forks;
	int64_t quar_total;
};

enum { Q_COLLECTOR, Q_NAME, Q_KIND, Q_ERROR, Q_TIMES, Q_LAST, Q_SEQ, Q_BLOCK, Q_METRIC,
       Q_SQLSTATE, Q_ROWS, Q_TOTAL };

enum { F_COLLECTOR, F_SEQ, F_SHA, F_PREV, F_NAME, F_HOST, F_WRITER, F_REASON, F_DETAIL,
       F_TIMES, F_FIRST, F_LSHA, F_LNAME, F_LHOST };

static int
query_lists(struct loader *l, struct lists *ls, struct pga_err *err)
{
	char sql[2048];
	const char *s = l->qschema;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT collector, from_seq, to_seq FROM %s.gaps"
		 " ORDER BY collector, from_seq LIMIT %d", s, STATUS_LIST_MAX);
	rc = ld_exec(l, sql, 0, NULL, &ls->gaps, err);
	if (rc < 0)
		return rc;
	snprintf(sql, sizeof(sql), "SELECT coalesce(collector, ''), name, kind, error, times,"
		 " " US("last_seen") ", seq, block, metric, sqlstate, rows, count(*) OVER ()"
		 " FROM %s.quarantine WHERE resolved_at IS NULL"
		 " ORDER BY last_seen DESC, name, block LIMIT %d", s, STATUS_LIST_MAX);
	rc = ld_exec(l, sql, 0, NULL, &ls->quar, err);
	if (rc < 0)
		return rc;
	ls->quar_total = PQntuples(ls->quar) > 0 ? col_i64(ls->quar, 0, Q_TOTAL, 0) : 0;
	snprintf(sql, sizeof(sql), "SELECT h.collector, h.seq, encode(h.sha256, 'hex'),"
		 " encode(h.prev_sha256, 'hex'), h.name, h.hostname, h.writer, h.reason, h.detail,"
		 " h.times, " US("h.first_seen") ", encode(x.sha256, 'hex'), x.name, x.hostname"
		 " FROM %s.held_segments h LEFT JOIN %s.collectors c ON c.collector = h.collector"
		 " LEFT JOIN %s.segments x ON x.collector_id = c.collector_id AND x.seq = h.seq"
		 " WHERE h.resolved_at IS NULL ORDER BY h.collector, h.seq, h.first_seen LIMIT %d",
		 s, s, s, STATUS_LIST_MAX);
	return ld_exec(l, sql, 0, NULL, &ls->forks, err);
}

static void
lists_free(struct lists *ls)
{
	PQclear(ls->gaps);
	PQclear(ls->quar);
	PQclear(ls->forks);
}

static void
json_collectors(struct jsonw *jw, const PGresult *res, int64_t now)
{
	jsonw_key(jw, "collectors");
	jsonw_arr_open(jw);
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t last = col_i64(res, i, C_LAST_SNAP, INT64_MIN);

		jsonw_obj_open(jw);
		json_safe(jw, "collector", res, i, C_NAME);
		json_safe(jw, "hostname", res, i, C_HOST);
		json_safe(jw, "writer", res, i, C_WRITER);
		jsonw_key(jw, "first_seen");
		jsonw_time(jw, col_i64(res, i, C_FIRST, INT64_MIN));
		jsonw_key(jw, "last_loaded");
		jsonw_time(jw, col_i64(res, i, C_LOADED, INT64_MIN));
		jsonw_key(jw, "last_seq");
		jsonw_i64(jw, col_i64(res, i, C_LAST_SEQ, 0));
		jsonw_key(jw, "last_snapshot");
		jsonw_time(jw, last);
		jsonw_key(jw, "lag_seconds");
		if (last == INT64_MIN)
			jsonw_null(jw);
		else
			jsonw_seconds(jw, now - last);
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
		jsonw_key(jw, "held");
		jsonw_i64(jw, col_i64(res, i, C_HELD, 0));
		jsonw_key(jw, "blocks_refused");
		jsonw_i64(jw, col_i64(res, i, C_BREFUSED, 0));
		jsonw_key(jw, "rows_refused");
		jsonw_i64(jw, col_i64(res, i, C_RREFUSED, 0));
		jsonw_obj_close(jw);
	}
	jsonw_arr_close(jw);
}

static void
json_i64_or_null(struct jsonw *jw, const char *key, const PGresult *res, int row, int col)
{
	jsonw_key(jw, key);
	if (PQgetisnull(res, row, col))
		jsonw_null(jw);
	else
		jsonw_i64(jw, col_i64(res, row, col, 0));
}

static void
json_quarantine(struct jsonw *jw, const struct lists *ls)
{
	const PGresult *q = ls->quar;

	jsonw_key(jw, "quarantine_total");
	jsonw_i64(jw, ls->quar_total);
	jsonw_key(jw, "quarantine");
	jsonw_arr_open(jw);
	for (int i = 0; i < PQntuples(q); i++) {
		jsonw_obj_open(jw);
		json_safe(jw, "collector", q, i, Q_COLLECTOR);
		json_safe(jw, "segment", q, i, Q_NAME);
		json_i64_or_null(jw, "seq", q, i, Q_SEQ);
		json_safe(jw, "kind", q, i, Q_KIND);
		json_i64_or_null(jw, "block", q, i, Q_BLOCK);
		json_safe(jw, "metric", q, i, Q_METRIC);
		json_safe(jw, "sqlstate", q, i, Q_SQLSTATE);
		json_i64_or_null(jw, "rows", q, i, Q_ROWS);
		json_safe(jw, "error", q, i, Q_ERROR);
		jsonw_key(jw, "times");
		jsonw_i64(jw, col_i64(q, i, Q_TIMES, 0));
		jsonw_key(jw, "last_seen");
		jsonw_time(jw, col_i64(q, i, Q_LAST, INT64_MIN));
		jsonw_obj_close(jw);
	}
	jsonw_arr_close(jw);
}

static void
json_forks(struct jsonw *jw, const PGresult *f)
{
	jsonw_key(jw, "forks");
	jsonw_arr_open(jw);
	for (int i = 0; i < PQntuples(f); i++) {
		jsonw_obj_open(jw);
		json_safe(jw, "collector", f, i, F_COLLECTOR);
		json_i64_or_null(jw, "seq", f, i, F_SEQ);
		jsonw_key(jw, "loaded");
		if (PQgetisnull(f, i, F_LSHA)) {
			jsonw_null(jw);
		} else {
			jsonw_obj_open(jw);
			json_safe(jw, "sha256", f, i, F_LSHA);
			json_safe(jw, "segment", f, i, F_LNAME);
			json_safe(jw, "hostname", f, i, F_LHOST);
			jsonw_obj_close(jw);
		}
		jsonw_key(jw, "held");
		jsonw_obj_open(jw);
		json_safe(jw, "sha256", f, i, F_SHA);
		json_safe(jw, "prev_sha256", f, i, F_PREV);
		json_safe(jw, "segment", f, i, F_NAME);
		json_safe(jw, "hostname", f, i, F_HOST);
		json_safe(jw, "writer", f, i, F_WRITER);
		json_safe(jw, "reason", f, i, F_REASON);
		json_safe(jw, "detail", f, i, F_DETAIL);
		jsonw_key(jw, "times");
		jsonw_i64(jw, col_i64(f, i, F_TIMES, 0));
		jsonw_key(jw, "first_seen");
		jsonw_time(jw, col_i64(f, i, F_FIRST, INT64_MIN));
		jsonw_obj_close(jw);
		jsonw_obj_close(jw);
	}
	jsonw_arr_close(jw);
}

static void
json_lists(struct jsonw *jw, const struct lists *ls)
{
	const PGresult *gaps = ls->gaps;

	jsonw_key(jw, "gaps");
	jsonw_arr_open(jw);
	for (int i = 0; i < PQntuples(gaps); i++) {
		jsonw_obj_open(jw);
		json_safe(jw, "collector", gaps, i, 0);
		jsonw_key(jw, "from_seq");
		jsonw_i64(jw, col_i64(gaps, i, 1, 0));
		jsonw_key(jw, "to_seq");
		jsonw_i64(jw, col_i64(gaps, i, 2, 0));
		jsonw_obj_close(jw);
	}
	jsonw_arr_close(jw);
	json_forks(jw, ls->forks);
	json_quarantine(jw, ls);
}

static void
text_collectors(FILE *out, const PGresult *res, int64_t now)
{
	fprintf(out, "%-20s %-21s %8s %9s %12s %6s %8s %6s %6s %5s %8s\n", "COLLECTOR",
		"LAST SNAPSHOT", "LAG", "SEGMENTS", "ROWS", "GAPS", "MISSING", "CHAIN", "QUAR",
		"HELD", "REFUSED");
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t last = col_i64(res, i, C_LAST_SNAP, INT64_MIN);
		char ts[40] = "-", lag[16] = "-";
		struct safe name;

		if (last != INT64_MIN) {
			pga_format_time(last - last % PGA_USEC_PER_SEC, ts, sizeof(ts));
			pga_format_duration(now > last ? now - last : 0, lag, sizeof(lag));
		}
		fprintf(out, "%-20s %-21s %8s %9s %12s %6s %8s %6s %6s %5s %8s\n",
			safe(&name, res, i, C_NAME), ts, lag, PQgetvalue(res, i, C_SEGS),
			PQgetvalue(res, i, C_ROWS), PQgetvalue(res, i, C_GAPS),
			PQgetvalue(res, i, C_MISSING), PQgetvalue(res, i, C_BREAKS),
			PQgetvalue(res, i, C_QUAR), PQgetvalue(res, i, C_HELD),
			PQgetvalue(res, i, C_BREFUSED));
	}
}

static void
text_forks(FILE *out, const PGresult *f)
{
	for (int i = 0; i < PQntuples(f); i++) {
		struct safe c, n, h, ln, lh, d;

		fprintf(out, "fork: collector '%s' seq %s: held '%s' sha256 %.16s... (host '%s',"
			" %s): %s\n", safe(&c, f, i, F_COLLECTOR), PQgetvalue(f, i, F_SEQ),
			safe(&n, f, i, F_NAME), PQgetvalue(f, i, F_SHA),
			PQgetisnull(f, i, F_HOST) ? "" : safe(&h, f, i, F_HOST),
			PQgetvalue(f, i, F_REASON), safe(&d, f, i, F_DETAIL));
		if (!PQgetisnull(f, i, F_LSHA))
			fprintf(out, "      loaded at that seq: '%s' sha256 %.16s... (host '%s')\n",
				safe(&ln, f, i, F_LNAME), PQgetvalue(f, i, F_LSHA),
				PQgetisnull(f, i, F_LHOST) ? "" : safe(&lh, f, i, F_LHOST));
	}
	if (PQntuples(f) > 0)
		fprintf(out, "      decide with: pga load --resolve-fork COLLECTOR:SEQ --keep SHA256-PREFIX\n");
}

static void
text_lists(FILE *out, const struct lists *ls)
{
	const PGresult *gaps = ls->gaps, *q = ls->quar;

	for (int i = 0; i < PQntuples(gaps); i++) {
		struct safe c;

		fprintf(out, "gap: collector '%s' segments %s to %s missing\n", safe(&c, gaps, i, 0),
			PQgetvalue(gaps, i, 1), PQgetvalue(gaps, i, 2));
	}
	text_forks(out, ls->forks);
	for (int i = 0; i < PQntuples(q); i++) {
		struct safe n, m, e;

		if (PQgetisnull(q, i, Q_BLOCK))
			fprintf(out, "quarantined (%s): '%s': %s\n", PQgetvalue(q, i, Q_KIND),
				safe(&n, q, i, Q_NAME), safe(&e, q, i, Q_ERROR));
		else
			fprintf(out, "refused (%s): '%s' block %s metric '%s'%s%s%s%s: %s\n",
				PQgetvalue(q, i, Q_KIND), safe(&n, q, i, Q_NAME),
				PQgetvalue(q, i, Q_BLOCK), safe(&m, q, i, Q_METRIC),
				PQgetisnull(q, i, Q_SQLSTATE) ? "" : " SQLSTATE ",
				PQgetisnull(q, i, Q_SQLSTATE) ? "" : PQgetvalue(q, i, Q_SQLSTATE),
				PQgetisnull(q, i, Q_ROWS) ? "" : ", rows ",
				PQgetisnull(q, i, Q_ROWS) ? "" : PQgetvalue(q, i, Q_ROWS),
				safe(&e, q, i, Q_ERROR));
	}
	if (ls->quar_total > PQntuples(q))
		fprintf(out, "... and %" PRId64 " more unresolved refusals (SELECT * FROM quarantine"
			" WHERE resolved_at IS NULL)\n", ls->quar_total - PQntuples(q));
}

static int
attention(const PGresult *res, const PGresult *quar)
{
	int n = 0;

	for (int i = 0; i < PQntuples(res); i++)
		n += col_i64(res, i, C_GAPS, 0) > 0 || col_i64(res, i, C_BREAKS, 0) > 0 ||
		     col_i64(res, i, C_QUAR, 0) > 0 || col_i64(res, i, C_HELD, 0) > 0;
	for (int i = 0; i < PQntuples(quar); i++)
		n += PQgetvalue(quar, i, 0)[0] == '\0';	/* no collector: unreadable header */
	return n;
}

static void
emit_json(struct jsonw *jw, const struct loader *l, const PGresult *res,
	  const struct lists *ls, int64_t now)
{
	struct safe schema;

	jsonw_obj_open(jw);
	jsonw_key(jw, "schema");
	utf8_escape_text(l->schema, schema.s, sizeof(schema.s));
	jsonw_str(jw, schema.s);
	jsonw_key(jw, "schema_version");
	jsonw_i64(jw, LD_SCHEMA_VERSION);
	json_collectors(jw, res, now);
	json_lists(jw, ls);
	jsonw_obj_close(jw);
}

static int
status_central(const struct load_opts *o, bool json, FILE *out, struct jsonw *into,
	       struct pga_err *err)
{
	struct load_opts ro = *o;
	struct loader *l = NULL;
	PGresult *res = NULL;
	struct lists ls = {0};
	struct safe schema;
	int64_t now = pga_now_us();
	int rc;

	ro.dry_run = true;	/* read only: no DDL, no catalog upgrade */
	ro.init = false;
	rc = loader_open(&l, &ro, err);
	if (rc == 0)
		rc = query_collectors(l, &res, err);
	if (rc == 0)
		rc = query_lists(l, &ls, err);
	if (rc == 0 && into != NULL) {
		jsonw_key(into, "central");
		emit_json(into, l, res, &ls, now);
	} else if (rc == 0 && json) {
		struct jsonw jw;

		jsonw_init(&jw, out);
		emit_json(&jw, l, res, &ls, now);
		jsonw_end(&jw);
	} else if (rc == 0) {
		utf8_escape_text(l->schema, schema.s, sizeof(schema.s));
		fprintf(out, "central: schema '%s' (version %d), %d collectors\n", schema.s,
			LD_SCHEMA_VERSION, PQntuples(res));
		text_collectors(out, res, now);
		text_lists(out, &ls);
	}
	if (rc == 0)
		rc = attention(res, ls.quar);
	PQclear(res);
	lists_free(&ls);
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

int
load_central_health(const struct load_opts *o, struct load_collector_health **out,
		    size_t *n, int64_t *orphans, struct pga_err *err)
{
	char sql[256];
	PGresult *q = NULL;
	struct load_opts ro = *o;
	struct load_collector_health *v = NULL;
	struct loader *l = NULL;
	PGresult *res = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	*orphans = 0;
	ro.dry_run = true;	/* read only: no DDL, no catalog upgrade */
	ro.init = false;
	rc = loader_open(&l, &ro, err);
	if (rc == 0)
		rc = query_collectors(l, &res, err);
	if (rc == 0) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.quarantine"
			 " WHERE resolved_at IS NULL AND collector IS NULL", l->qschema);
		rc = ld_exec(l, sql, 0, NULL, &q, err);
	}
	if (rc == 0)
		*orphans = col_i64(q, 0, 0, 0);
	PQclear(q);
	if (rc == 0 && (v = calloc((size_t)PQntuples(res) + 1, sizeof(*v))) == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		struct load_collector_health *h = &v[i];

		strlcpy(h->collector, PQgetvalue(res, i, C_NAME), sizeof(h->collector));
		h->last_snapshot_us = col_i64(res, i, C_LAST_SNAP, 0);
		h->segments = col_i64(res, i, C_SEGS, 0);
		h->gaps = col_i64(res, i, C_GAPS, 0);
		h->missing = col_i64(res, i, C_MISSING, 0);
		h->chain_breaks = col_i64(res, i, C_BREAKS, 0);
		h->quarantined = col_i64(res, i, C_QUAR, 0);
		h->held = col_i64(res, i, C_HELD, 0);
		h->blocks_refused = col_i64(res, i, C_BREFUSED, 0);
	}
	if (rc == 0) {
		*out = v;
		*n = (size_t)PQntuples(res);
		v = NULL;
	}
	free(v);
	PQclear(res);
	loader_close(l);
	return rc;
}
