#!/usr/bin/env python3
"""slow_uploads.py: N clients, each holding a blob upload open by sending its
body one byte at a time (a PATCH with a large Content-Length, a byte every
--interval seconds), for --duration seconds, then it closes everything and
prints a JSON summary on stdout. It is the hostile load of bench/slow_clients.sh
and tests/e2e/slow_clients.sh; it never sends more than N bodies at once.

A client whose PATCH is answered before its body ends (429 TOOMANYREQUESTS,
as the registry answers when every upload_workers slot is busy) waits for its
Retry-After (or --retry-after-default) and sends the PATCH again on a new
connection, as a well-behaved client would; --no-retry makes it stop.

Summary: clients, sending (PATCHes whose body was still being sent at the
end), sending_max, answered (status -> count: PATCHes answered while their
body was unfinished), retry_after (values seen), errors (connections that
failed), first_answer_ms (time to the first answer of a refused PATCH, max).
"""
import argparse
import json
import selectors
import socket
import sys
import time
import urllib.parse
import urllib.request


def open_session(base, repo):
    req = urllib.request.Request(f"{base}/v2/{repo}/blobs/uploads/", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=10) as r:
        loc = r.headers["Location"]
    return urllib.parse.urljoin(base, loc)


class Client:
    def __init__(self, url, length):
        self.url = url
        self.length = length
        self.sock = None
        self.sent = 0
        self.started = 0.0
        self.reply = b""
        self.retry_at = 0.0   # when idle: time to send again
        self.done = False


def connect(c, host, port, sel):
    u = urllib.parse.urlsplit(c.url)
    path = u.path + ("?" + u.query if u.query else "")
    s = socket.create_connection((host, port), timeout=5)
    head = (f"PATCH {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {c.length}\r\n"
            "Connection: close\r\n\r\n").encode()
    s.sendall(head)
    s.setblocking(False)
    c.sock, c.sent, c.reply, c.started = s, 0, b"", time.monotonic()
    sel.register(s, selectors.EVENT_READ, c)


def close(c, sel):
    if c.sock is not None:
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        c.sock = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="registry base URL, http://host:port")
    ap.add_argument("--repo", default="slow/upload")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between two body bytes")
    ap.add_argument("--length", type=int, default=1 << 20, help="Content-Length each PATCH announces")
    ap.add_argument("--retry-after-default", type=float, default=1.0)
    ap.add_argument("--no-retry", action="store_true")
    a = ap.parse_args()

    base = a.url.rstrip("/")
    u = urllib.parse.urlsplit(base)
    host, port = u.hostname, u.port or 80
    sel = selectors.DefaultSelector()
    clients = [Client(open_session(base, a.repo), a.length) for _ in range(a.clients)]
    answered, retry_after, errors = {}, {}, 0
    first_answer_ms = 0.0
    sending_max = 0
    start = time.monotonic()
    end = start + a.duration
    next_byte = start
    for c in clients:
        try:
            connect(c, host, port, sel)
        except OSError:
            errors += 1
            c.retry_at = time.monotonic() + a.retry_after_default
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now >= next_byte:
            next_byte += a.interval
            for c in clients:
                if c.sock is None and not c.done and now >= c.retry_at:
                    try:
                        connect(c, host, port, sel)
                    except OSError:
                        errors += 1
                        c.retry_at = now + a.retry_after_default
                elif c.sock is not None and c.sent < c.length - 1:
                    try:
                        c.sent += c.sock.send(b"x")
                    except BlockingIOError:
                        pass
                    except OSError:
                        errors += 1
                        close(c, sel)
                        c.retry_at = now + a.retry_after_default
            sending_max = max(sending_max, sum(1 for c in clients if c.sock is not None))
        timeout = max(0.0, min(next_byte, end) - time.monotonic())
        for key, _ in sel.select(timeout):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except OSError:
                data = b""
            if data:
                c.reply += data
                if b"\r\n\r\n" not in c.reply:
                    continue
            head = c.reply.split(b"\r\n\r\n", 1)[0].decode("latin-1")
            lines = head.split("\r\n")
            status = lines[0].split(" ")[1] if lines[0].startswith("HTTP/") else "closed"
            answered[status] = answered.get(status, 0) + 1
            first_answer_ms = max(first_answer_ms, (time.monotonic() - c.started) * 1000.0)
            wait = a.retry_after_default
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "retry-after":
                    retry_after[value.strip()] = retry_after.get(value.strip(), 0) + 1
                    try:
                        wait = float(value.strip())
                    except ValueError:
                        pass
            close(c, sel)
            c.done = a.no_retry
            c.retry_at = time.monotonic() + wait
    sending = sum(1 for c in clients if c.sock is not None)
    for c in clients:
        close(c, sel)
    json.dump({"clients": a.clients, "seconds": round(time.monotonic() - start, 1),
               "sending": sending, "sending_max": sending_max, "answered": answered,
               "retry_after": retry_after, "errors": errors,
               "first_answer_ms": round(first_answer_ms, 1)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
