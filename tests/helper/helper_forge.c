/*
 * Forged segments for the tests: a genuine segment re-encoded with other
 * header or block-header fields, every CRC, offset and the footer's SHA-256
 * recomputed, so that only the forged field can be refused.  What a writer
 * would never produce (pga's writer refuses invalid strings), built from
 * the format's own encoders.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <zstd.h>

#include "common/hash.h"
#include "common/units.h"
#include "spool/segment_int.h"
#include "tests/helper/helper.h"

#define COLBUF (SEG_MAX_COLS * (64 + SEG_TYPE_MAX + 1))

struct forge {
	uint8_t *in;
	size_t len, pos;
	struct pbuf out;
	char colbuf[COLBUF];
	const char *cols[SEG_MAX_COLS];
	struct seg_col_desc desc[SEG_MAX_COLS];
	uint16_t minor;			/* the header's (forged) minor */
	long ndesc;			/* block.ndesc: descriptors written, -1 as read */
	const char *extra;		/* block.extra: hex bytes appended before the CRC */
};

static int
forge_fail(const char *what)
{
	fprintf(stderr, "pga-test-helper: %s\n", what);
	return 1;
}

static int
slurp(const char *path, struct forge *f)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0)
		return -1;
	f->len = (size_t)st.st_size;
	f->in = malloc(f->len + 1);
	if (f->in == NULL || read(fd, f->in, f->len) != (ssize_t)f->len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* The next metadata frame: its kind and payload; false if it is not one. */
static bool
next_meta(struct forge *f, uint32_t *kind, const uint8_t **p, uint32_t *n)
{
	uint32_t magic;

	if (f->len - f->pos < 8)
		return false;
	magic = le32(f->in + f->pos);
	*n = le32(f->in + f->pos + 4);
	if ((magic & 0xFFFFFFF0u) != SEG_SKIPPABLE_BASE || f->len - f->pos - 8 < *n)
		return false;
	*kind = magic - SEG_SKIPPABLE_BASE;
	*p = f->in + f->pos + 8;
	f->pos += 8 + (size_t)*n;
	return true;
}

static void
put_frame(struct forge *f, uint32_t kind, struct pbuf *payload)
{
	pbuf_u32(&f->out, SEG_SKIPPABLE_BASE + kind);
	pbuf_u32(&f->out, (uint32_t)payload->len);
	pbuf_bytes(&f->out, payload->p, payload->len);
	pbuf_free(payload);
}

/* key=value: the fields a test may forge. */
static bool
apply_header(struct seg_header *h, const char *k, const char *v)
{
	if (strcmp(k, "collector") == 0)
		return strlcpy(h->collector, v, sizeof(h->collector)) < sizeof(h->collector);
	if (strcmp(k, "host") == 0)
		return strlcpy(h->hostname, v, sizeof(h->hostname)) < sizeof(h->hostname);
	if (strcmp(k, "writer") == 0)
		return strlcpy(h->writer, v, sizeof(h->writer)) < sizeof(h->writer);
	if (strcmp(k, "seq") == 0) {
		h->seq = strtoull(v, NULL, 10);
		return true;
	}
	if (strcmp(k, "created") == 0)
		return pga_parse_time(v, 0, &h->created_us, NULL) == 0;
	if (strcmp(k, "minor") == 0) {
		h->minor = (uint16_t)strtoul(v, NULL, 10);
		return true;
	}
	if (strcmp(k, "prev") == 0) {
		if (strcmp(v, "zero") == 0) {
			memset(h->prev_sha256, 0, PGA_SHA256_LEN);
			return true;
		}
		return strlen(v) == 64 && pga_unhex(v, h->prev_sha256, PGA_SHA256_LEN) == 0;
	}
	return strncmp(k, "block.", 6) == 0;	/* applied per block */
}

static struct forge *cur_forge;	/* apply_block's: the helper forges one file */

/* block.typeN, block.roleN (a number), block.ndesc, block.extra */
static bool
apply_desc(struct seg_block_meta *m, const char *k, const char *v)
{
	struct forge *f = cur_forge;
	long i = strtol(k + 10, NULL, 10);

	if (strcmp(k, "block.ndesc") == 0) {
		f->ndesc = strtol(v, NULL, 10);
		return f->ndesc >= 0 && f->ndesc <= SEG_MAX_COLS;
	}
	if (strcmp(k, "block.extra") == 0) {
		f->extra = v;
		return strlen(v) % 2 == 0;
	}
	if (m->desc == NULL || i < 0 || i >= m->ncols)
		return false;
	if (strncmp(k, "block.type", 10) == 0)
		f->desc[i].type = v;
	else
		f->desc[i].role = (uint8_t)strtoul(v, NULL, 10);
	return true;
}

static bool
apply_block(struct seg_block_meta *m, const char *k, const char *v)
{
	if (strncmp(k, "block.type", 10) == 0 || strncmp(k, "block.role", 10) == 0 ||
	    strcmp(k, "block.ndesc") == 0 || strcmp(k, "block.extra") == 0)
		return apply_desc(m, k, v);
	if (strcmp(k, "block.metric") == 0)
		return strlcpy(m->metric, v, sizeof(m->metric)) < sizeof(m->metric);
	if (strcmp(k, "block.target") == 0)
		return strlcpy(m->target, v, sizeof(m->target)) < sizeof(m->target);
	if (strcmp(k, "block.host") == 0)
		return strlcpy(m->host, v, sizeof(m->host)) < sizeof(m->host);
	if (strcmp(k, "block.database") == 0)
		return strlcpy(m->database, v, sizeof(m->database)) < sizeof(m->database);
	if (strncmp(k, "block.col", 9) == 0 && k[9] >= '0' && k[9] <= '9') {
		long i = strtol(k + 9, NULL, 10);

		if (i >= m->ncols)
			return false;
		m->cols[i] = v;
		return true;
	}
	return strncmp(k, "block.", 6) != 0;
}

static bool
apply_all(int argc, char **argv, struct seg_header *h, struct seg_block_meta *m)
{
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		bool ok;

		if (eq == NULL)
			return false;
		*eq = '\0';
		ok = m ? apply_block(m, argv[i], eq + 1) : apply_header(h, argv[i], eq + 1);
		*eq = '=';
		if (!ok)
			return false;
	}
	return true;
}

