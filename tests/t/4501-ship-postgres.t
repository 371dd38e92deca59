#!/usr/bin/env bash
# pga ship straight into a central PostgreSQL (postgres:// or a key=value
# conninfo) with the loader's exactly-once logic: every segment once in the
# ledger with its SHA-256, every row once, resends are duplicates, a
# same-seq-other-content segment stops the destination, a database that is
# down is retried and then caught up, kill -9 loses and duplicates nothing.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

pg_start central
pg_psql central postgres -c "CREATE DATABASE central" -c "CREATE DATABASE empty" || exit 1
CI=$(pg_conninfo central central)
run_ok "central schema" pga load --init --db "$CI"
SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
q() { pg_psql central central -At -c "$1"; }
ledger() { q "SELECT count(*) FROM pga.segments"; }
rows_ok() {	# every row exactly once: the table holds what the ledger says was loaded
	local want
	want=$(q "SELECT sum(rows) FROM pga.segments")
	[ "${want:-0}" -gt 0 ] && [ "$want" = "$(q "SELECT count(*) FROM pga.ship_test")" ]
}
pdest() { ship_conf "$CONF" "$SP" "[dest:central]" "url = $1" "${@:2}"; }

fill_spool "$SP" c1 10 20000
spool_manifest "$SP" >"$TEST_TMP/want"
pdest "$CI" "max-parallel = 3"
run_ok "ship into PostgreSQL (conninfo)" pga -c "$CONF" ship
is "$(ledger)" 10 "10 segments in the ledger"
q "SELECT encode(sha256, 'hex') || '  ' || name FROM pga.segments ORDER BY name" >"$TEST_TMP/ledger"
same_files "each with the SHA-256 of the segment file" "$TEST_TMP/want" "$TEST_TMP/ledger"
rows_ok; ok $? "every row loaded once ($(q "SELECT count(*) FROM pga.ship_test") rows)"
is "$(find "$SP/ready" -type f | wc -l)" 0 "the spool is empty"

pdest "postgresql://postgres@127.0.0.1:$(_pg_var PORT central)/central"
fill_spool "$SP" c1 3 5000
run_ok "ship with a postgresql:// url" pga -c "$CONF" ship
is "$(ledger)" 13 "13 segments in the ledger"
run_ok "check connects and finds the schema" helper ship-check "$CONF"

# resending is harmless: a crash after the commit, before the marker
ship_conf "$CONF" "$SP" "spool-retain = 1h" "[dest:central]" "url = $CI"
fill_spool "$SP" c1 2 5000
run_ok "ship two more, kept in the spool" pga -c "$CONF" ship
rm -rf "$SP/ship/central/c1"
rows=$(q "SELECT count(*) FROM pga.ship_test")
run_ok "resend them without their markers" pga -c "$CONF" --log-level debug ship
like "$(last_err)" "was already loaded" "the loader recognises them"
is "$(q "SELECT count(*) FROM pga.ship_test")" "$rows" "no row was loaded twice"
is "$(ledger)" 15 "the ledger has each once"

# the same collector and seq with other content: refused, destination stopped
pdest "$CI"
rm -rf "$SP"
fill_spool "$SP" c1 2 5000
run_fails 1 "a segment that conflicts with the ledger" pga -c "$CONF" ship
like "$(last_err)" "stopping this destination" "stops the destination loudly"
is "$(find "$SP/ready" -type f | wc -l)" 2 "the segments stay in the spool"
is "$(ledger)" 15 "nothing was added"
rm -rf "$SP"
fill_spool "$SP" c2 4 5000

# the database is down: retried, reported, then caught up
pdest "$CI" "retries = 2" "retry-max-delay = 50ms"
pg_stop central
run_fails 1 "ship while the database is down" pga -c "$CONF" ship
like "$(last_err)" "attempt 1 of 3" "it was retried"
is "$(find "$SP/ready" -type f | wc -l)" 4 "nothing left the spool"
pg_restart central
run_ok "ship after it is back" pga -c "$CONF" ship
is "$(ledger)" 19 "the segments were loaded"

# a database without the schema: permanent, with the hint
pdest "$(pg_conninfo central empty)"
fill_spool "$SP" c2 1 5000
run_fails 1 "a database without the pga schema" pga -c "$CONF" ship
like "$(last_err)" "pga load --init" "says how to create it"
if grep -q "attempt 1 of" "$ERR"; then ok 1 "not retried"; else ok 0 "not retried"; fi

# kill -9 in a loop: nothing lost, nothing loaded twice
pdest "$CI" "max-parallel = 2"
for i in $(seq 1 20); do
	fill_spool "$SP" c2 2 5000
	"$PGA_BIN" -c "$CONF" --log-level error ship --loop 2>>"$TEST_TMP/kill.log" &
	pid=$!
	sleep "0.$(printf '%02d' $((RANDOM % 40 + 5)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
done
run_ok "final run after 20 kills" pga -c "$CONF" ship
sealed=$(sed -n 's/^segments_sealed //p' "$SP/counters")
is "$(q "SELECT count(*) FROM pga.segments s JOIN pga.collectors c USING (collector_id) WHERE c.collector = 'c2'")" "$sealed" "every c2 segment is in the ledger once ($sealed)"
rows_ok; ok $? "every row exactly once"
is "$(find "$SP/ready" -type f | wc -l)" 0 "the spool is empty"
done_testing
