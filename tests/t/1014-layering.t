#!/usr/bin/env bash
# The parts never include one another sideways: every `#include "..."` of
# the tree is checked against the table below.  The spool knows no producer
# or consumer; collect/ nothing of ship/, load/ or restore/; ship/ nothing of
# collect/ or load/ (one exception, stated); load/ nothing of collect/
# (segments describe their columns: FORMAT.md); report/ reads the central tables through SQL
# alone; common/ nothing of ours.  Only the command layer
# (cmd/) and main.c may include every part, and nothing else includes cmd/.
# PGA_SRC_DIR checks another tree (e.g. an old commit's) instead of this one.
. "$(dirname "$0")/../lib/tap.sh"

SRC=${PGA_SRC_DIR:-$REPO_DIR}

# What each directory may include, besides itself.
declare -A may=(
	[common]=""
	[spool]="common"
	[collect]="common spool"
	[ship]="common spool"
	[load]="common spool"
	[restore]="common spool load"
	[report]="common"
	[cmd]="common spool collect ship load restore report"
	[main.c]="common spool collect ship load restore report cmd"
)

# Single includes allowed across that line, each with why: FILE HEADER.
exceptions=(
	# A postgres:// destination is the loader: shipping there is loading,
	# exactly once, in the loader's transaction.  A registration hook (as
	# spool/source.h has for bucket URLs) would only move this driver into
	# load/ or cmd/, reversing or hiding the same dependency; load/ includes
	# nothing of ship/, so there is no cycle.
	"ship/dest_pg.c load/load.h"
)

allowed() {	# FILE HEADER
	local file=$1 inc=$2 part dir e
	part=${file%%/*}
	dir=${inc%%/*}
	[ "$file" = main.c ] && part=main.c
	[ "$dir" = "$part" ] && return 0
	for d in ${may[$part]}; do [ "$dir" = "$d" ] && return 0; done
	for e in "${exceptions[@]}"; do [ "$e" = "$file $inc" ] && return 0; done
	return 1
}

[ -d "$SRC/common" ] || { ok 1 "no source tree at '$SRC'"; done_testing; exit; }
files=$(cd "$SRC" && { ls main.c; find common spool collect ship load restore report cmd \
	-name '*.[ch]' 2>/dev/null; } | sort)
n=0 bad=0
while read -r file; do
	part=${file%%/*}
	[ "$file" = main.c ] && part=main.c
	if [ -z "${may[$part]+set}" ]; then
		ok 1 "'$file' is in a directory the table does not know"; bad=$((bad + 1))
		continue
	fi
	while read -r inc; do
		[ -n "$inc" ] || continue
		n=$((n + 1))
		dir=${inc%%/*}
		if [ "$dir" = "$inc" ] || [ -z "${may[$dir]+set}" ] || [ "$dir" = main.c ]; then
			ok 1 "$file includes \"$inc\": not a header of a known part"; bad=$((bad + 1))
		elif ! allowed "$file" "$inc"; then
			ok 1 "$file includes \"$inc\": $part/ must not include $dir/"; bad=$((bad + 1))
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$SRC/$file")
done <<<"$files"
[ "$n" -gt 100 ]; ok $? "read $n includes in $(wc -l <<<"$files") files"
is "$bad" 0 "no part includes another sideways"

# Every exception is still needed: one that is not has done its job.
for e in "${exceptions[@]}"; do
	grep -q "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"${e#* }\"" "$SRC/${e% *}" 2>/dev/null
	ok $? "exception still in use: ${e% *} includes ${e#* }"
done

# The check itself: a sideways include in a scratch tree fails.
[ -n "${PGA_SRC_DIR:-}" ] && { done_testing; exit; }
mkdir -p "$TEST_TMP/tree/spool" "$TEST_TMP/tree/common"
printf '#include "ship/ship.h"\n' >"$TEST_TMP/tree/spool/x.c"
printf '#include "spool/spool.h"\n' >"$TEST_TMP/tree/common/y.c"
: >"$TEST_TMP/tree/main.c"
PGA_SRC_DIR=$TEST_TMP/tree bash "$0" >"$OUT" 2>&1
[ $? -ne 0 ] && grep -q 'spool/x.c includes "ship/ship.h": spool/ must not include ship/' "$OUT" &&
	grep -q 'common/y.c includes "spool/spool.h": common/ must not include spool/' "$OUT"
ok $? "a tree where spool/ includes ship/ and common/ includes spool/ fails" ||
	diag "$(cat "$OUT")"
done_testing
