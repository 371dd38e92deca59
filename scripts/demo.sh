#!/usr/bin/env bash
# make demo: pga's main job on an embedded default.
#   a throwaway PostgreSQL 15 with pgbench traffic and a few databases
#   -> pga collect (three cycles) -> the local spool
#   -> pga ship to a directory (what a bucket or a USB disk would hold)
#   -> pga load into a central database
#   -> a readable summary of what was collected and where it went
set -euo pipefail
BUILD=${1:-$(cd "$(dirname "$0")/.." && pwd)/build}
export PGA_BUILD=$BUILD
set +u
. "$(dirname "$0")/../tests/lib/tap.sh" >/dev/null
. "$(dirname "$0")/../tests/lib/pg.sh"
set -u
PGBIN=$(pg_bindir 15)
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "starting a throwaway PostgreSQL 15 in $TEST_TMP"
pg_start demo 15 "track_io_timing = on" "track_functions = all"
CONN=$(pg_conninfo demo)
for db in shop analytics; do pg_psql demo postgres -c "CREATE DATABASE $db" >/dev/null; done
pg_psql demo postgres -c "CREATE DATABASE central" >/dev/null
for db in postgres shop; do pg_psql demo "$db" -c "CREATE EXTENSION pg_stat_statements" >/dev/null; done
"$PGBIN/pgbench" -i -q -s 5 -h "$PG_SOCK_demo" -p "$PG_PORT_demo" -U postgres shop >/dev/null 2>&1
"$PGBIN/pgbench" -c 4 -j 2 -T 20 -h "$PG_SOCK_demo" -p "$PG_PORT_demo" -U postgres shop >/dev/null 2>&1 &
bench=$!
at_exit "kill $bench"

cat >"$TEST_TMP/pga.conf" <<CONF
[global]
spool-path = $TEST_TMP/spool
collector = demo-site
segment-max-age = 1s
central = $(pg_conninfo demo central)

[target:demo]
conninfo = $(pg_conninfo demo postgres)
databases = *

[dest:outbox]
url = file://$TEST_TMP/outbox
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf
mkdir "$TEST_TMP/outbox"	# stands for a mounted share or removable disk

say "pga check"
"$BUILD/pga" check | grep -E "^target|server:|databases:|pg_stat_statements:|metrics:|^destinations|^ok|^FAIL" || true

say "pga collect: three cycles while pgbench runs"
for i in 1 2 3; do
	"$BUILD/pga" collect
	sleep 4
done
wait $bench 2>/dev/null || true

say "the spool"
"$BUILD/pga" spool ls | head -n 12
"$BUILD/pga" spool verify | tail -n 1

say "pga ship to $TEST_TMP/outbox"
"$BUILD/pga" ship
find "$TEST_TMP/outbox" -name '*.pga.zst' | sed "s|$TEST_TMP/outbox/|  |" | sort
echo "  spool now holds $(find "$TEST_TMP/spool/ready" -name '*.pga.zst' | wc -l) segments (shipped ones leave it)"

say "pga load from the outbox into the central database"
"$BUILD/pga" load --init
"$BUILD/pga" load --from "$TEST_TMP/outbox"

say "what the central database holds: rows per metric"
pg_psql demo central -P pager=off -c "
SELECT c.relname AS metric,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM pga.%I', c.relname),
              false, true, '')))[1]::text::bigint AS rows
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'pga' AND c.relkind = 'p' ORDER BY rows DESC, metric"

say "busiest tables between the first and last snapshot (pg_stat_user_tables_delta)"
pg_psql demo central -P pager=off -c "
SELECT dbname, relname, sum(n_tup_upd) AS updates, sum(n_tup_ins) AS inserts,
       sum(seq_scan) AS seq_scans, sum(idx_scan) AS idx_scans
  FROM pga.pg_stat_user_tables_delta
 GROUP BY 1, 2 ORDER BY updates DESC NULLS LAST LIMIT 5"

say "top statements by time spent between snapshots (pg_stat_statements_delta), pga's own left out"
pg_psql demo central -P pager=off -c "
SELECT left(regexp_replace(t.query, '\\s+', ' ', 'g'), 60) AS query,
       sum(d.calls) AS calls, round(sum(d.total_exec_time)::numeric, 1) AS ms
  FROM pga.pg_stat_statements_delta d
  LEFT JOIN LATERAL (SELECT query FROM pga.pg_stat_statements_texts x
                      WHERE x.queryid = d.queryid LIMIT 1) t ON true
 WHERE coalesce(t.query !~ '^[[:alpha:]_]+ /\\* pga \\*/', true)
 GROUP BY 1 ORDER BY ms DESC NULLS LAST LIMIT 5"

say "pga status --central"
"$BUILD/pga" status --central || true

# the page outlives the throwaway server: it needs nothing but itself
REPORT=${PGA_DEMO_REPORT:-$PWD/pga-demo-report.html}
say "pga report: one HTML page of everything above"
"$BUILD/pga" report --since -1h -o "$REPORT"
say "done: the servers lived in $TEST_TMP and are removed now"
echo "  the report stays: $REPORT"
echo "  open it in a browser (it loads nothing from anywhere: it can be mailed as it is)"
