/*
 * report_int.h - what the parts of the report share (not for other parts)
 *
 *   rq.c        the connection, SQL templates and the query runner
 *   grid.c      a server's sample times in the window
 *   page.c      the page frame: head, style, script, CSP, section headings
 *   sect_*.c    one file per part of the page
 *   report.c    report_write(): output file, connection, the sections in order
 */
#ifndef PGA_REPORT_INT_H
#define PGA_REPORT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "common/err.h"
#include "report/chart.h"
#include "report/html.h"
#include "report/report.h"

/* ---- rq.c: queries ---- */

#define RQ_SQL_MAX 32768	/* an expanded statement */

struct rq {
	PGconn *conn;
	const char *schema;	/* as given */
	char qschema[132];	/* quoted */
	FILE *explain;		/* plans go here when asked */
	int queries;
	double seconds, slowest_seconds;
	char slowest[64];
	bool failed;		/* a query failed: its section said so */
};

/*
 * Expand tmpl into a statement: "@s@" is the quoted schema, "{X}" the value
 * of X in vars (a NULL-terminated list of name, value pairs; values are
 * pga's own SQL fragments, never data: data goes in as $n parameters).
 * Then run it with params (text; NULL is SQL NULL).  name says which
 * query, for --explain and the timing.  On error res is NULL.
 */
int rq_exec(struct rq *q, const char *name, const char *tmpl, const char *const *vars,
	    int nparams, const char *const *params, PGresult **res, struct pga_err *err);
/* Expand only (for tests and --explain). */
int rq_expand(const struct rq *q, const char *tmpl, const char *const *vars, char *buf,
	      size_t cap, struct pga_err *err);

/* Whether schema.table (a table or view) exists. */
int rq_exists(struct rq *q, const char *table, bool *exists, struct pga_err *err);

/* Value helpers over a result (NULL reads as the default). */
int64_t rq_i64(const PGresult *r, int row, int col, int64_t dflt);
double rq_f64(const PGresult *r, int row, int col, double dflt);
const char *rq_str(const PGresult *r, int row, int col);	/* NULL when SQL NULL */

/* A time as a timestamptz literal PostgreSQL reads exactly (buf >= 40). */
void rq_time(int64_t us, char *buf, size_t cap);
/* The SQL expression for microseconds since the epoch of x. */
#define RQ_US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"

/* ---- grid.c: sample times ---- */

/*
 * The times counters are sampled at, for one collector and server: every
 * snapshot of the window when there are at most `points`, else the last
 * snapshot of each of `points` equal buckets (at least two snapshot
 * intervals wide, so only a real gap leaves a bucket empty).  t[0] is the
 * last snapshot at or before the window's start when there is one (the
 * base of the first difference; before0 says so).  brk[i]: a gap lies
 * between t[i-1] and t[i] (an empty bucket, or more than 2.5 snapshot
 * intervals), so a line breaks there.
 */
struct grid {
	int n;
	int64_t t[CHART_POINTS_MAX];
	bool brk[CHART_POINTS_MAX];
	bool before0;
	bool bucketed;
	int64_t step;		/* median snapshot interval in the window, µs */
	int64_t width;		/* bucket width when bucketed */
	int64_t snapshots;	/* snapshots in the window */
	char arr[CHART_POINTS_MAX * 36 + 4];	/* t[] as a timestamptz[] literal */
	char source[64];	/* the table the times came from */
};

struct rsrv;
struct rctx;
/* The grid of server v from table (snapshot_status when the server has it). */
int grid_build(struct rctx *x, const struct rsrv *v, const char *table, bool per_db,
	       struct grid *g, struct pga_err *err);
/*
 * The grid for a metric of server v: v's own when it has snapshot_status
 * rows, else one built from table (kept in x->g for the next call); NULL
 * when there is nothing in the window (or on error, then err is set).
 */
const struct grid *server_grid(struct rctx *x, const struct rsrv *v, const char *table,
			       bool per_db, struct pga_err *err);
/* The x axis of g's charts: its first snapshot in the window to its last. */
void grid_span(const struct rctx *x, const struct grid *g, int64_t *a, int64_t *b);
/* Set g->arr from g->t[0..n): the times as a timestamptz[] literal. */
void grid_literal(struct grid *g);

/* ---- the report's state ---- */

struct rsrv {
	int cid, sid;
	char collector[128], target[256], host[256], sysid[24];
	int port, version;
	bool has_status;		/* snapshot_status rows in the window */
	struct grid *grid;		/* from snapshot_status, when has_status; the one
					   buffer of the server being written */
};

struct rctx {
	struct rq q;
	struct html *h;
	const struct report_opts *o;
	int64_t since, until, now;	/* the window, microseconds */
	char since_s[40], until_s[40];	/* as timestamptz literals */
	int points, top;
	char collectors_arr[2048];	/* collector ids as an int[] literal, "" for all */
	struct chart *chart;		/* scratch, reused by every chart */
	struct grid *g;			/* scratch grid for metrics without snapshot_status */
	struct grid *sg;		/* the current server's grid (rsrv.grid) */
	int charts;
	char prefix[32];		/* element id prefix of the current server */
};

/* A section that could not be made says so in the page; the run goes on. */
void sect_failed(struct rctx *x, const char *what, const struct pga_err *err);
/* <p class="nodata"> with pga's message. */
void sect_nodata(struct rctx *x, const char *msg);

/* ---- page.c ---- */

void page_head(struct rctx *x);
void page_foot(struct rctx *x, const struct report_summary *sum);
/* The sortable-table script and style hashes are computed here. */

/* ---- the sections ---- */

int sect_collectors(struct rctx *x, struct pga_err *err);
/* Servers with data in the window, in order; *n of them (heap, caller frees). */
int sect_servers_list(struct rctx *x, struct rsrv **out, int *n, struct pga_err *err);
void sect_server_head(struct rctx *x, struct rsrv *v);
void sect_server_charts(struct rctx *x, struct rsrv *v);
void sect_statements(struct rctx *x, struct rsrv *v);
void sect_tables(struct rctx *x, struct rsrv *v);
void sect_indexes(struct rctx *x, struct rsrv *v);
void sect_settings(struct rctx *x, struct rsrv *v);
void sect_logs(struct rctx *x, struct rsrv *v);

#endif
