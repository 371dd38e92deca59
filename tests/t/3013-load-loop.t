#!/usr/bin/env bash
# pga load --loop, the central side running itself: from a directory and a
# bucket prefix (dest:NAME), new segments are loaded pass after pass and
# what the ledger holds is never read (downloaded) again; a pass past
# load-deadline leaves the rest for the next; a database that goes away is
# retried with a growing backoff and the loop carries on when it is back;
# SIGHUP reloads the configuration (a broken one is refused, the old one
# kept); central retention (--retain) runs after each pass; SIGTERM ends
# it with exit 0.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

pg_start central
q() { pg_psql central c -At -c "$1"; }
pg_psql central postgres -c "CREATE DATABASE c"
DB=$(pg_conninfo central c)
pga load --init --db "$DB" >/dev/null 2>&1 || { echo "Bail out! init"; exit 1; }

# two batches of one archive: the first 12 hours, then the rest
ALL=$TEST_TMP/all
helper gen-archive "$ALL" days=1 collectors=2 dbs=1 interval=3600 seg-age=7000 \
	tables=2 indexes=2 sys-tables=2 statements=4 threads=1 >/dev/null || { echo "Bail out! gen"; exit 1; }
NSEG=$(find "$ALL" -name '*.pga.zst' | wc -l)
DIR=$TEST_TMP/inbox
half() {	# copy the segments created before 12:00 (1) or after (2) into $1
	(cd "$ALL" && find . -name '*.pga.zst' | sort) | while read -r f; do
		h=${f##*T}; h=${h:0:2}
		if { [ "$2" = 1 ] && [ "$h" -lt 12 ]; } || { [ "$2" = 2 ] && [ "$h" -ge 12 ]; }; then
			mkdir -p "$1/$(dirname "$f")" && cp "$ALL/$f" "$1/$f"
		fi
	done
}
half "$DIR" 1
FIRST=$(find "$DIR" -name '*.pga.zst' | wc -l)
CONF=$TEST_TMP/pga.conf
printf '[global]\ncentral = %s\nload-from = %s\nload-interval = 300ms\n' "$DB" "$DIR" >"$CONF"
chmod 600 "$CONF"
LOG=$TEST_TMP/loop.log
wait_for() {	# SECONDS CMD...: until CMD succeeds
	local n=$(($1 * 10)); shift
	for _ in $(seq 1 $n); do "$@" && return 0; sleep 0.1; done
	return 1
}
segs() { q "SELECT count(*) FROM pga.segments WHERE complete"; }
has_segs() { [ "$(segs)" -ge "$1" ]; }

"$PGA_BIN" -c "$CONF" --log-level debug load --loop >"$TEST_TMP/loop.out" 2>"$LOG" &
PID=$!
at_exit "kill $PID 2>/dev/null"
wait_for 30 has_segs "$FIRST"; ok $? "the first pass loads what is there ($FIRST segments)"
half "$DIR" 2
wait_for 30 has_segs "$NSEG"; ok $? "a later pass loads what arrived since (all $NSEG)"
sleep 1
like "$(tail -n 1 "$TEST_TMP/loop.out")" "loaded 0 of 0 segments .*, $NSEG in the ledger already, not read again" \
	"passes after that read nothing the ledger holds"

# SIGHUP: a broken configuration is refused, a good one applied
printf '[global\n' >"$TEST_TMP/broken"; cp "$CONF" "$TEST_TMP/good"; cp "$TEST_TMP/broken" "$CONF"; chmod 600 "$CONF"
kill -HUP $PID
wait_for 10 grep -q "configuration not reloaded, keeping the previous one" "$LOG"; ok $? "a broken configuration is refused"
kill -0 $PID; ok $? "and the loop goes on"
printf '[global]\ncentral = %s\nload-from = %s\nload-interval = 200ms\nload-retain = 2d\n' "$DB" "$DIR" >"$CONF"
kill -HUP $PID
wait_for 10 grep -q "configuration reloaded from '$CONF': loading from '$DIR' every 0.200 s" "$LOG"
ok $? "a good one is applied"
# the archive is from November: two days of retention drop every partition
wait_for 20 grep -q "retention: dropped partition 'pg_stat_user_tables_p20261130'" "$LOG"
ok $? "central retention runs from the loop (load-retain)"
is "$(q "SELECT count(*) FROM pga.pg_stat_user_tables")" 0 "whole days dropped"

# the database goes away: passes fail, retried with a growing backoff
pg_stop central immediate
wait_for 20 grep -q "failed (3 in a row): trying again in" "$LOG"; ok $? "failed passes back off"
waits=$(grep -o "failed ([0-9]* in a row): trying again in [0-9.]* s" "$LOG" | head -4 | sed 's/.* in \([0-9.]*\) s/\1/' | paste -sd' ')
diag "backoff waits: $waits"
kill -0 $PID; ok $? "the loop lives on without its database"
pg_restart central
q "DELETE FROM pga.segments WHERE seq % 2 = 0" >/dev/null
wait_for 40 has_segs "$NSEG"; ok $? "once it is back, the loop catches up (what was deleted is loaded again)"

kill -TERM $PID
wait $PID
is $? 0 "SIGTERM ends the loop, exit 0"

# a bucket prefix: what is loaded is never downloaded again
if s3srv_available && s3srv_start arch; then
	SP=$TEST_TMP/spool
	mkdir -p "$SP" && cp -r "$ALL" "$SP/ready"
	pg_psql central postgres -c "CREATE DATABASE b"
	B=$(pg_conninfo central b)
	ship_conf "$TEST_TMP/s3.conf" "$SP" "spool-retain = 7d" "central = $B" "load-interval = 200ms" \
		"[dest:s3]" "url = s3://arch/p" "endpoint = $S3_URL" "path-style = on" \
		"access-key-id = S3RVER" "secret-access-key = S3RVER"
	pga -c "$TEST_TMP/s3.conf" ship >/dev/null 2>&1
	pga load --init --db "$B" >/dev/null 2>&1
	run_ok "three passes from dest:s3" pga -c "$TEST_TMP/s3.conf" --log-level debug load --loop \
		--from dest:s3 --passes 3
	gets=$(grep -c "GET http://127.0.0.1:$S3_PORT/arch/p/site" "$ERR")
	is "$gets" "$NSEG" "every segment downloaded once over three passes"
	like "$(last_out)" "loaded 0 of 0 segments .*, $NSEG in the ledger already" "the last pass downloads none"
	is "$(pg_psql central b -At -c "SELECT count(*) FROM pga.segments WHERE complete")" "$NSEG" "all loaded"
	# the deadline: a pass takes no new segment once it is past
	pg_psql central b -c "DELETE FROM pga.segments" >/dev/null
	run_ok "a pass with a deadline" pga -c "$TEST_TMP/s3.conf" load --loop --from dest:s3 --passes 1 --deadline 1ms
	like "$(last_out)" "load-deadline reached: the rest is for the next pass" "stops at its deadline"
	[ "$(pg_psql central b -At -c "SELECT count(*) FROM pga.segments")" -lt "$NSEG" ]
	ok $? "and leaves the rest for the next pass"
fi

run_fails 64 "--interval without --loop" pga load --interval 1s --db "$DB"
run_fails 64 "--loop with --until" pga load --loop --until -1h --db "$DB"
done_testing