/*
 * The block header as the format's encoder writes it for the forged minor,
 * then what a writer never does: another number of descriptors
 * (block.ndesc, reusing the first ones) and bytes appended before the CRC.
 */
static void
encode_block(struct forge *f, struct pbuf *b, struct seg_block_meta *m)
{
	struct seg_block_meta e = *m;
	uint8_t flags = m->flags;

	if (f->ndesc < 0 || f->minor < SEG_MINOR_DESCRIBED) {
		seg_encode_block(b, m, f->minor);
	} else {
		e.desc = NULL;
		seg_encode_block(b, &e, 0);	/* up to the column names */
		b->len -= 4;
		pbuf_bytes(b, &flags, 1);
		pbuf_u16(b, (uint16_t)f->ndesc);
		for (long i = 0; i < f->ndesc; i++) {
			const struct seg_col_desc *d = &f->desc[i < m->ncols ? i : 0];

			pbuf_str(b, m->desc != NULL ? d->type : "text");
			pbuf_bytes(b, m->desc != NULL ? &d->role : (const uint8_t *)"", 1);
		}
		pbuf_crc(b);
	}
	if (f->extra != NULL && !b->oom) {
		b->len -= 4;
		for (const char *x = f->extra; x[0] && x[1]; x += 2) {
			uint8_t byte;

			pga_unhex(x, &byte, 1);
			pbuf_bytes(b, &byte, 1);
		}
		pbuf_crc(b);
	}
}

/* One block: header (re-encoded), data frame and trailer (copied). */
static int
forge_block(struct forge *f, const uint8_t *p, uint32_t n, int argc, char **argv,
	    struct seg_index_entry *ie)
{
	struct seg_block_meta m;
	struct pbuf b = {0};
	const uint8_t *tp;
	uint32_t kind, tn;
	size_t data;

	/* read as the newest minor: the input is a genuine segment */
	if (seg_decode_block(p, n, SEG_FORMAT_MINOR, &m, f->colbuf, sizeof(f->colbuf), f->cols,
			     f->desc, "in", NULL) != 0)
		return -1;
	f->ndesc = -1;
	cur_forge = f;
	if (!apply_all(argc, argv, NULL, &m))
		return -1;
	ie->offset = f->out.len;
	strlcpy(ie->metric, m.metric, sizeof(ie->metric));
	encode_block(f, &b, &m);
	put_frame(f, SEG_KIND_BLOCK, &b);
	data = ZSTD_findFrameCompressedSize(f->in + f->pos, f->len - f->pos);
	if (ZSTD_isError(data))
		return -1;
	pbuf_bytes(&f->out, f->in + f->pos, data);
	f->pos += data;
	if (!next_meta(f, &kind, &tp, &tn) || kind != SEG_KIND_TRAILER)
		return -1;
	pbuf_bytes(&f->out, tp - 8, (size_t)tn + 8);
	return 0;
}

