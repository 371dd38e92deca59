#!/usr/bin/env bash
# Bad input anywhere: one line naming the thing at fault, the right exit
# status, and nothing already in the spool lost.
. "$(dirname "$0")/../lib/tap.sh"

SP=$TEST_TMP/spool
seq 1 3000 | awk '{ printf "%d,%x\n", $1, $1 * 2654435761 % 4294967296 }' |
	pga spool put --spool "$SP" --metric good --columns id,v 2>/dev/null
before=$(cd "$SP/ready" && find . -type f -exec sha256sum {} + | sort)
one_line() { is "$(grep -c . "$ERR")" 1 "$1: the error is one line"; }

printf '1,"never closed\n2,x\n' | pga spool put --spool "$SP" --metric m --columns id,v 2>"$ERR"
is $? 1 "unterminated quote: exit 1"
like "$(cat "$ERR")" "error: standard input ends inside a quoted CSV field: block not written" "says what is wrong"
one_line "unterminated quote"

run_fails 1 "bad metric name" pga spool put --spool "$SP" --metric 'Bad;Name' --columns a </dev/null
like "$(last_err)" "invalid metric name 'Bad;Name'" "names the metric"
run_fails 1 "bad column name" pga spool put --spool "$SP" --metric m --columns 'a,b c' </dev/null
like "$(last_err)" "invalid column name 'b c'" "names the column"
run_fails 1 "bad time" pga spool put --spool "$SP" --metric m --columns a --time yesterday </dev/null
like "$(last_err)" "invalid time 'yesterday'" "names the time"
run_fails 64 "put without --metric is a usage error" pga spool put --spool "$SP" --columns a
run_fails 64 "unknown spool subcommand" pga spool frobnicate
like "$(last_err)" "unknown spool subcommand 'frobnicate'" "names it"
run_fails 64 "unknown command" pga frobnicate
run_fails 64 "unknown option" pga spool ls --frob
run_fails 1 "ls of a directory that is not a spool" pga spool ls --spool "$TEST_TMP"
like "$(last_err)" "'$TEST_TMP' is not a pga spool" "names the directory"

echo "hello" >"$TEST_TMP/notaseg.pga.zst"
run_fails 1 "verify a text file" pga spool verify "$TEST_TMP/notaseg.pga.zst"
like "$(last_out)" "not a pga segment \(foreign magic" "foreign magic named"
run_fails 1 "cat a missing file" pga spool cat "$TEST_TMP/missing.pga.zst"
like "$(last_err)" "could not open '[^']*missing.pga.zst'" "names the file"

cat >"$TEST_TMP/bad.conf" <<CONF
[global]
spool-path = $SP

spool-max = big
CONF
run_fails 1 "bad config value" pga -c "$TEST_TMP/bad.conf" spool ls
like "$(last_err)" "bad.conf:4: key 'spool-max': invalid size 'big'" "names file, line and key"
one_line "bad config"
printf '[global]\ncolector = x\n' >"$TEST_TMP/bad2.conf"
run_fails 1 "unknown config key" pga -c "$TEST_TMP/bad2.conf" spool ls
like "$(last_err)" "bad2.conf:2: unknown key 'colector' in \[global\]" "names file, line and key"
run_fails 1 "missing config file" pga -c "$TEST_TMP/none.conf" spool ls
like "$(last_err)" "could not open config file '[^']*none.conf'" "names the file"

# a quarantined segment: damaged in the spool, verify moves it aside with a reason
seg=$(find "$SP/ready" -name '*.pga.zst' | head -1)
cp "$seg" "$TEST_TMP/orig"
helper seg-corrupt flip-data "$seg"
run_fails 1 "verify finds the damaged segment" pga spool verify --spool "$SP"
name=${seg#"$SP"/ready/}
ok $([ -f "$SP/quarantine/$name" ] && [ ! -e "$seg" ]; echo $?) "it was moved to quarantine/"
like "$(cat "$SP/quarantine/$name.why")" "block 0: data frame is corrupt" "with the reason beside it"
run_ok "ls lists it as quarantined" pga spool ls --spool "$SP"
like "$(last_out)" "quarantined +$name" "by name"
like "$(last_out)" "segments_quarantined +1" "and counts it"
run_ok "the rest verifies" pga spool verify --spool "$SP"
done_testing
