/*
 * ddl.c - what a segment needs to exist before its transaction runs
 *
 * A segment is verified and its block headers read before anything is
 * written (loader.c); the metrics, days, servers and columns found there
 * (with the types and roles the blocks describe, shape.c) are checked
 * against per-loader caches, and whatever is missing is created here,
 * each kind in its own short transaction.  Doing DDL inside
 * the load transaction could deadlock two loaders (each holding its
 * metric tables while waiting for the other's to change), so it never
 * happens there.
 *
 * Partitions are created as plain tables and then ATTACHed: ATTACH takes
 * SHARE UPDATE EXCLUSIVE on the parent, which does not wait for loaders
 * that are COPYing into it, where CREATE TABLE ... PARTITION OF would take
 * ACCESS EXCLUSIVE and stall them all.  An advisory lock per schema
 * serialises the creations so two loaders never race on one name.
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/grow.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/pgutil.h"

#define DDL_LOCK_TIMEOUT "2s"
#define DDL_RETRIES 30

/* ---- table cache ---- */

static void
table_clear(struct ld_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	free(t->cols);
	free(t->days);
	t->cols = NULL;
	t->days = NULL;
	t->ncols = t->ndays = t->days_cap = 0;
}

void
ld_tables_forget(struct loader *l)
{
	for (size_t i = 0; i < l->ntables; i++)
		table_clear(&l->tables[i]);
	l->ntables = 0;
}

