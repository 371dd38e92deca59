#!/usr/bin/env bash
# Bytes that are not UTF-8 never reach the central COPY: a SQL_ASCII
# database's object names, database name and query texts, a WIN1252
# database with a byte that has no UTF-8 equivalent, a csvlog holding the
# raw user name of a refused startup packet, and a csvlog file crafted with
# every class of bad sequence and a NUL.  A LATIN1 database is converted by
# the server (é arrives as UTF-8 é).  Everything loads with `pga load`; the
# escaped values are found centrally, as \xNN, and the collector's counts
# (per metric, per cycle, persistent, per snapshot) equal what is there.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start main 15 "logging_collector = on" "log_destination = 'csvlog'" \
	"log_directory = 'log'" "log_filename = 'postgresql'"
raw() { local enc=$1 db=$2; shift 2; PGCLIENTENCODING=$enc pg_psql main "$db" "$@"; }
q() { pg_psql main central -At -c "$1"; }
pg_psql main postgres -c "CREATE EXTENSION pg_stat_statements" \
	-c "CREATE DATABASE sa ENCODING SQL_ASCII TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'" \
	-c "CREATE DATABASE l1 ENCODING LATIN1 TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'" \
	-c "CREATE DATABASE w1 ENCODING WIN1252 TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'" \
	-c "CREATE DATABASE central"
# SQL_ASCII takes any byte but NUL: one table per class of bad sequence
printf '%s\n' 'CREATE EXTENSION pg_stat_statements;' \
	'CREATE TABLE "t'$'\xe9''st" (a int);' \
	'CREATE TABLE "bad'$'\xff\xfe''" (a int);' \
	'CREATE TABLE "over'$'\xc0\xaf''long" (a int);' \
	'CREATE TABLE "sur'$'\xed\xa0\x80''rogate" (a int);' \
	'CREATE TABLE "big'$'\xf4\x90\x80\x80''" (a int);' \
	'CREATE TABLE "cut'$'\xe2\x82''" (a int);' \
	'CREATE TABLE "lone'$'\x80''cont" (a int);' \
	'CREATE TABLE "good caf'$'\xc3\xa9''" (a int);' \
	'SELECT 1 AS "col'$'\xe9\xff''";' \
	'CREATE DATABASE "d'$'\xe9''b";' | raw SQL_ASCII sa >/dev/null
raw SQL_ASCII $'d\xe9b' -c 'CREATE TABLE inside (a int)'
printf 'CREATE TABLE "caf\xe9" (a int);\n' | raw LATIN1 l1
printf 'CREATE TABLE "w\x81x" (a int); CREATE SEQUENCE "s\xe9q";\n' | raw WIN1252 w1
# a refused connection: the server writes the startup packet's user to csvlog
psql -X "host=$PG_SOCK_main port=$PG_PORT_main dbname=postgres user=bad"$'\xff\xfe'"user" \
	-c 'SELECT 1' >/dev/null 2>&1
LOG=$PG_DATA_main/log/postgresql.csv
for _ in $(seq 50); do grep -aq 'bad.*user' "$LOG" 2>/dev/null && break; sleep 0.1; done

# an OS file in csvlog format: every class in one record's fields, and a NUL
FAKE=$TEST_TMP/fake.csv
python3 - "$FAKE" <<'PY'
import sys
f = [b'2026-01-01 00:00:00.000 UTC', b'u\xe9', b'postgres', b'1', b'[local]', b's.1', b'1', b'',
     b'2026-01-01 00:00:00 UTC', b'', b'0', b'LOG', b'00000', b'nul\x00byte',
     b'overlong \xe0\x80\xaf surrogate \xed\xbf\xbf', b'high \xf5\x80\x80\x80 lone \xbf',
     b'cut at the end \xf0\x9f\x98', b'', b'', b'', b'', b'', b'ok caf\xc3\xa9',
     b'client backend', b'', b'']
