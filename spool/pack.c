/* `pga spool pack`: a pax tar of MANIFEST.sha256 and then the sealed segments. */
#define _GNU_SOURCE
#include "spool/pack.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/fsutil.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/units.h"
#include "spool/manifest.h"
#include "spool/source.h"
#include "spool/spool.h"

#define MANIFEST_LINE (PGA_SHA256_HEX + 2 + SEG_NAME_MAX + 1)
#define PACK_BUF (128 * 1024)
#define PACK_ATTEMPTS 3

struct packer {
	struct archive *ar;
	const char *out;
	uint8_t *buf;
	struct spool_list list;		/* the spool's sealed segments */
	size_t *chosen, nchosen;	/* indexes into list, in manifest order */
	size_t *line_at;		/* offset of each chosen segment's line */
	char *manifest;			/* growing text, one line per segment */
	size_t mlen, mcap;
};

static int
ar_fail(struct packer *pk, struct pga_err *err)
{
	return pga_fail(err, pga_errno_code(archive_errno(pk->ar)),
			"could not write archive '%s': %s", pk->out,
			archive_error_string(pk->ar));
}

static int
add_entry(struct packer *pk, const char *name, uint64_t size, int64_t mtime_us,
	  struct pga_err *err)
{
	struct archive_entry *ae = archive_entry_new();
	int rc = 0;

	if (ae == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	archive_entry_set_pathname(ae, name);
	archive_entry_set_size(ae, (la_int64_t)size);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0640);
	archive_entry_set_mtime(ae, mtime_us / PGA_USEC_PER_SEC, 0);
	if (archive_write_header(pk->ar, ae) != ARCHIVE_OK)
		rc = ar_fail(pk, err);
	archive_entry_free(ae);
	return rc;
}

static int
manifest_add(struct packer *pk, const uint8_t sha[PGA_SHA256_LEN],
	     const char *name, struct pga_err *err)
{
	char hex[PGA_SHA256_HEX];

	if (pk->mlen + MANIFEST_LINE > pk->mcap) {
		size_t cap = pk->mcap ? pk->mcap * 2 : 64 * MANIFEST_LINE;
		char *p = realloc(pk->manifest, cap);

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		pk->manifest = p;
		pk->mcap = cap;
	}
	pga_hex(sha, PGA_SHA256_LEN, hex);
	pk->line_at[pk->nchosen] = pk->mlen;
	pk->mlen += (size_t)snprintf(pk->manifest + pk->mlen, pk->mcap - pk->mlen,
				     "%s  %s\n", hex, name);
	return 0;
}

/*
 * Read a segment's size bytes, hashing them, and copy them into the
 * archive when to_archive.  1 when the file is gone (shipped and removed
 * meanwhile).
 */
static int
stream_segment(struct packer *pk, const char *path, uint64_t size, bool to_archive,
	       uint8_t sha[PGA_SHA256_LEN], struct pga_err *err)
{
	struct pga_sha256 h = {0};
	uint64_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return errno == ENOENT ? 1 : pga_fail(err, PGA_EIO, "could not open '%s': %m", path);
	rc = pga_sha256_init(&h, err);
	while (rc == 0 && done < size) {
		size_t got, want = size - done < PACK_BUF ? (size_t)(size - done) : PACK_BUF;

		rc = pga_read_full(fd, pk->buf, want, &got, path, err);
		if (rc == 0 && got < want)
			rc = pga_fail(err, PGA_ETRUNC, "'%s' shrank while packing it", path);
		if (rc == 0 && to_archive &&
		    archive_write_data(pk->ar, pk->buf, got) != (la_ssize_t)got)
			rc = ar_fail(pk, err);
		pga_sha256_update(&h, pk->buf, got);
		done += got;
	}
	if (rc == 0)
		pga_sha256_final(&h, sha);
	pga_sha256_free(&h);
	close(fd);
	return rc;
}

static bool
in_range(const char *path, int64_t since, int64_t until)
{
	struct seg_info info;
	struct pga_err err = {0};

	if (since == INT64_MIN && until == INT64_MAX)
		return true;
	if (seg_peek_file(path, &info, &err) != 0) {
		log_warn("packing '%s' although its time range is unreadable: %s", path, err.msg);
		return true;
	}
	return info.max_snapshot_us >= since && info.min_snapshot_us <= until;
}

/*
 * First pass: choose the segments and hash them, so the manifest can go
 * first in the tar (a reader then knows what to expect before any segment).
 */
static int
hash_pass(struct packer *pk, struct spool *sp, int64_t since, int64_t until,
	  struct pga_err *err)
{
	char path[PATH_MAX];
	int rc = spool_list_ready(sp, &pk->list, err);

