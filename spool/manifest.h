/*
 * manifest.h - the MANIFEST.sha256 of an archive, and archive member names
 *
 * The manifest is what `sha256sum` prints and `sha256sum -c` checks (see
 * FORMAT.md "Archives"): one line per segment,
 *
 *     <64 hex digits> <' ' or '*'><member name>\n
 *
 * Parsing is strict, because the manifest is the gate an archive passes
 * before anything of it is used: a line of another shape (a backslash-
 * escaped name, --tag format, CR LF, an empty line), a name that is not a
 * safe relative path ending in a segment name, or a name listed twice makes
 * the whole manifest invalid.  A missing newline after the last line is
 * accepted.  At most SEG_MANIFEST_MAX bytes.
 *
 * Member names are compared after seg_member_name(): a leading "./" (as GNU
 * tar writes for `tar cf x.tar .`) is dropped on both sides.
 *
 * Ownership: a parsed manifest owns its entries and names; free it with
 * seg_manifest_free().  Not thread-safe; one thread per manifest.
 */
#ifndef PGA_MANIFEST_H
#define PGA_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/hash.h"

#define SEG_MANIFEST_NAME "MANIFEST.sha256"
#define SEG_MANIFEST_MAX (16u << 20)

struct seg_manifest_entry {
	const char *name;		/* normalised, points into the manifest */
	uint8_t sha[PGA_SHA256_LEN];
	bool seen;			/* for the caller: matched by a member */
};

struct seg_manifest {
	struct seg_manifest_entry *v;	/* sorted by name, no duplicates */
	size_t n;
	char *text;			/* the names live here */
};

/*
 * Parse len bytes of manifest text.  archive names the archive in errors:
 * PGA_ECORRUPT "archive 'A': MANIFEST.sha256 line N: ..." and nothing
 * allocated, or 0 with *out filled.
 */
int seg_manifest_parse(const char *buf, size_t len, const char *archive,
		       struct seg_manifest *out, struct pga_err *err);
/* The entry for a normalised member name, or NULL. */
struct seg_manifest_entry *seg_manifest_find(const struct seg_manifest *m,
					     const char *name);
void seg_manifest_free(struct seg_manifest *m);

/*
 * Normalise an archive member's path into out: leading "./" dropped, then
 * it must be relative, without "." or ".." or empty components (a trailing
 * '/' is allowed when dir is true), of printable ASCII without '\', and
 * shorter than cap.  false when it is none of that (a path trick).
 */
bool seg_member_name(const char *path, bool dir, char *out, size_t cap);

#endif
