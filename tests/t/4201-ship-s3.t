#!/usr/bin/env bash
# pga ship to S3: s3rver for behaviour, cross-checked with awscli and rclone
# (names, bytes, metadata), downloads that pass pga spool verify and zstd -t;
# moto (where installed) checks every signature, honours If-None-Match and
# tells a wrong secret from a right one.  Credentials from config,
# environment and a 0600 credentials file; secrets never in the logs.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
[ -x "$AWS_BIN" ] || skip_all "awscli not installed (run make deps)"
s3srv_start pga || exit 1

SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
SECRET="sEcReT-$RANDOM-do-not-log"
counter() { sed -n "s/^$1 //p" "$SP/counters"; }
s3dest() {	# extra lines...
	ship_conf "$CONF" "$SP" "[dest:s3]" "url = s3://pga/site-a" "endpoint = $S3_URL" \
		"path-style = on" "max-parallel = 4" "$@"
}

fill_spool "$SP" c1 30 20000
spool_manifest "$SP" >"$TEST_TMP/want"
sed 's/^[0-9a-f]*  //' "$TEST_TMP/want" >"$TEST_TMP/want.names"
s3dest "access-key-id = S3RVER" "secret-access-key = $SECRET" "storage-class = REDUCED_REDUNDANCY"
run_ok "pga ship to s3rver" pga -c "$CONF" --log-level trace ship
if grep -q -- "$SECRET" "$OUT" "$ERR"; then ok 1 "the secret key is not in any output"; else ok 0 "the secret key is not in any output"; fi
is "$(find "$SP/ready" -type f | wc -l)" 0 "the spool is empty"
is "$(counter segments_shipped)" 30 "30 deliveries counted"

# awscli sees exactly our names under the prefix and fetches the same bytes
awss3 s3 ls --recursive s3://pga/site-a/ | awk '{print $4}' | sed 's|^site-a/||' | sort >"$TEST_TMP/aws.names"
if cmp -s "$TEST_TMP/want.names" "$TEST_TMP/aws.names"; then ok 0 "aws s3 ls lists exactly the segment names"
else ok 1 "aws s3 ls lists exactly the segment names"; diag "$(diff "$TEST_TMP/want.names" "$TEST_TMP/aws.names" | head)"; fi
run_ok "aws s3 cp --recursive fetches them" awss3 s3 cp --recursive --quiet s3://pga/site-a/ "$TEST_TMP/aws"
tree_manifest "$TEST_TMP/aws" >"$TEST_TMP/aws.sums"
same_files "fetched with awscli: byte-identical" "$TEST_TMP/want" "$TEST_TMP/aws.sums"
run_ok "pga spool verify accepts the downloads" pga spool verify "$TEST_TMP/aws"
run_ok "zstd -t accepts the downloads" bash -c "find '$TEST_TMP/aws' -name '*.pga.zst' -print0 | xargs -0 zstd -q -t"
first=$(head -1 "$TEST_TMP/want.names")
run_ok "head-object" awss3 s3api head-object --bucket pga --key "site-a/$first"
like "$(last_out)" "\"sha256\": \"$(head -1 "$TEST_TMP/want" | cut -c1-64)\"" "x-amz-meta-sha256 holds the segment's SHA-256"
like "$(last_out)" '"StorageClass": "REDUCED_REDUNDANCY"' "storage-class was applied"
like "$(last_out)" "\"ETag\": \"\\\\\"$(md5sum "$TEST_TMP/aws/$first" | cut -c1-32)" "the ETag is the MD5 we sent as Content-MD5"

if command -v rclone >/dev/null; then
	rcl() { env -u AWS_CA_BUNDLE rclone -q --s3-provider Other --s3-endpoint "$S3_URL" \
		--s3-access-key-id S3RVER --s3-secret-access-key S3RVER "$@"; }
	# s3rver answers delimiter listings oddly: rclone needs --fast-list to copy
	rcl lsf -R --files-only :s3:pga/site-a | sort >"$TEST_TMP/rclone.names"
	same_files "rclone lists exactly the segment names" "$TEST_TMP/want.names" "$TEST_TMP/rclone.names"
	run_ok "rclone copy fetches them" rcl copy --fast-list :s3:pga/site-a "$TEST_TMP/rclone"
	tree_manifest "$TEST_TMP/rclone" >"$TEST_TMP/rclone.sums"
	same_files "fetched with rclone: byte-identical" "$TEST_TMP/want" "$TEST_TMP/rclone.sums"
else
	ok 0 "# SKIP rclone not installed"
fi

# the destination interface pga restore uses: list and get
run_ok "dest list" helper dest-list "$CONF" s3
cut -d' ' -f1 "$OUT" >"$TEST_TMP/list.names"
same_files "list returns every segment name in order" "$TEST_TMP/want.names" "$TEST_TMP/list.names"
run_ok "dest get" bash -c "'$HELPER_BIN' dest-get '$CONF' s3 '$first' >'$TEST_TMP/got1'"
same_files "get returns the object's bytes" "$TEST_TMP/got1" "$TEST_TMP/aws/$first"
run_ok "check: reachable, credentials accepted" helper ship-check "$CONF"

