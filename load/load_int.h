/*
 * load_int.h - internals shared by the loader's files (not an interface)
 *
 *   schema.c   migrations, metric tables and delta views from shapes, names
 *   shape.c    a metric's columns from a block's descriptors (or text)
 *   builtin10.c  pga 1.0's own metrics' columns, frozen (minor 0 blocks)
 *   ddl.c      on-demand DDL outside the load transaction: collectors,
 *              servers, daily partitions, metric tables, columns and views
 *   copy.c     decompressed CSV to COPY: per-row constant prefix, and the
 *              libcsv rewrite that drops unknown columns
 *   loader.c   the segment transaction (claim, ledger, blocks, commit),
 *              block-by-block isolation after a data error, the chain check
 *   record.c   what is written besides rows: refusals (quarantine), block
 *              records (segments.loaded_blocks), held forks (large objects)
 *   fork.c     pga load --resolve-fork: unload one branch, load the other
 *   status.c   pga status --central
 *   bulk.c     restore's day transactions: fresh partitions filled with
 *              COPY FREEZE, indexed and attached once complete
 *
 * Locking rules that keep concurrent loaders deadlock-free (see loader.c):
 * every DDL statement runs in its own short transaction before the load
 * transaction begins, so a load transaction only ever takes ROW EXCLUSIVE /
 * ACCESS SHARE locks on metric tables, one ledger key, and the collector's
 * registry row as its very last statement.
 */
#ifndef PGA_LOAD_INT_H
#define PGA_LOAD_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/stat.h>

#include <csv.h>
#include <libpq-fe.h>

#include "common/dynbuf.h"
#include "common/err.h"
#include "load/load.h"
#include "spool/segment.h"

#define LD_IDENT_MAX 64			/* NAMEDATALEN */
#define LD_QNAME_MAX (2 * 2 * LD_IDENT_MAX + 8)
#define LD_SQL_MAX 8192
/* COPY t (every column of a widest block, quoted) FROM STDIN: 1024 x 130 bytes */
#define LD_COPY_SQL_MAX (SEG_MAX_COLS * (2 * LD_IDENT_MAX + 4) + 1024)
#define LD_DAY_US (86400LL * 1000000LL)

/* The columns every metric table has besides the block's own. */
#define LD_FIXED_COLS "collector_id, server_id, snapshot_time, dbname"
bool ld_fixed_col(const char *name);

/* ---- names (schema.c) ---- */

/*
 * A name derived from a metric with a suffix ("_delta", "_series",
 * "_p20261125"), kept under 63 bytes: long metric names are cut and an
 * 8-digit hash of the full name keeps them apart.
 */
void ld_derived_name(const char *metric, const char *suffix, char *buf, size_t cap);
/* Custom metric names that would collide with our own objects. */
bool ld_metric_reserved(const char *metric);
/* "schema"."name", both quoted. */
int ld_qualify(const char *schema, const char *name, char *buf, size_t cap,
	       struct pga_err *err);
/* Day number (UTC days since 1970-01-01) of a time, floor for negatives. */
int32_t ld_day_of(int64_t us);

/* ---- SQL text built in memory (common/dynbuf), at most this long ---- */

#define LD_TEXT_MAX (64u << 20)

/* A quoted literal (PQescapeLiteral), or NULL for s == NULL. */
void ld_add_lit(struct dynbuf *b, PGconn *conn, const char *s);
/* A SHA-256 as a bytea literal. */
void ld_add_sha(struct dynbuf *b, const uint8_t *sha);


/* ---- per-loader caches ---- */

struct ld_table {
	char metric[SEG_METRIC_MAX + 1];
	char qname[LD_QNAME_MAX];
	/* sorted by name; fixed columns excluded; each "name\0type" (format_type) */
	char **cols;
	size_t ncols;
	bool series_db;			/* its series index has dbname (a per-database table) */
	int32_t *days;			/* existing daily partitions, sorted */
	size_t ndays, days_cap;
};

struct ld_server {
	uint64_t sysid;
	uint16_t port;
	int32_t id;
	char host[256];
};

struct ld_collector {
	char name[65];
	int32_t id;
};

/* ---- what a metric's columns are (shape.c, builtin10.c) ---- */

