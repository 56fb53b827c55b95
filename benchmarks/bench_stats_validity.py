"""Monte Carlo validity figures for rrperf.bench.stats and rrperf.bench.regress.

Draws seeded samples from known distributions and measures, through the public functions:

* coverage of every interval method for the mean (t, percentile, BCa, studentized) and the
  median (percentile, BCa), normal and log-normal (sigma 0.25) data, n = 10 and 30 (2000
  bootstrap resamples per interval);
* ``compare``: A/A claim rates (per comparison and per call of 4 comparisons) at the default
  threshold and at threshold 0 with and without the BH correction, coverage of the ratio
  interval, power for a 5% slowdown at 2% CV with 20 iterations a side (independent data and
  interleaved data with round-to-round drift);
* ``compare`` on interleaved runs from a drifting, bursty machine (random walk in log speed
  shared by the round, round and single-iteration bursts): A/A claim rates at 5, 10 and 20
  rounds and power for a 5% slowdown, for each paired test;
* ``detect_regressions``: A/A false alarms and power for a 10% slowdown;
* ``detect_change_points``: a 10% step in 60-point histories located within two points, and
  false alarms on histories without a step.

Usage::

    .venv/bin/python benchmarks/bench_stats_validity.py [--scale 1.0] [--out figures.json]
        [--only-paired]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from rrperf.bench.regress import compare, detect_change_points, detect_regressions
from rrperf.bench.stats import center_intervals

SEED = 20261126
SIGMA_LOG = 0.25


def _draw(
    rng: np.random.Generator, dist: str, trials: int, n: int
) -> tuple[np.ndarray, float, float]:
    """Samples, true mean, true median."""
    if dist == "normal":
        return rng.normal(1.0, 0.05, size=(trials, n)), 1.0, 1.0
    return rng.lognormal(0.0, SIGMA_LOG, size=(trials, n)), float(np.exp(SIGMA_LOG**2 / 2)), 1.0


def coverage(trials: int) -> list[dict[str, Any]]:
    out = []
    for dist in ("normal", "lognormal"):
        for n in (10, 30):
            rng = np.random.default_rng([SEED, n, dist == "normal"])
            x, mean, median = _draw(rng, dist, trials, n)
            cells = [("mean", m) for m in ("t", "percentile", "bca", "studentized")]
            cells += [("median", m) for m in ("percentile", "bca")]
            for center, method in cells:
                truth = mean if center == "mean" else median
                lo, hi = center_intervals(
                    x, center=center, method=method, n_resamples=2000, seed=SEED
                )
                rate = float(np.mean((lo <= truth) & (truth <= hi)))
                out.append({
                    "check": f"coverage of the {center}", "method": method, "dist": dist,
                    "n": n, "trials": trials, "rate": rate, "target": "0.93-0.97",
                })
    return out


def _variants(rng: np.random.Generator, n: int, cv: float, factors: list[float],
              drift: float = 0.0) -> pd.DataFrame:
    k = len(factors)
    rounds = rng.normal(1.0, drift, size=(n, 1)) if drift else np.ones((n, 1))
    values = rng.normal(1.0, cv, size=(n, k)) * np.asarray(factors) * rounds
    return pd.DataFrame({
        "run_id": "r1", "scenario": "s",
        "system": np.tile([f"v{i}" for i in range(k)], n),
        "iteration": np.repeat(np.arange(n), k),
        "wall_s": values.ravel(),
    })


def _compare_rates(trials: int, make: Callable[[np.random.Generator], pd.DataFrame],
                   seed: list[int], truth: float, **kws: Any) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    verdicts: list[str] = []
    calls_with_claim = 0
    covered = 0
    total = 0
    for _ in range(trials):
        out = compare(make(rng), "v0", seed=SEED, **kws)
        claim = out["verdict"].isin(["faster", "slower"])
        calls_with_claim += bool(claim.any())
        verdicts += out["verdict"].tolist()
        covered += int(((out["ratio_ci_low"] <= truth) & (truth <= out["ratio_ci_high"])).sum())
        total += len(out)
    v = pd.Series(verdicts)
    return {
        "per_comparison_claim": float(v.isin(["faster", "slower"]).mean()),
        "per_call_claim": calls_with_claim / trials,
        "slower": float((v == "slower").mean()),
        "equivalent": float((v == "equivalent").mean()),
        "ratio_ci_coverage": covered / total,
    }


def comparisons(trials: int) -> list[dict[str, Any]]:
    out = []
    aa = [
        ("A/A default threshold 0.02, BH", {}),
        ("A/A threshold 0, BH", {"threshold": 0.0}),
        ("A/A threshold 0, no correction", {"threshold": 0.0, "correction": "none"}),
    ]
    for i, (label, kws) in enumerate(aa):
        r = _compare_rates(
            trials, lambda g: _variants(g, 10, 0.10, [1.0] * 5), [SEED, 1, i], 1.0, **kws
        )
        out.append({"check": label + " (10% CV, n=10, 4 comparisons/call): any claim per call",
                    "rate": r["per_call_claim"], "trials": trials, "target": "<= 0.05"})
        out.append({"check": label + ": claim per comparison",
                    "rate": r["per_comparison_claim"], "trials": 4 * trials, "target": "<= 0.05"})
        out.append({"check": label + ": ratio interval covers 1",
                    "rate": r["ratio_ci_coverage"], "trials": 4 * trials, "target": "~0.95"})
    for label, drift in (("independent", 0.0), ("interleaved, 5% round drift", 0.05)):
        r = _compare_rates(
            trials, lambda g, d=drift: _variants(g, 20, 0.02, [1.0, 1.05], d), [SEED, 2], 1.05
        )
        out.append({"check": f"5% slowdown, 2% CV, n=20, {label}: verdict slower",
                    "rate": r["slower"], "trials": trials, "target": ">= 0.90"})
        out.append({"check": f"5% slowdown, 2% CV, n=20, {label}: ratio interval covers 1.05",
                    "rate": r["ratio_ci_coverage"], "trials": trials, "target": "~0.95"})
    return out


def _machine(rng: np.random.Generator, n: int, cv: float, factor: float, *,
             drift: float = 0.05, burst_rounds: float = 0.10,
             burst_iterations: float = 0.05) -> pd.DataFrame:
    """Interleaved two-variant run: random walk of ``drift`` per round in log speed shared by
    the round, ``burst_rounds`` of rounds 1.3-2x slower for both variants, ``burst_iterations``
    of single iterations 1.3-2x slower, independent noise of CV ``cv``."""
    rounds = np.exp(np.cumsum(rng.normal(0.0, drift, size=n)))
    rounds = np.where(rng.random(n) < burst_rounds, rounds * rng.uniform(1.3, 2.0, n), rounds)
    single = np.where(rng.random((n, 2)) < burst_iterations, rng.uniform(1.3, 2.0, (n, 2)), 1.0)
    values = rng.normal(1.0, cv, size=(n, 2)) * single * rounds[:, None] * [1.0, factor]
    return pd.DataFrame({
        "run_id": "r1", "scenario": "s", "system": np.tile(["v0", "v1"], n),
        "iteration": np.repeat(np.arange(n), 2), "wall_s": values.ravel(),
    })


def paired(trials: int) -> list[dict[str, Any]]:
    """Interleaved runs on a drifting, bursty machine (see ``_machine``), 2000 resamples."""
    out = []
    cells: list[tuple[str, Callable[[np.random.Generator], pd.DataFrame], float, dict[str, Any]]]
    cells = []
    for n, thr in ((20, 0.02), (10, 0.0), (5, 0.0)):
        cells.append((f"A/A paired, drift+bursts, 5% CV, n={n}, threshold {thr}",
                      lambda g, n=n: _machine(g, n, 0.05, 1.0), 1.0, {"threshold": thr}))
    cells.append(("5% slowdown, 2% CV, n=20, random-walk drift 5%, no bursts",
                  lambda g: _machine(g, 20, 0.02, 1.05, burst_rounds=0.0,
                                     burst_iterations=0.0), 1.05, {}))
    cells.append(("5% slowdown, 2% CV, n=20, drift 5% + round bursts",
                  lambda g: _machine(g, 20, 0.02, 1.05, burst_iterations=0.0), 1.05, {}))
    cells.append(("5% slowdown, 2% CV, n=20, drift 5% + round and single-iteration bursts",
                  lambda g: _machine(g, 20, 0.02, 1.05), 1.05, {}))
    for i, (label, make, truth, kws) in enumerate(cells):
        for test in ("auto", "paired-t(log)", "wilcoxon(log)"):
            r = _compare_rates(trials, make, [SEED, 7, i], truth, paired_test=test,
                               n_resamples=2000, **kws)
            out.append({"check": f"{label} [{test}]",
                        "claim": r["per_comparison_claim"], "slower": r["slower"],
                        "ratio_ci_coverage": r["ratio_ci_coverage"], "trials": trials,
                        "target": "claim <= 0.05" if truth == 1.0 else "slower >= 0.90"})
    return out


def regressions(trials: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng([SEED, 3])
    out = []
    for label, factor in (("A/A", 1.0), ("10% slowdown", 1.10)):
        flagged = 0
        for _ in range(trials):
            base = pd.DataFrame({"scenario": "s", "wall_s": rng.normal(1.0, 0.03, 10)})
            cur = pd.DataFrame({"scenario": "s", "wall_s": rng.normal(factor, 0.03 * factor, 10)})
            flagged += bool(detect_regressions(cur, base)["regression"].iloc[0])
        out.append({"check": f"detect_regressions {label} (3% CV, n=10, threshold 5%): flagged",
                    "rate": flagged / trials, "trials": trials,
                    "target": "<= 0.05" if factor == 1.0 else ">= 0.90"})
    return out


def change_points(trials: int) -> list[dict[str, Any]]:
    out = []
    n = 60
    for cv in (0.02, 0.03, 0.05):
        rng = np.random.default_rng([SEED, 4, int(cv * 100)])
        steps = rng.integers(10, 51, size=trials)
        values = rng.normal(1.0, cv, size=(trials, n))
        values[np.arange(n)[None, :] >= steps[:, None]] *= 1.10
        null = rng.normal(1.0, cv, size=(trials, n))
        for label, data in (("step", values), ("null", null)):
            history = pd.DataFrame({
                "run_id": np.tile([f"run{i:03d}" for i in range(n)], trials),
                "scenario": np.repeat([f"t{i:04d}" for i in range(trials)], n),
                "wall_s": data.ravel(),
            })
            found = detect_change_points(history)
            idx = found["scenario"].str.slice(1).astype(int).to_numpy()
            if label == "step":
                near = np.abs(found["position"].to_numpy() - steps[idx]) <= 2
                out.append({"check": f"10% step, {cv:.0%} CV, 60 points: located within 2",
                            "rate": len(set(idx[near])) / trials, "trials": trials,
                            "target": ">= 0.90"})
                out.append({"check": f"10% step, {cv:.0%} CV: extra change points per series",
                            "rate": float((~near).sum() / trials), "trials": trials,
                            "target": "small"})
            else:
                out.append({"check": f"no step, {cv:.0%} CV, 60 points: any change reported",
                            "rate": len(set(idx)) / trials, "trials": trials, "target": "small"})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every trial count")
    parser.add_argument("--out", help="write the figures as JSON here")
    parser.add_argument("--only-paired", action="store_true",
                        help="run only the drifting/bursty-machine paired checks")
    args = parser.parse_args(argv)

    def t(k: int) -> int:
        return max(10, int(k * args.scale))

    started = time.perf_counter()
    pair = paired(t(1000))
    print(pd.DataFrame(pair).to_string(index=False, float_format="{:.3f}".format))
    if args.only_paired:
        print(f"elapsed {time.perf_counter() - started:.0f} s")
        return 0
    cov = coverage(t(4000))
    print("Coverage of 95% intervals (mean: t/percentile/bca/studentized; median: *-median)")
    med = pd.DataFrame([r for r in cov if r["check"].endswith("median")]).pivot_table(
        index="method", columns=["dist", "n"], values="rate", aggfunc="first"
    )
    mean = pd.DataFrame([r for r in cov if r["check"].endswith("mean")]).pivot_table(
        index="method", columns=["dist", "n"], values="rate", aggfunc="first"
    )
    print("mean:\n" + mean.to_string(float_format="{:.3f}".format))
    print("median:\n" + med.to_string(float_format="{:.3f}".format))
    rest = comparisons(t(1000)) + regressions(t(500)) + change_points(t(500))
    print(pd.DataFrame(rest).to_string(index=False, float_format="{:.3f}".format))
    elapsed = time.perf_counter() - started
    print(f"elapsed {elapsed:.0f} s")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"seed": SEED, "coverage": cov, "checks": rest, "paired": pair,
                       "elapsed_s": elapsed}, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