assert len(f) == 26
text = {1, 2, 4, 5, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 21, 22, 23}
out = b','.join((b'"' + v.replace(b'"', b'""') + b'"') if i in text and v else v for i, v in enumerate(f))
open(sys.argv[1], 'wb').write(out + b'\n')
PY

# a host (here a socket directory) named with a byte that is not UTF-8
BADHOST=$TEST_TMP/sock$'\xe9'
ln -s "$PG_SOCK_main" "$BADHOST"

SP=$TEST_TMP/spool
cat >"$TEST_TMP/pga.conf" <<CONF
[global]
spool-path = $SP
collector = enc
central = $(pg_conninfo main central)
[target:main]
conninfo = $(pg_conninfo main '*')
csvlog = $LOG
[target:fake]
conninfo = host=$BADHOST port=$PG_PORT_main user=postgres dbname=postgres
csvlog = $FAKE
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf

run_ok "a cycle over SQL_ASCII, LATIN1 and WIN1252 databases and two csvlogs exits 0" pga collect
cp "$ERR" "$TEST_TMP/c1.err"
like "$(last_err)" "query texts read in SQL_ASCII database 'sa'" \
	"texts postgres cannot convert are read in the SQL_ASCII database"
is "$(grep -c 'values held bytes that are not UTF-8' "$TEST_TMP/c1.err")" 1 "one warning for the cycle"
total=$(sed -n 's/.*cycle 1: .*; \([0-9]*\) values escaped.*/\1/p' "$TEST_TMP/c1.err")
detail=$(sed -n 's/.*values held bytes that are not UTF-8, written as \\xNN: //p' "$TEST_TMP/c1.err")
ok $([ "${total:-0}" -ge 20 ]; echo $?) "the summary counts the escaped values ($total)"
is "$(echo "$detail" | tr ',' '\n' | awk '{ s += $NF } END { print s }')" "$total" \
	"the per-metric figures add up to the total ($detail)"
like "$detail" "block headers 2" "the database name and the host in block headers count once each"
run_ok "a second cycle" pga collect
is "$(grep -c 'values held bytes that are not UTF-8' "$ERR")" 1 "one warning again, not one per value"
total2=$(sed -n 's/.*cycle 1: .*; \([0-9]*\) values escaped.*/\1/p' "$ERR")
detail2=$(sed -n 's/.*values held bytes that are not UTF-8, written as \\xNN: //p' "$ERR")
run_ok "the spool verifies" pga spool verify
is "$(pga spool ls | awk '$1 == "values_escaped" { print $2 }')" $((total + total2)) \
	"the persistent counter values_escaped adds both cycles"
is "$(helper seg-blocks "$SP" | awk -F'\t' '$1 == "pg_stat_user_tables" { print $3 }' | sort | grep -c '^d\\xe9b$')" 2 \
	"block headers carry the database name escaped"
is "$(helper seg-blocks "$SP" | awk -F'\t' '$2 == "fake" { print $8 }' | sort -u)" "$TEST_TMP/sock\\xe9" \
	"and the host"

run_ok "load into a UTF8 central database" pga load --init
run_ok "load" pga load --json
like "$(last_out)" '"refused":0' "nothing refused"
like "$(last_out)" '"loaded":[1-9]' "the segments loaded"

