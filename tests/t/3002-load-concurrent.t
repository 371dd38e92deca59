#!/usr/bin/env bash
# Two loaders (each with two connections) on the same 200 segments at the
# same time: every segment loaded exactly once, no deadlock, no error.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
SP=$TEST_TMP/spool
N=200 BLOCKS=3 ROWS=25

# segments over five days, so the loaders also race to create partitions;
# two metrics, one of which no loader has seen yet (a custom table created
# under contention)
helper load-spool "$SP" site-c $N $BLOCKS $ROWS 2026-11-20T00:00:00Z 601 ||
	{ echo "Bail out! load-spool failed"; exit 1; }
helper load-spool "$SP" site-d 20 2 10 2026-11-21T00:00:00Z 3600 other_metric ||
	{ echo "Bail out! load-spool failed"; exit 1; }
is "$(find "$SP/ready" -name '*.pga.zst' | wc -l)" $((N + 20)) "$((N + 20)) sealed segments"
run_ok "init" pga load --init --db "$DB"

pga load --db "$DB" --from "$SP" --jobs 2 --json >"$TEST_TMP/a.json" 2>"$TEST_TMP/a.err" &
pa=$!
pga load --db "$DB" --from "$SP" --jobs 2 --json >"$TEST_TMP/b.json" 2>"$TEST_TMP/b.err" &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
is "$ra" 0 "first loader exits 0"
is "$rb" 0 "second loader exits 0"
[ "$ra$rb" = 00 ] || diag "$(cat "$TEST_TMP/a.err" "$TEST_TMP/b.err" | tail -20)"
ok $(cat "$TEST_TMP/a.err" "$TEST_TMP/b.err" | grep -qiE "deadlock|error"; [ $? -ne 0 ]; echo $?) \
	"no deadlock and no error reported"
la=$(grep -o '"loaded":[0-9]*' "$TEST_TMP/a.json" | cut -d: -f2)
lb=$(grep -o '"loaded":[0-9]*' "$TEST_TMP/b.json" | cut -d: -f2)
is "$((la + lb))" $((N + 20)) "together they loaded each segment once ($la + $lb)"
ok $([ "$la" -gt 0 ] && [ "$lb" -gt 0 ]; echo $?) "and both did part of the work"
da=$(grep -o '"duplicate":[0-9]*' "$TEST_TMP/a.json" | cut -d: -f2)
db=$(grep -o '"duplicate":[0-9]*' "$TEST_TMP/b.json" | cut -d: -f2)
is "$((la + da))" $((N + 20)) "the first saw every segment as loaded by it or by the other"
is "$((lb + db))" $((N + 20)) "so did the second"

is "$(q "SELECT count(*) FROM pga.segments")" $((N + 20)) "ledger: one row per segment"
is "$(q "SELECT count(*) FROM pga.load_test")" $((N * BLOCKS * ROWS)) "every row once"
is "$(q "SELECT count(*) FROM (SELECT DISTINCT id FROM pga.load_test) x")" $((N * BLOCKS * ROWS)) \
	"no row twice"
is "$(q "SELECT count(*) FROM pga.other_metric")" 400 "the custom metric too"
is "$(q "SELECT count(*) FROM pga.gaps")" 0 "no gaps"
is "$(q "SELECT count(*) FROM pga.chain_breaks")" 0 "the chain is whole"
is "$(q "SELECT count(*) FROM pg_inherits WHERE inhparent = 'pga.load_test'::regclass")" 5 \
	"five daily partitions, each created once"

run_ok "a third run" pga load --db "$DB" --from "$SP" --jobs 3 --json
like "$(last_out)" "\"loaded\":0,\"duplicate\":$((N + 20))" "finds everything loaded"

done_testing
