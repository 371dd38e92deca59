#!/usr/bin/env bash
# An archive's MANIFEST.sha256 is a gate: nothing of an archive is used
# before the whole of it has been checked against its manifest.  Hostile
# archives are built with GNU tar, gzip and zstd, as an attacker would:
# manifest missing, last, malformed, duplicated, listing too much or too
# little, wrong hashes, members after it, duplicate names, path tricks,
# links, fifos, a 1 GiB zero member compressed to kilobytes.  Each is
# refused with one line naming the archive (and the member at fault), by
# pga spool verify and by pga load, which then loads nothing of it.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

SP=$TEST_TMP/spool
for day in 01 02 03; do
	seq 1 100 | sed "s/\$/,day$day/" | pga spool put --spool "$SP" --metric m \
		--columns id,v --time "2026-03-${day}T12:00:00Z" 2>/dev/null || ok 1 "put $day"
done
run_ok "pack" pga spool pack --spool "$SP" -o "$TEST_TMP/good.tar"
run_ok "tar lists the pack" tar -tf "$TEST_TMP/good.tar"
is "$(head -n 1 "$OUT")" "MANIFEST.sha256" "pack writes the manifest first"
X=$TEST_TMP/x
mkdir "$X" && tar -C "$X" -xf "$TEST_TMP/good.tar"
run_ok "sha256sum -c accepts the manifest" bash -c "cd '$X' && sha256sum -c --strict MANIFEST.sha256"
mapfile -t SEGS < <(cd "$X" && find . -name '*.pga.zst' | sed 's|^\./||' | sort)
is "${#SEGS[@]}" 3 "three segments"
COLL=${SEGS[0]%%/*}
run_ok "the pack verifies" pga spool verify "$TEST_TMP/good.tar"
like "$(last_out)" "3 segments verified, 0 failed, 0 gaps" "all three"

# case NAME: a fresh directory holding the three segments, no manifest
case_dir() {
	local d=$TEST_TMP/case-$1
	rm -rf "$d" && mkdir -p "$d" && (cd "$X" && cp --parents "${SEGS[@]}" "$d/")
	echo "$d"
}
# refused DESC ARCHIVE REGEX [VERIFY-OPTIONS]: verify fails with one FAILED
# line naming the archive, and no segment of it is reported ok
refused() {
	local desc=$1 ar=$2 re=$3; shift 3
	run_fails 1 "$desc: refused" pga spool verify "$@" "$ar"
	like "$(grep '^FAILED' "$OUT")" "^FAILED +archive '[^']*$(basename "$ar")'.*$re" "$desc: one line says why"
	is "$(grep -c '^FAILED' "$OUT") $(grep -c '^ok' "$OUT")" "1 0" "$desc: nothing of it is taken"
}

# ---- the manifest ----
d=$(case_dir none)
(cd "$d" && tar -cf "$TEST_TMP/none.tar" "${SEGS[@]}")
refused "no manifest" "$TEST_TMP/none.tar" "has no MANIFEST.sha256"
run_ok "--no-manifest reads it, on request only" pga spool verify --no-manifest "$TEST_TMP/none.tar"
like "$(last_out)" "3 segments verified, 0 failed" "all three"

d=$(case_dir last)
cp "$X/MANIFEST.sha256" "$d/"
(cd "$d" && tar -cf "$TEST_TMP/last.tar" "${SEGS[@]}" MANIFEST.sha256)
run_ok "an older archive with the manifest last still verifies" pga spool verify "$TEST_TMP/last.tar"
like "$(last_out)" "3 segments verified, 0 failed" "all three"

# malformed manifests: each variant in its own archive
malformed() {	# DESC SED-OR-CMD...: the manifest rewritten by the command
	local desc=$1; shift
	d=$(case_dir "mal")
	"$@" <"$X/MANIFEST.sha256" >"$d/MANIFEST.sha256"
	(cd "$d" && tar -cf "$TEST_TMP/mal.tar" MANIFEST.sha256 "${SEGS[@]}")
	refused "manifest $desc" "$TEST_TMP/mal.tar" "MANIFEST.sha256 line [0-9]+"
}
malformed "with one space" sed '2s/  / /'
malformed "in --tag format" bash -c 'cd "'"$X"'" && sha256sum --tag '"${SEGS[*]}"
malformed "with CR LF line ends" sed 's/$/\r/'
malformed "with an empty line" sed '2s/^/\n/'
malformed "with a short hash" sed '3s/^.//'
malformed "with a backslash-escaped line" sed '1s/^/\\/'
malformed "with a line of junk" sed '$a hello world'
malformed "with a NUL in a name" sed '2s/\.pga/\x00.pga/'
malformed "naming ../ paths" sed '1s|  |  ../|'
malformed "naming absolute paths" sed '1s|  |  /|'
malformed "naming a non-segment" sed '$a 0000000000000000000000000000000000000000000000000000000000000000  README'
d=$(case_dir twice)
{ cat "$X/MANIFEST.sha256"; head -n 1 "$X/MANIFEST.sha256"; } >"$d/MANIFEST.sha256"
(cd "$d" && tar -cf "$TEST_TMP/twice.tar" MANIFEST.sha256 "${SEGS[@]}")
refused "a manifest listing a segment twice" "$TEST_TMP/twice.tar" "lists '[^']+' twice"

d=$(case_dir dupman)
cp "$X/MANIFEST.sha256" "$d/"
(cd "$d" && tar -cf "$TEST_TMP/dupman.tar" MANIFEST.sha256 "${SEGS[@]}" && tar -rf "$TEST_TMP/dupman.tar" MANIFEST.sha256)
refused "two manifests" "$TEST_TMP/dupman.tar" "more than one MANIFEST.sha256"

# what the manifest lists and what the archive holds
seq 1 10 | sed 's/$/,late/' | pga spool put --spool "$SP" --metric m --columns id,v \
	--time 2026-03-04T12:00:00Z 2>/dev/null
S4=$(cd "$SP/ready" && find . -name '*0004-*' | sed 's|^\./||')
d=$(case_dir extra)
{ cat "$X/MANIFEST.sha256"; (cd "$SP/ready" && sha256sum "$S4"); } >"$d/MANIFEST.sha256"
(cd "$d" && tar -cf "$TEST_TMP/extra.tar" MANIFEST.sha256 "${SEGS[@]}")
refused "a manifest listing a missing member" "$TEST_TMP/extra.tar" "'$S4' is in MANIFEST.sha256 but not in the archive"
d=$(case_dir short)
grep -v "${SEGS[1]}" "$X/MANIFEST.sha256" >"$d/MANIFEST.sha256"
(cd "$d" && tar -cf "$TEST_TMP/short.tar" MANIFEST.sha256 "${SEGS[@]}")
refused "a member the manifest does not list" "$TEST_TMP/short.tar" "'${SEGS[1]}' is not in MANIFEST.sha256"
d=$(case_dir wrong)
awk 'NR == 3 { $0 = (substr($0, 1, 1) == "0" ? "1" : "0") substr($0, 2) } 1' \
	"$X/MANIFEST.sha256" >"$d/MANIFEST.sha256"
(cd "$d" && tar -cf "$TEST_TMP/wrong.tar" "${SEGS[@]}" MANIFEST.sha256)
refused "a wrong hash, manifest last" "$TEST_TMP/wrong.tar" "'${SEGS[2]}' does not match MANIFEST.sha256"
cp "$TEST_TMP/good.tar" "$TEST_TMP/after.tar"
tar -C "$SP/ready" -rf "$TEST_TMP/after.tar" "$S4"
refused "a segment appended after the manifest" "$TEST_TMP/after.tar" "'$S4' is not in MANIFEST.sha256"
cp "$TEST_TMP/good.tar" "$TEST_TMP/dup.tar"
tar -C "$X" -rf "$TEST_TMP/dup.tar" "${SEGS[0]}"
refused "a member name twice" "$TEST_TMP/dup.tar" "member '${SEGS[0]}' appears twice"

# members that are not what their manifest line and name say
d=$(case_dir renamed)
mv "$d/${SEGS[2]}" "$d/${SEGS[2]/000000000000000/00000000000000f}"
(cd "$d" && find . -name '*.pga.zst' | sed 's|^\./||' | sort | xargs sha256sum >MANIFEST.sha256 &&
	tar -cf "$TEST_TMP/renamed.tar" MANIFEST.sha256 $(find . -name '*.pga.zst' | sed 's|^\./||' | sort))
refused "a segment renamed inside, manifest agreeing" "$TEST_TMP/renamed.tar" "name does not match its header"
d=$(case_dir text)
echo "not a segment at all" >"$d/${SEGS[1]}"
(cd "$d" && sha256sum "${SEGS[@]}" >MANIFEST.sha256 && tar -cf "$TEST_TMP/text.tar" MANIFEST.sha256 "${SEGS[@]}")
refused "a text file named like a segment" "$TEST_TMP/text.tar" "not a pga segment"

# ---- path tricks and entries that are not plain files ----
d=$(case_dir paths)
cp "$X/MANIFEST.sha256" "$d/"
mkdir -p "$d/w"
(cd "$d/w" && tar -P -cf "$TEST_TMP/dotdot.tar" ../MANIFEST.sha256 $(printf '../%s ' "${SEGS[@]}"))
refused "../ member names" "$TEST_TMP/dotdot.tar" "member '\.\./MANIFEST.sha256' has an unsafe path"
(cd "$d" && tar -P -cf "$TEST_TMP/abs.tar" MANIFEST.sha256 "$d/${SEGS[0]}")
refused "an absolute member name" "$TEST_TMP/abs.tar" "member '/[^']+' has an unsafe path"
(cd "$d" && tar -P --transform "s|^$COLL/|x/../$COLL/|" -cf "$TEST_TMP/inner.tar" MANIFEST.sha256 "${SEGS[@]}")
refused "a .. inside a member name" "$TEST_TMP/inner.tar" "member 'x/\.\./[^']+' has an unsafe path"
d=$(case_dir link)
cp "$X/MANIFEST.sha256" "$d/"
mv "$d/${SEGS[0]}" "$d/real"
ln -s ../../../../real "$d/${SEGS[0]}"
(cd "$d" && tar -cf "$TEST_TMP/symlink.tar" MANIFEST.sha256 "${SEGS[@]}")
refused "a symlink entry" "$TEST_TMP/symlink.tar" "member '${SEGS[0]}' is a symbolic link"
d=$(case_dir hard)
cp "$X/MANIFEST.sha256" "$d/"
ln "$d/${SEGS[0]}" "$d/hard.pga.zst"
(cd "$d" && tar -cf "$TEST_TMP/hard.tar" MANIFEST.sha256 "${SEGS[@]}" hard.pga.zst)
refused "a hard link entry" "$TEST_TMP/hard.tar" "member 'hard.pga.zst' is a hard link"
d=$(case_dir fifo)
cp "$X/MANIFEST.sha256" "$d/"
mkfifo "$d/fifo"
(cd "$d" && tar -cf "$TEST_TMP/fifo.tar" MANIFEST.sha256 fifo "${SEGS[@]}")
refused "a fifo entry" "$TEST_TMP/fifo.tar" "member 'fifo' is a fifo"
d=$(case_dir readme)
echo hello >"$d/README"
(cd "$d" && sha256sum "${SEGS[@]}" >MANIFEST.sha256 && tar -cf "$TEST_TMP/readme.tar" README MANIFEST.sha256 "${SEGS[@]}")
refused "a file that is not a segment" "$TEST_TMP/readme.tar" "member 'README' is neither a segment nor MANIFEST.sha256"

# ---- compressed archives get the same checks ----
for ar in none wrong symlink after; do
	gzip -c "$TEST_TMP/$ar.tar" >"$TEST_TMP/$ar.tar.gz"
	zstd -q -c "$TEST_TMP/$ar.tar" >"$TEST_TMP/$ar.tar.zst"
done
refused "gzip: no manifest" "$TEST_TMP/none.tar.gz" "has no MANIFEST.sha256"
refused "zstd: no manifest" "$TEST_TMP/none.tar.zst" "has no MANIFEST.sha256"
refused "gzip: a wrong hash" "$TEST_TMP/wrong.tar.gz" "does not match MANIFEST.sha256"
refused "zstd: a wrong hash" "$TEST_TMP/wrong.tar.zst" "does not match MANIFEST.sha256"
refused "zstd: a symlink" "$TEST_TMP/symlink.tar.zst" "is a symbolic link"
refused "gzip: a member after the manifest" "$TEST_TMP/after.tar.gz" "is not in MANIFEST.sha256"
zstd -q -c "$TEST_TMP/good.tar" >"$TEST_TMP/good.tar.zst"
run_ok "a good .tar.zst verifies" pga spool verify "$TEST_TMP/good.tar.zst"
like "$(last_out)" "3 segments verified, 0 failed" "all three"

# ---- decompression bombs: 1 GiB of zeros in a few kilobytes ----
BOMB=$COLL/2026/03/09/00000000000000ff-20260309T120000Z.pga.zst
d=$TEST_TMP/bomb
mkdir -p "$d/$(dirname "$BOMB")"
cp "$X/MANIFEST.sha256" "$d/"
truncate -s 1G "$d/$BOMB"
(cd "$d" && tar -cf - MANIFEST.sha256 "$BOMB" | zstd -q -3 -o "$TEST_TMP/bomb.tar.zst")
truncate -s $((1024 * 1024 * 1024 + 1)) "$d/$BOMB"
(cd "$d" && tar -cf - MANIFEST.sha256 "$BOMB" | zstd -q -3 -o "$TEST_TMP/big.tar.zst")
(cd "$d" && tar -S -cf "$TEST_TMP/sparse.tar" MANIFEST.sha256 "$BOMB")
ok $([ "$(stat -c %s "$TEST_TMP/bomb.tar.zst")" -lt 200000 ]; echo $?) "the 1 GiB member compresses to $(stat -c %s "$TEST_TMP/bomb.tar.zst") bytes"
refused "a 1 GiB zero member" "$TEST_TMP/bomb.tar.zst" "member '$BOMB'.*not a pga segment"
refused "a member over the 1 GiB cap" "$TEST_TMP/big.tar.zst" "member '$BOMB' declares more bytes than the 1 GiB limit"
refused "a sparse member" "$TEST_TMP/sparse.tar" "member '$BOMB' is a sparse file"

# ---- pga load: the gate comes before anything is committed ----
pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
run_ok "init" pga load --init --db "$DB"
run_fails 1 "load: a wrong hash in the last line is refused" pga load --db "$DB" --from "$TEST_TMP/wrong.tar"
like "$(last_err)" "archive '[^']+wrong.tar': '${SEGS[2]}' does not match MANIFEST.sha256" "naming the archive and the segment"
is "$(grep -c 'error' "$ERR")" 1 "in one line"
is "$(q 'SELECT count(*) FROM pga.segments')" 0 "and not one segment of it is committed"
run_fails 1 "load: a member after the manifest" pga load --db "$DB" --from "$TEST_TMP/after.tar.gz"
is "$(q 'SELECT count(*) FROM pga.segments')" 0 "nothing committed"
run_fails 1 "load: no manifest" pga load --db "$DB" --from "$TEST_TMP/none.tar"
like "$(last_err)" "has no MANIFEST.sha256" "says so"
is "$(q 'SELECT count(*) FROM pga.segments')" 0 "nothing committed"
mkdir -p "$TEST_TMP/tmpdir"
# a file size limit of 64 MiB: copying the 1 GiB member to TMPDIR would be killed by SIGXFSZ
(ulimit -f 65536; TMPDIR=$TEST_TMP/tmpdir exec "$PGA_BIN" load --db "$DB" --from "$TEST_TMP/bomb.tar.zst") >"$OUT" 2>"$ERR"
is "$?" 1 "load: the bomb is refused (exit 1), TMPDIR untouched"
like "$(last_err)" "archive '[^']+bomb.tar.zst': member '$BOMB': not a pga segment" "naming archive and member"
(ulimit -f 65536; TMPDIR=$TEST_TMP/tmpdir exec "$PGA_BIN" load --db "$DB" --from "$TEST_TMP/big.tar.zst") >"$OUT" 2>"$ERR"
is "$?" 1 "load: the member over the cap is refused (exit 1)"
like "$(last_err)" "member '$BOMB' declares more bytes than the 1 GiB limit" "one line naming it"
is "$(q 'SELECT count(*) FROM pga.segments')" 0 "nothing committed"
run_ok "load --no-manifest reads an archive without one" pga load --no-manifest --db "$DB" --from "$TEST_TMP/none.tar"
like "$(last_out)" "loaded 3 of 3 segments .*0 refused\): 300 rows" "all three"
run_ok "the good .tar.zst loads (nothing twice)" pga load --db "$DB" --from "$TEST_TMP/good.tar.zst"
like "$(last_out)" "loaded 0 of 3 segments \(3 already loaded" "already there"
pg_psql central postgres -c "CREATE DATABASE c2"
run_fails 1 "restore: no manifest is refused" pga restore --db "$(pg_conninfo central c2)" --from "$TEST_TMP/none.tar.zst"
run_ok "restore --no-manifest" pga restore --no-manifest --db "$(pg_conninfo central c2)" --from "$TEST_TMP/none.tar.zst"
is "$(pg_psql central c2 -At -c 'SELECT count(*) FROM pga.m')" 300 "restored all rows"
done_testing
