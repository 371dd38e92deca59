/*
 * Unit tests of collect/custom.c: the check that keeps a custom query inside
 * COPY's parentheses (every quoting form PostgreSQL's scanner has, each way
 * to leave one open), the checks of [metric:NAME] sections, the cadence, and
 * the type names.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collect/custom.h"

static void
accepted(const char *sql)
{
	struct pga_err err = {0};

	if (custom_sql_check(sql, &err) != 0)
		fail_msg("refused '%s': %s", sql, err.msg);
}

static void
refused(const char *sql, const char *why)
{
	struct pga_err err = {0};

	if (custom_sql_check(sql, &err) != PGA_EINVAL)
		fail_msg("accepted '%s'", sql);
	if (strstr(err.msg, why) == NULL)
		fail_msg("'%s': '%s' does not say '%s'", sql, err.msg, why);
}

static void
test_one_query(void **state)
{
	(void)state;
	accepted("SELECT 1 AS a");
	accepted("WITH x AS (SELECT 1 AS a) SELECT a FROM x");
	accepted("SELECT E'\\')' AS e");		/* E'' escapes its quote */
	accepted("SELECT e'\\\\' AS e, ')' AS f");
	accepted("SELECT 'b\\' AS b, ')' AS c");	/* a plain '' does not */
	accepted("SELECT 'it''s ) ;' AS a");
	accepted("SELECT $q$ ) ; $x$ $q$ AS d");
	accepted("SELECT $$)$$ AS d");
	accepted("SELECT x$y AS a FROM t");		/* $ inside an identifier */
	accepted("SELECT \")\"\"\" AS a");
	accepted("SELECT 1 AS a -- ) TO PROGRAM 'x'");
	accepted("SELECT /* ( /* ; */ ) */ 1 AS a");
	accepted("SELECT U&'d\\0061t' AS a");
	accepted("SELECT (1) AS a, ((2)) AS b");
}

static void
test_escapes(void **state)
{
	(void)state;
	refused("SELECT 1; DROP TABLE t", "';' at offset 8");
	refused("SELECT 1 AS a;", "';'");
	refused("SELECT 1 AS a ;  ", "';'");
	refused("SELECT 1) TO PROGRAM 'touch /tmp/x' --", "closes a parenthesis");
	refused("SELECT 1) TO STDOUT; COPY (SELECT 2", "closes a parenthesis");
	refused("SELECT (1 AS a", "1 parenthesis open");
	refused("SELECT ((1 AS a", "2 parentheses open");
	refused("SELECT 'a) TO PROGRAM ''x'' --", "unterminated");
	refused("SELECT E'a\\') TO PROGRAM 'x' --", "unterminated");	/* \' keeps it open */
	refused("SELECT \"a) TO PROGRAM 'x'", "unterminated");
	refused("SELECT 1 /* ) TO PROGRAM 'x'", "unterminated");
	refused("SELECT 1 /* /* */ ) TO PROGRAM 'x'", "unterminated");	/* comments nest */
	refused("SELECT $q$ ) TO PROGRAM 'x' $Q$", "unterminated");
	refused("SELECT $$ )", "unterminated");
	refused("", "empty");
	refused("   -- nothing\n  /* at all */ ", "empty");
	refused(")(", "closes a parenthesis");
}

static int
load(const char *text, struct pga_config **cfg, struct pga_err *err)
{
	return pga_config_load_mem("t.conf", text, strlen(text), cfg, err);
}

static void
validates(const char *text, const char *want)
{
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};
	int rc = load(text, &cfg, &err);

	if (rc == 0)
		rc = custom_validate(cfg, &err);
	if (want == NULL && rc != 0)
		fail_msg("refused: %s", err.msg);
	if (want != NULL && (rc != PGA_ECONFIG || strstr(err.msg, want) == NULL))
		fail_msg("'%s' does not say '%s'", err.msg, want);
	pga_config_free(cfg);
}

