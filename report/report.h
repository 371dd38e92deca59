/*
 * report.h - `pga report`: one self-contained HTML page from the central
 * database
 *
 * What the page holds, for a window [since, until] (default: the last 24
 * hours), every collector and server unless filtered:
 *   - collectors: host, last snapshot and lag, segments, gaps, refused
 *     (unresolved quarantine);
 *   - per server (one section per collector and server pair): its
 *     snapshots, gaps and counter resets in the window; charts of
 *     transactions/s, cache hit ratio, tuples read and written, WAL
 *     bytes/s, checkpoints timed and requested, replication lag and slot
 *     retention, connections by state, the longest transaction, XID age
 *     and database size; the largest tables; top statements by total
 *     time, calls, mean time, rows and blocks read, each with a sparkline
 *     and its text; tables by sequential scans, dead tuples and vacuum
 *     age; unused and duplicate indexes; settings changed in the window;
 *     server log errors by SQLSTATE where the csvlog is collected.
 *   Where data is missing (an empty database or window, a metric not
 *   collected, a gap) the page says so; nothing is drawn that the data
 *   does not hold.
 *
 * Self-contained: no external asset, no server.  Charts are inline SVG
 * drawn by pga; the page reads the same with JavaScript off.  One inline
 * script (table sorting) and one inline style sheet are allowed by a
 * Content-Security-Policy naming their SHA-256 hashes, with default-src
 * 'none': nothing else runs and nothing is fetched.  Everything that came
 * from a server is escaped for its context (report/html.h).  pga's own
 * statements (their text has PGA_SQL_MARK after its first word, which the
 * collector puts on every statement it sends) are left out of every
 * ranking.
 *
 * How numbers are computed: counters are sampled at the last snapshot of
 * each of at most `points` buckets of the window (every snapshot when
 * there are no more than that), and each value is the difference from the
 * sample before, with the delta views' rule for resets (a counter lower
 * than before, or its reset column changed: the value counts from zero).
 * Sampling reads (series x points) rows through the series indexes instead
 * of every row of the window: the delta views themselves compute over a
 * series' whole history, a filter on time applying only after their window
 * function (load/SCHEMA.md), which over months of retention would read
 * months for a day's report.  A reset inside a bucket loses that bucket's
 * counts before the reset, never more, and never gives a negative rate.
 * Gauges (connections, ages, lags) are the maximum over each bucket.
 *
 * Memory: the page is streamed to the output as it is made; each query
 * returns a bounded number of rows (points x series, top N, capped lists),
 * texts are cut at REPORT_TEXT_MAX.  The output is written to a temporary
 * file beside it (mode 0600: query texts may be sensitive), fsync'd and
 * renamed into place, so a failed run never leaves a half page; "-" writes
 * to standard output instead.
 *
 * Errors: 0 or a negative PGA_E* code with err filled.  A database without
 * the central schema is an error; an empty one is a page saying so.
 */
#ifndef PGA_REPORT_H
#define PGA_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The comment the collector puts after the first word of every statement
 * it sends (collect/cpg.h), and the pattern report queries match texts
 * against: "COPY", the comment, then the rest.
 */
#define PGA_SQL_MARK "/* pga */"
#define PGA_SQL_MARK_RE "^[[:alpha:]_]+ /\\* pga \\*/"

#define REPORT_POINTS_DEFAULT 120
#define REPORT_POINTS_MAX 240
#define REPORT_TOP_DEFAULT 10
#define REPORT_TOP_MAX 100
#define REPORT_FILTER_MAX 64		/* --collector / --server values */
#define REPORT_SERVERS_MAX 1000		/* server sections in one page */
#define REPORT_TEXT_MAX 262144		/* characters of a statement shown in full */
#define REPORT_TEXT_MAX_S "262144"

struct report_opts {
	const char *conninfo;
	const char *schema;		/* NULL: "pga" */
	const char *out;		/* path, or "-" for standard output */
	int64_t since, until;		/* microseconds; INT64_MIN / INT64_MAX: default */
	const char *collectors[REPORT_FILTER_MAX];	/* collector names */
	size_t ncollectors;
	const char *servers[REPORT_FILTER_MAX];	/* server_id numbers or target names */
	size_t nservers;
	int top;			/* 0: REPORT_TOP_DEFAULT */
	int points;			/* 0: REPORT_POINTS_DEFAULT */
	const char *explain;		/* write each query's plan and time there, or NULL */
};

struct report_summary {
	uint64_t bytes;			/* size of the page */
	int servers;			/* server sections */
	int charts;			/* charts drawn */
	int64_t since, until;		/* the window used */
	int queries;
	double query_seconds;		/* time in the central database */
	char slowest[64];		/* name of the slowest query */
	double slowest_seconds;
	bool failed;			/* a section could not be computed (the page says which) */
};

int report_write(const struct report_opts *o, struct report_summary *sum, struct pga_err *err);

#endif
