#!/usr/bin/env bash
# A restore keeps the loader's guarantees (issue 15 with issue 9): a bad
# block in a day is isolated and recorded (segment, block, metric,
# SQLSTATE), the rest of the segment and of its day loads; a fork in the
# archive is held centrally as a large object, byte for byte, never loaded
# over the other branch; the result is what `pga load` of the same
# archive gives.  A restore run again loads nothing twice and retries no
# refused block.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central "" "wal_level = minimal" "max_wal_senders = 0"
mkdb() { pg_psql central postgres -c "CREATE DATABASE $1"; pg_conninfo central "$1"; }
q() { pg_psql central "$1" -At -c "$2"; }
A=$TEST_TMP/arch
B=$TEST_TMP/blocks
mkdir -p "$A" "$B"

good() { printf '%d,v%d,plain\n%d,"with, comma",x\n' "$1" "$1" "$(($1 + 1))" >"$B/g$1"; echo "bt:id,val,note:$B/g$1"; }
printf '1,a\xffb,x\n2,ok,ok\n' >"$B/ff"
printf '1,ok,ok\n2,abc\xc3,x\n' >"$B/trunc"
printf '1,a,b,extra\n' >"$B/extra"
printf '1,"abc,x\n2,b,c\n' >"$B/quote"
printf '16384,mydb,notanumber\n' >"$B/type"
bad() { case $1 in type) echo "pg_stat_database:datid,datname,numbackends:$B/type" ;;
	*) echo "bt:id,val,note:$B/$1" ;; esac; }
# seg COLLECTOR HOST SEQ PREV DAY MIN BLOCK...: prints NAME SHA
seg() { helper seg-build "$A" "$1" "$2" "$3" "$4" "2026-11-$5T00:$(printf %02d "$6"):${SEC:-00}Z" "${@:7}" ||
	{ echo "Bail out! seg-build"; exit 1; }; }

# collector s: two days, bad blocks first, middle, last and several, on both days
read -r _ h1 < <(seg s db1 1 0 19 1 "$(bad ff)" "$(good 110)" "$(good 120)")
read -r _ h2 < <(seg s db1 2 "$h1" 19 2 "$(good 200)" "$(bad trunc)" "$(good 220)")
read -r _ h3 < <(seg s db1 3 "$h2" 20 3 "$(good 300)" "$(good 310)" "$(bad type)")
read -r n4 h4 < <(seg s db1 4 "$h3" 20 4 "$(bad extra)" "$(good 410)" "$(bad quote)" "$(good 430)")
read -r _ _ < <(seg s db1 5 "$h4" 20 5 "$(good 500)")
# collector f: a genuine chain and a forged seq 2 (another host, a wrong previous hash)
printf '1,v,g\n' >"$B/f1"; printf '2,v,g\n' >"$B/f2"; printf '3,v,g\n' >"$B/f3"; printf '2,v,forged\n' >"$B/f2x"
read -r _ fh1 < <(seg f vm1 1 0 20 1 "ft:id,val,note:$B/f1")
read -r f2 fh2 < <(seg f vm1 2 "$fh1" 20 2 "ft:id,val,note:$B/f2")
read -r _ _ < <(seg f vm1 3 "$fh2" 20 3 "ft:id,val,note:$B/f3")
read -r fx2 fxh2 < <(SEC=30 seg f evil 2 "$(printf 'ab%.0s' $(seq 32))" 20 2 "ft:id,val,note:$B/f2x")
[ "$f2" != "$fx2" ] || { echo "Bail out! the forged copy needs a name of its own"; exit 1; }

# collector p: the catalog's metrics only (the day transactions' path), a bad block among them
printf '16384,d1,3\n16385,d2,4\n' >"$B/pd1"; printf '16384,d1,5\n16385,d2,6\n' >"$B/pd2"
read -r _ ph1 < <(seg p pg1 1 0 19 1 "pg_stat_database:datid,datname,numbackends:$B/pd1")
read -r _ ph2 < <(seg p pg1 2 "$ph1" 19 2 "pg_stat_database:datid,datname,numbackends:$B/pd2" "$(bad type)")
read -r _ _ < <(seg p pg1 3 "$ph2" 20 3 "pg_stat_database:datid,datname,numbackends:$B/pd1")

# the reference: pga load of the same archive
REF=$(mkdb ref)
pga load --init --db "$REF" >/dev/null 2>&1
run_fails 2 "pga load of the archive: partial (the reference)" pga load --db "$REF" --from "$A"
DB=$(mkdb r)
run_fails 2 "pga restore of the archive: partial, not a failure" pga restore --db "$DB" --from "$A" --jobs 2
like "$(last_out)" "6 blocks refused \\(7 rows\\)" "the summary counts the refused blocks"
like "$(last_out)" "1 held" "and the fork held"
# the day's segments share their COPYs; the server's refusal in a shared COPY names no
# segment, so that day begins again with one COPY per segment, which finds it
like "$(last_err)" "a shared COPY failed \\(.*\\): the day begins again with one COPY per segment" \
	"a refusal in a shared COPY: the day again, one COPY per segment"

