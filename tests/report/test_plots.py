"""The charts: known tidy input -> known artists (points, interval ends, bands, lines, labels)."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.patches import Rectangle

from rrperf.bench.results import MEASUREMENT_COLUMNS, validate_measurements
from rrperf.errors import ConfigError, ReportError
from rrperf.report import plots
from rrperf.report.plots import (
    VERDICT_COLORS,
    cache_chart,
    ci_chart,
    comparison_chart,
    memory_timeline,
    regression_chart,
    scaling_chart,
    speedup_chart,
    variant_label,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# input builders
# --------------------------------------------------------------------------------------------


def measurements(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A contract-conforming measurement table; each row overrides the defaults."""
    base: dict[str, Any] = {
        "run_id": "r1", "started_at": T0, "scenario": "small", "system": "pipeline",
        "strategy": "parallel", "cache_state": "cold", "iteration": 0, "order": 0,
        "warmup": False, "wall_s": 1.0, "cpu_s": 1.0, "peak_rss_mb": 100.0, "n_tables": 15,
        "files_total": 60, "files_written": 60, "files_unchanged": 0, "cache_hits": 0,
        "cache_misses": 0, "output_digest": "d", "error": None,
    }
    table = [{**base, "order": i, **row} for i, row in enumerate(rows)]
    return validate_measurements(pd.DataFrame(table, columns=list(MEASUREMENT_COLUMNS)))


def summary_table() -> pd.DataFrame:
    return pd.DataFrame({
        "scenario": ["small", "small", "large", "large"],
        "system": ["legacy", "pipeline", "legacy", "pipeline"],
        "strategy": [pd.NA, "parallel", pd.NA, "parallel"],
        "cache_state": ["cold"] * 4,
        "n": [10, 10, 10, 10],
        "mean": [1.1, 0.55, 10.2, 4.1],
        "median": [1.0, 0.5, 10.0, 4.0],
        "std": [0.1, 0.05, 0.5, 0.2],
        "cv": [0.09, 0.09, 0.05, 0.05],
        "ci_low": [0.9, 0.45, 9.5, 3.8],
        "ci_high": [1.2, 0.6, 10.4, 4.5],
        "ci_method": ["percentile-median"] * 4,
        "outliers": [0, 0, 1, 0],
    })


def comparison_table() -> pd.DataFrame:
    return pd.DataFrame({
        "scenario": ["small", "small", "large"],
        "system": ["pipeline", "pipeline", "pipeline"],
        "strategy": ["parallel", "sequential", pd.NA],
        "cache_state": ["cold", "cold", "warm"],
        "baseline": ["legacy", "legacy", "legacy"],
        "ratio": [0.5, 1.01, 1.2],
        "ratio_ci_low": [0.45, 0.99, 1.1],
        "ratio_ci_high": [0.56, 1.015, 1.3],
        "p_value": [0.001, 0.6, 0.002],
        "test": ["mannwhitneyu"] * 3,
        "verdict": ["faster", "equivalent", "slower"],
    })


RUN_VALUES = {  # run -> wall times of its three iterations (medians 1, 1, 1, 1.5, 1.5, 1.5)
    "r1": [1.0, 1.1, 0.9], "r2": [1.0, 1.05, 0.95], "r3": [0.98, 1.0, 1.02],
    "r4": [1.5, 1.6, 1.4], "r5": [1.5, 1.55, 1.45], "r6": [1.48, 1.5, 1.52],
}


def history_table(*, extra_group: bool = False) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    # Stored out of time order on purpose: the chart must order runs by started_at.
    for k, run in enumerate(["r4", "r1", "r6", "r2", "r5", "r3"]):
        start = T0 + timedelta(hours=int(run[1:]))
        rows.append({"run_id": run, "started_at": start, "warmup": True, "wall_s": 9.0})
        rows += [{"run_id": run, "started_at": start, "iteration": i + 1, "wall_s": v}
                 for i, v in enumerate(RUN_VALUES[run])]
        rows.append({"run_id": run, "started_at": start, "iteration": 4, "wall_s": 7.0,
                     "error": "StageError: boom"})
        if extra_group:
            rows.append({"run_id": run, "started_at": start, "system": "legacy",
                         "strategy": None, "wall_s": 3.0 + k})
    return measurements(rows)


def change_points_table() -> pd.DataFrame:
    return pd.DataFrame({
        "scenario": ["small"], "system": ["pipeline"], "strategy": ["parallel"],
        "cache_state": ["cold"], "position": [3], "run_id": ["r4"], "before": [1.0],
        "after": [1.5], "change": [0.5],
    })


def methods_table() -> pd.DataFrame:
    """As rrperf.bench.speedup returns it (one row per run), for two worker counts
    concatenated."""
    return pd.DataFrame({
        "method": ["sequential", "thread", "process", "thread", "process"],
        "workers": [1, 2, 2, 4, 4],
        "repeat": [0] * 5,
        "wall_s": [8.0, 5.0, 4.4, 3.5, 2.5],
        "speedup": [1.0, 1.6, 1.8181818181818181, 2.2857142857142856, 3.2],
        "efficiency": [1.0, 0.8, 0.9090909090909091, 0.5714285714285714, 0.8],
        "fallback_reason": [None] * 5,
    })


def scaling_table() -> pd.DataFrame:
    rows = []
    for n, t in [(10, 0.1), (100, 1.0), (1000, 10.0)]:
        rows.append({"n_tables": n, "wall_s": t * 5, "warmup": True})
        rows += [{"n_tables": n, "wall_s": t * f, "iteration": i + 1}
                 for i, f in enumerate([0.9, 1.0, 1.1])]
    return measurements(rows)


