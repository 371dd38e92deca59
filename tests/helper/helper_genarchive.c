/*
 * gen-archive: a realistic archive of segments, fast, for the restore
 * tests and `make bench` (the disaster-recovery issue's "Measure it").
 *
 * Every collector is one server with `dbs` databases; every `interval`
 * seconds it takes a snapshot of the catalog's metrics with the catalog's
 * own columns (collect/catalog.c), and seals a segment every `seg-age`
 * seconds, named after its first snapshot (`lag` seconds after it, 1 by
 * default, as a real collector creates its segment just after the cycle
 * starts), chained from seq 1.  Per snapshot and collector, by default: the cluster metrics
 * (pg_stat_database, pg_database, the background writer, checkpointer, WAL,
 * archiver, activity and lock summaries, I/O, SLRU, 1000 statements, ...),
 * and per database 40 tables and 60 indexes (tables, I/O, sizes, indexes),
 * 40 catalog tables, sequences, functions, extensions; pg_settings and the
 * statement texts once an hour.  10 collectors x 10 databases at 60 s is
 * about 47,000 rows a snapshot, the 100 databases.
 *
 * Values follow the column's kind: counters grow at a per-series rate
 * (70 % idle, the rest mostly tens a minute, a few thousands), gauges are
 * 0 or wander around a per-series level, times are NULL or recent, names are names,
 * columns that PostgreSQL 16 does not have are NULL.  Deterministic for a
 * seed; no state is kept per series (every value is a hash of the series,
 * the column and the time), so memory stays flat at any scale.
 *
 * With csv=DIR the rows also go to DIR/<metric>.<stream>.csv exactly as the
 * central tables hold them (collector_id, server_id, snapshot_time, dbname
 * in front; ids are the collector's number from 1): the ingest floor's
 * input.  Collectors are split over `threads` threads (the streams).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <bsd/string.h>

#include "collect/catalog.h"
#include "common/hash.h"
#include "common/units.h"
#include "spool/segment.h"
#include "tests/helper/helper.h"

#define GEN_MAX_METRICS 64
#define GEN_LINE 16384
#define GEN_TIMES 64

struct gen_opts {
	const char *dir, *csv;
	int collectors, dbs, days, tables, indexes, sys_tables, statements, level, threads;
	int64_t interval_s, seg_age_s, end_us, start_us;
	int64_t lag_s;			/* a segment is named this long after its first snapshot */
	uint64_t seed;
	const char *prefix;		/* collector ids: <prefix><n> */
};

/* What a column holds, worked out once per metric from the catalog. */
enum gen_col {
	GC_NULL, GC_KEY_BIGINT, GC_KEY_DB, GC_KEY_USER, GC_KEY_OID, GC_KEY_BOOL,
	GC_SCHEMA, GC_RELNAME, GC_INDEXNAME, GC_DATNAME, GC_QUERY, GC_SETTING, GC_WORD,
	GC_RESET, GC_TIME, GC_BOOL, GC_TEXT, GC_ARRAY_TEXT, GC_ARRAY_INT, GC_LSN, GC_OID,
	GC_COUNTER, GC_COUNTER_MS, GC_GAUGE, GC_GAUGE_MS, GC_GAUGE_INT,
};

/* A metric and how many rows it has per snapshot (per database if per_db). */
struct gen_metric {
	const struct metric_def *m;
	enum gen_col cls[SEG_MAX_COLS];
	int rows;
	bool per_db, hourly;
	FILE *csv;			/* this thread's floor file */
};

struct gen_thread {
	const struct gen_opts *o;
	int first, last;		/* collectors [first, last) */
	int stream;
	struct gen_metric met[GEN_MAX_METRICS];
	size_t nmet;
	/* output */
	uint64_t segments, rows, csv_bytes, seg_bytes;
	char err[512];
	/* per block */
	char line[GEN_LINE];
	char times[GEN_TIMES][40];
	char snap[40];
	int64_t t_us;
	struct seg_encoder *enc;
	struct seg_writer *w;
	uint8_t io[65536];
	size_t iolen;
};

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
mix2(uint64_t a, uint64_t b)
{
	return mix(a ^ mix(b));
}

/* ---- fast formatting into the line buffer ---- */

static char *
put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static char *
put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return put_u64(p, (uint64_t)v);
}

