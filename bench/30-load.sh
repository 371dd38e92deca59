#!/usr/bin/env bash
# Load throughput: `pga load` of spool segments (decompression, verification,
# per-row constant columns, ledger and commit per segment included) beside
# psql's \copy of the same rows into the same table, on the same server.
#
#   baseline A: \copy of the rows exactly as they end up in the table (the
#               block CSV with collector_id, server_id, snapshot_time, dbname
#               in front) into pga.pg_stat_user_tables, partitions existing:
#               the cost of the data itself.  Target: pga >= 0.9x of it.
#   baseline B: \copy of the bare block CSV (no constant columns) into an
#               unpartitioned copy of the table with the same index: the
#               strictest reading of "the same CSV".
# Each figure is the best of BENCH_RUNS runs on a truncated table.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/../tests/lib/tap.sh" >/dev/null
. "$BENCH_DIR/../tests/lib/pg.sh"
PGA_BIN=${PGA_BUILD:-$BENCH_DIR/../build}/pga
ROWS_PER_BLOCK=${BENCH_LOAD_ROWS:-15000}
BLOCKS=${BENCH_LOAD_BLOCKS:-20}
RUNS=${BENCH_RUNS:-7}

pg_start bench >/dev/null
pg_psql bench postgres -c "CREATE DATABASE c"
DB=$(pg_conninfo bench c)
q() { pg_psql bench c -At -c "$1"; }
SP=$TEST_TMP/spool
printf '[global]\ncollector = bench\nspool-path = %s\nsegment-max-size = 1G\n' "$SP" >"$TEST_TMP/pga.conf"
export PGA_CONFIG=$TEST_TMP/pga.conf

COLS=relid,schemaname,relname,seq_scan,last_seq_scan,seq_tup_read,idx_scan,last_idx_scan,idx_tup_fetch,n_tup_ins,n_tup_upd,n_tup_del,n_tup_hot_upd,n_tup_newpage_upd,n_live_tup,n_dead_tup,n_mod_since_analyze,n_ins_since_vacuum,last_vacuum,last_autovacuum,last_analyze,last_autoanalyze,vacuum_count,autovacuum_count,analyze_count,autoanalyze_count,total_vacuum_time,total_autovacuum_time,total_analyze_time,total_autoanalyze_time
# one block = one snapshot of ROWS_PER_BLOCK tables, counters growing
gen_block() {
	awk -v n="$ROWS_PER_BLOCK" -v b="$1" 'BEGIN { srand(b + 1);
	for (i = 0; i < n; i++) {
		r = 16384 + i; k = b * 1000 + i
		printf "%d,public,table_%d,%d,2026-11-20 10:%02d:%02d.%06d+00,%d,%d,,%d,%d,%d,%d,%d,,%d,%d,%d,%d,",
			r, i, k, b % 60, i % 60, i, k * 997, k * 3, k * 11, k * 7, k * 5, k, k * 2, k * 13, k, k % 977, k % 331
		printf "2026-11-19 03:%02d:00+00,2026-11-20 09:%02d:%02d.5+00,,2026-11-20 08:00:00+00,%d,%d,%d,%d,%.3f,%.3f,,\n",
			i % 60, b % 60, i % 60, b, k % 17, b % 5, k % 23, k * 0.25, k * 1.5
	} }'
}
rm -rf "$SP" "$TEST_TMP/bare.csv"
for b in $(seq 0 $((BLOCKS - 1))); do
	ts=$(date -u -d "@$((1795600800 + b * 60))" +%FT%TZ)
	gen_block "$b" | tee -a "$TEST_TMP/bare.csv" |
		"$PGA_BIN" spool put --metric pg_stat_user_tables --columns "$COLS" --database app --time "$ts" 2>/dev/null
done
ROWS=$((ROWS_PER_BLOCK * BLOCKS))
CSV_BYTES=$(stat -c %s "$TEST_TMP/bare.csv")
SEGS=$(find "$SP/ready" -name '*.pga.zst' | wc -l)
SEG_BYTES=$(find "$SP/ready" -name '*.pga.zst' -exec stat -c %s {} + | paste -sd+ | bc)
echo "data: $ROWS rows in $BLOCKS blocks, $SEGS segments; CSV $((CSV_BYTES / 1048576)) MiB, segments $((SEG_BYTES / 1048576)) MiB"

