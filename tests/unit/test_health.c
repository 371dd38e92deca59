/*
 * Unit tests of the health records and the Prometheus label escaping:
 * collect's per-target record keeps "failing since" across failures and
 * clears it on success, a torn or damaged record reads as an error and is
 * started again by the next write; a label value is valid UTF-8 with every
 * backslash, double quote and newline escaped, whatever bytes came in.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd/health.h"
#include "collect/collect.h"
#include "collect/collect_int.h"
#include "common/dynbuf.h"
#include "common/utf8.h"
#include "spool/spool.h"

static char *
label(const char *in)
{
	static char out[1024];
	struct dynbuf b;

	dynbuf_init(&b, sizeof(out) - 1);
	health_prom_label(&b, in);
	assert_int_equal(b.fail, 0);
	strcpy(out, dynbuf_str(&b));
	dynbuf_free(&b);
	return out;
}

static void
test_label_escapes(void **state)
{
	(void)state;
	assert_string_equal(label("plain-name_1.x"), "plain-name_1.x");
	assert_string_equal(label("a\"b"), "a\\\"b");
	assert_string_equal(label("a\\b"), "a\\\\b");
	assert_string_equal(label("a\nb"), "a\\nb");
	assert_string_equal(label("\\\"\n"), "\\\\\\\"\\n");
	assert_string_equal(label("a\rb\tc\x1b"), "a\\\\x0Db\\\\x09c\\\\x1B");
	assert_string_equal(label("del\x7f"), "del\\\\x7F");
	assert_string_equal(label("caf\xc3\xa9 \xe2\x80\xae \xe9\x9b\xaa"),
			    "caf\xc3\xa9 \xe2\x80\xae \xe9\x9b\xaa");	/* UTF-8 stays */
	assert_string_equal(label("bad\xff"), "bad\\\\xFF");
	assert_string_equal(label("cut\xe2\x80"), "cut\\\\xE2\\\\x80");
	assert_string_equal(label("\xc0\xafz"), "\\\\xC0\\\\xAFz");	/* overlong '/' */
	assert_string_equal(label(""), "");
}

/* Every byte and every pair: the result is UTF-8, no raw quote or newline
 * ends it, and every backslash starts an escape the format knows. */
static void
test_label_every_byte(void **state)
{
	(void)state;
	for (int a = 1; a < 256; a++)
		for (int b = 0; b < 256; b++) {
			char in[3] = {(char)a, (char)b, 0};
			const char *o = label(in);
			size_t n = strlen(o);

			assert_int_equal(utf8_valid_prefix(o, n), n);
			for (size_t i = 0; i < n; i++) {
				assert_true(o[i] != '\n' && o[i] != '"');
				if (o[i] == '\\') {
					assert_true(o[i + 1] == '\\' || o[i + 1] == '"' || o[i + 1] == 'n');
					i++;
				}
			}
		}
}

struct fixture {
	char dir[64], state[128];
	struct spool *sp;
};

