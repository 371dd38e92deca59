#!/usr/bin/env python3
"""faultproxy.py - an HTTP/1.1 reverse proxy that injects faults, for tests.

usage: faultproxy.py --listen PORT --upstream HOST:PORT [--rate 0.10]
         [--seed N] [--modes drop,stall,500,503,429,reset-mid-body]
         [--stall-seconds S] [--log FILE] [--ready-file FILE]
         [--counts-file FILE] [--control FILE]

Forwards each request unchanged (Host included, so signatures stay valid)
to the upstream: keep-alive, Content-Length and chunked bodies, HEAD,
Expect: 100-continue (the upstream's interim 100 is relayed).  Each request
gets a fault with probability --rate, the mode chosen uniformly from
--modes:

  drop            close the connection (RST) after the request head, nothing
                  forwarded
  drop-after      forward the whole request, let the upstream answer (so it
                  may have stored the object), then close without replying
  stall           stop answering for --stall-seconds, then close; nothing
                  forwarded
  500 503 429     answer with that status (S3-style XML error, Retry-After
                  on 429/503) without forwarding
  500-after 503-after 429-after
                  forward, discard the upstream's answer, answer with the
                  status: the write happened but the client sees an error
  reset-mid-body  forward, relay the response head and half of the body
                  (half of the head when there is no body), then RST

--listen 0 picks a free port.  The port is printed on stdout as
"listening PORT" and written to --ready-file (atomically) once accepting.
Every injected fault is logged as one line "fault N MODE METHOD PATH";
with --log each forwarded request too ("pass N STATUS METHOD PATH").
--counts-file is rewritten (atomically) after every request with JSON
{"connections", "requests", "forwarded", "faults": {mode: n}}; SIGUSR1
writes it as well.  --control FILE, when it exists, overrides rate=,
modes= and stall-seconds= (key=value lines), re-read whenever it changes,
so a test can turn a destination "down" (rate=1, modes=503) and back.

Python 3 standard library only.
"""

import argparse
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import threading
import time

MAX_HEAD = 64 * 1024
MAX_LINE = 8 * 1024
BUF = 64 * 1024
ALL_MODES = ("drop", "drop-after", "stall", "500", "503", "429",
             "500-after", "503-after", "429-after", "reset-mid-body")
REASONS = {500: ("Internal Server Error", "InternalError"),
           503: ("Service Unavailable", "SlowDown"),
           429: ("Too Many Requests", "TooManyRequests")}


class ClientGone(Exception):
    """The client closed its side; stop serving the connection."""


class UpstreamGone(Exception):
    """The upstream closed the connection or failed."""


