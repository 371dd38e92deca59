#!/usr/bin/env bash
# Disaster recovery (issue 15, "Measure it"): pga restore from s3rver beside
# the ingest floor, on the same server, from one generated archive.
#
#   the archive: tests/helper gen-archive, the catalog's columns and value
#     distributions; by default 2 collectors x 10 databases, a snapshot
#     every 1200 s, a segment every 5 snapshots, 2 days (BENCH_RESTORE_*
#     below), shipped to s3rver by pga ship.  The full scale of the issue
#     is 100 databases at 60 s for 30 days: about 2.1 billion rows, 69
#     million for the last 24 hours; as 10 collectors of 10 databases at the
#     defaults (segment-max-age 5 min), 23,500 rows a segment.  The bench
#     scales down collectors and time, not the segment: a collector's
#     snapshot and segment are as large as at full scale, so what a
#     segment costs (its SQL, its fetch) weighs per row as it would there.
#   the floor: the same rows as CSV, exactly as the central tables hold
#     them, loaded by two parallel `psql \copy` streams (gen-archive's two
#     csv streams) into unindexed, unpartitioned tables: what the server
#     can take.  Target: restore >= 0.7x of it.  Beside it, the floor's
#     tables then indexed as pga's (two sessions): the least a restore
#     that ends indexed can cost here (not a target, a yardstick).
#   pga restore --jobs 2 from s3rver into a new database (wal_level
#     minimal), its day tables indexed and attached, queryable at the end:
#     the time is the whole restore's.
#   the last 24 hours: when the newest day became queryable (newest first),
#     extrapolated linearly to 69 M rows at the rate it was reached;
#     target: under 2 minutes.
#   the whole archive: 2.1 G rows at the restore's measured rate, beside
#     2.1 G rows at the floor's rate; target: within 1.3x (ratio >= 0.77).
#   the levers, each a restore of the same archive into a new database:
#     one stream (--jobs 1), the live loader's path (--segment-by-segment:
#     a transaction per segment into indexed partitions), WAL written
#     (wal_level replica), and parallel index builds (--index-workers -1:
#     the server's max_parallel_maintenance_workers).  Each is reported
#     against the default restore.
#   what the client costs: user+system CPU of pga during the default
#     restore (/usr/bin/time), of the server's backends (the postmaster's
#     reaped children, /proc/PID/stat), of s3rver (node), beside the wall
#     time: the 2 cores' budget.
#   "queryable" is counted from the restore's start as the bench sees it
#     (the process started): the restore's own clock plus what passed
#     before it started.  The databases are created before (createdb, the
#     operator's step in docs/dr-runbook.md), as the floor's is.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/../tests/lib/tap.sh" >/dev/null
. "$BENCH_DIR/../tests/lib/pg.sh"
. "$BENCH_DIR/../tests/lib/shiptest.sh"
PGA_BIN=${PGA_BUILD:-$BENCH_DIR/../build}/pga
HELPER_BIN=${PGA_BUILD:-$BENCH_DIR/../build}/pga-test-helper
COLLECTORS=${BENCH_RESTORE_COLLECTORS:-2}
DBS=${BENCH_RESTORE_DBS:-10}
DAYS=${BENCH_RESTORE_DAYS:-2}
INTERVAL=${BENCH_RESTORE_INTERVAL:-1200}
# a segment holds 5 snapshots, as a collector's does at the defaults
# (interval 60 s, segment-max-age 5 min)
SEG_AGE=${BENCH_RESTORE_SEG_AGE:-$((INTERVAL * 5))}
FULL_ROWS=2100000000
DAY_ROWS=69000000

s3srv_available || { echo "bench: s3rver not installed (make deps)"; exit 1; }
pg_start bench "" "wal_level = minimal" "max_wal_senders = 0" "max_wal_size = 4GB" >/dev/null
s3srv_start arch >/dev/null || exit 1
q() { pg_psql bench "$1" -At -c "$2"; }
mkdb() { pg_psql bench postgres -c "CREATE DATABASE $1" >/dev/null; pg_conninfo bench "$1"; }
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || return 1; e=$(date +%s.%N)
	awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", b - a }'; }

