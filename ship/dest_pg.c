/*
 * dest_pg.c - postgres://... (or a key=value conninfo): load straight into
 * a central database with the loader's exactly-once logic
 *
 * put() is loader_load_file(): the segment and its ledger row commit in
 * one transaction, an already loaded segment with the same hash is a
 * duplicate (success).  Blocks the server refuses are isolated and
 * recorded centrally: the rest loads and put() succeeds (a warning says
 * so), it does not retry a bad block forever while the spool grows.  A
 * segment that forks the collector's chain (same seq with another hash, a
 * previous hash the ledger contradicts) is PGA_ECONFLICT: the loader holds
 * a copy centrally for the operator, and the destination stops loudly with
 * the segment kept in the spool, as for any object that differs.  head() is the ledger lookup.  The central schema must
 * exist ('pga load --init'); its name is the section's schema key.
 * Connections are made on first use and dropped after a connection error,
 * so the next attempt reconnects.  rate-limit paces whole segments (the
 * loader reads the file itself).  A database holds tables, not segment
 * files: list() and get() are refused.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <libpq-fe.h>

#include "common/log.h"
#include "common/pgutil.h"
#include "load/load.h"
#include "ship/dest_int.h"
#include "ship/ratelimit.h"

struct pg_dest {
	struct dest base;
	char what[PGA_NAME_MAX + 16];
	char *conninfo;			/* secret: wiped on close */
	char schema[128];
	struct loader *l;
};

static struct pg_dest *
to_pg(struct dest *d)
{
	return (struct pg_dest *)d;
}

/* libpq parses "port=x" happily and fails only when connecting: check it now. */
static int
check_port(const char *conninfo, struct pga_err *err)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	int rc = 0;

	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "port") != 0 || o->val == NULL)
			continue;
		if (o->val[0] == '\0' || strspn(o->val, "0123456789,") != strlen(o->val))
			rc = pga_fail(err, PGA_EINVAL, "invalid conninfo: port '%s' is not a number",
				      o->val);
	}
	PQconninfoFree(opts);
	return rc;
}

static int
pg_validate(const struct pga_dest *cfg, struct pga_err *err)
{
	if (pga_conninfo_check(cfg->url, err) < 0 || check_port(cfg->url, err) < 0)
		return err->code;
	if (cfg->schema == NULL || cfg->schema[0] == '\0')
		return pga_fail(err, PGA_EINVAL, "schema must not be empty");
	return 0;
}

static void
pg_disconnect(struct pg_dest *d)
{
	loader_close(d->l);
	d->l = NULL;
}

static void
pg_close(struct dest *dd)
{
	struct pg_dest *d = to_pg(dd);

	pg_disconnect(d);
	if (d->conninfo != NULL) {
		explicit_bzero(d->conninfo, strlen(d->conninfo));
		free(d->conninfo);
	}
	free(d);
}

