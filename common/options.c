/*
 * The table of options and the table of commands (options.h), and what is
 * generated from them: lookups, the command-line parser, usage texts and
 * the documentation of keys and environment variables.
 */
#define _GNU_SOURCE
#include "common/options.h"

#include <ctype.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/config.h"
#include "common/pgutil.h"
#include "common/secretfile.h"

#define C_GLOBAL PGA_CMD_GLOBAL
#define C_CHECK PGA_CMD_CHECK
#define C_COLLECT PGA_CMD_COLLECT
#define C_HELP PGA_CMD_HELP
#define C_LOAD PGA_CMD_LOAD
#define C_RESTORE PGA_CMD_RESTORE
#define C_SHIP PGA_CMD_SHIP
#define C_PUT PGA_CMD_SPOOL_PUT
#define C_LS PGA_CMD_SPOOL_LS
#define C_VERIFY PGA_CMD_SPOOL_VERIFY
#define C_CAT PGA_CMD_SPOOL_CAT
#define C_PACK PGA_CMD_SPOOL_PACK
#define C_SPOOL PGA_CMD_SPOOL
#define C_STATUS PGA_CMD_STATUS
#define C_REPORT PGA_CMD_REPORT
#define C_KEYGEN PGA_CMD_KEYGEN
#define C_CADD PGA_CMD_COLLECTORS_ADD
#define C_CLIST PGA_CMD_COLLECTORS_LIST
#define C_CREVOKE PGA_CMD_COLLECTORS_REVOKE
#define C_COLLECTORS PGA_CMD_COLLECTORS

#define ARG(f) .scope = PGA_SCOPE_ARGS, .off = offsetof(struct pga_args, f)
#define GLOBAL(f) .scope = PGA_SCOPE_GLOBAL, .off = offsetof(struct pga_global, f)
#define TARGET(f) .scope = PGA_SCOPE_TARGET, .off = offsetof(struct pga_target, f)
#define DEST(f) .scope = PGA_SCOPE_DEST, .off = offsetof(struct pga_dest, f)
#define METRIC(f) .scope = PGA_SCOPE_METRIC, .off = offsetof(struct pga_metric, f)
#define STRING .type = PGA_OPT_STRING
#define SIZE .type = PGA_OPT_SIZE
#define DURATION .type = PGA_OPT_DURATION
#define INT(lo, hi) .type = PGA_OPT_INT, .min = (lo), .max = (hi)
#define BOOL .type = PGA_OPT_BOOL
#define ENUM(c) .type = PGA_OPT_ENUM, .choices = (c)
#define LIST .type = PGA_OPT_LIST
/* kinds of destination, as ship/dest.c's registry names them */
#define OBJECT_STORES "s3 gcs azure"

static const char *const full_choices[] = {"block", "drop-oldest", NULL};
static const char *const level_choices[] = {"error", "warn", "info", "debug", "trace", NULL};
/* in the order of enum pga_log_dest, enum pga_log_stamp, pga_log_facilities[] */
static const char *const log_dest_choices[] = {"stderr", "syslog", NULL};
static const char *const log_stamp_choices[] = {"auto", "on", "off", NULL};
static const char *const facility_choices[] = {"daemon", "user", "local0", "local1", "local2",
					       "local3", "local4", "local5", "local6",
					       "local7", NULL};
static const char *const create_only_choices[] = {"auto", "if-none-match", "check", NULL};
/* restore/restore.h's enum restore_order, in its order */
static const char *const order_choices[] = {"newest-first", "oldest-first", NULL};
/* enum pga_cred_source's order */
/* enum pga_metric_scope's order */
static const char *const metric_scope_choices[] = {"cluster", "database", NULL};
static const char *const cred_source_choices[] = {
	"auto", "static", "web-identity", "container", "instance", "app-service", NULL,
};

/*
 * Command-line options first (a command's usage lists its options in this
 * order), then the keys of pga.conf, section by section, in the order
 * `pga help config` and pga.conf.example show them.
 */
