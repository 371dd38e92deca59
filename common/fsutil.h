/*
 * fsutil.h - durable file-system operations
 *
 * Every write that must survive a crash goes through here: data is written
 * in full (short writes and EINTR retried), fsync'd, renamed into place, and
 * the directory holding the new name is fsync'd.  Failures return PGA_EIO
 * or PGA_ENOSPC (disk full or quota) with the path in the message.
 * All functions are thread-safe; none keeps state.
 */
#ifndef PGA_FSUTIL_H
#define PGA_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

int pga_write_all(int fd, const void *buf, size_t len, const char *path,
		  struct pga_err *err);
/* Read up to len bytes; *got < len only at end of file. */
int pga_read_full(int fd, void *buf, size_t len, size_t *got,
		  const char *path, struct pga_err *err);
int pga_fsync_fd(int fd, const char *path, struct pga_err *err);
int pga_fsync_dir(const char *dir, struct pga_err *err);
/* fsync the directory that contains path. */
int pga_fsync_parent(const char *path, struct pga_err *err);

/* mkdir -p; each directory it creates is made durable in its parent. */
int pga_mkdir_p(const char *path, mode_t mode, struct pga_err *err);

/* mkdir -p of the directory that will hold path. */
int pga_mkdir_parent(const char *path, mode_t mode, struct pga_err *err);

/* rename(2), then fsync the target's directory (and the source's if different). */
int pga_rename_durable(const char *from, const char *to, struct pga_err *err);

/* Replace path with data: write "path.tmp", fsync, rename, fsync dir. */
int pga_write_file_atomic(const char *path, const void *data, size_t len,
			  mode_t mode, struct pga_err *err);

/*
 * Read a whole small file into buf (at most cap-1 bytes, NUL-terminated).
 * A file longer than that is an error, never silently cut.
 * Returns PGA_ENOTFOUND if it does not exist.
 */
int pga_read_small_file(const char *path, char *buf, size_t cap, size_t *len,
			struct pga_err *err);

/* Like pga_read_small_file, but a missing file is an empty one (*exists false). */
int pga_read_optional_file(const char *path, char *buf, size_t cap, bool *exists,
			   struct pga_err *err);

/* Open a file to read it once from start to end (PGA_ENOTFOUND if missing). */
int pga_open_sequential(const char *path, int *fd, struct pga_err *err);

/* snprintf into a path buffer; error if it does not fit. */
int pga_path(char *buf, size_t cap, struct pga_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
