#!/usr/bin/env bash
# The catalog against real servers of every version in PGA_TEST_VERSIONS
# (default 12 15 18; `make check-versions` runs 12..18): one collect over
# all of them without a single query error, every available metric in the
# segment, each row exactly as wide as the canonical column list, the same
# columns on every version, and every column of the type the catalog says.
# Maintenance runs meanwhile (tests/lib/maint.sh), so the progress views,
# activity_top and blocking_chains have rows; pgstattuple is installed.
# The standby, logical replication and PoWA extensions: 2011-catalog-more.t.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/maint.sh"

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
		-c "CREATE EXTENSION pgstattuple" -c "VACUUM ANALYZE t" \
		-c "CREATE TABLE wide (a text, b text, c text, d text, e text, f text, g text, h text)" \
		-c "INSERT INTO wide SELECT g, g, g, g, g, g, g, g FROM generate_series(1, 100) g" \
		-c "CREATE INDEX wide_all ON wide (a, b, c, d, e, f, g, h)" \
		-c "CREATE TABLE \"odd, \"\"name\"\"
\\.\" (a int); INSERT INTO \"odd, \"\"name\"\"
\\.\" VALUES (1)" \
		-c "CREATE DATABASE other" >/dev/null
	printf '[target:v%s]\nconninfo = %s\n' "$v" "$(pg_conninfo "v$v" '*')" >>"$TEST_TMP/pga.conf"
	# and once with a list of databases: conditions asked in each session
	[ -s "$TEST_TMP/versions" ] ||
		printf '[target:list%s]\nconninfo = %s\ndatabases = postgres,other\n' "$v" \
			"$(pg_conninfo "v$v")" >>"$TEST_TMP/pga.conf"
	echo "$v" >>"$TEST_TMP/versions"
	maint_start "v$v" postgres "$v" || diag "v$v: maintenance did not start"
done
[ -s "$TEST_TMP/versions" ] || skip_all "none of PostgreSQL $VERSIONS is installed"
export PGA_CONFIG=$TEST_TMP/pga.conf
while read -r v; do
	maint_wait "v$v" postgres "$v" || diag "v$v: not every command is in progress"
done <"$TEST_TMP/versions"

