/*
 * Unit tests of collect/cpg's CSV writer (cpg_csv_rows): the rows of a
 * prepared statement must reach a block as the very bytes COPY (FORMAT csv)
 * writes (PostgreSQL's CopyAttributeOutCSV), hostile values included: NULL
 * against the empty string, delimiters, quotes, CR and LF, "\." alone on a
 * row, bytes above 0x7f, values longer than the buffer.  The results are
 * built with libpq's own PQmakeEmptyPGresult/PQsetvalue.  The same bytes
 * from the server's COPY are compared in tests/t/2010-catalog.t.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collect/cpg.h"

/* What the sink got, and in how many calls. */
struct got {
	char *buf;
	size_t len, cap;
	int calls;
	int fail_at;	/* the call that fails (1-based), 0: none */
};

static int
sink(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	struct got *g = ctx;

	if (++g->calls == g->fail_at)
		return pga_fail(err, PGA_EIO, "sink failed");
	if (g->len + len + 1 > g->cap) {
		g->cap = (g->len + len + 1) * 2;
		g->buf = realloc(g->buf, g->cap);
		assert_non_null(g->buf);
	}
	memcpy(g->buf + g->len, buf, len);
	g->len += len;
	g->buf[g->len] = '\0';
	return 0;
}

/* A result of ncols text columns; vals row by row, NULL for SQL NULL. */
static PGresult *
result(int ncols, int nrows, const char *const *vals)
{
	PGresult *r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc att[8];

	assert_non_null(r);
	assert_true(ncols <= 8);
	memset(att, 0, sizeof(att));
	for (int j = 0; j < ncols; j++) {
		att[j].name = (char *)"c";
		att[j].typid = 25;
		att[j].typlen = -1;
		att[j].atttypmod = -1;
	}
	assert_int_equal(PQsetResultAttrs(r, ncols, att), 1);
	for (int i = 0; i < nrows; i++)
		for (int j = 0; j < ncols; j++) {
			const char *v = vals[i * ncols + j];

			assert_int_equal(PQsetvalue(r, i, j, (char *)v, v ? (int)strlen(v) : -1), 1);
		}
	return r;
}

/* The CSV of r through a buffer of cap bytes. */
static char *
csv(const PGresult *r, size_t cap, int *calls)
{
	struct got g = {0};
	struct pga_err err = {0};
	uint64_t bytes = 0;
	char *buf = malloc(cap);

	assert_non_null(buf);
	assert_int_equal(cpg_csv_rows(r, buf, cap, sink, &g, &bytes, &err), 0);
	free(buf);
	if (g.buf == NULL)
		g.buf = strdup("");
	assert_int_equal(bytes, g.len);
	if (calls != NULL)
		*calls = g.calls;
	return g.buf;
}

/* Every buffer size from 1 to beyond the output gives the same bytes. */
static void
check(int ncols, int nrows, const char *const *vals, const char *want)
{
	PGresult *r = result(ncols, nrows, vals);

	for (size_t cap = 1; cap <= strlen(want) + 2; cap++) {
		char *got = csv(r, cap, NULL);

		assert_string_equal(got, want);
		free(got);
	}
	PQclear(r);
}

static void
test_null_and_empty(void **state)
{
	const char *const v1[] = {NULL, "", "x"};
	const char *const v2[] = {NULL};
	const char *const v3[] = {""};
	const char *const v4[] = {NULL, NULL, NULL, NULL, NULL, NULL};

	(void)state;
	/* NULL is nothing, the empty string a quoted nothing */
	check(3, 1, v1, ",\"\",x\n");
	check(1, 1, v2, "\n");
	check(1, 1, v3, "\"\"\n");
	check(3, 2, v4, ",,\n,,\n");
}

static void
test_quoting(void **state)
{
	const char *const v[] = {
		"a,b", "say \"hi\"", "\"", "line\nbreak", "cr\rhere", "crlf\r\n",
		"plain", " spaces kept ", "tab\tis plain", "back\\slash", "'single'", "\"\"",
	};

	(void)state;
	check(6, 2, v,
	      "\"a,b\",\"say \"\"hi\"\"\",\"\"\"\",\"line\nbreak\",\"cr\rhere\",\"crlf\r\n\"\n"
	      "plain, spaces kept ,tab\tis plain,back\\slash,'single',\"\"\"\"\"\"\n");
}

static void
test_end_of_data_marker(void **state)
{
	const char *const one[] = {"\\.", "\\.x", "x\\.", "\\"};
	const char *const two[] = {"\\.", "\\."};

	(void)state;
	/* "\." alone on a row is COPY's end of data: quoted when the only column */
	check(1, 4, one, "\"\\.\"\n\\.x\nx\\.\n\\\n");
	check(2, 1, two, "\\.,\\.\n");
}

