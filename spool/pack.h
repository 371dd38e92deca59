/*
 * pack.h - `pga spool pack`: the spool's sealed segments as one archive
 *
 * The archive is what spool/source.h reads back ("Archives" there and in
 * FORMAT.md): MANIFEST.sha256 first, then each segment under its name.
 */
#ifndef PGA_PACK_H
#define PGA_PACK_H

#include <stdint.h>

#include "common/err.h"

struct spool;

struct pack_stats {
	uint64_t segments, bytes;
};

/*
 * Write a pax tar of the spool's sealed segments whose snapshot range meets
 * [since, until] (INT64_MIN/INT64_MAX for open ends), MANIFEST.sha256 first
 * (every segment is hashed before the tar is written, and hashed again as
 * it is copied: a segment that changed fails the pack; one shipped and
 * removed in between restarts it); the tar is written as out.part, fsync'd
 * and renamed into place.  Segments over SEG_ARCHIVE_MEMBER_MAX
 * (spool/source.h) are refused: no reader would accept the archive.
 */
int spool_pack(struct spool *sp, const char *out, int64_t since, int64_t until,
	       struct pack_stats *stats, struct pga_err *err);

#endif
