/*
 * Unit tests of the loader's pure parts: derived names and reserved metric
 * names, days, the COPY stream (constant prefix on every row, the libcsv
 * rewrite that drops columns) fed in every possible chunking, and the DDL
 * generated from the catalog.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collect/catalog.h"
#include "common/hash.h"
#include "load/load_int.h"

/* ---- names ---- */

static void
test_derived_names(void **state)
{
	char a[LD_IDENT_MAX], b[LD_IDENT_MAX];
	const char *long1 = "m23456789_123456789_123456789_123456789_123456789_123456789_12";
	const char *long2 = "m23456789_123456789_123456789_123456789_123456789_123456789_13";

	ld_derived_name("pg_stat_database", "_delta", a, sizeof(a));
	assert_string_equal(a, "pg_stat_database_delta");
	ld_derived_name(long1, "_p20261125", a, sizeof(a));
	ld_derived_name(long2, "_p20261125", b, sizeof(b));
	assert_int_equal(strlen(a), 63);
	assert_int_equal(strlen(b), 63);
	assert_string_not_equal(a, b);	/* the hash keeps them apart */
	assert_memory_equal(a + 53, "_p20261125", 10);
	/* same input, same name: partitions are found again by name */
	ld_derived_name(long1, "_p20261125", b, sizeof(b));
	assert_string_equal(a, b);
}

static void
test_reserved(void **state)
{
	assert_true(ld_metric_reserved("segments"));
	assert_true(ld_metric_reserved("collectors"));
	assert_true(ld_metric_reserved("schema_version"));
	assert_true(ld_metric_reserved("foo_delta"));
	assert_true(ld_metric_reserved("foo_series"));
	assert_true(ld_metric_reserved("foo_p20261125"));
	assert_false(ld_metric_reserved("foo_p2026112"));
	assert_false(ld_metric_reserved("foo_pabcdefgh"));
	assert_false(ld_metric_reserved("app_stats"));
	assert_false(ld_metric_reserved("deltas"));
	assert_true(ld_fixed_col("snapshot_time"));
	assert_true(ld_fixed_col("dbname"));
	assert_false(ld_fixed_col("datname"));
}

/* No catalog metric may collide with our own names or fixed columns. */
static void
test_catalog_names(void **state)
{
	size_t n;
	const struct metric_def *all = catalog_all(&n);

	for (size_t i = 0; i < n; i++) {
		assert_true(seg_metric_valid(all[i].name));
		assert_false(ld_metric_reserved(all[i].name));
		for (size_t c = 0; c < all[i].ncols; c++)
			assert_false(ld_fixed_col(all[i].cols[c].name));
	}
}

static void
test_days(void **state)
{
	assert_int_equal(ld_day_of(0), 0);
	assert_int_equal(ld_day_of(LD_DAY_US - 1), 0);
	assert_int_equal(ld_day_of(LD_DAY_US), 1);
	assert_int_equal(ld_day_of(-1), -1);
	assert_int_equal(ld_day_of(-LD_DAY_US), -1);
	assert_int_equal(ld_day_of(-LD_DAY_US - 1), -2);
	/* 2026-11-25T21:34:07Z */
	assert_int_equal(ld_day_of(1795642447LL * 1000000), 20782);
}

static void
test_hash(void **state)
{
	/* FNV-1a 64 of "a": a published test vector */
	assert_true(pga_fnv1a64("a", 1, 0) == 0xaf63dc4c8601ec8cULL);
	assert_true(pga_fnv1a64("", 0, 0) == 0xcbf29ce484222325ULL);
	assert_true(pga_fnv1a64_str("foobar", 0) == 0x85944171f73967e8ULL);
	/* chaining is hashing the concatenation */
	assert_true(pga_fnv1a64("bar", 3, pga_fnv1a64("foo", 3, 0)) == 0x85944171f73967e8ULL);
}

/* ---- COPY stream ---- */

struct capture {
	char buf[8192];
	size_t len;
};

