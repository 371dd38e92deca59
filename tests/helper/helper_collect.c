/* Collector internals for the tests and the bench: catalog SQL, block lists. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/catalog.h"
#include "collect/cpg.h"
#include "common/err.h"
#include "common/units.h"
#include "spool/segment.h"
#include "spool/source.h"
#include "tests/helper/helper.h"

/*
 * catalog-sql [--all] [--steady] [--ext NAME=VERSION]... VERSION
 *             [PGSS_VERSION [LIMIT]]
 * Every SQL metric a cycle runs unconditionally on server_version_num
 * VERSION, one per line: name TAB scope TAB sql, with the placeholders
 * filled (schemas public, texts "true").  --all adds the metrics with a
 * condition (when) and those of each extension named with --ext, and a
 * column: name TAB scope TAB condition ("true" for none) TAB sql.
 * --steady leaves out the low-cadence metrics (settings, texts, bloat).
 */
int
helper_catalog_sql(int argc, char **argv)
{
	static char buf[65536], when[8192];
	const struct metric_def *all;
	struct catalog_vars v = {.pgss = "public", .ext = "public", .limit = 1000,
				 .functions_limit = 1000, .sessions_limit = 50,
				 .exact_limit = 10, .exact_max_size = 1073741824, .where = "true",
				 .datid = "(SELECT oid FROM pg_database WHERE datname = current_database())"};
	struct pga_err err = {0};
	const char *exts[16];
	int version, pgss, extver[16], a = 1;
	bool with_all = false, steady = false;
	size_t n, next = 0;

	for (; a < argc && strncmp(argv[a], "--", 2) == 0; a++) {
		char *eq;

		if (strcmp(argv[a], "--all") == 0) {
			with_all = true;
		} else if (strcmp(argv[a], "--steady") == 0) {
			steady = true;
		} else if (strcmp(argv[a], "--ext") == 0 && a + 1 < argc && next < 16 &&
			   (eq = strchr(argv[a + 1], '=')) != NULL) {
			*eq = '\0';
			exts[next] = argv[++a];
			extver[next++] = catalog_ext_version(eq + 1);
		} else {
			break;
		}
	}
	if (argc - a < 1) {
		fprintf(stderr, "usage: catalog-sql [--all] [--steady] [--ext NAME=VERSION]..."
			" VERSION [PGSS_VERSION [LIMIT]]\n");
		return 64;
	}
	version = atoi(argv[a]);
	pgss = argc > a + 1 ? catalog_pgss_version(argv[a + 1]) : -1;
	if (argc > a + 2)
		v.limit = atoll(argv[a + 2]);
	all = catalog_all(&n);
	for (size_t i = 0; i < n; i++) {
		const struct metric_def *m = &all[i];
		int mv = (m->flags & METRIC_NEEDS_PGSS) ? pgss : version;
		const char *sql;
		bool have = m->ext == NULL;

		if (m->source != METRIC_SQL || (steady && (m->flags & METRIC_LOW_CADENCE)) ||
		    (!with_all && (m->when != NULL || m->ext != NULL)))
			continue;
		for (size_t e = 0; m->ext != NULL && e < next; e++)
			if (strcmp(exts[e], m->ext) == 0) {
				mv = extver[e];
				have = true;
			}
		sql = have ? catalog_sql_for(m, mv) : NULL;
		if (sql == NULL)
			continue;
		if (catalog_expand(sql, &v, buf, sizeof(buf), NULL, &err) < 0 ||
		    catalog_expand(m->when ? m->when : "true", &v, when, sizeof(when), NULL,
				   &err) < 0) {
			fprintf(stderr, "%s: %s\n", m->name, err.msg);
			return 1;
		}
		if (with_all)
			printf("%s\t%s\t%s\t%s\n", m->name,
			       m->scope == METRIC_CLUSTER ? "cluster" : "database", when, buf);
		else
			printf("%s\t%s\t%s\n", m->name,
			       m->scope == METRIC_CLUSTER ? "cluster" : "database", buf);
	}
	return 0;
}