# ---- the archive, its CSV, the bucket ----
SP=$TEST_TMP/spool CSV=$TEST_TMP/csv
mkdir -p "$CSV"
read -r _ NSEG _ ROWS _ SEGB _ CSVB < <("$HELPER_BIN" gen-archive "$SP/ready" collectors=$COLLECTORS dbs=$DBS \
	days=$DAYS interval=$INTERVAL seg-age=$SEG_AGE threads=2 csv="$CSV") || { echo "bench: gen-archive failed"; exit 1; }
CONF=$TEST_TMP/pga.conf
printf '[global]\nspool-path = %s\nspool-retain = 7d\n[dest:arch]\nurl = s3://arch/p\nendpoint = %s\npath-style = on\naccess-key-id = S3RVER\nsecret-access-key = S3RVER\n' \
	"$SP" "$S3_URL" >"$CONF"
chmod 600 "$CONF"
"$PGA_BIN" -c "$CONF" ship >/dev/null 2>&1 || { echo "bench: ship to s3rver failed"; exit 1; }
scale=$(awk -v a=$FULL_ROWS -v b="$ROWS" 'BEGIN { printf "%.0f", a / b }')
echo "archive: $COLLECTORS collectors x $DBS databases, every $INTERVAL s, a segment every $SEG_AGE s, $DAYS days: $NSEG segments," \
	"$ROWS rows, $((SEGB / 1048576)) MiB compressed, $((CSVB / 1048576)) MiB CSV (1/$scale of the issue's 2.1 G rows)"

# user+system CPU seconds so far: of PID itself (self), or of its reaped children (kids)
cpu_of() { awk -v w="$2" -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print (w == "self" ? $12 + $13 : $14 + $15) / hz }' "/proc/$1/stat"; }
postmaster=$(head -1 "$(_pg_var DATA bench)/postmaster.pid")

# ---- the floor: two \copy streams into unindexed tables ----
FLOOR=$(mkdb floor)
"$PGA_BIN" load --init --db "$FLOOR" >/dev/null 2>&1 || { echo "bench: init failed"; exit 1; }
q floor "CREATE SCHEMA f" >/dev/null
for m in $(ls "$CSV" | sed 's/\.[0-9]*\.csv$//' | sort -u); do
	q floor "CREATE TABLE f.$m (LIKE pga.$m)" >/dev/null
