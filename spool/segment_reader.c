/* Reading and verifying segment files from any byte source. */
#define _GNU_SOURCE
#include "spool/segment_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#define ZSTD_STATIC_LINKING_ONLY	/* ZSTD_getFrameHeader */
#include <zstd.h>

#include "common/fsutil.h"
#include "common/grow.h"

#define IBUF_SIZE (128 * 1024)
#define COLBUF_SIZE (SEG_MAX_COLS * (64 + SEG_TYPE_MAX + 1))	/* names, then types */
#define DECODE_WINDOW_LOG_MAX 23	/* caps decoder memory at 8 MiB */

enum rstate { ST_BETWEEN, ST_DATA, ST_DATA_DONE, ST_END };

struct seg_reader {
	seg_read_fn fn;
	void *ctx;
	int own_fd;
	char name[PATH_MAX];
	uint8_t *ibuf;
	size_t ipos, ilen;
	bool eof;
	uint64_t off;			/* file offset of ibuf[ipos] */
	struct pga_sha256 sha;		/* over every consumed byte */
	uint8_t *meta;
	size_t meta_cap;
	struct seg_header h;
	enum rstate state;
	struct seg_block_meta m;
	char *colbuf;
	const char **cols;
	struct seg_col_desc *desc;
	ZSTD_DCtx *dctx;
	uint32_t frame_crc;
	uint64_t frame_bytes, raw;
	struct csv_counter csv;
	struct seg_block_trailer trailer;
	uint32_t next_block;
	struct seg_index_entry *seen;
	size_t seen_cap;
	uint64_t total_rows, total_raw;
	int64_t min_snap, max_snap;
	struct seg_footer footer;
	struct seg_signature sig;
	uint8_t file_sha[PGA_SHA256_LEN];
	uint64_t good_end;
	bool one_block;			/* seg_reader_at_block(): one block, no file hash */
	/* encrypted segments (FORMAT.md "Encryption") */
	bool encrypted;
	struct pga_aead *aead;		/* the data key's cipher; NULL: no key */
	uint8_t *bh;			/* the block header's payload: the chunks' AAD */
	size_t bh_len, bh_cap;
	uint8_t *plain;			/* the current chunk, decrypted and authenticated */
	size_t ppos, plen;
	uint32_t chunk_no;
	bool last_chunk;		/* the block's last chunk has been read */
};

/* decrypt-key-file, for every reader of the process (segment.h) */
static const struct pga_xkey *const *g_keys;
static size_t g_nkeys;

void
seg_set_decrypt_keys(const struct pga_xkey *const *keys, size_t n)
{
	g_keys = keys;
	g_nkeys = keys != NULL ? n : 0;
}

bool
seg_header_encrypted(const struct seg_header *h)
{
	return (h->flags & SEG_FLAG_ENCRYPTED) != 0;
}

bool
seg_reader_can_decrypt(const struct seg_reader *r)
{
	return r->aead != NULL;
}

static ssize_t
fd_read(void *ctx, void *buf, size_t len)
{
	int fd = (int)(intptr_t)ctx;
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Make at least need bytes available unless the source ends first. */
static int
fill(struct seg_reader *r, size_t need, struct pga_err *err)
{
	if (r->ilen - r->ipos >= need || r->eof)
		return 0;
	if (r->ipos > 0) {
		memmove(r->ibuf, r->ibuf + r->ipos, r->ilen - r->ipos);
		r->ilen -= r->ipos;
		r->ipos = 0;
	}
	while (r->ilen < need && !r->eof) {
		ssize_t n = r->fn(r->ctx, r->ibuf + r->ilen, IBUF_SIZE - r->ilen);

		if (n < 0)
			return pga_fail(err, PGA_EIO, "could not read '%s': %m", r->name);
		if (n == 0)
			r->eof = true;
		r->ilen += (size_t)n;
	}
	return 0;
}

static size_t
avail(const struct seg_reader *r)
{
	return r->ilen - r->ipos;
}

static void
consume(struct seg_reader *r, size_t n)
{
	if (!r->one_block)
		pga_sha256_update(&r->sha, r->ibuf + r->ipos, n);
	r->ipos += n;
	r->off += n;
}

static int
truncated(struct seg_reader *r, const char *what, struct pga_err *err)
{
	return pga_fail(err, PGA_ETRUNC,
			"'%s': truncated: unexpected end of file in %s at offset %" PRIu64,
			r->name, what, r->off + avail(r));
}

/* Consume frame bytes, with CRC32C over them. */
static void
consume_frame(struct seg_reader *r, size_t n)
{
	r->frame_crc = pga_crc32c(r->frame_crc, r->ibuf + r->ipos, n);
	r->frame_bytes += n;
	consume(r, n);
}

/*
 * Take n bytes from the stream (n may exceed the buffer): copied to dst
 * unless it is NULL, and through the frame's CRC when in_frame.
 */
static int
take_bytes(struct seg_reader *r, uint8_t *dst, size_t n, bool in_frame, const char *what,
	   struct pga_err *err)
{
	while (n > 0) {
		size_t take;
		int rc = fill(r, 1, err);

		if (rc < 0)
			return rc;
		if (avail(r) == 0)
			return truncated(r, what, err);
		take = avail(r) < n ? avail(r) : n;
		if (dst != NULL) {
			memcpy(dst, r->ibuf + r->ipos, take);
			dst += take;
		}
		if (in_frame)
			consume_frame(r, take);
		else
			consume(r, take);
		n -= take;
	}
	return 0;
}

/* Peek the next frame's magic and length; false at a clean end of input. */
static int
peek_frame(struct seg_reader *r, uint32_t *magic, uint32_t *len, bool *at_end,
	   struct pga_err *err)
{
	int rc = fill(r, 8, err);

	if (rc < 0)
		return rc;
	*at_end = avail(r) == 0;
	if (*at_end)
		return 0;
	if (avail(r) < 8)
		return truncated(r, "frame header", err);
	*magic = le32(r->ibuf + r->ipos);
	*len = le32(r->ibuf + r->ipos + 4);
	return 0;
}

static int
read_meta(struct seg_reader *r, uint32_t len, size_t cap, const char *what,
	  struct pga_err *err)
{
	if (len > cap)
		return pga_fail(err, PGA_ECORRUPT, "'%s': %s length %u is over the limit",
				r->name, what, len);
	if (len > r->meta_cap) {
		uint8_t *p = realloc(r->meta, len);

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		r->meta = p;
		r->meta_cap = len;
	}
	consume(r, 8);
	return take_bytes(r, r->meta, len, false, what, err);
}

static bool
is_pga_magic(uint32_t magic)
{
	return (magic & 0xFFFFFFF0u) == SEG_SKIPPABLE_BASE;
}

/* "3f2a..., 8e1c..." of up to four key ids, for messages. */
static const char *
keyids(const uint8_t *const *ids, size_t n, char *buf, size_t cap)
{
	char one[17];

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < 4; i++) {
		if (i > 0)
			strlcat(buf, ", ", cap);
		strlcat(buf, seg_keyid_short(ids[i], one), cap);
	}
	if (n > 4)
		strlcat(buf, ", ...", cap);
	return buf;
}

