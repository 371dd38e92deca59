#!/usr/bin/env bash
# Every --json output parses, whatever bytes the names in it hold: a byte
# that is not UTF-8 (a Latin-1 path, a name from a SQL_ASCII world) is
# written as the text \xNN, as pga escapes it everywhere; durations are
# seconds in keys ending in _seconds, times ISO 8601 strings.
. "$(dirname "$0")/../lib/tap.sh"

T=$TEST_TMP
for name in $'caf\xe9' $'bad\xff\xfeuser' $'\xed\xa0\x80surrogate' $'esc\x1b[31m' 'plain'; do
	S="$T/$name"
	printf '1,2\n' | pga -c /dev/null spool put --spool "$S" --metric m1 --columns a,b 2>/dev/null
	printf '[global]\nspool-path = %s\n[dest:d1]\nurl = file://%s/out\n' "$S" "$T" >"$T/c.conf"
	for cmd in "spool ls --json" "status --json"; do
		pga -c "$T/c.conf" $cmd >"$OUT" 2>"$ERR"
		python3 -m json.tool <"$OUT" >"$T/parsed" 2>"$ERR"
		ok $? "pga $cmd with spool $(printf '%q' "$name"): parses"
	done
	want=$(printf '%s' "$S" | python3 -c '
import sys
b = sys.stdin.buffer.read()
out = ""
i = 0
while i < len(b):
    for n in (4, 3, 2, 1):
        try:
            out += b[i:i+n].decode("utf-8"); i += n; break
        except UnicodeDecodeError:
            continue
    else:
        out += "\\x%02x" % b[i]; i += 1
print(out)')
	got=$(pga -c "$T/c.conf" spool ls --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["spool"])')
	is "$got" "$want" "  the path reads back with \\xNN for each byte that is not UTF-8"
done
pga -c "$T/c.conf" status --json >"$OUT"
like "$(cat "$OUT")" '"oldest_pending_age_seconds":[0-9.]+' "a duration is seconds, in a key ending in _seconds"
like "$(cat "$OUT")" '"oldest_pending":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"' "a time is ISO 8601 UTC"
ok $(! grep -rhoE '"[a-z_]*_(ms|us|s)"' "$OUT" >/dev/null; echo $?) "no key in _ms, _us or _s"
done_testing
