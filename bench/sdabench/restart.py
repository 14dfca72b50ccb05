# SPDX-License-Identifier: MIT
"""Restarts under load: python3 -m http.server restarted again and again
while clients connect, with the shim (the supervisor holds the socket) and
binding natively."""
import os
import re
import signal
import socket
import threading
import time

from .common import PY, fmt, free_port, http_get, log, recv_all, run, summ

NAME = "restart"


class Load:
    """Client threads: one HTTP/1.0 GET per connection, closed loop."""

    def __init__(self, port, nthreads=4, timeout=5.0):
        self.port, self.timeout = port, timeout
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.c = dict(ok=0, refused=0, timeout=0, cut=0, other=0)
        self.refused_at = []
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(nthreads)]

    def count(self, k):
        with self.lock:
            self.c[k] += 1
            if k == "refused" and len(self.refused_at) < 200000:
                self.refused_at.append(time.monotonic())

    def outages_ms(self):
        """Refusals grouped into bursts (one per restart): each burst's length."""
        out, first, last = [], None, None
        for t in sorted(self.refused_at):
            if last is None or t - last > 0.3:
                if first is not None:
                    out.append(1000 * (last - first))
                first = t
            last = t
        if first is not None:
            out.append(1000 * (last - first))
        return out

    def one(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        except ConnectionRefusedError:
            return "refused"
        except socket.timeout:
            return "timeout"
        except OSError:
            return "other"
        try:
            s.sendall(b"GET /f.txt HTTP/1.0\r\nHost: bench\r\n\r\n")
            data = recv_all(s, 1 << 16)
        except socket.timeout:
            return "timeout"
        except OSError:
            return "cut"
        finally:
            s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        m = re.search(rb"Content-Length: (\d+)", head)
        if head.startswith(b"HTTP/1.0 200") and m and len(body) == int(m.group(1)):
            return "ok"
        return "cut"

    def loop(self):
        end = time.monotonic() + 3600
        while not self.stop.is_set() and time.monotonic() < end:
            self.count(self.one())

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)


def backlog_of(port):
    cp = run(["ss", "-ltnH", "sport = :%d" % port], timeout=10)
    vals = []
    for line in cp.stdout.splitlines():
        f = line.split()
        if len(f) >= 4 and f[0] == "LISTEN":
            vals.append(int(f[2]))
    return vals


def restart_round(mode, P, shim, work, log_f):
    port = free_port()
    held = None
    if mode == "shim":
        held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", port))
        held.listen(128)              # what the activator sets (Backlog=128)

    argv = [PY, "-m", "http.server", "--bind", "127.0.0.1", "--directory", work + "/www", str(port)]

    def start():
        log_f.flush()
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(log_f.fileno(), 1)
                os.dup2(log_f.fileno(), 2)
                env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
                if held is not None:
                    fd = os.dup(held.fileno())
                    os.dup2(fd, 3, inheritable=True)
                    env.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1",
                               LISTEN_FDNAMES="http", LD_PRELOAD=shim)
                os.execve(PY, argv, env)
            finally:
                os._exit(127)
        return pid

    def kill(pid):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

    backlogs = []
    pid = start()
    try:
        # first start: wait until it serves (not counted)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            try:
                if http_get("127.0.0.1", port, "/f.txt").startswith(b"HTTP/1.0 200"):
                    break
            except OSError:
                time.sleep(0.05)
        with Load(port) as load:
            for i in range(P["rs_restarts"]):
                time.sleep(P["rs_period"] / 2)
                backlogs += backlog_of(port)
                time.sleep(P["rs_period"] / 2)
                kill(pid)
                pid = start()
            time.sleep(P["rs_period"])
            backlogs += backlog_of(port)
        counts = dict(load.c)
        counts["outages_ms"] = load.outages_ms()
    finally:
        kill(pid)
        if held is not None:
            held.close()
    counts["restarts"] = P["rs_restarts"]
    counts["backlogs"] = sorted(set(backlogs))
    return counts


