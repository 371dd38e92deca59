/* Unit tests of the spool library: locking, streams, rotation, quota, recovery. */
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

#include "common/units.h"
#include "spool/spool.h"
#include "spool/spool_int.h"

static char root[256];
static int seq_dir;
static const char *cols[] = {"k", "v"};

static void
new_spool_path(char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/s%d", root, seq_dir++);

	assert_true(n > 0 && (size_t)n < cap);
}

static struct spool_opts
opts(uint64_t max, enum pga_spool_full full)
{
	struct spool_opts o = {.collector = "unit", .max_bytes = max, .full = full,
			       .seg_max_size = 1 << 20, .seg_max_age_us = 3600LL * PGA_USEC_PER_SEC,
			       .level = 1};
	return o;
}

/* One block of `rows` incompressible-ish rows through a stream. */
static int
put_block(struct spool *sp, unsigned flags, const char *metric, int rows,
	  struct pga_err *err)
{
	struct seg_block_meta m = {.ncols = 2, .cols = cols, .snapshot_us = pga_now_us()};
	struct spool_stream *s = NULL;
	uint64_t got = 0;
	int rc;

	strcpy(m.metric, metric);
	rc = spool_stream_new(sp, flags, &s, err);
	if (rc == 0)
		rc = spool_stream_begin(s, &m, err);
	for (int i = 0; rc == 0 && i < rows; i++) {
		char line[96];
		int n = snprintf(line, sizeof(line), "%d,%08x%08x%08x\n", i, rand(), rand(), rand());

		rc = spool_stream_write(s, line, (size_t)n, err);
	}
	if (rc == 0)
		rc = spool_stream_commit(s, &got, err);
	if (rc == 0 && got != (uint64_t)rows)
		rc = PGA_EINTERNAL;
	spool_stream_free(s);
	return rc;
}

static size_t
count_ready(struct spool *sp)
{
	struct spool_list l;
	size_t n;

	assert_int_equal(spool_list_ready(sp, &l, NULL), 0);
	n = l.n;
	spool_list_free(&l);
	return n;
}

static void
test_lock_is_exclusive(void **state)
{
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct spool *a = NULL, *b = NULL, *r = NULL;
	struct pga_err err = {0};
	char path[300];

	(void)state;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&a, path, &o, &err), 0);
	assert_int_equal(spool_open_writer(&b, path, &o, &err), PGA_ELOCKED);
	assert_non_null(strstr(err.msg, "in use by another writer"));
	/* readers are never blocked */
	assert_int_equal(spool_open(&r, path, &err), 0);
	spool_free(r);
	assert_int_equal(spool_close(a, &err), 0);
	assert_int_equal(spool_open_writer(&b, path, &o, &err), 0);
	assert_int_equal(spool_close(b, &err), 0);
}

static void
test_streams_and_chain(void **state)
{
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct spool *sp = NULL;
	struct spool_list l;
	struct pga_err err = {0};
	struct seg_info prev, cur;
	char path[300], seg[600];
	uint64_t seq;
	uint8_t sha[PGA_SHA256_LEN];

	(void)state;
	new_spool_path(path, sizeof(path));
	for (int round = 0; round < 3; round++) {
		assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
		assert_int_equal(put_block(sp, 0, "spilled", 5000, &err), 0);
		assert_int_equal(put_block(sp, SPOOL_STREAM_DIRECT, "direct", 10, &err), 0);
		assert_int_equal(spool_close(sp, &err), 0);
	}
	assert_int_equal(spool_open(&sp, path, &err), 0);
	assert_int_equal(spool_list_ready(sp, &l, &err), 0);
	assert_int_equal(l.n, 3);
	for (size_t i = 0; i < l.n; i++) {
		snprintf(seg, sizeof(seg), "%s/ready/%s", path, l.v[i].name);
		assert_int_equal(seg_verify_file(seg, &cur, &err), 0);
		assert_int_equal(cur.nblocks, 2);
		assert_int_equal(cur.header.seq, i + 1);
		if (i > 0)
			assert_int_equal(seg_check_chain(&prev, &cur, seg, &err), 0);
		prev = cur;
	}
	assert_int_equal(spool_chain_get(sp, "unit", &seq, sha, &err), 0);
	assert_int_equal(seq, 3);
	assert_memory_equal(sha, prev.file_sha256, PGA_SHA256_LEN);
	spool_list_free(&l);
	spool_free(sp);
}

static void
test_rotation_by_size(void **state)
{
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct spool *sp = NULL;
	struct pga_err err = {0};
	char path[300];

	(void)state;
	o.seg_max_size = 64 * 1024;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(put_block(sp, 0, "m", 2000, &err), 0);
	assert_int_equal(spool_close(sp, &err), 0);
	assert_int_equal(spool_open(&sp, path, &err), 0);
	assert_true(count_ready(sp) >= 4);
	spool_free(sp);
}

