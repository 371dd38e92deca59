/* UTF-8 validation and escaping of what is not (see utf8.h). */
#include "common/utf8.h"

#include <string.h>

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/* Non-zero when one of the 8 bytes of w is zero (exact: no false positive). */
#define HAS_ZERO(w) (((w) - ONES) & ~(w) & HIGH)

enum seq_kind { SEQ_OK, SEQ_BAD, SEQ_SHORT };

/* Length of the sequence a lead byte starts, 0 if it cannot start one. */
static unsigned
lead_len(uint8_t c)
{
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;	/* continuation byte, or C0/C1 (overlong) */
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	if (c < 0xf5)
		return 4;
	return 0;		/* F5..FF: beyond U+10FFFF */
}

/* May b be byte i (1..3) of the sequence that lead starts?  Table 3-7. */
static bool
cont_ok(uint8_t lead, unsigned i, uint8_t b)
{
	uint8_t lo = 0x80, hi = 0xbf;

	if (i == 1) {
		if (lead == 0xe0)
			lo = 0xa0;	/* overlong 3-byte */
		else if (lead == 0xed)
			hi = 0x9f;	/* surrogates */
		else if (lead == 0xf0)
			lo = 0x90;	/* overlong 4-byte */
		else if (lead == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	}
	return b >= lo && b <= hi;
}

/*
 * The sequence at p[0..avail), avail > 0, p[0] >= 0x80: SEQ_OK with *n its
 * length, SEQ_BAD with *n the bytes of its maximal ill-formed subpart, or
 * SEQ_SHORT when the avail bytes are a well-formed prefix of one (*n = avail).
 */
static enum seq_kind
classify(const uint8_t *p, size_t avail, unsigned *n)
{
	unsigned len = lead_len(p[0]), i = 1;

	if (len == 0) {
		*n = 1;
		return SEQ_BAD;
	}
	while (i < len && i < avail && cont_ok(p[0], i, p[i]))
		i++;
	*n = i;
	if (i == len)
		return SEQ_OK;
	return i == avail ? SEQ_SHORT : SEQ_BAD;
}

size_t
utf8_valid_prefix(const void *buf, size_t len)
{
	const uint8_t *p = buf, *end = p + len;

	while (p < end) {
		unsigned n;
		uint64_t w;

		if (end - p >= 8) {
			memcpy(&w, p, 8);
			if (((w & HIGH) | HAS_ZERO(w)) == 0) {
				p += 8;
				continue;
			}
		}
		if (*p == 0)
			break;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (classify(p, (size_t)(end - p), &n) != SEQ_OK)
			break;
		p += n;
	}
	return (size_t)(p - (const uint8_t *)buf);
}

size_t
utf8_seq_len(const void *buf, size_t avail)
{
	const uint8_t *p = buf;
	unsigned n;

	if (avail == 0 || p[0] == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	return classify(p, avail, &n) == SEQ_OK ? n : 0;
}

/* ---- escaping ---- */

static const char hex[] = "0123456789abcdef";

static size_t
escape_into(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[4 * i] = '\\';
		out[4 * i + 1] = 'x';
		out[4 * i + 2] = hex[p[i] >> 4];
		out[4 * i + 3] = hex[p[i] & 15];
	}
	return 4 * n;
}

size_t
utf8_escape_str(char *dst, size_t cap, const char *src, bool *cut)
{
	const uint8_t *p = (const uint8_t *)src, *end = p + strlen(src);
	size_t out = 0, escaped = 0;

	if (cut != NULL)
		*cut = false;
	while (p < end) {
		size_t ok = utf8_valid_prefix(p, (size_t)(end - p)), room = cap - 1 - out;
		unsigned n;

		if (ok > 0) {
			/* never split a character: back off to its lead byte */
			size_t take = ok < room ? ok : room;

			while (take < ok && take > 0 && (p[take] & 0xc0) == 0x80)
				take--;
			memcpy(dst + out, p, take);
			out += take;
			p += take;
			if (take < ok)
				goto full;
			continue;
		}
		classify(p, (size_t)(end - p), &n);	/* BAD, or SHORT: the rest */
		if (4 * (size_t)n > room)
			goto full;
		out += escape_into(dst + out, p, n);
		p += n;
		escaped += n;
	}
	dst[out] = '\0';
	return escaped;
full:
	dst[out] = '\0';
	if (cut != NULL)
		*cut = true;
	return escaped;
}

/* ---- escaping for a terminal or a log line ---- */

/* Characters a terminal acts on: C0, DEL, C1, line separators, bidi controls. */
static bool
is_display_control(const uint8_t *p, size_t len)
{
	if (len == 1)
		return p[0] < 0x20 || p[0] == 0x7f;
	if (len == 2)
		return p[0] == 0xc2 && p[1] < 0xa0;
	if (len != 3 || p[0] != 0xe2)
		return false;
	/* U+2028..U+202E (separators, bidi embeddings), U+2066..U+2069 (isolates) */
	return (p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae) ||
	       (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9);
}

size_t
utf8_escape_text(const char *in, char *out, size_t cap)
{
	const uint8_t *p = (const uint8_t *)in, *end = p + strlen(in);
	size_t need = 0, o = 0;
	bool full = cap == 0;

	while (p < end) {
		size_t len = utf8_seq_len(p, (size_t)(end - p)), plen;
		char esc[4 * 4];
		const char *piece = (const char *)p;

		if (len == 0 || is_display_control(p, len)) {
			unsigned n = 1;

			if (len == 0 && *p >= 0x80)
				classify(p, (size_t)(end - p), &n);	/* its ill-formed part */
			len = len ? len : n;
			plen = escape_into(esc, p, len);
			piece = esc;
		} else if (*p == '\\') {
			piece = "\\\\";
			plen = 2;
		} else {
			plen = len;
		}
		if (!full && o + plen < cap) {
			memcpy(out + o, piece, plen);
			o += plen;
		} else {
			full = true;
		}
		need += plen;
		p += len;
	}
	if (cap > 0)
		out[o] = '\0';
	return need;
}

const char *
utf8_text(const char *in, char *out, size_t cap)
{
	if (cap < 4) {
		if (cap > 0)
			out[0] = '\0';
		return out;
	}
	if (utf8_escape_text(in, out, cap) >= cap) {
		utf8_escape_text(in, out, cap - 3);
		memcpy(out + strlen(out), "...", 4);
	}
	return out;
}

/* ---- the stream ---- */

void
utf8_stream_reset(struct utf8_stream *s)
{
	memset(s, 0, sizeof(*s));
}

static void
mark(struct utf8_stream *s, size_t n)
{
	s->bytes += n;
	if (!s->dirty) {
		s->dirty = true;
		s->values++;
	}
}

/* Escapes of n bytes to fn, in as few calls as a small buffer allows. */
static int
emit_escaped(struct utf8_stream *s, const uint8_t *p, size_t n, utf8_sink_fn fn,
	     void *ctx, struct pga_err *err)
{
	char buf[256];

	mark(s, n);
	while (n > 0) {
		size_t k = n < sizeof(buf) / 4 ? n : sizeof(buf) / 4;
		int rc = fn(ctx, buf, escape_into(buf, p, k), err);

		if (rc < 0)
			return rc;
		p += k;
		n -= k;
	}
	return 0;
}

static int
emit(const uint8_t *from, const uint8_t *to, utf8_sink_fn fn, void *ctx,
     struct pga_err *err)
{
	return to > from ? fn(ctx, (const char *)from, (size_t)(to - from), err) : 0;
}

/*
 * Go on with a sequence the previous chunk cut: *pp moves past the bytes
 * that belong to it.  The held bytes are passed on when it completes,
 * escaped when the next byte breaks it, and kept when this chunk ends too.
 */
static int
resume(struct utf8_stream *s, const uint8_t **pp, const uint8_t *end,
       utf8_sink_fn fn, void *ctx, struct pga_err *err)
{
	const uint8_t *p = *pp;
	int rc;

	while (s->npend < s->need && p < end && cont_ok(s->pend[0], s->npend, *p))
		s->pend[s->npend++] = *p++;
	*pp = p;
	if (s->npend == s->need)
		rc = fn(ctx, (const char *)s->pend, s->npend, err);
	else if (p == end)
		return 0;	/* still open */
	else
		rc = emit_escaped(s, s->pend, s->npend, fn, ctx, err);
	s->npend = s->need = 0;
	return rc;
}

/* Past ASCII that changes no CSV state we track: 8 bytes at a time. */
static const uint8_t *
skip_plain(const uint8_t *p, const uint8_t *end)
{
	const uint64_t quotes = ONES * '"';

	while (end - p >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		if ((w & HIGH) | HAS_ZERO(w) | HAS_ZERO(w ^ quotes))
			break;
		p += 8;
	}
	return p;
}

int
utf8_stream_write(struct utf8_stream *s, const char *buf, size_t len,
		  utf8_sink_fn fn, void *ctx, struct pga_err *err)
{
	const uint8_t *p = (const uint8_t *)buf, *end = p + len, *run;
	int rc = 0;

	if (s->need > 0 && (rc = resume(s, &p, end, fn, ctx, err)) < 0)
		return rc;
	run = p;
	while (p < end) {
		unsigned n;
		uint8_t c;

		if (!s->dirty && (p = skip_plain(p, end)) == end)
			break;
		c = *p;
		if (c >= 0x80) {
			enum seq_kind k = classify(p, (size_t)(end - p), &n);

			if (k == SEQ_OK) {
				p += n;
				continue;
			}
			if ((rc = emit(run, p, fn, ctx, err)) < 0)
				return rc;
			if (k == SEQ_SHORT) {
				memcpy(s->pend, p, n);
				s->npend = (uint8_t)n;
				s->need = (uint8_t)lead_len(c);
				return 0;
			}
			if ((rc = emit_escaped(s, p, n, fn, ctx, err)) < 0)
				return rc;
			run = p += n;
		} else if (c == 0) {
			if ((rc = emit(run, p, fn, ctx, err)) < 0 ||
			    (rc = emit_escaped(s, p, 1, fn, ctx, err)) < 0)
				return rc;
			run = ++p;
		} else {
			if (c == '"')
				s->in_quotes = !s->in_quotes;
			else if ((c == ',' || c == '\n') && !s->in_quotes)
				s->dirty = false;
			p++;
		}
	}
	return emit(run, p, fn, ctx, err);
}

int
utf8_stream_finish(struct utf8_stream *s, utf8_sink_fn fn, void *ctx,
		   struct pga_err *err)
{
	int rc = 0;

	if (s->npend > 0)
		rc = emit_escaped(s, s->pend, s->npend, fn, ctx, err);
	s->npend = s->need = 0;
	return rc;
}
