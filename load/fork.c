/*
 * fork.c - pga load --resolve-fork COLLECTOR:SEQ --keep SHA256-PREFIX
 *
 * A fork is two or more versions of one collector's seq: the loaded one
 * (in the ledger) and held ones (held_segments, bytes as large objects),
 * or several held ones.  The loader never chooses between them; this
 * command carries out the operator's choice:
 *
 *   - The kept version is the loaded one: the other versions at SEQ and
 *     the held segments that chain from them (SEQ+1 whose previous hash is
 *     theirs, and so on) are marked discarded.  Their bytes stay.
 *   - The kept version is a held one: the loaded branch from SEQ on (the
 *     loaded SEQ and the loaded segments chaining from it) is unloaded in
 *     one transaction: each block's rows are moved to held_rows (as jsonb,
 *     nothing deleted outright), found by the ledger's block records
 *     (collector, server, snapshot time, database) and counted: a block
 *     whose rows do not match its record exactly (another loaded block
 *     shares its key, rows changed by hand) makes the whole unload refuse;
 *     a block whose day retention dropped has nothing left to move.
 *     The ledger rows go, a held_segments row per unloaded segment says
 *     so.  Then the kept version is loaded from its large object.
 *   - Last, every held segment of the collector that now fits the chain
 *     (no version at its seq in the ledger, neighbours agreeing, no rival
 *     held at its seq) is loaded, in seq order: the rest of the kept
 *     branch comes in.
 *
 * Each step commits on its own, so a resolution cut off (a kill, a lost
 * connection) is finished by running the same command again: a seq whose
 * held versions are all decided and whose kept one is loaded goes straight
 * to the last step (and says it was resolved before); a seq that never was
 * a fork is refused.
 *
 * Locks: the unload takes the claims of the segments it unloads and their
 * chain edges, as a loader does, so no loader runs a check against a
 * ledger in the middle of being changed.
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <libpq/libpq-fs.h>

#include "common/fsutil.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/pgutil.h"

#define FORK_VERSIONS_MAX 64
#define FORK_BRANCH_MAX 100000

struct version {
	uint8_t sha[PGA_SHA256_LEN];
	char name[4 * SEG_NAME_MAX + 1];
	bool loaded;
	Oid content;			/* held: its large object */
};

struct resolve {
	struct loader *l;
	const char *collector;
	uint64_t seq;
	int32_t cid;			/* -1: the collector has no ledger rows */
	char sha_param[2 + 2 * PGA_SHA256_LEN + 1];
	struct version v[FORK_VERSIONS_MAX];
	size_t nv;
	const struct version *keep;
	bool no_fork;			/* keep is loaded and nothing is held at seq */
	/* what was done */
	uint64_t unloaded, unloaded_rows, discarded, loaded;
	FILE *out;
};

static void
bytea_param(const uint8_t *sha, char *out)
{
	out[0] = '\\';
	out[1] = 'x';
	pga_hex(sha, PGA_SHA256_LEN, out + 2);
}

/* ---- the versions at seq ---- */

static int
collector_id(struct resolve *rs, struct pga_err *err)
{
	char sql[256];
	const char *p[1] = {rs->collector};
	PGresult *res = NULL;
	int rc;

	rs->cid = -1;
	snprintf(sql, sizeof(sql), "SELECT collector_id FROM %s.collectors WHERE collector = $1",
		 rs->l->qschema);
	rc = ld_exec(rs->l, sql, 1, p, &res, err);
	if (rc == 0 && PQntuples(res) == 1)
		rs->cid = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static int
list_versions(struct resolve *rs, struct pga_err *err)
{
	char sql[1024], seq[24], cid[16];
	const char *p[3] = {rs->collector, seq, cid};
	PGresult *res = NULL;
	int rc;

	snprintf(seq, sizeof(seq), "%" PRIu64, rs->seq);
	snprintf(cid, sizeof(cid), "%d", rs->cid);
	snprintf(sql, sizeof(sql),
		 "SELECT encode(sha256, 'hex'), name, true, 0 FROM %s.segments"
		 " WHERE collector_id = $3 AND seq = $2"
		 " UNION ALL SELECT encode(sha256, 'hex'), name, false, content FROM %s.held_segments"
		 " WHERE collector = $1 AND seq = $2 AND resolved_at IS NULL AND content IS NOT NULL"
		 " ORDER BY 3 DESC, 1 LIMIT %d", rs->l->qschema, rs->l->qschema, FORK_VERSIONS_MAX);
	rc = ld_exec(rs->l, sql, 3, p, &res, err);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		struct version *v = &rs->v[rs->nv++];

		pga_unhex(PQgetvalue(res, i, 0), v->sha, PGA_SHA256_LEN);
		strlcpy(v->name, PQgetvalue(res, i, 1), sizeof(v->name));
		v->loaded = strcmp(PQgetvalue(res, i, 2), "t") == 0;
		v->content = (Oid)strtoul(PQgetvalue(res, i, 3), NULL, 10);
	}
	PQclear(res);
	return rc;
}

