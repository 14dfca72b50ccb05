# SPDX-License-Identifier: MIT
"""The driver: run the benchmarks asked for, keep the raw results as JSON,
then write the report."""
import argparse
import json
import os
import signal
import sys
import tempfile
import time
from types import SimpleNamespace

from . import adopt, common, datapath, hookcost, memory, report, restart, seccomp, startup, systemdrestart
from .common import PROCS, PROFILES, log, loadavg, machine_facts

# the order in which they run
BENCHES = [memory, hookcost, adopt, startup, datapath, restart, systemdrestart, seccomp]
NAMES = [m.NAME for m in BENCHES]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--shim", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="bash scripts/bench")
    ap.add_argument("--source", default="", help="how the shim was built (for the report)")
    ap.add_argument("--only", default=",".join(NAMES),
                    help="comma-separated benchmarks to run (default: all): %s" % ",".join(NAMES))
    ap.add_argument("--report-only", action="store_true", help="rewrite the docs from results.json")
    a = ap.parse_args()
    shim = os.path.abspath(a.shim)
    B = os.path.abspath(a.bin)
    out = os.path.abspath(a.out)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    mode = "quick" if a.quick else "full"
    only = [x for x in a.only.split(",") if x]
    bad = [x for x in only if x not in NAMES]
    if bad:
        ap.error("--only: no benchmark %s (one of %s)" % (", ".join(bad), ", ".join(NAMES)))
    # a partial run keeps its own results file, so it does not replace the full one
    tag = "" if set(only) == set(NAMES) else "-" + "-".join(n for n in NAMES if n in only)
    results = os.path.join(B, "results-%s%s.json" % (mode, tag))

    if a.report_only:
        R = json.load(open(results))
    else:
        P = PROFILES[mode]
        R = dict(mode=mode, profile=P, command=a.command, machine=machine_facts(repo, shim, a.source),
                 load_start=loadavg())
        work = tempfile.mkdtemp(prefix="sdadopt-bench.")
        R["work"] = work
        ctx = SimpleNamespace(shim=shim, bin=B, work=work)
        signal.signal(signal.SIGTERM, lambda *x: sys.exit(143))
        try:
            for m in BENCHES:
                if m.NAME not in only:
                    R[m.NAME] = {"error": "not run (--only)"}
                    continue
                for attempt in (1, 2):
                    try:
                        R[m.NAME] = m.measure(P, ctx)
                        break
                    except Exception as e:      # once more (a port taken meanwhile?), then report it
                        log("%s FAILED (attempt %d): %r" % (m.NAME, attempt, e))
                        R[m.NAME] = {"error": repr(e)}
                    finally:
                        PROCS.stop_all()
        finally:
            PROCS.stop_all()
        R["elapsed"] = time.monotonic() - common.T0
        R["load_end"] = loadavg()
        R = json.loads(json.dumps(R))     # int keys -> str, as when read back
        with open(results, "w") as f:
            json.dump(R, f, indent=1)
    R["targets"] = report.targets(R)
    os.makedirs(out, exist_ok=True)
    report.write_report(R, out, B)
    report.write_plot(R, out, R.get("work") if os.path.isdir(R.get("work", "")) else tempfile.mkdtemp())
    log("wrote %s/performance.md and performance.png" % out)
    for t in R["targets"]:
        log("target %-4s %s: %s" % ({True: "ok", False: "FAIL", None: "??"}[t["ok"]],
                                     t["what"], t["measured"]))
    failed = [k for k in NAMES if "error" in R.get(k, {}) and "--only" not in R[k]["error"]]
    return 1 if failed else 0
