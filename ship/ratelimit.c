/* Token bucket for per-destination upload rates; see ratelimit.h. */
#include "ship/ratelimit.h"

#include <time.h>

#include "common/units.h"

#define RL_MIN_BURST (16.0 * 1024)
#define RL_SLICE_US 50000

void
ratelimit_init(struct ratelimit *rl, uint64_t bytes_per_sec)
{
	pthread_mutex_init(&rl->mu, NULL);
	rl->rate = bytes_per_sec;
	rl->burst = (double)bytes_per_sec / 4;
	if (rl->burst < RL_MIN_BURST)
		rl->burst = RL_MIN_BURST;
	/* start empty: a fresh process must not exceed the rate either */
	rl->tokens = 0;
	rl->last_us = pga_mono_us();
}

void
ratelimit_destroy(struct ratelimit *rl)
{
	pthread_mutex_destroy(&rl->mu);
}

static void
sleep_us(int64_t us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/*
 * Under the mutex: refill, then grant what is there, or 0 and how long to
 * wait.  Grants are at least 1/20 s worth of bytes (or want), so a slow
 * rate means fewer, larger pieces rather than a storm of one-byte sends.
 */
static size_t
take_locked(struct ratelimit *rl, size_t want, int64_t *wait_us)
{
	int64_t now = pga_mono_us();
	double need = (double)rl->rate / 20;
	size_t got;

	if (need < 1.0)
		need = 1.0;
	if (need > (double)want)
		need = (double)want;

	rl->tokens += (double)(now - rl->last_us) * (double)rl->rate / 1e6;
	rl->last_us = now;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
	if (rl->tokens < need) {
		*wait_us = (int64_t)((need - rl->tokens) * 1e6 / (double)rl->rate) + 1;
		return 0;
	}
	got = rl->tokens < (double)want ? (size_t)rl->tokens : want;
	rl->tokens -= (double)got;
	return got;
}

int
ratelimit_take(struct ratelimit *rl, size_t want, size_t *granted,
	       ratelimit_cancel_fn cancel, void *cancel_ctx, struct pga_err *err)
{
	int64_t wait_us = 0;
	size_t got = 0;

	if (rl == NULL || rl->rate == 0) {
		*granted = want;
		return 0;
	}
	for (;;) {
		pthread_mutex_lock(&rl->mu);
		got = take_locked(rl, want, &wait_us);
		pthread_mutex_unlock(&rl->mu);
		if (got > 0)
			break;
		if (cancel != NULL && cancel(cancel_ctx))
			return pga_fail(err, PGA_ECANCEL, "upload cancelled");
		sleep_us(wait_us < RL_SLICE_US ? wait_us : RL_SLICE_US);
	}
	*granted = got;
	return 0;
}

void
ratelimit_return(struct ratelimit *rl, size_t n)
{
	if (rl == NULL || rl->rate == 0 || n == 0)
		return;
	pthread_mutex_lock(&rl->mu);
	rl->tokens += (double)n;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
	pthread_mutex_unlock(&rl->mu);
}
