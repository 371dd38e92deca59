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
like "$(last_err)" "is at version 1, this pga needs 4: run 'pga load --init'" "and says what to do"

run_ok "--init upgrades it" pga load --init --db "$DB"
like "$(last_err)" "applied migration 2" "applies migration 2"
is "$(q "SELECT string_agg(version::text, ',' ORDER BY version) FROM pga.schema_version")" "1,2,3,4" "all recorded"
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

# ---- migration 4: the series indexes in their new order ----
# On the central server (PostgreSQL 15) and on 12 and 18 when installed:
# the migration rewrites each custom delta view's window from the text
# pg_get_viewdef() gives, which differs between versions.
m4() {
M4=$1
diag "migration 4 on PostgreSQL $(pg_psql "$M4" postgres -At -c "SHOW server_version")"
# A version-3 database with rows: history of built-in metrics (cluster-wide
# and per database, with resets) and custom ones with delta views, its
# series indexes and views put back in version 3's order, (collector_id,
# server_id, dbname, keys..., snapshot_time).
pg_psql "$M4" postgres -c "CREATE DATABASE c2" >/dev/null
DB2=$(pg_conninfo "$M4" c2)
q2() { pg_psql "$M4" c2 -At -c "$1"; }
run_ok "a database for migration 4" pga load --init --db "$DB2"
run_ok "a day of history in it" helper report-history "$DB2" 1 3 1800 2 10
S2=$TEST_TMP/spool2
printf '[global]\ncollector = up4\nspool-path = %s\n' "$S2" >"$TEST_TMP/s2.conf"
put() {	# METRIC TIME [DATABASE] < CSV
	pga -c "$TEST_TMP/s2.conf" spool put --metric "$1" --columns id:integer:key,n:bigint:counter \
		--time "$2" --target main ${3:+--database "$3"} 2>/dev/null
}
[ -d "$S2" ] || for t in 10:00 10:05 10:10; do
	printf '1,%s\n2,%s\n' "${t#*:}" "$((${t#*:} % 10))" | put app_cw "2026-11-20T${t}:00Z"
	for d in a b; do printf '1,%s\n' "${#d}${t#*:}" | put app_db "2026-11-20T${t}:00Z" "$d"; done
done
run_ok "custom metrics, cluster-wide and per database" pga load --db "$DB2" --from "$S2"
q2 "DO \$\$ DECLARE r record; k text; v regclass; d text; BEGIN
	FOR r IN SELECT metric FROM pga.metrics LOOP
		SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY o) INTO k FROM pg_index i
		  CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY x(n, o)
		  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.n
		  WHERE i.indexrelid = ('pga.' || quote_ident(r.metric || '_series'))::regclass
		  AND a.attname NOT IN ('collector_id', 'server_id', 'dbname', 'snapshot_time');
		EXECUTE format('DROP INDEX pga.%I; CREATE INDEX %I ON pga.%I (collector_id, server_id,'
		  ' dbname%s, snapshot_time)', r.metric || '_series', r.metric || '_series', r.metric,
		  coalesce(', ' || k, ''));
		v := to_regclass('pga.' || quote_ident(r.metric || '_delta'));
		CONTINUE WHEN v IS NULL;
		d := replace(pg_get_viewdef(v), ', t.dbname ORDER BY t.snapshot_time)', ' ORDER BY t.snapshot_time)');
		d := replace(d, 'PARTITION BY t.collector_id, t.server_id', 'PARTITION BY t.collector_id, t.server_id, t.dbname');
		EXECUTE format('CREATE OR REPLACE VIEW %s AS %s', v, d);
	END LOOP;
	DELETE FROM pga.schema_version WHERE version = 4;
	DELETE FROM pga.catalog_applied; END \$\$" >/dev/null
