#!/usr/bin/env bash
# The object-store layer keeps what a destination's slots share (the listing
# of create-only = check, a GCS token) in one object per destination, not in
# a process-wide table of 64 names: pga check opens 70 such destinations,
# pga ship feeds several side by side and each lists and compares only its
# own objects.  `pga ship --help` lists the kinds from the one scheme table.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
s3srv_start pga || exit 1

SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
dests() {	# N: that many destinations that look before each PUT
	local lines=()
	for i in $(seq 1 "$1"); do
		lines+=("[dest:d$i]" "url = s3://pga/site-$i" "endpoint = $S3_URL" "path-style = on"
			"access-key-id = S3RVER" "secret-access-key = S3RVER" "max-parallel = 2")
	done
	ship_conf "$CONF" "$SP" "${lines[@]}"
}

dests 70
run_ok "pga check's destination part opens and lists 70 checking destinations" \
	helper ship-check "$CONF"
is "$(grep -c "^ok    destination 'd[0-9]*'" "$OUT")" 70 "and finds every one reachable"

N=8
dests $N
fill_spool "$SP" c1 2 3000
names=$(cd "$SP/ready" && find . -type f | sed 's|^\./||' | sort)
run_ok "$N destinations that look before each PUT ship side by side" pga -c "$CONF" ship
is "$(find "$SP/ready" -type f | wc -l)" 0 "the spool is empty: every destination confirmed both segments"
missing=0
for i in $(seq 1 $N); do
	helper dest-list "$CONF" "d$i" >"$OUT" 2>"$ERR" || missing=1
	[ "$(cut -d' ' -f1 "$OUT")" = "$names" ] || missing=1
done
is "$missing" 0 "each destination holds exactly the two segments"

# the look-before-PUT listing is per destination: an object under d70's
# prefix is seen by d70 (a conflict) and by no other destination
fill_spool "$SP" c1 1 3000
victim=$(cd "$SP/ready" && find . -type f | sed 's|^\./||')
curl -s -f -X PUT --data-binary "someone else's" "$S3_URL/pga/site-$N/$victim" >/dev/null
ok $? "a foreign object is planted under d$N's prefix"
run_fails 2 "only d$N refuses the segment" pga -c "$CONF" ship
like "$(last_err)" "dest 'd$N'.*'$victim' already exists with a different size" "d$N found the foreign object"
is "$(grep -c "already exists" "$ERR")" 1 "no other destination saw it"
[ -e "$SP/ready/$victim" ]; ok $? "the segment stays in the spool for d$N"
run_ok "list d$((N - 1))" helper dest-list "$CONF" d$((N - 1))
like "$(last_out)" "$victim" "while d$((N - 1)) took it"

run_ok "pga ship --help" pga ship --help
for form in 's3://bucket/prefix' 'gs://bucket/prefix' 'azure://account/container/prefix' \
	'file:///path' 'postgres://'; do
	like "$(last_out)" "$form" "the help lists $form"
done
ship_conf "$CONF" "$SP" "[dest:x]" "url = ftp://host/path"
run_fails 1 "an unknown scheme is refused" pga -c "$CONF" ship
like "$(last_err)" "unknown url scheme 'ftp://' \\(expected s3://, gs://, azure://, file:// or postgres://\\)" \
	"naming the kinds there are"
done_testing