/* catalog-cols: name TAB source TAB scope TAB col,col,... for every metric. */
int
helper_catalog_cols(int argc, char **argv)
{
	static const char *const sources[] = {"sql", "host", "csvlog", "status"};
	const struct metric_def *all;
	size_t n;

	(void)argc;
	(void)argv;
	all = catalog_all(&n);
	for (size_t i = 0; i < n; i++) {
		printf("%s\t%s\t%s\t", all[i].name, sources[all[i].source],
		       all[i].scope == METRIC_CLUSTER ? "cluster" : "database");
		for (size_t c = 0; c < all[i].ncols; c++)
			printf("%s%s", c ? "," : "", all[i].cols[c].name);
		printf("\n");
	}
	return 0;
}

/*
 * catalog-types [--kinds]: name TAB "col type,col type,..." for every SQL
 * metric; with --kinds "col type kind" (key, counter, gauge, info).
 */
int
helper_catalog_types(int argc, char **argv)
{
	static const char *const kinds[] = {"key", "counter", "gauge", "info"};
	bool with_kinds = argc > 1 && strcmp(argv[1], "--kinds") == 0;
	const struct metric_def *all;
	size_t n;

	all = catalog_all(&n);
	for (size_t i = 0; i < n; i++) {
		if (all[i].source != METRIC_SQL)
			continue;
		printf("%s\t", all[i].name);
		for (size_t c = 0; c < all[i].ncols; c++)
			printf("%s%s %s%s%s", c ? "," : "", all[i].cols[c].name, all[i].cols[c].type,
			       with_kinds ? " " : "", with_kinds ? kinds[all[i].cols[c].kind] : "");
		printf("\n");
	}
	return 0;
}

static bool with_desc;	/* seg-blocks --desc */

static void
print_block(const char *seg, const struct seg_block_meta *m, uint64_t rows)
{
	printf("%s\t%s\t%s\t%" PRIu64 "\t%" PRId64 "\t%" PRIu64 "\t%u\t%s\t%u\t",
	       m->metric, m->target, m->database, rows, m->snapshot_us, m->sysid,
	       m->server_version, m->host, m->port);
	for (uint16_t c = 0; c < m->ncols; c++) {
		printf("%s%s", c ? "," : "", m->cols[c]);
		if (with_desc && m->desc != NULL)
			printf(":%s:%s", m->desc[c].type, seg_col_role_name(m->desc[c].role));
	}
	if (with_desc)
		printf("\t%s", m->desc == NULL ? "-" : m->flags & SEG_BLOCK_PER_DATABASE ?
		       "database" : "cluster");
	printf("\t%s\n", seg);
}

static int
list_segment(const struct seg_item *it)
{
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	struct pga_err err = {0};
	char buf[65536];
	size_t got;
	int rc = seg_reader_open(&r, it->read, it->ctx, it->name, &err);

	while (rc == 0 && (rc = seg_reader_next(r, &m, &err)) == 1) {
		struct seg_block_meta copy = *m;

		/* the trailer (rows) is known once the data has been read */
		do
			rc = seg_reader_read(r, buf, sizeof(buf), &got, &err);
		while (rc == 0 && got > 0);
		if (rc == 0)
			print_block(it->name, &copy, seg_reader_trailer(r)->rows);
	}
	seg_reader_free(r);
	if (rc < 0)
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
	return rc < 0 ? 1 : 0;
}

/*
 * seg-blocks [--desc] PATH: every block of every segment under PATH (spool,
 * tree, tar or file), one per line: metric target database rows
 * snapshot_us sysid server_version host port cols segment (tab
 * separated).  --desc: each column as name:type:role, and before the
 * segment the scope (cluster, database; "-" for a block without
 * descriptors).
 */
int
helper_seg_blocks(int argc, char **argv)
{
	struct seg_source *src = NULL;
	struct seg_item it;
	struct pga_err err = {0};
	int rc, status = 0;

	with_desc = argc > 2 && strcmp(argv[1], "--desc") == 0;
	if (with_desc) {
		argc--;
		argv++;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: seg-blocks [--desc] PATH\n");
		return 64;
	}
	rc = seg_source_open(&src, argv[1], &err);
	while (rc == 0) {
		rc = seg_source_next(src, &it, &err);
		if (rc != 1)
			break;
		rc = 0;
		if (list_segment(&it) != 0)
			status = 1;
	}
	seg_source_free(src);
	if (rc < 0) {
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
		return 1;
	}
	return status;
}

/* ---- the prepared path's CSV against COPY's ---- */

#define PREP_CSV_MAX (64u << 20)

struct membuf {
	char *p;
	size_t len, cap;
};

