/*
 * Unit tests of common/dynbuf: the cap holds at every length and through
 * every entry point (addn, adds, addc, addf), failures are sticky and leave
 * the content as it was, fixed buffers never allocate.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/dynbuf.h"

static void
test_grows_to_the_cap_exactly(void **state)
{
	struct dynbuf b;

	(void)state;
	/* every cap around the growth steps: the cap is reached, never passed */
	for (size_t max = 0; max < 300; max++) {
		dynbuf_init(&b, max);
		assert_string_equal(dynbuf_str(&b), "");
		for (size_t i = 0; i < max; i++)
			assert_int_equal(dynbuf_addc(&b, (char)('a' + i % 26)), 0);
		assert_int_equal(dynbuf_len(&b), max);
		assert_int_equal(strlen(dynbuf_str(&b)), max);
		assert_int_equal(dynbuf_addc(&b, 'x'), PGA_EINVAL);
		assert_int_equal(dynbuf_len(&b), max);
		assert_true(b.alloc <= max + 1);
		dynbuf_free(&b);
	}
}

static void
test_failure_is_sticky_and_keeps_content(void **state)
{
	struct dynbuf b;
	struct pga_err err = {0};

	(void)state;
	dynbuf_init(&b, 10);
	assert_int_equal(dynbuf_adds(&b, "hello"), 0);
	assert_int_equal(dynbuf_adds(&b, "-world!"), PGA_EINVAL);
	assert_string_equal(dynbuf_str(&b), "hello");
	/* a later append that would fit still fails: the builder is spoilt */
	assert_int_equal(dynbuf_addc(&b, '!'), PGA_EINVAL);
	assert_int_equal(dynbuf_addf(&b, "%d", 1), PGA_EINVAL);
	assert_int_equal(dynbuf_addn(&b, "", 0), PGA_EINVAL);
	assert_string_equal(dynbuf_str(&b), "hello");
	assert_int_equal(dynbuf_check(&b, "greeting", &err), PGA_EINVAL);
	assert_string_equal(err.msg, "greeting does not fit in 10 bytes");
	dynbuf_reset(&b);
	assert_int_equal(dynbuf_check(&b, "greeting", &err), 0);
	assert_int_equal(dynbuf_adds(&b, "0123456789"), 0);
	assert_string_equal(dynbuf_str(&b), "0123456789");
	dynbuf_free(&b);
	assert_string_equal(dynbuf_str(&b), "");
	assert_int_equal(b.max, 10);
}

static void
test_addf(void **state)
{
	struct dynbuf b;
	char big[1000];

	(void)state;
	dynbuf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(dynbuf_addf(&b, "%d,", i), 0);
	assert_int_equal(strncmp(dynbuf_str(&b), "0,1,2,", 6), 0);
	assert_int_equal(dynbuf_len(&b), strlen(dynbuf_str(&b)));
	dynbuf_free(&b);
	/* a formatted piece larger than what is left fails whole */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dynbuf_init(&b, 999);
	assert_int_equal(dynbuf_addf(&b, "%s", "ab"), 0);
	assert_int_equal(dynbuf_addf(&b, "%s", big), PGA_EINVAL);
	assert_string_equal(dynbuf_str(&b), "ab");
	dynbuf_free(&b);
}

static void
test_binary(void **state)
{
	struct dynbuf b;
	const char bin[] = {'a', '\0', 'b', '\0'};

	(void)state;
	dynbuf_init(&b, 64);
	assert_int_equal(dynbuf_addn(&b, bin, sizeof(bin)), 0);
	assert_int_equal(dynbuf_addn(&b, bin, sizeof(bin)), 0);
	assert_int_equal(dynbuf_len(&b), 8);
	assert_memory_equal(dynbuf_str(&b) + 4, bin, 4);
	dynbuf_free(&b);
}

static void
test_fixed(void **state)
{
	char buf[8], zero[1] = {'q'};
	struct dynbuf b;
	struct pga_err err = {0};

	(void)state;
	memset(buf, 'X', sizeof(buf));
	dynbuf_init_fixed(&b, buf, sizeof(buf));
	assert_int_equal(dynbuf_adds(&b, "1234567"), 0);
	assert_ptr_equal(dynbuf_str(&b), buf);
	assert_string_equal(buf, "1234567");
	assert_int_equal(dynbuf_addc(&b, '8'), PGA_EINVAL);
	assert_string_equal(buf, "1234567");
	dynbuf_reset(&b);
	assert_int_equal(dynbuf_addf(&b, "%s", "abcdefgh"), PGA_EINVAL);
	assert_string_equal(buf, "");
	dynbuf_reset(&b);
	assert_int_equal(dynbuf_addf(&b, "%03d", 7), 0);
	assert_string_equal(buf, "007");
	dynbuf_free(&b);	/* never frees the caller's array */
	assert_ptr_equal(b.p, buf);
	/* an array of nothing cannot hold even the NUL */
	dynbuf_init_fixed(&b, zero, 0);
	assert_int_equal(dynbuf_addn(&b, "", 0), PGA_EINVAL);
	assert_int_equal(dynbuf_check(&b, "x", &err), PGA_EINVAL);
	assert_int_equal(zero[0], 'q');
}

static void
test_zeroed_struct(void **state)
{
	struct dynbuf b = {0};

	(void)state;
	assert_string_equal(dynbuf_str(&b), "");
	assert_int_equal(dynbuf_addc(&b, 'a'), PGA_EINVAL);
	dynbuf_free(&b);
	dynbuf_init(&b, SIZE_MAX);	/* "no real cap" must not wrap */
	assert_int_equal(dynbuf_adds(&b, "x"), 0);
	assert_string_equal(dynbuf_str(&b), "x");
	dynbuf_free(&b);
}

/* DYNBUF_INIT in a declaration, take() hands the memory over, fail() sticks. */
static void
test_init_take_fail(void **state)
{
	struct dynbuf b = DYNBUF_INIT(8);
	char fixed[8], *s;

	(void)state;
	s = dynbuf_take(&b);			/* empty: an empty string */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(dynbuf_adds(&b, "abc"), 0);
	s = dynbuf_take(&b);
	assert_string_equal(s, "abc");
	free(s);
	assert_int_equal(dynbuf_len(&b), 0);	/* empty again, still usable */
	assert_int_equal(dynbuf_adds(&b, "12345678"), 0);
	assert_int_equal(dynbuf_addc(&b, '9'), PGA_EINVAL);
	assert_null(dynbuf_take(&b));		/* failed: nothing to take */
	dynbuf_free(&b);
	assert_int_equal(dynbuf_fail(&b, PGA_ENOMEM), PGA_ENOMEM);
	assert_int_equal(dynbuf_fail(&b, PGA_EINVAL), PGA_ENOMEM);	/* the first stays */
	assert_int_equal(dynbuf_adds(&b, "x"), PGA_ENOMEM);
	dynbuf_reset(&b);
	assert_int_equal(dynbuf_adds(&b, "x"), 0);
	dynbuf_free(&b);
	dynbuf_init_fixed(&b, fixed, sizeof(fixed));
	dynbuf_adds(&b, "fix");
	s = dynbuf_take(&b);			/* a copy: the array is the caller's */
	assert_string_equal(s, "fix");
	assert_ptr_not_equal(s, fixed);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grows_to_the_cap_exactly),
		cmocka_unit_test(test_failure_is_sticky_and_keeps_content),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_zeroed_struct),
		cmocka_unit_test(test_init_take_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
