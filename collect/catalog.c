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

#include <stdio.h>
#include <string.h>

#include "common/err.h"

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

/* The same SQL for the user and the system tables: only FROM differs. */
#define TAB_SQLS(TAB_FROM) \
	{120000, 129999, \
	 "SELECT relid, schemaname, relname, seq_scan, NULL::timestamptz," \
	 " seq_tup_read, idx_scan, NULL::timestamptz, idx_tup_fetch, n_tup_ins," \
	 " n_tup_upd, n_tup_del, n_tup_hot_upd, NULL::bigint, n_live_tup," \
	 " n_dead_tup, n_mod_since_analyze, NULL::bigint," TAB_TAIL \
	 " NULL::float8, NULL::float8, NULL::float8, NULL::float8" TAB_FROM}, \
	{130000, 159999, \
	 "SELECT relid, schemaname, relname, seq_scan, NULL::timestamptz," \
	 " seq_tup_read, idx_scan, NULL::timestamptz, idx_tup_fetch, n_tup_ins," \
	 " n_tup_upd, n_tup_del, n_tup_hot_upd, NULL::bigint, n_live_tup," \
	 " n_dead_tup, n_mod_since_analyze, n_ins_since_vacuum," TAB_TAIL \
	 " NULL::float8, NULL::float8, NULL::float8, NULL::float8" TAB_FROM}, \
	{160000, 179999, \
	 "SELECT relid, schemaname, relname, seq_scan, last_seq_scan," \
	 " seq_tup_read, idx_scan, last_idx_scan, idx_tup_fetch, n_tup_ins," \
	 " n_tup_upd, n_tup_del, n_tup_hot_upd, n_tup_newpage_upd, n_live_tup," \
	 " n_dead_tup, n_mod_since_analyze, n_ins_since_vacuum," TAB_TAIL \
	 " NULL::float8, NULL::float8, NULL::float8, NULL::float8" TAB_FROM}, \
	{180000, 0, \
	 "SELECT relid, schemaname, relname, seq_scan, last_seq_scan," \
	 " seq_tup_read, idx_scan, last_idx_scan, idx_tup_fetch, n_tup_ins," \
	 " n_tup_upd, n_tup_del, n_tup_hot_upd, n_tup_newpage_upd, n_live_tup," \
	 " n_dead_tup, n_mod_since_analyze, n_ins_since_vacuum," TAB_TAIL \
	 " total_vacuum_time, total_autovacuum_time, total_analyze_time," \
	 " total_autoanalyze_time" TAB_FROM},

static const struct metric_sql stat_user_tables_sql[] = {
	TAB_SQLS(" FROM pg_stat_user_tables ORDER BY relid")
};

/* ---- pg_stat_sys_tables (per database): the catalogs and every TOAST table ---- */

/* Catalog bloat (pg_attribute, pg_class under temp-table churn) and TOAST
 * vacuuming show only here; the columns are pg_stat_user_tables'. */
static const struct metric_sql stat_sys_tables_sql[] = {
	TAB_SQLS(" FROM pg_stat_sys_tables ORDER BY relid")
};

/* ---- pg_statio_user_tables (per database) ---- */

static const struct metric_col statio_user_tables_cols[] = {
	{"relid", "oid", K}, {"schemaname", "text", I}, {"relname", "text", I},
	{"heap_blks_read", "bigint", C}, {"heap_blks_hit", "bigint", C},
	{"idx_blks_read", "bigint", C}, {"idx_blks_hit", "bigint", C},
	{"toast_blks_read", "bigint", C}, {"toast_blks_hit", "bigint", C},
	{"tidx_blks_read", "bigint", C}, {"tidx_blks_hit", "bigint", C},
};

static const struct metric_sql statio_user_tables_sql[] = {
	{120000, 0,
	 "SELECT relid, schemaname, relname, heap_blks_read, heap_blks_hit,"
	 " idx_blks_read, idx_blks_hit, toast_blks_read, toast_blks_hit,"
	 " tidx_blks_read, tidx_blks_hit FROM pg_statio_user_tables ORDER BY relid"},
};

/* ---- pg_stat_user_indexes (per database) ---- */

static const struct metric_col stat_user_indexes_cols[] = {
	{"relid", "oid", I}, {"indexrelid", "oid", K},
	{"schemaname", "text", I}, {"relname", "text", I},
	{"indexrelname", "text", I}, {"idx_scan", "bigint", C},
	{"last_idx_scan", "timestamptz", I}, {"idx_tup_read", "bigint", C},
	{"idx_tup_fetch", "bigint", C},
};

static const struct metric_sql stat_user_indexes_sql[] = {
	{120000, 159999,
	 "SELECT relid, indexrelid, schemaname, relname, indexrelname, idx_scan,"
	 " NULL::timestamptz, idx_tup_read, idx_tup_fetch"
	 " FROM pg_stat_user_indexes ORDER BY indexrelid"},
	{160000, 0,
	 "SELECT relid, indexrelid, schemaname, relname, indexrelname, idx_scan,"
	 " last_idx_scan, idx_tup_read, idx_tup_fetch"
	 " FROM pg_stat_user_indexes ORDER BY indexrelid"},
};

/* ---- pg_statio_user_indexes (per database) ---- */

static const struct metric_col statio_user_indexes_cols[] = {
	{"relid", "oid", I}, {"indexrelid", "oid", K},
	{"schemaname", "text", I}, {"relname", "text", I},
	{"indexrelname", "text", I}, {"idx_blks_read", "bigint", C},
	{"idx_blks_hit", "bigint", C},
};

static const struct metric_sql statio_user_indexes_sql[] = {
	{120000, 0,
	 "SELECT relid, indexrelid, schemaname, relname, indexrelname,"
	 " idx_blks_read, idx_blks_hit FROM pg_statio_user_indexes ORDER BY indexrelid"},
};

/* ---- pg_statio_user_sequences (per database) ---- */

static const struct metric_col statio_user_sequences_cols[] = {
	{"relid", "oid", K}, {"schemaname", "text", I}, {"relname", "text", I},
	{"blks_read", "bigint", C}, {"blks_hit", "bigint", C},
};

static const struct metric_sql statio_user_sequences_sql[] = {
	{120000, 0,
	 "SELECT relid, schemaname, relname, blks_read, blks_hit"
	 " FROM pg_statio_user_sequences ORDER BY relid"},
};

/* ---- pg_stat_user_functions (per database, top N by total time) ---- */

static const struct metric_col stat_user_functions_cols[] = {
	{"funcid", "oid", K}, {"schemaname", "text", I}, {"funcname", "text", I},
	{"calls", "bigint", C}, {"total_time", "double precision", C},
	{"self_time", "double precision", C},
};

static const struct metric_sql stat_user_functions_sql[] = {
	{120000, 0,
	 "SELECT funcid, schemaname, funcname, calls, total_time, self_time"
	 " FROM pg_stat_user_functions"
	 " ORDER BY total_time DESC, funcid LIMIT {functions_limit}"},
};

/* ---- table and index sizes, per-table wraparound ages (per database) ---- */

static const struct metric_col table_sizes_cols[] = {
	{"relid", "oid", K}, {"schemaname", "text", I}, {"relname", "text", I},
	{"relkind", "text", I}, {"total_bytes", "bigint", G},
	{"heap_bytes", "bigint", G}, {"toast_bytes", "bigint", G},
	{"indexes_bytes", "bigint", G}, {"reltuples", "double precision", G},
	{"relpages", "bigint", G}, {"relfrozenxid_age", "integer", G},
	{"relminmxid_age", "integer", G},
};

