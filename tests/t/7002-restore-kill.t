#!/usr/bin/env bash
# A restore killed (SIGKILL) at 20 random points and run again each time,
# with the same arguments: the last run completes, and the database holds
# exactly what one uninterrupted restore gives, nothing twice (every
# table's rows, no duplicate row, the ledger, no day table left unattached).
# Each rerun says how much was there already.  PGA_TORTURE=1: 200 kills.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central "" "wal_level = minimal" "max_wal_senders = 0"
q() { pg_psql central "$1" -At -c "$2"; }
mkdb() { pg_psql central postgres -c "CREATE DATABASE $1"; pg_conninfo central "$1"; }
KILLS=20
[ "${PGA_TORTURE:-0}" = 1 ] && KILLS=200

ARCH=$TEST_TMP/arch
helper gen-archive "$ARCH" days=4 collectors=2 dbs=2 interval=900 seg-age=3000 lag=600 \
	tables=4 indexes=4 sys-tables=3 statements=10 threads=1 >/dev/null || { echo "Bail out! gen-archive"; exit 1; }

rows_dump() {	# every table: rows (collector and server by name), and rows counted twice
	q "$1" "SELECT md5(string_agg(m.metric || ':' || x.h, ',' ORDER BY m.metric)), sum(x.dup::int)
	        FROM pga.metrics m, LATERAL (SELECT (xpath('/row/h/text()', q))[1]::text AS h,
	          (xpath('/row/d/text()', q))[1]::text AS dup FROM query_to_xml(format(
	          'SELECT md5(coalesce(string_agg(r, '','' ORDER BY r), '''')) AS h, count(*) - count(DISTINCT r)
	             AS d FROM (SELECT (to_jsonb(t) - ''collector_id'' - ''server_id'')::text || c.collector
	             || s.host AS r FROM pga.%I t JOIN pga.collectors c USING (collector_id)
	             JOIN pga.servers s USING (server_id)) z', m.metric), false, true, '') q) x"
	q "$1" "SELECT count(*), count(*) FILTER (WHERE complete), md5(string_agg(c.collector || seq ||
	        encode(sha256, 'hex'), ',' ORDER BY c.collector, seq)) FROM pga.segments
	        JOIN pga.collectors c USING (collector_id)"
	q "$1" "SELECT count(*) FROM pga.segment_windows"
	q "$1" "SELECT count(*) FROM pg_class c JOIN pg_constraint k ON k.conrelid = c.oid
	        WHERE k.conname = 'pga_day_bound'"
}

REF=$(mkdb ref)
s=$(date +%s%N)
run_ok "an uninterrupted restore (the reference)" pga restore --db "$REF" --from "$ARCH" --jobs 2
T=$((($(date +%s%N) - s) / 1000000))
WANT=$(rows_dump ref)
like "$WANT" "^[0-9a-f]{32}\|0" "the reference has no duplicate rows"
diag "an uninterrupted restore takes $T ms; killing one $KILLS times"

# Each run is killed at a random point of a whole restore's time; a run that
# finished before its kill is checked and the database started afresh, so
# the kills land all over a restore's life, most after earlier kills.
gen=0 killed=0 finished=0 said=0 bad=0
fresh() { gen=$((gen + 1)); DB=$(mkdb victim$gen); }
fresh
while [ $killed -lt $KILLS ]; do
	at=$(((RANDOM * 32768 + RANDOM) % T))
	"$PGA_BIN" restore --db "$DB" --from "$ARCH" --jobs 2 >"$TEST_TMP/run.out" 2>"$TEST_TMP/run.err" &
	pid=$!
	sleep "$(awk -v ms=$at 'BEGIN { printf "%.3f", ms / 1000 }')"
	if kill -9 $pid 2>/dev/null; then
		killed=$((killed + 1))
		wait $pid 2>/dev/null
		continue
	fi
	wait $pid 2>/dev/null
	finished=$((finished + 1))
	grep -q "of this source already: continuing" "$TEST_TMP/run.err" && said=$((said + 1))
	[ "$(rows_dump victim$gen)" = "$WANT" ] || { bad=$((bad + 1)); diag "run $gen differs"; }
	fresh
done
diag "$killed runs killed, $finished completed after earlier kills ($said said what was there)"
is "$bad" 0 "every restore completed after kills holds exactly the reference"
# the last kill may have come before anything committed: then there is nothing to say
had=$(q victim$gen "SELECT count(*) FROM pga.segments" 2>/dev/null || echo 0)
run_ok "the last run completes" pga restore --db "$DB" --from "$ARCH" --jobs 2
if [ "${had:-0}" -gt 0 ]; then
	like "$(last_err)" "holds [0-9]+ segments \\([0-9]+ rows\\) of this source already: continuing" \
		"and says how much was there ($had segments)"
else
	! grep -q "of this source already" "$ERR"
	ok $? "the last kill left nothing: nothing said to be there"
fi
like "$(last_out)" "restored [0-9]+ of [0-9]+ segments \\([0-9]+ already loaded" "counts what was already loaded"
is "$(rows_dump victim$gen)" "$WANT" "exactly the uninterrupted restore: every row once, the ledger, nothing unattached"

done_testing
