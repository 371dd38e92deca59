/*
 * err.h - error reporting contract shared by every module
 *
 * Functions that can fail return 0 on success or a negative PGA_E* code, and
 * fill a caller-owned struct pga_err with a one-line message (lowercase, no
 * final period, subject quoted: could not open 'x': reason).  The struct is
 * plain data: no allocation, nothing to free, safe to copy.  Each thread uses
 * its own struct; nothing here touches global state.
 *
 * What callers branch on travels in the struct, never in a global: code,
 * and for PostgreSQL errors the server's SQLSTATE (filled by pga_pg_fail(),
 * cleared by every other pga_fail()).
 *
 * Only the command layer (cmd/, via main()) turns an error into an exit
 * status, one of PGA_EXIT_* below; pga_log_err() (log.h) prints one, with
 * the file:line recorded here at debug level.
 */
#ifndef PGA_ERR_H
#define PGA_ERR_H

#include <stddef.h>

enum pga_errcode {
	PGA_OK = 0,
	PGA_EINTERNAL = -1,	/* a bug: an invariant did not hold */
	PGA_ENOMEM = -2,
	PGA_EIO = -3,		/* read/write/fsync/rename failed */
	PGA_ENOSPC = -4,	/* disk full or quota (EDQUOT) */
	PGA_EINVAL = -5,	/* bad input from the user: option, value, config */
	PGA_ECONFIG = -6,	/* bad configuration file */
	PGA_EFORMAT = -7,	/* not a pga segment at all (foreign magic) */
	PGA_ETRUNC = -8,	/* segment or archive ends early */
	PGA_ECHECKSUM = -9,	/* crc32c, zstd or sha-256 mismatch */
	PGA_ECORRUPT = -10,	/* structurally wrong (order, lengths, index) */
	PGA_ECHAIN = -11,	/* previous-segment hash does not match */
	PGA_EVERSION = -12,	/* format or schema version we do not know */
	PGA_ELOCKED = -13,	/* another writer holds the lock */
	PGA_EFULL = -14,	/* spool quota reached with spool-full = block */
	PGA_ENOTFOUND = -15,
	PGA_EDB = -16,		/* PostgreSQL returned an error */
	PGA_ENET = -17,		/* network or remote service error, retryable */
	PGA_EREMOTE = -18,	/* remote refused the request for good */
	PGA_ECONFLICT = -19,	/* same name, different content */
	PGA_ETIMEOUT = -20,
	PGA_ECANCEL = -21,	/* interrupted by a signal on request */
	PGA_EPERM = -22,
	PGA_EKEY = -23,		/* encrypted, and no key at hand decrypts it */
};

#define PGA_ERR_MSG_MAX 512

struct pga_err {
	int code;
	const char *file;	/* where it was raised: pga_log_err() at debug level */
	int line;
	char sqlstate[6];	/* PostgreSQL's SQLSTATE ("" when not from a server) */
	char msg[PGA_ERR_MSG_MAX];
};

/*
 * Record an error and return its code, so callers write
 *     return pga_fail(err, PGA_EIO, "could not open '%s': %m", path);
 * %m expands to strerror(errno) as in glibc printf.  err may be NULL.  The
 * arguments may quote err->msg itself; a message longer than
 * PGA_ERR_MSG_MAX is cut and ends with "...".
 */
#define pga_fail(err, code, ...) \
	pga_err_set((err), (code), __FILE__, __LINE__, __VA_ARGS__)

int pga_err_set(struct pga_err *err, int code, const char *file, int line,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Replace the message only (code, place and sqlstate stay); same rules. */
int pga_err_msgf(struct pga_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the current message with more context: "what: old message". */
int pga_err_prefix(struct pga_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void pga_err_clear(struct pga_err *err);

/* Map an errno from a failed write/fsync to PGA_ENOSPC or PGA_EIO. */
int pga_errno_code(int errnum);

/* Short stable name of a code ("checksum", "truncated", ...) for tests and JSON. */
const char *pga_err_name(int code);

/* Exit statuses, documented in pga(1). */
enum {
	PGA_EXIT_OK = 0,
	PGA_EXIT_FAIL = 1,
	PGA_EXIT_PARTIAL = 2,
	PGA_EXIT_USAGE = 64,
};

#endif