/*
 * A metric's columns as the central side builds them: from the block's
 * own descriptors (format minor 1), else from pga 1.0's catalog frozen in
 * builtin10.c (what collectors of format 1.0 wrote for their own
 * metrics), else as text.  load/ knows no collector's catalog: a metric a
 * newer collector introduced describes itself.
 */
struct ld_col {
	char name[LD_IDENT_MAX];
	char type[SEG_TYPE_MAX + 1];	/* as written: "timestamptz", "bigint[]" */
	uint8_t role;			/* enum seg_col_role */
};

struct ld_shape {
	char metric[SEG_METRIC_MAX + 1];
	bool typed;		/* described, or a 1.0 metric: else every column text */
	bool builtin;		/* one of pga 1.0's metrics (registered as 'catalog') */
	bool closed;		/* an undescribed 1.0 metric: no column beyond these */
	bool per_db;		/* collected per database: dbname is part of its series */
	uint16_t ncols;
	struct ld_col *cols;	/* ncols, owned */
};

/* The frozen 1.0 catalog: per metric its columns, as collectors wrote them. */
struct ld_col_def { const char *name, *type; uint8_t role; };
struct ld_builtin {
	const char *name;
	bool per_database;
	const struct ld_col_def *cols;
	size_t ncols;
};
const struct ld_builtin *ld_builtin_all(size_t *n);
const struct ld_builtin *ld_builtin_find(const char *metric);

/* An empty shape of metric with room for ncols columns; one column added. */
int ld_shape_init(struct ld_shape *s, const char *metric, size_t ncols, struct pga_err *err);
void ld_shape_add(struct ld_shape *s, const char *name, const char *type, uint8_t role);
/* A 1.0 metric's shape (typed, builtin, closed); PGA_ENOTFOUND if none. */
int ld_shape_builtin(const char *metric, struct ld_shape *s, struct pga_err *err);
/*
 * The shape a block asks for: its descriptors, or the 1.0 catalog's, or
 * text.  Columns a central table cannot hold (seg_column_valid, the fixed
 * ones, a name twice) are left out: the block's plan drops them.
 */
int ld_shape_of_block(const struct seg_block_meta *m, struct ld_shape *s,
		      struct pga_err *err);
int ld_shape_copy(struct ld_shape *dst, const struct ld_shape *src, struct pga_err *err);
void ld_shape_free(struct ld_shape *s);
const struct ld_col *ld_shape_col(const struct ld_shape *s, const char *name);
bool ld_shape_has_counters(const struct ld_shape *s);
/* The spelling format_type() gives a descriptor's type ("timestamptz" ->
 * "timestamp with time zone"), for comparing with a table's. */
const char *ld_type_canonical(const char *type, char *buf, size_t cap);
/*
 * Can a column of descriptor type dtype load into a table column of
 * ttype (format_type)?  The same type, or a text column (which takes
 * anything: tables that older loaders made for custom metrics).
 */
bool ld_type_fits(const char *dtype, const char *ttype);

/* Things a segment needs before its transaction can run. */
struct ld_need_part { char metric[SEG_METRIC_MAX + 1]; int32_t day; };
struct ld_need_col {
	char metric[SEG_METRIC_MAX + 1];
	char col[LD_IDENT_MAX];		/* "": the table itself */
	char type[SEG_TYPE_MAX + 1];
};
struct ld_need_srv {
	uint64_t sysid;
	uint16_t port;
	uint32_t version;
	char host[256];
	char target[65];
};

struct ld_needs {
	struct ld_need_part *parts;
	size_t nparts, parts_cap;
	struct ld_need_col *cols;	/* new tables and columns */
	size_t ncols, cols_cap;
	struct ld_shape *shapes;	/* of the metrics that need them: tables, views */
	size_t nshapes, shapes_cap;
	struct ld_need_srv *srvs;
	size_t nsrvs, srvs_cap;
};

void ld_needs_reset(struct ld_needs *n);
void ld_needs_free(struct ld_needs *n);

/*
 * The registry row of the last signing key seen (trust.c): most runs load
 * one collector's segments, all signed by one key, so one lookup serves a
 * run; it is read again after LD_KEYCACHE_US, so a revocation reaches a
 * long-running loader within that time.
 */
