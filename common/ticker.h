/*
 * ticker.h - a thread that calls a function every period until stopped:
 * the progress lines of pga load and pga restore.
 *
 * pga_ticker_start starts it (when the thread cannot start, there is no
 * ticker and stop does nothing: a progress line is not worth failing a
 * run).  pga_ticker_stop wakes it at once rather than at its next tick,
 * joins it, and calls the function a last time with final set.  The
 * function runs on the ticker's thread and does its own locking.
 */
#ifndef PGA_TICKER_H
#define PGA_TICKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*pga_tick_fn)(void *arg, bool final);

struct pga_ticker {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool on, stop;
	int64_t period_us;
	pga_tick_fn fn;
	void *arg;
};

void pga_ticker_start(struct pga_ticker *t, int64_t period_us, pga_tick_fn fn, void *arg);
void pga_ticker_stop(struct pga_ticker *t);

#endif
