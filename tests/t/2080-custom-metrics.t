#!/usr/bin/env bash
# Custom SQL metrics ([metric:NAME]): a DBA's query runs through the
# pipeline of the built-in ones (same snapshot, COPY into the spool, per
# database for scope = database), with the roles and types of its columns
# in the definition; a bad query costs only that metric, a query that writes
# is refused by the read-only transaction and changes nothing, the text
# cannot escape COPY's parentheses; bad configuration is one line naming
# file and line; pga check runs each and reports the failing ones.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

SP=$TEST_TMP/spool
conf() { printf '[global]\nspool-path = %s\ncollector = cm\n' "$SP"; cat; }
onefile() { local f=$1; shift; conf >"$TEST_TMP/$f"; }

# ---- bad configuration: refused before any connection, one line with file:line ----
bad() {	# bad NAME EXPECTED-REGEX <<CONF
	local name=$1 want=$2
	conf >"$TEST_TMP/$name.conf"
	run_fails 1 "config: $name is refused" pga -c "$TEST_TMP/$name.conf" collect
	like "$(last_err)" "$want" "  $name: names file and line"
	is "$(grep -c . "$ERR")" 1 "  $name: in one line"
}
T='[target:x]
conninfo = host=127.0.0.1 port=1 dbname=postgres'
bad unknown "unknown.conf:8: unknown key 'bogus' in \[metric:m1\]" <<CONF
$T
[metric:m1]
sql = SELECT 1 AS a
bogus = 1
CONF
bad badname "badname.conf:6: invalid metric name 'Bad-Name'" <<CONF
$T
[metric:Bad-Name]
sql = SELECT 1 AS a
CONF
bad builtin "builtin.conf:6: \[metric:pg_stat_database\] is a built-in metric" <<CONF
$T
[metric:pg_stat_database]
sql = SELECT 1 AS a
CONF
bad reserved "reserved.conf:6: \[metric:segments\] is a name the central schema reserves" <<CONF
$T
[metric:segments]
sql = SELECT 1 AS a
CONF
bad nosql "nosql.conf:6: \[metric:m1\] has no 'sql'" <<CONF
$T
[metric:m1]
keys = a
CONF
bad twostmts "twostmts.conf:8: \[metric:m1\] sql has a ';' at offset 8" <<CONF
$T
[metric:m1]
keys = a
sql = SELECT 1; DROP TABLE t
CONF
bad trailing "trailing.conf:7: \[metric:m1\] sql has a ';'" <<CONF
$T
[metric:m1]
sql = SELECT 1 AS a;
CONF
bad program "program.conf:7: \[metric:m1\] sql closes a parenthesis it did not open" <<CONF
$T
[metric:m1]
sql = SELECT 1) TO PROGRAM 'touch $TEST_TMP/pwned' --
CONF
bad openparen "openparen.conf:7: \[metric:m1\] sql leaves 1 parenthesis open" <<CONF
$T
[metric:m1]
sql = SELECT (1 AS a
CONF
bad unterminated "unterminated.conf:7: \[metric:m1\] sql has an unterminated quote" <<CONF
$T
[metric:m1]
sql = SELECT 'a) TO PROGRAM ''x'' --
CONF
bad comment "comment.conf:7: \[metric:m1\] sql has an unterminated" <<CONF
$T
[metric:m1]
sql = SELECT 1 /* ) TO PROGRAM 'x'
CONF
bad roles "roles.conf:9: \[metric:m1\] column 'a' is in 'keys' and in 'gauges'" <<CONF
$T
[metric:m1]
sql = SELECT 1 AS a
keys = a
gauges = a
CONF
bad colname "colname.conf:8: \[metric:m1\] 'counters': 'ctid' is not a column name" <<CONF
$T
[metric:m1]
sql = SELECT 1 AS a
counters = ctid
CONF
bad versions "versions.conf:8: \[metric:m1\] max-version 120000 is below min-version 150000" <<CONF
$T
[metric:m1]
sql = SELECT 1 AS a
max-version = 120000
min-version = 150000
CONF
bad scope "scope.conf:7: key 'scope': 'scope' must be one of cluster, database, not 'everywhere'" <<CONF
$T
[metric:m1]
scope = everywhere
sql = SELECT 1 AS a
CONF
ok $([ ! -e "$TEST_TMP/pwned" ] && [ ! -d "$SP" ]; echo $?) "nothing ran, no spool was created"

# the environment and includes reach [metric:NAME] like any section
printf '[metric:inc]\nsql = SELECT 1 AS a\n' >"$TEST_TMP/inc.conf"
printf '%s\ninclude = inc.conf\n' "$T" | conf >"$TEST_TMP/env.conf"
PGA_METRIC_INC_EVERY=7 helper config-get "$TEST_TMP/env.conf" metric.inc.every metric.inc.sql >"$OUT" 2>"$ERR"
like "$(last_out)" "metric.inc.every=7 @environment variable PGA_METRIC_INC_EVERY" "PGA_METRIC_<NAME>_<KEY> sets a key"
like "$(last_out)" "metric.inc.sql=SELECT 1 AS a @.*inc.conf:2" "an included file declares a metric"

# ---- a server, a monitoring role, things to write to ----
# a server whose default reads a backslash in '' as an escape: pga's
# sessions must not (the text check and the server agree on where literals end)
pg_start c "$PG_DEFAULT_VERSION" "standard_conforming_strings = off"
pg_psql c postgres -c "CREATE DATABASE d1" -c "CREATE DATABASE d2" -c "CREATE DATABASE central" \
	-c "CREATE ROLE mon LOGIN IN ROLE pg_monitor" >/dev/null
pg_psql c d1 >/dev/null <<'SQL'
CREATE TABLE public.t (a int);
INSERT INTO public.t VALUES (1), (2);
CREATE TABLE public.secret (a int);
CREATE SEQUENCE public.s;
GRANT SELECT, INSERT ON public.t TO mon;
GRANT USAGE, UPDATE ON SEQUENCE public.s TO mon;
CREATE FUNCTION public.w() RETURNS int LANGUAGE sql SECURITY DEFINER
	AS 'INSERT INTO public.t VALUES (99) RETURNING a';
CREATE FUNCTION public.rw() RETURNS text LANGUAGE sql
	AS $$SELECT set_config('transaction_read_only', 'off', true)$$;
SQL
state() { pg_psql c d1 -At -c "SELECT (SELECT count(*) FROM public.t), (SELECT last_value || '/' || is_called FROM public.s)"; }
before=$(state)
many="SELECT $(seq -s, 1 1025 | sed 's/\([0-9]*\)/1 AS c\1/g')"

conf >"$TEST_TMP/pga.conf" <<CONF
[target:c]
conninfo = $(pg_conninfo c d1) user=mon
databases = postgres,d1,d2

[metric:app_counts]
sql = SELECT 'x'::text AS label, 42::bigint AS calls, 7 AS level, now() AS stats_reset, 1.5::float8 AS ratio, 'note' AS note, (SELECT count(*) FROM public.t) AS rows_in_t
keys = label
counters = calls
gauges = level,ratio,rows_in_t
reset-column = stats_reset

[metric:per_db]
scope = database
sql = SELECT current_database()::text AS db, count(*) AS relations FROM pg_class
keys = db
gauges = relations

[metric:tricky]
sql = SELECT E'\\')' AS e, 'b\\' AS b, \$q\$) ; --\$q\$ AS d, ")"."x" FROM (SELECT 1 AS x) AS ")" -- ) TO PROGRAM 'touch $TEST_TMP/pwned'

[metric:future]
min-version = 990000
sql = SELECT 1 AS a

[metric:past]
max-version = 100000
sql = SELECT 1 AS a

[metric:switched_off]
enabled = off
sql = SELECT 1 AS a

[metric:bad_insert]
sql = INSERT INTO public.t VALUES (5) RETURNING a
[metric:bad_nextval]
sql = SELECT nextval('public.s') AS v
[metric:bad_function]
sql = SELECT public.w() AS v
[metric:bad_readwrite]
sql = SELECT public.rw() AS v
[metric:bad_syntax]
sql = SELEC 1 AS a
[metric:bad_missing]
sql = SELECT a FROM public.nope
[metric:bad_permission]
sql = SELECT a FROM public.secret
[metric:bad_timeout]
statement-timeout = 200ms
sql = SELECT pg_sleep(5)::text AS slept
[metric:bad_nocolumns]
sql = SELECT
[metric:bad_copy]
sql = COPY (SELECT 1) TO PROGRAM 'touch $TEST_TMP/pwned'
[metric:bad_ddl]
sql = CREATE TABLE public.made_by_pga (a int)
[metric:bad_duplicate]
sql = SELECT 1 AS a, 2 AS a
[metric:bad_unnamed]
sql = SELECT 1
[metric:bad_counter]
sql = SELECT 1 AS a
counters = b
[metric:bad_many]
sql = $many
[metric:bad_division]
scope = database
sql = SELECT 1 / (count(*) - count(*)) AS boom FROM pg_class
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf
NBAD=18	# 16 cluster ones, bad_division in each of 3 databases

run_fails 2 "a cycle with failing custom metrics is partial: exit 2" pga collect
# a built-in metric our role may not read on some versions (pg_stat_subscription on 12)
builtin=$(grep "metric '" "$ERR" | grep -vc "metric 'bad_")
[ "$builtin" -eq 0 ] || diag "built-in metric errors besides: $builtin"
NBAD=$((NBAD + builtin))
for m in bad_insert bad_nextval bad_function; do
	like "$(last_err)" "metric '$m': .*read-only transaction \(SQLSTATE 25006\)" "  $m: refused as a write"
done
like "$(last_err)" "metric 'bad_readwrite': .*\(SQLSTATE 25001\)" "  bad_readwrite: cannot make the transaction read-write"
like "$(last_err)" "metric 'bad_syntax': .*syntax error.*\(SQLSTATE 42601\)" "  bad_syntax: the server's reason"
like "$(last_err)" "metric 'bad_missing': .*\"public.nope\" does not exist \(SQLSTATE 42P01\)" "  bad_missing"
like "$(last_err)" "metric 'bad_permission': .*permission denied .*\(SQLSTATE 42501\)" "  bad_permission"
like "$(last_err)" "metric 'bad_timeout': .*statement timeout \(SQLSTATE 57014\)" "  bad_timeout: its own statement-timeout"
like "$(last_err)" "metric 'bad_nocolumns': the query returns no columns" "  bad_nocolumns"
like "$(last_err)" "metric 'bad_ddl': the query returns no columns" "  bad_ddl: described, never run"
like "$(last_err)" "metric 'bad_copy': the query returns no columns" "  bad_copy: described, never run"
like "$(last_err)" "metric 'bad_duplicate': result column 'a' appears twice" "  bad_duplicate"
like "$(last_err)" "metric 'bad_unnamed': result column 1 '\?column\?' is not a column name: name it with AS" "  bad_unnamed"
like "$(last_err)" "metric 'bad_counter': counters column 'b' is not in the query's result \(.*pga.conf:[0-9]+\)" \
	"  bad_counter: names the key's line"
like "$(last_err)" "metric 'bad_many': the query returns 1025 columns, at most 1024" "  bad_many"
is "$(grep -c "metric 'bad_division'.*division by zero" "$ERR")" 3 "  bad_division: once in each database"
like "$(last_err)" "targets 1 ok, 0 failed, 0 skipped; 3 databases, .*; $NBAD metric errors" \
	"the target is collected, with $NBAD metric errors"
is "$(state)" "$before" "nothing was written: the table and the sequence are as they were"
is "$(pg_psql c d1 -At -c "SELECT to_regclass('public.made_by_pga') IS NULL")" t "no table was created"
ok $([ ! -e "$TEST_TMP/pwned" ]; echo $?) "no program ran"

helper seg-blocks "$SP" >"$TEST_TMP/b1"
blk() { awk -F'\t' -v m="$1" '$1 == m' "$TEST_TMP/b1"; }
is "$(blk app_counts | cut -f4,10)" "1	label,calls,level,stats_reset,ratio,note,rows_in_t" \
	"app_counts: one block, one row, its columns in the query's order"
is "$(blk per_db | cut -f3,4 | sort | tr '\n' ' ')" "d1	1 d2	1 postgres	1 " "per_db: a block in each database"
is "$(blk tricky | cut -f4,10)" "1	e,b,d,x" "tricky quoting is one query, collected"
is "$(blk future; blk past; blk switched_off)" "" "out of its versions or off: no block"
is "$(blk bad_insert; blk bad_syntax; blk bad_many; blk bad_division)" "" "failed metrics: no block"
is "$(blk pg_stat_database | cut -f4 | grep -c .)" 1 "the built-in metrics are all there (pg_stat_database)"
is "$(blk pg_stat_user_tables | cut -f3 | sort | tr '\n' ' ')" "d1 d2 postgres " "  and per database"
is "$(blk snapshot_status | cut -f4)" 1 "the snapshot has its status"
snap() { blk "$1" | cut -f5 | sort -u; }
is "$(snap app_counts)" "$(snap pg_stat_database)" "same snapshot time as the built-in metrics"
is "$(snap per_db)" "$(snap pg_stat_database)" "  in every database too"
seg=$(blk app_counts | cut -f11)
pga spool cat --metric app_counts "$seg" >"$OUT" 2>"$ERR"
like "$(last_out)" "x,42,7,[0-9-]+ [0-9:.]+\+00,1.5,note,2" "the row's values, dates in UTC"
pga spool cat --metric tricky "$seg" >"$OUT" 2>"$ERR"
ok $(grep -qxF "'),b\\,) ; --,1" "$OUT"; echo $?) "tricky values intact"
pga spool cat --metric snapshot_status "$seg" >"$OUT" 2>"$ERR"
like "$(last_out)" "(^|"$'\n'")complete,([0-9]+,){3}0,$NBAD," "snapshot_status: complete, with $NBAD metric errors"
is "$(pga spool ls | awk '$1 == "metric_errors" { print $2 }')" "$NBAD" "counted in the spool counters"

# ---- pga check runs each once and names the failing ones ----
run_fails 1 "pga check with failing custom metrics: exit 1" pga check
like "$(last_out)" "problem: +metric 'bad_insert': .*read-only transaction" "  reports the writing one"
like "$(last_out)" "problem: +metric 'bad_counter': counters column 'b' is not in the query's result" "  and the bad counter"
like "$(last_out)" "problem: +metric 'bad_division': .*division by zero" "  and a database metric (in the first database)"
like "$(last_out)" "future +off: not for server_version_num" "  out of versions: off"
unlike() { ok $(printf '%s' "$1" | grep -Eq -- "$2"; [ $? -ne 0 ]; echo $?) "$3"; }
unlike "$(last_out)" "problem: +metric '(app_counts|per_db|tricky)'" "  the good ones are no problem"
is "$(state)" "$before" "  and wrote nothing either"
pga check --json >"$OUT" 2>"$ERR"
is "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
m = {x["metric"]: x["state"] for t in d["targets"] for x in t["metrics"]}
print(m.get("app_counts"), m.get("bad_insert"), m.get("future"), d["ok"])' "$OUT")" "ok error off False" \
	"  --json: each custom metric's state"

# ---- pga help metrics lists them ----
run_ok "pga help metrics" pga help metrics
like "$(last_out)" "app_counts \(cluster\)" "  lists the custom metrics"
like "$(last_out)" "per_db \(database\)" "  with their scope"

# ---- every = N and the versions in a loop; a load into the central database ----
conf >"$TEST_TMP/loop.conf" <<CONF
central = $(pg_conninfo c central)
[target:c]
conninfo = $(pg_conninfo c d1) user=mon
databases = postgres,d1,d2
[metric:app_counts]
sql = SELECT 'x'::text AS label, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS calls, 7 AS level, '2026-01-01 00:00:00+00'::timestamptz AS stats_reset, 'note' AS note
keys = label
counters = calls
gauges = level
reset-column = stats_reset
[metric:per_db]
scope = database
sql = SELECT current_database()::text AS db, count(*) AS relations FROM pg_class
keys = db
gauges = relations
[metric:third]
every = 3
scope = database
sql = SELECT 1 AS one
[metric:future]
min-version = 990000
sql = SELECT 1 AS a
CONF
rm -rf "$SP"
run_ok "collect --loop, 4 cycles" pga -c "$TEST_TMP/loop.conf" collect --loop --cycles 4 --interval 200ms
helper seg-blocks "$SP" >"$TEST_TMP/b1"
is "$(blk app_counts | grep -c .)" 4 "app_counts every cycle"
is "$(blk per_db | grep -c .)" 12 "per_db every cycle in each of 3 databases"
is "$(blk third | grep -c .)" 6 "every = 3: cycles 1 and 4, in each database"
is "$(blk future | grep -c .)" 0 "min-version above the server: never"
# a central database that reads literals the old way: pga's sessions set the standard reading
pg_psql c postgres -c "ALTER DATABASE central SET standard_conforming_strings = off" >/dev/null
run_ok "load --init" pga -c "$TEST_TMP/loop.conf" load --init
run_ok "load the segments" pga -c "$TEST_TMP/loop.conf" load
is "$(pg_psql c central -At -c "SELECT count(*) FROM pga.app_counts")" 4 "app_counts rows in the central table"
is "$(pg_psql c central -At -c "SELECT count(*) FROM pga.per_db")" 12 "per_db rows too"
# typed from the block headers alone: the loader knows nothing of app_counts
is "$(pg_psql c central -At -c "SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY column_name)
	FROM information_schema.columns WHERE table_schema = 'pga' AND table_name = 'app_counts'
	AND column_name IN ('label', 'calls', 'level', 'stats_reset', 'note')")" \
	"calls bigint,label text,level integer,note text,stats_reset timestamp with time zone" \
	"app_counts: a typed central table, each column as the server described it"
is "$(pg_psql c central -At -c "SELECT count(*) || ' ' || bool_and(calls > 0) || ' ' || bool_or(reset)
	FROM pga.app_counts_delta")" "3 true false" \
	"app_counts_delta: the counter's growth between the 4 cycles, no reset"
is "$(pg_psql c central -At -c "SELECT count(*) FROM pga.pg_stat_database WHERE datname = 'd1'")" 4 \
	"beside the built-in metrics"

# ---- encoding: bytes that are not UTF-8 go through the same escaper ----
pg_psql c postgres -c "CREATE DATABASE sa ENCODING SQL_ASCII TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'" >/dev/null
printf "CREATE TABLE public.names (n text);\nINSERT INTO public.names VALUES ('caf\xe9');\n" |
	PGCLIENTENCODING=SQL_ASCII pg_psql c sa >/dev/null
conf >"$TEST_TMP/enc.conf" <<CONF
[target:c]
conninfo = $(pg_conninfo c sa)
[metric:raw_names]
sql = SELECT n, length(n) AS len FROM public.names
gauges = len
CONF
rm -rf "$SP"
run_ok "a custom metric over bytes that are not UTF-8" pga -c "$TEST_TMP/enc.conf" collect
like "$(last_err)" "values held bytes that are not UTF-8, written as \\\\xNN: .*custom metrics 1" \
	"counted as the custom metrics' escaped values"
seg=$(helper seg-blocks "$SP" | awk -F'\t' '$1 == "raw_names" { print $11 }')
pga spool cat --metric raw_names "$seg" >"$OUT" 2>"$ERR"
ok $(grep -qxF 'caf\xe9,4' "$OUT"; echo $?) "the value escaped as \\xNN"

# ---- SIGHUP in --loop: a new [metric:NAME] is taken, a bad one refused ----
rm -rf "$SP"
C=$TEST_TMP/hup.conf
LOG=$TEST_TMP/hup.log
hupconf() { conf >"$C" <<CONF
interval = 300ms
[target:c]
conninfo = $(pg_conninfo c d1) user=mon
[metric:first]
sql = SELECT 1 AS one
$1
CONF
}
hupconf ""
"$PGA_BIN" -c "$C" collect --loop 2>"$LOG" &
LOOP=$!
at_exit "kill -9 $LOOP"
wait_log() { for _ in $(seq 100); do grep -q -- "$1" "$LOG" && return 0; sleep 0.1; done; return 1; }
wait_log "cycle 2:"; ok $? "the loop runs"
hupconf "[metric:pg_settings]
sql = SELECT 1 AS one"
kill -HUP $LOOP
wait_log "configuration not reloaded"; ok $? "a reload with a built-in metric's name is refused"
like "$(grep 'not reloaded' "$LOG")" "hup.conf:9: \[metric:pg_settings\] is a built-in metric" "  naming file and line"
hupconf "[metric:second]
sql = SELECT 2 AS two"
kill -HUP $LOOP
wait_log "configuration reloaded"; ok $? "a good one is taken"
n=$(grep -c "info: cycle [0-9]*:" "$LOG")
for _ in $(seq 100); do [ "$(grep -c "info: cycle [0-9]*:" "$LOG")" -ge $((n + 2)) ] && break; sleep 0.1; done
kill -TERM $LOOP
wait $LOOP
is $? 0 "TERM ends the loop cleanly"
helper seg-blocks "$SP" >"$TEST_TMP/b1"
ok $([ "$(blk second | grep -c .)" -ge 1 ]; echo $?) "the new metric is collected after the reload"
is "$(blk first | grep -c .)" "$(blk snapshot_status | grep -c .)" "the first one in every cycle"

done_testing
