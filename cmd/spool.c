/* `pga spool put|ls|verify|cat|pack` */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "cmd/cmd.h"
#include "collect/catalog.h"
#include "common/cli.h"
#include "common/fsutil.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/units.h"
#include "common/utf8.h"
#include "spool/history.h"
#include "spool/pack.h"
#include "spool/source.h"
#include "spool/spool.h"

#define PUT_BUF (128 * 1024)

/* What the subcommands read of the command line and the configuration. */
struct spool_args {
	const char *spool;
	const char *metric, *columns, *target, *database, *time, *out;
	const char *since, *until;
	const char *public_key;		/* verify: check signatures with it */
	long long block;		/* -1: every block */
	bool json, raw, no_manifest;
};

static void
get_args(struct spool_args *a, const struct pga_config *cfg)
{
	const struct pga_args *g = &cfg->args;

	*a = (struct spool_args){.spool = cfg->global.spool_path, .metric = g->metric,
				 .columns = g->columns, .target = g->put_target,
				 .database = g->database, .time = g->time, .out = g->output,
				 .since = g->since, .until = g->until, .json = g->json,
				 .raw = g->raw, .no_manifest = g->no_manifest,
				 .public_key = g->public_key,
				 .block = pga_config_given(cfg, "block") ? g->block : -1};
}

/* ---- put ---- */

/*
 * put refuses what the loader could never load, with one line: a block it
 * writes must load whole.  Rules of the format (names, columns, CSV) are
 * spool/'s; a metric of pga's own catalog keeps the catalog's columns.
 */
struct put_meta {
	struct seg_block_meta m;
	char colbuf[SEG_MAX_COLS * 48];
	const char *cols[SEG_MAX_COLS];
	struct seg_col_desc desc[SEG_MAX_COLS];
	bool typed;			/* a column was given a type or role */
};

/*
 * NAME[:TYPE[:ROLE]]: the type from the format's closed list, the role
 * key, counter, gauge, reset or info (text); defaults text and info.  A
 * block with no type or role at all is written without descriptors (the
 * loader takes new columns as text, and whatever type a central table
 * already has).
 */
static int
split_desc(char *item, struct put_meta *pm, struct pga_err *err)
{
	struct seg_col_desc *d = &pm->desc[pm->m.ncols];
	char *type = strchr(item, ':'), *role = NULL, esc[96], vesc[96];

	d->type = "text";
	d->role = SEG_ROLE_INFO;
	if (type == NULL)
		return 0;
	*type++ = '\0';
	pm->typed = true;
	role = strchr(type, ':');
	if (role != NULL)
		*role++ = '\0';
	if (*type != '\0' && !seg_col_type_valid(type))
		return pga_fail(err, PGA_EINVAL, "column '%s': unknown type '%s' (bigint, integer,"
				" smallint, numeric, real, double precision, boolean, text,"
				" timestamptz, date, interval, oid, pg_lsn, inet, jsonb, bytea, uuid,"
				" or one of them with [])", utf8_text(item, esc, sizeof(esc)),
				utf8_text(type, vesc, sizeof(vesc)));
	if (*type != '\0')
		d->type = type;
	if (role != NULL && seg_col_role_parse(role, &d->role) < 0)
		return pga_fail(err, PGA_EINVAL, "column '%s': unknown role '%s' (key, counter,"
				" gauge, reset or info)", utf8_text(item, esc, sizeof(esc)),
				utf8_text(role, vesc, sizeof(vesc)));
	return 0;
}

