#!/usr/bin/env bash
# Segments describe their columns (format minor 1, spool/FORMAT.md "Column
# descriptors"), and the loader builds typed tables and delta views from
# them alone (load/ includes nothing of collect/: tests/t/1014):
#   - a format 1.0 segment written by an older pga (tests/fixtures) and new
#     ones of the same collector load side by side into one database, into
#     the same tables, row by row, with delta views across both;
#   - a metric this loader has never heard of, with a column of every role,
#     lands in a typed table with a working delta view (two snapshots and a
#     reset); a column a newer collector added is added; a type conflict
#     refuses that block only, recorded;
#   - hostile descriptors (SQL in a type, overlong, unknown role, a count
#     that is not the column count) refuse the segment with one line naming
#     segment and block; nothing is executed; a newer minor's extra fields
#     are skipped.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

FIX=$REPO_DIR/tests/fixtures/segment-1.0
pg_start central
pg_psql central postgres -c "CREATE DATABASE c1" >/dev/null
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
minor() { od -An -tu2 -j14 -N2 "$1" | tr -d ' '; }	# the header's minor (FORMAT.md)
SP=$TEST_TMP/spool
printf '[global]\ncollector = fixture10\nspool-path = %s\ncentral = %s\n' "$SP" "$DB" \
	>"$TEST_TMP/pga.conf"
export PGA_CONFIG=$TEST_TMP/pga.conf
run_ok "--init" pga load --init

# ---- a 1.0 segment and a 1.1 one, side by side ----
old1=$(find "$FIX" -name '0000000000000001-*.pga.zst')
old2=$(find "$FIX" -name '0000000000000002-*.pga.zst')
is "$(minor "$old1") $(minor "$old2")" "0 0" "the fixtures are format 1.0 (minor 0)"
run_ok "the 1.0 segments load" pga load --from "$FIX"
# the same collector goes on writing with this pga: its spool continues the chain
mkdir -p "$SP/ready" "$SP/chain"
cp -r "$FIX/fixture10" "$SP/ready/"
echo "2 $(sha256sum "$old2" | cut -c1-64)" >"$SP/chain/fixture10"
SLRU=name:text:key,blks_zeroed:bigint:counter,blks_hit:bigint:counter,blks_read:bigint:counter
SLRU=$SLRU,blks_written:bigint:counter,blks_exists:bigint:counter,flushes:bigint:counter
SLRU=$SLRU,truncates:bigint:counter,stats_reset:timestamptz:reset
printf 'CommitTs,1,150,12,9,0,5,1,2026-11-30 00:00:00+00\nSubtrans,2,260,20,6,0,4,2,2026-11-30 00:00:00+00\n' |
	pga spool put --metric pg_stat_slru --columns "$SLRU" --time 2026-12-01T10:05:00Z \
	--target main 2>/dev/null
printf '1,ready,10,2026-12-01 10:05:00+00\n3,new,1,2026-12-01 10:05:00+00\n' |
	pga spool put --metric app_queue --time 2026-12-01T10:05:00Z --target main \
	--columns queue_id:integer:key,state,jobs_done:bigint:counter,seen_at:timestamptz 2>/dev/null
new3=$(find "$SP/ready" -name '0000000000000003-*.pga.zst')
[ "$(minor "$new3")" -ge 1 ]
ok $? "this pga writes minor 1 or later (column descriptors)"
run_ok "the chain of old and new verifies" pga spool verify
run_ok "the new segments load beside the old" pga load --from "$SP"
like "$(last_out)" "^loaded 2 of 4 segments \(2 already loaded" "the old two once, the new two"
is "$(q "SELECT string_agg(concat_ws(',', to_char(snapshot_time AT TIME ZONE 'UTC', 'HH24:MI'),
	name, blks_zeroed, blks_hit, blks_read, blks_written, blks_exists, flushes, truncates,
	stats_reset AT TIME ZONE 'UTC'), ' ' ORDER BY snapshot_time, name) FROM pga.pg_stat_slru")" \
	"10:00,CommitTs,1,100,10,5,0,3,1,2026-11-30 00:00:00 10:00,Subtrans,2,200,20,6,0,4,2,2026-11-30 00:00:00 10:05,CommitTs,1,150,12,9,0,5,1,2026-11-30 00:00:00 10:05,Subtrans,2,260,20,6,0,4,2,2026-11-30 00:00:00" \
	"pg_stat_slru: every row of both, in one typed table"
