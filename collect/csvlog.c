/* Incremental csvlog ingestion: find complete records, parse with libcsv. */
#define _GNU_SOURCE
#include "collect/csvlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <csv.h>

#include "common/fsutil.h"
#include "common/grow.h"
#include "common/kvfile.h"
#include "common/log.h"

#define CHUNK 65536
#define MIN_FIELDS 23		/* PostgreSQL 12's csvlog */
#define FILES_MAX 4096

struct cfile {
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
	uint64_t size;
	int64_t mtime;
};

struct cfiles {
	struct cfile *v;
	size_t n, cap;
};

/* ---- state ---- */

/* The position's fields; dev and ino travel as u64 whatever their C types. */
#define POS_FIELDS 5

static void
pos_fields(struct csvlog_pos *p, uint64_t *dev, uint64_t *ino, struct kv_field f[POS_FIELDS])
{
	const struct kv_field t[POS_FIELDS] = {
		KV_U64("dev", dev),
		KV_U64("ino", ino),
		KV_U64("offset", &p->offset),
		KV_I64("mtime", &p->mtime),
		KV_STR("file", p->file),
	};

	memcpy(f, t, sizeof(t));
}

/* Damage costs records read again, never lost ones: warn, keep what is readable. */
static void
parse_state(struct csvlog *l, char *text)
{
	struct kv_field f[POS_FIELDS];
	uint64_t dev = 0, ino = 0;
	unsigned first, bad;

	pos_fields(&l->pos, &dev, &ino, f);
	bad = kv_parse_fields(text, f, POS_FIELDS, &first);
	if (bad > 0)
		log_warn("'%s': %u malformed lines ignored (the first is line %u)",
			 l->state_path, bad, first);
	l->pos.dev = (dev_t)dev;
	l->pos.ino = (ino_t)ino;
	l->have_pos = ino != 0;
}

int
csvlog_init(struct csvlog *l, const char *path, const char *state_dir,
	    const char *target, struct pga_err *err)
{
	char text[PATH_MAX + 256];
	size_t len;
	int rc;

	memset(l, 0, sizeof(*l));
	if (strlcpy(l->path, path, sizeof(l->path)) >= sizeof(l->path))
		return pga_fail(err, PGA_EINVAL, "csvlog path too long '%.60s'", path);
	rc = pga_mkdir_p(state_dir, 0700, err);
	if (rc == 0)
		rc = pga_path(l->state_path, sizeof(l->state_path), err, "%s/%s.csvlog",
			      state_dir, target);
	if (rc == 0)
		rc = pga_read_small_file(l->state_path, text, sizeof(text), &len, err);
	if (rc == PGA_ENOTFOUND)
		rc = 0;
	else if (rc == 0)
		parse_state(l, text);
	l->loaded = rc == 0;
	return rc;
}

static void
save_state(struct csvlog *l)
{
	char text[PATH_MAX + 256];
	struct pga_err err = {0};
	struct kv_field f[POS_FIELDS];
	uint64_t dev = (uint64_t)l->pos.dev, ino = (uint64_t)l->pos.ino;
	struct dynbuf b;

	pos_fields(&l->pos, &dev, &ino, f);
	dynbuf_init_fixed(&b, text, sizeof(text));
	kv_put_str(&b, "pga-csvlog", "1");
	kv_put_fields(&b, f, POS_FIELDS);
	if (kv_save(l->state_path, &b, 0600, &err) < 0)
		log_warn("csvlog: %s (the records since may be read again)", err.msg);
}

void
csvlog_done(struct csvlog *l)
{
	if (!l->pending)
		return;
	l->pos = l->next;
	l->have_pos = true;
	l->pending = false;
	save_state(l);
}

/* ---- which files ---- */

static int
add_file(struct cfiles *fs, const char *path, const struct stat *st,
	 struct pga_err *err)
{
	if (fs->n >= FILES_MAX)
		return 0;
	if (PGA_GROW(fs->v, fs->cap, fs->n + 1, FILES_MAX, err) < 0)
		return err->code;
	strlcpy(fs->v[fs->n].path, path, sizeof(fs->v[fs->n].path));
	fs->v[fs->n].dev = st->st_dev;
	fs->v[fs->n].ino = st->st_ino;
	fs->v[fs->n].size = (uint64_t)st->st_size;
	fs->v[fs->n].mtime = (int64_t)st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
	fs->n++;
	return 0;
}