/* Each size function runs once per table (the subquery is not flattened:
 * they are volatile); total is table (heap, TOAST, FSM, VM) plus indexes.
 * A table being rewritten holds a lock the size functions wait for:
 * lock_timeout makes that cycle's sizes a metric error, not a stall. */
static const struct metric_sql table_sizes_sql[] = {
	{120000, 0,
	 "SELECT oid, nspname, relname, relkind, table_bytes + indexes_bytes, heap_bytes,"
	 " toast_bytes, indexes_bytes, reltuples, relpages, frozen_age, minmxid_age FROM"
	 " (SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,"
	 "  pg_table_size(c.oid) AS table_bytes, pg_relation_size(c.oid) AS heap_bytes,"
	 "  CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) END"
	 "   AS toast_bytes,"
	 "  pg_indexes_size(c.oid) AS indexes_bytes, c.reltuples::float8 AS reltuples,"
	 "  c.relpages::bigint AS relpages,"
	 "  CASE WHEN c.relkind IN ('r', 'm') THEN age(c.relfrozenxid) END AS frozen_age,"
	 "  CASE WHEN c.relkind IN ('r', 'm') THEN mxid_age(c.relminmxid) END AS minmxid_age"
	 "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	 "  WHERE c.relkind IN ('r', 'm', 'p') AND c.relpersistence <> 't'"
	 "  AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
	 "  AND n.nspname !~ '^pg_toast' ORDER BY c.oid) AS t"},
};

static const struct metric_col index_sizes_cols[] = {
	{"indexrelid", "oid", K}, {"relid", "oid", I},
	{"schemaname", "text", I}, {"relname", "text", I},
	{"indexrelname", "text", I}, {"size_bytes", "bigint", G},
	{"indisunique", "boolean", I}, {"indisprimary", "boolean", I},
	{"indisvalid", "boolean", I},
};

static const struct metric_sql index_sizes_sql[] = {
	{120000, 0,
	 "SELECT i.indexrelid, i.indrelid, n.nspname, t.relname, c.relname,"
	 " pg_relation_size(i.indexrelid), i.indisunique, i.indisprimary,"
	 " i.indisvalid FROM pg_index i"
	 " JOIN pg_class c ON c.oid = i.indexrelid"
	 " JOIN pg_class t ON t.oid = i.indrelid"
	 " JOIN pg_namespace n ON n.oid = c.relnamespace"
	 " WHERE c.relpersistence <> 't' AND c.relkind = 'i'"
	 " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
	 " AND n.nspname !~ '^pg_toast' ORDER BY i.indexrelid"},
};

/* ---- sequences (per database): how close each one is to its end ---- */

static const struct metric_col sequences_cols[] = {
	{"relid", "oid", K}, {"schemaname", "text", I}, {"relname", "text", I},
	{"data_type", "text", I}, {"start_value", "bigint", G},
	{"min_value", "bigint", G}, {"max_value", "bigint", G},
	{"increment_by", "bigint", G}, {"cycle", "boolean", I},
	{"cache_size", "bigint", G}, {"last_value", "bigint", G},
};

/* pg_sequence rather than the pg_sequences view: the view reads every
 * sequence it lists, this reads only those we may read.  last_value is
 * NULL without SELECT or USAGE (pg_monitor has neither: grant it to see
 * exhaustion), for an unlogged sequence on a standby (unreadable there),
 * and before the first nextval; other sessions' temp sequences are skipped
 * (reading them is an error). */
static const struct metric_sql sequences_sql[] = {
	{120000, 0,
	 "SELECT c.oid, n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL),"
	 " s.seqstart, s.seqmin, s.seqmax, s.seqincrement, s.seqcycle, s.seqcache,"
	 " CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE')"
	 "  AND NOT (c.relpersistence = 'u' AND pg_is_in_recovery())"
	 "  THEN pg_sequence_last_value(c.oid) END"
	 " FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid"
	 " JOIN pg_namespace n ON n.oid = c.relnamespace"
	 " WHERE c.relpersistence <> 't'"
	 " AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY c.oid"},
};

/* ---- extensions (per database): what is installed where, at which version ---- */

static const struct metric_col extensions_cols[] = {
	{"extname", "text", K}, {"extversion", "text", I},
	{"schemaname", "text", I}, {"relocatable", "boolean", I},
};

static const struct metric_sql extensions_sql[] = {
	{120000, 0,
	 "SELECT e.extname::text, e.extversion, n.nspname::text, e.extrelocatable"
	 " FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
	 " ORDER BY e.extname"},
};

/* ---- relation_options (per database): storage parameters, partitions ---- */

static const struct metric_col relation_options_cols[] = {
	{"relid", "oid", K}, {"schemaname", "text", I}, {"relname", "text", I},
	{"relkind", "text", I}, {"relpersistence", "text", I},
	{"partition_of", "oid", I}, {"reloptions", "text[]", I},
	{"toast_reloptions", "text[]", I},
};

/* Only relations that differ from the defaults: per-table autovacuum
 * settings and fillfactor (why one table vacuums unlike the others),
 * unlogged relations, and partitions with their parent (to sum a
 * partitioned table's sizes centrally).  A plain table has no row. */
static const struct metric_sql relation_options_sql[] = {
	{120000, 0,
	 "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,"
	 " c.relpersistence::text, p.inhparent, c.reloptions, t.reloptions"
	 " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
	 " LEFT JOIN pg_inherits p ON p.inhrelid = c.oid AND c.relispartition"
	 " LEFT JOIN pg_class t ON t.oid = c.reltoastrelid"
	 " WHERE c.relkind IN ('r', 'm', 'p', 'i', 'I') AND c.relpersistence <> 't'"
	 " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
	 " AND n.nspname !~ '^pg_toast'"
	 " AND (c.reloptions IS NOT NULL OR t.reloptions IS NOT NULL"
	 "  OR c.relispartition OR c.relpersistence = 'u') ORDER BY c.oid"},
};

/* ---- foreign_keys (per database), each with whether an index serves it ---- */

static const struct metric_col foreign_keys_cols[] = {
	{"conid", "oid", K}, {"relid", "oid", I}, {"confrelid", "oid", I},
	{"schemaname", "text", I}, {"conname", "text", I},
	{"conkey", "smallint[]", I}, {"on_update", "text", I},
	{"on_delete", "text", I}, {"validated", "boolean", I},
	{"indexed", "boolean", I},
};

/* A foreign key without an index whose leading columns cover it makes
 * every DELETE or key UPDATE on the referenced table scan the referencing
 * one.  indkey is 0-based: its first n entries are the leading columns,
 * and INCLUDE columns (past indnkeyatts) serve no lookup. */
static const struct metric_sql foreign_keys_sql[] = {
	{120000, 0,
	 "SELECT k.oid, k.conrelid, k.confrelid, n.nspname::text, k.conname::text,"
	 " k.conkey, k.confupdtype::text, k.confdeltype::text, k.convalidated,"
	 " EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = k.conrelid"
	 "  AND i.indisvalid AND i.indpred IS NULL AND i.indnkeyatts >= cardinality(k.conkey)"
	 "  AND (i.indkey::int2[])[0:cardinality(k.conkey) - 1] @> k.conkey)"
	 " FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace"
	 " WHERE k.contype = 'f' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
	 " ORDER BY k.oid"},
};

/* ---- pg_stat_bgwriter (the checkpoint columns are pg_stat_checkpointer's) ---- */

