"""Is the optimizer's recommendation the measured best strategy (or within 5% of it)?

For every built-in scenario and both cache states, profile the workload, recommend a strategy,
benchmark the strategies with :class:`rrperf.bench.runner.BenchmarkRunner` (all five by
default, so the measured best is the true best of the registry) and print, per scenario and
cache state: the recommendation, its predicted and measured median time, the measured best
and the ratio recommended/best: of the medians, and paired by round (per round, the
recommendation's time over each other strategy's in the same round; the median of those, for
the strongest competitor). The target is a ratio <= 1.05 everywhere; the verdict uses the
paired ratio, which cancels the machine's drift between rounds (see rrperf.bench.regress).

Run::

    .venv/bin/python benchmarks/bench_optimizer.py [--iterations 7] [--top3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings

from rrperf.errors import SchemaWarning, StabilityWarning
from rrperf.optimize.optimizer import PerformanceOptimizer

SCENARIOS = ("small", "medium", "large", "polymorphic_heavy")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--top3", action="store_true", help="benchmark the top three only")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = []
    start = time.perf_counter()
    with PerformanceOptimizer() as optimizer, warnings.catch_warnings():
        # short runs on a shared machine are noisy; the ratios are what this script reports
        warnings.simplefilter("ignore", StabilityWarning)
        # large has an inet column (typed unknown): the warning repeats on every iteration
        warnings.simplefilter("ignore", SchemaWarning)
        for scenario in args.scenarios.split(","):
            result = optimizer.run_comprehensive_analysis(
                not args.top3,
                scenario=scenario,
                cache_states=("cold", "warm"),
                iterations=args.iterations,
                warmup=args.warmup,
            )
            summary = result.benchmark.summary()
            for row in result.rows:
                part = summary[summary["cache_state"] == row["cache_state"]]
                medians = {
                    str(s): round(float(m) * 1e3, 2)
                    for s, m in zip(part["strategy"], part["median"], strict=True)
                }
                rows.append({**row, "medians_ms": medians})
                print(
                    f"{scenario:18} {row['cache_state']:5} rec={row['recommended']:12} "
                    f"pred={row['predicted_s'] * 1e3:8.2f} ms "
                    f"med={row['recommended_median_s'] * 1e3:8.2f} ms  "
                    f"best={row['measured_best']:12} {row['best_median_s'] * 1e3:8.2f} ms  "
                    f"ratio={row['ratio']:.3f} paired={row['paired_ratio']:.3f} "
                    f"{'OK' if row['within_5pct'] else 'MISS'} "
                    f"model={row['model_pick']}  "
                    f"{medians}",
                    flush=True,
                )
    hits = sum(1 for r in rows if r["within_5pct"])
    print(
        f"\n{hits}/{len(rows)} within 5% of the measured best "
        f"({time.perf_counter() - start:.1f} s, {args.iterations} iterations)"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=2, default=str)
    return 0 if hits == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
