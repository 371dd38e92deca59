/*
 * ratelimit.h - a token bucket shared by the upload slots of one destination
 *
 * rate-limit = 10M means at most 10 MiB/s leave for that destination, summed
 * over all its parallel uploads.  The bucket refills continuously and holds
 * at most a quarter of a second of tokens (never less than 16 KiB), so a
 * long idle period does not turn into a burst.  A rate of 0 disables it.
 *
 * ratelimit_take() blocks the calling thread until at least one byte may be
 * sent and returns how many (at most want): callers send that many and come
 * back for more.  It sleeps in slices of at most 50 ms and gives up with
 * PGA_ECANCEL when cancel(cancel_ctx) says so.  Thread-safe.
 *
 * The bucket counts what was granted, so the rate holds only if grants are
 * bytes that really leave: ask for no more than is left to send, and hand
 * back with ratelimit_return() what was granted but not sent (a short
 * read).  Asking for a whole buffer at the end of each file and for the
 * read that finds its end cost file:// most of its rate on small segments
 * (a ninth of rate-limit measured with 20 KB segments), because each
 * segment then paid for up to two grants it never sent.
 */
#ifndef PGA_RATELIMIT_H
#define PGA_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct ratelimit {
	pthread_mutex_t mu;
	uint64_t rate;		/* bytes per second, 0 = unlimited */
	double tokens;
	double burst;
	int64_t last_us;	/* monotonic time of the last refill */
};

typedef bool (*ratelimit_cancel_fn)(void *ctx);

void ratelimit_init(struct ratelimit *rl, uint64_t bytes_per_sec);
void ratelimit_destroy(struct ratelimit *rl);
/* *granted in [1, want] on success; want must be > 0. */
int ratelimit_take(struct ratelimit *rl, size_t want, size_t *granted,
		   ratelimit_cancel_fn cancel, void *cancel_ctx,
		   struct pga_err *err);
/* Give back n granted bytes that were not sent. */
void ratelimit_return(struct ratelimit *rl, size_t n);

#endif
