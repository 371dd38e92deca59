/* Unit tests of the segment format: round trip and every kind of damage. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "common/config.h"
#include "common/edkey.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/units.h"
#include "common/utf8.h"
#include "load/load_int.h"
#include "spool/segment_int.h"

#define WBUF_TEST (768 * 1024)	/* three times the writer's buffer: some reaches the disk */

static char tmpdir[256];
/* when set, make_segment() signs with it */
static struct pga_signkey *g_signer;
/* recipients of the segments make_segment writes (encrypted when g_nto > 0) */
static const struct pga_xpub *g_to[2];
static size_t g_nto;
static bool g_noisy;	/* rows that hardly compress: blocks of several chunks */

static const char *cols3[] = {"id", "name", "value"};

struct fixture {
	char path[512];
	uint8_t *buf;
	size_t len;
	struct seg_info info;
};

static int
sink_to_writer(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	return seg_writer_data(ctx, buf, len, err);
}

/* Write a segment of nblocks blocks of rows rows each; returns its path. */
static void
make_segment(struct fixture *fx, const char *name, uint64_t seq,
	     const uint8_t prev[PGA_SHA256_LEN], int nblocks, int rows)
{
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .seq = seq,
			       .created_us = 1764100000000000LL};
	struct seg_writer *w = NULL;
	struct seg_encoder *e = NULL;
	struct pga_err err = {0};
	char part[600];
	uint8_t sha[PGA_SHA256_LEN];

	strcpy(h.collector, "unit");
	strcpy(h.hostname, "host");
	strcpy(h.writer, "pga test");
	if (prev)
		memcpy(h.prev_sha256, prev, PGA_SHA256_LEN);
	if (g_signer != NULL)
		h.flags |= SEG_FLAG_SIGNED;
	snprintf(fx->path, sizeof(fx->path), "%s/%s", tmpdir, name);
	snprintf(part, sizeof(part), "%s.part", fx->path);
	assert_int_equal(seg_writer_create_to(&w, part, &h, g_to, g_nto, &err), 0);
	seg_writer_set_signer(w, g_signer);
	assert_int_equal(seg_encoder_new(&e, 3, 0, &err), 0);
	for (int b = 0; b < nblocks; b++) {
		struct seg_block_meta m = {.snapshot_us = 1764100000000000LL + b,
					   .sysid = 42, .port = 5432, .ncols = 3, .cols = cols3};
		uint64_t r, raw;

		snprintf(m.metric, sizeof(m.metric), "metric_%d", b);
		strcpy(m.target, "t1");
		strcpy(m.host, "localhost");
		assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
		seg_encoder_begin(e, sink_to_writer, w);
		for (int i = 0; i < rows; i++) {
			char line[128];
			int n = g_noisy ? snprintf(line, sizeof(line), "%d,noise %08x%08x%08x,%d.5\n",
						   i, (unsigned)rand(), (unsigned)rand(),
						   (unsigned)rand(), i * b)
					: snprintf(line, sizeof(line),
					 "%d,\"name, with \"\"quotes\"\"\nand newline\",%d.5\n", i, i * b);

			assert_int_equal(seg_encoder_write(e, line, (size_t)n, &err), 0);
		}
		assert_int_equal(seg_encoder_finish(e, &r, &raw, &err), 0);
		assert_int_equal(r, (uint64_t)rows);
		assert_int_equal(seg_writer_block_end(w, r, raw, &err), 0);
	}
	assert_int_equal(seg_writer_seal(w, 0, 0, fx->path, sha, &err), 0);
	seg_writer_free(w, false);
	seg_encoder_free(e);
	assert_int_equal(seg_verify_file(fx->path, &fx->info, &err), 0);
	assert_memory_equal(sha, fx->info.file_sha256, PGA_SHA256_LEN);
}

static void
load(struct fixture *fx)
{
	struct stat st;
	FILE *f = fopen(fx->path, "rb");

	assert_non_null(f);
	assert_int_equal(stat(fx->path, &st), 0);
	fx->len = (size_t)st.st_size;
	fx->buf = malloc(fx->len);
	assert_int_equal(fread(fx->buf, 1, fx->len, f), fx->len);
	fclose(f);
}

static void
store(struct fixture *fx, const char *name, size_t len)
{
	FILE *f;

	snprintf(fx->path, sizeof(fx->path), "%s/%s", tmpdir, name);
	f = fopen(fx->path, "wb");
	assert_non_null(f);
	if (len > 0)
		assert_int_equal(fwrite(fx->buf, 1, len, f), len);
	fclose(f);
}

static int
verify_code(const char *path, char *msg, size_t cap)
{
	struct pga_err err = {0};
	struct seg_info info;
	int rc = seg_verify_file(path, &info, &err);

	if (msg)
		snprintf(msg, cap, "%s", err.msg);
	return rc;
}

static void
test_round_trip(void **state)
{
	struct fixture fx;
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	struct pga_err err = {0};
	char buf[4096];
	size_t got, total = 0;
	int blocks = 0, rc;

	(void)state;
	make_segment(&fx, "rt.pga.zst", 1, NULL, 3, 50);
	assert_int_equal(fx.info.nblocks, 3);
	assert_int_equal(fx.info.rows, 150);
	assert_int_equal(fx.info.min_snapshot_us, 1764100000000000LL);
	assert_int_equal(fx.info.max_snapshot_us, 1764100000000002LL);
	assert_int_equal(seg_reader_open_file(&r, fx.path, &err), 0);
	assert_string_equal(seg_reader_header(r)->collector, "unit");
	while ((rc = seg_reader_next(r, &m, &err)) == 1) {
		assert_int_equal(m->block_no, (uint32_t)blocks);
		assert_int_equal(m->ncols, 3);
		assert_string_equal(m->cols[2], "value");
		assert_int_equal(m->sysid, 42);
		if (blocks == 1) {
			assert_int_equal(seg_reader_skip(r, &err), 0);
		} else {
			while (seg_reader_read(r, buf, sizeof(buf), &got, &err) == 0 && got > 0)
				total += got;
		}
		blocks++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(blocks, 3);
	assert_true(total > 0);
	assert_int_equal(seg_reader_footer(r)->nblocks, 3);
	seg_reader_free(r);
}

static void
test_zstd_compatible(void **state)
{
	struct fixture fx;
	unsigned long long content;

	(void)state;
	make_segment(&fx, "z.pga.zst", 1, NULL, 2, 10);
	load(&fx);
	/* the whole file is a valid sequence of zstd frames */
	content = ZSTD_findDecompressedSize(fx.buf, fx.len);
	assert_true(content != ZSTD_CONTENTSIZE_ERROR);
	free(fx.buf);
}

static void
test_every_truncation_fails(void **state)
{
	struct fixture fx;
	char msg[PGA_ERR_MSG_MAX];
	int truncated = 0;

	(void)state;
	make_segment(&fx, "full.pga.zst", 1, NULL, 2, 20);
	load(&fx);
	for (size_t cut = 0; cut < fx.len; cut += 7) {
		int rc;

		store(&fx, "cut.pga.zst", cut);
		rc = verify_code(fx.path, msg, sizeof(msg));
		assert_true(rc < 0);
		truncated += rc == PGA_ETRUNC;
	}
	/* most cuts land inside a frame and read as a truncation */
	assert_true(truncated > 0);
	store(&fx, "cut.pga.zst", fx.len - 1);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ETRUNC);
	assert_non_null(strstr(msg, "truncated"));
	free(fx.buf);
}

static void
test_every_bit_flip_fails(void **state)
{
	struct fixture fx;

	(void)state;
	make_segment(&fx, "flip.pga.zst", 1, NULL, 2, 5);
	load(&fx);
	for (size_t off = 0; off < fx.len; off++) {
		fx.buf[off] ^= 0x10;
		store(&fx, "flipped.pga.zst", fx.len);
		if (verify_code(fx.path, NULL, 0) == 0)
			fail_msg("bit flip at offset %zu went undetected", off);
		fx.buf[off] ^= 0x10;
	}
	free(fx.buf);
}

