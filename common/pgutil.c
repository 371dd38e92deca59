#include "common/pgutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>

#include "common/utf8.h"

void
pga_conninfo_redact(const char *conninfo, char *buf, size_t cap)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	size_t n = 0;

	buf[0] = '\0';
	if (opts == NULL) {
		strlcpy(buf, "(unparsable conninfo)", cap);
		return;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
		const char *v = o->val;

		if (v == NULL || *v == '\0')
			continue;
		if (strcmp(o->keyword, "password") == 0 || strchr(o->dispchar, '*') != NULL)
			v = "***";
		n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s=%s",
				      n ? " " : "", o->keyword, v);
		if (n >= cap)
			break;
	}
	PQconninfoFree(opts);
}

/*
 * Text libpq cannot parse may still hold a password (a typo elsewhere in
 * it): a URL's user:password@ part, or the word password.
 */
static bool
unparsed_has_password(const char *s)
{
	const char *sep = strstr(s, "://");

	if (sep != NULL) {
		const char *auth = sep + 3;
		size_t n = strcspn(auth, "/?#");
		const char *at = NULL;

		for (size_t i = 0; i < n; i++)
			if (auth[i] == '@')
				at = auth + i;
		return at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL;
	}
	for (; *s; s++)
		if (strncasecmp(s, "password", 8) == 0)
			return true;
	return false;
}

bool
pga_conninfo_has_password(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	bool has = false;

	if (opts == NULL)
		return unparsed_has_password(conninfo);
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && *o->val != '\0')
			has = true;
	PQconninfoFree(opts);
	return has;
}

int
pga_conninfo_no_password(const char *conninfo, const char *option,
			 struct pga_err *err)
{
	if (pga_conninfo_has_password(conninfo))
		return pga_fail(err, PGA_EINVAL,
				"%s holds a password, which the process list would show: put it in "
				"~/.pgpass, PGPASSFILE or the configuration file instead", option);
	return 0;
}

int
pga_conninfo_check(const char *conninfo, struct pga_err *err)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);

	if (opts == NULL) {
		int rc = pga_fail(err, PGA_EINVAL, "invalid conninfo: %s",
				  msg ? strtok(msg, "\n") : "out of memory");

		PQfreemem(msg);
		return rc;
	}
	PQconninfoFree(opts);
	return 0;
}

static void
first_line(char *s)
{
	s[strcspn(s, "\n")] = '\0';
}

int
pga_pg_connect(PGconn **out, const char *conninfo,
	       const struct pga_connect_opts *o, struct pga_err *err)
{
	const char *keys[8], *vals[8];
	char timeout[32], where[512], msg[512];
	int n = 0;
	PGconn *conn;
	PGresult *res;

	*out = NULL;
	keys[n] = "dbname";
	vals[n++] = conninfo;	/* expanded: conninfo or URI */
	keys[n] = "fallback_application_name";
	vals[n++] = "pga";
	if (o != NULL && o->application_name != NULL) {
		keys[n] = "application_name";
		vals[n++] = o->application_name;
	}
	if (o != NULL && o->connect_timeout_us > 0) {
		snprintf(timeout, sizeof(timeout), "%lld",
			 (long long)((o->connect_timeout_us + 999999) / 1000000));
		keys[n] = "connect_timeout";
		vals[n++] = timeout;
	}
	if (o != NULL && o->dbname != NULL) {
		keys[n] = "dbname";
		vals[n++] = o->dbname;
	}
	if (o != NULL && o->options != NULL) {
		keys[n] = "options";
		vals[n++] = o->options;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (PQstatus(conn) != CONNECTION_OK) {
		pga_conninfo_redact(conninfo, where, sizeof(where));
		strlcpy(msg, PQerrorMessage(conn), sizeof(msg));
		first_line(msg);
		PQfinish(conn);
		return pga_fail(err, PGA_ENET, "could not connect to '%s': %s", where, msg);
	}
	/*
	 * pga writes E-less literals ('\x..' bytea, escaped names): they mean
	 * what they say only with standard_conforming_strings on, whatever the
	 * server's or the database's default.
	 */
	res = PQexec(conn, "SET standard_conforming_strings = on");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pga_conninfo_redact(conninfo, where, sizeof(where));
		strlcpy(msg, PQerrorMessage(conn), sizeof(msg));
		first_line(msg);
		PQclear(res);
		PQfinish(conn);
		return pga_fail(err, PGA_EDB, "could not set standard_conforming_strings on '%s': %s",
				where, msg);
	}
	PQclear(res);
	*out = conn;
	return 0;
}

const char *
pga_pg_sqlstate(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

/*
 * A server's error always has a SQLSTATE; libpq's own ("server closed the
 * connection unexpectedly") has none, and libpq may not have marked the
 * connection bad yet when it reports one: a socket that reads EOF is lost.
 */
static bool
conn_lost(PGconn *conn, const char *state)
{
	if (conn == NULL || PQstatus(conn) == CONNECTION_BAD)
		return true;
	return *state == '\0' && PQconsumeInput(conn) == 0;
}

/*
 * The server's message may quote a value (22P02 "invalid input syntax for
 * type bigint: \"...\"") that came from a file: escaped before it reaches a
 * log line or a terminal.  SQLSTATE goes into err for callers to branch on.
 */
int
pga_pg_fail(struct pga_err *err, PGconn *conn, const PGresult *res,
	    const char *what)
{
	char raw[400], msg[400];
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = pga_pg_sqlstate(res);
	int rc;

	if (primary != NULL)
		strlcpy(raw, primary, sizeof(raw));
	else
		strlcpy(raw, conn ? PQerrorMessage(conn) : "no connection", sizeof(raw));
	first_line(raw);
	utf8_escape_text(raw, msg, sizeof(msg));
	if (conn_lost(conn, state))
		rc = pga_fail(err, PGA_ENET, "%s: connection lost: %s", what, msg);
	else
		rc = pga_fail(err, PGA_EDB, "%s: %s%s%s%s", what, msg, *state ? " (SQLSTATE " : "",
			      state, *state ? ")" : "");
	if (err != NULL)
		strlcpy(err->sqlstate, state, sizeof(err->sqlstate));
	return rc;
}

int
pga_pg_exec(PGconn *conn, const char *sql, struct pga_err *err)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char what[80];

		snprintf(what, sizeof(what), "%.60s", sql);
		first_line(what);
		rc = pga_pg_fail(err, conn, res, what);
	}
	PQclear(res);
	return rc;
}

int
pga_pg_quote_ident(const char *ident, char *buf, size_t cap, struct pga_err *err)
{
	size_t n = 0;

	if (cap < 3)
		return pga_fail(err, PGA_EINVAL, "identifier buffer too small");
	buf[n++] = '"';
	for (const char *p = ident; *p; p++) {
		if (n + 3 >= cap)
			return pga_fail(err, PGA_EINVAL, "identifier too long '%.40s'", ident);
		if (*p == '"')
			buf[n++] = '"';
		buf[n++] = *p;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return 0;
}