static int
to_mem(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	struct membuf *b = ctx;

	if (b->len + len > PREP_CSV_MAX)
		return pga_fail(err, PGA_EINVAL, "more than %u bytes", PREP_CSV_MAX);
	if (b->len + len > b->cap) {
		size_t cap = (b->len + len) * 2;
		char *p = realloc(b->p, cap);

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return 0;
}

static bool
same(const struct membuf *a, const struct membuf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static size_t
first_diff(const struct membuf *a, const struct membuf *b)
{
	size_t i = 0;

	while (i < a->len && i < b->len && a->p[i] == b->p[i])
		i++;
	return i;
}

/* One round of prep_compare: the four runs into b, how each went into way. */
static int
prep_round(PGconn *conn, const char *copy, const char *sql, unsigned rows, struct membuf *b,
	   int *way, struct pga_err *err)
{
	static char csv[16384];
	int64_t deadline = pga_mono_us() + 60 * 1000000LL;
	uint64_t bytes;
	int rc = 0;

	for (int i = 0; i < 4 && rc >= 0 && rc != CPG_NOT_PREPARED; i++) {
		b[i].len = 0;
		rc = way[i] = i == 0 || i == 3 ?
		     cpg_copy(conn, copy, deadline, to_mem, &b[i], &bytes, err) :
		     cpg_prepared(conn, sql, strlen(sql), rows, deadline, to_mem, &b[i], csv,
				  sizeof(csv), &bytes, err);
	}
	return rc;
}

/*
 * One metric four times in one transaction: COPY, prepared (Parse and
 * run), prepared (run again), COPY.  "same" when the COPYs agree and both
 * prepared runs gave their bytes; "volatile" when the COPYs differ (a
 * value that moves within a transaction: nothing to compare); "DIFF" else.
 * A DIFF is looked at again, up to two more rounds: pg_stat_activity's
 * wait events are read live, not from the transaction's snapshot, so a
 * backend can move and come back between the COPYs (seen: Lock then
 * ClientRead in activity_summary, under load); a byte written otherwise
 * differs every round.  One that differed once only is "moved".
 */
static int
prep_compare(PGconn *conn, const char *name, const char *sql, unsigned rows, int *diffs)
{
	static char copy[1 << 20];
	static const char *const ways[] = {"prepared", "not prepared", "switched", "copied"};
	struct membuf b[4] = {{0}};
	struct pga_err err = {0};
	int rc, way[4] = {0}, first[4];
	const char *verdict = "DIFF";

	snprintf(copy, sizeof(copy), "COPY (%s) TO STDOUT (FORMAT csv)", sql);
	if (strlen(copy) + 1 >= sizeof(copy)) {
		printf("%s\tERROR\ttoo long\n", name);
		(*diffs)++;
		return 0;
	}
	for (int round = 0; round < 3 && strcmp(verdict, "DIFF") == 0; round++) {
		rc = prep_round(conn, copy, sql, rows, b, way, &err);
		if (round == 0)
			memcpy(first, way, sizeof(first));
		if (rc < 0 || rc == CPG_NOT_PREPARED)
			break;
		verdict = !same(&b[0], &b[3]) ? "volatile" :
			  same(&b[0], &b[1]) && same(&b[0], &b[2]) ? (round ? "moved" : "same") :
			  "DIFF";
		if (strcmp(verdict, "DIFF") == 0) {
			const struct membuf *p = same(&b[0], &b[1]) ? &b[2] : &b[1];
			size_t at = first_diff(&b[0], p);

			fprintf(stderr, "%s: round %d at byte %zu: copy '%.40s' prepared '%.40s'\n", name,
				round, at, b[0].p + at, p->p + at);
		}
	}
	if (rc < 0 || rc == CPG_NOT_PREPARED) {
		printf("%s\tERROR\t%s\n", name, rc > 0 ? "not prepared" : err.msg);
		(*diffs)++;
	} else {
		printf("%s\t%s\t%zu\t%s,%s\n", name, verdict, b[0].len, ways[first[1]],
		       ways[first[2]]);
		*diffs += strcmp(verdict, "DIFF") == 0;
	}
	for (int i = 0; i < 4; i++)
		free(b[i].p);
	return rc < 0 ? rc : 0;
}

/*
 * prepared-csv CONNINFO FILE [ROWS]
 * For each line "name TAB scope TAB sql" of FILE (catalog-sql's), in one
 * REPEATABLE READ transaction of the database CONNINFO names, the bytes of
 * the metric as COPY (FORMAT csv) and as pga's prepared statement
 * (cpg_prepared), one line per metric: name TAB same|volatile|DIFF|ERROR
 * TAB bytes TAB how the two prepared runs went (prepared, switched: more
 * than ROWS rows, read by COPY; copied: by COPY as switched before; ROWS
 * is CPG_PREP_ROWS unless given).  pg_stat_statements does not track this session, so reading
 * it does not move it; clock_timestamp() is read as now() (the
 * transaction's start), so the ages of activity_top and others hold still.
 * Exit 1 on any DIFF or ERROR.
 */
#define CLOCK "clock_timestamp()"
#define NOW "now()"

/* clock_timestamp() read as now(), in place: the ages hold still. */
static void
clock_to_now(char *sql)
{
	for (char *c = strstr(sql, CLOCK); c != NULL; c = strstr(c, CLOCK)) {
		memcpy(c, NOW, strlen(NOW));
		memset(c + strlen(NOW), ' ', strlen(CLOCK) - strlen(NOW));
	}
}

/*
 * The comparing session: the collector's settings, untracked by
 * pg_stat_statements, one REPEATABLE READ transaction with the savepoint
 * pga, a stats snapshot where the server has one.  NULL when it failed
 * (said).
 */
static PGconn *
compare_open(const char *conninfo)
{
	struct pga_err err = {0};
	PGconn *conn = NULL;
	int n;

	if (cpg_connect(&conn, conninfo, NULL, pga_mono_us() + 10 * 1000000LL, &err) < 0 ||
	    cpg_exec(conn, "SET search_path = pg_catalog; SET DateStyle = ISO; SET TimeZone = UTC;"
		     " SET pg_stat_statements.track = none; SET jit = off;"
		     " BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SAVEPOINT pga",
		     pga_mono_us() + 10 * 1000000LL, NULL, 0, &n, &err) < 0 ||
	    (PQserverVersion(conn) >= 150000 &&
	     cpg_exec(conn, "SET stats_fetch_consistency = snapshot",
		      pga_mono_us() + 10 * 1000000LL, NULL, 0, &n, &err) < 0)) {
		fprintf(stderr, "%s\n", err.msg);
		PQfinish(conn);
		return NULL;
	}
	return conn;
}
int
helper_prepared_csv(int argc, char **argv)
{
	static char line[65536];
	struct pga_err err = {0};
	PGconn *conn = NULL;
	FILE *f;
	int diffs = 0, n;
	unsigned rows = argc == 4 ? (unsigned)strtoul(argv[3], NULL, 10) : CPG_PREP_ROWS;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: prepared-csv CONNINFO FILE [ROWS]\n");
		return 64;
	}
	f = fopen(argv[2], "r");
	if (f == NULL) {
		fprintf(stderr, "could not open '%s'\n", argv[2]);
		return 1;
	}
	if ((conn = compare_open(argv[1])) == NULL) {
		fclose(f);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;

		if (t2 == NULL)
			continue;
		line[strcspn(line, "\n")] = '\0';
		*t1 = '\0';
		clock_to_now(t2 + 1);
		if (prep_compare(conn, line, t2 + 1, rows, &diffs) < 0 &&
		    cpg_exec(conn, "ROLLBACK; BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
			     pga_mono_us() + 10 * 1000000LL, NULL, 0, &n, &err) < 0)
			break;
	}
	fclose(f);
	PQfinish(conn);
	return diffs > 0 ? 1 : 0;
}

/* The one argument CONNINFO, connected: 0, or the exit code (said). */
static int
conninfo_arg(int argc, char **argv, const char *cmd, PGconn **conn)
{
	struct pga_err err = {0};

	if (argc != 2) {
		fprintf(stderr, "usage: %s CONNINFO\n", cmd);
		return 64;
	}
	if (cpg_connect(conn, argv[1], NULL, pga_mono_us() + 10 * 1000000LL, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	return 0;
}

/*
 * prepared-replan CONNINFO
 * A prepared statement whose table changes its columns: the run after the
 * change fails (SQLSTATE 0A000, the cached plan's result type), the next
 * one prepares it again and has the new column.  Prints each run's CSV or
 * error, one line each, then how many of CPG_PREP_MAX + 10 other
 * statements were prepared and how many were refused (CPG_NOT_PREPARED).
 */
int
helper_prepared_replan(int argc, char **argv)
{
	static const char *const steps[] = {
		"DROP TABLE IF EXISTS prep_t; CREATE TABLE prep_t (a int); INSERT INTO prep_t VALUES (1)",
		NULL, NULL, "ALTER TABLE prep_t ADD COLUMN b text DEFAULT 'x,y'", NULL, NULL,
	};
	static const char sql[] = "SELECT * FROM prep_t";
	struct pga_err err = {0};
	PGconn *conn = NULL;
	char csv[64];
	int n;

	if ((n = conninfo_arg(argc, argv, "prepared-replan", &conn)) != 0)
		return n;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int64_t deadline = pga_mono_us() + 10 * 1000000LL;
		struct membuf b = {0};
		uint64_t bytes;
		int rc = steps[i] ? cpg_exec(conn, steps[i], deadline, NULL, 0, &n, &err) :
			 cpg_prepared(conn, sql, strlen(sql), CPG_PREP_ROWS, deadline, to_mem, &b, csv,
				      sizeof(csv), &bytes, &err);

		if (steps[i] == NULL && rc == 0)
			printf("%.*s", (int)b.len, b.p);
		else if (rc != 0)
			printf("error %s\n", err.sqlstate);
		free(b.p);
	}
	/* a connection holds CPG_PREP_MAX statements (the forgotten one too),
	 * then the caller is told to COPY */
	for (int i = 0, prepared = 0, full = 0; i < CPG_PREP_MAX + 10; i++) {
		char one[32];
		struct membuf b = {0};
		uint64_t bytes;
		int rc;

		snprintf(one, sizeof(one), "SELECT %d", i);
		rc = cpg_prepared(conn, one, strlen(one), CPG_PREP_ROWS, pga_mono_us() + 10 * 1000000LL,
				  to_mem, &b, csv, sizeof(csv), &bytes, &err);
		prepared += rc == 0 && b.len > 0;
		full += rc == CPG_NOT_PREPARED && b.len == 0;
		free(b.p);
		if (i == CPG_PREP_MAX + 9)
			printf("prepared %d, then not %d\n", prepared, full);
	}
	PQfinish(conn);
	return 0;
}

/*
 * prepared-gone CONNINFO
 * The session loses the statements it prepared (DEALLOCATE ALL: what a
 * pooler in transaction mode looks like, another server session each
 * transaction): the run fails with SQLSTATE 26000 and says so, and the
 * connection prepares nothing more (CPG_NOT_PREPARED).  Prints one line a
 * step: the CSV, "error SQLSTATE pooler|other", "copy".
 */
int
helper_prepared_gone(int argc, char **argv)
{
	static const char sql[] = "SELECT 7 AS n";
	struct pga_err err = {0};
	PGconn *conn = NULL;
	char csv[64];
	int n;

	if ((n = conninfo_arg(argc, argv, "prepared-gone", &conn)) != 0)
		return n;
	for (int i = 0; i < 4; i++) {
		int64_t deadline = pga_mono_us() + 10 * 1000000LL;
		struct membuf b = {0};
		uint64_t bytes;
		int rc = i == 1 ? cpg_exec(conn, "DEALLOCATE ALL", deadline, NULL, 0, &n, &err) :
			 cpg_prepared(conn, sql, strlen(sql), CPG_PREP_ROWS, deadline, to_mem, &b, csv,
				      sizeof(csv), &bytes, &err);

		if (i != 1 && rc == 0)
			printf("%.*s", (int)b.len, b.p);
		else if (rc == CPG_NOT_PREPARED)
			printf("copy\n");
		else if (rc < 0)
			printf("error %s %s\n", err.sqlstate,
			       strstr(err.msg, "connection pooler") ? "pooler" : "other");
		free(b.p);
	}
	PQfinish(conn);
	return 0;
}

/* ---- batches of prepared statements (cpg_batch) ---- */

#define WAY_ERROR (-1)

/*
 * Run sql[0..n) as run_batch in cjob.c does: batches of what the
 * connection prepares, a failure ending its batch (rolled back to the
 * savepoint pga, the rest in the next one), what switched or was a COPY
 * already by cpg_prepared after the batch, what may not be prepared by
 * COPY.  way[i]: 0 batched, CPG_SWITCHED, CPG_COPIED, CPG_NOT_PREPARED or
 * WAY_ERROR (err[i] its SQLSTATE and whether it named a pooler).
 */
static int
batch_all(PGconn *conn, char **sql, size_t n, unsigned rows, struct membuf *out, int *way,
	  char (*errs)[40], int *batches)
{
	static char csv[16384], copy[1 << 20];
	int64_t deadline = pga_mono_us() + 60 * 1000000LL;
	struct pga_err err = {0};
	uint64_t bytes;
	int rc, nr;

	for (size_t i = 0; i < n;) {
		struct cpg_batch b;
		bool later[CPG_BATCH_MAX] = {0}, switched[CPG_BATCH_MAX] = {0};
		size_t looked = 0, failed = n;

		rc = cpg_batch_begin(&b, conn, rows, deadline, &err);
		if (rc == CPG_NOT_PREPARED) {
			snprintf(copy, sizeof(copy), "COPY (%s) TO STDOUT (FORMAT csv)", sql[i]);
			way[i] = CPG_NOT_PREPARED;
			if (cpg_copy(conn, copy, deadline, to_mem, &out[i], &bytes, &err) == PGA_EDB) {
				way[i] = WAY_ERROR;
				snprintf(errs[i], sizeof(errs[0]), "%s other", err.sqlstate);
				rc = cpg_exec(conn, "ROLLBACK TO SAVEPOINT pga", deadline, NULL, 0, &nr,
					      &err);
			}
			if (rc < 0 || err.code == PGA_ENET || err.code == PGA_ETIMEOUT)
				return -1;
			i++;
			continue;
		}
		for (; rc == 0 && i + looked < n && looked < CPG_BATCH_MAX; looked++) {
			rc = cpg_batch_add(&b, sql[i + looked], strlen(sql[i + looked]), &err);
			later[looked] = rc == CPG_COPIED || rc == CPG_NOT_PREPARED;
			rc = rc == CPG_BATCH_FULL ? 1 : rc < 0 ? rc : 0;
		}
		looked -= rc == 1;
		rc = rc < 0 ? rc : cpg_batch_send(&b, &err);
		(*batches)++;
		for (size_t k = 0; k < looked && rc == 0 && failed == n; k++) {
			if (later[k])
				continue;
			rc = cpg_batch_next(&b, to_mem, &out[i + k], csv, sizeof(csv), &bytes, &err);
			if (rc == PGA_EDB) {
				failed = k;
				way[i + k] = WAY_ERROR;
				snprintf(errs[i + k], sizeof(errs[0]), "%s %s", err.sqlstate,
					 strstr(err.msg, "connection pooler") ? "pooler" : "other");
				rc = 0;
			} else if (rc == CPG_SWITCHED) {
				later[k] = switched[k] = true;
				rc = 0;
			}
		}
		if (rc < 0 || cpg_batch_end(&b, &err) < 0)
			return -1;
		if (failed < n) {
			if (cpg_exec(conn, "ROLLBACK TO SAVEPOINT pga", deadline, NULL, 0, &nr, &err) < 0)
				return -1;
			looked = failed + 1;
		}
		for (size_t k = 0; k < looked; k++) {
			if (!later[k])
				continue;
			out[i + k].len = 0;
			way[i + k] = cpg_prepared(conn, sql[i + k], strlen(sql[i + k]), rows, deadline,
						  to_mem, &out[i + k], csv, sizeof(csv), &bytes, &err);
			if (way[i + k] < 0)
				return -1;
			if (switched[k] && way[i + k] == CPG_COPIED)
				way[i + k] = CPG_SWITCHED;
		}
		i += looked;
	}
	return 0;
}

static const char *const batch_ways[] = {"batched", "not prepared", "switched", "copied"};

/*
 * prepared-batch CONNINFO FILE [ROWS]
 * As prepared-csv, the metrics of FILE in batches (cpg_batch): COPY each,
 * all batched (Parses and runs), all batched again (runs), COPY each; one
 * line per metric: name TAB same|volatile|DIFF|ERROR TAB bytes TAB how the
 * two batched runs went; then "batches B1 B2".  Exit 1 on DIFF or ERROR.
 */
int
helper_prepared_batch(int argc, char **argv)
{
	static char line[65536], copy[1 << 20];
	char *names[CPG_PREP_MAX], *sqls[CPG_PREP_MAX], (*errs)[40];
	const char **verdict;
	struct membuf *b[4];
	struct pga_err err = {0};
	PGconn *conn = NULL;
	FILE *f;
	size_t n = 0;
	int diffs = 0, nr, *way[2], batches[2] = {0, 0};
	unsigned rows = argc == 4 ? (unsigned)strtoul(argv[3], NULL, 10) : CPG_PREP_ROWS;
	uint64_t bytes;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: prepared-batch CONNINFO FILE [ROWS]\n");
		return 64;
	}
	f = fopen(argv[2], "r");
	if (f == NULL) {
		fprintf(stderr, "could not open '%s'\n", argv[2]);
		return 1;
	}
	while (n < CPG_PREP_MAX && fgets(line, sizeof(line), f) != NULL) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;

		if (t2 == NULL)
			continue;
		line[strcspn(line, "\n")] = '\0';
		*t1 = '\0';
		clock_to_now(t2 + 1);
		names[n] = strdup(line);
		sqls[n++] = strdup(t2 + 1);
	}
	fclose(f);
	for (int i = 0; i < 4; i++)
		b[i] = calloc(n + 1, sizeof(**b));
	way[0] = calloc(n + 1, sizeof(int));
	way[1] = calloc(n + 1, sizeof(int));
	errs = calloc(n + 1, sizeof(*errs));
	if ((conn = compare_open(argv[1])) == NULL)
		return 1;
	/*
	 * A metric can move between the passes and back (pg_stat_activity's
	 * wait events are read live, not from the transaction's snapshot): a
	 * DIFF is looked at again, up to twice more, a whole round each.  A
	 * result in the wrong block or a byte written otherwise differs every
	 * time; a value that moved once is said so ("moved").
	 */
	verdict = calloc(n + 1, sizeof(*verdict));
	for (int round = 0; round < 3; round++) {
		int scratch[2][CPG_PREP_MAX], sb[2] = {0, 0}, left = 0;

		for (int pass = 0; pass < 4; pass++) {
			for (size_t i = 0; i < n; i++)
				b[pass][i].len = 0;
			if (pass == 1 || pass == 2) {
				if (batch_all(conn, sqls, n, rows, b[pass],
					      round == 0 ? way[pass - 1] : scratch[pass - 1], errs,
					      round == 0 ? &batches[pass - 1] : &sb[pass - 1]) < 0) {
					fprintf(stderr, "batch: %s\n", PQerrorMessage(conn));
					return 1;
				}
				continue;
			}
			for (size_t i = 0; i < n; i++) {
				snprintf(copy, sizeof(copy), "COPY (%s) TO STDOUT (FORMAT csv)", sqls[i]);
				if (cpg_copy(conn, copy, pga_mono_us() + 60 * 1000000LL, to_mem,
					     &b[pass][i], &bytes, &err) < 0 &&
				    cpg_exec(conn, "ROLLBACK TO SAVEPOINT pga",
					     pga_mono_us() + 10 * 1000000LL, NULL, 0, &nr, &err) < 0)
					return 1;
			}
		}
		for (size_t i = 0; i < n; i++) {
			const char *v = way[0][i] == WAY_ERROR || way[1][i] == WAY_ERROR ? "ERROR" :
					!same(&b[0][i], &b[3][i]) ? "volatile" :
					same(&b[0][i], &b[1][i]) && same(&b[0][i], &b[2][i]) ? "same" :
					"DIFF";

			if (round > 0 && strcmp(verdict[i], "DIFF") != 0)
				continue;
			if (round > 0 && strcmp(v, "DIFF") != 0)
				v = "moved";	/* DIFF once, not again: a value that moved */
			verdict[i] = v;
			left += strcmp(v, "DIFF") == 0;
			if (strcmp(v, "DIFF") == 0) {
				const struct membuf *q = same(&b[0][i], &b[1][i]) ? &b[2][i] : &b[1][i];
				size_t at = first_diff(&b[0][i], q);

				fprintf(stderr, "%s: round %d: batch %d at byte %zu: copy '%.*s' batch '%.*s'\n",
					names[i], round, q == &b[1][i] ? 1 : 2, at, (int)(b[0][i].len - at),
					b[0][i].p + at, (int)(q->len - at), q->p + at);
			}
		}
		if (left == 0)
			break;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s\t%s\t%zu\t%s,%s%s%s\n", names[i], verdict[i], b[0][i].len,
		       way[0][i] < 0 ? "error" : batch_ways[way[0][i]],
		       way[1][i] < 0 ? "error" : batch_ways[way[1][i]], *errs[i] ? "\t" : "", errs[i]);
		diffs += strcmp(verdict[i], "ERROR") == 0 || strcmp(verdict[i], "DIFF") == 0;
	}
	printf("batches %d %d\n", batches[0], batches[1]);
	PQfinish(conn);
	return diffs > 0 ? 1 : 0;
}

