#!/usr/bin/env bash
# pga.conf as a PostgreSQL DBA writes it: quoted values, units and bare
# numbers as postgresql.conf takes them, include / include-if-exists /
# include-dir (conf.d), every [target:]/[dest:] key from the environment,
# and typo help for commands and options.
. "$(dirname "$0")/../lib/tap.sh"

T=$TEST_TMP
# what config-get resolves, without the dest.NAME.url lines it adds
get() { helper config-get "$@" 2>&1 | grep -v '^dest\.[^ ]*\.url=[^@]*$'; }

# ---- quotes ----
cat >"$T/q.conf" <<'EOF'
[global]
spool-path = "/var/spool/pga x"
collector = 'site-1'   # a comment after the quote
log-level = "debug"
central = 'host=db dbname=''c'' application_name=pga'
[dest:a]
url = "file:///tmp/with;semicolon#hash"
EOF
is "$(get "$T/q.conf" spool-path)" "spool-path=/var/spool/pga x" "a double-quoted value loses its quotes"
is "$(get "$T/q.conf" collector)" "collector=site-1" "a single-quoted value too, comment after it"
is "$(get "$T/q.conf" log-level)" "log-level=debug" "a quoted choice is the choice"
is "$(get "$T/q.conf" central | head -1)" "central=host=db dbname='c' application_name=pga" \
	"a doubled quote inside is one quote"
like "$(helper config-get "$T/q.conf")" "dest.a.url=file:///tmp/with;semicolon#hash" "';' and '#' inside quotes stay"
printf '[global]\ncollector = "open\n' >"$T/q2.conf"
run_fails 1 "an unterminated quote" pga -c "$T/q2.conf" status
like "$(last_err)" "q2.conf:2: unterminated quoted value" "  names file and line"
printf "[global]\ncollector = 'a' b\n" >"$T/q3.conf"
run_fails 1 "text after the closing quote" pga -c "$T/q3.conf" status
like "$(last_err)" "q3.conf:2: syntax error: text after the closing quote" "  names file and line"

# ---- units and bare numbers, as postgresql.conf ----
unit_case() {	# KEY VALUE WANT: what config-get prints
	printf '[global]\n%s = %s\n' "$1" "$2" >"$T/u.conf"
	is "$(get "$T/u.conf" "$1")" "$1=$3" "$1 = $2"
}
unit_case statement-timeout 10000 10000000us	# milliseconds, as PostgreSQL's
unit_case lock-timeout 500 500000us
unit_case statement-timeout "10s" 10000000us
unit_case statement-timeout "'2 min'" 120000000us
unit_case connect-timeout 7 7000000us		# seconds, as libpq's connect_timeout
unit_case interval "1.5 min" 90000000us
unit_case interval "90 s" 90000000us
unit_case spool-max "512 MB" 536870912
unit_case spool-max 64kB 65536
unit_case spool-max 1048576 1048576		# bytes
unit_case segment-max-size 2MB 2097152
printf '[global]\nstatement-timeout = 10 parsecs\n' >"$T/u.conf"
run_fails 1 "an unknown unit" pga -c "$T/u.conf" status
like "$(last_err)" "u.conf:2: key 'statement-timeout': invalid duration '10 parsecs' \(use us, ms, s, min, h, d or w.*a bare number is milliseconds\)" \
	"  names file, line, key and the units"
printf '[global]\nspool-max = 10 XB\n' >"$T/u.conf"
run_fails 1 "an unknown size unit" pga -c "$T/u.conf" status
like "$(last_err)" "invalid size '10 XB' \(use kB, MB, GB or TB" "  names the units"
like "$(pga help config)" "statement-timeout.*bare number is milliseconds" \
	"pga help config says which keys take milliseconds"

