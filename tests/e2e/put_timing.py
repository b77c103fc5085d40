#!/usr/bin/env python3
"""put_timing.py BASE REPO DIGEST < BYTES

Opens an upload session (POST), then sends stdin as the body of the final
PUT ?digest=DIGEST with chunked transfer encoding (as clients that stream do;
nginx then passes it on with an empty CONTENT_LENGTH). Prints one JSON line:
the PUT's status, the bytes sent, how long the body took to send, and how
long the registry took to answer after the last body byte. That last number
is what a front server's read timeout sees.
"""
import http.client
import json
import sys
import time
import urllib.parse

CHUNK = 1 << 20


def main():
    base, repo, digest = sys.argv[1:4]
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=900)
    conn.request("POST", f"/v2/{repo}/blobs/uploads/", headers={"Content-Length": "0"})
    resp = conn.getresponse()
    resp.read()
    if resp.status != 202:
        print(json.dumps({"error": f"POST answered {resp.status}"}))
        return 1
    loc = urllib.parse.urlsplit(resp.getheader("Location", ""))
    path = loc.path + ("?" + loc.query + "&" if loc.query else "?") + "digest=" + digest
    conn.putrequest("PUT", path)
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    t_start = time.monotonic()
    sent = 0
    src = sys.stdin.buffer
    while True:
        buf = src.read(CHUNK)
        if not buf:
            break
        conn.send(b"%x\r\n" % len(buf) + buf + b"\r\n")
        sent += len(buf)
    conn.send(b"0\r\n\r\n")
    t_body = time.monotonic()
    resp = conn.getresponse()
    t_resp = time.monotonic()
    body = resp.read()
    print(json.dumps({
        "status": resp.status,
        "bytes": sent,
        "body_seconds": round(t_body - t_start, 3),
        "answer_after_body_seconds": round(t_resp - t_body, 3),
        "docker_content_digest": resp.getheader("Docker-Content-Digest"),
        "error_body": body[:300].decode("utf-8", "replace") if resp.status >= 400 else "",
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
