#!/usr/bin/env bash
# A destination that is down for the whole run: `pga ship --loop` keeps
# failing (counted, shown by status) while the collector side fills the
# spool up to spool-max, first with drop-oldest (the oldest segments go,
# counted), then with block (new blocks are refused, counted).  When the
# destination comes back the spool drains: exactly the segments that were
# kept arrive, byte-identical, and the counters add up.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
MAX=200000
counter() { sed -n "s/^$1 //p" "$SP/counters"; }
usage() { find "$SP/ready" "$SP/tmp" -type f -printf '%s\n' 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
wait_for() {	# SECONDS CMD...: poll until CMD succeeds
	local n=$(($1 * 10)); shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
spool_empty() { [ -z "$(find "$SP/ready" -type f)" ]; }

# the S3 server's port is chosen now, the server starts much later
S3_BUCKETS=pga
S3_PORT=$(free_port)
S3_URL=http://127.0.0.1:$S3_PORT
mkdir -p "$TEST_TMP/s3rver" "$SP"
at_exit s3srv_stop
ship_conf "$CONF" "$SP" "spool-max = $MAX" \
	"[dest:s3]" "url = s3://pga/d" "endpoint = $S3_URL" "path-style = on" \
	"access-key-id = S3RVER" "secret-access-key = S3RVER" \
	"retries = 1" "retry-max-delay = 50ms" "timeout = 1s"

"$PGA_BIN" -c "$CONF" ship --loop 2>"$TEST_TMP/ship.log" &
SHIP=$!
at_exit "kill -9 $SHIP"

# phase 1: drop-oldest
run_ok "60 segments into a spool that holds about 20 (drop-oldest)" \
	helper ship-fill "$SP" c1 60 12000 "$MAX" drop-oldest
[ "$(usage)" -le "$MAX" ]; ok $? "the spool stays within spool-max ($(usage) <= $MAX bytes)"
kept=$(find "$SP/ready" -type f | wc -l)
[ "$kept" -gt 5 ] && [ "$kept" -lt 60 ]; ok $? "some segments were kept ($kept), the oldest dropped"
is "$(counter segments_dropped)" $((60 - kept)) "segments_dropped counts every dropped segment"
is "$(counter segments_sealed)" 60 "segments_sealed counts all 60"
wait_for 5 bash -c "[ \$(sed -n 's/^ship_errors //p' '$SP/counters') -gt 0 ]"; ok $? "the failing attempts are counted (ship_errors $(counter ship_errors))"
is "$(counter segments_shipped)" 0 "nothing was shipped"
run_ok "status while it is down" helper ship-status "$CONF"
like "$(last_out)" "pending: +$kept segments" "status: $kept segments pending"
like "$(last_out)" "last error: .*(onnect|refused)" "status: the last error says why"
like "$(last_out)" "last success: +never" "status: never succeeded"
kill -0 $SHIP; ok $? "pga ship --loop keeps running"
spool_manifest "$SP" >"$TEST_TMP/want1"

# the destination comes back: the spool drains by itself
_s3srv_launch || exit 1
wait_for 30 spool_empty; ok $? "the spool drains once the destination is back"
awss3 s3 cp --recursive --quiet s3://pga/d/ "$TEST_TMP/got1"
tree_manifest "$TEST_TMP/got1" >"$TEST_TMP/got1.sums"
same_files "exactly the kept segments arrived, byte-identical" "$TEST_TMP/want1" "$TEST_TMP/got1.sums"
wait_for 5 bash -c "[ \$(sed -n 's/^segments_shipped //p' '$SP/counters') -eq $kept ]"
is "$(counter segments_shipped)" "$kept" "segments_shipped = $kept"
is $(($(counter segments_shipped) + $(counter segments_dropped))) "$(counter segments_sealed)" "sealed = shipped + dropped"

# phase 2: down again, spool-full = block
s3srv_stop
errs=$(counter ship_errors)
out=$(helper ship-fill "$SP" c1 40 12000 "$MAX" block) || ok 1 "fill with spool-full = block"
refused=${out#refused }
[ "$refused" -gt 0 ]; ok $? "blocks over the quota are refused ($refused)"
[ "$(usage)" -le "$MAX" ]; ok $? "the spool stays within spool-max"
kept2=$(find "$SP/ready" -type f | wc -l)
is $((kept2 + refused)) 40 "every block was either kept or refused"
is "$(counter blocks_refused)" "$refused" "blocks_refused counts them"
is "$(counter segments_dropped)" $((60 - kept)) "block never drops anything"
spool_manifest "$SP" >"$TEST_TMP/want2"
wait_for 5 bash -c "[ \$(sed -n 's/^ship_errors //p' '$SP/counters') -gt $errs ]"; ok $? "new failures are counted"
_s3srv_launch || exit 1
wait_for 30 spool_empty; ok $? "it drains again"
awss3 s3 cp --recursive --quiet s3://pga/d/ "$TEST_TMP/got2"
tree_manifest "$TEST_TMP/got2" >"$TEST_TMP/got2.sums"
sort -k2 "$TEST_TMP/want1" "$TEST_TMP/want2" >"$TEST_TMP/want.all"
sort -k2 "$TEST_TMP/got2.sums" >"$TEST_TMP/got.all"
same_files "the bucket holds every kept segment of both phases, nothing else" "$TEST_TMP/want.all" "$TEST_TMP/got.all"
run_ok "writing works again" helper ship-fill "$SP" c1 3 12000 "$MAX" block
is "$(last_out)" "refused 0" "nothing refused now"
kill -TERM $SHIP
wait $SHIP
ok $? "pga ship --loop stops cleanly on SIGTERM"
done_testing
