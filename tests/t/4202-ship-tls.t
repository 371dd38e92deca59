#!/usr/bin/env bash
# TLS is always verified (ca-file replaces the trust store, never the
# check), and HTTPS_PROXY / NO_PROXY are honoured: s3rver over TLS with a
# certificate from a throwaway CA, reached directly or through a CONNECT
# proxy.  Proxy credentials never reach the logs.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
command -v openssl >/dev/null || skip_all "openssl not installed"
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
unset https_proxy HTTPS_PROXY http_proxy no_proxy NO_PROXY ALL_PROXY all_proxy

# a CA, a certificate for 127.0.0.1 signed by it, and an unrelated CA
cd "$TEST_TMP" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pga-test-ca -keyout ca.key -out ca.pem 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr 2>/dev/null
printf 'subjectAltName = IP:127.0.0.1\n' >ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf -out srv.pem 2>/dev/null
cd - >/dev/null || exit 1

PORT=$(free_port)
mkdir -p "$TEST_TMP/s3data"
"$S3SRV_BIN" -d "$TEST_TMP/s3data" -a 127.0.0.1 -p "$PORT" -s --key "$TEST_TMP/srv.key" \
	--cert "$TEST_TMP/srv.pem" --configure-bucket pga >"$TEST_TMP/s3rver.log" 2>&1 &
at_exit "kill $!"
for _ in $(seq 1 150); do curl -s -o /dev/null --cacert "$TEST_TMP/ca.pem" "https://127.0.0.1:$PORT/" && break; sleep 0.1; done
URL=https://127.0.0.1:$PORT

SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
tdest() { ship_conf "$CONF" "$SP" "[dest:tls]" "url = s3://pga/t" "endpoint = $URL" "path-style = on" \
	"access-key-id = S3RVER" "secret-access-key = S3RVER" "retries = 1" "retry-max-delay = 50ms" "$@"; }
objects() { AWS_CA_BUNDLE=$TEST_TMP/ca.pem AWS_ENDPOINT=$URL awss3 s3 ls --recursive s3://pga/t/ | wc -l; }

fill_spool "$SP" c1 3 4000
tdest
run_fails 1 "a certificate from an unknown CA is refused" pga -c "$CONF" ship
like "$(last_err)" "TLS verification of 'https://127.0.0.1:$PORT/pga/[^']*' failed: SSL certificate problem" "the error says TLS verification failed"
if grep -q "attempt 1 of" "$ERR"; then ok 1 "it is not retried"; else ok 0 "it is not retried"; fi
tdest "ca-file = $TEST_TMP/other.pem"
run_fails 1 "ca-file with another CA is refused too" pga -c "$CONF" ship
tdest "ca-file = $TEST_TMP/ca.pem"
run_ok "ca-file with the right CA ships" pga -c "$CONF" ship
is "$(objects)" 3 "the 3 segments are there"

# through an HTTPS proxy (CONNECT); proxy credentials stay out of the logs
$PY "$TESTS_DIR/lib/connect_proxy.py" --ready-file "$TEST_TMP/proxy.port" --log "$TEST_TMP/proxy.log" &
at_exit "kill $!"
for _ in $(seq 1 100); do [ -s "$TEST_TMP/proxy.port" ] && break; sleep 0.05; done
PROXY=http://pgauser:ProxySecret7@127.0.0.1:$(cat "$TEST_TMP/proxy.port")
: >"$TEST_TMP/proxy.log"
fill_spool "$SP" c1 2 4000
run_ok "ship through HTTPS_PROXY" env HTTPS_PROXY="$PROXY" "$PGA_BIN" -c "$CONF" --log-level trace ship
like "$(cat "$TEST_TMP/proxy.log")" "CONNECT 127.0.0.1:$PORT auth" "the proxy carried the TLS connection, with its credentials"
grep -q ProxySecret7 "$OUT" "$ERR"; [ $? -ne 0 ]; ok $? "the proxy password is not logged"
is "$(objects)" 5 "the segments arrived"
: >"$TEST_TMP/proxy.log"
fill_spool "$SP" c1 2 4000
run_ok "NO_PROXY bypasses it" env HTTPS_PROXY="$PROXY" NO_PROXY=127.0.0.1 "$PGA_BIN" -c "$CONF" ship
is "$(wc -l <"$TEST_TMP/proxy.log")" 0 "the proxy saw nothing"
is "$(objects)" 7 "the segments arrived directly"
done_testing
