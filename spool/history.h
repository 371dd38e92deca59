/*
 * history.h - is each collector's history whole?  Gaps, forks and chain
 * breaks among a set of verified segments (what `pga spool verify` reports
 * after it has verified every segment on its own).
 *
 * Segments are added in any order (a tar's order, several sources at
 * once); seg_history_check() sorts them by (collector, seq) and reports,
 * per collector, in that order:
 *   - GAP: sequence numbers missing between two segments that are there.
 *     Before the first segment there is no gap: a history may start later
 *     (drop-oldest, an archive of a time window), which is a START note.
 *   - FORK: two different segments with one sequence number.  The copy the
 *     next segment chains to is the genuine one and each other copy is
 *     blamed; with no next segment, a copy that alone chains to the
 *     previous segment is genuine; when that cannot decide, every copy is
 *     blamed.
 *   - CHAIN: a segment whose previous-segment hash matches no segment of
 *     the sequence number before it (or is not all zero at seq 1).  The
 *     segment itself is blamed, never its successor: after a forged seq 3,
 *     the genuine seq 4 still chains to the genuine seq 3.
 *   - COPY: the same segment (same SHA-256) under a second name: a note.
 *
 * Memory: one small entry per segment.  Not thread-safe.
 */
#ifndef PGA_HISTORY_H
#define PGA_HISTORY_H

#include <stdint.h>

#include "common/err.h"
#include "common/hash.h"
#include "spool/segment.h"

enum seg_finding_kind {
	SEG_FIND_GAP,
	SEG_FIND_FORK,
	SEG_FIND_CHAIN,
	SEG_FIND_COPY,
	SEG_FIND_START,
};

struct seg_finding {
	enum seg_finding_kind kind;
	const char *collector;
	uint64_t seq;		/* GAP: first missing; else the segment's seq */
	uint64_t seq_to;	/* GAP: last missing */
	const char *name;	/* the segment blamed or noted; GAP: the one before */
	const char *other;	/* the genuine copy, the predecessor, the first
				 * copy; GAP: the one after; may be NULL */
};

struct seg_history_counts {
	uint64_t gaps;		/* GAP findings */
	uint64_t missing;	/* sequence numbers inside them */
	uint64_t blamed;	/* segments blamed by FORK or CHAIN */
};

typedef void (*seg_finding_fn)(void *ctx, const struct seg_finding *f);

struct seg_history;

int seg_history_new(struct seg_history **out, struct pga_err *err);
/* A verified segment: its header, its file SHA-256, its name (copied). */
int seg_history_add(struct seg_history *h, const struct seg_header *hd,
		    const uint8_t file_sha[PGA_SHA256_LEN], const char *name,
		    struct pga_err *err);
/* Every finding to fn (may be NULL), totals in *counts. */
int seg_history_check(struct seg_history *h, seg_finding_fn fn, void *ctx,
		      struct seg_history_counts *counts, struct pga_err *err);
void seg_history_free(struct seg_history *h);

#endif
