#!/usr/bin/env bash
# spool-max with spool-full = block and = drop-oldest, through the CLI.
. "$(dirname "$0")/../lib/tap.sh"

gen() { awk -v n="$1" -v s="$2" 'BEGIN { srand(s); for (i = 0; i < n; i++) printf "%d,%x%x\n", i, rand()*1e9, rand()*1e9 }'; }

cat >"$TEST_TMP/block.conf" <<CONF
[global]
spool-path = $TEST_TMP/block
collector = quota-site
spool-max = 300K
spool-full = block
CONF
refused=0
for i in $(seq 1 30); do
	if ! gen 3000 $i | pga -c "$TEST_TMP/block.conf" spool put --metric q --columns a,b 2>"$ERR"; then
		refused=$i
		break
	fi
done
ok $([ $refused -gt 3 ]; echo $?) "block: some puts fit, then one is refused (at put $refused)"
like "$(cat "$ERR")" "spool '[^']*block' is full \([^)]* used, spool-max 300K.*new data refused \(spool-full = block\)" \
	"the refusal says why, in one line"
kept=$(find "$TEST_TMP/block/ready" -name '*.pga.zst' | wc -l)
is "$kept" $((refused - 1)) "every segment written before the refusal is kept"
run_ok "block: counters" pga -c "$TEST_TMP/block.conf" spool ls --json
cp "$OUT" "$TEST_TMP/b.json"
run_ok "blocks_refused counted, nothing dropped" python3 -c '
import json,sys
d=json.load(open(sys.argv[1])); c=d["counters"]
assert c["blocks_refused"]>=1 and c["segments_dropped"]==0, c
assert d["usage"] <= 300*1024, d["usage"]' "$TEST_TMP/b.json"
run_ok "block: the spool verifies" pga -c "$TEST_TMP/block.conf" spool verify

cat >"$TEST_TMP/drop.conf" <<CONF
[global]
spool-path = $TEST_TMP/drop
collector = quota-site
spool-max = 300K
spool-full = drop-oldest
CONF
failed=0
for i in $(seq 1 30); do
	gen 3000 $i | pga -c "$TEST_TMP/drop.conf" spool put --metric q --columns a,b 2>>"$TEST_TMP/drop.log" ||
		failed=$((failed + 1))
done
is "$failed" 0 "drop-oldest: all 30 puts succeed"
run_ok "drop-oldest: counters" pga -c "$TEST_TMP/drop.conf" spool ls --json
cp "$OUT" "$TEST_TMP/d.json"
python3 - "$TEST_TMP/d.json" "$TEST_TMP/drop" >"$TEST_TMP/check.out" 2>&1 <<'PY'
import json, sys, subprocess
d = json.load(open(sys.argv[1])); c = d["counters"]
segs = d["segments"]
assert d["usage"] <= 300 * 1024, d["usage"]
# every block written is either in the spool or counted as dropped
assert sum(s["blocks"] for s in segs) + c["blocks_dropped"] == c["blocks_written"] == 30, c
assert c["rows_dropped"] == 3000 * c["segments_dropped"], c
# the newest survived: the last sequence number is the 30th
assert segs[-1]["name"].split("/")[-1].startswith("%016x" % 30), segs[-1]
print("ok")
PY
is "$(cat "$TEST_TMP/check.out")" ok "drop-oldest: usage under the cap, every block kept or counted, oldest first"
dropped=$(grep -c "spool full: dropped oldest segment" "$TEST_TMP/drop.log")
ok $([ "$dropped" -ge 1 ]; echo $?) "some segments were dropped ($dropped)"
is "$dropped" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"]["segments_dropped"])' \
	"$TEST_TMP/d.json")" "each drop is logged, once"
run_ok "drop-oldest: the spool verifies" pga -c "$TEST_TMP/drop.conf" spool verify

# With destinations, drop-oldest asks where a segment already is (the
# shipper's markers): what every destination has goes first, not counted;
# a drop names the destinations that had the segment.
mkdir -p "$TEST_TMP/near" "$TEST_TMP/far"
cat >"$TEST_TMP/dest.conf" <<CONF
[global]
spool-path = $TEST_TMP/dest
collector = quota-site
spool-max = 300K
spool-full = drop-oldest
spool-retain = 30d
[dest:near]
url = file://$TEST_TMP/near
[dest:far]
url = file://$TEST_TMP/far
CONF
put() { gen 3000 "$1" | pga -c "$TEST_TMP/dest.conf" spool put --metric q --columns a,b 2>>"$TEST_TMP/dest.log"; }
seg() { printf "'quota-site/[0-9/]*/%016x-[^']*'" "$1"; }
put 1 && put 2
run_ok "segments 1-2 shipped to both" pga -c "$TEST_TMP/dest.conf" ship
put 3 && put 4
run_ok "segments 3-4 shipped to 'near' only" pga -c "$TEST_TMP/dest.conf" ship --dest near
for i in $(seq 5 16); do put $i; done
grep "spool full" "$TEST_TMP/dest.log" >"$TEST_TMP/full.log"
like "$(sed -n 1p "$TEST_TMP/full.log")" "removed segment $(seg 1) \\([0-9]+ bytes; delivered to 'near', 'far'\\): every consumer has it, not dropped" \
	"what both destinations have goes first (1), not as a drop"
like "$(sed -n 2p "$TEST_TMP/full.log")" "removed segment $(seg 2) " "then 2"
like "$(sed -n 3p "$TEST_TMP/full.log")" "dropped oldest segment $(seg 3) \\(1 blocks, 3000 rows, [0-9]+ bytes; delivered to 'near', not to 'far'\\) \\[removal 1\\]" \
	"then the oldest: 3, counted, with the destination that had it"
like "$(sed -n 4p "$TEST_TMP/full.log")" "dropped oldest segment $(seg 4) .*; delivered to 'near', not to 'far'\\) \\[removal 2\\]" "then 4"
like "$(sed -n 5p "$TEST_TMP/full.log")" "dropped oldest segment $(seg 5) \\(1 blocks, 3000 rows, [0-9]+ bytes\\) \\[removal 3\\]" \
	"then 5, which no destination had: no note"
run_ok "destinations: counters" pga -c "$TEST_TMP/dest.conf" spool ls --json
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters"]["segments_dropped"])' "$OUT")" \
	"$(grep -c "dropped oldest segment" "$TEST_TMP/full.log")" "segments_dropped counts the drops only, not the removals"
run_ok "what is left ships" pga -c "$TEST_TMP/dest.conf" ship
is "$(find "$TEST_TMP/near" -name '*.pga.zst' | wc -l) $(find "$TEST_TMP/far" -name '*.pga.zst' | wc -l)" \
	"$(( $(find "$TEST_TMP/dest/ready" -name '*.pga.zst' | wc -l) + 4 )) $(( $(find "$TEST_TMP/dest/ready" -name '*.pga.zst' | wc -l) + 2 ))" \
	"'near' holds what is left plus 1-4, 'far' plus 1-2"
done_testing