struct ld_table *
ld_table_find(struct loader *l, const char *metric)
{
	for (size_t i = 0; i < l->ntables; i++)
		if (strcmp(l->tables[i].metric, metric) == 0)
			return &l->tables[i];
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_day(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

bool
ld_table_has_col(const struct ld_table *t, const char *col)
{
	return bsearch(&col, t->cols, t->ncols, sizeof(char *), cmp_str) != NULL;
}

const char *
ld_table_col_type(const struct ld_table *t, const char *col)
{
	char *const *c = bsearch(&col, t->cols, t->ncols, sizeof(char *), cmp_str);

	return c != NULL ? *c + strlen(*c) + 1 : NULL;
}

bool
ld_table_has_day(const struct ld_table *t, int32_t day)
{
	return bsearch(&day, t->days, t->ndays, sizeof(int32_t), cmp_day) != NULL;
}

/* "..._pYYYYMMDD" to a day number; -1 (false) when the name is not one. */
static bool
partition_day(const char *relname, int32_t *day)
{
	size_t n = strlen(relname);
	struct tm tm = {0};
	int ymd;

	if (n < 10 || relname[n - 10] != '_' || relname[n - 9] != 'p' ||
	    strspn(relname + n - 8, "0123456789") != 8)
		return false;
	ymd = atoi(relname + n - 8);
	tm.tm_year = ymd / 10000 - 1900;
	tm.tm_mon = ymd / 100 % 100 - 1;
	tm.tm_mday = ymd % 100;
	*day = (int32_t)(timegm(&tm) / 86400);
	return true;
}

/* Columns with their types, and whether dbname is in the series index. */
static int
load_cols(struct loader *l, struct ld_table *t, struct pga_err *err)
{
	char idx[LD_IDENT_MAX], qidx[LD_QNAME_MAX];
	const char *params[2] = {t->qname, qidx};
	PGresult *res = NULL;
	int rc, n;

	ld_derived_name(t->metric, "_series", idx, sizeof(idx));
	rc = ld_qualify(l->schema, idx, qidx, sizeof(qidx), err);
	if (rc == 0)
		rc = ld_exec(l, "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnum ="
			     " ANY (coalesce((SELECT i.indkey::int2[] FROM pg_index i WHERE i.indexrelid ="
			     " to_regclass($2)), '{}')) FROM pg_attribute a WHERE a.attrelid ="
			     " to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped", 2, params, &res,
			     err);
	n = rc == 0 ? PQntuples(res) : 0;
	t->series_db = false;
	if (rc == 0)
		t->cols = calloc((size_t)n + 1, sizeof(char *));
	if (rc == 0 && t->cols == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < n; i++) {
		const char *c = PQgetvalue(res, i, 0), *type = PQgetvalue(res, i, 1);

		if (strcmp(c, "dbname") == 0)
			t->series_db = strcmp(PQgetvalue(res, i, 2), "t") == 0;
		if (ld_fixed_col(c))
			continue;
		/* "name\0type": sorted and searched by name */
		if (asprintf(&t->cols[t->ncols], "%s%c%s", c, '\0', type) < 0) {
			t->cols[t->ncols] = NULL;
			rc = pga_fail(err, PGA_ENOMEM, "out of memory");
			break;
		}
		t->ncols++;
	}
	PQclear(res);
	if (rc == 0)
		qsort(t->cols, t->ncols, sizeof(char *), cmp_str);
	return rc == 0 && n == 0 ? PGA_ENOTFOUND : rc;
}

static int
load_days(struct loader *l, struct ld_table *t, struct pga_err *err)
{
	const char *params[1] = {t->qname};
	PGresult *res = NULL;
	int rc = ld_exec(l, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
			 " WHERE i.inhparent = to_regclass($1)", 1, params, &res, err);
	int n = rc == 0 ? PQntuples(res) : 0;

	if (rc == 0)
		rc = PGA_GROW(t->days, t->days_cap, (size_t)n + 1, SIZE_MAX, err);
	for (int i = 0; rc == 0 && i < n; i++)
		if (partition_day(PQgetvalue(res, i, 0), &t->days[t->ndays]))
			t->ndays++;
	PQclear(res);
	if (rc == 0)
		qsort(t->days, t->ndays, sizeof(int32_t), cmp_day);
	return rc;
}

int
ld_table_load(struct loader *l, const char *metric, struct ld_table **out,
	      struct pga_err *err)
{
	struct ld_table *t = ld_table_find(l, metric);
	int rc;

	*out = NULL;
	if (t == NULL) {
		rc = PGA_GROW(l->tables, l->tables_cap, l->ntables + 1, SIZE_MAX, err);
		if (rc < 0)
			return rc;
		t = &l->tables[l->ntables];
		memset(t, 0, sizeof(*t));
		strlcpy(t->metric, metric, sizeof(t->metric));
		rc = ld_qualify(l->schema, metric, t->qname, sizeof(t->qname), err);
		if (rc < 0)
			return rc;
		l->ntables++;
	}
	table_clear(t);
	rc = load_cols(l, t, err);
	if (rc == 0)
		rc = load_days(l, t, err);
	if (rc < 0) {
		table_clear(t);
		/* not cached: a table that does not exist yet is looked up again */
		*t = l->tables[--l->ntables];
		return rc == PGA_ENOTFOUND ? 0 : rc;
	}
	*out = t;
	return 0;
}

/* ---- what a segment needs ---- */

void
ld_needs_reset(struct ld_needs *n)
{
	for (size_t i = 0; i < n->nshapes; i++)
		ld_shape_free(&n->shapes[i]);
	n->nparts = n->ncols = n->nsrvs = n->nshapes = 0;
}

void
ld_needs_free(struct ld_needs *n)
{
	ld_needs_reset(n);
	free(n->shapes);
	free(n->parts);
	free(n->cols);
	free(n->srvs);
	memset(n, 0, sizeof(*n));
}

static int
need_part(struct loader *l, const char *metric, int32_t day, struct pga_err *err)
{
	struct ld_needs *n = &l->needs;

	for (size_t i = 0; i < n->nparts; i++)
		if (n->parts[i].day == day && strcmp(n->parts[i].metric, metric) == 0)
			return 0;
	if (PGA_GROW(n->parts, n->parts_cap, n->nparts + 1, SIZE_MAX, err) < 0)
		return err->code;
	strlcpy(n->parts[n->nparts].metric, metric, sizeof(n->parts[0].metric));
	n->parts[n->nparts++].day = day;
	return 0;
}

/* col "" means: the table itself. */
static int
need_col(struct loader *l, const char *metric, const char *col, const char *type,
	 struct pga_err *err)
{
	struct ld_needs *n = &l->needs;

	for (size_t i = 0; i < n->ncols; i++)
		if (strcmp(n->cols[i].col, col) == 0 && strcmp(n->cols[i].metric, metric) == 0)
			return 0;
	if (PGA_GROW(n->cols, n->cols_cap, n->ncols + 1, SIZE_MAX, err) < 0)
		return err->code;
	strlcpy(n->cols[n->ncols].metric, metric, sizeof(n->cols[0].metric));
	strlcpy(n->cols[n->ncols].type, type, sizeof(n->cols[0].type));
	strlcpy(n->cols[n->ncols++].col, col, sizeof(n->cols[0].col));
	return 0;
}

/* Columns of b that a lacks, appended to a. */
static int
shape_merge(struct ld_shape *a, const struct ld_shape *b, struct pga_err *err)
{
	struct ld_col *cols = calloc((size_t)a->ncols + b->ncols, sizeof(*cols));
	uint16_t n = a->ncols;

	if (cols == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	memcpy(cols, a->cols, a->ncols * sizeof(*cols));
	for (uint16_t i = 0; i < b->ncols && n < SEG_MAX_COLS; i++)
		if (ld_shape_col(a, b->cols[i].name) == NULL)
			cols[n++] = b->cols[i];
	free(a->cols);
	a->cols = cols;
	a->ncols = n;
	a->per_db |= b->per_db;
	return 0;
}

/*
 * The shape a metric's new table or columns (and its view) are made from:
 * what the segment's blocks of it describe, together (a described shape
 * replaces an undescribed one; described ones are merged, the first
 * block's type winning).
 */
static int
need_shape(struct loader *l, const struct ld_shape *s, struct pga_err *err)
{
	struct ld_needs *n = &l->needs;

	for (size_t i = 0; i < n->nshapes; i++) {
		bool per_db = n->shapes[i].per_db || s->per_db;
		int rc = 0;

		if (strcmp(n->shapes[i].metric, s->metric) != 0)
			continue;
		if (n->shapes[i].typed && s->typed) {
			rc = shape_merge(&n->shapes[i], s, err);
		} else if (s->typed) {
			ld_shape_free(&n->shapes[i]);
			rc = ld_shape_copy(&n->shapes[i], s, err);
		}
		n->shapes[i].per_db = per_db;
		return rc;
	}
	if (PGA_GROW(n->shapes, n->shapes_cap, n->nshapes + 1, SIZE_MAX, err) < 0)
		return err->code;
	if (ld_shape_copy(&n->shapes[n->nshapes], s, err) < 0)
		return err->code;
	n->nshapes++;
	return 0;
}

static const struct ld_shape *
needed_shape(struct loader *l, const char *metric)
{
	for (size_t i = 0; i < l->needs.nshapes; i++)
		if (strcmp(l->needs.shapes[i].metric, metric) == 0)
			return &l->needs.shapes[i];
	return NULL;
}

static int
need_srv(struct loader *l, const struct seg_block_meta *m, struct pga_err *err)
{
	struct ld_needs *n = &l->needs;
	struct ld_need_srv *s;

	for (size_t i = 0; i < n->nsrvs; i++)
		if (n->srvs[i].sysid == m->sysid && n->srvs[i].port == m->port &&
		    strcmp(n->srvs[i].host, m->host) == 0)
			return 0;
	if (PGA_GROW(n->srvs, n->srvs_cap, n->nsrvs + 1, SIZE_MAX, err) < 0)
		return err->code;
	s = &n->srvs[n->nsrvs++];
	s->sysid = m->sysid;
	s->port = m->port;
	s->version = m->server_version;
	strlcpy(s->host, m->host, sizeof(s->host));
	strlcpy(s->target, m->target, sizeof(s->target));
	return 0;
}

int32_t
ld_server_lookup(struct loader *l, uint64_t sysid, const char *host, uint16_t port)
{
	for (size_t i = 0; i < l->nservers; i++)
		if (l->servers[i].sysid == sysid && l->servers[i].port == port &&
		    strcmp(l->servers[i].host, host) == 0)
			return l->servers[i].id;
	return -1;
}

/*
 * The table a block needs, and its columns: those of the block's shape
 * the table lacks (a 1.0 metric's block without descriptors adds none
 * beyond the 1.0 catalog's: the plan drops the rest, as it always did).
 * Columns whose type differs are the plan's to refuse (loader.c).
 */
static int
need_table(struct loader *l, const struct seg_block_meta *m, struct ld_table *t,
	   struct pga_err *err)
{
	struct ld_shape s = {0};
	bool needed = t == NULL;
	int rc = ld_shape_of_block(m, &s, err);

	if (rc == 0 && t == NULL)
		rc = need_col(l, m->metric, "", "", err);
	/* per-database blocks for a table of cluster-wide ones: its series need dbname */
	needed |= t != NULL && s.per_db && !t->series_db;
	for (uint16_t i = 0; rc == 0 && t != NULL && i < m->ncols; i++) {
		const struct ld_col *c = ld_shape_col(&s, m->cols[i]);

		if (c == NULL || ld_table_has_col(t, c->name))
			continue;
		rc = need_col(l, m->metric, c->name, s.typed ? c->type : "text", err);
		needed = true;
	}
	if (rc == 0 && needed)
		rc = need_shape(l, &s, err);
	ld_shape_free(&s);
	return rc;
}

int
ld_need_block(struct loader *l, const struct seg_block_meta *m, struct pga_err *err)
{
	struct ld_table *t = ld_table_find(l, m->metric);
	int32_t day = ld_day_of(m->snapshot_us);
	int rc = 0;

	if (t == NULL)
		rc = ld_table_load(l, m->metric, &t, err);
	if (rc == 0)
		rc = need_table(l, m, t, err);
	if (rc == 0 && (t == NULL || !ld_table_has_day(t, day)))
		rc = need_part(l, m->metric, day, err);
	if (rc == 0 && ld_server_lookup(l, m->sysid, m->host, m->port) < 0)
		rc = need_srv(l, m, err);
	return rc;
}

/* ---- creating what is needed ---- */

static int
ddl_begin(struct loader *l, struct pga_err *err)
{
	char key[32];
	const char *params[1] = {key};
	int rc = ld_exec(l, "BEGIN", 0, NULL, NULL, err);

	snprintf(key, sizeof(key), "%" PRId64,
		 (int64_t)pga_fnv1a64_str(l->schema, 0xdd1));
	if (rc == 0)
		rc = ld_exec(l, "SET LOCAL lock_timeout = '" DDL_LOCK_TIMEOUT "'", 0, NULL, NULL, err);
	if (rc == 0)
		rc = ld_exec(l, "SELECT pg_advisory_xact_lock($1::bigint)", 1, params, NULL, err);
	return rc;
}

int
ld_tx_end(struct loader *l, int rc, struct pga_err *err)
{
	if (rc == 0)
		rc = ld_exec(l, "COMMIT", 0, NULL, NULL, err);
	if (rc < 0)
		ld_rollback(l);
	return rc;
}

/* Retry a DDL step that timed out waiting for a lock held by a loader. */
static int
ddl_retry(struct loader *l, int (*step)(struct loader *, struct pga_err *),
	  struct pga_err *err)
{
	int rc;

	for (int i = 0;; i++) {
		rc = step(l, err);
		if (rc == 0 || i >= DDL_RETRIES || strcmp(err->sqlstate, "55P03") != 0)
			return rc;
		log_debug("ddl waits for a lock, retrying: %s", err->msg);
		usleep(100000);
	}
}

static int
create_tables(struct loader *l, struct pga_err *err)
{
	int rc = ddl_begin(l, err);

	for (size_t i = 0; rc == 0 && i < l->needs.ncols; i++) {
		const struct ld_need_col *c = &l->needs.cols[i];
		const struct ld_shape *s = needed_shape(l, c->metric);

		if (c->col[0] != '\0')
			continue;
		rc = s != NULL ? ld_schema_ensure_table(l, s, err)
			       : pga_fail(err, PGA_EINTERNAL, "no shape for '%s'", c->metric);
	}
	return ld_tx_end(l, rc, err);
}

/*
 * The delta views of the metrics whose tables or columns were made, or
 * whose series now need dbname (their index first).
 */
static int
create_views(struct loader *l, struct pga_err *err)
{
	int rc = ddl_begin(l, err);

	for (size_t i = 0; rc == 0 && i < l->needs.nshapes; i++) {
		rc = ld_schema_ensure_series(l, &l->needs.shapes[i], err);
		if (rc == 0)
			rc = ld_schema_ensure_view(l, &l->needs.shapes[i], err);
	}
	return ld_tx_end(l, rc, err);
}

/* One ALTER per table with every new column: ACCESS EXCLUSIVE, briefly. */
static int
add_table_columns(struct loader *l, size_t first, struct pga_err *err)
{
	const char *metric = l->needs.cols[first].metric;
	char q[LD_QNAME_MAX];
	struct dynbuf b = DYNBUF_INIT(LD_TEXT_MAX);
	bool any = false;
	int rc = ld_qualify(l->schema, metric, q, sizeof(q), err);

	dynbuf_addf(&b, "ALTER TABLE %s", q);
	for (size_t j = first; rc == 0 && j < l->needs.ncols; j++) {
		const struct ld_need_col *c = &l->needs.cols[j];

		if (c->col[0] == '\0' || strcmp(c->metric, metric) != 0)
			continue;
		rc = pga_pg_quote_ident(c->col, q, sizeof(q), err);
		/* a type of the format's closed list (seg_col_type_valid), or text */
		dynbuf_addf(&b, "%s ADD COLUMN IF NOT EXISTS %s %s", any ? "," : "", q,
			    seg_col_type_valid(c->type) ? c->type : "text");
		any = true;
	}
	if (rc == 0)
		rc = dynbuf_check(&b, "ALTER TABLE", err);
	if (rc == 0)
		rc = ld_exec(l, "BEGIN", 0, NULL, NULL, err);
	if (rc == 0)
		rc = ld_exec(l, "SET LOCAL lock_timeout = '" DDL_LOCK_TIMEOUT "'", 0, NULL, NULL, err);
	if (rc == 0)
		rc = ld_exec(l, dynbuf_str(&b), 0, NULL, NULL, err);
	dynbuf_free(&b);
	rc = ld_tx_end(l, rc, err);
	if (rc == 0)
		log_info("central table '%s': added columns a block described", metric);
	return rc;
}

static int
add_columns(struct loader *l, struct pga_err *err)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < l->needs.ncols; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = l->needs.cols[j].col[0] != '\0' &&
			       strcmp(l->needs.cols[j].metric, l->needs.cols[i].metric) == 0;
		if (!seen && l->needs.cols[i].col[0] != '\0')
			rc = add_table_columns(l, i, err);
	}
	return rc;
}

static void
day_text(int32_t day, char *buf, size_t cap)
{
	time_t t = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%d 00:00:00+00", &tm);
}

static int
create_partition(struct loader *l, const char *metric, int32_t day, struct pga_err *err)
{
	char suffix[16], part[LD_IDENT_MAX], qp[LD_QNAME_MAX], qt[LD_QNAME_MAX];
	char from[32], to[32], sql[LD_SQL_MAX];
	const char *params[1] = {qp};
	time_t t = (time_t)day * 86400;
	PGresult *res = NULL;
	struct tm tm;
	int rc;

	gmtime_r(&t, &tm);
	strftime(suffix, sizeof(suffix), "_p%Y%m%d", &tm);
	ld_derived_name(metric, suffix, part, sizeof(part));
	rc = ld_qualify(l->schema, part, qp, sizeof(qp), err);
	if (rc == 0)
		rc = ld_qualify(l->schema, metric, qt, sizeof(qt), err);
	if (rc == 0)
		rc = ld_exec(l, "SELECT to_regclass($1) IS NOT NULL", 1, params, &res, err);
	if (rc < 0 || strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		PQclear(res);
		return rc;
	}
	PQclear(res);
	day_text(day, from, sizeof(from));
	day_text(day + 1, to, sizeof(to));
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS);"
		 "ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')",
		 qp, qt, qt, qp, from, to);
	rc = ld_exec(l, sql, 0, NULL, NULL, err);
	if (rc == 0)
		log_debug("created partition '%s'", part);
	return rc;
}

