# SPDX-License-Identifier: MIT
"""What every benchmark module shares: tool paths, the run profiles, the
statistics (summ, fmt), the process bookkeeping (PROCS, run), small network
helpers, and the facts about the machine for the report."""
import datetime
import math
import os
import signal
import socket
import statistics
import subprocess
import time

PY = "/usr/bin/python3"
NGINX = "/usr/sbin/nginx"
SSA = "/usr/bin/systemd-socket-activate"
PROXYD = "/lib/systemd/systemd-socket-proxyd"

PROFILES = {
    "quick": dict(
        dp_rounds=2, dp_secs=2, dpc_rounds=1, dpc_secs=1,
        hc_rounds=3, hc_iter=20000, hc_reps=3,
        ad_rounds=3, ad_iter=20000,
        su_rounds=6, su_iter=20,
        sw_rounds=100, sw_iter=1, sw_irounds=40,
        rs_rounds=1, rs_restarts=4, rs_period=1.2,
        mem_rounds=1, sd_restarts=5,
    ),
    "full": dict(
        dp_rounds=16, dp_secs=2, dpc_rounds=8, dpc_secs=2,
        hc_rounds=7, hc_iter=100000, hc_reps=5,
        ad_rounds=7, ad_iter=100000,
        su_rounds=30, su_iter=60,
        # one timed run per configuration a round (see startwall.py: runs,
        # not batches, are paired)
        sw_rounds=600, sw_iter=1, sw_irounds=200,
        rs_rounds=2, rs_restarts=11, rs_period=2.0,
        mem_rounds=3,
    ),
}

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


def median_ci(xs):
    """A distribution-free confidence interval for the median of xs: the
    order statistics x_(k), x_(n-k+1) with the largest k whose coverage
    1 - 2 P(Bin(n, 1/2) <= k-1) is still >= 95% (min–max when n is too small
    for 95%; the coverage reached is returned as conf)."""
    xs = sorted(x for x in xs if x is not None)
    n = len(xs)
    if not n:
        return None
    cdf, k, conf = 0.0, 1, 1 - 2 * 0.5 ** n
    for j in range(n // 2):
        cdf += math.comb(n, j) * 0.5 ** n         # P(X <= j)
        if 1 - 2 * cdf < 0.95:
            break
        k, conf = j + 1, 1 - 2 * cdf
    k = min(k, (n + 1) // 2)
    return dict(lo=xs[k - 1], hi=xs[n - k], conf=conf)


def summ_ci(xs):
    """summ() plus a confidence interval for the median (lo, hi, conf)."""
    s = summ(xs)
    if s:
        s.update(median_ci(xs))
    return s


def _fmt_med(s, digits, unit, lo, hi, form):
    """The median of s with DIGITS decimals and UNIT, and s[lo], s[hi] in FORM."""
    if not s:
        return "n/a"
    f = "%%.%df" % digits
    return (f % s["med"]) + unit + form % (f % s[lo], f % s[hi])


def fmt_ci(s, digits=1, unit=""):
    """'median [lo, hi]' of a summ_ci() result."""
    return _fmt_med(s, digits, unit, "lo", "hi", " [%s, %s]")


def judge_ci(s, limit, below=True):
    """A target on a median with a confidence interval: True when the median
    meets the limit, False when the whole interval misses it, None (cannot
    tell in this run) when the interval straddles it."""
    if not s:
        return False
    if (s["med"] <= limit) if below else (s["med"] >= limit):
        return True
    if (s.get("lo", s["med"]) <= limit) if below else (s.get("hi", s["med"]) >= limit):
        return None
    return False


def fmt(s, digits=3, unit=""):
    """'median (min–max)' of a summ() result."""
    return _fmt_med(s, digits, unit, "min", "max", " (%s–%s)")


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


def recv_all(s, limit):
    """What the socket s sends until it closes, or until LIMIT bytes (or a
    little more) have come."""
    data = b""
    while len(data) < limit:
        b = s.recv(65536)
        if not b:
            break
        data += b
    return data


def http_get(host, port, path="/", timeout=2.0):
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.0\r\nHost: bench\r\n\r\n" % path).encode())
        data = recv_all(s, 1 << 20)
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


def cpu_ns(pgids, threads=False):
    """CPU time (ns, from /proc/PID/schedstat) of every process in these
    process groups: the server side of one setup.  threads: the sum over
    every thread instead (/proc/PID/task/TID/schedstat: a Go server works in
    its threads)."""
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            if int(st[st.rindex(")") + 2:].split()[2]) not in pgids:
                continue
            if threads:
                paths = ["/proc/%s/task/%s/schedstat" % (d, t) for t in os.listdir("/proc/%s/task" % d)]
            else:
                paths = ["/proc/%s/schedstat" % d]
            for path in paths:
                with open(path) as f:
                    total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total


def kv(text):
    """The key=value lines the bench/ programs print, as floats."""
    d = {}
    for line in text.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            try:
                d[k.strip()] = float(v)
            except ValueError:
                pass
    return d


# ---------------------------------------------------------------- the report

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


def heading(a, num, title, res):
    """A section's heading "## NUM. TITLE"; then, when its benchmark has no
    results (res empty, or res["error"]), "Not measured: ..." and True: the
    section has nothing more to say."""
    a("## %d. %s" % (num, title))
    a("")
    if res and "error" not in res:
        return False
    a("Not measured: %s" % (res or {}).get("error", "no results"))
    a("")
    return True


def table(a, head, rows):
    """A Markdown table: HEAD, its header line ("| N | ... |") as it stands,
    the line under it, then a line per row of ROWS (a sequence of cells)."""
    a(head)
    a("|" + "---|" * (head.count("|") - 1))
    for cells in rows:
        a("| " + " | ".join(cells) + " |")


def verdict(ok):
    if ok is None:
        return "**inconclusive** (the miss is within this run's noise)"
    return "**holds**" if ok else "**does not hold**"

