/*
 * secretfile.h - the one rule for files that hold secrets
 *
 * pga.conf when it holds a password or key, the GCS key-file and the AWS
 * credentials-file must be:
 *   - owned by the user pga runs as, or by root;
 *   - closed to others (no bit of 0007) and at most readable by the group
 *     (no 0020 or 0010): 0600 and 0400, or 0640 and 0440.
 * 0600 is libpq's rule for ~/.pgpass.  0640 is for the service layout that
 * INSTALL sets up and pgBackRest uses: the file owned by root (or by the
 * service user), its group holding only the service user.  PostgreSQL
 * accepts the same two for its ssl_key_file.  A world-readable or
 * group-writable file is refused, never warned about: a warning in a cron
 * mail is a secret already read by everyone on the host.
 */
#ifndef PGA_SECRETFILE_H
#define PGA_SECRETFILE_H

#include <sys/stat.h>

#include "common/err.h"

/* The modes the rule accepts, for messages and docs. */
#define PGA_SECRET_MODES "0600 or 0640"

/*
 * Check st (from fstat of the descriptor that is read) against the rule;
 * PGA_EPERM with "WHAT 'PATH' has mode 0644, ..." when it fails.
 */
int pga_secret_file_check(const struct stat *st, const char *what,
			  const char *path, struct pga_err *err);

#endif
