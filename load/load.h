/*
 * load.h - the central loader: segments into PostgreSQL, exactly once
 *
 * A struct loader holds one connection to the central database.  Each
 * segment is loaded in one transaction: its ledger row (collector, seq,
 * sha256), all its blocks and the record of every block refused commit
 * together or not at all.  A segment already in the ledger with the same
 * hash is skipped.  A block whose data the server refuses (bad encoding,
 * wrong field count, a value of the wrong type) is isolated: the segment is
 * loaded again block by block, each under its own savepoint, and only the
 * failing blocks are left out and recorded.  A segment that would fork its
 * collector's hash chain (same seq with another hash, or a previous-segment
 * hash the ledger contradicts) is never loaded over the other branch: it is
 * held centrally (its bytes as a large object) until an operator runs
 * loader_resolve_fork().  Several loaders, on several machines, may load
 * the same input at once: segments are claimed with locks so none is
 * loaded twice and none deadlocks.
 *
 * The segment is read once, as a stream (file, tar entry, HTTP body): it is
 * verified while its blocks are COPYed, and the transaction only commits
 * after the footer's SHA-256 checked out, so a corrupt segment leaves
 * nothing behind.  Memory stays flat whatever the segment's size.
 *
 * Ownership: loader_open() returns an object the caller frees with
 * loader_close().  One thread per loader; use several loaders for --jobs.
 * Errors: 0 or a negative PGA_E* code with err filled (err->sqlstate for
 * the server's errors).
 */
#ifndef PGA_LOAD_H
#define PGA_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/err.h"
#include "spool/segment.h"

struct loader;

struct load_opts {
	const char *conninfo;		/* central database (secret) */
	const char *schema;		/* default "pga" */
	int64_t since, until;		/* snapshot-time window; INT64_MIN/MAX for none */
	const char *collector;		/* only this collector, or NULL */
	bool dry_run;			/* verify and count, write nothing */
	bool init;			/* loader_open() creates/upgrades the schema */
	bool require_signature;		/* refuse what the registry cannot vouch for */
	/* day transactions fill their fresh tables without FREEZE: only for
	 * measuring what FREEZE is worth (bench/50-restore.sh) */
	bool bulk_no_freeze;
};

enum load_result {
	LOAD_LOADED,		/* committed now */
	LOAD_DUPLICATE,		/* already in the ledger with the same hash */
	LOAD_FILTERED,		/* nothing in the time window / other collector */
	LOAD_BUSY,		/* another loader holds it right now */
	LOAD_HELD,		/* not loaded: forks the chain; its bytes are held centrally */
	LOAD_DEFERRED,		/* a day transaction left it for loader_load_fd() (below) */
};

/* What one segment's load committed (all zero when it committed nothing). */
struct load_seg_stats {
	uint64_t blocks, rows, bytes;	/* what was written (bytes: CSV) */
	uint64_t blocks_skipped;	/* outside the time window or loaded before */
	uint64_t columns_dropped;	/* columns the central schema does not know */
	uint64_t blocks_refused;	/* data refused, or a reserved metric name */
	uint64_t rows_refused;		/* rows of those blocks */
	uint64_t seg_bytes;		/* size of the segment file */
	bool partial;			/* some blocks left out by --since/--until */
	/* the connection was lost while COMMIT was on its way: these rows may
	 * or may not be in the database (counted apart, never as loaded) */
	bool in_doubt;
	uint64_t rows_in_doubt;
};

/*
 * Connect and check the schema exists at the version this pga knows
 * (PGA_ENOTFOUND without it, PGA_EVERSION when older or newer); with
 * o->init, create or upgrade it instead.  Tables of pga 1.0's own metrics
 * (the frozen copy in builtin10.c) that the database lacks are added here
 * (additive, idempotent); every other metric's table is made from the
 * column descriptors of its first block (SCHEMA.md).
 */
int loader_open(struct loader **out, const struct load_opts *o,
		struct pga_err *err);