run_ok "one cycle over PostgreSQL $(tr '\n' ' ' <"$TEST_TMP/versions")" pga collect
like "$(last_err)" "0 failed, 0 skipped; .*; 0 metric errors" "no target failed, not a single metric error"
ok $(grep -q "warn" "$ERR"; [ $? -ne 0 ]; echo $?) "no warning"
# which conditions hold, while the commands still run (a standby's do not)
while read -r v; do
	sv=$(pg_psql "v$v" postgres -At -c "SHOW server_version_num")
	ev=$(pg_psql "v$v" postgres -At -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'")
	tv=$(pg_psql "v$v" postgres -At -c "SELECT extversion FROM pg_extension WHERE extname = 'pgstattuple'")
	helper catalog-sql --all --ext "pgstattuple=$tv" "$sv" "$ev" >"$TEST_TMP/all.$v"
	while IFS=$'\t' read -r m scope when sql; do
		[ "$(pg_psql "v$v" postgres -At -c "SELECT coalesce(($when), false)")" = t ] && printf '%s\t%s\t%s\n' "$m" "$scope" "$sql"
	done <"$TEST_TMP/all.$v" >"$TEST_TMP/sql.$v"
	cut -f1,2,4 "$TEST_TMP/all.$v" >"$TEST_TMP/probe.$v"
	# loop mode's prepared statements against COPY, in one transaction,
	# while the maintenance runs (activity, progress, locks have rows)
	helper prepared-csv "$(pg_conninfo "v$v")" "$TEST_TMP/sql.$v" >"$TEST_TMP/prep.$v" \
		2>"$TEST_TMP/prep.$v.err"
	# and with results of at most 2 rows: a bigger one is read by COPY
	helper prepared-csv "$(pg_conninfo "v$v")" "$TEST_TMP/sql.$v" 2 >"$TEST_TMP/prep2.$v" \
		2>"$TEST_TMP/prep2.$v.err"
	# and a session's metrics in batches (one round trip), both ways
	helper prepared-batch "$(pg_conninfo "v$v")" "$TEST_TMP/sql.$v" >"$TEST_TMP/batch.$v" \
		2>"$TEST_TMP/batch.$v.err"
	helper prepared-batch "$(pg_conninfo "v$v")" "$TEST_TMP/sql.$v" 2 >"$TEST_TMP/batch2.$v" \
		2>"$TEST_TMP/batch2.$v.err"
	maint_stop "v$v"
done <"$TEST_TMP/versions"
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
	missing=$(cut -f1 "$TEST_TMP/sql.$v" | while read -r m; do
		awk -F'\t' -v m="$m" -v t="v$v" '$1 == m && $2 == t' "$TEST_TMP/blocks" | grep -q . || echo "$m"
	done)
	is "$missing" "" "PostgreSQL $v: every metric it has is in the segment ($(grep -c . "$TEST_TMP/sql.$v") metrics)"
	wrong=$(awk -F'\t' -v t="v$v" '$2 == t { print $1 "\t" $10 }' "$TEST_TMP/blocks" | sort -u |
		while IFS=$'\t' read -r m c; do
			[ "$c" = "$(awk -F'\t' -v m="$m" '$1 == m { print $4 }' "$TEST_TMP/cols")" ] || echo "$m"
		done)
	is "$wrong" "" "PostgreSQL $v: the catalog's canonical columns"
	# the metrics of the DBA's list have rows here, where the server has them
	empty=$(for m in pg_stat_progress_vacuum pg_stat_progress_analyze pg_stat_progress_create_index \
		pg_stat_progress_cluster pg_stat_progress_copy pg_stat_progress_basebackup activity_top \
		blocking_chains pg_control_checkpoint wal_files tablespaces table_bloat index_bloat \
		table_bloat_exact index_bloat_exact pg_stat_statements_totals; do
		grep -q "^$m	" "$TEST_TMP/all.$v" || continue
		awk -F'\t' -v m="$m" -v t="v$v" '$1 == m && $2 == t { s += $4 } END { exit !(s > 0) }' \
			"$TEST_TMP/blocks" || echo "$m"
	done)
	is "$empty" "" "PostgreSQL $v: the new metrics have rows"
	# the chain A <- B <- C: A at its head, C behind B, two behind A
	python3 - "$TEST_TMP/cat" "v$v" >"$TEST_TMP/chain.$v" <<'PY'
import csv, sys
rows, cols, on = [], None, False
for row in csv.reader(open(sys.argv[1], newline='')):
    if row and row[0].startswith('# block'):
        f = dict(x.split('=', 1) for x in row[0].split()[3:] if '=' in x)
        on, cols = f['metric'] == 'blocking_chains' and f['target'] == sys.argv[2], None
    elif on and cols is None:
        cols = row
    elif on:
        rows.append(dict(zip(cols, row)))
q = {r['pid']: r for r in rows if r['application_name'] == 'pga-maint'}
head = [r for r in q.values() if r['blocked_by'] == '']
b = [r for r in q.values() if r['blocked_by'] and r['blocked_by'].strip('{}') in [h['pid'] for h in head]]
c = [r for r in q.values() if b and r['blocked_by'] == '{%s}' % b[0]['pid']]
print(len(head), head[0]['chain_waiters'] if head else '-', head[0]['state'] if head else '-',
      len(b), len(c), c[0]['root_pids'] == '{%s}' % head[0]['pid'] if c and head else '-',
      c[0]['locktype'] if c else '-')
PY
	is "$(cat "$TEST_TMP/chain.$v")" "1 2 idle in transaction 1 1 True tuple" \
		"PostgreSQL $v: blocking_chains: the head idle in transaction, two behind it, C's root is A"
	if grep -q "^\[target:list$v\]" "$TEST_TMP/pga.conf"; then
		is "$(for m in $(awk -F'\t' '$1 ~ /^pg_stat_progress_/ && $2 == "database" { print $1 }' \
				"$TEST_TMP/sql.$v"); do
			awk -F'\t' -v m="$m" -v t="list$v" '$1 == m && $2 == t && $3 == "postgres" { s += $4 }
				END { if (!(s > 0)) print m }' "$TEST_TMP/blocks"; done)" "" \
			"PostgreSQL $v, databases listed in the target: the same progress blocks, with rows"
		is "$(awk -F'\t' '$1 ~ /^pg_stat_progress_/ && $3 == "other"' "$TEST_TMP/blocks" | grep -c .)" 0 \
			"no progress block where nothing is in progress"
	fi
	# each query's result types, through a view named by the canonical columns
	while IFS=$'\t' read -r m scope sql; do
		cols=$(awk -F'\t' -v m="$m" '$1 == m { print $4 }' "$TEST_TMP/cols")
		got=$(pg_psql "v$v" postgres -At -c "CREATE TEMP VIEW probe ($cols) AS $sql" \
			-c "SELECT string_agg(attname || ' ' || CASE format_type(atttypid, NULL)
			      WHEN 'name' THEN 'text' WHEN 'timestamp with time zone' THEN 'timestamptz'
			      ELSE format_type(atttypid, NULL) END, ',' ORDER BY attnum)
			    FROM pg_attribute WHERE attrelid = 'probe'::regclass AND attnum > 0" 2>&1)
		echo "$m	$got"
	done <"$TEST_TMP/probe.$v" >"$TEST_TMP/types.$v"
	helper catalog-types >"$TEST_TMP/want-types"
	is "$(join -t $'\t' <(sort "$TEST_TMP/types.$v") <(sort "$TEST_TMP/want-types") |
		awk -F'\t' '$2 != $3 { print $1 ": " $2 " <> " $3 }')" "" \
		"PostgreSQL $v: every column has the catalog's name and type"
