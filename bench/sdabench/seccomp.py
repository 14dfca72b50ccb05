# SPDX-License-Identifier: MIT
"""Seccomp mode (the launcher's mode for static and Go programs): what its
filter costs a system call it lets through (getppid), what one trapped
bind() costs (socket + bind(127.0.0.1:0), continued + close), and a Go
net/http server's requests/s on an adopted socket against the same server
binding natively (wrk)."""
import os
import socket
import subprocess
import time

from .common import (PROCS, PROFILES, SSA, cpu_ns, fmt_ci, free_ports, heading, judge_ci, kv, log,
                     poke, run, summ_ci)
from .datapath import parse_wrk

NAME = "seccomp"
# this module's share of the run profiles
SC_PROFILES = {
    "quick": dict(sc_rounds=5, sc_iter=400000, sc_bind_iter=8000, gh_rounds=3, gh_secs=2),
    "full": dict(sc_rounds=15, sc_iter=2000000, sc_bind_iter=40000, gh_rounds=12, gh_secs=3),
}
UNTRAPPED_MAX_NS = 100      # added per system call the filter lets through
TRAPPED_MAX_US = 50         # added per trapped bind() that continues
GO_RPS_MIN = 0.98           # Go server, seccomp mode / native, requests/s


def profile(P):
    return SC_PROFILES["quick" if P is PROFILES["quick"] or P == PROFILES["quick"] else "full"]


def launcher_of(shim):
    """The launcher of the same build as the shim (BUILD/shim/libsdadopt.so)."""
    return os.path.join(os.path.dirname(os.path.dirname(shim)), "launcher", "sdadopt")


def build_go(work, B):
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "goserver.go")
    out = os.path.join(B, "goserver")
    d = os.path.join(work, "go")
    os.makedirs(d, exist_ok=True)
    # the build cache next to the programs: kept from one run to the next
    env = dict(os.environ, HOME=d, GOCACHE=os.path.join(B, "gocache"), GOPATH=d + "/path", GOFLAGS="",
               GO111MODULE="off", CGO_ENABLED="0")
    cp = run(["go", "build", "-o", out, src], timeout=1200, env=env, cwd=d)
    if cp.returncode != 0:
        raise RuntimeError("go build of bench/goserver.go failed: %s" % cp.stderr[-500:])
    return out


def http_ok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n")
            return b" 200 " in s.recv(4096)
    except OSError:
        return False


def wait_ok(port, secs=60.0):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if http_ok(port):
            return
        time.sleep(0.05)
    raise RuntimeError("the Go server on %d never answered" % port)


