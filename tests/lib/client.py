#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The client of the end-to-end tiers, tests/e2e and tests/daemons (always
run under `timeout`).

    client.py [--marker FILE] [--wait SECONDS] [--shut] SPEC [MESSAGE...]

SPEC is KIND:ADDRESS with KIND one of tcp, udp, unix (stream), seqpacket and
ADDRESS HOST:PORT (HOST may be [v6]), /path or @abstract; or KIND "http"
(ADDRESS HOST:PORT), which sends "GET / HTTP/1.0" in place of MESSAGEs.
Each MESSAGE is sent after expanding \\r, \\n and \\\\ escapes.

Stream (tcp, unix, http): connect, send all the messages at once, create
--marker FILE (the request is now in the kernel: in flight even if no
process reads the socket yet), optionally shut the write side down (--shut,
for echo servers), then print everything received until the peer closes.
Message kinds (udp, seqpacket): send each message and print its reply on a
line of its own; the marker is created after the first send.  --wait bounds
every receive (default 30 s).

Exit status: 0 when the exchange completed (the peer closed, or every
message had its reply), 3 when it timed out, 4 when the connection was
refused or reset.  Whatever was received is printed in every case.

tests/e2e/servers.py uses KINDS and parse from here.
"""
import socket
import sys

KINDS = {
    "tcp": socket.SOCK_STREAM,
    "udp": socket.SOCK_DGRAM,
    "unix": socket.SOCK_STREAM,
    "seqpacket": socket.SOCK_SEQPACKET,
}
HTTP_GET = b"GET / HTTP/1.0\r\nHost: sdadopt\r\n\r\n"


def parse(spec):
    """KIND:ADDRESS -> (kind, family, address for bind or connect)."""
    kind, _, where = spec.partition(":")
    if kind not in KINDS or not where:
        sys.exit("bad spec: " + spec)
    if kind in ("tcp", "udp"):
        host, _, port = where.rpartition(":")
        if host.startswith("["):
            return kind, socket.AF_INET6, (host[1:-1], int(port))
        return kind, socket.AF_INET, (host, int(port))
    if where.startswith("@"):
        return kind, socket.AF_UNIX, "\0" + where[1:]
    return kind, socket.AF_UNIX, where


def expand(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            out.append({"r": "\r", "n": "\n", "\\": "\\"}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out).encode()


def touch(marker):
    if marker:
        open(marker, "w").close()


def main():
    args = sys.argv[1:]
    marker, wait, shut = None, 30.0, False
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--marker":
            marker = args.pop(0)
        elif opt == "--wait":
            wait = float(args.pop(0))
        elif opt == "--shut":
            shut = True
        else:
            sys.exit("client.py: unknown option " + opt)
    if not args:
        sys.exit(__doc__.split("\n\n")[1])
    spec, msgs = args[0], [expand(m) for m in args[1:]]
    if spec.startswith("http:"):
        spec, msgs = "tcp:" + spec[5:], [HTTP_GET]
    kind, family, addr = parse(spec)
    out = sys.stdout.buffer
    s = socket.socket(family, KINDS[kind])
    s.settimeout(wait)
    status = 0
    try:
        s.connect(addr)
        if kind in ("udp", "seqpacket"):
            for m in msgs:
                s.send(m)
                touch(marker)
                marker = None
                out.write(s.recv(65536) + b"\n")
                out.flush()
        else:
            s.sendall(b"".join(msgs))
            touch(marker)
            if shut:
                s.shutdown(socket.SHUT_WR)
            while True:
                data = s.recv(65536)
                if not data:
                    break
                out.write(data)
                out.flush()
    except socket.timeout:
        status = 3
    except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError) as e:
        print("client.py: %s" % e, file=sys.stderr)
        status = 4
    out.flush()
    sys.exit(status)


if __name__ == "__main__":
    main()
