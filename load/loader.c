/*
 * loader.c - one segment into the central database, exactly once
 *
 * For each segment:
 *   1. Header and footer are read from the file's ends.  A segment of
 *      another collector or wholly outside --since/--until is filtered; one
 *      already complete in the ledger with the same footer hash is a
 *      duplicate.  Nothing else is read for those.  A header whose
 *      collector id is not a valid name is refused before any SQL.
 *   2. The whole file is verified (every CRC, the footer, the SHA-256)
 *      without decompressing, and the block headers tell which tables,
 *      columns, daily partitions and servers must exist.  A corrupt segment
 *      stops here, before anything is written, and is recorded in
 *      quarantine.
 *   3. The chain: the ledger's rows for seq - 1, seq and seq + 1 of the
 *      collector.  Same seq with another hash, a previous-segment hash that
 *      is not the ledger's hash of seq - 1, or a hash that is not what the
 *      ledger's seq + 1 names as its predecessor: the segment forks the
 *      chain and is held (record.c: its bytes as a large object, shown by
 *      status --central) instead of loaded, whichever copy came first.  A
 *      missing neighbour (out-of-order arrival, a gap left by
 *      spool-full = drop-oldest) blocks nothing: the check is made again
 *      by whichever neighbour arrives later.
 *   4. Whatever is missing is created, each in its own short transaction
 *      (ddl.c).
 *   5. The load transaction: claim the segment (transaction-scoped advisory
 *      lock on a hash of schema, collector and seq; a busy claim means
 *      another loader has it) and try the two chain edges of seq (advisory
 *      locks on (seq-1, seq) and (seq, seq+1)), look at the ledger again,
 *      stream every wanted block through COPY while the reader decompresses
 *      and checks it again (consecutive blocks of one table share one
 *      COPY), wait for an edge that was busy and check the neighbours once
 *      more (chain_final(): two loaders of neighbouring segments cannot
 *      both miss each other; only their commits are serialised, never the
 *      COPYs, and a load in order pays nothing).  Then the ledger row with
 *      its block records, the refusals, the collector's registry row last,
 *      and COMMIT only after the reader reached a verified footer.  Any
 *      error rolls everything back.
 *   6. Isolation: when the server refuses block data (SQLSTATE class 22,
 *      23502, 54000, or our own CSV checks: field count, unterminated
 *      quote, row count), the transaction is rolled back and run again in
 *      a mode where every block has its own SAVEPOINT and its own COPY.  A
 *      block that fails is rolled back to its savepoint and recorded
 *      (quarantine kind 'block': segment, block, metric, SQLSTATE, the
 *      row COPY named, the reason); the others commit with the ledger row,
 *      which counts the blocks and rows refused.  Fast path untouched: the
 *      slow mode runs only for a segment that needs it.  Re-running finds
 *      the ledger row complete (nothing loaded twice) and the refusals
 *      recorded (nothing retried silently).
 * Deadlock, lock timeout and a partition dropped under us are retried from
 * step 1 (the file can be read again).  Errors that will fail every
 * segment (loader_error_fatal()) are returned as they are: the run stops.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/config.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/pgutil.h"
#include "common/units.h"
#include "common/utf8.h"

#define LD_ATTEMPTS 4
#define LD_WINDOWS_MAX 1024

/* ---- SQL helpers ---- */

