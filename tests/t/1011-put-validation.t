#!/usr/bin/env bash
# pga spool put refuses, with one line and exit 1, whatever the loader could
# never load: wrong field counts, bytes that are not UTF-8, carriage returns
# outside quotes, empty, duplicate, system and pga-reserved column names,
# reserved metric names, a catalog metric with other columns, control
# characters in names.  Nothing of a refused block reaches the spool; what
# put accepts loads whole.  The loader applies the same column rule
# (seg_column_valid) to segments older writers made.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

SP=$TEST_TMP/spool
counter() { sed -n "s/^$1 //p" "$SP/counters"; }
nseg() { find "$SP/ready" -name '*.pga.zst' | wc -l; }
printf '1,a\n2,b\n' | pga spool put --spool "$SP" --metric custom --columns id,v 2>/dev/null
before="$(nseg) $(counter blocks_written)"
is "$before" "1 1" "one good block to start with"

# refused DESC REGEX INPUT PUT-ARGS...: exit 1, one line, nothing written
refused() {
	local desc=$1 re=$2 input=$3; shift 3
	printf '%b' "$input" >"$TEST_TMP/in"
	run_fails 1 "$desc: refused" pga spool put --spool "$SP" "$@" <"$TEST_TMP/in"
	like "$(last_err)" "error: (standard input: )?$re" "$desc: says why"
	is "$(grep -c . "$ERR")" 1 "$desc: in one line"
	is "$(nseg) $(counter blocks_written)" "$before" "$desc: nothing written"
}
C=(--metric custom --columns id,v)
# the rows
refused "a row with a field too many" "row 2 has 3 fields, not 2" '1,a\n2,b,c\n3,d\n' "${C[@]}"
refused "a row with a field too few" "row 3 has 1 field, not 2" '1,a\n2,b\n3\n' "${C[@]}"
refused "an empty line" "row 2 has 1 field, not 2" '1,a\n\n3,c\n' "${C[@]}"
refused "a short last row without newline" "row 2 has 1 field, not 2" '1,a\n2' "${C[@]}"
refused "a comma inside quotes does not count, one outside does" "row 1 has 3 fields" '1,"a,b",c\n' "${C[@]}"
refused "0xff" "row 2 is not valid UTF-8 \(a bad sequence at byte 8\)" '1,a\n2,b\xffc\n' "${C[@]}"
refused "an overlong sequence" "row 1 is not valid UTF-8" '1,\xc0\xaf\n' "${C[@]}"
refused "a UTF-16 surrogate" "row 1 is not valid UTF-8" '1,\xed\xa0\x80\n' "${C[@]}"
refused "a code point past U+10FFFF" "row 1 is not valid UTF-8" '1,\xf4\x90\x80\x80\n' "${C[@]}"
refused "a sequence cut at the end" "row 1 is not valid UTF-8 \(cut short\)" '1,\xe2\x82' "${C[@]}"
refused "a lone continuation byte" "row 1 is not valid UTF-8" '1,\x80\n' "${C[@]}"
refused "a NUL byte" "row 1 is not valid UTF-8 \(a NUL byte" '1,a\x00b\n' "${C[@]}"
refused "a NUL byte inside quotes" "row 1 is not valid UTF-8 \(a NUL byte" '1,"a\x00b"\n' "${C[@]}"
refused "CR LF row ends" "row 1 has a carriage return outside quotes" '1,a\r\n2,b\r\n' "${C[@]}"
refused "an unterminated quote" "standard input ends inside a quoted CSV field" '1,"a\n2,b\n' "${C[@]}"
# the columns
refused "an empty column name (a,,b)" "empty column name \(column 2 of 'a,,b'\)" '1,2,3\n' --metric custom --columns a,,b
refused "a leading comma" "empty column name \(column 1" '1,2\n' --metric custom --columns ,a
refused "a trailing comma" "empty column name \(column 2" '1\n' --metric custom --columns a,
refused "a column twice" "column 'a' is named twice" '1,2\n' --metric custom --columns a,a
for col in ctid xmin xmax cmin cmax tableoid collector_id server_id snapshot_time dbname; do
	refused "column $col" "invalid column name '$col'" '1,2\n' --metric custom --columns "v,$col"
done
refused "a column with an escape" "invalid column name 'a\\\\x1b\[1m'" '1\n' --metric custom --columns $'a\e[1m'
# the metric
refused "a catalog metric with other columns" "metric 'pg_stat_database' is pga's own: --columns must be its" \
	'1,2\n' --metric pg_stat_database --columns a,b
refused "a catalog metric with some of its columns" "metric 'pg_database' is pga's own" \
	'1,x\n' --metric pg_database --columns datid,datname
for m in segments collectors gaps quarantine custom_delta custom_series custom_p20260101; do
	refused "metric $m" "metric name '$m' is reserved" '1,2\n' --metric "$m" --columns a,b
