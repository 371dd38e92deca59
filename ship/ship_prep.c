/*
 * ship_prep.c - verify each segment once before it is shipped anywhere
 *
 * A table of the segments this process has verified, keyed by name and
 * checked against the file's inode, size and mtime, so N destinations do
 * not verify a segment N times.  Verification streams the file through
 * seg_verify_stream() and computes the MD5 (Content-MD5) in the same read;
 * the SHA-256 comes from the reader.  Memory: one small entry per segment
 * in the spool; the table is emptied when it passes PREP_MAX entries.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <openssl/evp.h>

#include "common/hash.h"
#include "common/log.h"
#include "ship/ship_int.h"

#define PREP_BUCKETS 4096
#define PREP_MAX 200000

struct prep_entry {
	struct prep_entry *next;
	char name[SEG_NAME_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool busy;		/* being verified by some thread */
	bool done;
	enum prep_state state;
	struct prep_info info;
};

struct ship_prep {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct prep_entry *b[PREP_BUCKETS];
	size_t n;
};

int
prep_new(struct ship_prep **out, struct pga_err *err)
{
	struct ship_prep *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	*out = p;
	return 0;
}

static void
clear_all(struct ship_prep *p)
{
	for (size_t i = 0; i < PREP_BUCKETS; i++) {
		struct prep_entry **pp = &p->b[i];

		while (*pp != NULL) {
			struct prep_entry *e = *pp;

			if (e->busy) {	/* its verifier still holds it */
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			free(e);
			p->n--;
		}
	}
}

void
prep_free(struct ship_prep *p)
{
	if (p == NULL)
		return;
	clear_all(p);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

static size_t
bucket_of(const char *name)
{
	return (size_t)(pga_fnv1a64_str(name, 0) % PREP_BUCKETS);
}

static struct prep_entry *
find(struct ship_prep *p, const char *name)
{
	for (struct prep_entry *e = p->b[bucket_of(name)]; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

void
prep_forget(struct ship_prep *p, const char *name)
{
	struct prep_entry **pp;

	pthread_mutex_lock(&p->mu);
	for (pp = &p->b[bucket_of(name)]; *pp; pp = &(*pp)->next) {
		struct prep_entry *e = *pp;

		if (strcmp(e->name, name) == 0 && !e->busy) {
			*pp = e->next;
			free(e);
			p->n--;
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
}

/* ---- verification ---- */

struct md5_reader {
	int fd;
	EVP_MD_CTX *md5;
	uint64_t bytes;
};

static ssize_t
md5_read(void *ctx, void *buf, size_t len)
{
	struct md5_reader *r = ctx;
	ssize_t n;

	do
		n = read(r->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		EVP_DigestUpdate(r->md5, buf, (size_t)n);
		r->bytes += (uint64_t)n;
	}
	return n;
}

static bool
is_format_error(int code)
{
	return code == PGA_EFORMAT || code == PGA_ETRUNC || code == PGA_ECHECKSUM ||
	       code == PGA_ECORRUPT || code == PGA_EVERSION || code == PGA_ECHAIN;
}

/* Verify one file; sets *state, fills info.  Without the table lock. */
static int
verify_file(struct spool *sp, const char *name, int fd, struct prep_info *info,
	    enum prep_state *state, struct pga_err *err)
{
	struct md5_reader r = {fd, EVP_MD_CTX_new(), 0};
	struct seg_info si;
	unsigned int mdlen = 0;
	int rc;

	if (r.md5 == NULL || EVP_DigestInit_ex(r.md5, EVP_md5(), NULL) != 1) {
		EVP_MD_CTX_free(r.md5);
		return pga_fail(err, PGA_EINTERNAL, "could not initialise MD5");
	}
	rc = seg_verify_stream(md5_read, &r, name, &si, err);
	EVP_DigestFinal_ex(r.md5, info->md5, &mdlen);
	EVP_MD_CTX_free(r.md5);
	if (rc == 0) {
		*state = PREP_OK;
		info->size = r.bytes;
		memcpy(info->sha256, si.file_sha256, PGA_SHA256_LEN);
		return 0;
	}
	if (!is_format_error(rc))
		return rc;
	*state = PREP_BAD;
	{
		struct pga_err qerr = {0};
		char why[PGA_ERR_MSG_MAX + 32];

		snprintf(why, sizeof(why), "not shipped: %s\n", err->msg);
		if (spool_quarantine(sp, name, why, &qerr) < 0 && qerr.code != PGA_OK)
			log_error("could not quarantine '%s': %s", name, qerr.msg);
	}
	pga_err_clear(err);
	return 0;
}

/* Open ready/<name>; PREP_GONE (rc 0, *fd -1) when it no longer exists. */
static int
open_ready(struct spool *sp, const char *name, int *fd, struct stat *st,
	   struct pga_err *err)
{
	char path[PATH_MAX];
	int rc = spool_ready_path(sp, name, path, sizeof(path), err);

	*fd = -1;
	if (rc < 0)
		return rc;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT)
			return 0;
		return pga_fail(err, PGA_EIO, "could not open '%s': %m", path);
	}
	if (fstat(*fd, st) != 0) {
		rc = pga_fail(err, PGA_EIO, "could not stat '%s': %m", path);
		close(*fd);
		*fd = -1;
	}
	return rc;
}

static bool
same_file(const struct prep_entry *e, const struct stat *st)
{
	return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
	       e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Under the lock: the entry for name, waiting out another verifier. */
static struct prep_entry *
claim(struct ship_prep *p, const char *name, const struct stat *st, bool *fresh)
{
	struct prep_entry *e;

	while ((e = find(p, name)) != NULL && e->busy)
		pthread_cond_wait(&p->cv, &p->mu);
	*fresh = false;
	if (e != NULL && e->done && same_file(e, st))
		return e;
	if (e == NULL) {
		if (p->n >= PREP_MAX)
			clear_all(p);
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return NULL;
		strlcpy(e->name, name, sizeof(e->name));
		e->next = p->b[bucket_of(name)];
		p->b[bucket_of(name)] = e;
		p->n++;
	}
	e->busy = true;
	e->done = false;
	*fresh = true;
	return e;
}

int
prep_get(struct ship_prep *p, struct spool *sp, const char *name,
	 struct prep_info *info, enum prep_state *state, struct pga_err *err)
{
	struct prep_entry *e;
	struct stat st;
	bool fresh;
	int fd, rc;

	rc = open_ready(sp, name, &fd, &st, err);
	if (rc < 0)
		return rc;
	if (fd < 0) {
		*state = PREP_GONE;
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	e = claim(p, name, &st, &fresh);
	if (e != NULL && !fresh) {
		*state = e->state;
		*info = e->info;
	}
	pthread_mutex_unlock(&p->mu);
	if (e == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	if (e != NULL && fresh) {
		*state = PREP_OK;
		memset(info, 0, sizeof(*info));
		rc = verify_file(sp, name, fd, info, state, err);
		pthread_mutex_lock(&p->mu);
		e->busy = false;
		e->done = rc == 0;
		e->state = *state;
		e->info = *info;
		e->dev = st.st_dev;
		e->ino = st.st_ino;
		e->size = st.st_size;
		e->mtime = st.st_mtim;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	close(fd);
	return rc;
}
