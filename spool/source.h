/*
 * source.h - where segments come from, read one after another
 *
 * A source is any of:
 *   - a spool directory (has ready/): its sealed segments;
 *   - any directory tree holding segments under their names (an unpacked
 *     archive, a file:// destination, a mounted share);
 *   - a tar archive (.tar, .tar.gz/.tgz, .tar.zst, .tar.xz), as `pga spool
 *     pack` writes it: see "Archives" below;
 *   - a single segment file;
 *   - a URL (s3://, gs://, azure://, or dest:NAME for a configured
 *     destination), read through the backend cmd_setup() registers, so spool/
 *     does not depend on ship/.  Objects are fetched one at a time into an
 *     unlinked temporary file in $TMPDIR: disk use is bounded by one segment.
 * Items come in (collector, seq) order for directories, archive order for
 * tars.  Files in a directory that are not named like segments are skipped
 * with a log line; a file given directly that is not a segment is an error
 * when it is read.  Every item's name is the name its contents must agree
 * with: the segment readers refuse a header that contradicts it
 * (seg_name_check), whatever the source.
 *
 * Archives: no item of an archive is returned before the whole archive has
 * been checked against its MANIFEST.sha256.  seg_source_open() reads the
 * archive once (the verification pass, nothing written anywhere) and
 * refuses it with one error naming the archive and the member at fault
 * unless all of this holds:
 *   - every entry is a directory or a plain file (no symlink, hard link,
 *     device, fifo or sparse file), under a safe relative path (no absolute
 *     path, no "." or ".." component);
 *   - every file is MANIFEST.sha256 or named like a segment, and no name
 *     comes twice;
 *   - each segment's declared size is at most SEG_ARCHIVE_MEMBER_MAX, and
 *     its header frame is a valid segment header agreeing with its name,
 *     both checked before the rest of the member is read;
 *   - there is exactly one manifest (anywhere: pack writes it first, older
 *     archives have it last), it parses strictly (manifest.h), it lists
 *     every segment member and nothing else, and each SHA-256 matches.
 * seg_source_next() then reads the archive a second time and hands out the
 * members in order; each is hashed again as it is read, and a member whose
 * bytes differ from the first pass fails its read (-1, EIO) and the next
 * seg_source_next() call: an archive changed in between is never trusted.
 * Compressed archives are decompressed by libarchive in both passes; a
 * decompression bomb costs CPU, never disk, because nothing is written in
 * the first pass and no member over the cap is ever handed out.
 * Temporary space: a consumer that copies members (pga load copies each to
 * an unlinked file in $TMPDIR while it waits for a loader) needs at most
 * SEG_ARCHIVE_MEMBER_MAX per copy it holds.
 *
 * An item's read function is valid until the next call to seg_source_next()
 * or seg_source_free().  One thread uses a source at a time.
 */
#ifndef PGA_SOURCE_H
#define PGA_SOURCE_H

#include <stdbool.h>
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

/* Largest archive member handed out (1 GiB): see "Archives" above. */
#define SEG_ARCHIVE_MEMBER_MAX (1ull << 30)
/* Most members an archive may have (memory stays bounded). */
#define SEG_ARCHIVE_MEMBERS_MAX (1u << 18)

/* How many names a filter sees at once. */
#define SEG_FILTER_BATCH 512

struct seg_source_opts {
	/* read an archive that has no MANIFEST.sha256 (never the default);
	 * a manifest that is there is still checked */
	bool no_manifest;
	/*
	 * Optional, for directories and buckets: called with the next (up to
	 * SEG_FILTER_BATCH) listed names before any of them is opened or
	 * fetched; it clears keep[i] for a name to pass over (pga load --loop:
	 * what the ledger holds already, never downloaded again).  An error
	 * stops the source.
	 */
	int (*filter)(void *ctx, const char *const *names, size_t n, bool *keep,
		      struct pga_err *err);
	void *filter_ctx;
};

int seg_source_open(struct seg_source **out, const char *path,
		    struct pga_err *err);
