/*
 * Unit tests of common/utf8.c against an independent reference: prefixes
 * built by encoding every Unicode scalar value, sequences checked by
 * decoding and re-encoding.  Every class of bad sequence, every split of
 * an input into two chunks, random inputs split at random, CSV value counts.
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

/* ---- the reference ---- */

static uint8_t *prefix1, *prefix2, *prefix3;	/* byte, 64 Ki, 16 Mi bitmaps */

static size_t
encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 63));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 63));
		out[2] = (uint8_t)(0x80 | (cp & 63));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 63));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 63));
	out[3] = (uint8_t)(0x80 | (cp & 63));
	return 4;
}

static void
bit_set(uint8_t *m, uint32_t i)
{
	m[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static bool
bit(const uint8_t *m, uint32_t i)
{
	return m[i >> 3] & (1u << (i & 7));
}

static int
setup_reference(void **state)
{
	(void)state;
	prefix1 = calloc(256 / 8, 1);
	prefix2 = calloc(65536 / 8, 1);
	prefix3 = calloc((1u << 24) / 8, 1);
	for (uint32_t cp = 0x80; cp <= 0x10ffff; cp++) {
		uint8_t e[4];
		size_t n;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		n = encode(cp, e);
		bit_set(prefix1, e[0]);
		if (n > 2)
			bit_set(prefix2, (uint32_t)e[0] << 8 | e[1]);
		if (n > 3)
			bit_set(prefix3, (uint32_t)e[0] << 16 | (uint32_t)e[1] << 8 | e[2]);
	}
	return 0;
}

static int
teardown_reference(void **state)
{
	(void)state;
	free(prefix1);
	free(prefix2);
	free(prefix3);
	return 0;
}

/* Is p[0..k) (k 1..3) the start of the encoding of some scalar value? */
static bool
ref_prefix(const uint8_t *p, size_t k)
{
	if (k == 1)
		return bit(prefix1, p[0]);
	if (k == 2)
		return bit(prefix2, (uint32_t)p[0] << 8 | p[1]);
	return bit(prefix3, (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]);
}

/* Is p[0..k) exactly the encoding of one scalar value (not NUL)? */
static bool
ref_complete(const uint8_t *p, size_t k)
{
	uint32_t cp;
	uint8_t e[4];

	if (k == 1)
		return p[0] > 0 && p[0] < 0x80;
	if (k == 2 && (p[0] & 0xe0) == 0xc0)
		cp = p[0] & 0x1fu;
	else if (k == 3 && (p[0] & 0xf0) == 0xe0)
		cp = p[0] & 0x0fu;
	else if (k == 4 && (p[0] & 0xf8) == 0xf0)
		cp = p[0] & 0x07u;
	else
		return false;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (p[i] & 63u);
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	return encode(cp, e) == k && memcmp(e, p, k) == 0;
}

/* The escaped form of in[0..n) as a whole, and the bytes escaped. */
static size_t
ref_escape(const uint8_t *in, size_t n, char *out, size_t *bad)
{
	size_t o = 0, i = 0;

	*bad = 0;
	while (i < n) {
		size_t k, sub = 1;
		bool done = false;

		for (k = 1; k <= 4 && i + k <= n; k++) {
			if (ref_complete(in + i, k)) {
				memcpy(out + o, in + i, k);
				o += k;
				i += k;
				done = true;
				break;
			}
			if (k < 4 && ref_prefix(in + i, k))
				sub = k;
			else
				break;
		}
		if (done)
			continue;
		for (size_t j = 0; j < sub; j++)
			o += (size_t)sprintf(out + o, "\\x%02x", in[i + j]);
		*bad += sub;
		i += sub;
	}
	out[o] = '\0';
	return o;
}

/* ---- the code under test, collected into a buffer ---- */

struct sinkbuf {
	char *p;
	size_t len, cap, calls;
};

static int
collect(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	struct sinkbuf *b = ctx;

	(void)err;
	assert_true(len > 0);
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	b->p[b->len] = '\0';
	b->calls++;
	return 0;
}

/* Stream in[0..n) in chunks cut at cuts[0..ncuts), ascending. */
static void
run_stream(const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts,
	   struct sinkbuf *b, struct utf8_stream *s)
{
	struct pga_err err = {0};
	size_t from = 0;

	if (b->p == NULL) {
		b->cap = 64;
		b->p = malloc(b->cap);
	}
	b->len = 0;
	b->p[0] = '\0';
	utf8_stream_reset(s);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		assert_int_equal(utf8_stream_write(s, (const char *)in + from, to - from,
						   collect, b, &err), 0);
		from = to;
	}
	assert_int_equal(utf8_stream_finish(s, collect, b, &err), 0);
}

/* One chunk, then every split into two, all equal to the reference. */
static void
check_all_splits(const uint8_t *in, size_t n)
{
	char *want = malloc(4 * n + 1);
	size_t bad, wlen = ref_escape(in, n, want, &bad);
	struct sinkbuf b = {0};
	struct utf8_stream s;

	for (size_t cut = 0; cut <= n; cut++) {
		run_stream(in, n, &cut, 1, &b, &s);
		if (b.len != wlen || memcmp(b.p, want, wlen) != 0)
			fail_msg("split at %zu of %zu: got '%.*s', want '%s'", cut, n,
				 (int)b.len, b.p, want);
		assert_int_equal(s.bytes, bad);
	}
	free(want);
	free(b.p);
}

#define CHECK(lit) check_all_splits((const uint8_t *)(lit), sizeof(lit) - 1)

static void
test_valid_passes(void **state)
{
	(void)state;
	CHECK("plain ascii, with \"quotes\", commas, and\nnewlines\n");
	CHECK("\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 \xef\xbf\xbf");
	CHECK("\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CHECK("");
}

static void
test_every_bad_class(void **state)
{
	(void)state;
	CHECK("lone continuation \x80 and \xbf");
	CHECK("overlong 2-byte \xc0\x80 \xc1\xbf \xc0\xaf");
	CHECK("overlong 3-byte \xe0\x80\x80 \xe0\x9f\xbf");
	CHECK("overlong 4-byte \xf0\x80\x80\x80 \xf0\x8f\xbf\xbf");
	CHECK("surrogates \xed\xa0\x80 \xed\xbf\xbf \xed\xa0\x80\xed\xb0\x80");
	CHECK("above U+10FFFF \xf4\x90\x80\x80 \xf5\x80\x80\x80 \xf7\xbf\xbf\xbf");
	CHECK("bytes that never appear \xf8\x88\x80\x80\x80 \xfc \xfe \xff");
	CHECK("cut short \xe2\x82 then \xf0\x9f\x98 then \xc3");
	CHECK("cut by ascii \xe2\x41 \xf0\x9f\x41 \xc3,x");
	CHECK("latin1 t\xe9st and bad\xff\xfeuser");
	CHECK("nul \0 in \0\0 the middle");
	CHECK("\xe2\x82");		/* ends inside a sequence */
	CHECK("\xf0");
	CHECK("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80");
}

static void
test_escape_form(void **state)
{
	struct sinkbuf b = {0};
	struct utf8_stream s;
	const char in[] = "t\xe9st,\0,\xe0\x41,\xed\xa0\x80";
	size_t none = 0;

	(void)state;
	run_stream((const uint8_t *)in, sizeof(in) - 1, &none, 0, &b, &s);
	assert_string_equal(b.p, "t\\xe9st,\\x00,\\xe0A,\\xed\\xa0\\x80");
	assert_int_equal(s.bytes, 6);
	assert_int_equal(s.values, 4);
	free(b.p);
}

/* Valid data goes out from the caller's buffer in one piece. */
static void
test_fast_path_one_call(void **state)
{
	struct sinkbuf b = {0};
	struct utf8_stream s;
	char big[10000];
	size_t none = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i % 7 == 0 ? '"' : i % 5 == 0 ? ',' : 'a' + i % 26);
	memcpy(big + 5000, "\xc3\xa9\xe2\x82\xac", 5);
	run_stream((const uint8_t *)big, sizeof(big), &none, 0, &b, &s);
	assert_int_equal(b.calls, 1);	/* run_stream's setup makes none */
	assert_int_equal(b.len, sizeof(big));
	assert_memory_equal(b.p, big, sizeof(big));
	assert_int_equal(s.values, 0);
	free(b.p);
}

static uint32_t rnd_state = 12345;

static uint32_t
rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* Bytes that hit every branch: ASCII, CSV specials, leads, continuations. */
static uint8_t
interesting(void)
{
	static const uint8_t pick[] = {
		'a', 'Z', '0', ',', '"', '\n', 0, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
		0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee,
		0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf8, 0xfe, 0xff,
	};

	return rnd() % 3 == 0 ? (uint8_t)rnd() : pick[rnd() % sizeof(pick)];
}

static void
test_random_chunks(void **state)
{
	uint8_t in[200];
	char want[801];
	size_t cuts[8];
	struct sinkbuf b = {0};
	struct utf8_stream s;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = rnd() % sizeof(in), nc = n ? rnd() % 8 : 0, bad, wlen;

		for (size_t i = 0; i < n; i++)
			in[i] = interesting();
		for (size_t i = 0; i < nc; i++)
			cuts[i] = rnd() % (n + 1);
		for (size_t i = 1; i < nc; i++)	/* insertion sort */
			for (size_t j = i; j > 0 && cuts[j] < cuts[j - 1]; j--) {
				size_t t = cuts[j];

				cuts[j] = cuts[j - 1];
				cuts[j - 1] = t;
			}
		wlen = ref_escape(in, n, want, &bad);
		run_stream(in, n, cuts, nc, &b, &s);
		assert_int_equal(b.len, wlen);
		assert_memory_equal(b.p, want, wlen);
		assert_int_equal(s.bytes, bad);
		assert_int_equal(utf8_valid_prefix(in, n) == n, bad == 0 && memchr(in, 0, n) == NULL);
	}
	free(b.p);
}

