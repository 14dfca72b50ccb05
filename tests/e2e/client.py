#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Clients for the end-to-end tests (always run under `timeout`).

    client.py [--marker FILE] SPEC MESSAGE...

SPEC is KIND:ADDRESS as for servers.py, plus KIND "http" (ADDRESS
HOST:PORT) which sends "GET / HTTP/1.0".  Prints every reply on stdout, one
per line for message-oriented kinds.  --marker FILE is created once the
request has been sent (so a test can tell that the request is in flight).
"""
import socket
import sys

sys.path.insert(0, __file__.rpartition("/")[0])
from servers import parse  # noqa: E402

TIMEOUT = 20


def main():
    args = sys.argv[1:]
    marker = None
    if args[:1] == ["--marker"]:
        marker, args = args[1], args[2:]
    spec, msgs = args[0], [m.encode() for m in args[1:]]
    http = spec.startswith("http:")
    if http:
        spec = "tcp:" + spec[5:]
        msgs = [b"GET / HTTP/1.0\r\nHost: sdadopt\r\n\r\n"]
    kind, family, addr = parse(spec)
    stype = {"tcp": socket.SOCK_STREAM, "unix": socket.SOCK_STREAM,
             "udp": socket.SOCK_DGRAM, "seqpacket": socket.SOCK_SEQPACKET}[kind]
    s = socket.socket(family, stype)
    s.settimeout(TIMEOUT)
    s.connect(addr)
    out = sys.stdout.buffer
    if kind in ("udp", "seqpacket"):
        for m in msgs:
            s.send(m)
            if marker:
                open(marker, "w").close()
                marker = None
            out.write(s.recv(65536) + b"\n")
    else:
        s.sendall(b"".join(msgs))
        if marker:
            open(marker, "w").close()
        while True:
            data = s.recv(65536)
            if not data:
                break
            out.write(data)
    out.flush()


if __name__ == "__main__":
    main()
