"""Instruction counts (``--metric instructions``) on a noisy machine: spread and the CI gate.

Two CPU-bound neighbour processes switch on and off (busy for 0.7 s then idle 0.7 s, and 1.1 s
/ 1.1 s) for the whole script, as in ``../shared/docs/NOISE.md``. Then:

1. **Spread**: one run counting ``legacy`` and ``pipeline`` (sequential) on ``small``, an
   in-process callable doing N chained sha256 digests and the command ``python work.py N``
   (the same digests in a fresh interpreter, counted whole), ``--iterations`` rounds each;
   the coefficient of variation of each variant's counts (target: at most 0.5 %).
2. **Gate**: the callable with N digests is stored as the baseline ``base`` in a history
   store (``--base-iterations`` rounds); then ``--runs`` runs of the same code and
   ``--runs`` runs doing 3 % more digests (1.03 N), alternated, are each judged against the
   stored baseline by :func:`rrperf.bench.metrics.instruction_gate` at ``--threshold 0.02``
   (what ``rrperf bench --metric instructions --compare base --fail-on-regression`` runs)
   and :func:`~rrperf.bench.metrics.gate_exit_code`. Target: every unchanged run exits 0,
   every 3 %-more-work run exits 1.

Every count comes from Valgrind (cachegrind, ``--cache-sim=no``). Run on demand::

    .venv/bin/python benchmarks/bench_instructions.py --runs 10
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import multiprocessing
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from rrperf.bench.history import HistoryStore
from rrperf.bench.metrics import gate_exit_code, instruction_gate
from rrperf.bench.runner import BenchmarkRunner
from rrperf.bench.systems import Command
from rrperf.config import RrperfConfig

WORK_PY = """import hashlib, sys
h = b"rrperf"
for _ in range(int(sys.argv[1])):
    h = hashlib.sha256(h).digest()
"""


def sha_chain(n: int, source: str, out_dir: Path) -> None:
    """``n`` chained sha256 digests: work proportional to ``n``, exactly."""
    h = b"rrperf"
    for _ in range(n):
        h = hashlib.sha256(h).digest()


def neighbour(period: float) -> None:
    """Busy for ``period`` seconds, idle for ``period`` seconds, until terminated."""
    while True:
        end = time.monotonic() + period
        x = 0
        while time.monotonic() < end:
            x += 1
        time.sleep(period)


def runner(iterations: int, seed: int, **kw: Any) -> BenchmarkRunner:
    return BenchmarkRunner(
        iterations=iterations, warmup=0, seed=seed, progress=False, config=RrperfConfig(),
        metric="instructions", **kw,
    )


def spread(args: argparse.Namespace, work_py: Path) -> list[dict[str, Any]]:
    r = runner(args.iterations, args.seed)
    r.register_system("work", functools.partial(sha_chain, args.n))
    r.register_system("work_cmd", Command(f"{sys.executable} {work_py} {args.n}"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = r.run(
            ["small"], systems=["legacy", "pipeline", "work", "work_cmd"],
            strategies=["sequential"],
        )
    data = result.data
    failed = data[data["error"].notna()]
    if len(failed):
        raise SystemExit(f"failed iterations: {failed['error'].tolist()}")
    rows = []
    for (system, strategy), part in data.groupby(["system", "strategy"], sort=True):
        counts = part["instructions"].to_numpy(dtype=float)
        rows.append({
            "variant": f"{system}/{strategy}" if strategy else str(system),
            "n": len(counts), "median": float(sorted(counts)[len(counts) // 2]),
            "min": float(counts.min()), "max": float(counts.max()),
            "cv_percent": round(float(counts.std(ddof=1) / counts.mean() * 100), 5),
            "wall_s_median": round(float(part["wall_s"].median()), 3),
        })
    return rows


def gate_runs(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    db = folder / "history.sqlite"
    with HistoryStore(db) as store:
        base_runner = runner(args.base_iterations, args.seed, history=store, name="base")
        base_runner.register_system("work", functools.partial(sha_chain, args.n))
        base_runner.run(["small"], systems=["work"])
        baseline = store.load_run("base")
    more = round(args.n * 1.03)
    outcomes: dict[str, list[dict[str, Any]]] = {"unchanged": [], "more_work": []}
    for i in range(args.runs):
        for kind, n in (("unchanged", args.n), ("more_work", more)):
            r = runner(args.iterations_gate, args.seed + 1 + i)
            r.register_system("work", functools.partial(sha_chain, n))
            t0 = time.perf_counter()
            result = r.run(["small"], systems=["work"])
            gate = instruction_gate(result.data, baseline.data, threshold=args.threshold)
            rec = gate.iloc[0]
            outcomes[kind].append({
                "exit": gate_exit_code(gate), "ratio": float(rec["ratio"]),
                "verdict": str(rec["verdict"]), "cv_current": float(rec["cv_current"]),
                "seconds": round(time.perf_counter() - t0, 1),
            })
            print(f"  {kind:9s} run {i + 1}: ratio {rec['ratio']:.5f} {rec['verdict']} "
                  f"exit {outcomes[kind][-1]['exit']}", flush=True)
    return {
        "n": args.n, "n_more": more, "threshold": args.threshold,
        "baseline_cv": float(gate.iloc[0]["cv_baseline"]),
        "unchanged_exit_0": sum(o["exit"] == 0 for o in outcomes["unchanged"]),
        "more_work_exit_1": sum(o["exit"] == 1 for o in outcomes["more_work"]),
        "runs": outcomes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="digests of the workload")
    parser.add_argument("--iterations", type=int, default=4, help="rounds of the spread run")
    parser.add_argument("--base-iterations", type=int, default=3)
    parser.add_argument("--iterations-gate", type=int, default=2, help="rounds per gate run")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threshold", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-neighbours", action="store_true")
    parser.add_argument("--skip-spread", action="store_true")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    procs = []
    if not args.no_neighbours:
        for period in (0.7, 1.1):
            p = multiprocessing.Process(target=neighbour, args=(period,), daemon=True)
            p.start()
            procs.append(p)
    out: dict[str, Any] = {"neighbours": not args.no_neighbours}
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="rrperf-bench-ir-") as tmp:
            folder = Path(tmp)
            work_py = folder / "work.py"
            work_py.write_text(WORK_PY, encoding="utf-8")
            if not args.skip_spread:
                out["spread"] = spread(args, work_py)
                print("spread of the counts (cv per variant):")
                for row in out["spread"]:
                    print(f"  {row['variant']:20s} n={row['n']} median {row['median']:.6g} "
                          f"cv {row['cv_percent']:.5f} %  (min {row['min']:.0f}, "
                          f"max {row['max']:.0f}; {row['wall_s_median']} s per run "
                          "under Valgrind)", flush=True)
            print(f"gate against a stored baseline, threshold {args.threshold:.0%}:", flush=True)
            out["gate"] = gate_runs(args, folder)
    finally:
        for p in procs:
            p.terminate()
            p.join()
    g = out["gate"]
    print(f"unchanged runs that pass (exit 0): {g['unchanged_exit_0']}/{args.runs}; "
          f"3 % more work that fail (exit 1): {g['more_work_exit_1']}/{args.runs}; "
          f"{time.perf_counter() - t0:.0f} s in all")
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