def cache_report() -> pd.DataFrame:
    return pd.DataFrame({
        "category": ["schema", "schema", "render", "render", "types"],
        "tier": ["memory", "disk", "memory", "disk", "memory"],
        "requests": [10, 4, 20, 0, 5],
        "hits": [6, 3, 15, 0, 5],
        "misses": [4, 1, 5, 0, 0],
        "hit_rate": [0.6, 0.75, 0.75, math.nan, 1.0],
        "entries": [1, 1, 3, 0, 2],
        "bytes": [100, 100, 300, 0, 20],
        "mean_hit_latency_us": [1.0, 30.0, 1.0, math.nan, 1.0],
        "mean_miss_latency_us": [5.0, 50.0, 5.0, math.nan, math.nan],
    })


def samples_table() -> pd.DataFrame:
    return pd.DataFrame({
        "session": ["a"] * 4 + ["b"] * 2,
        "timestamp": pd.date_range(T0, periods=6, freq="s", tz="UTC"),
        "elapsed_s": [0.0, 0.5, 1.0, 1.5, 0.0, 0.5],
        "rss_mb": [100.0, 150.0, 220.0, 180.0, 90.0, 95.0],
        "cpu_percent": [10.0, 95.0, 180.0, 40.0, 5.0, 7.0],
    })


def alerts_table() -> pd.DataFrame:
    return pd.DataFrame({
        "session": ["a", "a", "c"],
        "metric": ["rss_mb", "cpu_percent", "rss_mb"],
        "level": ["warning", "critical", "warning"],
        "value": [220.0, 180.0, 999.0],
        "threshold": [200.0, 150.0, 200.0],
        "elapsed_s": [1.0, 1.0, 3.0],
        "message": ["rss above 200 MB", "cpu above 150 %", "other session"],
    })


def errorbar_segments(container: ErrorbarContainer) -> list[tuple[float, float, float, float]]:
    """Each error bar as (x0, y0, x1, y1), read back from the container's LineCollection."""
    _, _, barlines = container.lines
    segs = barlines[0].get_segments()
    return [(float(s[0][0]), float(s[0][1]), float(s[1][0]), float(s[1][1]))
            for s in segs if len(s)]  # an interval with NaN ends draws no segment


def assert_segments(container: ErrorbarContainer, expected: list[tuple[float, ...]]) -> None:
    got = errorbar_segments(container)
    assert len(got) == len(expected), got
    for g, e in zip(got, expected, strict=True):
        assert g == pytest.approx(e)


def lines_with_gid(ax: Axes, gid: str) -> list[Any]:
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


# --------------------------------------------------------------------------------------------
# variant_label
# --------------------------------------------------------------------------------------------


def test_variant_label_joins_system_and_strategy() -> None:
    df = pd.DataFrame({"system": ["pipeline", "legacy", "cmd", "x"],
                       "strategy": ["parallel", None, "  ", pd.NA]},
                      index=[10, 11, 12, 13])
    out = variant_label(df)
    assert out.tolist() == ["pipeline/parallel", "legacy", "cmd", "x"]
    assert out.name == "variant"
    assert out.index.tolist() == [10, 11, 12, 13]


def test_variant_label_without_strategy_column() -> None:
    assert variant_label(pd.DataFrame({"system": ["legacy"]})).tolist() == ["legacy"]


def test_variant_label_needs_system() -> None:
    with pytest.raises(ReportError, match=r"needs column 'system'; columns present: 'strategy'"):
        variant_label(pd.DataFrame({"strategy": ["parallel"]}))


# --------------------------------------------------------------------------------------------
# ci_chart
# --------------------------------------------------------------------------------------------