/*
 * Unwrap the data key with the first of our keys that is a recipient.
 * No recipient among them: PGA_EKEY naming both sides (the wrong key, or a
 * segment for another site); a wrapped key that does not open: ECHECKSUM.
 */
static int
open_envelope(struct seg_reader *r, struct pga_err *err)
{
	const uint8_t *theirs[SEG_MAX_RECIPIENTS], *ours[SEG_MAX_RECIPIENTS];
	uint8_t dk[PGA_X_DATAKEY_LEN], kc[PGA_X_KEYCHECK_LEN];
	char a[96], b[96], id[17];
	int rc;

	for (uint16_t i = 0; i < r->h.nrecip; i++) {
		const struct seg_recipient *rp = &r->h.recip[i];

		theirs[i] = rp->key_id;
		for (size_t k = 0; k < g_nkeys; k++) {
			if (memcmp(pga_xkey_id(g_keys[k]), rp->key_id, PGA_X_KEYID_LEN) != 0)
				continue;
			rc = pga_x_unwrap(g_keys[k], rp->eph, rp->wrapped, rp->wrapped_len,
					  r->h.env_aad, PGA_SHA256_LEN, dk, err);
			if (rc == 0)
				rc = pga_x_keycheck(dk, kc, err);
			if (rc == 0 && memcmp(kc, r->h.keycheck, PGA_X_KEYCHECK_LEN) != 0)
				rc = pga_fail(err, PGA_ECHECKSUM, "its key check does not match "
					      "the data key");
			if (rc == 0)
				rc = pga_aead_new(&r->aead, dk, err);
			explicit_bzero(dk, sizeof(dk));
			if (rc < 0)
				return pga_fail(err, rc, "'%s': recipient %s: %s", r->name,
						seg_keyid_short(rp->key_id, id), err->msg);
			return 0;
		}
	}
	for (size_t k = 0; k < g_nkeys && k < SEG_MAX_RECIPIENTS; k++)
		ours[k] = pga_xkey_id(g_keys[k]);
	return pga_fail(err, PGA_EKEY, "'%s': encrypted to key %s; decrypt-key-file holds "
			"key %s: none of them can decrypt it", r->name,
			keyids(theirs, r->h.nrecip, a, sizeof(a)),
			keyids(ours, g_nkeys, b, sizeof(b)));
}

static int
read_header(struct seg_reader *r, struct pga_err *err)
{
	uint32_t magic, len;
	int rc = fill(r, 8, err);

	if (rc < 0)
		return rc;
	/* a short file can still be told apart: foreign beats truncated */
	if (avail(r) < 4)
		return pga_fail(err, PGA_ETRUNC, "'%s': truncated: %zu bytes is too short for a segment",
				r->name, avail(r));
	magic = le32(r->ibuf + r->ipos);
	if (magic != SEG_SKIPPABLE_BASE + SEG_KIND_HEADER)
		return pga_fail(err, PGA_EFORMAT,
				"'%s': not a pga segment (foreign magic 0x%08x)", r->name, magic);
	if (avail(r) < 8)
		return truncated(r, "segment header", err);
	len = le32(r->ibuf + r->ipos + 4);
	rc = read_meta(r, len, SEG_MAX_META, "segment header", err);
	if (rc < 0)
		return rc;
	rc = seg_decode_header(r->meta, len, &r->h, r->name, err);
	r->good_end = r->off;
	r->encrypted = rc == 0 && seg_header_encrypted(&r->h);
	if (r->encrypted && g_nkeys > 0)
		rc = open_envelope(r, err);
	return rc;
}

