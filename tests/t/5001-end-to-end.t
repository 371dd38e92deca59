#!/usr/bin/env bash
# The whole job: collect from a real PostgreSQL with traffic -> spool ->
# pack a tar (air-gapped site) -> ship to a directory and to S3 -> load
# centrally -> restore elsewhere from the bucket and from the tar, fully and
# up to a point in time -> the same rows everywhere; status on every side.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
pg_start src 15 "track_functions = all"
pg_start cen 15
s3srv_start pga || exit 1
for db in app1 app2; do pg_psql src postgres -c "CREATE DATABASE $db" >/dev/null; done
pg_psql src postgres -c "CREATE EXTENSION pg_stat_statements" >/dev/null
for db in central restore_s3 restore_tar restore_pit; do pg_psql cen postgres -c "CREATE DATABASE $db" >/dev/null; done
"$(pg_bindir 15)/pgbench" -i -q -s 1 -h "$PG_SOCK_src" -p "$PG_PORT_src" -U postgres app1 >/dev/null 2>&1
traffic() { "$(pg_bindir 15)/pgbench" -t 200 -c 2 -h "$PG_SOCK_src" -p "$PG_PORT_src" -U postgres app1 >/dev/null 2>&1; }

SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
cat >"$CONF" <<CONF
[global]
spool-path = $SP
collector = e2e-site
central = $(pg_conninfo cen central)

[target:src]
conninfo = $(pg_conninfo src postgres)
databases = *

[dest:outbox]
url = file://$TEST_TMP/outbox

[dest:s3]
url = s3://pga/sites
endpoint = $S3_URL
path-style = on
access-key-id = S3RVER
secret-access-key = S3RVER
CONF
chmod 600 "$CONF"	# it holds a secret key
export PGA_CONFIG=$CONF
mkdir "$TEST_TMP/outbox"   # a mounted share: pga never creates the mount point

run_ok "pga check: the target and both destinations" pga check
for i in 1 2 3; do
	traffic
	run_ok "collect cycle $i" pga collect
	[ $i = 1 ] && mid=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ) && sleep 1.1
done
run_ok "the spool verifies" pga spool verify
is "$(find "$SP/ready" -name '*.pga.zst' | wc -l)" 3 "three sealed segments"
run_ok "pack the spool for the air gap" pga spool pack -o "$TEST_TMP/site.tar"
run_ok "ship to the directory and to S3" pga ship
is "$(find "$SP/ready" -name '*.pga.zst' | wc -l)" 0 "shipped segments left the spool"
run_ok "status after shipping" pga status --json
cp "$OUT" "$TEST_TMP/status.json"
run_ok "nothing pending anywhere" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))
assert d["spool"]["sealed"]==0, d["spool"]
assert all(x["pending_segments"]==0 for x in d["destinations"]), d["destinations"]' "$TEST_TMP/status.json"

run_ok "central: init" pga load --init
run_ok "central: load from the outbox" pga load --from "$TEST_TMP/outbox"
run_ok "restore from the bucket" pga restore --db "$(pg_conninfo cen restore_s3)" --from s3://pga/sites
run_ok "restore from the tar" pga restore --db "$(pg_conninfo cen restore_tar)" --from "$TEST_TMP/site.tar"
run_ok "restore up to the first cycle only" pga restore --db "$(pg_conninfo cen restore_pit)" \
	--from dest:s3 --until "$mid"

counts() {	# DB: "metric rows" for every metric table
	pg_psql cen "$1" -At -c "
	SELECT c.relname || ' ' || (xpath('/row/n/text()', query_to_xml(
		format('SELECT count(*) AS n FROM pga.%I', c.relname), false, true, '')))[1]::text
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = 'pga' AND c.relkind = 'p' ORDER BY 1"
}
counts central >"$TEST_TMP/central"
counts restore_s3 >"$TEST_TMP/s3"
counts restore_tar >"$TEST_TMP/tar"
counts restore_pit >"$TEST_TMP/pit"
ok $([ "$(grep -c . "$TEST_TMP/central")" -ge 15 ]; echo $?) "the central database has the catalog's tables"
with_rows=$(awk '$2 > 0' "$TEST_TMP/central" | wc -l)
ok $([ "$with_rows" -ge 15 ]; echo $?) "at least 15 metric tables hold rows ($with_rows)"
same_files "restored from the bucket: the same rows in every table" "$TEST_TMP/central" "$TEST_TMP/s3"
same_files "restored from the tar: the same rows in every table" "$TEST_TMP/central" "$TEST_TMP/tar"
db_rows() { awk '$1 == "pg_stat_database" { print $2 }' "$1"; }
is "$(( $(db_rows "$TEST_TMP/pit") * 3 ))" "$(db_rows "$TEST_TMP/central")" \
	"point in time: exactly one cycle of three restored"
is "$(pg_psql cen restore_pit -At -c 'SELECT count(DISTINCT snapshot_time) FROM pga.pg_stat_database')" 1 \
	"and only snapshots up to that time"

run_ok "status --central" pga status --central --json
cp "$OUT" "$TEST_TMP/central.json"
run_ok "the central side knows the collector, no gaps" python3 -c '
import json,sys
d=json.load(open(sys.argv[1]))["central"]
c=[x for x in d["collectors"] if x["collector"]=="e2e-site"][0]
assert c["segments"]==3 and c["gaps"]==0, c' "$TEST_TMP/central.json"
run_ok "loading the outbox again adds nothing" pga load --from "$TEST_TMP/outbox"
counts central >"$TEST_TMP/central2"
same_files "the same rows as before" "$TEST_TMP/central" "$TEST_TMP/central2"
done_testing
