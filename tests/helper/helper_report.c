/*
 * report-history: a known history straight into the central tables, for
 * pga report's tests (a small one) and its bench (30 days x 100 databases)
 *
 * usage: report-history CONNINFO DAYS DBS [STEP [TABLES [STATEMENTS [END [METRICS]]]]]
 *
 * The central schema must exist (pga load --init).  One collector
 * ('history') and one server ('prod-db1', db1.example:5432) get a snapshot
 * every STEP seconds (default 60) for DAYS days up to END (default: this
 * minute), DBS databases db1..dbN with TABLES tables each (default 2) and
 * STATEMENTS pg_stat_statements entries (default 50) plus one of pga's own
 * (the busiest: it must never be ranked).  Every value is a formula of the
 * snapshot's index, so a test can compute what a report must show.  The
 * history has:
 *   - a gap: the snapshots of one hour at three quarters of the range are
 *     missing (no row of any metric);
 *   - a reset: at the middle, pg_stat_database counters restart from zero
 *     and stats_reset changes; work_mem changes from 4MB to 64MB;
 *   - per table, a primary key and a duplicate of it that is never scanned.
 * The ledger gets one segment per hour with three missing (a gap there too).
 *
 * Each metric's days are written as plain tables and then ATTACHed, in one
 * transaction per metric: with wal_level = minimal the rows skip WAL and
 * each partition's index is built once, sorted, at ATTACH.  METRICS (a
 * comma-separated list) writes only those, so two helpers can share the
 * work.  Prints what it wrote.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "tests/helper/helper.h"

#define NPARAMS 12

/* snapshots of the range ($3 end, $4 count, $5 step), this day ($9), no gap */
#define SNAPS \
	"WITH s AS (SELECT i, $3::timestamptz - (($4 - 1 - i) * $5) * interval '1 second' AS ts," \
	"  i * $5::float8 AS x FROM generate_series(0, $4 - 1) i)," \
	" d AS (SELECT s.*, CASE WHEN i >= $12 THEN k.v - kr.v ELSE k.v END AS kr," \
	"  CASE WHEN i >= $12 THEN timestamptz '2026-01-01' + $12 * interval '1 second'" \
	"   ELSE timestamptz '2026-01-01' END AS reset_at" \
	"  FROM s, LATERAL (SELECT s.x + 0.5 * 86400 / (2 * pi()) * (1 - cos(2 * pi() * s.x / 86400))" \
	"   AS v) k, LATERAL (SELECT $12 * $5::float8 + 0.5 * 86400 / (2 * pi())" \
	"   * (1 - cos(2 * pi() * $12 * $5::float8 / 86400)) AS v) kr" \
	"  WHERE s.ts >= $9::timestamptz AND s.ts < $9::timestamptz + interval '1 day'" \
	"  AND NOT (s.i >= $10 AND s.i < $11)) "

struct hmetric {
	const char *name;
	const char *cols;	/* after collector_id, server_id, snapshot_time, dbname */
	const char *select;	/* SELECT list and FROM after d */
};

