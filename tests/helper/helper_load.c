/* Loader internals for the tests: make many segments fast, central status. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/units.h"
#include "load/load.h"
#include "spool/spool.h"
#include "tests/helper/helper.h"

static int
usage_fail(const char *msg)
{
	fprintf(stderr, "pga-test-helper: %s\n", msg);
	return 64;
}

/* Rows "n,v<n>,<note>" where every 7th note has a comma and quotes, every 5th is NULL. */
static int
write_block(struct spool *sp, struct seg_block_meta *m, uint64_t first, uint64_t rows,
	    struct pga_err *err)
{
	struct spool_stream *s = NULL;
	char line[160];
	int rc = spool_stream_new(sp, SPOOL_STREAM_DIRECT, &s, err);

	if (rc == 0)
		rc = spool_stream_begin(s, m, err);
	for (uint64_t i = first; rc == 0 && i < first + rows; i++) {
		int n;

		if (i % 5 == 0)
			n = snprintf(line, sizeof(line), "%" PRIu64 ",v%" PRIu64 ",\n", i, i);
		else if (i % 7 == 0)
			n = snprintf(line, sizeof(line), "%" PRIu64 ",v%" PRIu64 ",\"a, \"\"quoted\"\"\nline\"\n", i, i);
		else
			n = snprintf(line, sizeof(line), "%" PRIu64 ",v%" PRIu64 ",plain note %" PRIu64 "\n", i, i, i);
		rc = spool_stream_write(s, line, (size_t)n, err);
	}
	if (rc == 0)
		rc = spool_stream_commit(s, NULL, err);
	spool_stream_free(s);
	return rc;
}

/*
 * load-spool SPOOL COLLECTOR NSEG BLOCKS ROWS START STEP [METRIC]:
 * NSEG sealed segments of BLOCKS blocks of ROWS rows each; block k (counted
 * over all segments) has snapshot time START + k * STEP seconds.
 */
int
helper_load_spool(int argc, char **argv)
{
	static const char *cols[] = {"id", "val", "note"};
	struct spool_opts o = {.full = PGA_FULL_BLOCK, .seg_max_size = UINT64_MAX / 2,
			       .seg_max_age_us = INT64_MAX / 2, .level = 3};
	struct seg_block_meta m = {.ncols = 3, .cols = cols, .port = 5432, .sysid = 7000000000000000001ULL,
				   .server_version = 150000};
	struct pga_err err = {0};
	struct spool *sp = NULL;
	uint64_t nseg, blocks, rows, k = 0, id = 1;
	int64_t start, step;
	int rc;

	if (argc < 8)
		return usage_fail("usage: load-spool SPOOL COLLECTOR NSEG BLOCKS ROWS START STEP [METRIC]");
	o.collector = argv[2];
	nseg = strtoull(argv[3], NULL, 10);
	blocks = strtoull(argv[4], NULL, 10);
	rows = strtoull(argv[5], NULL, 10);
	if (pga_parse_time(argv[6], pga_now_us(), &start, &err) < 0)
		return usage_fail(err.msg);
	step = strtoll(argv[7], NULL, 10) * PGA_USEC_PER_SEC;
	strlcpy(m.metric, argc > 8 ? argv[8] : "load_test", sizeof(m.metric));
	strlcpy(m.target, "t1", sizeof(m.target));
	strlcpy(m.host, "db.example", sizeof(m.host));
	strlcpy(m.database, "app", sizeof(m.database));
	rc = spool_open_writer(&sp, argv[1], &o, &err);
	for (uint64_t s = 0; rc == 0 && s < nseg; s++) {
		for (uint64_t b = 0; rc == 0 && b < blocks; b++, k++) {
			m.snapshot_us = start + (int64_t)k * step;
			rc = write_block(sp, &m, id, rows, &err);
			id += rows;
		}
		if (rc == 0)
			rc = spool_seal(sp, &err);
	}
	if (sp != NULL && spool_close(sp, rc == 0 ? &err : NULL) < 0 && rc == 0)
		rc = err.code;
	if (rc < 0) {
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
		return 1;
	}
	return 0;
}

/* central-status [--json] CONNINFO [SCHEMA]: what `pga status --central` shows. */
int
helper_central_status(int argc, char **argv)
{
	struct load_opts o = {0};
	struct pga_err err = {0};
	bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
	int rc;

	if (argc < 2 + json)
		return usage_fail("usage: central-status [--json] CONNINFO [SCHEMA]");
	o.conninfo = argv[1 + json];
	o.schema = argc > 2 + json ? argv[2 + json] : NULL;
	rc = load_status_central(&o, json, stdout, &err);
	if (rc < 0) {
		fprintf(stderr, "pga: error: %s\n", err.msg);
		return 1;
	}
	return rc > 0 ? 2 : 0;
}
