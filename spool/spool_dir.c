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
#include "common/grow.h"
#include "common/kvfile.h"
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
	if (PGA_GROW(l->v, l->cap, l->n + 1, SIZE_MAX, err) < 0)
		return err->code;
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

/*
 * A sealed segment newer than its collector's chain state: the writer
 * renamed it into ready/ and has not recorded it in chain/<collector> yet
 * (or was killed in between).  A writer that starts again takes the
 * newest sealed segment in ready/ as its chain state: removed now, its seq
 * would be sealed a second time, a fork of the collector with itself.
 */
static int
ahead_of_chain(struct spool *sp, const char *name, bool *ahead, struct pga_err *err)
{
	char collector[PGA_NAME_MAX + 1];
	uint8_t sha[PGA_SHA256_LEN];
	uint64_t seq, chain;
	int64_t created;
	int rc;

	*ahead = false;
	if (seg_name_parse(name, collector, sizeof(collector), &seq, &created) != 0)
		return 0;	/* not a segment's name: nothing to keep it for */
	rc = spool_chain_get(sp, collector, &chain, sha, err);
	if (rc == 0)
		*ahead = seq > chain;
	return rc;
}

int
spool_remove(struct spool *sp, const char *name, struct pga_err *err)
{
	char path[PATH_MAX];
	bool ahead = false;
	int rc = spool_ready_path(sp, name, path, sizeof(path), err);

	if (rc == 0)
		rc = ahead_of_chain(sp, name, &ahead, err);
	if (rc < 0)
		return rc;
	if (ahead)
		return pga_fail(err, PGA_ELOCKED, "'%s' is newer than its collector's chain state:"
				" kept until the writer has recorded it", name);
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return 0;
		return pga_fail(err, PGA_EIO, "could not remove '%s': %m", path);
	}
	return pga_fsync_parent(path, err);
}

