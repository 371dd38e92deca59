/*
 * dynbuf.h - one growable byte buffer, and every one has a maximum
 *
 * curl's dynbuf idea: the cap is fixed when the buffer is set up, so memory
 * stays bounded whatever the input; an append past it fails instead of
 * growing.  Use it for anything built piece by piece: a request to sign, a
 * response body, a SQL statement, a binary frame.
 *
 *   - The content is always NUL-terminated (dynbuf_str() is "" before the
 *     first byte), so text needs no finishing step; binary content may hold
 *     NULs of its own, use dynbuf_len().
 *   - Failures are sticky: after the first one (past the maximum, or out of
 *     memory) every append does nothing and returns the same code, and the
 *     content stays what it was before the failing append.  Builders chain
 *     appends and call dynbuf_check() once at the end, which names what did
 *     not fit.
 *   - dynbuf_init_fixed() builds in a caller's array: nothing is allocated,
 *     the maximum is that array's size less the NUL.
 *
 * Plain data owned by one thread at a time; nothing global.  A zeroed
 * struct is a buffer with maximum 0; dynbuf_free() may be called on it.
 */
#ifndef PGA_DYNBUF_H
#define PGA_DYNBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

struct dynbuf {
	char *p;		/* the content and a NUL; NULL before the first byte */
	size_t len;		/* bytes held, the NUL not counted */
	size_t alloc;		/* bytes allocated at p */
	size_t max;		/* len never exceeds it */
	int fail;		/* 0, or the first failure: PGA_EINVAL, PGA_ENOMEM */
	bool fixed;		/* p is the caller's array: never grown nor freed */
};

/* An initializer for a declaration: struct dynbuf b = DYNBUF_INIT(max); */
#define DYNBUF_INIT(maximum) { .max = (maximum) }

void dynbuf_init(struct dynbuf *b, size_t max);
void dynbuf_init_fixed(struct dynbuf *b, char *buf, size_t cap);

/* Each returns 0, or the buffer's failure: PGA_EINVAL past max, PGA_ENOMEM. */
int dynbuf_addn(struct dynbuf *b, const void *p, size_t n);
int dynbuf_adds(struct dynbuf *b, const char *s);
int dynbuf_addc(struct dynbuf *b, char c);
int dynbuf_addf(struct dynbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

const char *dynbuf_str(const struct dynbuf *b);
size_t dynbuf_len(const struct dynbuf *b);

/*
 * A piece the builder could not make (an escaping library call failed):
 * record code as the buffer's failure, unless it already has one.
 */
int dynbuf_fail(struct dynbuf *b, int code);

/*
 * Hand the content over as a malloc'd string (the caller frees it) and leave
 * the buffer empty; NULL after a failure, or when out of memory.
 */
char *dynbuf_take(struct dynbuf *b);

/* Empty it and clear a failure; keeps the memory. */
void dynbuf_reset(struct dynbuf *b);
/* Release the memory; the buffer is then empty with the same maximum. */
void dynbuf_free(struct dynbuf *b);

/* 0, or the failure in err: "WHAT does not fit in N bytes" / out of memory. */
int dynbuf_check(const struct dynbuf *b, const char *what, struct pga_err *err);

#endif
