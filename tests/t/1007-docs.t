#!/usr/bin/env bash
# Documentation comes from the option table (common/options.h), and nothing
# may disagree with it: each command's usage, its synopsis and options in
# the man page, the parser, `pga help config`, `pga help environment`,
# pga.conf.example (committed, so compared) and the man page's keys and
# variables.  The table itself is read through `pga-test-helper opt-table`.
. "$(dirname "$0")/../lib/tap.sh"

T=$TEST_TMP
helper opt-table >"$T/table"
ok $? "the option table"
# field N (1-based) of the table, for rows where field F matches REGEX
col() { awk -F'\t' -v f="$1" -v re="$2" -v n="$3" '$f ~ re { print $n }' "$T/table"; }
# the table's rows for command C (its name among the command names of field 7)
rows_of() { awk -F'\t' -v c="$1" '{ n = split($7, w, " "); s = " " $7 " ";
	if (index(s, " " c " ")) print }' "$T/table"; }
# the options of a synopsis, sorted: "--loop --spool -j"
synopsis_flags() { tr -d '[]*\\_' | grep -oE -- '(^| )--?[a-zA-Z][-a-zA-Z]*' | tr -d ' ' | sort -u | xargs; }

# ---- generated files are what the table says ----
pga help config --example >"$T/example"
if cmp -s "$T/example" "$REPO_DIR/pga.conf.example"; then ok 0 "pga.conf.example is up to date"
else ok 1 "pga.conf.example is up to date (run: pga help config --example > pga.conf.example)"
	diag "$(diff "$REPO_DIR/pga.conf.example" "$T/example" | head -20)"; fi
run_ok "the example parses as a configuration" helper config-get "$REPO_DIR/pga.conf.example"
keys=$(col 2 '^(global|target|dest|metric)$' 1 | sort -u | xargs)
is "$(grep -o '^#[a-z-]* =' "$REPO_DIR/pga.conf.example" | tr -d '#= ' | sort -u | xargs)" "$keys" \
	"the example has every key of the table, and no other"
pga help config >"$T/config"
is "$(awk '/^  [a-z]/ { print $1 }' "$T/config" | sort -u | xargs)" "$keys" \
	"pga help config lists every key of the table, and no other"

run_ok "the man page is assembled" "$REPO_DIR/scripts/man.sh" "$PGA_BIN" "$REPO_DIR/doc/pga.1.scd"
cp "$OUT" "$T/pga.scd"
is "$(grep -c '^@.*@$' "$T/pga.scd")" 0 "no marker is left in it"
if command -v scdoc >/dev/null; then
	scdoc <"$T/pga.scd" >"$T/pga.1" 2>"$ERR"
	ok $? "the man page builds with scdoc" || diag "$(cat "$ERR")"
else
	ok 0 "# SKIP scdoc not installed"
fi
is "$(sed -n '/^## \[/,/^# ENVIRONMENT/p' "$T/pga.scd" | grep -o '^\*[a-z-]*\*' | tr -d '*' |
	sort -u | xargs)" "$keys" "the man page documents every key of the table, and no other"
envs=$(col 6 '^PGA_' 6 | sort -u | xargs)
is "$(sed -n '/^# ENVIRONMENT/,/^# FILES/p' "$T/pga.scd" | grep -o '^\*PGA[^*]*\*' |
	tr -d '*\\' | grep -vx 'PGA_NO_HW_CRC' | sort -u | xargs)" "$envs" \
	"the man page's ENVIRONMENT lists every variable"
# and every other variable the code reads (getenv, or a section's fallback)
bad=0 n=0
for v in $(cd "$REPO_DIR" && grep -rhoE 'getenv\("[A-Z_]+"\)|env_or\([^,]*, "[A-Z_]+"\)' \
	main.c common spool collect ship load cmd report restore 2>/dev/null |
	grep -oE '"[A-Z_]+"' | tr -d '"' | sort -u); do
	n=$((n + 1))
	sed -n '/^# ENVIRONMENT/,/^# FILES/p' "$T/pga.scd" | tr -d '\\' | grep -q "\*[^ ]*$v" ||
		{ bad=1; diag "the man page's ENVIRONMENT does not name $v, which the code reads"; }
