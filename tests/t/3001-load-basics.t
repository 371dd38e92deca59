#!/usr/bin/env bash
# pga load: schema, exact contents, custom metrics, column mapping, twice
# adds nothing, and every bad start is one clear line with exit 1.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central
pg_psql central postgres -c "CREATE DATABASE c1" -c "CREATE DATABASE empty"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
SP=$TEST_TMP/spool
printf '[global]\ncollector = site-a\nspool-path = %s\n' "$SP" >"$TEST_TMP/pga.conf"
export PGA_CONFIG=$TEST_TMP/pga.conf
one_line() { is "$(grep -c . "$ERR")" 1 "$1: the error is one line"; }

# ---- errors before anything is loaded ----
printf '1,x\n' | pga spool put --metric m1 --columns a,b 2>/dev/null
run_fails 1 "a database that does not answer" pga load --db "host=$TEST_TMP port=1 dbname=x" --from "$SP"
like "$(last_err)" "could not connect to 'dbname=x host=[^']* port=1'" "names the database"
one_line "bad --db"
run_fails 64 "--db with a password is refused: argv is public" pga load --db "host=$TEST_TMP port=1 password=s3cret" --from "$SP"
ok $(grep -q s3cret "$ERR"; [ $? -ne 0 ]; echo $?) "the password is not in the message"
like "$(last_err)" "--db holds a password" "the message says why"
cat >"$TEST_TMP/pw.conf" <<CONF
[global]
central = host=$TEST_TMP port=1 password=s3cret
CONF
run_fails 1 "a password in the config file is allowed, and never echoed" pga -c "$TEST_TMP/pw.conf" load --from "$SP"
ok $(grep -q s3cret "$ERR"; [ $? -ne 0 ]; echo $?) "the password is not in the message"
run_fails 1 "a database without the schema" pga load --db "$(pg_conninfo central empty)" --from "$SP"
like "$(last_err)" "has no pga schema 'pga': run 'pga load --init'" "says how to create it"
one_line "no schema"
run_fails 64 "no --db and no central in the config" pga load --from "$SP"
like "$(last_err)" "no central database: give --db or set 'central'" "says where to set it"

run_ok "--init creates the schema" pga load --init --db "$DB"
is "$(q "SELECT max(version) FROM pga.schema_version")" 4 "schema version 4 recorded"
run_ok "--init again is a no-op" pga load --init --db "$DB"
is "$(q "SELECT count(*) FROM pga.schema_version")" 4 "still four migrations recorded"
is "$(q "SELECT count(*) FROM pga.metrics WHERE kind = 'catalog'")" \
	"$(helper catalog-cols | cut -d' ' -f1 | sort -u | grep -c .)" "one table per catalog metric"
ok $(q "SELECT to_regclass('pga.pg_stat_database_delta') IS NOT NULL" | grep -qx t; echo $?) \
	"a delta view for a cumulative metric"

q "INSERT INTO pga.schema_version VALUES (99, 'from the future', 'pga 9.9')"
run_fails 1 "a schema newer than this pga" pga load --db "$DB" --from "$SP"
like "$(last_err)" "central schema 'pga' is at version 99, newer than this pga knows \(4\): upgrade pga" \
	"says which version"
one_line "newer schema"
run_fails 1 "--init refuses to touch it too" pga load --init --db "$DB"
q "DELETE FROM pga.schema_version WHERE version = 99"

echo "just text" >"$TEST_TMP/notes.txt"
run_fails 2 "a file that is not a segment" pga load --db "$DB" --from "$TEST_TMP/notes.txt"
like "$(last_err)" "notes.txt.*not a pga segment" "names the file and why"
is "$(grep -c error "$ERR")" 1 "one error line"
run_fails 1 "a --from that does not exist" pga load --db "$DB" --from "$TEST_TMP/nothing"
like "$(last_err)" "could not open '[^']*nothing'" "names the path"
is "$(q "SELECT count(*) FROM pga.segments")" 0 "nothing loaded by any of that"

# ---- contents: CSV in, the same CSV out ----
rm -rf "$SP"
cat >"$TEST_TMP/a.csv" <<'CSV'
1,plain,10
2,"with, comma",20
3,"with ""quotes""",
4,"two
lines",40
5,"",50
6,,
CSV
pga spool put --metric app_stats --columns id,label,n --database "shop, \"eu\"" \
	--time 2026-11-20T10:00:00Z <"$TEST_TMP/a.csv" 2>/dev/null
seq 1 1000 | awk '{ printf "%d,row %d\n", $1, $1 }' |
	pga spool put --metric app_stats --columns id,label --time 2026-11-20T10:05:00Z 2>/dev/null
# a later block with a new column: the table grows
printf '7,new,70,extra\n' | pga spool put --metric app_stats --columns id,label,n,more \
	--time 2026-11-21T00:00:01Z 2>/dev/null
