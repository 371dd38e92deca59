/* Unit tests of the metric catalog: the rules every entry must follow. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collect/catalog.h"
#include "common/err.h"
#include "spool/segment.h"

static const char *const types[] = {
	"bigint", "integer", "oid", "text", "boolean", "timestamptz",
	"double precision", "numeric", "pg_lsn", "text[]", "smallint[]", NULL,
};

static bool
known_type(const char *t)
{
	for (int i = 0; types[i]; i++)
		if (strcmp(types[i], t) == 0)
			return true;
	return false;
}

static void
test_names_and_columns(void **state)
{
	const struct metric_def *all;
	size_t n;

	(void)state;
	all = catalog_all(&n);
	assert_true(n >= 30);
	for (size_t i = 0; i < n; i++) {
		const struct metric_def *m = &all[i];
		bool counters = false, reset_found = m->reset_col == NULL;

		assert_true(seg_metric_valid(m->name));
		assert_ptr_equal(catalog_find(m->name), m);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(all[j].name, m->name);
		assert_true(m->ncols > 0 && m->ncols <= SEG_MAX_COLS);
		assert_non_null(m->doc);
		for (size_t c = 0; c < m->ncols; c++) {
			if (!seg_column_valid(m->cols[c].name) || !known_type(m->cols[c].type))
				fail_msg("%s.%s: bad name or type '%s'", m->name, m->cols[c].name,
					 m->cols[c].type);
			for (size_t d = 0; d < c; d++)
				if (strcmp(m->cols[d].name, m->cols[c].name) == 0)
					fail_msg("%s: column '%s' twice", m->name, m->cols[c].name);
			counters |= m->cols[c].kind == COL_COUNTER;
			if (m->reset_col && strcmp(m->reset_col, m->cols[c].name) == 0)
				reset_found = true;
		}
		if (!reset_found)
			fail_msg("%s: reset column '%s' is not a column", m->name, m->reset_col);
		if (counters != ((m->flags & METRIC_CUMULATIVE) != 0))
			fail_msg("%s: METRIC_CUMULATIVE must be set exactly when it has counters",
				 m->name);
	}
	assert_null(catalog_find("no_such_metric"));
}

static void
test_version_ranges(void **state)
{
	const struct metric_def *all;
	size_t n;

	(void)state;
	all = catalog_all(&n);
	for (size_t i = 0; i < n; i++) {
		const struct metric_def *m = &all[i];
		bool pgss = m->flags & METRIC_NEEDS_PGSS;

		if (m->source != METRIC_SQL) {
			assert_int_equal(m->nsql, 0);
			continue;
		}
		assert_true(m->nsql > 0);
		assert_true(m->sql[0].min_version >= (pgss ? 104 : 120000));
		for (size_t s = 0; s < m->nsql; s++) {
			const struct metric_sql *q = &m->sql[s];

			assert_non_null(strstr(q->sql, "SELECT "));
			if (strstr(q->sql, "SELECT *") != NULL)
				fail_msg("%s: SELECT * in its sql", m->name);
			if (s + 1 < m->nsql) {
				if (q->max_version + 1 != m->sql[s + 1].min_version)
					fail_msg("%s: range %zu does not end where the next begins",
						 m->name, s);
			} else if (q->max_version != 0) {
				fail_msg("%s: the newest range must be open-ended", m->name);
			}
		}
		/* every metric exists on the newest server */
		assert_non_null(catalog_sql_for(m, pgss ? 112 : 180004));
		assert_null(catalog_sql_for(m, pgss ? 103 : 110000));
	}
}