is "$(q "SELECT string_agg(concat_ws(',', name, blks_hit, blks_read, blks_written, reset), ' '
	ORDER BY name) FROM pga.pg_stat_slru_delta")" "CommitTs,50,2,4,f Subtrans,60,0,0,f" \
	"the delta view spans the 1.0 and the 1.1 snapshot"
is "$(q "SELECT count(DISTINCT collector_id) || ' ' || count(DISTINCT server_id) FROM pga.pg_stat_slru")" \
	"1 1" "one collector, one series: the shapes agree"
is "$(q "SELECT string_agg(concat_ws(',', to_char(snapshot_time AT TIME ZONE 'UTC', 'HH24:MI'),
	queue_id, state, jobs_done, seen_at), ' ' ORDER BY snapshot_time, queue_id) FROM pga.app_queue")" \
	"10:00,1,ready,7,2026-12-01 10:00:00+00 10:00,2,busy,9,2026-12-01 10:00:00+00 10:05,1,ready,10,2026-12-01 10:05:00+00 10:05,3,new,1,2026-12-01 10:05:00+00" \
	"app_queue: a 1.0 custom metric (text) and its typed successor, every row"
is "$(q "SELECT string_agg(data_type, ',' ORDER BY ordinal_position) FROM information_schema.columns
	WHERE table_schema = 'pga' AND table_name = 'app_queue'")" \
	"integer,integer,timestamp with time zone,text,text,text,text,text" \
	"a text column an older loader made takes the typed values"
is "$(q "SELECT to_regclass('pga.app_queue_delta') IS NULL")" t \
	"no delta view over counters kept as text"

# ---- a metric this loader never heard of, every role ----
grep -rq app_cache "$REPO_DIR/load" "$REPO_DIR/collect"
ok $((1 - $?)) "the loader's source knows nothing of the metric"
CACHE=cache:text:key,shard:integer:key,hits:bigint:counter,wal:pg_lsn:counter
CACHE=$CACHE,used:bigint:gauge,since:timestamptz:reset,note:text:info,ratio:double\ precision
put_cache() {	# TIME CSV [COLUMNS]
	printf '%b' "$2" | pga spool put --metric app_cache --time "$1" --columns "${3:-$CACHE}" 2>/dev/null
}
put_cache 2026-12-02T10:00:00Z 'a,1,100,0/1000,5,2026-12-01 00:00:00+00,x,0.5\nb,1,7,0/0,1,2026-12-01 00:00:00+00,y,\n'
put_cache 2026-12-02T10:01:00Z 'a,1,130,0/1800,6,2026-12-01 00:00:00+00,x,0.6\nb,1,9,0/0,2,2026-12-01 00:00:00+00,y,\n'
# a reset: the reset column changed, though a's counter did not go backwards
put_cache 2026-12-02T10:02:00Z 'a,1,140,0/2000,4,2026-12-02 10:01:30+00,x,\nb,1,12,0/10,2,2026-12-01 00:00:00+00,y,\n'
run_ok "a metric the loader never heard of loads" pga load --from "$SP"
is "$(q "SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY ordinal_position)
	FROM information_schema.columns WHERE table_schema = 'pga' AND table_name = 'app_cache'")" \
	"collector_id integer,server_id integer,snapshot_time timestamp with time zone,dbname text,cache text,shard integer,hits bigint,wal pg_lsn,used bigint,since timestamp with time zone,note text,ratio double precision" \
	"a typed table, from the segment's descriptors"
is "$(q "SELECT kind FROM pga.metrics WHERE metric = 'app_cache'")" custom "registered as custom"
is "$(q "SELECT string_agg(concat_ws(',', to_char(snapshot_time AT TIME ZONE 'UTC', 'HH24:MI'), cache,
	shard, hits, wal, used, reset, note), ' ' ORDER BY snapshot_time, cache) FROM pga.app_cache_delta")" \
	"10:01,a,1,30,2048,6,f,x 10:01,b,1,2,0,2,f,y 10:02,a,1,140,8192,4,t,x 10:02,b,1,3,16,2,f,y" \
	"delta view: counters differenced (pg_lsn in bytes), gauges as they are, the reset column's change a reset"
is "$(q "SELECT string_agg(elapsed::text, ',' ORDER BY snapshot_time) FROM pga.app_cache_delta WHERE cache = 'a'")" \
	"00:01:00,00:01:00" "elapsed per interval"
