"""Monte Carlo validity of rrperf's estimators on simulated data with a known truth.

This is the one place where random numbers stand in for measurements: the checks draw samples
from known distributions (seeded) and count how often the public functions get the truth right.
Binomial standard errors: 1000 trials -> about 0.7 points at 95%; 400 (250) -> about 1.1 (1.4)
points at 5%; 200 -> about 2 points at 90%. Comparisons go through the public ``compare`` one
call per trial (the multiplicity family is one call), with 1000 bootstrap resamples.
``benchmarks/bench_stats_validity.py`` runs the same checks with more trials and prints every
figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rrperf.bench.regress import compare, detect_change_points
from rrperf.bench.stats import center_intervals, summarize

SEED = 20261126
SIGMA_LOG = 0.25


def _draw(rng: np.random.Generator, dist: str, trials: int, n: int) -> tuple[np.ndarray, float]:
    if dist == "normal":
        return rng.normal(1.0, 0.05, size=(trials, n)), 1.0
    return rng.lognormal(0.0, SIGMA_LOG, size=(trials, n)), float(np.exp(SIGMA_LOG**2 / 2))


def _as_table(samples: np.ndarray) -> pd.DataFrame:
    trials, n = samples.shape
    return pd.DataFrame({
        "scenario": np.repeat([f"t{i:04d}" for i in range(trials)], n),
        "system": "pipeline",
        "wall_s": samples.ravel(),
    })


@pytest.mark.parametrize("dist", ["normal", "lognormal"])
@pytest.mark.parametrize("n", [10, 30])
def test_default_mean_interval_covers_the_true_mean(dist: str, n: int) -> None:
    rng = np.random.default_rng([SEED, n, dist == "normal"])
    samples, truth = _draw(rng, dist, 1000, n)
    summary = summarize(_as_table(samples))
    assert (summary["ci_method"] == "t").all()
    assert (summary["n"] == n).all()
    covered = (summary["ci_low"] <= truth) & (truth <= summary["ci_high"])
    assert 0.93 <= covered.mean() <= 0.97


@pytest.mark.parametrize("dist", ["normal", "lognormal"])
def test_studentized_interval_covers_the_true_mean_at_n10(dist: str) -> None:
    rng = np.random.default_rng([SEED, 10, dist == "normal", 1])
    samples, truth = _draw(rng, dist, 1000, 10)
    lo, hi = center_intervals(samples, method="studentized", n_resamples=2000, seed=SEED)
    assert 0.93 <= np.mean((lo <= truth) & (truth <= hi)) <= 0.97


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_plain_bootstrap_intervals_undercover_at_n10(method: str) -> None:
    # The reason the default is "t": these intervals are too short for 10 iterations.
    rng = np.random.default_rng([SEED, 10, 2])
    samples, truth = _draw(rng, "normal", 1000, 10)
    lo, hi = center_intervals(samples, method=method, n_resamples=2000, seed=SEED)
    assert np.mean((lo <= truth) & (truth <= hi)) < 0.93


def _variants_table(
    rng: np.random.Generator, n: int, cv: float, factors: list[float]
) -> pd.DataFrame:
    """One interleaved run: ``n`` rounds, each measuring every variant once."""
    k = len(factors)
    values = rng.normal(1.0, cv, size=(n, k)) * np.asarray(factors)
    return pd.DataFrame({
        "run_id": "r1",
        "scenario": "s",
        "system": np.tile([f"v{i}" for i in range(k)], n),
        "iteration": np.repeat(np.arange(n), k),
        "wall_s": values.ravel(),
    })


@pytest.mark.parametrize("threshold", [0.02, 0.0])
def test_aa_comparisons_rarely_claim_a_difference(threshold: float) -> None:
    # Five identical variants (four comparisons per call) at 10% CV, 10 rounds. threshold=0 is
    # the hard case: the interval alone would exclude 1 in about 5% of comparisons; the
    # BH-adjusted p-value requirement keeps the per-call rate at or below 5%.
    rng = np.random.default_rng([SEED, 400, int(threshold * 100)])
    calls_with_claim = 0
    claims = 0
    trials = 400 if threshold else 250  # keeps the file under a minute on a busy machine
    for _ in range(trials):
        table = _variants_table(rng, 10, 0.10, [1.0] * 5)
        out = compare(table, "v0", threshold=threshold, n_resamples=1000, seed=SEED)
        claimed = out["verdict"].isin(["faster", "slower"])
        claims += int(claimed.sum())
        calls_with_claim += bool(claimed.any())
    assert calls_with_claim / trials <= 0.05
    assert claims / (4 * trials) <= 0.05


def test_five_percent_slowdown_is_found() -> None:
    # 2% CV, 20 iterations a side, default threshold 0.02 and confidence 0.95.
    rng = np.random.default_rng([SEED, 200])
    trials = 200
    found = 0
    for _ in range(trials):
        table = _variants_table(rng, 20, 0.02, [1.0, 1.05])
        out = compare(table, "v0", n_resamples=1000, seed=SEED)
        found += out["verdict"].iloc[0] == "slower"
    assert found / trials >= 0.90


def test_ten_percent_step_is_located_within_two_points() -> None:
    rng = np.random.default_rng([SEED, 100])
    trials, n = 100, 60
    steps = rng.integers(10, 51, size=trials)
    values = rng.normal(1.0, 0.025, size=(trials, n))
    values[np.arange(n)[None, :] >= steps[:, None]] *= 1.10
    history = pd.DataFrame({
        "run_id": np.tile([f"run{i:03d}" for i in range(n)], trials),
        "started_at": np.tile(pd.date_range("2026-01-01", periods=n, freq="D", tz="UTC"), trials),
        "scenario": np.repeat([f"t{i:03d}" for i in range(trials)], n),
        "wall_s": values.ravel(),
    })
    found = detect_change_points(history)
    scenario_index = found["scenario"].str.slice(1).astype(int).to_numpy()
    near = np.abs(found["position"].to_numpy() - steps[scenario_index]) <= 2
    located = len(set(scenario_index[near]))
    assert located / trials >= 0.90
    # The located changes are the right size (+10% within noise).
    assert found.loc[near, "change"].between(0.05, 0.15).all()


def _machine_table(
    rng: np.random.Generator, n: int, cv: float, factor: float, *, drift: float = 0.05,
    burst_rounds: float = 0.10, burst_iterations: float = 0.05,
) -> pd.DataFrame:
    """An interleaved two-variant run on a machine whose speed drifts and bursts.

    Log speed is a random walk with ``drift`` per round, shared by both variants of a round;
    ``burst_rounds`` of the rounds are 1.3-2x slower for both variants and
    ``burst_iterations`` of the single iterations 1.3-2x slower; ``cv`` is independent noise.
    """
    rounds = np.exp(np.cumsum(rng.normal(0.0, drift, size=n)))
    rounds = np.where(rng.random(n) < burst_rounds, rounds * rng.uniform(1.3, 2.0, n), rounds)
    single = np.where(rng.random((n, 2)) < burst_iterations, rng.uniform(1.3, 2.0, (n, 2)), 1.0)
    values = rng.normal(1.0, cv, size=(n, 2)) * single * rounds[:, None] * [1.0, factor]
    return pd.DataFrame({
        "run_id": "r1", "scenario": "s", "system": np.tile(["v0", "v1"], n),
        "iteration": np.repeat(np.arange(n), 2), "wall_s": values.ravel(),
    })


@pytest.mark.parametrize(("n", "threshold"), [(20, 0.02), (10, 0.02), (5, 0.0)])
def test_paired_aa_on_a_drifting_bursty_machine_rarely_claims(n: int, threshold: float) -> None:
    rng = np.random.default_rng([SEED, 500, n])
    trials = 150
    verdicts = [
        compare(_machine_table(rng, n, 0.05, 1.0), "v0", threshold=threshold,
                n_resamples=1000, seed=SEED)
        for _ in range(trials)
    ]
    assert all(bool(v["paired"].iloc[0]) for v in verdicts)
    claims = sum(v["verdict"].iloc[0] in ("faster", "slower") for v in verdicts)
    assert claims / trials <= 0.05


def test_five_percent_slowdown_is_found_under_round_drift() -> None:
    # 2% CV, 20 rounds, 5% random-walk drift in log speed shared by the round, no bursts.
    rng = np.random.default_rng([SEED, 600])
    trials = 200
    found = 0
    covered = 0
    for _ in range(trials):
        table = _machine_table(rng, 20, 0.02, 1.05, burst_rounds=0.0, burst_iterations=0.0)
        row = compare(table, "v0", n_resamples=1000, seed=SEED).iloc[0]
        found += row["verdict"] == "slower"
        covered += row["ratio_ci_low"] <= 1.05 <= row["ratio_ci_high"]
    assert found / trials >= 0.90
    assert 0.90 <= covered / trials <= 0.99
