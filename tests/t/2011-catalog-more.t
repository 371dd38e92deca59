#!/usr/bin/env bash
# The metrics that need more than one server, or extensions from Debian, on
# every version in PGA_TEST_VERSIONS (default 12 15 18):
#   - a streaming standby (pg_stat_wal_receiver, standby_replay) of a
#     primary, which has neither block, and no error;
#   - logical replication from that primary to a third server
#     (pg_stat_subscription, pg_stat_subscription_stats 15+, replication
#     origins);
#   - on Debian's PostgreSQL 15, the extensions PoWA uses, preloaded:
#     pg_stat_kcache, pg_wait_sampling (once per cluster, in the database
#     that has them) and pg_qualstats (per database, named there); skipped
#     with the reason where the packages are missing;
# and every cumulative metric among them loaded centrally, with rows in its
# delta view after two cycles.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

VERSIONS=${PGA_TEST_VERSIONS:-12 15 18}
SP=$TEST_TMP/spool
POWA_LIBS="pg_stat_kcache pg_wait_sampling pg_qualstats"
powa_missing() {
	local lib
	for lib in $POWA_LIBS; do
		[ -f "/usr/lib/postgresql/15/lib/$lib.so" ] || { echo "postgresql-15-${lib//_/-}"; }
	done
}
printf '[global]\nspool-path = %s\ncollector = more\n' "$SP" >"$TEST_TMP/pga.conf"
export PGA_CONFIG=$TEST_TMP/pga.conf

POWA=""
for v in $VERSIONS; do
	pg_have_version "$v" || { diag "PostgreSQL $v not installed: skipped (scripts/deps.sh)"; continue; }
	conf=("wal_level = logical" "max_wal_senders = 10" "max_replication_slots = 10")
	if [ "$v" = 15 ] && [ "$(pg_bindir 15)" = /usr/lib/postgresql/15/bin ] && [ -z "$(powa_missing)" ]; then
		POWA=p15
		conf+=("shared_preload_libraries = 'pg_stat_statements,pg_stat_kcache,pg_wait_sampling,pg_qualstats'"
		       "pg_qualstats.sample_rate = 1" "compute_query_id = on")
	fi
	pg_start "p$v" "$v" "${conf[@]}"
	pg_psql "p$v" postgres -c "CREATE EXTENSION pg_stat_statements" \
		-c "CREATE TABLE pub_t (a int PRIMARY KEY, b text)" \
		-c "INSERT INTO pub_t SELECT g, 'x' FROM generate_series(1, 100) g" \
		-c "CREATE PUBLICATION pub FOR TABLE pub_t" >/dev/null
	pg_standby "sb$v" "p$v"
	pg_start "s$v" "$v"
	pg_psql "s$v" postgres -c "CREATE TABLE pub_t (a int PRIMARY KEY, b text)" \
		-c "CREATE SUBSCRIPTION sub CONNECTION '$(pg_conninfo "p$v")' PUBLICATION pub" \
		>/dev/null 2>&1 || diag "v$v: CREATE SUBSCRIPTION failed"
	for n in "p$v" "sb$v" "s$v"; do
		printf '[target:%s]\nconninfo = %s\n' "$n" "$(pg_conninfo "$n" '*')" >>"$TEST_TMP/pga.conf"
	done
	echo "$v" >>"$TEST_TMP/versions"
done
[ -s "$TEST_TMP/versions" ] || skip_all "none of PostgreSQL $VERSIONS is installed"

# the initial copy done, one more row streamed to each
while read -r v; do
	pg_psql "p$v" postgres -c "INSERT INTO pub_t VALUES (101, 'y')" >/dev/null
	for _ in $(seq 300); do
		[ "$(pg_psql "s$v" postgres -At -c "SELECT count(*) FROM pub_t")" = 101 ] &&
			[ "$(pg_psql "sb$v" postgres -At -c "SELECT count(*) FROM pub_t")" = 101 ] && break
		sleep 0.1
	done
done <"$TEST_TMP/versions"

