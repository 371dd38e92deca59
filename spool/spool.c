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
#include <sys/file.h>
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
	o->sign_key_file = cfg->global.sign_key_file;
	o->encrypt_to = &cfg->global.encrypt_to;
}

/* The recipients of encrypt-to, each a public key file (no secret). */
static int
load_recipients(struct spool *sp, const struct pga_list *to, struct pga_err *err)
{
	if (to == NULL)
		return 0;
	if (to->n > SEG_MAX_RECIPIENTS)
		return pga_fail(err, PGA_EINVAL, "encrypt-to names %zu keys: at most %d", to->n,
				SEG_MAX_RECIPIENTS);
	for (size_t i = 0; i < to->n; i++) {
		int rc = pga_xpub_load(&sp->recips[i], to->v[i], err);

		if (rc < 0)
			return pga_err_prefix(err, "encrypt-to");
		sp->nrecips++;
	}
	return 0;
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
	sp->tags_fd = -1;
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

/* ---- counting what a crash may cut off (FORMAT.md, "Counters") ---- */

static bool
already_counted(const struct spool *sp, const struct seg_header *h)
{
	return strcmp(h->collector, sp->collector) == 0 && h->seq <= sp->sealed_seq;
}

/*
 * A segment's counts go to the counters file before its rename into
 * ready/, naming its seq: a crash after the rename cannot lose them, and
 * one before it leaves a part that the next start publishes or salvages
 * without counting it again.  A failed write is kept and retried.
 */
static void
count_seal(struct spool *sp, const struct seg_header *h, uint32_t nblocks, uint64_t rows,
	   uint64_t raw, uint32_t flags, uint64_t torn, const struct spool_tally *tags)
{
	struct spool_counters d = {0};
	struct spool_marks m = {0};
	struct pga_err cerr = {0};

	d.v[SC_SEGMENTS_SEALED] = 1;
	d.v[SC_BLOCKS_WRITTEN] = nblocks;
	d.v[SC_ROWS_WRITTEN] = rows;
	d.v[SC_BYTES_WRITTEN] = raw;
	d.v[SC_SEGMENTS_RECOVERED] = (flags & SEG_FOOTER_RECOVERED) != 0;
	d.v[SC_BYTES_TORN] = torn;
	if (strcmp(h->collector, sp->collector) == 0) {
		m.sealed_seq = sp->sealed_seq = h->seq;
		m.sealed_id = spool_collector_hash(sp->collector);
	}
	if (spool_counters_add_marked(sp, &d, tags, &m, true, &cerr) < 0)
		log_warn("%s (kept, written with the next counters)", cerr.msg);
}

static int
tags_path(const char *part, char *buf, size_t cap, struct pga_err *err)
{
	return pga_path(buf, cap, err, "%s.tags", part);
}

int
spool_tags_note(struct spool *sp, uint32_t block, const struct spool_counter_set *set,
		const struct spool_counters *tag, struct pga_err *err)
{
	char path[PATH_MAX], line[2048];
	size_t n;
	int rc;

	if (sp->tags_fd < 0) {
		rc = tags_path(seg_writer_path(sp->seg), path, sizeof(path), err);
		if (rc < 0)
			return rc;
		sp->tags_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (sp->tags_fd < 0)
			return pga_fail(err, pga_errno_code(errno), "could not open '%s': %m", path);
	}
	n = (size_t)snprintf(line, sizeof(line), "%u", block);
	for (size_t i = 0; i < set->n && i < SPOOL_COUNTERS_MAX && n < sizeof(line); i++)
		if (tag->v[i] != 0)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%" PRIu64,
					      set->names[i], tag->v[i]);
	if (n >= sizeof(line) - 1)
		return pga_fail(err, PGA_EINTERNAL, "the tags of block %u are too long (a bug)",
				block);
	line[n++] = '\n';
	return pga_write_all(sp->tags_fd, line, n, "the open segment's tags", err);
}

void
spool_tags_cancel(struct spool *sp, uint32_t block)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%u -\n", block);

	if (sp->tags_fd < 0 || write(sp->tags_fd, line, (size_t)n) != n)
		log_error("could not cancel the tags of block %u of '%s': its counters may be"
			  " off by its tags", block, seg_writer_path(sp->seg));
}

