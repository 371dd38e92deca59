#!/usr/bin/env bash
# pga restore --verify-only, the monthly drill: no database; a good archive
# (directory, tar, bucket) passes with a line per collector (time range,
# segments, rows); a deleted middle segment (a gap), a foreign segment
# renamed into the archive, a flipped byte and a missing manifest entry
# each fail it (exit 1), named.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

ARCH=$TEST_TMP/arch
helper gen-archive "$ARCH" days=2 collectors=2 dbs=1 interval=3600 seg-age=7000 \
	tables=2 indexes=2 sys-tables=2 statements=4 threads=1 >/dev/null || { echo "Bail out! gen-archive"; exit 1; }
OTHER=$TEST_TMP/other
helper gen-archive "$OTHER" days=1 collectors=1 dbs=1 interval=3600 prefix=elsewhere \
	tables=2 indexes=2 sys-tables=2 statements=4 threads=1 >/dev/null || { echo "Bail out! gen-archive"; exit 1; }
SP=$TEST_TMP/spool
mkdir -p "$SP" && cp -r "$ARCH" "$SP/ready"
run_ok "pack" pga spool pack --spool "$SP" -o "$TEST_TMP/good.tar"
NSEG=$(find "$ARCH" -name '*.pga.zst' | wc -l)
verify() { pga restore --verify-only "$@"; }
copy() { rm -rf "$TEST_TMP/$1"; cp -r "$ARCH" "$TEST_TMP/$1"; echo "$TEST_TMP/$1"; }
nth() { (cd "$1" && find site01 -name '*.pga.zst' | sort | sed -n "$2p"); }

# --- a good archive passes, with what it covers ---
for src in "$ARCH" "$TEST_TMP/good.tar"; do
	run_ok "a good archive passes: ${src##*/}" verify --from "$src"
	like "$(last_out)" "collector 'site00': [0-9]+ segments \\(seq 1\\.\\.[0-9]+\\), 2026-11-29T00:00:00Z \\.\\. 2026-11-30T23:00:00Z, [0-9]+ rows, [^;]*; whole" \
		"site00: its time range, whole"
	like "$(last_out)" "$NSEG segments verified: 0 refused, 0 gaps, 0 forks or chain breaks, 0 manifest findings; signatures: none \\(unsigned segments\\); the source is whole" \
		"the verdict"
done
run_ok "as JSON" verify --from "$ARCH" --json
like "$(last_out)" '^\{"source":"[^"]*","whole":true,"segments":'"$NSEG"',' "whole, in JSON"
like "$(last_out)" '"collector":"site01","segments":[0-9]+,"min_seq":1,"max_seq":[0-9]+,"first_snapshot":"2026-11-29T00:00:00Z","last_snapshot":"2026-11-30T23:00:00Z"' \
	"per collector, in JSON"
run_fails 64 "--verify-only reads no database" verify --from "$ARCH" --db "host=/nonexistent"

# a bucket (s3rver) too
if s3srv_available && s3srv_start arch; then
	CONF=$TEST_TMP/pga.conf
	ship_conf "$CONF" "$SP" "spool-retain = 7d" "[dest:s3]" "url = s3://arch/p" "endpoint = $S3_URL" \
		"path-style = on" "access-key-id = S3RVER" "secret-access-key = S3RVER"
	pga -c "$CONF" ship >/dev/null 2>&1
	run_ok "a good bucket passes" pga -c "$CONF" restore --verify-only --from dest:s3
	like "$(last_out)" "the source is whole" "whole"
	awss3 s3 rm "s3://arch/p/$(nth "$ARCH" 3)" >/dev/null
	run_fails 1 "a bucket missing a middle segment fails" pga -c "$CONF" restore --verify-only --from dest:s3
	like "$(last_out)" "GAP +collector 'site01': no verified segment for seq 3\\.\\.3" "the gap is named"
fi

# --- a deleted middle segment: a gap ---
D=$(copy del)
rm "$D/$(nth "$D" 5)"
run_fails 1 "a deleted middle segment fails the drill" verify --from "$D"
like "$(last_out)" "GAP +collector 'site01': no verified segment for seq 5\\.\\.5" "the gap is named"
like "$(last_out)" "collector 'site01': .*; 1 gaps \\(1 segments missing\\), 0 refused" "and counted on its collector"
like "$(last_out)" "the source is NOT whole" "the verdict"

# --- a foreign segment renamed into the archive ---
D=$(copy foreign)
victim=$(nth "$D" 4)
cp "$OTHER/$(cd "$OTHER" && find . -name '*.pga.zst' | sort | sed -n '2p')" "$D/$victim"
run_fails 1 "a foreign segment under a name of the archive fails" verify --from "$D"
like "$(last_out)" "REFUSED +.*$victim.*(name|collector).*\\[corrupt\\]" "it is refused by name"
like "$(last_out)" "GAP +collector 'site01': no verified segment for seq 4\\.\\.4" "and leaves a gap"
# the same segment of this archive renamed to another seq
D=$(copy renamed)
a=$(nth "$D" 6) b=$(nth "$D" 7)
rm "$D/$b" && mv "$D/$a" "$D/$b"
run_fails 1 "a segment renamed to its neighbour's seq fails" verify --from "$D"
like "$(last_out)" "REFUSED +.*$b" "the renamed one is refused"

# --- a flipped byte ---
D=$(copy flip)
victim=$(nth "$D" 3)
size=$(stat -c %s "$D/$victim")
printf '\x55' | dd of="$D/$victim" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
run_fails 1 "a flipped byte fails" verify --from "$D"
like "$(last_out)" "REFUSED +.*$victim.*\\[(checksum|corrupt|format)\\]" "the segment is named"
like "$(last_out)" "collector 'site01': .* 1 refused" "counted on its collector"

# --- a missing manifest entry: an unpacked archive, and a tar ---
D=$TEST_TMP/unpacked
mkdir -p "$D" && tar -xf "$TEST_TMP/good.tar" -C "$D"
run_ok "an unpacked archive with its manifest passes" verify --from "$D"
victim=$(nth "$D" 2)
grep -v "$victim" "$D/MANIFEST.sha256" >"$TEST_TMP/m" && cp "$TEST_TMP/m" "$D/MANIFEST.sha256"
run_fails 1 "a segment its manifest does not list fails" verify --from "$D"
like "$(last_out)" "MANIFEST +'$victim' is not in MANIFEST.sha256" "named"
tar --format=pax -cf "$TEST_TMP/nolist.tar" -C "$D" MANIFEST.sha256 site00 site01
run_fails 1 "a tar whose manifest misses an entry fails" verify --from "$TEST_TMP/nolist.tar"
like "$(last_out)" "REFUSED +archive '[^']*nolist.tar': '$victim' is not in MANIFEST.sha256" "named"
# and an entry whose segment is missing
tar -xf "$TEST_TMP/good.tar" -C "$D" MANIFEST.sha256
rm "$D/$(nth "$D" 3)"
run_fails 1 "a manifest entry without its segment fails" verify --from "$D"
like "$(last_out)" "MANIFEST +'$(nth "$ARCH" 3)' is in MANIFEST.sha256 but not in the source" "named"

done_testing
