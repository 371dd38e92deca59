/*
 * load.h - the central loader: segments into PostgreSQL, exactly once
 *
 * A struct loader holds one connection to the central database.  Each
 * segment is loaded in one transaction: its ledger row (collector, seq,
 * sha256) and all its blocks commit together or not at all.  A segment
 * already in the ledger with the same hash is skipped; the same
 * (collector, seq) with another hash is refused (PGA_ECONFLICT) and
 * recorded as quarantined.  Several loaders, on several machines, may load
 * the same input at once: segments are claimed with locks so none is
 * loaded twice and none deadlocks.
 *
 * The segment is read once, as a stream (file, tar entry, HTTP body): it is
 * verified while its blocks are COPYed, and the transaction only commits
 * after the footer's SHA-256 checked out, so a corrupt segment leaves
 * nothing behind.  Memory stays flat whatever the segment's size.
 *
 * Ownership: loader_open() returns an object the caller frees with
 * loader_close().  One thread per loader; use several loaders for --jobs.
 * Errors: 0 or a negative PGA_E* code with err filled.
 */
#ifndef PGA_LOAD_H
#define PGA_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "spool/segment.h"

struct loader;

struct load_opts {
	const char *conninfo;		/* central database (secret) */
	const char *schema;		/* default "pga" */
	int64_t since, until;		/* snapshot-time window; INT64_MIN/MAX for none */
	const char *collector;		/* only this collector, or NULL */
	bool dry_run;			/* verify and count, write nothing */
};

enum load_result {
	LOAD_LOADED,		/* committed now */
	LOAD_DUPLICATE,		/* already in the ledger with the same hash */
	LOAD_FILTERED,		/* nothing in the time window / other collector */
	LOAD_BUSY,		/* another loader holds it right now */
};

struct load_seg_stats {
	uint64_t blocks, rows, bytes;	/* what was written */
	uint64_t blocks_skipped;	/* outside the time window */
	uint64_t columns_dropped;	/* columns the central schema does not know */
};

/* Connect and check the schema exists at a version this pga knows. */
int loader_open(struct loader **out, const struct load_opts *o,
		struct pga_err *err);
/* Create or upgrade the schema (migrations in one transaction). */
int loader_init_schema(struct loader *l, struct pga_err *err);
/*
 * Load one segment read through fn/ctx (name is used in messages and the
 * ledger).  PGA_ECONFLICT for a same-seq-different-hash segment, reader
 * error classes for a corrupt one; either way nothing was written.
 */
int loader_load_segment(struct loader *l, const char *name, seg_read_fn fn,
			void *ctx, enum load_result *res,
			struct load_seg_stats *st, struct pga_err *err);
/*
 * Is (collector, seq) in the ledger?  1 with sha filled, 0 if not.  Used by
 * the shipper's postgres destination as its HEAD.
 */
int loader_lookup(struct loader *l, const char *collector, uint64_t seq,
		  uint8_t sha[PGA_SHA256_LEN], struct pga_err *err);
void loader_close(struct loader *l);

#endif
