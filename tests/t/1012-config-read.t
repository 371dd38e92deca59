#!/usr/bin/env bash
# Reading pga.conf: long lines are whole (a 215-byte TLS conninfo, a 64 KiB
# one, both used for real against PostgreSQL), a line beyond the cap fails
# naming file and line; a directory, an unreadable file, NUL bytes anywhere
# and malformed lines are refused in one line naming the file (and line);
# what libinih accepted and pga relies on still works (CRLF, a BOM,
# comments, /dev/null and a shell's <(...)).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start cr
SP=$TEST_TMP/spool
C=$TEST_TMP/c.conf
one_line() { is "$(grep -c . "$ERR")" 1 "  in one line"; }
head_conf() { printf '[global]\nspool-path = %s\ncollector = cr\n' "$SP"; }
# refused CONF-TEXT-FILE REGEX DESC: pga refuses it with exit 1 and one line
refused() {
	run_fails 1 "$3" pga -c "$1" collect
	like "$(last_err)" "error: ([^ ]*/)?$2" "  says: $2"
	one_line
}

# ---- long lines are read whole, and the conninfo works ----
tls="host=127.0.0.1 port=$(_pg_var PORT cr) dbname=postgres user=postgres sslmode=prefer"
tls+=" sslrootcert=/etc/pga/tls/root-ca.crt sslcert=/etc/pga/tls/pga-collector.crt"
tls+=" sslkey=/etc/pga/tls/pga-collector.key connect_timeout=10 application_name=pga_collector"
{ head_conf; printf '[target:tls]\nconninfo = %s\n' "$tls"; } >"$C"
[ ${#tls} -ge 215 ]; ok $? "an ordinary TLS conninfo of ${#tls} bytes"
run_ok "collect with it" pga -c "$C" collect
like "$(last_err)" "targets 1 ok, 0 failed" "the target was collected (no key was cut off)"

long="$(pg_conninfo cr) sslrootcert=/$(head -c 65536 /dev/zero | tr '\0' 'r')"
{ head_conf; printf '[target:long]\nconninfo = %s\n' "$long"; } >"$C"
run_ok "a 64 KiB conninfo line" pga -c "$C" collect
like "$(last_err)" "targets 1 ok, 0 failed" "is read whole and connects"
{ head_conf; printf '[target:long]\n# %s\nconninfo = %s\n' "$(head -c 200000 /dev/zero | tr '\0' '#')" "$(pg_conninfo cr)"; } >"$C"
run_ok "a 200 KB comment line" pga -c "$C" collect

{ head_conf; printf '[target:huge]\nconninfo = host=/tmp sslrootcert=/%s\n' "$(head -c 1048576 /dev/zero | tr '\0' 'h')"; } >"$C"
refused "$C" "c.conf:5: line longer than 1048576 bytes" "a line beyond 1 MiB"
{ head_conf; head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' '\n'; } >"$C"
refused "$C" "c.conf:[0-9]+: input longer than 16 MiB" "a file beyond 16 MiB"

# ---- not a text file ----
mkdir -p "$TEST_TMP/confdir"
refused "$TEST_TMP/confdir" "config file '$TEST_TMP/confdir' is a directory" "-c DIR"
ln -s "$TEST_TMP/confdir" "$TEST_TMP/link.conf"
refused "$TEST_TMP/link.conf" "config file '$TEST_TMP/link.conf' is a directory" "a symlink to a directory"
PGA_CONFIG=$TEST_TMP/confdir run_fails 1 "PGA_CONFIG naming a directory" "$PGA_BIN" collect
like "$(last_err)" "is a directory" "  says so"
head -c 4096 /dev/zero >"$TEST_TMP/zero.conf"
refused "$TEST_TMP/zero.conf" "zero.conf:1: NUL byte in the file" "a file of NUL bytes"
{ head_conf; printf 'workers = 1\0junk\n'; } >"$C"
refused "$C" "c.conf:4: NUL byte in the file" "key = 1\\0junk"
{ head_conf; printf '# a comment \0 with a NUL\n'; } >"$C"
refused "$C" "c.conf:4: NUL byte" "a NUL in a comment"
{ printf '[glo\0bal]\n'; } >"$C"
refused "$C" "c.conf:1: NUL byte" "a NUL in a section header"
{ head_conf; printf 'workers = 2\n\0'; } >"$C"
refused "$C" "c.conf:5: NUL byte" "a NUL after the last newline"
{ head_conf; printf 'workers = 2'; head -c 70000 /dev/zero; } >"$C"
refused "$C" "c.conf:4: NUL byte" "NUL bytes past a read buffer"

head_conf >"$C"
chmod 600 "$C"
if [ "$(id -u)" -eq 0 ]; then
	run_fails 1 "a file the user cannot read" runuser -u nobody -- "$PGA_BIN" -c "$C" collect
else
	chmod 000 "$C"
	run_fails 1 "a file the user cannot read" "$PGA_BIN" -c "$C" collect
	chmod 600 "$C"
fi
like "$(last_err)" "could not open config file '$C': Permission denied" "  says so, naming the file"
one_line

# ---- malformed lines ----
bad() {	# LINE REGEX DESC
	{ head_conf; printf '%s\n' "$1"; } >"$C"
	refused "$C" "c.conf:4: $2" "$3"
}
bad "[global" "unterminated section header" "an unterminated section"
bad "[global] junk" "syntax error: text after the section header's" "text after a section header"
bad "workers 2" "syntax error: expected 'key = value'" "a line without '='"
bad "= 2" "syntax error: no key before '='" "a line without a key"
bad "[nosuch]" "unknown section \\[nosuch\\]" "an unknown section"
bad "[target:bad/name]" "invalid target name 'bad/name'" "an invalid target name"
bad "colector = x" "unknown key 'colector' in \\[global\\]" "an unknown key (the old message)"
bad "collector = y" "duplicate key 'collector'" "a duplicate key"
bad "workers = many" "key 'workers': 'workers' must be an integer from 0 to 256, not 'many'" "a bad value"
printf 'workers = 2\n' >"$C"
refused "$C" "c.conf:1: key 'workers' before any section" "a key before any section"

# ---- what keeps working ----
{ head_conf; printf '[target:a]\r\nconninfo = %s\r\n' "$(pg_conninfo cr)"; } >"$C"
run_ok "CRLF line ends" pga -c "$C" collect
{ printf '\xef\xbb\xbf'; head_conf; printf '  ; indented comment\n\t# tab comment\n[target:a] # note\nconninfo = %s\n' "$(pg_conninfo cr)"; } >"$C"
run_ok "a BOM, indented comments, a comment after a section header" pga -c "$C" collect
like "$(last_err)" "targets 1 ok" "  and the target is there"
{ head_conf; printf '[dest:x]\nurl = file:///tmp/a;b#c\n'; } >"$C"
run_ok "';' and '#' inside a value are the value's" helper config-get "$C"
like "$(last_out)" "dest.x.url=file:///tmp/a;b#c" "  the whole of it"
run_ok "/dev/null is an empty configuration" helper config-get /dev/null spool-path
is "$(last_out)" "spool-path=/var/spool/pga" "  the defaults"
run_ok "pga reads it too" pga -c /dev/null status --spool "$SP"
run_ok "a configuration from a pipe" pga -c <(head_conf; printf '[target:a]\nconninfo = %s\n' "$(pg_conninfo cr)") collect
like "$(last_err)" "targets 1 ok" "  is read"
done_testing
