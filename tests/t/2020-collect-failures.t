#!/usr/bin/env bash
# pga collect when things go wrong: bad configuration (caught before any
# connection), a port that accepts but never answers, a refused port, a
# revoked privilege, a held lock, and a second collector on the same spool.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

# A TCP port that accepts connections and never says a word; every accept
# is counted in $1.count.
blackhole() {
	python3 - "$1" <<'PY' >/dev/null 2>&1 &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0))
s.listen(64)
open(sys.argv[1] + '.port', 'w').write(str(s.getsockname()[1]))
held, n = [], 0
while True:
    c, _ = s.accept()
    held.append(c)
    n += 1
    open(sys.argv[1] + '.count', 'w').write(str(n))
PY
	at_exit "kill $!"
	for _ in $(seq 50); do [ -s "$1.port" ] && break; sleep 0.1; done
}
accepted() { cat "$1.count" 2>/dev/null || echo 0; }

blackhole "$TEST_TMP/hole"
HOLE=$(cat "$TEST_TMP/hole.port")
SP=$TEST_TMP/spool
conf() { printf '[global]\nspool-path = %s\ncollector = f\n' "$SP"; cat; }

# ---- bad configuration: one line naming file and line, and no connection ----
conf >"$TEST_TMP/c1.conf" <<CONF
[target:hole]
conninfo = host=127.0.0.1 port=$HOLE dbname=postgres
[target:bad]
conninfo = host=127.0.0.1 port=$HOLE
bogus = 1
CONF
run_fails 1 "an unknown key" pga -c "$TEST_TMP/c1.conf" collect
like "$(last_err)" "c1.conf:8: unknown key 'bogus' in \[target:bad\]" "names file, line and key"

conf >"$TEST_TMP/c2.conf" <<CONF
[target:hole]
conninfo = host=127.0.0.1 port=$HOLE dbname=postgres

[target:bad]
conninfo = host=127.0.0.1 port=$HOLE nosuchoption=1 password=s3cret
CONF
chmod 600 "$TEST_TMP/c2.conf"	# it holds a password
run_fails 1 "a conninfo libpq cannot parse" pga -c "$TEST_TMP/c2.conf" collect
like "$(last_err)" "c2.conf:8: \[target:bad\] invalid conninfo: invalid connection option \"nosuchoption\"" \
	"names file, line of the conninfo, target and libpq's reason"
is "$(grep -c . "$ERR")" 1 "one line"
ok $(grep -q s3cret "$ERR"; [ $? -ne 0 ]; echo $?) "no password in it"

conf >"$TEST_TMP/c3.conf" <<CONF
query-stats-limit = 50
[target:hole]
conninfo = host=127.0.0.1 port=$HOLE dbname=postgres
CONF
run_fails 1 "query-stats-limit out of range" pga -c "$TEST_TMP/c3.conf" collect
like "$(last_err)" "c3.conf:4: key 'query-stats-limit': .*from 100 to 10000, not '50'" "names file, line and range"

conf >"$TEST_TMP/c4.conf" <<CONF
[target:hole]
conninfo = host=127.0.0.1 port=$HOLE dbname=postgres
[target:t2]
conninfo = host=127.0.0.1 port=$HOLE dbname=*
databases = a,b
CONF
run_fails 1 "dbname=* with a database list" pga -c "$TEST_TMP/c4.conf" collect
like "$(last_err)" "c4.conf:8: \[target:t2\] 'databases' lists databases but the conninfo says dbname=\*" \
	"names the databases line"
run_fails 1 "--target that is not configured" pga -c "$TEST_TMP/c4.conf" collect --target nope
like "$(last_err)" "no target 'nope'" "names it"
for w in 257 -1 many 4x ''; do	# 0 is 'automatic', as the workers key says
	run_fails 64 "--workers '$w' is a usage error" pga -c "$TEST_TMP/c4.conf" collect --workers "$w"
	like "$(last_err)" "invalid --workers '$w': 'workers' must be an integer from 0 to 256" \
		"  with the key's bounds"
done
PGA_WORKERS=300 "$PGA_BIN" -c "$TEST_TMP/c4.conf" collect >"$OUT" 2>"$ERR"
is $? 64 "PGA_WORKERS=300 is a usage error too"
like "$(last_err)" "environment variable PGA_WORKERS: 'workers' must be an integer from 0 to 256" \
	"  naming the variable"
is "$(accepted "$TEST_TMP/hole")" 0 "not a single connection was attempted by any of them"
ok $([ ! -d "$SP" ]; echo $?) "nor was the spool created"

