#!/usr/bin/env bash
# A restore's day transaction does not hold the ledger lock while it loads
# (issue 15, measure it): the lock every loader shares (the ledger's hash
# chain, load/SCHEMA.md) is taken in the commit's round trip only, so day
# transactions of other days, and any `pga load`, go on beside one that is
# still loading.  Held at its first segment, it serialised a restore's
# --jobs and stalled the central loaders until the whole day committed.
#
# The day transaction is stopped where it waits for another loader: at
# its commit, for the chain edge after its last segment, which this test
# holds.  A `pga load` of another collector must then complete; the
# restore finishes once the edge is free, with the rows of a direct load,
# and the ledger's hash chain verifies.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central "" "wal_level = minimal" "max_wal_senders = 0"
mkdb() { pg_psql central postgres -c "CREATE DATABASE $1"; pg_conninfo central "$1"; }
q() { pg_psql central "$1" -At -c "$2"; }
# ld_lock_key(): FNV-1a 64 of "schema/collector<what>/seq", as a signed bigint
fnv() { local s=$1 h=-3750763034362895579 i c; for ((i = 0; i < ${#s}; i++)); do
	printf -v c %d "'${s:i:1}"; h=$(((h ^ c) * 1099511628211)); done; echo "$h"; }
A=$TEST_TMP/arch
O=$TEST_TMP/other
B=$TEST_TMP/blocks
mkdir -p "$A" "$O" "$B"
seg() { helper seg-build "$1" "$2" "$3" "$4" "$5" "$6" "${@:7}" || { echo "Bail out! seg-build"; exit 1; }; }
blk() { printf '%d,d%d,%d\n%d,e%d,%d\n' "$1" "$1" "$1" "$(($1 + 1))" "$1" "$1" >"$B/b$1"
	echo "pg_stat_database:datid,datname,numbackends:$B/b$1"; }

# collector c: three segments on each of two days (day transactions)
prev=0
for s in 1 2 3 4 5 6; do
	day=$((s <= 3 ? 19 : 20))
	read -r _ prev < <(seg "$A" c db1 "$s" "$prev" "2026-11-${day}T0$s:00:00Z" "$(blk $((s * 10)))")
done
read -r _ _ < <(seg "$O" o db9 1 0 "2026-11-18T01:00:00Z" "$(blk 900)")
# the key was computed as the loader does
is "$(fnv "pga//ledger/0")" "-4255633484439281537" "the lock key is the loader's (FNV-1a of its name)"

REF=$(mkdb ref)
pga load --init --db "$REF" >/dev/null 2>&1
run_ok "the reference: pga load of the archive" pga load --db "$REF" --from "$A"

DB=$(mkdb r)
EDGE=$(fnv "pga/c/edge/6")
# the edge after the newest day's last segment, held by this test
pg_psql central r -c "SET application_name = 'holder'; SELECT pg_advisory_lock($EDGE); SELECT pg_sleep(120)" \
	>/dev/null 2>&1 &
HOLDER=$!
at_exit "kill $HOLDER 2>/dev/null"
for _ in $(seq 100); do
	[ "$(q r "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'holder' AND query LIKE '%pg_sleep%'")" = 1 ] && break
	sleep 0.1
done
pga restore --db "$DB" --from "$A" --jobs 1 >"$TEST_TMP/restore.out" 2>"$TEST_TMP/restore.err" &
RESTORE=$!
waiting=0
for _ in $(seq 200); do
	waiting=$(q r "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
	[ "$waiting" -ge 1 ] && break
	sleep 0.1
done
is "$waiting" 1 "the newest day's transaction waits at its commit for the held chain edge"
is "$(q r "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND
	((classid::bigint << 32) | objid::bigint) = $(fnv "pga//ledger/0")")" \
	0 "it does not hold the ledger lock while it waits"
run_ok "a pga load of another collector meanwhile completes (not held off by the day)" \
	timeout 20 "$PGA_BIN" load --db "$DB" --from "$O"
q r "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'holder'" >/dev/null
wait "$RESTORE"
is "$?" 0 "the restore then completes"
sum() { q "$1" "SELECT count(*), sum(numbackends) FROM pga.pg_stat_database WHERE collector_id = (SELECT collector_id FROM pga.collectors WHERE collector = 'c')"; }
is "$(sum r)" "12|420" "the collector's rows, each once"
is "$(sum r)" "$(sum ref)" "  as a direct load has them"
is "$(q r "SELECT count(*) FROM pga.segments")" 7 "the ledger has the six segments and the other collector's one"
mkdir -p "$TEST_TMP/spool/ready"
V() { pga status --spool "$TEST_TMP/spool" --central --db "$DB" --verify; }
# 1: the warning that the archive's collectors are days behind; findings would be 2
run_fails 1 "the ledger's hash chain verifies (status warns only of the old snapshots)" V
like "$(last_out)" "verify: 0 findings" "  no finding"
done_testing
