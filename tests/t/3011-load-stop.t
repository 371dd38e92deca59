#!/usr/bin/env bash
# Summaries and exits (issue 9 item 8): an error that will fail every
# segment (permission denied, a read-only database, the server gone) stops
# the load at once, is said once, and exits 1; the summary counts only
# rows that were committed, checked against the database after the central
# server was killed in the middle of a load.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central
for d in c1 ro kill; do pg_psql central postgres -c "CREATE DATABASE $d"; done
q() { pg_psql central "${2:-c1}" -At -c "$1"; }
SP=$TEST_TMP/spool
helper load-spool "$SP" stop 30 2 20 2026-11-20T00:00:00Z 60 || { echo "Bail out! load-spool"; exit 1; }
errors() { grep -c ' error: ' "$ERR"; }

# ---- a role that may read the schema but not write ----
run_ok "init" pga load --init --db "$(pg_conninfo central c1)"
q "CREATE ROLE reader LOGIN; GRANT USAGE ON SCHEMA pga TO reader;
   GRANT SELECT ON ALL TABLES IN SCHEMA pga TO reader" >/dev/null
run_fails 1 "permission denied: exit 1" pga load --db "$(pg_conninfo central c1) user=reader" --from "$SP" --jobs 2
is "$(errors)" 1 "said once, not once per segment"
like "$(last_err)" "error: stopping: .*permission denied .*\(SQLSTATE 42501\)" "says why"
like "$(last_out)" "^loaded 0 of [12] segments .*: 0 rows.*not loaded \(the run stopped\)" \
	"the summary: nothing loaded, the run stopped"
is "$(q "SELECT count(*) FROM pga.segments")" 0 "nothing in the ledger"
is "$(q "SELECT count(*) FROM pga.quarantine")" 0 "and no segment blamed for it"

# ---- a read-only database ----
run_ok "init ro" pga load --init --db "$(pg_conninfo central ro)"
q "ALTER DATABASE ro SET default_transaction_read_only = on" >/dev/null
run_fails 1 "a read-only database: exit 1" pga load --db "$(pg_conninfo central ro)" --from "$SP"
is "$(errors)" 1 "said once"
like "$(last_err)" "stopping: .*read-only transaction .*\(SQLSTATE 25006\)" "says why"

# ---- the server's disk is full (a tablespace on a small tmpfs; as root) ----
if [ "$(id -u)" = 0 ] && mkdir -p "$TEST_TMP/tiny" &&
	mount -t tmpfs -o size=1m tmpfs "$TEST_TMP/tiny" 2>/dev/null; then
	at_exit "umount -l '$TEST_TMP/tiny'"
	chown postgres: "$TEST_TMP/tiny"
	pg_psql central postgres -c "CREATE TABLESPACE tiny LOCATION '$TEST_TMP/tiny'" -c "CREATE DATABASE fulldisk" >/dev/null
	run_ok "init full" pga load --init --db "$(pg_conninfo central fulldisk)"
	pg_psql central postgres -c "ALTER DATABASE fulldisk SET default_tablespace = tiny" >/dev/null
	helper load-spool "$TEST_TMP/fsp" fill 40 2 2000 2026-11-20T00:00:00Z 60 || { echo "Bail out! load-spool"; exit 1; }
	run_fails 1 "no space left on the server: exit 1" pga load --db "$(pg_conninfo central fulldisk)" --from "$TEST_TMP/fsp" --jobs 2
	is "$(errors)" 1 "said once"
	like "$(last_err)" "stopping: .*\(SQLSTATE 53100\)" "says why"
	is "$(q "SELECT count(*) FROM pga.quarantine" fulldisk)" 0 "no segment blamed for it"
else
	TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP a full disk needs root and tmpfs"
fi

# ---- the central server killed in the middle of a load ----
KSP=$TEST_TMP/kspool
helper load-spool "$KSP" killed 400 3 300 2026-11-20T00:00:00Z 60 || { echo "Bail out! load-spool"; exit 1; }
KDB=$(pg_conninfo central kill)
run_ok "init kill" pga load --init --db "$KDB"
"$PGA_BIN" load --db "$KDB" --from "$KSP" --jobs 3 >"$TEST_TMP/k.out" 2>"$TEST_TMP/k.err" &
pid=$!
for _ in $(seq 1 400); do
	n=$(q "SELECT count(*) FROM pga.segments" kill 2>/dev/null)
	[ "${n:-0}" -ge 40 ] && break
	sleep 0.02
done
pg_stop central immediate
wait $pid
is "$?" 1 "the load stops: exit 1"
pg_restart central
summary=$(cat "$TEST_TMP/k.out")
rows=$(sed -n 's/^loaded [0-9]* of [0-9]* segments ([^)]*): \([0-9]*\) rows.*/\1/p' <<<"$summary")
segs=$(sed -n 's/^loaded \([0-9]*\) of .*/\1/p' <<<"$summary")
doubt=$(sed -n 's/.*, \([0-9]*\) in doubt (connection lost during COMMIT, \([0-9]*\) rows.*/\2/p' <<<"$summary")
ndoubt=$(sed -n 's/.*, \([0-9]*\) in doubt (.*/\1/p' <<<"$summary")
got=$(q "SELECT count(*) FROM pga.load_test" kill)
gotsegs=$(q "SELECT count(*) FROM pga.segments" kill)
diag "summary: $summary"
diag "database: $got rows in $gotsegs segments"
ok $([ -n "$rows" ] && [ "$got" -ge "$rows" ] && [ "$got" -le $((rows + ${doubt:-0})) ]; echo $?) \
	"the summary's rows ($rows, ${doubt:-0} in doubt) are the rows committed ($got)"
ok $([ -n "$segs" ] && [ "$gotsegs" -ge "$segs" ] && [ "$gotsegs" -le $((segs + ${ndoubt:-0})) ]; echo $?) \
	"its segments ($segs) are the ledger's ($gotsegs)"
is "$(grep -c ' error: ' "$TEST_TMP/k.err")" 1 "the lost connection is said once" ||
	diag "$(grep -E ' (error|warn): ' "$TEST_TMP/k.err" | head -5)"
run_ok "a rerun completes it" pga load --db "$KDB" --from "$KSP" --jobs 3
is "$(q "SELECT count(*) FROM pga.load_test" kill)" $((400 * 3 * 300)) "every row, once"

done_testing
