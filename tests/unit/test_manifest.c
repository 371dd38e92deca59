/* Unit tests of archive manifests, member names and the archive source. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
#include "spool/manifest.h"
#include "spool/pack.h"
#include "spool/source.h"
#include "spool/spool.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define N1 "c/2026/11/25/0000000000000001-20261125T213407Z.pga.zst"
#define N2 "c/2026/11/25/0000000000000002-20261125T213408Z.pga.zst"

static char root[256];

static int
parse(const char *text, struct seg_manifest *m, struct pga_err *err)
{
	return seg_manifest_parse(text, strlen(text), "a.tar", m, err);
}

static void
test_parse_good(void **state)
{
	struct seg_manifest m;
	struct pga_err err = {0};
	uint8_t want[PGA_SHA256_LEN];

	(void)state;
	/* text and binary markers, "./", upper-case hex, no final newline */
	assert_int_equal(parse(H64 "  ./" N2 "\n" "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF *" N1,
			       &m, &err), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[0].name, N1);	/* sorted */
	assert_non_null(seg_manifest_find(&m, N2));
	assert_null(seg_manifest_find(&m, "./" N2));	/* callers normalise too */
	assert_null(seg_manifest_find(&m, "c/2026/11/25/0000000000000003-20261125T213408Z.pga.zst"));
	pga_unhex(H64, want, PGA_SHA256_LEN);
	assert_memory_equal(seg_manifest_find(&m, N1)->sha, want, PGA_SHA256_LEN);
	seg_manifest_free(&m);
	/* an empty manifest: an archive of nothing */
	assert_int_equal(parse("", &m, &err), 0);
	assert_int_equal(m.n, 0);
	assert_null(seg_manifest_find(&m, N1));
	seg_manifest_free(&m);
	/* a prefix directory is allowed */
	assert_int_equal(parse(H64 "  spool/ready/" N1 "\n", &m, &err), 0);
	seg_manifest_free(&m);
}

static void
test_parse_bad(void **state)
{
	static const char *const bad[] = {
		H64 " " N1 "\n",			/* one space */
		H64 "\t" N1 "\n",
		H64 "  " N1 "\r\n",			/* CR LF */
		H64 "  " N1 "\n\n",			/* an empty line */
		"\n" H64 "  " N1 "\n",
		"SHA256 (" N1 ") = " H64 "\n",		/* --tag */
		"\\" H64 "  " N1 "\n",			/* an escaped name */
		H64 "0  " N1 "\n",			/* 65 digits */
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg  " N1 "\n",
		H64 "  \n",				/* no name */
		H64 "  ../" N1 "\n",
		H64 "  /" N1 "\n",
		H64 "  a/../" N1 "\n",
		H64 "  a//" N1 "\n",
		H64 "  ./a/./" N1 "\n",
		H64 "  README\n",			/* not a segment */
		H64 "  " N1 "\n" H64 "  ./" N1 "\n",	/* twice, once with ./ */
		H64 "  " N1 " \n",			/* trailing space */
		"junk\n",
	};
	struct seg_manifest m;
	struct pga_err err = {0};
	char nul[200];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &m, &err);

		if (rc != PGA_ECORRUPT)
			fail_msg("case %zu was accepted: %s", i, bad[i]);
		assert_non_null(strstr(err.msg, "archive 'a.tar': MANIFEST.sha256"));
		assert_null(m.v);	/* nothing left allocated */
	}
	/* a NUL inside a name */
	n = (size_t)snprintf(nul, sizeof(nul), "%s  %s\n", H64, N1);
	nul[70] = '\0';
	assert_int_equal(seg_manifest_parse(nul, n, "a.tar", &m, &err), PGA_ECORRUPT);
	/* over the size limit, before anything is parsed */
	assert_int_equal(seg_manifest_parse(nul, SEG_MANIFEST_MAX + 1, "a.tar", &m, &err),
			 PGA_ECORRUPT);
}

static void
test_member_names(void **state)
{
	char out[SEG_NAME_MAX];

	(void)state;
	assert_true(seg_member_name(N1, false, out, sizeof(out)));
	assert_string_equal(out, N1);
	assert_true(seg_member_name("./" N1, false, out, sizeof(out)));
	assert_string_equal(out, N1);
	assert_true(seg_member_name("././" N1, false, out, sizeof(out)));
	assert_true(seg_member_name("./", true, out, sizeof(out)));
	assert_string_equal(out, "");
	assert_true(seg_member_name("c/2026/", true, out, sizeof(out)));
	assert_string_equal(out, "c/2026");
	assert_false(seg_member_name("./", false, out, sizeof(out)));
	assert_false(seg_member_name("c/2026/", false, out, sizeof(out)));
	assert_false(seg_member_name("/etc/passwd", false, out, sizeof(out)));
	assert_false(seg_member_name("../x", false, out, sizeof(out)));
	assert_false(seg_member_name("a/../x", false, out, sizeof(out)));
	assert_false(seg_member_name("a/..", true, out, sizeof(out)));
	assert_false(seg_member_name("a/./x", false, out, sizeof(out)));
	assert_false(seg_member_name("a//x", false, out, sizeof(out)));
	assert_false(seg_member_name("a\\x", false, out, sizeof(out)));
	assert_false(seg_member_name("a\x1b[1mx", false, out, sizeof(out)));
	assert_false(seg_member_name("caf\xc3\xa9", false, out, sizeof(out)));
	assert_false(seg_member_name(N1, false, out, 10));	/* does not fit */
}