static const struct metric_col stat_bgwriter_cols[] = {
	{"buffers_clean", "bigint", C}, {"maxwritten_clean", "bigint", C},
	{"buffers_alloc", "bigint", C}, {"buffers_backend", "bigint", C},
	{"buffers_backend_fsync", "bigint", C}, {"stats_reset", "timestamptz", I},
};

static const struct metric_sql stat_bgwriter_sql[] = {
	{120000, 169999,
	 "SELECT buffers_clean, maxwritten_clean, buffers_alloc, buffers_backend,"
	 " buffers_backend_fsync, stats_reset FROM pg_stat_bgwriter"},
	{170000, 0,
	 "SELECT buffers_clean, maxwritten_clean, buffers_alloc, NULL::bigint,"
	 " NULL::bigint, stats_reset FROM pg_stat_bgwriter"},
};

/* ---- pg_stat_checkpointer (before 17: the checkpoint half of pg_stat_bgwriter) ---- */

static const struct metric_col stat_checkpointer_cols[] = {
	{"num_timed", "bigint", C}, {"num_requested", "bigint", C},
	{"num_done", "bigint", C}, {"restartpoints_timed", "bigint", C},
	{"restartpoints_req", "bigint", C}, {"restartpoints_done", "bigint", C},
	{"write_time", "double precision", C}, {"sync_time", "double precision", C},
	{"buffers_written", "bigint", C}, {"slru_written", "bigint", C},
	{"stats_reset", "timestamptz", I},
};

static const struct metric_sql stat_checkpointer_sql[] = {
	{120000, 169999,
	 "SELECT checkpoints_timed, checkpoints_req, NULL::bigint, NULL::bigint,"
	 " NULL::bigint, NULL::bigint, checkpoint_write_time, checkpoint_sync_time,"
	 " buffers_checkpoint, NULL::bigint, stats_reset FROM pg_stat_bgwriter"},
	{170000, 179999,
	 "SELECT num_timed, num_requested, NULL::bigint, restartpoints_timed,"
	 " restartpoints_req, restartpoints_done, write_time, sync_time,"
	 " buffers_written, NULL::bigint, stats_reset FROM pg_stat_checkpointer"},
	{180000, 0,
	 "SELECT num_timed, num_requested, num_done, restartpoints_timed,"
	 " restartpoints_req, restartpoints_done, write_time, sync_time,"
	 " buffers_written, slru_written, stats_reset FROM pg_stat_checkpointer"},
};

/* ---- pg_stat_wal (+ the current WAL position, which 12 and 13 have too) ---- */

#define CUR_LSN \
	"(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()" \
	" ELSE pg_current_wal_lsn() END)"

static const struct metric_col stat_wal_cols[] = {
	{"in_recovery", "boolean", I}, {"wal_lsn", "pg_lsn", C},
	{"wal_records", "bigint", C}, {"wal_fpi", "bigint", C},
	{"wal_bytes", "numeric", C}, {"wal_buffers_full", "bigint", C},
	{"wal_write", "bigint", C}, {"wal_sync", "bigint", C},
	{"wal_write_time", "double precision", C},
	{"wal_sync_time", "double precision", C},
	{"stats_reset", "timestamptz", I},
};

static const struct metric_sql stat_wal_sql[] = {
	{120000, 139999,
	 "SELECT pg_is_in_recovery(), " CUR_LSN ", NULL::bigint, NULL::bigint,"
	 " NULL::numeric, NULL::bigint, NULL::bigint, NULL::bigint, NULL::float8,"
	 " NULL::float8, NULL::timestamptz"},
	{140000, 179999,
	 "SELECT pg_is_in_recovery(), " CUR_LSN ", wal_records, wal_fpi, wal_bytes,"
	 " wal_buffers_full, wal_write, wal_sync, wal_write_time, wal_sync_time,"
	 " stats_reset FROM pg_stat_wal"},
	{180000, 0,
	 "SELECT pg_is_in_recovery(), " CUR_LSN ", wal_records, wal_fpi, wal_bytes,"
	 " wal_buffers_full, NULL::bigint, NULL::bigint, NULL::float8, NULL::float8,"
	 " stats_reset FROM pg_stat_wal"},
};

/* ---- pg_stat_archiver ---- */

static const struct metric_col stat_archiver_cols[] = {
	{"archived_count", "bigint", C}, {"last_archived_wal", "text", I},
	{"last_archived_time", "timestamptz", I}, {"failed_count", "bigint", C},
	{"last_failed_wal", "text", I}, {"last_failed_time", "timestamptz", I},
	{"stats_reset", "timestamptz", I},
};

static const struct metric_sql stat_archiver_sql[] = {
	{120000, 0,
	 "SELECT archived_count, last_archived_wal, last_archived_time,"
	 " failed_count, last_failed_wal, last_failed_time, stats_reset"
	 " FROM pg_stat_archiver"},
};

/* ---- pg_stat_replication (lags in seconds and in bytes behind us) ---- */

static const struct metric_col stat_replication_cols[] = {
	{"pid", "integer", K}, {"usename", "text", I},
	{"application_name", "text", K}, {"client_addr", "text", I},
	{"client_port", "integer", I}, {"backend_start", "timestamptz", I},
	{"backend_xmin_age", "integer", G}, {"state", "text", I},
	{"sent_lsn", "pg_lsn", I}, {"write_lsn", "pg_lsn", I},
	{"flush_lsn", "pg_lsn", I}, {"replay_lsn", "pg_lsn", I},
	{"sent_lag_bytes", "numeric", G}, {"replay_lag_bytes", "numeric", G},
	{"write_lag", "double precision", G}, {"flush_lag", "double precision", G},
	{"replay_lag", "double precision", G}, {"sync_priority", "integer", I},
	{"sync_state", "text", I}, {"reply_time", "timestamptz", I},
};

static const struct metric_sql stat_replication_sql[] = {
	{120000, 0,
	 "SELECT pid, usename, application_name, client_addr::text, client_port,"
	 " backend_start, age(backend_xmin), state, sent_lsn, write_lsn, flush_lsn,"
	 " replay_lsn, pg_wal_lsn_diff(" CUR_LSN ", sent_lsn),"
	 " pg_wal_lsn_diff(" CUR_LSN ", replay_lsn),"
	 " extract(epoch FROM write_lag)::float8, extract(epoch FROM flush_lag)::float8,"
	 " extract(epoch FROM replay_lag)::float8, sync_priority, sync_state, reply_time"
	 " FROM pg_stat_replication ORDER BY pid"},
};

/* ---- pg_replication_slots (+ the WAL each one holds back) ---- */

static const struct metric_col replication_slots_cols[] = {
	{"slot_name", "text", K}, {"plugin", "text", I}, {"slot_type", "text", I},
	{"datoid", "oid", I}, {"database", "text", I}, {"temporary", "boolean", I},
	{"active", "boolean", I}, {"active_pid", "integer", I},
	{"xmin_age", "integer", G}, {"catalog_xmin_age", "integer", G},
	{"restart_lsn", "pg_lsn", I}, {"confirmed_flush_lsn", "pg_lsn", I},
	{"retained_wal_bytes", "numeric", G}, {"wal_status", "text", I},
	{"safe_wal_size", "bigint", G}, {"two_phase", "boolean", I},
	{"two_phase_at", "pg_lsn", I}, {"inactive_since", "timestamptz", I},
	{"conflicting", "boolean", I}, {"invalidation_reason", "text", I},
	{"failover", "boolean", I}, {"synced", "boolean", I},
};

#define SLOTS_HEAD \
	"SELECT slot_name::text, plugin::text, slot_type, datoid, database::text," \
	" temporary, active, active_pid, age(xmin), age(catalog_xmin), restart_lsn," \
	" confirmed_flush_lsn, pg_wal_lsn_diff(" CUR_LSN ", restart_lsn),"