/* Create or upgrade the schema (migrations in one transaction). */
int loader_init_schema(struct loader *l, struct pga_err *err);
/*
 * Load one segment from a file (name is used in messages and the ledger).
 * PGA_ECONFLICT for a segment that forks its collector's chain (*res is
 * LOAD_HELD when its bytes were stored centrally), reader error classes for
 * a corrupt one; either way none of its rows was written.  Blocks refused
 * by the server leave rc 0 and count in st->blocks_refused.  A segment
 * already in the ledger is recognised from its header and footer alone
 * (nothing else is read); the file is read twice (verification and DDL
 * before the transaction), so a stream is first copied to an unlinked
 * temporary file in $TMPDIR (load_run() does, for archives and buckets).
 */
int loader_load_file(struct loader *l, const char *name, const char *path,
		     enum load_result *res, struct load_seg_stats *st,
		     struct pga_err *err);
/* Same, for an open file descriptor (read with pread; not closed). */
int loader_load_fd(struct loader *l, const char *name, int fd,
		   enum load_result *res, struct load_seg_stats *st,
		   struct pga_err *err);
/*
 * By default a segment another loader is loading right now gives
 * LOAD_BUSY at once; with wait, the call waits for that loader to finish
 * and then reports what it did (usually LOAD_DUPLICATE).
 */
void loader_set_wait(struct loader *l, bool wait);
/*
 * Drop daily partitions of every metric table that end before cutoff (one
 * transaction each, with a lock timeout: a partition in use is skipped and
 * counted in *busy).
 */
int loader_retain(struct loader *l, int64_t cutoff_us, uint64_t *dropped,
		  uint64_t *busy, struct pga_err *err);
/*
 * Is (collector, seq) in the ledger?  1 with sha filled, 0 if not.  Used by
 * the shipper's postgres destination as its HEAD.
 */
int loader_lookup(struct loader *l, const char *collector, uint64_t seq,
		  uint8_t sha[PGA_SHA256_LEN], struct pga_err *err);
void loader_close(struct loader *l);

/*
 * Will err fail every other segment too?  The role may not write (42501),
 * the database is read-only (25006) or out of space (53100), the schema is
 * gone, the connection is lost, ...: pga load stops at the first such
 * error instead of refusing segment after segment.
 */
bool loader_error_fatal(const struct pga_err *err);

/*
 * pga load --resolve-fork COLLECTOR:SEQ --keep PREFIX: keep the version of
 * (collector, seq) whose SHA-256 starts with keep_prefix (loaded or held).
 * When it is a held one, the loaded branch from seq on (the segments that
 * chain from the loaded seq) is unloaded, its rows moved to held_rows,
 * and the kept one is loaded; the other versions at seq and the held
 * segments chaining from them are marked discarded (their bytes stay).
 * Then every held segment of the collector that now fits the chain is
 * loaded.  What was done is printed to out.  Returns how many segments of
 * the collector are still held (0: no fork left), or a negative PGA_E*
 * code (PGA_ENOTFOUND: no such fork or no version with that prefix,
 * PGA_EINVAL: the prefix matches several, PGA_ECONFLICT: the loaded branch
 * cannot be unloaded exactly; nothing changed).
 */
int loader_resolve_fork(struct loader *l, const char *collector, uint64_t seq,
			const char *keep_prefix, FILE *out, struct pga_err *err);

/* ---- restore's fast path: a UTC day at a time (bulk.c) ---- */

