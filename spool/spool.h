/*
 * spool.h - the local spool: a directory of sealed segments waiting to be
 * shipped, plus the one open segment its writer is filling
 *
 * Layout, sealing and recovery rules are in spool/FORMAT.md.
 *
 * Writers and readers:
 *   - spool_open_writer() takes the spool's lock (flock on SPOOL/lock, pid
 *     inside); a second writer gets PGA_ELOCKED at once.  Opening salvages
 *     part files left by a crash.  One writer process per spool, but many
 *     threads of it may produce blocks at once (see streams below).
 *   - spool_open() is for readers (ls, verify, pack, ship, load): no lock,
 *     any number at the same time as the writer.  Readers only ever see
 *     sealed segments, because sealing is an atomic rename.
 *
 * Streams: a struct spool_stream produces one block at a time.
 *   - SPOOL_STREAM_DIRECT streams straight into the open segment (no copy,
 *     no buffering: a 1 GB block needs no more memory than a small one).  It
 *     holds the segment from begin to commit, so other streams wait.
 *   - Without it the block is compressed into the stream's own spill buffer
 *     (memory up to 256 KiB, then an unlinked file in SPOOL/tmp) and
 *     spool_stream_commit() appends it to the segment under a mutex.  This
 *     is what lets collector threads compress in parallel while the segment
 *     stays single-writer.
 *   Each stream belongs to one thread; spool_stream_commit() and
 *   spool_seal()/spool_tick() are thread-safe against each other.
 *
 * Quota: before a block is committed (and while a direct block grows) the
 * spool's size is checked against spool-max.  With spool-full = block the
 * block is refused with PGA_EFULL and nothing already in the spool changes;
 * with drop-oldest the oldest sealed segments are deleted, each counted and
 * logged.  Every drop is added to the persistent counters before it happens.
 *
 * Errors: 0 or a negative PGA_E* code with err filled.  An I/O error inside a
 * block aborts just that block (counted in blocks_failed); the open segment
 * stays consistent.  A segment whose rename into ready/ happened is counted
 * as sealed even when the directory fsync after it failed.
 */
#ifndef PGA_SPOOL_H
#define PGA_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/err.h"
#include "spool/segment.h"

struct spool;
struct spool_stream;
struct spool_counters;

struct spool_opts {
	const char *collector;
	uint64_t max_bytes;		/* 0: no quota */
	enum pga_spool_full full;
	uint64_t seg_max_size;
	int64_t seg_max_age_us;
	int level;
};

/* Fill opts from the configuration's [global] section. */
void spool_opts_from_config(struct spool_opts *o, const struct pga_config *cfg);

int spool_open(struct spool **out, const char *path, struct pga_err *err);
int spool_open_writer(struct spool **out, const char *path,
		      const struct spool_opts *opts, struct pga_err *err);
/* Seal what is open (writer), flush counters, release the lock. */
int spool_close(struct spool *sp, struct pga_err *err);
/* Release without sealing: what a crash would leave (tests, error paths). */
void spool_free(struct spool *sp);

const char *spool_path(const struct spool *sp);
bool spool_is_writer(const struct spool *sp);

/* ---- producing blocks ---- */

#define SPOOL_STREAM_DIRECT 0x1u
/* Let zstd compress on a helper thread (large single streams). */
#define SPOOL_STREAM_THREADED 0x2u

int spool_stream_new(struct spool *sp, unsigned flags,
		     struct spool_stream **out, struct pga_err *err);
/* meta->block_no is assigned by the spool. */
int spool_stream_begin(struct spool_stream *s, const struct seg_block_meta *meta,
		       struct pga_err *err);
int spool_stream_write(struct spool_stream *s, const void *buf, size_t len,
		       struct pga_err *err);
/* Finish the frame and append the block; rows (may be NULL) gets its rows. */
int spool_stream_commit(struct spool_stream *s, uint64_t *rows,
			struct pga_err *err);
/*
 * The same, with counter deltas that count together with the block: they
 * reach the counters file with its segment's seal, and a segment salvaged
 * after a crash counts the deltas of the blocks it kept (SPOOL/tmp/
 * <part>.tags), so what a block's producer counts is counted exactly when
 * the block is in a sealed segment.  Deltas add modulo 2^64: a later tag
 * may take back what an earlier one added (collect counts a snapshot
 * partial with its first block, complete with its status block).
 */
int spool_stream_commit_tagged(struct spool_stream *s, uint64_t *rows,
			       const struct spool_counters *tag,
			       struct pga_err *err);
/* Forget the block in progress; nothing of it reaches the spool. */
void spool_stream_abort(struct spool_stream *s);
bool spool_stream_in_quotes(const struct spool_stream *s);
void spool_stream_free(struct spool_stream *s);

/* Seal the open segment now, if there is one. */
int spool_seal(struct spool *sp, struct pga_err *err);
/* Seal the open segment if it is older than segment-max-age. */
int spool_tick(struct spool *sp, struct pga_err *err);

/* ---- sealed segments ---- */