#define SLOTS_FROM " FROM pg_replication_slots ORDER BY slot_name"

static const struct metric_sql replication_slots_sql[] = {
	{120000, 129999, SLOTS_HEAD
	 " NULL::text, NULL::bigint, NULL::boolean, NULL::pg_lsn, NULL::timestamptz,"
	 " NULL::boolean, NULL::text, NULL::boolean, NULL::boolean" SLOTS_FROM},
	{130000, 139999, SLOTS_HEAD
	 " wal_status, safe_wal_size, NULL::boolean, NULL::pg_lsn, NULL::timestamptz,"
	 " NULL::boolean, NULL::text, NULL::boolean, NULL::boolean" SLOTS_FROM},
	{140000, 159999, SLOTS_HEAD
	 " wal_status, safe_wal_size, two_phase, NULL::pg_lsn, NULL::timestamptz,"
	 " NULL::boolean, NULL::text, NULL::boolean, NULL::boolean" SLOTS_FROM},
	{160000, 169999, SLOTS_HEAD
	 " wal_status, safe_wal_size, two_phase, NULL::pg_lsn, NULL::timestamptz,"
	 " conflicting, NULL::text, NULL::boolean, NULL::boolean" SLOTS_FROM},
	{170000, 179999, SLOTS_HEAD
	 " wal_status, safe_wal_size, two_phase, NULL::pg_lsn, inactive_since,"
	 " conflicting, invalidation_reason, failover, synced" SLOTS_FROM},
	{180000, 0, SLOTS_HEAD
	 " wal_status, safe_wal_size, two_phase, two_phase_at, inactive_since,"
	 " conflicting, invalidation_reason, failover, synced" SLOTS_FROM},
};

/* ---- pg_stat_replication_slots (logical decoding counters, 14+) ---- */

static const struct metric_col stat_replication_slots_cols[] = {
	{"slot_name", "text", K}, {"spill_txns", "bigint", C},
	{"spill_count", "bigint", C}, {"spill_bytes", "bigint", C},
	{"stream_txns", "bigint", C}, {"stream_count", "bigint", C},
	{"stream_bytes", "bigint", C}, {"total_txns", "bigint", C},
	{"total_bytes", "bigint", C}, {"stats_reset", "timestamptz", I},
};

static const struct metric_sql stat_replication_slots_sql[] = {
	{140000, 0,
	 "SELECT slot_name, spill_txns, spill_count, spill_bytes, stream_txns,"
	 " stream_count, stream_bytes, total_txns, total_bytes, stats_reset"
	 " FROM pg_stat_replication_slots ORDER BY slot_name"},
};

/* ---- pg_stat_activity, summarised: counts by state and wait, oldest ages ---- */

static const struct metric_col activity_summary_cols[] = {
	{"datname", "text", K}, {"usename", "text", K},
	{"backend_type", "text", K}, {"state", "text", K},
	{"wait_event_type", "text", K}, {"wait_event", "text", K},
	{"backends", "integer", G}, {"max_xact_age", "double precision", G},
	{"max_query_age", "double precision", G},
	{"max_state_age", "double precision", G},
	{"max_backend_xmin_age", "integer", G},
};

/* Ages in seconds; the status snapshot is frozen at first access, so the
 * clock is read then too. */
static const struct metric_sql activity_summary_sql[] = {
	{120000, 0,
	 "SELECT datname::text, usename::text, backend_type, state, wait_event_type,"
	 " wait_event, count(*)::int,"
	 " max(extract(epoch FROM clock_timestamp() - xact_start))::float8,"
	 " max(extract(epoch FROM clock_timestamp() - query_start))"
	 "  FILTER (WHERE state <> 'idle')::float8,"
	 " max(extract(epoch FROM clock_timestamp() - state_change))::float8,"
	 " max(age(backend_xmin))"
	 " FROM pg_stat_activity GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"},
};

/* ---- pg_locks, summarised ---- */

static const struct metric_col locks_summary_cols[] = {
	{"datname", "text", K}, {"locktype", "text", K}, {"mode", "text", K},
	{"granted", "boolean", K}, {"locks", "integer", G},
	{"max_wait", "double precision", G},
};

#define LOCKS_FROM \
	" FROM pg_locks l LEFT JOIN pg_database d ON d.oid = l.database" \
	" GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"

static const struct metric_sql locks_summary_sql[] = {
	{120000, 139999,
	 "SELECT d.datname::text, l.locktype, l.mode, l.granted, count(*)::int,"
	 " NULL::float8" LOCKS_FROM},
	{140000, 0,
	 "SELECT d.datname::text, l.locktype, l.mode, l.granted, count(*)::int,"
	 " max(extract(epoch FROM clock_timestamp() - l.waitstart))::float8" LOCKS_FROM},
};

/* ---- pg_database: sizes, xid and multixact ages (wraparound) ---- */

static const struct metric_col database_cols[] = {
	{"datid", "oid", K}, {"datname", "text", I}, {"size_bytes", "bigint", G},
	{"datfrozenxid_age", "integer", G}, {"datminmxid_age", "integer", G},
	{"datconnlimit", "integer", I}, {"datallowconn", "boolean", I},
	{"datistemplate", "boolean", I},
};

static const struct metric_sql database_sql[] = {
	{120000, 0,
	 "SELECT oid, datname::text,"
	 " CASE WHEN has_database_privilege(oid, 'CONNECT')"
	 "  OR pg_has_role('pg_read_all_stats', 'USAGE')"
	 "  THEN pg_database_size(oid) END,"
	 " age(datfrozenxid), mxid_age(datminmxid), datconnlimit, datallowconn,"
	 " datistemplate FROM pg_database ORDER BY oid"},
};

/* ---- wraparound: what holds the xid horizon back, cluster-wide ---- */

static const struct metric_col xid_wraparound_cols[] = {
	{"next_xid", "bigint", C}, {"oldest_datfrozenxid_age", "integer", G},
	{"oldest_datminmxid_age", "integer", G},
	{"oldest_backend_xmin_age", "integer", G},
	{"oldest_prepared_xact_age", "integer", G},
	{"oldest_slot_xmin_age", "integer", G},
	{"oldest_slot_catalog_xmin_age", "integer", G},
	{"autovacuum_freeze_max_age", "bigint", I},
	{"autovacuum_multixact_freeze_max_age", "bigint", I},
};

static const struct metric_sql xid_wraparound_sql[] = {
	{120000, 0,
	 "SELECT txid_snapshot_xmax(txid_current_snapshot()),"
	 " (SELECT max(age(datfrozenxid)) FROM pg_database),"
	 " (SELECT max(mxid_age(datminmxid)) FROM pg_database),"
	 " (SELECT max(age(backend_xmin)) FROM pg_stat_activity),"
	 " (SELECT max(age(transaction)) FROM pg_prepared_xacts),"
	 " (SELECT max(age(xmin)) FROM pg_replication_slots),"
	 " (SELECT max(age(catalog_xmin)) FROM pg_replication_slots),"
	 " current_setting('autovacuum_freeze_max_age')::bigint,"
	 " current_setting('autovacuum_multixact_freeze_max_age')::bigint"},
};

/* ---- pg_settings (settings-every cycles, and whenever they change) ---- */

static const struct metric_col settings_cols[] = {
	{"name", "text", K}, {"setting", "text", I}, {"unit", "text", I},
	{"vartype", "text", I}, {"source", "text", I}, {"boot_val", "text", I},
	{"reset_val", "text", I}, {"pending_restart", "boolean", I},
};

