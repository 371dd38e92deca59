#!/usr/bin/env python3
"""connect_proxy.py - a minimal HTTPS forward proxy (HTTP CONNECT), for tests.

usage: connect_proxy.py --ready-file FILE --log FILE

Listens on a free port on 127.0.0.1 (written to --ready-file), answers each
CONNECT host:port with 200 and relays bytes both ways; every CONNECT target
is appended to --log, together with whether a Proxy-Authorization header
came with it.  Anything but CONNECT gets 405.  Standard library only.
"""

import argparse
import os
import select
import socket
import socketserver
import threading

LOCK = threading.Lock()
ARGS = None


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        c = self.request
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = c.recv(4096)
            if not chunk:
                return
            head += chunk
        lines = head.split(b"\r\n")
        method, target, _ = lines[0].decode().split(" ", 2)
        auth = any(l.lower().startswith(b"proxy-authorization:") for l in lines[1:])
        with LOCK, open(ARGS.log, "a") as f:
            f.write("%s %s%s\n" % (method, target, " auth" if auth else ""))
        if method != "CONNECT":
            c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, port = target.rsplit(":", 1)
        try:
            u = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            u.sendall(rest)
        socks = [c, u]
        while True:
            r, _, _ = select.select(socks, [], [], 60)
            if not r:
                break
            for s in r:
                data = s.recv(65536)
                if not data:
                    u.close()
                    return
                (u if s is c else c).sendall(data)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--log", required=True)
    ARGS = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    open(ARGS.ready_file + ".tmp", "w").write(str(srv.server_address[1]))
    os.replace(ARGS.ready_file + ".tmp", ARGS.ready_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
