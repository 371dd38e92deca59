#!/usr/bin/env bash
# SIGHUP on pga ship --loop: the uploads in flight finish, then the
# configuration is read again.  HUP at random moments of rate-limited passes
# and twice in a row: never an exit, no .part left, every segment delivered
# once (the counters say so); a new destination gets what the spool holds,
# a removed one gets nothing more, ship-interval and log-level change; a
# broken configuration of any kind is refused in one line and the old one
# goes on; HUP then TERM ends cleanly; a one-shot ship ignores HUP.
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/shiptest.sh"

SP=$TEST_TMP/spool
A=$TEST_TMP/a
B=$TEST_TMP/b
C=$TEST_TMP/pga.conf
LOG=$TEST_TMP/ship.log
mkdir -p "$A" "$B"
wait_for() {	# SECONDS CMD...
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
count() { grep -c -- "$1" "$LOG"; }
more_of() { [ "$(count "$1")" -ge "$2" ]; }
files_in() { find "$1" -name '*.pga.zst' | wc -l; }
has_n() { [ "$(files_in "$1")" -ge "$2" ]; }
counter() { sed -n "s/^$1 //p" "$SP/counters"; }
alive() { kill -0 $SHIP 2>/dev/null; }

ship_conf "$C" "$SP" "spool-retain = 1h" "[dest:a]" "url = file://$A" "rate-limit = 100K" "max-parallel = 2"
fill_spool "$SP" c1 30 25000
"$PGA_BIN" -c "$C" ship --loop 2>"$LOG" &
SHIP=$!
at_exit "kill -9 $SHIP"

# ---- HUP at random moments while uploads are in flight ----
dead=0
for i in 1 2 3 4 5; do
	sleep "0.$((2 + RANDOM % 8))"
	kill -HUP $SHIP
	[ $i = 3 ] && kill -HUP $SHIP	# twice in a row
	sleep 0.05
	alive || dead=1
done
is "$dead" 0 "alive after every SIGHUP"
wait_for 15 more_of "configuration reloaded" 5; ok $? "each reloads once its uploads in flight are done"
wait_for 30 has_n "$A" 30; ok $? "every segment arrives"
is "$(count 'received SIGHUP')" "$(count 'configuration reloaded')" "every request logged and done"
is "$(find "$A" -name '*.part' | wc -l)" 0 "no .part left in the destination"
is "$(tree_manifest "$A")" "$(spool_manifest "$SP")" "the destination holds the spool's segments, byte-identical"
wait_for 3 bash -c "[ \"\$(sed -n 's/^segments_shipped //p' '$SP/counters')\" = 30 ]"
is "$(counter segments_shipped)" 30 "segments_shipped is 30: nothing sent twice"
is "$(counter ship_errors)" 0 "no errors"
is "$(count 'error')" 0 "nothing logged as an error"

# ---- broken configurations are refused, the old one goes on ----
refused=0
refuse() {	# DESC REGEX
	kill -HUP $SHIP
	refused=$((refused + 1))
	wait_for 10 more_of "configuration not reloaded" $refused
	like "$(grep 'configuration not reloaded' "$LOG" | tail -1)" \
		"error: configuration not reloaded, keeping the previous one: $2" "$1: refused"
	alive; ok $? "  the shipper goes on"
}
good() { ship_conf "$C" "$SP" "spool-retain = 1h" "$@" "[dest:a]" "url = file://$A"; }	# [global] LINES
good; echo "junk" >>"$C"
refuse "a syntax error" "$C:8: syntax error"
good "[dest:x]" "url = ftp://host/x"
refuse "an unknown scheme" "\\[dest:x\\]: unknown url scheme 'ftp://'"
good "[dest:s3]" "url = s3://bucket/x" "access-key-id = k" "secret-access-key = s"; chmod 644 "$C"
refuse "a world-readable secret key" "$C:9: 'secret-access-key' holds a secret"
good "[dest:b]" "url = file://$B" "enabled = off" && sed -i 's|^url = file://'"$A"'$|&\nenabled = off|' "$C"
refuse "every destination disabled" "every destination is disabled"
ship_conf "$C" "$SP" "spool-retain = forever" "[dest:a]" "url = file://$A"
refuse "a bad spool-retain" "spool-retain must be 'shipped' or a duration"
rm "$C"; mkdir "$C"
refuse "the file replaced by a directory" "config file '$C' is a directory"
rmdir "$C"
good
fill_spool "$SP" c1 2 5000
wait_for 10 has_n "$A" 32; ok $? "the old configuration still ships"
is "$(files_in "$B")" 0 "nothing went where the broken ones pointed"

# ---- a good one: a destination added, ship-interval, log-level ----
good "log-level = debug" "[dest:b]" "url = file://$B"	# [dest:b] first
reload() {	# DESC REGEX: HUP, wait for the reload, check its line
	local n
	n=$(count "configuration reloaded")
	kill -HUP $SHIP
	wait_for 10 more_of "configuration reloaded" $((n + 1))
	like "$(grep 'configuration reloaded' "$LOG" | tail -1)" "$2" "$1"
}
reload "reloaded with 2 destinations" "reloaded from '$C': 2 destinations"
wait_for 10 has_n "$B" 32; ok $? "the new destination gets everything the spool holds"
is "$(tree_manifest "$B")" "$(spool_manifest "$SP")" "  byte-identical"
like "$(cat "$LOG")" "debug: dest 'b': shipped '" "log-level debug is in effect"

# a destination removed, ship-interval 3s
ship_conf "$C" "$SP" "spool-retain = 1h" "[dest:b]" "url = file://$B"
sed -i 's/^ship-interval = .*/ship-interval = 3s/' "$C"
reload "reloaded with 1 destination" "reloaded from '$C': 1 destinations"
sleep 0.5
fill_spool "$SP" c1 1 5000
sleep 0.7
is "$(files_in "$B")" 32 "ship-interval = 3s: a new segment waits for the next pass"
wait_for 6 has_n "$B" 33; ok $? "  and goes with it"
is "$(files_in "$A")" 32 "the removed destination got nothing more"

# ---- HUP then TERM ----
kill -HUP $SHIP
kill -TERM $SHIP
wait $SHIP
is "$?" 0 "HUP then TERM: exit 0"
is "$(find "$A" "$B" -name '*.part' | wc -l)" 0 "no .part left"
is "$(counter segments_shipped)" $(($(files_in "$A") + $(files_in "$B"))) \
	"segments_shipped equals the deliveries on disk"

# ---- a one-shot ship ignores HUP ----
ship_conf "$C" "$SP" "[dest:b]" "url = file://$B" "rate-limit = 100K"
fill_spool "$SP" c1 6 25000
LOG=$TEST_TMP/one.log
"$PGA_BIN" -c "$C" ship 2>"$LOG" &
ONE=$!
sleep 0.5
kill -HUP $ONE
wait $ONE
is "$?" 0 "one-shot ship: HUP does not end it"
is "$(find "$SP/ready" -type f | wc -l)" 0 "  everything was shipped"
is "$(find "$B" -name '*.part' | wc -l)" 0 "  no .part left"
like "$(cat "$LOG")" "received SIGHUP: 'pga ship' does not reload its configuration" "  and it says it ignored the HUP"
done_testing
