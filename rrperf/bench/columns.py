"""Column names shared by the result container, the statistics and the regression checks
(a module at the bottom, so that :mod:`rrperf.bench.results`, :mod:`rrperf.bench.stats` and
:mod:`rrperf.bench.regress` need not import each other for them)."""

from __future__ import annotations

# A group is one (scenario, system, strategy, cache state).
GROUP_COLUMNS: tuple[str, ...] = ("scenario", "system", "strategy", "cache_state")

SUMMARY_EXTRA_COLUMNS: tuple[str, ...] = (
    "n", "mean", "median", "std", "cv", "ci_low", "ci_high", "ci_method", "outliers",
)
COMPARISON_EXTRA_COLUMNS: tuple[str, ...] = (
    "baseline", "ratio", "ratio_ci_low", "ratio_ci_high", "p_value", "test", "verdict",
)
CHANGE_POINT_COLUMNS: tuple[str, ...] = ("position", "run_id", "before", "after", "change")
VERDICTS: tuple[str, ...] = ("faster", "slower", "equivalent", "inconclusive")
