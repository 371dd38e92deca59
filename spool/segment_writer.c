/* Writing segment files, and the block compressor. */
#define _GNU_SOURCE
#include "spool/segment_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <zstd.h>

#include "common/fsutil.h"
#include "common/grow.h"
#include "common/log.h"
#include "common/utf8.h"

#define WBUF_SIZE (256 * 1024)
#define SPILL_TABLE_LOG 14

struct seg_writer {
	int fd;
	char path[PATH_MAX];
	struct seg_header h;
	struct pga_sha256 sha;		/* every byte written so far */
	struct pga_sha256 sha_mark;	/* at the start of the open block */
	uint64_t off;			/* logical size, buffered bytes included */
	uint8_t *wbuf;
	size_t wlen;
	bool in_block;
	bool broken;			/* an I/O error: only abort or free */
	struct seg_block_trailer cur;
	uint64_t block_start;
	int64_t cur_snapshot;
	struct seg_index_entry *index;
	uint32_t nblocks;
	size_t index_cap;
	uint64_t total_rows, total_raw;
	int64_t min_snap, max_snap;
	const struct pga_signkey *signer;	/* not owned */
	/* encrypted segments (FORMAT.md "Encryption") */
	struct pga_aead *aead;		/* the data key's cipher; NULL: plaintext */
	uint8_t *chunk;			/* plaintext of the chunk being filled */
	uint8_t *sealed;		/* a sealed chunk frame being written */
	size_t clen;
	uint32_t chunk_no;
	unsigned retry;			/* SEG_CHUNK_RETRY_*: aborts so far */
	struct pbuf bh;			/* the open block's header payload: the AAD */
	/* seg_writer_hold(): complete blocks stay in wbuf until released; the
	 * state at the hold, for cutting them all off again */
	bool hold;
	bool dir_synced;		/* the part's directory entry fsync'd (seg_writer_sync) */
	struct pga_sha256 sha_hold;
	uint64_t hold_off, hold_rows, hold_raw;
	uint32_t hold_nblocks;
	int64_t hold_min, hold_max;
};

static int
flush_wbuf(struct seg_writer *w, struct pga_err *err)
{
	int rc;

	if (w->wlen == 0)
		return 0;
	rc = pga_write_all(w->fd, w->wbuf, w->wlen, w->path, err);
	if (rc < 0)
		w->broken = true;
	w->wlen = 0;
	return rc;
}

static int
wappend(struct seg_writer *w, const void *buf, size_t len, struct pga_err *err)
{
	int rc;

	if (w->broken)
		return pga_fail(err, PGA_EIO, "'%s': writer failed earlier", w->path);
	pga_sha256_update(&w->sha, buf, len);
	w->off += len;
	if (w->wlen + len <= WBUF_SIZE) {
		memcpy(w->wbuf + w->wlen, buf, len);
		w->wlen += len;
		return 0;
	}
	rc = flush_wbuf(w, err);
	if (rc < 0)
		return rc;
	if (len >= WBUF_SIZE / 2) {
		rc = pga_write_all(w->fd, buf, len, w->path, err);
		if (rc < 0)
			w->broken = true;
		return rc;
	}
	memcpy(w->wbuf, buf, len);
	w->wlen = len;
	return 0;
}

/* Write one skippable frame with the given payload. */
static int
write_meta_frame(struct seg_writer *w, enum seg_kind kind, struct pbuf *b,
		 struct pga_err *err)
{
	uint8_t hdr[8];

	if (b->oom)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	put_le32(hdr, SEG_SKIPPABLE_BASE + kind);
	put_le32(hdr + 4, (uint32_t)b->len);
	if (wappend(w, hdr, 8, err) < 0)
		return err->code;
	return wappend(w, b->p, b->len, err);
}

/* What a reader calls corrupt is the caller's bad input to a writer. */
static int
as_invalid(struct pga_err *err)
{
	if (err != NULL)
		err->code = PGA_EINVAL;
	return PGA_EINVAL;
}

/*
 * The envelope: a fresh data key, wrapped for each recipient and bound to
 * the header's fields before it; the writer keeps only its cipher context.
 */
static int
seal_to(struct seg_writer *w, const struct pga_xpub *const *to, size_t nto,
	struct pga_err *err)
{
	uint8_t dk[PGA_X_DATAKEY_LEN];
	struct pbuf pre = {0};
	int rc;

