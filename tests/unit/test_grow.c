/* common/grow: doubling, the maximum, and failures that leave the array alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/grow.h"

static void
test_doubles_within_max(void **state)
{
	int *v = NULL;
	size_t cap = 0, n = 0;
	struct pga_err err = {0};

	(void)state;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(PGA_GROW(v, cap, n + 1, 1000, &err), 0);
		assert_true(cap >= n + 1 && cap <= 1000);
		v[n++] = i;
	}
	assert_int_equal(cap, 1000);		/* capped at max, not 1024 */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(v[i], i);
	/* past max: refused, the array and its capacity unchanged */
	assert_int_equal(PGA_GROW(v, cap, n + 1, 1000, &err), PGA_EINVAL);
	assert_string_equal(err.msg, "more than 1000 entries");
	assert_int_equal(cap, 1000);
	assert_int_equal(v[999], 999);
	free(v);
}

static void
test_small_max_and_jumps(void **state)
{
	char *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(PGA_GROW(v, cap, 3, 5, NULL), 0);
	assert_int_equal(cap, 5);		/* first step never passes max */
	assert_int_equal(PGA_GROW(v, cap, 6, 5, NULL), PGA_EINVAL);
	assert_int_equal(PGA_GROW(v, cap, 0, 5, NULL), 0);
	free(v);
	v = NULL;
	cap = 0;
	assert_int_equal(PGA_GROW(v, cap, 100, SIZE_MAX, NULL), 0);
	assert_int_equal(cap, 128);		/* 16 doubled to cover a jump */
	free(v);
}

static void
test_overflow(void **state)
{
	uint64_t *v = NULL;
	size_t cap = 0;
	struct pga_err err = {0};

	(void)state;
	/* more elements than size_t bytes can hold: refused, never wrapped */
	assert_int_equal(PGA_GROW(v, cap, SIZE_MAX / 4, SIZE_MAX, &err), PGA_EINVAL);
	assert_null(v);
	assert_int_equal(cap, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_within_max),
		cmocka_unit_test(test_small_max_and_jumps),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
