/*
 * floor.c - the bench's lower bound for a collection cycle: the same COPY
 * queries as pga, over libpq from N threads, output discarded.  No
 * transaction, no compression, no spool: what the network and the server
 * cost.  Built by bench/20-collect.sh with gcc.
 *
 * usage: floor THREADS CONNINFO QUERIES DB...
 *   QUERIES: lines "name<TAB>cluster|database<TAB>sql" (pga-test-helper
 *   catalog-sql); cluster queries run once (first database), database
 *   queries once per database.
 * Prints: seconds rows bytes cpu_user_s cpu_sys_s
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <libpq-fe.h>

#define MAXQ 256

static const char *conninfo;
static char *qsql[MAXQ];
static int qcluster[MAXQ], nq;
static char **dbs;
static int ndbs;
static atomic_int next_db;
static atomic_long total_rows, total_bytes;

static void
run_copy(PGconn *c, const char *sql)
{
	char buf[65536];
	PGresult *r;
	char *row;
	int n;

	snprintf(buf, sizeof(buf), "COPY (%s) TO STDOUT (FORMAT csv)", sql);
	r = PQexec(c, buf);
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		fprintf(stderr, "floor: %s", PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
	while ((n = PQgetCopyData(c, &row, 0)) > 0) {
		atomic_fetch_add(&total_rows, 1);
		atomic_fetch_add(&total_bytes, n);
		PQfreemem(row);
	}
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
}

static void *
worker(void *arg)
{
	(void)arg;
	for (;;) {
		int i = atomic_fetch_add(&next_db, 1);
		const char *keys[] = {"dbname", "dbname", NULL};
		const char *vals[] = {conninfo, NULL, NULL};
		PGconn *c;

		if (i >= ndbs)
			return NULL;
		vals[1] = dbs[i];
		c = PQconnectdbParams(keys, vals, 1);
		if (PQstatus(c) != CONNECTION_OK) {
			fprintf(stderr, "floor: %s", PQerrorMessage(c));
			exit(1);
		}
		for (int q = 0; q < nq; q++)
			if (!qcluster[q] || i == 0)
				run_copy(c, qsql[q]);
		PQfinish(c);
	}
}

int
main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	pthread_t th[64];
	char line[65536];
	FILE *f;
	int nth;

	if (argc < 5) {
		fprintf(stderr, "usage: floor THREADS CONNINFO QUERIES DB...\n");
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
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < nth; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	getrusage(RUSAGE_SELF, &ru);
	printf("%.3f %ld %ld %.3f %.3f\n",
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
	       atomic_load(&total_rows), atomic_load(&total_bytes),
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	return 0;
}