static void
test_flip_classes(void **state)
{
	struct fixture fx;
	struct seg_header h;
	struct seg_footer f;
	struct pga_err err = {0};
	char msg[PGA_ERR_MSG_MAX];
	size_t data_mid;

	(void)state;
	make_segment(&fx, "cls.pga.zst", 1, NULL, 2, 200);
	assert_int_equal(seg_read_footer_file(fx.path, &h, &f, &err), 0);
	data_mid = (size_t)(f.index[0].offset + f.index[1].offset) / 2;
	load(&fx);
	fx.buf[12] ^= 1;	/* inside the header payload */
	store(&fx, "c1.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ECHECKSUM);
	assert_non_null(strstr(msg, "segment header crc32c"));
	fx.buf[12] ^= 1;
	fx.buf[data_mid] ^= 1;	/* inside block 0's data frame */
	store(&fx, "c2.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ECHECKSUM);
	assert_non_null(strstr(msg, "block 0"));
	fx.buf[data_mid] ^= 1;
	fx.buf[fx.len - 20] ^= 1;	/* inside the footer */
	store(&fx, "c3.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ECHECKSUM);
	free(f.index);
	free(fx.buf);
}

static void
test_reordered_blocks(void **state)
{
	struct fixture fx;
	struct seg_header h;
	struct seg_footer f;
	struct pga_err err = {0};
	char msg[PGA_ERR_MSG_MAX];
	size_t s0, s1, s2;
	uint8_t *out;

	(void)state;
	make_segment(&fx, "ord.pga.zst", 1, NULL, 3, 10);
	assert_int_equal(seg_read_footer_file(fx.path, &h, &f, &err), 0);
	load(&fx);
	s0 = f.index[0].offset;
	s1 = f.index[1].offset;
	s2 = f.index[2].offset;
	out = malloc(fx.len);
	memcpy(out, fx.buf, s0);
	memcpy(out + s0, fx.buf + s1, s2 - s1);
	memcpy(out + s0 + (s2 - s1), fx.buf + s0, s1 - s0);
	memcpy(out + s2, fx.buf + s2, fx.len - s2);
	free(fx.buf);
	fx.buf = out;
	store(&fx, "swapped.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ECORRUPT);
	assert_non_null(strstr(msg, "out of order"));
	free(f.index);
	free(fx.buf);
}

static void
test_foreign_files(void **state)
{
	struct fixture fx;
	char msg[PGA_ERR_MSG_MAX];
	const char text[] = "just some text\n";
	size_t cap = ZSTD_compressBound(sizeof(text));

	(void)state;
	/* a plain zstd file is not a segment */
	fx.buf = malloc(cap);
	fx.len = ZSTD_compress(fx.buf, cap, text, sizeof(text), 3);
	store(&fx, "plain.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_EFORMAT);
	assert_non_null(strstr(msg, "not a pga segment"));
	free(fx.buf);
	/* another tool's skippable frame first */
	make_segment(&fx, "f.pga.zst", 1, NULL, 1, 1);
	load(&fx);
	fx.buf[0] = 0x5E;
	store(&fx, "foreign.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_EFORMAT);
	/* our magic but not our payload tag */
	fx.buf[0] = 0x50;
	memcpy(fx.buf + 8, "XXXX", 4);
	store(&fx, "tag.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_EFORMAT);
	free(fx.buf);
	/* empty file */
	fx.buf = NULL;
	store(&fx, "empty.pga.zst", 0);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ETRUNC);
}

static void
test_trailing_garbage(void **state)
{
	struct fixture fx;
	char msg[PGA_ERR_MSG_MAX];

	(void)state;
	make_segment(&fx, "g.pga.zst", 1, NULL, 1, 3);
	load(&fx);
	fx.buf = realloc(fx.buf, fx.len + 4);
	memcpy(fx.buf + fx.len, "junk", 4);
	store(&fx, "garbage.pga.zst", fx.len + 4);
	assert_true(verify_code(fx.path, msg, sizeof(msg)) < 0);
	free(fx.buf);
}

static void
test_chain(void **state)
{
	struct fixture a, b, c, d;
	struct pga_err err = {0};
	uint8_t wrong[PGA_SHA256_LEN] = {1};

	(void)state;
	make_segment(&a, "ch1.pga.zst", 1, NULL, 1, 2);
	make_segment(&b, "ch2.pga.zst", 2, a.info.file_sha256, 1, 2);
	make_segment(&c, "ch3.pga.zst", 3, wrong, 1, 2);
	make_segment(&d, "ch1b.pga.zst", 1, NULL, 1, 2);
	assert_int_equal(seg_check_chain(&a.info, &b.info, "b", &err), 0);
	assert_int_equal(seg_check_chain(&b.info, &c.info, "c", &err), PGA_ECHAIN);
	assert_non_null(strstr(err.msg, "chain broken"));
	assert_int_equal(seg_check_chain(&b.info, &d.info, "d", &err), PGA_ECHAIN);
	/* a gap is not a broken chain: the hash is only known for seq - 1 */
	assert_int_equal(seg_check_chain(&a.info, &c.info, "c", &err), 0);
	strcpy(d.info.header.collector, "other");
	assert_int_equal(seg_check_chain(&a.info, &d.info, "d", &err), 1);
}

static void
test_version_and_flags(void **state)
{
	struct fixture fx;
	char msg[PGA_ERR_MSG_MAX];
	uint32_t crc;

	(void)state;
	make_segment(&fx, "v.pga.zst", 1, NULL, 1, 1);
	load(&fx);
	/* header payload starts at 8: tag, major(2), minor(2), flags(4) */
	uint32_t plen = fx.buf[4] | fx.buf[5] << 8 | fx.buf[6] << 16 | (uint32_t)fx.buf[7] << 24;

	fx.buf[12] = 2;	/* major 2 */
	crc = pga_crc32c(0, fx.buf + 8, plen - 4);
	memcpy(fx.buf + 8 + plen - 4, &crc, 4);
	store(&fx, "v2.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_EVERSION);
	fx.buf[12] = 1;
	/* encrypted without an envelope: no recipient to decrypt for */
	fx.buf[16] = SEG_FLAG_ENCRYPTED;
	crc = pga_crc32c(0, fx.buf + 8, plen - 4);
	memcpy(fx.buf + 8 + plen - 4, &crc, 4);
	store(&fx, "enc.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ECORRUPT);
	assert_non_null(strstr(msg, "says encrypted but names no recipient"));
	fx.buf[16] = 0x4;	/* a flag this version does not know */
	crc = pga_crc32c(0, fx.buf + 8, plen - 4);
	memcpy(fx.buf + 8 + plen - 4, &crc, 4);
	store(&fx, "flag4.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_EVERSION);
	free(fx.buf);
}

static void
test_abort_rewinds(void **state)
{
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .seq = 7, .created_us = 1};
	struct seg_block_meta m = {.ncols = 3, .cols = cols3};
	struct seg_writer *w = NULL;
	struct pga_err err = {0};
	struct seg_info info;
	char part[512], final[512];
	uint8_t sha[PGA_SHA256_LEN];

	(void)state;
	strcpy(h.collector, "unit");
	strcpy(m.metric, "kept");
	snprintf(part, sizeof(part), "%s/abort.part", tmpdir);
	snprintf(final, sizeof(final), "%s/abort.pga.zst", tmpdir);
	assert_int_equal(seg_writer_create(&w, part, &h, &err), 0);
	assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
	assert_int_equal(seg_writer_data(w, "garbage", 7, &err), 0);
	assert_int_equal(seg_writer_block_abort(w, &err), 0);
	assert_int_equal(seg_writer_nblocks(w), 0);
	/* an empty frame is a valid data frame */
	{
		uint8_t frame[64];
		size_t n = ZSTD_compress(frame, sizeof(frame), "", 0, 1);

		assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
		assert_int_equal(seg_writer_data(w, frame, n, &err), 0);
		assert_int_equal(seg_writer_block_end(w, 0, 0, &err), 0);
	}
	assert_int_equal(seg_writer_seal(w, 0, 0, final, sha, &err), 0);
	seg_writer_free(w, false);
	assert_int_equal(seg_verify_file(final, &info, &err), 0);
	assert_int_equal(info.nblocks, 1);
	assert_int_equal(info.rows, 0);
}

static void
test_recover_torn_tail(void **state)
{
	struct fixture fx;
	struct seg_writer *w = NULL;
	struct pga_err err = {0};
	struct seg_info info;
	char part[600], final[600];
	uint8_t sha[PGA_SHA256_LEN];
	uint64_t torn;
	struct seg_header h;
	struct seg_footer f;

	(void)state;
	make_segment(&fx, "rec.pga.zst", 1, NULL, 3, 30);
	assert_int_equal(seg_read_footer_file(fx.path, &h, &f, &err), 0);
	load(&fx);
	/* cut in the middle of block 2: blocks 0 and 1 survive */
	snprintf(part, sizeof(part), "%s/rec.part", tmpdir);
	strcpy(fx.path, part);
	{
		FILE *o = fopen(part, "wb");
		size_t keep = (size_t)f.index[2].offset + 20;

		fwrite(fx.buf, 1, keep, o);
		fclose(o);
		assert_int_equal(seg_writer_recover(&w, part, &torn, &err), 0);
		assert_int_equal(torn, keep - f.index[2].offset);
	}
	snprintf(final, sizeof(final), "%s/recovered.pga.zst", tmpdir);
	assert_int_equal(seg_writer_seal(w, SEG_FOOTER_RECOVERED, torn, final, sha, &err), 0);
	seg_writer_free(w, false);
	assert_int_equal(seg_verify_file(final, &info, &err), 0);
	assert_int_equal(info.nblocks, 2);
	assert_int_equal(info.rows, 60);
	assert_true(info.flags & SEG_FOOTER_RECOVERED);
	assert_int_equal(info.torn_bytes, torn);
	/* a part with only a header holds nothing to keep */
	{
		FILE *o = fopen(part, "wb");

		fwrite(fx.buf, 1, (size_t)f.index[0].offset + 5, o);
		fclose(o);
		assert_int_equal(seg_writer_recover(&w, part, &torn, &err), PGA_ENOTFOUND);
	}
	free(f.index);
	free(fx.buf);
}

static void
test_names(void **state)
{
	char name[SEG_NAME_MAX], coll[65];
	uint64_t seq;
	int64_t t, when = 0;
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(pga_parse_time("2026-11-25T21:34:07Z", 0, &when, &err), 0);
	assert_int_equal(seg_name_format(name, sizeof(name), "db-site-3", 0x2a1, when, &err), 0);
	assert_string_equal(name, "db-site-3/2026/11/25/00000000000002a1-20261125T213407Z.pga.zst");
	assert_int_equal(seg_name_parse(name, coll, sizeof(coll), &seq, &t), 0);
	assert_string_equal(coll, "db-site-3");
	assert_int_equal(seq, 0x2a1);
	assert_int_equal(t, when);
	assert_int_equal(seg_name_parse("/spool/ready/db-site-3/2026/11/25/00000000000002a1-20261125T213407Z.pga.zst",
					coll, sizeof(coll), &seq, &t), 0);
	/* date directories must agree with the timestamp */
	assert_int_equal(seg_name_parse("c/2026/11/26/00000000000002a1-20261125T213407Z.pga.zst",
					NULL, 0, NULL, NULL), -1);
	assert_int_equal(seg_name_parse("c/2026/11/25/00000000000002A1-20261125T213407Z.pga.zst",
					NULL, 0, NULL, NULL), -1);
	assert_int_equal(seg_name_parse("2026/11/25/00000000000002a1-20261125T213407Z.pga.zst",
					NULL, 0, NULL, NULL), -1);
	assert_int_equal(seg_name_parse("c/2026/11/25/00000000000002a1-20261125T213407Z.zst",
					NULL, 0, NULL, NULL), -1);
	assert_true(seg_metric_valid("pg_stat_database"));
	assert_false(seg_metric_valid("Pg"));
	assert_false(seg_metric_valid("a;drop"));
	assert_false(seg_metric_valid("1abc"));
	assert_true(seg_column_valid("Col_1"));
	assert_false(seg_column_valid("a b"));
}

/* seg_name_check: the one home of "name and header agree". */
static void
test_name_check(void **state)
{
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .seq = 0x2a1};
	struct pga_err err = {0};
	const char *good = "db-site-3/2026/11/25/00000000000002a1-20261125T213407Z.pga.zst";
	static const char *const wrong[] = {
		"db-site-4/2026/11/25/00000000000002a1-20261125T213407Z.pga.zst",	/* collector */
		"db-site-3/2026/11/25/00000000000002a2-20261125T213407Z.pga.zst",	/* seq */
		"db-site-3/2026/11/25/00000000000002a1-20261125T213408Z.pga.zst",	/* second */
		"db-site-3/2026/11/25/00000000000002a1-20261125T223407Z.pga.zst",	/* hour */
		"db-site-3/2026/11/24/00000000000002a1-20261124T213407Z.pga.zst",	/* day */
		"/x/db-site-3/2026/11/25/00000000000012a1-20261125T213407Z.pga.zst",	/* a path */
	};

	(void)state;
	strcpy(h.collector, "db-site-3");
	assert_int_equal(pga_parse_time("2026-11-25T21:34:07.654321Z", 0, &h.created_us, &err), 0);
	assert_int_equal(seg_name_check(good, &h, &err), 0);
	assert_int_equal(seg_name_check("/spool/ready/db-site-3/2026/11/25/00000000000002a1-20261125T213407Z.pga.zst",
					&h, &err), 0);
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		assert_int_equal(seg_name_check(wrong[i], &h, &err), PGA_ECORRUPT);
		assert_non_null(strstr(err.msg, "name does not match its header"));
		assert_non_null(strstr(err.msg, good));		/* says what it should be */
	}
	/* names that claim nothing are not checked */
	assert_int_equal(seg_name_check("/proc/self/fd/5", &h, &err), 0);
	assert_int_equal(seg_name_check("tmp/db-site-3.673.part", &h, &err), 0);
	assert_int_equal(seg_name_check("x.pga.zst", &h, &err), 0);
	/* a header time no name can hold */
	h.created_us = -1;
	assert_int_equal(seg_name_check(good, &h, &err), PGA_ECORRUPT);
	h.created_us = INT64_MAX;
	assert_int_equal(seg_name_check(good, &h, &err), PGA_ECORRUPT);
	/* every reader applies it: a segment file under a name its header denies */
	{
		struct fixture fx = {0};
		char name[SEG_NAME_MAX], gpath[700], bpath[700];
		struct seg_info info;
		struct seg_reader *r = NULL;

		make_segment(&fx, "nc.pga.zst", 7, NULL, 1, 2);
		assert_int_equal(seg_name_format(name, sizeof(name), "unit", 7,
						 1764100000000000LL, &err), 0);
		snprintf(gpath, sizeof(gpath), "%s/%s", tmpdir, name);
		assert_int_equal(seg_name_format(name, sizeof(name), "unit", 6,
						 1764100000000000LL, &err), 0);
		snprintf(bpath, sizeof(bpath), "%s/%s", tmpdir, name);
		assert_int_equal(pga_mkdir_parent(gpath, 0750, &err), 0);
		assert_int_equal(rename(fx.path, gpath), 0);
		assert_int_equal(seg_verify_file(gpath, &info, &err), 0);
		assert_int_equal(seg_peek_file(gpath, &info, &err), 0);
		assert_int_equal(rename(gpath, bpath), 0);
		assert_int_equal(seg_verify_file(bpath, &info, &err), PGA_ECORRUPT);
		assert_int_equal(seg_peek_file(bpath, &info, &err), PGA_ECORRUPT);
		assert_int_equal(seg_reader_open_file(&r, bpath, &err), PGA_ECORRUPT);
		assert_null(r);
		unlink(bpath);
		free(fx.buf);
	}
}

/* FORMAT.md "Strings": what readers accept and writers may write. */
static void
test_strings(void **state)
{
	static const char *const ids_ok[] = {"a", "db-site-3", "A.b_c-d", "9", "_x", NULL};
	static const char *const ids_bad[] = {"", ".", "..", "../../x", "-x", ".hidden", "a b",
					      "a/b", "\x1b[31mred", "caf\xc3\xa9", "a\tb", NULL};
	static const char *const text_bad[] = {"a\nb", "a\x1b" "b", "\x7f", "a\xc2\x9b",
					       "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
					       "\xe2\x82", NULL};
	char long_id[70], out[64];

	(void)state;
	for (const char *const *p = ids_ok; *p; p++)
		assert_true(seg_collector_valid(*p));
	for (const char *const *p = ids_bad; *p; p++)
		assert_false(seg_collector_valid(*p));
	/* every id the configuration accepts is one a segment may carry */
	for (const char *const *p = ids_ok; *p; p++)
		assert_true(pga_name_valid(*p));
	for (const char *const *p = ids_bad; *p; p++)
		assert_int_equal(pga_name_valid(*p), seg_collector_valid(*p));
	memset(long_id, 'a', 64);
	long_id[64] = '\0';
	assert_true(seg_collector_valid(long_id));
	long_id[64] = 'a';
	long_id[65] = '\0';
	assert_false(seg_collector_valid(long_id));
	assert_true(seg_text_valid(""));
	assert_true(seg_text_valid("host-1.example.org"));
	assert_true(seg_text_valid("caf\xc3\xa9 \xe6\xbc\xa2 \xf0\x9f\x90\x98"));
	for (const char *const *p = text_bad; *p; p++)
		assert_false(seg_text_valid(*p));
	assert_true(seg_utf8_valid("a\nb\t\xc3\xa9", 6));
	assert_false(seg_utf8_valid("a\0b", 3));
	assert_string_equal(utf8_text("a\x1b[1m\xff\xc3\xa9", out, sizeof(out)), "a\\x1b[1m\\xff\xc3\xa9");
	assert_string_equal(utf8_text("abcdefghijklmnop", out, 10), "abcdef...");
	/* a cut never splits an escape or a character */
	assert_string_equal(utf8_text("ab\x1b\x1b", out, 9), "ab...");
	assert_string_equal(utf8_text("ab\x1b\x1b", out, 10), "ab\\x1b...");
	assert_string_equal(utf8_text("abc\xc3\xa9\xc3\xa9xyz", out, 10), "abc\xc3\xa9...");
	assert_string_equal(utf8_text("abcdef", out, 7), "abcdef");
	/* columns: the loader's and put's one rule */
	assert_true(seg_column_valid("Col_1"));
	assert_true(seg_column_valid("_x"));
	assert_true(seg_column_valid("xmin_age"));
	assert_false(seg_column_valid("a b"));
	assert_false(seg_column_valid(""));
	assert_false(seg_column_valid("1a"));
	for (const char *const *p = (const char *const[]){"ctid", "xmin", "xmax", "cmin", "cmax",
		"tableoid", "collector_id", "server_id", "snapshot_time", "dbname", NULL}; *p; p++)
		assert_false(seg_column_valid(*p));
	assert_true(seg_metric_reserved("segments"));
	assert_true(seg_metric_reserved("x_delta"));
	assert_true(seg_metric_reserved("x_series"));
	assert_true(seg_metric_reserved("x_p20260101"));
	assert_false(seg_metric_reserved("x_p2026010"));
	assert_false(seg_metric_reserved("pg_stat_database"));
}

/*
 * The loader keeps its own list of reserved metric names (load/schema.c);
 * put's comes from spool/.  Until the loader uses seg_metric_reserved(),
 * they must agree on every name.
 */
static void
test_reserved_agrees_with_loader(void **state)
{
	static const char *const names[] = {
		"schema_version", "collectors", "servers", "segments", "segment_windows",
		"quarantine", "catalog_applied", "metrics", "gaps", "chain_breaks", "a_delta",
		"a_series", "a_p20260101", "p20260101", "a_p2026010x", "a_deltas", "delta",
		"pg_stat_database", "custom", "segmentsx", "x_segments", NULL,
	};

	(void)state;
	for (const char *const *n = names; *n; n++)
		if (seg_metric_reserved(*n) != ld_metric_reserved(*n))
			fail_msg("'%s': spool says %d, the loader %d", *n, seg_metric_reserved(*n),
				 ld_metric_reserved(*n));
}

/* A writer refuses what a reader would refuse, and the reader refuses it. */
static void
test_header_strings(void **state)
{
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .seq = 1, .created_us = 1};
	struct seg_writer *w = NULL;
	struct pga_err err = {0};
	struct pbuf b = {0};
	struct seg_header out;
	char part[600];

	(void)state;
	strcpy(h.collector, "../../x");
	strcpy(h.hostname, "h");
	strcpy(h.writer, "w");
	snprintf(part, sizeof(part), "%s/bad.part", tmpdir);
	assert_int_equal(seg_writer_create(&w, part, &h, &err), PGA_EINVAL);
	assert_null(w);
	assert_int_equal(access(part, F_OK), -1);	/* nothing created */
	seg_encode_header(&b, &h);
	assert_int_equal(seg_decode_header(b.p, b.len, &out, "x", &err), PGA_ECORRUPT);
	assert_non_null(strstr(err.msg, "invalid collector id '../../x'"));
	pbuf_free(&b);
	strcpy(h.collector, "ok");
	strcpy(h.hostname, "a\x1b]0;t\x07");
	assert_int_equal(seg_writer_create(&w, part, &h, &err), PGA_EINVAL);
	seg_encode_header(&b, &h);
	assert_int_equal(seg_decode_header(b.p, b.len, &out, "x", &err), PGA_ECORRUPT);
	assert_null(strchr(err.msg, '\x1b'));	/* printed escaped */
	pbuf_free(&b);
	strcpy(h.hostname, "h");
	assert_int_equal(seg_writer_create(&w, part, &h, &err), 0);
	{
		struct seg_block_meta m = {.ncols = 1, .cols = cols3};

		strcpy(m.metric, "m");
		strcpy(m.target, "t\x1b");
		assert_int_equal(seg_writer_block_begin(w, &m, &err), PGA_EINVAL);
		strcpy(m.target, "t");
		m.cols = (const char *[]){"ctid"};
		assert_int_equal(seg_writer_block_begin(w, &m, &err), PGA_EINVAL);
		m.cols = cols3;
		strcpy(m.database, "any \x01 bytes are the server's");
		assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
	}
	seg_writer_free(w, true);
}

/* The CSV put must refuse: checked fed whole and one byte at a time. */
static void
test_csv_check(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		uint16_t ncols;
		bool ok;
	} cases[] = {
		{"1,a\n2,b\n", 8, 2, true},
		{"1,a\n2,b", 7, 2, true},		/* no final newline */
		{"", 0, 2, true},
		{"1,\"a,b\"\n", 8, 2, true},
		{"1,\"a\nb\"\n", 8, 2, true},
		{"1,\"a\"\"b\"\n", 9, 2, true},
		{"1,\xe2\x82\xac\n", 6, 2, true},
		{"\n", 1, 1, true},			/* one NULL */
		{"1,a,b\n", 6, 2, false},
		{"1\n", 2, 2, false},
		{"1,a\n\n", 5, 2, false},
		{"1,\"a\n", 5, 2, false},		/* unterminated */
		{"1,a\r\n", 5, 2, false},
		{"1,\"a\r\nb\"\n", 9, 2, true},		/* a CR inside quotes is data */
		{"1,a\0\n", 5, 2, false},
		{"1,\xff\n", 4, 2, false},
		{"1,\xe2\x82\n", 5, 2, false},
		{"1,\xe2\x82", 4, 2, false},
		{"1,\xc0\xaf\n", 5, 2, false},
		{"1,\xed\xa0\x80\n", 6, 2, false},
		{"1,\xf4\x90\x80\x80\n", 7, 2, false},
	};
	struct pga_err err = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			struct seg_csv_check c;
			int rc = 0;

			seg_csv_check_init(&c, cases[i].ncols);
			if (bytewise)
				for (size_t k = 0; rc == 0 && k < cases[i].len; k++)
					rc = seg_csv_check_feed(&c, cases[i].in + k, 1, &err);
			else
				rc = seg_csv_check_feed(&c, cases[i].in, cases[i].len, &err);
			if (rc == 0)
				rc = seg_csv_check_end(&c, &err);
			if (cases[i].ok != (rc == 0))
				fail_msg("case %zu (%s): rc %d %s", i, bytewise ? "bytewise" : "whole",
					 rc, err.msg);
		}
	}
}

static void
test_csv_count(void **state)
{
	struct csv_counter c = {0};
	const char *text = "1,\"a\nb\"\n2,\"x\"\"\n\"\n3,plain\n";

	(void)state;
	/* fed one byte at a time, quotes and newlines split across calls */
	for (const char *p = text; *p; p++)
		csv_count(&c, p, 1);
	assert_int_equal(c.rows, 3);
	assert_false(c.in_quotes);
	memset(&c, 0, sizeof(c));
	csv_count(&c, text, strlen(text));
	assert_int_equal(c.rows, 3);
	memset(&c, 0, sizeof(c));
	csv_count(&c, "1,\"open\n", 8);
	assert_int_equal(c.rows, 0);
	assert_true(c.in_quotes);
}

static void
test_crc32c_vectors(void **state)
{
	uint8_t zeros[32] = {0}, ones[32], inc[32], dec[32], big[2048];

	(void)state;
	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++) {
		inc[i] = (uint8_t)i;
		dec[i] = (uint8_t)(31 - i);
	}
	for (int i = 0; i < 2048; i++)
		big[i] = (uint8_t)(3 * i * i + 7 * i + 11);
	/* CRC-32/ISCSI check value and RFC 3720 B.4 vectors */
	assert_int_equal(pga_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(pga_crc32c(0, "", 0), 0);
	assert_int_equal(pga_crc32c(0, "a", 1), 0xC1D04330u);
	assert_int_equal(pga_crc32c(0, zeros, 32), 0x8A9136AAu);
	assert_int_equal(pga_crc32c(0, ones, 32), 0x62A8AB43u);
	assert_int_equal(pga_crc32c(0, inc, 32), 0x46DD794Eu);
	assert_int_equal(pga_crc32c(0, dec, 32), 0x113FDB5Cu);
	assert_int_equal(pga_crc32c(0, big, 2048), 0x36DCC753u);
	assert_int_equal(pga_crc32c_portable(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(pga_crc32c_portable(0, big, 2048), 0x36DCC753u);
	/* chaining pieces gives the same value */
	assert_int_equal(pga_crc32c(pga_crc32c(0, big, 1000), big + 1000, 1048), 0x36DCC753u);
	assert_int_equal(pga_crc32c_portable(pga_crc32c_portable(0, big, 3), big + 3, 2045),
			 0x36DCC753u);
}

/* ---- signed segments ---- */

static struct pga_pubkey *g_pub, *g_other;

static void
signer_on(void)
{
	static int made;
	char prefix[300], path[320];
	uint8_t id[PGA_SIGN_KEYID_LEN];
	struct pga_err err = {0};

	if (g_signer != NULL)
		return;
	for (int i = 0; i < 2; i++) {
		snprintf(prefix, sizeof(prefix), "%s/key%d", tmpdir, made++);
		assert_int_equal(pga_sign_keygen(prefix, id, &err), 0);
		snprintf(path, sizeof(path), "%s.pub", prefix);
		assert_int_equal(pga_pubkey_load(i ? &g_other : &g_pub, path, &err), 0);
		if (i == 0) {
			assert_memory_equal(id, pga_pubkey_id(g_pub), PGA_SIGN_KEYID_LEN);
			snprintf(path, sizeof(path), "%s.key", prefix);
			assert_int_equal(pga_signkey_load(&g_signer, path, &err), 0);
			assert_memory_equal(id, pga_signkey_id(g_signer), PGA_SIGN_KEYID_LEN);
		}
	}
}

static void
make_signed(struct fixture *fx, const char *name, int nblocks, int rows)
{
	signer_on();
	make_segment(fx, name, 1, NULL, nblocks, rows);
	pga_signkey_free(g_signer);	/* the writer does not own it; next test loads again */
	g_signer = NULL;
	pga_pubkey_free(g_other);
	g_other = NULL;
	pga_pubkey_free(g_pub);
	g_pub = NULL;
}

static void
test_signed_round_trip(void **state)
{
	struct fixture fx;
	struct seg_info peek;
	struct seg_header h;
	struct seg_footer f;
	struct pga_err err = {0};
	struct pga_pubkey *pub;

	(void)state;
	signer_on();
	pub = g_pub;
	g_pub = NULL;
	assert_int_equal(pga_pubkey_load(&g_pub, "/nonexistent", &err), PGA_ENOTFOUND);
	{
		struct pga_pubkey *other = g_other;

		g_other = NULL;
		make_segment(&fx, "signed.pga.zst", 1, NULL, 3, 10);
		assert_true(fx.info.is_signed);
		assert_true(fx.info.header.flags & SEG_FLAG_SIGNED);
		assert_memory_equal(fx.info.sig.key_id, pga_pubkey_id(pub), PGA_SIGN_KEYID_LEN);
		assert_int_equal(seg_signature_check(&fx.info, pub, "s", &err), 0);
		assert_int_equal(seg_signature_check(&fx.info, other, "s", &err), PGA_EPERM);
		assert_non_null(strstr(err.msg, "not by key"));
		/* the right key id but another message: a bad signature */
		fx.info.footer_sha256[0] ^= 1;
		assert_int_equal(seg_signature_check(&fx.info, pub, "s", &err), PGA_ECHECKSUM);
		pga_pubkey_free(other);
	}
	/* listings read a signed segment from its end */
	assert_int_equal(seg_peek_file(fx.path, &peek, &err), 0);
	assert_int_equal(peek.nblocks, 3);
	assert_int_equal(seg_read_footer_file(fx.path, &h, &f, &err), 0);
	assert_int_equal(f.nblocks, 3);
	free(f.index);
	pga_pubkey_free(pub);
	pga_signkey_free(g_signer);
	g_signer = NULL;
}

static void
test_signed_damage(void **state)
{
	struct fixture fx;
	char msg[PGA_ERR_MSG_MAX];
	size_t len;

	(void)state;
	make_signed(&fx, "sd.pga.zst", 2, 5);
	load(&fx);
	len = fx.len;
	for (size_t off = 0; off < len; off++) {	/* every byte, the signature's too */
		fx.buf[off] ^= 0x04;
		store(&fx, "sdf.pga.zst", len);
		if (verify_code(fx.path, NULL, 0) == 0)
			fail_msg("bit flip at offset %zu of a signed segment went undetected", off);
		fx.buf[off] ^= 0x04;
	}
	for (size_t cut = 0; cut < len; cut += 3) {
		store(&fx, "sdc.pga.zst", cut);
		assert_true(verify_code(fx.path, NULL, 0) < 0);
	}
	/* the signature frame cut off whole */
	store(&fx, "sdn.pga.zst", len - 124);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ETRUNC);
	assert_non_null(strstr(msg, "says signed but no signature follows"));
	{
		struct seg_info info;
		struct pga_err err = {0};

		assert_true(seg_peek_file(fx.path, &info, &err) < 0);
	}
	/* a second signature frame after the first */
	fx.buf = realloc(fx.buf, len + 124);
	memcpy(fx.buf + len, fx.buf + len - 124, 124);
	store(&fx, "sd2.pga.zst", len + 124);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ECORRUPT);
	assert_non_null(strstr(msg, "data after the footer"));
	free(fx.buf);
}

static void
test_signature_on_unsigned(void **state)
{
	struct fixture fx, sg;
	char msg[PGA_ERR_MSG_MAX];

	(void)state;
	make_signed(&sg, "src.pga.zst", 1, 1);
	load(&sg);
	make_segment(&fx, "uns.pga.zst", 1, NULL, 1, 1);
	load(&fx);
	/* an unsigned segment with a signature frame glued on */
	fx.buf = realloc(fx.buf, fx.len + 124);
	memcpy(fx.buf + fx.len, sg.buf + sg.len - 124, 124);
	store(&fx, "glued.pga.zst", fx.len + 124);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ECORRUPT);
	assert_non_null(strstr(msg, "data after the footer"));
	free(fx.buf);
	free(sg.buf);
}

static void
test_signed_needs_key(void **state)
{
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .seq = 1, .flags = SEG_FLAG_SIGNED,
			       .created_us = 1764100000000000LL};
	struct seg_block_meta m = {.snapshot_us = 1, .ncols = 3, .cols = cols3};
	struct seg_writer *w = NULL;
	struct pga_err err = {0};
	uint8_t sha[PGA_SHA256_LEN];
	char part[300], fin[300];

	(void)state;
	strcpy(h.collector, "unit");
	strcpy(m.metric, "m");
	snprintf(part, sizeof(part), "%s/nokey.part", tmpdir);
	snprintf(fin, sizeof(fin), "%s/nokey.pga.zst", tmpdir);
	assert_int_equal(seg_writer_create(&w, part, &h, &err), 0);
	assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
	assert_int_equal(seg_writer_block_end(w, 0, 0, &err), 0);
	assert_int_equal(seg_writer_seal(w, 0, 0, fin, sha, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "begun signed"));
	assert_int_equal(access(fin, F_OK), -1);
	seg_writer_free(w, true);
}

