#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""sdadopt benchmarks: run them all, write docs/performance.md and .png.

Run through scripts/bench (which installs the tools and builds); by hand:

    /usr/bin/python3 bench/run.py --shim build-bench/shim/libsdadopt.so \
        --bin build-bench/bench --out docs [--quick]

Every figure is a ratio (or a difference) against a baseline measured in the
same run, in alternating rounds (A B C A B C ...); medians are quoted with
the min-max over the rounds.  Only loopback and unix traffic; every loop and
every wait is bounded.
"""
import argparse
import datetime
import json
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PY = "/usr/bin/python3"
NGINX = "/usr/sbin/nginx"
SSA = "/usr/bin/systemd-socket-activate"
PROXYD = "/lib/systemd/systemd-socket-proxyd"

PROFILES = {
    "quick": dict(
        dp_rounds=2, dp_secs=2, dpc_rounds=1, dpc_secs=1,
        hc_rounds=3, hc_iter=20000, hc_reps=3,
        su_rounds=6, su_iter=20,
        rs_rounds=1, rs_restarts=4, rs_period=1.2,
        mem_rounds=1,
    ),
    "full": dict(
        dp_rounds=16, dp_secs=2, dpc_rounds=8, dpc_secs=2,
        hc_rounds=7, hc_iter=100000, hc_reps=5,
        su_rounds=30, su_iter=60,
        rs_rounds=2, rs_restarts=11, rs_period=2.0,
        mem_rounds=3,
    ),
}

HC_NS = [1, 16, 256, 4096]
SU_NS = [1, 64, 1024]
MEM_NS = [0, 64, 1024]

T0 = time.monotonic()


def log(msg):
    print("[bench %6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


# ---------------------------------------------------------------- statistics

def summ(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    m = statistics.median(xs)
    mad = statistics.median([abs(x - m) for x in xs])
    # standard error of the median, from the MAD (normal approximation)
    se = 1.4826 * mad * 1.2533 / len(xs) ** 0.5
    return dict(med=m, min=min(xs), max=max(xs), n=len(xs), se=se)


def fmt(s, digits=3, unit=""):
    """'median (min–max)' of a summ() result."""
    if not s:
        return "n/a"
    f = "%%.%df" % digits
    return (f % s["med"]) + unit + " (" + (f % s["min"]) + "–" + (f % s["max"]) + ")"


# ---------------------------------------------------------------- processes

class Procs:
    """Every process we start (in its own session), stopped at the end."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, wait=10.0):
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=10)
        else:
            # the group may still hold children (nginx workers)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)


PROCS = Procs()


