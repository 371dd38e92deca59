#!/usr/bin/env bash
# The hash chain is enforced at load (issue 9 item 3): a segment that forks
# its collector's chain is never loaded over the other branch, whichever
# arrives first; it is held centrally, bytes and all, shown by
# status --central (hashes, names, hosts, seqs), and one command decides:
# pga load --resolve-fork COLLECTOR:SEQ --keep SHA256-PREFIX.
# Out-of-order arrival and gaps still load normally.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
q() { pg_psql central c1 -At -c "$1"; }
DB=$(pg_conninfo central c1)
run_ok "init" pga load --init --db "$DB"
B=$TEST_TMP/blocks
mkdir -p "$B"
BAD_PREV=$(printf 'ab%.0s' $(seq 32))
# seg DIR COLLECTOR HOST SEQ PREV TAG: one block, row "SEQ,v,TAG"; prints NAME SHA
seg() {
	printf '%d,v,%s\n' "$4" "$6" >"$B/$2.$4.$6"
	helper seg-build "$1" "$2" "$3" "$4" "$5" "2026-11-20T00:$(printf %02d "$4"):${7:-00}Z" \
		"ft:id,val,note:$B/$2.$4.$6" || { echo "Bail out! seg-build"; exit 1; }
}
load() { pga load --db "$DB" --from "$1"; }
notes() { q "SELECT string_agg(f.id || f.note, ' ' ORDER BY f.id::int) FROM pga.ft f
	     JOIN pga.collectors c USING (collector_id) WHERE c.collector = '$1'"; }
held() { q "SELECT string_agg(seq || ':' || reason, ' ' ORDER BY seq, reason) FROM pga.held_segments
	    WHERE collector = '$1' AND resolved_at IS NULL"; }

# ---- A: a forged seq 3 (wrong previous hash) after the genuine one ----
read -r a1 ah1 < <(seg "$TEST_TMP/a" a vm1 1 0 g)
read -r a2 ah2 < <(seg "$TEST_TMP/a" a vm1 2 "$ah1" g)
read -r a3 ah3 < <(seg "$TEST_TMP/a" a vm1 3 "$ah2" g)
run_ok "A: the genuine chain loads" load "$TEST_TMP/a"
read -r af3 afh3 < <(seg "$TEST_TMP/af" a evil 3 "$BAD_PREV" forged 30)
run_fails 2 "A: the forged seq 3 is refused" load "$TEST_TMP/af"
like "$(last_err)" "'$af3': collector 'a' seq 3 is already loaded with sha256 ${ah3:0:16}\.\.\. but this file has ${afh3:0:16}\.\.\.: refused, held centrally" \
	"A: both hashes in the message"
like "$(last_out)" "1 held centrally as forks" "A: the summary says so"
is "$(notes a)" "1g 2g 3g" "A: only the genuine rows"
is "$(held a)" "3:conflict" "A: the forged copy is held"
is "$(q "SELECT encode(sha256(lo_get(content)), 'hex') FROM pga.held_segments WHERE collector = 'a'")" "$afh3" \
	"A: the held large object is the file, byte for byte"
run_fails 2 "A: status --central needs attention" helper central-status "$DB"
like "$(last_out)" "fork: collector 'a' seq 3: held '$af3' sha256 ${afh3:0:16}\.\.\. \(host 'evil', conflict\)" \
	"A: status shows the held copy: name, hash, host"
like "$(last_out)" "loaded at that seq: '$a3' sha256 ${ah3:0:16}\.\.\. \(host 'vm1'\)" "A: beside the loaded one"
run_fails 2 "A: JSON too" helper central-status --json "$DB"
like "$(last_out)" "\"forks\":\[\{\"collector\":\"a\",\"seq\":3,\"loaded\":\{\"sha256\":\"$ah3\",\"segment\":\"$a3\",\"hostname\":\"vm1\"\},\"held\":\{\"sha256\":\"$afh3\",\"prev_sha256\":\"$BAD_PREV\"" \
	"A: JSON: both versions with hashes and names"
run_fails 2 "A: loading it again still refuses it" load "$TEST_TMP/af"
is "$(q "SELECT times FROM pga.held_segments WHERE collector = 'a'")" 2 "A: held once, seen twice"
run_fails 64 "A: --keep must be hex" pga load --db "$DB" --resolve-fork a:3 --keep zz
run_fails 1 "A: a prefix nobody has" pga load --db "$DB" --resolve-fork a:3 --keep 00000000
like "$(last_err)" "no version of collector 'a' seq 3 has a sha256 starting with '00000000'" "A: says so"
run_fails 1 "A: a seq without a fork" pga load --db "$DB" --resolve-fork a:2 --keep "${ah2:0:8}"
run_ok "A: keep the genuine one" pga load --db "$DB" --resolve-fork a:3 --keep "${ah3:0:12}"
like "$(last_out)" "kept '$a3'.*0 segments unloaded.*1 held segments discarded.*0 still held" "A: says what it did"
is "$(held a)" "" "A: nothing held any more"
# the same command again (after a kill the operator cannot know how far it got)
run_ok "A: the resolution run again: done before, nothing to do" \
	pga load --db "$DB" --resolve-fork a:3 --keep "${ah3:0:12}"
like "$(last_err)$(last_out)" "seq 3: resolved before" "A: says it was resolved before"
run_fails 1 "A: a seq that never was a fork is still refused" \
	pga load --db "$DB" --resolve-fork a:2 --keep "${ah2:0:8}"
is "$(q "SELECT resolution || ' ' || (content IS NOT NULL) FROM pga.held_segments WHERE collector = 'a'")" \
	"discarded by pga load --resolve-fork true" "A: the forged copy is discarded, its bytes kept"
is "$(notes a)" "1g 2g 3g" "A: the rows did not change"
# the forgery still lies in the bucket: the fork is decided, nothing to do
run_ok "A: the discarded copy arriving again: exit 0" load "$TEST_TMP/af"
like "$(last_out)" "loaded 0 of 1 segments \(1 already loaded, 0 filtered, 0 refused\)" \
	"A: counted as already done, not refused"
like "$(last_err)" "'$af3': collector 'a' seq 3: this version was set aside by pga load --resolve-fork before: nothing to do" \
	"A: says so"
is "$(q "SELECT times || ' ' || (resolved_at IS NOT NULL) FROM pga.held_segments WHERE collector = 'a'")" "3 true" \
	"A: seen again, still decided"
run_ok "A: status --central needs no attention" helper central-status "$DB"

# ---- B: a forged seq 3 before the genuine one ----
read -r b1 bh1 < <(seg "$TEST_TMP/b1" b vm1 1 0 g)
read -r b2 bh2 < <(seg "$TEST_TMP/b1" b vm1 2 "$bh1" g)
read -r bf3 bfh3 < <(seg "$TEST_TMP/bf" b evil 3 "$BAD_PREV" forged 30)
read -r b3 bh3 < <(seg "$TEST_TMP/b3" b vm1 3 "$bh2" g)
read -r b4 bh4 < <(seg "$TEST_TMP/b3" b vm1 4 "$bh3" g)
run_ok "B: 1 and 2" load "$TEST_TMP/b1"
run_fails 2 "B: the forged 3 first: it does not chain to 2" load "$TEST_TMP/bf"
like "$(last_err)" "its previous-segment hash ${BAD_PREV:0:16}\.\.\. is not the hash of the loaded seq 2 \(${bh2:0:16}\.\.\.\): refused, held" \
	"B: says which link is broken"
run_ok "B: the genuine 3 and 4 then load normally" load "$TEST_TMP/b3"
is "$(notes b)" "1g 2g 3g 4g" "B: the genuine rows"
is "$(held b)" "3:chain" "B: the forged one stays held until decided"
run_ok "B: discard it" pga load --db "$DB" --resolve-fork b:3 --keep "${bh3:0:8}"

# ---- C: the forged 3 arrives first with nothing to check it against ----
read -r c1 ch1 < <(seg "$TEST_TMP/c1" c vm1 1 0 g)
read -r c2 ch2 < <(seg "$TEST_TMP/c2" c vm1 2 "$ch1" g)
read -r c3 ch3 < <(seg "$TEST_TMP/c3" c vm1 3 "$ch2" g)
read -r c4 ch4 < <(seg "$TEST_TMP/c4" c vm1 4 "$ch3" g)
read -r cf3 cfh3 < <(seg "$TEST_TMP/cf" c evil 3 "$BAD_PREV" forged 30)
run_ok "C: 1" load "$TEST_TMP/c1"
run_ok "C: a forged 3 with 2 missing: nothing contradicts it yet" load "$TEST_TMP/cf"
run_fails 2 "C: the genuine 3: held, not loaded over it" load "$TEST_TMP/c3"
run_fails 2 "C: the genuine 2 does not chain to the loaded 3: held" load "$TEST_TMP/c2"
like "$(last_err)" "the loaded seq 3 names ${BAD_PREV:0:16}\.\.\. as its predecessor, this file is ${ch2:0:16}\.\.\." \
	"C: says why"
run_fails 2 "C: the genuine 4: held" load "$TEST_TMP/c4"
is "$(held c)" "2:chain 3:conflict 4:chain" "C: the genuine branch is held, nothing of it lost"
run_ok "C: keep the genuine 3" pga load --db "$DB" --resolve-fork c:3 --keep "${ch3:0:10}"
like "$(last_out)" "1 segments unloaded \(1 rows moved to held_rows\), 0 held segments discarded, 3 loaded; 0 still held" \
	"C: the forged 3 unloaded, the genuine 2, 3, 4 loaded"
is "$(notes c)" "1g 2g 3g 4g" "C: exactly the genuine rows"
is "$(q "SELECT row->>'note' FROM pga.held_rows WHERE collector = 'c' AND seq = 3")" "forged" \
	"C: the unloaded rows are kept in held_rows"
is "$(q "SELECT string_agg(seq || ':' || encode(sha256, 'hex'), ' ' ORDER BY seq) FROM pga.segments s JOIN pga.collectors USING (collector_id) WHERE collector = 'c'")" \
	"1:$ch1 2:$ch2 3:$ch3 4:$ch4" "C: the ledger is the genuine chain"
run_ok "C: status is clean again" helper central-status "$DB"
run_ok "C: loading everything again changes nothing" load "$TEST_TMP/c3"

# ---- D: a cloned VM: both 3 and 3' chain to 2, the break shows at 4' ----
read -r d1 dh1 < <(seg "$TEST_TMP/d" d vm1 1 0 g)
read -r d2 dh2 < <(seg "$TEST_TMP/d" d vm1 2 "$dh1" g)
read -r d3 dh3 < <(seg "$TEST_TMP/d3" d vm1 3 "$dh2" g)
read -r d4 dh4 < <(seg "$TEST_TMP/d4" d vm1 4 "$dh3" g)
read -r dc3 dch3 < <(seg "$TEST_TMP/dc3" d clone 3 "$dh2" clone 30)
read -r dc4 dch4 < <(seg "$TEST_TMP/dc4" d clone 4 "$dch3" clone 30)
run_ok "D: 1 and 2" load "$TEST_TMP/d"
run_ok "D: 3 of the original" load "$TEST_TMP/d3"
run_fails 2 "D: 3 of the clone chains to 2 too, but 3 is taken: held" load "$TEST_TMP/dc3"
run_fails 2 "D: 4 of the clone does not chain to the loaded 3: held" load "$TEST_TMP/dc4"
run_ok "D: 4 of the original loads" load "$TEST_TMP/d4"
is "$(held d)" "3:conflict 4:chain" "D: the clone's branch is held whole"
run_fails 2 "D: status" helper central-status "$DB"
like "$(last_out)" "fork: collector 'd' seq 4: held '$dc4' sha256 ${dch4:0:16}\.\.\. \(host 'clone', chain\)" \
	"D: shows the clone's host"
run_ok "D: keep the clone's branch" pga load --db "$DB" --resolve-fork d:3 --keep "${dch3:0:16}"
like "$(last_out)" "2 segments unloaded \(2 rows moved to held_rows\), 0 held segments discarded, 2 loaded" \
	"D: the original 3 and 4 unloaded, the clone's 3 and 4 loaded"
is "$(notes d)" "1g 2g 3clone 4clone" "D: the kept branch's rows"
is "$(q "SELECT string_agg(seq || ':' || resolution, ' ' ORDER BY seq) FROM pga.held_segments WHERE collector = 'd' AND reason = 'unloaded'")" \
	"3:unloaded 4:unloaded" "D: the other branch is recorded as unloaded"

# ---- E: out of order, the chain whole: everything loads ----
for i in 1 2 3 4 5; do
	read -r _ eh < <(seg "$TEST_TMP/e$i" e vm1 "$i" "${prev:-0}" g)
	prev=$eh
done
for i in 5 3 4 1 2; do
	run_ok "E: seq $i arrives (order 5 3 4 1 2)" load "$TEST_TMP/e$i"
done
is "$(notes e)" "1g 2g 3g 4g 5g" "E: the whole chain loaded"
is "$(held e)" "" "E: nothing held"

# ---- F: a gap that never fills (spool-full = drop-oldest) blocks nothing ----
prev=0
for i in 1 2 3 4 5 6; do
	read -r _ fh < <(seg "$TEST_TMP/f$i" f vm1 "$i" "$prev" g)
	prev=$fh
done
run_ok "F: 1, 2" load "$TEST_TMP/f1"
run_ok "F: 2" load "$TEST_TMP/f2"
run_ok "F: 5 and 6 with 3 and 4 gone for good" load "$TEST_TMP/f5"
run_ok "F: 6" load "$TEST_TMP/f6"
is "$(notes f)" "1g 2g 5g 6g" "F: loaded"
like "$(last_err)" "collector 'f': segments 3 to 4 are missing \(gap\)" "F: the gap is reported, not held against them"

# ---- G: two loaders of neighbours at once never both miss the break ----
bad=0
for i in $(seq 1 8); do
	read -r _ gh1 < <(seg "$TEST_TMP/g$i" "g$i" vm1 1 0 g)
	seg "$TEST_TMP/g$i" "g$i" evil 2 "$BAD_PREV" forged >/dev/null
	pga load --db "$DB" --from "$TEST_TMP/g$i" --jobs 2 >/dev/null 2>&1
	n=$(q "SELECT count(*) FROM pga.segments JOIN pga.collectors USING (collector_id) WHERE collector = 'g$i'")
	h=$(q "SELECT count(*) FROM pga.held_segments WHERE collector = 'g$i'")
	[ "$n" = 1 ] && [ "$h" = 1 ] || { bad=$((bad + 1)); diag "g$i: $n loaded, $h held"; }
done
is "$bad" 0 "G: in 8 races, always one loaded and the other held"

# ---- H: unloading a segment whose oldest day retention already dropped ----
printf '1,v,old\n' >"$B/h.old"
printf '2,v,g\n' >"$B/h.g"
printf '2,v,forged\n' >"$B/h.f"
read -r _ hh1 < <(helper seg-build "$TEST_TMP/h1" h vm1 1 0 -2h "ft:id,val,note:$B/h.old:-30d")
read -r _ hf2 < <(helper seg-build "$TEST_TMP/hf" h evil 2 "$hh1" -1h "ft:id,val,note:$B/h.old:-30d" \
	"ft:id,val,note:$B/h.f:-1h")
read -r _ hg2 < <(helper seg-build "$TEST_TMP/hg" h vm1 2 "$hh1" -1h "ft:id,val,note:$B/h.g:-1h")
run_ok "H: 1" load "$TEST_TMP/h1"
run_ok "H: a rival 2 (chaining to 1) with a block 30 days old" load "$TEST_TMP/hf"
run_fails 2 "H: the genuine 2 is held" load "$TEST_TMP/hg"
run_ok "H: retention drops the old day" pga load --db "$DB" --retain 10d --from "$TEST_TMP/h1"
run_ok "H: keep the genuine 2: the dropped day has nothing left to move" \
	pga load --db "$DB" --resolve-fork h:2 --keep "${hg2:0:8}"
like "$(last_out)" "1 segments unloaded \(1 rows moved to held_rows\)" "H: the rows still there were moved"
is "$(notes h)" "2g" "H: the genuine rows (the old day is gone for everyone)"

# ---- I: a replay: a loaded segment's blocks forged under a later seq ----
# The easiest forgery copies a genuine segment's blocks: its rows have the
# key (series, snapshot time) of the genuine rows.  Arriving first, it is
# loaded; unloading it must take out one copy of each row, exactly.
printf '1,v,g\n2,v,g\n' >"$B/i.1"
printf '3,v,g\n' >"$B/i.2"
T1=2026-11-21T00:01:00Z T2=2026-11-21T00:02:00Z
read -r _ ih1 < <(helper seg-build "$TEST_TMP/i1" i vm1 1 0 $T1 "ft:id,val,note:$B/i.1:$T1")
read -r _ ih2 < <(helper seg-build "$TEST_TMP/i2" i vm1 2 "$ih1" $T2 "ft:id,val,note:$B/i.2:$T2")
read -r _ if2 < <(helper seg-build "$TEST_TMP/if" i evil 2 "$ih1" 2026-11-21T00:03:00Z \
	"ft:id,val,note:$B/i.1:$T1")
run_ok "I: 1" load "$TEST_TMP/i1"
run_ok "I: a replay of 1's block as seq 2, first" load "$TEST_TMP/if"
run_fails 2 "I: the genuine 2 is held" load "$TEST_TMP/i2"
is "$(q "SELECT count(*) FROM pga.ft f JOIN pga.collectors c USING (collector_id) WHERE collector = 'i'")" 4 \
	"I: the replayed rows are there twice"
run_ok "I: keep the genuine 2: the replay is unloaded, one copy of each row" \
	pga load --db "$DB" --resolve-fork i:2 --keep "${ih2:0:8}"
like "$(last_out)" "1 segments unloaded \(2 rows moved to held_rows\)" "I: exactly the replay's two rows"
is "$(notes i)" "1g 2g 3g" "I: each genuine row once"
# the same key with other rows cannot be told apart: refused, nothing changed
printf '1,v,g\n2,v,changed\n' >"$B/j.f"
read -r _ jh1 < <(helper seg-build "$TEST_TMP/j1" j vm1 1 0 $T1 "ft:id,val,note:$B/i.1:$T1")
read -r _ jh2 < <(helper seg-build "$TEST_TMP/j2" j vm1 2 "$jh1" $T2 "ft:id,val,note:$B/i.2:$T2")
helper seg-build "$TEST_TMP/jf" j evil 2 "$jh1" 2026-11-21T00:03:00Z "ft:id,val,note:$B/j.f:$T1" >/dev/null
run_ok "I: j 1" load "$TEST_TMP/j1"
run_ok "I: a forged j 2 with 1's key and other rows, first" load "$TEST_TMP/jf"
run_fails 2 "I: the genuine j 2 is held" load "$TEST_TMP/j2"
run_fails 1 "I: keeping the genuine j 2 is refused" pga load --db "$DB" --resolve-fork j:2 --keep "${jh2:0:8}"
like "$(last_err)" "seq 2 block 0 has the same series and snapshot time as another loaded block, with other rows: its rows cannot be told apart, unload refused, nothing changed" \
	"I: says why"
is "$(q "SELECT count(*) FROM pga.ft f JOIN pga.collectors c USING (collector_id) WHERE collector = 'j'")" 4 \
	"I: nothing changed"
# the ledger's hash chain survives every unloading above (SCHEMA.md)
mkdir -p "$TEST_TMP/vs/ready"
pga status --spool "$TEST_TMP/vs" --central --db "$DB" --verify >"$OUT" 2>"$ERR"
like "$(cat "$OUT")" "verify: 0 findings" "the ledger still proves itself after --resolve-fork unloaded segments"
is "$(q "SELECT count(*) FROM pga.held_segments WHERE reason = 'unloaded' AND row_hash IS NOT NULL")" \
	"$(q "SELECT count(*) FROM pga.held_segments WHERE reason = 'unloaded'")" "  each unloaded row kept its link"

done_testing