def test_ci_chart_points_and_interval_ends_come_from_the_summary() -> None:
    fig, given = plt.subplots()
    ax = ci_chart(summary_table(), ax=given)
    assert ax is given
    containers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(containers) == 2
    legacy, pipeline = containers
    # Categories in table order: small at 0, large at 1; two variants dodged by +-0.2.
    assert legacy.lines[0].get_xdata() == pytest.approx([-0.2, 0.8])
    assert legacy.lines[0].get_ydata() == pytest.approx([1.0, 10.0])
    assert pipeline.lines[0].get_xdata() == pytest.approx([0.2, 1.2])
    assert pipeline.lines[0].get_ydata() == pytest.approx([0.5, 4.0])
    assert_segments(legacy, [(-0.2, 0.9, -0.2, 1.2),
                                                       (0.8, 9.5, 0.8, 10.4)])
    assert_segments(pipeline, [(0.2, 0.45, 0.2, 0.6),
                                                         (1.2, 3.8, 1.2, 4.5)])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["small", "large"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["legacy", "pipeline/parallel"]
    assert ax.get_legend().get_title().get_text() == "variant"
    assert ax.get_yscale() == "linear"
    assert ax.get_xlabel() == "scenario"
    assert ax.get_ylabel() == "wall_s (median)"
    assert ax.get_title() == "median with percentile confidence interval"


def test_ci_chart_mean_center_and_log_scale() -> None:
    ax = ci_chart(summary_table().assign(ci_method="t"), log=True)
    legacy = ax.containers[0]
    assert legacy.lines[0].get_ydata() == pytest.approx([1.1, 10.2])
    assert errorbar_segments(legacy)[1] == pytest.approx((0.8, 9.5, 0.8, 10.4))
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "wall_s (mean)"
    assert ax.get_title() == "mean with t confidence interval"


def test_ci_chart_center_must_match_the_intervals() -> None:
    with pytest.raises(ReportError, match=r"intervals are for the median \(see its ci_method "
                                          r"column\), not the mean; pass center='median'"):
        ci_chart(summary_table(), center="mean")
    mixed = summary_table()
    mixed.loc[0, "ci_method"] = "t"
    with pytest.raises(ReportError, match="mixes intervals for the mean and the median"):
        ci_chart(mixed)
    ax = ci_chart(summary_table().drop(columns=["ci_method"]), center="median")
    assert ax.containers[0].lines[0].get_ydata() == pytest.approx([1.0, 10.0])
    assert ax.get_title() == "median with confidence interval"


def test_ci_chart_appends_cache_state_when_there_are_several() -> None:
    df = summary_table()
    df.loc[[2, 3], ["scenario", "cache_state"]] = ["small", "warm"]
    ax = ci_chart(df)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["legacy · cold", "pipeline/parallel · cold", "legacy · warm",
                      "pipeline/parallel · warm"]
    assert [c.lines[0].get_xdata()[0] for c in ax.containers] == pytest.approx(
        [-0.3, -0.1, 0.1, 0.3])


def test_ci_chart_hue_column_and_kws_are_passed_on() -> None:
    ax = ci_chart(summary_table(), x="system", hue="scenario", capsize=7, marker="s")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["small", "large"]
    assert ax.get_legend().get_title().get_text() == "scenario"
    assert ax.containers[0].lines[0].get_marker() == "s"
    assert ax.containers[0].lines[1][0].get_markersize() == 14  # caps are 2 * capsize


def test_ci_chart_rejects_rows_it_cannot_tell_apart() -> None:
    df = summary_table()
    df.loc[1, ["system", "strategy"]] = ["legacy", pd.NA]
    with pytest.raises(ReportError, match=r"several summary rows share scenario='small' and "
                                          r"variant 'legacy'; pass hue="):
        ci_chart(df)


def test_ci_chart_center_outside_its_interval() -> None:
    df = summary_table().assign(ci_method="t")
    df.loc[0, "mean"] = 1.5
    with pytest.raises(ReportError, match=r"mean 1.5 of scenario='small', variant 'legacy' lies "
                                          r"outside its interval \[0.9, 1.2\]"):
        ci_chart(df, center="mean")


def test_ci_chart_bad_center() -> None:
    with pytest.raises(ConfigError, match="center must be 'median', 'mean' or None, got 'mode'"):
        ci_chart(summary_table(), center="mode")  # type: ignore[arg-type]


def test_ci_chart_missing_column_names_it_and_the_columns_present() -> None:
    df = summary_table().drop(columns=["ci_high"])
    with pytest.raises(ReportError, match=r"ci_chart summary is missing column\(s\) 'ci_high'; "
                                          r"columns present: 'scenario', 'system'"):
        ci_chart(df)


def test_ci_chart_summarizes_a_measurement_table_with_stats() -> None:
    from rrperf.bench.stats import summarize

    rows = [{"system": sys_, "strategy": strat, "iteration": i, "wall_s": v}
            for sys_, strat, vals in [("legacy", None, [2.0, 2.2, 1.8, 2.1, 1.9]),
                                      ("pipeline", "parallel", [1.0, 1.2, 0.8, 1.1, 0.9])]
            for i, v in enumerate(vals)]
    data = measurements(rows)
    expected = summarize(data, value="wall_s", confidence=0.9)
    ax = ci_chart(data, confidence=0.9)
    got = {}
    for container, text in zip(ax.containers, ax.get_legend().get_texts(), strict=True):
        (_, lo, _, hi), = errorbar_segments(container)
        got[text.get_text()] = (container.lines[0].get_ydata()[0], lo, hi)
    want = {label: (r["median"], r["ci_low"], r["ci_high"])
            for label, (_, r) in zip(variant_label(expected), expected.iterrows(), strict=True)}
    assert list(got) == list(want) == ["legacy", "pipeline/parallel"]
    for label in want:
        assert got[label] == pytest.approx(want[label])
    assert got["legacy"][0] == 2.0
    assert ax.get_title() == "mean with t confidence interval"


def test_ci_chart_summarizes_for_the_median_when_asked() -> None:
    from rrperf.bench.stats import summarize

    data = measurements([{"iteration": i, "wall_s": v}
                         for i, v in enumerate([1.0, 1.4, 0.9, 1.1, 5.0, 1.2])])
    expected = summarize(data, center="median")
    ax = ci_chart(data, center="median")
    (container,) = ax.containers
    assert container.lines[0].get_ydata() == pytest.approx([1.15])
    assert_segments(container, [(0.0, expected["ci_low"].iloc[0], 0.0,
                                 expected["ci_high"].iloc[0])])
    assert ax.get_title() == "median with percentile confidence interval"


# --------------------------------------------------------------------------------------------
# comparison_chart
# --------------------------------------------------------------------------------------------


def test_comparison_chart_forest_plot() -> None:
    fig, given = plt.subplots()
    ax = comparison_chart(comparison_table(), threshold=0.05, ax=given)
    assert ax is given
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["small · pipeline/parallel · cold", "small · pipeline/sequential · cold",
                      "large · pipeline · warm"]
    assert ax.get_ylim() == (2.5, -0.5)  # first row on top
    faster, slower, equivalent = ax.containers  # VERDICTS order, present ones only
    assert_segments(faster, [(0.45, 0.0, 0.56, 0.0)])
    assert_segments(slower, [(1.1, 2.0, 1.3, 2.0)])
    assert_segments(equivalent, [(0.99, 1.0, 1.015, 1.0)])
    assert faster.lines[0].get_xdata() == pytest.approx([0.5])
    assert matplotlib.colors.to_hex(faster.lines[0].get_color()) == VERDICT_COLORS["faster"]
    assert matplotlib.colors.to_hex(slower.lines[0].get_color()) == VERDICT_COLORS["slower"]
    (band,) = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert band.get_x() == pytest.approx(0.95)
    assert band.get_width() == pytest.approx(0.10)
    assert band.get_label() == "noise band ±5.0%"
    (one,) = [ln for ln in ax.get_lines() if list(ln.get_xdata()) == [1.0, 1.0]]
    texts = {(t.get_text(), t.get_position()[1], matplotlib.colors.to_hex(t.get_color()))
             for t in ax.texts}
    assert texts == {("faster", 0.0, VERDICT_COLORS["faster"]),
                     ("equivalent", 1.0, VERDICT_COLORS["equivalent"]),
                     ("slower", 2.0, VERDICT_COLORS["slower"])}
    assert ax.get_xlabel() == "ratio to baseline legacy (< 1 is faster)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "noise band ±5.0%", "faster", "slower", "equivalent"]


def test_comparison_chart_draws_what_compare_computed() -> None:
    from rrperf.bench.regress import compare

    rows = []
    for it in range(8):
        rows += [
            {"system": "legacy", "strategy": None, "iteration": it, "wall_s": 2.0 + 0.01 * it},
            {"system": "pipeline", "strategy": "parallel", "iteration": it,
             "wall_s": 1.0 + 0.01 * it},
            {"system": "pipeline", "strategy": "sequential", "iteration": it,
             "wall_s": 2.0 + 0.011 * it},
        ]
    result = compare(measurements(rows), baseline="legacy")
    assert result["verdict"].tolist() == ["faster", "equivalent"]
    ax = comparison_chart(result)
    assert len(ax.containers) == 2  # faster, then equivalent (VERDICTS order)
    for container, (_, row) in zip(ax.containers, result.iterrows(), strict=True):
        y = float(container.lines[0].get_ydata()[0])
        assert container.lines[0].get_xdata() == pytest.approx([row["ratio"]])
        assert_segments(container, [(row["ratio_ci_low"], y, row["ratio_ci_high"], y)])
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "small · pipeline/parallel · cold", "small · pipeline/sequential · cold"]


