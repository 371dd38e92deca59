/*
 * catalog.c - what a restore source holds, by collector and day, and a
 * reader per thread for the segments' bytes (see restore.h "Sources")
 *
 * Every kind is walked by the names' own structure, <collector>/<yyyy>/
 * <mm>/<dd>/<seq>-<time>.pga.zst: the collectors, then each collector's
 * days, and a day's segments only when restore asks for that day.  A
 * directory is read with readdir, a bucket with delimiter listings (a
 * store that cannot list by prefix is listed once, whole, and grouped: it
 * is said in the log), an uncompressed tar from the member list its
 * verification pass made.  Names that do not parse as segment names, and
 * directories that do not fit the layout, are skipped: they hold nothing
 * a restore could load.
 */
#define _GNU_SOURCE
#include "restore/restore_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "spool/source.h"

struct rs_collector {
	char name[SEG_COLLECTOR_MAX];
	int32_t *days;			/* sorted, unique */
	size_t ndays, dcap;
};

struct rs_catalog {
	enum seg_source_kind kind;
	char root[PATH_MAX];		/* directory: where the names start */
	char url[PATH_MAX];
	struct seg_bucket *bucket;	/* listing handle (main thread) */
	struct seg_source *tar;		/* verified archive, random access */
	bool random;			/* can be read in restore's order */
	struct rs_collector *c;
	size_t nc, ccap;
	/* everything listed at once (a tar, a store without prefixes) */
	struct rs_seg *all;
	size_t nall, allcap;
	bool have_all;
	int32_t *days;			/* union over collectors, ascending */
	size_t ndays;
};

struct rs_reader {
	struct rs_catalog *cat;
	struct seg_bucket *bucket;
	char tmp[PATH_MAX];
};

/* ---- small helpers ---- */

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

int32_t
rs_day_of(int64_t us)
{
	int64_t d = us / RS_DAY_US;

	if (us % RS_DAY_US < 0)
		d--;
	return (int32_t)d;
}

void
rs_day_text(int32_t day, char *buf, size_t cap)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%d", &tm);
}

/* "<collector>/<yyyy>/<mm>/<dd>/" of day */
static void
day_prefix(const char *collector, int32_t day, char *buf, size_t cap)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;
	char ymd[16];

	gmtime_r(&t, &tm);
	strftime(ymd, sizeof(ymd), "%Y/%m/%d", &tm);
	snprintf(buf, cap, "%s/%s/", collector, ymd);
}

static struct rs_collector *
collector_add(struct rs_catalog *c, const char *name, struct pga_err *err)
{
	for (size_t i = 0; i < c->nc; i++)
		if (strcmp(c->c[i].name, name) == 0)
			return &c->c[i];
	if (c->nc == c->ccap) {
		size_t cap = c->ccap ? c->ccap * 2 : 16;
		void *p = reallocarray(c->c, cap, sizeof(*c->c));

		if (p == NULL) {
			pga_fail(err, PGA_ENOMEM, "out of memory");
			return NULL;
		}
		c->c = p;
		c->ccap = cap;
	}
	memset(&c->c[c->nc], 0, sizeof(c->c[0]));
	strlcpy(c->c[c->nc].name, name, sizeof(c->c[0].name));
	return &c->c[c->nc++];
}

static int
day_add(struct rs_collector *rc, int32_t day, struct pga_err *err)
{
	if (rc->ndays > 0 && rc->days[rc->ndays - 1] == day)
		return 0;
	if (rc->ndays == rc->dcap) {
		size_t cap = rc->dcap ? rc->dcap * 2 : 32;
		void *p = reallocarray(rc->days, cap, sizeof(*rc->days));

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		rc->days = p;
		rc->dcap = cap;
	}
	rc->days[rc->ndays++] = day;
	return 0;
}

static int
seg_add(struct rs_seg **v, size_t *n, size_t *cap, const char *name, uint64_t size,
	struct pga_err *err)
{
	struct rs_seg *s;

	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *p = reallocarray(*v, nc, sizeof(**v));

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		*v = p;
		*cap = nc;
	}
	s = &(*v)[*n];
	memset(s, 0, sizeof(*s));
	if (seg_name_parse(name, s->collector, sizeof(s->collector), &s->seq, &s->created_us) != 0)
		return 0;	/* not a segment: nothing to load */
	strlcpy(s->name, name, sizeof(s->name));
	s->size = size;
	s->day = rs_day_of(s->created_us);
	s->member = (size_t)-1;
	s->counts = true;
	(*n)++;
	return 0;
}

