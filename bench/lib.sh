# bench/lib.sh - shared by the bench/*.sh scripts that `make bench` runs.
#
# Every figure is printed beside its baseline from the same run, as a
# ratio, because these machines are noisy:
#   report "what" VALUE UNIT "baseline what" BASE_VALUE HIGHER_IS_BETTER TARGET
# prints one line and appends it to $BENCH_OUT (bench/results.txt by default).
# HIGHER_IS_BETTER is 1 for throughputs, 0 for times; the ratio is always
# "how many times better than the baseline" (>1 is better), and TARGET is
# the issue's goal for that ratio (e.g. 0.8), shown as PASS/MISS.

BENCH_OUT=${BENCH_OUT:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/results.txt}

report() {
	local what=$1 value=$2 unit=$3 base_what=$4 base=$5 higher=$6 target=${7:-}
	local ratio verdict=""
	if [ "$higher" = 1 ]; then
		ratio=$(awk -v a="$value" -v b="$base" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
	else
		ratio=$(awk -v a="$value" -v b="$base" 'BEGIN { printf "%.2f", (a > 0) ? b / a : 0 }')
	fi
	if [ -n "$target" ]; then
		verdict=$(awk -v r="$ratio" -v t="$target" 'BEGIN { print (r >= t) ? "PASS" : "MISS" }')
		verdict="target ${target}x $verdict"
	fi
	printf '%-44s %10s %-6s | %-40s %10s %-6s | %6sx %s\n' "$what" "$value" "$unit" \
		"$base_what" "$base" "$unit" "$ratio" "$verdict" | tee -a "$BENCH_OUT"
}

# Wall-clock seconds of a command (best of N runs), printed with 3 decimals.
best_of() {
	local n=$1; shift
	local best="" t s e
	for _ in $(seq 1 "$n"); do
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || { echo "bench: command failed: $*" >&2; return 1; }
		e=$(date +%s.%N)
		t=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", b - a }')
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
	done
	echo "$best"
}