static void
test_key_files(void **state)
{
	struct pga_signkey *k = NULL;
	struct pga_err err = {0};
	uint8_t id[PGA_SIGN_KEYID_LEN];
	char prefix[300], path[320];

	(void)state;
	snprintf(prefix, sizeof(prefix), "%s/kf", tmpdir);
	assert_int_equal(pga_sign_keygen(prefix, id, &err), 0);
	assert_int_equal(pga_sign_keygen(prefix, id, &err), PGA_ECONFLICT);
	snprintf(path, sizeof(path), "%s.key", prefix);
	for (unsigned mode = 0; mode < 0100; mode++) {	/* any group or other bit */
		chmod(path, 0600 | mode);
		assert_int_equal(pga_signkey_load(&k, path, &err), mode ? PGA_EPERM : 0);
		pga_signkey_free(k);
		k = NULL;
	}
	chmod(path, 0400);
	assert_int_equal(pga_signkey_load(&k, path, &err), 0);
	pga_signkey_free(k);
	snprintf(path, sizeof(path), "%s.pub", prefix);
	chmod(path, 0600);
	assert_int_equal(pga_signkey_load(&k, path, &err), PGA_EINVAL);
	assert_int_equal(pga_pubkey_parse((struct pga_pubkey **)&k, "junk", 4, "x", &err),
			 PGA_EINVAL);
}

