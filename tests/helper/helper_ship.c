/* Shipper test helpers: fill a spool with many segments quickly. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/stdlib.h>

#include "common/cli.h"
#include "common/config.h"
#include "common/jsonw.h"
#include "common/units.h"
#include "ship/dest.h"
#include "ship/ship.h"
#include "spool/spool.h"
#include "tests/helper/helper.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* One block of about raw bytes of barely compressible CSV. */
static int
write_block(struct spool *sp, size_t raw, uint64_t n, struct pga_err *err)
{
	static const char *cols[] = {"n", "payload"};
	struct seg_block_meta m = {0};
	struct spool_stream *s = NULL;
	char line[160];
	size_t done = 0;
	uint64_t row = 0;
	int rc;

	m.snapshot_us = pga_now_us();
	strcpy(m.metric, "ship_test");
	strcpy(m.target, "t");
	m.ncols = 2;
	m.cols = cols;
	rc = spool_stream_new(sp, SPOOL_STREAM_DIRECT, &s, err);
	if (rc == 0)
		rc = spool_stream_begin(s, &m, err);
	while (rc == 0 && done < raw) {
		uint8_t rnd[96];
		int len = snprintf(line, sizeof(line), "%" PRIu64 ",", n * 1000000 + row++);

		arc4random_buf(rnd, sizeof(rnd));
		for (size_t i = 0; i < sizeof(rnd); i++)
			line[len++] = b64[rnd[i] & 63];
		line[len++] = '\n';
		rc = spool_stream_write(s, line, (size_t)len, err);
		done += (size_t)len;
	}
	if (rc == 0)
		rc = spool_stream_commit(s, NULL, err);
	spool_stream_free(s);
	return rc;
}

/*
 * ship-fill SPOOL COLLECTOR N RAW_BYTES [MAX_BYTES block|drop-oldest]: N
 * sealed segments of one block each, under a quota when given.  Blocks
 * the quota refuses are counted ("refused N" on stdout), not an error.
 */
int
helper_ship_fill(int argc, char **argv)
{
	struct spool_opts o = {0};
	struct spool *sp = NULL;
	struct pga_err err = {0};
	long n, refused = 0;
	size_t raw;
	int rc;

	if (argc != 5 && argc != 7) {
		fprintf(stderr, "usage: ship-fill SPOOL COLLECTOR N RAW_BYTES [MAX_BYTES block|drop-oldest]\n");
		return 64;
	}
	n = atol(argv[3]);
	raw = (size_t)atol(argv[4]);
	o.collector = argv[2];
	o.full = PGA_FULL_BLOCK;
	if (argc == 7) {
		o.max_bytes = strtoull(argv[5], NULL, 10);
		o.full = strcmp(argv[6], "drop-oldest") == 0 ? PGA_FULL_DROP_OLDEST : PGA_FULL_BLOCK;
	}
	o.seg_max_size = 1ull << 40;
	o.seg_max_age_us = INT64_MAX / 2;
	o.level = 1;
	rc = spool_open_writer(&sp, argv[1], &o, &err);
	for (long i = 0; rc == 0 && i < n; i++) {
		rc = write_block(sp, raw, (uint64_t)i, &err);
		if (rc == PGA_EFULL) {
			refused++;
			rc = 0;
			continue;
		}
		if (rc == 0)
			rc = spool_seal(sp, &err);
	}
	if (sp != NULL) {
		struct pga_err cerr = {0};

		if (spool_close(sp, &cerr) < 0 && rc == 0) {
			rc = -1;
			err = cerr;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "pga-test-helper: ship-fill: %s\n", err.msg);
		return 1;
	}
	if (argc == 7)
		printf("refused %ld\n", refused);
	return 0;
}

