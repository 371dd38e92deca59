/*
 * sample.h - counters sampled at a grid's times (the statement is
 * described in sample.c)
 */
#ifndef PGA_REPORT_SAMPLE_H
#define PGA_REPORT_SAMPLE_H

#include "report/report_int.h"

#define SAMPLE_EXTRA_MAX 4

/*
 * Column lists are comma-separated names of pga's own (never data).  The
 * tail is the SELECT over d, which has per sample: dbname, the keys, k
 * (the grid index, 1-based), ts, the columns, l_ts, l_k (the sample
 * before), rst, e (seconds since the sample before) and d_<counter> for
 * each counter.
 */
struct sample_spec {
	const char *name;	/* for timing and --explain */
	const char *table;
	bool per_db;		/* dbname set (per-database metric) or NULL */
	const char *keys;	/* series key columns after dbname, "" for none */
	const char *extra;	/* " AND x.col ..." on every probe, or NULL */
	const char *null_key;	/* a key NULL in every row of this walk, or NULL */
	const char *cols;	/* select list over x at each sample: "x.a, x.b - x.c AS d" */
	const char *counters;	/* names of cols that are counters ("" for none) */
	const char *reset;	/* reset column (in cols), or NULL */
	const char *tail;
	bool keep_first;	/* d keeps each series' first sample (l_ts NULL) */
};

int sample_sql(const struct sample_spec *s, char *buf, size_t cap, struct pga_err *err);
int sample_query(struct rctx *x, const struct rsrv *v, const struct grid *g,
		 const struct sample_spec *s, int nextra, const char *const *extra, PGresult **res,
		 struct pga_err *err);

#endif
