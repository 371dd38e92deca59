/*
 * record.c - what the loader writes besides rows
 *
 * Refusals.  Every refusal, at every stage, becomes a row of quarantine
 * (segment name, kind, collector, seq, file SHA-256, block, metric,
 * SQLSTATE, rows, reason) and one log line naming the segment and block.
 * Refusals of blocks of a segment that is loaded (data the server refused,
 * reserved metric names, unknown columns dropped) are queued while the
 * segment streams and written in its load transaction, with the ledger
 * row that counts them: they commit together or not at all.  A whole
 * segment refused (corrupt, rejected) is recorded in its own transaction,
 * the segment's having been rolled back.
 *
 * Block records.  Every loaded block's (block, metric, server, snapshot
 * time, database, rows) goes into the ledger row itself, an array of
 * block_record: what pga load --resolve-fork needs to take a loaded
 * segment's rows out again exactly (fork.c).  A table of its own
 * (segment_blocks, one row per block, foreign key to the ledger) was
 * measured first: one more statement, an index entry and a deferred
 * foreign-key check per block cost about 0.08 ms a segment (1000
 * segments of 12 rows); the array costs nothing measurable (SCHEMA.md).
 *
 * Held segments.  A segment that forks its collector's chain is kept
 * whole, never loaded over the other branch: its bytes as a large object
 * (written in LD_RBUF pieces, so memory stays flat), a held_segments row
 * with its header's identity, and a quarantine row, in one transaction.
 *
 * Refusals are queued as SQL text; beyond LD_RECORDS_FLUSH the loader
 * writes them early, so memory is capped whatever the number of blocks.
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <libpq/libpq-fs.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/pgutil.h"
#include "common/units.h"

#define LD_LOGS_MAX (4u << 20)

static void
sb_text_or_null(struct dynbuf *b, PGconn *conn, const char *s)
{
	ld_add_lit(b, conn, s != NULL && *s != '\0' ? s : NULL);
}

void
ld_refuse(struct loader *l, struct ld_job *j, const char *kind, int64_t block,
	  const char *metric, const char *sqlstate, int64_t rows, const char *reason)
{
	struct dynbuf *b = &j->refusals;

	dynbuf_addf(b, "%s(", b->len ? ",\n" : "");
	ld_add_lit(b, l->conn, j->qname);
	dynbuf_addf(b, ", '%s', ", kind);
	sb_text_or_null(b, l->conn, j->h.collector);
	dynbuf_addf(b, ", %" PRIu64 ", ", j->h.seq);
	ld_add_sha(b, j->file_sha);
	if (block >= 0)
		dynbuf_addf(b, ", %" PRId64 ", ", block);
	else
		dynbuf_addf(b, ", NULL, ");
	sb_text_or_null(b, l->conn, metric);
	dynbuf_addf(b, ", ");
	sb_text_or_null(b, l->conn, sqlstate);
	if (rows >= 0)
		dynbuf_addf(b, ", %" PRId64 ", ", rows);
	else
		dynbuf_addf(b, ", NULL, ");
	ld_add_lit(b, l->conn, reason);
	dynbuf_addf(b, ")");
	if (dynbuf_len(&j->logs) >= LD_LOGS_MAX) {
		j->logs_dropped++;
		return;
	}
	if (block >= 0)
		dynbuf_addf(&j->logs, "'%s': block %" PRId64 " (metric '%s'): %s\n", j->qname,
			    block, metric ? metric : "", reason);
	else
		dynbuf_addf(&j->logs, "'%s': %s\n", j->qname, reason);
}

void
ld_block_record(struct loader *l, struct ld_job *j, const struct seg_block_meta *m,
		int32_t server_id, uint64_t rows)
{
	struct dynbuf *b = &j->blocks;
	char ts[40];

	pga_format_time(m->snapshot_us, ts, sizeof(ts));
	dynbuf_addf(b, "%sROW(%u, '%s', %d, '%s', ", dynbuf_len(b) ? ", " : "", m->block_no, m->metric,
		    server_id, ts);
	sb_text_or_null(b, l->conn, m->database);
	dynbuf_addf(b, ", %" PRIu64 ")::%s.block_record", rows, l->qschema);
}

void
ld_blocks_sql(struct loader *l, const struct ld_job *j, struct dynbuf *b)
{
	if (j->blocks.fail != 0)
		dynbuf_fail(b, j->blocks.fail);
	if (dynbuf_len(&j->blocks) == 0)
		dynbuf_addf(b, "'{}'::%s.block_record[]", l->qschema);
	else
		dynbuf_addf(b, "ARRAY[%s]", dynbuf_str(&j->blocks));
}

bool
ld_records_full(const struct ld_job *j)
{
	return dynbuf_len(&j->refusals) > LD_RECORDS_FLUSH;
}

void
ld_records_sql(struct loader *l, struct ld_job *j, struct dynbuf *b)
{
	if (j->refusals.fail != 0)
		dynbuf_fail(b, j->refusals.fail);
	if (dynbuf_len(&j->refusals) > 0)
		dynbuf_addf(b, "INSERT INTO %s.quarantine (name, kind, collector, seq, sha256, block,"
			    " metric, sqlstate, rows, error) VALUES %s ON CONFLICT (name, kind,"
			    " (coalesce(block, -1))) DO UPDATE SET last_seen = now(),"
			    " times = quarantine.times + 1, error = EXCLUDED.error,"
			    " sqlstate = EXCLUDED.sqlstate, rows = EXCLUDED.rows,"
			    " sha256 = EXCLUDED.sha256, resolved_at = NULL;\n", l->qschema,
			    dynbuf_str(&j->refusals));
	dynbuf_reset(&j->refusals);
}

void
ld_records_init(struct ld_job *j)
{
	dynbuf_init(&j->refusals, LD_TEXT_MAX);
	dynbuf_init(&j->blocks, LD_TEXT_MAX);
	dynbuf_init(&j->logs, LD_TEXT_MAX);	/* LD_LOGS_MAX stops it first */
	j->logs_dropped = 0;
}