static void
test_rotation_by_block_count(void **state)
{
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct spool *sp = NULL;
	struct spool_list l;
	struct pga_err err = {0};
	char path[300];

	(void)state;
	o.seg_max_size = 1ULL << 40;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	for (int i = 0; i < SEG_MAX_BLOCKS + 1; i++)
		if (put_block(sp, SPOOL_STREAM_DIRECT, "m", 1, &err) != 0)
			fail_msg("block %d: %s", i, err.msg);
	assert_int_equal(spool_close(sp, &err), 0);
	assert_int_equal(spool_open(&sp, path, &err), 0);
	assert_int_equal(spool_list_ready(sp, &l, &err), 0);
	assert_int_equal(l.n, 2);
	spool_list_free(&l);
	spool_free(sp);
}

/* The path of the spool's one ready segment. */
static void
only_segment(struct spool *sp, char *seg, size_t cap)
{
	struct spool_list l;
	struct pga_err err = {0};

	assert_int_equal(spool_list_ready(sp, &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(spool_ready_path(sp, l.v[0].name, seg, cap, &err), 0);
	spool_list_free(&l);
}

/*
 * A segment a shipper holds (spool_hold) is passed over by drop-oldest:
 * the next oldest go instead, so none is both dropped and delivered.
 */
static void
test_quota_drop_passes_held(void **state)
{
	struct spool_opts o = opts(200 * 1024, PGA_FULL_DROP_OLDEST);
	struct spool *sp = NULL, *reader = NULL;
	struct spool_counters c;
	struct spool_list l;
	struct pga_err err = {0};
	char path[300], oldest[SEG_NAME_MAX + 1] = "", seg[600];
	int fd = -1, gone = -1;

	(void)state;
	o.seg_max_size = 32 * 1024;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(put_block(sp, 0, "m", 1000, &err), 0);
	assert_int_equal(spool_seal(sp, &err), 0);
	assert_int_equal(spool_open(&reader, path, &err), 0);
	assert_int_equal(spool_list_ready(reader, &l, &err), 0);
	assert_true(l.n >= 2);
	spool_list_sort(&l);
	snprintf(oldest, sizeof(oldest), "%s", l.v[0].name);
	spool_list_free(&l);
	assert_int_equal(spool_hold(reader, oldest, &fd, &err), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(put_block(sp, 0, "m", 1000, &err), 0);
	assert_int_equal(spool_counters_read(reader, &spool_counters_own, &c, &err), 0);
	assert_true(c.v[SC_SEGMENTS_DROPPED] > 0);
	snprintf(seg, sizeof(seg), "%s/ready/%s", path, oldest);
	assert_int_equal(access(seg, F_OK), 0);
	close(fd);
	/* released, it is the oldest again and goes first */
	for (int i = 0; i < 40 && gone != 0; i++) {
		assert_int_equal(put_block(sp, 0, "m", 1000, &err), 0);
		gone = access(seg, F_OK) != 0 ? 0 : -1;
	}
	assert_int_equal(gone, 0);
	/* a segment that has left the spool cannot be held */
	assert_int_equal(spool_hold(reader, oldest, &fd, &err), PGA_ENOTFOUND);
	assert_int_equal(fd, -1);
	assert_int_equal(spool_close(sp, &err), 0);
	spool_free(reader);
}

/* spool_where for test_quota_where: one segment every consumer has, one some have */
static char where_all[SEG_NAME_MAX], where_some[SEG_NAME_MAX];

static enum spool_where
fake_where(void *arg, const struct spool *sp, const char *name, char *note, size_t cap)
{
	(void)sp;
	++*(int *)arg;
	if (strcmp(name, where_all) == 0) {
		snprintf(note, cap, "delivered to 'a', 'b'");
		return SPOOL_EVERYWHERE;
	}
	if (strcmp(name, where_some) == 0) {
		snprintf(note, cap, "delivered to 'a', not to 'b'");
		return SPOOL_SOMEWHERE;
	}
	return SPOOL_NOWHERE;
}

static uint64_t
dropped_now(struct spool *reader)
{
	struct spool_counters c;
	struct pga_err err = {0};

	assert_int_equal(spool_counters_read(reader, &spool_counters_own, &c, &err), 0);
	return c.v[SC_SEGMENTS_DROPPED];
}

/*
 * Drop-oldest asks where a segment is: one that every consumer has goes
 * first, though it is not the oldest, and is not counted as dropped; then
 * the oldest (one some consumers have) is dropped and counted.
 */
static void
test_quota_where(void **state)
{
	struct spool_opts o = opts(200 * 1024, PGA_FULL_DROP_OLDEST);
	struct spool *sp = NULL, *reader = NULL;
	struct spool_list l;
	struct pga_err err = {0};
	char path[300], seg[3][600];
	int asked = 0, i;

	(void)state;
	o.seg_max_size = 32 * 1024;
	o.where = fake_where;
	o.where_arg = &asked;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(put_block(sp, 0, "m", 1000, &err), 0);
	assert_int_equal(spool_seal(sp, &err), 0);
	assert_int_equal(spool_open(&reader, path, &err), 0);
	assert_int_equal(spool_list_ready(reader, &l, &err), 0);
	assert_true(l.n >= 3);
	spool_list_sort(&l);
	snprintf(where_some, sizeof(where_some), "%s", l.v[0].name);
	snprintf(where_all, sizeof(where_all), "%s", l.v[2].name);
	for (i = 0; i < 3; i++)
		snprintf(seg[i], sizeof(seg[i]), "%s/ready/%s", path, l.v[i].name);
	spool_list_free(&l);
	assert_int_equal(asked, 0);	/* not full yet: nobody asked */
	for (i = 0; i < 40 && access(seg[0], F_OK) == 0 && access(seg[1], F_OK) == 0 &&
		    access(seg[2], F_OK) == 0; i++)
		assert_int_equal(put_block(sp, 0, "m", 1000, &err), 0);
	assert_true(asked > 0);
	assert_int_not_equal(access(seg[2], F_OK), 0);	/* everywhere: first out */
	assert_int_equal(access(seg[0], F_OK), 0);
	assert_int_equal(access(seg[1], F_OK), 0);
	assert_int_equal(dropped_now(reader), 0);	/* and not counted */
	for (i = 0; i < 40 && dropped_now(reader) == 0; i++)
		assert_int_equal(put_block(sp, 0, "m", 1000, &err), 0);
	assert_int_equal(dropped_now(reader), 1);
	assert_int_not_equal(access(seg[0], F_OK), 0);	/* then the oldest, counted */
	assert_int_equal(access(seg[1], F_OK), 0);
	assert_int_equal(spool_close(sp, &err), 0);
	spool_free(reader);
}

/*
 * A segment the writer renamed into ready/ but has not recorded in its
 * chain state (killed in between) is not removed, however delivered: a
 * writer that starts again chains from the newest segment in ready/, and
 * would seal its seq again.
 */
static void
test_remove_waits_for_chain(void **state)
{
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct spool *sp = NULL, *reader = NULL;
	struct spool_list l;
	struct pga_err err = {0};
	uint8_t sha[PGA_SHA256_LEN], prev[PGA_SHA256_LEN];
	char path[300], name[SEG_NAME_MAX], seg[600];
	uint64_t seq;

	(void)state;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	assert_int_equal(put_block(sp, 0, "m", 10, &err), 0);
	assert_int_equal(spool_seal(sp, &err), 0);
	assert_int_equal(put_block(sp, 0, "m", 10, &err), 0);
	assert_int_equal(spool_close(sp, &err), 0);
	assert_int_equal(spool_open(&reader, path, &err), 0);
	assert_int_equal(spool_list_ready(reader, &l, &err), 0);
	assert_int_equal(l.n, 2);
	spool_list_sort(&l);
	snprintf(name, sizeof(name), "%s", l.v[1].name);
	assert_int_equal(l.v[1].seq, 2);
	spool_list_free(&l);
	snprintf(seg, sizeof(seg), "%s/ready/%s", path, name);
	/* the chain state as a kill between the rename and its update leaves it */
	assert_int_equal(spool_chain_get(reader, "unit", &seq, sha, &err), 0);
	assert_int_equal(seq, 2);
	memset(prev, 0x5a, sizeof(prev));
	assert_int_equal(spool_chain_set(reader, "unit", 1, prev, &err), 0);
	assert_int_equal(spool_remove(reader, name, &err), PGA_ELOCKED);
	assert_int_equal(access(seg, F_OK), 0);
	/* a writer that starts again chains to it, then it may go */
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	assert_int_equal(spool_chain_get(reader, "unit", &seq, prev, &err), 0);
	assert_int_equal(seq, 2);
	assert_memory_equal(prev, sha, PGA_SHA256_LEN);
	assert_int_equal(spool_remove(reader, name, &err), 0);
	assert_int_not_equal(access(seg, F_OK), 0);
	assert_int_equal(spool_close(sp, &err), 0);
	spool_free(reader);
}

static void
test_quota_block(void **state)
{
	struct spool_opts o = opts(200 * 1024, PGA_FULL_BLOCK);
	struct spool *sp = NULL;
	struct spool_counters c;
	struct pga_err err = {0};
	char path[300];
	size_t before;
	int rc = 0, ok = 0;

	(void)state;
	o.seg_max_size = 32 * 1024;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	for (int i = 0; i < 40 && rc == 0; i++)
		if ((rc = put_block(sp, 0, "m", 1000, &err)) == 0)
			ok++;
	assert_int_equal(rc, PGA_EFULL);
	assert_non_null(strstr(err.msg, "is full"));
	assert_true(ok > 3);
	assert_int_equal(spool_close(sp, &err), 0);
	assert_int_equal(spool_open(&sp, path, &err), 0);
	before = count_ready(sp);
	assert_int_equal(spool_counters_read(sp, &spool_counters_own, &c, &err), 0);
	assert_int_equal(c.v[SC_BLOCKS_REFUSED], 1);
	assert_int_equal(c.v[SC_SEGMENTS_DROPPED], 0);
	assert_int_equal(c.v[SC_BLOCKS_WRITTEN], (uint64_t)ok);
	spool_free(sp);
	/* a direct stream is refused at its start, and nothing already there changes */
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	assert_int_equal(put_block(sp, SPOOL_STREAM_DIRECT, "m", 1000, &err), PGA_EFULL);
	assert_int_equal(spool_close(sp, &err), 0);
	assert_int_equal(spool_open(&sp, path, &err), 0);
	assert_int_equal(count_ready(sp), before);
	spool_free(sp);
}

static void
test_quota_drop_oldest(void **state)
{
	struct spool_opts o = opts(200 * 1024, PGA_FULL_BLOCK);
	struct spool *sp = NULL;
	struct spool_counters c;
	struct spool_list l;
	struct pga_err err = {0};
	char path[300];
	uint64_t usage;

	(void)state;
	o.full = PGA_FULL_DROP_OLDEST;
	o.seg_max_size = 32 * 1024;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(put_block(sp, 0, "m", 1000, &err), 0);
	assert_int_equal(spool_close(sp, &err), 0);
	assert_int_equal(spool_open(&sp, path, &err), 0);
	assert_int_equal(spool_usage(sp, &usage, &err), 0);
	assert_true(usage < o.max_bytes);
	assert_int_equal(spool_counters_read(sp, &spool_counters_own, &c, &err), 0);
	assert_true(c.v[SC_SEGMENTS_DROPPED] > 0);
	assert_int_equal(c.v[SC_BLOCKS_WRITTEN], 40);
	/* every block is either still here or counted as dropped */
	assert_int_equal(spool_list_ready(sp, &l, &err), 0);
	{
		uint64_t blocks = 0;

		for (size_t i = 0; i < l.n; i++) {
			struct seg_info info;
			char seg[600];

			snprintf(seg, sizeof(seg), "%s/ready/%s", path, l.v[i].name);
			assert_int_equal(seg_peek_file(seg, &info, &err), 0);
			blocks += info.nblocks;
		}
		assert_int_equal(blocks + c.v[SC_BLOCKS_DROPPED], 40);
		/* the oldest went first: the newest segment survived */
		assert_true(l.v[l.n - 1].seq == c.v[SC_SEGMENTS_SEALED]);
	}
	spool_list_free(&l);
	spool_free(sp);
}

static void
test_recovery_on_open(void **state)
{
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct spool *sp = NULL;
	struct spool_counters c;
	struct spool_list l;
	struct pga_err err = {0};
	char path[300], part[400], seg[700];
	struct seg_info info;

	(void)state;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	assert_int_equal(put_block(sp, 0, "a", 100, &err), 0);
	assert_int_equal(put_block(sp, 0, "b", 100, &err), 0);
	spool_free(sp);	/* a crash: the part file stays in tmp/ */
	/* plus a part that never got past its header */
	snprintf(part, sizeof(part), "%s/tmp/unit.00000000000000ff.part", path);
	{
		FILE *f = fopen(part, "wb");

		fwrite("\x50\x2a\x4d\x18", 1, 4, f);
		fclose(f);
	}
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	assert_int_equal(put_block(sp, 0, "c", 10, &err), 0);
	assert_int_equal(spool_close(sp, &err), 0);
	assert_int_equal(access(part, F_OK), -1);
	assert_int_equal(spool_open(&sp, path, &err), 0);
	assert_int_equal(spool_list_ready(sp, &l, &err), 0);
	assert_int_equal(l.n, 2);
	snprintf(seg, sizeof(seg), "%s/ready/%s", path, l.v[0].name);
	assert_int_equal(seg_verify_file(seg, &info, &err), 0);
	assert_int_equal(info.nblocks, 2);
	assert_true(info.flags & SEG_FOOTER_RECOVERED);
	assert_int_equal(spool_counters_read(sp, &spool_counters_own, &c, &err), 0);
	assert_int_equal(c.v[SC_SEGMENTS_RECOVERED], 1);
	assert_int_equal(c.v[SC_BYTES_TORN], 4);
	spool_list_free(&l);
	spool_free(sp);
}

/* What a producer counts with its blocks (collect's snapshots, say). */
enum { T_PARTIAL, T_COMPLETE, T_ERRORS, T_ESCAPED };
static const char *const tag_names[] = {"snapshots_partial", "snapshots_complete",
					"metric_errors", "values_escaped"};
static const struct spool_counter_set tag_set = {"unit", tag_names, 4};

/* One tagged block (metric t, `rows` rows) through a direct stream. */
static int
put_tagged(struct spool *sp, int rows, const struct spool_counters *tag, struct pga_err *err)
{
	struct seg_block_meta m = {.ncols = 2, .cols = cols, .snapshot_us = pga_now_us()};
	struct spool_stream *s = NULL;
	uint64_t got = 0;
	int rc;

	strcpy(m.metric, "t");
	rc = spool_stream_new(sp, SPOOL_STREAM_DIRECT, &s, err);
	if (rc == 0)
		rc = spool_stream_begin(s, &m, err);
	for (int i = 0; rc == 0 && i < rows; i++)
		rc = spool_stream_write(s, "1,x\n", 4, err);
	if (rc == 0)
		rc = spool_stream_commit_tagged(s, &got, &tag_set, tag, err);
	spool_stream_free(s);
	return rc;
}

/* The value of name in SPOOL/counters (0 when it is not there). */
static uint64_t
counter(const char *path, const char *name)
{
	char file[400], n[64];
	unsigned long long v, found = 0;
	FILE *f;

	snprintf(file, sizeof(file), "%s/counters", path);
	f = fopen(file, "r");
	if (f == NULL)
		return 0;	/* nothing counted yet */
	while (fscanf(f, "%63s %llu", n, &v) == 2)
		if (strcmp(n, name) == 0)
			found = v;
	fclose(f);
	return found;
}

/*
 * A crash (kill -9) while a segment is open: the next start salvages it and
 * counts it once, its blocks, rows, bytes and the tags of the blocks it
 * kept; a tag noted for a block the crash cut off counts nothing.
 */
static void
test_crash_counts_once(void **state)
{
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct spool_counters tag = {0};
	struct spool *sp = NULL;
	struct pga_err err = {0};
	char path[300], tags[400];
	FILE *f;

	(void)state;
	new_spool_path(path, sizeof(path));
	tag.v[T_PARTIAL] = 1;
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	assert_int_equal(put_tagged(sp, 3, &tag, &err), 0);
	tag.v[T_PARTIAL] = (uint64_t)-1;	/* modulo 2^64: takes it back */
	tag.v[T_COMPLETE] = 1;
	assert_int_equal(put_tagged(sp, 2, &tag, &err), 0);
	assert_int_equal(put_tagged(sp, 4, NULL, &err), 0);
	spool_free(sp);	/* the crash */
	/* a tag noted for a block that never got its trailer, and a cancelled one */
	snprintf(tags, sizeof(tags), "%s/tmp/unit.0000000000000001.part.tags", path);
	f = fopen(tags, "a");
	assert_non_null(f);
	fputs("1 metric_errors=5\n1 -\n3 snapshots_complete=7\n2 values_esc", f);
	fclose(f);
	assert_int_equal(counter(path, "segments_sealed"), 0);
	assert_int_equal(counter(path, "blocks_written"), 0);
	for (int round = 0; round < 2; round++) {	/* the second start changes nothing */
		assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
		assert_int_equal(spool_close(sp, &err), 0);
		assert_int_equal(counter(path, "segments_sealed"), 1);
		assert_int_equal(counter(path, "segments_recovered"), 1);
		assert_int_equal(counter(path, "blocks_written"), 3);
		assert_int_equal(counter(path, "rows_written"), 9);
		assert_int_equal(counter(path, "bytes_written"), 36);
		assert_int_equal(counter(path, "snapshots_partial"), 0);
		assert_int_equal(counter(path, "snapshots_complete"), 1);
		assert_int_equal(counter(path, "metric_errors"), 0);
		assert_int_equal(counter(path, "values_escaped"), 0);
		assert_int_equal(counter(path, "sealed_seq"), 1);
		assert_int_equal(counter(path, "sealed_id"), spool_collector_hash("unit"));
	}
	assert_int_equal(access(tags, F_OK), -1);
}

static int
to_writer(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	return seg_writer_data(ctx, buf, len, err);
}

/*
 * A crash between a seal's counting and its rename leaves a part with its
 * footer: the next start publishes it as it is, counted once; a crash just
 * before the counting, the same but counted then.
 */
static void
test_crash_between_count_and_rename(void **state)
{
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .minor = SEG_FORMAT_MINOR, .seq = 1};
	struct seg_block_meta m = {.ncols = 2, .cols = cols, .snapshot_us = 1};
	struct spool_counters d = {0};
	struct spool_marks mk = {0};
	struct seg_writer *w = NULL;
	struct seg_encoder *e = NULL;
	struct spool *sp = NULL;
	struct spool_list l;
	struct pga_err err = {0};
	uint64_t rows, raw;
	uint8_t sha[PGA_SHA256_LEN];
	char path[300], part[400], seg[700];
	struct seg_info info;

	(void)state;
	strcpy(m.metric, "m");
	strcpy(h.collector, "unit");
	strcpy(h.hostname, "h");
	strcpy(h.writer, "pga test");
	for (int counted = 0; counted < 2; counted++) {
		new_spool_path(path, sizeof(path));
		assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
		assert_int_equal(spool_close(sp, &err), 0);
		h.created_us = pga_now_us();
		snprintf(part, sizeof(part), "%s/tmp/unit.0000000000000001.part", path);
		assert_int_equal(seg_writer_create(&w, part, &h, &err), 0);
		assert_int_equal(seg_encoder_new(&e, 1, 0, &err), 0);
		seg_encoder_begin(e, to_writer, w);
		assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
		assert_int_equal(seg_encoder_write(e, "1,x\n", 4, &err), 0);
		assert_int_equal(seg_encoder_finish(e, &rows, &raw, &err), 0);
		assert_int_equal(seg_writer_block_end(w, rows, raw, &err), 0);
		seg_encoder_free(e);
		assert_int_equal(seg_writer_finish(w, 0, 0, sha, &err), 0);
		seg_writer_free(w, false);
		if (counted) {	/* what the seal wrote before the crash */
			d.v[SC_SEGMENTS_SEALED] = 1;
			d.v[SC_BLOCKS_WRITTEN] = 1;
			mk.sealed_seq = 1;
			mk.sealed_id = spool_collector_hash("unit");
			assert_int_equal(spool_open(&sp, path, &err), 0);
			assert_int_equal(spool_counters_add_marked(sp, &d, NULL, &mk, true, &err), 0);
			spool_free(sp);
		}
		assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
		assert_int_equal(spool_close(sp, &err), 0);
		assert_int_equal(counter(path, "segments_sealed"), 1);
		assert_int_equal(counter(path, "blocks_written"), 1);
		assert_int_equal(counter(path, "segments_recovered"), 0);
		assert_int_equal(spool_open(&sp, path, &err), 0);
		assert_int_equal(spool_list_ready(sp, &l, &err), 0);
		assert_int_equal(l.n, 1);
		snprintf(seg, sizeof(seg), "%s/ready/%s", path, l.v[0].name);
		assert_int_equal(seg_verify_file(seg, &info, &err), 0);
		assert_memory_equal(info.file_sha256, sha, PGA_SHA256_LEN);	/* the same file */
		spool_list_free(&l);
		spool_free(sp);
	}
}

/*
 * A drop cut off by a crash (the segment already moved to tmp/ under its
 * removal number) is finished at the next start: counted unless the
 * counters already have its number, and removed either way.
 */
static void
test_crash_in_a_drop(void **state)
{
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct spool_counters d = {0};
	struct spool_marks mk = {.removals = 1};
	struct spool *sp = NULL;
	struct spool_list l;
	struct pga_err err = {0};
	char path[300], from[700], to[700];

	(void)state;
	for (int counted = 0; counted < 2; counted++) {
		new_spool_path(path, sizeof(path));
		assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
		assert_int_equal(put_block(sp, 0, "m", 10, &err), 0);
		assert_int_equal(spool_close(sp, &err), 0);
		assert_int_equal(spool_open(&sp, path, &err), 0);
		assert_int_equal(spool_list_ready(sp, &l, &err), 0);
		assert_int_equal(l.n, 1);
		snprintf(from, sizeof(from), "%s/ready/%s", path, l.v[0].name);
		snprintf(to, sizeof(to), "%s/tmp/1.%s.removed", path, strrchr(l.v[0].name, '/') + 1);
		assert_int_equal(rename(from, to), 0);
		if (counted) {
			d.v[SC_SEGMENTS_DROPPED] = 1;
			d.v[SC_BLOCKS_DROPPED] = 1;
			assert_int_equal(spool_counters_add_marked(sp, &d, NULL, &mk, true, &err), 0);
		}
		spool_list_free(&l);
		spool_free(sp);
		for (int round = 0; round < 2; round++) {
			assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
			assert_int_equal(spool_close(sp, &err), 0);
			assert_int_equal(counter(path, "segments_dropped"), 1);
			assert_int_equal(counter(path, "blocks_dropped"), 1);
			assert_int_equal(counter(path, "rows_dropped"), counted ? 0 : 10);
			assert_int_equal(counter(path, "removals"), 1);
			assert_int_equal(access(to, F_OK), -1);
		}
	}
}

/*
 * The counters store is generic: a part's set of names, added by index;
 * every declared name is in the file, names no set declares are kept, and
 * a file with a name that is not [a-z0-9_] is refused.
 */
static void
test_named_counters(void **state)
{
	static const char *const a_names[] = {"alpha_one", "alpha_two"};
	static const struct spool_counter_set a = {"a", a_names, 2};
	static const char *const b_names[] = {"beta"};
	static const struct spool_counter_set b = {"b", b_names, 1};
	struct spool_counters d = {0}, got;
	struct pga_err err = {0};
	struct spool *sp = NULL;
	char path[256], file[300], text[4096];
	FILE *f;
	size_t n;

	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &(struct spool_opts){.collector = "unit",
			 .seg_max_size = 1 << 20, .level = 1}, &err), 0);
	spool_counters_declare(&b);
	d.v[1] = 5;
	assert_int_equal(spool_counters_add(sp, &a, &d, &err), 0);
	assert_int_equal(spool_counters_add(sp, &a, &d, &err), 0);
	assert_int_equal(spool_counters_read(sp, &a, &got, &err), 0);
	assert_int_equal(got.v[0], 0);
	assert_int_equal(got.v[1], 10);
	assert_int_equal(spool_counters_read(sp, &b, &got, &err), 0);
	assert_int_equal(got.v[0], 0);
	snprintf(file, sizeof(file), "%s/counters", path);
	f = fopen(file, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	/* every declared name is listed, the spool's own first */
	assert_non_null(strstr(text, "segments_sealed 0\n"));
	assert_non_null(strstr(text, "alpha_one 0\nalpha_two 10\n"));
	assert_non_null(strstr(text, "beta 0\n"));
	/* a name of a newer part is kept through a write */
	f = fopen(file, "a");
	fputs("gamma_future 42\n", f);
	fclose(f);
	d.v[1] = 1;
	assert_int_equal(spool_counters_add(sp, &a, &d, &err), 0);
	f = fopen(file, "r");
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(strstr(text, "gamma_future 42\n"));
	assert_non_null(strstr(text, "alpha_two 11\n"));
	/* a name that is not one is a malformed file, not a counter */
	f = fopen(file, "a");
	fputs("Bad-Name 1\n", f);
	fclose(f);
	assert_int_equal(spool_counters_read(sp, &a, &got, &err), PGA_ECORRUPT);
	spool_free(sp);
}

static void
test_bad_meta_refused(void **state)
{
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct seg_block_meta m = {.ncols = 2, .cols = cols};
	const char *badcols[] = {"ok", "not ok"};
	struct spool *sp = NULL;
	struct spool_stream *s = NULL;
	struct pga_err err = {0};
	char path[300];

	(void)state;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	assert_int_equal(spool_stream_new(sp, 0, &s, &err), 0);
	strcpy(m.metric, "Bad-Name");
	assert_int_equal(spool_stream_begin(s, &m, &err), PGA_EINVAL);
	strcpy(m.metric, "good");
	m.cols = badcols;
	assert_int_equal(spool_stream_begin(s, &m, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "'not ok'"));
	spool_stream_free(s);
	assert_int_equal(spool_close(sp, &err), 0);
	o.collector = "../escape";
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), PGA_EINVAL);
}