const struct pga_opt pga_opts[] = {
	/* ---- pga's own ---- */
	{.name = "config", ARG(config), STRING, .cmds = C_GLOBAL, .short_flag = 'c',
	 .metavar = "FILE", .usage = "configuration file (default " PGA_DEFAULT_CONFIG
	 "; a missing default file means built-in defaults)"},

	/* ---- the command line only ---- */
	{.name = "loop", ARG(loop), BOOL, .cmds = C_COLLECT | C_SHIP | C_LOAD,
	 .usage = "keep running until SIGTERM or SIGINT; SIGHUP reads the configuration again"},
	{.name = "cycles", ARG(cycles), INT(1, 1LL << 40), .cmds = C_COLLECT, .metavar = "N",
	 .usage = "with --loop: stop after N cycles"},
	{.name = "passes", ARG(passes), INT(1, 1LL << 40), .cmds = C_LOAD, .metavar = "N",
	 .usage = "with --loop: stop after N passes"},
	{.name = "target", ARG(target), LIST, .cmds = C_COLLECT | C_CHECK, .metavar = "NAME",
	 .usage = "only this target (repeatable; a disabled one too)"},
	{.name = "dest", ARG(dest), STRING, .cmds = C_SHIP, .metavar = "NAME",
	 .usage = "ship only to this destination"},
	{.name = "status-central", ARG(status_central), BOOL, .cmds = C_STATUS, .flag = "central",
	 .usage = "also show every collector as the central database sees it"},
	{.name = "prometheus", ARG(prometheus), STRING, .cmds = C_STATUS, .metavar = "FILE",
	 .usage = "write the health as a node_exporter textfile to FILE (atomically), print nothing"},
	{.name = "from", ARG(from), STRING, .cmds = C_LOAD | C_RESTORE, .required = C_RESTORE,
	 .metavar = "SOURCE", .usage = "a spool directory, a directory of segments, a tar from "
	 "'pga spool pack', one segment file, a bucket URL (s3://, gs://, azure://) or "
	 "dest:NAME (default: load-from, else the local spool)"},
	{.name = "init", ARG(init), BOOL, .cmds = C_LOAD,
	 .usage = "create or upgrade the central schema, then stop (or load --from)"},
	{.name = "only-collector", ARG(only_collector), STRING, .cmds = C_LOAD, .flag = "collector",
	 .metavar = "ID", .usage = "only segments of this collector"},
	{.name = "since", ARG(since), STRING, .cmds = C_LOAD | C_RESTORE | C_PACK | C_REPORT,
	 .metavar = "T",
	 .usage = "only snapshots taken at or after T: ISO 8601 UTC or -2h, -7d"},
	{.name = "until", ARG(until), STRING, .cmds = C_LOAD | C_RESTORE | C_PACK | C_REPORT,
	 .metavar = "T",
	 .usage = "only snapshots taken at or before T"},
	{.name = "resolve-fork", ARG(resolve_fork), STRING, .cmds = C_LOAD, .metavar = "COLLECTOR:SEQ",
	 .usage = "decide a fork 'pga status --central' shows, with --keep: a command of its own"},
	{.name = "keep", ARG(keep), STRING, .cmds = C_LOAD, .metavar = "SHA256-PREFIX",
	 .usage = "with --resolve-fork: keep the version of that seq whose sha256 starts with "
	 "these 8 to 64 hex digits, unload the other branch (rows kept in held_rows), load "
	 "the kept one and the held segments that then fit the chain"},
	{.name = "dry-run", ARG(dry_run), BOOL, .cmds = C_LOAD,
	 .usage = "verify and count what would load, write nothing"},
	{.name = "retain", ARG(retain), DURATION, .cmds = C_LOAD, .metavar = "DURATION",
	 .usage = "then drop daily partitions older than DURATION (e.g. 90d); with no --from "
	 "and no local spool, only that"},
	{.name = "order", ARG(order), ENUM(order_choices), .def = "newest-first", .cmds = C_RESTORE,
	 .metavar = "ORDER", .usage = "newest-first (the last day of every collector is "
	 "queryable first, then history behind it) or oldest-first"},
	{.name = "prefetch", ARG(prefetch), SIZE, .def = "1G", .cmds = C_RESTORE, .metavar = "SIZE",
	 .usage = "most bytes of segments downloaded ahead of the loaders"},
	{.name = "index-memory", ARG(index_memory), SIZE, .def = "256M", .cmds = C_RESTORE,
	 .metavar = "SIZE", .usage = "maintenance_work_mem of the index builds"},
	{.name = "index-workers", ARG(index_workers), INT(-1, 64), .def = "0", .cmds = C_RESTORE,
	 .metavar = "N", .usage = "max_parallel_maintenance_workers of each day table's index "
	 "build; 0: none, as the --jobs streams build side by side with the loads (-1: the "
	 "server's)"},
	{.name = "segment-by-segment", ARG(segment_by_segment), BOOL, .cmds = C_RESTORE,
	 .usage = "load the way pga load does (no day transactions)"},
	{.name = "verify-only", ARG(verify_only), BOOL, .cmds = C_RESTORE,
	 .usage = "no database: verify every segment, the manifest and each collector's "
	 "history, report per collector (the DR drill)"},
	{.name = "metric", ARG(metric), STRING, .cmds = C_PUT | C_CAT, .required = C_PUT,
	 .metavar = "NAME", .usage = "the metric"},
	{.name = "columns", ARG(columns), STRING, .cmds = C_PUT, .required = C_PUT,
	 .metavar = "A[:TYPE[:ROLE]],...", .usage = "the CSV's columns, in order, each with its "
	 "central type and role (key, counter, gauge, reset, info) if given"},
	{.name = "put-target", ARG(put_target), STRING, .cmds = C_PUT, .flag = "target",
	 .metavar = "NAME", .usage = "the target the block is about"},
	{.name = "database", ARG(database), STRING, .cmds = C_PUT, .metavar = "DB",
	 .usage = "the database the block is about (none: cluster-wide)"},
	{.name = "time", ARG(time), STRING, .cmds = C_PUT, .metavar = "T",
	 .usage = "the snapshot time (default: now)"},
	{.name = "block", ARG(block), INT(0, 4294967295LL), .cmds = C_CAT, .metavar = "N",
	 .usage = "only block N"},
	{.name = "raw", ARG(raw), BOOL, .cmds = C_CAT, .usage = "the rows alone, no '#' and header lines"},
	{.name = "encryption", ARG(encryption), BOOL, .cmds = C_KEYGEN,
	 .usage = "an X25519 pair for encrypt-to and decrypt-key-file, not an Ed25519 one "
	 "for signing"},
	{.name = "output", ARG(output), STRING, .cmds = C_PACK | C_REPORT | C_KEYGEN,
	 .required = C_PACK | C_REPORT | C_KEYGEN, .short_flag = 'o', .metavar = "FILE",
	 .usage = "the file to write"},
	/* pga report; its bounds are report/report.h's (test_options checks) */
	{.name = "report-collector", ARG(report_collector), LIST, .cmds = C_REPORT, .flag = "collector",
	 .metavar = "ID", .usage = "only this collector (repeatable)"},
	{.name = "server", ARG(server), LIST, .cmds = C_REPORT, .metavar = "ID",
	 .usage = "only this server: its id, target name or host (repeatable)"},
	{.name = "top", ARG(top), INT(1, 100), .def = "10", .cmds = C_REPORT, .metavar = "N",
	 .usage = "entries per ranking"},
	{.name = "points", ARG(points), INT(2, 240), .def = "120", .cmds = C_REPORT, .metavar = "N",
	 .usage = "points per chart"},
	{.name = "explain", ARG(explain), STRING, .cmds = C_REPORT, .metavar = "FILE",
	 .usage = "write every query's plan (EXPLAIN ANALYZE) and time there"},
	{.name = "no-manifest", ARG(no_manifest), BOOL, .cmds = C_LOAD | C_RESTORE | C_VERIFY,
	 .usage = "read an archive that has no MANIFEST.sha256 (never the default)"},
	{.name = "public-key", ARG(public_key), STRING, .cmds = C_VERIFY | C_CADD | C_CREVOKE,
	 .required = C_CADD, .metavar = "FILE",
	 .usage = "an Ed25519 public key in PEM (from 'pga keygen')"},
	{.name = "environment", ARG(environment), STRING, .cmds = C_CADD, .metavar = "E",
	 .usage = "the collector's environment (production, staging, ...)"},
	{.name = "group", ARG(group), STRING, .cmds = C_CADD, .metavar = "G",
	 .usage = "the collector's group"},
	{.name = "description", ARG(description), STRING, .cmds = C_CADD, .metavar = "D",
	 .usage = "what the collector is"},
	{.name = "revoke-from", ARG(revoke_from), STRING, .cmds = C_CREVOKE, .flag = "from",
	 .metavar = "T", .usage = "revoked from T (ISO 8601 UTC or -2h; default now): segments "
	 "created after T are refused"},
	{.name = "verify", ARG(verify), BOOL, .cmds = C_STATUS,
	 .usage = "with --central: recompute the ledger's hash chain, each collector's segment "
	 "chain and the stored signatures"},
	{.name = "json", ARG(json), BOOL, .cmds = C_CHECK | C_LOAD | C_RESTORE | C_LS | C_STATUS |
	 C_CLIST,
	 .usage = "JSON on standard output"},
	{.name = "example", ARG(example), BOOL, .cmds = C_HELP,
	 .usage = "with config: the keys as a pga.conf, every line commented out"},
	{.name = "man", ARG(man), BOOL, .cmds = C_HELP,
	 .usage = "scdoc for the man page: a command's synopsis, the keys, the variables"},
	{.name = "man-options", ARG(man_options), BOOL, .cmds = C_HELP,
	 .usage = "scdoc for the man page: a command's options"},

	/* ---- [global]: the spool ---- */
	{.name = "spool-path", GLOBAL(spool_path), STRING, .def = "/var/spool/pga",
	 .cmds = C_COLLECT | C_SHIP | C_SPOOL | C_STATUS, .flag = "spool", .metavar = "DIR",
	 .usage = "the spool directory",
	 .doc = "Directory of the local spool (segments, state, counters)."},
	{.name = "collector", GLOBAL(collector), STRING,
	 .doc = "This site's collector id, part of every segment name. Default: the host name."},
	{.name = "spool-max", GLOBAL(spool_max), SIZE, .def = "1G",
	 .doc = "Most bytes the spool may hold (sealed and open segments)."},
	{.name = "spool-full", GLOBAL(spool_full), ENUM(full_choices), .def = "block",
	 .doc = "What to do when spool-max is reached: block refuses new data (exit 1), "
	 "drop-oldest first removes segments every destination already has (kept only for "
	 "spool-retain), then deletes the oldest sealed segments not being shipped, counted and "
	 "logged with the destinations that had them."},
	{.name = "segment-max-size", GLOBAL(segment_max_size), SIZE, .def = "64M",
	 .doc = "Seal a segment once it reaches this size."},
	{.name = "segment-max-age", GLOBAL(segment_max_age), DURATION, .def = "5m",
	 .doc = "Seal a segment once it is this old, so the shipper can take it."},
	{.name = "compress-level", GLOBAL(compress_level), INT(1, 19), .def = "3",
	 .doc = "zstd compression level of segment data frames."},
	{.name = "log-level", GLOBAL(log_level), ENUM(level_choices), .def = "info",
	 .cmds = C_GLOBAL, .metavar = "LEVEL", .usage = "error, warn, info, debug or trace",
	 .doc = "error, warn, info, debug or trace."},
	{.name = "log-destination", GLOBAL(log_destination), ENUM(log_dest_choices),
	 .def = "stderr",
	 .doc = "stderr, or syslog: syslog(3) with log-ident and log-facility, which stamp "
		"and keep the level themselves."},
	{.name = "log-timestamp", GLOBAL(log_timestamp), ENUM(log_stamp_choices), .def = "auto",
	 .doc = "Our timestamp in front of each stderr line: auto writes it to a terminal or "
		"a file, not to journald (detected by JOURNAL_STREAM; lines then carry their "
		"level as <N> for journalctl -p) nor to a pipe such as logger, which stamp "
		"lines themselves."},
	{.name = "log-facility", GLOBAL(log_facility), ENUM(facility_choices), .def = "daemon",
	 .doc = "syslog facility with log-destination = syslog: daemon, user, local0 ... local7."},
	{.name = "log-ident", GLOBAL(log_ident), STRING, .def = "pga",
	 .doc = "syslog ident with log-destination = syslog."},
	{.name = "spool-retain", GLOBAL(spool_retain), STRING, .def = "shipped",
	 .doc = "When shipped segments leave the spool: 'shipped' (as soon as every "
	 "destination has confirmed them) or a duration such as 7d (keep that long after shipping)."},
	{.name = "sign-key-file", GLOBAL(sign_key_file), STRING,
	 .doc = "Ed25519 private key (PEM, from pga keygen, mode 0600) that signs every sealed "
	 "segment, crash recovery's too; register its .pub with pga collectors add. "
	 "Default: segments are not signed."},
	{.name = "encrypt-to", GLOBAL(encrypt_to), LIST,
	 .doc = "X25519 public keys (PEM, from pga keygen --encryption on the central side) "
	 "that every new segment's data is encrypted to, a comma list of files (at most 16): "
	 "any one of their private keys decrypts it; name the old and the new key while "
	 "rotating, or a second site's. The collector holds no key that decrypts: its "
	 "spool, its bucket and its archives reveal no segment's contents. Crash recovery "
	 "needs no key. Default: segments are not encrypted."},
	{.name = "decrypt-key-file", GLOBAL(decrypt_key_file), LIST,
	 .cmds = C_LOAD | C_RESTORE | C_VERIFY | C_CAT, .metavar = "FILE",
	 .usage = "X25519 private key(s) that decrypt encrypted segments (repeatable)",
	 .doc = "X25519 private keys (PEM, from pga keygen --encryption, mode 0600) that "
	 "pga load, pga restore, pga spool verify and pga spool cat decrypt encrypted "
	 "segments with, a comma list (the current key and those of earlier rotations). "
	 "A segment none of them decrypts is refused and recorded; without any, spool "
	 "verify checks all but the plaintext. pga load --loop reads them again on a "
	 "reload (SIGHUP), all or nothing. Default: none."},
	/* ---- [global]: health ---- */
	{.name = "status-stale-after", GLOBAL(status_stale_after), DURATION, .def = "15m",
	 .doc = "pga status is critical (exit 2) when a target has had no complete snapshot, "
	 "the collector no cycle, or a destination no success for longer than this."},
	{.name = "status-spool-warn", GLOBAL(status_spool_warn), INT(1, 100), .def = "80",
	 .doc = "pga status warns (exit 1) when the spool holds this percentage of spool-max "
	 "or more; critical (exit 2) at 100."},
	{.name = "prometheus-file", GLOBAL(prometheus_file), STRING,
	 .doc = "pga collect and pga ship write the health there (node_exporter textfile "
	 "format, as pga status --prometheus) at the end of each cycle and pass. Default: none."},
	/* ---- [global]: the collector ---- */
	{.name = "workers", GLOBAL(workers), INT(0, 256), .def = "0", .cmds = C_COLLECT,
	 .metavar = "N", .usage = "parallel connections; 0: 4 per core",
	 .doc = "Parallel collector connections; 0 picks 4 per core, capped by the number of targets."},
	{.name = "interval", GLOBAL(interval), DURATION, .def = "60s", .cmds = C_COLLECT,
	 .metavar = "DURATION", .usage = "time between cycle starts in --loop",
	 .doc = "Cycle interval of pga collect --loop."},
	{.name = "query-stats-limit", GLOBAL(query_stats_limit), INT(100, 10000), .def = "1000",
	 .doc = "Most pg_stat_statements entries per cycle, by total time."},
	{.name = "texts-every", GLOBAL(texts_every), INT(1, 100000), .def = "60",
	 .doc = "Collect all query texts every N cycles; new queryids get their text at once."},
	{.name = "settings-every", GLOBAL(settings_every), INT(1, 100000), .def = "60",
	 .doc = "Collect pg_settings every N cycles, and whenever they changed."},
	{.name = "connect-timeout", GLOBAL(connect_timeout), DURATION, .def = "5s",
	 .doc = "libpq connect_timeout for every target; a bare number is seconds, as in "
		"libpq."},
	{.name = "statement-timeout", GLOBAL(statement_timeout), DURATION, .def = "10s",
	 .bare_ms = true,
	 .doc = "statement_timeout of collector sessions; a bare number is milliseconds, "
		"as in postgresql.conf."},
	{.name = "lock-timeout", GLOBAL(lock_timeout), DURATION, .def = "1s", .bare_ms = true,
	 .doc = "lock_timeout of collector sessions; a bare number is milliseconds, "
		"as in postgresql.conf."},
	{.name = "target-deadline", GLOBAL(target_deadline), DURATION, .def = "30s",
	 .doc = "Wall-clock limit for one target in one cycle; past it the target is abandoned and counted."},
	{.name = "functions-limit", GLOBAL(functions_limit), INT(10, 100000), .def = "1000",
	 .doc = "Most pg_stat_user_functions rows per database, by total time."},
	{.name = "sessions-limit", GLOBAL(sessions_limit), INT(1, 10000), .def = "50",
	 .doc = "Most rows of activity_top (the oldest transactions and queries) and of "
	 "blocking_chains per cycle."},
	{.name = "bloat-every", GLOBAL(bloat_every), INT(1, 100000), .def = "60",
	 .doc = "Estimate table and index bloat (a scan of pg_stats in every database) and "
	 "measure tablespaces every N cycles."},
	{.name = "bloat-exact-limit", GLOBAL(bloat_exact_limit), INT(0, 1000), .def = "10",
	 .doc = "Where pgstattuple is installed: measure this many tables and as many indexes "
	 "per database, those with the most estimated bloat, at bloat-every; 0 never."},
	{.name = "bloat-exact-max-size", GLOBAL(bloat_exact_max_size), SIZE, .def = "1G",
	 .doc = "Largest table or index bloat-exact-limit measures (pgstatindex reads all of it)."},
	{.name = "os-stats", GLOBAL(os_stats), BOOL, .def = "off",
	 .doc = "Collect host CPU, memory, disk and network counters for local targets."},
	/* ---- [global]: the central side ---- */
	{.name = "central", GLOBAL(central), STRING, .secret = PGA_SECRET_PASSWORD,
	 .cmds = C_LOAD | C_REPORT | C_RESTORE | C_STATUS | C_COLLECTORS, .flag = "db",
	 .metavar = "CONNINFO",
	 .usage = "central database; a password here is refused (argv is public): use "
	 "~/.pgpass, the environment or the configuration",
	 .doc = "Conninfo of the central database used by pga load, restore and status --central."},
	{.name = "central-schema", GLOBAL(central_schema), STRING, .def = "pga",
	 .cmds = C_LOAD | C_REPORT | C_RESTORE | C_COLLECTORS, .flag = "schema",
	 .metavar = "NAME",
	 .usage = "schema of the central tables",
	 .doc = "Schema that holds the central tables."},
	{.name = "load-jobs", GLOBAL(load_jobs), INT(1, 64), .def = "1", .cmds = C_LOAD | C_RESTORE,
	 .flag = "jobs", .short_flag = 'j', .metavar = "N",
	 .usage = "loaders in parallel, one connection each",
	 .doc = "Parallel loader connections (pga restore: days loaded at once; default 2 there)."},
	{.name = "load-from", GLOBAL(load_from), STRING,
	 .doc = "What pga load reads when --from is not given: a directory, a tar, s3://..., "
	 "gs://..., azure://... or dest:NAME. Default: spool-path."},
	{.name = "load-interval", GLOBAL(load_interval), DURATION, .def = "60s", .cmds = C_LOAD,
	 .flag = "interval", .metavar = "DURATION", .usage = "time between pass starts in --loop",
	 .doc = "Time between pass starts of pga load --loop."},
	{.name = "load-deadline", GLOBAL(load_deadline), DURATION, .def = "0", .cmds = C_LOAD,
	 .flag = "deadline", .metavar = "DURATION",
	 .usage = "take no new segment after this long, finish those in flight, exit 2",
	 .doc = "A pass of pga load (--loop or not) takes no new segment after this long; "
	 "those in flight finish (0: no deadline)."},
	{.name = "load-retain", GLOBAL(load_retain), DURATION, .def = "0",
	 .doc = "Central retention of pga load --loop: after each pass, drop daily partitions "
	 "older than this (e.g. 90d; 0: keep everything). --retain overrides it."},
	{.name = "load-retry-max-delay", GLOBAL(load_retry_max_delay), DURATION, .def = "5m",
	 .doc = "Cap of the exponential backoff of pga load --loop after a failed pass."},
	{.name = "require-signature", GLOBAL(require_signature), BOOL, .def = "off",
	 .cmds = C_LOAD | C_RESTORE,
	 .usage = "refuse segments not signed by a key registered to their collector",
	 .doc = "Load (and restore) only segments signed by a key that pga collectors add "
	 "registered to their collector id and that was valid when the segment was created; "
	 "any other is refused and recorded (quarantine, pga status --central). Off: unsigned "
	 "segments load and the ledger marks them unsigned."},
	/* ---- [global]: the shipper ---- */
	{.name = "ship-interval", GLOBAL(ship_interval), DURATION, .def = "30s",
	 .doc = "Pause between passes of pga ship --loop."},
	{.name = "ship-deadline", GLOBAL(ship_deadline), DURATION, .def = "0",
	 .doc = "Stop a one-shot pga ship after this long (0: until the spool is drained)."},

	/* ---- [target:NAME] ---- */
	{.name = "conninfo", TARGET(conninfo), STRING, .secret = PGA_SECRET_PASSWORD,
	 .doc = "libpq connection string or URI (required). dbname=* collects every database."},
	{.name = "databases", TARGET(databases), STRING,
	 .doc = "'*' for every connectable non-template database, or a comma list."},
	{.name = "csvlog", TARGET(csvlog), STRING,
	 .doc = "Server csvlog file or directory to ingest incrementally."},
	{.name = "data-directory", TARGET(data_directory), STRING,
	 .doc = "Data directory for statvfs when os-stats is on (default: asked from the server)."},
	{.name = "os-stats", TARGET(os_stats), BOOL, .inherit = "os-stats",
	 .doc = "Override the global os-stats for this target."},
	{.name = "query-stats-limit", TARGET(query_stats_limit), INT(100, 10000),
	 .inherit = "query-stats-limit", .doc = "Override the global query-stats-limit."},
	{.name = "texts-every", TARGET(texts_every), INT(1, 100000), .inherit = "texts-every",
	 .doc = "Override the global texts-every."},
	{.name = "target-deadline", TARGET(target_deadline), DURATION, .inherit = "target-deadline",
	 .doc = "Override the global target-deadline."},
	{.name = "enabled", TARGET(enabled), BOOL, .def = "on",
	 .doc = "Set to off to keep a target in the file without collecting it."},

	/* ---- [dest:NAME] ---- */
	{.name = "url", DEST(url), STRING, .secret = PGA_SECRET_PASSWORD,
	 .doc = "s3://bucket/prefix, gs://bucket/prefix, azure://account/container/prefix, "
	 "file:///path or postgres://... (required)."},
	{.name = "endpoint", DEST(endpoint), STRING, .kinds = OBJECT_STORES,
	 .doc = "Service endpoint URL for S3-compatible stores, Azure or GCS emulators."},
	{.name = "region", DEST(region), STRING, .kinds = "s3 gcs",
	 .doc = "Region in the signature: for s3 the bucket's (default us-east-1), for gcs "
	 "default auto."},
	{.name = "path-style", DEST(path_style), BOOL, .def = "off", .kinds = "s3",
	 .doc = "Use path-style S3 URLs (endpoint/bucket/key) instead of virtual hosts."},
	{.name = "access-key-id", DEST(access_key_id), STRING, .kinds = "s3 gcs",
	 .doc = "S3 or GCS HMAC access key id (default: AWS_ACCESS_KEY_ID or the credentials file)."},
	{.name = "secret-access-key", DEST(secret_access_key), STRING, .kinds = "s3 gcs",
	 .secret = PGA_SECRET_ALWAYS,
	 .doc = "S3 or GCS HMAC secret (default: AWS_SECRET_ACCESS_KEY or the credentials file)."},
	{.name = "session-token", DEST(session_token), STRING, .kinds = "s3 gcs",
	 .secret = PGA_SECRET_ALWAYS,
	 .doc = "Temporary S3 session token (default: AWS_SESSION_TOKEN)."},
	{.name = "credentials-file", DEST(credentials_file), STRING, .kinds = "s3 gcs",
	 .doc = "AWS-style credentials file (mode " PGA_SECRET_MODES ", see SECURITY in pga(1))."},
	{.name = "profile", DEST(profile), STRING, .def = "default", .kinds = "s3 gcs",
	 .doc = "Profile to read from the credentials file."},
	{.name = "storage-class", DEST(storage_class), STRING, .kinds = OBJECT_STORES,
	 .doc = "Storage class (Azure: access tier) of new objects, as the store names it."},
	{.name = "account-key", DEST(account_key), STRING, .kinds = "azure",
	 .secret = PGA_SECRET_ALWAYS,
	 .doc = "Azure storage account key (base64) for Shared Key."},
	{.name = "sas-token", DEST(sas_token), STRING, .kinds = "azure", .secret = PGA_SECRET_ALWAYS,
	 .doc = "Azure SAS token instead of the account key."},
	{.name = "key-file", DEST(key_file), STRING, .kinds = "gcs",
	 .doc = "GCS service-account JSON key file (mode " PGA_SECRET_MODES ", see SECURITY in pga(1))."},
	{.name = "token-url", DEST(token_url), STRING, .kinds = "gcs",
	 .doc = "OAuth token endpoint override for the GCS service-account flow."},
	{.name = "credential-source", DEST(credential_source), ENUM(cred_source_choices),
	 .def = "auto", .kinds = OBJECT_STORES,
	 .doc = "Where an object store's credentials come from. auto: the first that applies of "
	 "the section's keys, the AWS_*/AZURE_STORAGE_* variables, web identity "
	 "(AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), the credentials file, container "
	 "credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI), App Service "
	 "(IDENTITY_ENDPOINT + IDENTITY_HEADER), then the cloud's instance metadata service when "
	 "its endpoint variable is set (AWS_EC2_METADATA_SERVICE_ENDPOINT, GCE_METADATA_HOST, "
	 "AZURE_POD_IDENTITY_AUTHORITY_HOST) or the machine says it runs there. static: keys "
	 "only, never a metadata endpoint. web-identity, container (s3), app-service (azure) "
	 "and instance (EC2 IMDSv2, Azure managed identity, GCE metadata server) use that "
	 "source alone. Fetched credentials are cached per destination and renewed 5 minutes "
	 "before they expire (a quarter of a shorter lifetime); see pga(1), CLOUD IDENTITY."},
	{.name = "ca-file", DEST(ca_file), STRING, .kinds = OBJECT_STORES,
	 .doc = "CA bundle for TLS verification (verification is always on)."},
	{.name = "rate-limit", DEST(rate_limit), SIZE, .def = "0",
	 .doc = "Upload rate limit in bytes per second (e.g. 10M); 0 is unlimited."},
	{.name = "max-parallel", DEST(max_parallel), INT(1, 64), .def = "4",
	 .doc = "Concurrent uploads to this destination."},
	{.name = "timeout", DEST(timeout), DURATION, .def = "60s", .kinds = OBJECT_STORES,
	 .doc = "Timeout of one request."},
	{.name = "retries", DEST(retries), INT(0, 1000), .def = "8",
	 .doc = "Attempts per segment and pass before the destination is marked failing."},
	{.name = "retry-max-delay", DEST(retry_max_delay), DURATION, .def = "60s",
	 .doc = "Cap of the exponential backoff between retries."},
	{.name = "enabled", DEST(enabled), BOOL, .def = "on",
	 .doc = "Set to off to keep a destination in the file without shipping to it."},
	{.name = "schema", DEST(schema), STRING, .def = "pga", .kinds = "postgres",
	 .doc = "Schema of the central tables for a postgres:// destination."},
	{.name = "create-only", DEST(create_only), ENUM(create_only_choices), .def = "auto",
	 .kinds = OBJECT_STORES,
	 .doc = "How object stores keep writes create-only: if-none-match trusts the store's "
	 "conditional PUT (AWS S3, GCS, Azure, MinIO, Ceph); check also looks before each PUT "
	 "(in a listing of the segment's day, at most a minute old), for stores that ignore "
	 "the condition (s3rver); auto is check for s3:// and gs:// with an endpoint, "
	 "if-none-match otherwise."},

	/* ---- [metric:NAME]: custom SQL metrics (collect/custom.h) ---- */
	{.name = "sql", METRIC(sql), STRING,
	 .doc = "The query of a custom metric (required): one SELECT (or WITH, VALUES, TABLE), "
	 "on one line, no ';'. It runs like a built-in metric, as COPY (sql) TO STDOUT in the "
	 "snapshot's READ ONLY transaction with search_path pg_catalog (qualify your own "
	 "tables), behind a savepoint that is rolled back after it: a query that writes, "
	 "fails or times out costs only this metric. Each result column needs a name "
	 "([A-Za-z_][A-Za-z0-9_]*, use AS); columns not listed in keys, counters, gauges or "
	 "reset-column are text or info. NAME is the block's metric and the central table: "
	 "[a-z][a-z0-9_]{0,62}, not a built-in metric's ('pga help metrics')."},
	{.name = "scope", METRIC(scope), ENUM(metric_scope_choices), .def = "cluster",
	 .doc = "cluster: once per target, in the snapshot's session; database: in every "
	 "collected database (its block names the database)."},
	{.name = "min-version", METRIC(min_version), INT(0, 9999999), .def = "0",
	 .doc = "Run only on servers whose server_version_num is at least this (0: any); "
	 "elsewhere the metric has no block and no error."},
	{.name = "max-version", METRIC(max_version), INT(0, 9999999), .def = "0",
	 .doc = "Run only on servers whose server_version_num is at most this (0: any)."},
	{.name = "every", METRIC(every), INT(1, 100000), .def = "1",
	 .doc = "Run every Nth cycle of the target (the first cycle included), as bloat-every."},
	{.name = "statement-timeout", METRIC(statement_timeout), DURATION, .def = "0",
	 .bare_ms = true,
	 .doc = "statement_timeout of this metric's query (0: the global statement-timeout); "
	 "a bare number is milliseconds, as PostgreSQL's."},
	{.name = "keys", METRIC(keys), LIST,
	 .doc = "Columns that identify a series (a,b,c), as datid or relid of built-in metrics."},
	{.name = "counters", METRIC(counters), LIST,
	 .doc = "Cumulative columns: the central side computes their deltas."},
	{.name = "gauges", METRIC(gauges), LIST,
	 .doc = "Columns that are levels (sizes, counts, ages right now)."},
	{.name = "reset-column", METRIC(reset_column), STRING,
	 .doc = "The column that says when the counters were last reset (as stats_reset)."},
	{.name = "enabled", METRIC(enabled), BOOL, .def = "on",
	 .doc = "Set to off to keep a metric in the file without collecting it."},
};

