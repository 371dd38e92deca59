/* libpq with deadlines: non-blocking connect and reads, poll(2) in slices. */
#include "collect/cpg.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <bsd/string.h>

#include "common/cli.h"
#include "common/pgutil.h"
#include "common/units.h"

/* Longest single poll, so a stop request is seen within this time. */
#define CPG_SLICE_US 200000

int64_t
cpg_left(int64_t deadline)
{
	int64_t left = deadline - pga_mono_us();

	return left > 0 ? left : 0;
}

static int
cpg_wait(PGconn *conn, bool for_write, int64_t deadline, const char *what,
	 struct pga_err *err)
{
	for (;;) {
		struct pollfd p = {.fd = PQsocket(conn),
				   .events = for_write ? POLLOUT : POLLIN};
		int64_t left = cpg_left(deadline);
		int r;

		if (pga_stop_requested())
			return pga_fail(err, PGA_ECANCEL, "%s: interrupted", what);
		if (left <= 0)
			return pga_fail(err, PGA_ETIMEOUT, "%s: deadline exceeded", what);
		if (p.fd < 0)
			return pga_fail(err, PGA_ENET, "%s: connection has no socket", what);
		if (left > CPG_SLICE_US)
			left = CPG_SLICE_US;
		r = poll(&p, 1, (int)((left + 999) / 1000));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return pga_fail(err, PGA_ENET, "%s: poll failed: %m", what);
	}
}

static void
first_line(char *s)
{
	size_t n;

	s[strcspn(s, "\n")] = '\0';
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int
connect_failed(struct pga_err *err, PGconn *conn, const char *conninfo,
	       const char *dbname, int rc)
{
	char where[512], msg[PGA_ERR_MSG_MAX];

	pga_conninfo_redact(conninfo, where, sizeof(where));
	if (rc == PGA_ETIMEOUT || rc == PGA_ECANCEL)
		strlcpy(msg, rc == PGA_ETIMEOUT ? "no answer before the deadline" :
			"interrupted", sizeof(msg));
	else
		strlcpy(msg, conn ? PQerrorMessage(conn) : "out of memory", sizeof(msg));
	first_line(msg);
	return pga_fail(err, rc == 0 ? PGA_ENET : rc, "could not connect to '%s'%s%s%s: %s",
			where, dbname ? " database '" : "", dbname ? dbname : "",
			dbname ? "'" : "", msg);
}

int
cpg_connect(PGconn **out, const char *conninfo, const char *dbname,
	    int64_t deadline, struct pga_err *err)
{
	const char *keys[5], *vals[5];
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	PGconn *conn;
	int n = 0, rc = 0;

	*out = NULL;
	keys[n] = "dbname";
	vals[n++] = conninfo;
	keys[n] = "application_name";
	vals[n++] = "pga";
	/* the server converts from the database's encoding; after the
	 * conninfo, so it wins over a client_encoding given there */
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	if (dbname != NULL) {
		keys[n] = "dbname";
		vals[n++] = dbname;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	conn = PQconnectStartParams(keys, vals, 1);
	while (conn != NULL && PQstatus(conn) != CONNECTION_BAD &&
	       st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		rc = cpg_wait(conn, st == PGRES_POLLING_WRITING, deadline, "connect", err);
		if (rc < 0)
			break;
		st = PQconnectPoll(conn);
	}
	if (conn == NULL || st != PGRES_POLLING_OK || rc < 0) {
		rc = connect_failed(err, conn, conninfo, dbname, rc);
		PQfinish(conn);
		return rc;
	}
	*out = conn;
	return 0;
}

/* The next result, waiting for it without blocking past the deadline. */
static int
next_result(PGconn *conn, int64_t deadline, PGresult **res, struct pga_err *err)
{
	*res = NULL;
	while (PQisBusy(conn)) {
		int rc = cpg_wait(conn, false, deadline, "query", err);

		if (rc < 0)
			return rc;
		if (!PQconsumeInput(conn))
			return pga_pg_fail(err, conn, NULL, "query");
	}
	*res = PQgetResult(conn);
	return 0;
}

int
cpg_exec(PGconn *conn, const char *sql, int64_t deadline, PGresult **res,
	 int max, int *n, struct pga_err *err)
{
	int first = 0, rc = 0;

	*n = 0;
	if (!PQsendQuery(conn, sql))
		return pga_pg_fail(err, conn, NULL, "query");
	for (;;) {
		PGresult *r;
		ExecStatusType st;

		rc = next_result(conn, deadline, &r, err);
		if (rc < 0 || r == NULL)
			break;
		st = PQresultStatus(r);
		if (st == PGRES_TUPLES_OK && *n < max) {
			res[(*n)++] = r;
			continue;
		}
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && first == 0)
			first = pga_pg_fail(err, conn, r, "query");
		PQclear(r);
	}
	if (rc == 0)
		rc = first;
	if (rc < 0) {
		while (*n > 0)
			PQclear(res[--*n]);
	}
	return rc;
}

/* Forward COPY data until the end of the COPY. */
static int
copy_rows(PGconn *conn, int64_t deadline, cpg_sink_fn sink, void *ctx,
	  uint64_t *bytes, struct pga_err *err)
{
	int sink_rc = 0;
	unsigned rows = 0;

	for (;;) {
		char *buf = NULL;
		int len = PQgetCopyData(conn, &buf, 1);
		int rc;

		if (len > 0) {
			if (sink_rc == 0) {
				sink_rc = sink(ctx, buf, (size_t)len, err);
				*bytes += (uint64_t)len;
			}
			PQfreemem(buf);
			if ((++rows & 1023) == 0 && pga_stop_requested())
				return pga_fail(err, PGA_ECANCEL, "copy: interrupted");
			continue;
		}
		if (len == -1)
			return sink_rc;
		if (len < -1)
			return pga_pg_fail(err, conn, NULL, "copy");
		rc = cpg_wait(conn, false, deadline, "copy", err);
		if (rc < 0)
			return rc;
		if (!PQconsumeInput(conn))
			return pga_pg_fail(err, conn, NULL, "copy");
	}
}

static bool
conn_level(int rc)
{
	return rc == PGA_ETIMEOUT || rc == PGA_ECANCEL || rc == PGA_ENET;
}

int
cpg_copy(PGconn *conn, const char *sql, int64_t deadline, cpg_sink_fn sink,
	 void *ctx, uint64_t *bytes, struct pga_err *err)
{
	int first = 0, rc = 0;

	*bytes = 0;
	if (!PQsendQuery(conn, sql))
		return pga_pg_fail(err, conn, NULL, "query");
	for (;;) {
		PGresult *r;
		ExecStatusType st;

		rc = next_result(conn, deadline, &r, err);
		if (rc < 0 || r == NULL)
			break;
		st = PQresultStatus(r);
		if (st != PGRES_COPY_OUT && st != PGRES_COMMAND_OK &&
		    st != PGRES_TUPLES_OK && first == 0)
			first = pga_pg_fail(err, conn, r, "query");
		PQclear(r);
		if (st == PGRES_COPY_OUT) {
			rc = copy_rows(conn, deadline, sink, ctx, bytes, err);
			if (rc < 0 && conn_level(rc))
				break;
			if (rc < 0 && first == 0)
				first = rc;
			rc = 0;
		}
	}
	return rc < 0 ? rc : first;
}
