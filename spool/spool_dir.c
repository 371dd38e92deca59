/* Spool directory: listing, usage, chain state, counters, quarantine. */
#define _GNU_SOURCE
#include "spool/spool_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/log.h"

#define WALK_DEPTH_MAX 8

static int
walk_dir(const char *root, const char *rel, int depth, spool_walk_fn fn,
	 void *ctx, struct pga_err *err)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	rc = pga_path(path, sizeof(path), err, "%s%s%s", root, *rel ? "/" : "", rel);
	if (rc < 0)
		return rc;
	d = opendir(path);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return pga_fail(err, PGA_EIO, "could not open directory '%s': %m", path);
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		rc = pga_path(sub, sizeof(sub), err, "%s%s%s", rel, *rel ? "/" : "",
			      de->d_name);
		if (rc < 0)
			break;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;	/* removed by a concurrent shipper */
			rc = pga_fail(err, PGA_EIO, "could not stat '%s/%s': %m", path,
				      de->d_name);
		} else if (S_ISDIR(st.st_mode) && depth < WALK_DEPTH_MAX) {
			rc = walk_dir(root, sub, depth + 1, fn, ctx, err);
		} else if (S_ISREG(st.st_mode)) {
			rc = fn(ctx, sub, (uint64_t)st.st_size, err);
		}
	}
	closedir(d);
	return rc;
}

int
spool_walk(const char *dir, spool_walk_fn fn, void *ctx, struct pga_err *err)
{
	return walk_dir(dir, "", 0, fn, ctx, err);
}

/* ---- listing ---- */

static int
list_add(void *ctx, const char *rel, uint64_t size, struct pga_err *err)
{
	return spool_list_add(ctx, rel, size, err);
}

int
spool_list_add(struct spool_list *l, const char *rel, uint64_t size,
	       struct pga_err *err)
{
	struct spool_entry *e;

