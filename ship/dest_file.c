/*
 * dest_file.c - file:///path: a directory (a mounted share, a removable disk)
 *
 * Modes are the spool's: files 0640, the date directories it creates 0750
 * (the root is the operator's and keeps its own).
 *
 * A segment is copied to <root>/<name>.part, its bytes hashed on the way
 * and checked against the SHA-256 the shipper verified, fsync'd, then
 * published create-only with link(2) (EEXIST means someone was first:
 * compare), falling back to renameat2(RENAME_NOREPLACE) and, on file systems
 * that have neither, to a stat check and rename(2).  The directory is
 * fsync'd before put() returns.  A .part left by a crash is overwritten by
 * the next attempt and never mistaken for a segment (the name does not
 * parse as one).  A missing root is retryable (not mounted yet), never
 * created: creating it would write into the mount point's parent fs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "ship/dest_int.h"
#include "ship/ratelimit.h"

#define DIR_COPY_BUF (256 * 1024)

struct dest_file {
	struct dest base;
	char root[PATH_MAX];
	char what[DEST_WHAT_MAX];
};

static struct dest_file *
to_file(struct dest *d)
{
	return (struct dest_file *)d;
}

static int
dir_root(const char *url, char *root, size_t cap, struct pga_err *err)
{
	const char *p = url + strlen("file://");

	if (strncmp(p, "localhost/", 10) == 0)
		p += 9;
	if (*p != '/')
		return pga_fail(err, PGA_EINVAL,
				"url '%s' is not file:///absolute/path", url);
	if (strlcpy(root, p, cap) >= cap)
		return pga_fail(err, PGA_EINVAL, "url '%s': path too long", url);
	for (size_t n = strlen(root); n > 1 && root[n - 1] == '/'; n--)
		root[n - 1] = '\0';
	if (strstr(root, "/../") != NULL || strstr(root, "/./") != NULL)
		return pga_fail(err, PGA_EINVAL, "url '%s': path has dot components", url);
	return 0;
}

static int
dir_validate(const struct pga_dest *cfg, struct pga_err *err)
{
	char root[PATH_MAX];

	return dir_root(cfg->url, root, sizeof(root), err);
}

static int
dir_open(struct dest **out, const struct pga_dest *cfg, struct pga_err *err)
{
	struct dest_file *d = calloc(1, sizeof(*d));
	int rc;

	*out = NULL;
	if (d == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = dir_root(cfg->url, d->root, sizeof(d->root), err);
	if (rc < 0) {
		free(d);
		return rc;
	}
	dest_what(cfg, d->what, sizeof(d->what));
	*out = &d->base;
	return 0;
}

static void
dir_close(struct dest *d)
{
	free(to_file(d));
}

/* The root must exist and be a directory; if not, the medium is not there. */
static int
root_present(struct dest_file *d, struct pga_err *err)
{
	struct stat st;

	if (stat(d->root, &st) != 0)
		return pga_fail(err, PGA_ENET, "%s: directory '%s' is not there (not mounted?): %m",
				d->what, d->root);
	if (!S_ISDIR(st.st_mode))
		return pga_fail(err, PGA_EREMOTE, "%s: '%s' is not a directory", d->what, d->root);
	return 0;
}

static int
obj_path(struct dest_file *d, const char *name, const char *suffix, char *buf,
	 size_t cap, struct pga_err *err)
{
	if (!dest_name_safe(name))
		return pga_fail(err, PGA_EINVAL, "%s: unsafe object name '%s'", d->what, name);
	return pga_path(buf, cap, err, "%s/%s%s", d->root, name, suffix);
}

