#!/usr/bin/env python3
"""torture_oracle.py EVIDENCE LOADS COLLECTOR

The torture's judge (tests/lib/torture.sh gathers EVIDENCE).  The truth is
the witness: a copy of every segment the collector sealed, taken from its
spool as it appeared, dropped ones included.  Against it:

  lost        every sealed segment is loaded centrally with its own hash,
              or dropped by spool-full = drop-oldest (named in the
              collector's log, counted), or quarantined in the spool
  duplicated  nothing loaded twice: no fake in the ledger, each segment's
              rows once in the metric tables
  silent      every refusal and every held segment is explained (a forged
              or cloned segment), recorded, and shown by status --central
  counters    each spool counter equals what the witness, the log, the
              destinations and the central database say happened
  snapshots   snapshot_status rows against the counters and the blocks

Prints one line per check: "ok|fail<TAB>name<TAB>detail".
"""
import json
import os
import re
import sys
from collections import Counter, defaultdict

ev, loads_dir, collector = sys.argv[1:4]
checks = []


def check(name, good, detail=""):
    checks.append(("ok" if good else "fail", name, str(detail)))


def eq(name, got, want, detail=""):
    check(name, got == want, "%s (got %s, want %s)" % (detail, got, want) if detail
          else "got %s, want %s" % (got, want))


def lines(f):
    p = os.path.join(ev, f)
    if not os.path.exists(p):
        return []
    with open(p, encoding="utf-8", errors="surrogateescape") as fh:
        return [l.rstrip("\n") for l in fh if l.strip()]


def seq_of(name):
    return int(os.path.basename(name)[:16], 16)


def summary(f):
    """name -> dict, from helper seg-summary"""
    out, bad = {}, []
    for l in lines(f):
        p = l.split("\t")
        if len(p) < 11 or p[1] == "error":
            bad.append(l)
            continue
        out[p[0]] = dict(name=p[0], collector=p[1], seq=int(p[2]), sha=p[3], prev=p[4],
                         blocks=int(p[5]), rows=int(p[6]), raw=int(p[7]),
                         recovered=p[8] == "1", torn=int(p[9]), host=p[10])
    return out, bad


facts = dict(l.split(" ", 1) for l in lines("facts"))
fakes = {}
for l in lines("fakes"):
    sha, kind, name = l.split(" ", 2)
    fakes[sha] = (kind, name)

# ---- the truth: what the collector sealed ----
wit_all, wit_bad = summary("witness.tsv")
check("the witness copies verify", not wit_bad, "; ".join(wit_bad[:3]))
W = {s["seq"]: s for s in wit_all.values() if s["collector"] == collector}
N = max(W) if W else 0
check("the collector sealed segments", N > 0, "%d sealed" % N)
missing = sorted(set(range(1, N + 1)) - set(W))
check("every seq from 1 to %d is known (the witness, or a destination copy its successor names)" % N,
      not missing, "not seen: %s" % missing[:20])
broken = [s for s in W if s > 1 and s - 1 in W and W[s]["prev"] != W[s - 1]["sha"]]
check("the genuine chain is whole", not broken, "breaks at %s" % broken[:10])
by_name = {s["name"]: s for s in W.values()}
sizes = {}
wdir = os.path.join(os.path.dirname(ev), "witness")
for s in W.values():
    sizes[s["seq"]] = os.path.getsize(os.path.join(wdir, s["name"]))

same = [v for k, v in fakes.items() if k in {w["sha"] for w in W.values()}]
check("the fakes are not genuine segments (the test's own bookkeeping)", not same, same[:3])

