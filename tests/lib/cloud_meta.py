#!/usr/bin/python3
"""cloud_meta.py - the clouds' credential endpoints and a checking object store,
on loopback, for tests/t/4206-cloud-identity.t (Debian's python3, stdlib
http.server; botocore only to verify SigV4).

One server speaks, on one port:
  AWS IMDSv2   PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds),
               GET /latest/meta-data/iam/security-credentials/[ROLE] (needs
               X-aws-ec2-metadata-token from that PUT, else 401)
  AWS ECS/EKS  GET /ecs/creds (needs Authorization equal to --ecs-auth)
  AWS STS      POST /sts/ Action=AssumeRoleWithWebIdentity (RoleArn, RoleSessionName,
               WebIdentityToken equal to --web-token)
  Azure IMDS   GET /metadata/identity/oauth2/token (Metadata: true, resource)
  App Service  GET /msi/token (X-IDENTITY-HEADER equal to --identity-header)
  GCE          GET /computeMetadata/v1/instance/service-accounts/default/token
               (Metadata-Flavor: Google)
Each credential handed out lives --life seconds.  Every other PUT is an
object upload: s3 mode checks the SigV4 signature with botocore against the
issued keys (and that x-amz-security-token is the issued session token,
signed), bearer mode checks Authorization: Bearer; both refuse a credential
past its expiry (S3: 400 ExpiredToken, bearer: 401), and wait --put-delay
seconds before answering, so a run outlives a credential.
Counters go to --counts-file (JSON) after every request; --fault makes the
credential endpoints misbehave (bad-json, huge, no-role, sts-error, 500);
POST /_control/fault with the fault's name as body switches it.
"""
import argparse, base64, datetime, hashlib, json, os, secrets, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs
from xml.sax.saxutils import escape

ap = argparse.ArgumentParser()
ap.add_argument('--ready-file', required=True)
ap.add_argument('--counts-file', required=True)
ap.add_argument('--mode', choices=['s3', 'bearer'], default='s3')
ap.add_argument('--life', type=int, default=4)
ap.add_argument('--put-delay', type=float, default=0.0)
ap.add_argument('--region', default='us-east-1')
ap.add_argument('--ecs-auth', default='')
ap.add_argument('--web-token', default='')
ap.add_argument('--role-arn', default='')
ap.add_argument('--identity-header', default='')
ap.add_argument('--fault', default='')
ap.add_argument('--secrets-file', help='append every secret handed out, one a line')
args = ap.parse_args()

lock = threading.Lock()
counts = {k: 0 for k in ('imds_token', 'imds_list', 'imds_creds', 'imds_401', 'ecs', 'ecs_401',
                         'sts', 'azure_imds', 'app_service', 'gce', 'refused_meta',
                         'put_ok', 'put_refused', 'put_expired', 'signed_token')}
imds_tokens = set()
issued = {}      # access key id or bearer token -> (secret, session token, expiry)


def bump(key):
    with lock:
        counts[key] += 1
        with open(args.counts_file + '.tmp', 'w') as f:
            json.dump(counts, f)
        os.replace(args.counts_file + '.tmp', args.counts_file)


def remember(*values):
    if args.secrets_file:
        with lock, open(args.secrets_file, 'a') as f:
            for v in values:
                f.write(v + '\n')


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def new_aws_creds():
    kid = 'ASIA' + secrets.token_hex(8).upper()
    secret = base64.b64encode(os.urandom(30)).decode()
    token = 'FwoG' + base64.b64encode(os.urandom(300)).decode()
    exp = int(time.time()) + 1 + args.life
    with lock:
        issued[kid] = (secret, token, exp)
    remember(secret, token)
    return kid, secret, token, exp


def new_bearer():
    tok = 'eyJ' + secrets.token_urlsafe(200)
    exp = int(time.time()) + 1 + args.life
    with lock:
        issued[tok] = (None, None, exp)
    remember(tok)
    return tok, exp