def run(argv, timeout, stderr_null=False, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw["stdout"] = subprocess.PIPE
    kw["stderr"] = subprocess.DEVNULL if stderr_null else subprocess.PIPE
    return subprocess.run(argv, timeout=timeout, text=True, **kw)


def free_port(family=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_ports(n):
    """n distinct ports free on 127.0.0.1 and on the dual-stack [::]."""
    out = []
    for _ in range(200):
        p = free_port(socket.AF_INET6, "::")
        if p not in out:
            out.append(p)
        if len(out) == n:
            return out
    raise RuntimeError("no free ports")


def http_get(host, port, path="/", timeout=2.0):
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.0\r\nHost: bench\r\n\r\n" % path).encode())
        data = b""
        while len(data) < 1 << 20:
            b = s.recv(65536)
            if not b:
                break
            data += b
    return data


def wait_http(port, path, deadline_s=15.0, host="127.0.0.1"):
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        try:
            if http_get(host, port, path).startswith(b"HTTP/1.1 200"):
                return
        except OSError as e:
            last = e
        time.sleep(0.05)
    raise RuntimeError("no HTTP 200 on port %d within %.0fs (%s)" % (port, deadline_s, last))


def poke(port, host="127.0.0.1"):
    """systemd-socket-activate waits for a first connection before it execs
    the server: make one (it is served once the server runs)."""
    try:
        s = socket.create_connection((host, port), timeout=2)
        s.close()
    except OSError:
        pass


# ---------------------------------------------------------------- 1. data path

NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
user root;
pid {dir}/nginx-{name}.pid;
error_log {dir}/nginx-{name}.err warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {dir}/tmp-{name}-cb;
    proxy_temp_path {dir}/tmp-{name}-p;
    fastcgi_temp_path {dir}/tmp-{name}-f;
    uwsgi_temp_path {dir}/tmp-{name}-u;
    scgi_temp_path {dir}/tmp-{name}-s;
    server {{
        listen {listen};
        root {dir}/www;
    }}
}}
"""

WRK_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_wrk(out):
    r = {}
    m = re.search(r"(\d+) requests in ", out)
    r["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    r["p99_ms"] = float(m.group(1)) * WRK_UNIT[m.group(2)] if m else None
    m = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    r["p50_ms"] = float(m.group(1)) * WRK_UNIT[m.group(2)] if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    return r


def cpu_ns(pgids):
    """CPU time (ns, from /proc/PID/schedstat) of every process in these
    process groups: the server side of one setup."""
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            pgrp = int(st[st.rindex(")") + 2:].split()[2])
            if pgrp in pgids:
                with open("/proc/%s/schedstat" % d) as f:
                    total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def bench_datapath(P, shim, work):
    log("data path: nginx under wrk (native, shim, socket-proxyd, dual-stack, A/A control)")
    os.makedirs(work + "/www", exist_ok=True)
    body = ("sdadopt benchmark page\n" * 28)[:612]
    with open(work + "/www/index.html", "w") as f:
        f.write(body)
    pn, pc, ps, pf, pb, pd, pdn = free_ports(7)

    def conf(name, listen):
        path = "%s/nginx-%s.conf" % (work, name)
        with open(path, "w") as f:
            f.write(NGINX_CONF.format(dir=work, name=name, listen=listen))
        return path

    def ssa_log(name):
        return open("%s/ssa-%s.log" % (work, name), "w")

    setups = {}
    groups = {}       # setup -> process groups whose CPU time serves it
    # native: nginx binds 127.0.0.1:pn itself
    PROCS.start([NGINX, "-c", conf("native", "127.0.0.1:%d" % pn)],
                stdout=subprocess.DEVNULL, stderr=ssa_log("native"))
    setups["native"] = pn
    groups["native"] = [PROCS.procs[-1].pid]
    # A/A control: a second, identical native nginx
    PROCS.start([NGINX, "-c", conf("control", "127.0.0.1:%d" % pc)],
                stdout=subprocess.DEVNULL, stderr=ssa_log("control"))
    setups["control"] = pc
    groups["control"] = [PROCS.procs[-1].pid]
    # shim: nginx adopts systemd-socket-activate's 127.0.0.1:ps
    PROCS.start([SSA, "-l", "127.0.0.1:%d" % ps, "-E", "LD_PRELOAD=" + shim, "--",
                 NGINX, "-c", conf("shim", "127.0.0.1:%d" % ps)],
                stdout=subprocess.DEVNULL, stderr=ssa_log("shim"))
    setups["shim"] = ps
    groups["shim"] = [PROCS.procs[-1].pid]
    # proxy: native nginx on pb behind a socket-activated systemd-socket-proxyd on pf
    PROCS.start([NGINX, "-c", conf("backend", "127.0.0.1:%d" % pb)],
                stdout=subprocess.DEVNULL, stderr=ssa_log("backend"))
    PROCS.start([SSA, "-l", "127.0.0.1:%d" % pf, "--", PROXYD, "127.0.0.1:%d" % pb],
                stdout=subprocess.DEVNULL, stderr=ssa_log("proxy"))
    setups["proxyd"] = pf
    groups["proxyd"] = [PROCS.procs[-2].pid, PROCS.procs[-1].pid]
    # dual-stack: ssa -l PORT makes [::]:PORT (not V6ONLY); nginx binds 0.0.0.0:PORT
    PROCS.start([SSA, "-l", str(pd), "-E", "LD_PRELOAD=" + shim, "--",
                 NGINX, "-c", conf("dual", "0.0.0.0:%d" % pd)],
                stdout=subprocess.DEVNULL, stderr=ssa_log("dual"))
    setups["dual"] = pd
    groups["dual"] = [PROCS.procs[-1].pid]
    # its kernel-side baseline: nginx itself on a dual-stack [::] socket, no shim
    PROCS.start([NGINX, "-c", conf("dualnative", "[::]:%d ipv6only=off" % pdn)],
                stdout=subprocess.DEVNULL, stderr=ssa_log("dualnative"))
    setups["dualnative"] = pdn
    groups["dualnative"] = [PROCS.procs[-1].pid]
    time.sleep(0.3)
    for name in ("shim", "proxyd", "dual"):
        poke(setups[name])
    for name, port in setups.items():
        wait_http(port, "/index.html")
    time.sleep(0.3)
    adopt = {}
    for name, how in (("shim", "[exact]"), ("dual", "[dual-stack")):
        text = open("%s/ssa-%s.log" % (work, name)).read()
        adopt[name] = "sdadopt: info: adopted" in text and how in text
        if not adopt[name]:
            log("WARNING: %s nginx did not adopt (log: %s)" % (name, text.strip()[-300:]))

    order = ["native", "shim", "proxyd", "dual", "dualnative", "control"]
    res = {"adopted": adopt, "order": order, "ports": setups}
    for mode, rounds, secs, extra in (("keepalive", P["dp_rounds"], P["dp_secs"], []),
                                      ("close", P["dpc_rounds"], P["dpc_secs"],
                                       ["-H", "Connection: close"])):
        data = {k: [] for k in order}
        for r in range(rounds):
            for name in order:
                url = "http://127.0.0.1:%d/index.html" % setups[name]
                c0 = cpu_ns(groups[name])
                cp = run(["wrk", "-t1", "-c16", "-d%ds" % secs, "--latency"] + extra + [url],
                         timeout=secs + 30)
                c1 = cpu_ns(groups[name])
                w = parse_wrk(cp.stdout)
                w["cpu_us_per_req"] = (c1 - c0) / 1e3 / w["requests"] if w.get("requests") else None
                data[name].append(w)
            log("  %s round %d/%d: %s" % (mode, r + 1, rounds, ", ".join(
                "%s %.0f/s" % (n, data[n][-1]["rps"] or 0) for n in order)))
        res[mode] = data
    for p in list(PROCS.procs):
        PROCS.stop(p)
    return res


def datapath_ratios(res, mode):
    data = res[mode]
    out = {}
    for name in res["order"]:
        rr = [a["rps"] / b["rps"] if a["rps"] and b["rps"] else None
              for a, b in zip(data[name], data["native"])]
        pr = [a["p99_ms"] / b["p99_ms"] if a["p99_ms"] and b["p99_ms"] else None
              for a, b in zip(data[name], data["native"])]
        cr = [a["cpu_us_per_req"] / b["cpu_us_per_req"]
              if a.get("cpu_us_per_req") and b.get("cpu_us_per_req") else None
              for a, b in zip(data[name], data["native"])]
        out[name] = dict(
            rps_ratio=summ(rr), p99_ratio=summ(pr), cpu_ratio=summ(cr),
            cpu=summ([a.get("cpu_us_per_req") for a in data[name]]),
            rps=summ([a["rps"] for a in data[name]]),
            p99=summ([a["p99_ms"] for a in data[name]]),
            p50=summ([a["p50_ms"] for a in data[name]]),
            errors=sum(a["errors"] + a["non2xx"] for a in data[name]))
    if "dualnative" in data:
        out["dual_vs_dualnative"] = summ([a["rps"] / b["rps"] if a["rps"] and b["rps"] else None
                                          for a, b in zip(data["dual"], data["dualnative"])])
    return out


# ---------------------------------------------------------------- 2. hook cost

def kv(text):
    d = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            try:
                d[k.strip()] = float(v)
            except ValueError:
                pass
    return d


def bench_hookcost(P, shim, B):
    log("hook cost: %s inherited sockets, %d rounds" % (HC_NS, P["hc_rounds"]))
    kinds = {"base": ["-E"], "shim": ["-p", shim], "tramp": ["-p", B + "/libtramp.so"]}
    raw = {n: {k: [] for k in kinds} for n in HC_NS}
    for r in range(P["hc_rounds"]):
        for n in HC_NS:
            for kind, opt in kinds.items():
                act = [B + "/bench-activate", "-n", str(n)] + opt
                env = dict(os.environ, HOOKCOST_NFDS=str(n))
                env.pop("LD_PRELOAD", None)
                cp = run(act + ["--", B + "/hookcost", str(P["hc_iter"]), str(P["hc_reps"])],
                         timeout=120, env=env)
                if cp.returncode != 0:
                    raise RuntimeError("hookcost failed (%s, N=%d): rc %d: %s" % (
                        kind, n, cp.returncode, " ".join(
                            l for l in cp.stderr.splitlines() if not "sdadopt:" in l)[-300:]))
                d = kv(cp.stdout)
                if kind == "shim" and n > 0 and not d.get("adopted"):
                    raise RuntimeError("hookcost: the shim did not adopt (N=%d)" % n)
                raw[n][kind].append(d)
        log("  round %d/%d: added ns in-process close/bind-miss: %s" % (
            r + 1, P["hc_rounds"], ", ".join("N=%d %.1f/%.1f" % (
                n, raw[n]["shim"][-1]["close_bad_added"], raw[n]["shim"][-1]["bind_miss_added"])
                for n in HC_NS)))
    out = {}
    for n in HC_NS:
        b, s, t = raw[n]["base"], raw[n]["shim"], raw[n]["tramp"]
        pair = list(zip(b, s))
        out[n] = dict(
            close_inproc=summ([y["close_bad_added"] for y in s]),
            close_tramp=summ([y["close_bad_added"] for y in t]),
            close_aa=summ([y["close_bad_added"] for y in b]),
            close_cross=summ([y["close_bad"] - x["close_bad"] for x, y in pair]),
            close_base=summ([x["close_bad"] for x in b]),
            close_ratio=summ([y["close_bad"] / x["close_bad"] for x, y in pair]),
            bind_inproc=summ([y["bind_miss_added"] for y in s]),
            bind_tramp=summ([y["bind_miss_added"] for y in t]),
            bind_aa=summ([y["bind_miss_added"] for y in b]),
            bind_cross=summ([y["bind_miss"] - x["bind_miss"] for x, y in pair]),
            bind_base=summ([x["bind_miss"] for x in b]),
            bind_ratio=summ([y["bind_miss"] / x["bind_miss"] for x, y in pair]),
            sc_cross=summ([y["socket_close"] - x["socket_close"] for x, y in pair]),
            sc_base=summ([x["socket_close"] for x in b]),
            sc_ratio=summ([y["socket_close"] / x["socket_close"] for x, y in pair]),
            adopt=summ([y["adopt_cycle"] for y in s]),
            native_cycle=summ([x["native_cycle"] for x in b]),
            adopt_ratio=summ([y["adopt_cycle"] / x["native_cycle"] for x, y in pair]),
            adopt_added=summ([y["adopt_cycle"] - x["native_cycle"] for x, y in pair]),
            probe_us=summ([(y["first_bind"] - x["first_bind"]) / 1e3 for x, y in pair]),
            probe_per_sock_us=summ([(y["first_bind"] - x["first_bind"]) / 1e3 / n
                                    for x, y in pair]),
        )
    out["profile"] = profile_bind_miss(shim, B)
    out["adopt_syscalls"] = adopt_syscalls(shim, B)
    return out


def adopt_syscalls(shim, B, cycles=200):
    """System calls per adoption cycle (socket + adopting bind + close), counted
    by strace -c (when strace is installed)."""
    data = os.path.join(B, "strace-adopt.txt")
    env = dict(os.environ, HOOKCOST_NFDS="16", HOOKCOST_ONLY="adopt_cycle")
    env.pop("LD_PRELOAD", None)
    try:
        cp = run(["strace", "-f", "-c", "-o", data, B + "/bench-activate", "-n", "16", "-p", shim,
                  "--", B + "/hookcost", str(cycles * 20), "1"], timeout=120, env=env,
                 stderr_null=True)
        if cp.returncode != 0:
            return None
        text = open(data).read()
    except (OSError, subprocess.TimeoutExpired):
        return None
    calls = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 5 and f[-1] not in ("syscall", "total") and f[3].isdigit():
            calls[f[-1]] = int(f[3])
    # the cycles, plus the one adoption hookcost makes to see that it can adopt
    n = cycles + 1
    per = sorted(((k, v / n) for k, v in calls.items() if v >= n), key=lambda kv: -kv[1])
    return dict(per=per, total=sum(v for _, v in per))


def profile_bind_miss(shim, B):
    """Where a bind() miss spends its time in the shim at the largest N:
    perf's self time per libsdadopt.so symbol (when perf works here)."""
    n = HC_NS[-1]
    data = os.path.join(B, "perf-bind-miss.data")
    env = dict(os.environ, HOOKCOST_NFDS=str(n), HOOKCOST_ONLY="bind_miss")
    env.pop("LD_PRELOAD", None)
    try:
        cp = run(["perf", "record", "-q", "-o", data, "--", B + "/bench-activate", "-n", str(n),
                  "-p", shim, "--", B + "/hookcost", "400000", "3"], timeout=120, env=env,
                 stderr_null=True)
        if cp.returncode != 0:
            return None
        cp = run(["perf", "report", "-i", data, "--stdio", "--sort", "dso,sym"], timeout=120,
                 stderr_null=True)
    except (OSError, subprocess.TimeoutExpired):
        return None
    rows = []
    for line in cp.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[.\]\s+(\S+)", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), m.group(3)))
    shim_rows = [r for r in rows if r[1] == os.path.basename(shim)]
    total = sum(r[0] for r in shim_rows)
    if not total:
        return None
    return dict(n=n, shim_share=total,
                top=[(sym, 100.0 * p / total) for p, _, sym in shim_rows[:5]])


