/*
 * restore_int.h - internals shared by restore's files (not an interface)
 *
 *   catalog.c  the source by collector and day; a reader per thread
 *   fetch.c    download ahead, bounded, in restore's order
 *   run.c      day transactions, the finisher, resumption, the summary
 *   progress.c the progress line and the per-collector "queryable back to"
 *   verify.c   --verify-only
 *   cmd_restore.c  the command line
 */
#ifndef PGA_RESTORE_INT_H
#define PGA_RESTORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "restore/restore.h"
#include "spool/segment.h"

#define RS_DAY_US (86400LL * 1000000LL)
#define SEG_COLLECTOR_MAX 65

/* UTC day number of a time (floor), and "YYYY-MM-DD" of one. */
int32_t rs_day_of(int64_t us);
void rs_day_text(int32_t day, char *buf, size_t cap);

/* ---- catalog.c ---- */

/* One segment of the source, as its name describes it. */
struct rs_seg {
	char name[SEG_NAME_MAX];
	char collector[SEG_COLLECTOR_MAX];
	uint64_t seq;
	int64_t created_us;
	int32_t day;			/* of its creation: the directory it is under */
	uint64_t size;
	int coll;			/* index of its collector in the catalog */
	size_t member;			/* an archive's member index */
	/* counted (segments, loaded) in the day it is loaded for: its own
	 * day, or the first day it was carried to when its own has none of
	 * its snapshots */
	bool counts;
};

struct rs_catalog;
struct rs_reader;

int rs_catalog_open(struct rs_catalog **out, const char *from, bool no_manifest,
		    struct pga_err *err);
/* Can it be read in any order (directory, bucket, uncompressed tar)? */
bool rs_catalog_random(const struct rs_catalog *c);
size_t rs_catalog_ncollectors(const struct rs_catalog *c);
const char *rs_catalog_collector(const struct rs_catalog *c, size_t i);
int rs_catalog_collector_index(const struct rs_catalog *c, const char *name);
/* Every day any collector has segments under, ascending. */
const int32_t *rs_catalog_days(const struct rs_catalog *c, size_t *n);
bool rs_catalog_has_day(const struct rs_catalog *c, size_t coll, int32_t day);
/* The segments under day of every collector, (collector, seq) order (malloc'd). */
int rs_catalog_list_day(struct rs_catalog *c, int32_t day, struct rs_seg **out, size_t *n,
			struct pga_err *err);
void rs_catalog_free(struct rs_catalog *c);

/* A thread's access to the bytes (its own bucket connection). */
int rs_reader_open(struct rs_catalog *c, struct rs_reader **out, struct pga_err *err);
/* The segment's bytes at offset 0 of *fd (a directory's own file, else a temporary copy). */
int rs_reader_get(struct rs_reader *r, const struct rs_seg *s, int *fd, struct pga_err *err);
/* Files read where they are (no copy, nothing to fetch ahead). */
bool rs_reader_local(const struct rs_reader *r);
void rs_reader_close(struct rs_reader *r);

/* ---- fetch.c ---- */

/*
 * Segments in the order the loaders will want them, fetched ahead by
 * threads of their own: at most `budget` bytes fetched and not yet taken
 * (at least one segment whatever its size).
 */
struct rs_fetch;
struct rs_item;

int rs_fetch_start(struct rs_fetch **out, struct rs_catalog *c, int threads, uint64_t budget,
		   struct pga_err *err);
/* Queue s (copied) for fetching; its handle to rs_fetch_take(). */
struct rs_item *rs_fetch_want(struct rs_fetch *f, const struct rs_seg *s);
/* Wait for the item: its fd (owned by the caller now) or the fetch's error. */
int rs_fetch_take(struct rs_fetch *f, struct rs_item *it, int *fd, struct pga_err *err);
/* Forget an item that will not be taken (its bytes are released). */
void rs_fetch_drop(struct rs_fetch *f, struct rs_item *it);
/* The taken item's bytes leave the budget (the caller closed its fd). */
void rs_fetch_release(struct rs_fetch *f, struct rs_item *it);
/* Bytes fetched ahead right now, and the most the run had at once. */
void rs_fetch_usage(struct rs_fetch *f, uint64_t *now, uint64_t *peak);
void rs_fetch_stop(struct rs_fetch *f);

/* ---- run.c and report.c: one restore ---- */

#include <pthread.h>

struct rs_want {			/* a segment a day will load */
	struct rs_seg s;
	struct rs_item *item;		/* fetched ahead, until taken */
	bool moved;			/* none of its snapshots are in its own day */
};

enum rs_day_state { RS_IDLE, RS_PLANNED, RS_ACTIVE, RS_COMMITTED, RS_DONE };

struct rs_day {
	int32_t day;
	enum rs_day_state state;
	struct rs_want *want;		/* its segments, then those carried into it */
	size_t nwant, wcap;
	struct rs_seg *slow;		/* for the per-segment path, after its attach */
	size_t nslow, scap;
	struct load_day_table *tables;	/* committed, for the finisher to attach */
	size_t ntables;
	uint8_t *colls;			/* collectors with segments under it */
	uint64_t segments, rows;	/* loaded (day transaction and per segment) */
	int64_t queryable_us;		/* since the start; 0 until done */
};

/* What was done; the per-segment path's results are counted the same way. */
struct rs_totals {
	uint64_t segments, loaded, duplicate, filtered, deferred, refused, held, failed;
	uint64_t rows, bytes, seg_bytes, blocks_refused, rows_refused, columns_dropped, partial;
	uint64_t in_doubt, days_done, tables_attached, retries;
	uint64_t already_segments, already_rows;
	int64_t elapsed_us;
};


struct rs_run {
	const struct restore_opts *o;
	struct rs_catalog *cat;
	struct rs_fetch *fetch;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rs_day *days;		/* in the order they are loaded */
	size_t ndays, next_plan, next_work;
	int32_t *sorted;		/* day numbers ascending, for lookups */
	size_t *sorted_idx;		/* their index in days */
	size_t *fin_q;			/* committed days, in commit order */
	size_t fin_len, fin_head;
	struct rs_late { int32_t day; struct rs_seg s; } *late;
	size_t nlate, late_head, late_cap;
	int workers_left;
	bool fatal, stopped;
	struct pga_err fatal_err;
	struct rs_totals t;
	struct load_errors errors;
	char wal_level[32];
	int64_t start_us;
};

/* report.c */
void rs_progress_line(void *run, bool final);	/* a pga_tick_fn */
void rs_summary(struct rs_run *r, FILE *out);
void rs_summary_json(struct rs_run *r, FILE *out);
/* Oldest day start every collector is queryable back to (newest first) or
 * the newest it is restored up to (oldest first); INT64_MIN when none. */
int64_t rs_collector_reach(struct rs_run *r, size_t coll);

/* ---- verify.c ---- */

/*
 * The trust issue's hook: whether a verified segment carries a signature
 * that verifies (1), carries none (0: unsigned, accepted as version 1
 * segments always are), or is refused (< 0, err filled).
 */
int restore_verify_trust(const struct seg_info *info, const char *name, struct pga_err *err);

#endif
