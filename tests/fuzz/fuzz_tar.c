/*
 * libFuzzer target: the archive source.  Opening runs the verification
 * pass (manifest, member names and types, sizes, segment headers); every
 * member it hands out is then read through the segment verifier, which
 * exercises the second pass and its re-hashing.  Odd-sized inputs are read
 * with --no-manifest, so that the second pass is reached without a valid
 * manifest in the input.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg_source_opts opts = {.no_manifest = size % 2 == 1};
	struct seg_source *src = NULL;
	struct seg_item item;
	struct pga_err err = {0};
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/dev/shm/pga-fuzz-%d.tar", (int)getpid());
	f = fopen(path, "wb");
	if (f == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (seg_source_open_opts(&src, path, &opts, &err) == 0) {
		if (seg_source_count(src) < 0)
			abort();	/* an archive's count is known once it is open */
		while (seg_source_next(src, &item, &err) == 1) {
			struct seg_info info;

			seg_verify_stream(item.read, item.ctx, item.name, &info, &err);
		}
	}
	seg_source_free(src);
	unlink(path);
	return 0;
}
