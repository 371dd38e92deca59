#!/usr/bin/env bash
# Run each libFuzzer target for N seconds (default 20) from a seed corpus of
# real segments and archives made by pga itself, and of configuration files
# (pga.conf.example and the ones the tests write).  `make fuzz-smoke` runs it
# briefly inside `make check`; `make fuzz-long FUZZ_SECONDS=36000` for hours.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
out=build-fuzz
pga=${PGA_BUILD:-build}/pga
[ -x "$pga" ] || { echo "fuzz: build $pga first" >&2; exit 1; }

seed=$out/seed
if [ ! -d "$out/corpus-segment" ]; then
	rm -rf "$seed"
	mkdir -p "$seed" "$out/corpus-segment" "$out/corpus-tar"
	for i in 1 2 3; do
		awk -v n=$((i * 40)) 'BEGIN { for (j = 0; j < n; j++) printf "%d,\"t %d\",%d\n", j, j, j*j }' |
			PGA_CONFIG=/dev/null "$pga" spool put --spool "$seed/spool" --metric m$i --columns a,b,c 2>/dev/null
	done
	find "$seed/spool/ready" -name '*.pga.zst' -exec cp {} "$out/corpus-segment/" \;
	PGA_CONFIG=/dev/null "$pga" spool pack --spool "$seed/spool" -o "$out/corpus-tar/seed.tar" >/dev/null
fi
if [ ! -d "$out/corpus-config" ]; then
	mkdir -p "$out/corpus-config"
	cp pga.conf.example "$out/corpus-config/example.conf"
	printf '[global]\nspool-path = /s\n[target:a]\nconninfo = host=a password=x;y\n[dest:d]\nurl = s3://b/p\nsecret-access-key = k\n' \
		>"$out/corpus-config/small.conf"
	printf '\xef\xbb\xbf[global]\r\nworkers = 2\r\n[target:b] # c\r\nconninfo = postgresql://u:p@h/d\r\n' \
		>"$out/corpus-config/crlf.conf"
fi
status=0
for t in segment tar config; do
	mkdir -p "$out/crash-$t"
	echo "fuzz: $t for ${secs}s"
	if ! "$out/fuzz_$t" -max_total_time="$secs" -max_len=262144 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$out/crash-$t/" -print_final_stats=0 "$out/corpus-$t" \
		>"$out/fuzz_$t.log" 2>&1; then
		echo "fuzz: $t FAILED, see $out/fuzz_$t.log and $out/crash-$t/" >&2
		tail -n 30 "$out/fuzz_$t.log" >&2
		status=1
	else
		grep -E "^#[0-9]+.*(DONE|pulse)" "$out/fuzz_$t.log" | tail -n 1 || true
	fi
done
exit $status
