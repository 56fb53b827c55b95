"""Charts over rrperf's tidy tables: intervals, comparisons, history, scaling, cache and memory.

Every chart follows one contract (STYLE.md C13, after ``seaborn.relational.lineplot``):

- it takes a tidy DataFrame exactly as the library returns it, always as its first argument
  ``data``, plus keyword-only column names;
- it draws on ``ax`` when one is given, otherwise on a new figure, and returns the Axes;
- it never calls ``plt.show()`` and changes no global state (no rcParams, no style);
- statistics come from :mod:`rrperf.bench.stats` and :mod:`rrperf.bench.regress` (interval ends,
  fits, change points), never from the plotting library, so the chart shows the numbers the
  reports print;
- a missing column raises :class:`~rrperf.errors.ReportError` naming it and the columns present,
  and an empty table raises ``ReportError("nothing to plot: ...")``.

matplotlib, pandas and numpy are imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from rrperf.bench.results import GROUP_COLUMNS, VERDICTS
from rrperf.errors import ConfigError, ReportError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from matplotlib.axes import Axes

    from rrperf.bench.stats import AmdahlFit, ScalingFit

logger = logging.getLogger(__name__)

__all__ = [
    "LEVEL_COLORS",
    "VERDICT_COLORS",
    "cache_chart",
    "ci_chart",
    "comparison_chart",
    "distribution_chart",
    "memory_timeline",
    "regression_chart",
    "scaling_chart",
    "speedup_chart",
    "time_unit",
    "variant_label",
]

#: Colour of each comparison verdict (Dark2, distinguishable for common colour-vision deficits).
VERDICT_COLORS: dict[str, str] = {
    "faster": "#1b9e77",
    "slower": "#d95f02",
    "equivalent": "#666666",
    "inconclusive": "#e6ab02",
}

#: Colour of each monitor alert level; other levels are drawn in dark grey.
LEVEL_COLORS: dict[str, str] = {"warning": "#e6ab02", "critical": "#d62728"}

_OTHER_LEVEL_COLOR = "#444444"
# Share of a category slot taken by a group of dodged points or bars (seaborn's default width).
_DODGE_WIDTH = 0.8
# Beyond this many runs the run ids are no longer readable as tick labels.
_MAX_RUN_TICKS = 30


# --- Shared helpers -------------------------------------------------------------------------


def _palette(n: int) -> list[Any]:
    """``n`` distinct colours from matplotlib's ``tab10`` (cycled when n > 10)."""
    import matplotlib

    colors = list(matplotlib.color_sequences["tab10"])
    return [colors[i % len(colors)] for i in range(n)]


def _check_frame(df: Any, required: Iterable[str], *, what: str, empty: bool = False) -> None:
    """Raise :class:`ReportError` when ``df`` is not a frame with ``required`` columns, or is
    empty (unless ``empty``)."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise ReportError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0 and not empty:
        raise ReportError(f"nothing to plot: {what} has no rows")
    missing = [c for c in required if c not in df.columns]
    if missing:
        present = ", ".join(repr(str(c)) for c in df.columns) or "none"
        needed = ", ".join(repr(c) for c in missing)
        raise ReportError(f"{what} is missing column(s) {needed}; columns present: {present}")


def _is_missing(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _text(value: Any) -> str:
    """A cell as a label: missing values become the empty string."""
    return "" if _is_missing(value) else str(value).strip()


def _axes(ax: Axes | None) -> Axes:
    """``ax`` itself, or the Axes of a new pyplot figure (so Jupyter displays it)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots()
    return new_ax


def _measured(df: pd.DataFrame, value: str, *, what: str) -> pd.DataFrame:
    """Rows that are real measurements of ``value``, by the same rule the statistics use."""
    from rrperf.bench.stats import measured_rows

    out = measured_rows(df, value)
    if len(out) == 0:
        raise ReportError(
            f"nothing to plot: {what} has no measured rows of {value!r} "
            "(every row is a warm-up, failed or has no value)"
        )
    return out


def _signed_errors(
    center: np.ndarray, low: np.ndarray, high: np.ndarray, *, labels: Sequence[str], what: str
) -> np.ndarray:
    """Error-bar lengths ``[center - low, high - center]``; the center must lie in its interval."""
    import numpy as np

    below = center - low
    above = high - center
    bad = np.flatnonzero((below < 0) | (above < 0))
    if bad.size:
        i = int(bad[0])
        raise ReportError(
            f"{what} {float(center[i])!r} of {labels[i]} lies outside its interval "
            f"[{float(low[i])!r}, {float(high[i])!r}]; an interval must contain the value it is "
            "drawn around"
        )
    return np.vstack([below, above])


def _fit_label(name: str, value: float, low: float, high: float, digits: int) -> str:
    """``"name = value [low, high]"``; the interval is left out when it is undefined (NaN)."""
    text = f"{name} = {value:.{digits}f}"
    if math.isfinite(low) and math.isfinite(high):
        text += f" [{low:.{digits}f}, {high:.{digits}f}]"
    return text


def _interval_center(summary: pd.DataFrame) -> str | None:
    """Whether the summary's intervals are for the ``"mean"`` or the ``"median"``, if it says.

    :func:`rrperf.bench.stats.summarize` appends ``"-median"`` to ``ci_method`` for intervals of
    the median; any other method is an interval of the mean.
    """
    if "ci_method" not in summary.columns:
        return None
    methods = {_text(m) for m in summary["ci_method"]} - {""}
    kinds = {"median" if m.endswith("-median") else "mean" for m in methods}
    if len(kinds) > 1:
        raise ReportError(
            f"the summary mixes intervals for the mean and the median "
            f"(ci_method {', '.join(sorted(methods))}); summarize all groups one way"
        )
    return kinds.pop() if kinds else None


# --- Labels ---------------------------------------------------------------------------------


