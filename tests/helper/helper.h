/* helper.h - command table of pga-test-helper; one helper_<area>.c per area. */
#ifndef PGA_TEST_HELPER_H
#define PGA_TEST_HELPER_H

struct helper_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

int helper_seg_corrupt(int argc, char **argv);
int helper_seg_info(int argc, char **argv);
int helper_put_kill(int argc, char **argv);
int helper_part_blocks(int argc, char **argv);
int helper_seg_forge(int argc, char **argv);
int helper_seg_name(int argc, char **argv);
int helper_seg_crypt(int argc, char **argv);

#define HELPER_SPOOL_COMMANDS \
	{"seg-forge", helper_seg_forge, "IN OUT [KEY=VALUE...]: re-encode a segment with forged fields (helper_forge.c)"}, \
	{"seg-name", helper_seg_name, "FILE: the name its header gives it"}, \
	{"seg-crypt", helper_seg_crypt, "flip|flip-raw|swap|cut-wrapped|chunks FILE ...: attack an encrypted segment (helper_crypt.c)"}, \
	{"seg-corrupt", helper_seg_corrupt, "MODE FILE [ARG]: damage a segment (see helper_spool.c)"}, \
	{"seg-info", helper_seg_info, "FILE: header fields, one per line"}, \
	{"put-kill", helper_put_kill, "SPOOL ROWS KILL_AFTER: stream rows, SIGKILL self midway"}, \
	{"part-blocks", helper_part_blocks, "FILE: complete blocks of a part file (metric, snapshot, rows, status)"},

int helper_catalog_sql(int argc, char **argv);
int helper_catalog_cols(int argc, char **argv);
int helper_catalog_types(int argc, char **argv);
int helper_seg_blocks(int argc, char **argv);
int helper_prepared_csv(int argc, char **argv);
int helper_prepared_replan(int argc, char **argv);
int helper_prepared_gone(int argc, char **argv);
int helper_prepared_batch(int argc, char **argv);
int helper_prepared_batch_fail(int argc, char **argv);

#define HELPER_COLLECT_COMMANDS \
	{"catalog-sql", helper_catalog_sql, "VERSION [PGSS_VERSION [LIMIT]]: catalog SQL for a server"}, \
	{"catalog-cols", helper_catalog_cols, ": every metric's canonical columns"}, \
	{"catalog-types", helper_catalog_types, ": every SQL metric's columns with their types"}, \
	{"seg-blocks", helper_seg_blocks, "PATH: one line per block of every segment"}, \
	{"prepared-csv", helper_prepared_csv, "CONNINFO FILE [ROWS]: catalog-sql's metrics as COPY and prepared, compared"}, \
	{"prepared-replan", helper_prepared_replan, "CONNINFO: a prepared statement's table changes its columns"}, \
	{"prepared-gone", helper_prepared_gone, "CONNINFO: the session loses its prepared statements (a pooler)"}, \
	{"prepared-batch", helper_prepared_batch, "CONNINFO FILE [ROWS]: batched prepared CSV against COPY's"}, \
	{"prepared-batch-fail", helper_prepared_batch_fail, "CONNINFO: batches that fail, switch and split"},

int helper_s3_request(int argc, char **argv);
int helper_azure_request(int argc, char **argv);

#define HELPER_SIGN_COMMANDS \
	{"s3-request", helper_s3_request, "[opts] METHOD ENDPOINT RAWPATH: SigV4-signed request (helper_sign.c)"}, \
	{"azure-request", helper_azure_request, "[opts] METHOD ENDPOINT RAWPATH: Shared Key request (helper_sign.c)"},

int helper_ship_fill(int argc, char **argv);
int helper_ship_status(int argc, char **argv);
int helper_ship_check(int argc, char **argv);
int helper_dest_op(int argc, char **argv);

#define HELPER_SHIP_COMMANDS \
	{"ship-fill", helper_ship_fill, "SPOOL COLLECTOR N RAW_BYTES [MAX block|drop-oldest]: N sealed one-block segments"}, \
	{"ship-status", helper_ship_status, "CONFIG [json]: per-destination shipping status"}, \
	{"ship-check", helper_ship_check, "CONFIG [json]: check every destination"}, \
	{"dest-list", helper_dest_op, "CONFIG DEST [PREFIX]: objects of a destination, name and size"}, \
	{"dest-get", helper_dest_op, "CONFIG DEST NAME: an object's bytes to standard output"}, \
	{"dest-head", helper_dest_op, "CONFIG DEST NAME: exists SIZE SHA256, or absent"},

int helper_load_spool(int argc, char **argv);
int helper_central_status(int argc, char **argv);
int helper_seg_build(int argc, char **argv);
int helper_schema_sql(int argc, char **argv);

int helper_report_history(int argc, char **argv);

#define HELPER_REPORT_COMMANDS \
	{"report-history", helper_report_history, "CONNINFO DAYS DBS [STEP [TABLES [STATEMENTS [END [METRICS]]]]]: a known history in the central tables (helper_report.c)"},

#define HELPER_LOAD_COMMANDS \
	{"load-spool", helper_load_spool, "SPOOL COLLECTOR NSEG BLOCKS ROWS START STEP [METRIC]: test segments"}, \
	{"central-status", helper_central_status, "[--json] CONNINFO [SCHEMA]: pga status --central"}, \
	{"schema-sql", helper_schema_sql, "VERSION: a released migration's SQL for schema pga"}, \
	{"seg-build", helper_seg_build, "DIR COLLECTOR HOST SEQ PREV CREATED METRIC:COLS:FILE[:TIME]...: one segment, CSV unchecked"},

int helper_seg_summary(int argc, char **argv);
int helper_seg_rows(int argc, char **argv);

#define HELPER_TORTURE_COMMANDS \
	{"seg-summary", helper_seg_summary, "PATH: one verified line per segment (helper_torture.c)"}, \
	{"seg-rows", helper_seg_rows, "PATH METRIC: the rows of every METRIC block, with their segment"},
int helper_gen_archive(int argc, char **argv);

#define HELPER_RESTORE_COMMANDS \
	{"gen-archive", helper_gen_archive, "DIR [KEY=VALUE...]: a realistic archive of segments (helper_genarchive.c)"},

int helper_config_get(int argc, char **argv);
int helper_opt_table(int argc, char **argv);

#define HELPER_CONFIG_COMMANDS \
	{"config-get", helper_config_get, "FILE [CMD [OPTION...] --] [KEY...]: what pga resolves (helper_config.c)"}, \
	{"opt-table", helper_opt_table, ": the option table, one option a line, tab-separated"},

#endif