if [ -n "$POWA" ]; then
	# predicates, waits and CPU to sample, in a database with all three and
	# in one with pg_qualstats only
	pg_psql p15 postgres -c "CREATE EXTENSION pg_stat_kcache" -c "CREATE EXTENSION pg_wait_sampling" \
		-c "CREATE EXTENSION pg_qualstats" -c "CREATE DATABASE qs" -c "CREATE DATABASE bare" >/dev/null
	pg_psql p15 qs -c "CREATE EXTENSION pg_qualstats" \
		-c "CREATE TABLE q_t AS SELECT g AS id, g % 10 AS k FROM generate_series(1, 10000) g" \
		-c "ANALYZE q_t" >/dev/null
	for i in $(seq 20); do
		echo "SELECT count(*) FROM q_t WHERE k = $((i % 10));"
		echo "SELECT count(*) FROM pub_t WHERE b = 'x$i';"
	done | tee >(pg_psql p15 postgres >/dev/null 2>&1) | sed 's/pub_t WHERE b/q_t WHERE id/' |
		pg_psql p15 qs >/dev/null 2>&1
	pg_psql p15 postgres -c "SELECT pg_sleep(0.5)" -c "SELECT count(*) FROM pub_t WHERE b = 'x'" >/dev/null
fi

run_ok "a cycle over primaries, standbys and subscribers" pga collect
like "$(last_err)" "targets $((3 * $(grep -c . "$TEST_TMP/versions"))) ok, 0 failed, 0 skipped; .*; 0 metric errors" \
	"every target collected, not a single metric error"
ok $(grep -q "warn" "$ERR"; [ $? -ne 0 ]; echo $?) "no warning"
helper seg-blocks "$SP" >"$TEST_TMP/blocks"
pga spool cat "$(find "$SP/ready" -name '*.pga.zst')" >"$TEST_TMP/cat"
rows() { awk -F'\t' -v m="$1" -v t="$2" '$1 == m && $2 == t { s += $4; n++ } END { print n ? s : "none" }' \
	"$TEST_TMP/blocks"; }
# field of the first row of a metric's block for a target, by column name
field() {
	python3 - "$TEST_TMP/cat" "$@" <<'PY'
import csv, sys
path, metric, target, col = sys.argv[1:5]
cols, on = None, False
for row in csv.reader(open(path, newline='')):
    if row and row[0].startswith('# block'):
        f = dict(x.split('=', 1) for x in row[0].split()[3:] if '=' in x)
        on, cols = f['metric'] == metric and f['target'] == target, None
    elif on and cols is None:
        cols = row
    elif on:
        print(dict(zip(cols, row))[col])
        break
PY
}

while read -r v; do
	is "$(rows pg_stat_wal_receiver "sb$v") $(field pg_stat_wal_receiver "sb$v" status)" "1 streaming" \
		"PostgreSQL $v standby: pg_stat_wal_receiver, streaming"
	is "$(field pg_stat_wal_receiver "sb$v" slot_name)" "sb$v" "PostgreSQL $v standby: through its slot"
	like "$(rows standby_replay "sb$v") $(field standby_replay "sb$v" receive_lsn) $(field standby_replay "sb$v" replay_lag_bytes)" \
		"^1 [0-9A-F]+/[0-9A-F]+ [0-9]+$" "PostgreSQL $v standby: received and replayed positions, lag in bytes"
	is "$(rows pg_stat_wal_receiver "p$v") $(rows standby_replay "p$v")" "none none" \
		"PostgreSQL $v primary: no standby block (and no error)"
	is "$(rows pg_stat_replication "p$v")" 2 "PostgreSQL $v primary: two walsenders (standby, subscription)"
	is "$(rows pg_stat_subscription "s$v") $(field pg_stat_subscription "s$v" subname)" "1 sub" \
		"PostgreSQL $v subscriber: pg_stat_subscription"
	like "$(field pg_stat_subscription "s$v" worker_type) $(field pg_stat_subscription "s$v" pid) $(field pg_stat_subscription "s$v" enabled)" \
		"^apply [0-9]+ t$" "PostgreSQL $v subscriber: its apply worker, enabled"
	if [ "$v" -ge 15 ]; then
		is "$(rows pg_stat_subscription_stats "s$v") $(field pg_stat_subscription_stats "s$v" apply_error_count)" \
			"1 0" "PostgreSQL $v subscriber: pg_stat_subscription_stats"
	else
		is "$(rows pg_stat_subscription_stats "s$v")" none "PostgreSQL $v: no pg_stat_subscription_stats before 15"
	fi
	like "$(rows pg_replication_origin_status "s$v") $(field pg_replication_origin_status "s$v" external_id) $(field pg_replication_origin_status "s$v" remote_lsn)" \
		"^1 pg_[0-9]+ [0-9A-F]+/[0-9A-F]+$" "PostgreSQL $v subscriber: its replication origin, and how far it got"
