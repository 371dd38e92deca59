/*
 * report.c - report_write(): the steps of report.h's contract
 *
 *   open the output (a temporary file beside it), connect, one
 *   REPEATABLE READ transaction so every section sees the same data,
 *   resolve the window and the filters, then the page front to back:
 *   head, collectors, the servers with data in the window and, for each,
 *   its heading, charts, statements, tables, indexes, settings and log
 *   errors; then the foot, and the file made durable and renamed.
 */
#define _GNU_SOURCE
#include "report/report_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/pgutil.h"
#include "common/units.h"

#define DAY_US (86400 * PGA_USEC_PER_SEC)

struct output {
	int fd;
	char tmp[4096];
	bool is_stdout;
};

/* The page's bytes to the output, with write(2): 0 or errno. */
static int
write_sink(void *ctx, const char *buf, size_t len)
{
	struct output *o = ctx;

	while (len > 0) {
		ssize_t n = write(o->fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
output_open(struct output *o, const char *path, struct pga_err *err)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
		o->is_stdout = true;
		return 0;
	}
	if (pga_path(o->tmp, sizeof(o->tmp), err, "%s.tmp-%ld", path, (long)getpid()) < 0)
		return err->code;
	/* 0600: query texts and log messages may hold what others should not read */
	o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (o->fd < 0)
		return pga_fail(err, pga_errno_code(errno) == PGA_ENOSPC ? PGA_ENOSPC : PGA_EIO,
				"could not create '%s': %m", o->tmp);
	return 0;
}

/* fsync and rename into place; on failure the temporary file goes. */
static int
output_close(struct output *o, const char *path, int rc, struct pga_err *err)
{
	if (o->fd < 0 || o->is_stdout)
		return rc;
	if (rc == 0)
		rc = pga_fsync_fd(o->fd, o->tmp, err);
	if (close(o->fd) != 0 && rc == 0)
		rc = pga_fail(err, pga_errno_code(errno), "could not write '%s': %m", o->tmp);
	o->fd = -1;
	if (rc == 0)
		rc = pga_rename_durable(o->tmp, path, err);
	if (rc < 0)
		unlink(o->tmp);
	return rc;
}

static int
tx_begin(struct rctx *x, struct pga_err *err)
{
	static const char *const steps[] = {
		/* one snapshot of the data for every section */
		"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
		/* index probes: compiling them costs more than running them */
		"SET LOCAL jit = off",
		"SAVEPOINT report",
		NULL,
	};
	int rc = 0;

	for (int i = 0; rc == 0 && steps[i] != NULL; i++)
		rc = pga_pg_exec(x->q.conn, steps[i], err);
	return rc;
}

static int
connect_db(struct rctx *x, const struct report_opts *o, struct pga_err *err)
{
	struct pga_connect_opts co = {.application_name = "pga report"};
	const char *schema = o->schema ? o->schema : "pga";
	const char *p[1] = {schema};
	PGresult *r = NULL;
	int rc = pga_pg_connect(&x->q.conn, o->conninfo, &co, err);

	if (rc == 0 && PQsetClientEncoding(x->q.conn, "UTF8") != 0)
		rc = pga_fail(err, PGA_EDB, "could not set client_encoding UTF8");
	x->q.schema = schema;
	if (rc == 0)
		rc = pga_pg_quote_ident(schema, x->q.qschema, sizeof(x->q.qschema), err);
	if (rc == 0)
		rc = tx_begin(x, err);
	if (rc == 0)
		rc = rq_exec(&x->q, "schema", "SELECT to_regclass(quote_ident($1) || '.collectors')"
			     " IS NOT NULL AND to_regclass(quote_ident($1) || '.segments') IS NOT NULL",
			     NULL, 1, p, &r, err);
	if (rc == 0 && strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		rc = pga_fail(err, PGA_ENOTFOUND, "no central schema '%s' in this database:"
			      " check --db and --schema, or create it with 'pga load --init'", schema);
	PQclear(r);
	return rc;
}

/* --collector names to ids; a name the database does not know is an error. */
static int
resolve_collectors(struct rctx *x, const struct report_opts *o, struct pga_err *err)
{
	size_t n = 0;

	x->collectors_arr[0] = '\0';
	for (size_t i = 0; i < o->ncollectors; i++) {
		const char *p[1] = {o->collectors[i]};
		PGresult *r = NULL;
		int rc = rq_exec(&x->q, "collector", "SELECT collector_id FROM @s@.collectors"
				 " WHERE collector = $1", NULL, 1, p, &r, err);

		if (rc == 0 && PQntuples(r) != 1)
			rc = pga_fail(err, PGA_ENOTFOUND, "no collector '%s' in the central database",
				      o->collectors[i]);
		if (rc == 0)
			n += (size_t)snprintf(x->collectors_arr + n, sizeof(x->collectors_arr) - n,
					      "%s%s", n ? "," : "{", PQgetvalue(r, 0, 0));
		PQclear(r);
		if (rc < 0)
			return rc;
	}
	if (n > 0)
		strlcat(x->collectors_arr, "}", sizeof(x->collectors_arr));
	for (size_t i = 0; i < o->nservers; i++) {
		const char *p[1] = {o->servers[i]};
		PGresult *r = NULL;
		int rc = rq_exec(&x->q, "server", "SELECT 1 FROM @s@.servers WHERE server_id::text = $1"
				 " OR target = $1 OR host = $1 LIMIT 1", NULL, 1, p, &r, err);

		if (rc == 0 && PQntuples(r) != 1)
			rc = pga_fail(err, PGA_ENOTFOUND, "no server '%s' in the central database"
				      " (give a server id, target name or host)", o->servers[i]);
		PQclear(r);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Nothing in the window: say where the data is. */
static void
empty_window(struct rctx *x)
{
	PGresult *r = NULL;
	struct pga_err err = {0};
	char t[40], msg[256];
	const char *p[1] = {*x->collectors_arr ? x->collectors_arr : NULL};

	if (rq_exec(&x->q, "newest snapshot", "SELECT " RQ_US("max(max_snapshot)") ","
		    RQ_US("min(min_snapshot)") " FROM @s@.segments WHERE $1::int[] IS NULL"
		    " OR collector_id = ANY($1::int[])", NULL, 1, p, &r, &err) < 0) {
		sect_failed(x, "the newest snapshot", &err);
		return;
	}
	if (PQgetisnull(r, 0, 0)) {
		snprintf(msg, sizeof(msg), "The central database holds no snapshot%s yet.",
			 x->o->ncollectors ? " of these collectors" : "");
	} else {
		char first[40];

		fmt_time(rq_i64(r, 0, 0, 0), t, sizeof(t));
		fmt_time(rq_i64(r, 0, 1, 0), first, sizeof(first));
		snprintf(msg, sizeof(msg), "No server has data in this window%s. The central"
			 " database holds snapshots from %s to %s: choose a window with --since and"
			 " --until.", x->o->nservers ? " that matches --server" : "", first, t);
	}
	html_raw(x->h, "<section id=\"empty\">");
	sect_nodata(x, msg);
	html_raw(x->h, "</section>\n");
	PQclear(r);
}

static void
nav(struct rctx *x, const struct rsrv *v, int n)
{
	html_raw(x->h, "<nav><h2>Servers</h2><ul>\n");
	for (int i = 0; i < n; i++) {
		html_fmt(x->h, "<li><a href=\"#s%d-%d\">", v[i].cid, v[i].sid);
		html_text(x->h, *v[i].target ? v[i].target : v[i].host);
		html_raw(x->h, "</a> <span class=\"sub\">");
		if (*v[i].host) {
			html_text(x->h, v[i].host);
			html_fmt(x->h, ":%d ", v[i].port);
		}
		html_raw(x->h, "via ");
		html_text(x->h, v[i].collector);
		html_raw(x->h, "</span></li>\n");
	}
	html_raw(x->h, "</ul></nav>\n");
}

static void
server_section(struct rctx *x, struct rsrv *v)
{
	struct pga_err err = {0};

	v->grid = x->sg;
	memset(v->grid, 0, sizeof(*v->grid));

	if (v->has_status && grid_build(x, v, "snapshot_status", false, v->grid, &err) < 0) {
		sect_failed(x, "the snapshot times", &err);
		v->has_status = false;
	}
	x->g->source[0] = '\0';
	sect_server_head(x, v);
	sect_server_charts(x, v);
	sect_statements(x, v);
	html_fmt(x->h, "<h3 id=\"%s-tables\">Tables</h3>\n", x->prefix);
	sect_tables(x, v);
	sect_indexes(x, v);
	sect_settings(x, v);
	sect_logs(x, v);
	html_raw(x->h, "</section>\n");
}

static int
resolve_window(struct rctx *x, const struct report_opts *o, struct pga_err *err)
{
	x->now = pga_now_us();
	x->until = o->until != INT64_MAX ? o->until : x->now;
	x->since = o->since != INT64_MIN ? o->since : x->until - DAY_US;
	if (x->since >= x->until)
		return pga_fail(err, PGA_EINVAL, "--since must be before --until");
	rq_time(x->since, x->since_s, sizeof(x->since_s));
	rq_time(x->until, x->until_s, sizeof(x->until_s));
	x->points = o->points > 0 ? o->points : REPORT_POINTS_DEFAULT;
	if (x->points > REPORT_POINTS_MAX)
		x->points = REPORT_POINTS_MAX;
	x->top = o->top > 0 ? o->top : REPORT_TOP_DEFAULT;
	if (x->top > REPORT_TOP_MAX)
		x->top = REPORT_TOP_MAX;
	return 0;
}

static int
write_page(struct rctx *x, struct report_summary *sum, struct pga_err *err)
{
	struct rsrv *v = NULL;
	int n = 0, rc;

	page_head(x);
	rc = sect_collectors(x, err);
	if (rc == 0)
		rc = sect_servers_list(x, &v, &n, err);
	if (rc < 0)
		return rc;
	if (n == 0)
		empty_window(x);
	else
		nav(x, v, n);
	for (int i = 0; i < n && x->h->fail == 0; i++)
		server_section(x, &v[i]);
	sum->servers = n;
	sum->charts = x->charts;
	page_foot(x, sum);
	free(v);
	return 0;
}

int
report_write(const struct report_opts *o, struct report_summary *sum, struct pga_err *err)
{
	struct rctx x;
	struct output out = {.fd = -1};
	int rc;

	memset(&x, 0, sizeof(x));
	memset(sum, 0, sizeof(*sum));
	x.o = o;
	x.h = calloc(1, sizeof(*x.h));
	x.chart = malloc(sizeof(*x.chart));
	x.g = malloc(sizeof(*x.g));
	x.sg = malloc(sizeof(*x.sg));
	if (x.h == NULL || x.chart == NULL || x.g == NULL || x.sg == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		goto out;
	}
	x.g->source[0] = '\0';
	rc = resolve_window(&x, o, err);
	if (rc == 0)
		rc = connect_db(&x, o, err);
	if (rc == 0 && o->explain != NULL && (x.q.explain = fopen(o->explain, "we")) == NULL)
		rc = pga_fail(err, PGA_EIO, "could not open '%s': %m", o->explain);
	if (rc == 0)
		rc = resolve_collectors(&x, o, err);
	if (rc == 0)
		rc = output_open(&out, o->out, err);
	if (rc == 0) {
		html_init(x.h, write_sink, &out);
		rc = write_page(&x, sum, err);
	}
	if (rc == 0)
		rc = html_check(x.h, out.is_stdout ? "standard output" : out.tmp, err);
	rc = output_close(&out, o->out, rc, err);
	sum->bytes = x.h->bytes;
	sum->since = x.since;
	sum->until = x.until;
	sum->queries = x.q.queries;
	sum->query_seconds = x.q.seconds;
	sum->slowest_seconds = x.q.slowest_seconds;
	strlcpy(sum->slowest, x.q.slowest, sizeof(sum->slowest));
	sum->failed = x.q.failed;
out:
	if (x.q.explain != NULL)
		fclose(x.q.explain);
	PQfinish(x.q.conn);
	free(x.h);
	free(x.chart);
	free(x.g);
	free(x.sg);
	return rc;
}
