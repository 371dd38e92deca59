#!/usr/bin/env bash
# pga collect against a real PostgreSQL 15 under pgbench traffic, 23
# databases found with dbname=*: every catalog metric arrives with rows,
# one snapshot and one server identity per target, the statement limit,
# the texts and settings cadence, host counters and the csvlog.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/maint.sh"

pg_start main 15 "track_functions = all" "track_io_timing = on" "wal_level = logical" \
	"logging_collector = on" "log_destination = 'csvlog'" "log_connections = on" \
	"log_filename = 'postgresql-%H%M%S.log'"
SOCK=$PG_SOCK_main PORT=$PG_PORT_main
psqlq() { pg_psql main "$1" -At -c "$2"; }
for i in $(seq -w 1 22); do echo "CREATE DATABASE d$i;"; done | pg_psql main postgres
psqlq postgres "CREATE EXTENSION pg_stat_statements"
# fillfactor and foreign keys: rows for relation_options and foreign_keys
pgbench -q -i -s 1 -F 90 --foreign-keys -h "$SOCK" -p "$PORT" -U postgres d01 >/dev/null 2>&1
psqlq d02 "CREATE SEQUENCE s; SELECT nextval('s');
	CREATE FUNCTION f(int) RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN \$1 + 1; END';
	SELECT f(1);" >/dev/null
psqlq postgres "SELECT pg_create_physical_replication_slot('phys', true);
	SELECT pg_create_logical_replication_slot('logi', 'test_decoding');
	CREATE TABLE x(a int); INSERT INTO x VALUES (1);
	SELECT count(*) FROM pg_logical_slot_get_changes('logi', NULL, NULL)" >/dev/null
# a walsender, so pg_stat_replication has a row
mkdir "$TEST_TMP/wal"
"$PG_BIN_main/pg_receivewal" -h "$SOCK" -p "$PORT" -U postgres -S phys -D "$TEST_TMP/wal" \
	>/dev/null 2>&1 &
at_exit "kill $!"
for _ in $(seq 50); do
	[ "$(psqlq postgres "SELECT count(*) FROM pg_stat_replication")" = 1 ] && break
	sleep 0.1
done
# 200 distinct statements (a different column count is a different queryid)
for i in $(seq 1 200); do
	printf 'SELECT 1'; for j in $(seq 2 "$i"); do printf ', %d' "$j"; done; printf ';\n'
done | pg_psql main d03 >/dev/null
pgbench -T 2 -c 2 -h "$SOCK" -p "$PORT" -U postgres d01 >/dev/null 2>&1
# a subscription (not connected: rows for pg_stat_subscription and its
# stats), and a chain of lock waits (activity_top, blocking_chains)
psqlq postgres "CREATE SUBSCRIPTION s CONNECTION '$(pg_conninfo main)' PUBLICATION p
	WITH (connect = false)" >/dev/null 2>&1
maint_chain main d02

SP=$TEST_TMP/spool
cat >"$TEST_TMP/pga.conf" <<CONF
[global]
spool-path = $SP
collector = site1
query-stats-limit = 100
texts-every = 3
os-stats = on
[target:main]
conninfo = $(pg_conninfo main '*')
csvlog = $PG_DATA_main/log
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf

# pgbench keeps writing while the cycle runs
pgbench -T 4 -c 2 -h "$SOCK" -p "$PORT" -U postgres d01 >/dev/null 2>&1 &
BENCH=$!
run_ok "one cycle under pgbench traffic" pga collect
wait $BENCH
maint_stop main
like "$(last_err)" "cycle 1: targets 1 ok, 0 failed, 0 skipped; 23 databases, [0-9]+ blocks" \
	"a cycle summary on stderr"
ok $(grep -q "metric errors" "$ERR" && ! grep -q "warn\|error:" "$ERR"; echo $?) "no warning at all"

helper seg-blocks "$SP" >"$TEST_TMP/b1" || diag "seg-blocks failed"
SEG1=$(cut -f11 "$TEST_TMP/b1" | sort -u)
is "$(echo "$SEG1" | grep -c .)" 1 "one sealed segment"
ok $(zstd -tq "$SP/ready/$SEG1"; echo $?) "zstd -t accepts it"

# every metric this server has, with rows (what the catalog says exists on 15)
helper catalog-sql 150018 1.10 | cut -f1 >"$TEST_TMP/expect"
helper catalog-cols | awk -F'\t' '$2 != "sql" { print $1 }' >>"$TEST_TMP/expect"
missing=""
while read -r m; do
	rows=$(awk -F'\t' -v m="$m" '$1 == m { s += $4 } END { print s + 0 }' "$TEST_TMP/b1")
	[ "$rows" -gt 0 ] || missing="$missing $m"