/* ship-status CONFIG [json]: what pga status will show per destination. */
int
helper_ship_status(int argc, char **argv)
{
	struct pga_ctx ctx = {0};
	struct pga_err err = {0};
	struct jsonw jw;
	bool json = argc > 2 && strcmp(argv[2], "json") == 0;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: ship-status CONFIG [json]\n");
		return 64;
	}
	if (pga_config_load(argv[1], &ctx.cfg, &err) < 0) {
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
		return 1;
	}
	if (json) {
		jsonw_init(&jw, stdout);
		jsonw_obj_open(&jw);
		jsonw_key(&jw, "destinations");
	}
	rc = ship_status(&ctx, NULL, json ? &jw : NULL, stdout, &err);
	if (json) {
		jsonw_obj_close(&jw);
		jsonw_end(&jw);
	}
	pga_config_free(ctx.cfg);
	if (rc < 0) {
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
		return 1;
	}
	return 0;
}

/* ship-check CONFIG [json]: what pga check will show per destination. */
int
helper_ship_check(int argc, char **argv)
{
	struct pga_ctx ctx = {0};
	struct pga_err err = {0};
	struct jsonw jw;
	bool json = argc > 2 && strcmp(argv[2], "json") == 0;
	int failures = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: ship-check CONFIG [json]\n");
		return 64;
	}
	if (pga_config_load(argv[1], &ctx.cfg, &err) < 0) {
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
		return 1;
	}
	if (json)
		jsonw_init(&jw, stdout);
	ship_check_destinations(&ctx, json ? &jw : NULL, stdout, &failures, &err);
	if (json)
		jsonw_end(&jw);
	pga_config_free(ctx.cfg);
	return failures == 0 ? 0 : 1;
}

/* ---- the destination interface as pga restore uses it ---- */

static int
open_named_dest(const char *conf, const char *name, struct pga_config **cfg,
		struct dest **d)
{
	struct pga_err err = {0};

	*d = NULL;
	if (pga_config_load(conf, cfg, &err) < 0) {
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < (*cfg)->ndests; i++)
		if (strcmp((*cfg)->dests[i].name, name) == 0 &&
		    dest_open(d, &(*cfg)->dests[i], &err) < 0) {
			fprintf(stderr, "pga-test-helper: %s\n", err.msg);
			return 1;
		}
	if (*d == NULL) {
		fprintf(stderr, "pga-test-helper: no destination '%s'\n", name);
		return 1;
	}
	return 0;
}

static int
print_entry(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	(void)ctx;
	(void)err;
	printf("%s %" PRIu64 "\n", name, size);
	return 0;
}

static int
write_out(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	(void)ctx;
	if (fwrite(buf, 1, len, stdout) != len)
		return pga_fail(err, PGA_EIO, "could not write to standard output");
	return 0;
}

/* dest-list CONFIG DEST [PREFIX] | dest-get CONFIG DEST NAME | dest-head CONFIG DEST NAME */
int
helper_dest_op(int argc, char **argv)
{
	struct pga_config *cfg = NULL;
	struct pga_err err = {0};
	struct dest_object obj;
	struct dest *d = NULL;
	int rc = 0;

	if (argc < 3 || (strcmp(argv[0], "dest-list") != 0 && argc < 4)) {
		fprintf(stderr, "usage: %s CONFIG DEST [NAME|PREFIX]\n", argv[0]);
		return 64;
	}
	if (open_named_dest(argv[1], argv[2], &cfg, &d) != 0) {
		pga_config_free(cfg);
		return 1;
	}
	if (strcmp(argv[0], "dest-list") == 0) {
		rc = d->ops->list(d, argc > 3 ? argv[3] : "", print_entry, NULL, &err);
	} else if (strcmp(argv[0], "dest-get") == 0) {
		rc = d->ops->get(d, argv[3], write_out, NULL, &err);
	} else {
		rc = d->ops->head(d, argv[3], &obj, &err);
		if (rc == 1) {
			char hex[PGA_SHA256_HEX] = "-";

			if (obj.have_sha256)
				pga_hex(obj.sha256, PGA_SHA256_LEN, hex);
			printf("exists %" PRIu64 " %s\n", obj.size, hex);
		} else if (rc == 0) {
			printf("absent\n");
		}
	}
	dest_close(d);
	pga_config_free(cfg);
	if (rc < 0) {
		fprintf(stderr, "pga-test-helper: %s\n", err.msg);
		return 1;
	}
	return 0;
}