#define LD_KEYCACHE_US (10 * 1000000LL)
struct ld_keycache {
	bool valid, found;
	int64_t fetched_us;
	uint8_t key_id[PGA_SIGN_KEYID_LEN];
	char collector[sizeof(((struct seg_header *)0)->collector)];
	int64_t valid_from_us, revoked_us;	/* INT64_MIN / INT64_MAX: open */
	char revoked_text[64];
	struct pga_pubkey *pub;
};
struct ld_bulk;

struct loader {
	PGconn *conn;
	struct ld_bulk *bulk;		/* a day transaction is open (bulk.c) */
	struct load_opts o;
	char schema[LD_IDENT_MAX];
	char qschema[2 * LD_IDENT_MAX + 4];
	bool wait_claims;
	struct ld_table *tables;
	size_t ntables, tables_cap;
	struct ld_server *servers;
	size_t nservers, servers_cap;
	struct ld_collector *collectors;
	size_t ncollectors, collectors_cap;
	struct ld_needs needs;
	uint8_t *rbuf;			/* decompressed CSV, LD_RBUF bytes */
	char tmpdir[4096];
	struct ld_keycache keys;	/* trust.c */
};

/* ---- SQL helpers (loader.c) ---- */

/*
 * Run sql with text params; res (may be NULL) receives a TUPLES_OK/COMMAND_OK
 * result.  On failure err->sqlstate holds the server's SQLSTATE.
 */
int ld_exec(struct loader *l, const char *sql, int nparams, const char *const *params,
	    PGresult **res, struct pga_err *err);
void ld_rollback(struct loader *l);
/* End a transaction: COMMIT when rc is 0, else (or when COMMIT fails) ROLLBACK. */
int ld_tx_end(struct loader *l, int rc, struct pga_err *err);
/* Advisory lock key of a text (schema-qualified by the caller). */
int64_t ld_lock_key(const char *schema, const char *collector, const char *what,
		    uint64_t seq);

/* ---- one segment being loaded (loader.c, record.c) ---- */

struct ld_win {
	int64_t since, until;
};

struct ld_job {
	const char *name;		/* as the source names it */
	char qname[4 * SEG_NAME_MAX + 1];	/* escaped: what SQL and logs see */
	int fd;
	char path[64];			/* /proc/self/fd/N */
	struct stat seen;		/* the file as the prescan verified it */
	struct seg_header h;		/* hostname and writer escaped */
	struct seg_footer f;		/* index owned */
	uint64_t size;
	uint8_t file_sha[PGA_SHA256_LEN];
	bool is_signed;			/* the signature frame, from the prescan */
	struct seg_signature sig;
	int32_t collector_id;		/* -1 until known */
	/* the ledger row, if any */
	bool in_ledger, complete;
	uint8_t led_sha[PGA_SHA256_LEN], led_body[PGA_SHA256_LEN];
	/* the chain around it, as the ledger has it */
	bool have_prev, have_next;
	bool edge_lo, edge_hi;		/* chain edge locks (seq-1, seq), (seq, seq+1) held */
	uint8_t prev_sha[PGA_SHA256_LEN];	/* ledger's sha256 of seq - 1 */
	uint8_t next_prev[PGA_SHA256_LEN];	/* ledger's prev_sha256 of seq + 1 */
	struct ld_win *win;
	size_t nwin;
	/* how this pass runs */
	bool all_covered;		/* every block in this or an earlier window */
	bool isolate;			/* one savepoint and one COPY per block */
	bool data_error;		/* the server refused block data: isolate */
	bool force_chain;		/* --resolve-fork: the operator chose it */
	uint32_t held_oid;		/* loading a held segment: its large object */
	const char *hold_kind;		/* set when the segment must be held */
	char hold_detail[PGA_ERR_MSG_MAX];
	/* written with the ledger row, in its transaction */
	bool bad_collector;		/* header read, its collector id invalid */
	struct dynbuf refusals;		/* VALUES rows for quarantine */
	struct dynbuf blocks;		/* elements of the ledger's loaded_blocks */
	struct dynbuf logs;		/* refusal log lines, printed once committed */
	uint64_t logs_dropped;
	struct load_seg_stats st;
};

/* ---- records (record.c) ---- */

/* Queued records are written early (COPY ended first) beyond this size. */
#define LD_RECORDS_FLUSH (256 * 1024)

