#!/usr/bin/env bash
# 10 % injected faults (drops before and after the upstream stored the
# object, stalls, 500/503/429 before and after, resets mid-body) between
# pga ship and two destinations at once, S3 (s3rver) and Azure (azurite):
# every segment arrives exactly once and byte-identical at both, every
# failed attempt is counted, nothing is left in the spool.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"
. "$(dirname "$0")/../lib/faultproxy.sh"
. "$(dirname "$0")/../lib/azurite.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
azurite_available || skip_all "azurite not installed (run make deps)"
N=${PGA_TORTURE:+1000}
N=${N:-200}
s3srv_start pga || exit 1
azurite_start || exit 1
A=devstoreaccount1
helper azure-request --query restype=container PUT "$AZURITE_URL" "/$A/pga" >/dev/null || exit 1

MODES=drop,drop-after,stall,500,503,429,500-after,503-after,429-after,reset-mid-body
faultproxy_start "127.0.0.1:$S3_PORT" --rate 0.10 --seed 4601 --modes $MODES --stall-seconds 3 || exit 1
S3P_URL=$FAULTPROXY_URL S3P_DIR=$FAULTPROXY_DIR
faultproxy_start "127.0.0.1:$AZURITE_PORT" --rate 0.10 --seed 4602 --modes $MODES --stall-seconds 3 || exit 1
AZP_URL=$FAULTPROXY_URL AZP_DIR=$FAULTPROXY_DIR

SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
counter() { sed -n "s/^$1 //p" "$SP/counters"; }
fill_spool "$SP" c1 "$N" 12000
spool_manifest "$SP" >"$TEST_TMP/want"
sed 's/^[0-9a-f]*  //' "$TEST_TMP/want" >"$TEST_TMP/want.names"
ship_conf "$CONF" "$SP" \
	"[dest:s3]" "url = s3://pga/f" "endpoint = $S3P_URL" "path-style = on" \
	"access-key-id = S3RVER" "secret-access-key = S3RVER" \
	"timeout = 1s" "retries = 12" "retry-max-delay = 200ms" "max-parallel = 4" \
	"[dest:az]" "url = azure://$A/pga/f" "endpoint = $AZP_URL/$A" \
	"timeout = 1s" "retries = 12" "retry-max-delay = 200ms" "max-parallel = 4"

run_ok "pga ship through 10 % faults" pga -c "$CONF" ship
s3faults=$(faultproxy_count faults "$S3P_DIR")
azfaults=$(faultproxy_count faults "$AZP_DIR")
diag "faults injected: s3 $s3faults, azure $azfaults"
[ "$s3faults" -gt $((N / 20)) ] && [ "$azfaults" -gt $((N / 20)) ]; ok $? "faults were injected on both paths"
for m in drop-after stall 503-after reset-mid-body; do
	n=$(($(faultproxy_count "$m" "$S3P_DIR") + $(faultproxy_count "$m" "$AZP_DIR")))
	[ "$n" -gt 0 ]; ok $? "mode $m happened ($n)"
done

# S3: list and fetch straight from s3rver, not through the proxy
awss3 s3 ls --recursive s3://pga/f/ | awk '{print $4}' | sed 's|^f/||' | sort >"$TEST_TMP/s3.names"
same_files "S3 holds every segment exactly once, nothing else" "$TEST_TMP/want.names" "$TEST_TMP/s3.names"
awss3 s3 cp --recursive --quiet s3://pga/f/ "$TEST_TMP/s3"
tree_manifest "$TEST_TMP/s3" >"$TEST_TMP/s3.sums"
same_files "S3 copies are byte-identical" "$TEST_TMP/want" "$TEST_TMP/s3.sums"

# Azure: list and fetch through our destination interface, straight from azurite
ship_conf "$TEST_TMP/direct.conf" "$SP" "[dest:az]" "url = azure://$A/pga/f" "endpoint = $AZURITE_URL/$A"
helper dest-list "$TEST_TMP/direct.conf" az | cut -d' ' -f1 >"$TEST_TMP/az.names"
same_files "Azure holds every segment exactly once, nothing else" "$TEST_TMP/want.names" "$TEST_TMP/az.names"
bad=0
while read -r sum name; do
	got=$("$HELPER_BIN" dest-get "$TEST_TMP/direct.conf" az "$name" | sha256sum | cut -c1-64)
	[ "$got" = "$sum" ] || { bad=$((bad + 1)); diag "differs: $name"; }
done <"$TEST_TMP/want"
is "$bad" 0 "Azure copies are byte-identical"

is "$(find "$SP/ready" -type f | wc -l)" 0 "the spool is empty: both destinations confirmed everything"
is "$(find "$SP/ship" -name '*.ok' | wc -l)" 0 "no markers left"
is "$(counter segments_shipped)" $((2 * N)) "segments_shipped counts $N deliveries per destination"
errors=$(counter ship_errors)
[ "$errors" -gt 0 ] && [ "$errors" -le $((s3faults + azfaults)) ]; ok $? "ship_errors ($errors) counts the failed attempts, at most one per fault"
like "$(cat "$SP/ship/s3/state")" "delivered $N" "the s3 state records $N deliveries"

# Reading back through faults (pga load --from and pga restore use the
# same listing and fetching): restore --verify-only lists every day and
# fetches every object through 20 % faults, and each failed read is tried
# again, said, and the source comes out whole.
FAULTPROXY_DIR=$S3P_DIR faultproxy_set rate=0.2 modes=drop,stall,500,503,429,reset-mid-body stall-seconds=3
before=$(faultproxy_count faults "$S3P_DIR")
run_ok "restore --verify-only through 20 % faults on the reads" pga -c "$CONF" restore --verify-only --from dest:s3
read_faults=$(($(faultproxy_count faults "$S3P_DIR") - before))
diag "faults on the reads: $read_faults"
[ "$read_faults" -gt $((N / 20)) ]; ok $? "faults hit the listings and the fetches ($read_faults)"
retried=$(grep -c "retrying in" "$ERR")
[ "$retried" -gt 0 ] && [ "$retried" -le "$read_faults" ]; ok $? "each failed read is said, then tried again ($retried)"
like "$(cat "$OUT")" "collector 'c1': $N segments \\(seq 1\\.\\.$N\\).*; whole" "every segment read back"
like "$(cat "$OUT")" "$N segments verified: 0 refused, 0 gaps.* the source is whole" "none refused"
FAULTPROXY_DIR=$S3P_DIR faultproxy_set rate=1 modes=503
run_fails 1 "a bucket that stays down fails after the retries" pga -c "$CONF" restore --verify-only --from dest:s3
like "$(grep -c "LIST 'f/': 503 SlowDown.*retrying in" "$ERR") $(cat "$OUT")" \
	"^12 REFUSED +dest 's3': LIST 'f/': 503 SlowDown: [a-z ]*\\[network\\]"$'\n'"0 segments verified: 1 refused.*the source is NOT whole" \
	"each of the 12 retries said, then the refusal in one line"
done_testing
