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

/* SQL for server_version_num in [min_version, max_version] (0: open end). */
struct metric_sql {
	int min_version;
	int max_version;
	const char *sql;	/* a SELECT yielding the canonical columns in order */
};

#define METRIC_NEEDS_PGSS 0x01u	/* only where pg_stat_statements is installed */
#define METRIC_LOW_CADENCE 0x02u /* not every cycle (settings, texts) */
#define METRIC_CUMULATIVE 0x04u	/* has COL_COUNTER columns: delta view */

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

#endif