/*
 * A day transaction loads the blocks of one UTC day from many segments
 * (every collector's) in one transaction, with the same guarantees as
 * loader_load_fd() (every segment's ledger row commits with its rows, the
 * chain is checked, nothing is loaded twice), at the speed of a bulk load:
 *   - a metric whose day partition does not exist yet gets a new table,
 *     created in the transaction, with a CHECK constraint on the day, and
 *     filled with COPY FREEZE: no WAL at wal_level = minimal, rows frozen
 *     and all-visible at once (no hint-bit or vacuum pass to follow);
 *   - no index while loading: loader_day_attach() builds the indexes and
 *     attaches the table once the day has committed, while the next day
 *     loads (a day becomes queryable, indexed, at that moment);
 *   - a day partition that exists already is loaded the usual way;
 *   - the rows of all the day's segments share their COPYs: staged per
 *     table and column shape (a capped buffer, sent between segments and
 *     at commit), one COPY per day table instead of one per segment.  A
 *     block the server refuses in a shared COPY cannot be told from its
 *     neighbours: the transaction is lost and that day begins again with
 *     one COPY per segment, which finds the segment as below.
 * Whatever a day transaction cannot do in its stride is left to the
 * per-segment path (LOAD_DEFERRED, nothing of it written): a segment
 * another loader holds, whose chain edge is busy or that forks the chain
 * (loader_load_fd() holds it), that fails verification or has a block the
 * server refuses (loader_load_fd() records or isolates it), or that needs
 * a custom table or column.  The caller loads those with loader_load_fd()
 * after the day is attached.  A block the server refuses, or a transient
 * error (deadlock, a neighbour loaded in between that breaks the chain),
 * loses the transaction: loader_day_failed() says so, and the caller
 * aborts and begins the day again without that segment.
 *
 * Locks: no DDL outside the transaction but servers, collectors and the
 * registry (a second connection, autocommit); inside it only the day's new
 * tables, ROW EXCLUSIVE on existing partitions, the ledger rows, and
 * advisory locks only where the day meets another transaction: the claim
 * of a segment already in the ledger or reaching beyond the day, and the
 * chain edges at the ends of each collector's run of segments (tried when
 * a segment is added, busy = deferred; the far ends waited for at commit).
 * So concurrent day transactions of neighbouring days never wait for each
 * other's loads, only a commit for another's commit, and the lock table
 * holds a few entries per collector, not three per segment.
 */
struct load_day_table {
	char metric[SEG_METRIC_MAX + 1];
	int32_t day;			/* UTC days since 1970-01-01 */
};

/* Open the day transaction of day (UTC day number) on l. */
int loader_day_begin(struct loader *l, int32_t day, struct pga_err *err);
/*
 * One segment into the open day: its blocks of that day (and of
 * [since, until]).  *res LOAD_LOADED, LOAD_DUPLICATE, LOAD_FILTERED or
 * LOAD_DEFERRED (then err may say why); st counts what it added (counted
 * only once the day commits).  A negative return with loader_day_failed()
 * true means the transaction is lost (this segment's fault when *res is
 * LOAD_DEFERRED: begin again without it).
 */
int loader_day_add(struct loader *l, const char *name, int fd, enum load_result *res,
		   struct load_seg_stats *st, struct pga_err *err);
bool loader_day_failed(const struct loader *l);
/*
 * Check the chain at the far ends, COMMIT, update the collectors'
 * registry.  *tables (malloc'd, *n entries) are the new tables to give to
 * loader_day_attach().  PGA_ECONFLICT with *culprit set to the segment
 * (added under that name) whose successor, loaded meanwhile by another
 * loader, does not chain to it: begin again without it.
 */
int loader_day_commit(struct loader *l, struct load_day_table **tables, size_t *n,
		      const char **culprit, struct pga_err *err);
/* Roll the day back (nothing of it stays). */
void loader_day_abort(struct loader *l);
/*
 * Build the indexes of a day table committed by a day transaction and
 * attach it as its metric's partition, in one transaction (the day is
 * queryable, indexed, when it commits).  index_mem: maintenance_work_mem
 * in kB (0: the server's); workers: max_parallel_maintenance_workers
 * (-1: the server's).  If someone attached a partition for that day
 * meanwhile, the rows are moved into it instead.
 */
int loader_day_attach(struct loader *l, const char *metric, int32_t day, long index_mem,
		      int workers, struct pga_err *err);
/*
 * Day tables a day transaction committed but that were never attached (an
 * interrupted restore): *out (malloc'd, *n entries).
 */
int loader_day_unattached(struct loader *l, struct load_day_table **out, size_t *n,
			  struct pga_err *err);
