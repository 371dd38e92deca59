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
	{"indisvalid", "boolean", I}, {"indexdef", "text", I},
};

static const struct metric_sql index_sizes_sql[] = {
	{120000, 0,
	 "SELECT i.indexrelid, i.indrelid, n.nspname, t.relname, c.relname,"
	 " pg_relation_size(i.indexrelid), i.indisunique, i.indisprimary,"
	 " i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i"
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

/* ---- progress of running maintenance (per database: names resolve there) ---- */

/* The database a session is in: progress views show every database's. */
#define MYDB "(SELECT oid FROM pg_database WHERE datname = current_database())"
/* The first characters of a query text (track_activity_query_size is the
 * server's own cap, 1 kB by default). */
#define QUERY_PREFIX(col) "left(" col ", 1024)"
/* A progress view's relation named, with the backend's query. */
#define PROGRESS_FROM(view) \
	" FROM " view " p LEFT JOIN pg_class c ON c.oid = p.relid" \
	" LEFT JOIN pg_namespace n ON n.oid = c.relnamespace" \
	" LEFT JOIN pg_stat_activity a ON a.pid = p.pid" \
	" WHERE p.datid = " MYDB " ORDER BY p.pid"
#define PROGRESS_HEAD "SELECT p.pid, p.relid, n.nspname::text, c.relname::text,"
#define PROGRESS_TAIL " a.query_start, " QUERY_PREFIX("a.query")
/* A metric of a progress view runs only where a command is in progress:
 * asked of the function under the views (cheaper to plan, in each of
 * hundreds of new sessions), for every database at once where the cluster
 * session lists them ({datid}, see catalog.h). */
#define PROGRESS_WHEN(cmd) \
	"EXISTS (SELECT 1 FROM pg_stat_get_progress_info('" cmd "') WHERE datid = {datid})"

static const struct metric_col progress_vacuum_cols[] = {
	{"pid", "integer", K}, {"relid", "oid", I}, {"schemaname", "text", I},
	{"relname", "text", I}, {"phase", "text", I},
	{"heap_blks_total", "bigint", G}, {"heap_blks_scanned", "bigint", G},
	{"heap_blks_vacuumed", "bigint", G}, {"index_vacuum_count", "bigint", G},
	{"max_dead_tuples", "bigint", G}, {"num_dead_tuples", "bigint", G},
	{"max_dead_tuple_bytes", "bigint", G}, {"dead_tuple_bytes", "bigint", G},
	{"num_dead_item_ids", "bigint", G}, {"indexes_total", "bigint", G},
	{"indexes_processed", "bigint", G}, {"delay_time", "double precision", G},
	{"query_start", "timestamptz", I}, {"query", "text", I},
};

#define VAC_HEAD PROGRESS_HEAD " p.phase, p.heap_blks_total, p.heap_blks_scanned," \
	" p.heap_blks_vacuumed, p.index_vacuum_count,"
#define VAC_FROM PROGRESS_FROM("pg_stat_progress_vacuum")

/* 17 counts dead items in bytes and item ids; 18 adds the cost-delay time. */
static const struct metric_sql progress_vacuum_sql[] = {
	{120000, 169999, VAC_HEAD " p.max_dead_tuples, p.num_dead_tuples, NULL::bigint,"
	 " NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::float8," PROGRESS_TAIL
	 VAC_FROM},
	{170000, 179999, VAC_HEAD " NULL::bigint, NULL::bigint, p.max_dead_tuple_bytes,"
	 " p.dead_tuple_bytes, p.num_dead_item_ids, p.indexes_total, p.indexes_processed,"
	 " NULL::float8," PROGRESS_TAIL VAC_FROM},
	{180000, 0, VAC_HEAD " NULL::bigint, NULL::bigint, p.max_dead_tuple_bytes,"
	 " p.dead_tuple_bytes, p.num_dead_item_ids, p.indexes_total, p.indexes_processed,"
	 " p.delay_time," PROGRESS_TAIL VAC_FROM},
};

static const struct metric_col progress_analyze_cols[] = {
	{"pid", "integer", K}, {"relid", "oid", I}, {"schemaname", "text", I},
	{"relname", "text", I}, {"phase", "text", I},
	{"sample_blks_total", "bigint", G}, {"sample_blks_scanned", "bigint", G},
	{"ext_stats_total", "bigint", G}, {"ext_stats_computed", "bigint", G},
	{"child_tables_total", "bigint", G}, {"child_tables_done", "bigint", G},
	{"current_child_table_relid", "oid", I}, {"delay_time", "double precision", G},
	{"query_start", "timestamptz", I}, {"query", "text", I},
};

#define ANA_HEAD PROGRESS_HEAD " p.phase, p.sample_blks_total, p.sample_blks_scanned," \
	" p.ext_stats_total, p.ext_stats_computed, p.child_tables_total, p.child_tables_done," \
	" p.current_child_table_relid,"

static const struct metric_sql progress_analyze_sql[] = {
	{130000, 179999, ANA_HEAD " NULL::float8," PROGRESS_TAIL
	 PROGRESS_FROM("pg_stat_progress_analyze")},
	{180000, 0, ANA_HEAD " p.delay_time," PROGRESS_TAIL
	 PROGRESS_FROM("pg_stat_progress_analyze")},
};

static const struct metric_col progress_create_index_cols[] = {
	{"pid", "integer", K}, {"relid", "oid", I}, {"schemaname", "text", I},
	{"relname", "text", I}, {"index_relid", "oid", I}, {"indexrelname", "text", I},
	{"command", "text", I}, {"phase", "text", I},
	{"lockers_total", "bigint", G}, {"lockers_done", "bigint", G},
	{"current_locker_pid", "bigint", I}, {"blocks_total", "bigint", G},
	{"blocks_done", "bigint", G}, {"tuples_total", "bigint", G},
	{"tuples_done", "bigint", G}, {"partitions_total", "bigint", G},
	{"partitions_done", "bigint", G},
	{"query_start", "timestamptz", I}, {"query", "text", I},
};

/* The new index is not committed yet: its name shows for CONCURRENTLY
 * (and REINDEX) only. */
static const struct metric_sql progress_create_index_sql[] = {
	{120000, 0, PROGRESS_HEAD " p.index_relid, ci.relname::text, p.command, p.phase,"
	 " p.lockers_total, p.lockers_done, p.current_locker_pid, p.blocks_total,"
	 " p.blocks_done, p.tuples_total, p.tuples_done, p.partitions_total,"
	 " p.partitions_done," PROGRESS_TAIL
	 " FROM pg_stat_progress_create_index p LEFT JOIN pg_class c ON c.oid = p.relid"
	 " LEFT JOIN pg_namespace n ON n.oid = c.relnamespace"
	 " LEFT JOIN pg_class ci ON ci.oid = p.index_relid"
	 " LEFT JOIN pg_stat_activity a ON a.pid = p.pid"
	 " WHERE p.datid = " MYDB " ORDER BY p.pid"},
};

static const struct metric_col progress_cluster_cols[] = {
	{"pid", "integer", K}, {"relid", "oid", I}, {"schemaname", "text", I},
	{"relname", "text", I}, {"command", "text", I}, {"phase", "text", I},
	{"cluster_index_relid", "oid", I}, {"heap_tuples_scanned", "bigint", G},
	{"heap_tuples_written", "bigint", G}, {"heap_blks_total", "bigint", G},
	{"heap_blks_scanned", "bigint", G}, {"index_rebuild_count", "bigint", G},
	{"query_start", "timestamptz", I}, {"query", "text", I},
};

static const struct metric_sql progress_cluster_sql[] = {
	{120000, 0, PROGRESS_HEAD " p.command, p.phase, p.cluster_index_relid,"
	 " p.heap_tuples_scanned, p.heap_tuples_written, p.heap_blks_total,"
	 " p.heap_blks_scanned, p.index_rebuild_count," PROGRESS_TAIL
	 PROGRESS_FROM("pg_stat_progress_cluster")},
};

static const struct metric_col progress_copy_cols[] = {
	{"pid", "integer", K}, {"relid", "oid", I}, {"schemaname", "text", I},
	{"relname", "text", I}, {"command", "text", I}, {"type", "text", I},
	{"bytes_processed", "bigint", G}, {"bytes_total", "bigint", G},
	{"tuples_processed", "bigint", G}, {"tuples_excluded", "bigint", G},
	{"tuples_skipped", "bigint", G},
	{"query_start", "timestamptz", I}, {"query", "text", I},
};

#define COPY_HEAD PROGRESS_HEAD " p.command, p.type, p.bytes_processed, p.bytes_total," \
	" p.tuples_processed, p.tuples_excluded,"

/* relid is 0 for COPY (query) TO. */
static const struct metric_sql progress_copy_sql[] = {
	{140000, 169999, COPY_HEAD " NULL::bigint," PROGRESS_TAIL
	 PROGRESS_FROM("pg_stat_progress_copy")},
	{170000, 0, COPY_HEAD " p.tuples_skipped," PROGRESS_TAIL
	 PROGRESS_FROM("pg_stat_progress_copy")},
};

static const struct metric_col progress_basebackup_cols[] = {
	{"pid", "integer", K}, {"phase", "text", I},
	{"backup_total", "bigint", G}, {"backup_streamed", "bigint", G},
	{"tablespaces_total", "bigint", G}, {"tablespaces_streamed", "bigint", G},
	{"usename", "text", I}, {"application_name", "text", I},
	{"client_addr", "text", I}, {"backend_start", "timestamptz", I},
};

/* A base backup runs in a walsender, in no database: once per cluster.
 * backup_total is NULL unless the client asked for progress (-P). */
static const struct metric_sql progress_basebackup_sql[] = {
	{130000, 0,
	 "SELECT p.pid, p.phase, p.backup_total, p.backup_streamed, p.tablespaces_total,"
	 " p.tablespaces_streamed, a.usename::text, a.application_name, a.client_addr::text,"
	 " a.backend_start FROM pg_stat_progress_basebackup p"
	 " LEFT JOIN pg_stat_activity a ON a.pid = p.pid ORDER BY p.pid"},
};

/* ---- sessions that hurt: the oldest transactions and queries ---- */

static const struct metric_col activity_top_cols[] = {
	{"pid", "integer", K}, {"leader_pid", "integer", I},
	{"datname", "text", I}, {"usename", "text", I},
	{"application_name", "text", I}, {"client_addr", "text", I},
	{"backend_type", "text", I}, {"state", "text", I},
	{"wait_event_type", "text", I}, {"wait_event", "text", I},
	{"backend_start", "timestamptz", I}, {"xact_start", "timestamptz", I},
	{"query_start", "timestamptz", I}, {"state_change", "timestamptz", I},
	{"xact_age", "double precision", G}, {"query_age", "double precision", G},
	{"state_age", "double precision", G}, {"backend_xid_age", "integer", G},
	{"backend_xmin_age", "integer", G}, {"query_id", "bigint", I},
	{"query", "text", I},
};

/*
 * Backends in a transaction or a query, or holding the xmin horizon back,
 * oldest first: an idle session holds nothing and a walsender streams
 * forever (pg_stat_replication has it), unless it holds an xmin
 * (hot_standby_feedback).  Ages in seconds, as activity_summary's.
 */
#define TOP_COLS \
	" datname::text, usename::text, application_name, client_addr::text, backend_type," \
	" state, wait_event_type, wait_event, backend_start, xact_start, query_start," \
	" state_change, extract(epoch FROM clock_timestamp() - xact_start)::float8," \
	" extract(epoch FROM clock_timestamp() - query_start)::float8," \
	" extract(epoch FROM clock_timestamp() - state_change)::float8," \
	" age(backend_xid), age(backend_xmin),"
#define TOP_FROM \
	" FROM pg_stat_activity WHERE pid <> pg_backend_pid()" \
	" AND (state IN ('active', 'idle in transaction', 'idle in transaction (aborted)'," \
	"  'fastpath function call') OR backend_xid IS NOT NULL OR backend_xmin IS NOT NULL)" \
	" AND (backend_type IS DISTINCT FROM 'walsender' OR backend_xmin IS NOT NULL)" \
	" ORDER BY coalesce(xact_start, query_start) NULLS LAST, pid LIMIT {sessions_limit}"

static const struct metric_sql activity_top_sql[] = {
	{120000, 129999, "SELECT pid, NULL::integer," TOP_COLS " NULL::bigint, "
	 QUERY_PREFIX("query") TOP_FROM},
	{130000, 139999, "SELECT pid, leader_pid," TOP_COLS " NULL::bigint, "
	 QUERY_PREFIX("query") TOP_FROM},
	{140000, 0, "SELECT pid, leader_pid," TOP_COLS " query_id, "
	 QUERY_PREFIX("query") TOP_FROM},
};

/* ---- blocking chains, from pg_blocking_pids() ---- */

static const struct metric_col blocking_chains_cols[] = {
	{"pid", "integer", K}, {"blocked_by", "integer[]", I},
	{"root_pids", "integer[]", I}, {"direct_waiters", "integer", G},
	{"chain_waiters", "integer", G}, {"datname", "text", I},
	{"usename", "text", I}, {"application_name", "text", I},
	{"backend_type", "text", I}, {"state", "text", I},
	{"wait_event_type", "text", I}, {"wait_event", "text", I},
	{"locktype", "text", I}, {"lock_mode", "text", I}, {"relation", "oid", I},
	{"lock_wait", "double precision", G}, {"xact_start", "timestamptz", I},
	{"query_start", "timestamptz", I}, {"xact_age", "double precision", G},
	{"query", "text", I},
};

/*
 * Every backend that waits for a lock another holds, and every backend at
 * the head of such a chain (blocked_by NULL: it waits for no lock).
 * pg_blocking_pids() takes the lock manager's locks: it is called only for
 * backends waiting on a heavyweight lock.  Chains are followed as
 * (root, waiter) pairs, a set: a deadlock cycle ends the recursion too (its
 * members have no root).  root_pids: the heads above a waiter;
 * chain_waiters: for a head, every backend behind it.  Heads first.
 */
#define CHAIN_WITH \
	"WITH RECURSIVE w AS (SELECT pid, pg_blocking_pids(pid) AS blocked_by" \
	"  FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid())," \
	" e AS (SELECT pid, blocked_by FROM w WHERE cardinality(blocked_by) > 0)," \
	" r AS (SELECT DISTINCT b.pid FROM e, unnest(e.blocked_by) AS b(pid)" \
	"  WHERE b.pid NOT IN (SELECT pid FROM e))," \
	" c (root, pid) AS (SELECT pid, pid FROM r UNION" \
	"  SELECT c.root, e.pid FROM c JOIN e ON c.pid = ANY (e.blocked_by))," \
	" n AS (SELECT pid FROM e UNION SELECT pid FROM r)" \
	" SELECT n.pid, e.blocked_by," \
	" (SELECT array_agg(DISTINCT c.root) FROM c WHERE c.pid = n.pid AND c.root <> n.pid)," \
	" (SELECT count(*) FROM e e2 WHERE n.pid = ANY (e2.blocked_by))::int," \
	" CASE WHEN e.pid IS NULL THEN (SELECT count(*) FROM c" \
	"  WHERE c.root = n.pid AND c.pid <> n.pid)::int END," \
	" a.datname::text, a.usename::text, a.application_name, a.backend_type, a.state," \
	" a.wait_event_type, a.wait_event, l.locktype, l.mode, l.relation,"
#define CHAIN_FROM(waitstart) \
	" a.xact_start, a.query_start," \
	" extract(epoch FROM clock_timestamp() - a.xact_start)::float8, " QUERY_PREFIX("a.query") \
	" FROM n LEFT JOIN e ON e.pid = n.pid LEFT JOIN pg_stat_activity a ON a.pid = n.pid" \
	" LEFT JOIN LATERAL (SELECT locktype, mode, relation" waitstart " FROM pg_locks" \
	"  WHERE pid = n.pid AND NOT granted LIMIT 1) l ON true" \
	" ORDER BY e.pid IS NOT NULL, 5 DESC NULLS LAST, 4 DESC, n.pid LIMIT {sessions_limit}"

static const struct metric_sql blocking_chains_sql[] = {
	{120000, 139999, CHAIN_WITH " NULL::float8," CHAIN_FROM("")},
	{140000, 0, CHAIN_WITH " extract(epoch FROM clock_timestamp() - l.waitstart)::float8,"
	 CHAIN_FROM(", waitstart")},
};

/* ---- standby state (on a standby only) ---- */

#define STANDBY_WHEN "pg_is_in_recovery()"

static const struct metric_col stat_wal_receiver_cols[] = {
	{"pid", "integer", I}, {"status", "text", I},
	{"receive_start_lsn", "pg_lsn", I}, {"receive_start_tli", "integer", I},
	{"written_lsn", "pg_lsn", I}, {"flushed_lsn", "pg_lsn", I},
	{"received_tli", "integer", I}, {"last_msg_send_time", "timestamptz", I},
	{"last_msg_receipt_time", "timestamptz", I}, {"latest_end_lsn", "pg_lsn", I},
	{"latest_end_time", "timestamptz", I}, {"slot_name", "text", I},
	{"sender_host", "text", I}, {"sender_port", "integer", I},
	{"receipt_age", "double precision", G},
};

/* 12's received_lsn is 13's flushed_lsn (renamed when written_lsn came);
 * conninfo is left out: it may name a password file or user. */
#define WALRCV_TAIL \
	" received_tli, last_msg_send_time, last_msg_receipt_time, latest_end_lsn," \
	" latest_end_time, slot_name, sender_host, sender_port," \
	" extract(epoch FROM clock_timestamp() - last_msg_receipt_time)::float8" \
	" FROM pg_stat_wal_receiver"

static const struct metric_sql stat_wal_receiver_sql[] = {
	{120000, 129999, "SELECT pid, status, receive_start_lsn, receive_start_tli,"
	 " NULL::pg_lsn, received_lsn," WALRCV_TAIL},
	{130000, 0, "SELECT pid, status, receive_start_lsn, receive_start_tli,"
	 " written_lsn, flushed_lsn," WALRCV_TAIL},
};

static const struct metric_col standby_replay_cols[] = {
	{"receive_lsn", "pg_lsn", C}, {"replay_lsn", "pg_lsn", C},
	{"replay_lag_bytes", "numeric", G}, {"last_replay_time", "timestamptz", I},
	{"replay_age", "double precision", G}, {"replay_paused", "boolean", I},
	{"pause_state", "text", I},
};

#define REPLAY_HEAD \
	"SELECT pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()," \
	" pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())," \
	" pg_last_xact_replay_timestamp()," \
	" extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8," \
	" pg_is_wal_replay_paused(),"

/* replay_age grows while the primary is idle: nothing to replay is not lag. */
static const struct metric_sql standby_replay_sql[] = {
	{120000, 139999, REPLAY_HEAD " NULL::text"},
	{140000, 0, REPLAY_HEAD " pg_get_wal_replay_pause_state()"},
};

/* ---- logical replication: subscriptions and origins ---- */

static const struct metric_col stat_subscription_cols[] = {
	{"subid", "oid", K}, {"subname", "text", I}, {"worker_type", "text", I},
	{"pid", "integer", I}, {"leader_pid", "integer", I}, {"relid", "oid", I},
	{"received_lsn", "pg_lsn", I}, {"last_msg_send_time", "timestamptz", I},
	{"last_msg_receipt_time", "timestamptz", I}, {"latest_end_lsn", "pg_lsn", I},
	{"latest_end_time", "timestamptz", I}, {"enabled", "boolean", I},
	{"receipt_age", "double precision", G},
};

/* Subscriptions are a shared catalog: every database's, from any.  Before
 * 17 the worker type is derived as 17 names it; a subscription without a
 * worker (disabled, or failing) has a row with pid NULL. */
#define SUB_TAIL \
	" st.relid, st.received_lsn, st.last_msg_send_time, st.last_msg_receipt_time," \
	" st.latest_end_lsn, st.latest_end_time, s.subenabled," \
	" extract(epoch FROM clock_timestamp() - st.last_msg_receipt_time)::float8" \
	" FROM pg_stat_subscription st LEFT JOIN pg_subscription s ON s.oid = st.subid" \
	" ORDER BY st.subid, st.pid"
#define SUB_TYPE(parallel) \
	" CASE WHEN st.pid IS NULL THEN NULL WHEN st.relid IS NOT NULL" \
	"  THEN 'table synchronization'" parallel " ELSE 'apply' END,"

static const struct metric_sql stat_subscription_sql[] = {
	{120000, 159999, "SELECT st.subid, st.subname::text," SUB_TYPE("")
	 " st.pid, NULL::integer," SUB_TAIL},
	{160000, 169999, "SELECT st.subid, st.subname::text,"
	 SUB_TYPE(" WHEN st.leader_pid IS NOT NULL THEN 'parallel apply'")
	 " st.pid, st.leader_pid," SUB_TAIL},
	{170000, 0, "SELECT st.subid, st.subname::text, st.worker_type, st.pid, st.leader_pid,"
	 SUB_TAIL},
};

static const struct metric_col stat_subscription_stats_cols[] = {
	{"subid", "oid", K}, {"subname", "text", I},
	{"apply_error_count", "bigint", C}, {"sync_error_count", "bigint", C},
	{"confl_insert_exists", "bigint", C}, {"confl_update_origin_differs", "bigint", C},
	{"confl_update_exists", "bigint", C}, {"confl_update_missing", "bigint", C},
	{"confl_delete_origin_differs", "bigint", C}, {"confl_delete_missing", "bigint", C},
	{"confl_multiple_unique_conflicts", "bigint", C},
	{"stats_reset", "timestamptz", I},
};

static const struct metric_sql stat_subscription_stats_sql[] = {
	{150000, 179999,
	 "SELECT subid, subname::text, apply_error_count, sync_error_count, NULL::bigint,"
	 " NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,"
	 " stats_reset FROM pg_stat_subscription_stats ORDER BY subid"},
	{180000, 0,
	 "SELECT subid, subname::text, apply_error_count, sync_error_count,"
	 " confl_insert_exists, confl_update_origin_differs, confl_update_exists,"
	 " confl_update_missing, confl_delete_origin_differs, confl_delete_missing,"
	 " confl_multiple_unique_conflicts, stats_reset"
	 " FROM pg_stat_subscription_stats ORDER BY subid"},
};

static const struct metric_col replication_origin_status_cols[] = {
	{"local_id", "oid", K}, {"external_id", "text", I},
	{"remote_lsn", "pg_lsn", I}, {"local_lsn", "pg_lsn", I},
};

static const struct metric_sql replication_origin_status_sql[] = {
	{120000, 0,
	 "SELECT local_id, external_id, remote_lsn, local_lsn"
	 " FROM pg_replication_origin_status ORDER BY local_id"},
};

/* Superuser only before 14 (a check inside the function), then EXECUTE on
 * pg_show_replication_origin_status(), revoked from PUBLIC. */
#define ORIGINS_WHEN \
	"(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)" \
	" OR (current_setting('server_version_num')::int >= 140000" \
	"  AND has_function_privilege('pg_show_replication_origin_status()', 'EXECUTE'))"

/* ---- checkpoints, pg_wal, tablespaces ---- */

static const struct metric_col control_checkpoint_cols[] = {
	{"checkpoint_lsn", "pg_lsn", I}, {"redo_lsn", "pg_lsn", I},
	{"redo_wal_file", "text", I}, {"timeline_id", "integer", I},
	{"full_page_writes", "boolean", I}, {"checkpoint_time", "timestamptz", I},
	{"checkpoint_age", "double precision", G},
	{"redo_distance_bytes", "numeric", G}, {"max_wal_size_bytes", "bigint", I},
	{"checkpoint_timeout", "double precision", I},
};

/* The WAL since the last checkpoint's redo point is what recovery would
 * replay and what triggers the next checkpoint (against max_wal_size); on
 * a standby the checkpoint is the last restartpoint. */
static const struct metric_sql control_checkpoint_sql[] = {
	{120000, 0,
	 "SELECT checkpoint_lsn, redo_lsn, redo_wal_file, timeline_id, full_page_writes,"
	 " checkpoint_time, extract(epoch FROM clock_timestamp() - checkpoint_time)::float8,"
	 " pg_wal_lsn_diff(" CUR_LSN ", redo_lsn),"
	 " pg_size_bytes(current_setting('max_wal_size')),"
	 " extract(epoch FROM current_setting('checkpoint_timeout')::interval)::float8"
	 " FROM pg_control_checkpoint()"},
};

static const struct metric_col wal_files_cols[] = {
	{"wal_files", "integer", G}, {"wal_bytes", "bigint", G},
	{"ready_files", "integer", G}, {"oldest_ready_age", "double precision", G},
};

/* ready_files: segments waiting for archive_command (the archiver's
 * backlog), the oldest by its status file's age. */
static const struct metric_sql wal_files_sql[] = {
	{120000, 0,
	 "SELECT w.files, w.bytes, a.ready, a.oldest"
	 " FROM (SELECT count(*)::int AS files, coalesce(sum(size), 0)::bigint AS bytes"
	 "  FROM pg_ls_waldir()) w,"
	 " (SELECT count(*)::int AS ready,"
	 "  extract(epoch FROM clock_timestamp() - min(modification))::float8 AS oldest"
	 "  FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready') a"},
};

#define WAL_FILES_WHEN \
	"has_function_privilege('pg_ls_waldir()', 'EXECUTE')" \
	" AND has_function_privilege('pg_ls_archive_statusdir()', 'EXECUTE')"

static const struct metric_col tablespaces_cols[] = {
	{"oid", "oid", K}, {"spcname", "text", I}, {"location", "text", I},
	{"size_bytes", "bigint", G},
};

/* pg_tablespace_size() refuses (an error) a tablespace we have no CREATE
 * on, unless pg_read_all_stats or it is our database's default.  It stats
 * every file of the tablespace: pg_default's walk is pg_database's again
 * (measured: 660 ms a cycle for 100 databases of 30 tables), so it comes
 * at the bloat cadence. */
static const struct metric_sql tablespaces_sql[] = {
	{120000, 0,
	 "SELECT oid, spcname::text, pg_tablespace_location(oid),"
	 " CASE WHEN has_tablespace_privilege(oid, 'CREATE')"
	 "  OR pg_has_role('pg_read_all_stats', 'USAGE')"
	 "  OR oid = (SELECT dattablespace FROM pg_database WHERE datname = current_database())"
	 "  THEN pg_tablespace_size(oid) END FROM pg_tablespace ORDER BY oid"},
};

/* ---- bloat: estimates from the planner's statistics, measures from pgstattuple ---- */

/*
 * The well-known estimates (ioguide's pgsql-bloat-estimation, after
 * pgexperts): a table's expected pages from reltuples and its columns'
 * average widths and null fractions in pg_stats, against relpages.  Only
 * the statistics our role may read (pg_stats hides the columns it may not
 * SELECT): is_na marks a relation whose estimate is unreliable (a column
 * without statistics, or of type name).  extra_*: pages beyond a perfect
 * packing; bloat_*: beyond the fillfactor's.  8-byte alignment on 64-bit
 * servers.  Only relations with pages (relpages > 0, after a VACUUM or
 * ANALYZE); other sessions' temporary tables are left out.
 */
#define TABLE_BLOAT_EST \
	"SELECT relid, schemaname, relname, tblpages AS relpages," \
	" (bs * tblpages)::bigint AS table_bytes, fillfactor," \
	" greatest(tblpages - est_pages, 0)::bigint * bs::bigint AS extra_bytes," \
	" greatest(100 * (tblpages - est_pages)::float8 / tblpages, 0) AS extra_pct," \
	" greatest(tblpages - est_pages_ff, 0)::bigint * bs::bigint AS bloat_bytes," \
	" greatest(100 * (tblpages - est_pages_ff)::float8 / tblpages, 0) AS bloat_pct, is_na" \
	" FROM (SELECT ceil(reltuples / ((bs - page_hdr) / tpl_size)) + ceil(toasttuples / 4)" \
	"   AS est_pages," \
	"  ceil(reltuples / ((bs - page_hdr) * fillfactor / (tpl_size * 100)))" \
	"   + ceil(toasttuples / 4) AS est_pages_ff," \
	"  heappages + toastpages AS tblpages, fillfactor, bs, relid, schemaname," \
	"  relname, is_na" \
	" FROM (SELECT (4 + tpl_hdr_size + tpl_data_size + (2 * ma)" \
	"   - CASE WHEN tpl_hdr_size % ma = 0 THEN ma ELSE tpl_hdr_size % ma END" \
	"   - CASE WHEN ceil(tpl_data_size)::int % ma = 0 THEN ma" \
	"     ELSE ceil(tpl_data_size)::int % ma END) AS tpl_size," \
	"  heappages, toastpages, reltuples, toasttuples, bs, page_hdr, relid, schemaname," \
	"  relname, fillfactor, is_na" \
	" FROM (SELECT tbl.oid AS relid, ns.nspname::text AS schemaname," \
	"  tbl.relname::text AS relname, greatest(tbl.reltuples, 0)::float8 AS reltuples," \
	"  tbl.relpages::bigint AS heappages, coalesce(toast.relpages, 0)::bigint AS toastpages," \
	"  greatest(coalesce(toast.reltuples, 0), 0)::float8 AS toasttuples," \
	"  coalesce(substring(array_to_string(tbl.reloptions, ' ')" \
	"   FROM 'fillfactor=([0-9]+)')::int, 100) AS fillfactor," \
	"  current_setting('block_size')::numeric AS bs," \
	"  CASE WHEN version() ~ 'mingw32|64-bit|x86_64|ppc64|ia64|amd64|aarch64'" \
	"   THEN 8 ELSE 4 END AS ma, 24 AS page_hdr," \
	"  23 + CASE WHEN max(coalesce(s.null_frac, 0)) > 0 THEN (7 + count(*)) / 8" \
	"   ELSE 0 END AS tpl_hdr_size," \
	"  sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0)) AS tpl_data_size," \
	"  bool_or(att.atttypid = 'pg_catalog.name'::regtype)" \
	"   OR count(*) <> count(s.attname) AS is_na" \
	" FROM pg_attribute att JOIN pg_class tbl ON tbl.oid = att.attrelid" \
	" JOIN pg_namespace ns ON ns.oid = tbl.relnamespace" \
	" LEFT JOIN pg_stats s ON s.schemaname = ns.nspname AND s.tablename = tbl.relname" \
	"  AND s.attname = att.attname AND NOT s.inherited" \
	" LEFT JOIN pg_class toast ON toast.oid = tbl.reltoastrelid" \
	" WHERE att.attnum > 0 AND NOT att.attisdropped AND tbl.relkind IN ('r', 'm')" \
	"  AND tbl.relpersistence <> 't' AND tbl.relpages > 0" \
	" GROUP BY 1, 2, 3, 4, 5, 6, 7, 8) AS s1) AS s2) AS s3"

static const struct metric_col table_bloat_cols[] = {
	{"relid", "oid", K}, {"schemaname", "text", I}, {"relname", "text", I},
	{"relpages", "bigint", G}, {"table_bytes", "bigint", G},
	{"fillfactor", "integer", I}, {"extra_bytes", "bigint", G},
	{"extra_pct", "double precision", G}, {"bloat_bytes", "bigint", G},
	{"bloat_pct", "double precision", G}, {"is_na", "boolean", I},
};

static const struct metric_sql table_bloat_sql[] = {
	{120000, 0, TABLE_BLOAT_EST " ORDER BY relid"},
};

/* B-tree indexes: entries from the indexed columns' (or, for expressions,
 * the index's own) statistics; a column without statistics counts 1 kB
 * and marks is_na (eight of them would make an entry wider than a page:
 * at least one entry a page, then).  Deduplication (13+) is not modelled:
 * a deduplicated index may show less than it holds. */
#define INDEX_BLOAT_EST \
	"SELECT indexrelid, relid, schemaname, relname, indexrelname, relpages," \
	" (bs * relpages)::bigint AS index_bytes, fillfactor," \
	" greatest(relpages - est_pages, 0)::bigint * bs::bigint AS extra_bytes," \
	" greatest(100 * (relpages - est_pages)::float8 / relpages, 0) AS extra_pct," \
	" greatest(relpages - est_pages_ff, 0)::bigint * bs::bigint AS bloat_bytes," \
	" greatest(100 * (relpages - est_pages_ff)::float8 / relpages, 0) AS bloat_pct, is_na" \
	" FROM (SELECT coalesce(1 + ceil(reltuples / greatest(floor((bs - pageopqdata - pagehdr)" \
	"   / (4 + nulldatahdrwidth)::float8), 1)), 0) AS est_pages," \
	"  coalesce(1 + ceil(reltuples / greatest(floor((bs - pageopqdata - pagehdr) * fillfactor" \
	"   / (100 * (4 + nulldatahdrwidth)::float8)), 1)), 0) AS est_pages_ff," \
	"  bs, indexrelid, relid, schemaname, relname, indexrelname, relpages, fillfactor, is_na" \
	" FROM (SELECT bs, indexrelid, relid, schemaname, relname, indexrelname, reltuples," \
	"  relpages, fillfactor, pagehdr, pageopqdata, is_na," \
	"  (index_tuple_hdr_bm + maxalign - CASE WHEN index_tuple_hdr_bm % maxalign = 0" \
	"    THEN maxalign ELSE index_tuple_hdr_bm % maxalign END" \
	"   + nulldatawidth + maxalign - CASE WHEN nulldatawidth = 0 THEN 0" \
	"    WHEN nulldatawidth::int % maxalign = 0 THEN maxalign" \
	"    ELSE nulldatawidth::int % maxalign END)::numeric AS nulldatahdrwidth" \
	" FROM (SELECT i.indexrelid, i.relid, n.nspname::text AS schemaname, i.tblname AS relname," \
	"  i.idxname AS indexrelname, i.reltuples, i.relpages, i.fillfactor," \
	"  current_setting('block_size')::numeric AS bs," \
	"  CASE WHEN version() ~ 'mingw32|64-bit|x86_64|ppc64|ia64|amd64|aarch64'" \
	"   THEN 8 ELSE 4 END AS maxalign, 24 AS pagehdr, 16 AS pageopqdata," \
	"  CASE WHEN max(coalesce(s.null_frac, 0)) = 0 THEN 8 ELSE 8 + ((32 + 8 - 1) / 8)" \
	"   END AS index_tuple_hdr_bm," \
	"  sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 1024)) AS nulldatawidth," \
	"  bool_or(i.atttypid = 'pg_catalog.name'::regtype)" \
	"   OR count(*) <> count(s.attname) AS is_na" \
	" FROM (SELECT ic.indexrelid, ic.relid, ct.relname::text AS tblname, ct.relnamespace," \
	"  ic.idxname, ic.reltuples, ic.relpages, ic.fillfactor," \
	"  coalesce(a1.attname, a2.attname) AS attname," \
	"  coalesce(a1.atttypid, a2.atttypid) AS atttypid," \
	"  CASE WHEN a1.attnum IS NULL THEN ic.idxname ELSE ct.relname::text END AS attrelname" \
	" FROM (SELECT ci.relname::text AS idxname, greatest(ci.reltuples, 0)::float8 AS reltuples," \
	"  ci.relpages::bigint AS relpages, x.indrelid AS relid, x.indexrelid," \
	"  coalesce(substring(array_to_string(ci.reloptions, ' ')" \
	"   FROM 'fillfactor=([0-9]+)')::int, 90) AS fillfactor, x.indkey, g.attpos" \
	"  FROM pg_index x JOIN pg_class ci ON ci.oid = x.indexrelid" \
	"  JOIN pg_am am ON am.oid = ci.relam AND am.amname = 'btree'" \
	"  CROSS JOIN LATERAL generate_series(1, x.indnatts) AS g(attpos)" \
	"  WHERE ci.relpages > 0 AND ci.relpersistence <> 't') ic" \
	" JOIN pg_class ct ON ct.oid = ic.relid" \
	" LEFT JOIN pg_attribute a1 ON ic.indkey[ic.attpos - 1] <> 0" \
	"  AND a1.attrelid = ic.relid AND a1.attnum = ic.indkey[ic.attpos - 1]" \
	" LEFT JOIN pg_attribute a2 ON ic.indkey[ic.attpos - 1] = 0" \
	"  AND a2.attrelid = ic.indexrelid AND a2.attnum = ic.attpos) i" \
	" JOIN pg_namespace n ON n.oid = i.relnamespace" \
	" LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = i.attrelname" \
	"  AND s.attname = i.attname AND NOT s.inherited" \
	" GROUP BY 1, 2, 3, 4, 5, 6, 7, 8) AS s1) AS s2) AS s3"

static const struct metric_col index_bloat_cols[] = {
	{"indexrelid", "oid", K}, {"relid", "oid", I}, {"schemaname", "text", I},
	{"relname", "text", I}, {"indexrelname", "text", I}, {"relpages", "bigint", G},
	{"index_bytes", "bigint", G}, {"fillfactor", "integer", I},
	{"extra_bytes", "bigint", G}, {"extra_pct", "double precision", G},
	{"bloat_bytes", "bigint", G}, {"bloat_pct", "double precision", G},
	{"is_na", "boolean", I},
};

static const struct metric_sql index_bloat_sql[] = {
	{120000, 0, INDEX_BLOAT_EST " ORDER BY indexrelid"},
};

/*
 * Measures, where pgstattuple is installed and our role may run it
 * (superuser, or pg_stat_scan_tables): the bloat-exact-limit relations
 * with the most estimated bloat, each at most bloat-exact-max-size, by
 * their last known size (relpages) and again by their size now.
 * pgstattuple_approx() reads only the pages the visibility map does not
 * show all-visible; pgstatindex() reads the whole index.  A relation
 * someone holds an ACCESS EXCLUSIVE lock on (a rewrite) is left for the
 * next time rather than waited for.
 */
#define NOT_REWRITTEN(oid) \
	" AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.relation = " oid \
	"  AND l.mode = 'AccessExclusiveLock' AND l.database = " MYDB ")"

static const struct metric_col table_bloat_exact_cols[] = {
	{"relid", "oid", K}, {"schemaname", "text", I}, {"relname", "text", I},
	{"table_len", "bigint", G}, {"scanned_percent", "double precision", G},
	{"approx_tuple_count", "bigint", G}, {"approx_tuple_len", "bigint", G},
	{"approx_tuple_percent", "double precision", G},
	{"dead_tuple_count", "bigint", G}, {"dead_tuple_len", "bigint", G},
	{"dead_tuple_percent", "double precision", G},
	{"approx_free_space", "bigint", G}, {"approx_free_percent", "double precision", G},
};

static const struct metric_sql table_bloat_exact_sql[] = {
	{104, 0,
	 "SELECT e.relid, e.schemaname, e.relname, s.table_len, s.scanned_percent,"
	 " s.approx_tuple_count, s.approx_tuple_len, s.approx_tuple_percent,"
	 " s.dead_tuple_count, s.dead_tuple_len, s.dead_tuple_percent, s.approx_free_space,"
	 " s.approx_free_percent"
	 " FROM (SELECT relid, schemaname, relname FROM (" TABLE_BLOAT_EST ") est"
	 "  WHERE table_bytes <= {exact_max_size}" NOT_REWRITTEN("est.relid")
	 "  ORDER BY bloat_bytes DESC, relid LIMIT {exact_limit}) e"
	 " CROSS JOIN LATERAL {ext}.pgstattuple_approx(e.relid) s"
	 " WHERE pg_relation_size(e.relid) <= {exact_max_size} ORDER BY e.relid"},
};

static const struct metric_col index_bloat_exact_cols[] = {
	{"indexrelid", "oid", K}, {"relid", "oid", I}, {"schemaname", "text", I},
	{"relname", "text", I}, {"indexrelname", "text", I},
	{"tree_level", "integer", G}, {"index_size", "bigint", G},
	{"internal_pages", "bigint", G}, {"leaf_pages", "bigint", G},
	{"empty_pages", "bigint", G}, {"deleted_pages", "bigint", G},
	{"avg_leaf_density", "double precision", G},
	{"leaf_fragmentation", "double precision", G},
};

static const struct metric_sql index_bloat_exact_sql[] = {
	{104, 0,
	 "SELECT e.indexrelid, e.relid, e.schemaname, e.relname, e.indexrelname,"
	 " s.tree_level, s.index_size, s.internal_pages, s.leaf_pages, s.empty_pages,"
	 " s.deleted_pages, s.avg_leaf_density, s.leaf_fragmentation"
	 " FROM (SELECT est.indexrelid, est.relid, est.schemaname, est.relname, est.indexrelname"
	 "  FROM (" INDEX_BLOAT_EST ") est JOIN pg_index x ON x.indexrelid = est.indexrelid"
	 "  WHERE x.indisvalid AND x.indisready AND est.index_bytes <= {exact_max_size}"
	 NOT_REWRITTEN("est.indexrelid") NOT_REWRITTEN("est.relid")
	 "  ORDER BY est.bloat_bytes DESC, est.indexrelid LIMIT {exact_limit}) e"
	 " CROSS JOIN LATERAL {ext}.pgstatindex(e.indexrelid::regclass) s"
	 " WHERE pg_relation_size(e.indexrelid) <= {exact_max_size} ORDER BY e.indexrelid"},
};

/* Every function the metric calls, executable by our role; NULL (false)
 * where pgstattuple is not installed.  And bloat-exact-limit not 0. */
#define PGSTATTUPLE_WHEN(fn) \
	"{exact_limit} > 0 AND (SELECT bool_and(has_function_privilege(p.oid, 'EXECUTE'))" \
	" FROM pg_proc p JOIN pg_extension x ON x.extnamespace = p.pronamespace" \
	" WHERE x.extname = 'pgstattuple' AND p.proname = '" fn "')"

/* ---- pg_stat_statements beyond the top N ---- */

static const struct metric_col statements_totals_cols[] = {
	{"part", "text", K}, {"entries", "bigint", G}, {"calls", "bigint", G},
	{"plans", "bigint", G}, {"total_exec_time", "double precision", G},
	{"total_plan_time", "double precision", G}, {"rows", "bigint", G},
	{"shared_blks_hit", "bigint", G}, {"shared_blks_read", "bigint", G},
	{"shared_blks_dirtied", "bigint", G}, {"shared_blks_written", "bigint", G},
	{"local_blks_hit", "bigint", G}, {"local_blks_read", "bigint", G},
	{"temp_blks_read", "bigint", G}, {"temp_blks_written", "bigint", G},
	{"shared_blk_read_time", "double precision", G},
	{"shared_blk_write_time", "double precision", G},
	{"temp_blk_read_time", "double precision", G},
	{"temp_blk_write_time", "double precision", G},
	{"wal_records", "bigint", G}, {"wal_fpi", "bigint", G},
	{"wal_bytes", "numeric", G}, {"entries_max", "bigint", I},
};

/*
 * Two rows: 'top', the sums over the entries pg_stat_statements' block
 * holds (the top query-stats-limit by total time), and 'other', over all
 * the rest, so that shares of the whole are honest.  Gauges, not counters:
 * entries move in and out of the top, and an evicted entry takes its sums
 * with it.  Read in its own pass, moments after the top N's: an entry at
 * the boundary may count in the other part than in the block.
 */
#define SUM(col, type) " coalesce(sum(" col "), 0)::" type ","
#define TOT_WITH(order) \
	"WITH x AS (SELECT s.*, row_number() OVER (ORDER BY " order " DESC NULLS LAST)" \
	" <= {limit} AS top FROM {pgss}.pg_stat_statements(false) s)" \
	" SELECT p.part, t.* FROM (VALUES ('top', true), ('other', false)) AS p(part, top)" \
	" CROSS JOIN LATERAL (SELECT count(*)::bigint," SUM("calls", "bigint")
#define TOT_BLKS \
	SUM("rows", "bigint") SUM("shared_blks_hit", "bigint") SUM("shared_blks_read", "bigint") \
	SUM("shared_blks_dirtied", "bigint") SUM("shared_blks_written", "bigint") \
	SUM("local_blks_hit", "bigint") SUM("local_blks_read", "bigint") \
	SUM("temp_blks_read", "bigint") SUM("temp_blks_written", "bigint")
#define TOT_WAL SUM("wal_records", "bigint") SUM("wal_fpi", "bigint") SUM("wal_bytes", "numeric")
#define TOT_NO_WAL " NULL::bigint, NULL::bigint, NULL::numeric,"
#define TOT_END \
	" current_setting('pg_stat_statements.max')::bigint FROM x WHERE x.top = p.top) t" \
	" ORDER BY p.top DESC"

static const struct metric_sql statements_totals_sql[] = {
	{104, 107, TOT_WITH("total_time") " NULL::bigint," SUM("total_time", "float8")
	 " NULL::float8," TOT_BLKS SUM("blk_read_time", "float8") SUM("blk_write_time", "float8")
	 " NULL::float8, NULL::float8," TOT_NO_WAL TOT_END},
	{108, 109, TOT_WITH("total_exec_time") SUM("plans", "bigint")
	 SUM("total_exec_time", "float8") SUM("total_plan_time", "float8") TOT_BLKS
	 SUM("blk_read_time", "float8") SUM("blk_write_time", "float8")
	 " NULL::float8, NULL::float8," TOT_WAL TOT_END},
	{110, 110, TOT_WITH("total_exec_time") SUM("plans", "bigint")
	 SUM("total_exec_time", "float8") SUM("total_plan_time", "float8") TOT_BLKS
	 SUM("blk_read_time", "float8") SUM("blk_write_time", "float8")
	 SUM("temp_blk_read_time", "float8") SUM("temp_blk_write_time", "float8") TOT_WAL TOT_END},
	{111, 0, TOT_WITH("total_exec_time") SUM("plans", "bigint")
	 SUM("total_exec_time", "float8") SUM("total_plan_time", "float8") TOT_BLKS
	 SUM("shared_blk_read_time", "float8") SUM("shared_blk_write_time", "float8")
	 SUM("temp_blk_read_time", "float8") SUM("temp_blk_write_time", "float8") TOT_WAL TOT_END},
};

/* ---- the extensions PoWA uses, where installed ---- */

static const struct metric_col kcache_cols[] = {
	{"userid", "oid", K}, {"dbid", "oid", K}, {"toplevel", "boolean", K},
	{"queryid", "bigint", K},
	{"plan_user_time", "double precision", C},
	{"plan_system_time", "double precision", C},
	{"plan_reads", "bigint", C}, {"plan_writes", "bigint", C},
	{"plan_minflts", "bigint", C}, {"plan_majflts", "bigint", C},
	{"plan_nswaps", "bigint", C}, {"plan_msgsnds", "bigint", C},
	{"plan_msgrcvs", "bigint", C}, {"plan_nsignals", "bigint", C},
	{"plan_nvcsws", "bigint", C}, {"plan_nivcsws", "bigint", C},
	{"exec_user_time", "double precision", C},
	{"exec_system_time", "double precision", C},
	{"exec_reads", "bigint", C}, {"exec_writes", "bigint", C},
	{"exec_minflts", "bigint", C}, {"exec_majflts", "bigint", C},
	{"exec_nswaps", "bigint", C}, {"exec_msgsnds", "bigint", C},
	{"exec_msgrcvs", "bigint", C}, {"exec_nsignals", "bigint", C},
	{"exec_nvcsws", "bigint", C}, {"exec_nivcsws", "bigint", C},
};

/* Keyed as pg_stat_statements (userid, dbid, toplevel, queryid): the top
 * query-stats-limit entries by CPU time.  Reads and writes are bytes the
 * kernel really did (getrusage), not buffer hits.  2.1 tracked execution
 * only. */
#define KC_PLAN \
	" plan_user_time, plan_system_time, plan_reads, plan_writes, plan_minflts," \
	" plan_majflts, plan_nswaps, plan_msgsnds, plan_msgrcvs, plan_nsignals, plan_nvcsws," \
	" plan_nivcsws,"
#define KC_EXEC \
	" exec_user_time, exec_system_time, exec_reads, exec_writes, exec_minflts," \
	" exec_majflts, exec_nswaps, exec_msgsnds, exec_msgrcvs, exec_nsignals, exec_nvcsws," \
	" exec_nivcsws"

static const struct metric_sql kcache_sql[] = {
	{201, 201,
	 "SELECT userid, dbid, NULL::boolean, queryid, NULL::float8, NULL::float8,"
	 " NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint,"
	 " NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, user_time, system_time,"
	 " reads, writes, minflts, majflts, nswaps, msgsnds, msgrcvs, nsignals, nvcsws, nivcsws"
	 " FROM {ext}.pg_stat_kcache()"
	 " ORDER BY user_time + system_time DESC, queryid LIMIT {limit}"},
	{202, 0,
	 "SELECT userid, dbid, top, queryid," KC_PLAN KC_EXEC
	 " FROM {ext}.pg_stat_kcache() ORDER BY exec_user_time + exec_system_time"
	 " + plan_user_time + plan_system_time DESC, queryid LIMIT {limit}"},
};

static const struct metric_col wait_sampling_cols[] = {
	{"event_type", "text", K}, {"event", "text", K}, {"queryid", "bigint", K},
	{"samples", "bigint", C}, {"profile_period", "integer", I},
};

/* The profile summed over backends (an entry per pid otherwise): samples
 * times profile_period (ms) is the time spent; event_type NULL is on CPU
 * where the extension samples that.  The top query-stats-limit. */
static const struct metric_sql wait_sampling_sql[] = {
	{101, 0,
	 "SELECT event_type, event, queryid, sum(count)::bigint,"
	 " current_setting('pg_wait_sampling.profile_period', true)::int"
	 " FROM {ext}.pg_wait_sampling_profile GROUP BY 1, 2, 3"
	 " ORDER BY 4 DESC, 1, 2, 3 LIMIT {limit}"},
};

static const struct metric_col qualstats_cols[] = {
	{"userid", "oid", K}, {"queryid", "bigint", K}, {"qualnodeid", "bigint", K},
	{"eval_type", "text", K}, {"qualid", "bigint", I},
	{"lrelid", "oid", I}, {"lschemaname", "text", I}, {"lrelname", "text", I},
	{"lattnum", "smallint", I}, {"lattname", "text", I},
	{"opno", "oid", I}, {"opname", "text", I},
	{"rrelid", "oid", I}, {"rrelname", "text", I}, {"rattnum", "smallint", I},
	{"rattname", "text", I},
	{"occurences", "bigint", C}, {"execution_count", "bigint", C},
	{"nbfiltered", "bigint", C},
	{"mean_err_estimate_ratio", "double precision", G},
	{"max_err_estimate_ratio", "double precision", G},
	{"mean_err_estimate_num", "double precision", G},
	{"max_err_estimate_num", "bigint", G},
};

/*
 * This database's predicates, named here (an oid means nothing in another
 * database): one row per predicate shape (constants summed away), with
 * how often it ran, how many rows it filtered out (eval_type 'f', a
 * filter after a scan: an index candidate) and how wrong the planner's
 * estimate was.  Install the extension in each database to watch.
 */
static const struct metric_sql qualstats_sql[] = {
	{200, 0,
	 "SELECT q.userid, q.queryid, q.qualnodeid, q.eval_type::text, max(q.qualid),"
	 " q.lrelid, ln.nspname::text, lc.relname::text, q.lattnum, la.attname::text, q.opno,"
	 " o.oprname::text, q.rrelid, rc.relname::text, q.rattnum, ra.attname::text,"
	 " sum(q.occurences)::bigint, sum(q.execution_count)::bigint, sum(q.nbfiltered)::bigint,"
	 " sum(q.mean_err_estimate_ratio * q.occurences) / nullif(sum(q.occurences), 0),"
	 " max(q.max_err_estimate_ratio),"
	 " sum(q.mean_err_estimate_num * q.occurences) / nullif(sum(q.occurences), 0),"
	 " max(q.max_err_estimate_num)"
	 " FROM {ext}.pg_qualstats() q"
	 " LEFT JOIN pg_class lc ON lc.oid = q.lrelid"
	 " LEFT JOIN pg_namespace ln ON ln.oid = lc.relnamespace"
	 " LEFT JOIN pg_attribute la ON la.attrelid = q.lrelid AND la.attnum = q.lattnum"
	 " LEFT JOIN pg_class rc ON rc.oid = q.rrelid"
	 " LEFT JOIN pg_attribute ra ON ra.attrelid = q.rrelid AND ra.attnum = q.rattnum"
	 " LEFT JOIN pg_operator o ON o.oid = q.opno"
	 " WHERE q.dbid = " MYDB
	 " GROUP BY q.userid, q.queryid, q.qualnodeid, q.eval_type, q.lrelid, ln.nspname,"
	 " lc.relname, q.lattnum, la.attname, q.opno, o.oprname, q.rrelid, rc.relname,"
	 " q.rattnum, ra.attname ORDER BY 1, 2, 3, 4"},
};

/* Each needs its library preloaded: its settings exist only then. */
#define PRELOADED(setting) "current_setting('" setting "', true) IS NOT NULL"

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
	{name, scope, METRIC_SQL, COLS(cols), SQLS(sql), reset, flags, doc, NULL, NULL, NULL}
/* a metric with rows only when ... (when, needs), or of an extension (ext) */
#define SQLW(name, scope, cols, sql, reset, flags, when, needs, doc) \
	{name, scope, METRIC_SQL, COLS(cols), SQLS(sql), reset, flags, doc, NULL, when, needs}
#define SQLE(name, scope, cols, sql, reset, flags, ext, when, needs, doc) \
	{name, scope, METRIC_SQL, COLS(cols), SQLS(sql), reset, flags, doc, ext, when, needs}
#define HOSTM(name, cols, flags, doc) \
	{name, METRIC_CLUSTER, METRIC_HOST, COLS(cols), NULL, 0, NULL, flags, doc, NULL, NULL, NULL}
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
	SQLM("activity_top", METRIC_CLUSTER, activity_top_cols, activity_top_sql, NULL, 0,
	     "the oldest transactions and queries, idle-in-transaction sessions and xmin"
	     " holders: top sessions-limit, query text cut at 1024 characters"),
	SQLM("blocking_chains", METRIC_CLUSTER, blocking_chains_cols, blocking_chains_sql,
	     NULL, 0, "backends waiting for a lock, and the heads of their chains"
	     " (pg_blocking_pids()); at most sessions-limit, heads first"),
	SQLW("pg_stat_progress_basebackup", METRIC_CLUSTER, progress_basebackup_cols,
	     progress_basebackup_sql, NULL, 0,
	     "EXISTS (SELECT 1 FROM pg_stat_get_progress_info('BASEBACKUP'))",
	     "a base backup running",
	     "base backups in progress (13+)"),
	SQLW("pg_stat_wal_receiver", METRIC_CLUSTER, stat_wal_receiver_cols,
	     stat_wal_receiver_sql, NULL, 0, STANDBY_WHEN, "a standby",
	     "the standby's WAL receiver: what it received from where, and when"),
	SQLW("standby_replay", METRIC_CLUSTER, standby_replay_cols, standby_replay_sql,
	     NULL, CUM, STANDBY_WHEN, "a standby",
	     "last received and replayed WAL position, replay lag in bytes, last replayed"
	     " transaction"),
	SQLM("pg_stat_subscription", METRIC_CLUSTER, stat_subscription_cols,
	     stat_subscription_sql, NULL, 0,
	     "logical replication subscriptions and their workers"),
	SQLM("pg_stat_subscription_stats", METRIC_CLUSTER, stat_subscription_stats_cols,
	     stat_subscription_stats_sql, "stats_reset", CUM,
	     "subscription apply and sync errors, conflicts (18) (15+)"),
	SQLW("pg_replication_origin_status", METRIC_CLUSTER, replication_origin_status_cols,
	     replication_origin_status_sql, NULL, 0, ORIGINS_WHEN,
	     "superuser, or EXECUTE on pg_show_replication_origin_status() (14+)",
	     "replication origins: how far each has replayed"),
	SQLM("pg_control_checkpoint", METRIC_CLUSTER, control_checkpoint_cols,
	     control_checkpoint_sql, NULL, 0,
	     "the last checkpoint: its age and the WAL written since its redo point"),
	SQLW("wal_files", METRIC_CLUSTER, wal_files_cols, wal_files_sql, NULL, 0,
	     WAL_FILES_WHEN, "pg_monitor (pg_ls_waldir(), pg_ls_archive_statusdir())",
	     "pg_wal: files and bytes, segments waiting for the archiver"),
	SQLM("tablespaces", METRIC_CLUSTER, tablespaces_cols, tablespaces_sql, NULL,
	     METRIC_LOW_CADENCE | METRIC_BLOAT,
	     "tablespaces and their sizes, every bloat-every cycles"),
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
	SQLM("pg_stat_statements_totals", METRIC_CLUSTER, statements_totals_cols,
	     statements_totals_sql, NULL, PGSS,
	     "entries and sums of the top query-stats-limit ('top') and of all the rest"
	     " ('other'): gauges, for honest shares"),
	SQLE("pg_stat_kcache", METRIC_CLUSTER, kcache_cols, kcache_sql, NULL, CUM,
	     "pg_stat_kcache", PRELOADED("pg_stat_kcache.linux_hz"),
	     "pg_stat_kcache installed and preloaded",
	     "CPU time and real reads and writes per statement, top query-stats-limit by CPU"),
	SQLE("pg_wait_sampling_profile", METRIC_CLUSTER, wait_sampling_cols, wait_sampling_sql,
	     NULL, CUM, "pg_wait_sampling", PRELOADED("pg_wait_sampling.profile_period"),
	     "pg_wait_sampling installed and preloaded",
	     "sampled wait events per query, top query-stats-limit by samples"),
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
	     NULL, 0, "index bytes, validity and definition (duplicates show there)"),
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
	SQLW("pg_stat_progress_vacuum", METRIC_DATABASE, progress_vacuum_cols,
	     progress_vacuum_sql, NULL, 0, PROGRESS_WHEN("VACUUM"),
	     "a VACUUM running in the database", "VACUUM and autovacuum in progress"),
	SQLW("pg_stat_progress_analyze", METRIC_DATABASE, progress_analyze_cols,
	     progress_analyze_sql, NULL, 0, PROGRESS_WHEN("ANALYZE"),
	     "an ANALYZE running in the database", "ANALYZE in progress (13+)"),
	SQLW("pg_stat_progress_create_index", METRIC_DATABASE, progress_create_index_cols,
	     progress_create_index_sql, NULL, 0,
	     PROGRESS_WHEN("CREATE INDEX"),
	     "a CREATE INDEX or REINDEX running in the database",
	     "CREATE INDEX and REINDEX in progress"),
	SQLW("pg_stat_progress_cluster", METRIC_DATABASE, progress_cluster_cols,
	     progress_cluster_sql, NULL, 0, PROGRESS_WHEN("CLUSTER"),
	     "a CLUSTER or VACUUM FULL running in the database",
	     "CLUSTER and VACUUM FULL in progress"),
	SQLW("pg_stat_progress_copy", METRIC_DATABASE, progress_copy_cols,
	     progress_copy_sql, NULL, 0, PROGRESS_WHEN("COPY"),
	     "a COPY running in the database", "COPY in progress (14+)"),
	SQLM("table_bloat", METRIC_DATABASE, table_bloat_cols, table_bloat_sql, NULL,
	     METRIC_LOW_CADENCE | METRIC_BLOAT,
	     "estimated table bloat from pg_stats, every bloat-every cycles"),
	SQLM("index_bloat", METRIC_DATABASE, index_bloat_cols, index_bloat_sql, NULL,
	     METRIC_LOW_CADENCE | METRIC_BLOAT,
	     "estimated B-tree index bloat from pg_stats, every bloat-every cycles"),
	SQLE("table_bloat_exact", METRIC_DATABASE, table_bloat_exact_cols,
	     table_bloat_exact_sql, NULL, METRIC_LOW_CADENCE | METRIC_BLOAT, "pgstattuple",
	     PGSTATTUPLE_WHEN("pgstattuple_approx"),
	     "pgstattuple, EXECUTE on pgstattuple_approx() (pg_stat_scan_tables)",
	     "pgstattuple_approx() of the bloat-exact-limit tables with the most estimated"
	     " bloat, up to bloat-exact-max-size each, every bloat-every cycles"),
	SQLE("index_bloat_exact", METRIC_DATABASE, index_bloat_exact_cols,
	     index_bloat_exact_sql, NULL, METRIC_LOW_CADENCE | METRIC_BLOAT, "pgstattuple",
	     PGSTATTUPLE_WHEN("pgstatindex"),
	     "pgstattuple, EXECUTE on pgstatindex() (pg_stat_scan_tables)",
	     "pgstatindex() of the bloat-exact-limit B-tree indexes with the most estimated"
	     " bloat, up to bloat-exact-max-size each, every bloat-every cycles"),
	SQLE("pg_qualstats", METRIC_DATABASE, qualstats_cols, qualstats_sql, NULL, CUM,
	     "pg_qualstats", PRELOADED("pg_qualstats.enabled"),
	     "pg_qualstats installed in the database and preloaded",
	     "this database's predicates: executions, rows filtered, estimate errors"),
	/* produced by pga itself: host counters (os-stats) and the csvlog */
	HOSTM("host_cpu", host_cpu_cols, CUM, "CPU seconds by mode, per CPU and in total"),
	HOSTM("host_load", host_load_cols, CUM, "load averages, runnable/blocked, forks"),
	HOSTM("host_memory", host_memory_cols, 0, "/proc/meminfo, in bytes"),
	HOSTM("host_disk", host_disk_cols, CUM, "/proc/diskstats per device"),
	HOSTM("host_net", host_net_cols, CUM, "/proc/net/dev per interface"),
	HOSTM("host_fs", host_fs_cols, 0, "statvfs of the data directory"),
	{"postgres_log", METRIC_CLUSTER, METRIC_CSVLOG, COLS(postgres_log_cols), NULL, 0,
	 NULL, 0, "server log records from the csvlog, read incrementally", NULL, NULL, NULL},
	/* last: its position is also the order the collector writes it in */
	{"snapshot_status", METRIC_CLUSTER, METRIC_STATUS, COLS(snapshot_status_cols), NULL, 0,
	 NULL, 0, "the last block of every snapshot: complete or partial, and why", NULL, NULL,
	 NULL},
};