int
seg_reader_open(struct seg_reader **out, seg_read_fn fn, void *ctx,
		const char *name, struct pga_err *err)
{
	struct seg_reader *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (r == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	r->own_fd = -1;
	r->fn = fn;
	r->ctx = ctx;
	strlcpy(r->name, name, sizeof(r->name));
	r->ibuf = malloc(IBUF_SIZE);
	r->plain = malloc(SEG_CHUNK_MAX);
	r->colbuf = malloc(COLBUF_SIZE);
	r->cols = calloc(SEG_MAX_COLS, sizeof(*r->cols));
	r->desc = calloc(SEG_MAX_COLS, sizeof(*r->desc));
	r->dctx = ZSTD_createDCtx();
	r->min_snap = INT64_MAX;
	r->max_snap = INT64_MIN;
	if (r->ibuf == NULL || r->plain == NULL || r->colbuf == NULL || r->cols == NULL ||
	    r->desc == NULL || r->dctx == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		goto out;
	}
	ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, DECODE_WINDOW_LOG_MAX);
	rc = pga_sha256_init(&r->sha, err);
	if (rc == 0)
		rc = read_header(r, err);
out:
	if (rc < 0) {
		seg_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int
seg_reader_open_file(struct seg_reader **out, const char *path,
		     struct pga_err *err)
{
	int fd, rc;

	*out = NULL;
	rc = pga_open_sequential(path, &fd, err);
	if (rc < 0)
		return rc;
	rc = seg_reader_open(out, fd_read, (void *)(intptr_t)fd, path, err);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	(*out)->own_fd = fd;
	return 0;
}

const struct seg_header *
seg_reader_header(const struct seg_reader *r)
{
	return &r->h;
}

/* ---- blocks ---- */

static int
remember_block(struct seg_reader *r, uint64_t offset, struct pga_err *err)
{
	struct seg_index_entry *e;

	if (r->next_block >= SEG_MAX_BLOCKS)
		return pga_fail(err, PGA_ECORRUPT, "'%s': more than %d blocks", r->name,
				SEG_MAX_BLOCKS);
	if (PGA_GROW(r->seen, r->seen_cap, (size_t)r->next_block + 1, SEG_MAX_BLOCKS, err) < 0)
		return err->code;
	e = &r->seen[r->next_block];
	e->offset = offset;
	e->rows = 0;
	e->snapshot_us = r->m.snapshot_us;
	strlcpy(e->metric, r->m.metric, sizeof(e->metric));
	return 0;
}

/* "'<name>': <what>" from a decoder becomes "'<name>': block N: <what>". */
static int
name_block(struct seg_reader *r, struct pga_err *err)
{
	const char *what = err->msg;
	size_t n = strlen(r->name);

	if (what[0] == '\'' && strncmp(what + 1, r->name, n) == 0 &&
	    strncmp(what + 1 + n, "': ", 3) == 0)
		what += n + 4;
	return pga_fail(err, err->code, "'%s': block %u: %s", r->name, r->next_block, what);
}

/* The block header's payload, still in r->meta: the AAD of its chunks. */
static int
keep_block_aad(struct seg_reader *r, uint32_t len, struct pga_err *err)
{
	if (len > r->bh_cap) {
		uint8_t *p = realloc(r->bh, len);

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		r->bh = p;
		r->bh_cap = len;
	}
	memcpy(r->bh, r->meta, len);
	r->bh_len = len;
	return 0;
}

/*
 * The next sealed chunk of the block (FORMAT.md "Encryption"), its frame
 * header and payload through the trailer's CRC.  Its structure and key
 * check are checked always; with the data key it is decrypted into
 * r->plain and authenticated before any of it is used (decrypt false:
 * authenticated and discarded, what skipping a block with the key does).
 */
static int
read_chunk(struct seg_reader *r, bool decrypt, struct pga_err *err)
{
	uint8_t fh[8], nonce[PGA_X_NONCE_LEN] = {0};
	const uint8_t *ct;
	uint32_t len;
	size_t ctlen;
	int rc;

	if (r->last_chunk)
		return pga_fail(err, PGA_ECORRUPT, "'%s': block %u: data after its last chunk",
				r->name, r->next_block);
	rc = fill(r, 8, err);
	if (rc == 0 && avail(r) < 8)
		rc = truncated(r, "sealed chunk", err);
	if (rc < 0)
		return rc;
	if (le32(r->ibuf + r->ipos) != SEG_SKIPPABLE_BASE + SEG_KIND_SEALED)
		return pga_fail(err, PGA_ECORRUPT, "'%s': block %u: chunk %u is missing at offset "
				"%" PRIu64 " (the data ends before its last chunk)", r->name,
				r->next_block, r->chunk_no, r->off);
	len = le32(r->ibuf + r->ipos + 4);
	if (len < SEG_CHUNK_OVERHEAD || len > SEG_CHUNK_OVERHEAD + SEG_CHUNK_MAX)
		return pga_fail(err, PGA_ECORRUPT, "'%s': block %u: chunk %u has a bad length %u",
				r->name, r->next_block, r->chunk_no, len);
	if (len > r->meta_cap) {
		uint8_t *p = realloc(r->meta, len);

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		r->meta = p;
		r->meta_cap = len;
	}
	rc = take_bytes(r, fh, 8, true, "sealed chunk", err);
	if (rc == 0)
		rc = take_bytes(r, r->meta, len, true, "sealed chunk", err);
	if (rc < 0)
		return rc;
	/* every bit of the flags byte has a meaning (last, retry number): a
	 * changed one fails the frame's CRC and, with the key, the GCM tag
	 * (the nonce is made of it) */
	if (memcmp(r->meta, "PGAX", 4) != 0)
		return pga_fail(err, PGA_ECORRUPT, "'%s': block %u: chunk %u is malformed",
				r->name, r->next_block, r->chunk_no);
	if (memcmp(r->meta + 5, r->h.keycheck, PGA_X_KEYCHECK_LEN) != 0)
		return pga_fail(err, PGA_ECORRUPT, "'%s': block %u: chunk %u was sealed under "
				"another segment's data key (a block moved from another segment)",
				r->name, r->next_block, r->chunk_no);
	r->last_chunk = (r->meta[4] & SEG_CHUNK_LAST) != 0;
	ct = r->meta + 5 + PGA_X_KEYCHECK_LEN;
	ctlen = len - SEG_CHUNK_OVERHEAD;
	if (r->aead == NULL) {
		r->chunk_no++;
		return 0;
	}
	put_le32(nonce, r->next_block);
	put_le32(nonce + 4, r->chunk_no);
	nonce[8] = (uint8_t)(r->meta[4] >> SEG_CHUNK_RETRY_SHIFT);
	nonce[11] = r->last_chunk ? 1 : 0;
	rc = pga_aead_open(r->aead, nonce, r->bh, r->bh_len, ct, ctlen,
			   decrypt ? r->plain : r->meta + 5 + PGA_X_KEYCHECK_LEN, ct + ctlen, err);
	if (rc == PGA_ECHECKSUM)
		return pga_fail(err, rc, "'%s': block %u: chunk %u fails authentication (its "
				"ciphertext or the block header was altered)", r->name,
				r->next_block, r->chunk_no);
	if (rc < 0)
		return rc;
	r->chunk_no++;
	r->ppos = 0;
	r->plen = decrypt ? ctlen : 0;
	return 0;
}

static int
read_block_header(struct seg_reader *r, uint32_t len, struct pga_err *err)
{
	uint64_t start = r->off;
	int rc = read_meta(r, len, SEG_MAX_META, "block header", err);

	if (rc < 0)
		return rc;
	rc = seg_decode_block(r->meta, len, r->h.minor, &r->m, r->colbuf, COLBUF_SIZE, r->cols,
			      r->desc, r->name, err);
	if (rc < 0)
		return name_block(r, err);
	if (r->m.block_no != r->next_block)
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': blocks out of order: expected block %u, found block %u at offset %" PRIu64,
				r->name, r->next_block, r->m.block_no, start);
	rc = r->one_block ? 0 : remember_block(r, start, err);
	if (rc == 0 && r->encrypted)
		rc = keep_block_aad(r, len, err);
	if (rc < 0)
		return rc;
	rc = fill(r, 4, err);
	if (rc < 0)
		return rc;
	if (avail(r) < 4)
		return truncated(r, "data frame", err);
	if (le32(r->ibuf + r->ipos) != (r->encrypted ? SEG_SKIPPABLE_BASE + SEG_KIND_SEALED
						     : SEG_ZSTD_MAGIC))
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': block %u has no %s data frame at offset %" PRIu64,
				r->name, r->next_block, r->encrypted ? "sealed" : "zstd", r->off);
	ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
	r->ppos = r->plen = 0;
	r->chunk_no = 0;
	r->last_chunk = false;
	r->frame_crc = 0;
	r->frame_bytes = 0;
	r->raw = 0;
	memset(&r->csv, 0, sizeof(r->csv));
	r->state = ST_DATA;
	return 0;
}

