#!/usr/bin/env bash
# The collector's scale curve and where its client CPU goes (issue 12,
# "Performance").  One PostgreSQL 15 grows from 10 to 400 databases (30
# tables each, pg_stat_statements with 11000 statements, top 1000 shipped);
# at 10, 50, 100, 200 and 400 databases, in the same run:
#   one-shot: `pga collect` beside the one-shot floor (floor.c: the same
#     COPYs over libpq from 8 threads, output dropped), median of RUNS;
#   loop: `pga collect --loop` cycles 2..N beside the loop floor (floor.c
#     -l -p: kept connections, prepared queries, 8 threads, output dropped);
# with pga's client CPU (utime + stime of the process, per cycle and per
# database) and peak RSS.  The table shows time growing linearly with the
# databases and memory staying flat.  Then, at 100 databases, the profile:
# callgrind's instruction counts of a steady loop cycle (cycles 2-3 minus
# cycle 1: repeatable on a shared machine, unlike times) by piece
# (compression, hashing, CSV scanning, libpq, SQL building, ...), the
# syscalls per cycle (strace -c) beside the floor's, and the compression
# level's cost as a same-run CPU ratio.
# BENCH_RUNS (default 3) repeats each one-shot point; BENCH_SCALE overrides
# the database counts (e.g. "10 50" for a quick look).
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_DIR/lib.sh"
. "$BENCH_DIR/../tests/lib/tap.sh"
. "$BENCH_DIR/../tests/lib/pg.sh"
PGA=$PGA_BUILD/pga
HELPER=$PGA_BUILD/pga-test-helper
RUNS=${BENCH_RUNS:-3}
SCALE=${BENCH_SCALE:-10 50 100 200 400}
LOOP_CYCLES=6
W=$TEST_TMP
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

max=0
for n in $SCALE; do [ "$n" -gt "$max" ] && max=$n; done
# pga --loop keeps a connection per database, the loop floor too (one after
# the other), and pga check-style side sessions may open: room for both
pg_start s 15 "max_connections = $((max + 60))" "track_functions = all" \
	"pg_stat_statements.max = 12000" "shared_buffers = 256MB"
psqls() { pg_psql s "$@"; }
{
	for i in $(seq 1 30); do
		echo "CREATE TABLE t$i (id serial PRIMARY KEY, v text, n int);"
		echo "CREATE INDEX ON t$i (n); INSERT INTO t$i (v, n) SELECT 'x', g FROM generate_series(1, 50) g;"
	done
	echo "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'; SELECT f();"
} | psqls postgres -q >/dev/null
psqls postgres -q -c "CREATE EXTENSION pg_stat_statements"
python3 -c '
for c in range(1, 111):
    cols = ", ".join(str(i) for i in range(c))
    for k in range(1, 101):
        print("SELECT %s WHERE 1 IN (%s);" % (cols, ",".join(str(i) for i in range(k))))' |
	psqls postgres -q >/dev/null
