# SPDX-License-Identifier: MIT
"""Start-up: fork + exec + exit of a trivial program with nothing, an empty
.so and the shim preloaded, inert and with N inherited sockets.  Two methods:
the pinned wall-clock loop of startwall.py (the targets) and the CPU-time
loop of bench/startup (the earlier reports' method), and why they differed."""
import os
import re
import subprocess

from . import startwall
from .common import fmt, fmt_ci, judge_ci, kv, log, run, summ

NAME = "startup"
SU_NS = [1, 64, 1024]


def measure(P, ctx):
    shim, B = ctx.shim, ctx.bin
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
    try:
        out["wall_clock"] = startwall.measure(P, shim, B)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        log("start-up, wall clock FAILED: %r" % e)
        out["wall_clock"] = {"error": repr(e)}
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


def section(R, a, num):
    P = R["profile"]
    su = R.get("startup")
    a("## %d. Start-up: fork + exec + exit of a trivial program" % num)
    a("")
    if "error" in su:
        a("Not measured: %s" % su["error"])
    else:
        big = SU_NS[-1]
        if "wall_clock" in su:
            a("Two methods: a pinned wall-clock loop, on which the targets are judged, and the"
              " CPU-time loop of the earlier reports; the last part explains why their figures"
              " disagreed.")
            a("")
            startwall.section(su, a)
            a("### CPU time (the earlier method)")
            a("")
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
        startwall.explain(su, a)


def targets(R):
    T = []
    su = R.get("startup", {})
    sw = su.get("wall_clock")
    if sw and "error" not in sw and "true" in sw:
        T += startwall.targets(su)
        if "per_sock_shim" in su:
            sh = [sw[p]["d_wall"].get("share") for p in ("true", "trivial")]
            v = [judge_ci(x, 0.5) for x in sh]
            T.append(dict(what="start-up ≤ 0.5 µs per inherited socket (the shim's share, wall clock)",
                          measured="`/bin/true` %s µs, `bench/trivial` %s µs wall (pinned); CPU-time"
                                   " method: %s µs (total including the kernel's fd inheritance: %s µs)"
                                   % (fmt_ci(sh[0], 3), fmt_ci(sh[1], 3), fmt(su["per_sock_shim"], 3),
                                      fmt(su["per_sock_total"], 3)),
                          ok=False if False in v else None if None in v else True,
                          why=startup_why(su)))
        return T
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
    return T