# ---- the collector's log: drops, torn parts, refused and failed blocks ----
log = lines("collect.log")
# a removal is said at least once (again when a restart finishes it), each
# line with its number
# a drop after some destinations confirmed the segment names them
# ("; delivered to 'dir', not to 's3'"): lost only for the others
drop_re = re.compile(r"spool full: dropped oldest segment '([^']+)' \((\d+) blocks, (\d+) rows, (\d+) bytes"
                     r"(?:; delivered to ((?:'[^']+'(?:, )?)+)(?:, not to (?:'[^']+'(?:, )?)+)?)?\)"
                     r" \[removal (\d+)\]")
dropped, removals, drop_had = {}, {}, {}
for l in log:
    m = drop_re.search(l)
    if m:
        dropped[m.group(1)] = tuple(int(x) for x in m.groups()[1:4])
        removals[int(m.group(6))] = m.group(1)
        drop_had[m.group(1)] = set(re.findall(r"'([^']+)'", m.group(5) or ""))
# a segment every destination had is removed, not dropped: with
# spool-retain = shipped only after a ship was killed between its last
# confirmation and the removal (the destination checks below hold them)
early = [m.group(1) for m in (re.search(r"spool full: removed segment '([^']+)' .*every consumer has it", l)
                              for l in log) if m]
E = {by_name[n]["seq"] for n in early if n in by_name}
dup_drop = len(removals) != len(dropped)
check("each dropped segment has one removal number", not dup_drop,
      "%d numbers for %d names" % (len(removals), len(dropped)))
D = {by_name[n]["seq"] for n in dropped if n in by_name}
check("every dropped segment named in the log was sealed", len(D) == len(dropped),
      [n for n in dropped if n not in by_name][:5])
# seq -> the destinations that had it when it was dropped (empty: lost)
HAD = {by_name[n]["seq"]: drop_had[n] for n in dropped if n in by_name}
DN = {s for s in D if not HAD[s]}
torn = {}
for l in log:
    m = re.search(r"removed part file '[^']*' \((\d+) bytes\): .* \[removal (\d+)\]", l)
    if m:
        torn[int(m.group(2))] = int(m.group(1))
torn_parts = sum(torn.values())
both_kinds = set(torn) & set(removals)
check("removal numbers are not shared between drops and torn parts", not both_kinds, sorted(both_kinds)[:5])
said = sorted(set(torn) | set(removals))
eq("every removal from the first to the last is said in the log", said, list(range(1, len(said) + 1)))
refused_lines = sum(1 for l in log if re.search(r"block '[^']*' of target .* refused: ", l))
failed_lines = sum(1 for l in log if re.search(r"block '[^']*' of target .* not written: ", l))
# the full spool is a class of the mix only if it happened
check("the spool was full in the spool-full = block phases: blocks refused (%d)" % refused_lines,
      int(facts.get("block_phases", "0")) == 0 or refused_lines > 0, "no block refused")

# ---- the spool at the end ----
try:
    spool = json.load(open(os.path.join(ev, "spool.json")))
    C = spool["counters"]
except (ValueError, KeyError, OSError) as e:
    spool, C = {}, defaultdict(lambda: -1)
    check("pga spool ls --json", False, e)
quarantined = lines("quarantine.files")
Q = set()
for q in quarantined:
    b = os.path.basename(q)
    m = re.match(r"([0-9a-f]{16})-", b) or re.match(r".*\.([0-9a-f]{16})\.part$", b)
    if m:
        Q.add(int(m.group(1), 16))
left = [f for f in lines("spool.files") if f.endswith((".pga.zst", ".part", ".ok"))]
check("the spool is empty at the end (no segment, part or marker)", not left, left[:5])

# ---- central ----
ledger = {}
for l in lines("ledger.tsv"):
    seq, sha, blocks, total, rows, brefused, rrefused, rec = l.split("\t")
    ledger[int(seq)] = dict(sha=sha, blocks=int(blocks), total=int(total), rows=int(rows),
                            brefused=int(brefused), rrefused=int(rrefused))
held = [l.split("\t") for l in lines("held.tsv")]
quar = [l.split("\t") for l in lines("quarantine.tsv")]

