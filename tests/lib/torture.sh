# torture.sh - collect, ship and load running together under kill -9, with
# hostile input mixed in (source after tap.sh, pg.sh and shiptest.sh).
# tests/t/9001-torture.t drives it; tests/lib/torture_oracle.py judges.
#
#   tt_setup             a source PostgreSQL (pgbench traffic, a SQL_ASCII
#                        database, csvlog), a central PostgreSQL, s3rver, the
#                        spool (a small tmpfs as root), the witness
#   tt_run KILLS         the kill loop; events are spread over it
#   tt_drain             stop everything, one clean pass of each, forks resolved
#   tt_judge             gather the evidence, run the oracle, print TAP
#
# The roles and what kills them:
#   collect  pga collect --loop (1 s), one target with every database
#   ship     pga ship --loop to file://$DIR and s3://pga/t (s3rver)
#   load     pga load --from $DIR or --from dest:s3, one after the other,
#            sometimes with --jobs 2
# Events (each also killed -9 now and then where that makes sense):
#   phases   normal; spool-max small with spool-full = block, then
#            drop-oldest, the shipper stopped so the spool fills; as root a
#            full tmpfs (spool-max 0); configuration changed by SIGHUP or by
#            a restart
#   encoding a refused login whose user name is not UTF-8 (csvlog), a
#            table named with bytes that are not UTF-8 in the SQL_ASCII
#            database
#   forge    a segment of the collector's next-but-one seq, forged with
#            seg-forge (wrong previous hash, host 'evil'), put in $DIR
#   clone    the spool copied as a cloned VM would be, the copy collecting
#            and shipping under the same collector id
#   archive  pga spool pack of witnessed segments, then tampered (member
#            after the manifest, a wrong hash, a member missing, no
#            manifest): each must be refused whole by pga load
#   resolve  held forks decided with pga load --resolve-fork, keeping the
#            genuine segment (sometimes killed -9 and run again)
#   legacy   segments of another collector, one in ten with a block the
#            central database refuses (invalid UTF-8, as an old collector or
#            a future bug could write), put in $DIR in two halves: each bad
#            block isolated and recorded, every good one loaded

TT_COLLECTOR=tort
TT_INTERVAL=${TT_INTERVAL:-1s}

tt_log() { echo "$(date +%T) $*" >>"$TT/events.log"; }

# ---- set-up ----

tt_setup() {
	TT=$TEST_TMP/tt
	mkdir -p "$TT/logs" "$TT/loads" "$TT/witness" "$TT/arch" "$TT/fake"
	: >"$TT/fakes"		# sha256 kind name: every segment the test forged or cloned
	: >"$TT/events.log"
	pg_start src 15 "logging_collector = on" "log_destination = 'csvlog'" \
		"log_directory = 'log'" "log_filename = 'postgresql'" "track_functions = all"
	pg_start central 15
	CENTRAL=$(pg_conninfo central central)
	pg_psql src postgres -c "CREATE EXTENSION pg_stat_statements" -c "CREATE DATABASE app" \
		-c "CREATE DATABASE sa ENCODING SQL_ASCII TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
	pg_psql central postgres -c "CREATE DATABASE central"
	"$PG_BIN_src/pgbench" -i -q -s 1 -h "$PG_SOCK_src" -p "$PG_PORT_src" -U postgres app \
		>"$TT/pgbench-init.log" 2>&1 || { echo "Bail out! pgbench -i"; exit 1; }
	printf '%s\n' 'CREATE TABLE "t'$'\xe9''st" (a int);' 'CREATE TABLE "bad'$'\xff\xfe''" (a int);' \
		'CREATE TABLE "cut'$'\xe2\x82''" (a int);' | PGCLIENTENCODING=SQL_ASCII pg_psql src sa >/dev/null
	TT_CSVLOG=$PG_DATA_src/log/postgresql.csv
	TT_BAD_LOGINS=0 TT_BAD_TABLES=3
	TT_QUOTA_NOW=300K TT_BLOCK_PHASES=0 TT_DROP_PHASES=0

	s3srv_start pga || { echo "Bail out! s3rver"; exit 1; }
	DIR=$TT/dir
	mkdir -p "$DIR"
	SP=$TT/spool
	TT_TMPFS=0
	if [ "$(id -u)" -eq 0 ] && mkdir -p "$SP" && mount -t tmpfs -o size=${TT_TMPFS_SIZE:-4m} tmpfs "$SP"; then
		TT_TMPFS=1
		at_exit "umount -l '$SP'"
	fi
	helper load-spool "$TT/legacy" legacy 40 3 4 2026-11-20T00:00:00Z 10 legacy_test 10 \
		>"$TT/legacy.bad" 2>/dev/null || { echo "Bail out! load-spool"; exit 1; }
	TT_PHASE=normal
	tt_conf
	run_ok "the central schema" pga -c "$TT/pga.conf" load --init &&
		run_ok "a second schema for archives" pga -c "$TT/pga.conf" load --init --schema tamper ||
		{ echo "Bail out! the central schemas"; exit 1; }

	"$PG_BIN_src/pgbench" -c 2 -R "${TT_TPS:-20}" -T 86400 -n -h "$PG_SOCK_src" -p "$PG_PORT_src" \
		-U postgres app >"$TT/pgbench.log" 2>&1 &
	TT_PGBENCH=$!
	at_exit "kill $TT_PGBENCH"
	python3 "$TESTS_DIR/lib/torture_witness.py" "$SP" "$TT/witness" "$TT/witness.stop" &
	TT_WITNESS=$!
	at_exit "touch '$TT/witness.stop'; wait $TT_WITNESS"
	declare -gA TT_PID=() TT_KILLS=() TT_RUNS=()
	TT_LOAD_SRC=0 TT_CLONES=0 TT_FORGES=0 TT_ARCHIVES=0 TT_HUPS=0 TT_RESOLVES=0
	TT_HELD_SEEN=""
	at_exit tt_stop_all
}

