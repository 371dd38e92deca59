/*
 * libFuzzer target: the UTF-8 escaper (common/utf8.c).  The first byte
 * picks chunk sizes; the rest is streamed in those chunks and at once.
 * Whatever the bytes: the output is well-formed UTF-8 without NUL, the
 * same however the input was cut, each escape adds three bytes, and valid
 * input comes out unchanged.  The text escaper (utf8_escape_text, utf8_text)
 * on the same bytes: well-formed, no control byte, within its buffer, and
 * the length it reports is the one a large buffer gets.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

struct out {
	char buf[4 * 65536 + 16];
	size_t len;
};

static int
collect(void *ctx, const char *p, size_t n, struct pga_err *err)
{
	struct out *o = ctx;

	(void)err;
	if (n == 0 || o->len + n > sizeof(o->buf))
		abort();
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

static void
run(const uint8_t *p, size_t n, size_t chunk, struct out *o, struct utf8_stream *s)
{
	o->len = 0;
	utf8_stream_reset(s);
	for (size_t i = 0; i < n; i += chunk)
		utf8_stream_write(s, (const char *)p + i, n - i < chunk ? n - i : chunk, collect, o,
				  NULL);
	utf8_stream_finish(s, collect, o, NULL);
}

/* Nothing a terminal acts on: no C0 but the escapes' text, no DEL, no C1. */
static void
assert_safe_text(const char *t, size_t n)
{
	if (utf8_valid_prefix(t, n) != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < n && (unsigned char)t[i + 1] < 0xa0))
			abort();
	}
}

static void
check_text(const uint8_t *p, size_t n, size_t cap_pick)
{
	static char in[65537], big[4 * 65536 + 16], small[64];
	size_t need, len, cap = 4 + cap_pick * 9;	/* 13..67: cuts at many places */

	if (cap > sizeof(small))
		cap = sizeof(small);
	memcpy(in, p, n);
	in[n] = '\0';
	need = utf8_escape_text(in, big, sizeof(big));
	len = strlen(big);
	if (len != need)
		abort();	/* the whole fits: what it reports is what it wrote */
	assert_safe_text(big, len);
	if (utf8_escape_text(in, small, cap) != need || strlen(small) >= cap)
		abort();
	assert_safe_text(small, strlen(small));
	if (strncmp(big, small, strlen(small)) != 0)
		abort();	/* a cut is a prefix of the whole */
	utf8_text(in, small, cap);
	if (strlen(small) >= cap)
		abort();
	assert_safe_text(small, strlen(small));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct out a, b;
	struct utf8_stream sa, sb;
	size_t chunk;

	if (size < 1 || size > 65536)
		return 0;
	chunk = 1 + data[0] % 7;
	data++;
	size--;
	run(data, size, size ? size : 1, &a, &sa);
	run(data, size, chunk, &b, &sb);
	if (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0 || sa.values != sb.values ||
	    sa.bytes != sb.bytes)
		abort();	/* the cut changed the result */
	if (utf8_valid_prefix(a.buf, a.len) != a.len)
		abort();	/* not UTF-8, or a NUL */
	if (a.len != size + 3 * sa.bytes)
		abort();
	if (utf8_valid_prefix(data, size) == size && (a.len != size || memcmp(a.buf, data, size)))
		abort();	/* valid input changed */
	check_text(data, size, chunk);
	return 0;
}