/* ---- column descriptors (format minor 1) ---- */

static const struct seg_col_desc desc3[] = {
	{"bigint", SEG_ROLE_KEY}, {"text", SEG_ROLE_INFO}, {"double precision", SEG_ROLE_COUNTER},
};

static void
encode_meta(struct pbuf *b, const struct seg_block_meta *m, uint16_t minor)
{
	memset(b, 0, sizeof(*b));
	seg_encode_block(b, m, minor);
	assert_false(b->oom);
}

/* Re-CRC a payload after a test changed its bytes. */
static void
recrc(struct pbuf *b)
{
	b->len -= 4;
	pbuf_crc(b);
}

struct decoded {
	struct seg_block_meta m;
	char colbuf[SEG_MAX_COLS * 96];
	const char *cols[SEG_MAX_COLS];
	struct seg_col_desc desc[SEG_MAX_COLS];
};

static int
decode_meta(const struct pbuf *b, uint16_t minor, struct decoded *d, struct pga_err *err)
{
	memset(d, 0, sizeof(*d));
	return seg_decode_block(b->p, b->len, minor, &d->m, d->colbuf, sizeof(d->colbuf), d->cols,
				d->desc, "x.seg", err);
}

static void
test_desc_round_trip(void **state)
{
	static struct decoded d;
	struct seg_block_meta m = {.ncols = 3, .cols = cols3, .desc = desc3,
				   .flags = SEG_BLOCK_PER_DATABASE};
	struct pga_err err = {0};
	struct pbuf b;

	(void)state;
	strcpy(m.metric, "described");
	encode_meta(&b, &m, SEG_FORMAT_MINOR);
	assert_int_equal(decode_meta(&b, SEG_FORMAT_MINOR, &d, &err), 0);
	assert_non_null(d.m.desc);
	assert_int_equal(d.m.flags, SEG_BLOCK_PER_DATABASE);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(d.m.cols[i], cols3[i]);
		assert_string_equal(d.m.desc[i].type, desc3[i].type);
		assert_int_equal(d.m.desc[i].role, desc3[i].role);
	}
	pbuf_free(&b);
	/* no descriptors: written as none, read as NULL */
	m.desc = NULL;
	encode_meta(&b, &m, SEG_FORMAT_MINOR);
	assert_int_equal(decode_meta(&b, SEG_FORMAT_MINOR, &d, &err), 0);
	assert_null(d.m.desc);
	pbuf_free(&b);
	/* minor 0 writes none of it, and reads exactly that */
	m.desc = desc3;
	encode_meta(&b, &m, 0);
	assert_int_equal(decode_meta(&b, 0, &d, &err), 0);
	assert_null(d.m.desc);
	assert_int_equal(d.m.flags, 0);
	/* bytes after a minor-0 block header's columns are refused in minor 0 */
	pbuf_free(&b);
	encode_meta(&b, &m, 1);
	assert_int_equal(decode_meta(&b, 0, &d, &err), PGA_ECORRUPT);
	assert_non_null(strstr(err.msg, "malformed block header"));
	pbuf_free(&b);
}

