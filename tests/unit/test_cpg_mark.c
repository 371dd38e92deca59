/*
 * Unit tests of collect/cpg's statement mark: every statement of what the
 * collector sends carries the mark after its first word, and nothing else
 * changes (a ';' inside a literal, identifier, dollar quote or comment is
 * not a statement's end).  The catalog's own SQL comes out unchanged but
 * for the mark.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
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
	/* a byte above 0x7f continues an identifier too (PostgreSQL's
	 * ident_cont): \xc3\xa9$a$ is a name, no dollar quote, and \xc3\xa9" "E'
	 * a name and a plain literal (the marker once took both for quotes) */
	check("SELECT 1 AS \xc3\xa9$a$; SELECT ';$a$'",
	      "SELECT /* pga */ 1 AS \xc3\xa9$a$; SELECT /* pga */ ';$a$'");
	check("SELECT \xc3\xa9" "E'\\'; SELECT 8",
	      "SELECT /* pga */ \xc3\xa9" "E'\\'; SELECT /* pga */ 8");
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

/* ---- the byte-at-a-time marker the fast one replaced, as a reference ---- */

/* Length of the dollar-quote tag ($tag$ or $$) at p, or 0 if none starts there. */
static size_t
ref_dollar_tag(const char *p, const char *start)
{
	size_t n = 1;

	/* $1 is a parameter, x$y (also é$y) part of an identifier */
	if (p > start && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || (unsigned char)p[-1] >= 0x80))
		return 0;
	if (isdigit((unsigned char)p[1]))
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_' || (unsigned char)p[n] >= 0x80)
		n++;
	return p[n] == '$' ? n + 1 : 0;
}

/* End of the token that starts at p (a quote, comment or anything else). */
static const char *
ref_skip_token(const char *p, const char *start)
{
	size_t tag;

	if (p[0] == '\'' || ((p[0] == 'E' || p[0] == 'e') && p[1] == '\'' &&
			     (p == start || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' ||
					      (unsigned char)p[-1] >= 0x80)))) {
		bool esc = p[0] != '\'';

		for (p += esc ? 2 : 1; *p; p++) {
			if (esc && *p == '\\' && p[1])
				p++;
			else if (*p == '\'' && p[1] == '\'')
				p++;
			else if (*p == '\'')
				return p + 1;
		}
		return p;
	}
	if (p[0] == '"') {
		for (p++; *p; p++) {
			if (*p == '"' && p[1] == '"')
				p++;
			else if (*p == '"')
				return p + 1;
		}
		return p;
	}
	if (p[0] == '-' && p[1] == '-')
		return p + strcspn(p, "\n");
	if (p[0] == '/' && p[1] == '*') {
		int depth = 1;

		for (p += 2; *p && depth > 0; p++) {
			if (p[0] == '/' && p[1] == '*')
				depth++, p++;
			else if (p[0] == '*' && p[1] == '/')
				depth--, p++;
		}
		return p;
	}
	if (p[0] == '$' && (tag = ref_dollar_tag(p, start)) > 0) {
		const char *end;

		for (end = p + tag; *end; end++)
			if (strncmp(end, p, tag) == 0)
				return end + tag;
		return end;
	}
	return p + 1;
}

/* Copy the blanks and the first word of the statement at p, then the mark. */
static const char *
ref_mark_statement(const char *p, char *out, size_t *o)
{
	size_t n = strspn(p, " \t\r\n");
	size_t ml = strlen(CPG_MARK);

	while (isalpha((unsigned char)p[n]) || p[n] == '_')
		n++;
	memcpy(out + *o, p, n);
	*o += n;
	out[(*o)++] = ' ';
	memcpy(out + *o, CPG_MARK, ml);
	*o += ml;
	return p + n;
}

static char *
ref_cpg_mark(const char *sql)
{
	size_t marks = 1, o = 0;
	const char *p;
	char *out;

	for (p = sql; *p; p = ref_skip_token(p, sql))
		marks += *p == ';';
	/* as many marks as bytes: the reference's own count could fall short */
	(void)marks;
	out = malloc(strlen(sql) * (strlen(CPG_MARK) + 2) + 64);
	if (out == NULL)
		return NULL;
	p = ref_mark_statement(sql, out, &o);
	while (*p) {
		const char *next = ref_skip_token(p, sql);

		memcpy(out + o, p, (size_t)(next - p));
		o += (size_t)(next - p);
		/* a statement follows this ';' unless only blanks do */
		if (*p == ';' && next[strspn(next, " \t\r\n")] != '\0')
			next = ref_mark_statement(next, out, &o);
		p = next;
	}
	out[o] = '\0';
	return out;
}

/*
 * The marker skips runs of ordinary characters at once: random strings of
 * what may start or end a token (quotes, E'', dollar tags, comments, ';'),
 * in every order, come out as the byte-at-a-time reference marks them.
 */
static void
test_same_as_reference(void **state)
{
	static const char *const atoms[] = {
		"'", "''", "E'", "e'", "xE'", "_e'", "\\", "\\'", "\"", "\"\"", "--", "\n", "/*", "*/",
		"$$", "$a$", "$1", "x$", "$", ";", "; ", " ", "SELECT", "e", "E", "a", "1", "-", "/",
		"COPY (", ")", "\xc3\xa9",
	};
	size_t natoms = sizeof(atoms) / sizeof(atoms[0]);
	unsigned seed = 12345;

	(void)state;
	/* a statement that starts with E'': the mark parts E from its quote,
	 * so the literal is a plain one and the ';' ends the statement (the
	 * marker once counted it as E'' and wrote past what it had allocated) */
	check("E'\\';SELECT 1", "E /* pga */'\\';SELECT /* pga */ 1");
	for (int round = 0; round < 20000; round++) {
		char in[256] = "";
		int n = 1 + (int)(rand_r(&seed) % 14);
		char *want, *got;

		for (int i = 0; i < n; i++)
			strcat(in, atoms[rand_r(&seed) % natoms]);
		want = ref_cpg_mark(in);
		got = cpg_mark(in);
		assert_non_null(want);
		assert_non_null(got);
		if (strcmp(want, got) != 0)
			fail_msg("input [%s]: want [%s], got [%s]", in, want, got);
		free(want);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_quoted_semicolons),
		cmocka_unit_test(test_catalog_sql),
		cmocka_unit_test(test_same_as_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
