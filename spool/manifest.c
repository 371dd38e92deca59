/* MANIFEST.sha256: strict parsing, lookup, and safe member names. */
#define _GNU_SOURCE
#include "spool/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spool/segment.h"

#define HEX_DIGITS (PGA_SHA256_HEX - 1)

bool
seg_member_name(const char *path, bool dir, char *out, size_t cap)
{
	const char *p = path, *comp;
	size_t n;

	while (strncmp(p, "./", 2) == 0)
		p += 2;
	n = strlen(p);
	if (n > 0 && p[n - 1] == '/') {
		if (!dir)
			return false;
		n--;
	}
	if (n >= cap || (n == 0 && !dir) || p[0] == '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7E || p[i] == '\\')
			return false;
	for (comp = p; comp < p + n;) {
		const char *end = memchr(comp, '/', (size_t)(p + n - comp));
		size_t len = end ? (size_t)(end - comp) : (size_t)(p + n - comp);

		if (len == 0 || (len == 1 && comp[0] == '.') ||
		    (len == 2 && comp[0] == '.' && comp[1] == '.'))
			return false;
		comp += len + 1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct seg_manifest_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static bool
is_hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pga_hexval(p[i]) < 0)
			return false;
	return true;
}

/* One line (without its newline) into e; its name is normalised in place. */
static int
parse_line(char *line, size_t len, size_t lineno, const char *archive,
	   struct seg_manifest_entry *e, struct pga_err *err)
{
	char *name = line + HEX_DIGITS + 1;
	char norm[SEG_NAME_MAX];

	if (len < HEX_DIGITS + 2 || line[HEX_DIGITS] != ' ' ||
	    (line[HEX_DIGITS + 1] != ' ' && line[HEX_DIGITS + 1] != '*') ||
	    !is_hex(line, HEX_DIGITS))
		return pga_fail(err, PGA_ECORRUPT, "archive '%s': %s line %zu is not"
				" '<sha256> <name>' as sha256sum prints it", archive,
				SEG_MANIFEST_NAME, lineno);
	name++;
	line[len] = '\0';
	if (memchr(name, '\0', len - (size_t)(name - line)) != NULL ||
	    !seg_member_name(name, false, norm, sizeof(norm)) ||
	    seg_name_parse(norm, NULL, 0, NULL, NULL) != 0)
		return pga_fail(err, PGA_ECORRUPT, "archive '%s': %s line %zu does not name a"
				" segment by a safe relative path", archive, SEG_MANIFEST_NAME,
				lineno);
	pga_unhex(line, e->sha, PGA_SHA256_LEN);
	memmove(name, norm, strlen(norm) + 1);	/* normalising only shortens */
	e->name = name;
	e->seen = false;
	return 0;
}

static int
parse_all(struct seg_manifest *m, size_t len, const char *archive, struct pga_err *err)
{
	size_t lines = 0, lineno = 0;
	char *p = m->text, *end = m->text + len;

	for (char *q = p; q < end; q++)
		lines += *q == '\n';
	lines += len > 0 && end[-1] != '\n';
	m->v = calloc(lines ? lines : 1, sizeof(*m->v));
	if (m->v == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int rc = parse_line(p, ll, ++lineno, archive, &m->v[m->n], err);

		if (rc < 0)
			return rc;
		m->n++;
		p += ll + 1;
	}
	qsort(m->v, m->n, sizeof(*m->v), entry_cmp);
	for (size_t i = 1; i < m->n; i++)
		if (strcmp(m->v[i - 1].name, m->v[i].name) == 0)
			return pga_fail(err, PGA_ECORRUPT, "archive '%s': %s lists '%s' twice",
					archive, SEG_MANIFEST_NAME, m->v[i].name);
	return 0;
}

int
seg_manifest_parse(const char *buf, size_t len, const char *archive,
		   struct seg_manifest *out, struct pga_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > SEG_MANIFEST_MAX)
		return pga_fail(err, PGA_ECORRUPT, "archive '%s': %s is larger than %u bytes",
				archive, SEG_MANIFEST_NAME, SEG_MANIFEST_MAX);
	out->text = malloc(len + 1);
	if (out->text == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	memcpy(out->text, buf, len);
	out->text[len] = '\0';
	rc = parse_all(out, len, archive, err);
	if (rc < 0)
		seg_manifest_free(out);
	return rc;
}

struct seg_manifest_entry *
seg_manifest_find(const struct seg_manifest *m, const char *name)
{
	struct seg_manifest_entry key = {.name = name};

	if (m->n == 0)
		return NULL;
	return bsearch(&key, m->v, m->n, sizeof(*m->v), entry_cmp);
}

void
seg_manifest_free(struct seg_manifest *m)
{
	free(m->v);
	free(m->text);
	memset(m, 0, sizeof(*m));
}
