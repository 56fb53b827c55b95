"""Where does ``parallel`` start to beat the serial strategies cold, measured and predicted?

For each N of ``--tables`` (synthetic:N), in one process, as ``rrperf analyze`` measures:

* measured: an interleaved cold benchmark of ``parallel`` against the serial strategies
  (``minimal``, ``sequential``) with :class:`rrperf.bench.runner.BenchmarkRunner`; per round
  the ratio parallel / best serial of that round, and its median. Each benchmark makes its
  own execution contexts (closed at its end), so ``parallel``'s process pool is started only
  by a run that starts one: the generator's ``plan_batches(N, workers, pool_started=False)``
  (from ``POOL_START_MIN_TABLES`` tables). Then the warm-up round starts it and the measured
  rounds use it; below, no run starts it and ``parallel`` renders serially, like
  ``sequential``. The measured ratio steps there;
* predicted: the calibrated cost model (:mod:`rrperf.optimize.calibration`, from the history
  store; calibrated first when the store has none for this machine) on a profile of
  synthetic:N in the same steady state (``WorkloadProfile.pool_started=None``, which follows
  the generator's plan), the same ratio; the machine's load it is given is the CPUs other
  processes kept busy during that size's benchmark
  (:class:`rrperf.optimize.profiler.OtherLoad`, as the calibration's observations have it),
  so that the model describes the conditions the runs had. The ratio and crossover with the
  profile's own load (measured during the profile, as ``rrperf analyze`` predicts before it
  measures) are printed beside.

The crossover is where the ratio crosses 1, interpolated on log N and log ratio between the
two sizes around it (None when it does not cross in the range). Target: the predicted
crossover within a factor of 2 of the measured one.

Run::

    .venv/bin/python benchmarks/bench_crossover.py [--tables 200,400,800,1600,3200]
        [--iterations 7] [--history PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

from rrperf.bench.history import HistoryStore
from rrperf.bench.runner import BenchmarkRunner
from rrperf.errors import SchemaWarning, StabilityWarning
from rrperf.optimize.optimizer import PerformanceOptimizer
from rrperf.optimize.profiler import OtherLoad, profile_workload
from rrperf.optimize.workload import WorkloadProfile, predict

SERIAL = ("minimal", "sequential")


def crossover(sizes: list[int], ratios: list[float]) -> float | None:
    """First N where ``ratio`` (parallel / best serial) drops below 1, interpolated."""
    for i in range(len(sizes) - 1):
        (n0, r0), (n1, r1) = (sizes[i], ratios[i]), (sizes[i + 1], ratios[i + 1])
        if r0 >= 1.0 > r1:
            t = math.log(r0) / (math.log(r0) - math.log(r1))
            return math.exp(math.log(n0) + t * (math.log(n1) - math.log(n0)))
    return float(sizes[0]) if ratios and ratios[0] < 1.0 else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="200,400,800,1600,3200")
    parser.add_argument("--iterations", type=int, default=7)
    parser.add_argument("--history", default=None, help="history store (default: a new one)")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.tables.split(",")]
    measured: list[float] = []
    predicted: list[float] = []
    a_priori: list[float] = []

    def ratio(profile: WorkloadProfile) -> tuple[float, dict[str, float]]:
        times = {s: predict(profile, strategies[s], cal) for s in ("parallel", *SERIAL)}
        return times["parallel"] / min(times[s] for s in SERIAL), times

    with tempfile.TemporaryDirectory(prefix="bench-crossover-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        warnings.simplefilter("ignore", SchemaWarning)
        history = HistoryStore(args.history or Path(tmp) / "history.sqlite")
        with history, PerformanceOptimizer(history=history) as opt:
            cal = opt.calibration or opt.calibrate()
            strategies = opt.strategies
            print(f"calibration: {cal.to_dict()}", flush=True)
            for n in sizes:
                scenario = f"synthetic:{n}"
                load = os.getloadavg()[0]
                runner = BenchmarkRunner(iterations=args.iterations, warmup=1, progress=False,
                                         seed=0)
                with OtherLoad() as other:
                    bench = runner.run_comparative_benchmark(
                        [scenario], systems=("pipeline",), strategies=["parallel", *SERIAL],
                        cache_states=("cold",),
                    )
                data = bench.data[~bench.data["warmup"].astype(bool)]
                walls = data.pivot_table(index="iteration", columns="strategy", values="wall_s")
                per_round = walls["parallel"] / walls[list(SERIAL)].min(axis=1)
                measured.append(float(statistics.median(per_round)))
                profile = profile_workload(scenario, cache_warm=False)
                a_priori.append(ratio(profile)[0])
                during = profile.load_avg if other.load_avg is None else other.load_avg
                got, times = ratio(dataclasses.replace(profile, load_avg=during))
                predicted.append(got)
                meds = walls.median()
                print(f"{scenario:>16}: load {load:.2f}, others' CPUs in the runs "
                      f"{during - 1:.2f}, in the profile {profile.load_avg - 1:.2f}; parallel / "
                      f"best serial: measured {measured[-1]:.3f}, predicted {predicted[-1]:.3f} "
                      f"(with the profile's load: {a_priori[-1]:.3f}); medians (ms) "
                      + ", ".join(f"{s} {meds[s] * 1e3:.1f} / {times[s] * 1e3:.1f}"
                                  for s in ("parallel", *SERIAL))
                      + " (measured / predicted)", flush=True)
    m, p = crossover(sizes, measured), crossover(sizes, predicted)
    q = crossover(sizes, a_priori)
    print()
    print(f"crossover measured:  {'none in range' if m is None else f'{m:.0f} tables'}")
    print(f"crossover predicted: {'none in range' if p is None else f'{p:.0f} tables'} "
          f"(with the profile's load: {'none in range' if q is None else f'{q:.0f} tables'})")
    if m is not None and p is not None:
        factor = max(m, p) / min(m, p)
        print(f"factor {factor:.2f} (target <= 2): {'met' if factor <= 2 else 'missed'}")
    else:
        print("target: " + ("met (neither crosses in range)" if m is p else "missed"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
