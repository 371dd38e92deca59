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

azurite_start() {
	local dir=$TEST_TMP/azurite port i
	mkdir -p "$dir"
	for _ in 1 2 3 4 5; do
		port=$(free_port) || return 1
		"$AZURITE_BIN" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir" \
			--skipApiVersionCheck --loose --disableTelemetry \
			--debug "$dir/debug.log" >"$dir/server.log" 2>&1 &
		AZURITE_PID=$!
		for i in $(seq 1 300); do
			if grep -q "successfully listens" "$dir/server.log" 2>/dev/null; then
				AZURITE_PORT=$port
				AZURITE_URL=http://127.0.0.1:$port
				export AZURE_STORAGE_ACCOUNT=devstoreaccount1
				export AZURE_STORAGE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
				at_exit azurite_stop
				return 0
			fi
			kill -0 "$AZURITE_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$AZURITE_PID" 2>/dev/null
		wait "$AZURITE_PID" 2>/dev/null
	done
	diag "azurite did not start: $(tail -n 5 "$dir/server.log")"
	return 1
}

azurite_stop() {
	[ -n "$AZURITE_PID" ] || return 0
	kill "$AZURITE_PID" 2>/dev/null
	wait "$AZURITE_PID" 2>/dev/null
	AZURITE_PID=
}