done <"$TEST_TMP/versions"

# loop mode: the catalog's SELECTs prepared once per kept connection
while read -r v; do
	# (moved: differed once, a value read live, and not in the next rounds)
	is "$(grep -v -P '\t(same|volatile|moved)\t' "$TEST_TMP/prep.$v")" "" \
		"PostgreSQL $v: each metric's CSV from a prepared statement is COPY's, byte for byte" ||
		diag "$(cat "$TEST_TMP/prep.$v.err")"
	nsame=$(grep -c -P '\tsame\t' "$TEST_TMP/prep.$v")
	nall=$(grep -c . "$TEST_TMP/sql.$v")
	ok $([ "$nsame" -ge $((nall - 2)) ] && [ "$nsame" -gt 40 ]; echo $?) \
		"PostgreSQL $v: $nsame of $nall metrics compared (moving within a transaction:" \
		"$(grep -P '\tvolatile\t' "$TEST_TMP/prep.$v" | cut -f1 | tr '\n' ' '))"
	ok $(awk -F'\t' '$1 == "pg_stat_user_tables" && $2 == "same" && $3 > 0' "$TEST_TMP/prep.$v" |
		grep -q .; echo $?) "PostgreSQL $v: compared with rows (a table named with a comma, quotes, LF, \\.)"
	is "$(grep -v -P '\t(same|volatile|moved)\t' "$TEST_TMP/prep2.$v")" "" \
		"PostgreSQL $v: at most 2 rows a result, each metric's CSV is still COPY's, byte for byte" ||
		diag "$(cat "$TEST_TMP/prep2.$v.err")"
	ok $(awk -F'\t' '$1 == "pg_stat_user_tables" && $2 == "same" && $4 == "switched,copied"' \
		"$TEST_TMP/prep2.$v" | grep -q .; echo $?) \
		"PostgreSQL $v: more rows than a result holds: read by COPY in the same transaction, then always"
	ok $(grep -q -P '\tsame\t[1-9][0-9]*\tprepared,prepared$' "$TEST_TMP/prep2.$v"; echo $?) \
		"PostgreSQL $v: a metric of 1 or 2 rows stays prepared"
	is "$(helper prepared-replan "$(pg_conninfo "v$v")" | tr '\n' ' ')" '1 1 error 0A000 1,"x,y" prepared 254, then not 12 ' \
		"PostgreSQL $v: a statement whose result type changed fails once, then is prepared again;" \
		"$((256 - 2)) more fill the connection's statements, the next are refused"
	is "$(helper prepared-gone "$(pg_conninfo "v$v")" | tr '\n' ' ')" '7 error 26000 pooler copy ' \
		"PostgreSQL $v: statements gone from the session (a pooler): said once, then COPY"
	# the same in batches: every metric of a session in one round trip
	# (moved: differed once, a value read live, and not in the next rounds)
	is "$(grep -v -P '\t(same|volatile|moved)\t|^batches ' "$TEST_TMP/batch.$v")" "" \
		"PostgreSQL $v: each metric's CSV from a batch is COPY's, byte for byte" ||
		diag "$(cat "$TEST_TMP/batch.$v.err")"
	# a whole pass of COPYs, then of batches: more time between the
	# COPYs than one by one, more of them move (WAL, locks, checkpoints)
	nsame=$(grep -c -P '\tsame\t' "$TEST_TMP/batch.$v")
	ok $([ "$nsame" -ge $((nall - 8)) ] && [ "$nsame" -gt 35 ] &&
		grep -q -P '^pg_stat_user_tables\tsame\t[1-9][0-9]*\tbatched,batched$' "$TEST_TMP/batch.$v"
		echo $?) "PostgreSQL $v: batched, with rows, $nsame of $nall metrics compared (moving:" \
		"$(grep -P '\tvolatile\t' "$TEST_TMP/batch.$v" | cut -f1 | tr '\n' ' '))"
	ok $(awk '/^batches / { exit !($2 >= 2 && $3 == 1) }' "$TEST_TMP/batch.$v"; echo $?) \
		"PostgreSQL $v: the new statements' texts split the first batch ($(grep '^batches' "$TEST_TMP/batch.$v")), then one batch"
	is "$(grep -v -P '\t(same|volatile|moved)\t|^batches ' "$TEST_TMP/batch2.$v")" "" \
		"PostgreSQL $v: at most 2 rows a result, each batched metric's CSV is still COPY's" ||
		diag "$(cat "$TEST_TMP/batch2.$v.err")"
	ok $(grep -q -P '^pg_stat_user_tables\tsame\t[1-9][0-9]*\tswitched,copied$' "$TEST_TMP/batch2.$v" &&
		grep -q -P '\tsame\t[1-9][0-9]*\tbatched,batched$' "$TEST_TMP/batch2.$v"; echo $?) \
		"PostgreSQL $v: more rows than a result holds: out of the batch, by COPY, then always"
	is "$(helper prepared-batch-fail "$(pg_conninfo "v$v")")" \
