#!/usr/bin/env bash
# Counters under pressure equal what happened.  The collector runs again and
# again while the spool refuses data (spool-full = block), drops it
# (drop-oldest), and while writes fail (the failwrite shim) during a block,
# at a seal, at the chain update, at the directory fsync after the rename,
# at the counters flush, and before a cycle can start; as root also on a real
# full tmpfs with both policies.  After every run the spool is loaded into a
# central database and compared, number for number: segments, blocks and rows
# (central ledger, ready/ and dropped), complete and partial snapshots
# (snapshot_status rows, snapshots without one), cycles and failed cycles,
# refused and failed blocks (one log line each).  No inequalities.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

SHIM=$(failwrite_preload)
pg_start main 15
pg_psql main postgres -c "CREATE EXTENSION pg_stat_statements" -c "CREATE DATABASE a1" \
	-c "CREATE DATABASE a2" -c "CREATE DATABASE central"
for db in a1 a2; do
	pg_psql main $db -c "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 100) g" \
		-c "CREATE INDEX ON t (v)"
done
CENTRAL=$(pg_conninfo main central)

# conf SPOOL [KEY=VALUE...]: one target, every database, small segments
conf() {
	local sp=$1; shift
	# bloat-every = 1: every cycle about as large as the first
	printf '[global]\nspool-path = %s\ncollector = press\nsegment-max-size = 16K\ncentral = %s\n' "$sp" "$CENTRAL"
	printf 'bloat-every = 1\n'
	printf '%s\n' "$@"
	printf '[target:main]\nconninfo = %s\n' "$(pg_conninfo main '*')"
}

