#!/usr/bin/env bash
# pga report over a known history: pgbench traffic collected by pga collect
# from a real PostgreSQL 15, plus blocks with exact values from pga spool
# put.  The numbers in the page are checked against SQL over the delta
# views, pga's own statements are in the central tables but in no ranking,
# and headless Chromium renders the page: no console error, every chart has
# points, the text fits 1280 px; one screenshot is kept.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

command -v chromium >/dev/null || skip_all "chromium is not installed (make deps)"
PY=/usr/bin/python3
pg_start main 15 "track_io_timing = on"
pg_psql main postgres -c "CREATE DATABASE app" -c "CREATE DATABASE central"
pg_psql main app -c "CREATE EXTENSION pg_stat_statements" >/dev/null
PGBENCH() { pgbench -h "$PG_SOCK_main" -p "$PG_PORT_main" -U postgres "$@" app >/dev/null 2>&1; }
PGBENCH -i -s 1
q() { pg_psql main central -At -c "$1"; }
SP=$TEST_TMP/spool
cat >"$TEST_TMP/pga.conf" <<CONF
[global]
spool-path = $SP
collector = site
central = $(pg_conninfo main central)
query-stats-limit = 200
texts-every = 2
[target:main]
conninfo = $(pg_conninfo main app)
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf

# ---- blocks with exact values, from a server known only by its blocks ----
T0=$(( $(date +%s) / 60 * 60 - 2400 ))
at() { date -u -d "@$((T0 + $1 * 60))" +%FT%TZ; }
cols_of() { helper catalog-cols | awk -F'\t' -v m="$1" '$1 == m { print $4 }'; }
# row METRIC col=value...: one CSV row in the catalog's column order
row() {
	local m=$1; shift
	$PY - "$(cols_of "$m")" "$@" <<'PY'
import csv, io, sys
cols, vals = sys.argv[1].split(","), dict(a.split("=", 1) for a in sys.argv[2:])
w = io.StringIO()
csv.writer(w, lineterminator="\n").writerow([vals.get(c, "") for c in cols])
sys.stdout.write(w.getvalue())
PY
}
put() { pga spool put --metric "$1" --columns "$(cols_of "$1")" --target exact --time "$(at "$2")"; }
commits=(0 600 1200 300 900)	# a reset at snapshot 3: 5/s there, 10/s elsewhere
for i in 0 1 2 3 4; do
	reset=2026-01-01T00:00:00Z; [ $i -ge 3 ] && reset=2026-01-02T00:00:00Z
	row pg_stat_database datid=16384 datname=exactdb xact_commit=${commits[$i]} xact_rollback=0 \
		blks_hit=$((i * 900)) blks_read=$((i * 100)) stats_reset=$reset | put pg_stat_database $i
	# before pg_stat_statements 1.9 toplevel is NULL: the walk must still find every entry
	{ row pg_stat_statements userid=10 dbid=16384 queryid=111 calls=$((i * 10)) \
		total_exec_time=$((i * 100)) rows=$((i * 5)) shared_blks_read=$i
	  row pg_stat_statements userid=10 dbid=16384 queryid=222 calls=$((i * 100)) \
		total_exec_time=$((i * 50)) rows=$((i * 100)) shared_blks_read=0
	  row pg_stat_statements userid=10 dbid=16384 queryid=333 calls=$((i * 1000)) \
		total_exec_time=$((i * 10000)) rows=0 shared_blks_read=0
	} | put pg_stat_statements $i
	row pg_stat_statements_info dealloc=0 stats_reset=2026-01-01T00:00:00Z | put pg_stat_statements_info $i
	row pg_stat_replication pid=77 application_name="standby one" replay_lag=1.$i \
		replay_lag_bytes=$((i * 8192)) | put pg_stat_replication $i
	row pg_database datid=16384 datname=exactdb size_bytes=$((1000000 + i * 1000)) | put pg_database $i
done >/dev/null
{ row pg_stat_statements_texts userid=10 dbid=16384 queryid=111 query='SELECT * FROM exact_a WHERE id = $1'
  row pg_stat_statements_texts userid=10 dbid=16384 queryid=222 query='UPDATE exact_b SET v = $1'
  row pg_stat_statements_texts userid=10 dbid=16384 queryid=333 query='COPY /* pga */ (SELECT 1) TO STDOUT'
} | put pg_stat_statements_texts 0 >/dev/null

