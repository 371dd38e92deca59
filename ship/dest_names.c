/* The names of destinations: urls and object names; see dest.h. */
#include <string.h>

#include "ship/dest.h"

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
