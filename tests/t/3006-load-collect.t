#!/usr/bin/env bash
# What `pga collect` writes loads into the catalog tables: per metric, the
# rows in the tables are the rows in the segments; the delta views give
# per-interval differences and treat pg_stat_reset() as a reset, never as a
# negative rate.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start main 15 "track_functions = all"
pg_psql main postgres -c "CREATE DATABASE app" -c "CREATE DATABASE central"
app() { pg_psql main app -At -c "$1"; }
q() { pg_psql main central -At -c "$1"; }
app "CREATE EXTENSION pg_stat_statements; CREATE TABLE t (a int); CREATE TABLE u (b text);
	CREATE TABLE p (id int PRIMARY KEY) WITH (fillfactor = 70); CREATE TABLE c (id int REFERENCES p)" >/dev/null
SP=$TEST_TMP/spool
cat >"$TEST_TMP/pga.conf" <<CONF
[global]
spool-path = $SP
collector = site-c
central = $(pg_conninfo main central)
[target:main]
conninfo = $(pg_conninfo main app)
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf

work() { for i in $(seq 1 "$1"); do echo "INSERT INTO t VALUES ($i); SELECT count(*) FROM t;"; done |
	pg_psql main app >/dev/null; }
probe() { for _ in $(seq 1 "$1"); do echo "SELECT 1 AS pgss_probe, 2, 3;"; done | pg_psql main app >/dev/null; }
work 20
probe 20
run_ok "collect cycle 1" pga collect
work 30
probe 10
sleep 1.1	# snapshot times one second apart at least
run_ok "collect cycle 2" pga collect
app "SELECT pg_stat_reset(); SELECT pg_stat_statements_reset()" >/dev/null
work 5
# more calls after the reset than before it: only the reset time tells
probe 50
sleep 1.1
run_ok "collect cycle 3 after pg_stat_reset()" pga collect

run_ok "load what the collector wrote" pga load --init
run_ok "loaded" pga load --json
like "$(last_out)" '"refused":0' "nothing refused"
like "$(last_out)" '"columns_dropped":0' "the collector and the central schema agree on every column"

helper seg-blocks "$SP" >"$TEST_TMP/blocks" || { echo "Bail out! seg-blocks"; exit 1; }
awk -F'\t' '{ r[$1] += $4 } END { for (m in r) print m, r[m] }' "$TEST_TMP/blocks" | sort >"$TEST_TMP/want"
ok $([ "$(wc -l <"$TEST_TMP/want")" -ge 5 ]; echo $?) "at least five metrics collected ($(wc -l <"$TEST_TMP/want"))"
: >"$TEST_TMP/got"
while read -r metric _; do
	echo "$metric $(q "SELECT count(*) FROM pga.$metric")" >>"$TEST_TMP/got"
done <"$TEST_TMP/want"
is "$(cat "$TEST_TMP/got")" "$(cat "$TEST_TMP/want")" "per metric: rows in the tables = rows in the segments"

# every block describes its columns as the catalog has them (FORMAT.md
# "Column descriptors"): what the loader builds the tables from
helper seg-blocks --desc "$SP" >"$TEST_TMP/desc"
helper catalog-types --kinds >"$TEST_TMP/kinds"
helper catalog-cols >"$TEST_TMP/scopes"
python3 - "$TEST_TMP/desc" "$TEST_TMP/kinds" "$TEST_TMP/scopes" >"$TEST_TMP/desc.bad" <<'PY'
import sys
kinds = {}
for line in open(sys.argv[2]):
    name, cols = line.rstrip('\n').split('\t')
    kinds[name] = [(c.split(' ')[0], ' '.join(c.split(' ')[1:-1]), c.split(' ')[-1])
                   for c in cols.split(',')]