void
ld_records_reset(struct ld_job *j)
{
	dynbuf_reset(&j->refusals);
	dynbuf_reset(&j->blocks);
	dynbuf_reset(&j->logs);
	j->logs_dropped = 0;
}

void
ld_records_free(struct ld_job *j)
{
	dynbuf_free(&j->refusals);
	dynbuf_free(&j->blocks);
	dynbuf_free(&j->logs);
}

void
ld_records_log(struct ld_job *j)
{
	const char *p = dynbuf_str(&j->logs);
	size_t len = dynbuf_len(&j->logs);

	for (size_t off = 0; off < len;) {
		const char *nl = memchr(p + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (p + off)) : len - off;

		log_warn("%.*s", (int)n, p + off);
		off += n + 1;
	}
	if (j->logs_dropped > 0)
		log_warn("'%s': %" PRIu64 " more refusals, recorded in quarantine but not logged",
			 j->qname, j->logs_dropped);
	dynbuf_reset(&j->logs);
	j->logs_dropped = 0;
}

/* ---- a whole segment refused ---- */

void
ld_quarantine_now(struct loader *l, const struct ld_job *j, const char *kind,
		  const struct pga_err *why)
{
	char seq[24], sha[2 + 2 * PGA_SHA256_LEN + 1], sql[1024];
	bool have = j->h.collector[0] != '\0';
	const char *p[7] = {j->qname, kind, have ? j->h.collector : NULL,
			    have || j->bad_collector ? seq : NULL, NULL,
			    why->sqlstate[0] ? why->sqlstate : NULL, why->msg};
	struct pga_err e = {0};

	/* a file that is not a segment of anybody's is an error, not a record */
	if (l->o.dry_run || (!have && !j->bad_collector) || PQstatus(l->conn) != CONNECTION_OK)
		return;
	ld_rollback(l);
	snprintf(seq, sizeof(seq), "%" PRIu64, j->h.seq);
	if (strcmp(kind, "conflict") == 0) {
		sha[0] = '\\';
		sha[1] = 'x';
		pga_hex(j->file_sha, PGA_SHA256_LEN, sha + 2);
		p[4] = sha;
	}
	snprintf(sql, sizeof(sql), "INSERT INTO %s.quarantine (name, kind, collector, seq, sha256,"
		 " sqlstate, error) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name, kind,"
		 " (coalesce(block, -1))) DO UPDATE SET last_seen = now(),"
		 " times = quarantine.times + 1, error = EXCLUDED.error, sqlstate = EXCLUDED.sqlstate,"
		 " sha256 = EXCLUDED.sha256, resolved_at = NULL", l->qschema);
	if (ld_exec(l, sql, 7, p, NULL, &e) < 0)
		log_warn("could not record '%s' in quarantine: %s", j->qname, e.msg);
}