static const struct metric_sql settings_sql[] = {
	{120000, 0,
	 "SELECT name, setting, unit, vartype, source, boot_val, reset_val,"
	 " pending_restart FROM pg_settings ORDER BY name"},
};

/* ---- pg_stat_io (16+) ---- */

static const struct metric_col stat_io_cols[] = {
	{"backend_type", "text", K}, {"object", "text", K}, {"context", "text", K},
	{"reads", "bigint", C}, {"read_bytes", "numeric", C},
	{"read_time", "double precision", C}, {"writes", "bigint", C},
	{"write_bytes", "numeric", C}, {"write_time", "double precision", C},
	{"writebacks", "bigint", C}, {"writeback_time", "double precision", C},
	{"extends", "bigint", C}, {"extend_bytes", "numeric", C},
	{"extend_time", "double precision", C}, {"op_bytes", "bigint", I},
	{"hits", "bigint", C}, {"evictions", "bigint", C}, {"reuses", "bigint", C},
	{"fsyncs", "bigint", C}, {"fsync_time", "double precision", C},
	{"stats_reset", "timestamptz", I},
};

static const struct metric_sql stat_io_sql[] = {
	{160000, 179999,
	 "SELECT backend_type, object, context, reads, NULL::numeric, read_time,"
	 " writes, NULL::numeric, write_time, writebacks, writeback_time, extends,"
	 " NULL::numeric, extend_time, op_bytes, hits, evictions, reuses, fsyncs,"
	 " fsync_time, stats_reset FROM pg_stat_io ORDER BY 1, 2, 3"},
	{180000, 0,
	 "SELECT backend_type, object, context, reads, read_bytes, read_time,"
	 " writes, write_bytes, write_time, writebacks, writeback_time, extends,"
	 " extend_bytes, extend_time, NULL::bigint, hits, evictions, reuses, fsyncs,"
	 " fsync_time, stats_reset FROM pg_stat_io ORDER BY 1, 2, 3"},
};

/* ---- pg_stat_slru (13+; row names as 17 spells them) ---- */

static const struct metric_col stat_slru_cols[] = {
	{"name", "text", K}, {"blks_zeroed", "bigint", C}, {"blks_hit", "bigint", C},
	{"blks_read", "bigint", C}, {"blks_written", "bigint", C},
	{"blks_exists", "bigint", C}, {"flushes", "bigint", C},
	{"truncates", "bigint", C}, {"stats_reset", "timestamptz", I},
};

static const struct metric_sql stat_slru_sql[] = {
	{130000, 169999,
	 "SELECT CASE name WHEN 'CommitTs' THEN 'commit_timestamp'"
	 " WHEN 'MultiXactMember' THEN 'multixact_member'"
	 " WHEN 'MultiXactOffset' THEN 'multixact_offset' WHEN 'Notify' THEN 'notify'"
	 " WHEN 'Serial' THEN 'serializable' WHEN 'Subtrans' THEN 'subtransaction'"
	 " WHEN 'Xact' THEN 'transaction' ELSE name END,"
	 " blks_zeroed, blks_hit, blks_read, blks_written, blks_exists, flushes,"
	 " truncates, stats_reset FROM pg_stat_slru ORDER BY 1"},
	{170000, 0,
	 "SELECT name, blks_zeroed, blks_hit, blks_read, blks_written, blks_exists,"
	 " flushes, truncates, stats_reset FROM pg_stat_slru ORDER BY 1"},
};

/* ---- pg_stat_statements (ranges are extension versions, see catalog.h) ---- */

static const struct metric_col statements_cols[] = {
	{"userid", "oid", K}, {"dbid", "oid", K}, {"toplevel", "boolean", K},
	{"queryid", "bigint", K},
	{"plans", "bigint", C}, {"total_plan_time", "double precision", C},
	{"min_plan_time", "double precision", G},
	{"max_plan_time", "double precision", G},
	{"mean_plan_time", "double precision", G},
	{"stddev_plan_time", "double precision", G},
	{"calls", "bigint", C}, {"total_exec_time", "double precision", C},
	{"min_exec_time", "double precision", G},
	{"max_exec_time", "double precision", G},
	{"mean_exec_time", "double precision", G},
	{"stddev_exec_time", "double precision", G},
	{"rows", "bigint", C},
	{"shared_blks_hit", "bigint", C}, {"shared_blks_read", "bigint", C},
	{"shared_blks_dirtied", "bigint", C}, {"shared_blks_written", "bigint", C},
	{"local_blks_hit", "bigint", C}, {"local_blks_read", "bigint", C},
	{"local_blks_dirtied", "bigint", C}, {"local_blks_written", "bigint", C},
	{"temp_blks_read", "bigint", C}, {"temp_blks_written", "bigint", C},
	{"shared_blk_read_time", "double precision", C},
	{"shared_blk_write_time", "double precision", C},
	{"local_blk_read_time", "double precision", C},
	{"local_blk_write_time", "double precision", C},
	{"temp_blk_read_time", "double precision", C},
	{"temp_blk_write_time", "double precision", C},
	{"wal_records", "bigint", C}, {"wal_fpi", "bigint", C},
	{"wal_bytes", "numeric", C}, {"wal_buffers_full", "bigint", C},
	{"jit_functions", "bigint", C},
	{"jit_generation_time", "double precision", C},
	{"jit_inlining_count", "bigint", C},
	{"jit_inlining_time", "double precision", C},
	{"jit_optimization_count", "bigint", C},
	{"jit_optimization_time", "double precision", C},
	{"jit_emission_count", "bigint", C},
	{"jit_emission_time", "double precision", C},
	{"jit_deform_count", "bigint", C},
	{"jit_deform_time", "double precision", C},
	{"parallel_workers_to_launch", "bigint", C},
	{"parallel_workers_launched", "bigint", C},
	{"stats_since", "timestamptz", I}, {"minmax_stats_since", "timestamptz", I},
};

#define SS_BLKS \
	" rows, shared_blks_hit, shared_blks_read, shared_blks_dirtied," \
	" shared_blks_written, local_blks_hit, local_blks_read, local_blks_dirtied," \
	" local_blks_written, temp_blks_read, temp_blks_written,"
#define SS_NO_PLAN \
	" NULL::bigint, NULL::float8, NULL::float8, NULL::float8, NULL::float8," \
	" NULL::float8,"
#define SS_PLAN \
	" plans, total_plan_time, min_plan_time, max_plan_time, mean_plan_time," \
	" stddev_plan_time,"
#define SS_EXEC \
	" calls, total_exec_time, min_exec_time, max_exec_time, mean_exec_time," \
	" stddev_exec_time,"
#define SS_NO_JIT \
	" NULL::bigint, NULL::float8, NULL::bigint, NULL::float8, NULL::bigint," \
	" NULL::float8, NULL::bigint, NULL::float8,"
#define SS_JIT \
	" jit_functions, jit_generation_time, jit_inlining_count, jit_inlining_time," \
	" jit_optimization_count, jit_optimization_time, jit_emission_count," \
	" jit_emission_time,"
#define SS_FROM(order) \
	" FROM {pgss}.pg_stat_statements(false)" \
	" ORDER BY " order " DESC NULLS LAST LIMIT {limit}"

