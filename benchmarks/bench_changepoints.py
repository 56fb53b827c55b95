"""Change points on generated run histories: rrperf against Apache Otava, with and without strays.

Histories are what a shared CI machine produces: 50 to 120 runs, one to three level shifts of
6 to 25 % (up or down, at least 10 runs apart), noise with a coefficient of variation of 1 to
4 % per series, and 1 run in 50 a stray slow run 1.3 to 2x the level (a third of them two in a
row). Everything comes from ``numpy.random.default_rng(seed)``, so the figures reproduce.

A reported change counts when it lies within 2 runs of a true one (each true change matched
at most once); precision = matched / reported, recall = matched / true, F1 their harmonic
mean, all summed over the series. Otava runs ``otava.analysis.compute_change_points`` with
its defaults (window 50, p-value 0.001, no minimum magnitude) on the same per-run values. It
pins ``numpy==2.2.0``, so it lives in its own environment (``pip install -e . apache-otava``
in a fresh venv; ``make bench-changepoints`` does that and runs seeds 1-3). Run on demand::

    make bench-changepoints
    .venv-otava/bin/python benchmarks/bench_changepoints.py --series 120 --seed 1
    .venv/bin/python benchmarks/bench_changepoints.py --no-otava      # rrperf alone
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rrperf.bench.regress import detect_change_points

TOLERANCE = 2


@dataclass(frozen=True)
class History:
    values: np.ndarray
    changes: tuple[int, ...]
    strays: tuple[int, ...]


def make_history(rng: np.random.Generator, *, strays: bool) -> History:
    n = int(rng.integers(50, 121))
    cv = float(rng.uniform(0.01, 0.04))
    k = int(rng.integers(1, 4))
    changes: list[int] = []
    for _ in range(200):  # positions at least 10 runs from each other and from the ends
        if len(changes) == k:
            break
        pos = int(rng.integers(10, n - 9))
        if all(abs(pos - c) >= 10 for c in changes):
            changes.append(pos)
    changes.sort()
    level = np.ones(n)
    current = 1.0
    start = 0
    for pos in [*changes, n]:
        level[start:pos] = current
        step = float(rng.uniform(0.06, 0.25)) * (1 if rng.random() < 0.5 else -1)
        current *= 1.0 + step
        start = pos
    values = level * (1.0 + cv * rng.standard_normal(n))
    stray_at: list[int] = []
    if strays:
        i = 0
        while i < n:
            if rng.random() < 1 / 50:
                length = 2 if rng.random() < 1 / 3 else 1
                for j in range(i, min(n, i + length)):
                    values[j] *= float(rng.uniform(1.3, 2.0))
                    stray_at.append(j)
                i += length
            i += 1
    return History(values, tuple(changes), tuple(stray_at))


def as_table(h: History) -> pd.DataFrame:
    n = len(h.values)
    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    return pd.DataFrame({
        "run_id": [f"r{i:04d}" for i in range(n)],
        "started_at": [t0 + pd.Timedelta(hours=i) for i in range(n)],
        "system": "legacy",
        "wall_s": h.values,
    })


def ours(h: History) -> list[int]:
    return [int(p) for p in detect_change_points(as_table(h))["position"]]


def otava(h: History) -> list[int]:
    from otava.analysis import compute_change_points

    found, _ = compute_change_points(h.values.tolist())
    return [int(cp.index) for cp in found]


def score(found: list[int], truth: tuple[int, ...]) -> tuple[int, int, int]:
    """(matched, reported, true): greedy matching, nearest first, within TOLERANCE."""
    pairs = sorted(
        (abs(f - t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)
        if abs(f - t) <= TOLERANCE
    )
    used_f: set[int] = set()
    used_t: set[int] = set()
    for _, i, j in pairs:
        if i not in used_f and j not in used_t:
            used_f.add(i)
            used_t.add(j)
    return len(used_f), len(found), len(truth)


def evaluate(histories: list[History], method: Any) -> dict[str, float]:
    matched = reported = true = 0
    t0 = time.perf_counter()
    for h in histories:
        m, r, t = score(method(h), h.changes)
        matched, reported, true = matched + m, reported + r, true + t
    precision = matched / reported if reported else 1.0
    recall = matched / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        "reported": reported, "true": true, "matched": matched,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-otava", action="store_true", help="rrperf only")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"series": args.series, "seed": args.seed}
    for label, strays in (("with strays", True), ("without strays", False)):
        rng = np.random.default_rng([args.seed, int(strays)])
        histories = [make_history(rng, strays=strays) for _ in range(args.series)]
        n_strays = sum(len(h.strays) for h in histories)
        row = {"rrperf": evaluate(histories, ours), "stray runs": n_strays}
        if not args.no_otava:
            row["otava"] = evaluate(histories, otava)
        results[label] = row
        print(f"{label} ({args.series} series, {n_strays} stray runs):")
        for method in ("rrperf", "otava"):
            if method in row:
                r = row[method]
                print(f"  {method:7s} precision {r['precision']:.3f}  recall {r['recall']:.3f}  "
                      f"F1 {r['f1']:.3f}  ({r['matched']}/{r['reported']} reported, "
                      f"{r['true']} true, {r['seconds']} s)")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
