#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""sdadopt benchmarks: run them all, write docs/performance.md and .png.

Run through scripts/bench (which installs the tools and builds); by hand:

    /usr/bin/python3 bench/run.py --shim build-bench/shim/libsdadopt.so \
        --bin build-bench/bench --out docs [--quick]

Every figure is a ratio (or a difference) against a baseline measured in the
same run, in alternating rounds (A B C A B C ...); medians are quoted with
the min-max over the rounds.  Only loopback and unix traffic; every loop and
every wait is bounded.  The benchmarks, one module each, and the report
writer are in bench/sdabench/.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True

from sdabench.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
