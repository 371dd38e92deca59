/*
 * cstate.h - what the collector remembers about a target between cycles
 *
 * SPOOL/state/<target>.state (small text: cycle numbers, the settings hash,
 * the system identifier) and SPOOL/state/<target>.qids (the queryids whose
 * texts were shipped, one hex number a line, sorted).  Both are replaced
 * atomically and durably (write, fsync, rename, directory fsync); the qids
 * file only when the set changed.  Losing them is harmless: the next cycle
 * ships every text and pg_settings again.
 *
 * Memory: the qid set is a sorted array, capped by the caller (the
 * collector resets it on every full texts cycle, and forces one when the
 * set outgrows four times query-stats-limit).
 *
 * Not thread-safe: one worker owns a target's state during a cycle.
 */
#ifndef PGA_CSTATE_H
#define PGA_CSTATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct cstate {
	char path[PATH_MAX];
	char qpath[PATH_MAX];
	uint64_t cycle;			/* cycles this target was attempted */
	uint64_t texts_cycle;		/* cycle of the last full texts block */
	uint64_t settings_cycle;	/* cycle of the last pg_settings block */
	uint64_t bloat_cycle;		/* cycle the bloat metrics last ran */
	uint64_t sysid;			/* cluster the qids belong to */
	char settings_hash[33];
	uint64_t *qids;			/* sorted, unique */
	size_t nqids, cap;
	bool qids_dirty;
	char saved[512];		/* .state content last written */
};

/* Create dir (durably) and read the target's files if they exist. */
int cstate_load(struct cstate *s, const char *dir, const char *target,
		struct pga_err *err);
int cstate_save(struct cstate *s, struct pga_err *err);
void cstate_free(struct cstate *s);

bool cstate_has_qid(const struct cstate *s, uint64_t id);
/* Replace the set (full texts cycle) or merge into it; ids need no order. */
int cstate_set_qids(struct cstate *s, uint64_t *ids, size_t n, bool replace,
		    struct pga_err *err);

#endif