/* Size and SHA-256 of an existing file: 1, or 0 if it does not exist. */
static int
stat_object(struct dest_file *d, const char *path, struct dest_object *obj,
	    struct pga_err *err)
{
	struct stat st;
	uint64_t size;
	int rc;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return pga_fail(err, PGA_ENET, "%s: cannot stat '%s': %m", d->what, path);
	}
	rc = pga_sha256_file(path, obj->sha256, &size, err);
	if (rc < 0)
		return dest_err_wrap(err, PGA_ENET, d->what);
	obj->size = size;
	obj->have_sha256 = true;
	return 1;
}

static int
compare_existing(struct dest_file *d, const char *path, const struct dest_upload *up,
		 struct pga_err *err)
{
	struct dest_object obj = {0};
	int rc = stat_object(d, path, &obj, err);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return pga_fail(err, PGA_ENET, "%s: '%s' vanished while comparing", d->what, path);
	if (obj.size != up->size || memcmp(obj.sha256, up->sha256, PGA_SHA256_LEN) != 0)
		return pga_fail(err, PGA_ECONFLICT,
				"%s: '%s' already exists with different content (%llu bytes)",
				d->what, path, (unsigned long long)obj.size);
	log_debug("%s: '%s' already there with the same content", d->what, up->name);
	return 0;
}

static bool
cancel_cb(void *ctx)
{
	return dest_cancelled(ctx);
}

/*
 * Read the next piece of the segment through the token bucket: at most what
 * is left of its verified size, and what a short read leaves unused goes
 * back (see ratelimit.h for why that matters).
 */
static int
read_paced(struct dest_file *d, int in, char *buf, uint64_t left, size_t *got,
	   const struct dest_upload *up, struct pga_err *err)
{
	size_t want = left < DIR_COPY_BUF ? (size_t)left : DIR_COPY_BUF;
	int rc = ratelimit_take(d->base.rl, want, &want, cancel_cb, &d->base, err);

	if (rc == 0)
		rc = pga_read_full(in, buf, want, got, up->path, err);
	ratelimit_return(d->base.rl, rc == 0 ? want - *got : want);
	return rc;
}

/* Copy src to the open tmp file through the token bucket, hashing it. */
static int
copy_body(struct dest_file *d, int in, int out, const char *tmp,
	  const struct dest_upload *up, char *buf, struct pga_err *err)
{
	struct pga_sha256 h = {0};
	uint8_t got[PGA_SHA256_LEN];
	uint64_t total = 0;
	size_t n = 0;
	int rc = pga_sha256_init(&h, err);

	while (rc == 0 && total < up->size) {
		rc = read_paced(d, in, buf, up->size - total, &n, up, err);
		if (rc < 0 || n == 0)
			break;
		pga_sha256_update(&h, buf, n);
		total += n;
		rc = pga_write_all(out, buf, n, tmp, err);
		if (rc < 0)
			rc = dest_err_wrap(err, PGA_ENET, d->what);
	}
	/* a segment that grew since it was verified: one byte tells, unpaced */
	if (rc == 0 && total == up->size)
		rc = pga_read_full(in, buf, 1, &n, up->path, err);
	if (rc == 0 && n > 0)
		total++;
	pga_sha256_final(&h, got);
	pga_sha256_free(&h);
	if (rc == 0 && (total != up->size || memcmp(got, up->sha256, PGA_SHA256_LEN) != 0))
		rc = pga_fail(err, PGA_EIO, "segment '%s' changed since it was verified", up->path);
	if (rc == 0 && pga_fsync_fd(out, tmp, err) < 0)
		rc = dest_err_wrap(err, PGA_ENET, d->what);
	return rc;
}

/* Publish tmp as path only if path does not exist yet. */
static int
publish(struct dest_file *d, const char *tmp, const char *path,
	const struct dest_upload *up, struct pga_err *err)
{
	struct stat st;

	if (link(tmp, path) == 0) {
		unlink(tmp);
		return 0;
	}
	if (errno == EEXIST)
		goto exists;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST)
		goto exists;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return pga_fail(err, PGA_ENET, "%s: could not publish '%s': %m", d->what, path);
	/* no create-only primitive here: the shipper is the only writer of its names */
	if (stat(path, &st) == 0)
		goto exists;
	if (rename(tmp, path) != 0)
		return pga_fail(err, PGA_ENET, "%s: could not rename '%s': %m", d->what, tmp);
	return 0;
