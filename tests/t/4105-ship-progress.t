#!/usr/bin/env bash
# pga ship on a terminal shows a progress line as load does (segments done
# of those pending, bytes, rate, ETA), and a log line never runs into it;
# to a file or a pipe, or in --loop, no progress line at all.
. "$(dirname "$0")/../lib/tap.sh"

command -v script >/dev/null || skip_all "script (util-linux) not installed"
T=$TEST_TMP
put_some() {
	for i in $(seq "$1"); do
		printf '%s,2\n' "$i" | pga -c /dev/null spool put --spool "$T/sp" --metric "m$i" \
			--columns a,b 2>/dev/null || return 1
	done
}
mkdir -p "$T/out"
printf '[global]\nspool-path = %s\n[dest:d]\nurl = file://%s/out\n' "$T/sp" "$T" >"$T/c.conf"
put_some 12
ok $? "12 segments in the spool"
script -qec "$PGA_BIN -c $T/c.conf ship" /dev/null >"$T/tty.out" 2>&1
ok $? "pga ship on a terminal"
tr '\r' '\n' <"$T/tty.out" | sed 's/\x1b\[K//g' >"$T/tty.lines"
ok $(grep -aqE '^12/12 segments  [0-9.]+[KMG]?B?  [0-9.]+ MB/s$' "$T/tty.lines"; echo $?) \
	"  ends with a progress line: 12 of 12 segments, bytes, rate"
like "$(cat "$T/tty.lines")" "info: dest 'd': shipped 12 segments" "  the log line is there"
ok $(! grep -aqE 'MB/s.*(info|warn|error):' "$T/tty.lines"; echo $?) \
	"  and never on the progress line's line"
is "$(ls "$T/out"/*/*/*/*/* 2>/dev/null | wc -l)" 12 "  the 12 were delivered"
put_some 3
pga -c "$T/c.conf" ship >"$OUT" 2>"$ERR"
ok $? "pga ship to a file"
ok $(! grep -q $'\r' "$ERR"; echo $?) "  draws no progress line"
put_some 2
script -qec "$PGA_BIN -c $T/c.conf ship --loop" /dev/null >"$T/loop.out" 2>&1 &
spid=$!
for _ in $(seq 100); do [ "$(ls "$T/out"/*/*/*/*/* 2>/dev/null | wc -l)" -ge 17 ] && break; sleep 0.1; done
pkill -TERM -f "$T/c.conf ship --loop"; wait $spid
ok $(! grep -q 'segments  .*MB/s' "$T/loop.out"; echo $?) "pga ship --loop on a terminal draws none either"
done_testing
