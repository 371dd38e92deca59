#!/usr/bin/env bash
# Bad destination configuration is one clear line at start, naming the
# section, and nothing is sent anywhere: a good destination listed first
# receives nothing, the spool is untouched.  Secrets in a bad url are not
# echoed.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

SP=$TEST_TMP/spool
GOOD=$TEST_TMP/good
CONF=$TEST_TMP/pga.conf
mkdir -p "$GOOD"
fill_spool "$SP" c1 3 3000
spool_manifest "$SP" >"$TEST_TMP/before"
printf '{"type": "service_account"}' >"$TEST_TMP/key-0644.json"
chmod 644 "$TEST_TMP/key-0644.json"

bad() {	# DESCRIPTION REGEX DEST-LINES...
	local desc=$1 re=$2
	shift 2
	ship_conf "$CONF" "$SP" "[dest:good]" "url = file://$GOOD" "[dest:bad]" "$@"
	run_fails 1 "$desc" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AZURE_STORAGE_KEY \
		-u AZURE_STORAGE_SAS_TOKEN HOME="$TEST_TMP" "$PGA_BIN" -c "$CONF" ship
	like "$(last_err)" "error: \\[dest:bad\\]: .*$re" "  says: $re"
	is "$(grep -c . "$ERR")" 1 "  in one line"
}

bad "unknown scheme" "unknown url scheme 'ftp://'" "url = ftp://host/x"
bad "no scheme at all" "url has no scheme" "url = /var/archive"
bad "s3 without a bucket" "url 's3://' names no bucket" "url = s3://" "access-key-id = a" "secret-access-key = b"
bad "an invalid bucket name" "bucket name 'Bad_Bucket' may only hold" "url = s3://Bad_Bucket/x" "access-key-id = a" "secret-access-key = b"
bad "s3 without credentials" "no credentials" "url = s3://bucket/x"
bad "a key id without its secret" "access-key-id and secret-access-key go together" "url = s3://bucket/x" "access-key-id = a"
bad "a missing credentials file" "cannot read credentials file '/nonexistent/creds'" "url = s3://bucket/x" "credentials-file = /nonexistent/creds"
bad "gcs with an unreadable key file" "key file '/nonexistent/key.json'" "url = gs://bucket/x" "key-file = /nonexistent/key.json"
bad "gcs with a key file others can read" "key file '$TEST_TMP/key-0644.json' has mode 0644" "url = gs://bucket/x" "key-file = $TEST_TMP/key-0644.json"
bad "azure without a container" "names no container" "url = azure://account" "account-key = AAAA"
bad "azure without credentials" "no credentials: set account-key or sas-token" "url = azure://account/cont/x"
bad "azure with a key that is not base64" "account-key is not valid base64" "url = azure://account/cont/x" "account-key = not*base64"
bad "an endpoint that is not http(s)" "endpoint 'ftp://x' is not an http:// or https:// url" "url = s3://bucket/x" "endpoint = ftp://x" "access-key-id = a" "secret-access-key = b"
bad "an unreadable ca-file" "cannot read ca-file '/nonexistent/ca.pem'" "url = s3://bucket/x" "ca-file = /nonexistent/ca.pem" "access-key-id = a" "secret-access-key = b"
bad "a relative file url" "is not file:///absolute/path" "url = file://relative/dir"
bad "a zero timeout" "timeout must be greater than zero" "url = s3://bucket/x" "timeout = 0"
# a key is tied to the kinds of destination that use it
bad "timeout for a directory" "'timeout' \\(line 9\\) is for s3 gcs azure destinations, not file" \
	"url = file:///tmp" "timeout = 5s"
bad "region for azure" "'region' \\(line 10\\) is for s3 gcs destinations, not azure" \
	"url = azure://account/cont/x" "account-key = AAAA" "region = eu-west-1"
bad "account-key for s3" "'account-key' \\(line 9\\) is for azure destinations, not s3" \
	"url = s3://bucket/x" "account-key = AAAA"
bad "schema for gcs" "'schema' \\(line 9\\) is for postgres destinations, not gcs" \
	"url = gs://bucket/x" "schema = other"
bad "a malformed postgres url" "invalid conninfo" "url = postgresql://pga:Hunter2secret@db:notaport/central"
if grep -q Hunter2secret "$ERR"; then ok 1 "the password in a bad url is not echoed"; else ok 0 "the password in a bad url is not echoed"; fi

is "$(find "$GOOD" -type f | wc -l)" 0 "the good destination received nothing at all"
spool_manifest "$SP" >"$TEST_TMP/after"
cmp -s "$TEST_TMP/before" "$TEST_TMP/after"; ok $? "the spool is untouched"

ship_conf "$CONF" "$SP"
run_fails 1 "no destination at all" pga -c "$CONF" ship
like "$(last_err)" "no \\[dest:NAME\\] section" "says there is nowhere to ship"
ship_conf "$CONF" "$SP" "[dest:good]" "url = file://$GOOD" "enabled = off"
run_fails 1 "every destination disabled" pga -c "$CONF" ship
like "$(last_err)" "every destination is disabled" "says so"
ship_conf "$CONF" "$SP" "spool-retain = forever" "[dest:good]" "url = file://$GOOD"
run_fails 1 "a bad spool-retain" pga -c "$CONF" ship
like "$(last_err)" "spool-retain must be 'shipped' or a duration, not 'forever'" "says what it accepts"
ship_conf "$CONF" "$SP" "[dest:good]" "url = file://$GOOD"
run_fails 1 "--dest naming no destination" pga -c "$CONF" ship --dest nope
like "$(last_err)" "no destination named 'nope'" "names it"
run_fails 64 "an unknown option is a usage error" pga -c "$CONF" ship --bogus
run_ok "pga help ship" pga help ship
like "$(last_out)" "usage: pga ship \\[--loop\\] \\[--dest NAME\\] \\[--spool DIR\\]" "shows the usage"
is "$(find "$GOOD" -type f | wc -l)" 0 "still nothing sent"
run_ok "with the configuration fixed it ships" pga -c "$CONF" ship
is "$(tree_manifest "$GOOD")" "$(cat "$TEST_TMP/before")" "the good destination got the segments"
done_testing