/* Values (CSV fields) with an escape, whatever the chunking. */
static void
test_value_counts(void **state)
{
	static const struct {
		const char *csv;
		uint64_t values;
	} cases[] = {
		{"1,t\xe9st,ok\n", 1},
		{"1,\xff\xfe\xfd,ok\n", 1},			/* three bytes, one value */
		{"\xff,\xfe\n\xfd\n", 3},
		{"\"a,\xe9,b\",\xe9\n", 2},		/* the comma is inside quotes */
		{"\"x\"\"\xe9\"\"y\",z\xe9\n", 2},	/* doubled quotes stay inside */
		{"\"multi\nline \xe9\",\"\xe9\"\n", 2},
		{"\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9,plain,plain\n", 1},
		{"ok,ok\nok,ok\n", 0},
		{"a\xe2\x82", 1},				/* cut at the very end */
	};
	struct sinkbuf b = {0};
	struct utf8_stream s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].csv);

		for (size_t cut = 0; cut <= n; cut++) {
			for (size_t cut2 = cut; cut2 <= n; cut2 += 3) {
				size_t cuts[2] = {cut, cut2};

				run_stream((const uint8_t *)cases[i].csv, n, cuts, 2, &b, &s);
				if (s.values != cases[i].values)
					fail_msg("case %zu cut %zu,%zu: %llu values, want %llu", i, cut,
						 cut2, (unsigned long long)s.values,
						 (unsigned long long)cases[i].values);
			}
		}
	}
	free(b.p);
}