done <"$TEST_TMP/expect"
is "$missing" "" "every metric available on 15 is in the segment with rows ($(grep -c . "$TEST_TMP/expect") metrics)"
is "$(awk -F'\t' '$1 == "pg_stat_user_tables" { print $3 }' "$TEST_TMP/b1" | sort -u | grep -c .)" 23 \
	"per-database metrics from all 23 databases"
is "$(psqlq d01 "SELECT count(*) FROM pg_stat_user_tables")" \
	"$(awk -F'\t' '$1 == "pg_stat_user_tables" && $3 == "d01" { print $4 }' "$TEST_TMP/b1")" \
	"d01's tables, row for row"
is "$(awk -F'\t' '$1 == "pg_stat_database" || $1 == "pg_settings" { print "[" $3 "]" }' "$TEST_TMP/b1" | sort -u)" \
	"[]" "cluster metrics carry no database"

# one snapshot and one identity for the whole target
is "$(cut -f5 "$TEST_TMP/b1" | sort -u | grep -c .)" 1 "all blocks share one snapshot time"
is "$(cut -f6 "$TEST_TMP/b1" | sort -u)" \
	"$(psqlq postgres "SELECT system_identifier FROM pg_control_system()")" "system identifier in every block"
is "$(cut -f7 "$TEST_TMP/b1" | sort -u)" "$(psqlq postgres "SHOW server_version_num")" "server_version"
is "$(cut -f8,9 "$TEST_TMP/b1" | sort -u)" "$SOCK	$PORT" "host and port as configured"
snap=$(cut -f5 "$TEST_TMP/b1" | sort -u)
now=$(($(date +%s) * 1000000))
ok $([ $((now - snap)) -ge 0 ] && [ $((now - snap)) -lt 60000000 ]; echo $?) "snapshot time is the server's clock of this cycle"

# canonical columns, exactly the catalog's
bad=$(helper catalog-cols | while IFS=$'\t' read -r m src scope cols; do
	awk -F'\t' -v m="$m" -v c="$cols" '$1 == m && $10 != c { print m; exit }' "$TEST_TMP/b1"
done)
is "$bad" "" "every block has its metric's canonical columns"
# each CSV row has as many fields as the header has columns
pga spool cat "$SP/ready/$SEG1" >"$TEST_TMP/cat1"
python3 - "$TEST_TMP/cat1" >"$TEST_TMP/widths" <<'PY'
import csv, sys
bad, n, cols = [], 0, None
with open(sys.argv[1], newline='') as f:
    for row in csv.reader(f):
        if row and row[0].startswith('# block'):
            cols = None; metric = row[0].split('metric=')[1].split()[0]; continue
        if cols is None:
            cols = len(row); continue
        n += 1
        if len(row) != cols: bad.append(metric)
print(n, len(set(bad)), ' '.join(sorted(set(bad))))
PY
like "$(cat "$TEST_TMP/widths")" "^[0-9]+ 0 $" "every row has exactly the canonical number of fields"

# statements: the limit, the key, the texts
is "$(awk -F'\t' '$1 == "pg_stat_statements" { print $4 }' "$TEST_TMP/b1")" 100 \
	"pg_stat_statements honours query-stats-limit = 100"
is "$(awk -F'\t' '$1 == "pg_stat_statements_texts" { print $4 }' "$TEST_TMP/b1")" 100 \
	"the first cycle ships every text of the top 100"
# the rest beyond the top 100, summed: as many entries as the server has
pga spool cat --metric pg_stat_statements_totals "$SP/ready/$SEG1" | tail -n +3 | cut -d, -f1,2,3 \
	>"$TEST_TMP/totals"
read -r top_n other_n all_calls < <(awk -F, '{ n[$1] = $2; c += $3 } END { print n["top"], n["other"], c }' \
	"$TEST_TMP/totals")
is "$top_n" 100 "pg_stat_statements_totals: 'top' sums the 100 entries of the block"
server_n=$(psqlq postgres "SELECT count(*) FROM pg_stat_statements")
# (the 200 statements above and pgbench's at least; the cycle itself added
# entries after it read them: every database's queries of pga)
ok $([ $((top_n + other_n)) -ge 210 ] && [ $((top_n + other_n)) -le "$server_n" ]; echo $?) \
	"'other' sums the rest: $top_n + $other_n entries, of the $server_n the server has now"
