# SPDX-License-Identifier: MIT
"""Start-up, wall clock: the start-up benchmark's second method (the targets
are judged on it), and the checks that explain why it and the CPU-time
method disagreed.

bench/startwall is an independent fork + exec + exit + wait loop, pinned to
one CPU, the configurations interleaved round by round (see its header).  It
runs /bin/true and bench/trivial in the same run, each program's
configurations beside the other's (run one after the other, the two once
met different states of a shared host: all of trivial's runs 40% slower).  The same runs also give their CPU
time (the runner's own plus the child's rusage), so wall and CPU time are
compared on identical runs.  Then, for /bin/true: an instrumented run pinned
and one not pinned (the child's exact run time and run-queue delay from
/proc/PID/schedstat, and which CPU it ended on), the loader's own timing
(LD_DEBUG=statistics) and the system calls the child makes (strace)."""
import os
import re
import statistics
import subprocess

from .common import fmt_ci, judge_ci, log, run, summ_ci

TRUE = "/bin/true"
CFGS = ["none", "empty", "inert", "shim1", "shim64", "shim1024", "none64", "none1024", "empty64L",
        "inertAA"]
ICFGS = ["none", "empty", "inert", "shim64"]       # the instrumented runs
NAMES = {
    "none": "no preload", "empty": "empty preloaded .so (the floor)",
    "inert": "shim, inert (no LISTEN_*)", "shim1": "shim, activated, 1 socket",
    "shim64": "shim, activated, 64 sockets", "shim1024": "shim, activated, 1024 sockets",
    "none64": "no preload, 64 inherited fds (kernel cost)",
    "none1024": "no preload, 1024 inherited fds (kernel cost)",
    "empty64L": "empty preloaded .so, 64 inherited fds and LISTEN_* (the loop's control)",
    "inertAA": "shim, inert, a second runner (the A/A control)",
}
INERT_MAX = 10.0                 # µs, inert − empty
FIXED_MAX, PER_SOCK_MAX = 10.0, 0.5   # µs, activated(N) − inert ≤ 10 + 0.5 N
# differences: key -> (a, b, limit or None); per round, a − b
DIFFS = [
    ("empty_none", "empty", "none", None),
    ("inert_empty", "inert", "empty", INERT_MAX),
    ("shim1_inert", "shim1", "inert", FIXED_MAX + PER_SOCK_MAX * 1),
    ("shim64_inert", "shim64", "inert", FIXED_MAX + PER_SOCK_MAX * 64),
    ("shim1024_inert", "shim1024", "inert", FIXED_MAX + PER_SOCK_MAX * 1024),
    ("none64_none", "none64", "none", None),
    ("none1024_none", "none1024", "none", None),
    # the loop's own control: LISTEN_* and 64 fds with nothing to read them
    # cost what the fds cost (none64 − none), or the loop charges the
    # activated configurations for its own work (it once did: a printf()
    # in the child before exec, 9 copy-on-write faults)
    ("empty64L_empty", "empty64L", "empty", None),
    # A/A: two runners of one configuration differ by what any two do
    # (their own memory, where their children land): the resolution of
    # every row above
    ("inertAA_inert", "inertAA", "inert", None),
]


def cfg_args(B, shim, prog, names, prefix=""):
    spec = {"none": ("-", 0, 0), "empty": (B + "/libempty.so", 0, 0), "inert": (shim, 0, 0),
            "shim1": (shim, 1, 1), "shim64": (shim, 64, 1), "shim1024": (shim, 1024, 1),
            "none64": ("-", 64, 0), "none1024": ("-", 1024, 0),
            "empty64L": (B + "/libempty.so", 64, 1), "inertAA": (shim, 0, 0)}
    out = []
    for c in names:
        pre, n, le = spec[c]
        out += [prefix + c, pre, str(n), str(le), prog]
    return out


def startwall(B, shim, progs, names, rounds, iters, extra=()):
    """One run of bench/startwall over names for each (prefix, program) of
    progs, all interleaved: every program's configurations are measured in
    the same rounds, under the same conditions."""
    args = []
    for prefix, prog in progs:
        args += cfg_args(B, shim, prog, names, prefix)
    cp = run([B + "/startwall"] + list(extra) + ["-r", str(rounds), "-k", str(iters), "--"] + args,
             timeout=1200)
    if cp.returncode != 0:
        raise RuntimeError("startwall failed (%s): rc %d: %s" % (
            " ".join(p for _, p in progs), cp.returncode, cp.stderr[-300:]))
    head, rows = {}, []
    for line in cp.stdout.splitlines():
        d = {}
        for kv in line.split():
            k, _, v = kv.partition("=")
            d[k] = v if k == "c" else float(v)
        if "c" in d:
            rows.append(d)
        else:
            head = d
    return head, rows


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def by_round(rows, key):
    """{cfg: {round: median over that round's iterations of key(row)}}"""
    out = {}
    for r in rows:
        out.setdefault(r["c"], {}).setdefault(int(r["r"]), []).append(key(r))
    return {c: {k: med(v) for k, v in rs.items()} for c, rs in out.items()}


