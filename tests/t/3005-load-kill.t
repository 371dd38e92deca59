#!/usr/bin/env bash
# kill -9 of the loader in the middle of a COPY: the segment it was loading
# leaves nothing behind (no rows, no ledger row), what it committed before
# stays, and a rerun completes.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
SP=$TEST_TMP/spool
BIG=${PGA_TEST_BIG_ROWS:-1500000}
helper load-spool "$SP" site-k 2 2 100 2026-11-20T00:00:00Z 60 || { echo "Bail out! load-spool"; exit 1; }
helper load-spool "$SP" site-k 1 1 "$BIG" 2026-11-20T01:00:00Z 60 big_test || { echo "Bail out! load-spool"; exit 1; }
run_ok "init" pga load --init --db "$DB"

# the binary itself, not the pga() wrapper, so $! is the loader
"$PGA_BIN" load --db "$DB" --from "$SP" >"$TEST_TMP/load.out" 2>"$TEST_TMP/load.err" &
pid=$!
# wait until the big COPY is well under way
copying=1
for _ in $(seq 1 300); do
	n=$(q "SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy p
	       JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'pga load'" 2>/dev/null)
	if [ "${n:-0}" -gt 100000 ]; then copying=0; break; fi
	sleep 0.02
done
kill -9 $pid
wait $pid 2>/dev/null
ok $copying "the loader was killed in the middle of a COPY (${n:-0} rows sent)"
for _ in $(seq 1 100); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pga load'")" = 0 ] && break
	sleep 0.05
done
is "$(q "SELECT count(*) FROM pga.big_test")" 0 "no row of the interrupted segment"
is "$(q "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM pga.segments")" "1,2" \
	"the ledger has what was committed before, not the interrupted one"
is "$(q "SELECT count(*) FROM pga.load_test")" 400 "and all of their rows"

run_ok "a rerun" /usr/bin/time -f %M -o "$TEST_TMP/rss" "$PGA_BIN" load --db "$DB" --from "$SP" --json
like "$(last_out)" '"loaded":1,"duplicate":2' "loads only the interrupted segment"
is "$(q "SELECT count(*) FROM pga.big_test")" "$BIG" "every row of it"
csv_mb=$(($(grep -o '"bytes":[0-9]*' "$OUT" | cut -d: -f2) / 1048576))
rss_mb=$(($(tail -1 "$TEST_TMP/rss") / 1024))
ok $([ "$rss_mb" -lt 32 ]; echo $?) "memory stays flat: ${rss_mb} MiB resident for a ${csv_mb} MiB segment"
is "$(q "SELECT count(*) FROM pga.segments WHERE complete")" 3 "three segments in the ledger"

done_testing