static const struct metric_sql statements_sql[] = {
	{104, 107,
	 "SELECT userid, dbid, NULL::boolean, queryid," SS_NO_PLAN
	 " calls, total_time, min_time, max_time, mean_time, stddev_time," SS_BLKS
	 " blk_read_time, blk_write_time, NULL::float8, NULL::float8, NULL::float8,"
	 " NULL::float8, NULL::bigint, NULL::bigint, NULL::numeric, NULL::bigint,"
	 SS_NO_JIT " NULL::bigint, NULL::float8, NULL::bigint, NULL::bigint,"
	 " NULL::timestamptz, NULL::timestamptz" SS_FROM("total_time")},
	{108, 108,
	 "SELECT userid, dbid, NULL::boolean, queryid," SS_PLAN SS_EXEC SS_BLKS
	 " blk_read_time, blk_write_time, NULL::float8, NULL::float8, NULL::float8,"
	 " NULL::float8, wal_records, wal_fpi, wal_bytes, NULL::bigint,"
	 SS_NO_JIT " NULL::bigint, NULL::float8, NULL::bigint, NULL::bigint,"
	 " NULL::timestamptz, NULL::timestamptz" SS_FROM("total_exec_time")},
	{109, 109,
	 "SELECT userid, dbid, toplevel, queryid," SS_PLAN SS_EXEC SS_BLKS
	 " blk_read_time, blk_write_time, NULL::float8, NULL::float8, NULL::float8,"
	 " NULL::float8, wal_records, wal_fpi, wal_bytes, NULL::bigint,"
	 SS_NO_JIT " NULL::bigint, NULL::float8, NULL::bigint, NULL::bigint,"
	 " NULL::timestamptz, NULL::timestamptz" SS_FROM("total_exec_time")},
	{110, 110,
	 "SELECT userid, dbid, toplevel, queryid," SS_PLAN SS_EXEC SS_BLKS
	 " blk_read_time, blk_write_time, NULL::float8, NULL::float8,"
	 " temp_blk_read_time, temp_blk_write_time, wal_records, wal_fpi, wal_bytes,"
	 " NULL::bigint," SS_JIT " NULL::bigint, NULL::float8, NULL::bigint,"
	 " NULL::bigint, NULL::timestamptz, NULL::timestamptz" SS_FROM("total_exec_time")},
	{111, 111,
	 "SELECT userid, dbid, toplevel, queryid," SS_PLAN SS_EXEC SS_BLKS
	 " shared_blk_read_time, shared_blk_write_time, local_blk_read_time,"
	 " local_blk_write_time, temp_blk_read_time, temp_blk_write_time,"
	 " wal_records, wal_fpi, wal_bytes, NULL::bigint," SS_JIT
	 " jit_deform_count, jit_deform_time, NULL::bigint, NULL::bigint,"
	 " stats_since, minmax_stats_since" SS_FROM("total_exec_time")},
	{112, 0,
	 "SELECT userid, dbid, toplevel, queryid," SS_PLAN SS_EXEC SS_BLKS
	 " shared_blk_read_time, shared_blk_write_time, local_blk_read_time,"
	 " local_blk_write_time, temp_blk_read_time, temp_blk_write_time,"
	 " wal_records, wal_fpi, wal_bytes, wal_buffers_full," SS_JIT
	 " jit_deform_count, jit_deform_time, parallel_workers_to_launch,"
	 " parallel_workers_launched, stats_since, minmax_stats_since"
	 SS_FROM("total_exec_time")},
};

static const struct metric_col statements_info_cols[] = {
	{"dealloc", "bigint", C}, {"stats_reset", "timestamptz", I},
};

static const struct metric_sql statements_info_sql[] = {
	{109, 0, "SELECT dealloc, stats_reset FROM {pgss}.pg_stat_statements_info"},
};

static const struct metric_col statements_texts_cols[] = {
	{"userid", "oid", K}, {"dbid", "oid", K}, {"toplevel", "boolean", K},
	{"queryid", "bigint", K}, {"query", "text", I},
};

/* {where} is "true" on a texts cycle, else the queryids not seen before. */
static const struct metric_sql statements_texts_sql[] = {
	{104, 107,
	 "SELECT userid, dbid, NULL::boolean, queryid, query"
	 " FROM {pgss}.pg_stat_statements(true) WHERE {where}"
	 " ORDER BY total_time DESC NULLS LAST LIMIT {limit}"},
	{108, 108,
	 "SELECT userid, dbid, NULL::boolean, queryid, query"
	 " FROM {pgss}.pg_stat_statements(true) WHERE {where}"
	 " ORDER BY total_exec_time DESC NULLS LAST LIMIT {limit}"},
	{109, 0,
	 "SELECT userid, dbid, toplevel, queryid, query"
	 " FROM {pgss}.pg_stat_statements(true) WHERE {where}"
	 " ORDER BY total_exec_time DESC NULLS LAST LIMIT {limit}"},
};

/* ---- host counters of a local target (hoststats.c) ---- */

static const struct metric_col host_cpu_cols[] = {
	{"cpu", "text", K}, {"user_s", "double precision", C},
	{"nice_s", "double precision", C}, {"system_s", "double precision", C},
	{"idle_s", "double precision", C}, {"iowait_s", "double precision", C},
	{"irq_s", "double precision", C}, {"softirq_s", "double precision", C},
	{"steal_s", "double precision", C},
};

static const struct metric_col host_load_cols[] = {
	{"load1", "double precision", G}, {"load5", "double precision", G},
	{"load15", "double precision", G}, {"procs_running", "bigint", G},
	{"procs_blocked", "bigint", G}, {"context_switches", "bigint", C},
	{"forks", "bigint", C}, {"uptime_s", "double precision", G},
};

static const struct metric_col host_memory_cols[] = {
	{"mem_total", "bigint", G}, {"mem_free", "bigint", G},
	{"mem_available", "bigint", G}, {"buffers", "bigint", G},
	{"cached", "bigint", G}, {"swap_total", "bigint", G},
	{"swap_free", "bigint", G}, {"dirty", "bigint", G},
	{"writeback", "bigint", G}, {"shmem", "bigint", G}, {"slab", "bigint", G},
	{"committed_as", "bigint", G}, {"hugepages_total", "bigint", G},
	{"hugepages_free", "bigint", G},
};

static const struct metric_col host_disk_cols[] = {
	{"device", "text", K}, {"reads", "bigint", C}, {"reads_merged", "bigint", C},
	{"read_bytes", "bigint", C}, {"read_time_ms", "bigint", C},
	{"writes", "bigint", C}, {"writes_merged", "bigint", C},
	{"write_bytes", "bigint", C}, {"write_time_ms", "bigint", C},
	{"io_in_progress", "bigint", G}, {"io_time_ms", "bigint", C},
	{"weighted_io_time_ms", "bigint", C},
};

static const struct metric_col host_net_cols[] = {
	{"interface", "text", K}, {"rx_bytes", "bigint", C},
	{"rx_packets", "bigint", C}, {"rx_errors", "bigint", C},
	{"rx_dropped", "bigint", C}, {"tx_bytes", "bigint", C},
	{"tx_packets", "bigint", C}, {"tx_errors", "bigint", C},
	{"tx_dropped", "bigint", C},
};

static const struct metric_col host_fs_cols[] = {
	{"path", "text", K}, {"total_bytes", "bigint", G},
	{"free_bytes", "bigint", G}, {"avail_bytes", "bigint", G},
	{"total_inodes", "bigint", G}, {"free_inodes", "bigint", G},
};

/* ---- the server's csvlog (csvlog.c): 14+'s 26 fields ---- */

