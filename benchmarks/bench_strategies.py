"""Strategies measured side by side (issue 3; run on demand, never collected by pytest).

(a) Warm repeat on the Coursemology schema: ``cache_heavy`` (its context, caches and output
    folder kept between iterations) vs ``legacy`` (which rewrites everything each time).
    Two unmeasured ``cache_heavy`` runs come first: the cold one fills the caches, the next
    one verifies the files the cold run wrote (their mtimes are too recent for the manifest
    to trust). Target: cache_heavy at least 10x faster.
(b) Cold ``parallel`` vs cold ``sequential`` on ``synthetic:2000``: before every iteration
    both contexts' caches are cleared (``ctx.clear()``), the output folders removed, the file
    system synced (``os.sync``) and the garbage collected, outside the timed region; the
    process pool stays up (one unmeasured warm-up iteration starts it).
    Target: parallel at least 1.6x faster (the bound on two cores is 2x).
(c) Optional (``--engine``): the cache hit latencies and the monitor overhead of
    ``benchmarks/bench_engine.py``, in the same run.

Variants are interleaved (the order alternates every repetition); medians are reported with
the load average at the time.

Usage::

    python benchmarks/bench_strategies.py --out bench-strategies.json [--repeats 7] [--engine]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from rrperf.engine.strategies import get_strategy
from rrperf.errors import SchemaWarning
from rrperf.generator.api import generate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_generate import load_average, resolve, write_result  # noqa: E402

TARGET_WARM = 10.0
TARGET_PARALLEL = 1.6


def _quiet() -> warnings.catch_warnings[Any]:
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore", SchemaWarning)
    return ctx


def bench_warm(source: str, repeats: int, work: Path) -> dict[str, Any]:
    legacy_out = work / "legacy"
    heavy_out = work / "cache_heavy"
    walls: dict[str, list[float]] = {"legacy": [], "cache_heavy": []}
    written: list[int] = []
    hits: list[int] = []
    with get_strategy("cache_heavy").make_context(cache_dir=work / "cache-heavy") as ctx:
        generate(source, legacy_out, impl="legacy")
        for _ in range(2):
            generate(source, heavy_out, context=ctx)
        for i in range(repeats):
            order = ("legacy", "cache_heavy") if i % 2 == 0 else ("cache_heavy", "legacy")
            for variant in order:
                if variant == "legacy":
                    walls["legacy"].append(generate(source, legacy_out, impl="legacy").wall_s)
                else:
                    res = generate(source, heavy_out, context=ctx)
                    walls["cache_heavy"].append(res.wall_s)
                    written.append(res.files_written)
                    hits.append(res.cache_hits)
    med = {k: statistics.median(v) for k, v in walls.items()}
    return {
        "source": source,
        "walls_s": walls,
        "median_s": med,
        "speedup": med["legacy"] / med["cache_heavy"],
        "cache_heavy_files_written": written,
        "cache_heavy_cache_hits": hits,
        "load_avg_1m": load_average()[0],
    }


def bench_cold_parallel(source: str, repeats: int, work: Path) -> dict[str, Any]:
    names = ("sequential", "parallel")
    contexts = {n: get_strategy(n).make_context(cache_dir=work / f"cache-{n}") for n in names}
    walls: dict[str, list[float]] = {n: [] for n in names}
    try:
        def cold(name: str) -> float:
            # Both contexts are emptied (not only the one about to run), so that neither run
            # carries the other's cached analysis and renders in its heap; then a full
            # collection, as timeit and pyperf leave no garbage to the timed region.
            for other, octx in contexts.items():
                octx.clear()
                shutil.rmtree(work / f"out-{other}", ignore_errors=True)
            # the deletions (and the last run's writes) reach the disk before the clock starts
            os.sync()
            gc.collect()
            ctx = contexts[name]
            out = work / f"out-{name}"
            res = generate(source, out, context=ctx)
            assert res.files_written == res.files_total and res.cache_hits == 0
            return res.wall_s

        for name in names:  # warm-up: imports, template compilation, the process pool
            cold(name)
        for i in range(repeats):
            for name in names if i % 2 == 0 else names[::-1]:
                walls[name].append(cold(name))
    finally:
        for ctx in contexts.values():
            ctx.close()
    med = {k: statistics.median(v) for k, v in walls.items()}
    return {
        "source": source,
        "workers": get_strategy("parallel").resolved_workers(),
        "walls_s": walls,
        "median_s": med,
        "speedup": med["sequential"] / med["parallel"],
        "load_avg_1m": load_average()[0],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warm-source", default="coursemology")
    parser.add_argument("--cold-source", default="synthetic:2000")
    parser.add_argument("--engine", action="store_true", help="also run bench_engine's measures")
    parser.add_argument("--only", choices=("warm", "cold"), default=None)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args(argv)

    quiet = _quiet()
    started = time.time()
    load_before = load_average()
    warm = cold = engine = None
    with tempfile.TemporaryDirectory(prefix="bench-strategies-", dir=args.work) as tmp:
        work = Path(tmp)
        if args.only in (None, "warm"):
            warm = bench_warm(resolve(args.warm_source), args.repeats, work)
        if args.only in (None, "cold"):
            cold = bench_cold_parallel(resolve(args.cold_source), args.repeats, work)
    if args.engine:
        import bench_engine

        engine = {"cache": bench_engine.bench_cache(20_000),
                  "monitor": bench_engine.bench_monitor(args.repeats)}
    load_after = load_average()
    quiet.__exit__(None, None, None)

    w = sys.stdout.write
    w(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}\n")
    w(f"{'measure':<44} {'median':>22} {'ratio':>8} {'target':>8}  met\n")
    if warm is not None:
        m = warm["median_s"]
        w(f"{'warm repeat, coursemology: legacy / cache_heavy':<44} "
          f"{m['legacy']:>9.4f} / {m['cache_heavy']:.4f} s {warm['speedup']:>7.1f}x "
          f"{'>= 10x':>8}  {'yes' if warm['speedup'] >= TARGET_WARM else 'NO'}\n")
    if cold is not None:
        m = cold["median_s"]
        w(f"{'cold synthetic:2000: sequential / parallel':<44} "
          f"{m['sequential']:>9.3f} / {m['parallel']:.3f} s {cold['speedup']:>7.2f}x "
          f"{'>= 1.6x':>8}  {'yes' if cold['speedup'] >= TARGET_PARALLEL else 'NO'}\n")
    if engine is not None:
        c, mon = engine["cache"], engine["monitor"]
        w(f"{'memory-tier hit (precomputed key)':<44} {c['memory_hit_median_us']:>20.2f} us "
          f"{'':>8} {'<= 2 us':>8}  {'yes' if c['memory_hit_median_us'] <= 2 else 'NO'}\n")
        w(f"{'disk-tier hit (precomputed key)':<44} {c['disk_hit_median_us']:>20.2f} us "
          f"{'':>8} {'<= 30 us':>8}  {'yes' if c['disk_hit_median_us'] <= 30 else 'NO'}\n")
        ov = 100 * mon["monitor_cpu_fraction_median"]
        w(f"{'monitor at 10 Hz: own CPU / 2 s run':<44} {ov:>20.2f} %  "
          f"{'':>8} {'<= 2 %':>8}  {'yes' if ov <= 2 else 'NO'}\n")
        ab = 100 * mon["overhead_median_ratio"]
        w(f"{'monitor at 10 Hz: wall A/B (noisy, no verdict)':<44} {ab:>20.2f} %\n")
    w(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}\n")
    write_result(
        args.out, "bench_strategies", started=started, repeats=args.repeats,
        load_before=load_before, load_after=load_after,
        warm_cache_heavy_vs_legacy=warm, cold_parallel_vs_sequential=cold, engine=engine,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