# ---- pgbench traffic, collected ----
for i in 1 2 3 4 5; do
	PGBENCH -T 1 -c 2
	run_ok "collect cycle $i under pgbench traffic" pga collect
	sleep 1
done
run_ok "central schema" pga load --init
run_ok "load" pga load
SINCE=$(at -1)
UNTIL=$(date -u -d "@$(( $(date +%s) + 60 ))" +%FT%TZ)
run_ok "report written" pga report -o "$TEST_TMP/r.html" --since "$SINCE" --until "$UNTIL"
like "$(last_out)" "report written to '$TEST_TMP/r.html': .*, 2 servers, " "the summary names the page and its two servers"
is "$(stat -c %a "$TEST_TMP/r.html")" 600 "the page is readable by its owner only (query texts)"
is "$(ls "$TEST_TMP" | grep -c 'r.html.tmp')" 0 "no temporary file left"
$PY "$TESTS_DIR/lib/report_data.py" "$TEST_TMP/r.html" >"$TEST_TMP/d.json" || { echo "Bail out! parse"; exit 1; }

C=$(q "SELECT collector_id FROM pga.collectors WHERE collector = 'site'")
S_BENCH=$(q "SELECT server_id FROM pga.servers WHERE system_identifier > 0")
S_EXACT=$(q "SELECT server_id FROM pga.servers WHERE target = 'exact'")
W="collector_id = $C AND snapshot_time > '$SINCE' AND snapshot_time <= '$UNTIL'"

# jq-like: a value of the page's data
page() { $PY -c "import json, sys; d = json.load(open('$TEST_TMP/d.json')); print($1)"; }

# ---- the exact server: every number known in advance ----
E="d['servers']['s$C-$S_EXACT']"
is "$(page "$E['charts']['tps'][0]['v']")" "[10.0, 10.0, 5.0, 10.0]" \
	"transactions/s: 10, 10, then 5 for the interval with a reset (counts from zero), 10"
is "$(page "$E['charts']['hit'][0]['v']")" "[90.0, 90.0, 90.0, 90.0]" "cache hit ratio 90% in every interval"
is "$(page "$E['notes']['resets']")" "1.0" "the reset is named in the page"
is "$(page "[(e['queryid'], e['calls'], e['total_ms'], e['mean_ms']) for e in $E['rankings']['time']]")" \
	"[('111', 40.0, 400.0, 10.0), ('222', 400.0, 200.0, 0.5)]" \
	"top by total time: exact totals over the window; pga's own (the busiest) is not there"
is "$(page "[e['queryid'] for e in $E['rankings']['calls']]")" "['222', '111']" "top by calls"
is "$(page "[e['queryid'] for e in $E['rankings']['mean']]")" "['111', '222']" "top by mean time"
is "$(page "[(e['queryid'], e['blks_read']) for e in $E['rankings']['blks']]")" "[('111', 4.0)]" \
	"top by blocks read: only statements that read one"
is "$(page "$E['notes']['own']")" "1.0" "one entry of pga's own left out, and the page says so"
is "$(page "[e['text'] for e in $E['rankings']['time']]")" \
	"['SELECT * FROM exact_a WHERE id = \$1', 'UPDATE exact_b SET v = \$1']" "each with its text"
is "$(page "[(s['label'], s['v']) for s in $E['charts']['repl']]")" \
	"[('standby one', [1.0, 1.1, 1.2, 1.3, 1.4])]" "replication lag: the maximum of each interval, per standby"