static int
no_fork(const struct resolve *rs, struct pga_err *err)
{
	return pga_fail(err, PGA_ENOTFOUND, "collector '%s' seq %" PRIu64 " has no held version:"
			" no fork to resolve there (see pga status --central)", rs->collector,
			rs->seq);
}

static int
pick(struct resolve *rs, const char *prefix, struct pga_err *err)
{
	size_t plen = strlen(prefix), held = 0;
	char hex[PGA_SHA256_HEX];

	for (size_t i = 0; i < rs->nv; i++) {
		held += !rs->v[i].loaded;
		pga_hex(rs->v[i].sha, PGA_SHA256_LEN, hex);
		if (strncmp(hex, prefix, plen) != 0)
			continue;
		if (rs->keep != NULL)
			return pga_fail(err, PGA_EINVAL, "--keep '%s' matches more than one version of"
					" collector '%s' seq %" PRIu64 ": give more digits", prefix,
					rs->collector, rs->seq);
		rs->keep = &rs->v[i];
	}
	/* the loaded one, and no other: a resolution that was cut off after
	 * its discard may still have its last step (settle) to finish */
	rs->no_fork = held == 0 && rs->keep != NULL && rs->keep->loaded;
	if (held == 0 && !rs->no_fork)
		return no_fork(rs, err);
	if (rs->keep == NULL)
		return pga_fail(err, PGA_ENOTFOUND, "no version of collector '%s' seq %" PRIu64
				" has a sha256 starting with '%s'", rs->collector, rs->seq, prefix);
	return 0;
}

/* ---- discarding held versions ---- */

/*
 * The held versions at seq other than the kept one, and the held segments
 * chaining from them, are discarded (bytes kept), with their refusals.
 */
