/*
 * fetch.c - download ahead of the loaders, in their order, bounded
 *
 * Items are fetched in the order they were wanted (restore wants them in
 * load order), by a few threads, each with its own reader (its own
 * connection to the bucket).  A thread starts the next item only while the
 * bytes fetched and not yet released stay within the budget, or when
 * nothing is fetched at all (a segment larger than the budget still
 * goes, alone).  An item a loader waits for that was not started yet (one
 * wanted late, a segment carried into a day already planned) goes first,
 * whatever the budget: what the loaders hold can only be released by the
 * loaders, so the one they wait for must never wait for them.  Disk use is
 * thus bounded by the budget plus one segment per loader and per thread,
 * memory by the items wanted (restore plans days only a few ahead).  A directory's files need no fetching: take()
 * opens them where they are.
 */
#define _GNU_SOURCE
#include "restore/restore_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

#define FETCH_THREADS_MAX 16

enum item_state { IT_WAIT, IT_BUSY, IT_READY, IT_FAILED, IT_TAKEN, IT_DROPPED };

struct rs_item {
	struct rs_seg s;
	enum item_state state;
	int fd;
	struct pga_err err;
	bool urgent;			/* a loader waits for it: no budget */
	struct rs_item *next;		/* in the queue of items not yet started */
};

struct rs_fetch {
	struct rs_catalog *cat;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct rs_item *head, *tail;
	uint64_t budget, used, peak;
	bool stop, local;
	struct rs_reader *direct;	/* local sources: opened in take() (stateless) */
	pthread_t th[FETCH_THREADS_MAX];
	struct rs_reader *rd[FETCH_THREADS_MAX];
	int nth;
};

struct fetch_arg {
	struct rs_fetch *f;
	int i;
};

static struct rs_item *
next_item(struct rs_fetch *f)
{
	struct rs_item *it;

	while (!f->stop && (f->head == NULL || (!f->head->urgent && f->used > 0 &&
						    f->used + f->head->s.size > f->budget)))
		pthread_cond_wait(&f->cv, &f->mu);
	if (f->stop)
		return NULL;
	it = f->head;
	f->head = it->next;
	if (f->head == NULL)
		f->tail = NULL;
	it->state = IT_BUSY;
	f->used += it->s.size;
	if (f->used > f->peak)
		f->peak = f->used;
	return it;
}