def measure(P, ctx):
    S = profile(P)
    shim, B, work = ctx.shim, ctx.bin, ctx.work
    L = launcher_of(shim)
    if not os.access(L, os.X_OK):
        raise RuntimeError("no launcher at %s (scripts/bench builds it)" % L)
    cost = B + "/seccompcost"
    lport, = free_ports(1)
    under = [L, "--seccomp", "--log", "warning", "--listen", "127.0.0.1:%d" % lport, "--"]
    log("seccomp mode: untrapped getppid(), trapped bind(), %d rounds" % S["sc_rounds"])
    cfgs = {
        "getppid": [("base", [cost, "getppid"], {}),
                    ("allowall", [cost, "getppid"], {"SECCOMPCOST_ALLOWALL": "1"}),
                    ("filter", under + [cost, "getppid"], {})],
        "bind": [("base", [cost, "bind"], {}),
                 ("filter", under + [cost, "bind"], {})],
    }
    raw = {op: {k: [] for k, _, _ in c} for op, c in cfgs.items()}
    for r in range(S["sc_rounds"]):
        for op, c in cfgs.items():
            it = S["sc_iter"] if op == "getppid" else S["sc_bind_iter"]
            # the order rotates every round, so that a drift hits all alike
            for k, argv, extra in c[r % len(c):] + c[:r % len(c)]:
                env = dict(os.environ, **extra)
                env.pop("LD_PRELOAD", None)
                cp = run(argv + [str(it)], timeout=300, env=env)
                if cp.returncode != 0:
                    raise RuntimeError("seccompcost %s (%s) failed: rc %d: %s" % (
                        op, k, cp.returncode, cp.stderr[-300:]))
                d = kv(cp.stdout)
                raw[op][k].append(d["ns"] if op == "getppid" else d["us"])
        log("  round %d/%d: getppid ns base/allow-all/filter %.1f/%.1f/%.1f, bind µs base/filter %.2f/%.2f" % (
            r + 1, S["sc_rounds"], raw["getppid"]["base"][-1], raw["getppid"]["allowall"][-1],
            raw["getppid"]["filter"][-1], raw["bind"]["base"][-1], raw["bind"]["filter"][-1]))
    g, b = raw["getppid"], raw["bind"]
    out = dict(
        getppid_base=summ_ci(g["base"]),
        getppid_added=summ_ci([y - x for x, y in zip(g["base"], g["filter"])]),
        getppid_allowall=summ_ci([y - x for x, y in zip(g["base"], g["allowall"])]),
        getppid_ratio=summ_ci([y / x for x, y in zip(g["base"], g["filter"])]),
        bind_base=summ_ci(b["base"]),
        bind_added=summ_ci([y - x for x, y in zip(b["base"], b["filter"])]),
        bind_ratio=summ_ci([y / x for x, y in zip(b["base"], b["filter"])]),
    )
    out["http"] = measure_http(S, L, B, work)
    return out


def measure_http(S, L, B, work):
    log("seccomp mode: a Go net/http server under wrk, adopted (seccomp mode) vs native, %d rounds"
        % S["gh_rounds"])
    go = build_go(work, B)
    pn, pc, ps = free_ports(3)

    def logf(name):
        return open("%s/go-%s.log" % (work, name), "w")

    ports = {"native": pn, "control": pc, "seccomp": ps}
    groups = {}       # the process group of each setup (its own session)
    groups["native"] = PROCS.start([go, str(pn)], stdout=subprocess.DEVNULL, stderr=logf("native")).pid
    groups["control"] = PROCS.start([go, str(pc)], stdout=subprocess.DEVNULL, stderr=logf("control")).pid
    # systemd-socket-activate -l P makes [::]:P (dual-stack), what Go's ":P" binds;
    # it execs the launcher in place, whose child the Go server is
    groups["seccomp"] = PROCS.start([SSA, "-l", str(ps), "--", L, "--", go, str(ps)],
                                    stdout=subprocess.DEVNULL, stderr=logf("seccomp")).pid
    time.sleep(0.3)
    poke(ps)
    for p in ports.values():
        wait_ok(p)
    text = open("%s/go-seccomp.log" % work).read()
    adopted = "sdadopt: info: adopted inherited fd 3" in text
    if not adopted:
        log("WARNING: the Go server did not adopt in seccomp mode (log: %s)" % text.strip()[-300:])
    order = ["native", "seccomp", "control"]
    data = {k: [] for k in order}
    for r in range(S["gh_rounds"]):
        for name in order[r % 3:] + order[:r % 3]:
            c0 = cpu_ns([groups[name]], threads=True)
            cp = run(["wrk", "-t1", "-c16", "-d%ds" % S["gh_secs"], "--latency",
                      "http://127.0.0.1:%d/" % ports[name]], timeout=S["gh_secs"] + 30)
            c1 = cpu_ns([groups[name]], threads=True)
            w = parse_wrk(cp.stdout)
            w["cpu_us_per_req"] = (c1 - c0) / 1e3 / w["requests"] if w.get("requests") else None
            data[name].append(w)
        log("  round %d/%d: %s" % (r + 1, S["gh_rounds"], ", ".join(
            "%s %.0f/s" % (n, data[n][-1]["rps"] or 0) for n in order)))
    for p in list(PROCS.procs):
        PROCS.stop(p)

    def ratio(name, key="rps"):
        return summ_ci([a[key] / b[key] if a.get(key) and b.get(key) else None
                        for a, b in zip(data[name], data["native"])])
    return dict(adopted=adopted, rounds=data,
                ratio=ratio("seccomp"), aa=ratio("control"),
                cpu_ratio=ratio("seccomp", "cpu_us_per_req"), cpu_aa=ratio("control", "cpu_us_per_req"),
                cpu={n: summ_ci([a.get("cpu_us_per_req") for a in data[n]]) for n in order},
                rps={n: summ_ci([a["rps"] for a in data[n]]) for n in order},
                p99={n: summ_ci([a["p99_ms"] for a in data[n]]) for n in order},
                errors={n: sum(a["errors"] + a["non2xx"] for a in data[n]) for n in order})


