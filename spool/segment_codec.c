/* Encoding and decoding of the metadata frames, names, CSV row counting. */
#include "spool/segment_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/config.h"
#include "common/units.h"
#include "common/utf8.h"

/* ---- payload building ---- */

static void
pbuf_reserve(struct pbuf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->oom || b->len + n <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

void
pbuf_bytes(struct pbuf *b, const void *p, size_t n)
{
	pbuf_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
pbuf_u16(struct pbuf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};

	pbuf_bytes(b, x, 2);
}

void
pbuf_u32(struct pbuf *b, uint32_t v)
{
	uint8_t x[4];

	put_le32(x, v);
	pbuf_bytes(b, x, 4);
}

void
pbuf_u64(struct pbuf *b, uint64_t v)
{
	pbuf_u32(b, (uint32_t)v);
	pbuf_u32(b, (uint32_t)(v >> 32));
}

void
pbuf_str(struct pbuf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > UINT16_MAX)
		n = UINT16_MAX;
	pbuf_u16(b, (uint16_t)n);
	pbuf_bytes(b, s, n);
}

void
pbuf_crc(struct pbuf *b)
{
	if (!b->oom)
		pbuf_u32(b, pga_crc32c(0, b->p + b->base, b->len - b->base));
}

void
pbuf_free(struct pbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- payload reading ---- */

static bool
pcur_take(struct pcur *c, size_t n)
{
	if (c->bad || c->len - c->pos < n) {
		c->bad = true;
		return false;
	}
	return true;
}

void
pcur_bytes(struct pcur *c, void *out, size_t n)
{
	if (!pcur_take(c, n)) {
		memset(out, 0, n);
		return;
	}
	memcpy(out, c->p + c->pos, n);
	c->pos += n;
}

uint16_t
pcur_u16(struct pcur *c)
{
	uint8_t x[2];

	pcur_bytes(c, x, 2);
	return (uint16_t)(x[0] | x[1] << 8);
}

uint32_t
pcur_u32(struct pcur *c)
{
	uint8_t x[4];

	pcur_bytes(c, x, 4);
	return le32(x);
}

uint64_t
pcur_u64(struct pcur *c)
{
	uint64_t lo = pcur_u32(c);

	return lo | (uint64_t)pcur_u32(c) << 32;
}

const uint8_t *
pcur_str_ref(struct pcur *c, uint16_t *len)
{
	const uint8_t *p;

	*len = pcur_u16(c);
	if (!pcur_take(c, *len)) {
		*len = 0;
		return NULL;
	}
	p = c->p + c->pos;
	c->pos += *len;
	return p;
}

void
pcur_str(struct pcur *c, char *out, size_t cap)
{
	uint16_t n;
	const uint8_t *p = pcur_str_ref(c, &n);

	if (p == NULL || n >= cap || memchr(p, '\0', n) != NULL) {
		c->bad = true;
		out[0] = '\0';
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

/* ---- frames ---- */

static void
put_tag(struct pbuf *b, const char *tag)
{
	pbuf_bytes(b, tag, 4);
}

void
seg_encode_header_prefix(struct pbuf *b, const struct seg_header *h)
{
	put_tag(b, "PGAH");
	pbuf_u16(b, h->major);
	pbuf_u16(b, h->minor);
	pbuf_u32(b, h->flags);
	pbuf_u64(b, h->seq);
	pbuf_u64(b, (uint64_t)h->created_us);
	pbuf_bytes(b, h->prev_sha256, PGA_SHA256_LEN);
	pbuf_str(b, h->collector);
	pbuf_str(b, h->hostname);
	pbuf_str(b, h->writer);
}

/* FORMAT.md "Encryption": the minor-2 fields, after the version 1.0 ones. */
static void
encode_envelope(struct pbuf *b, const struct seg_header *h)
{
	pbuf_u16(b, h->nrecip);
	if (h->nrecip == 0)
		return;
	pbuf_u16(b, h->cipher);
	pbuf_bytes(b, h->keycheck, PGA_X_KEYCHECK_LEN);
	for (uint16_t i = 0; i < h->nrecip && i < SEG_MAX_RECIPIENTS; i++) {
		const struct seg_recipient *rc = &h->recip[i];
		uint16_t n = rc->wrapped_len <= PGA_X_WRAPPED_LEN ? rc->wrapped_len
								  : PGA_X_WRAPPED_LEN;

		pbuf_bytes(b, rc->key_id, PGA_X_KEYID_LEN);
		pbuf_bytes(b, rc->eph, PGA_X_RAW_LEN);
		pbuf_u16(b, n);
		pbuf_bytes(b, rc->wrapped, n);
	}
}

void
seg_encode_header(struct pbuf *b, const struct seg_header *h)
{
	seg_encode_header_prefix(b, h);
	if (h->minor >= SEG_MINOR_ENVELOPE)
		encode_envelope(b, h);
	pbuf_crc(b);
}

void
seg_encode_block(struct pbuf *b, const struct seg_block_meta *m, uint16_t minor)
{
	put_tag(b, "PGAB");
	pbuf_u32(b, m->block_no);
	pbuf_u64(b, (uint64_t)m->snapshot_us);
	pbuf_u64(b, m->sysid);
	pbuf_u32(b, m->server_version);
	pbuf_u16(b, m->port);
	pbuf_str(b, m->metric);
	pbuf_str(b, m->target);
	pbuf_str(b, m->host);
	pbuf_str(b, m->database);
	pbuf_u16(b, m->ncols);
	for (uint16_t i = 0; i < m->ncols; i++)
		pbuf_str(b, m->cols[i]);
	if (minor >= SEG_MINOR_DESCRIBED) {
		uint8_t flags = m->flags;

		pbuf_bytes(b, &flags, 1);
		pbuf_u16(b, m->desc != NULL ? m->ncols : 0);
		for (uint16_t i = 0; m->desc != NULL && i < m->ncols; i++) {
			pbuf_str(b, m->desc[i].type);
			pbuf_bytes(b, &m->desc[i].role, 1);
		}
	}
	pbuf_crc(b);
}

void
seg_encode_trailer(struct pbuf *b, const struct seg_block_trailer *t)
{
	put_tag(b, "PGAT");
	pbuf_u32(b, t->block_no);
	pbuf_u64(b, t->rows);
	pbuf_u64(b, t->raw_bytes);
	pbuf_u64(b, t->frame_bytes);
	pbuf_u32(b, t->frame_crc);
	pbuf_crc(b);
}

void
seg_encode_footer(struct pbuf *b, const struct seg_footer *f)
{
	put_tag(b, "PGAF");
	pbuf_u32(b, f->flags);
	pbuf_u32(b, f->nblocks);
	pbuf_u64(b, f->total_rows);
	pbuf_u64(b, f->total_raw);
	pbuf_u64(b, (uint64_t)f->min_snapshot_us);
	pbuf_u64(b, (uint64_t)f->max_snapshot_us);
	pbuf_u64(b, f->torn_bytes);
	for (uint32_t i = 0; i < f->nblocks; i++) {
		pbuf_u64(b, f->index[i].offset);
		pbuf_u64(b, f->index[i].rows);
		pbuf_u64(b, (uint64_t)f->index[i].snapshot_us);
		pbuf_str(b, f->index[i].metric);
	}
	pbuf_bytes(b, f->sha256, PGA_SHA256_LEN);
	pbuf_crc(b);
	/* frame length (8-byte frame header + payload + these 8 bytes) and end tag */
	pbuf_u32(b, (uint32_t)(8 + b->len + 8));
	put_tag(b, "PGAE");
}

/* Same tail as the footer's, so a reader finds both from the end. */
void
seg_encode_signature(struct pbuf *b, const struct seg_signature *s)
{
	put_tag(b, "PGAS");
	pbuf_u16(b, s->alg);
	pbuf_bytes(b, s->key_id, PGA_SIGN_KEYID_LEN);
	pbuf_u16(b, PGA_SIGN_SIG_LEN);
	pbuf_bytes(b, s->sig, PGA_SIGN_SIG_LEN);
	pbuf_crc(b);
	pbuf_u32(b, (uint32_t)(8 + b->len + 8));
	put_tag(b, "PGAE");
}

/*
 * Common prologue of the decoders: tag, CRC over [0, crc_end), where the
 * CRC sits at crc_end.  For all frames but the footer crc_end = n - 4.
 */
static int
check_frame(const uint8_t *p, size_t n, size_t crc_end, const char *tag,
	    const char *what, const char *name, struct pga_err *err)
{
	if (n < 8 || memcmp(p, tag, 4) != 0)
		return pga_fail(err, PGA_EFORMAT,
				"'%s': %s is not a pga frame (foreign magic)", name, what);
	if (crc_end + 4 > n)
		return pga_fail(err, PGA_ECORRUPT, "'%s': %s is too short", name, what);
	if (pga_crc32c(0, p, crc_end) != le32(p + crc_end))
		return pga_fail(err, PGA_ECHECKSUM, "'%s': %s crc32c mismatch", name, what);
	return 0;
}

/* The header's strings (FORMAT.md "Strings"); values printed escaped. */
int
seg_header_strings_check(const struct seg_header *h, const char *name,
			 struct pga_err *err)
{
	char esc[96];

	if (!seg_collector_valid(h->collector))
		return pga_fail(err, PGA_ECORRUPT, "'%s': invalid collector id '%s' in the segment header",
				name, utf8_text(h->collector, esc, sizeof(esc)));
	if (!seg_text_valid(h->hostname))
		return pga_fail(err, PGA_ECORRUPT, "'%s': host name '%s' in the segment header is not"
				" valid text", name, utf8_text(h->hostname, esc, sizeof(esc)));
	if (!seg_text_valid(h->writer))
		return pga_fail(err, PGA_ECORRUPT, "'%s': writer '%s' in the segment header is not"
				" valid text", name, utf8_text(h->writer, esc, sizeof(esc)));
	return 0;
}

/* A block header's strings, but for the columns (the loader drops bad ones). */
int
seg_block_strings_check(const struct seg_block_meta *m, const char *name,
			struct pga_err *err)
{
	char esc[96];

	if (!seg_metric_valid(m->metric))
		return pga_fail(err, PGA_ECORRUPT, "'%s': invalid metric name '%s'",
				name, utf8_text(m->metric, esc, sizeof(esc)));
	if (!seg_text_valid(m->target))
		return pga_fail(err, PGA_ECORRUPT, "'%s': target name '%s' is not valid text",
				name, utf8_text(m->target, esc, sizeof(esc)));
	if (!seg_text_valid(m->host))
		return pga_fail(err, PGA_ECORRUPT, "'%s': server host '%s' is not valid text",
				name, utf8_text(m->host, esc, sizeof(esc)));
	return 0;
}

/*
 * The envelope fields.  Each fault has its own message: a wrapped key of
 * the wrong length is told apart from a checksum or a missing field.
 */
static int
decode_envelope(struct pcur *c, struct seg_header *h, const char *name, struct pga_err *err)
{
	h->nrecip = pcur_u16(c);
	if (c->bad)
		return 0;
	if (h->nrecip == 0) {
		if (h->flags & SEG_FLAG_ENCRYPTED)
			return pga_fail(err, PGA_ECORRUPT, "'%s': segment header says encrypted "
					"but names no recipient", name);
		return 0;
	}
	if (!(h->flags & SEG_FLAG_ENCRYPTED))
		return pga_fail(err, PGA_ECORRUPT, "'%s': segment header names recipients but "
				"is not flagged encrypted", name);
	if (h->nrecip > SEG_MAX_RECIPIENTS)
		return pga_fail(err, PGA_ECORRUPT, "'%s': segment header names %u recipients "
				"(at most %d)", name, h->nrecip, SEG_MAX_RECIPIENTS);
	h->cipher = pcur_u16(c);
	if (!c->bad && h->cipher != SEG_CIPHER_X25519_AES256GCM)
		return pga_fail(err, PGA_EVERSION, "'%s': encrypted with cipher suite %u, which "
				"this pga does not know (it knows %d)", name, h->cipher,
				SEG_CIPHER_X25519_AES256GCM);
	pcur_bytes(c, h->keycheck, PGA_X_KEYCHECK_LEN);
	for (uint16_t i = 0; i < h->nrecip && !c->bad; i++) {
		struct seg_recipient *rc = &h->recip[i];
		uint16_t len;
		const uint8_t *w;

		pcur_bytes(c, rc->key_id, PGA_X_KEYID_LEN);
		pcur_bytes(c, rc->eph, PGA_X_RAW_LEN);
		w = pcur_str_ref(c, &len);
		if (w == NULL)
			break;
		if (len != PGA_X_WRAPPED_LEN) {
			char id[17];

			return pga_fail(err, PGA_ECORRUPT, "'%s': the wrapped data key for recipient "
					"%s is %u bytes, not %d (truncated or padded)", name,
					seg_keyid_short(rc->key_id, id), len, PGA_X_WRAPPED_LEN);
		}
		rc->wrapped_len = len;
		memcpy(rc->wrapped, w, len);
	}
	return 0;
}

int
seg_decode_header(const uint8_t *p, size_t n, struct seg_header *h,
		  const char *name, struct pga_err *err)
{
	struct pcur c = {.p = p, .len = n - 4, .pos = 4};
	int rc = check_frame(p, n, n - 4, "PGAH", "segment header", name, err);

	if (rc < 0)
		return rc;
	h->major = pcur_u16(&c);
	h->minor = pcur_u16(&c);
	if (h->major != SEG_FORMAT_MAJOR)
		return pga_fail(err, PGA_EVERSION,
				"'%s': segment format version %u is not supported (this pga reads %d)",
				name, h->major, SEG_FORMAT_MAJOR);
	h->flags = pcur_u32(&c);
	if (h->flags & ~SEG_KNOWN_FLAGS)
		return pga_fail(err, PGA_EVERSION,
				"'%s': segment uses features this pga does not have (flags 0x%x)",
				name, h->flags);
	h->seq = pcur_u64(&c);
	h->created_us = (int64_t)pcur_u64(&c);
	pcur_bytes(&c, h->prev_sha256, PGA_SHA256_LEN);
	pcur_str(&c, h->collector, sizeof(h->collector));
	pcur_str(&c, h->hostname, sizeof(h->hostname));
	pcur_str(&c, h->writer, sizeof(h->writer));
	if (!c.bad)
		pga_sha256_buf(p, c.pos, h->env_aad);
	h->nrecip = 0;
	if (!c.bad && h->minor >= SEG_MINOR_ENVELOPE) {
		rc = decode_envelope(&c, h, name, err);
		if (rc < 0)
			return rc;
	}
	/* a newer minor version may append fields: they are skipped */
	if (c.bad || (h->minor <= SEG_FORMAT_MINOR && c.pos != c.len))
		return pga_fail(err, PGA_ECORRUPT, "'%s': malformed segment header", name);
	if ((h->flags & SEG_FLAG_ENCRYPTED) && h->nrecip == 0)
		return pga_fail(err, PGA_ECORRUPT, "'%s': segment header says encrypted but names "
				"no recipient", name);
	if (h->seq == 0 || h->collector[0] == '\0')
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': segment header has no sequence number or collector", name);
	rc = seg_header_strings_check(h, name, err);
	if (rc == 0)
		rc = seg_name_check(name, h, err);
	return rc;
}

/*
 * Minor 1's fields after the column names: flags, then no descriptor or
 * one per column.  Types are copied after the names in colbuf.  A role or
 * flag this pga does not know is corrupt in a minor it knows and, in a
 * newer minor (which may add roles), read as info and ignored.
 */
static int
decode_desc(struct pcur *c, uint16_t minor, struct seg_block_meta *m, char *colbuf,
	    size_t used, size_t colcap, struct seg_col_desc *desc, const char *name,
	    struct pga_err *err)
{
	uint8_t flags = 0;
	uint16_t ndesc;
	bool newer = minor > SEG_FORMAT_MINOR;

	m->desc = NULL;
	m->flags = 0;
	if (minor < SEG_MINOR_DESCRIBED)
		return 0;
	pcur_bytes(c, &flags, 1);
	ndesc = pcur_u16(c);
	if (c->bad)
		return pga_fail(err, PGA_ECORRUPT, "'%s': malformed block header", name);
	if ((flags & ~SEG_BLOCK_KNOWN_FLAGS) && !newer)
		return pga_fail(err, PGA_ECORRUPT, "'%s': unknown block flags 0x%x", name, flags);
	m->flags = flags & SEG_BLOCK_KNOWN_FLAGS;
	if (ndesc == 0)
		return 0;
	if (ndesc != m->ncols)
		return pga_fail(err, PGA_ECORRUPT, "'%s': %u column descriptors for %u columns",
				name, ndesc, m->ncols);
	for (uint16_t i = 0; i < ndesc; i++) {
		uint16_t len;
		const uint8_t *t = pcur_str_ref(c, &len);
		char esc[96];

		if (t == NULL)
			return pga_fail(err, PGA_ECORRUPT, "'%s': malformed block header", name);
		if (len > SEG_TYPE_MAX || (size_t)len + 1 > colcap - used || memchr(t, '\0', len) != NULL)
			return pga_fail(err, PGA_ECORRUPT, "'%s': column '%s': type of %u bytes"
					" (at most %d, no NUL)", name,
					utf8_text(m->cols[i], esc, sizeof(esc)), len, SEG_TYPE_MAX);
		memcpy(colbuf + used, t, len);
		colbuf[used + len] = '\0';
		desc[i].type = colbuf + used;
		used += len + 1u;
		pcur_bytes(c, &desc[i].role, 1);
		if (desc[i].role > SEG_ROLE_LAST && newer)
			desc[i].role = SEG_ROLE_INFO;
	}
	m->desc = desc;
	return c->bad ? pga_fail(err, PGA_ECORRUPT, "'%s': malformed block header", name) : 0;
}

int
seg_decode_block(const uint8_t *p, size_t n, uint16_t minor, struct seg_block_meta *m,
		 char *colbuf, size_t colcap, const char **cols, struct seg_col_desc *desc,
		 const char *name, struct pga_err *err)
{
	struct pcur c = {.p = p, .len = n - 4, .pos = 4};
	size_t used = 0;
	int rc = check_frame(p, n, n - 4, "PGAB", "block header", name, err);

	if (rc < 0)
		return rc;
	m->block_no = pcur_u32(&c);
	m->snapshot_us = (int64_t)pcur_u64(&c);
	m->sysid = pcur_u64(&c);
	m->server_version = pcur_u32(&c);
	m->port = pcur_u16(&c);
	pcur_str(&c, m->metric, sizeof(m->metric));
	pcur_str(&c, m->target, sizeof(m->target));
	pcur_str(&c, m->host, sizeof(m->host));
	pcur_str(&c, m->database, sizeof(m->database));
	m->ncols = pcur_u16(&c);
	if (m->ncols > SEG_MAX_COLS)
		c.bad = true;
	for (uint16_t i = 0; i < m->ncols && !c.bad; i++) {
		pcur_str(&c, colbuf + used, colcap - used);
		cols[i] = colbuf + used;
		used += strlen(colbuf + used) + 1;
	}
	m->cols = cols;
	if (c.bad)
		return pga_fail(err, PGA_ECORRUPT, "'%s': malformed block header", name);
	rc = decode_desc(&c, minor, m, colbuf, used, colcap, desc, name, err);
	if (rc < 0)
		return rc;
	/* a newer minor version may append fields: they are skipped */
	if (minor <= SEG_FORMAT_MINOR && c.pos != c.len)
		return pga_fail(err, PGA_ECORRUPT, "'%s': malformed block header", name);
	rc = seg_block_strings_check(m, name, err);
	return rc < 0 ? rc : seg_block_desc_check(m, name, err);
}

int
seg_decode_trailer(const uint8_t *p, size_t n, struct seg_block_trailer *t,
		   const char *name, struct pga_err *err)
{
	struct pcur c = {.p = p, .len = n - 4, .pos = 4};
	int rc = check_frame(p, n, n - 4, "PGAT", "block trailer", name, err);

	if (rc < 0)
		return rc;
	t->block_no = pcur_u32(&c);
	t->rows = pcur_u64(&c);
	t->raw_bytes = pcur_u64(&c);
	t->frame_bytes = pcur_u64(&c);
	t->frame_crc = pcur_u32(&c);
	if (c.bad || c.pos != c.len)
		return pga_fail(err, PGA_ECORRUPT, "'%s': malformed block trailer", name);
	return 0;
}

int
seg_decode_footer(const uint8_t *p, size_t n, struct seg_footer *f,
		  const char *name, struct pga_err *err)
{
	struct pcur c = {.p = p, .len = n - 12, .pos = 4};
	int rc;

	f->index = NULL;
	if (n < 12 + 4 || memcmp(p + n - 4, "PGAE", 4) != 0)
		return pga_fail(err, PGA_EFORMAT,
				"'%s': footer is not a pga frame (foreign magic)", name);
	rc = check_frame(p, n, n - 12, "PGAF", "footer", name, err);
	if (rc < 0)
		return rc;
	f->flags = pcur_u32(&c);
	f->nblocks = pcur_u32(&c);
	f->total_rows = pcur_u64(&c);
	f->total_raw = pcur_u64(&c);
	f->min_snapshot_us = (int64_t)pcur_u64(&c);
	f->max_snapshot_us = (int64_t)pcur_u64(&c);
	f->torn_bytes = pcur_u64(&c);
	if (c.bad || f->nblocks == 0 || f->nblocks > SEG_MAX_BLOCKS)
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': footer has an invalid block count", name);
	f->index = calloc(f->nblocks, sizeof(*f->index));
	if (f->index == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < f->nblocks && !c.bad; i++) {
		f->index[i].offset = pcur_u64(&c);
		f->index[i].rows = pcur_u64(&c);
		f->index[i].snapshot_us = (int64_t)pcur_u64(&c);
		pcur_str(&c, f->index[i].metric, sizeof(f->index[i].metric));
	}
	pcur_bytes(&c, f->sha256, PGA_SHA256_LEN);
	if (c.bad || c.pos != c.len || le32(p + n - 8) != n + 8) {
		free(f->index);
		f->index = NULL;
		return pga_fail(err, PGA_ECORRUPT, "'%s': malformed footer", name);
	}
	return 0;
}

int
seg_decode_signature(const uint8_t *p, size_t n, struct seg_signature *s,
		     const char *name, struct pga_err *err)
{
	struct pcur c = {.p = p, .len = n - 12, .pos = 4};
	uint16_t siglen;
	int rc;

	if (n < 12 + 4 || memcmp(p + n - 4, "PGAE", 4) != 0)
		return pga_fail(err, PGA_EFORMAT,
				"'%s': signature is not a pga frame (foreign magic)", name);
	rc = check_frame(p, n, n - 12, "PGAS", "signature", name, err);
	if (rc < 0)
		return rc;
	s->alg = pcur_u16(&c);
	pcur_bytes(&c, s->key_id, PGA_SIGN_KEYID_LEN);
	siglen = pcur_u16(&c);
	if (!c.bad && s->alg != PGA_SIGN_ALG_ED25519)
		return pga_fail(err, PGA_EVERSION,
				"'%s': signature algorithm %u is not supported (this pga knows "
				"Ed25519, 1)", name, s->alg);
	if (c.bad || siglen != PGA_SIGN_SIG_LEN)
		return pga_fail(err, PGA_ECORRUPT, "'%s': malformed signature", name);
	pcur_bytes(&c, s->sig, PGA_SIGN_SIG_LEN);
	if (c.bad || c.pos != c.len || le32(p + n - 8) != n + 8)
		return pga_fail(err, PGA_ECORRUPT, "'%s': malformed signature", name);
	return 0;
}

/* ---- names ---- */

int
seg_name_format(char *buf, size_t cap, const char *collector, uint64_t seq,
		int64_t created_us, struct pga_err *err)
{
	char ts[32];
	char day[16];
	int n;

	pga_format_time_compact(created_us, ts, sizeof(ts));
	/* ts is yyyymmddThhmmssZ */
	snprintf(day, sizeof(day), "%.4s/%.2s/%.2s", ts, ts + 4, ts + 6);
	n = snprintf(buf, cap, "%s/%s/%016" PRIx64 "-%s.pga.zst", collector, day,
		     seq, ts);
	if (n < 0 || (size_t)n >= cap)
		return pga_fail(err, PGA_EINVAL, "segment name too long");
	return 0;
}

/* Split the last five path components: collector, yyyy, mm, dd, file. */
static int
split_name(const char *name, const char *comp[5], size_t len[5])
{
	const char *end = name + strlen(name);

	for (int i = 4; i >= 0; i--) {
		const char *start = end;

		while (start > name && start[-1] != '/')
			start--;
		comp[i] = start;
		len[i] = (size_t)(end - start);
		if (len[i] == 0 || (i > 0 && start == name))
			return -1;
		end = start - 1;
	}
	return 0;
}

int
seg_name_parse(const char *name, char *collector, size_t ccap, uint64_t *seq,
	       int64_t *created_us)
{
	const char *comp[5];
	size_t len[5];
	const char *f;
	char iso[40], coll[PGA_NAME_MAX + 1];
	int64_t t;

	if (split_name(name, comp, len) != 0)
		return -1;
	f = comp[4];	/* <16 hex>-<yyyymmddThhmmssZ>.pga.zst */
	if (len[4] != 16 + 1 + 16 + 8 || f[16] != '-' ||
	    memcmp(f + 33, ".pga.zst", 8) != 0 || f[25] != 'T' || f[32] != 'Z')
		return -1;
	for (int i = 0; i < 16; i++)
		if (!isdigit((unsigned char)f[i]) && !(f[i] >= 'a' && f[i] <= 'f'))
			return -1;
	if (len[1] != 4 || len[2] != 2 || len[3] != 2 ||
	    memcmp(comp[1], f + 17, 4) != 0 || memcmp(comp[2], f + 21, 2) != 0 ||
	    memcmp(comp[3], f + 23, 2) != 0)
		return -1;
	snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", f + 17,
		 f + 21, f + 23, f + 26, f + 28, f + 30);
	if (pga_parse_time(iso, 0, &t, NULL) != 0)
		return -1;
	if (len[0] > PGA_NAME_MAX)
		return -1;
	memcpy(coll, comp[0], len[0]);
	coll[len[0]] = '\0';
	if (!seg_collector_valid(coll))
		return -1;
	if (collector != NULL && strlcpy(collector, coll, ccap) >= ccap)
		return -1;
	if (seq != NULL)
		*seq = strtoull(f, NULL, 16);
	if (created_us != NULL)
		*created_us = t;
	return 0;
}

/*
 * The name's creation time has whole seconds and a four-digit year: a
 * header time outside 1970..9999 cannot be named (and gmtime would not
 * say so).
 */
#define NAME_TIME_MIN 0LL
#define NAME_TIME_MAX 253402300799999999LL	/* 9999-12-31T23:59:59.999999Z */

int
seg_name_check(const char *name, const struct seg_header *h, struct pga_err *err)
{
	const char *comp[5];
	size_t len[5];
	char want[SEG_NAME_MAX], esc[96];

	if (seg_name_parse(name, NULL, 0, NULL, NULL) != 0)
		return 0;	/* not named like a segment: no claim to check */
	split_name(name, comp, len);
	if (h->created_us < NAME_TIME_MIN || h->created_us > NAME_TIME_MAX ||
	    !seg_collector_valid(h->collector) ||
	    seg_name_format(want, sizeof(want), h->collector, h->seq, h->created_us, NULL) != 0)
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': name does not match its header (collector '%s', seq %" PRIu64
				", created at an unnameable time): refused", name,
				utf8_text(h->collector, esc, sizeof(esc)), h->seq);
	if (strcmp(comp[0], want) != 0)
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': name does not match its header, which says '%s': refused",
				name, want);
	return 0;
}

