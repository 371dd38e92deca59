/*
 * bulk.c - restore's day transactions: a UTC day of many segments in one
 * transaction, into fresh tables filled with COPY FREEZE (see load.h)
 *
 * A segment added to the day goes through the steps of loader.c's
 * attempt(), in the day's transaction instead of its own:
 *   1. its ends (header, footer), its name, the window (the day), the
 *      ledger: a duplicate or a segment with nothing in the day stops here;
 *   2. the whole file verified (ld_prescan) and its needs: servers and the
 *      collector are created on a second connection (autocommit, so two
 *      day transactions never wait for each other's server rows); a new
 *      custom table or column defers the segment (its DDL would wait for
 *      this very transaction);
 *   3. the day's tables: a metric whose day partition is missing gets a
 *      new table in this transaction (LIKE its parent, a CHECK on the day);
 *   4. the locks where this day meets another transaction: the claim of a
 *      segment the ledger knows already or that reaches beyond the day, and
 *      the chain edge (seq-1, seq) unless seq-1 was loaded in this same
 *      transaction; both tried, never waited for: busy means deferred.
 *      Then the ledger again (what committed before the locks), the
 *      conflict and chain checks (a fork is deferred, to be held);
 *   5. the blocks of the day through COPY (FREEZE into the new tables),
 *      staged to share one COPY per table with the other segments (see
 *      "shared COPYs" below), then its ledger row (unlinked: no ledger_no
 *      yet) and refusal records.
 * At commit, the staged rows are sent, then the far chain edges (seq,
 * seq+1) of every segment whose successor is not in this transaction are
 * waited for, in ascending order, and the successors read: one that committed meanwhile and does
 * not chain to ours fails the day (the caller begins again without ours,
 * which the per-segment path then holds); then, under the ledger lock, the
 * day's new ledger rows are numbered and linked into the hash chain
 * (link_ledger()), and COMMIT.  Waits only happen at commit,
 * for a lock another transaction took at one of its adds: day transactions
 * of neighbouring days wait at most for each other's commit.
 *
 * The registry row of each collector (its last segment, host, writer) is
 * updated after the commit, outside the transaction: it is the one row
 * every day transaction of a collector would otherwise wait for.  It only
 * ever grows (greatest()), so a day that commits late cannot move it back.
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/string.h>

#include "common/grow.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/pgutil.h"

#define BULK_CONSTRAINT "pga_day_bound"

struct bulk_table {
	char metric[SEG_METRIC_MAX + 1];
	char qname[LD_QNAME_MAX];
	bool fresh;			/* created in this transaction */
};

/* A segment loaded in this transaction. */
struct bulk_seg {
	int32_t collector_id;
	uint64_t seq;
	uint8_t sha[PGA_SHA256_LEN];
	char collector[65];
	char *name;
	bool linked;			/* its new ledger row waits for its link at commit */
};

/* What the registry row of a collector gets after the commit. */
struct bulk_reg {
	int32_t collector_id;
	struct seg_header h;		/* of the highest seq loaded */
	int64_t max_snapshot;
	bool any_blocks;
};

/*
 * One COPY statement's rows staged across segments (see stage_flush()).
 * Its key is the COPY statement itself: same table, same columns.
 */
struct bulk_stream {
	char *sql;
	char *buf;
	size_t len, cap;
	uint64_t rows;
};

struct ld_bulk {
	PGconn *aux;			/* servers, collectors, registry: autocommit */
	int32_t day;
	/* shared COPYs: off for a day whose shared COPY the server refused */
	bool share;
	bool noshare_set;
	int32_t noshare_day;
	struct ld_copy_stage stage;
	struct bulk_stream *st;
	size_t nst, stcap;
	struct bulk_stream *cur;	/* the COPY being staged, NULL if none */
	size_t staged;			/* bytes in all streams */
	bool stage_broken;		/* a staged COPY was abandoned mid-way */
	int64_t user_since, user_until;
	bool open, failed;
	struct bulk_table *t;
	size_t nt, tcap;
	struct bulk_seg *s;
	size_t ns, scap;
	uint32_t *hash;			/* open addressing over s: index + 1, 0 empty */
	size_t hcap;
	struct bulk_reg *r;
	size_t nr, rcap;
	struct dynbuf logs;		/* refusal lines, printed once committed */
};

/* Ledger links sent at commit in pieces of about this size. */
#define BULK_LINK_PIECE ((size_t)4 << 20)

/* Segments, collectors or tables one day transaction may hold. */
#define BULK_MAX ((size_t)1 << 24)

/*
 * Staged COPY data is sent once this much is staged, between segments;
 * one segment's blocks may take a stream past it, up to BULK_STREAM_MAX.
 */
#define BULK_STAGE_CAP ((size_t)16 << 20)
#define BULK_STREAM_MAX ((size_t)1 << 30)
/* Statements one day transaction may stage (tables times column shapes). */
#define BULK_STREAMS_MAX ((size_t)4096)

/* ---- the set of segments loaded in this transaction ---- */

static size_t
seg_slot(int32_t cid, uint64_t seq, size_t cap)
{
	uint64_t h = pga_fnv1a64(&seq, sizeof(seq), (uint64_t)(uint32_t)cid * 0x9e3779b97f4a7c15ULL);

	return (size_t)(h & (cap - 1));
}