/* ---- held forks ---- */

/* The file's bytes into a new large object (inside the caller's transaction). */
static int
store_bytes(struct loader *l, const struct ld_job *j, Oid *out, struct pga_err *err)
{
	Oid oid = lo_creat(l->conn, INV_READ | INV_WRITE);
	int lofd, rc = 0;
	off_t off = 0;

	*out = InvalidOid;
	if (oid == InvalidOid)
		return pga_pg_fail(err, l->conn, NULL, "large object");
	lofd = lo_open(l->conn, oid, INV_WRITE);
	if (lofd < 0)
		return pga_pg_fail(err, l->conn, NULL, "large object");
	for (;;) {
		ssize_t n = pread(j->fd, l->rbuf, LD_RBUF, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pga_fail(err, PGA_EIO, "could not read '%s': %m", j->qname);
			break;
		}
		if (n == 0)
			break;
		if (lo_write(l->conn, lofd, (const char *)l->rbuf, (size_t)n) != (int)n) {
			rc = pga_pg_fail(err, l->conn, NULL, "large object");
			break;
		}
		off += n;
	}
	if (lo_close(l->conn, lofd) < 0 && rc == 0)
		rc = pga_pg_fail(err, l->conn, NULL, "large object");
	if (rc == 0 && (uint64_t)off != j->size)
		rc = pga_fail(err, PGA_EIO, "'%s' changed while it was being held", j->qname);
	*out = oid;
	return rc;
}

/* What held_segments already knows of this file: 0 none, 1 held, 2 resolved. */
static int
held_state(struct loader *l, const struct ld_job *j, bool *has_bytes, struct pga_err *err)
{
	char sql[512], seq[24], sha[2 + 2 * PGA_SHA256_LEN + 1];
	const char *p[3] = {j->h.collector, seq, sha};
	PGresult *res = NULL;
	int rc;

	snprintf(seq, sizeof(seq), "%" PRIu64, j->h.seq);
	sha[0] = '\\';
	sha[1] = 'x';
	pga_hex(j->file_sha, PGA_SHA256_LEN, sha + 2);
	snprintf(sql, sizeof(sql), "SELECT content IS NOT NULL, resolved_at IS NOT NULL"
		 " FROM %s.held_segments WHERE collector = $1 AND seq = $2 AND sha256 = $3"
		 " FOR UPDATE", l->qschema);
	rc = ld_exec(l, sql, 3, p, &res, err);
	*has_bytes = false;
	if (rc == 0 && PQntuples(res) == 1) {
		*has_bytes = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		rc = strcmp(PQgetvalue(res, 0, 1), "t") == 0 ? 2 : 1;
	}
	PQclear(res);
	return rc;
}