/*
 * prepared-batch-fail CONNINFO
 * Batches that fail and switch, three "cycles" (a transaction each, with
 * the savepoint pga), DEALLOCATE ALL before the third: one line a cycle,
 * each statement's CSV (a space for a newline) or what happened, then how
 * many statements the session holds (pg_prepared_statements); then a batch
 * of 40 new 1 kB statements: how many batches it took and whether every
 * result was its own.
 */
int
helper_prepared_batch_fail(int argc, char **argv)
{
	static char *sqls[] = {
		"SELECT 1 AS a", "SELECT 1 / (SELECT count(*) - count(*) FROM pg_class)::int AS b",
		"SELECT 2 AS c", "SELECT no_such_column FROM pg_class", "SELECT 3 AS d",
		"SELECT g FROM generate_series(1, 5) g",
	};
	enum { N = sizeof(sqls) / sizeof(sqls[0]), BIG = 40 };
	static char big[BIG][1100], *bigp[BIG];
	struct pga_err err = {0};
	PGconn *conn = NULL;
	int n, ok = 0;

	if ((n = conninfo_arg(argc, argv, "prepared-batch-fail", &conn)) != 0)
		return n;
	for (int cycle = 0; cycle < 3; cycle++) {
		struct membuf out[N] = {{0}};
		char errs[N][40] = {{0}};
		int way[N] = {0}, batches = 0;
		PGresult *r[1] = {NULL};
		int64_t deadline = pga_mono_us() + 10 * 1000000LL;

		if ((cycle == 2 && cpg_exec(conn, "DEALLOCATE ALL", deadline, NULL, 0, &n, &err) < 0) ||
		    cpg_exec(conn, "BEGIN; SAVEPOINT pga", deadline, NULL, 0, &n, &err) < 0 ||
		    batch_all(conn, sqls, N, 3, out, way, errs, &batches) < 0 ||
		    cpg_exec(conn, "SELECT count(*) FROM pg_prepared_statements", deadline, r, 1, &n,
			     &err) < 0 || cpg_exec(conn, "COMMIT", deadline, NULL, 0, &n, &err) < 0) {
			fprintf(stderr, "cycle %d: %s %s\n", cycle, err.msg, PQerrorMessage(conn));
			return 1;
		}
		for (int i = 0; i < N; i++) {
			for (size_t k = 0; k < out[i].len; k++)
				out[i].p[k] = out[i].p[k] == '\n' ? ' ' : out[i].p[k];
			if (way[i] == WAY_ERROR)
				printf("error %s|", errs[i]);
			else
				printf("%.*s%s|", (int)out[i].len, out[i].p,
				       way[i] ? batch_ways[way[i]] : "");
			free(out[i].p);
		}
		printf(" %s statements\n", PQgetvalue(r[0], 0, 0));
		PQclear(r[0]);
	}
	PQfinish(conn);
	if ((n = conninfo_arg(argc, argv, "prepared-batch-fail", &conn)) != 0)
		return n;
	for (int i = 0; i < BIG; i++) {
		snprintf(big[i], sizeof(big[i]), "SELECT %d AS n, '%01000d' AS pad", i, 0);
		bigp[i] = big[i];
	}
	{
		struct membuf out[BIG] = {{0}};
		char errs[BIG][40] = {{0}};
		int way[BIG] = {0}, batches = 0;

		if (cpg_exec(conn, "BEGIN; SAVEPOINT pga", pga_mono_us() + 10 * 1000000LL, NULL, 0, &n,
			     &err) < 0 || batch_all(conn, bigp, BIG, 3, out, way, errs, &batches) < 0) {
			fprintf(stderr, "big: %s\n", err.msg);
			return 1;
		}
		for (int i = 0; i < BIG; i++) {
			char want[16];
			int wl = snprintf(want, sizeof(want), "%d,", i);

			ok += way[i] == 0 && out[i].len == (size_t)wl + 1001 &&
			      memcmp(out[i].p, want, (size_t)wl) == 0;
			free(out[i].p);
		}
		printf("%d statements of 1 kB: %d batches, %d right\n", BIG, batches, ok);
	}
	PQfinish(conn);
	return 0;
}
