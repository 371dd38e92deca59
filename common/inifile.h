/*
 * inifile.h - pga's reader of INI text (pga.conf)
 *
 * The syntax, line by line (leading and trailing blanks ignored):
 *   empty line, or '#' or ';' first   a comment
 *   [NAME]                            a section; after ']' only blanks or
 *                                     a '#'/';' comment
 *   KEY = VALUE                       split at the first '='; both trimmed;
 *                                     VALUE may be empty and is taken as
 *                                     written (no inline comment: ';' and
 *                                     '#' occur in passwords) unless quoted
 *   KEY = 'VALUE' or "VALUE"          quoted as in postgresql.conf: the
 *                                     quote doubled ('') or a backslash
 *                                     escape (\n \t \\ \' \") inside; after
 *                                     the closing quote only blanks or a
 *                                     '#'/';' comment.  An unquoted value
 *                                     that must start with a quote is
 *                                     written quoted.
 * A UTF-8 byte-order mark before the first line and CR before LF are
 * ignored.  Anything else is an error, and so is a NUL byte anywhere, a
 * line longer than PGA_INI_LINE_MAX or input longer than PGA_INI_INPUT_MAX.
 *
 * The reader knows no keys: it hands sections and pairs to the caller's
 * callbacks with their file and line, and stops at the first error.  Every
 * error message starts with "FILE:LINE: " (a callback fills err without
 * the location; the reader adds it).  Callbacks may read another file
 * from inside a callback (an include): each call has its own state.
 *
 * Memory: one line at a time, in a buffer that grows to the longest line
 * (capped); input size does not matter.  Thread-safe (no global state).
 */
#ifndef PGA_INIFILE_H
#define PGA_INIFILE_H

#include <stddef.h>
#include <sys/stat.h>

#include "common/err.h"

#define PGA_INI_LINE_MAX (1024 * 1024)
#define PGA_INI_INPUT_MAX (16 * 1024 * 1024)

struct pga_ini_loc {
	const char *file;	/* as the caller named it */
	int line;		/* 1-based */
};

struct pga_ini_ops {
	/* [name]: the text between the brackets, as written */
	int (*section)(void *ctx, const struct pga_ini_loc *at, const char *name,
		       struct pga_err *err);
	/* key = value */
	int (*pair)(void *ctx, const struct pga_ini_loc *at, const char *key,
		    const char *value, struct pga_err *err);
};

/*
 * Read the file at path (what names it in errors: "config file").  A
 * directory, an unreadable file or anything but a regular file, a FIFO or
 * a character device (/dev/null, a shell's <(...)) is refused.  *st gets
 * the fstat of the descriptor that was read, for the caller's checks of
 * mode and owner (no race with a rename).  PGA_ENOTFOUND if it does not
 * exist.
 */
int pga_ini_read_file(const char *path, const char *what,
		      const struct pga_ini_ops *ops, void *ctx, struct stat *st,
		      struct pga_err *err);

/* The same rules over len bytes in memory (tests, fuzzing). */
int pga_ini_read_mem(const char *name, const void *buf, size_t len,
		     const struct pga_ini_ops *ops, void *ctx,
		     struct pga_err *err);

#endif