static int
read_trailer(struct seg_reader *r, bool decoded, struct pga_err *err)
{
	struct seg_block_trailer *t = &r->trailer;
	uint32_t magic = 0, len = 0;
	bool at_end;
	int rc = peek_frame(r, &magic, &len, &at_end, err);

	if (rc < 0)
		return rc;
	if (at_end)
		return truncated(r, "block trailer", err);
	if (magic != SEG_SKIPPABLE_BASE + SEG_KIND_TRAILER)
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': block %u: expected a block trailer at offset %" PRIu64,
				r->name, r->next_block, r->off);
	rc = read_meta(r, len, SEG_MAX_META, "block trailer", err);
	if (rc == 0)
		rc = seg_decode_trailer(r->meta, len, t, r->name, err);
	if (rc < 0)
		return pga_err_prefix(err, "block %u", r->next_block);
	if (t->block_no != r->next_block || t->frame_bytes != r->frame_bytes)
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': block %u: trailer does not match its block", r->name,
				r->next_block);
	if (t->frame_crc != r->frame_crc)
		return pga_fail(err, PGA_ECHECKSUM,
				"'%s': block %u: data frame crc32c mismatch", r->name,
				r->next_block);
	if (decoded && (t->rows != r->csv.rows || t->raw_bytes != r->raw))
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': block %u: trailer says %" PRIu64 " rows, %" PRIu64
				" bytes; data has %" PRIu64 " rows, %" PRIu64 " bytes",
				r->name, r->next_block, t->rows, t->raw_bytes, r->csv.rows, r->raw);
	if (r->one_block) {
		r->state = ST_DATA_DONE;
		return 0;
	}
	r->seen[r->next_block].rows = t->rows;
	r->total_rows += t->rows;
	r->total_raw += t->raw_bytes;
	if (r->m.snapshot_us < r->min_snap)
		r->min_snap = r->m.snapshot_us;
	if (r->m.snapshot_us > r->max_snap)
		r->max_snap = r->m.snapshot_us;
	r->next_block++;
	r->good_end = r->off;
	r->state = ST_DATA_DONE;
	return 0;
}

/*
 * seg_reader_read() of an encrypted block: the zstd frame comes out of
 * authenticated chunks only, and must end exactly with the last one.
 */