static int
discard_others(struct resolve *rs, struct pga_err *err)
{
	char sql[2048], seq[24], sha[2 + 2 * PGA_SHA256_LEN + 1];
	const char *p[3] = {rs->collector, seq, sha};
	const char *s = rs->l->qschema;
	PGresult *res = NULL;
	int rc;

	snprintf(seq, sizeof(seq), "%" PRIu64, rs->seq);
	bytea_param(rs->keep->sha, sha);
	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE d AS (SELECT seq, sha256 FROM %s.held_segments"
		 "  WHERE collector = $1 AND seq = $2 AND sha256 <> $3 AND resolved_at IS NULL"
		 " UNION SELECT h.seq, h.sha256 FROM %s.held_segments h JOIN d"
		 "  ON h.collector = $1 AND h.seq = d.seq + 1 AND h.prev_sha256 = d.sha256"
		 "  AND h.resolved_at IS NULL),"
		 " h AS (UPDATE %s.held_segments x SET resolved_at = now(),"
		 "  resolution = 'discarded by pga load --resolve-fork' FROM d"
		 "  WHERE x.collector = $1 AND x.seq = d.seq AND x.sha256 = d.sha256 RETURNING x.seq),"
		 " q AS (UPDATE %s.quarantine x SET resolved_at = now() FROM d"
		 "  WHERE x.collector = $1 AND x.seq = d.seq AND x.sha256 = d.sha256"
		 "  AND x.kind IN ('conflict', 'chain') AND x.resolved_at IS NULL RETURNING 1)"
		 " SELECT (SELECT count(*) FROM h), (SELECT count(*) FROM q)", s, s, s, s);
	rc = ld_exec(rs->l, sql, 3, p, &res, err);
	if (rc == 0)
		rs->discarded += strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

/* ---- unloading the loaded branch ---- */

struct branch_seg {
	uint64_t seq;
	uint8_t sha[PGA_SHA256_LEN];
};

/* The loaded seq and the loaded segments chaining from it, in order. */
static int
loaded_branch(struct resolve *rs, struct branch_seg **out, size_t *n, struct pga_err *err)
{
	char sql[512], seq[24], cid[16];
	const char *p[2] = {cid, seq};
	PGresult *res = NULL;
	uint8_t prev[PGA_SHA256_LEN];
	int rc;

	*n = 0;
	snprintf(seq, sizeof(seq), "%" PRIu64, rs->seq);
	snprintf(cid, sizeof(cid), "%d", rs->cid);
	snprintf(sql, sizeof(sql), "SELECT seq, encode(sha256, 'hex'), encode(prev_sha256, 'hex')"
		 " FROM %s.segments WHERE collector_id = $1 AND seq >= $2 ORDER BY seq LIMIT %d",
		 rs->l->qschema, FORK_BRANCH_MAX);
	rc = ld_exec(rs->l, sql, 2, p, &res, err);
	if (rc == 0)
		*out = calloc((size_t)PQntuples(res) + 1, sizeof(**out));
	if (rc == 0 && *out == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
		struct branch_seg *b = &(*out)[*n];

		b->seq = strtoull(PQgetvalue(res, i, 0), NULL, 10);
		pga_unhex(PQgetvalue(res, i, 1), b->sha, PGA_SHA256_LEN);
		pga_unhex(PQgetvalue(res, i, 2), prev, PGA_SHA256_LEN);
		if (b->seq != rs->seq + *n ||
		    (*n > 0 && memcmp(prev, (*out)[*n - 1].sha, PGA_SHA256_LEN) != 0))
			break;	/* a gap or another chain: the branch ends */
		(*n)++;
	}
	PQclear(res);
	return rc;
}

/* Claims, then chain edges, ascending: the order every loader takes them in. */
static int
lock_branch(struct resolve *rs, const struct branch_seg *b, size_t n, struct pga_err *err)
{
	struct dynbuf sb = DYNBUF_INIT(LD_TEXT_MAX);
	int rc;

	dynbuf_addf(&sb, "SELECT true");
	for (size_t i = 0; i < n; i++)
		dynbuf_addf(&sb, ", pg_advisory_xact_lock(%" PRId64 "::bigint)",
			    ld_lock_key(rs->l->schema, rs->collector, "", b[i].seq));
	for (size_t i = 0; i <= n; i++)
		dynbuf_addf(&sb, ", pg_advisory_xact_lock(%" PRId64 "::bigint)",
			    ld_lock_key(rs->l->schema, rs->collector, "/edge", rs->seq - 1 + i));
	rc = dynbuf_check(&sb, "lock statement", err);
	if (rc == 0)
		rc = ld_exec(rs->l, dynbuf_str(&sb), 0, NULL, NULL, err);
	dynbuf_free(&sb);
	return rc;
}

/* Was the daily partition of day dropped (pga load --retain)? */
static bool
partition_gone(struct resolve *rs, const char *metric, int32_t day, struct pga_err *err)
{
	char suffix[16], name[LD_IDENT_MAX], qname[LD_QNAME_MAX];
	const char *p[1] = {qname};
	time_t t = (time_t)day * 86400;
	PGresult *res = NULL;
	struct tm tm;
	bool gone;

	gmtime_r(&t, &tm);
	strftime(suffix, sizeof(suffix), "_p%Y%m%d", &tm);
	ld_derived_name(metric, suffix, name, sizeof(name));
	if (ld_qualify(rs->l->schema, name, qname, sizeof(qname), err) < 0 ||
	    ld_exec(rs->l, "SELECT to_regclass($1) IS NULL", 1, p, &res, err) < 0)
		return false;
	gone = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return gone;
}

/*
 * How many loaded blocks (this one included) have this block's key
 * (metric, server, snapshot time, database), each with the same rows
 * recorded; 0 when others share the key with another row count.
 */
static int
key_copies(struct resolve *rs, const struct branch_seg *b, const PGresult *blk, int i,
	   long *copies, struct pga_err *err)
{
	char sql[1024];
	const char *p[4] = {PQgetvalue(blk, i, 1), PQgetvalue(blk, i, 2), PQgetvalue(blk, i, 3),
			    PQgetisnull(blk, i, 4) ? NULL : PQgetvalue(blk, i, 4)};
	PGresult *res = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT count(*), count(*) FILTER (WHERE x.rows <> %s)"
		 " FROM %s.segments s, unnest(s.loaded_blocks) x WHERE s.collector_id = %d"
		 " AND x.metric = $1 AND x.server_id = $2 AND x.snapshot_time = $3"
		 " AND x.dbname IS NOT DISTINCT FROM $4", PQgetvalue(blk, i, 5), rs->l->qschema,
		 rs->cid);
	rc = ld_exec(rs->l, sql, 4, p, &res, err);
	if (rc == 0)
		*copies = strcmp(PQgetvalue(res, 0, 1), "0") == 0 ? atol(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	(void)b;
	return rc;
}

/*
 * Blocks that share a key can be told apart only when they are identical
 * copies (a segment replayed under another seq, the easiest forgery): then
 * every distinct row of the key is there exactly `copies` times, and
 * taking one of each out leaves exactly what the others loaded.
 */
static int
copies_identical(struct resolve *rs, const char *qt, const char *const *key, long copies,
		 uint64_t rows, bool *same, struct pga_err *err)
{
	char sql[1024 + LD_QNAME_MAX];
	PGresult *res = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT count(*) FILTER (WHERE c <> %ld), coalesce(sum(c), 0)"
		 " FROM (SELECT count(*) c FROM %s x WHERE collector_id = %d AND server_id = $1"
		 " AND snapshot_time = $2 AND dbname IS NOT DISTINCT FROM $3 GROUP BY to_jsonb(x)) g",
		 copies, qt, rs->cid);
	rc = ld_exec(rs->l, sql, 3, key, &res, err);
	*same = rc == 0 && strcmp(PQgetvalue(res, 0, 0), "0") == 0 &&
		strtoull(PQgetvalue(res, 0, 1), NULL, 10) == rows * (uint64_t)copies;
	PQclear(res);
	return rc;
}