# ---- include, include-if-exists, include-dir ----
mkdir -p "$T/etc/conf.d" "$T/etc/sub"
cat >"$T/etc/pga.conf" <<'EOF'
[global]
collector = main
interval = 60s
include = sub/spool.conf
include-if-exists = sub/absent.conf
include-dir = conf.d
[dest:central]
timeout = 30s
EOF
printf 'spool-path = /srv/pga\n' >"$T/etc/sub/spool.conf"
printf '[global]\ninterval = 20s\n' >"$T/etc/conf.d/10-interval.conf"
printf '[global]\ninterval = 30s\n[dest:central]\nurl = file:///srv/out\n' >"$T/etc/conf.d/20-dest.conf"
printf '[global]\ninterval = 99s\n' >"$T/etc/conf.d/.hidden.conf"
printf '[global]\ninterval = 98s\n' >"$T/etc/conf.d/30-not-conf.conf.bak"
is "$(get "$T/etc/pga.conf" spool-path)" "spool-path=/srv/pga" \
	"include: relative to the including file, in the section it stands in"
is "$(get "$T/etc/pga.conf" interval)" "interval=30000000us" \
	"include-dir: *.conf in name order, the later wins, hidden and other names skipped"
is "$(get "$T/etc/pga.conf" dest.central.url dest.central.timeout | head -2 | tr '\n' ' ')" \
	"dest.central.url=file:///srv/out @$T/etc/conf.d/20-dest.conf:4 dest.central.timeout=30000000us @$T/etc/pga.conf:8 " \
	"a section declared in conf.d continues in the file after it, and each key says where it was set"
# errors inside an included file name it and its line, after the include's
printf '[global]\nbogus-key = 1\n' >"$T/etc/conf.d/15-broken.conf"
run_fails 1 "a broken included file" pga -c "$T/etc/pga.conf" status
like "$(last_err)" "pga.conf:6: $T/etc/conf.d/15-broken.conf:2: unknown key 'bogus-key'" \
	"  is named with its line, after the include's own"
rm "$T/etc/conf.d/15-broken.conf"
printf '[global]\nwokers = 2\n' >"$T/etc/sub/typo.conf"
printf '[global]\ninclude = sub/typo.conf\n' >"$T/etc/t.conf"
run_fails 1 "an include of a file with a bad key" pga -c "$T/etc/t.conf" status
like "$(last_err)" "t.conf:2: .*sub/typo.conf:2: unknown key 'wokers'" "  names both"
printf '[global]\ninclude = sub/missing.conf\n' >"$T/etc/m.conf"
run_fails 1 "include of a missing file" pga -c "$T/etc/m.conf" status
like "$(last_err)" "m.conf:2: .*missing.conf" "  names it"
printf '[global]\ninclude-dir = nodir\n' >"$T/etc/d.conf"
run_fails 1 "include-dir of a missing directory" pga -c "$T/etc/d.conf" status
like "$(last_err)" "could not open directory '$T/etc/nodir'" "  names it"
printf '[global]\ninclude = self.conf\n' >"$T/etc/self.conf"
run_fails 1 "a file that includes itself" pga -c "$T/etc/self.conf" status
like "$(last_err)" "nested more than 10 deep" "  stops at the depth limit"
printf '[global]\ninterval = 5s\ninterval = 6s\n' >"$T/etc/dup.conf"
run_fails 1 "a key twice in one file" pga -c "$T/etc/dup.conf" status
like "$(last_err)" "dup.conf:3: duplicate key 'interval' \(first at line 2\)" "  is still an error"
printf '[dest:x]\nurl = file:///a\n[dest:x]\n' >"$T/etc/dups.conf"
run_fails 1 "a section twice in one file" pga -c "$T/etc/dups.conf" status
like "$(last_err)" "dups.conf:3: duplicate section \[dest:x\]" "  is still an error"
# a secret in an included file: that file must be private, whatever the top one is
printf '[dest:s3]\nurl = s3://b/p\nsecret-access-key = hunter2\naccess-key-id = AK\n' \
	>"$T/etc/sub/secret.conf"
chmod 644 "$T/etc/sub/secret.conf"
printf '[global]\ncollector = x\ninclude = sub/secret.conf\n' >"$T/etc/s.conf"
chmod 600 "$T/etc/s.conf"
run_fails 1 "a world-readable included file with a secret" pga -c "$T/etc/s.conf" status
like "$(last_err)" "sub/secret.conf:3: 'secret-access-key' holds a secret" "  is refused, named"
[[ "$(last_err)" != *hunter2* ]]; ok $? "  without echoing the secret"
chmod 600 "$T/etc/sub/secret.conf"
chmod 644 "$T/etc/s.conf"
run_ok "private included secret, readable top file" helper config-get "$T/etc/s.conf" collector

