/*
 * rq.c - the report's queries: templates, one runner, timing and --explain
 *
 * Every statement is built from a template of pga's own text; anything
 * that came from the user or the database is a $n parameter.  With
 * --explain each statement is first run under EXPLAIN (ANALYZE, BUFFERS)
 * and its plan written with its name, so the slow one can be found and its
 * use of the series indexes seen.
 */
#define _GNU_SOURCE
#include "report/report_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "common/log.h"
#include "common/pgutil.h"
#include "common/units.h"

static const char *
var_value(const char *const *vars, const char *name, size_t n)
{
	for (size_t i = 0; vars != NULL && vars[i] != NULL; i += 2)
		if (strlen(vars[i]) == n && memcmp(vars[i], name, n) == 0)
			return vars[i + 1];
	return NULL;
}

/* One pass over tmpl: "{X}" from vars (vars NULL: left as is) or "@s@" (schema NULL: left). */
static int
expand_pass(const char *tmpl, const char *const *vars, const char *schema, char *buf,
	    size_t cap, struct pga_err *err)
{
	size_t o = 0;

	for (const char *p = tmpl; *p; p++) {
		const char *val = NULL, *close = NULL;
		size_t n = 1;

		if (schema != NULL && p[0] == '@' && strncmp(p, "@s@", 3) == 0) {
			val = schema;
			p += 2;
		} else if (vars != NULL && p[0] == '{' && (close = strchr(p, '}')) != NULL &&
			   (size_t)(close - p) < 16 && close > p + 1 &&
			   strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == (size_t)(close - p - 1)) {
			val = var_value(vars, p + 1, (size_t)(close - p - 1));
			if (val == NULL)
				return pga_fail(err, PGA_EINTERNAL, "report query: no value for '%.*s'",
						(int)(close - p + 1), p);
			p = close;
		}
		if (val != NULL)
			n = strlen(val);
		else
			val = p;
		if (o + n >= cap)
			return pga_fail(err, PGA_EINTERNAL, "report query longer than %zu bytes", cap);
		memcpy(buf + o, val, n);
		o += n;
	}
	buf[o] = '\0';
	return 0;
}

int
rq_expand(const struct rq *q, const char *tmpl, const char *const *vars, char *buf,
	  size_t cap, struct pga_err *err)
{
	char *tmp;
	int rc;

	if (vars == NULL)
		return expand_pass(tmpl, NULL, q->qschema, buf, cap, err);
	/* the variables first: their values may name the schema too */
	tmp = malloc(cap);
	if (tmp == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = expand_pass(tmpl, vars, NULL, tmp, cap, err);
	if (rc == 0)
		rc = expand_pass(tmp, NULL, q->qschema, buf, cap, err);
	free(tmp);
	return rc;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
explain(struct rq *q, const char *name, const char *sql, int nparams,
	const char *const *params)
{
	char *ex = NULL;
	PGresult *r;

	if (asprintf(&ex, "EXPLAIN (ANALYZE, BUFFERS) %s", sql) < 0)
		return;
	r = PQexecParams(q->conn, ex, nparams, NULL, params, NULL, NULL, 0);
	fprintf(q->explain, "-- %s\n", name);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		for (int i = 0; i < PQntuples(r); i++)
			fprintf(q->explain, "%s\n", PQgetvalue(r, i, 0));
	else
		fprintf(q->explain, "(explain failed: %s)\n", PQresultErrorMessage(r));
	fprintf(q->explain, "\n");
	PQclear(r);
	free(ex);
	/* a failed EXPLAIN aborted nothing: the report runs outside a failed state */
	if (PQtransactionStatus(q->conn) == PQTRANS_INERROR)
		PQclear(PQexec(q->conn, "ROLLBACK TO SAVEPOINT report"));
}

int
rq_exec(struct rq *q, const char *name, const char *tmpl, const char *const *vars,
	int nparams, const char *const *params, PGresult **res, struct pga_err *err)
{
	char *sql = malloc(RQ_SQL_MAX);
	double t0, dt;
	int rc;

	*res = NULL;
	if (sql == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = rq_expand(q, tmpl, vars, sql, RQ_SQL_MAX, err);
	if (rc == 0 && q->explain != NULL)
		explain(q, name, sql, nparams, params);
	t0 = mono_s();
	if (rc == 0)
		*res = PQexecParams(q->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	dt = mono_s() - t0;
	if (rc == 0 && PQresultStatus(*res) != PGRES_TUPLES_OK &&
	    PQresultStatus(*res) != PGRES_COMMAND_OK) {
		char what[96];

		snprintf(what, sizeof(what), "report query '%s'", name);
		rc = pga_pg_fail(err, q->conn, *res, what);
		PQclear(*res);
		*res = NULL;
		/* the transaction goes on: each query runs after a savepoint */
		if (PQtransactionStatus(q->conn) == PQTRANS_INERROR)
			PQclear(PQexec(q->conn, "ROLLBACK TO SAVEPOINT report"));
	}
	q->queries++;
	q->seconds += dt;
	if (dt > q->slowest_seconds) {
		q->slowest_seconds = dt;
		strlcpy(q->slowest, name, sizeof(q->slowest));
	}
	log_debug("report query '%s': %.1f ms%s", name, dt * 1000, rc < 0 ? " (failed)" : "");
	free(sql);
	return rc;
}

int
rq_exists(struct rq *q, const char *table, bool *exists, struct pga_err *err)
{
	const char *params[2] = {table, q->schema};
	PGresult *r = NULL;
	int rc = rq_exec(q, "exists", "SELECT to_regclass(quote_ident($2) || '.' || quote_ident($1))"
			 " IS NOT NULL", NULL, 2, params, &r, err);

	*exists = rc == 0 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	return rc;
}

int64_t
rq_i64(const PGresult *r, int row, int col, int64_t dflt)
{
	return PQgetisnull(r, row, col) ? dflt : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double
rq_f64(const PGresult *r, int row, int col, double dflt)
{
	return PQgetisnull(r, row, col) ? dflt : strtod(PQgetvalue(r, row, col), NULL);
}

const char *
rq_str(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

void
rq_time(int64_t us, char *buf, size_t cap)
{
	time_t s = (time_t)(us / PGA_USEC_PER_SEC);
	long frac = (long)(us % PGA_USEC_PER_SEC);
	struct tm tm;
	size_t n;

	if (frac < 0) {
		frac += PGA_USEC_PER_SEC;
		s--;
	}
	gmtime_r(&s, &tm);
	n = strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%06ld+00", frac);
}