/* One block's rows into held_rows; exactly its recorded rows or an error. */
static int
move_block(struct resolve *rs, const struct branch_seg *b, const PGresult *blk, int i,
	   struct pga_err *err)
{
	const char *metric = PQgetvalue(blk, i, 1);
	char qt[LD_QNAME_MAX], sql[1536 + 2 * LD_QNAME_MAX], sha[2 + 2 * PGA_SHA256_LEN + 1];
	char which[512 + LD_QNAME_MAX] = "";
	const char *p[5] = {PQgetvalue(blk, i, 2), PQgetvalue(blk, i, 3),
			    PQgetisnull(blk, i, 4) ? NULL : PQgetvalue(blk, i, 4), sha,
			    rs->collector};
	uint64_t want = strtoull(PQgetvalue(blk, i, 5), NULL, 10), got;
	PGresult *res = NULL;
	long copies = 1;
	bool same = true;
	int rc;

	if (!seg_metric_valid(metric))
		return pga_fail(err, PGA_EINTERNAL, "invalid metric '%s' in loaded_blocks", metric);
	rc = ld_qualify(rs->l->schema, metric, qt, sizeof(qt), err);
	if (rc == 0)
		rc = key_copies(rs, b, blk, i, &copies, err);
	if (rc == 0 && copies != 1)
		rc = copies < 2 ? 0 : copies_identical(rs, qt, p, copies, want, &same, err);
	if (rc == 0 && (copies < 1 || !same))
		rc = pga_fail(err, PGA_ECONFLICT, "collector '%s' seq %" PRIu64 " block %s has the same"
			      " series and snapshot time as another loaded block, with other rows: its"
			      " rows cannot be told apart, unload refused, nothing changed",
			      rs->collector, b->seq, PQgetvalue(blk, i, 0));
	if (rc < 0)
		return rc;
	bytea_param(b->sha, sha);
	if (copies > 1)		/* identical copies: one of each row goes */
		snprintf(which, sizeof(which), " AND (tableoid, ctid) IN (SELECT t, c FROM"
			 " (SELECT x.tableoid t, x.ctid c, row_number() OVER (PARTITION BY to_jsonb(x))"
			 " n FROM %s x WHERE collector_id = %d AND server_id = $1 AND snapshot_time = $2"
			 " AND dbname IS NOT DISTINCT FROM $3) y WHERE n = 1)", qt, rs->cid);
	snprintf(sql, sizeof(sql), "WITH d AS (DELETE FROM %s WHERE collector_id = %d"
		 " AND server_id = $1 AND snapshot_time = $2 AND dbname IS NOT DISTINCT FROM $3%s"
		 " RETURNING *) INSERT INTO %s.held_rows (collector, seq, sha256, block, metric, row)"
		 " SELECT $5, %" PRIu64 ", $4::bytea, %s, '%s', to_jsonb(d) FROM d", qt, rs->cid,
		 which, rs->l->qschema, b->seq, PQgetvalue(blk, i, 0), metric);
	rc = ld_exec(rs->l, sql, 5, p, &res, err);
	got = rc == 0 ? strtoull(PQcmdTuples(res), NULL, 10) : 0;
	PQclear(res);
	if (rc == 0 && got == 0 && want > 0 &&
	    partition_gone(rs, metric, atoi(PQgetvalue(blk, i, 6)), err))
		want = 0;	/* its day was dropped by retention: nothing left to move */
	if (rc == 0 && got != want)
		rc = pga_fail(err, PGA_ECONFLICT, "collector '%s' seq %" PRIu64 " block %s: %" PRIu64
			      " rows found where %" PRIu64 " were loaded (changed by hand or dropped"
			      " by retention): unload refused, nothing changed", rs->collector,
			      b->seq, PQgetvalue(blk, i, 0), got, want);
	rs->unloaded_rows += got;
	return rc;
}

