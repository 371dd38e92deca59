#include "common/err.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bsd/string.h>

/*
 * Format into err->msg.  The arguments may point into err->msg itself (a
 * caller wrapping the message it holds), so the text is built aside first.
 * A message longer than the buffer is cut at a character boundary and ends
 * with "..." so nobody reads a cut message as whole.
 */
static void
msg_vformat(struct pga_err *err, const char *fmt, va_list ap)
{
	char buf[PGA_ERR_MSG_MAX];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0) {
		strlcpy(buf, "(message could not be formatted)", sizeof(buf));
	} else if ((size_t)n >= sizeof(buf)) {
		size_t end = sizeof(buf) - 4;

		while (end > 0 && ((unsigned char)buf[end] & 0xc0) == 0x80)
			end--;
		memcpy(buf + end, "...", 4);
	}
	memcpy(err->msg, buf, sizeof(buf));
}

int
pga_err_set(struct pga_err *err, int code, const char *file, int line,
	    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	va_start(ap, fmt);
	msg_vformat(err, fmt, ap);
	va_end(ap);
	err->code = code;
	err->file = file;
	err->line = line;
	err->sqlstate[0] = '\0';
	return code;
}

int
pga_err_msgf(struct pga_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return PGA_EINTERNAL;
	va_start(ap, fmt);
	msg_vformat(err, fmt, ap);
	va_end(ap);
	return err->code;
}

int
pga_err_prefix(struct pga_err *err, const char *fmt, ...)
{
	char prefix[PGA_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return PGA_EINTERNAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);	/* cut: the whole is cut below */
	va_end(ap);
	return pga_err_msgf(err, "%s: %s", prefix, err->msg);
}

void
pga_err_clear(struct pga_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->file = NULL;
	err->line = 0;
	err->sqlstate[0] = '\0';
	err->msg[0] = '\0';
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;	/* continuation byte, overlong lead, or beyond U+10FFFF */
	if (c == 0xE0)
		lo = 0xA0;	/* overlong */
	else if (c == 0xED)
		hi = 0x9F;	/* UTF-16 surrogates */
	else if (c == 0xF0)
		lo = 0x90;	/* overlong */
	else if (c == 0xF4)
		hi = 0x8F;	/* beyond U+10FFFF */
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return len;
}

/* Characters a terminal acts on: C0, DEL, C1, line separators, bidi controls. */
static bool
is_control(const unsigned char *p, size_t len)
{
	if (len == 1)
		return p[0] < 0x20 || p[0] == 0x7F;
	if (len == 2)
		return p[0] == 0xC2 && p[1] < 0xA0;
	if (len != 3 || p[0] != 0xE2)
		return false;
	/* U+2028..U+202E (separators, bidi embeddings), U+2066..U+2069 (isolates) */
	return (p[1] == 0x80 && p[2] >= 0xA8 && p[2] <= 0xAE) ||
	       (p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9);
}

size_t
pga_escape(const char *in, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = strlen(in), need = 0, o = 0;
	bool full = cap == 0;

	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);
		char esc[20];
		const char *piece = (const char *)p + i;
		size_t plen = len;

		if (len == 0 || is_control(p + i, len)) {
			size_t k = len ? len : 1, e = 0;

			for (size_t b = 0; b < k; b++)
				e += (size_t)snprintf(esc + e, sizeof(esc) - e, "\\x%02x", p[i + b]);
			piece = esc;
			plen = e;
			len = k;
		} else if (p[i] == '\\') {
			piece = "\\\\";
			plen = 2;
		}
		if (!full && o + plen < cap) {
			memcpy(out + o, piece, plen);
			o += plen;
		} else {
			full = true;
		}
		need += plen;
		i += len;
	}
	if (cap > 0)
		out[o] = '\0';
	return need;
}

int
pga_errno_code(int errnum)
{
	if (errnum == ENOSPC || errnum == EDQUOT)
		return PGA_ENOSPC;
	if (errnum == ENOMEM)
		return PGA_ENOMEM;
	return PGA_EIO;
}

const char *
pga_err_name(int code)
{
	static const char *const names[] = {
		"ok", "internal", "nomem", "io", "nospace", "invalid", "config",
		"format", "truncated", "checksum", "corrupt", "chain", "version",
		"locked", "full", "notfound", "database", "network", "remote",
		"conflict", "timeout", "cancelled", "permission",
	};
	int idx = -code;

	if (idx < 0 || idx >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[idx];
}
