/* Segment sources: spool directories, segment trees, tar archives, files. */
#define _GNU_SOURCE
#include "spool/source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "common/grow.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/utf8.h"
#include "spool/manifest.h"
#include "spool/spool.h"

enum source_kind { SRC_TREE, SRC_TAR, SRC_FILE, SRC_URL };

#define SRC_BUF (128 * 1024)

/* An archive member as the verification pass saw it. */
struct tar_member {
	char *name;			/* normalised (manifest.h) */
	uint64_t size;
	uint64_t offset;		/* of its data in the file (uncompressed tars) */
	uint8_t sha[PGA_SHA256_LEN];
};

struct seg_source {
	enum source_kind kind;
	struct seg_source_opts opts;
	char path[PATH_MAX];
	char root[PATH_MAX];		/* tree: directory the names are under */
	bool spool;			/* tree: a spool's ready/ */
	struct spool_list list;
	size_t next;
	int fd;				/* tree/file: the item being read */
	bool file_done;
	struct archive *ar;		/* tar */
	uint8_t *buf;
	struct tar_member *mem;		/* tar: members in archive order */
	size_t nmem, mem_cap;
	size_t cur;			/* tar: members handed out */
	bool entry_open;
	uint64_t entry_read;
	uint64_t entry_offset;		/* tar: where the entry's data starts */
	struct pga_sha256 sha;		/* tar: hash of the current member */
	struct pga_err tar_err;		/* tar: a member read failed */
	int tar_fd;			/* tar: open for seg_source_member_copy(), or -1 */
	bool keep[SEG_FILTER_BATCH];	/* the filter's verdict on list.v[kept_from..] */
	size_t kept_from, kept_n;
	uint64_t filtered;
	bool seekable;			/* tar: uncompressed, offsets recorded */
	void *url;			/* backend handle */
};

/* Archives: the verification pass, then the yielding pass (below). */
static int open_tar(struct seg_source *src, const struct stat *st, struct pga_err *err);
static int next_tar(struct seg_source *src, struct seg_item *item, struct pga_err *err);

static const struct seg_url_backend *url_backend;
static void *url_backend_ctx;
static struct seg_source_opts default_opts;

void
seg_source_set_defaults(const struct seg_source_opts *opts)
{
	default_opts = *opts;
}

void
seg_source_get_defaults(struct seg_source_opts *opts)
{
	*opts = default_opts;
}

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

static int
open_tree(struct seg_source *src, const char *dir, struct pga_err *err)
{
	char ready[PATH_MAX];
	struct stat st;
	int rc = pga_path(ready, sizeof(ready), err, "%s/ready", dir);

	if (rc < 0)
		return rc;
	src->kind = SRC_TREE;
	src->spool = stat(ready, &st) == 0 && S_ISDIR(st.st_mode);
	if (src->spool)
		strlcpy(src->root, ready, sizeof(src->root));
	else
		strlcpy(src->root, dir, sizeof(src->root));
	return spool_list_tree(src->root, &src->list, err);
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

	static const char *const ext[] = {".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz", NULL};

	for (const char *const *e = ext; *e; e++)
		if (n > strlen(*e) && strcmp(path + n - strlen(*e), *e) == 0)
			return true;
	return false;
}

int
seg_source_open(struct seg_source **out, const char *path, struct pga_err *err)
{
	return seg_source_open_opts(out, path, &default_opts, err);
}

