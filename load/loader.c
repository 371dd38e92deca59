/*
 * loader.c - one segment into the central database, exactly once
 *
 * For each segment:
 *   1. Header and footer are read from the file's ends.  A segment of
 *      another collector or wholly outside --since/--until is filtered; one
 *      already complete in the ledger with the same footer hash is a
 *      duplicate.  Nothing else is read for those.
 *   2. The whole file is verified (every CRC, the footer, the SHA-256)
 *      without decompressing, and the block headers tell which tables,
 *      columns, daily partitions and servers must exist.  A corrupt segment
 *      stops here, before anything is written, and is recorded in
 *      quarantine.  Same (collector, seq) with another hash: refused as a
 *      conflict and recorded.
 *   3. Whatever is missing is created, each in its own short transaction
 *      (ddl.c).
 *   4. The load transaction: claim the segment (transaction-scoped advisory
 *      lock on a hash of schema, collector and seq; a busy claim means
 *      another loader has it), look at the ledger again, stream every
 *      wanted block through COPY while the reader decompresses and checks
 *      it again, write the ledger row, update the collector's registry row
 *      last, and commit only after the reader reached a verified footer.
 *      Any error rolls everything back.
 * Deadlock, lock timeout and a partition dropped under us are retried from
 * step 1 (the file can be read again).
 *
 * Point-in-time: blocks outside [since, until] are skipped.  A segment
 * loaded only in part is complete = false in the ledger with the windows it
 * was loaded for (segment_windows); a later load loads just the blocks no
 * earlier window covered, so windows can widen without double-loading.
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "collect/catalog.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/pgutil.h"
#include "common/units.h"

#define LD_ATTEMPTS 4
#define LD_WINDOWS_MAX 1024

static __thread char last_sqlstate[6];

/* ---- SQL helpers ---- */

const char *
ld_last_sqlstate(void)
{
	return last_sqlstate;
}