# The configuration of the current phase, written atomically (a SIGHUP may
# read it at any time).
tt_conf() {
	local max=1G full=block
	case $TT_PHASE in
	quota-block) max=${TT_QUOTA:-$TT_QUOTA_NOW} ;;
	quota-drop) max=${TT_QUOTA:-$TT_QUOTA_NOW} full=drop-oldest ;;
	disk) max=0 ;;
	esac
	cat >"$TT/pga.conf.tmp" <<CONF
[global]
spool-path = $SP
collector = $TT_COLLECTOR
segment-max-size = 32K
segment-max-age = 3s
spool-max = $max
spool-full = $full
interval = $TT_INTERVAL
ship-interval = 200ms
query-stats-limit = 100
texts-every = 5
settings-every = 20
central = $CENTRAL
[target:src]
conninfo = $(pg_conninfo src '*')
csvlog = $TT_CSVLOG
[dest:dir]
url = file://$DIR
[dest:s3]
url = s3://pga/t
endpoint = $S3_URL
path-style = on
access-key-id = S3RVER
secret-access-key = S3RVER
CONF
	chmod 600 "$TT/pga.conf.tmp"
	mv "$TT/pga.conf.tmp" "$TT/pga.conf"
}

# ---- the roles ----

tt_running() { [ -n "${TT_PID[$1]:-}" ] && kill -0 "${TT_PID[$1]}" 2>/dev/null; }

# A role's process ended by itself: note how (a load's exit and summary go
# to the oracle: an exit that contradicts the summary is a finding).
tt_reap() {
	local role=$1 pid=${TT_PID[$1]:-} rc
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null && return 0
	wait "$pid"
	rc=$?
	TT_PID[$role]=
	echo "$role ${TT_RUNS[$role]} exit $rc" >>"$TT/exits"
}

tt_start() {
	local role=$1 n log
	n=$((${TT_RUNS[$role]:-0} + 1))
	TT_RUNS[$role]=$n
	log=$TT/logs/$role.$n.log
	case $role in
	collect)
		"$PGA_BIN" -c "$TT/pga.conf" collect --loop >"$log" 2>&1 &
		;;
	ship)
		"$PGA_BIN" -c "$TT/pga.conf" ship --loop >"$log" 2>&1 &
		;;
	load)
		local from=$DIR jobs=1
		TT_LOAD_SRC=$((TT_LOAD_SRC + 1))
		[ $((TT_LOAD_SRC % 2)) = 0 ] && from=dest:s3
		[ $((TT_LOAD_SRC % 5)) = 0 ] && jobs=2
		"$PGA_BIN" -c "$TT/pga.conf" load --from "$from" --jobs $jobs --json \
			>"$TT/loads/$n.json" 2>"$log" &
		;;
	esac
	TT_PID[$role]=$!
}

tt_kill() {
	local role=$1 pid=${TT_PID[$1]:-}
	[ -n "$pid" ] || return 1
	if kill -9 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		TT_PID[$role]=
		TT_KILLS[$role]=$((${TT_KILLS[$role]:-0} + 1))
		echo "$role ${TT_RUNS[$role]} killed" >>"$TT/exits"
		return 0
	fi
	tt_reap "$role"
	return 1
}

tt_stop_all() {
	local r
	for r in collect ship load; do
		[ -n "${TT_PID[$r]:-}" ] && kill -9 "${TT_PID[$r]}" 2>/dev/null
	done
	return 0
}

