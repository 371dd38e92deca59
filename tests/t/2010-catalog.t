#!/usr/bin/env bash
# The catalog against real servers of every version in PGA_TEST_VERSIONS
# (default 12 15 18; `make check-versions` runs 12..18): one collect over
# all of them without a single query error, every available metric in the
# segment, each row exactly as wide as the canonical column list, the same
# columns on every version, and every column of the type the catalog says.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

VERSIONS=${PGA_TEST_VERSIONS:-12 15 18}
SP=$TEST_TMP/spool
printf '[global]\nspool-path = %s\ncollector = cat\nos-stats = on\n' "$SP" >"$TEST_TMP/pga.conf"
for v in $VERSIONS; do
	pg_have_version "$v" || { diag "PostgreSQL $v not installed: skipped (scripts/deps.sh)"; continue; }
	pg_start "v$v" "$v" "track_functions = all" "wal_level = logical" "max_replication_slots = 4"
	pg_psql "v$v" postgres -c "CREATE EXTENSION pg_stat_statements" \
		-c "CREATE TABLE t(a int PRIMARY KEY, b text); INSERT INTO t SELECT g, 'x' FROM generate_series(1, 100) g" \
		-c "CREATE TABLE r(a int REFERENCES t) WITH (fillfactor = 80)" \
		-c "CREATE SEQUENCE s; SELECT nextval('s')" \
		-c "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'; SELECT f()" \
		-c "SELECT pg_create_logical_replication_slot('slot', 'test_decoding')" \
		-c "CREATE DATABASE other" >/dev/null
	printf '[target:v%s]\nconninfo = %s\n' "$v" "$(pg_conninfo "v$v" '*')" >>"$TEST_TMP/pga.conf"
	echo "$v" >>"$TEST_TMP/versions"
done
[ -s "$TEST_TMP/versions" ] || skip_all "none of PostgreSQL $VERSIONS is installed"
export PGA_CONFIG=$TEST_TMP/pga.conf

run_ok "one cycle over PostgreSQL $(tr '\n' ' ' <"$TEST_TMP/versions")" pga collect
like "$(last_err)" "0 failed, 0 skipped; .*; 0 metric errors" "no target failed, not a single metric error"
ok $(grep -q "warn" "$ERR"; [ $? -ne 0 ]; echo $?) "no warning"
helper seg-blocks "$SP" >"$TEST_TMP/blocks"
pga spool cat "$(find "$SP/ready" -name '*.pga.zst')" >"$TEST_TMP/cat"

# rows as wide as their header, per target and metric
python3 - "$TEST_TMP/cat" >"$TEST_TMP/widths" <<'PY'
import csv, sys
bad, cols, key = set(), None, None
for row in csv.reader(open(sys.argv[1], newline='')):
    if row and row[0].startswith('# block'):
        f = dict(x.split('=', 1) for x in row[0].split()[3:] if '=' in x)
        key, cols = f['target'] + '/' + f['metric'], None
        continue
    if cols is None:
        cols = len(row)
    elif len(row) != cols:
        bad.add(key)
print(' '.join(sorted(bad)))
PY
is "$(cat "$TEST_TMP/widths")" "" "every row of every block has the canonical number of fields"

helper catalog-cols >"$TEST_TMP/cols"
while read -r v; do
	sv=$(pg_psql "v$v" postgres -At -c "SHOW server_version_num")
	ev=$(pg_psql "v$v" postgres -At -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'")
	helper catalog-sql "$sv" "$ev" >"$TEST_TMP/sql.$v"
	missing=$(cut -f1 "$TEST_TMP/sql.$v" | while read -r m; do
		awk -F'\t' -v m="$m" -v t="v$v" '$1 == m && $2 == t' "$TEST_TMP/blocks" | grep -q . || echo "$m"
	done)
	is "$missing" "" "PostgreSQL $v: every metric it has is in the segment ($(grep -c . "$TEST_TMP/sql.$v") metrics)"
	wrong=$(awk -F'\t' -v t="v$v" '$2 == t { print $1 "\t" $10 }' "$TEST_TMP/blocks" | sort -u |
		while IFS=$'\t' read -r m c; do
			[ "$c" = "$(awk -F'\t' -v m="$m" '$1 == m { print $4 }' "$TEST_TMP/cols")" ] || echo "$m"
		done)
	is "$wrong" "" "PostgreSQL $v: the catalog's canonical columns"
	# each query's result types, through a view named by the canonical columns
	while IFS=$'\t' read -r m scope sql; do
		cols=$(awk -F'\t' -v m="$m" '$1 == m { print $4 }' "$TEST_TMP/cols")
		got=$(pg_psql "v$v" postgres -At -c "CREATE TEMP VIEW probe ($cols) AS $sql" \
			-c "SELECT string_agg(attname || ' ' || CASE format_type(atttypid, NULL)
			      WHEN 'name' THEN 'text' WHEN 'timestamp with time zone' THEN 'timestamptz'
			      ELSE format_type(atttypid, NULL) END, ',' ORDER BY attnum)
			    FROM pg_attribute WHERE attrelid = 'probe'::regclass AND attnum > 0" 2>&1)
		echo "$m	$got"
	done <"$TEST_TMP/sql.$v" >"$TEST_TMP/types.$v"
	helper catalog-types >"$TEST_TMP/want-types"
	is "$(join -t $'\t' <(sort "$TEST_TMP/types.$v") <(sort "$TEST_TMP/want-types") |
		awk -F'\t' '$2 != $3 { print $1 ": " $2 " <> " $3 }')" "" \
		"PostgreSQL $v: every column has the catalog's name and type"
done <"$TEST_TMP/versions"

is "$(awk -F'\t' '{ print $1 "\t" $10 }' "$TEST_TMP/blocks" | sort -u | cut -f1 | uniq -d)" "" \
	"each metric has one column list across all versions"
done_testing
