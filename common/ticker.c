/* ticker.c - a thread that calls a function every period until stopped (ticker.h). */
#include "common/ticker.h"

#include <string.h>
#include <time.h>

static void *
ticker_main(void *arg)
{
	struct pga_ticker *t = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		next.tv_nsec += (long)(t->period_us % 1000000) * 1000;
		next.tv_sec += (time_t)(t->period_us / 1000000) + next.tv_nsec / 1000000000;
		next.tv_nsec %= 1000000000;
		while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu, &next) == 0)
			;	/* woken early: by stop, or spuriously */
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->mu);
		t->fn(t->arg, false);
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

void
pga_ticker_start(struct pga_ticker *t, int64_t period_us, pga_tick_fn fn, void *arg)
{
	pthread_condattr_t ca;

	memset(t, 0, sizeof(*t));
	t->period_us = period_us > 0 ? period_us : 1;
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_init(&t->mu, NULL);
	/* the monotonic clock: a wall clock set back would stall the line */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cv, &ca);
	pthread_condattr_destroy(&ca);
	t->on = pthread_create(&t->th, NULL, ticker_main, t) == 0;
	if (!t->on) {
		pthread_cond_destroy(&t->cv);
		pthread_mutex_destroy(&t->mu);
	}
}

void
pga_ticker_stop(struct pga_ticker *t)
{
	if (!t->on)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->th, NULL);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	t->on = false;
	t->fn(t->arg, true);
}
