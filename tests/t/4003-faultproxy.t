#!/usr/bin/env bash
# Self-test of tests/lib/faultproxy.py in front of a real s3rver: clean
# forwarding (Content-Length, chunked, 100-continue, HEAD, keep-alive), then
# every fault mode at rate 1 with curl, proving each really happens (and
# that the "-after" modes let the upstream store the object first), the
# configured rate with a seed, the control file, and an upstream that is gone.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"
. "$(dirname "$0")/../lib/faultproxy.sh"

s3srv_available || skip_all "s3rver not installed (run scripts/deps.sh)"
s3srv_start || { ok 1 "s3rver starts"; done_testing; exit 1; }
UP=127.0.0.1:$S3_PORT
head -c 300000 /dev/urandom >"$TEST_TMP/big"
stored() { curl -s -o /dev/null -w '%{http_code}' "$S3_URL/bkt/$1"; }
code() { curl -s -o "$TEST_TMP/resp" -w '%{http_code}' "$@"; }

run_ok "create bucket upstream" curl -sf -X PUT "$S3_URL/bkt"

# ---- clean forwarding ----
faultproxy_start "$UP" --rate 0
ok $? "proxy starts on a free port"
like "$(cat "$FAULTPROXY_DIR/stdout")" "^listening $FAULTPROXY_PORT" "port printed on stdout"
P=$FAULTPROXY_URL
is "$(code -T "$TEST_TMP/big" -H 'Expect:' "$P/bkt/cl")" 200 "put with content-length"
is "$(code -T - -H 'Transfer-Encoding: chunked' -H 'Expect:' "$P/bkt/chunked" <"$TEST_TMP/big")" 200 \
	"put with a chunked body"
is "$(code -T "$TEST_TMP/big" -H 'Expect: 100-continue' "$P/bkt/continue")" 200 "put with 100-continue"
for k in cl chunked continue; do
	curl -s -o "$TEST_TMP/got" "$P/bkt/$k"
	ok "$(cmp -s "$TEST_TMP/got" "$TEST_TMP/big"; echo $?)" "get $k through the proxy is byte-identical"
done
run_ok "head through the proxy" curl -sf -I "$P/bkt/cl"
like "$(tr -d '\r' <"$OUT")" $'Content-Length: 300000\n' "head: content-length relayed"
c0=$(faultproxy_count connections); r0=$(faultproxy_count requests)
curl -s -o /dev/null -o /dev/null -o /dev/null "$P/bkt/cl" "$P/bkt/chunked" "$P/bkt/continue"
is "$(( $(faultproxy_count requests) - r0 ))/$(( $(faultproxy_count connections) - c0 ))" 3/1 \
	"three requests on one kept-alive connection"
is "$(faultproxy_count faults)" 0 "no faults at rate 0"
faultproxy_stop

# ---- each fault mode at rate 1 ----
mode_proxy() { faultproxy_start "$UP" --rate 1 --modes "$1" --stall-seconds 3; }

mode_proxy drop
curl -s -o /dev/null --max-time 5 -T "$TEST_TMP/big" "$FAULTPROXY_URL/bkt/drop"
rc=$?
ok $((rc == 0)) "drop: curl fails (exit $rc)"
is "$(stored drop)" 404 "drop: nothing reached the upstream"
like "$(cat "$FAULTPROXY_DIR/log")" "fault 1 drop PUT /bkt/drop" "drop: logged"
is "$(faultproxy_count drop)" 1 "drop: counted"
faultproxy_stop

mode_proxy drop-after
curl -s -o /dev/null --max-time 5 -T "$TEST_TMP/big" "$FAULTPROXY_URL/bkt/dropafter"
rc=$?
ok $((rc == 0)) "drop-after: curl fails (exit $rc)"
is "$(stored dropafter)" 200 "drop-after: the upstream stored the object first"
faultproxy_stop

mode_proxy stall
start=$(date +%s%N)
curl -s -o /dev/null --max-time 1 "$FAULTPROXY_URL/bkt/cl"
rc=$?
is "$rc" 28 "stall: curl times out"
ok $(( ($(date +%s%N) - start) / 1000000 < 950 )) "stall: only after its timeout"
faultproxy_stop

for m in 500 503 429; do
	mode_proxy $m
	is "$(code -T "$TEST_TMP/big" -H 'Expect:' -D "$TEST_TMP/h" "$FAULTPROXY_URL/bkt/e$m")" $m \
		"$m: status returned"
	is "$(stored e$m)" 404 "$m: not forwarded"
	if [ $m != 500 ]; then
		like "$(cat "$TEST_TMP/h")" "Retry-After: 1" "$m: Retry-After sent"
	fi
	# with 100-continue the error comes before the body
	is "$(code -T "$TEST_TMP/big" -H 'Expect: 100-continue' "$FAULTPROXY_URL/bkt/c$m")" $m \
		"$m: status returned before a 100-continue body"
	faultproxy_stop
done

for m in 500-after 503-after 429-after; do
	mode_proxy $m
	is "$(code -T "$TEST_TMP/big" "$FAULTPROXY_URL/bkt/a$m")" "${m%-after}" "$m: status returned"
	is "$(stored a$m)" 200 "$m: the upstream stored the object anyway"
	faultproxy_stop
done

mode_proxy reset-mid-body
curl -s -o "$TEST_TMP/part" --max-time 5 "$FAULTPROXY_URL/bkt/cl"
rc=$?
size=$(stat -c %s "$TEST_TMP/part" 2>/dev/null || echo 0)
ok $((rc == 0)) "reset-mid-body: curl fails (exit $rc)"
ok $(( ! (size > 0 && size < 300000) )) "reset-mid-body: part of the body arrived ($size bytes)"
cmp -s -n "$size" "$TEST_TMP/part" "$TEST_TMP/big"
ok $? "reset-mid-body: the part that arrived is the real prefix"
faultproxy_stop

# ---- rate, seed, counts and log agree ----
faultproxy_start "$UP" --rate 0.3 --seed 7 --modes 500,503,429
for i in $(seq 1 100); do echo "url = \"$FAULTPROXY_URL/bkt/cl\""; echo "output = /dev/null"; done \
	>"$TEST_TMP/urls"
curl -s -K "$TEST_TMP/urls" -w '%{http_code}\n' >"$TEST_TMP/codes"
bad=$(grep -vc '^200$' "$TEST_TMP/codes")
ok $(( ! (bad >= 15 && bad <= 45) )) "rate 0.3: $bad of 100 requests faulted"
is "$(faultproxy_count faults)" "$bad" "counts file agrees with the client"
is "$(grep -c ' fault ' "$FAULTPROXY_DIR/log")" "$bad" "one log line per fault"
is "$(faultproxy_count requests)" 100 "every request counted"

# ---- control file: down, then back ----
faultproxy_set rate=1 modes=503
is "$(code "$FAULTPROXY_URL/bkt/cl")" 503 "control: destination down"
faultproxy_set rate=0
is "$(code "$FAULTPROXY_URL/bkt/cl")" 200 "control: destination back"

# ---- upstream gone ----
s3srv_stop
is "$(code "$FAULTPROXY_URL/bkt/cl")" 502 "upstream gone: 502"
faultproxy_stop

done_testing