lost = [s for s in range(1, N + 1)
        if not ((s in ledger and s in W and ledger[s]["sha"] == W[s]["sha"]) or s in D or s in Q)]
check("0 lost: every sealed segment is loaded, dropped (counted and logged) or quarantined",
      N > 0 and ledger and not lost, "%d lost: seqs %s" % (len(lost), lost[:20]))
both = sorted(DN & set(ledger))
check("no segment dropped before any destination had it was loaded", not both, "seqs %s" % both[:20])
unloaded = sorted(s for s in E if s not in ledger)
check("every segment a full spool removed as delivered everywhere (%d) was sealed and loaded" % len(early),
      len(E) == len(early) and not unloaded and not (E & D),
      "not sealed %s, not loaded %s, also dropped %s" % ([n for n in early if n not in by_name][:3],
                                                          unloaded[:5], sorted(E & D)[:5]))
partial = sorted(s for s in D - DN if s not in ledger)
check("every segment dropped after a destination had it (%d of %d drops) was loaded from there"
      % (len(D - DN), len(D)), not partial,
      "seqs %s" % partial[:20])
fake_loaded = [s for s, r in ledger.items() if r["sha"] in fakes or (s in W and r["sha"] != W[s]["sha"])]
check("0 duplicated: no forged or cloned segment in the ledger", ledger and not fake_loaded,
      fake_loaded[:10])
extra = sorted(s for s in ledger if s not in W)
check("the ledger holds nothing the collector did not seal", not extra, extra[:10])
wrong_rows = [s for s, r in ledger.items() if s in W and
              (r["total"] != W[s]["rows"] or r["blocks"] != W[s]["blocks"] or
               r["rows"] + r["rrefused"] != r["total"])]
check("each loaded segment: its blocks and rows as sealed", not wrong_rows, wrong_rows[:10])
central_rows = sum(int(l.split()[-1]) for l in lines("central.rows"))
ledger_rows = sum(r["rows"] for r in ledger.values())
eq("0 duplicated: rows in the metric tables = rows the ledger says were loaded", central_rows,
   ledger_rows if ledger_rows > 0 else "more than 0")
gaps = set()
for l in lines("gaps.tsv"):
    a, b = map(int, l.split("\t"))
    gaps |= set(range(a, b + 1))
eq("the central gaps of the collector are exactly the dropped and quarantined segments", sorted(gaps),
   sorted(s for s in (DN | Q) if s < max(ledger or [0])))

cb = [int(l) for l in lines("chain_breaks")]
check("the ledger never held a chain break (asked %d times during the run)" % len(cb),
      len(cb) > 1 and not any(cb), "counts: %s" % [c for c in cb if c][:5])

# ---- refusals: none silent, none of genuine data ----
# a genuine segment may be held while a fake took its place (kinds conflict
# and chain), until the fork is decided: then its record is resolved; the
# legacy collector's bad blocks are refused and recorded, one record each
legacy_bad = set()
for l in lines("legacy.bad"):
    seq, block, _first = l.split()
    legacy_bad.add((int(seq), int(block)))
legacy_q = {(int(q[3]), int(q[5])) for q in quar if q[2] == "legacy" and q[1] == "block" and q[6] == "22021"}
eq("every bad block of the legacy collector is recorded (segment, block, SQLSTATE 22021)",
   sorted(legacy_q), sorted(legacy_bad) if legacy_bad else "some")
st_txt = "\n".join(lines("status-central.txt"))
named = [b for b in legacy_bad if not re.search(r"refused \(block\): 'legacy/[^']*%016x-[^']*' block %d metric"
                                                 r" 'legacy_test' SQLSTATE 22021" % b, st_txt)]
check("status --central names every one", legacy_bad and not named, "not named: %s" % sorted(named)[:5])
lled = [l.split("\t") for l in lines("legacy.ledger")]
eq("the legacy collector: every segment loaded, the bad blocks only refused",
   (len(lled), sum(int(r[4]) for r in lled), sum(int(r[3]) for r in lled)),
   (40, len(legacy_bad), 40 * 3 * 4 - 4 * len(legacy_bad)))
