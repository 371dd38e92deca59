#!/usr/bin/env bash
# A collection cycle over 100 databases of one PostgreSQL 15, pga beside, in
# the same run and on the same server, with the same queries (the catalog's
# steady-state set: the 13 per-database queries in each database, the cluster
# queries and pg_stat_statements top 1000 once):
#   (a) one `psql -c "COPY ..." | zstd` per query, one after another
#   (b) one psql session per database, one after another, output | zstd
#   (c) the floor: the same COPYs over libpq from 8 threads, output dropped
#   (d) postgres_exporter (auto-discovered databases, the same queries in
#       its extended-query file) scraping with its connections kept, beside
#       pga --loop cycles (connections kept, compressing and fsyncing)
#   (e) the loop floor: the same queries over kept libpq connections (one
#       per database), 8 threads, prepared once per connection (and, beside
#       it, the same with COPY), output dropped, beside pga --loop cycles:
#       cycle time and client CPU (bench/21-scale.sh: the curve to 400
#       databases and where the CPU goes)
# plus pga's peak RSS with query-stats-limit = 10000 (11000 statements in
# pg_stat_statements, every text shipped) and its client CPU per database.
# Targets: one-shot <= 1.3x the floor and >= 30x faster than (a); --loop no
# slower than (d); RSS < 24 MiB; CPU < 2 ms per database per cycle; --loop
# <= 1.2x (e) and its client CPU within 2x the loop floor's (issue 12).
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/../tests/lib/tap.sh"
. "$BENCH_DIR/../tests/lib/pg.sh"
PGA=$PGA_BUILD/pga
HELPER=$PGA_BUILD/pga-test-helper
RUNS=${BENCH_RUNS:-5}
W=$TEST_TMP
ms() { awk -v s="$1" 'BEGIN { printf "%.0f", s * 1000 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- the server: 100 databases of 30 tables each, 11000 statements ----
pg_start b 15 "max_connections = 300" "track_functions = all" "pg_stat_statements.max = 12000" \
	"shared_buffers = 256MB"
psqlb() { pg_psql b "$@"; }
{
	for i in $(seq 1 30); do
		echo "CREATE TABLE t$i (id serial PRIMARY KEY, v text, n int);"
		echo "CREATE INDEX ON t$i (n); INSERT INTO t$i (v, n) SELECT 'x', g FROM generate_series(1, 50) g;"
	done
	echo "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'; SELECT f();"
} | psqlb postgres -q >/dev/null
for i in $(seq 1 99); do echo "CREATE DATABASE d$i TEMPLATE postgres STRATEGY FILE_COPY;"; done |
	psqlb postgres -q
psqlb postgres -q -c "CREATE EXTENSION pg_stat_statements"
python3 -c '
for c in range(1, 111):
    cols = ", ".join(str(i) for i in range(c))
    for k in range(1, 101):
        print("SELECT %s WHERE 1 IN (%s);" % (cols, ",".join(str(i) for i in range(k))))' |
	psqlb postgres -q >/dev/null
CI="host=$PG_SOCK_b port=$PG_PORT_b user=postgres"
DBS=$(psqlb postgres -At -c "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname <> 'postgres', datname")
NDB=$(echo "$DBS" | grep -c .)
SV=$(psqlb postgres -At -c "SHOW server_version_num")
EV=$(psqlb postgres -At -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'")
# the steady-state query set: settings, texts and bloat come at a lower
# cadence, metrics with a condition (a standby, a command in progress) run
# only where it holds
"$HELPER" catalog-sql --steady "$SV" "$EV" 1000 >"$W/q.txt"
NPERDB=$(grep -c '	database	' "$W/q.txt")
NCLUSTER=$(grep -c '	cluster	' "$W/q.txt")
echo "# $NDB databases, $NPERDB per-database queries each, $NCLUSTER cluster queries (pg_stat_statements top 1000 among them)"

conf() {
	cat <<CONF
[global]
spool-path = $W/spool
collector = bench
query-stats-limit = $1
[target:b]
conninfo = $CI dbname=*
CONF
}
conf 1000 >"$W/pga.conf"
conf 10000 >"$W/pga10k.conf"
export PGA_CONFIG=$W/pga.conf

# ---- pga one-shot and the floor, alternating, best of RUNS ----
gcc -O2 -o "$W/floor" "$BENCH_DIR/floor.c" -I"$(pg_config --includedir)" -lpq -lpthread || exit 1
"$PGA" collect 2>/dev/null	# first cycle: settings and all texts, state written
floor_best="" pga_best="" floor_cpu="" pga_cpu=""
for _ in $(seq "$RUNS"); do
	read -r t _ _ u s _ < <("$W/floor" 8 "$CI" "$W/q.txt" $DBS) || exit 1
	if [ -z "$floor_best" ] || awk -v a="$t" -v b="$floor_best" 'BEGIN { exit !(a < b) }'; then
		floor_best=$t; floor_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }'); fi
	/usr/bin/time -f "%e %U %S %M" -o "$W/time" "$PGA" collect 2>"$W/pga.err" || { cat "$W/pga.err"; exit 1; }
	read -r t u s _ <"$W/time"
	if [ -z "$pga_best" ] || awk -v a="$t" -v b="$pga_best" 'BEGIN { exit !(a < b) }'; then
		pga_best=$t; pga_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }'); fi
