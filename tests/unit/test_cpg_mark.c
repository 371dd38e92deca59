/*
 * Unit tests of collect/cpg's statement mark: every statement of what the
 * collector sends carries the mark after its first word, and nothing else
 * changes (a ';' inside a literal, identifier, dollar quote or comment is
 * not a statement's end).  The catalog's own SQL comes out unchanged but
 * for the mark.
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

#include "collect/catalog.h"
#include "collect/cpg.h"

static void
check(const char *in, const char *want)
{
	char *got = cpg_mark(in);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_statements(void **state)
{
	(void)state;
	check("SELECT 1", "SELECT /* pga */ 1");
	check("COPY (SELECT 1) TO STDOUT (FORMAT csv)",
	      "COPY /* pga */ (SELECT 1) TO STDOUT (FORMAT csv)");
	check("RELEASE SAVEPOINT pga; SAVEPOINT pga; COPY (SELECT 1) TO STDOUT",
	      "RELEASE /* pga */ SAVEPOINT pga; SAVEPOINT /* pga */ pga; COPY /* pga */ (SELECT 1)"
	      " TO STDOUT");
	check("BEGIN;SELECT 2", "BEGIN /* pga */;SELECT /* pga */ 2");
	/* a trailing ';' ends nothing new */
	check("SELECT 1; ", "SELECT /* pga */ 1; ");
	check("SELECT 1;", "SELECT /* pga */ 1;");
	check("", " /* pga */");
	check("  SELECT\n1;\n\tCOMMIT", "  SELECT /* pga */\n1;\n\tCOMMIT /* pga */");
}

static void
test_quoted_semicolons(void **state)
{
	(void)state;
	check("SELECT 'a;b'; SELECT 2", "SELECT /* pga */ 'a;b'; SELECT /* pga */ 2");
	check("SELECT 'it''s; fine'; SELECT 2", "SELECT /* pga */ 'it''s; fine'; SELECT /* pga */ 2");
	check("SELECT E'\\';x'; SELECT 3", "SELECT /* pga */ E'\\';x'; SELECT /* pga */ 3");
	check("SELECT e'\\\\'; SELECT 3", "SELECT /* pga */ e'\\\\'; SELECT /* pga */ 3");
	/* a plain literal has no backslash escapes: the quote ends it */
	check("SELECT '\\'; SELECT 4", "SELECT /* pga */ '\\'; SELECT /* pga */ 4");
	check("SELECT 1 AS \";\"; SELECT 2", "SELECT /* pga */ 1 AS \";\"; SELECT /* pga */ 2");
	check("SELECT 1 AS \"a\"\";\"; SELECT 2",
	      "SELECT /* pga */ 1 AS \"a\"\";\"; SELECT /* pga */ 2");
	check("SELECT $$;$$; SELECT 5", "SELECT /* pga */ $$;$$; SELECT /* pga */ 5");
	check("SELECT $t$ ; $$ ; $t$; SELECT 6", "SELECT /* pga */ $t$ ; $$ ; $t$; SELECT /* pga */ 6");
	/* $1 is a parameter and x$y an identifier, not dollar quotes */
	check("SELECT $1; SELECT x$y; SELECT 7",
	      "SELECT /* pga */ $1; SELECT /* pga */ x$y; SELECT /* pga */ 7");
	check("SELECT 1 -- a; comment\n; SELECT 2",
	      "SELECT /* pga */ 1 -- a; comment\n; SELECT /* pga */ 2");
	check("SELECT 1 /* a; /* nested; */ b; */; SELECT 2",
	      "SELECT /* pga */ 1 /* a; /* nested; */ b; */; SELECT /* pga */ 2");
	/* unterminated: the rest is the token, nothing marked inside */
	check("SELECT 'x; SELECT 2", "SELECT /* pga */ 'x; SELECT 2");
	check("SELECT $$x; SELECT 2", "SELECT /* pga */ $$x; SELECT 2");
}

/* Take the marks out again: what is left is what was given. */
static char *
unmark(const char *s)
{
	const char *m = " " CPG_MARK;
	size_t ml = strlen(m), o = 0;
	char *out = malloc(strlen(s) + 1);

	for (const char *p = s; *p;) {
		if (strncmp(p, m, ml) == 0) {
			p += ml;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

static size_t
count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

static void
test_catalog_sql(void **state)
{
	size_t n;
	const struct metric_def *all = catalog_all(&n);
	struct catalog_vars v = {.pgss = "public", .ext = "public", .limit = 100,
				 .functions_limit = 50, .sessions_limit = 50, .exact_limit = 10,
				 .exact_max_size = 1 << 30, .where = "queryid = ANY ('{1,2}')"};
	char buf[16384];

	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < all[i].nsql; j++) {
			char *m, *u, sql[16384 + 64];

			assert_int_equal(catalog_expand(all[i].sql[j].sql, &v, buf, sizeof(buf), NULL,
							NULL), 0);
			snprintf(sql, sizeof(sql), "SAVEPOINT pga; COPY (%s) TO STDOUT (FORMAT csv)", buf);
			m = cpg_mark(sql);
			assert_non_null(m);
			/* two statements, two marks, each after the first word */
			assert_int_equal(count(m, CPG_MARK), 2 + count(sql, CPG_MARK));
			assert_non_null(strstr(m, "COPY " CPG_MARK " ("));
			u = unmark(m);
			assert_string_equal(u, sql);
			free(u);
			free(m);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_quoted_semicolons),
		cmocka_unit_test(test_catalog_sql),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