def section(R, a, num):
    S = SC_PROFILES.get(R.get("mode"), SC_PROFILES["full"])
    sc = R.get("seccomp", {})
    if heading(a, num, "Seccomp mode (static and Go programs)", sc):
        return
    a("`bench/seccompcost` runs as it is (*base*), under a filter of its own that allows every"
      " call (*allow-all*, the floor any seccomp filter pays), and under `sdadopt --seccomp"
      " --listen 127.0.0.1:P --` (*filter*: sdadopt's filter, which traps bind() and listen()"
      " and allows the rest without loading an argument). It times 32 batches and reports the"
      " median; %d rounds rotate the configurations; each figure is the median over the rounds of"
      " the per-round difference (or ratio) against *base*, with its 95%% confidence interval."
      % S["sc_rounds"])
    a("")
    a("| what | base | added by sdadopt's filter | ratio | added by an allow-all filter |")
    a("|---|---|---|---|---|")
    a("| getppid(), not trapped (%d calls per run) | %s ns | %s ns | %s | %s ns |" % (
        S["sc_iter"], fmt_ci(sc["getppid_base"], 1), fmt_ci(sc["getppid_added"], 1),
        fmt_ci(sc["getppid_ratio"], 3), fmt_ci(sc["getppid_allowall"], 1)))
    a("| socket() + bind(127.0.0.1:0) + close(), the bind() trapped and continued (%d per run) | %s µs"
      " | %s µs | %s | — |" % (S["sc_bind_iter"], fmt_ci(sc["bind_base"], 2), fmt_ci(sc["bind_added"], 2),
                               fmt_ci(sc["bind_ratio"], 2)))
    a("")
    a("A trapped bind() is a round trip to the supervisor: the notification, `process_vm_readv()` of"
      " the address, `SECCOMP_IOCTL_NOTIF_ID_VALID`, and the answer (here `CONTINUE`: port 0 is never"
      " adopted); a program does it once per listening socket at start-up, so it is start-up cost,"
      " not data-path cost. An adopting bind() also copies the fd (`pidfd_getfd`) and adds it"
      " (`SECCOMP_IOCTL_NOTIF_ADDFD`).")
    a("")
    h = sc.get("http", {})
    if h:
        a("A Go net/http server (`bench/goserver.go`, `CGO_ENABLED=0`, a 26-byte body) under wrk (1"
          " thread, 16 keep-alive connections, %d s per run, %d rounds, the order rotated): **native**"
          " (it binds `[::]:P` itself), **seccomp** (`systemd-socket-activate -l P -- sdadopt --"
          " goserver P`: the launcher in seccomp mode, the server adopts the activated socket%s),"
          " **control** (a second native server: the A/A noise)."
          % (S["gh_secs"], S["gh_rounds"], "" if h["adopted"] else " — **adoption FAILED in this run**"))
        a("")
        a("| setup | requests/s ratio vs native [95% CI] | server CPU per request, ratio vs native | requests/s | p99 ms | server CPU µs per request | errors |")
        a("|---|---|---|---|---|---|---|")
        for n, lab in (("native", "native"), ("seccomp", "seccomp mode (adopted)"), ("control", "control (native A/A)")):
            rr = "1 (baseline)" if n == "native" else fmt_ci(h["ratio" if n == "seccomp" else "aa"], 3)
            cr = "1 (baseline)" if n == "native" else fmt_ci(h.get("cpu_ratio" if n == "seccomp" else "cpu_aa"), 3)
            a("| %s | %s | %s | %s | %s | %s | %d |" % (lab, rr, cr, fmt_ci(h["rps"][n], 0), fmt_ci(h["p99"][n], 2),
                                                      fmt_ci(h.get("cpu", {}).get(n), 2), h["errors"][n]))
        a("")
        a("*Server CPU per request* is the CPU time (`/proc/PID/schedstat`) of the setup's processes"
          " (for seccomp mode the launcher too) during the run divided by the requests wrk completed"
          " (all their threads). What seccomp mode can add per request is the filter's entry cost"
          " (the first table) on each of the few system calls a keep-alive request makes.")
        a("")


