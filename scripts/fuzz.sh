#!/usr/bin/env bash
# Run each libFuzzer target from a seed corpus of real segments and archives
# made by pga itself, of object-store and OAuth answers written here, and of
# configuration files (pga.conf.example and a few written here).
#
#   scripts/fuzz.sh [SECONDS]        each target for SECONDS (default 20);
#                                    `make fuzz-smoke` runs it briefly in
#                                    `make check`
#   scripts/fuzz.sh --runs N         each target for N executions;
#                                    `make fuzz-long` runs 10^7 each
#                                    (FUZZ_RUNS=N to change it)
# FUZZ_TARGETS="xml json" picks targets.  The corpora grow in build-fuzz/
# and are kept between runs.  Each target's line gives executions,
# seconds and executions per second.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=(-max_total_time="${1:-20}")
if [ "${1:-}" = --runs ]; then
	[ -n "${2:-}" ] || { echo "usage: scripts/fuzz.sh [SECONDS | --runs N]" >&2; exit 64; }
	limit=(-runs="$2")
fi
out=build-fuzz
pga=${PGA_BUILD:-build}/pga
[ -x "$pga" ] || { echo "fuzz: build $pga first" >&2; exit 1; }

seed=$out/seed
if [ ! -d "$out/corpus-segment" ]; then
	rm -rf "$seed"
	mkdir -p "$seed" "$out/corpus-segment" "$out/corpus-tar" "$out/corpus-manifest"
	for i in 1 2 3; do
		awk -v n=$((i * 40)) 'BEGIN { for (j = 0; j < n; j++) printf "%d,\"t %d\",%d\n", j, j, j*j }' |
			PGA_CONFIG=/dev/null "$pga" spool put --spool "$seed/spool" --metric m$i --columns a,b,c 2>/dev/null
	done
	find "$seed/spool/ready" -name '*.pga.zst' -exec cp {} "$out/corpus-segment/" \;
	PGA_CONFIG=/dev/null "$pga" spool pack --spool "$seed/spool" -o "$out/corpus-tar/seed.tar" >/dev/null
fi
if [ ! -f "$out/corpus-segment/signed.pga.zst" ]; then	# a signature frame after the footer
	rm -rf "$seed/signed"
	mkdir -p "$seed/signed"
	"$pga" keygen -o "$seed/signed/k" >/dev/null
	echo 1,2,3 | PGA_CONFIG=/dev/null PGA_SIGN_KEY_FILE="$seed/signed/k.key" \
		"$pga" spool put --spool "$seed/signed/spool" --metric m --columns a,b,c 2>/dev/null
	find "$seed/signed/spool/ready" -name '*.pga.zst' -exec cp {} "$out/corpus-segment/signed.pga.zst" \;
fi
if [ ! -f "$out/corpus-segment/described.pga.zst" ]; then	# minor 1: column descriptors
	rm -rf "$seed/described"
	mkdir -p "$seed/described"
	echo 1,2,2026-01-01 | PGA_CONFIG=/dev/null "$pga" spool put --spool "$seed/described/spool" \
		--metric m --columns a:bigint:key,b:bigint:counter,c:timestamptz:reset 2>/dev/null
	find "$seed/described/spool/ready" -name '*.pga.zst' -exec cp {} "$out/corpus-segment/described.pga.zst" \;
	# and format 1.0, as an older pga wrote it
	find tests/fixtures/segment-1.0 -name '*.pga.zst' -exec cp {} "$out/corpus-segment/" \;
fi
# an encrypted segment, and the key the segment target decrypts with (on
# every other input: the keyless path is fuzzed as well)
if [ ! -f "$out/corpus-segment/encrypted.pga.zst" ] || [ ! -f "$out/fuzz-x25519.key" ]; then
	rm -rf "$seed/enc" "$out/fuzz-x25519.key" "$out/fuzz-x25519.pub"
	mkdir -p "$seed/enc"
	"$pga" keygen --encryption -o "$out/fuzz-x25519" >/dev/null
	for i in 1 2; do
		awk -v n=$((i * 60)) 'BEGIN { for (j = 0; j < n; j++) printf "%d,\"t %d\",%d\n", j, j, j*j }' |
			PGA_CONFIG=/dev/null PGA_ENCRYPT_TO="$out/fuzz-x25519.pub" \
			"$pga" spool put --spool "$seed/enc/spool" --metric m$i --columns a,b,c 2>/dev/null
	done
	find "$seed/enc/spool/ready" -name '*.pga.zst' | head -1 | xargs -I{} cp {} "$out/corpus-segment/encrypted.pga.zst"
fi
export PGA_FUZZ_DECRYPT_KEY=$PWD/$out/fuzz-x25519.key
if [ ! -d "$out/corpus-config" ]; then
	mkdir -p "$out/corpus-config"
	cp pga.conf.example "$out/corpus-config/example.conf"
	printf '[global]\nspool-path = /s\n[target:a]\nconninfo = host=a password=x;y\n[dest:d]\nurl = s3://b/p\nsecret-access-key = k\n' \
		>"$out/corpus-config/small.conf"
	printf '\xef\xbb\xbf[global]\r\nworkers = 2\r\n[target:b] # c\r\nconninfo = postgresql://u:p@h/d\r\n' \
		>"$out/corpus-config/crlf.conf"
