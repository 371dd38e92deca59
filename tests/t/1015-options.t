#!/usr/bin/env bash
# Options as the table declares them: help and version need no
# configuration; the command line wins over the environment, which wins
# over the file, which wins over the default; every [global] key has its
# variable, a command's options are read from the environment only by the
# commands that take them; every usage error exits 64, a bad variable too;
# a secret never comes from the command line.
. "$(dirname "$0")/../lib/tap.sh"

T=$TEST_TMP
helper opt-table >"$T/table"
printf '[global]\nspool-path = %s\nworkers = many\n' "$T/a" >"$T/broken.conf"

# ---- commands that need no configuration ----
run_ok "pga -c BROKEN.conf help collect" pga -c "$T/broken.conf" help collect
like "$(last_out)" "usage: pga collect" "  prints the usage"
run_ok "pga -c BROKEN.conf version" pga -c "$T/broken.conf" version
like "$(last_out)" "^pga [0-9]" "  prints the version"
run_ok "pga -c BROKEN.conf help" pga -c "$T/broken.conf" help
run_ok "pga -c BROKEN.conf help config" pga -c "$T/broken.conf" help config
run_ok "pga -c MISSING.conf help spool put" pga -c "$T/nonexistent.conf" help spool put
run_ok "pga -c BROKEN.conf collect --help" pga -c "$T/broken.conf" collect --help
like "$(last_out)" "usage: pga collect" "  prints the usage too"
run_fails 1 "but pga -c BROKEN.conf collect fails" pga -c "$T/broken.conf" collect
like "$(last_err)" "broken.conf:3: key 'workers'" "  naming file and line"
run_fails 1 "and so does status" pga -c "$T/broken.conf" status

# ---- precedence: command line > environment > file > default ----
mkdir -p "$T/a/ready" "$T/b/ready" "$T/c/ready"
printf '[global]\nspool-path = %s\nworkers = 2\n' "$T/a" >"$T/c.conf"
run_ok "the file" pga -c "$T/c.conf" status
like "$(last_out)" "^spool $T/a" "  sets spool-path"
PGA_SPOOL_PATH=$T/b "$PGA_BIN" -c "$T/c.conf" status >"$OUT" 2>"$ERR"
like "$(last_out)" "^spool $T/b" "PGA_SPOOL_PATH wins over the file"
PGA_SPOOL_PATH=$T/b "$PGA_BIN" -c "$T/c.conf" status --spool "$T/c" >"$OUT" 2>"$ERR"
like "$(last_out)" "^spool $T/c" "--spool wins over PGA_SPOOL_PATH"
run_ok "the default" helper config-get - spool-path
is "$(last_out)" "spool-path=/var/spool/pga" "  when nothing sets it"
PGA_CONFIG=$T/c.conf "$PGA_BIN" status >"$OUT" 2>"$ERR"
like "$(last_out)" "^spool $T/a" "PGA_CONFIG names the file"
PGA_CONFIG=$T/broken.conf "$PGA_BIN" -c "$T/c.conf" status >"$OUT" 2>"$ERR"
like "$(last_out)" "^spool $T/a" "-c wins over PGA_CONFIG"
is "$(PGA_WORKERS=3 helper config-get "$T/c.conf" collect --workers 4 -- workers)" "workers=4" \
	"--workers over PGA_WORKERS over the file"
is "$(PGA_WORKERS=3 helper config-get "$T/c.conf" workers)" "workers=3" "PGA_WORKERS over the file"
is "$(PGA_TARGET=a,b helper config-get - collect -- target)" "target=a,b" "a list from the environment"
is "$(PGA_TARGET=a,b helper config-get - collect --target c --target d -- target)" "target=c,d" \
	"  is replaced by the command line's, which add up"

# ---- every [global] key has its variable ----
value_for() {	# TYPE NAME: a value of that type, and how config-get prints it
	case $2 in spool-full) echo "drop-oldest drop-oldest"; return ;;
	log-level) echo "trace trace"; return ;; log-destination) echo "syslog syslog"; return ;;
	log-timestamp) echo "off off"; return ;; log-facility) echo "local7 local7"; return ;; esac
	case $1 in string) echo "v1 v1" ;; size) echo "2M 2097152" ;; duration) echo "7s 7000000us" ;;
	int) echo "$3 $3" ;; bool) echo "on on" ;; list) echo "v1,v2 v1,v2" ;; esac
}
bad=0 n=0
while IFS=$'\t' read -r name scope type _ _ env _; do
	[ "$scope" = global ] || continue
	n=$((n + 1))
	lo=$(helper config-get - "$name" | cut -d= -f2)	# an int's default is within bounds
	read -r v want <<<"$(value_for "$type" "$name" "$lo")"
	[ "$type" = int ] && { v=$lo want=$lo; }
	[ "$type" = int ] && [ "$name" = workers ] && { v=7 want=7; }
	got=$(env "$env=$v" "$HELPER_BIN" config-get - "$name")
	[ "$got" = "$name=$want" ] || { bad=1; diag "$env=$v gave '$got', wanted '$name=$want'"; }