# ---------------------------------------------------------------- 3. start-up

def bench_startup(P, shim, B):
    empty = B + "/libempty.so"
    cfgs = [("none", "-", 0, 0), ("none2", "-", 0, 0), ("empty", empty, 0, 0), ("inert", shim, 0, 0)]
    cfgs += [("shim%d" % n, shim, n, 1) for n in SU_NS]
    cfgs += [("none%d" % SU_NS[-1], "-", SU_NS[-1], 0)]
    log("start-up: fork+exec+exit, %d configurations, %d rounds x %d runs"
        % (len(cfgs), P["su_rounds"], P["su_iter"]))
    raw = {c[0]: [] for c in cfgs}
    wall = {c[0]: [] for c in cfgs}
    flt = {c[0]: [] for c in cfgs}
    for r in range(P["su_rounds"]):
        for name, pre, n, le in cfgs:
            # stderr to /dev/null: the shim's log lines (if any) still cost their write()
            cp = run([B + "/startup", str(P["su_iter"]), B + "/trivial", pre, str(n), str(le)],
                     timeout=300, stderr_null=True)
            if cp.returncode != 0:
                raise RuntimeError("startup failed (%s): rc %d" % (name, cp.returncode))
            d = kv(cp.stdout)
            raw[name].append(d["cpu_us"])
            wall[name].append(d["us"])
            flt[name].append(d.get("minflt"))
        if r % 5 == 4 or r == P["su_rounds"] - 1:
            log("  round %d/%d: CPU %s" % (r + 1, P["su_rounds"], ", ".join(
                "%s %.0fus" % (c[0], raw[c[0]][-1]) for c in cfgs)))
    big = SU_NS[-1]
    rounds = range(P["su_rounds"])
    out = {"cfgs": [c[0] for c in cfgs], "abs": {k: summ(v) for k, v in raw.items()},
           "wall": {k: summ(v) for k, v in wall.items()},
           "minflt": {k: summ(v) for k, v in flt.items()}}
    out["ratio_none"] = {k: summ([raw[k][i] / raw["none"][i] for i in rounds]) for k in raw}
    out["wall_ratio_none"] = {k: summ([wall[k][i] / wall["none"][i] for i in rounds]) for k in raw}
    out["inert_minus_empty"] = summ([raw["inert"][i] - raw["empty"][i] for i in rounds])
    out["aa"] = summ([raw["none2"][i] - raw["none"][i] for i in rounds])
    out["empty_minus_none"] = summ([raw["empty"][i] - raw["none"][i] for i in rounds])
    out["inert_minus_none"] = summ([raw["inert"][i] - raw["none"][i] for i in rounds])
    out["wall_inert_minus_empty"] = summ([wall["inert"][i] - wall["empty"][i] for i in rounds])
    out["per_sock_total"] = summ([(raw["shim%d" % big][i] - raw["inert"][i]) / big for i in rounds])
    out["per_sock_kernel"] = summ([(raw["none%d" % big][i] - raw["none"][i]) / big for i in rounds])
    out["per_sock_shim"] = summ([((raw["shim%d" % big][i] - raw["none%d" % big][i])
                                  - (raw["inert"][i] - raw["none"][i])) / big for i in rounds])
    out["wall_per_sock_shim"] = summ([((wall["shim%d" % big][i] - wall["none%d" % big][i])
                                       - (wall["inert"][i] - wall["none"][i])) / big for i in rounds])
    out["shim_n_minus_inert"] = {n: summ([raw["shim%d" % n][i] - raw["inert"][i] for i in rounds])
                                 for n in SU_NS}
    out["profile"] = profile_startup(shim, B)
    out["loader"] = loader_stats(shim, B)
    return out


def loader_stats(shim, B):
    """The dynamic loader's own account (LD_DEBUG=statistics) of starting
    bench/trivial with nothing, the empty .so and the shim preloaded, and the
    cold cost of the constructor's dlsym(RTLD_NEXT) look-ups."""
    out = {}
    for name, pre in (("none", None), ("empty", B + "/libempty.so"), ("inert", shim)):
        cyc, rel = [], []
        for _ in range(15):
            env = {"LD_DEBUG": "statistics", "PATH": "/usr/bin:/bin"}
            if pre:
                env["LD_PRELOAD"] = pre
            cp = run([B + "/trivial"], timeout=20, env=env)
            m = re.search(r"total startup time in dynamic loader:\s+(\d+) cycles", cp.stderr)
            r = re.search(r"final number of relocations:\s+(\d+)", cp.stderr)
            if m:
                cyc.append(int(m.group(1)))
            if r:
                rel.append(int(r.group(1)))
        out[name] = dict(cycles=summ(cyc), relocs=max(rel) if rel else None)
    # how many hooked functions the inert shim looks up with dlsym(RTLD_NEXT)
    # at start: its own references to hooked names bind to itself, so a
    # hooked name bound from the shim to libc is one of its look-ups
    cp = run([B + "/trivial"], timeout=20,
             env={"LD_DEBUG": "bindings", "LD_PRELOAD": shim, "PATH": "/usr/bin:/bin"})
    try:
        nm = run(["nm", "-D", "--defined-only", shim], timeout=20).stdout
        exported = {l.split()[-1] for l in nm.splitlines() if l.split()}
    except (OSError, subprocess.TimeoutExpired):
        exported = HOOKED
    looked = set()
    for line in cp.stderr.splitlines():
        m = re.search(r"libsdadopt\.so \[0\] to \S*libc\.so\.6 \[0\]: normal symbol `(\w+)'", line)
        if m and m.group(1) in HOOKED and m.group(1) in exported:
            looked.add(m.group(1))
    out["inert_lookups"] = sorted(looked)
    cold = []
    for _ in range(15):
        cp = run([B + "/dlsymcost"], timeout=20)
        d = kv(cp.stdout)
        if "cold_us" in d:
            cold.append(d["cold_us"])
    out["dlsym_cold_us"] = summ(cold)
    try:
        mhz = float(re.search(r"cpu MHz\s*:\s*([\d.]+)", open("/proc/cpuinfo").read()).group(1))
    except (OSError, AttributeError, ValueError):
        mhz = None
    out["mhz"] = mhz
    return out


HOOKED = set("socket bind listen close close_range closefrom dup2 dup3 unlink unlinkat remove accept"
             " accept4 getsockname getpeername recvfrom recvmsg execve execv execvp execvpe fexecve"
             " execl execlp execle setsockopt".split())

SYM_GROUPS = {
    "probe": ("security_inode_getattr", "sk_getsockopt", "inet_getname", "do_sock_getsockopt",
              "__getsockopt", "sda_probe", "__sys_getsockopt", "vfs_fstat", "__do_sys_newfstatat",
              "__GI___fstatat64", "__sys_getsockname", "__x64_sys_getsockopt",
              "security_socket_getsockopt", "__x64_sys_getsockname", "vfs_getattr_nosec"),
    "fcntl": ("__x64_sys_fcntl", "do_fcntl", "__fcntl64_nocancel_adjusted", "__libc_fcntl64",
              "set_close_on_exec", "security_file_fcntl"),
    "log": ("sda_log", "__vfprintf_internal", "sda_addr_format", "ksys_write", "vfs_write",
            "__GI___libc_write", "write_null"),
}


def profile_startup(shim, B):
    """Self time by symbol in the child (bench/trivial) with the shim and
    1024 inherited sockets (when perf works here)."""
    data = os.path.join(B, "perf-startup.data")
    n = SU_NS[-1]
    try:
        cp = run(["perf", "record", "-q", "-o", data, "--", B + "/startup", "60", B + "/trivial",
                  shim, str(n), "1"], timeout=300, stderr_null=True)
        if cp.returncode != 0:
            return None
        cp = run(["perf", "report", "-i", data, "--stdio", "--no-children", "--comm", "trivial",
                  "--sort", "sym"], timeout=120, stderr_null=True)
    except (OSError, subprocess.TimeoutExpired):
        return None
    rows = []
    for line in cp.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+\[(.)\]\s+(\S+)", line)
        if m:
            rows.append((m.group(3), float(m.group(1))))
    if not rows:
        return None
    groups = {g: sum(p for sym, p in rows if sym in syms) for g, syms in SYM_GROUPS.items()}
    return dict(n=n, top=rows[:8], groups=groups)


