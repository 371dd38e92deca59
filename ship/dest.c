/* Destination kinds by url scheme, validation and shared helpers; see dest.h. */
#define _GNU_SOURCE
#include "ship/dest.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "common/log.h"
#include "common/secretfile.h"
#include "ship/dest_int.h"
#include "ship/objstore.h"

/* The registry: one row per url scheme, in the order help lists them. */
static const struct scheme_row {
	const char *scheme;	/* without "://" */
	const struct dest_ops *ops;
	const char *form;	/* the url's shape; NULL: an alias, not listed */
	const char *what;
} schemes[] = {
	{"s3", &dest_s3_ops, "s3://bucket/prefix", "Amazon S3 or a compatible store (SigV4)"},
	{"gs", &dest_gcs_ops, "gs://bucket/prefix",
	 "Google Cloud Storage (HMAC key or service account)"},
	{"azure", &dest_azure_ops, "azure://account/container/prefix",
	 "Azure Blob Storage (Shared Key or SAS)"},
	{"file", &dest_file_ops, "file:///path", "a directory, e.g. a mounted disk"},
	{"postgres", &dest_pg_ops, "postgres://...", "the central database, loaded exactly once"},
	{"postgresql", &dest_pg_ops, NULL, NULL},
};
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

int
dest_ops_check(const struct dest_ops *ops, struct pga_err *err)
{
	const char *kind = ops->kind != NULL ? ops->kind : "?";
	const struct { bool ok; const char *what; } need[] = {
		{ops->kind != NULL, "kind"}, {ops->open != NULL, "open"},
		{ops->put != NULL, "put"}, {ops->head != NULL, "head"},
		{ops->list != NULL, "list"}, {ops->get != NULL, "get"},
		{ops->check != NULL, "check"}, {ops->close != NULL, "close"},
		{(ops->share == NULL) == (ops->unshare == NULL), "share/unshare pair"},
	};

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!need[i].ok)
			return pga_fail(err, PGA_EINTERNAL,
					"destination kind '%s' has no %s operation (a bug)", kind,
					need[i].what);
	return ops->store != NULL ? objstore_kind_check(ops->store, kind, err) : 0;
}