def test_comparison_chart_default_threshold_band() -> None:
    ax = comparison_chart(comparison_table())
    (band,) = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert (band.get_x(), band.get_x() + band.get_width()) == pytest.approx((0.98, 1.02))


def test_comparison_chart_inconclusive_without_interval() -> None:
    df = comparison_table().iloc[:1].copy()
    df.loc[0, ["ratio_ci_low", "ratio_ci_high", "verdict"]] = [math.nan, math.nan, "inconclusive"]
    ax = comparison_chart(df)
    (container,) = ax.containers
    assert container.lines[0].get_xdata() == pytest.approx([0.5])
    assert errorbar_segments(container) == []
    assert [t.get_text() for t in ax.texts] == ["inconclusive"]


def test_comparison_chart_labels_with_the_columns_present() -> None:
    ax = comparison_chart(comparison_table().drop(columns=["scenario", "cache_state", "baseline"]))
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "pipeline/parallel", "pipeline/sequential", "pipeline"]
    assert ax.get_xlabel() == "ratio to baseline (< 1 is faster)"


def test_comparison_chart_unknown_verdict() -> None:
    df = comparison_table()
    df.loc[1, "verdict"] = "better"
    with pytest.raises(ReportError, match="unknown verdict.*'better'; expected one of faster, "
                                          "slower, equivalent, inconclusive"):
        comparison_chart(df)


@pytest.mark.parametrize("threshold", [-0.1, 1.0, "2%"])
def test_comparison_chart_bad_threshold(threshold: Any) -> None:
    with pytest.raises(ConfigError, match=r"threshold must be a number in \[0, 1\)"):
        comparison_chart(comparison_table(), threshold=threshold)


# --------------------------------------------------------------------------------------------
# regression_chart
# --------------------------------------------------------------------------------------------


def test_regression_chart_runs_change_points_and_first_segment_band() -> None:
    from rrperf.bench.stats import summarize

    history = history_table()
    fig, given = plt.subplots()
    ax = regression_chart(history, change_points=change_points_table(), ax=given)
    assert ax is given
    (runs,) = [ln for ln in ax.get_lines() if ln.get_label() == "per-run median"]
    assert list(runs.get_xdata()) == [0, 1, 2, 3, 4, 5]
    # Warm-ups (9.0) and failed iterations (7.0) are left out of the per-run medians.
    assert list(runs.get_ydata()) == pytest.approx([1.0, 1.0, 1.0, 1.5, 1.5, 1.5])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["r1", "r2", "r3", "r4", "r5", "r6"]
    (cp,) = lines_with_gid(ax, "change_point")
    assert list(cp.get_xdata()) == [2.5, 2.5]
    assert [t.get_text() for t in ax.texts] == [" +50.0%"]
    # Band: median and CI of every measured iteration of r1..r3, from rrperf.bench.stats.
    first = history.loc[history["run_id"].isin(["r1", "r2", "r3"])
                        & ~history["warmup"] & history["error"].isna()]
    want = summarize(first, value="wall_s", by=("scenario", "system", "strategy", "cache_state"),
                     center="median")
    (band,) = [p for p in ax.patches if p.get_label().startswith("baseline")]
    assert (band.get_y(), band.get_y() + band.get_height()) == pytest.approx(
        (want["ci_low"].iloc[0], want["ci_high"].iloc[0]))
    assert band.get_label() == "baseline (first 3 runs): 95% CI"
    (median,) = [ln for ln in ax.get_lines() if ln.get_label() == "baseline (first 3 runs): median"]
    assert list(median.get_ydata()) == [1.0, 1.0]
    assert ax.get_title() == "small · pipeline/parallel · cold: history"
    assert ax.get_ylabel() == "wall_s (per-run median)"


def test_regression_chart_band_of_a_chosen_run() -> None:
    from rrperf.bench.stats import summarize

    history = history_table()
    ax = regression_chart(history, change_points=change_points_table(), baseline="r5")
    rows = history.loc[(history["run_id"] == "r5") & ~history["warmup"] & history["error"].isna()]
    want = summarize(rows, value="wall_s", by=("scenario", "system", "strategy", "cache_state"),
                     center="median")
    (band,) = [p for p in ax.patches if p.get_label().startswith("baseline run r5")]
    assert (band.get_y(), band.get_y() + band.get_height()) == pytest.approx(
        (want["ci_low"].iloc[0], want["ci_high"].iloc[0]))
    (median,) = [ln for ln in ax.get_lines() if ln.get_label() == "baseline run r5: median"]
    assert list(median.get_ydata()) == [1.5, 1.5]


def test_regression_chart_places_change_points_by_position_without_run_id() -> None:
    cps = change_points_table().drop(columns=["run_id"])
    cps = pd.concat([cps, cps.assign(position=5, before=1.5, after=1.2)], ignore_index=True)
    ax = regression_chart(history_table(), change_points=cps)
    assert [list(ln.get_xdata()) for ln in lines_with_gid(ax, "change_point")] == [
        [2.5, 2.5], [4.5, 4.5]]
    assert [t.get_text() for t in ax.texts] == [" +50.0%", " -20.0%"]


