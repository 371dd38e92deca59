/* custom.c - custom SQL metrics: checks, the server's description, types (custom.h). */
#define _GNU_SOURCE
#include "collect/custom.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "collect/cpg.h"
#include "spool/segment.h"

/* ---- the text of the query ---- */

int
custom_sql_check(const char *sql, struct pga_err *err)
{
	long depth = 0;
	bool words = false;

	for (const char *p = sql; *p;) {
		const char *end = cpg_quoted_end(p, sql);

		if (end == NULL)
			return pga_fail(err, PGA_EINVAL, "sql has an unterminated quote, identifier,"
					" comment or dollar quote at offset %zu", (size_t)(p - sql));
		if (end != p) {
			words |= p[0] != '-' && p[0] != '/';
			p = end;
			continue;
		}
		if (*p == ';')
			return pga_fail(err, PGA_EINVAL, "sql has a ';' at offset %zu: one query, no"
					" ';' (not even at its end)", (size_t)(p - sql));
		if (*p == '(')
			depth++;
		if (*p == ')' && --depth < 0)
			return pga_fail(err, PGA_EINVAL, "sql closes a parenthesis it did not open,"
					" at offset %zu", (size_t)(p - sql));
		words |= !isspace((unsigned char)*p);
		p++;
	}
	if (depth != 0)
		return pga_fail(err, PGA_EINVAL, "sql leaves %ld parenthes%s open", depth,
				depth == 1 ? "is" : "es");
	if (!words)
		return pga_fail(err, PGA_EINVAL, "sql is empty");
	return 0;
}

/* ---- the configuration ---- */

static const char *const role_keys[] = {"keys", "counters", "gauges", "reset-column"};

/* The columns listed under role r (0..3), one at a time. */
static size_t
role_names(const struct pga_metric *m, int r, const char *const **v)
{
	static const char *none;

	switch (r) {
	case 0:
		*v = (const char *const *)m->keys.v;
		return m->keys.n;
	case 1:
		*v = (const char *const *)m->counters.v;
		return m->counters.n;
	case 2:
		*v = (const char *const *)m->gauges.v;
		return m->gauges.n;
	default:
		*v = m->reset_column ? (const char *const *)&m->reset_column : &none;
		return m->reset_column ? 1 : 0;
	}
}

static int
validate_lists(const struct pga_metric *m, struct pga_err *err, int *bad_role)
{
	for (int r = 0; r < 4; r++) {
		const char *const *v;
		size_t n = role_names(m, r, &v);

		*bad_role = r;
		for (size_t i = 0; i < n; i++) {
			if (!seg_column_valid(v[i]))
				return pga_fail(err, PGA_ECONFIG, "'%s': '%s' is not a column name"
						" ([A-Za-z_][A-Za-z0-9_]{0,62}, not a system column nor"
						" collector_id, server_id, snapshot_time, dbname)",
						role_keys[r], v[i]);
			for (int r2 = 0; r2 <= r; r2++) {
				const char *const *w;
				size_t n2 = role_names(m, r2, &w);

				for (size_t j = 0; j < (r2 == r ? i : n2); j++)
					if (strcmp(v[i], w[j]) == 0 && r2 == r)
						return pga_fail(err, PGA_ECONFIG, "column '%s' is in"
								" '%s' twice", v[i], role_keys[r]);
					else if (strcmp(v[i], w[j]) == 0)
						return pga_fail(err, PGA_ECONFIG, "column '%s' is in"
								" '%s' and in '%s': one role each",
								v[i], role_keys[r2], role_keys[r]);
			}
		}
	}
	return 0;
}

static int
validate_one(const struct pga_config *cfg, const struct pga_metric *m, struct pga_err *err)
{
	char where[PATH_MAX + 64], msg[PGA_ERR_MSG_MAX];
	const char *key = "";
	int role = 0, rc = 0;

	if (catalog_find(m->name) != NULL) {
		rc = pga_fail(err, PGA_ECONFIG, "is a built-in metric ('pga help metrics'):"
			      " choose another name");
	} else if (seg_metric_reserved(m->name)) {
		rc = pga_fail(err, PGA_ECONFIG, "is a name the central schema reserves for its"
			      " own objects: choose another name");
	} else if ((rc = custom_sql_check(m->sql, err)) < 0) {
		key = "sql";
	} else if ((rc = validate_lists(m, err, &role)) < 0) {
		key = role_keys[role];
	} else if (m->min_version > 0 && m->max_version > 0 && m->min_version > m->max_version) {
		key = "max-version";
		rc = pga_fail(err, PGA_ECONFIG, "max-version %lld is below min-version %lld: it"
			      " would never run", m->max_version, m->min_version);
	}
	if (rc == 0)
		return 0;
	strlcpy(msg, err->msg, sizeof(msg));
	return pga_fail(err, PGA_ECONFIG, "%s: [metric:%s] %s",
			pga_config_metric_where(cfg, m, key, where, sizeof(where)), m->name, msg);
}