static int
cmp_seg(const void *a, const void *b)
{
	const struct rs_seg *x = a, *y = b;
	int c = strcmp(x->collector, y->collector);

	if (c != 0)
		return c;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Collectors and their days from a list of every segment. */
static int
index_all(struct rs_catalog *c, struct pga_err *err)
{
	qsort(c->all, c->nall, sizeof(*c->all), cmp_seg);
	for (size_t i = 0; i < c->nall; i++) {
		struct rs_collector *rc = collector_add(c, c->all[i].collector, err);

		if (rc == NULL)
			return err->code;
		if (day_add(rc, c->all[i].day, err) < 0)
			return err->code;
	}
	for (size_t i = 0; i < c->nc; i++) {
		struct rs_collector *rc = &c->c[i];
		size_t k = 0;

		qsort(rc->days, rc->ndays, sizeof(int32_t), cmp_i32);
		for (size_t j = 0; j < rc->ndays; j++)
			if (k == 0 || rc->days[k - 1] != rc->days[j])
				rc->days[k++] = rc->days[j];
		rc->ndays = k;
	}
	c->have_all = true;
	return 0;
}

/* ---- directories ---- */

/* Sub-directories of dir whose names pass ok(); each to fn. */
static int
each_dir(const char *dir, bool (*ok)(const char *), int (*fn)(void *, const char *, struct pga_err *),
	 void *ctx, struct pga_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : pga_fail(err, PGA_EIO, "could not read '%s': %m", dir);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !ok(de->d_name))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		rc = fn(ctx, de->d_name, err);
	}
	closedir(d);
	return rc;
}

static bool
digits(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789") == n;
}

static bool ok_year(const char *s) { return digits(s, 4); }
static bool ok_two(const char *s) { return digits(s, 2); }
static bool ok_collector(const char *s) { return seg_collector_valid(s); }

struct walk {
	struct rs_catalog *cat;
	struct rs_collector *rc;
	char path[PATH_MAX];
	int year, month;
};

static int
on_day(void *ctx, const char *name, struct pga_err *err)
{
	struct walk *w = ctx;
	struct tm tm = {.tm_year = w->year - 1900, .tm_mon = w->month - 1, .tm_mday = atoi(name)};

	if (tm.tm_mday < 1 || tm.tm_mday > 31)
		return 0;
	return day_add(w->rc, (int32_t)(timegm(&tm) / 86400), err);
}

static int
on_month(void *ctx, const char *name, struct pga_err *err)
{
	struct walk *w = ctx;
	size_t n = strlen(w->path);
	int rc;

	w->month = atoi(name);
	if (w->month < 1 || w->month > 12)
		return 0;
	snprintf(w->path + n, sizeof(w->path) - n, "/%s", name);
	rc = each_dir(w->path, ok_two, on_day, w, err);
	w->path[n] = '\0';
	return rc;
}

static int
on_year(void *ctx, const char *name, struct pga_err *err)
{
	struct walk *w = ctx;
	size_t n = strlen(w->path);
	int rc;

	w->year = atoi(name);
	snprintf(w->path + n, sizeof(w->path) - n, "/%s", name);
	rc = each_dir(w->path, ok_two, on_month, w, err);
	w->path[n] = '\0';
	return rc;
}

static int
on_collector(void *ctx, const char *name, struct pga_err *err)
{
	struct walk *w = ctx;
	struct rs_collector *rc = collector_add(w->cat, name, err);

	if (rc == NULL)
		return err->code;
	w->rc = rc;
	if (pga_path(w->path, sizeof(w->path), err, "%s/%s", w->cat->root, name) < 0)
		return err->code;
	return each_dir(w->path, ok_year, on_year, w, err);
}

static int
open_dir(struct rs_catalog *c, const char *path, struct pga_err *err)
{
	char ready[PATH_MAX];
	struct stat st;
	struct walk w = {.cat = c};

	if (pga_path(ready, sizeof(ready), err, "%s/ready", path) < 0)
		return err->code;
	strlcpy(c->root, stat(ready, &st) == 0 && S_ISDIR(st.st_mode) ? ready : path,
		sizeof(c->root));
	c->random = true;
	return each_dir(c->root, ok_collector, on_collector, &w, err);
}