rel() { q "SELECT count(*) FROM pga.pg_stat_user_tables WHERE dbname = '$1' AND relname = '$2'"; }
is "$(rel sa 't\xe9st')" 2 "SQL_ASCII: t<e9>st arrives as t\\xe9st (one row per cycle)"
is "$(rel sa 'bad\xff\xfe')" 2 "two bad bytes: two escapes"
is "$(rel sa 'over\xc0\xaflong')" 2 "an overlong form: every byte escaped"
is "$(rel sa 'sur\xed\xa0\x80rogate')" 2 "a surrogate"
is "$(rel sa 'big\xf4\x90\x80\x80')" 2 "above U+10FFFF"
is "$(rel sa 'cut\xe2\x82')" 2 "a sequence cut short"
is "$(rel sa 'lone\x80cont')" 2 "a lone continuation byte"
is "$(rel sa 'good café')" 2 "valid UTF-8 in a SQL_ASCII database passes unchanged"
is "$(rel 'd\xe9b' inside)" 2 "the database named d<e9>b is collected, its name escaped"
is "$(rel l1 'café')" 2 "LATIN1: the server converts, é arrives as UTF-8 é"
is "$(q "SELECT count(*) FROM pga.servers WHERE host = '$TEST_TMP/sock\xe9'")" 1 "the escaped host names a server"
is "$(q "SELECT encode(convert_to(relname, 'UTF8'), 'hex') FROM pga.pg_stat_user_tables WHERE dbname = 'l1' LIMIT 1")" \
	"636166c3a9" "byte for byte (63 61 66 c3 a9)"
is "$(rel w1 'w\x81x')" 2 "WIN1252: a byte with no UTF-8 equivalent is read unconverted and escaped"
is "$(q "SELECT count(*) FROM pga.pg_statio_user_sequences WHERE dbname = 'w1' AND relname = 'séq'")" 2 \
	"the session converts again after that metric (é of WIN1252 arrives as UTF-8 é)"
is "$(q "SELECT sum(metrics_unconverted) FROM pga.snapshot_status")" \
	"$(q "SELECT (SELECT count(*) FROM pga.pg_stat_user_tables WHERE relname = 'w\x81x')
	      + (SELECT count(*) FROM pga.pg_statio_user_tables WHERE relname = 'w\x81x')
	      + (SELECT count(*) FROM pga.table_sizes WHERE relname = 'w\x81x')")" \
	"snapshot_status counts each metric read unconverted"
is "$(q "SELECT count(*) FROM pga.table_sizes WHERE dbname = 'sa' AND relname = 't\xe9st'")" 2 \
	"other metrics of the same database too"
is "$(q "SELECT count(*) FROM pga.pg_stat_statements_texts WHERE strpos(query, 'AS \"col\xe9\xff\"') > 0")" 2 \
	"a query text from the SQL_ASCII database, escaped (once per queryid and target)"
is "$(q "SELECT count(*) FROM pga.postgres_log WHERE user_name = 'bad\xff\xfeuser'
	AND message = 'role \"bad\xff\xfeuser\" does not exist'")" 1 \
	"the refused startup packet's user, in user_name and in the message"
is "$(q "SELECT user_name || '|' || message || '|' || detail || '|' || hint || '|' || internal_query
	|| '|' || application_name FROM pga.postgres_log WHERE session_id = 's.1'")" \
	'u\xe9|nul\x00byte|overlong \xe0\x80\xaf surrogate \xed\xbf\xbf|high \xf5\x80\x80\x80 lone \xbf|cut at the end \xf0\x9f\x98|ok café' \
	"the crafted csvlog: NUL, overlong, surrogate, beyond U+10FFFF, lone and cut sequences"

# the counts equal what is in the central database, metric by metric
per_metric() {
	q "SELECT count(*) FROM pga.$1 t, json_each_text(row_to_json(t)) j
	   WHERE j.key NOT IN ('dbname', 'collector_id') AND strpos(j.value, '\\x') > 0"
}
want=$( (echo "$detail" ; echo "$detail2") | tr ',' '\n' | awk 'NF && $1 != "block" { s[$1] += $2 }
	END { for (m in s) print m, s[m] }' | sort)
got=$(echo "$want" | while read -r m _; do echo "$m $(per_metric "$m")"; done)
is "$got" "$want" "per metric: values with \\xNN centrally = the collector's figures"
is "$(q "SELECT sum(values_escaped) FROM pga.snapshot_status")" $((total + total2)) \
	"snapshot_status rows carry the same counts"
is "$(q "SELECT count(*) FROM pga.snapshot_status WHERE status = 'complete'")" 4 \
	"four snapshots (two targets, two cycles), all complete"
done_testing
