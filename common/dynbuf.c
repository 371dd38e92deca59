/* Capped growable buffer; the contract is in dynbuf.h. */
#define _GNU_SOURCE
#include "common/dynbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DYNBUF_FIRST 64

void
dynbuf_init(struct dynbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max < SIZE_MAX / 2 ? max : SIZE_MAX / 2;	/* max + 1 must not wrap */
}

void
dynbuf_init_fixed(struct dynbuf *b, char *buf, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->fixed = true;
	if (cap == 0) {
		b->fail = PGA_EINVAL;
		return;
	}
	b->p = buf;
	b->alloc = cap;
	b->max = cap - 1;
	buf[0] = '\0';
}

/* Room for need bytes of content and the NUL, within max. */
static int
reserve(struct dynbuf *b, size_t need)
{
	size_t want = b->alloc > 0 ? b->alloc : DYNBUF_FIRST;
	char *p;

	if (b->fail != 0)
		return b->fail;
	if (need > b->max)
		return b->fail = PGA_EINVAL;
	if (need < b->alloc)
		return 0;
	while (want <= need && want <= b->max)
		want *= 2;
	if (want > b->max)
		want = b->max + 1;
	p = realloc(b->p, want);
	if (p == NULL)
		return b->fail = PGA_ENOMEM;
	b->p = p;
	b->alloc = want;
	return 0;
}

int
dynbuf_addn(struct dynbuf *b, const void *src, size_t n)
{
	int rc = b->fail;

	if (rc == 0 && n > b->max - b->len)
		rc = b->fail = PGA_EINVAL;
	if (rc == 0 && !b->fixed)
		rc = reserve(b, b->len + n);
	if (rc != 0)
		return rc;
	if (n > 0)
		memcpy(b->p + b->len, src, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int
dynbuf_adds(struct dynbuf *b, const char *s)
{
	return dynbuf_addn(b, s, strlen(s));
}

int
dynbuf_addc(struct dynbuf *b, char c)
{
	return dynbuf_addn(b, &c, 1);
}

int
dynbuf_addf(struct dynbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->fail != 0)
		return b->fail;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return b->fail = PGA_EINVAL;
	if ((size_t)n > b->max - b->len)
		return b->fail = PGA_EINVAL;
	if (!b->fixed && reserve(b, b->len + (size_t)n) != 0)
		return b->fail;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->alloc - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *
dynbuf_str(const struct dynbuf *b)
{
	return b->p != NULL ? b->p : "";
}

size_t
dynbuf_len(const struct dynbuf *b)
{
	return b->len;
}

int
dynbuf_fail(struct dynbuf *b, int code)
{
	if (b->fail == 0)
		b->fail = code;
	return b->fail;
}

char *
dynbuf_take(struct dynbuf *b)
{
	char *s;

	if (b->fail != 0)
		return NULL;
	if (b->fixed || b->p == NULL)
		return strdup(dynbuf_str(b));
	s = b->p;
	b->p = NULL;
	b->len = b->alloc = 0;
	return s;
}

void
dynbuf_reset(struct dynbuf *b)
{
	if (b->p != NULL)
		b->p[0] = '\0';
	b->len = 0;
	b->fail = 0;
}

void
dynbuf_free(struct dynbuf *b)
{
	dynbuf_reset(b);
	if (!b->fixed) {
		free(b->p);
		b->p = NULL;
		b->alloc = 0;
	}
}

int
dynbuf_check(const struct dynbuf *b, const char *what, struct pga_err *err)
{
	if (b->fail == PGA_ENOMEM)
		return pga_fail(err, PGA_ENOMEM, "out of memory building %s", what);
	if (b->fail != 0)
		return pga_fail(err, b->fail, "%s does not fit in %zu bytes", what, b->max);
	return 0;
}