static void *
fetch_main(void *arg)
{
	struct rs_fetch *f = ((struct fetch_arg *)arg)->f;
	struct rs_reader *rd = f->rd[((struct fetch_arg *)arg)->i];
	struct rs_item *it;

	free(arg);
	pthread_mutex_lock(&f->mu);
	while ((it = next_item(f)) != NULL) {
		struct pga_err err = {0};
		int fd = -1, rc;

		pthread_mutex_unlock(&f->mu);
		rc = rs_reader_get(rd, &it->s, &fd, &err);
		pthread_mutex_lock(&f->mu);
		if (it->state == IT_DROPPED) {
			if (fd >= 0)
				close(fd);
			f->used -= it->s.size;
			free(it);
		} else {
			it->fd = fd;
			it->err = err;
			it->state = rc == 0 ? IT_READY : IT_FAILED;
		}
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int
rs_fetch_start(struct rs_fetch **out, struct rs_catalog *c, int threads, uint64_t budget,
	       struct pga_err *err)
{
	struct rs_fetch *f = calloc(1, sizeof(*f));
	int rc;

	*out = NULL;
	if (f == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	f->cat = c;
	f->budget = budget;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	rc = rs_reader_open(c, &f->direct, err);
	if (rc == 0)
		f->local = rs_reader_local(f->direct);
	if (threads > FETCH_THREADS_MAX)
		threads = FETCH_THREADS_MAX;
	for (int i = 0; rc == 0 && !f->local && i < threads; i++) {
		struct fetch_arg *a = malloc(sizeof(*a));

		rc = a == NULL ? pga_fail(err, PGA_ENOMEM, "out of memory")
			       : rs_reader_open(c, &f->rd[i], err);
		if (rc == 0) {
			a->f = f;
			a->i = i;
			if (pthread_create(&f->th[i], NULL, fetch_main, a) != 0)
				rc = pga_fail(err, PGA_ENOMEM, "could not start a fetch thread");
		}
		if (rc < 0) {
			free(a);
			rs_reader_close(f->rd[i]);
			f->rd[i] = NULL;
			break;
		}
		f->nth++;
	}
	if (rc < 0) {
		rs_fetch_stop(f);
		return rc;
	}
	*out = f;
	return 0;
}

struct rs_item *
rs_fetch_want(struct rs_fetch *f, const struct rs_seg *s)
{
	struct rs_item *it = calloc(1, sizeof(*it));

	if (it == NULL)
		return NULL;
	it->s = *s;
	it->fd = -1;
	it->state = IT_WAIT;
	if (f->local)
		return it;
	pthread_mutex_lock(&f->mu);
	if (f->tail != NULL)
		f->tail->next = it;
	else
		f->head = it;
	f->tail = it;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return it;
}

/* Take an item out of the queue of items not yet started (it is at the head, usually). */
static void
unqueue(struct rs_fetch *f, struct rs_item *it)
{
	struct rs_item **p = &f->head, *prev = NULL;

	while (*p != NULL && *p != it) {
		prev = *p;
		p = &(*p)->next;
	}
	if (*p == NULL)
		return;
	*p = it->next;
	if (f->tail == it)
		f->tail = prev;
}

int
rs_fetch_take(struct rs_fetch *f, struct rs_item *it, int *fd, struct pga_err *err)
{
	int rc = 0;

	*fd = -1;
	if (f->local) {
		it->state = IT_TAKEN;
		return rs_reader_get(f->direct, &it->s, fd, err);
	}
	pthread_mutex_lock(&f->mu);
	if (it->state == IT_WAIT && f->head != it) {
		unqueue(f, it);
		it->next = f->head;
		f->head = it;
		if (f->tail == NULL)
			f->tail = it;
	}
	if (it->state == IT_WAIT) {
		it->urgent = true;
		pthread_cond_broadcast(&f->cv);
	}
	while (it->state == IT_WAIT || it->state == IT_BUSY)
		pthread_cond_wait(&f->cv, &f->mu);
	if (it->state == IT_READY) {
		*fd = it->fd;
	} else {
		*err = it->err;
		rc = err->code ? err->code : PGA_EIO;
	}
	it->fd = -1;
	it->state = IT_TAKEN;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

void
rs_fetch_release(struct rs_fetch *f, struct rs_item *it)
{
	if (it == NULL)
		return;
	if (!f->local) {
		pthread_mutex_lock(&f->mu);
		f->used -= it->s.size;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
	}
	free(it);
}

void
rs_fetch_drop(struct rs_fetch *f, struct rs_item *it)
{
	if (it == NULL)
		return;
	if (f->local) {
		free(it);
		return;
	}
	pthread_mutex_lock(&f->mu);
	switch (it->state) {
	case IT_WAIT:
		unqueue(f, it);
		free(it);
		break;
	case IT_BUSY:
		it->state = IT_DROPPED;	/* its thread frees it */
		break;
	case IT_READY:
	case IT_FAILED:
		if (it->fd >= 0)
			close(it->fd);
		f->used -= it->s.size;
		free(it);
		break;
	default:
		break;
	}
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

void
rs_fetch_usage(struct rs_fetch *f, uint64_t *now, uint64_t *peak)
{
	pthread_mutex_lock(&f->mu);
	*now = f->used;
	*peak = f->peak;
	pthread_mutex_unlock(&f->mu);
}

void
rs_fetch_stop(struct rs_fetch *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	for (int i = 0; i < f->nth; i++) {
		pthread_join(f->th[i], NULL);
		rs_reader_close(f->rd[i]);
	}
	while (f->head != NULL) {
		struct rs_item *it = f->head;

		f->head = it->next;
		free(it);
	}
	rs_reader_close(f->direct);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