def measure(P, ctx):
    shim, work = ctx.shim, ctx.work
    os.makedirs(work + "/www", exist_ok=True)
    with open(work + "/www/f.txt", "w") as f:
        f.write("x" * 1024)
    log("restarts: python3 -m http.server restarted every %.1fs under load, %d x %d restarts per mode"
        % (P["rs_period"], P["rs_rounds"], P["rs_restarts"]))
    res = {"shim": [], "native": []}
    logs = {}
    for r in range(P["rs_rounds"]):
        for mode in ("shim", "native"):
            path = "%s/restart-%s-%d.log" % (work, mode, r)
            with open(path, "w") as lf:
                c = restart_round(mode, P, shim, work, lf)
            with open(path, errors="replace") as lf:
                text = lf.read()
            c["adoptions"] = text.count("sdadopt: info: adopted")
            res[mode].append(c)
            logs[mode] = path
            log("  %s round %d/%d: %s" % (mode, r + 1, P["rs_rounds"], {
                k: v for k, v in c.items() if k != "outages_ms"}))
    tot = {}
    for mode, rounds in res.items():
        t = {k: sum(c[k] for c in rounds) for k in
             ("ok", "refused", "timeout", "cut", "other", "restarts", "adoptions")}
        t["connections"] = sum(t[k] for k in ("ok", "refused", "timeout", "cut", "other"))
        t["backlogs"] = sorted(set(b for c in rounds for b in c["backlogs"]))
        t["outage_ms"] = summ([o for c in rounds for o in c["outages_ms"]])
        t["per_round"] = rounds
        tot[mode] = t
    return tot


def section(R, a, num):
    P = R["profile"]
    rs = R.get("restart")
    a("## %d. Restarts under load" % num)
    a("")
    if "error" in rs:
        a("Not measured: %s" % rs["error"])
    else:
        a("A supervisor (`bench/run.py`, like systemd) holds a listening socket on 127.0.0.1 with"
          " backlog 128 and restarts `/usr/bin/python3 -m http.server` (unmodified; it calls"
          " `listen(fd, 5)`) every %.1f s: SIGTERM, wait, start again with the socket as fd 3,"
          " LISTEN_* and the shim. The baseline is the same server binding the port itself and"
          " restarted the same way. Four client threads make one HTTP/1.0 GET per connection,"
          " back to back (connect and read time-out 5 s). %d round%s of %d restarts per mode, alternating."
          % (P["rs_period"], P["rs_rounds"], "" if P["rs_rounds"] == 1 else "s", P["rs_restarts"]))
        a("")
        a("| mode | restarts | connections | served | refused | timed out | cut off in flight | other | listen backlog seen (ss Send-Q) |")
        a("|---|---|---|---|---|---|---|---|---|")
        for mode, title in (("shim", "shim (socket held by the supervisor)"), ("native", "native bind")):
            t = rs[mode]
            a("| %s | %d | %d | %d | %d | %d | %d | %d | %s |" % (
                title, t["restarts"], t["connections"], t["ok"], t["refused"], t["timeout"], t["cut"],
                t["other"], ", ".join(map(str, t["backlogs"])) or "n/a"))
        a("")
        o = rs["native"].get("outage_ms")
        if o:
            a("With the native bind the port is closed for %s ms per restart (from the first to the"
              " last refused connection of each restart); the clients retry at once, so the refused"
              " count is that time multiplied by their retry rate. With the shim the socket never"
              " closes: connections made during a restart wait in its backlog and are served by"
              " the next instance." % fmt(o, 0))
            a("")
        a("*Refused* and *timed out* are connections the clients could not make or that got no"
          " answer; *cut off in flight* are connections accepted by a server that was then killed"
          " (reset or short response): SIGTERM kills http.server without draining, in both modes,"
          " so they are reported separately and are not a target. The backlog column is the"
          " listening socket's Send-Q (its accept-queue limit) sampled while the server runs.")
        a("")


def targets(R):
    T = []
    rs = R.get("restart", {})
    if "shim" in rs:
        s = rs["shim"]
        T.append(dict(what="restarts: 0 refused and 0 timed-out connections with the shim",
                      measured="%d refused, %d timed out of %d connections over %d restarts (native: %d refused, %d timed out)" % (
                          s["refused"], s["timeout"], s["connections"], s["restarts"],
                          rs["native"]["refused"], rs["native"]["timeout"]),
                      ok=s["refused"] == 0 and s["timeout"] == 0 and s["adoptions"] >= s["restarts"],
                      why=("adoptions logged: %d for %d starts; a refusal means a server instance"
                           " bound its own socket instead of adopting, or the held socket was closed."
                           % (s["adoptions"], s["restarts"] + len(s["per_round"])))))
        T.append(dict(what="restarts: the held socket keeps the activator's backlog (128) while the server runs",
                      measured="Send-Q seen: %s (native server's own socket: %s)" % (
                          ", ".join(map(str, s["backlogs"])) or "n/a",
                          ", ".join(map(str, rs["native"]["backlogs"])) or "n/a"),
                      ok=s["backlogs"] == [128],
                      why="listen() on the adopted fd must return 0 without calling listen() again."))
    return T