	if (seg_name_parse(rel, NULL, 0, NULL, NULL) != 0) {
		if (strstr(rel, ".why") == NULL)
			log_debug("ignoring '%s': not a segment name", rel);
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		void *p = reallocarray(l->v, cap, sizeof(*l->v));

		if (p == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		l->v = p;
		l->cap = cap;
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	strlcpy(e->name, rel, sizeof(e->name));
	seg_name_parse(rel, e->collector, sizeof(e->collector), &e->seq, &e->created_us);
	e->size = size;
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct spool_entry *x = a, *y = b;
	int c = strcmp(x->collector, y->collector);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
spool_list_tree(const char *dir, struct spool_list *out, struct pga_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = spool_walk(dir, list_add, out, err);
	if (rc < 0) {
		spool_list_free(out);
		return rc;
	}
	spool_list_sort(out);
	return 0;
}

void
spool_list_sort(struct spool_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
}

static int
list_dir(struct spool *sp, const char *sub, struct spool_list *out,
	 struct pga_err *err)
{
	char dir[PATH_MAX];
	int rc = pga_path(dir, sizeof(dir), err, "%s/%s", sp->path, sub);

	if (rc < 0)
		return rc;
	return spool_list_tree(dir, out, err);
}

int
spool_list_ready(struct spool *sp, struct spool_list *out, struct pga_err *err)
{
	return list_dir(sp, "ready", out, err);
}

int
spool_list_quarantine(struct spool *sp, struct spool_list *out,
		      struct pga_err *err)
{
	return list_dir(sp, "quarantine", out, err);
}

void
spool_list_free(struct spool_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int
spool_ready_path(const struct spool *sp, const char *name, char *buf, size_t cap,
		 struct pga_err *err)
{
	return pga_path(buf, cap, err, "%s/ready/%s", sp->path, name);
}

static int
sum_size(void *ctx, const char *rel, uint64_t size, struct pga_err *err)
{
	(void)rel;
	(void)err;
	*(uint64_t *)ctx += size;
	return 0;
}

int
spool_usage(struct spool *sp, uint64_t *bytes, struct pga_err *err)
{
	char dir[PATH_MAX];
	int rc;

	*bytes = 0;
	rc = pga_path(dir, sizeof(dir), err, "%s/ready", sp->path);
	if (rc == 0)
		rc = spool_walk(dir, sum_size, bytes, err);
	if (rc == 0)
		rc = pga_path(dir, sizeof(dir), err, "%s/tmp", sp->path);
	if (rc == 0)
		rc = spool_walk(dir, sum_size, bytes, err);
	return rc;
}

int
spool_quarantine_path(const struct spool *sp, const char *name, char *buf, size_t cap,
		      struct pga_err *err)
{
	return pga_path(buf, cap, err, "%s/quarantine/%s", sp->path, name);
}

int
spool_list_open(struct spool *sp, spool_open_fn fn, void *ctx, struct pga_err *err)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int rc = pga_path(dir, sizeof(dir), err, "%s/tmp", sp->path);
	DIR *d = rc == 0 ? opendir(dir) : NULL;

	while (d != NULL && rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;

		if (strstr(de->d_name, ".part") == NULL ||
		    fstatat(dirfd(d), de->d_name, &st, 0) != 0)
			continue;
		rc = fn(ctx, de->d_name, (uint64_t)st.st_size);
	}
	if (d != NULL)
		closedir(d);
	return rc;
}

int
spool_summarise(struct spool *sp, struct spool_summary *s, struct pga_err *err)
{
	struct spool_list ready = {0}, quar = {0};
	int rc;

	memset(s, 0, sizeof(*s));
	rc = spool_list_ready(sp, &ready, err);
	if (rc == 0)
		rc = spool_list_quarantine(sp, &quar, err);
	if (rc == 0)
		rc = spool_counters_read(sp, &spool_counters_own, &s->c, err);
	if (rc == 0)
		rc = spool_usage(sp, &s->usage, err);
	s->sealed = ready.n;
	s->quarantined = quar.n;
	for (size_t i = 0; i < ready.n; i++) {
		s->bytes += ready.v[i].size;
		if (s->oldest_us == 0 || ready.v[i].created_us < s->oldest_us)
			s->oldest_us = ready.v[i].created_us;
	}
	spool_list_free(&ready);
	spool_list_free(&quar);
	return rc;
}

/* ---- removing and quarantining ---- */

int
spool_remove(struct spool *sp, const char *name, struct pga_err *err)
{
	char path[PATH_MAX];
	int rc = spool_ready_path(sp, name, path, sizeof(path), err);

	if (rc < 0)
		return rc;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return 0;
		return pga_fail(err, PGA_EIO, "could not remove '%s': %m", path);
	}
	return pga_fsync_parent(path, err);
}

int
spool_quarantine(struct spool *sp, const char *name, const char *why,
		 struct pga_err *err)
{
	struct spool_counters d = {0};
	char from[PATH_MAX], to[PATH_MAX], whyp[PATH_MAX];
	int rc;

	rc = spool_ready_path(sp, name, from, sizeof(from), err);
	if (rc == 0)
		rc = pga_path(to, sizeof(to), err, "%s/quarantine/%s", sp->path, name);
	if (rc == 0)
		rc = pga_path(whyp, sizeof(whyp), err, "%s.why", to);
	if (rc < 0)
		return rc;
	rc = pga_mkdir_parent(to, 0750, err);
	if (rc < 0)
		return rc;
	rc = pga_write_file_atomic(whyp, why, strlen(why), 0640, err);
	if (rc == 0)
		rc = pga_rename_durable(from, to, err);
	if (rc < 0)
		return rc;
	log_error("quarantined segment '%s': %s", name, why);
	d.v[SC_SEGMENTS_QUARANTINED] = 1;
	return spool_counters_add(sp, &spool_counters_own, &d, err);
}

/* ---- chain state ---- */

int
spool_chain_get(struct spool *sp, const char *collector, uint64_t *seq,
		uint8_t sha[PGA_SHA256_LEN], struct pga_err *err)
{
	char path[PATH_MAX], buf[256], hex[PGA_SHA256_HEX];
	unsigned long long s;
	bool exists;
	int rc;

	*seq = 0;
	memset(sha, 0, PGA_SHA256_LEN);
	rc = pga_path(path, sizeof(path), err, "%s/chain/%s", sp->path, collector);
	if (rc < 0)
		return rc;
	rc = pga_read_optional_file(path, buf, sizeof(buf), &exists, err);
	if (rc < 0 || !exists)
		return rc;
	if (sscanf(buf, "%llu %64s", &s, hex) != 2 || strlen(hex) != 64 ||
	    pga_unhex(hex, sha, PGA_SHA256_LEN) != 0)
		return pga_fail(err, PGA_ECORRUPT, "chain state '%s' is malformed", path);
	*seq = s;
	return 0;
}

int
spool_chain_set(struct spool *sp, const char *collector, uint64_t seq,
		const uint8_t sha[PGA_SHA256_LEN], struct pga_err *err)
{
	char path[PATH_MAX], buf[128], hex[PGA_SHA256_HEX];
	int rc, n;

	rc = pga_path(path, sizeof(path), err, "%s/chain/%s", sp->path, collector);
	if (rc < 0)
		return rc;
	pga_hex(sha, PGA_SHA256_LEN, hex);
	n = snprintf(buf, sizeof(buf), "%" PRIu64 " %s\n", seq, hex);
	return spool_write_meta(sp, path, buf, (size_t)n, err);
}

/* ---- counters ---- */

static const char *const own_names[SC__COUNT] = {
	[SC_SEGMENTS_SEALED] = "segments_sealed",
	[SC_BLOCKS_WRITTEN] = "blocks_written",
	[SC_ROWS_WRITTEN] = "rows_written",
	[SC_BYTES_WRITTEN] = "bytes_written",
	[SC_SEGMENTS_RECOVERED] = "segments_recovered",
	[SC_BYTES_TORN] = "bytes_torn",
	[SC_SEGMENTS_DROPPED] = "segments_dropped",
	[SC_BLOCKS_DROPPED] = "blocks_dropped",
	[SC_ROWS_DROPPED] = "rows_dropped",
	[SC_BYTES_DROPPED] = "bytes_dropped",
	[SC_BLOCKS_REFUSED] = "blocks_refused",
	[SC_BLOCKS_FAILED] = "blocks_failed",
	[SC_SEGMENTS_QUARANTINED] = "segments_quarantined",
};

const struct spool_counter_set spool_counters_own = {"spool", own_names, SC__COUNT};

/* The sets declared in this process, in the order they came. */
static pthread_mutex_t sets_mu = PTHREAD_MUTEX_INITIALIZER;
static const struct spool_counter_set *sets[SPOOL_COUNTER_SETS_MAX] = {&spool_counters_own};
static size_t nsets = 1;

void
spool_counters_declare(const struct spool_counter_set *set)
{
	pthread_mutex_lock(&sets_mu);
	for (size_t i = 0; i < nsets; i++)
		if (sets[i] == set)
			goto out;
	if (nsets < SPOOL_COUNTER_SETS_MAX)
		sets[nsets++] = set;
	else
		log_warn("counters of '%s' not declared: more than %d sets (a bug)", set->part,
			 SPOOL_COUNTER_SETS_MAX);
out:
	pthread_mutex_unlock(&sets_mu);
}

static bool
tally_zero(const struct spool_tally *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].v != 0)
			return false;
	return true;
}