/* Split --columns on commas; an empty name (a,,b or a trailing comma) is refused. */
static int
split_columns(const char *list, struct put_meta *pm, struct pga_err *err)
{
	char *p = pm->colbuf, esc[96];

	if (strlcpy(pm->colbuf, list, sizeof(pm->colbuf)) >= sizeof(pm->colbuf))
		return pga_fail(err, PGA_EINVAL, "column list too long");
	for (;;) {
		char *comma = strchr(p, ',');

		if (comma != NULL)
			*comma = '\0';
		if (pm->m.ncols == SEG_MAX_COLS)
			return pga_fail(err, PGA_EINVAL, "more than %d columns", SEG_MAX_COLS);
		if (split_desc(p, pm, err) < 0)
			return err->code;
		if (*p == '\0')
			return pga_fail(err, PGA_EINVAL, "empty column name (column %u of '%s')",
					pm->m.ncols + 1, utf8_text(list, esc, sizeof(esc)));
		if (!seg_column_valid(p))
			return pga_fail(err, PGA_EINVAL, "invalid column name '%s' (use letters, digits"
					" and _, not a system column or collector_id, server_id,"
					" snapshot_time, dbname)", utf8_text(p, esc, sizeof(esc)));
		for (uint16_t i = 0; i < pm->m.ncols; i++)
			if (strcmp(pm->cols[i], p) == 0)
				return pga_fail(err, PGA_EINVAL, "column '%s' is named twice", p);
		pm->cols[pm->m.ncols++] = p;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/*
 * 1 when metric is one of the catalog's and cols are exactly its columns
 * (any order), 0 when it is not one of them, PGA_EINVAL when it is but the
 * columns differ (put refuses a column named twice before this).
 */
static int
catalog_columns(const char *metric, const char *const *cols, uint16_t ncols,
		struct pga_err *err)
{
	const struct metric_def *m = catalog_find(metric);

	if (m == NULL)
		return 0;
	for (uint16_t i = 0; ncols == m->ncols && i < ncols; i++) {
		size_t j = 0;

		while (j < m->ncols && strcmp(cols[i], m->cols[j].name) != 0)
			j++;
		if (j == m->ncols)
			break;
		if (i + 1 == ncols)
			return 1;
	}
	return pga_fail(err, PGA_EINVAL, "metric '%s' is pga's own: --columns must be its %zu"
			" columns ('pga help metrics' lists them); put other data under another"
			" name", metric, m->ncols);
}

static int
check_metric(const struct put_meta *pm, struct pga_err *err)
{
	int known = catalog_columns(pm->m.metric, pm->cols, pm->m.ncols, err);

	if (known < 0)
		return known;
	if (known == 0 && seg_metric_reserved(pm->m.metric))
		return pga_fail(err, PGA_EINVAL, "metric name '%s' is reserved for the central"
				" schema's own tables", pm->m.metric);
	return 0;
}

static int
build_put_meta(const struct spool_args *a, struct put_meta *pm, struct pga_err *err)
{
	int64_t t = pga_now_us();
	char esc[96];
	int rc;

	memset(pm, 0, sizeof(*pm));
	if (a->time != NULL && pga_parse_time(a->time, pga_now_us(), &t, err) < 0)
		return err->code;
	if (strlcpy(pm->m.metric, a->metric, sizeof(pm->m.metric)) >= sizeof(pm->m.metric) ||
	    !seg_metric_valid(pm->m.metric))
		return pga_fail(err, PGA_EINVAL,
				"invalid metric name '%s' (use a-z, 0-9 and _, starting with a letter)",
				utf8_text(a->metric, esc, sizeof(esc)));
	rc = split_columns(a->columns, pm, err);
	if (rc == 0)
		rc = check_metric(pm, err);
	if (rc < 0)
		return rc;
	if (a->target && (strlcpy(pm->m.target, a->target, sizeof(pm->m.target)) >=
			  sizeof(pm->m.target) || !seg_text_valid(a->target)))
		return pga_fail(err, PGA_EINVAL, "invalid target name '%s' (UTF-8 text, at most %zu"
				" bytes)", utf8_text(a->target, esc, sizeof(esc)),
				sizeof(pm->m.target) - 1);
	if (a->database && (strlcpy(pm->m.database, a->database, sizeof(pm->m.database)) >=
			    sizeof(pm->m.database) || !seg_text_valid(a->database)))
		return pga_fail(err, PGA_EINVAL, "invalid database name '%s' (UTF-8 text, at most"
				" %zu bytes)", utf8_text(a->database, esc, sizeof(esc)),
				sizeof(pm->m.database) - 1);
	pm->m.flags = a->database ? SEG_BLOCK_PER_DATABASE : 0;
	pm->m.cols = pm->cols;
	pm->m.desc = pm->typed ? pm->desc : NULL;
	pm->m.snapshot_us = t;
	return 0;
}

/* A refusal of the data: one line, and nothing of the block is kept. */
static int
data_refused(struct pga_err *err)
{
	return pga_fail(err, PGA_EINVAL, "standard input: %s: block not written", err->msg);
}

static int
stream_stdin(struct spool_stream *s, uint16_t ncols, struct pga_err *err)
{
	struct seg_csv_check check;
	char *buf = malloc(PUT_BUF);
	int rc = 0;

	if (buf == NULL)
		return pga_fail(err, PGA_ENOMEM, "out of memory");
	seg_csv_check_init(&check, ncols);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, PUT_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pga_fail(err, PGA_EIO, "could not read standard input: %m");
			break;
		}
		if (n == 0)
			break;
		rc = seg_csv_check_feed(&check, buf, (size_t)n, err);
		if (rc < 0) {
			rc = data_refused(err);
			break;
		}
		rc = spool_stream_write(s, buf, (size_t)n, err);
		if (rc < 0)
			break;
	}
	free(buf);
	if (rc == 0 && spool_stream_in_quotes(s))
		rc = pga_fail(err, PGA_EINVAL,
			      "standard input ends inside a quoted CSV field: block not written");
	if (rc == 0 && seg_csv_check_end(&check, err) < 0)
		rc = data_refused(err);
	return rc;
}

