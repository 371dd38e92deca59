#!/usr/bin/env bash
# SIGHUP on pga collect --loop reads the configuration again, as postgres
# and pgbouncer do: never an exit, never a cut cycle (HUP at random moments,
# inside cycles made long by a lock, and two in a row); a broken new
# configuration of any kind is refused in one log line and the old one goes
# on; a good one adds a target, changes the interval, the log level and
# the spool settings (the open segment is sealed, the chain stays whole);
# HUP then TERM ends cleanly; counters agree with the cycles logged.  A
# one-shot collect ignores HUP and says so.  The loop units reload by HUP.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start rl
pg_psql rl postgres -c "CREATE DATABASE d2" -c "CREATE TABLE locked(a int)" || exit 1
SP=$TEST_TMP/spool
C=$TEST_TMP/pga.conf
LOG=$TEST_TMP/loop.log
conf1() {
	cat >"$C" <<CONF
[global]
spool-path = $SP
collector = rl
interval = 500ms
lock-timeout = 1s
[target:a]
conninfo = $(pg_conninfo rl postgres)
CONF
}
conf1
# a lock the table-size metric waits for: every cycle lasts over a second
psql -X -q -h "$PG_SOCK_rl" -p "$PG_PORT_rl" -U postgres -d postgres \
	-c "BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600)" >/dev/null 2>&1 &
LOCKER=$!
at_exit "kill $LOCKER"
for _ in $(seq 50); do
	[ "$(pg_psql rl postgres -At -c "SELECT count(*) FROM pg_locks WHERE relation = 'locked'::regclass AND granted")" = 1 ] && break
	sleep 0.1
done

