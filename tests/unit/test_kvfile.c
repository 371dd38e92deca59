/* common/kvfile: the one "key value" state-file format, read and written. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fsutil.h"
#include "common/kvfile.h"

struct st {
	uint64_t a;
	int64_t b;
	bool on;
	char s[16];
};

#define FIELDS(x) { KV_U64("a", &(x)->a), KV_I64("b", &(x)->b), KV_BOOL("on", &(x)->on), \
		    KV_STR("s", (x)->s) }

static void
test_numbers(void **state)
{
	uint64_t u;
	int64_t i;

	(void)state;
	assert_true(kv_u64("0", &u) && u == 0);
	assert_true(kv_u64("18446744073709551615", &u) && u == UINT64_MAX);
	assert_false(kv_u64("18446744073709551616", &u));	/* one past */
	assert_false(kv_u64("99999999999999999999", &u));
	assert_false(kv_u64("", &u));
	assert_false(kv_u64("-1", &u));
	assert_false(kv_u64("+1", &u));
	assert_false(kv_u64("12abc", &u));
	assert_false(kv_u64("1 ", &u));
	assert_false(kv_u64(" 1", &u));
	assert_false(kv_u64("0x10", &u));
	assert_true(kv_i64("-9223372036854775808", &i) && i == INT64_MIN);
	assert_true(kv_i64("9223372036854775807", &i) && i == INT64_MAX);
	assert_false(kv_i64("9223372036854775808", &i));
	assert_false(kv_i64("-9223372036854775809", &i));
	assert_false(kv_i64("-", &i));
	assert_false(kv_i64("--1", &i));
}

static void
test_parse_tolerant_but_counted(void **state)
{
	struct st x = {.a = 7, .b = 8};
	const struct kv_field f[] = FIELDS(&x);
	char text[] = "header 1\n"		/* unknown: skipped, not bad */
		      "a 42\n"
		      "\n"			/* empty: skipped */
		      "garbage\n"		/* line 4: not a pair */
		      "b 12x\n"		/* line 5: not a number, b unchanged */
		      "on 2\n"			/* line 6: not a bool */
		      "s a value with spaces too long\n"	/* line 7: does not fit */
		      "b\n"			/* line 8 */
		      "k\xff 1\n"		/* line 9: bad key */
		      "on 1";			/* no final newline */
	unsigned first;

	(void)state;
	assert_int_equal(kv_parse_fields(text, f, 4, &first), 6);
	assert_int_equal(first, 4);
	assert_int_equal(x.a, 42);
	assert_int_equal(x.b, 8);
	assert_true(x.on);
	assert_string_equal(x.s, "");
}

static void
test_round_trip(void **state)
{
	char dir[] = "/tmp/pga-kv-XXXXXX", path[64], buf[KVFILE_MAX];
	struct st x = {.a = UINT64_MAX, .b = INT64_MIN, .on = true}, y = {0};
	const struct kv_field fx[] = FIELDS(&x), fy[] = FIELDS(&y);
	struct pga_err err = {0};
	struct dynbuf b = DYNBUF_INIT(KVFILE_MAX);
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	strcpy(x.s, "two\nli\rnes");
	kv_put_fields(&b, fx, 4);
	assert_int_equal(kv_save(path, &b, 0600, &err), 0);
	assert_int_equal(pga_read_small_file(path, buf, sizeof(buf), &len, &err), 0);
	assert_string_equal(buf, "a 18446744073709551615\nb -9223372036854775808\non 1\n"
				 "s two li nes\n");
	assert_int_equal(kv_parse_fields(buf, fy, 4, NULL), 0);
	assert_true(y.a == x.a && y.b == x.b && y.on);
	assert_string_equal(y.s, "two li nes");
	dynbuf_free(&b);
	/* too long: refused, the file on disk unchanged */
	dynbuf_init(&b, 8);
	kv_put_u64(&b, "a", 123456789);
	assert_int_equal(kv_save(path, &b, 0600, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(pga_read_small_file(path, buf, sizeof(buf), &len, &err), 0);
	assert_non_null(strstr(buf, "s two li nes\n"));
	dynbuf_free(&b);
	unlink(path);
	rmdir(dir);
}

/* Whatever the bytes, parsing never crashes and counts only real lines. */
static void
test_random_bytes(void **state)
{
	struct st x;
	const struct kv_field f[] = FIELDS(&x);
	char text[64];

	(void)state;
	srand(11);
	for (int i = 0; i < 100000; i++) {
		size_t n = (size_t)(rand() % (int)(sizeof(text) - 1)), lines = 1;

		for (size_t k = 0; k < n; k++) {
			text[k] = "ab 1-\n\xff\0"[rand() % 8];
			if (text[k] == '\0')
				text[k] = 'o';
			lines += text[k] == '\n';
		}
		text[n] = '\0';
		memset(&x, 0, sizeof(x));
		assert_true(kv_parse_fields(text, f, 4, NULL) <= lines);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_parse_tolerant_but_counted),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_random_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