def inert_why(su):
    ld = su.get("loader") or {}
    parts = ["the A/A difference (no preload vs no preload) is %s µs in this run, so single rounds"
             " scatter by tens of µs; the median's standard error is %.1f µs"
             % (fmt(su["aa"], 1), su["inert_minus_empty"].get("se", 0))]
    if ld.get("inert", {}).get("cycles") and ld.get("empty", {}).get("cycles") and ld.get("mhz"):
        d = (ld["inert"]["cycles"]["med"] - ld["empty"]["cycles"]["med"]) / ld["mhz"]
        if d >= 1.5:
            parts.append("the loader spends about %.0f µs more on the shim than on the empty .so"
                         " (%s relocations against %s, more segments to map; LD_DEBUG=statistics)"
                         % (d, ld["inert"]["relocs"], ld["empty"]["relocs"]))
        else:
            parts.append("the loader itself takes about as long for the shim as for the empty .so"
                         " (%s µs, LD_DEBUG=statistics)" % ("%+.0f" % d if abs(d) >= 0.5 else "±0"))
    fl = su.get("minflt") or {}
    if fl.get("inert") and fl.get("empty") and fl["inert"]["med"] - fl["empty"]["med"] >= 2:
        parts.append("the child takes %.0f more page faults with the shim than with the empty .so"
                     " (%.0f against %.0f per run: more pages of code and data to map and touch)"
                     % (fl["inert"]["med"] - fl["empty"]["med"], fl["inert"]["med"], fl["empty"]["med"]))
    looked = ld.get("inert_lookups")
    fixes = []
    if looked is not None and ld.get("dlsym_cold_us"):
        per = ld["dlsym_cold_us"]["med"] / 21
        if len(looked) >= 5:
            parts.append("the inert constructor looks up %d hooked functions with dlsym(RTLD_NEXT)"
                         " (LD_DEBUG=bindings), about %.0f µs cold (`bench/dlsymcost`: %s µs for 21)"
                         % (len(looked), per * len(looked), fmt(ld["dlsym_cold_us"], 1)))
            fixes.append("check LISTEN_PID first and leave the look-ups to first use when inert"
                         " (every hook already resolves on first use)")
        else:
            parts.append("the inert constructor looks up only %s with dlsym(RTLD_NEXT)"
                         " (LD_DEBUG=bindings; about %.1f µs cold)"
                         % (", ".join(looked) or "nothing", per * len(looked)))
    if not fixes:
        return ("; ".join(parts) + ". Neither the loader nor the constructor accounts for the"
                " excess, so it is most likely this run's noise: rerun on a quieter machine (or"
                " with more rounds) to resolve a 10 µs difference.")
    return ("; ".join(parts) + ". Fix (shim/init.c, shim/real.c): " + "; ".join(fixes) + ".")


def startup_why(su):
    prof = su.get("profile")
    if not prof:
        return ("per-socket work at start or exit (no profile: perf is not available here)."
                " Candidates: one fcntl(F_SETFD) per inherited fd in the constructor (one"
                " close_range(CLOSE_RANGE_CLOEXEC) would do), or probing every socket at exit.")
    g = prof["groups"]
    parts, fixes = [], []
    if g["probe"] >= 5:
        parts.append("the inherited sockets are probed although the program never calls bind()"
                     " (fstat, getsockopt and getsockname system calls: %.0f%% of the child's"
                     " samples): the exit-time report of never-adopted sockets (sda_report(\"at"
                     " exit\")) runs the full probe of every socket and then writes one warning"
                     " line per socket (log formatting and writes: %.0f%%)" % (g["probe"], g["log"]))
        fixes.append("at exit, report only when a hook already probed (and only if the warning"
                     " level is on), and in one line for all never-adopted sockets instead of one"
                     " per socket")
    if g["fcntl"] >= 3:
        parts.append("the constructor makes one fcntl(F_SETFD, FD_CLOEXEC) system call per"
                     " inherited fd (%.0f%%)" % g["fcntl"])
        fixes.append("one close_range(3, 3+N-1, CLOSE_RANGE_CLOEXEC) call in the constructor"
                     " (Linux >= 5.11; the fcntl loop as the fallback)")
    if not parts:
        parts.append("no single cause stands out in the profile")
    top = ", ".join("%s %.1f%%" % (sym, p) for sym, p in prof["top"][:6])
    return ("profile of the child with %d inherited sockets (perf, self time: %s): %s. Fix"
            " (shim/): %s." % (prof["n"], top, "; ".join(parts),
                               "; ".join(fixes) or "profile further"))


# ---------------------------------------------------------------- 4. restarts

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
            data = b""
            while len(data) < 1 << 16:
                b = s.recv(65536)
                if not b:
                    break
                data += b
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


def bench_restart(P, shim, work):
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


# ---------------------------------------------------------------- 5. memory

def rss_of(argv, env):
    p = PROCS.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL, env=env)
    try:
        r, _, _ = select.select([p.stdout], [], [], 20)
        if not r or p.stdout.readline().strip() != b"ready":
            raise RuntimeError("idle did not become ready")
        st = open("/proc/%d/status" % p.pid).read()
        v = {k: int(re.search(r"^%s:\s+(\d+) kB" % k, st, re.M).group(1))
             for k in ("VmRSS", "RssAnon", "RssFile")}
        p.stdin.close()
        p.wait(timeout=10)
        return v
    finally:
        PROCS.stop(p)


def bench_memory(P, shim, B):
    log("memory: VmRSS of an idle process, N = %s" % MEM_NS)
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    raw = {}
    for r in range(P["mem_rounds"]):
        for n in MEM_NS:
            for kind in ("base", "empty", "shim"):
                if kind == "empty" and n:
                    continue
                act = [B + "/bench-activate", "-n", str(n)]
                act += {"base": ["-E"], "empty": ["-p", B + "/libempty.so"], "shim": ["-p", shim]}[kind]
                raw.setdefault((n, kind), []).append(rss_of(act + ["--", B + "/idle"], env))
    out = {}
    rounds = range(P["mem_rounds"])
    for n in MEM_NS:
        b, s = raw[(n, "base")], raw[(n, "shim")]
        out[n] = dict(
            base=summ([x["VmRSS"] for x in b]), shim=summ([x["VmRSS"] for x in s]),
            delta=summ([s[i]["VmRSS"] - b[i]["VmRSS"] for i in rounds]),
            delta_anon=summ([s[i]["RssAnon"] - b[i]["RssAnon"] for i in rounds]),
            delta_file=summ([s[i]["RssFile"] - b[i]["RssFile"] for i in rounds]),
            ratio=summ([s[i]["VmRSS"] / b[i]["VmRSS"] for i in rounds]))
    e = raw[(0, "empty")]
    out["empty_delta"] = summ([e[i]["VmRSS"] - raw[(0, "base")][i]["VmRSS"] for i in rounds])
    return out


# ---------------------------------------------------------------- report

