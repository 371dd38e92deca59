#!/usr/bin/env bash
# RPO (issue 15): what a site that dies loses follows from the collect and
# ship settings, and nothing else.  One-shot: 5 cycles shipped, 3 more not,
# the site dies: a restore from the destination has exactly the 5.  Loops:
# pga collect --loop and pga ship --loop killed (-9) together after a known
# number of cycles, the spool lost with them: the restore has every cycle
# but those of the last segment-max-age + ship-interval (and the cycle and
# pass in flight), in order, no gap before them.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start site
pg_psql site postgres -c "CREATE DATABASE c1" -c "CREATE DATABASE c2" >/dev/null
snaps() { pg_psql site "$1" -At -c "SELECT count(DISTINCT snapshot_time) FROM pga.pg_stat_database"; }
conf() {	# FILE SPOOL DEST [LINES...]
	local f=$1 sp=$2 dst=$3; shift 3
	printf '[global]\nspool-path = %s\ncollector = site\n' "$sp" >"$f"
	for l in "$@"; do echo "$l" >>"$f"; done
	printf '[target:a]\nconninfo = %s\n[dest:arch]\nurl = file://%s\n' "$(pg_conninfo site postgres)" "$dst" >>"$f"
	chmod 600 "$f"
}

# ---- one-shot: exactly what was not shipped is lost ----
A=$TEST_TMP/a.conf
conf "$A" "$TEST_TMP/spool-a" "$TEST_TMP/dst-a" "spool-retain = shipped"
mkdir -p "$TEST_TMP/dst-a"
for i in 1 2 3 4 5; do pga -c "$A" collect >/dev/null 2>&1 || { echo "Bail out! collect"; exit 1; }; sleep 1; done
run_ok "5 cycles shipped" pga -c "$A" ship
for i in 1 2 3; do pga -c "$A" collect >/dev/null 2>&1 || { echo "Bail out! collect"; exit 1; }; sleep 1; done
rm -rf "$TEST_TMP/spool-a"	# the site dies
run_ok "a restore of what was shipped" pga restore --db "$(pg_conninfo site c1)" --from "$TEST_TMP/dst-a"
is "$(snaps c1)" 5 "the 5 shipped cycles are there, the 3 unshipped ones lost"

# ---- loops killed together ----
B=$TEST_TMP/b.conf
INTERVAL_MS=500 AGE_MS=1000 SHIP_MS=300
conf "$B" "$TEST_TMP/spool-b" "$TEST_TMP/dst-b" "interval = ${INTERVAL_MS}ms" \
	"segment-max-age = ${AGE_MS}ms" "ship-interval = ${SHIP_MS}ms" "spool-retain = shipped"
mkdir -p "$TEST_TMP/dst-b" "$TEST_TMP/spool-b"
"$PGA_BIN" -c "$B" collect --loop 2>"$TEST_TMP/collect.log" &
CP=$!
"$PGA_BIN" -c "$B" ship --loop 2>"$TEST_TMP/ship.log" &
SPID=$!
at_exit "kill -9 $CP $SPID 2>/dev/null"
cycles() { grep -c 'info: cycle [0-9]*:' "$TEST_TMP/collect.log"; }
for _ in $(seq 1 300); do [ "$(cycles)" -ge 12 ] && break; sleep 0.1; done
kill -9 $CP $SPID
wait $CP $SPID 2>/dev/null
C=$(cycles)
rm -rf "$TEST_TMP/spool-b"	# the site dies with its spool
run_ok "a restore of what the loop shipped" pga restore --db "$(pg_conninfo site c2)" --from "$TEST_TMP/dst-b"
S=$(snaps c2)
# lost at most: the open segment (segment-max-age), the sealed ones the
# next ship pass had not taken (ship-interval), the cycle and pass in flight
BOUND=$(((AGE_MS + SHIP_MS + INTERVAL_MS - 1) / INTERVAL_MS + 2))
diag "$C cycles collected, $S restored: $((C - S)) lost (bound $BOUND)"
[ "$C" -ge 12 ]; ok $? "the site ran $C cycles"
[ "$S" -ge $((C - BOUND)) ] && [ "$S" -le "$C" ]; ok $? "lost $((C - S)) cycles, at most $BOUND"
is "$(pg_psql site c2 -At -c "SELECT count(*) FROM pga.gaps")" 0 "no gap in what was restored: the lost cycles are the last ones"
done_testing
