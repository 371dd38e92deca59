/*
 * pgutil.h - small libpq helpers shared by the collector, loader and shipper
 *
 * Secrets: conninfo strings may hold passwords.  They are never logged or
 * put in error messages as given: pga_conninfo_redact() prints them with
 * password=*** (and URIs with the password replaced).  Connections take
 * their password from the conninfo, PGPASSWORD, ~/.pgpass or PGPASSFILE,
 * as libpq does; nothing here copies it.
 *
 * Errors: 0 or a negative PGA_E* code with err filled; messages carry the
 * server's primary message and SQLSTATE on one line.  Thread-safe as libpq
 * is: one PGconn per thread.
 */
#ifndef PGA_PGUTIL_H
#define PGA_PGUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "common/err.h"

/* Write a printable form of conninfo (password masked) into buf. */
void pga_conninfo_redact(const char *conninfo, char *buf, size_t cap);

/*
 * Whether a conninfo or URI carries a password.  Text libpq cannot parse
 * counts as carrying one when it has a URL's user:password@ or the word
 * password, so that a typo never hides a secret.
 */
bool pga_conninfo_has_password(const char *conninfo);

/*
 * A conninfo given on the command line must not carry a password: the
 * process list shows argv.  PGA_EINVAL naming the option if it does.
 */
int pga_conninfo_no_password(const char *conninfo, const char *option,
			     struct pga_err *err);

/* Check syntax only (no connection): PGA_EINVAL with libpq's reason. */
int pga_conninfo_check(const char *conninfo, struct pga_err *err);

struct pga_connect_opts {
	const char *application_name;	/* default "pga" */
	int64_t connect_timeout_us;	/* 0: libpq default */
	const char *dbname;		/* override the conninfo's dbname, or NULL */
	const char *options;		/* -c settings for the session, or NULL */
};

/* Blocking connect; on failure err names the redacted target. */
int pga_pg_connect(PGconn **out, const char *conninfo,
		   const struct pga_connect_opts *o, struct pga_err *err);

/* Run a statement that returns no rows or rows we do not need. */
int pga_pg_exec(PGconn *conn, const char *sql, struct pga_err *err);

/*
 * One-line description of a failed result (or of the connection's error):
 * PGA_ENET when the connection is gone (or NULL), else PGA_EDB.  The
 * result's SQLSTATE goes to err->sqlstate ("" without one); the server's
 * text is escaped with utf8_escape_text().
 */
int pga_pg_fail(struct pga_err *err, PGconn *conn, const PGresult *res,
		const char *what);

/* SQLSTATE of a result, "" if none. */
const char *pga_pg_sqlstate(const PGresult *res);

/* Quote an identifier into buf ("name" with "" doubling); error if too long. */
int pga_pg_quote_ident(const char *ident, char *buf, size_t cap,
		       struct pga_err *err);

#endif
