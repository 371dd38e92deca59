#!/usr/bin/env bash
# kill -9 of a writer: complete blocks are salvaged, the torn tail is counted,
# nothing already sealed changes.
. "$(dirname "$0")/../lib/tap.sh"

SP=$TEST_TMP/spool
seq 1 1000 | sed 's/$/,before/' | pga spool put --spool "$SP" --metric before --columns id,v 2>/dev/null
before=$(cd "$SP/ready" && find . -name '*.pga.zst' -exec sha256sum {} +)
is "$(echo "$before" | grep -c .)" 1 "a segment sealed before the crashes"
# every segment sealed before is still there, byte for byte
unchanged() {
	local now line
	[ -n "$before" ] || return 1
	now=$(cd "$SP/ready" && find . -name '*.pga.zst' -exec sha256sum {} +)
	while read -r line; do grep -qF "$line" <<<"$now" || return 1; done <<<"$before"
}

# a writer killed in the middle of its sixth block
(helper put-kill "$SP" 5 200000) 2>/dev/null
is $? 137 "the helper died by SIGKILL"
parts=$(ls "$SP/tmp"/*.part 2>/dev/null | wc -l)
is "$parts" 1 "it left its part file behind"
run_ok "ls shows the open part" pga spool ls --spool "$SP"
like "$(last_out)" "open +killtest\.[0-9a-f]+\.part" "listed as open"

# the next writer salvages it
echo 1,after | pga spool put --spool "$SP" --metric after --columns id,v 2>"$ERR"
ok $? "the next writer starts"
like "$(cat "$ERR")" "recovered segment '[^']*killtest[^']*' after a crash: 5 blocks kept, [1-9][0-9]* bytes of torn tail dropped" \
	"recovery is logged with what was kept and dropped"
rec=$(find "$SP/ready/killtest" -name '*.pga.zst')
run_ok "helper reads the recovered segment" helper seg-info "$rec"
like "$(last_out)" "blocks=5" "five complete blocks kept"
like "$(last_out)" "rows=1000000" "all their rows"
like "$(last_out)" "recovered=1" "marked recovered"
run_ok "counters" pga spool ls --spool "$SP" --json
cp "$OUT" "$TEST_TMP/ls.json"
run_ok "counters count the recovery and the torn bytes" python3 -c '
import json,sys
c=json.load(open(sys.argv[1]))["counters"]
assert c["segments_recovered"]==1 and c["bytes_torn"]>0, c' "$TEST_TMP/ls.json"
unchanged
ok $? "the segment sealed before the crash is untouched"
run_ok "the whole spool verifies" pga spool verify --spool "$SP"

# kill -9 of pga spool put itself while it streams a large input, several times
gen() { awk 'BEGIN { for (i = 0; i < 3000000; i++) printf "%d,\"row %d\",%d\n", i, i, i * 7 }'; }
for round in 1 2 3 4 5; do
	gen | "$PGA_BIN" spool put --spool "$SP" --metric big --columns a,b,c 2>/dev/null &
	pid=$!
	sleep "0.$((RANDOM % 6 + 2))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
done
echo 2,after | pga spool put --spool "$SP" --metric after --columns id,v 2>"$ERR"
ok $? "a writer starts after five kills"
is "$(ls "$SP/tmp" | grep -c '\.part$')" 0 "no part file is left"
run_ok "the spool verifies after the kills" pga spool verify --spool "$SP"
unchanged
ok $? "every segment sealed before the kills is still there, byte for byte"
run_ok "counters" pga spool ls --spool "$SP" --json
cp "$OUT" "$TEST_TMP/ls2.json"
run_ok "every torn byte is counted" python3 -c '
import json,sys
c=json.load(open(sys.argv[1]))["counters"]
assert c["bytes_torn"]>0, c' "$TEST_TMP/ls2.json"
done_testing
