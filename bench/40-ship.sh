#!/usr/bin/env bash
# Shipping throughput: `pga ship` of 1000 sealed segments of about 64 KiB to
# a local s3rver, beside `rclone copy` and `aws s3 cp --recursive` (Debian's
# awscli) of the same files to the same server.  Every run gets a fresh,
# empty s3rver (it slows down as its data directory grows), and the figure
# is the best of BENCH_RUNS runs.  pga ships with max-parallel = 8 and
# create-only = check (it looks before it writes, as s3rver ignores
# If-None-Match: one listing of the day's prefix); the baselines use their defaults (rclone: 4
# transfers, awscli: 10 concurrent requests).  pga's figure includes its
# own work per segment: full verification, MD5 and SHA-256, the fsync'd
# acknowledgement and the removal from the spool.
# Target: >= 1.2x the better baseline.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/../tests/lib/tap.sh" >/dev/null
. "$BENCH_DIR/../tests/lib/shiptest.sh"
PGA_BIN=${PGA_BUILD:-$BENCH_DIR/../build}/pga
HELPER_BIN=${PGA_BUILD:-$BENCH_DIR/../build}/pga-test-helper
N=${BENCH_SHIP_SEGMENTS:-1000}
RUNS=${BENCH_RUNS:-5}
PARALLEL=${BENCH_SHIP_PARALLEL:-8}

s3srv_available || { echo "bench: s3rver not installed (make deps)" >&2; exit 1; }
[ -x "$AWS_BIN" ] && command -v rclone >/dev/null || { echo "bench: awscli/rclone missing" >&2; exit 1; }

# the segments: one pristine spool, and the same files as a plain tree
"$HELPER_BIN" ship-fill "$TEST_TMP/pristine" c1 "$N" 88000 || exit 1
cp -a "$TEST_TMP/pristine/ready" "$TEST_TMP/files"
bytes=$(find "$TEST_TMP/files" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
echo "$N segments, $((bytes / N / 1024)) KiB on average"

fresh_s3() {
	s3srv_stop
	rm -rf "$TEST_TMP/s3rver"
	mkdir -p "$TEST_TMP/s3rver"
	S3_BUCKETS=bench
	[ -n "${S3_PORT:-}" ] || { S3_PORT=$(free_port); S3_URL=http://127.0.0.1:$S3_PORT; at_exit s3srv_stop; }
	_s3srv_launch || { echo "bench: s3rver did not start" >&2; exit 1; }
}
count_objects() { awss3 s3 ls --recursive s3://bench/ | wc -l; }
timed() {	# CMD...: wall seconds on stdout, the command's output discarded
	local s e
	s=$(date +%s.%N)
	"$@" >/dev/null 2>"$TEST_TMP/last.err" || { echo "bench: failed: $* ($(tail -2 "$TEST_TMP/last.err"))" >&2; return 1; }
	e=$(date +%s.%N)
	awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", b - a }'
}
best() { printf '%s\n' "$@" | sort -n | head -1; }

run_rclone() {
	env -u AWS_CA_BUNDLE rclone copy -q --s3-provider Other --s3-endpoint "$S3_URL" \
		--s3-access-key-id S3RVER --s3-secret-access-key S3RVER "$TEST_TMP/files" :s3:bench/rclone
}
run_aws() { awss3 s3 cp --recursive --only-show-errors "$TEST_TMP/files" s3://bench/aws/; }
run_pga() {
	rm -rf "$TEST_TMP/spool"
	cp -a "$TEST_TMP/pristine" "$TEST_TMP/spool"
	ship_conf "$TEST_TMP/pga.conf" "$TEST_TMP/spool" "[dest:s3]" "url = s3://bench/pga" \
		"endpoint = $S3_URL" "path-style = on" "access-key-id = S3RVER" \
		"secret-access-key = S3RVER" "max-parallel = $PARALLEL"
	sync
	"$PGA_BIN" -c "$TEST_TMP/pga.conf" ship
}

t_rclone=() t_aws=() t_pga=()
for r in $(seq 1 "$RUNS"); do
	for tool in rclone aws pga; do
		fresh_s3
		t=$(timed "run_$tool") || exit 1
		got=$(count_objects)
		[ "$got" = "$N" ] || { echo "bench: $tool stored $got of $N objects" >&2; exit 1; }
		eval "t_$tool+=($t)"
		echo "run $r: $tool ${t}s"
	done
done
fps() { awk -v n="$N" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
f_rclone=$(fps "$(best "${t_rclone[@]}")")
f_aws=$(fps "$(best "${t_aws[@]}")")
f_pga=$(fps "$(best "${t_pga[@]}")")
if [ "$f_rclone" -ge "$f_aws" ]; then base="rclone copy"; f_base=$f_rclone; else base="aws s3 cp --recursive"; f_base=$f_aws; fi
report "pga ship, $N x 64 KiB to s3rver" "$f_pga" files/s "$base (better baseline)" "$f_base" 1 1.2
report "pga ship, $N x 64 KiB to s3rver" "$f_pga" files/s "rclone copy" "$f_rclone" 1
report "pga ship, $N x 64 KiB to s3rver" "$f_pga" files/s "aws s3 cp --recursive" "$f_aws" 1
