/* Unit tests of the history check: gaps, forks, chain breaks, blame. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spool/history.h"

#define MAXF 32

struct seen {
	struct seg_finding f[MAXF];
	char name[MAXF][64], other[MAXF][64];
	int n;
};

static void
collect(void *ctx, const struct seg_finding *f)
{
	struct seen *s = ctx;

	assert_true(s->n < MAXF);
	s->f[s->n] = *f;
	snprintf(s->name[s->n], 64, "%s", f->name ? f->name : "");
	snprintf(s->other[s->n], 64, "%s", f->other ? f->other : "");
	s->n++;
}

/* A segment "name" of collector c, seq, content tag, chained to prev tag (0: none). */
static void
add(struct seg_history *h, const char *c, uint64_t seq, int tag, int prev, const char *name)
{
	struct seg_header hd = {.seq = seq};
	uint8_t sha[PGA_SHA256_LEN] = {0};
	struct pga_err err = {0};

	snprintf(hd.collector, sizeof(hd.collector), "%s", c);
	memset(sha, tag, sizeof(sha));
	if (prev)
		memset(hd.prev_sha256, prev, PGA_SHA256_LEN);
	assert_int_equal(seg_history_add(h, &hd, sha, name, &err), 0);
}

static void
run(struct seg_history *h, struct seen *s, struct seg_history_counts *c)
{
	struct pga_err err = {0};

	memset(s, 0, sizeof(*s));
	assert_int_equal(seg_history_check(h, collect, s, c, &err), 0);
	seg_history_free(h);
}

static struct seg_history *
fresh(void)
{
	struct seg_history *h = NULL;
	struct pga_err err = {0};

	assert_int_equal(seg_history_new(&h, &err), 0);
	return h;
}

static void
test_whole(void **state)
{
	struct seg_history *h = fresh();
	struct seg_history_counts c;
	struct seen s;

	(void)state;
	/* out of order, two collectors interleaved */
	add(h, "b", 2, 22, 21, "b2");
	add(h, "a", 3, 3, 2, "a3");
	add(h, "a", 1, 1, 0, "a1");
	add(h, "b", 1, 21, 0, "b1");
	add(h, "a", 2, 2, 1, "a2");
	run(h, &s, &c);
	assert_int_equal(s.n, 0);
	assert_int_equal(c.gaps + c.blamed + c.missing, 0);
}

static void
test_gaps_and_start(void **state)
{
	struct seg_history *h = fresh();
	struct seg_history_counts c;
	struct seen s;

	(void)state;
	add(h, "a", 3, 3, 2, "a3");
	add(h, "a", 4, 4, 3, "a4");
	add(h, "a", 7, 7, 6, "a7");
	add(h, "a", 9, 9, 8, "a9");
	run(h, &s, &c);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.f[0].kind, SEG_FIND_START);
	assert_int_equal(s.f[0].seq, 3);
	assert_int_equal(s.f[1].kind, SEG_FIND_GAP);
	assert_int_equal(s.f[1].seq, 5);
	assert_int_equal(s.f[1].seq_to, 6);
	assert_string_equal(s.name[1], "a4");
	assert_string_equal(s.other[1], "a7");
	assert_int_equal(s.f[2].kind, SEG_FIND_GAP);
	assert_int_equal(s.f[2].seq, 8);
	assert_int_equal(c.gaps, 2);
	assert_int_equal(c.missing, 3);
	assert_int_equal(c.blamed, 0);
}

/* After a forged seq 3, the genuine seq 4 is not the one blamed. */
static void
test_fork_blames_the_copy_off_the_chain(void **state)
{
	struct seen s;
	struct seg_history_counts c;

	(void)state;
	for (int order = 0; order < 2; order++) {
		struct seg_history *h = fresh();

		if (order) {
			add(h, "a", 4, 4, 3, "a4");
			add(h, "a", 3, 3, 2, "a3");
			add(h, "a", 3, 33, 2, "a3-forged");
		} else {
			add(h, "a", 3, 33, 2, "a3-forged");
			add(h, "a", 3, 3, 2, "a3");
			add(h, "a", 4, 4, 3, "a4");
		}
		add(h, "a", 2, 2, 1, "a2");
		add(h, "a", 1, 1, 0, "a1");
		run(h, &s, &c);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.f[0].kind, SEG_FIND_FORK);
		assert_string_equal(s.name[0], "a3-forged");
		assert_string_equal(s.other[0], "a3");
		assert_int_equal(c.blamed, 1);
	}
}

static void
test_fork_at_the_end(void **state)
{
	struct seg_history *h = fresh();
	struct seg_history_counts c;
	struct seen s;

	(void)state;
	add(h, "a", 1, 1, 0, "a1");
	add(h, "a", 2, 2, 1, "a2");
	add(h, "a", 2, 22, 1, "a2-clone");	/* both chain to 1: undecidable */
	run(h, &s, &c);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.f[0].kind, SEG_FIND_FORK);
	assert_int_equal(s.f[1].kind, SEG_FIND_FORK);
	assert_string_equal(s.other[0], "");
	assert_int_equal(c.blamed, 2);
	h = fresh();
	add(h, "a", 1, 1, 0, "a1");
	add(h, "a", 2, 2, 1, "a2");
	add(h, "a", 2, 22, 9, "a2-forged");	/* chains to nothing here */
	run(h, &s, &c);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.name[0], "a2-forged");
	assert_string_equal(s.other[0], "a2");
}

static void
test_chain_breaks(void **state)
{
	struct seg_history *h = fresh();
	struct seg_history_counts c;
	struct seen s;

	(void)state;
	add(h, "a", 1, 1, 7, "a1");		/* seq 1 must chain to nothing */
	add(h, "a", 2, 2, 1, "a2");
	add(h, "a", 3, 3, 9, "a3");		/* broken */
	add(h, "a", 4, 4, 3, "a4");		/* chains to a3: fine */
	run(h, &s, &c);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.f[0].kind, SEG_FIND_CHAIN);
	assert_string_equal(s.name[0], "a1");
	assert_int_equal(s.f[1].kind, SEG_FIND_CHAIN);
	assert_string_equal(s.name[1], "a3");
	assert_string_equal(s.other[1], "a2");
	assert_int_equal(c.blamed, 2);
}

static void
test_copies(void **state)
{
	struct seg_history *h = fresh();
	struct seg_history_counts c;
	struct seen s;

	(void)state;
	add(h, "a", 1, 1, 0, "x/a1");
	add(h, "a", 1, 1, 0, "y/a1");
	add(h, "a", 2, 2, 1, "x/a2");
	run(h, &s, &c);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.f[0].kind, SEG_FIND_COPY);
	assert_string_equal(s.name[0], "y/a1");
	assert_string_equal(s.other[0], "x/a1");
	assert_int_equal(c.blamed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_gaps_and_start),
		cmocka_unit_test(test_fork_blames_the_copy_off_the_chain),
		cmocka_unit_test(test_fork_at_the_end),
		cmocka_unit_test(test_chain_breaks),
		cmocka_unit_test(test_copies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
