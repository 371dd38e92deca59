/*
 * INI reader for pga.conf; the syntax and contract are in inifile.h.
 *
 * Why not libinih (used until 0.1): its line buffer is a compile-time 200
 * bytes in Debian's build, and a longer line was silently cut, the rest
 * read as a line of its own (a 215-byte conninfo became the key
 * 'lication_name'); it reads with fgets, so a NUL byte ended a line early
 * and the rest of it vanished; and a directory read as an empty file.
 */
#include "common/inifile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INI_CHUNK (64 * 1024)
#define INI_BLANKS " \t\r\v\f"

struct ini_reader {
	const struct pga_ini_ops *ops;
	void *ctx;
	struct pga_ini_loc loc;
	struct pga_err *err;
	char *line;		/* the line being assembled, NUL-terminated when complete */
	size_t len, cap;
	size_t total;		/* bytes seen so far */
};

static int
ini_fail(struct ini_reader *r, const char *msg)
{
	return pga_fail(r->err, PGA_ECONFIG, "%s:%d: %s", r->loc.file, r->loc.line, msg);
}

/* A callback's error gets the location in front. */
static int
ini_callback_failed(struct ini_reader *r, int rc)
{
	if (rc >= 0)
		rc = pga_fail(r->err, PGA_EINTERNAL, "a configuration callback failed without an error");
	pga_err_prefix(r->err, "%s:%d", r->loc.file, r->loc.line);
	return rc;
}

static char *
skip_blanks(char *p)
{
	return p + strspn(p, " \t");
}

static void
trim_end(char *s, char *end)
{
	while (end > s && end[-1] != '\0' && strchr(INI_BLANKS, end[-1]) != NULL)
		end--;
	*end = '\0';
}

static int
section_line(struct ini_reader *r, char *p)
{
	char *end = strchr(p, ']'), *rest;
	int rc;

	if (end == NULL)
		return ini_fail(r, "unterminated section header");
	rest = skip_blanks(end + 1);
	if (*rest != '\0' && *rest != '#' && *rest != ';')
		return ini_fail(r, "syntax error: text after the section header's ']'");
	*end = '\0';
	rc = r->ops->section(r->ctx, &r->loc, p + 1, r->err);
	return rc < 0 ? ini_callback_failed(r, rc) : 0;
}

/* The character a backslash escape in quotes stands for (postgresql.conf's set). */
static char
unescape(char c)
{
	switch (c) {
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	default: return c;	/* \\, \', \" and any other: the character itself */
	}
}

/*
 * A value that starts with a quote is quoted, as in postgresql.conf: it
 * ends at the matching quote, which only blanks or a comment may follow;
 * inside, a doubled quote or a backslash escape stands for one character.
 * Unquoted in place (the text only shrinks).
 */
static int
unquote(struct ini_reader *r, char *value)
{
	char q = *value, *in = value + 1, *out = value, *rest;

	for (;; in++) {
		if (*in == '\0')
			return ini_fail(r, q == '\'' ? "unterminated quoted value (a quote inside is written '')" :
					"unterminated quoted value (a quote inside is written \\\")");
		if (*in == '\\' && in[1] != '\0') {
			*out++ = unescape(*++in);
			continue;
		}
		if (*in == q && in[1] == q) {
			*out++ = *in++;
			continue;
		}
		if (*in == q)
			break;
		*out++ = *in;
	}
	rest = skip_blanks(in + 1);
	if (*rest != '\0' && *rest != '#' && *rest != ';')
		return ini_fail(r, "syntax error: text after the closing quote of the value");
	*out = '\0';
	return 0;
}

static int
pair_line(struct ini_reader *r, char *p)
{
	char *eq = strchr(p, '='), *value;
	int rc;

	if (eq == NULL)
		return ini_fail(r, "syntax error: expected 'key = value', '[section]' or a comment");
	value = skip_blanks(eq + 1);
	trim_end(p, eq);
	if (*p == '\0')
		return ini_fail(r, "syntax error: no key before '='");
	if ((*value == '\'' || *value == '"') && (rc = unquote(r, value)) < 0)
		return rc;
	rc = r->ops->pair(r->ctx, &r->loc, p, value, r->err);
	return rc < 0 ? ini_callback_failed(r, rc) : 0;
}

