/*
 * catalog.c - the metric catalog: one entry per metric, SQL per version range
 *
 * Conventions every entry follows (the catalog test checks them against
 * real 12..18 servers):
 *   - the SELECT yields exactly the canonical columns, in order, with
 *     explicit names and casts; a column a version lacks is NULL::type;
 *   - xid columns go through age() or ::text (xid has no cast to bigint);
 *   - per-database metrics do not repeat datname: the block header has it;
 *   - version ranges are [min, max] on server_version_num, contiguous, and
 *     the newest range is open-ended (max 0).
 */
#include "collect/catalog.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define COLS(a) a, N(a)
#define SQLS(a) a, N(a)

#define K COL_KEY
#define C COL_COUNTER
#define G COL_GAUGE
#define I COL_INFO

/* ---- pg_stat_database (+ pg_stat_database_conflicts) ---- */

static const struct metric_col stat_database_cols[] = {
	{"datid", "oid", K}, {"datname", "text", I},
	{"numbackends", "integer", G},
	{"xact_commit", "bigint", C}, {"xact_rollback", "bigint", C},
	{"blks_read", "bigint", C}, {"blks_hit", "bigint", C},
	{"tup_returned", "bigint", C}, {"tup_fetched", "bigint", C},
	{"tup_inserted", "bigint", C}, {"tup_updated", "bigint", C},
	{"tup_deleted", "bigint", C}, {"conflicts", "bigint", C},
	{"temp_files", "bigint", C}, {"temp_bytes", "bigint", C},
	{"deadlocks", "bigint", C}, {"checksum_failures", "bigint", C},
	{"checksum_last_failure", "timestamptz", I},
	{"blk_read_time", "double precision", C},
	{"blk_write_time", "double precision", C},
	{"session_time", "double precision", C},
	{"active_time", "double precision", C},
	{"idle_in_transaction_time", "double precision", C},
	{"sessions", "bigint", C}, {"sessions_abandoned", "bigint", C},
	{"sessions_fatal", "bigint", C}, {"sessions_killed", "bigint", C},
	{"parallel_workers_to_launch", "bigint", C},
	{"parallel_workers_launched", "bigint", C},
	{"confl_tablespace", "bigint", C}, {"confl_lock", "bigint", C},
	{"confl_snapshot", "bigint", C}, {"confl_bufferpin", "bigint", C},
	{"confl_deadlock", "bigint", C},
	{"confl_active_logicalslot", "bigint", C},
	{"stats_reset", "timestamptz", I},
};

#define DB_12 \
	"SELECT d.datid, d.datname, d.numbackends, d.xact_commit, d.xact_rollback," \
	" d.blks_read, d.blks_hit, d.tup_returned, d.tup_fetched, d.tup_inserted," \
	" d.tup_updated, d.tup_deleted, d.conflicts, d.temp_files, d.temp_bytes," \
	" d.deadlocks, d.checksum_failures, d.checksum_last_failure," \
	" d.blk_read_time, d.blk_write_time,"
#define DB_NO_SESSIONS \
	" NULL::float8, NULL::float8, NULL::float8," \
	" NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,"
#define DB_SESSIONS \
	" d.session_time, d.active_time, d.idle_in_transaction_time," \
	" d.sessions, d.sessions_abandoned, d.sessions_fatal, d.sessions_killed,"
#define DB_CONFL \
	" c.confl_tablespace, c.confl_lock, c.confl_snapshot, c.confl_bufferpin," \
	" c.confl_deadlock,"
#define DB_FROM \
	" d.stats_reset FROM pg_stat_database d" \
	" LEFT JOIN pg_stat_database_conflicts c ON c.datid = d.datid ORDER BY d.datid"

static const struct metric_sql stat_database_sql[] = {
	{120000, 139999, DB_12 DB_NO_SESSIONS " NULL::bigint, NULL::bigint,"
	 DB_CONFL " NULL::bigint," DB_FROM},
	{140000, 159999, DB_12 DB_SESSIONS " NULL::bigint, NULL::bigint,"
	 DB_CONFL " NULL::bigint," DB_FROM},
	{160000, 179999, DB_12 DB_SESSIONS " NULL::bigint, NULL::bigint,"
	 DB_CONFL " c.confl_active_logicalslot," DB_FROM},
	{180000, 0, DB_12 DB_SESSIONS
	 " d.parallel_workers_to_launch, d.parallel_workers_launched,"
	 DB_CONFL " c.confl_active_logicalslot," DB_FROM},
};

/* ---- pg_stat_user_tables (per database) ---- */

