#!/usr/bin/env bash
# Signing and encryption (issue 11): what they cost, measured against
# neither in the same run (modes off, sign, enc, sign+enc, interleaved).
#   collect: one-shot `pga collect` cycles over a server of 20 databases
#            with sign-key-file and/or encrypt-to set and without; best of
#            RUNS.  The signature is one Ed25519 over 32 bytes per sealed
#            segment; encryption is one X25519 wrap per segment and
#            AES-256-GCM over every 64 KiB of compressed data.
#            Target: no more than 5 % slower (ratio >= 0.95).
#   load:    `pga load` of the same rows (BLOCKS segments of ROWS rows each),
#            signed segments with require-signature = on (a registry lookup
#            and a signature check per segment), encrypted ones with
#            decrypt-key-file (each block authenticated by the prescan, then
#            decrypted again as it is copied), against plain segments
#            without either, each into an emptied ledger; the ledger's hash
#            chain is written in all.  Target: <= 10 % slower (>= 0.90).
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/../tests/lib/tap.sh" >/dev/null
. "$BENCH_DIR/../tests/lib/pg.sh"
PGA=${PGA_BUILD:-$BENCH_DIR/../build}/pga
RUNS=${BENCH_RUNS:-9}
ROWS=${BENCH_TRUST_ROWS:-5000}
BLOCKS=${BENCH_TRUST_BLOCKS:-20}
W=$TEST_TMP
secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || return 1; e=$(date +%s.%N); echo "$e - $s" | bc; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a < b) ? a : b }'; }

pg_start bench >/dev/null
for i in $(seq 1 19); do echo "CREATE DATABASE d$i;"; done | pg_psql bench postgres -q
pg_psql bench postgres -c "CREATE DATABASE c"
DB=$(pg_conninfo bench c)
q() { pg_psql bench c -At -c "$1"; }
"$PGA" keygen -o "$W/k" >/dev/null
"$PGA" keygen --encryption -o "$W/x" >/dev/null
MODES="off sign enc both"
# the modes in a rotating order, so none always runs first (a shared, noisy machine)
order() { local r=$1 m=($MODES) i; for i in 0 1 2 3; do echo "${m[$(((i + r) % 4))]}"; done; }

# ---- collect ----
conf() {	# conf MODE
	printf '[global]\ncollector = bench-%s\nspool-path = %s/sp-%s\n' "$1" "$W" "$1" >"$W/$1.conf"
	case $1 in sign | both) printf 'sign-key-file = %s/k.key\n' "$W" >>"$W/$1.conf" ;; esac
	case $1 in enc | both) printf 'encrypt-to = %s/x.pub\n' "$W" >>"$W/$1.conf" ;; esac
	printf '[target:b]\nconninfo = host=%s port=%s user=postgres dbname=*\n' \
		"$PG_SOCK_bench" "$PG_PORT_bench" >>"$W/$1.conf"
	chmod 600 "$W/$1.conf"
}
declare -A tc tl
for m in $MODES; do
	conf "$m"
	"$PGA" -c "$W/$m.conf" collect >/dev/null 2>&1 || { echo "bench: collect ($m) failed"; exit 1; }
	tc[$m]=""
done
for r in $(seq 1 "$RUNS"); do
	for m in $(order "$r"); do
		t=$(secs "$PGA" -c "$W/$m.conf" collect) || { echo "bench: collect ($m) failed"; exit 1; }
		tc[$m]=$(min "$t" "${tc[$m]}")
	done
done
"$PGA" -c "$W/sign.conf" spool verify --public-key "$W/k.pub" >/dev/null ||
	{ echo "bench: signed segments do not verify"; exit 1; }
"$PGA" -c "$W/both.conf" spool verify --public-key "$W/k.pub" --decrypt-key-file "$W/x.key" >/dev/null ||
	{ echo "bench: signed and encrypted segments do not verify"; exit 1; }
report "collect cycle, 20 databases, signed" "${tc[sign]}" s "the same, neither" "${tc[off]}" 0 0.95
report "collect cycle, 20 databases, encrypted" "${tc[enc]}" s "the same, neither" "${tc[off]}" 0 0.95
report "collect cycle, 20 dbs, signed + encrypted" "${tc[both]}" s "the same, neither" "${tc[off]}" 0 0.95

# ---- load ----
put() {	# put MODE: BLOCKS segments of ROWS rows
	local sk="" et=""
	case $1 in sign | both) sk=$W/k.key ;; esac
	case $1 in enc | both) et=$W/x.pub ;; esac
	for b in $(seq 1 "$BLOCKS"); do
		awk -v n="$ROWS" -v b="$b" 'BEGIN { for (i = 0; i < n; i++) printf "%d,t_%d,%d\n", i, i, i * b }' |
			env PGA_CONFIG=/dev/null PGA_SIGN_KEY_FILE="$sk" ${et:+PGA_ENCRYPT_TO=$et} "$PGA" spool put \
			--spool "$W/ld-$1" --metric trust_bench --columns id,name,n 2>/dev/null ||
			{ echo "bench: spool put failed"; exit 1; }
	done
}
export PGA_COLLECTOR=bench-load
for m in $MODES; do put "$m"; done
"$PGA" load --init --db "$DB" >/dev/null 2>&1 || { echo "bench: init failed"; exit 1; }
"$PGA" collectors add bench-load --db "$DB" --public-key "$W/k.pub" >/dev/null ||
	{ echo "bench: collectors add failed"; exit 1; }
reset() { q "TRUNCATE pga.trust_bench; DELETE FROM pga.segment_windows; DELETE FROM pga.segments" >/dev/null 2>&1; }
"$PGA" load --db "$DB" --from "$W/ld-off" >/dev/null 2>&1	# creates the table
for m in $MODES; do tl[$m]=""; done
for r in $(seq 1 "$RUNS"); do
	for m in $(order "$r"); do
		reset
		args=()
		case $m in sign | both) args+=(--require-signature) ;; esac
		case $m in enc | both) args+=(--decrypt-key-file "$W/x.key") ;; esac
		t=$(secs "$PGA" load --db "$DB" "${args[@]}" --from "$W/ld-$m") ||
			{ echo "bench: load ($m) failed"; exit 1; }
		tl[$m]=$(min "$t" "${tl[$m]}")
	done
done
[ "$(q "SELECT count(*) FROM pga.trust_bench")" = $((ROWS * BLOCKS)) ] || { echo "bench: row count"; exit 1; }
krows() { awk -v n=$((ROWS * BLOCKS)) -v t="$1" 'BEGIN { printf "%.1f", n / t / 1000 }'; }
report "load, $BLOCKS segments, signed + require-signature" "$(krows "${tl[sign]}")" krow/s \
	"the same, neither" "$(krows "${tl[off]}")" 1 0.90
report "load, $BLOCKS segments, encrypted" "$(krows "${tl[enc]}")" krow/s \
	"the same, neither" "$(krows "${tl[off]}")" 1 0.90
report "load, $BLOCKS segments, signed + encrypted" "$(krows "${tl[both]}")" krow/s \
	"the same, neither" "$(krows "${tl[off]}")" 1 0.90
