/*
 * catalog.h - the version-aware metric catalog: what pga collects
 *
 * One table of data (catalog.c), not code scattered around: each metric has
 * a name (the block's metric name and the central table pga.<name>), a scope
 * (once per cluster or once per database), its canonical columns with the
 * PostgreSQL type the central table uses, and the SQL that produces exactly
 * those columns, in that order, per server-version range.  Columns a version
 * lacks come out as NULL, so a metric has the same columns on 12 and 18.
 * Adding a metric is adding one entry.
 *
 * The loader builds the central schema from the same table (column names
 * and types, series keys and reset columns for the delta views), so the
 * collector and the central side can never disagree.
 *
 * Everything here is static, read-only data: thread-safe, nothing to free.
 */
#ifndef PGA_CATALOG_H
#define PGA_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

enum metric_scope {
	METRIC_CLUSTER,		/* once per cluster (any database) */
	METRIC_DATABASE,	/* once per collected database */
};

enum metric_source {
	METRIC_SQL,		/* COPY (SELECT ...) TO STDOUT on the target */
	METRIC_HOST,		/* /proc and statvfs of a local target */
	METRIC_CSVLOG,		/* the server's csvlog, parsed incrementally */
	METRIC_STATUS,		/* pga's own record of a snapshot, written last */
};

enum col_kind {
	COL_KEY,		/* identifies a series (datid, relid, queryid, ...) */
	COL_COUNTER,		/* cumulative: deltas are computed centrally */
	COL_GAUGE,		/* a level (sizes, ages, counts right now) */
	COL_INFO,		/* descriptive text or times */
};

struct metric_col {
	const char *name;
	const char *type;	/* central column type: "bigint", "text", "timestamptz", ... */
	enum col_kind kind;
};

/*
 * SQL for server_version_num in [min_version, max_version] (0: open end).
 * For METRIC_NEEDS_PGSS metrics, and metrics of an extension (ext), the
 * range is over the installed extension's version as major*100+minor
 * (1.10 = 110) instead: an extension's columns follow its version, which
 * pg_upgrade may leave older than the server.  The SQL may hold
 * placeholders the collector fills in (see catalog_expand): {pgss} the
 * extension's quoted schema, {ext} the quoted schema of the metric's own
 * extension, {limit} the query-stats-limit, {functions_limit},
 * {sessions_limit}, {exact_limit} and {exact_max_size} (bloat-exact-limit
 * and bloat-exact-max-size in bytes), and {where} the texts filter.
 */
struct metric_sql {
	int min_version;
	int max_version;
	const char *sql;	/* a SELECT yielding the canonical columns in order */
};

#define METRIC_NEEDS_PGSS 0x01u	/* only where pg_stat_statements is installed */
#define METRIC_LOW_CADENCE 0x02u /* not every cycle (settings, texts) */
#define METRIC_CUMULATIVE 0x04u	/* has COL_COUNTER columns: delta view */
#define METRIC_TEXTS 0x08u	/* the pg_stat_statements texts (texts-every) */
#define METRIC_SETTINGS 0x10u	/* pg_settings (settings-every, or when changed) */
#define METRIC_BLOAT 0x20u	/* heavy: every bloat-every cycles (bloat, tablespaces) */

#define CATALOG_MAX 128		/* metrics in the catalog, at most */
#define CATALOG_EXT_MAX 8	/* extensions metrics name, at most */

struct metric_def {
	const char *name;
	enum metric_scope scope;
	enum metric_source source;
	const struct metric_col *cols;
	size_t ncols;
	const struct metric_sql *sql;	/* METRIC_SQL only */
	size_t nsql;
	const char *reset_col;		/* stats_reset-like column, or NULL */
	unsigned flags;
	const char *doc;
	/*
	 * An extension the SQL needs (pg_stat_kcache, ...), or NULL.  Where it
	 * is not installed the metric has no block and no error.  A cluster
	 * metric of an extension holds cluster-wide data (shared memory): it
	 * runs once per target, in the first database that has the extension;
	 * a database metric runs in every database that has it.
	 */
	const char *ext;
	/*
	 * A boolean SQL expression (placeholders allowed, but not {ext}), or
	 * NULL: each session's snapshot query evaluates it, and where it is
	 * false (or NULL) the metric has no block and no error: a standby-only
	 * view on a primary, a function our role may not execute, a progress
	 * view with no command running in this database.  It must be valid on
	 * every server version the metric has SQL for, also where the
	 * extension is absent.  needs says the same in words (help, check).
	 * A database metric's condition may name {datid}, the database's oid:
	 * then it depends on nothing but the database, and where the cluster
	 * session lists the databases (dbname=*), it is evaluated there for
	 * all of them at once ({datid} a column), not in every database.
	 */
	const char *when;
	const char *needs;
};

/* All metrics; *n gets the count. */
const struct metric_def *catalog_all(size_t *n);
const struct metric_def *catalog_find(const char *name);
/* Every extension a metric of the catalog names (ext); its index, or -1. */
const char *const *catalog_extensions(size_t *n);
int catalog_ext_index(const char *name);
/* The SQL for a server version, or NULL if the metric does not exist there. */
const char *catalog_sql_for(const struct metric_def *m, int server_version_num);

/* "1.10" -> 110 (what METRIC_NEEDS_PGSS ranges use); -1 if unparsable. */
int catalog_pgss_version(const char *extversion);
/* An extension's version "2.2.1" or "2.2" -> 202 (what ext ranges use); -1 if unparsable. */
int catalog_ext_version(const char *extversion);

/* `pga help metrics`: every metric, its scope, versions, columns and doc. */
#include <stdio.h>
void catalog_print_doc(FILE *out);

/* Values for the placeholders of catalog SQL. */
struct catalog_vars {
	const char *pgss;		/* quoted schema of pg_stat_statements */
	const char *ext;		/* quoted schema of the metric's extension */
	long long limit;		/* query-stats-limit */
	long long functions_limit;
	long long sessions_limit;
	long long exact_limit;		/* bloat-exact-limit: 0 is allowed */
	long long exact_max_size;	/* bloat-exact-max-size in bytes */
	const char *where;		/* texts filter, "true" for all */
	const char *datid;		/* conditions: the database's oid (SQL) */
};

/*
 * Copy sql into buf with its placeholders replaced.  PGA_EINVAL (with
 * err filled, if err is not NULL) when it does not fit or a placeholder is
 * unknown or unset.  *len gets the expanded length.
 */
struct pga_err;
int catalog_expand(const char *sql, const struct catalog_vars *v, char *buf,
		   size_t cap, size_t *len, struct pga_err *err);

#endif
