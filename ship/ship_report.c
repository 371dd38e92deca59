/*
 * The shipper's reports: delivery status for `pga status`, destination
 * checks for `pga check`; see ship.h.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "common/log.h"
#include "common/pgutil.h"
#include "common/units.h"
#include "ship/dest.h"
#include "ship/ship.h"
#include "ship/ship_int.h"
#include "spool/spool.h"

struct pending {
	uint64_t segments, bytes;
	int64_t oldest_us;	/* creation time of the oldest pending, 0 if none */
};

/* A url fit for display: a postgres url's password is masked. */
static void
display_url(const struct pga_dest *d, char *buf, size_t cap)
{
	const struct dest_ops *ops;
	struct pga_err err = {0};

	if (dest_lookup(d->url, &ops, &err) == 0 && strcmp(ops->kind, "postgres") == 0)
		pga_conninfo_redact(d->url, buf, cap);
	else if (ops != NULL)
		strlcpy(buf, d->url, cap);
	else
		strlcpy(buf, "(invalid url)", cap);
}

static void
count_pending(const char *root, const struct pga_dest *d, const struct spool_list *ready,
	      struct pending *p)
{
	struct ship_ack ack;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < ready->n; i++) {
		const struct spool_entry *e = &ready->v[i];

		if (ship_ack_read(root, d->name, e->name, &ack))
			continue;
		p->segments++;
		p->bytes += e->size;
		if (p->oldest_us == 0 || e->created_us < p->oldest_us)
			p->oldest_us = e->created_us;
	}
}

static void
status_json(struct jsonw *jw, const struct pga_dest *d, const struct pending *p,
	    const struct ship_dest_state *st, int64_t now)
{
	char url[1024];

	display_url(d, url, sizeof(url));
	jsonw_obj_open(jw);
	jsonw_key(jw, "name"); jsonw_str(jw, d->name);
	jsonw_key(jw, "url"); jsonw_str(jw, url);
	jsonw_key(jw, "enabled"); jsonw_bool(jw, d->enabled);
	jsonw_key(jw, "pending_segments");
	if (d->enabled)
		jsonw_u64(jw, p->segments);
	else
		jsonw_null(jw);	/* not shipped to: it holds nothing back */
	jsonw_key(jw, "pending_bytes");
	if (d->enabled)
		jsonw_u64(jw, p->bytes);
	else
		jsonw_null(jw);
	jsonw_key(jw, "oldest_pending"); jsonw_time(jw, p->oldest_us);
	jsonw_key(jw, "oldest_pending_age_seconds");
	if (p->oldest_us != 0)
		jsonw_seconds(jw, now - p->oldest_us);
	else
		jsonw_null(jw);
	jsonw_key(jw, "delivered_segments"); jsonw_u64(jw, st->delivered);
	jsonw_key(jw, "delivered_bytes"); jsonw_u64(jw, st->bytes);
	jsonw_key(jw, "failed_attempts"); jsonw_u64(jw, st->errors);
	jsonw_key(jw, "last_success"); jsonw_time(jw, st->last_success_us);
	jsonw_key(jw, "last_error_time"); jsonw_time(jw, st->last_error_us);
	jsonw_key(jw, "last_error");
	jsonw_str(jw, st->last_error[0] ? st->last_error : NULL);
	jsonw_key(jw, "failing_since");
	jsonw_time(jw, st->last_error_us > st->last_success_us ? st->failing_since_us : 0);
	jsonw_key(jw, "stopped"); jsonw_bool(jw, st->stopped);
	jsonw_key(jw, "failing");
	jsonw_bool(jw, st->stopped || st->last_error_us > st->last_success_us);
	jsonw_obj_close(jw);
}

static void
print_when(FILE *out, const char *label, int64_t us, int64_t now)
{
	char t[40], ago[16];

	if (us == 0) {
		fprintf(out, "  %-14s never\n", label);
		return;
	}
	pga_format_time(us, t, sizeof(t));
	pga_format_duration(now > us ? now - us : 0, ago, sizeof(ago));
	fprintf(out, "  %-14s %s (%s ago)\n", label, t, ago);
}

static void
status_text(FILE *out, const struct pga_dest *d, const struct pending *p,
	    const struct ship_dest_state *st, int64_t now)
{
	char url[1024], size[16], age[16];

	display_url(d, url, sizeof(url));
	fprintf(out, "destination '%s' (%s)%s\n", d->name, url,
		d->enabled ? "" : ": disabled, not shipped to, holds nothing back");
	if (!d->enabled)
		return;
	pga_format_size(p->bytes, size, sizeof(size));
	if (p->segments > 0) {
		pga_format_duration(now - p->oldest_us, age, sizeof(age));
		fprintf(out, "  %-14s %" PRIu64 " segments, %s, oldest %s\n", "pending:",
			p->segments, size, age);
	} else {
		fprintf(out, "  %-14s none\n", "pending:");
	}
	pga_format_size(st->bytes, size, sizeof(size));
	fprintf(out, "  %-14s %" PRIu64 " segments, %s, %" PRIu64 " failed attempts\n",
		"delivered:", st->delivered, size, st->errors);
	print_when(out, "last success:", st->last_success_us, now);
	print_when(out, "last error:", st->last_error_us, now);
	if (st->failing_since_us != 0 && st->last_error_us > st->last_success_us)
		print_when(out, "failing since:", st->failing_since_us, now);
	if (st->last_error[0])
		fprintf(out, "  %-14s %s%s\n", "", st->last_error,
			st->stopped ? " (stopped until pga ship restarts)" : "");
}