/* The server's wal_level ("minimal", "replica", "logical") into buf. */
int loader_wal_level(struct loader *l, char *buf, size_t cap, struct pga_err *err);
/* Load only snapshots in [since, until] from now on (INT64_MIN/MAX: open). */
void loader_set_window(struct loader *l, int64_t since, int64_t until);

/*
 * known[i] = true for each name the ledger holds, complete, under exactly
 * that name (a fork, another file with that seq, is not known: loading it
 * holds it).  For names that parse as segment names; others stay false.
 */
int loader_known(struct loader *l, const char *const *names, size_t n, bool *known,
		 struct pga_err *err);

/* What the ledger holds, per collector (restore says what was there). */
struct load_ledger_collector {
	char collector[65];
	uint64_t segments, rows;
	uint64_t partial;		/* loaded in part (a time window) */
};
int loader_ledger_summary(struct loader *l, struct load_ledger_collector **out, size_t *n,
			  struct pga_err *err);

/* ---- a whole load: sources, jobs, progress, summary (run.c) ---- */

struct jsonw;

/* The errors of a load or restore run for its summary: the first LOAD_ERRORS_MAX. */
#define LOAD_ERRORS_MAX 100
struct load_errors {
	struct load_error {
		char name[SEG_NAME_MAX];
		int code;
		char msg[PGA_ERR_MSG_MAX];
	} v[LOAD_ERRORS_MAX];
	size_t n;
};
/* Keep err against segment name (past the cap: only counted by the caller). */
void load_errors_note(struct load_errors *e, const char *name, const struct pga_err *err);
/* The summary's "errors" key and array: segment, class, error of each. */
void load_errors_json(const struct load_errors *e, struct jsonw *jw);

struct load_run_opts {
	struct load_opts lo;
	const char *from;		/* spool dir, directory, tar or file */
	int jobs;			/* loaders in parallel, >= 1 */
	int64_t retain_us;		/* > 0: drop partitions older than this */
	bool json;			/* JSON summary on out */
	bool progress;			/* live progress line on stderr */
	/* take no new segment after this (pga_mono_us() time; 0: none) */
	int64_t deadline_us;
	/* pass over (not even open or download) names the ledger holds complete */
	bool skip_known;
};

struct load_totals {
	uint64_t segments, loaded, duplicate, filtered, busy, refused, conflicts, held;
	uint64_t failed;		/* not loaded because the run stopped (fatal) */
	uint64_t blocks, rows, bytes, seg_bytes, blocks_skipped, columns_dropped,
		 blocks_refused, rows_refused, partial;
	uint64_t in_doubt, rows_in_doubt;
	uint64_t partitions_dropped, partitions_busy;
	uint64_t known;			/* passed over: in the ledger already */
	int64_t elapsed_us;
};

/*
 * Load every segment of ro->from.  Returns PGA_EXIT_OK, PGA_EXIT_PARTIAL
 * (something was refused, held or dropped: segments, blocks or columns;
 * the rest loaded) or PGA_EXIT_FAIL (the run could not go on: connection,
 * schema, permissions, source; see loader_error_fatal()); the summary,
 * which counts only committed rows, goes to out.
 */
int load_run(const struct load_run_opts *ro, FILE *out, struct load_totals *t);

/*
 * What pga load and pga restore share: the central database, its schema
 * and the loaders in parallel from cfg (central, central-schema, load-jobs,
 * which --db, --schema, --jobs and the environment set), the window from
 * --since/--until (times as common/units.h reads them) into ro.  One-line
 * errors, PGA_EINVAL.
 */
struct pga_config;
int load_resolve_common(struct load_run_opts *ro, const struct pga_config *cfg,
			const char *since, const char *until, struct pga_err *err);

/* ---- pga load --loop (loop.c) ---- */

