#!/usr/bin/env bash
# cron/: the systemd units and the crontab line that make install puts in
# place, with @BINDIR@ filled in: valid for systemd, hardened as promised.
. "$(dirname "$0")/../lib/tap.sh"

U=$TEST_TMP/units
mkdir "$U"
for f in "$REPO_DIR"/cron/*.service "$REPO_DIR"/cron/*.timer "$REPO_DIR"/cron/*.cron; do
	sed "s|@BINDIR@|$PGA_BUILD|g" "$f" >"$U/$(basename "$f")"
done
is "$(ls "$U" | tr '\n' ' ')" "pga-central.cron pga-collect-loop.service pga-collect.service pga-collect.timer pga-load-loop.service pga-load.service pga-load.timer pga-ship-loop.service pga-ship.service pga-ship.timer pga.cron " \
	"the files make install copies"
ok $(grep -q @BINDIR@ "$U"/*; [ $? -ne 0 ]; echo $?) "every @BINDIR@ is substituted"
if command -v systemd-analyze >/dev/null; then
	run_ok "systemd-analyze verify accepts them" systemd-analyze verify --man=no "$U"/*.service "$U"/*.timer
else
	ok 0 "# SKIP systemd-analyze not installed"
fi
for s in pga-collect.service pga-collect-loop.service pga-ship.service pga-ship-loop.service; do
	missing=""
	for k in "NoNewPrivileges=yes" "ProtectSystem=strict" "ReadWritePaths=/var/spool/pga" \
		"PrivateTmp=yes" "User=pga" "CapabilityBoundingSet=$"; do
		grep -q "^$k" "$U/$s" || missing="$missing $k"
	done
	is "$missing" "" "$s: dedicated user and the hardening"
done
like "$(grep '^ExecStart' "$U/pga-collect.service")" "^ExecStart=$PGA_BUILD/pga collect$" "the oneshot runs one cycle"
like "$(grep '^Type' "$U/pga-collect.service")" "Type=oneshot" "as Type=oneshot"
like "$(grep '^ExecStart' "$U/pga-collect-loop.service")" "pga collect --loop$" "the loop service runs --loop"
like "$(grep '^KillSignal' "$U/pga-collect-loop.service")" "SIGTERM" "stopped with SIGTERM, which seals"
like "$(grep -E '^#?\* \* \* \* \*' "$U/pga.cron")" "^#\* \* \* \* \* pga $PGA_BUILD/pga collect" \
	"the crontab line runs as pga every minute, shipped disabled"
like "$(grep '^ExecStart' "$U/pga-ship.service")" "^ExecStart=$PGA_BUILD/pga ship$" "the ship oneshot runs one pass"
like "$(grep '^ExecStart' "$U/pga-ship-loop.service")" "pga ship --loop$" "the ship loop service runs --loop"
like "$(grep -E '^#?\* .*pga ship' "$U/pga.cron")" "^#\* \* \* \* \* pga $PGA_BUILD/pga ship" "and a disabled crontab line for ship"
# the central side (issue 15): pga load, one pass or --loop
for s in pga-load.service pga-load-loop.service; do
	missing=""
	for k in "NoNewPrivileges=yes" "ProtectSystem=strict" "PrivateTmp=yes" "User=pga" \
		"CapabilityBoundingSet=$"; do
		grep -q "^$k" "$U/$s" || missing="$missing $k"
	done
	is "$missing" "" "$s: dedicated user and the hardening"
done
like "$(grep '^ExecStart' "$U/pga-load.service")" "^ExecStart=$PGA_BUILD/pga load$" "the load oneshot runs one pass"
like "$(grep '^ExecStart' "$U/pga-load-loop.service")" "^ExecStart=$PGA_BUILD/pga load --loop$" \
	"the load loop service runs --loop"
like "$(grep '^ExecReload' "$U/pga-load-loop.service")" "kill -HUP" "reloaded with SIGHUP"
like "$(grep -E '^#?\* .*pga load' "$U/pga-central.cron")" "^#\* \* \* \* \* pga $PGA_BUILD/pga load" \
	"and a disabled crontab line for the central side"
"$PGA_BIN" help collect >/dev/null
is "$?" 0 "the binary the units name answers"
done_testing