const size_t pga_nopts = sizeof(pga_opts) / sizeof(pga_opts[0]);
_Static_assert(sizeof(pga_opts) / sizeof(pga_opts[0]) <= PGA_OPTS_MAX,
	       "PGA_OPTS_MAX is too small for the table");

/* ---- the commands ---- */

#define LINES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define USAGES(...) ((const struct pga_cmd_usage[]){__VA_ARGS__, {NULL, NULL}})

static const char *const spool_after[] = {
	"A SEGMENT is a path, or a name inside the spool's ready/.",
	"Exit status: 0 printed, 1 the segment is unreadable or damaged, 64 usage.", NULL,
};

/* Sorted by name, as `pga help` lists them (spool's subcommands under it). */
const struct pga_cmd pga_cmds[] = {
	{PGA_CMD_CHECK, "check", NULL, 0, "test connections to every target and destination",
	 LINES("Connect to every enabled target and report its version, identity, the",
	       "monitoring privileges of the role, the databases pga would visit,",
	       "pg_stat_statements, and every metric run once as a cycle would (output",
	       "thrown away); then open every enabled destination and check that it is",
	       "reachable and accepts the credentials (skipped with --target)."),
	 LINES("Exit status: 0 nothing wrong, 1 something is (or the configuration is",
	       "bad), 64 usage."),
	 USAGES({"json", "one JSON object on standard output"})},
	{PGA_CMD_COLLECT, "collect", NULL, 0, "take a snapshot of every target into the spool",
	 LINES("Take one snapshot of every enabled target into the spool and exit, or with",
	       "--loop keep the connections open and take one every interval."),
	 LINES("A cycle summary goes to stderr.  Exit status (one cycle): 0 every target",
	       "collected, 2 some targets or metrics failed, 1 nothing collected or the",
	       "spool failed, 64 usage."),
	 USAGES({"loop", "run cycles until SIGTERM/SIGINT, then seal and exit 0; SIGHUP "
		 "reads the configuration again between cycles"})},
	{PGA_CMD_COLLECTORS_ADD, "collectors add", "ID", 1, "register a collector and its public key",
	 LINES("Register collector ID in the central database with an Ed25519 public key,",
	       "or add a key to it (rotation: a collector may have several keys; each is",
	       "valid from when it was added until it is revoked)."),
	 LINES("Exit status: 0 registered, 1 failure (the key is registered to another",
	       "collector, a bad key file), 64 usage."), NULL},
	{PGA_CMD_COLLECTORS_LIST, "collectors list", NULL, 0, "the registered collectors and keys",
	 LINES("Every registered collector with its environment, group, description and",
	       "keys (id, added, revoked)."),
	 LINES("Exit status: 0 listed, 1 failure, 64 usage."),
	 USAGES({"json", "one JSON array on standard output"})},
	{PGA_CMD_COLLECTORS_REMOVE, "collectors remove", "ID", 1,
	 "forget a collector's registration and keys",
	 LINES("Remove collector ID from the registry (its keys with it); its loaded",
	       "segments and rows stay.  Under require-signature its segments are then",
	       "refused."),
	 LINES("Exit status: 0 removed, 1 failure or no such collector, 64 usage."), NULL},
	{PGA_CMD_COLLECTORS_REVOKE, "collectors revoke", "ID", 1, "revoke a collector's keys",
	 LINES("Revoke the keys of collector ID (all of them, or the one --public-key",
	       "names) from --from on: segments created after that are refused."),
	 LINES("Exit status: 0 revoked, 1 failure or no such collector, 64 usage."), NULL},
	{PGA_CMD_HELP, "help", "[COMMAND | config | environment | metrics]", -1,
	 "show help for a command, the config keys or the variables",
	 LINES("A command's options, every configuration key, every environment",
	       "variable, or the metric catalog.  Needs no configuration."),
	 NULL, NULL},
	{PGA_CMD_KEYGEN, "keygen", NULL, 0, "make a key pair for signing or encrypting segments",
	 LINES("Write a new Ed25519 key pair: PREFIX.key (the private key, mode 0600) and",
	       "PREFIX.pub (the public key, for pga collectors add and pga spool verify).",
	       "With --encryption, an X25519 pair instead: PREFIX.pub for the collectors'",
	       "encrypt-to, PREFIX.key (mode 0600) for the central side's decrypt-key-file",
	       "only.  Neither file may exist already.  Prints the key id."),
	 LINES("Exit status: 0 written, 1 failure (nothing left behind), 64 usage."),
	 USAGES({"output", "the files' prefix", "PREFIX"})},
	{PGA_CMD_LOAD, "load", NULL, 0, "import segments into the central database",
	 LINES("Import segments into the central database, each exactly once.  With",
	       "--loop, a pass every load-interval (the central side runs itself): what",
	       "the ledger holds is never read or downloaded again, a failed pass is",
	       "tried again after a backoff (load-retry-max-delay), central retention",
	       "(--retain or load-retain) runs after each pass."),
	 LINES("Exit status: 0 all loaded (or already there), 2 something refused, held or",
	       "dropped (segments, blocks, columns: see pga status --central) or the",
	       "deadline reached, 1 failure (the load stopped: connection, permissions,",
	       "read-only or full database), 64 usage.  --loop: 0 after SIGTERM or SIGINT."),
	 USAGES({"json", "summary as JSON"},
		{"loop", "a pass every load-interval until SIGTERM or SIGINT; SIGHUP reads the "
		 "configuration again between passes"},
		{"retain", "then drop daily partitions older than DURATION (e.g. 90d); with no "
		 "--from and no local spool, only that; with --loop, after each pass"})},
	{PGA_CMD_REPORT, "report", NULL, 0, "write an HTML report from the central database",
	 LINES("One self-contained HTML page from the central database: the collectors,",
	       "then per server its charts, top statements, tables, indexes, settings and",
	       "log errors in the window."),
	 LINES("The page needs nothing but itself: charts are inline SVG, it reads the same",
	       "with JavaScript off, and it loads nothing from anywhere.",
	       "Exit status: 0 written, 2 written but a section could not be computed,",
	       "1 failure (nothing written), 64 usage."),
	 USAGES({"output", "the HTML page to write ('-': standard output); it is written "
		 "beside, then renamed, with mode 0600"},
		{"since", "the window: snapshots after T (default: 24 hours before --until), "
		 "ISO 8601 UTC or -2h, -7d"},
		{"until", "the window's end (default: now)"})},
	{PGA_CMD_RESTORE, "restore", NULL, 0, "rebuild a central database from a bucket or archive",
	 LINES("Create the schema in a fresh database and replay every segment of",
	       "SOURCE into it, optionally only from --since and up to --until: each",
	       "UTC day of a collector in one transaction into fresh tables (COPY",
	       "FREEZE), indexed and attached behind the load, the newest day first.",
	       "Run again with the same arguments, a restore continues where it stopped",
	       "and loads nothing twice.  With --verify-only, no database: the drill."),
	 LINES("Exit status: 0 restored (or, --verify-only, the source is whole), 2 some",
	       "segments or blocks refused, 1 failure (or the source is not whole), 64 usage."),
	 USAGES({"central", "the central database: a fresh one, or one an interrupted restore "
		 "of the same source left; a password here is refused (argv is public): use "
		 "~/.pgpass, the environment or the configuration"},
		{"load-jobs", "days loaded at once, one connection each (default 2)"},
		{"from", "a directory of segments, a tar from 'pga spool pack', one segment "
		 "file, a bucket URL (s3://bucket/prefix, gs://..., "
		 "azure://account/container/prefix) or dest:NAME"},
		{"json", "summary as JSON"})},
	{PGA_CMD_SHIP, "ship", NULL, 0, "deliver sealed segments to the destinations",
	 LINES("Deliver sealed segments, oldest first, to every enabled [dest:NAME].",
	       "A segment leaves the spool once every enabled destination confirmed it",
	       "and spool-retain allows."),
	 LINES("Exit status: 0 everything delivered, 1 failure, 2 some destinations failed",
	       "or ship-deadline stopped a one-shot run early, 64 usage."),
	 USAGES({"loop", "keep shipping (every ship-interval) until SIGTERM or SIGINT; "
		 "uploads in flight then get 10 s to finish.  SIGHUP reads the "
		 "configuration again once the uploads in flight are done"})},
	{PGA_CMD_SPOOL_PUT, "spool put", "< data.csv", 0, "write one block from CSV on standard input",
	 LINES("Write one block from CSV on standard input (COPY csv format), for",
	       "custom metrics; what the central loader could not load is refused."),
	 LINES("Exit status: 0 written, 1 refused or failed, 64 usage."),
	 USAGES({"metric", "the block's metric: a-z, 0-9 and _, starting with a letter"})},
	{PGA_CMD_SPOOL_LS, "spool ls", NULL, 0, "sealed, open and quarantined segments, counters",
	 LINES("Sealed, open and quarantined segments, usage and counters."),
	 LINES("Exit status: 0 listed, 1 the spool is unreadable, 64 usage."), NULL},
	{PGA_CMD_SPOOL_VERIFY, "spool verify", "[SEGMENT|DIR|FILE.tar...]", -1,
	 "verify segments, hash chains, gaps and forks",
	 LINES("Full verification incl. the hash chain, gaps and forks per collector;",
	       "without arguments the spool, whose bad segments move to quarantine/."),
	 LINES("Exit status: 0 all verified, 1 a failure, fork, chain break or gap",
	       "(a gap in a spool is only reported), 64 usage."), NULL},
	{PGA_CMD_SPOOL_CAT, "spool cat", "SEGMENT", 1, "print blocks as CSV",
	 LINES("Print blocks as CSV, each after a '#' line and a column header."),
	 spool_after, USAGES({"metric", "only blocks of this metric"})},
	{PGA_CMD_SPOOL_PACK, "spool pack", NULL, 0, "a tar of the sealed segments, for carrying",
	 LINES("A pax tar of MANIFEST.sha256 and the sealed segments, for carrying."),
	 LINES("Exit status: 0 packed, 1 failure, 64 usage."),
	 USAGES({"since", "only segments with snapshots at or after T: ISO 8601 UTC or -2h"},
		{"until", "only segments with snapshots at or before T"},
		{"output", "the archive to write", "FILE.tar"})},
	{PGA_CMD_STATUS, "status", NULL, 0, "show spool, shipping and central state",
	 LINES("The spool's usage and counters, each destination's delivery state and,",
	       "with --central, every collector as the central database sees it."),
	 LINES("Exit status, as a Nagios check's: 0 OK; 1 WARNING, data still flows",
	       "(a target or destination failing for less than status-stale-after, the",
	       "spool past status-spool-warn, quarantined or refused data, collector",
	       "gaps); 2 CRITICAL, collection or delivery stopped (longer than",
	       "status-stale-after, the spool full or unreadable, the central database",
	       "unreachable, a --verify finding); 64 usage."),
	 USAGES({"json", "machine-readable output"})},
	{PGA_CMD_VERSION, "version", NULL, 0, "print the version", NULL, NULL, NULL},
};