/* The entry of name, added (at 0) when missing; NULL when the tally is full. */
static struct spool_tally_entry *
tally_entry(struct spool_tally *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->e[i].name, name) == 0)
			return &t->e[i];
	if (t->n == SPOOL_TALLY_MAX)
		return NULL;
	strlcpy(t->e[t->n].name, name, sizeof(t->e[t->n].name));
	t->e[t->n].v = 0;
	return &t->e[t->n++];
}

/* a += b, name by name; false when a cannot hold another name (a bug). */
static bool
tally_add(struct spool_tally *a, const struct spool_tally *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct spool_tally_entry *e = tally_entry(a, b->e[i].name);

		if (e == NULL)
			return false;
		e->v += b->e[i].v;
	}
	return true;
}

static bool
counter_name_valid(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n > 0 && n < SPOOL_COUNTER_NAME_MAX && name[n] == '\0';
}

static int
counters_parse(const char *path, const char *buf, struct spool_tally *out,
	       struct pga_err *err)
{
	const char *p = buf;

	out->n = 0;
	while (*p) {
		char name[SPOOL_COUNTER_NAME_MAX];
		unsigned long long v;
		struct spool_tally_entry *e;
		int used = 0;

		if (sscanf(p, "%63s %llu%n", name, &v, &used) != 2 || !counter_name_valid(name))
			return pga_fail(err, PGA_ECORRUPT, "counters file '%s' is malformed",
					path);
		e = tally_entry(out, name);
		if (e == NULL)
			return pga_fail(err, PGA_ECORRUPT, "counters file '%s' has more than %d"
					" counters", path, SPOOL_TALLY_MAX);
		e->v = v;
		p += used;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return 0;
}

static int
tally_read(struct spool *sp, struct spool_tally *out, struct pga_err *err)
{
	char path[PATH_MAX], buf[SPOOL_TALLY_MAX * 96];
	int rc;

	out->n = 0;
	rc = pga_path(path, sizeof(path), err, "%s/counters", sp->path);
	if (rc < 0)
		return rc;
	rc = pga_read_optional_file(path, buf, sizeof(buf), NULL, err);
	if (rc < 0)
		return rc;
	return counters_parse(path, buf, out, err);
}

int
spool_counters_read(struct spool *sp, const struct spool_counter_set *set,
		    struct spool_counters *out, struct pga_err *err)
{
	struct spool_tally t;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = tally_read(sp, &t, err);
	for (size_t i = 0; rc == 0 && i < t.n; i++)
		for (size_t k = 0; k < set->n; k++)
			if (strcmp(t.e[i].name, set->names[k]) == 0)
				out->v[k] = t.e[i].v;
	return rc;
}

/* ---- the reserve: room for state files on a full disk ---- */

int
spool_reserve_ensure(struct spool *sp, struct pga_err *err)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, rc;

