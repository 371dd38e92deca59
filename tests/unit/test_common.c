/* Unit tests of common/: units, configuration file, JSON writer, redaction. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"
#include "common/jsonw.h"
#include "common/pgutil.h"
#include "common/ticker.h"
#include "common/units.h"
#include "common/utf8.h"

static char conf_path[] = "/tmp/pga-unit-conf.XXXXXX";

static void
test_times(void **state)
{
	int64_t t, now = 1764106447000000LL;	/* 2025-11-25T21:34:07Z */
	char buf[40];

	(void)state;
	assert_int_equal(pga_parse_time("2025-11-25T21:34:07Z", 0, &t, NULL), 0);
	assert_int_equal(t, now);
	assert_int_equal(pga_parse_time("2025-11-25 21:34:07+00", 0, &t, NULL), 0);
	assert_int_equal(t, now);
	assert_int_equal(pga_parse_time("2025-11-25T23:34:07+02:00", 0, &t, NULL), 0);
	assert_int_equal(t, now);
	assert_int_equal(pga_parse_time("2025-11-25T21:34:07.25Z", 0, &t, NULL), 0);
	assert_int_equal(t, now + 250000);
	assert_int_equal(pga_parse_time("2025-11-25", 0, &t, NULL), 0);
	assert_int_equal(t, now - (21 * 3600 + 34 * 60 + 7) * PGA_USEC_PER_SEC);
	assert_int_equal(pga_parse_time("-2h", now, &t, NULL), 0);
	assert_int_equal(t, now - 7200 * PGA_USEC_PER_SEC);
	assert_int_equal(pga_parse_time("now", now, &t, NULL), 0);
	assert_int_equal(t, now);
	assert_int_equal(pga_parse_time("1970-01-01T00:00:00Z", 0, &t, NULL), 0);
	assert_int_equal(t, 0);
	assert_int_equal(pga_parse_time("2024-02-29T00:00:00Z", 0, &t, NULL), 0);
	assert_int_equal(t, 1709164800LL * PGA_USEC_PER_SEC);
	assert_true(pga_parse_time("yesterday", now, &t, NULL) < 0);
	assert_true(pga_parse_time("2025-13-01", now, &t, NULL) < 0);
	assert_true(pga_parse_time("2025-11-25T25:00Z", now, &t, NULL) < 0);
	assert_true(pga_parse_time("-2x", now, &t, NULL) < 0);
	pga_format_time(now, buf, sizeof(buf));
	assert_string_equal(buf, "2025-11-25T21:34:07Z");
	pga_format_time(now + 5, buf, sizeof(buf));
	assert_string_equal(buf, "2025-11-25T21:34:07.000005Z");
	pga_format_time_compact(now, buf, sizeof(buf));
	assert_string_equal(buf, "20251125T213407Z");
}

