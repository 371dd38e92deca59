#!/usr/bin/env bash
# A day of history for five databases at 60 s, straight into the central
# tables (the smoke of make bench's 30 days x 100 databases): pga report
# makes its page in a second or two, its sampled queries go through the
# series indexes (their plans show it, the heaviest one is printed), gaps
# and resets are named; and every query of doc/queries.md runs against the
# same history and returns rows.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

PY=/usr/bin/python3
pg_start main 15
pg_psql main postgres -c "CREATE DATABASE central"
DB=$(pg_conninfo main central)
run_ok "schema" pga load --init --db "$DB"
run_ok "a day of history, 5 databases, every 60 s" helper report-history "$DB" 1 5 60 2 50
pg_psql main central -c "ANALYZE" >/dev/null

# ---- the report over it ----
s=$(date +%s.%N)
run_ok "report with --explain" pga report --db "$DB" -o "$TEST_TMP/r.html" --explain "$TEST_TMP/plans.txt"
secs=$(echo "$(date +%s.%N) - $s" | bc)
diag "$(last_out)"
ok $(echo "$secs < 30" | bc | grep -q 1; echo $?) "written in ${secs}s (with every query run twice for its plan)"
run_ok "report" pga report --db "$DB" -o "$TEST_TMP/r2.html"
slowest=$(last_out | sed -n "s/.*slowest '\([^']*\)'.*/\1/p")
ok $([ -n "$slowest" ]; echo $?) "the summary names the slowest query ('$slowest')"
# the plan of each query, from its '-- name' line to the next
plan() { awk -v n="-- $1" '$0 == n { p = 1; next } /^-- / { p = 0 } p' "$TEST_TMP/plans.txt"; }
diag "plan of the slowest query, '$slowest':"
diag "$(plan "$slowest")"
for qn in "chart: pg_stat_database" "statements" "tables" "unused indexes" "chart: pg_database"; do
	p=$(plan "$qn")
	like "$p" "Index (Only )?Scan using [a-z0-9_]+ on [a-z_]+_p[0-9]{8}" "'$qn' reads through the series indexes"
	# how big yesterday's partitions are depends on the hour the test runs,
	# and the planner rightly reads a partition of a few pages whole
	# (pg_stat_statements_info's and _texts' were seen): a whole read of
	# anything larger is what this looks for
	whole=$(echo "$p" | sed -n 's/.*Seq Scan on \([a-z_]*_p[0-9]\{8\}\).*/\1/p' | sort -u)
	big=$(for t in $whole; do
		pg_psql main central -At -c "SELECT relname || ' (' || relpages || ' pages)' FROM pg_class
			WHERE relname = '$t' AND relpages > 8"
	done)
	is "$big" "" "'$qn' reads no partition of more than 8 pages whole"
done
$PY "$TESTS_DIR/lib/report_data.py" "$TEST_TMP/r2.html" >"$TEST_TMP/d.json"
pg() { $PY -c "import json; d = json.load(open('$TEST_TMP/d.json')); s = list(d['servers'].values())[0]; print($1)"; }
is "$(pg "s['errors']")" "[]" "every section computed"
is "$(pg "(s['notes']['gaps'], s['notes']['resets'], s['notes']['own'])")" "(1.0, 5.0, 1.0)" \
	"the missing hour is one gap, the reset shows in each of the 5 databases, pga's own entry is left out"
is "$(pg "sorted(k for k, n in s['points'].items() if n == 0)")" "[]" "every chart has points"
# the counters at sample times: the chart's total for a bucket is the delta view's sum over it
tps=$(pg "list(zip(s['charts']['tps'][0]['t'], s['charts']['tps'][0]['v']))[5:8]")
bad=0
for tv in $($PY -c "print(' '.join('%d:%r' % p for p in $tps))"); do
	t=${tv%%:*} v=${tv#*:}
	want=$(pg_psql main central -At -c "SELECT sum(xact_commit + xact_rollback) / sum(extract(epoch FROM elapsed)) * count(DISTINCT datid)
		FROM pga.pg_stat_database_delta WHERE snapshot_time > to_timestamp($t / 1e6) - interval '12 minutes'
		AND snapshot_time <= to_timestamp($t / 1e6)")
	$PY -c "import sys; sys.exit(abs($v - $want) > 1e-6 * $want)" || { bad=1; diag "t=$t page $v sql $want"; }
done
is "$bad" 0 "a bucket's transactions/s = the delta view's over the bucket (12-minute buckets)"

# ---- doc/queries.md, every block ----
$PY - "$REPO_DIR/doc/queries.md" "$TEST_TMP/q" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for i, b in enumerate(re.findall(r"```sql\n(.*?)```", text, re.S)):
    open("%s%02d.sql" % (sys.argv[2], i), "w").write(b)
PY
n=$(ls "$TEST_TMP"/q*.sql | wc -l)
ok $([ "$n" -ge 15 ]; echo $?) "doc/queries.md has $n queries"
for f in "$TEST_TMP"/q*.sql; do
	name=$(grep -v '^--' "$f" | head -1 | cut -c1-60)
	if ! pg_psql main central -At -f "$f" >"$f.out" 2>"$f.err"; then
		ok 1 "doc/queries.md: $name"
		diag "$(cat "$f.err")"
		continue
	fi
	rows=$(wc -l <"$f.out")
	if grep -q '^-- may be empty' "$f"; then
		ok 0 "doc/queries.md: $name ($rows rows)"
	else
		ok $([ "$rows" -gt 0 ]; echo $?) "doc/queries.md: $name ($rows rows)"
	fi
done
# the top statements query leaves pga's own out, as the report does
ok $(! grep -q 'pga \*/' "$TEST_TMP/q03.sql.out"; echo $?) "the top statements of doc/queries.md leave pga's own out"

done_testing
