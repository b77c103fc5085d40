#!/usr/bin/env python3
"""slow_reader.py: a client that stops reading partway, as one behind a
congested link does (a TCP flow backing off), for tests/e2e/p2p.sh.

  slow_reader.py URL AFTER_BYTES PAUSE_S

GETs URL (plain HTTP/1.1 on its own connection, a small receive buffer),
reads AFTER_BYTES of the body, stops reading for PAUSE_S seconds, then
reads the rest. Prints "<status> <body bytes> <sha256:hex of the body>
<Content-Length>"; the caller compares. Every wait is bounded (60 s
without a byte ends it).
"""
import hashlib
import socket
import sys
import time
import urllib.parse


def main():
    url, after, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    u = urllib.parse.urlsplit(url)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(60)
    s.connect((u.hostname, u.port or 80))
    path = u.path + ("?" + u.query if u.query else "")
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nConnection: close\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(4096)
        if not d:
            break
        head += d
    head, _, body = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ")[1] if lines and " " in lines[0] else "0"
    length = "-"
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = v.strip()
    h = hashlib.sha256(body)
    n = len(body)
    paused = False
    while True:
        if not paused and n >= after:
            paused = True
            time.sleep(pause)
        try:
            d = s.recv(65536)
        except OSError:
            break
        if not d:
            break
        h.update(d)
        n += len(d)
    print(status, n, "sha256:" + h.hexdigest(), length)


if __name__ == "__main__":
    main()