_Static_assert(N(catalog) <= CATALOG_MAX, "CATALOG_MAX is too small for the catalog");

/* Every extension a metric names (ext): the snapshot query looks each up. */
static const char *const extensions[] = {
	"pg_stat_kcache", "pg_wait_sampling", "pg_qualstats", "pgstattuple",
};

_Static_assert(N(extensions) <= CATALOG_EXT_MAX, "CATALOG_EXT_MAX is too small");

const char *const *
catalog_extensions(size_t *n)
{
	*n = N(extensions);
	return extensions;
}

int
catalog_ext_index(const char *name)
{
	for (size_t i = 0; name != NULL && i < N(extensions); i++)
		if (strcmp(extensions[i], name) == 0)
			return (int)i;
	return -1;
}

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

int
catalog_ext_version(const char *extversion)
{
	unsigned major, minor, patch;
	char tail;
	int n;

	if (extversion == NULL)
		return -1;
	n = sscanf(extversion, "%u.%u.%u%c", &major, &minor, &patch, &tail);
	if ((n != 2 && n != 3) || major > 99 || minor > 99)
		return -1;
	if (n == 2 && catalog_pgss_version(extversion) < 0)
		return -1;	/* "2.2x" */
	return (int)(major * 100 + minor);
}

static const char *
number(long long v, bool zero_ok, char *tmp, size_t cap)
{
	if (v < 0 || (v == 0 && !zero_ok))
		return NULL;
	snprintf(tmp, cap, "%lld", v);
	return tmp;
}