"1 |error 22012 other|2 |error 42703 other|3 |1 2 3 4 5 switched| 5 statements
1 |error 22012 other|2 |error 42703 other|3 |1 2 3 4 5 copied| 5 statements
error 26000 pooler|error 22012 other|2 not prepared|error 42703 other|3 not prepared|1 2 3 4 5 not prepared| 0 statements
40 statements of 1 kB: 6 batches, 40 right" \
		"PostgreSQL $v: a failure ends its batch, the rest go in the next, no statement twice; a pooler; big texts split"
done <"$TEST_TMP/versions"
rm -rf "$SP"
run_ok "three cycles of --loop over PostgreSQL $(tr '\n' ' ' <"$TEST_TMP/versions")" \
	pga --log-level trace collect --loop --cycles 3 --interval 0.1s
is "$(grep -c 'cycle [0-9]*:.* 0 failed, .* 0 metric errors' "$ERR")" 3 "--loop: no target failed, not a single metric error"
ok $(grep "warn" "$ERR" | grep -v -q "longer than the interval"; [ $? -ne 0 ]; echo $?) "--loop: no warning"
while read -r v; do
	is "$(cut -f1 "$TEST_TMP/sql.$v" | grep -v -x -P 'pg_stat_statements(_texts)?|pg_stat_progress_.*' |
		while read -r m; do
			grep -q "target 'v$v'.* metric '$m': .*, prepared\$" "$ERR" || echo "$m"
		done)" "" "PostgreSQL $v: --loop ran each catalog metric prepared"
	is "$(grep "target 'v$v' metric 'pg_stat_statements\(_texts\)\?': " "$ERR" | grep -c prepared)" 0 \
		"PostgreSQL $v: but pg_stat_statements and its texts by COPY"
done <"$TEST_TMP/versions"
helper seg-blocks "$SP" >"$TEST_TMP/loop-blocks"
is "$(cut -f1,2 "$TEST_TMP/blocks" | sort -u | grep -v -P '^(pg_stat_progress_|activity_top|blocking_chains)' |
	comm -23 - <(cut -f1,2 "$TEST_TMP/loop-blocks" | sort -u))" "" \
	"--loop: every metric of the one-shot cycle but those of the maintenance"

is "$(awk -F'\t' '{ print $1 "\t" $10 }' "$TEST_TMP/blocks" | sort -u | cut -f1 | uniq -d)" "" \
	"each metric has one column list across all versions"
done_testing
