#!/usr/bin/env bash
# pga collect --loop: connections kept across cycles (same backends), a
# server restart survived, a backend that stops answering mid-cycle cut off
# at the deadline (the tick it overran skipped and counted), a server that
# is down backed off, and SIGTERM sealing what was collected, even mid-cycle.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start lp
for i in 1 2 3; do pg_psql lp postgres -c "CREATE DATABASE l$i"; done
pg_psql lp postgres -c "CREATE EXTENSION pg_stat_statements"
q() { pg_psql lp postgres -At -c "$1"; }
SP=$TEST_TMP/spool
cat >"$TEST_TMP/pga.conf" <<CONF
[global]
spool-path = $SP
collector = loop
target-deadline = 3s
[target:lp]
conninfo = $(pg_conninfo lp '*')
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf
LOG=$TEST_TMP/loop.log

"$PGA_BIN" collect --loop --interval 1s 2>"$LOG" &
LOOP=$!
at_exit "kill -9 $LOOP"
# wait_cycle N [SECONDS]: until the log has the summary of cycle N
wait_cycle() {
	for _ in $(seq $((${2:-20} * 10))); do
		grep -q "cycle $1:" "$LOG" && return 0
		sleep 0.1
	done
	diag "no cycle $1 in: $(tail -3 "$LOG")"
	return 1
}
last_cycle() { grep -o 'cycle [0-9]*:' "$LOG" | tail -1 | tr -dc 0-9; }
pga_backends() {
	q "SELECT datname || '=' || pid || '@' || backend_start FROM pg_stat_activity
	   WHERE application_name = 'pga' ORDER BY datname"
}

# ---- connections are kept ----
wait_cycle 2
before=$(pga_backends)
is "$(echo "$before" | grep -c .)" 4 "one connection per database (postgres, l1, l2, l3)"
wait_cycle 4
is "$(pga_backends)" "$before" "cycles 2 to 4 used the very same backends"
is "$(grep -c "settings were not ours" "$LOG")" 0 "a kept connection's settings stay pga's (no pooler here)"
like "$(grep 'cycle 4:' "$LOG")" "targets 1 ok, 0 failed, 0 skipped; 4 databases" "and collected everything"
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pga' AND state <> 'idle'")" 0 \
	"between cycles they are idle, no transaction left open"
