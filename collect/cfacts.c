/*
 * cfacts.c - what a session's snapshot query learns for the catalog
 *
 * A metric may need an extension (ext) or a condition (when): a standby, a
 * privilege, a command in progress.  Rather than a round trip per metric,
 * the session's snapshot query carries a few more columns: each extension's
 * version and schema in this database, and each wanted metric's condition.
 * Conditions cost the server microseconds; a metric whose condition is
 * false costs nothing more: no query, no block.
 */
#define _GNU_SOURCE
#include "collect/collect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

static int
append(char *buf, size_t cap, size_t *len, const char *s, size_t n, struct pga_err *err)
{
	if (*len + n >= cap)
		return pga_fail(err, PGA_EINVAL, "snapshot query does not fit in %zu bytes", cap);
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
	return 0;
}

#define EXT_COLS \
	", (SELECT e.extversion FROM pg_extension e WHERE e.extname = '%s')," \
	" (SELECT quote_ident(n.nspname) FROM pg_extension e" \
	"  JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = '%s')"

int
cfacts_sql(struct cfacts *f, bool exts_too, bool (*want)(const struct metric_def *, void *),
	   void *ctx, const struct catalog_vars *v, char *buf, size_t cap, struct pga_err *err)
{
	const char *const *exts;
	const struct metric_def *all;
	char tmp[4096];
	size_t n, len = 0, tl;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	buf[0] = '\0';
	exts = catalog_extensions(&n);
	for (size_t i = 0; exts_too && rc == 0 && i < n; i++) {
		tl = (size_t)snprintf(tmp, sizeof(tmp), EXT_COLS, exts[i], exts[i]);
		rc = append(buf, cap, &len, tmp, tl, err);
	}
	all = catalog_all(&n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (all[i].when == NULL || !want(&all[i], ctx))
			continue;
		rc = append(buf, cap, &len, ", coalesce((", 12, err);
		if (rc == 0)
			rc = catalog_expand(all[i].when, v, tmp, sizeof(tmp), &tl, err);
		if (rc == 0)
			rc = append(buf, cap, &len, tmp, tl, err);
		if (rc == 0)
			rc = append(buf, cap, &len, "), false)", 9, err);
		if (rc == 0)
			f->when_idx[f->nwhen++] = (uint8_t)i;
		else
			pga_err_prefix(err, "metric '%s'", all[i].name);
	}
	return rc;
}

void
cfacts_parse(struct cfacts *f, bool exts_too, const PGresult *r, int row, int first)
{
	size_t n;
	int col = first;

	catalog_extensions(&n);
	for (size_t i = 0; exts_too && i < n; i++, col += 2) {
		f->ext[i].version = -1;
		if (col + 1 >= PQnfields(r) || PQgetisnull(r, row, col))
			continue;
		f->ext[i].version = catalog_ext_version(PQgetvalue(r, row, col));
		strlcpy(f->ext[i].vtext, PQgetvalue(r, row, col), sizeof(f->ext[i].vtext));
		strlcpy(f->ext[i].schema, PQgetvalue(r, row, col + 1), sizeof(f->ext[i].schema));
		f->ext[i].installed = true;
	}
	for (size_t w = 0; w < f->nwhen; w++, col++) {
		size_t i = f->when_idx[w];

		if (col >= PQnfields(r) || strcmp(PQgetvalue(r, row, col), "t") != 0)
			f->off[i / 64] |= UINT64_C(1) << (i % 64);
	}
	f->parsed = true;
}

void
cfacts_merge(struct cfacts *f, const struct cfacts *more)
{
	for (size_t w = 0; w < more->nwhen && f->nwhen < CATALOG_MAX; w++) {
		size_t i = more->when_idx[w];

		f->when_idx[f->nwhen++] = (uint8_t)i;
		f->off[i / 64] &= ~(UINT64_C(1) << (i % 64));
		f->off[i / 64] |= more->off[i / 64] & (UINT64_C(1) << (i % 64));
	}
}

enum cfacts_why
cfacts_skip(const struct cfacts *f, const struct metric_def *m, int *version,
	    const char **schema)
{
	const struct metric_def *all;
	size_t n, i;
	int e;

	all = catalog_all(&n);
	i = (size_t)(m - all);
	if (m->ext != NULL) {
		e = catalog_ext_index(m->ext);
		if (e < 0 || !f->parsed || !f->ext[e].installed)
			return CFACTS_NO_EXT;
		if (f->ext[e].version < 0 || catalog_sql_for(m, f->ext[e].version) == NULL)
			return CFACTS_EXT_VERSION;
		*version = f->ext[e].version;
		*schema = f->ext[e].schema;
	}
	if (m->when != NULL) {
		bool asked = false;

		for (size_t w = 0; w < f->nwhen; w++)
			asked |= f->when_idx[w] == i;
		if (!asked || (f->off[i / 64] >> (i % 64)) & 1)
			return CFACTS_WHEN;
	}
	return CFACTS_RUN;
}

void
cfacts_why(const struct cfacts *f, const struct metric_def *m, enum cfacts_why why,
	   const char *database, char *buf, size_t cap)
{
	int e = catalog_ext_index(m->ext);

	switch (why) {
	case CFACTS_NO_EXT:
		snprintf(buf, cap, "%s is not installed in database '%s'", m->ext, database);
		break;
	case CFACTS_EXT_VERSION:
		snprintf(buf, cap, "%s %s is not a version pga knows", m->ext,
			 e >= 0 ? f->ext[e].vtext : "?");
		break;
	case CFACTS_WHEN:
		snprintf(buf, cap, "only with %s", m->needs ? m->needs : "its condition");
		break;
	default:
		snprintf(buf, cap, "runs");
	}
}