done <"$T/table"
[ "$n" -ge 25 ]; ok $? "there are $n [global] keys"
is "$bad" 0 "each is set by its PGA_ variable"
# a command's option: read from the environment by its commands only
is "$(PGA_DRY_RUN=on helper config-get - load -- dry-run)" "dry-run=on" "PGA_DRY_RUN is load's"
is "$(PGA_DRY_RUN=on helper config-get - collect -- dry-run)" "dry-run=off" \
	"  and collect does not read it"
: >"$T/a/ready/junk"	# status says at debug level that it is not a segment
PGA_LOG_LEVEL=error "$PGA_BIN" --log-level debug -c "$T/c.conf" status >"$OUT" 2>"$ERR"
like "$(last_err)" "debug: ignoring 'junk'" "--log-level debug wins over PGA_LOG_LEVEL=error"
PGA_LOG_LEVEL=debug "$PGA_BIN" -c "$T/c.conf" status >"$OUT" 2>"$ERR"
like "$(last_err)" "debug: ignoring 'junk'" "PGA_LOG_LEVEL=debug wins over the file's info"

# ---- where an error was raised, at debug level only ----
# (status: a spool it cannot read is its verdict CRITICAL, exit 2, cmd/health.h)
run_fails 2 "an error" pga -c "$T/c.conf" --log-level debug status --spool "$T/none"
like "$(last_err)" "debug: raised at spool/spool\.c:[0-9]+" "  says where it was raised at debug level"
run_fails 2 "the same error" pga -c "$T/c.conf" status --spool "$T/none"
[[ "$(last_err)" != *"raised at"* ]]; ok $? "  does not at info level"

# ---- usage errors exit 64, everywhere ----
while read -r c; do
	run_fails 64 "pga $c --bogus" pga -c "$T/c.conf" $c --bogus
	like "$(last_err)" "unknown option '--bogus'" "  says which"
done < <(printf '%s\n' check collect help load report restore ship "spool put" "spool ls" \
	"spool verify" "spool cat" "spool pack" status version)
run_fails 64 "a value it does not take" pga -c "$T/c.conf" collect --cycles 0 --loop
like "$(last_err)" "invalid --cycles '0'" "  names the flag"
run_fails 64 "a missing value" pga -c "$T/c.conf" collect --interval
like "$(last_err)" "missing value for option '--interval'" "  names the flag"
run_fails 64 "a switch with a value" pga -c "$T/c.conf" collect --loop=yes
run_fails 64 "an unexpected argument" pga -c "$T/c.conf" status extra
run_fails 64 "restore without --from" pga -c "$T/c.conf" restore --db "host=$T"
like "$(last_err)" "'pga restore' needs --from SOURCE" "  says what it needs"
run_fails 64 "spool cat without a segment" pga -c "$T/c.conf" spool cat
run_fails 64 "a bad variable" env PGA_LOG_LEVEL=loud "$PGA_BIN" -c "$T/c.conf" status
like "$(last_err)" "environment variable PGA_LOG_LEVEL: 'log-level' must be one of" "  names it"
run_fails 64 "a bad --log-level" pga --log-level loud -c "$T/c.conf" status
run_fails 64 "an unknown command" pga -c "$T/c.conf" colect
run_fails 64 "an unknown global option" pga --bogus status

# ---- secrets never on the command line ----
run_fails 64 "status --db with a password" pga -c "$T/c.conf" status --central \
	--db "host=$T port=1 password=s3cret"
like "$(last_err)" "--db holds a password" "  is refused: argv is public"
[[ "$(last_err)" != *s3cret* ]]; ok $? "  without echoing it"
printf '[global]\ncentral = host=%s port=1 password=s3cret\n' "$T" >"$T/p.conf"
chmod 600 "$T/p.conf"
PGA_CENTRAL="host=$T port=1 password=s3cret" helper config-get - central >"$OUT"
ok $? "in the environment a password is fine"
done_testing
