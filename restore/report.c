/*
 * report.c - what a restore says: the progress line on a terminal, how far
 * each collector is queryable, the summary (text or JSON)
 */
#define _GNU_SOURCE
#include "restore/restore_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/jsonw.h"
#include "common/units.h"

/* ---- how far back (or up to) a collector is queryable ---- */

/* Called with r->mu held. */
static int64_t
reach_locked(struct rs_run *r, size_t coll)
{
	int64_t reach = INT64_MIN;

	for (size_t i = 0; i < r->ndays; i++) {
		const struct rs_day *d = &r->days[i];

		if (!rs_catalog_has_day(r->cat, coll, d->day))
			continue;
		if (d->state != RS_DONE)
			break;
		reach = r->o->order == RESTORE_NEWEST_FIRST ? (int64_t)d->day * RS_DAY_US
							    : (int64_t)(d->day + 1) * RS_DAY_US;
	}
	return reach;
}

int64_t
rs_collector_reach(struct rs_run *r, size_t coll)
{
	int64_t reach;

	pthread_mutex_lock(&r->mu);
	reach = reach_locked(r, coll);
	pthread_mutex_unlock(&r->mu);
	return reach;
}

static void
reach_text(int64_t us, char *buf, size_t cap)
{
	char t[40];

	pga_format_time(us, t, sizeof(t));
	/* "2026-11-12T00:00:00Z" -> "2026-11-12 00:00" */
	snprintf(buf, cap, "%.10s %.5s", t, t + 11);
}

/* The least reach over all collectors, and how many have any. */
static int64_t
overall_reach(struct rs_run *r, size_t *with)
{
	size_t nc = rs_catalog_ncollectors(r->cat);
	int64_t worst = INT64_MIN;
	bool newest = r->o->order == RESTORE_NEWEST_FIRST;

	*with = 0;
	for (size_t c = 0; c < nc; c++) {
		int64_t at = reach_locked(r, c);

		if (at == INT64_MIN)
			continue;
		(*with)++;
		if (worst == INT64_MIN || (newest ? at > worst : at < worst))
			worst = at;
	}
	return worst;
}

/* ---- the progress line ---- */

static void
eta_text(struct rs_run *r, int64_t elapsed, char *buf, size_t cap)
{
	uint64_t total = 0, done = 0;
	size_t nc = rs_catalog_ncollectors(r->cat);
	char d[16];

	/* a day weighs as many collectors as it has */
	for (size_t i = 0; i < r->ndays; i++)
		for (size_t c = 0; c < nc; c++)
			if (rs_catalog_has_day(r->cat, c, r->days[i].day)) {
				total++;
				done += r->days[i].state == RS_DONE;
			}
	buf[0] = '\0';
	if (done == 0 || done >= total)
		return;
	pga_format_duration((int64_t)((double)elapsed / (double)done * (double)(total - done)), d,
			    sizeof(d));
	snprintf(buf, cap, "  ETA %s", d);
}

