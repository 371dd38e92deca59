#!/usr/bin/env bash
# make install DESTDIR=...: binary, man page, example config, units, cron.
. "$(dirname "$0")/../lib/tap.sh"

command -v scdoc >/dev/null || skip_all "scdoc not installed (run make deps)"
D=$TEST_TMP/root
run_ok "make install into a DESTDIR" make -s -C "$REPO_DIR" BUILD="$PGA_BUILD" install \
	DESTDIR="$D" PREFIX=/usr/local
for f in usr/local/bin/pga usr/local/share/man/man1/pga.1 etc/pga/pga.conf.example \
	lib/systemd/system/pga-collect.service lib/systemd/system/pga-collect.timer \
	lib/systemd/system/pga-collect-loop.service lib/systemd/system/pga-ship.service \
	lib/systemd/system/pga-ship.timer lib/systemd/system/pga-ship-loop.service etc/cron.d/pga \
	lib/systemd/system/pga-load.service lib/systemd/system/pga-load.timer \
	lib/systemd/system/pga-load-loop.service etc/cron.d/pga-central; do
	ok $([ -s "$D/$f" ]; echo $?) "installs /$f"
done
is "$(stat -c %a "$D/usr/local/bin/pga")" 755 "the binary is executable"
is "$(stat -c %a "$D/etc/pga/pga.conf.example")" 640 "the example config is not world-readable"
like "$(grep '^ExecStart' "$D/lib/systemd/system/pga-collect.service")" "=/usr/local/bin/pga collect$" \
	"units point at the installed binary"
run_ok "the installed binary runs" "$D/usr/local/bin/pga" version
like "$(head -c 2000 "$D/usr/local/share/man/man1/pga.1")" '\.TH "pga" "1"' "the man page is roff"
ok $(grep -q 'pga restore' "$D/usr/local/share/man/man1/pga.1"; echo $?) "and documents the commands"
done_testing