def test_regression_chart_without_change_points_uses_every_run_as_baseline() -> None:
    empty = change_points_table().iloc[0:0]
    ax = regression_chart(history_table(), change_points=empty)
    assert lines_with_gid(ax, "change_point") == []
    (median,) = [ln for ln in ax.get_lines() if ln.get_label().endswith(": median")]
    assert median.get_label() == "baseline (first 6 runs): median"


def test_regression_chart_detects_change_points_itself() -> None:
    from rrperf.bench.regress import detect_change_points

    history = history_table()
    measured = history.loc[~history["warmup"] & history["error"].isna()]
    expected = detect_change_points(
        measured, value="wall_s", by=("scenario", "system", "strategy", "cache_state"))
    assert expected[["position", "run_id", "change"]].values.tolist() == [[3, "r4", 0.5]]
    ax = regression_chart(history)
    (cp,) = lines_with_gid(ax, "change_point")
    assert list(cp.get_xdata()) == [2.5, 2.5]
    assert [t.get_text() for t in ax.texts] == [" +50.0%"]


def test_regression_chart_needs_group_when_history_has_several() -> None:
    history = history_table(extra_group=True)
    with pytest.raises(ReportError, match=r"the history holds 2 groups .*pass group= to choose"):
        regression_chart(history, change_points=change_points_table())
    ax = regression_chart(history, change_points=change_points_table(),
                          group={"system": "pipeline"})
    (runs,) = [ln for ln in ax.get_lines() if ln.get_label() == "per-run median"]
    assert list(runs.get_ydata()) == pytest.approx([1.0, 1.0, 1.0, 1.5, 1.5, 1.5])
    # The change point belongs to the pipeline group only; the legacy group has none.
    ax = regression_chart(history, change_points=change_points_table(),
                          group=("small", "legacy", None, "cold"))
    (runs,) = [ln for ln in ax.get_lines() if ln.get_label() == "per-run median"]
    assert list(runs.get_ydata()) == pytest.approx([4.0, 6.0, 8.0, 3.0, 7.0, 5.0])
    assert lines_with_gid(ax, "change_point") == []


def test_regression_chart_bad_group_and_baseline() -> None:
    history = history_table()
    with pytest.raises(ConfigError, match="group names column.*'machine'"):
        regression_chart(history, change_points=change_points_table(), group={"machine": "x"})
    with pytest.raises(ReportError, match="nothing to plot: no measured rows in the history"):
        regression_chart(history, change_points=change_points_table(), group={"system": "zz"})
    with pytest.raises(ReportError, match="baseline run 'r9' is not in the history; runs: r1, r2"):
        regression_chart(history, change_points=change_points_table(), baseline="r9")


def test_regression_chart_all_rows_warmup() -> None:
    history = history_table()
    history["warmup"] = True
    with pytest.raises(ReportError, match="nothing to plot: history has no measured rows"):
        regression_chart(history, change_points=change_points_table())


# --------------------------------------------------------------------------------------------
# speedup_chart
# --------------------------------------------------------------------------------------------


def amdahl(n: np.ndarray, s: float) -> np.ndarray:
    return 1.0 / (s + (1.0 - s) / n)


def test_speedup_chart_with_a_given_fit() -> None:
    from rrperf.bench.stats import AmdahlFit

    fit = AmdahlFit(serial_fraction=0.1, ci_low=0.05, ci_high=0.15, n=6)
    fig, given = plt.subplots()
    ax = speedup_chart(methods_table(), fit=fit, ax=given)
    assert ax is given
    seq, thread, process = (ln for ln in ax.get_lines()
                            if ln.get_label() in ("sequential", "thread", "process"))
    assert (list(seq.get_xdata()), list(seq.get_ydata())) == ([1], [1.0])
    assert list(thread.get_xdata()) == [2, 4]
    assert list(thread.get_ydata()) == pytest.approx([1.6, 2.2857142857142856])
    assert list(process.get_ydata()) == pytest.approx([1.8181818181818181, 3.2])
    assert thread.get_linestyle() == "None"
    (ideal,) = lines_with_gid(ax, "ideal")
    assert (list(ideal.get_xdata()), list(ideal.get_ydata())) == ([1.0, 4.0], [1.0, 4.0])
    assert ideal.get_linestyle() == "--"
    (curve,) = lines_with_gid(ax, "amdahl")
    xs = np.asarray(curve.get_xdata())
    assert (xs[0], xs[-1]) == (1.0, 4.0)
    assert np.asarray(curve.get_ydata()) == pytest.approx(amdahl(xs, 0.1))
    assert curve.get_label() == "Amdahl s = 0.100 [0.050, 0.150]"
    assert ax.get_xlabel() == "workers"
    assert ax.get_ylabel() == "speedup"


def test_speedup_chart_fits_one_serial_fraction_to_every_row() -> None:
    from rrperf.bench.stats import fit_amdahl

    df = methods_table()
    f = fit_amdahl(df["workers"].to_numpy(float), df["speedup"].to_numpy(float))
    ax = speedup_chart(df)
    (curve,) = lines_with_gid(ax, "amdahl")
    assert curve.get_label() == (f"Amdahl s = {f.serial_fraction:.3f} "
                                 f"[{f.ci_low:.3f}, {f.ci_high:.3f}]")
    xs = np.asarray(curve.get_xdata())
    assert np.asarray(curve.get_ydata()) == pytest.approx(amdahl(xs, f.serial_fraction))


