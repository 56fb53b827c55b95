"""Comparisons between variants, regression checks between runs, change points in a history.

Every function is pure (DataFrame in, new DataFrame out) and seeded: the bootstrap draws from
``numpy.random.default_rng(seed)``, so equal inputs give equal outputs.

How a verdict is reached (:func:`compare`)
------------------------------------------
A comparison is *paired* when the run was interleaved: both sides have one row per
``iteration`` of the same ``run_id``, the same set of rounds, and positive values. Then the
whole comparison rests on the per-round log ratios ``d_i = log(variant_i / baseline_i)``, which
cancel the machine's drift and bursts shared by a round: ``ratio = exp(median(d))`` (the median,
not the Hodges-Lehmann estimate, because a burst that hits a single iteration spoils one
``d_i``), its interval a percentile bootstrap of the same statistic over rounds, and the p-value
from a paired test on ``d`` (``paired_test="auto"``): Wilcoxon's signed-rank test from 8 rounds
on, the one-sample t test (``"paired-t(log)"``) below, where the signed-rank test cannot go
below p = 0.0625 (5 rounds). With single-iteration bursts the t test loses most of its power
(39% against 87% for a 5% slowdown, see below), hence the signed-rank test when it can reach
significance. Otherwise (independent samples) the effect is the **ratio of medians** variant /
baseline (< 1 is faster) with a percentile bootstrap (:func:`scipy.stats.bootstrap`)
resampling each side on its own, and the p-value from the Mann-Whitney U test (or Welch's t
test). The ``test`` column names the test used. The p-values of one call are adjusted for
multiplicity with Benjamini-Hochberg (:func:`scipy.stats.false_discovery_control`).

``faster`` needs the whole interval below ``1 - threshold`` **and** ``p_adjusted < 1 -
confidence``; ``slower`` the mirror image. The interval alone controls the error of each
comparison; requiring the BH-adjusted p-value as well keeps the chance that a call with many
comparisons of identical code reports any ``faster``/``slower`` at or below ``1 - confidence``
(BH controls the family-wise error when no variant differs). ``equivalent`` needs the whole
interval inside ``[1 - threshold, 1 + threshold]``: a two one-sided tests (TOST) decision, each
side at level ``(1 - confidence) / 2``, so it is conservative. Anything else is
``inconclusive``.

Measured validity (A/A false claims, power, interval coverage): README, "Statistics (issue 4)",
from ``benchmarks/bench_stats_validity.py``.

Change points (:func:`detect_change_points`)
--------------------------------------------
PELT (Killick, Fearnhead & Eckley 2012) from ``ruptures`` with the ``l2`` (mean-shift) cost on
the log of each run's median, so that levels change by factors and the noise is relative. The
penalty is ``penalty_factor * sigma**2 * ln(n)``: ``sigma`` is the robust noise level (MAD of
first differences / sqrt(2), which steps barely move) and ``penalty_factor = 3`` is BIC's 2 plus
one, chosen by Monte Carlo: on 60-point series at 2-5% CV it raises a false alarm on about 3% of
series without a change (BIC: about 12%) and still finds a 10% step within two points in
99-100% of series at 2-3% CV and 92% at 5% CV.

A shared CI machine also produces stray runs (one or two in a row, 1.3-2x slower), which PELT
reads as level shifts; so each point is first clipped around a running median and every
breakpoint is then confirmed by a rank test (details in :func:`detect_change_points`; measured
precision and recall against Apache Otava: README, ``benchmarks/bench_changepoints.py``).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.stats

from rrperf._util import is_int
from rrperf.bench.columns import CHANGE_POINT_COLUMNS, COMPARISON_EXTRA_COLUMNS
from rrperf.bench.stats import _quiet_bootstrap, group_columns, measured_rows
from rrperf.errors import BenchmarkError, ConfigError, ResultsSchemaError

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "COMPARISON_COLUMNS_ADDED",
    "CORRECTIONS",
    "PAIRED_TESTS",
    "WILCOXON_MIN_ROUNDS",
    "REGRESSION_COLUMNS",
    "TESTS",
    "adjust_p_values",
    "compare",
    "detect_change_points",
    "detect_regressions",
    "paired_p_values",
    "paired_ratio_intervals",
    "paired_test_for",
    "ratio_intervals",
]

logger = logging.getLogger(__name__)

#: Tests offered for the p-value, as named in the ``test`` column.
TESTS: tuple[str, ...] = ("mann-whitney", "welch")
#: Paired tests on the per-round log ratios, as named in the ``test`` column. ``"auto"`` (the
#: default of :func:`compare`) picks Wilcoxon's signed-rank test from ``WILCOXON_MIN_ROUNDS``
#: rounds on and the paired t test below (see the module notes).
PAIRED_TESTS: tuple[str, ...] = ("auto", "paired-t(log)", "wilcoxon(log)")
#: Fewest rounds for which ``"auto"`` uses the signed-rank test (its smallest two-sided
#: p-value is 2 / 2**n: 0.0625 at 5 rounds, 0.0078 at 8).
WILCOXON_MIN_ROUNDS = 8
#: Multiplicity corrections offered (``"none"`` leaves ``p_adjusted`` equal to ``p_value``).
CORRECTIONS: tuple[str, ...] = ("fdr_bh", "fdr_by", "bonferroni", "none")
#: Columns :func:`compare` adds after ``COMPARISON_EXTRA_COLUMNS``.
COMPARISON_COLUMNS_ADDED: tuple[str, ...] = (
    "n", "n_baseline", "paired", "p_adjusted", "correction",
)
#: Columns of :func:`detect_regressions` after the group columns.
REGRESSION_COLUMNS: tuple[str, ...] = (
    "n_current", "n_baseline", "ratio", "ratio_ci_low", "ratio_ci_high", "p_value",
    "p_adjusted", "test", "correction", "regression", "improvement",
)

_INTERVAL_METHODS = ("percentile", "bca")
_BATCH_VALUES = 4_000_000
_ROW_CHUNK = 64


# --- Building blocks ------------------------------------------------------------------------


def _median_ratio(a: NDArray[np.float64], b: NDArray[np.float64], axis: int = -1) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.median(a, axis=axis) / np.median(b, axis=axis)


def ratio_intervals(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    *,
    paired: bool = False,
    confidence: float = 0.95,
    method: str = "percentile",
    n_resamples: int = 9999,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Ratio of medians ``median(a) / median(b)`` per row, with a bootstrap interval.

    Parameters
    ----------
    a, b : numpy.ndarray
        Shape ``(rows, n_a)`` and ``(rows, n_b)``, ``n_a, n_b >= 2``; one comparison per row.
    paired : bool
        Resample the columns of ``a`` and ``b`` jointly (needs ``n_a == n_b``; column ``i`` of
        both is round ``i``), otherwise independently.
    confidence : float
        Two-sided level.
    method : {"percentile", "bca"}
        Bootstrap interval. Percentile is the default: BCa's jackknife is not consistent for
        medians.
    n_resamples : int
        Bootstrap resamples.
    seed : int
        Seed of the generator.

    Returns
    -------
    (ratio, low, high) : tuple of numpy.ndarray, each of shape ``(rows,)``

    Raises
    ------
    ConfigError
        For bad shapes, an unknown method or a confidence outside (0, 1).
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.ndim != 2 or y.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ConfigError(f"a and b must be 2-D with equal row counts, got {x.shape} and {y.shape}")
    if x.shape[1] < 2 or y.shape[1] < 2:
        raise ConfigError(f"each side needs at least 2 values, got {x.shape[1]} and {y.shape[1]}")
    if paired and x.shape != y.shape:
        raise ConfigError(f"paired samples must have equal shapes, got {x.shape} and {y.shape}")
    if method not in _INTERVAL_METHODS:
        raise ConfigError(f"method must be one of {', '.join(_INTERVAL_METHODS)}, got {method!r}")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    if n_resamples < 100:
        raise ConfigError(f"n_resamples must be at least 100, got {n_resamples!r}")
    ratio = np.asarray(_median_ratio(x, y), dtype=float)
    lo = ratio.copy()
    hi = ratio.copy()
    # Rows without spread on either side have a degenerate bootstrap distribution.
    varies = np.flatnonzero((np.ptp(x, axis=1) > 0) | (np.ptp(y, axis=1) > 0))
    # The batch size depends only on the sample sizes and every chunk restarts the generator,
    # so each row is resampled with the same indices whatever other rows are present.
    batch = max(1, min(n_resamples, _BATCH_VALUES // (_ROW_CHUNK * (x.shape[1] + y.shape[1]))))
    for start in range(0, len(varies), _ROW_CHUNK):
        idx = varies[start : start + _ROW_CHUNK]
        ci = _quiet_bootstrap(
            (x[idx], y[idx]), _median_ratio, method=method, confidence=confidence,
            n_resamples=n_resamples, batch=batch, seed=seed, paired=paired,
        )
        lo[idx] = ci.low
        hi[idx] = ci.high
    return ratio, lo, hi


def paired_ratio_intervals(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    *,
    confidence: float = 0.95,
    method: str = "percentile",
    n_resamples: int = 9999,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Median per-round ratio ``exp(median(log(a_i / b_i)))`` per row, with a bootstrap interval.

    Column ``i`` of ``a`` and ``b`` is round ``i``; the per-round log ratios ``d_i`` are
    resampled over rounds (:func:`rrperf.bench.stats.center_intervals` with
    ``center="median"``) and the interval is mapped back with ``exp``. For an even number of
    rounds the point estimate is the geometric mean of the two middle ratios.

    Parameters
    ----------
    a, b : numpy.ndarray
        Shape ``(rows, n)``, ``n >= 2``, all values positive; one comparison per row.
    confidence : float
        Two-sided level.
    method : {"percentile", "bca"}
        Bootstrap interval of the median log ratio.
    n_resamples : int
        Bootstrap resamples.
    seed : int
        Seed of the generator; every row is resampled with the same indices.

    Returns
    -------
    (ratio, low, high) : tuple of numpy.ndarray, each of shape ``(rows,)``

    Raises
    ------
    ConfigError
        For bad shapes, non-positive values, an unknown method or a confidence outside (0, 1).
    """
    from rrperf.bench.stats import center_intervals

    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.ndim != 2 or x.shape != y.shape or x.shape[1] < 2:
        raise ConfigError(
            f"a and b must be 2-D of equal shape with at least 2 rounds, got {x.shape} and "
            f"{y.shape}"
        )
    if not ((x > 0).all() and (y > 0).all()):
        raise ConfigError("paired ratios need positive values on both sides")
    if method not in _INTERVAL_METHODS:
        raise ConfigError(f"method must be one of {', '.join(_INTERVAL_METHODS)}, got {method!r}")
    r = x / y
    s = np.sort(r, axis=1)
    n = r.shape[1]
    # exp(median(log r)) computed on the ratios, so that equal ratios give the ratio exactly.
    ratio = s[:, n // 2] if n % 2 else np.sqrt(s[:, n // 2 - 1] * s[:, n // 2])
    lo, hi = center_intervals(
        np.log(r), center="median", method=method, confidence=confidence,
        n_resamples=n_resamples, seed=seed,
    )
    const = np.ptp(r, axis=1) == 0
    lo = np.where(const, ratio, np.exp(lo))
    hi = np.where(const, ratio, np.exp(hi))
    return np.asarray(ratio, dtype=float), lo, hi


def paired_test_for(n: int, paired_test: str = "auto") -> str:
    """The paired test actually used for ``n`` rounds.

    Parameters
    ----------
    n : int
        Number of rounds.
    paired_test : {"auto", "paired-t(log)", "wilcoxon(log)"}

    Returns
    -------
    str
        ``paired_test`` itself unless it is ``"auto"``: then ``"wilcoxon(log)"`` from
        :data:`WILCOXON_MIN_ROUNDS` rounds on, else ``"paired-t(log)"``.
    """
    if paired_test != "auto":
        return paired_test
    return "wilcoxon(log)" if n >= WILCOXON_MIN_ROUNDS else "paired-t(log)"


def paired_p_values(
    a: NDArray[np.float64], b: NDArray[np.float64], test: str = PAIRED_TESTS[0]
) -> NDArray[np.float64]:
    """Two-sided p-value per row from the per-round log ratios ``log(a_i / b_i)``.

    Parameters
    ----------
    a, b : numpy.ndarray
        Shape ``(rows, n)``, positive values, column ``i`` is round ``i``.
    test : {"auto", "paired-t(log)", "wilcoxon(log)"}
        One-sample t test of the mean log ratio against 0, or the Wilcoxon signed-rank test;
        ``"auto"`` resolves with :func:`paired_test_for`.

    Returns
    -------
    numpy.ndarray
        Shape ``(rows,)``. Rows whose log ratios are all equal get 1.0 when they are 0 (no
        difference) and 0.0 otherwise (every round changed by the same factor).

    Raises
    ------
    ConfigError
        For an unknown test.
    """
    if test not in PAIRED_TESTS:
        raise ConfigError(f"test must be one of {', '.join(PAIRED_TESTS)}, got {test!r}")
    d = np.log(np.asarray(a, dtype=float) / np.asarray(b, dtype=float))
    test = paired_test_for(d.shape[1], test)
    const = np.ptp(d, axis=1) == 0
    p = np.full(d.shape[0], np.nan)
    var = ~const
    if var.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if test == "paired-t(log)":
                res = scipy.stats.ttest_1samp(d[var], 0.0, axis=1)
            else:
                res = scipy.stats.wilcoxon(d[var], axis=1, zero_method="zsplit")
        p[var] = np.asarray(res.pvalue, dtype=float)
    p[const] = np.where(d[const, 0] == 0, 1.0, 0.0)
    return p


def _p_values(a: NDArray[np.float64], b: NDArray[np.float64], test: str) -> NDArray[np.float64]:
    """Two-sided p-value per row of ``a`` (rows, n_a) against the same row of ``b``."""
    const = (np.ptp(a, axis=1) == 0) & (np.ptp(b, axis=1) == 0)
    if test == "mann-whitney":
        p = np.asarray(scipy.stats.mannwhitneyu(a, b, alternative="two-sided", axis=1).pvalue)
    else:
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            # "Precision loss ... catastrophic cancellation" when a side is (nearly) constant;
            # the statistic is still the right one for the data at hand.
            warnings.simplefilter("ignore", RuntimeWarning)
            p = np.asarray(scipy.stats.ttest_ind(a, b, equal_var=False, axis=1).pvalue)
    p = np.array(p, dtype=float, ndmin=1)
    # Both sides constant: identical values carry no evidence of a difference; distinct ones
    # are perfectly separated (Welch's variance estimate is zero there, so set it directly).
    same = const & (a[:, 0] == b[:, 0])
    p[same] = 1.0
    if test == "welch":
        p[const & ~same] = 0.0
    return p


def adjust_p_values(
    p_values: Sequence[float] | NDArray[np.float64], correction: str
) -> NDArray[np.float64]:
    """Adjust p-values for multiplicity; NaN entries stay NaN and are not counted.

    Parameters
    ----------
    p_values : array-like of float
    correction : {"fdr_bh", "fdr_by", "bonferroni", "none"}
        Benjamini-Hochberg and Benjamini-Yekutieli use
        :func:`scipy.stats.false_discovery_control`.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ConfigError
        For an unknown correction.
    """
    if correction not in CORRECTIONS:
        raise ConfigError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if not ok.any():
        return out
    if correction == "none":
        out[ok] = p[ok]
    elif correction == "bonferroni":
        out[ok] = np.minimum(1.0, p[ok] * ok.sum())
    else:
        out[ok] = scipy.stats.false_discovery_control(p[ok], method=correction[-2:])
    return out


def _check_common(confidence: float, threshold: float, test: str, correction: str) -> None:
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    if not 0.0 <= threshold < 1.0:
        raise ConfigError(f"threshold must be in [0, 1), got {threshold!r}")
    if test not in TESTS:
        raise ConfigError(f"test must be one of {', '.join(TESTS)}, got {test!r}")
    if correction not in CORRECTIONS:
        raise ConfigError(f"correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")


def _label(system: Any, strategy: Any = None) -> str:
    sys_ = "<NA>" if pd.isna(system) else str(system)
    if strategy is None or pd.isna(strategy) or str(strategy) == "":
        return sys_
    return f"{sys_}/{strategy}"


def _pair(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    ka: NDArray[np.int64] | None,
    kb: NDArray[np.int64] | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    """Align two sides by round (``ka``/``kb``: round codes, -1 = unknown) when interleaved."""
    if ka is None or kb is None or len(a) != len(b) or len(a) < 2:
        return a, b, False
    if (ka < 0).any() or (kb < 0).any() or not ((a > 0).all() and (b > 0).all()):
        # Per-round log ratios need positive values.
        return a, b, False
    oa = np.argsort(ka, kind="stable")
    ob = np.argsort(kb, kind="stable")
    sa, sb = ka[oa], kb[ob]
    if (np.diff(sa) == 0).any() or not np.array_equal(sa, sb):
        return a, b, False
    return a[oa], b[ob], True


def _verdict(lo: float, hi: float, p_adj: float, threshold: float, alpha: float) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "inconclusive"
    significant = math.isfinite(p_adj) and p_adj < alpha
    if hi < 1.0 - threshold and significant:
        return "faster"
    if lo > 1.0 + threshold and significant:
        return "slower"
    if lo >= 1.0 - threshold and hi <= 1.0 + threshold:
        return "equivalent"
    return "inconclusive"


def _require_value(frame: pd.DataFrame, value: str) -> None:
    if value not in frame.columns:
        measured_rows(frame.iloc[0:0], value)  # raises the ResultsSchemaError


def _row(frame: pd.DataFrame, label: Any) -> dict[str, Any]:
    """One row of ``frame`` (by index label) as a column -> value dict."""
    row = frame.loc[label]
    return {str(c): row[c] for c in frame.columns}


def _ids(frame: pd.DataFrame, cols: Sequence[str]) -> NDArray[np.int64]:
    if not cols:
        return np.zeros(len(frame), dtype=np.int64)
    # Sorted per-column codes combined lexicographically: the same numbering as a sorted
    # groupby(dropna=False).ngroup(), without its cost (compare runs this on every call).
    combined = np.zeros(len(frame), dtype=np.int64)
    for col in cols:
        codes, uniques = pd.factorize(frame[col], sort=True, use_na_sentinel=False)
        combined = combined * (len(uniques) + 1) + codes
    return np.asarray(np.unique(combined, return_inverse=True)[1], dtype=np.int64).ravel()


def _effects(
    tasks: list[tuple[NDArray[np.float64], NDArray[np.float64], bool]],
    *,
    confidence: float,
    method: str,
    n_resamples: int,
    seed: int,
    test: str,
    paired_test: str = PAIRED_TESTS[0],
) -> list[tuple[float, float, float, float]]:
    """(ratio, low, high, p) per task; tasks of equal shape share one vectorized bootstrap.

    Paired tasks use the per-round log ratios (:func:`paired_ratio_intervals`,
    :func:`paired_p_values` with ``paired_test``), the others the ratio of medians and ``test``.
    """
    nan = math.nan
    out: list[tuple[float, float, float, float]] = [(nan, nan, nan, nan)] * len(tasks)
    shapes: dict[tuple[int, int, bool], list[int]] = {}
    for i, (a, b, paired) in enumerate(tasks):
        if len(a) >= 2 and len(b) >= 2:
            shapes.setdefault((len(a), len(b), paired), []).append(i)
    for (_, _, paired), idx in shapes.items():
        a_stack = np.vstack([tasks[i][0] for i in idx])
        b_stack = np.vstack([tasks[i][1] for i in idx])
        if paired:
            ratio, lo, hi = paired_ratio_intervals(
                a_stack, b_stack, confidence=confidence, method=method,
                n_resamples=n_resamples, seed=seed,
            )
            p = paired_p_values(a_stack, b_stack, paired_test)
        else:
            ratio, lo, hi = ratio_intervals(
                a_stack,
                b_stack,
                confidence=confidence,
                method=method,
                n_resamples=n_resamples,
                seed=seed,
            )
            p = _p_values(a_stack, b_stack, test)
        for j, i in enumerate(idx):
            out[i] = (float(ratio[j]), float(lo[j]), float(hi[j]), float(p[j]))
    return out


def compare(
    data: pd.DataFrame,
    baseline: str,
    value: str = "wall_s",
    by: Sequence[str] | None = None,
    confidence: float = 0.95,
    threshold: float = 0.02,
    *,
    seed: int = 0,
    correction: str = "fdr_bh",
    test: str = "mann-whitney",
    method: str = "percentile",
    n_resamples: int = 9999,
    paired_test: str = PAIRED_TESTS[0],
) -> pd.DataFrame:
    """Compare every variant with a baseline, per scenario and cache state.

    See the module notes for the method and its measured validity.

    Parameters
    ----------
    data : pandas.DataFrame
        A measurement table with a ``system`` column (and usually ``strategy``).
    baseline : str
        A system (``"legacy"``) or one variant as ``"system/strategy"``
        (``"pipeline/sequential"``). A bare system must have one strategy per group.
    value : str
        The measured column.
    by : sequence of str or None
        Grouping columns including ``system`` (and ``strategy``); ``None`` means the
        ``GROUP_COLUMNS`` present. The comparison groups are the columns other than
        ``system``/``strategy``.
    confidence : float
        Level of the ratio's interval; ``1 - confidence`` is also the level of the adjusted
        p-value needed for ``faster``/``slower``.
    threshold : float
        Relative change that matters: the verdict band is ``[1 - threshold, 1 + threshold]``.
    seed : int
        Seed of the bootstrap.
    correction : {"fdr_bh", "fdr_by", "bonferroni", "none"}
        Multiplicity correction across all comparisons of the call.
    test : {"mann-whitney", "welch"}
        Test for ``p_value`` when the sides are not paired by round.
    method : {"percentile", "bca"}
        Bootstrap interval of the ratio.
    n_resamples : int
        Bootstrap resamples.
    paired_test : {"auto", "paired-t(log)", "wilcoxon(log)"}
        Test on the per-round log ratios when the sides are paired by round; ``"auto"`` is
        the signed-rank test from 8 rounds on and the paired t test below.

    Returns
    -------
    pandas.DataFrame
        One row per group and non-baseline variant: the ``by`` columns, then ``baseline, ratio,
        ratio_ci_low, ratio_ci_high, p_value, test, verdict`` and then ``n, n_baseline, paired,
        p_adjusted, correction``. A side with fewer than 2 usable rows gives NaN statistics and
        ``inconclusive``.

    Raises
    ------
    BenchmarkError
        When ``baseline`` matches no variant (the message lists the systems and variants
        present) or a bare system matches several variants in one group.
    ResultsSchemaError
        When ``value``, ``system`` or a ``by`` column is missing.
    ConfigError
        For a bad option.
    """
    _check_common(confidence, threshold, test, correction)
    if paired_test not in PAIRED_TESTS:
        raise ConfigError(
            f"paired_test must be one of {', '.join(PAIRED_TESTS)}, got {paired_test!r}"
        )
    by_cols = group_columns(data, by)
    if by is None:  # issue 13: rows of two hosts are never paired (rrperf.bench.hosts)
        from rrperf.bench.hosts import with_hosts

        (data,), host_cols = with_hosts(data)
        by_cols += host_cols
    if "system" not in by_cols:
        raise ResultsSchemaError(
            "compare needs a 'system' column among the grouping columns; "
            f"got {', '.join(by_cols) or '(none)'}"
        )
    _require_value(data, value)
    variant_cols = [c for c in ("system", "strategy") if c in by_cols]
    outer_cols = [c for c in by_cols if c not in variant_cols]
    b_system, _, b_strategy = baseline.partition("/")
    if "/" in baseline and "strategy" not in variant_cols:
        raise BenchmarkError(
            f"baseline {baseline!r} names a strategy but the table has no 'strategy' column; "
            "name a system only"
        )

    used = [*by_cols, value, *(c for c in ("warmup", "error", "run_id", "iteration") if c in data)]
    frame = data.loc[:, list(dict.fromkeys(used))].copy()
    frame["__gid"] = _ids(frame, outer_cols)
    frame["__vid"] = _ids(frame, variant_cols)
    variants = frame.drop_duplicates("__vid").sort_values("__vid")
    is_base = (variants["system"].astype("string") == b_system).fillna(False)
    if b_strategy:
        is_base &= (variants["strategy"].astype("string") == b_strategy).fillna(False)
    base_vids = set(variants.loc[is_base.to_numpy(dtype=bool), "__vid"].tolist())
    if not base_vids:
        systems = sorted({_label(s) for s in variants["system"]})
        labels = [
            _label(r["system"], r["strategy"] if "strategy" in variant_cols else None)
            for _, r in variants.iterrows()
        ]
        raise BenchmarkError(
            f"unknown baseline {baseline!r}; systems present: {', '.join(systems) or '(none)'}; "
            f"variants present: {', '.join(labels) or '(none)'}"
        )
    rows = measured_rows(frame, value)
    values = rows[value].to_numpy(dtype=float)
    round_codes: NDArray[np.int64] | None = None
    if "iteration" in rows.columns:
        pair_cols = [c for c in ("run_id", "iteration") if c in rows.columns]
        codes = rows.groupby(pair_cols, sort=True, dropna=True, observed=True).ngroup()
        round_codes = np.asarray(codes.fillna(-1).to_numpy(), dtype=np.int64)
    cells = rows.groupby(["__gid", "__vid"], sort=True).indices
    empty = np.array([], dtype=np.int64)
    variant_keys = variants.set_index("__vid")[variant_cols]
    first = frame.drop_duplicates("__gid").set_index("__gid")[outer_cols]

    records: list[dict[str, Any]] = []
    tasks: list[tuple[NDArray[np.float64], NDArray[np.float64], bool]] = []
    present_by_group = frame.groupby("__gid", sort=True)["__vid"].unique()
    for gid, present_arr in present_by_group.items():
        present = sorted(int(v) for v in present_arr)
        base_here = [v for v in present if v in base_vids]
        if len(base_here) > 1:
            names = [_label(*_row(variant_keys, v).values()) for v in base_here]
            raise BenchmarkError(
                f"baseline {baseline!r} matches several variants in one group: "
                f"{', '.join(names)}; name one as system/strategy, e.g. baseline="
                f"{names[0]!r} (rrperf bench --baseline {names[0]})"
            )
        b_idx = cells.get((gid, base_here[0]), empty) if base_here else empty
        outer_key = _row(first, gid) if outer_cols else {}
        for vid in present:
            if vid in base_vids:
                continue
            v_idx = cells.get((gid, vid), empty)
            a, b, paired = _pair(
                values[v_idx],
                values[b_idx],
                None if round_codes is None else round_codes[v_idx],
                None if round_codes is None else round_codes[b_idx],
            )
            tasks.append((a, b, paired))
            records.append({
                **outer_key, **_row(variant_keys, vid),
                "baseline": baseline,
                "test": paired_test_for(len(a), paired_test) if paired else test,
                "n": len(a), "n_baseline": len(b),
                "paired": paired, "correction": correction,
            })
    effects = _effects(
        tasks, confidence=confidence, method=method, n_resamples=n_resamples, seed=seed,
        test=test, paired_test=paired_test,
    )
    for rec, (ratio, lo, hi, p) in zip(records, effects, strict=True):
        rec.update(ratio=ratio, ratio_ci_low=lo, ratio_ci_high=hi, p_value=p)

    p_adj = adjust_p_values([r["p_value"] for r in records], correction)
    alpha = 1.0 - confidence
    for rec, pa in zip(records, p_adj, strict=True):
        rec["p_adjusted"] = float(pa)
        rec["verdict"] = _verdict(rec["ratio_ci_low"], rec["ratio_ci_high"], pa, threshold, alpha)
    columns = [*by_cols, *COMPARISON_EXTRA_COLUMNS, *COMPARISON_COLUMNS_ADDED]
    out = pd.DataFrame.from_records(records, columns=columns)
    for col in by_cols:
        out[col] = out[col].astype(data[col].dtype)
    for col in ("baseline", "test", "verdict", "correction"):
        out[col] = out[col].astype("string")
    for col in ("ratio", "ratio_ci_low", "ratio_ci_high", "p_value", "p_adjusted"):
        out[col] = out[col].astype("float64")
    out["n"] = out["n"].astype("int64")
    out["n_baseline"] = out["n_baseline"].astype("int64")
    out["paired"] = out["paired"].astype("bool")
    logger.info("compared %d variant(s) with baseline %r", len(out), baseline)
    return out


def detect_regressions(
    current: pd.DataFrame,
    baseline: pd.DataFrame,
    threshold: float = 0.05,
    alpha: float = 0.05,
    *,
    value: str = "wall_s",
    by: Sequence[str] | None = None,
    seed: int = 0,
    correction: str = "fdr_bh",
    test: str = "mann-whitney",
    method: str = "percentile",
    n_resamples: int = 9999,
) -> pd.DataFrame:
    """Compare a run with a saved baseline run, group by group.

    For each group present in both tables, the ratio of medians current / baseline gets a
    ``1 - alpha`` bootstrap interval (the two runs are resampled independently) and a p-value.
    ``regression`` is true when the interval lies above ``1 + threshold`` and the adjusted
    p-value is below ``alpha``; ``improvement`` when it lies below ``1 - threshold`` under the
    same condition.

    Parameters
    ----------
    current, baseline : pandas.DataFrame
        Measurement tables.
    threshold : float
        Relative change that counts.
    alpha : float
        Error level: the interval is at ``1 - alpha`` and ``p_adjusted`` must be below it.
    value : str
        The measured column.
    by : sequence of str or None
        Grouping columns; ``None`` means the ``GROUP_COLUMNS`` present in both tables.
    seed : int
        Seed of the bootstrap.
    correction : {"fdr_bh", "fdr_by", "bonferroni", "none"}
        Multiplicity correction across the groups.
    test : {"mann-whitney", "welch"}
        Test for ``p_value``.
    method : {"percentile", "bca"}
        Bootstrap interval of the ratio.
    n_resamples : int
        Bootstrap resamples.

    Returns
    -------
    pandas.DataFrame
        One row per group present in both: the group columns, then ``n_current, n_baseline,
        ratio, ratio_ci_low, ratio_ci_high, p_value, p_adjusted, test, correction, regression,
        improvement``.

    Raises
    ------
    ResultsSchemaError
        When ``value`` or a ``by`` column is missing from either table.
    ConfigError
        For a bad option.
    """
    _check_common(1.0 - alpha, threshold, test, correction)
    if by is None:
        by_cols = [c for c in group_columns(current, None) if c in baseline.columns]
        # issue 13: rows of two hosts are never paired (rrperf.bench.hosts)
        from rrperf.bench.hosts import with_hosts

        (current, baseline), host_cols = with_hosts(current, baseline)
        by_cols += host_cols
    else:
        by_cols = group_columns(current, by)
        group_columns(baseline, by_cols)
    _require_value(current, value)
    _require_value(baseline, value)
    keys = pd.concat(
        [current[by_cols], baseline[by_cols]],
        ignore_index=True,
    )
    keys["__gid"] = _ids(keys, by_cols)
    cur = current.copy()
    base = baseline.copy()
    cur["__gid"] = keys["__gid"].to_numpy()[: len(current)]
    base["__gid"] = keys["__gid"].to_numpy()[len(current) :]
    both = sorted(set(cur["__gid"].tolist()) & set(base["__gid"].tolist()))
    cur_rows = measured_rows(cur, value)
    base_rows = measured_rows(base, value)
    cur_cells = cur_rows.groupby("__gid").indices
    base_cells = base_rows.groupby("__gid").indices
    cur_values = cur_rows[value].to_numpy(dtype=float)
    base_values = base_rows[value].to_numpy(dtype=float)
    first = keys.drop_duplicates("__gid").set_index("__gid")[by_cols]
    empty = np.array([], dtype=np.int64)
    records: list[dict[str, Any]] = []
    tasks: list[tuple[NDArray[np.float64], NDArray[np.float64], bool]] = []
    for gid in both:
        a = cur_values[cur_cells.get(gid, empty)]
        b = base_values[base_cells.get(gid, empty)]
        tasks.append((a, b, False))
        records.append({
            **(_row(first, gid) if by_cols else {}), "n_current": len(a),
            "n_baseline": len(b), "test": test, "correction": correction,
        })
    effects = _effects(
        tasks, confidence=1.0 - alpha, method=method, n_resamples=n_resamples, seed=seed,
        test=test,
    )
    for rec, (ratio, lo, hi, p) in zip(records, effects, strict=True):
        rec.update(ratio=ratio, ratio_ci_low=lo, ratio_ci_high=hi, p_value=p)
    p_adj = adjust_p_values([r["p_value"] for r in records], correction)
    for rec, pa in zip(records, p_adj, strict=True):
        significant = bool(np.isfinite(pa) and pa < alpha)
        rec["p_adjusted"] = float(pa)
        rec["regression"] = bool(significant and rec["ratio_ci_low"] > 1.0 + threshold)
        rec["improvement"] = bool(significant and rec["ratio_ci_high"] < 1.0 - threshold)
    out = pd.DataFrame.from_records(records, columns=[*by_cols, *REGRESSION_COLUMNS])
    for col in by_cols:
        out[col] = out[col].astype(current[col].dtype)
    out["n_current"] = out["n_current"].astype("int64")
    out["n_baseline"] = out["n_baseline"].astype("int64")
    for col in ("ratio", "ratio_ci_low", "ratio_ci_high", "p_value", "p_adjusted"):
        out[col] = out[col].astype("float64")
    out["test"] = out["test"].astype("string")
    out["correction"] = out["correction"].astype("string")
    out["regression"] = out["regression"].astype("bool")
    out["improvement"] = out["improvement"].astype("bool")
    logger.info(
        "checked %d group(s) for regressions: %d found", len(out), int(out["regression"].sum())
    )
    return out


# --- detect_change_points -------------------------------------------------------------------


def robust_noise(y: NDArray[np.float64]) -> float:
    """Noise level of a piecewise-constant series: MAD of first differences / sqrt(2).

    A difference of two independent N(0, s^2) values has standard deviation s*sqrt(2), and the
    MAD (scaled by 1.4826) ignores the few differences that straddle a step.

    Parameters
    ----------
    y : numpy.ndarray
        The series (length >= 2).

    Returns
    -------
    float
        Falls back to the mean absolute difference when the MAD is zero (quantized values),
        and to 0 when every difference is zero.
    """
    d = np.diff(np.asarray(y, dtype=float))
    if d.size == 0:
        return 0.0
    mad = 1.4826 * float(np.median(np.abs(d - np.median(d))))
    if mad == 0.0:
        mad = math.sqrt(math.pi / 2) * float(np.mean(np.abs(d - np.median(d))))
    return mad / math.sqrt(2)


def _winsorize(
    z: NDArray[np.float64], sigma: float, *, width: int, limit: float
) -> NDArray[np.float64]:
    """Clip each point to ``limit * sigma`` around the running median of ``width`` points.

    A running median of 5 ignores one or two stray points in a row and follows a lasting
    level shift to the point where it starts (a median filter keeps monotone edges), so
    clipping to it takes the weight out of stray runs without blurring real steps.
    """
    from scipy.ndimage import median_filter

    if width <= 1 or z.size < width:
        return z
    level = median_filter(z, size=width, mode="mirror")
    return np.clip(z, level - limit * sigma, level + limit * sigma)


def _split_p_value(left: NDArray[np.float64], right: NDArray[np.float64], sigma: float) -> float:
    """Two-sided p-value that two adjacent segments have one level, robust to stray runs.

    Mann-Whitney U (ranks give a stray run no more weight than any other high value) when
    the segments are long enough for it to reach small p-values (its smallest attainable
    two-sided p-value, ``2 / C(n1 + n2, n1)``, below 0.001); otherwise, on short series, the
    difference of the segment medians over its standard error under the robust noise
    ``sigma`` (the median of ``n`` normal values has a standard error of
    ``sqrt(pi / 2) * sigma / sqrt(n)``), against the normal distribution.
    """
    from scipy.stats import mannwhitneyu, norm

    if 2.0 / math.comb(left.size + right.size, left.size) < 1e-3:
        return float(mannwhitneyu(left, right).pvalue)
    se = sigma * math.sqrt(math.pi / 2 * (1 / left.size + 1 / right.size))
    diff = abs(float(np.median(right)) - float(np.median(left)))
    return float(2 * norm.sf(diff / se))


def _confirmed(
    bkps: list[int], z: NDArray[np.float64], sigma: float, *, alpha: float
) -> list[int]:
    """Keep the breakpoints across which the adjacent segments differ (:func:`_split_p_value`
    below ``alpha``); the weakest unconfirmed one is dropped first and the test redone on the
    merged segments."""
    kept = list(bkps)
    if alpha >= 1:
        return kept
    while kept:
        bounds = [0, *kept, len(z)]
        p_values = [
            _split_p_value(z[bounds[i - 1]:bounds[i]], z[bounds[i]:bounds[i + 1]], sigma)
            for i in range(1, len(bounds) - 1)
        ]
        worst = int(np.argmax(p_values))
        if p_values[worst] < alpha:
            break
        del kept[worst]
    return kept


def _relocated(bkps: list[int], z: NDArray[np.float64], min_size: int) -> list[int]:
    """Place each breakpoint at the best single split of the clipped series between its
    neighbours (``ruptures`` ``Dynp``, ``l2`` cost), left to right, each move seen by the next.

    After an unconfirmed breakpoint is dropped, the one that stays may sit where PELT put it
    to share the work with the dropped one (next to a stray run beside a step); this puts it
    back where the level changes.
    """
    import ruptures

    out = list(bkps)
    for i in range(len(out)):
        lo = out[i - 1] if i else 0
        hi = out[i + 1] if i + 1 < len(out) else len(z)
        if hi - lo < 2 * min_size:
            continue
        segment = z[lo:hi].reshape(-1, 1)
        split = ruptures.Dynp(model="l2", min_size=min_size, jump=1).fit(segment)
        out[i] = lo + int(split.predict(n_bkps=1)[0])
    return out


def detect_change_points(
    history: pd.DataFrame,
    value: str = "wall_s",
    by: Sequence[str] | None = None,
    *,
    min_size: int = 3,
    penalty_factor: float = 3.0,
    log_scale: bool = True,
    stray_window: int = 7,
    stray_limit: float = 2.0,
    confirm_alpha: float = 0.01,
) -> pd.DataFrame:
    """Find level shifts in a run history with PELT (``ruptures``), robust to stray runs.

    Each group's rows are reduced to one point per run (the median of its iterations) and
    ordered by ``started_at`` (first row of the run) then ``run_id``. Then, on the log of the
    series (relative changes):

    1. ``sigma`` is the robust noise of the series (:func:`robust_noise`, the MAD of first
       differences, which one stray run barely moves);
    2. every point is clipped to ``stray_limit * sigma`` around the running median of
       ``stray_window`` points (:func:`scipy.ndimage.median_filter`, mirrored at the ends).
       A running median of 7 ignores up to three stray runs among 7 and keeps the edge of a
       lasting shift where it is, so a stray run 1.3-2x slower weighs no more than a 2-sigma
       point while a real step is untouched;
    3. PELT with the ``l2`` cost segments the clipped series with penalty
       ``penalty_factor * sigma**2 * ln(n)`` (see the module notes for why 3);
    4. each breakpoint must be confirmed on the unclipped values: the segments on either side
       must differ by a Mann-Whitney U test (ranks: a stray run counts as one high value),
       or, on series too short for that test to reach 0.001, by the difference of their
       medians against ``sigma``, at ``p < confirm_alpha``; the weakest unconfirmed
       breakpoint is dropped and the others tested again.

    Parameters
    ----------
    history : pandas.DataFrame
        Measurement tables of several runs, concatenated; needs ``run_id``.
    value : str
        The measured column.
    by : sequence of str or None
        Grouping columns; ``None`` means the ``GROUP_COLUMNS`` present.
    min_size : int
        Fewest runs in a segment: a new level must last this long to be reported.
    penalty_factor : float
        Multiplier of ``sigma**2 * ln(n)`` (2 is BIC; larger finds fewer changes).
    log_scale : bool
        Segment the log of the values (relative changes) when all are positive.
    stray_window : int
        Width (odd) of the running median that stray runs are clipped around; 1 turns the
        clipping off.
    stray_limit : float
        How far from the running median a point may be, in units of ``sigma``.
    confirm_alpha : float
        Significance a breakpoint needs across its two segments; 1 keeps every breakpoint.

    Returns
    -------
    pandas.DataFrame
        One row per change: the group columns, then ``position`` (index in the group's
        time-ordered series where the new level starts), ``run_id`` (of that run), ``before``
        and ``after`` (medians of the segments on either side), ``change`` (after / before - 1).
        Empty, with these columns, when nothing changed.

    Raises
    ------
    ResultsSchemaError
        When ``value``, ``run_id`` or a ``by`` column is missing.
    ConfigError
        For ``min_size < 1``, a non-positive ``penalty_factor`` or ``stray_limit``, an even
        ``stray_window`` or a ``confirm_alpha`` outside (0, 1].
    """
    import ruptures

    if min_size < 1:
        raise ConfigError(f"min_size must be >= 1, got {min_size!r}")
    if not (is_int(stray_window) and stray_window >= 1 and stray_window % 2 == 1):
        raise ConfigError(f"stray_window must be an odd integer >= 1, got {stray_window!r}")
    if not stray_limit > 0:
        raise ConfigError(f"stray_limit must be > 0, got {stray_limit!r}")
    if not 0 < confirm_alpha <= 1:
        raise ConfigError(f"confirm_alpha must be in (0, 1], got {confirm_alpha!r}")
    if not penalty_factor > 0:
        raise ConfigError(f"penalty_factor must be > 0, got {penalty_factor!r}")
    if "run_id" not in history.columns:
        raise ResultsSchemaError(
            "detect_change_points needs a 'run_id' column; "
            f"columns present: {', '.join(map(str, history.columns))}"
        )
    by_cols = group_columns(history, by)
    if by is None:  # issue 13: one series per host (rrperf.bench.hosts)
        from rrperf.bench.hosts import with_hosts

        (history,), host_cols = with_hosts(history)
        by_cols += host_cols
    rows = measured_rows(history, value)
    rows["__gid"] = _ids(rows, by_cols)
    records: list[dict[str, Any]] = []
    for _, group in rows.groupby("__gid", sort=True):
        agg: dict[str, tuple[str, str]] = {"level": (value, "median")}
        if "started_at" in group.columns:
            agg["started_at"] = ("started_at", "min")
        runs = group.groupby("run_id", sort=False, dropna=False).agg(**agg).reset_index()
        sort_cols = [c for c in ("started_at", "run_id") if c in runs.columns]
        runs = runs.sort_values(sort_cols, kind="stable", na_position="last").reset_index(drop=True)
        y = runs["level"].to_numpy(dtype=float)
        n = len(y)
        if n < 2 * min_size:
            continue
        z = np.log(y) if log_scale and (y > 0).all() else y
        sigma = robust_noise(z)
        # A floor keeps the penalty positive on noise-free series (exact steps).
        sigma = max(sigma, 1e-9 * max(1.0, float(np.median(np.abs(z)))))
        zc = _winsorize(z, sigma, width=stray_window, limit=stray_limit)
        pen = penalty_factor * sigma**2 * math.log(n)
        algo = ruptures.Pelt(model="l2", min_size=min_size, jump=1).fit(zc.reshape(-1, 1))
        found = [int(b) for b in algo.predict(pen=pen)[:-1]]
        bkps = _relocated(_confirmed(found, z, sigma, alpha=confirm_alpha), zc, min_size)
        bounds = [0, *bkps, n]
        key = {str(c): group[c].iloc[0] for c in by_cols}
        for i, pos in enumerate(bkps, start=1):
            before = float(np.median(y[bounds[i - 1] : pos]))
            after = float(np.median(y[pos : bounds[i + 1]]))
            records.append({
                **key,
                "position": pos,
                "run_id": runs["run_id"].iloc[pos],
                "before": before,
                "after": after,
                "change": after / before - 1.0 if before != 0 else math.nan,
            })
    out = pd.DataFrame.from_records(records, columns=[*by_cols, *CHANGE_POINT_COLUMNS])
    for col in by_cols:
        out[col] = out[col].astype(history[col].dtype)
    out["position"] = out["position"].astype("int64")
    out["run_id"] = out["run_id"].astype(history["run_id"].dtype)
    for col in ("before", "after", "change"):
        out[col] = out[col].astype("float64")
    return out