/* Two sealed segments in a fresh spool, packed into root/a.tar. */
static void
make_archive(char *tar, size_t cap)
{
	static const char *cols[] = {"k", "v"};
	struct spool_opts o = {.collector = "unit", .seg_max_size = 1 << 20,
			       .seg_max_age_us = 3600LL * PGA_USEC_PER_SEC, .level = 1};
	struct seg_block_meta m = {.ncols = 2, .cols = cols};
	char path[300];
	struct spool *sp = NULL;
	struct pack_stats st;
	struct pga_err err = {0};

	snprintf(path, sizeof(path), "%s/spool", root);
	snprintf(tar, cap, "%s/a.tar", root);
	strcpy(m.metric, "m");
	assert_int_equal(spool_open_writer(&sp, path, &o, &err), 0);
	for (int i = 0; i < 2; i++) {
		struct spool_stream *s = NULL;
		char line[64];
		int n = snprintf(line, sizeof(line), "%d,value %d\n", i, i * 7);

		m.snapshot_us = pga_now_us();
		assert_int_equal(spool_stream_new(sp, SPOOL_STREAM_DIRECT, &s, &err), 0);
		assert_int_equal(spool_stream_begin(s, &m, &err), 0);
		assert_int_equal(spool_stream_write(s, line, (size_t)n, &err), 0);
		assert_int_equal(spool_stream_commit(s, NULL, &err), 0);
		spool_stream_free(s);
		assert_int_equal(spool_seal(sp, &err), 0);
	}
	assert_int_equal(spool_close(sp, &err), 0);
	assert_int_equal(spool_open(&sp, path, &err), 0);
	assert_int_equal(spool_pack(sp, tar, INT64_MIN, INT64_MAX, &st, &err), 0);
	assert_int_equal(st.segments, 2);
	spool_free(sp);
}

/* Offset of the n-th (0-based) segment header magic in a file's bytes. */
static long
nth_segment(const uint8_t *buf, size_t len, int n)
{
	static const uint8_t magic[8] = {0x50, 0x2A, 0x4D, 0x18};

	for (size_t i = 0; i + 8 <= len; i++)
		if (memcmp(buf + i, magic, 4) == 0 && memcmp(buf + i + 8, "PGAH", 4) == 0 && n-- == 0)
			return (long)i;
	return -1;
}

/*
 * The archive is verified when it is opened; bytes that change after that
 * fail the read that hands them out and the next call, never pass.
 */
static void
test_archive_changed_between_passes(void **state)
{
	char tar[300];
	struct seg_source *src = NULL;
	struct seg_item item;
	struct pga_err err = {0};
	uint8_t *buf, b[4096];
	struct stat st;
	long at;
	ssize_t n;
	int fd;

	(void)state;
	make_archive(tar, sizeof(tar));
	assert_int_equal(seg_source_open(&src, tar, &err), 0);
	assert_int_equal(seg_source_count(src), 2);
	/* flip a byte of the second segment, size unchanged */
	fd = open(tar, O_RDWR);
	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	buf = malloc((size_t)st.st_size);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	at = nth_segment(buf, (size_t)st.st_size, 1);
	assert_true(at > 0);
	buf[at + 150] ^= 1;	/* in block 0, past the header */
	assert_int_equal(pwrite(fd, buf + at + 150, 1, at + 150), 1);
	close(fd);
	free(buf);
	assert_int_equal(seg_source_next(src, &item, &err), 1);
	while ((n = item.read(item.ctx, b, sizeof(b))) > 0)
		;
	assert_int_equal(n, 0);			/* the first one is as verified */
	assert_int_equal(seg_source_next(src, &item, &err), 1);
	while ((n = item.read(item.ctx, b, sizeof(b))) > 0)
		;
	assert_int_equal(n, -1);		/* its last read fails */
	assert_int_equal(errno, EIO);
	assert_true(seg_source_next(src, &item, &err) < 0);
	assert_non_null(strstr(err.msg, "changed after it was verified"));
	seg_source_free(src);
	/* opened again now, the verification pass refuses it at once */
	assert_true(seg_source_open(&src, tar, &err) < 0);
	assert_null(src);
	assert_non_null(strstr(err.msg, "does not match MANIFEST.sha256"));
}

/* pack's manifest comes first and lists every member, sha256sum-style. */
static void
test_pack_manifest_first(void **state)
{
	char tar[300];
	uint8_t *buf;
	struct stat st;
	struct seg_manifest m;
	struct pga_err err = {0};
	size_t size;
	int fd;

	(void)state;
	make_archive(tar, sizeof(tar));
	fd = open(tar, O_RDONLY);
	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	buf = malloc((size_t)st.st_size);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	/* pax: an extended header may come first, then the first file entry */
	assert_non_null(memmem(buf, 2048, "MANIFEST.sha256", 15));
	assert_true(nth_segment(buf, (size_t)st.st_size, 0) >
		    (long)((uint8_t *)memmem(buf, 2048, "MANIFEST.sha256", 15) - buf));
	{
		/* the manifest's data: after its 512-byte header */
		uint8_t *h = memmem(buf, (size_t)st.st_size, "MANIFEST.sha256", 15);
		uint8_t *data = buf + ((h - buf) / 512 + 1) * 512;

		size = strtoul((char *)h + 124, NULL, 8);
		assert_int_equal(seg_manifest_parse((char *)data, size, tar, &m, &err), 0);
		assert_int_equal(m.n, 2);
		seg_manifest_free(&m);
	}
	free(buf);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "%s/pga-manifest-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(root) ? 0 : -1;
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
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_member_names),
		cmocka_unit_test_setup_teardown(test_archive_changed_between_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pack_manifest_first, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