scope = {l.split('\t')[0]: l.split('\t')[2] for l in open(sys.argv[3])}
bad = set()
for line in open(sys.argv[1]):
    f = line.rstrip('\n').split('\t')
    metric, cols, sc = f[0], f[9], f[10]
    if sc != scope.get(metric):
        bad.add(metric + ' scope ' + sc)
    got = [tuple(c.rsplit(':', 2)) for c in cols.split(',')]
    if any(len(g) != 3 for g in got):
        bad.add(metric + ' undescribed')
        continue
    for (n, t, r), want in zip(got, kinds.get(metric, got)):
        if (n, t) != tuple(want[:2]) or (r != want[2] and not (r == 'reset' and want[2] == 'info')):
            bad.add(metric + ' ' + n)
print(' '.join(sorted(bad)))
PY
is "$(cat "$TEST_TMP/desc.bad")" "" "every collected block carries the catalog's types, roles and scope"
is "$(grep -c $'\t-\t' "$TEST_TMP/desc")" 0 "no block without descriptors"
like "$(awk -F'\t' '$1 == "pg_stat_database" { print $10; exit }' "$TEST_TMP/desc")" \
	"datid:oid:key,.*xact_commit:bigint:counter,.*stats_reset:timestamptz:reset" "pg_stat_database: key, counters, its reset column"
is "$(q "SELECT count(DISTINCT snapshot_time) FROM pga.pg_stat_database")" 3 "three snapshots"
is "$(q "SELECT DISTINCT reloptions FROM pga.relation_options WHERE relname = 'p'")" "{fillfactor=70}" \
	"array columns load as arrays (relation_options.reloptions)"
is "$(q "SELECT DISTINCT conkey::text || ' ' || indexed FROM pga.foreign_keys WHERE conname = 'c_id_fkey'")" \
	"{1} false" "foreign_keys: the key columns, and no index covers c.id"
is "$(q "SELECT count(*) FROM pga.servers WHERE system_identifier > 0")" 1 "one server, by system identifier"

# delta views
is "$(q "SELECT count(*) FROM pga.pg_stat_database_delta WHERE datname = 'app'")" 2 \
	"pg_stat_database_delta: two intervals for the database"
is "$(q "SELECT string_agg(reset::text, ',' ORDER BY snapshot_time) FROM pga.pg_stat_database_delta WHERE datname = 'app'")" \
	"false,true" "pg_stat_reset() shows as a reset in the second interval"
ok $([ "$(q "SELECT xact_commit FROM pga.pg_stat_database_delta WHERE datname = 'app' ORDER BY snapshot_time LIMIT 1")" -ge 30 ]; echo $?) \
	"the first interval counts the transactions in it"
is "$(q "SELECT count(*) FROM pga.pg_stat_database_delta WHERE xact_commit < 0 OR blks_hit < 0 OR tup_inserted < 0")" 0 \
	"never a negative rate"
is "$(q "SELECT n_tup_ins FROM pga.pg_stat_user_tables_delta WHERE relname = 't' ORDER BY snapshot_time LIMIT 1")" 30 \
	"pg_stat_user_tables_delta: 30 rows inserted between cycles 1 and 2"
is "$(q "SELECT reset::text || ' ' || n_tup_ins FROM pga.pg_stat_user_tables_delta WHERE relname = 't' ORDER BY snapshot_time DESC LIMIT 1")" \
	"true 5" "after the reset: a reset, counting from zero"

qid=$(app "SELECT queryid FROM pg_stat_statements WHERE query LIKE '%pgss_probe%' LIMIT 1")
is "$(q "SELECT string_agg(reset || ':' || calls, ',' ORDER BY snapshot_time) FROM pga.pg_stat_statements_delta
	WHERE queryid = $qid")" "false:10,true:50" \
	"pg_stat_statements_delta: pg_stat_statements_reset() is a reset although calls grew (30 to 50)"

run_ok "central status" helper central-status "$(pg_conninfo main central)"
like "$(last_out)" "site-c +[0-9T:Z-]+ +[0-9a-z.]+ +3 " "three segments for the collector"

done_testing