/* ---- strings ---- */

static bool
ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool
seg_collector_valid(const char *id)
{
	size_t n = 0;

	for (const char *p = id; *p; p++, n++)
		if (!ascii_alnum(*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return n > 0 && n <= PGA_NAME_MAX && (ascii_alnum(id[0]) || id[0] == '_');
}

bool
seg_metric_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > SEG_METRIC_MAX || !(name[0] >= 'a' && name[0] <= 'z'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(name[i] >= 'a' && name[i] <= 'z') && !(name[i] >= '0' && name[i] <= '9') &&
		    name[i] != '_')
			return false;
	return true;
}

static bool
in_list(const char *name, const char *const *list)
{
	for (const char *const *p = list; *p; p++)
		if (strcmp(name, *p) == 0)
			return true;
	return false;
}

static const char *const col_types[] = {
	"bigint", "integer", "smallint", "numeric", "real", "double precision", "boolean",
	"text", "timestamptz", "date", "interval", "oid", "pg_lsn", "inet", "jsonb",
	"bytea", "uuid", NULL,
};

bool
seg_col_type_valid(const char *type)
{
	size_t n = strlen(type);

	if (n > SEG_TYPE_MAX)
		return false;
	if (n > 2 && strcmp(type + n - 2, "[]") == 0)
		n -= 2;
	for (const char *const *t = col_types; *t != NULL; t++)
		if (strlen(*t) == n && strncmp(*t, type, n) == 0)
			return true;
	return false;
}

static const char *const role_names[] = {"info", "key", "counter", "gauge", "reset"};

const char *
seg_col_role_name(uint8_t role)
{
	return role <= SEG_ROLE_LAST ? role_names[role] : NULL;
}

int
seg_col_role_parse(const char *name, uint8_t *role)
{
	for (uint8_t i = 0; i <= SEG_ROLE_LAST; i++)
		if (strcmp(name, role_names[i]) == 0) {
			*role = i;
			return 0;
		}
	if (strcmp(name, "text") == 0) {
		*role = SEG_ROLE_INFO;
		return 0;
	}
	return -1;
}

int
seg_block_desc_check(const struct seg_block_meta *m, const char *name, struct pga_err *err)
{
	char esc[96], tesc[96];

	for (uint16_t i = 0; m->desc != NULL && i < m->ncols; i++) {
		if (!seg_col_type_valid(m->desc[i].type))
			return pga_fail(err, PGA_ECORRUPT, "'%s': column '%s': type '%s' is not one"
					" pga loads", name, utf8_text(m->cols[i], esc, sizeof(esc)),
					utf8_text(m->desc[i].type, tesc, sizeof(tesc)));
		if (m->desc[i].role > SEG_ROLE_LAST)
			return pga_fail(err, PGA_ECORRUPT, "'%s': column '%s': unknown role %u", name,
					utf8_text(m->cols[i], esc, sizeof(esc)), m->desc[i].role);
	}
	if (m->flags & ~SEG_BLOCK_KNOWN_FLAGS)
		return pga_fail(err, PGA_ECORRUPT, "'%s': unknown block flags 0x%x", name, m->flags);
	return 0;
}

bool
seg_column_valid(const char *name)
{
	static const struct {
		const char *s;
		size_t n;
	} taken[] = {
#define T(s) {s, sizeof(s) - 1}
		/* PostgreSQL's system columns: no table may have a column so named */
		T("tableoid"), T("xmin"), T("cmin"), T("xmax"), T("cmax"), T("ctid"),
		/* the block's constant fields in every central table */
		T("collector_id"), T("server_id"), T("snapshot_time"), T("dbname"),
#undef T
	};
	size_t n = strlen(name);

	if (n == 0 || n > 63 || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!ascii_alnum(name[i]) && name[i] != '_')
			return false;
	/* every column of every block is checked, twice: lengths first */
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++)
		if (taken[i].n == n && memcmp(name, taken[i].s, n) == 0)
			return false;
	return true;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool
seg_metric_reserved(const char *name)
{
	static const char *const objects[] = {
		"schema_version", "collectors", "servers", "segments", "segment_windows",
		"quarantine", "catalog_applied", "metrics", "gaps", "chain_breaks", NULL,
	};
	size_t n = strlen(name);

	if (in_list(name, objects) || ends_with(name, "_delta") || ends_with(name, "_series"))
		return true;
	/* daily partitions: <metric>_pYYYYMMDD */
	return n >= 10 && name[n - 10] == '_' && name[n - 9] == 'p' &&
	       strspn(name + n - 8, "0123456789") == 8;
}

bool
seg_utf8_valid(const void *buf, size_t len)
{
	return utf8_valid_prefix(buf, len) == len;
}

/* Control characters here are C0, DEL and C1 (FORMAT.md "text"). */
bool
seg_text_valid(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t len = strlen(s);

	for (size_t i = 0, k; i < len; i += k) {
		k = utf8_seq_len(p + i, len - i);
		if (k == 0 || (k == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
		    (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0))
			return false;
	}
	return true;
}

/* ---- the CSV a block may carry ---- */

void
seg_csv_check_init(struct seg_csv_check *c, uint16_t ncols)
{
	memset(c, 0, sizeof(*c));
	c->ncols = ncols;
	c->row = 1;
}

static int
csv_row_end(struct seg_csv_check *c, struct pga_err *err)
{
	if (c->seps + 1 != c->ncols)
		return pga_fail(err, PGA_EINVAL, "row %" PRIu64 " has %" PRIu32 " field%s, not %u",
				c->row, c->seps + 1, c->seps ? "s" : "", c->ncols);
	c->row++;
	c->seps = 0;
	c->row_open = false;
	return 0;
}

/* One byte of UTF-8, kept across buffers: false when it breaks the encoding. */
static bool
csv_utf8(struct seg_csv_check *c, uint8_t b)
{
	if (c->u8_need > 0) {
		if ((b & 0xC0) != 0x80)
			return false;
		c->u8_cp = c->u8_cp << 6 | (b & 0x3Fu);
		if (--c->u8_need > 0)
			return true;
		return c->u8_cp >= c->u8_min && c->u8_cp <= 0x10FFFF &&
		       !(c->u8_cp >= 0xD800 && c->u8_cp <= 0xDFFF);
	}
	if (b == 0)
		return false;
	if (b < 0x80)
		return true;
	if ((b & 0xE0) == 0xC0)
		c->u8_need = 1, c->u8_cp = b & 0x1Fu, c->u8_min = 0x80;
	else if ((b & 0xF0) == 0xE0)
		c->u8_need = 2, c->u8_cp = b & 0x0Fu, c->u8_min = 0x800;
	else if ((b & 0xF8) == 0xF0)
		c->u8_need = 3, c->u8_cp = b & 0x07u, c->u8_min = 0x10000;
	else
		return false;
	return true;
}

int
seg_csv_check_feed(struct seg_csv_check *c, const void *buf, size_t len,
		   struct pga_err *err)
{
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = p[i];

		c->bytes++;
		if (!csv_utf8(c, b))
			return pga_fail(err, PGA_EINVAL, "row %" PRIu64 " is not valid UTF-8 (%s"
					" at byte %" PRIu64 ")", c->row,
					b == 0 ? "a NUL byte" : "a bad sequence", c->bytes);
		if (b == '"') {
			c->in_quotes = !c->in_quotes;	/* "" inside quotes: out and in again */
		} else if (!c->in_quotes && b == ',') {
			c->seps++;
		} else if (!c->in_quotes && b == '\r') {
			return pga_fail(err, PGA_EINVAL, "row %" PRIu64 " has a carriage return"
					" outside quotes (end rows with \\n alone)", c->row);
		} else if (!c->in_quotes && b == '\n') {
			int rc = csv_row_end(c, err);

			if (rc < 0)
				return rc;
			continue;
		}
		c->row_open = true;
	}
	return 0;
}

int
seg_csv_check_end(struct seg_csv_check *c, struct pga_err *err)
{
	if (c->u8_need > 0)
		return pga_fail(err, PGA_EINVAL, "row %" PRIu64 " is not valid UTF-8 (cut short)",
				c->row);
	if (c->in_quotes)
		return pga_fail(err, PGA_EINVAL, "input ends inside a quoted CSV field");
	return c->row_open ? csv_row_end(c, err) : 0;
}

/* ---- CSV rows ---- */

void
csv_count(struct csv_counter *c, const void *buf, size_t len)
{
	const char *p = buf, *end = p + len;

	if (len == 0)
		return;
	c->last = end[-1];
	while (p < end) {
		if (c->in_quotes) {
			p = memchr(p, '"', (size_t)(end - p));
			if (p == NULL)
				return;
			c->in_quotes = false;	/* "" re-enters at once */
			p++;
			continue;
		}
		{
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *q = memchr(p, '"', (size_t)((nl ? nl : end) - p));

			if (q != NULL) {
				c->in_quotes = true;
				p = q + 1;
			} else if (nl != NULL) {
				c->rows++;
				p = nl + 1;
			} else {
				return;
			}
		}
	}
}
