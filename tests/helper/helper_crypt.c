/*
 * Attacks on encrypted segments (FORMAT.md "Encryption"), each made so
 * that only the envelope can catch it: the CRCs an attacker can recompute
 * are recomputed.
 *
 *   seg-crypt flip FILE BLOCK [BIT]    flip one ciphertext bit of the block's
 *                                      first chunk (default bit 0 of its first
 *                                      byte), fix the trailer's frame CRC
 *   seg-crypt flip-raw FILE BLOCK      the same without fixing any CRC
 *   seg-crypt swap FILE OTHER BLOCK    put OTHER's block BLOCK (header, chunks,
 *                                      trailer) in place of FILE's
 *   seg-crypt cut-wrapped FILE         recipient 0's wrapped data key one byte
 *                                      short, the header's length and CRC fixed
 *   seg-crypt chunks FILE              "block chunk offset length" per chunk
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "spool/segment_int.h"
#include "tests/helper/helper.h"

struct frame {
	uint32_t kind;		/* skippable kind, or 99 for anything else */
	size_t off, len;	/* whole frame, its 8-byte header included */
};

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "seg-crypt: cannot read '%s'\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void
spit(const char *path, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "seg-crypt: cannot write '%s'\n", path);
		exit(1);
	}
}

/* Every frame of a segment (all are skippable in an encrypted one). */
static size_t
frames(const uint8_t *p, size_t len, struct frame *out, size_t cap)
{
	size_t n = 0, off = 0;

	while (off + 8 <= len && n < cap) {
		uint32_t magic = le32(p + off), flen = le32(p + off + 4);

		out[n].kind = (magic & 0xFFFFFFF0u) == SEG_SKIPPABLE_BASE ? magic & 0xF : 99;
		out[n].off = off;
		out[n].len = 8 + (size_t)flen;
		if (out[n].kind == 99 || off + out[n].len > len)
			break;
		off += out[n].len;
		n++;
	}
	return n;
}

/* Index of the block header frame of block b, and of its trailer. */
static int
find_block(const struct frame *f, size_t n, uint32_t b, size_t *head, size_t *trail)
{
	uint32_t seen = 0;

	for (size_t i = 0; i < n; i++) {
		if (f[i].kind != SEG_KIND_BLOCK)
			continue;
		if (seen++ != b)
			continue;
		*head = i;
		for (size_t j = i + 1; j < n; j++)
			if (f[j].kind == SEG_KIND_TRAILER) {
				*trail = j;
				return 0;
			}
	}
	fprintf(stderr, "seg-crypt: no block %u\n", b);
	return -1;
}

/* The trailer's frame CRC over the chunks between head and trail, then its own CRC. */
static void
fix_trailer(uint8_t *p, const struct frame *f, size_t head, size_t trail)
{
	uint32_t crc = 0;
	uint8_t *t = p + f[trail].off + 8;

	for (size_t i = head + 1; i < trail; i++)
		crc = pga_crc32c(crc, p + f[i].off, f[i].len);
	put_le32(t + 32, crc);
	put_le32(t + 36, pga_crc32c(0, t, 36));
}

static int
do_flip(const char *path, uint32_t b, unsigned bit, bool fix)
{
	struct frame f[4096];
	size_t len, n, head, trail;
	uint8_t *p = slurp(path, &len);

	n = frames(p, len, f, 4096);
	if (find_block(f, n, b, &head, &trail) < 0 || f[head + 1].kind != SEG_KIND_SEALED)
		return 1;
	/* after frame header 8, tag 4, flags 1, key check 8: the ciphertext */
	p[f[head + 1].off + 8 + 13 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
	if (fix)
		fix_trailer(p, f, head, trail);
	spit(path, p, len);
	free(p);
	return 0;
}

static int
do_swap(const char *path, const char *other, uint32_t b)
{
	struct frame fa[4096], fb[4096];
	size_t la, lb, na, nb, ha, ta, hb, tb, a0, a1, b0, b1;
	uint8_t *pa = slurp(path, &la), *pb = slurp(other, &lb), *out;

	na = frames(pa, la, fa, 4096);
	nb = frames(pb, lb, fb, 4096);
	if (find_block(fa, na, b, &ha, &ta) < 0 || find_block(fb, nb, b, &hb, &tb) < 0)
		return 1;
	a0 = fa[ha].off;
	a1 = fa[ta].off + fa[ta].len;
	b0 = fb[hb].off;
	b1 = fb[tb].off + fb[tb].len;
	out = malloc(la - (a1 - a0) + (b1 - b0));
	memcpy(out, pa, a0);
	memcpy(out + a0, pb + b0, b1 - b0);
	memcpy(out + a0 + (b1 - b0), pa + a1, la - a1);
	spit(path, out, la - (a1 - a0) + (b1 - b0));
	free(out);
	free(pa);
	free(pb);
	return 0;
}

static int
do_cut_wrapped(const char *path)
{
	size_t len, pos = 4 + 2 + 2 + 4 + 8 + 8 + 32, plen, wl;
	uint8_t *p = slurp(path, &len), *h;

	h = p + 8;
	plen = le32(p + 4);
	for (int i = 0; i < 3; i++)	/* collector, host, writer */
		pos += 2 + (size_t)(h[pos] | h[pos + 1] << 8);
	if ((h[pos] | h[pos + 1] << 8) == 0) {
		fprintf(stderr, "seg-crypt: '%s' is not encrypted\n", path);
		return 1;
	}
	pos += 2 + 2 + 8 + 32 + 32;	/* count, suite, key check, recipient 0's id, eph */
	wl = (size_t)(h[pos] | h[pos + 1] << 8);
	h[pos] = (uint8_t)(wl - 1);
	h[pos + 1] = (uint8_t)((wl - 1) >> 8);
	/* drop the wrapped key's last byte, then the CRC is over one byte less */
	memmove(h + pos + 2 + wl - 1, h + pos + 2 + wl, len - (8 + pos + 2 + wl));
	len--;
	plen--;
	put_le32(p + 4, (uint32_t)plen);
	put_le32(h + plen - 4, pga_crc32c(0, h, plen - 4));
	spit(path, p, len);
	free(p);
	return 0;
}

static int
do_chunks(const char *path)
{
	struct frame f[4096];
	size_t len, n;
	uint8_t *p = slurp(path, &len);
	int block = -1, chunk = 0;

	n = frames(p, len, f, 4096);
	for (size_t i = 0; i < n; i++) {
		if (f[i].kind == SEG_KIND_BLOCK) {
			block++;
			chunk = 0;
		} else if (f[i].kind == SEG_KIND_SEALED) {
			printf("%d %d %zu %zu\n", block, chunk++, f[i].off, f[i].len);
		}
	}
	free(p);
	return 0;
}

int
helper_seg_crypt(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "flip") == 0)
		return do_flip(argv[2], (uint32_t)atoi(argv[3]),
			       argc > 4 ? (unsigned)atoi(argv[4]) : 0, true);
	if (argc >= 4 && strcmp(argv[1], "flip-raw") == 0)
		return do_flip(argv[2], (uint32_t)atoi(argv[3]), 0, false);
	if (argc >= 5 && strcmp(argv[1], "swap") == 0)
		return do_swap(argv[2], argv[3], (uint32_t)atoi(argv[4]));
	if (argc >= 3 && strcmp(argv[1], "cut-wrapped") == 0)
		return do_cut_wrapped(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "chunks") == 0)
		return do_chunks(argv[2]);
	fprintf(stderr, "usage: seg-crypt flip|flip-raw|swap|cut-wrapped|chunks ...\n");
	return 64;
}