static int
spool_put(const struct spool_args *a, struct pga_ctx *ctx)
{
	struct spool_opts o;
	struct spool *sp = NULL;
	struct spool_stream *s = NULL;
	struct put_meta pm;
	struct pga_err err = {0};
	uint64_t rows = 0;
	int rc;

	rc = build_put_meta(a, &pm, &err);
	if (rc < 0)
		return pga_cli_error(&err);
	spool_opts_from_config(&o, ctx->cfg);
	cmd_spool_where(&o, (const struct pga_config *const *)&ctx->cfg);
	rc = spool_open_writer(&sp, a->spool, &o, &err);
	if (rc == 0)
		rc = spool_stream_new(sp, SPOOL_STREAM_DIRECT | SPOOL_STREAM_THREADED, &s, &err);
	if (rc == 0)
		rc = spool_stream_begin(s, &pm.m, &err);
	if (rc == 0)
		rc = stream_stdin(s, pm.m.ncols, &err);
	if (rc == 0)
		rc = spool_stream_commit(s, &rows, &err);
	spool_stream_free(s);	/* aborts the block if it was not committed */
	if (sp != NULL) {
		struct pga_err cerr = {0};
		int crc = spool_close(sp, &cerr);	/* seals: a clean exit leaves nothing open */

		if (rc == 0 && crc < 0) {
			rc = crc;
			err = cerr;
		}
	}
	if (rc < 0)
		return pga_cli_error(&err);
	log_info("wrote block '%s': %" PRIu64 " rows", pm.m.metric, rows);
	return PGA_EXIT_OK;
}

/* ---- ls ---- */

static void
print_counters(const struct cmd_counters *c, struct jsonw *jw)
{
	if (jw != NULL) {
		jsonw_key(jw, "counters");
		jsonw_obj_open(jw);
	} else {
		printf("\ncounters:\n");
	}
	for (size_t s = 0; s < CMD_COUNTER_SETS; s++)
		for (size_t i = 0; i < cmd_counter_sets[s]->n; i++) {
			const char *name = cmd_counter_sets[s]->names[i];

			if (jw != NULL) {
				jsonw_key(jw, name);
				jsonw_u64(jw, c->v[s].v[i]);
			} else {
				printf("  %-22s %" PRIu64 "\n", name, c->v[s].v[i]);
			}
		}
	if (jw != NULL)
		jsonw_obj_close(jw);
}

static void
print_segment(struct spool *sp, const struct spool_entry *e, const char *state,
	      struct jsonw *jw)
{
	struct seg_info info;
	struct pga_err err = {0};
	char path[PATH_MAX], from[40] = "-", to[40] = "-", size[16];
	bool ok;

