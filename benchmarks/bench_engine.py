"""Engine micro-benchmarks (run on demand; never collected by pytest).

(a) Cache hit latency: median of many timed hits (``time.perf_counter_ns``) on the memory tier
    (target <= 2 us) and on the disk tier with the memory tier off (target <= 30 us), both for
    a precomputed key (``get_or_compute_key``: the tier lookup) and end to end
    (``get_or_compute``: key hashing included).
(b) Monitor overhead at 10 Hz on a ~2 s pure-Python CPU workload (target <= 2 % added), two
    ways: directly, the CPU time the monitor itself used in each session (its sampler
    thread and its start/end work, ``SessionSummary.monitor_cpu_s``) over the session's
    duration: an upper bound on what it can add, immune to the machine's drift; and end to
    end, the workload's wall time with and without a session, interleaved pairs, median of
    the paired ratios (on this shared machine a pair's ratio swings by +-20 %, so this one
    is reported with its spread; the verdict uses the direct measure).

Usage::

    python benchmarks/bench_engine.py --out bench-engine.json [--hits 20000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rrperf.engine.cache import CacheConfig, CacheOptimizer, cache_key
from rrperf.engine.monitor import MonitorConfig, PerformanceMonitor

CATEGORY = "type_mapping"
VALUE = {"ts_type": "string", "nullable": False, "default": None}
TARGET_MEMORY_US = 2.0
TARGET_DISK_US = 30.0
TARGET_OVERHEAD = 0.02


def _median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000


def _time_hits(n: int, call: Any) -> list[int]:
    ns = time.perf_counter_ns
    out = []
    for _ in range(n):
        t0 = ns()
        call()
        out.append(ns() - t0)
    return out


def bench_cache(n_hits: int, n_keys: int = 100) -> dict[str, float]:
    """Median hit latencies in microseconds."""
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for tier, memory_size in (("memory", 4096), ("disk", 0)):
            config = CacheConfig(directory=Path(tmp) / tier, memory_size={CATEGORY: memory_size})
            with CacheOptimizer(config) as cache:
                keys = [cache_key(CATEGORY, f"col{i}", {"limit": i}) for i in range(n_keys)]
                for i, key in enumerate(keys):  # fill
                    cache.get_or_compute_key(CATEGORY, key, lambda i=i: {**VALUE, "i": i})
                for key in keys * 5:  # warm up (sqlite page cache, code paths)
                    cache.get_or_compute_key(CATEGORY, key, _never)
                per_key = max(1, n_hits // n_keys)
                lookups: list[int] = []
                full: list[int] = []
                for i, key in enumerate(keys):
                    lookups += _time_hits(
                        per_key, lambda key=key: cache.get_or_compute_key(CATEGORY, key, _never)
                    )
                    parts = (f"col{i}", {"limit": i})
                    full += _time_hits(
                        per_key // 4 or 1,
                        lambda parts=parts: cache.get_or_compute(CATEGORY, parts, _never),
                    )
                stats = cache.stats().get(CATEGORY, tier)
                assert stats.hits >= len(lookups), "every timed call must be a hit"
                results[f"{tier}_hit_median_us"] = _median_us(lookups)
                results[f"{tier}_hit_p90_us"] = statistics.quantiles(lookups, n=10)[-1] / 1000
                results[f"{tier}_hit_with_key_hashing_median_us"] = _median_us(full)
    return results


def _never() -> Any:
    raise AssertionError("compute called on what should be a hit")


def _workload(n: int) -> int:
    total = 0
    for i in range(n):
        total += (i * i) % 7
    return total


def _calibrate(target_s: float = 2.0) -> int:
    n = 200_000
    while True:
        t0 = time.perf_counter()
        _workload(n)
        dt = time.perf_counter() - t0
        if dt > 0.2:
            return int(n * target_s / dt)
        n *= 2


def bench_monitor(repeats: int) -> dict[str, Any]:
    """Median ratio of the workload's wall time with the 10 Hz sampler to without it."""
    n = _calibrate()
    monitor = PerformanceMonitor(MonitorConfig(interval_s=0.1))
    plain: list[float] = []
    sampled: list[float] = []
    own: list[float] = []
    samples = 0
    for i in range(repeats):
        # alternate which variant goes first, so drift affects both equally
        for variant in ("plain", "sampled") if i % 2 == 0 else ("sampled", "plain"):
            if variant == "plain":
                t0 = time.perf_counter()
                _workload(n)
                plain.append(time.perf_counter() - t0)
            else:
                monitor.start_monitoring_session(f"overhead-{i}")
                t0 = time.perf_counter()
                _workload(n)
                sampled.append(time.perf_counter() - t0)
                summary = monitor.end_monitoring_session()
                samples += summary.n_samples
                own.append(summary.monitor_cpu_s / summary.duration_s)
    ratios = [s / p for s, p in zip(sampled, plain, strict=True)]
    # The cost of one sample, timed directly: a noise-free bound on the sampler's own work
    # (children listed at every sample, as the worst case).
    probe = PerformanceMonitor(MonitorConfig(background=False, children_refresh_s=1e-9))
    probe.start_monitoring_session("probe")
    cost = _time_hits(200, probe.sample_once)
    probe.end_monitoring_session()
    sample_us = statistics.median(cost) / 1000
    return {
        "sample_cost_median_us": sample_us,
        "sample_cost_implied_overhead": sample_us * 1e-6 * 10,
        "workload_median_s": statistics.median(plain),
        "sampled_median_s": statistics.median(sampled),
        "overhead_median_ratio": statistics.median(ratios) - 1,
        "overhead_ratios": [r - 1 for r in ratios],
        "monitor_cpu_fraction_median": statistics.median(own),
        "monitor_cpu_fractions": own,
        "samples_per_session": samples / repeats,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--hits", type=int, default=20_000, help="timed hits per tier")
    parser.add_argument("--repeats", type=int, default=7, help="monitor-overhead repetitions")
    args = parser.parse_args(argv)

    cache = bench_cache(args.hits)
    monitor = bench_monitor(args.repeats)
    rows = [
        (
            "memory hit (precomputed key)",
            f"{cache['memory_hit_median_us']:.2f} us",
            f"<= {TARGET_MEMORY_US} us",
            cache["memory_hit_median_us"] <= TARGET_MEMORY_US,
        ),
        (
            "memory hit (with key hashing)",
            f"{cache['memory_hit_with_key_hashing_median_us']:.2f} us",
            "",
            None,
        ),
        (
            "disk hit (precomputed key)",
            f"{cache['disk_hit_median_us']:.2f} us",
            f"<= {TARGET_DISK_US} us",
            cache["disk_hit_median_us"] <= TARGET_DISK_US,
        ),
        (
            "disk hit (with key hashing)",
            f"{cache['disk_hit_with_key_hashing_median_us']:.2f} us",
            "",
            None,
        ),
        (
            "one sample (implied at 10 Hz)",
            f"{100 * monitor['sample_cost_implied_overhead']:+.2f} %",
            "",
            None,
        ),
        (
            "monitor overhead, own CPU / run (10 Hz)",
            f"{100 * monitor['monitor_cpu_fraction_median']:+.2f} %",
            f"<= {100 * TARGET_OVERHEAD:.0f} %",
            monitor["monitor_cpu_fraction_median"] <= TARGET_OVERHEAD,
        ),
        (
            "monitor overhead, wall A/B (10 Hz)",
            f"{100 * monitor['overhead_median_ratio']:+.2f} %",
            f"[{100 * min(monitor['overhead_ratios']):+.0f}, "
            f"{100 * max(monitor['overhead_ratios']):+.0f}] %",
            None,
        ),
    ]
    width = max(len(r[0]) for r in rows)
    out = sys.stdout
    out.write(f"{'measure':<{width}}  {'median':>12}  {'target/range':>12}  met\n")
    for name, value, target, met in rows:
        flag = "" if met is None else ("yes" if met else "NO")
        out.write(f"{name:<{width}}  {value:>12}  {target:>12}  {flag}\n")
    doc = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cache": cache,
        "monitor": monitor,
        "targets": {
            "memory_hit_us": TARGET_MEMORY_US,
            "disk_hit_us": TARGET_DISK_US,
            "monitor_overhead": TARGET_OVERHEAD,
        },
    }
    args.out.write_text(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
