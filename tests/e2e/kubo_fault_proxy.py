#!/usr/bin/env python3
"""kubo_fault_proxy.py: a TCP proxy in front of Kubo's RPC API that injects
one fault at an exact point of a registry request (tests/e2e/faults.sh).

    kubo_fault_proxy.py LISTEN_PORT UPSTREAM_PORT CONTROL_DIR

Every connection carries one request: the proxy adds "Connection: close"
to it, so Kubo closes after answering and the registry's next call opens a
new connection whose request line the proxy sees. A rule is armed by
writing CONTROL_DIR/rule, one line "ACTION SUBSTRING"; the first request
whose decoded request line contains SUBSTRING fires it (the file is then
renamed to CONTROL_DIR/fired, holding the line that fired it):

    kill   SIGKILL the pid in CONTROL_DIR/kubo.pid, then drop the request:
           Kubo dies exactly before that call
    hold   write CONTROL_DIR/held (the registry side's port), then wait for
           CONTROL_DIR/release (at most 60 s): "forward" passes the request
           on, anything else drops it

Loopback only; everything else is passed through byte for byte."""
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse

HEADER_MAX = 64 * 1024
HOLD_MAX_S = 60


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > HEADER_MAX:
            return None, b""
    head, rest = data.split(b"\r\n\r\n", 1)
    return head, rest


def close_after(head):
    lines = [l for l in head.split(b"\r\n") if not l.lower().startswith(b"connection:")]
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def pump(src, dst):
    try:
        while True:
            chunk = src.recv(1 << 20)
            if not chunk:
                break
            dst.sendall(chunk)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def fire(ctl, line, client_port):
    """Returns True to forward the request, False to drop it."""
    rule_path = os.path.join(ctl, "rule")
    try:
        action, substring = open(rule_path).read().strip().split(" ", 1)
    except (OSError, ValueError):
        return True
    if substring not in line:
        return True
    try:
        os.rename(rule_path, os.path.join(ctl, "fired"))
    except OSError:
        return True   # another connection fired it first
    with open(os.path.join(ctl, "fired"), "w") as f:
        f.write(line + "\n")
    if action == "kill":
        try:
            os.kill(int(open(os.path.join(ctl, "kubo.pid")).read()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
        return False
    if action == "hold":
        with open(os.path.join(ctl, "held.tmp"), "w") as f:
            f.write("%d\n" % client_port)
        os.rename(os.path.join(ctl, "held.tmp"), os.path.join(ctl, "held"))
        release = os.path.join(ctl, "release")
        deadline = time.monotonic() + HOLD_MAX_S
        while time.monotonic() < deadline:
            if os.path.exists(release):
                verdict = open(release).read().strip()
                os.unlink(release)
                return verdict == "forward"
            time.sleep(0.05)
        return False
    return True


def serve(conn, upstream_port, ctl):
    up = None
    try:
        head, rest = read_head(conn)
        if head is None:
            return
        line = urllib.parse.unquote(head.split(b"\r\n", 1)[0].decode("latin-1"))
        if not fire(ctl, line, conn.getpeername()[1]):
            return
        up = socket.create_connection(("127.0.0.1", upstream_port), timeout=5)
        up.settimeout(None)
        up.sendall(close_after(head) + rest)
        t = threading.Thread(target=pump, args=(conn, up), daemon=True)
        t.start()
        pump(up, conn)
        t.join(timeout=600)
    except OSError:
        pass
    finally:
        for s in (conn, up):
            if s is not None:
                s.close()


def main():
    listen_port, upstream_port, ctl = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", listen_port))
    srv.listen(128)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, upstream_port, ctl), daemon=True).start()


if __name__ == "__main__":
    main()