/* Can this loaded segment be taken out exactly?  Checked before anything moves. */
static int
check_segment(struct resolve *rs, const struct branch_seg *b, struct pga_err *err)
{
	char sql[512];
	PGresult *res = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT loaded_blocks IS NOT NULL FROM %s.segments"
		 " WHERE collector_id = %d AND seq = %" PRIu64 " FOR UPDATE", rs->l->qschema,
		 rs->cid, b->seq);
	rc = ld_exec(rs->l, sql, 0, NULL, &res, err);
	if (rc == 0 && (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0))
		rc = pga_fail(err, PGA_ECONFLICT, "collector '%s' seq %" PRIu64 " was loaded before"
			      " pga recorded blocks (schema version 1): it cannot be unloaded exactly,"
			      " nothing changed", rs->collector, b->seq);
	PQclear(res);
	return rc;
}

static int
unload_segment(struct resolve *rs, const struct branch_seg *b, struct pga_err *err)
{
	char sql[2048];
	const char *s = rs->l->qschema;
	PGresult *blk = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT x.block, x.metric, x.server_id, x.snapshot_time,"
		 " x.dbname, x.rows, floor(extract(epoch FROM x.snapshot_time) / 86400)::integer"
		 " FROM %s.segments s, unnest(s.loaded_blocks) x WHERE s.collector_id = %d"
		 " AND s.seq = %" PRIu64 " ORDER BY 1", s, rs->cid, b->seq);
	rc = ld_exec(rs->l, sql, 0, NULL, &blk, err);
	for (int i = 0; rc == 0 && i < PQntuples(blk); i++)
		rc = move_block(rs, b, blk, i, err);
	PQclear(blk);
	if (rc < 0)
		return rc;
	/* the ledger row becomes a held row (its rows in held_rows), then goes;
	 * its link in the ledger's hash chain goes with it (SCHEMA.md) */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s.held_segments AS h (collector, seq, sha256, prev_sha256, name,"
		 " hostname, created, size, blocks, total_rows, reason, detail, content, resolved_at,"
		 " resolution, ledger_no, prev_row_hash, row_hash)"
		 " SELECT c.collector, s.seq, s.sha256, s.prev_sha256, s.name, s.hostname,"
		 " s.created, s.size, s.blocks, s.total_rows, 'unloaded', 'unloaded by pga load"
		 " --resolve-fork: its rows are in held_rows', NULL, now(), 'unloaded',"
		 " s.ledger_no, s.prev_row_hash, s.row_hash"
		 " FROM %s.segments s JOIN %s.collectors c USING (collector_id)"
		 " WHERE s.collector_id = %d AND s.seq = %" PRIu64
		 " ON CONFLICT (collector, seq, sha256) DO UPDATE SET reason = 'unloaded',"
		 " detail = EXCLUDED.detail, resolved_at = now(), resolution = 'unloaded',"
		 " ledger_no = EXCLUDED.ledger_no, prev_row_hash = EXCLUDED.prev_row_hash,"
		 " row_hash = EXCLUDED.row_hash;"
		 "UPDATE %s.quarantine SET resolved_at = now() WHERE collector = (SELECT collector"
		 " FROM %s.collectors WHERE collector_id = %d) AND seq = %" PRIu64
		 " AND kind IN ('block', 'reserved', 'columns') AND resolved_at IS NULL;"
		 "DELETE FROM %s.segments WHERE collector_id = %d AND seq = %" PRIu64,
		 s, s, s, rs->cid, b->seq, s, s, rs->cid, b->seq, s, rs->cid, b->seq);
	rc = ld_exec(rs->l, sql, 0, NULL, NULL, err);
	if (rc == 0)
		rs->unloaded++;
	return rc;
}

