#!/usr/bin/env bash
# status --central prints what came from segment headers and server
# messages safely (issue 9 item 5's display half): control characters,
# ANSI escape sequences, C1 controls, bidi overrides and bytes that are not
# UTF-8 are escaped, in text and in JSON, whatever the database holds.  A
# header whose collector id is not a valid name is refused before SQL,
# recorded without a collector, and its id shown escaped.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
run_ok "init" pga load --init --db "$DB"
raw() { LC_ALL=C grep -c $'\e\|\xc2\x9b\|\xe2\x80\xae\|\r' "$1"; }
ESC=$'\e'
printf '1,a,b\n' >"$TEST_TMP/blk"

# a host name with escape sequences in a segment header: the reader refuses
# it (FORMAT.md "Strings"); the refusal names it escaped
helper seg-build "$TEST_TMP/in" site-s h 1 0 2026-11-20T00:00:00Z \
	"st:id,val,note:$TEST_TMP/blk" >/dev/null || { echo "Bail out! seg-build"; exit 1; }
seg=$(find "$TEST_TMP/in" -name '*.pga.zst')
helper seg-forge "$seg" "$seg" "host=host${ESC}[31mRED${ESC}[0m" || { echo "Bail out! seg-forge"; exit 1; }
run_fails 2 "a segment whose host name holds escape sequences is refused" pga load --db "$DB" --from "$TEST_TMP/in"
like "$(last_err)" "host name 'host\\\\x1[bB]\[31mRED\\\\x1[bB]\[0m' in the segment header is not valid text" \
	"the host name is shown escaped"
is "$(raw "$ERR")" 0 "nothing raw in the log"
is "$(q "SELECT count(*) FROM pga.collectors")" 0 "nothing registered"
q "TRUNCATE pga.quarantine" >/dev/null
helper seg-build "$TEST_TMP/in2" site-s h 1 0 2026-11-20T00:00:00Z \
	"st:id,val,note:$TEST_TMP/blk" >/dev/null || { echo "Bail out! seg-build"; exit 1; }
run_ok "a clean segment of the same collector loads" pga load --db "$DB" --from "$TEST_TMP/in2"

# a collector id with escape sequences: refused before any SQL, recorded
helper seg-build "$TEST_TMP/bad" site-x h1 1 0 2026-11-20T00:00:00Z \
	"st:id,val,note:$TEST_TMP/blk" >/dev/null || { echo "Bail out! seg-build"; exit 1; }
seg=$(find "$TEST_TMP/bad" -name '*.pga.zst')
helper seg-forge "$seg" "$seg" "collector=ev${ESC}[2Jil" || { echo "Bail out! seg-forge"; exit 1; }
run_fails 2 "a collector id that is no valid name is refused" pga load --db "$DB" --from "$TEST_TMP/bad"
like "$(last_err)" "invalid collector id 'ev\\\\x1[bB]\[2Jil' in the segment header" "the id is shown escaped"
is "$(raw "$ERR")" 0 "nothing raw in the log"
is "$(q "SELECT count(*) FROM pga.collectors WHERE collector <> 'site-s'")" 0 "it is not registered as a collector"
is "$(q "SELECT kind || ' ' || coalesce(collector, 'NULL') FROM pga.quarantine")" "corrupt NULL" \
	"recorded, without a collector"

# whatever the database holds, nothing reaches the terminal raw
q "UPDATE pga.collectors SET writer = E'w\\x1b]0;title\\x07', hostname = E'h\\u009b31m\\u202eevil';
   INSERT INTO pga.quarantine (name, kind, collector, seq, block, metric, error)
     VALUES (E'n\\x1b[1m', 'block', 'site-s', 1, 0, 'st', E'bad \\x1b[5mblink\\r\\u009b');
   INSERT INTO pga.held_segments (collector, seq, sha256, prev_sha256, name, hostname, size, reason, detail)
     VALUES ('site-s', 2, '\\x01', '\\x02', E'held\\x1b[8m', E'clone\\x1b[31m', 1, 'chain', E'why\\x1b[0m')" >/dev/null
run_fails 2 "status --central" helper central-status "$DB"
is "$(raw "$OUT")" 0 "text: no escape sequence, C1 control, bidi override or CR printed raw"
like "$(last_out)" "refused \(block\): 'n\\\\x1b\[1m' block 0 metric 'st'.*: bad \\\\x1b\[5mblink\\\\x0d\\\\xc2\\\\x9b" \
	"text: the refusal, escaped"
like "$(last_out)" "fork: collector 'site-s' seq 2: held 'held\\\\x1b\[8m' .*host 'clone\\\\x1b\[31m'.*why\\\\x1b\[0m" \
	"text: the held segment, escaped"
run_fails 2 "status --central --json" helper central-status --json "$DB"
is "$(raw "$OUT")" 0 "JSON: nothing raw either"
like "$(last_out)" '"hostname":"h\\\\xc2\\\\x9b31m\\\\xe2\\\\x80\\\\xaeevil","writer":"w\\\\x1b]0;title\\\\x07"' \
	"JSON: header strings escaped"
ok $(python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT" 2>/dev/null; echo $?) "JSON: still valid JSON"

done_testing