/* ---- batch streams (SPOOL_STREAM_BATCH) ---- */

static int
add_part_size(void *ctx, const char *name, uint64_t size)
{
	(void)name;
	*(uint64_t *)ctx += size;
	return 0;
}

/* Bytes of the open segment on disk: what a kill -9 would keep. */
static uint64_t
on_disk(struct spool *sp)
{
	uint64_t n = 0;

	assert_int_equal(spool_list_open(sp, add_part_size, &n, NULL), 0);
	return n;
}

/* n bytes of block number `seed` that zstd cannot shrink: no newline nor quote but the last. */
static void
noise(uint32_t seed, uint8_t *buf, size_t n)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (uint8_t)x == '\n' || (uint8_t)x == '"' ? 'x' : (uint8_t)x;
	}
	buf[n - 1] = '\n';
}

static void
batch_begin(struct spool_stream *s, uint32_t seed, struct pga_err *err)
{
	struct seg_block_meta m = {.ncols = 2, .cols = cols, .snapshot_us = 1000 + seed};

	snprintf(m.metric, sizeof(m.metric), "b%u", seed);
	assert_int_equal(spool_stream_begin(s, &m, err), 0);
}

static void
batch_block(struct spool_stream *s, uint32_t seed, size_t n, struct pga_err *err)
{
	uint8_t *buf = malloc(n);
	uint64_t rows = 0;

	assert_non_null(buf);
	noise(seed, buf, n);
	batch_begin(s, seed, err);
	assert_int_equal(spool_stream_write(s, buf, n, err), 0);
	assert_int_equal(spool_stream_commit(s, &rows, err), 0);
	assert_int_equal(rows, 1);
	free(buf);
}

