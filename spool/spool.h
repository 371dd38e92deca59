/*
 * spool.h - the local spool: a directory of sealed segments waiting to be
 * shipped, plus the one open segment its writer is filling
 *
 * Layout, sealing and recovery rules are in spool/FORMAT.md.
 *
 * The spool knows neither its producers nor its consumers: the collector
 * and the shipper keep their counters in its generic named store and their
 * state in the folders it gives them (spool_part_dir, spool_part_lock),
 * and `pga spool put` learns of the catalog from the command layer.
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
 *   - With SPOOL_STREAM_BATCH (what pga collect uses) committed blocks
 *     wait in the stream and are appended together, one lock meeting and
 *     one write(2) for a database's session instead of one per block.
 *     Crash semantics follow: a kill -9 keeps every block already in the
 *     file, whole (salvage cuts a torn tail), so with batches it keeps the
 *     sessions already appended and none of the one in progress, whose
 *     data was no whole snapshot anyway (each snapshot's first and status
 *     blocks are committed tagged, alone: the counters stay exact).
 *   Each stream belongs to one thread; spool_stream_commit() and
 *   spool_seal()/spool_tick() are thread-safe against each other.
 *
 * Quota: before a block is committed (and while a direct block grows) the
 * spool's size is checked against spool-max.  With spool-full = block the
 * block is refused with PGA_EFULL and nothing already in the spool changes;
 * with drop-oldest the oldest sealed segments are deleted, each counted and
 * logged, passing over any a shipper holds (spool_hold); segments every
 * consumer already has go first, uncounted (spool_where).  Every drop is
 * added to the persistent counters before it happens.
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
struct spool_counter_set;

/*
 * Where a sealed segment already is, as its consumers know it.  The spool
 * knows no consumer: the command layer answers for them (for pga ship, the
 * destinations that confirmed the segment).  Drop-oldest asks under the
 * drop's exclusive lock, so no consumer holds the segment and none is
 * between delivering and confirming it.  A segment every consumer has is
 * kept only for retention: a full spool removes those first, oldest
 * first, and does not count them as dropped.  Then it drops the oldest of
 * the rest, each counted, its log line carrying the note ("delivered to
 * 'dir', not to 's3'": the drop lost it only for the others).  A NULL
 * where: every segment is SPOOL_NOWHERE.
 */
enum spool_where {
	SPOOL_NOWHERE,		/* no consumer has it: dropping it loses it */
	SPOOL_SOMEWHERE,	/* some have it, note says which */
	SPOOL_EVERYWHERE,	/* every consumer has it */
};
typedef enum spool_where (*spool_where_fn)(void *arg, const struct spool *sp, const char *name,
					   char *note, size_t cap);

struct spool_opts {
	const char *collector;
	uint64_t max_bytes;		/* 0: no quota */
	enum pga_spool_full full;
	uint64_t seg_max_size;
	int64_t seg_max_age_us;
	int level;
	/* sign every sealed segment with this Ed25519 key (common/edkey.h):
	 * loaded once by spool_open_writer, wiped at close; NULL: unsigned */
	const char *sign_key_file;
	/* encrypt every new segment to these X25519 public keys (common/xkey.h,
	 * FORMAT.md "Encryption"): loaded once by spool_open_writer; NULL or
	 * empty: plaintext */
	const struct pga_list *encrypt_to;
	/* asked by drop-oldest where a segment already is (see spool_where) */
	spool_where_fn where;
	void *where_arg;
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

/* ---- producing blocks ---- */

#define SPOOL_STREAM_DIRECT 0x1u
/* Let zstd compress on a helper thread (large single streams). */
#define SPOOL_STREAM_THREADED 0x2u
/*
 * Not direct: committed blocks wait in the stream (up to 64 of them, and
 * as many as its 256 KiB buffer takes) and reach the segment together at
 * spool_stream_flush(), one lock meeting and one write(2) for all (the
 * spool's block numbers, hash chain and, encrypted, nonces are assigned
 * then, in that order).  A begin that finds the batch full, a tagged
 * commit and a block that spilled to a file flush it first (with that
 * block).  So a committed block reaches the segment at the latest at the
 * stream's next flush, and a kill -9 before it loses the stream's batch:
 * the collector flushes at the end of each database's session, so what
 * a crash keeps is every database whose blocks were flushed, and the
 * blocks of a snapshot's first and status commits (tagged).  A failure
 * at the flush is counted and logged for each block it lost (refused or
 * failed, as for a block committed alone) and returned by the call that
 * flushed (begin, commit or flush).
 */
#define SPOOL_STREAM_BATCH 0x4u

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
 * partial with its first block, complete with its status block).  tag
 * holds deltas by index into set (see the counters below).
 */
int spool_stream_commit_tagged(struct spool_stream *s, uint64_t *rows,
			       const struct spool_counter_set *set,
			       const struct spool_counters *tag, struct pga_err *err);
/* Append the blocks a SPOOL_STREAM_BATCH stream holds (no block open). */
int spool_stream_flush(struct spool_stream *s, struct pga_err *err);
/*
 * spool_stream_flush(), then every block of the open segment durable (its
 * part file fdatasync'd, the tags too): for a producer that records
 * elsewhere, durably, what its blocks hold (pga collect's csvlog
 * position), so a power cut cannot leave the record ahead of the data.  A
 * block already sealed is durable with its segment.
 */