static void
test_sql_for(void **state)
{
	const struct metric_def *io = catalog_find("pg_stat_io");
	const struct metric_def *cp = catalog_find("pg_stat_checkpointer");

	(void)state;
	assert_null(catalog_sql_for(io, 150018));
	assert_non_null(catalog_sql_for(io, 160000));
	assert_non_null(strstr(catalog_sql_for(cp, 160009), "pg_stat_bgwriter"));
	assert_non_null(strstr(catalog_sql_for(cp, 170000), "pg_stat_checkpointer"));
	assert_null(strstr(catalog_sql_for(cp, 170005), "num_done"));
	assert_non_null(strstr(catalog_sql_for(cp, 180000), "num_done"));
	assert_non_null(strstr(catalog_sql_for(catalog_find("pg_stat_statements"), 107),
			       "total_time"));
	assert_null(catalog_sql_for(catalog_find("pg_stat_statements_info"), 108));
}

static void
test_pgss_version(void **state)
{
	(void)state;
	assert_int_equal(catalog_pgss_version("1.10"), 110);
	assert_int_equal(catalog_pgss_version("1.9"), 109);
	assert_int_equal(catalog_pgss_version("1.4"), 104);
	assert_int_equal(catalog_pgss_version("1.12"), 112);
	assert_int_equal(catalog_pgss_version("2"), -1);
	assert_int_equal(catalog_pgss_version("1.x"), -1);
	assert_int_equal(catalog_pgss_version("1.10beta"), -1);
	assert_int_equal(catalog_pgss_version(""), -1);
	assert_int_equal(catalog_pgss_version(NULL), -1);
}

static void
test_expand(void **state)
{
	struct catalog_vars v = {.pgss = "\"my schema\"", .limit = 250,
				 .functions_limit = 10, .where = "queryid = 1"};
	struct pga_err err = {0};
	char buf[256];
	size_t len;

	(void)state;
	assert_int_equal(catalog_expand("SELECT * FROM {pgss}.f() WHERE {where} LIMIT {limit}",
					&v, buf, sizeof(buf), &len, &err), 0);
	assert_string_equal(buf, "SELECT * FROM \"my schema\".f() WHERE queryid = 1 LIMIT 250");
	assert_int_equal(len, strlen(buf));
	assert_int_equal(catalog_expand("{functions_limit}", &v, buf, sizeof(buf), NULL, &err), 0);
	assert_string_equal(buf, "10");
	assert_int_equal(catalog_expand("a {nope} b", &v, buf, sizeof(buf), NULL, &err),
			 PGA_EINVAL);
	assert_non_null(strstr(err.msg, "{nope}"));
	assert_int_equal(catalog_expand("{limit}{limit}{limit}", &v, buf, 8, NULL, &err),
			 PGA_EINVAL);
	v.limit = 0;
	assert_int_equal(catalog_expand("LIMIT {limit}", &v, buf, sizeof(buf), NULL, &err),
			 PGA_EINVAL);
	v.pgss = NULL;
	assert_int_equal(catalog_expand("{pgss}.x", &v, buf, sizeof(buf), NULL, &err), PGA_EINVAL);
	/* an unmatched brace is plain text */
	assert_int_equal(catalog_expand("a { b", &v, buf, sizeof(buf), NULL, &err), 0);
	assert_string_equal(buf, "a { b");
}

/* Every placeholder the catalog uses expands with the collector's values. */
static void
test_all_sql_expands(void **state)
{
	struct catalog_vars v = {.pgss = "public", .limit = 10000, .functions_limit = 100000,
				 .where = "true"};
	struct pga_err err = {0};
	const struct metric_def *all;
	char buf[16384];
	size_t n;

	(void)state;
	all = catalog_all(&n);
	for (size_t i = 0; i < n; i++)
		for (size_t s = 0; s < all[i].nsql; s++)
			if (catalog_expand(all[i].sql[s].sql, &v, buf, sizeof(buf), NULL, &err) != 0)
				fail_msg("%s: %s", all[i].name, err.msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_columns),
		cmocka_unit_test(test_version_ranges),
		cmocka_unit_test(test_sql_for),
		cmocka_unit_test(test_pgss_version),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_all_sql_expands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