struct dir_list {
	struct rs_seg **v;
	size_t *n, *cap;
	const char *prefix;
	const char *dir;
};

static int
dir_day_list(struct rs_catalog *c, const char *collector, int32_t day, struct rs_seg **v,
	     size_t *n, size_t *cap, struct pga_err *err)
{
	char prefix[SEG_NAME_MAX], dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int rc = 0;

	day_prefix(collector, day, prefix, sizeof(prefix));
	if (pga_path(dir, sizeof(dir), err, "%s/%s", c->root, prefix) < 0)
		return err->code;
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : pga_fail(err, PGA_EIO, "could not read '%s': %m", dir);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char name[SEG_NAME_MAX], path[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.' ||
		    (size_t)snprintf(name, sizeof(name), "%s%s", prefix, de->d_name) >= sizeof(name))
			continue;
		rc = pga_path(path, sizeof(path), err, "%s/%s", c->root, name);
		if (rc < 0)
			break;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		rc = seg_add(v, n, cap, name, (uint64_t)st.st_size, err);
	}
	closedir(d);
	return rc;
}

/* ---- buckets ---- */

struct bucket_walk {
	struct rs_catalog *cat;
	struct rs_collector *rc;
	char prefix[SEG_NAME_MAX];
	int year, month;
	char **dirs;
	size_t ndirs, cap;
};

static int
collect_dir(void *ctx, const char *dir, uint64_t size, struct pga_err *err)
{
	struct bucket_walk *w = ctx;

	(void)size;
	if (w->ndirs == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;
		void *p = reallocarray(w->dirs, cap, sizeof(*w->dirs));

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		w->dirs = p;
		w->cap = cap;
	}
	w->dirs[w->ndirs] = strndup(dir, strlen(dir) - 1);	/* without the '/' */
	if (w->dirs[w->ndirs] == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	w->ndirs++;
	return 0;
}

static void
free_dirs(char **dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
}

/* The directories under prefix that pass ok(), to fn (a copy of the list: fn may list again). */
static int
bucket_each(struct rs_catalog *c, const char *prefix, bool (*ok)(const char *),
	    int (*fn)(struct rs_catalog *, struct bucket_walk *, const char *, struct pga_err *),
	    struct bucket_walk *parent, struct pga_err *err)
{
	struct bucket_walk w = {.cat = c};
	int rc = seg_bucket_dirs(c->bucket, prefix, collect_dir, &w, err);

	for (size_t i = 0; rc == 0 && i < w.ndirs; i++)
		if (ok(w.dirs[i]))
			rc = fn(c, parent, w.dirs[i], err);
	free_dirs(w.dirs, w.ndirs);
	return rc;
}

static int
b_day(struct rs_catalog *c, struct bucket_walk *w, const char *name, struct pga_err *err)
{
	struct tm tm = {.tm_year = w->year - 1900, .tm_mon = w->month - 1, .tm_mday = atoi(name)};

	(void)c;
	if (tm.tm_mday < 1 || tm.tm_mday > 31)
		return 0;
	return day_add(w->rc, (int32_t)(timegm(&tm) / 86400), err);
}

static int
b_month(struct rs_catalog *c, struct bucket_walk *w, const char *name, struct pga_err *err)
{
	char prefix[SEG_NAME_MAX];

	w->month = atoi(name);
	if (w->month < 1 || w->month > 12)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s/%04d/%s/", w->rc->name, w->year, name);
	return bucket_each(c, prefix, ok_two, b_day, w, err);
}

static int
b_year(struct rs_catalog *c, struct bucket_walk *w, const char *name, struct pga_err *err)
{
	char prefix[SEG_NAME_MAX];

	w->year = atoi(name);
	snprintf(prefix, sizeof(prefix), "%s/%s/", w->rc->name, name);
	return bucket_each(c, prefix, ok_two, b_month, w, err);
}

static int
b_collector(struct rs_catalog *c, struct bucket_walk *w, const char *name, struct pga_err *err)
{
	char prefix[SEG_NAME_MAX];

	w->rc = collector_add(c, name, err);
	if (w->rc == NULL)
		return err->code;
	snprintf(prefix, sizeof(prefix), "%s/", name);
	return bucket_each(c, prefix, ok_year, b_year, w, err);
}

static int
all_add(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	struct rs_catalog *c = ctx;

	return seg_add(&c->all, &c->nall, &c->allcap, name, size, err);
}

static int
open_url(struct rs_catalog *c, const char *url, struct pga_err *err)
{
	struct bucket_walk w = {.cat = c};
	int rc = seg_bucket_open(&c->bucket, url, err);

	strlcpy(c->url, url, sizeof(c->url));
	c->random = true;
	if (rc == 0)
		rc = bucket_each(c, "", ok_collector, b_collector, &w, err);
	if (rc == PGA_EINVAL) {
		/* a store that cannot list by prefix: once, whole */
		log_warn("'%s' cannot be listed by prefix (%s): listing every object first", url,
			 err->msg);
		for (size_t i = 0; i < c->nc; i++)
			free(c->c[i].days);
		c->nc = 0;
		rc = seg_bucket_list(c->bucket, "", all_add, c, err);
		if (rc == 0)
			rc = index_all(c, err);
	}
	return rc;
}

/* ---- archives ---- */

static int
open_tar(struct rs_catalog *c, const char *path, bool no_manifest, struct pga_err *err)
{
	struct seg_source_opts so = {.no_manifest = no_manifest};
	int rc = seg_source_open_opts(&c->tar, path, &so, err);
	size_t n;

	if (rc < 0)
		return rc;
	n = seg_source_members(c->tar);
	c->random = seg_source_seekable(c->tar);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		uint64_t size;
		const char *name = seg_source_member(c->tar, i, &size);
		size_t before = c->nall;

		rc = seg_add(&c->all, &c->nall, &c->allcap, name, size, err);
		if (rc == 0 && c->nall > before)
			c->all[c->nall - 1].member = i;
	}
	return rc == 0 ? index_all(c, err) : rc;
}

