#!/usr/bin/env bash
# Encryption at rest (FORMAT.md "Encryption"): pga keygen --encryption and
# key file modes; a real collect encrypted to two recipients, shipped to
# s3rver and azurite, loaded from the one and restored from the other with
# decrypt-key-file (the same rows as the segments hold, and as a plaintext
# run of the same data); what a stolen collector holds reveals nothing
# (raw bytes, zstdcat, its config and the public keys); spool verify with
# and without the key; kill -9 during an encrypted collect recovers without
# any private key and loads; and the attacks: no key, the wrong key, a
# flipped ciphertext bit, a block moved from another segment, a truncated
# wrapped key -- each refused with its own error, recorded, in the exit
# status, and nothing of that segment loaded.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"
. "$(dirname "$0")/../lib/shiptest.sh"
. "$(dirname "$0")/../lib/azurite.sh"

s3srv_available || skip_all "s3rver not installed (run make deps)"
azurite_available || skip_all "azurite not installed (run make deps)"
T=$TEST_TMP
pg_start src 15
pg_start cen 15
s3srv_start pga || exit 1
azurite_start || exit 1
A=devstoreaccount1
AZKEY=$AZURE_STORAGE_KEY
AZURE_STORAGE_KEY=$AZKEY helper azure-request --query restype=container PUT "$AZURITE_URL" "/$A/pga" >/dev/null ||
	{ echo "Bail out! azure container"; exit 1; }
for db in central plain attack restored loop; do pg_psql cen postgres -c "CREATE DATABASE $db" >/dev/null; done
MARK=pgaSecretMarker7731
pg_psql src postgres -c "CREATE EXTENSION pg_stat_statements" \
	-c "CREATE TABLE $MARK (a int)" -c "SELECT count(*) AS $MARK FROM $MARK" >/dev/null
q() { pg_psql cen "$1" -At -c "$2"; }
tables_rows() {	# DB: "metric rows" of every metric table
	pg_psql cen "$1" -At -c "
	SELECT c.relname || ' ' || (xpath('/row/n/text()', query_to_xml(
		format('SELECT count(*) AS n FROM pga.%I', c.relname), false, true, '')))[1]::text
	  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE n.nspname = 'pga' AND c.relkind = 'p' ORDER BY 1"
}
metric_rows() { tables_rows "$1" | awk '{ s += $2 } END { print s + 0 }'; }

# ---- keygen --encryption ----
run_ok "keygen --encryption writes an X25519 pair" pga keygen --encryption -o "$T/central"
like "$(last_out)" "key id [0-9a-f]{64}" "  prints the key id"
is "$(stat -c %a "$T/central.key")" 600 "  the private key is 0600"
run_ok "  openssl reads it as an X25519 key" openssl pkey -in "$T/central.key" -noout -text
like "$(last_out)" "X25519 Private-Key" "  it is"
openssl pkey -in "$T/central.key" -pubout >"$T/derived.pub" 2>/dev/null
is "$(cat "$T/derived.pub")" "$(cat "$T/central.pub")" "  PREFIX.pub is its public key"
run_fails 1 "keygen --encryption never replaces a key" pga keygen --encryption -o "$T/central"
for k in site2 wrong; do pga keygen --encryption -o "$T/$k" >/dev/null 2>&1 || { echo "Bail out! keygen"; exit 1; }; done
pga keygen -o "$T/ed" >/dev/null 2>&1

SP=$T/spool
SITE=$T/site.conf
cat >"$SITE" <<CONF
[global]
spool-path = $SP
collector = enc-site
segment-max-age = 1h
encrypt-to = $T/central.pub,$T/site2.pub
[target:src]
conninfo = $(pg_conninfo src postgres)
[dest:s3]
url = s3://pga/enc
endpoint = $S3_URL
path-style = on
access-key-id = S3RVER
secret-access-key = S3RVER
[dest:az]
url = azure://$A/pga/enc
endpoint = $AZURITE_URL/$A
account-key = $AZKEY
CONF
chmod 600 "$SITE"
CEN=$T/central.conf
{ sed -n '/^\[dest:s3\]/,$p' "$SITE"; } >"$T/dests"
printf '[global]\ncentral = %s\n' "$(pg_conninfo cen central)" | cat - "$T/dests" >"$CEN"
chmod 600 "$CEN"
DK="--decrypt-key-file $T/central.key"

# ---- encrypt-to: a file that is no X25519 public key ----
sed "s|^encrypt-to = .*|encrypt-to = $T/ed.pub|" "$SITE" >"$T/bad.conf"; chmod 600 "$T/bad.conf"
run_fails 1 "an Ed25519 key in encrypt-to is refused" pga -c "$T/bad.conf" collect
like "$(last_err)" "encrypt-to: '$T/ed.pub' is not an X25519 key" "  says which file"
sed "s|^encrypt-to = .*|encrypt-to = $T/none.pub|" "$SITE" >"$T/bad.conf"
run_fails 1 "a missing encrypt-to file is refused" pga -c "$T/bad.conf" collect
[ -z "$(find "$T/spool/ready" -name '*.pga.zst' 2>/dev/null)" ]; ok $? "  and nothing was written"

