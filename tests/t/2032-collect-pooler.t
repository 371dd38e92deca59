#!/usr/bin/env bash
# pga collect --loop through pgbouncer in transaction mode, while another
# client of the same pool leaves SET DateStyle, TimeZone and search_path
# behind on the server connections (pgbouncer resets nothing in that
# mode): every transaction of pga checks that the settings that decide
# what COPY prints are its own, and sets them again when they are not, so
# every timestamp in the spool is ISO in UTC; a DMY date would load as
# another day.  The prepared statements the pool loses go to COPY (26000).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/pgbouncer.sh"

pgbouncer_available || skip_all "pgbouncer not installed (run make deps)"
pg_start pool
pg_psql pool postgres -c "CREATE DATABASE app"
pgbouncer_start pool default_pool_size=1 server_reset_query_always=0
SP=$TEST_TMP/spool
cat >"$TEST_TMP/pga.conf" <<CONF
[global]
spool-path = $SP
collector = pooled
target-deadline = 5s
[target:pb]
conninfo = $(pgbouncer_conninfo app)
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf
LOG=$TEST_TMP/loop.log

# the other client: SETs that outlive its transactions on the one server connection
pollute() {
	while [ ! -f "$TEST_TMP/stop" ]; do
		psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -U postgres -d app \
			-c "SET DateStyle = 'SQL, DMY'" -c "SET TimeZone = 'Asia/Kolkata'" \
			-c "SET search_path = public" -c "SET extra_float_digits = -15" \
			-c "SET IntervalStyle = sql_standard" -c "SET bytea_output = escape" >/dev/null 2>&1
		sleep 0.2
	done
}
pollute &
POL=$!
at_exit "touch '$TEST_TMP/stop'; kill $POL"
run_ok "collect --loop through the pool, 6 cycles" pga collect --loop --interval 1s --cycles 6
touch "$TEST_TMP/stop"
wait $POL 2>/dev/null
cp "$ERR" "$LOG"
like "$(cat "$LOG")" "target 'pb'.*the session's settings were not ours in this transaction" \
	"the drift is seen and said"
is "$(grep -c "settings were not ours" "$LOG")" 1 "once"
like "$(grep 'cycle 6:' "$LOG")" "targets 1 ok, 0 failed" "every cycle collected"

# every timestamp in the spool: ISO, in UTC
run_ok "seal" pga spool ls --json
find "$SP/ready" -name '*.pga.zst' | sort >"$TEST_TMP/segs"
[ -s "$TEST_TMP/segs" ]; ok $? "segments were sealed"
: >"$TEST_TMP/all.csv"
while read -r seg; do
	pga spool cat "$seg" >>"$TEST_TMP/all.csv" 2>>"$TEST_TMP/cat.err" || echo "cat failed: $seg" >>"$TEST_TMP/cat.err"
done <"$TEST_TMP/segs"
is "$(cat "$TEST_TMP/cat.err")" "" "every segment reads"
iso=$(grep -cE '(^|,)"?20[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9](\.[0-9]+)?\+00"?(,|$)' "$TEST_TMP/all.csv")
[ "$iso" -gt 0 ]; ok $? "timestamps were collected ($iso lines with an ISO UTC one)"
bad=$(grep -cE '[0-3][0-9]/[01][0-9]/20[0-9]{2}|\+05:30|IST' "$TEST_TMP/all.csv")
is "$bad" 0 "none in the other client's DateStyle or TimeZone (pgbouncer sets those back itself)"
exact=$(grep -cE '(^|,)[0-9]+\.[0-9]{4,}(,|$)' "$TEST_TMP/all.csv")
[ "$exact" -gt 0 ]; ok $? "floats were collected ($exact lines with one of 4 decimals or more)"
rounded=$(grep -cE '(^|,)-?[0-9](\.[0-9]+)?e[+-][0-9]+(,|$)' "$TEST_TMP/all.csv")
is "$rounded" 0 "none rounded by the other client's extra_float_digits (pgbouncer keeps that one)"
done_testing
