#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
pga_err_set(struct pga_err *err, int code, const char *file, int line,
	    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->file = file;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int
pga_err_prefix(struct pga_err *err, const char *fmt, ...)
{
	char prefix[PGA_ERR_MSG_MAX];
	char old[PGA_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return PGA_EINTERNAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
	return err->code;
}

void
pga_err_clear(struct pga_err *err)
{
	if (err == NULL)
		return;
	err->code = 0;
	err->file = NULL;
	err->line = 0;
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
		"conflict", "timeout", "cancelled", "permission",
	};
	int idx = -code;

	if (idx < 0 || idx >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[idx];
}