static int
create_partitions(struct loader *l, struct pga_err *err)
{
	int rc = ddl_begin(l, err);

	for (size_t i = 0; rc == 0 && i < l->needs.nparts; i++) {
		struct ld_table *t = ld_table_find(l, l->needs.parts[i].metric);

		if (t != NULL && ld_table_has_day(t, l->needs.parts[i].day))
			continue;
		rc = create_partition(l, l->needs.parts[i].metric, l->needs.parts[i].day, err);
	}
	return ld_tx_end(l, rc, err);
}

static int
upsert_server(struct loader *l, const struct ld_need_srv *s, struct pga_err *err)
{
	char sysid[24], port[8], version[12], sql[1024];
	/* the segment reader refused any header text that is not clean UTF-8 */
	const char *params[5] = {sysid, s->host, port, s->target, version};
	PGresult *res = NULL;
	struct ld_server *c;
	int rc;

	snprintf(sysid, sizeof(sysid), "%" PRIu64, s->sysid);
	snprintf(port, sizeof(port), "%u", s->port);
	snprintf(version, sizeof(version), "%u", s->version);
	snprintf(sql, sizeof(sql), "INSERT INTO %s.servers (system_identifier, host, port, target,"
		 " server_version) VALUES ($1, $2, $3, nullif($4, ''), nullif($5::integer, 0))"
		 " ON CONFLICT (system_identifier, host, port) DO UPDATE"
		 " SET target = coalesce(EXCLUDED.target, servers.target),"
		 " server_version = coalesce(EXCLUDED.server_version, servers.server_version)"
		 " RETURNING server_id", l->qschema);
	rc = ld_exec(l, sql, 5, params, &res, err);
	if (rc == 0)
		rc = PGA_GROW(l->servers, l->servers_cap, l->nservers + 1, SIZE_MAX, err);
	if (rc == 0) {
		c = &l->servers[l->nservers++];
		c->sysid = s->sysid;
		c->port = s->port;
		c->id = atoi(PQgetvalue(res, 0, 0));
		strlcpy(c->host, s->host, sizeof(c->host));
	}
	PQclear(res);
	return rc;
}

