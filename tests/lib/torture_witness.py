#!/usr/bin/env python3
"""torture_witness.py SPOOL WITNESS STOPFILE
   torture_witness.py --fill WITNESS COLLECTOR DIR...

Copies every sealed segment that appears in SPOOL/ready/ to WITNESS/<name>,
polling every 50 ms until STOPFILE exists (then one last sweep; STOPFILE
"-" sweeps once).  The torture's oracle takes this copy as the truth of
what the collector sealed, dropped segments included: it never reads the
spool's own bookkeeping.  A sealed segment never changes, so a copy
started before the shipper or spool-full = drop-oldest removes it is whole
(the open file survives the unlink).  WITNESS must not be inside SPOOL.

A segment shipped and removed between two polls (the machine is busy) is
missed; --fill then takes it from a destination (DIR...), but only the
copy whose SHA-256 the next witnessed segment of COLLECTOR names as its
predecessor: never a forged or cloned one.  It prints what it filled."""
import hashlib
import os
import shutil
import struct
import sys
import time


def sweep(ready, witness, seen):
    for root, _dirs, files in os.walk(ready):
        for f in files:
            if not f.endswith(".pga.zst"):
                continue
            src = os.path.join(root, f)
            rel = os.path.relpath(src, ready)
            if rel in seen:
                continue
            dst = os.path.join(witness, rel)
            try:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with open(src, "rb") as i, open(dst + ".tmp", "wb") as o:
                    shutil.copyfileobj(i, o)
                os.rename(dst + ".tmp", dst)
                seen.add(rel)
            except FileNotFoundError:
                pass    # shipped or dropped before we looked: --fill


def header(path):
    """(seq, prev sha256 hex) from the segment header (spool/FORMAT.md)."""
    with open(path, "rb") as f:
        b = f.read(8 + 4 + 2 + 2 + 4 + 8 + 8 + 32)
    if len(b) < 68 or b[8:12] != b"PGAH":
        return None
    seq = struct.unpack_from("<Q", b, 20)[0]
    return seq, b[36:68].hex()


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def segments(root, collector):
    out = {}
    base = os.path.join(root, collector)
    for r, _d, files in os.walk(base):
        for f in files:
            if f.endswith(".pga.zst"):
                p = os.path.join(r, f)
                h = header(p)
                if h:
                    out.setdefault(h[0], []).append((p, os.path.relpath(p, root), h[1]))
    return out


def fill(witness, collector, dirs):
    while True:
        have = segments(witness, collector)
        if not have:
            return
        missing = [s for s in range(1, max(have)) if s not in have and s + 1 in have]
        done = False
        for s in missing:
            want = have[s + 1][0][2]    # the predecessor's hash, as the next one names it
            for d in dirs:
                for p, rel, _prev in segments(d, collector).get(s, []):
                    if sha(p) == want:
                        dst = os.path.join(witness, rel)
                        os.makedirs(os.path.dirname(dst), exist_ok=True)
                        shutil.copyfile(p, dst)
                        print("filled seq %d from %s" % (s, p))
                        done = True
                        break
                if done:
                    break
            if done:
                break
        if not done:
            return


if sys.argv[1] == "--fill":
    fill(sys.argv[2], sys.argv[3], sys.argv[4:])
    sys.exit(0)
spool, witness, stop = sys.argv[1:4]
ready = os.path.join(spool, "ready")
seen = set()
while stop != "-" and not os.path.exists(stop):
    sweep(ready, witness, seen)
    time.sleep(0.05)
sweep(ready, witness, seen)