class Reader:
    """Buffered reads from a socket with bounded lines."""

    def __init__(self, sock, eof=ClientGone):
        self.sock = sock
        self.buf = b""
        self.eof = eof

    def fill(self):
        data = self.sock.recv(BUF)
        if not data:
            raise self.eof()
        self.buf += data

    def line(self):
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise ValueError("line too long")
            self.fill()
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def head(self):
        """Bytes up to and including the blank line; None on clean EOF."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise ValueError("head too long")
            try:
                self.fill()
            except (ClientGone, UpstreamGone):
                if self.buf.strip():
                    raise
                return None
        i = self.buf.index(b"\r\n\r\n") + 4
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def some(self, limit):
        if not self.buf:
            self.fill()
        out, self.buf = self.buf[:limit], self.buf[limit:]
        return out


class Message:
    """A parsed request or response head."""

    def __init__(self, raw):
        self.raw = raw
        lines = raw.decode("latin-1").split("\r\n")
        self.start = lines[0]
        self.headers = []
        for ln in lines[1:]:
            if not ln:
                continue
            if ":" not in ln:
                raise ValueError("bad header line")
            name, value = ln.split(":", 1)
            self.headers.append((name.strip().lower(), value.strip()))

    def get(self, name):
        for n, v in self.headers:
            if n == name:
                return v
        return None

    def chunked(self):
        te = self.get("transfer-encoding")
        return te is not None and "chunked" in te.lower()

    def length(self):
        v = self.get("content-length")
        return int(v) if v is not None else None

    def wants_close(self):
        conn = (self.get("connection") or "").lower()
        if "close" in conn:
            return True
        return self.start.split(" ")[0 if self.start.startswith("HTTP/") else -1] \
            .upper() == "HTTP/1.0" and "keep-alive" not in conn


def copy_body(reader, msg, sinks, no_body=False):
    """Relay a message body (Content-Length or chunked) to every sink.
    Returns False when the body runs to EOF (no framing)."""
    if no_body:
        return True
    if msg.chunked():
        while True:
            size_line = reader.line()
            for s in sinks:
                s(size_line)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers up to the blank line
                    ln = reader.line()
                    for s in sinks:
                        s(ln)
                    if ln in (b"\r\n", b"\n"):
                        return True
            left = size + 2  # data and its CRLF
            while left:
                data = reader.some(left)
                left -= len(data)
                for s in sinks:
                    s(data)
    n = msg.length()
    if n is None:
        return False
    while n:
        data = reader.some(min(n, BUF))
        n -= len(data)
        for s in sinks:
            s(data)
    return True


def rst_close(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Proxy:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.lock = threading.Lock()
        self.rate = args.rate
        self.modes = args.modes
        self.stall = args.stall_seconds
        self.control_mtime = None
        self.counts = {"connections": 0, "requests": 0, "forwarded": 0,
                       "faults": {m: 0 for m in ALL_MODES}}
        self.log_file = open(args.log, "a", buffering=1) if args.log else None
        host, port = args.upstream.rsplit(":", 1)
        self.upstream = (host, int(port))

    # ---- bookkeeping ----

    def log(self, line):
        if self.log_file:
            with self.lock:
                self.log_file.write("%.3f %s\n" % (time.time(), line))

    def write_counts(self):
        if not self.args.counts_file:
            return
        with self.lock:
            text = json.dumps(self.counts, sort_keys=True)
            tmp = "%s.%d.tmp" % (self.args.counts_file, threading.get_ident())
            with open(tmp, "w") as f:
                f.write(text + "\n")
            os.replace(tmp, self.args.counts_file)

    def read_control(self):
        path = self.args.control
        if not path:
            return
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return
        if st.st_mtime_ns == self.control_mtime:
            return
        self.control_mtime = st.st_mtime_ns
        with open(path) as f:
            for ln in f:
                k, _, v = ln.strip().partition("=")
                if k == "rate":
                    self.rate = float(v)
                elif k == "modes":
                    self.modes = parse_modes(v)
                elif k == "stall-seconds":
                    self.stall = float(v)

    def choose(self):
        """(request number, fault mode or None)."""
        with self.lock:
            self.read_control()
            self.counts["requests"] += 1
            n = self.counts["requests"]
            if self.modes and self.rng.random() < self.rate:
                mode = self.rng.choice(self.modes)
                self.counts["faults"][mode] += 1
                return n, mode
            return n, None

    # ---- one client connection ----

    def serve(self, client):
        with self.lock:
            self.counts["connections"] += 1
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(self, client)
        try:
            conn.run()
        except (ClientGone, UpstreamGone, ValueError, OSError) as e:
            if not isinstance(e, ClientGone):
                self.log("error %s" % e)
        finally:
            conn.close()
            self.write_counts()


class Connection:
    def __init__(self, proxy, client):
        self.p = proxy
        self.client = client
        self.creader = Reader(client)
        self.up = None
        self.ureader = None

    def close(self):
        for s in (self.client, self.up):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass

    def upstream(self):
        if self.up is not None and self.idle_closed():
            self.drop_upstream()
        if self.up is None:
            try:
                self.up = socket.create_connection(self.p.upstream, timeout=120)
            except OSError as e:
                raise UpstreamGone(str(e))
            self.up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.ureader = Reader(self.up, UpstreamGone)
        return self.up

    def idle_closed(self):
        """A kept-alive upstream connection the server closed meanwhile."""
        r, _, _ = select.select([self.up], [], [], 0)
        if not r:
            return False
        try:
            return self.up.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def up_send(self, data):
        try:
            self.up.sendall(data)
        except OSError as e:
            raise UpstreamGone(str(e))

    def drop_upstream(self):
        if self.up is not None:
            self.up.close()
        self.up = self.ureader = None

    def run(self):
        while True:
            raw = self.creader.head()
            if raw is None:
                return
            req = Message(raw)
            method, path = (req.start.split(" ") + ["", ""])[:2]
            n, mode = self.p.choose()
            if mode:
                self.p.log("fault %d %s %s %s" % (n, mode, method, path))
            keep = self.handle(req, method, path, n, mode)
            self.p.write_counts()
            if not keep:
                return

    # returns whether the client connection stays open
    def handle(self, req, method, path, n, mode):
        if mode == "drop":
            rst_close(self.client)
            raise ClientGone()
        if mode == "stall":
            time.sleep(self.p.stall)
            rst_close(self.client)
            raise ClientGone()
        if mode in ("500", "503", "429"):
            return self.reply_error(req, int(mode), read_body=True)
        status, close = self.forward(req, method, path, n, mode)
        return not close

    def reply_error(self, req, code, read_body):
        expect = (req.get("expect") or "").lower() == "100-continue"
        if read_body and not expect:
            copy_body(self.creader, req, [])
        reason, s3code = REASONS[code]
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
                "<Message>injected by faultproxy</Message></Error>\n" % s3code).encode()
        head = ["HTTP/1.1 %d %s" % (code, reason), "Content-Type: application/xml",
                "Content-Length: %d" % len(body)]
        if code in (429, 503):
            head.append("Retry-After: 1")
        # after skipping a 100-continue body the stream is out of sync
        close = expect or req.wants_close()
        if close:
            head.append("Connection: close")
        self.client.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        return not close

    def send_request(self, req):
        """Request head and body upstream; relays interim 1xx responses.
        Returns a final response head already read, or None."""
        self.upstream()
        self.up_send(req.raw)
        expect = (req.get("expect") or "").lower() == "100-continue"
        if expect and (req.chunked() or (req.length() or 0) > 0):
            resp = self.upstream_head()
            if not resp.start.split(" ")[1].startswith("1"):
                return resp  # final answer before the body: relay it
            self.client.sendall(resp.raw)
        copy_body(self.creader, req, [self.up_send])
        return None

    def upstream_head(self):
        raw = self.ureader.head()
        if raw is None:
            raise UpstreamGone("closed before answering")
        return Message(raw)

    def read_response(self, early):
        resp = early
        while resp is None or resp.start.split(" ")[1].startswith("1"):
            if resp is not None:
                self.client.sendall(resp.raw)  # interim (e.g. a late 100)
            resp = self.upstream_head()
        return resp

    def forward(self, req, method, path, n, mode):
        try:
            early = self.send_request(req)
            resp = self.read_response(early)
        except (UpstreamGone, socket.timeout) as e:
            # the upstream went away: tell the client with a 502
            self.drop_upstream()
            self.p.log("upstream-error %d %s %s %s" % (n, method, path, e))
            self.reply_bad_gateway()
            return 502, True
        status = int(resp.start.split(" ")[1])
        no_body = method == "HEAD" or status in (204, 304)
        close = req.wants_close() or resp.wants_close() or early is not None
        with self.p.lock:
            self.p.counts["forwarded"] += 1
        if mode in ("drop-after", "500-after", "503-after", "429-after"):
            framed = copy_body(self.ureader, resp, [], no_body)
            if not framed:
                self.drop_upstream()
            if mode == "drop-after":
                rst_close(self.client)
                raise ClientGone()
            keep = self.reply_error(req, int(mode.split("-")[0]), read_body=False)
            return status, not keep
        if mode == "reset-mid-body":
            self.reset_mid_body(resp, no_body)
        self.client.sendall(resp.raw)
        framed = copy_body(self.ureader, resp, [self.client.sendall], no_body)
        if not framed:  # body delimited by the upstream closing
            self.relay_to_eof()
            close = True
        if self.p.args.log:
            self.p.log("pass %d %d %s %s" % (n, status, method, path))
        return status, close

    def relay_to_eof(self):
        try:
            while True:
                self.client.sendall(self.ureader.some(BUF))
        except UpstreamGone:
            pass
        self.drop_upstream()

    def reset_mid_body(self, resp, no_body):
        length = None if no_body else resp.length()
        if length is not None and length >= 2:
            self.client.sendall(resp.raw)
            left = length // 2
            while left:
                data = self.ureader.some(min(left, BUF))
                left -= len(data)
                self.client.sendall(data)
        else:
            self.client.sendall(resp.raw[: len(resp.raw) // 2])
        self.drop_upstream()
        rst_close(self.client)
        raise ClientGone()

    def reply_bad_gateway(self):
        body = b"upstream unreachable\n"
        self.client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: %d\r\n"
                            b"Connection: close\r\n\r\n" % len(body) + body)


def parse_modes(text):
    modes = [m.strip() for m in text.split(",") if m.strip()]
    for m in modes:
        if m not in ALL_MODES:
            raise SystemExit("faultproxy: unknown mode '%s' (known: %s)" % (m, ",".join(ALL_MODES)))
    return modes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--rate", type=float, default=0.10)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--modes", type=parse_modes,
                    default=parse_modes("drop,stall,500,503,429,reset-mid-body"))
    ap.add_argument("--stall-seconds", type=float, default=10.0)
    ap.add_argument("--log")
    ap.add_argument("--ready-file")
    ap.add_argument("--counts-file")
    ap.add_argument("--control")
    args = ap.parse_args()
    proxy = Proxy(args)

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.listen))
    srv.listen(128)
    port = srv.getsockname()[1]
    signal.signal(signal.SIGUSR1, lambda *_: proxy.write_counts())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    proxy.write_counts()
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.ready_file)
    print("listening %d" % port, flush=True)
    proxy.log("start port=%d upstream=%s rate=%s modes=%s" %
              (port, args.upstream, args.rate, ",".join(args.modes)))
    try:
        while True:
            client, _ = srv.accept()
            threading.Thread(target=proxy.serve, args=(client,), daemon=True).start()
    finally:
        proxy.write_counts()
        proxy.log("stop counts=%s" % json.dumps(proxy.counts, sort_keys=True))


if __name__ == "__main__":
    main()