done
grep -o 'cycle 1:.*' "$W/pga.err" | sed 's/^/# pga: /'

# ---- (b) one psql per database ----
psql_per_db() {
	for db in $DBS; do
		{ [ "$db" = postgres ] && awk -F'\t' '$2 == "cluster" { print "COPY (" $3 ") TO STDOUT (FORMAT csv);" }' "$W/q.txt"
		  awk -F'\t' '$2 == "database" { print "COPY (" $3 ") TO STDOUT (FORMAT csv);" }' "$W/q.txt"; } |
			psql -X -q "$CI dbname=$db" | zstd -q -c >"$W/b.$db.zst"
	done
}
t_b=$(best_of 1 psql_per_db)

# ---- (a) one psql | zstd per query ----
psql_per_query() {
	local n=0
	while IFS=$'\t' read -r name scope sql; do
		for db in $DBS; do
			[ "$scope" = cluster ] && [ "$db" != postgres ] && continue
			psql -X -q "$CI dbname=$db" -c "COPY ($sql) TO STDOUT (FORMAT csv)" |
				zstd -q -c >"$W/a.$((n++)).zst"
		done
	done <"$W/q.txt"
}
t_a=$(best_of 1 psql_per_query)

report "pga collect, one cycle, $NDB databases" "$(ms "$pga_best")" ms "(c) libpq floor, 8 threads, output dropped" \
	"$(ms "$floor_best")" 0 0.77
report "pga collect, one cycle, $NDB databases" "$(ms "$pga_best")" ms "(b) one psql per database | zstd" \
	"$(ms "$t_b")" 0
report "pga collect, one cycle, $NDB databases" "$(ms "$pga_best")" ms "(a) one psql | zstd per query" \
	"$(ms "$t_a")" 0 30
per_db() { awk -v c="$1" -v n="$NDB" 'BEGIN { printf "%.2f", c * 1000 / n }'; }
report "pga client CPU per database per cycle" "$(per_db "$pga_cpu")" ms "issue limit" 2 0 1
report "pga client CPU per database per cycle" "$(per_db "$pga_cpu")" ms "(c) floor client CPU per database" \
	"$(per_db "$floor_cpu")" 0

# ---- peak RSS with query-stats-limit = 10000 ----
rm -rf "$W/spool"
/usr/bin/time -f "%M" -o "$W/rss1" "$PGA" -c "$W/pga10k.conf" collect 2>"$W/pga10k.err"
/usr/bin/time -f "%M" -o "$W/rss2" "$PGA" -c "$W/pga10k.conf" collect 2>>"$W/pga10k.err"
grep -o 'cycle 1:.*' "$W/pga10k.err" | sed 's/^/# pga, limit 10000: /'
rss=$(cat "$W/rss1" "$W/rss2" | sort -n | tail -1)
report "pga peak RSS, query-stats-limit 10000" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" MiB \
	"issue limit" 24 0 1

# ---- (e) pga --loop beside the loop floor, (d) postgres_exporter ----
# cycles 3..8, alternating with the loop floor (floor.c -l: one connection
# per database kept, 8 threads; -p: the queries prepared once per
# connection) RUNS times; pga logs each cycle's client CPU at debug level
loop_t="" loop_c="" fl_t="" fl_c="" fc_t=""
for _ in $(seq "$RUNS"); do
	"$W/floor" -l 8 -p 8 "$CI" "$W/q.txt" $DBS >"$W/floor-loop" || exit 1
	fl_t="$fl_t $(tail -n +3 "$W/floor-loop" | cut -d' ' -f1 | median)"
	fl_c="$fl_c $(tail -n +3 "$W/floor-loop" | awk '{ print $4 + $5 }' | median)"
	"$W/floor" -l 8 8 "$CI" "$W/q.txt" $DBS >"$W/floor-loop" || exit 1
	fc_t="$fc_t $(tail -n +3 "$W/floor-loop" | cut -d' ' -f1 | median)"
	/usr/bin/time -f "%M" -o "$W/rss-loop" "$PGA" --log-level debug collect --loop --interval 1s \
		--cycles 8 2>"$W/loop.err"
	loop_t="$loop_t $(grep -o 'info: cycle [0-9]*:.*' "$W/loop.err" | tail -n +3 | grep -o '[0-9.]* s$' |
		cut -d' ' -f1 | median)"
	loop_c="$loop_c $(grep -o 'client cpu [0-9.]*' "$W/loop.err" | tail -n +3 | cut -d' ' -f3 | median)"