CI="host=$PG_SOCK_s port=$PG_PORT_s user=postgres"
SV=$(psqls postgres -At -c "SHOW server_version_num")
EV=$(psqls postgres -At -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'")
"$HELPER" catalog-sql --steady "$SV" "$EV" 1000 >"$W/q.txt"
gcc -O2 -o "$W/floor" "$BENCH_DIR/floor.c" -I"$(pg_config --includedir)" -lpq -lpthread || exit 1

conf() {	# conf LEVEL
	cat <<CONF
[global]
spool-path = $W/spool
collector = bench
query-stats-limit = 1000
compress-level = $1
# a first cycle connects every database: at 400 on two busy cores that
# can pass the default 30 s, and the bench measures cost, not deadlines
target-deadline = 5min
[target:s]
conninfo = $CI dbname=*
CONF
}
conf 3 >"$W/pga.conf"
conf 1 >"$W/pga1.conf"
export PGA_CONFIG=$W/pga.conf

# `pga --log-level debug collect --loop` logs each cycle's time (info) and
# its client CPU and peak RSS (debug): "cycle N: ... S s", "cycle N: client
# cpu C s (...), peak rss K KiB".  Medians of cycles 2.. into loop_t, loop_c.
pga_loop() {	# pga_loop CONF CYCLES
	rm -rf "$W/spool"
	"$PGA" -c "$1" --log-level debug collect --loop --interval 0.2s --cycles "$2" 2>"$W/loop.err" ||
		{ tail -5 "$W/loop.err"; return 1; }
	loop_t=$(grep -o 'info: cycle [0-9]*:.*' "$W/loop.err" | tail -n +2 | grep -o '[0-9.]* s$' | cut -d' ' -f1 | median)
	loop_c=$(grep -o 'client cpu [0-9.]*' "$W/loop.err" | tail -n +2 | cut -d' ' -f3 | median)
	loop_rss=$(grep -o 'peak rss [0-9]*' "$W/loop.err" | tail -1 | cut -d' ' -f3)
}
# the loop floor's cycles 2..: median seconds and client CPU
floor_loop() {	# floor_loop CYCLES DBS...
	local c=$1; shift
	"$W/floor" -l "$c" -p 8 "$CI" "$W/q.txt" "$@" >"$W/floor.out" || return 1
	fl_t=$(tail -n +2 "$W/floor.out" | cut -d' ' -f1 | median)
	fl_c=$(tail -n +2 "$W/floor.out" | awk '{ print $4 + $5 }' | median)
	fl_rss=$(tail -1 "$W/floor.out" | cut -d' ' -f6)
}

# ---- where the client CPU goes: the profile at 100 databases ----
profile() {
	NDB=$(echo "$DBS" | grep -c .)

	# per-metric cadences: what the definitional metrics (extensions,
	# relation_options, foreign_keys: they change with DDL, not with load)
	# cost a loop cycle, measured on the floor; a cadence of every N cycles
	# would save (N-1)/N of it
	grep -v -P '^(extensions|relation_options|foreign_keys)\t' "$W/q.txt" >"$W/q-nodefs.txt"
	floor_loop "$LOOP_CYCLES" $DBS || exit 1
	all_t=$fl_t all_c=$fl_c
	"$W/floor" -l "$LOOP_CYCLES" -p 8 "$CI" "$W/q-nodefs.txt" $DBS >"$W/floor.out" || exit 1
	nd_t=$(tail -n +2 "$W/floor.out" | cut -d' ' -f1 | median)
	nd_c=$(tail -n +2 "$W/floor.out" | awk '{ print $4 + $5 }' | median)
	report "loop floor without the 3 definition metrics" "$(calc %.1f "$nd_c * 1000")" ms \
		"client CPU with them (all $(grep -c . "$W/q.txt") queries)" "$(calc %.1f "$all_c * 1000")" 0
	report "loop floor without the 3 definition metrics" "$(calc %.0f "$nd_t * 1000")" ms \
		"cycle time with them" "$(calc %.0f "$all_t * 1000")" 0

	# what planning costs: the loop floor's queries as COPY (parsed and
	# planned every cycle, pga's one-shot way), as plain SELECTs (the same,
	# rows instead of COPY's CSV), prepared (planned once per connection)
	# and prepared in single-row mode (a result per row: one row held at a
	# time, as a COPY holds)
	fm=""
	for mode in "" -s -p -1 -P; do
		"$W/floor" -l "$LOOP_CYCLES" $mode 8 "$CI" "$W/q.txt" $DBS >"$W/floor.out" || exit 1
		fm="$fm $(tail -n +2 "$W/floor.out" | cut -d' ' -f1 | median)"
		fm="$fm $(tail -n +2 "$W/floor.out" | awk '{ print $4 + $5 }' | median)"
	done
	read -r cp_t cp_c sel_t sel_c pr_t pr_c one_t one_c pp_t pp_c <<<"$fm"
	report "loop floor by COPY (unprepared), cycle" "$(calc %.0f "$cp_t * 1000")" ms \
		"prepared" "$(calc %.0f "$pr_t * 1000")" 0
	report "loop floor by plain SELECT (unprepared)" "$(calc %.0f "$sel_t * 1000")" ms \
		"prepared" "$(calc %.0f "$pr_t * 1000")" 0
	report "loop floor prepared, single-row mode" "$(calc %.0f "$one_t * 1000")" ms \
		"prepared, whole results" "$(calc %.0f "$pr_t * 1000")" 0
	report "loop floor client CPU: COPY" "$(calc %.1f "$cp_c * 1000")" ms \
		"prepared" "$(calc %.1f "$pr_c * 1000")" 0
	report "loop floor client CPU: plain SELECT" "$(calc %.1f "$sel_c * 1000")" ms \
		"prepared" "$(calc %.1f "$pr_c * 1000")" 0
	report "loop floor client CPU: single-row mode" "$(calc %.1f "$one_c * 1000")" ms \
		"prepared, whole results" "$(calc %.1f "$pr_c * 1000")" 0
	# fewer round trips: a database's queries in one pipeline (pga's batches)
	report "loop floor prepared, pipelined, cycle" "$(calc %.0f "$pp_t * 1000")" ms \
		"prepared, one at a time" "$(calc %.0f "$pr_t * 1000")" 0
	report "loop floor client CPU: pipelined" "$(calc %.1f "$pp_c * 1000")" ms \
		"prepared, one at a time" "$(calc %.1f "$pr_c * 1000")" 0

	# compression level: the same loop, level 1 against the default 3
	pga_loop "$W/pga.conf" "$LOOP_CYCLES" || exit 1
	c3=$loop_c
	pga_loop "$W/pga1.conf" "$LOOP_CYCLES" || exit 1
	c1=$loop_c
	pga_loop "$W/pga.conf" "$LOOP_CYCLES" || exit 1
	c3=$(printf '%s\n%s\n' "$c3" "$loop_c" | sort -n | head -1)
	report "client CPU per loop cycle, compress-level 1" "$(calc %.1f "$c1 * 1000")" ms \
		"compress-level 3 (the default)" "$(calc %.1f "$c3 * 1000")" 0

	if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null; then
		# self instructions by piece, cycles 2..3 (steady) = run of 3 - run of 1
		pieces() {	# pieces OUTFILE: "piece instructions" lines
			callgrind_annotate --threshold=100 "$1" 2>/dev/null | awk '
			/^ *[0-9,]+ .*\[/ {
				n = $1; gsub(",", "", n)
				what = "other (pga, libc)"
				if ($0 ~ /libzstd/) what = "zstd compression (level 3)"
				else if ($0 ~ /libcrypto/ || $0 ~ /pga_sha256|pga_crc32c/) what = "hashing (SHA-256, CRC32C; no SHA-NI here)"
				else if ($0 ~ /libpq/) what = "libpq (protocol, COPY rows)"
				else if ($0 ~ /utf8_|csv_count|qscan|sink_block|skip_plain/) what = "CSV scanning (UTF-8 check, rows, queryids)"
				else if ($0 ~ /cpg_mark|mark_into|skip_token|mark_statement|catalog_expand|cfacts_sql/) what = "SQL building (catalog expansion, marks)"
				else if ($0 ~ /seg_|pbuf_|spool_|copy_meta|wappend|flush_wbuf/) what = "spool (block headers, buffers)"
				else if ($0 ~ /ld-linux|dl-/) what = "dynamic linking (start)"
				else if ($0 ~ /malloc|free|memcpy|memmove|memset|strlen|strcmp/) what = "libc (malloc, memcpy, strings)"
				sum[what] += n
			}
			END { for (w in sum) print sum[w] "\t" w }' >"$2"
		}
		cg() {	# cg CYCLES OUT
			valgrind --tool=callgrind --callgrind-out-file="$W/cg.$1" "$PGA" collect --loop --interval 0.2s \
				--cycles "$1" >/dev/null 2>&1 && pieces "$W/cg.$1" "$2"
		}
		rm -rf "$W/spool"
		"$PGA" collect 2>/dev/null
		if cg 1 "$W/p1" && cg 3 "$W/p3"; then
			floor_ir=$(valgrind --tool=callgrind --callgrind-out-file="$W/cg.floor" "$W/floor" -l 3 -p 8 "$CI" \
				"$W/q.txt" $DBS 2>&1 >/dev/null | awk '/refs:/ { gsub(",", "", $4); print $4 }')
			floor1=$(valgrind --tool=callgrind --callgrind-out-file="$W/cg.floor1" "$W/floor" -l 1 -p 8 "$CI" \
				"$W/q.txt" $DBS 2>&1 >/dev/null | awk '/refs:/ { gsub(",", "", $4); print $4 }')
			echo "# where a steady --loop cycle's client instructions go ($NDB databases; callgrind, cycles 2-3;"
			echo "# valgrind hides SHA-NI and cache misses: the real CPU split is perf's, below):"
			join -t $'\t' -1 2 -2 2 -a 1 <(sort -t $'\t' -k2 "$W/p3") <(sort -t $'\t' -k2 "$W/p1") |
				awk -F'\t' -v n="$NDB" '{ d = ($2 - $3) / 2; if (d < 0) d = 0; t += d; v[$1] = d }
				END { for (w in v) printf "%s\t%.0f\t%.1f\n", w, v[w] / n / 1000, 100 * v[w] / t
				      printf "TOTAL\t%.0f\t100\n", t / n / 1000 }' | sort -t $'\t' -k2 -rn |
				while IFS=$'\t' read -r what k pct; do
					printf '#   %-44s %6s k instructions per database  %5s%%\n' "$what" "$k" "$pct"
				done
			tot=$(join -t $'\t' -1 2 -2 2 <(sort -t $'\t' -k2 "$W/p3") <(sort -t $'\t' -k2 "$W/p1") |
				awk -F'\t' '{ t += ($2 - $3) / 2 } END { printf "%.0f", t }')
			# user space only: no target here.  The issue's is the client
			# CPU, kernel included (the curve's line): a batch's one round
			# trip saves syscalls, which callgrind does not count
			report "pga --loop instructions per db per cycle" "$(calc %.0f "$tot / $NDB / 1000")" k \
				"loop floor's (prepared, kept)" "$(calc %.0f "($floor_ir - $floor1) / 2 / $NDB / 1000")" 0
		fi
	else
		echo "# valgrind not installed: no instruction profile"
	fi

	if command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1; then
		# real CPU (kernel included, SHA-NI used: valgrind hides both) by where
		# it was spent, sampled over 6 loop cycles
		rm -rf "$W/spool"
		perf record -q -F 2000 -o "$W/perf.data" "$PGA" collect --loop --interval 0.2s --cycles 6 \
			>/dev/null 2>&1
		echo "# where pga --loop's client CPU goes ($NDB databases; perf, 6 cycles, kernel included):"
		perf report -i "$W/perf.data" --no-children --sort dso -g none 2>/dev/null | grep -v '^#' | grep . |
			head -8 | while read -r pct dso; do
				case $dso in
				*kernel*) what="kernel (syscalls, scheduling, page faults)" ;;
				libzstd*) what="zstd compression" ;;
				libc.so*) what="libc (malloc, memcpy, strings)" ;;
				pga) what="pga itself (CSV scan, SQL, spool)" ;;
				libpq*) what="libpq" ;;
				libcrypto*) what="libcrypto (SHA-256 of the segment)" ;;
				*) what=$dso ;;
				esac
				printf '#   %-44s %6s\n' "$what" "$pct"
			done
	fi

	if command -v strace >/dev/null; then
		# syscalls per steady cycle: 3 cycles - 1 cycle, halved
		sc() {	# sc OUT CMD...: "calls syscall" lines
			local out=$1; shift
			strace -f -c -o "$out.raw" "$@" >/dev/null 2>&1
			awk 'NR > 2 && $NF != "total" && $1 !~ /^-/ { print $(NF) "\t" (NF == 6 ? $4 : $4) }' "$out.raw" |
				sort >"$out"
		}
		sc "$W/s1" "$PGA" collect --loop --interval 0.2s --cycles 1
		sc "$W/s3" "$PGA" collect --loop --interval 0.2s --cycles 3
		sc "$W/f1" "$W/floor" -l 1 -p 8 "$CI" "$W/q.txt" $DBS
		sc "$W/f3" "$W/floor" -l 3 -p 8 "$CI" "$W/q.txt" $DBS
		per() { join -t $'\t' -a 1 -e 0 -o 0,1.2,2.2 "$1" "$2" | awk -F'\t' '{ d = ($2 - $3) / 2; if (d > 0) print $1 "\t" d }'; }
		echo "# syscalls per steady --loop cycle ($NDB databases): pga (loop floor)"
		join -t $'\t' -a 1 -e 0 -o 0,1.2,2.2 <(per "$W/s3" "$W/s1" | sort) <(per "$W/f3" "$W/f1" | sort) |
			sort -t $'\t' -k2 -rn | head -8 | while IFS=$'\t' read -r call n f; do
				printf '#   %-12s %7.0f  (%7.0f)\n' "$call" "$n" "$f"
			done
		echo "#   (write: one per database session, not per block: a worker's blocks reach the segment"
		echo "#   together, one meeting at the spool's lock and one write (SPOOL_STREAM_BATCH); one per"
		echo "#   block before, 1333 a cycle here, ~1600 futex under strace; batching took 12-17% of the"
		echo "#   loop's client CPU: medians of 6 alternating rounds at 100 databases, 97 -> 85 ms and"
		echo "#   104 -> 87 ms a cycle, cycle time unchanged; a killed collector keeps the sessions appended)"
	fi
}