ok $(ls "$SP"/tmp/*.part >/dev/null 2>&1 && ! ls "$SP"/ready 2>/dev/null | grep -q .; echo $?) \
	"the segment stays open while the loop runs (segment-max-age 5m)"

# ---- a server restart ----
pg_restart lp
n=$(last_cycle)
wait_cycle $((n + 2))
like "$(cat "$LOG")" "kept connection lost, reconnecting" "the dead connections are noticed"
like "$(grep "cycle $((n + 2)):" "$LOG")" "targets 1 ok, 0 failed, 0 skipped; 4 databases" \
	"and replaced: the loop collects again after the restart"
after=$(pga_backends)
is "$(echo "$after" | grep -c .)" 4 "four new backends"
ok $([ "$(echo "$after" | cut -d@ -f1 | sort)" != "$(echo "$before" | cut -d@ -f1 | sort)" ]; echo $?) "with new pids"
wait_cycle $((n + 3))
is "$(pga_backends)" "$after" "kept again from then on"

# ---- a backend that stops answering mid-cycle ----
stopped=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'pga' AND datname = 'l2'")
kill -STOP "$stopped"
n=$(last_cycle)
wait_cycle $((n + 2)) 30
kill -CONT "$stopped"
stall=$(grep -E "cycle $((n + 1)):|cycle $((n + 2)):" "$LOG" | grep "1 failed" | head -1)
like "$stall" "targets 0 ok, 1 failed, 0 skipped; 3 databases" "the stalled database fails that cycle, the others are in"
secs=$(echo "$stall" | grep -o '[0-9.]* s$' | cut -d' ' -f1)
ok $(awk -v s="$secs" 'BEGIN { exit !(s >= 2.5 && s < 3.8) }'; echo $?) "cut off at the 3 s target deadline (${secs} s)"
like "$(cat "$LOG")" "target 'lp': database 'l2': .*deadline exceeded" "the log says which database and why"
like "$(cat "$LOG")" "skipping [0-9]+ tick\(s\)" "the overrun ticks are skipped, not run late or twice"
wait_cycle $((n + 3)) 30
like "$(grep "cycle $((n + 3)):" "$LOG")" "targets 1 ok, 0 failed, 0 skipped; 4 databases" "the next cycle is whole again"

# ---- a server that is down: failed cycles, then backoff ----
pg_stop lp immediate
n=$(last_cycle)
wait_cycle $((n + 4)) 30
like "$(cat "$LOG")" "target 'lp': skipped \(backing off after 2 failed cycles\)" "a target that keeps failing is backed off"
_pg_try_start lp "$PG_BIN_lp" "$PG_DATA_lp" "$PG_SOCK_lp" "$PG_PORT_lp"
for _ in $(seq 150); do
	tail -1 "$LOG" | grep -q "targets 1 ok" && break
	sleep 0.1
done
like "$(tail -1 "$LOG")" "targets 1 ok, 0 failed, 0 skipped; 4 databases" "and collected again once it is back"

# ---- SIGTERM: seal and exit 0 ----
cycles=$(last_cycle)
kill -TERM $LOOP
wait $LOOP
is "$?" 0 "SIGTERM: exit 0"
is "$(find "$SP/tmp" -name '*.part' | grep -c .)" 0 "nothing left open"
SEG=$(find "$SP/ready" -name '*.pga.zst')
is "$(echo "$SEG" | grep -c .)" 1 "one sealed segment with the loop's blocks"
ok $(zstd -tq $SEG; echo $?) "zstd -t accepts it"
helper seg-blocks "$SP" >"$TEST_TMP/blocks"
is "$(awk -F'\t' '$1 == "pg_stat_database" { print $5 }' "$TEST_TMP/blocks" | sort -u | grep -c .)" \
	"$(grep 'cycle [0-9]*:' "$LOG" | grep -c -v ' 0 blocks')" "one snapshot per cycle that collected anything, none lost"
pga spool ls >"$TEST_TMP/ls"
is "$(awk '$1 == "cycles" { print $2 }' "$TEST_TMP/ls")" "$cycles" "every cycle is counted"
ok $([ "$(awk '$1 == "cycles_skipped" { print $2 }' "$TEST_TMP/ls")" -ge 2 ]; echo $?) \
	"skipped ticks are counted ($(awk '$1 == "cycles_skipped" { print $2 }' "$TEST_TMP/ls"))"

# ---- SIGTERM in the middle of a cycle ----
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open("'"$TEST_TMP"'/hole.port", "w").write(str(s.getsockname()[1]))
held = []
while True: held.append(s.accept()[0])' >/dev/null 2>&1 &
at_exit "kill $!"
for _ in $(seq 50); do [ -s "$TEST_TMP/hole.port" ] && break; sleep 0.1; done
cat >>"$TEST_TMP/pga.conf" <<CONF
[target:hole]
conninfo = host=127.0.0.1 port=$(cat "$TEST_TMP/hole.port") dbname=x
target-deadline = 60s
CONF
"$PGA_BIN" collect --loop --interval 1s 2>"$LOG" &
LOOP=$!
sleep 1.5
start=$(date +%s%N)
kill -TERM $LOOP
wait $LOOP
rc=$?
el=$((($(date +%s%N) - start) / 1000000))
is "$rc" 0 "SIGTERM while a target hangs: exit 0"
ok $([ "$el" -lt 1500 ]; echo $?) "at once, not after the 60 s deadline (${el} ms)"
like "$(cat "$LOG")" "cycle 1: targets 1 ok, 1 failed, 0 skipped; 4 databases.*\(interrupted\)" \
	"the interrupted cycle keeps what it collected"
is "$(find "$SP/ready" -name '*.pga.zst' | grep -c .)" 2 "and it is sealed"
is "$(find "$SP/tmp" -name '*.part' | grep -c .)" 0 "nothing left open"

done_testing
