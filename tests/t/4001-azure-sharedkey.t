#!/usr/bin/env bash
# Azure Shared Key against azurite, which verifies every signature and
# Content-MD5: container create, blob put/get/head/list through
# pga-test-helper azure-request (our signer + libcurl).  A wrong
# signature, key or MD5 must be refused, so this test cannot pass by luck.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/azurite.sh"

azurite_available || skip_all "azurite not installed (run scripts/deps.sh)"
azurite_start || { ok 1 "azurite starts"; done_testing; exit 1; }

A=/devstoreaccount1
az() { helper azure-request "$@"; }
status() { sed -n 's/^status //p' "$OUT"; }

# container
run_ok "create container" az --query restype=container PUT "$AZURITE_URL" $A/pga
run_fails 22 "creating it again is a conflict" az --query restype=container PUT "$AZURITE_URL" $A/pga
is "$(status)" 409 "409 for an existing container"

# blob with Content-MD5, a name that needs encoding, metadata
head -c 100000 /dev/urandom >"$TEST_TMP/blob"
name='dir/seg 0001 ü~+$.pgs'
md5=$(perl -MDigest::MD5 -MMIME::Base64 -0777 -ne 'print encode_base64(Digest::MD5::md5($_), "")' "$TEST_TMP/blob")
sha=$(sha256sum "$TEST_TMP/blob" | cut -d' ' -f1)
run_ok "put blob with content-md5 and metadata" az --content-md5 --body "$TEST_TMP/blob" \
	--header 'x-ms-blob-type: BlockBlob' --header "x-ms-meta-sha256: $sha" \
	--header 'Content-Type: application/octet-stream' --header 'If-None-Match: *' \
	PUT "$AZURITE_URL" "$A/pga/$name"
is "$(status)" 201 "201 created"

run_fails 22 "create-only put of an existing blob is refused" az --content-md5 \
	--body "$TEST_TMP/blob" --header 'x-ms-blob-type: BlockBlob' --header 'If-None-Match: *' \
	PUT "$AZURITE_URL" "$A/pga/$name"
is "$(status)" 409 "409 BlobAlreadyExists for If-None-Match: *"

run_ok "get blob" az --out "$TEST_TMP/got" GET "$AZURITE_URL" "$A/pga/$name"
ok "$(cmp -s "$TEST_TMP/blob" "$TEST_TMP/got"; echo $?)" "got the same bytes back"

run_ok "head blob" az --dump-headers "$TEST_TMP/h" HEAD "$AZURITE_URL" "$A/pga/$name"
hdrs=$(tr -d '\r' <"$TEST_TMP/h")
like "$hdrs" $'(^|\n)content-length: 100000(\n|$)' "head: content-length"
[[ $hdrs == *"content-md5: $md5"* ]]
ok $? "head: content-md5 as sent" || diag "want content-md5: $md5 in: $hdrs"
like "$hdrs" "x-ms-meta-sha256: $sha" "head: sha256 metadata kept"

run_ok "list with an encoded prefix" az --out "$TEST_TMP/list" --query restype=container \
	--query comp=list --query 'prefix=dir/seg 0' GET "$AZURITE_URL" $A/pga
like "$(cat "$TEST_TMP/list")" "<Name>dir/seg 0001 ü~\+\\\$\.pgs</Name>" "listing names the blob"

# zero-length blob: Content-Length 0 is an empty line in the string to sign
: >"$TEST_TMP/empty"
run_ok "put zero-length blob" az --content-md5 --body "$TEST_TMP/empty" \
	--header 'x-ms-blob-type: BlockBlob' PUT "$AZURITE_URL" "$A/pga/empty"
run_ok "head zero-length blob" az --dump-headers "$TEST_TMP/h0" HEAD "$AZURITE_URL" "$A/pga/empty"
like "$(tr -d '\r' <"$TEST_TMP/h0")" $'content-length: 0(\n|$)' "zero-length blob stored"

# failures the server must catch
run_fails 22 "wrong content-md5 is refused" az --content-md5=AAAAAAAAAAAAAAAAAAAAAA== \
	--body "$TEST_TMP/blob" --header 'x-ms-blob-type: BlockBlob' PUT "$AZURITE_URL" "$A/pga/bad-md5"
is "$(status)" 400 "400 Md5Mismatch"
like "$(last_err)" "Md5Mismatch" "server names the md5 mismatch"
run_fails 22 "wrong key is refused" env AZURE_STORAGE_KEY="$(printf 'not the key at all 0123456789' | base64)" \
	"$HELPER_BIN" azure-request GET "$AZURITE_URL" "$A/pga/$name"
is "$(status)" 403 "403 for a wrong key"
like "$(last_err)" "AuthorizationFailure" "server reports an authorization failure"
# azurite does not check x-ms-date skew; a signature over another account
# name (resource line, SharedKey prefix) must fail
run_fails 22 "a signature for another account is refused" env AZURE_STORAGE_ACCOUNT=otheraccount \
	"$HELPER_BIN" azure-request GET "$AZURITE_URL" "$A/pga/$name"
is "$(status)" 403 "403 for the wrong account"
run_fails 22 "missing blob is 404" az GET "$AZURITE_URL" "$A/pga/absent"
is "$(status)" 404 "404 for an absent blob"
run_fails 1 "a key that is not base64 fails before sending" env AZURE_STORAGE_KEY='not base64!' \
	"$HELPER_BIN" azure-request GET "$AZURITE_URL" "$A/pga/$name"
like "$(last_err)" "not valid base64" "bad key named in the error"

done_testing
