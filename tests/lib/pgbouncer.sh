# pgbouncer.sh - a pgbouncer in front of a test PostgreSQL (source after pg.sh).
#
#   pgbouncer_available               Debian's /usr/sbin/pgbouncer is installed
#   pgbouncer_start PGNAME [KEY=VALUE...]
#       starts pgbouncer on a free port of 127.0.0.1 in front of server
#       PGNAME (every database, trust auth), pool_mode = transaction and the
#       [pgbouncer] settings given; as the postgres user when root (pgbouncer
#       refuses root); sets PGB_PORT and PGB_DIR; stopped at exit
#   pgbouncer_conninfo [DB]           a conninfo through it
PGB_BIN=${PGA_PGBOUNCER:-/usr/sbin/pgbouncer}

pgbouncer_available() { [ -x "$PGB_BIN" ]; }

_pgb_try() {
	local port=$3
	sed -i "s/^listen_port = .*/listen_port = $port/" "$PGB_DIR/pgbouncer.ini"
	as_pg_user "$PGB_BIN" -d "$PGB_DIR/pgbouncer.ini" >>"$PGB_DIR/start.log" 2>&1 || return 1
	for _ in $(seq 1 50); do
		if psql -X -At -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "SELECT 1" >/dev/null 2>&1; then
			PGB_PORT=$port
			return 0
		fi
		sleep 0.1
	done
	[ -f "$PGB_DIR/pgbouncer.pid" ] && kill "$(cat "$PGB_DIR/pgbouncer.pid")" 2>/dev/null
	return 1
}

pgbouncer_start() {
	local pg=$1 kv
	shift
	PGB_DIR=$TEST_TMP/pgbouncer
	mkdir -p "$PGB_DIR"
	{
		echo "[databases]"
		echo "* = host=$(_pg_var SOCK "$pg") port=$(_pg_var PORT "$pg")"
		echo "[pgbouncer]"
		echo "listen_addr = 127.0.0.1"
		echo "listen_port = 0"
		echo "unix_socket_dir ="
		echo "auth_type = trust"
		echo "auth_file = $PGB_DIR/users.txt"
		echo "pool_mode = transaction"
		echo "logfile = $PGB_DIR/pgbouncer.log"
		echo "pidfile = $PGB_DIR/pgbouncer.pid"
		echo "max_client_conn = 200"
		for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
	} >"$PGB_DIR/pgbouncer.ini"
	echo '"postgres" ""' >"$PGB_DIR/users.txt"
	if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$PGB_DIR"; fi
	on_free_port _pgb_try "$pg" x || { echo "Bail out! pgbouncer did not start: $(tail -3 "$PGB_DIR/pgbouncer.log" "$PGB_DIR/start.log" 2>/dev/null)"; exit 1; }
	at_exit "kill \$(cat '$PGB_DIR/pgbouncer.pid')"
}

pgbouncer_conninfo() { echo "host=127.0.0.1 port=$PGB_PORT user=postgres dbname=${1:-postgres}"; }
