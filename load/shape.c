/*
 * shape.c - what a metric's central columns are, from the segment itself
 *
 * A block of format minor 1 describes its columns (type and role); one of
 * minor 0 names them only, and for pga 1.0's own metrics builtin10.c says
 * what they were.  Everything else is text, as custom metrics always were.
 * The DDL (schema.c, ddl.c) is built from these shapes alone.
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

void
ld_shape_free(struct ld_shape *s)
{
	free(s->cols);
	memset(s, 0, sizeof(*s));
}

int
ld_shape_init(struct ld_shape *s, const char *metric, size_t ncols, struct pga_err *err)
{
	memset(s, 0, sizeof(*s));
	strlcpy(s->metric, metric, sizeof(s->metric));
	s->cols = calloc(ncols ? ncols : 1, sizeof(*s->cols));
	return s->cols != NULL ? 0 : pga_fail(err, PGA_ENOMEM, "out of memory");
}

void
ld_shape_add(struct ld_shape *s, const char *name, const char *type, uint8_t role)
{
	struct ld_col *c = &s->cols[s->ncols++];

	strlcpy(c->name, name, sizeof(c->name));
	strlcpy(c->type, type, sizeof(c->type));
	c->role = role;
}

int
ld_shape_copy(struct ld_shape *dst, const struct ld_shape *src, struct pga_err *err)
{
	int rc = ld_shape_init(dst, src->metric, src->ncols, err);

	if (rc < 0)
		return rc;
	dst->typed = src->typed;
	dst->builtin = src->builtin;
	dst->closed = src->closed;
	dst->per_db = src->per_db;
	dst->ncols = src->ncols;
	memcpy(dst->cols, src->cols, src->ncols * sizeof(*src->cols));
	return 0;
}

int
ld_shape_builtin(const char *metric, struct ld_shape *s, struct pga_err *err)
{
	const struct ld_builtin *b = ld_builtin_find(metric);
	int rc;

	if (b == NULL)
		return PGA_ENOTFOUND;
	rc = ld_shape_init(s, metric, b->ncols, err);
	for (size_t i = 0; rc == 0 && i < b->ncols; i++)
		ld_shape_add(s, b->cols[i].name, b->cols[i].type, b->cols[i].role);
	s->typed = s->builtin = s->closed = true;
	s->per_db = b->per_database;
	return rc;
}

const struct ld_col *
ld_shape_col(const struct ld_shape *s, const char *name)
{
	for (uint16_t i = 0; i < s->ncols; i++)
		if (strcmp(s->cols[i].name, name) == 0)
			return &s->cols[i];
	return NULL;
}

bool
ld_shape_has_counters(const struct ld_shape *s)
{
	for (uint16_t i = 0; s->typed && i < s->ncols; i++)
		if (s->cols[i].role == SEG_ROLE_COUNTER)
			return true;
	return false;
}

int
ld_shape_of_block(const struct seg_block_meta *m, struct ld_shape *s, struct pga_err *err)
{
	/* a block of minor 0 has no flags: its database says it */
	bool per_db = (m->flags & SEG_BLOCK_PER_DATABASE) != 0 || m->database[0] != '\0';
	int rc;

	if (m->desc == NULL) {
		rc = ld_shape_builtin(m->metric, s, err);
		s->per_db |= rc == 0 && per_db;
		if (rc != PGA_ENOTFOUND)
			return rc;
	}
	rc = ld_shape_init(s, m->metric, m->ncols, err);
	if (rc < 0)
		return rc;
	s->typed = m->desc != NULL;
	s->builtin = ld_builtin_find(m->metric) != NULL;
	s->per_db = per_db;
	for (uint16_t i = 0; i < m->ncols; i++) {
		/* what the block's plan drops is not the table's either */
		if (!seg_column_valid(m->cols[i]) || ld_fixed_col(m->cols[i]) ||
		    ld_shape_col(s, m->cols[i]) != NULL)
			continue;
		if (m->desc != NULL)
			ld_shape_add(s, m->cols[i], m->desc[i].type, m->desc[i].role);
		else
			ld_shape_add(s, m->cols[i], "text", SEG_ROLE_INFO);
	}
	return 0;
}

const char *
ld_type_canonical(const char *type, char *buf, size_t cap)
{
	size_t n = strlen(type);
	bool array = n > 2 && strcmp(type + n - 2, "[]") == 0;

	if (strncmp(type, "timestamptz", 11) == 0 && n == 11 + (array ? 2 : 0))
		snprintf(buf, cap, "timestamp with time zone%s", array ? "[]" : "");
	else
		strlcpy(buf, type, cap);
	return buf;
}

bool
ld_type_fits(const char *dtype, const char *ttype)
{
	char canon[64];

	return strcmp(ttype, "text") == 0 ||
	       strcmp(ld_type_canonical(dtype, canon, sizeof(canon)), ttype) == 0;
}