# ---- collect, encrypted ----
run_ok "collect cycle 1, encrypted" pga -c "$SITE" collect
run_ok "collect cycle 2" pga -c "$SITE" collect
segs=$(find "$SP/ready" -name '*.pga.zst' | sort)
is "$(echo "$segs" | wc -l)" 2 "two sealed segments"
run_ok "zstd -t passes on encrypted segments" zstd -qt $segs
# what a stolen collector holds: its spool, its config, the public keys
found=0
for f in $segs "$SITE" "$T/central.pub" "$T/site2.pub"; do grep -qa "$MARK" "$f" && found=1; done
is "$found" 0 "the marker is in no raw segment, config or public key"
is "$(zstdcat $segs 2>/dev/null | wc -c)" 0 "zstdcat shows nothing of encrypted segments"
run_fails 1 "spool cat with the collector's config alone is refused" pga -c "$SITE" spool cat "$(echo "$segs" | head -1)"
like "$(last_err)" "is encrypted: reading it needs its recipient's private key" "  says why"
chmod 600 "$T/central.pub"
run_fails 1 "a public key as decrypt-key-file is refused" \
	pga -c "$SITE" spool cat --decrypt-key-file "$T/central.pub" "$(echo "$segs" | head -1)"
like "$(last_err)" "holds no PEM private key" "  says why"
chmod 644 "$T/central.pub"
run_ok "spool cat with the central key shows the rows" \
	pga -c "$SITE" spool cat $DK "$(echo "$segs" | head -1)"
grep -q "$MARK" "$OUT"; ok $? "  the marker was collected (so its absence above means something)"
run_ok "spool verify without a key checks all but the plaintext" pga -c "$SITE" spool verify
like "$(last_out)" "encrypted: not decrypted \\(no decrypt-key-file\\)" "  and says so"
run_ok "spool verify with the key decrypts and authenticates" pga -c "$SITE" spool verify $DK
like "$(last_out)" "2 segments verified, 0 failed" "  both"
like "$(last_out)" "encrypted: decrypted and authenticated" "  says so"
run_ok "the second recipient's key decrypts too" \
	pga -c "$SITE" spool verify --decrypt-key-file "$T/site2.key"
run_fails 1 "another key does not" pga -c "$SITE" spool verify --decrypt-key-file "$T/wrong.key"
like "$(last_out)" "none of them can decrypt it \\[key\\]" "  a key error, named"
[ -z "$(ls "$SP/quarantine" 2>/dev/null)" ]; ok $? "  a question of the key: nothing quarantined"
for mode in 644 640 604; do
	chmod "$mode" "$T/central.key"
	run_fails 1 "decrypt-key-file of mode $mode is refused" pga -c "$SITE" spool verify $DK
	like "$(last_err)" "decryption key '$T/central.key' has mode 0$mode: it must be 0600" "  says which and why"
done
chmod 600 "$T/central.key"

