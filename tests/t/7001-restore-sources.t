#!/usr/bin/env bash
# pga restore from a directory, a tar, s3rver and azurite, newest first and
# oldest first, whole and up to a point in time: every database ends up
# with exactly what a direct `pga load` of the same segments gives (every
# table's rows, the ledger).  The archive has segments that span midnight
# and segments named the day after their first snapshot, so days hand
# segments to each other both ways.  A bucket is read by prefixes, never
# listed whole; its downloads stay within --prefetch.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/shiptest.sh"
. "$(dirname "$0")/../lib/azurite.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
azurite_available || skip_all "azurite not installed (run make deps)"
pg_start central
s3srv_start arch || exit 1
azurite_start || exit 1
q() { pg_psql central "$1" -At -c "$2"; }
mkdb() { pg_psql central postgres -c "CREATE DATABASE $1"; pg_conninfo central "$1"; }

# 2 collectors x 2 databases, a snapshot every 30 min over 2 days, 5 snapshots a
# segment (4 h: some span midnight), each named 50 min after its first
# snapshot (the 23:30 snapshot lives in a segment of the next day)
ARCH=$TEST_TMP/arch
helper gen-archive "$ARCH" days=2 collectors=2 dbs=2 interval=1800 seg-age=8000 lag=3000 \
	tables=3 indexes=3 sys-tables=2 statements=8 threads=1 >/dev/null || { echo "Bail out! gen-archive"; exit 1; }
NSEG=$(find "$ARCH" -name '*.pga.zst' | wc -l)

# the same segments as a spool, packed, and shipped to both stores
SP=$TEST_TMP/spool
mkdir -p "$SP" && cp -r "$ARCH" "$SP/ready"
run_ok "pack" pga spool pack --spool "$SP" -o "$TEST_TMP/arch.tar"
A=devstoreaccount1
KEY=$AZURE_STORAGE_KEY
unset AZURE_STORAGE_KEY
AZURE_STORAGE_KEY=$KEY helper azure-request --query restype=container PUT "$AZURITE_URL" "/$A/pga" >/dev/null
CONF=$TEST_TMP/pga.conf
ship_conf "$CONF" "$SP" "spool-retain = 7d" \
	"[dest:s3]" "url = s3://arch/site" "endpoint = $S3_URL" "path-style = on" \
	"access-key-id = S3RVER" "secret-access-key = S3RVER" \
	"[dest:az]" "url = azure://$A/pga/site" "endpoint = $AZURITE_URL/$A" "account-key = $KEY"
run_ok "ship to s3rver and azurite" pga -c "$CONF" ship
is "$(helper dest-list "$CONF" s3 | wc -l)" "$NSEG" "every segment is in the bucket"
is "$(helper dest-list "$CONF" az | wc -l)" "$NSEG" "and in the container"

