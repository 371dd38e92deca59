/* The page writer and its escaping (the contract is in html.h). */
#define _GNU_SOURCE
#include "report/html.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/utf8.h"

void
html_init(struct html *h, html_sink_fn sink, void *ctx)
{
	h->sink = sink;
	h->ctx = ctx;
	h->len = 0;
	h->fail = 0;
	h->bytes = 0;
}

int
html_flush(struct html *h)
{
	if (h->fail == 0 && h->len > 0)
		h->fail = h->sink(h->ctx, h->buf, h->len);
	h->len = 0;
	return h->fail;
}

int
html_sink_file(void *ctx, const char *buf, size_t len)
{
	return fwrite(buf, 1, len, ctx) == len ? 0 : errno ? errno : EIO;
}

static void
put(struct html *h, const char *s, size_t n)
{
	if (h->fail || n == 0)
		return;
	h->bytes += n;
	if (h->len + n > sizeof(h->buf) && html_flush(h) != 0)
		return;
	if (n >= sizeof(h->buf)) {	/* a long text: straight through */
		h->fail = h->sink(h->ctx, s, n);
		return;
	}
	memcpy(h->buf + h->len, s, n);
	h->len += n;
}

void
html_raw(struct html *h, const char *s)
{
	put(h, s, strlen(s));
}

void
html_fmt(struct html *h, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	if (h->fail)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->fail = EINVAL;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		put(h, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->fail = ENOMEM;
		return;
	}
	put(h, big, (size_t)n);
	free(big);
}

/* ---- escaping ---- */

/* Bytes of the well-formed character at p, or 0 when p[0] starts none. */
static size_t
char_len(const unsigned char *p, size_t avail, uint32_t *cp)
{
	size_t len = p[0] < 0x80 ? 1 : p[0] < 0xc2 ? 0 : p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 :
		     p[0] < 0xf5 ? 4 : 0;

	if (len == 0 || len > avail || utf8_valid_prefix(p, len) != len)
		return 0;
	*cp = len == 1 ? p[0] : p[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++)
		*cp = *cp << 6 | (p[i] & 0x3f);
	return len;
}

/* Formatting characters that change how a line reads, not what it says. */
static bool
invisible(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/*
 * The replacement for the character of len bytes at p (len 0: one bad
 * byte) into rep, or NULL when it passes unchanged.
 */
static const char *
replacement(const unsigned char *p, size_t len, uint32_t cp, char rep[16])
{
	if (len == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f) {
		snprintf(rep, 16, "\\x%02x", p[0]);
		return rep;
	}
	switch (cp) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&#39;";
	default: break;
	}
	if (invisible(cp)) {
		snprintf(rep, 16, "\\u%04x", (unsigned)cp);
		return rep;
	}
	return NULL;
}

/*
 * Walk s[0..n): pass runs of safe bytes and replacements to out (NULL:
 * count only), stop after max characters.  Returns the characters seen;
 * *cut is set when characters were left.
 */
static size_t
escape_walk(const char *s, size_t n, size_t max, void (*out)(void *, const char *, size_t),
	    void *ctx, bool *cut)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
	size_t chars = 0;
	char rep[16];

	*cut = false;
	while (p < end) {
		uint32_t cp = 0;
		size_t len;
		const char *r;

		if (chars == max) {
			*cut = true;
			break;
		}
		len = char_len(p, (size_t)(end - p), &cp);
		r = replacement(p, len, cp, rep);
		chars++;
		if (r == NULL) {
			p += len;
			continue;
		}
		if (out != NULL) {
			out(ctx, (const char *)run, (size_t)(p - run));
			out(ctx, r, strlen(r));
		}
		p += len ? len : 1;
		run = p;
	}
	if (out != NULL)
		out(ctx, (const char *)run, (size_t)(p - run));
	return chars;
}

static void
put_cb(void *ctx, const char *s, size_t n)
{
	put(ctx, s, n);
}

void
html_textn(struct html *h, const char *s, size_t n)
{
	bool cut;

	if (s != NULL)
		escape_walk(s, n, SIZE_MAX, put_cb, h, &cut);
}

void
html_text(struct html *h, const char *s)
{
	if (s != NULL)
		html_textn(h, s, strlen(s));
}

bool
html_text_cut(struct html *h, const char *s, size_t max_chars)
{
	bool cut = false;

	if (s != NULL)
		escape_walk(s, strlen(s), max_chars, put_cb, h, &cut);
	return cut;
}

size_t
html_text_chars(const char *s)
{
	bool cut;

	return s ? escape_walk(s, strlen(s), SIZE_MAX, NULL, NULL, &cut) : 0;
}

int
html_check(struct html *h, const char *what, struct pga_err *err)
{
	if (html_flush(h) == 0)
		return 0;
	errno = h->fail;
	return pga_fail(err, pga_errno_code(h->fail), "could not write '%s': %m", what);
}

/* ---- Content-Security-Policy hashes ---- */

void
html_csp_hash(const char *content, char *out)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t d[PGA_SHA256_LEN + 1] = {0};
	size_t o = 0;

	pga_sha256_buf(content, strlen(content), d);
	o += (size_t)sprintf(out, "'sha256-");
	for (size_t i = 0; i < PGA_SHA256_LEN; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 |
			     (i + 2 < PGA_SHA256_LEN ? d[i + 2] : 0);

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < PGA_SHA256_LEN ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < PGA_SHA256_LEN ? b64[v & 63] : '=';
	}
	out[o++] = '\'';
	out[o] = '\0';
}
