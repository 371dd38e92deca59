#!/usr/bin/env bash
# Log lines carry pga's timestamp only where nothing else stamps them: a
# terminal or a file, not journald (JOURNAL_STREAM) nor a pipe to logger;
# under journald the level goes first as <N>; log-destination = syslog
# hands lines to syslog(3) with log-ident and log-facility, and falls back
# to stderr, saying so, when there is no syslog socket.
. "$(dirname "$0")/../lib/tap.sh"

T=$TEST_TMP
mkdir -p "$T/spool"	# not a spool: every command below logs one error
STAMP='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} UTC pga\[[0-9]+\] error: '
conf() { printf '[global]\n%s\n' "$@" >"$T/l.conf"; }
conf "log-level = info"

pga -c "$T/l.conf" spool ls --spool "$T/spool" 2>"$T/err.file"
like "$(cat "$T/err.file")" "${STAMP}'$T/spool' is not a pga spool" "to a file: stamped"
pga -c "$T/l.conf" spool ls --spool "$T/spool" 2>&1 >/dev/null | cat >"$T/err.pipe"
like "$(cat "$T/err.pipe")" "^error: '$T/spool' is not a pga spool" "to a pipe (logger): not stamped"

# journald: JOURNAL_STREAM names stderr's device and inode
: >"$T/err.journal"
js=$(stat -c '%d:%i' "$T/err.journal")
JOURNAL_STREAM=$js "$PGA_BIN" -c "$T/l.conf" spool ls --spool "$T/spool" 2>"$T/err.journal"
like "$(cat "$T/err.journal")" "^<3>error: '$T/spool' is not a pga spool" \
	"under journald: not stamped, the priority first"
: >"$T/other"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/other") "$PGA_BIN" -c "$T/l.conf" spool ls \
	--spool "$T/spool" 2>"$T/err.notjournal"
like "$(cat "$T/err.notjournal")" "$STAMP" "a JOURNAL_STREAM of another file (inherited) changes nothing"
conf "log-level = warn"
JOURNAL_STREAM=$js "$PGA_BIN" -c "$T/l.conf" spool ls --spool "$T/spool" 2>"$T/err.journal"
like "$(cat "$T/err.journal")" "^<3>error:" "  the level prefix at any log-level"

# forced either way
conf "log-timestamp = on"
pga -c "$T/l.conf" spool ls --spool "$T/spool" 2>&1 >/dev/null | cat >"$T/err.pipe"
like "$(cat "$T/err.pipe")" "$STAMP" "log-timestamp = on stamps a pipe"
conf "log-timestamp = off"
pga -c "$T/l.conf" spool ls --spool "$T/spool" 2>"$T/err.file"
like "$(cat "$T/err.file")" "^error: " "log-timestamp = off leaves a file unstamped"
PGA_LOG_TIMESTAMP=on "$PGA_BIN" -c "$T/l.conf" spool ls --spool "$T/spool" 2>"$T/err.file"
like "$(cat "$T/err.file")" "$STAMP" "PGA_LOG_TIMESTAMP overrides the file"
conf "log-timestamp = sometimes"
run_fails 1 "a bad log-timestamp" pga -c "$T/l.conf" status
like "$(last_err)" "l.conf:2: key 'log-timestamp': 'log-timestamp' must be one of auto, on, off" "  names it"
conf "log-destination = journal"
run_fails 1 "a bad log-destination" pga -c "$T/l.conf" status
like "$(last_err)" "must be one of stderr, syslog" "  names the choices"

# syslog: a socket at /dev/log to read what arrives (only where we may make one)
conf "log-destination = syslog" "log-ident = pga-test-$$" "log-facility = local3"
if [ -S /dev/log ]; then
	pga -c "$T/l.conf" spool ls --spool "$T/spool" 2>"$T/err.file"
	is "$(cat "$T/err.file")" "" "with a syslog daemon, nothing on stderr"
elif [ "$(id -u)" = 0 ] && [ -w /dev ]; then
	python3 - "$T/syslog.out" <<'EOF' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
s.settimeout(20)
with open(sys.argv[1], "wb") as out:
    try:
        while True:
            out.write(s.recv(65536) + b"\n"); out.flush()
    except socket.timeout:
        pass
os.unlink("/dev/log")
EOF
	lpid=$!
	at_exit "kill $lpid 2>/dev/null; [ -S /dev/log ] && rm -f /dev/log"
	for _ in $(seq 100); do [ -e "$T/syslog.out.ready" ] && break; sleep 0.1; done
	pga -c "$T/l.conf" spool ls --spool "$T/spool" 2>"$T/err.file"
	is "$(cat "$T/err.file")" "" "to syslog: nothing on stderr"
	for _ in $(seq 50); do grep -q "pga-test" "$T/syslog.out" 2>/dev/null && break; sleep 0.1; done
	# local3 (19) * 8 + err (3) = 155
	like "$(cat "$T/syslog.out")" "^<155>.* pga-test-$$\[[0-9]+\]: '$T/spool' is not a pga spool" \
		"  the line arrives with ident, pid, facility local3 and priority err"
	kill $lpid 2>/dev/null; wait $lpid 2>/dev/null; rm -f /dev/log
else
	diag "no /dev/log and not root: the syslog delivery case is not run here"
fi
if [ ! -e /dev/log ]; then
	pga -c "$T/l.conf" spool ls --spool "$T/spool" 2>"$T/err.file"
	like "$(cat "$T/err.file")" "warn: log-destination is syslog but '/dev/log' is not a socket .*logging to stderr" \
		"no syslog socket: stderr, and it says so"
	like "$(cat "$T/err.file")" "error: '$T/spool' is not a pga spool" "  and the line is not lost"
fi
done_testing