	if (strcmp(state, "quarantined") == 0)
		spool_quarantine_path(sp, e->name, path, sizeof(path), NULL);
	else
		spool_ready_path(sp, e->name, path, sizeof(path), NULL);
	ok = seg_peek_file(path, &info, &err) == 0;
	if (ok) {
		pga_format_time(info.min_snapshot_us, from, sizeof(from));
		pga_format_time(info.max_snapshot_us, to, sizeof(to));
	}
	if (jw != NULL) {
		jsonw_obj_open(jw);
		jsonw_key(jw, "name"); jsonw_str(jw, e->name);
		jsonw_key(jw, "state"); jsonw_str(jw, state);
		jsonw_key(jw, "size"); jsonw_u64(jw, e->size);
		jsonw_key(jw, "blocks"); jsonw_u64(jw, ok ? info.nblocks : 0);
		jsonw_key(jw, "rows"); jsonw_u64(jw, ok ? info.rows : 0);
		jsonw_key(jw, "from"); jsonw_time(jw, ok ? info.min_snapshot_us : 0);
		jsonw_key(jw, "to"); jsonw_time(jw, ok ? info.max_snapshot_us : 0);
		jsonw_key(jw, "recovered");
		jsonw_bool(jw, ok && (info.flags & SEG_FOOTER_RECOVERED));
		if (!ok) {
			jsonw_key(jw, "error");
			jsonw_str(jw, err.msg);
		}
		jsonw_obj_close(jw);
		return;
	}
	pga_format_size(e->size, size, sizeof(size));
	printf("%-11s %-62s %7s %6u %9" PRIu64 "  %s .. %s%s%s%s\n", state, e->name, size,
	       ok ? info.nblocks : 0, ok ? info.rows : 0, from, to,
	       ok && (info.flags & SEG_FOOTER_RECOVERED) ? " (recovered)" : "",
	       ok ? "" : "  unreadable: ", ok ? "" : err.msg);
}

/* An open segment: a part file, not named like a segment. */
static int
print_open(void *ctx, const char *name, uint64_t size)
{
	struct jsonw *jw = ctx;

	if (jw == NULL) {
		printf("%-11s %-62s %7" PRIu64 "\n", "open", name, size);
		return 0;
	}
	jsonw_obj_open(jw);
	jsonw_key(jw, "name");
	jsonw_str(jw, name);
	jsonw_key(jw, "state");
	jsonw_str(jw, "open");
	jsonw_key(jw, "size");
	jsonw_u64(jw, size);
	jsonw_obj_close(jw);
	return 0;
}

static int
spool_ls(const struct spool_args *a, struct pga_ctx *ctx)
{
	struct spool *sp = NULL;
	struct spool_list ready = {0}, quar = {0};
	struct cmd_counters c;
	struct pga_err err = {0};
	struct jsonw jw, *j = a->json ? &jw : NULL;
	uint64_t usage = 0;
	int rc;

	rc = spool_open(&sp, a->spool, &err);
	if (rc == 0)
		rc = spool_list_ready(sp, &ready, &err);
	if (rc == 0)
		rc = spool_list_quarantine(sp, &quar, &err);
	if (rc == 0)
		rc = cmd_counters_read(sp, &c, &err);
	if (rc == 0)
		rc = spool_usage(sp, &usage, &err);
	if (rc < 0)
		goto out;
	if (j != NULL) {
		jsonw_init(j, stdout);
		jsonw_obj_open(j);
		jsonw_key(j, "spool"); jsonw_str(j, a->spool);
		jsonw_key(j, "usage"); jsonw_u64(j, usage);
		jsonw_key(j, "spool_max"); jsonw_u64(j, ctx->cfg->global.spool_max);
		jsonw_key(j, "segments");
		jsonw_arr_open(j);
	} else {
		char u[16], m[16];

		pga_format_size(usage, u, sizeof(u));
		pga_format_size(ctx->cfg->global.spool_max, m, sizeof(m));
		printf("spool %s: %zu sealed, %zu quarantined, %s used of %s\n\n", a->spool,
		       ready.n, quar.n, u, m);
		printf("%-11s %-62s %7s %6s %9s  %s\n", "STATE", "SEGMENT", "SIZE", "BLOCKS",
		       "ROWS", "SNAPSHOTS");
	}
	for (size_t i = 0; i < ready.n; i++)
		print_segment(sp, &ready.v[i], "sealed", j);
	spool_list_open(sp, print_open, j, NULL);
	for (size_t i = 0; i < quar.n; i++)
		print_segment(sp, &quar.v[i], "quarantined", j);
	if (j != NULL)
		jsonw_arr_close(j);
	print_counters(&c, j);
	if (j != NULL) {
		jsonw_obj_close(j);
		jsonw_end(j);
	}
out:
	spool_list_free(&ready);
	spool_list_free(&quar);
	spool_free(sp);
	return rc < 0 ? pga_cli_error(&err) : PGA_EXIT_OK;
}

