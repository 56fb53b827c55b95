"""A/A benchmark: the staged pipeline against itself on one scenario.

Both variants are the same implementation registered under two names, measured interleaved in
one run. A trustworthy comparison says ``equivalent`` (or at worst ``inconclusive``), never
``faster``/``slower``. Run on demand::

    .venv/bin/python benchmarks/bench_aa.py --scenario large --iterations 20
"""

from __future__ import annotations

import argparse
import json
import warnings

from rrperf.bench.runner import BenchmarkRunner
from rrperf.bench.systems import GeneratorSystem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="large")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--strategy", default="sequential")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=None, help="write the comparison as JSON here")
    args = parser.parse_args()

    runner = BenchmarkRunner(iterations=args.iterations, warmup=args.warmup, seed=args.seed,
                             progress=False)
    runner.register_system("pipeline_a", GeneratorSystem("pipeline", name="pipeline_a"))
    runner.register_system("pipeline_b", GeneratorSystem("pipeline", name="pipeline_b"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # schema warnings repeat per iteration; not the point
        result = runner.run(
            [args.scenario], systems=("pipeline_a", "pipeline_b"),
            strategies=(args.strategy,), cache_states=("cold",),
        )
    summary = result.summary()
    comparison = result.compare(baseline="pipeline_a")
    cols = ["scenario", "system", "strategy", "n", "median", "ci_low", "ci_high", "cv"]
    print(summary[cols].to_string(index=False))
    cols = ["scenario", "system", "baseline", "ratio", "ratio_ci_low", "ratio_ci_high",
            "p_value", "test", "verdict"]
    print(comparison[cols].to_string(index=False))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(json.loads(comparison[cols].to_json(orient="records")), fh, indent=2)


if __name__ == "__main__":
    main()