/*
 * Passes on the ticks of interval_us, each a load_run() of ro->from that
 * passes over what the ledger holds (skip_known), stops taking segments
 * deadline_us after it began, and drops partitions older than
 * ro->retain_us after it; a failed pass is retried after a capped
 * exponential backoff; SIGHUP reloads the configuration between passes
 * (ctx), the command line kept over it; SIGTERM ends the loop (0).
 */
struct pga_ctx;
struct load_loop_opts {
	struct load_run_opts ro;
	int64_t interval_us, deadline_us, retry_max_us;
	long long passes;		/* stop after this many (0: until a signal) */
	struct pga_ctx *ctx;		/* for a reload */
	/* on a reload, what the command layer sets up from the new configuration
	 * (decrypt-key-file); refused: the reload is refused, the old one stays */
	int (*on_reload)(const struct pga_config *cfg, struct pga_err *err);
};
/* Fill o from cfg (its command line included); PGA_ECONFIG when it cannot loop. */
int load_loop_configure(struct load_loop_opts *o, const struct pga_config *cfg,
			struct pga_err *err);
int load_loop(struct load_loop_opts *o, FILE *out);

/*
 * `pga status --central`: per collector, last snapshot, lag, segments,
 * rows, blocks refused, gaps, chain breaks, unresolved quarantine records
 * and held forks, then the gap, fork and quarantine lists.  Text or a JSON
 * document to out; every string that came from a segment header or a
 * server message is escaped (utf8_escape_text()) in both.  Read-only: opens its
 * own connection (o->conninfo, o->schema; the other fields are ignored).
 * Returns how many collectors need attention (gaps, chain breaks,
 * unresolved refusals or held forks, plus refusals nobody could
 * attribute), so 0 is all well, or a negative PGA_E* code with err filled.
 */
int load_status_central(const struct load_opts *o, bool json, FILE *out,
			struct pga_err *err);
/*
 * The same per collector as data, for pga status --central --prometheus:
 * *out (free() it) gets *n entries, ordered by collector.  Names are raw
 * (from segment headers: untrusted), cut at LOAD_HEALTH_NAME_MAX - 1 bytes.
 * *orphans gets the unresolved refusals no collector could be named for.
 * Returns 0 or a negative PGA_E* code with err filled.
 */
#define LOAD_HEALTH_NAME_MAX 256
struct load_collector_health {
	char collector[LOAD_HEALTH_NAME_MAX];
	int64_t last_snapshot_us;	/* 0: none loaded */
	int64_t segments, gaps, missing, chain_breaks, quarantined, held;
	int64_t blocks_refused;
};
int load_central_health(const struct load_opts *o, struct load_collector_health **out,
			size_t *n, int64_t *orphans, struct pga_err *err);
/* The same as a "central": {...} member of the JSON object jw has open. */
struct jsonw;
int load_status_central_jsonw(const struct load_opts *o, struct jsonw *jw,
			      struct pga_err *err);

/*
 * The collector registry (SCHEMA.md "Signatures and the registry"), for
 * `pga collectors`: add a collector or one more key of it (a key belongs
 * to one collector only: PGA_ECONFLICT), list, revoke keys from a time
 * (all of the collector's, or the one pubkey_file holds), remove.  Each
 * opens its own connection (o->conninfo, o->schema) and prints one line
 * (or the list) to out.  PGA_ENOTFOUND: no such collector or key.
 */
int load_registry_add(const struct load_opts *o, const char *id, const char *pubkey_file,
		      const char *environment, const char *group, const char *description,
		      FILE *out, struct pga_err *err);
int load_registry_list(const struct load_opts *o, bool json, FILE *out, struct pga_err *err);
int load_registry_change(const struct load_opts *o, const char *id, bool remove,
			 int64_t from_us, const char *pubkey_file, FILE *out,
			 struct pga_err *err);

/*
 * `pga status --central --verify`: recompute the ledger's hash chain, each
 * collector's segment chain and every stored signature whose key is
 * registered; print each finding to out.  Returns the number of findings
 * (0: the ledger proves itself) or a negative PGA_E* code.
 */
int load_verify_central(const struct load_opts *o, FILE *out, struct pga_err *err);

#endif
