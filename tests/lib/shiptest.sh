# shiptest.sh - servers and checks for the shipper tests (source after tap.sh).
#
#   s3srv_available / s3srv_start BUCKET...   s3rver on a free port with
#       its data under $TEST_TMP/s3rver; sets S3_PORT and S3_URL; stopped at exit
#   s3srv_stop / s3srv_restart     stop; start again on the same port and data
#   moto_available / moto_start BUCKET...   moto (signature-checking S3)
#       where installed, with the buckets; sets MOTO_PORT, MOTO_URL and
#       exports MOTO_KEY_ID / MOTO_SECRET of an IAM user, then switches
#       authentication on
#   awss3 ARGS...                  Debian's awscli against $S3_URL
#   fill_spool SPOOL COLLECTOR N RAW   N sealed segments (pga-test-helper)
#   spool_manifest SPOOL           "sha256  name" of every sealed segment
#   tree_manifest DIR              the same for every *.pga.zst under DIR
#   ship_conf FILE SPOOL [DEST SECTION LINES...]   write a config file
#
# s3rver accepts any signature (it checks none) and ignores If-None-Match on
# PUT; moto checks SigV4 once auth is on and honours If-None-Match.

S3SRV_BIN=$REPO_DIR/.deps/npm/s3rver/node_modules/.bin/s3rver
S3SRV_PID=
AWS_BIN=/usr/bin/aws

wait_http() {	# URL [PID]: until anything answers (max ~15 s), or PID died
	for _ in $(seq 1 150); do
		curl -s -o /dev/null --max-time 1 "$1" && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

s3srv_available() { [ -x "$S3SRV_BIN" ] && command -v node >/dev/null; }

_s3srv_launch() {	# until it answers, or it died (a port lost to a race)
	local args=() b
	for b in $S3_BUCKETS; do args+=(--configure-bucket "$b"); done
	"$S3SRV_BIN" -d "$TEST_TMP/s3rver" -a 127.0.0.1 -p "$S3_PORT" -s "${args[@]}" \
		>>"$TEST_TMP/s3rver.log" 2>&1 &
	S3SRV_PID=$!
	wait_http "$S3_URL/" "$S3SRV_PID" && return 0
	s3srv_stop
	return 1
}

_s3srv_try() { S3_PORT=$1 S3_URL=http://127.0.0.1:$1; _s3srv_launch; }

s3srv_start() {
	S3_BUCKETS="$*"
	mkdir -p "$TEST_TMP/s3rver"
	at_exit s3srv_stop
	on_free_port _s3srv_try && return 0
	diag "s3rver did not start: $(tail -5 "$TEST_TMP/s3rver.log")"
	return 1
}

s3srv_stop() {
	[ -n "$S3SRV_PID" ] || return 0
	kill "$S3SRV_PID" 2>/dev/null
	wait "$S3SRV_PID" 2>/dev/null
	S3SRV_PID=
}

s3srv_restart() { s3srv_stop; _s3srv_launch; }

awss3() {
	AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		"$AWS_BIN" --endpoint-url "${AWS_ENDPOINT:-$S3_URL}" "$@"
}

moto_available() { python3 -c 'import moto.server' 2>/dev/null; }

MOTO_PID=
moto_start() {
	MOTO_PORT=$(free_port) || return 1
	MOTO_URL=http://127.0.0.1:$MOTO_PORT
	python3 -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >"$TEST_TMP/moto.log" 2>&1 &
	MOTO_PID=$!
	at_exit "kill $MOTO_PID; wait $MOTO_PID"
	wait_http "$MOTO_URL/moto-api/" || { diag "moto did not start"; return 1; }
	# an IAM user with a key, then authentication on (moto checks SigV4 from then on)
	local out
	out=$(python3 - "$MOTO_URL" "$@" <<'PY'
import json, sys, boto3
url = sys.argv[1]
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="x", aws_secret_access_key="x")
iam.create_user(UserName="pga")
iam.put_user_policy(UserName="pga", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
k = iam.create_access_key(UserName="pga")["AccessKey"]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id="x", aws_secret_access_key="x")
for b in sys.argv[2:]:
    s3.create_bucket(Bucket=b)
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
) || { diag "moto: could not create a user"; return 1; }
	read -r MOTO_KEY_ID MOTO_SECRET <<<"$out"
	export MOTO_KEY_ID MOTO_SECRET
	curl -s -X POST -H 'Content-Type: text/plain' -d 0 "$MOTO_URL/moto-api/reset-auth" >/dev/null
}

fill_spool() { "$HELPER_BIN" ship-fill "$@"; }

spool_manifest() {
	(cd "$1/ready" && find . -type f -name '*.pga.zst' | sed 's|^\./||' | sort | xargs -r sha256sum)
}

tree_manifest() {
	(cd "$1" && find . -type f -name '*.pga.zst' | sed 's|^\./||' | sort | xargs -r sha256sum)
}

ship_conf() {	# FILE SPOOL then [dest:...] sections as lines
	local f=$1 spool=$2
	shift 2
	{
		echo "[global]"
		echo "spool-path = $spool"
		echo "collector = c1"
		echo "ship-interval = 200ms"
		for l in "$@"; do echo "$l"; done
	} >"$f"
	chmod 600 "$f"
}
