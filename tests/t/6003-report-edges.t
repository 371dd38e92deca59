#!/usr/bin/env bash
# pga report where there is little or nothing to show, and where it cannot
# write: an empty central database and an empty window make a page that
# says so (and renders clean), a database without the schema and unknown
# filters are one-line errors with nothing written, bad options are usage
# errors, a full disk leaves no page at all, and the filters do filter.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

PY=/usr/bin/python3
pg_start main 15
pg_psql main postgres -c "CREATE DATABASE central" -c "CREATE DATABASE other"
DB=$(pg_conninfo main central)
q() { pg_psql main central -At -c "$1"; }

# ---- usage ----
run_fails 64 "-o is required" pga report --db "$DB"
like "$(last_err)" "'pga report' needs -o FILE" "and the error says so"
run_fails 64 "--top 0 is refused" pga report --db "$DB" -o "$TEST_TMP/x.html" --top 0
run_fails 64 "--top past 100 is refused" pga report --db "$DB" -o "$TEST_TMP/x.html" --top 101
run_fails 64 "--points 1 is refused" pga report --db "$DB" -o "$TEST_TMP/x.html" --points 1
run_fails 64 "--since after --until" pga report --db "$DB" -o "$TEST_TMP/x.html" --since -1h --until -2h
run_fails 64 "a bad time" pga report --db "$DB" -o "$TEST_TMP/x.html" --since yesterday
run_fails 64 "a password on the command line is refused" pga report --db "$DB password=secret" -o "$TEST_TMP/x.html"
unlike_secret=$(grep -c secret "$ERR")
is "$unlike_secret" 0 "and not echoed"
run_fails 64 "no central database configured" pga report -o "$TEST_TMP/x.html"
run_ok "--help" pga report --help
like "$(last_out)" "usage: pga report" "help prints the usage"
run_ok "pga help report" pga help report

# ---- no schema: an error, nothing written ----
run_fails 1 "a database without the central schema" pga report --db "$(pg_conninfo main other)" -o "$TEST_TMP/x.html"
like "$(last_err)" "no central schema 'pga' in this database" "the error names the schema and what to do"
ok $([ ! -e "$TEST_TMP/x.html" ]; echo $?) "no page written"
is "$(ls "$TEST_TMP" | grep -c tmp-)" 0 "no temporary file left"

# ---- an empty central database: a page that says so ----
run_ok "schema" pga load --init --db "$DB"
run_ok "a report of an empty central database" pga report --db "$DB" -o "$TEST_TMP/empty.html"
like "$(cat "$TEST_TMP/empty.html")" "No collector has loaded anything into this central database yet" \
	"the page says nothing was loaded"
like "$(cat "$TEST_TMP/empty.html")" "The central database holds no snapshot yet" "and that there is no snapshot"
like "$(tail -c 40 "$TEST_TMP/empty.html")" "</html>" "a whole page"
if command -v chromium >/dev/null; then
	run_ok "chromium renders the empty page" $PY "$TESTS_DIR/lib/browser.py" "$TEST_TMP/empty.html" "$TEST_TMP/e.json"
	is "$($PY -c "import json; d = json.load(open('$TEST_TMP/e.json')); print(d['console'] + d['exceptions'], d['width'] <= 1280)")" \
		"[] True" "without an error, within 1280 px"
fi

# ---- some history, then windows and filters ----
run_ok "a day of history" helper report-history "$DB" 1 3 300 1 5
run_ok "a window before it" pga report --db "$DB" -o "$TEST_TMP/old.html" --since 2020-01-01 --until 2020-01-02
like "$(cat "$TEST_TMP/old.html")" "No server has data in this window. The central database holds snapshots from" \
	"an empty window says where the data is"
like "$(last_out)" ", 0 servers, 0 charts" "and the summary counts nothing"
run_fails 1 "an unknown collector" pga report --db "$DB" -o "$TEST_TMP/x.html" --collector nosuch
like "$(last_err)" "no collector 'nosuch' in the central database" "is named"
run_fails 1 "an unknown server" pga report --db "$DB" -o "$TEST_TMP/x.html" --server nosuch
like "$(last_err)" "no server 'nosuch'" "is named"
ok $([ ! -e "$TEST_TMP/x.html" ]; echo $?) "and nothing was written"
run_ok "--server by target name and --collector" pga report --db "$DB" -o "$TEST_TMP/f.html" \
	--server prod-db1 --collector history --top 3
like "$(last_out)" ", 1 server, " "one server"
$PY "$TESTS_DIR/lib/report_data.py" "$TEST_TMP/f.html" >"$TEST_TMP/f.json"
is "$($PY -c "import json; d = json.load(open('$TEST_TMP/f.json')); s = list(d['servers'].values())[0]; print(len(s['rankings']['time']), s['notes'].get('gaps'), s['notes'].get('resets'), s['notes'].get('own'))")" \
	"3 1.0 3.0 1.0" "--top 3 ranks three; the gap, the reset and pga's own entry are named"
sid=$(q "SELECT server_id FROM pga.servers WHERE target = 'prod-db1'")
run_ok "--server by id" pga report --db "$DB" -o "$TEST_TMP/g.html" --server "$sid"
like "$(last_out)" ", 1 server, " "one server"

# ---- standard output, and a disk that fills up ----
pga report --db "$DB" -o - --since -2h >"$TEST_TMP/stdout.html" 2>"$TEST_TMP/stdout.err"
is "$?" 0 "-o - writes the page to standard output"
like "$(head -c 15 "$TEST_TMP/stdout.html")" "<!DOCTYPE html>" "the page, on standard output"
like "$(cat "$TEST_TMP/stdout.err")" "report written to '-'" "the summary goes to standard error then"
run_fails 1 "a directory that does not exist" pga report --db "$DB" -o "$TEST_TMP/nodir/r.html"
like "$(last_err)" "could not create '$TEST_TMP/nodir/r.html.tmp-" "names the file"
LD_PRELOAD=$(failwrite_preload) FAILWRITE_MATCH=full.html FAILWRITE_AFTER=20000 \
	run_fails 1 "the disk fills up while the page is written" pga report --db "$DB" -o "$TEST_TMP/full.html"
like "$(last_err)" "No space left on device" "the error says why"
is "$(ls "$TEST_TMP" | grep -c 'full.html')" 0 "neither the page nor its temporary file is left"
echo old >"$TEST_TMP/keep.html"
LD_PRELOAD=$(failwrite_preload) FAILWRITE_MATCH=keep.html FAILWRITE_AFTER=1000 \
	run_fails 1 "a failed run" pga report --db "$DB" -o "$TEST_TMP/keep.html"
is "$(cat "$TEST_TMP/keep.html")" "old" "leaves the previous page as it was"

# ---- a section that cannot be computed: the page says which, exit 2 ----
q "ALTER TABLE pga.pg_stat_wal RENAME COLUMN wal_lsn TO wal_lsn_gone" >/dev/null
run_fails 2 "a query that fails is a partial report" pga report --db "$DB" -o "$TEST_TMP/part.html"
like "$(last_err)" "some sections could not be computed" "said on standard error"
like "$(cat "$TEST_TMP/part.html")" 'class="error">Could not compute pg_stat_wal: report query &#39;chart: pg_stat_wal&#39;: column x.wal_lsn does not exist' \
	"and in the page, where the chart would be"
like "$(cat "$TEST_TMP/part.html")" 'data-chart="tps"' "the other sections are there"
like "$(tail -c 40 "$TEST_TMP/part.html")" "</html>" "a whole page"

done_testing
