/*
 * csvlog.h - incremental ingestion of a PostgreSQL csvlog
 *
 * The target's `csvlog` names a file (postgresql.csv) or the log directory
 * (every *.csv in it, oldest first).  Each cycle reads what was appended
 * since the saved position, up to CSVLOG_CYCLE_MAX bytes, and writes one
 * CSV row per log record in the catalog's postgres_log columns (12's 23
 * fields, 13's 24 and 14+'s 26 all map onto the same 26; missing ones are
 * NULL).  Only complete records are taken: the position never lands inside
 * a record the server is still writing.
 *
 * Rotation: the position is (device, inode, offset).  A file renamed away
 * (logrotate, or a new file in the directory) is finished from its saved
 * offset when it can still be found in the directory, then reading goes on
 * in the newer file from its start; a file that shrank was truncated and is
 * read from its start.
 *
 * Parsing uses libcsv, after a quote-aware scan has found where the last
 * complete record ends, so memory stays flat (one field at a time).
 *
 * The position moves only when the caller says the block is in the
 * segment file (csvlog_done: committed and, from a batching stream,
 * flushed), and is then saved to SPOOL/state/<target>.csvlog atomically.
 * Not thread-safe: one worker per target.
 */
#ifndef PGA_CSVLOG_H
#define PGA_CSVLOG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

#define CSVLOG_CYCLE_MAX (64u << 20)
#define CSVLOG_COLS 26

struct csvlog_pos {
	dev_t dev;
	ino_t ino;
	uint64_t offset;
	int64_t mtime;
	char file[PATH_MAX];
};

struct csvlog {
	char path[PATH_MAX];		/* as configured */
	char state_path[PATH_MAX];
	bool loaded;			/* state read */
	bool have_pos;
	struct csvlog_pos pos;		/* committed */
	struct csvlog_pos next;		/* after the last csvlog_read */
	bool pending;
	uint64_t records, malformed;	/* of the last read */
};

typedef int (*csvlog_write_fn)(void *ctx, const char *buf, size_t len,
			       struct pga_err *err);

/* Remember where to read from and where to keep the position. */
int csvlog_init(struct csvlog *l, const char *path, const char *state_dir,
		const char *target, struct pga_err *err);
/* Write the new records as rows. */
int csvlog_read(struct csvlog *l, csvlog_write_fn fn, void *ctx,
		struct pga_err *err);
/* The rows were committed: keep the new position (saved durably). */
void csvlog_done(struct csvlog *l);

#endif