# Which roles run in this phase: the shipper stops while the spool fills.
tt_wanted() {
	case $TT_PHASE in
	quota-block | quota-drop | disk) echo "collect load" ;;
	*) echo "collect ship load" ;;
	esac
}

tt_ensure() {
	local r
	for r in collect ship load; do tt_reap $r; done
	for r in $(tt_wanted); do tt_running $r || tt_start $r; done
	if ! [[ " $(tt_wanted) " == *" ship "* ]] && tt_running ship; then
		kill -9 "${TT_PID[ship]}"; wait "${TT_PID[ship]}" 2>/dev/null; TT_PID[ship]=
	fi
}

# ---- events ----

# Change phase: the collector takes the new configuration by SIGHUP (every
# other time) or by being killed and started again.
# What the spool holds now (ready/ and tmp/, what spool-max limits), in KiB.
tt_spool_kib() {
	find "$SP/ready" "$SP/tmp" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print int(s / 1024) }'
}
tt_phase() {
	TT_PHASE=$1
	# a full spool in the spool-full = block phases, the smoke's short ones
	# included: spool-max is what the spool holds as the phase starts (the
	# drop-oldest phases keep 300K: a quota that tight would drop segments
	# before the witness can copy them)
	case $1 in
	quota-block) TT_BLOCK_PHASES=$((TT_BLOCK_PHASES + 1))
		TT_QUOTA_NOW=$(($(tt_spool_kib) + 1))K ;;
	quota-drop) TT_DROP_PHASES=$((TT_DROP_PHASES + 1))
		TT_QUOTA_NOW=300K ;;
	esac
	tt_conf
	tt_log "phase $TT_PHASE"
	if tt_running collect && [ $((TT_HUPS % 2)) = 0 ]; then
		kill -HUP "${TT_PID[collect]}"
		TT_HUPS=$((TT_HUPS + 1))
	elif tt_running collect; then
		TT_HUPS=$((TT_HUPS + 1))
		tt_kill collect
	fi
	if [ "$1" = normal ] && [ "$TT_TMPFS" = 1 ]; then
		rm -f "$SP/filler"
	fi
}

tt_encoding() {
	local i=$TT_BAD_LOGINS
	psql -X "host=$PG_SOCK_src port=$PG_PORT_src dbname=postgres user=bad"$'\xff\xfe'"user$i" \
		-c 'SELECT 1' >/dev/null 2>&1
	TT_BAD_LOGINS=$((i + 1))
	if [ $((i % 3)) = 0 ]; then
		printf 'CREATE TABLE "n%d'$'\xe9\xff''" (a int);\n' "$i" |
			PGCLIENTENCODING=SQL_ASCII pg_psql src sa >/dev/null 2>&1 &&
			TT_BAD_TABLES=$((TT_BAD_TABLES + 1))
	fi
}

tt_chain_seq() { awk '{ print $1 }' "$SP/chain/$TT_COLLECTOR" 2>/dev/null || echo 0; }

# A forged segment of seq S+2, put in the directory before the genuine one
# exists: whichever order the loaders see them in, the genuine one must win
# once resolved and the forged one must be held, never silently loaded.
tt_forge() {
	local src s name
	src=$(find "$TT/witness" -name '*.pga.zst' | sort | tail -1)
	[ -n "$src" ] || return 0
	s=$(($(tt_chain_seq) + 2))
	helper seg-forge "$src" "$TT/fake/forged" seq=$s host=evil \
		prev="$(printf '%064x' $((RANDOM * 32768 + RANDOM)))" \
		created="$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)" || { ok 1 "seg-forge"; return; }
	name=$(helper seg-name "$TT/fake/forged") || { ok 1 "seg-name"; return; }
	mkdir -p "$(dirname "$DIR/$name")"
	cp "$TT/fake/forged" "$DIR/$name.tmp" && mv "$DIR/$name.tmp" "$DIR/$name"
	echo "$(sha256sum <"$DIR/$name" | cut -c1-64) forged $name" >>"$TT/fakes"
	echo "$s" >>"$TT/forged-seqs"
	TT_FORGES=$((TT_FORGES + 1))
	tt_log "forged seq $s as $name"
}

