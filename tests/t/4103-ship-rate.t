#!/usr/bin/env bash
# rate-limit holds within 10 % for every kind of destination: file://
# (small and large segments), s3:// (s3rver), azure:// (azurite), gs://
# (the GCS gateway in front of s3rver) and postgres://; each moves a few MB
# and the achieved rate (bytes over the wall-clock time of pga ship) is
# compared with the setting.  A file:// destination writes what the spool
# writes: files and .part files 0640, the date directories 0750.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"
. "$(dirname "$0")/../lib/azurite.sh"
. "$(dirname "$0")/../lib/pg.sh"

umask 022	# what a shell gives; modes must not depend on it
SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
RATE=1048576	# rate-limit = 1M
spool_bytes() { find "$SP/ready" -type f -name '*.pga.zst' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }

# measure DESC: ship the whole spool with $CONF; the achieved rate is within 10 %
measure() {
	local bytes t0 t1 rate
	bytes=$(spool_bytes)
	t0=$(date +%s.%N)
	run_ok "$1: ship $bytes bytes at rate-limit = 1M" pga -c "$CONF" ship
	t1=$(date +%s.%N)
	is "$(find "$SP/ready" -type f | wc -l)" 0 "  everything went"
	rate=$(awk -v b="$bytes" -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / (z - a) }')
	awk -v r="$rate" -v w="$RATE" 'BEGIN { exit !(r >= 0.9 * w && r <= 1.1 * w) }'
	ok $? "  achieved $rate B/s, within 10 % of $RATE"
}

# ---- file:// ----
DST=$TEST_TMP/archive
mkdir -p "$DST"
# slow enough that each .part lives half a second
ship_conf "$CONF" "$SP" "[dest:f]" "url = file://$DST" "rate-limit = 200K" "max-parallel = 1"
fill_spool "$SP" c1 4 150000
"$PGA_BIN" -c "$CONF" ship 2>/dev/null &
SHIP=$!
mode=
for _ in $(seq 1 250); do
	part=$(find "$DST" -name '*.part' 2>/dev/null | head -1)
	[ -n "$part" ] && mode=$(stat -c %a "$part" 2>/dev/null) && [ -n "$mode" ] && break
	sleep 0.02
done
wait $SHIP
ship_conf "$CONF" "$SP" "[dest:f]" "url = file://$DST" "rate-limit = 1M"
is "$mode" 640 "a .part file in flight is 0640"
is "$(find "$DST" -name '*.pga.zst' ! -perm 0640 | wc -l)" 0 "every shipped file is 0640"
is "$(find "$DST" -mindepth 1 -type d ! -perm 0750 | wc -l)" 0 "every directory pga made is 0750"
[ "$(find "$DST" -mindepth 1 -type d | wc -l)" -ge 4 ]; ok $? "  (collector, year, month, day: $(find "$DST" -mindepth 1 -type d | wc -l))"
is "$(stat -c %a "$DST")" 755 "the operator's root keeps its own mode"
is "$(find "$SP" -type f -perm /0027 | wc -l)" 0 "  as in the spool, which opens nothing to others"

fill_spool "$SP" c1 200 20000
measure "file://, 200 segments of 15 KB"
fill_spool "$SP" c1 12 350000
measure "file://, 12 segments of 250 KB"
ship_conf "$CONF" "$SP" "[dest:f]" "url = file://$DST" "rate-limit = 1M" "max-parallel = 1"
fill_spool "$SP" c1 100 40000
measure "file://, one upload slot"

# ---- s3:// ----
if s3srv_available && s3srv_start rate gcsb; then
	ship_conf "$CONF" "$SP" "[dest:s3]" "url = s3://rate/r" "endpoint = $S3_URL" "path-style = on" \
		"access-key-id = S3RVER" "secret-access-key = S3RVER" "rate-limit = 1M"
	fill_spool "$SP" c1 100 40000
	measure "s3:// (s3rver)"

	# ---- gs:// through the gateway ----
	PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
	$PY "$TESTS_DIR/lib/gcs_gateway.py" --upstream "127.0.0.1:$S3_PORT" \
		--ready-file "$TEST_TMP/gw.port" --counts-file "$TEST_TMP/gw.json" \
		--hmac-id GOOG1RATE --hmac-secret rate-secret 2>"$TEST_TMP/gw.err" &
	at_exit "kill $!"
	for _ in $(seq 1 100); do [ -s "$TEST_TMP/gw.port" ] && break; sleep 0.05; done
	ship_conf "$CONF" "$SP" "[dest:g]" "url = gs://gcsb/r" "endpoint = http://127.0.0.1:$(cat "$TEST_TMP/gw.port")" \
		"access-key-id = GOOG1RATE" "secret-access-key = rate-secret" "rate-limit = 1M"
	fill_spool "$SP" c1 100 40000
	measure "gs:// (GCS gateway)"
else
	ok 0 "# SKIP s3rver not installed: no s3:// and gs:// rate check"
fi

# ---- azure:// ----
if azurite_available && azurite_start; then
	helper azure-request --query restype=container PUT "$AZURITE_URL" "/devstoreaccount1/rate" >/dev/null
	ship_conf "$CONF" "$SP" "[dest:az]" "url = azure://devstoreaccount1/rate/r" \
		"endpoint = $AZURITE_URL/devstoreaccount1" "account-key = $AZURE_STORAGE_KEY" "rate-limit = 1M"
	fill_spool "$SP" c1 100 40000
	measure "azure:// (azurite)"
else
	ok 0 "# SKIP azurite not installed: no azure:// rate check"
fi

# ---- postgres:// ----
pg_start central
pg_psql central postgres -c "CREATE DATABASE central" >/dev/null
run_ok "central schema" pga load --init --db "$(pg_conninfo central central)"
ship_conf "$CONF" "$SP" "[dest:pg]" "url = $(pg_conninfo central central)" "rate-limit = 1M"
fill_spool "$SP" c1 100 40000
measure "postgres://"
done_testing