static bool
in_tx(const struct ld_bulk *b, int32_t cid, uint64_t seq)
{
	if (b->hcap == 0)
		return false;
	for (size_t i = seg_slot(cid, seq, b->hcap);; i = (i + 1) & (b->hcap - 1)) {
		uint32_t v = b->hash[i];

		if (v == 0)
			return false;
		if (b->s[v - 1].collector_id == cid && b->s[v - 1].seq == seq)
			return true;
	}
}

static int
rehash(struct ld_bulk *b, size_t cap, struct pga_err *err)
{
	uint32_t *h = calloc(cap, sizeof(*h));

	if (h == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	free(b->hash);
	b->hash = h;
	b->hcap = cap;
	for (size_t k = 0; k < b->ns; k++) {
		size_t i = seg_slot(b->s[k].collector_id, b->s[k].seq, cap);

		while (h[i] != 0)
			i = (i + 1) & (cap - 1);
		h[i] = (uint32_t)k + 1;
	}
	return 0;
}

static int
remember(struct loader *l, const struct ld_job *j, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	struct bulk_seg *s;
	int rc = PGA_GROW(b->s, b->scap, b->ns + 1, BULK_MAX, err);

	if (rc == 0 && (b->ns + 1) * 2 > b->hcap)
		rc = rehash(b, b->hcap ? b->hcap * 2 : 256, err);
	if (rc < 0)
		return rc;
	s = &b->s[b->ns];
	memset(s, 0, sizeof(*s));
	s->collector_id = j->collector_id;
	s->seq = j->h.seq;
	memcpy(s->sha, j->file_sha, PGA_SHA256_LEN);
	strlcpy(s->collector, j->h.collector, sizeof(s->collector));
	s->linked = !j->in_ledger;
	s->name = strdup(j->name);
	if (s->name == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	{
		size_t i = seg_slot(s->collector_id, s->seq, b->hcap);

		while (b->hash[i] != 0)
			i = (i + 1) & (b->hcap - 1);
		b->hash[i] = (uint32_t)++b->ns;
	}
	return 0;
}

static int
note_registry(struct ld_bulk *b, const struct ld_job *j, struct pga_err *err)
{
	struct bulk_reg *r = NULL;

	for (size_t i = 0; i < b->nr && r == NULL; i++)
		if (b->r[i].collector_id == j->collector_id)
			r = &b->r[i];
	if (r == NULL) {
		if (PGA_GROW(b->r, b->rcap, b->nr + 1, BULK_MAX, err) < 0)
			return err->code;
		r = &b->r[b->nr++];
		memset(r, 0, sizeof(*r));
		r->collector_id = j->collector_id;
		r->max_snapshot = INT64_MIN;
	}
	if (j->h.seq >= r->h.seq)
		r->h = j->h;
	if (j->f.nblocks > 0) {
		r->any_blocks = true;
		if (j->f.max_snapshot_us > r->max_snapshot)
			r->max_snapshot = j->f.max_snapshot_us;
	}
	return 0;
}

/* ---- the day's tables ---- */

const char *
ld_bulk_target(struct loader *l, const char *metric, int32_t day, const char *parent,
	       bool *freeze)
{
	struct ld_bulk *b = l->bulk;

	*freeze = false;
	if (b == NULL || !b->open || day != b->day)
		return parent;
	for (size_t i = 0; i < b->nt; i++)
		if (strcmp(b->t[i].metric, metric) == 0) {
			*freeze = b->t[i].fresh && !l->o.bulk_no_freeze;
			return b->t[i].fresh ? b->t[i].qname : parent;
		}
	return parent;
}

static void
day_bounds(int32_t day, char *from, char *to, size_t cap)
{
	time_t t = (time_t)day * 86400, u = t + 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(from, cap, "%Y-%m-%d 00:00:00+00", &tm);
	gmtime_r(&u, &tm);
	strftime(to, cap, "%Y-%m-%d 00:00:00+00", &tm);
}

static int
day_table_name(const struct loader *l, const char *metric, int32_t day, char *name,
	       size_t ncap, char *qname, size_t qcap, struct pga_err *err)
{
	char suffix[16];
	time_t t = (time_t)day * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(suffix, sizeof(suffix), "_p%Y%m%d", &tm);
	ld_derived_name(metric, suffix, name, ncap);
	return ld_qualify(l->schema, name, qname, qcap, err);
}

/*
 * The day's table of metric: attached already (the parent takes the
 * rows), or created now.  1 when it exists but is not attached: another
 * restore's day (or one of ours that committed and was not attached yet).
 */
static int
day_table(struct loader *l, const char *metric, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	struct ld_table *t = ld_table_find(l, metric);
	char name[LD_IDENT_MAX], from[40], to[40], sql[LD_SQL_MAX];
	struct bulk_table *bt;
	const char *params[1];
	PGresult *res = NULL;
	int rc;

	for (size_t i = 0; i < b->nt; i++)
		if (strcmp(b->t[i].metric, metric) == 0)
			return 0;
	if (t == NULL)
		return pga_fail(err, PGA_EINTERNAL, "table of metric '%s' not prepared", metric);
	rc = PGA_GROW(b->t, b->tcap, b->nt + 1, BULK_MAX, err);
	if (rc < 0)
		return rc;
	bt = &b->t[b->nt];
	memset(bt, 0, sizeof(*bt));
	strlcpy(bt->metric, metric, sizeof(bt->metric));
	rc = day_table_name(l, metric, b->day, name, sizeof(name), bt->qname, sizeof(bt->qname), err);
	params[0] = bt->qname;
	if (rc == 0)
		rc = ld_exec(l, "SELECT c.relispartition FROM pg_class c WHERE c.oid = to_regclass($1)",
			     1, params, &res, err);
	if (rc == 0 && PQntuples(res) == 1) {
		bool attached = strcmp(PQgetvalue(res, 0, 0), "t") == 0;

		PQclear(res);
		if (!attached)
			return 1;
		b->nt++;	/* attached since the cache was read: the parent routes */
		return 0;
	}
	PQclear(res);
	if (rc < 0)
		return rc;
	day_bounds(b->day, from, to, sizeof(from));
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS, CONSTRAINT "
		 BULK_CONSTRAINT " CHECK (snapshot_time >= '%s' AND snapshot_time < '%s'))",
		 bt->qname, t->qname, from, to);
	rc = ld_exec(l, sql, 0, NULL, NULL, err);
	if (rc == 0) {
		bt->fresh = true;
		b->nt++;
		log_debug("day table '%s' created for COPY FREEZE", name);
	}
	return rc;
}

/* ---- DDL outside the day's transaction ---- */

static int
aux_open(struct loader *l, struct pga_err *err)
{
	struct pga_connect_opts co = {.application_name = "pga restore"};
	struct ld_bulk *b = l->bulk;
	int rc;

	if (b->aux != NULL && PQstatus(b->aux) == CONNECTION_OK)
		return 0;
	if (b->aux != NULL)
		PQfinish(b->aux);
	b->aux = NULL;
	rc = pga_pg_connect(&b->aux, l->o.conninfo, &co, err);
	if (rc == 0)
		rc = pga_pg_exec(b->aux, "SET client_min_messages = warning", err);
	return rc;
}

/* Servers and the collector, in their own transactions on the second connection. */
static int
needs_aside(struct loader *l, struct ld_job *j, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	PGconn *main = l->conn;
	size_t nparts = l->needs.nparts;
	int rc = aux_open(l, err);

	if (rc < 0)
		return rc;
	l->conn = b->aux;
	if (j->collector_id < 0)
		rc = ld_collector_id(l, &j->h, &j->collector_id, err);
	l->needs.nparts = 0;
	if (rc == 0 && l->needs.nsrvs > 0)
		rc = ld_apply_needs(l, err);
	l->needs.nparts = nparts;
	l->conn = main;
	return rc;
}

/* ---- one segment ---- */

static int
defer(struct ld_job *j, enum load_result *res, const char *why)
{
	log_debug("'%s': left for the per-segment load: %s", j->qname, why);
	*res = LOAD_DEFERRED;
	return 0;
}

/* Claim and lower chain edge where the day meets others; *got false: busy. */
static int
day_locks(struct loader *l, struct ld_job *j, bool *got, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	bool claim = j->in_ledger || j->f.nblocks == 0 || j->f.min_snapshot_us < l->o.since ||
		     j->f.max_snapshot_us > l->o.until;
	bool lo = j->h.seq > 1 && !in_tx(b, j->collector_id, j->h.seq - 1);
	char sql[256], k1[80] = "true", k2[80] = "true";
	PGresult *res = NULL;
	int rc;

	*got = true;
	if (!claim && !lo)
		return 0;
	if (claim)
		snprintf(k1, sizeof(k1), "pg_try_advisory_xact_lock(%" PRId64 "::bigint)",
			 ld_lock_key(l->schema, j->h.collector, "", j->h.seq));
	if (lo)
		snprintf(k2, sizeof(k2), "pg_try_advisory_xact_lock(%" PRId64 "::bigint)",
			 ld_lock_key(l->schema, j->h.collector, "/edge", j->h.seq - 1));
	snprintf(sql, sizeof(sql), "SELECT %s, %s", k1, k2);
	rc = ld_exec(l, sql, 0, NULL, &res, err);
	if (rc == 0)
		*got = strcmp(PQgetvalue(res, 0, 0), "t") == 0 && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	return rc;
}

static int
exec_sb(struct loader *l, struct dynbuf *b, struct pga_err *err)
{
	int rc = dynbuf_check(b, "day statement", err);

	if (rc == 0 && dynbuf_len(b) > 0)
		rc = ld_exec(l, dynbuf_str(b), 0, NULL, NULL, err);

	dynbuf_free(b);
	return rc;
}

/* Steps 1 and 2: what the segment is, and whether the day can take it. */
static int
day_look(struct loader *l, struct ld_job *j, enum load_result *res, bool *done,
	 struct pga_err *err)
{
	char why[PGA_ERR_MSG_MAX];
	int rc = ld_read_ends(j, err);

	*done = true;
	if (rc == 0)
		rc = seg_name_check(j->name, &j->h, err);
	if (rc == 0)
		rc = ld_check_header(j, err);
	if (rc < 0)
		return defer(j, res, err->msg);
	if ((l->o.collector != NULL && strcmp(l->o.collector, j->h.collector) != 0) ||
	    ld_wholly_outside(l, j)) {
		*res = LOAD_FILTERED;
		return 0;
	}
	rc = ld_collector_lookup(l, j, err);
	if (rc == 0)
		rc = ld_ledger_read(l, j, err);
	if (rc < 0)
		return rc;
	if (j->complete && memcmp(j->led_body, j->f.sha256, PGA_SHA256_LEN) == 0) {
		*res = LOAD_DUPLICATE;
		return 0;
	}
	rc = ld_prescan(l, j, err);
	if (rc < 0 && err->code != PGA_EDB && err->code != PGA_ENET)
		return defer(j, res, err->msg);
	if (rc < 0)
		return rc;
	/* one the registry cannot vouch for goes the live way, which refuses and records it */
	if (l->o.require_signature && ld_check_signature(l, j, err) < 0)
		return defer(j, res, err->msg);
	if (j->in_ledger && memcmp(j->led_sha, j->file_sha, PGA_SHA256_LEN) != 0)
		return defer(j, res, "another version of it is loaded (a fork)");
	if (ld_chain_break(j, why, sizeof(why)) != NULL)
		return defer(j, res, why);
	if (l->needs.nshapes > 0)
		return defer(j, res, "it needs a new custom table or column, or its series dbname");
	*done = false;
	return 0;
}

/* Steps 3 and 4: the day's tables, the locks, the ledger once more. */
static int
day_prepare(struct loader *l, struct ld_job *j, enum load_result *res, bool *done,
	    struct pga_err *err)
{
	char why[PGA_ERR_MSG_MAX];
	bool got = false;
	int rc = needs_aside(l, j, err);

	*done = true;
	for (size_t i = 0; rc == 0 && i < l->needs.nparts; i++) {
		rc = day_table(l, l->needs.parts[i].metric, err);
		if (rc == 1)
			return defer(j, res, "its day table exists but is not attached (another"
				     " restore of that day?)");
	}
	if (rc == 0)
		rc = day_locks(l, j, &got, err);
	if (rc == 0 && !got)
		return defer(j, res, "another loader holds it or its neighbour");
	if (rc == 0)
		rc = ld_ledger_read(l, j, err);
	if (rc < 0)
		return rc;
	if (j->complete && memcmp(j->led_sha, j->file_sha, PGA_SHA256_LEN) == 0) {
		*res = LOAD_DUPLICATE;
		return 0;
	}
	if (j->in_ledger && memcmp(j->led_sha, j->file_sha, PGA_SHA256_LEN) != 0)
		return defer(j, res, "another version of it is loaded (a fork)");
	if (ld_chain_break(j, why, sizeof(why)) != NULL)
		return defer(j, res, why);
	*done = false;
	return 0;
}

/*
 * ---- shared COPYs ----
 *
 * A block's rows are a COPY of about 70 rows when each segment sends its
 * own (one COPY per table per segment): each COPY costs the server a
 * statement's start and end, measured at a third more CPU per row than
 * the same rows in few COPYs.  In a day transaction the rows of every
 * segment go to the same day tables, so they are staged per COPY
 * statement (table and columns) and sent in large COPYs: between
 * segments once BULK_STAGE_CAP is staged, and at commit.  Every check a
 * block gets before its rows are staged is the client's (reader, CSV,
 * reserved metric, column types); a refusal by the server in a shared
 * COPY cannot name its segment, so the day fails and begins again with
 * one COPY per segment (noshare_day), which defers the segment at fault
 * exactly as before.
 */
static int
stage_begin(void *ctx, const char *sql, struct pga_err *err)
{
	struct ld_bulk *b = ((struct loader *)ctx)->bulk;
	struct bulk_stream *s = NULL;

	for (size_t i = 0; i < b->nst && s == NULL; i++)
		if (strcmp(b->st[i].sql, sql) == 0)
			s = &b->st[i];
	if (s == NULL) {
		if (PGA_GROW(b->st, b->stcap, b->nst + 1, BULK_STREAMS_MAX, err) < 0)
			return err->code;
		s = &b->st[b->nst];
		memset(s, 0, sizeof(*s));
		s->sql = strdup(sql);
		if (s->sql == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		b->nst++;
	}
	b->cur = s;
	return 0;
}

static int
stage_put(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	struct ld_bulk *b = ((struct loader *)ctx)->bulk;
	struct bulk_stream *s = b->cur;

	if (s == NULL)
		return pga_fail(err, PGA_EINTERNAL, "no COPY staged");
	if (PGA_GROW(s->buf, s->cap, s->len + len, BULK_STREAM_MAX, err) < 0)
		return err->code;
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	b->staged += len;
	return 0;
}

static void
stage_end(void *ctx, uint64_t rows)
{
	struct ld_bulk *b = ((struct loader *)ctx)->bulk;

	if (b->cur != NULL)
		b->cur->rows += rows;
	b->cur = NULL;
}

static void
stage_abort(void *ctx)
{
	struct ld_bulk *b = ((struct loader *)ctx)->bulk;

	/* part of a block is staged: the day must not commit (day_reset drops it) */
	b->cur = NULL;
	b->stage_broken = true;
}

/* Everything staged sent; a failure turns shared COPYs off for this day. */
static int
stage_flush(struct loader *l, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	int rc = 0;

	if (b->stage_broken)
		return pga_fail(err, PGA_EINTERNAL, "a staged COPY was left unfinished");
	for (size_t i = 0; rc == 0 && i < b->nst; i++) {
		if (b->st[i].len > 0)
			rc = ld_copy_raw(l->conn, b->st[i].sql, b->st[i].buf, b->st[i].len,
					 b->st[i].rows, err);
		b->st[i].len = 0;
		b->st[i].rows = 0;
	}
	b->staged = 0;
	if (rc < 0) {
		char from[40], to[40];

		b->noshare_set = true;
		b->noshare_day = b->day;
		day_bounds(b->day, from, to, sizeof(from));
		log_info("day %.10s: a shared COPY failed (%s): the day begins again with one COPY"
			 " per segment", from, err->msg);
	}
	return rc;
}

static void
stage_drop(struct ld_bulk *b)
{
	for (size_t i = 0; i < b->nst; i++) {
		free(b->st[i].sql);
		free(b->st[i].buf);
	}
	free(b->st);
	b->st = NULL;
	b->nst = b->stcap = b->staged = 0;
	b->cur = NULL;
	b->stage_broken = false;
}

/* Step 5: the blocks, the ledger row; remembered for the commit. */
static int
day_copy(struct loader *l, struct ld_job *j, enum load_result *res, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	struct dynbuf sb = DYNBUF_INIT(LD_TEXT_MAX);
	int rc = ld_copy_segment(l, j, b->share ? &b->stage : NULL, err);

	if (rc < 0) {
		if (j->data_error || (err->code != PGA_EDB && err->code != PGA_ENET))
			*res = LOAD_DEFERRED;	/* its own fault: again without it */
		return rc;
	}
	if (j->st.blocks == 0 && j->st.blocks_refused == 0 && !j->all_covered) {
		*res = j->in_ledger ? LOAD_DUPLICATE : LOAD_FILTERED;
		return 0;
	}
	/* a new ledger row goes in unlinked: see link_ledger() */
	ld_segment_sql(l, j, &sb, false);
	rc = exec_sb(l, &sb, err);
	if (rc == 0)
		rc = remember(l, j, err);
	if (rc == 0)
		rc = note_registry(b, j, err);
	if (rc == 0 && dynbuf_len(&j->logs) > 0)
		dynbuf_addf(&b->logs, "%s\n", dynbuf_str(&j->logs));
	if (rc == 0)
		*res = LOAD_LOADED;
	return rc;
}

int
loader_day_add(struct loader *l, const char *name, int fd, enum load_result *res,
	       struct load_seg_stats *st, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	struct ld_job j;
	bool done = false;
	int rc;

	*res = LOAD_FILTERED;
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (b == NULL || !b->open || b->failed)
		return pga_fail(err, PGA_EINTERNAL, "no day transaction open");
	ld_job_init(&j, name, fd);
	rc = b->staged >= BULK_STAGE_CAP ? stage_flush(l, err) : 0;
	if (rc == 0)
		rc = day_look(l, &j, res, &done, err);
	if (rc == 0 && !done)
		rc = day_prepare(l, &j, res, &done, err);
	if (rc == 0 && !done)
		rc = day_copy(l, &j, res, err);
	if (rc < 0)
		b->failed = true;	/* an SQL error: the transaction is lost */
	if (rc == 0 && *res == LOAD_LOADED && st != NULL) {
		*st = j.st;
		st->seg_bytes = j.size;
		st->partial = !j.all_covered;
	}
	ld_job_free(&j);
	return rc;
}

/* ---- the day ---- */

int
loader_day_begin(struct loader *l, int32_t day, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	int64_t start = (int64_t)day * LD_DAY_US, end = start + LD_DAY_US - 1;
	int rc;

	if (b == NULL) {
		b = l->bulk = calloc(1, sizeof(*b));
		if (b == NULL)
			return pga_fail(err, PGA_ENOMEM, "out of memory");
		dynbuf_init(&b->logs, LD_TEXT_MAX);
	}
	if (b->open)
		return pga_fail(err, PGA_EINTERNAL, "a day transaction is open already");
	b->day = day;
	b->user_since = l->o.since;
	b->user_until = l->o.until;
	rc = ld_exec(l, "BEGIN", 0, NULL, NULL, err);
	if (rc < 0)
		return rc;
	b->open = true;
	b->failed = false;
	b->share = !(b->noshare_set && b->noshare_day == day);
	b->stage = (struct ld_copy_stage){stage_begin, stage_put, stage_end, stage_abort, l};
	l->o.since = start > b->user_since ? start : b->user_since;
	l->o.until = end < b->user_until ? end : b->user_until;
	return 0;
}

bool
loader_day_failed(const struct loader *l)
{
	return l->bulk != NULL && l->bulk->failed;
}

static void
day_reset(struct loader *l)
{
	struct ld_bulk *b = l->bulk;

	if (b == NULL)
		return;
	if (b->open) {
		l->o.since = b->user_since;
		l->o.until = b->user_until;
	}
	b->open = b->failed = false;
	stage_drop(b);
	for (size_t i = 0; i < b->ns; i++)
		free(b->s[i].name);
	b->ns = b->nt = b->nr = 0;
	if (b->hash != NULL)
		memset(b->hash, 0, b->hcap * sizeof(*b->hash));
	dynbuf_free(&b->logs);
}

void
loader_day_abort(struct loader *l)
{
	ld_rollback(l);
	day_reset(l);
	ld_tables_forget(l);	/* what was read inside the transaction */
}

static int
cmp_seg(const void *x, const void *y)
{
	const struct bulk_seg *a = *(const struct bulk_seg *const *)x;
	const struct bulk_seg *c = *(const struct bulk_seg *const *)y;

	if (a->collector_id != c->collector_id)
		return a->collector_id < c->collector_id ? -1 : 1;
	return (a->seq > c->seq) - (a->seq < c->seq);
}

/* The far ends: (seq, seq+1) of every segment whose successor is not in the day. */
static int
far_edges(struct loader *l, struct bulk_seg ***ends, size_t *n, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	struct bulk_seg **e = calloc(b->ns ? b->ns : 1, sizeof(*e));

	*ends = e;
	*n = 0;
	if (e == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	for (size_t i = 0; i < b->ns; i++)
		if (!in_tx(b, b->s[i].collector_id, b->s[i].seq + 1))
			e[(*n)++] = &b->s[i];
	qsort(e, *n, sizeof(*e), cmp_seg);
	return 0;
}

/* Wait for the far edges, then read their successors; *culprit on a break. */
static int
check_far_ends(struct loader *l, const char **culprit, struct pga_err *err)
{
	struct bulk_seg **e = NULL;
	struct dynbuf sb = DYNBUF_INIT(LD_TEXT_MAX), q = DYNBUF_INIT(LD_TEXT_MAX);
	PGresult *res = NULL;
	size_t n = 0;
	int rc = far_edges(l, &e, &n, err);

	for (size_t i = 0; rc == 0 && i < n; i++)
		dynbuf_addf(&sb, "SELECT pg_advisory_xact_lock(%" PRId64 "::bigint);",
			  ld_lock_key(l->schema, e[i]->collector, "/edge", e[i]->seq));
	if (rc == 0 && n > 0)
		rc = exec_sb(l, &sb, err);
	dynbuf_addf(&q, "SELECT collector_id, seq, encode(prev_sha256, 'hex') FROM %s.segments"
		  " WHERE (collector_id, seq) IN (VALUES ", l->qschema);
	for (size_t i = 0; i < n; i++)
		dynbuf_addf(&q, "%s(%d, %" PRIu64 "::bigint)", i ? ", " : "", e[i]->collector_id,
			  e[i]->seq + 1);
	dynbuf_addf(&q, ")");
	if (rc == 0 && n > 0) {
		rc = dynbuf_check(&q, "chain query", err);
		if (rc == 0)
			rc = ld_exec(l, dynbuf_str(&q), 0, NULL, &res, err);
	}
	for (int r = 0; rc == 0 && res != NULL && r < PQntuples(res); r++) {
		int32_t cid = atoi(PQgetvalue(res, r, 0));
		uint64_t seq = strtoull(PQgetvalue(res, r, 1), NULL, 10);
		uint8_t prev[PGA_SHA256_LEN];

		pga_unhex(PQgetvalue(res, r, 2), prev, PGA_SHA256_LEN);
		for (size_t i = 0; i < n; i++)
			if (e[i]->collector_id == cid && e[i]->seq + 1 == seq &&
			    memcmp(prev, e[i]->sha, PGA_SHA256_LEN) != 0) {
				*culprit = e[i]->name;
				rc = pga_fail(err, PGA_ECONFLICT, "'%s': the loaded seq %" PRIu64
					      " does not chain to it (loaded meanwhile by another"
					      " loader)", e[i]->name, seq);
				break;
			}
	}
	PQclear(res);
	dynbuf_free(&sb);
	dynbuf_free(&q);
	free(e);
	return rc;
}

/*
 * The day's new ledger rows numbered and linked into the ledger's hash
 * chain, under the ledger lock, right before COMMIT.  The lock is the one
 * every loader shares (SCHEMA.md): taken at a day's first segment it would
 * hold every other day transaction and every pga load off until the whole
 * day committed, and a restore's --jobs would load one day at a time.
 */
static int
link_ledger(struct loader *l, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	struct dynbuf sb = DYNBUF_INIT(LD_TEXT_MAX);
	int rc = 0;

	dynbuf_addf(&sb, "SELECT pg_advisory_xact_lock(%" PRId64 "::bigint);\n",
		    ld_lock_key(l->schema, "", "/ledger", 0));
	for (size_t i = 0; rc == 0 && i < b->ns; i++) {
		if (!b->s[i].linked)
			continue;
		ld_ledger_link_sql(l, &sb, b->s[i].collector_id, b->s[i].seq);
		if (dynbuf_len(&sb) > BULK_LINK_PIECE)
			rc = exec_sb(l, &sb, err);
	}
	if (rc == 0)
		rc = exec_sb(l, &sb, err);
	dynbuf_free(&sb);
	return rc;
}

static void
print_logs(struct ld_bulk *b)
{
	const char *p = dynbuf_str(&b->logs);
	size_t len = dynbuf_len(&b->logs);

	for (size_t off = 0; off < len;) {
		const char *nl = memchr(p + off, '\n', len - off);
		size_t k = nl ? (size_t)(nl - (p + off)) : len - off;

		if (k > 0)
			log_warn("%.*s", (int)k, p + off);
		off += k + 1;
	}
}

/* After the commit: each collector's registry row, on the second connection. */
static void
update_registry(struct loader *l)
{
	struct ld_bulk *b = l->bulk;
	struct dynbuf sb = DYNBUF_INIT(LD_TEXT_MAX);
	struct pga_err err = {0};

	for (size_t i = 0; i < b->nr; i++)
		ld_registry_sql(l, &sb, &b->r[i].h, b->r[i].collector_id, b->r[i].max_snapshot,
				!b->r[i].any_blocks);
	if (dynbuf_len(&sb) > 0 && dynbuf_check(&sb, "registry statement", &err) == 0 &&
	    aux_open(l, &err) == 0)
		pga_pg_exec(b->aux, dynbuf_str(&sb), &err);
	if (err.code != 0)
		log_warn("the collectors' registry lags behind (pga load brings it up to date): %s",
			 err.msg);
	dynbuf_free(&sb);
}

static int
fresh_tables(const struct ld_bulk *b, struct load_day_table **out, size_t *n,
	     struct pga_err *err)
{
	*out = calloc(b->nt ? b->nt : 1, sizeof(**out));
	*n = 0;
	if (*out == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	for (size_t i = 0; i < b->nt; i++)
		if (b->t[i].fresh) {
			strlcpy((*out)[*n].metric, b->t[i].metric, sizeof((*out)[0].metric));
			(*out)[(*n)++].day = b->day;
		}
	return 0;
}

int
loader_day_commit(struct loader *l, struct load_day_table **tables, size_t *n,
		  const char **culprit, struct pga_err *err)
{
	struct ld_bulk *b = l->bulk;
	int rc;

	*tables = NULL;
	*n = 0;
	*culprit = NULL;
	if (b == NULL || !b->open || b->failed)
		return pga_fail(err, PGA_EINTERNAL, "no day transaction to commit");
	rc = stage_flush(l, err);
	if (rc == 0)
		rc = check_far_ends(l, culprit, err);
	if (rc == 0)
		rc = fresh_tables(b, tables, n, err);
	if (rc == 0)
		rc = link_ledger(l, err);
	if (rc == 0)
		rc = ld_exec(l, "COMMIT", 0, NULL, NULL, err);
	if (rc < 0) {
		b->failed = true;
		free(*tables);
		*tables = NULL;
		*n = 0;
		return rc;
	}
	update_registry(l);
	print_logs(b);
	day_reset(l);
	return 0;
}

void
ld_bulk_free(struct loader *l)
{
	struct ld_bulk *b = l->bulk;

	if (b == NULL)
		return;
	day_reset(l);
	if (b->aux != NULL)
		PQfinish(b->aux);
	free(b->t);
	free(b->s);
	free(b->hash);
	free(b->r);
	free(b);
	l->bulk = NULL;
}

/* ---- after the day: indexes, attach ---- */

/*
 * CREATE INDEX statements on child for each index of parent, each named
 * after its day table (name, unqualified).  Not PostgreSQL's own choice:
 * it cuts a long table name to fit the columns in, the day goes with it,
 * and two restore workers indexing two days of one metric at once cannot
 * see each other's uncommitted names, so both chose the same one (23505
 * on pg_class_relname_nsp_index).
 */
static int
child_indexes(struct loader *l, const char *parent, const char *child, const char *name,
	      struct dynbuf *sb, struct pga_err *err)
{
	const char *params[1] = {parent};
	PGresult *res = NULL;
	int rc = ld_exec(l, "SELECT i.indisunique, am.amname, (SELECT string_agg("
			 "pg_get_indexdef(i.indexrelid, k, true), ', ' ORDER BY k)"
			 " FROM generate_series(1, i.indnkeyatts) k)"
			 " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
			 " JOIN pg_am am ON am.oid = ic.relam WHERE i.indrelid = $1::regclass"
			 " ORDER BY i.indexrelid", 1, params, &res, err);

	for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
		char suffix[16], iname[LD_IDENT_MAX], qi[LD_QNAME_MAX];

		snprintf(suffix, sizeof(suffix), "_i%d", r + 1);
		ld_derived_name(name, suffix, iname, sizeof(iname));
		rc = pga_pg_quote_ident(iname, qi, sizeof(qi), err);
		if (rc == 0)
			dynbuf_addf(sb, "CREATE %sINDEX %s ON %s USING %s (%s);\n",
				    strcmp(PQgetvalue(res, r, 0), "t") == 0 ? "UNIQUE " : "", qi,
				    child, PQgetvalue(res, r, 1), PQgetvalue(res, r, 2));
	}
	PQclear(res);
	return rc;
}

/* Someone attached a partition of that day meanwhile: the rows go into it. */
static int
move_rows(struct loader *l, const char *parent, const char *child, struct pga_err *err)
{
	const char *params[1] = {child};
	struct dynbuf sb = DYNBUF_INIT(LD_TEXT_MAX);
	PGresult *res = NULL;
	int rc = ld_exec(l, "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)"
			 " FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0"
			 " AND NOT attisdropped", 1, params, &res, err);

	if (rc == 0)
		dynbuf_addf(&sb, "INSERT INTO %s (%s) SELECT %s FROM %s; DROP TABLE %s; COMMIT",
			  parent, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 0), child, child);
	PQclear(res);
	if (rc == 0)
		rc = exec_sb(l, &sb, err);
	dynbuf_free(&sb);
	if (rc < 0)
		ld_rollback(l);
	return rc;
}

int
loader_day_attach(struct loader *l, const char *metric, int32_t day, long index_mem,
		  int workers, struct pga_err *err)
{
	char name[LD_IDENT_MAX], child[LD_QNAME_MAX], parent[LD_QNAME_MAX], from[40], to[40];
	char lock[128];
	const char *params[1] = {child};
	struct dynbuf sb = DYNBUF_INIT(LD_TEXT_MAX);
	PGresult *res = NULL;
	int rc = day_table_name(l, metric, day, name, sizeof(name), child, sizeof(child), err);

	/*
	 * One attach of a table at a time (two finishers, or a rerun while the
	 * backend of a killed one still works): the second waits, then finds it
	 * attached.  Two at once would deadlock in ATTACH.
	 */
	snprintf(lock, sizeof(lock), "BEGIN; SELECT pg_advisory_xact_lock(%" PRId64 "::bigint)",
		 ld_lock_key(l->schema, name, "/attach", 0));
	if (rc == 0)
		rc = ld_qualify(l->schema, metric, parent, sizeof(parent), err);
	if (rc == 0)
		rc = ld_exec(l, lock, 0, NULL, NULL, err);
	if (rc == 0)
		rc = ld_exec(l, "SELECT relispartition FROM pg_class WHERE oid = to_regclass($1)", 1,
			     params, &res, err);
	if (rc < 0 || PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		PQclear(res);
		ld_rollback(l);
		return rc;	/* gone or attached meanwhile (another restore's finisher) */
	}
	PQclear(res);
	day_bounds(day, from, to, sizeof(from));
	if (index_mem > 0)
		dynbuf_addf(&sb, "SET LOCAL maintenance_work_mem = '%ldkB';\n", index_mem);
	if (workers >= 0)
		dynbuf_addf(&sb, "SET LOCAL max_parallel_maintenance_workers = %d;\n", workers);
	rc = child_indexes(l, parent, child, name, &sb, err);
	dynbuf_addf(&sb, "ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s');\n"
		  "ALTER TABLE %s DROP CONSTRAINT " BULK_CONSTRAINT ";\nCOMMIT", parent, child,
		  from, to, child);
	if (rc == 0)
		rc = exec_sb(l, &sb, err);
	dynbuf_free(&sb);
	if (rc < 0) {
		ld_rollback(l);
		if (strcmp(err->sqlstate, "42P17") != 0)
			return rc;
		log_warn("a partition of '%s' for %s appeared meanwhile: moving the day's rows into it",
			 metric, from);
		rc = ld_exec(l, lock, 0, NULL, NULL, err);
		if (rc == 0)
			rc = move_rows(l, parent, child, err);
	}
	if (rc == 0)
		log_debug("day table '%s' indexed and attached", name);
	ld_tables_forget(l);
	return rc;
}

/* relname ends in _pYYYYMMDD: the metric whose derived name it is, and the day. */
static bool
which_table(const char *relname, char *const *metrics, size_t nm, struct load_day_table *out)
{
	size_t n = strlen(relname);
	struct tm tm = {0};
	char want[LD_IDENT_MAX];
	int ymd;

	if (n < 10 || strncmp(relname + n - 10, "_p", 2) != 0 ||
	    strspn(relname + n - 8, "0123456789") != 8)
		return false;
	ymd = atoi(relname + n - 8);
	tm.tm_year = ymd / 10000 - 1900;
	tm.tm_mon = ymd / 100 % 100 - 1;
	tm.tm_mday = ymd % 100;
	for (size_t i = 0; i < nm; i++) {
		ld_derived_name(metrics[i], relname + n - 10, want, sizeof(want));
		if (strcmp(want, relname) == 0) {
			strlcpy(out->metric, metrics[i], sizeof(out->metric));
			out->day = (int32_t)(timegm(&tm) / 86400);
			return true;
		}
	}
	return false;
}

int
loader_day_unattached(struct loader *l, struct load_day_table **out, size_t *n,
		      struct pga_err *err)
{
	char sql[512];
	const char *params[1] = {l->schema};
	PGresult *tabs = NULL, *mets = NULL;
	char **metrics = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	rc = ld_exec(l, "SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid ="
		     " c.relnamespace WHERE s.nspname = $1 AND c.relkind = 'r' AND NOT"
		     " c.relispartition AND EXISTS (SELECT 1 FROM pg_constraint k WHERE"
		     " k.conrelid = c.oid AND k.conname = '" BULK_CONSTRAINT "') ORDER BY 1", 1,
		     params, &tabs, err);
	snprintf(sql, sizeof(sql), "SELECT metric FROM %s.metrics", l->qschema);
	if (rc == 0 && PQntuples(tabs) > 0)
		rc = ld_exec(l, sql, 0, NULL, &mets, err);
	if (rc == 0 && mets != NULL) {
		metrics = calloc((size_t)PQntuples(mets) + 1, sizeof(*metrics));
		if (metrics == NULL)
			rc = pga_fail(err, PGA_ENOMEM, "out of memory");
		for (int i = 0; rc == 0 && i < PQntuples(mets); i++)
			metrics[i] = PQgetvalue(mets, i, 0);
	}
	for (int i = 0; rc == 0 && mets != NULL && i < PQntuples(tabs); i++) {
		struct load_day_table t;

		if (!which_table(PQgetvalue(tabs, i, 0), metrics, (size_t)PQntuples(mets), &t))
			continue;
		rc = PGA_GROW(*out, cap, *n + 1, BULK_MAX, err);
		if (rc == 0)
			(*out)[(*n)++] = t;
	}
	free(metrics);
	PQclear(mets);
	PQclear(tabs);
	return rc;
}

int
loader_wal_level(struct loader *l, char *buf, size_t cap, struct pga_err *err)
{
	PGresult *res = NULL;
	int rc = ld_exec(l, "SHOW wal_level", 0, NULL, &res, err);

	if (rc == 0)
		strlcpy(buf, PQgetvalue(res, 0, 0), cap);
	PQclear(res);
	return rc;
}
