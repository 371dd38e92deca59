#!/usr/bin/env bash
# 1000 segments, 1 % of them with one bad block (issue 9, "must show"):
# every good block loads, every bad one is recorded and named by
# status --central, the exit code says partial, and re-running loads
# nothing twice.  PGA_LOAD_MANY=N changes the number of segments.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

N=${PGA_LOAD_MANY:-1000}
BLOCKS=3
ROWS=4
pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
SP=$TEST_TMP/spool
helper load-spool "$SP" many "$N" $BLOCKS $ROWS 2026-11-20T00:00:00Z 10 load_test 100 >"$TEST_TMP/bad" ||
	{ echo "Bail out! load-spool"; exit 1; }
NBAD=$(grep -c . "$TEST_TMP/bad")
is "$NBAD" $((N / 100)) "1 % of the segments carry a bad block"
run_ok "init" pga load --init --db "$DB"

start=$(date +%s)
run_fails 2 "load: exit 2, partial" pga load --db "$DB" --from "$SP" --jobs 2
diag "$N segments loaded in $(($(date +%s) - start)) s"
TOTAL=$((N * BLOCKS * ROWS))
GOOD=$((TOTAL - NBAD * ROWS))
like "$(last_out)" "^loaded $N of $N segments \(0 already loaded, 0 filtered, 0 refused\): $GOOD rows.*, $NBAD blocks refused \($((NBAD * ROWS)) rows\)" \
	"the summary: every segment, the rows committed, the blocks refused"
is "$(q "SELECT count(*) FROM pga.load_test")" "$GOOD" "every row of every good block"
is "$(q "SELECT count(DISTINCT id) FROM pga.load_test")" "$GOOD" "each once"
missing=$(while read -r seq block first; do
	q "SELECT count(*) FROM pga.load_test WHERE id::bigint BETWEEN $first AND $((first + ROWS - 1))"
done <"$TEST_TMP/bad" | grep -vc '^0$')
is "$missing" 0 "no row of a bad block"
want=$(awk '{ print $1 " " $2 }' "$TEST_TMP/bad" | sort)
got=$(q "SELECT seq || ' ' || block FROM pga.quarantine WHERE kind = 'block' AND sqlstate = '22021'
	  AND resolved_at IS NULL" | sort)
is "$got" "$want" "every bad block recorded, by segment and block"
is "$(grep -c "block [0-9]* (metric 'load_test'): row [0-9]*: COPY: invalid byte sequence" "$ERR")" "$NBAD" \
	"and logged, once each"

# how many of the bad blocks the last output names, each with its segment
named() {
	local seq block first name n=0
	while read -r seq block first; do
		name=$(q "SELECT name FROM pga.segments WHERE seq = $seq")
		grep -q "refused (block): '$name' block $block metric 'load_test' SQLSTATE 22021, rows $ROWS: " \
			"$OUT" && n=$((n + 1))
	done <"$TEST_TMP/bad"
	echo "$n"
}
run_fails 2 "status --central" helper central-status "$DB"
is "$(named)" "$NBAD" "status --central names every bad block"
# the command itself, as an operator runs it: refused blocks are a WARNING
# (exit 1, pga status's Nagios verdict; data still flows)
run_fails 1 "pga status --central: exit 1 (warning)" pga status --central --spool "$SP" --db "$DB"
like "$(last_out)" "status: WARNING" "  says WARNING"
is "$(named)" "$NBAD" "pga status --central names every bad block"
run_fails 2 "status --central --json" helper central-status --json "$DB"
like "$(last_out)" "\"segments\":$N,\"partial\":0,\"rows\":$GOOD,.*\"quarantined\":$NBAD,\"held\":0,\"blocks_refused\":$NBAD" \
	"JSON: per collector"

run_ok "a second load" pga load --db "$DB" --from "$SP" --jobs 2
like "$(last_out)" "^loaded 0 of $N segments \($N already loaded" "loads nothing"
is "$(q "SELECT count(*) FROM pga.load_test")" "$GOOD" "nothing twice"
is "$(q "SELECT sum(times) FROM pga.quarantine")" "$NBAD" "the bad blocks were not tried again"

done_testing
