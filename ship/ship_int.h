/*
 * ship_int.h - private to the shipping engine (ship.c, ship_prep.c,
 * ship_state.c, ship_report.c)
 *
 * On-disk state, in the shipper's folder of the spool (root below:
 * spool_part_dir(sp, SHIP_DIR); see spool/FORMAT.md):
 *   SPOOL/ship.lock              flock'd by the one `pga ship` of a spool
 *                                (spool_part_lock)
 *   ship/<dest>/<name>.ok        acknowledgement: "<sha256> <size> <acked_us>\n",
 *                                written and fsync'd (file and directory)
 *                                only after the destination confirmed
 *   ship/<dest>/state            counters and last success/error, for status
 * A marker that does not parse counts as absent (a crash while writing it
 * means one harmless re-upload).
 */
#ifndef PGA_SHIP_INT_H
#define PGA_SHIP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/config.h"
#include "common/err.h"
#include "common/hash.h"
#include "spool/spool.h"

/* ---- prepared segments: verified once per process, hashed for upload ---- */

struct ship_prep;

enum prep_state { PREP_OK = 0, PREP_BAD = 1, PREP_GONE = 2 };

struct prep_info {
	uint64_t size;
	uint8_t sha256[PGA_SHA256_LEN];
	uint8_t md5[16];
};

int prep_new(struct ship_prep **out, struct pga_err *err);
void prep_free(struct ship_prep *p);
/*
 * Verify ready/<name> (seg_verify_stream, computing MD5 on the way) unless
 * this process already did for the same file.  A segment that fails is
 * quarantined (PREP_BAD, never shipped); one that vanished (dropped by the
 * writer) is PREP_GONE.  Thread-safe: concurrent callers for the same name
 * wait for one verification.
 */
int prep_get(struct ship_prep *p, struct spool *sp, const char *name,
	     struct prep_info *info, enum prep_state *state, struct pga_err *err);
void prep_forget(struct ship_prep *p, const char *name);

/* ---- acknowledgements and per-destination state ---- */

struct ship_ack {
	uint8_t sha256[PGA_SHA256_LEN];
	uint64_t size;
	int64_t acked_us;
};

int ship_ack_path(const char *root, const char *dest, const char *name,
		  char *buf, size_t cap, struct pga_err *err);
/* 1 and *ack filled, 0 when absent or unreadable. */
int ship_ack_read(const char *root, const char *dest, const char *name,
		  struct ship_ack *ack);
/*
 * durable: the marker and its directory fsync'd.  Not durable: written
 * only (it survives a kill -9, not a power cut), for a segment whose
 * removal follows at once: the marker tells a full spool's drop-oldest
 * that this destination has it, should the removal be cut off.
 */
int ship_ack_write(const char *root, const char *dest, const char *name,
		   const struct ship_ack *ack, bool durable, struct pga_err *err);
void ship_ack_remove(const char *root, const char *dest, const char *name);
/* Call fn for every marker of dest (relative segment name). */
int ship_ack_walk(const char *root, const char *dest,
		  int (*fn)(void *ctx, const char *name), void *ctx,
		  struct pga_err *err);

struct ship_dest_state {
	uint64_t delivered, bytes, errors;
	int64_t last_success_us;	/* last confirmed delivery */
	int64_t last_error_us;
	int64_t last_pass_us;		/* end of the last pass */
	int64_t failing_since_us;	/* first error since the last success; 0: none */
	char last_error[PGA_ERR_MSG_MAX];
	bool stopped;			/* conflict: stopped until restarted */
};

int ship_state_read(const char *root, const char *dest,
		    struct ship_dest_state *st, struct pga_err *err);
int ship_state_write(const char *root, const char *dest,
		     const struct ship_dest_state *st, struct pga_err *err);

/* ---- ordering ---- */

/* Reorder a (collector, seq)-sorted list oldest first across collectors,
 * keeping each collector's seq order. */
int ship_order_oldest_first(struct spool_list *l, struct pga_err *err);

/* "shipped" -> *shipped; a duration -> *keep_us. */
int ship_parse_retain(const char *s, bool *shipped, int64_t *keep_us,
		      struct pga_err *err);

#endif