static int
read_sealed(struct seg_reader *r, void *buf, size_t cap, size_t *got, struct pga_err *err)
{
	ZSTD_outBuffer out = {buf, cap, 0};
	int rc;

	if (r->aead == NULL)
		return pga_fail(err, PGA_EKEY, "'%s': block %u is encrypted: reading it needs "
				"its recipient's private key (decrypt-key-file)", r->name,
				r->next_block);
	while (out.pos == 0) {
		ZSTD_inBuffer in;
		size_t ret;

		if (r->ppos == r->plen) {
			if (r->last_chunk)
				return pga_fail(err, PGA_ECHECKSUM, "'%s': block %u: its data ends "
						"inside the zstd frame", r->name, r->next_block);
			rc = read_chunk(r, true, err);
			if (rc < 0)
				return rc;
			continue;
		}
		in = (ZSTD_inBuffer){r->plain + r->ppos, r->plen - r->ppos, 0};
		ret = ZSTD_decompressStream(r->dctx, &out, &in);
		r->ppos += in.pos;
		if (ZSTD_isError(ret))
			return pga_fail(err, PGA_ECHECKSUM,
					"'%s': block %u: data frame is corrupt (zstd: %s)",
					r->name, r->next_block, ZSTD_getErrorName(ret));
		if (ret == 0) {
			csv_count(&r->csv, buf, out.pos);
			r->raw += out.pos;
			*got = out.pos;
			if (r->ppos != r->plen || !r->last_chunk)
				return pga_fail(err, PGA_ECORRUPT, "'%s': block %u: data after "
						"its zstd frame", r->name, r->next_block);
			return read_trailer(r, true, err);
		}
	}
	csv_count(&r->csv, buf, out.pos);
	r->raw += out.pos;
	*got = out.pos;
	return 0;
}

int
seg_reader_read(struct seg_reader *r, void *buf, size_t cap, size_t *got,
		struct pga_err *err)
{
	ZSTD_outBuffer out = {buf, cap, 0};
	int rc;

	*got = 0;
	if (r->state == ST_DATA_DONE)
		return 0;
	if (r->state != ST_DATA)
		return pga_fail(err, PGA_EINTERNAL, "'%s': no block to read", r->name);
	if (r->encrypted)
		return read_sealed(r, buf, cap, got, err);
	while (out.pos == 0) {
		ZSTD_inBuffer in;
		size_t ret;

		rc = fill(r, 1, err);
		if (rc < 0)
			return rc;
		if (avail(r) == 0)
			return truncated(r, "data frame", err);
		in = (ZSTD_inBuffer){r->ibuf + r->ipos, avail(r), 0};
		ret = ZSTD_decompressStream(r->dctx, &out, &in);
		consume_frame(r, in.pos);
		if (ZSTD_isError(ret))
			return pga_fail(err, PGA_ECHECKSUM,
					"'%s': block %u: data frame is corrupt (zstd: %s)",
					r->name, r->next_block, ZSTD_getErrorName(ret));
		if (ret == 0) {
			csv_count(&r->csv, buf, out.pos);
			r->raw += out.pos;
			rc = read_trailer(r, true, err);
			*got = out.pos;
			return rc;
		}
	}
	csv_count(&r->csv, buf, out.pos);
	r->raw += out.pos;
	*got = out.pos;
	return 0;
}

int
seg_reader_skip(struct seg_reader *r, struct pga_err *err)
{
	ZSTD_frameHeader fh;
	size_t hsize;
	bool last = false;
	int rc;

	if (r->state == ST_DATA_DONE)
		return 0;
	if (r->state != ST_DATA || r->frame_bytes != 0)
		return pga_fail(err, PGA_EINTERNAL, "'%s': cannot skip now", r->name);
	if (r->encrypted) {	/* with the key, every chunk is authenticated */
		while (!r->last_chunk) {
			rc = read_chunk(r, false, err);
			if (rc < 0)
				return rc;
		}
		return read_trailer(r, false, err);
	}
	rc = fill(r, ZSTD_FRAMEHEADERSIZE_MAX, err);
	if (rc < 0)
		return rc;
	hsize = ZSTD_frameHeaderSize(r->ibuf + r->ipos, avail(r));
	if (ZSTD_isError(hsize) || hsize > avail(r) ||
	    ZSTD_getFrameHeader(&fh, r->ibuf + r->ipos, avail(r)) != 0)
		return pga_fail(err, PGA_ECHECKSUM, "'%s': block %u: bad zstd frame header",
				r->name, r->next_block);
	consume_frame(r, hsize);
	while (!last) {
		uint32_t bh, type, size;

		rc = fill(r, 3, err);
		if (rc < 0)
			return rc;
		if (avail(r) < 3)
			return truncated(r, "data frame", err);
		bh = r->ibuf[r->ipos] | r->ibuf[r->ipos + 1] << 8 |
		     (uint32_t)r->ibuf[r->ipos + 2] << 16;
		last = bh & 1;
		type = (bh >> 1) & 3;
		size = bh >> 3;
		if (type == 3 || size > ZSTD_BLOCKSIZE_MAX)
			return pga_fail(err, PGA_ECHECKSUM, "'%s': block %u: bad zstd block",
					r->name, r->next_block);
		consume_frame(r, 3);
		rc = take_bytes(r, NULL, type == 1 ? 1 : size, true, "data frame", err);
		if (rc < 0)
			return rc;
	}
	if (fh.checksumFlag) {
		rc = take_bytes(r, NULL, 4, true, "data frame", err);
		if (rc < 0)
			return rc;
	}
	return read_trailer(r, false, err);
}

static int
drain_block(struct seg_reader *r, struct pga_err *err)
{
	uint8_t buf[64 * 1024];
	size_t got;
	int rc;

	if (r->encrypted && r->aead == NULL)	/* all but the plaintext is checked */
		return seg_reader_skip(r, err);
	do
		rc = seg_reader_read(r, buf, sizeof(buf), &got, err);
	while (rc == 0 && got > 0);
	return rc;
}