static int
capture_sink(void *ctx, const char *buf, size_t len, struct pga_err *err)
{
	struct capture *c = ctx;

	if (c->len + len >= sizeof(c->buf))
		return pga_fail(err, PGA_EINTERNAL, "capture full");
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	c->buf[c->len] = '\0';
	return 0;
}

/* Feed csv in pieces of at most step bytes; returns the rc of the block. */
static int
run_block(const char *prefix, const bool *keep, uint16_t ncols, const char *csv,
	  size_t step, struct capture *out, struct pga_err *err)
{
	struct ld_copy c;
	size_t len = strlen(csv);
	int rc = ld_copy_init(&c, NULL, err);

	memset(out, 0, sizeof(*out));
	c.sink = capture_sink;
	c.sink_ctx = out;
	if (rc == 0)
		rc = ld_copy_block(&c, prefix, keep, ncols, err);
	for (size_t off = 0; rc == 0 && off < len; off += step)
		rc = ld_copy_data(&c, csv + off, len - off < step ? len - off : step, err);
	if (rc == 0)
		rc = ld_copy_block_end(&c, 0, err);
	/* flush without a server: what ld_copy_end would send */
	if (rc == 0 && c.olen > 0)
		rc = capture_sink(out, c.obuf, c.olen, err);
	ld_copy_free(&c);
	return rc;
}

static const char *const tricky_csv =
	"1,plain,10\n"
	"2,\"with, comma\",20\n"
	"3,\"with \"\"quotes\"\"\",\n"
	"4,\"two\nlines\",40\n"
	"5,\"\",50\n"
	",,\n";

static void
test_prefix_every_chunking(void **state)
{
	const char *want =
		"7,3,2026-11-25T10:00:00Z,\"db\",1,plain,10\n"
		"7,3,2026-11-25T10:00:00Z,\"db\",2,\"with, comma\",20\n"
		"7,3,2026-11-25T10:00:00Z,\"db\",3,\"with \"\"quotes\"\"\",\n"
		"7,3,2026-11-25T10:00:00Z,\"db\",4,\"two\nlines\",40\n"
		"7,3,2026-11-25T10:00:00Z,\"db\",5,\"\",50\n"
		"7,3,2026-11-25T10:00:00Z,\"db\",,,\n";
	struct capture out;
	struct pga_err err = {0};

	for (size_t step = 1; step <= strlen(tricky_csv); step++) {
		assert_int_equal(run_block("7,3,2026-11-25T10:00:00Z,\"db\"", NULL, 3, tricky_csv,
					   step, &out, &err), 0);
		assert_string_equal(out.buf, want);
	}
}

static void
test_missing_final_newline(void **state)
{
	struct capture out;
	struct pga_err err = {0};

	assert_int_equal(run_block("1,1,T,", NULL, 2, "a,b\nc,d", 3, &out, &err), 0);
	assert_string_equal(out.buf, "1,1,T,,a,b\n1,1,T,,c,d\n");
}

static void
test_drop_every_chunking(void **state)
{
	/* keep columns 0 and 2, drop 1: NULL stays unquoted, '' stays "" */
	const bool keep[3] = {true, false, true};
	const char *want =
		"P,\"1\",\"10\"\n"
		"P,\"2\",\"20\"\n"
		"P,\"3\",\n"
		"P,\"4\",\"40\"\n"
		"P,\"5\",\"50\"\n"
		"P,,\n";
	const bool keep_mid[3] = {false, true, false};
	const char *want_mid =
		"P,\"plain\"\n"
		"P,\"with, comma\"\n"
		"P,\"with \"\"quotes\"\"\"\n"
		"P,\"two\nlines\"\n"
		"P,\"\"\n"
		"P,\n";
	struct capture out;
	struct pga_err err = {0};

	for (size_t step = 1; step <= strlen(tricky_csv); step++) {
		assert_int_equal(run_block("P", keep, 3, tricky_csv, step, &out, &err), 0);
		assert_string_equal(out.buf, want);
		assert_int_equal(run_block("P", keep_mid, 3, tricky_csv, step, &out, &err), 0);
		assert_string_equal(out.buf, want_mid);
	}
}