/* ---- the catalog ---- */

static int
cmp_collector(const void *a, const void *b)
{
	return strcmp(((const struct rs_collector *)a)->name, ((const struct rs_collector *)b)->name);
}

static int
union_days(struct rs_catalog *c, struct pga_err *err)
{
	size_t total = 0, k = 0;

	qsort(c->c, c->nc, sizeof(*c->c), cmp_collector);

	for (size_t i = 0; i < c->nc; i++) {
		qsort(c->c[i].days, c->c[i].ndays, sizeof(int32_t), cmp_i32);
		total += c->c[i].ndays;
	}
	c->days = calloc(total ? total : 1, sizeof(int32_t));
	if (c->days == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->nc; i++)
		for (size_t j = 0; j < c->c[i].ndays; j++)
			c->days[k++] = c->c[i].days[j];
	qsort(c->days, k, sizeof(int32_t), cmp_i32);
	c->ndays = 0;
	for (size_t i = 0; i < k; i++)
		if (c->ndays == 0 || c->days[c->ndays - 1] != c->days[i])
			c->days[c->ndays++] = c->days[i];
	return 0;
}

int
rs_catalog_open(struct rs_catalog **out, const char *from, bool no_manifest,
		struct pga_err *err)
{
	struct rs_catalog *c = calloc(1, sizeof(*c));
	const char *path = strncmp(from, "file://", 7) == 0 ? from + 7 : from;
	int rc;

