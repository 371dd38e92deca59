#!/usr/bin/env bash
# pga status is a check a monitor can trust (issue 14): per target the last
# complete snapshot, the last error and since when; per destination the
# oldest pending segment and since when it fails; the last cycle's start
# and duration; and an exit code for each case that needs attention:
# 0 OK, 1 WARNING, 2 CRITICAL (cmd/health.h), thresholds from
# status-stale-after and status-spool-warn.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start main
DEAD=$(free_port)	# nothing listens there: connection refused
SP=$TEST_TMP/spool
conf() {	# FILE, then the sections on stdin
	{ printf '[global]\nspool-path = %s\ncollector = site\nconnect-timeout = 2s\n' "$SP"; cat; } >"$1"
}
conf "$TEST_TMP/ok.conf" <<CONF
[target:pg]
conninfo = $(pg_conninfo main postgres)
CONF
conf "$TEST_TMP/two.conf" <<CONF
[target:pg]
conninfo = $(pg_conninfo main postgres)
[target:dead]
conninfo = host=127.0.0.1 port=$DEAD dbname=postgres
CONF
st() { pga -c "$1" status "${@:2}"; }

# ---- nothing there yet: critical ----
run_fails 2 "no spool yet: CRITICAL" st "$TEST_TMP/ok.conf"
like "$(last_out)" "CRITICAL .*not a pga spool" "  says why"

# ---- all well ----
run_ok "collect" pga -c "$TEST_TMP/ok.conf" collect
run_ok "one target collected: OK" st "$TEST_TMP/ok.conf"
like "$(last_out)" "status: OK" "  the verdict is printed"
like "$(last_out)" "target 'pg'"$'\n'"  last success:  20[0-9-]+T" "  the target's last success"
like "$(last_out)" "last cycle:    20[0-9-]+T.*"$'\n'" +took [0-9.]+s, 1 targets ok, 0 failed" \
	"  the last cycle's start and duration"
run_ok "json" st "$TEST_TMP/ok.conf" --json
cp "$OUT" "$TEST_TMP/st.json"
run_ok "  holds the cycle, the target and the verdict" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["cycle"]["start"] and d["cycle"]["duration_seconds"] > 0, d["cycle"]
t = d["targets"][0]
assert t["name"] == "pg" and t["last_success"] and not t["failing"], t
assert d["health"]["status"] == "OK" and d["health"]["exit_code"] == 0, d["health"]' "$TEST_TMP/st.json"

# ---- a target failing: warning, then critical past status-stale-after ----
run_fails 2 "collect with a dead target (partial)" pga -c "$TEST_TMP/two.conf" collect
run_fails 1 "a failing target: WARNING" st "$TEST_TMP/two.conf"
like "$(last_out)" "WARNING +target 'dead': failing for [0-9.]+s \(1 attempts\): could not connect" \
	"  names the target, since when and the error"
like "$(last_out)" "target 'dead'"$'\n'"  last success:  never"$'\n'"  last error:    20" \
	"  its last success and last error"
like "$(last_out)" "failing since: 20" "  and since when"
run_fails 2 "again" pga -c "$TEST_TMP/two.conf" collect
run_ok "  the json counts consecutive failures" python3 -c '
import json, subprocess, sys
p = subprocess.run([sys.argv[1], "-c", sys.argv[2], "status", "--json"], capture_output=True)
assert p.returncode == 1, p.returncode
t = [x for x in json.loads(p.stdout)["targets"] if x["name"] == "dead"][0]
assert t["failing"] and t["consecutive_failures"] == 2 and t["failing_since"] < t["last_error_time"], t' \
	"$PGA_BIN" "$TEST_TMP/two.conf"
sleep 1.1
PGA_STATUS_STALE_AFTER=1s run_fails 2 "failing longer than status-stale-after: CRITICAL" \
	st "$TEST_TMP/two.conf"
like "$(last_out)" "CRITICAL +target 'dead': failing for" "  the target is critical"
run_ok "the target back: its failure is history" pga -c "$TEST_TMP/ok.conf" collect --target pg

# ---- nothing collected for longer than the threshold: the collector stopped ----
run_ok "fresh: OK" st "$TEST_TMP/ok.conf"
sleep 1.1
PGA_STATUS_STALE_AFTER=1s run_fails 2 "no cycle for longer than status-stale-after: CRITICAL" \
	st "$TEST_TMP/ok.conf"
like "$(last_out)" "CRITICAL +the last collect cycle started [0-9.]+s ago" "  says the collector stopped"
like "$(last_out)" "CRITICAL +target 'pg': no snapshot for" "  and the target went stale"

