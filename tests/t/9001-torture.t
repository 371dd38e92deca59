#!/usr/bin/env bash
# The torture: collect --loop against a real PostgreSQL with pgbench traffic,
# ship --loop to a directory and to S3 (s3rver), and loads from both into a
# central PostgreSQL, all running together and killed -9 at random, again
# and again, with hostile input mixed in: non-UTF-8 bytes from a SQL_ASCII
# database and from csvlog, a forged same-id segment, a cloned collector,
# tampered archives, a full spool (both spool-full policies, a full tmpfs as
# root).  Afterwards the oracle (tests/lib/torture_oracle.py) holds what
# happened against a witness copy of every sealed segment: 0 lost, 0
# duplicated, 0 silent refusals, every counter exact.
#
# A smoke of 30 kills runs in make check; PGA_TORTURE=1 (make torture)
# runs 1000; PGA_TORTURE_KILLS=N any other count.  See tests/lib/torture.sh.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/shiptest.sh"
. "$(dirname "$0")/../lib/torture.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
KILLS=30
[ "${PGA_TORTURE:-0}" = 1 ] && KILLS=1000
KILLS=${PGA_TORTURE_KILLS:-$KILLS}
T0=$(date +%s)

tt_setup
tt_run "$KILLS"
diag "kill -9: $(for r in "${!TT_KILLS[@]}"; do printf '%s %s, ' "$r" "${TT_KILLS[$r]}"; done)in ${TT_RUN_SECONDS}s"
diag "events: $TT_FORGES forged, $TT_CLONES clones, $TT_ARCHIVES archives, $TT_HUPS phase changes (SIGHUP or restart), $TT_RESOLVES fork resolutions, $TT_BAD_LOGINS bad logins"
is "$TT_LANDED" "$KILLS" "$KILLS kill -9 landed on collect, ship and load"
tt_drain
tt_judge

passed=$((TAP_N - TAP_FAILED))
diag "torture: $passed passed, $TAP_FAILED failed; $KILLS rounds in $(($(date +%s) - T0)) s"
echo "# $passed passed, $TAP_FAILED failed"
done_testing