static void
test_high_bytes(void **state)
{
	/* UTF-8, and bytes that are not (a SQL_ASCII database): passed on as
	 * they are, the escaper comes after (common/utf8.h) */
	const char *const v[] = {"\xc3\xa9t\xc3\xa9", "\xff\xfe,\x80", "\xe2\x82\xac\"", "\x80"};

	(void)state;
	check(4, 1, v, "\xc3\xa9t\xc3\xa9,\"\xff\xfe,\x80\",\"\xe2\x82\xac\"\"\",\x80\n");
}

static void
test_long_values(void **state)
{
	size_t n = 1 << 20;
	char *a = malloc(n + 1), *b = malloc(n + 1), *want = malloc(3 * n + 16), *got;
	const char *v[2];
	PGresult *r;
	size_t w = 0;
	int calls;

	(void)state;
	assert_true(a && b && want);
	for (size_t i = 0; i < n; i++) {
		a[i] = (char)('a' + i % 26);
		b[i] = i % 1000 == 999 ? '"' : (char)('a' + i % 26);
	}
	a[n] = b[n] = '\0';
	v[0] = a;
	v[1] = b;
	memcpy(want, a, n);
	w = n;
	want[w++] = ',';
	want[w++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (b[i] == '"')
			want[w++] = '"';
		want[w++] = b[i];
	}
	want[w++] = '"';
	want[w++] = '\n';
	want[w] = '\0';
	r = result(2, 1, v);
	got = csv(r, 16384, &calls);
	assert_int_equal(strlen(got), w);
	assert_memory_equal(got, want, w);
	/* the buffer is the cap: a long value goes in pieces */
	assert_true(calls >= (int)(w / 16384));
	free(got);
	got = csv(r, 7, NULL);
	assert_memory_equal(got, want, w);
	free(got);
	PQclear(r);
	free(a);
	free(b);
	free(want);
}

static void
test_many_rows_few_calls(void **state)
{
	const char *v[200];
	char *got;
	int calls;
	PGresult *r;

	(void)state;
	for (int i = 0; i < 200; i++)
		v[i] = "12345";
	r = result(2, 100, v);
	got = csv(r, 16384, &calls);
	assert_int_equal(strlen(got), 100 * 12);
	assert_int_equal(calls, 1);
	free(got);
	PQclear(r);
	/* no rows: nothing sent */
	r = result(2, 0, v);
	got = csv(r, 16, &calls);
	assert_string_equal(got, "");
	assert_int_equal(calls, 0);
	free(got);
	PQclear(r);
}

static void
test_sink_error(void **state)
{
	const char *const v[] = {"aaaa", "bbbb", "cccc", "dddd"};
	struct got g = {.fail_at = 2};
	struct pga_err err = {0};
	uint64_t bytes = 0;
	char buf[4];
	PGresult *r = result(1, 4, v);

	(void)state;
	assert_int_equal(cpg_csv_rows(r, buf, sizeof(buf), sink, &g, &bytes, &err), PGA_EIO);
	assert_string_equal(err.msg, "sink failed");
	/* it stopped at the failure */
	assert_int_equal(g.calls, 2);
	free(g.buf);
	PQclear(r);
}

/* A reader of COPY's CSV: what it reads back is what was written. */
static void
test_round_trip(void **state)
{
	static const char alphabet[] = "a,\"\r\n\\. \x80\xc3\xa9";
	char vals[64][16];
	const char *v[64];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		int ncols = 1 + round % 4, nrows = 1 + (round / 4) % 4, k = 0;
		const char *p;
		char *got;
		PGresult *r;

		for (int i = 0; i < ncols * nrows; i++) {
			int len = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 6 - 1;

			for (int c = 0; c < len; c++)
				vals[i][c] = alphabet[((seed = seed * 1103515245u + 12345u) >> 16) %
						      (sizeof(alphabet) - 1)];
			vals[i][len < 0 ? 0 : len] = '\0';
			v[i] = len < 0 ? NULL : vals[i];
		}
		r = result(ncols, nrows, v);
		got = csv(r, 1 + round % 9, NULL);
		p = got;
		for (int i = 0; i < nrows; i++) {
			for (int j = 0; j < ncols; j++, k++) {
				char field[64];
				size_t f = 0;
				bool quoted = *p == '"';

				if (quoted) {
					for (p++; !(p[0] == '"' && p[1] != '"'); p++) {
						if (p[0] == '"')
							p++;
						field[f++] = *p;
					}
					p++;
				} else {
					while (*p != ',' && *p != '\n')
						field[f++] = *p++;
				}
				field[f] = '\0';
				if (v[k] == NULL) {
					assert_false(quoted);
					assert_int_equal(f, 0);
				} else {
					assert_string_equal(field, v[k]);
					assert_true(quoted || f > 0);
				}
				assert_int_equal(*p, j + 1 < ncols ? ',' : '\n');
				p++;
			}
		}
		assert_int_equal(*p, '\0');
		free(got);
		PQclear(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_and_empty),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_end_of_data_marker),
		cmocka_unit_test(test_high_bytes),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_many_rows_few_calls),
		cmocka_unit_test(test_sink_error),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