	if (nto > SEG_MAX_RECIPIENTS)
		return pga_fail(err, PGA_EINVAL, "'%s': %zu recipients (at most %d)", w->path,
				nto, SEG_MAX_RECIPIENTS);
	if (w->h.minor < SEG_MINOR_ENVELOPE)
		w->h.minor = SEG_MINOR_ENVELOPE;
	w->h.flags |= SEG_FLAG_ENCRYPTED;
	w->h.nrecip = (uint16_t)nto;
	w->h.cipher = SEG_CIPHER_X25519_AES256GCM;
	seg_encode_header_prefix(&pre, &w->h);
	if (pre.oom) {
		pbuf_free(&pre);
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	pga_sha256_buf(pre.p, pre.len, w->h.env_aad);
	pbuf_free(&pre);
	rc = pga_x_datakey(dk, err);
	if (rc == 0)
		rc = pga_x_keycheck(dk, w->h.keycheck, err);
	for (size_t i = 0; rc == 0 && i < nto; i++) {
		struct seg_recipient *r = &w->h.recip[i];

		memcpy(r->key_id, pga_xpub_id(to[i]), PGA_X_KEYID_LEN);
		r->wrapped_len = PGA_X_WRAPPED_LEN;
		rc = pga_x_wrap(to[i], dk, w->h.env_aad, PGA_SHA256_LEN, r->eph, r->wrapped, err);
	}
	if (rc == 0)
		rc = pga_aead_new(&w->aead, dk, err);
	explicit_bzero(dk, sizeof(dk));
	if (rc == 0) {
		w->chunk = malloc(SEG_CHUNK_MAX);
		w->sealed = malloc(8 + SEG_CHUNK_MAX + SEG_CHUNK_OVERHEAD);
		if (w->chunk == NULL || w->sealed == NULL)
			rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	return rc;
}

int
seg_writer_create(struct seg_writer **out, const char *part_path,
		  const struct seg_header *h, struct pga_err *err)
{
	return seg_writer_create_to(out, part_path, h, NULL, 0, err);
}

int
seg_writer_create_to(struct seg_writer **out, const char *part_path,
		     const struct seg_header *h, const struct pga_xpub *const *to,
		     size_t nto, struct pga_err *err)
{
	struct seg_writer *w = calloc(1, sizeof(*w));
	struct pbuf b = {0};
	int rc;

	*out = NULL;
	if (w != NULL)
		w->fd = -1;
	if (w == NULL || (w->wbuf = malloc(WBUF_SIZE)) == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		goto out;
	}
	/* never write what a reader refuses */
	if (seg_header_strings_check(h, part_path, err) < 0) {
		rc = as_invalid(err);
		goto out;
	}
	w->h = *h;
	w->h.flags &= ~SEG_FLAG_ENCRYPTED;	/* only seal_to() makes it so */
	w->h.nrecip = 0;
	w->min_snap = INT64_MAX;
	w->max_snap = INT64_MIN;
	strlcpy(w->path, part_path, sizeof(w->path));
	rc = pga_sha256_init(&w->sha, err);
	if (rc == 0 && nto > 0)
		rc = seal_to(w, to, nto, err);
	if (rc < 0)
		goto out;
	w->fd = open(part_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		rc = pga_fail(err, pga_errno_code(errno), "could not create '%s': %m",
			      part_path);
		goto out;
	}
	seg_encode_header(&b, &w->h);
	rc = write_meta_frame(w, SEG_KIND_HEADER, &b, err);
	if (rc == 0)
		rc = flush_wbuf(w, err);
out:
	pbuf_free(&b);
	if (rc < 0 && w != NULL) {
		seg_writer_free(w, w->fd >= 0);
		return rc;
	}
	*out = w;
	return rc;
}

/* The checks that need no writer: strings, column names and descriptors. */
static int
block_meta_check(const struct seg_block_meta *m, const char *name, struct pga_err *err)
{
	if (seg_block_strings_check(m, name, err) < 0)
		return as_invalid(err);
	for (uint16_t i = 0; i < m->ncols; i++) {	/* readers let old ones through */
		char esc[96];

		if (!seg_column_valid(m->cols[i]))
			return pga_fail(err, PGA_EINVAL, "'%s': invalid column name '%s'", name,
					utf8_text(m->cols[i], esc, sizeof(esc)));
	}
	if (seg_block_desc_check(m, name, err) < 0)
		return as_invalid(err);
	return 0;
}

/*
 * Open the block whose header payload b is (checked, numbered 0; b handed
 * over, it stays the AAD of the block's sealed chunks): numbered here, its
 * CRC redone.  The snapshot time and metric for the footer's index are
 * read back from the payload (FORMAT.md: tag, block number, snapshot time,
 * system id, version, port, metric).
 */
static int
begin_encoded(struct seg_writer *w, struct pbuf *b, struct pga_err *err)
{
	struct pcur c = {.p = b->p, .len = b->len, .pos = 8};
	int64_t snap;
	int rc = 0;

	if (w->in_block || w->broken)
		rc = pga_fail(err, PGA_EINTERNAL, "'%s': block already open", w->path);
	else if (w->nblocks >= SEG_MAX_BLOCKS)
		rc = pga_fail(err, PGA_EINTERNAL, "'%s': too many blocks", w->path);
	else if (w->retry > SEG_CHUNK_RETRY_MAX)	/* the spool seals before this */
		rc = pga_fail(err, PGA_EINTERNAL, "'%s': no retry number left for a block",
			      w->path);
	else if (b->oom)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	else if (b->len < 36 || memcmp(b->p, "PGAB", 4) != 0)
		rc = pga_fail(err, PGA_EINTERNAL, "'%s': not an encoded block header", w->path);
	/* an abort truncates to here; held blocks stay in the buffer */
	if (rc == 0 && !w->hold)
		rc = flush_wbuf(w, err);
	if (rc == 0 && pga_sha256_copy(&w->sha_mark, &w->sha) < 0)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	if (rc == 0)
		rc = PGA_GROW(w->index, w->index_cap, (size_t)w->nblocks + 1, SEG_MAX_BLOCKS, err);
	if (rc < 0) {
		pbuf_free(b);
		return rc;
	}
	snap = (int64_t)pcur_u64(&c);
	w->block_start = w->off;
	put_le32(b->p + 4, w->nblocks);
	put_le32(b->p + b->len - 4, pga_crc32c(0, b->p, b->len - 4));
	rc = write_meta_frame(w, SEG_KIND_BLOCK, b, err);
	pbuf_free(&w->bh);
	w->bh = *b;	/* the AAD of the block's sealed chunks */
	*b = (struct pbuf){0};
	if (rc < 0)
		return rc;
	w->clen = 0;
	w->chunk_no = 0;
	w->in_block = true;
	memset(&w->cur, 0, sizeof(w->cur));
	w->cur.block_no = w->nblocks;
	w->cur_snapshot = snap;
	w->index[w->nblocks].offset = w->block_start;
	w->index[w->nblocks].snapshot_us = snap;
	c.pos = 30;	/* the metric */
	pcur_str(&c, w->index[w->nblocks].metric, sizeof(w->index[0].metric));
	return 0;
}

int
seg_writer_block_begin(struct seg_writer *w, const struct seg_block_meta *m,
		       struct pga_err *err)
{
	struct seg_block_meta meta = *m;
	struct pbuf b = {0};

	if (block_meta_check(m, w->path, err) < 0)
		return err->code;
	if (w->h.minor < SEG_MINOR_DESCRIBED)	/* a salvaged older part: as it was */
		meta.desc = NULL;
	meta.block_no = 0;
	seg_encode_block(&b, &meta, w->h.minor);
	return begin_encoded(w, &b, err);
}

int
seg_block_encode(const struct seg_block_meta *m, uint8_t **buf, size_t *len,
		 size_t *cap, const char *name, struct pga_err *err)
{
	struct seg_block_meta meta = *m;
	struct pbuf b = {.p = *buf, .len = *len, .cap = *cap, .base = *len};
	int rc = block_meta_check(m, name, err);

	if (rc < 0)
		return rc;
	/* encoded in place after what buf holds (its CRC is redone with the
	 * block number at the begin) */
	meta.block_no = 0;
	seg_encode_block(&b, &meta, SEG_FORMAT_MINOR);
	*buf = b.p;
	*cap = b.cap;
	if (b.oom || b.len - *len > SEG_MAX_META)
		return pga_fail(err, b.oom ? PGA_ENOMEM : PGA_EINVAL,
				b.oom ? "out of memory" : "'%s': block header too large", name);
	*len = b.len;
	return 0;
}

int
seg_writer_block_begin_encoded(struct seg_writer *w, const void *hdr, size_t len,
			       struct pga_err *err)
{
	struct pbuf b;

	if (w->in_block || w->broken)	/* the open block keeps its header (AAD) */
		return pga_fail(err, PGA_EINTERNAL, "'%s': block already open", w->path);
	if (w->h.minor != SEG_FORMAT_MINOR)	/* only ever a part this pga began */
		return pga_fail(err, PGA_EINTERNAL, "'%s': a header encoded for minor %d, the "
				"segment is minor %u", w->path, SEG_FORMAT_MINOR, w->h.minor);
	b = w->bh;	/* its buffer again: no allocation a block */
	w->bh = (struct pbuf){0};
	b.len = 0;
	b.oom = false;
	pbuf_bytes(&b, hdr, len);
	return begin_encoded(w, &b, err);
}

/* Append data-frame bytes: through the trailer's CRC and length. */
static int
frame_append(struct seg_writer *w, const void *buf, size_t len, struct pga_err *err)
{
	w->cur.frame_crc = pga_crc32c(w->cur.frame_crc, buf, len);
	w->cur.frame_bytes += len;
	return wappend(w, buf, len, err);
}

/*
 * Seal the chunk filled so far into one skippable frame (kind 3): tag,
 * flags, key check, ciphertext, GCM tag.  The nonce is the block number,
 * the chunk number and the last flag (FORMAT.md): unique under the
 * segment's data key, and a chunk moved, dropped or cut short fails.
 */
static int
seal_chunk(struct seg_writer *w, bool last, struct pga_err *err)
{
	uint8_t nonce[PGA_X_NONCE_LEN] = {0};
	uint8_t *f = w->sealed;
	uint32_t plen = (uint32_t)(SEG_CHUNK_OVERHEAD + w->clen);
	int rc;

	put_le32(nonce, w->cur.block_no);
	put_le32(nonce + 4, w->chunk_no);
	nonce[8] = (uint8_t)w->retry;
	nonce[11] = last ? 1 : 0;
	put_le32(f, SEG_SKIPPABLE_BASE + SEG_KIND_SEALED);
	put_le32(f + 4, plen);
	memcpy(f + 8, "PGAX", 4);
	f[12] = (uint8_t)((last ? SEG_CHUNK_LAST : 0) | w->retry << SEG_CHUNK_RETRY_SHIFT);
	memcpy(f + 13, w->h.keycheck, PGA_X_KEYCHECK_LEN);
	rc = pga_aead_seal(w->aead, nonce, w->bh.p, w->bh.len, w->chunk, w->clen,
			   f + 13 + PGA_X_KEYCHECK_LEN,
			   f + 13 + PGA_X_KEYCHECK_LEN + w->clen, err);
	if (rc == 0)
		rc = frame_append(w, f, 8 + plen, err);
	w->clen = 0;
	w->chunk_no++;
	return rc;
}

int
seg_writer_data(struct seg_writer *w, const void *buf, size_t len,
		struct pga_err *err)
{
	const uint8_t *p = buf;

	if (!w->in_block)
		return pga_fail(err, PGA_EINTERNAL, "'%s': no block open", w->path);
	if (w->aead == NULL)
		return frame_append(w, buf, len, err);
	/* a full chunk is sealed only when more follows: the last one says so */
	while (len > 0) {
		size_t take;
		int rc;

		if (w->clen == SEG_CHUNK_MAX) {
			rc = seal_chunk(w, false, err);
			if (rc < 0)
				return rc;
		}
		take = SEG_CHUNK_MAX - w->clen < len ? SEG_CHUNK_MAX - w->clen : len;
		memcpy(w->chunk + w->clen, p, take);
		w->clen += take;
		p += take;
		len -= take;
	}
	return 0;
}

int
seg_writer_block_end(struct seg_writer *w, uint64_t rows, uint64_t raw_bytes,
		     struct pga_err *err)
{
	struct pbuf b = {0};
	int rc;

	if (!w->in_block)
		return pga_fail(err, PGA_EINTERNAL, "'%s': no block open", w->path);
	if (w->aead != NULL) {
		rc = seal_chunk(w, true, err);
		if (rc < 0)
			return rc;
	}
	w->cur.rows = rows;
	w->cur.raw_bytes = raw_bytes;
	seg_encode_trailer(&b, &w->cur);
	rc = write_meta_frame(w, SEG_KIND_TRAILER, &b, err);
	pbuf_free(&b);
	/* a committed block reaches the kernel now, so a killed process keeps it
	 * (held: at seg_writer_release()); on failure the block stays open for
	 * seg_writer_block_abort() */
	if (rc == 0 && !w->hold)
		rc = flush_wbuf(w, err);
	if (rc < 0)
		return rc;
	w->index[w->nblocks].rows = rows;
	w->nblocks++;
	w->total_rows += rows;
	w->total_raw += raw_bytes;
	if (w->cur_snapshot < w->min_snap)
		w->min_snap = w->cur_snapshot;
	if (w->cur_snapshot > w->max_snap)
		w->max_snap = w->cur_snapshot;
	w->in_block = false;
	return 0;
}

/*
 * Forget everything after logical offset at: what is still in wbuf is
 * dropped, what reached the file is cut off.  at is never before a point
 * the file was flushed to whole (a block's start outside a hold, the hold).
 */
static int
cut_to(struct seg_writer *w, uint64_t at, struct pga_err *err)
{
	uint64_t file_end = w->off - w->wlen;

	if (!w->broken && at >= file_end) {
		w->wlen = (size_t)(at - file_end);
		w->off = at;
		return 0;
	}
	w->wlen = 0;
	if (ftruncate(w->fd, (off_t)at) != 0 || lseek(w->fd, (off_t)at, SEEK_SET) < 0) {
		w->broken = true;
		return pga_fail(err, PGA_EIO, "could not truncate '%s': %m", w->path);
	}
	w->off = at;
	w->broken = false;
	return 0;
}

int
seg_writer_block_abort(struct seg_writer *w, struct pga_err *err)
{
	int rc;

	if (!w->in_block)
		return 0;
	/* held blocks before this one may have been in a write that failed:
	 * only seg_writer_release() can cut them off with it */
	if (w->hold && w->broken)
		return pga_fail(err, PGA_EIO, "'%s': writer failed earlier", w->path);
	w->clen = 0;
	w->in_block = false;
	/* sealed chunks of this attempt may have reached the disk: the next
	 * attempt at this block number must not use their nonces again */
	if (w->aead != NULL)
		w->retry++;
	rc = cut_to(w, w->block_start, err);
	if (rc == 0)
		pga_sha256_copy(&w->sha, &w->sha_mark);
	return rc;
}

int
seg_writer_sync(struct seg_writer *w, struct pga_err *err)
{
	int rc;

	if (w->hold || w->in_block || w->broken)
		return pga_fail(err, PGA_EINTERNAL, "'%s': cannot be synced now", w->path);
	rc = flush_wbuf(w, err);
	if (rc == 0 && fdatasync(w->fd) != 0)
		rc = pga_fail(err, PGA_EIO, "could not sync '%s': %m", w->path);
	if (rc == 0 && !w->dir_synced) {
		rc = pga_fsync_parent(w->path, err);
		w->dir_synced = rc == 0;
	}
	return rc;
}

int
seg_writer_hold(struct seg_writer *w, struct pga_err *err)
{
	int rc;

	if (w->hold || w->in_block || w->broken)
		return pga_fail(err, PGA_EINTERNAL, "'%s': cannot hold blocks now", w->path);
	rc = flush_wbuf(w, err);	/* the hold starts where the file ends */
	if (rc == 0 && pga_sha256_copy(&w->sha_hold, &w->sha) < 0)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	if (rc < 0)
		return rc;
	w->hold = true;
	w->hold_off = w->off;
	w->hold_nblocks = w->nblocks;
	w->hold_rows = w->total_rows;
	w->hold_raw = w->total_raw;
	w->hold_min = w->min_snap;
	w->hold_max = w->max_snap;
	return 0;
}

int
seg_writer_release(struct seg_writer *w, bool keep, uint32_t *dropped, struct pga_err *err)
{
	struct pga_err cerr = {0};
	int rc = 0;

	*dropped = 0;
	if (!w->hold)
		return 0;
	w->hold = false;
	if (keep && w->in_block)
		rc = pga_fail(err, PGA_EINTERNAL, "'%s': a block is still open", w->path);
	if (keep && rc == 0 && (rc = flush_wbuf(w, err)) == 0)
		return 0;
	/* cut every held block off again, as if it never was */
	*dropped = w->nblocks - w->hold_nblocks;
	w->in_block = false;
	w->clen = 0;
	if (w->aead != NULL)	/* their sealed chunks may be on disk: see block_abort */
		w->retry++;
	if (cut_to(w, w->hold_off, &cerr) < 0 && rc == 0)
		rc = pga_fail(err, cerr.code, "%s", cerr.msg);
	pga_sha256_copy(&w->sha, &w->sha_hold);
	w->nblocks = w->hold_nblocks;
	w->total_rows = w->hold_rows;
	w->total_raw = w->hold_raw;
	w->min_snap = w->hold_min;
	w->max_snap = w->hold_max;
	return rc;
}

void
seg_writer_set_signer(struct seg_writer *w, const struct pga_signkey *k)
{
	w->signer = k;
}

/* The signature frame after the footer: Ed25519 over the footer's SHA-256. */
static int
write_signature(struct seg_writer *w, const uint8_t footer_sha[PGA_SHA256_LEN],
		struct pga_err *err)
{
	struct seg_signature s = {.alg = PGA_SIGN_ALG_ED25519};
	struct pbuf b = {0};
	int rc;

	memcpy(s.key_id, pga_signkey_id(w->signer), PGA_SIGN_KEYID_LEN);
	rc = pga_signkey_sign(w->signer, footer_sha, PGA_SHA256_LEN, s.sig, err);
	if (rc < 0)
		return rc;
	seg_encode_signature(&b, &s);
	rc = write_meta_frame(w, SEG_KIND_SIGNATURE, &b, err);
	pbuf_free(&b);
	return rc;
}

int
seg_writer_finish(struct seg_writer *w, uint32_t footer_flags, uint64_t torn_bytes,
		  uint8_t file_sha[PGA_SHA256_LEN], struct pga_err *err)
{
	struct seg_footer f = {0};
	struct pbuf b = {0};
	uint64_t before_footer;
	int rc;

	if (w->in_block || w->nblocks == 0)
		return pga_fail(err, PGA_EINTERNAL, "'%s': nothing to seal", w->path);
	w->hold = false;	/* held blocks are sealed with the rest */
	if ((w->h.flags & SEG_FLAG_SIGNED) && w->signer == NULL)
		return pga_fail(err, PGA_EINVAL, "'%s' was begun signed: sealing it needs the "
				"signing key (sign-key-file)", w->path);
	f.flags = footer_flags;
	f.nblocks = w->nblocks;
	f.total_rows = w->total_rows;
	f.total_raw = w->total_raw;
	f.min_snapshot_us = w->min_snap;
	f.max_snapshot_us = w->max_snap;
	f.torn_bytes = torn_bytes;
	f.index = w->index;
	pga_sha256_peek(&w->sha, f.sha256);
	rc = flush_wbuf(w, err);
	if (rc < 0)
		return rc;
	before_footer = w->off;
	seg_encode_footer(&b, &f);
	rc = write_meta_frame(w, SEG_KIND_FOOTER, &b, err);
	pbuf_free(&b);
	if (rc == 0 && (w->h.flags & SEG_FLAG_SIGNED))
		rc = write_signature(w, f.sha256, err);
	if (rc == 0)
		rc = flush_wbuf(w, err);
	if (rc == 0)
		rc = pga_fsync_fd(w->fd, w->path, err);
	if (rc < 0) {
		/* never leave a half-written footer: the part stays salvageable */
		if (ftruncate(w->fd, (off_t)before_footer) == 0)
			fsync(w->fd);
		return rc;
	}
	pga_sha256_final(&w->sha, file_sha);
	return 0;
}

int
seg_writer_publish(struct seg_writer *w, const char *final_path, struct pga_err *err)
{
	int rc = pga_rename_durable(w->path, final_path, err);

	if (rc == 0)
		strlcpy(w->path, final_path, sizeof(w->path));
	return rc;
}

int
seg_writer_seal(struct seg_writer *w, uint32_t footer_flags, uint64_t torn_bytes,
		const char *final_path, uint8_t file_sha[PGA_SHA256_LEN],
		struct pga_err *err)
{
	int rc = seg_writer_finish(w, footer_flags, torn_bytes, file_sha, err);

	return rc < 0 ? rc : seg_writer_publish(w, final_path, err);
}

void
seg_writer_totals(const struct seg_writer *w, uint64_t *rows, uint64_t *raw_bytes)
{
	*rows = w->total_rows;
	*raw_bytes = w->total_raw;
}

void
seg_writer_free(struct seg_writer *w, bool discard)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (discard)
		unlink(w->path);
	pga_sha256_free(&w->sha);
	pga_sha256_free(&w->sha_mark);
	pga_sha256_free(&w->sha_hold);
	pga_aead_free(w->aead);
	if (w->chunk != NULL)
		explicit_bzero(w->chunk, SEG_CHUNK_MAX);	/* compressed plaintext */
	free(w->chunk);
	free(w->sealed);
	pbuf_free(&w->bh);
	free(w->index);
	free(w->wbuf);
	free(w);
}

uint64_t
seg_writer_size(const struct seg_writer *w)
{
	return w->off;
}

uint64_t
seg_writer_written(const struct seg_writer *w)
{
	return w->off - w->wlen;
}

uint32_t
seg_writer_nblocks(const struct seg_writer *w)
{
	return w->nblocks;
}

bool
seg_writer_retries_spent(const struct seg_writer *w)
{
	return w->retry >= SEG_CHUNK_RETRY_MAX;
}

const struct seg_header *
seg_writer_header(const struct seg_writer *w)
{
	return &w->h;
}

const char *
seg_writer_path(const struct seg_writer *w)
{
	return w->path;
}

bool
seg_writer_in_block(const struct seg_writer *w)
{
	return w->in_block;
}

/* ---- crash recovery ---- */

struct recover_scan {
	uint64_t good_end;
	struct seg_index_entry *index;
	uint32_t n;
	size_t cap;
	uint64_t rows, raw;
	int64_t min_snap, max_snap;
	struct seg_header h;
};

static int
scan_part(const char *path, struct recover_scan *s, struct pga_err *err)
{
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	struct pga_err scan_err = {0};
	uint8_t buf[65536];
	int rc;

	rc = seg_reader_open_file(&r, path, err);
	if (rc < 0)
		return rc;
	s->h = *seg_reader_header(r);
	s->good_end = seg_reader_offset(r);
	for (;;) {
		uint64_t start = seg_reader_offset(r);
		size_t got;

		rc = seg_reader_next(r, &m, &scan_err);
		if (rc <= 0)
			break;
		/* an encrypted part is salvaged by its CRCs: no key is needed */
		if (seg_header_encrypted(&s->h) && !seg_reader_can_decrypt(r))
			rc = seg_reader_skip(r, &scan_err);
		else
			do
				rc = seg_reader_read(r, buf, sizeof(buf), &got, &scan_err);
			while (rc == 0 && got > 0);
		if (rc < 0)
			break;
		rc = PGA_GROW(s->index, s->cap, (size_t)s->n + 1, SEG_MAX_BLOCKS, err);
		if (rc < 0)
			goto out;
		s->index[s->n].offset = start;
		s->index[s->n].rows = seg_reader_trailer(r)->rows;
		s->index[s->n].snapshot_us = m->snapshot_us;
		strlcpy(s->index[s->n].metric, m->metric, sizeof(s->index[0].metric));
		s->n++;
		s->rows += seg_reader_trailer(r)->rows;
		s->raw += seg_reader_trailer(r)->raw_bytes;
		if (m->snapshot_us < s->min_snap)
			s->min_snap = m->snapshot_us;
		if (m->snapshot_us > s->max_snap)
			s->max_snap = m->snapshot_us;
		s->good_end = seg_reader_offset(r);
	}
	if (rc < 0)
		log_debug("recovery of '%s' stops at offset %llu: %s", path,
			  (unsigned long long)s->good_end, scan_err.msg);
	rc = 0;
out:
	seg_reader_free(r);
	return rc;
}

static int
rehash_prefix(struct seg_writer *w, uint64_t len, struct pga_err *err)
{
	uint8_t buf[65536];
	uint64_t done = 0;

	while (done < len) {
		size_t want = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
		ssize_t n = pread(w->fd, buf, want, (off_t)done);

		if (n <= 0)
			return pga_fail(err, PGA_EIO, "could not read '%s': %m", w->path);
		pga_sha256_update(&w->sha, buf, (size_t)n);
		done += (uint64_t)n;
	}
	return 0;
}

int
seg_writer_recover(struct seg_writer **out, const char *part_path,
		   uint64_t *torn, struct pga_err *err)
{
	struct recover_scan s = {.min_snap = INT64_MAX, .max_snap = INT64_MIN};
	struct seg_writer *w = NULL;
	struct stat st;
	int rc;

	*out = NULL;
	*torn = 0;
	if (stat(part_path, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not stat '%s': %m", part_path);
	rc = scan_part(part_path, &s, err);
	if (rc < 0)
		goto out;
	*torn = (uint64_t)st.st_size - s.good_end;
	if (s.n == 0) {
		rc = pga_fail(err, PGA_ENOTFOUND, "'%s' holds no complete block", part_path);
		goto out;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL || (w->wbuf = malloc(WBUF_SIZE)) == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		goto out;
	}
	strlcpy(w->path, part_path, sizeof(w->path));
	w->h = s.h;
	w->fd = open(part_path, O_RDWR | O_CLOEXEC);
	if (w->fd < 0 || ftruncate(w->fd, (off_t)s.good_end) != 0 ||
	    lseek(w->fd, (off_t)s.good_end, SEEK_SET) < 0) {
		rc = pga_fail(err, PGA_EIO, "could not truncate '%s': %m", part_path);
		goto out;
	}
	rc = pga_sha256_init(&w->sha, err);
	if (rc == 0)
		rc = rehash_prefix(w, s.good_end, err);
	if (rc < 0)
		goto out;
	w->off = s.good_end;
	w->index = s.index;
	w->nblocks = w->index_cap = s.n;
	s.index = NULL;
	w->total_rows = s.rows;
	w->total_raw = s.raw;
	w->min_snap = s.min_snap;
	w->max_snap = s.max_snap;
	*out = w;
	w = NULL;
out:
	free(s.index);
	if (w != NULL)
		seg_writer_free(w, false);
	return rc;
}

/* ---- compressor ---- */

struct seg_encoder {
	ZSTD_CCtx *cctx;
	uint8_t *out;
	size_t out_cap;
	seg_sink_fn sink;
	void *sink_ctx;
	struct csv_counter csv;
	uint64_t raw;
	uint8_t *in;			/* input gathered for fewer, larger calls */
	size_t in_len;
};

#define ENC_IN_CAP (64 * 1024)

int
seg_encoder_new(struct seg_encoder **out, int level, int window_log,
		struct pga_err *err)
{
	struct seg_encoder *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (e == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	e->cctx = ZSTD_createCCtx();
	e->out_cap = ZSTD_CStreamOutSize();
	e->out = malloc(e->out_cap);
	e->in = malloc(ENC_IN_CAP);
	if (e->cctx == NULL || e->out == NULL || e->in == NULL) {
		seg_encoder_free(e);
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_checksumFlag, 1);
	if (window_log > 0) {
		/* the level's match tables (at level 3: 2^17 + 2^16 entries, 768
		 * KiB) are sized for large inputs; a collector's blocks are mostly
		 * a few KiB, and tables that big only miss the cache: 2^14 each
		 * compress them as small (spool size equal within 0.2% over 100
		 * databases) for 10% less client CPU and 640 KiB less memory a
		 * stream (perf stat, bench/21-scale.sh).  Higher levels search
		 * further, on purpose: theirs stay. */
		ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_windowLog, window_log);
		if (level <= 3) {
			ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_hashLog, SPILL_TABLE_LOG);
			ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_chainLog, SPILL_TABLE_LOG);
		}
	}
	*out = e;
	return 0;
}

int
seg_encoder_set_workers(struct seg_encoder *e, int n)
{
	return ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_nbWorkers, n)) ? -1 : 0;
}