lrows = (lines("legacy.rows") or ["?"])[0]
good_rows = (40 * 3 - len(legacy_bad)) * 4
eq("every good legacy row once in its table", lrows, "%d %d" % (good_rows, good_rows))
quar = [q for q in quar if not (q[2] == "legacy" and q[1] == "block")]
bad_q = [q for q in quar if q[4] not in fakes and (q[1] not in ("conflict", "chain") or q[7] != "t")]
check("0 silent refusals: no genuine segment or block refused centrally", not bad_q,
      ["%s %s block %s %s resolved %s" % (q[0], q[1], q[5], q[6], q[7]) for q in bad_q[:5]])
blocks_refused = sum(r["brefused"] for r in ledger.values())
eq("no block refused (no byte the loader cannot take)", blocks_refused, 0)
unresolved = [h for h in held if h[4] != "t"]
check("nothing held unresolved at the end", not unresolved, unresolved[:5])
held_shas = {h[2] for h in held}
dest_shas = set()
for f in ("dir.tsv", "s3.tsv"):
    dest_shas |= {s["sha"] for s in summary(f)[0].values()}
unrecorded = [v for k, v in fakes.items() if k in dest_shas and k not in held_shas]
check("every forged or cloned segment that reached a destination is held centrally",
      not unrecorded, unrecorded[:5])
kept_genuine = [h for h in held if h[2] not in fakes and h[5] != "loaded"]
check("no genuine segment discarded by a resolution", not kept_genuine, kept_genuine[:5])
st_exits = [l.split() for l in lines("status-central.exits")]
check("while segments were held, status --central said so (exit 2)",
      all(e[0] == "2" for e in st_exits), st_exits[:5])
try:
    st_rc = int(open(os.path.join(ev, "status-central.rc")).read())
    st = json.load(open(os.path.join(ev, "status-central.json")))
    # the verdict (cmd/health.h): gaps and refused blocks are warnings (1)
    want_rc = 0 if not (DN | Q | legacy_bad) else 1
    eq("status --central at the end: attention only for the dropped segments' gaps", st_rc, want_rc)
except (ValueError, OSError) as e:
    check("status --central --json", False, e)

# ---- destinations ----
for f, what, dest in (("dir.tsv", "the directory", "dir"), ("s3.tsv", "S3", "s3")):
    want_dest = {W[s]["name"]: W[s]["sha"] for s in W
                 if s not in Q and (s not in D or dest in HAD[s])}
    got, bad = summary(f)
    genuine = {n: s["sha"] for n, s in got.items() if s["sha"] not in fakes and s["collector"] == collector}
    check("%s holds every shipped segment, byte-identical, and nothing else" % what,
          want_dest and genuine == want_dest and not bad,
          "missing %s, extra %s, differ %s, unreadable %s" %
          (sorted(set(want_dest) - set(genuine))[:3], sorted(set(genuine) - set(want_dest))[:3],
           [n for n in genuine if n in want_dest and genuine[n] != want_dest[n]][:3], bad[:3]))
other = lines("dir.other")
check("no part file left in the directory", not other, other[:5])

# ---- counters against the truth ----
eq("segments_sealed = segments sealed", C["segments_sealed"], len(W))
eq("blocks_written = blocks in sealed segments", C["blocks_written"], sum(s["blocks"] for s in W.values()))
eq("rows_written = rows in sealed segments", C["rows_written"], sum(s["rows"] for s in W.values()))
eq("bytes_written = CSV bytes in sealed segments", C["bytes_written"], sum(s["raw"] for s in W.values()))
eq("segments_recovered = segments sealed by recovery", C["segments_recovered"],
   sum(1 for s in W.values() if s["recovered"]))