static int
footer_matches(struct seg_reader *r, struct pga_err *err)
{
	const struct seg_footer *f = &r->footer;

	if (f->nblocks != r->next_block || f->total_rows != r->total_rows ||
	    f->total_raw != r->total_raw || f->min_snapshot_us != r->min_snap ||
	    f->max_snapshot_us != r->max_snap)
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': footer totals do not match the blocks (%u blocks in footer, %u read)",
				r->name, f->nblocks, r->next_block);
	for (uint32_t i = 0; i < f->nblocks; i++)
		if (f->index[i].offset != r->seen[i].offset ||
		    f->index[i].rows != r->seen[i].rows ||
		    f->index[i].snapshot_us != r->seen[i].snapshot_us ||
		    strcmp(f->index[i].metric, r->seen[i].metric) != 0)
			return pga_fail(err, PGA_ECORRUPT,
					"'%s': footer index entry %u does not match block %u",
					r->name, i, i);
	return 0;
}

/* A signed segment's last frame: its structure (the key is the caller's). */
static int
read_signature(struct seg_reader *r, struct pga_err *err)
{
	uint32_t magic = 0, len = 0;
	bool at_end;
	int rc = peek_frame(r, &magic, &len, &at_end, err);

	if (rc < 0)
		return rc;
	if (at_end)
		return pga_fail(err, PGA_ETRUNC, "'%s': truncated: the header says signed but "
				"no signature follows the footer (offset %" PRIu64 ")", r->name, r->off);
	if (magic != SEG_SKIPPABLE_BASE + SEG_KIND_SIGNATURE)
		return pga_fail(err, PGA_ECORRUPT, "'%s': expected the signature frame at "
				"offset %" PRIu64 ", found 0x%08x", r->name, r->off, magic);
	rc = read_meta(r, len, SEG_MAX_META, "signature", err);
	if (rc == 0)
		rc = seg_decode_signature(r->meta, len, &r->sig, r->name, err);
	return rc;
}

static int
read_footer(struct seg_reader *r, uint32_t len, struct pga_err *err)
{
	uint8_t before[PGA_SHA256_LEN];
	int rc;

	pga_sha256_peek(&r->sha, before);
	rc = read_meta(r, len, SEG_MAX_FOOTER, "footer", err);
	if (rc == 0)
		rc = seg_decode_footer(r->meta, len, &r->footer, r->name, err);
	if (rc == 0)
		rc = footer_matches(r, err);
	if (rc < 0)
		return rc;
	if (memcmp(before, r->footer.sha256, PGA_SHA256_LEN) != 0)
		return pga_fail(err, PGA_ECHECKSUM, "'%s': footer sha-256 mismatch", r->name);
	if (r->h.flags & SEG_FLAG_SIGNED) {
		rc = read_signature(r, err);
		if (rc < 0)
			return rc;
	}
	rc = fill(r, 1, err);
	if (rc < 0)
		return rc;
	if (avail(r) > 0)
		return pga_fail(err, PGA_ECORRUPT, "'%s': data after the footer at offset %" PRIu64,
				r->name, r->off);
	pga_sha256_final(&r->sha, r->file_sha);
	r->state = ST_END;
	return 0;
}

int
seg_reader_next(struct seg_reader *r, const struct seg_block_meta **meta,
		struct pga_err *err)
{
	uint32_t magic = 0, len = 0;
	bool at_end;
	int rc;

	if (r->state == ST_END)
		return 0;
	if (r->state == ST_DATA) {
		rc = drain_block(r, err);
		if (rc < 0)
			return rc;
	}
	if (r->one_block && r->state == ST_DATA_DONE)
		return 0;
	rc = peek_frame(r, &magic, &len, &at_end, err);
	if (rc == 0 && r->one_block && magic != SEG_SKIPPABLE_BASE + SEG_KIND_BLOCK)
		return pga_fail(err, PGA_ECORRUPT, "'%s': no block %u at offset %" PRIu64, r->name,
				r->next_block, r->off);
	if (rc < 0)
		return rc;
	if (at_end)
		return pga_fail(err, PGA_ETRUNC,
				"'%s': truncated: no footer after block %u (offset %" PRIu64 ")",
				r->name, r->next_block, r->off);
	if (magic == SEG_SKIPPABLE_BASE + SEG_KIND_BLOCK) {
		rc = read_block_header(r, len, err);
		if (rc < 0)
			return rc;
		*meta = &r->m;
		return 1;
	}
	if (magic == SEG_SKIPPABLE_BASE + SEG_KIND_FOOTER)
		return read_footer(r, len, err);
	if (is_pga_magic(magic) || magic == SEG_ZSTD_MAGIC)
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': unexpected frame 0x%08x at offset %" PRIu64 " after block %u",
				r->name, magic, r->off, r->next_block);
	return pga_fail(err, PGA_ECORRUPT, "'%s': garbage at offset %" PRIu64, r->name,
			r->off);
}

int
seg_reader_at_block(struct seg_reader *r, seg_read_fn fn, void *ctx, uint32_t block_no,
		    uint64_t offset)
{
	r->fn = fn;
	r->ctx = ctx;
	r->ipos = r->ilen = 0;
	r->eof = false;
	r->off = offset;
	r->next_block = block_no;
	r->state = ST_BETWEEN;
	r->one_block = true;
	return 0;
}

const struct seg_block_trailer *
seg_reader_trailer(const struct seg_reader *r)
{
	return &r->trailer;
}

const struct seg_footer *
seg_reader_footer(const struct seg_reader *r)
{
	return r->state == ST_END ? &r->footer : NULL;
}

