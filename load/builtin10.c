/*
 * builtin10.c - the columns of pga 1.0's own metrics, frozen: history
 *
 * Segments of format 1.0 (minor 0) carry column names only.  For the
 * metrics of pga's own catalog, the loader takes their types and roles
 * from this copy of that catalog as it was when collectors wrote format
 * 1.0 (collect/catalog.c at commit 3618ee3, 2026-12-06: the 1.0 writer's
 * last), so that their tables are typed and have delta views exactly as
 * before, and a 1.0 segment and a newer one load into the same tables.
 *
 * A copy, not an include: load/ knows no collector's catalog.  Never edit
 * it to follow the catalog: metrics and columns added since describe
 * themselves in their segments (FORMAT.md "Column descriptors").  Made by
 * a throwaway program that printed catalog_all(): kind key/counter/gauge/
 * info as roles, each metric's reset_col as the reset role.  The unit test
 * test_load.c holds it against the catalog's descriptors (the DDL of each
 * metric from both is the same).
 */
#include "load/load_int.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct ld_col_def c0[] = {
	{"datid", "oid", SEG_ROLE_KEY},
	{"datname", "text", SEG_ROLE_INFO},
	{"numbackends", "integer", SEG_ROLE_GAUGE},
	{"xact_commit", "bigint", SEG_ROLE_COUNTER},
	{"xact_rollback", "bigint", SEG_ROLE_COUNTER},
	{"blks_read", "bigint", SEG_ROLE_COUNTER},
	{"blks_hit", "bigint", SEG_ROLE_COUNTER},
	{"tup_returned", "bigint", SEG_ROLE_COUNTER},
	{"tup_fetched", "bigint", SEG_ROLE_COUNTER},
	{"tup_inserted", "bigint", SEG_ROLE_COUNTER},
	{"tup_updated", "bigint", SEG_ROLE_COUNTER},
	{"tup_deleted", "bigint", SEG_ROLE_COUNTER},
	{"conflicts", "bigint", SEG_ROLE_COUNTER},
	{"temp_files", "bigint", SEG_ROLE_COUNTER},
	{"temp_bytes", "bigint", SEG_ROLE_COUNTER},
	{"deadlocks", "bigint", SEG_ROLE_COUNTER},
	{"checksum_failures", "bigint", SEG_ROLE_COUNTER},
	{"checksum_last_failure", "timestamptz", SEG_ROLE_INFO},
	{"blk_read_time", "double precision", SEG_ROLE_COUNTER},
	{"blk_write_time", "double precision", SEG_ROLE_COUNTER},
	{"session_time", "double precision", SEG_ROLE_COUNTER},
	{"active_time", "double precision", SEG_ROLE_COUNTER},
	{"idle_in_transaction_time", "double precision", SEG_ROLE_COUNTER},
	{"sessions", "bigint", SEG_ROLE_COUNTER},
	{"sessions_abandoned", "bigint", SEG_ROLE_COUNTER},
	{"sessions_fatal", "bigint", SEG_ROLE_COUNTER},
	{"sessions_killed", "bigint", SEG_ROLE_COUNTER},
	{"parallel_workers_to_launch", "bigint", SEG_ROLE_COUNTER},
	{"parallel_workers_launched", "bigint", SEG_ROLE_COUNTER},
	{"confl_tablespace", "bigint", SEG_ROLE_COUNTER},
	{"confl_lock", "bigint", SEG_ROLE_COUNTER},
	{"confl_snapshot", "bigint", SEG_ROLE_COUNTER},
	{"confl_bufferpin", "bigint", SEG_ROLE_COUNTER},
	{"confl_deadlock", "bigint", SEG_ROLE_COUNTER},
	{"confl_active_logicalslot", "bigint", SEG_ROLE_COUNTER},
	{"stats_reset", "timestamptz", SEG_ROLE_RESET},
};

static const struct ld_col_def c1[] = {
	{"datid", "oid", SEG_ROLE_KEY},
	{"datname", "text", SEG_ROLE_INFO},
	{"size_bytes", "bigint", SEG_ROLE_GAUGE},
	{"datfrozenxid_age", "integer", SEG_ROLE_GAUGE},
	{"datminmxid_age", "integer", SEG_ROLE_GAUGE},
	{"datconnlimit", "integer", SEG_ROLE_INFO},
	{"datallowconn", "boolean", SEG_ROLE_INFO},
	{"datistemplate", "boolean", SEG_ROLE_INFO},
};

static const struct ld_col_def c2[] = {
	{"next_xid", "bigint", SEG_ROLE_COUNTER},
	{"oldest_datfrozenxid_age", "integer", SEG_ROLE_GAUGE},
	{"oldest_datminmxid_age", "integer", SEG_ROLE_GAUGE},
	{"oldest_backend_xmin_age", "integer", SEG_ROLE_GAUGE},
	{"oldest_prepared_xact_age", "integer", SEG_ROLE_GAUGE},
	{"oldest_slot_xmin_age", "integer", SEG_ROLE_GAUGE},
	{"oldest_slot_catalog_xmin_age", "integer", SEG_ROLE_GAUGE},
	{"autovacuum_freeze_max_age", "bigint", SEG_ROLE_INFO},
	{"autovacuum_multixact_freeze_max_age", "bigint", SEG_ROLE_INFO},
};

static const struct ld_col_def c3[] = {
	{"buffers_clean", "bigint", SEG_ROLE_COUNTER},
	{"maxwritten_clean", "bigint", SEG_ROLE_COUNTER},
	{"buffers_alloc", "bigint", SEG_ROLE_COUNTER},
	{"buffers_backend", "bigint", SEG_ROLE_COUNTER},
	{"buffers_backend_fsync", "bigint", SEG_ROLE_COUNTER},
	{"stats_reset", "timestamptz", SEG_ROLE_RESET},
};

static const struct ld_col_def c4[] = {
	{"num_timed", "bigint", SEG_ROLE_COUNTER},
	{"num_requested", "bigint", SEG_ROLE_COUNTER},
	{"num_done", "bigint", SEG_ROLE_COUNTER},
	{"restartpoints_timed", "bigint", SEG_ROLE_COUNTER},
	{"restartpoints_req", "bigint", SEG_ROLE_COUNTER},
	{"restartpoints_done", "bigint", SEG_ROLE_COUNTER},
	{"write_time", "double precision", SEG_ROLE_COUNTER},
	{"sync_time", "double precision", SEG_ROLE_COUNTER},
	{"buffers_written", "bigint", SEG_ROLE_COUNTER},
	{"slru_written", "bigint", SEG_ROLE_COUNTER},
	{"stats_reset", "timestamptz", SEG_ROLE_RESET},
};

static const struct ld_col_def c5[] = {
	{"in_recovery", "boolean", SEG_ROLE_INFO},
	{"wal_lsn", "pg_lsn", SEG_ROLE_COUNTER},
	{"wal_records", "bigint", SEG_ROLE_COUNTER},
	{"wal_fpi", "bigint", SEG_ROLE_COUNTER},
	{"wal_bytes", "numeric", SEG_ROLE_COUNTER},
	{"wal_buffers_full", "bigint", SEG_ROLE_COUNTER},
	{"wal_write", "bigint", SEG_ROLE_COUNTER},
	{"wal_sync", "bigint", SEG_ROLE_COUNTER},
	{"wal_write_time", "double precision", SEG_ROLE_COUNTER},
	{"wal_sync_time", "double precision", SEG_ROLE_COUNTER},
	{"stats_reset", "timestamptz", SEG_ROLE_RESET},
};