# ---- the spool: warning fraction, full ----
PGA_STATUS_SPOOL_WARN=1 PGA_SPOOL_MAX=1M run_fails 1 "spool past status-spool-warn: WARNING" \
	st "$TEST_TMP/ok.conf"
like "$(last_out)" "WARNING +spool '.*' holds [0-9]+% of spool-max \(status-spool-warn 1%\)" "  says how full"
PGA_SPOOL_MAX=1K run_fails 2 "spool at spool-max: CRITICAL" st "$TEST_TMP/ok.conf"
like "$(last_out)" "CRITICAL +spool '.*' is full" "  says it is full"

# ---- destinations: a spool without targets, fed by spool put ----
S2=$TEST_TMP/s2
dconf() {
	printf '[global]\nspool-path = %s\ncollector = put\n[dest:arch]\nurl = file://%s\n' "$S2" "$1" \
		>"$TEST_TMP/d.conf"
}
dconf "$TEST_TMP/mnt"	# not mounted: the directory does not exist
printf '1,a\n' | pga spool put --spool "$S2" --metric custom --columns id,v 2>/dev/null
run_ok "nothing shipped yet, nothing failing: OK" st "$TEST_TMP/d.conf"
sleep 1.1
PGA_STATUS_STALE_AFTER=1s run_fails 1 "a pending segment older than status-stale-after: WARNING" \
	st "$TEST_TMP/d.conf"
like "$(last_out)" "WARNING +destination 'arch': oldest pending segment is [0-9.]+s old" \
	"  names the destination and the age"
run_fails 1 "ship to the missing mount" pga -c "$TEST_TMP/d.conf" ship
run_fails 1 "a failing destination: WARNING" st "$TEST_TMP/d.conf"
like "$(last_out)" "WARNING +destination 'arch': failing for [0-9.]+s: " "  names it and the error"
like "$(last_out)" "failing since: 20" "  since when"
sleep 1.1
PGA_STATUS_STALE_AFTER=1s run_fails 2 "failing longer than status-stale-after: CRITICAL" \
	st "$TEST_TMP/d.conf"
like "$(last_out)" "CRITICAL +destination 'arch': failing for" "  critical"
mkdir "$TEST_TMP/mnt"
run_ok "the mount back: ship" pga -c "$TEST_TMP/d.conf" ship
run_ok "delivered: OK again" st "$TEST_TMP/d.conf"
[[ "$(last_out)" != *"failing since"* ]]; ok $? "  no longer failing"

# ---- a quarantined segment ----
printf '1,a\n' | pga spool put --spool "$S2" --metric custom --columns id,v 2>/dev/null
seg=$(find "$S2/ready" -name '*.pga.zst' | head -1)
printf '\xff\xff\xff\xff' | dd of="$seg" bs=1 seek=200 conv=notrunc 2>/dev/null
pga -c "$TEST_TMP/d.conf" ship 2>/dev/null
is "$(find "$S2/quarantine" -name '*.pga.zst' | wc -l)" 1 "ship quarantined the damaged segment"
run_fails 1 "a segment in quarantine: WARNING" st "$TEST_TMP/d.conf"
like "$(last_out)" "WARNING +1 segments in quarantine" "  says so"

# ---- the central side: quarantine, gaps ----
pg_psql main postgres -c "CREATE DATABASE cen" >/dev/null
CEN=$(pg_conninfo main cen)
run_ok "central: init" pga load --init --db "$CEN"
run_ok "central: load" pga load --db "$CEN" --from "$SP"
run_ok "central clean: OK" st "$TEST_TMP/ok.conf" --central --db "$CEN"
pg_psql main cen -c "INSERT INTO pga.quarantine (name, kind, collector, error)
	VALUES ('x.pga.zst', 'corrupt', 'site', 'checksum')" >/dev/null
run_fails 1 "a collector with a quarantined segment: WARNING" st "$TEST_TMP/ok.conf" --central --db "$CEN"
like "$(last_out)" "WARNING +central: collector 'site': 0 gaps, 0 chain breaks, 1 quarantined" \
	"  names the collector"
pg_psql main cen -c "UPDATE pga.quarantine SET collector = NULL" >/dev/null
run_fails 1 "a refusal no collector can be named for: WARNING" st "$TEST_TMP/ok.conf" --central --db "$CEN"
like "$(last_out)" "WARNING +central: 1 refused segments whose collector could not be read" "  counted"
run_fails 2 "central unreachable: CRITICAL" st "$TEST_TMP/ok.conf" --central \
	--db "host=127.0.0.1 port=$DEAD dbname=x connect_timeout=2"

# ---- usage ----
run_fails 64 "--prometheus with --json" st "$TEST_TMP/ok.conf" --json --prometheus "$TEST_TMP/p"
run_fails 64 "--central without a database" st "$TEST_TMP/ok.conf" --central

done_testing
