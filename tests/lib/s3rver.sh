# s3rver.sh - an s3rver (S3 semantics, no signature checks) for one test.
# Source after tap.sh.
#   s3rver_available     true when scripts/deps.sh installed s3rver
#   s3rver_start         start on a free port with its own data directory;
#                        sets S3RVER_PORT, S3RVER_URL (path-style
#                        http://127.0.0.1:PORT/bucket/key); stopped at exit
#   s3rver_stop

S3RVER_BIN=$REPO_DIR/.deps/npm/s3rver/node_modules/.bin/s3rver
S3RVER_PID=

s3rver_available() { [ -x "$S3RVER_BIN" ] && command -v node >/dev/null; }

s3rver_start() {
	local dir=$TEST_TMP/s3rver port i
	mkdir -p "$dir/data"
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && continue
		"$S3RVER_BIN" -d "$dir/data" -a 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 &
		S3RVER_PID=$!
		for i in $(seq 1 200); do
			if grep -q "listening" "$dir/server.log" 2>/dev/null; then
				S3RVER_PORT=$port
				S3RVER_URL=http://127.0.0.1:$port
				at_exit s3rver_stop
				return 0
			fi
			kill -0 "$S3RVER_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$S3RVER_PID" 2>/dev/null
		wait "$S3RVER_PID" 2>/dev/null
	done
	diag "s3rver did not start: $(tail -n 5 "$dir/server.log")"
	return 1
}

s3rver_stop() {
	[ -n "$S3RVER_PID" ] || return 0
	kill "$S3RVER_PID" 2>/dev/null
	wait "$S3RVER_PID" 2>/dev/null
	S3RVER_PID=
}
