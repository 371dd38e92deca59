#!/usr/bin/env bash
# Signed segments without a central database: pga keygen, key file modes,
# sign-key-file on the writer, spool verify --public-key, the openssl CLI
# verifying what pga signed (the recipe of FORMAT.md "Signature"), keys
# made by openssl, crash recovery sealing a signed part signed.
. "$(dirname "$0")/../lib/tap.sh"

T=$TEST_TMP
cd "$T" || exit 1

# ---- keygen ----
run_ok "keygen writes a pair" pga keygen -o "$T/k1"
like "$(last_out)" "key id [0-9a-f]{64}" "prints the key id"
is "$(stat -c %a "$T/k1.key")" 600 "the private key is 0600"
run_ok "the private key is PKCS#8 PEM that openssl reads as Ed25519" \
	openssl pkey -in "$T/k1.key" -noout -text
like "$(last_out)" "ED25519 Private-Key" "  an Ed25519 key"
run_ok "openssl derives the same public key" openssl pkey -in "$T/k1.key" -pubout -out "$T/k1.derived"
is "$(cat "$T/k1.derived")" "$(cat "$T/k1.pub")" "  PREFIX.pub is that key"
before=$(sha256sum "$T/k1.key" "$T/k1.pub")
run_fails 1 "keygen never replaces a key" pga keygen -o "$T/k1"
like "$(last_err)" "already exists: not replaced" "  says so"
is "$(sha256sum "$T/k1.key" "$T/k1.pub")" "$before" "  both files unchanged"
rm "$T/k1.derived"; : >"$T/half.pub"
run_fails 1 "keygen refuses when only the .pub exists" pga keygen -o "$T/half"
[ ! -e "$T/half.key" ]; ok $? "  and writes no .key"
run_fails 64 "keygen needs -o" pga keygen
pga keygen -o "$T/k2" >/dev/null 2>&1

conf() {	# conf SPOOL KEY: a configuration signing with KEY
	printf '[global]\ncollector = site-s\nspool-path = %s\nsign-key-file = %s\n' "$1" "$2" >"$T/c.conf"
	chmod 600 "$T/c.conf"
}
put() { printf 'a,b\n1,2\n' | pga -c "$T/c.conf" spool put --metric m --columns a,b; }

# ---- key file modes ----
SP=$T/sp
conf "$SP" "$T/k1.key"
for mode in 644 640 604 660; do
	chmod "$mode" "$T/k1.key"
	put >"$OUT" 2>"$ERR"
	is "$?" 1 "a key file of mode $mode is refused"
	like "$(cat "$ERR")" "signing key '$T/k1.key' has mode 0$mode: it must be 0600" "  says which file and why"
done
[ -z "$(find "$SP/ready" -name '*.pga.zst' 2>/dev/null)" ]; ok $? "  and nothing was written"
chmod 600 "$T/k1.key"
conf "$SP" "$T/nope.key"
put >"$OUT" 2>"$ERR"; is "$?" 1 "a missing key file is refused"
like "$(cat "$ERR")" "could not open signing key '$T/nope.key'" "  names it"
conf "$SP" "$T/k1.pub"; chmod 600 "$T/k1.pub"
put >"$OUT" 2>"$ERR"; is "$?" 1 "a public key as the signing key is refused"
like "$(cat "$ERR")" "holds no PEM private key" "  says why"
chmod 644 "$T/k1.pub"

# ---- sign, verify ----
conf "$SP" "$T/k1.key"
put 2>/dev/null && put 2>/dev/null; ok $? "two signed segments written"
! grep -q "BEGIN" "$SP"/counters 2>/dev/null; ok $? "  no key material in the spool's files"
run_ok "spool verify reads signed segments" pga -c "$T/c.conf" spool verify
like "$(last_out)" "signed by key [0-9a-f]{16}" "  and names the key"
run_ok "spool verify --public-key with the signer's key" pga -c "$T/c.conf" spool verify --public-key "$T/k1.pub"
like "$(last_out)" "2 segments verified, 0 failed" "  both verified"
run_fails 1 "spool verify --public-key with another key fails" \
	pga -c "$T/c.conf" spool verify --public-key "$T/k2.pub"
like "$(last_out)" "is signed by key [0-9a-f]{16}, not by key [0-9a-f]{16}" "  names both keys"
[ -z "$(ls "$SP/quarantine" 2>/dev/null)" ]; ok $? "  a question of the key: nothing quarantined"
run_ok "zstd -t still passes on a signed segment" zstd -qt $(find "$SP/ready" -name '*.pga.zst')
run_ok "spool ls reads a signed segment from its end" pga -c "$T/c.conf" spool ls
like "$(last_out)" "sealed +site-s/.*0000000000000002" "  lists it"