# what a database holds: every table's rows (as JSON, the collector and the
# server by name: their ids depend on which segment came first), the ledger
dump() {
	q "$1" "SELECT md5(string_agg(m.metric || ':' || x.h, ',' ORDER BY m.metric)) FROM pga.metrics m,
	        LATERAL (SELECT (xpath('/row/h/text()', query_to_xml(format(
	          'SELECT md5(coalesce(string_agg(r, '','' ORDER BY r), '''')) AS h FROM (SELECT
	             (to_jsonb(t) - ''collector_id'' - ''server_id'')::text || c.collector || s.host
	             || s.system_identifier AS r FROM pga.%I t JOIN pga.collectors c USING (collector_id)
	             JOIN pga.servers s USING (server_id)) z', m.metric), false, true, '')))[1]::text AS h) x"
	q "$1" "SELECT count(*), md5(string_agg(c.collector || seq || encode(sha256, 'hex') || complete, ','
	        ORDER BY c.collector, seq)) FROM pga.segments JOIN pga.collectors c USING (collector_id)"
	q "$1" "SELECT count(*) FROM pga.segment_windows"
}
rows() { q "$1" "SELECT sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM pga.%I',
	metric), false, true, '')))[1]::text::bigint) FROM pga.metrics"; }

DIRECT=$(mkdb direct)
run_ok "direct load (the reference)" pga load --init --db "$DIRECT" --from "$ARCH"
WANT=$(dump direct)
TOTAL=$(rows direct)
diag "$NSEG segments, $TOTAL rows"

n=0
for src in dir tar s3 az; do
	case $src in
	dir) from=$ARCH ;;
	tar) from=$TEST_TMP/arch.tar ;;
	s3) from=dest:s3 ;;
	az) from=dest:az ;;
	esac
	for order in newest-first oldest-first; do
		n=$((n + 1))
		db=r$n
		c=$(mkdb $db)
		run_ok "restore $src $order" pga -c "$CONF" --log-level debug restore --db "$c" --from "$from" \
			--order $order --prefetch 40k --json
		is "$(dump $db)" "$WANT" "$src $order: exactly what a direct load gives"
		like "$(last_out)" "\"order\":\"$order\"" "in that order"
		like "$(last_out)" "\"refused\":0,\"held\":0,\"failed\":0" "nothing refused"
		peak=$(sed 's/.*"prefetch_peak_bytes":\([0-9]*\).*/\1/' "$OUT")
		[ "$peak" -le $((40 * 1024 + 200 * 1024)) ]; ok $? "$src $order: fetched ahead $peak bytes, within --prefetch and a segment"
		if [ $src = s3 ] || [ $src = az ]; then
			grep -q "listing the objects under 'site/'$" "$ERR"; [ $? -ne 0 ]
			ok $? "$src: the bucket is never listed whole"
			like "$(last_err)" "listing the objects under 'site/site00/2026/11/30/'" "but day by day"
		fi
	done
done
# the days in the order asked, each queryable before the next one
days_done() { grep -o '"day":"[0-9-]*","segments":[0-9]*,"rows":[1-9][0-9]*,"queryable_us":[0-9]*' "$OUT" |
	sed 's/"day":"\([0-9-]*\)".*"queryable_us":\([0-9]*\)/\2 \1/' | sort -n | cut -d' ' -f2 | paste -sd,; }
# COPY statements the server ran into a database's day tables (pg_stat_statements is
# preloaded by pg.sh; the segments a day defers load the per-segment way, into the parents)
pg_psql central postgres -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
copies() { pg_psql central postgres -At -c "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s
	JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$1'
	AND s.query ~ '^COPY \"pga\"\.\"[a-z0-9_]+_p[0-9]{8}\" '"; }
run_ok "restore newest first, one day at a time" pga restore --db "$(mkdb r_new)" --from "$ARCH" --jobs 1 --json
is "$(days_done)" "2026-11-30,2026-11-29" "the newest day is queryable first"
is "$(dump r_new)" "$WANT" "one day at a time: exactly what a direct load gives"
# the segments of a day share their COPYs: one per day table and column shape, not one per segment
ncopy=$(copies r_new)
tables=$(q r_new "SELECT sum((xpath('/row/c/text()', query_to_xml(format('SELECT count(DISTINCT
	(snapshot_time AT TIME ZONE ''UTC'')::date) AS c FROM pga.%I', metric), false, true, '')))[1]::text::int)
	FROM pga.metrics")
[ "$ncopy" -gt 0 ] && [ "$ncopy" -le "$tables" ]
ok $? "a day's segments share their COPYs: $ncopy for $NSEG segments, $tables day tables with rows"
# index builds: no parallel workers by default (the restore's own streams
# are its parallelism), as many as --index-workers says otherwise
pworkers() { pg_psql central postgres -At -c "SELECT coalesce(sum(s.calls), 0) FROM pg_stat_statements s
	JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$1'
	AND s.query ~ '^SET LOCAL max_parallel_maintenance_workers = $2'"; }
[ "$(pworkers r_new 0)" -gt 0 ] && [ "$(pworkers r_new '[1-9]')" = 0 ]
ok $? "each day table's index build ran without parallel workers ($(pworkers r_new 0) builds)"
run_ok "restore --index-workers 2" pga restore --db "$(mkdb r_pw)" --from "$ARCH" --index-workers 2
is "$(dump r_pw)" "$WANT" "--index-workers 2: exactly what a direct load gives"
[ "$(pworkers r_pw 2)" -gt 0 ] && [ "$(pworkers r_pw 0)" = 0 ]
ok $? "its index builds asked for 2 workers ($(pworkers r_pw 2) builds)"
run_fails 64 "--index-workers 65 is refused" pga restore --db "$(pg_conninfo central postgres)" --from "$ARCH" --index-workers 65
like "$(last_err)" "index-workers" "naming the option"
run_ok "restore oldest first, one day at a time" pga restore --db "$(mkdb r_old)" --from "$ARCH" --jobs 1 \
	--order oldest-first --json
is "$(days_done)" "2026-11-29,2026-11-30" "the oldest day is queryable first"

# point in time: --until inside a day, and at a day's end, against pga load --until
for until in 2026-11-29T13:15:00Z 2026-11-29T23:59:59Z; do
	ref=$(mkdb "u_ref_${until:11:2}")
	run_ok "direct load --until $until" pga load --init --db "$ref" --from "$ARCH" --until $until
	want=$(dump "u_ref_${until:11:2}")
	for src in dir s3; do
		from=$ARCH; [ $src = s3 ] && from=dest:s3
		for order in newest-first oldest-first; do
			db="u_${src}_${order%%-*}_${until:11:2}"
			run_ok "restore $src $order --until $until" pga -c "$CONF" restore --db "$(mkdb $db)" \
				--from "$from" --order $order --until $until
			is "$(dump $db)" "$want" "$src $order --until $until: the same as pga load --until"
		done
	done
done
is "$(q u_dir_newest_13 "SELECT max(snapshot_time) FROM pga.pg_stat_user_tables")" "2026-11-29 13:00:00+00" \
	"nothing after --until"

done_testing
