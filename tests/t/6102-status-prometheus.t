#!/usr/bin/env bash
# The Prometheus textfile (issue 14): pga status --prometheus FILE, the
# prometheus-file key that collect and ship write after every cycle and
# pass, and pga status --central --prometheus FILE.  promtool (Debian's
# prometheus package) accepts every file pga writes, hostile label values
# included, and the values read back are what pga recorded.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

PROMTOOL=$(command -v promtool || ls "$REPO_DIR"/.deps/*/promtool 2>/dev/null | head -1)
[ -x "$PROMTOOL" ] || skip_all "no promtool (Debian package prometheus)"
check() {	# FILE DESC: promtool accepts it, lint included
	"$PROMTOOL" check metrics <"$1" >"$TEST_TMP/promtool.out" 2>&1
	ok $? "$2"
	[ -s "$TEST_TMP/promtool.out" ] && diag "$(cat "$TEST_TMP/promtool.out")"
}
# FILE NAME [LABELS]: the value of one sample, labels as written
val() { awk -v k="$2${3:+{$3\}}" '$1 == k { print $2 }' "$1"; }

pg_start main
DEAD=$(free_port)
SP=$TEST_TMP/spool
PROM=$TEST_TMP/textfile/pga.prom
mkdir -p "$TEST_TMP/textfile" "$TEST_TMP/mnt"
cat >"$TEST_TMP/c.conf" <<CONF
[global]
spool-path = $SP
collector = site
connect-timeout = 2s
prometheus-file = $PROM
[target:pg]
conninfo = $(pg_conninfo main postgres)
[target:dead]
conninfo = host=127.0.0.1 port=$DEAD dbname=postgres
[dest:arch]
url = file://$TEST_TMP/mnt
CONF
export PGA_CONFIG=$TEST_TMP/c.conf

# ---- collect writes it at the end of the cycle ----
run_fails 2 "collect (one target dead)" pga collect
ok $([ -s "$PROM" ]; echo $?) "collect wrote the prometheus-file"
check "$PROM" "promtool accepts collect's textfile"
is "$(val "$PROM" pga_target_up 'target="pg"') $(val "$PROM" pga_target_up 'target="dead"')" "1 0" \
	"pga_target_up per target"
is "$(val "$PROM" pga_target_consecutive_failures 'target="dead"')" 1 "consecutive failures"
now=$(date +%s)
ts=$(val "$PROM" pga_target_last_success_timestamp_seconds 'target="pg"')
ok $(python3 -c "import sys; sys.exit(0 if abs($ts - $now) < 60 else 1)"; echo $?) \
	"pga_target_last_success_timestamp_seconds is now ($ts)"
is "$(val "$PROM" pga_target_last_success_timestamp_seconds 'target="dead"')" 0.000 "  and 0 for never"
ok $([ "$(val "$PROM" pga_target_failing_since_timestamp_seconds 'target="dead"')" != 0.000 ]; echo $?) \
	"failing since, for the dead target"
like "$(val "$PROM" pga_collect_last_cycle_duration_seconds)" "^[0-9]+\.[0-9]{6}$" "the last cycle's duration"
is "$(val "$PROM" pga_cycles_total)" 1 "the counters, as _total"
is "$(val "$PROM" pga_destination_pending_segments 'destination="arch"')" 1 "one segment pending"
is "$(val "$PROM" pga_status)" 1 "pga_status: the verdict, warning"
grep -q '^# TYPE pga_destination_delivered_bytes_total counter$' "$PROM"; ok $? "counters typed as such"
for f in $(awk '!/^#/ { sub(/[{ ].*/, ""); print }' "$PROM" | sort -u); do
	grep -q "^# HELP $f " "$PROM" && grep -q "^# TYPE $f " "$PROM" || { echo "no HELP/TYPE: $f"; break; }
done >"$TEST_TMP/nohelp"
is "$(cat "$TEST_TMP/nohelp")" "" "every family has HELP and TYPE"

# ---- ship writes it after its pass ----
run_ok "ship" pga ship
check "$PROM" "promtool accepts ship's textfile"
is "$(val "$PROM" pga_destination_pending_segments 'destination="arch"')" 0 "nothing pending after ship"
is "$(val "$PROM" pga_destination_delivered_segments_total 'destination="arch"')" 1 "one delivered"
is "$(val "$PROM" pga_destination_up 'destination="arch"')" 1 "the destination is up"
ls -A "$TEST_TMP/textfile" >"$TEST_TMP/ls"
is "$(cat "$TEST_TMP/ls")" "pga.prom" "no temporary file left beside it"

