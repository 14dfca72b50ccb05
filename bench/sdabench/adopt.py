# SPDX-License-Identifier: MIT
"""Adoption cost: one socket() + bind() + listen() + close() cycle that adopts
an inherited socket, against the same cycle binding natively, at N = 1 …
1000 inherited sockets; and the system calls one adoption cycle makes."""
import os
import subprocess

from .common import fmt_ci, heading, judge_ci, kv, log, run, summ_ci

NAME = "adopt"
AD_NS = [1, 10, 100, 1000]
RATIO_MAX = 1.5          # adoption cycle / native cycle, at every N
SYSCALLS_MAX = 15        # system calls per adoption cycle, at every N
# the two cycle counts of the strace difference (hookcost runs ITER/20 cycles)
SC_ITERS = (1000, 3000)


def hookcost(B, n, opt, iters, reps, only):
    env = dict(os.environ, HOOKCOST_NFDS=str(n), HOOKCOST_ONLY=only)
    env.pop("LD_PRELOAD", None)
    return [B + "/bench-activate", "-n", str(n)] + opt + ["--", B + "/hookcost", str(iters),
                                                          str(reps)], env


def measure(P, ctx):
    shim, B = ctx.shim, ctx.bin
    log("adoption: socket()+bind()+listen()+close() adopting vs native, N = %s, %d rounds"
        % (AD_NS, P["ad_rounds"]))
    kinds = {"base": ["-E"], "shim": ["-p", shim]}
    raw = {n: {k: [] for k in kinds} for n in AD_NS}
    for r in range(P["ad_rounds"]):
        for n in AD_NS:
            for kind, opt in kinds.items():
                argv, env = hookcost(B, n, opt, P["ad_iter"], 1, "cycles")
                # stderr to /dev/null: the shim's info line per adoption still costs its write()
                cp = run(argv, timeout=120, env=env, stderr_null=True)
                if cp.returncode != 0:
                    raise RuntimeError("hookcost cycles failed (%s, N=%d): rc %d" % (
                        kind, n, cp.returncode))
                d = kv(cp.stdout)
                if kind == "shim" and not d.get("adopted"):
                    raise RuntimeError("hookcost: the shim did not adopt (N=%d)" % n)
                raw[n][kind].append(d)
        log("  round %d/%d: adoption cycle / native cycle: %s" % (
            r + 1, P["ad_rounds"], ", ".join("N=%d %.2f" % (n, raw[n]["shim"][-1]["adopt_ratio"])
                                             for n in AD_NS)))
    out = {}
    for n in AD_NS:
        b, s = raw[n]["base"], raw[n]["shim"]
        pair = list(zip(b, s))
        out[n] = dict(
            ratio=summ_ci([y["adopt_ratio"] for y in s]),
            adopt=summ_ci([y["adopt_cycle"] for y in s]),
            native=summ_ci([y["native_libc"] for y in s]),
            ratio_cross=summ_ci([y["adopt_cycle"] / x["native_cycle"] for x, y in pair]),
            native_base=summ_ci([x["native_cycle"] for x in b]),
            aa=summ_ci([x["native_ratio"] for x in b]),
            miss_ratio=summ_ci([y["native_ratio"] for y in s]),
            added=summ_ci([y["adopt_cycle"] - y["native_libc"] for y in s]),
        )
    out["syscalls"] = {n: adopt_syscalls(shim, B, n) for n in AD_NS}
    out["native_syscalls"] = adopt_syscalls(None, B, AD_NS[0])
    out["batch_cycles"] = raw[AD_NS[0]]["shim"][0].get("batch")
    return out


def strace_counts(argv, env, path):
    """System calls by name (strace -f -c), or None without strace."""
    try:
        cp = run(["strace", "-f", "-c", "-o", path] + argv, timeout=300, env=env, stderr_null=True)
        if cp.returncode != 0:
            return None
        text = open(path).read()
    except (OSError, subprocess.TimeoutExpired):
        return None
    calls = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 5 and f[-1] not in ("syscall", "total") and f[3].isdigit():
            calls[f[-1]] = int(f[3])
    return calls


