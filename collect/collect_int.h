/* collect_int.h - structures shared by the files of the collector only. */
#ifndef PGA_COLLECT_INT_H
#define PGA_COLLECT_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include <libpq-fe.h>

#include "collect/catalog.h"
#include "collect/collect.h"
#include "collect/cstate.h"
#include "collect/csvlog.h"
#include "common/utf8.h"
#include "spool/segment.h"

#define CDB_NAME_MAX 64		/* NAMEDATALEN */

/* A database of a target, and its connection when kept across cycles. */
struct cdb {
	char name[CDB_NAME_MAX];
	PGconn *conn;
	bool listed;		/* in this cycle's list */
	bool on_cluster;	/* collected on the cluster connection */
	bool when_known;	/* its {datid} conditions came with the list */
	uint64_t when_off[CATALOG_MAX / 64];	/* by metric index: false */
};

/*
 * What a snapshot query learns for the catalog (cfacts.c): each
 * extension's version and schema in the session's database (by
 * catalog_ext_index), and which metrics' conditions (when) were false.
 */
struct cfacts {
	struct {
		bool installed;
		int version;		/* catalog_ext_version(), -1 if unparsable */
		char vtext[16];
		char schema[136];	/* quoted */
	} ext[CATALOG_EXT_MAX];
	uint64_t off[CATALOG_MAX / 64];	/* by metric index: condition false */
	uint8_t when_idx[CATALOG_MAX];	/* the metrics whose condition was asked */
	size_t nwhen;
	bool parsed;
};

/*
 * A query's extra columns into buf: the extensions (exts_too), then the
 * condition of each metric want() accepts (expanded with v).  f records
 * which; cfacts_parse() reads them from a row of r from column first on.
 * cfacts_merge() adds conditions learnt elsewhere (a database's, in the
 * cluster session's list of databases).
 */
#define CFACTS_SQL_CAP 8192	/* what a session's columns may take (unit-tested) */
int cfacts_sql(struct cfacts *f, bool exts_too, bool (*want)(const struct metric_def *, void *),
	       void *ctx, const struct catalog_vars *v, char *buf, size_t cap,
	       struct pga_err *err);
void cfacts_parse(struct cfacts *f, bool exts_too, const PGresult *r, int row, int first);
void cfacts_merge(struct cfacts *f, const struct cfacts *more);
enum cfacts_why {
	CFACTS_RUN,		/* it runs: *version and *schema are set for an ext */
	CFACTS_NO_EXT,		/* its extension is not installed in this database */
	CFACTS_EXT_VERSION,	/* in a version the catalog has no SQL for */
	CFACTS_WHEN,		/* its condition was false (or not asked) */
};

/* Whether metric m runs in this session; for an extension's metric, the
 * extension's version and quoted schema. */
enum cfacts_why cfacts_skip(const struct cfacts *f, const struct metric_def *m,
			    int *version, const char **schema);
/* Why, in words, for pga check and the logs. */
void cfacts_why(const struct cfacts *f, const struct metric_def *m, enum cfacts_why why,
		const char *database, char *buf, size_t cap);

/* What one session learned from its snapshot query. */
struct csnap {
	int64_t snapshot_us;
	uint64_t sysid;
	int server_version;
	int backend_pid;
	char database[CDB_NAME_MAX];
	char pgss_version[16];		/* "" when not installed here */
	char pgss_schema[136];		/* quoted */
	char settings_hash[33];
	char data_directory[PATH_MAX];
	bool settings_ok;		/* the fixed settings held (settings_ok_sql, cjob.c) */
	struct cfacts facts;
};

