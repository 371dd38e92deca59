/* Opening a spool, crash recovery, segment rotation, sealing, quota. */
#define _GNU_SOURCE
#include "spool/spool_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/libutil.h>
#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/units.h"
#include "common/utf8.h"

#ifndef PGA_VERSION
#define PGA_VERSION "0.0.0"
#endif

/* the spool's own; parts make theirs (spool_part_dir) */
static const char *const spool_dirs[] = {"tmp", "ready", "quarantine", "chain"};

void
spool_opts_from_config(struct spool_opts *o, const struct pga_config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->collector = cfg->global.collector;
	o->max_bytes = cfg->global.spool_max;
	o->full = (enum pga_spool_full)cfg->global.spool_full;
	o->seg_max_size = cfg->global.segment_max_size;
	o->seg_max_age_us = cfg->global.segment_max_age;
	o->level = (int)cfg->global.compress_level;
}

static struct spool *
spool_alloc(const char *path, struct pga_err *err)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	char host[256];

	if (sp == NULL) {
		pga_fail(err, PGA_ENOMEM, "out of memory");
		return NULL;
	}
	sp->lock_fd = -1;
	strlcpy(sp->path, path, sizeof(sp->path));
	pthread_mutex_init(&sp->mu, NULL);
	pthread_mutex_init(&sp->cmu, NULL);
	if (gethostname(host, sizeof(host)) != 0)
		strlcpy(host, "unknown", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	/* a segment header holds UTF-8, and sethostname(2) takes any bytes */
	utf8_escape_str(sp->hostname, sizeof(sp->hostname), host, NULL);
	return sp;
}

int
spool_open(struct spool **out, const char *path, struct pga_err *err)
{
	struct spool *sp;
	char ready[PATH_MAX];
	struct stat st;
	int rc;

	*out = NULL;
	rc = pga_path(ready, sizeof(ready), err, "%s/ready", path);
	if (rc < 0)
		return rc;
	if (stat(ready, &st) != 0 || !S_ISDIR(st.st_mode))
		return pga_fail(err, PGA_ENOTFOUND,
				"'%s' is not a pga spool (no ready/ directory)", path);
	sp = spool_alloc(path, err);
	if (sp == NULL)
		return PGA_ENOMEM;
	*out = sp;
	return 0;
}

/*
 * flock path (created 0640) without waiting and write our pid into it.
 * PGA_ELOCKED when another process holds it: pid then says which.
 */
