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
/*
 * SPOOL_STREAM_BATCH: finished blocks wait in the stream (their frames one
 * after another in mem, their headers in hdrs) and go to the segment
 * together, one lock meeting and one write(2) for all of them.  A block
 * begins with the batch flushed first when the batch is this full: it
 * keeps room in mem for the next block (a bigger one spills to a file and
 * is flushed at its commit, with the batch before it).
 */
#define BATCH_BLOCKS 64
#define BATCH_ROOM (64 * 1024)		/* mem left for the next block */
#define BATCH_HDRS (64 * 1024)		/* encoded headers held */
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
	/* spill: finished blocks not yet in the segment (one, but for BATCH) */
	struct held *held;
	size_t nheld, maxheld;
	uint8_t *hdrs;			/* their headers, encoded (seg_block_encode) */
	size_t hdrs_len, hdrs_cap;
	size_t frame_off, hdr_off;	/* the open block's, in mem and hdrs */
};

/* A finished block waiting in the stream: where its bytes are, for the log. */
struct held {
	size_t hdr_off, hdr_len, frame_off, frame_len;
	bool spilled;			/* its frame goes on in spill_fd (the last one) */
	uint64_t rows, raw;
	char metric[SEG_METRIC_MAX + 1];
	char target[65];
	char database[256];
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
	if (direct && (flags & SPOOL_STREAM_BATCH)) {
		spool_stream_free(s);
		return pga_fail(err, PGA_EINTERNAL, "a direct stream holds no batch");
	}
	s->maxheld = (flags & SPOOL_STREAM_BATCH) ? BATCH_BLOCKS : 1;
	if (!direct) {
		s->mem = malloc(SPILL_MEM_MAX);
		s->held = calloc(s->maxheld, sizeof(*s->held));
	}
	if (s->cols == NULL || s->desc == NULL || s->colbuf == NULL ||
	    (!direct && (s->mem == NULL || s->held == NULL))) {
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
	/* a spilled block's header is encoded (and its columns checked) at its
	 * begin, by seg_block_encode: only the names for the log are kept */
	if (!(s->flags & SPOOL_STREAM_DIRECT)) {
		s->meta.cols = NULL;
		s->meta.desc = NULL;
		return 0;
	}
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

static int flush_held(struct spool_stream *s, const struct spool_counter_set *set,
		      const struct spool_counters *tag, struct pga_err *err);

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
log_lost_as(const char *metric, const char *target, const char *database, int how,
	    const char *why)
{
	log_warn("block '%s'%s%s%s%s%s%s %s: %s", metric, target[0] ? " of target '" : "",
		 target, target[0] ? "'" : "", database[0] ? " database '" : "", database,
		 database[0] ? "'" : "", how == REFUSED ? "refused" : "not written", why);
}

static void
log_lost(const struct spool_stream *s, int how, const char *why)
{
	log_lost_as(s->meta.metric, s->meta.target, s->meta.database, how, why);
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
		if (s->nheld > 0 && (s->nheld == s->maxheld || s->hdrs_len > BATCH_HDRS ||
				     s->mem_len > SPILL_MEM_MAX - BATCH_ROOM)) {
			rc = flush_held(s, NULL, NULL, err);
			if (rc < 0)
				return rc;
		}
		/* checked and encoded here, outside sp->mu: the block keeps its header */
		s->hdr_off = s->hdrs_len;
		rc = seg_block_encode(m, &s->hdrs, &s->hdrs_len, &s->hdrs_cap, sp->path, err);
		if (rc < 0)
			return rc;
		s->frame_off = s->mem_len;
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

/*
 * End the block open in the segment (sp->mu held), its tag noted first: a
 * crash after the trailer keeps both, one before it neither.  (Direct
 * streams; held blocks: append_held.)
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

/* The part of a held block's frame that spilled to the file (sp->mu held). */
static int
copy_spill(struct spool_stream *s, struct pga_err *err)
{
	uint8_t buf[65536];
	uint64_t done = 0;
	int rc = 0;

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
 * One held block into the held segment (sp->mu held), its tag (if any)
 * noted before its trailer: *noted gets its block number when it was.
 */
static int
append_held(struct spool_stream *s, const struct held *h, const struct spool_counter_set *set,
	    const struct spool_counters *tag, long *noted, struct pga_err *err)
{
	struct seg_writer *w = s->sp->seg;
	int rc = seg_writer_block_begin_encoded(w, s->hdrs + h->hdr_off, h->hdr_len, err);

	if (rc == 0)
		rc = seg_writer_data(w, s->mem + h->frame_off, h->frame_len, err);
	if (rc == 0 && h->spilled)
		rc = copy_spill(s, err);
	if (rc == 0 && tag != NULL) {
		*noted = seg_writer_nblocks(w);
		rc = spool_tags_note(s->sp, (uint32_t)*noted, set, tag, err);
		if (rc < 0)
			*noted = -1;
	}
	if (rc == 0)
		rc = seg_writer_block_end(w, h->rows, h->raw, err);
	return rc;
}

/*
 * Blocks [from, nheld) did not reach the spool: each counted (refused
 * from refused_from on, the first of them counted already by the quota)
 * and named, with why.
 */
static void
count_lost(struct spool_stream *s, size_t from, size_t refused_from, const char *why)
{
	struct spool *sp = s->sp;
	struct pga_err cerr = {0};

	for (size_t j = from; j < s->nheld; j++) {
		bool refused = j >= refused_from;

		if (j != refused_from)
			sp->pending.v[refused ? SC_BLOCKS_REFUSED : SC_BLOCKS_FAILED]++;
		log_lost_as(s->held[j].metric, s->held[j].target, s->held[j].database,
			    refused ? REFUSED : FAILED, why);
	}
	if (from < s->nheld && spool_flush_counters_locked(sp, &cerr) < 0)
		log_warn("%s (kept, written with the next counters)", cerr.msg);
}

static void
reset_spill(struct spool_stream *s)
{
	if (s->spill_fd >= 0)
		close(s->spill_fd);
	s->spill_fd = -1;
	s->spill_len = 0;
}

/*
 * The held blocks into the segment, in order, in one meeting at sp->mu and
 * one hold of the writer (seg_writer_hold: one write for all).  tag goes
 * with the last one.  A block the quota refuses is refused with every one
 * after it; a block the writer fails on cuts off the whole hold with it.
 * Every block that did not reach the spool is counted and logged; the
 * first failure is returned, and 0 means all of them are in the segment.
 */
static int
flush_held(struct spool_stream *s, const struct spool_counter_set *set,
	   const struct spool_counters *tag, struct pga_err *err)
{
	struct spool *sp = s->sp;
	uint64_t hseq = 0;	/* the segment holding blocks [first, i), by its seq */
	size_t i, first = 0, lost = s->nheld, refused = SIZE_MAX;
	struct pga_err rerr = {0};
	uint32_t dropped;
	long noted = -1;
	bool in_writer = false;
	int rc = 0;

	pthread_mutex_lock(&sp->mu);
	for (i = 0; i < s->nheld && rc == 0; i++) {
		const struct held *h = &s->held[i];
		bool last = i + 1 == s->nheld;

		rc = spool_make_room(sp, h->hdr_len + h->frame_len + (h->spilled ? s->spill_len : 0) +
					 1024, err);
		if (rc == 0)
			rc = spool_ensure_segment(sp, err);
		if (rc < 0)
			break;
		if (seg_writer_header(sp->seg)->seq != hseq) {
			/* the first, or the last one was sealed with its blocks */
			in_writer = true;
			rc = seg_writer_hold(sp->seg, err);
			if (rc < 0)
				break;
			hseq = seg_writer_header(sp->seg)->seq;
			first = i;
		}
		in_writer = true;
		rc = append_held(s, h, last ? set : NULL, last ? tag : NULL, &noted, err);
		if (rc == 0)
			in_writer = false;
	}
	if (rc < 0) {
		lost = i;
		if (rc == PGA_EFULL)
			refused = i;	/* counted by the quota; the ones after it with it */
	}
	if (hseq != 0 && sp->seg != NULL && seg_writer_header(sp->seg)->seq == hseq) {
		int rc2 = seg_writer_release(sp->seg, rc == 0 || !in_writer, &dropped, &rerr);

		if (dropped > 0 || (rc < 0 && in_writer))
			lost = first;
		if (rc2 < 0 && rc == 0)
			rc = pga_fail(err, rerr.code, "%s", rerr.msg);
	}
	/* the tagged block is the last: kept exactly when all of them are */
	if (noted >= 0 && rc < 0)
		spool_tags_cancel(sp, (uint32_t)noted);
	else if (noted >= 0 && spool_tally_add_set(&sp->tags, set, tag, &rerr) < 0)
		log_error("%s: the tags of block %ld counted at the next start only", rerr.msg, noted);
	count_lost(s, lost, refused, err->msg);
	pthread_mutex_unlock(&sp->mu);
	s->nheld = 0;
	s->mem_len = s->hdrs_len = 0;
	s->frame_off = s->hdr_off = 0;
	reset_spill(s);
	return rc;
}

/* The block just finished joins the held ones; flushed at once unless batched. */
static int
commit_spilled(struct spool_stream *s, uint64_t rows, uint64_t raw,
	       const struct spool_counter_set *set, const struct spool_counters *tag,
	       struct pga_err *err)
{
	struct held *h = &s->held[s->nheld++];

	h->hdr_off = s->hdr_off;
	h->hdr_len = s->hdrs_len - s->hdr_off;
	h->frame_off = s->frame_off;
	h->frame_len = s->mem_len - s->frame_off;
	h->spilled = s->spill_fd >= 0;
	h->rows = rows;
	h->raw = raw;
	strlcpy(h->metric, s->meta.metric, sizeof(h->metric));
	strlcpy(h->target, s->meta.target, sizeof(h->target));
	strlcpy(h->database, s->meta.database, sizeof(h->database));
	s->active = false;
	if (!(s->flags & SPOOL_STREAM_BATCH) || tag != NULL || h->spilled ||
	    s->nheld == s->maxheld)
		return flush_held(s, set, tag, err);
	return 0;
}

int
spool_stream_flush(struct spool_stream *s, struct pga_err *err)
{
	if (s->active)
		return pga_fail(err, PGA_EINTERNAL, "a block is open on this stream");
	return s->nheld > 0 ? flush_held(s, NULL, NULL, err) : 0;
}

int
spool_stream_sync(struct spool_stream *s, struct pga_err *err)
{
	struct spool *sp = s->sp;
	int rc = spool_stream_flush(s, err);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&sp->mu);
	if (sp->seg != NULL)
		rc = seg_writer_sync(sp->seg, err);
	if (rc == 0 && sp->tags_fd >= 0 && fdatasync(sp->tags_fd) != 0)
		rc = pga_fail(err, PGA_EIO, "could not sync the open segment's tags: %m");
	pthread_mutex_unlock(&sp->mu);
	return rc;
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
	s->mem_len = s->frame_off;	/* the blocks held before it stay */
	s->hdrs_len = s->hdr_off;
	s->active = false;
}

void
spool_stream_free(struct spool_stream *s)
{
	struct pga_err err = {0};

	if (s == NULL)
		return;
	spool_stream_abort(s);
	if (s->nheld > 0)	/* what fails is counted and named there */
		flush_held(s, NULL, NULL, &err);
	seg_encoder_free(s->enc);
	free(s->mem);
	free(s->held);
	free(s->hdrs);
	free(s->colbuf);
	free(s->cols);
	free(s->desc);
	free(s);
}
