/*
 * source.h - where segments come from, read one after another
 *
 * A source is any of:
 *   - a spool directory (has ready/): its sealed segments;
 *   - any directory tree holding segments under their names (an unpacked
 *     archive, a file:// destination, a mounted share);
 *   - a tar archive made by `pga spool pack` (or any tar of segments with a
 *     MANIFEST.sha256 at the end, which is then checked);
 *   - a single segment file;
 *   - a URL (s3://, gs://, azure://, or dest:NAME for a configured
 *     destination), read through the backend main() registers, so spool/
 *     does not depend on ship/.  Objects are fetched one at a time into an
 *     unlinked temporary file in $TMPDIR: disk use is bounded by one segment.
 * Items come in (collector, seq) order for directories, archive order for
 * tars.  Files in a directory that are not named like segments are skipped
 * with a log line; a file given directly that is not a segment is an error
 * when it is read.
 *
 * An item's read function is valid until the next call to seg_source_next()
 * or seg_source_free().  One thread uses a source at a time.
 */
#ifndef PGA_SOURCE_H
#define PGA_SOURCE_H

#include <stdint.h>

#include "common/err.h"
#include "spool/segment.h"

struct seg_source;

struct seg_item {
	char name[SEG_NAME_MAX];	/* relative segment name */
	const char *path;		/* file on disk, or NULL inside an archive */
	int fd;				/* >= 0: a local copy at offset 0 (dup it to keep it) */
	uint64_t size;
	seg_read_fn read;
	void *ctx;
};

int seg_source_open(struct seg_source **out, const char *path,
		    struct pga_err *err);

/* How URL sources reach a store.  All calls from one thread. */
struct seg_url_backend {
	int (*open)(void *ctx, const char *url, void **handle, struct pga_err *err);
	/* every object under the URL, any order; names relative to it */
	int (*list)(void *handle, int (*add)(void *actx, const char *name,
					     uint64_t size, struct pga_err *err),
		    void *actx, struct pga_err *err);
	/* write an object's bytes to fd */
	int (*fetch)(void *handle, const char *name, int fd, struct pga_err *err);
	void (*close)(void *handle);
};

/* Register the backend (once, before any thread starts); ctx is passed to open. */
void seg_source_set_url_backend(const struct seg_url_backend *b, void *ctx);
/* 1: *item is the next segment; 0: no more (archive manifest verified). */
int seg_source_next(struct seg_source *src, struct seg_item *item,
		    struct pga_err *err);
/* Number of segments, when known in advance (directories); -1 otherwise. */
long seg_source_count(const struct seg_source *src);
void seg_source_free(struct seg_source *src);

/* ---- pack ---- */

struct pack_stats {
	uint64_t segments, bytes;
};

/*
 * Write a pax tar of the spool's sealed segments whose snapshot range meets
 * [since, until] (INT64_MIN/INT64_MAX for open ends), with MANIFEST.sha256
 * last; the tar is written as out.part, fsync'd and renamed into place.
 */
struct spool;
int spool_pack(struct spool *sp, const char *out, int64_t since, int64_t until,
	       struct pack_stats *stats, struct pga_err *err);

#endif
