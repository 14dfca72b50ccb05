#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A bounded continuous HTTP client for the systemd tier.

    hammer.py HOST PORT STOPFILE DEADLINE_SECONDS OUT

One connection after another (GET /, read to the end), until STOPFILE
exists or DEADLINE_SECONDS pass.  Each one counts as ok (an HTTP 200 reply),
refused (ECONNREFUSED) or other (a reset, a timeout, a short reply).
OUT.started appears after the first ok; OUT gets "ok N refused N other N
p50_ms X p99_ms X max_ms X" (the times of the ok ones, connect to close).
Every connect and receive is bounded (10 s).
"""
import os
import socket
import sys
import time

host, port, stopfile, deadline, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5]
end = time.monotonic() + deadline
n = {"ok": 0, "refused": 0, "other": 0}
times = []
while not os.path.exists(stopfile) and time.monotonic() < end:
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: sdadopt\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        line = data.split(b"\r\n", 1)[0]
        kind = "ok" if line.startswith(b"HTTP/1.") and line[8:13] == b" 200 " else "other"
    except ConnectionRefusedError:
        kind = "refused"
        time.sleep(0.002)
    except OSError:
        kind = "other"
    n[kind] += 1
    if kind == "ok":
        times.append((time.monotonic() - t0) * 1000)
    if kind == "ok" and n["ok"] == 1:
        open(out + ".started", "w").close()
times.sort()


def pct(p):
    return f"{times[min(len(times) - 1, int(len(times) * p))]:.1f}" if times else "-"


with open(out + ".tmp", "w") as f:
    f.write(f"ok {n['ok']} refused {n['refused']} other {n['other']} "
            f"p50_ms {pct(0.5)} p99_ms {pct(0.99)} max_ms {times[-1] if times else 0:.1f}\n")
os.rename(out + ".tmp", out)
