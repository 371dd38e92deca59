#!/usr/bin/env bash
# pga ship to a file:// destination: every segment arrives byte-identical
# under its spool name, acknowledgements and retention, quarantine of a bad
# segment, conflicts, a missing mount, the per-spool lock, status and check.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

SP=$TEST_TMP/spool
DST=$TEST_TMP/archive
CONF=$TEST_TMP/pga.conf
mkdir -p "$DST"
counter() { sed -n "s/^$1 //p" "$SP/counters"; }

fill_spool "$SP" c1 20 20000
spool_manifest "$SP" >"$TEST_TMP/want"
is "$(wc -l <"$TEST_TMP/want")" 20 "20 sealed segments to ship"
ship_conf "$CONF" "$SP" "[dest:arch]" "url = file://$DST" "max-parallel = 3"

run_ok "pga ship exits 0" pga -c "$CONF" ship
tree_manifest "$DST" >"$TEST_TMP/got"
if cmp -s "$TEST_TMP/want" "$TEST_TMP/got"; then ok 0 "archive holds exactly the spool's segments, byte-identical"
else ok 1 "archive holds exactly the spool's segments, byte-identical"; diag "$(diff "$TEST_TMP/want" "$TEST_TMP/got" | head)"; fi
is "$(find "$SP/ready" -type f | wc -l)" 0 "spool-retain = shipped: the spool is empty"
is "$(find "$SP/ship/arch" -name '*.ok' | wc -l)" 0 "no acknowledgement markers left behind"
is "$(find "$DST" -name '*.part' | wc -l)" 0 "no part files left in the archive"
is "$(counter segments_shipped)" 20 "segments_shipped counts 20"
is "$(counter ship_errors)" 0 "no ship errors"
run_ok "the archive verifies as a segment tree" pga spool verify "$DST"
run_ok "zstd -t accepts every shipped segment" bash -c "find '$DST' -name '*.pga.zst' -print0 | xargs -0 zstd -q -t"
run_ok "nothing to do is success" pga -c "$CONF" ship

# status and check
run_ok "ship-status" helper ship-status "$CONF"
like "$(last_out)" "destination 'arch' \\(file://" "status names the destination and url"
like "$(last_out)" "pending: +none" "nothing pending"
like "$(last_out)" "delivered: +20 segments" "20 delivered"
run_ok "ship-status json" helper ship-status "$CONF" json
like "$(last_out)" '"pending_segments":0' "json: no pending segments"
like "$(last_out)" '"delivered_segments":20' "json: 20 delivered"
run_ok "check passes for a writable directory" helper ship-check "$CONF"
like "$(last_out)" "^ok +destination 'arch'" "check says ok"

# retention by duration: shipped segments stay until then
ship_conf "$CONF" "$SP" "spool-retain = 1h" "[dest:arch]" "url = file://$DST"
fill_spool "$SP" c1 3 5000
run_ok "ship with spool-retain = 1h" pga -c "$CONF" ship
is "$(find "$SP/ready" -type f | wc -l)" 3 "segments stay in the spool for an hour"
is "$(find "$SP/ship/arch" -name '*.ok' | wc -l)" 3 "each has its acknowledgement"
run_ok "a second run ships nothing again" pga -c "$CONF" --log-level debug ship
if grep -q "shipped '" "$ERR"; then ok 1 "acknowledged segments are not sent again"; else ok 0 "acknowledged segments are not sent again"; fi
ship_conf "$CONF" "$SP" "spool-retain = 1s" "[dest:arch]" "url = file://$DST"
sleep 1.2
run_ok "after the retention period" pga -c "$CONF" ship
is "$(find "$SP/ready" -type f | wc -l)" 0 "they leave the spool"
is "$(find "$SP/ship/arch" -name '*.ok' | wc -l)" 0 "with their markers"