struct ctarget {
	const struct pga_target *cfg;
	size_t index;
	bool all_dbs;			/* dbname=* or databases=* */
	const char *cluster_db;		/* dbname override of the cluster session */
	char **dblist;			/* databases = a,b,c */
	size_t ndblist;
	bool local;			/* host is this machine (os-stats) */
	PGconn *cconn;			/* cluster connection (kept in loop mode) */
	struct cdb *dbs;
	size_t ndbs, capdbs;
	struct cstate state;
	bool state_loaded;
	struct csvlog csvlog;		/* when csvlog is set */
	unsigned fails;			/* consecutive failed cycles (loop backoff) */
	bool texts_raw;			/* query texts are read in a SQL_ASCII database */
	uint64_t skip_until;		/* collector cycle before which it is skipped */
	/* ---- per cycle; under collector.mu once jobs run in parallel ---- */
	int64_t deadline;		/* monotonic */
	struct seg_block_meta base;	/* snapshot, identity: the same for all blocks */
	unsigned pending;		/* jobs not finished */
	/* the {datid} conditions the cluster session's list of databases holds */
	uint8_t db_when_idx[CATALOG_MAX];
	size_t ndb_when;
	bool pgss_claimed;
	unsigned ext_claimed;		/* by catalog_ext_index: cluster data taken */
	bool bloat_due;			/* the bloat metrics run this cycle */
	atomic_bool drift_said;		/* a session's settings drifted (settings_again) */
	bool failed, cluster_failed;
	bool snapshot_open;		/* the cluster session began: a snapshot exists */
	bool queued, settled;		/* in this cycle; its last job done */
	bool counted;			/* a block of the snapshot is in the spool, its
					 * snapshot counted partial (collector.count_mu) */
	char why[PGA_ERR_MSG_MAX];
	unsigned dbs_ok, dbs_failed;
	uint64_t blocks, rows, bytes, metric_errors;
	uint64_t values_escaped;	/* values (and header strings) escaped */
	unsigned unconverted;		/* metrics read without encoding conversion */
	int64_t started_us;
};

/* One session (connection + transaction) a job works in. */
struct csession {
	struct ctarget *t;
	PGconn *conn;
	struct csnap snap;
	const char *database;		/* block database for per-database metrics */
	struct cdb *db;			/* the database job's database, else NULL */
	bool savepoint;			/* a SAVEPOINT pga exists */
	bool fresh;			/* new connection: its SETs still to run */
	bool header_counted;		/* an escaped database name was counted */
	bool prepare;			/* kept connection: catalog SELECTs prepared */
};

struct collector;

struct cworker {
	struct collector *c;
	pthread_t tid;
	bool started;
	struct spool_stream *stream;	/* created at the first block */
	struct utf8_stream u8;		/* what goes into the open block */
	char *sql;
	size_t sqlcap;
	char *csv;			/* CSV_BUF bytes, at the first prepared metric */
	const char *cols[SEG_MAX_COLS];
	struct seg_col_desc desc[SEG_MAX_COLS];	/* types and roles (block_describe) */
	/* pg_stat_statements queryids seen in this worker's counters block */
	uint64_t *ids, *newids;
	size_t nids, nnew, capids, capnew;
};

struct cjob {
	struct ctarget *t;
	long db;			/* index in t->dbs, -1 for the cluster job */
};

struct collector {
	const struct pga_config *cfg;
	struct spool *sp;
	bool keep;
	struct ctarget *targets;
	size_t ntargets;
	struct cworker *workers;
	int nworkers;
	char state_dir[PATH_MAX];
	uint64_t cycle_no;
	int64_t cycle_wall_us;		/* the cycle's start, for the health records */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_mutex_t count_mu;	/* a snapshot's first block: see cjob.c block_commit() */
	struct cjob *jobs;
	size_t njobs, capjobs, next;
	int busy;
	bool fatal;			/* the spool failed: stop the cycle */
	struct pga_err fatal_err;
	struct collect_stats st;
	unsigned failed_unwritten;	/* targets failed with no block in the spool */
	/* values escaped this cycle per catalog metric; the last: block headers */
	uint64_t *escaped;
	size_t nmetrics;
};

/* cjob.c */
void cjob_run(struct cworker *w, const struct cjob *job);
void cworker_free(struct cworker *w);
/*
 * The snapshot_status block, last of the target's snapshot.  It counts the
 * snapshot in the spool's counters with the block itself (complete, its
 * metric errors and escaped values), as the first block counted it
 * partial: so the counters are what the sealed status blocks say, a kill
 * -9 included.
 */
int cjob_status_block(struct cworker *w, struct ctarget *t, bool complete,
		      struct pga_err *err);
/* Count escaped values for metric index i (nmetrics: block headers, nmetrics + 1: custom metrics). */
void collector_count_escaped(struct collector *c, struct ctarget *t, size_t i,
			     uint64_t n);

/* chealth.c: the records collect.h's health readers read */
int chealth_record_target(const char *dir, const char *target, int64_t at_us, bool ok,
			  const char *why, struct pga_err *err);
int chealth_record_cycle(const char *dir, int64_t start_us, const struct collect_stats *st,
			 struct pga_err *err);

/* collector.c: called by jobs */
int collector_enqueue_dbs(struct collector *c, struct ctarget *t,
			  struct pga_err *err);
void collector_fatal(struct collector *c, const struct pga_err *err);
void ctarget_fail(struct collector *c, struct ctarget *t, bool cluster,
		  const struct pga_err *err);

#endif