/*
 * Queue a refusal for the load transaction: kind is a quarantine kind,
 * block < 0 means the whole segment, rows < 0 unknown.  Its log line,
 * naming the segment and block, is queued too: a pass that is rolled back
 * and run again (isolation) must not log it twice.
 */
void ld_refuse(struct loader *l, struct ld_job *j, const char *kind, int64_t block,
	       const char *metric, const char *sqlstate, int64_t rows, const char *reason);
/*
 * Record a loaded block (what unloading it needs), for the ledger row:
 * bounded by SEG_MAX_BLOCKS, as the footer index already in memory is.
 */
void ld_block_record(struct loader *l, struct ld_job *j, const struct seg_block_meta *m,
		     int32_t server_id, uint64_t rows);
bool ld_records_full(const struct ld_job *j);
/* Print the queued refusal log lines (after the commit that recorded them). */
void ld_records_log(struct ld_job *j);
/* Statements writing the queued refusals, appended to b; the queue is emptied. */
void ld_records_sql(struct loader *l, struct ld_job *j, struct dynbuf *b);
/* The loaded_blocks value of the ledger row: an array literal (or '{}'). */
void ld_blocks_sql(struct loader *l, const struct ld_job *j, struct dynbuf *b);
/* The job's record buffers: set up once, emptied per pass, freed at the end. */
void ld_records_init(struct ld_job *j);
void ld_records_reset(struct ld_job *j);
void ld_records_free(struct ld_job *j);
/*
 * A whole-segment refusal in its own transaction (the segment's own one
 * was rolled back); never fails loudly: a warning if it cannot be written.
 */
void ld_quarantine_now(struct loader *l, const struct ld_job *j, const char *kind,
		       const struct pga_err *why);
/*
 * Keep the job's file centrally without loading it: its bytes as a large
 * object, a held_segments row and a quarantine record of kind (conflict or
 * chain), in one transaction.  Holding a file held before counts it again.
 * Returns 1 (and records nothing new but the sighting) for a version
 * pga load --resolve-fork set aside before: that fork is decided.
 */
int ld_hold(struct loader *l, struct ld_job *j, const char *kind, const char *detail,
	    struct pga_err *err);
/* An error the server raised because of a block's data (isolate it). */
bool ld_data_error(const struct pga_err *err);

/* ---- the steps of one segment, for bulk.c (loader.c) ---- */

void ld_job_init(struct ld_job *j, const char *name, int fd);
void ld_job_free(struct ld_job *j);
/* Header and footer from the file's ends (nothing else read). */
int ld_read_ends(struct ld_job *j, struct pga_err *err);
bool ld_wholly_outside(const struct loader *l, const struct ld_job *j);
/* The collector id must be a valid name before any SQL sees it. */
int ld_check_header(struct ld_job *j, struct pga_err *err);
/* j->collector_id from the registry (-1 if not there yet). */
int ld_collector_lookup(struct loader *l, struct ld_job *j, struct pga_err *err);
/* The ledger rows of seq-1, seq, seq+1 (and a partial one's windows). */
int ld_ledger_read(struct loader *l, struct ld_job *j, struct pga_err *err);
void ld_ledger_row(struct ld_job *j, const PGresult *res, int i);
/* Verify the whole file, collect its needs (l->needs) and its SHA-256. */
int ld_prescan(struct loader *l, struct ld_job *j, struct pga_err *err);
/* NULL when the segment fits the chain the ledger holds, else why not. */
const char *ld_chain_break(const struct ld_job *j, char *buf, size_t cap);
struct ld_copy_stage;
/*
 * The blocks due now through COPY in the caller's transaction (stats in
 * j->st); with stage non-NULL the COPY data is staged there instead of
 * sent (restore's shared COPYs, bulk.c).
 */
int ld_copy_segment(struct loader *l, struct ld_job *j, const struct ld_copy_stage *stage,
		    struct pga_err *err);
/* Ledger row, windows, refusals, quarantine resolution (no COMMIT). */
void ld_segment_sql(struct loader *l, struct ld_job *j, struct dynbuf *b, bool link);
/*
 * With link false a new ledger row is written outside the hash chain
 * (ledger_no NULL, no ledger lock); ld_ledger_link_sql() then numbers and
 * links it, under the ledger lock the caller takes in its commit's round
 * trip (bulk.c: a day transaction holds the lock only while it commits).
 */