old_order() {
	q2 "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	    JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = i.indrelid
	    AND a.attnum = i.indkey[2] WHERE n.nspname = 'pga' AND c.relname LIKE '%series%' AND a.attname = 'dbname'"
}
nidx=$(q2 "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pga' AND c.relname LIKE '%series%'")
ok $([ "$(old_order)" = "$nidx" ] && [ "$nidx" -gt 40 ]; echo $?) \
	"every series index ($nidx, partitions' included) in version 3's order"
views="pg_stat_statements_delta pg_stat_database_delta pg_stat_user_tables_delta app_cw_delta app_db_delta"
rows() { for v in $views; do q2 "SELECT '$v', count(*), md5(string_agg(x::text, '|' ORDER BY x::text)) FROM pga.$v x"; done; }
before=$(rows)
like "$before" "pg_stat_statements_delta\|[1-9][0-9]+\|" "the old views give rows"
like "$(q2 "SELECT pg_get_viewdef('pga.app_cw_delta'::regclass)")" \
	"PARTITION BY t.collector_id, t.server_id, t.dbname, t.id ORDER BY" "and are version 3's"
run_fails 1 "a loader refuses version 3" pga load --db "$DB2" --from "$S2"
like "$(last_err)" "is at version 3, this pga needs 4" "and says so"
run_ok "--init migrates it" pga load --init --db "$DB2"
like "$(last_err)" "applied migration 4 \(series indexes" "applies migration 4"
is "$(old_order)" 0 "no series index has dbname after the server any more"
is "$(q2 "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pga' AND c.relname LIKE '%series%'")" \
	"$nidx" "every partition has its index again"
is "$(q2 "SELECT string_agg(regexp_replace(pg_get_indexdef(('pga.' || t || '_series')::regclass), '.* USING ', ''), ' ' ORDER BY t)
	FROM unnest('{app_cw,app_db,pg_stat_statements,pg_stat_user_tables}'::text[]) t")" \
	"btree (collector_id, server_id, id, snapshot_time) btree (collector_id, server_id, id, dbname, snapshot_time) btree (collector_id, server_id, userid, dbid, toplevel, queryid, snapshot_time) btree (collector_id, server_id, relid, dbname, snapshot_time)" \
	"cluster-wide: no dbname; per database (built-in by the catalog, custom by its rows): after the keys"
is "$(rows)" "$before" "every delta view gives the same rows as before"
# every view's window is partitioned in its index's order (the custom ones
# rewritten by the migration, the built-in ones made again by the catalog)
is "$(q2 "SELECT string_agg(m.metric, ' ') FROM pga.metrics m, LATERAL (SELECT string_agg('t.' || quote_ident(a.attname), ', ' ORDER BY o) AS p
	FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY x(n, o)
	JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.n
	WHERE i.indexrelid = ('pga.' || quote_ident(m.metric || '_series'))::regclass AND a.attname <> 'snapshot_time') s
	WHERE to_regclass('pga.' || quote_ident(m.metric || '_delta')) IS NOT NULL
	AND strpos(pg_get_viewdef(('pga.' || quote_ident(m.metric || '_delta'))::regclass), 'PARTITION BY ' || s.p || ' ORDER BY') = 0")" \
	"" "every delta view partitions its window in its index's order"
for v in app_cw_delta app_db_delta; do
	p=$(q2 "SET enable_seqscan = off; SET enable_sort = off; EXPLAIN SELECT * FROM pga.$v")
	ok $(echo "$p" | grep -q Sort; [ $? = 1 ]; echo $?) "$v: its window reads the index in order, no sort"
	echo "$p" | grep -q "Index Scan using" || diag "$p"
done
run_ok "--init again is a no-op" pga load --init --db "$DB2"
is "$(q2 "SELECT max(version) FROM pga.schema_version")" 4 "at version 4"

}
m4 central
for v in 12 18; do
	if pg_have_version "$v"; then
		pg_start "c$v" "$v"
		m4 "c$v"
	else
		diag "PostgreSQL $v not installed: migration 4 not tried on it (scripts/deps.sh)"
	fi
done

done_testing
