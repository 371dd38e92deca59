#!/usr/bin/env bash
# Trust at the central side: the collector registry (pga collectors), the
# loader under require-signature (unsigned, unknown key, another collector's
# key, revoked key, rotated key: each refused or loaded, recorded with its
# reason, shown by status --central, in the exit status), unsigned segments
# without the setting, and the ledger's hash chain under
# `pga status --central --verify` (a row updated, deleted or inserted by
# hand, a stored signature changed).
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/pg.sh"

pg_start central
pg_psql central postgres -c "CREATE DATABASE c1"
DB=$(pg_conninfo central c1)
q() { pg_psql central c1 -At -c "$1"; }
T=$TEST_TMP
run_ok "init" pga load --init --db "$DB"
for k in ka ka2 kb kx; do pga keygen -o "$T/$k" >/dev/null 2>&1 || { echo "Bail out! keygen"; exit 1; }; done

# put COLLECTOR KEY|- : one more segment in that collector's spool
put() {
	local c=$1 key=$2
	printf '[global]\ncollector = %s\nspool-path = %s/sp-%s\n' "$c" "$T" "$c" >"$T/$c.conf"
	[ "$key" != - ] && printf 'sign-key-file = %s/%s.key\n' "$T" "$key" >>"$T/$c.conf"
	printf '1,%s\n2,%s\n' "$c" "$c" | pga -c "$T/$c.conf" spool put --metric trust_test --columns id,v 2>/dev/null
}
lr() { pga load --db "$DB" --require-signature --from "$T/sp-$1"; }
qrec() { q "SELECT kind || ': ' || error FROM pga.quarantine WHERE collector = '$1' AND resolved_at IS NULL ORDER BY seq"; }

# ---- the registry ----
run_ok "collectors add" pga collectors add site-a --db "$DB" --public-key "$T/ka.pub" \
	--environment prod --group eu-west --description "first site"
like "$(last_out)" "collector 'site-a' registered with key [0-9a-f]{16}" "  says what it did"
run_ok "collectors add site-b" pga collectors add site-b --db "$DB" --public-key "$T/kb.pub"
run_fails 1 "a key registered to site-b cannot be added to site-c" \
	pga collectors add site-c --db "$DB" --public-key "$T/kb.pub"
like "$(last_err)" "registered to collector 'site-b' already" "  says to whom"
run_fails 1 "a file that is no public key" pga collectors add site-d --db "$DB" --public-key "$T/ka.key"
run_fails 64 "--public-key is required" pga collectors add site-d --db "$DB"
run_fails 1 "an invalid collector id" pga collectors add '../x' --db "$DB" --public-key "$T/kx.pub"
run_ok "collectors list" pga collectors list --db "$DB"
like "$(last_out)" "site-a +prod +eu-west +[0-9a-f]{16} +- +first site" "  site-a with its fields"
run_ok "collectors list --json" pga collectors list --db "$DB" --json
cp "$OUT" "$T/list.json"
run_ok "  is JSON with each key" python3 -c '
import json,sys
l=json.load(open(sys.argv[1]))
assert [(e["collector"], e["environment"], e["group"]) for e in l] == [("site-a","prod","eu-west"),("site-b","","")], l
assert all(len(e["key_id"]) == 64 for e in l), l' "$T/list.json"
is "$(q "SELECT count(*) FROM pga.collectors")" 0 "registering loads nothing"

# ---- require-signature ----
put site-a ka; put site-a ka
run_ok "site-a's signed segments load under require-signature" lr site-a
like "$(last_out)" "loaded 2 of 2 segments" "  both"
is "$(q "SELECT string_agg(seq || ':' || (signed_key_id IS NOT NULL), ' ' ORDER BY seq) FROM pga.segments")" \
	"1:true 2:true" "  the ledger records their signatures"

put site-u -
run_fails 2 "an unsigned segment is refused" lr site-u
like "$(last_err)" "not signed, and require-signature is on" "  the log says why"
like "$(qrec site-u)" "^signature: .*not signed, and require-signature is on" "  recorded in quarantine"

