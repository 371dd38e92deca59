/*
 * custom.h - custom SQL metrics: the [metric:NAME] sections of pga.conf
 *
 * A DBA's own query (the pgwatch and postgres_exporter habit) runs through
 * the pipeline of the built-in metrics: the same snapshot transaction
 * (REPEATABLE READ, READ ONLY), the target's deadline, once per target
 * (scope cluster) or in every collected database (scope database), COPY
 * (...) TO STDOUT streamed through the UTF-8 escaper into the spool.  What
 * the catalog says of a built-in metric, a runtime definition says of a
 * custom one (struct custom_def: a struct metric_def with its metric_col
 * array), so the block writer sees names, types and roles the same way.
 *
 * The types: COPY gives none, so each run first has the server parse the
 * query alone, as one statement of the extended protocol (Parse, then
 * Describe): that refuses more than one statement and learns the result's
 * column names and type oids, mapped to the central type names the catalog
 * uses (custom_type_name; an unknown type is text).  Described every run,
 * never cached: a table changed between two cycles of a kept connection
 * cannot give a block whose columns are not its rows'.  The cost: two
 * round trips (Parse, Describe) per custom metric and database beyond a
 * built-in metric's one; not measured in make bench yet.
 *
 * Safety, in layers: custom_sql_check() refuses at configuration time (and
 * again before every run) anything but one balanced query: a ';', an
 * unbalanced parenthesis, an unterminated quote, identifier, comment or
 * dollar quote, so the text cannot close COPY's parenthesis and go on
 * (") TO PROGRAM ..."); the server's Parse refuses a second statement; the
 * COPY's text puts the query between newlines, so a trailing "--" comment
 * cannot swallow the closing parenthesis; standard_conforming_strings is on
 * for it, as the check assumes.  The query runs in the snapshot's READ
 * ONLY transaction, after the session's savepoint, with its own
 * statement_timeout, and the savepoint is rolled back after it, success or
 * not: whatever the query changed in the session (settings) is undone; a
 * write is refused by the server; any failure is this metric's error
 * alone.  A read-only transaction does not stop functions whose effects
 * are outside the database (pg_terminate_backend, dblink): the collector's
 * role should be pg_monitor, not a superuser.
 *
 * Thread-safe: no global state; a custom_def belongs to its caller.
 */
#ifndef PGA_CUSTOM_H
#define PGA_CUSTOM_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "collect/catalog.h"
#include "common/config.h"
#include "common/err.h"

/* Set in a custom metric's metric_def.flags (never in the catalog). */
#define METRIC_CUSTOM 0x100u

/* A custom metric as described by one server, for one run. */
struct custom_def {
	struct metric_def def;		/* name, scope, columns, reset_col, flags */
	struct metric_sql sql;		/* the configured version range and query */
	struct metric_col *cols;
	char *names;			/* the column names, back to back */
	const struct pga_metric *cfg;
};

/*
 * Every [metric:NAME] of cfg: its name is no built-in metric's and not
 * reserved for the central schema, its sql passes custom_sql_check, its
 * column lists hold valid names and no column twice, min-version is not
 * above max-version.  PGA_ECONFIG with "FILE:LINE: [metric:NAME] ...".
 */
int custom_validate(const struct pga_config *cfg, struct pga_err *err);

/* One query that cannot leave COPY's parentheses (see above); PGA_EINVAL. */
int custom_sql_check(const char *sql, struct pga_err *err);

/* Whether m runs on a server of this version in the target's cycle (1, 2, ...). */
bool custom_due(const struct pga_metric *m, int server_version, uint64_t cycle);
/* Whether m runs on a server of this version at all. */
bool custom_version_ok(const struct pga_metric *m, int server_version);

/*
 * Have the server parse m's query as one statement and describe its
 * result; fill d (release it with custom_def_release, also on error: its
 * def.name is set from the start).  PGA_EDB: the server refused the query
 * (syntax, a missing relation, a permission, two statements): the
 * transaction is aborted, the caller rolls back to its savepoint.
 * PGA_EINVAL: the result does not fit (no columns, more than SEG_MAX_COLS,
 * a name that is no column name or twice, a listed column missing); the
 * transaction is fine.  Connection-level codes as cpg.h's.
 */
int custom_describe(PGconn *conn, const struct pga_config *cfg, const struct pga_metric *m,
		    int64_t deadline, struct custom_def *d, struct pga_err *err);
void custom_def_release(struct custom_def *d);

/*
 * The statements before the COPY (malloc'd): the query's own
 * statement_timeout and standard_conforming_strings, transaction-local
 * (the rollback to the savepoint after the COPY takes them back).
 */
char *custom_prefix(const struct pga_config *cfg, const struct pga_metric *m);
/*
 * Whether the prefix must be a round trip of its own: before PostgreSQL
 * 13 a statement_timeout set in a multi-statement query string does not
 * apply to the statements after it in the same string (measured on 12).
 */
#define CUSTOM_PREFIX_APART(server_version) ((server_version) < 130000)

/* What COPY wraps and what follows it: see custom.c. */
#define CUSTOM_COPY_HEAD "COPY (\n"
#define CUSTOM_COPY_TAIL "\n) TO STDOUT (FORMAT csv); ROLLBACK TO SAVEPOINT pga"

/* The central type name for a result column's type oid ("bigint"; "text" if unknown). */
const char *custom_type_name(Oid type);

/* `pga help metrics`: the custom metrics of cfg, or where they come from. */
void custom_print_doc(FILE *out, const struct pga_config *cfg);

#endif
