/*
 * verify.c - pga restore --verify-only: is the source whole?  (the monthly
 * DR drill; see restore.h)
 *
 * Every segment is read through the source (a tar only after its manifest
 * gate, spool/source.h) and verified on its own: frames, CRCs, the
 * footer's SHA-256, its name against its header.  Its signature goes to
 * restore_verify_trust(), the hook the trust issue fills in.  A directory
 * with a MANIFEST.sha256 at its root (an unpacked archive) is held to it:
 * a segment it does not list, one it lists that is not there, or one whose
 * SHA-256 differs is a finding.  Then each collector's history is checked
 * across all of them (spool/history.h: gaps, forks, chain breaks).
 *
 * Output: a line per finding as it is found, then one line per collector
 * (segments, sequence range, time range, rows, bytes, and what is wrong),
 * then the verdict.  Exit 0 when the source is whole: every segment
 * verified, no gap, fork, chain break or manifest finding.  --json gives the
 * same as one document.
 */
#define _GNU_SOURCE
#include "restore/restore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "common/cli.h"
#include "common/jsonw.h"
#include "common/log.h"
#include "common/units.h"
#include "spool/history.h"
#include "spool/manifest.h"
#include "spool/source.h"

#define VERIFY_FINDINGS_MAX 1000

struct vcoll {
	char name[SEG_COLLECTOR_MAX];
	uint64_t segments, rows, bytes, refused, gaps, missing, blamed;
	uint64_t min_seq, max_seq;
	int64_t first, last;		/* snapshot range */
};

struct vfinding {
	char kind[12];
	char collector[SEG_COLLECTOR_MAX];
	char text[PGA_ERR_MSG_MAX + 64];
};

struct vrun {
	const struct restore_opts *o;
	FILE *out;
	struct seg_history *hist;
	struct vcoll *c;
	size_t nc, ccap;
	uint64_t segments, refused, manifest_bad;
	uint64_t undecrypted;		/* encrypted, checked without decrypt-key-file */
	struct seg_manifest man;	/* a directory's MANIFEST.sha256 */
	bool have_man;
	struct vfinding *f;
	size_t nf;
	uint64_t f_dropped;
	struct seg_history_counts hc;
};

int
restore_verify_trust(const struct seg_info *info, const char *name, struct pga_err *err)
{
	/*
	 * The trust issue's hook: segments will carry an Ed25519 signature over
	 * the footer's SHA-256 (FORMAT.md, header flag "signed", frame kind 14)
	 * and this is where --verify-only checks it against the collector's
	 * public key.  Version 1 readers refuse the flag, so every segment that
	 * got here is unsigned: accepted, as it has always been.
	 */
	(void)name;
	(void)err;
	return (info->header.flags & SEG_FLAG_SIGNED) ? 1 : 0;
}

static struct vcoll *
coll(struct vrun *v, const char *name)
{
	for (size_t i = 0; i < v->nc; i++)
		if (strcmp(v->c[i].name, name) == 0)
			return &v->c[i];
	if (v->nc == v->ccap) {
		size_t cap = v->ccap ? v->ccap * 2 : 16;
		void *p = reallocarray(v->c, cap, sizeof(*v->c));

		if (p == NULL)
			return NULL;
		v->c = p;
		v->ccap = cap;
	}
	memset(&v->c[v->nc], 0, sizeof(v->c[0]));
	strlcpy(v->c[v->nc].name, name, sizeof(v->c[0].name));
	v->c[v->nc].first = INT64_MAX;
	v->c[v->nc].last = INT64_MIN;
	v->c[v->nc].min_seq = UINT64_MAX;
	return &v->c[v->nc++];
}

