/* Loader internals for the tests: make many segments fast, central status. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bsd/string.h>

#include "common/config.h"
#include "common/hash.h"
#include "common/units.h"
#include "load/load.h"
#include "load/load_int.h"
#include "spool/spool.h"
#include "tests/helper/helper.h"

static int
usage_fail(const char *msg)
{
	fprintf(stderr, "pga-test-helper: %s\n", msg);
	return 64;
}

/*
 * Rows "n,v<n>,<note>" where every 7th note has a comma and quotes, every
 * 5th is NULL; with bad, the middle row's note holds a byte that is not
 * UTF-8 (the stream layer does not look at the CSV: this is what an old
 * collector or a bug could have sealed).
 */
static int
write_block(struct spool *sp, struct seg_block_meta *m, uint64_t first, uint64_t rows,
	    bool bad, struct pga_err *err)
{
	struct spool_stream *s = NULL;
	char line[160];
	int rc = spool_stream_new(sp, SPOOL_STREAM_DIRECT, &s, err);

	if (rc == 0)
		rc = spool_stream_begin(s, m, err);
	for (uint64_t i = first; rc == 0 && i < first + rows; i++) {
		int n;

		if (bad && i == first + rows / 2)
			n = snprintf(line, sizeof(line), "%" PRIu64 ",v%" PRIu64 ",bad \xff byte\n", i, i);
		else if (i % 5 == 0)
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
 * load-spool SPOOL COLLECTOR NSEG BLOCKS ROWS START STEP [METRIC [BAD]]:
 * NSEG sealed segments of BLOCKS blocks of ROWS rows each; block k (counted
 * over all segments) has snapshot time START + k * STEP seconds.  With BAD
 * = N > 0, segments 1, 1 + N, 1 + 2N, ... (counted from 0: every Nth) carry
 * one bad block, at block (s / N) % BLOCKS (first, middle, last in turn);
 * its rows go to stdout as "SEQ BLOCK FIRST_ID" lines.
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
	uint64_t nseg, blocks, rows, k = 0, id = 1, bad_every = 0;
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
	if (argc > 9)
		bad_every = strtoull(argv[9], NULL, 10);
	strlcpy(m.target, "t1", sizeof(m.target));
	strlcpy(m.host, "db.example", sizeof(m.host));
	strlcpy(m.database, "app", sizeof(m.database));
	rc = spool_open_writer(&sp, argv[1], &o, &err);
	for (uint64_t s = 0; rc == 0 && s < nseg; s++) {
		for (uint64_t b = 0; rc == 0 && b < blocks; b++, k++) {
			bool bad = bad_every > 0 && s % bad_every == 0 &&
				   b == (s / bad_every) % blocks;

			m.snapshot_us = start + (int64_t)k * step;
			rc = write_block(sp, &m, id, rows, bad, &err);
			if (bad)
				printf("%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", s + 1, b, id);
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

/* ---- seg-build: one segment exactly as the test wants it ---- */

struct build {
	struct seg_writer *w;
	struct seg_encoder *e;
	uint8_t buf[65536];
};

static int
build_sink(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	return seg_writer_data(ctx, buf, len, err);
}

/* METRIC:COLS:FILE[:TIME] -> one block whose CSV is FILE's bytes, unchecked. */
static int
build_block(struct build *b, char *spec, int64_t created, struct pga_err *err)
{
	static const char *cols[SEG_MAX_COLS];
	struct seg_block_meta m = {.port = 5432, .sysid = 7000000000000000001ULL,
				   .server_version = 150000, .cols = cols};
	char *metric = strtok(spec, ":"), *clist = strtok(NULL, ":"), *file = strtok(NULL, ":");
	char *when = strtok(NULL, "");
	uint64_t rows = 0, raw = 0;
	FILE *f;
	size_t n;
	int rc;

	if (metric == NULL || clist == NULL || file == NULL)
		return pga_fail(err, PGA_EINVAL, "block spec is METRIC:COLS:FILE[:TIME]");
	strlcpy(m.metric, metric, sizeof(m.metric));
	strlcpy(m.target, "t1", sizeof(m.target));
	strlcpy(m.host, "db.example", sizeof(m.host));
	/* as a collector writes it: a catalog metric of the cluster names no database */
	if (ld_builtin_find(metric) == NULL || ld_builtin_find(metric)->per_database)
		strlcpy(m.database, "app", sizeof(m.database));
	for (char *c = strtok(clist, ","); c != NULL && m.ncols < SEG_MAX_COLS; c = strtok(NULL, ","))
		cols[m.ncols++] = c;
	m.snapshot_us = created;
	if (when != NULL && pga_parse_time(when, pga_now_us(), &m.snapshot_us, err) < 0)
		return err->code;
	f = fopen(file, "rb");
	if (f == NULL)
		return pga_fail(err, PGA_EIO, "could not open '%s': %m", file);
	rc = seg_writer_block_begin(b->w, &m, err);
	if (rc == 0)
		seg_encoder_begin(b->e, build_sink, b->w);
	while (rc == 0 && (n = fread(b->buf, 1, sizeof(b->buf), f)) > 0)
		rc = seg_encoder_write(b->e, b->buf, n, err);
	fclose(f);
	if (rc == 0)
		rc = seg_encoder_finish(b->e, &rows, &raw, err);
	if (rc == 0)
		rc = seg_writer_block_end(b->w, rows, raw, err);
	return rc;
}

static int
mkdirs_for(const char *path)
{
	char buf[4096];

	strlcpy(buf, path, sizeof(buf));
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/*
 * seg-build DIR COLLECTOR HOST SEQ PREV CREATED SPEC...: one sealed segment
 * at DIR/<its name>, written with the format's own writer and no check of
 * the CSV (bad bytes go in as given), so the loader meets what an old
 * collector, a bug or an attacker could have written.  PREV is the
 * previous segment's sha256 (64 hex digits) or 0; SPEC is
 * METRIC:COLS:FILE[:TIME].  Prints "NAME SHA256".
 */
int
helper_seg_build(int argc, char **argv)
{
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .minor = SEG_FORMAT_MINOR};
	struct pga_err err = {0};
	struct build *b = calloc(1, sizeof(*b));
	char name[SEG_NAME_MAX], part[4096], final[4096], hex[PGA_SHA256_HEX];
	uint8_t sha[PGA_SHA256_LEN];
	int rc = 0;

	if (argc < 8 || b == NULL)
		return usage_fail("usage: seg-build DIR COLLECTOR HOST SEQ PREV CREATED SPEC...");
	strlcpy(h.collector, argv[2], sizeof(h.collector));
	strlcpy(h.hostname, argv[3], sizeof(h.hostname));
	strlcpy(h.writer, "pga test", sizeof(h.writer));
	h.seq = strtoull(argv[4], NULL, 10);
	if (strcmp(argv[5], "0") != 0 && pga_unhex(argv[5], h.prev_sha256, PGA_SHA256_LEN) < 0)
		return usage_fail("PREV is 64 hex digits or 0");
	if (pga_parse_time(argv[6], pga_now_us(), &h.created_us, &err) < 0)
		return usage_fail(err.msg);
	/* the name from a valid id; the header keeps whatever id it was given */
	rc = seg_name_format(name, sizeof(name), pga_name_valid(argv[2]) ? argv[2] : "x",
			     h.seq, h.created_us, &err);
	snprintf(part, sizeof(part), "%s/.%s.%" PRIu64 ".part", argv[1],
		 pga_name_valid(argv[2]) ? argv[2] : "x", h.seq);
	snprintf(final, sizeof(final), "%s/%s", argv[1], name);
	if (rc == 0 && mkdirs_for(final) != 0)
		rc = pga_fail(&err, PGA_EIO, "could not create the directories of '%s': %m", final);
	if (rc == 0)
		rc = seg_encoder_new(&b->e, 3, 0, &err);
	if (rc == 0)
		rc = seg_writer_create(&b->w, part, &h, &err);
	for (int i = 7; rc == 0 && i < argc; i++)
		rc = build_block(b, argv[i], h.created_us, &err);
	if (rc == 0)
		rc = seg_writer_seal(b->w, 0, 0, final, sha, &err);
	seg_writer_free(b->w, rc < 0);
	seg_encoder_free(b->e);
	free(b);
	if (rc < 0) {
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
		return 1;
	}
	pga_hex(sha, PGA_SHA256_LEN, hex);
	printf("%s %s\n", name, hex);
	return 0;
}

/*
 * schema-sql VERSION: the released text of one migration for schema "pga",
 * with its schema_version row, so a test can build a database exactly as
 * an older pga left it.
 */
int
helper_schema_sql(int argc, char **argv)
{
	const char *desc = NULL;
	char *sql = argc > 1 ? ld_migration_sql(atoi(argv[1]), "\"pga\"", &desc) : NULL;

	if (sql == NULL)
		return usage_fail("usage: schema-sql VERSION (a released migration)");
	printf("BEGIN;\n%s%s;\nINSERT INTO \"pga\".schema_version (version, description,"
	       " pga_version) VALUES (%d, '%s', 'pga (test)');\nCOMMIT;\n",
	       atoi(argv[1]) == 1 ? "CREATE SCHEMA \"pga\";\n" : "", sql, atoi(argv[1]), desc);
	free(sql);
	return 0;
}