# a corrupt segment is quarantined, never shipped
ship_conf "$CONF" "$SP" "[dest:arch]" "url = file://$DST"
fill_spool "$SP" c1 3 5000
bad=$(find "$SP/ready" -type f | sort | sed -n 2p)
badname=${bad#"$SP/ready/"}
run_ok "damage one segment's data" helper seg-corrupt flip-data "$bad"
run_ok "ship with a corrupt segment in the spool" pga -c "$CONF" ship
[ ! -e "$DST/$badname" ]; ok $? "the corrupt segment was not shipped"
[ -e "$SP/quarantine/$badname" ]; ok $? "it is in quarantine"
[ -s "$SP/quarantine/$badname.why" ]; ok $? "with the reason"
is "$(counter segments_quarantined)" 1 "counted as quarantined"
is "$(find "$SP/ready" -type f | wc -l)" 0 "the good ones were shipped and removed"

# a different file under a segment's name: loud stop, nothing lost
fill_spool "$SP" c1 2 5000
victim=$(find "$SP/ready" -type f | sort | head -1)
vname=${victim#"$SP/ready/"}
cp "$victim" "$TEST_TMP/victim"
mkdir -p "$(dirname "$DST/$vname")"
echo "not a segment" >"$DST/$vname"
run_fails 1 "a conflicting object fails the run" pga -c "$CONF" ship
like "$(last_err)" "already exists with different content.*stopping this destination" "the error says what and that the destination stopped"
[ -e "$victim" ]; ok $? "the segment stays in the spool"
rm "$DST/$vname"
run_ok "after the operator removed it, shipping resumes" pga -c "$CONF" ship
same_files "the segment arrived" "$TEST_TMP/victim" "$DST/$vname"

# a missing mount point is retried, reported, never created
ship_conf "$CONF" "$SP" "[dest:usb]" "url = file://$TEST_TMP/not-mounted" "retries = 2" "retry-max-delay = 50ms"
fill_spool "$SP" c1 1 2000
run_fails 1 "a missing directory fails after retries" pga -c "$CONF" ship
like "$(last_err)" "not mounted" "the error says it may not be mounted"
like "$(last_err)" "attempt 1 of 3" "it was retried"
[ ! -e "$TEST_TMP/not-mounted" ]; ok $? "the directory was not created"
is "$(find "$SP/ready" -type f | wc -l)" 1 "the segment is kept"
run_fails 1 "check fails for it" helper ship-check "$CONF"
like "$(last_out)" "^FAIL +destination 'usb'" "check says FAIL"
run_ok "status after the failure" helper ship-status "$CONF"
like "$(last_out)" "pending: +1 segments" "one segment pending"
like "$(last_out)" "last error: .*not mounted" "the last error is shown"

# one shipper per spool
mkdir -p "$TEST_TMP/not-mounted"
ship_conf "$CONF" "$SP" "[dest:usb]" "url = file://$TEST_TMP/not-mounted" "rate-limit = 1K"
fill_spool "$SP" c1 1 20000
"$PGA_BIN" -c "$CONF" ship >/dev/null 2>&1 &
first=$!
sleep 0.5
run_fails 1 "a second pga ship on the same spool is refused" pga -c "$CONF" ship
like "$(last_err)" "another 'pga ship' is running" "it says why"
# SIGTERM: the upload in flight (20 s at 1K/s) gets 10 s, then is abandoned cleanly
t0=$(date +%s)
kill -TERM $first
wait $first
ok $? "SIGTERM: the first one exits 0"
t=$(($(date +%s) - t0))
[ "$t" -ge 9 ] && [ "$t" -le 13 ]; ok $? "it gave the upload its 10 s grace, then stopped (${t}s)"
is "$(find "$SP/ready" -type f | wc -l)" 1 "the abandoned segment stays in the spool"
is "$(find "$TEST_TMP/not-mounted" -name '*.part' | wc -l)" 0 "nothing half-written is left at the destination"
is "$(find "$SP/ship/usb" -name '*.ok' | wc -l)" 0 "and it is not acknowledged"
done_testing