# ---- every [target:] and [dest:] key from the environment ----
helper opt-table >"$T/table"
printf '[target:db-1]\nconninfo = host=x\n[dest:central.2]\nurl = file:///a\n' >"$T/e.conf"
value_for() {	# TYPE NAME: a value and how config-get prints it
	case $2 in create-only) echo "if-none-match if-none-match"; return ;;
	credential-source) echo "static static"; return ;; esac
	case $1 in string) echo "v1 v1" ;; size) echo "2M 2097152" ;; duration) echo "7s 7000000us" ;;
	int) echo "" ;; bool) echo "off off" ;; list) echo "a,b a,b" ;;
	enum) echo "" ;; esac
}
bad=0 n=0
while IFS=$'\t' read -r name scope type _; do
	case $scope in target) sec=target.db-1 env=PGA_TARGET_DB_1 ;; dest) sec=dest.central.2 env=PGA_DEST_CENTRAL_2 ;;
	*) continue ;; esac
	read -r v want <<<"$(value_for "$type" "$name")"
	# an integer: its default, which is within its bounds; the source says who set it
	[ "$type" = int ] && { v=$(get "$T/e.conf" "$sec.$name" | sed 's/.*=\(.*\) @.*/\1/'); want=$v; }
	[ -n "$v" ] || { diag "no test value for $name ($type)"; bad=1; continue; }
	n=$((n + 1))
	var=${env}_$(echo "$name" | tr 'a-z-' 'A-Z_')
	got=$(env "$var=$v" "$HELPER_BIN" config-get "$T/e.conf" "$sec.$name" 2>&1 | head -1)
	[ "$got" = "$sec.$name=$want @environment variable $var" ] ||
		{ bad=1; diag "$var=$v gave '$got'"; }
done <"$T/table"
[ "$n" -ge 25 ]; ok $? "there are $n [target:]/[dest:] keys"
is "$bad" 0 "each is set by its PGA_TARGET_<NAME>_<KEY> / PGA_DEST_<NAME>_<KEY> variable"
PGA_DEST_CENTRAL_2_TIMEOUT=soon "$HELPER_BIN" config-get "$T/e.conf" >"$OUT" 2>"$ERR"
is $? 64 "a bad section variable is a usage error"
like "$(last_err)" "environment variable PGA_DEST_CENTRAL_2_TIMEOUT: invalid duration 'soon'" "  naming it"
like "$(pga help environment)" "PGA_DEST_<NAME>_<KEY>" "pga help environment explains them"

# ---- typo help ----
for pair in colect:collect stauts:status shp:ship lod:load restor:restore reprot:report; do
	run_fails 64 "pga ${pair%%:*}" pga ${pair%%:*}
	like "$(last_err)" "unknown command '${pair%%:*}'; did you mean '${pair##*:}'\?" "  suggests ${pair##*:}"
done
run_fails 64 "pga xyzzy" pga xyzzy
like "$(last_err)" "unknown command 'xyzzy' \(see 'pga help'\)" "  suggests nothing far away"
run_fails 64 "pga spool vrify" pga spool vrify
like "$(last_err)" "unknown spool subcommand 'vrify'; did you mean 'verify'\?" "  suggests verify"
run_fails 64 "pga load --sinse" pga load --sinse 1d
like "$(last_err)" "unknown option '--sinse'; did you mean '--since'\?" "  suggests --since"
run_fails 64 "pga status -c FILE" pga status -c "$T/q.conf"
like "$(last_err)" "'-c' is one of pga's own options: it goes before the command \('pga -c \.\.\. status'\)" \
	"  explains that pga's own options come first"
run_fails 64 "pga spool ls --config=FILE" pga spool ls --config="$T/q.conf"
like "$(last_err)" "'--config' is one of pga's own options.*spool ls" "  for long options too"
done_testing