# A cloned VM: the spool copied while its collector is down, then both
# collect and ship under the same collector id.  The clone works while the
# genuine collector is still down, and the genuine one starts again more
# than a second after the clone's last segment: their segments differ in
# their names' seconds (a same-second name collision is a different
# story: the destinations' create-only rule refuses the second writer).
tt_clone() {
	local c=$TT/clone$TT_CLONES base n
	TT_CLONES=$((TT_CLONES + 1))
	tt_kill collect || true
	mkdir -p "$c"
	cp -a "$SP/." "$c/spool"
	rm -f "$c/spool/filler"
	# what both will seal alike: the chain, and the part the kill left (its
	# recovery is the same bytes on both) if it holds a complete block: one
	# without is dropped at recovery and its seq used again, by each anew
	# (a kill between a part's header and its first batch of blocks)
	base=$(awk '{ print $1 }' "$c/spool/chain/$TT_COLLECTOR" 2>/dev/null || echo 0)
	for n in "$c"/spool/tmp/*.part; do
		[ -e "$n" ] || continue
		[ -n "$(helper part-blocks "$n" 2>/dev/null | head -1)" ] || continue
		n=${n%.part}
		[ $((16#${n##*.})) -gt "$base" ] && base=$((16#${n##*.}))
	done
	sed "s|^spool-path = .*|spool-path = $c/spool|; s|^spool-max = .*|spool-max = 1G|" \
		"$TT/pga.conf" >"$c/pga.conf"
	chmod 600 "$c/pga.conf"
	for n in 1 2; do
		"$PGA_BIN" -c "$c/pga.conf" collect >>"$c/collect.log" 2>&1
	done
	(cd "$c/spool/ready" && find . -name '*.pga.zst' | sed 's|^\./||') | while read -r n; do
		local s=$((16#$(basename "$n" | cut -c1-16)))
		[ "$s" -gt "$base" ] || continue
		echo "$(sha256sum <"$c/spool/ready/$n" | cut -c1-64) clone $n" >>"$TT/fakes"
		echo "$s" >>"$TT/forged-seqs"
	done
	sleep 1.1
	tt_start collect
	"$PGA_BIN" -c "$c/pga.conf" ship >>"$c/ship.log" 2>&1
	echo "clone $TT_CLONES ship exit $?" >>"$TT/exits"
	tt_log "clone $TT_CLONES from seq $base"
}

# Half of the legacy collector's segments into the directory ($1: 1 or 2).
tt_legacy() {
	(cd "$TT/legacy/ready" && find . -name '*.pga.zst' | sed 's|^\./||' | sort) |
		awk -v h="$1" '(NR <= 20) == (h == 1)' | while read -r n; do
			mkdir -p "$(dirname "$DIR/$n")"
			cp "$TT/legacy/ready/$n" "$DIR/$n.tmp" && mv "$DIR/$n.tmp" "$DIR/$n"
		done
	tt_log "legacy half $1"
}

# ---- archives: refused whole when tampered with, loaded when not ----

tt_schema_count() {
	psql -X -At "$CENTRAL" -c "SELECT count(*) FROM $1.segments"
}

tt_archive() {
	local a=$TT/arch/$TT_ARCHIVES x segs n before rc
	TT_ARCHIVES=$((TT_ARCHIVES + 1))
	mapfile -t segs < <(cd "$TT/witness" && find . -name '*.pga.zst' | sed 's|^\./||' | sort | tail -4)
	[ "${#segs[@]}" -ge 3 ] || return 0
	mkdir -p "$a/spool/ready" "$a/x"
	(cd "$TT/witness" && cp --parents "${segs[@]:0:3}" "$a/spool/ready/")
	pga spool pack --spool "$a/spool" -o "$a/good.tar" >/dev/null 2>&1 || { ok 1 "archive $a: pack"; return; }
	tar -C "$a/x" -xf "$a/good.tar"
	# a member appended after everything the manifest covers
	cp "$a/good.tar" "$a/appended.tar"
	(cd "$TT/witness" && tar -rf "$a/appended.tar" "${segs[3]}")
	# a hash that does not match
	sed '2s/^./'"$( [ "$(sed -n '2s/^\(.\).*/\1/p' "$a/x/MANIFEST.sha256")" = 0 ] && echo 1 || echo 0)"'/' \
		"$a/x/MANIFEST.sha256" >"$a/badhash.manifest"
	(cd "$a/x" && cp "$a/badhash.manifest" MANIFEST.sha256.bad &&
		tar --transform 's|MANIFEST.sha256.bad|MANIFEST.sha256|' -cf "$a/badhash.tar" \
			MANIFEST.sha256.bad "${segs[@]:0:3}")
	# a member the manifest lists is missing
	(cd "$a/x" && tar -cf "$a/missing.tar" MANIFEST.sha256 "${segs[@]:0:2}")
	# no manifest at all
	(cd "$a/x" && tar -cf "$a/nomanifest.tar" "${segs[@]:0:3}")
	for x in appended badhash missing nomanifest; do
		before=$(tt_schema_count tamper)
		"$PGA_BIN" -c "$TT/pga.conf" load --schema tamper --from "$a/$x.tar" >"$a/$x.out" 2>"$a/$x.err"
		rc=$?
		echo "$x $rc $before $(tt_schema_count tamper) $a/$x.tar" >>"$TT/archives"
	done
	# the untouched archive loads, even after a kill -9 in the middle
	"$PGA_BIN" -c "$TT/pga.conf" load --schema tamper --from "$a/good.tar" >"$a/good.out" 2>"$a/good.err" &
	n=$!
	sleep "0.$((RANDOM % 3))"
	kill -9 $n 2>/dev/null && TT_KILLS[archive]=$((${TT_KILLS[archive]:-0} + 1))
	wait $n 2>/dev/null
	"$PGA_BIN" -c "$TT/pga.conf" load --schema tamper --from "$a/good.tar" --json >"$a/good.json" 2>"$a/good.err"
	echo "good $? - $(tt_schema_count tamper) $a/good.tar" >>"$TT/archives"
	tt_log "archive $a"
}