/*
 * A batch stream's blocks stay in the stream until its buffer would
 * overflow, a block spills, 64 are held, a tagged commit or a flush: the
 * part file on disk does not grow before.  The segment then holds every
 * block, in commit order, byte for byte (an aborted block in between not).
 */
static void
test_batch_flush_on_cap(void **state)
{
	static const uint32_t sizes[] = {50000, 50000, 50000, 50000, 1000, 300000};
	static const char *const batch_tag_names[] = {"unit_tagged"};
	static const struct spool_counter_set tags = {"unit", batch_tag_names, 1};
	struct spool_counters one = {.v = {1}};
	struct spool_opts o = opts(0, PGA_FULL_BLOCK);
	struct spool *sp = NULL;
	struct spool_stream *s = NULL;
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	struct pga_err err = {0};
	char path[300], seg[700];
	uint8_t *want = malloc(300000), *got = malloc(300000);
	uint32_t seeds[200], nseeds = 0, seed = 1;
	uint64_t before, rows;

	(void)state;
	assert_non_null(want);
	assert_non_null(got);
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	assert_int_equal(spool_stream_new(sp, SPOOL_STREAM_BATCH | SPOOL_STREAM_DIRECT, &s, &err),
			 PGA_EINTERNAL);
	assert_int_equal(spool_stream_new(sp, SPOOL_STREAM_BATCH, &s, &err), 0);
	/* 4 blocks of 50 kB: held, nothing written */
	for (int i = 0; i < 4; i++, seed++) {
		batch_block(s, seed, sizes[i], &err);
		seeds[nseeds++] = seed;
		assert_int_equal(on_disk(sp), 0);
	}
	/* the next begin finds less than 64 KiB of room: the 4 go first */
	batch_begin(s, seed, &err);
	before = on_disk(sp);
	assert_true(before > 200000);
	/* an aborted block leaves the held ones as they are */
	assert_int_equal(spool_stream_write(s, "x,y\n", 4, &err), 0);
	spool_stream_abort(s);
	seed++;
	batch_block(s, seed, 1000, &err);
	seeds[nseeds++] = seed++;
	assert_int_equal(on_disk(sp), before);
	/* a block bigger than the buffer spills, and goes at once, after the held one */
	batch_block(s, seed, 300000, &err);
	seeds[nseeds++] = seed++;
	assert_true(on_disk(sp) > before + 301000);
	/* 64 small blocks: the 64th commit flushes */
	before = on_disk(sp);
	for (int i = 0; i < 64; i++, seed++) {
		assert_int_equal(on_disk(sp), before);
		batch_block(s, seed, 100, &err);
		seeds[nseeds++] = seed;
	}
	assert_true(on_disk(sp) > before);
	/* a tagged commit goes at once, with what is held before it */
	before = on_disk(sp);
	batch_block(s, seed, 100, &err);
	seeds[nseeds++] = seed++;
	assert_int_equal(on_disk(sp), before);
	noise(seed, want, 100);
	batch_begin(s, seed, &err);
	assert_int_equal(spool_stream_write(s, want, 100, &err), 0);
	assert_int_equal(spool_stream_commit_tagged(s, &rows, &tags, &one, &err), 0);
	seeds[nseeds++] = seed++;
	assert_true(on_disk(sp) > before);
	/* a held block and an explicit flush */
	before = on_disk(sp);
	batch_block(s, seed, 100, &err);
	seeds[nseeds++] = seed++;
	assert_int_equal(on_disk(sp), before);
	assert_int_equal(spool_stream_flush(s, &err), 0);
	assert_true(on_disk(sp) > before);
	assert_int_equal(spool_stream_flush(s, &err), 0);	/* nothing held: nothing to do */
	spool_stream_free(s);
	assert_int_equal(spool_close(sp, &err), 0);

	/* the sealed segment: every block in order, each byte as written */
	assert_int_equal(spool_open(&sp, path, &err), 0);
	only_segment(sp, seg, sizeof(seg));
	assert_int_equal(seg_reader_open_file(&r, seg, &err), 0);
	for (uint32_t i = 0; i < nseeds; i++) {
		char metric[16];
		size_t n, len = 0;

		assert_int_equal(seg_reader_next(r, &m, &err), 1);
		snprintf(metric, sizeof(metric), "b%u", seeds[i]);
		assert_string_equal(m->metric, metric);
		assert_int_equal(m->block_no, i);
		do {
			assert_int_equal(seg_reader_read(r, got + len, 300000 - len, &n, &err), 0);
			len += n;
		} while (n > 0);
		noise(seeds[i], want, len);
		assert_memory_equal(got, want, len);
		assert_int_equal(len, i < 4 ? 50000 : i == 4 ? 1000 : i == 5 ? 300000 : 100);
	}
	assert_int_equal(seg_reader_next(r, &m, &err), 0);
	seg_reader_free(r);
	spool_free(sp);
	free(want);
	free(got);
}