put site-x kx
run_fails 2 "a segment signed by an unknown key is refused" lr site-x
like "$(qrec site-x)" "^signature: .*signed by key [0-9a-f]{16}, which is not registered" "  recorded: not registered"

put site-c kb
run_fails 2 "site-c signing with site-b's key is refused" lr site-c
like "$(qrec site-c)" "^signature: .*registered to collector 'site-b', not 'site-c'" \
	"  recorded: another collector's key"
is "$(q "SELECT count(*) FROM pga.trust_test WHERE v <> 'site-a'")" 0 "not one row of the refused segments"

# a forged copy: site-b's key id on site-a's segment cannot be made to verify;
# a segment from site-a signed with site-a's key but carried under site-b's name
# is refused by name before that (FORMAT.md "Names")

# ---- revocation and rotation ----
run_ok "collectors revoke site-a's first key" pga collectors revoke site-a --db "$DB" --public-key "$T/ka.pub"
like "$(last_out)" "1 key\(s\) of collector 'site-a' revoked from" "  says so"
run_fails 1 "revoking a collector with no keys" pga collectors revoke site-zz --db "$DB"
run_ok "collectors add a second key (rotation)" pga collectors add site-a --db "$DB" --public-key "$T/ka2.pub"
sleep 1
put site-a ka
run_fails 2 "a segment signed after the revocation is refused" lr site-a
like "$(qrec site-a)" "^signature: .*signed by key [0-9a-f]{16} of 'site-a', revoked from .*; the segment was created at" \
	"  recorded: revoked, with both times"
mkdir "$T/revoked" && mv "$T/sp-site-a/ready/site-a" "$T/revoked/"	# out of the next runs
put site-a ka2
run_ok "the rotated key's segment loads" lr site-a
is "$(q "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM pga.segments s JOIN pga.collectors c USING (collector_id) WHERE c.collector = 'site-a'")" \
	"1,2,4" "  site-a's ledger: 1, 2 (old key, before revocation), 4 (new key); 3 refused"
is "$(q "SELECT kind FROM pga.quarantine WHERE collector = 'site-a' AND seq = 3")" "signature" "  seq 3 stays refused"

run_fails 1 "status --central warns (refusals need attention)" pga status --spool "$T/sp-site-a" --central --db "$DB"
like "$(last_out)" "signature" "  and shows the signature refusals"

# restore applies it too (its registry is in the fresh database it builds)
pg_psql central postgres -c "CREATE DATABASE r1" >/dev/null
RDB=$(pg_conninfo central r1)
run_fails 2 "restore --require-signature into a fresh database refuses what no registry vouches for" \
	pga restore --db "$RDB" --require-signature --from "$T/sp-site-u"
is "$(pg_psql central r1 -At -c "SELECT kind FROM pga.quarantine")" "signature" "  recorded as a signature refusal"

# ---- without require-signature ----
run_ok "without the setting an unsigned segment loads" pga load --db "$DB" --from "$T/sp-site-u"
is "$(q "SELECT count(*) FROM pga.segments s JOIN pga.collectors c USING (collector_id) WHERE c.collector = 'site-u' AND signed_key_id IS NULL")" \
	1 "  marked unsigned in the ledger"
is "$(q "SELECT count(*) FROM pga.quarantine WHERE collector = 'site-u' AND resolved_at IS NULL")" 0 \
	"  its refusal is resolved by the load"
run_ok "PGA_REQUIRE_SIGNATURE=on in the environment works as the flag" true
PGA_REQUIRE_SIGNATURE=on pga load --db "$DB" --from "$T/sp-site-x" >"$OUT" 2>"$ERR"
is "$?" 2 "  the unknown key is refused again"

run_ok "without the setting the revoked key's segment loads (fills the gap)" \
	pga load --db "$DB" --from "$T/revoked"

# ---- remove ----
run_ok "collectors remove" pga collectors remove site-b --db "$DB"
run_fails 1 "remove it twice" pga collectors remove site-b --db "$DB"
like "$(last_err)" "no registered collector 'site-b'" "  says so"