# What the test itself saw: runs, runs that exited 1, runs that could not
# start collecting, and blocks the log names as refused or not written.
RUNS=0 FAILS=0 PRE=0 LOST=0
# collect WANT_RC DESC [ENV=VALUE...]: one `pga collect`, under the shim if env given
collect() {
	local want=$1 desc=$2 rc; shift 2
	if [ $# -gt 0 ]; then
		env LD_PRELOAD="$SHIM" "$@" "$PGA_BIN" collect >"$OUT" 2>"$ERR"
	else
		"$PGA_BIN" collect >"$OUT" 2>"$ERR"
	fi
	rc=$?
	RUNS=$((RUNS + 1))
	[ $rc -eq 1 ] && FAILS=$((FAILS + 1))
	grep -q "info: cycle 1:" "$ERR" || PRE=$((PRE + 1))
	LOST=$((LOST + $(grep -c "warn: block '[a-z_0-9]*' of target .* \(refused\|not written\): " "$ERR")))
	is "$rc" "$want" "$desc: exit $want"
	[ "$rc" = "$want" ] || diag "$(tail -5 "$ERR")"
}
parts() { find "$SPOOL/tmp" -name '*.part' | grep -c .; }
cq() { psql -X -q -At "$CENTRAL" -c "$1"; }
SNAPS_SQL=$(helper catalog-cols | cut -f1 | sed 's/.*/SELECT snapshot_time FROM pga.&/' | paste -sd'|' |
	sed 's/|/ UNION /g')

# exact LABEL: load what is sealed, then every counter against the disk
# (ready/, and the complete blocks of a part file a failed seal left for the
# next start to salvage) and the central database
exact() {
	local label=$1 p
	pga load >"$TEST_TMP/load.out" 2>&1 || { ok 1 "$label: load"; diag "$(tail -3 "$TEST_TMP/load.out")"; return; }
	pga spool ls --json >"$TEST_TMP/ls.json"
	: >"$TEST_TMP/parts"
	for p in "$SPOOL"/tmp/*.part; do [ -e "$p" ] && helper part-blocks "$p" >>"$TEST_TMP/parts"; done
	cq "SELECT count(*), coalesce(sum(blocks), 0), coalesce(sum(total_rows), 0) FROM pga.segments" >"$TEST_TMP/c1"
	cq "SELECT count(*) FILTER (WHERE status = 'complete'), count(*) FROM pga.snapshot_status" >"$TEST_TMP/c2"
	cq "SELECT (extract(epoch FROM snapshot_time) * 1000000)::bigint FROM ($SNAPS_SQL) s" >"$TEST_TMP/c3"
	python3 - "$TEST_TMP" "$RUNS" "$FAILS" "$PRE" "$LOST" >"$TEST_TMP/exact" <<'PY'
import json, sys
d, runs, fails, pre, lost = sys.argv[1], *map(int, sys.argv[2:])
ls = json.load(open(d + '/ls.json')); c = ls['counters']
segs = [s for s in ls['segments'] if s['state'] == 'sealed']
parts = [l.rstrip('\n').split('\t') for l in open(d + '/parts') if l.strip()]
pb, pr = len(parts), sum(int(p[2]) for p in parts)
cs, cb, cr = map(int, open(d + '/c1').read().split('|'))
complete, with_status = map(int, open(d + '/c2').read().split('|'))
complete += sum(1 for p in parts if p[0] == 'snapshot_status' and p[3] == 'complete')
snaps = len(set(int(l) for l in open(d + '/c3') if l.strip()) | set(int(p[1]) for p in parts))
checks = [
    ('segments_sealed = segments loaded centrally', c['segments_sealed'], cs),
    ('blocks_written = blocks loaded centrally + in a part', c['blocks_written'], cb + pb),
    ('rows_written = rows loaded centrally + in a part', c['rows_written'], cr + pr),
    ('ready/ = sealed - dropped', len(segs), c['segments_sealed'] - c['segments_dropped']),
    ('blocks in ready/ = written - dropped - in a part', sum(s['blocks'] for s in segs),
     c['blocks_written'] - c['blocks_dropped'] - pb),
    ('rows in ready/ = written - dropped - in a part', sum(s['rows'] for s in segs),
     c['rows_written'] - c['rows_dropped'] - pr),
    ('snapshots_complete = complete status blocks', c['snapshots_complete'], complete),
    ('snapshots_partial = snapshots without a complete status', c['snapshots_partial'], snaps - complete),
    ('targets_ok = snapshots_complete', c['targets_ok'], c['snapshots_complete']),
    ('targets ok + failed = runs that collected', c['targets_ok'] + c['targets_failed'], runs - pre),
    ('cycles = runs', c['cycles'], runs),
    ('cycles_failed = runs that exited 1', c['cycles_failed'], fails),
    ('blocks refused + failed = blocks the log names', c['blocks_refused'] + c['blocks_failed'], lost),
    ('nothing quarantined', c['segments_quarantined'], 0),
]
bad = ['%s: %s != %s' % (n, a, b) for n, a, b in checks if a != b]
print('; '.join(bad) if bad else 'exact (%d segments, %d blocks, %d in a part, %d snapshots, %d partial)' %
      (cs, cb, pb, snaps, c['snapshots_partial']))
PY
	like "$(cat "$TEST_TMP/exact")" "^exact " "$label: counters equal disk and central"
	[[ $(cat "$TEST_TMP/exact") == exact* ]] && diag "$label: $(cat "$TEST_TMP/exact")"
}
refused() { pga spool ls --json | python3 -c 'import json,sys; c=json.load(sys.stdin)["counters"]; print(c[sys.argv[1]])' "$1"; }

# ---- spool-full = block: the quota is reached in the middle of a snapshot ----
SPOOL=$TEST_TMP/spool
conf "$SPOOL" "spool-max = 1G" >"$TEST_TMP/pga.conf"
export PGA_CONFIG=$TEST_TMP/pga.conf
run_ok "the central schema" pga load --init
collect 0 "a clean cycle"
exact "clean"
used=$(pga spool ls --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["usage"])')
per=$((used / 2))	# about half a cycle's worth of room
conf "$SPOOL" "spool-max = $((used + per))" "spool-full = block" >"$TEST_TMP/pga.conf"
collect 1 "spool-full = block, full in the middle of a snapshot"
like "$(last_err)" "targets 0 ok, 1 failed" "the cut snapshot's target is failed, never ok"
like "$(last_err)" "snapshots 0 complete, 1 partial" "its snapshot is partial"
like "$(last_err)" "block '[a-z_0-9]*' of target 'main'.* refused: spool '[^']*' is full" "each refused block is named"
is "$(parts)" 0 "no part file left"
exact "block, cut snapshot"
# its status block may or may not have fitted: either way it is not complete
is "$(cq "SELECT count(*) FROM pga.snapshot_status WHERE status = 'complete'") $(cq "SELECT count(*) FROM ($SNAPS_SQL) s")" \
	"1 2" "centrally: two snapshots, the cut one not complete"
used=$(pga spool ls --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["usage"])')
conf "$SPOOL" "spool-max = $used" "spool-full = block" >"$TEST_TMP/pga.conf"
collect 1 "block: full from the first block on"
like "$(last_err)" "snapshots 0 complete, 0 partial" "no block of it: no snapshot, the target failed"
exact "block, nothing fits"

# ---- drop-oldest: old segments go, counted before they do ----
conf "$SPOOL" "spool-max = $((used * 2))" "spool-full = drop-oldest" >"$TEST_TMP/pga.conf"
collect 0 "drop-oldest, cycle 1"
collect 0 "drop-oldest, cycle 2"
ok $([ "$(refused segments_dropped)" -gt 0 ]; echo $?) "segments were dropped ($(refused segments_dropped))"
exact "drop-oldest"

# ---- the failwrite shim: where the write fails ----
conf "$SPOOL" "spool-max = 1G" >"$TEST_TMP/pga.conf"
collect 1 "ENOSPC in the middle of a block" FAILWRITE_MATCH="$SPOOL/tmp/" FAILWRITE_AFTER=8000
like "$(last_err)" "not written: could not write '[^']*': No space left on device" "the lost block is named"
is "$(parts)" 1 "the open segment's part is kept for salvage"
collect 0 "the next cycle salvages it"
like "$(last_err)" "recovered segment" "recovered"
exact "ENOSPC during a block"

collect 1 "EIO when a segment is sealed" FAILWRITE_MATCH=.part FAILWRITE_FSYNC=always \
	FAILWRITE_ERRNO=EIO FAILWRITE_TIMES=1
is "$(parts)" 1 "the part whose seal failed is kept"
collect 1 "the seal of the salvaged part fails too: the cycle fails before collecting" \
	FAILWRITE_MATCH=.part FAILWRITE_FSYNC=always FAILWRITE_ERRNO=EIO
unlike() { if [[ $1 =~ $2 ]]; then ok 1 "$3"; else ok 0 "$3"; fi; }
unlike "$(last_err)" "info: cycle 1:" "no cycle ran"
is "$(refused cycles_failed)" "$FAILS" "and yet it is counted in cycles_failed"
collect 0 "then it recovers"
exact "failed seals"
pga status >"$OUT" 2>&1
is "$(awk '$1 == "cycles_failed" { print $2 }' "$OUT") $(awk '$1 == "snapshots_partial" { print $2 }' "$OUT")" \
	"$FAILS $(refused snapshots_partial)" "pga status shows failed cycles and partial snapshots"

collect 0 "the chain update fails once: retried at close" FAILWRITE_MATCH="$SPOOL/chain/" \
	FAILWRITE_AFTER=0 FAILWRITE_ERRNO=EIO FAILWRITE_TIMES=1
like "$(last_err)" "sealed, but its chain state was not saved" "said when it happened"
is "$(awk '{ print $1 }' "$SPOOL/chain/press")" \
	"$(pga spool ls --json | python3 -c 'import json,sys; print(max(int(s["name"].split("/")[-1][:16], 16) for s in json.load(sys.stdin)["segments"] if s["state"] == "sealed"))')" \
	"the chain file names the newest sealed segment"
collect 1 "the chain update always fails" FAILWRITE_MATCH="$SPOOL/chain/" FAILWRITE_AFTER=0 \
	FAILWRITE_ERRNO=EIO
collect 0 "the next cycle takes the chain from ready/"
run_ok "and the chain verifies" pga spool verify
exact "chain updates"

collect 1 "the directory fsync after the rename fails" FAILWRITE_MATCH="$SPOOL/ready" FAILWRITE_DIRS=1 \
	FAILWRITE_FSYNC=always FAILWRITE_ERRNO=EIO FAILWRITE_TIMES=1
is "$(parts)" 0 "the segment was renamed: no part left behind"
exact "directory fsync"

collect 0 "the counters file cannot be written, twice" FAILWRITE_MATCH="$SPOOL/counters" \
	FAILWRITE_AFTER=0 FAILWRITE_TIMES=2
like "$(last_err)" "kept, written with the next counters" "kept for the next write"
exact "counters flush"

# counters that can never be written: the exit says so and names them
SP2=$TEST_TMP/spool2
conf "$SP2" >"$TEST_TMP/two.conf"
FAILWRITE_MATCH="$SP2/counters" FAILWRITE_AFTER=0 LD_PRELOAD="$SHIM" "$PGA_BIN" -c "$TEST_TMP/two.conf" collect \
	>"$OUT" 2>"$ERR"
is "$?" 1 "counters that cannot be written at all: exit 1"
like "$(last_err)" "counters not recorded \(segments_sealed \+[0-9]+, blocks_written \+[0-9]+" "naming what was not recorded"

# ---- another writer holds the spool: the cycle is skipped, and counted ----
"$PGA_BIN" collect --loop --interval 1h >/dev/null 2>"$TEST_TMP/loop.err" &
LOOP=$!
for _ in $(seq 100); do grep -q "cycle 1" "$TEST_TMP/loop.err" && break; sleep 0.1; done
skipped=$(refused cycles_skipped)
"$PGA_BIN" collect >/dev/null 2>&1
is "$?" 1 "a second collector on the spool exits 1"
is "$(refused cycles_skipped)" $((skipped + 1)) "counted as a skipped cycle"
kill -TERM $LOOP
wait $LOOP
RUNS=$((RUNS + 1))	# the loop's one cycle
exact "a skipped cycle"

# ---- a real full file system (root only): both policies ----
if [ "$(id -u)" -ne 0 ]; then
	ok 0 "# SKIP tmpfs needs root"
else
	FS=$TEST_TMP/fs
	mkdir "$FS"
	for policy in block drop-oldest; do
		mount -t tmpfs -o size=2m tmpfs "$FS" || { ok 1 "mount a tmpfs"; break; }
		SPOOL=$FS/spool
		conf "$SPOOL" "spool-max = 0" "spool-full = $policy" >"$TEST_TMP/pga.conf"
		cq "DROP SCHEMA pga CASCADE" >/dev/null 2>&1
		pga load --init >/dev/null 2>&1
		RUNS=0 FAILS=0 PRE=0 LOST=0
		collect 0 "$policy on a 2 MiB tmpfs: a cycle"
		# leave about half a cycle's room
		room=$(($(stat -f -c '%a' "$FS") * $(stat -f -c '%S' "$FS") - $(du -sb "$SPOOL/ready" | cut -f1) / 2))
		fallocate -l "$room" "$FS/filler" 2>/dev/null || head -c "$room" /dev/zero >"$FS/filler"
		collect 1 "$policy: the disk fills in the middle of a snapshot"
		like "$(last_err)" "No space left on device" "ENOSPC named"
		collect 1 "$policy: and stays full"
		exact "$policy, full tmpfs"
		rm -f "$FS/filler"
		collect 0 "$policy: space again"
		exact "$policy, after the disk emptied"
		run_ok "$policy: the spool verifies" pga spool verify
		umount "$FS"
	done
fi
done_testing