static const struct ld_col_def c6[] = {
	{"archived_count", "bigint", SEG_ROLE_COUNTER},
	{"last_archived_wal", "text", SEG_ROLE_INFO},
	{"last_archived_time", "timestamptz", SEG_ROLE_INFO},
	{"failed_count", "bigint", SEG_ROLE_COUNTER},
	{"last_failed_wal", "text", SEG_ROLE_INFO},
	{"last_failed_time", "timestamptz", SEG_ROLE_INFO},
	{"stats_reset", "timestamptz", SEG_ROLE_RESET},
};

static const struct ld_col_def c7[] = {
	{"pid", "integer", SEG_ROLE_KEY},
	{"usename", "text", SEG_ROLE_INFO},
	{"application_name", "text", SEG_ROLE_KEY},
	{"client_addr", "text", SEG_ROLE_INFO},
	{"client_port", "integer", SEG_ROLE_INFO},
	{"backend_start", "timestamptz", SEG_ROLE_INFO},
	{"backend_xmin_age", "integer", SEG_ROLE_GAUGE},
	{"state", "text", SEG_ROLE_INFO},
	{"sent_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"write_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"flush_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"replay_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"sent_lag_bytes", "numeric", SEG_ROLE_GAUGE},
	{"replay_lag_bytes", "numeric", SEG_ROLE_GAUGE},
	{"write_lag", "double precision", SEG_ROLE_GAUGE},
	{"flush_lag", "double precision", SEG_ROLE_GAUGE},
	{"replay_lag", "double precision", SEG_ROLE_GAUGE},
	{"sync_priority", "integer", SEG_ROLE_INFO},
	{"sync_state", "text", SEG_ROLE_INFO},
	{"reply_time", "timestamptz", SEG_ROLE_INFO},
};

static const struct ld_col_def c8[] = {
	{"slot_name", "text", SEG_ROLE_KEY},
	{"plugin", "text", SEG_ROLE_INFO},
	{"slot_type", "text", SEG_ROLE_INFO},
	{"datoid", "oid", SEG_ROLE_INFO},
	{"database", "text", SEG_ROLE_INFO},
	{"temporary", "boolean", SEG_ROLE_INFO},
	{"active", "boolean", SEG_ROLE_INFO},
	{"active_pid", "integer", SEG_ROLE_INFO},
	{"xmin_age", "integer", SEG_ROLE_GAUGE},
	{"catalog_xmin_age", "integer", SEG_ROLE_GAUGE},
	{"restart_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"confirmed_flush_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"retained_wal_bytes", "numeric", SEG_ROLE_GAUGE},
	{"wal_status", "text", SEG_ROLE_INFO},
	{"safe_wal_size", "bigint", SEG_ROLE_GAUGE},
	{"two_phase", "boolean", SEG_ROLE_INFO},
	{"two_phase_at", "pg_lsn", SEG_ROLE_INFO},
	{"inactive_since", "timestamptz", SEG_ROLE_INFO},
	{"conflicting", "boolean", SEG_ROLE_INFO},
	{"invalidation_reason", "text", SEG_ROLE_INFO},
	{"failover", "boolean", SEG_ROLE_INFO},
	{"synced", "boolean", SEG_ROLE_INFO},
};

static const struct ld_col_def c9[] = {
	{"slot_name", "text", SEG_ROLE_KEY},
	{"spill_txns", "bigint", SEG_ROLE_COUNTER},
	{"spill_count", "bigint", SEG_ROLE_COUNTER},
	{"spill_bytes", "bigint", SEG_ROLE_COUNTER},
	{"stream_txns", "bigint", SEG_ROLE_COUNTER},
	{"stream_count", "bigint", SEG_ROLE_COUNTER},
	{"stream_bytes", "bigint", SEG_ROLE_COUNTER},
	{"total_txns", "bigint", SEG_ROLE_COUNTER},
	{"total_bytes", "bigint", SEG_ROLE_COUNTER},
	{"stats_reset", "timestamptz", SEG_ROLE_RESET},
};