done <"$TEST_TMP/versions"

if [ -n "$POWA" ]; then
	kc=$(awk -F'\t' '$1 == "pg_stat_kcache" && $2 == "p15" { print $3 ":" $4 }' "$TEST_TMP/blocks")
	like "$kc" "^(postgres|qs|):[1-9][0-9]*$" "pg_stat_kcache: one block for the cluster, with rows"
	like "$(field pg_stat_kcache p15 exec_user_time)" "^[0-9.e-]+$" "pg_stat_kcache: CPU time"
	ws=$(awk -F'\t' '$1 == "pg_wait_sampling_profile" && $2 == "p15" { print $4 }' "$TEST_TMP/blocks")
	like "$ws" "^[1-9][0-9]*$" "pg_wait_sampling_profile: one block, with rows"
	ok "$(python3 - "$TEST_TMP/cat" <<'PY'
import csv, sys
cols, on, hit = None, False, False
for row in csv.reader(open(sys.argv[1], newline='')):
    if row and row[0].startswith('# block'):
        on, cols = 'metric=pg_wait_sampling_profile ' in row[0] + ' ' and 'target=p15 ' in row[0] + ' ', None
    elif on and cols is None:
        cols = row
    elif on:
        r = dict(zip(cols, row))
        hit |= r['event'] == 'PgSleep' and int(r['samples']) > 0 and r['profile_period'] != ''
print(0 if hit else 1)
PY
)" "pg_wait_sampling_profile: the pg_sleep() sampled (event PgSleep)"
	qs=$(awk -F'\t' '$1 == "pg_qualstats" && $2 == "p15" { print $3 ":" ($4 > 0) }' "$TEST_TMP/blocks" | sort | tr '\n' ' ')
	is "$qs" "postgres:1 qs:1 " "pg_qualstats: a block in each database that has it (not 'bare'), with rows"
	ok "$(python3 - "$TEST_TMP/cat" <<'PY'
import csv, sys
cols, on, want = None, False, set()
for row in csv.reader(open(sys.argv[1], newline='')):
    if row and row[0].startswith('# block'):
        f = dict(x.split('=', 1) for x in row[0].split()[3:] if '=' in x)
        on, cols = f['metric'] == 'pg_qualstats' and f['target'] == 'p15', None
        db = f.get('database')
    elif on and cols is None:
        cols = row
    elif on:
        r = dict(zip(cols, row))
        if int(r['execution_count']) > 0 and r['opname'] == '=':
            want.add('%s:%s.%s' % (db, r['lrelname'], r['lattname']))
print(0 if {'qs:q_t.k', 'postgres:pub_t.b'} <= want else 1)
PY
)" "pg_qualstats: predicates named in their database (qs: q_t.k =, postgres: pub_t.b =)"
	# each query's result types, through a view named by the canonical columns
	exts=$(pg_psql p15 postgres -At -c "SELECT string_agg('--ext ' || extname || '=' || extversion, ' ')
		FROM pg_extension WHERE extname IN ('pg_stat_kcache', 'pg_wait_sampling', 'pg_qualstats')")
	helper catalog-types >"$TEST_TMP/want-types"
	helper catalog-cols >"$TEST_TMP/cols"
	# shellcheck disable=SC2086
	helper catalog-sql --all $exts 150018 1.10 | awk -F'\t' '$1 ~ /^pg_(stat_kcache|wait_sampling_profile|qualstats)$/' |
		while IFS=$'\t' read -r m scope when sql; do
			cols=$(awk -F'\t' -v m="$m" '$1 == m { print $4 }' "$TEST_TMP/cols")
			got=$(pg_psql p15 postgres -At -c "CREATE TEMP VIEW probe ($cols) AS $sql" \
				-c "SELECT string_agg(attname || ' ' || CASE format_type(atttypid, NULL)
				      WHEN 'name' THEN 'text' WHEN 'timestamp with time zone' THEN 'timestamptz'
				      ELSE format_type(atttypid, NULL) END, ',' ORDER BY attnum)
				    FROM pg_attribute WHERE attrelid = 'probe'::regclass AND attnum > 0" 2>&1)
			printf '%s\t%s\n' "$m" "$got"
		done >"$TEST_TMP/types"
	is "$(cut -f1 "$TEST_TMP/types" | tr '\n' ' ')" "pg_stat_kcache pg_wait_sampling_profile pg_qualstats " \
		"the three metrics of the extensions' installed versions"
	is "$(join -t $'\t' <(sort "$TEST_TMP/types") <(sort "$TEST_TMP/want-types") |
		awk -F'\t' '$2 != $3 { print $1 ": " $2 " <> " $3 }')" "" \
		"every column of theirs has the catalog's name and type"
	is "$(awk -F'\t' '$1 ~ /^pg_(stat_kcache|wait_sampling_profile|qualstats)$/ && $2 != "p15" && $2 != "sb15"' "$TEST_TMP/blocks" | grep -c .)" 0 \
		"no PoWA block where the extensions are not installed (the standby of p15 has them)"