static void
test_sections(void **state)
{
	(void)state;
	validates("[metric:a_1]\nsql = SELECT 1 AS a\nkeys = a\n", NULL);
	validates("[metric:pg_stat_database]\nsql = SELECT 1 AS a\n",
		  "t.conf:1: [metric:pg_stat_database] is a built-in metric");
	validates("[metric:snapshot_status]\nsql = SELECT 1 AS a\n", "is a built-in metric");
	validates("[metric:gaps]\nsql = SELECT 1 AS a\n", "reserves");
	validates("[metric:x_delta]\nsql = SELECT 1 AS a\n", "reserves");
	validates("[metric:m]\n\nsql = SELECT 1;\n", "t.conf:3: [metric:m] sql has a ';'");
	validates("[metric:m]\nsql = SELECT 1 AS a\ngauges = a,b\ncounters = b\n",
		  "t.conf:3: [metric:m] column 'b' is in 'counters' and in 'gauges'");
	validates("[metric:m]\nsql = SELECT 1 AS a\nkeys = a,a\n", "'keys' twice");
	validates("[metric:m]\nsql = SELECT 1 AS a\nreset-column = a\nkeys = a\n",
		  "column 'a' is in 'keys' and in 'reset-column'");
	validates("[metric:m]\nsql = SELECT 1 AS a\nkeys = 1a\n", "'1a' is not a column name");
	validates("[metric:m]\nsql = SELECT 1 AS a\nkeys = xmin\n", "'xmin' is not a column name");
}

static void
test_names(void **state)
{
	static const char *const bad[] = {"A", "1a", "_a", "a-b", "a.b", "é", "",
		"a234567890123456789012345678901234567890123456789012345678901234"};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pga_config *cfg = NULL;
		struct pga_err err = {0};

		snprintf(text, sizeof(text), "[metric:%s]\nsql = SELECT 1 AS a\n", bad[i]);
		assert_int_equal(load(text, &cfg, &err), PGA_ECONFIG);
		assert_non_null(strstr(err.msg, "invalid metric name"));
	}
	validates("[metric:a23456789012345678901234567890123456789012345678901234567890123]\n"
		  "sql = SELECT 1 AS a\n", NULL);
}

static void
test_cadence(void **state)
{
	struct pga_metric m = {.every = 3, .enabled = true};

	(void)state;
	for (uint64_t c = 1; c <= 10; c++)
		assert_int_equal(custom_due(&m, 150000, c), c == 1 || c == 4 || c == 7 || c == 10);
	m.every = 1;
	assert_true(custom_due(&m, 150000, 2));
	m.min_version = 150000;
	m.max_version = 159999;
	assert_true(custom_due(&m, 150000, 2));
	assert_true(custom_due(&m, 159999, 2));
	assert_false(custom_due(&m, 149999, 2));
	assert_false(custom_due(&m, 160000, 2));
	m.max_version = 0;
	assert_true(custom_due(&m, 180000, 2));
	m.enabled = false;
	assert_false(custom_due(&m, 150000, 2));
}

static void
test_types(void **state)
{
	(void)state;
	assert_string_equal(custom_type_name(20), "bigint");
	assert_string_equal(custom_type_name(23), "integer");
	assert_string_equal(custom_type_name(701), "double precision");
	assert_string_equal(custom_type_name(1700), "numeric");
	assert_string_equal(custom_type_name(1184), "timestamptz");
	assert_string_equal(custom_type_name(16), "boolean");
	assert_string_equal(custom_type_name(26), "oid");
	assert_string_equal(custom_type_name(1186), "interval");
	assert_string_equal(custom_type_name(1043), "text");	/* varchar */
	assert_string_equal(custom_type_name(19), "text");	/* name */
	assert_string_equal(custom_type_name(1007), "text");	/* int4[]: unknown */
	assert_string_equal(custom_type_name(123456), "text");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_query),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cadence),
		cmocka_unit_test(test_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