exists:
	unlink(tmp);
	return compare_existing(d, path, up, err);
}

static int
make_parent(struct dest_file *d, const char *path, struct pga_err *err)
{
	if (pga_mkdir_parent(path, 0750, err) < 0)
		return dest_err_wrap(err, PGA_ENET, d->what);
	return 0;
}

static int
dir_put(struct dest *dd, const struct dest_upload *up, struct pga_err *err)
{
	struct dest_file *d = to_file(dd);
	char path[PATH_MAX], tmp[PATH_MAX];
	char *buf = NULL;
	int in = -1, out = -1, rc;
	struct stat st;

	rc = root_present(d, err);
	if (rc == 0)
		rc = obj_path(d, up->name, "", path, sizeof(path), err);
	if (rc == 0)
		rc = obj_path(d, up->name, ".part", tmp, sizeof(tmp), err);
	if (rc < 0)
		return rc;
	if (stat(path, &st) == 0) {	/* a resend after a crash: nothing to copy */
		unlink(tmp);		/* a crash between link() and unlink() left it */
		return compare_existing(d, path, up, err);
	}
	rc = make_parent(d, path, err);
	if (rc < 0)
		return rc;
	buf = malloc(DIR_COPY_BUF);
	if (buf == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	in = open(up->path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_EIO,
			      "could not open '%s': %m", up->path);
		goto out;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (out < 0) {
		rc = pga_fail(err, PGA_ENET, "%s: could not create '%s': %m", d->what, tmp);
		goto out;
	}
	rc = copy_body(d, in, out, tmp, up, buf, err);
	if (close(out) != 0 && rc == 0)
		rc = pga_fail(err, PGA_ENET, "%s: could not close '%s': %m", d->what, tmp);
	out = -1;
	if (rc == 0)
		rc = publish(d, tmp, path, up, err);
	if (rc == 0 && pga_fsync_parent(path, err) < 0)
		rc = dest_err_wrap(err, PGA_ENET, d->what);
out:
	if (out >= 0)
		close(out);
	if (rc < 0 && rc != PGA_ECONFLICT)
		unlink(tmp);
	if (in >= 0)
		close(in);
	free(buf);
	return rc;
}

static int
dir_head(struct dest *dd, const char *name, struct dest_object *obj,
	 struct pga_err *err)
{
	struct dest_file *d = to_file(dd);
	char path[PATH_MAX];
	int rc = root_present(d, err);

	if (rc == 0)
		rc = obj_path(d, name, "", path, sizeof(path), err);
	if (rc < 0)
		return rc;
	memset(obj, 0, sizeof(*obj));
	return stat_object(d, path, obj, err);
}

/* ---- list: a walk in exact lexical order of the full names ---- */

struct walk_entry {
	char key[NAME_MAX + 2];	/* name, plus '/' for directories */
	bool is_dir;
};

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct walk_entry *)a)->key, ((const struct walk_entry *)b)->key);
}

/* Sorted entries of one directory (caller frees *out). */
static int
read_sorted(struct dest_file *d, const char *dir, struct walk_entry **out,
	    size_t *n, struct pga_err *err)
{
	DIR *dh = opendir(dir);
	struct walk_entry *v = NULL, *nv;
	size_t cap = 0;
	struct dirent *de;

	*out = NULL;
	*n = 0;
	if (dh == NULL)
		return pga_fail(err, PGA_ENET, "%s: cannot read directory '%s': %m", d->what, dir);
	while ((de = readdir(dh)) != NULL) {
		bool is_dir;

		if (de->d_name[0] == '.')
			continue;
		is_dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;

			is_dir = fstatat(dirfd(dh), de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			nv = reallocarray(v, cap, sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(dh);
				return pga_fail(err, PGA_ENOMEM, "out of memory");
			}
			v = nv;
		}
		snprintf(v[*n].key, sizeof(v[*n].key), "%s%s", de->d_name, is_dir ? "/" : "");
		v[(*n)++].is_dir = is_dir;
	}
	closedir(dh);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_entry);
	*out = v;
	return 0;
}

