/*
 * segment_int.h - internals shared by the segment writer and reader
 * (payload encoding of the metadata frames).  Not for use outside spool/.
 */
#ifndef PGA_SEGMENT_INT_H
#define PGA_SEGMENT_INT_H

#include "spool/segment.h"

/* A growable payload being encoded; oom is sticky.  base: where the
 * payload starts in p (0 but for one encoded after others, in place). */
struct pbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
	size_t base;
};

void pbuf_u16(struct pbuf *b, uint16_t v);
void pbuf_u32(struct pbuf *b, uint32_t v);
void pbuf_u64(struct pbuf *b, uint64_t v);
void pbuf_bytes(struct pbuf *b, const void *p, size_t n);
void pbuf_str(struct pbuf *b, const char *s);
void pbuf_free(struct pbuf *b);
/* Append the CRC32C of the payload so far (from base). */
void pbuf_crc(struct pbuf *b);

/* A payload being decoded; bad is sticky (read past the end). */
struct pcur {
	const uint8_t *p;
	size_t len, pos;
	bool bad;
};

uint16_t pcur_u16(struct pcur *c);
uint32_t pcur_u32(struct pcur *c);
uint64_t pcur_u64(struct pcur *c);
void pcur_bytes(struct pcur *c, void *out, size_t n);
/* Copy a str field into out (NUL-terminated); too long for cap sets bad. */
void pcur_str(struct pcur *c, char *out, size_t cap);
/* Point at a str field without copying. */
const uint8_t *pcur_str_ref(struct pcur *c, uint16_t *len);

static inline uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void
put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Encoders: build the payload (without the 8-byte frame header). */
void seg_encode_header(struct pbuf *b, const struct seg_header *h);
/* The header's fields before the envelope (what env_aad hashes), no CRC. */
void seg_encode_header_prefix(struct pbuf *b, const struct seg_header *h);
/* Minor 1 and later: with the block's flags and column descriptors. */
void seg_encode_block(struct pbuf *b, const struct seg_block_meta *m, uint16_t minor);
void seg_encode_trailer(struct pbuf *b, const struct seg_block_trailer *t);
void seg_encode_footer(struct pbuf *b, const struct seg_footer *f);
void seg_encode_signature(struct pbuf *b, const struct seg_signature *s);

/*
 * Decoders check tag, CRC and bounds and fail with PGA_EFORMAT (foreign
 * tag), PGA_ECHECKSUM (CRC) or PGA_ECORRUPT (malformed), naming `what`.
 */
int seg_decode_header(const uint8_t *p, size_t n, struct seg_header *h,
		      const char *name, struct pga_err *err);
/*
 * minor is the segment header's.  Column names and types are copied into
 * colbuf (cap bytes), cols and desc (SEG_MAX_COLS each).  Fields a newer
 * minor appended are skipped; in a minor this pga knows, none may follow.
 */
int seg_decode_block(const uint8_t *p, size_t n, uint16_t minor, struct seg_block_meta *m,
		     char *colbuf, size_t colcap, const char **cols, struct seg_col_desc *desc,
		     const char *name, struct pga_err *err);
int seg_decode_trailer(const uint8_t *p, size_t n, struct seg_block_trailer *t,
		       const char *name, struct pga_err *err);
/*
 * The strings of a header or block header against FORMAT.md "Strings"
 * (the block's columns are not checked: the loader drops bad ones).
 * PGA_ECORRUPT naming `name`; shared by the decoders and the writer.
 */
int seg_header_strings_check(const struct seg_header *h, const char *name,
			     struct pga_err *err);
int seg_block_strings_check(const struct seg_block_meta *m, const char *name,
			    struct pga_err *err);
int seg_decode_signature(const uint8_t *p, size_t n, struct seg_signature *s,
			 const char *name, struct pga_err *err);
/* Allocates f->index. */
int seg_decode_footer(const uint8_t *p, size_t n, struct seg_footer *f,
		      const char *name, struct pga_err *err);

#endif
