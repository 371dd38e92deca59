/*
 * cpg.h - libpq with deadlines, for the collector and pga check
 *
 * Every call here is bounded by a deadline on the monotonic clock
 * (pga_mono_us()) and returns early, with PGA_ECANCEL, once a stop was
 * requested (SIGTERM/SIGINT).  Connecting uses PQconnectStartParams and
 * PQconnectPoll, reading uses PQconsumeInput and poll(2), so a server that
 * accepts TCP but never answers, or stops answering mid-query, costs its
 * caller no more than the deadline.  A connection that hit its deadline or a
 * network error is useless afterwards (PQstatus may still say OK): callers
 * PQfinish it.  We never PQcancel: a cancel request to a hung server would
 * block without a deadline; statement_timeout ends the server side.
 *
 * Errors: 0 or a negative PGA_E* code with err filled: PGA_ETIMEOUT (the
 * deadline passed), PGA_ECANCEL (stop requested), PGA_ENET (connection
 * failed or lost), PGA_EDB (the server returned an error; the connection is
 * fine).  Messages never contain a password (conninfo is redacted).
 *
 * Thread safety: one connection per thread at a time, as libpq.
 */
#ifndef PGA_CPG_H
#define PGA_CPG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "common/err.h"

/*
 * Connect.  dbname (or NULL) overrides the conninfo's database; the session
 * gets application_name=pga and client_encoding=UTF8 (the server converts
 * what it can; common/utf8.h escapes the rest).  The deadline covers DNS,
 * TCP, TLS and auth.
 */
int cpg_connect(PGconn **out, const char *conninfo, const char *dbname,
		int64_t deadline, struct pga_err *err);

/*
 * Run sql (one or more statements); up to max results that returned rows
 * are stored in res[] (the caller PQclears them), *n gets their number.
 * The first error stops the statements after it and is returned.
 */
int cpg_exec(PGconn *conn, const char *sql, int64_t deadline, PGresult **res,
	     int max, int *n, struct pga_err *err);

/*
 * Called with each chunk of COPY data as libpq hands it over (one CSV row
 * per call with PostgreSQL servers).  A negative return stops forwarding;
 * the COPY is still drained so the connection stays usable, and that
 * error is what cpg_copy returns.
 */
typedef int (*cpg_sink_fn)(void *ctx, const char *buf, size_t len,
			   struct pga_err *err);

/*
 * Run sql, whose last statement is a COPY ... TO STDOUT, and pass its data
 * to sink.  Statements before the COPY (SAVEPOINT) run in the same round
 * trip.  *bytes gets the bytes passed on.
 */
int cpg_copy(PGconn *conn, const char *sql, int64_t deadline, cpg_sink_fn sink,
	     void *ctx, uint64_t *bytes, struct pga_err *err);

/*
 * Have the server parse sql as one unnamed prepared statement (the
 * extended protocol takes one statement only) and describe its result:
 * *desc gets the description (PQnfields, PQfname, PQftype), the caller
 * PQclears it.  A statement the server refuses is PGA_EDB; inside a
 * transaction block that aborts the transaction.
 */
int cpg_describe(PGconn *conn, const char *sql, int64_t deadline, PGresult **desc,
		 struct pga_err *err);

