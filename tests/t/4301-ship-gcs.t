#!/usr/bin/env bash
# pga ship to gs://: the XML API with GOOG4-HMAC-SHA256 keys and with a
# service-account key (RS256 JWT -> OAuth token -> bearer).  No GCS
# emulator exists here, so tests/lib/gcs_gateway.py checks what GCS checks
# (it recomputes every GOOG4 signature and verifies the JWT with the public
# key) and stores through s3rver, where awscli cross-checks the objects.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
command -v openssl >/dev/null || skip_all "openssl not installed"
s3srv_start gcsb || exit 1
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3

SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
HMAC_ID=GOOG1EXAMPLEHMACKEYID
HMAC_SECRET="gcs-secret-$RANDOM"
counter() { sed -n "s/^$1 //p" "$SP/counters"; }
gw_count() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$GW_DIR/counts.json" "$1"; }

# a service account: RSA key, its public half for the gateway, a JSON key file
openssl genrsa -out "$TEST_TMP/sa.pem" 2048 2>/dev/null
openssl rsa -in "$TEST_TMP/sa.pem" -pubout -out "$TEST_TMP/sa.pub" 2>/dev/null
GW_N=0
gw_start() {	# gateway options...
	GW_N=$((GW_N + 1))
	GW_DIR=$TEST_TMP/gw$GW_N
	mkdir -p "$GW_DIR"
	$PY "$TESTS_DIR/lib/gcs_gateway.py" --upstream "127.0.0.1:$S3_PORT" \
		--ready-file "$GW_DIR/port" --counts-file "$GW_DIR/counts.json" \
		--hmac-id "$HMAC_ID" --hmac-secret "$HMAC_SECRET" --pubkey "$TEST_TMP/sa.pub" \
		--client-email pga@example.iam.gserviceaccount.com "$@" 2>"$GW_DIR/stderr" &
	GW_PID=$!
	at_exit "kill $GW_PID"
	for _ in $(seq 1 100); do [ -s "$GW_DIR/port" ] && break; sleep 0.05; done
	GW_URL=http://127.0.0.1:$(cat "$GW_DIR/port")
}
keyfile() {	# EMAIL
	$PY - "$TEST_TMP/sa.pem" "$1" "$GW_URL/token" >"$TEST_TMP/key.json" <<'PYK'
import json, sys
print(json.dumps({"type": "service_account", "project_id": "p", "private_key_id": "k1",
                  "private_key": open(sys.argv[1]).read(), "client_email": sys.argv[2],
                  "token_uri": sys.argv[3]}))
PYK
	chmod 600 "$TEST_TMP/key.json"
}
gdest() { ship_conf "$CONF" "$SP" "[dest:g]" "url = gs://gcsb/$1" "endpoint = $GW_URL" "${@:2}"; }
check_bucket() {	# PREFIX MANIFEST DESC
	awss3 s3 cp --recursive --quiet "s3://gcsb/$1/" "$TEST_TMP/dl-$1"
	tree_manifest "$TEST_TMP/dl-$1" >"$TEST_TMP/dl-$1.sums"
	same_files "$3" "$2" "$TEST_TMP/dl-$1.sums"
}

# HMAC keys
gw_start
fill_spool "$SP" c1 12 8000
spool_manifest "$SP" >"$TEST_TMP/want1"
gdest hmac "access-key-id = $HMAC_ID" "secret-access-key = $HMAC_SECRET"
run_ok "ship with GOOG4-HMAC-SHA256" pga -c "$CONF" ship
is "$(gw_count refused)" 0 "the gateway accepted every signature"
[ "$(gw_count hmac)" -ge 12 ]; ok $? "every request was HMAC-signed ($(gw_count hmac))"
check_bucket hmac "$TEST_TMP/want1" "the objects are the segments, byte-identical"
first=$(head -1 "$TEST_TMP/want1" | cut -d' ' -f3)
run_ok "head-object" awss3 s3api head-object --bucket gcsb --key "hmac/$first"
like "$(last_out)" "\"sha256\": \"$(head -1 "$TEST_TMP/want1" | cut -c1-64)\"" "x-goog-meta-sha256 was stored"
run_ok "dest head over the gateway" helper dest-head "$CONF" g "$first"
like "$(last_out)" "^exists [0-9]+ $(head -1 "$TEST_TMP/want1" | cut -c1-64)" "HEAD reads size and x-goog-meta-sha256"
run_ok "check: the HMAC key is accepted" helper ship-check "$CONF"

