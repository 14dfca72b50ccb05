# SPDX-License-Identifier: MIT
"""Restarts under the real systemd (issue 11): bench/systemd_restart.sh boots
systemd 252 as PID 1 in private namespaces (the systemd test tier's harness)
and restarts python3 -m http.server with `systemctl restart` while a client
connects continuously, in three set-ups: binding natively, with the socket
unit of docs/examples/python-http, and with no socket unit through the fd
store (SDADOPT_FDSTORE=1, docs/examples/fdstore).  This module runs it and
reads its table."""
import os
import re
import subprocess

from .common import heading, log

NAME = "systemd"


def measure(P, ctx):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    restarts = P.get("sd_restarts", 10)
    log("systemd: %d systemctl restarts per set-up under a continuous client" % restarts)
    p = subprocess.run(["bash", os.path.join(repo, "bench/systemd_restart.sh"), ctx.shim, str(restarts)],
                       capture_output=True, text=True, timeout=900)
    if p.returncode == 77:
        return {"error": "skipped: " + (p.stdout + p.stderr).strip().splitlines()[-1]}
    if p.returncode != 0:
        return {"error": "bench/systemd_restart.sh exited %d: %s" % (
            p.returncode, (p.stderr or p.stdout).strip()[-400:])}
    rows = {}
    for line in p.stdout.splitlines():
        m = re.match(r"\| (native|socket-unit|fd-store) \| (\d+) \| (\d+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", line)
        if m:
            rows[m.group(1)] = dict(ok=int(m.group(2)), refused=int(m.group(3)), other=int(m.group(4)),
                                    p50=float(m.group(5)), p99=float(m.group(6)), max=float(m.group(7)))
    if len(rows) != 3:
        return {"error": "unexpected output: " + p.stdout[-400:]}
    head = [l for l in p.stdout.splitlines() if l.startswith("# ")]
    return {"restarts": restarts, "rows": rows, "head": head[0][2:] if head else ""}


def section(R, a, num):
    s = R.get(NAME, {})
    if heading(a, num, "Restarts under the real systemd", s):
        return
    a("`bench/systemd_restart.sh` boots systemd 252 as PID 1 in private namespaces and runs"
      " `systemctl restart` %d times on `python3 -m http.server` while one client makes one"
      " connection after another (bounded in count and time), in three set-ups: the server"
      " binding its port itself, the shipped socket unit (`docs/examples/python-http`), and no"
      " socket unit but the fd store (`SDADOPT_FDSTORE=1`, `docs/examples/fdstore`). %s."
      % (s["restarts"], s.get("head", "")))
    a("")
    a("| set-up | answered | refused | failed otherwise | p50 ms | p99 ms | max ms |")
    a("|---|---|---|---|---|---|---|")
    for k, title in (("native", "binding natively"), ("socket-unit", "socket unit + shim"),
                     ("fd-store", "fd store + shim, no socket unit")):
        r = s["rows"][k]
        a("| %s | %d | %d | %d | %.1f | %.1f | %.1f |" % (title, r["ok"], r["refused"], r["other"],
                                                         r["p50"], r["p99"], r["max"]))
    a("")
    a("*Failed otherwise* are connections the stopped process had accepted when it was killed"
      " (http.server does not drain): not a refusal, in every set-up alike. The units set"
      " `StartLimitIntervalSec=0`: ten restarts within seconds trip systemd's default start rate"
      " limit (5 in 10 s), after which the service and its socket unit fail (see the guide).")
    a("")


def targets(R):
    s = R.get(NAME, {})
    if "rows" not in s:
        return []
    r = s["rows"]
    return [dict(what="systemd restarts: 0 refused with the socket unit and with the fd store (native refuses)",
                 measured="socket unit %d, fd store %d, native %d refused over %d restarts each" % (
                     r["socket-unit"]["refused"], r["fd-store"]["refused"], r["native"]["refused"],
                     s["restarts"]),
                 ok=r["socket-unit"]["refused"] == 0 and r["fd-store"]["refused"] == 0 and
                 r["native"]["refused"] > 0,
                 why="the listening socket outlives each instance of the server: its queue holds"
                     " the connections made while no instance runs.")]