else
	ok 0 "# SKIP PoWA extensions: Debian's PostgreSQL 15 or $(powa_missing | tr '\n' ' ')not installed (scripts/deps.sh)"
fi

# pga check says why a metric is off, and counts none of it as a problem
v=$(head -1 "$TEST_TMP/versions")
run_ok "pga check of a primary and its standby: no problem" pga check --target "p$v" --target "sb$v"
like "$(last_out)" "target 'p$v'.*standby_replay +off: only with a standby.*target 'sb$v'" \
	"on the primary, the standby's metrics are off: only with a standby"
is "$(sed -n "/^target 'sb$v'/,\$p" "$OUT" | grep -c 'standby_replay\|pg_stat_wal_receiver')" 0 \
	"on the standby, they run (not listed)"
if [ -n "$POWA" ]; then
	run_ok "pga check of the PoWA server" pga check --target p15
	is "$(grep -c 'pg_stat_kcache\|pg_wait_sampling_profile\|pg_qualstats' "$OUT")" 0 \
		"its PoWA metrics run (not listed as off)"
	run_fails 1 "pga check of a server without them (nor pg_stat_statements)" pga check --target "s$v"
	like "$(last_out)" "pg_stat_kcache +off: pg_stat_kcache is not installed in database 'postgres'" \
		"elsewhere: off, the extension not installed in the database it checks"
	is "$(grep -c '^  problem:' "$OUT") $(grep -c '^  problem:.*pg_stat_statements' "$OUT")" "1 1" \
		"its one problem is pg_stat_statements, not the PoWA extensions"
fi

# centrally: the cumulative ones with rows in their delta views after two
# cycles (the central database is the first subscriber)
v=$(head -1 "$TEST_TMP/versions")
[ -n "$POWA" ] && pg_psql p15 postgres -c "SELECT pg_sleep(0.2)" -c "SELECT count(*) FROM pub_t WHERE b = 'z'" >/dev/null
pg_psql "p$v" postgres -c "INSERT INTO pub_t VALUES (102, 'z')" >/dev/null
sleep 1
run_ok "a second cycle" pga collect
pg_psql "s$v" postgres -c "CREATE DATABASE central" >/dev/null
CENTRAL=$(pg_conninfo "s$v" central)
run_ok "both loaded centrally" pga load --init --db "$CENTRAL" --from "$SP/ready"
deltas="standby_replay"
[ "$v" -ge 15 ] && deltas="$deltas pg_stat_subscription_stats"
[ -n "$POWA" ] && deltas="$deltas pg_stat_kcache pg_wait_sampling_profile pg_qualstats"
for m in $deltas; do
	like "$(pg_psql "s$v" central -At -c "SELECT count(*) FROM pga.${m}_delta")" "^[1-9][0-9]*$" \
		"central: pga.${m}_delta has rows"
done
is "$(pg_psql "s$v" central -At -c "SELECT count(*) > 0 AND bool_and(receive_lsn >= 0 AND NOT reset)
	FROM pga.standby_replay_delta")" t "central: the standby's received WAL per interval, in bytes"
is "$(pg_psql "s$v" central -At -c "SELECT count(*) FROM pga.pg_stat_subscription")" $((2 * $(grep -c . "$TEST_TMP/versions"))) \
	"central: pga.pg_stat_subscription, typed (a row a cycle)"
# the query `pga help metrics` gives for honest shares, as printed
pga help metrics | sed -n '/^        WITH w AS/,/;$/p' | sed 's/^        //' >"$TEST_TMP/shares.sql"
like "$(pg_psql "s$v" central -At -f "$TEST_TMP/shares.sql" 2>&1 | cut -d'|' -f2 | sort -u | tr '\n' ' ')" \
	"^(0?\.[0-9]+ |1 )+$" "central: the documented share of the top statements, in (0, 1] for every interval"
done_testing
