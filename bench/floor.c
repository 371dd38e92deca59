/*
 * floor.c - the bench's lower bound for a collection cycle: the same
 * queries as pga, over libpq from N threads, output discarded.  No
 * transaction, no compression, no spool: what the network and the server
 * cost.  Built by bench/20-collect.sh and bench/21-scale.sh with gcc.
 *
 * usage: floor [-l CYCLES] [-p | -s | -1 | -P] THREADS CONNINFO QUERIES DB...
 *   QUERIES: lines "name<TAB>cluster|database<TAB>sql" (pga-test-helper
 *   catalog-sql); cluster queries run once (first database), database
 *   queries once per database.
 *   -l CYCLES: loop mode, the floor of `pga collect --loop`: one
 *   connection per database, opened in the first cycle and kept for the
 *   next ones, CYCLES cycles.
 *   -p: prepared: each query is prepared once per connection (PQprepare)
 *   and run with PQexecPrepared, text rows dropped, instead of a COPY
 *   (which cannot be prepared): the server parses and plans it once.
 *   -s: each query as a plain SELECT (PQexec, text rows dropped): parsed
 *   and planned every time, like the COPY, but sent as rows; beside the
 *   COPY it tells COPY's output from the planning.
 *   -1: as -p, in single-row mode (PQsetSingleRowMode): a result per row,
 *   what holding one row at a time costs the client.
 *   -P: as -p, each database's queries sent together in libpq's pipeline
 *   mode, one sync: what fewer round trips per database would save.
 * Prints one line per cycle: seconds rows bytes cpu_user_s cpu_sys_s
 * peak_rss_kib (the client CPU of that cycle, all threads; the process's
 * peak RSS so far).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#define MAXQ 256

static const char *conninfo;
static char *qsql[MAXQ];
static int qcluster[MAXQ], nq;
static char **dbs;
static PGconn **conns;		/* loop mode: kept, by database */
static int ndbs;
static bool loop, prepared, plain, single, piped;
static atomic_int next_db;
static atomic_long total_rows, total_bytes;

static void
fail(PGconn *c)
{
	fprintf(stderr, "floor: %s", PQerrorMessage(c));
	exit(1);
}

static void
run_copy(PGconn *c, const char *sql)
{
	char buf[65536];
	PGresult *r;
	char *row;
	long rows = 0, bytes = 0;
	int n;

	snprintf(buf, sizeof(buf), "COPY (%s) TO STDOUT (FORMAT csv)", sql);
	r = PQexec(c, buf);
	if (PQresultStatus(r) != PGRES_COPY_OUT)
		fail(c);
	PQclear(r);
	while ((n = PQgetCopyData(c, &row, 0)) > 0) {
		rows++;
		bytes += n;
		PQfreemem(row);
	}
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	atomic_fetch_add(&total_rows, rows);
	atomic_fetch_add(&total_bytes, bytes);
}

static void
count_rows(PGresult *r, long *rows, long *bytes)
{
	int cols = PQnfields(r), n = PQntuples(r);

	for (int i = 0; i < n; i++)
		for (int j = 0; j < cols; j++)
			*bytes += PQgetlength(r, i, j) + 1;
	*rows += n;
}