/* A finding: printed now (text) or kept for the document (JSON). */
static void
finding(struct vrun *v, const char *kind, const char *collector, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
finding(struct vrun *v, const char *kind, const char *collector, const char *fmt, ...)
{
	struct vfinding *f;
	va_list ap;

	if (v->nf == VERIFY_FINDINGS_MAX) {
		v->f_dropped++;
		return;
	}
	if (v->f == NULL) {
		v->f = calloc(VERIFY_FINDINGS_MAX, sizeof(*v->f));
		if (v->f == NULL)
			return;
	}
	f = &v->f[v->nf++];
	strlcpy(f->kind, kind, sizeof(f->kind));
	strlcpy(f->collector, collector ? collector : "", sizeof(f->collector));
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	if (!v->o->json)
		fprintf(v->out, "%-8s %s\n", kind, f->text);
}

/* ---- a directory's manifest ---- */

static void
load_manifest(struct vrun *v)
{
	char path[PATH_MAX];
	struct pga_err err = {0};
	struct stat st;
	char *buf = NULL;
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/" SEG_MANIFEST_NAME,
		 strncmp(v->o->from, "file://", 7) == 0 ? v->o->from + 7 : v->o->from);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	if ((uint64_t)st.st_size > SEG_MANIFEST_MAX) {
		finding(v, "MANIFEST", NULL, "'%s' is larger than %u bytes: not read", path,
			SEG_MANIFEST_MAX);
		v->manifest_bad++;
		return;
	}
	fp = fopen(path, "r");
	buf = malloc((size_t)st.st_size + 1);
	n = fp != NULL && buf != NULL ? fread(buf, 1, (size_t)st.st_size, fp) : 0;
	if (fp != NULL)
		fclose(fp);
	if (buf == NULL || n != (size_t)st.st_size ||
	    seg_manifest_parse(buf, n, path, &v->man, &err) < 0) {
		finding(v, "MANIFEST", NULL, "%s", err.code ? err.msg : "could not read the manifest");
		v->manifest_bad++;
	} else {
		v->have_man = true;
	}
	free(buf);
}

static void
check_manifest_entry(struct vrun *v, const char *name, const struct seg_info *info)
{
	struct seg_manifest_entry *e;

	if (!v->have_man)
		return;
	e = seg_manifest_find(&v->man, name);
	if (e == NULL) {
		finding(v, "MANIFEST", info->header.collector, "'%s' is not in " SEG_MANIFEST_NAME,
			name);
		v->manifest_bad++;
		return;
	}
	e->seen = true;
	if (memcmp(e->sha, info->file_sha256, PGA_SHA256_LEN) != 0) {
		finding(v, "MANIFEST", info->header.collector, "'%s' does not match its SHA-256 in "
			SEG_MANIFEST_NAME, name);
		v->manifest_bad++;
	}
}

static void
manifest_unseen(struct vrun *v)
{
	for (size_t i = 0; v->have_man && i < v->man.n; i++)
		if (!v->man.v[i].seen) {
			finding(v, "MANIFEST", NULL, "'%s' is in " SEG_MANIFEST_NAME " but not in the"
				" source", v->man.v[i].name);
			v->manifest_bad++;
		}
}

/* ---- segments ---- */

static void
count_ok(struct vrun *v, const struct seg_info *info, const char *name)
{
	struct vcoll *c = coll(v, info->header.collector);

	(void)name;
	if (c == NULL)
		return;
	c->segments++;
	c->rows += info->rows;
	c->bytes += info->size;
	if (info->header.seq < c->min_seq)
		c->min_seq = info->header.seq;
	if (info->header.seq > c->max_seq)
		c->max_seq = info->header.seq;
	if (info->nblocks > 0 && info->min_snapshot_us < c->first)
		c->first = info->min_snapshot_us;
	if (info->nblocks > 0 && info->max_snapshot_us > c->last)
		c->last = info->max_snapshot_us;
}

static void
verify_item(struct vrun *v, const struct seg_item *item)
{
	struct seg_info info;
	struct pga_err err = {0};
	char who[SEG_COLLECTOR_MAX] = "";
	int rc = seg_verify_stream(item->read, item->ctx, item->path ? item->path : item->name,
				   &info, &err);

	v->segments++;
	if (rc == 0 && restore_verify_trust(&info, item->name, &err) < 0)
		rc = err.code;
	if (rc == 0 && seg_history_add(v->hist, &info.header, info.file_sha256, item->name,
				       &err) < 0)
		rc = err.code;
	if (rc == 0) {
		v->undecrypted += seg_header_encrypted(&info.header) && !info.decrypted;
		count_ok(v, &info, item->name);
		check_manifest_entry(v, item->name, &info);
		return;
	}
	/* refused: blamed on the collector its name gives, if any */
	seg_name_parse(item->name, who, sizeof(who), NULL, NULL);
	v->refused++;
	if (who[0] != '\0' && coll(v, who) != NULL)
		coll(v, who)->refused++;
	finding(v, "REFUSED", who, "%s [%s]", err.msg, pga_err_name(rc));
}

