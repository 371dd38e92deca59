#!/usr/bin/env bash
# docs/dr-runbook.md, run as written: every ```sh block of it is a
# '# runbook:NAME (site|central)' block, and each is run here with bash -e
# against PostgreSQL and s3rver (the bucket the sites ship to), the
# variables the runbook names set: a new server from the bucket, a
# restore killed and resumed, catching up with what arrived meanwhile, a
# point in time, a hand-carried tar, the monthly drill.  The databases end
# up with what a direct `pga load` of the same segments gives.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
RB=$REPO_DIR/docs/dr-runbook.md
pg_start central "" "wal_level = minimal" "max_wal_senders = 0"
s3srv_start arch || exit 1
q() { pg_psql central "$1" -At -c "$2"; }
mkdb() { pg_psql central postgres -c "CREATE DATABASE $1"; pg_conninfo central "$1"; }
# what a database holds: rows per metric, the ledger
dump() {
	q "$1" "SELECT string_agg(m.metric || ':' || (xpath('/row/c/text()', query_to_xml(format(
	        'SELECT count(*) AS c FROM pga.%I', m.metric), false, true, '')))[1]::text, ',' ORDER BY m.metric)
	        FROM pga.metrics m"
	q "$1" "SELECT count(*), md5(string_agg(c.collector || seq || encode(sha256, 'hex') || complete, ','
	        ORDER BY c.collector, seq)) FROM pga.segments JOIN pga.collectors c USING (collector_id)"
}

# the site: a spool of two collectors over two days, shipped to the bucket
SP=$TEST_TMP/spool
helper gen-archive "$SP/ready" days=2 collectors=2 dbs=2 interval=1800 seg-age=7200 \
	tables=3 indexes=3 sys-tables=2 statements=6 threads=1 >/dev/null || { echo "Bail out! gen-archive"; exit 1; }
NSEG=$(find "$SP/ready" -name '*.pga.zst' | wc -l)
DEST=("[dest:archive]" "url = s3://arch/site" "endpoint = $S3_URL" "path-style = on"
	"access-key-id = S3RVER" "secret-access-key = S3RVER")
SITE=$TEST_TMP/site.conf
ship_conf "$SITE" "$SP" "spool-retain = 7d" "${DEST[@]}"
run_ok "the site ships to the bucket" pga -c "$SITE" ship
# the central server: no spool, the bucket as [dest:archive]
CENTRAL_CONF=$TEST_TMP/central.conf
ship_conf "$CENTRAL_CONF" "$TEST_TMP/no-spool-here" "${DEST[@]}"

REF=$(mkdb ref)
run_ok "a direct load of the same segments (the reference)" pga load --init --db "$REF" --from "$SP/ready"
WANT=$(dump ref)