static void
test_drop_keeps_blanks(void **state)
{
	const bool keep[2] = {true, false};
	struct capture out;
	struct pga_err err = {0};

	/* libcsv trims blanks by default: COPY output must come back exact */
	assert_int_equal(run_block("P", keep, 2, " a ,x\n\tb\t,y\n", 4, &out, &err), 0);
	assert_string_equal(out.buf, "P,\" a \"\nP,\"\tb\t\"\n");
}

static void
test_drop_all_columns(void **state)
{
	const bool keep[3] = {false, false, false};
	struct capture out;
	struct pga_err err = {0};

	/* only the constant columns remain, one row per CSV row */
	for (size_t step = 1; step <= strlen(tricky_csv); step++) {
		assert_int_equal(run_block("P", keep, 3, tricky_csv, step, &out, &err), 0);
		assert_string_equal(out.buf, "P\nP\nP\nP\nP\nP\n");
	}
}

static void
test_drop_field_count(void **state)
{
	const bool keep[3] = {true, false, true};
	struct capture out;
	struct pga_err err = {0};

	assert_int_equal(run_block("P", keep, 3, "1,2,3\n4,5\n", 64, &out, &err), PGA_ECORRUPT);
	assert_non_null(strstr(err.msg, "2 fields where the block names 3 columns"));
	assert_int_equal(run_block("P", keep, 3, "1,\"open\n", 64, &out, &err), PGA_ECORRUPT);
}

/* ---- DDL from the catalog ---- */

static void
test_metric_sql(void **state)
{
	struct ld_shape m = {0};
	char *sql = NULL;
	struct pga_err err = {0};

	(void)state;
	assert_int_equal(ld_shape_builtin("pg_stat_database", &m, &err), 0);
	assert_int_equal(ld_schema_metric_sql("\"pga\"", &m, &sql, &err), 0);
	ld_shape_free(&m);
	assert_non_null(strstr(sql, "CREATE TABLE IF NOT EXISTS \"pga\".\"pg_stat_database\""
				    " (collector_id integer NOT NULL, server_id integer NOT NULL,"
				    " snapshot_time timestamptz NOT NULL, dbname text, \"datid\" oid"));
	assert_non_null(strstr(sql, ") PARTITION BY RANGE (snapshot_time);"));
	/* cluster-wide: no dbname in its series (index and window) */
	assert_non_null(strstr(sql, "CREATE INDEX IF NOT EXISTS \"pg_stat_database_series\" ON"
				    " \"pga\".\"pg_stat_database\" (collector_id, server_id,"
				    " \"datid\", snapshot_time)"));
	assert_non_null(strstr(sql, "PARTITION BY t.collector_id, t.server_id, t.\"datid\""
				    " ORDER BY t.snapshot_time"));
	/* the view's columns stay the same for every scope */
	assert_non_null(strstr(sql, "AS SELECT collector_id, server_id, dbname, \"datid\","));
	assert_non_null(strstr(sql, "CREATE VIEW \"pga\".\"pg_stat_database_delta\""));
	assert_non_null(strstr(sql, "\"stats_reset\" IS DISTINCT FROM lag__reset"));
	assert_non_null(strstr(sql, "coalesce(\"xact_commit\" < \"lag__xact_commit\", false)"));
	assert_non_null(strstr(sql, "CASE WHEN is__reset THEN \"xact_commit\" ELSE"
				    " \"xact_commit\" - \"lag__xact_commit\" END"));
	free(sql);
	/* per database: dbname after the keys, in the index and the window */
	assert_int_equal(ld_shape_builtin("pg_stat_user_tables", &m, &err), 0);
	assert_true(m.per_db);
	assert_int_equal(ld_schema_metric_sql("\"pga\"", &m, &sql, &err), 0);
	ld_shape_free(&m);
	assert_non_null(strstr(sql, " ON \"pga\".\"pg_stat_user_tables\" (collector_id, server_id,"
				    " \"relid\", dbname, snapshot_time)"));
	assert_non_null(strstr(sql, "PARTITION BY t.collector_id, t.server_id, t.\"relid\","
				    " t.dbname ORDER BY t.snapshot_time"));
	free(sql);
}