const size_t pga_ncmds = sizeof(pga_cmds) / sizeof(pga_cmds[0]);

/* ---- lookups ---- */

const struct pga_cmd *
pga_cmd_find(const char *name)
{
	for (size_t i = 0; i < pga_ncmds; i++)
		if (strcmp(pga_cmds[i].name, name) == 0)
			return &pga_cmds[i];
	return NULL;
}

const struct pga_opt *
pga_opt_find(const char *name)
{
	for (size_t i = 0; i < pga_nopts; i++)
		if (pga_opts[i].scope <= PGA_SCOPE_GLOBAL && strcmp(pga_opts[i].name, name) == 0)
			return &pga_opts[i];
	return NULL;
}

size_t
pga_opt_index(const struct pga_opt *o)
{
	return (size_t)(o - pga_opts);
}

const char *
pga_opt_env(const struct pga_opt *o, char *buf, size_t cap)
{
	size_t n = strlcpy(buf, "PGA_", cap);

	if (o->scope > PGA_SCOPE_GLOBAL)
		return NULL;
	for (const char *p = o->name; *p && n + 1 < cap; p++)
		buf[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	buf[n < cap ? n : cap - 1] = '\0';
	return buf;
}

/* Append s in capitals, anything but a letter or digit as '_'. */
static size_t
env_append(char *buf, size_t n, size_t cap, const char *s)
{
	for (; *s && n + 1 < cap; s++)
		buf[n++] = isalnum((unsigned char)*s) ? (char)toupper((unsigned char)*s) : '_';
	buf[n < cap ? n : cap - 1] = '\0';
	return n;
}

const char *
pga_section_env(const char *section, const char *name, const struct pga_opt *o, char *buf,
		size_t cap)
{
	size_t n = strlcpy(buf, "PGA_", cap);

	n = env_append(buf, n, cap, section);
	n = env_append(buf, n, cap, "_");
	n = env_append(buf, n, cap, name);
	n = env_append(buf, n, cap, "_");
	env_append(buf, n, cap, o->name);
	return buf;
}

const char *
pga_opt_flag(const struct pga_opt *o, char *buf, size_t cap)
{
	if (o->cmds == 0)
		return NULL;
	snprintf(buf, cap, "--%s", o->flag ? o->flag : o->name);
	return buf;
}

bool
pga_opt_applies_to_kind(const struct pga_opt *o, const char *kind)
{
	size_t n = strlen(kind);

	if (o->kinds == NULL)
		return true;
	for (const char *p = o->kinds; (p = strstr(p, kind)) != NULL; p += n)
		if ((p == o->kinds || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* The wording of an option for a command: the command's own, else the row's. */
static const char *
usage_of(const struct pga_cmd *cmd, const struct pga_opt *o)
{
	for (const struct pga_cmd_usage *u = cmd ? cmd->usages : NULL; u && u->opt; u++)
		if (strcmp(u->opt, o->name) == 0)
			return u->usage;
	return o->usage ? o->usage : o->doc;
}

/* The name of an option's value for a command: the command's own, else the row's. */
static const char *
metavar_of(unsigned cmd_id, const struct pga_opt *o)
{
	for (size_t i = 0; o->metavar != NULL && i < pga_ncmds; i++)
		if (pga_cmds[i].id == cmd_id)
			for (const struct pga_cmd_usage *u = pga_cmds[i].usages; u && u->opt; u++)
				if (strcmp(u->opt, o->name) == 0 && u->metavar != NULL)
					return u->metavar;
	return o->metavar;
}

/* ---- the command line ---- */

/* The rows of the options of cmd (PGA_CMD_* bits) into v, in table order; how many. */
static size_t
cmd_opts(unsigned cmd, const struct pga_opt **v)
{
	size_t n = 0;

	for (size_t i = 0; i < pga_nopts; i++)
		if (pga_opts[i].cmds & cmd)
			v[n++] = &pga_opts[i];
	return n;
}

/* A value on the command line must be one the option takes. */
static int
check_value(const struct pga_opt *o, const char *value, struct pga_err *err)
{
	char flag[64];
	struct pga_err verr = {0};

	pga_opt_flag(o, flag, sizeof(flag));
	if (o->secret == PGA_SECRET_ALWAYS)
		return pga_fail(err, PGA_EINVAL, "%s is a secret and argv is public: set '%s' in "
				"the configuration or the environment", flag, o->name);
	if (o->secret == PGA_SECRET_PASSWORD && pga_conninfo_no_password(value, flag, err) < 0)
		return PGA_EINVAL;
	if (pga_config_check_value(o, value, &verr) < 0)
		return pga_fail(err, PGA_EINVAL, "invalid %s '%s': %s", flag, value, verr.msg);
	return 0;
}

static int
add_opt(struct pga_argv *out, const struct pga_opt *o, const char *value, struct pga_err *err)
{
	int rc;

	if (out->n == PGA_ARGV_MAX)
		return pga_fail(err, PGA_EINVAL, "more than %d options", PGA_ARGV_MAX);
	rc = check_value(o, value, err);
	if (rc < 0)
		return rc;
	out->v[out->n].opt = o;
	out->v[out->n++].value = value;
	return 0;
}

#define SUGGEST_WORD_MAX 64

/* Edits (insert, delete, change, swap two neighbours) from a to b. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[SUGGEST_WORD_MAX + 1][SUGGEST_WORD_MAX + 1];

	if (la > SUGGEST_WORD_MAX || lb > SUGGEST_WORD_MAX)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *
pga_suggest(const char *word, const char *const *cands, size_t n)
{
	size_t len = strlen(word), best = SIZE_MAX, ties = 0;
	const char *pick = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t dist = edit_distance(word, cands[i]);

		/* a start long enough to mean something ("stat" for "status") */
		if (len >= 3 && strncmp(cands[i], word, len) == 0 && dist > 1)
			dist = 1;
		if (dist < best) {
			best = dist;
			pick = cands[i];
			ties = 0;
		} else if (dist == best) {
			ties++;
		}
	}
	/* close, and not closer to something else: "x" is no typo of "ls" */
	return best <= 2 && best < len && ties == 0 ? pick : NULL;
}

/* ", did you mean '--since'?" for an unknown long option, or "". */
static void
suggest_option(const struct pga_opt *const *rows, size_t n, const char *arg, char *buf,
	       size_t cap)
{
	const char *cands[PGA_OPTS_MAX];
	char word[SUGGEST_WORD_MAX + 1];
	const char *pick;

	buf[0] = '\0';
	if (strncmp(arg, "--", 2) != 0)
		return;
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
	for (size_t i = 0; i < n; i++)
		cands[i] = rows[i]->flag ? rows[i]->flag : rows[i]->name;
	if ((pick = pga_suggest(word, cands, n)) != NULL)
		snprintf(buf, cap, "; did you mean '--%s'?", pick);
}

/* pga's own option after the command: say where it goes. */
static bool
is_global_option(const char *arg, int short_opt)
{
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *o = &pga_opts[i];
		const char *f = o->flag ? o->flag : o->name;
		size_t fl = strlen(f);

		if (!(o->cmds & PGA_CMD_GLOBAL))
			continue;
		if (short_opt != 0 && o->short_flag == short_opt)
			return true;
		if (short_opt == 0 && strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, f, fl) == 0 &&
		    (arg[2 + fl] == '\0' || arg[2 + fl] == '='))
			return true;
	}
	return false;
}