static int
step_tables(struct loader *l, struct pga_err *err)
{
	return create_tables(l, err);
}

static int
step_partitions(struct loader *l, struct pga_err *err)
{
	return create_partitions(l, err);
}

static int
step_columns(struct loader *l, struct pga_err *err)
{
	return add_columns(l, err);
}

static int
step_views(struct loader *l, struct pga_err *err)
{
	return create_views(l, err);
}

/* Reload the tables the needs named, so the caches see what was made. */
static int
refresh_tables(struct loader *l, struct pga_err *err)
{
	struct ld_table *t;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < l->needs.ncols; i++)
		rc = ld_table_load(l, l->needs.cols[i].metric, &t, err);
	for (size_t i = 0; rc == 0 && i < l->needs.nshapes; i++)
		rc = ld_table_load(l, l->needs.shapes[i].metric, &t, err);
	for (size_t i = 0; rc == 0 && i < l->needs.nparts; i++)
		rc = ld_table_load(l, l->needs.parts[i].metric, &t, err);
	return rc;
}

int
ld_apply_needs(struct loader *l, struct pga_err *err)
{
	bool tables = false, cols = false;
	int rc = 0;

	for (size_t i = 0; i < l->needs.ncols; i++) {
		tables |= l->needs.cols[i].col[0] == '\0';
		cols |= l->needs.cols[i].col[0] != '\0';
	}
	if (tables)
		rc = ddl_retry(l, step_tables, err);
	if (rc == 0 && cols)
		rc = ddl_retry(l, step_columns, err);
	if (rc == 0 && l->needs.nshapes > 0)
		rc = ddl_retry(l, step_views, err);
	if (rc == 0 && l->needs.nshapes > 0)
		rc = refresh_tables(l, err);
	if (rc == 0 && l->needs.nparts > 0)
		rc = ddl_retry(l, step_partitions, err);
	for (size_t i = 0; rc == 0 && i < l->needs.nsrvs; i++)
		rc = upsert_server(l, &l->needs.srvs[i], err);
	if (rc == 0 && l->needs.nparts > 0)
		rc = refresh_tables(l, err);
	return rc;
}