/*
 * A batch the quota cannot take whole: the blocks before the one refused
 * are in the segment, it and every one after it refused, each counted;
 * the flush says so.
 */
static void
test_batch_quota(void **state)
{
	struct spool_opts o = opts(80000, PGA_FULL_BLOCK);
	struct spool *sp = NULL;
	struct spool_stream *s = NULL;
	struct spool_counters c;
	struct seg_info info;
	struct pga_err err = {0};
	char path[300], seg[700];

	(void)state;
	new_spool_path(path, sizeof(path));
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	assert_int_equal(spool_stream_new(sp, SPOOL_STREAM_BATCH, &s, &err), 0);
	for (uint32_t seed = 1; seed <= 3; seed++)
		batch_block(s, seed, 50000, &err);
	assert_int_equal(spool_stream_flush(s, &err), PGA_EFULL);
	assert_non_null(strstr(err.msg, "is full"));
	assert_int_equal(spool_counters_read(sp, &spool_counters_own, &c, &err), 0);
	assert_int_equal(c.v[SC_BLOCKS_REFUSED], 2);
	assert_int_equal(c.v[SC_BLOCKS_FAILED], 0);
	assert_int_equal(spool_stream_flush(s, &err), 0);	/* nothing held any more */
	spool_stream_free(s);
	assert_int_equal(spool_close(sp, &err), 0);
	assert_int_equal(spool_open(&sp, path, &err), 0);
	only_segment(sp, seg, sizeof(seg));
	assert_int_equal(seg_verify_file(seg, &info, &err), 0);
	assert_int_equal(info.nblocks, 1);
	spool_free(sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_is_exclusive),
		cmocka_unit_test(test_streams_and_chain),
		cmocka_unit_test(test_rotation_by_size),
		cmocka_unit_test(test_rotation_by_block_count),
		cmocka_unit_test(test_quota_block),
		cmocka_unit_test(test_quota_drop_oldest),
		cmocka_unit_test(test_quota_drop_passes_held),
		cmocka_unit_test(test_quota_where),
		cmocka_unit_test(test_remove_waits_for_chain),
		cmocka_unit_test(test_recovery_on_open),
		cmocka_unit_test(test_crash_counts_once),
		cmocka_unit_test(test_crash_between_count_and_rename),
		cmocka_unit_test(test_crash_in_a_drop),
		cmocka_unit_test(test_bad_meta_refused),
		cmocka_unit_test(test_named_counters),
		cmocka_unit_test(test_batch_flush_on_cap),
		cmocka_unit_test(test_batch_quota),
	};
	char tmpl[] = "/tmp/pga-unit-spool.XXXXXX";
	int rc;

	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(root, sizeof(root), "%s", tmpl);
	setenv("PGA_LOG_LEVEL", "error", 1);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (rc == 0) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
