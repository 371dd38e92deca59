#!/usr/bin/env bash
# pga ship to azure://: azurite verifies every Shared Key signature, SAS
# signature and Content-MD5.  Blobs are fetched back (our destination
# interface and the signer test tool) and compared; create-only conflicts,
# wrong keys and SAS tokens are refused with the server's error code.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"
. "$(dirname "$0")/../lib/azurite.sh"

azurite_available || skip_all "azurite not installed (run make deps)"
azurite_start || exit 1
A=devstoreaccount1
KEY=$AZURE_STORAGE_KEY
unset AZURE_STORAGE_KEY	# the configuration says which key to use
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
azreq() { AZURE_STORAGE_KEY=$KEY helper azure-request "$@"; }
azreq --query restype=container PUT "$AZURITE_URL" "/$A/pga" >/dev/null || exit 1

SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
adest() { ship_conf "$CONF" "$SP" "[dest:az]" "url = azure://$A/pga/$1" "endpoint = $AZURITE_URL/$A" "${@:2}"; }
same_blobs() {	# PREFIX MANIFEST: list and fetch through the destination interface
	local bad=0
	helper dest-list "$CONF" az | cut -d' ' -f1 >"$TEST_TMP/names"
	sed 's/^[0-9a-f]*  //' "$2" | cmp -s - "$TEST_TMP/names" || { diag "names differ"; return 1; }
	while read -r sum name; do
		[ "$("$HELPER_BIN" dest-get "$CONF" az "$name" | sha256sum | cut -c1-64)" = "$sum" ] || bad=1
	done <"$2"
	return $bad
}

fill_spool "$SP" c1 12 10000
spool_manifest "$SP" >"$TEST_TMP/want1"
adest sk "account-key = $KEY" "max-parallel = 4"
run_ok "ship with Shared Key" pga -c "$CONF" --log-level trace ship
grep -q -- "$KEY" "$OUT" "$ERR"; [ $? -ne 0 ]; ok $? "the account key is never logged"
same_blobs sk "$TEST_TMP/want1"; ok $? "listed and fetched blobs are the segments, byte-identical"
first=$(head -1 "$TEST_TMP/want1" | cut -d' ' -f3)
run_ok "blob properties" azreq --dump-headers "$TEST_TMP/props" HEAD "$AZURITE_URL" "/$A/pga/sk/$first"
like "$(tr -d '\r' <"$TEST_TMP/props")" "x-ms-meta-sha256: $(head -1 "$TEST_TMP/want1" | cut -c1-64)" "x-ms-meta-sha256 is stored"
md5=$("$HELPER_BIN" dest-get "$CONF" az "$first" | openssl dgst -md5 -binary | base64)
tr -d '\r' <"$TEST_TMP/props" | grep -qiF "content-md5: $md5"; ok $? "Content-MD5 was sent and kept ($md5)"
run_ok "check: reachable, key accepted" helper ship-check "$CONF"

# create-only: 409 on an existing blob, then compared
fill_spool "$SP" c1 2 4000
names=$(cd "$SP/ready" && find . -type f | sed 's|^\./||' | sort)
same=$(echo "$names" | sed -n 1p)
diff=$(echo "$names" | sed -n 2p)
azreq --content-md5 --body "$SP/ready/$same" --header 'x-ms-blob-type: BlockBlob' PUT "$AZURITE_URL" "/$A/pga/sk/$same" >/dev/null
echo "not a segment" >"$TEST_TMP/other"
azreq --content-md5 --body "$TEST_TMP/other" --header 'x-ms-blob-type: BlockBlob' PUT "$AZURITE_URL" "/$A/pga/sk/$diff" >/dev/null
run_fails 1 "a different blob under a segment's name stops the destination" pga -c "$CONF" --log-level debug ship
like "$(last_err)" "-> 409" "azurite answered 409 to If-None-Match: *"
like "$(last_err)" "'$diff' already exists with a different size" "the conflict names the blob"
[ ! -e "$SP/ready/$same" ]; ok $? "the identical blob (compared by its Content-MD5) counted as delivered"
[ -e "$SP/ready/$diff" ]; ok $? "the conflicting segment stays in the spool"
azreq DELETE "$AZURITE_URL" "/$A/pga/sk/$diff" >/dev/null
run_ok "once the blob is gone the segment goes" pga -c "$CONF" ship

# a wrong key is a permanent error with the server's code, not retried
fill_spool "$SP" c1 1 4000
adest sk "account-key = $(printf 'wrong key of 32 bytes, base64!!!' | base64 -w0)"
run_fails 1 "a wrong account key is refused" pga -c "$CONF" ship
like "$(last_err)" "403 AuthorizationFailure" "with azurite's error code"
if grep -q "attempt 1 of" "$ERR"; then ok 1 "a 403 is not retried"; else ok 0 "a 403 is not retried"; fi
run_fails 1 "check fails with it" helper ship-check "$CONF"
like "$(last_out)" "^FAIL +destination 'az'.*403" "check shows the refusal"

# a SAS token instead of the key (account SAS, computed here with the key)
sas() {	# KEY
	$PY - "$A" "$1" <<'PYS'
import base64, hmac, hashlib, sys, time, urllib.parse
acct, key = sys.argv[1], sys.argv[2]
st = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 300))
se = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
fields = [acct, "rwdlac", "b", "sco", st, se, "", "http,https", "2019-12-12", ""]
sig = base64.b64encode(hmac.new(base64.b64decode(key), "\n".join(fields).encode(),
                                hashlib.sha256).digest()).decode()
print(urllib.parse.urlencode({"sv": "2019-12-12", "ss": "b", "srt": "sco", "sp": "rwdlac",
                              "st": st, "se": se, "spr": "http,https", "sig": sig}))
PYS
}
SAS=$(sas "$KEY")
fill_spool "$SP" c1 4 6000
spool_manifest "$SP" >"$TEST_TMP/want2"
adest sas "sas-token = $SAS"
run_ok "ship with a SAS token" pga -c "$CONF" --log-level trace ship
sig=$(echo "$SAS" | sed 's/.*sig=//')
grep -qF -- "$sig" "$OUT" "$ERR"; [ $? -ne 0 ]; ok $? "the SAS signature is never logged"
same_blobs sas "$TEST_TMP/want2"; ok $? "the SAS-written blobs are the segments"
fill_spool "$SP" c1 1 4000
adest sas "sas-token = $(sas "$(printf 'another key, not the account one' | base64 -w0)")"
run_fails 1 "a SAS signed with the wrong key is refused" pga -c "$CONF" ship
like "$(last_err)" "403 AuthorizationFailure|403 AuthenticationFailed" "with the server's code"
done_testing
