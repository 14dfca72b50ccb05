# SPDX-License-Identifier: MIT
"""Memory: VmRSS of an idle process with N inherited sockets, with the
shim and without it."""
import os
import re
import select
import subprocess

from .common import PROCS, fmt, log, summ, table

NAME = "memory"
MEM_NS = [0, 64, 1024]


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


def measure(P, ctx):
    shim, B = ctx.shim, ctx.bin
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


def section(R, a, num):
    P = R["profile"]
    mem = R.get("memory")
    a("## %d. Memory" % num)
    a("")
    if "error" in mem:
        a("Not measured: %s" % mem["error"])
    else:
        a("VmRSS from /proc/PID/status of `bench/idle` (one bind() of its own, which makes the shim"
          " probe and index the inherited sockets, then it blocks), started by `bench/bench-activate`"
          " with N inherited sockets, with the shim and without it (same fds), %d round%s."
          % (P["mem_rounds"], "" if P["mem_rounds"] == 1 else "s"))
        a("")
        table(a, "| N | VmRSS without shim, kB | VmRSS with shim, kB | ratio | added kB | of which private (RssAnon) | of which file-backed (RssFile) |",
              [[str(n), fmt(x["base"], 0), fmt(x["shim"], 0), fmt(x["ratio"]), fmt(x["delta"], 0),
                fmt(x["delta_anon"], 0), fmt(x.get("delta_file"), 0)]
               for n, x in ((n, mem[str(n)]) for n in MEM_NS)])
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


def targets(R):
    return []
