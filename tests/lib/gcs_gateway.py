#!/usr/bin/env python3
"""gcs_gateway.py - a small stand-in for Google Cloud Storage's XML API, for tests.

usage: gcs_gateway.py --upstream HOST:PORT --ready-file FILE --counts-file FILE
         [--hmac-id ID --hmac-secret SECRET] [--pubkey PEM --client-email EMAIL]
         [--token-lifetime S] [--revoke-after N]

No GCS emulator installs here, so this gateway checks what GCS would check
and stores through an S3 server (s3rver) behind it:

  POST /token     the OAuth JWT-bearer grant: the RS256 signature is verified
                  with the service account's public key (openssl), iss, aud,
                  scope, iat and exp are checked; answers an access token
                  valid --token-lifetime seconds, or 400 invalid_grant.
  anything else   needs "Authorization: Bearer <token issued and not
                  expired>" (401 otherwise) or a GOOG4-HMAC-SHA256 signature,
                  recomputed here from the request as received (403
                  SignatureDoesNotMatch otherwise) with x-goog-content-sha256
                  checked against the body.  x-goog-if-generation-match: 0 is
                  honoured (412 when the object exists).  x-goog-meta-* and
                  x-goog-content-sha256 go upstream as x-amz-*, answers come
                  back as x-goog-meta-* plus x-goog-hash: md5=...

--revoke-after N forgets every token after N bearer requests (the client
must fetch a new one after its 401).  Counts (tokens issued, bearer and hmac
requests, refusals) are written to --counts-file as JSON after each request.
Python 3 standard library and the openssl command only.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import http.client
import http.server
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

LOCK = threading.Lock()
COUNTS = {"tokens": 0, "bearer": 0, "hmac": 0, "refused": 0, "precondition_failed": 0}
TOKENS = {}
ARGS = None


def save_counts():
    tmp = ARGS.counts_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(COUNTS, f)
    os.replace(tmp, ARGS.counts_file)


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_rs256(signing_input, sig):
    with tempfile.TemporaryDirectory() as d:
        data, sigf = os.path.join(d, "data"), os.path.join(d, "sig")
        open(data, "wb").write(signing_input)
        open(sigf, "wb").write(sig)
        r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", ARGS.pubkey,
                            "-signature", sigf, data], capture_output=True)
        return r.returncode == 0


def check_assertion(jwt, audience):
    try:
        h, c, s = jwt.split(".")
        header = json.loads(b64url_decode(h))
        claims = json.loads(b64url_decode(c))
        sig = b64url_decode(s)
    except (ValueError, binascii.Error):
        return "malformed assertion"
    now = time.time()
    if header.get("alg") != "RS256":
        return "alg is not RS256"
    if not verify_rs256((h + "." + c).encode(), sig):
        return "bad signature"
    if claims.get("iss") != ARGS.client_email:
        return "unknown client"
    if claims.get("aud") != audience:
        return "wrong audience"
    if "devstorage" not in claims.get("scope", ""):
        return "no storage scope"
    if not (claims.get("iat", 0) <= now + 60 and claims.get("exp", 0) > now):
        return "assertion expired or from the future"
    return None


# ---- GOOG4-HMAC-SHA256, written from Google's and AWS's documentation ----

def uri_encode(s, keep_slash):
    safe = "-_.~" + ("/" if keep_slash else "")
    return urllib.parse.quote(s, safe=safe)


def canonical_query(raw):
    pairs = []
    for part in raw.split("&") if raw else []:
        k, _, v = part.partition("=")
        pairs.append((uri_encode(urllib.parse.unquote(k), False),
                      uri_encode(urllib.parse.unquote(v), False)))
    return "&".join(k + "=" + v for k, v in sorted(pairs))


def hmac_sha256(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def check_goog4(method, path, query, headers, auth):
    try:
        algo, rest = auth.split(" ", 1)
        fields = dict(p.strip().split("=", 1) for p in rest.split(","))
        key_id, date, region, service, term = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
    except (ValueError, KeyError):
        return "malformed Authorization"
    if algo != "GOOG4-HMAC-SHA256" or term != "goog4_request" or service != "storage":
        return "not a GOOG4-HMAC-SHA256 storage signature"
    if key_id != ARGS.hmac_id:
        return "unknown access key"
    xdate = headers.get("x-goog-date", "")
    if not xdate.startswith(date):
        return "x-goog-date does not match the credential date"
    canon_headers = "".join(
        "%s:%s\n" % (h, " ".join(headers.get(h, "").split())) for h in signed)
    canonical = "\n".join([method, uri_encode(urllib.parse.unquote(path), True),
                           canonical_query(query), canon_headers, ";".join(signed),
                           headers.get("x-goog-content-sha256", "UNSIGNED-PAYLOAD")])
    scope = "/".join([date, region, service, term])
    sts = "\n".join([algo, xdate, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = hmac_sha256(("GOOG4" + ARGS.hmac_secret).encode(), date)
    for part in (region, service, term):
        k = hmac_sha256(k, part)
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, fields.get("Signature", "")):
        return "SignatureDoesNotMatch"
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def xml_error(self, status, code, msg):
        with LOCK:
            COUNTS["refused"] += 1
            save_counts()
        body = ("<?xml version='1.0' encoding='UTF-8'?><Error><Code>%s</Code>"
                "<Message>%s</Message></Error>" % (code, msg)).encode()
        self.reply(status, body, [("Content-Type", "application/xml")])

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def token(self, body):
        form = urllib.parse.parse_qs(body.decode())
        audience = "http://%s/token" % self.headers.get("Host")
        why = None
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            why = "unsupported grant_type"
        else:
            why = check_assertion(form.get("assertion", [""])[0], audience)
        if why:
            with LOCK:
                COUNTS["refused"] += 1
                save_counts()
            out = json.dumps({"error": "invalid_grant", "error_description": why}).encode()
            return self.reply(400, out, [("Content-Type", "application/json")])
        tok = "ya29." + secrets.token_urlsafe(24)
        with LOCK:
            TOKENS[tok] = time.time() + ARGS.token_lifetime
            COUNTS["tokens"] += 1
            save_counts()
        out = json.dumps({"access_token": tok, "expires_in": ARGS.token_lifetime,
                          "token_type": "Bearer"}).encode()
        self.reply(200, out, [("Content-Type", "application/json")])

    def authorise(self, path, query, headers, body):
        auth = headers.get("authorization", "")
        if auth.startswith("Bearer "):
            with LOCK:
                COUNTS["bearer"] += 1
                if ARGS.revoke_after and COUNTS["bearer"] == ARGS.revoke_after:
                    TOKENS.clear()
                ok = TOKENS.get(auth[7:], 0) > time.time()
                save_counts()
            if not ok:
                self.xml_error(401, "AuthenticationRequired", "invalid or expired token")
            return ok
        why = check_goog4(self.command, path, query, headers, auth) if ARGS.hmac_id else "no HMAC key"
        if why:
            self.xml_error(403, "SignatureDoesNotMatch" if why == "SignatureDoesNotMatch" else
                           "AccessDenied", why)
            return False
        declared = headers.get("x-goog-content-sha256")
        if self.command == "PUT" and declared != hashlib.sha256(body).hexdigest():
            self.xml_error(400, "BadDigest", "x-goog-content-sha256 does not match the body")
            return False
        with LOCK:
            COUNTS["hmac"] += 1
            save_counts()
        return True

    def upstream(self, method, target, headers, body):
        conn = http.client.HTTPConnection(ARGS.upstream, timeout=30)
        conn.request(method, target, body=body if method in ("PUT", "POST") else None,
                     headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r, data

    def forward(self):
        body = self.read_body()
        if self.path == "/token" and self.command == "POST":
            return self.token(body)
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        if not self.authorise(path, query, headers, body):
            return
        if headers.get("x-goog-if-generation-match") == "0":
            r, _ = self.upstream("HEAD", self.path, {}, None)
            if r.status == 200:
                with LOCK:
                    COUNTS["precondition_failed"] += 1
                    save_counts()
                return self.xml_error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
        up = {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
        for k, v in headers.items():
            if k.startswith("x-goog-meta-"):
                up["x-amz-meta-" + k[len("x-goog-meta-"):]] = v
            elif k in ("content-md5", "content-type", "content-length"):
                up[k] = v
        r, data = self.upstream(self.command, self.path, up, body)
        out = []
        for k, v in r.getheaders():
            kl = k.lower()
            if kl.startswith("x-amz-meta-"):
                out.append(("x-goog-meta-" + kl[len("x-amz-meta-"):], v))
            elif kl in ("etag", "content-type", "last-modified"):
                out.append((k, v))
            if kl == "etag":
                md5 = v.strip('"')
                if len(md5) == 32:
                    out.append(("x-goog-hash", "md5=" + base64.b64encode(bytes.fromhex(md5)).decode()))
        if self.command == "HEAD":
            self.send_response(r.status)
            for k, v in out:
                self.send_header(k, v)
            self.send_header("Content-Length", r.getheader("Content-Length", "0"))
            self.end_headers()
            return
        self.reply(r.status, data, out)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = forward


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--counts-file", required=True)
    ap.add_argument("--hmac-id")
    ap.add_argument("--hmac-secret")
    ap.add_argument("--pubkey")
    ap.add_argument("--client-email")
    ap.add_argument("--token-lifetime", type=int, default=3600)
    ap.add_argument("--revoke-after", type=int, default=0)
    ARGS = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    save_counts()
    tmp = ARGS.ready_file + ".tmp"
    open(tmp, "w").write(str(srv.server_address[1]))
    os.replace(tmp, ARGS.ready_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
