#!/usr/bin/env bash
# Our SigV4 against real implementations.
#  1. botocore (Debian's python3-botocore): for varied requests (keys with
#     spaces, unicode, tilde, '%', '+', query parameters, empty and
#     non-empty payloads, session token, another region, the generic
#     non-S3 path rules) botocore's Authorization must equal ours, byte for
#     byte, at the same fixed time.  Skips only when botocore is absent.
#  2. moto with auth on (where moto is installed): real signed PUT/GET/
#     HEAD/LIST through pga-test-helper s3-request are accepted, a wrong
#     secret or an unknown key id is refused.  moto's own false failures
#     are avoided here (botocore itself fails against moto 5.2 with any
#     reserved or non-ASCII character in a key: ( ) ' * ! @ , ; : = + $ & ü;
#     also 'dir%2F' list prefixes); the botocore part covers those inputs.
. "$(dirname "$0")/../lib/tap.sh"

# Debian's python3 first: python3-botocore lives there
find_python_with() {	# MODULE
	local py
	for py in /usr/bin/python3 python3; do
		if command -v "$py" >/dev/null && "$py" -c "import $1" 2>/dev/null; then
			echo "$py"
			return 0
		fi
	done
	return 1
}

BOTO_PY=$(find_python_with botocore.auth) || BOTO_PY=
MOTO_PY=$(find_python_with moto.server) || MOTO_PY=
[ -n "$BOTO_PY$MOTO_PY" ] || skip_all "neither botocore nor moto is installed"