static bool
is_csv(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".csv") == 0;
}

/*
 * Files of the directory: every *.csv (all = true), or only the one whose
 * inode is the saved position (a rotated-away file in single-file mode).
 */
static int
scan_dir(struct csvlog *l, const char *dir, bool all, const char *skip,
	 struct cfiles *fs, struct pga_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return pga_fail(err, PGA_EIO, "could not open csvlog directory '%s': %m", dir);
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.' || (all && !is_csv(e->d_name)))
			continue;
		if (pga_path(p, sizeof(p), NULL, "%s/%s", dir, e->d_name) < 0 ||
		    stat(p, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (skip != NULL && strcmp(p, skip) == 0))
			continue;
		if (all || (l->have_pos && st.st_ino == l->pos.ino && st.st_dev == l->pos.dev))
			rc = add_file(fs, p, &st, err);
	}
	closedir(d);
	return rc;
}

static int
cmp_file(const void *a, const void *b)
{
	const struct cfile *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int
list_files(struct csvlog *l, struct cfiles *fs, struct pga_err *err)
{
	struct stat st;
	char dir[PATH_MAX];
	int rc;

	if (stat(l->path, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not stat csvlog '%s': %m", l->path);
	if (S_ISDIR(st.st_mode)) {
		rc = scan_dir(l, l->path, true, NULL, fs, err);
	} else {
		strlcpy(dir, l->path, sizeof(dir));
		rc = add_file(fs, l->path, &st, err);
		if (rc == 0 && l->have_pos && st.st_ino != l->pos.ino)
			rc = scan_dir(l, dirname(dir), false, l->path, fs, err);
	}
	if (rc == 0)
		qsort(fs->v, fs->n, sizeof(*fs->v), cmp_file);
	return rc;
}

/* ---- reading ---- */

struct parse {
	csvlog_write_fn fn;
	void *ctx;
	struct pga_err *err;
	int rc;
	unsigned field;
	uint64_t records, malformed;
	size_t len;
	char out[CHUNK];
};

static void
out_flush(struct parse *p)
{
	if (p->rc == 0 && p->len > 0)
		p->rc = p->fn(p->ctx, p->out, p->len, p->err);
	p->len = 0;
}

static void
out_byte(struct parse *p, char c)
{
	if (p->len == sizeof(p->out))
		out_flush(p);
	p->out[p->len++] = c;
}

static void
on_field(void *s, size_t len, void *data)
{
	struct parse *p = data;
	const char *v = s;

	if (p->field < CSVLOG_COLS) {
		if (p->field > 0)
			out_byte(p, ',');
		if (v != NULL) {
			out_byte(p, '"');
			for (size_t i = 0; i < len; i++) {
				if (v[i] == '"')
					out_byte(p, '"');
				out_byte(p, v[i]);
			}
			out_byte(p, '"');
		}
	}
	p->field++;
}

static void
on_record(int c, void *data)
{
	struct parse *p = data;

	(void)c;
	if (p->field == 0)
		return;		/* a blank line */
	if (p->field < MIN_FIELDS)
		p->malformed++;
	for (unsigned i = p->field; i < CSVLOG_COLS; i++)
		out_byte(p, ',');
	out_byte(p, '\n');
	p->records++;
	p->field = 0;
}

/* End of the last complete record in [from, limit): newline outside quotes. */
static int
find_end(int fd, const char *path, uint64_t from, uint64_t limit, uint64_t *end,
	 struct pga_err *err)
{
	char buf[CHUNK];
	bool inq = false;
	uint64_t off = from;

	*end = from;
	while (off < limit) {
		size_t want = limit - off < sizeof(buf) ? (size_t)(limit - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n < 0)
			return pga_fail(err, PGA_EIO, "could not read '%s': %m", path);
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '"')
				inq = !inq;
			else if (buf[i] == '\n' && !inq)
				*end = off + (uint64_t)i + 1;
		}
		off += (uint64_t)n;
	}
	return 0;
}

static int
parse_range(int fd, const char *path, uint64_t from, uint64_t end,
	    struct parse *p)
{
	struct csv_parser cp;
	char buf[CHUNK];
	uint64_t off = from;

	if (csv_init(&cp, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0)
		return pga_fail(p->err, PGA_ENOMEM, "out of memory");
	while (p->rc == 0 && off < end) {
		size_t want = end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n <= 0) {
			p->rc = pga_fail(p->err, PGA_EIO, "could not read '%s': %m", path);
			break;
		}
		if (csv_parse(&cp, buf, (size_t)n, on_field, on_record, p) != (size_t)n) {
			p->rc = pga_fail(p->err, PGA_EFORMAT, "csvlog '%s' at byte %" PRIu64 ": %s",
					 path, off, csv_strerror(csv_error(&cp)));
			break;
		}
		off += (uint64_t)n;
	}
	if (p->rc == 0)
		csv_fini(&cp, on_field, on_record, p);
	csv_free(&cp);
	return p->rc;
}

/*
 * Records of one file from *offset, within *budget bytes.  *offset moves to
 * the end of the last complete record; *whole is set when the file was read
 * to its end.
 */
static int
read_file(const struct cfile *f, uint64_t *offset, uint64_t *budget,
	  bool last, struct parse *p, bool *whole)
{
	uint64_t from = *offset, limit, end;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	int rc;

	*whole = false;
	if (fd < 0)
		return pga_fail(p->err, PGA_EIO, "could not open csvlog '%s': %m", f->path);
	if (from > f->size)
		from = 0;	/* truncated since */
	limit = f->size - from > *budget ? from + *budget : f->size;
	rc = find_end(fd, f->path, from, limit, &end, p->err);
	if (rc == 0)
		rc = parse_range(fd, f->path, from, end, p);
	close(fd);
	if (rc < 0)
		return rc;
	*budget -= end - from;
	if (!last && limit == f->size && end < f->size) {
		/* an older file cannot grow: its unterminated tail is garbage */
		p->malformed++;
		end = f->size;
	}
	*offset = end;
	*whole = end == f->size;
	return 0;
}

static size_t
start_index(const struct csvlog *l, const struct cfiles *fs, uint64_t *offset)
{
	*offset = 0;
	if (!l->have_pos)
		return fs->n - 1;	/* first run: the current file */
	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].ino == l->pos.ino && fs->v[i].dev == l->pos.dev) {
			*offset = l->pos.offset;
			return i;
		}
	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].mtime >= l->pos.mtime)
			return i;	/* ours is gone: go on with what is newer */
	return fs->n - 1;
}