# blocks an older `pga spool put` wrote and today's refuses (tests/t/1011): the
# loader still copes with them.  Written under other names, then renamed in
# the segment (and the next segment re-chained to it).
# reforge SEG KEY=VALUE...: rewrite ready/SEG in place; echo its sha256
reforge() {
	local seg=$1; shift
	helper seg-forge "$seg" "$seg" "$@" || ok 1 "forge $seg $*"
	sha256sum "$seg" | cut -c1-64
}
# a catalog metric with a column the central side does not know
printf '16384,mydb,3,9,1\n' | pga spool put --metric psd --columns \
	datid,datname,numbackends,xact_commit,no_such_column --time 2026-11-20T10:00:00Z 2>/dev/null
# a custom metric named like one of our own tables
printf '1\n' | pga spool put --metric segs --columns x --time 2026-11-20T10:00:00Z 2>/dev/null
mapfile -t OLD < <(find "$SP/ready" -name '*.pga.zst' -printf '%f %p\n' | sort | tail -n 2 | cut -d' ' -f2)
prev=$(reforge "${OLD[0]}" block.metric=pg_stat_database)
reforge "${OLD[1]}" block.metric=segments prev="$prev" >/dev/null

run_ok "--dry-run" pga load --db "$DB" --from "$SP" --dry-run
like "$(last_out)" "would load 5 of 5 segments" "counts what would load"
is "$(q "SELECT count(*) FROM pga.segments")" 0 "and writes nothing"

# on a terminal: a live progress line on stderr (script(1) provides the tty)
script -qec "'$PGA_BIN' load --db '$DB' --from '$SP' --dry-run" /dev/null >"$TEST_TMP/tty.out" 2>&1
like "$(tr '\r' '\n' <"$TEST_TMP/tty.out")" "5/5 segments +1008 rows .* MB/s" "progress: segments, rows, MB/s"

# a dropped column and a refused block are refusals: recorded, exit 2
run_fails 2 "load the spool" pga load --db "$DB" --from "$SP"
like "$(last_out)" "^loaded 5 of 5 segments \(0 already loaded, 0 filtered, 0 refused\): 1008 rows.*, 1 blocks refused \(1 rows\), 1 unknown columns dropped" \
	"one-line summary"
like "$(last_err)" "column 'no_such_column' of metric 'pg_stat_database' is not in the central table: dropped" \
	"an unknown column is dropped with a warning"
like "$(last_err)" "metric 'segments' is reserved" "a reserved custom metric name is refused"
is "$(q "SELECT count(*) FROM pga.app_stats")" 1007 "custom metric: every row"
pg_psql central c1 -c "\copy (SELECT id, label, n FROM pga.app_stats WHERE snapshot_time = '2026-11-20 10:00:00+00' ORDER BY id::int) TO '$TEST_TMP/a.out' (FORMAT csv)"
is "$(cat "$TEST_TMP/a.out")" "$(cat "$TEST_TMP/a.csv")" "quotes, newlines, NULL and '' come back exactly"
is "$(q "SELECT count(*) FROM pga.app_stats WHERE dbname = 'shop, \"eu\"'")" 6 "database name with comma and quotes"
is "$(q "SELECT count(*) FROM pga.app_stats WHERE more = 'extra' AND id = '7'")" 1 "a column added by a later block"
is "$(q "SELECT count(*) FROM pga.app_stats WHERE n IS NULL AND snapshot_time = '2026-11-20 10:05:00+00'")" \
	1000 "an older block without the new columns loads with NULLs"
is "$(q "SELECT datid, datname, numbackends, xact_commit FROM pga.pg_stat_database")" "16384|mydb|3|9" \
	"catalog metric: known columns typed and loaded"
is "$(q "SELECT count(*) FROM pga.segments WHERE complete")" 5 "five segments in the ledger"
is "$(q "SELECT sum(rows) FROM pga.segments")" 1008 "ledger rows = CSV rows loaded (all but the refused block)"
spool_rows=$(pga spool ls --spool "$SP" --json | grep -o '"rows":[0-9]*' | head -5 | cut -d: -f2 | paste -sd+ | bc)
is "$(q "SELECT sum(total_rows) FROM pga.segments")" "$spool_rows" "ledger total rows = what the spool holds"
is "$(q "SELECT string_agg(encode(sha256, 'hex'), ' ' ORDER BY seq) FROM pga.segments")" \
	"$(cd "$SP/ready" && find . -name '*.pga.zst' | sort | xargs sha256sum | cut -d' ' -f1 | paste -sd' ')" \
	"ledger hashes are the files' sha256sum"
is "$(q "SELECT count(*) FROM pga.app_stats_p20261120")" 1006 "daily partition of the 20th"
is "$(q "SELECT count(*) FROM pga.app_stats_p20261121")" 1 "daily partition of the 21st"

run_ok "loading again" pga load --db "$DB" --from "$SP" --json
cp "$OUT" "$TEST_TMP/again.json"
like "$(last_out)" '"loaded":0,"duplicate":5' "adds nothing: all five already loaded"
like "$(last_out)" '"elapsed_seconds":[0-9.]+,"error":null,"errors":\[\]' "  its duration in seconds, as every JSON document says durations"
is "$(q "SELECT count(*) FROM pga.app_stats")" 1007 "still 1007 rows"

