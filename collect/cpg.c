/* libpq with deadlines: non-blocking connect and reads, poll(2) in slices. */
#include "collect/cpg.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <libpq-events.h>

#include "common/cli.h"
#include "common/grow.h"
#include "common/hash.h"
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

/* ---- the mark on every statement ---- */

/* A byte that continues an identifier (PostgreSQL's ident_cont, less '$'). */
static bool
word_byte(char c)
{
	return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* Length of the dollar-quote tag ($tag$ or $$) at p, or 0 if none starts there. */
static size_t
dollar_tag(const char *p, const char *start)
{
	size_t n = 1;

	/* $1 is a parameter, x$y (also é$y) part of an identifier */
	if (p > start && word_byte(p[-1]))
		return 0;
	if (isdigit((unsigned char)p[1]))
		return 0;
	while (word_byte(p[n]))
		n++;
	return p[n] == '$' ? n + 1 : 0;
}

const char *
cpg_quoted_end(const char *p, const char *start)
{
	size_t tag;

	if (p[0] == '\'' || ((p[0] == 'E' || p[0] == 'e') && p[1] == '\'' &&
			     !(p > start && word_byte(p[-1])))) {
		bool esc = p[0] != '\'';

		for (p += esc ? 2 : 1; *p; p++) {
			if (esc && *p == '\\' && p[1])
				p++;
			else if (*p == '\'' && p[1] == '\'')
				p++;
			else if (*p == '\'')
				return p + 1;
		}
		return NULL;
	}
	if (p[0] == '"') {
		for (p++; *p; p++) {
			if (*p == '"' && p[1] == '"')
				p++;
			else if (*p == '"')
				return p + 1;
		}
		return NULL;
	}
	if (p[0] == '-' && p[1] == '-')
		return p + strcspn(p, "\n");
	if (p[0] == '/' && p[1] == '*') {
		int depth = 1;

		for (p += 2; *p; p++) {
			if (p[0] == '/' && p[1] == '*')
				depth++, p++;
			else if (p[0] == '*' && p[1] == '/' && --depth == 0)
				return p + 2;
			else if (p[0] == '*' && p[1] == '/')
				p++;
		}
		return NULL;
	}
	if (p[0] == '$' && (tag = dollar_tag(p, start)) > 0) {
		for (const char *end = p + tag; *end; end++)
			if (strncmp(end, p, tag) == 0)
				return end + tag;
		return NULL;
	}
	return p;
}

/* What may start a token other than a run of ordinary characters. */
#define TOKEN_STARTS "'\"-/$;"

/*
 * End of the token that starts at p: a quoted one (cpg_quoted_end; one not
 * terminated runs to the end), a ';', or a run of ordinary characters up to
 * the next byte that may start a token.  The catalog's queries are long:
 * scanned a byte a call, marking them cost a fifth of a collector's CPU
 * (callgrind, bench/21-scale.sh).
 */
static const char *
skip_token(const char *p, const char *start)
{
	const char *end = cpg_quoted_end(p, start);
	size_t n;

	if (end == NULL)
		return p + strlen(p);
	if (end != p)
		return end;
	if (p[0] == ';')
		return p + 1;
	n = 1 + strcspn(p + 1, TOKEN_STARTS);
	/* an E'' literal starts at its E: the run ends before it */
	if (p[n] == '\'' && n >= 2 && (p[n - 1] == 'E' || p[n - 1] == 'e') && !word_byte(p[n - 2]))
		n--;
	return p + n;
}

/* Copy the blanks and the first word of the statement at p, then the mark
 * (out NULL: only count). */
static const char *
mark_statement(const char *p, char *out, size_t *o)
{
	size_t n = strspn(p, " \t\r\n");
	size_t ml = strlen(CPG_MARK);

	while (isalpha((unsigned char)p[n]) || p[n] == '_')
		n++;
	if (out != NULL) {
		memcpy(out + *o, p, n);
		out[*o + n] = ' ';
		memcpy(out + *o + n + 1, CPG_MARK, ml);
	}
	*o += n + 1 + ml;
	return p + n;
}

/*
 * sql marked into out; out NULL: only its length.  One walk for both, so
 * the length measured is the length written, whatever the input.
 */
static size_t
mark_into(const char *sql, char *out)
{
	size_t o = 0;
	const char *p = mark_statement(sql, out, &o), *word_end = p;

	while (*p) {
		/* the mark stands between a statement's first word and what
		 * follows: that word, already copied, is no E of an E'' literal */
		const char *next = skip_token(p, sql);

		if (out != NULL)
			memcpy(out + o, p, (size_t)(next - p));
		o += (size_t)(next - p);
		/* a statement follows this ';' unless only blanks do */
		if (*p == ';' && next[strspn(next, " \t\r\n")] != '\0')
			next = word_end = mark_statement(next, out, &o);
		p = next;
	}
	if (out != NULL)
		out[o] = '\0';
	return o;
}

char *
cpg_mark(const char *sql)
{
	char *out = malloc(mark_into(sql, NULL) + 1);

	if (out != NULL)
		mark_into(sql, out);
	return out;
}

static int
send_marked(PGconn *conn, const char *sql, struct pga_err *err)
{
	char *m = cpg_mark(sql);
	int ok;

	if (m == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	ok = PQsendQuery(conn, m);
	free(m);
	return ok ? 0 : pga_pg_fail(err, conn, NULL, "query");
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
	if (send_marked(conn, sql, err) < 0)
		return err->code;
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
	if (send_marked(conn, sql, err) < 0)
		return err->code;
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

/* Every result of what was sent; the last one that is not an error in *keep. */
static int
results(PGconn *conn, int64_t deadline, PGresult **keep, const char *what, struct pga_err *err)
{
	int first = 0, rc;

	for (;;) {
		PGresult *r;
		ExecStatusType st;

		rc = next_result(conn, deadline, &r, err);
		if (rc < 0 || r == NULL)
			break;
		st = PQresultStatus(r);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && first == 0)
			first = pga_pg_fail(err, conn, r, what);
		if (first == 0 && keep != NULL) {
			PQclear(*keep);
			*keep = r;
		} else {
			PQclear(r);
		}
	}
	return rc < 0 ? rc : first;
}

int
cpg_describe(PGconn *conn, const char *sql, int64_t deadline, PGresult **desc,
	     struct pga_err *err)
{
	char *m = cpg_mark(sql);
	int ok, rc;

	*desc = NULL;
	if (m == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	ok = PQsendPrepare(conn, "", m, 0, NULL);
	free(m);
	if (!ok)
		return pga_pg_fail(err, conn, NULL, "parse");
	rc = results(conn, deadline, NULL, "parse", err);
	if (rc < 0)
		return rc;
	if (!PQsendDescribePrepared(conn, ""))
		return pga_pg_fail(err, conn, NULL, "describe");
	rc = results(conn, deadline, desc, "describe", err);
	if (rc < 0) {
		PQclear(*desc);
		*desc = NULL;
	}
	return rc;
}

/* ---- rows as COPY (FORMAT csv) writes them ---- */

struct csv_out {
	char *buf;
	size_t len, cap;
	cpg_sink_fn sink;
	void *ctx;
	uint64_t *bytes;
	struct pga_err *err;
};

static int
csv_flush(struct csv_out *o)
{
	int rc = 0;

	if (o->len > 0)
		rc = o->sink(o->ctx, o->buf, o->len, o->err);
	*o->bytes += o->len;
	o->len = 0;
	return rc;
}

/* n bytes on; a full buffer goes to the sink first. */
static int
csv_put(struct csv_out *o, const char *p, size_t n)
{
	while (n > 0) {
		size_t k = o->cap - o->len;

		if (k == 0) {
			int rc = csv_flush(o);

			if (rc < 0)
				return rc;
			k = o->cap;
		}
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, p, k);
		o->len += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* A quoted value: each '"' in it doubled. */
static int
csv_quoted(struct csv_out *o, const char *v, size_t n)
{
	int rc = csv_put(o, "\"", 1);

	while (rc == 0 && n > 0) {
		const char *q = memchr(v, '"', n);
		size_t k = q ? (size_t)(q - v) + 1 : n;

		rc = csv_put(o, v, k);
		if (rc == 0 && q != NULL)
			rc = csv_put(o, "\"", 1);
		v += k;
		n -= k;
	}
	return rc == 0 ? csv_put(o, "\"", 1) : rc;
}

/* The bytes that make COPY quote a value: delimiter, quote, end of row. */
static const unsigned char csv_special[256] = {[','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1};

/*
 * A value of n > 0 bytes copied to the buffer (room for n + 1) with a ','
 * after it, as long as nothing in it needs quoting; false (nothing kept)
 * else.  One pass copies and checks: no strlen, no call per value.
 */
static inline bool
csv_plain(struct csv_out *o, const char *v, size_t n, bool single)
{
	unsigned char *d = (unsigned char *)o->buf + o->len, any = 0;
	const unsigned char *s = (const unsigned char *)v;

	for (size_t k = 0; k < n; k++)
		any |= csv_special[d[k] = s[k]];
	/* "\." alone on a row would read as the end of data */
	if (any || (single && n == 2 && v[0] == '\\' && v[1] == '.'))
		return false;
	d[n] = ',';
	o->len += n + 1;
	return true;
}

/* A value that is empty, needs quotes or is longer than the buffer. */
static int
csv_slow(struct csv_out *o, const PGresult *r, int i, int j, const char *v, size_t n,
	 bool single)
{
	int rc;

	if (n > 0 && memchr(v, '"', n) == NULL && strcspn(v, ",\r\n") == n &&
	    !(single && n == 2 && v[0] == '\\' && v[1] == '.'))
		rc = csv_put(o, v, n);
	else if (n > 0 || !PQgetisnull(r, i, j))
		rc = csv_quoted(o, v, n);
	else
		rc = 0;		/* NULL: nothing */
	return rc == 0 ? csv_put(o, ",", 1) : rc;
}

/* One row, each value followed by ','; the last one's becomes "\n". */
static int
csv_row(struct csv_out *o, const PGresult *r, int i, int cols)
{
	for (int j = 0; j < cols; j++) {
		const char *v = PQgetvalue(r, i, j);
		size_t n = (size_t)PQgetlength(r, i, j);
		int rc = o->cap - o->len > n ? 0 : csv_flush(o);

		if (rc < 0)
			return rc;
		/* most values: plain, or NULL (nothing) */
		if (o->cap - o->len > n &&
		    (n > 0 ? csv_plain(o, v, n, cols == 1) : PQgetisnull(r, i, j))) {
			if (n == 0)
				o->buf[o->len++] = ',';
			continue;
		}
		rc = csv_slow(o, r, i, j, v, n, cols == 1);
		if (rc < 0)
			return rc;
	}
	/* the last byte written is the last value's ',', still in the buffer */
	if (cols > 0)
		o->buf[o->len - 1] = '\n';
	return 0;
}

int
cpg_csv_rows(const PGresult *r, char *buf, size_t cap, cpg_sink_fn sink, void *ctx,
	     uint64_t *bytes, struct pga_err *err)
{
	struct csv_out o = {.buf = buf, .cap = cap, .sink = sink, .ctx = ctx, .bytes = bytes,
			    .err = err};
	int rows = PQntuples(r), cols = PQnfields(r), rc = 0;

	for (int i = 0; i < rows && rc == 0; i++)
		rc = csv_row(&o, r, i, cols);
	return rc < 0 ? rc : csv_flush(&o);
}

/* ---- prepared statements of a kept connection ---- */

#define CPG_GONE 4		/* a run found its statement gone (SQLSTATE 26000) */

struct prep_stmt {
	char *sql;		/* shared (text_get); NULL: forgotten (its name stays taken) */
	char *copy;		/* once it had more than rows rows: its COPY, marked */
	size_t len;
	uint32_t crc;
	unsigned rows;		/* the most rows taken as one result */
	bool live;		/* its Parse succeeded: the name is taken */
};

struct preps {
	struct prep_stmt *s;	/* grown as needed: a kept connection of a
				 * database holds a dozen, not CPG_PREP_MAX */
	size_t cap;
	unsigned n;
	bool off;		/* statements do not last on this connection: COPY */
};

/*
 * The statements' texts, one copy each for every connection: each kept
 * connection of a target prepares the same dozen or so (10 kB of text a
 * connection, 4 MB at 400 databases, measured with massif).  Looked up
 * only when a statement is prepared or forgotten, never per run.
 */
struct shared_text {
	char *p;
	size_t len;
	uint32_t crc;
	unsigned refs;
};

static pthread_mutex_t texts_mu = PTHREAD_MUTEX_INITIALIZER;
static struct shared_text *texts;
static size_t ntexts, captexts;

/* sql's shared copy, one more reference to it; NULL when out of memory. */
static char *
text_get(const char *sql, size_t len, uint32_t crc)
{
	char *p = NULL;

	pthread_mutex_lock(&texts_mu);
	for (size_t i = 0; i < ntexts && p == NULL; i++) {
		if (texts[i].len == len && texts[i].crc == crc && memcmp(texts[i].p, sql, len) == 0) {
			texts[i].refs++;
			p = texts[i].p;
		}
	}
	if (p == NULL && PGA_GROW(texts, captexts, ntexts + 1, SIZE_MAX, NULL) == 0 &&
	    (p = malloc(len + 1)) != NULL) {
		memcpy(p, sql, len);
		p[len] = '\0';
		texts[ntexts++] = (struct shared_text){.p = p, .len = len, .crc = crc, .refs = 1};
	}
	pthread_mutex_unlock(&texts_mu);
	return p;
}

static void
text_put(char *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&texts_mu);
	for (size_t i = 0; i < ntexts; i++) {
		if (texts[i].p != p)
			continue;
		if (--texts[i].refs == 0) {
			free(p);
			texts[i] = texts[--ntexts];
		}
		break;
	}
	pthread_mutex_unlock(&texts_mu);
}

static void
stmt_forget(struct prep_stmt *s)
{
	text_put(s->sql);
	free(s->copy);
	s->sql = s->copy = NULL;
}

/* Every statement forgotten (names too: the session holds none of them). */
static void
preps_clear(struct preps *p)
{
	for (unsigned i = 0; i < p->n; i++)
		stmt_forget(&p->s[i]);
	p->n = 0;
}

static void
preps_free(struct preps *p)
{
	if (p == NULL)
		return;
	preps_clear(p);
	free(p->s);
	free(p);
}

/* The statements live and die with the connection: libpq tells us. */
static int
preps_event(PGEventId id, void *info, void *passthrough)
{
	(void)passthrough;
	if (id == PGEVT_CONNDESTROY) {
		PGconn *conn = ((PGEventConnDestroy *)info)->conn;

		preps_free(PQinstanceData(conn, preps_event));
	} else if (id == PGEVT_CONNRESET) {
		/* a new session on the same PGconn: no statement survives */
		struct preps *p = PQinstanceData(((PGEventConnReset *)info)->conn, preps_event);

		if (p != NULL)
			preps_clear(p);
	}
	return 1;
}

static struct preps *
preps_of(PGconn *conn)
{
	struct preps *p = PQinstanceData(conn, preps_event);

	if (p != NULL)
		return p;
	p = calloc(1, sizeof(*p));
	if (p != NULL && (!PQregisterEventProc(conn, preps_event, "pga prepared", NULL) ||
			  !PQsetInstanceData(conn, preps_event, p))) {
		free(p);
		p = NULL;
	}
	return p;
}

/* The index of sql's statement, or -1. */
static int
prep_find(const struct preps *p, const char *sql, size_t len, uint32_t crc, unsigned rows)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->s[i].len == len && p->s[i].crc == crc && p->s[i].rows == rows &&
		    p->s[i].sql != NULL && memcmp(p->s[i].sql, sql, len) == 0)
			return (int)i;
	return -1;
}

/*
 * head, sql, tail, marked.  Wrapped in "SELECT * FROM (sql) AS pga_q LIMIT
 * rows + 1": a subquery with ORDER BY or LIMIT is not flattened into the
 * outer query and a Limit over a Subquery Scan passes its rows in their
 * order; the bound it hands a Sort below turns it into a top-N heapsort
 * (which may order ties otherwise) only past twice the bound, where the
 * result is too big anyway.  A SELECT the planner expects fewer rows of
 * than the bound is planned as without it: the rows and their order are
 * the SELECT's.  (One expected to return more may get a fast-start plan:
 * rows without ORDER BY may then come in another order, one no COPY
 * promised either.)
 */
static char *
wrap_marked(const char *head, const char *sql, size_t len, const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tail);
	char *w = malloc(hl + len + tl + 1), *m;

	if (w == NULL)
		return NULL;
	memcpy(w, head, hl);
	memcpy(w + hl, sql, len);
	memcpy(w + hl + len, tail, tl + 1);
	m = cpg_mark(w);
	free(w);
	return m;
}

/*
 * Send the Parse of sql as statement p->n, not waiting for its result: its
 * index, or an error.  The entry is not live until its result says so
 * (prep_parsed); one that never becomes live is dropped (preps_trim).
 */
static int
prep_send(PGconn *conn, struct preps *p, const char *sql, size_t len, uint32_t crc,
	  unsigned rows, struct pga_err *err)
{
	struct prep_stmt *s;
	char name[16], tail[48], *m;
	int ok;

	if (PGA_GROW(p->s, p->cap, p->n + 1, CPG_PREP_MAX, err) < 0)
		return err->code;
	s = &p->s[p->n];
	*s = (struct prep_stmt){0};
	snprintf(tail, sizeof(tail), ") AS pga_q LIMIT %u", rows + 1);
	s->sql = text_get(sql, len, crc);
	m = wrap_marked("SELECT * FROM (", sql, len, tail);
	if (s->sql == NULL || m == NULL) {
		free(m);
		stmt_forget(s);
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	snprintf(name, sizeof(name), "pga_%u", p->n);
	ok = PQsendPrepare(conn, name, m, 0, NULL);
	free(m);
	if (!ok) {
		stmt_forget(s);
		return pga_pg_fail(err, conn, NULL, "query");
	}
	s->len = len;
	s->crc = crc;
	s->rows = rows;
	s->live = false;
	return (int)p->n++;
}

/* The Parse's result of statement i: live, or forgotten. */
static int
prep_parsed(PGconn *conn, struct prep_stmt *s, int64_t deadline, struct pga_err *err)
{
	/* "query" as a COPY's error would say: the logs do not tell the ways apart */
	int rc = results(conn, deadline, NULL, "query", err);

	if (rc < 0)
		stmt_forget(s);
	s->live = rc == 0;
	return rc;
}

/* Trailing statements that never became live: their names are free again. */
static void
preps_trim(struct preps *p)
{
	while (p->n > 0 && !p->s[p->n - 1].live) {
		stmt_forget(&p->s[p->n - 1]);
		p->n--;
	}
}

/* Parse sql as statement p->n; its index, or an error. */
static int
prep_add(PGconn *conn, struct preps *p, const char *sql, size_t len, uint32_t crc,
	 unsigned rows, int64_t deadline, struct pga_err *err)
{
	int i = prep_send(conn, p, sql, len, crc, rows, err);

	if (i >= 0 && prep_parsed(conn, &p->s[i], deadline, err) < 0) {
		preps_trim(p);
		return err->code;
	}
	return i;
}

static int
prep_exec(PGconn *conn, int i, struct pga_err *err)
{
	char name[16];

	snprintf(name, sizeof(name), "pga_%d", i);
	return PQsendQueryPrepared(conn, name, 0, NULL, NULL, NULL, 0) ? 0 :
	       pga_pg_fail(err, conn, NULL, "query");
}

/*
 * The result of a run of s, sent (prep_exec): held whole (at most rows + 1
 * rows), its rows as CSV to sink; *over when it had more than rows rows:
 * nothing went to sink then.
 */
static int
prep_read(PGconn *conn, struct prep_stmt *s, int64_t deadline, cpg_sink_fn sink, void *ctx,
	  char *buf, size_t cap, uint64_t *bytes, bool *over, struct pga_err *err)
{
	int first = 0, rc;

	*over = false;
	for (;;) {
		PGresult *r;

		rc = next_result(conn, deadline, &r, err);
		if (rc < 0 || r == NULL)
			break;
		if (PQresultStatus(r) != PGRES_TUPLES_OK && first == 0)
			first = pga_pg_fail(err, conn, r, "query");
		else if (first == 0 && (unsigned)PQntuples(r) > s->rows)
			*over = true;
		else if (first == 0)
			first = cpg_csv_rows(r, buf, cap, sink, ctx, bytes, err);
		PQclear(r);
	}
	if (rc == 0 && first == PGA_EDB && strcmp(err->sqlstate, "0A000") == 0)
		/* replanned into another result type: a new statement next time */
		stmt_forget(s);
	if (rc == 0 && first == PGA_EDB && strcmp(err->sqlstate, "26000") == 0)
		first = CPG_GONE;	/* prepared in an earlier transaction, not here now */
	return rc < 0 ? rc : first;
}

/* A run that found its statement gone: no more preparing here, said so. */
static int
preps_gone(struct preps *p, struct pga_err *err)
{
	/* a pooler in transaction mode hands each transaction another server
	 * session: none of ours lasts */
	preps_clear(p);
	p->off = true;
	return pga_err_prefix(err, "prepared statements do not last on this connection"
			      " (a connection pooler?), COPY from now on");
}

/* The statement's rows by COPY, for good: it returns more than a result may hold. */
static int
prep_copy(PGconn *conn, struct prep_stmt *s, int64_t deadline, cpg_sink_fn sink, void *ctx,
	  uint64_t *bytes, struct pga_err *err)
{
	if (s->copy == NULL &&
	    (s->copy = wrap_marked("COPY (", s->sql, s->len, ") TO STDOUT (FORMAT csv)")) == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	*bytes = 0;
	return cpg_copy(conn, s->copy, deadline, sink, ctx, bytes, err);
}

int
cpg_prepared(PGconn *conn, const char *sql, size_t len, unsigned rows, int64_t deadline,
	     cpg_sink_fn sink, void *ctx, char *buf, size_t cap, uint64_t *bytes,
	     struct pga_err *err)
{
	struct preps *p = preps_of(conn);
	uint32_t crc = pga_crc32c(0, sql, len);
	bool over;
	int i, rc;

	*bytes = 0;
	if (p == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (p->off)
		return CPG_NOT_PREPARED;
	i = prep_find(p, sql, len, crc, rows);
	if (i < 0 && p->n == CPG_PREP_MAX)
		return CPG_NOT_PREPARED;
	if (i < 0)
		i = prep_add(conn, p, sql, len, crc, rows, deadline, err);
	if (i < 0)
		return i;
	if (p->s[i].copy != NULL) {
		rc = prep_copy(conn, &p->s[i], deadline, sink, ctx, bytes, err);
		return rc < 0 ? rc : CPG_COPIED;
	}
	rc = prep_exec(conn, i, err);
	if (rc == 0)
		rc = prep_read(conn, &p->s[i], deadline, sink, ctx, buf, cap, bytes, &over, err);
	if (rc == CPG_GONE)
		return preps_gone(p, err);
	if (rc < 0 || !over)
		return rc;
	/* in the same transaction, the same snapshot: a SELECT leaves nothing to undo */
	rc = prep_copy(conn, &p->s[i], deadline, sink, ctx, bytes, err);
	return rc < 0 ? rc : CPG_SWITCHED;
}

/* ---- a session's statements in one round trip (pipeline mode) ---- */

int
cpg_batch_begin(struct cpg_batch *b, PGconn *conn, unsigned rows, int64_t deadline,
		struct pga_err *err)
{
	*b = (struct cpg_batch){.conn = conn, .rows = rows, .deadline = deadline};
	b->p = preps_of(conn);
	if (b->p == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (b->p->off)
		return CPG_NOT_PREPARED;
	if (!PQenterPipelineMode(conn))
		return pga_pg_fail(err, conn, NULL, "query");
	b->piped = true;
	return 0;
}

int
cpg_batch_add(struct cpg_batch *b, const char *sql, size_t len, struct pga_err *err)
{
	struct preps *p = b->p;
	uint32_t crc = pga_crc32c(0, sql, len);
	int i = prep_find(p, sql, len, crc, b->rows);
	bool parse = i < 0;

	if (b->n == CPG_BATCH_MAX ||
	    (parse && b->n > 0 && b->out + len > CPG_BATCH_BYTES))
		return CPG_BATCH_FULL;
	if (!parse && p->s[i].copy != NULL)
		return CPG_COPIED;
	if (parse && p->n == CPG_PREP_MAX)
		return CPG_NOT_PREPARED;
	if (parse) {
		i = prep_send(b->conn, p, sql, len, crc, b->rows, err);
		if (i < 0)
			return i;
		b->out += len;
		b->queries++;
	}
	b->idx[b->n] = i;
	b->parse[b->n++] = parse;
	b->queries++;
	return prep_exec(b->conn, i, err);
}

int
cpg_batch_send(struct cpg_batch *b, struct pga_err *err)
{
	/* in blocking mode: all of it leaves now, at most CPG_BATCH_BYTES of
	 * texts and a few dozen bytes a run, which the socket takes whole
	 * whatever the server is doing, so it cannot wait on our reading;
	 * nothing queued (each one a COPY): no round trip */
	if (b->n > 0 && !PQpipelineSync(b->conn))
		return pga_pg_fail(err, b->conn, NULL, "query");
	return 0;
}

int
cpg_batch_next(struct cpg_batch *b, cpg_sink_fn sink, void *ctx, char *buf, size_t cap,
	       uint64_t *bytes, struct pga_err *err)
{
	size_t k = b->next++;
	struct prep_stmt *s = &b->p->s[b->idx[k]];
	bool over = false;
	int rc = 0;

	*bytes = 0;
	if (b->parse[k]) {
		rc = prep_parsed(b->conn, s, b->deadline, err);
		b->queries--;
	}
	if (rc == 0) {
		rc = prep_read(b->conn, s, b->deadline, sink, ctx, buf, cap, bytes, &over, err);
		b->queries--;
	}
	if (rc == CPG_GONE)
		return preps_gone(b->p, err);
	if (rc < 0)
		return rc;
	if (over && s->copy == NULL &&
	    (s->copy = wrap_marked("COPY (", s->sql, s->len, ") TO STDOUT (FORMAT csv)")) == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	return over ? CPG_SWITCHED : 0;
}

int
cpg_batch_end(struct cpg_batch *b, struct pga_err *err)
{
	PGresult *r = NULL;
	int rc = 0;

	if (!b->piped)
		return 0;
	/* what was not read: results of runs after a failure (aborted) */
	for (; b->queries > 0 && rc == 0; b->queries--) {
		do {
			rc = next_result(b->conn, b->deadline, &r, err);
			PQclear(r);
		} while (rc == 0 && r != NULL);
	}
	if (rc == 0 && b->n > 0) {
		rc = next_result(b->conn, b->deadline, &r, err);
		if (rc == 0 && PQresultStatus(r) != PGRES_PIPELINE_SYNC)
			rc = pga_pg_fail(err, b->conn, r, "query");
		PQclear(r);
	}
	if (rc == 0 && !PQexitPipelineMode(b->conn))
		rc = pga_pg_fail(err, b->conn, NULL, "query");
	/* the Parses the server skipped after a failure named nothing */
	if (rc == 0 && !b->p->off)
		preps_trim(b->p);
	b->piped = rc != 0;
	return rc;
}