static int
unload_branch(struct resolve *rs, struct pga_err *err)
{
	struct branch_seg *b = NULL;
	size_t n = 0;
	char sql[512];	/* two quoted schemas (2 x 131) and the text */
	int rc = loaded_branch(rs, &b, &n, err);

	if (rc == 0 && n > 0)
		rc = ld_exec(rs->l, "BEGIN", 0, NULL, NULL, err);
	if (rc == 0 && n > 0)
		rc = lock_branch(rs, b, n, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = check_segment(rs, &b[i], err);
	for (size_t i = n; rc == 0 && i > 0; i--)
		rc = unload_segment(rs, &b[i - 1], err);
	if (rc == 0 && n > 0) {
		snprintf(sql, sizeof(sql), "UPDATE %s.collectors SET last_seq = (SELECT max(seq) FROM"
			 " %s.segments WHERE collector_id = %d) WHERE collector_id = %d", rs->l->qschema,
			 rs->l->qschema, rs->cid, rs->cid);
		rc = ld_exec(rs->l, sql, 0, NULL, NULL, err);
	}
	if (rc == 0 && n > 0)
		rc = ld_exec(rs->l, "COMMIT", 0, NULL, NULL, err);
	if (rc == 0 && n > 0)
		log_info("collector '%s': seq %" PRIu64 " to %" PRIu64 " unloaded, their rows kept in"
			 " held_rows", rs->collector, b[0].seq, b[n - 1].seq);
	if (rc < 0)
		ld_rollback(rs->l);
	free(b);
	return rc;
}

/* ---- loading a held segment ---- */

/* The large object's bytes into an unlinked temporary file. */
static int
export_held(struct loader *l, Oid oid, int *fd_out, struct pga_err *err)
{
	int fd = open(l->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), lofd = -1, rc;

	*fd_out = -1;
	if (fd < 0)
		return pga_fail(err, PGA_EIO, "could not create a temporary file in '%s': %m",
				l->tmpdir);
	rc = ld_exec(l, "BEGIN", 0, NULL, NULL, err);
	if (rc == 0 && (lofd = lo_open(l->conn, oid, INV_READ)) < 0)
		rc = pga_pg_fail(err, l->conn, NULL, "large object");
	while (rc == 0) {
		int n = lo_read(l->conn, lofd, (char *)l->rbuf, LD_RBUF);

		if (n < 0)
			rc = pga_pg_fail(err, l->conn, NULL, "large object");
		else if (n == 0)
			break;
		else
			rc = pga_write_all(fd, l->rbuf, (size_t)n, l->tmpdir, err);
	}
	if (rc == 0 && lo_close(l->conn, lofd) < 0)
		rc = pga_pg_fail(err, l->conn, NULL, "large object");
	if (rc == 0)
		rc = ld_exec(l, "COMMIT", 0, NULL, NULL, err);
	ld_rollback(l);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

static int
load_held(struct resolve *rs, const char *name, Oid oid, bool force, struct pga_err *err)
{
	struct ld_load_extra x = {.force_chain = force, .held_oid = oid};
	struct load_seg_stats st = {0};
	enum load_result res = LOAD_FILTERED;
	int fd = -1, rc = export_held(rs->l, oid, &fd, err);

	if (rc == 0)
		rc = ld_load_fd(rs->l, name, fd, &x, &res, &st, err);
	if (fd >= 0)
		close(fd);
	if (rc == 0 && res != LOAD_LOADED)
		rc = pga_fail(err, PGA_ECONFLICT, "'%s' could not be loaded from where it was held",
			      name);
	if (rc == 0) {
		rs->loaded++;
		fprintf(rs->out, "loaded '%s': %" PRIu64 " rows%s\n", name, st.rows,
			st.blocks_refused ? " (some blocks refused, see pga status --central)" : "");
	}
	return rc;
}

/*
 * Held segments that fit the chain now, lowest seq first, one at a time
 * (each load changes what fits next).
 */
static int
settle(struct resolve *rs, struct pga_err *err)
{
	char sql[2048], cid[16];
	const char *p[2] = {rs->collector, cid};
	const char *s = rs->l->qschema;
	int rc = 0;

	snprintf(cid, sizeof(cid), "%d", rs->cid);
	snprintf(sql, sizeof(sql),
		 "SELECT h.name, h.content FROM %s.held_segments h WHERE h.collector = $1"
		 " AND h.resolved_at IS NULL AND h.content IS NOT NULL"
		 " AND NOT EXISTS (SELECT 1 FROM %s.segments x WHERE x.collector_id = $2::integer"
		 "  AND x.seq = h.seq)"
		 " AND NOT EXISTS (SELECT 1 FROM %s.segments x WHERE x.collector_id = $2::integer"
		 "  AND x.seq = h.seq - 1 AND x.sha256 <> h.prev_sha256)"
		 " AND NOT EXISTS (SELECT 1 FROM %s.segments x WHERE x.collector_id = $2::integer"
		 "  AND x.seq = h.seq + 1 AND x.prev_sha256 <> h.sha256)"
		 " AND NOT EXISTS (SELECT 1 FROM %s.held_segments o WHERE o.collector = h.collector"
		 "  AND o.seq = h.seq AND o.sha256 <> h.sha256 AND o.resolved_at IS NULL)"
		 " ORDER BY h.seq LIMIT 1", s, s, s, s, s);
	for (int i = 0; rc == 0 && i < FORK_BRANCH_MAX; i++) {
		PGresult *res = NULL;
		char name[4 * SEG_NAME_MAX + 1];
		Oid oid = InvalidOid;

		rc = ld_exec(rs->l, sql, 2, p, &res, err);
		if (rc == 0 && PQntuples(res) == 1) {
			strlcpy(name, PQgetvalue(res, 0, 0), sizeof(name));
			oid = (Oid)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
		}
		PQclear(res);
		if (rc < 0 || oid == InvalidOid)
			break;
		rc = load_held(rs, name, oid, false, err);
	}
	return rc;
}

/*
 * The kept version is loaded and nothing is held at seq: the same command
 * run again.  A seq that was a fork (held versions, all decided) is done,
 * and what its resolution's last step had left, if it was cut off, settle
 * has just loaded; a seq that never was one is refused, as before.
 */
static int
resolved_before(struct resolve *rs, struct pga_err *err)
{
	char sql[256], seq[24];
	const char *p[2] = {rs->collector, seq};
	PGresult *res = NULL;
	bool forked;
	int rc;

	snprintf(seq, sizeof(seq), "%" PRIu64, rs->seq);
	snprintf(sql, sizeof(sql), "SELECT EXISTS (SELECT 1 FROM %s.held_segments WHERE"
		 " collector = $1 AND seq = $2)", rs->l->qschema);
	rc = ld_exec(rs->l, sql, 2, p, &res, err);
	forked = rc == 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (rc < 0)
		return rc;
	if (!forked)
		return no_fork(rs, err);
	log_info("collector '%s' seq %" PRIu64 ": resolved before%s", rs->collector, rs->seq,
		 rs->loaded > 0 ? "; the segments its last step had left are loaded now" : "");
	return 0;
}

static int
still_held(struct resolve *rs, int *n, struct pga_err *err)
{
	char sql[256];
	const char *p[1] = {rs->collector};
	PGresult *res = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.held_segments WHERE collector = $1"
		 " AND resolved_at IS NULL", rs->l->qschema);
	rc = ld_exec(rs->l, sql, 1, p, &res, err);
	*n = rc == 0 ? atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	return rc;
}

static int
check_prefix(const char *prefix, char *lower, size_t cap, struct pga_err *err)
{
	size_t n = strlen(prefix);

	if (n < 8 || n > 64 || n >= cap || strspn(prefix, "0123456789abcdefABCDEF") != n)
		return pga_fail(err, PGA_EINVAL, "--keep wants 8 to 64 hex digits of a sha256, not '%s'",
				prefix);
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)prefix[i]);
	return 0;
}