/*
 * Prepared statements, for a connection kept across cycles (loop mode):
 * sql (one SELECT, len bytes, unmarked) is prepared once per connection,
 * as "SELECT * FROM (sql) AS pga_q LIMIT rows + 1", marked, under a name
 * of its own, and run with PQsendQueryPrepared; its text rows go to sink
 * as COPY (FORMAT csv) would have written them (cpg_csv_rows), so a
 * block's bytes do not depend on the way.  The server parses and plans the
 * statement once, not every cycle: on small catalog queries that planning
 * is most of what a COPY costs it.
 *
 * Its rows come as one result, held whole (single-row mode's result per
 * row cost more client CPU than the COPY it saves): at most rows + 1 rows.
 * A result of rows + 1 is thrown away, nothing sent to sink, and the
 * statement's rows are read by COPY (FORMAT csv) of sql, in the same
 * transaction (the same snapshot; a SELECT has nothing to undo); from then
 * on that statement on that connection is always a COPY.
 *
 * The statements are keyed by their text and rows: another text (another
 * server version, extension schema or limit) is another statement.  A
 * statement the server can no longer run as planned (SQLSTATE 0A000,
 * "cached plan must not change result type": an extension's view changed
 * its columns) is forgotten and prepared again the next time.  The first
 * run of a text costs one more round trip (Parse).  A statement gone from
 * the session (SQLSTATE 26000: a pooler in transaction mode gives each
 * transaction another server session) fails the run as PGA_EDB with that
 * SQLSTATE, and the connection prepares nothing more (CPG_NOT_PREPARED from
 * then on): the caller rolls back and runs the metric again, as a COPY.
 *
 * Returns 0 (prepared), CPG_SWITCHED (more than rows rows: read by COPY,
 * and from now on), CPG_COPIED (by COPY, as it switched before),
 * CPG_NOT_PREPARED (the connection has CPG_PREP_MAX statements already:
 * nothing was sent, run it as a COPY), or an error as cpg_copy.  A failed
 * Parse or run is PGA_EDB and aborts the transaction, as a failed COPY
 * does.  The statements live as long as the connection (PQfinish frees
 * what they hold here).  buf (cap bytes) holds the CSV on its way to sink.
 *
 * CPG_PREP_ROWS, the collector's rows: a held PGresult row costs 16 bytes
 * a column and its text; a catalog row (25 columns or so, names, numbers)
 * 0.5-1 kB, one with a query (left(query, 1024)) up to 3-5 kB but those
 * are sessions_limit rows at most: 4096 rows hold 2-4 MB, per worker, for
 * as long as the result is written.  Most metrics have far fewer rows;
 * what has more (tables of a big schema) goes by COPY after one try.
 */
#define CPG_NOT_PREPARED 1
#define CPG_SWITCHED 2
#define CPG_COPIED 3
#define CPG_PREP_MAX 256
#define CPG_PREP_ROWS 4096
int cpg_prepared(PGconn *conn, const char *sql, size_t len, unsigned rows, int64_t deadline,
		 cpg_sink_fn sink, void *ctx, char *buf, size_t cap, uint64_t *bytes,
		 struct pga_err *err);

/*
 * A session's prepared statements in one round trip: libpq's pipeline
 * mode.  cpg_batch_begin enters it (CPG_NOT_PREPARED: this connection
 * prepares nothing, run each as cpg_prepared would tell); cpg_batch_add
 * queues one statement's run, its Parse first where the connection has not
 * prepared it (cpg_prepared's statements: the same keys, names and cache),
 * and returns 0, CPG_BATCH_FULL (nothing queued: send what is, the rest in
 * the next batch), CPG_COPIED (nothing queued: this statement has more
 * rows than a result holds, run it by cpg_prepared, a COPY, outside a
 * batch) or CPG_NOT_PREPARED (nothing queued: the connection holds
 * CPG_PREP_MAX statements; a COPY).  cpg_batch_send sends them and a sync
 * and cpg_batch_next reads the queued ones' results in order, as
 * cpg_prepared does: 0 (the rows went to sink), CPG_SWITCHED (more than
 * rows rows: nothing went to sink, the statement is a COPY from now on; run
 * it by cpg_prepared after cpg_batch_end), or an error.  After an error
 * the server skips every run to the sync and the transaction is aborted:
 * call cpg_batch_next no more, cpg_batch_end, then roll back to a
 * savepoint and run the ones after it again (a new batch).  A statement
 * gone from the session fails as cpg_prepared's does (SQLSTATE 26000: the
 * connection prepares nothing more).  cpg_batch_end reads what is left to
 * the sync and leaves pipeline mode; any error of it is the connection's
 * (the caller closes it).
 *
 * What leaves at once is bounded (CPG_BATCH_BYTES of new statements' texts,
 * CPG_BATCH_MAX runs of a few dozen bytes each): the socket takes it whole,
 * so sending never waits on the server, which may be writing results we
 * have not read yet.  Results are read one at a time as they come; libpq
 * holds the one being read and what the socket handed it of the next.
 */
