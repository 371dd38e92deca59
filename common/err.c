#include "common/err.h"

#include <errno.h>
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
		"conflict", "timeout", "cancelled", "permission", "key",
	};
	int idx = -code;

	if (idx < 0 || idx >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[idx];
}
