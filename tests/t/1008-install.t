#!/usr/bin/env bash
# make install DESTDIR=... PREFIX=/usr/local: binary, man page, example
# config, the documents the man page names, units under the prefix,
# sysusers.d and tmpfiles.d files (applied by the real systemd-sysusers
# and systemd-tmpfiles into the DESTDIR), timers with a randomized delay,
# hardened units (systemd-analyze security --offline), and a cron line
# that does not hide pga's exit status behind a pipe.
. "$(dirname "$0")/../lib/tap.sh"

command -v scdoc >/dev/null || skip_all "scdoc not installed (run make deps)"
D=$TEST_TMP/root
# -o all: never rebuild here; other tests run these binaries at the same time
run_ok "make install into a DESTDIR" make -s -C "$REPO_DIR" BUILD="$PGA_BUILD" -o all install \
	DESTDIR="$D" PREFIX=/usr/local
U=usr/local/lib/systemd/system
for f in usr/local/bin/pga usr/local/share/man/man1/pga.1 etc/pga/pga.conf.example \
	$U/pga-collect.service $U/pga-collect.timer $U/pga-collect-loop.service \
	$U/pga-ship.service $U/pga-ship.timer $U/pga-ship-loop.service etc/cron.d/pga \
	usr/local/lib/sysusers.d/pga.conf usr/local/lib/tmpfiles.d/pga.conf \
	usr/local/share/doc/pga/FORMAT.md usr/local/share/doc/pga/SCHEMA.md \
	usr/local/share/doc/pga/queries.md \
	$U/pga-load.service $U/pga-load.timer $U/pga-load-loop.service etc/cron.d/pga-central; do
	ok $([ -s "$D/$f" ]; echo $?) "installs /$f"
done
ok $([ ! -e "$D/lib/systemd" ]; echo $?) "nothing under /lib/systemd with PREFIX=/usr/local"
is "$(stat -c %a "$D/usr/local/bin/pga")" 755 "the binary is executable"
is "$(stat -c %a "$D/etc/pga/pga.conf.example")" 640 "the example config is not world-readable"
like "$(grep '^ExecStart' "$D/$U/pga-collect.service")" "=/usr/local/bin/pga collect$" \
	"units point at the installed binary"
run_ok "the installed binary runs" "$D/usr/local/bin/pga" version
like "$(head -c 2000 "$D/usr/local/share/man/man1/pga.1")" '\.TH "pga" "1"' "the man page is roff"
ok $(grep -q 'pga restore' "$D/usr/local/share/man/man1/pga.1"; echo $?) "and documents the commands"
ok $(grep -q '/usr/local/share/doc/pga/FORMAT\.\\&md' "$D/usr/local/share/man/man1/pga.1"; echo $?) \
	"  and names FORMAT.md where it is installed"
ok $(! grep -q '@DOCDIR@' "$D/usr/local/share/man/man1/pga.1"; echo $?) "  with no placeholder left"

# the timers spread a fleet out
for t in collect ship; do
	like "$(cat "$D/$U/pga-$t.timer")" "RandomizedDelaySec=[1-9][0-9]*s" "pga-$t.timer has RandomizedDelaySec"
	like "$(cat "$D/$U/pga-$t.timer")" "FixedRandomDelay=yes" "  fixed per host"
done

# cron: no '| logger' swallowing the exit status
ok $(! grep -E '[^|]\|[[:space:]]*logger' "$D/etc/cron.d/pga" >/dev/null; echo $?) \
	"the cron lines pipe nothing away"
like "$(cat "$D/etc/cron.d/pga")" "PGA_LOG_DESTINATION=syslog" "  pga logs to syslog itself"
like "$(grep 'pga collect' "$D/etc/cron.d/pga")" '\|\| logger -p daemon.err .*exited \$\?' \
	"  and a failed run's exit code is logged"

# sysusers.d and tmpfiles.d, applied by the real tools into the DESTDIR
if [ "$(id -u)" = 0 ] && command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	run_ok "systemd-sysusers applies pga.conf" systemd-sysusers --root="$D" \
		"$D/usr/local/lib/sysusers.d/pga.conf"
	like "$(grep '^pga:' "$D/etc/passwd")" '^pga:x:[0-9]+:[0-9]+:.*:/var/lib/pga:/usr/sbin/nologin$' \
		"  a system user pga, no login"
	uid=$(grep '^pga:' "$D/etc/passwd" | cut -d: -f3)
	gid=$(grep '^pga:' "$D/etc/group" | cut -d: -f3)
	run_ok "systemd-tmpfiles --create applies pga.conf" systemd-tmpfiles --root="$D" --create \
		"$D/usr/local/lib/tmpfiles.d/pga.conf"
	is "$(stat -c '%a %u %g' "$D/var/spool/pga")" "750 $uid $gid" "  /var/spool/pga 0750 pga:pga"
	is "$(stat -c '%a %u %g' "$D/var/lib/pga")" "750 $uid $gid" "  /var/lib/pga 0750 pga:pga"
	is "$(stat -c '%a %u %g' "$D/etc/pga")" "750 0 $gid" "  /etc/pga 0750 root:pga"
else
	diag "not root, or systemd-sysusers/systemd-tmpfiles absent: their files are not applied here"
fi

# hardening, scored by systemd itself: exposure 1.2 or less for every service
if command -v systemd-analyze >/dev/null; then
	for s in "$D/$U"/*.service; do
		systemd-analyze security --offline=true --threshold=12 "$s" >"$OUT" 2>"$ERR"
		rc=$?
		score=$(grep -o 'Overall exposure level for [^:]*: [0-9.]*' "$OUT" | awk '{print $NF}')
		is "$rc" 0 "$(basename "$s"): systemd-analyze security exposure $score (at most 1.2)"
	done
	like "$(cat "$D/$U/pga-collect.service")" "SystemCallFilter=@system-service" "  system calls filtered"
	like "$(cat "$D/$U/pga-ship.service")" "PrivateUsers=yes" "  the shipper sees no other users"
else
	diag "systemd-analyze absent: the units' exposure is not scored here"
fi
done_testing