/* FORMAT.md: a higher minor appends fields before the CRC; readers skip them. */
static void
test_desc_newer_minor(void **state)
{
	static struct decoded d;
	struct seg_col_desc future[3] = {desc3[0], desc3[1], {"bigint", 7}};
	struct seg_block_meta m = {.ncols = 3, .cols = cols3, .desc = desc3};
	struct pga_err err = {0};
	const uint8_t tail[] = {1, 2, 3, 4, 5};
	struct pbuf b;

	(void)state;
	strcpy(m.metric, "described");
	encode_meta(&b, &m, SEG_FORMAT_MINOR);
	b.len -= 4;
	pbuf_bytes(&b, tail, sizeof(tail));
	pbuf_crc(&b);
	assert_int_equal(decode_meta(&b, SEG_FORMAT_MINOR + 1, &d, &err), 0);
	assert_string_equal(d.m.desc[2].type, "double precision");
	/* in a minor this pga knows, trailing bytes are damage */
	assert_int_equal(decode_meta(&b, SEG_FORMAT_MINOR, &d, &err), PGA_ECORRUPT);
	pbuf_free(&b);
	/* a role a newer minor added reads as info; in a known minor it is corrupt */
	m.desc = future;
	encode_meta(&b, &m, SEG_FORMAT_MINOR);
	assert_int_equal(decode_meta(&b, SEG_FORMAT_MINOR + 1, &d, &err), 0);
	assert_int_equal(d.m.desc[2].role, SEG_ROLE_INFO);
	assert_int_equal(decode_meta(&b, SEG_FORMAT_MINOR, &d, &err), PGA_ECORRUPT);
	assert_non_null(strstr(err.msg, "column 'value': unknown role 7"));
	pbuf_free(&b);
	/* the segment header: the same rule */
	{
		struct seg_header h = {.major = 1, .minor = SEG_FORMAT_MINOR + 1, .seq = 1};
		struct seg_header got;

		strcpy(h.collector, "c");
		memset(&b, 0, sizeof(b));
		seg_encode_header(&b, &h);
		b.len -= 4;
		pbuf_bytes(&b, tail, sizeof(tail));
		pbuf_crc(&b);
		assert_int_equal(seg_decode_header(b.p, b.len, &got, "x.seg", &err), 0);
		h.minor = SEG_FORMAT_MINOR;
		pbuf_free(&b);
		seg_encode_header(&b, &h);
		b.len -= 4;
		pbuf_bytes(&b, tail, sizeof(tail));
		pbuf_crc(&b);
		assert_int_equal(seg_decode_header(b.p, b.len, &got, "x.seg", &err), PGA_ECORRUPT);
		pbuf_free(&b);
	}
}

/* A descriptor a writer would refuse, forced into the bytes. */
static int
decode_hostile(const char *type, uint8_t role, struct pga_err *err)
{
	static struct decoded d;
	struct seg_col_desc hd[3] = {desc3[0], {type, role}, desc3[2]};
	struct seg_block_meta m = {.ncols = 3, .cols = cols3, .desc = hd};
	struct pbuf b;
	int rc;

	strcpy(m.metric, "hostile");
	encode_meta(&b, &m, SEG_FORMAT_MINOR);
	rc = decode_meta(&b, SEG_FORMAT_MINOR, &d, err);
	pbuf_free(&b);
	return rc;
}