/* ---- collectors ---- */

int
ld_collector_id(struct loader *l, const struct seg_header *h, int32_t *id,
		struct pga_err *err)
{
	char sql[512];
	const char *params[3] = {h->collector, h->hostname, h->writer};
	PGresult *res = NULL;
	int rc;

	for (size_t i = 0; i < l->ncollectors; i++)
		if (strcmp(l->collectors[i].name, h->collector) == 0) {
			*id = l->collectors[i].id;
			return 0;
		}
	snprintf(sql, sizeof(sql), "INSERT INTO %s.collectors (collector, hostname, writer)"
		 " VALUES ($1, $2, $3) ON CONFLICT (collector) DO NOTHING", l->qschema);
	rc = ld_exec(l, sql, 3, params, NULL, err);
	if (rc == 0) {
		snprintf(sql, sizeof(sql), "SELECT collector_id FROM %s.collectors WHERE collector = $1",
			 l->qschema);
		rc = ld_exec(l, sql, 1, params, &res, err);
	}
	if (rc == 0)
		rc = PGA_GROW(l->collectors, l->collectors_cap, l->ncollectors + 1, SIZE_MAX, err);
	if (rc == 0) {
		*id = atoi(PQgetvalue(res, 0, 0));
		strlcpy(l->collectors[l->ncollectors].name, h->collector,
			sizeof(l->collectors[0].name));
		l->collectors[l->ncollectors++].id = *id;
	}
	PQclear(res);
	return rc;
}

