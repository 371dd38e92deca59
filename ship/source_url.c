/*
 * Buckets as segment sources for `pga load --from URL` and `pga restore`.
 *
 * The URL names a configured destination (dest:NAME), or is matched to a
 * [dest:NAME] with the same url (so its endpoint and credentials apply), or
 * stands alone with the defaults and credentials from the environment.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/cli.h"
#include "common/fsutil.h"
#include "common/grow.h"
#include "common/log.h"
#include "common/units.h"
#include "ship/dest.h"
#include "ship/ship.h"
#include "spool/source.h"

struct url_source {
	struct dest *d;
	struct pga_dest own;		/* when the URL is not configured */
	bool owned;
};

static const struct pga_dest *
configured(const struct pga_config *cfg, const char *url)
{
	for (size_t i = 0; i < cfg->ndests; i++) {
		const struct pga_dest *d = &cfg->dests[i];

		if (strncmp(url, "dest:", 5) == 0 ? strcmp(d->name, url + 5) == 0
						  : strcmp(d->url, url) == 0)
			return d;
	}
	return NULL;
}

static void
url_close(void *handle)
{
	struct url_source *s = handle;

	if (s == NULL)
		return;
	dest_close(s->d);
	if (s->owned)
		pga_config_dest_release(&s->own);
	free(s);
}

static int
url_open(void *ctx, const char *url, void **handle, struct pga_err *err)
{
	const struct pga_config *cfg = ctx;
	const struct pga_dest *dc = configured(cfg, url);
	struct url_source *s = calloc(1, sizeof(*s));
	int rc = 0;

	*handle = NULL;
	if (s == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	if (dc == NULL && strncmp(url, "dest:", 5) == 0)
		rc = pga_fail(err, PGA_EINVAL, "no [dest:%s] in the configuration", url + 5);
	if (rc == 0 && dc == NULL) {
		rc = pga_config_dest_init(&s->own, "source", url, err);
		s->owned = rc == 0;
		dc = &s->own;
	}
	if (rc == 0)
		rc = dest_open(&s->d, dc, err);
	if (rc == 0 && (s->d->ops->list == NULL || s->d->ops->get == NULL))
		rc = pga_fail(err, PGA_EINVAL, "'%s' cannot be read back (no listing)", url);
	if (rc < 0) {
		url_close(s);
		return rc;
	}
	*handle = s;
	return 0;
}

/*
 * A read that fails for a reason worth another attempt (the network, a
 * 5xx, 408/429: dest_retryable) is tried again as the shipper would, up to
 * the destination's retries with its backoff, each failure a warning; a
 * stop request ends the waiting.  A listing is taken whole before the
 * caller sees a name, so one cut off in its third page and retried adds
 * nothing twice; a fetch starts its file again.
 */
static bool
again(const struct url_source *s, int rc, int attempt, const char *what, struct pga_err *err)
{
	long long attempts = s->d->cfg->retries + 1;
	int64_t wait;

	if (!dest_retryable(rc) || attempt >= attempts || pga_stop_requested())
		return false;
	wait = dest_backoff_us(attempt, s->d->cfg->retry_max_delay);
	log_warn("%s (attempt %d of %lld for %s); retrying in %lld ms", err->msg, attempt,
		 attempts, what, (long long)(wait / 1000));
	pga_err_clear(err);
	pga_cli_sleep_until(pga_mono_us() + wait);
	return !pga_stop_requested();
}

struct listing {
	struct listed {
		char *name;
		uint64_t size;
	} *v;
	size_t n, cap;
};

static int
listing_add(void *ctx, const char *name, uint64_t size, struct pga_err *err)
{
	struct listing *l = ctx;

	if (PGA_GROW(l->v, l->cap, l->n + 1, SIZE_MAX, err) < 0)
		return err->code;
	l->v[l->n].name = strdup(name);
	if (l->v[l->n].name == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	l->v[l->n++].size = size;
	return 0;
}

static void
listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* list (dirs false) or list_dirs under prefix, retried whole, then handed on. */
static int
list_retried(struct url_source *s, const char *prefix, bool dirs,
	     int (*add)(void *actx, const char *name, uint64_t size, struct pga_err *err),
	     void *actx, struct pga_err *err)
{
	struct listing l = {0};
	char what[SEG_NAME_MAX + 16];
	int rc;

	if (prefix[0] != '\0')
		snprintf(what, sizeof(what), "the listing of '%s'", prefix);
	else
		snprintf(what, sizeof(what), "the listing");
	for (int a = 1;; a++) {
		rc = dirs ? s->d->ops->list_dirs(s->d, prefix, listing_add, &l, err)
			  : s->d->ops->list(s->d, prefix, listing_add, &l, err);
		if (rc == 0 || !again(s, rc, a, what, err))
			break;
		listing_free(&l);
	}
	for (size_t i = 0; i < l.n && rc == 0; i++)
		rc = add(actx, l.v[i].name, l.v[i].size, err);
	listing_free(&l);
	return rc;
}

static int
url_list(void *handle, int (*add)(void *actx, const char *name, uint64_t size,
				  struct pga_err *err),
	 void *actx, struct pga_err *err)
{
	return list_retried(handle, "", false, add, actx, err);
}

struct fd_sink {
	int fd;
	const char *name;
};

static int
to_fd(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	struct fd_sink *k = ctx;

	return pga_write_all(k->fd, buf, len, k->name, err);
}

static int
url_fetch(void *handle, const char *name, int fd, struct pga_err *err)
{
	struct url_source *s = handle;
	struct fd_sink k = {.fd = fd, .name = name};
	char what[SEG_NAME_MAX + 8];
	int rc;

	snprintf(what, sizeof(what), "'%s'", name);
	for (int a = 1;; a++) {
		rc = s->d->ops->get(s->d, name, to_fd, &k, err);
		if (rc == 0 || !again(s, rc, a, what, err))
			return rc;
		if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
			return pga_fail(err, PGA_EIO, "could not rewind a temporary file: %m");
	}
}

static int
url_list_under(void *handle, const char *prefix,
	       int (*add)(void *actx, const char *name, uint64_t size, struct pga_err *err),
	       void *actx, struct pga_err *err)
{
	struct url_source *s = handle;

	char bare[SEG_NAME_MAX];
	size_t n = strlcpy(bare, prefix, sizeof(bare));

	if (n > 0 && n < sizeof(bare) && bare[n - 1] == '/')
		bare[n - 1] = '\0';
	if (n >= sizeof(bare) || (bare[0] != '\0' && !dest_name_safe(bare)))
		return pga_fail(err, PGA_EINVAL, "unsafe prefix '%s'", prefix);
	return list_retried(s, prefix, false, add, actx, err);
}

static int
url_list_dirs(void *handle, const char *prefix,
	      int (*add)(void *actx, const char *dir, uint64_t size, struct pga_err *err),
	      void *actx, struct pga_err *err)
{
	struct url_source *s = handle;

	if (s->d->ops->list_dirs == NULL)
		return pga_fail(err, PGA_EINVAL, "a %s destination cannot be listed by prefix",
				s->d->ops->kind);
	return list_retried(s, prefix, true, add, actx, err);
}

static const struct seg_url_backend backend = {
	.open = url_open,
	.list = url_list,
	.fetch = url_fetch,
	.close = url_close,
	.list_under = url_list_under,
	.list_dirs = url_list_dirs,
};

void
ship_register_url_source(const struct pga_config *cfg)
{
	seg_source_set_url_backend(&backend, (void *)cfg);
}