/* v thousandths as "int.fff" */
static char *
put_milli(char *p, uint64_t v)
{
	p = put_u64(p, v / 1000);
	*p++ = '.';
	*p++ = (char)('0' + v / 100 % 10);
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

static char *
put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

/* ---- values ---- */

/* Columns PostgreSQL 16 does not have: NULL, as the collector writes them. */
static bool
absent_in_16(const char *col)
{
	static const char *const cols[] = {
		"total_vacuum_time", "total_autovacuum_time", "total_analyze_time",
		"total_autoanalyze_time", "parallel_workers_to_launch",
		"parallel_workers_launched", "num_done", "restartpoints_timed",
		"restartpoints_req", "restartpoints_done", "slru_written", "read_bytes",
		"write_bytes", "extend_bytes", "wal_buffers_full", "inactive_since",
		"invalidation_reason", "failover", "synced", "conflicting",
		"shared_blk_read_time", "shared_blk_write_time", "local_blk_read_time",
		"local_blk_write_time", "jit_deform_count", "jit_deform_time",
		"stats_since", "minmax_stats_since", NULL,
	};

	for (const char *const *c = cols; *c; c++)
		if (strcmp(*c, col) == 0)
			return true;
	return false;
}

/*
 * A per-series rate a minute: 70 % of counters never move (most catalog
 * tables, most columns of a quiet table), the rest mostly tens, a few
 * thousands: real statistics are small numbers and zeros.
 */
static uint64_t
rate_of(uint64_t h)
{
	if (h % 10 < 7)
		return 0;
	return ((h >> 8) % 20 + 1) << ((h >> 16) % 16 < 13 ? 0 : (h >> 20) % 9);
}

/* Minutes since the counters were reset (2026-10-01), at the snapshot. */
#define GEN_RESET_US 1790812800000000LL

static const char *const words[] = {
	"active", "idle", "client backend", "autovacuum worker", "Lock", "LWLock", "IO",
	"ClientRead", "relation", "transactionid", "RowExclusiveLock", "AccessShareLock",
	"normal", "bulkread", "vacuum", "plpgsql", "pg_stat_statements", "on", "off",
	"default", "configuration file", "8kB", "integer", "string",
};

static enum gen_col
text_class(const char *name)
{
	static const struct { const char *name; enum gen_col cls; } names[] = {
		{"schemaname", GC_SCHEMA}, {"relname", GC_RELNAME}, {"funcname", GC_RELNAME},
		{"indexrelname", GC_INDEXNAME}, {"datname", GC_DATNAME}, {"database", GC_DATNAME},
		{"query", GC_QUERY}, {"name", GC_SETTING}, {"setting", GC_SETTING},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i].name, name) == 0)
			return names[i].cls;
	return GC_WORD;
}

static enum gen_col
key_class(const struct metric_col *c)
{
	if (strcmp(c->type, "bigint") == 0)
		return GC_KEY_BIGINT;
	if (strcmp(c->name, "dbid") == 0 || strcmp(c->name, "datid") == 0)
		return GC_KEY_DB;
	if (strcmp(c->name, "userid") == 0)
		return GC_KEY_USER;
	if (strcmp(c->type, "oid") == 0)
		return GC_KEY_OID;
	if (strcmp(c->type, "boolean") == 0)
		return GC_KEY_BOOL;
	return text_class(c->name);
}

static enum gen_col
col_class(const struct metric_col *c)
{
	const char *type = c->type;
	bool ms = strcmp(type, "double precision") == 0;

	if (absent_in_16(c->name))
		return GC_NULL;
	if (c->kind == COL_KEY)
		return key_class(c);
	if (strcmp(type, "timestamptz") == 0)
		return strcmp(c->name, "stats_reset") == 0 ? GC_RESET : GC_TIME;
	if (strcmp(type, "boolean") == 0)
		return GC_BOOL;
	if (strcmp(type, "text") == 0)
		return text_class(c->name) == GC_WORD ? GC_TEXT : text_class(c->name);
	if (strcmp(type, "text[]") == 0)
		return GC_ARRAY_TEXT;
	if (strcmp(type, "smallint[]") == 0)
		return GC_ARRAY_INT;
	if (strcmp(type, "pg_lsn") == 0)
		return GC_LSN;
	if (strcmp(type, "oid") == 0)
		return GC_OID;
	if (c->kind == COL_COUNTER)
		return ms ? GC_COUNTER_MS : GC_COUNTER;
	if (ms)
		return GC_GAUGE_MS;
	return strcmp(type, "integer") == 0 || strcmp(type, "smallint") == 0 ? GC_GAUGE_INT
									    : GC_GAUGE;
}

