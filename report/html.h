/*
 * html.h - the page writer: streamed out, and every server text escaped
 *
 * The report is written front to back through one struct html: its fixed
 * buffer goes to a sink (write(2) to the output file) whenever it fills, so
 * nothing of the page is held in memory beyond that buffer.  Two kinds of output, kept apart on purpose:
 *
 *   - markup: html_raw() and html_fmt() write pga's own constant markup
 *     and numbers pga formatted.  Never pass text that came from the
 *     central database to them.
 *   - data: html_text() and friends write text that came from a server
 *     (query texts, names, log messages, setting values).  The same
 *     escaping serves HTML text, double-quoted attribute values and SVG
 *     <text>/<title> (inline SVG is parsed by the HTML parser, so the
 *     same character references apply): & < > " ' become references, so
 *     no text can open a tag, close an element or leave an attribute.
 *     Characters that would change how the page reads rather than what it
 *     says are shown as visible escapes instead: C0/C1 controls other
 *     than tab and newline as \xNN / \u0085, and the invisible formatting
 *     characters (bidi overrides and isolates U+202A-202E, U+2066-2069,
 *     marks U+200E/200F/061C, zero-width U+200B-200D, U+2028/2029,
 *     U+FEFF) as \uXXXX, so U+202E cannot reverse a line.  Bytes that are
 *     not UTF-8 (a central database is UTF8, so only through a bug) are
 *     \xNN.  Data never goes into <script> or <style>, nor into URLs.
 *
 * Errors are sticky: the first failed write is kept and every later call
 * does nothing; html_check() reports it once at the end (disk full named
 * as such).  One struct per thread; nothing global.
 */
#ifndef PGA_REPORT_HTML_H
#define PGA_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/err.h"

#define HTML_BUF 65536

/* Where the bytes go: 0, or an errno value. */
typedef int (*html_sink_fn)(void *ctx, const char *buf, size_t len);

struct html {
	html_sink_fn sink;
	void *ctx;
	char buf[HTML_BUF];	/* the only copy of the page in memory */
	size_t len;
	int fail;		/* 0 or errno of the first failed write */
	uint64_t bytes;		/* written so far (passed to the sink or buffered) */
};

void html_init(struct html *h, html_sink_fn sink, void *ctx);
/* Pass what is buffered to the sink; 0 or the sticky failure (an errno). */
int html_flush(struct html *h);
/* A sink for a stdio stream (tests, tools). */
int html_sink_file(void *ctx, const char *buf, size_t len);

/* pga's own markup and numbers: written as they are. */
void html_raw(struct html *h, const char *s);
void html_fmt(struct html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Data from a server, escaped (see above).  NULL writes nothing. */
void html_text(struct html *h, const char *s);
void html_textn(struct html *h, const char *s, size_t n);
/*
 * At most max_chars characters of s (a character: one code point or one
 * escaped byte), cut on a character boundary; true when s was longer.
 */
bool html_text_cut(struct html *h, const char *s, size_t max_chars);

/* Characters in s as html_text_cut counts them. */
size_t html_text_chars(const char *s);

/* Flush; 0, or the first write failure (PGA_ENOSPC / PGA_EIO) naming what. */
int html_check(struct html *h, const char *what, struct pga_err *err);

/*
 * The Content-Security-Policy source for an inline element's content:
 * 'sha256-<base64>' (quotes included) into out (at least 56 bytes).
 */
#define HTML_CSP_HASH_MAX 56
void html_csp_hash(const char *content, char *out);

#endif