def machine_facts(repo, shim, source):
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except Exception:
            return "?"
    return dict(
        nproc=sh("nproc"), kernel=sh("uname -sr"),
        cpu=sh("sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1"),
        mem=sh("free -g | awk '/^Mem:/{print $2\" GiB\"}'"),
        os=sh(". /etc/os-release; echo $PRETTY_NAME"),
        nginx=sh("nginx -v 2>&1 | sed 's/.*version: //'"),
        wrk=sh("wrk --version 2>&1 | head -1 | awk '{print $2}'"),
        systemd=sh("systemd-socket-activate --version | head -1"),
        python=sh(PY + " --version"),
        cc=sh("cc --version | head -1"),
        source=source or ("working tree at commit %s%s" % (
            sh("git -C %s rev-parse --short HEAD" % repo),
            " with uncommitted changes in core/ or shim/"
            if sh("git -C %s status --porcelain -- core shim CMakeLists.txt | wc -l" % repo) not in ("0", "")
            else "")),
        shim_md5=sh("md5sum %s | cut -c1-12" % shim),
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def verdict(ok):
    if ok is None:
        return "**inconclusive** (the miss is within this run's noise)"
    return "**holds**" if ok else "**does not hold**"


def write_report(R, out_dir, bin_dir):
    P, M = R["profile"], R["machine"]
    L = []
    a = L.append
    a("# sdadopt performance")
    a("")
    a("Generated by `%s` on %s (%s run, %.0f s). Do not edit by hand: rerun the"
      " command; it rewrites this file and `performance.png`." % (R["command"], M["date"], R["mode"], R["elapsed"]))
    a("")
    a("Every figure is a **ratio or difference against a baseline measured in the same run**,"
      " in alternating rounds (A B C A B C …). Each cell is the **median (min–max over the rounds)**;"
      " absolute numbers are context only and depend on the machine.")
    a("")
    a("## Machine")
    a("")
    a("| | |")
    a("|---|---|")
    a("| cores (`nproc`) | %s |" % M["nproc"])
    a("| kernel | %s |" % M["kernel"])
    a("| CPU | %s |" % M["cpu"])
    a("| memory | %s |" % M["mem"])
    a("| OS | %s |" % M["os"])
    a("| tools | nginx %s, wrk %s, %s, %s, %s |" % (M["nginx"], M["wrk"], M["systemd"], M["python"], M["cc"]))
    a("| shim | %s; Release build (`-O3`); libsdadopt.so md5 %s |" % (M["source"], M["shim_md5"]))
    a("| load average (1 min) at start / end | %s / %s |" % (R["load_start"], R["load_end"]))
    a("")
    a("The machine is a 2-core VM that may run other jobs: that noise is why every"
      " figure is paired with a baseline from the same round, and why the min–max"
      " spreads are quoted. The data-path table has an A/A control (a second,"
      " identical native nginx) that shows how large a ratio noise alone makes.")
    a("")

    # ---- summary of targets
    T = R["targets"]
    a("## Targets")
    a("")
    a("| target | measured (median, min–max) | verdict |")
    a("|---|---|---|")
    for t in T:
        a("| %s | %s | %s |" % (t["what"], t["measured"], verdict(t["ok"])))
    a("")
    bad = [t for t in T if t["ok"] is not True]
    if bad:
        a("Targets that do not hold (or that this run cannot resolve), why, and what would fix them:")
        a("")
        for t in bad:
            a("- **%s** — %s" % (t["what"], t["why"]))
        a("")
    else:
        a("Every target holds in this run.")
        a("")

    # ---- 1. data path
    dp = R.get("datapath")
    a("## 1. Data path: nginx under wrk")
    a("")
    if "error" in dp:
        a("Not measured: %s" % dp["error"])
    else:
        a("wrk (1 thread, 16 connections, %d s per round, %d rounds with keep-alive, then %d rounds of %d s"
          " with `Connection: close`, i.e. one accept() per request) against nginx 1.22 (1 worker,"
          " `access_log off`, a 612-byte static file). The setups run side by side and"
          " are measured in turn in every round: **native** (nginx binds 127.0.0.1:P itself);"
          " **shim** (`systemd-socket-activate -l 127.0.0.1:P -E LD_PRELOAD=libsdadopt.so -- nginx`, nginx"
          " adopts the activated socket%s); **proxyd** (native nginx behind `systemd-socket-proxyd`,"
          " itself socket-activated: the way to run an unmodified server without the shim);"
          " **dual-stack** (`systemd-socket-activate -l P` makes `[::]:P`; nginx `listen 0.0.0.0:P` adopts"
          " it%s and the shim translates accepted addresses to IPv4); **native, dual-stack** (nginx"
          " `listen [::]:P ipv6only=off` itself, no shim: what a v4-mapped IPv6 socket costs in the"
          " kernel, so the shim's own share of the dual-stack case is the difference between these"
          " two rows); **control** (a second native nginx on 127.0.0.1: the A/A noise floor)."
          " Ratios are per round against native. *Server CPU per request* is the CPU time"
          " (`/proc/PID/schedstat`) of the setup's server processes (nginx master and worker; for"
          " socket-proxyd also the proxy) during the round divided by the requests wrk completed:"
          " unlike requests/s and p99 it hardly moves when other jobs share the machine, so it is"
          " the sharper test of whether the shim adds work per request."
          % (P["dp_secs"], P["dp_rounds"], P["dpc_rounds"], P["dpc_secs"],
             "" if dp["adopted"]["shim"] else " — **adoption FAILED in this run**",
             "" if dp["adopted"]["dual"] else " — **adoption FAILED in this run**"))
        a("")
        for mode, title in (("keepalive", "Keep-alive connections (the targets)"),
                            ("close", "A new connection per request (context: exercises the accept path)")):
            rr = dp["ratios"][mode]
            a("**%s**" % title)
            a("")
            a("| setup | requests/s ratio vs native | p99 latency ratio vs native | server CPU per request, ratio vs native | requests/s | p50 ms | p99 ms | server CPU µs per request | errors |")
            a("|---|---|---|---|---|---|---|---|---|")
            names = {"native": "native", "shim": "shim (adopted)", "proxyd": "socket-proxyd",
                     "dual": "shim, dual-stack", "dualnative": "native, dual-stack [::] (no shim)",
                     "control": "control (native A/A)"}
            for n in dp["order"]:
                x = rr[n]
                a("| %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
                    names[n], "1 (baseline)" if n == "native" else fmt(x["rps_ratio"]),
                    "1 (baseline)" if n == "native" else fmt(x["p99_ratio"]),
                    "1 (baseline)" if n == "native" else fmt(x.get("cpu_ratio")),
                    fmt(x["rps"], 0), fmt(x["p50"], 3), fmt(x["p99"], 2), fmt(x.get("cpu"), 2),
                    x["errors"]))
            a("")
            c = rr["control"]
            if mode == "keepalive" and c["rps_ratio"] and c["p99_ratio"]:
                a("Resolution of this run: the A/A control (two identical native servers) differs by"
                  " %.3f–%.3f in requests/s and %.2f–%.2f in p99 across rounds, and by %s in server"
                  " CPU per request; a setup whose ratio stays inside those ranges cannot be told"
                  " from native here." % (c["rps_ratio"]["min"], c["rps_ratio"]["max"],
                                          c["p99_ratio"]["min"], c["p99_ratio"]["max"],
                                          fmt(c.get("cpu_ratio"))))
                a("")
            if rr.get("dual_vs_dualnative"):
                a("Dual-stack, the shim's own share: shim on `[::]` / native nginx on `[::]`, requests/s"
                  " per round: %s." % fmt(rr["dual_vs_dualnative"]))
                a("")
    # ---- 2. hook cost
    hc = R.get("hookcost")
    a("## 2. Hook cost")
    a("")
    if "error" in hc:
        a("Not measured: %s" % hc["error"])
    else:
        a("`bench/hookcost` runs under `bench/bench-activate`, which creates N listening TCP sockets"
          " on 127.0.0.1 at fds 3… and execs it with LISTEN_* and the shim; the baselines get the"
          " same fds and no shim. *In-process* compares, inside one process, the hooked call with"
          " libc's own definition (found with `dlsym` on libc.so.6) in 64 alternated batches"
          " (%d calls in all per side) and takes the median difference: that cancels the"
          " machine's drift, and the targets are judged on it. The same comparison in a process"
          " without any preload (*A/A*) shows its noise, and under `bench/tramp.c`, a preloaded"
          " close()/bind() that only calls the next definition, the floor that any interposer"
          " pays. *vs no-shim process* is the plain difference between two processes (noisier)."
          " %d rounds alternate the processes." % (P["hc_iter"], P["hc_rounds"]))
        a("")
        a("close() of an fd number that is not open (EBADF: the kernel's part is as small as it gets):")
        a("")
        a("| N | added ns, shim (in-process) | added ns, minimal interposer | A/A, no preload | added ns vs no-shim process | ns per call without shim |")
        a("|---|---|---|---|---|---|")
        for n in HC_NS:
            x = hc[str(n)]
            a("| %d | %s | %s | %s | %s | %s |" % (
                n, fmt(x["close_inproc"], 1), fmt(x["close_tramp"], 1), fmt(x["close_aa"], 1),
                fmt(x["close_cross"], 1), fmt(x["close_base"], 0)))
        a("")
        a("bind() of an already bound socket to a free address (a port) that no inherited socket"
          " serves: the shim has to find out that nothing matches, then the kernel returns EINVAL:")
        a("")
        a("| N | added ns, shim (in-process) | added ns, minimal interposer | A/A, no preload | added ns vs no-shim process | ns per call without shim |")
        a("|---|---|---|---|---|---|")
        for n in HC_NS:
            x = hc[str(n)]
            a("| %d | %s | %s | %s | %s | %s |" % (
                n, fmt(x["bind_inproc"], 1), fmt(x["bind_tramp"], 1), fmt(x["bind_aa"], 1),
                fmt(x["bind_cross"], 1), fmt(x["bind_base"], 0)))
        a("")
        lo, hi = hc[str(HC_NS[0])], hc[str(HC_NS[-1])]
        a("Flatness in N (N=%d minus N=%d, medians): close() %+.1f ns, bind() miss %+.1f ns."
          % (HC_NS[-1], HC_NS[0], hi["close_inproc"]["med"] - lo["close_inproc"]["med"],
             hi["bind_inproc"]["med"] - lo["bind_inproc"]["med"]))
        prof = hc.get("profile")
        if prof:
            a("")
            a("Profile of hooked bind() misses alone at N=%d (`perf record`; self time of the shim's"
              " functions, as a share of the shim's %.1f%% of all samples; the rest is libc and the"
              " kernel): %s." % (prof["n"], prof["shim_share"],
                                 ", ".join("`%s` %.0f%%" % (sym, p) for sym, p in prof["top"])))
        a("")
        a("| N | socket()+close(): ratio vs no shim | added ns | adoption cycle ns: socket()+bind() adopting+close() | ratio vs native socket()+bind()+close() | first bind() (probes the N sockets): added µs | µs per inherited socket |")
        a("|---|---|---|---|---|---|---|")
        for n in HC_NS:
            x = hc[str(n)]
            a("| %d | %s | %s | %s | %s | %s | %s |" % (
                n, fmt(x["sc_ratio"]), fmt(x["sc_cross"], 0), fmt(x["adopt"], 0),
                fmt(x["adopt_ratio"], 2), fmt(x["probe_us"], 1), fmt(x["probe_per_sock_us"], 2)))
        a("")
        a("The adoption cycle includes the shim's `info` log line (stderr to /dev/null here): one"
          " formatted write(2) per adoption, as in production. A server adopts once per start or reload.")
        sc = hc.get("adopt_syscalls")
        if sc:
            a("")
            a("System calls per adoption cycle (`strace -c`, socket() + adopting bind() + close(), N=16):"
              " %s; about %.0f in all, where a native socket() + bind() + close() makes 3."
              % (", ".join("%s %.1f" % (k, v) for k, v in sc["per"]), sc["total"]))
        a("")
    # ---- 3. start-up
    su = R.get("startup")
    a("## 3. Start-up: fork + exec + exit of a trivial program")
    a("")
    if "error" in su:
        a("Not measured: %s" % su["error"])
    else:
        big = SU_NS[-1]
        a("`bench/startup` forks, execs `bench/trivial` (`int main(void) { return 0; }`, dynamically"
          " linked) and waits, %d times per round, %d rounds alternating the configurations. The"
          " inherited sockets are created before the timing; in the child LISTEN_PID is set to the"
          " child's own pid after fork. The figure is **CPU time per run** (the parent's fork and"
          " wait plus the child's user and system time from wait4()): on an idle machine that is"
          " the start-up latency, and unlike wall-clock time it does not count waiting for a core"
          " on a shared one. Wall-clock time is given as context." % (P["su_iter"], P["su_rounds"]))
        a("")
        names = {"none": "no preload", "none2": "no preload again (A/A control)", "empty": "empty preloaded .so (`bench/empty.c`, the floor)",
                 "inert": "shim, inert (no LISTEN_*)", "none%d" % big: "no preload, %d inherited fds (kernel cost)" % big}
        for n in SU_NS:
            names["shim%d" % n] = "shim, %d inherited socket%s" % (n, "" if n == 1 else "s")
        a("| configuration | CPU µs per run | ratio vs no preload | wall-clock µs per run (context) | child's page faults per run |")
        a("|---|---|---|---|---|")
        for k in su["cfgs"]:
            a("| %s | %s | %s | %s | %s |" % (names[k], fmt(su["abs"][k], 1), fmt(su["ratio_none"][k]),
                                             fmt(su["wall"][k], 0), fmt(su.get("minflt", {}).get(k), 0)))
        a("")
        a("| derived from CPU time (per round, then median) | µs |")
        a("|---|---|")
        a("| A/A: no preload − no preload (the noise of one difference) | %s |" % fmt(su["aa"], 1))
        a("| empty .so − no preload (what any LD_PRELOAD costs) | %s |" % fmt(su["empty_minus_none"], 1))
        a("| shim inert − empty .so (the shim's own start-up; target ≤ 10) | %s |" % fmt(su["inert_minus_empty"], 1))
        for n in SU_NS:
            a("| shim with %d socket%s − shim inert | %s |" % (n, "" if n == 1 else "s", fmt(su["shim_n_minus_inert"][str(n)], 1)))
        a("| per socket, total: (shim %d − shim inert) / %d | %s |" % (big, big, fmt(su["per_sock_total"], 3)))
        a("| per socket, kernel only: (no preload %d fds − no preload) / %d | %s |" % (big, big, fmt(su["per_sock_kernel"], 3)))
        a("| per socket, the shim's share: ((shim %d − no preload %d fds) − (inert − no preload)) / %d (target ≤ 0.5) | %s |" % (big, big, big, fmt(su["per_sock_shim"], 3)))
        a("")
        ld = su.get("loader")
        if ld and ld["none"]["cycles"]:
            def ldus(k):
                c = ld[k]["cycles"]["med"]
                return ("%.0f k cycles" % (c / 1e3)) + (" ≈ %.0f µs" % (c / ld["mhz"]) if ld["mhz"] else "")
            a("The dynamic loader's own account (`LD_DEBUG=statistics`, median of 15 starts): no"
              " preload %s, %d relocations; empty .so %s, %d relocations; inert shim %s, %d"
              " relocations. When inert, the shim's constructor looks up %s with dlsym(RTLD_NEXT)"
              " (`LD_DEBUG=bindings`); 21 such look-ups, cold, take %s µs (`bench/dlsymcost`)."
              % (ldus("none"), ld["none"]["relocs"] or 0, ldus("empty"), ld["empty"]["relocs"] or 0,
                 ldus("inert"), ld["inert"]["relocs"] or 0,
                 ("%d hooked functions" % len(ld["inert_lookups"])) if len(ld.get("inert_lookups") or []) > 3
                 else ", ".join("`%s`" % x for x in ld.get("inert_lookups") or []) or "no hooked function",
                 fmt(ld["dlsym_cold_us"], 1)))
            a("")
        prof = su.get("profile")
        if prof:
            a("Profile of the child with the shim and %d inherited sockets (`perf record`, self time"
              " as a share of the child's samples): %s. Grouped: probing the sockets (fstat,"
              " getsockopt, getsockname) %.0f%%, fcntl() %.0f%%, log formatting and writes %.0f%%."
              % (prof["n"], ", ".join("`%s` %.1f%%" % (sym, p) for sym, p in prof["top"]),
                 prof["groups"]["probe"], prof["groups"]["fcntl"], prof["groups"]["log"]))
            a("")
    # ---- 4. restarts
    rs = R.get("restart")
    a("## 4. Restarts under load")
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
    # ---- 5. memory
    mem = R.get("memory")
    a("## 5. Memory")
    a("")
    if "error" in mem:
        a("Not measured: %s" % mem["error"])
    else:
        a("VmRSS from /proc/PID/status of `bench/idle` (one bind() of its own, which makes the shim"
          " probe and index the inherited sockets, then it blocks), started by `bench/bench-activate`"
          " with N inherited sockets, with the shim and without it (same fds), %d round%s."
          % (P["mem_rounds"], "" if P["mem_rounds"] == 1 else "s"))
        a("")
        a("| N | VmRSS without shim, kB | VmRSS with shim, kB | ratio | added kB | of which private (RssAnon) | of which file-backed (RssFile) |")
        a("|---|---|---|---|---|---|---|")
        for n in MEM_NS:
            x = mem[str(n)]
            a("| %d | %s | %s | %s | %s | %s | %s |" % (
                n, fmt(x["base"], 0), fmt(x["shim"], 0), fmt(x["ratio"]), fmt(x["delta"], 0),
                fmt(x["delta_anon"], 0), fmt(x.get("delta_file"), 0)))
        a("")
        big = mem[str(MEM_NS[-1])]
        a("For scale: an empty preloaded .so adds %s kB. RssFile counts pages of shared libraries"
          " (the shim's code, the parts of libc it calls) that are shared with every other process"
          " mapping them; the kernel maps them in 64 KiB fault-around blocks, so running a few more"
          " code paths (probing, logging) shows as hundreds of kB here at no real cost. RssAnon is"
          " the memory the shim really allocates: about %.0f bytes per inherited socket at N=%d"
          " (registry entries and indexes)."
          % (fmt(mem["empty_delta"], 0),
             1024.0 * (big["delta_anon"]["med"] - mem[str(MEM_NS[0])]["delta_anon"]["med"]) / MEM_NS[-1],
             MEM_NS[-1]))
        a("")

    a("## How to run")
    a("")
    a("```sh")
    a("bash scripts/bench           # full run (about 9 minutes on 2 cores); rewrites this file")
    a("bash scripts/bench --head    # the same, with the shim built from the last commit only")
    a("bash scripts/bench --quick   # smoke run, under 2 minutes; report in build-bench/bench/quick/")
    a("```")
    a("")
    a("Run as root on Debian 12: it installs wrk, nginx-light, systemd, gnuplot-nox (and"
      " linux-perf for the profiles, if it can) with apt-get, builds the shim (Release) into"
      " `build-bench/shim-build/` and the programs in `bench/` into `build-bench/bench/`, runs"
      " everything on loopback only, and rewrites this file and `docs/performance.png`. The raw"
      " results are in `build-bench/bench/results-full.json`; `python3 bench/run.py --report-only"
      " ...` rewrites the report from them.")
    a("")
    a("![figures](performance.png)")
    a("")
    with open(os.path.join(out_dir, "performance.md"), "w") as f:
        f.write("\n".join(L))