/* ---- history ---- */

static void
on_finding(void *ctx, const struct seg_finding *f)
{
	struct vrun *v = ctx;
	struct vcoll *c = coll(v, f->collector);

	switch (f->kind) {
	case SEG_FIND_GAP:
		if (c != NULL) {
			c->gaps++;
			c->missing += f->seq_to - f->seq + 1;
		}
		finding(v, "GAP", f->collector, "collector '%s': no verified segment for seq %" PRIu64
			"..%" PRIu64 ", between '%s' and '%s'", f->collector, f->seq, f->seq_to,
			f->name, f->other);
		break;
	case SEG_FIND_FORK:
		if (c != NULL)
			c->blamed++;
		finding(v, "FORK", f->collector, "'%s': collector '%s' has another segment with seq %"
			PRIu64 "%s%s", f->name, f->collector, f->seq,
			f->other ? "; the chain goes on through " : "", f->other ? f->other : "");
		break;
	case SEG_FIND_CHAIN:
		if (c != NULL)
			c->blamed++;
		finding(v, "CHAIN", f->collector, "'%s': its previous-segment hash is not that of %s",
			f->name, f->other ? f->other : "any segment of the seq before");
		break;
	case SEG_FIND_COPY:
		finding(v, "note", f->collector, "'%s' is the same segment as '%s'", f->name, f->other);
		break;
	case SEG_FIND_START:
		finding(v, "note", f->collector, "collector '%s': the history here starts at seq %"
			PRIu64, f->collector, f->seq);
		break;
	}
}

/* ---- the report ---- */

static void
range_text(int64_t a, int64_t b, char *buf, size_t cap)
{
	char x[40], y[40];

	if (a == INT64_MAX) {
		snprintf(buf, cap, "no snapshots");
		return;
	}
	pga_format_time(a, x, sizeof(x));
	pga_format_time(b, y, sizeof(y));
	snprintf(buf, cap, "%s .. %s", x, y);
}

static bool
whole(const struct vrun *v)
{
	return v->refused == 0 && v->hc.gaps == 0 && v->hc.blamed == 0 && v->manifest_bad == 0;
}

static void
report_text(struct vrun *v)
{
	for (size_t i = 0; i < v->nc; i++) {
		const struct vcoll *c = &v->c[i];
		char range[100], size[16];

		range_text(c->first, c->last, range, sizeof(range));
		pga_format_size(c->bytes, size, sizeof(size));
		fprintf(v->out, "collector '%s': %" PRIu64 " segments (seq %" PRIu64 "..%" PRIu64
			"), %s, %" PRIu64 " rows, %s; ", c->name, c->segments,
			c->min_seq == UINT64_MAX ? 0 : c->min_seq, c->max_seq, range, c->rows, size);
		if (c->gaps + c->refused + c->blamed == 0)
			fprintf(v->out, "whole\n");
		else
			fprintf(v->out, "%" PRIu64 " gaps (%" PRIu64 " segments missing), %" PRIu64
				" refused, %" PRIu64 " forks or chain breaks\n", c->gaps, c->missing,
				c->refused, c->blamed);
	}
	if (v->f_dropped > 0)
		fprintf(v->out, "(%" PRIu64 " more findings not shown)\n", v->f_dropped);
	if (v->undecrypted > 0)
		fprintf(v->out, "note     %" PRIu64 " encrypted segments checked without "
			"decrypt-key-file: structure, checksums, chain and signatures, not their "
			"plaintext\n", v->undecrypted);
	fprintf(v->out, "%" PRIu64 " segments verified: %" PRIu64 " refused, %" PRIu64 " gaps, %"
		PRIu64 " forks or chain breaks, %" PRIu64 " manifest findings; signatures: none"
		" (unsigned segments); the source is %s\n", v->segments, v->refused, v->hc.gaps,
		v->hc.blamed, v->manifest_bad, whole(v) ? "whole" : "NOT whole");
}

