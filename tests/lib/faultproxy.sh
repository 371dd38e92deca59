# faultproxy.sh - run tests/lib/faultproxy.py for a test (source after tap.sh).
#
#   faultproxy_start UPSTREAM_HOST:PORT [faultproxy.py options]
#       starts a proxy on a free port with its log, counts and control files
#       in its own directory; sets FAULTPROXY_PORT, FAULTPROXY_URL,
#       FAULTPROXY_DIR, FAULTPROXY_PID; stopped at exit.  For a second proxy
#       save these variables first.
#   faultproxy_count WHAT [DIR]   a number from the counts file: requests,
#       connections, forwarded, a fault mode (drop, 503, ...) or "faults"
#       (all modes)
#   faultproxy_set KEY=VALUE...  [DIR via FAULTPROXY_DIR]  change rate=,
#       modes=, stall-seconds= while running (e.g. rate=1 modes=503 for a
#       destination that is down, rate=0 to bring it back)
#   faultproxy_stop [PID]
# Debian's /usr/bin/python3 is used when present (standard library only).

FAULTPROXY_PY=$TESTS_DIR/lib/faultproxy.py
if [ -x /usr/bin/python3 ]; then FAULTPROXY_PYTHON=/usr/bin/python3; else FAULTPROXY_PYTHON=python3; fi
FAULTPROXY_N=0

faultproxy_start() {
	local upstream=$1 i
	shift
	FAULTPROXY_N=$((FAULTPROXY_N + 1))
	FAULTPROXY_DIR=$TEST_TMP/faultproxy$FAULTPROXY_N
	mkdir -p "$FAULTPROXY_DIR"
	"$FAULTPROXY_PYTHON" "$FAULTPROXY_PY" --listen 0 --upstream "$upstream" \
		--log "$FAULTPROXY_DIR/log" --ready-file "$FAULTPROXY_DIR/port" \
		--counts-file "$FAULTPROXY_DIR/counts.json" --control "$FAULTPROXY_DIR/control" \
		"$@" >"$FAULTPROXY_DIR/stdout" 2>"$FAULTPROXY_DIR/stderr" &
	FAULTPROXY_PID=$!
	at_exit "faultproxy_stop $FAULTPROXY_PID"
	for i in $(seq 1 100); do
		if [ -s "$FAULTPROXY_DIR/port" ]; then
			FAULTPROXY_PORT=$(cat "$FAULTPROXY_DIR/port")
			FAULTPROXY_URL=http://127.0.0.1:$FAULTPROXY_PORT
			return 0
		fi
		kill -0 "$FAULTPROXY_PID" 2>/dev/null || break
		sleep 0.05
	done
	diag "faultproxy did not start: $(cat "$FAULTPROXY_DIR/stderr")"
	return 1
}

faultproxy_count() {
	local what=$1 dir=${2:-$FAULTPROXY_DIR}
	"$FAULTPROXY_PYTHON" -c '
import json, sys
c = json.load(open(sys.argv[1]))
w = sys.argv[2]
print(sum(c["faults"].values()) if w == "faults" else c["faults"][w] if w in c["faults"] else c[w])
' "$dir/counts.json" "$what"
}

faultproxy_set() {
	printf '%s\n' "$@" >"$FAULTPROXY_DIR/control.tmp"
	mv "$FAULTPROXY_DIR/control.tmp" "$FAULTPROXY_DIR/control"
}

faultproxy_stop() {
	local pid=${1:-$FAULTPROXY_PID}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