# the runbook's blocks, by name
BIN=$TEST_TMP/bin
mkdir -p "$BIN" && ln -s "$PGA_BIN" "$BIN/pga"
block() { awk -v n="$1" '/^```/ { if (inb) { inb = 0; next } inb = 1; first = 1; next }
	inb && first { first = 0; take = ($0 ~ "^# runbook:" n " ") ; next } inb && take' "$RB"; }
where() { grep -o "^# runbook:$1 ([a-z]*)" "$RB" | sed 's/.*(\(.*\))/\1/'; }
RAN=""
runbook() {	# NAME: run the block with the configuration of where it runs
	local conf=$CENTRAL_CONF
	[ "$(where "$1")" = site ] && conf=$SITE
	RAN="$RAN $1"
	[ -n "$(block "$1")" ] || { echo "no block '$1'" >"$ERR"; return 1; }
	PATH=$BIN:$PATH PGA_CONFIG=$conf bash -e -o pipefail -c "$(block "$1")" >"$OUT" 2>"$ERR"
}
export CENTRAL SCRATCH WHEN USB

# ---- 4. the drill (first: it is what an operator runs every month) ----
SCRATCH=$(mkdb drill)
run_ok "runbook: the drill" runbook drill
like "$(last_out)" "site00" "the verification reports per collector"
is "$(dump drill)" "$WANT" "the drill's restore holds what a direct load gives"

# ---- 1. a new server, a restore killed and resumed, catching up ----
CENTRAL=$(mkdb newsrv)
run_ok "runbook: a new central server from the bucket" runbook new-server
like "$(last_out)" "restored $NSEG of $NSEG segments" "every segment restored"
cp "$ERR" "$TEST_TMP/r_plain.err"
is "$(dump newsrv)" "$WANT" "the new server holds what a direct load gives"

# on a terminal the restore shows its progress (script(1) gives it one); not otherwise
script -qec "PGA_CONFIG='$CENTRAL_CONF' '$PGA_BIN' restore --db '$(mkdb tty)' --from dest:archive --jobs 1" \
	/dev/null >"$TEST_TMP/tty.out" 2>&1
like "$(tr '\r' '\n' <"$TEST_TMP/tty.out" | grep ' days  ' | tail -1)" \
	"^.*2/2 days  $NSEG segments  [0-9]+ rows  .*k rows/s  queryable back to 2026-11-29 00:00 \\(2/2\\)" \
	"progress: days, segments, rows, bytes, rate, how far back every collector is queryable"
grep -q 'ETA ' "$TEST_TMP/tty.out"; ok $? "with an ETA while it runs"
grep -q $'\r' "$TEST_TMP/r_plain.err" 2>/dev/null; [ $? -ne 0 ]; ok $? "no progress line when stderr is not a terminal"

CENTRAL=$(mkdb resumed)
cmd=$(block resume)
PATH=$BIN:$PATH PGA_CONFIG=$CENTRAL_CONF bash -c "exec $cmd" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	[ "$(q resumed "SELECT count(*) FROM pga.segments" 2>/dev/null || echo 0)" -gt 0 ] && break
	sleep 0.05
done
kill -9 $pid 2>/dev/null; killed=$?
wait $pid 2>/dev/null
diag "killed after $(q resumed "SELECT count(*) FROM pga.segments" 2>/dev/null || echo 0) segments (kill rc $killed)"
run_ok "runbook: the restore run again after a kill" runbook resume
[ $killed = 0 ] && like "$(last_err)" "of this source already: continuing" "it says how much was there"
is "$(dump resumed)" "$WANT" "and ends with exactly the reference, nothing twice"

# what the sites shipped while the restore ran: a late collector
LATE=$TEST_TMP/late
helper gen-archive "$LATE/ready" hours=6 collectors=1 dbs=1 interval=1800 seg-age=7200 prefix=late \
	tables=2 indexes=2 sys-tables=2 statements=4 threads=1 >/dev/null || { echo "Bail out! gen-archive"; exit 1; }
ship_conf "$TEST_TMP/late.conf" "$LATE" "spool-retain = 7d" "${DEST[@]}"
run_ok "a late site ships" pga -c "$TEST_TMP/late.conf" ship
NLATE=$(find "$LATE/ready" -name '*.pga.zst' | wc -l)
CENTRAL=$(pg_conninfo central newsrv)
run_ok "runbook: the first pass catches up" runbook catch-up
like "$(last_out)" "loaded $NLATE of $((NSEG + NLATE)) segments \\($NSEG already loaded" \
	"it loads what arrived, nothing twice"

# ---- 2. a point in time ----
WHEN=2026-11-30T06:10:00Z
SCRATCH=$(mkdb pit)
run_ok "runbook: a point in time" runbook point-in-time
run_ok "the reference up to it" pga load --init --db "$(mkdb pit_ref)" --from "$SP/ready" --until $WHEN
is "$(dump pit)" "$(dump pit_ref)" "exactly the snapshots up to it"
is "$(q pit "SELECT max(snapshot_time) FROM pga.pg_stat_database")" "2026-11-30 06:00:00+00" "nothing after it"

# ---- 3. a hand-carried archive ----
USB=$TEST_TMP/usb
mkdir -p "$USB"
run_ok "runbook: pack on the site" runbook pack
[ -s "$USB/site.tar" ] && [ -s "$USB/site.tar.sha256" ]; ok $? "the tar and its checksum are on the disk"
run_ok "runbook: the carried tar, checked and loaded" runbook carried
like "$(last_out)" "site.tar: OK" "its checksum is checked first"
like "$(last_out)" "loaded 0 of $NSEG segments \\($NSEG already loaded" "what is there is not loaded again"
printf 'X' | dd of="$USB/site.tar" bs=1 seek=$(($(stat -c %s "$USB/site.tar") / 2)) conv=notrunc 2>/dev/null
run_fails 1 "runbook: a damaged disk stops at the first step" runbook carried
like "$(last_err)" "FAILED|did NOT match" "sha256sum says so"

# every block of the runbook was run here
is "$(grep -o '^# runbook:[a-z-]*' "$RB" | sed 's/# runbook://' | sort | xargs)" "$(xargs -n1 <<<"$RAN" | sort -u | xargs)" \
	"every command block of the runbook is run by this test"
n=$(grep -c '^```sh' "$RB"); m=$(grep -c '^# runbook:' "$RB")
is "$n" "$m" "and every block is a runbook block"
done_testing
