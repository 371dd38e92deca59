#!/usr/bin/env bash
# Point-in-time replay: the same archive into empty databases with different
# --until (and --since) gives exactly the snapshots of each window; a tar
# from `pga spool pack` loads the same as the directory; a window can be
# widened later without loading anything twice.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central
for d in dir tar u1 u2 s1 wide; do pg_psql central postgres -c "CREATE DATABASE $d"; done
q() { local db=$1; shift; pg_psql central "$db" -At -c "$1"; }
SP=$TEST_TMP/spool
# 12 segments x 4 blocks x 30 rows; block k taken at 2026-11-20 00:00 + k * 15 min
helper load-spool "$SP" site-p 12 4 30 2026-11-20T00:00:00Z 900 || { echo "Bail out! load-spool"; exit 1; }
TOTAL=$((12 * 4 * 30))
run_ok "pack the spool" pga spool pack --spool "$SP" -o "$TEST_TMP/all.tar"

# canonical dump of what a database holds (ids, times, ledger)
dump() {
	q "$1" "SELECT md5(string_agg(id || '|' || snapshot_time || '|' || coalesce(note, '<null>'), ',' ORDER BY id::int))
	        FROM pga.load_test"
}

run_ok "restore the directory" pga restore --db "$(pg_conninfo central dir)" --from "$SP"
like "$(last_out)" "restored 12 of 12 segments .*: $TOTAL rows" "all segments"
is "$(q dir "SELECT count(*) FROM pga.load_test")" $TOTAL "every row"
run_ok "restore the tar" pga restore --db "$(pg_conninfo central tar)" --from "$TEST_TMP/all.tar" --jobs 2
is "$(q tar "SELECT count(*) FROM pga.load_test")" $TOTAL "every row from the tar"
is "$(dump tar)" "$(dump dir)" "the tar loads exactly what the directory loads"
is "$(q tar "SELECT string_agg(seq || encode(sha256, 'hex'), ',' ORDER BY seq) FROM pga.segments")" \
	"$(q dir "SELECT string_agg(seq || encode(sha256, 'hex'), ',' ORDER BY seq) FROM pga.segments")" \
	"with the same ledger"
# run again, a restore continues where it stopped: here, nothing is left (tests/t/7002)
run_ok "restore the same source again" pga restore --db "$(pg_conninfo central dir)" --from "$SP"
like "$(last_out)" "restored 0 of 12 segments \\(12 already loaded" "loads nothing twice"
is "$(q dir "SELECT count(*) FROM pga.load_test")" $TOTAL "still every row once"

head -c -3000 "$TEST_TMP/all.tar" >"$TEST_TMP/cut.tar"
pg_psql central postgres -c "CREATE DATABASE cut"
# the archive is checked whole before any of it loads (spool/FORMAT.md "Archives")
run_fails 1 "a truncated tar" pga restore --db "$(pg_conninfo central cut)" --from "$TEST_TMP/cut.tar"
like "$(last_err)" "archive '[^']*cut.tar'" "names the archive"
is "$(q cut "SELECT to_regclass('pga.segments') IS NULL")" t "nothing of it is loaded, not even the schema"

# --until inside segment 4 (blocks 12..15): block 13 is at 03:15
U1=2026-11-20T03:15:00Z
run_ok "restore --until $U1" pga restore --db "$(pg_conninfo central u1)" --from "$SP" --until $U1 --json
is "$(q u1 "SELECT count(*) FROM pga.load_test")" $((14 * 30)) "exactly the blocks up to $U1 (14 blocks)"
is "$(q u1 "SELECT max(snapshot_time) FROM pga.load_test")" "2026-11-20 03:15:00+00" "nothing after it"
like "$(last_out)" '"loaded":4,"duplicate":0,"filtered":8' "whole segments after it are not even read"
is "$(q u1 "SELECT count(*) FILTER (WHERE complete) || '/' || count(*) FROM pga.segments")" "3/4" \
	"the boundary segment is recorded as loaded in part"
U2=2026-11-20T08:59:59Z
run_ok "restore --until $U2" pga restore --db "$(pg_conninfo central u2)" --from "$TEST_TMP/all.tar" --until $U2
is "$(q u2 "SELECT count(*) FROM pga.load_test")" $((36 * 30)) "exactly 36 blocks up to $U2 (segment edge)"
is "$(q u2 "SELECT count(*) FROM pga.segments WHERE NOT complete")" 0 "ends on a segment boundary: nothing partial"
run_ok "restore --since --until" pga restore --db "$(pg_conninfo central s1)" --from "$SP" \
	--since 2026-11-20T01:30:00Z --until 2026-11-20T02:00:00Z
is "$(q s1 "SELECT string_agg(DISTINCT to_char(snapshot_time, 'HH24:MI'), ',') FROM pga.load_test")" \
	"01:30,01:45,02:00" "just the three snapshots in the window"

# widening the window later loads the rest and nothing twice
run_ok "load --until 02:00" pga load --init --db "$(pg_conninfo central wide)" --from "$SP" --until 2026-11-20T02:00:00Z
run_ok "load --since 01:00 --until 05:00" pga load --db "$(pg_conninfo central wide)" --from "$SP" \
	--since 2026-11-20T01:00:00Z --until 2026-11-20T05:00:00Z
is "$(q wide "SELECT count(*) FROM pga.load_test")" $((21 * 30)) "up to 05:00, once"
run_ok "load everything" pga load --db "$(pg_conninfo central wide)" --from "$TEST_TMP/all.tar"
is "$(q wide "SELECT count(*) FROM pga.load_test")" $TOTAL "all rows"
is "$(dump wide)" "$(dump dir)" "the same as loading everything at once"
is "$(q wide "SELECT count(*) FROM pga.segments WHERE NOT complete")" 0 "every segment complete"
is "$(q wide "SELECT count(*) FROM pga.segment_windows")" 0 "no windows left behind"
run_ok "and once more" pga load --db "$(pg_conninfo central wide)" --from "$SP" --json
like "$(last_out)" '"loaded":0,"duplicate":12' "adds nothing"

done_testing