"$PGA_BIN" -c "$C" collect --loop 2>"$LOG" &
LOOP=$!
at_exit "kill -9 $LOOP"
count() { grep -c -- "$1" "$LOG"; }
cycles() { count 'info: cycle [0-9]*:'; }
wait_for() {	# SECONDS CMD...: until CMD succeeds
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
more_cycles() { [ "$(cycles)" -ge "$1" ]; }
more_of() { [ "$(count "$1")" -ge "$2" ]; }
alive() { kill -0 $LOOP 2>/dev/null; }

wait_for 20 more_cycles 1; ok $? "the loop runs (cycle 1)"
like "$(grep 'cycle 1:' "$LOG")" "targets 1 ok.* [0-9.]+ s$" "a cycle waits for the lock"

# ---- HUP at random moments: inside cycles, between them, twice in a row ----
dead=0
for i in 1 2 3 4 5 6; do
	# two HUPs before the loop takes the first are one request (as in
	# postgres): the previous one is taken before the next is sent
	wait_for 10 more_of "received SIGHUP" $((i - 1))
	n=$(cycles)
	wait_for 10 more_cycles $((n + 1))
	# the next cycle starts at once (the last one overran the tick) and
	# lasts a second: +0.3..0.9 s lands inside it, +0..0.05 s around its start
	if [ $((i % 2)) -eq 0 ]; then sleep "0.$((RANDOM % 5))"; else sleep "0.$((3 + RANDOM % 7))"; fi
	kill -HUP $LOOP
	sleep 0.05
	alive || dead=1
done
# the sixth taken first: sent inside the same cycle, it and the pair would
# be one request
wait_for 10 more_of "received SIGHUP" 6
kill -HUP $LOOP; kill -HUP $LOOP
sleep 0.2
alive || dead=1
is "$dead" 0 "alive after every SIGHUP"
wait_for 15 more_of "configuration reloaded" 7; ok $? "each SIGHUP reloads (two in a row: at least once)"
n=$(cycles)
wait_for 10 more_cycles $((n + 1))
is "$(count 'received SIGHUP')" "$(count 'configuration reloaded')" "every request logged and done"
is "$(count '(interrupted)')" 0 "no cycle was cut short"
is "$(grep 'info: cycle' "$LOG" | grep -vc 'targets 1 ok, 0 failed')" 0 "every cycle collected its target"
awk '/info: cycle/ { c = $0 } /received SIGHUP/ { if (c == "") bad = 1 }
     END { exit bad }' "$LOG"; ok $? "reloads come after cycles, never before the first"

# ---- broken configurations are refused, the old one goes on ----
refused=0
refuse() {	# DESC REGEX: after the config was broken
	kill -HUP $LOOP
	refused=$((refused + 1))
	wait_for 10 more_of "configuration not reloaded" $refused
	like "$(grep 'configuration not reloaded' "$LOG" | tail -1)" \
		"error: configuration not reloaded, keeping the previous one: $2" "$1: refused"
	alive; ok $? "  the loop goes on"
}
conf1; echo "this is not a key" >>"$C"
refuse "a syntax error" "$C:8: syntax error"
conf1; echo "colector = x" >>"$C"
refuse "an unknown key" "$C:8: unknown key 'colector' in \\[target:a\\]"
conf1; printf '[target:b]\ndatabases = *\n' >>"$C"
refuse "a target without conninfo" "$C:8: \\[target:b\\] has no 'conninfo'"
conf1; printf '[target:b]\nconninfo = host=x password=secret\n' >>"$C"; chmod 644 "$C"
refuse "a world-readable password" "$C:9: 'conninfo' holds a secret"
conf1; printf "[target:b]\nconninfo = host='unterminated\n" >>"$C"
refuse "a conninfo libpq refuses" "$C:9: .*invalid conninfo"
conf1; printf 'workers\0 = 2\n' >>"$C"
refuse "a NUL byte" "$C:8: NUL byte"
rm "$C"; mkdir "$C"
refuse "the file replaced by a directory" "config file '$C' is a directory"
rmdir "$C"
refuse "the file gone" "could not open config file '$C'"
conf1; sed -i 's/^interval = .*/interval = 0/' "$C"
refuse "interval = 0" "interval must be above zero"
is "$(grep -c 'configuration not reloaded' "$LOG")" "$refused" "  each refusal is one log line"
grep -q "password=secret" "$LOG"; [ $? -ne 0 ]; ok $? "  and no secret reaches the log"
n=$(cycles)
wait_for 10 more_cycles $((n + 1))
like "$(grep 'info: cycle' "$LOG" | tail -1)" "targets 1 ok, 0 failed" "the old configuration still collects"

# ---- a good one: a new target, interval, log level, spool settings ----
pg_psql rl postgres -c "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE relation = 'locked'::regclass" >/dev/null
cat >"$C" <<CONF
[global]
spool-path = $SP
collector = rl
interval = 300ms
log-level = debug
segment-max-age = 1s
[target:a]
conninfo = $(pg_conninfo rl postgres)
[target:b]
conninfo = $(pg_conninfo rl d2)
CONF
kill -HUP $LOOP
wait_for 10 more_of "2 targets, interval 0.300 s" 1; ok $? "reloaded: 2 targets, interval 300 ms"
n=$(cycles)
wait_for 10 more_cycles $((n + 2))
like "$(grep 'info: cycle' "$LOG" | tail -1)" "targets 2 ok, 0 failed" "the new target is collected"
like "$(tail -5 "$LOG")" "debug: target 'b'" "log-level debug is in effect"
n=$(cycles)
sleep 3
ok $([ $(($(cycles) - n)) -ge 6 ]; echo $?) "cycles every 300 ms ($(($(cycles) - n)) in 3 s)"
ok $([ "$(find "$SP/ready" -name '*.pga.zst' | wc -l)" -ge 3 ]; echo $?) \
	"segment-max-age = 1s applies: the open segment was sealed and more follow"

# ---- HUP then TERM ----
kill -HUP $LOOP
kill -TERM $LOOP
wait $LOOP
is "$?" 0 "HUP then TERM: exit 0"
is "$(find "$SP/tmp" -name '*.part' 2>/dev/null | wc -l)" 0 "no .part left"
run_ok "the spool verifies: every segment whole, the chain unbroken across reopenings" pga spool verify --spool "$SP"
pga spool ls --spool "$SP" >"$TEST_TMP/ls"
counter() { awk -v k="$1" '$1 == k { print $2 }' "$TEST_TMP/ls"; }
is "$(counter cycles)" "$(cycles)" "the cycles counter equals the cycles logged"
is "$(counter targets_ok)" "$(grep -o 'targets [0-9]* ok' "$LOG" | awk '{ s += $2 } END { print s }')" \
	"targets_ok equals the sum of the summaries"

# ---- a one-shot collect ignores HUP ----
python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open("'"$TEST_TMP"'/hole.port", "w").write(str(s.getsockname()[1]))
held = []
while True: held.append(s.accept()[0])' >/dev/null 2>&1 &
at_exit "kill $!"
wait_for 5 test -s "$TEST_TMP/hole.port"
printf '[target:hole]\nconninfo = host=127.0.0.1 port=%s dbname=x\ntarget-deadline = 2s\n' \
	"$(cat "$TEST_TMP/hole.port")" >>"$C"
LOG=$TEST_TMP/one.log
"$PGA_BIN" -c "$C" collect 2>"$LOG" &
ONE=$!
sleep 0.7
kill -HUP $ONE
wait $ONE
is "$?" 2 "one-shot collect: HUP does not end it (exit 2: the hole target failed)"
like "$(cat "$LOG")" "targets 2 ok, 1 failed" "  it collected"
like "$(cat "$LOG")" "received SIGHUP: 'pga collect' does not reload its configuration" "  and says it ignored the HUP"
is "$(find "$SP/tmp" -name '*.part' 2>/dev/null | wc -l)" 0 "  no .part left"

for u in collect ship; do
	grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$REPO_DIR/cron/pga-$u-loop.service"
	ok $? "pga-$u-loop.service reloads with SIGHUP"
done
done_testing