int
custom_validate(const struct pga_config *cfg, struct pga_err *err)
{
	for (size_t i = 0; i < cfg->nmetrics; i++) {
		int rc = validate_one(cfg, &cfg->metrics[i], err);

		if (rc < 0)
			return rc;
	}
	return 0;
}

bool
custom_version_ok(const struct pga_metric *m, int server_version)
{
	return server_version >= m->min_version &&
	       (m->max_version == 0 || server_version <= m->max_version);
}

bool
custom_due(const struct pga_metric *m, int server_version, uint64_t cycle)
{
	uint64_t every = m->every > 1 ? (uint64_t)m->every : 1;

	return m->enabled && custom_version_ok(m, server_version) &&
	       (cycle == 0 || (cycle - 1) % every == 0);
}

/* ---- the server's description ---- */

const char *
custom_type_name(Oid type)
{
	/* built-in type oids are fixed across PostgreSQL versions (pg_type.dat) */
	static const struct {
		Oid oid;
		const char *name;
	} types[] = {
		{16, "boolean"}, {17, "bytea"}, {20, "bigint"}, {21, "smallint"}, {23, "integer"},
		{25, "text"}, {26, "oid"}, {28, "xid"}, {114, "json"}, {700, "real"},
		{701, "double precision"}, {869, "inet"}, {1042, "text"}, {1043, "text"},
		{1082, "date"}, {1114, "timestamp"}, {1184, "timestamptz"}, {1186, "interval"},
		{1700, "numeric"}, {2950, "uuid"}, {3220, "pg_lsn"}, {3802, "jsonb"},
		{5069, "xid8"}, {19, "text"},
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].oid == type)
			return types[i].name;
	return "text";
}

void
custom_def_release(struct custom_def *d)
{
	free(d->cols);
	free(d->names);
	d->cols = NULL;
	d->names = NULL;
	d->def.cols = NULL;
	d->def.ncols = 0;
}

/* Column i's role; COL_INFO for the reset column and the columns not listed. */
static enum col_kind
role_of(const struct pga_metric *m, const char *name)
{
	static const enum col_kind kinds[] = {COL_KEY, COL_COUNTER, COL_GAUGE, COL_INFO};

	for (int r = 0; r < 4; r++) {
		const char *const *v;
		size_t n = role_names(m, r, &v);

		for (size_t i = 0; i < n; i++)
			if (strcmp(v[i], name) == 0)
				return kinds[r];
	}
	return COL_INFO;
}

/* Every listed column is in the result of r. */
static int
listed_present(const struct pga_config *cfg, const struct pga_metric *m, const PGresult *r,
	       struct pga_err *err)
{
	char where[PATH_MAX + 64];

	for (int k = 0; k < 4; k++) {
		const char *const *v;
		size_t n = role_names(m, k, &v);

		for (size_t i = 0; i < n; i++) {
			int f = 0;

			while (f < PQnfields(r) && strcmp(PQfname(r, f), v[i]) != 0)
				f++;
			if (f == PQnfields(r))
				return pga_fail(err, PGA_EINVAL, "%s column '%s' is not in the query's"
						" result (%s)", role_keys[k], v[i],
						pga_config_metric_where(cfg, m, role_keys[k], where,
									sizeof(where)));
		}
	}
	return 0;
}

/* The result's columns: a count the block takes, names a table takes, each once. */
static int
check_columns(const PGresult *r, struct pga_err *err)
{
	int n = PQnfields(r);

	if (n == 0)
		return pga_fail(err, PGA_EINVAL, "the query returns no columns (is it a SELECT?)");
	if (n > SEG_MAX_COLS)
		return pga_fail(err, PGA_EINVAL, "the query returns %d columns, at most %d", n,
				SEG_MAX_COLS);
	for (int i = 0; i < n; i++) {
		if (!seg_column_valid(PQfname(r, i)))
			return pga_fail(err, PGA_EINVAL, "result column %d '%.64s' is not a column"
					" name: name it with AS ([A-Za-z_][A-Za-z0-9_]{0,62}, not a"
					" system column nor collector_id, server_id, snapshot_time,"
					" dbname)", i + 1, PQfname(r, i));
		for (int j = 0; j < i; j++)
			if (strcmp(PQfname(r, i), PQfname(r, j)) == 0)
				return pga_fail(err, PGA_EINVAL, "result column '%s' appears twice:"
						" name them apart with AS", PQfname(r, i));
	}
	return 0;
}