static const struct hmetric metrics[] = {
	{"snapshot_status", "status, blocks, rows, databases, databases_failed, metric_errors,"
	 " values_escaped, metrics_unconverted, duration_s",
	 "NULL, 'complete', 40, 1000, $6, 0, 0, 0, 0, 0.5 FROM d"},
	{"pg_stat_database", "datid, datname, numbackends, xact_commit, xact_rollback, blks_read,"
	 " blks_hit, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, stats_reset",
	 "NULL, 16383 + n, 'db' || n, n % 7, (kr * (10 + n % 13))::bigint, (kr * 0.1)::bigint,"
	 " (kr * 3 * (n % 5 + 1))::bigint, (kr * 200)::bigint, (kr * 1000)::bigint,"
	 " (kr * 400)::bigint, (kr * 5)::bigint, (kr * 3)::bigint, kr::bigint, reset_at"
	 " FROM d, generate_series(1, $6) n"},
	{"pg_database", "datid, datname, size_bytes, datfrozenxid_age, datminmxid_age,"
	 " datconnlimit, datallowconn, datistemplate",
	 "NULL, 16383 + n, 'db' || n, (8000000 + n * 100000 + i * 50 * n)::bigint,"
	 " (i * 3 % 200000000)::int, 10, -1, true, false FROM d, generate_series(1, $6) n"},
	{"pg_stat_wal", "in_recovery, wal_lsn, wal_records, wal_bytes, stats_reset",
	 "NULL, false, (to_hex((x * 20000)::bigint >> 32) || '/' || to_hex((x * 20000)::bigint & 4294967295))::pg_lsn,"
	 " (x * 100)::bigint,"
	 " (x * 20000)::numeric, timestamptz '2026-01-01' FROM d"},
	{"pg_stat_checkpointer", "num_timed, num_requested, write_time, sync_time, buffers_written,"
	 " stats_reset",
	 "NULL, (x / 300)::bigint, (x / 3600)::bigint, x, x / 10, (x * 5)::bigint,"
	 " timestamptz '2026-01-01' FROM d"},
	{"xid_wraparound", "next_xid, oldest_datfrozenxid_age, oldest_datminmxid_age,"
	 " oldest_backend_xmin_age, autovacuum_freeze_max_age, autovacuum_multixact_freeze_max_age",
	 "NULL, (x * 50)::bigint, ((x * 50)::bigint % 150000000)::int, 5, (i % 100)::int,"
	 " 200000000, 400000000 FROM d"},
	{"activity_summary", "datname, usename, backend_type, state, wait_event_type, wait_event,"
	 " backends, max_xact_age, max_query_age, max_state_age",
	 "NULL, 'db1', 'app', 'client backend', st, NULL, NULL, (n0 + i % 5)::int,"
	 " CASE WHEN st <> 'idle' THEN (i % 60)::float8 END, 1, 1"
	 " FROM d, (VALUES ('active', 3), ('idle', 20), ('idle in transaction', 1)) v(st, n0)"},
	{"pg_stat_replication", "pid, usename, application_name, state, replay_lag,"
	 " replay_lag_bytes, sync_state",
	 "NULL, 4242, 'replicator', 'standby1', 'streaming', (i % 30) * 0.1, (i % 30) * 8192,"
	 " 'async' FROM d"},
	{"pg_replication_slots", "slot_name, slot_type, active, retained_wal_bytes",
	 "NULL, 'slot_a', 'physical', true, 16777216 + (i % 100) * 1048576 FROM d"},
	{"pg_stat_user_tables", "relid, schemaname, relname, seq_scan, seq_tup_read, idx_scan,"
	 " idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_del, n_live_tup, n_dead_tup, last_autovacuum,"
	 " autovacuum_count",
	 "'db' || n, 16400 + t, 'public', 'table_' || t, (i * t)::bigint, (i * t * 1000)::bigint,"
	 " (i * 10)::bigint, (i * 10)::bigint, (i * 2)::bigint, i::bigint, 0, 100000 * t,"
	 " (i % 1000) * t, ts - interval '1 hour' * t, i / 600"
	 " FROM d, generate_series(1, $6) n, generate_series(1, $7) t"},
	{"table_sizes", "relid, schemaname, relname, relkind, total_bytes, heap_bytes, toast_bytes,"
	 " indexes_bytes, reltuples, relpages, relfrozenxid_age, relminmxid_age",
	 "'db' || n, 16400 + t, 'public', 'table_' || t, 'r', (1000000 * t * n + i * 100)::bigint,"
	 " 800000 * t, 0, 200000 * t, 100000 * t, 100 * t, ((i * t) % 100000000)::int, 1"
	 " FROM d, generate_series(1, $6) n, generate_series(1, $7) t"},
	/* per table: its primary key (scanned) and a duplicate of it (never) */
	{"pg_stat_user_indexes", "relid, indexrelid, schemaname, relname, indexrelname, idx_scan,"
	 " idx_tup_read, idx_tup_fetch",
	 "'db' || n, 16400 + t, 17000 + 2 * t + j, 'public', 'table_' || t,"
	 " CASE j WHEN 0 THEN 'table_' || t || '_pkey' ELSE 'table_' || t || '_id_idx' END,"
	 " (CASE j WHEN 0 THEN i * 10 ELSE 0 END)::bigint, 0, 0"
	 " FROM d, generate_series(1, $6) n, generate_series(1, $7) t, generate_series(0, 1) j"},
	{"index_sizes", "indexrelid, relid, schemaname, relname, indexrelname, size_bytes,"
	 " indisunique, indisprimary, indisvalid, indexdef",
	 "'db' || n, 17000 + 2 * t + j, 16400 + t, 'public', 'table_' || t,"
	 " CASE j WHEN 0 THEN 'table_' || t || '_pkey' ELSE 'table_' || t || '_id_idx' END,"
	 " 8192 * (100 + t), j = 0, j = 0, true,"
	 " CASE j WHEN 0 THEN 'CREATE UNIQUE INDEX table_' || t || '_pkey ON public.table_' || t"
	 " ELSE 'CREATE INDEX table_' || t || '_id_idx ON public.table_' || t END"
	 " || ' USING btree (id)'"
	 " FROM d, generate_series(1, $6) n, generate_series(1, $7) t, generate_series(0, 1) j"},
	/* entry 0 is pga's own: the busiest, never to be ranked */
	{"pg_stat_statements", "userid, dbid, toplevel, queryid, plans, total_plan_time, calls,"
	 " total_exec_time, rows, shared_blks_hit, shared_blks_read, stats_since",
	 "NULL, 10, 16384 + q % $6, true, 1000000 + q, 0, 0,"
	 " (CASE q WHEN 0 THEN i * 1000 ELSE i * (q % 17 + 1) END)::bigint,"
	 " CASE q WHEN 0 THEN i * 5000.0 ELSE i * (q % 23 + 1) * 0.37 END, (i * q)::bigint,"
	 " (i * q * 3)::bigint, (i * (q % 5))::bigint, timestamptz '2026-01-01'"
	 " FROM d, generate_series(0, $8) q"},
	{"pg_stat_statements_info", "dealloc, stats_reset",
	 "NULL, 0, timestamptz '2026-01-01' FROM d"},
	{"pg_stat_statements_texts", "userid, dbid, toplevel, queryid, query",
	 "NULL, 10, 16384 + q % $6, true, 1000000 + q,"
	 " CASE q WHEN 0 THEN 'COPY /* pga */ (SELECT * FROM pg_stat_database) TO STDOUT'"
	 " ELSE 'SELECT * FROM table_' || q || ' WHERE id = $1' END"
	 " FROM d, generate_series(0, $8) q WHERE i % 60 = 0"},
	{"pg_settings", "name, setting, unit, vartype, source, boot_val, reset_val, pending_restart",
	 "NULL, name, CASE WHEN name = 'work_mem' AND i >= $12 THEN '65536' ELSE setting END,"
	 " unit, 'integer', 'configuration file', setting, setting, false FROM d,"
	 " (VALUES ('work_mem', '4096', 'kB'), ('shared_buffers', '16384', '8kB'),"
	 " ('max_connections', '100', NULL)) v(name, setting, unit) WHERE i % 60 = 0"},
	{"postgres_log", "log_time, user_name, database_name, process_id, session_id,"
	 " session_line_num, error_severity, sql_state_code, message",
	 "NULL, ts - interval '1 second', 'app', 'db1', 4000 + i % 100, 'sess-' || (i % 7),"
	 " i, 'ERROR', CASE WHEN i % 100 = 0 THEN '42P01' ELSE '23505' END,"
	 " CASE WHEN i % 100 = 0 THEN 'relation \"tmp_x\" does not exist'"
	 " ELSE 'duplicate key value violates unique constraint \"table_1_pkey\"' END"
	 " FROM d WHERE i % 10 = 0"},
};

