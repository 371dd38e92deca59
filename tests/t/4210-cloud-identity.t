#!/usr/bin/env bash
# Workload identity: pga ship without static keys, against local endpoints
# that speak each cloud's protocol (tests/lib/cloud_meta.py; never a real
# cloud).  For every flow - EC2 IMDSv2, ECS/EKS container credentials, STS
# AssumeRoleWithWebIdentity, Azure IMDS managed identity, App Service
# identity, GCE metadata server - one `pga ship` of 12 segments, with the
# server slowing each PUT so the run outlives the credential (4 s), must:
#   obtain a credential (the server counts its requests),
#   cache it (far fewer fetches than PUTs: one per destination, not per PUT),
#   refresh it before it expires (a second fetch, and no PUT ever arrives
#     with an expired credential),
#   sign every PUT with it: for S3 the server recomputes the SigV4 signature
#     with botocore from the issued keys, x-amz-security-token included and
#     signed; for Azure and GCS it checks Authorization: Bearer.
# Then: no secret handed out appears in any log line (debug level), the
# chain's order and the credential-source key, and hostile or failing
# endpoints each give one line naming the endpoint.  Where moto is installed
# (some images only; skipped with a note elsewhere), web identity also runs
# against moto's own STS and its SigV4-checking S3.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "Debian's python3 is not installed"
"$PY" -c 'import botocore.auth' 2>/dev/null || skip_all "python3-botocore is not installed"

NSEG=12
N=0
meta_start() {	# NAME ARGS...: a server in $TEST_TMP/NAME; sets PORT_<NAME>
	local name=$1 d=$TEST_TMP/$1
	shift
	mkdir -p "$d"
	"$PY" "$TESTS_DIR/lib/cloud_meta.py" --ready-file "$d/port" --counts-file "$d/counts.json" \
		--secrets-file "$TEST_TMP/secrets" "$@" 2>"$d/stderr" &
	at_exit "kill $!"
	for _ in $(seq 1 100); do [ -s "$d/port" ] && break; sleep 0.05; done
	[ -s "$d/port" ] || { diag "cloud_meta.py $name did not start: $(cat "$d/stderr")"; return 1; }
	printf -v "PORT_$name" '%s' "$(cat "$d/port")"
}
count() {	# NAME KEY: a counter of the server's one-line JSON
	grep -o "\"$2\": [0-9]*" "$TEST_TMP/$1/counts.json" | cut -d' ' -f2
}
conf() {	# NAME URL DEST-LINES...: spool $TEST_TMP/NAME/spool with NSEG segments
	local d=$TEST_TMP/$1
	rm -rf "$d/spool"
	mkdir -p "$d"
	[ -d "$TEST_TMP/spool0" ] || fill_spool "$TEST_TMP/spool0" c1 "$NSEG" 3000 >/dev/null
	cp -a "$TEST_TMP/spool0" "$d/spool"
	ship_conf "$d/pga.conf" "$d/spool" "log-level = debug" "[dest:d]" "url = $2" \
		"max-parallel = 1" "create-only = if-none-match" "${@:3}"
}
# pga with nothing of the caller's cloud environment, plus VAR=VALUE...
clean_env() {
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE \
		-u AWS_SHARED_CREDENTIALS_FILE -u AWS_WEB_IDENTITY_TOKEN_FILE -u AWS_ROLE_ARN \
		-u AWS_CONTAINER_CREDENTIALS_FULL_URI -u AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
		-u AWS_CONTAINER_AUTHORIZATION_TOKEN -u AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
		-u AWS_EC2_METADATA_SERVICE_ENDPOINT -u AWS_ENDPOINT_URL_STS -u AZURE_STORAGE_KEY \
		-u AZURE_STORAGE_SAS_TOKEN -u IDENTITY_ENDPOINT -u IDENTITY_HEADER -u AZURE_CLIENT_ID \
		-u AZURE_POD_IDENTITY_AUTHORITY_HOST -u GCE_METADATA_HOST -u HTTP_PROXY -u http_proxy \
		AWS_EC2_METADATA_DISABLED=true NO_GCE_CHECK=true HOME="$TEST_TMP" "$@"
}
ship_bg() {	# NAME VAR=VALUE...: pga ship in the background, rc in NAME/rc
	local d=$TEST_TMP/$1
	shift
	( clean_env "$@" "$PGA_BIN" -c "$d/pga.conf" ship >"$d/out" 2>"$d/err"; echo $? >"$d/rc" ) &
	SHIPS+=($!)
}
SHIPS=()

