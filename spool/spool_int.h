/* spool_int.h - struct spool, shared by the files of the spool module only. */
#ifndef PGA_SPOOL_INT_H
#define PGA_SPOOL_INT_H

#include <limits.h>
#include <pthread.h>

#include "spool/spool.h"

/* The counters file in memory: every name it holds, in file order. */
#define SPOOL_COUNTER_NAME_MAX 64	/* with the NUL */
#define SPOOL_TALLY_MAX 128		/* names in one file */
#define SPOOL_NOTE_MAX 256		/* spool_where's note, truncated beyond */

struct spool_tally_entry {
	char name[SPOOL_COUNTER_NAME_MAX];
	uint64_t v;
};

struct spool_tally {
	size_t n;
	struct spool_tally_entry e[SPOOL_TALLY_MAX];
};

struct spool {
	char path[PATH_MAX];
	bool writer;
	int lock_fd;
	struct spool_opts opts;
	struct pga_signkey *signer;	/* opts.sign_key_file, or NULL */
	struct pga_xpub *recips[SEG_MAX_RECIPIENTS];	/* opts.encrypt_to */
	size_t nrecips;
	char collector[PGA_NAME_MAX + 1];
	char hostname[256];
	pthread_mutex_t mu;		/* guards everything below */
	struct seg_writer *seg;		/* the open segment, NULL if none */
	bool broken;			/* a seal failed: refuse further blocks */
	uint64_t chain_seq;
	uint8_t chain_sha[PGA_SHA256_LEN];
	uint64_t usage_other;		/* bytes in ready/ and tmp/ but the open segment */
	struct spool_counters pending;	/* the spool's own counters not yet flushed */
	uint64_t sealed_seq;		/* the counters include our seals up to this seq */
	uint64_t removals;		/* count-then-remove operations counted */
	struct spool_tally tags;	/* tags of the open segment's blocks */
	int tags_fd;			/* the open segment's tmp/<part>.tags, or -1 */
	bool chain_dirty;		/* chain/<collector> behind chain_seq: retry */
	pthread_mutex_t cmu;		/* guards unsaved (taken after mu, never before) */
	struct spool_tally unsaved;	/* added, but the counters file write failed */
};

/* SPOOL/reserve: space held back for counters and chain state (FORMAT.md). */
#define SPOOL_RESERVE_SIZE (64 * 1024)
int spool_reserve_ensure(struct spool *sp, struct pga_err *err);
/* Write a small state file; on a full disk release the reserve and retry. */
int spool_write_meta(struct spool *sp, const char *path, const void *buf,
		     size_t len, struct pga_err *err);
/*
 * The lines of the counters file that are no counters (spool.h): what it
 * already includes.  0 in a delta: unchanged.  A seal names itself
 * (sealed_seq, and spool_collector_hash() of its collector as sealed_id);
 * removals only grow.
 */
struct spool_marks {
	uint64_t sealed_seq, sealed_id, removals;
};

uint64_t spool_collector_hash(const char *collector);
/* t[name] += v; -1 when name is no counter name or t is full. */
int spool_tally_add_one(struct spool_tally *t, const char *name, uint64_t v);
/* A tally's names from a set's deltas (the nonzero ones), added to t. */
int spool_tally_add_set(struct spool_tally *t, const struct spool_counter_set *set,
			const struct spool_counters *delta, struct pga_err *err);
/*
 * The spool's own deltas, the tags that count with them (may be NULL) and
 * marks (may be NULL), in one write.  keep: as spool_counters_add();
 * otherwise (counted before it happens) a failed write forgets them.
 */
int spool_counters_add_marked(struct spool *sp, const struct spool_counters *own,
			      const struct spool_tally *tags, const struct spool_marks *marks,
			      bool keep, struct pga_err *err);
int spool_marks_read(struct spool *sp, struct spool_marks *out, struct pga_err *err);
/* The spool's own, counted before it happens: on failure the delta is forgotten, not kept. */
int spool_counters_add_first(struct spool *sp, const struct spool_counters *delta,
			     struct pga_err *err);
/* Write counters kept after a failed write; PGA_EIO naming them if it fails. */
int spool_counters_retry(struct spool *sp, struct pga_err *err);

/*
 * Tags of the open segment's blocks (sp->mu held): noted in the part's
 * .tags file before the block's trailer is written, cancelled if that
 * fails; see spool_stream_commit_tagged().
 */
int spool_tags_note(struct spool *sp, uint32_t block, const struct spool_counter_set *set,
		    const struct spool_counters *tag, struct pga_err *err);
void spool_tags_cancel(struct spool *sp, uint32_t block);

/* Called with sp->mu held. */
int spool_make_room(struct spool *sp, uint64_t need, struct pga_err *err);
int spool_ensure_segment(struct spool *sp, struct pga_err *err);
int spool_seal_locked(struct spool *sp, struct pga_err *err);
int spool_flush_counters_locked(struct spool *sp, struct pga_err *err);

/* Directory scan callback: relative name, size. */
typedef int (*spool_walk_fn)(void *ctx, const char *rel, uint64_t size,
			     struct pga_err *err);
int spool_walk(const char *dir, spool_walk_fn fn, void *ctx, struct pga_err *err);

int spool_chain_set(struct spool *sp, const char *collector, uint64_t seq,
		    const uint8_t sha[PGA_SHA256_LEN], struct pga_err *err);

#endif
