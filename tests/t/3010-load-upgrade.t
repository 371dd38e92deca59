#!/usr/bin/env bash
# pga load --init upgrades a central database that an older pga filled
# (schema migration 1, exactly as released) to migration 2 without losing
# anything: ledger, quarantine records and rows stay, the new columns get
# their defaults, a later segment chains to the old ledger, the old
# quarantine records take part in the new ones, and what cannot be done
# exactly for old rows (unloading a segment loaded without block records)
# is refused, not guessed.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
SP=$TEST_TMP/spool
helper load-spool "$SP" up 3 1 4 2026-11-20T00:00:00Z 60 || { echo "Bail out! load-spool"; exit 1; }
mapfile -t S < <(cd "$SP/ready" && find . -name '*.pga.zst' | sed 's|^\./||' | sort)
field() { helper seg-info "$SP/ready/$1" | sed -n "s/^$2=//p"; }

# ---- the database as migration 1 and an older loader left it ----
helper schema-sql 1 | pg_psql central c1 >/dev/null || { echo "Bail out! migration 1"; exit 1; }
q "INSERT INTO pga.collectors (collector_id, collector, hostname, writer, last_seq)
     VALUES (1, 'up', 'old-host', 'pga 0.0.9', 2);
   INSERT INTO pga.servers (server_id, system_identifier, host, port) VALUES (1, 7000000000000000001, 'db.example', 5432);
   INSERT INTO pga.metrics VALUES ('load_test', 'custom');
   CREATE TABLE pga.load_test (collector_id integer NOT NULL, server_id integer NOT NULL,
     snapshot_time timestamptz NOT NULL, dbname text, id text, val text, note text) PARTITION BY RANGE (snapshot_time);
   CREATE TABLE pga.load_test_p20261120 (LIKE pga.load_test);
   ALTER TABLE pga.load_test ATTACH PARTITION pga.load_test_p20261120
     FOR VALUES FROM ('2026-11-20 00:00:00+00') TO ('2026-11-21 00:00:00+00');
   INSERT INTO pga.load_test SELECT 1, 1, '2026-11-20 00:00:00+00'::timestamptz + (i / 5) * interval '1 minute', 'app', i, 'v' || i, 'old'
     FROM generate_series(1, 8) i;" >/dev/null
for i in 0 1; do
	q "INSERT INTO pga.segments (collector_id, seq, sha256, body_sha256, prev_sha256, name, size, created,
	     min_snapshot, max_snapshot, blocks, total_rows, rows, recovered, complete)
	   VALUES (1, $((i + 1)), '\\x$(field "${S[$i]}" sha256)', '\\x00', '\\x$(field "${S[$i]}" prev)', '${S[$i]}',
	     1000, now(), now(), now(), 1, 4, 4, false, true)" >/dev/null
done
q "INSERT INTO pga.quarantine (name, kind, collector, seq, error) VALUES
     ('up/old/corrupt.pga.zst', 'corrupt', 'up', 9, 'data frame crc32c mismatch'),
     ('${S[0]}', 'conflict', 'up', 1, 'already loaded with another sha256')" >/dev/null
run_fails 1 "a loader refuses the old schema" pga load --db "$DB" --from "$SP"
like "$(last_err)" "is at version 1, this pga needs 3: run 'pga load --init'" "and says what to do"

run_ok "--init upgrades it" pga load --init --db "$DB"
like "$(last_err)" "applied migration 2" "applies migration 2"
is "$(q "SELECT string_agg(version::text, ',' ORDER BY version) FROM pga.schema_version")" "1,2,3" "all recorded"
is "$(q "SELECT string_agg(seq || ':' || rows || ':' || blocks_refused || ':' || (loaded_blocks IS NOT NULL), ' ' ORDER BY seq) FROM pga.segments")" \
	"1:4:0:false 2:4:0:false" "old ledger rows kept; new columns at their defaults"
is "$(q "SELECT count(*) FROM pga.load_test")" 8 "old rows kept"
is "$(q "SELECT string_agg(kind || ':' || coalesce(block::text, '-'), ' ' ORDER BY kind) FROM pga.quarantine")" \
	"conflict:- corrupt:-" "old quarantine records kept, as whole-segment records"
run_ok "--init again is a no-op" pga load --init --db "$DB"

# ---- loading on top of it ----
run_ok "the spool loads: 1 and 2 are known, 3 chains to the old ledger" pga load --db "$DB" --from "$SP"
like "$(last_out)" "loaded 1 of 3 segments \(2 already loaded" "only seq 3 is new"
is "$(q "SELECT count(*) FROM pga.load_test")" 12 "its rows join the old ones"
is "$(q "SELECT cardinality(loaded_blocks) FROM pga.segments WHERE seq = 3")" 1 "a new segment gets block records"
is "$(q "SELECT string_agg(seq || ':' || (row_hash IS NOT NULL), ' ' ORDER BY seq) FROM pga.segments")" \
	"1:false 2:false 3:true" "rows from before migration 3 stay outside the ledger chain, new ones join it"
run_fails 1 "status --central --verify (exit 1: the old quarantine records need attention)" \
	pga status --spool "$SP" --central --db "$DB" --verify
like "$(last_out)" "verify: 0 findings" "  rows loaded before the chain existed are no finding"
helper load-spool "$TEST_TMP/other" up 1 1 4 2026-11-22T00:00:00Z 60 || { echo "Bail out! load-spool"; exit 1; }
run_fails 2 "another seq 1: held, its old conflict record counted again" pga load --db "$DB" --from "$TEST_TMP/other"
is "$(q "SELECT count(*) FROM pga.held_segments WHERE seq = 1 AND reason = 'conflict'")" 1 "held"
is "$(q "SELECT count(*) FROM pga.quarantine WHERE kind = 'conflict'")" 2 "a record per file name"
h=$(sha256sum "$TEST_TMP/other/ready/"*/*/*/*/*.pga.zst | cut -c1-12)
run_fails 1 "an old segment cannot be unloaded exactly: refused" \
	pga load --db "$DB" --resolve-fork "up:1" --keep "$h"
like "$(last_err)" "seq 1 was loaded before pga recorded blocks \(schema version 1\): it cannot be unloaded exactly, nothing changed" \
	"says why"
is "$(q "SELECT count(*) FROM pga.load_test")" 12 "nothing changed"
is "$(q "SELECT count(*) FROM pga.held_segments WHERE resolved_at IS NULL")" 1 "still held"

done_testing
