#!/usr/bin/env bash
# Documentation comes from the code: pga.conf.example and the man page's key
# list are generated from the config table, and must match what is committed.
. "$(dirname "$0")/../lib/tap.sh"

pga help config --example >"$TEST_TMP/example"
if cmp -s "$TEST_TMP/example" "$REPO_DIR/pga.conf.example"; then ok 0 "pga.conf.example is up to date"
else ok 1 "pga.conf.example is up to date (run: pga help config --example > pga.conf.example)"
	diag "$(diff "$REPO_DIR/pga.conf.example" "$TEST_TMP/example" | head -20)"; fi
run_ok "the example parses as a configuration" pga -c "$REPO_DIR/pga.conf.example" help config
if command -v scdoc >/dev/null; then
	{ sed '/@CONFIG_KEYS@/,$d' "$REPO_DIR/doc/pga.1.scd"; pga help config --man
	  sed '1,/@CONFIG_KEYS@/d' "$REPO_DIR/doc/pga.1.scd"; } | scdoc >"$TEST_TMP/pga.1" 2>"$ERR"
	ok $? "the man page builds with scdoc"
	# every key of every section has its own entry in the man page, as
	# "\fBkey\fR (type..." under ".SS [section]": not a mention anywhere
	pga help config | awk '/^\[/ { sec = $1 } /^  [a-z]/ { print sec, $1 }' | sort >"$TEST_TMP/keys"
	awk '/^\.SS / { sec = $2 } /^\\fB[a-z][a-z0-9-]*\\fR \(/ { k = $1; gsub(/\\f[BR]/, "", k);
		print sec, k }' "$TEST_TMP/pga.1" | sort >"$TEST_TMP/documented"
	ok $([ "$(grep -c . "$TEST_TMP/keys")" -ge 50 ]; echo $?) \
		"pga help config lists the keys ($(grep -c . "$TEST_TMP/keys"))"
	if cmp -s "$TEST_TMP/keys" "$TEST_TMP/documented"; then ok 0 "the man page documents every key, each in its section"
	else ok 1 "the man page documents every key, each in its section"
		diag "$(diff "$TEST_TMP/keys" "$TEST_TMP/documented" | head -10)"; fi
else
	ok 0 "# SKIP scdoc not installed"
fi
for c in check collect help load metrics restore ship spool status version; do
	pga help "$c" >"$OUT" 2>"$ERR"
	ok $? "pga help $c"
done
setup=$(sed -n '/^On a fresh Debian 12 machine/,/^Both work/p' "$REPO_DIR/README" | grep -c '^    make ')
is "$setup" 2 "README gives exactly two set-up commands"
done_testing