def adopt_syscalls(shim, B, n):
    """System calls per cycle: the same process run twice, with SC_ITERS[0]/20
    and SC_ITERS[1]/20 cycles, under strace -f -c; the difference of the two
    counts divided by the difference of the cycles.  Everything that is not
    per cycle (the loader, the constructor, the probe at the first bind,
    bench-activate itself) cancels, and every call the cycles make counts,
    whether the shim or the program makes it.  shim None: the native cycle
    in a process without the shim."""
    counts = []
    for iters in SC_ITERS:
        if shim:
            argv, env = hookcost(B, n, ["-p", shim], iters, 1, "adopt_cycle")
        else:
            argv, env = hookcost(B, n, ["-E"], iters, 1, "native_cycle")
        c = strace_counts(argv, env, os.path.join(B, "strace-adopt-%s-%d.txt" % (
            "shim" if shim else "native", iters)))
        if c is None:
            return None
        counts.append(c)
    cycles = (SC_ITERS[1] - SC_ITERS[0]) // 20
    per = {k: (counts[1].get(k, 0) - counts[0].get(k, 0)) / cycles
           for k in set(counts[0]) | set(counts[1])}
    per = sorted(((k, v) for k, v in per.items() if abs(v) >= 0.005), key=lambda kv: (-kv[1], kv[0]))
    return dict(per=per, total=sum(v for _, v in per), cycles=cycles)


def sc_list(sc):
    return ", ".join("%s %s" % (k, ("%.0f" % v) if abs(v - round(v)) < 0.05 else "%.2f" % v)
                     for k, v in sc["per"])