/* ---- shapes: what the central side builds from a segment ---- */

/*
 * The frozen 1.0 catalog (load/builtin10.c) against collect/'s: every 1.0
 * column a metric still has keeps its type and role (a change would be a
 * type conflict centrally), and while the catalog's descriptors are the
 * 1.0 ones, a block that describes itself builds exactly the 1.0 DDL.
 */
static void
test_builtin_is_catalog(void **state)
{
	size_t n;
	const struct ld_builtin *all = ld_builtin_all(&n);
	static const uint8_t roles[] = {
		[COL_KEY] = SEG_ROLE_KEY, [COL_COUNTER] = SEG_ROLE_COUNTER,
		[COL_GAUGE] = SEG_ROLE_GAUGE, [COL_INFO] = SEG_ROLE_INFO,
	};
	struct pga_err err = {0};

	(void)state;
	assert_true(n >= 38);
	for (size_t i = 0; i < n; i++) {
		const struct metric_def *m = catalog_find(all[i].name);
		static const char *cols[SEG_MAX_COLS];
		static struct seg_col_desc desc[SEG_MAX_COLS];
		struct seg_block_meta b = {.cols = cols, .desc = desc};
		struct ld_shape fs = {0}, bs = {0};
		char *fsql = NULL, *bsql = NULL;

		assert_non_null(m);
		for (size_t k = 0; k < all[i].ncols; k++) {
			size_t j = 0;

			while (j < m->ncols && strcmp(m->cols[j].name, all[i].cols[k].name) != 0)
				j++;
			assert_true(j < m->ncols);
			assert_string_equal(m->cols[j].type, all[i].cols[k].type);
			if (all[i].cols[k].role != SEG_ROLE_RESET)
				assert_int_equal(roles[m->cols[j].kind], all[i].cols[k].role);
			else
				assert_string_equal(m->reset_col, all[i].cols[k].name);
		}
		/* as collect describes it (cjob.c block_describe) */
		strcpy(b.metric, m->name);
		b.flags = m->scope == METRIC_DATABASE ? SEG_BLOCK_PER_DATABASE : 0;
		b.ncols = (uint16_t)m->ncols;
		for (size_t j = 0; j < m->ncols; j++) {
			cols[j] = m->cols[j].name;
			desc[j].type = m->cols[j].type;
			desc[j].role = roles[m->cols[j].kind];
			if (m->reset_col != NULL && strcmp(m->reset_col, cols[j]) == 0)
				desc[j].role = SEG_ROLE_RESET;
		}
		assert_int_equal(ld_shape_builtin(all[i].name, &fs, &err), 0);
		assert_int_equal(ld_shape_of_block(&b, &bs, &err), 0);
		assert_true(bs.typed && bs.builtin && !bs.closed);
		assert_int_equal(bs.per_db, fs.per_db);
		assert_int_equal(ld_schema_metric_sql("\"pga\"", &fs, &fsql, &err), 0);
		assert_int_equal(ld_schema_metric_sql("\"pga\"", &bs, &bsql, &err), 0);
		if (m->ncols == all[i].ncols)
			assert_string_equal(fsql, bsql);
		free(fsql);
		free(bsql);
		ld_shape_free(&fs);
		ld_shape_free(&bs);
	}
}

