/* libFuzzer target: the streaming segment reader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "spool/segment.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mem m = {.p = data, .len = size, .chunk = size % 2 ? 4096 : 1 << 20};
	struct seg_reader *r = NULL;
	const struct seg_block_meta *meta;
	struct pga_err err = {0};
	uint8_t out[8192];
	int rc, n = 0;

	if (seg_reader_open(&r, mem_read, &m, "fuzz", &err) != 0)
		return 0;
	while ((rc = seg_reader_next(r, &meta, &err)) == 1) {
		size_t got;

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
	return 0;
}
