/* Unit tests of the collector's per-target state and csvlog ingestion. */
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

#include "collect/cstate.h"
#include "collect/csvlog.h"

static char root[256];
static int seq;

static void
new_dir(char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/d%d", root, seq++);
	assert_int_equal(mkdir(buf, 0700), 0);
}

static void
write_text(const char *path, const char *mode, const char *text)
{
	FILE *f = fopen(path, mode);

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ---- cstate ---- */

static void
test_state_roundtrip(void **state)
{
	struct cstate s, r;
	struct pga_err err = {0};
	uint64_t ids[] = {5, 3, 5, UINT64_MAX, 1};
	uint64_t more[] = {7, 3};
	char dir[300], sdir[320];

	(void)state;
	new_dir(dir, sizeof(dir));
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	assert_int_equal(cstate_load(&s, sdir, "t1", &err), 0);
	assert_int_equal(s.cycle, 0);
	assert_false(cstate_has_qid(&s, 3));
	s.cycle = 7;
	s.texts_cycle = 6;
	s.settings_cycle = 2;
	s.sysid = 1234567890123ULL;
	strcpy(s.settings_hash, "abcdef");
	assert_int_equal(cstate_set_qids(&s, ids, 5, true, &err), 0);
	assert_int_equal(s.nqids, 4);		/* unique */
	assert_int_equal(cstate_set_qids(&s, more, 2, false, &err), 0);
	assert_int_equal(s.nqids, 5);
	assert_int_equal(cstate_save(&s, &err), 0);
	assert_false(s.qids_dirty);

	assert_int_equal(cstate_load(&r, sdir, "t1", &err), 0);
	assert_int_equal(r.cycle, 7);
	assert_int_equal(r.texts_cycle, 6);
	assert_int_equal(r.settings_cycle, 2);
	assert_int_equal(r.sysid, 1234567890123ULL);
	assert_string_equal(r.settings_hash, "abcdef");
	assert_int_equal(r.nqids, 5);
	assert_true(cstate_has_qid(&r, UINT64_MAX));
	assert_true(cstate_has_qid(&r, 7));
	assert_false(cstate_has_qid(&r, 4));
	/* replace drops what was there */
	assert_int_equal(cstate_set_qids(&r, more, 1, true, &err), 0);
	assert_int_equal(r.nqids, 1);
	assert_false(cstate_has_qid(&r, 5));
	cstate_free(&s);
	cstate_free(&r);
}

static void
test_state_damaged(void **state)
{
	struct cstate s;
	struct pga_err err = {0};
	char dir[300], path[400];

	(void)state;
	new_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/t.state", dir);
	write_text(path, "w", "pga-collect-state 1\ncycle 12\ngarbage\ntexts_cycle\n");
	snprintf(path, sizeof(path), "%s/t.qids", dir);
	write_text(path, "w", "00000000000000ff\nnot hex\n10\n");
	assert_int_equal(cstate_load(&s, dir, "t", &err), 0);
	assert_int_equal(s.cycle, 12);
	assert_int_equal(s.texts_cycle, 0);	/* unreadable: a texts cycle comes */
	assert_true(cstate_has_qid(&s, 0xff));
	assert_true(cstate_has_qid(&s, 0x10));
	cstate_free(&s);
}

/* ---- csvlog ---- */

struct sink {
	char buf[65536];
	size_t len;
};

static int
collect_rows(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	struct sink *s = ctx;

	(void)err;
	assert_true(s->len + len < sizeof(s->buf));
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

static int
rows_in(const struct sink *s)
{
	int n = 0;
	bool q = false;

	for (size_t i = 0; i < s->len; i++) {
		if (s->buf[i] == '"')
			q = !q;
		else if (s->buf[i] == '\n' && !q)
			n++;
	}
	return n;
}

/* A 14+ style record (26 fields) with message msg. */
static void
record(char *buf, size_t cap, int line, const char *msg)
{
	snprintf(buf, cap,
		 "2026-01-01 00:00:%02d.000 UTC,\"u\",\"db\",42,\"[local]\",\"sess\",%d,\"idle\","
		 "2026-01-01 00:00:00 UTC,3/1,0,LOG,00000,\"%s\",,,,,,,,,\"psql\",\"client backend\",,0\n",
		 line % 60, line, msg);
}

static void
read_once(struct csvlog *l, struct sink *s, bool commit)
{
	struct pga_err err = {0};

	memset(s, 0, sizeof(*s));
	assert_int_equal(csvlog_read(l, collect_rows, s, &err), 0);
	if (commit)
		csvlog_done(l);
}

static void
test_csvlog_increments(void **state)
{
	struct csvlog l;
	struct pga_err err = {0};
	struct sink s;
	char dir[300], file[400], rec[512], half[600];

	(void)state;
	new_dir(dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/postgresql.csv", dir);
	record(rec, sizeof(rec), 1, "one");
	write_text(file, "w", rec);
	record(rec, sizeof(rec), 2, "two, with \"\"quotes\"\"\nand a newline");
	write_text(file, "a", rec);
	/* a record still being written: no newline yet */
	record(rec, sizeof(rec), 3, "three");
	snprintf(half, sizeof(half), "%.*s", (int)(strlen(rec) - 10), rec);
	write_text(file, "a", half);
	assert_int_equal(csvlog_init(&l, file, dir, "t", &err), 0);
	read_once(&l, &s, false);
	assert_int_equal(rows_in(&s), 2);
	assert_non_null(strstr(s.buf, "\"two, with \"\"quotes\"\"\nand a newline\""));
	/* not committed: the same records again */
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 2);
	/* the rest of record 3 arrives */
	write_text(file, "a", rec + strlen(half));
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 1);
	assert_non_null(strstr(s.buf, "\"three\""));
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 0);
	/* the position survives a restart */
	assert_int_equal(csvlog_init(&l, file, dir, "t", &err), 0);
	record(rec, sizeof(rec), 4, "four");
	write_text(file, "a", rec);
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 1);
	assert_non_null(strstr(s.buf, "\"four\""));
}