def wall_us(r):
    return r["wall_ns"] / 1e3


def cpu_us(r):
    return r["pcpu_ns"] / 1e3 + r["ccpu_us"]


def analyse(rows):
    """Per-configuration figures and per-round differences of one run."""
    rounds = sorted({int(r["r"]) for r in rows})
    wall, cpu = by_round(rows, wall_us), by_round(rows, cpu_us)
    gap = by_round(rows, lambda r: wall_us(r) - cpu_us(r))
    flt = by_round(rows, lambda r: r["minflt"])
    cfgs = [c for c in CFGS if c in wall] + [c for c in wall if c not in CFGS]
    out = dict(cfgs=cfgs, rounds=len(rounds), iters=len(rows) // max(1, len(rounds) * len(cfgs)))
    out["wall"] = {c: summ_ci(list(wall[c].values())) for c in cfgs}
    out["cpu"] = {c: summ_ci(list(cpu[c].values())) for c in cfgs}
    out["gap"] = {c: summ_ci(list(gap[c].values())) for c in cfgs}
    out["minflt"] = {c: summ_ci(list(flt[c].values())) for c in cfgs}

    def diff(t, a, b):
        return summ_ci([t[a][i] - t[b][i] for i in rounds if i in t[a] and i in t[b]])
    out["d_wall"], out["d_cpu"], out["d_pct"] = {}, {}, {}
    for k, a, b, _ in DIFFS:
        if a in wall and b in wall:
            out["d_wall"][k] = diff(wall, a, b)
            out["d_cpu"][k] = diff(cpu, a, b)
            out["d_pct"][k] = summ_ci([100 * (wall[a][i] - wall[b][i]) / wall["none"][i]
                                       for i in rounds if "none" in wall])
    if "shim1024" in wall and "shim1" in wall:
        out["d_wall"]["slope"] = summ_ci([(wall["shim1024"][i] - wall["shim1"][i]) / 1023 for i in rounds])
        out["d_cpu"]["slope"] = summ_ci([(cpu["shim1024"][i] - cpu["shim1"][i]) / 1023 for i in rounds])
    if "none1024" in wall:
        def share(t):
            return summ_ci([((t["shim1024"][i] - t["none1024"][i]) - (t["inert"][i] - t["none"][i])) / 1024
                            for i in rounds])
        out["d_wall"]["share"], out["d_cpu"]["share"] = share(wall), share(cpu)
    # the same differences computed other ways, to show what the statistic does
    alt = {}
    for k, a, b in (("inert_empty", "inert", "empty"), ("shim64_inert", "shim64", "inert")):
        wa = [wall_us(r) for r in rows if r["c"] == a]
        wb = [wall_us(r) for r in rows if r["c"] == b]
        if not wa or not wb:
            continue
        means = {}
        for c in (a, b):
            per = {}
            for r in rows:
                if r["c"] == c:
                    per.setdefault(int(r["r"]), []).append(wall_us(r))
            means[c] = {i: statistics.mean(v) for i, v in per.items()}
        alt[k] = dict(
            diff_of_medians=statistics.median(wa) - statistics.median(wb),
            diff_of_means=statistics.mean(wa) - statistics.mean(wb),
            batch_means=summ_ci([means[a][i] - means[b][i] for i in rounds]),
        )
    out["alt"] = alt
    return out


def analyse_instrumented(head, rows):
    out = dict(pinned=bool(head.get("pinned")), cpu=head.get("cpu"))
    rounds = sorted({int(r["r"]) for r in rows})
    wall, cpu = by_round(rows, wall_us), by_round(rows, cpu_us)
    out["wall"] = {c: summ_ci(list(v.values())) for c, v in wall.items()}
    out["cpu"] = {c: summ_ci(list(v.values())) for c, v in cpu.items()}
    out["gap"] = {c: summ_ci(list(v.values())) for c, v in
                  by_round(rows, lambda r: wall_us(r) - cpu_us(r)).items()}
    out["delay"] = {c: summ_ci(list(v.values())) for c, v in
                    by_round(rows, lambda r: r["delay_ns"] / 1e3 if r["delay_ns"] >= 0 else None).items()}
    out["rusage_vs_sched"] = {c: summ_ci(list(v.values())) for c, v in
                              by_round(rows, lambda r: r["ccpu_us"] - r["run_ns"] / 1e3
                                       if r["run_ns"] >= 0 else None).items()}
    moved = {}
    for r in rows:
        m = moved.setdefault(r["c"], [0, 0])
        m[0] += r["cpu"] != r["cpu0"]
        m[1] += 1
    out["moved"] = {c: m[0] / m[1] for c, m in moved.items()}
    for k, a, b in (("inert_empty", "inert", "empty"), ("shim64_inert", "shim64", "inert")):
        out.setdefault("d_wall", {})[k] = summ_ci([wall[a][i] - wall[b][i] for i in rounds])
        out.setdefault("d_cpu", {})[k] = summ_ci([cpu[a][i] - cpu[b][i] for i in rounds])
    return out


def loader(B, shim, prog, reps=15):
    """LD_DEBUG=statistics: the loader's own start-up time (cycles) of prog."""
    out = {}
    for name, pre in (("none", None), ("empty", B + "/libempty.so"), ("inert", shim)):
        cyc = []
        for _ in range(reps):
            env = {"LD_DEBUG": "statistics", "PATH": "/usr/bin:/bin"}
            if pre:
                env["LD_PRELOAD"] = pre
            cp = run([prog], timeout=20, env=env)
            m = re.search(r"total startup time in dynamic loader:\s+(\d+) cycles", cp.stderr)
            if m:
                cyc.append(int(m.group(1)))
        out[name] = summ_ci(cyc)
    return out


def child_syscalls(B, shim, prog):
    """The system calls the exec'd program makes, by configuration (strace -f
    over bench-activate, counting from the execve of prog): what the child
    does, independent of any clock."""
    spec = {"none": ["-n", "0"], "empty": ["-n", "0", "-p", B + "/libempty.so"],
            "inert": ["-n", "0", "-p", shim], "shim1": ["-n", "1", "-p", shim],
            "shim64": ["-n", "64", "-p", shim], "none64": ["-n", "64", "-E"]}
    out = {}
    for c, opt in spec.items():
        path = os.path.join(B, "strace-startup-%s.txt" % c)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LD_", "LISTEN_", "SDADOPT_"))}
        try:
            cp = run(["strace", "-f", "-qq", "-o", path, B + "/bench-activate"] + opt + ["--", prog],
                     timeout=60, env=env, stderr_null=True)
            if cp.returncode != 0:
                return None
            lines = open(path).read().splitlines()
        except (OSError, subprocess.TimeoutExpired):
            return None
        calls, seen = {}, False
        for line in lines:
            m = re.match(r"(?:\d+\s+)?(\w+)\(", line)
            if not m:
                continue
            if m.group(1) == "execve" and line[m.end():].startswith('"%s"' % prog):
                seen = True
            if seen:
                calls[m.group(1)] = calls.get(m.group(1), 0) + 1
        out[c] = calls
    return out


def measure(P, shim, B):
    out = {}
    progs = (("true", TRUE), ("trivial", B + "/trivial"))
    log("start-up, wall clock: %s, pinned, %d configurations each, interleaved, %d rounds x %d runs"
        % (" and ".join(p for _, p in progs), len(CFGS), P["sw_rounds"], P["sw_iter"]))
    head, rows = startwall(B, shim, [(k + ":", p) for k, p in progs], CFGS, P["sw_rounds"], P["sw_iter"])
    for key, prog in progs:
        a = analyse([dict(r, c=r["c"][len(key) + 1:]) for r in rows if r["c"].startswith(key + ":")])
        a["cpu_pinned"] = head.get("cpu")
        a["nice"] = head.get("nice")
        out[key] = a
        log("  %s: inert − empty %s µs, activated(64) − inert %s µs (wall)" % (
            os.path.basename(prog), fmt_ci(a["d_wall"]["inert_empty"]), fmt_ci(a["d_wall"]["shim64_inert"])))
    out["instrumented"] = {}
    for mode, extra in (("pinned", ["-i"]), ("unpinned", ["-i", "-u"])):
        head, rows = startwall(B, shim, [("", TRUE)], ICFGS, P["sw_irounds"], P["sw_iter"], extra)
        out["instrumented"][mode] = analyse_instrumented(head, rows)
    out["loader_true"] = loader(B, shim, TRUE)
    out["syscalls_true"] = child_syscalls(B, shim, TRUE)
    out["elf"] = elf_facts(shim)
    try:
        out["mhz"] = float(re.search(r"cpu MHz\s*:\s*([\d.]+)", open("/proc/cpuinfo").read()).group(1))
    except (OSError, AttributeError, ValueError):
        out["mhz"] = None
    return out


def elf_facts(shim):
    """BIND_NOW and the number of imported symbols of the shim (readelf, nm)."""
    try:
        dyn = run(["readelf", "-d", shim], timeout=20).stdout
        und = run(["nm", "-D", "--undefined-only", shim], timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return dict(bind_now="BIND_NOW" in dyn or re.search(r"FLAGS_1.*\bNOW\b", dyn) is not None,
                imports=len([l for l in und.splitlines() if l.strip()]))


# ---------------------------------------------------------------- report

def limit_of(k):
    for kk, _, _, lim in DIFFS:
        if kk == k:
            return lim
    return None


def targets(su):
    """The two wall-clock targets; su is the start-up results."""
    sw = su.get("wall_clock")
    if not sw or "error" in sw or "true" not in sw:
        return []
    T = []
    for key, what in (("inert_empty", "start-up, wall clock: shim inert − empty preloaded .so ≤ %.0f µs"
                       % INERT_MAX),
                      ("shim64_inert", "start-up, wall clock: activated with 64 inherited sockets −"
                       " inert ≤ %.0f + %.1f·64 = %.0f µs" % (FIXED_MAX, PER_SOCK_MAX,
                                                           FIXED_MAX + PER_SOCK_MAX * 64))):
        lim = limit_of(key)
        v = [judge_ci(sw[p]["d_wall"][key], lim) for p in ("true", "trivial") if p in sw]
        cpu_old = su.get("inert_minus_empty") if key == "inert_empty" else \
            su.get("shim_n_minus_inert", {}).get("64")
        T.append(dict(
            what=what,
            measured="`/bin/true` %s µs, `bench/trivial` %s µs (pinned fork+exec+exit+wait, median"
                     " [95%% CI]); CPU time of the same runs: %s / %s µs; earlier CPU-time method"
                     " (`bench/startup`, trivial): %s µs" % (
                         fmt_ci(sw["true"]["d_wall"][key]), fmt_ci(sw["trivial"]["d_wall"][key]),
                         fmt_ci(sw["true"]["d_cpu"][key]), fmt_ci(sw["trivial"]["d_cpu"][key]),
                         "%.1f" % cpu_old["med"] if cpu_old else "n/a"),
            ok=False if False in v else None if None in v else True,
            why=why_inert(su) if key == "inert_empty" else why_active(su)))
    return T


def why_inert(su):
    sw = su["wall_clock"]
    t, v = sw["true"], sw["trivial"]
    c = t["d_cpu"]["inert_empty"]
    parts = ["pinned, the CPU time of the same runs is %s µs (/bin/true)%s" % (
        fmt_ci(c), ", so this is work the inert shim does, not a clock artefact" if c["lo"] > 0 else
        ", an interval that includes 0: this run cannot tell the miss from noise")]
    fixes = []
    ld = sw.get("loader_true") or {}
    mhz = sw.get("mhz")
    if ld.get("inert") and ld.get("empty"):
        d = ld["inert"]["med"] - ld["empty"]["med"]
        if mhz and abs(d / mhz) < 1:
            parts.append("the dynamic loader takes about as long for the shim as for the empty .so"
                         " (LD_DEBUG=statistics, /bin/true)")
        else:
            parts.append("the dynamic loader takes %.0f k cycles%s more for the shim than for the"
                         " empty .so (LD_DEBUG=statistics, /bin/true)"
                         % (d / 1e3, " (≈ %.0f µs)" % (d / mhz) if mhz else ""))
    elf = sw.get("elf") or {}
    if elf.get("bind_now"):
        parts.append("the shim is linked with BIND_NOW, so the loader resolves all %s of its"
                     " imports from libc at every start, used or not" % elf.get("imports", "?"))
        fixes.append("link the shim for lazy binding (no `-z now`; keep relro): an inert process"
                     " calls almost none of what the shim imports")
    fl = t.get("minflt", {})
    if fl.get("inert") and fl.get("empty") and fl["inert"]["med"] - fl["empty"]["med"] >= 1:
        parts.append("the child takes %.0f more page fault%s than with the empty .so (a bigger object"
                     " to map, relocate and unmap at exit)" % (
                         fl["inert"]["med"] - fl["empty"]["med"],
                         "" if fl["inert"]["med"] - fl["empty"]["med"] == 1 else "s"))
        fixes.append("fewer pages touched at start: keep the inert path (constructor, destructor)"
                     " in one page and its data out of relro")
    parts.append("with bench/trivial it is %s µs, so the cost depends on the program"
                 % fmt_ci(v["d_wall"]["inert_empty"]))
    return ("; ".join(parts) + ". Fix (shim/): " + ("; ".join(fixes) or "profile the inert start"
                                                     " (perf record over bench/startwall)") + ".")


# system calls of the activated child, and what would remove them: (name, per
# socket?) -> fix; per socket: counted when 64 sockets make at least 32 more
# than 1 does, else when activated(1) makes more than inert
SC_FIX = {
    ("fcntl", True): "mark the inherited fds close-on-exec with one close_range(3, 3+N-1,"
                     " CLOSE_RANGE_CLOEXEC) instead of one fcntl() per fd",
    ("getsockopt", True): "do not probe the sockets at exit when no hook ever probed them",
    ("getsockname", True): "do not probe the sockets at exit when no hook ever probed them",
    ("newfstatat", True): "do not fstat every inherited fd at start or exit",
    ("write", True): "write the never-adopted warning as one line, not one per socket",
    ("brk", False): "allocate nothing at start (malloc's first use costs brk and getrandom): leave"
                    " the registry to the first hook that needs it",
    ("mmap", False): "map the registry and the shared adoption page on first use, not in the"
                     " constructor",
    ("getpid", False): "call getpid() once in the constructor",
    ("prlimit64", False): "ask for RLIMIT_NOFILE once",
}


def why_active(su):
    sw = su["wall_clock"]
    t = sw["true"]
    d = t["d_wall"]
    parts = ["being activated at all costs %s µs over inert with a single socket (activated(1) −"
             " inert), and each further socket %s µs (the slope from 1 to 1024 sockets)"
             % (fmt_ci(d["shim1_inert"]), fmt_ci(d["slope"], 3))]
    if d["shim1_inert"]["med"] > FIXED_MAX:
        parts[-1] += ", so the fixed part alone is past the %.0f µs allowance" % FIXED_MAX
    fixes = []
    sc = sw.get("syscalls_true")
    if sc and sc.get("shim64") and sc.get("inert") and sc.get("shim1"):
        def extra(a, b):
            ks = sorted(set(sc[a]) | set(sc[b]), key=lambda k: (-(sc[a].get(k, 0) - sc[b].get(k, 0)), k))
            return [(k, sc[a].get(k, 0) - sc[b].get(k, 0)) for k in ks if sc[a].get(k, 0) != sc[b].get(k, 0)]
        e1, e64 = extra("shim1", "inert"), extra("shim64", "shim1")
        parts.append("the child makes %d system calls activated with 1 socket against %d inert (%s),"
                     " and %d with 64 (%s)" % (
                         sum(sc["shim1"].values()), sum(sc["inert"].values()),
                         ", ".join("%s %+d" % kv for kv in e1) or "the same",
                         sum(sc["shim64"].values()),
                         ", ".join("%s %+d" % kv for kv in e64) or "no more"))
        for k, n in e64:
            f = SC_FIX.get((k, True))
            if n >= 32 and f and f not in fixes:
                fixes.append(f)
        for k, n in e1:
            f = SC_FIX.get((k, False))
            if n > 0 and f and f not in fixes:
                fixes.append(f)
    fl = t.get("minflt", {})
    if fl.get("shim1") and fl.get("inert"):
        parts.append("%+.0f page faults (activated(1) − inert)" % (fl["shim1"]["med"] - fl["inert"]["med"]))
    return ("; ".join(parts) + ". Fix (shim/): " + ("; ".join(fixes) or "profile the activated"
                                                     " start (perf record over bench/startwall)") + ".")


def section(su, a):
    sw = su.get("wall_clock")
    a("### Wall clock (the targets)")
    a("")
    if not sw or "error" in sw:
        a("Not measured: %s" % (sw or {}).get("error", "no results"))
        a("")
        return
    t, v = sw["true"], sw["trivial"]
    a("`bench/startwall` is an independent fork + exec + exit + wait loop: one process pinned to"
      " CPU %s (`sched_setaffinity`) at nice %s (so that other jobs on that CPU wait for it rather"
      " than it for them; its children inherit both) forks one runner per"
      " configuration, each holding exactly the fds its children inherit, and then runs %d rounds;"
      " in each round every configuration in turn (the order rotated each round) makes one untimed"
      " run and %d timed ones, `CLOCK_MONOTONIC` from before fork() to after wait4() returns. The"
      " child gets only `LD_PRELOAD` and, when activated, `LISTEN_PID` (its own, written after"
      " fork by the same few stores in every configuration) and `LISTEN_FDS`; its stderr is /dev/null. It runs `/bin/true` (coreutils) and"
      " `bench/trivial`, both in the same rounds (each program's configurations are"
      " configurations of the one run). Each cell is the median over the rounds of the round's median, with a"
      " distribution-free 95%% confidence interval `[lo, hi]`; differences are taken per round, then"
      " the median. One timed run per configuration and round: the differences pair single runs made"
      " milliseconds apart. On this kind of machine a run's time is bimodal (about one run in five"
      " to one in two is 150–250 µs slower, its own CPU time included, whatever the configuration),"
      " and a median over a batch of consecutive runs of one configuration falls between the two"
      " modes whenever the slow share of that batch nears one half: batches of 20 gave two"
      " measurements of the same inert shim 7.0 [5.0, 14.4] and 14.2 [10.8, 23.4] µs over the"
      " empty .so, confidence intervals that do not even overlap. The same runs' CPU time (the runner's fork and wait plus the child's rusage, as"
      " the CPU-time method counts it) is given beside them."
      % ("%d" % t["cpu_pinned"] if t.get("cpu_pinned") is not None else "?",
         "%d" % t["nice"] if t.get("nice") is not None else "?", t["rounds"], t["iters"]))
    a("")
    a("| configuration | `/bin/true` wall µs | CPU µs, same runs | wall − CPU | child's page faults | `bench/trivial` wall µs | CPU µs, same runs |")
    a("|---|---|---|---|---|---|---|")
    for c in t["cfgs"]:
        a("| %s | %s | %s | %s | %s | %s | %s |" % (
            NAMES.get(c, c), fmt_ci(t["wall"][c]), fmt_ci(t["cpu"][c]), fmt_ci(t["gap"][c]),
            fmt_ci(t["minflt"][c], 0), fmt_ci(v["wall"].get(c)), fmt_ci(v["cpu"].get(c))))
    a("")
    a("| difference (per round, then median [95% CI]), µs | limit (10 + 0.5 µs per socket) | `/bin/true` wall | CPU, same runs | as % of no preload | `bench/trivial` wall | CPU, same runs | verdict (wall, both programs) |")
    a("|---|---|---|---|---|---|---|---|")
    labels = {
        "empty_none": "empty .so − no preload (what any LD_PRELOAD costs)",
        "inert_empty": "**shim inert − empty .so** (target)",
        "shim1_inert": "activated, 1 socket − inert",
        "shim64_inert": "**activated, 64 sockets − inert** (target)",
        "shim1024_inert": "activated, 1024 sockets − inert",
        "none64_none": "kernel: 64 inherited fds, no preload − no preload",
        "none1024_none": "kernel: 1024 inherited fds, no preload − no preload",
        "empty64L_empty": "the loop's control: empty .so with 64 fds and LISTEN_* − empty .so"
                          " (should equal the kernel's 64 fds)",
        "inertAA_inert": "A/A control: a second inert runner − inert (should be 0: what two"
                         " identical configurations differ by)",
    }
    for k, _, _, lim in DIFFS:
        if k not in t["d_wall"]:
            continue
        verdict = ""
        if lim is not None:
            vs = [judge_ci(x["d_wall"][k], lim) for x in (t, v)]
            verdict = "holds" if all(x is True for x in vs) else \
                "does not hold" if False in vs else "cannot tell"
        a("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            labels[k], "≤ %.1f" % lim if lim is not None else "", fmt_ci(t["d_wall"][k]),
            fmt_ci(t["d_cpu"][k]), fmt_ci(t["d_pct"][k], 1, "%"), fmt_ci(v["d_wall"][k]),
            fmt_ci(v["d_cpu"][k]), verdict))
    if "slope" in t["d_wall"]:
        a("| per socket, activated: (1024 sockets − 1 socket) / 1023 | | %s | %s | | %s | %s | |" % (
            fmt_ci(t["d_wall"]["slope"], 3), fmt_ci(t["d_cpu"]["slope"], 3),
            fmt_ci(v["d_wall"]["slope"], 3), fmt_ci(v["d_cpu"]["slope"], 3)))
    if "share" in t["d_wall"]:
        a("| per socket, the shim's share: ((1024 sockets − 1024 fds no preload) − (inert − no preload)) / 1024 | ≤ 0.5 | %s | %s | | %s | %s | |" % (
            fmt_ci(t["d_wall"]["share"], 3), fmt_ci(t["d_cpu"]["share"], 3),
            fmt_ci(v["d_wall"]["share"], 3), fmt_ci(v["d_cpu"]["share"], 3)))
    a("")


def fixed_share(fixed, total):
    if total <= 0:
        return "n/a"
    f = 100 * fixed / total
    return "all, within the noise" if f >= 100 else "%.0f%%" % f


def explain(su, a):
    """Why the CPU-time figures (docs at eb85431: 8.1 µs inert, 0.336 µs per
    socket) and a pinned wall-clock loop (32–39 µs, 180–220 µs) disagreed,
    from this run's data."""
    sw = su.get("wall_clock")
    if not sw or "error" in sw:
        return
    t, v = sw["true"], sw["trivial"]
    ins = sw.get("instrumented", {})

    def width(s):
        return s["hi"] - s["lo"] if s else float("nan")
    a("### Why the CPU-time and the wall-clock figures disagreed")
    a("")
    a("The earlier report gave 8.1 µs (inert − empty) and 0.336 µs per socket, both CPU time over"
      " bench/trivial; the issue's pinned wall-clock loop over `/bin/true` gave 32–39 µs and"
      " 180–220 µs (activated with 64 sockets − inert). This run checks each possible cause:")
    a("")
    dc, dw = t["d_cpu"], t["d_wall"]
    a("1. **Not the same quantity.** 0.336 µs is a per-socket slope at 1024 sockets with the inert"
      " cost and the kernel's fd cost subtracted; it leaves out the fixed cost of being activated"
      " at all, which activated(64) − inert includes. Here activated(1) − inert is %s µs wall and"
      " the slope %s µs per socket, which predicts %.0f µs for 64 sockets; measured: %s µs, of which"
      " the fixed part is %s. The issue's target (≤ 10 µs + 0.5 µs per socket) charges the"
      " fixed part; the old per-socket target did not."
      % (fmt_ci(dw["shim1_inert"]), fmt_ci(dw["slope"], 3),
         dw["shim1_inert"]["med"] + 63 * dw["slope"]["med"], fmt_ci(dw["shim64_inert"]),
         fixed_share(dw["shim1_inert"]["med"], dw["shim64_inert"]["med"])))
    gaps = [t["gap"][c]["med"] for c in t["cfgs"]]
    agree = max(abs(dw[k]["med"] - dc[k]["med"]) for k in ("inert_empty", "shim64_inert"))
    steady = max(gaps) - min(gaps) <= 5
    a("2. **The clock, pinned.** On the same pinned runs, wall − CPU time (the runner's fork and"
      " wait + the child's rusage) is %.1f–%.1f µs across the configurations, and the differences %s:"
      " inert − empty %s µs wall against %s µs CPU, activated(64) − inert %s against %s. %s"
      % (min(gaps), max(gaps), "agree to %.1f µs" % agree if agree <= max(2.0, 0.1 * abs(dw["inert_empty"]["med"]))
         else "differ by up to %.1f µs" % agree,
         fmt_ci(dw["inert_empty"]), fmt_ci(dc["inert_empty"]),
         fmt_ci(dw["shim64_inert"]), fmt_ci(dc["shim64_inert"]),
         "The child does not block (its page faults are minor ones, on cached pages), so pinned,"
         " wall-clock time is CPU time plus a constant." if steady else
         "The gap is not constant in this run: in some rounds another job held the CPU while the"
         " loop waited (run-queue delay, item 3), which wall clock counts and CPU time does not;"
         " rerun on a quieter machine for the wall-clock figures to settle."))
    p, u = ins.get("pinned"), ins.get("unpinned")
    if p and u:
        rs = [x["med"] for x in p["rusage_vs_sched"].values() if x]
        a("3. **A third clock, the scheduler's** (an instrumented pinned run reads"
          " `/proc/PID/schedstat` of the zombie before reaping it): the child's rusage differs from"
          " the scheduler's exact run time by %.1f to %.1f µs, so wait4()'s µs granularity and tick"
          " sampling lose nothing; the child waited %s µs on the run queue before and while it ran"
          " (no preload; %.1f–%.1f µs across the configurations), time that wall clock counts and"
          " CPU time does not." % (min(rs), max(rs), fmt_ci(p["delay"].get("none")),
                                   min(x["med"] for x in p["delay"].values() if x),
                                   max(x["med"] for x in p["delay"].values() if x)))

        a("4. **Not pinned.** The child ended on another CPU than the one it was forked on in %.0f%% of"
          " the runs (fork and exec balancing); wall − CPU is %s µs there against %s µs pinned (a"
          " cross-CPU wake-up of the waiting parent, and the other CPU's idle exit when it had"
          " nothing to do), and the differences spread: inert − empty %s µs wall (CPU %s), 95%% CI"
          " %.0f µs wide against %.0f µs pinned; activated(64) − inert %s (CPU %s). The earlier"
          " report's wall-clock column came from such a loop (`bench/startup` is not pinned)."
          % (100 * statistics.mean(u["moved"].values()), fmt_ci(u["gap"].get("none")),
             fmt_ci(p["gap"].get("none")), fmt_ci(u["d_wall"]["inert_empty"]),
             fmt_ci(u["d_cpu"]["inert_empty"]), width(u["d_wall"]["inert_empty"]),
             width(p["d_wall"]["inert_empty"]), fmt_ci(u["d_wall"]["shim64_inert"]),
             fmt_ci(u["d_cpu"]["shim64_inert"])))
    x, y = dw["inert_empty"], v["d_wall"]["inert_empty"]
    apart = x["lo"] > y["hi"] or y["lo"] > x["hi"]
    a("5. **The program.** inert − empty is %s µs with `/bin/true` and %s µs with `bench/trivial`"
      " (which imports almost nothing from libc); the earlier report measured only bench/trivial. %s"
      % (fmt_ci(x), fmt_ci(y), "The intervals do not overlap: the program matters." if apart else
         "The intervals overlap: in this run the program does not make a difference that can be told"
         " from noise."))
    al = t.get("alt", {})
    if al.get("inert_empty"):
        x = al["inert_empty"]
        y = al.get("shim64_inert", {})
        a("6. **The statistic.** `bench/startup` prints the mean of each batch; one run preempted"
          " for a few ms by another job moves a batch mean by tens of µs. On this run's /bin/true"
          " data inert − empty is %s µs as the median of per-round differences of medians (the"
          " figure used here), %.1f µs as a difference of the pooled medians, %.1f µs as a"
          " difference of pooled means and %s µs from per-round batch means; activated(64) − inert"
          " %s, %.1f, %.1f and %s. The median of per-round differences is the one a preempted run"
          " cannot move." % (fmt_ci(dw["inert_empty"]), x["diff_of_medians"], x["diff_of_means"],
                       fmt_ci(x["batch_means"]), fmt_ci(dw["shim64_inert"]),
                       y.get("diff_of_medians", float("nan")), y.get("diff_of_means", float("nan")),
                       fmt_ci(y.get("batch_means"))))
    a("7. **The machine's speed at the time.** Absolute µs scale with how busy the host is: no"
      " preload takes %s µs per run here. As a share of it, inert − empty is %s and activated(64) −"
      " inert %s. Figures taken at different moments (or on different hosts) compare as such"
      " shares, not in µs."
      % (fmt_ci(t["wall"]["none"], 0), fmt_ci(t["d_pct"]["inert_empty"], 1, "%"),
         fmt_ci(t["d_pct"]["shim64_inert"], 1, "%")))
    ld = sw.get("loader_true") or {}
    sc = sw.get("syscalls_true") or {}
    if ld.get("none") or sc:
        bits = []
        if ld.get("none") and ld.get("empty") and ld.get("inert"):
            bits.append("the loader's own timing of /bin/true (`LD_DEBUG=statistics`, median of 15):"
                        " no preload %.0f k cycles, empty .so %.0f k, inert shim %.0f k"
                        % (ld["none"]["med"] / 1e3, ld["empty"]["med"] / 1e3, ld["inert"]["med"] / 1e3))
        if sc:
            bits.append("system calls the exec'd /bin/true makes (strace, from its execve on): %s"
                        % ", ".join("%s %d" % (NAMES.get(c, c).split(" (")[0], sum(x.values()))
                                    for c, x in sc.items()))
        a("")
        a("Counted without any clock: " + "; ".join(bits) + ".")
    a("")
    causes = []
    if dw["shim1_inert"]["lo"] > FIXED_MAX:
        causes.append("the per-socket figure leaves out the fixed cost of being activated (%.0f µs"
                      " here)" % dw["shim1_inert"]["med"])
    if apart:
        causes.append("the earlier figures measured bench/trivial only")
    if p and u and width(u["d_wall"]["inert_empty"]) > 2 * width(p["d_wall"]["inert_empty"]):
        causes.append("a loop that is not pinned spreads the differences (%.0f× the pinned"
                      " interval here)" % (width(u["d_wall"]["inert_empty"]) /
                                           max(width(p["d_wall"]["inert_empty"]), 1e-9)))
    causes.append("µs measured at different moments differ with the machine's speed (compare the"
                  " shares of the no-preload run)")
    a("In short: %s; pinned, CPU time and wall-clock time %s. The targets are judged on the pinned"
      " wall-clock loop." % ("; ".join(causes), "agree" if agree <= max(2.0, 0.1 * abs(dw["inert_empty"]["med"]))
                            else "differ by up to %.1f µs in this run (waiting for the CPU)" % agree))
    a("")
