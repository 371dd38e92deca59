#!/usr/bin/env bash
# A segment's name and its header agree, or it is refused wherever a named
# segment is read (spool verify, spool ls, ship, load); spool verify reports
# every gap per collector and blames the segment that breaks the chain,
# never its honest successor; header strings are validated before they
# reach SQL, a path or a terminal.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

SP=$TEST_TMP/spool
CONF=$TEST_TMP/pga.conf
printf '[global]\nspool-path = %s\ncollector = site-a\n' "$SP" >"$CONF"
for i in 1 2 3 4 5; do
	seq 1 20 | sed "s/\$/,v$i/" | pga -c "$CONF" spool put --metric m --columns id,v 2>/dev/null ||
		ok 1 "put $i"
done
mapfile -t SEGS < <(cd "$SP/ready" && find . -name '*.pga.zst' | sed 's|^\./||' | sort -t/ -k5)
is "${#SEGS[@]}" 5 "five segments of site-a"
run_ok "the spool verifies" pga -c "$CONF" spool verify
like "$(last_out)" "5 segments verified, 0 failed, 0 gaps" "whole"
seg() { echo "${SEGS[$1 - 1]}"; }		# seg N: name of seq N
tree() { rm -rf "$TEST_TMP/$1" && cp -r "$SP/ready" "$TEST_TMP/$1" && echo "$TEST_TMP/$1"; }
no_esc() { ok $(grep -q $'\e' "$1"; [ $? -eq 1 ]; echo $?) "$2: no raw escape byte reaches the terminal"; }

# ---- names against headers ----
S3=$(seg 3)
T=$(tree renamed-seq)
mv "$T/$S3" "$T/${S3/0000000000000003-/0000000000000009-}"
run_fails 1 "a segment renamed to another seq" pga spool verify "$T"
like "$(last_out)" "FAILED +'[^']*0000000000000009-[^']*': name does not match its header, which says '$S3'" \
	"refused, naming what the header says"
like "$(last_out)" "GAP +collector 'site-a': no verified segment for seq 3" "and seq 3 is a gap"
run_fails 1 "the renamed file given alone" pga spool verify "$T/${S3/0000000000000003-/0000000000000009-}"
like "$(last_out)" "name does not match its header" "refused too"