const struct seg_signature *
seg_reader_signature(const struct seg_reader *r)
{
	return r->state == ST_END && (r->h.flags & SEG_FLAG_SIGNED) ? &r->sig : NULL;
}

void
seg_reader_file_sha256(const struct seg_reader *r, uint8_t out[PGA_SHA256_LEN])
{
	memcpy(out, r->file_sha, PGA_SHA256_LEN);
}

uint64_t
seg_reader_offset(const struct seg_reader *r)
{
	return r->off;
}

void
seg_reader_free(struct seg_reader *r)
{
	if (r == NULL)
		return;
	if (r->own_fd >= 0)
		close(r->own_fd);
	pga_sha256_free(&r->sha);
	pga_aead_free(r->aead);
	if (r->plain != NULL)
		explicit_bzero(r->plain, SEG_CHUNK_MAX);
	free(r->plain);
	free(r->bh);
	ZSTD_freeDCtx(r->dctx);
	free(r->footer.index);
	free(r->seen);
	free(r->meta);
	free(r->cols);
	free(r->desc);
	free(r->colbuf);
	free(r->ibuf);
	free(r);
}

/* ---- whole-file helpers ---- */

static int
read_exact(seg_read_fn fn, void *ctx, uint8_t *buf, size_t n, const char *name,
	   const char *what, struct pga_err *err)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = fn(ctx, buf + got, n - got);

		if (r < 0)
			return pga_fail(err, PGA_EIO, "could not read '%s': %m", name);
		if (r == 0)
			return pga_fail(err, PGA_ETRUNC, "'%s': truncated: unexpected end of"
					" file in %s at offset %zu", name, what, got);
		got += (size_t)r;
	}
	return 0;
}

int
seg_read_header(seg_read_fn fn, void *ctx, const char *name, struct seg_header *h,
		struct pga_err *err)
{
	uint8_t fh[8], *buf;
	uint32_t len;
	int rc = read_exact(fn, ctx, fh, sizeof(fh), name, "segment header", err);

	if (rc < 0)
		return rc;
	if (le32(fh) != SEG_SKIPPABLE_BASE + SEG_KIND_HEADER)
		return pga_fail(err, PGA_EFORMAT, "'%s': not a pga segment (foreign magic 0x%08x)",
				name, le32(fh));
	len = le32(fh + 4);
	if (len > SEG_MAX_META)
		return pga_fail(err, PGA_ECORRUPT, "'%s': segment header length %u is over the"
				" limit", name, len);
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = read_exact(fn, ctx, buf, len, name, "segment header", err);
	if (rc == 0)
		rc = seg_decode_header(buf, len, h, name, err);
	free(buf);
	return rc;
}

int
seg_verify_stream(seg_read_fn fn, void *ctx, const char *name,
		  struct seg_info *info, struct pga_err *err)
{
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	int rc;

	rc = seg_reader_open(&r, fn, ctx, name, err);
	while (rc == 0 && (rc = seg_reader_next(r, &m, err)) == 1)
		rc = drain_block(r, err);
	if (rc == 0 && info != NULL) {
		memset(info, 0, sizeof(*info));
		info->header = r->h;
		info->flags = r->footer.flags;
		info->nblocks = r->footer.nblocks;
		info->rows = r->footer.total_rows;
		info->raw_bytes = r->footer.total_raw;
		info->torn_bytes = r->footer.torn_bytes;
		info->min_snapshot_us = r->footer.min_snapshot_us;
		info->max_snapshot_us = r->footer.max_snapshot_us;
		info->size = r->off;
		memcpy(info->file_sha256, r->file_sha, PGA_SHA256_LEN);
		memcpy(info->footer_sha256, r->footer.sha256, PGA_SHA256_LEN);
		info->is_signed = (r->h.flags & SEG_FLAG_SIGNED) != 0;
		if (info->is_signed)
			info->sig = r->sig;
		info->decrypted = r->encrypted && r->aead != NULL;
	}
	seg_reader_free(r);
	return rc;
}

int
seg_verify_file(const char *path, struct seg_info *info, struct pga_err *err)
{
	int fd, rc = pga_open_sequential(path, &fd, err);

	if (rc < 0)
		return rc;
	rc = seg_verify_stream(fd_read, (void *)(intptr_t)fd, path, info, err);
	close(fd);
	return rc;
}

static int
pread_exact(int fd, void *buf, size_t n, off_t off, const char *path,
	    struct pga_err *err)
{
	ssize_t got = pread(fd, buf, n, off);

	if (got < 0)
		return pga_fail(err, PGA_EIO, "could not read '%s': %m", path);
	if ((size_t)got != n)
		return pga_fail(err, PGA_ETRUNC, "'%s': truncated", path);
	return 0;
}

/*
 * The frame that ends at *end (its last 8 bytes: length and PGAE), whole
 * into buf (8-byte frame header included, *len its length); *end moves to
 * its start.
 */
static int
read_tail_frame(int fd, const char *path, uint64_t *end, uint32_t cap, uint8_t *buf,
		uint32_t *len, struct pga_err *err)
{
	uint8_t tail[8];
	int rc;

	if (*end < 16)
		return pga_fail(err, PGA_ETRUNC, "'%s': truncated: no footer", path);
	rc = pread_exact(fd, tail, 8, (off_t)(*end - 8), path, err);
	if (rc == 0 && memcmp(tail + 4, "PGAE", 4) != 0)
		rc = pga_fail(err, PGA_ETRUNC, "'%s': truncated: no footer", path);
	if (rc < 0)
		return rc;
	*len = le32(tail);
	if (*len < 24 || *len - 8 > cap || *len > *end)
		return pga_fail(err, PGA_ECORRUPT, "'%s': bad footer length", path);
	rc = pread_exact(fd, buf, *len, (off_t)(*end - *len), path, err);
	if (rc == 0)
		*end -= *len;
	return rc;
}