void
seg_encoder_begin(struct seg_encoder *e, seg_sink_fn sink, void *ctx)
{
	ZSTD_CCtx_reset(e->cctx, ZSTD_reset_session_only);
	e->sink = sink;
	e->sink_ctx = ctx;
	memset(&e->csv, 0, sizeof(e->csv));
	e->raw = 0;
	e->in_len = 0;
}

static int
compress(struct seg_encoder *e, const void *buf, size_t len,
	 ZSTD_EndDirective mode, struct pga_err *err)
{
	ZSTD_inBuffer in = {buf, len, 0};

	for (;;) {
		ZSTD_outBuffer out = {e->out, e->out_cap, 0};
		size_t left = ZSTD_compressStream2(e->cctx, &out, &in, mode);
		int rc;

		if (ZSTD_isError(left))
			return pga_fail(err, PGA_EINTERNAL, "zstd compression failed: %s",
					ZSTD_getErrorName(left));
		if (out.pos > 0) {
			rc = e->sink(e->sink_ctx, e->out, out.pos, err);
			if (rc < 0)
				return rc;
		}
		if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int
seg_encoder_write(struct seg_encoder *e, const void *buf, size_t len,
		  struct pga_err *err)
{
	int rc;

	if (len == 0)
		return 0;
	csv_count(&e->csv, buf, len);
	e->raw += len;
	if (e->in_len + len <= ENC_IN_CAP) {
		memcpy(e->in + e->in_len, buf, len);
		e->in_len += len;
		return 0;
	}
	rc = compress(e, e->in, e->in_len, ZSTD_e_continue, err);
	e->in_len = 0;
	if (rc < 0)
		return rc;
	if (len >= ENC_IN_CAP / 2)
		return compress(e, buf, len, ZSTD_e_continue, err);
	memcpy(e->in, buf, len);
	e->in_len = len;
	return 0;
}

int
seg_encoder_finish(struct seg_encoder *e, uint64_t *rows, uint64_t *raw_bytes,
		   struct pga_err *err)
{
	int rc;

	if (e->raw > 0 && e->csv.last != '\n' && !e->csv.in_quotes) {
		rc = seg_encoder_write(e, "\n", 1, err);
		if (rc < 0)
			return rc;
	}
	/* continue, then end: a frame that began with its end would tell zstd
	 * its size, and zstd would resize its workspace to each block's (a
	 * free and a fresh mmap, page faults and all, every few blocks) */
	rc = compress(e, e->in, e->in_len, ZSTD_e_continue, err);
	e->in_len = 0;
	if (rc == 0)
		rc = compress(e, NULL, 0, ZSTD_e_end, err);
	if (rc < 0)
		return rc;
	*rows = e->csv.rows;
	*raw_bytes = e->raw;
	return 0;
}

bool
seg_encoder_in_quotes(const struct seg_encoder *e)
{
	return e->csv.in_quotes;
}

void
seg_encoder_free(struct seg_encoder *e)
{
	if (e == NULL)
		return;
	ZSTD_freeCCtx(e->cctx);
	free(e->in);
	free(e->out);
	free(e);
}