int spool_stream_sync(struct spool_stream *s, struct pga_err *err);
/* Forget the block in progress; nothing of it reaches the spool (the
 * blocks the stream holds stay). */
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
/* Absolute path of quarantine/<name>. */
int spool_quarantine_path(const struct spool *sp, const char *name, char *buf,
			  size_t cap, struct pga_err *err);
/* Each open segment (a .part file in tmp/, not named like a segment) with its size. */
typedef int (*spool_open_fn)(void *ctx, const char *name, uint64_t size);
int spool_list_open(struct spool *sp, spool_open_fn fn, void *ctx, struct pga_err *err);
/* Move ready/<name> to quarantine/ with a .why file; counted and logged. */
int spool_quarantine(struct spool *sp, const char *name, const char *why,
		     struct pga_err *err);
/*
 * Delete a delivered segment (durable: directory fsync'd).  PGA_ELOCKED,
 * nothing removed, while the segment is newer than its collector's chain
 * state (chain/<collector>: the writer sealed it and has not recorded it
 * yet, or was killed in between): a writer that starts again takes the
 * newest segment in ready/ as its chain state, and must find it there.
 */
int spool_remove(struct spool *sp, const char *name, struct pga_err *err);
/*
 * Hold a ready segment while a consumer reads it to deliver it: spool-full
 * = drop-oldest passes over a held segment and drops the next oldest (one
 * on its way out leaves the spool soon anyway), so no segment is both
 * counted as dropped and delivered.  *fd is the hold (a shared flock on the
 * file, taken after the drop's exclusive one would have been): close it when
 * done.  PGA_ENOTFOUND: the segment has left the spool (shipped or dropped).
 */
int spool_hold(struct spool *sp, const char *name, int *fd, struct pga_err *err);

/* Bytes in ready/ and tmp/ (what spool-max limits). */
int spool_usage(struct spool *sp, uint64_t *bytes, struct pga_err *err);

/* Chain state of a collector: last sealed seq and file SHA-256 (0 if none). */
int spool_chain_get(struct spool *sp, const char *collector, uint64_t *seq,
		    uint8_t sha[PGA_SHA256_LEN], struct pga_err *err);

/* ---- counters (persistent, SPOOL/counters) ---- */

/*
 * A store of named counters that every part shares: the spool keeps them
 * all in one file and knows none but its own.  A part declares its
 * counters as a set (the names, in the order it shows them) and adds to
 * them by index into its set; collect/collect.h and ship/ship.h hold the
 * collector's and the shipper's.  Names are [a-z0-9_]{1,63} and unique
 * across the sets.  A set is declared by its first use, or up front with
 * spool_counters_declare() so that every counters file this process writes
 * lists its names (zero until counted).  Names in the file that no set of
 * this process declares are kept as they are.  Three names are the
 * spool's and no counters: sealed_seq, sealed_id and removals, the last
 * lines of the file, say what it already includes so that a kill -9
 * between an effect and its counting is counted once (FORMAT.md).
 */
#define SPOOL_COUNTERS_MAX 32		/* names in one set */
#define SPOOL_COUNTER_SETS_MAX 8	/* sets one process declares */

struct spool_counter_set {
	const char *part;		/* who owns them: "spool", "collect", "ship" */
	const char *const *names;
	size_t n;			/* at most SPOOL_COUNTERS_MAX */
};

/* Values of one set, by index into its names. */
struct spool_counters {
	uint64_t v[SPOOL_COUNTERS_MAX];
};

/* The spool's own counters (spool_counters_own names them). */
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
	SC__COUNT
};

extern const struct spool_counter_set spool_counters_own;

/* Make set's names part of every counters file written from now on. */
void spool_counters_declare(const struct spool_counter_set *set);
/*
 * Add deltas (by index into set) to SPOOL/counters (locked
 * read-modify-write, durable).  What happened stays counted when the write
 * fails: the deltas are kept in sp and go out with the next successful
 * write (any later add, or spool_close, which fails naming them if they
 * never could).  A full disk does not stop the write: the spool keeps
 * SPOOL/reserve for it (FORMAT.md).
 */
int spool_counters_add(struct spool *sp, const struct spool_counter_set *set,
		       const struct spool_counters *delta, struct pga_err *err);
/* The values of set's names in SPOOL/counters (0 for a name not there). */
int spool_counters_read(struct spool *sp, const struct spool_counter_set *set,
			struct spool_counters *out, struct pga_err *err);

/* ---- what other parts keep in the spool ---- */

/*
 * The folder SPOOL/<name> in which a part keeps its own state (the
 * collector "state", the shipper "ship"; FORMAT.md lists them).  The part
 * creates it, with the mode it needs; the spool never reads inside.
 */
int spool_part_dir(const struct spool *sp, const char *name, char *buf, size_t cap,
		   struct pga_err *err);
/*
 * One process of a part per spool: flock SPOOL/<name>.lock (held until
 * *fd is closed) with the pid inside.  PGA_ELOCKED when another holds it.
 */
int spool_part_lock(const struct spool *sp, const char *name, int *fd,
		    struct pga_err *err);

/* ---- the spool's report, for pga status ---- */

struct spool_summary {
	size_t sealed, quarantined;
	uint64_t bytes;			/* of the sealed segments */
	uint64_t usage;			/* what spool-max limits */
	int64_t oldest_us;		/* creation of the oldest sealed segment, 0: none */
	struct spool_counters c;	/* the spool's own counters */
};

int spool_summarise(struct spool *sp, struct spool_summary *s, struct pga_err *err);

#endif
