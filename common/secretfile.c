/* Files that hold secrets: see secretfile.h for the rule and why. */
#include "common/secretfile.h"

#include <unistd.h>

int
pga_secret_file_check(const struct stat *st, const char *what, const char *path,
		      struct pga_err *err)
{
	unsigned mode = (unsigned)(st->st_mode & 07777);

	if (st->st_uid != geteuid() && st->st_uid != 0)
		return pga_fail(err, PGA_EPERM,
				"%s '%s' is owned by uid %u: it must belong to the user running pga "
				"(uid %u) or to root", what, path, (unsigned)st->st_uid,
				(unsigned)geteuid());
	if ((mode & (S_IRWXO | S_IWGRP | S_IXGRP)) != 0)
		return pga_fail(err, PGA_EPERM,
				"%s '%s' has mode %04o, open to %s: it must be 0600 or 0640 (chmod "
				"600, or 640 with a group that holds only the service user)",
				what, path, mode,
				(mode & S_IRWXO) ? "others" : "its group for writing");
	return 0;
}