have=1 prev_n="" prev_l="" prev_f=""
printf '# %5s | %-27s | %-27s | %-19s | %-22s | %s\n' "" "one-shot: pga ms (floor)" \
	"loop cycle: pga ms (floor)" "loop ms per added" "client CPU ms/db/cycle" "peak RSS MiB"
printf '# %5s | %-27s | %-27s | %-19s | %-22s | %s\n' "dbs" "" "" "database (floor)" \
	"pga loop (floor)" "one-shot, loop (floor)"
: >"$W/curve"
for n in $SCALE; do
	if [ "$n" -gt "$have" ]; then
		for i in $(seq "$have" $((n - 1))); do
			echo "CREATE DATABASE d$i TEMPLATE postgres STRATEGY FILE_COPY;"
		done | psqls postgres -q
		have=$n
	fi
	DBS=$(psqls postgres -At -c "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname <> 'postgres', datname")
	rm -rf "$W/spool"
	"$PGA" collect 2>/dev/null	# first cycle: settings and all texts
	: >"$W/os.pga" ; : >"$W/os.floor"; : >"$W/os.rss"
	for _ in $(seq "$RUNS"); do
		read -r t _ _ u s _ < <("$W/floor" 8 "$CI" "$W/q.txt" $DBS) || exit 1
		echo "$t" >>"$W/os.floor"
		/usr/bin/time -f "%e %U %S %M" -o "$W/time" "$PGA" collect 2>"$W/pga.err" ||
			{ cat "$W/pga.err"; exit 1; }
		read -r t u s m <"$W/time"
		echo "$t" >>"$W/os.pga"
		echo "$m" >>"$W/os.rss"
	done
	os_t=$(median <"$W/os.pga"); os_f=$(median <"$W/os.floor"); os_rss=$(sort -n "$W/os.rss" | tail -1)
	floor_loop "$LOOP_CYCLES" $DBS || exit 1
	pga_loop "$W/pga.conf" "$LOOP_CYCLES" || exit 1
	if [ -n "$prev_n" ]; then
		slope="$(calc %5.2f "($loop_t - $prev_l) * 1000 / ($n - $prev_n)") ($(calc %5.2f "($fl_t - $prev_f) * 1000 / ($n - $prev_n)"))"
	else
		slope=""
	fi
	printf '# %5d | %6.0f (%6.0f) %5.2fx | %6.0f (%6.0f) %5.2fx | %-19s | %5.2f (%5.2f) %5.2fx | %5.1f, %5.1f (%5.1f)\n' \
		"$n" "$(calc %f "$os_t * 1000")" "$(calc %f "$os_f * 1000")" "$(calc %f "$os_t / $os_f")" \
		"$(calc %f "$loop_t * 1000")" "$(calc %f "$fl_t * 1000")" "$(calc %f "$loop_t / $fl_t")" \
		"$slope" "$(calc %f "$loop_c * 1000 / $n")" "$(calc %f "$fl_c * 1000 / $n")" \
		"$(calc %f "($fl_c > 0) ? $loop_c / $fl_c : 0")" \
		"$(calc %f "$os_rss / 1024")" "$(calc %f "$loop_rss / 1024")" "$(calc %f "$fl_rss / 1024")"
	echo "$n $os_t $loop_t $loop_c $os_rss $loop_rss $fl_t $fl_c $fl_rss" >>"$W/curve"
	prev_n=$n prev_l=$loop_t prev_f=$fl_t
	# the profile where the issue measured: 100 databases
	if [ "$n" = 100 ]; then profile >"$W/profile.out"; profiled=1; fi