#define CPG_BATCH_FULL 4
#define CPG_BATCH_MAX 64
#define CPG_BATCH_BYTES 8192
struct preps;
struct cpg_batch {		/* cpg.c's; the caller only holds it */
	PGconn *conn;
	struct preps *p;
	int64_t deadline;
	unsigned rows;
	size_t n, next, out;	/* queued, read; bytes of texts queued */
	size_t queries;		/* Parses and runs whose results are unread */
	int idx[CPG_BATCH_MAX];
	bool parse[CPG_BATCH_MAX];
	bool piped;
};
int cpg_batch_begin(struct cpg_batch *b, PGconn *conn, unsigned rows, int64_t deadline,
		    struct pga_err *err);
int cpg_batch_add(struct cpg_batch *b, const char *sql, size_t len, struct pga_err *err);
int cpg_batch_send(struct cpg_batch *b, struct pga_err *err);
int cpg_batch_next(struct cpg_batch *b, cpg_sink_fn sink, void *ctx, char *buf, size_t cap,
		   uint64_t *bytes, struct pga_err *err);
int cpg_batch_end(struct cpg_batch *b, struct pga_err *err);

/*
 * The rows of a text-format result as COPY (FORMAT csv) writes them
 * (PostgreSQL's CopyAttributeOutCSV): fields separated by ',', rows ended
 * by "\n", NULL an empty unquoted field; a value is quoted when it is
 * empty, holds ',', '"', CR or LF, or is the only column and reads "\.";
 * a quote inside is doubled.  The bytes go through buf (cap >= 1 bytes)
 * to sink, which gets them all before this returns, a full buf at a time
 * (a result smaller than buf: one call); *bytes grows by their number.  The first error of sink is returned.
 */
int cpg_csv_rows(const PGresult *r, char *buf, size_t cap, cpg_sink_fn sink, void *ctx,
		 uint64_t *bytes, struct pga_err *err);

/*
 * Every statement pga sends to a target carries this comment right after
 * its first word (COPY, then the comment, then "(SELECT ..."), so the
 * central side can tell pga's own statements from the server's workload:
 * pg_stat_statements keeps comments inside a statement in its text, and
 * pga report leaves those out of its rankings.  After the
 * first word rather than in front: from PostgreSQL 18 on, a comment before
 * a statement is not part of its text.  cpg_exec and cpg_copy mark each
 * statement of the SQL they are given, cpg_prepared the statement it
 * prepares.
 */
#define CPG_MARK "/* pga */"

/*
 * A copy of sql (malloc'd, the caller frees it) with " " CPG_MARK after
 * the first word of every statement: the first one and each that follows
 * a ';'.  String literals (also E'' with backslashes), quoted identifiers,
 * dollar quotes and comments are skipped, so a ';' inside them is left
 * alone.  NULL when out of memory.
 */
char *cpg_mark(const char *sql);

/*
 * The end of the quoted token at p, as PostgreSQL's scanner sees it with
 * standard_conforming_strings on ('...', E'...' with backslash escapes,
 * "...", -- and nested block comments, $tag$ quotes; start is where the
 * text begins, to tell x$y$ and xE'' from a quote): p itself when no quoted
 * token starts there, NULL when it is not terminated.  cpg_mark and the
 * check of a custom metric's sql both scan with it.
 */
const char *cpg_quoted_end(const char *p, const char *start);

/* Microseconds left before deadline (0 when past). */
int64_t cpg_left(int64_t deadline);

#endif