eq("bytes_torn = torn tails + part files removed", C["bytes_torn"],
   sum(s["torn"] for s in W.values()) + torn_parts)
eq("segments_dropped = segments the log says were dropped", C["segments_dropped"], len(dropped))
eq("blocks_dropped = blocks of the dropped segments", C["blocks_dropped"], sum(W[s]["blocks"] for s in D))
eq("rows_dropped = rows of the dropped segments", C["rows_dropped"], sum(W[s]["rows"] for s in D))
eq("bytes_dropped = sizes of the dropped segments", C["bytes_dropped"], sum(sizes[s] for s in D))
eq("drop log lines = the dropped segments' blocks and rows",
   sorted(dropped.values()), sorted((W[s]["blocks"], W[s]["rows"], sizes[s]) for s in D))
eq("segments_quarantined = files in quarantine/", C["segments_quarantined"], len(quarantined))
eq("blocks_refused = blocks the log names as refused", C["blocks_refused"], refused_lines)
eq("blocks_failed = blocks the log names as not written", C["blocks_failed"], failed_lines)

marks = dict(l.split() for l in lines("counters") if len(l.split()) == 2)
eq("the counters file says every seal is counted (sealed_seq)", int(marks.get("sealed_seq", -1)), N)
eq("the counters file counts every removal said (removals)", int(marks.get("removals", -1)),
   len(said))

# ---- snapshots ----
blocks = [l.split("\t") for l in lines("witness.blocks")]
per_snap = defaultdict(lambda: [0, 0])
for b in blocks:
    if b[-1] in by_name:
        k = (b[1], int(b[4]))
        per_snap[k][0] += 1
        per_snap[k][1] += int(b[3])
status = {}
dup_status = []
for l in lines("witness.status"):
    seg, target, snap, csv = l.split("\t", 3)
    if seg not in by_name:
        continue
    f = csv.split(",")
    k = (target, int(snap))
    if k in status:
        dup_status.append(k)
    status[k] = dict(seg=seg, status=f[0], blocks=int(f[1]), rows=int(f[2]),
                     metric_errors=int(f[5]), escaped=int(f[6]))
check("one snapshot_status block per snapshot at most", not dup_status, dup_status[:5])
complete = [k for k, s in status.items() if s["status"] == "complete"]
eq("snapshots_complete = complete snapshot_status blocks sealed", C["snapshots_complete"], len(complete))
eq("snapshots_partial = snapshots sealed without a complete status", C["snapshots_partial"],
   len(per_snap) - len(complete))
eq("targets_ok = snapshots_complete", C["targets_ok"], C["snapshots_complete"])
eq("values_escaped = the snapshot_status rows' values_escaped", C["values_escaped"],
   sum(s["escaped"] for s in status.values()))
eq("metric_errors = the snapshot_status rows' metric_errors", C["metric_errors"],
   sum(s["metric_errors"] for s in status.values()))
short = [k for k in complete if per_snap[k] != [status[k]["blocks"] + 1, status[k]["rows"] + 1]]
check("every complete snapshot has every block it claims", complete and not short,
      ["%s: status says %d blocks %d rows, sealed %s" % (k, status[k]["blocks"], status[k]["rows"],
                                                         per_snap[k]) for k in short[:3]])
central_status = dict((l.split("\t")[0], int(l.split("\t")[1])) for l in lines("central.status"))
dropped_complete = sum(1 for k in complete if by_name[status[k]["seg"]]["seq"] in DN | Q)
eq("central complete snapshots = sealed ones not dropped", central_status.get("complete", 0),
   len(complete) - dropped_complete)