rec() { q "$1" "SELECT string_agg(collector || seq || ':' || block || ' ' || metric || ' ' || coalesce(sqlstate, '-') || ' ' || rows, '|'
	      ORDER BY collector, seq, block) FROM pga.quarantine WHERE kind = 'block' AND resolved_at IS NULL"; }
is "$(rec r)" "p2:1 pg_stat_database 22P02 1|s1:0 bt 22021 2|s2:1 bt 22021 2|s3:2 pg_stat_database 22P02 1|s4:0 bt 22P04 1|s4:2 bt - 0" \
	"every bad block recorded: segment, block, metric, SQLSTATE, rows"
is "$(rec r)" "$(rec ref)" "the same records as pga load's"
bt() { q "$1" "SELECT string_agg(id, ',' ORDER BY id::int) FROM pga.bt"; }
is "$(bt r)" "110,111,120,121,200,201,220,221,300,301,310,311,410,411,430,431,500,501" \
	"every good block of both days loaded, around the bad ones"
is "$(bt r)" "$(bt ref)" "the same rows as pga load's"
led() { q "$1" "SELECT string_agg(c.collector || seq || ':' || rows || ':' || blocks_refused || ':' || rows_refused, ' '
	      ORDER BY c.collector, seq) FROM pga.segments JOIN pga.collectors c USING (collector_id) WHERE complete"; }
is "$(led r)" "$(led ref)" "the same ledger"
is "$(q r "SELECT string_agg(numbackends::text, ',' ORDER BY snapshot_time, numbackends) FROM pga.pg_stat_database")" \
	"3,4,5,6,3,4" "collector p: the good blocks of its day loaded, no row of the mistyped one"

# the fork: one version of f seq 2 loaded, the other held with its bytes
is "$(q r "SELECT count(*) FROM pga.segments s JOIN pga.collectors c USING (collector_id)
	   WHERE c.collector = 'f' AND seq = 2")" 1 "one version of the forked seq loaded"
loaded=$(q r "SELECT s.name FROM pga.segments s JOIN pga.collectors c USING (collector_id)
	      WHERE c.collector = 'f' AND seq = 2")
other=$fx2; osha=$fxh2
[ "$loaded" = "$fx2" ] && { other=$f2; osha=$fh2; }
diag "loaded '$loaded', the other is '$other'"
is "$(q r "SELECT count(*) FROM pga.held_segments WHERE collector = 'f' AND seq = 2 AND resolved_at IS NULL")" 1 \
	"the other is held centrally"
is "$(q r "SELECT encode(sha256(lo_get(content)), 'hex') FROM pga.held_segments WHERE collector = 'f'")" \
	"$(sha256sum "$A/$other" | cut -d' ' -f1)" "held as a large object, the file byte for byte"
is "$(q r "SELECT count(*) FROM pga.ft WHERE note = 'forged'") $(q r "SELECT count(*) FROM pga.ft WHERE note = 'g'")" \
	"$([ "$loaded" = "$fx2" ] && echo "1 2" || echo "0 3")" "never both branches"
[ -n "$osha" ]; ok $? "the fork's hash is known ($osha)"
is "$(q r "SELECT count(*) FROM pg_class c JOIN pg_constraint k ON k.conrelid = c.oid
	   WHERE k.conname = 'pga_day_bound'")" 0 "every day table attached"

# again: nothing twice, no refused block tried again
bq() { q "$1" "SELECT count(*) || ' ' || sum(times) FROM pga.quarantine WHERE kind = 'block'"; }
before=$(bq r)
pga restore --db "$DB" --from "$A" --jobs 2 >"$OUT" 2>"$ERR"; rc=$?
[ $rc = 0 ] || [ $rc = 2 ]; ok $? "a second restore runs (exit $rc)"
like "$(last_out)" "already loaded" "it finds what is there"
is "$(bt r)" "$(bt ref)" "no row twice"
is "$(bq r)" "$before" "the refused blocks are not tried again"
pga load --db "$REF" --from "$A" >/dev/null 2>&1
is "$(q r "SELECT count(*) || ' ' || sum(times) FROM pga.quarantine")" \
	"$(q ref "SELECT count(*) || ' ' || sum(times) FROM pga.quarantine")" \
	"the fork is seen again, as pga load sees it again"
done_testing
