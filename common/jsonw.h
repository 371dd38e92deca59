/*
 * jsonw.h - a small streaming JSON writer for --json outputs
 *
 * The writer tracks nesting and commas; the caller opens and closes objects
 * and arrays in order.  Strings are escaped per RFC 8259, and a byte that is
 * not well-formed UTF-8 becomes the text \xNN, so every document parses.
 * One convention for every JSON object pga prints: a point in time is an
 * ISO 8601 UTC string (jsonw_time), a duration a number of seconds with up
 * to 6 decimals in a key ending in _seconds (jsonw_seconds), sizes bytes in
 * a key ending in _bytes or "size".  Depth is capped at 16.  Not
 * thread-safe; one writer per output.
 */
#ifndef PGA_JSONW_H
#define PGA_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jsonw {
	FILE *out;
	int depth;
	bool first[16];
	bool after_key;
};

void jsonw_init(struct jsonw *w, FILE *out);
void jsonw_obj_open(struct jsonw *w);
void jsonw_obj_close(struct jsonw *w);
void jsonw_arr_open(struct jsonw *w);
void jsonw_arr_close(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_str(struct jsonw *w, const char *s);	/* NULL writes null */
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* A time in microseconds as an ISO 8601 string, or null when 0/INT64_MIN. */
void jsonw_time(struct jsonw *w, int64_t us);
/* A duration in microseconds as seconds: 1.5, 0.012345, 60. */
void jsonw_seconds(struct jsonw *w, int64_t us);
/* Finish the document with a newline. */
void jsonw_end(struct jsonw *w);

#endif