# ---- 1. botocore cross-check ----
crosscheck() {
	"$BOTO_PY" - "$HELPER_BIN" "$TEST_TMP" <<'PY'
import datetime, hashlib, os, subprocess, sys
from unittest import mock
from urllib.parse import quote
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

helper, tmp = sys.argv[1], sys.argv[2]
T = datetime.datetime(2024, 2, 29, 23, 59, 58)
EPOCH = 1709251198
ENDPOINT = 'http://127.0.0.1:9000'
SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
body = bytes(range(256)) * 40 + b'tail'
md5 = __import__('base64').b64encode(hashlib.md5(body).digest()).decode()
B = '/pga-bucket'
cases = [
    dict(name='get plain key', path=B + '/simple.txt'),
    dict(name='put unicode key, md5, create-only', method='PUT',
         path=B + '/dir/seg 0001 \u00fc~+$.pgs', body=body,
         headers=[('Content-MD5', md5), ('If-None-Match', '*'),
                  ('Content-Type', 'application/octet-stream')]),
    dict(name='put empty body', method='PUT', path=B + '/empty', body=b''),
    dict(name='list v2 with prefix, delimiter, token', path=B,
         query=[('list-type', '2'), ('prefix', 'dir/a b'), ('delimiter', '/'),
                ('continuation-token', 'a+b=c/d~')]),
    dict(name='value-less subresource', method='POST', path=B + '/big', query=[('uploads', '')]),
    dict(name='session token and punctuation', method='HEAD',
         path=B + "/~user/it's (1)*!@,;:.txt",
         token='FQoGZXIvYXdzE//////////wEaDtoken+with/slash=='),
    dict(name='header white space and metadata', method='PUT', path=B + '/meta', body=b'x',
         headers=[('x-amz-meta-note', '  a   b  c '), ('x-amz-storage-class', 'STANDARD_IA')]),
    dict(name='other region, CJK key', region='eu-central-1',
         path=B + '/\u65e5\u672c\u8a9e/\u30ad\u30fc'),
    dict(name='percent, plus, ampersand in key', path=B + '/100%+sure=yes&no'),
    dict(name='delete', method='DELETE', path=B + '/x'),
    dict(name='complete multipart with body', method='POST', path=B + '/big',
         query=[('uploadId', '2~abc.DEF_ghi-')], body=b'<CompleteMultipartUpload/>',
         headers=[('Content-Type', 'application/xml')]),
    dict(name='secret with + / =', path=B + '/k', secret='abc+def/ghi=jkl+XYZ/0123456789abcdefghij'),
    dict(name='repeated query keys sorted by value', path=B,
         query=[('b', '2'), ('a', 'z'), ('a', 'y')]),
    dict(name='generic service: dot segments, double encoding', generic=True,
         service='service', path='/a b/../c%d/./e//f/'),
]

def botocore_auth(c):
    url = ENDPOINT + quote(c['path'], safe='/~')
    if c.get('query'):
        url += '?' + '&'.join(quote(k, safe='-_.~') + '=' + quote(v, safe='-_.~')
                              for k, v in c['query'])
    creds = Credentials('AKIDEXAMPLE', c.get('secret', SECRET), c.get('token'))
    region = c.get('region', 'us-east-1')
    if c.get('generic'):
        auth = botocore.auth.SigV4Auth(creds, c['service'], region)
    else:
        auth = botocore.auth.S3SigV4Auth(creds, 's3', region)
    headers = list(c.get('headers', []))
    if c.get('generic'):  # our helper always sends it; sign the same set
        headers.append(('X-Amz-Content-SHA256', hashlib.sha256(c.get('body', b'')).hexdigest()))
    req = AWSRequest(method=c.get('method', 'GET'), url=url, data=c.get('body', b''),
                     headers=dict(headers))
    with mock.patch('botocore.auth.datetime') as dt:
        dt.datetime.utcnow.return_value = T
        dt.datetime.now.return_value = T
        auth.add_auth(req)
    return req.headers['Authorization']

def our_auth(c, i):
    args = [helper, 's3-request', '--print', '--time', str(EPOCH),
            '--region', c.get('region', 'us-east-1')]
    if c.get('generic'):
        args += ['--generic', '--service', c['service']]
    for k, v in c.get('query', []):
        args += ['--query', k + '=' + v]
    for k, v in c.get('headers', []):
        args += ['--header', k + ': ' + v]
    if 'body' in c:
        f = os.path.join(tmp, 'body%d' % i)
        with open(f, 'wb') as fh:
            fh.write(c['body'])
        args += ['--body', f]
    args += [c.get('method', 'GET'), ENDPOINT, c['path']]
    env = dict(os.environ, AWS_ACCESS_KEY_ID='AKIDEXAMPLE',
               AWS_SECRET_ACCESS_KEY=c.get('secret', SECRET))
    env.pop('AWS_SESSION_TOKEN', None)
    if c.get('token'):
        env['AWS_SESSION_TOKEN'] = c['token']
    p = subprocess.run(args, env=env, capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else 'helper failed: ' + p.stderr.strip()

for i, c in enumerate(cases):
    want, got = botocore_auth(c), our_auth(c, i)
    print('%s\t%s\t%s\t%s' % ('PASS' if got == want else 'FAIL', c['name'], got, want))
PY
}

if [ -n "$BOTO_PY" ]; then
	diag "botocore from $BOTO_PY: $("$BOTO_PY" -c 'import botocore; print(botocore.__version__)')"
	crosscheck >"$TEST_TMP/cross" 2>"$TEST_TMP/cross.err"
	ok $? "botocore cross-check ran" || diag "$(cat "$TEST_TMP/cross.err")"
	n=0
	while IFS=$'\t' read -r res name got want; do
		n=$((n + 1))
		if [ "$res" = PASS ]; then ok 0 "botocore agrees: $name"; else
			ok 1 "botocore agrees: $name"; diag "ours:     $got"; diag "botocore: $want"; fi
	done <"$TEST_TMP/cross"
	is "$n" 14 "all 14 cross-check cases ran"
else
	diag "botocore not installed: cross-check skipped"
fi

# ---- 2. moto with signature checks on ----
if [ -z "$MOTO_PY" ]; then
	diag "moto not installed: live signature checks skipped"
	done_testing
	exit $?
fi

moto_start() {
	local port i
	for _ in 1 2 3; do
		port=$((20000 + RANDOM % 40000))
		(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && continue
		# the first three actions (IAM setup) run without auth, then auth is on
		INITIAL_NO_AUTH_ACTION_COUNT=3 "$MOTO_PY" -m moto.server -H 127.0.0.1 -p "$port" \
			>"$TEST_TMP/moto.log" 2>&1 &
		MOTO_PID=$!
		at_exit "kill $MOTO_PID"
		for i in $(seq 1 100); do
			if curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
				MOTO_URL=http://127.0.0.1:$port
				return 0
			fi
			kill -0 "$MOTO_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$MOTO_PID" 2>/dev/null
	done
	return 1
}

moto_start
ok $? "moto server starts" || { diag "$(tail -n 5 "$TEST_TMP/moto.log")"; done_testing; exit 1; }

# an IAM user with an allow-all policy and an access key; the secret goes
# to a 0600 file, never to argv
umask 077
"$MOTO_PY" - "$MOTO_URL" >"$TEST_TMP/creds" 2>"$TEST_TMP/creds.err" <<'PY'
import json, sys, botocore.session
iam = botocore.session.get_session().create_client(
    'iam', endpoint_url=sys.argv[1], region_name='us-east-1',
    aws_access_key_id='setup', aws_secret_access_key='setup')
iam.create_user(UserName='pga')
iam.put_user_policy(UserName='pga', PolicyName='all', PolicyDocument=json.dumps(
    {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
k = iam.create_access_key(UserName='pga')['AccessKey']
print(k['AccessKeyId'])
print(k['SecretAccessKey'])
PY
ok $? "iam user and access key created" || diag "$(cat "$TEST_TMP/creds.err")"
umask 022
AWS_ACCESS_KEY_ID=$(sed -n 1p "$TEST_TMP/creds")
AWS_SECRET_ACCESS_KEY=$(sed -n 2p "$TEST_TMP/creds")
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
unset AWS_SESSION_TOKEN
s3() { helper s3-request "$@"; }
status() { sed -n 's/^status //p' "$OUT"; }

run_fails 22 "unsigned request is refused once auth is on" \
	curl -sf -o /dev/null "$MOTO_URL/pga-bucket"
run_ok "create bucket" s3 PUT "$MOTO_URL" /pga-bucket
head -c 70000 /dev/urandom >"$TEST_TMP/obj"
key='dir/seg 0001 ~x-1_2.pgs'
run_ok "put object with content-md5" s3 --content-md5 --body "$TEST_TMP/obj" \
	--header 'Content-Type: application/octet-stream' PUT "$MOTO_URL" "/pga-bucket/$key"
run_ok "put zero-length object" s3 --body /dev/null PUT "$MOTO_URL" /pga-bucket/empty
run_ok "get object" s3 --out "$TEST_TMP/got" GET "$MOTO_URL" "/pga-bucket/$key"
ok "$(cmp -s "$TEST_TMP/obj" "$TEST_TMP/got"; echo $?)" "same bytes back"
run_ok "head object" s3 --dump-headers "$TEST_TMP/h" HEAD "$MOTO_URL" "/pga-bucket/$key"
like "$(tr -d '\r' <"$TEST_TMP/h")" $'[Cc]ontent-[Ll]ength: 70000(\n|$)' "head: size"
run_ok "list with prefix" s3 --out "$TEST_TMP/list" --query list-type=2 --query prefix=dir \
	GET "$MOTO_URL" /pga-bucket
like "$(cat "$TEST_TMP/list")" "<Key>dir/seg 0001 ~x-1_2\.pgs</Key>" "listing names the object"
# (functions, so no secret appears in a diagnostic command line)
wrong_secret() { AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY}x" "$HELPER_BIN" s3-request "$@"; }
unknown_key() { AWS_ACCESS_KEY_ID=AKIAUNKNOWN000000000 "$HELPER_BIN" s3-request "$@"; }
run_fails 22 "wrong secret is refused" wrong_secret GET "$MOTO_URL" "/pga-bucket/$key"
is "$(status)" 403 "403 for a wrong secret"
like "$(last_err)" "SignatureDoesNotMatch" "moto: SignatureDoesNotMatch"
run_fails 22 "wrong secret on a put is refused" wrong_secret --body "$TEST_TMP/obj" \
	PUT "$MOTO_URL" /pga-bucket/other
run_fails 22 "nothing was stored by the refused put" s3 HEAD "$MOTO_URL" /pga-bucket/other
is "$(status)" 404 "404 for the refused object"
run_fails 22 "unknown access key is refused" unknown_key GET "$MOTO_URL" "/pga-bucket/$key"
like "$(last_err)" "InvalidAccessKeyId" "moto: InvalidAccessKeyId"

done_testing