done
for s in 0 1; do
	for f in "$CSV"/*."$s".csv; do
		m=$(basename "$f" ".$s.csv")
		echo "\\copy f.$m FROM '$f' (FORMAT csv)"
	done >"$TEST_TMP/stream$s.sql"
done
floor_run() { pg_psql bench floor -f "$TEST_TMP/stream0.sql" & local p=$!
	pg_psql bench floor -f "$TEST_TMP/stream1.sql" || return 1; wait $p; }
fp0=$(cpu_of "$postmaster" kids)
t_floor=$(secs floor_run) || { echo "bench: floor failed"; exit 1; }
sleep 0.5	# its backends exited and reaped
fp1=$(cpu_of "$postmaster" kids)
[ "$(q floor "SELECT sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM f.%I', m), false, true, '')))[1]::text::bigint)
	FROM (SELECT DISTINCT table_name AS m FROM information_schema.tables WHERE table_schema = 'f') x")" = "$ROWS" ] ||
	{ echo "bench: the floor's row count differs"; exit 1; }

# the floor's tables indexed as pga's are (its series index), in two
# parallel sessions: with the floor, the least a restore that ends indexed
# can cost on this server
for s in 0 1; do
	q floor "SELECT format('CREATE INDEX ON f.%I %s;', c.relname, substring(pg_get_indexdef(i.indexrelid) FROM ' USING .*'))
		FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'pga' AND c.relkind = 'p' AND EXISTS (SELECT 1 FROM information_schema.tables t
		WHERE t.table_schema = 'f' AND t.table_name = c.relname) AND hashtext(c.relname) & 1 = $s" >"$TEST_TMP/index$s.sql"
done
findex_run() { pg_psql bench floor -f "$TEST_TMP/index0.sql" & local p=$!
	pg_psql bench floor -f "$TEST_TMP/index1.sql" || return 1; wait $p; }
t_findex=$(secs findex_run) || { echo "bench: indexing the floor's tables failed"; exit 1; }
sleep 0.5
fp2=$(cpu_of "$postmaster" kids)
[ "$(q floor "SELECT count(*) FROM pg_indexes WHERE schemaname = 'f'")" -gt 0 ] ||
	{ echo "bench: the floor's tables got no index"; exit 1; }

# ---- pga restore, and the levers ----
# the restores' databases, created before any is timed: createdb is the
# operator's step before a restore (docs/dr-runbook.md), as the floor's
# database is made before its \copy
for db in r_default r_jobs1 r_seg r_pw r_wal; do mkdb "$db" >/dev/null; done
restore() {	# NAME [ARGS...]: a restore from s3rver into database NAME; its JSON in $TEST_TMP/NAME.json
	local db=$1; shift
	/usr/bin/time -f '%U %S' -o "$TEST_TMP/$db.time" \
		"$PGA_BIN" -c "$CONF" restore --db "$(pg_conninfo bench "$db")" --from dest:arch --json "$@" \
		>"$TEST_TMP/$db.json" 2>"$TEST_TMP/$db.err"
}
# NAME: when its newest day became queryable (ms since the bench started it) and its rows
newest() {
	local own rows us
	own=$(sed 's/.*"elapsed_seconds":\([0-9.]*\).*/\1/' "$TEST_TMP/$1.json")
	read -r rows us < <(grep -o '"day":"[0-9-]*","segments":[0-9]*,"rows":[0-9]*,"queryable_us":[0-9]*' \
		"$TEST_TMP/$1.json" | sort -r | head -1 | sed 's/.*"rows":\([0-9]*\),"queryable_us":\([0-9]*\)/\1 \2/')
	awk -v r="$rows" -v u="$us" -v own="$own" -v wall="$2" 'BEGIN { printf "%d %.0f", r, u / 1000 + (wall - own) * 1000 }'
}
elapsed() { sed 's/.*"elapsed_seconds":\([0-9.]*\).*/\1/' "$TEST_TMP/$1.json" | awk '{ printf "%.3f", $1 }'; }
pm0=$(cpu_of "$postmaster" kids) s30=$(cpu_of "$S3SRV_PID" self)
t_restore=$(secs restore r_default --jobs 2) || { echo "bench: restore failed: $(tail -3 "$TEST_TMP/r_default.err")"; exit 1; }
sleep 0.5	# its backends exited and reaped
pm1=$(cpu_of "$postmaster" kids) s31=$(cpu_of "$S3SRV_PID" self)
read -r c_user c_sys <"$TEST_TMP/r_default.time"
grep -q "\"rows\":$ROWS," "$TEST_TMP/r_default.json" || { echo "bench: restore row count differs"; exit 1; }
[ "$(q r_default "SELECT count(*) FROM pg_constraint WHERE conname = 'pga_day_bound'")" = 0 ] ||
	{ echo "bench: day tables left unattached"; exit 1; }
# the newest day: when it became queryable, and its rows
read -r day_rows day_ms < <(newest r_default "$t_restore")
t_jobs1=$(secs restore r_jobs1 --jobs 1) || { echo "bench: restore --jobs 1 failed"; exit 1; }
t_seg=$(secs restore r_seg --jobs 2 --segment-by-segment) || { echo "bench: restore --segment-by-segment failed"; exit 1; }
t_pw=$(secs restore r_pw --jobs 2 --index-workers -1) || { echo "bench: restore --index-workers -1 failed"; exit 1; }
printf 'wal_level = replica\nmax_wal_senders = 10\n' >>"$(_pg_var DATA bench)/postgresql.conf"
pg_restart bench >/dev/null 2>&1
[ "$(q postgres "SHOW wal_level")" = replica ] || { echo "bench: could not switch to wal_level replica"; exit 1; }
t_wal=$(secs restore r_wal --jobs 2) || { echo "bench: restore with WAL failed"; exit 1; }
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "restore ${t_restore}s (its own clock $(elapsed r_default)s), --jobs 1 ${t_jobs1}s, --segment-by-segment ${t_seg}s," \
	"wal_level replica ${t_wal}s; floor ${t_floor}s, its indexes ${t_findex}s; newest day $day_rows rows queryable after $day_ms ms"
