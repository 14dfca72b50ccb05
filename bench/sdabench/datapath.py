# SPDX-License-Identifier: MIT
"""Data path: nginx under wrk, native against the shim, socket-proxyd,
dual-stack and an A/A control, measured in turn in every round."""
import os
import re
import subprocess
import time

from .common import NGINX, PROCS, PROXYD, SSA, cpu_ns, fmt, free_ports, log, poke, run, summ, wait_http

NAME = "datapath"

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


def measure(P, ctx):
    shim, work = ctx.shim, ctx.work
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

    def start(name, argv):
        """Start argv (its stderr to ssa-NAME.log): the pid of its process group."""
        return PROCS.start(argv, stdout=subprocess.DEVNULL, stderr=ssa_log(name)).pid

    def nginx(name, listen, activate=None):
        """nginx with its own config for LISTEN; activate: the address for a
        systemd-socket-activate in front of it, which preloads the shim."""
        pre = [] if activate is None else [SSA, "-l", activate, "-E", "LD_PRELOAD=" + shim, "--"]
        return start(name, pre + [NGINX, "-c", conf(name, listen)])

    setups = {}
    groups = {}       # setup -> process groups whose CPU time serves it
    # native: nginx binds 127.0.0.1:pn itself
    setups["native"] = pn
    groups["native"] = [nginx("native", "127.0.0.1:%d" % pn)]
    # A/A control: a second, identical native nginx
    setups["control"] = pc
    groups["control"] = [nginx("control", "127.0.0.1:%d" % pc)]
    # shim: nginx adopts systemd-socket-activate's 127.0.0.1:ps
    setups["shim"] = ps
    groups["shim"] = [nginx("shim", "127.0.0.1:%d" % ps, activate="127.0.0.1:%d" % ps)]
    # proxy: native nginx on pb behind a socket-activated systemd-socket-proxyd on pf
    backend = nginx("backend", "127.0.0.1:%d" % pb)
    proxy = start("proxy", [SSA, "-l", "127.0.0.1:%d" % pf, "--", PROXYD, "127.0.0.1:%d" % pb])
    setups["proxyd"] = pf
    groups["proxyd"] = [backend, proxy]
    # dual-stack: ssa -l PORT makes [::]:PORT (not V6ONLY); nginx binds 0.0.0.0:PORT
    setups["dual"] = pd
    groups["dual"] = [nginx("dual", "0.0.0.0:%d" % pd, activate=str(pd))]
    # its kernel-side baseline: nginx itself on a dual-stack [::] socket, no shim
    setups["dualnative"] = pdn
    groups["dualnative"] = [nginx("dualnative", "[::]:%d ipv6only=off" % pdn)]
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
    res["ratios"] = {m: datapath_ratios(res, m) for m in ("keepalive", "close")}
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


def section(R, a, num):
    P = R["profile"]
    dp = R.get("datapath")
    a("## %d. Data path: nginx under wrk" % num)
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


def targets(R):
    T = []
    dp = R.get("datapath", {})
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
    return T
