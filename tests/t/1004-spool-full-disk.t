#!/usr/bin/env bash
# The disk fills in the middle of a write: the spool stays consistent, the
# command fails with a clear message, nothing already sealed is lost.
. "$(dirname "$0")/../lib/tap.sh"

SHIM=$(failwrite_preload)
SP=$TEST_TMP/spool
gen() { awk -v n="$1" 'BEGIN { srand(7); for (i = 0; i < n; i++) printf "%d,%x%x\n", i, rand()*1e9, rand()*1e9 }'; }

for i in 1 2 3; do gen 2000 | pga spool put --spool "$SP" --metric kept --columns a,b 2>/dev/null; done
snap() { (cd "$SP/ready" && find . -name '*.pga.zst' -exec sha256sum {} + | sort); }
before=$(snap)

# ENOSPC from write(2) after 200 kB of a large block
gen 400000 >"$TEST_TMP/big.csv"
FAILWRITE_MATCH="$SP/" FAILWRITE_AFTER=200000 LD_PRELOAD=$SHIM \
	"$PGA_BIN" spool put --spool "$SP" --metric big --columns a,b <"$TEST_TMP/big.csv" 2>"$ERR"
is $? 1 "put fails with exit 1 when the disk fills"
like "$(cat "$ERR")" "error: could not write '[^']*': No space left on device" "one line naming the file and the cause"
is "$(snap)" "$before" "sealed segments are untouched"
is "$(ls "$SP/tmp" | grep -c part)" 0 "the aborted block left no part file"
run_ok "the spool verifies" pga spool verify --spool "$SP"

# EIO from fsync when sealing: the part must be salvaged by the next writer
gen 1000 | FAILWRITE_MATCH="$SP/tmp" FAILWRITE_FSYNC=always FAILWRITE_ERRNO=EIO LD_PRELOAD=$SHIM \
	"$PGA_BIN" spool put --spool "$SP" --metric sealfail --columns a,b 2>"$ERR"
is $? 1 "a failing fsync at seal time is an error"
like "$(cat "$ERR")" "could not fsync '[^']*\.part': Input/output error" "EIO is reported with the file"
is "$(ls "$SP/tmp" | grep -c part)" 1 "the unsealed part file is kept for salvage"
run_ok "the spool verifies after the failed seal" pga spool verify --spool "$SP"
echo 1,x | pga spool put --spool "$SP" --metric after --columns a,b 2>"$ERR"
ok $? "the next writer works"
like "$(cat "$ERR")" "recovered segment '[^']*' after a crash: 1 blocks kept" "and salvages the block whose seal failed"
is "$(ls "$SP/tmp" | grep -c part)" 0 "no part file is left"
ok "$(snap | grep -c . | awk -v n="$(echo "$before" | grep -c .)" '{print !($1 > n)}')" "later segments were added"
run_ok "counters still read" pga spool ls --spool "$SP"

# a real full file system: a 1 MiB tmpfs (needs root)
if [ "$(id -u)" -eq 0 ] && mkdir "$TEST_TMP/tmpfs" && mount -t tmpfs -o size=1m tmpfs "$TEST_TMP/tmpfs" 2>/dev/null; then
	at_exit "umount '$TEST_TMP/tmpfs'"
	TS=$TEST_TMP/tmpfs/spool
	gen 3000 | pga spool put --spool "$TS" --metric small --columns a,b 2>/dev/null
	ok $? "a small block fits"
	tb=$(cd "$TS/ready" && find . -name '*.pga.zst' -exec sha256sum {} +)
	rc=0
	for i in $(seq 1 40); do
		gen 20000 | "$PGA_BIN" spool put --spool "$TS" --metric fill$i --columns a,b 2>"$ERR" || { rc=$?; break; }
	done
	is $rc 1 "the tmpfs fills up and put fails"
	like "$(cat "$ERR")" "No space left on device" "with ENOSPC named"
	run_ok "the full spool verifies" pga spool verify --spool "$TS"
	ok "$(cd "$TS/ready" && find . -name '*.pga.zst' -exec sha256sum {} + | grep -cF "$tb" | awk '{print !($1==1)}')" \
		"the first segment is intact"
	is "$(ls "$TS/tmp" | grep -c part)" 0 "no half-written part is left"
else
	ok 0 "# SKIP tmpfs needs root"
fi
done_testing