static void
test_escape_str(void **state)
{
	char out[32];
	bool cut;

	(void)state;
	assert_int_equal(utf8_escape_str(out, sizeof(out), "caf\xc3\xa9", &cut), 0);
	assert_string_equal(out, "caf\xc3\xa9");
	assert_false(cut);
	assert_int_equal(utf8_escape_str(out, sizeof(out), "d\xe9" "b\xff", &cut), 2);
	assert_string_equal(out, "d\\xe9b\\xff");
	assert_false(cut);
	assert_int_equal(utf8_escape_str(out, sizeof(out), "\xe2\x82", &cut), 2);
	assert_string_equal(out, "\\xe2\\x82");
	/* cut at boundaries only: never half a character or half an escape */
	assert_int_equal(utf8_escape_str(out, 6, "ab\xe2\x82\xac", &cut), 0);
	assert_string_equal(out, "ab\xe2\x82\xac");
	assert_false(cut);
	assert_int_equal(utf8_escape_str(out, 5, "ab\xe2\x82\xac", &cut), 0);
	assert_string_equal(out, "ab");
	assert_true(cut);
	assert_int_equal(utf8_escape_str(out, 7, "ab\xe9" "cd", &cut), 1);
	assert_string_equal(out, "ab\\xe9");
	assert_true(cut);
	assert_int_equal(utf8_escape_str(out, 5, "ab\xe9", &cut), 0);
	assert_string_equal(out, "ab");
	assert_true(cut);
	for (size_t cap = 1; cap <= sizeof(out); cap++) {
		utf8_escape_str(out, cap, "\xe9\xc3\xa9\xf0\x9f\x98\x80\xff" "x", &cut);
		assert_true(strlen(out) < cap);
		assert_int_equal(utf8_valid_prefix(out, strlen(out)), strlen(out));
	}
	/* a database name of 63 bad bytes fits a 256-byte field whole */
	{
		char name[64], wide[256];

		memset(name, 0xe9, 63);
		name[63] = '\0';
		assert_int_equal(utf8_escape_str(wide, sizeof(wide), name, &cut), 63);
		assert_false(cut);
		assert_int_equal(strlen(wide), UTF8_ESCAPED_MAX(63));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_passes),
		cmocka_unit_test(test_every_bad_class),
		cmocka_unit_test(test_escape_form),
		cmocka_unit_test(test_fast_path_one_call),
		cmocka_unit_test(test_random_chunks),
		cmocka_unit_test(test_value_counts),
		cmocka_unit_test(test_escape_str),
	};

	return cmocka_run_group_tests(tests, setup_reference, teardown_reference);
}