# ---- forks: decided as an operator would, keeping the genuine segment ----

tt_cq() { psql -X -q -At "$CENTRAL" -c "$1"; }

# The genuine segment of a seq (sha256 or nothing): the witness's copy, or
# (when the witness missed it) the copy in the directory that is no fake.
tt_genuine_sha() {
	local f h name
	name="$(printf '%016x' "$1")-*.pga.zst"
	f=$(find "$TT/witness/$TT_COLLECTOR" -name "$name" 2>/dev/null | head -1)
	if [ -n "$f" ]; then sha256sum <"$f" | cut -c1-64; return; fi
	find "$DIR/$TT_COLLECTOR" -name "$name" 2>/dev/null | while read -r f; do
		h=$(sha256sum <"$f" | cut -c1-64)
		grep -q "^$h " "$TT/fakes" || { echo "$h"; break; }
	done
}

# The lowest seq above $1 where a fake is loaded or held unresolved (asked
# again after each decision: one may settle others).
tt_next_fork() {
	local fk
	fk=$(awk '{ printf "%s\x27%s\x27", (NR > 1 ? "," : ""), $1 }' "$TT/fakes")
	[ -n "$fk" ] || return 0
	tt_cq "SELECT min(seq) FROM (SELECT seq FROM pga.held_segments
		WHERE collector = '$TT_COLLECTOR' AND resolved_at IS NULL AND encode(sha256, 'hex') IN ($fk)
		UNION SELECT s.seq FROM pga.segments s JOIN pga.collectors USING (collector_id)
		WHERE collector = '$TT_COLLECTOR' AND encode(s.sha256, 'hex') IN ($fk)) f
		WHERE seq > $1" 2>/dev/null
}

# Did spool-full = drop-oldest drop the genuine segment of seq $1 before
# any destination had it?  (A drop whose line says "delivered to" left a
# copy at a destination: the genuine one arrives from there.)
tt_dropped() {
	grep -qhE "dropped oldest segment '$TT_COLLECTOR/[0-9/]*/$(printf '%016x' "$1")-[^']*' \([^;)]*\) \[removal" \
		"$TT"/logs/collect.*.log 2>/dev/null
}