static const struct metric_col postgres_log_cols[] = {
	{"log_time", "timestamptz", K}, {"user_name", "text", I},
	{"database_name", "text", I}, {"process_id", "integer", I},
	{"connection_from", "text", I}, {"session_id", "text", K},
	{"session_line_num", "bigint", K}, {"command_tag", "text", I},
	{"session_start_time", "timestamptz", I},
	{"virtual_transaction_id", "text", I}, {"transaction_id", "bigint", I},
	{"error_severity", "text", I}, {"sql_state_code", "text", I},
	{"message", "text", I}, {"detail", "text", I}, {"hint", "text", I},
	{"internal_query", "text", I}, {"internal_query_pos", "integer", I},
	{"context", "text", I}, {"query", "text", I}, {"query_pos", "integer", I},
	{"location", "text", I}, {"application_name", "text", I},
	{"backend_type", "text", I}, {"leader_pid", "integer", I},
	{"query_id", "bigint", I},
};

/* ---- pga's record of each snapshot (collector.c, cjob.c) ---- */

static const struct metric_col snapshot_status_cols[] = {
	{"status", "text", I}, {"blocks", "bigint", G}, {"rows", "bigint", G},
	{"databases", "integer", G}, {"databases_failed", "integer", G},
	{"metric_errors", "bigint", G}, {"values_escaped", "bigint", G},
	{"metrics_unconverted", "integer", G}, {"duration_s", "double precision", G},
	{"reason", "text", I},
};

/* ---- the catalog ---- */

#define SQLM(name, scope, cols, sql, reset, flags, doc) \
	{name, scope, METRIC_SQL, COLS(cols), SQLS(sql), reset, flags, doc}
#define HOSTM(name, cols, flags, doc) \
	{name, METRIC_CLUSTER, METRIC_HOST, COLS(cols), NULL, 0, NULL, flags, doc}
#define CUM METRIC_CUMULATIVE
#define PGSS METRIC_NEEDS_PGSS