# ---- the ledger proves itself ----
q "UPDATE pga.quarantine SET resolved_at = now() WHERE resolved_at IS NULL" >/dev/null
V() { pga status --spool "$T/sp-site-a" --central --db "$DB" --verify; }
run_ok "--verify: an untouched ledger" V
like "$(last_out)" "verify: 0 findings" "  no finding"
like "$(last_out)" "ledger head: [0-9a-f]{64}" "  prints the head to keep elsewhere"
q "CREATE TABLE public.bak AS SELECT * FROM pga.segments" >/dev/null
restore() { q "DELETE FROM pga.segments; INSERT INTO pga.segments SELECT * FROM public.bak" >/dev/null; }

q "UPDATE pga.segments SET size = size + 1 WHERE seq = 2" >/dev/null
run_fails 2 "a ledger row updated by hand is found" V
like "$(last_out)" "LEDGER   row [0-9]+ \(collector 'site-a' seq 2\): its content does not match its hash" "  names the row"
like "$(last_out)" "CRITICAL +central ledger: 1 verify finding" "  and the verdict is critical"
restore
q "UPDATE pga.segments SET name = 'x' || name WHERE seq = 1 AND collector_id = (SELECT collector_id FROM pga.collectors WHERE collector = 'site-u')" >/dev/null
run_fails 2 "another column updated (the name) is found" V
like "$(last_out)" "collector 'site-u' seq 1\): its content does not match" "  names that row"
restore

mid=$(q "SELECT ledger_no FROM pga.segments ORDER BY ledger_no OFFSET 1 LIMIT 1")
q "DELETE FROM pga.segments WHERE ledger_no = $mid" >/dev/null
run_fails 2 "a ledger row deleted by hand is found" V
like "$(last_out)" "the chain is broken before it \(a row deleted or inserted" "  the next row's link is broken"
restore
q "DELETE FROM pga.segments WHERE ledger_no = (SELECT min(ledger_no) FROM pga.segments)" >/dev/null
run_fails 2 "the first ledger row deleted is found" V
restore

q "INSERT INTO pga.segments (collector_id, seq, sha256, body_sha256, prev_sha256, name, size, created, blocks, total_rows, rows, recovered, complete)
   SELECT collector_id, 99, sha256, body_sha256, prev_sha256, name || '.forged', size, created, blocks, total_rows, rows, recovered, complete
   FROM pga.segments WHERE seq = 1 LIMIT 1" >/dev/null
run_fails 2 "a ledger row inserted by hand is found" V
like "$(last_out)" "seq 99: a ledger row outside the hash chain \(inserted behind pga's back\)" "  names it"
restore
q "INSERT INTO pga.segments (collector_id, seq, sha256, body_sha256, prev_sha256, name, size, created, blocks, total_rows, rows, recovered, complete, ledger_no, prev_row_hash, row_hash)
   SELECT collector_id, 98, sha256, body_sha256, prev_sha256, name || '.forged', size, created, blocks, total_rows, rows, recovered, complete, ledger_no + 1000, row_hash, row_hash
   FROM pga.segments ORDER BY ledger_no DESC LIMIT 1" >/dev/null
run_fails 2 "a row appended with a made-up hash is found" V
like "$(last_out)" "seq 98\): its content does not match its hash" "  names it"
restore

# a stored signature changed, and the row's hash recomputed to match
q "UPDATE pga.segments SET signature = set_byte(signature, 0, get_byte(signature, 0) # 1) WHERE seq = 1 AND signed_key_id IS NOT NULL;
   UPDATE pga.segments t SET row_hash = pga.ledger_hash(prev_row_hash, ledger_no, collector_id, seq, sha256, body_sha256, prev_sha256, name, size, created, signed_key_id, signature) WHERE seq = 1 AND signed_key_id IS NOT NULL" >/dev/null
run_fails 2 "a stored signature that no longer verifies is found" V
like "$(last_out)" "SIGNATURE collector 'site-a' seq 1: the stored signature by key [0-9a-f]{16} does not verify" \
	"  names it"
restore
run_ok "--verify after restoring: clean again" V
done_testing