# Every seq where a fake is loaded or held unresolved: keep the genuine one.
# KILL=1 kills the first attempt -9 at a random moment; the second attempt,
# the same command, finishes whatever the kill cut off.
tt_resolve() {
	local kill=${1:-0} seq sha rc pid
	# never a loaded segment that breaks its chain with a loaded neighbour
	tt_cq "SELECT count(*) FROM pga.chain_breaks" >>"$TT/chain_breaks" 2>/dev/null
	tt_cq "SELECT DISTINCT h.seq FROM pga.held_segments h WHERE h.collector = '$TT_COLLECTOR'
		AND h.resolved_at IS NULL ORDER BY 1" >"$TT/held.now" 2>/dev/null || return 0
	[ -s "$TT/held.now" ] || return 0
	pga -c "$TT/pga.conf" status --central --json >"$TT/status-central.$TT_RESOLVES.json" 2>/dev/null
	echo "$? $(tr '\n' ' ' <"$TT/held.now")" >>"$TT/status-central.exits"
	TT_HELD_SEEN="$TT_HELD_SEEN $(cat "$TT/held.now")"
	seq=0
	while seq=$(tt_next_fork "$seq") && [ -n "$seq" ]; do
		sha=$(tt_genuine_sha "$seq")
		[ -n "$sha" ] || continue	# the genuine one is not sealed yet
		if tt_dropped "$seq"; then
			# spool-full = drop-oldest took the genuine one: nothing to keep,
			# the operator sets the fake aside by hand (load/SCHEMA.md)
			tt_cq "UPDATE pga.held_segments SET resolved_at = now(), resolution =
				'discarded by hand: the genuine seq was dropped by its spool'
				WHERE collector = '$TT_COLLECTOR' AND seq = $seq AND resolved_at IS NULL;
				UPDATE pga.quarantine SET resolved_at = now() WHERE collector = '$TT_COLLECTOR'
				AND seq = $seq AND resolved_at IS NULL" >/dev/null
			tt_log "seq $seq: the genuine one was dropped, the fake set aside by hand"
			continue
		fi
		# the genuine one must have arrived (loaded or held) to be kept
		[ "$(tt_cq "SELECT (SELECT count(*) FROM pga.held_segments WHERE collector = '$TT_COLLECTOR'
			AND seq = $seq AND encode(sha256, 'hex') = '$sha') + (SELECT count(*) FROM pga.segments
			JOIN pga.collectors USING (collector_id) WHERE collector = '$TT_COLLECTOR'
			AND seq = $seq AND encode(sha256, 'hex') = '$sha')")" -gt 0 ] || continue
		TT_RESOLVES=$((TT_RESOLVES + 1))
		if [ "$kill" = 1 ]; then
			"$PGA_BIN" -c "$TT/pga.conf" load --resolve-fork "$TT_COLLECTOR:$seq" --keep "$sha" \
				>>"$TT/resolve.log" 2>&1 &
			pid=$!
			sleep "0.$((RANDOM % 5))"
			kill -9 $pid 2>/dev/null && TT_KILLS[resolve]=$((${TT_KILLS[resolve]:-0} + 1))
			wait $pid 2>/dev/null
			# each step commits on its own: the same command again
			# finishes what the kill cut off (load/fork.c)
		fi
		"$PGA_BIN" -c "$TT/pga.conf" load --resolve-fork "$TT_COLLECTOR:$seq" --keep "$sha" \
			>>"$TT/resolve.log" 2>&1
		rc=$?
		echo "resolve $seq exit $rc" >>"$TT/exits"
		tt_log "resolved seq $seq keeping ${sha:0:12}: exit $rc"
	done
}

# ---- the loop ----

# Fractions of the run (per mille) where events start; phases last a
# tenth of the run each.
tt_events() {
	local i=$1 n=$2 pm=$(( $1 * 1000 / $2 )) prev=$(( ($1 - 1) * 1000 / $2 ))
	at() { [ "$prev" -lt "$1" ] && [ "$pm" -ge "$1" ]; }
	at 100 && tt_phase quota-block
	at 200 && tt_phase normal
	at 300 && tt_phase quota-drop
	at 400 && tt_phase normal
	if [ "$TT_TMPFS" = 1 ]; then
		at 600 && tt_phase disk
		at 700 && tt_phase normal
	fi
	# forged seqs are forged away from the drop phases: a forgery that
	# takes the place of a segment drop-oldest dropped, with both of its
	# neighbours dropped too, contradicts nothing the loader can see (no
	# tombstone says what was dropped): it loads (a known limit, see the
	# oracle's "no forged or cloned segment in the ledger")
	at 50 && tt_legacy 1
	at 650 && tt_legacy 2
	at 450 && tt_forge
	at 500 && tt_clone
	at 750 && tt_forge
	if [ "$n" -ge 200 ]; then	# the long run: more of each
		at 550 && tt_clone
		at 850 && tt_phase quota-drop
		at 900 && tt_phase normal
		if [ $((i % 37)) = 0 ] && { { [ "$pm" -ge 400 ] && [ "$pm" -lt 590 ]; } ||
			{ [ "$pm" -ge 700 ] && [ "$pm" -lt 820 ]; } || [ "$pm" -ge 900 ]; }; then
			tt_forge
		fi
		[ $((i % 50)) = 25 ] && tt_archive
	else
		at 550 && tt_archive
	fi
	[ $((i % 3)) = 0 ] && tt_encoding
	if [ $((i % 10)) = 0 ]; then tt_resolve $((i % 20 == 0)); fi
	return 0
}