int
spool_hold(struct spool *sp, const char *name, int *fd, struct pga_err *err)
{
	char path[PATH_MAX];
	struct stat held, now;
	int rc = spool_ready_path(sp, name, path, sizeof(path), err);

	*fd = -1;
	if (rc < 0)
		return rc;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? pga_fail(err, PGA_ENOTFOUND, "'%s' has left the spool", name) :
		       pga_fail(err, PGA_EIO, "could not open '%s': %m", path);
	while ((rc = flock(*fd, LOCK_SH)) != 0 && errno == EINTR)
		;
	if (rc != 0)
		rc = pga_fail(err, PGA_EIO, "could not lock '%s': %m", path);
	/* a drop that locked it first has moved it away (or is about to fail) */
	else if (fstat(*fd, &held) != 0 || stat(path, &now) != 0 ||
		 held.st_ino != now.st_ino || held.st_dev != now.st_dev)
		rc = pga_fail(err, PGA_ENOTFOUND, "'%s' has left the spool", name);
	if (rc < 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
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

/* The lines that are no counters, in the order they end the file (spool_int.h). */
static const char *const mark_names[] = {"sealed_seq", "sealed_id", "removals"};
#define NMARKS (sizeof(mark_names) / sizeof(mark_names[0]))

static int
mark_index(const char *name)
{
	for (size_t i = 0; i < NMARKS; i++)
		if (strcmp(name, mark_names[i]) == 0)
			return (int)i;
	return -1;
}

/*
 * a += b, name by name: counters modulo 2^64; of the marks, a seal's
 * replace (0: unchanged) and removals only grow.  false when a cannot hold
 * another name (a bug).
 */
static bool
tally_add(struct spool_tally *a, const struct spool_tally *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct spool_tally_entry *e = tally_entry(a, b->e[i].name);
		uint64_t v = b->e[i].v;

		if (e == NULL)
			return false;
		switch (mark_index(b->e[i].name)) {
		case -1:
			e->v += v;
			break;
		case 2:
			if (v > e->v)
				e->v = v;
			break;
		default:
			if (v != 0)
				e->v = v;
		}
	}
	return true;
}

static bool
counter_name_valid(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n > 0 && n < SPOOL_COUNTER_NAME_MAX && name[n] == '\0';
}

uint64_t
spool_collector_hash(const char *collector)
{
	/* never 0, which a delta uses for "unchanged" */
	return (uint64_t)pga_crc32c(0, collector, strlen(collector)) | (1ull << 32);
}

struct counters_ctx {
	struct spool_tally *out;
	bool full;
};

static bool
counter_set(void *ctx, const char *name, const char *value)
{
	struct counters_ctx *c = ctx;
	struct spool_tally_entry *e;
	uint64_t v;

	if (!counter_name_valid(name) || !kv_u64(value, &v))
		return false;
	e = tally_entry(c->out, name);
	if (e == NULL) {
		c->full = true;
		return false;
	}
	e->v = v;
	return true;
}

/* Counters are what pga status reports: a damaged file is refused, not guessed. */
static int
counters_parse(const char *path, char *buf, struct spool_tally *out,
	       struct pga_err *err)
{
	struct counters_ctx c = {out, false};
	unsigned first;

	out->n = 0;
	if (kv_parse(buf, counter_set, &c, &first) == 0)
		return 0;
	if (c.full)
		return pga_fail(err, PGA_ECORRUPT, "counters file '%s' has more than %d"
				" counters", path, SPOOL_TALLY_MAX);
	return pga_fail(err, PGA_ECORRUPT, "counters file '%s' is malformed (line %u)", path,
			first);
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
	struct dynbuf b;
	int fd = -1, rc;

	if (all == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	all->n = 0;
	pthread_mutex_lock(&sets_mu);
	for (size_t s = 0; s < nsets; s++)
		for (size_t i = 0; i < sets[s]->n; i++)
			tally_entry(all, sets[s]->names[i]);
	pthread_mutex_unlock(&sets_mu);
	for (size_t m = 0; m < NMARKS; m++)	/* always there, 0 until set */
		tally_entry(all, mark_names[m]);
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
	dynbuf_init_fixed(&b, buf, sizeof(buf));
	for (size_t i = 0; i < all->n; i++)
		if (mark_index(all->e[i].name) < 0)
			kv_put_u64(&b, all->e[i].name, all->e[i].v);
	for (size_t m = 0; m < NMARKS; m++)	/* last, in their order */
		for (size_t i = 0; i < all->n; i++)
			if (strcmp(all->e[i].name, mark_names[m]) == 0)
				kv_put_u64(&b, all->e[i].name, all->e[i].v);
	rc = dynbuf_check(&b, "counters", err);
	if (rc == 0)
		rc = pga_path(path, sizeof(path), err, "%s/counters", sp->path);
	if (rc == 0)
		rc = spool_write_meta(sp, path, dynbuf_str(&b), dynbuf_len(&b), err);
out:
	if (fd >= 0)
		close(fd);	/* releases the flock */
	free(all);
	return rc;
}

/* unsaved += d and a write; without keep a failed write takes d back out. */
static int
counters_add_tally(struct spool *sp, const struct spool_tally *d, bool keep,
		   struct pga_err *err)
{
	struct spool_tally *saved = keep ? NULL : malloc(sizeof(*saved));
	int rc;

	if (!keep && saved == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	pthread_mutex_lock(&sp->cmu);
	if (saved != NULL)
		*saved = sp->unsaved;	/* the marks cannot be subtracted */
	if (!tally_add(&sp->unsaved, d)) {
		rc = pga_fail(err, PGA_EINTERNAL, "more than %d counters (a bug)", SPOOL_TALLY_MAX);
		goto out;
	}
	rc = counters_write(sp, &sp->unsaved, err);
	if (rc == 0)
		sp->unsaved.n = 0;
	else if (saved != NULL)
		sp->unsaved = *saved;
out:
	pthread_mutex_unlock(&sp->cmu);
	free(saved);
	return rc;
}

int
spool_tally_add_one(struct spool_tally *t, const char *name, uint64_t v)
{
	struct spool_tally_entry *e;

	if (!counter_name_valid(name) || mark_index(name) >= 0 || (e = tally_entry(t, name)) == NULL)
		return -1;
	e->v += v;
	return 0;
}

int
spool_tally_add_set(struct spool_tally *t, const struct spool_counter_set *set,
		    const struct spool_counters *delta, struct pga_err *err)
{
	spool_counters_declare(set);
	for (size_t i = 0; i < set->n && i < SPOOL_COUNTERS_MAX; i++) {
		struct spool_tally_entry *e;

		if (delta->v[i] == 0)
			continue;
		e = tally_entry(t, set->names[i]);
		if (e == NULL)
			return pga_fail(err, PGA_EINTERNAL, "more than %d counters (a bug)",
					SPOOL_TALLY_MAX);
		e->v += delta->v[i];
	}
	return 0;
}

int
spool_counters_add(struct spool *sp, const struct spool_counter_set *set,
		   const struct spool_counters *delta, struct pga_err *err)
{
	struct spool_tally d = {0};
	int rc = spool_tally_add_set(&d, set, delta, err);

	return rc < 0 ? rc : counters_add_tally(sp, &d, true, err);
}

int
spool_counters_add_marked(struct spool *sp, const struct spool_counters *own,
			  const struct spool_tally *tags, const struct spool_marks *marks,
			  bool keep, struct pga_err *err)
{
	struct spool_tally d = {0};
	int rc = spool_tally_add_set(&d, &spool_counters_own, own, err);

	if (rc == 0 && tags != NULL && !tally_add(&d, tags))
		rc = pga_fail(err, PGA_EINTERNAL, "more than %d counters (a bug)", SPOOL_TALLY_MAX);
	if (rc == 0 && marks != NULL) {
		const uint64_t v[NMARKS] = {marks->sealed_seq, marks->sealed_id, marks->removals};

		for (size_t m = 0; m < NMARKS; m++)
			if (v[m] != 0)
				tally_entry(&d, mark_names[m])->v = v[m];
	}
	return rc < 0 ? rc : counters_add_tally(sp, &d, keep, err);
}

int
spool_counters_add_first(struct spool *sp, const struct spool_counters *delta,
			 struct pga_err *err)
{
	return spool_counters_add_marked(sp, delta, NULL, NULL, false, err);
}

int
spool_marks_read(struct spool *sp, struct spool_marks *out, struct pga_err *err)
{
	struct spool_tally *t = malloc(sizeof(*t));
	int rc;

	memset(out, 0, sizeof(*out));
	if (t == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = tally_read(sp, t, err);
	for (size_t i = 0; rc == 0 && i < t->n; i++)
		switch (mark_index(t->e[i].name)) {
		case 0:
			out->sealed_seq = t->e[i].v;
			break;
		case 1:
			out->sealed_id = t->e[i].v;
			break;
		case 2:
			out->removals = t->e[i].v;
			break;
		}
	free(t);
	return rc;
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