static void
test_shape_of_block(void **state)
{
	static const char *cols[] = {"id", "snapshot_time", "bad name", "hits", "id", "at"};
	static const struct seg_col_desc desc[] = {
		{"bigint", SEG_ROLE_KEY}, {"text", 0}, {"text", 0},
		{"bigint", SEG_ROLE_COUNTER}, {"text", 0}, {"timestamptz", SEG_ROLE_RESET},
	};
	struct seg_block_meta m = {.ncols = 6, .cols = cols};
	struct ld_shape s = {0};
	struct pga_err err = {0};
	char *sql = NULL;

	(void)state;
	strcpy(m.metric, "app_hits");
	/* undescribed, not a 1.0 metric: text, no view */
	assert_int_equal(ld_shape_of_block(&m, &s, &err), 0);
	assert_false(s.typed || s.builtin);
	assert_int_equal(s.ncols, 3);	/* no fixed, invalid or repeated column */
	assert_string_equal(s.cols[1].name, "hits");
	assert_string_equal(s.cols[1].type, "text");
	assert_false(ld_shape_has_counters(&s));
	ld_shape_free(&s);
	/* described: typed, a delta view with its reset column */
	m.desc = desc;
	assert_int_equal(ld_shape_of_block(&m, &s, &err), 0);
	assert_true(s.typed);
	assert_string_equal(s.cols[2].type, "timestamptz");
	assert_int_equal(ld_schema_metric_sql("\"pga\"", &s, &sql, &err), 0);
	assert_non_null(strstr(sql, "\"id\" bigint, \"hits\" bigint, \"at\" timestamptz)"));
	assert_false(s.per_db);
	assert_non_null(strstr(sql, "(collector_id, server_id, \"id\", snapshot_time)"));
	assert_non_null(strstr(sql, "CASE WHEN is__reset THEN \"hits\" ELSE \"hits\" -"));
	assert_non_null(strstr(sql, "\"at\" IS DISTINCT FROM lag__reset"));
	free(sql);
	ld_shape_free(&s);
	/* per database by its flag: dbname after the keys */
	m.flags = SEG_BLOCK_PER_DATABASE;
	assert_int_equal(ld_shape_of_block(&m, &s, &err), 0);
	assert_true(s.per_db);
	assert_int_equal(ld_schema_metric_sql("\"pga\"", &s, &sql, &err), 0);
	assert_non_null(strstr(sql, "(collector_id, server_id, \"id\", dbname, snapshot_time)"));
	free(sql);
	ld_shape_free(&s);
	/* a block of minor 0 has no flags: its database says it */
	m.flags = 0;
	m.desc = NULL;
	strcpy(m.database, "app");
	assert_int_equal(ld_shape_of_block(&m, &s, &err), 0);
	assert_true(s.per_db);
	ld_shape_free(&s);
	strcpy(m.metric, "pg_stat_slru");
	assert_int_equal(ld_shape_of_block(&m, &s, &err), 0);
	assert_true(s.builtin && s.per_db);
	ld_shape_free(&s);
	m.database[0] = '\0';
	/* a 1.0 metric without descriptors: the frozen catalog's, closed */
	strcpy(m.metric, "pg_stat_slru");
	m.desc = NULL;
	assert_int_equal(ld_shape_of_block(&m, &s, &err), 0);
	assert_true(s.typed && s.builtin && s.closed);
	assert_non_null(ld_shape_col(&s, "blks_hit"));
	assert_int_equal(ld_shape_col(&s, "stats_reset")->role, SEG_ROLE_RESET);
	ld_shape_free(&s);
}

static void
test_type_fits(void **state)
{
	(void)state;
	assert_true(ld_type_fits("bigint", "bigint"));
	assert_true(ld_type_fits("timestamptz", "timestamp with time zone"));
	assert_true(ld_type_fits("timestamptz[]", "timestamp with time zone[]"));
	assert_true(ld_type_fits("integer[]", "integer[]"));
	assert_true(ld_type_fits("bigint", "text"));	/* an older loader's custom column */
	assert_false(ld_type_fits("text", "bigint"));
	assert_false(ld_type_fits("timestamptz", "bigint"));
	assert_false(ld_type_fits("integer", "bigint"));
	assert_false(ld_type_fits("integer[]", "integer"));
}

/* ---- what stops a load, what is isolated ---- */

static struct pga_err
db_err(const char *sqlstate)
{
	struct pga_err e = {.code = PGA_EDB};

	snprintf(e.sqlstate, sizeof(e.sqlstate), "%s", sqlstate);
	return e;
}