	if (rc == 0) {
		pk->chosen = calloc(pk->list.n + 1, sizeof(*pk->chosen));
		pk->line_at = calloc(pk->list.n + 1, sizeof(*pk->line_at));
		if (pk->chosen == NULL || pk->line_at == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	for (size_t i = 0; rc == 0 && i < pk->list.n; i++) {
		const struct spool_entry *e = &pk->list.v[i];
		uint8_t sha[PGA_SHA256_LEN];

		rc = spool_ready_path(sp, e->name, path, sizeof(path), err);
		if (rc < 0 || !in_range(path, since, until))
			continue;
		if (e->size > SEG_ARCHIVE_MEMBER_MAX)
			return pga_fail(err, PGA_EINVAL, "'%s' is larger than an archive member may"
					" be (1 GiB): no reader would accept the archive", path);
		rc = stream_segment(pk, path, e->size, false, sha, err);
		if (rc == 1) {
			rc = 0;	/* shipped and removed meanwhile */
			continue;
		}
		if (rc == 0)
			rc = manifest_add(pk, sha, e->name, err);
		if (rc == 0)
			pk->chosen[pk->nchosen++] = i;
		if (rc == 0 && (pk->mlen > SEG_MANIFEST_MAX || pk->nchosen > SEG_ARCHIVE_MEMBERS_MAX))
			return pga_fail(err, PGA_EINVAL, "too many segments for one archive: pack"
					" a time window at a time (--since, --until)");
	}
	return rc;
}

/* Second pass: the manifest, then each segment, hashed again. */
static int
write_pass(struct packer *pk, struct spool *sp, struct pack_stats *stats,
	   struct pga_err *err)
{
	char path[PATH_MAX];
	int rc = add_entry(pk, SEG_MANIFEST_NAME, pk->mlen, pga_now_us(), err);

	if (rc == 0 && pk->mlen > 0 &&
	    archive_write_data(pk->ar, pk->manifest, pk->mlen) != (la_ssize_t)pk->mlen)
		rc = ar_fail(pk, err);
	for (size_t k = 0; rc == 0 && k < pk->nchosen; k++) {
		const struct spool_entry *e = &pk->list.v[pk->chosen[k]];
		uint8_t sha[PGA_SHA256_LEN], want[PGA_SHA256_LEN];

		rc = spool_ready_path(sp, e->name, path, sizeof(path), err);
		if (rc == 0)
			rc = add_entry(pk, e->name, e->size, e->created_us, err);
		if (rc == 0)
			rc = stream_segment(pk, path, e->size, true, sha, err);
		if (rc == 1)
			return 1;	/* gone since the first pass: start again */
		pga_unhex(pk->manifest + pk->line_at[k], want, PGA_SHA256_LEN);
		if (rc == 0 && memcmp(sha, want, PGA_SHA256_LEN) != 0)
			rc = pga_fail(err, PGA_ECHECKSUM, "'%s' changed while packing it", path);
		stats->segments++;
		stats->bytes += e->size;
	}
	return rc;
}

static void
packer_reset(struct packer *pk)
{
	spool_list_free(&pk->list);
	free(pk->chosen);
	free(pk->line_at);
	free(pk->manifest);
	pk->chosen = NULL;
	pk->line_at = NULL;
	pk->manifest = NULL;
	pk->nchosen = pk->mlen = pk->mcap = 0;
}

/* One attempt: 1 when a segment vanished between the passes. */
static int
pack_once(struct packer *pk, struct spool *sp, const char *part, int64_t since,
	  int64_t until, struct pack_stats *stats, struct pga_err *err)
{
	int fd, rc;

	memset(stats, 0, sizeof(*stats));
	fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return pga_fail(err, pga_errno_code(errno), "could not create '%s': %m", part);
	rc = hash_pass(pk, sp, since, until, err);
	if (rc == 0) {
		pk->ar = archive_write_new();
		if (pk->ar == NULL)
			rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	if (rc == 0) {
		archive_write_set_format_pax(pk->ar);
		archive_write_set_bytes_in_last_block(pk->ar, 1);
		if (archive_write_open_fd(pk->ar, fd) != ARCHIVE_OK)
			rc = ar_fail(pk, err);
	}
	if (rc == 0)
		rc = write_pass(pk, sp, stats, err);
	if (rc == 0 && archive_write_close(pk->ar) != ARCHIVE_OK)
		rc = ar_fail(pk, err);
	if (rc == 0)
		rc = pga_fsync_fd(fd, part, err);
	if (pk->ar != NULL)
		archive_write_free(pk->ar);
	pk->ar = NULL;
	if (close(fd) != 0 && rc == 0)
		rc = pga_fail(err, PGA_EIO, "could not close '%s': %m", part);
	return rc;
}

int
spool_pack(struct spool *sp, const char *out, int64_t since, int64_t until,
	   struct pack_stats *stats, struct pga_err *err)
{
	struct packer pk = {.out = out};
	char part[PATH_MAX];
	int rc = pga_path(part, sizeof(part), err, "%s.part", out);

	if (rc < 0)
		return rc;
	pk.buf = malloc(PACK_BUF);
	if (pk.buf == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	for (int attempt = 0; rc == 0; attempt++) {
		rc = pack_once(&pk, sp, part, since, until, stats, err);
		packer_reset(&pk);
		if (rc != 1)
			break;
		if (attempt + 1 == PACK_ATTEMPTS) {
			rc = pga_fail(err, PGA_EIO, "segments kept leaving the spool while packing"
				      " '%s': try again", out);
			break;
		}
		log_info("a segment left the spool while packing '%s': starting again", out);
		rc = 0;
	}
	if (rc == 0)
		rc = pga_rename_durable(part, out, err);
	if (rc < 0)
		unlink(part);
	free(pk.buf);
	return rc;
}