void ld_ledger_link_sql(struct loader *l, struct dynbuf *b, int32_t collector_id, uint64_t seq);
/* The collector's registry row after a segment of seq h->seq. */
void ld_registry_sql(struct loader *l, struct dynbuf *b, const struct seg_header *h,
		     int32_t collector_id, int64_t max_snapshot_us, bool no_blocks);
/* Deadlock, lock timeout, a table or partition that moved: worth trying again. */
bool ld_transient(const struct pga_err *err);

/* ---- restore's day transactions (bulk.c) ---- */

/*
 * The table a block of metric on day goes to inside the day transaction:
 * the day's own table (*freeze when it was created in this transaction),
 * or parent when that day's partition was already attached.
 */
const char *ld_bulk_target(struct loader *l, const char *metric, int32_t day,
			   const char *parent, bool *freeze);
void ld_bulk_free(struct loader *l);

/* ---- loading a held segment (fork.c uses loader.c) ---- */

struct ld_load_extra {
	bool force_chain;		/* load even if it breaks the chain */
	uint32_t held_oid;		/* resolve this held segment on commit */
};

int ld_load_fd(struct loader *l, const char *name, int fd, const struct ld_load_extra *x,
	       enum load_result *res, struct load_seg_stats *st, struct pga_err *err);

/* ---- signatures (trust.c) ---- */

/*
 * Under require-signature: the job's signature against the registry (a key
 * registered to its collector, valid at its creation time, a good
 * signature).  PGA_EPERM naming the reason when it is refused.
 */
int ld_check_signature(struct loader *l, const struct ld_job *j, struct pga_err *err);
void ld_keycache_free(struct loader *l);

/* ---- schema (schema.c) ---- */

#define LD_SCHEMA_VERSION 4

/* Current version, 0 if the schema or its version table does not exist. */
int ld_schema_version(struct loader *l, int *version, struct pga_err *err);
/* The text of one released migration (malloc'd; NULL if unknown), for tests. */
char *ld_migration_sql(int version, const char *qschema, const char **description);
/* Apply all migrations newer than the database's, in one transaction. */
int ld_schema_migrate(struct loader *l, struct pga_err *err);
/*
 * One table per catalog metric (columns added as the catalog grows), their
 * series indexes and delta views; skipped when this catalog's fingerprint is
 * already recorded.  force runs it regardless.
 */
int ld_schema_ensure_catalog(struct loader *l, bool force, struct pga_err *err);
/*
 * Table (with the shape's columns that are missing), index and
 * registration of one metric, in the caller's transaction; with
 * pg_stat_statements its companion's table.
 */
int ld_schema_ensure_table(struct loader *l, const struct ld_shape *s, struct pga_err *err);
/*
 * The delta view of a shape with counters, replaced, over the columns the
 * table has (a counter the table holds in another type is shown as it is).
 * 0 and nothing done for a shape without counters.
 */
int ld_schema_ensure_view(struct loader *l, const struct ld_shape *s, struct pga_err *err);
/*
 * A per-database shape whose table's series index has no dbname (it was
 * made for cluster-wide blocks): the index made again with dbname, in the
 * caller's transaction (the view follows, ld_schema_ensure_view).
 */
int ld_schema_ensure_series(struct loader *l, const struct ld_shape *s, struct pga_err *err);
/* The DDL of one metric (table, index, delta view if it has counters). */
int ld_schema_metric_sql(const char *qschema, const struct ld_shape *s,
			 char **sql, struct pga_err *err);

/* ---- DDL and caches (ddl.c) ---- */

struct ld_table *ld_table_find(struct loader *l, const char *metric);
/* Load (or reload) a table's columns and partitions; *t NULL if it does not exist. */
int ld_table_load(struct loader *l, const char *metric, struct ld_table **t,
		  struct pga_err *err);
bool ld_table_has_col(const struct ld_table *t, const char *col);
/* The column's type as format_type() spells it, or NULL. */
const char *ld_table_col_type(const struct ld_table *t, const char *col);
bool ld_table_has_day(const struct ld_table *t, int32_t day);
void ld_tables_forget(struct loader *l);

