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
 * For METRIC_NEEDS_PGSS metrics the range is over the installed extension's
 * version as major*100+minor (1.10 = 110) instead: pg_stat_statements'
 * columns follow the extension, which pg_upgrade may leave older than the
 * server.  The SQL may hold placeholders the collector fills in (see
 * catalog_expand): {pgss} the extension's quoted schema, {limit} the
 * query-stats-limit, {functions_limit}, and {where} the texts filter.
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
};

/* All metrics; *n gets the count. */
const struct metric_def *catalog_all(size_t *n);
const struct metric_def *catalog_find(const char *name);
/* The SQL for a server version, or NULL if the metric does not exist there. */
const char *catalog_sql_for(const struct metric_def *m, int server_version_num);

/* "1.10" -> 110 (what METRIC_NEEDS_PGSS ranges use); -1 if unparsable. */
int catalog_pgss_version(const char *extversion);

/* `pga help metrics`: every metric, its scope, versions, columns and doc. */
#include <stdio.h>
void catalog_print_doc(FILE *out);

/* Values for the placeholders of catalog SQL. */
struct catalog_vars {
	const char *pgss;		/* quoted schema of pg_stat_statements */
	long long limit;		/* query-stats-limit */
	long long functions_limit;
	const char *where;		/* texts filter, "true" for all */
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