static void
test_durations_and_sizes(void **state)
{
	int64_t d;
	uint64_t s;

	(void)state;
	assert_int_equal(pga_parse_duration("60s", &d, NULL), 0);
	assert_int_equal(d, 60 * PGA_USEC_PER_SEC);
	assert_int_equal(pga_parse_duration("250ms", &d, NULL), 0);
	assert_int_equal(d, 250000);
	assert_int_equal(pga_parse_duration("7d", &d, NULL), 0);
	assert_int_equal(d, 7 * 86400 * PGA_USEC_PER_SEC);
	assert_int_equal(pga_parse_duration("15", &d, NULL), 0);
	assert_int_equal(d, 15 * PGA_USEC_PER_SEC);
	assert_true(pga_parse_duration("-5s", &d, NULL) < 0);
	/* a blank before the unit, as postgresql.conf takes it */
	assert_int_equal(pga_parse_duration("5 s", &d, NULL), 0);
	assert_int_equal(d, 5 * PGA_USEC_PER_SEC);
	assert_int_equal(pga_parse_duration("1.5 min", &d, NULL), 0);
	assert_int_equal(d, 90 * PGA_USEC_PER_SEC);
	assert_true(pga_parse_duration("5 s x", &d, NULL) < 0);
	assert_true(pga_parse_duration("5 sec onds", &d, NULL) < 0);
	assert_true(pga_parse_duration(" 5s", &d, NULL) < 0);
	/* a key's own base unit for a bare number: statement-timeout's ms */
	assert_int_equal(pga_parse_duration_unit("2500", 1000, &d, NULL), 0);
	assert_int_equal(d, 2500000);
	assert_int_equal(pga_parse_duration_unit("3s", 1000, &d, NULL), 0);
	assert_int_equal(d, 3 * PGA_USEC_PER_SEC);
	assert_int_equal(pga_parse_size("10 MB", &s, NULL), 0);
	assert_int_equal(s, 10485760);
	assert_int_equal(pga_parse_size("64kB", &s, NULL), 0);
	assert_int_equal(s, 65536);
	assert_int_equal(pga_parse_size("2TB", &s, NULL), 0);
	assert_int_equal(s, 2199023255552ULL);
	assert_true(pga_parse_size("10 M B", &s, NULL) < 0);
	assert_true(pga_parse_size("10MBx", &s, NULL) < 0);
	assert_true(pga_parse_duration("fast", &d, NULL) < 0);
	assert_int_equal(pga_parse_size("64K", &s, NULL), 0);
	assert_int_equal(s, 65536);
	assert_int_equal(pga_parse_size("10M", &s, NULL), 0);
	assert_int_equal(s, 10485760);
	assert_int_equal(pga_parse_size("1GiB", &s, NULL), 0);
	assert_int_equal(s, 1073741824);
	assert_int_equal(pga_parse_size("512", &s, NULL), 0);
	assert_int_equal(s, 512);
	assert_true(pga_parse_size("12Q", &s, NULL) < 0);
	assert_true(pga_parse_size("-1", &s, NULL) < 0);
	assert_true(pga_parse_size("99999999999999999999", &s, NULL) < 0);
}

static int
load_text(const char *text, struct pga_config **cfg, struct pga_err *err)
{
	FILE *f = fopen(conf_path, "w");

	fputs(text, f);
	fclose(f);
	return pga_config_load(conf_path, cfg, err);
}

static void
expect_config_error(const char *text, const char *needle)
{
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};

	assert_int_equal(load_text(text, &cfg, &err), PGA_ECONFIG);
	assert_null(cfg);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("error '%s' does not contain '%s'", err.msg, needle);
	assert_non_null(strstr(err.msg, conf_path));
}

static void
test_config_good(void **state)
{
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};
	char where[300];

	(void)state;
	assert_int_equal(load_text("# comment\n[global]\nspool-path = /tmp/x\ncollector = site-1\n"
				   "spool-max = 2G\nspool-full = drop-oldest\nquery-stats-limit = 5000\n"
				   "os-stats = on\n\n[target:db1]\nconninfo = host=a password=x;y\n"
				   "query-stats-limit = 200\n[target:db2]\nconninfo = postgres://b/c\n"
				   "[dest:s3]\nurl = s3://bucket/prefix\nrate-limit = 10M\n",
				   &cfg, &err), 0);
	assert_string_equal(cfg->global.spool_path, "/tmp/x");
	assert_string_equal(cfg->global.collector, "site-1");
	assert_int_equal(cfg->global.spool_max, 2ULL << 30);
	assert_int_equal(cfg->global.spool_full, PGA_FULL_DROP_OLDEST);
	assert_int_equal(cfg->ntargets, 2);
	/* ';' is part of the value: no inline comments */
	assert_string_equal(cfg->targets[0].conninfo, "host=a password=x;y");
	assert_int_equal(cfg->targets[0].query_stats_limit, 200);
	/* unset target keys inherit the global value */
	assert_int_equal(cfg->targets[1].query_stats_limit, 5000);
	assert_true(cfg->targets[1].os_stats);
	assert_true(cfg->targets[1].enabled);
	assert_int_equal(cfg->targets[1].line, 13);
	assert_int_equal(cfg->ndests, 1);
	assert_int_equal(cfg->dests[0].rate_limit, 10ULL << 20);
	assert_int_equal(cfg->dests[0].max_parallel, 4);
	pga_config_where(cfg, "spool-max", where, sizeof(where));
	assert_non_null(strstr(where, ":5"));
	pga_config_free(cfg);
}