/* ---- verify ---- */

/*
 * Each segment is verified on its own as it comes, then the history of
 * every collector is checked across all of them (spool/history.h): a gap
 * fails the verification of directories and archives, which should hold a
 * whole history; in a spool segments leave as they are shipped, so there a
 * gap is only a note.
 */
struct verify_run {
	struct spool *sp;		/* the spool verified, for quarantine */
	struct seg_history *hist;
	struct pga_pubkey *pub;		/* --public-key: every segment signed by it */
	struct seg_source_opts opts;
	size_t count;
	int bad;			/* segments and sources that failed */
	bool spool_mode;
};

/* Report one verified (or failed) segment; quarantine it when it is ours. */
static int
verify_report(struct spool *sp, const char *name, int rc, const struct seg_info *info,
	      const struct pga_err *err)
{
	if (rc == 0) {
		char kid[17];

		printf("ok       %s (%u blocks, %" PRIu64 " rows%s%s%s)\n", name, info->nblocks,
		       info->rows, info->is_signed ? ", signed by key " : ", unsigned",
		       info->is_signed ? seg_keyid_short(info->sig.key_id, kid) : "",
		       !seg_header_encrypted(&info->header) ? "" :
		       info->decrypted ? ", encrypted: decrypted and authenticated" :
		       ", encrypted: not decrypted (no decrypt-key-file)");
		return 0;
	}
	printf("FAILED   %s [%s]\n", err->msg, pga_err_name(rc));
	/* no key that decrypts it is a question of the keys given, not damage */
	if (sp != NULL && rc != PGA_ECHAIN && rc != PGA_EIO && rc != PGA_ENOTFOUND &&
	    rc != PGA_EKEY) {
		struct pga_err qerr = {0};

		if (spool_quarantine(sp, name, err->msg, &qerr) < 0)
			log_err(&qerr);
	}
	return rc;
}

static int
verify_item(struct verify_run *v, struct spool *sp, const struct seg_item *item)
{
	struct seg_info info;
	struct pga_err err = {0};
	int rc = seg_verify_stream(item->read, item->ctx, item->path ? item->path : item->name,
				   &info, &err);

	if (rc == 0 && seg_history_add(v->hist, &info.header, info.file_sha256, item->name,
				       &err) < 0)
		rc = err.code;
	/* a signature by another key is a question of the key given, not a
	 * damaged segment: reported, never quarantined */
	if (rc == 0 && v->pub != NULL &&
	    (rc = seg_signature_check(&info, v->pub, item->name, &err)) < 0)
		sp = NULL;
	return verify_report(sp, item->name, rc, &info, &err);
}

/* Verify every segment of a source (spool, tree, tar or file). */
static void
verify_source(struct verify_run *v, struct spool *sp, const char *path)
{
	struct seg_source *src = NULL;
	struct seg_item item;
	struct pga_err err = {0};
	int rc = seg_source_open_opts(&src, path, &v->opts, &err);

	if (rc == 0 && seg_source_is_spool(src))
		v->spool_mode = true;
	while (rc == 0 && (rc = seg_source_next(src, &item, &err)) == 1) {
		v->count++;
		v->bad += verify_item(v, sp, &item) < 0;
		rc = 0;
	}
	seg_source_free(src);
	if (rc < 0) {
		printf("FAILED   %s [%s]\n", err.msg, pga_err_name(rc));
		v->bad++;
	}
}