/* The open segment is sealed or gone: its tags file with it (or kept). */
static void
tags_close(struct spool *sp, const char *part, bool remove)
{
	char path[PATH_MAX];

	if (sp->tags_fd >= 0)
		close(sp->tags_fd);
	sp->tags_fd = -1;
	sp->tags.n = 0;
	if (remove && tags_path(part, path, sizeof(path), NULL) == 0)
		unlink(path);
}

static void
tags_line(char *line, struct spool_tally *out)
{
	char *save = NULL;

	strtok_r(line, " \n", &save);	/* the block number */
	for (char *t = strtok_r(NULL, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		char *eq = strchr(t, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		if (spool_tally_add_one(out, t, strtoull(eq + 1, NULL, 10)) < 0)
			log_warn("a tag '%s' not counted: not a counter name, or too many", t);
	}
}

/*
 * The tags of the blocks a salvaged part kept (block < nblocks).  A line
 * "N -" cancels the line before it (its block failed); a line cut by a
 * crash (no newline) counts nothing.
 */
static void
tags_read(const char *part, uint32_t nblocks, struct spool_tally *out)
{
	char path[PATH_MAX], line[2048], prev[2048] = "";
	FILE *f;

	out->n = 0;
	if (tags_path(part, path, sizeof(path), NULL) < 0 || (f = fopen(path, "re")) == NULL)
		return;
	for (;;) {
		bool eof = fgets(line, sizeof(line), f) == NULL;
		size_t n = eof ? 0 : strlen(line);

		if (!eof && (n == 0 || line[n - 1] != '\n'))
			eof = true;	/* cut off by the crash */
		if (!eof && strstr(line, " -\n") != NULL &&
		    strtoul(line, NULL, 10) == strtoul(prev, NULL, 10)) {
			prev[0] = '\0';
			continue;
		}
		if (prev[0] != '\0' && strtoul(prev, NULL, 10) < nblocks)
			tags_line(prev, out);
		if (eof)
			break;
		strlcpy(prev, line, sizeof(prev));
	}
	fclose(f);
}

/* ---- removals: counted, then done, never twice ---- */

/*
 * Count-then-remove (a segment dropped by spool-full = drop-oldest, a part
 * file with no complete block): the file is renamed into tmp/ under the
 * removal's number (out of every reader's sight), counted with that
 * number, said, then unlinked.  A crash in between is finished at the next
 * start by finish_removal(), which counts it unless the counters already
 * have its number.  Every counted removal is said at least once, and each
 * line carries its number.
 */
static int
remove_counted(struct spool *sp, const char *path, const char *base,
	       const struct spool_counters *d, char *moved, size_t cap, struct pga_err *err)
{
	uint64_t n = sp->removals + 1;
	struct spool_marks m = {.removals = n};
	int rc = pga_path(moved, cap, err, "%s/tmp/%" PRIu64 ".%s.removed", sp->path, n, base);

	if (rc == 0)
		rc = pga_rename_durable(path, moved, err);
	if (rc < 0)
		return rc;
	rc = spool_counters_add_marked(sp, d, NULL, &m, false, err);
	if (rc < 0) {
		if (rename(moved, path) != 0)	/* not counted: not removed either */
			log_error("could not move '%s' back to '%s': %m", moved, path);
		return rc;
	}
	sp->removals = n;
	return 0;
}

static int
unlink_removed(const char *moved, struct pga_err *err)
{
	if (unlink(moved) != 0 && errno != ENOENT)
		return pga_fail(err, PGA_EIO, "could not remove '%s': %m", moved);
	return pga_fsync_parent(moved, err);
}

static void
say_part_removed(const char *part, uint64_t size, const char *why, uint64_t n)
{
	log_warn("removed part file '%s' (%" PRIu64 " bytes): %s [removal %" PRIu64 "]",
		 part, size, why, n);
}

static int
drop_part(struct spool *sp, const char *part, uint64_t size, const char *why,
	  struct pga_err *err)
{
	struct spool_counters d = {0};
	char moved[PATH_MAX], tags[PATH_MAX];
	int rc;

	d.v[SC_BYTES_TORN] = size;
	rc = remove_counted(sp, part, strrchr(part, '/') + 1, &d, moved, sizeof(moved), err);
	if (rc < 0)
		return rc;
	say_part_removed(part, size, why, sp->removals);
	if (tags_path(part, tags, sizeof(tags), NULL) == 0)
		unlink(tags);
	return unlink_removed(moved, err);
}

/* Where the consumers have the segment: note filled, "" when unknown. */
static enum spool_where
where_is(const struct spool *sp, const char *name, char *note, size_t cap)
{
	note[0] = '\0';
	if (sp->opts.where == NULL)
		return SPOOL_NOWHERE;
	return sp->opts.where(sp->opts.where_arg, sp, name, note, cap);
}

static void
say_dropped(const char *name, const struct seg_info *info, uint64_t size, uint64_t n,
	    const char *note)
{
	log_warn("spool full: dropped oldest segment '%s' (%u blocks, %" PRIu64 " rows, %" PRIu64
		 " bytes%s%s) [removal %" PRIu64 "]", name, info->nblocks, info->rows, size,
		 note[0] ? "; " : "", note, n);
}

/* A removal a crash interrupted (tmp/N.BASE.removed): finish it, counted once. */
static int
finish_removal(struct spool *sp, const char *moved, struct pga_err *err)
{
	const char *base = strrchr(moved, '/') + 1;
	char *end, orig[PATH_MAX];
	uint64_t n = strtoull(base, &end, 10);
	bool part = strstr(base, ".part.removed") != NULL;
	struct spool_counters d = {0};
	struct seg_info info = {0};
	struct pga_err perr = {0};
	struct stat st;
	int rc;

	if (stat(moved, &st) != 0 && errno == ENOENT)
		return 0;	/* finished a moment ago (readdir still saw it) */
	if (*end != '.' || stat(moved, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not read removal '%s': %m", moved);
	if (part) {
		rc = pga_path(orig, sizeof(orig), err, "%s/tmp/%.*s", sp->path,
			      (int)(strlen(end + 1) - strlen(".removed")), end + 1);
		d.v[SC_BYTES_TORN] = (uint64_t)st.st_size;
	} else {
		if (seg_peek_file(moved, &info, &perr) != 0)
			memset(&info, 0, sizeof(info));	/* count the bytes at least */
		rc = seg_name_format(orig, sizeof(orig), info.header.collector, info.header.seq,
				     info.header.created_us, &perr);
		if (rc < 0)
			strlcpy(orig, moved, sizeof(orig));
		rc = 0;
		d.v[SC_SEGMENTS_DROPPED] = 1;
		d.v[SC_BLOCKS_DROPPED] = info.nblocks;
		d.v[SC_ROWS_DROPPED] = info.rows;
		d.v[SC_BYTES_DROPPED] = (uint64_t)st.st_size;
	}
	if (rc == 0 && n > sp->removals) {
		struct spool_marks m = {.removals = n};

		rc = spool_counters_add_marked(sp, &d, NULL, &m, false, err);
		if (rc == 0)
			sp->removals = n;
	}
	if (rc < 0)
		return rc;
	if (part)
		say_part_removed(orig, (uint64_t)st.st_size,
				 "left by a crash before any block was complete", n);
	else {
		char note[SPOOL_NOTE_MAX];

		where_is(sp, orig, note, sizeof(note));
		say_dropped(orig, &info, (uint64_t)st.st_size, n, note);
	}
	return unlink_removed(moved, err);
}

/* ---- recovery ---- */

/*
 * A part whose seal wrote its footer but was cut off before the rename:
 * published as it is (counted unless its seal already was).
 */
static int
publish_part(struct spool *sp, const char *part, const struct seg_info *info,
	     struct pga_err *err)
{
	const struct seg_header *h = &info->header;
	struct spool_tally tags;
	uint8_t sha[PGA_SHA256_LEN];
	char path[PATH_MAX];
	uint64_t seq;
	int rc = load_chain(sp, h->collector, &seq, sha, err);

	if (rc == 0 && h->seq <= seq)
		return quarantine_part(sp, part, "sequence number already used by a sealed segment",
				       err);
	if (rc == 0)
		rc = final_path(sp, h, path, sizeof(path), err);
	if (rc < 0)
		return rc;
	if (!already_counted(sp, h)) {
		tags_read(part, info->nblocks, &tags);
		count_seal(sp, h, info->nblocks, info->rows, info->raw_bytes, info->flags,
			   info->torn_bytes, &tags);
	}
	rc = pga_rename_durable(part, path, err);
	if (rc == 0)
		tags_close(sp, part, true);
	if (rc == 0)
		rc = spool_chain_set(sp, h->collector, h->seq, info->file_sha256, err);
	if (rc == 0)
		log_warn("finished sealing segment '%s' after a crash", path);
	return rc;
}

static int
seal_recovered(struct spool *sp, const char *part, struct seg_writer *w, uint64_t torn,
	       struct pga_err *err)
{
	const struct seg_header *h = seg_writer_header(w);
	struct spool_tally tags = {0};
	uint8_t sha[PGA_SHA256_LEN];
	uint64_t rows, raw;
	char path[PATH_MAX];
	int rc;

	/* a part begun signed is sealed signed: it needs the key */
	seg_writer_set_signer(w, sp->signer);
	rc = final_path(sp, h, path, sizeof(path), err);
	if (rc == 0)
		rc = seg_writer_finish(w, SEG_FOOTER_RECOVERED, torn, sha, err);
	if (rc < 0)
		return rc;
	seg_writer_totals(w, &rows, &raw);
	if (!already_counted(sp, h))
		tags_read(part, seg_writer_nblocks(w), &tags);
	else
		rows = raw = 0;	/* not expected: a counted seal had its footer */
	count_seal(sp, h, already_counted(sp, h) ? 0 : seg_writer_nblocks(w), rows, raw,
		   SEG_FOOTER_RECOVERED, torn, &tags);
	rc = seg_writer_publish(w, path, err);
	if (rc == 0)
		tags_close(sp, part, true);
	if (rc == 0)
		rc = spool_chain_set(sp, h->collector, h->seq, sha, err);
	if (rc < 0)
		return rc;
	log_warn("recovered segment '%s' after a crash: %u blocks kept, %" PRIu64
		 " bytes of torn tail dropped", path, seg_writer_nblocks(w), torn);
	return 0;
}

static int
recover_part(struct spool *sp, const char *part, struct pga_err *err)
{
	struct seg_writer *w = NULL;
	struct pga_err rerr = {0};
	struct seg_info info;
	uint8_t sha[PGA_SHA256_LEN];
	uint64_t torn = 0, seq;
	struct stat st;
	int rc;

	if (stat(part, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not stat '%s': %m", part);
	if (seg_verify_file(part, &info, &rerr) == 0)
		return publish_part(sp, part, &info, err);
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
		rc = seal_recovered(sp, part, w, torn, err);
	seg_writer_free(w, false);
	return rc;
}

/* A .tags file whose part is gone (sealed or removed before a crash). */
static void
tags_orphan(const char *path)
{
	char part[PATH_MAX];
	size_t n = strlen(path) - strlen(".tags");

	if (n >= sizeof(part))
		return;
	memcpy(part, path, n);
	part[n] = '\0';
	if (access(part, F_OK) != 0 && errno == ENOENT)
		unlink(path);
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
		if (n > 8 && strcmp(de->d_name + n - 8, ".removed") == 0)
			rc = finish_removal(sp, path, err);
		else if (n > 5 && strcmp(de->d_name + n - 5, ".part") == 0)
			rc = recover_part(sp, path, err);
		else if (n > 4 && strcmp(de->d_name + n - 4, ".tmp") == 0 && unlink(path) != 0)
			rc = pga_fail(err, PGA_EIO, "could not remove '%s': %m", path);
		else if (n > 5 && strcmp(de->d_name + n - 5, ".tags") == 0)
			tags_orphan(path);
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

/* What the counters already include (our seals, removals): see count_seal(). */
static int
read_markers(struct spool *sp, struct pga_err *err)
{
	struct spool_marks c;
	int rc = spool_marks_read(sp, &c, err);

	if (rc < 0)
		return rc;
	sp->sealed_seq = c.sealed_id == spool_collector_hash(sp->collector) ? c.sealed_seq : 0;
	sp->removals = c.removals;
	return 0;
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
	sp->opts.sign_key_file = NULL;	/* the path is the caller's; the key is ours */
	rc = 0;
	if (opts->sign_key_file != NULL && opts->sign_key_file[0] != '\0')
		rc = pga_signkey_load(&sp->signer, opts->sign_key_file, err);
	sp->opts.encrypt_to = NULL;	/* likewise */
	if (rc == 0)
		rc = load_recipients(sp, opts->encrypt_to, err);
	if (rc == 0)
		rc = make_layout(sp, err);
	if (rc == 0)
		rc = take_lock(sp, err);
	if (rc == 0 && spool_reserve_ensure(sp, &rerr) < 0)
		pga_log_err(PGA_LOG_WARN, &rerr);	/* a full disk: recovery may still work */
	if (rc == 0)
		rc = read_markers(sp, err);
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
	if (sp->signer != NULL)
		h.flags |= SEG_FLAG_SIGNED;
	if (rc == 0)
		rc = seg_writer_create_to(&sp->seg, part, &h,
					  (const struct pga_xpub *const *)sp->recips, sp->nrecips,
					  err);
	if (rc == 0)
		seg_writer_set_signer(sp->seg, sp->signer);
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
		    !seg_writer_retries_spent(sp->seg) &&
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
	char path[PATH_MAX], part[PATH_MAX];
	uint64_t rows, raw;
	int rc;

	if (sp->seg == NULL)
		return 0;
	strlcpy(part, seg_writer_path(sp->seg), sizeof(part));
	if (seg_writer_nblocks(sp->seg) == 0) {
		seg_writer_free(sp->seg, true);
		sp->seg = NULL;
		tags_close(sp, part, true);
		return 0;
	}
	h = seg_writer_header(sp->seg);
	rc = final_path(sp, h, path, sizeof(path), err);
	if (rc == 0)
		rc = seg_writer_finish(sp->seg, 0, 0, sha, err);
	if (rc == 0) {
		/* counted before the rename: see count_seal() */
		seg_writer_totals(sp->seg, &rows, &raw);
		count_seal(sp, h, seg_writer_nblocks(sp->seg), rows, raw, 0, 0, &sp->tags);
		sp->tags.n = 0;
		rc = seg_writer_publish(sp->seg, path, err);
	}
	if (rc < 0 && !renamed_anyway(sp->seg, path)) {
		/* the part file keeps its complete blocks (and its tags); the
		 * next start publishes or salvages it */
		sp->broken = true;
		seg_writer_free(sp->seg, false);
		sp->seg = NULL;
		tags_close(sp, part, false);
		return rc;
	}
	if (rc < 0)
		sp->broken = true;	/* sealed, but its directory is not durable */
	tags_close(sp, part, true);
	sp->chain_seq = h->seq;
	memcpy(sp->chain_sha, sha, PGA_SHA256_LEN);
	sp->usage_other += seg_writer_size(sp->seg);
	log_debug("sealed segment '%s' (%u blocks)", path, seg_writer_nblocks(sp->seg));
	seg_writer_free(sp->seg, false);
	sp->seg = NULL;
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

/* Bytes that left the spool (or were counted twice): never below zero. */
static void
usage_less(struct spool *sp, uint64_t bytes)
{
	sp->usage_other -= bytes < sp->usage_other ? bytes : sp->usage_other;
}

static int
entry_age_cmp(const void *a, const void *b)
{
	const struct spool_entry *x = a, *y = b;

	if (x->created_us != y->created_us)
		return x->created_us < y->created_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The drop's exclusive lock on a ready segment (*fd), or *fd = -1 when it is
 * not to be dropped: held by a shipper (spool_hold: it is on its way out, and
 * dropping it would count as lost a segment that is delivered), or gone
 * already (shipped since the listing: its bytes are no longer used).
 */
static int
lock_for_drop(struct spool *sp, const struct spool_entry *e, const char *path, int *fd,
	      struct pga_err *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT) {
		usage_less(sp, e->size);
		return 0;
	}
	if (*fd < 0)
		return pga_fail(err, PGA_EIO, "could not open '%s': %m", path);
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK && errno != EINTR) {
		int rc = pga_fail(err, PGA_EIO, "could not lock '%s': %m", path);

		close(*fd);
		*fd = -1;
		return rc;
	}
	log_debug("spool full: '%s' is being shipped: the next oldest is dropped instead", e->name);
	close(*fd);
	*fd = -1;
	return 0;
}

static int
drop_segment(struct spool *sp, const struct spool_entry *e, struct pga_err *err)
{
	struct spool_counters d = {0};
	struct seg_info info;
	struct pga_err perr = {0};
	char path[PATH_MAX], moved[PATH_MAX], note[SPOOL_NOTE_MAX];
	int fd, rc = spool_ready_path(sp, e->name, path, sizeof(path), err);

	if (rc < 0)
		return rc;
	rc = lock_for_drop(sp, e, path, &fd, err);
	if (rc != 0 || fd < 0)
		return rc < 0 ? rc : 0;
	where_is(sp, e->name, note, sizeof(note));
	if (seg_peek_file(path, &info, &perr) != 0)
		memset(&info, 0, sizeof(info));	/* count the bytes at least */
	d.v[SC_SEGMENTS_DROPPED] = 1;
	d.v[SC_BLOCKS_DROPPED] = info.nblocks;
	d.v[SC_ROWS_DROPPED] = info.rows;
	d.v[SC_BYTES_DROPPED] = e->size;
	rc = remove_counted(sp, path, strrchr(e->name, '/') + 1, &d, moved, sizeof(moved), err);
	close(fd);	/* moved out of every reader's sight: nobody can hold it now */
	if (rc < 0)
		return rc;
	say_dropped(e->name, &info, e->size, sp->removals, note);
	rc = unlink_removed(moved, err);
	if (rc == 0)
		usage_less(sp, e->size);
	return rc;
}

/*
 * A segment every consumer has, removed before its retention ends: nothing
 * is lost, so it is not counted as dropped (and needs no removal number: a
 * crash after the unlink leaves nothing to finish).  *gone says whether it
 * left the spool.
 */
static int
release_delivered(struct spool *sp, const struct spool_entry *e, bool *gone,
		  struct pga_err *err)
{
	char path[PATH_MAX], note[SPOOL_NOTE_MAX];
	int fd, rc = spool_ready_path(sp, e->name, path, sizeof(path), err);

	*gone = false;
	/* asked twice: a cheap look at every segment, the lock for those it picks */
	if (rc < 0 || where_is(sp, e->name, note, sizeof(note)) != SPOOL_EVERYWHERE)
		return rc;
	rc = lock_for_drop(sp, e, path, &fd, err);
	if (rc < 0)
		return rc;
	if (fd < 0) {
		/* shipped meanwhile (lock_for_drop counted it off), or held */
		*gone = access(path, F_OK) != 0;
		return 0;
	}
	if (where_is(sp, e->name, note, sizeof(note)) != SPOOL_EVERYWHERE) {
		close(fd);
		return 0;
	}
	if (unlink(path) != 0 && errno != ENOENT)
		rc = pga_fail(err, PGA_EIO, "could not remove '%s': %m", path);
	close(fd);
	if (rc == 0)
		rc = pga_fsync_parent(path, err);
	if (rc < 0)
		return rc;
	*gone = true;
	usage_less(sp, e->size);
	log_info("spool full: removed segment '%s' (%" PRIu64 " bytes; %s): every consumer has it, "
		 "not dropped", e->name, e->size, note);
	return 0;
}

/*
 * Drop-oldest: first the segments every consumer has (oldest first), then
 * the oldest of the rest, until need fits.  l is sorted oldest first; the
 * segments released are taken out of it.
 */
static int
drop_oldest(struct spool *sp, struct spool_list *l, uint64_t need, struct pga_err *err)
{
	size_t keep = 0;
	int rc = 0;

	for (size_t i = 0; i < l->n; i++) {
		bool gone = false;

		if (rc == 0 && sp->opts.where != NULL &&
		    used_bytes(sp) + need >= sp->opts.max_bytes)
			rc = release_delivered(sp, &l->v[i], &gone, err);
		if (!gone)
			l->v[keep++] = l->v[i];
	}
	l->n = keep;
	for (size_t i = 0; i < l->n && rc == 0 &&
			   used_bytes(sp) + need >= sp->opts.max_bytes; i++)
		rc = drop_segment(sp, &l->v[i], err);
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
	/* what the scan saw of the open segment: held blocks are not in the file yet */
	if (sp->seg != NULL)
		usage_less(sp, seg_writer_written(sp->seg));
	if (used_bytes(sp) + need < sp->opts.max_bytes)
		return 0;
	if (sp->opts.full == PGA_FULL_BLOCK)
		return refuse_full(sp, need, err);
	rc = spool_list_ready(sp, &l, err);
	if (rc < 0)
		return rc;
	qsort(l.v, l.n, sizeof(*l.v), entry_age_cmp);
	rc = drop_oldest(sp, &l, need, err);
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
	pga_signkey_free(sp->signer);
	for (size_t i = 0; i < sp->nrecips; i++)
		pga_xpub_free(sp->recips[i]);
	if (sp->tags_fd >= 0)
		close(sp->tags_fd);
	if (sp->lock_fd >= 0)
		close(sp->lock_fd);
	pthread_mutex_destroy(&sp->mu);
	pthread_mutex_destroy(&sp->cmu);
	free(sp);
}