static void
test_config_errors(void **state)
{
	(void)state;
	expect_config_error("[global]\nspool-pth = /x\n", ":2: unknown key 'spool-pth' in [global]");
	expect_config_error("[global]\n\n\nspool-max = lots\n", ":4: key 'spool-max': invalid size 'lots'");
	expect_config_error("[global]\nquery-stats-limit = 50\n", "from 100 to 10000");
	expect_config_error("[global]\nspool-full = maybe\n", "must be one of block, drop-oldest");
	expect_config_error("[global]\nlog-level = info\nlog-level = warn\n", ":3: duplicate key 'log-level'");
	expect_config_error("[target:a]\nconninfo = x\n[target:a]\nconninfo = y\n",
			    ":3: duplicate section [target:a]");
	expect_config_error("[targets:a]\n", ":1: unknown section [targets:a]");
	expect_config_error("[target:bad name]\n", "invalid target name 'bad name'");
	expect_config_error("[global]\n[target:x]\n\n[dest:d]\nurl=file:///x\n",
			    ":2: [target:x] has no 'conninfo'");
	expect_config_error("[target:x]\nconninfo=a\nurl = s3://x\n", "unknown key 'url' in [target:x]");
	expect_config_error("[global]\nthis line has no equals\n", ":2: syntax error");
	expect_config_error("[global]\ncollector = ../../etc\n", "invalid collector id");
	expect_config_error("[global]\nos-stats = perhaps\n", "must be on or off");
}

static void
test_config_missing(void **state)
{
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};

	(void)state;
	assert_true(pga_config_load("/nonexistent/pga.conf", &cfg, &err) < 0);
	assert_non_null(strstr(err.msg, "'/nonexistent/pga.conf'"));
	assert_int_equal(pga_config_defaults(&cfg, &err), 0);
	assert_non_null(cfg->global.collector);
	assert_int_equal(cfg->global.query_stats_limit, 1000);
	pga_config_free(cfg);
}

static void
test_redaction(void **state)
{
	char buf[512];

	(void)state;
	pga_conninfo_redact("host=db1 password=s3cret user=u", buf, sizeof(buf));
	assert_null(strstr(buf, "s3cret"));
	assert_non_null(strstr(buf, "password=***"));
	pga_conninfo_redact("postgresql://u:s3cret@db1:5433/x", buf, sizeof(buf));
	assert_null(strstr(buf, "s3cret"));
	assert_non_null(strstr(buf, "host=db1"));
	assert_int_equal(pga_conninfo_check("host=a port=", NULL), 0);
	assert_true(pga_conninfo_check("host='unterminated", NULL) < 0);
	assert_true(pga_conninfo_check("nokey", NULL) < 0);
}

static void
test_json(void **state)
{
	struct jsonw w;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	jsonw_init(&w, f);
	jsonw_obj_open(&w);
	jsonw_key(&w, "a");
	jsonw_str(&w, "q\"\\\n\x01");
	jsonw_key(&w, "list");
	jsonw_arr_open(&w);
	jsonw_u64(&w, 1);
	jsonw_i64(&w, -2);
	jsonw_null(&w);
	jsonw_arr_close(&w);
	jsonw_key(&w, "t");
	jsonw_bool(&w, true);
	jsonw_obj_close(&w);
	jsonw_end(&w);
	fclose(f);
	assert_string_equal(out, "{\"a\":\"q\\\"\\\\\\n\\u0001\",\"list\":[1,-2,null],\"t\":true}\n");
	free(out);
}