int seg_source_open_opts(struct seg_source **out, const char *path,
			 const struct seg_source_opts *opts, struct pga_err *err);
/*
 * Options seg_source_open() uses (commands set them from their flags, once,
 * before any thread starts: pga load and restore open their source deep
 * inside the load module).
 */
void seg_source_set_defaults(const struct seg_source_opts *opts);
void seg_source_get_defaults(struct seg_source_opts *opts);
/* Names the filter passed over so far. */
uint64_t seg_source_filtered(const struct seg_source *src);
/* true for a spool directory (a source with ready/). */
bool seg_source_is_spool(const struct seg_source *src);

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
	/* the objects under prefix (relative to the URL), any order */
	int (*list_under)(void *handle, const char *prefix,
			  int (*add)(void *actx, const char *name, uint64_t size,
				     struct pga_err *err),
			  void *actx, struct pga_err *err);
	/* the "directories" directly under prefix ("site-3/" under "", "2026/"
	 * under "site-3/"), any order; PGA_EINVAL when the store cannot */
	int (*list_dirs)(void *handle, const char *prefix,
			 int (*add)(void *actx, const char *dir, uint64_t size,
				    struct pga_err *err),
			 void *actx, struct pga_err *err);
};

/* Register the backend (once, before any thread starts); ctx is passed to open. */
void seg_source_set_url_backend(const struct seg_url_backend *b, void *ctx);
/* 1: *item is the next segment; 0: no more. */
int seg_source_next(struct seg_source *src, struct seg_item *item,
		    struct pga_err *err);
/* Number of segments, when known in advance (directories, archives); -1 otherwise. */
long seg_source_count(const struct seg_source *src);
void seg_source_free(struct seg_source *src);

/* What kind of source a path names, without opening it. */
enum seg_source_kind { SEG_SOURCE_DIR, SEG_SOURCE_TAR, SEG_SOURCE_FILE, SEG_SOURCE_URL };
int seg_source_kind(const char *path, enum seg_source_kind *kind, struct pga_err *err);

/*
 * Random access to a verified archive, for a consumer that wants its own
 * order (pga restore: the newest day first).  seg_source_members() is an
 * archive's number of segments (0 for any other source) and
 * seg_source_member() names them, in archive order.  Only an uncompressed
 * tar (what `pga spool pack` writes) can be read out of order
 * (seg_source_seekable(); read the others with seg_source_next()):
 * seg_source_member_copy() writes member i's
 * bytes to fd, read from where the verification pass found them, and
 * fails (PGA_ECHECKSUM) unless they hash to what that pass and the
 * manifest said.  Thread-safe against each other (pread), not against
 * seg_source_next().
 */
size_t seg_source_members(const struct seg_source *src);
bool seg_source_seekable(const struct seg_source *src);
const char *seg_source_member(const struct seg_source *src, size_t i, uint64_t *size);
int seg_source_member_copy(const struct seg_source *src, size_t i, int fd,
			   struct pga_err *err);

/*
 * A bucket read a prefix at a time (pga restore lists collectors, then
 * their days, never every object at once), through the backend main()
 * registered.  One thread per handle; open one per thread.
 */
struct seg_bucket;
typedef int (*seg_bucket_fn)(void *ctx, const char *name, uint64_t size,
			     struct pga_err *err);
int seg_bucket_open(struct seg_bucket **out, const char *url, struct pga_err *err);
/* "Directories" directly under prefix; PGA_EINVAL if the store cannot list so. */
int seg_bucket_dirs(struct seg_bucket *b, const char *prefix, seg_bucket_fn fn, void *ctx,
		    struct pga_err *err);
/* Segments under prefix (names relative to the URL, as everywhere). */
int seg_bucket_list(struct seg_bucket *b, const char *prefix, seg_bucket_fn fn, void *ctx,
		    struct pga_err *err);
/* An object's bytes to fd. */
int seg_bucket_fetch(struct seg_bucket *b, const char *name, int fd, struct pga_err *err);
void seg_bucket_close(struct seg_bucket *b);

#endif