int
ld_exec(struct loader *l, const char *sql, int nparams, const char *const *params,
	PGresult **out, struct pga_err *err)
{
	PGresult *res = nparams > 0 ? PQexecParams(l->conn, sql, nparams, NULL, params, NULL,
						   NULL, 0)
				    : PQexec(l->conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (out != NULL)
		*out = NULL;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char what[72];

		snprintf(what, sizeof(what), "%.60s", sql);
		what[strcspn(what, "\n")] = '\0';
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

int64_t
ld_lock_key(const char *schema, const char *collector, const char *what, uint64_t seq)
{
	char id[200];

	snprintf(id, sizeof(id), "%s/%s%s/%" PRIu64, schema, collector, what, seq);
	return (int64_t)pga_fnv1a64_str(id, 0);
}

static void
time_param(int64_t us, char *buf, size_t cap)
{
	pga_format_time(us, buf, cap);
}

static bool
sqlstate_is(const struct pga_err *e, const char *s)
{
	return strcmp(e->sqlstate, s) == 0;
}

static bool
sqlstate_class(const struct pga_err *e, const char *cls)
{
	return strncmp(e->sqlstate, cls, 2) == 0;
}

bool
loader_error_fatal(const struct pga_err *e)
{
	static const char *const classes[] = {
		"08",	/* connection exception */
		"28",	/* invalid authorization */
		"3D",	/* invalid catalog (database) name */
		"3F",	/* invalid schema name: the schema is gone */
		"53",	/* insufficient resources: disk full, out of memory, connections */
		"58",	/* system error: I/O */
		"XX",	/* internal error, data corrupted */
		NULL,
	};

	if (e->code == PGA_ENET || e->code == PGA_ENOMEM || e->code == PGA_EINTERNAL ||
	    e->code == PGA_ENOSPC)
		return true;
	if (e->code != PGA_EDB)
		return false;
	for (const char *const *c = classes; *c; c++)
		if (sqlstate_class(e, *c))
			return true;
	/* operator intervention (shutdown, crash) but not a statement timeout */
	if (sqlstate_class(e, "57") && !sqlstate_is(e, "57014"))
		return true;
	/* permission denied, read-only transaction, a table still missing after retries */
	return sqlstate_is(e, "42501") || sqlstate_is(e, "25006") || sqlstate_is(e, "42P01");
}

bool
ld_data_error(const struct pga_err *e)
{
	/* our own CSV checks (field count, quotes, row count) are PGA_ECORRUPT */
	if (e->code == PGA_ECORRUPT)
		return true;
	return e->code == PGA_EDB && (sqlstate_class(e, "22") || sqlstate_is(e, "23502") ||
				      sqlstate_is(e, "54000"));
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
loader_set_window(struct loader *l, int64_t since, int64_t until)
{
	l->o.since = since;
	l->o.until = until;
}

void
loader_close(struct loader *l)
{
	if (l == NULL)
		return;
	ld_bulk_free(l);
	if (l->conn != NULL)
		PQfinish(l->conn);
	ld_tables_forget(l);
	free(l->tables);
	free(l->servers);
	free(l->collectors);
	ld_needs_free(&l->needs);
	ld_keycache_free(l);
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

static bool
in_window(const struct loader *l, int64_t t)
{
	return t >= l->o.since && t <= l->o.until;
}

static bool
covered_before(const struct ld_job *j, int64_t t)
{
	for (size_t i = 0; i < j->nwin; i++)
		if (t >= j->win[i].since && t <= j->win[i].until)
			return true;
	return false;
}

/* This pass's business: in the window and not loaded by an earlier one. */
static bool
block_due(const struct loader *l, const struct ld_job *j, int64_t t)
{
	return in_window(l, t) && !covered_before(j, t);
}

/*
 * Custom metrics named like our own objects are never loaded.  The segment
 * reader already refuses invalid metric names; checked again before SQL.
 */
static bool
metric_refused(const char *metric)
{
	return !seg_metric_valid(metric) ||
	       (ld_builtin_find(metric) == NULL && ld_metric_reserved(metric));
}

static uint64_t
index_rows(const struct ld_job *j, uint32_t block_no)
{
	return block_no < j->f.nblocks ? j->f.index[block_no].rows : 0;
}

/* ---- ledger ---- */

static int windows_read(struct loader *l, struct ld_job *j, struct pga_err *err);


/* One ledger row of seq-1, seq or seq+1 into the job. */
void
ld_ledger_row(struct ld_job *j, const PGresult *res, int i)
{
	uint64_t seq = strtoull(PQgetvalue(res, i, 0), NULL, 10);

	if (seq == j->h.seq) {
		j->in_ledger = true;
		pga_unhex(PQgetvalue(res, i, 1), j->led_sha, PGA_SHA256_LEN);
		pga_unhex(PQgetvalue(res, i, 2), j->led_body, PGA_SHA256_LEN);
		j->complete = strcmp(PQgetvalue(res, i, 3), "t") == 0;
	} else if (seq + 1 == j->h.seq) {
		j->have_prev = true;
		pga_unhex(PQgetvalue(res, i, 1), j->prev_sha, PGA_SHA256_LEN);
	} else if (seq == j->h.seq + 1) {
		j->have_next = true;
		pga_unhex(PQgetvalue(res, i, 4), j->next_prev, PGA_SHA256_LEN);
	}
}

/* The segment's ledger row and its neighbours' (the chain around it). */
int
ld_ledger_read(struct loader *l, struct ld_job *j, struct pga_err *err)
{
	char sql[512], cid[16], seq[24];
	const char *params[2] = {cid, seq};
	PGresult *res = NULL;
	int rc;

	j->in_ledger = j->complete = j->have_prev = j->have_next = false;
	j->nwin = 0;
	if (j->collector_id < 0)
		return 0;
	snprintf(cid, sizeof(cid), "%d", j->collector_id);
	snprintf(seq, sizeof(seq), "%" PRIu64, j->h.seq);
	snprintf(sql, sizeof(sql), "SELECT seq, encode(sha256, 'hex'), encode(body_sha256, 'hex'),"
		 " complete, encode(prev_sha256, 'hex') FROM %s.segments WHERE collector_id = $1"
		 " AND seq BETWEEN $2::bigint - 1 AND $2::bigint + 1", l->qschema);
	rc = ld_exec(l, sql, 2, params, &res, err);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++)
		ld_ledger_row(j, res, i);
	PQclear(res);
	if (rc < 0 || !j->in_ledger || j->complete)
		return rc;
	return windows_read(l, j, err);
}

/* The windows a partial segment was loaded for, as microseconds (NULL: open). */
static int
windows_read(struct loader *l, struct ld_job *j, struct pga_err *err)
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

int
ld_collector_lookup(struct loader *l, struct ld_job *j, struct pga_err *err)
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

/* ---- the chain ---- */

/*
 * Does the segment fit the chain the ledger holds around it?  NULL if it
 * does (or nothing is known yet), else why not, in buf.
 */
const char *
ld_chain_break(const struct ld_job *j, char *buf, size_t cap)
{
	char a[PGA_SHA256_HEX], b[PGA_SHA256_HEX];

	if (j->force_chain)
		return NULL;
	if (j->have_prev && memcmp(j->prev_sha, j->h.prev_sha256, PGA_SHA256_LEN) != 0) {
		pga_hex(j->h.prev_sha256, PGA_SHA256_LEN, a);
		pga_hex(j->prev_sha, PGA_SHA256_LEN, b);
		snprintf(buf, cap, "its previous-segment hash %.16s... is not the hash of the loaded"
			 " seq %" PRIu64 " (%.16s...)", a, j->h.seq - 1, b);
		return buf;
	}
	if (j->have_next && memcmp(j->next_prev, j->file_sha, PGA_SHA256_LEN) != 0) {
		pga_hex(j->file_sha, PGA_SHA256_LEN, a);
		pga_hex(j->next_prev, PGA_SHA256_LEN, b);
		snprintf(buf, cap, "the loaded seq %" PRIu64 " names %.16s... as its predecessor,"
			 " this file is %.16s...", j->h.seq + 1, b, a);
		return buf;
	}
	return NULL;
}

static void
conflict_detail(const struct ld_job *j, char *buf, size_t cap, const char *how)
{
	char a[PGA_SHA256_HEX], b[PGA_SHA256_HEX];

	pga_hex(j->file_sha, PGA_SHA256_LEN, a);
	pga_hex(j->led_sha, PGA_SHA256_LEN, b);
	snprintf(buf, cap, "collector '%s' seq %" PRIu64 " is already loaded%s with sha256 %.16s..."
		 " but this file has %.16s...", j->h.collector, j->h.seq, how, b, a);
}

/*
 * The chain edges of seq are (seq-1, seq) and (seq, seq+1), each an advisory
 * lock.  Whoever commits a ledger row holds both of its edges at that
 * moment, so of two loaders of neighbouring segments the one that commits
 * second has read the ledger after the first committed.  An edge is tried
 * at the claim (claim_and_read(): free, it is held from then on and the
 * ledger read that follows is final for it); an edge that was busy (its
 * other end is being loaded right now) is waited for here, at commit, and
 * the neighbour read again.  So a load in order costs no round trip more,
 * and only the commits of neighbours loaded at once are serialised, never
 * their COPYs.  Waits only ever go to the edge's older holder: no cycle.
 */
static int
chain_final(struct loader *l, struct ld_job *j, struct pga_err *err)
{
	char sql[1024];
	PGresult *res = NULL;
	int rc;

	if (j->edge_lo && j->edge_hi)
		return 0;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%" PRId64 "::bigint);"
		 " SELECT seq, encode(sha256, 'hex'), '', false, encode(prev_sha256, 'hex')"
		 " FROM %s.segments WHERE collector_id = %d AND seq = %" PRIu64,
		 ld_lock_key(l->schema, j->h.collector, "/edge", j->edge_lo ? j->h.seq : j->h.seq - 1),
		 l->qschema, j->collector_id, j->edge_lo ? j->h.seq + 1 : j->h.seq - 1);
	if (!j->edge_lo && !j->edge_hi)
		snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%" PRId64 "::bigint),"
			 " pg_advisory_xact_lock(%" PRId64 "::bigint);"
			 " SELECT seq, encode(sha256, 'hex'), '', false, encode(prev_sha256, 'hex')"
			 " FROM %s.segments WHERE collector_id = %d AND seq IN (%" PRIu64 ", %" PRIu64 ")",
			 ld_lock_key(l->schema, j->h.collector, "/edge", j->h.seq - 1),
			 ld_lock_key(l->schema, j->h.collector, "/edge", j->h.seq), l->qschema,
			 j->collector_id, j->h.seq - 1, j->h.seq + 1);
	if (!j->edge_lo)
		j->have_prev = false;
	if (!j->edge_hi)
		j->have_next = false;
	rc = ld_exec(l, sql, 0, NULL, &res, err);
	for (int i = 0; rc == 0 && i < PQntuples(res); i++)
		ld_ledger_row(j, res, i);
	PQclear(res);
	return rc;
}

/* ---- step 2: verify and collect what the blocks need ---- */