static void
test_desc_hostile(void **state)
{
	static const char *const bad[] = {
		"bigint; DROP TABLE x", "text); DROP TABLE x; --", "BIGINT", "bigint ", " bigint",
		"bigint[][]", "[]", "", "numeric(10,2)", "character varying", "int8", "text\n",
		"bigint\"", "timestamptz[ ]", "regclass", "pg_catalog.text", NULL,
	};
	static const char *const good[] = {
		"bigint", "integer", "smallint", "numeric", "real", "double precision", "boolean",
		"text", "timestamptz", "date", "interval", "oid", "pg_lsn", "inet", "jsonb", "bytea",
		"uuid", "integer[]", "text[]", "timestamptz[]", NULL,
	};
	static struct decoded d;
	struct pga_err err = {0};
	char longtype[64];
	struct pbuf b;

	(void)state;
	for (const char *const *t = bad; *t; t++) {
		assert_false(seg_col_type_valid(*t));
		assert_int_equal(decode_hostile(*t, SEG_ROLE_GAUGE, &err), PGA_ECORRUPT);
		assert_non_null(strstr(err.msg, "'x.seg': column 'name': type"));
		assert_null(strchr(err.msg, '\n'));
	}
	for (const char *const *t = good; *t; t++) {
		assert_true(seg_col_type_valid(*t));
		assert_int_equal(decode_hostile(*t, SEG_ROLE_GAUGE, &err), 0);
	}
	/* longer than any type: refused before it is copied */
	memset(longtype, 'a', sizeof(longtype) - 1);
	longtype[sizeof(longtype) - 1] = '\0';
	assert_int_equal(decode_hostile(longtype, SEG_ROLE_GAUGE, &err), PGA_ECORRUPT);
	assert_non_null(strstr(err.msg, "type of 63 bytes (at most 31"));
	for (unsigned r = SEG_ROLE_LAST + 1; r < 256; r += 50)
		assert_int_equal(decode_hostile("bigint", (uint8_t)r, &err), PGA_ECORRUPT);
	/* descriptors for another number of columns than the block has */
	{
		struct seg_block_meta m = {.ncols = 3, .cols = cols3, .desc = desc3};

		strcpy(m.metric, "hostile");
		encode_meta(&b, &m, SEG_FORMAT_MINOR);
		/* the u16 count sits after the names and the flags byte */
		{
			size_t at = b.len - 4 - 3 * 1 - (2 + 6) - (2 + 4) - (2 + 16) - 2;

			assert_int_equal(b.p[at], 3);
			b.p[at] = 2;
			recrc(&b);
			assert_int_equal(decode_meta(&b, SEG_FORMAT_MINOR, &d, &err), PGA_ECORRUPT);
			b.p[at] = 4;
			recrc(&b);
			assert_int_equal(decode_meta(&b, SEG_FORMAT_MINOR, &d, &err), PGA_ECORRUPT);
			assert_non_null(strstr(err.msg, "4 column descriptors for 3 columns"));
			/* an unknown block flag */
			b.p[at] = 3;
			b.p[at - 1] = 0x80;
			recrc(&b);
			assert_int_equal(decode_meta(&b, SEG_FORMAT_MINOR, &d, &err), PGA_ECORRUPT);
			assert_non_null(strstr(err.msg, "unknown block flags"));
		}
		pbuf_free(&b);
	}
	/* every cut of a described block header fails cleanly */
	{
		struct seg_block_meta m = {.ncols = 3, .cols = cols3, .desc = desc3};

		strcpy(m.metric, "cut");
		encode_meta(&b, &m, SEG_FORMAT_MINOR);
		for (size_t n = 8; n < b.len - 4; n++) {	/* b.len - 4: the whole payload */
			struct pbuf c = {0};

			pbuf_bytes(&c, b.p, n);
			pbuf_crc(&c);
			assert_int_not_equal(decode_meta(&c, SEG_FORMAT_MINOR, &d, &err), 0);
			pbuf_free(&c);
		}
		pbuf_free(&b);
	}
}

/* The writer refuses what the reader would: a bad type, an unknown role. */
static void
test_desc_writer_refuses(void **state)
{
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .minor = SEG_FORMAT_MINOR, .seq = 9,
			       .created_us = 1};
	struct seg_col_desc bad[3] = {desc3[0], {"bigint; DROP TABLE x", 0}, desc3[2]};
	struct seg_block_meta m = {.ncols = 3, .cols = cols3, .desc = bad};
	struct seg_writer *w = NULL;
	struct pga_err err = {0};
	char part[512];

	(void)state;
	strcpy(h.collector, "unit");
	strcpy(m.metric, "refused");
	snprintf(part, sizeof(part), "%s/desc.part", tmpdir);
	assert_int_equal(seg_writer_create(&w, part, &h, &err), 0);
	assert_int_equal(seg_writer_block_begin(w, &m, &err), PGA_EINVAL);
	assert_non_null(strstr(err.msg, "type 'bigint; DROP TABLE x' is not one pga loads"));
	bad[1].type = "text";
	bad[1].role = 5;
	assert_int_equal(seg_writer_block_begin(w, &m, &err), PGA_EINVAL);
	bad[1].role = SEG_ROLE_RESET;
	assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
	seg_writer_free(w, true);
}

/* ---- encrypted segments (FORMAT.md "Encryption") ---- */

static struct pga_xkey *x_key[3];
static struct pga_xpub *x_pub[3];

static void
crypt_keys(void)
{
	char prefix[300], path[320];
	uint8_t id[PGA_X_KEYID_LEN];
	struct pga_err err = {0};

	if (x_key[0] != NULL)
		return;
	for (int i = 0; i < 3; i++) {
		snprintf(prefix, sizeof(prefix), "%s/xk%d", tmpdir, i);
		assert_int_equal(pga_x_keygen(prefix, id, &err), 0);
		snprintf(path, sizeof(path), "%s.key", prefix);
		assert_int_equal(pga_xkey_load(&x_key[i], path, &err), 0);
		snprintf(path, sizeof(path), "%s.pub", prefix);
		assert_int_equal(pga_xpub_load(&x_pub[i], path, &err), 0);
	}
}

/* Written to recipients 0 (and 1 when nto is 2), verified without a key. */
static void
make_encrypted(struct fixture *fx, const char *name, size_t nto, int nblocks, int rows)
{
	crypt_keys();
	g_to[0] = x_pub[0];
	g_to[1] = x_pub[1];
	g_nto = nto;
	seg_set_decrypt_keys(NULL, 0);
	make_segment(fx, name, 1, NULL, nblocks, rows);
	g_nto = 0;
}

static void
use_keys(int a, int b)
{
	static const struct pga_xkey *k[2];
	size_t n = 0;

	if (a >= 0)
		k[n++] = x_key[a];
	if (b >= 0)
		k[n++] = x_key[b];
	seg_set_decrypt_keys(k, n);
}

/* Every block's CSV of a segment, concatenated (the key in use). */
static char *
all_csv(const char *path, size_t *len)
{
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	struct pga_err err = {0};
	char *out = NULL, buf[8192];
	size_t got;
	int rc;

	*len = 0;
	assert_int_equal(seg_reader_open_file(&r, path, &err), 0);
	while ((rc = seg_reader_next(r, &m, &err)) == 1) {
		while ((rc = seg_reader_read(r, buf, sizeof(buf), &got, &err)) == 0 && got > 0) {
			out = realloc(out, *len + got);
			memcpy(out + *len, buf, got);
			*len += got;
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(rc, 0);
	seg_reader_free(r);
	return out;
}

static void
test_encrypted_round_trip(void **state)
{
	struct fixture enc, plain;
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	struct pga_err err = {0};
	struct seg_info info;
	char buf[256], msg[PGA_ERR_MSG_MAX];
	size_t got, elen, plen;
	char *ecsv, *pcsv;

	(void)state;
	srand(7);
	make_encrypted(&enc, "enc-rt.pga.zst", 1, 3, 300);
	srand(7);
	make_segment(&plain, "plain-rt.pga.zst", 1, NULL, 3, 300);
	assert_true(seg_header_encrypted(&enc.info.header));
	assert_int_equal(enc.info.header.minor, SEG_MINOR_ENVELOPE);
	assert_int_equal(enc.info.header.nrecip, 1);
	assert_false(enc.info.decrypted);	/* verified without a key */
	assert_int_equal(enc.info.rows, 900);
	/* nothing of the plaintext in the file; zstd sees skippable frames only */
	load(&enc);
	assert_null(memmem(enc.buf, enc.len, "quotes", 6));
	assert_null(memmem(enc.buf, enc.len, "newline", 7));
	assert_int_equal(ZSTD_findDecompressedSize(enc.buf, enc.len), 0);
	free(enc.buf);
	/* without the key the data is refused, skipping still checks it */
	assert_int_equal(seg_reader_open_file(&r, enc.path, &err), 0);
	assert_int_equal(seg_reader_next(r, &m, &err), 1);
	assert_int_equal(seg_reader_read(r, buf, sizeof(buf), &got, &err), PGA_EKEY);
	assert_non_null(strstr(err.msg, "decrypt-key-file"));
	seg_reader_free(r);
	/* with it: the same CSV as the same segment in plaintext */
	use_keys(0, -1);
	assert_int_equal(seg_verify_file(enc.path, &info, &err), 0);
	assert_true(info.decrypted);
	ecsv = all_csv(enc.path, &elen);
	pcsv = all_csv(plain.path, &plen);
	assert_int_equal(elen, plen);
	assert_memory_equal(ecsv, pcsv, elen);
	free(ecsv);
	free(pcsv);
	/* a key that is no recipient: refused, both sides' ids named */
	use_keys(2, -1);
	assert_int_equal(verify_code(enc.path, msg, sizeof(msg)), PGA_EKEY);
	assert_non_null(strstr(msg, "none of them can decrypt it"));
	/* several keys: the one that is a recipient is used */
	use_keys(2, 0);
	assert_int_equal(verify_code(enc.path, msg, sizeof(msg)), 0);
	seg_set_decrypt_keys(NULL, 0);
}

static void
test_encrypted_recipients(void **state)
{
	struct fixture fx;
	char msg[PGA_ERR_MSG_MAX];

	(void)state;
	make_encrypted(&fx, "enc-two.pga.zst", 2, 2, 20);
	assert_int_equal(fx.info.header.nrecip, 2);
	use_keys(1, -1);	/* the second recipient (a rotation, a second site) */
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), 0);
	use_keys(0, -1);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), 0);
	use_keys(2, -1);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_EKEY);
	seg_set_decrypt_keys(NULL, 0);
}

/* The first sealed chunk's ciphertext and flags in a file (or part). */
static void
first_chunk(const char *path, uint8_t ct[64], uint8_t *flags)
{
	struct fixture fx;
	size_t off;

	snprintf(fx.path, sizeof(fx.path), "%s", path);
	load(&fx);
	for (off = 0; off + 8 + 13 + PGA_X_KEYCHECK_LEN + 64 <= fx.len; off++)
		if (memcmp(fx.buf + off, "\x53\x2a\x4d\x18", 4) == 0 &&
		    memcmp(fx.buf + off + 8, "PGAX", 4) == 0)
			break;
	assert_true(off + 8 + 13 + PGA_X_KEYCHECK_LEN + 64 <= fx.len);
	*flags = fx.buf[off + 12];
	memcpy(ct, fx.buf + off + 8 + 5 + PGA_X_KEYCHECK_LEN, 64);
	free(fx.buf);
}

/*
 * A block given up on after some of its chunks reached the disk, then
 * written again under the same block number with the same bytes: the
 * second attempt's nonces are new (the ciphertext differs, the retry
 * number is in the flags), it decrypts, and a writer whose retry numbers
 * are spent says so and refuses another block rather than repeat one.
 */
