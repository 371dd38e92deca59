/* Destination kinds by url scheme, validation and shared helpers; see dest.h. */
#define _GNU_SOURCE
#include "ship/dest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/log.h"
#include "common/secretfile.h"
#include "ship/dest_int.h"

struct scheme_row {
	const char *scheme;	/* without "://" */
	const struct dest_ops *ops;
};

static const struct scheme_row schemes[] = {
	{"file", &dest_dir_ops},
	{"s3", &dest_s3_ops},
	{"gs", &dest_gcs_ops},
	{"azure", &dest_azure_ops},
	{"postgres", &dest_pg_ops},
	{"postgresql", &dest_pg_ops},
};

int
dest_lookup(const char *url, const struct dest_ops **ops, struct pga_err *err)
{
	const char *sep = url != NULL ? strstr(url, "://") : NULL;

	*ops = NULL;
	if (url == NULL || *url == '\0')
		return pga_fail(err, PGA_EINVAL, "destination has no url");
	/* a libpq keyword/value conninfo ("host=... dbname=...") is postgres too */
	if (sep == NULL && strchr(url, '=') != NULL) {
		*ops = &dest_pg_ops;
		return 0;
	}
	for (size_t i = 0; sep != NULL && i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].scheme);

		if ((size_t)(sep - url) == n && strncasecmp(url, schemes[i].scheme, n) == 0) {
			*ops = schemes[i].ops;
			return 0;
		}
	}
	/* never echo a postgres-looking url: it may hold a password */
	if (sep == NULL)
		return pga_fail(err, PGA_EINVAL,
				"url has no scheme (expected s3://, gs://, azure://, file:// or postgres://)");
	return pga_fail(err, PGA_EINVAL,
			"unknown url scheme '%.*s://' (expected s3://, gs://, azure://, file:// or postgres://)",
			(int)(sep - url < 32 ? sep - url : 32), url);
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
		rc = check_common(cfg, err);
	if (rc == 0 && ops->validate != NULL)
		rc = ops->validate(cfg, err);
	if (rc < 0)
		pga_err_prefix(err, "[dest:%s]", cfg->name);
	return rc;
}

int
dest_open(struct dest **out, const struct pga_dest *cfg, struct pga_err *err)
{
	const struct dest_ops *ops;
	int rc;

	*out = NULL;
	rc = dest_validate(cfg, err);
	if (rc < 0)
		return rc;
	dest_lookup(cfg->url, &ops, err);
	rc = ops->open(out, cfg, err);
	if (rc < 0) {
		pga_err_prefix(err, "[dest:%s]", cfg->name);
		return rc;
	}
	dest_base_init(*out, ops, cfg);
	return 0;
}

void
dest_close(struct dest *d)
{
	if (d != NULL)
		d->ops->close(d);
}

bool
dest_cancelled(const struct dest *d)
{
	return d->cancel != NULL && d->cancel(d->cancel_ctx);
}

void
dest_base_init(struct dest *d, const struct dest_ops *ops,
	       const struct pga_dest *cfg)
{
	d->ops = ops;
	d->cfg = cfg;
}

void
dest_what(const struct pga_dest *cfg, char *buf, size_t cap)
{
	snprintf(buf, cap, "dest '%s'", cfg->name);
}

int
dest_url_split(const char *url, char *first, size_t fcap, char *rest,
	       size_t rcap, struct pga_err *err)
{
	const char *p = strstr(url, "://");
	size_t flen, rlen;

	if (p == NULL)
		return pga_fail(err, PGA_EINVAL, "url '%s' has no scheme", url);
	p += 3;
	flen = strcspn(p, "/");
	if (flen == 0)
		return pga_fail(err, PGA_EINVAL, "url '%s' names no bucket, account or container", url);
	if (flen >= fcap)
		return pga_fail(err, PGA_EINVAL, "url '%s': name too long", url);
	memcpy(first, p, flen);
	first[flen] = '\0';
	p += flen;
	while (*p == '/')
		p++;
	rlen = strlen(p);
	while (rlen > 0 && p[rlen - 1] == '/')
		rlen--;
	if (rlen + 2 > rcap)
		return pga_fail(err, PGA_EINVAL, "url '%s': prefix too long", url);
	memcpy(rest, p, rlen);
	rest[rlen] = '\0';
	if (rlen > 0)
		strcat(rest, "/");
	if (strstr(rest, "//") != NULL || strstr(rest, "/../") != NULL ||
	    strncmp(rest, "../", 3) == 0 || strcmp(rest, "./") == 0)
		return pga_fail(err, PGA_EINVAL, "url '%s': prefix has empty or dot components", url);
	return 0;
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
dest_name_safe(const char *name)
{
	if (name[0] == '\0' || name[0] == '/' || strlen(name) >= SEG_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
			  *p == '-' || *p == '/';

		if (!ok)
			return false;
	}
	/* no empty, "." or ".." component */
	for (const char *c = name; *c; ) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		if (*c == '/' && *++c == '\0')
			return false;
	}
	return true;
}