# b's counter went backwards without a reset column change: that is a reset too
put_cache 2026-12-02T10:03:00Z 'b,1,1,0/10,2,2026-12-01 00:00:00+00,y,\n'
# a newer collector adds a column: the table grows, the view follows
put_cache 2026-12-02T10:04:00Z 'b,1,5,0/20,2,2026-12-01 00:00:00+00,y,,3\n' "$CACHE,evicted:bigint:counter"
put_cache 2026-12-02T10:05:00Z 'b,1,6,0/20,2,2026-12-01 00:00:00+00,y,,8\n' "$CACHE,evicted:bigint:counter"
run_ok "a column added by a newer collector" pga load --from "$SP"
is "$(q "SELECT data_type FROM information_schema.columns WHERE table_schema = 'pga'
	AND table_name = 'app_cache' AND column_name = 'evicted'")" bigint "ALTER TABLE ADD COLUMN, typed"
is "$(q "SELECT string_agg(concat_ws(',', to_char(snapshot_time AT TIME ZONE 'UTC', 'HH24:MI'),
	hits, reset, coalesce(evicted::text, '-')), ' ' ORDER BY snapshot_time) FROM pga.app_cache_delta
	WHERE cache = 'b' AND snapshot_time > '2026-12-02 10:02:00+00'")" \
	"10:03,1,t,- 10:04,4,f,- 10:05,1,f,5" \
	"the view: a counter going backwards is a reset; the new counter differenced"
# a block that says another type than the central table has: that block only
put_cache 2026-12-02T10:06:00Z 'c,1,2026-12-01 00:00:00+00,0/0,1,2026-12-01 00:00:00+00,z,\n' \
	"cache:text:key,shard:integer:key,hits:timestamptz:counter,wal:pg_lsn:counter,used:bigint:gauge,since:timestamptz:reset,note,ratio:double precision"
put_cache 2026-12-02T10:07:00Z 'c,1,1,0/0,1,2026-12-01 00:00:00+00,z,\n'
run_fails 2 "a type conflict refuses its block, not the load" pga load --from "$SP"
like "$(last_err)" "000000000000000b-[0-9T]*Z.pga.zst': block 0 \(metric 'app_cache'\): column 'hits' is bigint in the central table, the block says timestamptz: block not loaded" \
	"one line naming segment, block, column and both types"
is "$(q "SELECT concat_ws(',', kind, block, metric, sqlstate, rows) FROM pga.quarantine WHERE seq = 11")" \
	"block,0,app_cache,42804,1" "recorded as a block refusal"
is "$(q "SELECT count(*) FROM pga.app_cache WHERE cache = 'c'")" 1 "the next segment loaded"
is "$(q "SELECT data_type FROM information_schema.columns WHERE table_schema = 'pga'
	AND table_name = 'app_cache' AND column_name = 'hits'")" bigint "the table is unchanged"

# ---- hostile descriptors ----
SH=$TEST_TMP/hostile
mkdir -p "$SH"
printf '[global]\ncollector = evil\nspool-path = %s\ncentral = %s\n' "$SH/sp" "$DB" >"$SH/pga.conf"
printf '1,2\n' | pga -c "$SH/pga.conf" spool put --metric app_evil --columns id:bigint:key,n:bigint:counter \
	--time 2026-12-03T10:00:00Z 2>/dev/null
GOOD=$(find "$SH/sp/ready" -name '*.pga.zst')
q "CREATE TABLE public.x (i int)" >/dev/null
hostile() {	# DESC EXPECTED-REGEX KEY=VALUE...
	local desc=$1 re=$2 dir=$SH/$3; shift 3
	mkdir -p "$(dirname "$dir/$(helper seg-name "$GOOD")")"
	helper seg-forge "$GOOD" "$dir/$(helper seg-name "$GOOD")" "$@" || ok 1 "forge $*"
	run_fails 2 "$desc: the segment is refused" pga -c "$SH/pga.conf" load --from "$dir"
	like "$(last_err)" "'[^']*0000000000000001-[0-9T]*Z.pga.zst': block 0: $re" "$desc: says why, naming segment and block"
	is "$(grep -c . "$ERR")" 1 "$desc: in one line"
	run_fails 1 "$desc: spool verify refuses it too" pga spool verify "$dir"
}
hostile "SQL in a type" "column 'n': type 'bigint; DROP TABLE x' is not one pga loads" h1 \
	"block.type1=bigint; DROP TABLE x"
hostile "a quote in a type" "column 'id': type 'bigint\"\\); DROP TABLE x; --' is not one" h2 \
	'block.type0=bigint"); DROP TABLE x; --'
hostile "an overlong type" "column 'n': type of 40 bytes \(at most 31" h3 \
	"block.type1=bigintbigintbigintbigintbigintbigintbigi"
