/*
 * libFuzzer target: the streaming segment reader on arbitrary bytes.
 *
 * Each input is read twice: as it is, and with its checksums put right
 * (every metadata frame's CRC32C, each trailer's data-frame CRC and
 * length, the footer's SHA-256), so that mutations get past the checks a
 * random byte never passes and reach what is behind them: block numbers,
 * row counts, lengths, the footer's index, the strings' rules.
 *
 * Encrypted segments (FORMAT.md "Encryption"): with $PGA_FUZZ_DECRYPT_KEY
 * (scripts/fuzz.sh makes it and a seed encrypted to it) inputs of odd size
 * are read with that key, the others without: both paths of the reader.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/hash.h"
#include "common/xkey.h"
#include "spool/segment.h"

static struct pga_xkey *fuzz_key;

static void
keys_for(size_t size)
{
	static bool tried;
	static const struct pga_xkey *k[1];	/* the readers use it while they read */

	if (!tried) {
		const char *path = getenv("PGA_FUZZ_DECRYPT_KEY");
		struct pga_err err = {0};

		tried = true;
		if (path != NULL && path[0] != '\0')
			pga_xkey_load(&fuzz_key, path, &err);
		k[0] = fuzz_key;
	}
	if (fuzz_key != NULL && size % 2)
		seg_set_decrypt_keys(k, 1);
	else
		seg_set_decrypt_keys(NULL, 0);
}

struct mem {
	const uint8_t *p;
	size_t len, pos;
	size_t chunk;	/* vary read sizes to exercise buffer refills */
};

static ssize_t
mem_read(void *ctx, void *buf, size_t len)
{
	struct mem *m = ctx;
	size_t n = m->len - m->pos;

	if (n > len)
		n = len;
	if (n > m->chunk)
		n = m->chunk;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static void
read_all(const uint8_t *data, size_t size)
{
	struct mem m = {.p = data, .len = size, .chunk = size % 2 ? 4096 : 1 << 20};
	struct seg_reader *r = NULL;
	const struct seg_block_meta *meta;
	struct pga_err err = {0};
	uint8_t out[8192];
	int rc, n = 0;

	keys_for(size);
	if (seg_reader_open(&r, mem_read, &m, "fuzz", &err) != 0)
		return;
	while ((rc = seg_reader_next(r, &meta, &err)) == 1) {
		size_t got;

		/* what the reader hands out becomes DDL centrally: only listed types */
		for (uint16_t i = 0; meta->desc != NULL && i < meta->ncols; i++)
			if (!seg_col_type_valid(meta->desc[i].type) || meta->desc[i].role > SEG_ROLE_LAST)
				abort();

		/* alternate between decompressing and skipping blocks */
		if (n++ % 2)
			rc = seg_reader_skip(r, &err);
		else
			while ((rc = seg_reader_read(r, out, sizeof(out), &got, &err)) == 0 && got > 0)
				;
		if (rc < 0)
			break;
	}
	seg_reader_free(r);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A metadata frame at pos: its kind and payload length, or -1. */
static int
frame_at(const uint8_t *b, size_t size, size_t pos, uint32_t *len)
{
	uint32_t magic;

	if (size - pos < 8)
		return -1;
	magic = le32(b + pos);
	*len = le32(b + pos + 4);
	if ((magic & 0xFFFFFFF0u) != SEG_SKIPPABLE_BASE || *len < 8 || size - pos - 8 < *len)
		return -1;
	return (int)(magic - SEG_SKIPPABLE_BASE);
}

/*
 * Put the checksums right, in place (spool/FORMAT.md): true when there was
 * anything to put right.  Data frames are what lies between a block header
 * and the next trailer frame.
 */
static bool
fix_checksums(uint8_t *b, size_t size)
{
	size_t pos = 0, data = 0;
	bool in_block = false, changed = false;
	uint32_t len;
	int kind;

	while (pos < size) {
		kind = frame_at(b, size, pos, &len);
		if (kind < 0 || (in_block && kind != SEG_KIND_TRAILER)) {
			if (!in_block)
				return changed;
			pos++;		/* inside a data frame: look for its trailer */
			continue;
		}
		uint8_t *p = b + pos + 8;
		size_t crc_at = len - 4;

		if (kind == SEG_KIND_TRAILER && in_block && len >= 40) {
			put64(p + 24, pos - data);
			put32(p + 32, pga_crc32c(0, b + data, pos - data));
			in_block = false;
		} else if (kind == SEG_KIND_FOOTER && len >= 48) {
			uint8_t sha[PGA_SHA256_LEN];

			pga_sha256_buf(b, pos, sha);
			memcpy(p + len - 44, sha, PGA_SHA256_LEN);
			crc_at = len - 12;
		}
		put32(p + crc_at, pga_crc32c(0, p, crc_at));
		changed = true;
		pos += 8 + (size_t)len;
		if (kind == SEG_KIND_BLOCK) {
			in_block = true;
			data = pos;
		}
	}
	return changed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	read_all(data, size);
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (fix_checksums(copy, size) && memcmp(copy, data, size) != 0)
		read_all(copy, size);
	free(copy);
	return 0;
}