int
ld_exec(struct loader *l, const char *sql, int nparams, const char *const *params,
	PGresult **out, struct pga_err *err)
{
	PGresult *res = nparams > 0 ? PQexecParams(l->conn, sql, nparams, NULL, params, NULL,
						   NULL, 0)
				    : PQexec(l->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	last_sqlstate[0] = '\0';
	if (out != NULL)
		*out = NULL;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char what[72];

		snprintf(what, sizeof(what), "%.60s", sql);
		what[strcspn(what, "\n")] = '\0';
		strlcpy(last_sqlstate, pga_pg_sqlstate(res), sizeof(last_sqlstate));
		rc = pga_pg_fail(err, l->conn, res, what);
		PQclear(res);
		return rc;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return 0;
}

void
ld_rollback(struct loader *l)
{
	PGresult *res;

	if (l->conn == NULL || PQstatus(l->conn) != CONNECTION_OK)
		return;
	if (PQtransactionStatus(l->conn) == PQTRANS_IDLE)
		return;
	res = PQexec(l->conn, "ROLLBACK");
	PQclear(res);
}

static void
hex_param(const uint8_t *sha, char out[2 + 2 * PGA_SHA256_LEN + 1])
{
	out[0] = '\\';
	out[1] = 'x';
	pga_hex(sha, PGA_SHA256_LEN, out + 2);
}

static void
time_param(int64_t us, char *buf, size_t cap)
{
	pga_format_time(us, buf, cap);
}

/* ---- open / close ---- */

static int
check_schema(struct loader *l, struct pga_err *err)
{
	int version = 0;
	int rc = ld_schema_version(l, &version, err);

	if (rc < 0)
		return rc;
	if (version == 0)
		return pga_fail(err, PGA_ENOTFOUND,
				"the central database has no pga schema '%s': run 'pga load --init'",
				l->schema);
	if (version > LD_SCHEMA_VERSION)
		return pga_fail(err, PGA_EVERSION,
				"central schema '%s' is at version %d, newer than this pga knows (%d): upgrade pga",
				l->schema, version, LD_SCHEMA_VERSION);
	if (version < LD_SCHEMA_VERSION)
		return pga_fail(err, PGA_EVERSION,
				"central schema '%s' is at version %d, this pga needs %d: run 'pga load --init'",
				l->schema, version, LD_SCHEMA_VERSION);
	return 0;
}

int
loader_open(struct loader **out, const struct load_opts *o, struct pga_err *err)
{
	struct pga_connect_opts co = {.application_name = "pga load"};
	struct loader *l = calloc(1, sizeof(*l));
	const char *schema = o->schema && *o->schema ? o->schema : "pga";
	const char *tmp = getenv("TMPDIR");
	int rc = 0;

	*out = NULL;
	if (l == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	l->o = *o;
	l->rbuf = malloc(LD_RBUF);
	strlcpy(l->tmpdir, tmp && *tmp ? tmp : "/tmp", sizeof(l->tmpdir));
	if (l->rbuf == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	else if (o->conninfo == NULL || *o->conninfo == '\0')
		rc = pga_fail(err, PGA_EINVAL,
			      "no central database: give --db or set 'central' in [global]");
	else if (strlcpy(l->schema, schema, sizeof(l->schema)) >= sizeof(l->schema))
		rc = pga_fail(err, PGA_EINVAL, "schema name too long '%s'", schema);
	if (rc == 0)
		rc = pga_pg_quote_ident(l->schema, l->qschema, sizeof(l->qschema), err);
	if (rc == 0)
		rc = pga_conninfo_check(o->conninfo, err);
	if (rc == 0)
		rc = pga_pg_connect(&l->conn, o->conninfo, &co, err);
	if (rc == 0)
		rc = ld_exec(l, "SET client_min_messages = warning", 0, NULL, NULL, err);
	if (rc == 0 && o->init && !o->dry_run)
		rc = loader_init_schema(l, err);
	else if (rc == 0)
		rc = check_schema(l, err);
	if (rc == 0 && !o->dry_run && !o->init)
		rc = ld_schema_ensure_catalog(l, false, err);
	if (rc < 0) {
		loader_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

int
loader_init_schema(struct loader *l, struct pga_err *err)
{
	int rc = ld_schema_migrate(l, err);

	if (rc == 0)
		rc = ld_schema_ensure_catalog(l, true, err);
	return rc;
}

void
loader_set_wait(struct loader *l, bool wait)
{
	l->wait_claims = wait;
}

void
loader_close(struct loader *l)
{
	if (l == NULL)
		return;
	if (l->conn != NULL)
		PQfinish(l->conn);
	ld_tables_forget(l);
	free(l->tables);
	free(l->servers);
	free(l->collectors);
	ld_needs_free(&l->needs);
	for (size_t i = 0; i < l->nwarned; i++)
		free(l->warned[i]);
	free(l->warned);
	free(l->rbuf);
	free(l);
}

/* ---- reading a segment file ---- */

struct fd_src {
	int fd;
	off_t off;
};

static ssize_t
fd_src_read(void *ctx, void *buf, size_t len)
{
	struct fd_src *s = ctx;
	ssize_t n;

	do
		n = pread(s->fd, buf, len, s->off);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		s->off += n;
	return n;
}

/* What one attempt at a segment knows. */
struct seg_job {
	const char *name;
	int fd;
	char path[64];			/* /proc/self/fd/N */
	struct seg_header h;
	struct seg_footer f;		/* index owned */
	uint64_t size;
	uint8_t file_sha[PGA_SHA256_LEN];
	int32_t collector_id;		/* -1 until known */
	/* the ledger row, if any */
	bool in_ledger, complete;
	uint8_t led_sha[PGA_SHA256_LEN], led_body[PGA_SHA256_LEN];
	struct { int64_t since, until; } *win;
	size_t nwin;
	/* this pass */
	bool all_covered;		/* every block in this or an earlier window */
	struct load_seg_stats st;
};

static bool
in_window(const struct loader *l, int64_t t)
{
	return t >= l->o.since && t <= l->o.until;
}

static bool
covered_before(const struct seg_job *j, int64_t t)
{
	for (size_t i = 0; i < j->nwin; i++)
		if (t >= j->win[i].since && t <= j->win[i].until)
			return true;
	return false;
}

/*
 * Custom metrics named like our own objects are never loaded.  The segment
 * reader already refuses invalid metric names; checked again before SQL.
 */
static bool
metric_refused(const char *metric)
{
	return !seg_metric_valid(metric) ||
	       (catalog_find(metric) == NULL && ld_metric_reserved(metric));
}

static bool
block_wanted(const struct loader *l, const struct seg_job *j, const char *metric,
	     int64_t t)
{
	return in_window(l, t) && !covered_before(j, t) && !metric_refused(metric);
}

/* ---- ledger ---- */

static int windows_read(struct loader *l, struct seg_job *j, struct pga_err *err);

static int
ledger_read(struct loader *l, struct seg_job *j, struct pga_err *err)
{
	char sql[512], cid[16], seq[24];
	const char *params[2] = {cid, seq};
	PGresult *res = NULL;
	int rc;

	j->in_ledger = j->complete = false;
	j->nwin = 0;
	if (j->collector_id < 0)
		return 0;
	snprintf(cid, sizeof(cid), "%d", j->collector_id);
	snprintf(seq, sizeof(seq), "%" PRIu64, j->h.seq);
	snprintf(sql, sizeof(sql), "SELECT encode(sha256, 'hex'), encode(body_sha256, 'hex'), complete"
		 " FROM %s.segments WHERE collector_id = $1 AND seq = $2", l->qschema);
	rc = ld_exec(l, sql, 2, params, &res, err);
	if (rc == 0 && PQntuples(res) == 1) {
		j->in_ledger = true;
		pga_unhex(PQgetvalue(res, 0, 0), j->led_sha, PGA_SHA256_LEN);
		pga_unhex(PQgetvalue(res, 0, 1), j->led_body, PGA_SHA256_LEN);
		j->complete = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	}
	PQclear(res);
	if (rc < 0 || !j->in_ledger || j->complete)
		return rc;
	return windows_read(l, j, err);
}

/* The windows a partial segment was loaded for, as microseconds (NULL: open). */
static int
windows_read(struct loader *l, struct seg_job *j, struct pga_err *err)
{
	char sql[512], cid[16], seq[24];
	const char *params[2] = {cid, seq};
	PGresult *res = NULL;
	int rc;

	snprintf(cid, sizeof(cid), "%d", j->collector_id);
	snprintf(seq, sizeof(seq), "%" PRIu64, j->h.seq);
	snprintf(sql, sizeof(sql), "SELECT coalesce((extract(epoch FROM since) * 1000000)::bigint, %" PRId64 "),"
		 " coalesce((extract(epoch FROM until) * 1000000)::bigint, %" PRId64 ")"
		 " FROM %s.segment_windows WHERE collector_id = $1 AND seq = $2 LIMIT %d",
		 INT64_MIN, INT64_MAX, l->qschema, LD_WINDOWS_MAX);
	rc = ld_exec(l, sql, 2, params, &res, err);
	if (rc == 0) {
		int n = PQntuples(res);

		free(j->win);
		j->win = calloc((size_t)n + 1, sizeof(*j->win));
		if (j->win == NULL)
			rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		for (int i = 0; rc == 0 && i < n; i++) {
			j->win[i].since = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			j->win[i].until = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		}
		j->nwin = rc == 0 ? (size_t)n : 0;
	}
	PQclear(res);
	return rc;
}

static int
collector_lookup(struct loader *l, struct seg_job *j, struct pga_err *err)
{
	char sql[256];
	const char *params[1] = {j->h.collector};
	PGresult *res = NULL;
	int rc;

	j->collector_id = -1;
	for (size_t i = 0; i < l->ncollectors; i++)
		if (strcmp(l->collectors[i].name, j->h.collector) == 0)
			j->collector_id = l->collectors[i].id;
	if (j->collector_id >= 0)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT collector_id FROM %s.collectors WHERE collector = $1",
		 l->qschema);
	rc = ld_exec(l, sql, 1, params, &res, err);
	if (rc == 0 && PQntuples(res) == 1)
		j->collector_id = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static void
sb_sha(struct ld_sb *b, const uint8_t *sha)
{
	char hex[PGA_SHA256_HEX];

	pga_hex(sha, PGA_SHA256_LEN, hex);
	ld_sb_add(b, "'\\x%s'::bytea", hex);
}

static void
sb_time(struct ld_sb *b, int64_t us, bool open)
{
	char ts[40];

	if (open) {
		ld_sb_add(b, "NULL");
		return;
	}
	time_param(us, ts, sizeof(ts));
	ld_sb_add(b, "'%s'::timestamptz", ts);
}

static void
sb_ledger_insert(struct loader *l, struct ld_sb *b, const struct seg_job *j)
{
	ld_sb_add(b, "INSERT INTO %s.segments (collector_id, seq, sha256, body_sha256, prev_sha256,"
		  " name, size, created, min_snapshot, max_snapshot, blocks, total_rows, rows,"
		  " recovered, complete) VALUES (%d, %" PRIu64 ", ", l->qschema, j->collector_id,
		  j->h.seq);
	sb_sha(b, j->file_sha);
	ld_sb_add(b, ", ");
	sb_sha(b, j->f.sha256);
	ld_sb_add(b, ", ");
	sb_sha(b, j->h.prev_sha256);
	ld_sb_add(b, ", ");
	ld_sb_lit(b, l->conn, j->name);
	ld_sb_add(b, ", %" PRIu64 ", ", j->size);
	sb_time(b, j->h.created_us, false);
	ld_sb_add(b, ", ");
	sb_time(b, j->f.min_snapshot_us, j->f.nblocks == 0);
	ld_sb_add(b, ", ");
	sb_time(b, j->f.max_snapshot_us, j->f.nblocks == 0);
	ld_sb_add(b, ", %u, %" PRIu64 ", %" PRIu64 ", %s, %s);\n", j->f.nblocks, j->f.total_rows,
		  j->st.rows, j->f.flags & SEG_FOOTER_RECOVERED ? "true" : "false",
		  j->all_covered ? "true" : "false");
}

/* The ledger: a new row, or more rows and maybe completion for a partial one. */
static void
sb_ledger(struct loader *l, struct ld_sb *b, const struct seg_job *j)
{
	if (!j->in_ledger)
		sb_ledger_insert(l, b, j);
	else
		ld_sb_add(b, "UPDATE %s.segments SET rows = rows + %" PRIu64 ", complete = %s,"
			  " loaded_at = now() WHERE ", l->qschema, j->st.rows,
			  j->all_covered ? "true" : "false");
	if (j->in_ledger)
		ld_sb_add(b, "collector_id = %d AND seq = %" PRIu64 ";\n", j->collector_id, j->h.seq);
	if (j->all_covered && j->in_ledger) {
		ld_sb_add(b, "DELETE FROM %s.segment_windows WHERE ", l->qschema);
		ld_sb_add(b, "collector_id = %d AND seq = %" PRIu64 ";\n", j->collector_id, j->h.seq);
	} else if (!j->all_covered) {
		ld_sb_add(b, "INSERT INTO %s.segment_windows (collector_id, seq, since, until, rows)"
			  " VALUES (%d, %" PRIu64 ", ", l->qschema, j->collector_id, j->h.seq);
		sb_time(b, l->o.since, l->o.since == INT64_MIN);
		ld_sb_add(b, ", ");
		sb_time(b, l->o.until, l->o.until == INT64_MAX);
		ld_sb_add(b, ", %" PRIu64 ");\n", j->st.rows);
	}
}

/*
 * Ledger, quarantine resolution, the collector's registry row (last: it is
 * the one row loaders of one collector share) and COMMIT, in one round trip.
 */
static int
finish_tx(struct loader *l, struct seg_job *j, struct pga_err *err)
{
	struct ld_sb b = {0};
	int rc;

	sb_ledger(l, &b, j);
	ld_sb_add(&b, "UPDATE %s.quarantine SET resolved_at = now() WHERE collector = ", l->qschema);
	ld_sb_lit(&b, l->conn, j->h.collector);
	ld_sb_add(&b, " AND seq = %" PRIu64 " AND kind <> 'conflict' AND resolved_at IS NULL;\n",
		  j->h.seq);
	ld_sb_add(&b, "UPDATE %s.collectors SET last_seen = now(), last_seq = greatest(last_seq, %"
		  PRIu64 "), last_snapshot = greatest(last_snapshot, ", l->qschema, j->h.seq);
	sb_time(&b, j->f.max_snapshot_us, j->f.nblocks == 0);
	ld_sb_add(&b, "), hostname = CASE WHEN %" PRIu64 " >= coalesce(last_seq, 0) THEN ", j->h.seq);
	ld_sb_lit(&b, l->conn, j->h.hostname);
	ld_sb_add(&b, " ELSE hostname END, writer = CASE WHEN %" PRIu64
		  " >= coalesce(last_seq, 0) THEN ", j->h.seq);
	ld_sb_lit(&b, l->conn, j->h.writer);
	ld_sb_add(&b, " ELSE writer END WHERE collector_id = %d;\nCOMMIT", j->collector_id);
	rc = b.oom ? pga_fail(err, PGA_ENOMEM, "out of memory") : ld_exec(l, b.s, 0, NULL, NULL, err);
	ld_sb_free(&b);
	return rc;
}

/* Recorded in its own transaction: the segment's own one was rolled back. */
static void
quarantine_record(struct loader *l, const struct seg_job *j, const char *kind,
		  const struct pga_err *why)
{
	char seq[24], sha[68], sql[1024];
	bool have = j->h.collector[0] != '\0';
	const char *p[6] = {j->name, kind, have ? j->h.collector : NULL, have ? seq : NULL,
			    NULL, why->msg};
	struct pga_err e = {0};

	/* a file that is not a segment of anybody's is an error, not a record */
	if (l->o.dry_run || !have || PQstatus(l->conn) != CONNECTION_OK)
		return;
	ld_rollback(l);
	snprintf(seq, sizeof(seq), "%" PRIu64, j->h.seq);
	if (strcmp(kind, "conflict") == 0) {
		hex_param(j->file_sha, sha);
		p[4] = sha;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO %s.quarantine (name, kind, collector, seq, sha256,"
		 " error) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name, kind) DO UPDATE"
		 " SET last_seen = now(), times = quarantine.times + 1, error = EXCLUDED.error,"
		 " sha256 = EXCLUDED.sha256, resolved_at = NULL", l->qschema);
	if (ld_exec(l, sql, 6, p, NULL, &e) < 0)
		log_warn("could not record '%s' in quarantine: %s", j->name, e.msg);
}

/* ---- step 2: verify and collect what the blocks need ---- */

static int
prescan(struct loader *l, struct seg_job *j, struct pga_err *err)
{
	struct fd_src src = {j->fd, 0};
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	int rc = seg_reader_open(&r, fd_src_read, &src, j->name, err);

	ld_needs_reset(&l->needs);
	j->all_covered = true;
	while (rc == 0 && (rc = seg_reader_next(r, &m, err)) == 1) {
		size_t got = 0;

		rc = 0;
		if (!in_window(l, m->snapshot_us) && !covered_before(j, m->snapshot_us))
			j->all_covered = false;
		if (!block_wanted(l, j, m->metric, m->snapshot_us)) {
			rc = seg_reader_skip(r, err);
			continue;
		}
		if (!l->o.dry_run) {
			rc = ld_need_block(l, m, err);
			if (rc == 0)
				rc = seg_reader_skip(r, err);
			continue;
		}
		/* a dry run decompresses everything: that is its verification */
		do
			rc = seg_reader_read(r, l->rbuf, LD_RBUF, &got, err);
		while (rc == 0 && got > 0);
		if (rc == 0) {
			j->st.blocks++;
			j->st.rows += seg_reader_trailer(r)->rows;
			j->st.bytes += seg_reader_trailer(r)->raw_bytes;
		}
	}
	if (rc == 0)
		seg_reader_file_sha256(r, j->file_sha);
	seg_reader_free(r);
	return rc;
}

/* ---- step 4: the load transaction ---- */

struct block_plan {
	char sql[LD_COPY_SQL_MAX];
	char prefix[600];
	bool keep[SEG_MAX_COLS];
	bool all_kept;
};

static int
plan_block(struct loader *l, const struct seg_job *j, const struct seg_block_meta *m,
	   struct block_plan *p, struct load_seg_stats *st, struct pga_err *err)
{
	struct ld_table *t = ld_table_find(l, m->metric);
	int32_t sid = ld_server_lookup(l, m->sysid, m->host, m->port);
	char ts[40], q[2 * LD_IDENT_MAX + 4], key[160];
	size_t n;

	if (t == NULL || sid < 0)
		return pga_fail(err, PGA_EINTERNAL, "'%s': block %u: table or server not prepared",
				j->name, m->block_no);
	n = (size_t)snprintf(p->sql, sizeof(p->sql), "COPY %s (" LD_FIXED_COLS, t->qname);
	p->all_kept = true;
	for (uint16_t i = 0; i < m->ncols; i++) {
		bool dup = false;

		for (uint16_t k = 0; k < i && !dup; k++)
			dup = p->keep[k] && strcmp(m->cols[k], m->cols[i]) == 0;
		p->keep[i] = !dup && seg_column_valid(m->cols[i]) && !ld_fixed_col(m->cols[i]) &&
			     ld_table_has_col(t, m->cols[i]);
		if (!p->keep[i]) {
			p->all_kept = false;
			st->columns_dropped++;
			snprintf(key, sizeof(key), "%s.%s", m->metric, m->cols[i]);
			if (ld_warn_once(l, key))
				log_warn("'%s': column '%s' of metric '%s' is not in the central table:"
					 " dropped", j->name, m->cols[i], m->metric);
			continue;
		}
		if (pga_pg_quote_ident(m->cols[i], q, sizeof(q), err) < 0)
			return err->code;
		n += (size_t)snprintf(p->sql + n, n < sizeof(p->sql) ? sizeof(p->sql) - n : 0,
				      ", %s", q);
	}
	n += (size_t)snprintf(p->sql + n, n < sizeof(p->sql) ? sizeof(p->sql) - n : 0,
			      ") FROM STDIN (FORMAT csv)");
	if (n >= sizeof(p->sql))
		return pga_fail(err, PGA_EINVAL, "'%s': block %u: column list too long", j->name,
				m->block_no);
	time_param(m->snapshot_us, ts, sizeof(ts));
	n = (size_t)snprintf(p->prefix, sizeof(p->prefix), "%d,%d,%s,", j->collector_id, sid, ts);
	if (m->database[0] != '\0') {
		/* always quoted: a database name may hold commas or quotes */
		p->prefix[n++] = '"';
		for (const char *c = m->database; *c && n < sizeof(p->prefix) - 3; c++) {
			if (*c == '"')
				p->prefix[n++] = '"';
			p->prefix[n++] = *c;
		}
		p->prefix[n++] = '"';
		p->prefix[n] = '\0';
	}
	return 0;
}

/* Allocated: its SQL buffers fit the widest block the format allows. */
struct pass {
	struct ld_copy copy;
	char open_sql[LD_COPY_SQL_MAX];
	bool open;
	struct block_plan plan;
};

static int
pass_end_copy(struct pass *ps, struct pga_err *err)
{
	uint64_t rows = 0;

	if (!ps->open)
		return 0;
	ps->open = false;
	return ld_copy_end(&ps->copy, &rows, err);
}

static int
load_block(struct loader *l, struct seg_job *j, struct seg_reader *r,
	   const struct seg_block_meta *m, struct pass *ps, struct pga_err *err)
{
	int rc = plan_block(l, j, m, &ps->plan, &j->st, err);

	if (rc == 0 && ps->open && strcmp(ps->open_sql, ps->plan.sql) != 0)
		rc = pass_end_copy(ps, err);
	if (rc == 0 && !ps->open) {
		rc = ld_copy_begin(&ps->copy, ps->plan.sql, err);
		ps->open = rc == 0;
		strlcpy(ps->open_sql, ps->plan.sql, sizeof(ps->open_sql));
	}
	if (rc == 0) {
		rc = ld_copy_block(&ps->copy, ps->plan.prefix,
				   ps->plan.all_kept ? NULL : ps->plan.keep, m->ncols, err);
	}
	if (rc == 0) {
		size_t got = 0;

		do {
			rc = seg_reader_read(r, l->rbuf, LD_RBUF, &got, err);
			if (rc == 0 && got > 0)
				rc = ld_copy_data(&ps->copy, l->rbuf, got, err);
		} while (rc == 0 && got > 0);
	}
	if (rc == 0) {
		const struct seg_block_trailer *t = seg_reader_trailer(r);

		rc = ld_copy_block_end(&ps->copy, t->rows, err);
		j->st.blocks++;
		j->st.rows += t->rows;
		j->st.bytes += t->raw_bytes;
	}
	return rc;
}

static int
main_pass(struct loader *l, struct seg_job *j, struct pass *ps, struct pga_err *err)
{
	struct fd_src src = {j->fd, 0};
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	uint8_t sha[PGA_SHA256_LEN];
	int rc = seg_reader_open(&r, fd_src_read, &src, j->name, err);

	j->all_covered = true;
	while (rc == 0 && (rc = seg_reader_next(r, &m, err)) == 1) {
		bool want = block_wanted(l, j, m->metric, m->snapshot_us);

		rc = 0;
		if (!in_window(l, m->snapshot_us) && !covered_before(j, m->snapshot_us))
			j->all_covered = false;
		if (!want) {
			if (metric_refused(m->metric) && in_window(l, m->snapshot_us)) {
				j->st.blocks_refused++;
				log_warn("'%s': block %u: metric '%s' is reserved for pga's own"
					 " objects: block not loaded", j->name, m->block_no, m->metric);
			} else {
				j->st.blocks_skipped++;
			}
			rc = seg_reader_skip(r, err);
			continue;
		}
		rc = load_block(l, j, r, m, ps, err);
	}
	if (rc == 0)
		rc = pass_end_copy(ps, err);
	if (rc == 0) {
		seg_reader_file_sha256(r, sha);
		if (memcmp(sha, j->file_sha, PGA_SHA256_LEN) != 0)
			rc = pga_fail(err, PGA_ECHECKSUM, "'%s' changed while it was being loaded",
				      j->name);
	}
	seg_reader_free(r);
	return rc;
}

/*
 * BEGIN, the claim and the ledger row in one round trip.  The ledger is
 * read by a statement after the claim's, so its snapshot sees whatever the
 * loader that held the claim before us committed.
 */
static int
claim_and_read(struct loader *l, struct seg_job *j, bool *got, struct pga_err *err)
{
	char sql[1024], id[160];
	PGresult *res;
	int rc = 0, n = 0;

	snprintf(id, sizeof(id), "%s/%s/%" PRIu64, l->schema, j->h.collector, j->h.seq);
	snprintf(sql, sizeof(sql), "BEGIN; SELECT %s(%" PRId64 "::bigint);"
		 " SELECT encode(sha256, 'hex'), encode(body_sha256, 'hex'), complete"
		 " FROM %s.segments WHERE collector_id = %d AND seq = %" PRIu64,
		 l->wait_claims ? "true FROM pg_advisory_xact_lock" : "pg_try_advisory_xact_lock",
		 (int64_t)ld_hash64(id, strlen(id), 0), l->qschema, j->collector_id, j->h.seq);
	*got = false;
	j->in_ledger = j->complete = false;
	j->nwin = 0;
	if (!PQsendQuery(l->conn, sql))
		return pga_pg_fail(err, l->conn, NULL, "claim");
	while ((res = PQgetResult(l->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			strlcpy(last_sqlstate, pga_pg_sqlstate(res), sizeof(last_sqlstate));
			rc = pga_pg_fail(err, l->conn, res, "claim");
		} else if (rc == 0 && n == 1) {
			*got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		} else if (rc == 0 && n == 2 && PQntuples(res) == 1) {
			j->in_ledger = true;
			pga_unhex(PQgetvalue(res, 0, 0), j->led_sha, PGA_SHA256_LEN);
			pga_unhex(PQgetvalue(res, 0, 1), j->led_body, PGA_SHA256_LEN);
			j->complete = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		}
		n++;
		PQclear(res);
	}
	if (rc == 0 && *got && j->in_ledger && !j->complete)
		rc = windows_read(l, j, err);
	return rc;
}

static int
load_tx(struct loader *l, struct seg_job *j, enum load_result *result, struct pga_err *err)
{
	struct pass *ps = calloc(1, sizeof(*ps));
	bool got = false;
	int rc;

	if (ps == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rc = ld_copy_init(&ps->copy, l->conn, err);
	if (rc == 0)
		rc = claim_and_read(l, j, &got, err);
	if (rc == 0 && !got) {
		*result = LOAD_BUSY;
		goto out;
	}
	if (rc == 0 && j->in_ledger && memcmp(j->led_sha, j->file_sha, PGA_SHA256_LEN) != 0) {
		rc = PGA_ECONFLICT;	/* reported by the caller, which saw it first */
		goto out;
	}
	if (rc == 0 && j->complete) {
		*result = LOAD_DUPLICATE;
		goto out;
	}
	memset(&j->st, 0, sizeof(j->st));
	if (rc == 0)
		rc = main_pass(l, j, ps, err);
	if (rc == 0 && j->st.blocks == 0 && !j->all_covered) {
		*result = j->in_ledger ? LOAD_DUPLICATE : LOAD_FILTERED;
		goto out;
	}
	if (rc == 0)
		rc = finish_tx(l, j, err);
	if (rc == 0)
		*result = LOAD_LOADED;
out:
	ld_copy_abort(&ps->copy, "pga: load aborted");
	ld_copy_free(&ps->copy);
	free(ps);
	ld_rollback(l);
	return rc;
}

/* ---- one attempt ---- */

static bool
reader_error(int code)
{
	return code == PGA_EFORMAT || code == PGA_ETRUNC || code == PGA_ECHECKSUM ||
	       code == PGA_ECORRUPT || code == PGA_EVERSION || code == PGA_ECHAIN;
}

static bool
transient(int code)
{
	const char *s = ld_last_sqlstate();

	return code == PGA_EDB && (strcmp(s, "40P01") == 0 || strcmp(s, "40001") == 0 ||
				   strcmp(s, "55P03") == 0 || strcmp(s, "42P01") == 0 ||
				   strcmp(s, "23514") == 0 || strcmp(s, "23505") == 0);
}

static bool
rejected(int code)
{
	const char *s = ld_last_sqlstate();

	/* data the central schema refuses: bad value for a type, and the like */
	return code == PGA_EDB && (strncmp(s, "22", 2) == 0 || strcmp(s, "23502") == 0);
}

static int
read_ends(struct seg_job *j, struct pga_err *err)
{
	struct stat st;

	if (fstat(j->fd, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not stat '%s': %m", j->name);
	j->size = (uint64_t)st.st_size;
	free(j->f.index);
	j->f.index = NULL;
	return seg_read_footer_file(j->path, &j->h, &j->f, err);
}

static bool
wholly_outside(const struct loader *l, const struct seg_job *j)
{
	return j->f.nblocks > 0 &&
	       (j->f.max_snapshot_us < l->o.since || j->f.min_snapshot_us > l->o.until);
}

static int
attempt(struct loader *l, struct seg_job *j, enum load_result *result, struct pga_err *err)
{
	int rc = read_ends(j, err);

	if (rc == 0)
		rc = seg_name_check(j->name, &j->h, err);	/* before it filters by collector */
	if (rc < 0)
		return rc;
	if ((l->o.collector != NULL && strcmp(l->o.collector, j->h.collector) != 0) ||
	    wholly_outside(l, j)) {
		*result = LOAD_FILTERED;
		return 0;
	}
	rc = collector_lookup(l, j, err);
	if (rc == 0)
		rc = ledger_read(l, j, err);
	if (rc < 0)
		return rc;
	if (j->complete && memcmp(j->led_body, j->f.sha256, PGA_SHA256_LEN) == 0) {
		*result = LOAD_DUPLICATE;
		return 0;
	}
	rc = prescan(l, j, err);
	if (rc < 0)
		return rc;
	if (j->in_ledger && memcmp(j->led_sha, j->file_sha, PGA_SHA256_LEN) != 0) {
		char a[PGA_SHA256_HEX], b[PGA_SHA256_HEX];

		pga_hex(j->file_sha, PGA_SHA256_LEN, a);
		pga_hex(j->led_sha, PGA_SHA256_LEN, b);
		return pga_fail(err, PGA_ECONFLICT,
				"'%s': collector '%s' seq %" PRIu64 " is already loaded with sha256 %.16s..."
				" but this file has %.16s...: refused (tampering or a bug)",
				j->name, j->h.collector, j->h.seq, b, a);
	}
	if (l->o.dry_run) {
		*result = j->st.blocks > 0 || j->all_covered ? LOAD_LOADED : LOAD_FILTERED;
		return 0;
	}
	if (j->collector_id < 0)
		rc = ld_collector_id(l, &j->h, &j->collector_id, err);
	if (rc == 0)
		rc = ld_apply_needs(l, err);
	if (rc == 0)
		rc = load_tx(l, j, result, err);
	if (rc == PGA_ECONFLICT)
		rc = pga_fail(err, PGA_ECONFLICT, "'%s': collector '%s' seq %" PRIu64
			      " was just loaded by another loader with a different sha256: refused",
			      j->name, j->h.collector, j->h.seq);
	return rc;
}

/* Messages from the segment library name the path we gave it: name the segment. */
static void
name_the_file(struct pga_err *err, const char *path, const char *name)
{
	char *at = strstr(err->msg, path);
	char buf[PGA_ERR_MSG_MAX];

	if (at == NULL || strncmp(path, "/proc/self/fd/", 14) != 0)
		return;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - err->msg), err->msg, name,
		 at + strlen(path));
	strlcpy(err->msg, buf, sizeof(err->msg));
}

int
loader_load_fd(struct loader *l, const char *name, int fd, enum load_result *res,
	       struct load_seg_stats *st, struct pga_err *err)
{
	struct seg_job j;
	int rc = 0;

	memset(&j, 0, sizeof(j));
	j.name = name;
	j.fd = fd;
	snprintf(j.path, sizeof(j.path), "/proc/self/fd/%d", fd);
	*res = LOAD_FILTERED;
	for (int i = 0; i < LD_ATTEMPTS; i++) {
		memset(&j.st, 0, sizeof(j.st));
		rc = attempt(l, &j, res, err);
		if (rc == 0 || !transient(rc) || i + 1 == LD_ATTEMPTS ||
		    PQstatus(l->conn) != CONNECTION_OK)
			break;
		log_info("'%s': %s: retrying", name, err->msg);
		ld_rollback(l);
		ld_tables_forget(l);
		usleep(50000u << i);
	}
	if (rc < 0)
		name_the_file(err, j.path, name);
	if (rc < 0 && reader_error(rc))
		quarantine_record(l, &j, "corrupt", err);
	else if (rc == PGA_ECONFLICT)
		quarantine_record(l, &j, "conflict", err);
	else if (rc < 0 && rejected(rc))
		quarantine_record(l, &j, "rejected", err);
	j.st.seg_bytes = j.size;
	j.st.partial = rc == 0 && *res == LOAD_LOADED && !j.all_covered;
	if (st != NULL)
		*st = j.st;
	free(j.f.index);
	free(j.win);
	return rc;
}

int
loader_load_file(struct loader *l, const char *name, const char *path,
		 enum load_result *res, struct load_seg_stats *st, struct pga_err *err)
{
	int fd, rc = pga_open_sequential(path, &fd, err);

	if (rc < 0)
		return rc;
	rc = loader_load_fd(l, name, fd, res, st, err);
	close(fd);
	return rc;
}

/* A stream goes to an unlinked temporary file first: it is read twice. */
int
loader_load_segment(struct loader *l, const char *name, seg_read_fn fn, void *ctx,
		    enum load_result *res, struct load_seg_stats *st, struct pga_err *err)
{
	int fd = open(l->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0)
		return pga_fail(err, PGA_EIO, "could not create a temporary file in '%s': %m",
				l->tmpdir);
	for (;;) {
		ssize_t n = fn(ctx, l->rbuf, LD_RBUF);

		if (n < 0) {
			rc = pga_fail(err, PGA_EIO, "could not read '%s': %m", name);
			break;
		}
		if (n == 0)
			break;
		rc = pga_write_all(fd, l->rbuf, (size_t)n, l->tmpdir, err);
		if (rc < 0)
			break;
	}
	if (rc == 0)
		rc = loader_load_fd(l, name, fd, res, st, err);
	close(fd);
	return rc;
}

int
loader_lookup(struct loader *l, const char *collector, uint64_t seq,
	      uint8_t sha[PGA_SHA256_LEN], struct pga_err *err)
{
	char sql[512], s[24];
	const char *params[2] = {collector, s};
	PGresult *res = NULL;
	int rc;

	snprintf(s, sizeof(s), "%" PRIu64, seq);
	snprintf(sql, sizeof(sql), "SELECT encode(s.sha256, 'hex') FROM %s.segments s"
		 " JOIN %s.collectors c USING (collector_id)"
		 " WHERE c.collector = $1 AND s.seq = $2 AND s.complete", l->qschema, l->qschema);
	rc = ld_exec(l, sql, 2, params, &res, err);
	if (rc == 0 && PQntuples(res) == 1) {
		pga_unhex(PQgetvalue(res, 0, 0), sha, PGA_SHA256_LEN);
		rc = 1;
	}
	PQclear(res);
	return rc;
}
