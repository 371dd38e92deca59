#!/usr/bin/python3
"""browser.py - open a page in headless Chromium and report what it did.

usage: browser.py PAGE.html OUT.json [--screenshot FILE.png [--clip Y,HEIGHT]] [--no-js]
                  [--eval NAME=EXPR]...

Chromium (the Debian package) is driven over the DevTools protocol through
--remote-debugging-pipe (fds 3 and 4, NUL-terminated JSON), so nothing but
the Python standard library is needed and no port is opened.  The page is
loaded from a file:// URL in a fresh profile, at 1280 px wide, with the
network and every background service off.

OUT.json gets:
  console      console messages of level warning or error, and log entries
               (CSP violations, failed loads) of level warning or error
  exceptions   uncaught JavaScript exceptions
  eval         {NAME: value} for each --eval expression, evaluated after load
  title        document.title after load
  width        document.documentElement.scrollWidth
  height       document.documentElement.scrollHeight
--no-js loads the page with script execution disabled (what a mail reader
or a cautious reader sees).  Exit status 0 when the page loaded, 1 if not.
"""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-extensions",
    "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
    "--remote-debugging-pipe", "--window-size=1280,900",
]
TIMEOUT = 60.0


class Pipe:
    def __init__(self, wfd, rfd):
        self.w, self.r = wfd, rfd
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        return self.wait_reply(self.next_id, method)

    def read_one(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no message from chromium")
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return json.loads(raw)

    def wait_reply(self, want, method):
        deadline = time.monotonic() + TIMEOUT
        while True:
            m = self.read_one(deadline)
            if m.get("id") == want:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name):
        deadline = time.monotonic() + TIMEOUT
        for i, e in enumerate(self.events):
            if e.get("method") == name:
                return self.events.pop(i)
        while True:
            m = self.read_one(deadline)
            if m.get("method") == name:
                return m
            self.events.append(m)


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    page, out = os.path.abspath(args[0]), args[1]
    shot, no_js, evals, clip = None, False, [], None
    i = 2
    while i < len(args):
        if args[i] == "--screenshot":
            shot = args[i + 1]
            i += 2
        elif args[i] == "--clip":
            y, h = args[i + 1].split(",")
            clip = {"x": 0, "y": int(y), "width": 1280, "height": int(h), "scale": 1}
            i += 2
        elif args[i] == "--no-js":
            no_js = True
            i += 1
        elif args[i] == "--eval":
            name, expr = args[i + 1].split("=", 1)
            evals.append((name, expr))
            i += 2
        else:
            sys.exit("unknown argument " + args[i])

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        sys.exit("chromium is not installed")
    profile = tempfile.mkdtemp(prefix="pga-chromium-")
    cmd_r, cmd_w = os.pipe()    # we write commands, chromium reads fd 3
    ev_r, ev_w = os.pipe()      # chromium writes fd 4, we read

    def fds():  # via fds above 4 first: either end may already be 3 or 4
        a, b = os.dup(cmd_r), os.dup(ev_w)
        a, b = (fcntl.fcntl(a, fcntl.F_DUPFD, 10), fcntl.fcntl(b, fcntl.F_DUPFD, 10))
        os.dup2(a, 3)
        os.dup2(b, 4)

    # close_fds runs after preexec_fn: 3 and 4 must be in the keep list
    proc = subprocess.Popen([exe] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile, "about:blank"],
                            preexec_fn=fds, pass_fds=(3, 4),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(cmd_r)
    os.close(ev_w)
    p = Pipe(cmd_w, ev_r)
    result = {"console": [], "exceptions": [], "eval": {}}
    try:
        targets = p.send("Target.getTargets")["targetInfos"]
        tid = next(t["targetId"] for t in targets if t["type"] == "page")
        s = p.send("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        for dom in ("Page", "Runtime", "Log"):
            p.send(dom + ".enable", session=s)
        p.send("Emulation.setDeviceMetricsOverride",
               {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=s)
        if no_js:
            p.send("Emulation.setScriptExecutionDisabled", {"value": True}, session=s)
        p.send("Page.navigate", {"url": "file://" + page}, session=s)
        p.wait_event("Page.loadEventFired")
        time.sleep(0.3)     # late console messages (CSP reports are async)

        def evaluate(expr):
            r = p.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=s)
            if "exceptionDetails" in r:
                return {"exception": r["exceptionDetails"].get("text")}
            return r["result"].get("value")

        if no_js:  # Runtime.evaluate still runs with page scripts disabled
            pass
        result["title"] = evaluate("document.title")
        result["width"] = evaluate("document.documentElement.scrollWidth")
        result["height"] = evaluate("document.documentElement.scrollHeight")
        for name, expr in evals:
            result["eval"][name] = evaluate(expr)
        if shot:
            h = min(int(result["height"] or 900), 16000)
            p.send("Emulation.setDeviceMetricsOverride",
                   {"width": 1280, "height": h, "deviceScaleFactor": 1, "mobile": False}, session=s)
            shot_args = {"format": "png"}
            if clip:
                shot_args["clip"] = clip
            img = p.send("Page.captureScreenshot", shot_args, session=s)["data"]
            with open(shot, "wb") as f:
                f.write(base64.b64decode(img))
        for e in p.events:
            m, prm = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and prm.get("type") in ("error", "warning", "assert"):
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in prm.get("args", []))
                result["console"].append("console.%s: %s" % (prm["type"], text))
            elif m == "Log.entryAdded" and prm["entry"]["level"] in ("error", "warning"):
                result["console"].append("%s: %s" % (prm["entry"]["source"], prm["entry"]["text"]))
            elif m == "Runtime.exceptionThrown":
                d = prm["exceptionDetails"]
                result["exceptions"].append(d.get("exception", {}).get("description") or d.get("text"))
        try:
            p.send("Browser.close")
        except (EOFError, RuntimeError):
            pass
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