static void
sb_held_insert(struct loader *l, struct dynbuf *b, const struct ld_job *j, const char *kind,
	       const char *detail, Oid oid)
{
	char ts[40];

	pga_format_time(j->h.created_us, ts, sizeof(ts));
	dynbuf_addf(b, "INSERT INTO %s.held_segments (collector, seq, sha256, prev_sha256, name,"
		    " hostname, writer, created, size, blocks, total_rows, reason, detail, content)"
		    " VALUES (", l->qschema);
	ld_add_lit(b, l->conn, j->h.collector);
	dynbuf_addf(b, ", %" PRIu64 ", ", j->h.seq);
	ld_add_sha(b, j->file_sha);
	dynbuf_addf(b, ", ");
	ld_add_sha(b, j->h.prev_sha256);
	dynbuf_addf(b, ", ");
	ld_add_lit(b, l->conn, j->qname);
	dynbuf_addf(b, ", ");
	ld_add_lit(b, l->conn, j->h.hostname);
	dynbuf_addf(b, ", ");
	ld_add_lit(b, l->conn, j->h.writer);
	dynbuf_addf(b, ", '%s', %" PRIu64 ", %u, %" PRIu64 ", '%s', ", ts, j->size, j->f.nblocks,
		    j->f.total_rows, kind);
	ld_add_lit(b, l->conn, detail);
	dynbuf_addf(b, ", %u);\n", oid);
}

static void
sb_held_again(struct loader *l, struct dynbuf *b, const struct ld_job *j, Oid oid)
{
	dynbuf_addf(b, "UPDATE %s.held_segments SET last_seen = now(), times = times + 1", l->qschema);
	if (oid != InvalidOid)
		dynbuf_addf(b, ", content = %u", oid);
	dynbuf_addf(b, " WHERE collector = ");
	ld_add_lit(b, l->conn, j->h.collector);
	dynbuf_addf(b, " AND seq = %" PRIu64 " AND sha256 = ", j->h.seq);
	ld_add_sha(b, j->file_sha);
	dynbuf_addf(b, ";\n");
}

static int
hold_tx(struct loader *l, struct ld_job *j, const char *kind, const char *detail,
	struct pga_err *err)
{
	char sql[256];
	struct dynbuf b = DYNBUF_INIT(LD_TEXT_MAX);
	bool has_bytes = false;
	Oid oid = InvalidOid;
	int state, rc;

	/* two loaders holding copies of one seq at once: one after the other */
	snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%" PRId64 "::bigint)",
		 ld_lock_key(l->schema, j->h.collector, "/hold", j->h.seq));
	rc = ld_exec(l, sql, 0, NULL, NULL, err);
	state = rc == 0 ? held_state(l, j, &has_bytes, err) : rc;
	if (state < 0)
		return state;
	if (!has_bytes)
		rc = store_bytes(l, j, &oid, err);
	if (rc < 0)
		return rc;
	if (state == 0)
		sb_held_insert(l, &b, j, kind, detail, oid);
	else
		sb_held_again(l, &b, j, oid);
	/* a fork the operator already discarded stays discarded */
	if (state != 2) {
		ld_refuse(l, j, kind, -1, NULL, NULL, (int64_t)j->f.total_rows, detail);
		ld_records_sql(l, j, &b);
	}
	dynbuf_addf(&b, "COMMIT");
	rc = dynbuf_check(&b, "hold statement", err);
	if (rc == 0)
		rc = ld_exec(l, dynbuf_str(&b), 0, NULL, NULL, err);
	dynbuf_free(&b);
	return rc == 0 && state == 2 ? 1 : rc;
}

int
ld_hold(struct loader *l, struct ld_job *j, const char *kind, const char *detail,
	struct pga_err *err)
{
	int rc;

	ld_rollback(l);
	ld_records_reset(j);
	rc = hold_tx(l, j, kind, detail, err);
	ld_records_reset(j);	/* the refusal's log line is the caller's error */
	if (rc < 0)
		ld_rollback(l);
	return rc;
}
