/* Gaps, forks and chain breaks in a set of segments (see history.h). */
#define _GNU_SOURCE
#include "spool/history.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/config.h"
#include "common/grow.h"

struct hentry {
	char collector[PGA_NAME_MAX + 1];
	uint64_t seq;
	uint8_t sha[PGA_SHA256_LEN], prev[PGA_SHA256_LEN];
	char *name;
};

struct seg_history {
	struct hentry *v;
	size_t n, cap;
};

/* A run of entries [s, e) with one sequence number; none: s == e. */
struct group {
	size_t s, e;
	uint64_t seq;
};

struct checker {
	struct seg_history *h;
	seg_finding_fn fn;
	void *ctx;
	struct seg_history_counts *c;
	const char *collector;
};

int
seg_history_new(struct seg_history **out, struct pga_err *err)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : pga_fail(err, PGA_ENOMEM, "out of memory");
}

int
seg_history_add(struct seg_history *h, const struct seg_header *hd,
		const uint8_t file_sha[PGA_SHA256_LEN], const char *name,
		struct pga_err *err)
{
	struct hentry *e;

	if (PGA_GROW(h->v, h->cap, h->n + 1, SIZE_MAX, err) < 0)
		return err->code;
	e = &h->v[h->n];
	e->name = strdup(name);
	if (e->name == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	strlcpy(e->collector, hd->collector, sizeof(e->collector));
	e->seq = hd->seq;
	memcpy(e->sha, file_sha, PGA_SHA256_LEN);
	memcpy(e->prev, hd->prev_sha256, PGA_SHA256_LEN);
	h->n++;
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct hentry *x = a, *y = b;
	int c = strcmp(x->collector, y->collector);

	if (c == 0)
		c = x->seq < y->seq ? -1 : x->seq > y->seq;
	if (c == 0)
		c = memcmp(x->sha, y->sha, PGA_SHA256_LEN);
	return c ? c : strcmp(x->name, y->name);
}

static void
report(struct checker *k, enum seg_finding_kind kind, uint64_t seq, uint64_t to,
       const char *name, const char *other)
{
	struct seg_finding f = {kind, k->collector, seq, to, name, other};

	if (kind == SEG_FIND_FORK || kind == SEG_FIND_CHAIN)
		k->c->blamed++;
	if (kind == SEG_FIND_GAP) {
		k->c->gaps++;
		k->c->missing += to - seq + 1;
	}
	if (k->fn != NULL)
		k->fn(k->ctx, &f);
}

/* Does entry d chain to some entry of p (the group of seq - 1)? */
static bool
links_back(const struct seg_history *h, const struct hentry *d, const struct group *p)
{
	static const uint8_t zero[PGA_SHA256_LEN];

	if (d->seq == 1)
		return memcmp(d->prev, zero, PGA_SHA256_LEN) == 0;
	if (p->s == p->e)
		return true;	/* nothing before it here: cannot tell */
	for (size_t i = p->s; i < p->e; i++)
		if (memcmp(h->v[i].sha, d->prev, PGA_SHA256_LEN) == 0)
			return true;
	return false;
}

/* Does some entry of n (the group of seq + 1) chain to d? */
static bool
links_fwd(const struct seg_history *h, const struct hentry *d, const struct group *n)
{
	for (size_t i = n->s; i < n->e; i++)
		if (memcmp(h->v[i].prev, d->sha, PGA_SHA256_LEN) == 0)
			return true;
	return false;
}

/* Copies of one content are adjacent (sorted by sha): note all but the first. */
static size_t
distinct(struct checker *k, const struct group *g, size_t *first)
{
	const struct hentry *v = k->h->v;
	size_t nd = 0;

	for (size_t i = g->s; i < g->e; i++) {
		if (i > g->s && memcmp(v[i].sha, v[i - 1].sha, PGA_SHA256_LEN) == 0) {
			report(k, SEG_FIND_COPY, g->seq, g->seq, v[i].name, v[first[nd - 1]].name);
			continue;
		}
		first[nd++] = i;
	}
	return nd;
}

/* Several contents share one seq: keep the one the chain goes through. */
static void
resolve_fork(struct checker *k, const struct group *g, const size_t *d, size_t nd,
	     const struct group *p, const struct group *n)
{
	const struct hentry *v = k->h->v;
	size_t genuine = SIZE_MAX, found = 0;

	for (size_t i = 0; i < nd; i++) {
		bool ok = n->s < n->e ? links_fwd(k->h, &v[d[i]], n) : links_back(k->h, &v[d[i]], p);

		if (ok) {
			genuine = d[i];
			found++;
		}
	}
	if (found != 1)
		genuine = SIZE_MAX;	/* undecidable: every copy is suspect */
	for (size_t i = 0; i < nd; i++)
		if (d[i] != genuine)
			report(k, SEG_FIND_FORK, g->seq, g->seq, v[d[i]].name,
			       genuine != SIZE_MAX ? v[genuine].name : NULL);
	if (genuine != SIZE_MAX && !links_back(k->h, &v[genuine], p))
		report(k, SEG_FIND_CHAIN, g->seq, g->seq, v[genuine].name,
		       p->s < p->e ? v[p->s].name : NULL);
}

static void
check_group(struct checker *k, const struct group *g, const struct group *p,
	    const struct group *n, size_t *first)
{
	const struct hentry *v = k->h->v;
	size_t nd = distinct(k, g, first);

	if (nd > 1) {
		resolve_fork(k, g, first, nd, p, n);
		return;
	}
	if (!links_back(k->h, &v[g->s], p))
		report(k, SEG_FIND_CHAIN, g->seq, g->seq, v[g->s].name,
		       p->s < p->e ? v[p->s].name : NULL);
}

static struct group
group_at(const struct seg_history *h, size_t s, size_t end)
{
	struct group g = {s, s, 0};

	if (s < end) {
		g.seq = h->v[s].seq;
		while (g.e < end && h->v[g.e].seq == g.seq)
			g.e++;
	}
	return g;
}

static void
check_collector(struct checker *k, size_t s, size_t e, size_t *first)
{
	struct group prev = {s, s, 0}, g = group_at(k->h, s, e);

	k->collector = k->h->v[s].collector;
	if (g.seq > 1)
		report(k, SEG_FIND_START, g.seq, g.seq, k->h->v[s].name, NULL);
	while (g.s < e) {
		struct group next = group_at(k->h, g.e, e), none = {g.e, g.e, 0};
		const struct group *p = prev.s < prev.e && prev.seq + 1 == g.seq ? &prev : &none;
		const struct group *n = next.s < next.e && next.seq == g.seq + 1 ? &next : &none;

		check_group(k, &g, p, n, first);
		if (next.s < next.e && next.seq > g.seq + 1)
			report(k, SEG_FIND_GAP, g.seq + 1, next.seq - 1, k->h->v[g.e - 1].name,
			       k->h->v[next.s].name);
		prev = g;
		g = next;
	}
}

int
seg_history_check(struct seg_history *h, seg_finding_fn fn, void *ctx,
		  struct seg_history_counts *counts, struct pga_err *err)
{
	struct checker k = {h, fn, ctx, counts, NULL};
	size_t *first = calloc(h->n + 1, sizeof(*first));

	memset(counts, 0, sizeof(*counts));
	if (first == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (h->n > 1)
		qsort(h->v, h->n, sizeof(*h->v), entry_cmp);
	for (size_t s = 0, e; s < h->n; s = e) {
		for (e = s; e < h->n && strcmp(h->v[e].collector, h->v[s].collector) == 0; e++)
			;
		check_collector(&k, s, e, first);
	}
	free(first);
	return 0;
}

void
seg_history_free(struct seg_history *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].name);
	free(h->v);
	free(h);
}