static char *
text_value(struct gen_thread *g, char *p, enum gen_col cls, int row, int db, uint64_t h)
{
	uint64_t tables = (uint64_t)(g->o->tables > 0 ? g->o->tables : 1);

	switch (cls) {
	case GC_SCHEMA:
		return put_str(p, row % 7 == 0 ? "app" : "public");
	case GC_RELNAME:
		return put_u64(put_str(p, "tbl_"), (uint64_t)row % tables);
	case GC_INDEXNAME:
		p = put_u64(put_str(p, "tbl_"), (uint64_t)row % tables);
		return put_u64(put_str(p, "_idx"), (uint64_t)row);
	case GC_DATNAME:
		return put_u64(put_str(p, "db"), (uint64_t)(db >= 0 ? db : row));
	case GC_QUERY:
		p = put_u64(put_str(p, "\"SELECT a, b, c FROM tbl_"), h % 97);
		p = put_str(p, " WHERE id = $1 AND status IN ($2, $3) ORDER BY created_at DESC LIMIT ");
		return put_str(put_u64(p, h % 50 + 1), "\"");
	case GC_SETTING:
		return put_u64(put_str(p, "setting_"), (uint64_t)row);
	default:
		return put_str(p, words[h % (sizeof(words) / sizeof(words[0]))]);
	}
}

static char *
put_ms(char *p, uint64_t v)
{
	return v == 0 ? put_str(p, "0") : put_milli(p, v);
}

/* A gauge: 0 for half the series, small levels mostly, a few large. */
static uint64_t
gauge(uint64_t h, int64_t minutes)
{
	uint64_t level = h % 2 == 0 ? 0 : (h >> 8) % 1000 << ((h >> 20) % 8 == 0 ? (h >> 24) % 20 : 0);

	return level == 0 ? 0 : level + mix2(h, (uint64_t)minutes / 10) % (level / 8 + 1);
}

/* One field of one row; the series is (collector, db, metric, row). */
static char *
field(struct gen_thread *g, char *p, enum gen_col cls, uint64_t series, int col, int row,
      int db)
{
	uint64_t h = mix2(series, (uint64_t)col + 1), r;
	int64_t minutes = (g->t_us - GEN_RESET_US) / 60000000;
	char buf[40];

	if (minutes < 0)
		minutes = 0;
	switch (cls) {
	case GC_NULL:
		return p;
	case GC_KEY_BIGINT:
		return put_i64(p, (int64_t)mix2(series, 99));
	case GC_KEY_DB:
		return put_u64(p, 16384 + (uint64_t)(db >= 0 ? db : row % (g->o->dbs + 1)));
	case GC_KEY_USER:
		return put_u64(p, 10 + h % 3);
	case GC_KEY_OID:
		return put_u64(p, 16384 + (uint64_t)row * 3 + (uint64_t)col);
	case GC_KEY_BOOL:
		return put_str(p, row % 5 == 0 ? "f" : "t");
	case GC_RESET:
		return put_str(p, "2026-10-01 00:00:00+00");
	case GC_TIME:
		return h % 10 < 8 ? p : put_str(p, g->times[h % GEN_TIMES]);
	case GC_BOOL:
		return put_str(p, h % 4 == 0 ? "f" : "t");
	case GC_TEXT:
		return h % 9 == 0 ? p : text_value(g, p, GC_WORD, row, db, h);
	case GC_ARRAY_TEXT:
		return h % 3 == 0 ? put_str(p, "{fillfactor=90}") : p;
	case GC_ARRAY_INT:
		return h % 3 == 0 ? put_str(p, "{1}") : p;
	case GC_LSN:
		r = (h % 1000000) * 8192 + (uint64_t)minutes * (rate_of(h) + 1) * 64;
		snprintf(buf, sizeof(buf), "%" PRIX64 "/%08" PRIX64, r >> 32, r & 0xffffffff);
		return put_str(p, buf);
	case GC_OID:
		return put_u64(p, 16384 + (uint64_t)row);
	case GC_COUNTER:
	case GC_COUNTER_MS:
		r = rate_of(h);
		r = r == 0 ? 0 : (h >> 4) % 1000 + r * (uint64_t)minutes;
		return cls == GC_COUNTER_MS ? put_ms(p, r) : put_u64(p, r);
	case GC_GAUGE_MS:
		return put_ms(p, gauge(h, minutes));
	case GC_GAUGE_INT:
		return put_u64(p, gauge(h, minutes) % 2000000000);
	case GC_GAUGE:
		return put_u64(p, gauge(h, minutes));
	default:
		return text_value(g, p, cls, row, db, h);
	}
}