	*out = NULL;
	if (c == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = seg_source_kind(path, &c->kind, err);
	if (rc == 0 && c->kind == SEG_SOURCE_DIR)
		rc = open_dir(c, path, err);
	else if (rc == 0 && c->kind == SEG_SOURCE_URL)
		rc = open_url(c, from, err);
	else if (rc == 0 && c->kind == SEG_SOURCE_TAR)
		rc = open_tar(c, path, no_manifest, err);
	if (rc == 0)
		rc = union_days(c, err);
	if (rc < 0) {
		rs_catalog_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

bool
rs_catalog_random(const struct rs_catalog *c)
{
	return c->random;
}

size_t
rs_catalog_ncollectors(const struct rs_catalog *c)
{
	return c->nc;
}

const char *
rs_catalog_collector(const struct rs_catalog *c, size_t i)
{
	return i < c->nc ? c->c[i].name : NULL;
}

int
rs_catalog_collector_index(const struct rs_catalog *c, const char *name)
{
	for (size_t i = 0; i < c->nc; i++)
		if (strcmp(c->c[i].name, name) == 0)
			return (int)i;
	return -1;
}

const int32_t *
rs_catalog_days(const struct rs_catalog *c, size_t *n)
{
	*n = c->ndays;
	return c->days;
}

bool
rs_catalog_has_day(const struct rs_catalog *c, size_t coll, int32_t day)
{
	const struct rs_collector *rc = &c->c[coll];

	return bsearch(&day, rc->days, rc->ndays, sizeof(int32_t), cmp_i32) != NULL;
}

struct day_sink {
	struct rs_seg **v;
	size_t *n, *cap;
};

static int
day_sink_add(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	struct day_sink *d = ctx;

	return seg_add(d->v, d->n, d->cap, name, size, err);
}

int
rs_catalog_list_day(struct rs_catalog *c, int32_t day, struct rs_seg **out, size_t *n,
		    struct pga_err *err)
{
	size_t cap = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; rc == 0 && c->have_all && i < c->nall; i++)
		if (c->all[i].day == day) {
			rc = seg_add(out, n, &cap, c->all[i].name, c->all[i].size, err);
			if (rc == 0)
				(*out)[*n - 1].member = c->all[i].member;
		}
	for (size_t i = 0; rc == 0 && !c->have_all && i < c->nc; i++) {
		char prefix[SEG_NAME_MAX];
		struct day_sink ds = {out, n, &cap};

		if (!rs_catalog_has_day(c, i, day))
			continue;
		if (c->kind == SEG_SOURCE_DIR) {
			rc = dir_day_list(c, c->c[i].name, day, out, n, &cap, err);
			continue;
		}
		day_prefix(c->c[i].name, day, prefix, sizeof(prefix));
		rc = seg_bucket_list(c->bucket, prefix, day_sink_add, &ds, err);
	}
	if (rc == 0)
		qsort(*out, *n, sizeof(**out), cmp_seg);
	for (size_t i = 0; rc == 0 && i < *n; i++)
		(*out)[i].coll = rs_catalog_collector_index(c, (*out)[i].collector);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void
rs_catalog_free(struct rs_catalog *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nc; i++)
		free(c->c[i].days);
	free(c->c);
	free(c->all);
	free(c->days);
	seg_bucket_close(c->bucket);
	seg_source_free(c->tar);
	free(c);
}

/* ---- readers ---- */

int
rs_reader_open(struct rs_catalog *c, struct rs_reader **out, struct pga_err *err)
{
	struct rs_reader *r = calloc(1, sizeof(*r));
	const char *tmp = getenv("TMPDIR");
	int rc = 0;

	*out = NULL;
	if (r == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	r->cat = c;
	strlcpy(r->tmp, tmp && *tmp ? tmp : "/tmp", sizeof(r->tmp));
	if (c->kind == SEG_SOURCE_URL)
		rc = seg_bucket_open(&r->bucket, c->url, err);
	if (rc < 0) {
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int
tmp_fd(struct rs_reader *r, int *fd, struct pga_err *err)
{
	*fd = open(r->tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*fd < 0)
		return pga_fail(err, pga_errno_code(errno), "could not create a temporary file in"
				" '%s': %m", r->tmp);
	return 0;
}

int
rs_reader_get(struct rs_reader *r, const struct rs_seg *s, int *fd, struct pga_err *err)
{
	struct rs_catalog *c = r->cat;
	int rc;

	*fd = -1;
	if (c->kind == SEG_SOURCE_DIR) {
		char path[PATH_MAX];

		rc = pga_path(path, sizeof(path), err, "%s/%s", c->root, s->name);
		if (rc == 0)
			rc = pga_open_sequential(path, fd, err);
		return rc;
	}
	rc = tmp_fd(r, fd, err);
	if (rc == 0 && c->kind == SEG_SOURCE_URL)
		rc = seg_bucket_fetch(r->bucket, s->name, *fd, err);
	else if (rc == 0)
		rc = seg_source_member_copy(c->tar, s->member, *fd, err);
	if (rc == 0 && lseek(*fd, 0, SEEK_SET) != 0)
		rc = pga_fail(err, PGA_EIO, "could not rewind a temporary file: %m");
	if (rc < 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

bool
rs_reader_local(const struct rs_reader *r)
{
	return r->cat->kind == SEG_SOURCE_DIR;
}

void
rs_reader_close(struct rs_reader *r)
{
	if (r == NULL)
		return;
	seg_bucket_close(r->bucket);
	free(r);
}