class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def reply(self, status, body=b'', ctype='application/json', headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def faulty(self):
        """The --fault answers of a credential endpoint; True when it answered."""
        if args.fault == 'bad-json':
            self.reply(200, '{"AccessKeyId": "x", "access_token": ')
        elif args.fault == 'huge':
            self.reply(200, '{"pad": "' + 'A' * 40000 + '"}')
        elif args.fault == '500':
            self.reply(500, '{"error": "server_error", "error_description": "try later"}')
        else:
            return False
        return True

    def aws_json(self):
        kid, secret, token, exp = new_aws_creds()
        self.reply(200, json.dumps({'Code': 'Success', 'Type': 'AWS-HMAC', 'AccessKeyId': kid,
                                    'SecretAccessKey': secret, 'Token': token,
                                    'Expiration': iso(exp),
                                    'LastUpdated': iso(time.time())}))

    def bearer_json(self, style):
        tok, exp = new_bearer()
        if style == 'azure':      # numbers as strings, as Azure IMDS sends them
            d = {'access_token': tok, 'expires_in': str(args.life), 'expires_on': str(exp),
                 'resource': 'https://storage.azure.com/', 'token_type': 'Bearer'}
        elif style == 'appservice':  # only expires_on, an epoch string
            d = {'access_token': tok, 'expires_on': str(exp),
                 'resource': 'https://storage.azure.com/', 'token_type': 'Bearer'}
        else:
            d = {'access_token': tok, 'expires_in': args.life, 'token_type': 'Bearer'}
        self.reply(200, json.dumps(d))

    # ---- credential endpoints ----
    def do_GET(self):
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        p = u.path
        if p.startswith('/latest/meta-data/iam/security-credentials/'):
            if self.headers.get('X-aws-ec2-metadata-token') not in imds_tokens:
                bump('imds_401')
                return self.reply(401, '', 'text/plain')
            role = p[len('/latest/meta-data/iam/security-credentials/'):]
            if role == '':
                bump('imds_list')
                if args.fault == 'no-role':
                    return self.reply(404, '<html>not found</html>', 'text/html')
                return self.reply(200, 'pga-test-role\n', 'text/plain')
            bump('imds_creds')
            if role != 'pga-test-role':
                return self.reply(404, '', 'text/plain')
            return self.faulty() or self.aws_json()
        if p == '/ecs/creds':
            if self.headers.get('Authorization', '') != args.ecs_auth:
                bump('ecs_401')
                return self.reply(401, '{"message": "bad authorization"}')
            bump('ecs')
            return self.faulty() or self.aws_json()
        if p == '/metadata/identity/oauth2/token':
            if self.headers.get('Metadata') != 'true' or \
                    q.get('resource') != ['https://storage.azure.com/']:
                bump('refused_meta')
                return self.reply(400, '{"error": "invalid_request", '
                                  '"error_description": "Required metadata header not specified"}')
            bump('azure_imds')
            return self.faulty() or self.bearer_json('azure')
        if p == '/msi/token':
            if self.headers.get('X-IDENTITY-HEADER') != args.identity_header or \
                    q.get('api-version') != ['2019-08-01'] or \
                    q.get('resource') != ['https://storage.azure.com/']:
                bump('refused_meta')
                return self.reply(401, '{"error": "unauthorized"}')
            bump('app_service')
            return self.faulty() or self.bearer_json('appservice')
        if p == '/computeMetadata/v1/instance/service-accounts/default/token':
            if self.headers.get('Metadata-Flavor') != 'Google':
                bump('refused_meta')
                return self.reply(403, 'Missing Metadata-Flavor:Google header.', 'text/html')
            bump('gce')
            return self.faulty() or self.bearer_json('gce')
        self.reply(404, '', 'text/plain')

    def do_POST(self):
        u = urlsplit(self.path)
        if u.path == '/_control/fault':     # the test switches faults on one server
            args.fault = self.body().decode()
            return self.reply(204)
        if u.path != '/sts/':
            return self.reply(404, '', 'text/plain')
        f = parse_qs(self.body().decode())
        bump('sts')
        if args.fault == 'sts-error' or f.get('Action') != ['AssumeRoleWithWebIdentity'] or \
                f.get('WebIdentityToken') != [args.web_token] or \
                f.get('RoleArn') != [args.role_arn] or not f.get('RoleSessionName'):
            return self.reply(400, '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                              '<Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>'
                              '<Message>Couldn\'t retrieve verification key from your identity '
                              'provider</Message></Error></ErrorResponse>', 'text/xml')
        if self.faulty():
            return
        kid, secret, token, exp = new_aws_creds()
        self.reply(200, '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/'
                   '2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials>'
                   '<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>'
                   '<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>'
                   '<SubjectFromWebIdentityToken>system:serviceaccount:ns:sa'
                   '</SubjectFromWebIdentityToken></AssumeRoleWithWebIdentityResult>'
                   '</AssumeRoleWithWebIdentityResponse>'
                   % (kid, escape(secret), escape(token), iso(exp)), 'text/xml')

    def do_PUT(self):
        if self.path == '/latest/api/token':
            ttl = self.headers.get('X-aws-ec2-metadata-token-ttl-seconds')
            if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self.reply(400, '', 'text/plain')
            self.body()
            tok = secrets.token_urlsafe(40)
            with lock:
                imds_tokens.add(tok)
            remember(tok)
            bump('imds_token')
            return self.reply(200, tok, 'text/plain',
                              [('X-aws-ec2-metadata-token-ttl-seconds', ttl)])
        body = self.body()
        ok = self.check_s3(body) if args.mode == 's3' else self.check_bearer(body)
        if ok is not True:
            bump('put_refused' if ok != 'expired' else 'put_expired')
            if args.mode == 's3':
                code = 'ExpiredToken' if ok == 'expired' else 'SignatureDoesNotMatch'
                return self.reply(400 if ok == 'expired' else 403,
                                  '<Error><Code>%s</Code><Message>%s</Message></Error>'
                                  % (code, escape(str(ok))), 'application/xml')
            return self.reply(401, '<Error><Code>InvalidAuthenticationInfo</Code><Message>%s'
                              '</Message></Error>' % escape(str(ok)), 'application/xml')
        time.sleep(args.put_delay)
        bump('put_ok')
        self.reply(201 if args.mode == 'bearer' else 200, '', 'text/plain',
                   [('ETag', '"%s"' % hashlib.md5(body).hexdigest())])

    def check_bearer(self, body):
        a = self.headers.get('Authorization', '')
        if not a.startswith('Bearer '):
            return 'no bearer token'
        with lock:
            c = issued.get(a[7:])
        if c is None:
            return 'unknown token'
        if time.time() >= c[2]:
            return 'expired'
        v = self.headers.get('x-ms-version')
        if v is not None and v < '2017-11-09':
            return 'x-ms-version %s does not take bearer tokens' % v
        return True

    def check_s3(self, body):
        from unittest import mock
        import botocore.auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        a = self.headers.get('Authorization', '')
        try:
            parts = dict(x.strip().split('=', 1) for x in a[len('AWS4-HMAC-SHA256 '):].split(','))
            kid = parts['Credential'].split('/')[0]
            signed = parts['SignedHeaders'].split(';')
        except (ValueError, KeyError):
            return 'no sigv4 authorization'
        with lock:
            c = issued.get(kid)
        if c is None:
            return 'unknown access key id'
        secret, token, exp = c
        if 'x-amz-security-token' not in signed or \
                self.headers.get('x-amz-security-token') != token:
            return 'the session token is missing, unsigned or wrong'
        if time.time() >= exp:
            return 'expired'
        skip = ('host', 'x-amz-date', 'x-amz-security-token')
        hdrs = {h: self.headers[h] for h in signed if h not in skip}
        url = 'http://' + self.headers['Host'] + self.path
        req = AWSRequest(method='PUT', url=url, data=body, headers=hdrs)
        t = datetime.datetime.strptime(self.headers['x-amz-date'], '%Y%m%dT%H%M%SZ')
        with mock.patch('botocore.auth.datetime') as dt:
            dt.datetime.utcnow.return_value = t
            dt.datetime.now.return_value = t
            botocore.auth.S3SigV4Auth(Credentials(kid, secret, token), 's3',
                                      args.region).add_auth(req)
        if req.headers['Authorization'] != a:
            return 'signature mismatch: botocore %s' % req.headers['Authorization']
        bump('signed_token')
        return True


srv = ThreadingHTTPServer(('127.0.0.1', 0), H)
srv.daemon_threads = True
with open(args.counts_file, 'w') as f:
    json.dump(counts, f)
with open(args.ready_file + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.replace(args.ready_file + '.tmp', args.ready_file)
srv.serve_forever()
