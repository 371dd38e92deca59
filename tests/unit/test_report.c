/*
 * Unit tests of the report's page writer and charts: escaping holds for
 * every byte and every cut, the CSP hash is the standard one, charts break
 * at gaps and draw nothing without points, numbers read as people expect.
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

#include "common/utf8.h"
#include "report/chart.h"
#include "report/html.h"
#include "report/report_int.h"
#include "report/sample.h"

/* What html_* wrote, NUL-terminated (caller frees). */
struct cap {
	char *buf;
	size_t len;
	FILE *f;
	struct html h;
};

static void
cap_open(struct cap *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	html_init(&c->h, html_sink_file, c->f);
}

static char *
cap_close(struct cap *c)
{
	assert_int_equal(html_flush(&c->h), 0);
	fclose(c->f);
	return c->buf;
}

static char *
escaped(const char *s)
{
	struct cap c;

	cap_open(&c);
	html_text(&c.h, s);
	return cap_close(&c);
}

static void
expect(const char *in, const char *want)
{
	char *got = escaped(in);

	assert_string_equal(got, want);
	free(got);
}

static void
test_escape_markup(void **state)
{
	(void)state;
	expect("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
	expect("</svg><img src=x onerror=alert(1)>", "&lt;/svg&gt;&lt;img src=x onerror=alert(1)&gt;");
	expect("\"><a href=\"javascript:x\">", "&quot;&gt;&lt;a href=&quot;javascript:x&quot;&gt;");
	expect("it's & more", "it&#39;s &amp; more");
	expect("a\tb\nc", "a\tb\nc");
	expect("plain text, caf\xc3\xa9, \xe6\x97\xa5\xe6\x9c\xac, \xf0\x9f\x98\x80",
	       "plain text, caf\xc3\xa9, \xe6\x97\xa5\xe6\x9c\xac, \xf0\x9f\x98\x80");
	expect("", "");
}

static void
test_escape_invisible(void **state)
{
	(void)state;
	/* U+202E RIGHT-TO-LEFT OVERRIDE and friends are shown, not obeyed */
	expect("abc\xe2\x80\xae" "def", "abc\\u202edef");
	expect("\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069");
	expect("\xe2\x80\x8b\xe2\x80\x8f\xd8\x9c\xef\xbb\xbf", "\\u200b\\u200f\\u061c\\ufeff");
	expect("\xe2\x80\xa8", "\\u2028");
	/* controls: C0 (but tab, newline, return), DEL, C1 */
	expect("a\x01" "b\x1b[31m\x7f", "a\\x01b\\x1b[31m\\x7f");
	expect("\xc2\x85", "\\u0085");
	/* not UTF-8: each byte, visibly */
	expect("\xff\xfe", "\\xff\\xfe");
	expect("\xe0\x41", "\\xe0A");
	expect("\xc0\xaf", "\\xc0\\xaf");
	expect("\xed\xa0\x80", "\\xed\\xa0\\x80");
}

/* Whatever the bytes, the output opens no tag, leaves no attribute, is UTF-8. */
static void
test_escape_any_bytes(void **state)
{
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		char in[40], *out;
		size_t n = (size_t)(rand_r(&seed) % 39);

		for (size_t i = 0; i < n; i++) {
			int r = rand_r(&seed) % 8;

			in[i] = (char)(r == 0 ? "<>\"'&"[rand_r(&seed) % 5] : r == 1 ? 0xe2 :
				       r == 2 ? 0x80 + rand_r(&seed) % 64 : 1 + rand_r(&seed) % 255);
		}
		in[n] = '\0';
		out = escaped(in);
		assert_null(strpbrk(out, "<>\"'"));
		for (char *a = strchr(out, '&'); a; a = strchr(a + 1, '&'))
			assert_true(strncmp(a, "&amp;", 5) == 0 || strncmp(a, "&lt;", 4) == 0 ||
				    strncmp(a, "&gt;", 4) == 0 || strncmp(a, "&quot;", 6) == 0 ||
				    strncmp(a, "&#39;", 5) == 0);
		assert_int_equal(utf8_valid_prefix(out, strlen(out)), strlen(out));
		assert_null(strstr(out, "\xe2\x80\xae"));
		free(out);
	}
}