static void
test_csvlog_rotation(void **state)
{
	struct csvlog l;
	struct pga_err err = {0};
	struct sink s;
	char dir[300], file[400], old[420], rec[512];

	(void)state;
	new_dir(dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/postgresql.csv", dir);
	snprintf(old, sizeof(old), "%s/postgresql.csv.1", dir);
	record(rec, sizeof(rec), 1, "a");
	write_text(file, "w", rec);
	assert_int_equal(csvlog_init(&l, file, dir, "t", &err), 0);
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 1);
	/* more in the old file, then logrotate renames it and a new one starts */
	record(rec, sizeof(rec), 2, "b");
	write_text(file, "a", rec);
	assert_int_equal(rename(file, old), 0);
	sleep(1);	/* mtime orders the files */
	record(rec, sizeof(rec), 3, "c");
	write_text(file, "w", rec);
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 2);
	assert_true(strstr(s.buf, "\"b\"") < strstr(s.buf, "\"c\""));
	/* truncated in place: read from its start */
	record(rec, sizeof(rec), 4, "d");
	write_text(file, "w", "");
	write_text(file, "a", "");
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 0);
	write_text(file, "a", rec);
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 1);
	assert_non_null(strstr(s.buf, "\"d\""));
}

static void
test_csvlog_directory_and_widths(void **state)
{
	struct csvlog l;
	struct pga_err err = {0};
	struct sink s;
	char dir[300], logdir[320], f1[400], f2[400], rec[512];

	(void)state;
	new_dir(dir, sizeof(dir));
	snprintf(logdir, sizeof(logdir), "%s/log", dir);
	assert_int_equal(mkdir(logdir, 0700), 0);
	snprintf(f1, sizeof(f1), "%s/postgresql-1.csv", logdir);
	snprintf(f2, sizeof(f2), "%s/postgresql-2.csv", logdir);
	/* PostgreSQL 12: 23 fields */
	write_text(f1, "w", "2026-01-01 00:00:01.000 UTC,\"u\",\"db\",1,,\"s\",1,,,,0,LOG,00000,"
		   "\"twelve\",,,,,,,,,\"app\"\n");
	assert_int_equal(csvlog_init(&l, logdir, dir, "t", &err), 0);
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 1);
	/* padded to 26 fields: 25 commas */
	assert_int_equal((int)(strchr(s.buf, '\n') - s.buf) > 0, 1);
	{
		int commas = 0;

		for (const char *p = s.buf; *p; p++)
			commas += *p == ',';
		assert_int_equal(commas, 25);
	}
	assert_non_null(strstr(s.buf, ",\"app\",,,\n"));
	sleep(1);
	record(rec, sizeof(rec), 2, "next file");
	write_text(f2, "w", rec);
	write_text(f2, "a", rec);
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 2);
	read_once(&l, &s, true);
	assert_int_equal(rows_in(&s), 0);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "%s/pga-unit-cstate.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(root) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_damaged),
		cmocka_unit_test(test_csvlog_increments),
		cmocka_unit_test(test_csvlog_rotation),
		cmocka_unit_test(test_csvlog_directory_and_widths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