void
rs_progress_line(void *run, bool final)
{
	struct rs_run *r = run;
	int64_t el = pga_mono_us() - r->start_us, reach;
	double secs = el > 0 ? (double)el / 1e6 : 1e-6;
	char size[16], when[80] = "", eta[32] = "";
	size_t with = 0, nc = rs_catalog_ncollectors(r->cat);
	struct rs_totals t;
	uint64_t days;

	pthread_mutex_lock(&r->mu);
	t = r->t;
	days = r->t.days_done;
	reach = overall_reach(r, &with);
	if (!final)
		eta_text(r, el, eta, sizeof(eta));
	pthread_mutex_unlock(&r->mu);
	pga_format_size(t.bytes, size, sizeof(size));
	if (reach != INT64_MIN) {
		char at[24];

		reach_text(reach, at, sizeof(at));
		snprintf(when, sizeof(when), "  %s %s (%zu/%zu)",
			 r->o->order == RESTORE_NEWEST_FIRST ? "queryable back to" : "restored up to",
			 at, with, nc);
	}
	fprintf(stderr, "\r\033[K%" PRIu64 "/%zu days  %" PRIu64 " segments  %" PRIu64 " rows  %s"
		"  %.1fk rows/s%s%s", days, r->ndays, t.segments, t.rows, size,
		(double)t.rows / 1e3 / secs, when, eta);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* ---- the summary ---- */

void
rs_summary(struct rs_run *r, FILE *out)
{
	const struct rs_totals *t = &r->t;
	double secs = (double)t->elapsed_us / 1e6;
	char size[16], at[24];
	size_t with = 0, nc = rs_catalog_ncollectors(r->cat);
	int64_t reach;

	pthread_mutex_lock(&r->mu);
	reach = overall_reach(r, &with);
	pthread_mutex_unlock(&r->mu);
	pga_format_size(t->bytes, size, sizeof(size));
	fprintf(out, "restored %" PRIu64 " of %" PRIu64 " segments (%" PRIu64 " already loaded, %"
		PRIu64 " filtered, %" PRIu64 " refused): %" PRIu64 " rows, %s in %.2fs (%.1fk rows/s);"
		" %" PRIu64 " of %zu days %s", t->loaded, t->segments, t->duplicate, t->filtered,
		t->refused, t->rows, size, secs, secs > 0 ? (double)t->rows / 1e3 / secs : 0.0,
		t->days_done, r->ndays,
		r->o->order == RESTORE_NEWEST_FIRST ? "newest first" : "oldest first");
	if (reach != INT64_MIN) {
		reach_text(reach, at, sizeof(at));
		fprintf(out, ", %s %s for %zu of %zu collectors",
			r->o->order == RESTORE_NEWEST_FIRST ? "queryable back to" : "restored up to",
			at, with, nc);
	}
	if (t->already_segments > 0)
		fprintf(out, "; %" PRIu64 " segments were there before", t->already_segments);
	if (t->deferred > 0)
		fprintf(out, ", %" PRIu64 " loaded segment by segment", t->deferred);
	if (t->held > 0)
		fprintf(out, ", %" PRIu64 " held centrally as forks", t->held);
	if (t->blocks_refused > 0)
		fprintf(out, ", %" PRIu64 " blocks refused (%" PRIu64 " rows)", t->blocks_refused,
			t->rows_refused);
	if (t->columns_dropped > 0)
		fprintf(out, ", %" PRIu64 " unknown columns dropped", t->columns_dropped);
	if (t->failed > 0)
		fprintf(out, ", %" PRIu64 " could not be read", t->failed);
	if (r->wal_level[0] != '\0')
		fprintf(out, "; wal_level %s", r->wal_level);
	fputc('\n', out);
}

static void
json_days(struct rs_run *r, struct jsonw *jw)
{
	jsonw_key(jw, "days");
	jsonw_arr_open(jw);
	for (size_t i = 0; i < r->ndays; i++) {
		const struct rs_day *d = &r->days[i];
		char day[16];

		rs_day_text(d->day, day, sizeof(day));
		jsonw_obj_open(jw);
		jsonw_key(jw, "day");
		jsonw_str(jw, day);
		jsonw_key(jw, "segments");
		jsonw_u64(jw, d->segments);
		jsonw_key(jw, "rows");
		jsonw_u64(jw, d->rows);
		jsonw_key(jw, "queryable_us");
		if (d->state == RS_DONE)
			jsonw_i64(jw, d->queryable_us);
		else
			jsonw_null(jw);
		jsonw_obj_close(jw);
	}
	jsonw_arr_close(jw);
}

static void
json_collectors(struct rs_run *r, struct jsonw *jw)
{
	size_t nc = rs_catalog_ncollectors(r->cat);

	jsonw_key(jw, "collectors");
	jsonw_arr_open(jw);
	for (size_t c = 0; c < nc; c++) {
		int64_t at = rs_collector_reach(r, c);

		jsonw_obj_open(jw);
		jsonw_key(jw, "collector");
		jsonw_str(jw, rs_catalog_collector(r->cat, c));
		jsonw_key(jw, r->o->order == RESTORE_NEWEST_FIRST ? "queryable_back_to"
								   : "restored_up_to");
		if (at == INT64_MIN)
			jsonw_null(jw);
		else
			jsonw_time(jw, at);
		jsonw_obj_close(jw);
	}
	jsonw_arr_close(jw);
}

void
rs_summary_json(struct rs_run *r, FILE *out)
{
	const struct rs_totals *t = &r->t;
	struct jsonw jw;
	uint64_t now = 0, peak = 0;

	if (r->fetch != NULL)
		rs_fetch_usage(r->fetch, &now, &peak);
	jsonw_init(&jw, out);
	jsonw_obj_open(&jw);
	jsonw_key(&jw, "order");
	jsonw_str(&jw, r->o->order == RESTORE_NEWEST_FIRST ? "newest-first" : "oldest-first");
	jsonw_key(&jw, "wal_level");
	jsonw_str(&jw, r->wal_level);
#define U(k, v) do { jsonw_key(&jw, k); jsonw_u64(&jw, v); } while (0)
	U("already_segments", t->already_segments);
	U("already_rows", t->already_rows);
	U("segments", t->segments);
	U("loaded", t->loaded);
	U("duplicate", t->duplicate);
	U("filtered", t->filtered);
	U("refused", t->refused);
	U("held", t->held);
	U("failed", t->failed);
	U("per_segment", t->deferred);
	U("partial", t->partial);
	U("rows", t->rows);
	U("bytes", t->bytes);
	U("segment_bytes", t->seg_bytes);
	U("blocks_refused", t->blocks_refused);
	U("rows_refused", t->rows_refused);
	U("columns_dropped", t->columns_dropped);
	U("days_total", r->ndays);
	U("days_done", t->days_done);
	U("tables_attached", t->tables_attached);
	U("day_retries", t->retries);
	U("prefetch_peak_bytes", peak);
#undef U
	jsonw_key(&jw, "elapsed_seconds");
	jsonw_seconds(&jw, t->elapsed_us);
	json_days(r, &jw);
	json_collectors(r, &jw);
	load_errors_json(&r->errors, &jw);
	jsonw_obj_close(&jw);
	jsonw_end(&jw);
}
