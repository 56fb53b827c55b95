"""Legacy vs staged pipeline, cold output folder (issue 2; run on demand, never collected).

For each scenario the two implementations run interleaved (the order alternates every
repetition), each iteration into an empty output folder (removed outside the timed region),
through :func:`rrperf.generator.api.generate` (loading the schema included). Reported per
scenario and implementation: the median wall time; per scenario the ratio pipeline / legacy;
per implementation the growth ratio time(synthetic:2000) / time(synthetic:200) (linear cost:
<= 12). Then, in a fresh subprocess per implementation, ``synthetic:10000`` is generated once
and its peak RSS read with ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (target < 1 GB).

Targets: ``pipeline`` (no strategy: ``minimal``, no cache) no slower than ``legacy``; growth <= 12
for both; peak RSS at 10,000 tables under 1 GB.

Usage::

    python benchmarks/bench_generate.py --out bench-generate.json [--repeats 5]
        [--scenarios large,coursemology,synthetic:200,synthetic:2000] [--no-10k]

Scenarios are resolved as every rrperf command resolves them
(:func:`rrperf.schema.scenarios.resolve_scenario`): ``coursemology`` is the Coursemology schema
shipped in the package.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from rrperf.errors import SchemaWarning
from rrperf.generator.api import generate
from rrperf.schema.scenarios import resolve_scenario

IMPLS = ("legacy", "pipeline")
DEFAULT_SCENARIOS = ("large", "coursemology", "synthetic:200", "synthetic:2000")
TARGET_GROWTH = 12.0
TARGET_RSS_MB = 1024.0


def resolve(scenario: str) -> str:
    return resolve_scenario(scenario).source


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def write_result(
    path: Path,
    benchmark: str,
    *,
    started: float,
    repeats: int,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
    **figures: Any,
) -> None:
    """Write a benchmark's figures as JSON, with the machine and load they were taken under."""
    doc = {
        "benchmark": benchmark,
        "started_at_epoch_s": started,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "repeats": repeats,
        "load_avg_before": load_before,
        "load_avg_after": load_after,
        **figures,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))


def time_once(source: str, impl: str, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        result = generate(source, out, impl=impl)
    return result.wall_s


def bench_scenarios(scenarios: list[str], repeats: int, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for scenario in scenarios:
        source = resolve(scenario)
        walls: dict[str, list[float]] = {impl: [] for impl in IMPLS}
        for impl in IMPLS:  # warm-up: imports, template compilation, page cache
            time_once(source, impl, work / impl)
        for i in range(repeats):
            order = IMPLS if i % 2 == 0 else IMPLS[::-1]
            for impl in order:
                walls[impl].append(time_once(source, impl, work / impl))
        med = {impl: statistics.median(w) for impl, w in walls.items()}
        out[scenario] = {
            "walls_s": walls,
            "median_s": med,
            "ratio_pipeline_over_legacy": med["pipeline"] / med["legacy"],
            "load_avg_1m": load_average()[0],
        }
        sys.stderr.write(
            f"{scenario}: legacy {med['legacy']:.3f} s, pipeline {med['pipeline']:.3f} s\n"
        )
    return out


_RSS_CHILD = """
import json, resource, sys, time, warnings
from rrperf.errors import SchemaWarning
from rrperf.generator.api import generate
from rrperf.schema.scenarios import resolve_scenario
warnings.simplefilter("ignore", SchemaWarning)
t0 = time.perf_counter()
result = generate(sys.argv[1], sys.argv[2], impl=sys.argv[3])
wall = time.perf_counter() - t0
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_rss_mb": rss_kb / 1024, "wall_s": wall, "files": result.files_total}))
"""


def bench_rss(source: str, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for impl in IMPLS:
        folder = work / f"rss-{impl}"
        shutil.rmtree(folder, ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, "-c", _RSS_CHILD, source, str(folder), impl],
            capture_output=True, text=True, check=True,
        )
        out[impl] = json.loads(proc.stdout.strip().splitlines()[-1])
        out[impl]["load_avg_1m"] = load_average()[0]
        shutil.rmtree(folder, ignore_errors=True)
        sys.stderr.write(f"{source} {impl}: {out[impl]}\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS))
    parser.add_argument("--no-10k", action="store_true", help="skip the synthetic:10000 RSS run")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    args = parser.parse_args(argv)

    started = time.time()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-generate-", dir=args.work) as tmp:
        work = Path(tmp)
        scenarios = bench_scenarios(args.scenarios.split(","), args.repeats, work)
        rss = None if args.no_10k else bench_rss("synthetic:10000", work)
    growth = None
    if "synthetic:200" in scenarios and "synthetic:2000" in scenarios:
        growth = {
            impl: scenarios["synthetic:2000"]["median_s"][impl]
            / scenarios["synthetic:200"]["median_s"][impl]
            for impl in IMPLS
        }

    w = sys.stdout.write
    w(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}\n")
    w(f"{'scenario':<18} {'legacy s':>10} {'pipeline s':>11} {'pipe/legacy':>12}  target <= 1\n")
    for name, row in scenarios.items():
        med = row["median_s"]
        ratio = row["ratio_pipeline_over_legacy"]
        w(f"{name:<18} {med['legacy']:>10.3f} {med['pipeline']:>11.3f} {ratio:>12.2f}  "
          f"{'yes' if ratio <= 1.0 else 'NO'}\n")
    if growth is not None:
        for impl, g in growth.items():
            w(f"growth 2000/200 {impl:<9} {g:>6.2f}  (<= {TARGET_GROWTH:g}: "
              f"{'yes' if g <= TARGET_GROWTH else 'NO'})\n")
    if rss is not None:
        for impl, r in rss.items():
            w(f"synthetic:10000 {impl:<9} peak RSS {r['peak_rss_mb']:.0f} MB, "
              f"{r['wall_s']:.1f} s (< {TARGET_RSS_MB:g} MB: "
              f"{'yes' if r['peak_rss_mb'] < TARGET_RSS_MB else 'NO'})\n")
    load_after = load_average()
    w(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}\n")
    write_result(
        args.out, "bench_generate", started=started, repeats=args.repeats,
        load_before=load_before, load_after=load_after,
        scenarios=scenarios, growth_2000_over_200=growth, synthetic_10000=rss,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