def bind_why(hc, per):
    prof = hc.get("profile")
    ptxt = ""
    if prof:
        ptxt = (" Profiled at N=%d, the shim's time in a miss goes to %s."
                % (prof["n"], ", ".join("%s %.0f%%" % (sym, p) for sym, p in prof["top"][:3])))
    floor = hc[str(HC_NS[-1])]["bind_tramp"]["med"]
    return ("the miss grows with log N: %s ns added at N = %s (a do-nothing interposer adds %.0f ns)."
            " A miss builds a ~150-byte sda_addr from the sockaddr and then runs up to three binary"
            " searches over the registry (exact, same-family wildcard, dual-stack [::]), each step an"
            " out-of-line sda_addr_cmp() on a ~250-byte sda_sock reached through the by_key index.%s"
            " Fix (core/registry.c): one search by port, since all three rules need the same port,"
            " over a compact sorted array of (family, type, port, 16-byte ip) keys compared inline, or"
            " a small hash on the port; a miss is then one probe whatever N is."
            % (", ".join("%.0f" % per[n] for n in HC_NS), ", ".join(map(str, HC_NS)), floor, ptxt))


def targets(R):
    T = []
    dp, hc, su, rs = R.get("datapath", {}), R.get("hookcost", {}), R.get("startup", {}), R.get("restart", {})

    def hcn(n):
        return hc.get(str(n), hc.get(n))

    if "ratios" in dp:
        k = dp["ratios"]["keepalive"]
        ctrl = k["control"]
        noise = ""
        if ctrl["rps_ratio"] and ctrl["p99_ratio"]:
            noise = (" The A/A control (native vs native) spans %.3f–%.3f in requests/s and %.2f–%.2f in"
                     " p99 in the same rounds, so differences of that size are noise."
                     % (ctrl["rps_ratio"]["min"], ctrl["rps_ratio"]["max"],
                        ctrl["p99_ratio"]["min"], ctrl["p99_ratio"]["max"]))
        cpu_txt = ""
        if k["shim"].get("cpu_ratio") and ctrl.get("cpu_ratio"):
            cpu_txt = (" The server CPU time per request, which other load barely moves, is %s of"
                       " native's for the shim and %s for the A/A control."
                       % (fmt(k["shim"]["cpu_ratio"]), fmt(ctrl["cpu_ratio"])))
        why_dp = ("after an exact adoption the shim is not on the data path (accept(), read() and"
                  " write() go straight to the kernel on the same socket), so a gap here is not"
                  " work the shim does per request." + noise + cpu_txt +
                  " Fix: rerun on an otherwise idle machine (more and longer rounds narrow the"
                  " spread), or pin wrk and nginx to separate cores (`taskset`) there.")
        def judge(x, key, ok_fn, limit):
            """True/False, or None when a miss is within two standard errors of the
            median or inside the A/A control's range."""
            if not x[key]:
                return False
            if ok_fn(x[key]["med"]):
                return True
            c = ctrl[key]
            miss = x[key]["med"] - limit
            if abs(miss) <= 2 * x[key].get("se", 0) or (c and c["min"] <= x[key]["med"] <= c["max"]):
                return None
            return False

        s = k["shim"]
        T.append(dict(what="data path: shim / native requests/s ≥ 0.99",
                      measured=fmt(s["rps_ratio"]),
                      ok=judge(s, "rps_ratio", lambda v: v >= 0.99, 0.99), why=why_dp))
        T.append(dict(what="data path: shim p99 latency within 5% of native (ratio ≤ 1.05)",
                      measured=fmt(s["p99_ratio"]),
                      ok=judge(s, "p99_ratio", lambda v: v <= 1.05, 1.05), why=why_dp))
        d = k["dual"]
        T.append(dict(what="data path, dual-stack: shim / native requests/s ≥ 0.97",
                      measured=fmt(d["rps_ratio"]),
                      ok=judge(d, "rps_ratio", lambda v: v >= 0.97, 0.97),
                      why=("with keep-alive the dual-stack case adds work only per accepted"
                           " connection (the accept4() hook translates the v4-mapped address);"
                           " per request nothing. Against nginx on a native dual-stack [::] socket"
                           " (the same kernel path, no shim) the ratio is %s, so a gap to the IPv4"
                           " native baseline is the kernel's v4-mapped IPv6 path." % fmt(k.get("dual_vs_dualnative"))
                           + noise)))
    if "1" in hc or 1 in hc:
        worst = max(HC_NS, key=lambda n: hcn(n)["close_inproc"]["med"])
        w = hcn(worst)
        T.append(dict(what="close() on a non-registry fd: ≤ 5 ns added (every N)",
                      measured="%s ns at N=%d (worst N); vs a no-shim process: %s" % (
                          fmt(w["close_inproc"], 1), worst, fmt(w["close_cross"], 1)),
                      ok=(True if all(hcn(n)["close_inproc"]["med"] <= 5 for n in HC_NS) else
                          None if all(hcn(n)["close_inproc"]["med"] - 5 <= 2 * hcn(n)["close_inproc"].get("se", 0)
                                      for n in HC_NS) else False),
                      why=("the close() hook is one table load and an indirect call; a do-nothing"
                           " interposer adds %s ns here and the A/A comparison spans %s ns, so a"
                           " larger figure is either noise of that size or work in sda_fd_flags()"
                           " (check with perf)." % (fmt(w["close_tramp"], 1), fmt(w["close_aa"], 1)))))
        worst = max(HC_NS, key=lambda n: hcn(n)["bind_inproc"]["med"])
        w = hcn(worst)
        per = {n: hcn(n)["bind_inproc"]["med"] for n in HC_NS}
        T.append(dict(what="bind() on an address no inherited socket serves: ≤ 100 ns added (every N)",
                      measured="%s ns at N=%d (worst N); vs a no-shim process: %s" % (
                          fmt(w["bind_inproc"], 1), worst, fmt(w["bind_cross"], 1)),
                      ok=(True if all(v <= 100 for v in per.values()) else
                          None if all(hcn(n)["bind_inproc"]["med"] - 100 <= 2 * hcn(n)["bind_inproc"].get("se", 0)
                                      for n in HC_NS) else False),
                      why=bind_why(hc, per)))
    if "per_sock_shim" in su:
        T.append(dict(what="start-up, shim inert ≤ empty-.so floor + 10 µs",
                      measured="%s µs CPU over the floor, ± %.1f (standard error of the median); wall clock: %s µs" % (
                          fmt(su["inert_minus_empty"], 1), su["inert_minus_empty"].get("se", 0),
                          fmt(su["wall_inert_minus_empty"], 1)),
                      ok=(True if su["inert_minus_empty"]["med"] <= 10 else
                          None if su["inert_minus_empty"]["med"] - 10 <= 2 * su["inert_minus_empty"].get("se", 0)
                          else False),
                      why=inert_why(su)))
        T.append(dict(what="start-up ≤ 0.5 µs per inherited socket (the shim's share)",
                      measured="%s µs CPU (total including the kernel's fd inheritance: %s µs)" % (
                          fmt(su["per_sock_shim"], 3), fmt(su["per_sock_total"], 3)),
                      ok=su["per_sock_shim"]["med"] <= 0.5,
                      why=startup_why(su)))
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


