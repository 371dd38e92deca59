/* Spool internals for the tests: damage segments, crash a writer midway. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/units.h"
#include "spool/segment.h"
#include "spool/spool.h"
#include "tests/helper/helper.h"

static int
fail(const char *what)
{
	fprintf(stderr, "pga-test-helper: %s\n", what);
	return 1;
}

static int
read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0)
		return -1;
	*len = (size_t)st.st_size;
	*buf = malloc(*len + 1);
	if (*buf == NULL || read(fd, *buf, *len) != (ssize_t)*len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return -1;
	return close(fd);
}

/* Byte range [start, end) of block i (header frame to end of trailer). */
static int
block_range(const struct seg_footer *f, size_t file_len, uint32_t footer_len,
	    uint32_t i, size_t *start, size_t *end)
{
	if (i >= f->nblocks)
		return -1;
	*start = f->index[i].offset;
	*end = i + 1 < f->nblocks ? f->index[i + 1].offset : file_len - footer_len;
	return 0;
}

static int
swap_blocks(uint8_t *buf, size_t len, const struct seg_footer *f, uint32_t flen)
{
	size_t s0, e0, s1, e1;
	uint8_t *tmp;

	if (block_range(f, len, flen, 0, &s0, &e0) || block_range(f, len, flen, 1, &s1, &e1))
		return -1;
	tmp = malloc(e1 - s0);
	memcpy(tmp, buf + s1, e1 - s1);
	memcpy(tmp + (e1 - s1), buf + s0, e0 - s0);
	memcpy(buf + s0, tmp, e1 - s0);
	free(tmp);
	return 0;
}

/*
 * seg-corrupt MODE FILE [ARG]
 *   flip OFFSET     flip the low bit of the byte at OFFSET (negative: from the end)
 *   flip-data       flip a byte in the middle of block 0's data frame
 *   truncate N      keep the first N bytes (negative: drop -N bytes from the end)
 *   swap-blocks     exchange blocks 0 and 1
 *   foreign         give the first frame another skippable-frame magic
 */
int
helper_seg_corrupt(int argc, char **argv)
{
	struct seg_header h;
	struct seg_footer f;
	struct pga_err err = {0};
	uint8_t *buf = NULL;
	size_t len;
	uint32_t flen;
	long long arg = argc > 3 ? atoll(argv[3]) : 0;
	int rc = 0;

	if (argc < 3)
		return fail("usage: seg-corrupt MODE FILE [ARG]");
	if (seg_read_footer_file(argv[2], &h, &f, &err) != 0 && strcmp(argv[1], "flip") &&
	    strcmp(argv[1], "truncate") && strcmp(argv[1], "foreign"))
		return fail(err.msg);
	if (read_file(argv[2], &buf, &len) != 0)
		return fail("cannot read file");
	flen = len >= 8 ? (uint32_t)(buf[len - 8] | buf[len - 7] << 8 | buf[len - 6] << 16 |
				     (uint32_t)buf[len - 5] << 24) : 0;
	if (strcmp(argv[1], "flip") == 0) {
		size_t off = arg < 0 ? len + (size_t)arg : (size_t)arg;

		if (off >= len)
			return fail("offset out of range");
		buf[off] ^= 1;
	} else if (strcmp(argv[1], "flip-data") == 0) {
		size_t s = 0, e = 0;

		if (block_range(&f, len, flen, 0, &s, &e) != 0)
			return fail("no block 0");
		buf[s + (e - s) / 2] ^= 0x40;
	} else if (strcmp(argv[1], "truncate") == 0) {
		len = arg < 0 ? len + (size_t)arg : (size_t)arg;
	} else if (strcmp(argv[1], "swap-blocks") == 0) {
		rc = swap_blocks(buf, len, &f, flen);
	} else if (strcmp(argv[1], "foreign") == 0) {
		buf[0] = 0x53;	/* 0x184D2A53: a skippable frame that is not ours */
	} else {
		return fail("unknown mode");
	}
	if (rc == 0)
		rc = write_file(argv[2], buf, len);
	if (strcmp(argv[1], "truncate") == 0 && rc == 0)
		rc = truncate(argv[2], (off_t)len);
	free(buf);
	free(f.index);
	return rc == 0 ? 0 : fail("could not rewrite the segment");
}