#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

static PGconn *conn;

static int
fail(const char *what, PGresult *r)
{
	fprintf(stderr, "pga-test-helper: report-history: %s: %s", what,
		r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
	PQclear(r);
	return 1;
}

static int
exec(const char *sql, int n, const char *const *p, PGresult **out)
{
	static const Oid types[NPARAMS] = {23, 23, 1184, 23, 23, 23, 23, 23, 1184, 23, 23, 23};
	PGresult *r = PQexecParams(conn, sql, n, n ? types : NULL, p, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		return fail(sql, r);
	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return 0;
}

static int
registry(const char *const *p, char *cid, char *sid, int64_t hours)
{
	char sql[2048];
	PGresult *r = NULL;

	if (exec("INSERT INTO pga.collectors (collector, hostname, writer) VALUES ('history',"
		 " 'collector-host', 'pga 0.1.0') ON CONFLICT DO NOTHING", 0, NULL, NULL) ||
	    exec("INSERT INTO pga.servers (system_identifier, host, port, target, server_version)"
		 " VALUES (7000000000000000042, 'db1.example', 5432, 'prod-db1', 150004)"
		 " ON CONFLICT DO NOTHING", 0, NULL, NULL) ||
	    exec("SELECT (SELECT collector_id FROM pga.collectors WHERE collector = 'history'),"
		 " (SELECT server_id FROM pga.servers WHERE system_identifier = 7000000000000000042)",
		 0, NULL, &r))
		return 1;
	snprintf(cid, 16, "%s", PQgetvalue(r, 0, 0));
	snprintf(sid, 16, "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	/* one segment an hour, three of them missing two hours before the end */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO pga.segments (collector_id, seq, sha256, body_sha256, prev_sha256, name,"
		 " size, created, min_snapshot, max_snapshot, blocks, total_rows, rows, recovered,"
		 " complete) SELECT %s, h, sha256(h::text::bytea), sha256(h::text::bytea),"
		 " sha256((h - 1)::text::bytea), 'history-' || h || '.pga.zst', 1000000,"
		 " '%s'::timestamptz - (%" PRId64 " - h) * interval '1 hour',"
		 " '%s'::timestamptz - (%" PRId64 " - h + 1) * interval '1 hour',"
		 " '%s'::timestamptz - (%" PRId64 " - h) * interval '1 hour', 100, 10000, 10000,"
		 " false, true FROM generate_series(1, %" PRId64 ") h"
		 " WHERE h NOT BETWEEN %" PRId64 " AND %" PRId64 " ON CONFLICT DO NOTHING",
		 cid, p[2], hours, p[2], hours, p[2], hours, hours, hours - 4, hours - 2);
	return exec(sql, 0, NULL, NULL);
}

static bool
wanted(const char *list, const char *name)
{
	size_t n = strlen(name);

	if (list == NULL)
		return true;
	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

/* One day of one metric: a new table, its rows, then ATTACH (or rows into the parent). */
static int
metric_day(const struct hmetric *m, const char **p, time_t day)
{
	char part[96], from[32], to[32], *sql = NULL;
	struct tm tm;
	time_t next = day + 86400;
	PGresult *r = NULL;
	bool exists;
	int rc;

	gmtime_r(&day, &tm);
	strftime(part, sizeof(part), "_p%Y%m%d", &tm);
	strftime(from, sizeof(from), "%Y-%m-%d 00:00:00+00", &tm);
	gmtime_r(&next, &tm);
	strftime(to, sizeof(to), "%Y-%m-%d 00:00:00+00", &tm);
	p[8] = from;
	if (asprintf(&sql, "SELECT to_regclass('pga.%s%s') IS NOT NULL", m->name, part) < 0 ||
	    exec(sql, 0, NULL, &r))
		return 1;
	exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	free(sql);
	sql = NULL;
	if (!exists && (asprintf(&sql, "CREATE TABLE pga.%s%s (LIKE pga.%s INCLUDING DEFAULTS)",
				 m->name, part, m->name) < 0 || exec(sql, 0, NULL, NULL)))
		return 1;
	free(sql);
	sql = NULL;
	/* a day the loader made already takes the rows through the parent */
	if (asprintf(&sql, SNAPS "INSERT INTO pga.%s%s (collector_id, server_id, snapshot_time,"
		     " dbname, %s) SELECT $1, $2, ts, %s", m->name, exists ? "" : part, m->cols,
		     m->select) < 0)
		return 1;
	rc = exec(sql, NPARAMS, p, NULL);
	free(sql);
	sql = NULL;
	if (rc == 0 && !exists) {
		if (asprintf(&sql, "ALTER TABLE pga.%s ATTACH PARTITION pga.%s%s FOR VALUES"
			     " FROM ('%s') TO ('%s')", m->name, m->name, part, from, to) < 0)
			return 1;
		rc = exec(sql, 0, NULL, NULL);
		free(sql);
	}
	return rc;
}

int
helper_report_history(int argc, char **argv)
{
	char cid[16] = "", sid[16] = "", end[64], n[24], step[16], dbs[16], tabs[16], stmts[16];
	char gap_from[24], gap_to[24], reset[24];
	const char *p[NPARAMS] = {cid, sid, end, n, step, dbs, tabs, stmts, NULL, gap_from, gap_to,
				  reset};
	int64_t days, nsnap, st;
	PGresult *r = NULL;
	time_t t_end, first;
	int rc = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: report-history CONNINFO DAYS DBS [STEP [TABLES [STATEMENTS"
			" [END [METRICS]]]]]\n");
		return 64;
	}
	days = strtoll(argv[2], NULL, 10);
	st = argc > 4 ? strtoll(argv[4], NULL, 10) : 60;
	nsnap = days * 86400 / st;
	snprintf(n, sizeof(n), "%" PRId64, nsnap);
	snprintf(step, sizeof(step), "%" PRId64, st);
	snprintf(dbs, sizeof(dbs), "%s", argv[3]);
	snprintf(tabs, sizeof(tabs), "%s", argc > 5 ? argv[5] : "2");
	snprintf(stmts, sizeof(stmts), "%s", argc > 6 ? argv[6] : "50");
	snprintf(gap_from, sizeof(gap_from), "%" PRId64, nsnap * 3 / 4);
	snprintf(gap_to, sizeof(gap_to), "%" PRId64, nsnap * 3 / 4 + 3600 / st);
	snprintf(reset, sizeof(reset), "%" PRId64, nsnap / 2);
	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK)
		return fail("connect", NULL);
	/* END, or this minute */
	r = PQexecParams(conn, "SELECT coalesce(nullif($1, '')::timestamptz, date_trunc('minute',"
			 " now())), extract(epoch FROM coalesce(nullif($1, '')::timestamptz,"
			 " date_trunc('minute', now())))::bigint", 1, NULL,
			 (const char *const[]){argc > 7 ? argv[7] : ""}, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fail("END", r);
		PQfinish(conn);
		return 1;
	}
	snprintf(end, sizeof(end), "%s", PQgetvalue(r, 0, 0));
	t_end = (time_t)strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	first = t_end - (time_t)((nsnap - 1) * st);
	rc = registry(p, cid, sid, days * 24);
	for (size_t i = 0; rc == 0 && i < NMETRICS; i++) {
		if (!wanted(argc > 8 && *argv[8] ? argv[8] : NULL, metrics[i].name))
			continue;
		rc = exec("BEGIN", 0, NULL, NULL);
		for (time_t d = first - first % 86400; rc == 0 && d <= t_end; d += 86400)
			rc = metric_day(&metrics[i], p, d);
		if (rc == 0)
			rc = exec("COMMIT", 0, NULL, NULL);
	}
	if (rc == 0)
		printf("history: collector %s server %s, %" PRId64 " snapshots every %" PRId64
		       " s up to %s, %s databases\n", cid, sid, nsnap, st, end, dbs);
	PQfinish(conn);
	return rc;
}