/* Bytes that are not UTF-8 become the text \xNN; durations are seconds. */
static void
test_json_bytes_and_seconds(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"caf\xe9", "\"caf\\\\xe9\""},			/* Latin-1 e-acute */
		{"caf\xc3\xa9", "\"caf\xc3\xa9\""},		/* UTF-8 passes */
		{"\xed\xa0\x80", "\"\\\\xed\\\\xa0\\\\x80\""},	/* a surrogate */
		{"\xc0\xaf", "\"\\\\xc0\\\\xaf\""},		/* overlong '/' */
		{"\xe0\x41", "\"\\\\xe0A\""},			/* cut sequence, then A */
		{"\xf4\x90\x80\x80", "\"\\\\xf4\\\\x90\\\\x80\\\\x80\""},	/* > U+10FFFF */
		{"\x7f\x1b[31m", "\"\\u007f\\u001b[31m\""},	/* DEL, ESC */
	};
	static const struct {
		int64_t us;
		const char *want;
	} secs[] = {
		{0, "0"}, {1500000, "1.5"}, {12345, "0.012345"}, {60000000, "60"}, {-2500000, "-2.5"},
		{1, "0.000001"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);
		struct jsonw w;

		jsonw_init(&w, f);
		jsonw_str(&w, cases[i].in);
		fclose(f);
		assert_string_equal(out, cases[i].want);
		free(out);
	}
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);
		struct jsonw w;

		jsonw_init(&w, f);
		jsonw_seconds(&w, secs[i].us);
		fclose(f);
		assert_string_equal(out, secs[i].want);
		free(out);
	}
}

/* ---- escaping untrusted text ---- */

static void
escaped_is(const char *in, const char *want)
{
	char out[256];

	utf8_escape_text(in, out, sizeof(out));
	assert_string_equal(out, want);
}

/* Escaping the output again only doubles its backslashes: it is safe text. */
static void
assert_safe(const char *out)
{
	char again[2048], doubled[2048];
	size_t n = 0;

	for (const char *p = out; *p && n + 2 < sizeof(doubled); p++) {
		if (*p == '\\')
			doubled[n++] = '\\';
		doubled[n++] = *p;
	}
	doubled[n] = '\0';
	utf8_escape_text(out, again, sizeof(again));
	assert_string_equal(again, doubled);
}