/* getopt's '?' or ':' as one line; arg is the argument it stopped at. */
static int
usage_error(unsigned cmd, int c, const struct pga_opt *const *rows, size_t n, const char *arg,
	    struct pga_err *err)
{
	char flag[64], hint[96];

	if (c == ':')
		return pga_fail(err, PGA_EINVAL, "missing value for option '%s'", arg);
	if (optopt >= 256)	/* a long option with a value it does not take */
		return pga_fail(err, PGA_EINVAL, "option '%s' takes no value",
				pga_opt_flag(rows[optopt - 256], flag, sizeof(flag)));
	if (cmd != PGA_CMD_GLOBAL && is_global_option(arg, optopt)) {
		const char *name = "COMMAND";

		for (size_t i = 0; i < pga_ncmds; i++)
			if (pga_cmds[i].id == cmd)
				name = pga_cmds[i].name;
		return pga_fail(err, PGA_EINVAL, "'%.*s' is one of pga's own options: it goes "
				"before the command ('pga %.*s ... %s')", (int)strcspn(arg, "="),
				optopt ? (char[]){'-', (char)optopt, 0} : arg, (int)strcspn(arg, "="),
				optopt ? (char[]){'-', (char)optopt, 0} : arg, name);
	}
	if (optopt != 0)
		return pga_fail(err, PGA_EINVAL, "unknown option '-%c'", optopt);
	suggest_option(rows, n, arg, hint, sizeof(hint));
	return pga_fail(err, PGA_EINVAL, "unknown option '%.*s'%s", (int)strcspn(arg, "="), arg,
			hint);
}