static void
report_json(struct vrun *v)
{
	struct jsonw jw;

	jsonw_init(&jw, v->out);
	jsonw_obj_open(&jw);
	jsonw_key(&jw, "source");
	jsonw_str(&jw, v->o->from);
	jsonw_key(&jw, "whole");
	jsonw_bool(&jw, whole(v));
#define U(k, x) do { jsonw_key(&jw, k); jsonw_u64(&jw, x); } while (0)
	U("segments", v->segments);
	U("refused", v->refused);
	U("gaps", v->hc.gaps);
	U("missing", v->hc.missing);
	U("forks_or_breaks", v->hc.blamed);
	U("manifest_findings", v->manifest_bad);
	U("encrypted_not_decrypted", v->undecrypted);
	jsonw_key(&jw, "collectors");
	jsonw_arr_open(&jw);
	for (size_t i = 0; i < v->nc; i++) {
		const struct vcoll *c = &v->c[i];

		jsonw_obj_open(&jw);
		jsonw_key(&jw, "collector");
		jsonw_str(&jw, c->name);
		U("segments", c->segments);
		U("min_seq", c->min_seq == UINT64_MAX ? 0 : c->min_seq);
		U("max_seq", c->max_seq);
		jsonw_key(&jw, "first_snapshot");
		jsonw_time(&jw, c->first == INT64_MAX ? 0 : c->first);
		jsonw_key(&jw, "last_snapshot");
		jsonw_time(&jw, c->last == INT64_MIN ? 0 : c->last);
		U("rows", c->rows);
		U("bytes", c->bytes);
		U("gaps", c->gaps);
		U("missing", c->missing);
		U("refused", c->refused);
		U("forks_or_breaks", c->blamed);
		jsonw_obj_close(&jw);
	}
	jsonw_arr_close(&jw);
#undef U
	jsonw_key(&jw, "findings");
	jsonw_arr_open(&jw);
	for (size_t i = 0; i < v->nf; i++) {
		jsonw_obj_open(&jw);
		jsonw_key(&jw, "kind");
		jsonw_str(&jw, v->f[i].kind);
		jsonw_key(&jw, "collector");
		jsonw_str(&jw, v->f[i].collector[0] ? v->f[i].collector : NULL);
		jsonw_key(&jw, "text");
		jsonw_str(&jw, v->f[i].text);
		jsonw_obj_close(&jw);
	}
	jsonw_arr_close(&jw);
	jsonw_obj_close(&jw);
	jsonw_end(&jw);
}

int
restore_verify(const struct restore_opts *o, FILE *out)
{
	struct seg_source_opts so = {.no_manifest = o->no_manifest};
	struct vrun v = {.o = o, .out = out};
	struct seg_source *src = NULL;
	struct seg_item item;
	struct pga_err err = {0};
	enum seg_source_kind kind;
	int rc = seg_history_new(&v.hist, &err);

	if (rc == 0)
		rc = seg_source_kind(o->from, &kind, &err);
	if (rc == 0 && kind == SEG_SOURCE_DIR)
		load_manifest(&v);
	if (rc == 0 && seg_source_open_opts(&src, o->from, &so, &err) < 0) {
		/* an archive refused by its manifest gate is a finding, not a crash */
		finding(&v, "REFUSED", NULL, "%s [%s]", err.msg, pga_err_name(err.code));
		v.refused++;
		rc = err.code == PGA_ENOTFOUND || err.code == PGA_ENOMEM ? err.code : 0;
	}
	while (rc == 0 && src != NULL && !pga_stop_requested() &&
	       (rc = seg_source_next(src, &item, &err)) == 1) {
		verify_item(&v, &item);
		rc = 0;
	}
	if (rc < 0 && src != NULL) {
		finding(&v, "REFUSED", NULL, "%s [%s]", err.msg, pga_err_name(err.code));
		v.refused++;
		rc = 0;
	}
	seg_source_free(src);
	manifest_unseen(&v);
	if (rc == 0)
		rc = seg_history_check(v.hist, on_finding, &v, &v.hc, &err);
	if (rc == 0 && o->json)
		report_json(&v);
	else if (rc == 0)
		report_text(&v);
	seg_history_free(v.hist);
	seg_manifest_free(&v.man);
	free(v.c);
	free(v.f);
	if (rc < 0)
		return pga_cli_error(&err);
	if (pga_stop_requested())
		return PGA_EXIT_FAIL;
	return whole(&v) ? PGA_EXIT_OK : PGA_EXIT_FAIL;
}
