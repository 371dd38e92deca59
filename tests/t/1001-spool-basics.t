#!/usr/bin/env bash
# pga spool put / ls / verify / cat, and what standard tools see in a segment.
. "$(dirname "$0")/../lib/tap.sh"

SP=$TEST_TMP/spool
printf '1,"multi\nline",x\n2,"say ""hi""",\n3,,plain\n' >"$TEST_TMP/a.csv"

run_ok "put a block" pga spool put --spool "$SP" --metric custom_m --columns id,txt,note \
	--target db1 --time 2026-01-02T03:04:05Z <"$TEST_TMP/a.csv"
like "$(last_err)" "wrote block 'custom_m': 3 rows" "put reports rows"
seg=$(find "$SP/ready" -name '*.pga.zst')
like "$seg" "/ready/[^/]+/[0-9]{4}/[0-9]{2}/[0-9]{2}/0000000000000001-[0-9]{8}T[0-9]{6}Z\.pga\.zst$" \
	"segment named collector/yyyy/mm/dd/seq-time.pga.zst"
run_ok "zstd -t accepts the segment" zstd -q -t "$seg"
is "$(zstdcat "$seg" | sha256sum)" "$(sha256sum <"$TEST_TMP/a.csv")" "zstdcat prints the CSV body exactly"

run_ok "ls" pga spool ls --spool "$SP"
like "$(last_out)" "sealed +[^ ]+ +[0-9]+B +1 +3 +2026-01-02T03:04:05Z" "ls shows blocks, rows and time range"
like "$(last_out)" "rows_written +3" "ls shows counters"

run_ok "ls --json" pga spool ls --spool "$SP" --json
cp "$OUT" "$TEST_TMP/ls.json"
run_ok "ls --json is valid JSON" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
s=d["segments"][0]
assert s["rows"]==3 and s["blocks"]==1 and s["from"]=="2026-01-02T03:04:05Z", s
assert d["counters"]["blocks_written"]==1' "$TEST_TMP/ls.json"

# more segments for the chain
for i in 2 3 4; do
	seq 1 $((i * 100)) | sed 's/$/,v,n/' | pga spool put --spool "$SP" --metric m$i \
		--columns id,txt,note 2>/dev/null || ok 1 "put $i"
done
run_ok "verify the spool" pga spool verify --spool "$SP"
like "$(last_out)" "4 segments verified, 0 failed" "all four verified"

run_ok "cat a segment" pga spool cat "$seg"
{
	echo "# block 0 metric=custom_m target=db1 database= snapshot=2026-01-02T03:04:05Z"
	echo "id,txt,note"
	cat "$TEST_TMP/a.csv"
} >"$TEST_TMP/want"
is "$(cat "$OUT")" "$(cat "$TEST_TMP/want")" "cat prints a header line, the columns and the rows"
name=${seg#"$SP"/ready/}
run_ok "cat by name inside the spool" pga spool cat --spool "$SP" --raw "$name"
is "$(sha256sum <"$OUT")" "$(sha256sum <"$TEST_TMP/a.csv")" "cat --raw is the CSV alone"
run_ok "cat --metric that is not there" pga spool cat --metric nope "$seg"
is "$(cat "$OUT")" "" "no block printed"

# a writer whose input ends without a newline still counts its last row
printf '1,a,b\n2,c,d' | pga spool put --spool "$SP" --metric tail_m --columns id,txt,note 2>"$ERR"
like "$(cat "$ERR")" "2 rows" "a missing final newline is added and the row counted"

# two writers: the second fails fast while the first holds the lock
mkfifo "$TEST_TMP/fifo"
"$PGA_BIN" spool put --spool "$SP" --metric held --columns a <"$TEST_TMP/fifo" 2>/dev/null &
holder=$!
exec 7>"$TEST_TMP/fifo"
for _ in $(seq 1 50); do [ -s "$SP/lock" ] && break; sleep 0.1; done
sleep 0.3
run_fails 1 "a second writer is refused" pga spool put --spool "$SP" --metric other --columns a </dev/null
like "$(last_err)" "in use by another writer \(pid $holder\)" "the message names the holder's pid"
echo 1 >&7
exec 7>&-
wait $holder
ok $? "the first writer finishes normally"
run_ok "verify after all of it" pga spool verify --spool "$SP"
done_testing