/* d's columns from the description r (checked). */
static int
fill_def(struct custom_def *d, const struct pga_metric *m, const PGresult *r,
	 struct pga_err *err)
{
	int n = PQnfields(r);
	size_t len = 0, off = 0;

	if (n <= 0 || n > SEG_MAX_COLS)
		return pga_fail(err, PGA_EINVAL, "the query returns %d columns", n);
	for (int i = 0; i < n; i++)
		len += strlen(PQfname(r, i)) + 1;
	d->cols = calloc((size_t)n, sizeof(*d->cols));
	d->names = malloc(len);
	if (d->cols == NULL || d->names == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++) {
		size_t l = strlen(PQfname(r, i)) + 1;

		memcpy(d->names + off, PQfname(r, i), l);
		d->cols[i].name = d->names + off;
		d->cols[i].type = custom_type_name(PQftype(r, i));
		d->cols[i].kind = role_of(m, d->cols[i].name);
		if (d->cols[i].kind == COL_COUNTER)
			d->def.flags |= METRIC_CUMULATIVE;
		if (m->reset_column != NULL && strcmp(m->reset_column, d->cols[i].name) == 0)
			d->def.reset_col = d->cols[i].name;
		off += l;
	}
	d->def.cols = d->cols;
	d->def.ncols = (size_t)n;
	return 0;
}

int
custom_describe(PGconn *conn, const struct pga_config *cfg, const struct pga_metric *m,
		int64_t deadline, struct custom_def *d, struct pga_err *err)
{
	PGresult *r = NULL;
	int rc;

	memset(d, 0, sizeof(*d));
	d->cfg = m;
	d->def.name = m->name;
	d->def.scope = m->scope == PGA_METRIC_DATABASE ? METRIC_DATABASE : METRIC_CLUSTER;
	d->def.source = METRIC_SQL;
	d->def.flags = METRIC_CUSTOM;
	d->def.doc = "custom metric (pga.conf)";
	d->sql.min_version = (int)m->min_version;
	d->sql.max_version = (int)m->max_version;
	d->sql.sql = m->sql;
	d->def.sql = &d->sql;
	d->def.nsql = 1;
	rc = custom_sql_check(m->sql, err);	/* the configuration was checked: again, cheaply */
	if (rc == 0)
		rc = cpg_describe(conn, m->sql, deadline, &r, err);
	if (rc == 0)
		rc = check_columns(r, err);
	if (rc == 0)
		rc = listed_present(cfg, m, r, err);
	if (rc == 0)
		rc = fill_def(d, m, r, err);
	PQclear(r);
	return rc;
}

char *
custom_prefix(const struct pga_config *cfg, const struct pga_metric *m)
{
	int64_t us = m->statement_timeout > 0 ? m->statement_timeout :
		     cfg->global.statement_timeout;
	long long msec = us <= 0 ? 0 : us < 1000 ? 1 : us / 1000;
	char *s = NULL;

	if (asprintf(&s, "SELECT set_config('standard_conforming_strings', 'on', true),"
		     " set_config('statement_timeout', '%lld', true); ", msec) < 0)
		return NULL;
	return s;
}

/* ---- documentation ---- */

static void
print_list(FILE *out, const char *what, const struct pga_list *l)
{
	if (l->n == 0)
		return;
	fprintf(out, "    %s:", what);
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s%s", i ? ", " : " ", l->v[i]);
	fprintf(out, "\n");
}

void
custom_print_doc(FILE *out, const struct pga_config *cfg)
{
	fprintf(out, "\nCustom metrics ([metric:NAME] sections of the configuration, 'pga help"
		" config'):\n");
	if (cfg == NULL || cfg->nmetrics == 0) {
		fprintf(out, "  none configured%s%s\n", cfg && cfg->path ? " in " : "",
			cfg && cfg->path ? cfg->path : "");
		return;
	}
	for (size_t i = 0; i < cfg->nmetrics; i++) {
		const struct pga_metric *m = &cfg->metrics[i];

		fprintf(out, "  %s (%s%s", m->name, m->scope == PGA_METRIC_DATABASE ? "database" :
			"cluster", m->enabled ? "" : ", disabled");
		if (m->min_version > 0 || m->max_version > 0)
			fprintf(out, ", server_version_num %lld..%lld", m->min_version,
				m->max_version);
		if (m->every > 1)
			fprintf(out, ", every %lld cycles", m->every);
		fprintf(out, ")\n    sql: %s\n", m->sql ? m->sql : "");
		print_list(out, "keys", &m->keys);
		print_list(out, "counters", &m->counters);
		print_list(out, "gauges", &m->gauges);
		if (m->reset_column)
			fprintf(out, "    reset-column: %s\n", m->reset_column);
	}
}