server_calls=$(psqlq postgres "SELECT sum(calls) FROM pg_stat_statements")
ok $([ "$all_calls" -gt 0 ] && [ "$all_calls" -le "$server_calls" ]; echo $?) \
	"and the calls of them all: $all_calls, no more than the server counts now ($server_calls)"
pga spool cat --metric pg_stat_statements "$SP/ready/$SEG1" | tail -n +3 | cut -d, -f1-4 >"$TEST_TMP/keys"
is "$(sort -u "$TEST_TMP/keys" | grep -c .)" 100 "(userid, dbid, toplevel, queryid) is unique"
ok $([ -f "$SP/state/main.state" ] &&
	[ "$(grep -c . "$SP/state/main.qids")" = "$(cut -d, -f4 "$TEST_TMP/keys" | sort -u | grep -c .)" ]; echo $?) \
	"state under the spool: cycle numbers and the queryids whose texts were shipped"
is "$(awk -F'\t' '$1 == "pg_settings" { print $4 }' "$TEST_TMP/b1")" \
	"$(psqlq postgres "SELECT count(*) FROM pg_settings")" "pg_settings in the first cycle, all of it"

# ---- cycle 2: no new statements, settings unchanged ----
# texts_check TEXTS_CSV QIDS_FILE: rows, rows whose queryid was shipped before, pg_sleep rows
texts_check() {
	python3 - "$1" "$2" <<'PY'
import csv, sys
seen = {int(l, 16) for l in open(sys.argv[2])}
rows = [r for r in csv.reader(open(sys.argv[1], newline='')) if r and not r[0].startswith('#')][1:]
ids = [int(r[3]) & (2**64 - 1) for r in rows]
print(len(rows), sum(1 for i in ids if i in seen), sum(1 for r in rows if 'pg_sleep' in r[4]))
PY
}
cp "$SP/state/main.qids" "$TEST_TMP/qids1"
run_ok "second cycle" pga collect
SEG2=$(helper seg-blocks "$SP" | cut -f11 | sort -u | tail -1)
helper seg-blocks "$SP/ready/$SEG2" >"$TEST_TMP/b2"
ok $([ -s "$TEST_TMP/b2" ] && ! awk -F'\t' '$1 == "pg_settings"' "$TEST_TMP/b2" | grep -q .; echo $?) \
	"pg_settings not sent again while unchanged (in a second cycle that has blocks)"
pga spool cat --metric pg_stat_statements_texts "$SP/ready/$SEG2" >"$TEST_TMP/t2" 2>/dev/null
pga spool cat --metric pg_stat_statements "$SP/ready/$SEG2" >"$TEST_TMP/c2"
read -r n2 old2 _ < <(texts_check "$TEST_TMP/t2" "$TEST_TMP/qids1")
is "$old2" 0 "cycle 2 is not a texts cycle: no text shipped before is sent again ($n2 texts)"
python3 - "$TEST_TMP/c2" "$TEST_TMP/qids1" "$TEST_TMP/t2" >"$TEST_TMP/new2" <<'PY'
import csv, sys
def rows(p):
    return [r for r in csv.reader(open(p, newline='')) if r and not r[0].startswith('#')][1:]
seen = {int(l, 16) for l in open(sys.argv[2])}
new = {int(r[3]) & (2**64 - 1) for r in rows(sys.argv[1]) if r[3]} - seen
got = {int(r[3]) & (2**64 - 1) for r in rows(sys.argv[3])}
print(len(new), len(new - got))
PY
read -r new2 missed2 <"$TEST_TMP/new2"
is "$missed2" 0 "every queryid new in cycle 2's counters got its text ($new2 new)"

# ---- cycle 3: five new heavy statements and a settings change ----
# (heavier than pga's own bloat estimates of cycle 1, 20-150 ms each in
# every database: those are in the top 100 too)
for i in 1 2 3 4 5; do
	printf 'SELECT pg_sleep(0.25)'; for j in $(seq 1 "$i"); do printf ', %d' "$j"; done; printf ';\n'
done | pg_psql main d03 >/dev/null
cp "$SP/state/main.qids" "$TEST_TMP/qids-before3"
psqlq postgres "ALTER SYSTEM SET work_mem = '5MB'" >/dev/null
psqlq postgres "SELECT pg_reload_conf()" >/dev/null
sleep 0.3
run_ok "third cycle" pga collect
SEG3=$(helper seg-blocks "$SP" | cut -f11 | sort -u | tail -1)
helper seg-blocks "$SP/ready/$SEG3" >"$TEST_TMP/b3"
is "$(awk -F'\t' '$1 == "pg_settings" { print $4 }' "$TEST_TMP/b3")" \
	"$(psqlq postgres "SELECT count(*) FROM pg_settings")" "pg_settings sent again once changed"