static void
test_encrypted_retry_nonces(void **state)
{
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .seq = 1, .created_us = 1764100000000000LL};
	struct seg_block_meta m = {.snapshot_us = 1764100000000000LL, .ncols = 3, .cols = cols3};
	const struct pga_xpub *to[1];
	static uint8_t data[WBUF_TEST];
	uint8_t ct1[64], ct2[64], fl1, fl2, sha[PGA_SHA256_LEN];
	struct seg_writer *w = NULL;
	struct seg_encoder *e = NULL;
	struct pga_err err = {0};
	char part[600], fin[600];
	struct seg_info info;
	uint64_t rows, raw;

	(void)state;
	crypt_keys();
	to[0] = x_pub[0];
	strcpy(h.collector, "unit");
	strcpy(m.metric, "retried");
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	snprintf(part, sizeof(part), "%s/retry.part", tmpdir);
	snprintf(fin, sizeof(fin), "%s/retry.pga.zst", tmpdir);
	assert_int_equal(seg_writer_create_to(&w, part, &h, to, 1, &err), 0);
	assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
	assert_int_equal(seg_writer_data(w, data, sizeof(data), &err), 0);
	first_chunk(part, ct1, &fl1);		/* on disk before the abort */
	assert_int_equal(fl1 >> SEG_CHUNK_RETRY_SHIFT, 0);
	assert_int_equal(seg_writer_block_abort(w, &err), 0);
	assert_false(seg_writer_retries_spent(w));
	assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
	assert_int_equal(seg_writer_data(w, data, sizeof(data), &err), 0);
	first_chunk(part, ct2, &fl2);
	assert_int_equal(fl2 >> SEG_CHUNK_RETRY_SHIFT, 1);
	assert_memory_not_equal(ct1, ct2, sizeof(ct1));	/* the same bytes, a new nonce */
	/* given up again; a third attempt with a real frame is sealed and reads back */
	assert_int_equal(seg_writer_block_abort(w, &err), 0);
	assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
	assert_int_equal(seg_encoder_new(&e, 3, 0, &err), 0);
	seg_encoder_begin(e, sink_to_writer, w);
	assert_int_equal(seg_encoder_write(e, "1,a,2.5\n", 8, &err), 0);
	assert_int_equal(seg_encoder_finish(e, &rows, &raw, &err), 0);
	seg_encoder_free(e);
	assert_int_equal(seg_writer_block_end(w, rows, raw, &err), 0);
	assert_int_equal(seg_writer_seal(w, 0, 0, fin, sha, &err), 0);
	use_keys(0, -1);
	assert_int_equal(seg_verify_file(fin, &info, &err), 0);
	assert_int_equal(info.rows, 1);
	first_chunk(fin, ct2, &fl2);
	assert_int_equal(fl2 >> SEG_CHUNK_RETRY_SHIFT, 2);
	seg_set_decrypt_keys(NULL, 0);
	/* retry numbers run out: the spool is told to seal, the writer refuses */
	assert_int_equal(seg_writer_create_to(&w, part, &h, to, 1, &err), 0);
	for (int i = 0; i < SEG_CHUNK_RETRY_MAX; i++) {
		assert_false(seg_writer_retries_spent(w));
		assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
		assert_int_equal(seg_writer_block_abort(w, &err), 0);
	}
	assert_true(seg_writer_retries_spent(w));
	assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);	/* the last number */
	assert_int_equal(seg_writer_block_abort(w, &err), 0);
	assert_int_not_equal(seg_writer_block_begin(w, &m, &err), 0);
	seg_writer_free(w, true);
}

static void
test_encrypted_chunks(void **state)
{
	struct fixture fx;
	struct seg_info info;
	struct pga_err err = {0};
	size_t len;
	char *csv;
	int chunks = 0;

	(void)state;
	g_noisy = true;
	make_encrypted(&fx, "enc-big.pga.zst", 1, 2, 6000);
	g_noisy = false;
	load(&fx);
	for (size_t off = 0; off + 8 <= fx.len; off++)	/* count sealed chunk frames */
		chunks += memcmp(fx.buf + off, "\x53\x2a\x4d\x18", 4) == 0 &&
			  memcmp(fx.buf + off + 8, "PGAX", 4) == 0;
	free(fx.buf);
	assert_true(chunks >= 4);	/* blocks of more than one chunk */
	use_keys(0, -1);
	assert_int_equal(seg_verify_file(fx.path, &info, &err), 0);
	assert_int_equal(info.rows, 12000);
	csv = all_csv(fx.path, &len);
	assert_int_equal(len, info.raw_bytes);
	free(csv);
	seg_set_decrypt_keys(NULL, 0);
}

static void
test_encrypted_damage(void **state)
{
	struct fixture fx;
	char msg[PGA_ERR_MSG_MAX];

	(void)state;
	make_encrypted(&fx, "enc-dmg.pga.zst", 1, 2, 5);
	load(&fx);
	for (int keyed = 0; keyed < 2; keyed++) {
		if (keyed)
			use_keys(0, -1);
		for (size_t off = 0; off < fx.len; off++) {
			fx.buf[off] ^= 0x04;
			store(&fx, "enc-flipped.pga.zst", fx.len);
			if (verify_code(fx.path, msg, sizeof(msg)) == 0)
				fail_msg("bit flip at offset %zu went undetected (key %d)", off, keyed);
			fx.buf[off] ^= 0x04;
		}
		for (size_t cut = 0; cut < fx.len; cut++) {
			store(&fx, "enc-cut.pga.zst", cut);
			if (verify_code(fx.path, msg, sizeof(msg)) == 0)
				fail_msg("cut at %zu went undetected (key %d)", cut, keyed);
		}
	}
	free(fx.buf);
	seg_set_decrypt_keys(NULL, 0);
}

/* Walk to the n-th frame of kind `kind`: its offset, or 0. */
static size_t
nth_frame(const uint8_t *p, size_t len, uint32_t kind, int n)
{
	for (size_t off = 0; off + 8 <= len;) {
		uint32_t magic = p[off] | p[off + 1] << 8 | p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
		uint32_t flen = p[off + 4] | p[off + 5] << 8 | p[off + 6] << 16 |
				(uint32_t)p[off + 7] << 24;

		if (magic == SEG_SKIPPABLE_BASE + kind && n-- == 0)
			return off;
		off += 8 + (size_t)flen;
	}
	return 0;
}

static void
fix_crc(uint8_t *frame)
{
	uint32_t plen = frame[4] | frame[5] << 8 | frame[6] << 16 | (uint32_t)frame[7] << 24;
	uint32_t crc = pga_crc32c(0, frame + 8, plen - 4);

	memcpy(frame + 8 + plen - 4, &crc, 4);
}

