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
		pbuf_u32(b, pga_crc32c(0, b->p, b->len));
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
seg_encode_header(struct pbuf *b, const struct seg_header *h)
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
	pbuf_crc(b);
}

void
seg_encode_block(struct pbuf *b, const struct seg_block_meta *m)
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
				"'%s': segment uses features this pga does not have (flags 0x%x: %s)",
				name, h->flags,
				h->flags & SEG_FLAG_ENCRYPTED ? "encrypted" : "signed");
	h->seq = pcur_u64(&c);
	h->created_us = (int64_t)pcur_u64(&c);
	pcur_bytes(&c, h->prev_sha256, PGA_SHA256_LEN);
	pcur_str(&c, h->collector, sizeof(h->collector));
	pcur_str(&c, h->hostname, sizeof(h->hostname));
	pcur_str(&c, h->writer, sizeof(h->writer));
	/* a newer minor version may append fields: they are skipped */
	if (c.bad || (h->minor == SEG_FORMAT_MINOR && c.pos != c.len))
		return pga_fail(err, PGA_ECORRUPT, "'%s': malformed segment header", name);
	if (h->seq == 0 || h->collector[0] == '\0')
		return pga_fail(err, PGA_ECORRUPT,
				"'%s': segment header has no sequence number or collector", name);
	return 0;
}

int
seg_decode_block(const uint8_t *p, size_t n, struct seg_block_meta *m,
		 char *colbuf, size_t colcap, const char **cols,
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
	if (c.bad || c.pos != c.len || !seg_metric_valid(m->metric))
		return pga_fail(err, PGA_ECORRUPT, "'%s': malformed block header", name);
	return 0;
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
	if (!pga_name_valid(coll))
		return -1;
	if (collector != NULL && strlcpy(collector, coll, ccap) >= ccap)
		return -1;
	if (seq != NULL)
		*seq = strtoull(f, NULL, 16);
	if (created_us != NULL)
		*created_us = t;
	return 0;
}

bool
seg_metric_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > SEG_METRIC_MAX || !islower((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
		    name[i] != '_')
			return false;
	return true;
}

bool
seg_column_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 63 || isdigit((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
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
