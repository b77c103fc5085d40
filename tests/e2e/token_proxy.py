#!/usr/bin/env python3
"""token_proxy: test code for tests/e2e/mirror.sh. An upstream registry that
authenticates the way Docker Hub and GHCR do, in front of a real one (the
CNCF distribution registry on loopback):

  GET /token?service=S&scope=repository:NAME:pull   issues a random Bearer
      token for that scope (basic credentials required when --user is set),
      JSON {"token": ..., "expires_in": ...}
  /v2/...   without a valid token for the repository: 401 with
      WWW-Authenticate: Bearer realm="<this>/token",service="test",scope=...
      with one: proxied to the registry, the body streamed back.

Every request is logged (one line: method, path, status) to stdout.
With TOKEN_PROXY_STALL=<digest> in the environment, a GET of that blob
sends the first half of its body, then nothing for 60 s (an upstream that
stops sending mid-blob).

  token_proxy.py PORT UPSTREAM_URL [USER PASSWORD]
"""
import base64
import http.client
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse

PORT = int(sys.argv[1])
UPSTREAM = urllib.parse.urlparse(sys.argv[2])
USER = sys.argv[3] if len(sys.argv) > 4 else None
PASSWORD = sys.argv[4] if len(sys.argv) > 4 else None
TOKENS = {}   # token -> (scope, expires)
LOCK = threading.Lock()
NAME = re.compile(r"^/v2/(.+?)/(manifests|blobs|tags)/")
STALL = os.environ.get("TOKEN_PROXY_STALL", "")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log_line(self, status):
        print("%s %s %d" % (self.command, self.path, status), flush=True)

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.log_line(status)

    def token(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if USER:
            want = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                                  [("WWW-Authenticate", 'Basic realm="token"')])
        scope = q.get("scope", [""])[0]
        t = secrets.token_hex(24)
        with LOCK:
            TOKENS[t] = (scope, time.time() + 300)
        self.reply(200, json.dumps({"token": t, "expires_in": 300}).encode(),
                   [("Content-Type", "application/json")])

    def challenge(self, scope):
        realm = "http://127.0.0.1:%d/token" % PORT
        h = 'Bearer realm="%s",service="test"' % realm
        if scope:
            h += ',scope="%s"' % scope
        self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}',
                   [("WWW-Authenticate", h), ("Content-Type", "application/json")])

    def proxy(self):
        m = NAME.match(self.path)
        scope = "repository:%s:pull" % m.group(1) if m else ""
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else None
        with LOCK:
            ok = tok in TOKENS and TOKENS[tok][1] > time.time() and (not scope or TOKENS[tok][0] == scope)
        if not ok:
            return self.challenge(scope)
        c = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "range")}
        c.request(self.command, self.path, headers=hdrs)
        r = c.getresponse()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() in ("content-type", "content-length", "docker-content-digest", "etag",
                             "content-range", "location"):
                self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            left = int(r.getheader("Content-Length") or 0) // 2 if STALL and self.path.endswith("/blobs/" + STALL) else -1
            while True:
                chunk = r.read(65536 if left < 0 else max(1, min(65536, left)))
                if not chunk:
                    break
                self.wfile.write(chunk)
                if left >= 0:
                    left -= len(chunk)
                    if left <= 0:
                        self.wfile.flush()
                        time.sleep(60)   # stalled: the reader must give up first
                        break
        c.close()
        self.log_line(r.status)

    def do_GET(self):
        if self.path.startswith("/token"):
            return self.token()
        return self.proxy()

    def do_HEAD(self):
        return self.proxy()


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