static void
test_escape(void **state)
{
	char buf[64], in[8];

	(void)state;
	escaped_is("plain text, 'quoted'", "plain text, 'quoted'");
	escaped_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	escaped_is("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
	escaped_is("a\r\nb\tc\x7f", "a\\x0d\\x0ab\\x09c\\x7f");
	escaped_is("\xff\xfe", "\\xff\\xfe");
	escaped_is("abc\xc3", "abc\\xc3");			/* truncated at the end */
	escaped_is("\xc3,x", "\\xc3,x");			/* truncated before a comma */
	escaped_is("\xc0\xaf", "\\xc0\\xaf");			/* overlong */
	escaped_is("\xe0\x80\xaf", "\\xe0\\x80\\xaf");		/* overlong, 3 bytes */
	escaped_is("\xed\xa0\x80", "\\xed\\xa0\\x80");		/* surrogate */
	escaped_is("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");	/* beyond U+10FFFF */
	escaped_is("\xc2\x9b" "31m", "\\xc2\\x9b31m");		/* C1 CSI */
	escaped_is("\xe2\x80\xae" "evil", "\\xe2\\x80\\xaeevil");	/* bidi override */
	escaped_is("\xe2\x81\xa6x", "\\xe2\\x81\\xa6x");		/* bidi isolate */
	escaped_is("a\\x1b", "a\\\\x1b");			/* not confused with an escape */
	/* cut at a whole piece, with the length the whole needs */
	assert_int_equal(utf8_escape_text("\x1b\x1b\x1b", buf, 6), 12);
	assert_string_equal(buf, "\\x1b");
	assert_int_equal(utf8_escape_text("\xc3\xa9\xc3\xa9", buf, 4), 4);
	assert_string_equal(buf, "\xc3\xa9");
	/* every 1- and 2-byte string comes out safe */
	for (int a = 1; a < 256; a++) {
		for (int b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = '\0';
			utf8_escape_text(in, buf, sizeof(buf));
			assert_safe(buf);
		}
	}
	/* and random 6-byte ones */
	srand(7);
	for (int i = 0; i < 200000; i++) {
		for (int k = 0; k < 6; k++)
			in[k] = (char)(1 + rand() % 255);
		in[6] = '\0';
		utf8_escape_text(in, buf, sizeof(buf));
		assert_safe(buf);
	}
}

/* pga_pg_fail carries SQLSTATE; every other pga_fail clears it. */
static void
test_err_sqlstate(void **state)
{
	struct pga_err e = {0};

	(void)state;
	snprintf(e.sqlstate, sizeof(e.sqlstate), "22021");
	pga_fail(&e, PGA_EIO, "could not read '%s'", "x");
	assert_string_equal(e.sqlstate, "");
	snprintf(e.sqlstate, sizeof(e.sqlstate), "42501");
	pga_err_prefix(&e, "ctx");
	assert_string_equal(e.sqlstate, "42501");
	pga_err_clear(&e);
	assert_string_equal(e.sqlstate, "");
	assert_int_equal(pga_pg_fail(&e, NULL, NULL, "query"), PGA_ENET);
	assert_string_equal(e.sqlstate, "");
}

/* A message quoting itself, and one too long: cut visibly, never mid-character. */
static void
test_err_msg(void **state)
{
	struct pga_err e = {0};
	char big[2 * PGA_ERR_MSG_MAX];
	size_t n;

	(void)state;
	pga_fail(&e, PGA_EIO, "inner '%s'", "x");
	pga_fail(&e, e.code, "outer: %s: more", e.msg);
	assert_string_equal(e.msg, "outer: inner 'x': more");
	assert_int_equal(pga_err_msgf(&e, "[%s]", e.msg), PGA_EIO);
	assert_string_equal(e.msg, "[outer: inner 'x': more]");
	pga_err_prefix(&e, "ctx %d", 1);
	assert_string_equal(e.msg, "ctx 1: [outer: inner 'x': more]");
	/* 2-byte characters: the cut must not split one */
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	big[sizeof(big) - 2] = '\0';
	for (int lead = 0; lead < 2; lead++) {
		pga_fail(&e, PGA_EIO, "%.*s%s", lead, "a", big);
		n = strlen(e.msg);
		assert_true(n < PGA_ERR_MSG_MAX);
		assert_string_equal(e.msg + n - 3, "...");
		assert_true(utf8_valid_prefix(e.msg, n) == n);
	}
	pga_err_prefix(&e, "p");
	n = strlen(e.msg);
	assert_string_equal(e.msg + n - 3, "...");
	assert_true(utf8_valid_prefix(e.msg, n) == n);
}

/* The ticker: ticks at its period, stops at once (not at its next tick),
 * and gives one last call marked final; one that never started is a no-op. */
struct ticks {
	int n, finals;
	bool last_final;
};

static void
tick(void *arg, bool final)
{
	struct ticks *t = arg;

	t->n++;
	t->finals += final;
	t->last_final = final;
}

static void
test_ticker(void **state)
{
	struct pga_ticker tk = {0};
	struct ticks t = {0};
	int64_t t0;

	(void)state;
	pga_ticker_stop(&tk);	/* never started: nothing happens */
	assert_int_equal(t.n, 0);
	pga_ticker_start(&tk, 10000, tick, &t);
	assert_true(tk.on);
	usleep(100000);
	pga_ticker_stop(&tk);
	assert_true(t.n >= 3);	/* about 10; a loaded machine may give fewer */
	assert_int_equal(t.finals, 1);
	assert_true(t.last_final);
	/* a long period: stop wakes the thread instead of waiting it out */
	memset(&t, 0, sizeof(t));
	pga_ticker_start(&tk, 60 * 1000000LL, tick, &t);
	t0 = pga_mono_us();
	pga_ticker_stop(&tk);
	assert_true(pga_mono_us() - t0 < 5 * 1000000LL);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.finals, 1);
	pga_ticker_stop(&tk);	/* twice: still once */
	assert_int_equal(t.finals, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_ticker),
		cmocka_unit_test(test_durations_and_sizes),
		cmocka_unit_test(test_config_good),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_missing),
		cmocka_unit_test(test_redaction),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_bytes_and_seconds),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_err_sqlstate),
		cmocka_unit_test(test_err_msg),
	};
	int fd = mkstemp(conf_path), rc;

	if (fd < 0)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(conf_path);
	return rc;
}