int
ship_status(struct pga_ctx *ctx, const char *spool, struct jsonw *jw, FILE *out,
	    struct pga_err *err)
{
	const struct pga_config *cfg = ctx->cfg;
	struct spool_list ready = {0};
	struct spool *sp = NULL;
	char root[PATH_MAX];
	int64_t now = pga_now_us();
	int rc, attention = 0;

	if (spool == NULL)
		spool = cfg->global.spool_path;
	rc = spool_open(&sp, spool, err);
	if (rc == 0)
		rc = spool_part_dir(sp, SHIP_DIR, root, sizeof(root), err);
	if (rc == 0)
		rc = spool_list_ready(sp, &ready, err);
	if (rc < 0)
		goto out;
	if (jw != NULL)
		jsonw_arr_open(jw);
	else if (cfg->ndests == 0)
		fprintf(out, "no destinations configured\n");
	for (size_t i = 0; i < cfg->ndests; i++) {
		const struct pga_dest *d = &cfg->dests[i];
		struct ship_dest_state st;
		struct pending p;
		struct pga_err serr = {0};

		count_pending(root, d, &ready, &p);
		if (ship_state_read(root, d->name, &st, &serr) < 0)
			log_warn("destination '%s': %s", d->name, serr.msg);
		if (d->enabled && (st.stopped || st.last_error_us > st.last_success_us))
			attention++;
		if (jw != NULL)
			status_json(jw, d, &p, &st, now);
		else
			status_text(out, d, &p, &st, now);
	}
	if (jw != NULL)
		jsonw_arr_close(jw);
out:
	spool_list_free(&ready);
	if (sp != NULL)
		spool_free(sp);
	return rc < 0 ? rc : attention;
}

int
ship_report(const struct pga_config *cfg, const char *spool,
	    struct ship_dest_report **out, size_t *n, struct pga_err *err)
{
	struct spool_list ready = {0};
	struct ship_dest_report *v = NULL;
	struct spool *sp = NULL;
	char root[PATH_MAX];
	int rc;

	*out = NULL;
	*n = 0;
	rc = spool_open(&sp, spool != NULL ? spool : cfg->global.spool_path, err);
	if (rc == 0)
		rc = spool_part_dir(sp, SHIP_DIR, root, sizeof(root), err);
	if (rc == 0)
		rc = spool_list_ready(sp, &ready, err);
	if (rc == 0 && (v = calloc(cfg->ndests ? cfg->ndests : 1, sizeof(*v))) == NULL)
		rc = pga_fail(err, PGA_ENOMEM, "out of memory");
	for (size_t i = 0; rc == 0 && i < cfg->ndests; i++) {
		struct ship_dest_report *r = &v[i];
		struct ship_dest_state st;
		struct pending p;
		struct pga_err serr = {0};

		r->dest = &cfg->dests[i];
		count_pending(root, r->dest, &ready, &p);
		if (ship_state_read(root, r->dest->name, &st, &serr) < 0)
			log_warn("destination '%s': %s", r->dest->name, serr.msg);
		r->pending_segments = p.segments;
		r->pending_bytes = p.bytes;
		r->oldest_pending_us = p.oldest_us;
		r->delivered = st.delivered;
		r->delivered_bytes = st.bytes;
		r->failed_attempts = st.errors;
		r->last_success_us = st.last_success_us;
		r->last_error_us = st.last_error_us;
		r->failing_since_us = st.failing_since_us;
		r->stopped = st.stopped;
		r->failing = st.stopped || st.last_error_us > st.last_success_us;
		if (r->failing && r->failing_since_us == 0)	/* a state file from before */
			r->failing_since_us = st.last_error_us;
		strlcpy(r->last_error, st.last_error, sizeof(r->last_error));
	}
	spool_list_free(&ready);
	if (sp != NULL)
		spool_free(sp);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*n = cfg->ndests;
	return 0;
}

/* ---- pga check ---- */

static int
check_one(const struct pga_dest *d, struct pga_err *err)
{
	struct dest *dst = NULL;
	int rc = dest_open(&dst, d, err);

	if (rc == 0) {
		rc = dst->ops->check(dst, err);
		if (rc < 0)
			pga_err_prefix(err, "[dest:%s]", d->name);
	}
	dest_close(dst);
	return rc;
}

int
ship_check_destinations(struct pga_ctx *ctx, struct jsonw *jw, FILE *out,
			int *failures, struct pga_err *err)
{
	const struct pga_config *cfg = ctx->cfg;

	(void)err;
	*failures = 0;
	if (jw != NULL)
		jsonw_arr_open(jw);
	for (size_t i = 0; i < cfg->ndests; i++) {
		const struct pga_dest *d = &cfg->dests[i];
		struct pga_err cerr = {0};
		char url[1024];
		int rc = 0;

		if (!d->enabled)
			continue;
		display_url(d, url, sizeof(url));
		rc = check_one(d, &cerr);
		if (rc < 0)
			(*failures)++;
		if (jw != NULL) {
			jsonw_obj_open(jw);
			jsonw_key(jw, "name"); jsonw_str(jw, d->name);
			jsonw_key(jw, "url"); jsonw_str(jw, url);
			jsonw_key(jw, "ok"); jsonw_bool(jw, rc == 0);
			jsonw_key(jw, "error"); jsonw_str(jw, rc == 0 ? NULL : cerr.msg);
			jsonw_obj_close(jw);
		} else if (rc == 0) {
			fprintf(out, "ok    destination '%s' (%s)\n", d->name, url);
		} else {
			fprintf(out, "FAIL  destination '%s': %s\n", d->name, cerr.msg);
		}
	}
	if (jw != NULL)
		jsonw_arr_close(jw);
	return 0;
}