hostile "an unknown role" "column 'n': unknown role 9" h4 block.role1=9
hostile "more descriptors than columns" "3 column descriptors for 2 columns" h5 block.ndesc=3
hostile "fewer descriptors than columns" "1 column descriptors for 2 columns" h6 block.ndesc=1
hostile "bytes after the descriptors in a known minor" "malformed block header" h7 block.extra=00ff
is "$(q "SELECT kind, times, error FROM pga.quarantine WHERE collector = 'evil'")" \
	"corrupt|7|'$(helper seg-name "$GOOD")': block 0: malformed block header" \
	"each recorded in quarantine (one name: seven times, the last reason)"
is "$(q "SELECT to_regclass('public.x') IS NOT NULL AND to_regclass('pga.app_evil') IS NULL")" t \
	"table x is still there; nothing of app_evil was made"
# a newer minor's appended fields are skipped
mkdir -p "$SH/newer/$(dirname "$(helper seg-name "$GOOD")")"
helper seg-forge "$GOOD" "$SH/newer/$(helper seg-name "$GOOD")" minor=9 block.extra=0102030405
run_ok "a newer minor's extra fields are skipped" pga -c "$SH/pga.conf" load --from "$SH/newer"
is "$(q "SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY ordinal_position)
	FROM information_schema.columns WHERE table_schema = 'pga' AND table_name = 'app_evil'
	AND ordinal_position > 4")" "id bigint,n bigint" "and its descriptors are used"
# descriptors for fewer columns than the CSV has
printf '1,2,3\n' | pga -c "$SH/pga.conf" spool put --metric app_wide --columns a,b,c 2>/dev/null
W=$(find "$SH/sp/ready" -name '0000000000000002-*.pga.zst')
mkdir -p "$SH/wide/$(dirname "$(helper seg-name "$W")")"
helper seg-forge "$W" "$SH/wide/$(helper seg-name "$W")" block.ndesc=2
run_fails 2 "descriptors for two of three CSV columns: refused" pga -c "$SH/pga.conf" load --from "$SH/wide"
like "$(last_err)" "block 0: 2 column descriptors for 3 columns" "says so"

# ---- a custom metric that changes scope ----
# cluster-wide blocks make a series index without dbname (it is NULL in
# every row); per-database blocks arriving later make the index and the
# delta view again with dbname, so databases' series never mix
put_scope() {
	printf '%s\n' "$1" | pga spool put --metric app_scope --columns id:integer:key,n:bigint:counter \
		--time "$2" --target main ${3:+--database "$3"} 2>/dev/null
}
sidx() { q "SELECT pg_get_indexdef('pga.app_scope_series'::regclass)"; }
sdelta() {
	q "SELECT string_agg(coalesce(dbname, '-') || ':' || to_char(snapshot_time AT TIME ZONE 'UTC',
	   'HH24:MI') || ':' || n || ':' || reset, ' ' ORDER BY dbname NULLS FIRST, snapshot_time)
	   FROM pga.app_scope_delta"
}
put_scope 1,10 2026-12-02T10:00:00Z
put_scope 1,15 2026-12-02T10:05:00Z
run_ok "a cluster-wide custom metric loads" pga load --from "$SP"
like "$(sidx)" "\(collector_id, server_id, id, snapshot_time\)$" "its series index has no dbname"
put_scope 1,100 2026-12-02T10:10:00Z a
put_scope 1,7 2026-12-02T10:10:00Z b
put_scope 1,130 2026-12-02T10:15:00Z a
put_scope 1,9 2026-12-02T10:15:00Z b
run_ok "per-database blocks of it load" pga load --from "$SP"
like "$(last_err)" "'app_scope': series index made again with dbname" "the log says the index was made again"
like "$(sidx)" "\(collector_id, server_id, id, dbname, snapshot_time\)$" "with dbname after the keys"
like "$(q "SELECT pg_get_viewdef('pga.app_scope_delta'::regclass)")" \
	"PARTITION BY t.collector_id, t.server_id, t.id, t.dbname ORDER BY t.snapshot_time" \
	"the delta view's window partitioned the same"
is "$(sdelta)" "-:10:05:5:false a:10:15:30:false b:10:15:2:false" \
	"the delta view keeps each database's series apart"
put_scope 1,20 2026-12-02T10:20:00Z
run_ok "a cluster-wide block again" pga load --from "$SP"
like "$(sidx)" "\(collector_id, server_id, id, dbname, snapshot_time\)$" "the index keeps dbname"
is "$(sdelta)" "-:10:05:5:false -:10:20:5:false a:10:15:30:false b:10:15:2:false" \
	"and the view its series"

done_testing