def section(R, a, num):
    P = R["profile"]
    ad = R.get("adopt")
    if heading(a, num, "Adoption cost", ad):
        return
    a("What a server pays once per start (or reload) for getting its socket from the shim instead"
      " of from the kernel: one **adoption cycle**, `socket()` + `bind()` of the inherited"
      " socket's address + `listen(fd, 128)` + `close()`, where the shim's bind() dup3()s the"
      " inherited socket onto the new fd and its listen() leaves the inherited backlog alone,"
      " against the **native cycle**, the same four calls binding a free 127.0.0.1 port. Both run"
      " in `bench/hookcost` under `bench/bench-activate` with N inherited sockets and the shim:"
      " the native cycle through libc's own definitions (found with `dlsym` on libc.so.6, so"
      " shim-free) in the same process, in 64 alternated batches (%s cycles each, the order rotated"
      " every batch), and the ratio is the median over the batches, which cancels the machine's"
      " drift. %d rounds; each cell is the median over the rounds with a distribution-free 95%%"
      " confidence interval `[lo, hi]` (min–max when there are too few rounds for 95%%). The"
      " shim's `info` line per adoption is written (stderr to /dev/null), as in production; the"
      " probe of the N sockets at the first bind() is not part of the cycle (it is in the hook-cost section)."
      % (ad.get("batch_cycles") and "%.0f" % ad["batch_cycles"] or "a few", P["ad_rounds"]))
    a("")
    a("| N | adoption cycle µs | native cycle µs (libc, same process) | ratio (target ≤ %.1f) | ratio vs native cycle in a no-shim process | A/A: hooked / libc cycle, no shim | native cycle under the shim (a bind() miss) / libc | system calls per adoption (target ≤ %d) |" % (RATIO_MAX, SYSCALLS_MAX))
    a("|---|---|---|---|---|---|---|---|")
    for n in AD_NS:
        x = ad[str(n)]
        sc = (ad.get("syscalls") or {}).get(str(n))

        def us(s):
            return fmt_ci(dict(s, med=s["med"] / 1e3, lo=s["lo"] / 1e3, hi=s["hi"] / 1e3), 2) if s else "n/a"
        a("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
            n, us(x["adopt"]), us(x["native"]), fmt_ci(x["ratio"], 2), fmt_ci(x["ratio_cross"], 2),
            fmt_ci(x["aa"], 3), fmt_ci(x["miss_ratio"], 3), "%.1f" % sc["total"] if sc else "n/a"))
    a("")
    scs = ad.get("syscalls") or {}
    nat = ad.get("native_syscalls")
    if any(scs.values()):
        a("System calls per cycle, counted with `strace -f -c` over the same process run with %d and"
          " with %d cycles: the difference of the two counts divided by the %d extra cycles, so"
          " everything made once per process (loading, the constructor, the probe at the first"
          " bind, bench-activate) cancels and nothing the cycle makes is left out, whether the"
          " program, libc or the shim makes it:"
          % (SC_ITERS[0] // 20, SC_ITERS[1] // 20, (SC_ITERS[1] - SC_ITERS[0]) // 20))
        a("")
        for n in AD_NS:
            sc = scs.get(str(n))
            if sc:
                a("- N=%d, adoption cycle: %.1f in all: %s" % (n, sc["total"], sc_list(sc)))
        if nat:
            a("- native cycle (no shim): %.1f in all: %s" % (nat["total"], sc_list(nat)))
        a("")
    else:
        a("System calls: not counted (strace is not installed).")
        a("")


def worst(ad, key):
    ns = [n for n in AD_NS if ad.get(str(n), {}).get(key)]
    return max(ns, key=lambda n: ad[str(n)][key]["med"]) if ns else None


def native_calls(ad):
    nat = ad.get("native_syscalls")
    return ("%.0f (%s)" % (nat["total"], sc_list(nat))) if nat else "4 (socket, bind, listen, close)"


def adopt_why(ad, n):
    """Where an adoption's extra time goes, from its system calls."""
    x = ad[str(n)]
    sc = (ad.get("syscalls") or {}).get(str(n))
    head = ("an adoption costs %.1f µs more than binding natively at N=%d"
            % (x["added"]["med"] / 1e3, n))
    if not sc:
        return head + " (strace is not installed here, so the calls are not counted)."
    c = dict(sc["per"])
    parts, fixes = [], []
    if c.get("getsockopt", 0) >= 4:
        parts.append("%.0f getsockopt() calls: bind() reads the socket options of the server's"
                     " socket and of a fresh one, option by option, to carry the server's"
                     " settings over (docs/socket-options.md)" % c["getsockopt"])
        fixes.append("track the options the server sets in the setsockopt() hook and carry over"
                     " only those, instead of reading every option back on both sockets")
    if c.get("fcntl", 0) >= 2:
        parts.append("%.0f fcntl() flag checks" % c["fcntl"])
        fixes.append("read the fd flags once per adoption")
    if c.get("rt_sigprocmask", 0) >= 1:
        parts.append("%.0f rt_sigprocmask() around the swap" % c["rt_sigprocmask"])
    if c.get("getpid", 0) >= 1:
        parts.append("%.0f getpid() for the log line" % c["getpid"])
        fixes.append("take the pid for the log prefix once (and again after fork)")
    if c.get("socket", 0) >= 2:
        parts.append("%.0f socket() (the server's and a fresh one for comparison)" % c["socket"])
    if not parts:
        parts.append("no system call stands out (%s)" % sc_list(sc))
        fixes.append("profile the cycle: HOOKCOST_ONLY=adopt_cycle under perf record")
    return ("%s, and it makes %.0f system calls where the native cycle makes %s: %s. Fix (shim/,"
            " core/): %s." % (head, sc["total"], native_calls(ad), "; ".join(parts),
                              "; ".join(fixes)))


def targets(R):
    ad = R.get("adopt", {})
    if not ad or "error" in ad:
        return []
    T = []
    w = worst(ad, "ratio")
    verdicts = [judge_ci(ad[str(n)]["ratio"], RATIO_MAX) for n in AD_NS]
    x = ad[str(w)]
    T.append(dict(
        what="adoption: socket()+bind()+listen()+close() adopting ≤ %.1f × the same cycle binding"
             " natively (every N = %d…%d)" % (RATIO_MAX, AD_NS[0], AD_NS[-1]),
        measured="%s at N=%d (worst N; %.1f µs against %.1f µs); every N: %s" % (
            fmt_ci(x["ratio"], 2), w, x["adopt"]["med"] / 1e3, x["native"]["med"] / 1e3,
            ", ".join("%.2f" % ad[str(n)]["ratio"]["med"] for n in AD_NS)),
        ok=False if False in verdicts else None if None in verdicts else True,
        why=adopt_why(ad, w)))
    scs = ad.get("syscalls") or {}
    tot = {n: scs[str(n)]["total"] for n in AD_NS if scs.get(str(n))}
    if tot:
        wn = max(tot, key=tot.get)
        T.append(dict(
            what="adoption: ≤ %d system calls per adoption cycle (every N)" % SYSCALLS_MAX,
            measured="%.1f at N=%d (worst N): %s; every N: %s" % (
                tot[wn], wn, sc_list(scs[str(wn)]), ", ".join("%.1f" % tot[n] for n in sorted(tot))),
            ok=all(v <= SYSCALLS_MAX + 0.05 for v in tot.values()),
            why=adopt_why(ad, wn) + " (Counted with strace as the difference of two runs, so"
                " these are the calls of one cycle and nothing else.)"))
    return T