# ---- a blackhole, a refused port and a good server in one cycle ----
pg_start good
for i in 1 2 3; do pg_psql good postgres -c "CREATE DATABASE g$i"; done
pg_psql good postgres -c "CREATE EXTENSION pg_stat_statements"
conf >"$TEST_TMP/pga.conf" <<CONF
target-deadline = 2s
connect-timeout = 30s
[target:hole]
conninfo = host=127.0.0.1 port=$HOLE dbname=postgres connect_timeout=30
[target:refused]
conninfo = host=127.0.0.1 port=1 dbname=postgres
[target:good]
conninfo = $(pg_conninfo good '*')
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf
start=$(date +%s%N)
run_fails 2 "partial success is exit 2" pga collect
el=$((($(date +%s%N) - start) / 1000000))
ok $([ "$el" -ge 1900 ] && [ "$el" -lt 4000 ]; echo $?) "the cycle ended at the 2 s deadline (${el} ms)"
like "$(last_err)" "target 'hole': could not connect to '[^']*port=$HOLE[^']*': no answer before the deadline" \
	"the blackhole is named and why"
like "$(last_err)" "target 'refused': could not connect to '[^']*port=1[^']*': .*refused" "so is the refused port"
like "$(last_err)" "targets 1 ok, 2 failed, 0 skipped; 4 databases" "the summary counts them"
helper seg-blocks "$SP" >"$TEST_TMP/b1"
is "$(cut -f2 "$TEST_TMP/b1" | sort -u)" good "only the good target has blocks"
is "$(awk -F'\t' '$1 == "pg_stat_user_tables" { print $3 }' "$TEST_TMP/b1" | sort | tr '\n' ' ')" \
	"g1 g2 g3 postgres " "and all its databases"
is "$(pga spool ls | awk '$1 == "targets_ok" || $1 == "targets_failed" { print $1 "=" $2 }' | tr '\n' ' ')" \
	"targets_ok=1 targets_failed=2 " "counted in the spool counters"

rm -rf "$SP"
run_fails 1 "only dead targets: nothing collected is exit 1" pga collect --target hole --target refused

# ---- a metric that fails does not take the others with it ----
pg_psql good postgres -c "CREATE ROLE mon LOGIN IN ROLE pg_monitor" \
	-c "REVOKE SELECT ON pg_catalog.pg_stat_archiver FROM PUBLIC"
pg_psql good g2 -c "CREATE TABLE busy(a int); CREATE TABLE calm(a int)"
# an exclusive lock that outlives the cycle: table_sizes in g2 waits lock_timeout
pg_psql good g2 -c "BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(20)" 2>/dev/null &
LOCKER=$!
at_exit "kill $LOCKER"
for _ in $(seq 50); do
	[ "$(pg_psql good postgres -At -c "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation IS NOT NULL")" -ge 1 ] && break
	sleep 0.1
done
conf >"$TEST_TMP/mon.conf" <<CONF
lock-timeout = 300ms
[target:good]
conninfo = $(pg_conninfo good '*') user=mon
CONF
rm -rf "$SP"
run_fails 2 "a revoked view and a held lock are metric errors: exit 2" pga -c "$TEST_TMP/mon.conf" collect
like "$(last_err)" "target 'good' metric 'pg_stat_archiver': .*permission denied for view pg_stat_archiver \(SQLSTATE 42501\)" \
	"the revoked metric is named with the server's reason"
like "$(last_err)" "target 'good' database 'g2' metric 'table_sizes': .*lock timeout \(SQLSTATE 55P03\)" \
	"the locked one too"
like "$(last_err)" "targets 1 ok, 0 failed, 0 skipped; 4 databases, [0-9]+ blocks, .*; 2 metric errors" \
	"the target still counts as collected, with 2 metric errors"
helper seg-blocks "$SP" >"$TEST_TMP/b2"
is "$(awk -F'\t' '$1 == "pg_stat_archiver"' "$TEST_TMP/b2" | grep -c .)" 0 "no pg_stat_archiver block"
is "$(awk -F'\t' '$1 == "table_sizes" { print $3 }' "$TEST_TMP/b2" | sort | tr '\n' ' ')" "g1 g3 postgres " \
	"table_sizes from every database but the locked one"
is "$(awk -F'\t' '$3 == "g2" { print $1 }' "$TEST_TMP/b2" | sort | tr '\n' ' ')" \
	"$(helper catalog-sql 150000 1.10 | awk -F'\t' '$2 == "database" && $1 != "table_sizes" { print $1 }' |
		sort | tr '\n' ' ')" "g2's other metrics are all there"
is "$(awk -F'\t' '$1 == "pg_stat_user_tables" && $3 == "g2" { print $4 }' "$TEST_TMP/b2")" 2 \
	"with their rows (the locked table included)"
helper catalog-sql 150000 1.10 | awk -F'\t' '$2 == "cluster" { print $1 }' | grep -v -e pg_stat_archiver \
	>"$TEST_TMP/cluster.metrics"
ok $([ "$(grep -c . "$TEST_TMP/cluster.metrics")" -ge 10 ]; echo $?) \
	"the catalog has cluster metrics ($(grep -c . "$TEST_TMP/cluster.metrics"))"