run_ok "--collector of another collector" pga load --db "$DB" --from "$SP" --collector other
like "$(last_out)" "0 already loaded, 5 filtered" "filters everything"

# ---- a column named like a fixed one, and a schema name that needs quoting ----
# (an older put wrote it; today's refuses: forged as above)
printf '1,2\n' | pga spool put --spool "$TEST_TMP/sp2" --metric odd --columns id,snap \
	--time 2026-11-20T10:00:00Z 2>/dev/null
# the widest block the format allows: 1024 columns (COPY's column list > 8 KiB)
cols=$(seq -f "c%04g" 1 1024 | paste -sd,)
seq 1 1024 | paste -sd, | pga spool put --spool "$TEST_TMP/sp2" --metric wide --columns "$cols" \
	--time 2026-11-20T10:00:00Z 2>/dev/null
mapfile -t OLD < <(find "$TEST_TMP/sp2/ready" -name '*.pga.zst' -printf '%f %p\n' | sort | cut -d' ' -f2)
prev=$(reforge "${OLD[0]}" block.col1=snapshot_time)
reforge "${OLD[1]}" prev="$prev" >/dev/null
S='my "stats", v2'
run_ok "--init --schema with quotes and a comma" pga load --init --db "$DB" --schema "$S"
run_fails 2 "load into it (a column dropped: exit 2)" pga load --db "$DB" --schema "$S" --from "$TEST_TMP/sp2"
like "$(last_err)" "column 'snapshot_time' of metric 'odd' is not in the central table: dropped" \
	"a block column named like a fixed column is dropped"
is "$(q "SELECT id || ' ' || snapshot_time FROM \"my \"\"stats\"\", v2\".odd")" "1 2026-11-20 10:00:00+00" \
	"the row is there, with the block's snapshot time"
is "$(q "SELECT count(*) FROM pga.odd" 2>/dev/null)" "" "nothing went to the default schema"
is "$(q "SELECT c0001 || c1024 FROM \"my \"\"stats\"\", v2\".wide")" \
	11024 "a 1024-column custom metric"

# ---- the catalog grows: new tables and columns appear without a migration ----
q "SET client_min_messages = warning; ALTER TABLE pga.pg_stat_database DROP COLUMN sessions_killed CASCADE;
   DROP TABLE pga.pg_stat_user_tables CASCADE; DELETE FROM pga.catalog_applied" >/dev/null
run_ok "a load meets a database from an older catalog" pga load --db "$DB" --from "$SP"
like "$(last_err)" "added column 'sessions_killed'" "says what it added"
is "$(q "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'pga'
	AND table_name = 'pg_stat_database' AND column_name = 'sessions_killed'")" 1 "the column is back"
ok $(q "SELECT to_regclass('pga.pg_stat_user_tables_delta') IS NOT NULL" | grep -qx t; echo $?) \
	"the table and its delta view are back"
is "$(q "SELECT count(*) FROM pga.catalog_applied")" 1 "this catalog's fingerprint is recorded"
run_ok "the next load" pga load --db "$DB" --from "$SP"
ok $(grep -q "added column\|catalog tables ready" "$ERR"; [ $? -ne 0 ]; echo $?) "does no DDL at all"

# ---- status of the central side ----
run_fails 2 "central status: the refused block and the dropped column need attention" \
	helper central-status --json "$DB"
like "$(last_out)" '"collector":"site-a".*"segments":5,"partial":0,"rows":1008,"gaps":0.*"blocks_refused":1,"rows_refused":1' \
	"per collector"
like "$(last_out)" '"quarantine_total":2,' "two refusals recorded"
like "$(last_out)" '"kind":"reserved","block":0,"metric":"segments"' "the reserved block, by block and metric"
like "$(last_out)" '"kind":"columns","block":0,"metric":"pg_stat_database"' "the dropped column, by block and metric"
ok $(grep -q notes.txt "$OUT"; [ $? -ne 0 ]; echo $?) "a file that is no segment at all is not quarantined"

# ---- retention drops whole days ----
run_ok "--retain 1d" pga load --db "$DB" --from "$SP" --retain 1d
like "$(last_out)" "partitions dropped" "reports dropped partitions"
ok $(q "SELECT to_regclass('pga.app_stats_p20261120') IS NULL" | grep -qx t; echo $?) "the old partition is gone"
is "$(q "SELECT count(*) FROM pga.app_stats")" 0 "with its rows"

# --json gets its summary on every exit, a run that could not start too
run_fails 1 "a source that does not exist" pga load --db "$DB" --from "$TEST_TMP/no-such-spool" --json
like "$(last_err)" "no-such-spool" "the error names it, on stderr"
cp "$OUT" "$TEST_TMP/failed.json"
run_ok "the summary is JSON, with the error" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["loaded"] == 0 and j["segments"] == 0, j
assert "no-such-spool" in j["error"], j["error"]' "$TEST_TMP/failed.json"
run_ok "a good run says no error" python3 -c '
import json, sys; assert json.load(open(sys.argv[1]))["error"] is None' "$TEST_TMP/again.json"

done_testing