static void
test_encrypted_authentication(void **state)
{
	struct fixture fx;
	char msg[PGA_ERR_MSG_MAX], orig[512];
	size_t bh, ch, tr;
	uint32_t crc, clen;

	(void)state;
	make_encrypted(&fx, "enc-auth.pga.zst", 1, 2, 5);
	snprintf(orig, sizeof(orig), "%s", fx.path);
	load(&fx);
	use_keys(0, -1);
	/* a ciphertext bit, with the trailer's CRCs made to fit: only the tag sees it */
	ch = nth_frame(fx.buf, fx.len, SEG_KIND_SEALED, 0);
	tr = nth_frame(fx.buf, fx.len, SEG_KIND_TRAILER, 0);
	assert_true(ch > 0 && tr > ch);
	clen = fx.buf[ch + 4] | fx.buf[ch + 5] << 8;
	fx.buf[ch + 8 + 13] ^= 0x01;
	crc = pga_crc32c(0, fx.buf + ch, 8 + clen);
	memcpy(fx.buf + tr + 8 + 32, &crc, 4);
	fix_crc(fx.buf + tr);
	store(&fx, "enc-ct.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ECHECKSUM);
	assert_non_null(strstr(msg, "block 0: chunk 0 fails authentication"));
	free(fx.buf);
	snprintf(fx.path, sizeof(fx.path), "%s", orig);	/* store() moved it */
	load(&fx);
	/* the block header (the chunks' AAD): another metric name, its CRC made to fit */
	bh = nth_frame(fx.buf, fx.len, SEG_KIND_BLOCK, 1);
	assert_true(bh > 0);
	assert_non_null(memmem(fx.buf + bh, 80, "metric_1", 8));
	((uint8_t *)memmem(fx.buf + bh, 80, "metric_1", 8))[7] = '9';
	fix_crc(fx.buf + bh);
	store(&fx, "enc-aad.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ECHECKSUM);
	assert_non_null(strstr(msg, "block 1: chunk 0 fails authentication"));
	free(fx.buf);
	snprintf(fx.path, sizeof(fx.path), "%s", orig);
	load(&fx);
	/* the wrapped data key (header CRC made to fit): it no longer unwraps */
	fx.buf[8 + (fx.buf[4] | fx.buf[5] << 8) - 5] ^= 0x01;	/* its last byte */
	fix_crc(fx.buf);
	store(&fx, "enc-wrap.pga.zst", fx.len);
	assert_int_equal(verify_code(fx.path, msg, sizeof(msg)), PGA_ECHECKSUM);
	assert_non_null(strstr(msg, "does not unwrap"));
	seg_set_decrypt_keys(NULL, 0);
	free(fx.buf);
}

static void
test_encrypted_recovery(void **state)
{
	struct fixture fx;
	struct seg_writer *w = NULL;
	struct pga_err err = {0};
	struct seg_info info;
	char part[600], final[600];
	uint8_t sha[PGA_SHA256_LEN];
	uint64_t torn = 0;
	size_t tr;

	(void)state;
	make_encrypted(&fx, "enc-rec.pga.zst", 1, 3, 50);
	load(&fx);
	/* a part torn inside block 2: what a kill -9 leaves */
	tr = nth_frame(fx.buf, fx.len, SEG_KIND_TRAILER, 1);
	snprintf(part, sizeof(part), "%s/enc-rec.part", tmpdir);
	snprintf(final, sizeof(final), "%s/enc-recovered.pga.zst", tmpdir);
	fx.path[0] = '\0';
	{
		FILE *f = fopen(part, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(fx.buf, 1, tr + 60, f), tr + 60);
		fclose(f);
	}
	free(fx.buf);
	seg_set_decrypt_keys(NULL, 0);	/* the collector has no private key */
	assert_int_equal(seg_writer_recover(&w, part, &torn, &err), 0);
	assert_int_equal(seg_writer_nblocks(w), 2);
	assert_true(torn > 0);
	assert_int_equal(seg_writer_seal(w, SEG_FOOTER_RECOVERED, torn, final, sha, &err), 0);
	seg_writer_free(w, false);
	use_keys(0, -1);
	assert_int_equal(seg_verify_file(final, &info, &err), 0);
	assert_true(info.decrypted);
	assert_int_equal(info.nblocks, 2);
	assert_int_equal(info.rows, 100);
	seg_set_decrypt_keys(NULL, 0);
}

/* ---- the encoder gathers small writes: every chunking gives the same frame content ---- */

struct membuf {
	uint8_t *p;
	size_t len, cap;
};

static int
sink_to_mem(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	struct membuf *m = ctx;

	(void)err;
	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2;
		m->p = realloc(m->p, m->cap);
		assert_non_null(m->p);
	}
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	return 0;
}

/*
 * Rows of every size (a byte to 150 kB, quoted newlines inside), written
 * in chunks of every size around the encoder's buffer (64 kB): each frame
 * decompresses to exactly the input, the rows and bytes are counted, and
 * nothing is lost across blocks of one encoder (small, large, empty).
 */
static void
test_encoder_chunks(void **state)
{
	static const size_t chunks[] = {1, 3, 70, 4096, 32767, 32768, 65535, 65536, 65537, 150000};
	size_t cap = 1 << 20, len = 0;
	char *in = malloc(cap);
	struct seg_encoder *e = NULL;
	struct pga_err err = {0};
	unsigned seed = 7;
	uint64_t rows = 0;

	(void)state;
	assert_non_null(in);
	while (len < cap - 200000) {
		size_t n = rand_r(&seed) % 4 == 0 ? (size_t)(rand_r(&seed) % 150000) : (size_t)(rand_r(&seed) % 80);

		len += (size_t)sprintf(in + len, "%llu,\"a \"\"b\"\"\nc\",", (unsigned long long)rows);
		memset(in + len, 'x', n);
		len += n;
		in[len++] = '\n';
		rows++;
	}
	assert_int_equal(seg_encoder_new(&e, 3, 17, &err), 0);
	for (size_t round = 0; round < 3 * sizeof(chunks) / sizeof(chunks[0]); round++) {
		size_t blen = round % 3 == 0 ? len : round % 3 == 1 ? 100 : 0;
		struct membuf out = {0};
		uint64_t r = 0, raw = 0;
		size_t got, done = 0;
		char *back;

		if (round % 3 == 1)	/* a small block: the first rows that fit */
			blen = (size_t)(strchr(in + 90, '\n') - in) + 1;
		seg_encoder_begin(e, sink_to_mem, &out);
		while (done < blen) {
			size_t n = chunks[(round / 3 + done) % (sizeof(chunks) / sizeof(chunks[0]))];

			if (n > blen - done)
				n = blen - done;
			assert_int_equal(seg_encoder_write(e, in + done, n, &err), 0);
			done += n;
		}
		assert_int_equal(seg_encoder_finish(e, &r, &raw, &err), 0);
		assert_int_equal(raw, blen);
		back = malloc(blen + 1);
		assert_non_null(back);
		got = ZSTD_decompress(back, blen + 1, out.p, out.len);
		assert_false(ZSTD_isError(got));
		assert_int_equal(got, blen);
		assert_memory_equal(back, in, blen);
		if (round % 3 == 0)
			assert_int_equal(r, rows);
		else if (round % 3 == 2)
			assert_int_equal(r, 0);
		free(back);
		free(out.p);
	}
	seg_encoder_free(e);
	free(in);
}


/* A block of metric `name` whose frame is zstd of n noisy bytes. */
static void
hold_block(struct seg_writer *w, const char *name, size_t n)
{
	struct seg_block_meta m = {.ncols = 3, .cols = cols3, .snapshot_us = 5};
	struct pga_err err = {0};
	size_t cap = ZSTD_compressBound(n), len;
	uint8_t *raw = malloc(n), *frame = malloc(cap);
	uint32_t x = 7;

	assert_non_null(raw);
	assert_non_null(frame);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		raw[i] = (uint8_t)x == '\n' || (uint8_t)x == '"' ? 'x' : (uint8_t)x;
	}
	raw[n - 1] = '\n';
	len = ZSTD_compress(frame, cap, raw, n, 1);
	assert_false(ZSTD_isError(len));
	strcpy(m.metric, name);
	assert_int_equal(seg_writer_block_begin(w, &m, &err), 0);
	assert_int_equal(seg_writer_data(w, frame, len, &err), 0);
	assert_int_equal(seg_writer_block_end(w, 1, n, &err), 0);
	free(raw);
	free(frame);
}

/*
 * Held blocks (seg_writer_hold): not on disk before the release; a release
 * that does not keep them cuts them all off, also when part of the hold
 * was written already (more than the 256 KiB buffer), and, encrypted, the
 * blocks written after under the same numbers still authenticate.
 */
static void
test_hold_release(void **state)
{
	(void)state;
	crypt_keys();
	for (int enc = 0; enc < 2; enc++) {
		struct seg_header h = {.major = SEG_FORMAT_MAJOR, .minor = SEG_FORMAT_MINOR,
				       .seq = 9, .created_us = 1};
		const struct pga_xpub *to[1] = {x_pub[0]};
		struct seg_writer *w = NULL;
		struct seg_reader *r = NULL;
		const struct seg_block_meta *m;
		struct pga_err err = {0};
		struct seg_info info;
		struct stat st;
		char part[512], final[512];
		uint8_t sha[PGA_SHA256_LEN];
		uint32_t dropped = 9;
		off_t size;

		strcpy(h.collector, "unit");
		snprintf(part, sizeof(part), "%s/hold%d.part", tmpdir, enc);
		snprintf(final, sizeof(final), "%s/hold%d.pga.zst", tmpdir, enc);
		assert_int_equal(seg_writer_create_to(&w, part, &h, to, enc ? 1 : 0, &err), 0);
		hold_block(w, "kept", 1000);
		assert_int_equal(stat(part, &st), 0);
		size = st.st_size;
		assert_int_equal(seg_writer_hold(w, &err), 0);
		assert_int_equal(seg_writer_hold(w, &err), PGA_EINTERNAL);	/* not twice */
		hold_block(w, "small", 1000);
		assert_int_equal(stat(part, &st), 0);
		assert_int_equal(st.st_size, size);	/* held: not written */
		hold_block(w, "big", 400000);
		assert_int_equal(stat(part, &st), 0);
		assert_true(st.st_size > size);		/* the buffer overflowed */
		assert_int_equal(seg_writer_nblocks(w), 3);
		assert_int_equal(seg_writer_release(w, false, &dropped, &err), 0);
		assert_int_equal(dropped, 2);
		assert_int_equal(seg_writer_nblocks(w), 1);
		assert_int_equal(stat(part, &st), 0);
		assert_int_equal(st.st_size, size);
		/* held and kept: written at the release */
		assert_int_equal(seg_writer_hold(w, &err), 0);
		hold_block(w, "again", 2000);
		hold_block(w, "more", 2000);
		assert_int_equal(stat(part, &st), 0);
		assert_int_equal(st.st_size, size);
		assert_int_equal(seg_writer_release(w, true, &dropped, &err), 0);
		assert_int_equal(dropped, 0);
		assert_int_equal(stat(part, &st), 0);
		assert_true(st.st_size > size);
		assert_int_equal(seg_writer_release(w, true, &dropped, &err), 0);	/* no hold */
		assert_int_equal(seg_writer_seal(w, 0, 0, final, sha, &err), 0);
		seg_writer_free(w, false);
		if (enc)
			use_keys(0, -1);
		if (seg_verify_file(final, &info, &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(info.nblocks, 3);
		assert_int_equal(info.rows, 3);
		assert_memory_equal(sha, info.file_sha256, PGA_SHA256_LEN);
		assert_int_equal(info.decrypted, enc == 1);
		assert_int_equal(seg_reader_open_file(&r, final, &err), 0);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(seg_reader_next(r, &m, &err), 1);
			assert_string_equal(m->metric, i == 0 ? "kept" : i == 1 ? "again" : "more");
		}
		seg_reader_free(r);
		seg_set_decrypt_keys(NULL, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_desc_round_trip),
		cmocka_unit_test(test_desc_newer_minor),
		cmocka_unit_test(test_desc_hostile),
		cmocka_unit_test(test_desc_writer_refuses),
		cmocka_unit_test(test_zstd_compatible),
		cmocka_unit_test(test_every_truncation_fails),
		cmocka_unit_test(test_every_bit_flip_fails),
		cmocka_unit_test(test_flip_classes),
		cmocka_unit_test(test_reordered_blocks),
		cmocka_unit_test(test_foreign_files),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_version_and_flags),
		cmocka_unit_test(test_abort_rewinds),
		cmocka_unit_test(test_recover_torn_tail),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_name_check),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_reserved_agrees_with_loader),
		cmocka_unit_test(test_header_strings),
		cmocka_unit_test(test_csv_check),
		cmocka_unit_test(test_csv_count),
		cmocka_unit_test(test_crc32c_vectors),
		cmocka_unit_test(test_encoder_chunks),
		cmocka_unit_test(test_signed_round_trip),
		cmocka_unit_test(test_signed_damage),
		cmocka_unit_test(test_signature_on_unsigned),
		cmocka_unit_test(test_signed_needs_key),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_encrypted_round_trip),
		cmocka_unit_test(test_encrypted_recipients),
		cmocka_unit_test(test_encrypted_chunks),
		cmocka_unit_test(test_encrypted_retry_nonces),
		cmocka_unit_test(test_encrypted_damage),
		cmocka_unit_test(test_encrypted_authentication),
		cmocka_unit_test(test_encrypted_recovery),
		cmocka_unit_test(test_hold_release),
	};
	char tmpl[] = "/tmp/pga-unit-seg.XXXXXX";
	int rc;

	if (mkdtemp(tmpl) == NULL)
		return 1;
	snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (rc == 0) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
