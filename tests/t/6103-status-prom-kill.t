#!/usr/bin/env bash
# The textfile is replaced atomically (issue 14): pga status --prometheus
# killed with SIGKILL at any moment of its write leaves the previous whole
# file or the new whole file, never a torn one; two writers at once (collect
# and ship do) never mix.  node_exporter reads only *.prom: what a kill
# leaves behind is hidden.
. "$(dirname "$0")/../lib/tap.sh"

PROMTOOL=$(command -v promtool || ls "$REPO_DIR"/.deps/*/promtool 2>/dev/null | head -1)
[ -x "$PROMTOOL" ] || skip_all "no promtool (Debian package prometheus)"

SP=$TEST_TMP/spool
N=400	# targets: a textfile of about 200 KB
# a slow disk for the textfile only (tests/helper/failwrite.c): 2 KiB writes
# of 300 us each, so that a kill can land in the middle of the write
SLOW="LD_PRELOAD=$(failwrite_preload) FAILWRITE_MATCH=/.pga.prom. FAILWRITE_SLOW=2048:300"
mkdir -p "$SP/ready" "$SP/state" "$TEST_TMP/tf"
{
	printf '[global]\nspool-path = %s\n' "$SP"
	for i in $(seq $N); do printf '[target:t%d]\nconninfo = host=127.0.0.1 port=1\n' "$i"; done
} >"$TEST_TMP/c.conf"
now=$(date +%s%6N)
for i in $(seq $N); do
	printf 'last_attempt_us %s\nlast_success_us %s\nlast_error_us 0\nfailing_since_us 0\nfailures 0\nlast_error \n' \
		"$now" "$now" >"$SP/state/t$i.health"
done
printf 'start_us %s\nduration_us 1\nfailed 0\nlast_collected_us %s\n' "$now" "$now" >"$SP/state/cycle.health"
export PGA_CONFIG=$TEST_TMP/c.conf
F=$TEST_TMP/tf/pga.prom

env $SLOW "$PGA_BIN" status --prometheus "$F"
ok $? "a whole write first, on the slow disk"
LINES=$(wc -l <"$F")
LAST=$(tail -1 "$F")
"$PROMTOOL" check metrics <"$F" >/dev/null 2>&1; ok $? "promtool accepts it ($LINES lines)"
RUN_MS=100000	# the fastest of three runs: the kills aim at its end, where the write is
for _ in 1 2 3; do
	t0=$(date +%s%N); env $SLOW "$PGA_BIN" status --prometheus "$F"; t1=$(date +%s%N)
	RUN_MS=$(( (t1 - t0) / 1000000 < RUN_MS ? (t1 - t0) / 1000000 : RUN_MS ))
done

whole() {	# the file has every line, ends with the last one and parses
	[ "$(wc -l <"$F")" = "$LINES" ] && [ "$(tail -1 "$F" | cut -d' ' -f1)" = "${LAST%% *}" ] &&
		"$PROMTOOL" check metrics <"$F" >/dev/null 2>&1
}

# until 10 kills landed mid-write (at least 40 kills, at most 200)
torn=0 hits=0 mid=0 n=0
while [ $n -lt 200 ] && { [ $n -lt 40 ] || [ $mid -lt 10 ]; }; do
	n=$((n + 1))
	env $SLOW "$PGA_BIN" status --prometheus "$F" 2>/dev/null &
	pid=$!
	sleep "$(awk -v r=$RANDOM -v ms=$RUN_MS 'BEGIN { printf "%.4f", (0.3 + r / 32768) * ms / 1000 }')"
	kill -9 $pid 2>/dev/null && hits=$((hits + 1))
	wait $pid 2>/dev/null
	whole || { torn=$((torn + 1)); cp "$F" "$TEST_TMP/torn.$n"; }
	# its temporary file is there: killed between create and rename
	[ -e "$TEST_TMP/tf/.pga.prom.$pid.tmp" ] && mid=$((mid + 1))
done
is "$torn" 0 "$n kills -9 at random points ($hits hit a running writer): the file was always whole"
ok $([ "$mid" -ge 10 ]; echo $?) "  $mid of them mid-write (their hidden temporary file left)"
ls "$TEST_TMP/tf" >"$TEST_TMP/ls"
is "$(cat "$TEST_TMP/ls")" "pga.prom" "  nothing else a textfile collector would read"
run_ok "the next write" pga status --prometheus "$F"
is "$(find "$TEST_TMP/tf" -name '.pga.prom.*.tmp' | wc -l)" 0 "  removes what dead writers left"

# two writers at once, as collect and ship: each renames a whole file
bad=0
for _ in $(seq 10); do
	env $SLOW "$PGA_BIN" status --prometheus "$F" 2>/dev/null & a=$!
	env $SLOW "$PGA_BIN" status --prometheus "$F" 2>/dev/null & b=$!
	wait $a $b
	whole || bad=$((bad + 1))
done
is "$bad" 0 "two writers at once: always one whole file"

done_testing
