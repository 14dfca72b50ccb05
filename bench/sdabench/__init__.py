# SPDX-License-Identifier: MIT
"""sdadopt's benchmarks, one module per benchmark: datapath, hookcost, adopt,
startup (with startwall, its wall-clock method), restart, memory and
seccomp (the launcher's seccomp mode); what
they share (common); the report writer (report); and the driver (main) that
bench/run.py calls.

Every benchmark module has NAME, measure(P, ctx) -> a JSON-able dict,
targets(R) -> [dict(what, measured, ok, why)] and section(R, a, num), which
appends its part of performance.md line by line with a().  The driver runs
them in main.BENCHES order; the report shows them in report.SECTIONS order."""