fi
if [ ! -d "$out/corpus-xml" ]; then	# the first byte picks the reader (tests/fuzz/fuzz_xml.c)
	mkdir -p "$out/corpus-xml" "$out/corpus-json"
	seg=c1/2026/11/25/0000000000000001-20261125T213407Z.pga.zst
	printf '\000<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>%s</Key><Size>10</Size></Contents><Contents><Key>b&amp;c</Key><Size>1</Size></Contents></ListBucketResult>' \
		"$seg" >"$out/corpus-xml/s3-list"
	printf '\001<EnumerationResults><Blobs><Blob><Name>%s</Name><Properties><Content-Length>77</Content-Length></Properties></Blob></Blobs><NextMarker>2!8!x</NextMarker></EnumerationResults>' \
		"$seg" >"$out/corpus-xml/azure-list"
	printf '\002date: Tue, 01 Dec 2026 10:00:00 GMT\nx-amz-bucket-region: eu-west-1\n\000<Error><Code>RequestTimeTooSkewed</Code><Message>skew\nRequestId:1</Message></Error>' \
		>"$out/corpus-xml/error"
	printf '\003content-length: 12\nx-amz-meta-sha256: %064d\nx-goog-hash: crc32c=AAAAAA==, md5=1B2M2Y8AsgTpgAmY7PhCfg==\netag: "d41d8cd98f00b204e9800998ecf8427e"\n\000' 0 \
		>"$out/corpus-xml/head"
	printf '{"access_token":"ya29.x\\u00e9\\ud83d\\ude00","expires_in":3599,"token_type":"Bearer"}' >"$out/corpus-json/token"
	printf '{"type":"service_account","client_email":"a@b.iam","private_key":"-----BEGIN PRIVATE KEY-----\\nMII\\n","token_uri":"https://x/token","n":[1,2.5e3,{"x":null}]}' \
		>"$out/corpus-json/key"
fi
# the credential replies of ship/cloud_reply.c (fuzz_json; first byte: a cap)
if [ ! -s "$out/corpus-json/imds" ]; then
	mkdir -p "$out/corpus-json"
	printf '\377{"Code":"Success","AccessKeyId":"ASIAX","SecretAccessKey":"s/+=","Token":"FwoG\\u00e9","Expiration":"2025-12-06T06:46:40Z"}' \
		>"$out/corpus-json/imds"
	printf '\377{"access_token":"eyJ","expires_in":"86399","expires_on":"1765086399","token_type":"Bearer"}' \
		>"$out/corpus-json/azure"
	printf '\377<AssumeRoleWithWebIdentityResponse><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t&amp;</SessionToken><Expiration>2025-12-06T06:46:40.5Z</Expiration></Credentials></AssumeRoleWithWebIdentityResponse>' \
		>"$out/corpus-json/sts"
fi
[ -s "$out/corpus-config/metric.conf" ] ||	# also where the corpus predates [metric:NAME]
	printf '[metric:q_1]\nscope = database\nsql = SELECT $$;$$ AS a, E'"'"'\\'"'"')'"'"' AS b -- )\nkeys = a\ncounters = b\nevery = 3\nstatement-timeout = 250\n' \
		>"$out/corpus-config/metric.conf"
mkdir -p "$out/corpus-utf8"
[ -s "$out/corpus-utf8/seed" ] || printf '\003caf\303\251,t\351st,"\355\240\200"\n' >"$out/corpus-utf8/seed"
mkdir -p "$out/corpus-manifest"	# also where the corpus predates this target
if [ -z "$(ls -A "$out/corpus-manifest")" ] && [ -f "$out/corpus-tar/seed.tar" ]; then
	tar -xOf "$out/corpus-tar/seed.tar" MANIFEST.sha256 >"$out/corpus-manifest/seed"
fi
status=0
for t in ${FUZZ_TARGETS:-segment tar manifest xml json utf8 config}; do
	mkdir -p "$out/crash-$t"
	echo "fuzz: $t (${limit[0]#-})"
	start=$(date +%s)
	if ! "$out/fuzz_$t" "${limit[@]}" -max_len=262144 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$out/crash-$t/" -print_final_stats=1 "$out/corpus-$t" \
		>"$out/fuzz_$t.log" 2>&1; then
		echo "fuzz: $t FAILED, see $out/fuzz_$t.log and $out/crash-$t/" >&2
		tail -n 30 "$out/fuzz_$t.log" >&2
		status=1
	else
		secs=$(($(date +%s) - start))
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz_$t.log")
		echo "fuzz: $t ok: ${runs:-?} executions in ${secs}s ($(( ${runs:-0} / (secs > 0 ? secs : 1) )) exec/s)"
	fi
done
exit $status
