/*
 * copy.c - decompressed block CSV into COPY ... FROM STDIN (FORMAT csv)
 *
 * Every row gets the block's constant fields in front (collector_id,
 * server_id, snapshot_time, dbname): all rows of a block share them, so
 * they are formatted once per block and prepended while the CSV streams
 * through.  Finding row starts needs only a quote-aware scan for newlines
 * (memchr for '\n' and '"'); the row bytes themselves go through
 * untouched.  Measured against the alternatives (a staging table plus
 * INSERT ... SELECT doubles the work; column defaults read from a session
 * setting cost the same per row on the server and need DDL or GUC traffic
 * per block), the prefix is the cheapest and needs nothing on the server.
 *
 * Only when a block has columns the central table does not know is the
 * CSV parsed (libcsv) and rewritten with those fields left out.  NULL (an
 * unquoted empty field) stays unquoted and every other kept field is
 * written quoted, so NULL and '' survive the rewrite.
 *
 * Output goes to PQputCopyData in LD_OBUF chunks: memory is flat whatever
 * the block's size.  libcsv's field buffer is capped at LD_FIELD_MAX.
 */
#define _GNU_SOURCE
#include "load/load_int.h"

#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/pgutil.h"

#define LD_FIELD_MAX (64u << 20)

int
ld_copy_init(struct ld_copy *c, PGconn *conn, struct pga_err *err)
{
	memset(c, 0, sizeof(*c));
	c->conn = conn;
	c->obuf = malloc(LD_OBUF);
	if (c->obuf == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	return 0;
}

static void
csv_release(struct ld_copy *c)
{
	if (c->csv_ready)
		csv_free(&c->csv);
	c->csv_ready = false;
}

void
ld_copy_free(struct ld_copy *c)
{
	csv_release(c);
	free(c->obuf);
	c->obuf = NULL;
}

static int
out_flush(struct ld_copy *c, struct pga_err *err)
{
	if (c->olen == 0)
		return 0;
	if (c->stage != NULL) {
		int rc = c->stage->put(c->stage->ctx, c->obuf, c->olen, err);

		if (rc < 0)
			return rc;
	} else if (c->sink != NULL) {
		int rc = c->sink(c->sink_ctx, c->obuf, c->olen, err);

		if (rc < 0)
			return rc;
	} else if (PQputCopyData(c->conn, c->obuf, (int)c->olen) != 1) {
		return pga_pg_fail(err, c->conn, NULL, "COPY");
	}
	c->olen = 0;
	return 0;
}

static int
out_put(struct ld_copy *c, const void *p, size_t n, struct pga_err *err)
{
	const char *s = p;

	while (n > 0) {
		size_t take = LD_OBUF - c->olen;

		if (take == 0) {
			int rc = out_flush(c, err);

			if (rc < 0)
				return rc;
			continue;
		}
		if (take > n)
			take = n;
		memcpy(c->obuf + c->olen, s, take);
		c->olen += take;
		s += take;
		n -= take;
	}
	return 0;
}

static inline int
out_char(struct ld_copy *c, char ch, struct pga_err *err)
{
	if (c->olen == LD_OBUF && out_flush(c, err) < 0)
		return err->code;
	c->obuf[c->olen++] = ch;
	return 0;
}

/* The COPY statement sent, the server ready for its data. */
static int
copy_start(PGconn *conn, const char *sql, struct pga_err *err)
{
	PGresult *res = PQexec(conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COPY_IN)
		rc = pga_pg_fail(err, conn, res, "COPY");
	PQclear(res);
	return rc;
}

int
ld_copy_begin(struct ld_copy *c, const char *sql, struct pga_err *err)
{
	int rc;

	if (c->stage != NULL)
		rc = c->stage->begin(c->stage->ctx, sql, err);
	else
		rc = copy_start(c->conn, sql, err);
	if (rc == 0) {
		c->active = true;
		c->olen = 0;
		c->rows_expected = 0;
	}
	return rc;
}

/* ---- libcsv path ---- */

static void *
capped_realloc(void *p, size_t n)
{
	return n > LD_FIELD_MAX ? NULL : realloc(p, n);
}

static int
no_space(unsigned char ch)
{
	(void)ch;
	return 0;	/* keep blanks: COPY output is exact */
}

static void
on_field(void *s, size_t len, void *data)
{
	struct ld_copy *c = data;
	uint16_t f = c->field++;
	int rc = 0;

	if (c->cb_rc < 0)
		return;
	if (f == 0)
		rc = out_put(c, c->prefix, c->plen, c->cb_err);
	if (rc == 0 && f < c->ncols && c->keep[f]) {
		rc = out_char(c, ',', c->cb_err);
		if (rc == 0 && s != NULL) {
			const char *p = s, *end = p + len;

			rc = out_char(c, '"', c->cb_err);
			while (rc == 0 && p < end) {
				const char *q = memchr(p, '"', (size_t)(end - p));
				size_t n = q ? (size_t)(q - p) + 1 : (size_t)(end - p);

				rc = out_put(c, p, n, c->cb_err);
				if (rc == 0 && q != NULL)
					rc = out_char(c, '"', c->cb_err);
				p += n;
			}
			if (rc == 0)
				rc = out_char(c, '"', c->cb_err);
		}
	}
	if (rc < 0)
		c->cb_rc = rc;
}

static void
on_row(int term, void *data)
{
	struct ld_copy *c = data;

	(void)term;
	if (c->cb_rc < 0)
		return;
	if (c->field != c->ncols)
		c->cb_rc = pga_fail(c->cb_err, PGA_ECORRUPT,
				    "a row has %u fields where the block names %u columns",
				    c->field, c->ncols);
	else
		c->cb_rc = out_char(c, '\n', c->cb_err);
	c->field = 0;
}

static int
csv_start(struct ld_copy *c, struct pga_err *err)
{
	csv_release(c);
	if (csv_init(&c->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	csv_set_space_func(&c->csv, no_space);
	csv_set_realloc_func(&c->csv, capped_realloc);
	c->csv_ready = true;
	c->field = 0;
	c->cb_rc = 0;
	return 0;
}

static int
csv_feed(struct ld_copy *c, const void *buf, size_t len, bool fini, struct pga_err *err)
{
	size_t done = 0;

	c->cb_err = err;
	if (!fini)
		done = csv_parse(&c->csv, buf, len, on_field, on_row, c);
	if (c->cb_rc < 0)
		return c->cb_rc;
	if (!fini && done != len)
		return pga_fail(err, PGA_ECORRUPT, "block CSV does not parse: %s",
				csv_strerror(csv_error(&c->csv)));
	if (fini && csv_fini(&c->csv, on_field, on_row, c) != 0)
		return c->cb_rc < 0 ? c->cb_rc :
		       pga_fail(err, PGA_ECORRUPT, "block CSV ends inside a quoted field");
	return c->cb_rc;
}

/* ---- pass-through path ---- */

/* Bytes up to and including the row's newline (or all); *ended if found. */
static size_t
scan_row(const char *p, size_t n, bool *inq, bool *ended)
{
	size_t i = 0;

	*ended = false;
	while (i < n) {
		const char *nl, *q;
		size_t end;

		if (*inq) {
			q = memchr(p + i, '"', n - i);
			if (q == NULL)
				return n;
			i = (size_t)(q - p) + 1;
			*inq = false;	/* "" inside a field toggles twice */
			continue;
		}
		nl = memchr(p + i, '\n', n - i);
		end = nl ? (size_t)(nl - p) : n;
		q = memchr(p + i, '"', end - i);
		if (q != NULL) {
			i = (size_t)(q - p) + 1;
			*inq = true;
			continue;
		}
		if (nl == NULL)
			return n;
		*ended = true;
		return end + 1;
	}
	return n;
}

static int
feed_prefixed(struct ld_copy *c, const char *p, size_t n, struct pga_err *err)
{
	bool rows_only = c->keep != NULL && c->nkept == 0;

	while (n > 0) {
		bool ended;
		size_t take;
		int rc = 0;

		if (c->row_start) {
			rc = out_put(c, c->prefix, c->plen, err);
			if (rc == 0 && !rows_only)
				rc = out_char(c, ',', err);
			c->row_start = false;
		}
		take = scan_row(p, n, &c->in_quotes, &ended);
		if (rc == 0 && !rows_only)
			rc = out_put(c, p, take, err);
		else if (rc == 0 && ended)
			rc = out_char(c, '\n', err);
		if (rc < 0)
			return rc;
		c->row_start = ended;
		p += take;
		n -= take;
	}
	return 0;
}

int
ld_copy_block(struct ld_copy *c, const char *prefix, const bool *keep,
	      uint16_t ncols, struct pga_err *err)
{
	c->plen = strlcpy(c->prefix, prefix, sizeof(c->prefix));
	if (c->plen >= sizeof(c->prefix))
		return pga_fail(err, PGA_EINTERNAL, "row prefix too long");
	c->row_start = true;
	c->in_quotes = false;
	c->keep = keep;
	c->ncols = ncols;
	c->nkept = 0;
	for (uint16_t i = 0; keep != NULL && i < ncols; i++)
		c->nkept += keep[i];
	if (keep != NULL && c->nkept > 0)
		return csv_start(c, err);
	return 0;
}

int
ld_copy_data(struct ld_copy *c, const void *buf, size_t len, struct pga_err *err)
{
	c->bytes_in += len;
	if (c->keep != NULL && c->nkept > 0)
		return csv_feed(c, buf, len, false, err);
	return feed_prefixed(c, buf, len, err);
}

int
ld_copy_block_end(struct ld_copy *c, uint64_t rows, struct pga_err *err)
{
	int rc = 0;

	if (c->keep != NULL && c->nkept > 0) {
		rc = csv_feed(c, NULL, 0, true, err);
		csv_release(c);
	} else if (c->in_quotes) {
		/*
		 * Several blocks may share one COPY: a quote left open would take
		 * the next block's rows into this block's last field.
		 */
		rc = pga_fail(err, PGA_ECORRUPT, "block CSV ends inside a quoted field");
	} else if (!c->row_start) {
		/* the writer ends every block with a newline; be exact anyway */
		rc = out_char(c, '\n', err);
		c->row_start = true;
	}
	c->rows_expected += rows;
	return rc;
}

/* "COPY t, line 3, column x: ..." names the row a data error is in. */
static uint64_t
context_line(const PGresult *res)
{
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *at = ctx ? strstr(ctx, ", line ") : NULL;

	return at ? strtoull(at + 7, NULL, 10) : 0;
}

/* The COPY abandoned: the server ends it with why, the connection stays usable. */
static void
copy_cancel(PGconn *conn, const char *why)
{
	PGresult *res;

	if (PQputCopyEnd(conn, why) == 1)
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);
}

/*
 * The COPY ended; the server must have stored exactly the rows expected.
 * *err_line (may be NULL): the row of the data a refusal names.
 */
static int
copy_finish(PGconn *conn, uint64_t expected, uint64_t *rows, uint64_t *err_line,
	    struct pga_err *err)
{
	PGresult *res;
	int rc = 0;

	*rows = 0;
	if (PQputCopyEnd(conn, NULL) != 1)
		return pga_pg_fail(err, conn, NULL, "COPY");
	while ((res = PQgetResult(conn)) != NULL) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pga_pg_fail(err, conn, res, "COPY");
			if (err_line != NULL)
				*err_line = context_line(res);
		} else if (rc == 0)
			*rows = strtoull(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	if (rc == 0 && *rows != expected)
		rc = pga_fail(err, PGA_ECORRUPT, "COPY stored %llu rows where the blocks hold %llu",
			      (unsigned long long)*rows, (unsigned long long)expected);
	return rc;
}

int
ld_copy_raw(PGconn *conn, const char *sql, const char *buf, size_t len, uint64_t rows,
	    struct pga_err *err)
{
	uint64_t stored;
	int rc = copy_start(conn, sql, err);

	if (rc < 0)
		return rc;
	for (size_t off = 0; off < len; off += LD_RAW_PIECE) {
		size_t n = len - off < LD_RAW_PIECE ? len - off : LD_RAW_PIECE;

		if (PQputCopyData(conn, buf + off, (int)n) != 1) {
			rc = pga_pg_fail(err, conn, NULL, "COPY");
			copy_cancel(conn, "pga: send failed");
			return rc;
		}
	}
	return copy_finish(conn, rows, &stored, NULL, err);
}

int
ld_copy_end(struct ld_copy *c, uint64_t *rows, struct pga_err *err)
{
	int rc = out_flush(c, err);

	*rows = 0;
	c->err_line = 0;
	if (rc < 0) {
		ld_copy_abort(c, "pga: send failed");
		return rc;
	}
	c->active = false;
	if (c->stage != NULL) {
		/* the server's count is checked when the stage sends it */
		c->stage->end(c->stage->ctx, c->rows_expected);
		*rows = c->rows_expected;
		return 0;
	}
	return copy_finish(c->conn, c->rows_expected, rows, &c->err_line, err);
}

void
ld_copy_abort(struct ld_copy *c, const char *why)
{
	csv_release(c);
	c->olen = 0;
	if (!c->active)
		return;
	c->active = false;
	if (c->stage != NULL) {
		c->stage->abort(c->stage->ctx);
		return;
	}
	copy_cancel(c->conn, why);
}