def variant_label(df: pd.DataFrame) -> pd.Series:
    """The label of each row's variant: ``"system/strategy"``, or ``"system"`` without strategy.

    Every chart labels variants with this function, so one variant reads the same everywhere.

    Parameters
    ----------
    df : pandas.DataFrame
        Any rrperf table with a ``system`` column and, optionally, a ``strategy`` column.
        A missing, NA or blank strategy leaves just the system name.

    Returns
    -------
    pandas.Series
        Strings named ``"variant"``, aligned with ``df.index``.

    Raises
    ------
    ReportError
        When ``df`` has no ``system`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"system": ["pipeline", "legacy"], "strategy": ["parallel", None]})
    >>> variant_label(df).tolist()
    ['pipeline/parallel', 'legacy']
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise ReportError(f"variant_label needs a pandas DataFrame, got {type(df).__name__}")
    if "system" not in df.columns:
        present = ", ".join(repr(str(c)) for c in df.columns) or "none"
        raise ReportError(f"variant_label needs column 'system'; columns present: {present}")
    systems = [_text(v) for v in df["system"]]
    if "strategy" in df.columns:
        strategies = [_text(v) for v in df["strategy"]]
    else:
        strategies = [""] * len(df)
    labels = [f"{sy}/{st}" if st else sy for sy, st in zip(systems, strategies, strict=True)]
    return pd.Series(labels, index=df.index, name="variant", dtype=object)


def _group_label(row: Mapping[str, Any] | pd.Series) -> str:
    """``"scenario · system/strategy · cache"`` for one row of a grouped table."""
    import pandas as pd

    frame = pd.DataFrame([dict(row)])
    parts = [_text(row.get("scenario")), str(variant_label(frame).iloc[0]),
             _text(row.get("cache_state"))]
    return " · ".join(p for p in parts if p)


def ci_chart(
    data: pd.DataFrame,
    *,
    x: str = "scenario",
    hue: str | None = None,
    center: Literal["median", "mean"] | None = None,
    value: str = "wall_s",
    confidence: float = 0.95,
    log: bool = False,
    ax: Axes | None = None,
    **kws: Any,
) -> Axes:
    """Per ``x`` category and variant, the median (or mean) with its confidence interval.

    The interval ends are the summary's ``ci_low`` and ``ci_high`` columns, computed by
    :func:`rrperf.bench.stats.summarize`; nothing is re-estimated here. Variants sharing a
    category are dodged side by side.

    Parameters
    ----------
    data : pandas.DataFrame
        A summary table (one row per group with ``median``/``mean``, ``ci_low``, ``ci_high``),
        or a measurement table (recognised by having no ``ci_low`` column), which is first
        summarized with ``summarize(data, value=value, confidence=confidence)``.
    x : str
        Column giving the categories along the horizontal axis.
    hue : str or None
        Column separating the variants drawn within a category. ``None`` uses
        :func:`variant_label`, followed by `` · <cache_state>`` when the table holds more than one
        cache state.
    center : {"median", "mean"} or None
        The summary column drawn as the point. It must be the statistic the intervals are for
        (``ci_method`` ending in ``"-median"`` means the median, any other method the mean).
        ``None`` draws whichever that is (the mean when the table does not say). A measurement
        table is summarized with ``center=center`` (the mean when ``None``).
    value : str
        The measured column: summarized when a measurement table is given, and named on the
        vertical axis.
    confidence : float
        Confidence level used when summarizing a measurement table.
    log : bool
        Draw the vertical axis on a log scale.
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when ``None``.
    **kws
        Passed to :meth:`matplotlib.axes.Axes.errorbar` (``fmt``, ``capsize``, ``markersize``...).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on, with one ``ErrorbarContainer`` per variant, in legend order.

    Raises
    ------
    ConfigError
        When ``center`` is neither ``"median"``, ``"mean"`` nor ``None``.
    ReportError
        When a column is missing, the table is empty, two rows share a category and variant,
        ``center`` is not the statistic the intervals are for, or a center lies outside its own
        interval.
    """
    import numpy as np
    import pandas as pd

    if center not in ("median", "mean", None):
        raise ConfigError(f"center must be 'median', 'mean' or None, got {center!r}")
    _check_frame(data, (), what="ci_chart input")
    if "ci_low" not in data.columns:
        _check_frame(data, (value, x), what="ci_chart measurement table")
        from rrperf.bench.stats import summarize

        logger.debug("ci_chart: summarizing a measurement table of %d rows", len(data))
        data = summarize(data, value=value, confidence=confidence, center=center or "mean")
    interval_center = _interval_center(data)
    if center is not None and interval_center is not None and center != interval_center:
        raise ReportError(
            f"the summary's intervals are for the {interval_center} (see its ci_method column), "
            f"not the {center}; pass center={interval_center!r}, or summarize with "
            f"center={center!r}"
        )
    stat: str = center or interval_center or "mean"
    required = [x, stat, "ci_low", "ci_high"] + (["system"] if hue is None else [hue])
    _check_frame(data, required, what="ci_chart summary")

    if hue is None:
        labels = variant_label(data)
        if "cache_state" in data.columns and data["cache_state"].map(_text).nunique() > 1:
            labels = labels + " · " + data["cache_state"].map(_text)
        hue_title = "variant"
    else:
        labels = data[hue].map(_text)
        hue_title = hue
    cats = data[x].map(_text)
    keys = pd.DataFrame({"x": cats, "hue": labels})
    duplicated = keys.duplicated(keep=False)
    if duplicated.any():
        first = keys.loc[duplicated].iloc[0]
        raise ReportError(
            f"ci_chart: several summary rows share {x}={first['x']!r} and {hue_title} "
            f"{first['hue']!r}; pass hue= a column that tells them apart, or filter the table"
        )

    categories = list(dict.fromkeys(cats))
    levels = list(dict.fromkeys(labels))
    position = {c: i for i, c in enumerate(categories)}
    step = _DODGE_WIDTH / len(levels)
    colors = _palette(len(levels))
    style: dict[str, Any] = {"capsize": 3.0}
    if "fmt" not in kws:
        # Points only: markers without a connecting line (fmt "o" would clash with marker=).
        style.update({"linestyle": "none"} if "marker" in kws else {"fmt": "o"})
    style.update(kws)

    ax = _axes(ax)
    for i, (level, color) in enumerate(zip(levels, colors, strict=True)):
        rows = data.loc[(labels == level).to_numpy()]
        offset = (i - (len(levels) - 1) / 2) * step
        xs = np.array([position[c] + offset for c in rows[x].map(_text)], dtype=float)
        ys = rows[stat].to_numpy(dtype=float)
        where = [f"{x}={c!r}, {hue_title} {level!r}" for c in rows[x].map(_text)]
        yerr = _signed_errors(
            ys, rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float),
            labels=where, what=stat,
        )
        ax.errorbar(xs, ys, yerr=yerr, label=level, **{"color": color, **style})

    ax.set_xticks(range(len(categories)), categories)
    ax.set_xlim(-0.5, len(categories) - 0.5)
    ax.set_xlabel(x)
    ax.set_ylabel(f"{value} ({stat})")
    if log:
        ax.set_yscale("log")
    methods = sorted({_text(m).removesuffix("-median") for m in data["ci_method"]} - {""}) if (
        "ci_method" in data.columns) else []
    interval = f"{', '.join(methods)} confidence interval" if methods else "confidence interval"
    ax.set_title(f"{stat} with {interval}")
    _legend_outside(ax, title=hue_title)
    return ax


# --- Units and legends ----------------------------------------------------------------------

# (threshold in seconds, factor, unit): the first whose threshold the typical value reaches.
_CHART_UNITS: tuple[tuple[float, float, str], ...] = (
    (1.0, 1.0, "s"), (1e-3, 1e3, "ms"), (0.0, 1e6, "µs"),
)


def time_unit(seconds: Iterable[float]) -> tuple[float, str]:
    """The factor and unit to draw durations in: the unit the tables use for their median.

    Tables print each duration with its own unit (:func:`rrperf.bench.report.format_seconds`);
    a chart needs one axis unit, so it takes the one of the median of ``seconds``.

    Examples
    --------
    >>> time_unit([0.004, 0.030, 0.012])
    (1000.0, 'ms')
    >>> time_unit([2.5, 1.5])
    (1.0, 's')
    """
    import numpy as np

    values = np.asarray([v for v in seconds if not _is_missing(v)], dtype=float)
    typical = float(np.median(np.abs(values))) if values.size else 1.0
    for threshold, factor, unit in _CHART_UNITS:
        if typical >= threshold:
            return factor, unit
    return _CHART_UNITS[-1][1], _CHART_UNITS[-1][2]


def _legend_outside(ax: Axes, **kws: Any) -> None:
    """The legend to the right of the axes, where it cannot cover data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kws)


