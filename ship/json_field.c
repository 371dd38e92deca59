#include "ship/json_field.h"

#include <stdbool.h>
#include <string.h>

#define KEY_MAX 256

enum { JS_OK = 0, JS_BAD = -1 };

struct js {
	const char *p;
	const char *end;
	char *out;		/* decoded string goes here, or NULL */
	size_t cap;
	size_t len;
	bool overflow;
};

static void
js_ws(struct js *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' ||
				 *s->p == '\r'))
		s->p++;
}

static bool
js_take(struct js *s, char c)
{
	js_ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

static void
js_emit(struct js *s, const char *b, size_t n)
{
	if (s->out == NULL)
		return;
	if (s->overflow || n >= s->cap - s->len) {
		s->overflow = true;
		return;
	}
	memcpy(s->out + s->len, b, n);
	s->len += n;
	s->out[s->len] = '\0';
}

static int
js_hex4(struct js *s, unsigned *v)
{
	*v = 0;
	if (s->end - s->p < 4)
		return JS_BAD;
	for (int i = 0; i < 4; i++) {
		char c = *s->p++;

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return JS_BAD;
	}
	return JS_OK;
}

static void
js_emit_utf8(struct js *s, unsigned cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	js_emit(s, b, n);
}

/* After "\u": one code point, a surrogate pair taken whole. */
static int
js_unicode(struct js *s)
{
	unsigned hi, lo;

	if (js_hex4(s, &hi) < 0 || hi == 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
		return JS_BAD;
	if (hi >= 0xD800 && hi <= 0xDBFF) {
		if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
			return JS_BAD;
		s->p += 2;
		if (js_hex4(s, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
			return JS_BAD;
		hi = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
	}
	js_emit_utf8(s, hi);
	return JS_OK;
}

static int
js_escape(struct js *s)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;

	if (s->p >= s->end)
		return JS_BAD;
	if (*s->p == 'u') {
		s->p++;
		return js_unicode(s);
	}
	hit = memchr(from, *s->p, sizeof(from) - 1);
	if (hit == NULL)
		return JS_BAD;
	js_emit(s, &to[hit - from], 1);
	s->p++;
	return JS_OK;
}

/* A string at s->p (after white space), decoded into s->out if set. */
static int
js_string(struct js *s)
{
	s->len = 0;
	s->overflow = false;
	if (s->out != NULL && s->cap > 0)
		s->out[0] = '\0';
	if (!js_take(s, '"'))
		return JS_BAD;
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p;
		const char *run = s->p;

		if (c == '"') {
			s->p++;
			return JS_OK;
		}
		if (c < 0x20)
			return JS_BAD;
		if (c == '\\') {
			s->p++;
			if (js_escape(s) < 0)
				return JS_BAD;
			continue;
		}
		while (s->p < s->end && *s->p != '"' && *s->p != '\\' &&
		       (unsigned char)*s->p >= 0x20)
			s->p++;
		js_emit(s, run, (size_t)(s->p - run));
	}
	return JS_BAD;
}

static void
js_digits(struct js *s)
{
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
}

/* RFC 8259 number grammar; *integer false when it has a fraction or exponent. */
static int
js_number(struct js *s, bool *integer)
{
	const char *start;

	js_ws(s);
	*integer = true;
	if (s->p < s->end && *s->p == '-')
		s->p++;
	start = s->p;
	js_digits(s);
	if (s->p == start || (*start == '0' && s->p - start > 1))
		return JS_BAD;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		start = s->p;
		js_digits(s);
		if (s->p == start)
			return JS_BAD;
		*integer = false;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		start = s->p;
		js_digits(s);
		if (s->p == start)
			return JS_BAD;
		*integer = false;
	}
	return JS_OK;
}

static int js_value(struct js *s, int depth);

static int
js_literal(struct js *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return JS_BAD;
	s->p += n;
	return JS_OK;
}

/* '{' or '[' already taken: the members up to the closing bracket. */
static int
js_container(struct js *s, int depth, bool object)
{
	char close = object ? '}' : ']';

	if (depth >= JSON_FIELD_MAX_DEPTH)
		return JS_BAD;
	if (js_take(s, close))
		return JS_OK;
	do {
		if (object && (js_string(s) < 0 || !js_take(s, ':')))
			return JS_BAD;
		if (js_value(s, depth + 1) < 0)
			return JS_BAD;
	} while (js_take(s, ','));
	return js_take(s, close) ? JS_OK : JS_BAD;
}

static int
js_value(struct js *s, int depth)
{
	bool integer;

	js_ws(s);
	if (s->p >= s->end)
		return JS_BAD;
	switch (*s->p) {
	case '"':
		return js_string(s);
	case '{':
	case '[':
		s->p++;
		return js_container(s, depth, s->p[-1] == '{');
	case 't':
		return js_literal(s, "true");
	case 'f':
		return js_literal(s, "false");
	case 'n':
		return js_literal(s, "null");
	default:
		return js_number(s, &integer);
	}
}

/*
 * Walk the whole top-level object, validating it, and find where the
 * value of key starts.  0 found, PGA_ENOTFOUND, or PGA_EFORMAT.
 */
static int
js_locate(const char *json, size_t len, const char *key, const char **value,
	  struct pga_err *err)
{
	char name[KEY_MAX];
	struct js s = {json, json + len, NULL, 0, 0, false};

	*value = NULL;
	if (!js_take(&s, '{'))
		return pga_fail(err, PGA_EFORMAT, "not a json object");
	if (!js_take(&s, '}')) {
		do {
			s.out = name;
			s.cap = sizeof(name);
			if (js_string(&s) < 0 || !js_take(&s, ':'))
				return pga_fail(err, PGA_EFORMAT, "malformed json object");
			s.out = NULL;
			js_ws(&s);
			if (!s.overflow && strcmp(name, key) == 0) {
				if (*value != NULL)
					return pga_fail(err, PGA_EFORMAT,
							"json key '%s' is given twice", key);
				*value = s.p;
			}
			if (js_value(&s, 1) < 0)
				return pga_fail(err, PGA_EFORMAT, "malformed json value");
		} while (js_take(&s, ','));
		if (!js_take(&s, '}'))
			return pga_fail(err, PGA_EFORMAT, "malformed json object");
	}
	js_ws(&s);
	if (s.p != s.end)
		return pga_fail(err, PGA_EFORMAT, "trailing data after the json object");
	if (*value == NULL)
		return pga_fail(err, PGA_ENOTFOUND, "json key '%s' is missing", key);
	return 0;
}

int
json_field_string(const char *json, size_t len, const char *key, char *out,
		  size_t cap, struct pga_err *err)
{
	const char *v;
	struct js s;
	int rc = js_locate(json, len, key, &v, err);

	if (rc < 0)
		return rc;
	if (*v != '"')
		return pga_fail(err, PGA_EFORMAT, "json key '%s' is not a string", key);
	s = (struct js){v, json + len, out, cap, 0, cap == 0};
	if (js_string(&s) < 0)
		return pga_fail(err, PGA_EFORMAT, "malformed json string for key '%s'", key);
	if (s.overflow || cap == 0)
		return pga_fail(err, PGA_EINVAL, "json value of '%s' is longer than %zu bytes",
				key, cap ? cap - 1 : 0);
	return 0;
}

int
json_field_int(const char *json, size_t len, const char *key, int64_t *out,
	       struct pga_err *err)
{
	const char *v;
	struct js s;
	bool integer, neg;
	int64_t acc = 0;
	int rc = js_locate(json, len, key, &v, err);

	if (rc < 0)
		return rc;
	s = (struct js){v, json + len, NULL, 0, 0, false};
	if ((*v != '-' && (*v < '0' || *v > '9')) || js_number(&s, &integer) < 0 || !integer)
		return pga_fail(err, PGA_EFORMAT, "json key '%s' is not an integer", key);
	neg = *v == '-';
	for (const char *p = v + neg; p < s.p; p++) {
		if (acc > (INT64_MAX - (*p - '0')) / 10)
			return pga_fail(err, PGA_EINVAL, "json value of '%s' is out of range", key);
		acc = acc * 10 + (*p - '0');
	}
	*out = neg ? -acc : acc;
	return 0;
}