int
pga_opts_parse(unsigned cmd, int argc, char **argv, struct pga_argv *out, int *first,
	       struct pga_err *err)
{
	const struct pga_opt *rows[PGA_OPTS_MAX];
	struct option lopts[PGA_OPTS_MAX + 3];
	char sopts[3 * PGA_OPTS_MAX + 8];
	size_t n = cmd_opts(cmd, rows), ns = 0;
	int c, idx, rc = 0;

	/* '+': pga's own options stop at the command; a command's may follow its arguments */
	ns += (size_t)snprintf(sopts, sizeof(sopts), "%s:h%s", cmd == PGA_CMD_GLOBAL ? "+" : "",
			       cmd == PGA_CMD_GLOBAL ? "V" : "");
	for (size_t i = 0; i < n; i++) {
		lopts[i] = (struct option){rows[i]->flag ? rows[i]->flag : rows[i]->name,
					   rows[i]->metavar ? required_argument : no_argument,
					   NULL, 256 + (int)i};
		if (rows[i]->short_flag)
			ns += (size_t)snprintf(sopts + ns, sizeof(sopts) - ns, "%c%s",
					       rows[i]->short_flag, rows[i]->metavar ? ":" : "");
	}
	lopts[n] = (struct option){"help", no_argument, NULL, 'h'};
	lopts[n + 1] = (struct option){"version", no_argument, NULL, 'V'};
	lopts[n + 2] = (struct option){NULL, 0, NULL, 0};
	if (cmd != PGA_CMD_GLOBAL)
		lopts[n + 1] = lopts[n + 2];
	optind = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, sopts, lopts, &idx)) != -1) {
		if (c == 'h')
			return 1;
		if (c == 'V')
			return 2;
		if (c == '?' || c == ':') {
			rc = usage_error(cmd, c, rows, n, argv[optind - 1], err);
			break;
		}
		for (size_t i = 0; c < 256 && i < n; i++)
			if (rows[i]->short_flag == c)
				c = 256 + (int)i;
		if (c < 256 || c - 256 >= (int)n) {
			rc = pga_fail(err, PGA_EINTERNAL, "option table and parser disagree (a bug)");
			break;
		}
		rc = add_opt(out, rows[c - 256], rows[c - 256]->metavar ? optarg : "on", err);
	}
	*first = optind;
	return rc;
}