echo "CPU during the restore (${t_restore}s wall, 2 cores): pga user ${c_user}s system ${c_sys}s," \
	"server backends $(awk -v a="$pm0" -v b="$pm1" 'BEGIN { printf "%.2f", b - a }')s, s3rver" \
	"$(awk -v a="$s30" -v b="$s31" 'BEGIN { printf "%.2f", b - a }')s"

rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", n / t / 1000 }'; }
report "pga restore from s3rver, indexed (krow/s)" "$(rate "$ROWS" "$t_restore")" krow/s \
	"floor: 2 x psql \\copy, unindexed" "$(rate "$ROWS" "$t_floor")" 1 0.7
t24() { awk -v r="$day_rows" -v m="$1" -v f=$DAY_ROWS 'BEGIN { printf "%.1f", f / (r / (m / 1e3)) }'; }
t24=$(t24 "$day_ms")
t_fi=$(awk -v a="$t_floor" -v b="$t_findex" 'BEGIN { printf "%.2f", a + b }')
report "pga restore from s3rver, indexed (s)" "$t_restore" s "floor, then its indexes built (2 sessions)" "$t_fi" 0
report "last 24 h queryable, 69 M rows (extrap.)" "$t24" s "target: 2 minutes" 120 0 1.0
report "last 24 h queryable, 69 M rows (extrap.)" "$t24" s "at the floor-then-indexes rate" \
	"$(awk -v t="$t_fi" -v n="$ROWS" -v f=$DAY_ROWS 'BEGIN { printf "%.1f", t * f / n }')" 0
full=$(awk -v t="$t_restore" -v n="$ROWS" -v f=$FULL_ROWS 'BEGIN { printf "%.0f", t * f / n }')
ffull=$(awk -v t="$t_floor" -v n="$ROWS" -v f=$FULL_ROWS 'BEGIN { printf "%.0f", t * f / n }')
report "whole archive, 2.1 G rows (extrap.)" "$full" s "at the floor's rate" "$ffull" 0 0.77
report "lever: 2 day streams (--jobs 2)" "$t_restore" s "one stream (--jobs 1)" "$t_jobs1" 0
report "lever: day txns, COPY FREEZE, index after" "$t_restore" s "per segment, indexed (live path)" "$t_seg" 0
report "lever: wal_level minimal" "$t_restore" s "wal_level replica (WAL written)" "$t_wal" 0
report "lever: index builds without parallel workers" "$t_restore" s "the server's (--index-workers -1)" "$t_pw" 0
# where the server's time goes: its backends' CPU per row, restore
# against the floor's COPY and the floor's COPY plus its index builds
per_row() { awk -v a="$1" -v b="$2" -v n="$ROWS" 'BEGIN { printf "%.2f", (b - a) * 1e6 / n }'; }
report "server: restore's backends, CPU per row (us)" "$(per_row "$pm0" "$pm1")" us \
	"floor's COPY backends" "$(per_row "$fp0" "$fp1")" 0
report "server: restore's backends, CPU per row (us)" "$(per_row "$pm0" "$pm1")" us \
	"floor's COPY, then its indexes" "$(per_row "$fp0" "$fp2")" 0
report "client: pga CPU per restored row (us)" "$(awk -v u="$c_user" -v s="$c_sys" -v n="$ROWS" 'BEGIN { printf "%.2f", (u + s) * 1e6 / n }')" us \
	"server backends' CPU per row" "$(awk -v a="$pm0" -v b="$pm1" -v n="$ROWS" 'BEGIN { printf "%.2f", (b - a) * 1e6 / n }')" 0
