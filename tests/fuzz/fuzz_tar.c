/* libFuzzer target: the segment source reading a tar archive. */
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
	if (seg_source_open(&src, path, &err) == 0) {
		while (seg_source_next(src, &item, &err) == 1) {
			struct seg_info info;

			/* every entry is read through the segment verifier */
			seg_verify_stream(item.read, item.ctx, item.name, &info, &err);
		}
	}
	seg_source_free(src);
	unlink(path);
	return 0;
}