# ---- the collected server: the page against SQL over the delta views ----
B="d['servers']['s$C-$S_BENCH']"
chart_vs_sql() {	# CHART SQL(t_us, value): every point of the chart is the SQL's value at its time
	local got want
	got=$(page "sorted(zip($B['charts']['$1'][0]['t'], $B['charts']['$1'][0]['v']))")
	want=$(q "$2" | $PY -c "import sys; print(sorted((int(l.split('|')[0]), float(l.split('|')[1])) for l in sys.stdin if l.strip()))")
	ok $($PY -c "
a, b = $got, $want
import sys
sys.exit(not (len(a) >= 2 and len(a) == len(b) and all(x[0] == y[0] and abs(x[1] - y[1]) <= 1e-6 * max(1, abs(y[1])) for x, y in zip(a, b))))
"; echo $?) "$3 ($(page "len($B['charts']['$1'][0]['v'])") points)" || { diag "page: $got"; diag "sql:  $want"; }
}
US="(extract(epoch FROM snapshot_time) * 1000000)::bigint"
chart_vs_sql tps "SELECT $US, sum((xact_commit + xact_rollback) / extract(epoch FROM elapsed))
	FROM pga.pg_stat_database_delta WHERE $W AND server_id = $S_BENCH GROUP BY 1" \
	"transactions/s = pg_stat_database_delta per interval"
chart_vs_sql hit "SELECT $US, 100 * sum(blks_hit)::float8 / nullif(sum(blks_hit + blks_read), 0)
	FROM pga.pg_stat_database_delta WHERE $W AND server_id = $S_BENCH GROUP BY 1
	HAVING sum(blks_hit + blks_read) > 0" "cache hit ratio = pg_stat_database_delta"
chart_vs_sql wal "SELECT $US, wal_lsn / extract(epoch FROM elapsed) FROM pga.pg_stat_wal_delta
	WHERE $W AND server_id = $S_BENCH" "WAL bytes/s = pg_stat_wal_delta"

# every ranked statement's totals are the delta view's sums over the window
page "[(e['userid'], e['dbid'], e['toplevel'], e['queryid'], e['calls'], e['total_ms'], e['rows'])
	for r in $B['rankings'].values() for e in r]" | $PY -c "
import ast, sys
for u, d, t, qid, calls, ms, rows in ast.literal_eval(sys.stdin.read()):
    print(u, d, t, qid, int(calls), ms, int(rows))" >"$TEST_TMP/ranked"
