"""Does ``rrperf analyze``'s advice hold from run to run, and how far off are its predictions?

Runs the whole command ``rrperf analyze SCENARIO --all-strategies --cache both --iterations N
--format json`` REPEATS times per scenario (repeats outer, scenarios inner, so that the
machine's drift spreads over all of them), every run with the same history store (a fresh
temporary one unless ``--history``), so the first run calibrates the cost model on this
machine and later runs use (and refresh) that calibration. Prints, per scenario and cache
state:

* the recommendation of every run, how often the most common one came (target: >= 4 of 5)
  and whether every recommendation was right (the measured best, or its paired 95 % interval
  against the best at or below 1.05: the analysis' ``within_5pct``);
* the same for the model's own pick before the benchmark (``model_pick``);
* the median absolute prediction error over every strategy (target: <= 20 % over all
  strategies, both cache states and the scenarios together).

The load average (1 minute) before each run is printed: other processes change the figures.

Run::

    .venv/bin/python benchmarks/bench_advice.py [--repeats 5] [--iterations 30]
        [--scenarios small,large,coursemology,synthetic:2000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

SCENARIOS = ("small", "large", "coursemology", "synthetic:2000")


def _analyze(scenario: str, iterations: int, history: Path) -> dict[str, Any]:
    rrperf = Path(sys.executable).with_name("rrperf")
    cmd = [str(rrperf), "analyze", scenario, "--all-strategies", "--cache", "both",
           "--iterations", str(iterations), "--format", "json", "--history", str(history)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.strip().splitlines()[-1:]}")
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--history", default=None, help="history store (default: a new one)")
    parser.add_argument("--json", default=None, help="also write every run to this JSON file")
    args = parser.parse_args(argv)
    scenarios = args.scenarios.split(",")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-advice-") as tmp:
        history = Path(args.history) if args.history else Path(tmp) / "history.sqlite"
        for repeat in range(args.repeats):
            for scenario in scenarios:
                load = os.getloadavg()[0]
                start = time.perf_counter()
                data = _analyze(scenario, args.iterations, history)
                wall = time.perf_counter() - start
                errors = [abs(p["error"]) for p in data["predictions"] if p["error"] is not None]
                runs.append({"repeat": repeat, "scenario": scenario, "load": load,
                             "wall_s": wall, "rows": data["rows"], "errors": errors,
                             "recalibrated": data["recalibrated"]})
                picks = ", ".join(f"{r['cache_state']} {r['recommended']}"
                                  f"{'' if r['within_5pct'] else ' (WRONG)'}"
                                  for r in data["rows"])
                print(f"run {repeat + 1} {scenario}: load {load:.2f}, {wall:.0f} s, {picks}, "
                      f"median |error| {statistics.median(errors):.1%}"
                      f"{', recalibrated' if data['recalibrated'] else ''}", flush=True)
    print()
    print("scenario        state  recommendations (runs)             same  right  "
          "model picks                        same  right  median |error|")
    targets = []
    for scenario in scenarios:
        mine = [r for r in runs if r["scenario"] == scenario]
        errors = [e for r in mine for e in r["errors"]]
        for state in ("cold", "warm"):
            rows = [row for r in mine for row in r["rows"] if row["cache_state"] == state]
            recs = Counter(row["recommended"] for row in rows)
            models = Counter(row["model_pick"] for row in rows)
            same = recs.most_common(1)[0][1]
            right = sum(bool(row["within_5pct"]) for row in rows)
            model_same = models.most_common(1)[0][1]
            model_right = sum(bool(row["model_within_5pct"]) for row in rows)
            targets.append(same >= min(4, len(rows)) and right == len(rows))
            print(f"{scenario:<15} {state:<6} {dict(recs)!s:<34} {same}/{len(rows)}  "
                  f"{right}/{len(rows)}    {dict(models)!s:<34} {model_same}/{len(rows)}  "
                  f"{model_right}/{len(rows)}    {statistics.median(errors):.1%}")
    all_errors = [e for r in runs for e in r["errors"]]
    print()
    print(f"median |prediction error| over all strategies, states and scenarios: "
          f"{statistics.median(all_errors):.1%} ({len(all_errors)} predictions; target <= 20 %)")
    print(f"advice target (same >= 4 of 5 and all right) met in {sum(targets)} of "
          f"{len(targets)} scenario/state groups")
    print(f"load average before the runs: median {statistics.median(r['load'] for r in runs):.2f}"
          f", max {max(r['load'] for r in runs):.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
