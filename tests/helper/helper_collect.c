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
