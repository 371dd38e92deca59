/* Block producers: direct streams into the segment, or spilled and committed. */
#define _GNU_SOURCE
#include "spool/spool_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/fsutil.h"
#include "common/log.h"

#define SPILL_MEM_MAX (256 * 1024)
#define COLS_BUF (SEG_MAX_COLS * (64 + SEG_TYPE_MAX + 1))	/* names, then types */
/* Small zstd windows keep a collector's many parallel streams within a few
 * MiB in total; their blocks are mostly far smaller than the window anyway. */
#define SPILL_WINDOW_LOG 17

struct spool_stream {
	struct spool *sp;
	unsigned flags;
	struct seg_encoder *enc;
	bool active;
	bool locked;			/* direct: holding sp->mu */
	enum { KEPT, REFUSED, FAILED } lost;	/* the spool could not take the block */
	char why[PGA_ERR_MSG_MAX];
	struct seg_block_meta meta;
	const char **cols;
	struct seg_col_desc *desc;
	char *colbuf;
	uint8_t *mem;			/* spill: first bytes in memory */
	size_t mem_len;
	int spill_fd;			/* spill: the rest in an unlinked file */
	uint64_t spill_len;
	char spill_name[PATH_MAX];
};

int
spool_stream_new(struct spool *sp, unsigned flags, struct spool_stream **out,
		 struct pga_err *err)
{
	struct spool_stream *s = calloc(1, sizeof(*s));
	bool direct = flags & SPOOL_STREAM_DIRECT;
	int rc;

