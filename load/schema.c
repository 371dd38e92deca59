/*
 * schema.c - the central schema: versioned migrations and catalog tables
 *
 * Two layers, on purpose:
 *   - Migrations (below, numbered, never edited once released) create the
 *     fixed objects: registry, ledger, quarantine, gap views (1); block
 *     refusals, block records and held forks (2).  They run in
 *     one transaction and each is recorded in schema_version.  A database
 *     at a higher version than this pga knows is refused.
 *   - Catalog tables are generated from collect/catalog.c.  A new catalog
 *     metric or column is not a new migration: the generated DDL is
 *     additive and idempotent (CREATE TABLE IF NOT EXISTS, ADD COLUMN for
 *     what is missing, the delta view recreated), and is applied at --init
 *     and whenever a loader meets a database that has not seen this
 *     catalog's fingerprint (SHA-256 of the generated DDL, recorded in
 *     catalog_applied).  So adding a metric is adding one catalog entry.
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "collect/catalog.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/pgutil.h"

/* ---- names ---- */

uint64_t
ld_hash64(const void *buf, size_t len, uint64_t h)
{
	const unsigned char *p = buf;

	if (h == 0)
		h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
ld_derived_name(const char *metric, const char *suffix, char *buf, size_t cap)
{
	size_t ml = strlen(metric), sl = strlen(suffix);

	if (ml + sl <= LD_IDENT_MAX - 1) {
		snprintf(buf, cap, "%s%s", metric, suffix);
		return;
	}
	snprintf(buf, cap, "%.*s_%08" PRIx32 "%s", (int)(LD_IDENT_MAX - 1 - sl - 9), metric,
		 (uint32_t)ld_hash64(metric, ml, 0), suffix);
}

static const char *const reserved_names[] = {
	"schema_version", "collectors", "servers", "segments", "segment_windows",
	"quarantine", "catalog_applied", "metrics", "gaps", "chain_breaks", "block_record",
	"held_segments", "held_rows", NULL,
};

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool
ld_metric_reserved(const char *metric)
{
	size_t n = strlen(metric);

	for (const char *const *r = reserved_names; *r; r++)
		if (strcmp(metric, *r) == 0)
			return true;
	if (ends_with(metric, "_delta") || ends_with(metric, "_series"))
		return true;
	/* partition names: <metric>_pYYYYMMDD */
	if (n >= 10 && metric[n - 10] == '_' && metric[n - 9] == 'p' &&
	    strspn(metric + n - 8, "0123456789") == 8)
		return true;
	return false;
}

bool
ld_fixed_col(const char *name)
{
	return strcmp(name, "collector_id") == 0 || strcmp(name, "server_id") == 0 ||
	       strcmp(name, "snapshot_time") == 0 || strcmp(name, "dbname") == 0;
}

int
ld_qualify(const char *schema, const char *name, char *buf, size_t cap,
	   struct pga_err *err)
{
	char qs[2 * LD_IDENT_MAX + 4], qn[2 * LD_IDENT_MAX + 4];

	if (pga_pg_quote_ident(schema, qs, sizeof(qs), err) < 0 ||
	    pga_pg_quote_ident(name, qn, sizeof(qn), err) < 0)
		return err->code;
	if ((size_t)snprintf(buf, cap, "%s.%s", qs, qn) >= cap)
		return pga_fail(err, PGA_EINVAL, "name too long '%s.%s'", schema, name);
	return 0;
}

int32_t
ld_day_of(int64_t us)
{
	int64_t d = us / LD_DAY_US;

	if (us % LD_DAY_US < 0)
		d--;
	return (int32_t)d;
}

int
ld_grow(void **v, size_t *cap, size_t need, size_t elem, struct pga_err *err)
{
	size_t n = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = reallocarray(*v, n, elem);
	if (p == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	*v = p;
	*cap = n;
	return 0;
}

/* ---- a growable SQL text ---- */

void
ld_sb_add(struct ld_sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s != NULL && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 4096;

		while (cap <= b->len + (size_t)n)
			cap *= 2;
		char *p = realloc(b->s, cap);

		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
}

void
ld_sb_lit(struct ld_sb *b, PGconn *conn, const char *s)
{
	char *lit;

	if (s == NULL) {
		ld_sb_add(b, "NULL");
		return;
	}
	lit = PQescapeLiteral(conn, s, strlen(s));
	if (lit == NULL) {
		b->oom = true;
		return;
	}
	ld_sb_add(b, "%s", lit);
	PQfreemem(lit);
}

void
ld_sb_free(struct ld_sb *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/* ---- migrations ---- */

struct migration {
	int version;
	const char *description;
	const char *sql;	/* @s@ stands for the quoted schema */
};

static const struct migration migrations[] = {
	{1, "registry, ledger, quarantine, gaps",
	 "CREATE TABLE @s@.schema_version ("
	 " version integer PRIMARY KEY,"
	 " description text NOT NULL,"
	 " pga_version text NOT NULL,"
	 " applied_at timestamptz NOT NULL DEFAULT now());"
	 "CREATE TABLE @s@.collectors ("
	 " collector_id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	 " collector text NOT NULL UNIQUE,"
	 " hostname text,"
	 " writer text,"
	 " public_key bytea,"
	 " first_seen timestamptz NOT NULL DEFAULT now(),"
	 " last_seen timestamptz,"
	 " last_seq bigint,"
	 " last_snapshot timestamptz);"
	 "CREATE TABLE @s@.servers ("
	 " server_id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
	 " system_identifier numeric(20,0) NOT NULL,"
	 " host text NOT NULL,"
	 " port integer NOT NULL,"
	 " target text,"
	 " server_version integer,"
	 " first_seen timestamptz NOT NULL DEFAULT now(),"
	 " UNIQUE (system_identifier, host, port));"
	 "CREATE TABLE @s@.segments ("
	 " collector_id integer NOT NULL REFERENCES @s@.collectors,"
	 " seq bigint NOT NULL,"
	 " sha256 bytea NOT NULL,"
	 " body_sha256 bytea NOT NULL,"
	 " prev_sha256 bytea NOT NULL,"
	 " name text NOT NULL,"
	 " size bigint NOT NULL,"
	 " created timestamptz NOT NULL,"
	 " min_snapshot timestamptz,"
	 " max_snapshot timestamptz,"
	 " blocks integer NOT NULL,"
	 " total_rows bigint NOT NULL,"
	 " rows bigint NOT NULL,"
	 " recovered boolean NOT NULL,"
	 " complete boolean NOT NULL,"
	 " loaded_at timestamptz NOT NULL DEFAULT now(),"
	 " PRIMARY KEY (collector_id, seq));"
	 "COMMENT ON COLUMN @s@.segments.sha256 IS 'SHA-256 of the whole file (what sha256sum prints)';"
	 "COMMENT ON COLUMN @s@.segments.body_sha256 IS 'the footer''s SHA-256 of the bytes before it';"
	 "COMMENT ON COLUMN @s@.segments.complete IS 'false while --since/--until left blocks out';"
	 "CREATE TABLE @s@.segment_windows ("
	 " collector_id integer NOT NULL,"
	 " seq bigint NOT NULL,"
	 " since timestamptz,"
	 " until timestamptz,"
	 " rows bigint NOT NULL,"
	 " loaded_at timestamptz NOT NULL DEFAULT now(),"
	 " FOREIGN KEY (collector_id, seq) REFERENCES @s@.segments ON DELETE CASCADE);"
	 "CREATE INDEX segment_windows_seg ON @s@.segment_windows (collector_id, seq);"
	 "CREATE TABLE @s@.quarantine ("
	 " name text NOT NULL,"
	 " kind text NOT NULL CHECK (kind IN ('conflict', 'corrupt', 'rejected')),"
	 " collector text,"
	 " seq bigint,"
	 " sha256 bytea,"
	 " error text NOT NULL,"
	 " first_seen timestamptz NOT NULL DEFAULT now(),"
	 " last_seen timestamptz NOT NULL DEFAULT now(),"
	 " times integer NOT NULL DEFAULT 1,"
	 " resolved_at timestamptz,"
	 " PRIMARY KEY (name, kind));"
	 "CREATE TABLE @s@.catalog_applied ("
	 " fingerprint text PRIMARY KEY,"
	 " pga_version text NOT NULL,"
	 " applied_at timestamptz NOT NULL DEFAULT now());"
	 "CREATE TABLE @s@.metrics ("
	 " metric text PRIMARY KEY,"
	 " kind text NOT NULL CHECK (kind IN ('catalog', 'custom')),"
	 " created_at timestamptz NOT NULL DEFAULT now());"
	 "CREATE VIEW @s@.gaps AS"
	 " SELECT c.collector, g.collector_id, g.from_seq, g.to_seq,"
	 "  g.to_seq - g.from_seq + 1 AS missing"
	 " FROM (SELECT collector_id, coalesce(lag(seq) OVER w, 0) + 1 AS from_seq,"
	 "        seq - 1 AS to_seq"
	 "       FROM @s@.segments WINDOW w AS (PARTITION BY collector_id ORDER BY seq)) g"
	 " JOIN @s@.collectors c USING (collector_id)"
	 " WHERE g.to_seq >= g.from_seq;"
	 "CREATE VIEW @s@.chain_breaks AS"
	 " SELECT c.collector, s.collector_id, s.seq, p.sha256 AS prev_sha256,"
	 "  s.prev_sha256 AS header_prev_sha256"
	 " FROM @s@.segments s"
	 " JOIN @s@.segments p ON p.collector_id = s.collector_id AND p.seq = s.seq - 1"
	 " JOIN @s@.collectors c ON c.collector_id = s.collector_id"
	 " WHERE s.prev_sha256 <> p.sha256;"},
	/*
	 * Nothing lost, nothing silent (see SCHEMA.md): every refusal down to
	 * one block, what each loaded block was (to unload it exactly), and
	 * segments held out of the ledger because they fork a collector's
	 * chain, with their bytes as large objects.
	 */
	{2, "refusals per block, block records, held forks",
	 "CREATE TYPE @s@.block_record AS (block integer, metric text, server_id integer,"
	 " snapshot_time timestamptz, dbname text, rows bigint);"
	 "ALTER TABLE @s@.segments"
	 " ADD COLUMN blocks_refused integer NOT NULL DEFAULT 0,"
	 " ADD COLUMN rows_refused bigint NOT NULL DEFAULT 0,"
	 " ADD COLUMN hostname text,"
	 " ADD COLUMN loaded_blocks @s@.block_record[];"
	 "COMMENT ON COLUMN @s@.segments.blocks_refused IS 'blocks not loaded: data the server refused, reserved metric names';"
	 "COMMENT ON COLUMN @s@.segments.loaded_blocks IS 'every loaded block (what unloading it exactly needs); NULL: loaded before migration 2';"
	 "ALTER TABLE @s@.quarantine"
	 " ADD COLUMN block integer,"
	 " ADD COLUMN metric text,"
	 " ADD COLUMN sqlstate text,"
	 " ADD COLUMN rows bigint,"
	 " DROP CONSTRAINT quarantine_pkey,"
	 " DROP CONSTRAINT quarantine_kind_check,"
	 " ADD CONSTRAINT quarantine_kind_check CHECK (kind IN ('conflict', 'corrupt', 'rejected',"
	 "  'block', 'reserved', 'columns', 'chain'));"
	 "CREATE UNIQUE INDEX quarantine_key ON @s@.quarantine (name, kind, coalesce(block, -1));"
	 "COMMENT ON COLUMN @s@.quarantine.block IS 'block number for a refused block, NULL for a whole segment';"
	 "CREATE TABLE @s@.held_segments ("
	 " collector text NOT NULL,"
	 " seq bigint NOT NULL,"
	 " sha256 bytea NOT NULL,"
	 " prev_sha256 bytea NOT NULL,"
	 " name text NOT NULL,"
	 " hostname text,"
	 " writer text,"
	 " created timestamptz,"
	 " size bigint NOT NULL,"
	 " blocks integer,"
	 " total_rows bigint,"
	 " reason text NOT NULL CHECK (reason IN ('conflict', 'chain', 'unloaded')),"
	 " detail text NOT NULL,"
	 " content oid,"
	 " first_seen timestamptz NOT NULL DEFAULT now(),"
	 " last_seen timestamptz NOT NULL DEFAULT now(),"
	 " times integer NOT NULL DEFAULT 1,"
	 " resolved_at timestamptz,"
	 " resolution text,"
	 " PRIMARY KEY (collector, seq, sha256));"
	 "COMMENT ON COLUMN @s@.held_segments.content IS 'large object with the segment file''s bytes (NULL once loaded, or for an unloaded segment whose rows are in held_rows)';"
	 "CREATE TABLE @s@.held_rows ("
	 " collector text NOT NULL,"
	 " seq bigint NOT NULL,"
	 " sha256 bytea NOT NULL,"
	 " block integer NOT NULL,"
	 " metric text NOT NULL,"
	 " row jsonb NOT NULL);"
	 "CREATE INDEX held_rows_seg ON @s@.held_rows (collector, seq, sha256);"},
	/*
	 * Trust (SCHEMA.md "Signatures and the registry", "The ledger's hash
	 * chain"): collectors registered with their public keys, each ledger
	 * row's signature and its place in a hash chain over the ledger.
	 */
	{3, "collector registry, signatures, ledger hash chain",
	 "CREATE TABLE @s@.registered_collectors ("
	 " collector text PRIMARY KEY,"
	 " environment text,"
	 " collector_group text,"
	 " description text,"
	 " registered_at timestamptz NOT NULL DEFAULT now());"
	 "CREATE TABLE @s@.collector_keys ("
	 " key_id bytea PRIMARY KEY,"
	 " collector text NOT NULL REFERENCES @s@.registered_collectors ON DELETE CASCADE,"
	 " public_key text NOT NULL,"
	 " valid_from timestamptz NOT NULL DEFAULT '-infinity',"
	 " revoked_at timestamptz,"
	 " added_at timestamptz NOT NULL DEFAULT now());"
	 "CREATE INDEX collector_keys_collector ON @s@.collector_keys (collector);"
	 "COMMENT ON COLUMN @s@.collector_keys.key_id IS 'SHA-256 of the raw Ed25519 public key';"
	 "COMMENT ON COLUMN @s@.collector_keys.revoked_at IS 'segments created at or after this are refused';"
	 "CREATE SEQUENCE @s@.ledger_no;"
	 "ALTER TABLE @s@.segments"
	 " ADD COLUMN signed_key_id bytea,"
	 " ADD COLUMN signature bytea,"
	 " ADD COLUMN ledger_no bigint,"
	 " ADD COLUMN prev_row_hash bytea,"
	 " ADD COLUMN row_hash bytea;"
	 "CREATE UNIQUE INDEX segments_ledger_no ON @s@.segments (ledger_no);"
	 "COMMENT ON COLUMN @s@.segments.signed_key_id IS 'key id of the signature frame; NULL: unsigned';"
	 "COMMENT ON COLUMN @s@.segments.row_hash IS 'ledger_hash(prev_row_hash, this row); NULL: loaded before migration 3';"
	 "CREATE FUNCTION @s@.ledger_hash(prev bytea, ledger_no bigint, collector_id integer,"
	 "  seq bigint, sha256 bytea, body_sha256 bytea, prev_sha256 bytea, name text, size bigint,"
	 "  created timestamptz, signed_key_id bytea, signature bytea) RETURNS bytea"
	 " LANGUAGE sql IMMUTABLE AS $f$ SELECT sha256(coalesce(prev, ''::bytea) ||"
	 "  convert_to(concat_ws('|', ledger_no, collector_id, seq, encode(sha256, 'hex'),"
	 "  encode(body_sha256, 'hex'), encode(prev_sha256, 'hex'), name, size,"
	 "  (extract(epoch FROM created) * 1000000)::bigint,"
	 "  coalesce(encode(signed_key_id, 'hex'), '-'), coalesce(encode(signature, 'hex'), '-')),"
	 "  'UTF8')) $f$;"
	 "ALTER TABLE @s@.held_segments"
	 " ADD COLUMN ledger_no bigint,"
	 " ADD COLUMN prev_row_hash bytea,"
	 " ADD COLUMN row_hash bytea;"
	 "COMMENT ON COLUMN @s@.held_segments.row_hash IS 'an unloaded ledger row''s link in the ledger''s hash chain';"
	 "ALTER TABLE @s@.quarantine"
	 " DROP CONSTRAINT quarantine_kind_check,"
	 " ADD CONSTRAINT quarantine_kind_check CHECK (kind IN ('conflict', 'corrupt', 'rejected',"
	 "  'block', 'reserved', 'columns', 'chain', 'signature'));"},
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

static char *
subst_schema(const char *sql, const char *qschema)
{
	struct ld_sb b = {0};

	for (const char *p = sql; *p;) {
		const char *at = strstr(p, "@s@");

		if (at == NULL) {
			ld_sb_add(&b, "%s", p);
			break;
		}
		ld_sb_add(&b, "%.*s%s", (int)(at - p), p, qschema);
		p = at + 3;
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

char *
ld_migration_sql(int version, const char *qschema, const char **description)
{
	for (size_t i = 0; i < NMIGRATIONS; i++)
		if (migrations[i].version == version) {
			if (description != NULL)
				*description = migrations[i].description;
			return subst_schema(migrations[i].sql, qschema);
		}
	return NULL;
}

int
ld_schema_version(struct loader *l, int *version, struct pga_err *err)
{
	const char *params[1] = {l->schema};
	PGresult *res = NULL;
	char sql[512];
	int rc;

	*version = 0;
	rc = ld_exec(l, "SELECT to_regclass(quote_ident($1) || '.schema_version') IS NOT NULL",
		     1, params, &res, err);
	if (rc < 0)
		return rc;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return 0;
	}
	PQclear(res);
	snprintf(sql, sizeof(sql), "SELECT coalesce(max(version), 0) FROM %s.schema_version",
		 l->qschema);
	rc = ld_exec(l, sql, 0, NULL, &res, err);
	if (rc == 0)
		*version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static int
apply_migration(struct loader *l, const struct migration *m, struct pga_err *err)
{
	char *sql = subst_schema(m->sql, l->qschema);
	char ver[16];
	const char *params[3] = {ver, m->description, "pga " PGA_VERSION};
	char ins[512];
	int rc;

	if (sql == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = ld_exec(l, sql, 0, NULL, NULL, err);
	free(sql);
	if (rc < 0)
		return pga_err_prefix(err, "migration %d", m->version);
	snprintf(ver, sizeof(ver), "%d", m->version);
	snprintf(ins, sizeof(ins), "INSERT INTO %s.schema_version (version, description, pga_version)"
		 " VALUES ($1, $2, $3)", l->qschema);
	return ld_exec(l, ins, 3, params, NULL, err);
}

int
ld_schema_migrate(struct loader *l, struct pga_err *err)
{
	char sql[512], lockkey[32];
	const char *params[1] = {lockkey};
	int version = 0, rc;

	snprintf(lockkey, sizeof(lockkey), "%" PRId64,
		 (int64_t)ld_hash64(l->schema, strlen(l->schema), 0x5ca1ab1e));
	rc = ld_exec(l, "BEGIN", 0, NULL, NULL, err);
	if (rc < 0)
		return rc;
	/* one migrator at a time; the others find the work done */
	rc = ld_exec(l, "SELECT pg_advisory_xact_lock($1::bigint)", 1, params, NULL, err);
	if (rc == 0) {
		snprintf(sql, sizeof(sql), "CREATE SCHEMA IF NOT EXISTS %s", l->qschema);
		rc = ld_exec(l, sql, 0, NULL, NULL, err);
	}
	if (rc == 0)
		rc = ld_schema_version(l, &version, err);
	if (rc == 0 && version > LD_SCHEMA_VERSION)
		rc = pga_fail(err, PGA_EVERSION,
			      "central schema '%s' is at version %d, newer than this pga knows (%d): upgrade pga",
			      l->schema, version, LD_SCHEMA_VERSION);
	for (size_t i = 0; rc == 0 && i < NMIGRATIONS; i++) {
		if (migrations[i].version <= version)
			continue;
		rc = apply_migration(l, &migrations[i], err);
		if (rc == 0)
			log_info("central schema '%s': applied migration %d (%s)", l->schema,
				 migrations[i].version, migrations[i].description);
	}
	if (rc == 0)
		rc = ld_exec(l, "COMMIT", 0, NULL, NULL, err);
	if (rc < 0)
		ld_rollback(l);
	return rc;
}

/* ---- catalog tables ---- */

static int
quote(const char *ident, char *buf, size_t cap, struct pga_err *err)
{
	return pga_pg_quote_ident(ident, buf, cap, err);
}

static bool
has_counters(const struct metric_def *m)
{
	for (size_t i = 0; i < m->ncols; i++)
		if (m->cols[i].kind == COL_COUNTER)
			return true;
	return false;
}

/* PARTITION BY list of a metric's series: fixed columns then its keys. */
static void
series_cols(struct ld_sb *b, const struct metric_def *m, const char *prefix)
{
	char q[2 * LD_IDENT_MAX + 4];

	ld_sb_add(b, "%scollector_id, %sserver_id, %sdbname", prefix, prefix, prefix);
	for (size_t i = 0; i < m->ncols; i++)
		if (m->cols[i].kind == COL_KEY && quote(m->cols[i].name, q, sizeof(q), NULL) == 0)
			ld_sb_add(b, ", %s%s", prefix, q);
}

static void
table_sql(struct ld_sb *b, const char *qschema, const struct metric_def *m)
{
	char q[2 * LD_IDENT_MAX + 4];

	quote(m->name, q, sizeof(q), NULL);
	ld_sb_add(b, "CREATE TABLE IF NOT EXISTS %s.%s (collector_id integer NOT NULL,"
	       " server_id integer NOT NULL, snapshot_time timestamptz NOT NULL, dbname text",
	       qschema, q);
	for (size_t i = 0; i < m->ncols; i++) {
		quote(m->cols[i].name, q, sizeof(q), NULL);
		ld_sb_add(b, ", %s %s", q, m->cols[i].type);
	}
	ld_sb_add(b, ") PARTITION BY RANGE (snapshot_time);\n");
}

/* The index the delta views read series by: fixed columns, keys, time. */
static void
index_sql(struct ld_sb *b, const char *qschema, const struct metric_def *m)
{
	char q[2 * LD_IDENT_MAX + 4], idx[LD_IDENT_MAX], qidx[2 * LD_IDENT_MAX + 4];

	ld_derived_name(m->name, "_series", idx, sizeof(idx));
	quote(idx, qidx, sizeof(qidx), NULL);
	quote(m->name, q, sizeof(q), NULL);
	ld_sb_add(b, "CREATE INDEX IF NOT EXISTS %s ON %s.%s (", qidx, qschema, q);
	series_cols(b, m, "");
	ld_sb_add(b, ", snapshot_time);\n");
}

/*
 * A metric whose resets another metric of the same snapshot announces:
 * pg_stat_statements_reset() shows in pg_stat_statements_info.stats_reset,
 * while an entry's own counters may well have grown past their old values
 * again by the next snapshot.  Its dealloc count says how many entries were
 * evicted meanwhile (their series restart; a view column shows it).
 */
struct companion {
	const char *metric, *from, *reset_col, *evict_col;
};

static const struct companion companions[] = {
	{"pg_stat_statements", "pg_stat_statements_info", "stats_reset", "dealloc"},
};

static const struct companion *
companion_of(const struct metric_def *m)
{
	for (size_t i = 0; i < sizeof(companions) / sizeof(companions[0]); i++)
		if (strcmp(companions[i].metric, m->name) == 0 &&
		    catalog_find(companions[i].from) != NULL)
			return &companions[i];
	return NULL;
}

/* FROM of the delta view's innermost select: the table, or it with its companion. */
static void
delta_source(struct ld_sb *b, const char *qschema, const struct metric_def *m,
	     const struct companion *c)
{
	char qt[2 * LD_IDENT_MAX + 4], qc[2 * LD_IDENT_MAX + 4];
	char qr[2 * LD_IDENT_MAX + 4], qe[2 * LD_IDENT_MAX + 4];

	quote(m->name, qt, sizeof(qt), NULL);
	if (c == NULL) {
		ld_sb_add(b, "%s.%s t", qschema, qt);
		return;
	}
	quote(c->from, qc, sizeof(qc), NULL);
	quote(c->reset_col, qr, sizeof(qr), NULL);
	quote(c->evict_col, qe, sizeof(qe), NULL);
	ld_sb_add(b, "(SELECT t0.*, c0.%s AS comp__reset, c0.%s AS comp__evict FROM %s.%s t0"
		  " LEFT JOIN LATERAL (SELECT c.%s, c.%s FROM %s.%s c WHERE c.collector_id ="
		  " t0.collector_id AND c.server_id = t0.server_id AND c.snapshot_time ="
		  " t0.snapshot_time LIMIT 1) c0 ON true) t", qr, qe, qschema, qt, qr, qe, qschema, qc);
}

/*
 * The delta view: per series, each snapshot minus the one before.  A reset
 * (any counter smaller than before, or the reset column changed) makes the
 * interval's delta the counter itself: it counted up from zero since.
 */
static void
delta_view_sql(struct ld_sb *b, const char *qschema, const struct metric_def *m)
{
	char q[2 * LD_IDENT_MAX + 4], vname[LD_IDENT_MAX], qv[2 * LD_IDENT_MAX + 4];
	char rq[2 * LD_IDENT_MAX + 4];
	const struct companion *c = companion_of(m);
	bool first = true;

	ld_derived_name(m->name, "_delta", vname, sizeof(vname));
	quote(vname, qv, sizeof(qv), NULL);
	ld_sb_add(b, "DROP VIEW IF EXISTS %s.%s;\nCREATE VIEW %s.%s AS SELECT ", qschema, qv, qschema, qv);
	series_cols(b, m, "");
	ld_sb_add(b, ", lag__snapshot_time AS prev_snapshot_time, snapshot_time,"
	       " snapshot_time - lag__snapshot_time AS elapsed, is__reset AS reset");
	for (size_t i = 0; i < m->ncols; i++) {
		if (m->cols[i].kind == COL_KEY)
			continue;
		quote(m->cols[i].name, q, sizeof(q), NULL);
		if (m->cols[i].kind == COL_COUNTER && strcmp(m->cols[i].type, "pg_lsn") == 0)
			/* a position: its delta is bytes, and bytes since 0/0 after a reset */
			ld_sb_add(b, ", CASE WHEN is__reset THEN %s - '0/0'::pg_lsn ELSE %s - \"lag__%s\""
			       " END AS %s", q, q, m->cols[i].name, q);
		else if (m->cols[i].kind == COL_COUNTER)
			ld_sb_add(b, ", CASE WHEN is__reset THEN %s ELSE %s - \"lag__%s\" END AS %s",
			       q, q, m->cols[i].name, q);
		else
			ld_sb_add(b, ", %s", q);
	}
	if (c != NULL)
		ld_sb_add(b, ", CASE WHEN comp__reset IS DISTINCT FROM lag__comp_reset THEN comp__evict"
			  " ELSE comp__evict - lag__comp_evict END AS evictions");
	ld_sb_add(b, " FROM (SELECT d.*, (");
	for (size_t i = 0; i < m->ncols; i++) {
		if (m->cols[i].kind != COL_COUNTER)
			continue;
		quote(m->cols[i].name, q, sizeof(q), NULL);
		ld_sb_add(b, "%scoalesce(%s < \"lag__%s\", false)", first ? "" : " OR ", q,
		       m->cols[i].name);
		first = false;
	}
	if (m->reset_col != NULL) {
		quote(m->reset_col, rq, sizeof(rq), NULL);
		ld_sb_add(b, " OR %s IS DISTINCT FROM lag__reset", rq);
	}
	if (c != NULL)
		ld_sb_add(b, " OR comp__reset IS DISTINCT FROM lag__comp_reset");
	ld_sb_add(b, ") AS is__reset FROM (SELECT t.*, lag(snapshot_time) OVER w AS lag__snapshot_time");
	for (size_t i = 0; i < m->ncols; i++) {
		if (m->cols[i].kind != COL_COUNTER)
			continue;
		quote(m->cols[i].name, q, sizeof(q), NULL);
		ld_sb_add(b, ", lag(%s) OVER w AS \"lag__%s\"", q, m->cols[i].name);
	}
	if (m->reset_col != NULL)
		ld_sb_add(b, ", lag(%s) OVER w AS lag__reset", rq);
	if (c != NULL)
		ld_sb_add(b, ", lag(comp__reset) OVER w AS lag__comp_reset,"
			  " lag(comp__evict) OVER w AS lag__comp_evict");
	ld_sb_add(b, " FROM ");
	delta_source(b, qschema, m, c);
	ld_sb_add(b, " WINDOW w AS (PARTITION BY ");
	series_cols(b, m, "t.");
	ld_sb_add(b, " ORDER BY t.snapshot_time)) d) x WHERE lag__snapshot_time IS NOT NULL;\n");
	ld_sb_add(b, "COMMENT ON VIEW %s.%s IS 'per-interval differences of %s; a counter going"
	       " backwards or a changed reset column counts as a reset';\n", qschema, qv, m->name);
}

int
ld_schema_metric_sql(const char *qschema, const struct metric_def *m, char **sql,
		     struct pga_err *err)
{
	struct ld_sb b = {0};

	table_sql(&b, qschema, m);
	index_sql(&b, qschema, m);
	if (has_counters(m))
		delta_view_sql(&b, qschema, m);
	if (b.oom) {
		free(b.s);
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	*sql = b.s;
	return 0;
}

/* ADD COLUMN for catalog columns an older pga did not create. */
static int
add_missing_columns(struct loader *l, const struct metric_def *m, struct ld_table *t,
		    struct pga_err *err)
{
	char qt[LD_QNAME_MAX], q[2 * LD_IDENT_MAX + 4], sql[LD_SQL_MAX];
	int rc = ld_qualify(l->schema, m->name, qt, sizeof(qt), err);

	for (size_t i = 0; rc == 0 && i < m->ncols; i++) {
		if (ld_table_has_col(t, m->cols[i].name))
			continue;
		quote(m->cols[i].name, q, sizeof(q), NULL);
		snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", qt, q,
			 m->cols[i].type);
		rc = ld_exec(l, sql, 0, NULL, NULL, err);
		if (rc == 0)
			log_info("central table '%s': added column '%s'", m->name, m->cols[i].name);
	}
	return rc;
}

static int
index_exists(struct loader *l, const struct metric_def *m, bool *exists, struct pga_err *err)
{
	char idx[LD_IDENT_MAX], qidx[LD_QNAME_MAX];
	const char *params[1] = {qidx};
	PGresult *res = NULL;
	int rc;

	ld_derived_name(m->name, "_series", idx, sizeof(idx));
	rc = ld_qualify(l->schema, idx, qidx, sizeof(qidx), err);
	if (rc == 0)
		rc = ld_exec(l, "SELECT to_regclass($1) IS NOT NULL", 1, params, &res, err);
	*exists = rc == 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

/*
 * Only what is missing is created: statements on an existing table (even
 * CREATE INDEX IF NOT EXISTS) would lock it against loaders busy with it.
 */
static int
ensure_table(struct loader *l, const struct metric_def *m, struct pga_err *err)
{
	struct ld_table *t = NULL;
	struct ld_sb b = {0};
	char reg[512];
	const char *params[1] = {m->name};
	bool have_index = false;
	int rc;

	if (!seg_metric_valid(m->name))
		return pga_fail(err, PGA_EINTERNAL, "catalog metric name '%s' is invalid", m->name);
	rc = ld_table_load(l, m->name, &t, err);
	if (rc == 0 && t != NULL)
		rc = add_missing_columns(l, m, t, err);
	if (rc == 0)
		rc = index_exists(l, m, &have_index, err);
	if (rc == 0 && t == NULL)
		table_sql(&b, l->qschema, m);
	if (rc == 0 && !have_index)
		index_sql(&b, l->qschema, m);
	if (rc == 0 && b.oom)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	if (rc == 0 && b.s != NULL)
		rc = ld_exec(l, b.s, 0, NULL, NULL, err);
	ld_sb_free(&b);
	if (rc < 0)
		return pga_err_prefix(err, "central table '%s'", m->name);
	snprintf(reg, sizeof(reg), "INSERT INTO %s.metrics (metric, kind) VALUES ($1, 'catalog')"
		 " ON CONFLICT (metric) DO UPDATE SET kind = 'catalog'", l->qschema);
	return ld_exec(l, reg, 1, params, NULL, err);
}

/* Replaced every time (loaders never lock views); after every table exists. */
static int
ensure_view(struct loader *l, const struct metric_def *m, struct pga_err *err)
{
	struct ld_sb b = {0};
	int rc = 0;

	if (!has_counters(m))
		return 0;
	delta_view_sql(&b, l->qschema, m);
	if (b.oom)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	else
		rc = ld_exec(l, b.s, 0, NULL, NULL, err);
	ld_sb_free(&b);
	return rc < 0 ? pga_err_prefix(err, "delta view of '%s'", m->name) : 0;
}

int
ld_schema_ensure_metric(struct loader *l, const struct metric_def *m, struct pga_err *err)
{
	const struct companion *c = companion_of(m);
	int rc = ensure_table(l, m, err);

	if (rc == 0 && c != NULL)
		rc = ensure_table(l, catalog_find(c->from), err);
	if (rc == 0)
		rc = ensure_view(l, m, err);
	return rc;
}

static int
catalog_fingerprint(const char *qschema, char hex[PGA_SHA256_HEX], struct pga_err *err)
{
	struct pga_sha256 h = {0};
	size_t n;
	const struct metric_def *all = catalog_all(&n);
	uint8_t d[PGA_SHA256_LEN];
	int rc = pga_sha256_init(&h, err);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *sql = NULL;

		rc = ld_schema_metric_sql(qschema, &all[i], &sql, err);
		if (rc == 0)
			pga_sha256_update(&h, sql, strlen(sql) + 1);
		free(sql);
	}
	if (rc == 0) {
		pga_sha256_final(&h, d);
		pga_hex(d, sizeof(d), hex);
	}
	pga_sha256_free(&h);
	return rc;
}

static int
fingerprint_known(struct loader *l, const char *fp, bool *known, struct pga_err *err)
{
	char sql[512];
	const char *params[1] = {fp};
	PGresult *res = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM %s.catalog_applied WHERE fingerprint = $1",
		 l->qschema);
	rc = ld_exec(l, sql, 1, params, &res, err);
	*known = rc == 0 && PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

static int
ensure_catalog_tx(struct loader *l, const char *fp, bool force, struct pga_err *err)
{
	size_t n;
	const struct metric_def *all = catalog_all(&n);
	char sql[512], lockkey[32];
	const char *params[2] = {lockkey, fp};
	bool known = false;
	int rc;

	snprintf(lockkey, sizeof(lockkey), "%" PRId64,
		 (int64_t)ld_hash64(l->schema, strlen(l->schema), 0xca7a1095));
	rc = ld_exec(l, "SELECT pg_advisory_xact_lock($1::bigint)", 1, params, NULL, err);
	if (rc == 0 && !force)
		rc = fingerprint_known(l, fp, &known, err);
	if (rc < 0 || known)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = ensure_table(l, &all[i], err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = ensure_view(l, &all[i], err);
	if (rc == 0) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s.catalog_applied (fingerprint, pga_version)"
			 " VALUES ($2, 'pga ' || $1::text) ON CONFLICT DO NOTHING", l->qschema);
		params[0] = PGA_VERSION;
		rc = ld_exec(l, sql, 2, params, NULL, err);
	}
	if (rc == 0)
		log_info("central schema '%s': catalog tables ready (%zu metrics)", l->schema, n);
	return rc;
}

int
ld_schema_ensure_catalog(struct loader *l, bool force, struct pga_err *err)
{
	char fp[PGA_SHA256_HEX];
	bool known = false;
	int rc = catalog_fingerprint(l->qschema, fp, err);

	if (rc == 0 && !force)
		rc = fingerprint_known(l, fp, &known, err);
	if (rc < 0 || known)
		return rc;
	rc = ld_exec(l, "BEGIN", 0, NULL, NULL, err);
	if (rc == 0)
		rc = ensure_catalog_tx(l, fp, force, err);
	if (rc == 0)
		rc = ld_exec(l, "COMMIT", 0, NULL, NULL, err);
	if (rc < 0)
		ld_rollback(l);
	ld_tables_forget(l);
	return rc;
}
