/* `pga spool pack`: a pax tar of sealed segments plus MANIFEST.sha256. */
#define _GNU_SOURCE
#include "spool/source.h"

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
#include "spool/spool.h"

#define MANIFEST_LINE (PGA_SHA256_HEX + 2 + SEG_NAME_MAX + 1)

struct packer {
	struct archive *ar;
	const char *out;
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
	pk->mlen += (size_t)snprintf(pk->manifest + pk->mlen, pk->mcap - pk->mlen,
				     "%s  %s\n", hex, name);
	return 0;
}

/* Copy one segment into the archive, hashing what goes in. */
static int
pack_segment(struct packer *pk, const char *path, const struct spool_entry *e,
	     struct pga_err *err)
{
	struct pga_sha256 h = {0};
	uint8_t buf[128 * 1024], sha[PGA_SHA256_LEN];
	uint64_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return errno == ENOENT ? 1 : pga_fail(err, PGA_EIO, "could not open '%s': %m", path);
	rc = pga_sha256_init(&h, err);
	if (rc == 0)
		rc = add_entry(pk, e->name, e->size, e->created_us, err);
	while (rc == 0 && done < e->size) {
		size_t got;

		rc = pga_read_full(fd, buf, sizeof(buf), &got, path, err);
		if (rc == 0 && got == 0)
			rc = pga_fail(err, PGA_ETRUNC, "'%s' shrank while packing it", path);
		if (rc == 0 && archive_write_data(pk->ar, buf, got) != (la_ssize_t)got)
			rc = ar_fail(pk, err);
		pga_sha256_update(&h, buf, got);
		done += got;
	}
	if (rc == 0) {
		pga_sha256_final(&h, sha);
		rc = manifest_add(pk, sha, e->name, err);
	}
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

static int
pack_all(struct packer *pk, struct spool *sp, int64_t since, int64_t until,
	 struct pack_stats *stats, struct pga_err *err)
{
	struct spool_list l;
	char path[PATH_MAX];
	int rc = spool_list_ready(sp, &l, err);

	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		rc = spool_ready_path(sp, l.v[i].name, path, sizeof(path), err);
		if (rc < 0 || !in_range(path, since, until))
			continue;
		rc = pack_segment(pk, path, &l.v[i], err);
		if (rc == 1) {
			rc = 0;	/* shipped and removed meanwhile */
			continue;
		}
		stats->segments++;
		stats->bytes += l.v[i].size;
	}
	if (rc == 0) {
		rc = add_entry(pk, "MANIFEST.sha256", pk->mlen, pga_now_us(), err);
		if (rc == 0 && pk->mlen > 0 &&
		    archive_write_data(pk->ar, pk->manifest, pk->mlen) != (la_ssize_t)pk->mlen)
			rc = ar_fail(pk, err);
	}
	spool_list_free(&l);
	return rc;
}

int
spool_pack(struct spool *sp, const char *out, int64_t since, int64_t until,
	   struct pack_stats *stats, struct pga_err *err)
{
	struct packer pk = {.out = out};
	char part[PATH_MAX];
	int fd = -1, rc;

	memset(stats, 0, sizeof(*stats));
	rc = pga_path(part, sizeof(part), err, "%s.part", out);
	if (rc < 0)
		return rc;
	fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return pga_fail(err, pga_errno_code(errno), "could not create '%s': %m", part);
	pk.ar = archive_write_new();
	if (pk.ar == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		goto out;
	}
	archive_write_set_format_pax(pk.ar);
	archive_write_set_bytes_in_last_block(pk.ar, 1);
	if (archive_write_open_fd(pk.ar, fd) != ARCHIVE_OK) {
		rc = ar_fail(&pk, err);
		goto out;
	}
	rc = pack_all(&pk, sp, since, until, stats, err);
	if (rc == 0 && archive_write_close(pk.ar) != ARCHIVE_OK)
		rc = ar_fail(&pk, err);
	if (rc == 0)
		rc = pga_fsync_fd(fd, part, err);
	if (rc == 0 && close(fd) != 0)
		rc = pga_fail(err, PGA_EIO, "could not close '%s': %m", part);
	fd = -1;
	if (rc == 0)
		rc = pga_rename_durable(part, out, err);
out:
	if (pk.ar != NULL)
		archive_write_free(pk.ar);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(part);
	free(pk.manifest);
	return rc;
}