static void
test_fatal(void **state)
{
	static const char *const fatal[] = {"42501", "25006", "53100", "53200", "53300", "08006",
		"57P01", "57P03", "3F000", "3D000", "28000", "58030", "XX000", "XX001", "42P01", NULL};
	static const char *const not_fatal[] = {"22021", "22P02", "22P04", "23502", "40P01",
		"55P03", "23505", "57014", "42601", "", NULL};
	struct pga_err e = {0};

	(void)state;
	for (const char *const *s = fatal; *s; s++) {
		e = db_err(*s);
		assert_true(loader_error_fatal(&e));
	}
	for (const char *const *s = not_fatal; *s; s++) {
		e = db_err(*s);
		assert_false(loader_error_fatal(&e));
	}
	e.code = PGA_ENET;
	assert_true(loader_error_fatal(&e));
	e.code = PGA_ECORRUPT;
	assert_false(loader_error_fatal(&e));
	e.code = PGA_ECONFLICT;
	assert_false(loader_error_fatal(&e));
}

static void
test_data_error(void **state)
{
	static const char *const data[] = {"22021", "22P02", "22P04", "22003", "22007", "22008",
		"23502", "54000", NULL};
	static const char *const other[] = {"42501", "23505", "23514", "40P01", "53100", "", NULL};
	struct pga_err e = {0};

	(void)state;
	for (const char *const *s = data; *s; s++) {
		e = db_err(*s);
		assert_true(ld_data_error(&e));
	}
	for (const char *const *s = other; *s; s++) {
		e = db_err(*s);
		assert_false(ld_data_error(&e));
	}
	e.code = PGA_ECORRUPT;	/* our own CSV checks */
	assert_true(ld_data_error(&e));
	e.code = PGA_ENET;
	assert_false(ld_data_error(&e));
}

/* Several blocks share one COPY: a block must not end inside a quote. */
static void
test_block_ends_in_quote(void **state)
{
	static const char *const open[] = {"1,\"abc\n", "1,\"a\"\"\n", "\"\n", "1,a\n2,\"x", NULL};
	static const char *const closed[] = {"1,\"a\"\"b\"\n", "1,\"\"\n", "1,\"x\ny\"\n", NULL};
	struct capture out;
	struct pga_err err = {0};

	(void)state;
	for (const char *const *c = open; *c; c++)
		for (size_t step = 1; step <= strlen(*c); step++)
			assert_int_equal(run_block("1,1,T,", NULL, 2, *c, step, &out, &err),
					 PGA_ECORRUPT);
	for (const char *const *c = closed; *c; c++)
		assert_int_equal(run_block("1,1,T,", NULL, 2, *c, 1, &out, &err), 0);
}

/* A released migration is never edited: its text is pinned here. */
static void
test_migration_1_unchanged(void **state)
{
	char *sql = ld_migration_sql(1, "\"pga\"", NULL);
	uint8_t d[PGA_SHA256_LEN];
	char hex[PGA_SHA256_HEX];

	(void)state;
	assert_non_null(sql);
	pga_sha256_buf(sql, strlen(sql), d);
	pga_hex(d, sizeof(d), hex);
	assert_string_equal(hex, "4c0bcf4a9890b8ccd95b7bb3dc4ae5dab033c25176f753d2aa5e636a82b9b370");
	free(sql);
	assert_non_null((sql = ld_migration_sql(LD_SCHEMA_VERSION, "\"pga\"", NULL)));
	free(sql);
	assert_null(ld_migration_sql(LD_SCHEMA_VERSION + 1, "\"pga\"", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derived_names),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_catalog_names),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_prefix_every_chunking),
		cmocka_unit_test(test_missing_final_newline),
		cmocka_unit_test(test_drop_every_chunking),
		cmocka_unit_test(test_drop_keeps_blanks),
		cmocka_unit_test(test_drop_all_columns),
		cmocka_unit_test(test_drop_field_count),
		cmocka_unit_test(test_metric_sql),
		cmocka_unit_test(test_builtin_is_catalog),
		cmocka_unit_test(test_shape_of_block),
		cmocka_unit_test(test_type_fits),
		cmocka_unit_test(test_fatal),
		cmocka_unit_test(test_data_error),
		cmocka_unit_test(test_block_ends_in_quote),
		cmocka_unit_test(test_migration_1_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