static const struct metric_col stat_user_tables_cols[] = {
	{"relid", "oid", K}, {"schemaname", "text", I}, {"relname", "text", I},
	{"seq_scan", "bigint", C}, {"last_seq_scan", "timestamptz", I},
	{"seq_tup_read", "bigint", C}, {"idx_scan", "bigint", C},
	{"last_idx_scan", "timestamptz", I}, {"idx_tup_fetch", "bigint", C},
	{"n_tup_ins", "bigint", C}, {"n_tup_upd", "bigint", C},
	{"n_tup_del", "bigint", C}, {"n_tup_hot_upd", "bigint", C},
	{"n_tup_newpage_upd", "bigint", C},
	{"n_live_tup", "bigint", G}, {"n_dead_tup", "bigint", G},
	{"n_mod_since_analyze", "bigint", G},
	{"n_ins_since_vacuum", "bigint", G},
	{"last_vacuum", "timestamptz", I}, {"last_autovacuum", "timestamptz", I},
	{"last_analyze", "timestamptz", I},
	{"last_autoanalyze", "timestamptz", I},
	{"vacuum_count", "bigint", C}, {"autovacuum_count", "bigint", C},
	{"analyze_count", "bigint", C}, {"autoanalyze_count", "bigint", C},
	{"total_vacuum_time", "double precision", C},
	{"total_autovacuum_time", "double precision", C},
	{"total_analyze_time", "double precision", C},
	{"total_autoanalyze_time", "double precision", C},
};

#define TAB_TAIL \
	" last_vacuum, last_autovacuum, last_analyze, last_autoanalyze," \
	" vacuum_count, autovacuum_count, analyze_count, autoanalyze_count,"
#define TAB_FROM " FROM pg_stat_user_tables ORDER BY relid"

static const struct metric_sql stat_user_tables_sql[] = {
	{120000, 129999,
	 "SELECT relid, schemaname, relname, seq_scan, NULL::timestamptz,"
	 " seq_tup_read, idx_scan, NULL::timestamptz, idx_tup_fetch, n_tup_ins,"
	 " n_tup_upd, n_tup_del, n_tup_hot_upd, NULL::bigint, n_live_tup,"
	 " n_dead_tup, n_mod_since_analyze, NULL::bigint," TAB_TAIL
	 " NULL::float8, NULL::float8, NULL::float8, NULL::float8" TAB_FROM},
	{130000, 159999,
	 "SELECT relid, schemaname, relname, seq_scan, NULL::timestamptz,"
	 " seq_tup_read, idx_scan, NULL::timestamptz, idx_tup_fetch, n_tup_ins,"
	 " n_tup_upd, n_tup_del, n_tup_hot_upd, NULL::bigint, n_live_tup,"
	 " n_dead_tup, n_mod_since_analyze, n_ins_since_vacuum," TAB_TAIL
	 " NULL::float8, NULL::float8, NULL::float8, NULL::float8" TAB_FROM},
	{160000, 179999,
	 "SELECT relid, schemaname, relname, seq_scan, last_seq_scan,"
	 " seq_tup_read, idx_scan, last_idx_scan, idx_tup_fetch, n_tup_ins,"
	 " n_tup_upd, n_tup_del, n_tup_hot_upd, n_tup_newpage_upd, n_live_tup,"
	 " n_dead_tup, n_mod_since_analyze, n_ins_since_vacuum," TAB_TAIL
	 " NULL::float8, NULL::float8, NULL::float8, NULL::float8" TAB_FROM},
	{180000, 0,
	 "SELECT relid, schemaname, relname, seq_scan, last_seq_scan,"
	 " seq_tup_read, idx_scan, last_idx_scan, idx_tup_fetch, n_tup_ins,"
	 " n_tup_upd, n_tup_del, n_tup_hot_upd, n_tup_newpage_upd, n_live_tup,"
	 " n_dead_tup, n_mod_since_analyze, n_ins_since_vacuum," TAB_TAIL
	 " total_vacuum_time, total_autovacuum_time, total_analyze_time,"
	 " total_autoanalyze_time" TAB_FROM},
};

/* ---- the catalog ---- */

static const struct metric_def catalog[] = {
	{"pg_stat_database", METRIC_CLUSTER, METRIC_SQL, COLS(stat_database_cols),
	 SQLS(stat_database_sql), "stats_reset", METRIC_CUMULATIVE,
	 "pg_stat_database with its conflicts, one row per database plus datid 0"},
	{"pg_stat_user_tables", METRIC_DATABASE, METRIC_SQL,
	 COLS(stat_user_tables_cols), SQLS(stat_user_tables_sql), NULL,
	 METRIC_CUMULATIVE, "pg_stat_user_tables of every collected database"},
};

const struct metric_def *
catalog_all(size_t *n)
{
	*n = N(catalog);
	return catalog;
}

const struct metric_def *
catalog_find(const char *name)
{
	for (size_t i = 0; i < N(catalog); i++)
		if (strcmp(catalog[i].name, name) == 0)
			return &catalog[i];
	return NULL;
}

const char *
catalog_sql_for(const struct metric_def *m, int server_version_num)
{
	for (size_t i = 0; i < m->nsql; i++) {
		const struct metric_sql *s = &m->sql[i];

		if (server_version_num >= s->min_version &&
		    (s->max_version == 0 || server_version_num <= s->max_version))
			return s->sql;
	}
	return NULL;
}
