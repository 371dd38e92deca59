# tap.sh - TAP output for the bash integration tests (run by prove).
#
# Source it first; it creates $TEST_TMP (removed at exit unless
# PGA_KEEP_TMP=1), defines pga/helper wrappers and these checks:
#   ok STATUS DESC          pass when STATUS is 0
#   is GOT WANT DESC        string equality
#   like GOT REGEX DESC     bash regex match
#   run_ok DESC CMD...      CMD exits 0; its stdout/stderr are in $OUT/$ERR
#   run_fails RC DESC CMD.. CMD exits with RC ('any' for any non-zero)
#   same_files DESC WANT GOT  GOT has WANT's bytes, and WANT is not empty (two
#                           empty files prove nothing: a check that cannot fail)
#   diag MSG, skip WHY N, skip_all WHY, done_testing
# Cleanup hooks registered with at_exit run in reverse order at exit.

set -u
TAP_N=0
TAP_FAILED=0
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$TESTS_DIR/.." && pwd)
PGA_BUILD=${PGA_BUILD:-$REPO_DIR/build}
PGA_BIN=$PGA_BUILD/pga
HELPER_BIN=$PGA_BUILD/pga-test-helper

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pga-test.XXXXXX")
chmod 755 "$TEST_TMP"
# tests never read /etc/pga/pga.conf by accident
: >"$TEST_TMP/empty.conf"
export PGA_CONFIG=$TEST_TMP/empty.conf
OUT=$TEST_TMP/.out
ERR=$TEST_TMP/.err
AT_EXIT=()

at_exit() { AT_EXIT+=("$*"); }

_tap_cleanup() {
	local rc=$? i
	for ((i = ${#AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${AT_EXIT[$i]}" >/dev/null 2>&1 || true
	done
	if [ "${PGA_KEEP_TMP:-0}" = 1 ] || [ "$TAP_FAILED" -gt 0 -a "${PGA_KEEP_FAILED:-0}" = 1 ]; then
		echo "# kept $TEST_TMP" >&2
	else
		rm -rf "$TEST_TMP"
	fi
	exit $rc
}
trap _tap_cleanup EXIT
trap 'exit 130' INT TERM

pga() { "$PGA_BIN" "$@"; }
helper() { "$HELPER_BIN" "$@"; }

diag() { printf '# %s\n' "$*" | sed '2,$s/^/# /' >&2; }

ok() {
	local status=$1; shift
	TAP_N=$((TAP_N + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $TAP_N - $*"
	else
		echo "not ok $TAP_N - $*"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
	return "$status"
}

# skip WHY N: N tests that cannot run here, each reported as skipped
skip() {
	local why=$1 n=$2
	for _ in $(seq 1 "$n"); do
		TAP_N=$((TAP_N + 1))
		echo "ok $TAP_N # skip $why"
	done
}

is() {
	local got=$1 want=$2; shift 2
	if [ "$got" = "$want" ]; then ok 0 "$@"; else
		ok 1 "$@"; diag "got:  '$got'"; diag "want: '$want'"; return 1; fi
}

like() {
	local got=$1 re=$2; shift 2
	if [[ $got =~ $re ]]; then ok 0 "$@"; else
		ok 1 "$@"; diag "got:  '$got'"; diag "want match: '$re'"; return 1; fi
}

run_ok() {
	local desc=$1; shift
	"$@" >"$OUT" 2>"$ERR"
	local rc=$?
	if [ $rc -eq 0 ]; then ok 0 "$desc"; else
		ok 1 "$desc"; diag "command: $*"; diag "exit $rc"; diag "$(tail -n 20 "$ERR")"; return 1; fi
}

run_fails() {
	local want=$1 desc=$2; shift 2
	"$@" >"$OUT" 2>"$ERR"
	local rc=$?
	if [ $rc -ne 0 ] && { [ "$want" = any ] || [ $rc -eq "$want" ]; }; then ok 0 "$desc"; else
		ok 1 "$desc"; diag "command: $*"; diag "exit $rc, wanted $want"; diag "$(tail -n 20 "$ERR")"; return 1; fi
}

same_files() {
	local desc=$1 want=$2 got=$3
	if [ ! -s "$want" ]; then ok 1 "$desc"; diag "nothing to compare: '$want' is empty"; return 1; fi
	if cmp -s "$want" "$got"; then ok 0 "$desc"; else
		ok 1 "$desc"; diag "$(diff "$want" "$got" 2>&1 | head -n 10)"; return 1; fi
}

skip_all() { echo "1..0 # SKIP $*"; exit 0; }

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# Lines of stdout of the last run_ok/run_fails, stderr as one string.
last_out() { cat "$OUT"; }
last_err() { cat "$ERR"; }

# A TCP port on 127.0.0.1 that nothing listens on right now.  It is taken
# below the kernel's ephemeral range: a port that an outgoing connection (or
# its TIME_WAIT remnant) holds cannot be bound by a server, and the shipper
# tests leave thousands of those, invisible to a connect probe.
free_port() {
	local lo hi p span
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768 hi=60999
	if [ "$lo" -gt 12000 ]; then span=$((lo - 11000)); lo=10000
	else lo=$((hi + 1)); span=$((65000 - lo)); fi
	[ "$span" -ge 1000 ] || { lo=20000 span=10000; }
	for _ in $(seq 1 100); do
		p=$((lo + RANDOM % span))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
			echo $p
			return 0
		fi
	done
	return 1
}

# on_free_port CMD [ARGS...]: run CMD ARGS... PORT on a fresh free port until
# it succeeds, at most 5 times (another test may bind the port between the
# probe and the server's bind); sets FREE_PORT to the port that worked.
on_free_port() {
	for _ in 1 2 3 4 5; do
		FREE_PORT=$(free_port) || return 1
		"$@" "$FREE_PORT" && return 0
	done
	return 1
}

# Run a program as the unprivileged server user when we are root.
as_pg_user() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# LD_PRELOAD value for the failwrite shim (libfailwrite.so); under
# AddressSanitizer (make check SAN=1) its runtime must come first.
failwrite_preload() {
	local asan
	asan=$(ldd "$PGA_BIN" 2>/dev/null | awk '/libasan/ { print $3 }')
	echo "${asan:+$asan }$PGA_BUILD/libfailwrite.so"
}