done
[ "$n" -ge 8 ]; ok $? "the code reads $n other variables"
is "$bad" 0 "  the man page's ENVIRONMENT names each"
pga help environment >"$T/env"
is "$(grep -o '^  PGA_[A-Z_]*' "$T/env" | xargs -n1 | sort -u | xargs)" "$envs" \
	"pga help environment lists every variable"
is "$(col 6 '^PGA_' 6 | sort | uniq -d)" "" "no two options share a variable"

# ---- every command: usage, man page and parser agree with the table ----
pga help >"$T/help"
cmds=$(sed -n '/^commands:/,$p' "$T/help" | tail -n +2 | awk '{ if ($1 == "spool" || $1 == "collectors") print $1 " " $2;
	else print $1 }')
[ "$(wc -l <<<"$cmds")" -ge 13 ]; ok $? "pga help lists the commands ($(xargs <<<"$cmds"))"
# a value each option takes, by type (field 3) and name
value_for() {
	case $1 in config) echo "$T/none.conf" ;; central) echo "host=x" ;; log-level) echo debug ;; order) echo oldest-first ;;
	*) case $2 in bool) ;; int) echo 2 ;; duration) echo 5s ;; size) echo 1M ;;
		enum|string|list) echo x ;; esac ;; esac
}
while read -r c; do
	[ "$c" = version ] && { run_ok "pga help version" pga help version; continue; }
	run_ok "pga help $c" pga help $c
	cp "$OUT" "$T/usage"
	[ "$c" = help ] ||
		like "$(tr '\n' ' ' <"$T/usage" | tr -s ' ')" "Exit status[^:]*: 0 .*[,;] 64 usage\." \
			"  its usage states its exit status, 64 included"
	usage=$(sed -n '/^usage:/,/^$/p' "$T/usage" | synopsis_flags)
	man=$(grep "^\*pga $c\*" "$T/pga.scd")
	[ -n "$man" ]; ok $? "  the man page has a synopsis of pga $c"
	is "$(synopsis_flags <<<"${man#\*pga $c\*}")" "$usage" "  its options are the usage's"
	want=$(rows_of "$c" | awk -F'\t' '{ print ($5 != "-" ? "-" $5 : $4) }' | sort -u | xargs)
	is "$usage" "$want" "  the usage's synopsis has the table's options"
	block=$(sed -n "/^\\*pga $c\\*/,/^\\(\\*pga \\|Times\\)/p" "$T/pga.scd" | sed 1d)
	bad=0
	while IFS=$'\t' read -r name _ type flag short _ _ _ _ _; do
		grep -qE -- "^  (-$short, )?$flag( |$)" "$T/usage" || { bad=1; diag "usage lacks $flag"; }
		grep -qF -- "$flag*" <<<"$block" || { bad=1; diag "man page lacks $flag for $c"; }
		val=$(value_for "$name" "$type")
		helper config-get - $c $flag ${val:+"$val"} -- "$name" >"$T/got" 2>"$ERR" ||
			{ bad=1; diag "$c $flag ${val:-}: $(cat "$ERR")"; }
		grep -q "^$name=" "$T/got" || { bad=1; diag "$c $flag not parsed"; }
	done < <(rows_of "$c")
	is "$bad" 0 "  every option is in the usage and the man page, and parses"
done <<<"$cmds"
# a flag of another command is refused, by the parser and by pga
run_fails 64 "a flag of another command is a usage error" pga collect --dry-run
like "$(last_err)" "unknown option '--dry-run'" "  says which"
run_fails 64 "the parser says so too" helper config-get - collect --dry-run --

for t in config environment metrics; do run_ok "pga help $t" pga help $t; done
setup=$(sed -n '/^On a fresh Debian 12 machine/,/^Both work/p' "$REPO_DIR/README" | grep -c '^    make ')
is "$setup" 2 "README gives exactly two set-up commands"
done_testing
