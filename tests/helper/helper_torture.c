/*
 * What the torture's oracle (tests/lib/torture_oracle.py) reads from
 * segments, independently of the loader: one line per segment with what
 * its footer and its verification say, and the CSV of the blocks of one
 * metric (snapshot_status) with where each came from.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "spool/segment.h"
#include "spool/source.h"
#include "tests/helper/helper.h"

typedef int (*item_fn)(const struct seg_item *it, const char *arg);

/* Every segment under path (spool, tree, tar or file) through fn. */
static int
each_segment(const char *path, item_fn fn, const char *arg)
{
	struct seg_source *src = NULL;
	struct seg_item it;
	struct pga_err err = {0};
	int rc, status = 0;

	rc = seg_source_open(&src, path, &err);
	while (rc == 0) {
		rc = seg_source_next(src, &it, &err);
		if (rc != 1)
			break;
		rc = 0;
		if (fn(&it, arg) != 0)
			status = 1;
	}
	seg_source_free(src);
	if (rc < 0) {
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
		return 1;
	}
	return status;
}

static int
summary_one(const struct seg_item *it, const char *arg)
{
	struct seg_info info;
	struct pga_err err = {0};
	char prev[PGA_SHA256_HEX], sha[PGA_SHA256_HEX];

	(void)arg;
	if (seg_verify_stream(it->read, it->ctx, it->name, &info, &err) != 0) {
		printf("%s\terror\t%s\n", it->name, err.msg);
		return 1;
	}
	pga_hex(info.header.prev_sha256, PGA_SHA256_LEN, prev);
	pga_hex(info.file_sha256, PGA_SHA256_LEN, sha);
	printf("%s\t%s\t%" PRIu64 "\t%s\t%s\t%u\t%" PRIu64 "\t%" PRIu64 "\t%d\t%" PRIu64 "\t%s\n",
	       it->name, info.header.collector, info.header.seq, sha, prev, info.nblocks,
	       info.rows, info.raw_bytes, (info.flags & SEG_FOOTER_RECOVERED) != 0,
	       info.torn_bytes, info.header.hostname);
	return 0;
}

/*
 * seg-summary PATH: every segment under PATH, verified, one per line: name
 * collector seq sha256 prev_sha256 blocks rows raw_bytes recovered
 * torn_bytes host (tab separated); "name error message" for one that fails.
 */
int
helper_seg_summary(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: seg-summary PATH\n");
		return 64;
	}
	return each_segment(argv[1], summary_one, NULL);
}

static int
rows_one(const struct seg_item *it, const char *metric)
{
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	struct pga_err err = {0};
	char buf[65536];
	size_t got;
	int rc = seg_reader_open(&r, it->read, it->ctx, it->name, &err);

	while (rc == 0 && (rc = seg_reader_next(r, &m, &err)) == 1) {
		bool want = strcmp(m->metric, metric) == 0, bol = true;

		do {
			rc = seg_reader_read(r, buf, sizeof(buf), &got, &err);
			for (size_t i = 0; want && rc == 0 && i < got; i++) {
				if (bol)
					printf("%s\t%s\t%" PRId64 "\t", it->name, m->target,
					       m->snapshot_us);
				putchar(buf[i]);
				bol = buf[i] == '\n';
			}
		} while (rc == 0 && got > 0);
	}
	seg_reader_free(r);
	if (rc < 0)
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
	return rc < 0 ? 1 : 0;
}

/*
 * seg-rows PATH METRIC: the rows of every METRIC block under PATH, each
 * line prefixed with segment, target and snapshot_us (tab separated).
 * Only for metrics whose values hold no newline (snapshot_status).
 */
int
helper_seg_rows(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: seg-rows PATH METRIC\n");
		return 64;
	}
	return each_segment(argv[1], rows_one, argv[2]);
}
