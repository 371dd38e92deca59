#!/usr/bin/env bash
# Secrets at rest: a pga.conf that sets a secret (a password in any
# conninfo or url, a secret key, session token, account key or SAS token)
# is refused unless only its owner (and at most a group, reading) can get
# at it, as libpq refuses a world-readable ~/.pgpass.  Accepted: 0600,
# 0400, 0640, 0440, owned by the user running pga or root.  The same rule
# holds for key-file and credentials-file.  Without a secret any mode goes.
. "$(dirname "$0")/../lib/tap.sh"

SP=$TEST_TMP/spool
C=$TEST_TMP/s.conf
pga spool put --spool "$SP" --metric m --columns a </dev/null 2>/dev/null
conf() {	# MODE LINES...: a configuration of those lines after [global]
	local mode=$1
	shift
	{ printf '[global]\nspool-path = %s\n' "$SP"; printf '%s\n' "$@"; } >"$C"
	chmod "$mode" "$C"
}
# refused MODE LINE DESC LINES...: exit 1, one line naming the file, the
# line of the first secret, the mode and the rule
refused() {
	local mode=$1 line=$2 desc=$3
	shift 3
	conf "$mode" "$@"
	run_fails 1 "$desc, mode $mode: refused" pga -c "$C" spool ls
	like "$(last_err)" "error: $C:$line: '[a-z-]+' holds a secret, and config file '$C' has mode 0$mode" \
		"  names the file, line and mode"
	like "$(last_err)" "it must be 0600 or 0640 .*as libpq refuses a world-readable ~/.pgpass" \
		"  says what to do and why"
	is "$(grep -c . "$ERR")" 1 "  in one line"
}
accepted() {	# MODE DESC LINES...
	local mode=$1 desc=$2
	shift 2
	conf "$mode" "$@"
	run_ok "$desc, mode $mode: accepted" pga -c "$C" spool ls
}

# every kind of secret, world-readable
refused 644 4 "a password in a target conninfo" "[target:a]" "conninfo = host=db password=hunter2"
refused 644 4 "a password in a target URI" "[target:a]" "conninfo = postgresql://pga:hunter2@db/postgres"
refused 644 3 "a password in central" "central = host=c dbname=pga password=hunter2"
refused 644 3 "a password in a central URI" "central = postgres://pga:hunter2@c:5432/pga"
refused 644 4 "a postgres destination with a password" "[dest:c]" "url = postgresql://pga:hunter2@c/pga"
refused 644 5 "secret-access-key" "[dest:s3]" "url = s3://b/p" "secret-access-key = abc"
refused 644 5 "session-token" "[dest:s3]" "url = s3://b/p" "session-token = tok"
refused 644 5 "account-key" "[dest:az]" "url = azure://a/c/p" "account-key = AAAA"
refused 644 5 "sas-token" "[dest:az]" "url = azure://a/c/p" "sas-token = sv=2024&sig=x"
refused 644 4 "a password in a conninfo libpq cannot parse" "[target:a]" "conninfo = host=db 'password=x"
# other modes that open it up
for m in 604 602 660 620 666 777 640; do
	[ $m = 640 ] && continue
	refused $m 5 "secret-access-key" "[dest:s3]" "url = s3://b/p" "secret-access-key = abc"
done
# the first secret is the one named
conf 644 "[target:a]" "conninfo = host=db" "[dest:s3]" "url = s3://b/p" "session-token = t" "secret-access-key = k"
run_fails 1 "several secrets" pga -c "$C" spool ls
like "$(last_err)" ":7: 'session-token' holds a secret" "  the first one is named"
grep -q "hunter2\|= k\b" "$ERR"; [ $? -ne 0 ]; ok $? "  no secret value in the message"

for m in 600 400 640 440; do
	accepted $m "secret-access-key" "[dest:s3]" "url = s3://b/p" "secret-access-key = abc"
done
accepted 644 "no secret at all (conninfo without password, s3 without key)" \
	"[target:a]" "conninfo = host=db user=pga" "[dest:s3]" "url = s3://b/p" "access-key-id = AKIA"
accepted 644 "an empty secret value" "[dest:s3]" "url = s3://b/p" "secret-access-key ="
accepted 644 "password= with no value" "[target:a]" "conninfo = host=db password="

# owner: the user running pga, or root
if [ "$(id -u)" -eq 0 ]; then
	conf 600 "[dest:s3]" "url = s3://b/p" "secret-access-key = abc"
	chown nobody "$C"
	run_fails 1 "root reading another user's secret file" pga -c "$C" spool ls
	like "$(last_err)" "is owned by uid $(id -u nobody): it must belong to the user running pga \\(uid 0\\) or to root" \
		"  says whose it is"
	chown root:"$(id -gn nobody)" "$C"
	chmod 640 "$C"
	chmod -R a+rX "$SP"
	run_ok "the service layout: root owns it, the service user reads it through its group (0640)" \
		runuser -u nobody -- "$PGA_BIN" -c "$C" spool ls --spool "$SP"
	chown nobody "$C"
	chmod 600 "$C"
	run_ok "the service user's own 0600 file" runuser -u nobody -- "$PGA_BIN" -c "$C" spool ls --spool "$SP"
	chmod 644 "$C"
	run_fails 1 "  world-readable: refused for the service user too" \
		runuser -u nobody -- "$PGA_BIN" -c "$C" spool ls --spool "$SP"
else
	ok 0 "# SKIP owner cases need root"
fi

# the same rule for key files named by the configuration
printf '[default]\naws_access_key_id = a\naws_secret_access_key = b\n' >"$TEST_TMP/creds"
for m in 644 604 660; do
	chmod $m "$TEST_TMP/creds"
	conf 644 "[dest:s3]" "url = s3://bucket/p" "endpoint = http://127.0.0.1:9" "credentials-file = $TEST_TMP/creds"
	run_fails 1 "credentials-file of mode $m" helper ship-check "$C"
	like "$(last_out)$(last_err)" "credentials file '$TEST_TMP/creds' has mode 0$m" "  is refused, naming it"
done
for m in 600 640; do
	chmod $m "$TEST_TMP/creds"
	helper ship-check "$C" >"$OUT" 2>"$ERR"
	like "$(last_out)" "request to '[^']*' failed" "credentials-file of mode $m is read (the request goes out)"
done
openssl genrsa -out "$TEST_TMP/sa.pem" 2048 2>/dev/null
python3 - "$TEST_TMP/sa.pem" >"$TEST_TMP/key.json" <<'PY'
import json, sys
print(json.dumps({"type": "service_account", "client_email": "x@p.iam.gserviceaccount.com",
                  "private_key": open(sys.argv[1]).read(), "token_uri": "http://127.0.0.1:9/token"}))
PY
for m in 644 604 660 600 640; do
	chmod $m "$TEST_TMP/key.json"
	conf 644 "[dest:g]" "url = gs://bucket/p" "endpoint = http://127.0.0.1:9" "key-file = $TEST_TMP/key.json"
	helper ship-check "$C" >"$OUT" 2>"$ERR"
	if [ $m = 600 ] || [ $m = 640 ]; then
		like "$(last_out)" "request to 'http://127.0.0.1:9/token' failed" \
			"key-file of mode $m is read (the token request goes out)"
	else
		like "$(last_out)$(last_err)" "key file '$TEST_TMP/key.json' has mode 0$m" "key-file of mode $m is refused"
	fi
done
done_testing
