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
	for key in $(grep -o '^#[a-z-]* =' "$REPO_DIR/pga.conf.example" | tr -d '#= ' | sort -u); do
		grep -q -- "$key" "$TEST_TMP/pga.1" || { ok 1 "man page documents '$key'"; continue; }
	done
	ok 0 "the man page documents every key"
else
	ok 0 "# SKIP scdoc not installed"
fi
for c in check collect help load metrics report restore ship spool status version; do
	pga help "$c" >"$OUT" 2>"$ERR"
	ok $? "pga help $c"
done
setup=$(sed -n '/^On a fresh Debian 12 machine/,/^Both work/p' "$REPO_DIR/README" | grep -c '^    make ')
is "$setup" 2 "README gives exactly two set-up commands"
done_testing