# moto (only on some images) starts slowly: launched now, used at the end
MOTO_PID=
if moto_available && MOTO_PORT=$(free_port); then
	MOTO_URL=http://127.0.0.1:$MOTO_PORT
	python3 -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >"$TEST_TMP/moto.log" 2>&1 &
	MOTO_PID=$!
	at_exit "kill $MOTO_PID"
fi

# ---- the six flows, run side by side (each lasts ~5 s) ----
S3='--mode s3 --life 4 --put-delay 0.35'
BR='--mode bearer --life 4 --put-delay 0.35'
WEBTOK="eyJhbGciOiJSUzI1NiJ9.web-identity-$RANDOM.sig"
ROLE=arn:aws:iam::123456789012:role/pga-ship
ECSAUTH="Bearer ecs-$RANDOM$RANDOM"
IDHDR="id-header-$RANDOM$RANDOM"
meta_start imds $S3 || exit 1
meta_start ecs $S3 --ecs-auth "$ECSAUTH" || exit 1
meta_start web $S3 --web-token "$WEBTOK" --role-arn "$ROLE" || exit 1
meta_start azimds $BR || exit 1
meta_start appsvc $BR --identity-header "$IDHDR" || exit 1
meta_start gce $BR || exit 1
printf '%s\n' "$WEBTOK" >"$TEST_TMP/web-token"
printf '%s' "$ECSAUTH" >"$TEST_TMP/ecs-auth"
chmod 600 "$TEST_TMP/ecs-auth"

