"""Where a cold ``rrperf generate`` spends its time, phase by phase, in new processes (issue 10).

Each run starts ``rrperf generate SOURCE --out out --json --strategy S`` as a new process
through a small wrapper that times a few functions of the staged generator
(``rrperf.generator.cached._run``, ``_load``, ``_plan``, ``_run_forked``) and
``rrperf.generator.api.generate`` with wall-clock marks relative to the moment this script
started the process, and writes them when the interpreter's exit handlers run; the whole
command is timed from here. Strategies are interleaved, medians printed. The output folder and
the cache are removed before every run (cold). The wrapper imports the timed modules before
the command starts, so "to the run" counts them as the command would.

The point is the unshared part of a forked run: what happens before the workers fork and after
they are done (see README, issue 10, "Why target 3 stops at ~1.43x").

Usage::

    python benchmarks/bench_phases.py --repeats 5 --work /dev/shm [--source synthetic:2000]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WRAPPER = r'''
import functools, importlib, os, sys, time
T0 = int(os.environ["BENCH_T0_NS"]) / 1e9
marks = {}
def wrap(mod, name, key):
    m = importlib.import_module(mod)
    f = getattr(m, name)
    @functools.wraps(f)
    def timed(*a, **kw):
        marks.setdefault(">" + key, time.time() - T0)
        try:
            return f(*a, **kw)
        finally:
            marks["<" + key] = time.time() - T0
    setattr(m, name, timed)
for mod, name, key in [("rrperf.generator.cached", "_run", "run"),
                       ("rrperf.generator.cached", "_load", "load"),
                       ("rrperf.generator.cached", "_plan", "plan"),
                       ("rrperf.generator.cached", "_run_forked", "forked"),
                       ("rrperf.generator.api", "generate", "generate")]:
    wrap(mod, name, key)
import atexit
@atexit.register
def dump():
    marks["exit"] = time.time() - T0
    with open(os.environ["BENCH_MARKS"], "w") as f:
        f.write(repr(marks))
from rrperf.cli import command
sys.argv = ["rrperf", *sys.argv[1:]]
command()
'''

ROOT = Path(__file__).resolve().parents[1]

PHASES = (
    ("to the run", lambda m: m[">run"]),
    ("load", lambda m: m["<load"] - m[">load"]),
    ("analysis", lambda m: m["<plan"] - m[">plan"]),
    ("render+write (forked)", lambda m: m.get("<forked", 0.0) - m.get(">forked", 0.0)),
    ("after the analysis to the run's end", lambda m: m["<run"] - m["<plan"]),
    ("run's end to generate's end", lambda m: m["<generate"] - m["<run"]),
    ("generate's end to exit handlers", lambda m: m["exit"] - m["<generate"]),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="synthetic:2000")
    parser.add_argument("--strategies", default="sequential,parallel")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None, help="folder for outputs and caches")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()
    strategies = [s for s in args.strategies.split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="rrperf-phases-", dir=args.work))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "rrperf")], check=True)
    runs: dict[str, list[dict[str, float]]] = {s: [] for s in strategies}
    try:
        for _ in range(args.repeats):
            for strategy in strategies:
                for name in ("out", ".rrperf"):
                    shutil.rmtree(work / name, ignore_errors=True)
                marks_file = work / "marks.txt"
                # this checkout's rrperf, not the one a development venv's editable install
                # points at
                env = dict(os.environ, BENCH_MARKS=str(marks_file), PYTHONPATH=str(ROOT))
                start_ns = time.time_ns()
                env["BENCH_T0_NS"] = str(start_ns)
                proc = subprocess.run(
                    [sys.executable, "-c", WRAPPER, "generate", args.source, "--out", "out",
                     "--json", "--strategy", strategy],
                    cwd=work, env=env, capture_output=True, text=True, check=False)
                whole = (time.time_ns() - start_ns) / 1e9
                if proc.returncode != 0:
                    raise SystemExit(f"{strategy}: exit {proc.returncode}: {proc.stderr}")
                marks = ast.literal_eval(marks_file.read_text())
                marks["whole"] = whole
                marks["after exit handlers"] = whole - marks["exit"]
                runs[strategy].append(marks)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary: dict[str, dict[str, float]] = {}
    for strategy, rows in runs.items():
        row = {"whole command": statistics.median(r["whole"] for r in rows)}
        for label, phase in PHASES:
            row[label] = statistics.median(phase(r) for r in rows)
        row["after exit handlers"] = statistics.median(r["after exit handlers"] for r in rows)
        summary[strategy] = row
        print(f"{strategy} ({args.source}, medians of {len(rows)} new processes, ms):")
        for label, value in row.items():
            print(f"  {label:38s} {value * 1000:7.1f}")
    if args.out is not None:
        args.out.write_text(json.dumps({"source": args.source, "runs": runs,
                                        "medians": summary}, indent=1))


if __name__ == "__main__":
    main()