static void
test_cut(void **state)
{
	struct cap c;
	char *out;

	(void)state;
	cap_open(&c);
	assert_true(html_text_cut(&c.h, "\xe6\x97\xa5<\xe6\x9c\xac", 2));
	out = cap_close(&c);
	assert_string_equal(out, "\xe6\x97\xa5&lt;");
	free(out);
	cap_open(&c);
	assert_false(html_text_cut(&c.h, "abc", 3));
	out = cap_close(&c);
	assert_string_equal(out, "abc");
	free(out);
	assert_int_equal(html_text_chars("a\xff\xe6\x97\xa5"), 3);
}

static void
test_csp_hash(void **state)
{
	char h[HTML_CSP_HASH_MAX];

	(void)state;
	/* sha256 of "" and of "abc", base64, as openssl dgst -binary | base64 gives */
	html_csp_hash("", h);
	assert_string_equal(h, "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
	html_csp_hash("abc", h);
	assert_string_equal(h, "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='");
}

static int calls;

static int
full_sink(void *ctx, const char *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	calls++;
	return 28;	/* ENOSPC */
}

static void
test_write_failure(void **state)
{
	struct html *h = calloc(1, sizeof(*h));
	struct pga_err err = {0};
	static char big[2 * HTML_BUF];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	html_init(h, full_sink, NULL);
	html_raw(h, "x");
	assert_int_equal(calls, 0);	/* buffered */
	html_text(h, big);		/* past the buffer: the sink fails */
	assert_int_equal(calls, 1);
	html_text(h, big);		/* sticky: the sink is not asked again */
	html_fmt(h, "%d", 1);
	assert_int_equal(calls, 1);
	assert_int_equal(html_check(h, "page.html", &err), PGA_ENOSPC);
	assert_non_null(strstr(err.msg, "page.html"));
	free(h);
}

/* Long texts and many small pieces come out whole, in order, through the buffer. */
static void
test_buffering(void **state)
{
	struct cap *c = calloc(1, sizeof(*c));
	char *big = malloc(300001), *out;

	(void)state;
	memset(big, 'b', 300000);
	big[300000] = '\0';
	cap_open(c);
	for (int i = 0; i < 10000; i++)
		html_fmt(&c->h, "%05d,", i);
	html_text(&c->h, big);
	html_raw(&c->h, "<end>");
	out = cap_close(c);
	assert_int_equal(strlen(out), 10000 * 6 + 300000 + 5);
	assert_int_equal(c->h.bytes, strlen(out));
	assert_memory_equal(out + 9999 * 6, "09999,bbb", 9);
	assert_string_equal(out + strlen(out) - 5, "<end>");
	free(out);
	free(big);
	free(c);
}

static void
test_values(void **state)
{
	char b[32];

	(void)state;
	fmt_value(0, UNIT_COUNT, b, sizeof(b));
	assert_string_equal(b, "0");
	fmt_value(999, UNIT_COUNT, b, sizeof(b));
	assert_string_equal(b, "999");
	fmt_value(1234, UNIT_COUNT, b, sizeof(b));
	assert_string_equal(b, "1.23k");
	fmt_value(2500000, UNIT_RATE, b, sizeof(b));
	assert_string_equal(b, "2.50M/s");
	fmt_value(1536, UNIT_BYTES, b, sizeof(b));
	assert_string_equal(b, "1.50 KiB");
	fmt_value(99.94, UNIT_PERCENT, b, sizeof(b));
	assert_string_equal(b, "99.9%");
	fmt_value(0.5, UNIT_MS, b, sizeof(b));
	assert_string_equal(b, "0.50 ms");
	fmt_value(2500, UNIT_MS, b, sizeof(b));
	assert_string_equal(b, "2.50 s");
	fmt_value(7260, UNIT_SECONDS, b, sizeof(b));
	assert_string_equal(b, "2h01m");
	fmt_time(0, b, sizeof(b));
	assert_string_equal(b, "1970-01-01 00:00:00 UTC");
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
test_chart(void **state)
{
	struct chart *c = calloc(1, sizeof(*c));
	struct chart_series *s;
	struct cap cp;
	char *out;

	(void)state;
	chart_init(c, "tps", "Transactions", UNIT_RATE, 0, 10000000);
	s = chart_series_new(c, "<b>standby</b>");
	chart_add(s, 1000000, 5, false);
	chart_add(s, 2000000, 6, false);
	chart_add(s, 3000000, 7, false);
	chart_add(s, 6000000, 8, true);		/* after a gap, alone */
	chart_add(s, 7000000, 1.0 / 0.0, false);	/* not a number: dropped */
	assert_int_equal(chart_points(c), 4);
	cap_open(&cp);
	assert_int_equal(chart_draw(&cp.h, c, "s1-1", "no data"), 4);
	out = cap_close(&cp);
	/* two lines: one of three points, one dot for the point alone */
	assert_int_equal(count(out, "<path class=\"s0\""), 1);
	assert_int_equal(count(out, " M"), 1);
	assert_int_equal(count(out, "<circle class=\"s0\""), 1);
	assert_non_null(strstr(out, "data-t=\"1000000 2000000 3000000 6000000\""));
	assert_non_null(strstr(out, "data-v=\"5 6 7 8\""));
	assert_non_null(strstr(out, "data-points=\"4\""));
	/* the label is data: escaped in the legend and the attribute */
	assert_non_null(strstr(out, "&lt;b&gt;standby&lt;/b&gt;"));
	assert_null(strstr(out, "<b>"));
	free(out);

	chart_init(c, "wal", "WAL", UNIT_BYTES_RATE, 0, 10);
	chart_series_new(c, "x");
	cap_open(&cp);
	assert_int_equal(chart_draw(&cp.h, c, "s1-1", "pg_stat_wal is not collected"), 0);
	out = cap_close(&cp);
	assert_null(strstr(out, "<svg"));
	assert_non_null(strstr(out, "pg_stat_wal is not collected"));
	free(out);
	free(c);
}

static void
test_sample_sql(void **state)
{
	static const struct sample_spec a = {
		.name = "t", .table = "pg_stat_statements", .keys = "userid, dbid, toplevel, queryid",
		.cols = "x.calls", .counters = "calls", .reset = NULL, .tail = "SELECT 1",
	};
	struct sample_spec b = a;
	char buf[16384];

	(void)state;
	assert_int_equal(sample_sql(&a, buf, sizeof(buf), NULL), 0);
	/* the walk compares whole keys; the probes match every key */
	assert_non_null(strstr(buf, "(x.userid, x.dbid, x.toplevel, x.queryid) > (ser.userid,"
			   " ser.dbid, ser.toplevel, ser.queryid)"));
	assert_non_null(strstr(buf, "AND x.toplevel = ser.toplevel AND x.queryid = ser.queryid"));
	b.null_key = "toplevel";
	assert_int_equal(sample_sql(&b, buf, sizeof(buf), NULL), 0);
	/* toplevel NULL everywhere: never compared, always IS NULL */
	assert_null(strstr(buf, "x.toplevel = ser.toplevel"));
	assert_null(strstr(buf, "x.toplevel) > ("));
	assert_non_null(strstr(buf, "(x.queryid) > (ser.queryid)"));
	assert_non_null(strstr(buf, "(x.userid, x.dbid) > (ser.userid, ser.dbid) AND x.toplevel IS"
			   " NULL"));
	/* a statement that does not fit is an error, never a cut statement */
	assert_int_equal(sample_sql(&a, buf, 100, NULL), PGA_EINVAL);
}

static void
test_expand(void **state)
{
	struct rq q = {.qschema = "\"pga\""};
	const char *vars[] = {"T", "pg_database", NULL};
	char buf[128];
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(rq_expand(&q, "SELECT '{}' FROM @s@.{T}", vars, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "SELECT '{}' FROM \"pga\".pg_database");
	assert_int_equal(rq_expand(&q, "{X}", vars, buf, sizeof(buf), &err), PGA_EINTERNAL);
	assert_int_equal(rq_expand(&q, "@s@.{T}", vars, buf, 10, &err), PGA_EINTERNAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_markup),
		cmocka_unit_test(test_escape_invisible),
		cmocka_unit_test(test_escape_any_bytes),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_csp_hash),
		cmocka_unit_test(test_write_failure),
		cmocka_unit_test(test_buffering),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_chart),
		cmocka_unit_test(test_sample_sql),
		cmocka_unit_test(test_expand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