done

# linear time: the time each added database costs over the last step of the
# curve against the first one (a constant cost per database: ratio 1);
# flat memory: peak RSS at the largest point against the smallest
slope() {	# slope COLUMN FROM_LINE TO_LINE: ms per added database between two points
	awk -v c="$1" -v a="$2" -v b="$3" 'NR == a { n0 = $1; t0 = $c } NR == b { printf "%.3f", ($c - t0) * 1000 / ($1 - n0) }' "$W/curve"
}
npts=$(grep -c . "$W/curve")
read -r n_lo _ _ _ rss_lo lrss_lo _ _ frss_lo < <(head -1 "$W/curve")
read -r n_hi os_hi loop_hi cpu_hi rss_hi lrss_hi fl_hi flc_hi frss_hi < <(tail -1 "$W/curve")
# the middle point: 100 databases if measured
mid=$(awk '$1 == 100 { print NR }' "$W/curve")
[ -n "$mid" ] || mid=$(((npts + 1) / 2))
if [ "$npts" -ge 3 ] && [ "$mid" -gt 1 ] && [ "$mid" -lt "$npts" ]; then
	n_mid=$(sed -n "${mid}p" "$W/curve" | cut -d' ' -f1)
	report "pga --loop ms per added database, $n_mid->$n_hi" "$(slope 3 "$mid" "$npts")" ms \
		"the same, $n_lo->$n_mid databases" "$(slope 3 1 "$mid")" 0 0.8
	report "pga one-shot ms per added database, $n_mid->$n_hi" "$(slope 2 "$mid" "$npts")" ms \
		"the same, $n_lo->$n_mid databases" "$(slope 2 1 "$mid")" 0 0.8
fi
report "pga --loop RSS per kept connection" "$(calc %.0f "($lrss_hi - $lrss_lo) / ($n_hi - $n_lo)")" KiB \
	"the loop floor's (the same libpq)" "$(calc %.0f "($frss_hi - $frss_lo) / ($n_hi - $n_lo)")" 0 0.8
report "pga one-shot peak RSS, $n_hi databases" "$(calc %.1f "$rss_hi / 1024")" MiB \
	"the same at $n_lo databases" "$(calc %.1f "$rss_lo / 1024")" 0 0.8
report "pga --loop cycle, $n_hi databases" "$(calc %.0f "$loop_hi * 1000")" ms \
	"loop floor (kept, prepared, 8 threads)" "$(calc %.0f "$fl_hi * 1000")" 0 0.83
report "pga --loop client CPU per db per cycle" "$(calc %.2f "$cpu_hi * 1000 / $n_hi")" ms \
	"loop floor's client CPU per database" "$(calc %.2f "$flc_hi * 1000 / $n_hi")" 0 0.5

[ -n "${profiled:-}" ] || profile >"$W/profile.out"
cat "$W/profile.out"
exit 0