# ---- kill -9 during an encrypted collect: recovered without any private key ----
"$PGA_BIN" -c "$SITE" collect --loop --interval 1s 2>"$T/loop.err" &
pid=$!
for _ in $(seq 1 100); do
	p=$(ls "$SP"/tmp/*.part 2>/dev/null | head -1)
	[ -n "$p" ] && [ "$(helper part-blocks "$p" 2>/dev/null | wc -l)" -ge 8 ] && break
	sleep 0.1
done
kill -9 "$pid"; wait "$pid" 2>/dev/null
[ -n "$(ls "$SP"/tmp/*.part 2>/dev/null)" ]; ok $? "kill -9 left an open part"
run_ok "the next collect recovers it (it has no private key)" pga -c "$SITE" collect
like "$(last_err)" "recovered segment|finished sealing segment" "  and says so"
[ -z "$(ls "$SP"/tmp/*.part 2>/dev/null)" ]; ok $? "  no part left"
run_ok "every segment verifies with the key, the recovered one included" pga -c "$SITE" spool verify $DK
like "$(last_out)" "4 segments verified, 0 failed" "  four segments"
sum_rows() { sed -n 's/^ok .*(\([0-9]*\) blocks, \([0-9]*\) rows.*/\2/p' | awk '{ s += $1 } END { print s + 0 }'; }
WANT=$(last_out | sum_rows)
mkdir "$T/orig" && cp -r "$SP/ready/." "$T/orig/"

# ---- ship (opaque files) to s3rver and azurite ----
run_ok "ship to s3rver and azurite" pga -c "$SITE" ship
is "$(find "$SP/ready" -name '*.pga.zst' | wc -l)" 0 "both confirmed every segment"
helper dest-list "$SITE" az >"$T/az.list"
is "$(wc -l <"$T/az.list")" 4 "azurite holds the four"
found=0
while read -r name _; do helper dest-get "$SITE" az "$name" | grep -qa "$MARK" && found=1; done <"$T/az.list"
is "$found" 0 "the marker is in no blob"

# ---- load from the S3 bucket: without a key, with the wrong one, with the right one ----
run_ok "central: init" pga -c "$CEN" load --init
run_fails 2 "load without decrypt-key-file refuses every encrypted segment" pga -c "$CEN" load --from dest:s3
like "$(last_err)" "is encrypted and no decrypt-key-file is set: refused, nothing of it loaded" "  says why"
is "$(metric_rows central)" 0 "  nothing loaded"
run_fails 2 "load with the wrong key refuses them" pga -c "$CEN" load --from dest:s3 --decrypt-key-file "$T/wrong.key"
like "$(last_err)" "encrypted to key [0-9a-f]{16}, [0-9a-f]{16}; decrypt-key-file holds key [0-9a-f]{16}: none" \
	"  names the keys"
is "$(metric_rows central)" 0 "  nothing loaded"
is "$(q central "SELECT count(*) FROM pga.quarantine WHERE kind = 'rejected' AND resolved_at IS NULL")" 4 \
	"  each refusal recorded"
run_ok "status --central shows the refusals" pga -c "$CEN" status --central
like "$(last_out)" "none of them can decrypt it" "  with the reason"
run_ok "load with decrypt-key-file" pga -c "$CEN" load --from dest:s3 $DK
like "$(last_out)" "loaded 4 of 4 segments" "  all four"
is "$(q central "SELECT sum(total_rows) FROM pga.segments")" "$WANT" "  the ledger's rows are the verified segments' rows"
is "$(q central "SELECT count(*) FROM pga.quarantine WHERE resolved_at IS NULL")" 0 "  the refusals are resolved"
pg_psql cen central -At -c "SELECT count(*) FROM pga.pg_stat_user_tables WHERE relname = '$(echo $MARK | tr A-Z a-z)'" >"$T/m"
ok $([ "$(cat "$T/m")" -ge 1 ]; echo $?) "  the marker table's statistics are there, decrypted"
run_ok "restore --verify-only without the key" pga -c "$CEN" restore --verify-only --from dest:az
like "$(last_out)" "note +4 encrypted segments checked without decrypt-key-file" "  says what it could not check"
run_ok "restore --verify-only with the key" pga -c "$CEN" restore --verify-only --from dest:az $DK
unlike() { if [[ "$1" =~ $2 ]]; then ok 1 "$3"; else ok 0 "$3"; fi; }
unlike "$(last_out)" "encrypted segments checked without" "  decrypts every one"
run_ok "restore from azurite with decrypt-key-file" \
	pga -c "$CEN" restore --db "$(pg_conninfo cen restored)" --from dest:az $DK
tables_rows central >"$T/rows.central"
tables_rows restored >"$T/rows.restored"
same_files "restored from azurite: the same rows in every table" "$T/rows.central" "$T/rows.restored"

# ---- the same data in plaintext loads the same rows ----
printf 'id,v\n' >/dev/null
rows() { for i in $(seq 1 500); do echo "$i,row $i of $MARK"; done; }
for kind in plain enc; do
	printf '[global]\ncollector = put-%s\nspool-path = %s/sp-%s\n' "$kind" "$T" "$kind" >"$T/$kind.conf"
	[ $kind = enc ] && printf 'encrypt-to = %s/central.pub\nsign-key-file = %s/ed.key\n' "$T" "$T" >>"$T/$kind.conf"
	rows | pga -c "$T/$kind.conf" spool put --metric enc_cmp --columns id,v --time 2026-01-01T00:00:00Z 2>/dev/null
done
grep -rqa "$MARK" "$T/sp-enc/ready"; is "$?" 1 "spool put encrypts too"
run_ok "a signed and encrypted segment: its signature checks without the private key" \
	pga spool verify --public-key "$T/ed.pub" "$T/sp-enc/ready"
like "$(last_out)" "signed by key [0-9a-f]{16}, encrypted: not decrypted" "  both said"
run_ok "load the plaintext one" pga load --init --db "$(pg_conninfo cen plain)" --from "$T/sp-plain"
run_ok "load the encrypted one" pga load --db "$(pg_conninfo cen plain)" --from "$T/sp-enc" $DK
is "$(q plain "SELECT count(*) FROM pga.enc_cmp GROUP BY collector_id ORDER BY 1" | tr '\n' ' ')" "500 500 " \
	"the same row counts"
is "$(q plain "SELECT count(*) FROM (SELECT id, v FROM pga.enc_cmp WHERE collector_id = (SELECT min(collector_id) FROM pga.enc_cmp) EXCEPT SELECT id, v FROM pga.enc_cmp WHERE collector_id = (SELECT max(collector_id) FROM pga.enc_cmp)) x")" \
	0 "and the same rows"

# ---- load --loop reads decrypt-key-file again on SIGHUP, all or nothing ----
LC=$T/loop.conf
printf '[global]\ncentral = %s\nload-interval = 200ms\ndecrypt-key-file = %s\n' \
	"$(pg_conninfo cen loop)" "$T/wrong.key" >"$LC"
pga -c "$LC" load --init >/dev/null 2>&1
"$PGA_BIN" -c "$LC" load --loop --from "$T/sp-enc" >/dev/null 2>"$T/loop.log" &
lpid=$!
waitfor() { for _ in $(seq 1 100); do eval "$1" && return 0; sleep 0.1; done; return 1; }
waitfor 'grep -q "none of them can decrypt" "$T/loop.log"'; ok $? "load --loop with the wrong key refuses"
sed -i "s|^decrypt-key-file = .*|decrypt-key-file = $T/none.key|" "$LC"
kill -HUP "$lpid"
waitfor 'grep -q "configuration not reloaded" "$T/loop.log"'; ok $? "  a reload naming a missing key is refused"
like "$(cat "$T/loop.log")" "decrypt-key-file: could not open decryption key '$T/none.key'" "  says why"
sed -i "s|^decrypt-key-file = .*|decrypt-key-file = $T/wrong.key,$T/central.key|" "$LC"
kill -HUP "$lpid"
waitfor '[ "$(q loop "SELECT count(*) FROM pga.enc_cmp" 2>/dev/null)" = 500 ]'
ok $? "  after a reload with the right key among two, the next pass loads it"
kill -TERM "$lpid"; wait "$lpid" 2>/dev/null

# ---- attacks: each its own error, nothing of the segment loaded ----
run_ok "init a fresh central database" pga load --init --db "$(pg_conninfo cen attack)"
ADB=$(pg_conninfo cen attack)
S1=$(find "$T/orig" -name '*0001-*.pga.zst')
S2=$(find "$T/orig" -name '*0002-*.pga.zst')
nblocks=$(pga spool verify "$S1" | sed -n 's/^ok .*(\([0-9]*\) blocks.*/\1/p')
last=$((nblocks - 1))
attack() {	# NAME then the helper's seg-crypt arguments after FILE
	local name=$1 d=$T/attack-$1
	shift
	mkdir -p "$d/$(dirname "${S1#$T/orig/}")"
	cp "$S1" "$d/${S1#$T/orig/}"
	helper seg-crypt "$1" "$d/${S1#$T/orig/}" "${@:2}" || echo "Bail out! seg-crypt $1"
	pga load --db "$ADB" --from "$d" $DK >"$OUT" 2>"$ERR"
}
central_says() {	# WHAT: the refusal is what status --central shows for it
	pga status --central --db "$ADB" >"$T/st" 2>&1
	like "$(cat "$T/st")" "quarantined \\(corrupt\\): .*$1" "  recorded, status --central shows it"
}
attack flip flip "$last"
is "$?" 2 "a flipped ciphertext bit in the last block (CRCs made to fit): refused, exit 2"
like "$(last_err)" "block $last: chunk 0 fails authentication" "  authentication names the block"
central_says "block $last: chunk 0 fails authentication"
attack flipraw flip-raw "$last"
is "$?" 2 "a flipped ciphertext bit as it comes: refused"
like "$(last_err)" "block $last: chunk 0 fails authentication" "  authenticated before its CRC is checked"
run_fails 1 "  without the key, spool verify sees it by the CRC" pga spool verify "$T/attack-flipraw"
like "$(last_out)" "block $last: data frame crc32c mismatch" "  so says"
attack swap swap "$S2" 1
is "$?" 2 "block 1 taken from another segment: refused"
like "$(last_err)" "block 1: chunk 0 was sealed under another segment's data key" "  named as such"
central_says "another segment's data key"
attack cut cut-wrapped
is "$?" 2 "a truncated wrapped key: refused"
like "$(last_err)" "the wrapped data key for recipient [0-9a-f]{16} is 47 bytes, not 48" "  says so"
central_says "is 47 bytes, not 48"
is "$(metric_rows attack)" 0 "nothing of any attacked segment was loaded"
is "$(q attack "SELECT count(*) FROM pga.segments")" 0 "  and none is in the ledger"
run_ok "the genuine segments load there afterwards" pga load --db "$ADB" --from "$T/orig" $DK
tables_rows attack >"$T/rows.attack"
same_files "  the same rows as the central database" "$T/rows.central" "$T/rows.attack"
done_testing