# Until KILLS kill -9 have landed on a running collect, ship or load (a
# load that ended by itself before its kill does not count).
tt_run() {
	local kills=$1 i=0 landed=0 ev=0 victim roles t0
	t0=$(date +%s)
	while [ "$landed" -lt "$kills" ]; do
		i=$((i + 1))
		[ "$i" = 1 ] || [ "$landed" -gt "$ev" ] && tt_events "$((landed + 1))" "$kills"
		ev=$landed
		tt_ensure
		read -ra roles <<<"$(tt_wanted)"
		victim=${roles[RANDOM % ${#roles[@]}]}
		sleep "$((RANDOM % 2)).$(printf '%02d' $((RANDOM % 100)))"
		tt_running "$victim" || { tt_reap "$victim"; tt_start "$victim"; sleep 0.$((RANDOM % 5 + 1)); }
		if tt_kill "$victim"; then
			landed=$((landed + 1))
			[ $((landed % 100)) = 0 ] && diag "$landed kills in $(($(date +%s) - t0)) s"
		else
			TT_KILLS[missed]=$((${TT_KILLS[missed]:-0} + 1))
		fi
	done
	TT_LANDED=$landed
	TT_RUN_SECONDS=$(($(date +%s) - t0))
}

# ---- the end: everything drained cleanly ----

tt_drain() {
	local want r
	[ "$TT_PHASE" = normal ] || tt_phase normal
	tt_ensure
	# the genuine collector must pass every seq a fake took
	want=$(sort -n "$TT/forged-seqs" 2>/dev/null | tail -1)
	for _ in $(seq 1 120); do
		[ "$(tt_chain_seq)" -gt "${want:-0}" ] && break
		tt_ensure
		sleep 1
	done
	# two whole cycles more: the last csvlog lines and tables are in
	local log=$TT/logs/collect.${TT_RUNS[collect]}.log c0
	c0=$(grep -c 'info: cycle [0-9]*:' "$log")
	for _ in $(seq 1 60); do
		[ "$(grep -c 'info: cycle [0-9]*:' "$log")" -ge $((c0 + 2)) ] && break
		sleep 0.5
	done
	kill -TERM "${TT_PID[collect]}"
	wait "${TT_PID[collect]}"
	echo "collect ${TT_RUNS[collect]} exit $? (SIGTERM at the end)" >>"$TT/exits"
	TT_PID[collect]=
	for r in ship load; do tt_running $r && tt_kill $r; done
	python3 "$TESTS_DIR/lib/torture_witness.py" "$SP" "$TT/witness" -	# the last ones, surely
	run_ok "the end: one clean ship drains the spool" \
		"$PGA_BIN" -c "$TT/pga.conf" ship
	cp "$ERR" "$TT/logs/ship.final.log"
	for r in "$DIR" dest:s3; do
		"$PGA_BIN" -c "$TT/pga.conf" load --from "$r" --json >"$TT/loads/final.json" 2>"$TT/logs/load.final.log"
		echo "load final $r exit $?" >>"$TT/exits"
	done
	tt_resolve 0
	tt_resolve 0
	"$PGA_BIN" -c "$TT/pga.conf" load --from "$DIR" --json >"$TT/loads/again.json" 2>"$TT/logs/load.again.log"
	TT_AGAIN_RC=$?
	touch "$TT/witness.stop"
	wait "$TT_WITNESS"
}

tt_judge() {
	local ev=$TT/evidence
	mkdir -p "$ev/s3"
	awss3 s3 cp --recursive --quiet s3://pga/t/ "$ev/s3/"
	python3 "$TESTS_DIR/lib/torture_witness.py" --fill "$TT/witness" "$TT_COLLECTOR" "$DIR" "$ev/s3" \
		>"$ev/filled"
	[ -s "$ev/filled" ] && diag "the witness missed $(wc -l <"$ev/filled") segments (shipped between two looks), taken from a destination by their hash"
	pga -c "$TT/pga.conf" spool ls --json >"$ev/spool.json" 2>&1
	cp "$SP/counters" "$ev/counters"
	find "$SP/ready" "$SP/tmp" "$SP/ship" -type f >"$ev/spool.files" 2>/dev/null
	find "$SP/quarantine" -type f ! -name '*.why' >"$ev/quarantine.files" 2>/dev/null
	helper seg-summary "$TT/witness" >"$ev/witness.tsv" 2>"$ev/witness.err"
	helper seg-rows "$TT/witness" snapshot_status >"$ev/witness.status" 2>>"$ev/witness.err"
	helper seg-blocks "$TT/witness" >"$ev/witness.blocks" 2>>"$ev/witness.err"
	helper seg-summary "$DIR" >"$ev/dir.tsv" 2>"$ev/dir.err"
	find "$DIR" -type f ! -name '*.pga.zst' >"$ev/dir.other"
	helper seg-summary "$ev/s3" >"$ev/s3.tsv" 2>"$ev/s3.err"
	tt_cq "COPY (SELECT seq, encode(sha256, 'hex'), blocks, total_rows, rows, blocks_refused, rows_refused,
		recovered FROM pga.segments JOIN pga.collectors USING (collector_id)
		WHERE collector = '$TT_COLLECTOR') TO STDOUT" >"$ev/ledger.tsv"
	tt_cq "COPY (SELECT collector, seq, encode(sha256, 'hex'), reason, resolved_at IS NOT NULL,
		coalesce(resolution, '') FROM pga.held_segments) TO STDOUT" >"$ev/held.tsv"
	tt_cq "COPY (SELECT name, kind, coalesce(collector, ''), coalesce(seq, -1), coalesce(encode(sha256, 'hex'), ''),
		coalesce(block, -1), coalesce(sqlstate, ''), resolved_at IS NOT NULL FROM pga.quarantine) TO STDOUT" \
		>"$ev/quarantine.tsv"
	tt_cq "COPY (SELECT from_seq, to_seq FROM pga.gaps WHERE collector = '$TT_COLLECTOR') TO STDOUT" >"$ev/gaps.tsv"
	cp "$TT/legacy.bad" "$ev/legacy.bad"
	tt_cq "COPY (SELECT seq, blocks, total_rows, rows, blocks_refused, rows_refused FROM pga.segments
		JOIN pga.collectors USING (collector_id) WHERE collector = 'legacy') TO STDOUT" >"$ev/legacy.ledger"
	tt_cq "SELECT count(*) || ' ' || count(DISTINCT id) FROM pga.legacy_test" >"$ev/legacy.rows" 2>&1
	tt_cq "COPY (SELECT s.status, count(*), sum(s.values_escaped) FROM pga.snapshot_status s
		JOIN pga.collectors USING (collector_id) WHERE collector = '$TT_COLLECTOR' GROUP BY 1) TO STDOUT" \
		>"$ev/central.status"
	# rows of every metric table for the collector: nothing twice
	tt_cq "SELECT metric FROM pga.metrics" | while read -r m; do
		echo "$m $(tt_cq "SELECT count(*) FROM pga.\"$m\" t JOIN pga.collectors c USING (collector_id)
			WHERE c.collector = '$TT_COLLECTOR'")"
	done >"$ev/central.rows"
	# (LIKE ... ESCAPE '!': the backslashes of \xNN are literal)
	tt_cq "SELECT user_name FROM pga.postgres_log WHERE user_name LIKE 'bad\\xff\\xfeuser%' ESCAPE '!'" \
		>"$ev/badlogins" 2>&1
	helper seg-rows "$TT/witness" postgres_log 2>/dev/null | grep -a 'bad\\xff\\xfeuser' >"$ev/witness.badlogins"
	tt_cq "SELECT count(DISTINCT relname) FROM pga.pg_stat_user_tables WHERE dbname = 'sa'
		AND relname LIKE '%\\x%' ESCAPE '!'" >"$ev/badtables" 2>&1
	pga -c "$TT/pga.conf" status --central --json >"$ev/status-central.json" 2>&1
	echo $? >"$ev/status-central.rc"
	pga -c "$TT/pga.conf" status --central >"$ev/status-central.txt" 2>&1
	cat "$TT"/logs/collect.*.log >"$ev/collect.log" 2>/dev/null
	cat "$TT"/logs/load.*.log >"$ev/load.log" 2>/dev/null
	tt_cq "SELECT count(*) FROM pga.chain_breaks" >>"$TT/chain_breaks"
	cp "$TT/exits" "$TT/fakes" "$TT/chain_breaks" "$ev/" 2>/dev/null
	cp "$TT/archives" "$ev/" 2>/dev/null || : >"$ev/archives"
	cat >"$ev/facts" <<FACTS
bad_logins $TT_BAD_LOGINS
bad_tables $TT_BAD_TABLES
again_rc $TT_AGAIN_RC
tmpfs $TT_TMPFS
block_phases $TT_BLOCK_PHASES
drop_phases $TT_DROP_PHASES
FACTS
	python3 "$TESTS_DIR/lib/torture_oracle.py" "$ev" "$TT/loads" "$TT_COLLECTOR" >"$ev/verdict" \
		2>"$ev/oracle.err"
	ok $? "the oracle ran to its end" || diag "$(tail -5 "$ev/oracle.err")"
	[ "$(grep -c . "$ev/verdict")" -ge 60 ]
	ok $? "the oracle judged every check ($(grep -c . "$ev/verdict"))"
	local name status detail
	while IFS=$'\t' read -r status name detail; do
		if [ "$status" = ok ]; then ok 0 "$name"; else ok 1 "$name"; diag "$detail"; fi
		[ -n "$detail" ] && [ "$status" = ok ] && [ "${PGA_TORTURE_VERBOSE:-0}" = 1 ] && diag "$detail"
	done <"$ev/verdict"
}
