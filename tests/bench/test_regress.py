"""Exact-value tests of rrperf.bench.regress."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from rrperf.bench.regress import (
    COMPARISON_COLUMNS_ADDED,
    REGRESSION_COLUMNS,
    adjust_p_values,
    compare,
    detect_change_points,
    detect_regressions,
    paired_p_values,
    paired_ratio_intervals,
    paired_test_for,
    ratio_intervals,
    robust_noise,
)
from rrperf.bench.results import CHANGE_POINT_COLUMNS, COMPARISON_EXTRA_COLUMNS
from rrperf.errors import BenchmarkError, ConfigError, ResultsSchemaError

BASE = [2.0, 2.2, 1.8, 2.1, 1.9, 2.0]


def _run(variants: dict[tuple[str, str], list[float]], *, scenario: str = "small") -> pd.DataFrame:
    """An interleaved run: round i measures every variant once."""
    rows = []
    for (system, strategy), values in variants.items():
        for i, v in enumerate(values):
            rows.append({
                "run_id": "r1", "scenario": scenario, "system": system, "strategy": strategy,
                "cache_state": "cold", "iteration": i, "warmup": False, "wall_s": v, "error": None,
            })
    return pd.DataFrame(rows)


def test_clear_speedup_is_faster_with_the_exact_ratio() -> None:
    df = _run({("legacy", "sequential"): BASE, ("pipeline", "parallel"): [v / 2 for v in BASE]})
    out = compare(df, "legacy")
    assert list(out.columns) == [
        "scenario", "system", "strategy", "cache_state",
        *COMPARISON_EXTRA_COLUMNS, *COMPARISON_COLUMNS_ADDED,
    ]
    row = out.iloc[0]
    assert (row["system"], row["strategy"], row["baseline"]) == ("pipeline", "parallel", "legacy")
    assert row["ratio"] == 0.5
    assert (row["ratio_ci_low"], row["ratio_ci_high"]) == (0.5, 0.5)  # paired: every round halves
    assert row["verdict"] == "faster"
    # paired by round: every per-round log ratio is log(0.5), so the paired t test is exact
    assert row["test"] == "paired-t(log)"
    assert row["p_value"] == 0.0
    assert bool(row["paired"]) and row["n"] == 6 and row["n_baseline"] == 6
    unpaired = compare(df.drop(columns="iteration"), "legacy").iloc[0]
    assert unpaired["test"] == "mann-whitney"
    assert unpaired["p_value"] == pytest.approx(
        scipy.stats.mannwhitneyu([v / 2 for v in BASE], BASE).pvalue
    )
    assert unpaired["ratio"] == 0.5 and unpaired["verdict"] == "faster"


def test_identical_variants_are_equivalent() -> None:
    df = _run({("legacy", "sequential"): BASE, ("pipeline", "sequential"): list(BASE)})
    row = compare(df, "legacy").iloc[0]
    assert (row["ratio"], row["ratio_ci_low"], row["ratio_ci_high"]) == (1.0, 1.0, 1.0)
    assert row["verdict"] == "equivalent"
    assert row["p_value"] == pytest.approx(1.0)


def test_noisy_variant_is_inconclusive() -> None:
    noisy = [1.2, 2.9, 1.5, 2.6, 1.9, 2.5]
    df = _run({("legacy", "sequential"): BASE, ("pipeline", "x"): noisy})
    row = compare(df, "legacy").iloc[0]
    assert row["ratio_ci_low"] < 0.98 and row["ratio_ci_high"] > 1.02
    assert row["verdict"] == "inconclusive"


def test_slower_needs_the_interval_beyond_the_threshold() -> None:
    df = _run({("legacy", "sequential"): BASE, ("pipeline", "x"): [v * 1.3 for v in BASE]})
    row = compare(df, "legacy").iloc[0]
    assert row["ratio"] == pytest.approx(1.3)
    assert row["verdict"] == "slower"
    # with a threshold wider than the effect the difference does not matter
    assert compare(df, "legacy", threshold=0.5).iloc[0]["verdict"] == "equivalent"


def test_pairing_is_detected_only_for_interleaved_rounds() -> None:
    df = _run({("legacy", "s"): BASE, ("pipeline", "p"): [v * 0.9 for v in BASE]})
    assert bool(compare(df, "legacy")["paired"].iloc[0])
    # unequal counts
    assert not bool(compare(df.drop(index=11), "legacy")["paired"].iloc[0])
    # different runs share iteration numbers but not rounds
    other_run = df.assign(run_id=np.where(df["system"] == "legacy", "r1", "r2"))
    assert not bool(compare(other_run, "legacy")["paired"].iloc[0])
    # no iteration column
    assert not bool(compare(df.drop(columns="iteration"), "legacy")["paired"].iloc[0])
    # rows in a different order are still paired by round
    assert bool(compare(df.iloc[::-1], "legacy")["paired"].iloc[0])


def test_paired_and_independent_intervals_differ_as_expected() -> None:
    # Round-to-round drift shared by both sides: pairing removes it.
    drift = np.array([1.0, 1.3, 0.8, 1.2, 0.9, 1.1, 0.7, 1.25])
    a = drift * 0.9
    _, lo_p, hi_p = ratio_intervals(a[None], drift[None], paired=True, n_resamples=500)
    _, lo_i, hi_i = ratio_intervals(a[None], drift[None], paired=False, n_resamples=500)
    assert (lo_p[0], hi_p[0]) == pytest.approx((0.9, 0.9))
    assert hi_i[0] - lo_i[0] > 0.2
    with pytest.raises(ConfigError, match="paired samples must have equal shapes"):
        ratio_intervals(a[None], drift[None, :5], paired=True)


def test_paired_rounds_use_the_per_round_log_ratios() -> None:
    # The machine speeds up 16-fold over the run (powers of two keep v / b exact), while the
    # variant is 5-25% slower within every round: only the per-round ratios see that.
    ratios = np.array([1.1, 1.2, 1.15, 1.25, 1.05])
    base = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    df = _run({("legacy", "s"): list(base), ("pipeline", "p"): list(base * ratios)})
    row = compare(df, "legacy").iloc[0]
    assert bool(row["paired"]) and row["test"] == "paired-t(log)"
    assert row["ratio"] == 1.15  # median of the per-round ratios
    assert row["p_value"] == pytest.approx(
        scipy.stats.ttest_1samp(np.log(ratios), 0.0).pvalue, rel=1e-12
    )
    assert 1.05 <= row["ratio_ci_low"] <= 1.15 <= row["ratio_ci_high"] <= 1.25
    assert row["verdict"] == "slower"
    wil = compare(df, "legacy", paired_test="wilcoxon(log)").iloc[0]
    assert wil["test"] == "wilcoxon(log)"
    assert wil["p_value"] == pytest.approx(scipy.stats.wilcoxon(np.log(ratios)).pvalue)
    assert wil["p_value"] == 0.0625  # the floor of the signed-rank test with 5 rounds
    # The same values without rounds: the drift swamps the effect.
    unpaired = compare(df.drop(columns="iteration"), "legacy").iloc[0]
    assert unpaired["test"] == "mann-whitney" and unpaired["verdict"] == "inconclusive"
    # From 8 rounds on, "auto" takes the signed-rank test.
    r8 = np.array([1.1, 1.2, 1.15, 1.25, 1.05, 1.3, 1.0, 1.12])
    b8 = 2.0 ** np.arange(8)
    row8 = compare(_run({("legacy", "s"): list(b8), ("pipeline", "p"): list(b8 * r8)}),
                   "legacy").iloc[0]
    assert row8["test"] == "wilcoxon(log)"
    assert row8["ratio"] == pytest.approx(math.sqrt(1.12 * 1.15), rel=1e-15)
    assert row8["p_value"] == pytest.approx(scipy.stats.wilcoxon(np.log(r8)).pvalue)
    assert paired_test_for(7) == "paired-t(log)" and paired_test_for(8) == "wilcoxon(log)"
    assert paired_test_for(20, "paired-t(log)") == "paired-t(log)"
    # Even round counts: geometric mean of the two middle ratios.
    r, lo, hi = paired_ratio_intervals(
        (base[:4] * np.array([0.5, 2.0, 0.25, 8.0]))[None], base[:4][None], n_resamples=200
    )
    assert r[0] == 1.0 and lo[0] < 1.0 < hi[0]
    np.testing.assert_array_equal(
        paired_p_values(np.array([[2.0, 4.0], [1.0, 3.0]]), np.array([[1.0, 2.0], [1.0, 3.0]])),
        [0.0, 1.0],
    )
    # Non-positive values cannot be paired by log ratio: the independent path is used.
    zero = _run({("legacy", "s"): [0.0, *BASE[1:]], ("pipeline", "p"): BASE})
    assert not bool(compare(zero, "legacy")["paired"].iloc[0])
    with pytest.raises(ConfigError, match="paired ratios need positive values"):
        paired_ratio_intervals(np.array([[1.0, -1.0]]), np.array([[1.0, 1.0]]))
    with pytest.raises(ConfigError, match="paired_test must be one of"):
        compare(df, "legacy", paired_test="sign")
    with pytest.raises(ConfigError, match=r"test must be one of auto, paired-t\(log\)"):
        paired_p_values(np.ones((1, 3)), np.ones((1, 3)), "t")


def test_bh_adjustment_matches_scipy() -> None:
    rng = np.random.default_rng(5)
    variants = {("legacy", "s"): list(rng.normal(1, 0.1, 8))}
    for k, shift in enumerate([1.0, 1.05, 1.1, 1.2, 1.5]):
        variants[("pipeline", f"v{k}")] = list(rng.normal(shift, 0.1, 8))
    out = compare(_run(variants), "legacy")
    expected = scipy.stats.false_discovery_control(out["p_value"].to_numpy())
    np.testing.assert_allclose(out["p_adjusted"].to_numpy(), expected, rtol=1e-15)
    assert set(out["correction"]) == {"fdr_bh"}
    plain = compare(_run(variants), "legacy", correction="none")
    np.testing.assert_array_equal(plain["p_adjusted"], plain["p_value"])
    np.testing.assert_array_equal(
        adjust_p_values([0.01, np.nan, 0.04], "bonferroni"), [0.02, np.nan, 0.08]
    )


def test_too_few_rows_give_nan_and_inconclusive() -> None:
    df = _run({("legacy", "s"): BASE, ("pipeline", "p"): [1.0]})
    other = _run({("pipeline", "p"): BASE}, scenario="large")  # no baseline there
    out = compare(pd.concat([df, other], ignore_index=True), "legacy")
    assert out["scenario"].tolist() == ["large", "small"]
    assert out["verdict"].tolist() == ["inconclusive", "inconclusive"]
    stats = ["ratio", "ratio_ci_low", "ratio_ci_high", "p_value", "p_adjusted"]
    assert out[stats].isna().all().all()
    assert out["n"].tolist() == [6, 1] and out["n_baseline"].tolist() == [0, 6]


def test_baseline_as_system_slash_strategy_and_welch() -> None:
    df = _run({
        ("legacy", "sequential"): BASE,
        ("pipeline", "sequential"): [v * 0.5 for v in BASE],
        ("pipeline", "parallel"): [v * 0.25 for v in BASE],
    })
    out = compare(df, "pipeline/sequential", test="welch")
    assert out[["system", "strategy"]].values.tolist() == [
        ["legacy", "sequential"], ["pipeline", "parallel"],
    ]
    assert out["ratio"].tolist() == [2.0, 0.5]
    assert out["verdict"].tolist() == ["slower", "faster"]
    assert set(out["test"]) == {"paired-t(log)"}  # test= applies to unpaired sides only
    unpaired = compare(df.drop(columns="iteration"), "pipeline/sequential", test="welch")
    assert set(unpaired["test"]) == {"welch"}
    assert unpaired["p_value"].iloc[0] == pytest.approx(scipy.stats.ttest_ind(
        BASE, [v * 0.5 for v in BASE], equal_var=False).pvalue)
    assert unpaired["verdict"].tolist() == ["slower", "faster"]
    assert set(out["baseline"]) == {"pipeline/sequential"}


def test_warmups_and_failures_are_left_out() -> None:
    df = _run({("legacy", "s"): [*BASE, 50.0], ("pipeline", "p"): [*BASE, 0.01]})
    df.loc[6, "warmup"] = True
    df.loc[13, "error"] = "crashed"
    row = compare(df, "legacy").iloc[0]
    assert (row["n"], row["n_baseline"], row["ratio"]) == (6, 6, 1.0)


def test_compare_errors_name_the_problem() -> None:
    df = _run({("legacy", "s"): BASE, ("pipeline", "a"): BASE, ("pipeline", "b"): BASE})
    with pytest.raises(BenchmarkError, match=(
        r"unknown baseline 'rails'; systems present: legacy, pipeline; "
        r"variants present: legacy/s, pipeline/a, pipeline/b"
    )):
        compare(df, "rails")
    with pytest.raises(BenchmarkError, match="matches several variants in one group"):
        compare(df, "pipeline")
    with pytest.raises(ResultsSchemaError, match="value column 'cpu_s' is not in the table"):
        compare(df, "legacy", value="cpu_s")
    with pytest.raises(ResultsSchemaError, match="needs a 'system' column"):
        compare(df.drop(columns="system"), "legacy")
    with pytest.raises(BenchmarkError, match="no 'strategy' column"):
        compare(df.drop(columns="strategy"), "legacy/s")
    with pytest.raises(ConfigError, match="test must be one of mann-whitney, welch"):
        compare(df, "legacy", test="t")


def test_compare_does_not_mutate_and_is_deterministic() -> None:
    rng = np.random.default_rng(9)
    df = _run({
        ("legacy", "s"): list(rng.normal(1, 0.1, 10)),
        ("pipeline", "p"): list(rng.normal(1, 0.1, 10)),
    })
    before = df.copy()
    first = compare(df, "legacy", seed=4)
    pd.testing.assert_frame_equal(df, before)
    pd.testing.assert_frame_equal(first, compare(df, "legacy", seed=4))


def test_detect_regressions_flags_slowdowns_and_improvements() -> None:
    base = pd.concat([
        _run({("pipeline", "p"): BASE}, scenario="a"),
        _run({("pipeline", "p"): BASE}, scenario="b"),
        _run({("pipeline", "p"): BASE}, scenario="c"),
    ], ignore_index=True)
    cur = base.copy()
    cur.loc[cur["scenario"] == "a", "wall_s"] *= 1.25
    cur.loc[cur["scenario"] == "b", "wall_s"] *= 0.8
    cur = pd.concat([cur, _run({("pipeline", "p"): BASE}, scenario="only-now")], ignore_index=True)
    out = detect_regressions(cur, base)
    assert list(out.columns) == [
        "scenario", "system", "strategy", "cache_state", *REGRESSION_COLUMNS,
    ]
    assert out["scenario"].tolist() == ["a", "b", "c"]
    assert out["ratio"].tolist() == pytest.approx([1.25, 0.8, 1.0])
    assert out["regression"].tolist() == [True, False, False]
    assert out["improvement"].tolist() == [False, True, False]
    assert out["n_current"].tolist() == [6, 6, 6]


def test_a_change_on_a_clean_step_is_located_exactly() -> None:
    rows = []
    levels = [1.0] * 10 + [1.2] * 10
    for k, level in enumerate(levels):
        for i, f in enumerate([0.99, 1.0, 1.01]):
            rows.append({
                "run_id": f"r{k:02d}",
                "started_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=k),
                "scenario": "s", "system": "pipeline", "iteration": i, "wall_s": level * f,
            })
    history = pd.DataFrame(rows).sample(frac=1.0, random_state=1)  # any row order
    out = detect_change_points(history)
    assert list(out.columns) == ["scenario", "system", *CHANGE_POINT_COLUMNS]
    assert len(out) == 1
    row = out.iloc[0]
    assert (row["position"], row["run_id"]) == (10, "r10")
    assert (row["before"], row["after"]) == (1.0, 1.2)
    assert row["change"] == pytest.approx(0.2)


def test_started_at_orders_the_series_before_run_id() -> None:
    # run ids sort the wrong way; started_at decides the order
    n = 12
    history = pd.DataFrame({
        "run_id": [f"z{n - k:02d}" for k in range(n)],
        "started_at": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"),
        "wall_s": [1.0] * 6 + [2.0] * 6,
    })
    out = detect_change_points(history)
    assert out[["position", "run_id"]].values.tolist() == [[6, "z06"]]
    assert out["change"].tolist() == [1.0]


def test_no_change_gives_an_empty_frame_with_the_columns() -> None:
    history = pd.DataFrame({
        "run_id": [f"r{k}" for k in range(20)], "scenario": "s",
        "wall_s": 1.0 + 0.01 * np.sin(np.arange(20)),
    })
    out = detect_change_points(history)
    assert out.empty
    assert list(out.columns) == ["scenario", *CHANGE_POINT_COLUMNS]
    assert detect_change_points(history.iloc[:4]).empty  # shorter than two segments


def test_change_point_errors_and_noise_estimate() -> None:
    with pytest.raises(ResultsSchemaError, match="needs a 'run_id' column"):
        detect_change_points(pd.DataFrame({"wall_s": [1.0, 2.0]}))
    with pytest.raises(ConfigError, match="min_size must be >= 1, got 0"):
        detect_change_points(pd.DataFrame({"run_id": ["a"], "wall_s": [1.0]}), min_size=0)
    # MAD of differences ignores the one difference at the step
    y = np.array([0.0, 1, 0, 1, 0, 1, 10, 11, 10, 11, 10])
    assert robust_noise(y) == pytest.approx(1.4826 * 1.0 / math.sqrt(2))
    assert robust_noise(np.ones(5)) == 0.0