is "$(while read -r m; do awk -F'\t' -v m="$m" '$1 == m' "$TEST_TMP/b2" | grep -q . || echo "$m"; done \
	<"$TEST_TMP/cluster.metrics")" "" "every other cluster metric is there"
is "$(pga -c "$TEST_TMP/mon.conf" spool ls | awk '$1 == "metric_errors" { print $2 }')" 2 "counted: metric_errors 2"
# the same in --loop, where a session's metrics go in one batch (one round
# trip): a failure ends its batch, the rest of the session goes on
rm -rf "$SP"
run_ok "--loop: two cycles with the same two metric errors, in batches (counted, the loop goes on)" \
	pga -c "$TEST_TMP/mon.conf" --log-level trace collect --loop --cycles 2 --interval 0.1s
is "$(grep -c "target 'good' database 'g2' metric 'table_sizes': .*lock timeout" "$ERR") $(
	grep -c "target 'good' metric 'pg_stat_archiver': .*permission denied" "$ERR") $(
	grep -c 'cycle [12]: .* 2 metric errors' "$ERR")" "2 2 2" "--loop: both named each cycle, 2 errors a cycle"
helper seg-blocks "$SP" >"$TEST_TMP/b3"
is "$(awk -F'\t' '$3 == "g2" { print $1 }' "$TEST_TMP/b3" | sort | uniq -c | awk '{ print $1, $2 }' |
	tr '\n' ' ')" "$(awk -F'\t' '$3 == "g2" { print ($1 ~ /_bloat$/ ? 1 : 2), $1 }' "$TEST_TMP/b2" |
	sort -k2 | tr '\n' ' ')" "--loop: each of g2's other metrics in both cycles (the bloat ones at the first, of every 60th)"
is "$(awk -F'\t' '$3 == "g2" { print $1 }' "$TEST_TMP/b2" | while read -r m; do
	grep -q "database g2 metric '$m': [0-9]* bytes, one of a batch of [0-9]*, prepared" "$ERR" || echo "$m"
	done)" "" "--loop: those after the failed one in a batch of their own"
is "$(awk -F'\t' '$1 == "pg_stat_user_tables" && $3 == "g2" { print $4 }' "$TEST_TMP/b3" | tr '\n' ' ')" "2 2 " \
	"--loop: with their rows"
pg_psql good g2 -At -c "SELECT pg_terminate_backend(pid) FROM pg_locks
	WHERE relation = 'busy'::regclass AND mode = 'AccessExclusiveLock'" >/dev/null
wait $LOCKER 2>/dev/null

# ---- the spool cannot take the data: quota, then a full disk ----
conf >"$TEST_TMP/small.conf" <<CONF
spool-max = 16K
spool-full = block
[target:good]
conninfo = $(pg_conninfo good '*')
CONF
rm -rf "$SP"
run_fails 1 "spool-max reached with spool-full = block: exit 1" pga -c "$TEST_TMP/small.conf" collect
like "$(last_err)" "spool.*(full|spool-max)" "the error says the spool is full"
ok $([ "$(pga -c "$TEST_TMP/small.conf" spool ls | awk '$1 == "blocks_refused" { print $2 }')" -ge 1 ]; echo $?) \
	"the refused block is counted"
run_ok "what is in the spool verifies" pga -c "$TEST_TMP/small.conf" spool verify
rm -rf "$SP"
FAILWRITE_MATCH="$SP/" FAILWRITE_AFTER=30000 LD_PRELOAD="$(failwrite_preload)" \
	"$PGA_BIN" -c "$TEST_TMP/pga.conf" collect --target good >"$OUT" 2>"$ERR"
is "$?" 1 "disk full in the middle of a cycle: exit 1"
like "$(last_err)" "No space left on device" "says so"
run_ok "the next run recovers the spool and collects" pga -c "$TEST_TMP/pga.conf" collect --target good
run_ok "every segment verifies" pga -c "$TEST_TMP/pga.conf" spool verify
ok $(helper seg-blocks "$SP" | awk -F'\t' '$1 == "pg_stat_database"' | grep -q .; echo $?) "and the new cycle is in it"

# ---- one collector per spool ----
"$PGA_BIN" -c "$TEST_TMP/mon.conf" collect --loop --interval 1h 2>"$TEST_TMP/loop.err" &
LOOP=$!
for _ in $(seq 100); do grep -q "cycle 1" "$TEST_TMP/loop.err" && break; sleep 0.1; done
run_fails 1 "a second collector on the same spool is refused" pga -c "$TEST_TMP/mon.conf" collect
like "$(last_err)" "another pga collect \(or spool writer\) is running: spool '[^']*' is in use by another writer \(pid $LOOP\)" \
	"saying who holds it"
kill -TERM $LOOP
wait $LOOP
is "$?" 0 "the loop exits 0 on SIGTERM"

done_testing
