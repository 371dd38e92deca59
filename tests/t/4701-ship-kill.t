#!/usr/bin/env bash
# kill -9 of `pga ship --loop` at random moments, again and again (50 times;
# 400 with PGA_TORTURE=1), while new segments keep arriving, shipping to a
# directory and to S3 at once.  Afterwards one clean run must leave: every
# segment ever sealed at both destinations exactly once and byte-identical
# (the sequence is complete and the hash chain verifies), an empty spool,
# no markers, no part files.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
KILLS=50
[ "${PGA_TORTURE:-0}" = 1 ] && KILLS=400
s3srv_start pga || exit 1

SP=$TEST_TMP/spool
DST=$TEST_TMP/archive
CONF=$TEST_TMP/pga.conf
mkdir -p "$DST"
counter() { sed -n "s/^$1 //p" "$SP/counters"; }
ship_conf "$CONF" "$SP" \
	"[dest:dir]" "url = file://$DST" "max-parallel = 3" "rate-limit = 40K" \
	"[dest:s3]" "url = s3://pga/k" "endpoint = $S3_URL" "path-style = on" \
	"access-key-id = S3RVER" "secret-access-key = S3RVER" "max-parallel = 3" "rate-limit = 150K"

fill_spool "$SP" c1 40 8000
killed=0 exited=0
for i in $(seq 1 "$KILLS"); do
	fill_spool "$SP" c1 2 8000
	"$PGA_BIN" -c "$CONF" --log-level error ship --loop 2>>"$TEST_TMP/ship.log" &
	pid=$!
	sleep "0.$(printf '%02d' $((RANDOM % 30 + 2)))"
	if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); else exited=$((exited + 1)); fi
	wait "$pid" 2>/dev/null
done
is "$killed" "$KILLS" "pga ship --loop was killed -9 $KILLS times"
sealed=$(counter segments_sealed)
diag "$sealed segments sealed, $(find "$SP/ready" -type f | wc -l) still in the spool before the final run"

[ "$(find "$SP/ship" -name '*.ok' | wc -l)" -gt 0 ]; ok $? "kills left acknowledged-but-not-removed segments behind"
sed -i '/^rate-limit/d' "$CONF"	# rate-limited above (the directory slower than S3) so that kills land mid-upload
				# and between the two destinations' acknowledgements
run_ok "a final clean run drains everything" pga -c "$CONF" ship
is "$(find "$SP/ready" -type f | wc -l)" 0 "the spool is empty"
is "$(find "$SP/ship" -name '*.ok' | wc -l)" 0 "no markers are left"
is "$(find "$DST" -name '*.part' | wc -l)" 0 "no part files are left in the directory"

tree_manifest "$DST" >"$TEST_TMP/dir.sums"
is "$(wc -l <"$TEST_TMP/dir.sums")" "$sealed" "the directory holds all $sealed sealed segments"
seqs=$(sed 's/.*\/\([0-9a-f]*\)-.*/\1/' "$TEST_TMP/dir.sums" | while read -r h; do echo $((16#$h)); done | sort -n | uniq)
is "$(echo "$seqs" | wc -l)" "$sealed" "each sequence number once"
is "$(echo "$seqs" | head -1)-$(echo "$seqs" | tail -1)" "1-$sealed" "from 1 to $sealed without a gap"
run_ok "the directory verifies, hash chain included" pga spool verify "$DST"
awss3 s3 cp --recursive --quiet s3://pga/k/ "$TEST_TMP/s3"
tree_manifest "$TEST_TMP/s3" >"$TEST_TMP/s3.sums"
same_files "S3 holds the same segments, byte-identical" "$TEST_TMP/dir.sums" "$TEST_TMP/s3.sums"
is "$(awss3 s3 ls --recursive s3://pga/k/ | wc -l)" "$sealed" "and nothing else"
if grep -qi "error" "$TEST_TMP/ship.log"; then
	diag "$(grep -i error "$TEST_TMP/ship.log" | sort | uniq -c | head -5)"
fi
done_testing