"$PGA_BIN" load --init --db "$DB" >/dev/null 2>&1 || { echo "bench: init failed"; exit 1; }
"$PGA_BIN" load --db "$DB" --from "$SP" >/dev/null 2>&1 || { echo "bench: first load failed"; exit 1; }
[ "$(q "SELECT count(*) FROM pga.pg_stat_user_tables")" = "$ROWS" ] || { echo "bench: row count differs"; exit 1; }
# what the rows look like in the table: the CSV with the constant columns in front
q "COPY (SELECT collector_id, server_id, snapshot_time, dbname, $COLS FROM pga.pg_stat_user_tables) TO STDOUT (FORMAT csv)" \
	>"$TEST_TMP/full.csv"
q "CREATE TABLE public.bare (LIKE pga.pg_stat_user_tables INCLUDING DEFAULTS INCLUDING INDEXES);
   ALTER TABLE public.bare ALTER collector_id DROP NOT NULL, ALTER server_id DROP NOT NULL,
   ALTER snapshot_time DROP NOT NULL" >/dev/null

reset_pga() { q "TRUNCATE pga.pg_stat_user_tables; DELETE FROM pga.segment_windows; DELETE FROM pga.segments" >/dev/null; }
run_pga() { reset_pga; "$PGA_BIN" load --db "$DB" --from "$SP" >/dev/null 2>&1; }

# Interleaved runs (this machine is shared and noisy), best of each; the
# table reset before each run is timed apart and not counted.
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || return 1; e=$(date +%s.%N); echo "$e - $s" | bc; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }
t_pga="" t_full="" t_bare=""
for _ in $(seq 1 "$RUNS"); do
	reset_pga
	t=$(secs "$PGA_BIN" load --db "$DB" --from "$SP") || { echo "bench: pga load failed"; exit 1; }
	t_pga=$(min "$t" "$t_pga")
	q "TRUNCATE pga.pg_stat_user_tables" >/dev/null
	t=$(secs pg_psql bench c -c "\\copy pga.pg_stat_user_tables (collector_id, server_id, snapshot_time, dbname, $COLS) FROM '$TEST_TMP/full.csv' (FORMAT csv)") ||
		{ echo "bench: psql copy failed"; exit 1; }
	t_full=$(min "$t" "$t_full")
	q "TRUNCATE public.bare" >/dev/null
	t=$(secs pg_psql bench c -c "\\copy public.bare ($COLS) FROM '$TEST_TMP/bare.csv' (FORMAT csv)") ||
		{ echo "bench: psql copy failed"; exit 1; }
	t_bare=$(min "$t" "$t_bare")
done
t_trunc=0
[ "$(q "SELECT count(*) FROM pga.pg_stat_user_tables")" = "$ROWS" ] || { echo "bench: full baseline row count"; exit 1; }
run_pga
[ "$(q "SELECT count(*) FROM pga.pg_stat_user_tables")" = "$ROWS" ] || { echo "bench: pga row count"; exit 1; }
echo "best of $RUNS: pga load ${t_pga}s, \\copy same table ${t_full}s, \\copy bare ${t_bare}s"

rate() { awk -v n="$1" -v t="$2" -v z="$t_trunc" -v d="$3" 'BEGIN { t -= z; if (t <= 0) t = 0.001; printf "%.1f", n / t / d }'; }
MB=1000000
report "pga load rows/s (CSV $((CSV_BYTES / MB)) MB)" "$(rate $ROWS "$t_pga" 1000)" krow/s \
	"psql \\copy same rows, same table" "$(rate $ROWS "$t_full" 1000)" 1 0.9
report "pga load MB/s of block CSV" "$(rate "$CSV_BYTES" "$t_pga" $MB)" MB/s \
	"psql \\copy same rows, same table" "$(rate "$CSV_BYTES" "$t_full" $MB)" 1 0.9
report "pga load rows/s" "$(rate $ROWS "$t_pga" 1000)" krow/s \
	"psql \\copy bare CSV, unpartitioned" "$(rate $ROWS "$t_bare" 1000)" 1
