# maint.sh - maintenance commands and sessions caught in progress, so that
# the progress views, activity_top and blocking_chains have rows to show.
# Source after pg.sh.
#
#   maint_start NAME DB VERSION
#       on cluster NAME, database DB: a VACUUM and an ANALYZE slowed by the
#       cost delay, a CREATE INDEX and a CLUSTER (of a temporary table:
#       nobody else waits for its lock) slowed by an expression that sleeps,
#       a COPY (14+) of rows that sleep, a base backup at 32 kB/s (13+), and
#       maint_chain.  Every session is application_name 'pga-maint'.
#   maint_chain NAME DB
#       only a chain of lock waits: A holds a row lock (idle in
#       transaction, with an xid), B waits for A, C waits for B.
#   maint_wait NAME DB VERSION
#       until every progress view VERSION has shows its command, and the
#       chain is complete (at most 30 s); fails otherwise.
#   maint_stop NAME
#       terminate them all and wait for their clients.
# None of it takes a lock that conflicts with what a cycle reads (the
# ACCESS EXCLUSIVE of CLUSTER is on a temporary table).

maint_sql() { PGAPPNAME=pga-maint pg_psql "$@"; }

maint_start() {
	local name=$1 db=$2 v=$3
	local -a pids=()
	maint_sql "$name" "$db" >/dev/null <<'SQL'
CREATE FUNCTION pga_slow(int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('pga.slow', true) = 'on' THEN PERFORM pg_sleep(0.2); END IF;
	RETURN $1;
END $$;
CREATE TABLE m_vac (a int, b text);
INSERT INTO m_vac SELECT g, repeat('v', 100) FROM generate_series(1, 20000) g;
CREATE TABLE m_ana (a int, b text);
INSERT INTO m_ana SELECT g, repeat('a', 100) FROM generate_series(1, 20000) g;
CREATE TABLE m_idx (a int);
INSERT INTO m_idx SELECT generate_series(1, 300);
SQL
	maint_sql "$name" "$db" -c "SET vacuum_cost_delay = 100" -c "SET vacuum_cost_limit = 1" \
		-c "VACUUM m_vac" >/dev/null 2>&1 &
	pids+=($!)
	if [ "$v" -ge 13 ]; then
		maint_sql "$name" "$db" -c "SET vacuum_cost_delay = 100" \
			-c "SET vacuum_cost_limit = 1" -c "ANALYZE m_ana" >/dev/null 2>&1 &
		pids+=($!)
	fi
	maint_sql "$name" "$db" -c "SET pga.slow = on" \
		-c "CREATE INDEX m_idx_slow ON m_idx (pga_slow(a))" >/dev/null 2>&1 &
	pids+=($!)
	maint_sql "$name" "$db" -c "CREATE TEMP TABLE m_clu AS SELECT generate_series(1, 300) AS a" \
		-c "CREATE INDEX m_clu_i ON m_clu (pga_slow(a))" -c "SET pga.slow = on" \
		-c "CLUSTER m_clu USING m_clu_i" >/dev/null 2>&1 &
	pids+=($!)
	if [ "$v" -ge 14 ]; then
		maint_sql "$name" "$db" -c "SET pga.slow = on" \
			-c "COPY (SELECT pga_slow(g) FROM generate_series(1, 300) g) TO STDOUT" \
			>/dev/null 2>&1 &
		pids+=($!)
	fi
	if [ "$v" -ge 13 ]; then
		local bb="BASE_BACKUP (MAX_RATE 32)"
		[ "$v" -lt 15 ] && bb="BASE_BACKUP MAX_RATE 32"
		PGAPPNAME=pga-maint psql -X -q "$(pg_conninfo "$name") replication=true" -c "$bb" \
			>/dev/null 2>&1 &
		pids+=($!)
	fi
	printf -v "MAINT_PIDS_$name" %s "${pids[*]}"
	maint_chain "$name" "$db"
}

maint_chain() {
	local name=$1 db=$2 fifo=$TEST_TMP/maint-$1.fifo
	local -a pids=($(eval echo "\${MAINT_PIDS_$name:-}"))
	maint_sql "$name" "$db" -c "CREATE TABLE IF NOT EXISTS m_chain (a int PRIMARY KEY, b text)" \
		-c "INSERT INTO m_chain VALUES (1, 'x') ON CONFLICT DO NOTHING" >/dev/null
	# the chain: A holds the row (idle in transaction, with an xid), B
	# waits for A's transaction, C for the tuple lock B holds meanwhile
	# (a holder process keeps the fifo open: other background clients
	# would inherit a descriptor of ours, and psql would never see EOF)
	rm -f "$fifo"
	mkfifo "$fifo"
	maint_sql "$name" "$db" <"$fifo" >/dev/null 2>&1 &
	pids+=($!)
	(exec 3>"$fifo"; echo "BEGIN; SELECT * FROM m_chain WHERE a = 1 FOR UPDATE;" >&3
	 exec sleep 600) >/dev/null 2>&1 &
	printf -v "MAINT_HOLDER_$name" %s "$!"
	at_exit "kill $!"
	maint_wait_for "$name" "$db" "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'pga-maint' AND state = 'idle in transaction'" 1 || return 1
	maint_sql "$name" "$db" -c "UPDATE m_chain SET b = 'b' WHERE a = 1" >/dev/null 2>&1 &
	pids+=($!)
	maint_wait_for "$name" "$db" "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'pga-maint' AND wait_event_type = 'Lock'" 1 || return 1
	maint_sql "$name" "$db" -c "UPDATE m_chain SET b = 'c' WHERE a = 1" >/dev/null 2>&1 &
	pids+=($!)
	printf -v "MAINT_PIDS_$name" %s "${pids[*]}"
}

# maint_wait_for NAME DB QUERY WANT: until QUERY gives WANT (30 s).
maint_wait_for() {
	local i
	for i in $(seq 300); do
		[ "$(pg_psql "$1" "$2" -At -c "$3" 2>/dev/null)" = "$4" ] && return 0
		sleep 0.1
	done
	diag "maint: still not '$4' after 30 s: $3"
	return 1
}

maint_wait() {
	local name=$1 db=$2 v=$3 views="vacuum create_index cluster" q="SELECT concat("
	[ "$v" -ge 13 ] && views="$views analyze basebackup"
	[ "$v" -ge 14 ] && views="$views copy"
	for p in $views; do q="$q(SELECT count(*) > 0 FROM pg_stat_progress_$p)::int,"; done
	q="$q(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pga-maint'
		AND wait_event_type = 'Lock' AND cardinality(pg_blocking_pids(pid)) > 0))"
	maint_wait_for "$name" "$db" "$q" "$(for _ in $views; do printf 1; done)2"
}

maint_stop() {
	local name=$1 holder pids
	holder=$(eval echo "\${MAINT_HOLDER_$name:-}")
	pids=$(eval echo "\${MAINT_PIDS_$name:-}")
	pg_psql "$name" postgres -At -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'pga-maint'" >/dev/null 2>&1
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	[ -n "$pids" ] && wait $holder $pids 2>/dev/null
	return 0
}