T=$(tree renamed-coll)
mkdir -p "$T/site-b/$(dirname "${S3#*/}")"
mv "$T/$S3" "$T/site-b/${S3#*/}"
run_fails 1 "a segment moved to another collector's path" pga spool verify "$T"
like "$(last_out)" "FAILED +'[^']*site-b/[^']*': name does not match its header, which says '$S3'" "refused"

T=$(tree renamed-time)
NEWT=$(basename "$S3" | sed 's/T[0-9]\{6\}Z/T000001Z/')
mv "$T/$S3" "$T/$(dirname "$S3")/$NEWT"
run_fails 1 "a segment with another creation time in its name" pga spool verify "$T"
like "$(last_out)" "name does not match its header" "refused"

# spool ls (cheap: it reads the header anyway) and ship
cp -a "$SP" "$TEST_TMP/sp2"
mv "$TEST_TMP/sp2/ready/$(seg 2)" "$TEST_TMP/sp2/ready/$(dirname "$(seg 2)")/00000000000000aa-$(basename "$(seg 2)" | cut -d- -f2)"
run_ok "spool ls of a spool holding a renamed segment" pga spool ls --spool "$TEST_TMP/sp2"
like "$(last_out)" "00000000000000aa-.* unreadable: .*name does not match its header" "ls shows it"
mkdir "$TEST_TMP/dst"
printf '[global]\nspool-path = %s\ncollector = site-a\n[dest:d]\nurl = file://%s\n' \
	"$TEST_TMP/sp2" "$TEST_TMP/dst" >"$TEST_TMP/ship.conf"
pga -c "$TEST_TMP/ship.conf" ship >"$OUT" 2>"$ERR"
is "$(find "$TEST_TMP/dst" -name '*00aa-*' | wc -l)" 0 "ship does not ship it"
is "$(find "$TEST_TMP/dst" -name '*.pga.zst' | wc -l)" 4 "and ships the four others"
like "$(cat "$TEST_TMP"/sp2/quarantine/*/*/*/*/*00aa-*.why)" "name does not match its header" \
	"ship quarantined it with the reason"

# ---- gaps ----
T=$(tree gap1)
rm "$T/$(seg 3)"
run_fails 1 "a directory with a middle segment deleted" pga spool verify "$T"
like "$(last_out)" "GAP +collector 'site-a': no verified segment for seq 3, between '$(seg 2)' and '$(seg 4)'" \
	"names the gap and its neighbours"
like "$(last_out)" "4 segments verified, 0 failed, 1 gaps" "counted"
T=$(tree gap2)
rm "$T/$(seg 2)" "$T/$(seg 4)"
run_fails 1 "two gaps" pga spool verify "$T"
is "$(grep -c '^GAP' "$OUT")" 2 "both reported"
T=$(tree gap3)
rm "$T/$(seg 2)" "$T/$(seg 3)" "$T/$(seg 4)"
run_fails 1 "a run of missing segments" pga spool verify "$T"
like "$(last_out)" "no verified segment for seq 2\.\.4 \(3 segments\)" "as one range"
T=$(tree late)
rm "$T/$(seg 1)" "$T/$(seg 2)"
run_ok "a history that starts later is not a gap (drop-oldest, a time window)" pga spool verify "$T"
like "$(last_out)" "note +collector 'site-a': the history here starts at seq 3" "noted"
cp -a "$SP" "$TEST_TMP/sp3"
rm "$TEST_TMP/sp3/ready/$(seg 3)"
run_ok "in a spool a gap is a note (shipped segments leave)" pga spool verify --spool "$TEST_TMP/sp3"
like "$(last_out)" "note +collector 'site-a': no verified segment for seq 3" "still reported"
run_ok "pack that spool" pga spool pack --spool "$TEST_TMP/sp3" -o "$TEST_TMP/gap.tar"
run_fails 1 "the archive of it is not whole" pga spool verify "$TEST_TMP/gap.tar"
like "$(last_out)" "GAP +collector 'site-a': no verified segment for seq 3" "the gap fails it"

# ---- forks and chain breaks: blame the right segment ----
SHA2=$(sha256sum "$SP/ready/$(seg 2)" | cut -c1-64)
helper seg-forge "$SP/ready/$S3" "$TEST_TMP/fork.pga.zst" host=clone \
	created=2030-01-01T00:00:00Z prev="$SHA2"
FORK=$(helper seg-name "$TEST_TMP/fork.pga.zst")
T=$(tree fork)
mkdir -p "$T/$(dirname "$FORK")" && cp "$TEST_TMP/fork.pga.zst" "$T/$FORK"
run_fails 1 "a second seq 3 (a cloned VM)" pga spool verify "$T"
like "$(last_out)" "FAILED +'$FORK': fork: collector 'site-a' has another segment with seq 3; the chain goes on through '$S3'" \
	"the copy off the chain is blamed"
is "$(grep -c "^FAILED.*$(seg 4)" "$OUT")" 0 "the genuine seq 4 is not blamed"
like "$(last_out)" "6 segments verified, 1 failed, 0 gaps" "one failure"
# the same in an archive whose order puts the forged copy first
(cd "$T" && sha256sum "$FORK" $(printf '%s ' "${SEGS[@]}") >MANIFEST.sha256 &&
	tar -cf "$TEST_TMP/fork.tar" MANIFEST.sha256 "$FORK" "${SEGS[@]}")
run_fails 1 "the fork in an archive, forged copy first" pga spool verify "$TEST_TMP/fork.tar"
like "$(last_out)" "FAILED +'$FORK': fork" "the same copy is blamed"
is "$(grep -c '^FAILED' "$OUT")" 1 "and only it"
T=$(tree forkend)
rm "$T/$(seg 4)" "$T/$(seg 5)"
mkdir -p "$T/$(dirname "$FORK")" && cp "$TEST_TMP/fork.pga.zst" "$T/$FORK"
run_fails 1 "a fork with nothing after it" pga spool verify "$T"
is "$(grep -c 'fork: .*nothing here tells which is genuine' "$OUT")" 2 "both copies are suspect"
S5=$(seg 5)
T=$(tree chain)
helper seg-forge "$SP/ready/$S5" "$T/$S5" prev=zero
run_fails 1 "a last segment that does not chain" pga spool verify "$T"
like "$(last_out)" "FAILED +'$S5': chain broken: its previous-segment hash is not that of '$(seg 4)', seq 4" \
	"it is blamed"
is "$(grep -c '^FAILED' "$OUT")" 1 "nothing else"
T=$(tree copies)
mkdir "$T/a" "$T/b" && mv "$T/site-a" "$T/a/" && cp -r "$T/a/site-a" "$T/b/"
run_ok "the same history twice (two copies of a tree)" pga spool verify "$T"
is "$(grep -c '^note .* is the same segment as' "$OUT")" 5 "each copy noted"

# ---- header strings ----
forged() {	# DESC REGEX FIELD=VALUE...: a forged copy of seq 1 is refused
	local desc=$1 re=$2; shift 2
	helper seg-forge "$SP/ready/$(seg 1)" "$TEST_TMP/forged.pga.zst" "$@"
	run_fails 1 "$desc" pga spool verify "$TEST_TMP/forged.pga.zst"
	like "$(last_out)" "FAILED +'[^']*forged.pga.zst': $re" "$desc: refused"
	no_esc "$OUT" "$desc"
}
forged "collector ../../x" "invalid collector id '\.\./\.\./x'" collector=../../x
forged "collector .." "invalid collector id '\.\.'" collector=..
forged "collector ." "invalid collector id '\.'" collector=.
forged "collector with ANSI escapes" "invalid collector id '\\\\x1b\[31mred'" collector=$'\e[31mred'
forged "collector with a space" "invalid collector id 'a b'" 'collector=a b'
forged "collector starting with -" "invalid collector id '-x'" collector=-x
forged "host name with a newline" "host name 'a\\\\x0ab' in the segment header is not valid text" host=$'a\nb'
forged "writer not UTF-8" "writer 'pga \\\\xff' in the segment header is not valid text" writer=$'pga \xff'
forged "block target with escapes" "block 0: target name '\\\\x1b\]0;pwned\\\\x07' is not valid text" block.target=$'\e]0;pwned\a'
forged "block host with C1 controls" "block 0: server host 'h\\\\xc2\\\\x9b' is not valid text" block.host=$'h\xc2\x9b'
helper seg-forge "$SP/ready/$(seg 1)" "$TEST_TMP/db.pga.zst" block.database=$'d\e[2Jb'
run_ok "a database name is the server's: read as it is" pga spool verify "$TEST_TMP/db.pga.zst"
run_ok "spool cat shows it" pga spool cat "$TEST_TMP/db.pga.zst"
like "$(last_out)" "database=d\\\\x1b\[2Jb " "escaped"
no_esc "$OUT" "spool cat"

# ---- pga load ----
pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
run_ok "init" pga load --init --db "$DB"
run_fails 2 "load: the renamed segment is refused, the others load" pga load --db "$DB" --from "$TEST_TMP/renamed-seq"
like "$(last_err)" "0000000000000009-.*name does not match its header" "naming it"
is "$(q "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM pga.segments")" "1,2,4,5" "seq 3 not loaded under the wrong name"
is "$(q "SELECT count(*) FROM pga.quarantine WHERE name LIKE '%0009-%'")" 1 "recorded in quarantine"
run_fails any "load --collector site-b: a site-a segment in site-b's path is refused, not filtered" \
	pga load --db "$DB" --collector site-b --from "$TEST_TMP/renamed-coll"
like "$(last_err)" "site-b/.*name does not match its header" "naming it"
for c in ../../x $'\e[31mred'; do
	helper seg-forge "$SP/ready/$(seg 1)" "$TEST_TMP/evil.pga.zst" collector="$c"
	run_fails any "load: a header with collector id $(printf %q "$c") is refused" pga load --db "$DB" --from "$TEST_TMP/evil.pga.zst"
	no_esc "$ERR" "load"
done
is "$(q "SELECT string_agg(collector, ',') FROM pga.collectors")" "site-a" "only site-a was ever registered"
done_testing