# ---- ship --loop: after every pass ----
PGA_SHIP_INTERVAL=200ms "$PGA_BIN" ship --loop 2>/dev/null &
SHIPPER=$!
at_exit "kill -9 $SHIPPER"
run_fails 2 "another cycle while ship --loop runs" pga collect
delivered() { [ "$(val "$PROM" pga_destination_delivered_segments_total 'destination="arch"')" = 2 ]; }
for _ in $(seq 50); do delivered && break; sleep 0.1; done
delivered; ok $? "ship --loop rewrote it after its next pass: 2 delivered"
check "$PROM" "  promtool accepts it"
kill $SHIPPER; wait $SHIPPER

# ---- pga status --prometheus: prints nothing, exits with the verdict ----
run_fails 1 "status --prometheus: the verdict as exit code" pga status --prometheus "$TEST_TMP/s.prom"
is "$(cat "$OUT")" "" "  prints nothing"
check "$TEST_TMP/s.prom" "promtool accepts status's textfile"
is "$(val "$TEST_TMP/s.prom" pga_status)" 1 "  pga_status says the same"
run_fails 2 "a directory that does not exist: CRITICAL" pga status --prometheus "$TEST_TMP/no/such/f.prom"
like "$(last_err)" "could not create '$TEST_TMP/no/such/\.f\.prom\.[0-9]+\.tmp'" "  names the file"

# ---- central: lag, gaps and quarantine per collector; hostile names ----
pg_psql main postgres -c "CREATE DATABASE cen" >/dev/null
CEN=$(pg_conninfo main cen)
run_ok "central: init" pga load --init --db "$CEN"
pga collect 2>/dev/null; pga collect 2>/dev/null
run_ok "ship seq 3 and 4" pga ship
rm "$(find "$TEST_TMP/mnt" -name '0000000000000003-*.pga.zst')"
run_ok "central: load, seq 2 missing" pga load --db "$CEN" --from "$TEST_TMP/mnt"
# what a segment header could never carry, but the database may hold
pg_psql main cen -c "INSERT INTO pga.collectors (collector) VALUES
	(E'q\"uo\\\\te\\nnew\\x1bline é \\u202e 雪'), (E'tail\\\\');
	INSERT INTO pga.quarantine (name, kind, collector, error)
	  VALUES ('x', 'corrupt', E'tail\\\\', 'checksum')" >/dev/null 2>"$TEST_TMP/ins.err"
ok $? "hostile collector names in the central database"
[ -s "$TEST_TMP/ins.err" ] && diag "$(cat "$TEST_TMP/ins.err")"
run_fails 1 "status --central --prometheus: warning (a gap, a refusal)" \
	pga status --central --db "$CEN" --prometheus "$TEST_TMP/c.prom"
check "$TEST_TMP/c.prom" "promtool accepts the central textfile with hostile label values"
run_ok "label values read back as the exposition format says" python3 - "$TEST_TMP/c.prom" <<'PY'
import re, sys
want = {'q"uo\\te\nnew\\x1Bline é \u202e 雪', 'tail\\', 'site'}
got = {}
for line in open(sys.argv[1], encoding='utf-8'):
    m = re.match(r'pga_central_collector_(\w+)\{collector="((?:[^"\\]|\\.)*)"\} (\S+)$', line)
    if not m:
        continue
    v = re.sub(r'\\(.)', lambda x: {'n': '\n', '\\': '\\', '"': '"'}[x.group(1)], m.group(2))
    got.setdefault(v, {})[m.group(1)] = float(m.group(3))
assert set(got) == want, sorted(got)
assert got['site']['gaps'] == 1 and got['site']['missing_segments'] == 1, got['site']
assert got['site']['segments'] == 3, got['site']
assert got['tail\\']['quarantined'] == 1, got['tail\\']
assert 0 <= got['site']['lag_seconds'] < 600, got['site']
PY
grep -q '^pga_spool_usage_bytes ' "$TEST_TMP/c.prom"; ok $? "the local side too, where there is a spool"
run_fails 1 "a central host without a spool" \
	pga status --central --db "$CEN" --spool "$TEST_TMP/nospool" --prometheus "$TEST_TMP/c2.prom"
check "$TEST_TMP/c2.prom" "  promtool accepts it"
grep -q '^pga_spool' "$TEST_TMP/c2.prom"; ok $((! $?)) "  the central side alone"

done_testing