/* One complete line (without its newline) in r->line. */
static int
process_line(struct ini_reader *r)
{
	char *p = r->line;

	r->line[r->len] = '\0';
	if (r->loc.line == 1 && r->len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	trim_end(p, r->line + r->len);
	p = skip_blanks(p);
	if (*p == '\0' || *p == '#' || *p == ';')
		return 0;
	if (*p == '[')
		return section_line(r, p);
	return pair_line(r, p);
}

static int
line_append(struct ini_reader *r, const char *data, size_t n)
{
	if (memchr(data, '\0', n) != NULL)
		return ini_fail(r, "NUL byte in the file (not a text file?)");
	if (n > PGA_INI_LINE_MAX - r->len) {
		char msg[64];

		snprintf(msg, sizeof(msg), "line longer than %d bytes", PGA_INI_LINE_MAX);
		return ini_fail(r, msg);
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 256;
		char *nl;

		while (cap < r->len + n + 1)
			cap *= 2;
		nl = realloc(r->line, cap);
		if (nl == NULL)
			return pga_fail(r->err, PGA_ENOMEM, "out of memory");
		r->line = nl;
		r->cap = cap;
	}
	memcpy(r->line + r->len, data, n);
	r->len += n;
	return 0;
}

static int
feed(struct ini_reader *r, const char *data, size_t n)
{
	int rc = 0;

	if (n > PGA_INI_INPUT_MAX - r->total) {
		char msg[64];

		snprintf(msg, sizeof(msg), "input longer than %d MiB", PGA_INI_INPUT_MAX >> 20);
		return ini_fail(r, msg);
	}
	r->total += n;
	while (rc == 0 && n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t k = nl ? (size_t)(nl - data) : n;

		rc = line_append(r, data, k);
		if (rc == 0 && nl != NULL) {
			rc = process_line(r);
			r->len = 0;
			r->loc.line++;
			k++;
		}
		data += k;
		n -= k;
	}
	return rc;
}

/* The last line may lack its newline. */
static int
finish(struct ini_reader *r)
{
	return r->len > 0 ? process_line(r) : 0;
}

static void
reader_init(struct ini_reader *r, const char *name, const struct pga_ini_ops *ops,
	    void *ctx, struct pga_err *err)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->ctx = ctx;
	r->loc.file = name;
	r->loc.line = 1;
	r->err = err;
}

/* The line may hold a secret: wipe it before it goes back to malloc. */
static void
reader_release(struct ini_reader *r)
{
	if (r->line != NULL)
		explicit_bzero(r->line, r->cap);
	free(r->line);
}

int
pga_ini_read_mem(const char *name, const void *buf, size_t len,
		 const struct pga_ini_ops *ops, void *ctx, struct pga_err *err)
{
	struct ini_reader r;
	int rc;

	reader_init(&r, name, ops, ctx, err);
	rc = feed(&r, buf, len);
	if (rc == 0)
		rc = finish(&r);
	reader_release(&r);
	return rc;
}

static int
open_checked(const char *path, const char *what, struct stat *st, struct pga_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_ECONFIG,
				"could not open %s '%s': %m", what, path);
	if (fstat(fd, st) != 0) {
		pga_fail(err, PGA_ECONFIG, "could not stat %s '%s': %m", what, path);
		close(fd);
		return err->code;
	}
	if (S_ISREG(st->st_mode) || S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode))
		return fd;
	close(fd);
	if (S_ISDIR(st->st_mode))
		return pga_fail(err, PGA_ECONFIG, "%s '%s' is a directory", what, path);
	return pga_fail(err, PGA_ECONFIG, "%s '%s' is not a regular file", what, path);
}

int
pga_ini_read_file(const char *path, const char *what,
		  const struct pga_ini_ops *ops, void *ctx, struct stat *st,
		  struct pga_err *err)
{
	struct ini_reader r;
	char *chunk = NULL;
	int fd, rc = 0;

	fd = open_checked(path, what, st, err);
	if (fd < 0)
		return fd;
	reader_init(&r, path, ops, ctx, err);
	chunk = malloc(INI_CHUNK);
	if (chunk == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	while (rc == 0) {
		ssize_t n = read(fd, chunk, INI_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = pga_fail(err, PGA_ECONFIG, "could not read %s '%s': %m", what, path);
		else if (n == 0)
			break;
		else
			rc = feed(&r, chunk, (size_t)n);
	}
	if (rc == 0)
		rc = finish(&r);
	if (chunk != NULL)
		explicit_bzero(chunk, INI_CHUNK);
	free(chunk);
	reader_release(&r);
	close(fd);
	return rc;
}