def write_plot(R, out_dir, work):
    dat = os.path.join(work, "plot")
    os.makedirs(dat, exist_ok=True)
    dp, hc, su, rs, mem = (R.get(k, {}) for k in ("datapath", "hookcost", "startup", "restart", "memory"))

    def w(name, rows):
        with open(os.path.join(dat, name), "w") as f:
            for r in rows:
                f.write(" ".join(str(x) for x in r) + "\n")

    g = ['set terminal pngcairo size 1500,950 font "DejaVu Sans,10"',
         'set output "%s"' % os.path.join(out_dir, "performance.png"),
         'set multiplot layout 2,3 title "sdadopt — ratios and differences vs a baseline from the same run (median, bars: min–max)" font ",12"',
         'set grid ytics', 'set key top left', 'set style fill solid 0.6 border -1']
    if "ratios" in dp:
        rows = []
        labels = {"shim": "shim", "proxyd": "proxyd", "dual": "shim [::]", "dualnative": "native [::]",
                  "control": "A/A"}
        for i, n in enumerate(["shim", "proxyd", "dual", "dualnative", "control"]):
            x = dp["ratios"]["keepalive"][n]
            y = dp["ratios"]["close"][n]
            c = x.get("cpu_ratio") or {"med": 0, "min": 0, "max": 0}
            rows.append([i, '"%s"' % labels[n],
                         x["rps_ratio"]["med"], x["rps_ratio"]["min"], x["rps_ratio"]["max"],
                         y["rps_ratio"]["med"], y["rps_ratio"]["min"], y["rps_ratio"]["max"],
                         x["p99_ratio"]["med"], x["p99_ratio"]["min"], x["p99_ratio"]["max"],
                         c["med"], c["min"], c["max"]])
        w("dp.dat", rows)
        g += ['set title "1. nginx data path vs native (wrk)"', 'set ylabel "ratio vs native"',
              'set xrange [-0.6:4.6]', 'set yrange [0:3.6]', 'set key top left font ",8" samplen 1 spacing 0.9',
              'plot "%s/dp.dat" u ($1-0.3):3:4:5:(0.19):xtic(2) w boxerrorbars t "req/s, keep-alive" lc rgb "#4477aa", '
              '"" u ($1-0.1):6:7:8:(0.19) w boxerrorbars t "req/s, conn per request" lc rgb "#66ccee", '
              '"" u ($1+0.1):9:10:11:(0.19) w boxerrorbars t "p99 latency, keep-alive (clipped at 3.6)" lc rgb "#ee6677", '
              '"" u ($1+0.3):12:13:14:(0.19) w boxerrorbars t "server CPU per request, keep-alive" lc rgb "#228833", '
              '0.99 w l dt 2 lc rgb "black" t "0.99 / 1.05 targets", 1.05 w l dt 2 lc rgb "black" notitle' % dat,
              'set key default', 'set key top left font ",10"',
              'set xrange [*:*]', 'set yrange [*:*]', 'set xtics auto']
    if "1" in hc or 1 in hc:
        rows = []
        for n in HC_NS:
            x = hc.get(str(n), hc.get(n))
            rows.append([n, x["close_inproc"]["med"], x["close_inproc"]["min"], x["close_inproc"]["max"],
                         x["bind_inproc"]["med"], x["bind_inproc"]["min"], x["bind_inproc"]["max"],
                         x["close_cross"]["med"], x["bind_cross"]["med"]])
        w("hc.dat", rows)
        g += ['set title "2. hook cost: ns added per call (in-process)"', 'set logscale x 2', 'set key top left',
              'set xlabel "inherited sockets N"', 'set ylabel "ns added"', 'set xrange [0.7:6000]',
              'plot "%s/hc.dat" u 1:2:3:4 w yerrorlines t "close() non-registry fd" lc rgb "#4477aa", '
              '"" u 1:5:6:7 w yerrorlines t "bind() miss" lc rgb "#ee6677", '
              '"" u 1:8 w p pt 6 lc rgb "#4477aa" t "close(), vs no-shim process", '
              '"" u 1:9 w p pt 6 lc rgb "#ee6677" t "bind() miss, vs no-shim process", '
              '5 w l dt 2 lc rgb "#4477aa" t "5 ns target", 100 w l dt 2 lc rgb "#ee6677" t "100 ns target"' % dat,
              'unset logscale x', 'unset xlabel', 'set xrange [*:*]']
    if "cfgs" in su:
        rows = []
        lab = {"none": "none", "none2": "none (A/A)", "empty": "empty .so", "inert": "shim inert", "none%d" % SU_NS[-1]: "none, %d fds" % SU_NS[-1]}
        for n in SU_NS:
            lab["shim%d" % n] = "shim N=%d" % n
        for i, k in enumerate(su["cfgs"]):
            x = su["abs"][k]
            rows.append([i, '"%s"' % lab[k], x["med"], x["min"], x["max"]])
        w("su.dat", rows)
        g += ['set title "3. fork+exec+exit of a trivial program (CPU time)"', 'set ylabel "CPU µs per run"',
              'set boxwidth 0.6 absolute', 'set xtics rotate by -30', 'set xrange [-0.6:%d]' % len(rows), 'set yrange [0:*]',
              'plot "%s/su.dat" u 1:3:4:5:(0.6):xtic(2) w boxerrorbars lc rgb "#228833" notitle' % dat,
              'set xtics norotate', 'set xrange [*:*]', 'set yrange [*:*]']
    if "shim" in rs:
        rows = []
        for i, m in enumerate(("shim", "native")):
            t = rs[m]
            rows.append([i, '"%s"' % m, t["refused"], t["timeout"], t["cut"], t["ok"]])
        w("rs.dat", rows)
        g += ['set title "4. restarts under load: failed connections"', 'set ylabel "connections"',
              'set boxwidth 0.2 absolute', 'set xrange [-0.6:1.6]', 'set yrange [0:*]',
              'plot "%s/rs.dat" u ($1-0.22):3:xtic(2) w boxes t "refused" lc rgb "#ee6677", '
              '"" u 1:4 w boxes t "timed out" lc rgb "#ccbb44", "" u ($1+0.22):5 w boxes t "cut off in flight" lc rgb "#aa3377"' % dat,
              'set xrange [*:*]', 'set yrange [*:*]']
    if "0" in mem or 0 in mem:
        rows = []
        for n in MEM_NS:
            x = mem[str(n)]
            rows.append([max(n, 1), x["delta"]["med"], x["delta"]["min"], x["delta"]["max"],
                         x["delta_anon"]["med"]])
        w("mem.dat", rows)
        g += ['set title "5. memory: VmRSS added by the shim (N=0 plotted at 1)"', 'set logscale x 2',
              'set xlabel "inherited sockets N"', 'set ylabel "kB added"', 'set xrange [0.7:2000]', 'set yrange [0:*]',
              'plot "%s/mem.dat" u 1:2:3:4 w yerrorlines t "VmRSS" lc rgb "#4477aa", "" u 1:5 w lp t "RssAnon" lc rgb "#ee6677"' % dat,
              'unset logscale x', 'unset xlabel', 'set xrange [*:*]', 'set yrange [*:*]']
    if "1" in hc or 1 in hc:
        rows = []
        for n in HC_NS:
            x = hc.get(str(n), hc.get(n))
            rows.append([n, x["probe_us"]["med"], x["probe_us"]["min"], x["probe_us"]["max"]])
        w("probe.dat", rows)
        g += ['set title "6. first bind(): probing the inherited sockets"', 'set logscale xy 2',
              'set xlabel "inherited sockets N"', 'set ylabel "µs added to the first bind()"', 'set xrange [0.7:6000]',
              'plot "%s/probe.dat" u 1:2:3:4 w yerrorlines lc rgb "#aa3377" notitle' % dat,
              'unset logscale', 'unset xlabel', 'set xrange [*:*]']
    g.append('unset multiplot')
    script = os.path.join(dat, "performance.gp")
    with open(script, "w") as f:
        f.write("\n".join(g) + "\n")
    cp = run(["gnuplot", script], timeout=60)
    if cp.returncode != 0:
        log("gnuplot failed: %s" % cp.stderr[-800:])


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--shim", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="bash scripts/bench")
    ap.add_argument("--source", default="", help="how the shim was built (for the report)")
    ap.add_argument("--only", default="memory,hookcost,startup,datapath,restart")
    ap.add_argument("--report-only", action="store_true", help="rewrite the docs from results.json")
    a = ap.parse_args()
    shim = os.path.abspath(a.shim)
    B = os.path.abspath(a.bin)
    out = os.path.abspath(a.out)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    mode = "quick" if a.quick else "full"
    results = os.path.join(B, "results-%s.json" % mode)

    if a.report_only:
        R = json.load(open(results))
    else:
        P = PROFILES[mode]
        R = dict(mode=mode, profile=P, command=a.command, machine=machine_facts(repo, shim, a.source),
                 load_start=loadavg())
        work = tempfile.mkdtemp(prefix="sdadopt-bench.")
        R["work"] = work
        signal.signal(signal.SIGTERM, lambda *x: sys.exit(143))
        try:
            for name, fn in (("memory", lambda: bench_memory(P, shim, B)),
                             ("hookcost", lambda: bench_hookcost(P, shim, B)),
                             ("startup", lambda: bench_startup(P, shim, B)),
                             ("datapath", lambda: bench_datapath(P, shim, work)),
                             ("restart", lambda: bench_restart(P, shim, work))):
                if name not in a.only.split(","):
                    R[name] = {"error": "not run (--only)"}
                    continue
                for attempt in (1, 2):
                    try:
                        r = fn()
                        if name == "datapath":
                            r["ratios"] = {m: datapath_ratios(r, m) for m in ("keepalive", "close")}
                        R[name] = r
                        break
                    except Exception as e:      # once more (a port taken meanwhile?), then report it
                        log("%s FAILED (attempt %d): %r" % (name, attempt, e))
                        R[name] = {"error": repr(e)}
                    finally:
                        PROCS.stop_all()
        finally:
            PROCS.stop_all()
        R["elapsed"] = time.monotonic() - T0
        R["load_end"] = loadavg()
        R = json.loads(json.dumps(R))     # int keys -> str, as when read back
        with open(results, "w") as f:
            json.dump(R, f, indent=1)
    R["targets"] = targets(R)
    os.makedirs(out, exist_ok=True)
    write_report(R, out, B)
    write_plot(R, out, R.get("work") if os.path.isdir(R.get("work", "")) else tempfile.mkdtemp())
    log("wrote %s/performance.md and performance.png" % out)
    for t in R["targets"]:
        log("target %-4s %s: %s" % ({True: "ok", False: "FAIL", None: "??"}[t["ok"]],
                                     t["what"], t["measured"]))
    failed = [k for k in ("memory", "hookcost", "startup", "datapath", "restart")
              if "error" in R.get(k, {}) and "--only" not in R[k]["error"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