fill_spool "$SP" c1 2 4000
gdest hmac "access-key-id = $HMAC_ID" "secret-access-key = wrong-$HMAC_SECRET"
run_fails 1 "a wrong HMAC secret is refused" pga -c "$CONF" ship
like "$(last_err)" "403 SignatureDoesNotMatch" "with GCS's error code"
# create-only: x-goog-if-generation-match: 0 answered with 412, then compared
victim=$(cd "$SP/ready" && find . -type f | sed 's|^\./||' | sort | head -1)
echo other >"$TEST_TMP/other"
awss3 s3 cp --quiet "$TEST_TMP/other" "s3://gcsb/hmac/$victim"
gdest hmac "access-key-id = $HMAC_ID" "secret-access-key = $HMAC_SECRET" "create-only = if-none-match"
run_fails 1 "a different object under the name is a conflict" pga -c "$CONF" ship
like "$(last_err)" "already exists with a different size" "reported as such"
[ "$(gw_count precondition_failed)" -ge 1 ]; ok $? "the gateway answered 412 to x-goog-if-generation-match: 0"
awss3 s3 rm --quiet "s3://gcsb/hmac/$victim"
run_ok "after removing it the segments go" pga -c "$CONF" ship

# service account: one token for all slots
keyfile pga@example.iam.gserviceaccount.com
fill_spool "$SP" c1 12 8000
spool_manifest "$SP" >"$TEST_TMP/want2"
gdest sa "key-file = $TEST_TMP/key.json"
run_ok "ship with a service-account key" pga -c "$CONF" --log-level trace ship
is "$(gw_count tokens)" 1 "one access token, shared by the four upload slots"
[ "$(gw_count bearer)" -ge 12 ]; ok $? "requests carried the bearer token"
check_bucket sa "$TEST_TMP/want2" "the objects are the segments, byte-identical"
grep -q "BEGIN.*PRIVATE KEY\|ya29\.\|assertion=" "$OUT" "$ERR"; [ $? -ne 0 ]; ok $? "neither the key, the assertion nor the token is logged"

# tokens expire and are renewed; a revoked token (401) is replaced at once
gw_start --token-lifetime 2 --revoke-after 5
keyfile pga@example.iam.gserviceaccount.com
fill_spool "$SP" c1 16 8000
spool_manifest "$SP" >"$TEST_TMP/want3"
# 128 KB at 20 KB/s: the run outlasts the revocation (the 5th request) by
# more than a token's life, however the rate limiter's first burst falls
# (at 40K a fresh clone's run once ended inside the second token's life)
gdest renew "key-file = $TEST_TMP/key.json" "rate-limit = 20K" "max-parallel = 2"
run_ok "ship across token expiry and revocation" pga -c "$CONF" ship
[ "$(gw_count tokens)" -ge 3 ]; ok $? "tokens were renewed ($(gw_count tokens) issued)"
check_bucket renew "$TEST_TMP/want3" "everything arrived"

# token-url override and a refused grant
keyfile stranger@example.iam.gserviceaccount.com
fill_spool "$SP" c1 1 4000
gdest sa "key-file = $TEST_TMP/key.json" "token-url = $GW_URL/token" "retries = 0"
run_fails 1 "a grant the token endpoint refuses" pga -c "$CONF" ship
like "$(last_err)" "token request refused \\(400\\).*invalid_grant.*unknown client" "the OAuth error is reported"
done_testing