static void
print_finding(void *ctx, const struct seg_finding *f)
{
	const struct verify_run *v = ctx;
	char seqs[96];	/* "seq N..N (N segments)", three 20-digit numbers */

	switch (f->kind) {
	case SEG_FIND_GAP:
		if (f->seq == f->seq_to)
			snprintf(seqs, sizeof(seqs), "seq %" PRIu64, f->seq);
		else
			snprintf(seqs, sizeof(seqs), "seq %" PRIu64 "..%" PRIu64 " (%" PRIu64
				 " segments)", f->seq, f->seq_to, f->seq_to - f->seq + 1);
		printf("%s collector '%s': no verified segment for %s, between '%s' and '%s'%s\n",
		       v->spool_mode ? "note    " : "GAP     ", f->collector, seqs, f->name,
		       f->other, v->spool_mode ? " (a spool keeps only what is not shipped yet)" : "");
		break;
	case SEG_FIND_FORK:
		printf("FAILED   '%s': fork: collector '%s' has another segment with seq %" PRIu64
		       "%s%s%s [chain]\n", f->name, f->collector, f->seq,
		       f->other ? "; the chain goes on through '" : " and nothing here tells which"
		       " is genuine", f->other ? f->other : "", f->other ? "'" : "");
		break;
	case SEG_FIND_CHAIN:
		if (f->seq == 1)
			printf("FAILED   '%s': chain broken: seq 1 must have no previous segment"
			       " [chain]\n", f->name);
		else
			printf("FAILED   '%s': chain broken: its previous-segment hash is not that of"
			       " '%s', seq %" PRIu64 " [chain]\n", f->name, f->other ? f->other : "?",
			       f->seq - 1);
		break;
	case SEG_FIND_COPY:
		printf("note     '%s' is the same segment as '%s'\n", f->name, f->other);
		break;
	case SEG_FIND_START:
		printf("note     collector '%s': the history here starts at seq %" PRIu64 "\n",
		       f->collector, f->seq);
		break;
	}
}

static int
spool_verify(int argc, char **argv, const struct spool_args *a)
{
	struct verify_run v = {.opts.no_manifest = a->no_manifest};
	struct seg_history_counts hc = {0};
	struct pga_err err = {0};
	int rc = seg_history_new(&v.hist, &err);

	if (rc == 0 && a->public_key != NULL)
		rc = pga_pubkey_load(&v.pub, a->public_key, &err);
	if (rc == 0 && argc == 0) {
		rc = spool_open(&v.sp, a->spool, &err);
		if (rc == 0)
			verify_source(&v, v.sp, a->spool);
		spool_free(v.sp);
	}
	for (int i = 0; rc == 0 && i < argc; i++)
		verify_source(&v, NULL, argv[i]);
	if (rc == 0)
		rc = seg_history_check(v.hist, print_finding, &v, &hc, &err);
	seg_history_free(v.hist);
	pga_pubkey_free(v.pub);
	if (rc < 0)
		return pga_cli_error(&err);
	printf("%zu segments verified, %" PRIu64 " failed, %" PRIu64 " gaps%s\n", v.count,
	       (uint64_t)v.bad + hc.blamed, hc.gaps,
	       hc.gaps && v.spool_mode ? " (not counted in a spool)" : "");
	if (v.bad || hc.blamed || (hc.gaps && !v.spool_mode))
		return PGA_EXIT_FAIL;
	return PGA_EXIT_OK;
}

/* ---- cat ---- */

/* Strings from a file reach the terminal escaped (FORMAT.md "Strings"). */
static void
print_block_head(const struct seg_block_meta *m)
{
	char t[40], target[300], db[520], host[1040];

	pga_format_time(m->snapshot_us, t, sizeof(t));
	printf("# block %u metric=%s target=%s database=%s snapshot=%s", m->block_no,
	       m->metric, utf8_text(m->target, target, sizeof(target)),
	       utf8_text(m->database, db, sizeof(db)), t);
	if (m->sysid != 0)
		printf(" server=%" PRIu64 "@%s:%u version=%u", m->sysid,
		       utf8_text(m->host, host, sizeof(host)), m->port, m->server_version);
	printf("\n");
	for (uint16_t i = 0; i < m->ncols; i++)
		printf("%s%s", i ? "," : "", utf8_text(m->cols[i], host, sizeof(host)));
	printf("\n");
}