	*out = NULL;
	if (!sp->writer)
		return pga_fail(err, PGA_EINTERNAL, "spool opened read-only");
	if (s == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	s->sp = sp;
	s->flags = flags;
	s->spill_fd = -1;
	s->cols = calloc(SEG_MAX_COLS, sizeof(*s->cols));
	s->desc = calloc(SEG_MAX_COLS, sizeof(*s->desc));
	s->colbuf = malloc(COLS_BUF);
	if (!direct)
		s->mem = malloc(SPILL_MEM_MAX);
	if (s->cols == NULL || s->desc == NULL || s->colbuf == NULL || (!direct && s->mem == NULL)) {
		spool_stream_free(s);
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	rc = seg_encoder_new(&s->enc, sp->opts.level, direct ? 0 : SPILL_WINDOW_LOG, err);
	if (rc == 0 && (flags & SPOOL_STREAM_THREADED))
		seg_encoder_set_workers(s->enc, 1);
	if (rc < 0) {
		spool_stream_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int
copy_meta(struct spool_stream *s, const struct seg_block_meta *m,
	  struct pga_err *err)
{
	size_t used = 0;

	if (!seg_metric_valid(m->metric))
		return pga_fail(err, PGA_EINVAL,
				"invalid metric name '%s' (use a-z, 0-9 and _, starting with a letter)",
				m->metric);
	if (m->ncols == 0 || m->ncols > SEG_MAX_COLS)
		return pga_fail(err, PGA_EINVAL, "a block needs 1 to %d columns", SEG_MAX_COLS);
	s->meta = *m;
	for (uint16_t i = 0; i < m->ncols; i++) {
		size_t n = strlen(m->cols[i]) + 1;

		if (!seg_column_valid(m->cols[i]))
			return pga_fail(err, PGA_EINVAL, "invalid column name '%s'", m->cols[i]);
		memcpy(s->colbuf + used, m->cols[i], n);
		s->cols[i] = s->colbuf + used;
		used += n;
	}
	s->meta.cols = s->cols;
	if (m->desc == NULL)
		return 0;
	if (seg_block_desc_check(m, "block", err) < 0)
		return pga_fail(err, PGA_EINVAL, "%s", err->msg);
	for (uint16_t i = 0; i < m->ncols; i++) {
		size_t n = strlen(m->desc[i].type) + 1;

		memcpy(s->colbuf + used, m->desc[i].type, n);
		s->desc[i].type = s->colbuf + used;
		s->desc[i].role = m->desc[i].role;
		used += n;
	}
	s->meta.desc = s->desc;
	return 0;
}

/* The block will not reach the spool: remember why, for abort to count. */
static void
lose(struct spool_stream *s, int how, const struct pga_err *err)
{
	if (s->lost == KEPT) {
		s->lost = how;
		strlcpy(s->why, err->msg, sizeof(s->why));
	}
}

/* A block that failed is counted at once (sp->mu held), as a refused one is. */
static void
count_failed(struct spool *sp)
{
	struct pga_err cerr = {0};

	sp->pending.v[SC_BLOCKS_FAILED]++;
	if (spool_flush_counters_locked(sp, &cerr) < 0)
		log_warn("%s (kept, written with the next counters)", cerr.msg);
}

/* One line per block the spool could not take: counted, and named. */
static void
log_lost(const struct spool_stream *s, int how, const char *why)
{
	log_warn("block '%s'%s%s%s%s%s%s %s: %s", s->meta.metric,
		 s->meta.target[0] ? " of target '" : "", s->meta.target,
		 s->meta.target[0] ? "'" : "", s->meta.database[0] ? " database '" : "",
		 s->meta.database, s->meta.database[0] ? "'" : "",
		 how == REFUSED ? "refused" : "not written", why);
}

static int
direct_sink(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	struct spool_stream *s = ctx;
	int rc = spool_make_room(s->sp, len, err);

	if (rc == 0)
		rc = seg_writer_data(s->sp->seg, buf, len, err);
	if (rc < 0)
		lose(s, rc == PGA_EFULL ? REFUSED : FAILED, err);
	return rc;
}

static int
spill_sink(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	struct spool_stream *s = ctx;

	if (s->spill_fd < 0 && s->mem_len + len <= SPILL_MEM_MAX) {
		memcpy(s->mem + s->mem_len, buf, len);
		s->mem_len += len;
		return 0;
	}
	if (s->spill_fd < 0) {
		char dir[PATH_MAX];
		int rc = pga_path(dir, sizeof(dir), err, "%s/tmp", s->sp->path);

		if (rc < 0)
			return rc;
		strlcpy(s->spill_name, dir, sizeof(s->spill_name));
		s->spill_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (s->spill_fd < 0) {
			pga_fail(err, pga_errno_code(errno),
				 "could not create a spill file in '%s': %m", dir);
			lose(s, FAILED, err);
			return err->code;
		}
	}
	s->spill_len += len;
	if (pga_write_all(s->spill_fd, buf, len, s->spill_name, err) < 0) {
		lose(s, FAILED, err);
		return err->code;
	}
	return 0;
}

int
spool_stream_begin(struct spool_stream *s, const struct seg_block_meta *m,
		   struct pga_err *err)
{
	struct spool *sp = s->sp;
	int rc;

	if (s->active)
		return pga_fail(err, PGA_EINTERNAL, "block already open on this stream");
	rc = copy_meta(s, m, err);
	if (rc < 0)
		return rc;
	s->lost = KEPT;
	if (!(s->flags & SPOOL_STREAM_DIRECT)) {
		s->mem_len = 0;
		s->spill_len = 0;
		seg_encoder_begin(s->enc, spill_sink, s);
		s->active = true;
		return 0;
	}
	pthread_mutex_lock(&sp->mu);
	rc = spool_make_room(sp, 0, err);
	if (rc == 0)
		rc = spool_ensure_segment(sp, err);
	if (rc == 0)
		rc = seg_writer_block_begin(sp->seg, &s->meta, err);
	if (rc < 0) {
		if (rc != PGA_EFULL)
			count_failed(sp);
		log_lost(s, rc == PGA_EFULL ? REFUSED : FAILED, err->msg);
		pthread_mutex_unlock(&sp->mu);
		return rc;
	}
	s->locked = true;
	s->active = true;
	seg_encoder_begin(s->enc, direct_sink, s);
	return 0;
}

int
spool_stream_write(struct spool_stream *s, const void *buf, size_t len,
		   struct pga_err *err)
{
	if (!s->active)
		return pga_fail(err, PGA_EINTERNAL, "no block open on this stream");
	return seg_encoder_write(s->enc, buf, len, err);
}

bool
spool_stream_in_quotes(const struct spool_stream *s)
{
	return seg_encoder_in_quotes(s->enc);
}

/* Append the spilled frame to the open segment (sp->mu held). */
static int
copy_spill(struct spool_stream *s, struct pga_err *err)
{
	uint8_t buf[65536];
	uint64_t done = 0;
	int rc = seg_writer_data(s->sp->seg, s->mem, s->mem_len, err);

	while (rc == 0 && done < s->spill_len) {
		ssize_t n = pread(s->spill_fd, buf, sizeof(buf), (off_t)done);

		if (n <= 0)
			return pga_fail(err, PGA_EIO, "could not read spill file: %m");
		rc = seg_writer_data(s->sp->seg, buf, (size_t)n, err);
		done += (uint64_t)n;
	}
	return rc;
}

/*
 * End the block open in the segment (sp->mu held), its tag noted first: a
 * crash after the trailer keeps both, one before it neither.
 */
static int
end_block(struct spool *sp, uint64_t rows, uint64_t raw, const struct spool_counter_set *set,
	  const struct spool_counters *tag, struct pga_err *err)
{
	uint32_t block = seg_writer_nblocks(sp->seg);
	struct pga_err terr = {0};
	int rc = tag != NULL ? spool_tags_note(sp, block, set, tag, err) : 0;

	if (rc == 0)
		rc = seg_writer_block_end(sp->seg, rows, raw, err);
	if (rc < 0 && tag != NULL)
		spool_tags_cancel(sp, block);
	if (rc == 0 && tag != NULL && spool_tally_add_set(&sp->tags, set, tag, &terr) < 0)
		log_error("%s: the tags of block %u counted at the next start only", terr.msg,
			  block);
	return rc;
}

static int
commit_spilled(struct spool_stream *s, uint64_t rows, uint64_t raw,
	       const struct spool_counter_set *set, const struct spool_counters *tag,
	       struct pga_err *err)
{
	struct spool *sp = s->sp;
	int rc;

	pthread_mutex_lock(&sp->mu);
	rc = spool_make_room(sp, s->mem_len + s->spill_len + 1024, err);
	if (rc == 0)
		rc = spool_ensure_segment(sp, err);
	if (rc == 0)
		rc = seg_writer_block_begin(sp->seg, &s->meta, err);
	if (rc == 0)
		rc = copy_spill(s, err);
	if (rc == 0)
		rc = end_block(sp, rows, raw, set, tag, err);
	if (rc < 0 && sp->seg != NULL)
		seg_writer_block_abort(sp->seg, NULL);
	if (rc < 0 && rc != PGA_EFULL)
		count_failed(sp);
	if (rc < 0)
		log_lost(s, rc == PGA_EFULL ? REFUSED : FAILED, err->msg);
	pthread_mutex_unlock(&sp->mu);
	return rc;
}

static void
reset_spill(struct spool_stream *s)
{
	if (s->spill_fd >= 0)
		close(s->spill_fd);
	s->spill_fd = -1;
	s->spill_len = 0;
	s->mem_len = 0;
}

int
spool_stream_commit(struct spool_stream *s, uint64_t *rows, struct pga_err *err)
{
	return spool_stream_commit_tagged(s, rows, NULL, NULL, err);
}

int
spool_stream_commit_tagged(struct spool_stream *s, uint64_t *rows,
			   const struct spool_counter_set *set, const struct spool_counters *tag,
			   struct pga_err *err)
{
	struct spool *sp = s->sp;
	uint64_t r = 0, raw = 0;
	int rc;

	if (!s->active)
		return pga_fail(err, PGA_EINTERNAL, "no block open on this stream");
	rc = seg_encoder_finish(s->enc, &r, &raw, err);
	if (rc < 0) {
		spool_stream_abort(s);
		return rc;
	}
	if (!(s->flags & SPOOL_STREAM_DIRECT)) {
		rc = commit_spilled(s, r, raw, set, tag, err);
		reset_spill(s);
		s->active = false;
	} else {
		rc = end_block(sp, r, raw, set, tag, err);
		if (rc < 0) {
			lose(s, FAILED, err);
			spool_stream_abort(s);
			return rc;
		}
		s->active = false;
		s->locked = false;
		pthread_mutex_unlock(&sp->mu);
	}
	if (rc == 0 && rows != NULL)
		*rows = r;
	return rc;
}

void
spool_stream_abort(struct spool_stream *s)
{
	struct pga_err err = {0};

	if (!s->active)
		return;
	if (!s->locked && s->lost != KEPT)
		pthread_mutex_lock(&s->sp->mu);
	if (s->lost == FAILED)	/* a refusal was counted when it happened */
		count_failed(s->sp);
	if (s->lost != KEPT)
		log_lost(s, s->lost, s->why);
	if (s->locked) {
		if (s->sp->seg != NULL && seg_writer_block_abort(s->sp->seg, &err) < 0)
			log_err(&err);
	}
	if (s->locked || s->lost != KEPT)
		pthread_mutex_unlock(&s->sp->mu);
	s->locked = false;
	s->lost = KEPT;
	reset_spill(s);
	s->active = false;
}

void
spool_stream_free(struct spool_stream *s)
{
	if (s == NULL)
		return;
	spool_stream_abort(s);
	seg_encoder_free(s->enc);
	free(s->mem);
	free(s->colbuf);
	free(s->cols);
	free(s->desc);
	free(s);
}