const char *
pga_argv_get(const struct pga_argv *argv, const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; argv != NULL && i < argv->n; i++)
		if (strcmp(argv->v[i].opt->name, name) == 0)
			v = argv->v[i].value;
	return v;
}

int
pga_opts_check_required(const struct pga_cmd *cmd, const struct pga_argv *argv,
			struct pga_err *err)
{
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *o = &pga_opts[i];
		char env[96], flag[64];

		if (!(o->required & cmd->id) || pga_argv_get(argv, o->name) != NULL ||
		    getenv(pga_opt_env(o, env, sizeof(env))) != NULL)
			continue;
		pga_opt_flag(o, flag, sizeof(flag));
		return pga_fail(err, PGA_EINVAL, "'pga %s' needs %s %s", cmd->name,
				o->short_flag ? (char[]){'-', o->short_flag, '\0'} : flag,
				o->metavar ? o->metavar : "");
	}
	return 0;
}

/* ---- usage ---- */

/* "[-j N]", "--from SOURCE", "[--target NAME]...": one option in a synopsis. */
static void
synopsis_word(char *buf, size_t cap, unsigned cmd, const struct pga_opt *o, bool man)
{
	bool req = (o->required & cmd) != 0;
	const char *mv = metavar_of(cmd, o);
	char flag[64];

	if (o->short_flag)
		snprintf(flag, sizeof(flag), "-%c", o->short_flag);
	else
		pga_opt_flag(o, flag, sizeof(flag));
	snprintf(buf, cap, "%s%s%s%s%s%s%s%s%s", req ? "" : "[", man ? "*" : "", flag,
		 man ? "*" : "", mv ? " " : "", mv && man ? "_" : "", mv ? mv : "",
		 mv && man ? "_" : "", req ? "" : "]");
	if (o->type == PGA_OPT_LIST)
		strlcat(buf, "...", cap);
}

/* Required options first, then the others, as a synopsis shows them. */
static size_t
synopsis_opts(const struct pga_cmd *cmd, const struct pga_opt **v)
{
	const struct pga_opt *all[PGA_OPTS_MAX];
	size_t n = cmd_opts(cmd->id, all), k = 0;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			if (((all[i]->required & cmd->id) != 0) == (pass == 0))
				v[k++] = all[i];
	return k;
}

void
pga_usage_synopsis(FILE *out, const struct pga_cmd *cmd)
{
	const struct pga_opt *v[PGA_OPTS_MAX];
	size_t n = synopsis_opts(cmd, v);
	int col, indent;

	col = fprintf(out, "usage: pga %s", cmd->name);
	indent = col + 1;
	for (size_t i = 0; i <= n; i++) {
		char word[160];

		if (i == n && cmd->args == NULL)
			break;
		if (i == n)
			strlcpy(word, cmd->args, sizeof(word));
		else
			synopsis_word(word, sizeof(word), cmd->id, v[i], false);
		if (col + 1 + (int)strlen(word) > 78) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else {
			col += fprintf(out, " ");
		}
		col += fprintf(out, "%s", word);
	}
	fprintf(out, "\n");
}

/* Text wrapped at width columns, each line after prefix. */
static void
print_wrapped(FILE *out, const char *first, const char *prefix, const char *text, int width)
{
	const char *p = text;
	bool one = true;

	while (*p) {
		int n = (int)strlen(p);

		if (n > width) {
			n = width;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0)
				n = width;
		}
		fprintf(out, "%s%.*s\n", one ? first : prefix, n, p);
		one = false;
		p += n;
		while (*p == ' ')
			p++;
	}
}

/* "  -j, --jobs N      loaders in parallel (default: load-jobs)" */
static void
usage_option(FILE *out, const struct pga_cmd *cmd, const struct pga_opt *o)
{
	char head[96], flag[64], text[1024], first[128];
	const char *indent = "                      ";
	const char *mv = metavar_of(cmd ? cmd->id : PGA_CMD_GLOBAL, o);

	pga_opt_flag(o, flag, sizeof(flag));
	if (o->short_flag)
		snprintf(head, sizeof(head), "-%c, %s", o->short_flag, flag);
	else
		strlcpy(head, flag, sizeof(head));
	if (mv) {
		strlcat(head, " ", sizeof(head));
		strlcat(head, mv, sizeof(head));
	}
	snprintf(text, sizeof(text), "%s", usage_of(cmd, o));
	if (o->scope == PGA_SCOPE_ARGS && o->def != NULL) {
		strlcat(text, " (default: ", sizeof(text));
		strlcat(text, o->def, sizeof(text));
		strlcat(text, ")", sizeof(text));
	}
	if (o->scope == PGA_SCOPE_GLOBAL) {
		strlcat(text, " (default: ", sizeof(text));
		strlcat(text, o->name, sizeof(text));
		strlcat(text, ")", sizeof(text));
	}
	if (strlen(head) > 19) {
		fprintf(out, "  %s\n", head);
		print_wrapped(out, indent, indent, text, 56);
		return;
	}
	snprintf(first, sizeof(first), "  %-19s ", head);
	print_wrapped(out, first, indent, text, 56);
}

static void
print_lines(FILE *out, const char *const *lines)
{
	for (const char *const *l = lines; l != NULL && *l != NULL; l++)
		fprintf(out, "%s\n", *l);
}

void
pga_usage_print(FILE *out, const struct pga_cmd *cmd)
{
	const struct pga_opt *v[PGA_OPTS_MAX];
	size_t n = cmd_opts(cmd->id, v);

	pga_usage_synopsis(out, cmd);
	if (cmd->about != NULL) {
		fprintf(out, "\n");
		print_lines(out, cmd->about);
	}
	if (n > 0)
		fprintf(out, "\n");
	for (size_t i = 0; i < n; i++)
		usage_option(out, cmd, v[i]);
	if (cmd->after != NULL) {
		fprintf(out, "\n");
		print_lines(out, cmd->after);
	}
}

void
pga_usage_main(FILE *out)
{
	const struct pga_opt *v[PGA_OPTS_MAX];
	size_t n = cmd_opts(PGA_CMD_GLOBAL, v);

	fprintf(out, "usage: pga");
	for (size_t i = 0; i < n; i++) {
		char word[160];

		synopsis_word(word, sizeof(word), PGA_CMD_GLOBAL, v[i], false);
		fprintf(out, " %s", word);
	}
	fprintf(out, " <command> [<args>]\n\n");
	for (size_t i = 0; i < n; i++)
		usage_option(out, NULL, v[i]);
	fprintf(out, "\nEvery option can also be set in the environment ('pga help environment'),\n"
		     "every key in the configuration file ('pga help config').\n"
		     "Run 'pga help <command>' for a command's options, 'pga help metrics' for\n"
		     "what is collected.  Exit status: 0 ok, 1 failure, 2 partial success,\n"
		     "64 usage.\n\ncommands:\n");
	for (size_t i = 0; i < pga_ncmds; i++)
		fprintf(out, "  %-13s %s\n", pga_cmds[i].name, pga_cmds[i].summary);
}

/* ---- documentation of keys and variables ---- */

static const char *const type_names[] = {
	[PGA_OPT_STRING] = "string", [PGA_OPT_SIZE] = "size", [PGA_OPT_DURATION] = "duration",
	[PGA_OPT_INT] = "integer", [PGA_OPT_BOOL] = "on|off", [PGA_OPT_ENUM] = "choice",
	[PGA_OPT_LIST] = "list",
};