/* The text a placeholder stands for, into tmp if it is a number. */
static const char *
placeholder_value(const char *name, size_t n, const struct catalog_vars *v,
		  char *tmp, size_t cap)
{
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
	if (IS("pgss"))
		return v->pgss;
	if (IS("ext"))
		return v->ext;
	if (IS("where"))
		return v->where;
	if (IS("datid"))
		return v->datid;
	if (IS("limit"))
		return number(v->limit, false, tmp, cap);
	if (IS("functions_limit"))
		return number(v->functions_limit, false, tmp, cap);
	if (IS("sessions_limit"))
		return number(v->sessions_limit, false, tmp, cap);
	/* bloat-exact-limit 0 turns the measures off; the size always comes
	 * with it, so an unset pair is still caught */
	if (IS("exact_limit") && v->exact_max_size > 0)
		return number(v->exact_limit, true, tmp, cap);
	if (IS("exact_max_size"))
		return number(v->exact_max_size, false, tmp, cap);
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
	"    A snapshot cut short by the spool may have no status block at all.\n"
	"    So, centrally, a snapshot is complete only when it has a\n"
	"    snapshot_status row saying so; the counters snapshots_complete and\n"
	"    snapshots_partial count the same on the collector.  For example:\n"
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

static const char shares_doc[] =
	"\nShares of pg_stat_statements\n"
	"    pg_stat_statements holds the top query-stats-limit entries by total\n"
	"    time; pg_stat_statements_totals sums them ('top') and all the rest\n"
	"    ('other') in the same cycle.  Its sums are gauges: an entry moves in\n"
	"    and out of the top, and an evicted entry (pg_stat_statements_delta's\n"
	"    evictions) takes its sums with it, so an interval's whole is the\n"
	"    difference of 'top' + 'other' between two snapshots, where nothing\n"
	"    was evicted or reset.  The top entries' share of each interval:\n"
	"        WITH w AS (SELECT collector_id, server_id, snapshot_time,\n"
	"                          sum(total_exec_time) AS t\n"
	"                   FROM pga.pg_stat_statements_totals GROUP BY 1, 2, 3),\n"
	"             d AS (SELECT *, t - lag(t) OVER (PARTITION BY collector_id,\n"
	"                          server_id ORDER BY snapshot_time) AS whole FROM w)\n"
	"        SELECT d.snapshot_time,\n"
	"               sum(s.total_exec_time) / nullif(d.whole, 0) AS share\n"
	"        FROM d JOIN pga.pg_stat_statements_delta s\n"
	"             USING (collector_id, server_id, snapshot_time)\n"
	"        GROUP BY 1, d.whole\n"
	"        HAVING bool_and(NOT s.reset) AND coalesce(sum(s.evictions), 0) = 0;\n"
	"    (evictions is the same on every row of a snapshot, NULL before 1.9.)\n";

/* Indented by four, words wrapped before column 80. */
static void
print_wrapped(FILE *out, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		size_t len = strlen(p), cut = len;

		if (len > 75) {
			cut = 75;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = len;
		}
		fprintf(out, "    %.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

static void
print_version(FILE *out, bool ext, int v)
{
	if (ext)
		fprintf(out, "%d.%d", v / 100, v % 100);
	else
		fprintf(out, "%d", v);
}

static void
print_versions(FILE *out, const struct metric_def *m)
{
	const char *what = m->flags & METRIC_NEEDS_PGSS ? "pg_stat_statements" :
			   m->ext ? m->ext : "PostgreSQL";
	int lo = 0, hi = 0;

	for (size_t i = 0; i < m->nsql; i++) {
		if (lo == 0 || (m->sql[i].min_version && m->sql[i].min_version < lo))
			lo = m->sql[i].min_version;
		if (m->sql[i].max_version == 0 || hi == -1)
			hi = -1;
		else if (m->sql[i].max_version > hi)
			hi = m->sql[i].max_version;
	}
	if (m->source != METRIC_SQL) {
		fprintf(out, "    from %s\n", m->source == METRIC_HOST ? "the host (os-stats)" :
			m->source == METRIC_CSVLOG ? "the server's csvlog (csvlog)" :
			"pga itself, every snapshot");
		return;
	}
	fprintf(out, "    %s ", what);
	print_version(out, m->ext != NULL, lo);
	if (hi == -1) {
		fprintf(out, " and later\n");
	} else {
		fprintf(out, " to ");
		print_version(out, m->ext != NULL, hi);
		fprintf(out, "\n");
	}
	if (m->ext != NULL && m->scope == METRIC_CLUSTER)
		fprintf(out, "    once per cluster, in the first database that has %s\n", m->ext);
	if (m->needs != NULL) {
		char line[256];

		snprintf(line, sizeof(line), "only with %s", m->needs);
		print_wrapped(out, line);
	}
}

void
catalog_print_doc(FILE *out)
{
	size_t n;
	const struct metric_def *all = catalog_all(&n);

	fprintf(out, "%zu metrics.  Versions are server_version_num, the extension's version\n"
		     "x100 for pg_stat_statements, or an extension's own (major.minor).  A metric\n"
		     "that needs something (a standby, an extension, a privilege, a command\n"
		     "running) has no block where it is missing, and no error.\n\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct metric_def *m = &all[i];

		fprintf(out, "%s  (%s%s%s)\n", m->name,
			m->scope == METRIC_CLUSTER ? "per cluster" : "per database",
			m->flags & METRIC_CUMULATIVE ? ", cumulative" : "",
			m->flags & METRIC_LOW_CADENCE ? ", low cadence" : "");
		if (m->doc != NULL)
			print_wrapped(out, m->doc);
		print_versions(out, m);
		for (size_t c = 0; c < m->ncols; c++)
			fprintf(out, "      %-32s %-24s %s\n", m->cols[c].name, m->cols[c].type,
				kind_names[m->cols[c].kind]);
		fprintf(out, "\n");
	}
	fprintf(out, "%s%s", status_doc, shares_doc);
}
