/*
 * restore.h - pga restore: a central database rebuilt from an archive,
 * the newest day first, resumable, verified
 *
 * Sources (restore/catalog.c): a directory tree of segments (a spool, an
 * unpacked archive, a file:// destination), an uncompressed tar from `pga
 * spool pack`, or a bucket (s3://, gs://, azure://, dest:NAME).  A bucket
 * is never listed whole before the first load starts: its collectors and
 * their days are read from the names' prefixes (<collector>/<yyyy>/<mm>/
 * <dd>/, FORMAT.md "Names") with delimiter listings, and a day's objects
 * are listed when that day comes near.  A tar is checked whole against its
 * manifest first (spool/source.h "Archives"), then read at the offsets that
 * check found, in restore's order.  A compressed tar or a single segment
 * cannot be read out of order: it is restored in its own order, segment by
 * segment (the `pga load` path), with a warning.
 *
 * Order: by UTC day, newest first by default (--order newest-first: the
 * most recent day of every collector is queryable first, history streams
 * in behind it) or oldest first.  A day holds the segments named under
 * that day (their creation time) of every collector, in (collector, seq)
 * order.  A segment whose snapshots reach into other days (one that spans
 * midnight, a snapshot taken just before the segment was created) is
 * loaded for each of those days with that day's window: when that day is
 * still to come it joins it; when it has begun already, that part goes
 * through the per-segment path once the day is attached.
 *
 * Loading (load.h "restore's fast path"): --jobs day transactions run at
 * once, each one day, each filling fresh day tables with COPY FREEZE; one
 * more connection, the finisher, builds each committed day's indexes and
 * attaches its tables while the next days load, then loads what the day
 * transaction deferred (forks to hold, bad blocks to isolate, corrupt
 * segments to record, busy ones) through loader_load_fd(), with the
 * day's window.  A day is queryable, indexed, once its finisher step is
 * done.  wal_level is read at the start: at minimal, the fresh tables are
 * written without WAL; otherwise the restore says what to set.
 *
 * Download ahead (restore/fetch.c): fetch threads copy the segments of
 * the coming days, in the order they will be loaded, to unlinked
 * temporary files in $TMPDIR, at most --prefetch bytes ahead of the
 * loaders (and at least one segment); a directory's files are read where
 * they are.  Memory: one entry per planned segment, and days are planned
 * only as far as the prefetch window reaches.
 *
 * Resumption: the ledger is the truth.  Re-run with the same arguments, a
 * restore skips what is loaded (complete duplicates from their footer,
 * partial ones load only their missing windows), first indexes and
 * attaches the day tables an interrupted run committed but did not attach,
 * and says how much was there.  It refuses a database whose ledger holds a
 * collector this source does not have (data from a different source): use
 * `pga load` to add to such a database, or restore into a fresh one.
 *
 * --verify-only (restore/verify.c): no database.  Every object is read and
 * verified (CRCs, SHA-256, its name against its header), a tar against its
 * manifest, a directory against a MANIFEST.sha256 at its root if there is
 * one (a missing entry or a file the manifest lacks is a finding),
 * each collector's history checked (gaps, forks, chain breaks:
 * spool/history.h), and printed per collector: the time range covered,
 * gaps, refusals.  Exit 0 when the source is whole, 1 otherwise.
 * Signatures: restore_verify_trust() is the hook the trust issue fills in;
 * until then segments are unsigned and it accepts them.
 *
 * Progress: on a terminal, a line on stderr four times a second: days,
 * segments, rows, bytes, the rate, how far back every collector is
 * queryable ("queryable back to 2026-11-12 00:00"), an ETA; otherwise one
 * summary line at the end (--json: a document with every figure and,
 * per day, when it became queryable).
 *
 * Exit status: 0 everything restored (or already there), 2 something was
 * refused, held or dropped, 1 failure (the run stopped), 64 usage.
 */
#ifndef PGA_RESTORE_H
#define PGA_RESTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "load/load.h"

enum restore_order { RESTORE_NEWEST_FIRST, RESTORE_OLDEST_FIRST };

struct restore_opts {
	struct load_opts lo;		/* conninfo, schema, since, until */
	const char *from;
	int jobs;			/* day transactions at once, >= 1 */
	enum restore_order order;
	uint64_t prefetch;		/* bytes downloaded ahead, at most */
	long index_mem_kb;		/* maintenance_work_mem of index builds (0: server's) */
	/* max_parallel_maintenance_workers of index builds (-1: server's).  0 by
	 * default: a day table's build is small, and a parallel one starts a
	 * worker process and merges two sorts for it, while the restore's own
	 * streams already keep the cores busy (bench/60-restore.sh: 8-10% less
	 * server CPU on 2 cores) */
	int index_workers;
	bool no_manifest;
	bool json;
	bool progress;
	bool per_segment;		/* no day transactions: the pga load path */
};

/* The whole restore; an exit status (PGA_EXIT_*), the summary to out. */
int restore_run(const struct restore_opts *o, FILE *out);

/* --verify-only: the source checked, a report per collector to out. */
int restore_verify(const struct restore_opts *o, FILE *out);

#endif