/* scdoc treats * and _ as markup: escape them in running text */
static void
print_scdoc_text(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		if (*p == '*' || *p == '_' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
}

/* What the rule of secretfile.h means for a key, after its doc. */
static const char *const secret_notes[] = {
	[PGA_SECRET_NONE] = "",
	[PGA_SECRET_ALWAYS] = " A secret: the file that sets it must be mode " PGA_SECRET_MODES
			      " (see SECURITY in pga(1)).",
	[PGA_SECRET_PASSWORD] = " With a password in it, the file must be mode "
				PGA_SECRET_MODES " (see SECURITY in pga(1)).",
};

/* The key's text: doc, the secret rule, its flag and variable, its kinds. */
static void
key_text(const struct pga_opt *k, char *buf, size_t cap)
{
	char env[96], flag[64];

	snprintf(buf, cap, "%s%s", k->doc ? k->doc : k->usage, secret_notes[k->secret]);
	if (k->cmds != 0 || pga_opt_env(k, env, sizeof(env)) != NULL) {
		strlcat(buf, " Also ", cap);
		if (k->cmds != 0) {
			strlcat(buf, pga_opt_flag(k, flag, sizeof(flag)), cap);
			strlcat(buf, k->metavar ? " " : "", cap);
			strlcat(buf, k->metavar ? k->metavar : "", cap);
			strlcat(buf, ", ", cap);
		}
		strlcat(buf, pga_opt_env(k, env, sizeof(env)), cap);
		strlcat(buf, ".", cap);
	}
	if (k->kinds != NULL) {
		strlcat(buf, " For ", cap);
		strlcat(buf, k->kinds, cap);
		strlcat(buf, " destinations only.", cap);
	}
}

static void
print_scope_doc(FILE *out, enum pga_opt_scope scope, enum pga_doc_kind kind)
{
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *k = &pga_opts[i];
		char doc[1536];

		if (k->scope != scope)
			continue;
		key_text(k, doc, sizeof(doc));
		if (kind == PGA_DOC_EXAMPLE) {
			print_wrapped(out, "# ", "# ", doc, 76);
			fprintf(out, "#%s = %s\n\n", k->name,
				k->def ? k->def : k->inherit ? "(global value)" : "");
		} else if (kind == PGA_DOC_SCDOC) {
			fprintf(out, "*%s* (%s%s", k->name, type_names[k->type],
				k->def ? ", default " : "");
			print_scdoc_text(out, k->def ? k->def : "");
			fprintf(out, ")\n\t");
			print_scdoc_text(out, doc);
			fprintf(out, "\n\n");
		} else {
			fprintf(out, "  %-20s %-9s %-15s\n", k->name, type_names[k->type],
				k->def ? k->def : "-");
			print_wrapped(out, "      ", "      ", doc, 70);
		}
	}
}

void
pga_config_print_doc(FILE *out, enum pga_doc_kind kind)
{
	static const char *const heads[] = {
		[PGA_SCOPE_GLOBAL] = "[global]", [PGA_SCOPE_TARGET] = "[target:NAME]",
		[PGA_SCOPE_DEST] = "[dest:NAME]", [PGA_SCOPE_METRIC] = "[metric:NAME]",
	};

	if (kind == PGA_DOC_EXAMPLE)
		fprintf(out, "# pga.conf - generated by 'pga help config --example'.\n"
			     "# Every key with its default; uncomment to change.\n"
			     "# A value is taken literally (no inline comment) unless it is quoted,\n"
			     "# 'like this' or \"like this\", as in postgresql.conf.\n"
			     "# Durations: us, ms, s, min, h, d, w; a bare number is seconds unless\n"
			     "# the key says otherwise.  Sizes: kB, MB, GB, TB; a bare number is bytes.\n"
			     "# include = FILE, include-if-exists = FILE and include-dir = DIR (its\n"
			     "# *.conf files by name) read other files in place; a relative path is\n"
			     "# from the including file's directory; a later file overrides a key.\n\n");
	for (int s = PGA_SCOPE_GLOBAL; s <= PGA_SCOPE_METRIC; s++) {
		if (kind == PGA_DOC_SCDOC)
			fprintf(out, "## %s\n\n", heads[s]);
		else
			fprintf(out, "%s%s\n%s", kind == PGA_DOC_EXAMPLE && s > PGA_SCOPE_GLOBAL ?
				"#" : "", heads[s], kind == PGA_DOC_EXAMPLE ? "\n" : "");
		print_scope_doc(out, (enum pga_opt_scope)s, kind);
		if (s == PGA_SCOPE_METRIC && kind == PGA_DOC_EXAMPLE)
			fprintf(out, "# For example, the waiting jobs of a queue table in every"
				     " database\n# (doc/custom-metrics.md):\n"
				     "#[metric:queue_depth]\n#scope = database\n"
				     "#sql = SELECT q.kind, count(*) AS waiting FROM app.queue q"
				     " GROUP BY q.kind\n#keys = kind\n#gauges = waiting\n");
		fprintf(out, "\n");
	}
}

/* "the key spool-path" or "--since of load, restore, spool pack" */
static void
env_sets(const struct pga_opt *o, char *buf, size_t cap)
{
	char flag[64];
	size_t n = 0;

	if (o->scope == PGA_SCOPE_GLOBAL) {
		snprintf(buf, cap, "the key %s", o->name);
		return;
	}
	pga_opt_flag(o, flag, sizeof(flag));
	snprintf(buf, cap, "the option %s of ", flag);
	for (size_t i = 0; i < pga_ncmds; i++)
		if (o->cmds & pga_cmds[i].id) {
			strlcat(buf, n++ ? ", " : "", cap);
			strlcat(buf, pga_cmds[i].name, cap);
		}
	if (o->cmds & PGA_CMD_GLOBAL)
		strlcat(buf, n ? ", pga" : "pga", cap);
}

void
pga_env_print_doc(FILE *out, enum pga_doc_kind kind)
{
	if (kind != PGA_DOC_SCDOC)
		fprintf(out, "Every option is also read from the environment; the command line\n"
			     "wins over the environment, which wins over the configuration file.\n"
			     "Switches and on|off keys take on/off, yes/no, true/false or 1/0;\n"
			     "a list takes a,b,c.  A key of a section the file declares is read\n"
			     "from PGA_TARGET_<NAME>_<KEY>, PGA_DEST_<NAME>_<KEY> or\n"
			     "PGA_METRIC_<NAME>_<KEY> (the section's name and the key in capitals,\n"
			     "other characters as _), e.g.\n"
			     "PGA_DEST_CENTRAL_URL for url of [dest:central].\n\n");
	for (size_t i = 0; i < pga_nopts; i++) {
		const struct pga_opt *o = &pga_opts[i];
		char env[96], sets[256];

		if (pga_opt_env(o, env, sizeof(env)) == NULL)
			continue;
		env_sets(o, sets, sizeof(sets));
		if (kind == PGA_DOC_SCDOC) {
			fprintf(out, "*");
			print_scdoc_text(out, env);
			fprintf(out, "*\n\t");
			print_scdoc_text(out, sets);
			fprintf(out, "\n\n");
		} else {
			fprintf(out, "  %-26s %s\n", env, sets);
		}
	}
}

void
pga_man_synopsis(FILE *out, const struct pga_cmd *cmd)
{
	const struct pga_opt *v[PGA_OPTS_MAX];
	size_t n = cmd ? synopsis_opts(cmd, v) : cmd_opts(PGA_CMD_GLOBAL, v);

	fprintf(out, "*pga%s%s*", cmd ? " " : "", cmd ? cmd->name : "");
	for (size_t i = 0; i < n; i++) {
		char word[160];

		synopsis_word(word, sizeof(word), cmd ? cmd->id : PGA_CMD_GLOBAL, v[i], true);
		fprintf(out, " %s", word);
	}
	if (cmd == NULL)
		fprintf(out, " _command_ [_args_]");
	if (cmd != NULL && cmd->args != NULL) {
		fprintf(out, " ");
		print_scdoc_text(out, cmd->args);
	}
	fprintf(out, "\n");
}

void
pga_man_options(FILE *out, const struct pga_cmd *cmd)
{
	const struct pga_opt *v[PGA_OPTS_MAX];
	size_t n = cmd_opts(cmd ? cmd->id : PGA_CMD_GLOBAL, v);
	const char *tab = cmd ? "\t" : "";

	for (size_t i = 0; i < n; i++) {
		char flag[64], env[96];
		const char *text, *mv = metavar_of(cmd ? cmd->id : PGA_CMD_GLOBAL, v[i]);

		pga_opt_flag(v[i], flag, sizeof(flag));
		fprintf(out, "%s*", tab);
		if (v[i]->short_flag)
			fprintf(out, "-%c, ", v[i]->short_flag);
		fprintf(out, "%s*%s%s%s\n%s\t", flag, mv ? " _" : "", mv ? mv : "", mv ? "_" : "",
			tab);
		text = usage_of(cmd, v[i]);
		fputc(toupper((unsigned char)text[0]), out);
		print_scdoc_text(out, text + 1);
		fprintf(out, ". ");
		if (v[i]->scope == PGA_SCOPE_ARGS && v[i]->def != NULL) {
			fprintf(out, "Default: ");
			print_scdoc_text(out, v[i]->def);
			fprintf(out, ". ");
		}
		if (v[i]->scope == PGA_SCOPE_GLOBAL) {
			fprintf(out, "Default: the key *");
			print_scdoc_text(out, v[i]->name);
			fprintf(out, "*. ");
		}
		fprintf(out, "Also *");
		print_scdoc_text(out, pga_opt_env(v[i], env, sizeof(env)));
		fprintf(out, "*.\n\n");
	}
}