done
spread() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 * 1000 } END { printf "%.0f..%.0f", v[1], v[NR] }'; }
echo "# pga --loop cycles 3..8, medians of $RUNS runs: $(echo $loop_t | spread) ms;" \
	"loop floor prepared $(echo $fl_t | spread) ms, COPY $(echo $fc_t | spread) ms;" \
	"peak RSS $(awk '{ printf "%.1f", $1 / 1024 }' "$W/rss-loop") MiB ($NDB connections kept open)"
loop_med=$(echo $loop_t | tr ' ' '\n' | median)
report "pga --loop cycle (kept connections), median" "$(ms "$loop_med")" ms \
	"(e) loop floor: kept, prepared, 8 threads" "$(ms "$(echo $fl_t | tr ' ' '\n' | median)")" 0 0.83
report "pga --loop cycle (kept connections), median" "$(ms "$loop_med")" ms \
	"(e) loop floor: kept, COPY, 8 threads" "$(ms "$(echo $fc_t | tr ' ' '\n' | median)")" 0 0.83
report "pga --loop client CPU per db per cycle" "$(per_db "$(echo $loop_c | tr ' ' '\n' | median)")" ms \
	"(e) loop floor client CPU per database" "$(per_db "$(echo $fl_c | tr ' ' '\n' | median)")" 0 0.5

if command -v prometheus-postgres-exporter >/dev/null; then
	python3 - "$W/q.txt" "$HELPER" >"$W/queries.yaml" <<'PY'
import subprocess, sys
types = {}
for line in subprocess.run([sys.argv[2], 'catalog-types', '--kinds'], capture_output=True, text=True).stdout.splitlines():
    name, cols = line.split('\t')
    types[name] = [(p[0], ' '.join(p[1:-1]), p[-1]) for p in (c.split(' ') for c in cols.split(','))]
numeric = {'bigint', 'integer', 'double precision', 'numeric'}
# keys and text are labels; per-database queries get the database as a label,
# since every database of one server shares the exporter's server label
for line in open(sys.argv[1]):
    name, scope, sql = line.rstrip('\n').split('\t')
    cols = types[name]
    label = lambda t, k: k == 'key' or t not in numeric
    sel = ', '.join('%s::%s AS %s' % (c, 'text' if label(t, k) else 'float8', c) for c, t, k in cols)
    if scope == 'database':
        sel = 'current_database()::text AS dbname, ' + sel
    alias = ', '.join(c for c, t, k in cols)
    print('%s:' % name)
    print('  query: "SELECT %s FROM (%s) q(%s)"' % (sel, sql.replace('\\', '\\\\').replace('"', '\\"'), alias))
    if scope == 'cluster':
        print('  master: true')
    print('  metrics:')
    if scope == 'database':
        print('    - dbname:\n        usage: "LABEL"\n        description: "database"')
    for c, t, k in cols:
        print('    - %s:' % c)
        print('        usage: "%s"' % ('LABEL' if label(t, k) else 'GAUGE'))
        print('        description: "%s"' % c)
PY
	EXPORTER_PORT=$(free_port)
	DATA_SOURCE_NAME="$CI dbname=postgres sslmode=disable" prometheus-postgres-exporter \
		--web.listen-address="127.0.0.1:$EXPORTER_PORT" --auto-discover-databases \
		--disable-default-metrics --disable-settings-metrics --no-collector.database \
		--no-collector.bgwriter --extend.query-path="$W/queries.yaml" >"$W/exporter.log" 2>&1 &
	EXPORTER=$!
	at_exit "kill $EXPORTER"
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$EXPORTER_PORT/" && break; sleep 0.1; done
	: >"$W/scrapes"
	for i in $(seq 1 8); do
		s=$(date +%s.%N)
		curl -s -o "$W/metrics" "http://127.0.0.1:$EXPORTER_PORT/metrics"
		e=$(date +%s.%N)
		[ "$i" -gt 2 ] && awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f\n", b - a }' >>"$W/scrapes"
	done
	exp_med=$(median <"$W/scrapes")
	exp_rss=$(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$EXPORTER/status")
	echo "# postgres_exporter: $(grep -c '^pg_stat_user_tables_' "$W/metrics") pg_stat_user_tables series," \
		"$(grep -c -i 'error' "$W/exporter.log") error lines in its log, peak RSS ${exp_rss} MiB"
	report "pga --loop cycle (kept connections), median" "$(ms "$loop_med")" ms \
		"(d) postgres_exporter scrape, median" "$(ms "$exp_med")" 0 1
else
	echo "# prometheus-postgres-exporter not installed: (d) skipped"
fi
[ -n "${BENCH_KEEP:-}" ] && cp -r "$W" /tmp/ct/benchkeep
exit 0