struct spool_entry {
	char name[SEG_NAME_MAX];	/* relative name, as in FORMAT.md */
	char collector[PGA_NAME_MAX + 1];
	uint64_t seq;
	int64_t created_us;
	uint64_t size;
};

struct spool_list {
	struct spool_entry *v;
	size_t n, cap;
};

/* Sealed segments in ready/, sorted by (collector, seq). */
int spool_list_ready(struct spool *sp, struct spool_list *out,
		     struct pga_err *err);
/* Segments in quarantine/. */
int spool_list_quarantine(struct spool *sp, struct spool_list *out,
			  struct pga_err *err);
void spool_list_free(struct spool_list *l);
/* Add a name to a list (ignored unless it parses as a segment name). */
int spool_list_add(struct spool_list *l, const char *name, uint64_t size,
		   struct pga_err *err);
/* Sort a list by (collector, seq). */
void spool_list_sort(struct spool_list *l);
/* Segments (by name) anywhere under dir, sorted by (collector, seq). */
int spool_list_tree(const char *dir, struct spool_list *out, struct pga_err *err);

/* Absolute path of ready/<name>. */
int spool_ready_path(const struct spool *sp, const char *name, char *buf,
		     size_t cap, struct pga_err *err);
/* Move ready/<name> to quarantine/ with a .why file; counted and logged. */
int spool_quarantine(struct spool *sp, const char *name, const char *why,
		     struct pga_err *err);
/* Delete a delivered segment (durable: directory fsync'd). */
int spool_remove(struct spool *sp, const char *name, struct pga_err *err);

/* Bytes in ready/ and tmp/ (what spool-max limits). */
int spool_usage(struct spool *sp, uint64_t *bytes, struct pga_err *err);

/* Chain state of a collector: last sealed seq and file SHA-256 (0 if none). */
int spool_chain_get(struct spool *sp, const char *collector, uint64_t *seq,
		    uint8_t sha[PGA_SHA256_LEN], struct pga_err *err);

/* ---- counters (persistent, SPOOL/counters) ---- */

enum spool_counter {
	SC_SEGMENTS_SEALED,
	SC_BLOCKS_WRITTEN,
	SC_ROWS_WRITTEN,
	SC_BYTES_WRITTEN,
	SC_SEGMENTS_RECOVERED,
	SC_BYTES_TORN,
	SC_SEGMENTS_DROPPED,
	SC_BLOCKS_DROPPED,
	SC_ROWS_DROPPED,
	SC_BYTES_DROPPED,
	SC_BLOCKS_REFUSED,
	SC_BLOCKS_FAILED,
	SC_SEGMENTS_QUARANTINED,
	SC_CYCLES,
	SC_CYCLES_FAILED,
	SC_CYCLES_SKIPPED,
	SC_TARGETS_OK,
	SC_TARGETS_FAILED,
	SC_SNAPSHOTS_COMPLETE,
	SC_SNAPSHOTS_PARTIAL,
	SC_METRIC_ERRORS,
	SC_VALUES_ESCAPED,
	SC_SEGMENTS_SHIPPED,
	SC_BYTES_SHIPPED,
	SC_SHIP_ERRORS,
	SC__COUNT
};

struct spool_counters {
	uint64_t v[SC__COUNT];
	/*
	 * Not counters: what the counters file already includes, so that an
	 * operation a crash cut off between its effect and its counting is
	 * counted once, at the next start (FORMAT.md, "Counters").  The newest
	 * seal counted (its seq, and spool_collector_hash() of its collector)
	 * and how many count-then-remove operations were.  Zero in a delta:
	 * unchanged.
	 */
	uint64_t sealed_seq, sealed_id, removals;
};

const char *spool_counter_name(enum spool_counter c);
/* The number the counters file names a collector by (sealed_id). */
uint64_t spool_collector_hash(const char *collector);
/*
 * Add deltas to SPOOL/counters (locked read-modify-write, durable).  What
 * happened stays counted when the write fails: the deltas are kept in sp
 * and go out with the next successful write (any later add, or
 * spool_close, which fails naming them if they never could).  A full disk
 * does not stop the write: the spool keeps SPOOL/reserve for it (FORMAT.md).
 */
int spool_counters_add(struct spool *sp, const struct spool_counters *delta,
		       struct pga_err *err);
int spool_counters_read(struct spool *sp, struct spool_counters *out,
			struct pga_err *err);

/* ---- what `pga spool put` cannot know by itself ---- */

/*
 * The consumer's own metrics (pga's catalog): 1 when metric is one of them
 * and cols are exactly its columns (any order), 0 when it is not one of
 * them, PGA_EINVAL with err filled when it is but the columns differ.
 * main() registers it once before any command runs (spool/ knows no
 * catalog); without it every metric counts as custom.
 */
typedef int (*spool_metric_check_fn)(const char *metric, const char *const *cols,
				     uint16_t ncols, struct pga_err *err);
void spool_set_metric_check(spool_metric_check_fn fn);

#endif