/* ---- output ---- */

static int
seg_sink(void *ctx, const void *buf, size_t len, struct pga_err *err)
{
	return seg_writer_data(ctx, buf, len, err);
}

static int
emit(struct gen_thread *g, const char *buf, size_t len, struct pga_err *err)
{
	if (g->iolen + len > sizeof(g->io)) {
		int rc = seg_encoder_write(g->enc, g->io, g->iolen, err);

		g->iolen = 0;
		if (rc < 0)
			return rc;
	}
	memcpy(g->io + g->iolen, buf, len);
	g->iolen += len;
	return 0;
}

static void
snapshot_times(struct gen_thread *g, int64_t t_us)
{
	g->t_us = t_us;
	pga_format_time(t_us, g->snap, sizeof(g->snap));
	for (int i = 0; i < GEN_TIMES; i++) {
		time_t t = (time_t)(t_us / 1000000 - (int64_t)i * 937 - 3);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(g->times[i], sizeof(g->times[i]), "%Y-%m-%d %H:%M:%S.123456+00", &tm);
	}
}

static int
write_block(struct gen_thread *g, int coll, const struct gen_metric *gm, int db,
	    struct pga_err *err)
{
	const struct metric_def *m = gm->m;
	const char *cols[SEG_MAX_COLS];
	struct seg_block_meta meta = {.snapshot_us = g->t_us, .port = 5432,
				      .sysid = 7000000000000000000ULL + (uint64_t)coll,
				      .server_version = 160004, .cols = cols};
	char prefix[128];
	size_t plen = 0;
	uint64_t rows = 0, raw = 0;
	int rc;

	meta.ncols = (uint16_t)m->ncols;
	for (size_t i = 0; i < m->ncols; i++)
		cols[i] = m->cols[i].name;
	strlcpy(meta.metric, m->name, sizeof(meta.metric));
	strlcpy(meta.target, "main", sizeof(meta.target));
	snprintf(meta.host, sizeof(meta.host), "db-%d.example", coll);
	if (db >= 0)
		snprintf(meta.database, sizeof(meta.database), "db%d", db);
	if (gm->csv != NULL)
		plen = (size_t)snprintf(prefix, sizeof(prefix), "%d,%d,%s,%s%s", coll + 1, coll + 1,
					g->snap, db >= 0 ? "db" : "", "");
	if (gm->csv != NULL && db >= 0)
		plen += (size_t)snprintf(prefix + plen, sizeof(prefix) - plen, "%d", db);
	rc = seg_writer_block_begin(g->w, &meta, err);
	if (rc < 0)
		return rc;
	seg_encoder_begin(g->enc, seg_sink, g->w);
	g->iolen = 0;
	for (int r = 0; rc == 0 && r < gm->rows; r++) {
		uint64_t series = mix2(mix2(g->o->seed + (uint64_t)coll, (uint64_t)(db + 1)),
				       mix2((uint64_t)(gm - g->met), (uint64_t)r));
		char *p = g->line;

		for (size_t i = 0; i < m->ncols; i++) {
			if (i > 0)
				*p++ = ',';
			p = field(g, p, gm->cls[i], series, (int)i, r, db);
		}
		*p++ = '\n';
		rc = emit(g, g->line, (size_t)(p - g->line), err);
		if (rc == 0 && gm->csv != NULL) {
			fwrite(prefix, 1, plen, gm->csv);
			fputc(',', gm->csv);
			fwrite(g->line, 1, (size_t)(p - g->line), gm->csv);
			g->csv_bytes += plen + 1 + (size_t)(p - g->line);
		}
	}
	if (rc == 0 && g->iolen > 0)
		rc = seg_encoder_write(g->enc, g->io, g->iolen, err);
	if (rc == 0)
		rc = seg_encoder_finish(g->enc, &rows, &raw, err);
	if (rc == 0)
		rc = seg_writer_block_end(g->w, rows, raw, err);
	g->rows += rows;
	return rc;
}