static int
setup(void **state)
{
	static struct fixture f;
	char ready[128];
	struct pga_err err = {0};

	strcpy(f.dir, "/tmp/pga-health-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	snprintf(ready, sizeof(ready), "%s/ready", f.dir);
	snprintf(f.state, sizeof(f.state), "%s/state", f.dir);
	assert_int_equal(mkdir(ready, 0700), 0);
	assert_int_equal(spool_open(&f.sp, f.dir, &err), 0);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	spool_free(f->sp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_target_record(void **state)
{
	struct fixture *f = *state;
	struct collect_target_health h;
	struct pga_err err = {0};

	assert_int_equal(collect_target_health(f->sp, "t1", &h, &err), 0);
	assert_false(h.recorded);
	assert_int_equal(chealth_record_target(f->state, "t1", 1000, false, "boom\nsecond", &err), 0);
	assert_int_equal(chealth_record_target(f->state, "t1", 2000, false, "again", &err), 0);
	assert_int_equal(collect_target_health(f->sp, "t1", &h, &err), 0);
	assert_true(h.recorded);
	assert_int_equal(h.failing_since_us, 1000);
	assert_int_equal(h.last_error_us, 2000);
	assert_int_equal(h.last_success_us, 0);
	assert_int_equal(h.failures, 2);
	assert_string_equal(h.last_error, "again");
	assert_int_equal(chealth_record_target(f->state, "t1", 3000, true, NULL, &err), 0);
	assert_int_equal(collect_target_health(f->sp, "t1", &h, &err), 0);
	assert_int_equal(h.last_success_us, 3000);
	assert_int_equal(h.failing_since_us, 0);
	assert_int_equal(h.failures, 0);
	assert_int_equal(h.last_error_us, 2000);	/* history kept */
	/* a message with newlines stays one line */
	assert_int_equal(chealth_record_target(f->state, "t2", 10, false, "a\nb\rc", &err), 0);
	assert_int_equal(collect_target_health(f->sp, "t2", &h, &err), 0);
	assert_string_equal(h.last_error, "a b c");
}

static void
put(const char *dir, const char *name, const char *content)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
}

static void
test_damaged_records(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"",					/* empty */
		"last_success_us 10",			/* torn: no final newline */
		"last_success_us 10\nlast_err",		/* torn mid-line */
		"last_success_us 1x\n",			/* not a number */
		"last_success_us -5\n",			/* negative */
		"failures 99999999999999999999999\n",	/* overflow */
		"novalue\n",
	};
	static const char *const cbad[] = {	/* the same for the cycle's keys */
		"", "start_us 10", "start_us 10\nduration", "start_us 1x\n", "start_us -5\n",
		"targets_ok 99999999999999999999999\n", "novalue\n",
	};
	struct collect_target_health h;
	struct collect_cycle_health c;
	struct pga_err err = {0};

	mkdir(f->state, 0700);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(f->state, "d.health", bad[i]);
		assert_int_equal(collect_target_health(f->sp, "d", &h, &err), PGA_ECORRUPT);
		assert_false(h.recorded);
		put(f->state, "cycle.health", cbad[i]);
		assert_int_equal(collect_cycle_health(f->sp, &c, &err), PGA_ECORRUPT);
		assert_false(c.recorded);
	}
	/* a key from a newer writer is skipped */
	put(f->state, "d.health", "last_success_us 7\nfuture_key some text\n");
	assert_int_equal(collect_target_health(f->sp, "d", &h, &err), 0);
	assert_int_equal(h.last_success_us, 7);
	/* the next attempt starts a damaged record again */
	put(f->state, "d.health", "last_success_us 1x\n");
	assert_int_equal(chealth_record_target(f->state, "d", 50, false, "e", &err), 0);
	assert_int_equal(collect_target_health(f->sp, "d", &h, &err), 0);
	assert_int_equal(h.failing_since_us, 50);
	assert_int_equal(h.failures, 1);
}

static void
test_cycle_record(void **state)
{
	struct fixture *f = *state;
	struct collect_stats st = {.elapsed_us = 1500, .targets_ok = 2, .targets_failed = 1};
	struct collect_cycle_health c;
	struct pga_err err = {0};

	assert_int_equal(chealth_record_cycle(f->state, 100, &st, &err), 0);
	st.failed = true;
	assert_int_equal(chealth_record_cycle(f->state, 200, &st, &err), 0);
	assert_int_equal(collect_cycle_health(f->sp, &c, &err), 0);
	assert_true(c.recorded);
	assert_int_equal(c.start_us, 200);
	assert_int_equal(c.duration_us, 1500);
	assert_true(c.failed);
	assert_int_equal(c.last_collected_us, 100);	/* the failed cycle collected nothing */
	assert_int_equal(c.targets_ok, 2);
	assert_int_equal(c.targets_failed, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escapes),
		cmocka_unit_test(test_label_every_byte),
		cmocka_unit_test_setup_teardown(test_target_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cycle_record, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
