/*
 * libFuzzer target: the MANIFEST.sha256 parser and member-name rules.  A
 * manifest that parses must hold sorted, distinct, safe names that are all
 * found again; a name seg_member_name() accepts must be safe.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool/manifest.h"
#include "spool/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_safe(const char *name)
{
	if (name[0] == '/' || strstr(name, "//") != NULL || strcmp(name, "..") == 0 ||
	    strncmp(name, "../", 3) == 0 || strstr(name, "/../") != NULL ||
	    strstr(name, "/./") != NULL || strncmp(name, "./", 2) == 0 ||
	    strchr(name, '\\') != NULL)
		abort();
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7E)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg_manifest m;
	struct pga_err err = {0};
	char *s, out[SEG_NAME_MAX];

	if (seg_manifest_parse((const char *)data, size, "fuzz", &m, &err) == 0) {
		for (size_t i = 0; i < m.n; i++) {
			check_safe(m.v[i].name);
			if (seg_name_parse(m.v[i].name, NULL, 0, NULL, NULL) != 0 ||
			    seg_manifest_find(&m, m.v[i].name) != &m.v[i] ||
			    (i > 0 && strcmp(m.v[i - 1].name, m.v[i].name) >= 0))
				abort();
		}
		seg_manifest_free(&m);
	}
	s = strndup((const char *)data, size);
	if (s == NULL)
		return 0;
	for (int dir = 0; dir < 2; dir++)
		if (seg_member_name(s, dir, out, sizeof(out)))
			check_safe(out);
	free(s);
	return 0;
}
