"""The comparative benchmark report: one result rendered as Markdown, HTML or JSON.

A report has seven parts, always in this order and under these headings: ``Metadata`` (one
row per run), ``Summary`` (per group, with confidence intervals), ``Comparison`` (each variant
against the baseline, with the verdict), ``Correctness`` (the output-digest gate), ``Stability``
(in Markdown and HTML one sentence and one line per group, worst first:
:func:`stability_overview`; in JSON the checks of
:func:`rrperf.bench.stats.stability_warnings`), ``Warnings`` (the warnings raised while the
benchmark ran, :attr:`BenchmarkResult.warnings`, one row per kind of warning with its count and
places: :func:`warnings_overview`) and, in JSON only, the raw ``rows``. Every part is a tidy
table computed by the statistics functions; this module only formats.

Markdown and HTML are read by people: times are shown with a unit and three significant
digits (``47.5 ms``, ``1.23 s``), ratios as ``1.21×``, p-values with two significant digits
(``0.0017``; ``<0.0001`` below that) and the coefficient of variation as a percentage, by
:func:`format_table`. JSON, Parquet and CSV keep the raw floats.

Markdown and HTML are rendered by :mod:`rrperf.document`, which escapes every string taken
from the data (scenario, system and strategy names, error messages, paths), so a scenario
called ``<script>alert(1)</script>`` shows as text. :func:`generate_report` also renders the
regression gates (:func:`gate_sections`), as ``rrperf bench --format markdown`` does.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf import atomic
from rrperf.document import Section, is_missing, json_records, render_document
from rrperf.errors import ConfigError, ReportError

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.bench.gate import Gate
    from rrperf.bench.results import BenchmarkResult

__all__ = [
    "P_VALUE_COLUMNS",
    "RATIO_COLUMNS",
    "REPORT_FORMATS",
    "REPORT_SECTIONS",
    "SECONDS_COLUMNS",
    "STABILITY_VERDICTS",
    "format_instructions",
    "format_p_value",
    "format_percent",
    "format_ratio",
    "format_seconds",
    "format_table",
    "gate_sections",
    "generate_report",
    "stability_overview",
    "stability_verdict",
    "warning_template",
    "warnings_overview",
]

logger = logging.getLogger(__name__)

#: Formats :func:`generate_report` writes.
REPORT_FORMATS: tuple[str, ...] = ("markdown", "json", "html")

#: Section headings, in order (JSON keys are their lower-case forms, plus ``rows``).
REPORT_SECTIONS: tuple[str, ...] = (
    "Metadata", "Summary", "Comparison", "Correctness", "Stability", "Warnings",
)

#: Columns :func:`format_table` shows as times (values in seconds).
SECONDS_COLUMNS: tuple[str, ...] = (
    "mean", "median", "std", "ci_low", "ci_high", "median_s", "wall_s", "cpu_s",
    "median_wall_s", "min_wall_s", "max_wall_s", "min", "max",
)
#: Columns :func:`format_table` shows as ratios (``1.21×``).
RATIO_COLUMNS: tuple[str, ...] = ("ratio", "ratio_ci_low", "ratio_ci_high")
#: Columns :func:`format_table` shows as p-values.
P_VALUE_COLUMNS: tuple[str, ...] = ("p_value", "p_adjusted")
# Columns shown as percentages (fractions in the data).
_PERCENT_COLUMNS: tuple[str, ...] = ("cv", "median_pm")

_TITLE = "rrperf benchmark report"


def _significant(value: float, digits: int) -> str:
    """``value`` rounded to ``digits`` significant digits, in plain notation (no exponent);
    numbers with more integer digits than that are shown whole (``1523``, not ``1520``)."""
    if abs(value) >= 10 ** digits:
        return f"{value:.0f}"
    rounded = float(f"{value:.{digits}g}")
    if rounded == 0:
        return "0"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:.{decimals}f}"


# (threshold, factor, unit): the first unit whose threshold the rounded value reaches.
_TIME_UNITS: tuple[tuple[float, float, str], ...] = (
    (1.0, 1.0, "s"), (1e-3, 1e3, "ms"), (1e-6, 1e6, "µs"), (0.0, 1e9, "ns"),
)


def format_seconds(value: Any) -> str:
    """A duration in seconds as text with a unit and three significant digits.

    Parameters
    ----------
    value : float or None
        Seconds; may be negative (the low end of a confidence interval).

    Returns
    -------
    str
        ``""`` for a missing value, else e.g. ``"1.23 s"``, ``"47.5 ms"``, ``"812 µs"``,
        ``"90 ns"``; durations of 1000 s and more in whole seconds.

    Examples
    --------
    >>> [format_seconds(v) for v in (1.2345, 0.04749, 0.0009996, -0.005132, 0.0, 1234.5)]
    ['1.23 s', '47.5 ms', '1.00 ms', '-5.13 ms', '0 s', '1234 s']
    """
    if is_missing(value):
        return ""
    seconds = float(value)
    if math.isinf(seconds):
        return "∞ s" if seconds > 0 else "-∞ s"
    # Round first, so 0.0009996 s becomes 1.00 ms rather than 1000 µs.
    rounded = abs(float(f"{seconds:.3g}"))
    if rounded == 0:
        return "0 s"
    for threshold, factor, unit in _TIME_UNITS:
        if rounded >= threshold:
            return f"{_significant(seconds * factor, 3)} {unit}"
    raise AssertionError("unreachable: the last unit has threshold 0")


def format_ratio(value: Any) -> str:
    """A ratio with three significant digits and a ``×``: ``1.21×``, ``0.404×``, ``""`` when
    missing.

    Examples
    --------
    >>> [format_ratio(v) for v in (1.2149, 0.40371, 15.26, 1523.0, float("nan"))]
    ['1.21×', '0.404×', '15.3×', '1523×', '']
    """
    if is_missing(value):
        return ""
    return f"{_significant(float(value), 3)}×"


def format_p_value(value: Any) -> str:
    """A p-value with two significant digits; ``<0.0001`` below 0.0001; ``""`` when missing.

    Examples
    --------
    >>> [format_p_value(v) for v in (0.0017, 0.33333, 0.05, 1.0, 2e-7)]
    ['0.0017', '0.33', '0.050', '1.0', '<0.0001']
    """
    if is_missing(value):
        return ""
    p = float(value)
    if p < 1e-4:
        return "<0.0001"
    return _significant(p, 2)


def format_percent(value: Any) -> str:
    """A fraction as a percentage with three significant digits: ``0.2021`` -> ``20.2 %``.

    Examples
    --------
    >>> [format_percent(v) for v in (0.2021, 0.05978, 1.5, None)]
    ['20.2 %', '5.98 %', '150 %', '']
    """
    if is_missing(value):
        return ""
    return f"{_significant(float(value) * 100, 3)} %"


def format_instructions(value: Any) -> str:
    """An instruction count for people: millions with three decimals (``307.454 M``)."""
    if is_missing(value):
        return ""
    return f"{float(value) / 1e6:,.3f} M"


def format_table(
    frame: pd.DataFrame,
    *,
    seconds: tuple[str, ...] = SECONDS_COLUMNS,
    ratios: tuple[str, ...] = RATIO_COLUMNS,
    p_values: tuple[str, ...] = P_VALUE_COLUMNS,
    percents: tuple[str, ...] = _PERCENT_COLUMNS,
) -> pd.DataFrame:
    """A copy of ``frame`` for people: the named columns present become text.

    Parameters
    ----------
    frame : DataFrame
        Any table (summary, comparison, regressions...); it is not modified.
    seconds, ratios, p_values, percents : tuple of str
        Columns formatted by :func:`format_seconds`, :func:`format_ratio`,
        :func:`format_p_value` and :func:`format_percent`; absent ones are skipped.

    Returns
    -------
    DataFrame
        Same columns and rows; the formatted columns hold strings (``""`` when missing).
    """
    out = frame.copy()
    for columns, fmt in (
        (seconds, format_seconds), (ratios, format_ratio), (p_values, format_p_value),
        (percents, format_percent),
    ):
        for col in columns:
            if col in out.columns:
                out[col] = [fmt(v) for v in frame[col].astype(object)]
    return out


# A warning about one place ("audit_events.remote_ip: column type 'inet' ..."): the place
# before the first ": ", when it looks like a dotted or slashed name (table.column, a path with
# an optional :line:col).
_WARNING_SUBJECT = re.compile(r"^(?P<subject>[\w$-]+(?:[./][\w$-]+)+(?::\d+)*): (?P<rest>.+)$",
                              re.DOTALL)
# How many places a grouped warning names before "and N more".
_WARNING_EXAMPLES = 3


def warning_template(message: str) -> tuple[str, str | None]:
    """Split a warning about one place into a template and the place.

    Parameters
    ----------
    message : str

    Returns
    -------
    (template, subject)
        For ``"accounts.ip: column type 'inet' ..."``: ``("<table>.<column>: column type
        'inet' ...", "accounts.ip")``; a message that names no place is its own template,
        with subject None.

    Examples
    --------
    >>> warning_template("orders.ip: column type 'inet' has no TypeScript mapping")
    ("<table>.<column>: column type 'inet' has no TypeScript mapping", 'orders.ip')
    >>> warning_template("db/schema.rb:12:3: view skipped")
    ('<file>: view skipped', 'db/schema.rb:12:3')
    >>> warning_template("cache off")
    ('cache off', None)
    """
    match = _WARNING_SUBJECT.match(message)
    if match is None:
        return message, None
    subject = match.group("subject")
    if re.fullmatch(r"[\w$-]+\.[\w$-]+", subject):
        stand_in = "<table>.<column>"
    elif "/" in subject or re.search(r":\d+$", subject) or re.search(r"\.\w+$", subject):
        stand_in = "<file>" if "/" in subject or ":" in subject else "<name>"
    else:
        stand_in = "<name>"
    return f"{stand_in}: {match.group('rest')}", subject


def _places(subjects: list[str]) -> str:
    if len(subjects) <= _WARNING_EXAMPLES:
        return ", ".join(subjects)
    shown = ", ".join(subjects[:_WARNING_EXAMPLES])
    return f"{shown} and {len(subjects) - _WARNING_EXAMPLES} more ({len(subjects)} in all)"


def warnings_overview(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per kind of warning of a warnings table, with its count and where it was raised.

    Warnings that differ only in the place they name (``accounts.ip: column type 'inet' ...``,
    ``orders.ip: column type 'inet' ...``) are one kind (see :func:`warning_template`); a kind
    raised about a single place keeps its full message.

    Parameters
    ----------
    frame : DataFrame
        :attr:`BenchmarkResult.warnings` (``WARNING_COLUMNS``), or several of them
        concatenated.

    Returns
    -------
    DataFrame
        ``category, message, count, places, scenarios, variants`` in the order first seen:
        ``count`` sums the counts; ``places`` lists the places the kind names (the first three,
        then "and N more (M in all)"; empty for a single place or none); ``scenarios`` and
        ``variants`` (``system`` or ``system/strategy``) list where it was raised, sorted and
        comma-separated.
    """
    import pandas as pd

    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in frame.astype(object).to_dict("records"):
        message = str(r["message"])
        template, subject = warning_template(message)
        key = (str(r["category"]), template)
        entry = rows.setdefault(
            key, {"count": 0, "messages": {}, "subjects": {}, "scenarios": {}, "variants": {}}
        )
        entry["count"] += int(r["count"])
        entry["messages"][message] = None
        if subject is not None:
            entry["subjects"][subject] = None
        if not is_missing(r["scenario"]):
            entry["scenarios"][str(r["scenario"])] = None
        if not is_missing(r["system"]):
            strategy = "" if is_missing(r["strategy"]) else str(r["strategy"])
            label = f"{r['system']}/{strategy}" if strategy else str(r["system"])
            entry["variants"][label] = None
    single = [len(e["messages"]) == 1 for e in rows.values()]
    return pd.DataFrame(
        {
            "category": [k[0] for k in rows],
            "message": [
                next(iter(e["messages"])) if one else k[1]
                for (k, e), one in zip(rows.items(), single, strict=True)
            ],
            "count": pd.Series([e["count"] for e in rows.values()], dtype="int64"),
            "places": [
                "" if one else _places(list(e["subjects"]))
                for e, one in zip(rows.values(), single, strict=True)
            ],
            "scenarios": [", ".join(sorted(e["scenarios"])) for e in rows.values()],
            "variants": [", ".join(sorted(e["variants"])) for e in rows.values()],
        }
    )


#: Verdicts of :func:`stability_overview`, worst first.
STABILITY_VERDICTS: tuple[str, ...] = ("too few", "too short", "imprecise", "ok, outliers", "ok")


def stability_overview(
    data: pd.DataFrame,
    *,
    value: str = "wall_s",
    precision: float = 0.05,
    cv_threshold: float = 0.10,
    confidence: float = 0.95,
    timer_resolution_s: float | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """One line per group: is its median measured precisely enough to be trusted?

    Reports quote medians (and paired ratios of them), so the verdict is about the median:
    the half-width of its bootstrap interval (:func:`rrperf.bench.stats.summarize` with
    ``center="median"``) relative to the median. The coefficient of variation (std / mean,
    the statistic of :func:`rrperf.bench.stats.stability_warnings`) is shown beside it: a
    few slow iterations on a busy machine make it large while the median stays put.

    Parameters
    ----------
    data : DataFrame
        A measurement table (warm-ups and failed iterations are left out).
    value : str
        The measured column.
    precision : float
        Largest acceptable relative half-width of the median's interval.
    cv_threshold : float
        A cv above this marks a precise group as ``"ok, outliers"``.
    confidence : float
        Level of the interval.
    timer_resolution_s : float or None
        For the ``"too short"`` verdict (shortest value under 1000 x the resolution);
        ``time.get_clock_info("perf_counter").resolution`` when None.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    DataFrame
        The group columns, then ``n, median, min, max, median_pm, cv, needed, verdict``, worst
        first (by :data:`STABILITY_VERDICTS`, then by ``median_pm``). ``median_pm`` is the
        relative half-width (a fraction); ``needed`` estimates the iterations that would bring
        it to ``precision`` (the width shrinks as 1/sqrt(n)), at least ``n``; ``verdict`` is
        ``"too few"`` (under 3 iterations), ``"too short"``, ``"imprecise"``,
        ``"ok, outliers"`` or ``"ok"``.
    """
    import time

    import numpy as np
    import pandas as pd

    from rrperf.bench.stats import group_columns, measured_rows, summarize

    by = group_columns(data, None)
    summary = summarize(data, value=value, by=by, confidence=confidence, center="median",
                        seed=seed, n_resamples=2000)
    rows = measured_rows(data, value)
    extremes = rows.groupby(by, sort=False, observed=True, dropna=False)[value].agg(["min", "max"])
    summary = summary.merge(extremes.reset_index(), on=by, how="left")
    resolution = (time.get_clock_info("perf_counter").resolution
                  if timer_resolution_s is None else float(timer_resolution_s))
    median = summary["median"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.maximum(median - summary["ci_low"].to_numpy(dtype=float),
                          summary["ci_high"].to_numpy(dtype=float) - median) / median
    n = summary["n"].to_numpy(dtype="int64")
    cv = summary["cv"].to_numpy(dtype=float)
    verdicts: list[str] = []
    needed: list[float] = []
    for i in range(len(summary)):
        if n[i] < 3 or not math.isfinite(half[i]):
            verdicts.append("too few")
            needed.append(math.nan)
            continue
        needed.append(float(max(n[i], math.ceil(n[i] * (half[i] / precision) ** 2))))
        if value.endswith("_s") and float(summary["min"].iloc[i]) < 1000 * resolution:
            verdicts.append("too short")
        elif half[i] > precision:
            verdicts.append("imprecise")
        elif math.isfinite(cv[i]) and cv[i] > cv_threshold:
            verdicts.append("ok, outliers")
        else:
            verdicts.append("ok")
    out = summary[by].copy()
    out["n"] = n
    out["median"] = median
    out["min"] = summary["min"].to_numpy(dtype=float)
    out["max"] = summary["max"].to_numpy(dtype=float)
    out["median_pm"] = half
    out["cv"] = cv
    out["needed"] = pd.Series(needed, dtype="float64").to_numpy()
    out["verdict"] = verdicts
    rank = out["verdict"].map({v: i for i, v in enumerate(STABILITY_VERDICTS)})
    order = np.lexsort((-np.nan_to_num(out["median_pm"].to_numpy(dtype=float), nan=np.inf),
                        rank.to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def _group_text(row: Mapping[str, Any]) -> str:
    parts = [str(row.get("scenario") or "")]
    system = str(row.get("system") or "")
    strategy = "" if is_missing(row.get("strategy")) else str(row.get("strategy") or "")
    parts.append(f"{system}/{strategy}" if strategy else system)
    parts.append(str(row.get("cache_state") or ""))
    return " ".join(p for p in parts if p)


def stability_verdict(overview: pd.DataFrame, *, precision: float = 0.05,
                      cv_threshold: float = 0.10) -> str:
    """One sentence over :func:`stability_overview`: how many groups can be trusted, the worst.

    Examples
    --------
    >>> import pandas as pd
    >>> ov = pd.DataFrame({"scenario": ["s", "s"], "system": ["legacy", "pipeline"],
    ...     "strategy": ["", "parallel"], "cache_state": ["cold", "cold"], "n": [10, 10],
    ...     "median_pm": [0.12, 0.02], "cv": [0.3, 0.04], "needed": [58.0, 10.0],
    ...     "verdict": ["imprecise", "ok"]})
    >>> print(stability_verdict(ov))  # doctest: +NORMALIZE_WHITESPACE
    1 of 2 groups have their median within ±5 % (95 % interval). The least precise, s legacy
    cold, is within ±12 %; about 58 iterations would bring it to ±5 %.
    """
    if len(overview) == 0:
        return "Nothing was measured."
    verdicts = overview["verdict"].astype(str)
    total = len(overview)
    ok = int(verdicts.str.startswith("ok").sum())
    pct = f"{precision:.0%}".replace("%", " %")
    if ok == total == 1:
        text = f"The group has its median within ±{pct} (95 % interval)."
    elif ok == total:
        text = f"All {total} groups have their median within ±{pct} (95 % interval)."
    else:
        text = f"{ok} of {total} groups have their median within ±{pct} (95 % interval)."
        worst = overview.iloc[0]
        label = _group_text({str(k): v for k, v in worst.items()})
        if worst["verdict"] == "imprecise":
            text += (f" The least precise, {label}, is within "
                     f"±{float(worst['median_pm']):.0%}".replace("%", " %")
                     + f"; about {int(worst['needed'])} iterations would bring it to ±{pct}.")
        elif worst["verdict"] == "too short":
            text += f" {label} runs too briefly to time reliably: measure a larger workload."
        else:
            text += f" {label} has fewer than 3 measured iterations."
    outliers = int((verdicts == "ok, outliers").sum())
    if outliers:
        text += (f" {outliers} precise group{'s' if outliers != 1 else ''} still "
                 f"var{'y' if outliers != 1 else 'ies'} by more "
                 f"than {cv_threshold:.0%}".replace("%", " %")
                 + " (std/mean) because of a few slow iterations: medians and paired ratios "
                 "are robust to those, means are not.")
    return text


def _sections(result: BenchmarkResult) -> dict[str, pd.DataFrame]:
    """The report's tables, computed once (statistics come from rrperf.bench.stats)."""
    return {
        "Metadata": result.metadata,
        "Summary": result.summary(),
        "Comparison": result.compare(),
        "Correctness": result.correctness,
        "Stability": result.stability(),
        "Warnings": result.warnings,
    }


def _for_people(
    result: BenchmarkResult, tables: dict[str, pd.DataFrame], value: str = "wall_s"
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The Markdown and HTML form of the tables (units, ratios, one row per kind of warning, one
    line per group for stability) and the sentence shown above a table, per heading.

    When the run was measured in instructions (``value``), the summary statistics are
    counts, not seconds.
    """
    if value == "instructions":
        stats_cols = ("mean", "median", "std", "ci_low", "ci_high")
        seconds = tuple(c for c in SECONDS_COLUMNS if c not in stats_cols)
        shown = {}
        for heading, frame in tables.items():
            counted = frame.copy()
            for col in (*stats_cols, "instructions"):
                if col in counted.columns:
                    counted[col] = [format_instructions(v) for v in frame[col].astype(object)]
            shown[heading] = format_table(counted, seconds=seconds)
    else:
        shown = {heading: format_table(frame) for heading, frame in tables.items()}
    shown["Warnings"] = warnings_overview(tables["Warnings"])
    notes: dict[str, str] = {}
    if len(result.data):
        overview = stability_overview(result.data)
        notes["Stability"] = stability_verdict(overview)
        shown["Stability"] = format_table(overview)
    return shown, notes


def gate_sections(
    *, same_run: Gate | None = None, stored: Gate | None = None, against: str = "",
    threshold: float = 0.05,
) -> list[Section]:
    """The regression sections of a report: ``Gate`` (the variants against the baseline of
    the same run) and ``Against stored AGAINST`` (this run against stored runs), each with its
    outcome and one line per finding.

    Parameters
    ----------
    same_run, stored : Gate or None
        What :func:`rrperf.bench.gate.same_run_gate` and :func:`rrperf.bench.gate.stored_gate`
        returned; a section is shown for each one given (``Gate`` only when it compared
        something).
    against : str
        The stored runs' name, shown in the heading.
    threshold : float
        The gates' threshold, shown with the outcome.
    """
    sections = []
    if same_run is not None and len(same_run.table):
        sections.append(Section(
            "Gate", note=f"Outcome: {same_run.outcome} (threshold {threshold:.1%})",
            items=same_run.messages, empty="every variant shown not slower",
        ))
    if stored is not None:
        note = "" if stored.table.empty else (
            f"Outcome: {stored.outcome} ({len(stored.table)} group(s) checked, "
            f"threshold {threshold:.1%})"
        )
        sections.append(Section(f"Against stored {against}", note=note, items=stored.messages,
                                empty="no group in common"))
    return sections


def _document(
    result: BenchmarkResult, tables: dict[str, pd.DataFrame], format: str,
    gates: list[Section],
) -> str:
    shown, notes = _for_people(result, tables, result.value)
    sections = [
        Section.of(heading, shown[heading], note=notes.get(heading, ""))
        for heading in REPORT_SECTIONS
    ]
    intro = (f"Baseline: {result.baseline}; "
             f"{len(result.data)} iterations in {len(result.run_ids)} run(s).")
    return render_document(_TITLE, [*sections, *gates], format, intro=[intro])


def _json(result: BenchmarkResult, tables: dict[str, pd.DataFrame]) -> str:
    payload = {
        "metadata": json_records(tables["Metadata"]),
        "rows": json_records(result.data),
        "summary": json_records(tables["Summary"]),
        "comparison": json_records(tables["Comparison"]),
        "correctness": json_records(tables["Correctness"]),
        "stability": json_records(tables["Stability"]),
        "warnings": json_records(tables["Warnings"]),
    }
    return json.dumps(payload, indent=2, allow_nan=False) + "\n"


def generate_report(
    result: BenchmarkResult,
    output_file: str | os.PathLike[str] | None = None,
    *,
    format: str = "markdown",
    same_run: Gate | None = None,
    stored: Gate | None = None,
    against: str = "",
    threshold: float = 0.05,
) -> str:
    """Render the comparative report of a benchmark result.

    Parameters
    ----------
    result : BenchmarkResult
        What :meth:`rrperf.bench.runner.BenchmarkRunner.run` returned
        (or :func:`rrperf.bench.results.read_result` read).
    output_file : path-like or None
        When given, the report is also written there (atomically, UTF-8).
    format : {"markdown", "json", "html"}
        Markdown and HTML have the headings of ``REPORT_SECTIONS``, times with units and
        one row per distinct warning; JSON is one object with the keys ``metadata, rows,
        summary, comparison, correctness, stability, warnings`` (raw values, NaN -> null;
        ``warnings`` holds the rows of :attr:`BenchmarkResult.warnings`).
    same_run, stored, against, threshold
        The regression gates, shown after the other sections in Markdown and HTML
        (:func:`gate_sections`; ``rrperf bench --format markdown`` shows them this way).

    Returns
    -------
    str
        The report text.

    Raises
    ------
    ConfigError
        If ``format`` is not one of ``REPORT_FORMATS``.
    ReportError
        If the report cannot be written to ``output_file``.
    """
    if format not in REPORT_FORMATS:
        raise ConfigError(
            f"report format must be one of {', '.join(REPORT_FORMATS)}, got {format!r}"
        )
    tables = _sections(result)
    if format == "json":
        text = _json(result, tables)
    else:
        text = _document(result, tables, format, gate_sections(
            same_run=same_run, stored=stored, against=against, threshold=threshold))
    if output_file is not None:
        path = Path(output_file)
        try:
            atomic.write_text(path, text)
        except OSError as err:
            raise ReportError(f"cannot write the report to {str(path)!r}: {err}") from err
        logger.info("wrote %s report to %s", format, path)
    return text