pga spool cat --metric pg_stat_statements_texts "$SP/ready/$SEG3" >"$TEST_TMP/t3"
read -r n3 old3 sleeps3 < <(texts_check "$TEST_TMP/t3" "$TEST_TMP/qids-before3")
is "$old3" 0 "cycle 3 is not a texts cycle either: none of its $n3 texts was shipped before"
is "$sleeps3" 5 "the five new statements got their texts at once"

# ---- cycle 4 = 1 + texts-every: all texts again ----
run_ok "fourth cycle" pga collect
SEG4=$(helper seg-blocks "$SP" | cut -f11 | sort -u | tail -1)
is "$(helper seg-blocks "$SP/ready/$SEG4" | awk -F'\t' '$1 == "pg_stat_statements_texts" { print $4 }')" 100 \
	"every texts-every = 3 cycles all texts of the top 100 again"
is "$(grep -E '^(cycle|texts_cycle) ' "$SP/state/main.state" | tr '\n' ' ')" "cycle 4 texts_cycle 4 " \
	"the state file records the cadence"

# ---- csvlog: rotation, every record once ----
psqlq postgres "SELECT pg_rotate_logfile()" >/dev/null
sleep 1.1	# log_filename has seconds: the next file gets a new name
for i in 1 2 3; do psqlq d05 "SELECT 1" >/dev/null; done
python3 - "$PG_DATA_main/log" >"$TEST_TMP/logcount" <<'PY'
import csv, glob, sys
n = 0
for f in glob.glob(sys.argv[1] + '/*.csv'):
    n += sum(1 for _ in csv.reader(open(f, newline='')))
print(n)
PY
run_ok "fifth cycle after a log rotation" pga collect
for s in $(helper seg-blocks "$SP" | cut -f11 | sort -u); do
	pga spool cat --metric postgres_log "$SP/ready/$s" | grep -v '^#' | tail -n +2
done >"$TEST_TMP/logrows"
python3 - "$TEST_TMP/logrows" "$PG_DATA_main/log" >"$TEST_TMP/logcheck" <<'PY'
import csv, glob, sys
rows = [r for r in csv.reader(open(sys.argv[1], newline=''))
        if r and r[0] != 'log_time']
keys = [(r[5], r[6]) for r in rows]
inlog = set()
for f in glob.glob(sys.argv[2] + '/*.csv'):
    for r in csv.reader(open(f, newline='')):
        inlog.add((r[5], r[6]))
print(len(rows), len(set(keys)), sum(1 for k in keys if k not in inlog),
      len({r[0] for r in rows if len(r) == 26}) > 0)
PY
read -r nlog ulog foreign wide <"$TEST_TMP/logcheck"
is "$nlog" "$ulog" "each log record arrived once ($nlog records)"
is "$foreign" 0 "and each is a record of the server's csvlog"
ok $([ "$nlog" -ge "$(cat "$TEST_TMP/logcount")" ]; echo $?) \
	"everything logged before the last cycle is in (rotation included)"
is "$(pga spool ls | awk '$1 == "cycles" || $1 == "targets_ok" || $1 == "metric_errors" { print $1 "=" $2 }' | tr '\n' ' ')" \
	"cycles=5 targets_ok=5 metric_errors=0 " "spool counters count cycles, targets and errors"

# the csvlog position is saved only once the records it passed are durable
# in the part file (a power cut must not leave the position ahead of them)
if command -v strace >/dev/null; then
	for i in 1 2 3; do psqlq d05 "SELECT 1" >/dev/null; done
	strace -f -y -e trace=fdatasync,fsync,rename -o "$TEST_TMP/st.sync" "$PGA_BIN" -c "$PGA_CONFIG" collect \
		>/dev/null 2>&1
	ok $? "sixth cycle, traced"
	order=$(grep -oE 'fdatasync\([0-9]+<[^>]*/tmp/[^>]*\.part>\)|rename\([^,]*, "[^"]*state/main\.csvlog"\)' \
		"$TEST_TMP/st.sync" | sed -E 's/^(fdatasync|rename).*/\1/' | uniq | paste -sd' ')
	is "$order" "fdatasync rename" "the part file is synced before the csvlog position is saved"
else
	skip "strace is not installed" 2
fi

done_testing
