#!/usr/bin/env bash
# Signing (issue 11): what it costs, measured against itself in the same run.
#   collect: one-shot `pga collect` cycles over a server of 20 databases
#            with sign-key-file set and without, interleaved; best of RUNS.
#            The signature is one Ed25519 over 32 bytes per sealed segment.
#            Target: signed no more than 5 % slower (ratio >= 0.95).
#   load:    `pga load` of the same rows (BLOCKS segments of ROWS rows each),
#            signed segments with require-signature = on (a registry lookup
#            and a signature check per segment) against unsigned segments
#            without the setting, each into an emptied ledger; the ledger's
#            hash chain is written in both.  Target: <= 10 % slower (>= 0.90).
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

# ---- collect ----
conf() {	# conf NAME [signed]
	printf '[global]\ncollector = bench-%s\nspool-path = %s/sp-%s\n' "$1" "$W" "$1" >"$W/$1.conf"
	[ -n "${2:-}" ] && printf 'sign-key-file = %s/k.key\n' "$W" >>"$W/$1.conf"
	printf '[target:b]\nconninfo = host=%s port=%s user=postgres dbname=*\n' \
		"$PG_SOCK_bench" "$PG_PORT_bench" >>"$W/$1.conf"
	chmod 600 "$W/$1.conf"
}
conf on signed; conf off
"$PGA" -c "$W/on.conf" collect >/dev/null 2>&1 || { echo "bench: collect failed"; exit 1; }
# interleaved, the order swapped every run (this machine is shared and noisy)
t_on="" t_off=""
for r in $(seq 1 "$RUNS"); do
	for m in $( ((r % 2)) && echo on off || echo off on); do
		t=$(secs "$PGA" -c "$W/$m.conf" collect) || { echo "bench: collect ($m) failed"; exit 1; }
		if [ "$m" = on ]; then t_on=$(min "$t" "$t_on"); else t_off=$(min "$t" "$t_off"); fi
	done
done
"$PGA" -c "$W/on.conf" spool verify --public-key "$W/k.pub" >/dev/null ||
	{ echo "bench: signed segments do not verify"; exit 1; }
report "collect cycle, 20 databases, signed" "$t_on" s "the same unsigned" "$t_off" 0 0.95

# ---- load ----
put() {	# put NAME [signed]: BLOCKS segments of ROWS rows
	for b in $(seq 1 "$BLOCKS"); do
		awk -v n="$ROWS" -v b="$b" 'BEGIN { for (i = 0; i < n; i++) printf "%d,t_%d,%d\n", i, i, i * b }' |
			PGA_CONFIG=/dev/null PGA_SIGN_KEY_FILE=${2:+$W/k.key} "$PGA" spool put \
			--spool "$W/ld-$1" --metric trust_bench --columns id,name,n 2>/dev/null ||
			{ echo "bench: spool put failed"; exit 1; }
	done
}
export PGA_COLLECTOR=bench-load
put on signed; put off
"$PGA" load --init --db "$DB" >/dev/null 2>&1 || { echo "bench: init failed"; exit 1; }
"$PGA" collectors add bench-load --db "$DB" --public-key "$W/k.pub" >/dev/null ||
	{ echo "bench: collectors add failed"; exit 1; }
reset() { q "TRUNCATE pga.trust_bench; DELETE FROM pga.segment_windows; DELETE FROM pga.segments" >/dev/null 2>&1; }
"$PGA" load --db "$DB" --from "$W/ld-off" >/dev/null 2>&1	# creates the table
l_on="" l_off=""
for r in $(seq 1 "$RUNS"); do
	for m in $( ((r % 2)) && echo on off || echo off on); do
		reset
		if [ "$m" = on ]; then
			t=$(secs "$PGA" load --db "$DB" --require-signature --from "$W/ld-on") ||
				{ echo "bench: signed load failed"; exit 1; }
			l_on=$(min "$t" "$l_on")
		else
			t=$(secs "$PGA" load --db "$DB" --from "$W/ld-off") || { echo "bench: load failed"; exit 1; }
			l_off=$(min "$t" "$l_off")
		fi
	done
done
[ "$(q "SELECT count(*) FROM pga.trust_bench")" = $((ROWS * BLOCKS)) ] || { echo "bench: row count"; exit 1; }
krows() { awk -v n=$((ROWS * BLOCKS)) -v t="$1" 'BEGIN { printf "%.1f", n / t / 1000 }'; }
report "load, $BLOCKS segments, signed + require-signature" "$(krows "$l_on")" krow/s \
	"the same unsigned, no check" "$(krows "$l_off")" 1 0.90