ok $([ "$(wc -l <"$TEST_TMP/ranked")" -ge 10 ]; echo $?) "the collected server's rankings list statements ($(wc -l <"$TEST_TMP/ranked") rows)"
bad=0
while read -r u d t qid calls ms rows; do
	want=$(q "SELECT sum(calls), round((sum(total_exec_time) + coalesce(sum(total_plan_time), 0))::numeric, 3),
		sum(rows) FROM pga.pg_stat_statements_delta WHERE $W AND server_id = $S_BENCH
		AND userid = $u AND dbid = $d AND toplevel = '$t' AND queryid = $qid")
	got="$calls|$(printf '%.3f' "$ms")|$rows"
	# the times to a thousandth of a ms: a value on the half rounds one way
	# as the page's double, the other as SQL's numeric (0.4335: 0.433, 0.434)
	$PY -c "
import sys
g, w = '$calls|$ms|$rows'.split('|'), '$want'.split('|')
sys.exit(not (len(w) == 3 and g[0] == w[0] and g[2] == w[2] and abs(float(g[1]) - float(w[1])) <= 0.0011))" ||
		{ bad=$((bad + 1)); diag "queryid $qid: page $got, sql $want"; }
done <"$TEST_TMP/ranked"
is "$bad" 0 "calls, time and rows of every ranked statement = pg_stat_statements_delta over the window"
like "$(page "$B['rankings']['time'][0]['text']")" "pgbench|UPDATE|SELECT|INSERT" "pgbench's statements lead by time"

# pga's own statements: marked, in the central tables, and in no ranking
own=$(q "SELECT count(DISTINCT queryid) FROM pga.pg_stat_statements_texts WHERE server_id = $S_BENCH
	AND query ~ '^[[:alpha:]_]+ /\* pga \*/'")
ok $([ "$own" -ge 10 ]; echo $?) "the collector's statements carry the mark after their first word ($own texts)"
is "$(q "SELECT count(*) FROM pga.pg_stat_statements_texts WHERE server_id = $S_BENCH
	AND query LIKE 'COPY (%'")" 0 "no COPY of the collector without the mark"
own_top=$(q "SELECT count(*) FROM (SELECT queryid FROM pga.pg_stat_statements_delta WHERE $W
	AND server_id = $S_BENCH GROUP BY queryid ORDER BY sum(total_exec_time) DESC LIMIT 10) d
	WHERE (SELECT query FROM pga.pg_stat_statements_texts t WHERE t.queryid = d.queryid LIMIT 1)
	~ '/\* pga \*/'")
ok $([ "$own_top" -ge 1 ]; echo $?) \
	"in the delta view, by total time, pga's own are among the top 10 ($own_top): what the report leaves out"
marked=$(page "sum(1 for r in $B['rankings'].values() for e in r if '/* pga */' in e['text'])")
is "$marked" 0 "and no ranking of the page shows one"
is "$(page "$B['notes']['own'] >= 10")" True "the page counts them as left out"

# tables by sequential scans = pg_stat_user_tables_delta
page "[(c[0], c[1], v['seq_scan']) for c, v in zip($B['lists']['tables-seq'], $B['values']['tables-seq'])]" \
	| $PY -c "import ast, sys; [print(a, b, int(c)) for a, b, c in ast.literal_eval(sys.stdin.read())]" >"$TEST_TMP/seq"
bad=0
while read -r db rel n; do
	want=$(q "SELECT sum(seq_scan) FROM pga.pg_stat_user_tables_delta WHERE $W AND server_id = $S_BENCH
		AND dbname = '$db' AND schemaname || '.' || relname = '$rel'")
	[ "$n" = "$want" ] || { bad=$((bad + 1)); diag "$db $rel: page $n, sql $want"; }
done <"$TEST_TMP/seq"
ok $([ -s "$TEST_TMP/seq" ] && [ $bad = 0 ]; echo $?) "sequential scans of every listed table = the delta view ($(wc -l <"$TEST_TMP/seq") tables)"
is "$(page "d['collectors']['site']['segments']")" "$(q "SELECT count(*) FROM pga.segments WHERE collector_id = $C").0" \
	"collectors: segments as the ledger counts them"
is "$(page "sorted({'ckpt', 'conn', 'hit', 'size', 'tps', 'tup', 'wal', 'xid'} - {k for k, n in $B['points'].items() if n > 0})")" \
	"[]" "the collected server's charts have points (replication: none here, and the page says so)"
like "$(page "$B['nodata']")" "no standby was connected" "a missing metric is a message, not a chart"

# ---- in a browser ----
ART=$PGA_BUILD/test-artifacts
mkdir -p "$ART"
EVAL_CHARTS='charts=Array.from(document.querySelectorAll("svg.chart")).map(function(s){var n=0;s.querySelectorAll("path[data-n]").forEach(function(p){if(p.getTotalLength()>0)n++;});return n+s.querySelectorAll("circle").length;}).join(",")'
run_ok "chromium renders the page" $PY "$TESTS_DIR/lib/browser.py" "$TEST_TMP/r.html" "$TEST_TMP/b.json" \
	--screenshot "$ART/report-6001.png" --eval "$EVAL_CHARTS" \
	--eval 'sorted=(function(){var t=document.querySelector("table[data-ranking=calls]");var th=t.tHead.rows[0].cells[2];th.click();var a=Array.from(t.tBodies[0].rows).map(function(r){return parseFloat(r.cells[2].getAttribute("data-v"))});th.click();var b=Array.from(t.tBodies[0].rows).map(function(r){return parseFloat(r.cells[2].getAttribute("data-v"))});return JSON.stringify([a,b]);})()'
b() { $PY -c "import json; d = json.load(open('$TEST_TMP/b.json')); print($1)"; }
is "$(b "d['console'] + d['exceptions']")" "[]" "no console message, no exception (the CSP let the page's own script and style through)"
is "$(b "[n for n in d['eval']['charts'].split(',') if n == '0']")" "[]" "every chart draws a line or a dot ($(b "len(d['eval']['charts'].split(','))") charts)"
ok $([ "$(b "d['width']")" -le 1280 ]; echo $?) "the text fits a 1280 px screen (scrollWidth $(b "d['width']"))"
is "$(b "(lambda a, b: a == sorted(a, reverse=True) and b == sorted(b) and a != b)(*__import__('json').loads(d['eval']['sorted']))")" True \
	"with JavaScript a column sorts both ways"
ok $([ -s "$ART/report-6001.png" ]; echo $?) "screenshot kept"
diag "screenshot of the report: $ART/report-6001.png"
run_ok "and with JavaScript off" $PY "$TESTS_DIR/lib/browser.py" "$TEST_TMP/r.html" "$TEST_TMP/n.json" --no-js \
	--eval "$EVAL_CHARTS"
is "$($PY -c "import json; d = json.load(open('$TEST_TMP/n.json')); print(d['console'] + d['exceptions'], d['width'] <= 1280, '0' in d['eval']['charts'].split(','))")" \
	"[] True False" "the page reads the same without JavaScript: charts drawn, no error, fits"

done_testing