static const struct ld_col_def c10[] = {
	{"datname", "text", SEG_ROLE_KEY},
	{"usename", "text", SEG_ROLE_KEY},
	{"backend_type", "text", SEG_ROLE_KEY},
	{"state", "text", SEG_ROLE_KEY},
	{"wait_event_type", "text", SEG_ROLE_KEY},
	{"wait_event", "text", SEG_ROLE_KEY},
	{"backends", "integer", SEG_ROLE_GAUGE},
	{"max_xact_age", "double precision", SEG_ROLE_GAUGE},
	{"max_query_age", "double precision", SEG_ROLE_GAUGE},
	{"max_state_age", "double precision", SEG_ROLE_GAUGE},
	{"max_backend_xmin_age", "integer", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c11[] = {
	{"datname", "text", SEG_ROLE_KEY},
	{"locktype", "text", SEG_ROLE_KEY},
	{"mode", "text", SEG_ROLE_KEY},
	{"granted", "boolean", SEG_ROLE_KEY},
	{"locks", "integer", SEG_ROLE_GAUGE},
	{"max_wait", "double precision", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c12[] = {
	{"pid", "integer", SEG_ROLE_KEY},
	{"leader_pid", "integer", SEG_ROLE_INFO},
	{"datname", "text", SEG_ROLE_INFO},
	{"usename", "text", SEG_ROLE_INFO},
	{"application_name", "text", SEG_ROLE_INFO},
	{"client_addr", "text", SEG_ROLE_INFO},
	{"backend_type", "text", SEG_ROLE_INFO},
	{"state", "text", SEG_ROLE_INFO},
	{"wait_event_type", "text", SEG_ROLE_INFO},
	{"wait_event", "text", SEG_ROLE_INFO},
	{"backend_start", "timestamptz", SEG_ROLE_INFO},
	{"xact_start", "timestamptz", SEG_ROLE_INFO},
	{"query_start", "timestamptz", SEG_ROLE_INFO},
	{"state_change", "timestamptz", SEG_ROLE_INFO},
	{"xact_age", "double precision", SEG_ROLE_GAUGE},
	{"query_age", "double precision", SEG_ROLE_GAUGE},
	{"state_age", "double precision", SEG_ROLE_GAUGE},
	{"backend_xid_age", "integer", SEG_ROLE_GAUGE},
	{"backend_xmin_age", "integer", SEG_ROLE_GAUGE},
	{"query_id", "bigint", SEG_ROLE_INFO},
	{"query", "text", SEG_ROLE_INFO},
};

static const struct ld_col_def c13[] = {
	{"pid", "integer", SEG_ROLE_KEY},
	{"blocked_by", "integer[]", SEG_ROLE_INFO},
	{"root_pids", "integer[]", SEG_ROLE_INFO},
	{"direct_waiters", "integer", SEG_ROLE_GAUGE},
	{"chain_waiters", "integer", SEG_ROLE_GAUGE},
	{"datname", "text", SEG_ROLE_INFO},
	{"usename", "text", SEG_ROLE_INFO},
	{"application_name", "text", SEG_ROLE_INFO},
	{"backend_type", "text", SEG_ROLE_INFO},
	{"state", "text", SEG_ROLE_INFO},
	{"wait_event_type", "text", SEG_ROLE_INFO},
	{"wait_event", "text", SEG_ROLE_INFO},
	{"locktype", "text", SEG_ROLE_INFO},
	{"lock_mode", "text", SEG_ROLE_INFO},
	{"relation", "oid", SEG_ROLE_INFO},
	{"lock_wait", "double precision", SEG_ROLE_GAUGE},
	{"xact_start", "timestamptz", SEG_ROLE_INFO},
	{"query_start", "timestamptz", SEG_ROLE_INFO},
	{"xact_age", "double precision", SEG_ROLE_GAUGE},
	{"query", "text", SEG_ROLE_INFO},
};

static const struct ld_col_def c14[] = {
	{"pid", "integer", SEG_ROLE_KEY},
	{"phase", "text", SEG_ROLE_INFO},
	{"backup_total", "bigint", SEG_ROLE_GAUGE},
	{"backup_streamed", "bigint", SEG_ROLE_GAUGE},
	{"tablespaces_total", "bigint", SEG_ROLE_GAUGE},
	{"tablespaces_streamed", "bigint", SEG_ROLE_GAUGE},
	{"usename", "text", SEG_ROLE_INFO},
	{"application_name", "text", SEG_ROLE_INFO},
	{"client_addr", "text", SEG_ROLE_INFO},
	{"backend_start", "timestamptz", SEG_ROLE_INFO},
};

static const struct ld_col_def c15[] = {
	{"pid", "integer", SEG_ROLE_INFO},
	{"status", "text", SEG_ROLE_INFO},
	{"receive_start_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"receive_start_tli", "integer", SEG_ROLE_INFO},
	{"written_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"flushed_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"received_tli", "integer", SEG_ROLE_INFO},
	{"last_msg_send_time", "timestamptz", SEG_ROLE_INFO},
	{"last_msg_receipt_time", "timestamptz", SEG_ROLE_INFO},
	{"latest_end_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"latest_end_time", "timestamptz", SEG_ROLE_INFO},
	{"slot_name", "text", SEG_ROLE_INFO},
	{"sender_host", "text", SEG_ROLE_INFO},
	{"sender_port", "integer", SEG_ROLE_INFO},
	{"receipt_age", "double precision", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c16[] = {
	{"receive_lsn", "pg_lsn", SEG_ROLE_COUNTER},
	{"replay_lsn", "pg_lsn", SEG_ROLE_COUNTER},
	{"replay_lag_bytes", "numeric", SEG_ROLE_GAUGE},
	{"last_replay_time", "timestamptz", SEG_ROLE_INFO},
	{"replay_age", "double precision", SEG_ROLE_GAUGE},
	{"replay_paused", "boolean", SEG_ROLE_INFO},
	{"pause_state", "text", SEG_ROLE_INFO},
};

static const struct ld_col_def c17[] = {
	{"subid", "oid", SEG_ROLE_KEY},
	{"subname", "text", SEG_ROLE_INFO},
	{"worker_type", "text", SEG_ROLE_INFO},
	{"pid", "integer", SEG_ROLE_INFO},
	{"leader_pid", "integer", SEG_ROLE_INFO},
	{"relid", "oid", SEG_ROLE_INFO},
	{"received_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"last_msg_send_time", "timestamptz", SEG_ROLE_INFO},
	{"last_msg_receipt_time", "timestamptz", SEG_ROLE_INFO},
	{"latest_end_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"latest_end_time", "timestamptz", SEG_ROLE_INFO},
	{"enabled", "boolean", SEG_ROLE_INFO},
	{"receipt_age", "double precision", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c18[] = {
	{"subid", "oid", SEG_ROLE_KEY},
	{"subname", "text", SEG_ROLE_INFO},
	{"apply_error_count", "bigint", SEG_ROLE_COUNTER},
	{"sync_error_count", "bigint", SEG_ROLE_COUNTER},
	{"confl_insert_exists", "bigint", SEG_ROLE_COUNTER},
	{"confl_update_origin_differs", "bigint", SEG_ROLE_COUNTER},
	{"confl_update_exists", "bigint", SEG_ROLE_COUNTER},
	{"confl_update_missing", "bigint", SEG_ROLE_COUNTER},
	{"confl_delete_origin_differs", "bigint", SEG_ROLE_COUNTER},
	{"confl_delete_missing", "bigint", SEG_ROLE_COUNTER},
	{"confl_multiple_unique_conflicts", "bigint", SEG_ROLE_COUNTER},
	{"stats_reset", "timestamptz", SEG_ROLE_RESET},
};

static const struct ld_col_def c19[] = {
	{"local_id", "oid", SEG_ROLE_KEY},
	{"external_id", "text", SEG_ROLE_INFO},
	{"remote_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"local_lsn", "pg_lsn", SEG_ROLE_INFO},
};

static const struct ld_col_def c20[] = {
	{"checkpoint_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"redo_lsn", "pg_lsn", SEG_ROLE_INFO},
	{"redo_wal_file", "text", SEG_ROLE_INFO},
	{"timeline_id", "integer", SEG_ROLE_INFO},
	{"full_page_writes", "boolean", SEG_ROLE_INFO},
	{"checkpoint_time", "timestamptz", SEG_ROLE_INFO},
	{"checkpoint_age", "double precision", SEG_ROLE_GAUGE},
	{"redo_distance_bytes", "numeric", SEG_ROLE_GAUGE},
	{"max_wal_size_bytes", "bigint", SEG_ROLE_INFO},
	{"checkpoint_timeout", "double precision", SEG_ROLE_INFO},
};

static const struct ld_col_def c21[] = {
	{"wal_files", "integer", SEG_ROLE_GAUGE},
	{"wal_bytes", "bigint", SEG_ROLE_GAUGE},
	{"ready_files", "integer", SEG_ROLE_GAUGE},
	{"oldest_ready_age", "double precision", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c22[] = {
	{"oid", "oid", SEG_ROLE_KEY},
	{"spcname", "text", SEG_ROLE_INFO},
	{"location", "text", SEG_ROLE_INFO},
	{"size_bytes", "bigint", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c23[] = {
	{"backend_type", "text", SEG_ROLE_KEY},
	{"object", "text", SEG_ROLE_KEY},
	{"context", "text", SEG_ROLE_KEY},
	{"reads", "bigint", SEG_ROLE_COUNTER},
	{"read_bytes", "numeric", SEG_ROLE_COUNTER},
	{"read_time", "double precision", SEG_ROLE_COUNTER},
	{"writes", "bigint", SEG_ROLE_COUNTER},
	{"write_bytes", "numeric", SEG_ROLE_COUNTER},
	{"write_time", "double precision", SEG_ROLE_COUNTER},
	{"writebacks", "bigint", SEG_ROLE_COUNTER},
	{"writeback_time", "double precision", SEG_ROLE_COUNTER},
	{"extends", "bigint", SEG_ROLE_COUNTER},
	{"extend_bytes", "numeric", SEG_ROLE_COUNTER},
	{"extend_time", "double precision", SEG_ROLE_COUNTER},
	{"op_bytes", "bigint", SEG_ROLE_INFO},
	{"hits", "bigint", SEG_ROLE_COUNTER},
	{"evictions", "bigint", SEG_ROLE_COUNTER},
	{"reuses", "bigint", SEG_ROLE_COUNTER},
	{"fsyncs", "bigint", SEG_ROLE_COUNTER},
	{"fsync_time", "double precision", SEG_ROLE_COUNTER},
	{"stats_reset", "timestamptz", SEG_ROLE_RESET},
};

static const struct ld_col_def c24[] = {
	{"name", "text", SEG_ROLE_KEY},
	{"blks_zeroed", "bigint", SEG_ROLE_COUNTER},
	{"blks_hit", "bigint", SEG_ROLE_COUNTER},
	{"blks_read", "bigint", SEG_ROLE_COUNTER},
	{"blks_written", "bigint", SEG_ROLE_COUNTER},
	{"blks_exists", "bigint", SEG_ROLE_COUNTER},
	{"flushes", "bigint", SEG_ROLE_COUNTER},
	{"truncates", "bigint", SEG_ROLE_COUNTER},
	{"stats_reset", "timestamptz", SEG_ROLE_RESET},
};

static const struct ld_col_def c25[] = {
	{"name", "text", SEG_ROLE_KEY},
	{"setting", "text", SEG_ROLE_INFO},
	{"unit", "text", SEG_ROLE_INFO},
	{"vartype", "text", SEG_ROLE_INFO},
	{"source", "text", SEG_ROLE_INFO},
	{"boot_val", "text", SEG_ROLE_INFO},
	{"reset_val", "text", SEG_ROLE_INFO},
	{"pending_restart", "boolean", SEG_ROLE_INFO},
};

static const struct ld_col_def c26[] = {
	{"userid", "oid", SEG_ROLE_KEY},
	{"dbid", "oid", SEG_ROLE_KEY},
	{"toplevel", "boolean", SEG_ROLE_KEY},
	{"queryid", "bigint", SEG_ROLE_KEY},
	{"plans", "bigint", SEG_ROLE_COUNTER},
	{"total_plan_time", "double precision", SEG_ROLE_COUNTER},
	{"min_plan_time", "double precision", SEG_ROLE_GAUGE},
	{"max_plan_time", "double precision", SEG_ROLE_GAUGE},
	{"mean_plan_time", "double precision", SEG_ROLE_GAUGE},
	{"stddev_plan_time", "double precision", SEG_ROLE_GAUGE},
	{"calls", "bigint", SEG_ROLE_COUNTER},
	{"total_exec_time", "double precision", SEG_ROLE_COUNTER},
	{"min_exec_time", "double precision", SEG_ROLE_GAUGE},
	{"max_exec_time", "double precision", SEG_ROLE_GAUGE},
	{"mean_exec_time", "double precision", SEG_ROLE_GAUGE},
	{"stddev_exec_time", "double precision", SEG_ROLE_GAUGE},
	{"rows", "bigint", SEG_ROLE_COUNTER},
	{"shared_blks_hit", "bigint", SEG_ROLE_COUNTER},
	{"shared_blks_read", "bigint", SEG_ROLE_COUNTER},
	{"shared_blks_dirtied", "bigint", SEG_ROLE_COUNTER},
	{"shared_blks_written", "bigint", SEG_ROLE_COUNTER},
	{"local_blks_hit", "bigint", SEG_ROLE_COUNTER},
	{"local_blks_read", "bigint", SEG_ROLE_COUNTER},
	{"local_blks_dirtied", "bigint", SEG_ROLE_COUNTER},
	{"local_blks_written", "bigint", SEG_ROLE_COUNTER},
	{"temp_blks_read", "bigint", SEG_ROLE_COUNTER},
	{"temp_blks_written", "bigint", SEG_ROLE_COUNTER},
	{"shared_blk_read_time", "double precision", SEG_ROLE_COUNTER},
	{"shared_blk_write_time", "double precision", SEG_ROLE_COUNTER},
	{"local_blk_read_time", "double precision", SEG_ROLE_COUNTER},
	{"local_blk_write_time", "double precision", SEG_ROLE_COUNTER},
	{"temp_blk_read_time", "double precision", SEG_ROLE_COUNTER},
	{"temp_blk_write_time", "double precision", SEG_ROLE_COUNTER},
	{"wal_records", "bigint", SEG_ROLE_COUNTER},
	{"wal_fpi", "bigint", SEG_ROLE_COUNTER},
	{"wal_bytes", "numeric", SEG_ROLE_COUNTER},
	{"wal_buffers_full", "bigint", SEG_ROLE_COUNTER},
	{"jit_functions", "bigint", SEG_ROLE_COUNTER},
	{"jit_generation_time", "double precision", SEG_ROLE_COUNTER},
	{"jit_inlining_count", "bigint", SEG_ROLE_COUNTER},
	{"jit_inlining_time", "double precision", SEG_ROLE_COUNTER},
	{"jit_optimization_count", "bigint", SEG_ROLE_COUNTER},
	{"jit_optimization_time", "double precision", SEG_ROLE_COUNTER},
	{"jit_emission_count", "bigint", SEG_ROLE_COUNTER},
	{"jit_emission_time", "double precision", SEG_ROLE_COUNTER},
	{"jit_deform_count", "bigint", SEG_ROLE_COUNTER},
	{"jit_deform_time", "double precision", SEG_ROLE_COUNTER},
	{"parallel_workers_to_launch", "bigint", SEG_ROLE_COUNTER},
	{"parallel_workers_launched", "bigint", SEG_ROLE_COUNTER},
	{"stats_since", "timestamptz", SEG_ROLE_RESET},
	{"minmax_stats_since", "timestamptz", SEG_ROLE_INFO},
};

static const struct ld_col_def c27[] = {
	{"dealloc", "bigint", SEG_ROLE_COUNTER},
	{"stats_reset", "timestamptz", SEG_ROLE_RESET},
};

static const struct ld_col_def c28[] = {
	{"part", "text", SEG_ROLE_KEY},
	{"entries", "bigint", SEG_ROLE_GAUGE},
	{"calls", "bigint", SEG_ROLE_GAUGE},
	{"plans", "bigint", SEG_ROLE_GAUGE},
	{"total_exec_time", "double precision", SEG_ROLE_GAUGE},
	{"total_plan_time", "double precision", SEG_ROLE_GAUGE},
	{"rows", "bigint", SEG_ROLE_GAUGE},
	{"shared_blks_hit", "bigint", SEG_ROLE_GAUGE},
	{"shared_blks_read", "bigint", SEG_ROLE_GAUGE},
	{"shared_blks_dirtied", "bigint", SEG_ROLE_GAUGE},
	{"shared_blks_written", "bigint", SEG_ROLE_GAUGE},
	{"local_blks_hit", "bigint", SEG_ROLE_GAUGE},
	{"local_blks_read", "bigint", SEG_ROLE_GAUGE},
	{"temp_blks_read", "bigint", SEG_ROLE_GAUGE},
	{"temp_blks_written", "bigint", SEG_ROLE_GAUGE},
	{"shared_blk_read_time", "double precision", SEG_ROLE_GAUGE},
	{"shared_blk_write_time", "double precision", SEG_ROLE_GAUGE},
	{"temp_blk_read_time", "double precision", SEG_ROLE_GAUGE},
	{"temp_blk_write_time", "double precision", SEG_ROLE_GAUGE},
	{"wal_records", "bigint", SEG_ROLE_GAUGE},
	{"wal_fpi", "bigint", SEG_ROLE_GAUGE},
	{"wal_bytes", "numeric", SEG_ROLE_GAUGE},
	{"entries_max", "bigint", SEG_ROLE_INFO},
};

static const struct ld_col_def c29[] = {
	{"userid", "oid", SEG_ROLE_KEY},
	{"dbid", "oid", SEG_ROLE_KEY},
	{"toplevel", "boolean", SEG_ROLE_KEY},
	{"queryid", "bigint", SEG_ROLE_KEY},
	{"plan_user_time", "double precision", SEG_ROLE_COUNTER},
	{"plan_system_time", "double precision", SEG_ROLE_COUNTER},
	{"plan_reads", "bigint", SEG_ROLE_COUNTER},
	{"plan_writes", "bigint", SEG_ROLE_COUNTER},
	{"plan_minflts", "bigint", SEG_ROLE_COUNTER},
	{"plan_majflts", "bigint", SEG_ROLE_COUNTER},
	{"plan_nswaps", "bigint", SEG_ROLE_COUNTER},
	{"plan_msgsnds", "bigint", SEG_ROLE_COUNTER},
	{"plan_msgrcvs", "bigint", SEG_ROLE_COUNTER},
	{"plan_nsignals", "bigint", SEG_ROLE_COUNTER},
	{"plan_nvcsws", "bigint", SEG_ROLE_COUNTER},
	{"plan_nivcsws", "bigint", SEG_ROLE_COUNTER},
	{"exec_user_time", "double precision", SEG_ROLE_COUNTER},
	{"exec_system_time", "double precision", SEG_ROLE_COUNTER},
	{"exec_reads", "bigint", SEG_ROLE_COUNTER},
	{"exec_writes", "bigint", SEG_ROLE_COUNTER},
	{"exec_minflts", "bigint", SEG_ROLE_COUNTER},
	{"exec_majflts", "bigint", SEG_ROLE_COUNTER},
	{"exec_nswaps", "bigint", SEG_ROLE_COUNTER},
	{"exec_msgsnds", "bigint", SEG_ROLE_COUNTER},
	{"exec_msgrcvs", "bigint", SEG_ROLE_COUNTER},
	{"exec_nsignals", "bigint", SEG_ROLE_COUNTER},
	{"exec_nvcsws", "bigint", SEG_ROLE_COUNTER},
	{"exec_nivcsws", "bigint", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c30[] = {
	{"event_type", "text", SEG_ROLE_KEY},
	{"event", "text", SEG_ROLE_KEY},
	{"queryid", "bigint", SEG_ROLE_KEY},
	{"samples", "bigint", SEG_ROLE_COUNTER},
	{"profile_period", "integer", SEG_ROLE_INFO},
};

static const struct ld_col_def c31[] = {
	{"userid", "oid", SEG_ROLE_KEY},
	{"dbid", "oid", SEG_ROLE_KEY},
	{"toplevel", "boolean", SEG_ROLE_KEY},
	{"queryid", "bigint", SEG_ROLE_KEY},
	{"query", "text", SEG_ROLE_INFO},
};

static const struct ld_col_def c32[] = {
	{"relid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"seq_scan", "bigint", SEG_ROLE_COUNTER},
	{"last_seq_scan", "timestamptz", SEG_ROLE_INFO},
	{"seq_tup_read", "bigint", SEG_ROLE_COUNTER},
	{"idx_scan", "bigint", SEG_ROLE_COUNTER},
	{"last_idx_scan", "timestamptz", SEG_ROLE_INFO},
	{"idx_tup_fetch", "bigint", SEG_ROLE_COUNTER},
	{"n_tup_ins", "bigint", SEG_ROLE_COUNTER},
	{"n_tup_upd", "bigint", SEG_ROLE_COUNTER},
	{"n_tup_del", "bigint", SEG_ROLE_COUNTER},
	{"n_tup_hot_upd", "bigint", SEG_ROLE_COUNTER},
	{"n_tup_newpage_upd", "bigint", SEG_ROLE_COUNTER},
	{"n_live_tup", "bigint", SEG_ROLE_GAUGE},
	{"n_dead_tup", "bigint", SEG_ROLE_GAUGE},
	{"n_mod_since_analyze", "bigint", SEG_ROLE_GAUGE},
	{"n_ins_since_vacuum", "bigint", SEG_ROLE_GAUGE},
	{"last_vacuum", "timestamptz", SEG_ROLE_INFO},
	{"last_autovacuum", "timestamptz", SEG_ROLE_INFO},
	{"last_analyze", "timestamptz", SEG_ROLE_INFO},
	{"last_autoanalyze", "timestamptz", SEG_ROLE_INFO},
	{"vacuum_count", "bigint", SEG_ROLE_COUNTER},
	{"autovacuum_count", "bigint", SEG_ROLE_COUNTER},
	{"analyze_count", "bigint", SEG_ROLE_COUNTER},
	{"autoanalyze_count", "bigint", SEG_ROLE_COUNTER},
	{"total_vacuum_time", "double precision", SEG_ROLE_COUNTER},
	{"total_autovacuum_time", "double precision", SEG_ROLE_COUNTER},
	{"total_analyze_time", "double precision", SEG_ROLE_COUNTER},
	{"total_autoanalyze_time", "double precision", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c33[] = {
	{"relid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"heap_blks_read", "bigint", SEG_ROLE_COUNTER},
	{"heap_blks_hit", "bigint", SEG_ROLE_COUNTER},
	{"idx_blks_read", "bigint", SEG_ROLE_COUNTER},
	{"idx_blks_hit", "bigint", SEG_ROLE_COUNTER},
	{"toast_blks_read", "bigint", SEG_ROLE_COUNTER},
	{"toast_blks_hit", "bigint", SEG_ROLE_COUNTER},
	{"tidx_blks_read", "bigint", SEG_ROLE_COUNTER},
	{"tidx_blks_hit", "bigint", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c34[] = {
	{"relid", "oid", SEG_ROLE_INFO},
	{"indexrelid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"indexrelname", "text", SEG_ROLE_INFO},
	{"idx_scan", "bigint", SEG_ROLE_COUNTER},
	{"last_idx_scan", "timestamptz", SEG_ROLE_INFO},
	{"idx_tup_read", "bigint", SEG_ROLE_COUNTER},
	{"idx_tup_fetch", "bigint", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c35[] = {
	{"relid", "oid", SEG_ROLE_INFO},
	{"indexrelid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"indexrelname", "text", SEG_ROLE_INFO},
	{"idx_blks_read", "bigint", SEG_ROLE_COUNTER},
	{"idx_blks_hit", "bigint", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c36[] = {
	{"relid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"blks_read", "bigint", SEG_ROLE_COUNTER},
	{"blks_hit", "bigint", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c37[] = {
	{"funcid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"funcname", "text", SEG_ROLE_INFO},
	{"calls", "bigint", SEG_ROLE_COUNTER},
	{"total_time", "double precision", SEG_ROLE_COUNTER},
	{"self_time", "double precision", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c38[] = {
	{"relid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"relkind", "text", SEG_ROLE_INFO},
	{"total_bytes", "bigint", SEG_ROLE_GAUGE},
	{"heap_bytes", "bigint", SEG_ROLE_GAUGE},
	{"toast_bytes", "bigint", SEG_ROLE_GAUGE},
	{"indexes_bytes", "bigint", SEG_ROLE_GAUGE},
	{"reltuples", "double precision", SEG_ROLE_GAUGE},
	{"relpages", "bigint", SEG_ROLE_GAUGE},
	{"relfrozenxid_age", "integer", SEG_ROLE_GAUGE},
	{"relminmxid_age", "integer", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c39[] = {
	{"indexrelid", "oid", SEG_ROLE_KEY},
	{"relid", "oid", SEG_ROLE_INFO},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"indexrelname", "text", SEG_ROLE_INFO},
	{"size_bytes", "bigint", SEG_ROLE_GAUGE},
	{"indisunique", "boolean", SEG_ROLE_INFO},
	{"indisprimary", "boolean", SEG_ROLE_INFO},
	{"indisvalid", "boolean", SEG_ROLE_INFO},
	{"indexdef", "text", SEG_ROLE_INFO},
};

static const struct ld_col_def c40[] = {
	{"relid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"seq_scan", "bigint", SEG_ROLE_COUNTER},
	{"last_seq_scan", "timestamptz", SEG_ROLE_INFO},
	{"seq_tup_read", "bigint", SEG_ROLE_COUNTER},
	{"idx_scan", "bigint", SEG_ROLE_COUNTER},
	{"last_idx_scan", "timestamptz", SEG_ROLE_INFO},
	{"idx_tup_fetch", "bigint", SEG_ROLE_COUNTER},
	{"n_tup_ins", "bigint", SEG_ROLE_COUNTER},
	{"n_tup_upd", "bigint", SEG_ROLE_COUNTER},
	{"n_tup_del", "bigint", SEG_ROLE_COUNTER},
	{"n_tup_hot_upd", "bigint", SEG_ROLE_COUNTER},
	{"n_tup_newpage_upd", "bigint", SEG_ROLE_COUNTER},
	{"n_live_tup", "bigint", SEG_ROLE_GAUGE},
	{"n_dead_tup", "bigint", SEG_ROLE_GAUGE},
	{"n_mod_since_analyze", "bigint", SEG_ROLE_GAUGE},
	{"n_ins_since_vacuum", "bigint", SEG_ROLE_GAUGE},
	{"last_vacuum", "timestamptz", SEG_ROLE_INFO},
	{"last_autovacuum", "timestamptz", SEG_ROLE_INFO},
	{"last_analyze", "timestamptz", SEG_ROLE_INFO},
	{"last_autoanalyze", "timestamptz", SEG_ROLE_INFO},
	{"vacuum_count", "bigint", SEG_ROLE_COUNTER},
	{"autovacuum_count", "bigint", SEG_ROLE_COUNTER},
	{"analyze_count", "bigint", SEG_ROLE_COUNTER},
	{"autoanalyze_count", "bigint", SEG_ROLE_COUNTER},
	{"total_vacuum_time", "double precision", SEG_ROLE_COUNTER},
	{"total_autovacuum_time", "double precision", SEG_ROLE_COUNTER},
	{"total_analyze_time", "double precision", SEG_ROLE_COUNTER},
	{"total_autoanalyze_time", "double precision", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c41[] = {
	{"relid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"data_type", "text", SEG_ROLE_INFO},
	{"start_value", "bigint", SEG_ROLE_GAUGE},
	{"min_value", "bigint", SEG_ROLE_GAUGE},
	{"max_value", "bigint", SEG_ROLE_GAUGE},
	{"increment_by", "bigint", SEG_ROLE_GAUGE},
	{"cycle", "boolean", SEG_ROLE_INFO},
	{"cache_size", "bigint", SEG_ROLE_GAUGE},
	{"last_value", "bigint", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c42[] = {
	{"extname", "text", SEG_ROLE_KEY},
	{"extversion", "text", SEG_ROLE_INFO},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relocatable", "boolean", SEG_ROLE_INFO},
};

static const struct ld_col_def c43[] = {
	{"relid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"relkind", "text", SEG_ROLE_INFO},
	{"relpersistence", "text", SEG_ROLE_INFO},
	{"partition_of", "oid", SEG_ROLE_INFO},
	{"reloptions", "text[]", SEG_ROLE_INFO},
	{"toast_reloptions", "text[]", SEG_ROLE_INFO},
};

static const struct ld_col_def c44[] = {
	{"conid", "oid", SEG_ROLE_KEY},
	{"relid", "oid", SEG_ROLE_INFO},
	{"confrelid", "oid", SEG_ROLE_INFO},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"conname", "text", SEG_ROLE_INFO},
	{"conkey", "smallint[]", SEG_ROLE_INFO},
	{"on_update", "text", SEG_ROLE_INFO},
	{"on_delete", "text", SEG_ROLE_INFO},
	{"validated", "boolean", SEG_ROLE_INFO},
	{"indexed", "boolean", SEG_ROLE_INFO},
};

static const struct ld_col_def c45[] = {
	{"pid", "integer", SEG_ROLE_KEY},
	{"relid", "oid", SEG_ROLE_INFO},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"phase", "text", SEG_ROLE_INFO},
	{"heap_blks_total", "bigint", SEG_ROLE_GAUGE},
	{"heap_blks_scanned", "bigint", SEG_ROLE_GAUGE},
	{"heap_blks_vacuumed", "bigint", SEG_ROLE_GAUGE},
	{"index_vacuum_count", "bigint", SEG_ROLE_GAUGE},
	{"max_dead_tuples", "bigint", SEG_ROLE_GAUGE},
	{"num_dead_tuples", "bigint", SEG_ROLE_GAUGE},
	{"max_dead_tuple_bytes", "bigint", SEG_ROLE_GAUGE},
	{"dead_tuple_bytes", "bigint", SEG_ROLE_GAUGE},
	{"num_dead_item_ids", "bigint", SEG_ROLE_GAUGE},
	{"indexes_total", "bigint", SEG_ROLE_GAUGE},
	{"indexes_processed", "bigint", SEG_ROLE_GAUGE},
	{"delay_time", "double precision", SEG_ROLE_GAUGE},
	{"query_start", "timestamptz", SEG_ROLE_INFO},
	{"query", "text", SEG_ROLE_INFO},
};

static const struct ld_col_def c46[] = {
	{"pid", "integer", SEG_ROLE_KEY},
	{"relid", "oid", SEG_ROLE_INFO},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"phase", "text", SEG_ROLE_INFO},
	{"sample_blks_total", "bigint", SEG_ROLE_GAUGE},
	{"sample_blks_scanned", "bigint", SEG_ROLE_GAUGE},
	{"ext_stats_total", "bigint", SEG_ROLE_GAUGE},
	{"ext_stats_computed", "bigint", SEG_ROLE_GAUGE},
	{"child_tables_total", "bigint", SEG_ROLE_GAUGE},
	{"child_tables_done", "bigint", SEG_ROLE_GAUGE},
	{"current_child_table_relid", "oid", SEG_ROLE_INFO},
	{"delay_time", "double precision", SEG_ROLE_GAUGE},
	{"query_start", "timestamptz", SEG_ROLE_INFO},
	{"query", "text", SEG_ROLE_INFO},
};

static const struct ld_col_def c47[] = {
	{"pid", "integer", SEG_ROLE_KEY},
	{"relid", "oid", SEG_ROLE_INFO},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"index_relid", "oid", SEG_ROLE_INFO},
	{"indexrelname", "text", SEG_ROLE_INFO},
	{"command", "text", SEG_ROLE_INFO},
	{"phase", "text", SEG_ROLE_INFO},
	{"lockers_total", "bigint", SEG_ROLE_GAUGE},
	{"lockers_done", "bigint", SEG_ROLE_GAUGE},
	{"current_locker_pid", "bigint", SEG_ROLE_INFO},
	{"blocks_total", "bigint", SEG_ROLE_GAUGE},
	{"blocks_done", "bigint", SEG_ROLE_GAUGE},
	{"tuples_total", "bigint", SEG_ROLE_GAUGE},
	{"tuples_done", "bigint", SEG_ROLE_GAUGE},
	{"partitions_total", "bigint", SEG_ROLE_GAUGE},
	{"partitions_done", "bigint", SEG_ROLE_GAUGE},
	{"query_start", "timestamptz", SEG_ROLE_INFO},
	{"query", "text", SEG_ROLE_INFO},
};

static const struct ld_col_def c48[] = {
	{"pid", "integer", SEG_ROLE_KEY},
	{"relid", "oid", SEG_ROLE_INFO},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"command", "text", SEG_ROLE_INFO},
	{"phase", "text", SEG_ROLE_INFO},
	{"cluster_index_relid", "oid", SEG_ROLE_INFO},
	{"heap_tuples_scanned", "bigint", SEG_ROLE_GAUGE},
	{"heap_tuples_written", "bigint", SEG_ROLE_GAUGE},
	{"heap_blks_total", "bigint", SEG_ROLE_GAUGE},
	{"heap_blks_scanned", "bigint", SEG_ROLE_GAUGE},
	{"index_rebuild_count", "bigint", SEG_ROLE_GAUGE},
	{"query_start", "timestamptz", SEG_ROLE_INFO},
	{"query", "text", SEG_ROLE_INFO},
};

static const struct ld_col_def c49[] = {
	{"pid", "integer", SEG_ROLE_KEY},
	{"relid", "oid", SEG_ROLE_INFO},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"command", "text", SEG_ROLE_INFO},
	{"type", "text", SEG_ROLE_INFO},
	{"bytes_processed", "bigint", SEG_ROLE_GAUGE},
	{"bytes_total", "bigint", SEG_ROLE_GAUGE},
	{"tuples_processed", "bigint", SEG_ROLE_GAUGE},
	{"tuples_excluded", "bigint", SEG_ROLE_GAUGE},
	{"tuples_skipped", "bigint", SEG_ROLE_GAUGE},
	{"query_start", "timestamptz", SEG_ROLE_INFO},
	{"query", "text", SEG_ROLE_INFO},
};

static const struct ld_col_def c50[] = {
	{"relid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"relpages", "bigint", SEG_ROLE_GAUGE},
	{"table_bytes", "bigint", SEG_ROLE_GAUGE},
	{"fillfactor", "integer", SEG_ROLE_INFO},
	{"extra_bytes", "bigint", SEG_ROLE_GAUGE},
	{"extra_pct", "double precision", SEG_ROLE_GAUGE},
	{"bloat_bytes", "bigint", SEG_ROLE_GAUGE},
	{"bloat_pct", "double precision", SEG_ROLE_GAUGE},
	{"is_na", "boolean", SEG_ROLE_INFO},
};

static const struct ld_col_def c51[] = {
	{"indexrelid", "oid", SEG_ROLE_KEY},
	{"relid", "oid", SEG_ROLE_INFO},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"indexrelname", "text", SEG_ROLE_INFO},
	{"relpages", "bigint", SEG_ROLE_GAUGE},
	{"index_bytes", "bigint", SEG_ROLE_GAUGE},
	{"fillfactor", "integer", SEG_ROLE_INFO},
	{"extra_bytes", "bigint", SEG_ROLE_GAUGE},
	{"extra_pct", "double precision", SEG_ROLE_GAUGE},
	{"bloat_bytes", "bigint", SEG_ROLE_GAUGE},
	{"bloat_pct", "double precision", SEG_ROLE_GAUGE},
	{"is_na", "boolean", SEG_ROLE_INFO},
};

static const struct ld_col_def c52[] = {
	{"relid", "oid", SEG_ROLE_KEY},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"table_len", "bigint", SEG_ROLE_GAUGE},
	{"scanned_percent", "double precision", SEG_ROLE_GAUGE},
	{"approx_tuple_count", "bigint", SEG_ROLE_GAUGE},
	{"approx_tuple_len", "bigint", SEG_ROLE_GAUGE},
	{"approx_tuple_percent", "double precision", SEG_ROLE_GAUGE},
	{"dead_tuple_count", "bigint", SEG_ROLE_GAUGE},
	{"dead_tuple_len", "bigint", SEG_ROLE_GAUGE},
	{"dead_tuple_percent", "double precision", SEG_ROLE_GAUGE},
	{"approx_free_space", "bigint", SEG_ROLE_GAUGE},
	{"approx_free_percent", "double precision", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c53[] = {
	{"indexrelid", "oid", SEG_ROLE_KEY},
	{"relid", "oid", SEG_ROLE_INFO},
	{"schemaname", "text", SEG_ROLE_INFO},
	{"relname", "text", SEG_ROLE_INFO},
	{"indexrelname", "text", SEG_ROLE_INFO},
	{"tree_level", "integer", SEG_ROLE_GAUGE},
	{"index_size", "bigint", SEG_ROLE_GAUGE},
	{"internal_pages", "bigint", SEG_ROLE_GAUGE},
	{"leaf_pages", "bigint", SEG_ROLE_GAUGE},
	{"empty_pages", "bigint", SEG_ROLE_GAUGE},
	{"deleted_pages", "bigint", SEG_ROLE_GAUGE},
	{"avg_leaf_density", "double precision", SEG_ROLE_GAUGE},
	{"leaf_fragmentation", "double precision", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c54[] = {
	{"userid", "oid", SEG_ROLE_KEY},
	{"queryid", "bigint", SEG_ROLE_KEY},
	{"qualnodeid", "bigint", SEG_ROLE_KEY},
	{"eval_type", "text", SEG_ROLE_KEY},
	{"qualid", "bigint", SEG_ROLE_INFO},
	{"lrelid", "oid", SEG_ROLE_INFO},
	{"lschemaname", "text", SEG_ROLE_INFO},
	{"lrelname", "text", SEG_ROLE_INFO},
	{"lattnum", "smallint", SEG_ROLE_INFO},
	{"lattname", "text", SEG_ROLE_INFO},
	{"opno", "oid", SEG_ROLE_INFO},
	{"opname", "text", SEG_ROLE_INFO},
	{"rrelid", "oid", SEG_ROLE_INFO},
	{"rrelname", "text", SEG_ROLE_INFO},
	{"rattnum", "smallint", SEG_ROLE_INFO},
	{"rattname", "text", SEG_ROLE_INFO},
	{"occurences", "bigint", SEG_ROLE_COUNTER},
	{"execution_count", "bigint", SEG_ROLE_COUNTER},
	{"nbfiltered", "bigint", SEG_ROLE_COUNTER},
	{"mean_err_estimate_ratio", "double precision", SEG_ROLE_GAUGE},
	{"max_err_estimate_ratio", "double precision", SEG_ROLE_GAUGE},
	{"mean_err_estimate_num", "double precision", SEG_ROLE_GAUGE},
	{"max_err_estimate_num", "bigint", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c55[] = {
	{"cpu", "text", SEG_ROLE_KEY},
	{"user_s", "double precision", SEG_ROLE_COUNTER},
	{"nice_s", "double precision", SEG_ROLE_COUNTER},
	{"system_s", "double precision", SEG_ROLE_COUNTER},
	{"idle_s", "double precision", SEG_ROLE_COUNTER},
	{"iowait_s", "double precision", SEG_ROLE_COUNTER},
	{"irq_s", "double precision", SEG_ROLE_COUNTER},
	{"softirq_s", "double precision", SEG_ROLE_COUNTER},
	{"steal_s", "double precision", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c56[] = {
	{"load1", "double precision", SEG_ROLE_GAUGE},
	{"load5", "double precision", SEG_ROLE_GAUGE},
	{"load15", "double precision", SEG_ROLE_GAUGE},
	{"procs_running", "bigint", SEG_ROLE_GAUGE},
	{"procs_blocked", "bigint", SEG_ROLE_GAUGE},
	{"context_switches", "bigint", SEG_ROLE_COUNTER},
	{"forks", "bigint", SEG_ROLE_COUNTER},
	{"uptime_s", "double precision", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c57[] = {
	{"mem_total", "bigint", SEG_ROLE_GAUGE},
	{"mem_free", "bigint", SEG_ROLE_GAUGE},
	{"mem_available", "bigint", SEG_ROLE_GAUGE},
	{"buffers", "bigint", SEG_ROLE_GAUGE},
	{"cached", "bigint", SEG_ROLE_GAUGE},
	{"swap_total", "bigint", SEG_ROLE_GAUGE},
	{"swap_free", "bigint", SEG_ROLE_GAUGE},
	{"dirty", "bigint", SEG_ROLE_GAUGE},
	{"writeback", "bigint", SEG_ROLE_GAUGE},
	{"shmem", "bigint", SEG_ROLE_GAUGE},
	{"slab", "bigint", SEG_ROLE_GAUGE},
	{"committed_as", "bigint", SEG_ROLE_GAUGE},
	{"hugepages_total", "bigint", SEG_ROLE_GAUGE},
	{"hugepages_free", "bigint", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c58[] = {
	{"device", "text", SEG_ROLE_KEY},
	{"reads", "bigint", SEG_ROLE_COUNTER},
	{"reads_merged", "bigint", SEG_ROLE_COUNTER},
	{"read_bytes", "bigint", SEG_ROLE_COUNTER},
	{"read_time_ms", "bigint", SEG_ROLE_COUNTER},
	{"writes", "bigint", SEG_ROLE_COUNTER},
	{"writes_merged", "bigint", SEG_ROLE_COUNTER},
	{"write_bytes", "bigint", SEG_ROLE_COUNTER},
	{"write_time_ms", "bigint", SEG_ROLE_COUNTER},
	{"io_in_progress", "bigint", SEG_ROLE_GAUGE},
	{"io_time_ms", "bigint", SEG_ROLE_COUNTER},
	{"weighted_io_time_ms", "bigint", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c59[] = {
	{"interface", "text", SEG_ROLE_KEY},
	{"rx_bytes", "bigint", SEG_ROLE_COUNTER},
	{"rx_packets", "bigint", SEG_ROLE_COUNTER},
	{"rx_errors", "bigint", SEG_ROLE_COUNTER},
	{"rx_dropped", "bigint", SEG_ROLE_COUNTER},
	{"tx_bytes", "bigint", SEG_ROLE_COUNTER},
	{"tx_packets", "bigint", SEG_ROLE_COUNTER},
	{"tx_errors", "bigint", SEG_ROLE_COUNTER},
	{"tx_dropped", "bigint", SEG_ROLE_COUNTER},
};

static const struct ld_col_def c60[] = {
	{"path", "text", SEG_ROLE_KEY},
	{"total_bytes", "bigint", SEG_ROLE_GAUGE},
	{"free_bytes", "bigint", SEG_ROLE_GAUGE},
	{"avail_bytes", "bigint", SEG_ROLE_GAUGE},
	{"total_inodes", "bigint", SEG_ROLE_GAUGE},
	{"free_inodes", "bigint", SEG_ROLE_GAUGE},
};

static const struct ld_col_def c61[] = {
	{"log_time", "timestamptz", SEG_ROLE_KEY},
	{"user_name", "text", SEG_ROLE_INFO},
	{"database_name", "text", SEG_ROLE_INFO},
	{"process_id", "integer", SEG_ROLE_INFO},
	{"connection_from", "text", SEG_ROLE_INFO},
	{"session_id", "text", SEG_ROLE_KEY},
	{"session_line_num", "bigint", SEG_ROLE_KEY},
	{"command_tag", "text", SEG_ROLE_INFO},
	{"session_start_time", "timestamptz", SEG_ROLE_INFO},
	{"virtual_transaction_id", "text", SEG_ROLE_INFO},
	{"transaction_id", "bigint", SEG_ROLE_INFO},
	{"error_severity", "text", SEG_ROLE_INFO},
	{"sql_state_code", "text", SEG_ROLE_INFO},
	{"message", "text", SEG_ROLE_INFO},
	{"detail", "text", SEG_ROLE_INFO},
	{"hint", "text", SEG_ROLE_INFO},
	{"internal_query", "text", SEG_ROLE_INFO},
	{"internal_query_pos", "integer", SEG_ROLE_INFO},
	{"context", "text", SEG_ROLE_INFO},
	{"query", "text", SEG_ROLE_INFO},
	{"query_pos", "integer", SEG_ROLE_INFO},
	{"location", "text", SEG_ROLE_INFO},
	{"application_name", "text", SEG_ROLE_INFO},
	{"backend_type", "text", SEG_ROLE_INFO},
	{"leader_pid", "integer", SEG_ROLE_INFO},
	{"query_id", "bigint", SEG_ROLE_INFO},
};

static const struct ld_col_def c62[] = {
	{"status", "text", SEG_ROLE_INFO},
	{"blocks", "bigint", SEG_ROLE_GAUGE},
	{"rows", "bigint", SEG_ROLE_GAUGE},
	{"databases", "integer", SEG_ROLE_GAUGE},
	{"databases_failed", "integer", SEG_ROLE_GAUGE},
	{"metric_errors", "bigint", SEG_ROLE_GAUGE},
	{"values_escaped", "bigint", SEG_ROLE_GAUGE},
	{"metrics_unconverted", "integer", SEG_ROLE_GAUGE},
	{"duration_s", "double precision", SEG_ROLE_GAUGE},
	{"reason", "text", SEG_ROLE_INFO},
};

static const struct ld_builtin builtins[] = {
	{"pg_stat_database", false, c0, N(c0)},
	{"pg_database", false, c1, N(c1)},
	{"xid_wraparound", false, c2, N(c2)},
	{"pg_stat_bgwriter", false, c3, N(c3)},
	{"pg_stat_checkpointer", false, c4, N(c4)},
	{"pg_stat_wal", false, c5, N(c5)},
	{"pg_stat_archiver", false, c6, N(c6)},
	{"pg_stat_replication", false, c7, N(c7)},
	{"pg_replication_slots", false, c8, N(c8)},
	{"pg_stat_replication_slots", false, c9, N(c9)},
	{"activity_summary", false, c10, N(c10)},
	{"locks_summary", false, c11, N(c11)},
	{"activity_top", false, c12, N(c12)},
	{"blocking_chains", false, c13, N(c13)},
	{"pg_stat_progress_basebackup", false, c14, N(c14)},
	{"pg_stat_wal_receiver", false, c15, N(c15)},
	{"standby_replay", false, c16, N(c16)},
	{"pg_stat_subscription", false, c17, N(c17)},
	{"pg_stat_subscription_stats", false, c18, N(c18)},
	{"pg_replication_origin_status", false, c19, N(c19)},
	{"pg_control_checkpoint", false, c20, N(c20)},
	{"wal_files", false, c21, N(c21)},
	{"tablespaces", false, c22, N(c22)},
	{"pg_stat_io", false, c23, N(c23)},
	{"pg_stat_slru", false, c24, N(c24)},
	{"pg_settings", false, c25, N(c25)},
	{"pg_stat_statements", false, c26, N(c26)},
	{"pg_stat_statements_info", false, c27, N(c27)},
	{"pg_stat_statements_totals", false, c28, N(c28)},
	{"pg_stat_kcache", false, c29, N(c29)},
	{"pg_wait_sampling_profile", false, c30, N(c30)},
	{"pg_stat_statements_texts", false, c31, N(c31)},
	{"pg_stat_user_tables", true, c32, N(c32)},
	{"pg_statio_user_tables", true, c33, N(c33)},
	{"pg_stat_user_indexes", true, c34, N(c34)},
	{"pg_statio_user_indexes", true, c35, N(c35)},
	{"pg_statio_user_sequences", true, c36, N(c36)},
	{"pg_stat_user_functions", true, c37, N(c37)},
	{"table_sizes", true, c38, N(c38)},
	{"index_sizes", true, c39, N(c39)},
	{"pg_stat_sys_tables", true, c40, N(c40)},
	{"sequences", true, c41, N(c41)},
	{"extensions", true, c42, N(c42)},
	{"relation_options", true, c43, N(c43)},
	{"foreign_keys", true, c44, N(c44)},
	{"pg_stat_progress_vacuum", true, c45, N(c45)},
	{"pg_stat_progress_analyze", true, c46, N(c46)},
	{"pg_stat_progress_create_index", true, c47, N(c47)},
	{"pg_stat_progress_cluster", true, c48, N(c48)},
	{"pg_stat_progress_copy", true, c49, N(c49)},
	{"table_bloat", true, c50, N(c50)},
	{"index_bloat", true, c51, N(c51)},
	{"table_bloat_exact", true, c52, N(c52)},
	{"index_bloat_exact", true, c53, N(c53)},
	{"pg_qualstats", true, c54, N(c54)},
	{"host_cpu", false, c55, N(c55)},
	{"host_load", false, c56, N(c56)},
	{"host_memory", false, c57, N(c57)},
	{"host_disk", false, c58, N(c58)},
	{"host_net", false, c59, N(c59)},
	{"host_fs", false, c60, N(c60)},
	{"postgres_log", false, c61, N(c61)},
	{"snapshot_status", false, c62, N(c62)},
};

const struct ld_builtin *
ld_builtin_all(size_t *n)
{
	*n = N(builtins);
	return builtins;
}

const struct ld_builtin *
ld_builtin_find(const char *metric)
{
	for (size_t i = 0; i < N(builtins); i++)
		if (strcmp(builtins[i].name, metric) == 0)
			return &builtins[i];
	return NULL;
}