int
ld_prescan(struct loader *l, struct ld_job *j, struct pga_err *err)
{
	struct fd_src src = {j->fd, 0};
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	int rc = seg_reader_open(&r, fd_src_read, &src, j->qname, err);

	/* an encrypted segment without its key is refused before anything else
	 * (with it, skipping a block below authenticates every chunk of it) */
	if (rc == 0 && seg_header_encrypted(seg_reader_header(r)) && !seg_reader_can_decrypt(r))
		rc = pga_fail(err, PGA_EKEY, "'%s' is encrypted and no decrypt-key-file is set: "
			      "refused, nothing of it loaded", j->qname);
	ld_needs_reset(&l->needs);
	j->all_covered = true;
	while (rc == 0 && (rc = seg_reader_next(r, &m, err)) == 1) {
		size_t got = 0;

		rc = 0;
		if (!in_window(l, m->snapshot_us) && !covered_before(j, m->snapshot_us))
			j->all_covered = false;
		if (!block_due(l, j, m->snapshot_us) || metric_refused(m->metric)) {
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
	if (rc == 0) {
		const struct seg_signature *sig = seg_reader_signature(r);

		seg_reader_file_sha256(r, j->file_sha);
		j->is_signed = sig != NULL;
		if (sig != NULL)
			j->sig = *sig;
	}
	if (rc == 0 && fstat(j->fd, &j->seen) != 0)
		rc = pga_fail(err, PGA_EIO, "could not stat '%s': %m", j->qname);
	seg_reader_free(r);
	return rc;
}

/* ---- step 5: the load transaction ---- */

struct block_plan {
	char sql[LD_COPY_SQL_MAX];
	char prefix[600];
	bool keep[SEG_MAX_COLS];
	bool all_kept;
	int32_t server_id;
};

/* Columns the central table does not have: recorded and logged per block. */
static void
refuse_columns(struct loader *l, struct ld_job *j, const struct seg_block_meta *m,
	       const struct block_plan *p)
{
	char reason[PGA_ERR_MSG_MAX];
	size_t n = 0;

	for (uint16_t i = 0; i < m->ncols && n < sizeof(reason); i++)
		if (!p->keep[i])
			n += (size_t)snprintf(reason + n, sizeof(reason) - n, "%scolumn '%s'",
					      n ? ", " : "", m->cols[i]);
	if (n < sizeof(reason))
		snprintf(reason + n, sizeof(reason) - n, " of metric '%s' is not in the central"
			 " table: dropped", m->metric);
	ld_refuse(l, j, "columns", m->block_no, m->metric, NULL, -1, reason);
}

static int
plan_block(struct loader *l, struct ld_job *j, const struct seg_block_meta *m,
	   struct block_plan *p, struct pga_err *err)
{
	struct ld_table *t = ld_table_find(l, m->metric);
	char ts[40], q[2 * LD_IDENT_MAX + 4];
	const char *target = t != NULL ? t->qname : NULL;
	bool freeze = false;
	size_t n;

	p->server_id = ld_server_lookup(l, m->sysid, m->host, m->port);
	/* restore's day transaction names the day's own table (bulk.c) */
	if (t != NULL && l->bulk != NULL)
		target = ld_bulk_target(l, m->metric, ld_day_of(m->snapshot_us), t->qname, &freeze);
	if (target == NULL || p->server_id < 0)
		return pga_fail(err, PGA_EINTERNAL, "'%s': block %u: table or server not prepared",
				j->qname, m->block_no);
	n = (size_t)snprintf(p->sql, sizeof(p->sql), "COPY %s (" LD_FIXED_COLS, target);
	p->all_kept = true;
	for (uint16_t i = 0; i < m->ncols; i++) {
		bool dup = false;

		for (uint16_t k = 0; k < i && !dup; k++)
			dup = p->keep[k] && strcmp(m->cols[k], m->cols[i]) == 0;
		p->keep[i] = !dup && seg_column_valid(m->cols[i]) && !ld_fixed_col(m->cols[i]) &&
			     ld_table_has_col(t, m->cols[i]);
		if (!p->keep[i]) {
			p->all_kept = false;
			j->st.columns_dropped++;
			continue;
		}
		if (pga_pg_quote_ident(m->cols[i], q, sizeof(q), err) < 0)
			return err->code;
		n += (size_t)snprintf(p->sql + n, n < sizeof(p->sql) ? sizeof(p->sql) - n : 0,
				      ", %s", q);
	}
	n += (size_t)snprintf(p->sql + n, n < sizeof(p->sql) ? sizeof(p->sql) - n : 0,
			      ") FROM STDIN (FORMAT csv%s)", freeze ? ", FREEZE" : "");
	if (n >= sizeof(p->sql))
		return pga_fail(err, PGA_EINVAL, "'%s': block %u: column list too long", j->qname,
				m->block_no);
	if (!p->all_kept)
		refuse_columns(l, j, m, p);
	time_param(m->snapshot_us, ts, sizeof(ts));
	n = (size_t)snprintf(p->prefix, sizeof(p->prefix), "%d,%d,%s,", j->collector_id,
			     p->server_id, ts);
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
	bool copy_failed;		/* the last error came from COPY, not the reader */
	struct block_plan plan;
};

static int
pass_end_copy(struct pass *ps, struct pga_err *err)
{
	uint64_t rows = 0;
	int rc;

	if (!ps->open)
		return 0;
	ps->open = false;
	rc = ld_copy_end(&ps->copy, &rows, err);
	ps->copy_failed = rc < 0;
	return rc;
}

/* Queued records written now: the COPY in progress is ended first. */
static int
flush_records(struct loader *l, struct ld_job *j, struct pass *ps, struct pga_err *err)
{
	struct dynbuf b = DYNBUF_INIT(LD_TEXT_MAX);
	int rc = pass_end_copy(ps, err);

	if (rc < 0)
		return rc;
	ld_records_sql(l, j, &b);
	rc = dynbuf_check(&b, "refusal records", err);
	if (rc == 0 && dynbuf_len(&b) > 0)
		rc = ld_exec(l, dynbuf_str(&b), 0, NULL, NULL, err);
	dynbuf_free(&b);
	return rc;
}

/* Stream one block into the COPY (opened or switched as needed); *rows on success. */
static int
copy_block(struct loader *l, struct ld_job *j, struct seg_reader *r,
	   const struct seg_block_meta *m, struct pass *ps, uint64_t *rows, struct pga_err *err)
{
	int rc = plan_block(l, j, m, &ps->plan, err);
	size_t got = 0;

	if (rc == 0 && ps->open && strcmp(ps->open_sql, ps->plan.sql) != 0)
		rc = pass_end_copy(ps, err);
	if (rc < 0)
		return rc;
	ps->copy_failed = true;		/* until the reader is the one failing */
	if (!ps->open) {
		rc = ld_copy_begin(&ps->copy, ps->plan.sql, err);
		ps->open = rc == 0;
		strlcpy(ps->open_sql, ps->plan.sql, sizeof(ps->open_sql));
	}
	if (rc == 0)
		rc = ld_copy_block(&ps->copy, ps->plan.prefix,
				   ps->plan.all_kept ? NULL : ps->plan.keep, m->ncols, err);
	while (rc == 0) {
		ps->copy_failed = false;
		rc = seg_reader_read(r, l->rbuf, LD_RBUF, &got, err);
		if (rc < 0 || got == 0)
			break;
		ps->copy_failed = true;
		rc = ld_copy_data(&ps->copy, l->rbuf, got, err);
	}
	if (rc == 0) {
		*rows = seg_reader_trailer(r)->rows;
		ps->copy_failed = true;
		rc = ld_copy_block_end(&ps->copy, *rows, err);
	}
	if (rc == 0)
		ps->copy_failed = false;
	return rc;
}

static void
count_block(struct loader *l, struct ld_job *j, struct seg_reader *r,
	    const struct seg_block_meta *m, const struct pass *ps)
{
	const struct seg_block_trailer *t = seg_reader_trailer(r);

	j->st.blocks++;
	j->st.rows += t->rows;
	j->st.bytes += t->raw_bytes;
	ld_block_record(l, j, m, ps->plan.server_id, t->rows);
}

/* Fast path: consecutive blocks of one table share one COPY. */
static int
fast_block(struct loader *l, struct ld_job *j, struct seg_reader *r,
	   const struct seg_block_meta *m, struct pass *ps, struct pga_err *err)
{
	uint64_t rows = 0;
	int rc = copy_block(l, j, r, m, ps, &rows, err);

	if (rc == 0)
		count_block(l, j, r, m, ps);
	else if (ps->copy_failed && ld_data_error(err))
		j->data_error = true;
	return rc;
}

/* "row N: " from the line COPY named (line 1 is the block's first row). */
static void
row_prefix(const struct ld_copy *c, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (c->err_line > 0)
		snprintf(buf, cap, "row %" PRIu64 ": ", c->err_line);
}

/*
 * Isolation: the block under its own savepoint and its own COPY.  Data the
 * server refuses rolls back to the savepoint and is recorded; anything
 * else (a reader error, the connection) fails the segment as always.
 */
static int
isolated_block(struct loader *l, struct ld_job *j, struct seg_reader *r,
	       const struct seg_block_meta *m, struct pass *ps, struct pga_err *err)
{
	struct pga_err be = {0};
	char reason[PGA_ERR_MSG_MAX + 32], row[40];
	uint64_t rows = 0;
	int rc = ld_exec(l, "SAVEPOINT pga_block", 0, NULL, NULL, err);

	if (rc < 0)
		return rc;
	ps->copy.err_line = 0;
	rc = copy_block(l, j, r, m, ps, &rows, &be);
	if (rc == 0)
		rc = pass_end_copy(ps, &be);
	if (rc == 0) {
		count_block(l, j, r, m, ps);
		return ld_exec(l, "RELEASE SAVEPOINT pga_block", 0, NULL, NULL, err);
	}
	if (!ps->copy_failed || !ld_data_error(&be)) {
		*err = be;
		return rc;
	}
	ld_copy_abort(&ps->copy, "pga: block refused");
	ps->open = false;
	/* the rest of this block's data is read and verified by seg_reader_next() */
	rc = ld_exec(l, "ROLLBACK TO SAVEPOINT pga_block; RELEASE SAVEPOINT pga_block", 0, NULL,
		     NULL, err);
	if (rc < 0)
		return rc;
	row_prefix(&ps->copy, row, sizeof(row));
	snprintf(reason, sizeof(reason), "%s%s", row, be.msg);
	j->st.blocks_refused++;
	j->st.rows_refused += index_rows(j, m->block_no);
	ld_refuse(l, j, "block", m->block_no, m->metric, be.sqlstate,
		  (int64_t)index_rows(j, m->block_no), reason);
	return 0;
}

static void
refuse_reserved(struct loader *l, struct ld_job *j, const struct seg_block_meta *m)
{
	char reason[160];

	snprintf(reason, sizeof(reason), "metric '%s' is reserved for pga's own objects: block not"
		 " loaded", m->metric);
	j->st.blocks_refused++;
	j->st.rows_refused += index_rows(j, m->block_no);
	ld_refuse(l, j, "reserved", m->block_no, m->metric, NULL,
		  (int64_t)index_rows(j, m->block_no), reason);
}

/*
 * A described column the central table holds in another type: the block
 * is refused (SQLSTATE 42804, datatype_mismatch) rather than loaded into
 * a column that means something else.  A text column takes anything.
 * reason gets the first such column; false when there is none.
 */
static bool
type_conflict(struct loader *l, const struct seg_block_meta *m, char *reason, size_t cap)
{
	const struct ld_table *t = ld_table_find(l, m->metric);
	char esc[96];

	for (uint16_t i = 0; t != NULL && m->desc != NULL && i < m->ncols; i++) {
		const char *tt = ld_table_col_type(t, m->cols[i]);

		if (tt == NULL || !seg_column_valid(m->cols[i]) || ld_fixed_col(m->cols[i]) ||
		    ld_type_fits(m->desc[i].type, tt))
			continue;
		snprintf(reason, cap, "column '%s' is %s in the central table, the block says %s:"
			 " block not loaded", utf8_text(m->cols[i], esc, sizeof(esc)), tt,
			 m->desc[i].type);
		return true;
	}
	return false;
}

static void
refuse_conflict(struct loader *l, struct ld_job *j, const struct seg_block_meta *m,
		const char *reason)
{
	j->st.blocks_refused++;
	j->st.rows_refused += index_rows(j, m->block_no);
	ld_refuse(l, j, "block", m->block_no, m->metric, "42804",
		  (int64_t)index_rows(j, m->block_no), reason);
}

/* One block the reader is positioned on: skipped, refused or COPYed. */
static int
pass_block(struct loader *l, struct ld_job *j, struct seg_reader *r,
	   const struct seg_block_meta *m, struct pass *ps, struct pga_err *err)
{
	char why[PGA_ERR_MSG_MAX];
	int rc;

	if (!in_window(l, m->snapshot_us) && !covered_before(j, m->snapshot_us))
		j->all_covered = false;
	if (!block_due(l, j, m->snapshot_us)) {
		j->st.blocks_skipped++;
		return seg_reader_skip(r, err);
	}
	if (metric_refused(m->metric)) {
		refuse_reserved(l, j, m);
		rc = seg_reader_skip(r, err);
	} else if (type_conflict(l, m, why, sizeof(why))) {
		refuse_conflict(l, j, m, why);
		rc = seg_reader_skip(r, err);
	} else if (j->isolate) {
		rc = isolated_block(l, j, r, m, ps, err);
	} else {
		rc = fast_block(l, j, r, m, ps, err);
	}
	if (rc == 0 && ld_records_full(j))
		rc = flush_records(l, j, ps, err);
	return rc;
}

/*
 * Blocks of one table read together: a collector writes a snapshot's
 * blocks database by database, so in file order the table changes at
 * almost every block and each block would need a COPY of its own (two
 * round trips and ~0.1 ms of server CPU each: measured 0.28 s for 3,000
 * COPYs of 33 rows, a third of the rows' own cost).  Grouped by metric
 * through the footer index, a segment needs one COPY per table.  Worth it
 * only when the file order switches tables more often than grouping would.
 */
static bool
grouping_pays(const struct ld_job *j)
{
	uint32_t switches = 0, distinct = 0;

	for (uint32_t i = 0; i < j->f.nblocks; i++) {
		bool seen = false;

		if (i > 0 && strcmp(j->f.index[i].metric, j->f.index[i - 1].metric) != 0)
			switches++;
		for (uint32_t k = 0; k < i && !seen; k++)
			seen = strcmp(j->f.index[k].metric, j->f.index[i].metric) == 0;
		distinct += !seen;
		if (i > 512)
			break;	/* enough to tell */
	}
	return switches + 1 > distinct;
}

static const struct seg_index_entry *order_base;

static int
cmp_index(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(order_base[x].metric, order_base[y].metric);

	return c != 0 ? c : (x > y) - (x < y);
}

/* The block numbers in table order (qsort_r would do; glibc's is not portable). */
static int
table_order(const struct ld_job *j, uint32_t **out, struct pga_err *err)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	uint32_t *o = calloc(j->f.nblocks ? j->f.nblocks : 1, sizeof(*o));

	*out = o;
	if (o == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < j->f.nblocks; i++)
		o[i] = i;
	pthread_mutex_lock(&mu);
	order_base = j->f.index;
	qsort(o, j->f.nblocks, sizeof(*o), cmp_index);
	pthread_mutex_unlock(&mu);
	return 0;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	/* the inode's times move with every write to it */
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * The grouped pass: each block read alone at its offset, verified on its
 * own (seg_reader_at_block); the whole file was verified by the prescan,
 * and a file changed since (its inode times) fails the pass.
 */
static int
grouped_pass(struct loader *l, struct ld_job *j, struct seg_reader *r, struct pass *ps,
	     struct pga_err *err)
{
	const struct seg_block_meta *m;
	struct stat after;
	uint32_t *order = NULL;
	int rc = table_order(j, &order, err);

	for (uint32_t i = 0; rc == 0 && i < j->f.nblocks; i++) {
		struct fd_src src = {j->fd, (off_t)j->f.index[order[i]].offset};

		seg_reader_at_block(r, fd_src_read, &src, order[i], j->f.index[order[i]].offset);
		rc = seg_reader_next(r, &m, err);
		if (rc == 1)
			rc = pass_block(l, j, r, m, ps, err);
		else if (rc == 0)
			rc = pga_fail(err, PGA_EINTERNAL, "'%s': block %u not found", j->qname, order[i]);
		if (rc == 0 && seg_reader_next(r, &m, err) != 0)
			rc = pga_fail(err, PGA_EINTERNAL, "'%s': block %u not read whole", j->qname,
				      order[i]);
	}
	free(order);
	if (rc == 0 && (fstat(j->fd, &after) != 0 || !same_file(&j->seen, &after)))
		rc = pga_fail(err, PGA_ECHECKSUM, "'%s' changed while it was being loaded", j->qname);
	return rc;
}

static int
main_pass(struct loader *l, struct ld_job *j, struct pass *ps, struct pga_err *err)
{
	struct fd_src src = {j->fd, 0};
	struct seg_reader *r = NULL;
	const struct seg_block_meta *m;
	uint8_t sha[PGA_SHA256_LEN];
	bool grouped = grouping_pays(j);
	int rc = seg_reader_open(&r, fd_src_read, &src, j->qname, err);

	j->all_covered = true;
	if (rc == 0 && grouped)
		rc = grouped_pass(l, j, r, ps, err);
	while (rc == 0 && !grouped && (rc = seg_reader_next(r, &m, err)) == 1)
		rc = pass_block(l, j, r, m, ps, err);
	if (rc == 0) {
		rc = pass_end_copy(ps, err);
		if (rc < 0 && ld_data_error(err))
			j->data_error = true;
	}
	if (rc == 0 && !grouped) {
		seg_reader_file_sha256(r, sha);
		if (memcmp(sha, j->file_sha, PGA_SHA256_LEN) != 0)
			rc = pga_fail(err, PGA_ECHECKSUM, "'%s' changed while it was being loaded",
				      j->qname);
	}
	seg_reader_free(r);
	return rc;
}

static void
sb_time(struct dynbuf *b, int64_t us, bool open)
{
	char ts[40];

	if (open) {
		dynbuf_addf(b, "NULL");
		return;
	}
	time_param(us, ts, sizeof(ts));
	dynbuf_addf(b, "'%s'::timestamptz", ts);
}

/*
 * The new ledger row's link in the ledger's hash chain (SCHEMA.md): under
 * a transaction lock held to commit, so rows are chained in commit order
 * (the one lock all loaders share, taken in the commit's round trip only).
 */
static void
sb_ledger_chain(struct loader *l, struct dynbuf *b, int32_t collector_id, uint64_t seq)
{
	/* the previous row may have been unloaded by --resolve-fork since: its
	 * link lives on in held_segments */
	dynbuf_addf(b, "UPDATE %s.segments t SET prev_row_hash = p.h, row_hash = %s.ledger_hash(p.h,"
		  " t.ledger_no, t.collector_id, t.seq, t.sha256, t.body_sha256, t.prev_sha256, t.name,"
		  " t.size, t.created, t.signed_key_id, t.signature) FROM (SELECT (SELECT x.h FROM ("
		  "SELECT q.ledger_no AS n, q.row_hash AS h FROM %s.segments q WHERE q.ledger_no IS NOT"
		  " NULL AND NOT (q.collector_id = %d AND q.seq = %" PRIu64 ") UNION ALL SELECT"
		  " u.ledger_no, u.row_hash FROM %s.held_segments u WHERE u.ledger_no IS NOT NULL AND"
		  " u.reason = 'unloaded') x ORDER BY x.n DESC LIMIT 1) AS h) p"
		  " WHERE t.collector_id = %d AND t.seq = %" PRIu64 ";\n", l->qschema, l->qschema,
		  l->qschema, collector_id, seq, l->qschema, collector_id, seq);
}

void
ld_ledger_link_sql(struct loader *l, struct dynbuf *b, int32_t collector_id, uint64_t seq)
{
	dynbuf_addf(b, "UPDATE %s.segments SET ledger_no = nextval('%s.ledger_no') WHERE"
		    " collector_id = %d AND seq = %" PRIu64 ";\n", l->qschema, l->qschema,
		    collector_id, seq);
	sb_ledger_chain(l, b, collector_id, seq);
}

static void
sb_ledger_insert(struct loader *l, struct dynbuf *b, const struct ld_job *j, bool link)
{
	dynbuf_addf(b, "INSERT INTO %s.segments (collector_id, seq, sha256, body_sha256, prev_sha256,"
		  " name, size, created, min_snapshot, max_snapshot, blocks, total_rows, rows,"
		  " recovered, complete, blocks_refused, rows_refused, hostname, loaded_blocks,"
		  " signed_key_id, signature, ledger_no)"
		  " VALUES (%d, %" PRIu64 ", ", l->qschema, j->collector_id, j->h.seq);
	ld_add_sha(b, j->file_sha);
	dynbuf_addf(b, ", ");
	ld_add_sha(b, j->f.sha256);
	dynbuf_addf(b, ", ");
	ld_add_sha(b, j->h.prev_sha256);
	dynbuf_addf(b, ", ");
	ld_add_lit(b, l->conn, j->qname);
	dynbuf_addf(b, ", %" PRIu64 ", ", j->size);
	sb_time(b, j->h.created_us, false);
	dynbuf_addf(b, ", ");
	sb_time(b, j->f.min_snapshot_us, j->f.nblocks == 0);
	dynbuf_addf(b, ", ");
	sb_time(b, j->f.max_snapshot_us, j->f.nblocks == 0);
	dynbuf_addf(b, ", %u, %" PRIu64 ", %" PRIu64 ", %s, %s, %" PRIu64 ", %" PRIu64 ", ",
		    j->f.nblocks, j->f.total_rows, j->st.rows,
		    j->f.flags & SEG_FOOTER_RECOVERED ? "true" : "false",
		    j->all_covered ? "true" : "false", j->st.blocks_refused, j->st.rows_refused);
	ld_add_lit(b, l->conn, j->h.hostname);
	dynbuf_addf(b, ", ");
	ld_blocks_sql(l, j, b);
	if (j->is_signed) {
		char sig[2 * PGA_SIGN_SIG_LEN + 1];

		dynbuf_addf(b, ", ");
		ld_add_sha(b, j->sig.key_id);
		pga_hex(j->sig.sig, PGA_SIGN_SIG_LEN, sig);
		dynbuf_addf(b, ", '\\x%s'::bytea", sig);
	} else {
		dynbuf_addf(b, ", NULL, NULL");
	}
	if (!link) {
		dynbuf_addf(b, ", NULL);\n");
		return;
	}
	dynbuf_addf(b, ", nextval('%s.ledger_no'));\n", l->qschema);
	sb_ledger_chain(l, b, j->collector_id, j->h.seq);
}

/* More rows, refusals and block records for a partial one, maybe completion. */
static void
sb_ledger_update(struct loader *l, struct dynbuf *b, const struct ld_job *j)
{
	dynbuf_addf(b, "UPDATE %s.segments SET rows = rows + %" PRIu64 ", blocks_refused ="
		    " blocks_refused + %" PRIu64 ", rows_refused = rows_refused + %" PRIu64
		    ", complete = %s, loaded_at = now(), loaded_blocks = CASE WHEN"
		    " loaded_blocks IS NULL THEN NULL ELSE loaded_blocks || ", l->qschema,
		    j->st.rows, j->st.blocks_refused, j->st.rows_refused,
		    j->all_covered ? "true" : "false");
	/* a segment begun before migration 2 stays without records: never partial ones */
	ld_blocks_sql(l, j, b);
	dynbuf_addf(b, " END WHERE collector_id = %d AND seq = %" PRIu64 ";\n", j->collector_id,
		    j->h.seq);
}

/* The ledger: a new row, or more rows and maybe completion for a partial one. */
static void
sb_ledger(struct loader *l, struct dynbuf *b, const struct ld_job *j, bool link)
{
	if (!j->in_ledger && link) {
		dynbuf_addf(b, "SELECT pg_advisory_xact_lock(%" PRId64 "::bigint);\n",
			  ld_lock_key(l->schema, "", "/ledger", 0));
		sb_ledger_insert(l, b, j, true);
	} else if (!j->in_ledger) {
		sb_ledger_insert(l, b, j, false);
	}
	else
		sb_ledger_update(l, b, j);
	if (j->all_covered && j->in_ledger) {
		dynbuf_addf(b, "DELETE FROM %s.segment_windows WHERE ", l->qschema);
		dynbuf_addf(b, "collector_id = %d AND seq = %" PRIu64 ";\n", j->collector_id, j->h.seq);
	} else if (!j->all_covered) {
		dynbuf_addf(b, "INSERT INTO %s.segment_windows (collector_id, seq, since, until, rows)"
			    " VALUES (%d, %" PRIu64 ", ", l->qschema, j->collector_id, j->h.seq);
		sb_time(b, l->o.since, l->o.since == INT64_MIN);
		dynbuf_addf(b, ", ");
		sb_time(b, l->o.until, l->o.until == INT64_MAX);
		dynbuf_addf(b, ", %" PRIu64 ");\n", j->st.rows);
	}
}

/* A held segment loaded now: its hold and its refusal records are resolved. */
static void
sb_unhold(struct loader *l, struct dynbuf *b, const struct ld_job *j)
{
	if (j->held_oid == 0)
		return;
	dynbuf_addf(b, "UPDATE %s.held_segments SET resolved_at = now(), resolution = 'loaded',"
		    " content = NULL WHERE collector = ", l->qschema);
	ld_add_lit(b, l->conn, j->h.collector);
	dynbuf_addf(b, " AND seq = %" PRIu64 " AND sha256 = ", j->h.seq);
	ld_add_sha(b, j->file_sha);
	dynbuf_addf(b, ";\nSELECT lo_unlink(%u);\nUPDATE %s.quarantine SET resolved_at = now()"
		    " WHERE kind IN ('conflict', 'chain') AND resolved_at IS NULL AND collector = ",
		    j->held_oid, l->qschema);
	ld_add_lit(b, l->conn, j->h.collector);
	dynbuf_addf(b, " AND seq = %" PRIu64 " AND sha256 = ", j->h.seq);
	ld_add_sha(b, j->file_sha);
	dynbuf_addf(b, ";\n");
}

/*
 * Ledger, block records and refusals, quarantine resolution, the
 * collector's registry row (last: it is the one row loaders of one
 * collector share) and COMMIT, in one round trip.  A connection lost here
 * leaves the outcome unknown: the rows are in doubt, counted apart.
 */
void
ld_segment_sql(struct loader *l, struct ld_job *j, struct dynbuf *b, bool link)
{
	sb_ledger(l, b, j, link);
	ld_records_sql(l, j, b);
	sb_unhold(l, b, j);
	dynbuf_addf(b, "UPDATE %s.quarantine SET resolved_at = now() WHERE collector = ", l->qschema);
	ld_add_lit(b, l->conn, j->h.collector);
	dynbuf_addf(b, " AND seq = %" PRIu64 " AND kind IN ('corrupt', 'rejected', 'signature')"
		    " AND resolved_at IS NULL;\n", j->h.seq);
}

void
ld_registry_sql(struct loader *l, struct dynbuf *b, const struct seg_header *h,
		int32_t collector_id, int64_t max_snapshot_us, bool no_blocks)
{
	dynbuf_addf(b, "UPDATE %s.collectors SET last_seen = now(), last_seq = greatest(last_seq, %"
		  PRIu64 "), last_snapshot = greatest(last_snapshot, ", l->qschema, h->seq);
	sb_time(b, max_snapshot_us, no_blocks);
	dynbuf_addf(b, "), hostname = CASE WHEN %" PRIu64 " >= coalesce(last_seq, 0) THEN ", h->seq);
	ld_add_lit(b, l->conn, h->hostname);
	dynbuf_addf(b, " ELSE hostname END, writer = CASE WHEN %" PRIu64
		  " >= coalesce(last_seq, 0) THEN ", h->seq);
	ld_add_lit(b, l->conn, h->writer);
	dynbuf_addf(b, " ELSE writer END WHERE collector_id = %d;\n", collector_id);
}

static int
finish_tx(struct loader *l, struct ld_job *j, struct pga_err *err)
{
	struct dynbuf b = DYNBUF_INIT(LD_TEXT_MAX);
	int rc;

	ld_segment_sql(l, j, &b, true);
	ld_registry_sql(l, &b, &j->h, j->collector_id, j->f.max_snapshot_us, j->f.nblocks == 0);
	dynbuf_addf(&b, "COMMIT");
	rc = dynbuf_check(&b, "ledger statement", err);
	if (rc == 0)
		rc = ld_exec(l, dynbuf_str(&b), 0, NULL, NULL, err);
	if (rc == PGA_ENET) {
		j->st.in_doubt = true;
		j->st.rows_in_doubt = j->st.rows;
	}
	dynbuf_free(&b);
	return rc;
}

/*
 * BEGIN, the claim, the chain edges (tried, see chain_final()) and the
 * ledger rows of seq-1, seq and seq+1 in one round trip.  The ledger is
 * read by a statement after the locks', so its snapshot sees whatever the
 * loaders that held them before us committed.
 */
static int
claim_and_read(struct loader *l, struct ld_job *j, bool *got, struct pga_err *err)
{
	char sql[1024];
	PGresult *res;
	int rc = 0, n = 0;

	snprintf(sql, sizeof(sql), "BEGIN; SELECT %s(%" PRId64 "::bigint);"
		 " SELECT pg_try_advisory_xact_lock(%" PRId64 "::bigint),"
		 " pg_try_advisory_xact_lock(%" PRId64 "::bigint);"
		 " SELECT seq, encode(sha256, 'hex'), encode(body_sha256, 'hex'), complete,"
		 " encode(prev_sha256, 'hex') FROM %s.segments WHERE collector_id = %d"
		 " AND seq BETWEEN %" PRIu64 " AND %" PRIu64,
		 l->wait_claims ? "true FROM pg_advisory_xact_lock" : "pg_try_advisory_xact_lock",
		 ld_lock_key(l->schema, j->h.collector, "", j->h.seq),
		 ld_lock_key(l->schema, j->h.collector, "/edge", j->h.seq - 1),
		 ld_lock_key(l->schema, j->h.collector, "/edge", j->h.seq), l->qschema,
		 j->collector_id, j->h.seq - 1, j->h.seq + 1);
	*got = false;
	j->in_ledger = j->complete = j->have_prev = j->have_next = false;
	j->edge_lo = j->edge_hi = false;
	j->nwin = 0;
	if (!PQsendQuery(l->conn, sql))
		return pga_pg_fail(err, l->conn, NULL, "claim");
	while ((res = PQgetResult(l->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			rc = pga_pg_fail(err, l->conn, res, "claim");
		} else if (rc == 0 && n == 1) {
			*got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		} else if (rc == 0 && n == 2) {
			j->edge_lo = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
			j->edge_hi = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		} else if (rc == 0 && n == 3) {
			for (int i = 0; i < PQntuples(res); i++)
				ld_ledger_row(j, res, i);
		}
		n++;
		PQclear(res);
	}
	if (rc == 0 && *got && j->in_ledger && !j->complete)
		rc = windows_read(l, j, err);
	return rc;
}

/* Start of a pass: nothing counted, nothing queued. */
static void
pass_reset(struct ld_job *j)
{
	memset(&j->st, 0, sizeof(j->st));
	ld_records_reset(j);
	j->data_error = false;
}

/* The chain checked under the edge locks; a break rolls back and holds. */
static int
check_chain(struct loader *l, struct ld_job *j, struct pga_err *err)
{
	int rc = chain_final(l, j, err);

	if (rc == 0 && ld_chain_break(j, j->hold_detail, sizeof(j->hold_detail)) != NULL) {
		j->hold_kind = "chain";
		rc = PGA_ECONFLICT;
	}
	return rc;
}

/* Every block of j due now through COPY, in the caller's transaction. */
int
ld_copy_segment(struct loader *l, struct ld_job *j, const struct ld_copy_stage *stage,
		struct pga_err *err)
{
	struct pass *ps = calloc(1, sizeof(*ps));
	int rc;

	if (ps == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	pass_reset(j);
	rc = ld_copy_init(&ps->copy, l->conn, err);
	ps->copy.stage = stage;
	if (rc == 0)
		rc = main_pass(l, j, ps, err);
	ld_copy_abort(&ps->copy, "pga: load aborted");
	ld_copy_free(&ps->copy);
	free(ps);
	return rc;
}

static int
load_tx(struct loader *l, struct ld_job *j, enum load_result *result, struct pga_err *err)
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
		conflict_detail(j, j->hold_detail, sizeof(j->hold_detail), " (just now, by another loader)");
		j->hold_kind = "conflict";
		rc = PGA_ECONFLICT;
		goto out;
	}
	if (rc == 0 && j->complete) {
		*result = LOAD_DUPLICATE;
		goto out;
	}
	pass_reset(j);
	if (rc == 0)
		rc = main_pass(l, j, ps, err);
	if (rc == 0 && j->st.blocks == 0 && j->st.blocks_refused == 0 && !j->all_covered) {
		*result = j->in_ledger ? LOAD_DUPLICATE : LOAD_FILTERED;
		goto out;
	}
	if (rc == 0)
		rc = check_chain(l, j, err);
	if (rc == 0)
		rc = finish_tx(l, j, err);
	if (rc == 0) {
		*result = LOAD_LOADED;
		ld_records_log(j);
	}
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

bool
ld_transient(const struct pga_err *e)
{
	return e->code == PGA_EDB &&
	       (sqlstate_is(e, "40P01") || sqlstate_is(e, "40001") || sqlstate_is(e, "55P03") ||
		sqlstate_is(e, "42P01") || sqlstate_is(e, "23514") || sqlstate_is(e, "23505"));
}

int
ld_read_ends(struct ld_job *j, struct pga_err *err)
{
	struct stat st;

	if (fstat(j->fd, &st) != 0)
		return pga_fail(err, PGA_EIO, "could not stat '%s': %m", j->qname);
	j->size = (uint64_t)st.st_size;
	free(j->f.index);
	j->f.index = NULL;
	return seg_read_footer_file(j->path, &j->h, &j->f, err);
}

bool
ld_wholly_outside(const struct loader *l, const struct ld_job *j)
{
	return j->f.nblocks > 0 &&
	       (j->f.max_snapshot_us < l->o.since || j->f.min_snapshot_us > l->o.until);
}

/*
 * Header text goes to SQL and terminals.  The segment reader already refuses
 * a collector id that is not a valid name and host or writer text that is
 * not clean UTF-8 (FORMAT.md "Strings"); the id is checked again here, before
 * any SQL, because it becomes a registry key.  Host and writer are stored as
 * written (escaping them again would double the collector's own \xNN escapes).
 */
int
ld_check_header(struct ld_job *j, struct pga_err *err)
{
	char buf[4 * sizeof(j->h.collector)];

	if (!pga_name_valid(j->h.collector)) {
		utf8_escape_text(j->h.collector, buf, sizeof(buf));
		j->h.collector[0] = '\0';	/* nobody's: recorded without a collector */
		j->bad_collector = true;
		return pga_fail(err, PGA_ECORRUPT, "'%s': invalid collector id '%s' in the segment"
				" header (letters, digits, '.', '_' or '-')", j->qname, buf);
	}
	return 0;
}

/* Hold a segment that forks the chain; PGA_ECONFLICT (res LOAD_HELD) either way. */
static int
hold(struct loader *l, struct ld_job *j, enum load_result *result, struct pga_err *err)
{
	int rc;

	if (l->o.dry_run)
		return pga_fail(err, PGA_ECONFLICT, "'%s': %s: refused (a fork of the chain)",
				j->qname, j->hold_detail);
	rc = ld_hold(l, j, j->hold_kind, j->hold_detail, err);
	if (rc < 0)
		return pga_err_prefix(err, "'%s': could not hold a fork of the chain", j->qname);
	if (rc == 1) {	/* decided: not a new refusal, no attention needed */
		log_info("'%s': collector '%s' seq %" PRIu64 ": this version was set aside by"
			 " pga load --resolve-fork before: nothing to do", j->qname,
			 j->h.collector, j->h.seq);
		*result = LOAD_DUPLICATE;
		return 0;
	}
	*result = LOAD_HELD;
	return pga_fail(err, PGA_ECONFLICT, "'%s': %s: refused, held centrally as a fork"
			" (see pga status --central; pga load --resolve-fork %s:%" PRIu64
			" --keep SHA256 decides)", j->qname, j->hold_detail, j->h.collector, j->h.seq);
}

/* Steps 1 to 3: what the ledger says about this segment before loading it. */
static int
look(struct loader *l, struct ld_job *j, enum load_result *result, bool *done,
     struct pga_err *err)
{
	int rc;

	*done = true;
	if ((l->o.collector != NULL && strcmp(l->o.collector, j->h.collector) != 0) ||
	    ld_wholly_outside(l, j)) {
		*result = LOAD_FILTERED;
		return 0;
	}
	rc = ld_check_header(j, err);
	if (rc == 0)
		rc = ld_collector_lookup(l, j, err);
	if (rc == 0)
		rc = ld_ledger_read(l, j, err);
	if (rc < 0)
		return rc;
	if (j->complete && memcmp(j->led_body, j->f.sha256, PGA_SHA256_LEN) == 0) {
		*result = LOAD_DUPLICATE;
		return 0;
	}
	rc = ld_prescan(l, j, err);
	if (rc == 0 && l->o.require_signature)
		rc = ld_check_signature(l, j, err);
	if (rc < 0)
		return rc;
	if (j->in_ledger && memcmp(j->led_sha, j->file_sha, PGA_SHA256_LEN) != 0) {
		conflict_detail(j, j->hold_detail, sizeof(j->hold_detail), "");
		j->hold_kind = "conflict";
		return hold(l, j, result, err);
	}
	if (ld_chain_break(j, j->hold_detail, sizeof(j->hold_detail)) != NULL) {
		j->hold_kind = "chain";
		return hold(l, j, result, err);
	}
	*done = false;
	return 0;
}

/*
 * The reader refuses a header whose collector id is not a valid name, but
 * leaves what it read in h: that id must not reach the quarantine record.
 */
static void
forget_bad_collector(struct ld_job *j)
{
	if (j->h.collector[0] != '\0' && !pga_name_valid(j->h.collector)) {
		j->h.collector[0] = '\0';
		j->bad_collector = true;
	}
}

static int
attempt(struct loader *l, struct ld_job *j, enum load_result *result, struct pga_err *err)
{
	bool done = false;
	int rc = ld_read_ends(j, err);

	if (rc < 0)
		forget_bad_collector(j);
	j->hold_kind = NULL;
	j->isolate = false;
	if (rc == 0)
		rc = seg_name_check(j->name, &j->h, err);	/* before it filters by collector */
	if (rc == 0)
		rc = look(l, j, result, &done, err);
	if (rc < 0 || done)
		return rc;
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
	if (rc < 0 && j->data_error) {
		log_info("'%s': block data refused (%s): loading it again block by block",
			 j->qname, err->msg);
		j->isolate = true;
		rc = load_tx(l, j, result, err);
	}
	if (rc == PGA_ECONFLICT && j->hold_kind != NULL)
		rc = hold(l, j, result, err);
	return rc;
}

/* Messages from the segment library name the path we gave it: name the segment. */
static void
name_the_file(struct pga_err *err, const char *path, const char *name)
{
	char *at = strstr(err->msg, path);

	if (at == NULL || strncmp(path, "/proc/self/fd/", 14) != 0)
		return;
	pga_err_msgf(err, "%.*s%s%s", (int)(at - err->msg), err->msg, name, at + strlen(path));
}

/*
 * After the attempts: the refusal of a whole segment, in its own
 * transaction.  Whatever refused it (a corrupt file, data refused outside
 * any block, a constraint someone added, a lock that never came free) is
 * recorded; errors that stop the run are not the segment's fault.
 */
static void
record_failure(struct loader *l, const struct ld_job *j, int rc, enum load_result res,
	       const struct pga_err *err)
{
	if (rc >= 0 || res == LOAD_HELD || loader_error_fatal(err))
		return;
	if (reader_error(rc))
		ld_quarantine_now(l, j, "corrupt", err);
	else if (rc == PGA_EPERM)
		ld_quarantine_now(l, j, "signature", err);
	else if (rc == PGA_ECONFLICT)
		ld_quarantine_now(l, j, "conflict", err);
	else
		ld_quarantine_now(l, j, "rejected", err);
}

void
ld_job_init(struct ld_job *j, const char *name, int fd)
{
	memset(j, 0, sizeof(*j));
	ld_records_init(j);
	j->name = name;
	utf8_escape_text(name, j->qname, sizeof(j->qname));
	j->fd = fd;
	snprintf(j->path, sizeof(j->path), "/proc/self/fd/%d", fd);
}

void
ld_job_free(struct ld_job *j)
{
	ld_records_free(j);
	free(j->f.index);
	free(j->win);
	j->f.index = NULL;
	j->win = NULL;
}

int
ld_load_fd(struct loader *l, const char *name, int fd, const struct ld_load_extra *x,
	   enum load_result *res, struct load_seg_stats *st, struct pga_err *err)
{
	struct ld_job j;
	int rc = 0;

	ld_job_init(&j, name, fd);
	j.force_chain = x != NULL && x->force_chain;
	j.held_oid = x != NULL ? x->held_oid : 0;
	*res = LOAD_FILTERED;
	for (int i = 0; i < LD_ATTEMPTS; i++) {
		memset(&j.st, 0, sizeof(j.st));
		rc = attempt(l, &j, res, err);
		if (rc == 0 || !ld_transient(err) || i + 1 == LD_ATTEMPTS ||
		    PQstatus(l->conn) != CONNECTION_OK)
			break;
		log_info("'%s': %s: retrying", j.qname, err->msg);
		ld_rollback(l);
		ld_tables_forget(l);
		usleep(50000u << i);
	}
	if (rc < 0)
		name_the_file(err, j.path, j.qname);
	record_failure(l, &j, rc, *res, err);
	j.st.seg_bytes = j.size;
	j.st.partial = rc == 0 && *res == LOAD_LOADED && !j.all_covered;
	if (rc < 0 || (*res != LOAD_LOADED && !l->o.dry_run)) {
		/* nothing of it was committed: nothing of it is counted */
		struct load_seg_stats keep = {.seg_bytes = j.st.seg_bytes, .in_doubt = j.st.in_doubt,
					      .rows_in_doubt = j.st.rows_in_doubt};

		j.st = keep;
	}
	if (st != NULL)
		*st = j.st;
	ld_job_free(&j);
	return rc;
}

int
loader_load_fd(struct loader *l, const char *name, int fd, enum load_result *res,
	       struct load_seg_stats *st, struct pga_err *err)
{
	return ld_load_fd(l, name, fd, NULL, res, st, err);
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