/* ---- retention ---- */

struct doomed {
	char name[LD_IDENT_MAX];
};

static int
list_old_partitions(struct loader *l, int64_t cutoff_us, struct doomed **out, size_t *n,
		    struct pga_err *err)
{
	char sql[1024];
	const char *params[1] = {l->schema};
	PGresult *res = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	snprintf(sql, sizeof(sql), "SELECT c.relname FROM pg_inherits i"
		 " JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
		 " JOIN pg_namespace ns ON ns.oid = p.relnamespace"
		 " WHERE ns.nspname = $1 AND p.relname IN (SELECT metric FROM %s.metrics)"
		 " ORDER BY 1", l->qschema);
	rc = ld_exec(l, sql, 1, params, &res, err);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		const char *name = PQgetvalue(res, i, 0);
		int32_t day;

		if (!partition_day(name, &day) || (int64_t)(day + 1) * LD_DAY_US > cutoff_us)
			continue;
		rc = PGA_GROW(*out, cap, *n + 1, SIZE_MAX, err);
		if (rc == 0)
			strlcpy((*out)[(*n)++].name, name, sizeof((*out)[0].name));
	}
	PQclear(res);
	return rc;
}

int
loader_retain(struct loader *l, int64_t cutoff_us, uint64_t *dropped, uint64_t *busy,
	      struct pga_err *err)
{
	struct doomed *d = NULL;
	size_t n = 0;
	char q[LD_QNAME_MAX], sql[LD_QNAME_MAX + 32];
	int rc = list_old_partitions(l, cutoff_us, &d, &n, err);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = ld_qualify(l->schema, d[i].name, q, sizeof(q), err);
		if (rc == 0)
			rc = ld_exec(l, "BEGIN", 0, NULL, NULL, err);
		if (rc == 0)
			rc = ld_exec(l, "SET LOCAL lock_timeout = '5s'", 0, NULL, NULL, err);
		if (rc == 0) {
			snprintf(sql, sizeof(sql), "DROP TABLE %s", q);
			rc = ld_exec(l, sql, 0, NULL, NULL, err);
		}
		if (rc == 0)
			rc = ld_exec(l, "COMMIT", 0, NULL, NULL, err);
		if (rc == 0) {
			(*dropped)++;
			log_info("retention: dropped partition '%s'", d[i].name);
		} else if (strcmp(err->sqlstate, "55P03") == 0) {
			ld_rollback(l);
			(*busy)++;
			log_warn("retention: partition '%s' is in use, left for next time", d[i].name);
			rc = 0;
		}
	}
	if (rc < 0)
		ld_rollback(l);
	free(d);
	ld_tables_forget(l);
	return rc;
}