# ---- the openssl CLI verifies what pga signed (FORMAT.md recipe) ----
SEG=$(find "$SP/ready" -name '*0001-*.pga.zst')
size=$(stat -c %s "$SEG")
siglen=$(tail -c 8 "$SEG" | head -c 4 | od -An -tu4 | tr -d ' ')
footend=$((size - siglen))
footlen=$(head -c "$footend" "$SEG" | tail -c 8 | head -c 4 | od -An -tu4 | tr -d ' ')
head -c $((footend - footlen)) "$SEG" | openssl dgst -sha256 -binary >"$T/hash.bin"
tail -c "$siglen" "$SEG" | tail -c +49 | head -c 64 >"$T/sig.bin"
run_ok "openssl pkeyutl verifies pga's signature over the footer hash" \
	openssl pkeyutl -verify -pubin -inkey "$T/k1.pub" -rawin -in "$T/hash.bin" -sigfile "$T/sig.bin"
run_fails 1 "  and refuses it under another key" \
	openssl pkeyutl -verify -pubin -inkey "$T/k2.pub" -rawin -in "$T/hash.bin" -sigfile "$T/sig.bin"
run_ok "helper reads the segment" helper seg-info "$SEG"
like "$(last_out)" "footer_sha256=$(od -An -tx1 "$T/hash.bin" | tr -d ' \n')" \
	"  the recipe's hash is the footer's SHA-256"
like "$(last_out)" "key_id=$(openssl pkey -pubin -in "$T/k1.pub" -outform DER | tail -c 32 |
	openssl dgst -sha256 -r | cut -c1-64)" "  the key id is the SHA-256 of the raw public key"

# ---- a key made by openssl signs too ----
openssl genpkey -algorithm ed25519 -out "$T/o.key" 2>/dev/null && chmod 600 "$T/o.key" &&
	openssl pkey -in "$T/o.key" -pubout -out "$T/o.pub" 2>/dev/null
SP2=$T/sp2
conf "$SP2" "$T/o.key"
put 2>/dev/null; ok $? "a key from openssl genpkey signs"
run_ok "  and verifies with its openssl public key" pga -c "$T/c.conf" spool verify --public-key "$T/o.pub"

# ---- unsigned segments: verify --public-key refuses them ----
SP3=$T/sp3
printf '[global]\ncollector = site-u\nspool-path = %s\n' "$SP3" >"$T/c.conf"
put 2>/dev/null
run_ok "an unsigned segment verifies without a key" pga -c "$T/c.conf" spool verify
like "$(last_out)" "unsigned" "  marked unsigned"
run_fails 1 "but not with --public-key" pga -c "$T/c.conf" spool verify --public-key "$T/k1.pub"
like "$(last_out)" "is not signed" "  says so"

# ---- tampering: a byte of the signature frame, the header's signed flag ----
cp "$SEG" "$T/tamper.pga.zst"
# flip the byte (writing a constant left it unchanged when it already was that)
b=$(od -An -tu1 -j $((size - 20)) -N1 "$SEG" | tr -d ' ')
printf "\\$(printf %o $((b ^ 1)))" | dd of="$T/tamper.pga.zst" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
run_fails 1 "a flipped byte of the signature frame is refused" pga spool verify "$T/tamper.pga.zst"
like "$(last_out)" "signature crc32c mismatch|malformed signature" "  names the signature"
head -c "$footend" "$SEG" >"$T/stripped.pga.zst"
run_fails 1 "a signed segment with its signature cut off is refused" pga spool verify "$T/stripped.pga.zst"
like "$(last_out)" "truncated: the header says signed but no signature follows" "  says what is missing"

# ---- crash recovery signs what it salvages ----
SP4=$T/sp4
(PGA_SIGN_KEY_FILE=$T/k1.key helper put-kill "$SP4" 2 1000) 2>/dev/null
is $? 137 "a signing writer killed in the middle of a block"
printf '[global]\ncollector = killtest\nspool-path = %s\n' "$SP4" >"$T/c.conf"
echo 1,2 | pga -c "$T/c.conf" spool put --metric after --columns a,b >"$OUT" 2>"$ERR"
is "$?" 1 "a writer without the key cannot seal a part begun signed"
like "$(cat "$ERR")" "was begun signed: sealing it needs the signing key \(sign-key-file\)" "  says why"
is "$(ls "$SP4/tmp"/*.part | wc -l)" 1 "  the part file is kept"
printf 'sign-key-file = %s\n' "$T/k1.key" >>"$T/c.conf"
echo 1,2 | pga -c "$T/c.conf" spool put --metric after --columns a,b >"$OUT" 2>"$ERR"
ok $? "the writer with the key recovers it"
like "$(cat "$ERR")" "recovered segment" "  logged"
run_ok "the recovered segment is signed by the key" \
	pga -c "$T/c.conf" spool verify --public-key "$T/k1.pub"
like "$(last_out)" "2 segments verified, 0 failed" "  both segments"
done_testing