int
csvlog_read(struct csvlog *l, csvlog_write_fn fn, void *ctx, struct pga_err *err)
{
	struct cfiles fs = {0};
	struct parse *p = calloc(1, sizeof(*p));
	uint64_t budget = CSVLOG_CYCLE_MAX, offset;
	size_t i;
	int rc;

	if (p == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	*p = (struct parse){.fn = fn, .ctx = ctx, .err = err};
	l->pending = false;
	rc = l->loaded ? list_files(l, &fs, err) :
	     pga_fail(err, PGA_EIO, "csvlog state '%s' unreadable", l->state_path);
	if (rc == 0 && fs.n == 0)
		goto out;
	for (i = rc == 0 ? start_index(l, &fs, &offset) : fs.n; i < fs.n && budget > 0; i++) {
		bool whole, last = i + 1 == fs.n;

		rc = read_file(&fs.v[i], &offset, &budget, last, p, &whole);
		if (rc < 0)
			break;
		l->next = (struct csvlog_pos){.dev = fs.v[i].dev, .ino = fs.v[i].ino,
					      .offset = offset, .mtime = fs.v[i].mtime};
		strlcpy(l->next.file, fs.v[i].path, sizeof(l->next.file));
		l->pending = true;
		if (!whole)
			break;
		offset = 0;
	}
	out_flush(p);
	if (rc == 0)
		rc = p->rc;
	if (p->malformed > 0)
		log_warn("csvlog '%s': %" PRIu64 " malformed records kept as they were",
			 l->path, p->malformed);
	l->records = p->records;
	l->malformed = p->malformed;
out:
	if (rc < 0)
		l->pending = false;
	free(fs.v);
	free(p);
	return rc;
}