static int
pg_open(struct dest **out, const struct pga_dest *cfg, struct pga_err *err)
{
	struct pg_dest *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (d == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	dest_what(cfg, d->what, sizeof(d->what));
	d->conninfo = strdup(cfg->url);
	strlcpy(d->schema, cfg->schema ? cfg->schema : "pga", sizeof(d->schema));
	if (d->conninfo == NULL) {
		pg_close(&d->base);
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	}
	*out = &d->base;
	return 0;
}

/*
 * Errors of the loader in the destination contract's terms, by SQLSTATE: a
 * lost or refused connection and transient server states (serialization,
 * insufficient resources such as a full disk, shutdown, lock timeout) are
 * retryable (and drop the connection); the rest (permissions, a missing or
 * foreign schema) is permanent.
 */
static int
classify(struct pg_dest *d, int rc, bool loading, struct pga_err *err)
{
	static const char *const transient[] = {"08", "40", "53", "57", "55P03", NULL};
	bool retry = rc == PGA_ENET || rc == PGA_ETIMEOUT;

	for (const char *const *t = transient; !retry && rc == PGA_EDB && *t; t++)
		retry = strncmp(err->sqlstate, *t, strlen(*t)) == 0;
	if (retry || rc == PGA_EDB)
		pg_disconnect(d);
	if (retry)
		return dest_err_wrap(err, PGA_ENET, d->what);
	/* the loader's I/O errors and missing files are about our own segment */
	if (rc == PGA_ENOMEM || (loading && (rc == PGA_ECONFLICT || rc == PGA_EIO ||
					     rc == PGA_ENOTFOUND)))
		return rc;
	return dest_err_wrap(err, PGA_EREMOTE, d->what);
}

static int
pg_connect(struct pg_dest *d, struct pga_err *err)
{
	struct load_opts o = {.conninfo = d->conninfo, .schema = d->schema,
			      .since = INT64_MIN, .until = INT64_MAX};
	int rc;

	if (d->l != NULL)
		return 0;
	rc = loader_open(&d->l, &o, err);
	return rc < 0 ? classify(d, rc, false, err) : 0;
}

static bool
cancel_cb(void *ctx)
{
	return dest_cancelled(ctx);
}

/* Pace whole segments through the token bucket. */
static int
pace(struct pg_dest *d, uint64_t bytes, struct pga_err *err)
{
	while (bytes > 0) {
		size_t want = bytes > (1u << 20) ? (1u << 20) : (size_t)bytes;
		int rc = ratelimit_take(d->base.rl, want, &want, cancel_cb, &d->base, err);

		if (rc < 0)
			return rc;
		bytes -= want;
	}
	return 0;
}

static int
pg_put(struct dest *dd, const struct dest_upload *up, struct pga_err *err)
{
	struct pg_dest *d = to_pg(dd);
	struct load_seg_stats st = {0};
	enum load_result res = LOAD_LOADED;
	int rc = pace(d, up->size, err);

	if (rc == 0)
		rc = pg_connect(d, err);
	if (rc < 0)
		return rc;
	rc = loader_load_file(d->l, up->name, up->path, &res, &st, err);
	if (rc < 0)
		return classify(d, rc, true, err);
	switch (res) {
	case LOAD_LOADED:
		if (st.blocks_refused > 0 || st.columns_dropped > 0)
			/* the rest committed; the refusals are recorded centrally */
			log_warn("%s: loaded '%s' in part: %llu blocks (%llu rows) refused, %llu"
				 " columns dropped (see pga status --central)", d->what, up->name,
				 (unsigned long long)st.blocks_refused,
				 (unsigned long long)st.rows_refused,
				 (unsigned long long)st.columns_dropped);
		log_debug("%s: loaded '%s' (%llu rows)", d->what, up->name, (unsigned long long)st.rows);
		return 0;
	case LOAD_DUPLICATE:
		log_debug("%s: '%s' was already loaded", d->what, up->name);
		return 0;
	case LOAD_BUSY:
		return pga_fail(err, PGA_ENET, "%s: '%s' is being loaded by another loader right now",
				d->what, up->name);
	case LOAD_HELD:
	case LOAD_FILTERED:
	default:
		return pga_fail(err, PGA_EINTERNAL, "%s: the loader filtered '%s' out", d->what,
				up->name);
	}
}

static int
pg_head(struct dest *dd, const char *name, struct dest_object *obj, struct pga_err *err)
{
	struct pg_dest *d = to_pg(dd);
	char collector[PGA_NAME_MAX + 1];
	uint64_t seq;
	int rc;

	memset(obj, 0, sizeof(*obj));
	if (seg_name_parse(name, collector, sizeof(collector), &seq, NULL) != 0)
		return pga_fail(err, PGA_EINVAL, "%s: '%s' is not a segment name", d->what, name);
	rc = pg_connect(d, err);
	if (rc < 0)
		return rc;
	rc = loader_lookup(d->l, collector, seq, obj->sha256, err);
	if (rc < 0)
		return classify(d, rc, false, err);
	obj->have_sha256 = rc == 1;
	return rc;
}

static int
pg_list(struct dest *dd, const char *prefix, dest_list_fn fn, void *ctx, struct pga_err *err)
{
	(void)prefix;
	(void)fn;
	(void)ctx;
	return pga_fail(err, PGA_EINVAL, "%s: a postgres destination holds tables, not segment files",
			to_pg(dd)->what);
}

static int
pg_get(struct dest *dd, const char *name,
       int (*sink)(void *ctx, const void *buf, size_t len, struct pga_err *err),
       void *ctx, struct pga_err *err)
{
	(void)name;
	(void)sink;
	(void)ctx;
	return pga_fail(err, PGA_EINVAL, "%s: a postgres destination holds tables, not segment files",
			to_pg(dd)->what);
}

/* Connect and check the schema (loader_open does both). */
static int
pg_check(struct dest *dd, struct pga_err *err)
{
	return pg_connect(to_pg(dd), err);
}

const struct dest_ops dest_pg_ops = {
	.kind = "postgres",
	.validate = pg_validate,
	.open = pg_open,
	.put = pg_put,
	.head = pg_head,
	.list = pg_list,
	.get = pg_get,
	.check = pg_check,
	.close = pg_close,
};