def distribution_chart(
    data: pd.DataFrame,
    *,
    x: str = "scenario",
    hue: str | None = None,
    value: str = "wall_s",
    confidence: float = 0.95,
    log: bool | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Every measured iteration as a point, with the median and its interval, per category and
    variant (a strip plot, as pyperf's and hyperfine's histograms show the spread).

    Durations (``value`` ending in ``_s``) are drawn in the unit of :func:`time_unit`. The
    median and its bootstrap interval come from :func:`rrperf.bench.stats.summarize`
    (``center="median"``): the statistic every rrperf table and verdict uses. The legend sits
    outside the axes.

    Parameters
    ----------
    data : pandas.DataFrame
        A measurement table (warm-ups and failed iterations are left out).
    x : str
        Column of the categories along the horizontal axis.
    hue : str or None
        Column separating the variants within a category; :func:`variant_label` when None.
    value : str
        The measured column.
    confidence : float
        Level of the median's interval.
    log : bool or None
        Logarithmic vertical axis; None chooses it when the values span more than 20x.
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        Per variant, one marker-only line of the iterations (``gid == "iterations"``) and one
        ``ErrorbarContainer`` of the medians (labelled with the variant), in legend order.

    Raises
    ------
    ReportError
        When a column is missing or nothing is left to plot.
    """
    import numpy as np

    from rrperf.bench.stats import summarize

    _check_frame(data, (x, value) + ((hue,) if hue is not None else ("system",)),
                 what="measurement table")
    rows = _measured(data, value, what="measurement table").copy()
    rows["_hue"] = variant_label(rows) if hue is None else rows[hue].map(_text)
    rows["_x"] = rows[x].map(_text)
    factor, unit = time_unit(rows[value]) if value.endswith("_s") else (1.0, "")
    summary = summarize(rows, value=value, by=["_x", "_hue"], confidence=confidence,
                        center="median", n_resamples=2000)
    categories = list(dict.fromkeys(rows["_x"]))
    levels = sorted(dict.fromkeys(rows["_hue"]))  # the same order in every chart
    position = {c: i for i, c in enumerate(categories)}
    step = _DODGE_WIDTH / len(levels)
    ax = _axes(ax)
    for i, (level, color) in enumerate(zip(levels, _palette(len(levels)), strict=True)):
        offset = (i - (len(levels) - 1) / 2) * step
        sub = rows.loc[rows["_hue"] == level]
        xs: list[float] = []
        ys: list[float] = []
        for cat, part in sub.groupby("_x", sort=False):
            k = len(part)
            spread = np.linspace(-0.3, 0.3, k) * step if k > 1 else np.zeros(1)
            xs.extend(position[str(cat)] + offset + spread)
            ys.extend(part[value].to_numpy(dtype=float) * factor)
        ax.plot(xs, ys, linestyle="none", marker="o", markersize=3, alpha=0.45, color=color,
                gid="iterations", label="_nolegend_")
        med = summary.loc[summary["_hue"] == level]
        mx = np.array([position[c] + offset for c in med["_x"]], dtype=float)
        my = med["median"].to_numpy(dtype=float) * factor
        lo = med["ci_low"].to_numpy(dtype=float) * factor
        hi = med["ci_high"].to_numpy(dtype=float) * factor
        yerr = np.vstack([np.nan_to_num(my - lo), np.nan_to_num(hi - my)])
        ax.errorbar(mx, my, yerr=yerr, fmt="_", markersize=14, markeredgewidth=2.5,
                    capsize=3.0, color=color, label=level, zorder=3)
    ax.set_xticks(range(len(categories)), categories)
    ax.set_xlim(-0.5, len(categories) - 0.5)
    ax.set_xlabel(x)
    values = rows[value].to_numpy(dtype=float)
    positive = values[values > 0]
    if log is None:
        log = bool(positive.size) and float(positive.max()) > 20 * float(positive.min())
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(f"{value} ({unit})" if unit else value)
    ax.set_title(f"{value}: every iteration, median with its {confidence:.0%} interval")
    _legend_outside(ax, title="variant" if hue is None else hue)
    return ax


def comparison_chart(
    data: pd.DataFrame, *, threshold: float = 0.02, ax: Axes | None = None
) -> Axes:
    """Forest plot of each variant's ratio to the baseline, with its interval and verdict.

    One row per comparison row, labelled ``"scenario · system/strategy · cache"`` and drawn top
    to bottom in table order. The shaded band is the noise threshold
    ``[1 - threshold, 1 + threshold]``; the vertical line marks a ratio of 1. Points and intervals
    are coloured by verdict (:data:`VERDICT_COLORS`), and the verdict is written at the right of
    each row.

    Parameters
    ----------
    data : pandas.DataFrame
        A comparison table as :func:`rrperf.bench.regress.compare` returns it: ``system``,
        ``ratio`` (variant / baseline), ``ratio_ci_low``, ``ratio_ci_high``, ``verdict`` and,
        when present, ``scenario``, ``strategy``, ``cache_state`` and ``baseline``.
    threshold : float
        Relative change treated as noise, in [0, 1); use the value given to ``compare``.
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on, with one ``ErrorbarContainer`` per verdict present, in
        :data:`~rrperf.bench.results.VERDICTS` order.

    Raises
    ------
    ConfigError
        When ``threshold`` is outside [0, 1).
    ReportError
        When a column is missing, the table is empty, a verdict is unknown or a ratio lies outside
        its own interval.
    """
    import matplotlib.transforms as mtransforms
    import numpy as np

    if not isinstance(threshold, int | float) or not 0 <= threshold < 1:
        raise ConfigError(f"threshold must be a number in [0, 1), got {threshold!r}")
    # scenario and cache_state label the rows when present (compare() may group by fewer).
    required = ("system", "ratio", "ratio_ci_low", "ratio_ci_high", "verdict")
    _check_frame(data, required, what="comparison table")
    verdicts = data["verdict"].map(_text)
    unknown = sorted(set(verdicts) - set(VERDICTS))
    if unknown:
        raise ReportError(
            f"comparison table has unknown verdict(s) {', '.join(map(repr, unknown))}; "
            f"expected one of {', '.join(VERDICTS)}"
        )

    labels = [_group_label(row) for _, row in data.iterrows()]
    ys = np.arange(len(data), dtype=float)
    ratio = data["ratio"].to_numpy(dtype=float)
    xerr = _signed_errors(
        ratio, data["ratio_ci_low"].to_numpy(dtype=float),
        data["ratio_ci_high"].to_numpy(dtype=float), labels=labels, what="ratio",
    )

    ax = _axes(ax)
    ax.axvspan(1 - threshold, 1 + threshold, color="0.88", zorder=0,
               label=f"noise band ±{threshold:.1%}")
    ax.axvline(1.0, color="0.25", linewidth=1, zorder=1)
    verdict_array = verdicts.to_numpy()
    for verdict in VERDICTS:
        sel = verdict_array == verdict
        if not sel.any():
            continue
        ax.errorbar(ratio[sel], ys[sel], xerr=xerr[:, sel], fmt="o", capsize=3.0,
                    color=VERDICT_COLORS[verdict], label=verdict, zorder=3)
    right = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    for y, verdict in zip(ys, verdict_array, strict=True):
        ax.text(1.02, y, verdict, transform=right, color=VERDICT_COLORS[verdict],
                va="center", ha="left", clip_on=False)

    ax.set_yticks(ys, labels)
    ax.set_ylim(len(data) - 0.5, -0.5)
    baselines = (sorted({_text(b) for b in data["baseline"]} - {""})
                 if "baseline" in data.columns else [])
    against = f" {', '.join(baselines)}" if baselines else ""
    ax.set_xlabel(f"ratio to baseline{against} (< 1 is faster)")
    ax.set_title("comparison with the baseline")
    # Below the axes: the verdicts are written to the right of the rows.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=5, borderaxespad=0.0)
    return ax


# --- regression_chart -----------------------------------------------------------------------


def _select_group(
    data: pd.DataFrame, group: Mapping[str, Any] | Sequence[Any] | None
) -> pd.DataFrame:
    """The rows of one group; ``group`` picks it when the history holds several."""
    import pandas as pd

    columns = [c for c in GROUP_COLUMNS if c in data.columns]
    if group is not None:
        if isinstance(group, Mapping):
            wanted = dict(group)
        elif isinstance(group, Sequence) and not isinstance(group, str) and (
                len(group) == len(GROUP_COLUMNS)):
            wanted = dict(zip(GROUP_COLUMNS, group, strict=True))
        else:
            raise ConfigError(
                "group must be a mapping of group columns to values, or a tuple of "
                f"({', '.join(GROUP_COLUMNS)}), got {group!r}"
            )
        unknown = [k for k in wanted if k not in columns]
        if unknown:
            raise ConfigError(
                f"group names column(s) {', '.join(map(repr, unknown))} that the history does "
                f"not have; group columns present: {', '.join(columns) or 'none'}"
            )
        mask = pd.Series(True, index=data.index)
        for col, val in wanted.items():
            mask &= data[col].map(_text) == _text(val)
        data = data.loc[mask]
        if len(data) == 0:
            raise ReportError(f"nothing to plot: no measured rows in the history for {wanted!r}")
    if columns:
        present = data[columns].map(_text).drop_duplicates()
        if len(present) > 1:
            listed = "; ".join(
                repr(tuple(r)) for r in present.head(10).itertuples(index=False))
            raise ReportError(
                f"the history holds {len(present)} groups ({', '.join(columns)}): {listed}; "
                "pass group= to choose one"
            )
    return data


def regression_chart(
    data: pd.DataFrame,
    *,
    value: str = "wall_s",
    change_points: pd.DataFrame | None = None,
    baseline: str | None = None,
    group: Mapping[str, Any] | Sequence[Any] | None = None,
    confidence: float = 0.95,
    ax: Axes | None = None,
) -> Axes:
    """A metric over the run history, with the baseline band and the change points.

    One point per run (the median of its measured iterations, warm-ups and failed iterations
    left out), runs ordered by ``started_at``. The band is the median and its confidence
    interval (:func:`rrperf.bench.stats.summarize` with ``center="median"``) of the
    ``baseline`` run, or, without one, of every iteration of the first segment (the runs before
    the first change point). Each change point is a dashed vertical line between the last run
    before and the first run after the change, annotated with the relative change
    ``after / before - 1``.

    Parameters
    ----------
    data : pandas.DataFrame
        A measurement table spanning several runs (``run_id``, ``started_at``, ``value`` and the
        group columns), as the history store returns it.
    value : str
        The measured column to follow.
    change_points : pandas.DataFrame or None
        Change points as :func:`rrperf.bench.regress.detect_change_points` returns them
        (``position``, ``run_id``, ``before``, ``after`` and the group columns); computed from
        the selected group when ``None``. ``run_id`` is the first run after the change; when a
        row has no ``run_id`` found in the history, ``position`` (the index of that run among the
        group's runs in time order) places it.
    baseline : str or None
        ``run_id`` of the run whose interval forms the band; ``None`` uses the first segment.
    group : mapping or tuple or None
        Which group to draw when the history holds several: a mapping such as
        ``{"scenario": "small", "system": "pipeline"}`` or a full
        ``(scenario, system, strategy, cache_state)`` tuple.
    confidence : float
        Confidence level of the baseline band.
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on. The run medians are the line labelled ``"per-run median"``, the band
        is the patch labelled ``"baseline ..."`` and each change point adds one line with
        ``gid == "change_point"``.

    Raises
    ------
    ConfigError
        When ``group`` is malformed or names unknown columns.
    ReportError
        When a column is missing, nothing is left to plot, the history holds several groups and
        ``group`` is not given, or ``baseline`` is not a run of the history.
    """
    import matplotlib.transforms as mtransforms
    import numpy as np

    _check_frame(data, ("run_id", "started_at", value), what="history")
    data = _select_group(_measured(data, value, what="history"), group)
    runs = (
        data.groupby("run_id", sort=False, observed=True)
        .agg(started_at=("started_at", "min"), center=(value, "median"))
        .reset_index()
        .sort_values(["started_at", "run_id"], kind="stable")
        .reset_index(drop=True)
    )
    run_ids = [str(r) for r in runs["run_id"]]
    index_of = {r: i for i, r in enumerate(run_ids)}
    group_cols = [c for c in GROUP_COLUMNS if c in data.columns]

    if change_points is None:
        from rrperf.bench.regress import detect_change_points

        change_points = detect_change_points(data, value=value, by=tuple(group_cols))
    _check_frame(change_points, ("before", "after"), what="change points", empty=True)
    if len(change_points) and "position" not in change_points.columns and (
            "run_id" not in change_points.columns):
        raise ReportError(
            "change points need column 'position' or 'run_id'; columns present: "
            + ", ".join(repr(str(c)) for c in change_points.columns)
        )
    cps = _change_points_of_group(change_points, data, group_cols)
    boundaries: list[tuple[float, float]] = []  # (x of the line, relative change)
    for _, cp in cps.iterrows():
        rid = _text(cp.get("run_id")) if "run_id" in cps.columns else ""
        if rid in index_of:
            first_after = index_of[rid]
        elif "position" in cps.columns and not _is_missing(cp.get("position")):
            first_after = int(cp["position"])
        else:
            raise ReportError(f"change point run {rid!r} is not a run of the history")
        before, after = float(cp["before"]), float(cp["after"])
        change = after / before - 1 if before else math.nan
        boundaries.append((first_after - 0.5, change))
    boundaries.sort()

    if baseline is not None:
        base_rows = data.loc[data["run_id"].map(_text) == str(baseline)]
        if len(base_rows) == 0:
            shown = ", ".join(run_ids[:10]) + (" ..." if len(run_ids) > 10 else "")
            raise ReportError(f"baseline run {baseline!r} is not in the history; runs: {shown}")
        band_label = f"baseline run {baseline}"
    else:
        n_first = len(run_ids)
        if boundaries:
            n_first = max(1, min(len(run_ids), math.ceil(boundaries[0][0])))
        base_rows = data.loc[data["run_id"].map(_text).isin(run_ids[:n_first])]
        band_label = f"baseline (first {n_first} run{'s' if n_first != 1 else ''})"
    from rrperf.bench.stats import summarize

    band = summarize(base_rows, value=value, by=tuple(group_cols), confidence=confidence,
                     center="median")
    if len(band) != 1:
        raise ReportError(f"baseline summary has {len(band)} rows, expected one")
    band_row = band.iloc[0]

    ax = _axes(ax)
    positions = np.arange(len(runs), dtype=float)
    ax.axhspan(float(band_row["ci_low"]), float(band_row["ci_high"]), color="0.88", zorder=0,
               label=f"{band_label}: {confidence:.0%} CI")
    ax.axhline(float(band_row["median"]), color="0.45", linewidth=1, zorder=1,
               label=f"{band_label}: median")
    ax.plot(positions, runs["center"].to_numpy(dtype=float), marker="o", color="C0", zorder=3,
            label="per-run median")
    top = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
    for i, (where, change) in enumerate(boundaries):
        ax.axvline(where, color=VERDICT_COLORS["slower"], linestyle="--", linewidth=1.2,
                   gid="change_point", label="change point" if i == 0 else "_nolegend_")
        text = "n/a" if math.isnan(change) else f"{change:+.1%}"
        ax.text(where, 0.98, f" {text}", transform=top, va="top", ha="left",
                color=VERDICT_COLORS["slower"])

    if len(run_ids) <= _MAX_RUN_TICKS:
        ax.set_xticks(positions, run_ids, rotation=45, ha="right")
    ax.set_xlim(-0.5, len(runs) - 0.5)
    ax.set_xlabel("run (by start time)")
    ax.set_ylabel(f"{value} (per-run median)")
    title = _group_label(data.iloc[0]) if group_cols else value
    ax.set_title(f"{title}: history")
    _legend_outside(ax, fontsize="small")
    return ax


def _change_points_of_group(
    change_points: pd.DataFrame, data: pd.DataFrame, group_cols: Sequence[str]
) -> pd.DataFrame:
    """The change points that belong to the (single) group left in ``data``."""
    if len(change_points) == 0 or len(data) == 0:
        return change_points
    import pandas as pd

    mask = pd.Series(True, index=change_points.index)
    first = data.iloc[0]
    for col in group_cols:
        if col in change_points.columns:
            mask &= change_points[col].map(_text) == _text(first[col])
    return change_points.loc[mask]


def speedup_chart(
    data: pd.DataFrame,
    *,
    fit: AmdahlFit | Mapping[str, AmdahlFit] | None = None,
    confidence: float = 0.95,
    ax: Axes | None = None,
) -> Axes:
    """Measured speedup against workers, the fitted Amdahl curve and the ideal linear speedup.

    Parameters
    ----------
    data : pandas.DataFrame
        As :mod:`rrperf.bench.speedup` returns it (one row per measured run): ``method``,
        ``workers``, ``speedup`` (other columns are ignored).
    fit : AmdahlFit or mapping of str to AmdahlFit or None
        The serial fraction to draw. One ``AmdahlFit`` draws one curve; a mapping from method
        to fit draws one curve per method it names (methods it leaves out, such as the
        one-worker ``"sequential"``, get none; an empty mapping draws none). ``None`` fits
        one serial fraction to every row with :func:`rrperf.bench.stats.fit_amdahl` (every
        run of every method is a point of the fit).
    confidence : float
        Confidence level of the fits computed here.
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: per method a marker-only line of the measurements (labelled with the
        method), the Amdahl curve(s) (``gid == "amdahl"``) and the dashed ideal line
        (``gid == "ideal"``).

    Raises
    ------
    ReportError
        When a column is missing, no row has both workers and speedup, or a ``fit`` mapping
        names none of the methods.
    """
    import numpy as np

    from rrperf.bench.stats import amdahl_speedup

    _check_frame(data, ("method", "workers", "speedup"), what="execution-method table")
    data = data.loc[data["workers"].notna() & data["speedup"].notna()]
    if len(data) == 0:
        raise ReportError("nothing to plot: no row of the execution-method table has a speedup")
    names = list(dict.fromkeys(data["method"].map(_text)))
    labels = data["method"].map(_text)
    fits: dict[str, AmdahlFit] = {}
    if isinstance(fit, Mapping):
        fits = {name: fit[name] for name in names if name in fit}
        if not fits and fit:  # an empty mapping draws no curve (no method could be fitted)
            raise ReportError(
                f"fit has an Amdahl fit for none of the methods {', '.join(map(repr, names))}; "
                f"it covers {', '.join(map(repr, fit)) or 'none'}"
            )
    elif fit is None:
        from rrperf.bench.stats import fit_amdahl

        fit = fit_amdahl(data["workers"].to_numpy(dtype=float),
                         data["speedup"].to_numpy(dtype=float), confidence=confidence)

    w_max = float(data["workers"].max())
    grid = np.linspace(1.0, max(w_max, 1.0), 200)
    colors = _palette(len(names))

    ax = _axes(ax)
    ax.plot([1.0, max(w_max, 1.0)], [1.0, max(w_max, 1.0)], linestyle="--", color="0.5",
            gid="ideal", label="ideal (linear)")
    for name, color in zip(names, colors, strict=True):
        rows = data.loc[labels == name].sort_values("workers")
        ax.plot(rows["workers"].to_numpy(dtype=float), rows["speedup"].to_numpy(dtype=float),
                linestyle="none", marker="o", color=color, label=name)
        if name in fits:
            f = fits[name]
            ax.plot(grid, np.asarray(amdahl_speedup(grid, f.serial_fraction), dtype=float),
                    color=color, gid="amdahl", label=f"{name}: Amdahl " + _fit_label(
                        "s", f.serial_fraction, f.ci_low, f.ci_high, 3))
    if not isinstance(fit, Mapping):
        ax.plot(grid, np.asarray(amdahl_speedup(grid, fit.serial_fraction), dtype=float),
                color="0.15", gid="amdahl", label="Amdahl " + _fit_label(
                    "s", fit.serial_fraction, fit.ci_low, fit.ci_high, 3))

    ax.set_xlabel("workers")
    ax.set_ylabel("speedup")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_title("speedup against workers")
    _legend_outside(ax, fontsize="small")
    return ax


def scaling_chart(
    data: pd.DataFrame,
    *,
    x: str = "n_tables",
    y: str = "wall_s",
    hue: str | None = None,
    fit: ScalingFit | Mapping[str, ScalingFit] | None = None,
    confidence: float = 0.95,
    ax: Axes | None = None,
) -> Axes:
    """``y`` against ``x`` on log–log axes with the fitted power law ``prefactor * x**exponent``.

    Measured rows only (warm-ups and failed iterations are left out when those columns exist).
    The fitted exponent and its interval appear in the legend and, without ``hue``, in the
    title.

    Parameters
    ----------
    data : pandas.DataFrame
        A measurement table, or any table with the ``x`` and ``y`` columns.
    x, y : str
        Columns of the size (e.g. table count) and the cost (e.g. wall time); both must be > 0.
    hue : str or None
        Column separating series, each with its own fit.
    fit : ScalingFit or mapping of str to ScalingFit or None
        The fit to draw: one ``ScalingFit`` without ``hue``, a mapping from hue level to fit with
        it. ``None`` fits each series with :func:`rrperf.bench.stats.fit_scaling`.
    confidence : float
        Confidence level of the fits computed here.
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on: per series a marker-only line of the measurements and a fitted line
        (``gid == "fit"``).

    Raises
    ------
    ConfigError
        When ``fit`` does not match ``hue`` (a mapping without ``hue`` or the reverse).
    ReportError
        When a column is missing, nothing is left to plot, a value is not positive, or a ``fit``
        mapping lacks a level.
    """
    import numpy as np

    _check_frame(data, (x, y) + ((hue,) if hue is not None else ()), what="scaling data")
    rows = _measured(data, y, what="scaling data")
    rows = rows.loc[rows[x].notna()]
    xs_all = rows[x].to_numpy(dtype=float)
    ys_all = rows[y].to_numpy(dtype=float)
    if len(rows) == 0:
        raise ReportError(f"nothing to plot: scaling data has no row with both {x!r} and {y!r}")
    if (xs_all <= 0).any() or (ys_all <= 0).any():
        raise ReportError(f"scaling_chart draws log–log axes: {x!r} and {y!r} must be > 0")

    if hue is None:
        if isinstance(fit, Mapping):
            raise ConfigError("fit is a mapping of hue levels but hue is None; pass one fit")
        series: list[tuple[str | None, pd.DataFrame]] = [(None, rows)]
    else:
        if fit is not None and not isinstance(fit, Mapping):
            raise ConfigError(f"with hue={hue!r}, fit must map each {hue} level to its fit")
        levels = rows[hue].map(_text)
        series = [(lv, rows.loc[levels == lv]) for lv in dict.fromkeys(levels)]
        if isinstance(fit, Mapping):
            lacking = [lv for lv, _ in series if lv not in fit]
            if lacking:
                raise ReportError(
                    f"fit has no scaling fit for {hue} level(s) {', '.join(map(repr, lacking))}"
                )

    colors = _palette(len(series))
    ax = _axes(ax)
    fitted: list[ScalingFit] = []
    for (level, sub), color in zip(series, colors, strict=True):
        if fit is None:
            from rrperf.bench.stats import fit_scaling

            f = fit_scaling(sub, x=x, y=y, confidence=confidence)
        elif isinstance(fit, Mapping):
            f = fit[str(level)]
        else:
            f = fit
        fitted.append(f)
        name = "measured" if level is None else level
        ax.plot(sub[x].to_numpy(dtype=float), sub[y].to_numpy(dtype=float), linestyle="none",
                marker="o", alpha=0.7, color=color, label=name)
        grid = np.geomspace(float(sub[x].min()), float(sub[x].max()), 50)
        prefix = "fit: " if level is None else f"{level}: "
        ax.plot(grid, f.prefactor * grid**f.exponent, color=color, gid="fit",
                label=prefix + _fit_label("exponent", f.exponent, f.ci_low, f.ci_high, 2))

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"{x} (log)")
    ax.set_ylabel(f"{y} (log)")
    if hue is None:
        f = fitted[0]
        interval = (f"{f.confidence:.0%} CI {f.ci_low:.2f}–{f.ci_high:.2f}, "
                    if math.isfinite(f.ci_low) and math.isfinite(f.ci_high) else "")
        ax.set_title(
            f"{y} ∝ {x}^{f.exponent:.2f} ({interval}R² = {f.r_squared:.3f}, n = {f.n})"
        )
    else:
        ax.set_title(f"{y} against {x} (log–log)")
    _legend_outside(ax, fontsize="small")
    return ax


def cache_chart(data: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Hit rate per cache category and tier, as grouped bars on a 0–100 % axis.

    Parameters
    ----------
    data : pandas.DataFrame
        As :meth:`rrperf.engine.cache.CacheOptimizer.cache_efficiency_report` returns it:
        ``category``, ``tier`` and ``hit_rate`` as a fraction in [0, 1] (NaN when a tier saw no
        request; its bar is left empty and labelled "n/a").
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on, with one ``BarContainer`` per tier (in table order) whose bar heights
        are the hit rates in percent, one bar per category.

    Raises
    ------
    ReportError
        When a column is missing, the table is empty, a (category, tier) pair repeats or a hit
        rate is outside [0, 1].
    """
    import matplotlib.ticker as mticker
    import numpy as np

    _check_frame(data, ("category", "tier", "hit_rate"), what="cache report")
    rate = data["hit_rate"].to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isnan(rate) & ((rate < 0) | (rate > 1)))
    if bad.size:
        raise ReportError(
            f"hit_rate must be a fraction in [0, 1], got {float(rate[bad[0]])!r} "
            f"(row {int(bad[0])})"
        )
    cats = data["category"].map(_text)
    tiers = data["tier"].map(_text)
    keyed: dict[tuple[str, str], float] = {}
    for c, t, r in zip(cats, tiers, rate, strict=True):
        if (c, t) in keyed:
            raise ReportError(f"cache report has several rows for category {c!r}, tier {t!r}")
        keyed[(c, t)] = float(r)
    categories = list(dict.fromkeys(cats))
    tier_names = list(dict.fromkeys(tiers))
    width = _DODGE_WIDTH / len(tier_names)

    ax = _axes(ax)
    for i, (tier, color) in enumerate(zip(tier_names, _palette(len(tier_names)), strict=True)):
        offset = (i - (len(tier_names) - 1) / 2) * width
        heights = np.array([100 * keyed.get((c, tier), math.nan) for c in categories])
        xs = np.arange(len(categories)) + offset
        bars = ax.bar(xs, heights, width=width, color=color, label=tier)
        # Labels sit inside the bars: a 100 % bar reaches the top of the fixed 0-100 % axis.
        ax.bar_label(bars, labels=["" if math.isnan(h) else f"{h:.0f}%" for h in heights],
                     label_type="center", fontsize="small", color="white")
        for x_, h in zip(xs, heights, strict=True):
            if math.isnan(h):  # a tier that saw no request has no rate: say so, draw no bar
                ax.text(x_, 1.0, "n/a", ha="center", va="bottom", fontsize="small", color="0.4")
    ax.set_xticks(range(len(categories)), categories)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(mticker.PercentFormatter(100))
    ax.set_xlabel("cache category")
    ax.set_ylabel("hit rate")
    ax.set_title("cache hit rate per category and tier")
    _legend_outside(ax, title="tier")
    return ax


# --- memory_timeline ------------------------------------------------------------------------


def _time_column(df: pd.DataFrame, choices: Sequence[str], *, what: str) -> str:
    """The first of ``choices`` that ``df`` has, or a :class:`ReportError` naming them all."""
    for name in choices:
        if name in df.columns:
            return name
    present = ", ".join(repr(str(c)) for c in df.columns) or "none"
    wanted = " or ".join(repr(c) for c in choices)
    raise ReportError(f"{what} is missing column(s) {wanted}; columns present: {present}")


def _alert_axis(metric: str) -> str | None:
    """Which axis an alert's value belongs on: ``"rss"``, ``"cpu"`` or none (time, rates)."""
    name = metric.lower()
    if "rss" in name or "memory" in name:
        return "rss"
    if "cpu" in name:
        return "cpu"
    return None


def memory_timeline(
    data: pd.DataFrame, *, alerts: pd.DataFrame | None = None, ax: Axes | None = None
) -> Axes:
    """Resident memory over elapsed time, CPU % on a twin axis, and the monitor's alerts.

    Time runs from the start of each session: a table with ``elapsed_s`` is drawn as is; a
    table of clock readings (``t_s``, as
    :meth:`rrperf.engine.monitor.PerformanceMonitor.samples_frame` returns it) is shifted so
    that each session starts at its first sample.

    Parameters
    ----------
    data : pandas.DataFrame
        ``elapsed_s`` or ``t_s``, ``rss_mb``, ``cpu_percent`` and, optionally, ``session``
        (one pair of lines per session).
    alerts : pandas.DataFrame or None
        As ``alerts_frame()`` returns it: ``elapsed_s`` or ``time_s`` (clock reading, shifted
        like the samples of its session), ``metric``, ``level``, ``value`` and, optionally,
        ``session`` (alerts of sessions not in ``data`` are left out). Each alert is a
        vertical line coloured by level (:data:`LEVEL_COLORS`, ``gid == "alert"``) and, when
        its metric is memory (``memory_usage``, ``rss...``) or CPU (``cpu...``), a triangle at
        its value on that axis.
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when ``None``.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes holding the RSS lines; the CPU lines are on its twin
        (``ax.get_shared_x_axes().get_siblings(ax)``).

    Raises
    ------
    ReportError
        When a column is missing, ``data`` is empty, or the alerts carry clock times
        (``time_s``) while the samples carry only ``elapsed_s``.
    """
    _check_frame(data, ("rss_mb", "cpu_percent"), what="monitor samples")
    t_col = _time_column(data, ("elapsed_s", "t_s"), what="monitor samples")
    alert_t_col = ""
    if alerts is not None:
        _check_frame(alerts, ("metric", "level", "value"), what="alerts", empty=True)
        alert_t_col = _time_column(alerts, ("elapsed_s", "time_s"), what="alerts")
        if alert_t_col == "time_s" and t_col == "elapsed_s":
            raise ReportError(
                "alerts carry clock times (time_s) but the samples only elapsed_s; pass the "
                "samples with t_s (as samples_frame() returns them) so the two can be aligned"
            )
    if "session" in data.columns:
        keys = data["session"].map(_text)
        sessions = [(s, data.loc[keys == s]) for s in dict.fromkeys(keys)]
    else:
        sessions = [("", data)]
    origin = {name: (float(rows[t_col].min()) if t_col == "t_s" else 0.0)
              for name, rows in sessions}

    ax = _axes(ax)
    cpu_ax = ax.twinx()
    colors = _palette(len(sessions))
    for (name, rows), color in zip(sessions, colors, strict=True):
        rows = rows.sort_values(t_col, kind="stable")
        suffix = f" ({name})" if name else ""
        t = rows[t_col].to_numpy(dtype=float) - origin[name]
        ax.plot(t, rows["rss_mb"].to_numpy(dtype=float), color=color, linewidth=1.6,
                label=f"RSS{suffix}")
        cpu_ax.plot(t, rows["cpu_percent"].to_numpy(dtype=float), color=color, linestyle=":",
                    linewidth=1.2, label=f"CPU{suffix}")

    if alerts is not None and len(alerts):
        by_session = "session" in alerts.columns and "session" in data.columns
        labelled: set[str] = set()
        for _, alert in alerts.iterrows():
            session = _text(alert["session"]) if by_session else ""
            if by_session and session not in origin:
                continue  # an alert of a session that is not drawn
            shift = origin[session] if by_session else min(origin.values())
            when = float(alert[alert_t_col]) - (shift if alert_t_col == "time_s" else 0.0)
            level = _text(alert["level"])
            color = LEVEL_COLORS.get(level, _OTHER_LEVEL_COLOR)
            label = f"alert: {level}" if level not in labelled else "_nolegend_"
            labelled.add(level)
            ax.axvline(when, color=color, linestyle="-.", linewidth=1, gid="alert", label=label)
            target = {"rss": ax, "cpu": cpu_ax}.get(_alert_axis(_text(alert["metric"])) or "")
            if target is not None and not _is_missing(alert["value"]):
                target.plot([when], [float(alert["value"])], linestyle="none", marker="v",
                            markersize=8, color=color, label="_nolegend_")

    ax.set_xlabel("elapsed (s)")
    ax.set_ylabel("RSS (MB)")
    cpu_ax.set_ylabel("CPU (%)")
    ax.set_ylim(bottom=0)
    cpu_ax.set_ylim(bottom=0)
    # Draw the RSS axes (and its legend) above the twin, without hiding the twin's lines.
    ax.set_zorder(cpu_ax.get_zorder() + 1)
    ax.patch.set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    cpu_handles, cpu_labels = cpu_ax.get_legend_handles_labels()
    # Below the axes: the CPU axis is on the right.
    ax.legend(handles + cpu_handles, labels + cpu_labels, loc="upper center",
              bbox_to_anchor=(0.5, -0.15), ncol=4, fontsize="small", borderaxespad=0.0)
    ax.set_title("memory and CPU over time")
    return ax
