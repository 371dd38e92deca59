# azurite.sh - an azurite blob server for one test (source after tap.sh).
#
#   azurite_available     true when scripts/deps.sh installed azurite
#   azurite_start         start on a free port with its own workspace under
#                         $TEST_TMP; sets AZURITE_PORT, AZURITE_URL
#                         (http://127.0.0.1:PORT) and exports the public dev
#                         account as AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY;
#                         stopped at exit
#   azurite_stop
# Path-style URLs: http://127.0.0.1:PORT/devstoreaccount1/CONTAINER/BLOB, so
# the Shared Key resource line holds the account twice.

AZURITE_BIN=$REPO_DIR/.deps/npm/azurite/node_modules/.bin/azurite-blob
AZURITE_PID=

azurite_available() { [ -x "$AZURITE_BIN" ] && command -v node >/dev/null; }

_azurite_try() {	# PORT: until it listens, or it died (the port was taken)
	local dir=$TEST_TMP/azurite
	"$AZURITE_BIN" --blobHost 127.0.0.1 --blobPort "$1" --location "$dir" \
		--skipApiVersionCheck --loose --disableTelemetry \
		--debug "$dir/debug.log" >"$dir/server.log" 2>&1 &
	AZURITE_PID=$!
	for _ in $(seq 1 300); do
		grep -q "successfully listens" "$dir/server.log" 2>/dev/null && return 0
		kill -0 "$AZURITE_PID" 2>/dev/null || break
		sleep 0.1
	done
	azurite_stop
	return 1
}

azurite_start() {
	mkdir -p "$TEST_TMP/azurite"
	if ! on_free_port _azurite_try; then
		diag "azurite did not start: $(tail -n 5 "$TEST_TMP/azurite/server.log")"
		return 1
	fi
	AZURITE_PORT=$FREE_PORT
	AZURITE_URL=http://127.0.0.1:$AZURITE_PORT
	export AZURE_STORAGE_ACCOUNT=devstoreaccount1
	export AZURE_STORAGE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
	at_exit azurite_stop
}

azurite_stop() {
	[ -n "$AZURITE_PID" ] || return 0
	kill "$AZURITE_PID" 2>/dev/null
	wait "$AZURITE_PID" 2>/dev/null
	AZURITE_PID=
}