/* One snapshot of one collector: cluster metrics, each database, the status block. */
static int
write_snapshot(struct gen_thread *g, int coll, struct pga_err *err)
{
	/* once every 60 snapshots (hourly at 60 s), whatever the interval: the
	 * mix of rows stays the same when the bench thins the snapshots out */
	bool hour = (g->t_us / (g->o->interval_s * 1000000)) % 60 == 0;
	const struct gen_metric *status = NULL;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < g->nmet; i++) {
		const struct gen_metric *gm = &g->met[i];

		if (strcmp(gm->m->name, "snapshot_status") == 0)
			status = gm;
		else if (!gm->per_db && (!gm->hourly || hour))
			rc = write_block(g, coll, gm, -1, err);
	}
	for (int d = 0; rc == 0 && d < g->o->dbs; d++)
		for (size_t i = 0; rc == 0 && i < g->nmet; i++)
			if (g->met[i].per_db)
				rc = write_block(g, coll, &g->met[i], d, err);
	if (rc == 0 && status != NULL)
		rc = write_block(g, coll, status, -1, err);
	return rc;
}

static int
mkdirs_for(const char *path)
{
	char buf[4096];

	strlcpy(buf, path, sizeof(buf));
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* Every segment of one collector, seq 1 on, chained. */
static int
gen_collector(struct gen_thread *g, int coll, struct pga_err *err)
{
	const struct gen_opts *o = g->o;
	struct seg_header h = {.major = SEG_FORMAT_MAJOR, .minor = SEG_FORMAT_MINOR};
	int64_t step = o->interval_s * 1000000, age = o->seg_age_s * 1000000;
	int64_t t = o->start_us;
	int rc = 0;

	snprintf(h.collector, sizeof(h.collector), "%s%02d", o->prefix, coll);
	snprintf(h.hostname, sizeof(h.hostname), "site-%d", coll);
	strlcpy(h.writer, "pga 0.1.0", sizeof(h.writer));
	while (rc == 0 && t < o->end_us) {
		char name[SEG_NAME_MAX], part[4096], final[4096];
		uint8_t sha[PGA_SHA256_LEN];
		int64_t first = t;

		h.seq++;
		h.created_us = t + o->lag_s * 1000000;
		rc = seg_name_format(name, sizeof(name), h.collector, h.seq, h.created_us, err);
		snprintf(part, sizeof(part), "%s/.gen.%s.part", o->dir, h.collector);
		snprintf(final, sizeof(final), "%s/%s", o->dir, name);
		if (rc == 0 && mkdirs_for(final) != 0)
			rc = pga_fail(err, PGA_EIO, "could not create the directories of '%s': %m", final);
		if (rc == 0)
			rc = seg_writer_create(&g->w, part, &h, err);
		for (; rc == 0 && t < o->end_us && (t == first || t - first < age); t += step) {
			snapshot_times(g, t);
			rc = write_snapshot(g, coll, err);
		}
		if (rc == 0)
			rc = seg_writer_seal(g->w, 0, 0, final, sha, err);
		if (rc == 0) {
			struct stat st;

			if (stat(final, &st) == 0)
				g->seg_bytes += (uint64_t)st.st_size;
			g->segments++;
			memcpy(h.prev_sha256, sha, PGA_SHA256_LEN);
		}
		seg_writer_free(g->w, rc < 0);
		g->w = NULL;
	}
	return rc;
}

/* Rows per snapshot of each metric this generator writes. */
static void
plan_metrics(struct gen_thread *g)
{
	const struct gen_opts *o = g->o;
	static const struct { const char *name; int rows; bool hourly; } cluster[] = {
		{"pg_stat_database", -1}, {"pg_database", -3}, {"xid_wraparound", 1},
		{"pg_stat_bgwriter", 1}, {"pg_stat_checkpointer", 1}, {"pg_stat_wal", 1},
		{"pg_stat_archiver", 1}, {"activity_summary", 6}, {"locks_summary", 4},
		{"pg_stat_io", 30}, {"pg_stat_slru", 8}, {"pg_stat_statements", 0},
		{"pg_stat_statements_info", 1}, {"pg_settings", 350, true},
		{"pg_stat_statements_texts", 0, true}, {"snapshot_status", 1},
	};
	struct { const char *name; int rows; } per_db[] = {
		{"pg_stat_user_tables", o->tables}, {"pg_statio_user_tables", o->tables},
		{"pg_stat_user_indexes", o->indexes}, {"pg_statio_user_indexes", o->indexes},
		{"table_sizes", o->tables}, {"index_sizes", o->indexes},
		{"pg_stat_sys_tables", o->sys_tables}, {"sequences", 5},
		{"pg_statio_user_sequences", 5}, {"pg_stat_user_functions", 3},
		{"extensions", 2}, {"relation_options", 2}, {"foreign_keys", 5},
	};

	for (size_t i = 0; i < sizeof(cluster) / sizeof(cluster[0]); i++) {
		struct gen_metric *gm = &g->met[g->nmet];
		int rows = cluster[i].rows;

		gm->m = catalog_find(cluster[i].name);
		if (gm->m == NULL)
			continue;
		if (rows < 0)
			rows = o->dbs - rows - 1;	/* a row per database and a few more */
		if (rows == 0)
			rows = o->statements;
		gm->rows = rows;
		gm->hourly = cluster[i].hourly;
		for (size_t c = 0; c < gm->m->ncols; c++)
			gm->cls[c] = col_class(&gm->m->cols[c]);
		if (gm->rows > 0)
			g->nmet++;
	}
	for (size_t i = 0; i < sizeof(per_db) / sizeof(per_db[0]); i++) {
		struct gen_metric *gm = &g->met[g->nmet];

		gm->m = catalog_find(per_db[i].name);
		gm->rows = per_db[i].rows;
		gm->per_db = true;
		for (size_t c = 0; gm->m != NULL && c < gm->m->ncols; c++)
			gm->cls[c] = col_class(&gm->m->cols[c]);
		if (gm->m != NULL && gm->rows > 0)
			g->nmet++;
	}
}

static int
open_csv(struct gen_thread *g, struct pga_err *err)
{
	for (size_t i = 0; g->o->csv != NULL && i < g->nmet; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s.%d.csv", g->o->csv, g->met[i].m->name, g->stream);
		g->met[i].csv = fopen(path, "w");
		if (g->met[i].csv == NULL)
			return pga_fail(err, PGA_EIO, "could not create '%s': %m", path);
	}
	return 0;
}

static void *
gen_main(void *arg)
{
	struct gen_thread *g = arg;
	struct pga_err err = {0};
	int rc;

	plan_metrics(g);
	rc = open_csv(g, &err);
	if (rc == 0)
		rc = seg_encoder_new(&g->enc, g->o->level, 0, &err);
	for (int c = g->first; rc == 0 && c < g->last; c++)
		rc = gen_collector(g, c, &err);
	for (size_t i = 0; i < g->nmet; i++)
		if (g->met[i].csv != NULL && fclose(g->met[i].csv) != 0 && rc == 0)
			rc = pga_fail(&err, PGA_EIO, "could not write the CSV: %m");
	seg_encoder_free(g->enc);
	if (rc < 0)
		strlcpy(g->err, err.msg, sizeof(g->err));
	return NULL;
}

static int
gen_usage(const char *why)
{
	fprintf(stderr, "pga-test-helper: gen-archive: %s\n"
		"usage: gen-archive DIR [collectors=10] [dbs=10] [days=30] [interval=60]\n"
		"       [end=2026-12-01T00:00:00Z] [seg-age=300] [tables=40] [indexes=60]\n"
		"       [sys-tables=40] [statements=1000] [level=3] [threads=2] [seed=1]\n"
		"       [prefix=site] [csv=DIR] [hours=N instead of days] [lag=1]\n", why);
	return 64;
}

static int
gen_parse(int argc, char **argv, struct gen_opts *o)
{
	struct pga_err err = {0};
	int64_t hours = 0;

	*o = (struct gen_opts){.dir = argv[1], .collectors = 10, .dbs = 10, .days = 30,
			       .tables = 40, .indexes = 60, .sys_tables = 40, .statements = 1000,
			       .level = 3, .threads = 2, .interval_s = 60, .seg_age_s = 300,
			       .seed = 1, .prefix = "site", .lag_s = 1};
	if (pga_parse_time("2026-12-01T00:00:00Z", 0, &o->end_us, &err) < 0)
		return -1;
	for (int i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *v;
		long long n;

		if (eq == NULL)
			return -1;
		*eq = '\0';
		v = eq + 1;
		n = strtoll(v, NULL, 10);
		if (strcmp(argv[i], "end") == 0) {
			if (pga_parse_time(v, pga_now_us(), &o->end_us, &err) < 0)
				return -1;
		} else if (strcmp(argv[i], "csv") == 0) o->csv = v;
		else if (strcmp(argv[i], "prefix") == 0) o->prefix = v;
		else if (strcmp(argv[i], "collectors") == 0) o->collectors = (int)n;
		else if (strcmp(argv[i], "dbs") == 0) o->dbs = (int)n;
		else if (strcmp(argv[i], "days") == 0) o->days = (int)n;
		else if (strcmp(argv[i], "hours") == 0) hours = n;
		else if (strcmp(argv[i], "interval") == 0) o->interval_s = n;
		else if (strcmp(argv[i], "seg-age") == 0) o->seg_age_s = n;
		else if (strcmp(argv[i], "lag") == 0) o->lag_s = n;
		else if (strcmp(argv[i], "tables") == 0) o->tables = (int)n;
		else if (strcmp(argv[i], "indexes") == 0) o->indexes = (int)n;
		else if (strcmp(argv[i], "sys-tables") == 0) o->sys_tables = (int)n;
		else if (strcmp(argv[i], "statements") == 0) o->statements = (int)n;
		else if (strcmp(argv[i], "level") == 0) o->level = (int)n;
		else if (strcmp(argv[i], "threads") == 0) o->threads = (int)n;
		else if (strcmp(argv[i], "seed") == 0) o->seed = (uint64_t)n;
		else
			return -1;
	}
	if (o->collectors < 1 || o->collectors > 99 || o->dbs < 0 || o->interval_s < 1 ||
	    o->seg_age_s < 1 || o->threads < 1 || o->threads > 16 || o->level < 1)
		return -1;
	o->start_us = o->end_us - (hours > 0 ? hours * 3600 : (int64_t)o->days * 86400) * 1000000;
	return 0;
}

/*
 * gen-archive DIR [KEY=VALUE...]: see the top of this file.  Prints
 * "segments N rows R bytes B csv_bytes C" (csv_bytes: the floor's files).
 */
int
helper_gen_archive(int argc, char **argv)
{
	struct gen_opts o;
	struct gen_thread *th;
	pthread_t *tid;
	uint64_t segs = 0, rows = 0, bytes = 0, csv = 0;
	int status = 0;

	if (argc < 2 || gen_parse(argc, argv, &o) < 0)
		return gen_usage("bad arguments");
	if (o.threads > o.collectors)
		o.threads = o.collectors;
	mkdir(o.dir, 0755);
	th = calloc((size_t)o.threads, sizeof(*th));
	tid = calloc((size_t)o.threads, sizeof(*tid));
	if (th == NULL || tid == NULL)
		return gen_usage("out of memory");
	for (int i = 0; i < o.threads; i++) {
		th[i].o = &o;
		th[i].stream = i;
		th[i].first = o.collectors * i / o.threads;
		th[i].last = o.collectors * (i + 1) / o.threads;
		pthread_create(&tid[i], NULL, gen_main, &th[i]);
	}
	for (int i = 0; i < o.threads; i++) {
		pthread_join(tid[i], NULL);
		if (th[i].err[0] != '\0') {
			fprintf(stderr, "pga-test-helper: %s\n", th[i].err);
			status = 1;
		}
		segs += th[i].segments;
		rows += th[i].rows;
		bytes += th[i].seg_bytes;
		csv += th[i].csv_bytes;
	}
	free(th);
	free(tid);
	printf("segments %" PRIu64 " rows %" PRIu64 " bytes %" PRIu64 " csv_bytes %" PRIu64 "\n",
	       segs, rows, bytes, csv);
	return status;
}