/* Record what a block will need (only what the caches do not know). */
int ld_need_block(struct loader *l, const struct seg_block_meta *m,
		  struct pga_err *err);
/* Create what was recorded, each in its own short transaction. */
int ld_apply_needs(struct loader *l, struct pga_err *err);

int ld_collector_id(struct loader *l, const struct seg_header *h, int32_t *id,
		    struct pga_err *err);
/* Cached server id (after ld_apply_needs); -1 if unknown. */
int32_t ld_server_lookup(struct loader *l, uint64_t sysid, const char *host,
			 uint16_t port);

/* ---- run and status helpers (status.c) ---- */

/* Log the gaps and chain breaks the ledger shows now (a few lines at most). */
void ld_warn_gaps(struct loader *l);

/* ---- COPY streaming (copy.c) ---- */

#define LD_RBUF (256 * 1024)
/*
 * CopyData message size.  The server parses a CopyData message only once
 * all of it has arrived, so messages larger than the socket buffer turn the
 * stream into store-and-forward: 256 KiB messages measured 0.84x of psql's
 * \copy, 64 KiB 0.93x, 32 KiB 0.97x, 16 KiB 0.95x (bench/30-load.sh).
 */
#define LD_OBUF (32 * 1024)

/* Where COPY data goes: PQputCopyData by default, a buffer in the unit tests. */
typedef int (*ld_copy_sink)(void *ctx, const char *buf, size_t len, struct pga_err *err);

/*
 * A COPY staged instead of sent: begin names the COPY statement, put
 * takes its data, end closes it with the rows its blocks hold; abort
 * says a begun COPY will not be ended (its staged data must not be sent).
 */
struct ld_copy_stage {
	int (*begin)(void *ctx, const char *sql, struct pga_err *err);
	int (*put)(void *ctx, const char *buf, size_t len, struct pga_err *err);
	void (*end)(void *ctx, uint64_t rows);
	void (*abort)(void *ctx);
	void *ctx;
};

struct ld_copy {
	PGconn *conn;
	const struct ld_copy_stage *stage;	/* NULL: a COPY on conn */
	ld_copy_sink sink;		/* NULL: PQputCopyData on conn */
	void *sink_ctx;
	bool active;
	uint64_t err_line;		/* COPY's "line N" of the last error, 0 if none */
	char *obuf;
	size_t olen;
	/* per block */
	char prefix[640];
	size_t plen;
	bool row_start, in_quotes;
	const bool *keep;		/* NULL: every column goes through untouched */
	uint16_t ncols, nkept;
	/* dropping path */
	struct csv_parser csv;
	bool csv_ready;
	uint16_t field;
	bool row_has_field;
	int cb_rc;
	struct pga_err *cb_err;
	uint64_t rows_expected;
	uint64_t bytes_in;
};

int ld_copy_init(struct ld_copy *c, PGconn *conn, struct pga_err *err);
void ld_copy_free(struct ld_copy *c);
int ld_copy_begin(struct ld_copy *c, const char *sql, struct pga_err *err);
/*
 * Start a block: prefix is the constant fields without separator, keep says
 * which of ncols columns go through (NULL: all, bytes untouched).
 */
int ld_copy_block(struct ld_copy *c, const char *prefix, const bool *keep,
		  uint16_t ncols, struct pga_err *err);
int ld_copy_data(struct ld_copy *c, const void *buf, size_t len, struct pga_err *err);
int ld_copy_block_end(struct ld_copy *c, uint64_t rows, struct pga_err *err);
/* End the COPY and check the server stored exactly the rows announced. */
int ld_copy_end(struct ld_copy *c, uint64_t *rows, struct pga_err *err);
/* Abandon the COPY (the transaction is then rolled back by the caller). */
void ld_copy_abort(struct ld_copy *c, const char *why);
/*
 * One COPY of data ready to send (rows of it, in COPY's format), on conn,
 * handed to libpq LD_RAW_PIECE at a time; the server's row count checked
 * as ld_copy_end checks it.  Restore's shared COPYs (bulk.c).
 */
#define LD_RAW_PIECE ((size_t)1 << 20)
int ld_copy_raw(PGconn *conn, const char *sql, const char *buf, size_t len, uint64_t rows,
		struct pga_err *err);

#endif