static int
forge_footer(struct forge *f, const uint8_t *p, uint32_t n, struct seg_index_entry *idx,
	     uint32_t nblocks)
{
	struct seg_footer ft;
	struct pbuf b = {0};

	if (seg_decode_footer(p, n, &ft, "in", NULL) != 0 || ft.nblocks != nblocks)
		return -1;
	for (uint32_t i = 0; i < nblocks; i++) {
		ft.index[i].offset = idx[i].offset;
		strlcpy(ft.index[i].metric, idx[i].metric, sizeof(ft.index[i].metric));
	}
	pga_sha256_buf(f->out.p, f->out.len, ft.sha256);
	seg_encode_footer(&b, &ft);
	put_frame(f, SEG_KIND_FOOTER, &b);
	free(ft.index);
	return 0;
}

static int
forge_all(struct forge *f, int argc, char **argv)
{
	struct seg_index_entry idx[SEG_MAX_BLOCKS > 4096 ? 4096 : SEG_MAX_BLOCKS];
	struct seg_header h;
	struct pbuf b = {0};
	const uint8_t *p;
	uint32_t kind, n, nb = 0;

	if (!next_meta(f, &kind, &p, &n) || kind != SEG_KIND_HEADER ||
	    seg_decode_header(p, n, &h, "in", NULL) != 0)
		return -1;
	f->minor = h.minor;
	if (!apply_all(argc, argv, &h, NULL))
		return -1;
	f->minor = h.minor;
	seg_encode_header(&b, &h);
	put_frame(f, SEG_KIND_HEADER, &b);
	while (next_meta(f, &kind, &p, &n)) {
		if (kind == SEG_KIND_FOOTER)
			return forge_footer(f, p, n, idx, nb);
		if (kind != SEG_KIND_BLOCK || nb == sizeof(idx) / sizeof(idx[0]) ||
		    forge_block(f, p, n, argc, argv, &idx[nb++]) != 0)
			return -1;
	}
	return -1;
}

/*
 * seg-forge IN OUT [KEY=VALUE...]: re-encode IN with header fields
 * (collector, seq, created, prev=HEX|zero, host, writer, minor) or fields of
 * every block header (block.metric, block.target, block.host,
 * block.database, block.colN, block.typeN, block.roleN, block.ndesc: that
 * many descriptors, block.extra=HEX: bytes before the CRC) replaced.  IN
 * and OUT may be the same file.
 */
int
helper_seg_forge(int argc, char **argv)
{
	struct forge f = {0};
	FILE *out;
	int rc;

	if (argc < 3)
		return forge_fail("usage: seg-forge IN OUT [KEY=VALUE...]");
	if (slurp(argv[1], &f) != 0)
		return forge_fail("cannot read the input segment");
	rc = forge_all(&f, argc - 3, argv + 3);
	if (rc != 0 || f.out.oom)
		return forge_fail("cannot re-encode the segment (or a bad KEY=VALUE)");
	out = fopen(argv[2], "wb");
	if (out == NULL || fwrite(f.out.p, 1, f.out.len, out) != f.out.len || fclose(out) != 0)
		return forge_fail("cannot write the output");
	pbuf_free(&f.out);
	free(f.in);
	return 0;
}

/* seg-name FILE: the name FILE's header gives it (where it belongs). */
int
helper_seg_name(int argc, char **argv)
{
	struct forge f = {0};
	struct seg_header h;
	const uint8_t *p;
	uint32_t kind, n;
	char name[SEG_NAME_MAX];

	if (argc < 2 || slurp(argv[1], &f) != 0 || !next_meta(&f, &kind, &p, &n) ||
	    kind != SEG_KIND_HEADER || seg_decode_header(p, n, &h, "file", NULL) != 0 ||
	    seg_name_format(name, sizeof(name), h.collector, h.seq, h.created_us, NULL) != 0)
		return forge_fail("usage: seg-name SEGMENT (a readable header)");
	printf("%s\n", name);
	free(f.in);
	return 0;
}