s3conf() { conf "$1" s3://bkt/p "endpoint = http://127.0.0.1:$2" "path-style = on" "${@:3}"; }
s3conf imds "$PORT_imds"
s3conf ecs "$PORT_ecs"
s3conf web "$PORT_web"
conf azimds azure://acct/cont/p "endpoint = http://127.0.0.1:$PORT_azimds/acct"
conf appsvc azure://acct/cont/p "endpoint = http://127.0.0.1:$PORT_appsvc/acct"
conf gce gs://bkt/p "endpoint = http://127.0.0.1:$PORT_gce"
{ echo "$WEBTOK"; echo "$ECSAUTH"; echo "$IDHDR"; } >>"$TEST_TMP/secrets"

ship_bg imds AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$PORT_imds"
ship_bg ecs AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$PORT_ecs/ecs/creds" \
	AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$TEST_TMP/ecs-auth"
ship_bg web AWS_WEB_IDENTITY_TOKEN_FILE="$TEST_TMP/web-token" AWS_ROLE_ARN="$ROLE" \
	AWS_ROLE_SESSION_NAME=pga-test AWS_ENDPOINT_URL_STS="http://127.0.0.1:$PORT_web/sts"
ship_bg azimds AZURE_POD_IDENTITY_AUTHORITY_HOST="http://127.0.0.1:$PORT_azimds"
ship_bg appsvc IDENTITY_ENDPOINT="http://127.0.0.1:$PORT_appsvc/msi/token" IDENTITY_HEADER="$IDHDR"
ship_bg gce GCE_METADATA_HOST="127.0.0.1:$PORT_gce"
wait "${SHIPS[@]}"

flow() {	# NAME WHAT FETCH-COUNTER
	local name=$1 what=$2 key=$3 fetches
	is "$(cat "$TEST_TMP/$name/rc")" 0 "$what: pga ship succeeds without static keys" ||
		diag "$(tail -5 "$TEST_TMP/$name/err")"
	is "$(count "$name" put_ok)" "$NSEG" "$what: every segment was accepted"
	is "$(count "$name" put_refused)" 0 "$what: no PUT was refused"
	fetches=$(count "$name" "$key")
	[ "$fetches" -ge 2 ] && [ "$fetches" -le 4 ]
	ok $? "$what: $fetches credential fetches for $NSEG PUTs: cached, and refreshed once it aged"
	is "$(count "$name" put_expired)" 0 "$what: refreshed before expiry (no PUT with an expired credential)"
}
flow imds "EC2 IMDSv2" imds_creds
is "$(count imds imds_token)" "$(count imds imds_creds)" "EC2 IMDSv2: a session token (PUT with TTL) before each fetch"
is "$(count imds imds_401)" 0 "EC2 IMDSv2: every metadata GET carried the session token"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_imds/latest/meta-data/iam/security-credentials/")" \
	401 "EC2 IMDSv2: the test endpoint does refuse a GET without it (401)"
is "$(count imds signed_token)" "$NSEG" "EC2 IMDSv2: botocore verified every SigV4 signature, session token signed"
flow ecs "ECS container credentials" ecs
is "$(count ecs ecs_401)" 0 "ECS: the authorization token (from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) was sent"
is "$(count ecs signed_token)" "$NSEG" "ECS: botocore verified every signature"
flow web "web identity (STS)" sts
is "$(count web signed_token)" "$NSEG" "web identity: botocore verified every signature"
flow azimds "Azure IMDS managed identity" azure_imds
is "$(count azimds refused_meta)" 0 "Azure IMDS: Metadata: true and the storage resource were sent"
flow appsvc "App Service identity" app_service
is "$(count appsvc refused_meta)" 0 "App Service: X-IDENTITY-HEADER, api-version and resource were sent"
flow gce "GCE metadata server" gce
is "$(count gce refused_meta)" 0 "GCE: Metadata-Flavor: Google was sent"

# secrets never in logs, even at debug level
sed -i '/^$/d' "$TEST_TMP/secrets"
leaks=$(cat "$TEST_TMP"/*/out "$TEST_TMP"/*/err | grep -cF -f "$TEST_TMP/secrets")
is "$leaks" 0 "no token, key or session token handed out appears in stdout or the debug log"
grep -q "new credential, valid" "$TEST_TMP/imds/err"; ok $? "the debug log says a credential was fetched (not what it is)"

# ---- the chain: static keys first; static never asks a metadata endpoint ----
meta_start misc $S3 --web-token right --role-arn "$ROLE" || exit 1
s3conf misc "$PORT_misc"
run_fails 1 "environment keys come before the instance role" clean_env AWS_EC2_METADATA_DISABLED=false \
	AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$PORT_misc" AWS_ACCESS_KEY_ID=AKIDSTATIC \
	AWS_SECRET_ACCESS_KEY=static "$PGA_BIN" -c "$TEST_TMP/misc/pga.conf" ship
is "$(count misc imds_token)" 0 "  the metadata endpoint was not asked"
like "$(last_err)" "403 SignatureDoesNotMatch" "  the static key was used (and refused by the server)"
s3conf misc "$PORT_misc" "credential-source = static"
run_fails 1 "credential-source = static ignores the metadata endpoint" clean_env AWS_EC2_METADATA_DISABLED=false \
	AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$PORT_misc" "$PGA_BIN" -c "$TEST_TMP/misc/pga.conf" ship
like "$(last_err)" "\\[dest:d\\]: no credentials" "  and says there are no credentials"
is "$(count misc imds_token)" 0 "  without a request to it"
s3conf misc "$PORT_misc"
run_fails 1 "auto without keys or any endpoint is still 'no credentials' at start" clean_env \
	"$PGA_BIN" -c "$TEST_TMP/misc/pga.conf" ship
like "$(last_err)" "no credentials: .*credential-source" "  naming credential-source"
s3conf misc "$PORT_misc" "credential-source = web-identity"
run_fails 1 "credential-source = web-identity without its variables" clean_env \
	"$PGA_BIN" -c "$TEST_TMP/misc/pga.conf" ship
like "$(last_err)" "web-identity needs AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN" "  names them"
s3conf misc "$PORT_misc" "credential-source = app-service"
run_fails 1 "credential-source = app-service for s3" clean_env "$PGA_BIN" -c "$TEST_TMP/misc/pga.conf" ship
like "$(last_err)" "app-service is for azure only" "  is refused"
s3conf misc "$PORT_misc" "credential-source = container"
for u in http://192.0.2.1/creds http://127.attacker.example/creds http://localhost.attacker.example/c \
	http://169.254.170.2.attacker.example/c http://[::1].x/c ftp://127.0.0.1/c; do
	run_fails 1 "container uri $u (plain http to another host) is refused" clean_env \
		AWS_CONTAINER_CREDENTIALS_FULL_URI="$u" "$PGA_BIN" -c "$TEST_TMP/misc/pga.conf" ship
	like "$(last_err)" "must be https, or http to a loopback" "  before any request"
done

# ---- hostile and failing endpoints: one line naming the endpoint ----
s3conf misc "$PORT_misc" "retries = 0"
fault() {	# FAULT DESC REGEX: the IMDS flow against the server answering with FAULT
	curl -s -X POST --data "$1" "http://127.0.0.1:$PORT_misc/_control/fault"
	run_fails 1 "$2" clean_env AWS_EC2_METADATA_DISABLED=false \
		AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$PORT_misc" \
		"$PGA_BIN" -c "$TEST_TMP/misc/pga.conf" ship
	like "$(grep 'error:' "$ERR" | head -1)" "$3" "  says: $3"
	is "$(count misc put_ok)" 0 "  and nothing was uploaded"
}
fault no-role "an instance without a role" \
	"ec2 instance metadata at 'http://127.0.0.1:[0-9]+/latest/meta-data/iam/security-credentials/': 404"
fault bad-json "a reply that is not JSON" \
	"ec2 instance metadata at 'http://127.0.0.1:[0-9]+/latest/meta-data/iam/security-credentials/pga-test-role': bad credentials reply"
fault huge "a reply of 40 KB" "ec2 instance metadata at 'http://127.0.0.1:[0-9]+/.*': reply longer than"
fault 500 "an endpoint failing with 500" "ec2 instance metadata at 'http://127.0.0.1:[0-9]+/.*': 500 server_error: try later"
curl -s -X POST --data "" "http://127.0.0.1:$PORT_misc/_control/fault"
echo wrong-token >"$TEST_TMP/wrong-token"
run_fails 1 "STS refuses the web identity token" clean_env AWS_WEB_IDENTITY_TOKEN_FILE="$TEST_TMP/wrong-token" \
	AWS_ROLE_ARN="$ROLE" AWS_ENDPOINT_URL_STS="http://127.0.0.1:$PORT_misc/sts" \
	"$PGA_BIN" -c "$TEST_TMP/misc/pga.conf" ship
like "$(grep 'error:' "$ERR" | head -1)" \
	"web identity at 'http://127.0.0.1:[0-9]+/sts/': 400 InvalidIdentityToken: Couldn't retrieve" \
	"  one line with STS's code and message"
grep -q wrong-token "$ERR" "$TEST_TMP/misc/pga.conf"; is $? 1 "  the token is not echoed"

# ---- moto, where installed: its STS hands out the role's credentials, its S3
# checks their SigV4 signature (the first request, our STS call, is let
# through unauthenticated: moto wants STS signed once auth is on) ----
if [ -n "$MOTO_PID" ] && wait_http "$MOTO_URL/moto-api/" "$MOTO_PID"; then
	read -r MOTO_KEY_ID MOTO_SECRET < <(python3 - "$MOTO_URL" <<'PY'
import json, sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="x",
          aws_secret_access_key="x")
iam = boto3.client("iam", **kw)
iam.create_user(UserName="pga")
iam.put_user_policy(UserName="pga", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
k = iam.create_access_key(UserName="pga")["AccessKey"]
iam.create_role(RoleName="pga-ship", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Federated": "oidc"},
                   "Action": "sts:AssumeRoleWithWebIdentity"}]}))