/* Header frame from the front, footer frame from the back. */
static int
read_ends(int fd, const char *path, struct seg_header *h, struct seg_footer *f,
	  uint64_t *size, struct pga_err *err)
{
	uint8_t fh[8];
	uint8_t *buf = NULL;
	uint64_t end;
	struct stat st;
	uint32_t len;
	int rc;

	if (fstat(fd, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not stat '%s': %m", path);
	*size = (uint64_t)st.st_size;
	rc = pread_exact(fd, fh, 8, 0, path, err);
	if (rc < 0)
		return rc;
	if (le32(fh) != SEG_SKIPPABLE_BASE + SEG_KIND_HEADER)
		return pga_fail(err, PGA_EFORMAT, "'%s': not a pga segment (foreign magic 0x%08x)",
				path, le32(fh));
	len = le32(fh + 4);
	if (len > SEG_MAX_META || len + 16u > *size)
		return pga_fail(err, PGA_ECORRUPT, "'%s': bad header length", path);
	buf = malloc(len > SEG_MAX_FOOTER + 8 ? len : SEG_MAX_FOOTER + 8);
	if (buf == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = pread_exact(fd, buf, len, 8, path, err);
	if (rc == 0)
		rc = seg_decode_header(buf, len, h, path, err);
	end = (uint64_t)st.st_size;
	if (rc == 0 && (h->flags & SEG_FLAG_SIGNED)) {	/* the signature frame is last */
		rc = read_tail_frame(fd, path, &end, SEG_MAX_META, buf, &len, err);
		if (rc == 0 && le32(buf) != SEG_SKIPPABLE_BASE + SEG_KIND_SIGNATURE)
			rc = pga_fail(err, PGA_ECORRUPT, "'%s': the header says signed but the "
				      "last frame is not a signature", path);
	}
	if (rc == 0)
		rc = read_tail_frame(fd, path, &end, SEG_MAX_FOOTER, buf, &len, err);
	if (rc == 0 && le32(buf) != SEG_SKIPPABLE_BASE + SEG_KIND_FOOTER)
		rc = pga_fail(err, PGA_ECORRUPT, "'%s': the last frame is not a footer", path);
	if (rc == 0)
		rc = seg_decode_footer(buf + 8, len - 8, f, path, err);
	free(buf);
	return rc;
}

int
seg_read_footer_file(const char *path, struct seg_header *h,
		     struct seg_footer *footer, struct pga_err *err)
{
	uint64_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	memset(footer, 0, sizeof(*footer));
	if (fd < 0)
		return pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_EIO,
				"could not open '%s': %m", path);
	rc = read_ends(fd, path, h, footer, &size, err);
	close(fd);
	return rc;
}

int
seg_peek_file(const char *path, struct seg_info *info, struct pga_err *err)
{
	struct seg_footer f = {0};
	uint64_t size = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	memset(info, 0, sizeof(*info));
	if (fd < 0)
		return pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_EIO,
				"could not open '%s': %m", path);
	rc = read_ends(fd, path, &info->header, &f, &size, err);
	close(fd);
	if (rc < 0)
		goto out;
	info->flags = f.flags;
	info->nblocks = f.nblocks;
	info->rows = f.total_rows;
	info->raw_bytes = f.total_raw;
	info->torn_bytes = f.torn_bytes;
	info->min_snapshot_us = f.min_snapshot_us;
	info->max_snapshot_us = f.max_snapshot_us;
	info->size = size;
out:
	free(f.index);
	return rc;
}

const char *
seg_keyid_short(const uint8_t id[PGA_SIGN_KEYID_LEN], char out[17])
{
	pga_hex(id, 8, out);
	out[16] = '\0';
	return out;
}

int
seg_signature_check(const struct seg_info *info, const struct pga_pubkey *k,
		    const char *name, struct pga_err *err)
{
	char want[17], got[17];

	if (!info->is_signed)
		return pga_fail(err, PGA_ENOTFOUND, "'%s' is not signed", name);
	if (memcmp(info->sig.key_id, pga_pubkey_id(k), PGA_SIGN_KEYID_LEN) != 0)
		return pga_fail(err, PGA_EPERM, "'%s' is signed by key %s, not by key %s", name,
				seg_keyid_short(info->sig.key_id, got),
				seg_keyid_short(pga_pubkey_id(k), want));
	if (!pga_pubkey_verify(k, info->footer_sha256, PGA_SHA256_LEN, info->sig.sig,
			       PGA_SIGN_SIG_LEN))
		return pga_fail(err, PGA_ECHECKSUM, "'%s': bad signature by key %s", name,
				seg_keyid_short(info->sig.key_id, got));
	return 0;
}

int
seg_check_chain(const struct seg_info *prev, const struct seg_info *next,
		const char *next_name, struct pga_err *err)
{
	const struct seg_header *h = &next->header;

	if (strcmp(prev->header.collector, h->collector) != 0)
		return 1;
	if (h->seq <= prev->header.seq)
		return pga_fail(err, PGA_ECHAIN,
				"'%s': sequence %" PRIu64 " does not follow %" PRIu64,
				next_name, h->seq, prev->header.seq);
	if (h->seq == prev->header.seq + 1 &&
	    memcmp(prev->file_sha256, h->prev_sha256, PGA_SHA256_LEN) != 0)
		return pga_fail(err, PGA_ECHAIN,
				"'%s': chain broken: previous-segment hash does not match segment %" PRIu64,
				next_name, prev->header.seq);
	return 0;
}
