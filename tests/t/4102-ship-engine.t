#!/usr/bin/env bash
# Engine behaviour across destinations: one that hangs does not hold up
# another (it keeps shipping new segments as they are sealed), segments stay
# until every destination has them; uploads reuse their connections;
# rate-limit is honoured; ship-deadline ends a one-shot run early (exit 2).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"
. "$(dirname "$0")/../lib/faultproxy.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
s3srv_start pga || exit 1
# every request to this S3 stalls until told otherwise
faultproxy_start "127.0.0.1:$S3_PORT" --rate 1 --modes stall --stall-seconds 30 || exit 1

SP=$TEST_TMP/spool
DST=$TEST_TMP/archive
CONF=$TEST_TMP/pga.conf
mkdir -p "$DST"
wait_for() { local n=$(($1 * 10)); shift; for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done; return 1; }
in_dir() { [ "$(find "$DST" -name '*.pga.zst' | wc -l)" -eq "$1" ]; }
ship_conf "$CONF" "$SP" \
	"[dest:fast]" "url = file://$DST" \
	"[dest:slow]" "url = s3://pga/s" "endpoint = $FAULTPROXY_URL" "path-style = on" \
	"access-key-id = S3RVER" "secret-access-key = S3RVER" "timeout = 3s" "retry-max-delay = 300ms" "max-parallel = 2"

fill_spool "$SP" c1 5 6000
"$PGA_BIN" -c "$CONF" ship --loop 2>"$TEST_TMP/ship.log" &
SHIP=$!
at_exit "kill -9 $SHIP"
wait_for 5 in_dir 5; ok $? "the directory gets the first 5 segments while S3 hangs"
fill_spool "$SP" c1 5 6000
wait_for 5 in_dir 10; ok $? "and the next 5 as soon as they are sealed"
is "$(find "$SP/ready" -type f | wc -l)" 10 "all 10 stay in the spool: S3 has not confirmed them"
run_ok "status while S3 hangs" helper ship-status "$CONF"
like "$(last_out)" "destination 'fast'.*"$'\n'"  pending: +none" "fast: nothing pending"
like "$(last_out)" "destination 'slow'.*"$'\n'"  pending: +10 segments" "slow: 10 pending"
faultproxy_set rate=0
wait_for 40 bash -c "[ -z \"\$(find '$SP/ready' -type f)\" ]"; ok $? "S3 catches up once it answers, and the spool empties"
is "$(awss3 s3 ls --recursive s3://pga/s/ | wc -l)" 10 "S3 has all 10"
kill -TERM $SHIP
wait $SHIP; ok $? "pga ship --loop exits 0 on SIGTERM"

# connection reuse: 60 uploads over 3 slots
faultproxy_stop
faultproxy_start "127.0.0.1:$S3_PORT" --rate 0 || exit 1
ship_conf "$CONF" "$SP" "[dest:s3]" "url = s3://pga/reuse" "endpoint = $FAULTPROXY_URL" \
	"path-style = on" "access-key-id = S3RVER" "secret-access-key = S3RVER" "max-parallel = 3"
fill_spool "$SP" c1 60 3000
run_ok "ship 60 segments over 3 slots" pga -c "$CONF" ship
req=$(faultproxy_count requests)
conn=$(faultproxy_count connections)
[ "$req" -ge 60 ] && [ "$conn" -le 4 ]; ok $? "connections are reused ($req requests over $conn connections)"

# rate-limit: about 300 KiB at 100 KiB/s takes about 3 s
ship_conf "$CONF" "$SP" "[dest:fast]" "url = file://$DST" "rate-limit = 100K" "max-parallel = 4"
fill_spool "$SP" c1 10 40000
bytes=$(find "$SP/ready" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
t0=$(date +%s.%N)
run_ok "ship $bytes bytes with rate-limit = 100K" pga -c "$CONF" ship
t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
want=$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 102400 }')
awk -v t="$t" -v w="$want" 'BEGIN { exit !(t >= w * 0.9 && t <= w * 1.5 + 1) }'; ok $? "it took ${t}s, the rate allows ${want}s"

# ship-deadline: a one-shot run stops taking segments and says so (exit 2)
ship_conf "$CONF" "$SP" "ship-deadline = 1s" "[dest:fast]" "url = file://$DST" "rate-limit = 20K" "max-parallel = 1"
fill_spool "$SP" c1 10 8000
run_fails 2 "a run cut short by ship-deadline exits 2" pga -c "$CONF" ship
left=$(find "$SP/ready" -type f | wc -l)
[ "$left" -gt 0 ] && [ "$left" -lt 10 ]; ok $? "it shipped some ($((10 - left))) and left the rest ($left)"
is "$(find "$DST" -name '*.part' | wc -l)" 0 "without half-written files"
done_testing
