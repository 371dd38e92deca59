/* Spool directory: listing, usage, chain state, counters, quarantine. */
#define _GNU_SOURCE
#include "spool/spool_int.h"

#include <dirent.h>
#include <stddef.h>
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
#include "common/hash.h"
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
	return spool_counters_add(sp, &d, err);
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

static const char *const counter_names[SC__COUNT] = {
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
	[SC_CYCLES] = "cycles",
	[SC_CYCLES_FAILED] = "cycles_failed",
	[SC_CYCLES_SKIPPED] = "cycles_skipped",
	[SC_TARGETS_OK] = "targets_ok",
	[SC_TARGETS_FAILED] = "targets_failed",
	[SC_SNAPSHOTS_COMPLETE] = "snapshots_complete",
	[SC_SNAPSHOTS_PARTIAL] = "snapshots_partial",
	[SC_METRIC_ERRORS] = "metric_errors",
	[SC_VALUES_ESCAPED] = "values_escaped",
	[SC_SEGMENTS_SHIPPED] = "segments_shipped",
	[SC_BYTES_SHIPPED] = "bytes_shipped",
	[SC_SHIP_ERRORS] = "ship_errors",
};

const char *
spool_counter_name(enum spool_counter c)
{
	return counter_names[c];
}

uint64_t
spool_collector_hash(const char *collector)
{
	/* never 0, which a delta uses for "unchanged" */
	return (uint64_t)pga_crc32c(0, collector, strlen(collector)) | (1ull << 32);
}

/* The lines after the counters: numbers, as the counters, for old readers. */
static const struct {
	const char *name;
	size_t off;
} marker_lines[] = {
	{"sealed_seq", offsetof(struct spool_counters, sealed_seq)},
	{"sealed_id", offsetof(struct spool_counters, sealed_id)},
	{"removals", offsetof(struct spool_counters, removals)},
};
#define NMARKERS (sizeof(marker_lines) / sizeof(marker_lines[0]))

static uint64_t *
marker(struct spool_counters *c, size_t i)
{
	return (uint64_t *)((char *)c + marker_lines[i].off);
}

static int
counters_parse(const char *path, const char *buf, struct spool_counters *out,
	       struct pga_err *err)
{
	const char *p = buf;

	memset(out, 0, sizeof(*out));
	while (*p) {
		char name[64];
		unsigned long long v;
		int used = 0;

		if (sscanf(p, "%63s %llu%n", name, &v, &used) != 2)
			return pga_fail(err, PGA_ECORRUPT, "counters file '%s' is malformed",
					path);
		for (int i = 0; i < SC__COUNT; i++)
			if (strcmp(name, counter_names[i]) == 0)
				out->v[i] = v;
		for (size_t i = 0; i < NMARKERS; i++)
			if (strcmp(name, marker_lines[i].name) == 0)
				*marker(out, i) = v;
		p += used;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return 0;
}

int
spool_counters_read(struct spool *sp, struct spool_counters *out,
		    struct pga_err *err)
{
	char path[PATH_MAX], buf[4096];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = pga_path(path, sizeof(path), err, "%s/counters", sp->path);
	if (rc < 0)
		return rc;
	rc = pga_read_optional_file(path, buf, sizeof(buf), NULL, err);
	if (rc < 0)
		return rc;
	return counters_parse(path, buf, out, err);
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
			log_warn("%s", rerr.msg);
	}
	return rc;
}

/* ---- adding ---- */

static bool
counters_zero(const struct spool_counters *c)
{
	static const struct spool_counters zero;

	return memcmp(c, &zero, sizeof(zero)) == 0;
}

/*
 * Add delta to c: counters modulo 2^64, markers replaced (a seal names the
 * newest seal counted, removals only grow).
 */
static void
counters_merge(struct spool_counters *c, const struct spool_counters *delta)
{
	for (int i = 0; i < SC__COUNT; i++)
		c->v[i] += delta->v[i];
	if (delta->sealed_id != 0) {
		c->sealed_seq = delta->sealed_seq;
		c->sealed_id = delta->sealed_id;
	}
	if (delta->removals > c->removals)
		c->removals = delta->removals;
}

/* The file plus delta, under counters.lock (cmu held). */
static int
counters_write(struct spool *sp, const struct spool_counters *delta,
	       struct pga_err *err)
{
	struct spool_counters cur;
	char path[PATH_MAX], buf[4096];
	size_t n = 0;
	int fd, rc;

	rc = pga_path(path, sizeof(path), err, "%s/counters.lock", sp->path);
	if (rc < 0)
		return rc;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return pga_fail(err, pga_errno_code(errno), "could not open '%s': %m", path);
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
	rc = spool_counters_read(sp, &cur, err);
	if (rc < 0)
		goto out;
	counters_merge(&cur, delta);
	for (int i = 0; i < SC__COUNT; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s %" PRIu64 "\n",
				      counter_names[i], cur.v[i]);
	for (size_t i = 0; i < NMARKERS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s %" PRIu64 "\n",
				      marker_lines[i].name, *marker(&cur, i));
	rc = pga_path(path, sizeof(path), err, "%s/counters", sp->path);
	if (rc == 0)
		rc = spool_write_meta(sp, path, buf, n, err);
out:
	close(fd);	/* releases the flock */
	return rc;
}

static int
counters_add(struct spool *sp, const struct spool_counters *delta, bool keep,
	     struct pga_err *err)
{
	struct spool_counters saved;
	int rc;

	pthread_mutex_lock(&sp->cmu);
	saved = sp->unsaved;
	counters_merge(&sp->unsaved, delta);
	rc = counters_write(sp, &sp->unsaved, err);
	if (rc == 0)
		memset(&sp->unsaved, 0, sizeof(sp->unsaved));
	else if (!keep)
		sp->unsaved = saved;
	pthread_mutex_unlock(&sp->cmu);
	return rc;
}

int
spool_counters_add(struct spool *sp, const struct spool_counters *delta,
		   struct pga_err *err)
{
	return counters_add(sp, delta, true, err);
}

int
spool_counters_add_first(struct spool *sp, const struct spool_counters *delta,
			 struct pga_err *err)
{
	return counters_add(sp, delta, false, err);
}

int
spool_counters_retry(struct spool *sp, struct pga_err *err)
{
	char lost[1024] = "";
	size_t n = 0;
	int rc;

	pthread_mutex_lock(&sp->cmu);
	rc = counters_zero(&sp->unsaved) ? 0 : counters_write(sp, &sp->unsaved, err);
	if (rc == 0) {
		memset(&sp->unsaved, 0, sizeof(sp->unsaved));
	} else {
		for (int i = 0; i < SC__COUNT && n < sizeof(lost) - 64; i++)
			if (sp->unsaved.v[i] != 0)
				n += (size_t)snprintf(lost + n, sizeof(lost) - n, "%s%s +%" PRIu64,
						      n ? ", " : "", counter_names[i],
						      sp->unsaved.v[i]);
		pga_err_prefix(err, "counters not recorded (%s)", lost);
	}
	pthread_mutex_unlock(&sp->cmu);
	return rc;
}