	rc = pga_path(path, sizeof(path), err, "%s/reserve", sp->path);
	if (rc < 0)
		return rc;
	if (stat(path, &st) == 0 && st.st_size >= SPOOL_RESERVE_SIZE)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return pga_fail(err, pga_errno_code(errno), "could not create '%s': %m", path);
	rc = posix_fallocate(fd, 0, SPOOL_RESERVE_SIZE);
	close(fd);
	if (rc != 0) {
		unlink(path);	/* a partial reserve would hide how little is left */
		return pga_fail(err, pga_errno_code(rc),
				"could not keep %d KiB for the spool's state in '%s': %s",
				SPOOL_RESERVE_SIZE / 1024, path, strerror(rc));
	}
	return 0;
}

static bool
reserve_release(struct spool *sp)
{
	char path[PATH_MAX];

	if (pga_path(path, sizeof(path), NULL, "%s/reserve", sp->path) < 0)
		return false;
	return unlink(path) == 0;
}

int
spool_write_meta(struct spool *sp, const char *path, const void *buf, size_t len,
		 struct pga_err *err)
{
	int rc = pga_write_file_atomic(path, buf, len, 0640, err);

	if (rc == PGA_ENOSPC && reserve_release(sp)) {
		struct pga_err rerr = {0};

		log_warn("disk full writing '%s': released the spool's reserve to record it", path);
		rc = pga_write_file_atomic(path, buf, len, 0640, err);
		/* the write replaced a file of its own size: the room is free again,
		 * and held back again before anything else can take it */
		if (spool_reserve_ensure(sp, &rerr) < 0)
			pga_log_err(PGA_LOG_WARN, &rerr);
	}
	return rc;
}

/* ---- adding ---- */

