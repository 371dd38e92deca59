#!/usr/bin/env bash
# scripts/mutants.sh [tests/mutants/NAME.patch...]  (make torture-mutants)
#
# Shows that the torture can fail: each patch in tests/mutants/ removes one
# safeguard (its first lines say which, and which check should catch it).
# Each is applied to a scratch copy of the tree as it is in the worktree,
# built, and the torture's smoke (tests/t/9001-torture.t, MUTANT_KILLS
# kills, default 30) run against that build.  A mutant is caught when the
# torture fails; the checks that failed are listed.  Exit 0 only when every
# mutant was caught and every one built.  MUTANTS_DIR keeps the copies
# (default: a temporary directory, removed unless MUTANTS_KEEP=1).
set -u
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
scratch=${MUTANTS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/pga-mutants.XXXXXX")}
patches=("$@")
[ $# -gt 0 ] || patches=(tests/mutants/*.patch)
caught=0 survived=0 broken=0
for p in "${patches[@]}"; do
	name=$(basename "$p" .patch)
	dir=$scratch/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	git ls-files -z | xargs -0 cp --parents -t "$dir"
	ln -s "$(readlink -f .deps)" "$dir/.deps"
	if ! patch -s -p1 -d "$dir" <"$p" >"$dir/patch.log" 2>&1; then
		echo "mutant $name: BROKEN (the patch does not apply: $(head -1 "$dir/patch.log"))"
		broken=$((broken + 1))
		continue
	fi
	start=$(date +%s)
	if ! nice make -C "$dir" -j2 all >"$dir/build.log" 2>&1; then
		echo "mutant $name: BROKEN (it does not build, see $dir/build.log)"
		broken=$((broken + 1))
		continue
	fi
	(cd "$dir" && PGA_BUILD=$dir/build PGA_TORTURE_KILLS=${MUTANT_KILLS:-30} \
		prove -v tests/t/9001-torture.t >"$dir/torture.log" 2>&1)
	rc=$?
	secs=$(($(date +%s) - start))
	if [ $rc -ne 0 ]; then
		caught=$((caught + 1))
		echo "mutant $name: caught in ${secs}s by:"
		grep '^not ok' "$dir/torture.log" | sed 's/^not ok [0-9]* - /    /' | head -8
	else
		survived=$((survived + 1))
		echo "mutant $name: SURVIVED (${secs}s): the torture did not notice, see $dir/torture.log"
	fi
done
echo "mutants: $caught caught, $survived survived, $broken broken"
[ "${MUTANTS_KEEP:-0}" = 1 ] || [ -n "${MUTANTS_DIR:-}" ] || rm -rf "$scratch"
[ $survived -eq 0 ] && [ $broken -eq 0 ]
