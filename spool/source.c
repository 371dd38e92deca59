/* Segment sources: spool directories, segment trees, tar archives, files. */
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
#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/hash.h"
#include "common/log.h"
#include "spool/spool.h"

#define MANIFEST_NAME "MANIFEST.sha256"
#define MANIFEST_MAX (16u << 20)

enum source_kind { SRC_TREE, SRC_TAR, SRC_FILE, SRC_URL };

struct tar_seen {
	char name[SEG_NAME_MAX];
	uint8_t sha[PGA_SHA256_LEN];
};

struct seg_source {
	enum source_kind kind;
	char path[PATH_MAX];
	char root[PATH_MAX];		/* tree: directory the names are under */
	struct spool_list list;
	size_t next;
	int fd;				/* tree/file: the item being read */
	bool file_done;
	struct archive *ar;		/* tar */
	bool entry_open;
	struct pga_sha256 sha;		/* tar: hash of the current entry */
	struct tar_seen *seen;
	size_t nseen, seen_cap;
	bool manifest_ok;
	void *url;			/* backend handle */
};

static const struct seg_url_backend *url_backend;
static void *url_backend_ctx;

void
seg_source_set_url_backend(const struct seg_url_backend *b, void *ctx)
{
	url_backend = b;
	url_backend_ctx = ctx;
}

