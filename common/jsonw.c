#include "common/jsonw.h"

#include <inttypes.h>
#include <string.h>

#include "common/units.h"
#include "common/utf8.h"

void
jsonw_init(struct jsonw *w, FILE *out)
{
	w->out = out;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
}

static void
sep(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->out);
	w->first[w->depth] = false;
}

static void
open_nested(struct jsonw *w, char c)
{
	sep(w);
	fputc(c, w->out);
	if (w->depth < 15)
		w->depth++;
	w->first[w->depth] = true;
}

void
jsonw_obj_open(struct jsonw *w)
{
	open_nested(w, '{');
}

void
jsonw_arr_open(struct jsonw *w)
{
	open_nested(w, '[');
}

void
jsonw_obj_close(struct jsonw *w)
{
	fputc('}', w->out);
	if (w->depth > 0)
		w->depth--;
}

void
jsonw_arr_close(struct jsonw *w)
{
	fputc(']', w->out);
	if (w->depth > 0)
		w->depth--;
}

/*
 * A JSON string.  JSON text is UTF-8 (RFC 8259 section 8.1): a byte that is
 * not part of a well-formed sequence (a path or name in another encoding)
 * is written as the four characters \xNN, pga's escape everywhere
 * (common/utf8.h), so the document still parses and the byte is not lost.
 */
static void
raw_string(FILE *out, const char *s)
{
	size_t len = strlen(s), i = 0;

	fputc('"', out);
	while (i < len) {
		size_t run = utf8_valid_prefix(s + i, len - i);

		for (const unsigned char *p = (const unsigned char *)s + i; run > 0; p++, run--, i++) {
			if (*p == '"' || *p == '\\')
				fprintf(out, "\\%c", *p);
			else if (*p == '\n')
				fputs("\\n", out);
			else if (*p == '\t')
				fputs("\\t", out);
			else if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
		if (i < len)
			fprintf(out, "\\\\x%02x", (unsigned char)s[i++]);
	}
	fputc('"', out);
}

void
jsonw_key(struct jsonw *w, const char *key)
{
	sep(w);
	raw_string(w->out, key);
	fputc(':', w->out);
	w->after_key = true;
}

void
jsonw_str(struct jsonw *w, const char *s)
{
	if (s == NULL) {
		jsonw_null(w);
		return;
	}
	sep(w);
	raw_string(w->out, s);
}

void
jsonw_u64(struct jsonw *w, uint64_t v)
{
	sep(w);
	fprintf(w->out, "%" PRIu64, v);
}

void
jsonw_i64(struct jsonw *w, int64_t v)
{
	sep(w);
	fprintf(w->out, "%" PRId64, v);
}

void
jsonw_bool(struct jsonw *w, bool v)
{
	sep(w);
	fputs(v ? "true" : "false", w->out);
}

void
jsonw_null(struct jsonw *w)
{
	sep(w);
	fputs("null", w->out);
}

void
jsonw_time(struct jsonw *w, int64_t us)
{
	char buf[40];

	if (us == 0 || us == INT64_MIN || us == INT64_MAX) {
		jsonw_null(w);
		return;
	}
	pga_format_time(us, buf, sizeof(buf));
	jsonw_str(w, buf);
}

void
jsonw_end(struct jsonw *w)
{
	fputc('\n', w->out);
}

void
jsonw_seconds(struct jsonw *w, int64_t us)
{
	char buf[40];
	size_t n;
	uint64_t mag = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;

	sep(w);
	n = (size_t)snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%06" PRIu64, us < 0 ? "-" : "",
			     mag / (uint64_t)PGA_USEC_PER_SEC, mag % (uint64_t)PGA_USEC_PER_SEC);
	while (n > 0 && buf[n - 1] == '0')	/* 1.500000 -> 1.5, 2.000000 -> 2 */
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	fputs(buf, w->out);
}
