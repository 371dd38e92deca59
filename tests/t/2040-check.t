#!/usr/bin/env bash
# pga check, the target side: version, privileges, databases,
# pg_stat_statements and every metric; non-zero when anything is wrong.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start ck
pg_psql ck postgres -c "CREATE EXTENSION pg_stat_statements" -c "CREATE DATABASE c1" \
	-c "CREATE DATABASE nopgss TEMPLATE template0" \
	-c "CREATE ROLE plain LOGIN" -c "CREATE ROLE mon LOGIN IN ROLE pg_monitor"
cat >"$TEST_TMP/pga.conf" <<CONF
[global]
spool-path = $TEST_TMP/spool
[target:good]
conninfo = $(pg_conninfo ck '*')
CONF
export PGA_CONFIG=$TEST_TMP/pga.conf

run_ok "a healthy target: exit 0" pga check
like "$(last_out)" "server: +PostgreSQL 15\.[0-9]+.*\(150[0-9]+\), system identifier $(pg_psql ck postgres -At -c "SELECT system_identifier FROM pg_control_system()")" \
	"reports version and system identifier"
like "$(last_out)" "as 'postgres' \(superuser\)" "the role and its privilege"
like "$(last_out)" "databases: +3 of 3 reachable" "the databases dbname=* finds (postgres, c1, nopgss)"
like "$(last_out)" "pg_stat_statements: 1\.[0-9]+ in schema public" "pg_stat_statements"
like "$(last_out)" "metrics: +[0-9]+ ok, 0 failing, 1 not on this server" "every metric ran (pg_stat_io is not on 15)"
like "$(last_out)" "result: +ok" "result ok"

run_ok "--json" pga check --json
is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); t=d["targets"][0];
print(d["ok"], t["target"], t["superuser"], t["databases_reachable"], len([m for m in t["metrics"] if m["state"]=="ok"]) > 20)' "$OUT")" \
	"True good True 3 True" "the same as one JSON object"

cat >>"$TEST_TMP/pga.conf" <<CONF
[target:plain]
conninfo = $(pg_conninfo ck c1) user=plain
[target:mon]
conninfo = $(pg_conninfo ck nopgss) user=mon
[target:down]
conninfo = host=127.0.0.1 port=1 dbname=x
CONF
pg_psql ck c1 -c "REVOKE SELECT ON pg_catalog.pg_stat_archiver FROM PUBLIC"
run_fails 1 "problems: exit 1" pga check
like "$(last_out)" "target 'plain'.*problem: +role 'plain' is neither superuser nor a member of pg_monitor" \
	"a role without pg_monitor is a problem"
like "$(last_out)" "problem: +metric 'pg_stat_archiver': .*permission denied" "so is a metric that fails, with the reason"
like "$(last_out)" "target 'mon'.*pg_stat_statements: not installed.*problem: +pg_stat_statements is not installed" \
	"and a database without pg_stat_statements"
like "$(last_out)" "target 'down'.*problem: +could not connect to '[^']*port=1" "and a target that cannot be reached"
like "$(last_err)" "3 targets or destinations with problems" "counted on stderr"
run_ok "--target picks one" pga check --target good

printf '[target:bad]\nconninfo = port=1 bogus=2\n' >"$TEST_TMP/bad.conf"
run_fails 1 "a bad conninfo" pga -c "$TEST_TMP/bad.conf" check
like "$(last_err)" "bad.conf:2: \[target:bad\] invalid conninfo" "file and line, before connecting"
done_testing
