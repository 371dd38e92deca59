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
	"double precision", "numeric", "pg_lsn", "text[]", "smallint[]", "smallint",
	"integer[]", NULL,
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
		if (m->ext != NULL && catalog_ext_index(m->ext) < 0)
			fail_msg("%s: extension '%s' is not in catalog_extensions()", m->name, m->ext);
		if ((m->when != NULL) != (m->needs != NULL))
			fail_msg("%s: a condition (when) is said in words (needs), and only then",
				 m->name);
		if (m->ext != NULL && (m->flags & METRIC_NEEDS_PGSS))
			fail_msg("%s: pg_stat_statements has its own path", m->name);
		if ((m->flags & METRIC_BLOAT) && !(m->flags & METRIC_LOW_CADENCE))
			fail_msg("%s: bloat-every is a low cadence", m->name);
	}
	assert_true(n <= CATALOG_MAX);
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
		bool pgss = m->flags & METRIC_NEEDS_PGSS, ext = m->ext != NULL;

		if (m->source != METRIC_SQL) {
			assert_int_equal(m->nsql, 0);
			assert_null(m->ext);
			assert_null(m->when);
			continue;
		}
		assert_true(m->nsql > 0);
		assert_true(m->sql[0].min_version >= (pgss ? 104 : ext ? 100 : 120000));
		if (ext)
			assert_true(m->sql[m->nsql - 1].min_version < 9999);
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
		/* every metric exists on the newest server (extension) */
		assert_non_null(catalog_sql_for(m, pgss ? 112 : ext ? 9999 : 180004));
		assert_null(catalog_sql_for(m, pgss ? 103 : ext ? 100 : 110000));
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
test_ext_version(void **state)
{
	size_t n;
	const char *const *exts = catalog_extensions(&n);

	(void)state;
	assert_int_equal(catalog_ext_version("2.2.1"), 202);
	assert_int_equal(catalog_ext_version("2.1"), 201);
	assert_int_equal(catalog_ext_version("1.10"), 110);
	assert_int_equal(catalog_ext_version("1.5.0"), 105);
	assert_int_equal(catalog_ext_version("2.0.4"), 200);
	assert_int_equal(catalog_ext_version("2"), -1);
	assert_int_equal(catalog_ext_version("2.2x"), -1);
	assert_int_equal(catalog_ext_version("2.2."), -1);
	assert_int_equal(catalog_ext_version("2.2.1x"), -1);
	assert_int_equal(catalog_ext_version("2.2.1.4"), -1);
	assert_int_equal(catalog_ext_version("100.1"), -1);
	assert_int_equal(catalog_ext_version(""), -1);
	assert_int_equal(catalog_ext_version(NULL), -1);
	/* the list the snapshot query looks up: no name twice, every one used */
	assert_true(n > 0 && n <= CATALOG_EXT_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct metric_def *all;
		size_t m, used = 0;

		assert_int_equal(catalog_ext_index(exts[i]), (int)i);
		all = catalog_all(&m);
		for (size_t j = 0; j < m; j++)
			used += all[j].ext != NULL && strcmp(all[j].ext, exts[i]) == 0;
		if (used == 0)
			fail_msg("extension '%s' has no metric", exts[i]);
	}
	assert_int_equal(catalog_ext_index("plpgsql"), -1);
	assert_int_equal(catalog_ext_index(NULL), -1);
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
	/* {ext}, the session limit; a bloat-exact-limit of 0 is a value, but
	 * only beside its size: an unset pair is still an error */
	assert_int_equal(catalog_expand("{ext}.f()", &v, buf, sizeof(buf), NULL, &err), PGA_EINVAL);
	v.ext = "x";
	v.sessions_limit = 7;
	assert_int_equal(catalog_expand("{ext}.f() {sessions_limit}", &v, buf, sizeof(buf), NULL,
					&err), 0);
	assert_string_equal(buf, "x.f() 7");
	assert_int_equal(catalog_expand("{exact_limit}", &v, buf, sizeof(buf), NULL, &err),
			 PGA_EINVAL);
	v.exact_max_size = 1024;
	assert_int_equal(catalog_expand("{exact_limit} {exact_max_size}", &v, buf, sizeof(buf),
					NULL, &err), 0);
	assert_string_equal(buf, "0 1024");
	v.exact_limit = -1;
	assert_int_equal(catalog_expand("{exact_limit}", &v, buf, sizeof(buf), NULL, &err),
			 PGA_EINVAL);
	v.sessions_limit = 0;
	assert_int_equal(catalog_expand("{sessions_limit}", &v, buf, sizeof(buf), NULL, &err),
			 PGA_EINVAL);
	/* an unmatched brace is plain text */
	assert_int_equal(catalog_expand("a { b", &v, buf, sizeof(buf), NULL, &err), 0);
	assert_string_equal(buf, "a { b");
}

/* Every placeholder the catalog uses expands with the collector's values. */
static void
test_all_sql_expands(void **state)
{
	struct catalog_vars v = {.pgss = "public", .ext = "\"my ext\"", .limit = 10000,
				 .functions_limit = 100000, .sessions_limit = 10000,
				 .exact_limit = 1000, .exact_max_size = 1LL << 40, .where = "true",
				 .datid = "d.oid"};
	struct catalog_vars nox = v;
	struct pga_err err = {0};
	const struct metric_def *all;
	char buf[16384];
	size_t n;

	(void)state;
	nox.ext = NULL;
	all = catalog_all(&n);
	for (size_t i = 0; i < n; i++) {
		for (size_t s = 0; s < all[i].nsql; s++) {
			if (catalog_expand(all[i].sql[s].sql, &v, buf, sizeof(buf), NULL, &err) != 0)
				fail_msg("%s: %s", all[i].name, err.msg);
			/* only an extension's metric names its schema */
			if ((strstr(all[i].sql[s].sql, "{ext}") != NULL) != (all[i].ext != NULL))
				fail_msg("%s: {ext} exactly in the SQL of an extension's metric",
					 all[i].name);
		}
		/* a condition runs before any extension is known */
		if (all[i].when != NULL &&
		    catalog_expand(all[i].when, &nox, buf, sizeof(buf), NULL, &err) != 0)
			fail_msg("%s: condition: %s", all[i].name, err.msg);
		/* only a database metric's condition is of one database */
		if (all[i].when != NULL && strstr(all[i].when, "{datid}") != NULL &&
		    (all[i].scope != METRIC_DATABASE || all[i].ext != NULL))
			fail_msg("%s: {datid} in the condition of a cluster or extension metric",
				 all[i].name);
		for (size_t s = 0; s < all[i].nsql; s++)
			if (strstr(all[i].sql[s].sql, "{datid}") != NULL)
				fail_msg("%s: {datid} is for conditions", all[i].name);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_columns),
		cmocka_unit_test(test_version_ranges),
		cmocka_unit_test(test_sql_for),
		cmocka_unit_test(test_pgss_version),
		cmocka_unit_test(test_ext_version),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_all_sql_expands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