# ---- loads: the exit status agrees with the summary ----
exits = [l.split() for l in lines("exits")]
bad_exit = []
for e in exits:
    if e[0] != "load" or e[2] != "exit":
        continue
    try:
        j = json.load(open(os.path.join(loads_dir, e[1] + ".json")))
    except (ValueError, OSError):
        bad_exit.append("load %s exit %s without a summary" % (e[1], e[3]))
        continue
    trouble = j["refused"] + j["held"] + j["conflicts"] + j["blocks_refused"] + j["columns_dropped"]
    want = 1 if j["failed"] else (2 if trouble else 0)
    if j["error"] is not None:	# the run failed or stopped: 1, or 2 when some loaded
        want = 2 if want == 2 or (int(e[3]) == 2 and j["loaded"] + j["duplicate"] > 0) else 1
    if int(e[3]) != want:
        bad_exit.append("load %s exit %s, summary %s" % (e[1], e[3], {k: j[k] for k in
                        ("loaded", "refused", "held", "conflicts", "failed")}))
check("every load that ran to its end exited as its summary says", not bad_exit, bad_exit[:3])
ends = [e for e in exits if e[0] == "collect" and "SIGTERM" in " ".join(e)]
check("the collector stops cleanly on SIGTERM", ends and all(e[3] == "0" for e in ends), ends)
res = [e for e in exits if e[0] == "resolve"]
check("every fork resolution ran to its end exited 0 or 2", all(e[3] in ("0", "2") for e in res), res[:5])
eq("loading everything again loads nothing new (exit 0 or 2 for the gaps only)",
   facts.get("again_rc"), "0")

# ---- archives ----
arch = [l.split() for l in lines("archives")]
for a in arch:
    kind, rc, before, after, path = a
    if kind == "good":
        try:
            j = json.load(open(path[:-4] + ".json"))
            good = rc == "0" and j["loaded"] + j["duplicate"] == 3
        except (ValueError, OSError):
            good = False
        check("archive %s: an untouched pack loads (after a kill -9 too)" % os.path.basename(
            os.path.dirname(path)), good, "exit %s" % rc)
    else:
        err = open(path[:-4] + ".err", errors="replace").read()
        check("archive %s/%s: refused whole" % (os.path.basename(os.path.dirname(path)), kind),
              rc != "0" and before == after and os.path.basename(path) in err,
              "exit %s, segments %s -> %s, said: %s" % (rc, before, after, err.strip()[-200:]))

# ---- encoding ----
# a refused login's csvlog record, sealed in some snapshot; loaded unless
# every copy of it was in a dropped segment
login_re = re.compile(r"bad\\xff\\xfeuser(\d+)")
sealed_in = defaultdict(set)
for l in lines("witness.badlogins"):
    seg, target, snap, rest = l.split("\t", 3)
    if seg in by_name:
        for n in set(login_re.findall(rest)):
            sealed_in[int(n)].add((seg, snap))
attempts = int(facts["bad_logins"])
eq("every refused login with a non-UTF-8 user name was collected", sorted(sealed_in),
   list(range(attempts)))
twice = {n: len(v) for n, v in sealed_in.items() if len(v) > 1}
check("each refused login was collected once (csvlog read exactly once)", not twice,
      "%d records collected more than once: %s" % (len(twice), sorted(twice.items())[:5]))
central_logins = Counter(int(m) for l in lines("badlogins") for m in login_re.findall(l))
want_logins = {n for n, v in sealed_in.items() if any(by_name[s]["seq"] not in DN | Q for s, _ in v)}
eq("every one not dropped reached the central database, as often as it was sealed",
   dict(central_logins), {n: sum(1 for s, _ in sealed_in[n] if by_name[s]["seq"] not in DN | Q)
                          for n in want_logins})
try:
    bt = int(lines("badtables")[0])
    eq("every table with a non-UTF-8 name reached the central database, escaped", bt,
       int(facts["bad_tables"]))
except (ValueError, IndexError):
    check("pg_stat_user_tables query", False, lines("badtables")[:2])
check("values were escaped as \\xNN (the collector counted them)", C["values_escaped"] > 0)

for c in checks:
    print("\t".join(c))
