/* Unit tests of cfacts.c: what a snapshot query learns for the catalog. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collect/collect_int.h"

static const struct catalog_vars vars = {
	.pgss = "public", .limit = 10000, .functions_limit = 100000, .sessions_limit = 10000,
	.exact_limit = 1000, .exact_max_size = 1LL << 40, .where = "true",
	.datid = "(SELECT oid FROM pg_database WHERE datname = current_database())",
};

static bool
want_all(const struct metric_def *m, void *ctx)
{
	(void)ctx;
	return m->source == METRIC_SQL;
}

static bool
want_none(const struct metric_def *m, void *ctx)
{
	(void)m;
	(void)ctx;
	return false;
}

/* A one-row result of text columns, as the server would send it. */
static PGresult *
result(int ncols, const char *const *vals)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc *attrs = calloc((size_t)ncols, sizeof(*attrs));

	assert_non_null(r);
	for (int i = 0; i < ncols; i++) {
		attrs[i].name = (char *)"c";
		attrs[i].typid = 25;
		attrs[i].typlen = -1;
		attrs[i].atttypmod = -1;
	}
	assert_true(PQsetResultAttrs(r, ncols, attrs));
	for (int i = 0; i < ncols; i++)
		assert_true(PQsetvalue(r, 0, i, (char *)vals[i], vals[i] ? (int)strlen(vals[i]) : -1));
	free(attrs);
	return r;
}

/* Every condition and extension of the catalog fits where sessions put them. */
static void
test_fits(void **state)
{
	struct cfacts f;
	struct pga_err err = {0};
	char *buf = malloc(CFACTS_SQL_CAP);
	const struct metric_def *all;
	size_t n, with_when = 0;

	(void)state;
	assert_int_equal(cfacts_sql(&f, true, want_all, NULL, &vars, buf, CFACTS_SQL_CAP, &err), 0);
	all = catalog_all(&n);
	for (size_t i = 0; i < n; i++)
		with_when += all[i].when != NULL;
	assert_int_equal(f.nwhen, with_when);
	/* room to grow: a catalog twice as conditional would still fit */
	assert_true(strlen(buf) < CFACTS_SQL_CAP / 2);
	assert_non_null(strstr(buf, "'pgstattuple'"));
	assert_null(strstr(buf, "{"));
	/* too small is an error that names the metric, never a cut query */
	assert_int_equal(cfacts_sql(&f, true, want_all, NULL, &vars, buf, 1500, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "does not fit"));
	assert_int_equal(cfacts_sql(&f, false, want_none, NULL, &vars, buf, CFACTS_SQL_CAP, &err), 0);
	assert_string_equal(buf, "");
	free(buf);
}

static const struct metric_def *
first_with(bool ext, enum metric_scope scope)
{
	const struct metric_def *all;
	size_t n;

	all = catalog_all(&n);
	for (size_t i = 0; i < n; i++)
		if ((all[i].ext != NULL) == ext && all[i].when != NULL && all[i].scope == scope)
			return &all[i];
	fail_msg("no such metric");
	return NULL;
}

/* Extensions: installed (its version and schema), absent, unknown version. */
static void
test_extensions(void **state)
{
	const char *const *exts;
	const char *vals[2 * CATALOG_EXT_MAX];
	const struct metric_def *qs = catalog_find("pg_qualstats");
	const struct metric_def *kc = catalog_find("pg_stat_kcache");
	struct cfacts f;
	struct pga_err err = {0};
	char buf[CFACTS_SQL_CAP];
	const char *schema = NULL;
	int version = 0;
	size_t n;
	PGresult *r;

	(void)state;
	exts = catalog_extensions(&n);
	for (size_t i = 0; i < n; i++) {
		bool q = strcmp(exts[i], "pg_qualstats") == 0, k = strcmp(exts[i], "pg_stat_kcache") == 0;

		vals[2 * i] = q ? "2.0.4" : k ? "9.x" : NULL;
		vals[2 * i + 1] = q ? "\"my schema\"" : k ? "public" : NULL;
	}
	assert_int_equal(cfacts_sql(&f, true, want_none, NULL, &vars, buf, sizeof(buf), &err), 0);
	r = result((int)(2 * n), vals);
	cfacts_parse(&f, true, r, 0, 0);
	PQclear(r);
	/* installed: runs with its version and schema, but for its condition
	 * (which nobody asked here) */
	assert_int_equal(cfacts_skip(&f, qs, &version, &schema), CFACTS_WHEN);
	assert_int_equal(version, 200);
	assert_string_equal(schema, "\"my schema\"");
	/* a version that is not one */
	assert_int_equal(cfacts_skip(&f, kc, &version, &schema), CFACTS_EXT_VERSION);
	cfacts_why(&f, kc, CFACTS_EXT_VERSION, "db", buf, sizeof(buf));
	assert_string_equal(buf, "pg_stat_kcache 9.x is not a version pga knows");
	/* absent */
	assert_int_equal(cfacts_skip(&f, catalog_find("table_bloat_exact"), &version, &schema),
			 CFACTS_NO_EXT);
	cfacts_why(&f, catalog_find("table_bloat_exact"), CFACTS_NO_EXT, "db", buf, sizeof(buf));
	assert_string_equal(buf, "pgstattuple is not installed in database 'db'");
	/* a metric that needs nothing always runs */
	assert_int_equal(cfacts_skip(&f, catalog_find("pg_stat_database"), &version, &schema),
			 CFACTS_RUN);
}

/* Conditions: true runs, false and NULL and not asked do not; merged ones count. */
static void
test_conditions(void **state)
{
	const struct metric_def *cl = first_with(false, METRIC_CLUSTER);
	const struct metric_def *db = first_with(false, METRIC_DATABASE);
	const struct metric_def *all;
	struct cfacts f, more;
	struct pga_err err = {0};
	char buf[CFACTS_SQL_CAP];
	const char *vals[CATALOG_MAX], *schema = NULL;
	int version = 0;
	size_t n;
	PGresult *r;

	(void)state;
	all = catalog_all(&n);
	assert_int_equal(cfacts_sql(&f, false, want_all, NULL, &vars, buf, sizeof(buf), &err), 0);
	for (size_t w = 0; w < f.nwhen; w++)
		vals[w] = &all[f.when_idx[w]] == cl ? "t" : &all[f.when_idx[w]] == db ? NULL : "f";
	r = result((int)f.nwhen, vals);
	cfacts_parse(&f, false, r, 0, 0);
	PQclear(r);
	assert_int_equal(cfacts_skip(&f, cl, &version, &schema), CFACTS_RUN);
	assert_int_equal(cfacts_skip(&f, db, &version, &schema), CFACTS_WHEN);	/* NULL */
	cfacts_why(&f, db, CFACTS_WHEN, "db", buf, sizeof(buf));
	assert_true(strncmp(buf, "only with ", 10) == 0);
	/* not asked at all: not run either */
	memset(&f, 0, sizeof(f));
	f.parsed = true;
	assert_int_equal(cfacts_skip(&f, cl, &version, &schema), CFACTS_WHEN);
	/* learnt elsewhere (the database list): true, then false again */
	memset(&more, 0, sizeof(more));
	more.when_idx[more.nwhen++] = (uint8_t)(db - all);
	cfacts_merge(&f, &more);
	assert_int_equal(cfacts_skip(&f, db, &version, &schema), CFACTS_RUN);
	more.off[(size_t)(db - all) / 64] |= UINT64_C(1) << ((size_t)(db - all) % 64);
	cfacts_merge(&f, &more);
	assert_int_equal(cfacts_skip(&f, db, &version, &schema), CFACTS_WHEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_conditions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