static int
cat_blocks(struct seg_reader *r, const struct spool_args *a, struct pga_err *err)
{
	const struct seg_block_meta *m;
	char buf[65536];
	int rc;

	while ((rc = seg_reader_next(r, &m, err)) == 1) {
		size_t got;

		if ((a->block >= 0 && m->block_no != (uint32_t)a->block) ||
		    (a->metric != NULL && strcmp(a->metric, m->metric) != 0))
			continue;	/* next() verifies the skipped data too */
		if (!a->raw)
			print_block_head(m);
		fflush(stdout);
		while ((rc = seg_reader_read(r, buf, sizeof(buf), &got, err)) == 0 && got > 0)
			if (fwrite(buf, 1, got, stdout) != got)
				return pga_fail(err, PGA_EIO, "could not write to standard output: %m");
		if (rc < 0)
			return rc;
	}
	return rc;
}

static int
spool_cat(char **argv, const struct spool_args *a)
{
	struct seg_reader *r = NULL;
	struct spool *sp = NULL;
	struct pga_err err = {0};
	char path[PATH_MAX];
	struct stat st;
	int rc;

	/* a path, or a name inside the spool's ready/ */
	strlcpy(path, argv[0], sizeof(path));
	if (stat(argv[0], &st) != 0 && spool_open(&sp, a->spool, &err) == 0)
		spool_ready_path(sp, argv[0], path, sizeof(path), NULL);
	spool_free(sp);
	rc = seg_reader_open_file(&r, path, &err);
	if (rc == 0)
		rc = cat_blocks(r, a, &err);
	seg_reader_free(r);
	return rc < 0 ? pga_cli_error(&err) : PGA_EXIT_OK;
}

/* ---- pack ---- */

static int
spool_pack_cmd(const struct spool_args *a)
{
	struct spool *sp = NULL;
	struct pack_stats st;
	struct pga_err err = {0};
	int64_t since = INT64_MIN, until = INT64_MAX, now = pga_now_us();
	char size[16];
	int rc;

	if ((a->since && pga_parse_time(a->since, now, &since, &err) < 0) ||
	    (a->until && pga_parse_time(a->until, now, &until, &err) < 0))
		return pga_cli_error(&err);
	rc = spool_open(&sp, a->spool, &err);
	if (rc == 0)
		rc = spool_pack(sp, a->out, since, until, &st, &err);
	spool_free(sp);
	if (rc < 0)
		return pga_cli_error(&err);
	pga_format_size(st.bytes, size, sizeof(size));
	printf("packed %" PRIu64 " segments (%s) into '%s'\n", st.segments, size, a->out);
	return PGA_EXIT_OK;
}

int
cmd_spool(int argc, char **argv, struct pga_ctx *ctx)
{
	struct spool_args a;
	struct pga_err err = {0};
	int rc;

	get_args(&a, ctx->cfg);
	if (ctx->cmd->id == PGA_CMD_SPOOL_VERIFY || ctx->cmd->id == PGA_CMD_SPOOL_CAT) {
		if (cmd_decrypt_keys(ctx->cfg, &err) < 0)
			return pga_cli_error(&err);
		rc = ctx->cmd->id == PGA_CMD_SPOOL_VERIFY ? spool_verify(argc, argv, &a)
							  : spool_cat(argv, &a);
		cmd_decrypt_keys_release();
		return rc;
	}
	switch (ctx->cmd->id) {
	case PGA_CMD_SPOOL_PUT:
		return spool_put(&a, ctx);
	case PGA_CMD_SPOOL_LS:
		return spool_ls(&a, ctx);
	case PGA_CMD_SPOOL_VERIFY:
		return spool_verify(argc, argv, &a);
	case PGA_CMD_SPOOL_CAT:
		return spool_cat(argv, &a);	/* main() saw to one argument */
	case PGA_CMD_SPOOL_PACK:
		return spool_pack_cmd(&a);
	default:
		return pga_cli_usage(NULL, "unknown spool subcommand '%s'", ctx->cmd->name);
	}
}