static int
walk(struct dest_file *d, const char *rel, const char *prefix, dest_list_fn fn,
     void *ctx, int depth, struct pga_err *err)
{
	char dir[PATH_MAX], name[PATH_MAX];
	struct walk_entry *v = NULL;
	size_t n = 0;
	int rc;

	if (depth > 8)
		return 0;
	rc = pga_path(dir, sizeof(dir), err, "%s/%s", d->root, rel);
	if (rc == 0)
		rc = read_sorted(d, dir, &v, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t plen = strlen(prefix);
		struct stat st;

		snprintf(name, sizeof(name), "%s%s", rel, v[i].key);
		/* descend only where the prefix can still match */
		if (strncmp(name, prefix, plen < strlen(name) ? plen : strlen(name)) != 0)
			continue;
		if (v[i].is_dir) {
			rc = walk(d, name, prefix, fn, ctx, depth + 1, err);
			continue;
		}
		if (strncmp(name, prefix, plen) != 0 ||
		    seg_name_parse(name, NULL, 0, NULL, NULL) != 0)
			continue;
		rc = pga_path(dir, sizeof(dir), err, "%s/%s", d->root, name);
		if (rc == 0 && stat(dir, &st) == 0)
			rc = fn(ctx, name, (uint64_t)st.st_size, err);
	}
	free(v);
	return rc;
}

static int
dir_list(struct dest *dd, const char *prefix, dest_list_fn fn, void *ctx,
	 struct pga_err *err)
{
	struct dest_file *d = to_file(dd);
	int rc = root_present(d, err);

	if (rc < 0)
		return rc;
	return walk(d, "", prefix ? prefix : "", fn, ctx, 0, err);
}

static int
dir_get(struct dest *dd, const char *name,
	int (*sink)(void *ctx, const void *buf, size_t len, struct pga_err *err),
	void *ctx, struct pga_err *err)
{
	struct dest_file *d = to_file(dd);
	char path[PATH_MAX];
	char *buf = NULL;
	int fd = -1, rc;

	rc = obj_path(d, name, "", path, sizeof(path), err);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_ENET,
				"%s: cannot open '%s': %m", d->what, path);
	buf = malloc(DIR_COPY_BUF);
	if (buf == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	while (rc == 0) {
		size_t n;

		rc = pga_read_full(fd, buf, DIR_COPY_BUF, &n, path, err);
		if (rc < 0 || n == 0)
			break;
		rc = sink(ctx, buf, n, err);
	}
	free(buf);
	close(fd);
	return rc;
}

/* The root is there and we can create, fsync and remove a file in it. */
static int
dir_check(struct dest *dd, struct pga_err *err)
{
	struct dest_file *d = to_file(dd);
	char probe[PATH_MAX];
	int fd, rc = root_present(d, err);

	if (rc == 0)
		rc = pga_path(probe, sizeof(probe), err, "%s/.pga-check.%ld", d->root, (long)getpid());
	if (rc < 0)
		return rc;
	fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return pga_fail(err, PGA_EREMOTE, "%s: cannot write in '%s': %m", d->what, d->root);
	rc = pga_fsync_fd(fd, probe, err);
	close(fd);
	unlink(probe);
	return rc;
}

const struct dest_ops dest_file_ops = {
	.kind = "file",
	.validate = dir_validate,
	.open = dir_open,
	.put = dir_put,
	.head = dir_head,
	.list = dir_list,
	.get = dir_get,
	.check = dir_check,
	.close = dir_close,
};