/* Every declared name, then the file's, plus delta: under counters.lock (cmu held). */
static int
counters_write(struct spool *sp, const struct spool_tally *delta,
	       struct pga_err *err)
{
	struct spool_tally cur, *all = malloc(sizeof(*all));
	char path[PATH_MAX], buf[SPOOL_TALLY_MAX * 96];
	size_t n = 0;
	int fd = -1, rc;

	if (all == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	all->n = 0;
	pthread_mutex_lock(&sets_mu);
	for (size_t s = 0; s < nsets; s++)
		for (size_t i = 0; i < sets[s]->n; i++)
			tally_entry(all, sets[s]->names[i]);
	pthread_mutex_unlock(&sets_mu);
	rc = pga_path(path, sizeof(path), err, "%s/counters.lock", sp->path);
	if (rc < 0)
		goto out;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = pga_fail(err, pga_errno_code(errno), "could not open '%s': %m", path);
		goto out;
	}
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
	rc = tally_read(sp, &cur, err);
	if (rc < 0)
		goto out;
	if (!tally_add(all, &cur) || !tally_add(all, delta)) {
		rc = pga_fail(err, PGA_EINTERNAL, "more than %d counters (a bug)", SPOOL_TALLY_MAX);
		goto out;
	}
	for (size_t i = 0; i < all->n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s %" PRIu64 "\n",
				      all->e[i].name, all->e[i].v);
	rc = pga_path(path, sizeof(path), err, "%s/counters", sp->path);
	if (rc == 0)
		rc = spool_write_meta(sp, path, buf, n, err);
out:
	if (fd >= 0)
		close(fd);	/* releases the flock */
	free(all);
	return rc;
}

static int
counters_add(struct spool *sp, const struct spool_counter_set *set,
	     const struct spool_counters *delta, bool keep, struct pga_err *err)
{
	struct spool_tally d = {0};
	int rc;

	spool_counters_declare(set);
	for (size_t i = 0; i < set->n && i < SPOOL_COUNTERS_MAX; i++)
		if (delta->v[i] != 0)
			tally_entry(&d, set->names[i])->v = delta->v[i];
	pthread_mutex_lock(&sp->cmu);
	if (!tally_add(&sp->unsaved, &d)) {
		rc = pga_fail(err, PGA_EINTERNAL, "more than %d counters (a bug)", SPOOL_TALLY_MAX);
		goto out;
	}
	rc = counters_write(sp, &sp->unsaved, err);
	if (rc == 0)
		sp->unsaved.n = 0;
	else if (!keep)
		for (size_t i = 0; i < d.n; i++)
			tally_entry(&sp->unsaved, d.e[i].name)->v -= d.e[i].v;
out:
	pthread_mutex_unlock(&sp->cmu);
	return rc;
}

int
spool_counters_add(struct spool *sp, const struct spool_counter_set *set,
		   const struct spool_counters *delta, struct pga_err *err)
{
	return counters_add(sp, set, delta, true, err);
}

int
spool_counters_add_first(struct spool *sp, const struct spool_counters *delta,
			 struct pga_err *err)
{
	return counters_add(sp, &spool_counters_own, delta, false, err);
}

int
spool_counters_retry(struct spool *sp, struct pga_err *err)
{
	char lost[1024] = "";
	size_t n = 0;
	int rc;

	pthread_mutex_lock(&sp->cmu);
	rc = tally_zero(&sp->unsaved) ? 0 : counters_write(sp, &sp->unsaved, err);
	if (rc == 0) {
		sp->unsaved.n = 0;
	} else {
		for (size_t i = 0; i < sp->unsaved.n && n < sizeof(lost) - 96; i++)
			if (sp->unsaved.e[i].v != 0)
				n += (size_t)snprintf(lost + n, sizeof(lost) - n, "%s%s +%" PRIu64,
						      n ? ", " : "", sp->unsaved.e[i].name,
						      sp->unsaved.e[i].v);
		pga_err_prefix(err, "counters not recorded (%s)", lost);
	}
	pthread_mutex_unlock(&sp->cmu);
	return rc;
}