def test_speedup_chart_fit_per_method() -> None:
    from rrperf.bench.stats import AmdahlFit

    fit = {"thread": AmdahlFit(serial_fraction=0.25, ci_low=0.2, ci_high=0.3, n=3),
           "process": AmdahlFit(serial_fraction=0.08, ci_low=0.05, ci_high=0.11, n=3)}
    ax = speedup_chart(methods_table(), fit=fit)
    curves = lines_with_gid(ax, "amdahl")
    assert [c.get_label() for c in curves] == [
        "thread: Amdahl s = 0.250 [0.200, 0.300]", "process: Amdahl s = 0.080 [0.050, 0.110]"]
    (thread,) = [ln for ln in ax.get_lines() if ln.get_label() == "thread"]
    assert curves[0].get_color() == thread.get_color()
    with pytest.raises(ReportError, match="an Amdahl fit for none of the methods 'sequential'"):
        speedup_chart(methods_table(), fit={"gpu": fit["thread"]})


# --------------------------------------------------------------------------------------------
# scaling_chart
# --------------------------------------------------------------------------------------------


def test_scaling_chart_with_a_given_fit() -> None:
    from rrperf.bench.stats import ScalingFit

    fit = ScalingFit(exponent=1.02, ci_low=0.97, ci_high=1.07, prefactor=0.01, r_squared=0.998,
                     n=9)
    fig, given = plt.subplots()
    ax = scaling_chart(scaling_table(), fit=fit, ax=given)
    assert ax is given
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    (points,) = [ln for ln in ax.get_lines() if ln.get_label() == "measured"]
    assert len(points.get_xdata()) == 9  # warm-ups left out
    assert sorted(points.get_ydata()) == pytest.approx(
        sorted(t * f for t in (0.1, 1.0, 10.0) for f in (0.9, 1.0, 1.1)))
    (line,) = lines_with_gid(ax, "fit")
    xs = np.asarray(line.get_xdata())
    assert (xs[0], xs[-1]) == pytest.approx((10.0, 1000.0))
    assert np.asarray(line.get_ydata()) == pytest.approx(0.01 * xs**1.02)
    assert line.get_label() == "fit: exponent = 1.02 [0.97, 1.07]"
    assert ax.get_title() == "wall_s ∝ n_tables^1.02 (95% CI 0.97–1.07, R² = 0.998, n = 9)"


def test_scaling_chart_fits_with_stats() -> None:
    from rrperf.bench.stats import fit_scaling

    data = scaling_table()
    f = fit_scaling(data.loc[~data["warmup"]], x="n_tables", y="wall_s")
    ax = scaling_chart(data)
    assert f"^{f.exponent:.2f} (95% CI {f.ci_low:.2f}–{f.ci_high:.2f}" in ax.get_title()
    assert f.exponent == pytest.approx(1.0)


def test_scaling_chart_hue_with_fit_per_level() -> None:
    from rrperf.bench.stats import ScalingFit

    data = pd.concat([scaling_table(), scaling_table().assign(system="legacy")],
                     ignore_index=True)
    fits = {"pipeline": ScalingFit(1.0, 0.9, 1.1, 0.01, 0.99, 9),
            "legacy": ScalingFit(1.5, 1.4, 1.6, 0.001, 0.99, 9)}
    ax = scaling_chart(data, hue="system", fit=fits)
    assert [ln.get_label() for ln in lines_with_gid(ax, "fit")] == [
        "pipeline: exponent = 1.00 [0.90, 1.10]", "legacy: exponent = 1.50 [1.40, 1.60]"]
    assert ax.get_title() == "wall_s against n_tables (log–log)"
    with pytest.raises(ConfigError, match="with hue='system', fit must map each system level"):
        scaling_chart(data, hue="system", fit=fits["legacy"])
    with pytest.raises(ConfigError, match="fit is a mapping of hue levels but hue is None"):
        scaling_chart(data, fit=fits)


def test_scaling_chart_needs_positive_values() -> None:
    data = pd.DataFrame({"n_tables": [0, 10], "wall_s": [0.1, 1.0]})
    with pytest.raises(ReportError, match="log–log axes: 'n_tables' and 'wall_s' must be > 0"):
        scaling_chart(data)


# --------------------------------------------------------------------------------------------
# cache_chart
# --------------------------------------------------------------------------------------------


