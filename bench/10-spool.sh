#!/usr/bin/env bash
# Spool write throughput (fsync and seal included) beside the zstd CLI at
# level 3 on the same CSV; verification beside `zstd -t`.  Target: >= 0.8x.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PGA=$PGA_BUILD/pga
W=$(mktemp -d /tmp/pga-bench-spool.XXXXXX)
trap 'rm -rf "$W"' EXIT
export PGA_CONFIG=$W/empty.conf
: >"$PGA_CONFIG"

# table-statistics-like CSV: ids, names, counters, timestamps
awk 'BEGIN { srand(42); for (i = 0; i < 1200000; i++)
	printf "%d,public,orders_%d,%d,%d,%d,%d,%d,%d,%d,%d,2026-11-%02d %02d:%02d:%02d.%06d+00,,%d,%d\n",
	16384 + i, i % 5000, int(rand() * 1e6), int(rand() * 1e8), int(rand() * 1e5), int(rand() * 1e7),
	int(rand() * 1e4), int(rand() * 1e4), int(rand() * 100), int(rand() * 1e6), int(rand() * 1e3),
	1 + i % 28, i % 24, i % 60, (i * 7) % 60, int(rand() * 1e6), int(rand() * 10), int(rand() * 10) }' >"$W/in.csv"
size=$(stat -c %s "$W/in.csv")
cols=relid,schemaname,relname,seq_scan,seq_tup_read,idx_scan,idx_tup_fetch,n_tup_ins,n_tup_upd,n_tup_del,n_live_tup,last_vacuum,last_analyze,vacuum_count,analyze_count
cat "$W/in.csv" >/dev/null	# warm the page cache for both

put() { rm -rf "$W/sp"; "$PGA" spool put --spool "$W/sp" --metric tables --columns "$cols" <"$W/in.csv"; }
zst() { zstd -3 -q -f -c "$W/in.csv" >"$W/out.zst"; }
t_pga=$(best_of 3 put)
t_zstd=$(best_of 3 zst)
mbps() { awk -v s="$size" -v t="$1" 'BEGIN { printf "%.1f", s / t / 1048576 }'; }
report "spool put (zstd -3, crc, sha-256, fsync)" "$(mbps "$t_pga")" MB/s "zstd -3 CLI, same CSV" "$(mbps "$t_zstd")" 1 0.8

seg=$(find "$W/sp/ready" -name '*.pga.zst')
ver() { "$PGA" spool verify "$seg"; }
zt() { zstd -t -q "$seg"; }
t_ver=$(best_of 3 ver)
t_zt=$(best_of 3 zt)
report "spool verify (all checks)" "$(mbps "$t_ver")" MB/s "zstd -t, same segment" "$(mbps "$t_zt")" 1
