#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""One client request for the daemon tests (always run under `timeout`).

    client.py [--marker FILE] [--wait SECONDS] [--shut] ADDRESS PAYLOAD

ADDRESS is tcp:HOST:PORT (HOST may be [v6]), unix:PATH or udp:HOST:PORT.
PAYLOAD is sent as is after expanding \\r, \\n and \\\\ escapes.

Stream: connect, send the payload, create --marker FILE (the request is now
in the kernel: in flight even if no process reads the socket yet), optionally
shut the write side down (--shut, for echo servers), then print everything
received until the peer closes.  Datagram: send one datagram, create the
marker, print the one reply.  --wait bounds every receive (default 30 s).

Exit status: 0 when the exchange completed (the peer closed, or a datagram
came back), 3 when it timed out, 4 when the connection was refused or reset.
Whatever was received is printed in every case.
"""
import socket
import sys


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


def parse(addr):
    kind, _, rest = addr.partition(":")
    if kind == "unix":
        return kind, socket.AF_UNIX, rest
    host, _, port = rest.rpartition(":")
    if host.startswith("["):
        return kind, socket.AF_INET6, (host[1:-1], int(port))
    return kind, socket.AF_INET, (host, int(port))


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
    kind, family, addr = parse(args[0])
    payload = expand(args[1])
    out = sys.stdout.buffer
    s = socket.socket(family, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    s.settimeout(wait)
    status = 0
    try:
        s.connect(addr)
        s.sendall(payload)
        if marker:
            open(marker, "w").close()
        if kind == "udp":
            out.write(s.recv(65536))
        else:
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
