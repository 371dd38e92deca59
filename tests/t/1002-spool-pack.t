#!/usr/bin/env bash
# pga spool pack: a pax tar that tar, sha256sum and pga itself accept.
. "$(dirname "$0")/../lib/tap.sh"

SP=$TEST_TMP/spool
for day in 01 02 03 04; do
	seq 1 500 | sed "s/\$/,day$day/" | pga spool put --spool "$SP" --metric m \
		--columns id,v --time "2026-03-${day}T12:00:00Z" 2>/dev/null || ok 1 "put $day"
done
run_ok "pack everything" pga spool pack --spool "$SP" -o "$TEST_TMP/all.tar"
like "$(last_out)" "packed 4 segments" "four segments packed"
ok $([ ! -e "$TEST_TMP/all.tar.part" ]; echo $?) "no .part left behind"
run_ok "tar lists it" tar tf "$TEST_TMP/all.tar"
is "$(grep -c '\.pga\.zst$' "$OUT")" 4 "four segments under their names"
is "$(head -n 1 "$OUT")" "MANIFEST.sha256" "the manifest comes first: a reader knows what to expect"
run_ok "pax format" bash -c "tar --list --verbose --file '$TEST_TMP/all.tar' >/dev/null && \
	head -c 1024 '$TEST_TMP/all.tar' | grep -aq 'ustar'"
mkdir "$TEST_TMP/x"
run_ok "tar extracts it" tar -C "$TEST_TMP/x" -xf "$TEST_TMP/all.tar"
run_ok "sha256sum -c accepts the manifest" bash -c "cd '$TEST_TMP/x' && sha256sum -c MANIFEST.sha256"
is "$(cd "$TEST_TMP/x" && find . -name '*.pga.zst' | sort | sed 's|^\./||')" \
	"$(cd "$SP/ready" && find . -name '*.pga.zst' | sort | sed 's|^\./||')" "same names as in the spool"
run_ok "pga verifies the tar" pga spool verify "$TEST_TMP/all.tar"
like "$(last_out)" "4 segments verified, 0 failed" "all four, with their chain"
run_ok "pga verifies the extracted tree" pga spool verify "$TEST_TMP/x"

run_ok "pack a time window" pga spool pack --spool "$SP" -o "$TEST_TMP/mid.tar" \
	--since 2026-03-02T00:00:00Z --until 2026-03-03T23:59:59Z
like "$(last_out)" "packed 2 segments" "only the segments inside the window"
run_ok "the window's tar verifies" pga spool verify "$TEST_TMP/mid.tar"

cp "$TEST_TMP/all.tar" "$TEST_TMP/cut.tar"
truncate -s 6000 "$TEST_TMP/cut.tar"
run_fails 1 "a truncated tar is refused" pga spool verify "$TEST_TMP/cut.tar"
like "$(last_out)" "FAILED" "and says so"

# a tampered segment inside the tar: manifest and segment checks catch it
mkdir "$TEST_TMP/y" && tar -C "$TEST_TMP/y" -xf "$TEST_TMP/all.tar"
victim=$(cd "$TEST_TMP/y" && find . -name '*.pga.zst' | sort | head -1)
helper seg-corrupt flip-data "$TEST_TMP/y/$victim"
(cd "$TEST_TMP/y" && tar --format=pax -cf "$TEST_TMP/bad.tar" $(find . -name '*.pga.zst' | sort) MANIFEST.sha256)
run_fails 1 "a damaged segment in a tar is found" pga spool verify "$TEST_TMP/bad.tar"
like "$(last_out)" "FAILED +archive '[^']+bad.tar': '[^']+0001-[^']+' does not match MANIFEST.sha256" \
	"the manifest gate refuses the archive, naming the segment"
is "$(grep -c '^ok' "$OUT")" 0 "and nothing of it is taken before the whole archive is checked"
run_fails 1 "the damaged segment itself fails once unpacked" pga spool verify "$TEST_TMP/y"
like "$(last_out)" "FAILED +'[^']+0001-[^']+': block 0: data frame is corrupt" "the failure names the segment and the block"

run_fails 1 "pack into a missing directory fails" pga spool pack --spool "$SP" -o /nonexistent/dir/x.tar
like "$(last_err)" "could not create '/nonexistent/dir/x.tar.part'" "one line naming the file"
run_fails 64 "pack without -o is a usage error" pga spool pack --spool "$SP"
done_testing