def go_verdict(h):
    """judge_ci, and None (cannot tell) rather than False when the median
    lies inside the A/A control's own spread: two identical native servers
    differed that much in the same rounds."""
    if not h["adopted"]:
        return False
    ok = judge_ci(h["ratio"], GO_RPS_MIN, below=False)
    aa = h.get("aa")
    if ok is False and aa and min(aa["min"], 1.0) <= h["ratio"]["med"] <= max(aa["max"], 1.0):
        return None
    return ok


def targets(R):
    sc = R.get("seccomp", {})
    if "getppid_added" not in sc:
        return []

    def cost(what, x, digits, unit, limit, beside, why):
        """A target on the median cost x (summ_ci) of sdadopt's filter: ≤ limit."""
        return dict(what=what, measured="%s %s (%s)" % (fmt_ci(x, digits), unit, beside),
                    ok=judge_ci(x, limit), why=why)

    T = [cost("seccomp mode: a system call the filter lets through: ≤ %d ns added" % UNTRAPPED_MAX_NS,
              sc["getppid_added"], 1, "ns", UNTRAPPED_MAX_NS,
              "an allow-all filter: %s ns" % fmt_ci(sc["getppid_allowall"], 1),
              why=("the filter is 8 BPF instructions without an argument load, so the kernel's"
                   " per-system-call cache (Linux 5.11) allows every other call without running it;"
                   " what is left is seccomp's entry work that any filter pays (the allow-all row)."
                   " A larger figure is noise of the machine (compare the intervals) or a kernel"
                   " without the cache.")),
         cost("seccomp mode: one trapped bind() (continued): ≤ %d µs added" % TRAPPED_MAX_US,
              sc["bind_added"], 2, "µs", TRAPPED_MAX_US, "ratio %s" % fmt_ci(sc["bind_ratio"], 2),
              why=("two context switches to the supervisor and back plus its reads; on a loaded"
                   " 2-core machine the supervisor waits for a CPU. It is paid once per bind() at"
                   " start-up."))]
    h = sc.get("http")
    if h and h.get("ratio"):
        T.append(dict(what="seccomp mode: Go net/http server requests/s, adopted / native ≥ %.2f" % GO_RPS_MIN,
                      measured="%s (A/A control: %s; server CPU per request, ratio: %s)" % (
                          fmt_ci(h["ratio"], 3), fmt_ci(h["aa"], 3), fmt_ci(h.get("cpu_ratio"), 3)),
                      ok=go_verdict(h),
                      why=("after the adoption nothing traps on the data path (accept4, read, write,"
                           " epoll pass the filter, cached); a gap the size of the A/A control's is the"
                           " machine's noise. Fix: more and longer rounds on an idle machine.")))
    return T