/* The rows of a query, as text; the bytes are the values'. */
static void
run_rows(PGconn *c, int q, bool first)
{
	char name[16];
	PGresult *r;
	long rows = 0, bytes = 0;

	snprintf(name, sizeof(name), "q%d", q);
	if (plain) {
		r = PQexec(c, qsql[q]);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail(c);
		count_rows(r, &rows, &bytes);
		PQclear(r);
		goto out;
	}
	if (first) {
		r = PQprepare(c, name, qsql[q], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			fail(c);
		PQclear(r);
	}
	if (!PQsendQueryPrepared(c, name, 0, NULL, NULL, NULL, 0) ||
	    (single && !PQsetSingleRowMode(c)))
		fail(c);
	while ((r = PQgetResult(c)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE)
			fail(c);
		count_rows(r, &rows, &bytes);
		PQclear(r);
	}
out:
	atomic_fetch_add(&total_rows, rows);
	atomic_fetch_add(&total_bytes, bytes);
}

/* A database's queries in one pipeline: sent together, one sync, then read. */
static void
run_piped(PGconn *c, int db, bool first)
{
	long rows = 0, bytes = 0;
	PGresult *r;
	int sent = 0;

	if (!PQenterPipelineMode(c))
		fail(c);
	for (int q = 0; q < nq; q++) {
		char name[16];

		if (qcluster[q] && db != 0)
			continue;
		snprintf(name, sizeof(name), "q%d", q);
		if (first && !PQsendPrepare(c, name, qsql[q], 0, NULL))
			fail(c);
		if (!PQsendQueryPrepared(c, name, 0, NULL, NULL, NULL, 0))
			fail(c);
		sent += first ? 2 : 1;
	}
	if (!PQpipelineSync(c))
		fail(c);
	for (int k = 0; k < sent; k++) {
		while ((r = PQgetResult(c)) != NULL) {
			ExecStatusType st = PQresultStatus(r);

			if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
				fail(c);
			count_rows(r, &rows, &bytes);
			PQclear(r);
		}
	}
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
		fail(c);
	PQclear(r);
	if (!PQexitPipelineMode(c))
		fail(c);
	atomic_fetch_add(&total_rows, rows);
	atomic_fetch_add(&total_bytes, bytes);
}

static void *
worker(void *arg)
{
	(void)arg;
	for (;;) {
		int i = atomic_fetch_add(&next_db, 1);
		const char *keys[] = {"dbname", "dbname", NULL};
		const char *vals[] = {conninfo, NULL, NULL};
		bool first = true;
		PGconn *c;

		if (i >= ndbs)
			return NULL;
		c = loop ? conns[i] : NULL;
		if (c == NULL) {
			vals[1] = dbs[i];
			c = PQconnectdbParams(keys, vals, 1);
			if (PQstatus(c) != CONNECTION_OK)
				fail(c);
		} else {
			first = false;
		}
		for (int q = 0; q < nq && piped; q = nq)
			run_piped(c, i, first);
		for (int q = 0; q < nq && !piped; q++) {
			if (qcluster[q] && i != 0)
				continue;
			if (prepared || plain)
				run_rows(c, q, first);
			else
				run_copy(c, qsql[q]);
		}
		if (loop)
			conns[i] = c;
		else
			PQfinish(c);
	}
}

static double
secs(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	pthread_t th[64];
	char line[65536];
	FILE *f;
	int nth, cycles = 1, opt;

	while ((opt = getopt(argc, argv, "+l:ps1P")) != -1) {
		if (opt == 'l') {
			loop = true;
			cycles = atoi(optarg);
		} else if (opt == 'p') {
			prepared = true;
		} else if (opt == 's') {
			plain = true;
		} else if (opt == 'P') {
			prepared = piped = true;
		} else if (opt == '1') {
			prepared = single = true;
		} else {
			return 64;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 5 || cycles < 1) {
		fprintf(stderr, "usage: floor [-l CYCLES] [-p | -s | -1 | -P] THREADS CONNINFO QUERIES DB...\n");
		return 64;
	}
	nth = atoi(argv[1]);
	if (nth < 1 || nth > 64)
		return 64;
	conninfo = argv[2];
	f = fopen(argv[3], "r");
	if (f == NULL)
		return 1;
	while (nq < MAXQ && fgets(line, sizeof(line), f)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;

		if (t2 == NULL)
			continue;
		line[strcspn(line, "\n")] = '\0';
		qcluster[nq] = strncmp(t1 + 1, "cluster", 7) == 0;
		qsql[nq++] = strdup(t2 + 1);
	}
	fclose(f);
	dbs = argv + 4;
	ndbs = argc - 4;
	conns = calloc((size_t)ndbs, sizeof(*conns));
	if (conns == NULL)
		return 1;
	for (int cy = 0; cy < cycles; cy++) {
		struct timespec a, b;
		struct rusage r0, r1;

		atomic_store(&next_db, 0);
		atomic_store(&total_rows, 0);
		atomic_store(&total_bytes, 0);
		getrusage(RUSAGE_SELF, &r0);
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (int i = 0; i < nth; i++)
			pthread_create(&th[i], NULL, worker, NULL);
		for (int i = 0; i < nth; i++)
			pthread_join(th[i], NULL);
		clock_gettime(CLOCK_MONOTONIC, &b);
		getrusage(RUSAGE_SELF, &r1);
		printf("%.3f %ld %ld %.4f %.4f %ld\n",
		       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
		       atomic_load(&total_rows), atomic_load(&total_bytes),
		       secs(r1.ru_utime) - secs(r0.ru_utime), secs(r1.ru_stime) - secs(r0.ru_stime),
		       r1.ru_maxrss);
		fflush(stdout);
	}
	for (int i = 0; i < ndbs; i++)
		PQfinish(conns[i]);
	return 0;
}