int
loader_resolve_fork(struct loader *l, const char *collector, uint64_t seq,
		    const char *keep_prefix, FILE *out, struct pga_err *err)
{
	struct resolve *rs = calloc(1, sizeof(*rs));
	char prefix[PGA_SHA256_HEX], hex[PGA_SHA256_HEX];
	int rc, left = 0;

	if (rs == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	rs->l = l;
	rs->collector = collector;
	rs->seq = seq;
	rs->out = out;
	rc = check_prefix(keep_prefix, prefix, sizeof(prefix), err);
	if (rc == 0)
		rc = collector_id(rs, err);
	if (rc == 0)
		rc = list_versions(rs, err);
	if (rc == 0)
		rc = pick(rs, prefix, err);
	if (rc == 0 && !rs->keep->loaded && rs->cid >= 0)
		rc = unload_branch(rs, err);
	if (rc == 0 && !rs->keep->loaded)
		rc = load_held(rs, rs->keep->name, rs->keep->content, true, err);
	if (rc == 0)
		rc = discard_others(rs, err);
	if (rc == 0 && rs->cid < 0)
		rc = collector_id(rs, err);
	if (rc == 0)
		rc = settle(rs, err);
	if (rc == 0 && rs->no_fork)
		rc = resolved_before(rs, err);
	if (rc == 0)
		rc = still_held(rs, &left, err);
	if (rc == 0) {
		pga_hex(rs->keep->sha, PGA_SHA256_LEN, hex);
		fprintf(out, "collector '%s' seq %" PRIu64 ": kept '%s' (sha256 %.16s...); %" PRIu64
			" segments unloaded (%" PRIu64 " rows moved to held_rows), %" PRIu64
			" held segments discarded, %" PRIu64 " loaded; %d still held\n", collector, seq,
			rs->keep->name, hex, rs->unloaded, rs->unloaded_rows, rs->discarded, rs->loaded,
			left);
		rc = left;
	}
	free(rs);
	return rc;
}
