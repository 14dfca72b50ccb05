#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A small legacy-style server for the end-to-end tests.

    servers.py [--close-all] [--reload-on-hup] SPEC...

Each SPEC is KIND:ADDRESS with KIND one of tcp, udp, unix (stream),
seqpacket, and ADDRESS 127.0.0.1:PORT, [::1]:PORT, /path or @abstract.
The server knows nothing about socket activation: like a legacy daemon it
creates each socket, sets SO_REUSEADDR (inet) or unlinks a stale path (unix),
binds and listens.  For each socket it prints one line on stdout:

    BOUND SPEC fd=N name=GETSOCKNAME

then serves every socket at once: each stream connection gets b"echo:" + the
first chunk it sent, each seqpacket message and each datagram is echoed as
b"echo:" + message.  With --reload-on-hup, SIGHUP makes it close every
socket and create, bind and listen again (printing new BOUND lines), as
servers do on a configuration reload.  With --close-all, it first closes
every fd above 2 (os.closerange), as daemonizing servers do.
"""
import os
import select
import signal
import socket
import sys
import threading

# The spec syntax is the shared client's (tests/lib/client.py): KINDS, parse.
# No __pycache__ in the source tree (the activator does not pass
# PYTHONDONTWRITEBYTECODE on).
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from client import KINDS, parse  # noqa: E402


def make(spec):
    kind, family, addr = parse(spec)
    s = socket.socket(family, KINDS[kind])
    if family == socket.AF_UNIX:
        if not addr.startswith("\0"):
            try:  # what legacy servers do before bind; the path is systemd's
                os.unlink(addr)
            except FileNotFoundError:
                pass
    else:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    if kind != "udp":
        s.listen(16)
    name = s.getsockname()
    if isinstance(name, tuple):
        name = "%s:%d" % (name[0] if family == socket.AF_INET else "[%s]" % name[0], name[1])
    elif isinstance(name, str) and name.startswith("\0"):
        name = "@" + name[1:]
    print("BOUND %s fd=%d name=%s" % (spec, s.fileno(), name), flush=True)
    return kind, s


def serve_conn(kind, c):
    with c:
        c.settimeout(30)
        while True:
            data = c.recv(65536)
            if not data:
                return
            c.sendall(b"echo:" + data)
            if kind != "seqpacket":
                return


def main():
    specs = sys.argv[1:]
    wake = None
    if specs[:1] == ["--close-all"]:
        specs = specs[1:]
        os.closerange(3, 65536)
    if specs[:1] == ["--reload-on-hup"]:
        specs = specs[1:]
        wake, w = os.pipe()
        os.set_blocking(w, False)
        signal.set_wakeup_fd(w)  # a SIGHUP wakes select() below
        signal.signal(signal.SIGHUP, lambda *_: None)
    if not specs:
        sys.exit("usage: servers.py [--close-all] [--reload-on-hup] SPEC...")
    socks = dict(make(spec)[::-1] for spec in specs)
    while True:
        ready, _, _ = select.select(list(socks) + ([wake] if wake is not None else []), [], [])
        if wake in ready:
            os.read(wake, 512)
            for s in socks:
                s.close()
            socks = dict(make(spec)[::-1] for spec in specs)
            continue
        for s in ready:
            kind = socks[s]
            if kind == "udp":
                data, peer = s.recvfrom(65536)
                s.sendto(b"echo:" + data, peer)
            else:
                c, _ = s.accept()
                threading.Thread(target=serve_conn, args=(kind, c), daemon=True).start()


if __name__ == "__main__":
    main()