static ssize_t
fd_read(void *ctx, void *buf, size_t len)
{
	struct seg_source *src = ctx;
	ssize_t n;

	do
		n = read(src->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static ssize_t
tar_read(void *ctx, void *buf, size_t len)
{
	struct seg_source *src = ctx;
	la_ssize_t n = archive_read_data(src->ar, buf, len);

	if (n < 0) {
		errno = EIO;
		return -1;
	}
	pga_sha256_update(&src->sha, buf, (size_t)n);
	return n;
}

static int
open_tree(struct seg_source *src, const char *dir, struct pga_err *err)
{
	char ready[PATH_MAX];
	struct stat st;
	int rc = pga_path(ready, sizeof(ready), err, "%s/ready", dir);

	if (rc < 0)
		return rc;
	src->kind = SRC_TREE;
	if (stat(ready, &st) == 0 && S_ISDIR(st.st_mode))
		strlcpy(src->root, ready, sizeof(src->root));
	else
		strlcpy(src->root, dir, sizeof(src->root));
	return spool_list_tree(src->root, &src->list, err);
}

static int
open_tar(struct seg_source *src, struct pga_err *err)
{
	src->kind = SRC_TAR;
	src->ar = archive_read_new();
	if (src->ar == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	archive_read_support_format_tar(src->ar);
	archive_read_support_filter_all(src->ar);
	if (archive_read_open_filename(src->ar, src->path, 128 * 1024) != ARCHIVE_OK)
		return pga_fail(err, PGA_EFORMAT, "'%s' is not a readable tar archive: %s",
				src->path, archive_error_string(src->ar));
	return pga_sha256_init(&src->sha, err);
}

static int
url_add(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	return spool_list_add(ctx, name, size, err);
}

static int
open_url(struct seg_source *src, struct pga_err *err)
{
	int rc;

	src->kind = SRC_URL;
	if (url_backend == NULL)
		return pga_fail(err, PGA_EINVAL, "'%s': URL sources are not available here",
				src->path);
	rc = url_backend->open(url_backend_ctx, src->path, &src->url, err);
	if (rc == 0)
		rc = url_backend->list(src->url, url_add, &src->list, err);
	if (rc == 0)
		spool_list_sort(&src->list);
	return rc;
}

static bool
is_url(const char *path)
{
	return strncmp(path, "dest:", 5) == 0 ||
	       (strstr(path, "://") != NULL && strncmp(path, "file://", 7) != 0);
}

static bool
looks_like_tar(const char *path)
{
	size_t n = strlen(path);

	return (n > 4 && strcmp(path + n - 4, ".tar") == 0) ||
	       (n > 7 && strcmp(path + n - 7, ".tar.gz") == 0) ||
	       (n > 8 && strcmp(path + n - 8, ".tar.zst") == 0);
}

int
seg_source_open(struct seg_source **out, const char *path, struct pga_err *err)
{
	struct seg_source *src = calloc(1, sizeof(*src));
	struct stat st;
	int rc;

	*out = NULL;
	if (src == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	src->fd = -1;
	if (strncmp(path, "file://", 7) == 0)
		path += 7;	/* a file:// destination is a directory tree */
	strlcpy(src->path, path, sizeof(src->path));
	if (is_url(path)) {
		rc = open_url(src, err);
	} else if (stat(path, &st) != 0) {
		rc = pga_fail(err, PGA_ENOTFOUND, "could not open '%s': %m", path);
	} else if (S_ISDIR(st.st_mode)) {
		rc = open_tree(src, path, err);
	} else if (looks_like_tar(path)) {
		rc = open_tar(src, err);
	} else {
		src->kind = SRC_FILE;
		rc = 0;
	}
	if (rc < 0) {
		seg_source_free(src);
		return rc;
	}
	*out = src;
	return 0;
}

long
seg_source_count(const struct seg_source *src)
{
	if (src->kind == SRC_TREE || src->kind == SRC_URL)
		return (long)src->list.n;
	return src->kind == SRC_FILE ? 1 : -1;
}

static void
close_fd(struct seg_source *src)
{
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
}

static int
next_tree(struct seg_source *src, struct seg_item *item, struct pga_err *err)
{
	while (src->next < src->list.n) {
		const struct spool_entry *e = &src->list.v[src->next++];
		char path[PATH_MAX];
		int rc = pga_path(path, sizeof(path), err, "%s/%s", src->root, e->name);

		if (rc < 0)
			return rc;
		src->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (src->fd < 0) {
			if (errno == ENOENT)
				continue;	/* shipped and removed meanwhile */
			return pga_fail(err, PGA_EIO, "could not open '%s': %m", path);
		}
		posix_fadvise(src->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		strlcpy(item->name, e->name, sizeof(item->name));
		strlcpy(src->path, path, sizeof(src->path));
		item->path = src->path;
		item->size = e->size;
		item->read = fd_read;
		item->ctx = src;
		return 1;
	}
	return 0;
}

static int
next_file(struct seg_source *src, struct seg_item *item, struct pga_err *err)
{
	struct stat st;
	const char *base;

	if (src->file_done)
		return 0;
	src->file_done = true;
	src->fd = open(src->path, O_RDONLY | O_CLOEXEC);
	if (src->fd < 0 || fstat(src->fd, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not open '%s': %m", src->path);
	base = strrchr(src->path, '/');
	if (seg_name_parse(src->path, item->name, 0, NULL, NULL) == 0) {
		/* keep the collector/yyyy/mm/dd/file tail as the name */
		const char *p = src->path + strlen(src->path);

		for (int slashes = 0; p > src->path && slashes < 5; p--)
			if (p[-1] == '/' && ++slashes == 5)
				break;
		strlcpy(item->name, p, sizeof(item->name));
	} else {
		strlcpy(item->name, base ? base + 1 : src->path, sizeof(item->name));
	}
	item->path = src->path;
	item->size = (uint64_t)st.st_size;
	item->read = fd_read;
	item->ctx = src;
	return 1;
}

static int
next_url(struct seg_source *src, struct seg_item *item, struct pga_err *err)
{
	const char *tmp = getenv("TMPDIR");
	const struct spool_entry *e;
	int rc;

	if (src->next >= src->list.n)
		return 0;
	e = &src->list.v[src->next++];
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	src->fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (src->fd < 0)
		return pga_fail(err, pga_errno_code(errno),
				"could not create a temporary file in '%s': %m", tmp);
	rc = url_backend->fetch(src->url, e->name, src->fd, err);
	if (rc == 0 && lseek(src->fd, 0, SEEK_SET) != 0)
		rc = pga_fail(err, PGA_EIO, "could not rewind a temporary file: %m");
	if (rc < 0)
		return rc;
	strlcpy(item->name, e->name, sizeof(item->name));
	item->path = NULL;
	item->fd = src->fd;
	item->size = e->size;
	item->read = fd_read;
	item->ctx = src;
	return 1;
}

/* ---- tar ---- */

static int
finish_entry(struct seg_source *src, struct pga_err *err)
{
	uint8_t buf[65536];
	la_ssize_t n;

	if (!src->entry_open)
		return 0;
	while ((n = archive_read_data(src->ar, buf, sizeof(buf))) > 0)
		pga_sha256_update(&src->sha, buf, (size_t)n);
	if (n < 0)
		return pga_fail(err, PGA_ETRUNC, "archive '%s': %s", src->path,
				archive_error_string(src->ar));
	pga_sha256_final(&src->sha, src->seen[src->nseen - 1].sha);
	src->entry_open = false;
	return pga_sha256_init(&src->sha, err);
}

static int
check_manifest_line(struct seg_source *src, const char *line, bool *used,
		    struct pga_err *err)
{
	uint8_t sha[PGA_SHA256_LEN];
	const char *name = line + 66;

	if (strlen(line) < 67 || line[64] != ' ' || pga_unhex(line, sha, PGA_SHA256_LEN) != 0)
		return pga_fail(err, PGA_ECORRUPT, "archive '%s': malformed %s line",
				src->path, MANIFEST_NAME);
	if (*name == '*')
		name++;
	for (size_t i = 0; i < src->nseen; i++)
		if (strcmp(src->seen[i].name, name) == 0) {
			used[i] = true;
			if (memcmp(sha, src->seen[i].sha, PGA_SHA256_LEN) != 0)
				return pga_fail(err, PGA_ECHECKSUM,
						"archive '%s': '%s' does not match %s",
						src->path, name, MANIFEST_NAME);
			return 0;
		}
	return pga_fail(err, PGA_ETRUNC, "archive '%s': '%s' is in %s but not in the archive",
			src->path, name, MANIFEST_NAME);
}

static int
read_manifest(struct seg_source *src, struct archive_entry *ae, struct pga_err *err)
{
	la_int64_t size = archive_entry_size(ae);
	bool *used = NULL;
	char *buf = NULL, *line, *save = NULL;
	int rc = 0;

	if (size < 0 || (uint64_t)size > MANIFEST_MAX)
		return pga_fail(err, PGA_ECORRUPT, "archive '%s': %s is too large",
				src->path, MANIFEST_NAME);
	buf = malloc((size_t)size + 1);
	used = calloc(src->nseen + 1, sizeof(*used));
	if (buf == NULL || used == NULL) {
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		goto out;
	}
	if (archive_read_data(src->ar, buf, (size_t)size) != size) {
		rc = pga_fail(err, PGA_ETRUNC, "archive '%s': short %s", src->path,
			      MANIFEST_NAME);
		goto out;
	}
	buf[size] = '\0';
	for (line = strtok_r(buf, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save))
		rc = check_manifest_line(src, line, used, err);
	for (size_t i = 0; rc == 0 && i < src->nseen; i++)
		if (!used[i])
			rc = pga_fail(err, PGA_ECORRUPT, "archive '%s': '%s' is not in %s",
				      src->path, src->seen[i].name, MANIFEST_NAME);
	src->manifest_ok = rc == 0;
out:
	free(buf);
	free(used);
	return rc;
}

static int
remember_entry(struct seg_source *src, const char *name, struct pga_err *err)
{
	if (src->nseen == src->seen_cap) {
		size_t cap = src->seen_cap ? src->seen_cap * 2 : 64;
		void *p = reallocarray(src->seen, cap, sizeof(*src->seen));

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		src->seen = p;
		src->seen_cap = cap;
	}
	strlcpy(src->seen[src->nseen++].name, name, sizeof(src->seen[0].name));
	src->entry_open = true;
	return 0;
}

static int
next_tar(struct seg_source *src, struct seg_item *item, struct pga_err *err)
{
	struct archive_entry *ae;
	int rc = finish_entry(src, err);

	while (rc == 0) {
		const char *name;
		int ar = archive_read_next_header(src->ar, &ae);

		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN)
			return pga_fail(err, PGA_ETRUNC, "archive '%s': %s", src->path,
					archive_error_string(src->ar));
		name = archive_entry_pathname(ae);
		if (name == NULL || archive_entry_filetype(ae) != AE_IFREG)
			continue;
		if (strncmp(name, "./", 2) == 0)
			name += 2;
		if (strcmp(name, MANIFEST_NAME) == 0) {
			rc = read_manifest(src, ae, err);
			continue;
		}
		if (seg_name_parse(name, NULL, 0, NULL, NULL) != 0) {
			log_warn("archive '%s': skipping '%s': not a segment name", src->path, name);
			continue;
		}
		rc = remember_entry(src, name, err);
		if (rc < 0)
			return rc;
		strlcpy(item->name, name, sizeof(item->name));
		item->path = NULL;
		item->size = (uint64_t)archive_entry_size(ae);
		item->read = tar_read;
		item->ctx = src;
		return 1;
	}
	if (rc == 0 && !src->manifest_ok)
		rc = pga_fail(err, PGA_ETRUNC,
			      "archive '%s' has no %s at its end (truncated?)", src->path,
			      MANIFEST_NAME);
	return rc;
}

int
seg_source_next(struct seg_source *src, struct seg_item *item,
		struct pga_err *err)
{
	memset(item, 0, sizeof(*item));
	item->fd = -1;
	close_fd(src);
	switch (src->kind) {
	case SRC_URL:
		return next_url(src, item, err);
	case SRC_TREE:
		return next_tree(src, item, err);
	case SRC_FILE:
		return next_file(src, item, err);
	case SRC_TAR:
		return next_tar(src, item, err);
	}
	return 0;
}

void
seg_source_free(struct seg_source *src)
{
	if (src == NULL)
		return;
	close_fd(src);
	if (src->url != NULL)
		url_backend->close(src->url);
	if (src->ar != NULL)
		archive_read_free(src->ar);
	pga_sha256_free(&src->sha);
	spool_list_free(&src->list);
	free(src->seen);
	free(src);
}
