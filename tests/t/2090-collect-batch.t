#!/usr/bin/env bash
# The collector's blocks reach the segment a database session at a time
# (SPOOL_STREAM_BATCH): the write(2) calls into the open segment follow the
# sessions, not the blocks (each block its own write before, ~13 a
# database), with plaintext and encrypted segments alike; the segment still
# verifies whole, numbered in order, the snapshot complete and counted; and
# a collector killed -9 in a loop keeps, whole, the blocks it flushed.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

command -v strace >/dev/null || skip_all "strace is not installed"
pg_start bt
NDB=6
for i in $(seq 1 "$NDB"); do echo "CREATE DATABASE b$i;"; done | pg_psql bt postgres
SP=$TEST_TMP/spool
conf() {	# conf FILE SPOOL [EXTRA LINE]
	cat >"$1" <<CONF
[global]
spool-path = $2
collector = batch
${3:-}
[target:bt]
conninfo = $(pg_conninfo bt '*')
CONF
}
conf "$TEST_TMP/pga.conf" "$SP"
export PGA_CONFIG=$TEST_TMP/pga.conf
pga keygen --encryption -o "$TEST_TMP/x" >/dev/null 2>&1
conf "$TEST_TMP/enc.conf" "$TEST_TMP/espool" "encrypt-to = $TEST_TMP/x.pub"

# writes_per_block CONF SPOOL: "writes blocks" of one `pga collect`
writes_blocks() {
	rm -rf "$2"
	strace -f -y -e trace=write -o "$TEST_TMP/st" "$PGA_BIN" -c "$1" collect >/dev/null 2>&1 ||
		{ echo "collect failed"; return 1; }
	echo "$(grep -c '\.part>' "$TEST_TMP/st")" \
		"$("$PGA_BIN" -c "$1" spool ls | awk '$1 == "blocks_written" { print $2 }')"
}
for c in pga enc; do
	[ $c = pga ] && sp=$SP || sp=$TEST_TMP/espool
	read -r writes blocks < <(writes_blocks "$TEST_TMP/$c.conf" "$sp")
	diag "$c: $writes writes into the segment for $blocks blocks"
	# the sessions ($NDB databases, postgres, the cluster's) flush once each;
	# the snapshot's first and status blocks go alone; header and footer
	ok $([ "$blocks" -ge $((NDB * 8)) ] && [ "$writes" -le $((NDB + 2 + 6)) ]; echo $?) \
		"$c: writes into the segment follow the sessions ($writes), not the blocks ($blocks)"
	run_ok "$c: the segment verifies" "$PGA_BIN" -c "$TEST_TMP/$c.conf" spool verify
	is "$("$PGA_BIN" -c "$TEST_TMP/$c.conf" spool ls | awk '$1 == "snapshots_complete" || $1 == "blocks_failed" { print $1 "=" $2 }' | sort | tr '\n' ' ')" \
		"blocks_failed=0 snapshots_complete=1 " "$c: the snapshot is complete, no block lost"
done
# kill -9 mid-loop: what was flushed is whole, salvaged at the next start
rm -rf "$SP"
"$PGA_BIN" collect --loop --interval 0.3s 2>"$TEST_TMP/loop.log" &
LOOP=$!
at_exit "kill -9 $LOOP 2>/dev/null"
for _ in $(seq 100); do
	grep -q 'cycle 2' "$TEST_TMP/loop.log" && break
	sleep 0.1
done
sleep 0.15
kill -9 $LOOP
wait $LOOP 2>/dev/null
run_ok "the next start salvages what the killed collector flushed" "$PGA_BIN" collect
run_ok "every segment verifies" "$PGA_BIN" spool verify
is "$("$PGA_BIN" spool ls | awk '$1 == "blocks_failed" { print $2 }')" 0 "no block counted lost"
done_testing
