#!/usr/bin/env bash
# pga report over 30 days x 100 databases at 60 s: seconds, not minutes.
#
# The history is written by the test helper straight into the central
# tables (pga-test-helper report-history: every metric the report reads,
# one table and two indexes per database, 200 statements), not through
# segments: loading 43,200 snapshots through pga load would measure the
# loader.  Figures: the report's time (best of BENCH_RUNS, the first, cold
# run shown too) and the page's size, beside the baseline of ONE chart
# (transactions/s) computed the naive way, from pg_stat_database_delta over
# the window.  Target: the whole report faster than that one chart (>= 1x).
# The plan of the report's heaviest query is printed: its reads go through
# the series indexes.
#
#   BENCH_REPORT_DAYS=30 BENCH_REPORT_DBS=100 BENCH_REPORT_TABLES=1 BENCH_RUNS=3
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/../tests/lib/tap.sh" >/dev/null
. "$BENCH_DIR/../tests/lib/pg.sh"
PGA_BIN=${PGA_BUILD:-$BENCH_DIR/../build}/pga
HELPER=${PGA_BUILD:-$BENCH_DIR/../build}/pga-test-helper
DAYS=${BENCH_REPORT_DAYS:-30}
DBS=${BENCH_REPORT_DBS:-100}
TABLES=${BENCH_REPORT_TABLES:-1}
RUNS=${BENCH_RUNS:-3}

# rows of a new partition skip WAL at wal_level minimal; indexes are built at ATTACH
pg_start bench 15 "wal_level = minimal" "max_wal_senders = 0" "shared_buffers = 1GB" \
	"maintenance_work_mem = 512MB" "synchronous_commit = off" >/dev/null
pg_psql bench postgres -c "CREATE DATABASE c" >/dev/null
DB=$(pg_conninfo bench c)
q() { pg_psql bench c -At -c "$1"; }
"$PGA_BIN" load --init --db "$DB" >/dev/null 2>&1 || { echo "bench: init failed"; exit 1; }

# two writers, about the same number of rows each
END=$(date -u +%FT%H:%M:00Z)
A=pg_stat_user_indexes,pg_stat_statements,pg_stat_database,snapshot_status,pg_stat_wal,pg_stat_checkpointer,xid_wraparound,activity_summary,pg_stat_replication
B=index_sizes,table_sizes,pg_database,pg_stat_user_tables,pg_replication_slots,pg_stat_statements_info,pg_stat_statements_texts,pg_settings,postgres_log
s=$(date +%s)
"$HELPER" report-history "$DB" "$DAYS" "$DBS" 60 "$TABLES" 200 "$END" "$A" >"$TEST_TMP/a.out" 2>&1 &
pa=$!
"$HELPER" report-history "$DB" "$DAYS" "$DBS" 60 "$TABLES" 200 "$END" "$B" >"$TEST_TMP/b.out" 2>&1 ||
	{ echo "bench: history failed: $(cat "$TEST_TMP/b.out")"; exit 1; }
wait $pa || { echo "bench: history failed: $(cat "$TEST_TMP/a.out")"; exit 1; }
q "VACUUM ANALYZE" >/dev/null
rows=$(q "SELECT sum(reltuples)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE n.nspname = 'pga' AND c.relkind = 'r'")
size=$(q "SELECT pg_size_pretty(pg_database_size(current_database()))")
echo "history: $DAYS days x $DBS databases at 60 s, $rows rows, $size, written in $(( $(date +%s) - s )) s"

SINCE=$(date -u -d "$END - $DAYS days" +%FT%TZ)
page=$TEST_TMP/report.html
run() { "$PGA_BIN" report --db "$DB" -o "$page" --since "$SINCE" --until "$END"; }
s=$(date +%s.%N)
run >"$TEST_TMP/first.out" 2>&1 || { echo "bench: report failed: $(cat "$TEST_TMP/first.out")"; exit 1; }
t_first=$(echo "$(date +%s.%N) - $s" | bc)
t_report=$(best_of "$RUNS" run) || exit 1
bytes=$(stat -c %s "$page")
grep -q 'class="error"' "$page" && { echo "bench: a section of the page failed"; exit 1; }
echo "report: $(cat "$TEST_TMP/first.out")"

# the baseline: one chart (transactions/s in 120 buckets) from the delta view
naive() {
	q "SELECT b, sum(x) FROM (SELECT width_bucket(extract(epoch FROM snapshot_time),
		extract(epoch FROM '$SINCE'::timestamptz), extract(epoch FROM '$END'::timestamptz), 120) AS b,
		(xact_commit + xact_rollback) / extract(epoch FROM elapsed) AS x
		FROM pga.pg_stat_database_delta WHERE collector_id = 1 AND server_id = 1
		AND snapshot_time > '$SINCE') d GROUP BY b" >/dev/null
}
t_naive=$(best_of 1 naive) || exit 1
kib=$((bytes / 1024))
echo "report ${t_report}s (first, cold run ${t_first}s), page ${kib} KiB; one chart from the delta view ${t_naive}s"
report "pga report ${DAYS}d x ${DBS} dbs at 60s, page ${kib} KiB" "$t_report" s \
	"one chart from pg_stat_database_delta" "$t_naive" 0 1

# the plan of the heaviest query
"$PGA_BIN" report --db "$DB" -o "$TEST_TMP/explained.html" --since "$SINCE" --until "$END" \
	--explain "$TEST_TMP/plans.txt" >"$TEST_TMP/ex.out" 2>&1
heaviest=$(awk '/^-- / { name = substr($0, 4) } /Execution Time/ { t = $3 + 0; if (t > max) { max = t; best = name } }
	END { print best }' "$TEST_TMP/plans.txt")
echo "plan of the heaviest query, '$heaviest' (EXPLAIN ANALYZE, warm):"
awk -v n="-- $heaviest" '$0 == n { p = 1; next } /^-- / { p = 0 } p' "$TEST_TMP/plans.txt" |
	grep -E "Scan|Loop|Append|Aggregate|Execution Time|Planning Time" | grep -v "Index Cond" |
	sed "s/^/  /" | cut -c1-170 | awk "!seen[\$0]++" | head -40
cp "$TEST_TMP/plans.txt" "$BENCH_DIR/report-plans.txt" 2>/dev/null &&
	echo "every query's plan: bench/report-plans.txt"
exit 0
