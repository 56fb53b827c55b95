"""Exact-value tests of rrperf.bench.stats."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from rrperf.bench.results import SUMMARY_EXTRA_COLUMNS
from rrperf.bench.stats import (
    STABILITY_COLUMNS,
    AmdahlFit,
    ScalingFit,
    amdahl_speedup,
    center_intervals,
    fit_amdahl,
    fit_scaling,
    measured_rows,
    required_iterations,
    stability_warnings,
    summarize,
    warn_if_unstable,
)
from rrperf.errors import ConfigError, ResultsSchemaError, StabilityWarning


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261126)


@pytest.fixture
def table(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for scenario in ("small", "large"):
        for system, strategy in (("legacy", "sequential"), ("pipeline", "parallel")):
            for cache_state in ("cold", "warm"):
                for i in range(7):
                    rows.append({
                        "run_id": "r1",
                        "scenario": scenario,
                        "system": system,
                        "strategy": strategy,
                        "cache_state": cache_state,
                        "iteration": i,
                        "warmup": i == 0,
                        "wall_s": float(rng.lognormal(0.0, 0.2)),
                        "error": pd.NA,
                    })
    df = pd.DataFrame(rows)
    for col in ("run_id", "scenario", "system", "strategy", "cache_state", "error"):
        df[col] = df[col].astype("string")
    df.loc[5, "error"] = "boom"
    df.loc[6, "error"] = ""
    return df


def test_summary_matches_a_pandas_groupby_oracle(table: pd.DataFrame) -> None:
    by = ["scenario", "system", "strategy", "cache_state"]
    out = summarize(table)
    used = table[~table["warmup"] & (table["error"].fillna("") == "")]
    grouped = used.groupby(by, sort=True)["wall_s"]
    expected = pd.DataFrame({
        "n": grouped.count().astype("int64"),
        "mean": grouped.mean(),
        "median": grouped.median(),
        "std": grouped.std(ddof=1),
    }).reset_index()
    expected["cv"] = expected["std"] / expected["mean"]
    pd.testing.assert_frame_equal(out[[*by, "n", "mean", "median", "std", "cv"]], expected)
    assert list(out.columns) == [*by, *SUMMARY_EXTRA_COLUMNS]
    # the failed row (index 5) is out, the row with an empty error (index 6) is in
    first = out[(out["scenario"] == "small") & (out["system"] == "legacy")]
    assert first["n"].tolist() == [5, 6]  # cold: rows 0-6 minus the warm-up and row 5


def test_exact_t_interval_for_a_tiny_sample() -> None:
    df = pd.DataFrame({"system": ["a"] * 5, "wall_s": [1.0, 2.0, 3.0, 4.0, 5.0]})
    out = summarize(df)
    half = 1.9632431614775572  # t(0.975, 4) * sqrt(2.5) / sqrt(5)
    assert out["ci_low"].iloc[0] == pytest.approx(3.0 - half, abs=1e-12)
    assert out["ci_high"].iloc[0] == pytest.approx(3.0 + half, abs=1e-12)
    assert out["ci_method"].iloc[0] == "t"
    assert out["std"].iloc[0] == pytest.approx(math.sqrt(2.5), abs=1e-15)
    assert out["cv"].iloc[0] == pytest.approx(math.sqrt(2.5) / 3.0, abs=1e-15)


def test_tukey_outliers_are_counted_and_kept() -> None:
    # q1 = 2.5, q3 = 5.5, IQR = 3: fences -2 and 10, so -50 and 100 are outliers.
    df = pd.DataFrame({"system": ["a"] * 8, "wall_s": [-50.0, 1, 2, 3, 4, 5, 6, 100.0]})
    out = summarize(df)
    assert out["outliers"].iloc[0] == 2
    assert out["mean"].iloc[0] == pytest.approx(71 / 8)
    assert out["n"].iloc[0] == 8


def test_single_row_group_has_nan_spread_and_no_crash() -> None:
    df = pd.DataFrame({"system": ["a", "b", "b"], "wall_s": [1.0, 2.0, 4.0]})
    out = summarize(df, method="bca")
    assert out["n"].tolist() == [1, 2]
    assert math.isnan(out["std"].iloc[0]) and math.isnan(out["ci_low"].iloc[0])
    assert out["mean"].iloc[1] == 3.0


def test_constant_group_has_a_degenerate_interval() -> None:
    df = pd.DataFrame({"system": ["a"] * 4, "wall_s": [2.0] * 4})
    for method in ("t", "bca", "percentile", "studentized"):
        out = summarize(df, method=method)
        assert (out["ci_low"].iloc[0], out["ci_high"].iloc[0]) == (2.0, 2.0)


def test_median_interval_is_a_bootstrap_interval_named_so(table: pd.DataFrame) -> None:
    out = summarize(table, center="median", seed=3)
    assert set(out["ci_method"]) == {"percentile-median"}
    assert ((out["ci_low"] <= out["median"]) & (out["median"] <= out["ci_high"])).all()
    again = summarize(table, center="median", seed=3)
    pd.testing.assert_frame_equal(out, again)
    assert set(summarize(table, method="bootstrap")["ci_method"]) == {"bca"}


def test_a_groups_bootstrap_interval_does_not_depend_on_other_groups(table: pd.DataFrame) -> None:
    both = summarize(table, method="percentile", seed=7)
    alone = summarize(table[table["scenario"] == "large"], method="percentile", seed=7)
    pd.testing.assert_frame_equal(both[both["scenario"] == "large"].reset_index(drop=True), alone)


def test_center_intervals_vectorize_over_rows(rng: np.random.Generator) -> None:
    x = rng.normal(size=(3, 12))
    lo, hi = center_intervals(x, method="studentized", n_resamples=500, seed=1)
    for i in range(3):
        lo1, hi1 = center_intervals(x[i : i + 1], method="studentized", n_resamples=500, seed=1)
        assert [lo[i], hi[i]] == pytest.approx([lo1[0], hi1[0]], rel=1e-12)
    with pytest.raises(ConfigError, match=r"shape \(groups, n >= 2\)"):
        center_intervals(x[:, :1])


def test_summarize_does_not_mutate_its_input(table: pd.DataFrame) -> None:
    before = table.copy()
    summarize(table, method="bca")
    stability_warnings(table)
    pd.testing.assert_frame_equal(table, before)


def test_errors_name_the_problem(table: pd.DataFrame) -> None:
    with pytest.raises(ResultsSchemaError, match=r"value column 'cpu_s' is not in the table"):
        summarize(table, value="cpu_s")
    with pytest.raises(ResultsSchemaError, match=r"grouping column\(s\) 'host' not in the table"):
        summarize(table, by=["host"])
    with pytest.raises(ConfigError, match=r"method must be one of t, bootstrap, .*got 'normal'"):
        summarize(table, method="normal")
    with pytest.raises(ConfigError, match=r"center='median' needs a bootstrap method"):
        summarize(table, center="median", method="studentized")
    with pytest.raises(ConfigError, match=r"confidence must lie strictly between 0 and 1"):
        summarize(table, confidence=95)
    bad = table.assign(wall_s="fast")
    with pytest.raises(ResultsSchemaError, match=r"value column 'wall_s' must hold numbers") as e:
        measured_rows(bad)
    assert isinstance(e.value.__cause__, ValueError)


def test_measured_rows_drops_warmups_failures_and_missing_values() -> None:
    df = pd.DataFrame({
        "warmup": [True, False, False, False, pd.NA],
        "error": [None, "x", None, "  ", None],
        "wall_s": [1.0, 2.0, np.nan, 4.0, 5.0],
    })
    out = measured_rows(df)
    assert out["wall_s"].tolist() == [4.0, 5.0]


def test_required_iterations_uses_the_t_quantile() -> None:
    assert required_iterations(0.10, 0.05) == 18  # z alone would say 16
    assert required_iterations(0.02, 0.05) == 3
    assert required_iterations(0.0, 0.05) == 2
    with pytest.raises(ConfigError, match="precision must be > 0"):
        required_iterations(0.1, 0.0)


def test_stability_warnings_rows() -> None:
    df = pd.DataFrame({
        "system": ["noisy"] * 5 + ["short"] * 3,
        "wall_s": [1.0, 1.5, 0.7, 1.2, 0.9, 1e-7, 1e-7, 1e-7],
    })
    out = stability_warnings(df, timer_resolution_s=1e-9)
    assert list(out.columns) == ["system", *STABILITY_COLUMNS]
    assert out[["system", "check"]].values.tolist() == [
        ["noisy", "high_cv"],
        ["noisy", "too_few_iterations"],
        ["short", "too_short"],
    ]
    cv = float(np.std([1.0, 1.5, 0.7, 1.2, 0.9], ddof=1) / 1.06)
    assert out["value"].iloc[0] == pytest.approx(cv)
    assert out["needed"].tolist()[0] == 0.10
    assert out["needed"].iloc[1] == required_iterations(cv, 0.05)
    assert out["needed"].iloc[2] == pytest.approx(1e-6)
    assert out["message"].iloc[1] == (
        f"system=noisy: 5 iterations give the mean of wall_s to worse than +-5% at 95% "
        f"confidence (cv {cv:.1%}); {required_iterations(cv, 0.05)} iterations are needed"
    )


def test_stable_data_gives_an_empty_frame_with_the_columns() -> None:
    df = pd.DataFrame({"system": ["a"] * 4, "wall_s": [1.0, 1.01, 0.99, 1.0]})
    out = stability_warnings(df)
    assert out.empty
    assert list(out.columns) == ["system", *STABILITY_COLUMNS]


def test_warn_if_unstable_emits_one_warning_per_row() -> None:
    df = pd.DataFrame({"system": ["a"] * 3, "wall_s": [1.0, 2.0, 3.0]})
    with pytest.warns(StabilityWarning) as record:
        rows = warn_if_unstable(df)
    assert len(record) == len(rows) == 2
    assert record[0].filename == __file__
    assert str(record[0].message).startswith("system=a: wall_s varies by 50.0%")


def test_scaling_fit_on_an_exact_power_law() -> None:
    x = np.array([10, 20, 40, 80, 160])
    df = pd.DataFrame({"n_tables": x, "wall_s": 0.003 * x**1.5})
    fit = fit_scaling(df)
    assert fit.exponent == pytest.approx(1.5, abs=1e-9)
    assert fit.prefactor == pytest.approx(0.003, rel=1e-9)
    assert fit.r_squared == pytest.approx(1.0, abs=1e-12)
    assert [fit.ci_low, fit.ci_high] == pytest.approx([1.5, 1.5], abs=1e-9)
    assert fit.n == 5
    assert list(fit.to_frame().columns) == [
        "exponent", "ci_low", "ci_high", "prefactor", "r_squared", "n", "confidence",
    ]
    assert fit.predict([1000])[0] == pytest.approx(0.003 * 1000**1.5)
    assert "<table" in fit._repr_html_()


def test_scaling_fit_interval_and_errors() -> None:
    df = pd.DataFrame({"n_tables": [1, 2, 4, 8], "wall_s": [1.0, 2.2, 3.9, 8.4]})
    fit = fit_scaling(df)
    assert fit.ci_low < fit.exponent < fit.ci_high
    with pytest.raises(ConfigError, match="at least 2 distinct n_tables values, got 1"):
        fit_scaling(pd.DataFrame({"n_tables": [5, 5], "wall_s": [1.0, 2.0]}))
    with pytest.raises(ConfigError, match="needs positive n_tables and wall_s"):
        fit_scaling(pd.DataFrame({"n_tables": [0, 5], "wall_s": [1.0, 2.0]}))
    with pytest.raises(ResultsSchemaError, match="x column 'rows'"):
        fit_scaling(df, x="rows")
    with pytest.raises(ConfigError, match="n >= 2 points, got 1"):
        ScalingFit(exponent=1.0, ci_low=1.0, ci_high=1.0, prefactor=1.0, r_squared=1.0, n=1)


def test_amdahl_fit_recovers_the_serial_fraction() -> None:
    workers = np.array([1, 2, 4, 8, 16])
    speedup = amdahl_speedup(workers, 0.2)
    assert speedup[1] == pytest.approx(1 / 0.6)
    fit = fit_amdahl(workers, speedup)
    assert fit.serial_fraction == pytest.approx(0.2, abs=1e-9)
    assert [fit.ci_low, fit.ci_high] == pytest.approx([0.2, 0.2], abs=1e-6)
    assert fit.n == 5
    assert fit.max_speedup == pytest.approx(5.0)
    assert fit.to_frame()["serial_fraction"].iloc[0] == pytest.approx(0.2, abs=1e-9)


def test_amdahl_fit_stays_in_bounds_and_validates() -> None:
    # superlinear speedups pull the fraction to its bound 0
    fit = fit_amdahl([1, 2, 4], [1.0, 2.1, 4.3])
    assert fit.serial_fraction == pytest.approx(0.0, abs=1e-9)
    assert fit.ci_low == 0.0
    with pytest.raises(ConfigError, match="differ in length: 2 vs 3"):
        fit_amdahl([1, 2], [1.0, 1.5, 2.0])
    with pytest.raises(ConfigError, match="positive finite"):
        fit_amdahl([0, 2], [1.0, 1.5])
    with pytest.raises(ConfigError, match=r"serial_fraction must be in \[0, 1\], got 1.5"):
        AmdahlFit(serial_fraction=1.5, ci_low=0.0, ci_high=1.0, n=3)


def test_import_rrperf_does_not_import_the_statistics() -> None:
    code = "import sys, rrperf; print('rrperf.bench.stats' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_no_warning_leaks_from_bootstrap_on_ties() -> None:
    df = pd.DataFrame({"system": ["a"] * 6, "wall_s": [1.0, 1.0, 1.0, 1.0, 1.0, 2.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = summarize(df, center="median", method="bca")
    assert out["ci_method"].iloc[0] == "bca-median"
