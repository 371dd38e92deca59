#!/usr/bin/env bash
# make bench: run every bench/NN-*.sh with the build directory as $1.
set -euo pipefail
cd "$(dirname "$0")"
export PGA_BUILD=${1:-$PWD/../build}
export BENCH_OUT=$PWD/results.txt
: >"$BENCH_OUT"
echo "pga benchmarks, $(date -u +%FT%TZ), $(nproc) cores; ratio > 1 means pga is better"
status=0
for b in [0-9][0-9]-*.sh; do
	[ -e "$b" ] || continue
	echo "== $b"
	bash "$b" || { echo "bench: $b failed" >&2; status=1; }
done
echo "results in $BENCH_OUT"
exit $status
