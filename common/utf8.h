/*
 * utf8.h - make bytes loadable by a UTF8 database: well-formed UTF-8 passes,
 * everything else is escaped
 *
 * The central database is UTF8, and its COPY refuses a whole load for one
 * byte that is not well-formed UTF-8 (SQLSTATE 22021) or for a NUL byte.
 * What the collector writes must never do that, whatever a monitored server
 * holds (SQL_ASCII databases, a csvlog with raw bytes from a refused startup
 * packet, OS files).  So:
 *
 *   - a well-formed sequence (Unicode table 3-7: no overlong forms, no
 *     surrogates D800-DFFF, nothing above U+10FFFF; the same rules as
 *     PostgreSQL's UTF8 verifier) other than NUL passes unchanged;
 *   - every other byte, and NUL, becomes the four ASCII characters \xNN
 *     (two lowercase hex digits), one escape per byte, so the evidence is
 *     kept and two different bad names stay different (U+FFFD would merge
 *     them).  A malformed sequence is cut where Unicode says (its maximal
 *     well-formed prefix): "\xe0\x41" is "\xe0" then "A".
 *
 * Valid input comes out byte for byte the same: the writer forwards runs of
 * it straight from the caller's buffer (no copy) and checks 8 bytes at a
 * time while they are ASCII.
 *
 * The stream form is for CSV (COPY ... (FORMAT csv) output and what pga
 * writes in that format): a chunk may end inside a multibyte sequence (the
 * bytes are held back until the next chunk completes or breaks it, or the
 * end of the block escapes them), and it counts *values* (CSV fields,
 * quote-aware) that needed an escape, not bytes.  The escapes contain no
 * comma, quote or newline, so the CSV structure never changes.
 *
 * This is the project's one escaping convention: utf8_escape_text() below
 * applies it to text shown on a terminal or in a log (it escapes more).
 *
 * Thread safety: none needed; a stream belongs to one thread.  Errors: the
 * stream returns what the sink returns (0 or a negative PGA_E* code).
 */
#ifndef PGA_UTF8_H
#define PGA_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Bytes a string of n bytes can take once escaped, without the NUL. */
#define UTF8_ESCAPED_MAX(n) ((n) * 4)

typedef int (*utf8_sink_fn)(void *ctx, const char *buf, size_t len,
			    struct pga_err *err);

struct utf8_stream {
	uint8_t pend[4];	/* start of a sequence the last chunk cut */
	uint8_t npend, need;
	bool in_quotes;		/* CSV: inside a quoted value */
	bool dirty;		/* CSV: the current value had an escape */
	uint64_t values;	/* values with at least one escape */
	uint64_t bytes;		/* bytes escaped */
};

/* Start a new stream (a new block): counts and state to zero. */
void utf8_stream_reset(struct utf8_stream *s);
/* Pass buf on to fn, escaped where needed. */
int utf8_stream_write(struct utf8_stream *s, const char *buf, size_t len,
		      utf8_sink_fn fn, void *ctx, struct pga_err *err);
/* End of the stream: bytes of an unfinished sequence are escaped. */
int utf8_stream_finish(struct utf8_stream *s, utf8_sink_fn fn, void *ctx,
		       struct pga_err *err);

/*
 * A NUL-terminated string into dst (cap bytes, cap >= 1), escaped where
 * needed.  When it does not fit it is cut at a character or escape
 * boundary, so dst is always well-formed, and *cut (may be NULL) is set.
 * Returns the number of bytes escaped (0: dst equals src or its prefix).
 */
size_t utf8_escape_str(char *dst, size_t cap, const char *src, bool *cut);

/* Length of the longest well-formed prefix of p[0..len) without NUL. */
size_t utf8_valid_prefix(const void *p, size_t len);
/* Bytes of the well-formed character at p (avail > 0 bytes), 0 if none or NUL. */
size_t utf8_seq_len(const void *p, size_t avail);

/*
 * Untrusted text (a file header's strings, a server's message quoting a
 * value, a name from a segment) made safe for one line of a log or a
 * terminal.  The same \xNN (lowercase) as above, with more escaped: valid
 * UTF-8 other than control characters goes through; control characters
 * (C0, DEL, C1, U+2028..U+202E, U+2066..U+2069: what a terminal acts on)
 * and bytes that are not UTF-8 become \xNN, one escape per byte, and a
 * backslash becomes \\ so an escape is never ambiguous.  Always
 * terminated, cut at a character or escape boundary when cap is short;
 * returns the length the whole escape needs, like snprintf.
 */
size_t utf8_escape_text(const char *in, char *out, size_t cap);
/* The same for a message argument: returns out; a cut ends with "...". */
const char *utf8_text(const char *in, char *out, size_t cap);

#endif