iam.put_role_policy(RoleName="pga-ship", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
boto3.client("s3", **kw).create_bucket(Bucket="bkt")
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
)
	export MOTO_KEY_ID MOTO_SECRET
	conf moto s3://bkt/p "endpoint = $MOTO_URL" "path-style = on"
	curl -s -X POST -H 'Content-Type: text/plain' -d 1 "$MOTO_URL/moto-api/reset-auth" >/dev/null
	run_ok "moto: web identity through moto's STS, PUTs accepted by moto's SigV4 check" clean_env \
		AWS_WEB_IDENTITY_TOKEN_FILE="$TEST_TMP/web-token" AWS_ROLE_ARN="$ROLE" \
		AWS_ENDPOINT_URL_STS="$MOTO_URL" "$PGA_BIN" -c "$TEST_TMP/moto/pga.conf" ship
	n=$(python3 -c 'import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id=os.environ["MOTO_KEY_ID"], aws_secret_access_key=os.environ["MOTO_SECRET"])
print(s3.list_objects_v2(Bucket="bkt").get("KeyCount", 0))' "$MOTO_URL")
	is "$n" "$NSEG" "moto: every segment is in the bucket (listed with the IAM user's key)"
	conf moto s3://bkt/q "endpoint = $MOTO_URL" "path-style = on" "retries = 0"
	run_fails 1 "moto: with authentication on for STS too, the unsigned call is refused" clean_env \
		AWS_WEB_IDENTITY_TOKEN_FILE="$TEST_TMP/web-token" AWS_ROLE_ARN="$ROLE" \
		AWS_ENDPOINT_URL_STS="$MOTO_URL" "$PGA_BIN" -c "$TEST_TMP/moto/pga.conf" ship
	like "$(grep 'error:' "$ERR" | head -1)" "web identity at 'http://127.0.0.1:[0-9]+/': [45][0-9][0-9]" \
		"  one line naming moto's STS endpoint"
else
	diag "moto is not installed here (or did not start): its STS and S3 cross-check is skipped"
fi

done_testing
