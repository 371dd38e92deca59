#!/usr/bin/env bash
# Refusals: a corrupt segment in the middle of a directory is refused before
# anything of it is written and the others load; same (collector, seq) with
# another hash is refused loudly and quarantined; gaps are loaded, recorded
# and reported until filled.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
SP=$TEST_TMP/spool
helper load-spool "$SP" site-r 7 2 50 2026-11-20T00:00:00Z 60 || { echo "Bail out! load-spool"; exit 1; }
run_ok "init" pga load --init --db "$DB"
mapfile -t SEGS < <(cd "$SP/ready" && find . -name '*.pga.zst' | sed 's|^\./||' | sort)
is "${#SEGS[@]}" 7 "seven segments"

# ---- a corrupt segment in the middle ----
cp "$SP/ready/${SEGS[3]}" "$TEST_TMP/seg4.orig"
helper seg-corrupt flip-data "$SP/ready/${SEGS[3]}"
run_fails 2 "a corrupt segment makes the run exit 2" pga load --db "$DB" --from "$SP"
like "$(last_err)" "${SEGS[3]}.*block 0: data frame (crc32c mismatch|is corrupt)" "names the segment and the block"
like "$(last_out)" "loaded 6 of 7 segments .* 1 refused\): 600 rows" "the six others load"
is "$(q "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM pga.segments")" "1,2,3,5,6,7" \
	"ledger: all but seq 4"
is "$(q "SELECT count(*) FROM pga.load_test WHERE id::int BETWEEN 301 AND 400")" 0 \
	"not one row of the corrupt segment"
is "$(q "SELECT kind || ' ' || seq FROM pga.quarantine WHERE resolved_at IS NULL")" "corrupt 4" \
	"recorded in quarantine"
is "$(q "SELECT from_seq || '-' || to_seq FROM pga.gaps")" "4-4" "seq 4 is a gap"
run_fails 2 "central status needs attention" helper central-status "$DB"
like "$(last_out)" "site-r .* 6 +600 +1 +1 +0 +1" "segments, rows, gaps, missing, chain, quarantined"
like "$(last_out)" "gap: collector 'site-r' segments 4 to 4 missing" "lists the gap"
like "$(last_out)" "quarantined \(corrupt\): '${SEGS[3]}'" "lists the quarantined segment"

# the good copy arrives: gap filled, quarantine resolved
cp "$TEST_TMP/seg4.orig" "$SP/ready/${SEGS[3]}"
run_ok "load again with the good copy" pga load --db "$DB" --from "$SP"
like "$(last_out)" "loaded 1 of 7 segments \(6 already loaded" "loads just that one"
is "$(q "SELECT count(*) FROM pga.load_test")" 700 "every row now"
is "$(q "SELECT count(*) FROM pga.gaps")" 0 "no gap left"
is "$(q "SELECT count(*) FROM pga.quarantine WHERE resolved_at IS NULL")" 0 "quarantine record resolved"
run_ok "central status is clean" helper central-status "$DB"

# ---- same (collector, seq), other content ----
SP2=$TEST_TMP/spool2
helper load-spool "$SP2" site-r 2 1 5 2026-11-25T00:00:00Z 60 || { echo "Bail out! load-spool"; exit 1; }
run_fails 2 "another segment 1 and 2 of site-r" pga load --db "$DB" --from "$SP2"
like "$(last_err)" "collector 'site-r' seq 1 is already loaded with sha256 [0-9a-f]{16}\.\.\. but this file has [0-9a-f]{16}\.\.\.: refused" \
	"refused loudly, with both hashes"
like "$(last_out)" "loaded 0 of 2 segments .* 2 refused" "nothing loaded"
is "$(q "SELECT count(*) FROM pga.quarantine WHERE kind = 'conflict' AND resolved_at IS NULL")" 2 \
	"both quarantined as conflicts"
is "$(q "SELECT count(*) FROM pga.load_test")" 700 "no row added"
ok $(q "SELECT sha256 = decode('$(sha256sum "$SP2/ready/$(cd "$SP2/ready" && find . -name '*0001-*' | sed 's|^\./||')" | cut -c1-64)', 'hex') FROM pga.quarantine WHERE seq = 1 AND kind = 'conflict'" | grep -qx t; echo $?) \
	"the conflicting file's hash is recorded"
run_fails 2 "status shows the conflicts" helper central-status --json "$DB"
like "$(last_out)" '"quarantined":2' "two unresolved"

# ---- a gap and a chain break, in another collector ----
SP3=$TEST_TMP/spool3
helper load-spool "$SP3" site-g 5 1 10 2026-11-22T00:00:00Z 60 || { echo "Bail out! load-spool"; exit 1; }
mapfile -t G < <(cd "$SP3/ready" && find . -name '*.pga.zst' | sed 's|^\./||' | sort)
mkdir -p "$TEST_TMP/holes"
for i in 0 3 4; do mkdir -p "$TEST_TMP/holes/$(dirname "${G[$i]}")"; cp "$SP3/ready/${G[$i]}" "$TEST_TMP/holes/${G[$i]}"; done
run_ok "segments 1, 4, 5 load although 2 and 3 are missing" pga load --db "$DB" --from "$TEST_TMP/holes"
like "$(last_err)" "collector 'site-g': segments 2 to 3 are missing \(gap\)" "the gap is reported"
is "$(q "SELECT from_seq || '-' || to_seq FROM pga.gaps WHERE collector = 'site-g'")" "2-3" "and recorded"
run_ok "the missing ones arrive" pga load --db "$DB" --from "$SP3"
is "$(q "SELECT count(*) FROM pga.gaps WHERE collector = 'site-g'")" 0 "gap gone"
q "UPDATE pga.segments SET prev_sha256 = '\\x00' WHERE seq = 3 AND collector_id = (SELECT collector_id FROM pga.collectors WHERE collector = 'site-g')"
run_fails 2 "a broken chain is reported" helper central-status --json "$DB"
like "$(last_out)" '"collector":"site-g"[^}]*"chain_breaks":1' "as a chain break"

done_testing
