#!/usr/bin/env bash
# Everything in a report that came from a server is data, not markup.
# Hostile texts go through the whole pipeline (a real PostgreSQL 15
# collected by pga collect, and pga spool put blocks; pga load; pga report)
# in every place a server writes: database and table names, statement
# texts, a setting's value, a server log message, a standby's and a slot's
# name (SVG legends), bytes that are not UTF-8 (escaped by the collector),
# U+202E and a 100 KB statement.  Headless Chromium runs none of them: the
# title they try to set stays, no element they try to create exists, the
# texts show as text, the page fits 1280 px, the long text is cut with the
# full text in a <details>.  And the Content-Security-Policy blocks a script
# and a handler injected into the page, with the script's hash as openssl
# computes it.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

command -v chromium >/dev/null || skip_all "chromium is not installed (make deps)"
PY=/usr/bin/python3
pg_start main 15 "logging_collector = on" "log_destination = 'csvlog'" \
	"log_filename = 'postgresql-%H%M%S.log'"
psqlq() { pg_psql main "$1" -At -c "$2"; }
# a database name with '=' reads as a conninfo: give it as dbname='...'
xdb() { local v=${1//\\/\\\\}; echo "dbname='${v//\'/\\\'}'"; }
DB_X="<script>document.title='db'</script>"
TBL_X="</svg><img src=x onerror=document.title='tbl'>"
COL_X="<script>document.title='stmt'</script>"
HREF_X='"><a href="javascript:document.title=1">x</a>'
RLO=$(printf 'abc\u202egpj.exe')
SET_X="<script>document.title='set'</script>"
LOG_X="<img src=x onerror=document.title='log'>"
STANDBY_X="\"><svg onload=document.title='svg'>"
SLOT_X="</text><script>document.title='slot'</script>"

pg_psql main postgres -c "CREATE DATABASE central" -c "CREATE DATABASE \"${DB_X//\"/\"\"}\"" \
	-c "CREATE DATABASE rawdb ENCODING SQL_ASCII TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'" >/dev/null
psqlq postgres "CREATE EXTENSION pg_stat_statements" >/dev/null
psqlq "$(xdb "$DB_X")" "CREATE TABLE \"$TBL_X\" (id int); INSERT INTO \"$TBL_X\" VALUES (1)" >/dev/null
# a table name that is not UTF-8: the collector writes it as \xff
pg_psql main rawdb -c "CREATE EXTENSION pg_stat_statements" >/dev/null
printf 'CREATE TABLE "bad\377name" (a int);\n' | PGCLIENTENCODING=SQL_ASCII pg_psql main rawdb >/dev/null
# aliases and constants do not make a new queryid: the column counts differ
BIG=$($PY -c "print('SELECT 1, 2, 3, 4 /* ' + 'x' * 100000 + ' </pre></details><script>document.title=\'big\'</script> END-OF-BIG */')")
stmts() {
	for _ in 1 2 3; do
		echo "SELECT 1 AS \"${COL_X//\"/\"\"}\";"
		echo "SELECT 1, 2 AS \"${HREF_X//\"/\"\"}\";"
		echo "SELECT 1, 2, 3 AS \"$RLO\";"
		echo "$BIG;"
	done | pg_psql main postgres >/dev/null
	for _ in 1 2 3; do psqlq "$(xdb "$DB_X")" "SELECT count(*) FROM \"$TBL_X\"" >/dev/null; done
}
SP=$TEST_TMP/spool
cat >"$TEST_TMP/pga.conf" <<CONF
[global]
spool-path = $SP
collector = site
central = $(pg_conninfo main central)
texts-every = 1
[target:main]
conninfo = $(pg_conninfo main '*')
csvlog = $PG_DATA_main/log
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf
stmts
run_ok "collect 1" pga collect
stmts
# log_line_prefix: any text, and the collector's session leaves it as the server has it
pg_psql main postgres -c "ALTER SYSTEM SET log_line_prefix TO '${SET_X//\'/\'\'} '" \
	-c "SELECT pg_reload_conf()" >/dev/null
psqlq postgres "DO \$\$BEGIN RAISE EXCEPTION '${LOG_X//\'/\'\'}'; END\$\$" >/dev/null 2>&1
sleep 1.1
run_ok "collect 2" pga collect

# the names a standby and a slot give themselves end up in SVG legends
cols_of() { helper catalog-cols | awk -F'\t' -v m="$1" '$1 == m { print $4 }'; }
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
T0=$(( $(date +%s) / 60 * 60 - 600 ))
for i in 0 1 2; do
	ts=$(date -u -d "@$((T0 + i * 60))" +%FT%TZ)
	row pg_stat_replication pid=7 "application_name=$STANDBY_X" replay_lag=0.$i replay_lag_bytes=$((i * 100)) |
		pga spool put --metric pg_stat_replication --columns "$(cols_of pg_stat_replication)" --target "$STANDBY_X" --time "$ts"
	row pg_replication_slots "slot_name=$SLOT_X" retained_wal_bytes=$((i * 1000 + 1)) |
		pga spool put --metric pg_replication_slots --columns "$(cols_of pg_replication_slots)" --target "$STANDBY_X" --time "$ts"
	row pg_database datid=5 "datname=$DB_X" size_bytes=$((i * 1000 + 10)) |
		pga spool put --metric pg_database --columns "$(cols_of pg_database)" --target "$STANDBY_X" --time "$ts"
done 2>/dev/null
run_ok "load" pga load --init
run_ok "load" pga load
run_ok "report" pga report -o "$TEST_TMP/r.html" --since -20m --top 50
H=$TEST_TMP/r.html

# ---- the page's bytes ----
for x in "$DB_X" "$TBL_X" "$COL_X" "$SET_X" "$LOG_X" "$STANDBY_X" "$SLOT_X" "$HREF_X"; do
	n=$(grep -cF -- "$x" "$H")
	is "$n" 0 "never raw in the page: ${x:0:40}"
done
is "$(grep -c $'\u202e' "$H")" 0 "U+202E is not in the page as itself"
like "$(grep -o 'abc\\u202egpj' "$H" | head -1)" 'abc\\u202egpj' "it shows as \\u202e"
ok $(grep -qF 'bad\xffname' "$H"; echo $?) "a name that was not UTF-8 shows as the collector escaped it (bad\\xffname)"
is "$(grep -c '<script' "$H")" 1 "one <script> element: pga's"
is "$(grep -o '<script>' "$H" | wc -l)" 1 "and it is the one at the end"
ok $($PY - "$H" <<'PY'
import sys
from html.parser import HTMLParser
allowed = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4", "p",
           "b", "main", "section", "table", "thead", "tbody", "tr", "th", "td", "span", "nav", "ul",
           "li", "a", "div", "figure", "figcaption", "svg", "line", "text", "g", "path", "circle",
           "rect", "code", "details", "summary", "pre", "footer", "script"}
bad = []
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        if tag not in allowed:
            bad.append(tag)
        bad.extend(n for n, v in attrs if n.startswith("on") or (n == "href" and not v.startswith("#")))
P().feed(open(sys.argv[1], encoding="utf-8").read())
print("# not pga's:", bad, file=sys.stderr) if bad else None
sys.exit(1 if bad else 0)
PY
echo $?) "every element and attribute is pga's: no handler, no link but to the page itself"

# ---- in a browser ----
run_ok "chromium renders it" $PY "$TESTS_DIR/lib/browser.py" "$H" "$TEST_TMP/b.json" \
	--eval 'imgs=document.querySelectorAll("img").length' \
	--eval 'scripts=document.querySelectorAll("script").length' \
	--eval 'js_links=document.querySelectorAll("a[href^=javascript]").length' \
	--eval 'handlers=Array.from(document.querySelectorAll("*")).filter(function(e){return Array.from(e.attributes).some(function(a){return a.name.indexOf("on")===0;});}).length' \
	--eval 'svgs=Array.from(document.querySelectorAll("svg")).filter(function(s){return !s.classList.contains("chart")&&!s.classList.contains("spark");}).length' \
	--eval 'text=document.body.textContent' \
	--eval 'big=(function(){var p=Array.from(document.querySelectorAll("details pre.sql")).filter(function(e){return e.textContent.indexOf("END-OF-BIG")>=0;});return p.length?[p[0].textContent.length,p[0].closest("details").open,p[0].closest("td").querySelector("code").textContent.length]:null;})()'
b() { $PY -c "import json; d = json.load(open('$TEST_TMP/b.json')); print($1)"; }
like "$(b "d['title']")" "^pga report, " "no payload set the title"
is "$(b "[d['eval'][k] for k in ('imgs', 'scripts', 'js_links', 'handlers', 'svgs')]")" "[0, 1, 0, 0, 0]" \
	"no image, no other script, no javascript: link, no handler, no foreign svg was created"
is "$(b "d['console'] + d['exceptions']")" "[]" "no console error (nothing even tried to run)"
ok $([ "$(b "d['width']")" -le 1280 ]; echo $?) "the page stays 1280 px wide ($(b "d['width']"))"
for x in "$DB_X" "$TBL_X" "$COL_X" "$SET_X" "$LOG_X" "$STANDBY_X" "$SLOT_X" "bad\\xffname" "abc\\u202egpj.exe"; do
	is "$($PY -c "import json, sys; d = json.load(open('$TEST_TMP/b.json')); print(sys.argv[1] in d['eval']['text'])" "$x")" True \
		"shown as text: ${x:0:40}"
done
big=$(b "d['eval']['big']")
ok $($PY -c "b = $big; import sys; sys.exit(not (b and b[0] >= 100000 and b[1] is False and b[2] <= 170))"; echo $?) \
	"the 100 KB statement: cut to a line, the full text ($big) in a closed <details>"

# ---- the policy itself ----
csp=$(grep -o '<meta http-equiv="Content-Security-Policy" content="[^"]*"' "$H")
like "$csp" "default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src 'none'" \
	"default-src 'none', one script and one style allowed by hash"
script_hash=$($PY -c "
import re, sys
p = open('$H', encoding='utf-8').read()
sys.stdout.write(re.search(r'<script>(.*)</script>', p, re.S).group(1))" | openssl dgst -sha256 -binary | base64)
like "$csp" "script-src 'sha256-${script_hash//+/\\+}'" "openssl computes the same hash of the page's script"
style_hash=$($PY -c "
import re, sys
p = open('$H', encoding='utf-8').read()
sys.stdout.write(re.search(r'<style>(.*?)</style>', p, re.S).group(1))" | openssl dgst -sha256 -binary | base64)
like "$csp" "style-src 'sha256-${style_hash//+/\\+}'" "and of its style sheet"
# what if escaping failed somewhere: an injected script and handler must not run
sed 's|<main>|<main><script>document.title="injected"</script><img src=x onerror="document.title=1"><p style="color:red" id="styled">x</p>|' \
	"$H" >"$TEST_TMP/injected.html"
run_ok "chromium renders a page with markup injected" $PY "$TESTS_DIR/lib/browser.py" "$TEST_TMP/injected.html" \
	"$TEST_TMP/i.json" --eval 'color=getComputedStyle(document.getElementById("styled")).color'
like "$($PY -c "import json; print(json.load(open('$TEST_TMP/i.json'))['title'])")" "^pga report, " \
	"the injected script did not run: the policy refused it"
like "$($PY -c "import json; print(json.load(open('$TEST_TMP/i.json'))['console'])")" "Content Security Policy" \
	"and Chromium says why"
isnt_red=$($PY -c "import json; print(json.load(open('$TEST_TMP/i.json'))['eval']['color'])")
ok $([ "$isnt_red" != "rgb(255, 0, 0)" ]; echo $?) "an injected style attribute does not apply ($isnt_red)"

done_testing