int
helper_seg_info(int argc, char **argv)
{
	struct seg_info info;
	struct pga_err err = {0};
	char prev[PGA_SHA256_HEX], file[PGA_SHA256_HEX];

	if (argc < 2)
		return fail("usage: seg-info FILE");
	if (seg_verify_file(argv[1], &info, &err) != 0) {
		printf("error=%s\nmessage=%s\n", pga_err_name(err.code), err.msg);
		return 1;
	}
	pga_hex(info.header.prev_sha256, PGA_SHA256_LEN, prev);
	pga_hex(info.file_sha256, PGA_SHA256_LEN, file);
	printf("collector=%s\nseq=%" PRIu64 "\nblocks=%u\nrows=%" PRIu64 "\nrecovered=%d\n"
	       "torn=%" PRIu64 "\nprev=%s\nsha256=%s\n", info.header.collector,
	       info.header.seq, info.nblocks, info.rows,
	       (info.flags & SEG_FOOTER_RECOVERED) != 0, info.torn_bytes, prev, file);
	pga_hex(info.footer_sha256, PGA_SHA256_LEN, file);
	printf("footer_sha256=%s\n", file);
	if (info.is_signed) {
		pga_hex(info.sig.key_id, PGA_SIGN_KEYID_LEN, prev);
		printf("key_id=%s\n", prev);
	}
	return 0;
}

static int
put_rows(struct spool_stream *s, long rows, long start, struct pga_err *err)
{
	char line[128];

	for (long i = 0; i < rows; i++) {
		/* random words keep the data from compressing to nothing */
		int n = snprintf(line, sizeof(line), "%ld,row %08x%08x,\"q\"\"uoted\"\n",
				 start + i, (unsigned)rand(), (unsigned)rand());

		if (spool_stream_write(s, line, (size_t)n, err) != 0)
			return -1;
	}
	return 0;
}

/*
 * put-kill SPOOL NBLOCKS ROWS: write NBLOCKS complete blocks of ROWS rows
 * into one segment, start one more, write half of it and SIGKILL ourselves:
 * a writer dying in the middle of a block.  PGA_SIGN_KEY_FILE: signed.
 */
int
helper_put_kill(int argc, char **argv)
{
	static const char *cols[] = {"id", "label", "note"};
	struct spool_opts o = {.collector = "killtest", .seg_max_size = 1ull << 40,
			       .seg_max_age_us = 3600 * PGA_USEC_PER_SEC, .level = 3};
	struct seg_block_meta m = {.ncols = 3, .cols = cols};
	struct spool *sp;
	struct spool_stream *s;
	struct pga_err err = {0};
	long nblocks, rows;

	if (argc < 4)
		return fail("usage: put-kill SPOOL NBLOCKS ROWS");
	nblocks = atol(argv[2]);
	rows = atol(argv[3]);
	strcpy(m.metric, "kill_test");
	o.sign_key_file = getenv("PGA_SIGN_KEY_FILE");
	if (spool_open_writer(&sp, argv[1], &o, &err) != 0 ||
	    spool_stream_new(sp, SPOOL_STREAM_DIRECT, &s, &err) != 0)
		return fail(err.msg);
	for (long b = 0; b <= nblocks; b++) {
		m.snapshot_us = pga_now_us();
		if (spool_stream_begin(s, &m, &err) != 0 ||
		    put_rows(s, b < nblocks ? rows : rows / 2, b * rows, &err) != 0)
			return fail(err.msg);
		if (b == nblocks) {
			fflush(NULL);
			raise(SIGKILL);
		}
		if (spool_stream_commit(s, NULL, &err) != 0)
			return fail(err.msg);
	}
	return 1;
}

/*
 * part-blocks FILE: the complete blocks of an open (part) segment, what a
 * salvage would keep, one per line: metric TAB snapshot_us TAB rows TAB the
 * first field of its first row (a snapshot_status block's status).
 */
int
helper_part_blocks(int argc, char **argv)
{
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	struct pga_err err = {0};
	char buf[65536], first[64];
	int rc;

	if (argc < 2)
		return fail("usage: part-blocks FILE (an encrypted one: '-' for the first field)");
	if (seg_reader_open_file(&r, argv[1], &err) != 0)
		return fail(err.msg);
	while (seg_reader_next(r, &m, &err) == 1) {
		char metric[SEG_METRIC_MAX + 1];
		int64_t snap = m->snapshot_us;
		size_t got, n = 0;
		bool done = false;

		strcpy(metric, m->metric);
		if (seg_header_encrypted(seg_reader_header(r))) {	/* no key: no first field */
			if (seg_reader_skip(r, &err) != 0)
				break;
			printf("%s\t%" PRId64 "\t%" PRIu64 "\t-\n", metric, snap,
			       seg_reader_trailer(r)->rows);
			continue;
		}
		do {
			rc = seg_reader_read(r, buf, sizeof(buf), &got, &err);
			for (size_t i = 0; rc == 0 && !done && i < got; i++) {
				if (buf[i] == ',' || buf[i] == '\n' || n == sizeof(first) - 1)
					done = true;
				else
					first[n++] = buf[i];
			}
		} while (rc == 0 && got > 0);
		first[n] = '\0';
		if (rc != 0)
			break;	/* a torn block: salvage stops here too */
		printf("%s\t%" PRId64 "\t%" PRIu64 "\t%s\n", metric, snap,
		       seg_reader_trailer(r)->rows, first);
	}
	seg_reader_free(r);
	return 0;
}