static const struct metric_def catalog[] = {
	/* cluster-wide, once per target */
	SQLM("pg_stat_database", METRIC_CLUSTER, stat_database_cols,
	     stat_database_sql, "stats_reset", CUM,
	     "pg_stat_database with its recovery conflicts, plus the datid 0 row"),
	SQLM("pg_database", METRIC_CLUSTER, database_cols, database_sql, NULL, 0,
	     "database sizes, datfrozenxid and datminmxid ages"),
	SQLM("xid_wraparound", METRIC_CLUSTER, xid_wraparound_cols,
	     xid_wraparound_sql, NULL, CUM,
	     "next xid and what holds the xmin horizon back (wraparound)"),
	SQLM("pg_stat_bgwriter", METRIC_CLUSTER, stat_bgwriter_cols,
	     stat_bgwriter_sql, "stats_reset", CUM, "background writer"),
	SQLM("pg_stat_checkpointer", METRIC_CLUSTER, stat_checkpointer_cols,
	     stat_checkpointer_sql, "stats_reset", CUM,
	     "checkpoints (from pg_stat_bgwriter before 17)"),
	SQLM("pg_stat_wal", METRIC_CLUSTER, stat_wal_cols, stat_wal_sql,
	     "stats_reset", CUM, "WAL position and pg_stat_wal (14+)"),
	SQLM("pg_stat_archiver", METRIC_CLUSTER, stat_archiver_cols,
	     stat_archiver_sql, "stats_reset", CUM, "WAL archiver"),
	SQLM("pg_stat_replication", METRIC_CLUSTER, stat_replication_cols,
	     stat_replication_sql, NULL, 0, "walsenders with lags in seconds and bytes"),
	SQLM("pg_replication_slots", METRIC_CLUSTER, replication_slots_cols,
	     replication_slots_sql, NULL, 0, "slots with the WAL each one retains"),
	SQLM("pg_stat_replication_slots", METRIC_CLUSTER,
	     stat_replication_slots_cols, stat_replication_slots_sql,
	     "stats_reset", CUM, "logical decoding spill/stream counters (14+)"),
	SQLM("activity_summary", METRIC_CLUSTER, activity_summary_cols,
	     activity_summary_sql, NULL, 0,
	     "pg_stat_activity: backends by state and wait event, oldest ages"),
	SQLM("locks_summary", METRIC_CLUSTER, locks_summary_cols,
	     locks_summary_sql, NULL, 0, "pg_locks by type, mode and grant, longest wait"),
	SQLM("pg_stat_io", METRIC_CLUSTER, stat_io_cols, stat_io_sql,
	     "stats_reset", CUM, "I/O by backend type, object and context (16+)"),
	SQLM("pg_stat_slru", METRIC_CLUSTER, stat_slru_cols, stat_slru_sql,
	     "stats_reset", CUM, "SLRU caches (13+)"),
	SQLM("pg_settings", METRIC_CLUSTER, settings_cols, settings_sql, NULL,
	     METRIC_LOW_CADENCE | METRIC_SETTINGS,
	     "server settings, every settings-every cycles and whenever they change"),
	SQLM("pg_stat_statements", METRIC_CLUSTER, statements_cols,
	     statements_sql, "stats_since", PGSS | CUM,
	     "statement counters without texts, top query-stats-limit by total time"),
	SQLM("pg_stat_statements_info", METRIC_CLUSTER, statements_info_cols,
	     statements_info_sql, "stats_reset", PGSS | CUM,
	     "pg_stat_statements evictions and last reset (extension 1.9+)"),
	SQLM("pg_stat_statements_texts", METRIC_CLUSTER, statements_texts_cols,
	     statements_texts_sql, NULL, PGSS | METRIC_LOW_CADENCE | METRIC_TEXTS,
	     "query texts every texts-every cycles, and of queryids not seen before"),
	/* per database */
	SQLM("pg_stat_user_tables", METRIC_DATABASE, stat_user_tables_cols,
	     stat_user_tables_sql, NULL, CUM, "table access and vacuum counters"),
	SQLM("pg_statio_user_tables", METRIC_DATABASE, statio_user_tables_cols,
	     statio_user_tables_sql, NULL, CUM, "table block I/O"),
	SQLM("pg_stat_user_indexes", METRIC_DATABASE, stat_user_indexes_cols,
	     stat_user_indexes_sql, NULL, CUM, "index scans"),
	SQLM("pg_statio_user_indexes", METRIC_DATABASE, statio_user_indexes_cols,
	     statio_user_indexes_sql, NULL, CUM, "index block I/O"),
	SQLM("pg_statio_user_sequences", METRIC_DATABASE,
	     statio_user_sequences_cols, statio_user_sequences_sql, NULL, CUM,
	     "sequence block I/O"),
	SQLM("pg_stat_user_functions", METRIC_DATABASE, stat_user_functions_cols,
	     stat_user_functions_sql, NULL, CUM,
	     "function calls and times, top functions-limit by total time"),
	SQLM("table_sizes", METRIC_DATABASE, table_sizes_cols, table_sizes_sql,
	     NULL, 0, "table, TOAST and index bytes, relfrozenxid/relminmxid ages"),
	SQLM("index_sizes", METRIC_DATABASE, index_sizes_cols, index_sizes_sql,
	     NULL, 0, "index bytes and validity"),
	SQLM("pg_stat_sys_tables", METRIC_DATABASE, stat_user_tables_cols,
	     stat_sys_tables_sql, NULL, CUM,
	     "the catalogs' and TOAST tables' access and vacuum counters"),
	SQLM("sequences", METRIC_DATABASE, sequences_cols, sequences_sql, NULL, 0,
	     "sequence bounds and last value: exhaustion ahead"),
	SQLM("extensions", METRIC_DATABASE, extensions_cols, extensions_sql, NULL, 0,
	     "installed extensions and their versions"),
	SQLM("relation_options", METRIC_DATABASE, relation_options_cols,
	     relation_options_sql, NULL, 0,
	     "non-default storage parameters, unlogged relations, partition parents"),
	SQLM("foreign_keys", METRIC_DATABASE, foreign_keys_cols, foreign_keys_sql,
	     NULL, 0, "foreign keys and whether an index covers each"),
	/* produced by pga itself: host counters (os-stats) and the csvlog */
	HOSTM("host_cpu", host_cpu_cols, CUM, "CPU seconds by mode, per CPU and in total"),
	HOSTM("host_load", host_load_cols, CUM, "load averages, runnable/blocked, forks"),
	HOSTM("host_memory", host_memory_cols, 0, "/proc/meminfo, in bytes"),
	HOSTM("host_disk", host_disk_cols, CUM, "/proc/diskstats per device"),
	HOSTM("host_net", host_net_cols, CUM, "/proc/net/dev per interface"),
	HOSTM("host_fs", host_fs_cols, 0, "statvfs of the data directory"),
	{"postgres_log", METRIC_CLUSTER, METRIC_CSVLOG, COLS(postgres_log_cols), NULL, 0,
	 NULL, 0, "server log records from the csvlog, read incrementally"},
	/* last: its position is also the order the collector writes it in */
	{"snapshot_status", METRIC_CLUSTER, METRIC_STATUS, COLS(snapshot_status_cols), NULL, 0,
	 NULL, 0, "the last block of every snapshot: complete or partial, and why"},
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

int
catalog_pgss_version(const char *extversion)
{
	unsigned major, minor;
	char tail;

	if (extversion == NULL ||
	    sscanf(extversion, "%u.%u%c", &major, &minor, &tail) != 2 ||
	    major > 99 || minor > 99)
		return -1;
	return (int)(major * 100 + minor);
}

/* The text a placeholder stands for, into tmp if it is a number. */
static const char *
placeholder_value(const char *name, size_t n, const struct catalog_vars *v,
		  char *tmp, size_t cap)
{
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
	if (IS("pgss"))
		return v->pgss;
	if (IS("where"))
		return v->where;
	if (IS("limit") && v->limit > 0) {
		snprintf(tmp, cap, "%lld", v->limit);
		return tmp;
	}
	if (IS("functions_limit") && v->functions_limit > 0) {
		snprintf(tmp, cap, "%lld", v->functions_limit);
		return tmp;
	}
	return NULL;
#undef IS
}

int
catalog_expand(const char *sql, const struct catalog_vars *v, char *buf,
	       size_t cap, size_t *len, struct pga_err *err)
{
	char tmp[32];
	size_t out = 0;

	for (const char *p = sql; *p; p++) {
		const char *val = NULL, *close;
		size_t n;

		if (*p == '{' && (close = strchr(p, '}')) != NULL) {
			val = placeholder_value(p + 1, (size_t)(close - p - 1), v, tmp,
						sizeof(tmp));
			if (val == NULL)
				return pga_fail(err, PGA_EINVAL, "unset placeholder '%.*s' in catalog sql",
						(int)(close - p + 1), p);
			n = strlen(val);
			p = close;
		} else {
			val = p;
			n = 1;
		}
		if (out + n >= cap)
			return pga_fail(err, PGA_EINVAL, "catalog sql does not fit in %zu bytes", cap);
		memcpy(buf + out, val, n);
		out += n;
	}
	buf[out] = '\0';
	if (len != NULL)
		*len = out;
	return 0;
}

static const char *const kind_names[] = {"key", "counter", "gauge", "info"};

static const char status_doc[] =
	"Complete and partial snapshots\n"
	"    A snapshot is what one cycle took from one target: every block with\n"
	"    its snapshot_time.  The collector writes snapshot_status as the\n"
	"    snapshot's last block: 'complete' when every job of the snapshot ran\n"
	"    to its end and every block it produced is in the spool (metrics the\n"
	"    server refused are in metric_errors), 'partial' with the first\n"
	"    reason otherwise (a database that failed or was not reached, the\n"
	"    target deadline, a stop request, a spool that could not take more).\n"
	"    A snapshot cut short by the spool or a crash may have no status block\n"
	"    at all.  So, centrally, a snapshot is complete only when it has a\n"
	"    snapshot_status row saying so; the counters snapshots_complete and\n"
	"    snapshots_partial count the same on the collector, with the blocks:\n"
	"    a snapshot counts partial from its first block in the spool, complete\n"
	"    from its complete status block, and metric_errors and values_escaped\n"
	"    count what its status block says (so a kill -9 cannot make them\n"
	"    differ from the sealed status blocks).  For example:\n"
	"        SELECT d.collector_id, d.server_id, d.snapshot_time,\n"
	"               coalesce(s.status, 'no status block') AS status, s.reason\n"
	"        FROM (SELECT DISTINCT collector_id, server_id, snapshot_time\n"
	"              FROM pga.pg_stat_database) d\n"
	"        LEFT JOIN pga.snapshot_status s USING (collector_id, server_id, snapshot_time)\n"
	"        WHERE s.status IS DISTINCT FROM 'complete';\n"
	"    (pg_stat_database stands for any metric the snapshot has.)\n"
	"    values_escaped counts values that held bytes which are not UTF-8\n"
	"    (a SQL_ASCII database, a csvlog): they are loaded with each such byte\n"
	"    written as \\xNN.  metrics_unconverted counts metrics PostgreSQL\n"
	"    could not convert to UTF-8 (a character the database's encoding has\n"
	"    and UTF-8 has not): they were read unconverted, so all their bytes\n"
	"    beyond ASCII are escaped.\n";

static void
print_versions(FILE *out, const struct metric_def *m)
{
	const char *what = m->flags & METRIC_NEEDS_PGSS ? "pg_stat_statements" : "PostgreSQL";
	int lo = 0, hi = 0;

	for (size_t i = 0; i < m->nsql; i++) {
		if (lo == 0 || (m->sql[i].min_version && m->sql[i].min_version < lo))
			lo = m->sql[i].min_version;
		if (m->sql[i].max_version == 0 || hi == -1)
			hi = -1;
		else if (m->sql[i].max_version > hi)
			hi = m->sql[i].max_version;
	}
	if (m->source != METRIC_SQL)
		fprintf(out, "    from %s\n", m->source == METRIC_HOST ? "the host (os-stats)" :
			m->source == METRIC_CSVLOG ? "the server's csvlog (csvlog)" :
			"pga itself, every snapshot");
	else if (hi == -1)
		fprintf(out, "    %s %d and later\n", what, lo);
	else
		fprintf(out, "    %s %d to %d\n", what, lo, hi);
}

void
catalog_print_doc(FILE *out)
{
	size_t n;
	const struct metric_def *all = catalog_all(&n);

	fprintf(out, "%zu metrics; versions are server_version_num, or the extension "
		     "version x100 for pg_stat_statements\n\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct metric_def *m = &all[i];

		fprintf(out, "%s  (%s%s%s)\n", m->name,
			m->scope == METRIC_CLUSTER ? "per cluster" : "per database",
			m->flags & METRIC_CUMULATIVE ? ", cumulative" : "",
			m->flags & METRIC_LOW_CADENCE ? ", low cadence" : "");
		if (m->doc != NULL)
			fprintf(out, "    %s\n", m->doc);
		print_versions(out, m);
		for (size_t c = 0; c < m->ncols; c++)
			fprintf(out, "      %-32s %-24s %s\n", m->cols[c].name, m->cols[c].type,
				kind_names[m->cols[c].kind]);
		fprintf(out, "\n");
	}
	fprintf(out, "%s", status_doc);
}