int
seg_source_open_opts(struct seg_source **out, const char *path,
		     const struct seg_source_opts *opts, struct pga_err *err)
{
	struct seg_source *src = calloc(1, sizeof(*src));
	struct stat st;
	int rc;

	*out = NULL;
	if (src == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	src->fd = -1;
	src->tar_fd = -1;
	src->opts = *opts;
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
		rc = open_tar(src, &st, err);
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
	if (src->kind == SRC_TAR)
		return (long)src->nmem;
	return 1;
}

bool
seg_source_is_spool(const struct seg_source *src)
{
	return src->spool;
}

static void
close_fd(struct seg_source *src)
{
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
}

/* 1: list entry i is to be read; 0: the filter passes over it. */
static int
wanted(struct seg_source *src, size_t i, struct pga_err *err)
{
	const char *names[SEG_FILTER_BATCH];
	int rc;

	if (src->opts.filter == NULL)
		return 1;
	if (i < src->kept_from || i >= src->kept_from + src->kept_n) {
		src->kept_from = i;
		src->kept_n = src->list.n - i < SEG_FILTER_BATCH ? src->list.n - i : SEG_FILTER_BATCH;
		for (size_t k = 0; k < src->kept_n; k++) {
			names[k] = src->list.v[i + k].name;
			src->keep[k] = true;
		}
		rc = src->opts.filter(src->opts.filter_ctx, names, src->kept_n, src->keep, err);
		if (rc < 0) {
			src->kept_n = 0;
			return rc;
		}
	}
	if (src->keep[i - src->kept_from])
		return 1;
	src->filtered++;
	return 0;
}

uint64_t
seg_source_filtered(const struct seg_source *src)
{
	return src->filtered;
}

static int
next_tree(struct seg_source *src, struct seg_item *item, struct pga_err *err)
{
	while (src->next < src->list.n) {
		const struct spool_entry *e = &src->list.v[src->next];
		char path[PATH_MAX];
		int rc = wanted(src, src->next++, err);

		if (rc <= 0) {
			if (rc < 0)
				return rc;
			continue;
		}
		rc = pga_path(path, sizeof(path), err, "%s/%s", src->root, e->name);
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

	for (;;) {
		if (src->next >= src->list.n)
			return 0;
		rc = wanted(src, src->next, err);
		if (rc < 0)
			return rc;
		if (rc == 1)
			break;
		src->next++;
	}
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

/* ---- tar: the verification pass ---- */

static int
tar_reopen(struct seg_source *src, struct pga_err *err)
{
	if (src->ar != NULL)
		archive_read_free(src->ar);
	src->ar = archive_read_new();
	if (src->ar == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	/* tar only, and only the usual compressions (built into libarchive) */
	archive_read_support_format_tar(src->ar);
	archive_read_support_filter_gzip(src->ar);
	archive_read_support_filter_zstd(src->ar);
	archive_read_support_filter_xz(src->ar);
	archive_read_support_filter_bzip2(src->ar);
	if (archive_read_open_filename(src->ar, src->path, 128 * 1024) != ARCHIVE_OK)
		return pga_fail(err, PGA_EFORMAT, "'%s' is not a readable tar archive: %s",
				src->path, archive_error_string(src->ar));
	return 0;
}

/* An archive error while reading member `name` (NULL: between members). */
static int
ar_fail(struct seg_source *src, const char *name, struct pga_err *err)
{
	const char *why = archive_error_string(src->ar);
	char esc[SEG_NAME_MAX];

	if (name == NULL)
		return pga_fail(err, PGA_ETRUNC, "archive '%s': %s (truncated or damaged?)",
				src->path, why ? why : "read error");
	return pga_fail(err, PGA_ETRUNC, "archive '%s': member '%s': %s (truncated or damaged?)",
			src->path, utf8_text(name, esc, sizeof(esc)), why ? why : "read error");
}

/* A member refused: one line naming the archive and the member. */
static int
member_fail(struct seg_source *src, const char *raw, const char *why, struct pga_err *err)
{
	char esc[SEG_NAME_MAX];

	return pga_fail(err, PGA_ECORRUPT, "archive '%s': member '%s' %s: refused", src->path,
			utf8_text(raw, esc, sizeof(esc)), why);
}

/* Member bytes, hashed on the way (both passes). */
static ssize_t
ar_hash_read(void *ctx, void *buf, size_t len)
{
	struct seg_source *src = ctx;
	la_ssize_t n = archive_read_data(src->ar, buf, len);

	if (n < 0) {
		errno = EIO;
		return -1;
	}
	pga_sha256_update(&src->sha, buf, (size_t)n);
	src->entry_read += (uint64_t)n;
	return n;
}

static int
drain_member(struct seg_source *src, const char *name, struct pga_err *err)
{
	ssize_t n;

	while ((n = ar_hash_read(src, src->buf, SRC_BUF)) > 0)
		;
	return n < 0 ? ar_fail(src, name, err) : 0;
}

static int
add_member(struct seg_source *src, const char *name, uint64_t size, struct pga_err *err)
{
	struct tar_member *m;

	if (PGA_GROW(src->mem, src->mem_cap, src->nmem + 1, SIZE_MAX, err) < 0)
		return err->code;
	m = &src->mem[src->nmem];
	m->name = strdup(name);
	if (m->name == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	m->size = size;
	m->offset = src->entry_offset;
	pga_sha256_final(&src->sha, m->sha);
	src->nmem++;
	return 0;
}

/* A segment member: its header before anything else, then its hash. */
static int
verify_segment_member(struct seg_source *src, const char *name, uint64_t size,
		      struct pga_err *err)
{
	struct seg_header h;
	int rc;

	if (size > SEG_ARCHIVE_MEMBER_MAX)
		return member_fail(src, name, "declares more bytes than the 1 GiB limit for"
				   " archive members", err);
	if (src->nmem == SEG_ARCHIVE_MEMBERS_MAX)
		return pga_fail(err, PGA_ECORRUPT, "archive '%s' has more than %u segments:"
				" refused (split it)", src->path, SEG_ARCHIVE_MEMBERS_MAX);
	rc = pga_sha256_init(&src->sha, err);
	if (rc < 0)
		return rc;
	src->entry_read = 0;
	/* right after the header, the format has consumed exactly up to the data */
	src->entry_offset = (uint64_t)archive_filter_bytes(src->ar, 0);
	if (archive_filter_count(src->ar) != 1)
		src->seekable = false;
	rc = seg_read_header(ar_hash_read, src, name, &h, err);
	if (rc == PGA_EIO)
		return ar_fail(src, name, err);
	if (rc < 0) {	/* the reader's message names the member */
		return pga_fail(err, rc, "archive '%s': member %s", src->path, err->msg);
	}
	rc = drain_member(src, name, err);
	if (rc == 0 && src->entry_read != size)
		rc = pga_fail(err, PGA_ETRUNC, "archive '%s': member '%s' has %" PRIu64
			      " bytes, not the %" PRIu64 " its tar header declares", src->path, name,
			      src->entry_read, size);
	return rc < 0 ? rc : add_member(src, name, size, err);
}

static int
read_manifest(struct seg_source *src, uint64_t size, struct seg_manifest *man,
	      bool *have, struct pga_err *err)
{
	char *buf;
	uint64_t got = 0;
	int rc = 0;

	if (*have)
		return pga_fail(err, PGA_ECORRUPT, "archive '%s' has more than one %s: refused",
				src->path, SEG_MANIFEST_NAME);
	if (size > SEG_MANIFEST_MAX)
		return pga_fail(err, PGA_ECORRUPT, "archive '%s': %s is larger than %u bytes:"
				" refused", src->path, SEG_MANIFEST_NAME, SEG_MANIFEST_MAX);
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	while (got < size) {
		la_ssize_t n = archive_read_data(src->ar, buf + got, size - got);

		if (n <= 0) {
			rc = ar_fail(src, SEG_MANIFEST_NAME, err);
			break;
		}
		got += (uint64_t)n;
	}
	if (rc == 0)
		rc = seg_manifest_parse(buf, size, src->path, man, err);
	*have = rc == 0;
	free(buf);
	return rc;
}

static const char *
type_name(mode_t type)
{
	switch (type) {
	case AE_IFLNK: return "is a symbolic link";
	case AE_IFCHR: return "is a character device";
	case AE_IFBLK: return "is a block device";
	case AE_IFIFO: return "is a fifo";
	case AE_IFSOCK: return "is a socket";
	}
	return "is not a plain file";
}

/* One entry of the verification pass. */
static int
verify_entry(struct seg_source *src, struct archive_entry *ae, struct seg_manifest *man,
	     bool *have_man, struct pga_err *err)
{
	const char *raw = archive_entry_pathname(ae);
	mode_t type = archive_entry_filetype(ae);
	char name[SEG_NAME_MAX];
	uint64_t size;

	if (raw == NULL)
		return pga_fail(err, PGA_ECORRUPT, "archive '%s': an entry has no name: refused",
				src->path);
	if (archive_entry_hardlink(ae) != NULL)
		return member_fail(src, raw, "is a hard link", err);
	if (type == AE_IFDIR)
		return seg_member_name(raw, true, name, sizeof(name)) ? 0 :
		       member_fail(src, raw, "has an unsafe path (absolute, '.' or '..')", err);
	if (type != AE_IFREG || archive_entry_symlink(ae) != NULL)
		return member_fail(src, raw, type_name(type), err);
	if (!seg_member_name(raw, false, name, sizeof(name)))
		return member_fail(src, raw, "has an unsafe path (absolute, '.' or '..', or odd"
				   " characters)", err);
	if (archive_entry_sparse_count(ae) > 0)
		return member_fail(src, raw, "is a sparse file", err);
	if (!archive_entry_size_is_set(ae) || archive_entry_size(ae) < 0)
		return member_fail(src, raw, "declares no size", err);
	size = (uint64_t)archive_entry_size(ae);
	if (strcmp(name, SEG_MANIFEST_NAME) == 0)
		return read_manifest(src, size, man, have_man, err);
	if (seg_name_parse(name, NULL, 0, NULL, NULL) != 0)
		return member_fail(src, raw, "is neither a segment nor " SEG_MANIFEST_NAME, err);
	return verify_segment_member(src, name, size, err);
}

static int
name_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
check_duplicates(struct seg_source *src, struct pga_err *err)
{
	char **names = calloc(src->nmem ? src->nmem : 1, sizeof(*names));
	int rc = 0;

	if (names == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	for (size_t i = 0; i < src->nmem; i++)
		names[i] = src->mem[i].name;
	qsort(names, src->nmem, sizeof(*names), name_ptr_cmp);
	for (size_t i = 1; rc == 0 && i < src->nmem; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			rc = member_fail(src, names[i], "appears twice", err);
	free(names);
	return rc;
}

/* Every member listed with its hash, every line a member. */
static int
check_manifest(struct seg_source *src, struct seg_manifest *man, struct pga_err *err)
{
	for (size_t i = 0; i < src->nmem; i++) {
		struct seg_manifest_entry *e = seg_manifest_find(man, src->mem[i].name);

		if (e == NULL)
			return pga_fail(err, PGA_ECORRUPT, "archive '%s': '%s' is not in %s: refused",
					src->path, src->mem[i].name, SEG_MANIFEST_NAME);
		if (memcmp(e->sha, src->mem[i].sha, PGA_SHA256_LEN) != 0)
			return pga_fail(err, PGA_ECHECKSUM, "archive '%s': '%s' does not match %s:"
					" refused", src->path, src->mem[i].name, SEG_MANIFEST_NAME);
		e->seen = true;
	}
	for (size_t i = 0; i < man->n; i++)
		if (!man->v[i].seen)
			return pga_fail(err, PGA_ETRUNC, "archive '%s': '%s' is in %s but not in the"
					" archive: refused", src->path, man->v[i].name,
					SEG_MANIFEST_NAME);
	return 0;
}

static int
verify_pass(struct seg_source *src, struct pga_err *err)
{
	struct seg_manifest man = {0};
	struct archive_entry *ae;
	bool have_man = false;
	int rc = tar_reopen(src, err), ar;

	while (rc == 0 && (ar = archive_read_next_header(src->ar, &ae)) != ARCHIVE_EOF) {
		if (ar < ARCHIVE_WARN)
			rc = ar_fail(src, NULL, err);
		else
			rc = verify_entry(src, ae, &man, &have_man, err);
	}
	if (rc == 0)
		rc = check_duplicates(src, err);
	if (rc == 0 && have_man)
		rc = check_manifest(src, &man, err);
	else if (rc == 0 && !src->opts.no_manifest)
		rc = pga_fail(err, PGA_ECORRUPT, "archive '%s' has no %s: refused (--no-manifest"
			      " reads it unchecked)", src->path, SEG_MANIFEST_NAME);
	else if (rc == 0)
		log_warn("archive '%s' has no %s: read unchecked, as --no-manifest asks",
			 src->path, SEG_MANIFEST_NAME);
	seg_manifest_free(&man);
	return rc;
}

static int
open_tar(struct seg_source *src, const struct stat *st, struct pga_err *err)
{
	int rc;

	src->kind = SRC_TAR;
	if (!S_ISREG(st->st_mode))
		return pga_fail(err, PGA_EINVAL, "'%s' is not a regular file (an archive is read"
				" twice: verified first, then used)", src->path);
	src->buf = malloc(SRC_BUF);
	if (src->buf == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	src->seekable = true;	/* until a compression filter shows up */
	rc = verify_pass(src, err);
	archive_read_free(src->ar);	/* next_tar() reads it again, from the start */
	src->ar = NULL;
	if (rc == 0 && src->seekable) {
		src->tar_fd = open(src->path, O_RDONLY | O_CLOEXEC);
		src->seekable = src->tar_fd >= 0;
	}
	return rc;
}

/* ---- tar: the yielding pass ---- */

/* The member just read must be the one the first pass verified. */
static int
member_end(struct seg_source *src, struct pga_err *err)
{
	const struct tar_member *m = &src->mem[src->cur - 1];
	uint8_t sha[PGA_SHA256_LEN];

	src->entry_open = false;
	pga_sha256_final(&src->sha, sha);
	if (src->entry_read != m->size || memcmp(sha, m->sha, PGA_SHA256_LEN) != 0)
		return pga_fail(err, PGA_ECHECKSUM, "archive '%s': '%s' changed after it was"
				" verified: refused", src->path, m->name);
	return 0;
}

static ssize_t
tar_read(void *ctx, void *buf, size_t len)
{
	struct seg_source *src = ctx;
	ssize_t n;

	if (!src->entry_open)
		return 0;
	n = ar_hash_read(src, buf, len);
	if (n < 0)
		ar_fail(src, src->mem[src->cur - 1].name, &src->tar_err);
	else if (n == 0 && member_end(src, &src->tar_err) < 0)
		n = -1;
	if (n < 0) {
		/* a read error carries only errno: say here what it was */
		log_error("%s", src->tar_err.msg);
		errno = EIO;
	}
	return n;
}

static int
finish_entry(struct seg_source *src, struct pga_err *err)
{
	if (src->entry_open) {
		if (drain_member(src, src->mem[src->cur - 1].name, &src->tar_err) == 0)
			member_end(src, &src->tar_err);
		src->entry_open = false;
	}
	if (src->tar_err.code != 0) {
		*err = src->tar_err;
		return err->code;
	}
	return 0;
}

static int
changed(struct seg_source *src, struct pga_err *err)
{
	return pga_fail(err, PGA_ECORRUPT, "archive '%s' changed after it was verified: refused",
			src->path);
}

static int
next_tar(struct seg_source *src, struct seg_item *item, struct pga_err *err)
{
	struct archive_entry *ae;
	int rc = finish_entry(src, err);

	if (rc == 0 && src->ar == NULL)
		rc = tar_reopen(src, err);	/* the pass that hands members out */
	while (rc == 0) {
		const struct tar_member *m;
		char name[SEG_NAME_MAX];
		const char *raw;
		int ar = archive_read_next_header(src->ar, &ae);

		if (ar == ARCHIVE_EOF)
			return src->cur == src->nmem ? 0 : changed(src, err);
		if (ar < ARCHIVE_WARN)
			return ar_fail(src, NULL, err);
		raw = archive_entry_pathname(ae);
		if (raw == NULL)
			return changed(src, err);
		if (archive_entry_filetype(ae) == AE_IFDIR)
			continue;
		if (!seg_member_name(raw, false, name, sizeof(name)))
			return changed(src, err);
		if (strcmp(name, SEG_MANIFEST_NAME) == 0)
			continue;	/* checked in the first pass */
		m = &src->mem[src->cur];
		if (src->cur == src->nmem || strcmp(name, m->name) != 0 ||
		    archive_entry_size(ae) != (la_int64_t)m->size)
			return changed(src, err);
		rc = pga_sha256_init(&src->sha, err);
		if (rc < 0)
			return rc;
		src->cur++;
		src->entry_open = true;
		src->entry_read = 0;
		strlcpy(item->name, m->name, sizeof(item->name));
		item->path = NULL;
		item->size = m->size;
		item->read = tar_read;
		item->ctx = src;
		return 1;
	}
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
	if (src->tar_fd >= 0)
		close(src->tar_fd);
	if (src->url != NULL)
		url_backend->close(src->url);
	if (src->ar != NULL)
		archive_read_free(src->ar);
	pga_sha256_free(&src->sha);
	spool_list_free(&src->list);
	for (size_t i = 0; i < src->nmem; i++)
		free(src->mem[i].name);
	free(src->mem);
	free(src->buf);
	free(src);
}

int
seg_source_kind(const char *path, enum seg_source_kind *kind, struct pga_err *err)
{
	struct stat st;

	if (strncmp(path, "file://", 7) == 0)
		path += 7;
	if (is_url(path)) {
		*kind = SEG_SOURCE_URL;
		return 0;
	}
	if (stat(path, &st) != 0)
		return pga_fail(err, PGA_ENOTFOUND, "could not open '%s': %m", path);
	*kind = S_ISDIR(st.st_mode) ? SEG_SOURCE_DIR : looks_like_tar(path) ? SEG_SOURCE_TAR
									       : SEG_SOURCE_FILE;
	return 0;
}

/* ---- random access to an uncompressed archive ---- */

size_t
seg_source_members(const struct seg_source *src)
{
	return src->kind == SRC_TAR ? src->nmem : 0;
}

bool
seg_source_seekable(const struct seg_source *src)
{
	return src->kind == SRC_TAR && src->seekable;
}

const char *
seg_source_member(const struct seg_source *src, size_t i, uint64_t *size)
{
	if (i >= seg_source_members(src))
		return NULL;
	if (size != NULL)
		*size = src->mem[i].size;
	return src->mem[i].name;
}

int
seg_source_member_copy(const struct seg_source *src, size_t i, int fd, struct pga_err *err)
{
	const struct tar_member *m;
	struct pga_sha256 sha = {0};
	uint8_t got[PGA_SHA256_LEN];
	uint64_t off = 0;
	uint8_t *buf;
	int rc;

	if (i >= seg_source_members(src) || !src->seekable)
		return pga_fail(err, PGA_EINVAL, "archive '%s' cannot be read out of order"
				" (compressed?)", src->path);
	m = &src->mem[i];
	buf = malloc(SRC_BUF);
	if (buf == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = pga_sha256_init(&sha, err);
	while (rc == 0 && off < m->size) {
		size_t want = m->size - off < SRC_BUF ? (size_t)(m->size - off) : SRC_BUF;
		ssize_t n = pread(src->tar_fd, buf, want, (off_t)(m->offset + off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = pga_fail(err, PGA_ETRUNC, "archive '%s': member '%s' could not be read"
				      " again%s", src->path, m->name, n < 0 ? " (I/O error)" : " (cut short)");
			break;
		}
		pga_sha256_update(&sha, buf, (size_t)n);
		rc = pga_write_all(fd, buf, (size_t)n, m->name, err);
		off += (uint64_t)n;
	}
	if (rc == 0) {
		pga_sha256_final(&sha, got);
		if (memcmp(got, m->sha, PGA_SHA256_LEN) != 0)
			rc = pga_fail(err, PGA_ECHECKSUM, "archive '%s': '%s' changed after it was"
				      " verified: refused", src->path, m->name);
	}
	pga_sha256_free(&sha);
	free(buf);
	return rc;
}

/* ---- buckets a prefix at a time ---- */

struct seg_bucket {
	void *handle;
	char url[PATH_MAX];
};

int
seg_bucket_open(struct seg_bucket **out, const char *url, struct pga_err *err)
{
	struct seg_bucket *b;
	int rc;

	*out = NULL;
	if (url_backend == NULL)
		return pga_fail(err, PGA_EINVAL, "'%s': URL sources are not available here", url);
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	strlcpy(b->url, url, sizeof(b->url));
	rc = url_backend->open(url_backend_ctx, url, &b->handle, err);
	if (rc < 0) {
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int
seg_bucket_dirs(struct seg_bucket *b, const char *prefix, seg_bucket_fn fn, void *ctx,
		struct pga_err *err)
{
	if (url_backend->list_dirs == NULL)
		return pga_fail(err, PGA_EINVAL, "'%s' cannot be listed by prefix", b->url);
	return url_backend->list_dirs(b->handle, prefix, fn, ctx, err);
}

int
seg_bucket_list(struct seg_bucket *b, const char *prefix, seg_bucket_fn fn, void *ctx,
		struct pga_err *err)
{
	if (url_backend->list_under == NULL)
		return prefix[0] == '\0' ? url_backend->list(b->handle, fn, ctx, err)
					 : pga_fail(err, PGA_EINVAL, "'%s' cannot be listed by prefix",
						    b->url);
	return url_backend->list_under(b->handle, prefix, fn, ctx, err);
}

int
seg_bucket_fetch(struct seg_bucket *b, const char *name, int fd, struct pga_err *err)
{
	return url_backend->fetch(b->handle, name, fd, err);
}

void
seg_bucket_close(struct seg_bucket *b)
{
	if (b == NULL)
		return;
	if (b->handle != NULL)
		url_backend->close(b->handle);
	free(b);
}