static int
lock_file(const char *path, int *fd, char *pid, size_t cap, struct pga_err *err)
{
	int n;

	*pid = '\0';
	*fd = flopen(path, O_RDWR | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0640);
	if (*fd < 0) {
		if (errno == EWOULDBLOCK) {
			int rfd = open(path, O_RDONLY | O_CLOEXEC);

			if (rfd >= 0) {
				ssize_t got = read(rfd, pid, cap - 1);

				pid[got > 0 ? got : 0] = '\0';
				pid[strcspn(pid, "\n")] = '\0';
				close(rfd);
			}
			return PGA_ELOCKED;
		}
		return pga_fail(err, pga_errno_code(errno), "could not lock '%s': %m", path);
	}
	n = snprintf(pid, cap, "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) != 0 || pga_write_all(*fd, pid, (size_t)n, path, err) < 0)
		return pga_fail(err, PGA_EIO, "could not write '%s': %m", path);
	return 0;
}

static int
take_lock(struct spool *sp, struct pga_err *err)
{
	char path[PATH_MAX], pid[32];
	int rc;

	rc = pga_path(path, sizeof(path), err, "%s/lock", sp->path);
	if (rc == 0)
		rc = lock_file(path, &sp->lock_fd, pid, sizeof(pid), err);
	if (rc == PGA_ELOCKED)
		return pga_fail(err, PGA_ELOCKED, "spool '%s' is in use by another writer (pid %s)",
				sp->path, *pid ? pid : "unknown");
	return rc;
}

int
spool_part_lock(const struct spool *sp, const char *name, int *fd, struct pga_err *err)
{
	char path[PATH_MAX], pid[32];
	int rc;

	*fd = -1;
	rc = pga_path(path, sizeof(path), err, "%s/%s.lock", sp->path, name);
	if (rc == 0)
		rc = lock_file(path, fd, pid, sizeof(pid), err);
	if (rc == PGA_ELOCKED)
		return pga_fail(err, PGA_ELOCKED, "'%s' is held by another process (pid %s)", path,
				*pid ? pid : "unknown");
	if (rc < 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

int
spool_part_dir(const struct spool *sp, const char *name, char *buf, size_t cap,
	       struct pga_err *err)
{
	return pga_path(buf, cap, err, "%s/%s", sp->path, name);
}

/* The newest sealed segment of a collector, when newer than the chain file. */
static int
chain_from_ready(struct spool *sp, const char *collector, uint64_t *seq,
		 uint8_t sha[PGA_SHA256_LEN], struct pga_err *err)
{
	struct spool_list l;
	char path[PATH_MAX];
	const struct spool_entry *last = NULL;
	int rc = spool_list_ready(sp, &l, err);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.v[i].collector, collector) == 0)
			last = &l.v[i];
	if (last != NULL && last->seq > *seq) {
		rc = spool_ready_path(sp, last->name, path, sizeof(path), err);
		if (rc == 0)
			rc = pga_sha256_file(path, sha, NULL, err);
		if (rc == 0) {
			*seq = last->seq;
			rc = spool_chain_set(sp, collector, *seq, sha, err);
		}
	}
	spool_list_free(&l);
	return rc;
}

static int
load_chain(struct spool *sp, const char *collector, uint64_t *seq,
	   uint8_t sha[PGA_SHA256_LEN], struct pga_err *err)
{
	int rc = spool_chain_get(sp, collector, seq, sha, err);

	if (rc == 0)
		rc = chain_from_ready(sp, collector, seq, sha, err);
	return rc;
}

static int
final_path(struct spool *sp, const struct seg_header *h, char *buf, size_t cap,
	   struct pga_err *err)
{
	char name[SEG_NAME_MAX];
	int rc;

	rc = seg_name_format(name, sizeof(name), h->collector, h->seq, h->created_us,
			     err);
	if (rc == 0)
		rc = spool_ready_path(sp, name, buf, cap, err);
	if (rc < 0)
		return rc;
	rc = pga_mkdir_parent(buf, 0750, err);
	return rc;
}

static int
quarantine_part(struct spool *sp, const char *part, const char *why,
		struct pga_err *err)
{
	char to[PATH_MAX], whyp[PATH_MAX];
	const char *base = strrchr(part, '/') + 1;
	struct spool_counters d = {0};
	int rc;

	rc = pga_path(to, sizeof(to), err, "%s/quarantine/%s", sp->path, base);
	if (rc == 0)
		rc = pga_path(whyp, sizeof(whyp), err, "%s.why", to);
	if (rc == 0)
		rc = pga_write_file_atomic(whyp, why, strlen(why), 0640, err);
	if (rc == 0)
		rc = pga_rename_durable(part, to, err);
	if (rc < 0)
		return rc;
	log_error("quarantined unreadable part file '%s': %s", part, why);
	d.v[SC_SEGMENTS_QUARANTINED] = 1;
	return spool_counters_add(sp, &spool_counters_own, &d, err);
}

static int
drop_part(struct spool *sp, const char *part, uint64_t size, const char *why,
	  struct pga_err *err)
{
	struct spool_counters d = {0};
	int rc;

	d.v[SC_BYTES_TORN] = size;
	rc = spool_counters_add_first(sp, &d, err);
	if (rc < 0)
		return rc;
	log_warn("removed part file '%s' (%" PRIu64 " bytes): %s", part, size, why);
	if (unlink(part) != 0)
		return pga_fail(err, PGA_EIO, "could not remove '%s': %m", part);
	return pga_fsync_parent(part, err);
}

static int
seal_recovered(struct spool *sp, struct seg_writer *w, uint64_t torn,
	       struct pga_err *err)
{
	const struct seg_header *h = seg_writer_header(w);
	struct spool_counters d = {0};
	uint8_t sha[PGA_SHA256_LEN];
	char path[PATH_MAX];
	int rc;

	rc = final_path(sp, h, path, sizeof(path), err);
	if (rc == 0)
		rc = seg_writer_seal(w, SEG_FOOTER_RECOVERED, torn, path, sha, err);
	if (rc == 0)
		rc = spool_chain_set(sp, h->collector, h->seq, sha, err);
	if (rc < 0)
		return rc;
	log_warn("recovered segment '%s' after a crash: %u blocks kept, %" PRIu64
		 " bytes of torn tail dropped", path, seg_writer_nblocks(w), torn);
	d.v[SC_SEGMENTS_RECOVERED] = 1;
	d.v[SC_SEGMENTS_SEALED] = 1;
	d.v[SC_BYTES_TORN] = torn;
	return spool_counters_add(sp, &spool_counters_own, &d, err);
}

static int
recover_part(struct spool *sp, const char *part, struct pga_err *err)
{
	struct seg_writer *w = NULL;
	struct pga_err rerr = {0};
	uint8_t sha[PGA_SHA256_LEN];
	uint64_t torn = 0, seq;
	struct stat st;
	int rc;

	if (stat(part, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not stat '%s': %m", part);
	rc = seg_writer_recover(&w, part, &torn, &rerr);
	if (rc == PGA_ENOTFOUND || (rc == PGA_ETRUNC && st.st_size < 4096))
		return drop_part(sp, part, (uint64_t)st.st_size,
				 "left by a crash before any block was complete", err);
	if (rc < 0)
		return quarantine_part(sp, part, rerr.msg, err);
	rc = load_chain(sp, seg_writer_header(w)->collector, &seq, sha, err);
	if (rc == 0 && seg_writer_header(w)->seq <= seq) {
		seg_writer_free(w, false);
		return quarantine_part(sp, part,
				       "sequence number already used by a sealed segment", err);
	}
	if (rc == 0)
		rc = seal_recovered(sp, w, torn, err);
	seg_writer_free(w, false);
	return rc;
}

static int
recover_parts(struct spool *sp, struct pga_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = pga_path(dir, sizeof(dir), err, "%s/tmp", sp->path);

	if (rc < 0)
		return rc;
	d = opendir(dir);
	if (d == NULL)
		return pga_fail(err, PGA_EIO, "could not open directory '%s': %m", dir);
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		rc = pga_path(path, sizeof(path), err, "%s/%s", dir, de->d_name);
		if (rc < 0)
			break;
		if (n > 5 && strcmp(de->d_name + n - 5, ".part") == 0)
			rc = recover_part(sp, path, err);
		else if (n > 4 && strcmp(de->d_name + n - 4, ".tmp") == 0 && unlink(path) != 0)
			rc = pga_fail(err, PGA_EIO, "could not remove '%s': %m", path);
	}
	closedir(d);
	return rc;
}

static int
make_layout(struct spool *sp, struct pga_err *err)
{
	char dir[PATH_MAX];
	int rc = pga_mkdir_p(sp->path, 0750, err);

	for (size_t i = 0; rc == 0 && i < sizeof(spool_dirs) / sizeof(spool_dirs[0]); i++) {
		rc = pga_path(dir, sizeof(dir), err, "%s/%s", sp->path, spool_dirs[i]);
		if (rc == 0)
			rc = pga_mkdir_p(dir, 0750, err);
	}
	return rc;
}

int
spool_open_writer(struct spool **out, const char *path,
		  const struct spool_opts *opts, struct pga_err *err)
{
	struct pga_err rerr = {0};
	struct spool *sp;
	int rc;

	*out = NULL;
	if (opts->collector == NULL || !pga_name_valid(opts->collector))
		return pga_fail(err, PGA_EINVAL, "invalid collector id '%s'",
				opts->collector ? opts->collector : "");
	sp = spool_alloc(path, err);
	if (sp == NULL)
		return PGA_ENOMEM;
	sp->writer = true;
	sp->opts = *opts;
	strlcpy(sp->collector, opts->collector, sizeof(sp->collector));
	sp->opts.collector = sp->collector;
	rc = make_layout(sp, err);
	if (rc == 0)
		rc = take_lock(sp, err);
	if (rc == 0 && spool_reserve_ensure(sp, &rerr) < 0)
		pga_log_err(PGA_LOG_WARN, &rerr);	/* a full disk: recovery may still work */
	if (rc == 0)
		rc = recover_parts(sp, err);
	if (rc == 0)
		rc = load_chain(sp, sp->collector, &sp->chain_seq, sp->chain_sha, err);
	if (rc == 0)
		rc = spool_usage(sp, &sp->usage_other, err);
	if (rc < 0) {
		spool_free(sp);
		return rc;
	}
	*out = sp;
	return 0;
}

const char *
spool_path(const struct spool *sp)
{
	return sp->path;
}

/* ---- the open segment ---- */

static int
open_segment(struct spool *sp, struct pga_err *err)
{
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .minor = SEG_FORMAT_MINOR};
	char part[PATH_MAX];
	int rc;

	h.seq = sp->chain_seq + 1;
	h.created_us = pga_now_us();
	memcpy(h.prev_sha256, sp->chain_sha, PGA_SHA256_LEN);
	strlcpy(h.collector, sp->collector, sizeof(h.collector));
	strlcpy(h.hostname, sp->hostname, sizeof(h.hostname));
	strlcpy(h.writer, "pga " PGA_VERSION, sizeof(h.writer));
	/* data never takes the room the counters and chain need on a full disk */
	rc = spool_reserve_ensure(sp, err);
	if (rc == 0)
		rc = pga_path(part, sizeof(part), err, "%s/tmp/%s.%016" PRIx64 ".part",
			      sp->path, sp->collector, h.seq);
	if (rc == 0)
		rc = seg_writer_create(&sp->seg, part, &h, err);
	return rc;
}

int
spool_ensure_segment(struct spool *sp, struct pga_err *err)
{
	int rc;

	if (sp->broken)
		return pga_fail(err, PGA_EIO,
				"spool '%s' could not seal a segment earlier; restart to recover it",
				sp->path);
	if (sp->seg != NULL) {
		int64_t age = pga_now_us() - seg_writer_header(sp->seg)->created_us;

		if (seg_writer_size(sp->seg) < sp->opts.seg_max_size &&
		    seg_writer_nblocks(sp->seg) < SEG_MAX_BLOCKS &&
		    (sp->opts.seg_max_age_us <= 0 || age < sp->opts.seg_max_age_us))
			return 0;
		rc = spool_seal_locked(sp, err);
		if (rc < 0)
			return rc;
	}
	return open_segment(sp, err);
}

int
spool_flush_counters_locked(struct spool *sp, struct pga_err *err)
{
	static const struct spool_counters zero;
	int rc;

	if (memcmp(&sp->pending, &zero, sizeof(zero)) == 0)
		return 0;
	rc = spool_counters_add(sp, &spool_counters_own, &sp->pending, err);
	memset(&sp->pending, 0, sizeof(sp->pending));	/* on failure: kept as unsaved */
	return rc;
}

/* The chain file follows chain_seq; a failure is retried at the next seal. */
static int
chain_update(struct spool *sp, struct pga_err *err)
{
	int rc = spool_chain_set(sp, sp->collector, sp->chain_seq, sp->chain_sha, err);

	sp->chain_dirty = rc < 0;
	return rc;
}

/*
 * seg_writer_seal failed: did the rename into ready/ happen (only the
 * directory fsync after it failed)?  Then the segment is sealed.
 */
static bool
renamed_anyway(const struct seg_writer *w, const char *final)
{
	struct stat st;

	return stat(seg_writer_path(w), &st) != 0 && errno == ENOENT &&
	       stat(final, &st) == 0;
}

int
spool_seal_locked(struct spool *sp, struct pga_err *err)
{
	const struct seg_header *h;
	struct pga_err cerr = {0};
	uint8_t sha[PGA_SHA256_LEN];
	char path[PATH_MAX];
	int rc;

	if (sp->seg == NULL)
		return 0;
	if (seg_writer_nblocks(sp->seg) == 0) {
		seg_writer_free(sp->seg, true);
		sp->seg = NULL;
		return 0;
	}
	h = seg_writer_header(sp->seg);
	rc = final_path(sp, h, path, sizeof(path), err);
	if (rc == 0)
		rc = seg_writer_seal(sp->seg, 0, 0, path, sha, err);
	if (rc < 0 && !renamed_anyway(sp->seg, path)) {
		/* the part file keeps its complete blocks; the next start salvages it */
		sp->broken = true;
		seg_writer_free(sp->seg, false);
		sp->seg = NULL;
		return rc;
	}
	if (rc < 0)
		sp->broken = true;	/* sealed, but its directory is not durable */
	sp->chain_seq = h->seq;
	memcpy(sp->chain_sha, sha, PGA_SHA256_LEN);
	sp->usage_other += seg_writer_size(sp->seg);
	log_debug("sealed segment '%s' (%u blocks)", path, seg_writer_nblocks(sp->seg));
	seg_writer_free(sp->seg, false);
	sp->seg = NULL;
	sp->pending.v[SC_SEGMENTS_SEALED]++;
	/* the segment is safe in ready/ whatever happens to its bookkeeping:
	 * a chain file left behind is retried (and rebuilt from ready/ at the
	 * next start), counters that could not be written are kept */
	if (chain_update(sp, &cerr) < 0)
		log_error("segment '%s' sealed, but its chain state was not saved: %s", path,
			  cerr.msg);
	if (spool_flush_counters_locked(sp, &cerr) < 0)
		log_warn("%s (kept, written with the next counters)", cerr.msg);
	return rc;
}

int
spool_seal(struct spool *sp, struct pga_err *err)
{
	int rc;

	pthread_mutex_lock(&sp->mu);
	rc = spool_seal_locked(sp, err);
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

int
spool_tick(struct spool *sp, struct pga_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&sp->mu);
	if (sp->seg != NULL && !seg_writer_in_block(sp->seg) &&
	    sp->opts.seg_max_age_us > 0 &&
	    pga_now_us() - seg_writer_header(sp->seg)->created_us >= sp->opts.seg_max_age_us)
		rc = spool_seal_locked(sp, err);
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

/* ---- quota ---- */

static uint64_t
used_bytes(const struct spool *sp)
{
	return sp->usage_other + (sp->seg ? seg_writer_size(sp->seg) : 0);
}

static int
entry_age_cmp(const void *a, const void *b)
{
	const struct spool_entry *x = a, *y = b;

	if (x->created_us != y->created_us)
		return x->created_us < y->created_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
drop_segment(struct spool *sp, const struct spool_entry *e, struct pga_err *err)
{
	struct spool_counters d = {0};
	struct seg_info info;
	struct pga_err perr = {0};
	char path[PATH_MAX];
	int rc = spool_ready_path(sp, e->name, path, sizeof(path), err);

	if (rc < 0)
		return rc;
	if (seg_peek_file(path, &info, &perr) != 0)
		memset(&info, 0, sizeof(info));	/* count the bytes at least */
	d.v[SC_SEGMENTS_DROPPED] = 1;
	d.v[SC_BLOCKS_DROPPED] = info.nblocks;
	d.v[SC_ROWS_DROPPED] = info.rows;
	d.v[SC_BYTES_DROPPED] = e->size;
	rc = spool_counters_add_first(sp, &d, err);	/* counted before it happens */
	if (rc < 0)
		return rc;
	log_warn("spool full: dropped oldest segment '%s' (%u blocks, %" PRIu64
		 " rows, %" PRIu64 " bytes)", e->name, info.nblocks, info.rows, e->size);
	rc = spool_remove(sp, e->name, err);
	if (rc == 0)
		sp->usage_other -= e->size < sp->usage_other ? e->size : sp->usage_other;
	return rc;
}

static int
refuse_full(struct spool *sp, uint64_t need, struct pga_err *err)
{
	struct pga_err cerr = {0};
	char used[16], max[16];

	sp->pending.v[SC_BLOCKS_REFUSED]++;
	if (spool_flush_counters_locked(sp, &cerr) < 0)
		log_warn("%s (kept, written with the next counters)", cerr.msg);
	pga_format_size(used_bytes(sp), used, sizeof(used));
	pga_format_size(sp->opts.max_bytes, max, sizeof(max));
	return pga_fail(err, PGA_EFULL,
			"spool '%s' is full (%s used, spool-max %s, %" PRIu64
			" more bytes needed): new data refused (spool-full = %s)",
			sp->path, used, max, need,
			sp->opts.full == PGA_FULL_BLOCK ? "block" : "drop-oldest");
}

int
spool_make_room(struct spool *sp, uint64_t need, struct pga_err *err)
{
	struct spool_list l;
	int rc;

	if (sp->opts.max_bytes == 0 || used_bytes(sp) + need < sp->opts.max_bytes)
		return 0;
	/* the shipper may have removed segments since we last looked */
	rc = spool_usage(sp, &sp->usage_other, err);
	if (rc < 0)
		return rc;
	if (sp->seg != NULL)
		sp->usage_other -= seg_writer_size(sp->seg);
	if (used_bytes(sp) + need < sp->opts.max_bytes)
		return 0;
	if (sp->opts.full == PGA_FULL_BLOCK)
		return refuse_full(sp, need, err);
	rc = spool_list_ready(sp, &l, err);
	if (rc < 0)
		return rc;
	qsort(l.v, l.n, sizeof(*l.v), entry_age_cmp);
	for (size_t i = 0; i < l.n && rc == 0 &&
			   used_bytes(sp) + need >= sp->opts.max_bytes; i++)
		rc = drop_segment(sp, &l.v[i], err);
	spool_list_free(&l);
	if (rc == 0 && used_bytes(sp) + need >= sp->opts.max_bytes)
		rc = refuse_full(sp, need, err);
	return rc;
}

/* ---- closing ---- */

int
spool_close(struct spool *sp, struct pga_err *err)
{
	struct pga_err e2 = {0};
	int rc = 0, rc2;

	if (sp == NULL)
		return 0;
	if (sp->writer) {
		pthread_mutex_lock(&sp->mu);
		rc = spool_seal_locked(sp, err);
		if (sp->chain_dirty && chain_update(sp, &e2) < 0 && rc == 0)
			rc = pga_fail(err, e2.code, "%s", e2.msg);
		spool_flush_counters_locked(sp, &e2);	/* a failure: retried below */
		pthread_mutex_unlock(&sp->mu);
	}
	rc2 = spool_counters_retry(sp, &e2);
	if (rc2 < 0) {
		log_err(&e2);
		if (rc == 0)
			rc = pga_fail(err, rc2, "%s", e2.msg);
	}
	spool_free(sp);
	return rc;
}

void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->seg != NULL)
		seg_writer_free(sp->seg, false);
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	pthread_mutex_destroy(&sp->mu);
	pthread_mutex_destroy(&sp->cmu);
	free(sp);
}