def test_cache_chart_bar_heights_are_hit_rates() -> None:
    fig, given = plt.subplots()
    ax = cache_chart(cache_report(), ax=given)
    assert ax is given
    memory, disk = (c for c in ax.containers if isinstance(c, BarContainer))
    assert [b.get_height() for b in memory] == pytest.approx([60.0, 75.0, 100.0])
    disk_heights = [b.get_height() for b in disk]
    assert disk_heights[0] == pytest.approx(75.0)
    assert math.isnan(disk_heights[1]) and math.isnan(disk_heights[2])  # no requests / no tier
    assert [b.get_x() + b.get_width() / 2 for b in memory] == pytest.approx([-0.2, 0.8, 1.8])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["schema", "render", "types"]
    assert ax.get_ylim() == (0.0, 100.0)
    assert [t.get_text() for t in ax.texts if t.get_text()] == [
        "60%", "75%", "100%", "75%", "n/a", "n/a"]
    na = [c for t in ax.texts if t.get_text() == "n/a" for c in t.get_position()]
    assert na == pytest.approx([1.2, 1.0, 2.2, 1.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["memory", "disk"]


def test_cache_chart_draws_a_real_cache_report(tmp_path: Any) -> None:
    from rrperf.engine.cache import CacheConfig, CacheOptimizer

    with CacheOptimizer(CacheConfig(directory=str(tmp_path))) as cache:
        for part in ["string", "integer", "string", "string"]:
            cache.get_or_compute("type_mapping", (part,), lambda part=part: part.upper())
        report = cache.cache_efficiency_report()
    ax = cache_chart(report)
    bars = [b for c in ax.containers if isinstance(c, BarContainer) for b in c]
    heights = {(cat, tier): b.get_height()
               for tier, c in zip(report["tier"].unique(), ax.containers, strict=True)
               for cat, b in zip(report["category"].unique(), c, strict=True)}
    assert len(bars) == report["category"].nunique() * report["tier"].nunique()
    for _, row in report.iterrows():
        got = heights[(row["category"], row["tier"])]
        if math.isnan(row["hit_rate"]):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(100 * row["hit_rate"])
    assert heights[("type_mapping", "memory")] == pytest.approx(50.0)  # 2 hits of 4 requests


def test_cache_chart_rejects_percentages_and_duplicates() -> None:
    df = cache_report()
    df.loc[0, "hit_rate"] = 60.0
    with pytest.raises(ReportError, match=r"hit_rate must be a fraction in \[0, 1\], got 60.0"):
        cache_chart(df)
    df = pd.concat([cache_report(), cache_report().iloc[:1]], ignore_index=True)
    with pytest.raises(ReportError, match="several rows for category 'schema', tier 'memory'"):
        cache_chart(df)


# --------------------------------------------------------------------------------------------
# memory_timeline
# --------------------------------------------------------------------------------------------


def test_memory_timeline_rss_cpu_twin_and_alerts() -> None:
    fig, given = plt.subplots()
    ax = memory_timeline(samples_table(), alerts=alerts_table(), ax=given)
    assert ax is given
    (twin,) = [a for a in fig.axes if a is not ax]
    assert ax.get_shared_x_axes().joined(ax, twin)
    rss = [ln for ln in ax.get_lines() if ln.get_label().startswith("RSS")]
    assert [ln.get_label() for ln in rss] == ["RSS (a)", "RSS (b)"]
    assert list(rss[0].get_xdata()) == [0.0, 0.5, 1.0, 1.5]
    assert list(rss[0].get_ydata()) == [100.0, 150.0, 220.0, 180.0]
    cpu = [ln for ln in twin.get_lines() if ln.get_label().startswith("CPU")]
    assert list(cpu[0].get_ydata()) == [10.0, 95.0, 180.0, 40.0]
    assert list(cpu[1].get_ydata()) == [5.0, 7.0]
    # Session "c" is not in the samples: two alerts drawn, coloured by level.
    alerts = lines_with_gid(ax, "alert")
    assert [list(ln.get_xdata()) for ln in alerts] == [[1.0, 1.0], [1.0, 1.0]]
    assert [matplotlib.colors.to_hex(ln.get_color()) for ln in alerts] == [
        plots.LEVEL_COLORS["warning"], plots.LEVEL_COLORS["critical"]]
    (rss_mark,) = [ln for ln in ax.get_lines() if ln.get_marker() == "v"]
    assert (list(rss_mark.get_xdata()), list(rss_mark.get_ydata())) == ([1.0], [220.0])
    (cpu_mark,) = [ln for ln in twin.get_lines() if ln.get_marker() == "v"]
    assert (list(cpu_mark.get_xdata()), list(cpu_mark.get_ydata())) == ([1.0], [180.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "RSS (a)", "RSS (b)", "alert: warning", "alert: critical", "CPU (a)", "CPU (b)"]
    assert (ax.get_ylabel(), twin.get_ylabel(), ax.get_xlabel()) == (
        "RSS (MB)", "CPU (%)", "elapsed (s)")


def test_memory_timeline_without_sessions_or_alerts() -> None:
    ax = memory_timeline(samples_table().drop(columns=["session"]).iloc[:4])
    assert [ln.get_label() for ln in ax.get_lines()] == ["RSS"]
    assert lines_with_gid(ax, "alert") == []


def test_memory_timeline_reads_the_monitor_frames_clock_times() -> None:
    from rrperf.engine.monitor import ALERT_COLUMNS, SAMPLE_COLUMNS

    samples = pd.DataFrame({
        "session": ["gen", "gen", "gen", "bench", "bench"],
        "t_s": [100.0, 100.5, 101.0, 200.0, 200.25],
        "rss_mb": [80.0, 120.0, 110.0, 60.0, 61.0],
        "cpu_percent": [50.0, 99.0, 30.0, 5.0, 6.0],
        "n_children": [0, 2, 0, 0, 0],
    }, columns=list(SAMPLE_COLUMNS))
    alerts = pd.DataFrame({
        "session": ["gen", "bench"], "time_s": [100.5, 200.25],
        "level": ["warning", "critical"], "metric": ["memory_usage", "execution_time"],
        "value": [120.0, 0.25], "threshold": [100.0, 0.1],
        "message": ["memory_usage is 120 MB, above 100 MB", "execution_time is 0.25 s"],
    }, columns=list(ALERT_COLUMNS))
    ax = memory_timeline(samples, alerts=alerts)
    gen, bench = (ln for ln in ax.get_lines() if ln.get_label().startswith("RSS"))
    assert list(gen.get_xdata()) == [0.0, 0.5, 1.0]  # from each session's first sample
    assert list(bench.get_xdata()) == [0.0, 0.25]
    assert [list(ln.get_xdata()) for ln in lines_with_gid(ax, "alert")] == [[0.5, 0.5],
                                                                             [0.25, 0.25]]
    # memory_usage is marked on the RSS axis; execution_time has no axis of its own.
    (mark,) = [ln for a in ax.figure.axes for ln in a.get_lines() if ln.get_marker() == "v"]
    assert mark.axes is ax
    assert (list(mark.get_xdata()), list(mark.get_ydata())) == ([0.5], [120.0])


def test_memory_timeline_cannot_align_clock_alerts_with_elapsed_samples() -> None:
    alerts = alerts_table().rename(columns={"elapsed_s": "time_s"})
    with pytest.raises(ReportError, match=r"alerts carry clock times \(time_s\) but the samples"):
        memory_timeline(samples_table(), alerts=alerts)
    with pytest.raises(ReportError, match=r"monitor samples is missing column\(s\) 'elapsed_s' "
                                          r"or 't_s'; columns present: 'session', 'timestamp'"):
        memory_timeline(samples_table().drop(columns=["elapsed_s"]))


def test_memory_timeline_alerts_need_their_columns() -> None:
    with pytest.raises(ReportError, match=r"alerts is missing column\(s\) 'level'"):
        memory_timeline(samples_table(), alerts=alerts_table().drop(columns=["level"]))


# --------------------------------------------------------------------------------------------
# every chart: validation, ax, no global state, headless PNG
# --------------------------------------------------------------------------------------------


def _fits() -> dict[str, Any]:
    from rrperf.bench.stats import AmdahlFit, ScalingFit

    return {"amdahl": AmdahlFit(0.1, 0.05, 0.15, 6),
            "scaling": ScalingFit(1.0, 0.9, 1.1, 0.01, 0.99, 9)}


CHARTS: dict[str, tuple[Callable[..., Axes], Callable[[], pd.DataFrame], dict[str, Any]]] = {
    "ci_chart": (ci_chart, summary_table, {}),
    "comparison_chart": (comparison_chart, comparison_table, {}),
    "regression_chart": (regression_chart, history_table,
                         {"change_points": change_points_table()}),
    "speedup_chart": (speedup_chart, methods_table, {"fit": "amdahl"}),
    "scaling_chart": (scaling_chart, scaling_table, {"fit": "scaling"}),
    "cache_chart": (cache_chart, cache_report, {}),
    "memory_timeline": (memory_timeline, samples_table, {"alerts": alerts_table()}),
}


def _call(name: str, **extra: Any) -> Axes:
    func, build, kws = CHARTS[name]
    kws = {k: (_fits()[v] if k == "fit" else v) for k, v in kws.items()}
    return func(build(), **kws, **extra)


@pytest.mark.parametrize("name", CHARTS)
def test_chart_draws_on_the_given_axes_and_saves_png(name: str) -> None:
    before = matplotlib.rcParams.copy()
    fig, given = plt.subplots()
    n_figs = len(plt.get_fignums())
    ax = _call(name, ax=given)
    assert ax is given
    assert len(plt.get_fignums()) == n_figs  # no new figure when ax is given
    assert ax.get_lines() or ax.containers or ax.patches
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(buf.getvalue()) > 1000
    assert matplotlib.rcParams.copy() == before


@pytest.mark.parametrize("name", CHARTS)
def test_chart_without_ax_makes_a_new_figure(name: str) -> None:
    ax = _call(name)
    assert isinstance(ax, Axes)
    assert plt.get_fignums() == [ax.figure.number]


@pytest.mark.parametrize("name", CHARTS)
def test_chart_rejects_empty_input(name: str) -> None:
    func, build, kws = CHARTS[name]
    with pytest.raises(ReportError, match=r"^nothing to plot: .* has no rows$"):
        func(build().iloc[0:0])
    assert plt.get_fignums() == []


@pytest.mark.parametrize(("name", "column"), [
    ("ci_chart", "median"), ("comparison_chart", "ratio_ci_low"), ("regression_chart", "run_id"),
    ("speedup_chart", "workers"), ("scaling_chart", "n_tables"), ("cache_chart", "hit_rate"),
    ("memory_timeline", "rss_mb"),
])
def test_chart_names_a_missing_column(name: str, column: str) -> None:
    func, build, kws = CHARTS[name]
    data = build().drop(columns=[column])
    present = ", ".join(repr(c) for c in data.columns)
    pattern = rf"missing column\(s\) '{column}'; columns present: "
    with pytest.raises(ReportError, match=pattern) as info:
        func(data)
    assert str(info.value).endswith(present)


def test_charts_reject_non_frames() -> None:
    with pytest.raises(ReportError, match="cache report must be a pandas DataFrame, got dict"):
        cache_chart({"category": ["a"]})  # type: ignore[arg-type]


def test_importing_plots_stays_light() -> None:
    import subprocess
    import sys

    code = ("import sys, rrperf.report.plots; "
            "print(sorted(m for m in ('matplotlib', 'seaborn', 'pandas', 'scipy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------------
# distribution_chart, time_unit, legends
# --------------------------------------------------------------------------------------------


def test_time_unit_is_the_unit_of_the_typical_value() -> None:
    from rrperf.report.plots import time_unit

    assert time_unit([0.004, 0.030, 0.012]) == (1000.0, "ms")
    assert time_unit([2.5, 1.5, 0.2]) == (1.0, "s")
    assert time_unit([2e-6, 5e-6]) == (1e6, "µs")
    assert time_unit([]) == (1.0, "s")


def test_distribution_chart_draws_every_iteration_and_the_median_in_ms() -> None:
    from rrperf.report.plots import distribution_chart

    walls = {"legacy": [0.010, 0.012, 0.011, 0.030], "pipeline": [0.002, 0.003, 0.0025, 0.004]}
    rows = [
        {"system": system, "strategy": "" if system == "legacy" else "parallel",
         "iteration": i, "wall_s": w}
        for system, values in walls.items() for i, w in enumerate(values)
    ] + [{"system": "legacy", "strategy": "", "iteration": 9, "warmup": True, "wall_s": 9.0}]
    ax = distribution_chart(measurements(rows))
    points = [ln for ln in ax.get_lines() if ln.get_gid() == "iterations"]
    assert len(points) == 2
    # every measured iteration, in ms (the warm-up is left out)
    assert sorted(points[0].get_ydata()) == pytest.approx([10.0, 11.0, 12.0, 30.0])
    assert sorted(points[1].get_ydata()) == pytest.approx([2.0, 2.5, 3.0, 4.0])
    medians = [c.lines[0].get_ydata()[0] for c in ax.containers]
    assert medians == pytest.approx([11.5, 2.75])  # the medians, not the means (15.75, 2.875)
    assert ax.get_ylabel() == "wall_s (ms)"
    assert ax.get_yscale() == "linear"  # 2-30 ms: within 20x
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["legacy", "pipeline/parallel"]
    # the legend is outside the axes: it covers no data
    assert legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1


def test_distribution_chart_uses_a_log_axis_for_a_wide_range() -> None:
    from rrperf.report.plots import distribution_chart

    rows = [{"wall_s": w, "iteration": i} for i, w in enumerate([0.001, 0.002, 0.5])]
    ax = distribution_chart(measurements(rows))
    assert ax.get_yscale() == "log"
    with pytest.raises(ReportError, match="nothing to plot"):
        distribution_chart(measurements([{"wall_s": 1.0, "warmup": True}]))