done
refused "a target with an escape" "invalid target name 'a\\\\x1b\]0;x\\\\x07'" '1,2\n' "${C[@]}" --target $'a\e]0;x\a'
refused "a database name not UTF-8" "invalid database name 'd\\\\xffb'" '1,2\n' "${C[@]}" --database $'d\xffb'
# column descriptors (FORMAT.md): a type of the closed list, a known role
refused "SQL in a type" "column 'a': unknown type 'bigint; DROP TABLE x'" '1,2\n' \
	--metric custom --columns 'a:bigint; DROP TABLE x,b'
refused "a type with parameters" "column 'b': unknown type 'numeric\(10'" '1,2\n' \
	--metric custom --columns 'a:bigint,b:numeric(10,2)'
refused "a type spelled otherwise" "column 'a': unknown type 'BIGINT'" '1\n' --metric custom --columns a:BIGINT
refused "an unknown role" "column 'a': unknown role 'sum' \(key, counter" '1\n' --metric custom --columns a:bigint:sum
refused "a role with a trailing part" "column 'a': unknown role 'key:x'" '1\n' --metric custom --columns a:bigint:key:x
refused "an empty name before a type" "empty column name" '1\n' --metric custom --columns :bigint
is "$(find "$SP/tmp" -name '*.part' | wc -l)" 0 "no part file left by any refusal"

# what put accepts
printf '1,"a, b"\n2,"multi\nline ""quoted"""\n3,\n4,"€ ü 漢字 🐘"\n' >"$TEST_TMP/ok.csv"
run_ok "quotes, commas, newlines in quotes, NULL, UTF-8" pga spool put --spool "$SP" "${C[@]}" <"$TEST_TMP/ok.csv"
# a 3-byte UTF-8 sequence across put's 128 KiB read boundary
{ printf '1,'; head -c 131068 /dev/zero | tr '\0' x; printf '€\n2,y\n'; } >"$TEST_TMP/big.csv"
run_ok "UTF-8 split across reads" pga spool put --spool "$SP" "${C[@]}" <"$TEST_TMP/big.csv"
run_ok "the catalog metric with its own columns" bash -c "
	cols=\$('$HELPER_BIN' catalog-cols | awk '\$1 == \"pg_database\" { print \$4 }')
	printf '1,postgres,7000000,100,5,-1,t,f\n' | '$PGA_BIN' spool put --spool '$SP' --metric pg_database --columns \"\$cols\""
run_ok "and in another order" bash -c "
	cols=\$('$HELPER_BIN' catalog-cols | awk '\$1 == \"pg_database\" { print \$4 }' | tr , '\n' | tac | paste -sd,)
	printf 'f,t,-1,5,100,7000000,postgres,1\n' | '$PGA_BIN' spool put --spool '$SP' --metric pg_database --columns \"\$cols\""
run_ok "a custom metric with a target and a database" pga spool put --spool "$SP" "${C[@]}" \
	--target 'site één' --database 'db-ü' <"$TEST_TMP/ok.csv"
is "$(nseg)" 6 "five more segments"
run_ok "they verify" pga spool verify --spool "$SP"

# ---- the loader: everything put accepts loads whole ----
pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
run_ok "init" pga load --init --db "$DB"
run_ok "load what put wrote" pga load --db "$DB" --from "$SP"
like "$(last_out)" "loaded 6 of 6 segments .*0 refused\): 14 rows" "every segment, every row"
if [[ $(last_out) == *"columns dropped"* ]]; then ok 1 "no column dropped"; else ok 0 "no column dropped"; fi
is "$(q "SELECT count(*) FROM pga.custom WHERE v = 'multi
line \"quoted\"'")" 2 "a value with a newline and quotes, intact"
is "$(q "SELECT length(v) FROM pga.custom WHERE id = '1' AND length(v) > 1000")" 131069 "the long UTF-8 value, intact"
is "$(q "SELECT count(*) FROM pga.pg_database WHERE datname = 'postgres'")" 2 "the catalog rows"
# a segment an older put wrote, with a system column name: the loader drops the column, not the segment
mkdir -p "$TEST_TMP/old"
printf '[global]\nspool-path = %s\ncollector = old-site\n' "$TEST_TMP/sp-old" >"$TEST_TMP/old.conf"
printf '7,seven\n' | pga -c "$TEST_TMP/old.conf" spool put --metric custom2 --columns id,v 2>/dev/null
o=$(find "$TEST_TMP/sp-old/ready" -name '*.pga.zst')
helper seg-forge "$o" "$TEST_TMP/old/ctid.pga.zst" block.col0=ctid
run_fails 2 "load a segment with a ctid column: the column is dropped and recorded (exit 2)" pga load --db "$DB" --from "$TEST_TMP/old/ctid.pga.zst"
like "$(last_out)" "loaded 1 of 1 segments .*1 rows.*1 unknown columns dropped" "the column is dropped, the row loads"
is "$(q "SELECT v FROM pga.custom2")" "seven" "with its other column"
done_testing