# create-only: a different object under the next segment's name stops the destination
fill_spool "$SP" c1 2 5000
victim=$(cd "$SP/ready" && find . -type f | sed 's|^\./||' | sort | head -1)
echo "someone else's object" >"$TEST_TMP/other"
awss3 s3 cp --quiet "$TEST_TMP/other" "s3://pga/site-a/$victim"
run_fails 1 "a different object under a segment's name fails the run" pga -c "$CONF" ship
like "$(last_err)" "'$victim' already exists with a different size.*stopping this destination" "the conflict is reported"
[ -e "$SP/ready/$victim" ]; ok $? "the segment stays in the spool"
awss3 s3 cp --quiet "s3://pga/site-a/$victim" "$TEST_TMP/after"
same_files "the existing object was not overwritten (checked before the PUT on s3rver)" "$TEST_TMP/other" "$TEST_TMP/after"
# the same bytes already there (a crash after the upload, before the ack) are fine
awss3 s3 cp --quiet "$SP/ready/$victim" "s3://pga/site-a/$victim"
run_ok "an identical object counts as delivered" pga -c "$CONF" ship
is "$(find "$SP/ready" -type f | wc -l)" 0 "and the segment leaves the spool"

# credentials from the environment, and from a credentials file that must be 0600
s3dest
fill_spool "$SP" c1 2 5000
run_ok "credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY" \
	env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER HOME=$TEST_TMP "$PGA_BIN" -c "$CONF" ship
printf '[default]\naws_access_key_id = wrong\n[ship]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n' >"$TEST_TMP/creds"
chmod 644 "$TEST_TMP/creds"
s3dest "credentials-file = $TEST_TMP/creds" "profile = ship"
fill_spool "$SP" c1 2 5000
run_fails 1 "a group/world-readable credentials file is refused" env -u AWS_ACCESS_KEY_ID "$PGA_BIN" -c "$CONF" ship
like "$(last_err)" "credentials file '$TEST_TMP/creds' has mode 0644, open to others: it must be 0600 or 0640" "the error says how to fix it"
is "$(find "$SP/ready" -type f | wc -l)" 2 "nothing was shipped"
chmod 600 "$TEST_TMP/creds"
run_ok "a 0600 credentials file with a profile works" env -u AWS_ACCESS_KEY_ID "$PGA_BIN" -c "$CONF" ship
is "$(find "$SP/ready" -type f | wc -l)" 0 "and ships"
s3dest "credentials-file = $TEST_TMP/creds" "profile = missing"
run_fails 1 "a profile without keys is a clear error" env -u AWS_ACCESS_KEY_ID "$PGA_BIN" -c "$CONF" ship
like "$(last_err)" "no aws_access_key_id and aws_secret_access_key in profile 'missing'" "naming the profile"

# a server that is gone: retried, then reported, nothing lost
s3dest "access-key-id = S3RVER" "secret-access-key = S3RVER" "retries = 2" "retry-max-delay = 50ms" "timeout = 2s"
sed -i "s|^endpoint = .*|endpoint = http://127.0.0.1:$(free_port)|" "$CONF"
fill_spool "$SP" c1 1 3000
run_fails 1 "an unreachable endpoint fails after the retries" pga -c "$CONF" ship
like "$(last_err)" "attempt 2 of 3" "it was retried"
like "$(last_err)" "Couldn't connect|Connection refused|Failed to connect" "with the transport error"
run_fails 1 "check reports it" helper ship-check "$CONF"

# moto: real signature checks, If-None-Match honoured
if moto_available && moto_start mbk; then
	mconf() {
		ship_conf "$CONF" "$SP" "[dest:m]" "url = s3://mbk/p" "endpoint = $MOTO_URL" \
			"path-style = on" "access-key-id = $MOTO_KEY_ID" "create-only = if-none-match" "$@"
	}
	mconf "secret-access-key = $MOTO_SECRET"
	run_ok "moto accepts our signatures" pga -c "$CONF" ship
	is "$(find "$SP/ready" -type f | wc -l)" 0 "the pending segment went to moto"
	fill_spool "$SP" c1 3 4000
	mconf "secret-access-key = not$MOTO_SECRET"
	run_fails 1 "moto refuses a wrong secret" pga -c "$CONF" ship
	like "$(last_err)" "403 SignatureDoesNotMatch" "with the server's error code"
	if grep -q "attempt 1 of" "$ERR"; then ok 1 "a 403 is not retried"; else ok 0 "a 403 is not retried"; fi
	# If-None-Match: the same bytes (412 then HEAD) pass, different ones stop it
	names=$(cd "$SP/ready" && find . -type f | sed 's|^\./||' | sort)
	same=$(echo "$names" | sed -n 1p)
	diff=$(echo "$names" | sed -n 2p)
	AWS_ENDPOINT=$MOTO_URL AWS_ACCESS_KEY_ID=$MOTO_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET \
		"$AWS_BIN" --endpoint-url "$MOTO_URL" s3 cp --quiet "$SP/ready/$same" "s3://mbk/p/$same"
	mconf "secret-access-key = $MOTO_SECRET"
	run_ok "412 on an identical object is success" pga -c "$CONF" --log-level debug ship --dest m
	like "$(last_err)" "-> 412" "moto answered 412 to If-None-Match: *"
	fill_spool "$SP" c1 1 4000
	diff=$(cd "$SP/ready" && find . -type f | sed 's|^\./||' | sort | head -1)
	AWS_ACCESS_KEY_ID=$MOTO_KEY_ID AWS_SECRET_ACCESS_KEY=$MOTO_SECRET \
		"$AWS_BIN" --endpoint-url "$MOTO_URL" s3 cp --quiet "$TEST_TMP/other" "s3://mbk/p/$diff"
	run_fails 1 "412 on a different object stops the destination" pga -c "$CONF" ship
	like "$(last_err)" "already exists with a different size" "the conflict is reported"
	mconf "secret-access-key = $MOTO_SECRET"
	sed -i 's|^url = .*|url = s3://no-such-bucket/p|' "$CONF"
	run_fails 1 "a missing bucket is a permanent error" pga -c "$CONF" ship
	like "$(last_err)" "404 NoSuchBucket" "naming the S3 error code"
else
	ok 0 "# SKIP moto not installed here"
fi
done_testing