int
dest_registry_check(struct pga_err *err)
{
	for (size_t i = 0; i < NSCHEMES; i++) {
		int rc = dest_ops_check(schemes[i].ops, err);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static pthread_once_t registry_once = PTHREAD_ONCE_INIT;
static struct pga_err registry_err;

static void
registry_check_once(void)
{
	dest_registry_check(&registry_err);
}

/* "s3://, gs://, azure://, file:// or postgres://" */
static void
scheme_list(char *buf, size_t cap)
{
	size_t n = 0, listed = 0;

	for (size_t i = 0; i < NSCHEMES; i++)
		listed += schemes[i].form != NULL;
	buf[0] = '\0';
	for (size_t i = 0; i < NSCHEMES; i++) {
		if (schemes[i].form == NULL)
			continue;
		n++;
		strlcat(buf, n == 1 ? "" : n == listed ? " or " : ", ", cap);
		strlcat(buf, schemes[i].scheme, cap);
		strlcat(buf, "://", cap);
	}
}

void
dest_print_kinds(FILE *out)
{
	fprintf(out, "destinations, by the scheme of their url:\n");
	for (size_t i = 0; i < NSCHEMES; i++)
		if (schemes[i].form != NULL)
			fprintf(out, "  %-34s %s\n", schemes[i].form, schemes[i].what);
}

int
dest_lookup(const char *url, const struct dest_ops **ops, struct pga_err *err)
{
	const char *sep = url != NULL ? strstr(url, "://") : NULL;
	char expected[128];

	*ops = NULL;
	pthread_once(&registry_once, registry_check_once);
	if (registry_err.code != 0) {
		if (err != NULL)
			*err = registry_err;
		return registry_err.code;
	}
	if (url == NULL || *url == '\0')
		return pga_fail(err, PGA_EINVAL, "destination has no url");
	/* a libpq keyword/value conninfo ("host=... dbname=...") is postgres too */
	if (sep == NULL && strchr(url, '=') != NULL) {
		*ops = &dest_pg_ops;
		return 0;
	}
	for (size_t i = 0; sep != NULL && i < NSCHEMES; i++) {
		size_t n = strlen(schemes[i].scheme);

		if ((size_t)(sep - url) == n && strncasecmp(url, schemes[i].scheme, n) == 0) {
			*ops = schemes[i].ops;
			return 0;
		}
	}
	scheme_list(expected, sizeof(expected));
	/* never echo a postgres-looking url: it may hold a password */
	if (sep == NULL)
		return pga_fail(err, PGA_EINVAL, "url has no scheme (expected %s)", expected);
	return pga_fail(err, PGA_EINVAL, "unknown url scheme '%.*s://' (expected %s)",
			(int)(sep - url < 32 ? sep - url : 32), url, expected);
}

static int
check_common(const struct pga_dest *cfg, struct pga_err *err)
{
	if (cfg->ca_file != NULL && access(cfg->ca_file, R_OK) != 0)
		return pga_fail(err, PGA_EINVAL, "cannot read ca-file '%s': %m", cfg->ca_file);
	if (cfg->timeout <= 0)
		return pga_fail(err, PGA_EINVAL, "timeout must be greater than zero");
	if (cfg->endpoint != NULL && strncmp(cfg->endpoint, "http://", 7) != 0 &&
	    strncmp(cfg->endpoint, "https://", 8) != 0)
		return pga_fail(err, PGA_EINVAL, "endpoint '%s' is not an http:// or https:// url",
				cfg->endpoint);
	return 0;
}

int
dest_validate(const struct pga_dest *cfg, struct pga_err *err)
{
	const struct dest_ops *ops;
	int rc = dest_lookup(cfg->url, &ops, err);

	if (rc == 0)
		rc = pga_config_dest_check_kind(cfg, ops->kind, err);
	if (rc == 0)
		rc = check_common(cfg, err);
	if (rc == 0 && ops->validate != NULL)
		rc = ops->validate(cfg, err);
	if (rc < 0)
		pga_err_prefix(err, "[dest:%s]", cfg->name);
	return rc;
}

int
dest_shared_new(struct dest_shared **out, const struct pga_dest *cfg, struct pga_err *err)
{
	struct dest_shared *sh;
	int rc;

	*out = NULL;
	sh = calloc(1, sizeof(*sh));
	if (sh == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = dest_lookup(cfg->url, &sh->ops, err);
	if (rc == 0 && sh->ops->share != NULL)
		rc = sh->ops->share(&sh->state, cfg, err);
	if (rc < 0) {
		free(sh);
		pga_err_prefix(err, "[dest:%s]", cfg->name);
		return rc;
	}
	*out = sh;
	return 0;
}

void
dest_shared_free(struct dest_shared *sh)
{
	if (sh == NULL)
		return;
	if (sh->ops->unshare != NULL)
		sh->ops->unshare(sh->state);
	free(sh);
}

int
dest_open_shared(struct dest **out, const struct pga_dest *cfg, struct dest_shared *sh,
		 struct pga_err *err)
{
	struct dest_shared *own = NULL;
	const struct dest_ops *ops;
	int rc;

	*out = NULL;
	rc = dest_validate(cfg, err);
	if (rc == 0)
		rc = dest_lookup(cfg->url, &ops, err);
	if (rc == 0 && sh != NULL && sh->ops != ops)
		rc = pga_fail(err, PGA_EINTERNAL, "[dest:%s] opened with another kind's state (a bug)",
			      cfg->name);
	if (rc == 0 && sh == NULL)
		rc = dest_shared_new(&own, cfg, err);
	if (rc < 0)
		return rc;
	if (sh == NULL)
		sh = own;
	rc = sh->ops->open(out, cfg, err);
	if (rc < 0) {
		dest_shared_free(own);
		pga_err_prefix(err, "[dest:%s]", cfg->name);
		return rc;
	}
	(*out)->ops = sh->ops;
	(*out)->cfg = cfg;
	(*out)->shared = sh;
	(*out)->own_shared = own != NULL;
	return 0;
}

int
dest_open(struct dest **out, const struct pga_dest *cfg, struct pga_err *err)
{
	return dest_open_shared(out, cfg, NULL, err);
}

void
dest_close(struct dest *d)
{
	struct dest_shared *own;

	if (d == NULL)
		return;
	own = d->own_shared ? d->shared : NULL;
	d->ops->close(d);
	dest_shared_free(own);
}

bool
dest_cancelled(const struct dest *d)
{
	return d->cancel != NULL && d->cancel(d->cancel_ctx);
}

void
dest_what(const struct pga_dest *cfg, char *buf, size_t cap)
{
	snprintf(buf, cap, "dest '%s'", cfg->name);
}

int
dest_check_secret_file(const char *path, const char *what, struct pga_err *err)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return pga_fail(err, errno == ENOENT ? PGA_ENOTFOUND : PGA_EPERM,
				"cannot read %s '%s': %m", what, path);
	if (fstat(fd, &st) != 0) {
		close(fd);
		return pga_fail(err, PGA_EIO, "cannot stat %s '%s': %m", what, path);
	}
	close(fd);
	if (!S_ISREG(st.st_mode))
		return pga_fail(err, PGA_EINVAL, "%s '%s' is not a regular file", what, path);
	return pga_secret_file_check(&st, what, path, err);
}

int
dest_err_wrap(struct pga_err *err, int code, const char *what)
{
	pga_err_prefix(err, "%s", what);
	err->code = code;
	return code;
}

bool
dest_retryable(int code)
{
	return code == PGA_ENET || code == PGA_ETIMEOUT;
}

int64_t
dest_backoff_us(int attempt, int64_t cap)
{
	int64_t ceil = 200 * 1000;

	for (int i = 1; i < attempt && ceil < cap; i++)
		ceil *= 2;
	if (ceil > cap)
		ceil = cap;
	if (ceil <= 0)
		return 0;
	return (int64_t)arc4random_uniform((uint32_t)(ceil > UINT32_MAX ? UINT32_MAX : ceil));
}
