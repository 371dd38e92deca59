/* Collector internals for the tests and the bench: catalog SQL, block lists. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/catalog.h"
#include "common/err.h"
#include "spool/segment.h"
#include "spool/source.h"
#include "tests/helper/helper.h"

/*
 * catalog-sql VERSION [PGSS_VERSION [LIMIT]]: every SQL metric available on
 * server_version_num VERSION, one per line: name TAB scope TAB sql, with the
 * placeholders filled (schema public, texts "true").
 */
int
helper_catalog_sql(int argc, char **argv)
{
	static char buf[65536];
	const struct metric_def *all;
	struct catalog_vars v = {.pgss = "public", .limit = 1000,
				 .functions_limit = 1000, .where = "true"};
	struct pga_err err = {0};
	int version, pgss;
	size_t n;

	if (argc < 2) {
		fprintf(stderr, "usage: catalog-sql VERSION [PGSS_VERSION [LIMIT]]\n");
		return 64;
	}
	version = atoi(argv[1]);
	pgss = argc > 2 ? catalog_pgss_version(argv[2]) : -1;
	if (argc > 3)
		v.limit = atoll(argv[3]);
	all = catalog_all(&n);
	for (size_t i = 0; i < n; i++) {
		const struct metric_def *m = &all[i];
		const char *sql;

		if (m->source != METRIC_SQL)
			continue;
		sql = catalog_sql_for(m, (m->flags & METRIC_NEEDS_PGSS) ? pgss : version);
		if (sql == NULL)
			continue;
		if (catalog_expand(sql, &v, buf, sizeof(buf), NULL, &err) < 0) {
			fprintf(stderr, "%s: %s\n", m->name, err.msg);
			return 1;
		}
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

static void
print_block(const char *seg, const struct seg_block_meta *m, uint64_t rows)
{
	printf("%s\t%s\t%s\t%" PRIu64 "\t%" PRId64 "\t%" PRIu64 "\t%u\t%s\t%u\t",
	       m->metric, m->target, m->database, rows, m->snapshot_us, m->sysid,
	       m->server_version, m->host, m->port);
	for (uint16_t c = 0; c < m->ncols; c++)
		printf("%s%s", c ? "," : "", m->cols[c]);
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
 * seg-blocks PATH: every block of every segment under PATH (spool, tree,
 * tar or file), one per line: metric target database rows snapshot_us
 * sysid server_version host port cols segment (tab separated).
 */
int
helper_seg_blocks(int argc, char **argv)
{
	struct seg_source *src = NULL;
	struct seg_item it;
	struct pga_err err = {0};
	int rc, status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: seg-blocks PATH\n");
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
