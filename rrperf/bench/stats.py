"""Summary statistics, stability checks and curve fits over measurement tables.

Every function is pure: it takes a measurement table (see :mod:`rrperf.bench.results`) and returns
a new DataFrame or a frozen value object; the input is never modified. Warm-up rows
(``warmup == True``) and failed iterations (non-empty ``error``) are left out of every statistic
when those columns exist (:func:`measured_rows`).

Choice of the default interval (measured, not assumed)
------------------------------------------------------
:func:`summarize` reports a confidence interval for the **mean** of each group, by default
Student's t: by Monte Carlo (README, "Statistics (issue 4)") it covers the true mean 94-96% of
the time at n = 10 and 30, where the percentile and BCa bootstrap intervals undercover at
n = 10. ``center="median"`` gives a percentile bootstrap interval for the median instead.

The bootstrap uses :func:`scipy.stats.bootstrap` seeded from ``seed``. Groups with the same number
of rows are stacked and resampled with the same resampling indices, so one group's interval does
not depend on which other groups are in the table.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.stats

from rrperf.bench.columns import GROUP_COLUMNS, SUMMARY_EXTRA_COLUMNS
from rrperf.errors import ConfigError, ResultsSchemaError, StabilityWarning

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CI_METHODS",
    "STABILITY_COLUMNS",
    "AmdahlFit",
    "ScalingFit",
    "amdahl_speedup",
    "center_intervals",
    "fit_amdahl",
    "fit_scaling",
    "group_columns",
    "measured_rows",
    "required_iterations",
    "stability_warnings",
    "summarize",
    "warn_if_unstable",
]

logger = logging.getLogger(__name__)

#: Interval methods accepted by :func:`summarize`. ``"bootstrap"`` is scipy's default bootstrap
#: (BCa) and is reported as ``"bca"`` in the ``ci_method`` column.
CI_METHODS: tuple[str, ...] = ("t", "bootstrap", "bca", "percentile", "studentized")
_MEDIAN_METHODS: tuple[str, ...] = ("bootstrap", "bca", "percentile")

#: Columns of :func:`stability_warnings` after the group columns.
STABILITY_COLUMNS: tuple[str, ...] = ("check", "message", "value", "needed")

# Bootstrap memory bound: at most this many float64 values per resampling batch and group chunk
# (about 32 MB). The batch size depends only on the sample size, so results do not depend on how
# many groups are processed together.
_BATCH_VALUES = 4_000_000
_GROUP_CHUNK = 64


# --- Input handling shared by stats and regress ---------------------------------------------


def group_columns(data: pd.DataFrame, by: Sequence[str] | None) -> list[str]:
    """Resolve the grouping columns.

    Parameters
    ----------
    data : pandas.DataFrame
        The measurement table.
    by : sequence of str or None
        Columns to group by; ``None`` means the ``GROUP_COLUMNS`` present in ``data``.

    Returns
    -------
    list of str

    Raises
    ------
    ResultsSchemaError
        When a column named in ``by`` is not in ``data``.
    """
    if by is None:
        return [c for c in GROUP_COLUMNS if c in data.columns]
    if isinstance(by, str):
        by = [by]
    missing = [c for c in by if c not in data.columns]
    if missing:
        raise ResultsSchemaError(
            f"grouping column(s) {', '.join(map(repr, missing))} not in the table; "
            f"columns present: {', '.join(map(str, data.columns))}"
        )
    return list(by)


def measured_rows(data: pd.DataFrame, value: str = "wall_s") -> pd.DataFrame:
    """Return the rows that statistics use, as a new DataFrame.

    Warm-up rows (``warmup`` true) and failed iterations (``error`` neither missing nor empty)
    are dropped when those columns exist, and so are rows whose ``value`` is missing or not
    finite. ``value`` is returned as float64.

    Parameters
    ----------
    data : pandas.DataFrame
        A measurement table.
    value : str
        The measured column.

    Returns
    -------
    pandas.DataFrame
        A copy; ``data`` is not modified.

    Raises
    ------
    ResultsSchemaError
        When ``value`` is not a column of ``data`` or cannot be read as numbers.
    """
    if value not in data.columns:
        raise ResultsSchemaError(
            f"value column {value!r} is not in the table; "
            f"columns present: {', '.join(map(str, data.columns)) or '(none)'}"
        )
    keep = np.ones(len(data), dtype=bool)
    if "warmup" in data.columns:
        keep &= ~data["warmup"].fillna(False).astype(bool).to_numpy()
    if "error" in data.columns:
        err = data["error"]
        failed = err.notna() & (err.astype("string").str.strip() != "")
        keep &= ~failed.fillna(False).to_numpy(dtype=bool)
    try:
        values = pd.to_numeric(data[value], errors="raise").astype("float64")
    except (TypeError, ValueError) as err_:
        raise ResultsSchemaError(
            f"value column {value!r} must hold numbers; got {data[value].dtype}: {err_}"
        ) from err_
    keep &= np.isfinite(values.to_numpy())
    out = data.loc[keep].copy()
    out[value] = values[keep]
    if not keep.all():
        logger.debug("statistics on %r leave out %d of %d rows", value, (~keep).sum(), len(data))
    return out.reset_index(drop=True)


def _split_groups(
    rows: pd.DataFrame, by: list[str], value: str
) -> tuple[pd.DataFrame, list[NDArray[np.float64]]]:
    """Return (one row of keys per group, the value arrays) in sorted group order."""
    if not by:
        keys = pd.DataFrame(index=range(1 if len(rows) else 0))
        return keys, [rows[value].to_numpy(dtype=float)] if len(rows) else []
    first: list[int] = []
    arrays: list[NDArray[np.float64]] = []
    for _, g in rows.groupby(by, sort=True, dropna=False, observed=True):
        first.append(int(g.index[0]))
        arrays.append(g[value].to_numpy(dtype=float))
    # Taking the key columns from the rows keeps their dtypes (string, category, ...).
    keys = rows.loc[first, by].reset_index(drop=True)
    return keys, arrays


# --- Confidence intervals (vectorized over groups of equal size) ----------------------------


def _resolve_method(method: str, center: str) -> str:
    if center not in ("mean", "median"):
        raise ConfigError(f"center must be 'mean' or 'median', got {center!r}")
    if method not in CI_METHODS:
        raise ConfigError(f"method must be one of {', '.join(CI_METHODS)}; got {method!r}")
    if center == "median" and method not in _MEDIAN_METHODS:
        raise ConfigError(
            f"center='median' needs a bootstrap method ({', '.join(_MEDIAN_METHODS)}); "
            f"got method={method!r}"
        )
    return "bca" if method == "bootstrap" else method


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def _check_resamples(n_resamples: int) -> None:
    if n_resamples < 100:
        raise ConfigError(f"n_resamples must be at least 100, got {n_resamples!r}")


def _batch_size(n: int, n_resamples: int) -> int:
    return max(1, min(n_resamples, _BATCH_VALUES // (_GROUP_CHUNK * n)))


def center_intervals(
    samples: NDArray[np.float64],
    *,
    center: str = "mean",
    method: str = "t",
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Confidence intervals for the mean or median of each row of a 2-D array.

    This is the vectorized core of :func:`summarize`; the Monte Carlo validity checks call it
    with one row per simulated trial.

    Parameters
    ----------
    samples : numpy.ndarray
        Shape ``(groups, n)`` with ``n >= 2``; every row is one group's sample.
    center : {"mean", "median"}
    method : str
        One of :data:`CI_METHODS` (``"t"`` and ``"studentized"`` for the mean only).
    confidence : float
        Two-sided confidence level.
    n_resamples : int
        Bootstrap resamples (bootstrap methods only).
    seed : int
        Seed of the bootstrap's random generator. Every row is resampled with the same indices.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Lower and upper bounds, shape ``(groups,)``. Rows with zero spread get the degenerate
        interval ``[center, center]``.

    Raises
    ------
    ConfigError
        For an unknown method/center, a confidence outside (0, 1), ``n < 2``.
    """
    method = _resolve_method(method, center)
    _check_confidence(confidence)
    x = np.asarray(samples, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ConfigError(f"samples must have shape (groups, n >= 2), got {x.shape}")
    g, n = x.shape
    point = x.mean(axis=1) if center == "mean" else np.median(x, axis=1)
    lo = np.array(point, dtype=float)
    hi = np.array(point, dtype=float)
    spread = np.ptp(x, axis=1) > 0
    if not spread.any():
        return lo, hi
    xs = x[spread]
    if method == "t":
        sd = xs.std(axis=1, ddof=1)
        half = scipy.stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
        lo[spread] = point[spread] - half
        hi[spread] = point[spread] + half
        return lo, hi
    _check_resamples(n_resamples)
    batch = _batch_size(n, n_resamples)
    out_lo = np.empty(len(xs))
    out_hi = np.empty(len(xs))
    for start in range(0, len(xs), _GROUP_CHUNK):
        chunk = xs[start : start + _GROUP_CHUNK]
        if method == "studentized":
            c_lo, c_hi = _studentized(chunk, confidence, n_resamples, batch, seed)
        else:
            c_lo, c_hi = _scipy_bootstrap(
                chunk, center, method, confidence, n_resamples, batch, seed
            )
        out_lo[start : start + len(chunk)] = c_lo
        out_hi[start : start + len(chunk)] = c_hi
    lo[spread] = out_lo
    hi[spread] = out_hi
    return lo, hi


def _scipy_bootstrap(
    x: NDArray[np.float64],
    center: str,
    method: str,
    confidence: float,
    n_resamples: int,
    batch: int,
    seed: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    statistic = np.mean if center == "mean" else np.median
    ci = _quiet_bootstrap(
        (x,), statistic, method=method, confidence=confidence, n_resamples=n_resamples,
        batch=batch, seed=seed,
    )
    return np.asarray(ci.low, dtype=float), np.asarray(ci.high, dtype=float)


def _quiet_bootstrap(
    data: tuple[NDArray[np.float64], ...],
    statistic: Any,
    *,
    method: str,
    confidence: float,
    n_resamples: int,
    batch: int,
    seed: int,
    paired: bool = False,
) -> Any:
    """:func:`scipy.stats.bootstrap` (vectorized along the last axis, seeded) with its warnings
    logged at debug level: scipy warns and returns NaN bounds when the bootstrap distribution
    is degenerate (e.g. a median whose jackknife values are all equal); the NaN bounds say so.
    Returns its ``confidence_interval``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = scipy.stats.bootstrap(
            data,
            statistic,
            n_resamples=n_resamples,
            batch=batch,
            vectorized=True,
            paired=paired,
            axis=-1,
            confidence_level=confidence,
            method="BCa" if method == "bca" else "percentile",
            rng=np.random.default_rng(seed),
        )
    for w in caught:
        logger.debug("bootstrap warning: %s", w.message)
    return res.confidence_interval


def _studentized(
    x: NDArray[np.float64], confidence: float, n_resamples: int, batch: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bootstrap-t interval for the mean (Efron & Tibshirani 1993, section 12.5).

    scipy.stats.bootstrap offers percentile, basic and BCa only; the studentized statistic of
    the mean has the analytic standard error s/sqrt(n), so no nested bootstrap is needed.
    """
    rng = np.random.default_rng(seed)
    g, n = x.shape
    mean = x.mean(axis=1)
    se = x.std(axis=1, ddof=1) / math.sqrt(n)
    t_star = np.empty((g, n_resamples))
    for start in range(0, n_resamples, batch):
        b = min(batch, n_resamples - start)
        idx = rng.integers(0, n, size=(b, n))
        res = x[:, idx]  # (g, b, n)
        res_se = res.std(axis=2, ddof=1) / math.sqrt(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_star[:, start : start + b] = (res.mean(axis=2) - mean[:, None]) / res_se
    # Resamples drawing one value n times have zero spread: t* is +-inf or NaN. Their weight
    # (n^(1-n)) is negligible; dropping NaN keeps the quantiles defined.
    alpha = 1.0 - confidence
    q_lo = np.nanquantile(t_star, alpha / 2, axis=1)
    q_hi = np.nanquantile(t_star, 1 - alpha / 2, axis=1)
    return mean - q_hi * se, mean - q_lo * se


def summarize(
    data: pd.DataFrame,
    value: str = "wall_s",
    by: Sequence[str] | None = None,
    confidence: float = 0.95,
    method: str = "t",
    *,
    center: str = "mean",
    seed: int = 0,
    n_resamples: int = 9999,
) -> pd.DataFrame:
    """Summarize each group: n, mean, median, std, cv, a confidence interval, outliers.

    Parameters
    ----------
    data : pandas.DataFrame
        A measurement table. Warm-ups and failed iterations are left out.
    value : str
        The measured column.
    by : sequence of str or None
        Grouping columns; ``None`` means the ``GROUP_COLUMNS`` present in ``data``.
    confidence : float
        Two-sided confidence level of the interval.
    method : str
        Interval method, one of :data:`CI_METHODS`: ``"t"`` (Student t, the default: it keeps
        its nominal coverage at n = 10 where the percentile and BCa bootstraps do not, see the
        module notes), ``"bootstrap"`` (= ``"bca"``), ``"bca"``, ``"percentile"``,
        ``"studentized"`` (bootstrap-t). With ``center="median"`` the default becomes
        ``"percentile"`` and only bootstrap methods are allowed.
    center : {"mean", "median"}
        The interval is for the mean (default) or for the median.
    seed : int
        Seed for the bootstrap resampling.
    n_resamples : int
        Number of bootstrap resamples.

    Returns
    -------
    pandas.DataFrame
        One row per group: the group columns, then ``n, mean, median, std, cv, ci_low, ci_high,
        ci_method, outliers``. ``std`` is the sample standard deviation (ddof=1), ``cv`` is
        ``std / mean``, ``ci_method`` names the interval (``"t"``, ``"bca"``, ``"percentile"``,
        ``"studentized"``, with ``"-median"`` appended for a median interval), ``outliers``
        counts values outside Tukey's fences (1.5 IQR beyond the quartiles); outliers are kept
        in every statistic. Groups of one row have NaN std, cv and interval.

    Raises
    ------
    ResultsSchemaError
        When ``value`` or a ``by`` column is missing.
    ConfigError
        For an unknown method or center, or a confidence outside (0, 1).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"system": ["a"] * 4, "wall_s": [1.0, 2.0, 3.0, 4.0]})
    >>> summarize(df)[["system", "n", "mean", "ci_method", "outliers"]]
      system  n  mean ci_method  outliers
    0      a  4   2.5         t         0
    """
    if center == "median" and method == "t":
        method = "percentile"
    resolved = _resolve_method(method, center)
    _check_confidence(confidence)
    by_cols = group_columns(data, by)
    rows = measured_rows(data, value)
    keys, arrays = _split_groups(rows, by_cols, value)
    ci_label = resolved if center == "mean" else f"{resolved}-median"

    n_arr = np.array([len(a) for a in arrays], dtype="int64")
    mean = np.array([a.mean() for a in arrays], dtype=float)
    median = np.array([np.median(a) for a in arrays], dtype=float)
    std = np.array([a.std(ddof=1) if len(a) > 1 else np.nan for a in arrays], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean != 0, std / mean, np.nan)
    outliers = np.array([_tukey_outliers(a) for a in arrays], dtype="int64")
    ci_low = np.full(len(arrays), np.nan)
    ci_high = np.full(len(arrays), np.nan)
    for size in sorted(set(n_arr.tolist())):
        if size < 2:
            continue
        idx = np.flatnonzero(n_arr == size)
        stacked = np.vstack([arrays[i] for i in idx])
        lo, hi = center_intervals(
            stacked,
            center=center,
            method=resolved,
            confidence=confidence,
            n_resamples=n_resamples,
            seed=seed,
        )
        ci_low[idx] = lo
        ci_high[idx] = hi

    out = keys.copy()
    extra: dict[str, Any] = {
        "n": n_arr,
        "mean": mean,
        "median": median,
        "std": std,
        "cv": cv,
        "ci_low": ci_low,
        "ci_high": ci_high,
        "ci_method": pd.Series([ci_label] * len(arrays), dtype="string"),
        "outliers": outliers,
    }
    for col in SUMMARY_EXTRA_COLUMNS:
        out[col] = extra[col]
    return out


def _tukey_outliers(a: NDArray[np.float64]) -> int:
    if len(a) < 4:
        return 0
    q1, q3 = np.quantile(a, [0.25, 0.75])
    iqr = q3 - q1
    return int(np.count_nonzero((a < q1 - 1.5 * iqr) | (a > q3 + 1.5 * iqr)))


# --- Stability checks (after pyperf's format_checks / required_nprocesses) ------------------


def required_iterations(cv: float, precision: float, confidence: float = 0.95) -> int:
    """Iterations needed for the mean's interval half-width to be ``precision`` x the mean.

    The smallest ``n >= 2`` with ``t(n - 1) * cv / sqrt(n) <= precision``, i.e.
    ``n >= (t * cv / precision) ** 2`` with the t quantile for that n, searched upward from the
    normal-quantile answer (compare ``pyperf/_bench.py::required_nprocesses``, which uses the
    normal quantile only).

    Parameters
    ----------
    cv : float
        Coefficient of variation (std / mean).
    precision : float
        Wanted relative half-width of the interval, e.g. 0.05 for +-5%.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    int
        At least 2.

    Raises
    ------
    ConfigError
        When ``precision`` is not positive.
    """
    if not precision > 0:
        raise ConfigError(f"precision must be > 0, got {precision!r}")
    _check_confidence(confidence)
    if not math.isfinite(cv):
        raise ConfigError(f"cv must be finite, got {cv!r}")
    q = 0.5 + confidence / 2
    # t(n - 1) > z, so the normal-quantile answer is a lower bound; the half-width
    # t(n - 1) * cv / sqrt(n) falls as n grows, so the first n that meets it is the answer.
    n = max(2, math.ceil((scipy.stats.norm.ppf(q) * cv / precision) ** 2))
    while scipy.stats.t.ppf(q, n - 1) * cv / math.sqrt(n) > precision:
        n += 1
    return int(n)


def stability_warnings(
    data: pd.DataFrame,
    value: str = "wall_s",
    by: Sequence[str] | None = None,
    *,
    cv_threshold: float = 0.10,
    precision: float = 0.05,
    timer_resolution_s: float | None = None,
) -> pd.DataFrame:
    """Check each group for noisy, too few or too short measurements.

    Three checks, after pyperf's ``format_checks``:

    ``high_cv``
        The coefficient of variation exceeds ``cv_threshold`` (``value`` = cv,
        ``needed`` = the threshold).
    ``too_few_iterations``
        The 95% interval of the mean is wider than +-``precision`` of the mean: fewer rows than
        :func:`required_iterations` asks for (``value`` = n, ``needed`` = that count).
    ``too_short``
        For time columns (name ending in ``_s``): the shortest value is below 1000 x the timer
        resolution (``value`` = shortest, ``needed`` = 1000 x resolution). The resolution
        defaults to ``time.get_clock_info("perf_counter").resolution``.

    Parameters
    ----------
    data : pandas.DataFrame
        A measurement table.
    value : str
        The measured column.
    by : sequence of str or None
        Grouping columns; ``None`` means the ``GROUP_COLUMNS`` present.
    cv_threshold : float
        Largest acceptable coefficient of variation.
    precision : float
        Wanted relative half-width of the mean's 95% interval.
    timer_resolution_s : float or None
        Timer resolution in seconds; ``None`` reads it from ``perf_counter``.

    Returns
    -------
    pandas.DataFrame
        One row per failed check: the group columns, then ``check, message, value, needed``.
        Empty (with those columns) when everything is stable.

    Raises
    ------
    ResultsSchemaError
        When ``value`` or a ``by`` column is missing.
    ConfigError
        When a threshold is not positive.
    """
    if not cv_threshold > 0:
        raise ConfigError(f"cv_threshold must be > 0, got {cv_threshold!r}")
    if not precision > 0:
        raise ConfigError(f"precision must be > 0, got {precision!r}")
    resolution = (
        time.get_clock_info("perf_counter").resolution
        if timer_resolution_s is None
        else float(timer_resolution_s)
    )
    if not resolution > 0:
        raise ConfigError(f"timer_resolution_s must be > 0, got {timer_resolution_s!r}")
    by_cols = group_columns(data, by)
    rows = measured_rows(data, value)
    keys, arrays = _split_groups(rows, by_cols, value)
    records: list[dict[str, Any]] = []
    key_records: list[dict[str, Any]] = [
        {str(k): v for k, v in rec.items()} for rec in keys.to_dict("records")
    ] if by_cols else [{} for _ in arrays]
    min_duration = 1000.0 * resolution
    for key, a in zip(key_records, arrays, strict=True):
        label = ", ".join(f"{k}={v}" for k, v in key.items()) or "all rows"
        n = len(a)
        mean = float(a.mean())
        cv = float(a.std(ddof=1) / mean) if n > 1 and mean != 0 else math.nan
        if math.isfinite(cv) and cv > cv_threshold:
            records.append({
                **key,
                "check": "high_cv",
                "message": (
                    f"{label}: {value} varies by {cv:.1%} (std/mean), above {cv_threshold:.0%}; "
                    "the machine may be busy or the benchmark unstable"
                ),
                "value": cv,
                "needed": cv_threshold,
            })
        if math.isfinite(cv):
            needed = required_iterations(abs(cv), precision)
            if n < needed:
                records.append({
                    **key,
                    "check": "too_few_iterations",
                    "message": (
                        f"{label}: {n} iterations give the mean of {value} to worse than "
                        f"+-{precision:.0%} at 95% confidence (cv {cv:.1%}); "
                        f"{needed} iterations are needed"
                    ),
                    "value": float(n),
                    "needed": float(needed),
                })
        shortest = float(a.min())
        if value.endswith("_s") and shortest < min_duration:
            records.append({
                **key,
                "check": "too_short",
                "message": (
                    f"{label}: shortest {value} is {shortest:.3g} s, under 1000 x the timer "
                    f"resolution ({min_duration:.3g} s); measure a larger workload"
                ),
                "value": shortest,
                "needed": min_duration,
            })
    columns = [*by_cols, *STABILITY_COLUMNS]
    if not records:
        out = keys.iloc[0:0].copy()
        out["check"] = pd.Series(dtype="string")
        out["message"] = pd.Series(dtype="string")
        out["value"] = pd.Series(dtype="float64")
        out["needed"] = pd.Series(dtype="float64")
        return out.loc[:, columns].reset_index(drop=True)
    out = pd.DataFrame.from_records(records, columns=columns)
    for col in by_cols:
        out[col] = out[col].astype(keys[col].dtype)
    out["check"] = out["check"].astype("string")
    out["message"] = out["message"].astype("string")
    out["value"] = out["value"].astype("float64")
    out["needed"] = out["needed"].astype("float64")
    return out


def warn_if_unstable(
    data: pd.DataFrame,
    value: str = "wall_s",
    by: Sequence[str] | None = None,
    *,
    cv_threshold: float = 0.10,
    precision: float = 0.05,
    timer_resolution_s: float | None = None,
) -> pd.DataFrame:
    """Run :func:`stability_warnings` and emit a :class:`StabilityWarning` per row.

    Parameters
    ----------
    data, value, by, cv_threshold, precision, timer_resolution_s
        As for :func:`stability_warnings`.

    Returns
    -------
    pandas.DataFrame
        The rows of :func:`stability_warnings`.

    Raises
    ------
    ResultsSchemaError, ConfigError
        As for :func:`stability_warnings`.
    """
    checks = stability_warnings(
        data,
        value,
        by,
        cv_threshold=cv_threshold,
        precision=precision,
        timer_resolution_s=timer_resolution_s,
    )
    for message in checks["message"]:
        warnings.warn(str(message), StabilityWarning, stacklevel=2)
    return checks


# --- Fits used by the charts ----------------------------------------------------------------


@dataclass(frozen=True)
class ScalingFit:
    """Power-law fit ``y = prefactor * x ** exponent`` (log-log least squares).

    Attributes
    ----------
    exponent : float
        The slope in log-log space (1 = linear scaling).
    ci_low, ci_high : float
        Student t interval of the exponent (NaN when n < 3).
    prefactor : float
        ``exp(intercept)``.
    r_squared : float
        Coefficient of determination in log-log space.
    n : int
        Points used.
    confidence : float
        Level of the interval.
    """

    exponent: float
    ci_low: float
    ci_high: float
    prefactor: float
    r_squared: float
    n: int
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ConfigError(f"a scaling fit needs n >= 2 points, got {self.n}")

    def predict(self, x: ArrayLike) -> NDArray[np.float64]:
        """Return ``prefactor * x ** exponent``."""
        return self.prefactor * np.asarray(x, dtype=float) ** self.exponent

    def to_frame(self) -> pd.DataFrame:
        """Return the fit as a one-row DataFrame."""
        return pd.DataFrame([asdict(self)])

    def _repr_html_(self) -> str:
        return str(self.to_frame().to_html(index=False))


def fit_scaling(
    data: pd.DataFrame, *, x: str = "n_tables", y: str = "wall_s", confidence: float = 0.95
) -> ScalingFit:
    """Fit ``y = prefactor * x ** exponent`` by linear regression of log y on log x.

    Uses :func:`scipy.stats.linregress`; the exponent's interval is
    ``slope +- t(n - 2) * stderr``. Warm-ups and failed iterations are left out.

    Parameters
    ----------
    data : pandas.DataFrame
        A table with columns ``x`` and ``y``.
    x, y : str
        Column names; both must be positive.
    confidence : float
        Two-sided level of the exponent's interval.

    Returns
    -------
    ScalingFit

    Raises
    ------
    ResultsSchemaError
        When a column is missing or not numeric.
    ConfigError
        When a value is not positive, or fewer than two distinct x values remain.
    """
    _check_confidence(confidence)
    rows = measured_rows(data, y)
    if x not in rows.columns:
        raise ResultsSchemaError(
            f"x column {x!r} is not in the table; "
            f"columns present: {', '.join(map(str, data.columns))}"
        )
    try:
        xv = pd.to_numeric(rows[x], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        raise ResultsSchemaError(f"x column {x!r} must hold numbers: {err}") from err
    yv = rows[y].to_numpy(dtype=float)
    ok = np.isfinite(xv)
    xv, yv = xv[ok], yv[ok]
    if (xv <= 0).any() or (yv <= 0).any():
        raise ConfigError(f"a log-log fit needs positive {x} and {y}; got a value <= 0")
    distinct = len(np.unique(xv))
    if distinct < 2:
        raise ConfigError(f"a scaling fit needs at least 2 distinct {x} values, got {distinct}")
    res = scipy.stats.linregress(np.log(xv), np.log(yv))
    n = len(xv)
    if n > 2:
        half = scipy.stats.t.ppf(0.5 + confidence / 2, n - 2) * res.stderr
        lo, hi = res.slope - half, res.slope + half
    else:
        lo = hi = math.nan
    return ScalingFit(
        exponent=float(res.slope),
        ci_low=float(lo),
        ci_high=float(hi),
        prefactor=float(math.exp(res.intercept)),
        r_squared=float(res.rvalue**2),
        n=n,
        confidence=confidence,
    )


def amdahl_speedup(workers: ArrayLike, serial_fraction: float) -> NDArray[np.float64]:
    """Amdahl's law: ``1 / (f + (1 - f) / p)`` for ``p`` workers and serial fraction ``f``.

    Parameters
    ----------
    workers : array-like
        Worker counts (positive).
    serial_fraction : float
        Fraction of the work that cannot run in parallel, in [0, 1].

    Returns
    -------
    numpy.ndarray
    """
    p = np.asarray(workers, dtype=float)
    return np.asarray(1.0 / (serial_fraction + (1.0 - serial_fraction) / p), dtype=float)


@dataclass(frozen=True)
class AmdahlFit:
    """Least-squares fit of Amdahl's law to measured speedups.

    Attributes
    ----------
    serial_fraction : float
        In [0, 1].
    ci_low, ci_high : float
        Student t interval of the fraction (n - 1 degrees of freedom, from the fit's
        covariance), clipped to [0, 1]; NaN when n < 2.
    n : int
        Points used.
    confidence : float
        Level of the interval.
    """

    serial_fraction: float
    ci_low: float
    ci_high: float
    n: int
    confidence: float = 0.95

    def __post_init__(self) -> None:
        if not 0.0 <= self.serial_fraction <= 1.0:
            raise ConfigError(f"serial_fraction must be in [0, 1], got {self.serial_fraction!r}")

    @property
    def max_speedup(self) -> float:
        """The limit ``1 / serial_fraction`` (infinite for a fraction of 0)."""
        return math.inf if self.serial_fraction == 0 else 1.0 / self.serial_fraction

    def predict(self, workers: ArrayLike) -> NDArray[np.float64]:
        """Return the fitted speedup for ``workers``."""
        return amdahl_speedup(workers, self.serial_fraction)

    def to_frame(self) -> pd.DataFrame:
        """Return the fit as a one-row DataFrame."""
        return pd.DataFrame([asdict(self)])

    def _repr_html_(self) -> str:
        return str(self.to_frame().to_html(index=False))


def fit_amdahl(workers: ArrayLike, speedup: ArrayLike, confidence: float = 0.95) -> AmdahlFit:
    """Fit the serial fraction of Amdahl's law by bounded least squares on the speedups.

    Uses :func:`scipy.optimize.curve_fit` with bounds [0, 1].

    Parameters
    ----------
    workers : array-like
        Worker counts (positive).
    speedup : array-like
        Measured speedups (time with one worker / time with ``workers``).
    confidence : float
        Two-sided level of the interval.

    Returns
    -------
    AmdahlFit

    Raises
    ------
    ConfigError
        When the arrays differ in length, hold a non-positive or non-finite value, or have
        fewer than one point.
    """
    _check_confidence(confidence)
    p = np.asarray(workers, dtype=float).ravel()
    s = np.asarray(speedup, dtype=float).ravel()
    if p.shape != s.shape:
        raise ConfigError(f"workers and speedup differ in length: {p.size} vs {s.size}")
    if p.size < 1:
        raise ConfigError("fit_amdahl needs at least one point")
    if not (np.isfinite(p).all() and np.isfinite(s).all()) or (p <= 0).any() or (s <= 0).any():
        raise ConfigError("workers and speedup must be positive finite numbers")
    popt, pcov = scipy.optimize.curve_fit(
        lambda w, f: amdahl_speedup(w, f), p, s, p0=[0.5], bounds=(0.0, 1.0)
    )
    f = float(np.clip(popt[0], 0.0, 1.0))
    n = int(p.size)
    if n >= 2 and np.isfinite(pcov).all():
        half = scipy.stats.t.ppf(0.5 + confidence / 2, n - 1) * math.sqrt(float(pcov[0, 0]))
        lo, hi = float(max(0.0, f - half)), float(min(1.0, f + half))
    else:
        lo = hi = math.nan
    return AmdahlFit(serial_fraction=f, ci_low=lo, ci_high=hi, n=n, confidence=confidence)
