"""The two report workflows: what ``benchmark_report.ipynb`` and ``strategy_analysis.ipynb``
compute and show.

**Writing a notebook.** Report notebooks call only rrperf functions (STYLE.md C13). The helpers
they use are here and in :mod:`rrperf.report.display`: :func:`run_benchmark_report` runs the
benchmark and computes every table of ``benchmark_report.ipynb`` (:func:`run_strategy_analysis`
those of ``strategy_analysis.ipynb``); ``show_*`` functions display one section each (a heading,
an escaped table shown as HTML in the HTML report and as a pipe table in the Markdown report,
and charts rendered to PNG), formatted by :func:`rrperf.bench.report.format_table`; the saved
results keep the raw numbers.

*Warnings in reports.* Instead of spilling onto the cell's stderr above the first table, every
warning raised while a workflow runs is recorded and shown in a "Warnings" section
(:func:`show_warnings`), one row per kind of warning with its count and places.

*One statistic, one unit.* Every time a report shows is a median (tables, charts, verdicts;
intervals are the median's), and charts draw durations in the unit the tables use for them
(:func:`rrperf.report.plots.time_unit`); every iteration is drawn beside its median
(:func:`rrperf.report.plots.distribution_chart`), and tables give min, max, CPU time and memory
beside the wall time. Markdown escapes only what Markdown would read as syntax, and paths are
shown relative to the report's folder.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf._util import usable_cpus
from rrperf.bench.report import format_table
from rrperf.errors import ConfigError
from rrperf.report.display import show_figure, show_heading, show_table, show_text

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from rrperf.bench.results import BenchmarkResult
    from rrperf.config import RrperfConfig

__all__ = [
    "RESULTS_STEM",
    "BenchmarkReport",
    "StrategyReport",
    "cache_state_notes",
    "headline_table",
    "project_config",
    "run_benchmark_report",
    "run_strategy_analysis",
    "show_cache",
    "show_comparison",
    "show_correctness",
    "show_files",
    "show_recommendation",
    "show_regressions",
    "show_run",
    "show_scaling",
    "show_speedup",
    "show_stability",
    "show_strategies",
    "show_summary",
    "show_warnings",
    "speedup_fits",
    "summary_table",
    "warning_table",
]

#: File stem of the results ``benchmark_report.ipynb`` writes (``.parquet``, ``.csv``).
RESULTS_STEM = "benchmark_results"
# History charts shown by the regression section: the groups that changed most.
_REGRESSION_CHARTS = 4


@dataclass(frozen=True)
class BenchmarkReport:
    """Everything ``benchmark_report.ipynb`` shows, computed once by :func:`run_benchmark_report`.

    Attributes
    ----------
    result : BenchmarkResult
        The measurements of this run.
    summary, comparison, correctness, stability : DataFrame
        :meth:`BenchmarkResult.summary`, ``compare(baseline)``, ``correctness`` and
        ``stability()``.
    baseline : str
        The system every variant is compared with.
    history_path : Path or None
        The history store the run was saved to, or None.
    previous_run_id : str or None
        The latest complete run stored before this one (the regression baseline).
    regressions : DataFrame
        :func:`rrperf.bench.regress.detect_regressions` of this run against that run (empty
        when there is none).
    history : DataFrame
        The stored measurements of the benchmarked scenarios, this run included.
    change_points : DataFrame
        :func:`rrperf.bench.regress.detect_change_points` over ``history``.
    warnings : DataFrame
        :func:`warning_table`: the warnings raised while the report was computed, one row
        per distinct warning (the benchmark's counts come from ``result.warnings``).
    files : tuple of Path
        The results written: Parquet, CSV and the CSV's metadata sidecar.
    """

    result: BenchmarkResult
    summary: pd.DataFrame
    comparison: pd.DataFrame
    correctness: pd.DataFrame
    stability: pd.DataFrame
    baseline: str
    history_path: Path | None
    previous_run_id: str | None
    regressions: pd.DataFrame
    history: pd.DataFrame
    change_points: pd.DataFrame
    warnings: pd.DataFrame
    files: tuple[Path, ...] = field(default=())


@contextlib.contextmanager
def _recorded_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning raised in the block (whatever the filters say), except
    StabilityWarnings: the reports show those as their Stability tables."""
    from rrperf.errors import StabilityWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", StabilityWarning)
        yield caught


def warning_table(
    results: Iterable[BenchmarkResult], caught: Iterable[warnings.WarningMessage] = ()
) -> pd.DataFrame:
    """The warnings of one or more benchmark results and of a recording, one row per warning.

    A benchmark re-emits each distinct warning of its iterations once; those re-emitted
    warnings are already counted in the result's :attr:`~BenchmarkResult.warnings`, so a
    recorded warning whose category and message a result holds is not counted again.

    Parameters
    ----------
    results : iterable of BenchmarkResult
        Their :attr:`~BenchmarkResult.warnings` tables.
    caught : iterable of warnings.WarningMessage
        Warnings recorded around the benchmark (``warnings.catch_warnings(record=True)``).

    Returns
    -------
    DataFrame
        ``category, message, count, places, scenarios, variants`` (see
        :func:`rrperf.bench.report.warnings_overview`: warnings that differ only in the place
        they name are one row); recorded warnings that no result holds come last, with empty
        ``scenarios`` and ``variants``.
    """
    import pandas as pd

    from rrperf.bench.report import warnings_overview
    from rrperf.bench.results import WARNING_COLUMNS, empty_warnings

    frames = [r.warnings for r in results]
    known = {
        (str(c), str(m))
        for f in frames for c, m in f[["category", "message"]].itertuples(index=False, name=None)
    }
    extra: dict[tuple[str, str], int] = {}
    for w in caught:
        key = (w.category.__name__, str(w.message))
        if key not in known:
            extra[key] = extra.get(key, 0) + 1
    others = pd.DataFrame({
        "scenario": [None] * len(extra), "system": [None] * len(extra),
        "strategy": [None] * len(extra),
        "category": [k[0] for k in extra], "message": [k[1] for k in extra],
        "count": pd.Series(list(extra.values()), dtype="int64"),
        "first_iteration": pd.Series([0] * len(extra), dtype="int64"),
    })
    parts = [f[list(WARNING_COLUMNS)] for f in frames if len(f)]
    if len(others):
        parts.append(others[list(WARNING_COLUMNS)])
    tidy = pd.concat(parts, ignore_index=True) if parts else empty_warnings()
    return warnings_overview(tidy[list(WARNING_COLUMNS)])


def _names(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(v, str) and v for v in items):
        raise ConfigError(f"{what}: expected names (non-empty strings), got {list(items)!r}")
    return items


def project_config(config_file: str | os.PathLike[str] | None) -> RrperfConfig:
    """The project configuration of a report run: ``config_file`` (with the ``RRPERF_*``
    environment variables over it), or the defaults and the environment when it is empty or
    None. No file is searched for: ``rrperf report`` passes the one it found.

    Raises
    ------
    ConfigError
        When the file is missing or malformed (naming the file and line) or a key is bad.
    """
    from rrperf.config import load_config

    return load_config(os.fspath(config_file) if config_file else None, search=False)


def _strategies(asked: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``[]``/None mean every strategy this installation offers (None when it offers none)."""
    from rrperf.bench.systems import available_strategies

    if asked is None:
        names: tuple[str, ...] = ()
    else:
        names = _names(asked, "strategies")
    if names:
        return names
    offered = available_strategies()
    return offered or None


def run_benchmark_report(
    *,
    scenarios: str | Iterable[str],
    systems: str | Iterable[str] = ("legacy", "pipeline"),
    strategies: str | Iterable[str] | None = None,
    iterations: int = 5,
    warmup: int = 1,
    cache_states: str | Iterable[str] = ("cold", "warm"),
    baseline: str = "legacy",
    history_path: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] = "reports",
    seed: int | None = 0,
    name: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> BenchmarkReport:
    """Run the comparative benchmark and compute every table of the benchmark report.

    The run is measured by :class:`~rrperf.bench.runner.BenchmarkRunner` (no progress bar),
    saved to ``output_dir`` as ``benchmark_results.parquet`` and ``benchmark_results.csv``
    (with its ``.meta.json`` sidecar) and, when ``history_path`` is given, stored in that
    history and compared with the latest complete run stored before it.

    No warning leaves this function: :class:`~rrperf.errors.StabilityWarning` is a row of
    :attr:`BenchmarkReport.stability`, and every other warning raised meanwhile (the
    benchmark's, counted per iteration in ``result.warnings``, and any other) is a row of
    :attr:`BenchmarkReport.warnings`; the report shows both tables.

    Parameters
    ----------
    scenarios, systems, cache_states : str or iterable of str
        As for :meth:`BenchmarkRunner.run`.
    strategies : str, iterable of str or None
        Strategies of the ``pipeline`` system; empty or None means every strategy this
        installation offers.
    iterations, warmup, seed : int
        As for :class:`BenchmarkRunner`.
    baseline : str
        System (or ``system/strategy``) the others are compared with.
    history_path : path-like or None
        A :class:`~rrperf.bench.history.HistoryStore` file; ``""`` or None for none.
    output_dir : path-like
        Where the results files go.
    name : str or None
        Name of the run in the history and the metadata.
    config_file : path-like or None
        The project's ``rrperf.toml`` the benchmark runs with (:func:`project_config`);
        ``""`` or None: the defaults.

    Returns
    -------
    BenchmarkReport

    Raises
    ------
    BenchmarkError, ConfigError
        On an unknown scenario, system, strategy or cache state (before anything runs).
    HistoryError
        When the history store cannot be used.
    """
    from rrperf.bench.history import HistoryStore
    from rrperf.bench.regress import detect_change_points, detect_regressions
    from rrperf.bench.runner import BenchmarkRunner

    project = project_config(config_file)
    scen = _names(scenarios, "scenarios")
    chosen_strategies = _strategies(strategies)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    store = HistoryStore(history_path) if history_path else None
    with _recorded_warnings() as caught:
        try:
            previous: str | None = None
            if store is not None:
                runs = store.list_runs()
                done = runs[runs["status"] == "complete"]
                previous = str(done["run_id"].iloc[-1]) if len(done) else None
            runner = BenchmarkRunner(
                iterations=iterations, warmup=warmup, progress=False, seed=seed,
                history=store, name=name, config=project,
            )
            result = runner.run(
                scen, systems=systems, strategies=chosen_strategies, cache_states=cache_states
            )
            files = (
                result.to_parquet(out / f"{RESULTS_STEM}.parquet"),
                result.to_csv(out / f"{RESULTS_STEM}.csv"),
                out / f"{RESULTS_STEM}.meta.json",
            )
            import pandas as pd

            regressions = pd.DataFrame()
            history = result.data.iloc[0:0]
            change_points = pd.DataFrame()
            if store is not None:
                if previous is not None:
                    regressions = detect_regressions(result.data, store.load_run(previous).data)
                history = store.load_history(scenario=list(scen))
                change_points = detect_change_points(history)
        finally:
            if store is not None:
                store.close()
        summary = result.summary()
        comparison = result.compare(baseline)
        correctness = result.correctness
        stability = result.stability()
    return BenchmarkReport(
        result=result,
        summary=summary,
        comparison=comparison,
        correctness=correctness,
        stability=stability,
        baseline=baseline,
        history_path=Path(history_path) if history_path else None,
        previous_run_id=previous,
        regressions=regressions,
        history=history,
        change_points=change_points,
        warnings=warning_table([result], caught),
        files=files,
    )


def _with_variant(frame: pd.DataFrame) -> pd.DataFrame:
    from rrperf.report.plots import variant_label

    out = frame.copy()
    pos = list(out.columns).index("system")
    variant = variant_label(out)
    out = out.drop(columns=[c for c in ("system", "strategy") if c in out.columns])
    out.insert(pos, "variant", variant.to_numpy())
    return out


def _figure(rows: int, *, width: float = 8.0) -> Axes:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(width, min(2.0 + 0.32 * rows, 30.0)))
    return ax


def _filesystem_of(path: str | os.PathLike[str]) -> str | None:
    """The file system type (``ext4``, ``tmpfs``...) of the mount holding ``path``, if known."""
    import psutil

    target = os.path.realpath(path)
    best: tuple[int, str] | None = None
    try:
        partitions = psutil.disk_partitions(all=True)
    except (OSError, RuntimeError):
        return None
    for part in partitions:
        mount = part.mountpoint.rstrip("/") or "/"
        inside = target == mount or target.startswith(mount + "/") or mount == "/"
        if inside and (best is None or len(mount) > best[0]):
            best = (len(mount), part.fstype)
    return best[1] if best else None


def cache_state_notes(result: BenchmarkResult) -> list[str]:
    """What ``cold`` and ``warm`` mean for each system of ``result``, one paragraph each, and
    why legacy's warm iterations can be the slower ones (with the ratio measured here).

    Parameters
    ----------
    result : BenchmarkResult

    Returns
    -------
    list of str
        Plain-text paragraphs (empty when only one cache state was measured).
    """
    import tempfile as _tempfile

    from rrperf.bench.stats import summarize

    data = result.data
    measured = data[~data["warmup"]]
    states = set(measured["cache_state"].astype(str))
    if not {"cold", "warm"} <= states:
        return []
    systems = list(dict.fromkeys(measured["system"].astype(str)))
    notes = []
    if "legacy" in systems:
        notes.append(
            "legacy has no cache. Cold: its output folder is emptied before each iteration "
            "(before the clock starts), so every file is created new. Warm: the folder still "
            "holds the previous iteration's files, and legacy rewrites every one of them "
            "(each write is a temporary file renamed over the old one)."
        )
    if "pipeline" in systems:
        notes.append(
            "pipeline: cold empties the output folder and clears the strategy's memory and "
            "disk caches before each iteration. Warm keeps both from the previous iteration: "
            "stages whose inputs are unchanged are read from the cache (except with minimal, "
            "which has none) and only files whose content changed are written (none, for an "
            "unchanged schema)."
        )
    legacy = measured[measured["system"].astype(str) == "legacy"]
    if len(legacy):
        med = summarize(legacy, by=["scenario", "cache_state"])
        wide = med.pivot_table(index="scenario", columns="cache_state", values="median",
                               observed=True)
        if {"cold", "warm"} <= set(wide.columns):
            ratio = (wide["warm"] / wide["cold"]).dropna()
            if len(ratio) and float(ratio.max()) > 1.1:
                span = (f"{ratio.min():.1f}x to {ratio.max():.1f}x" if len(ratio) > 1
                        else f"{ratio.iloc[0]:.1f}x")
                fs = _filesystem_of(_tempfile.gettempdir())
                text = (
                    f"Here legacy's warm median is {span} its cold median, although it does "
                    "the same work: a warm iteration replaces existing files. "
                )
                if fs in ("ext4", "ext3"):
                    text += (
                        f"The output is on {fs}, which (with its default auto_da_alloc "
                        "option) allocates and starts writing a file's data as soon as it is "
                        "renamed over an existing file, and frees the old file's blocks, all "
                        "inside the timed rename; a cold iteration's new files are written "
                        "later in the background, and the old output was deleted before the "
                        "clock started. On tmpfs both take the same time."
                    )
                else:
                    text += (
                        f"Replacing a file costs the file system ({fs or 'unknown'}) more than "
                        "creating one in an empty folder, and a cold iteration's deletions "
                        "happen before the clock starts."
                    )
                notes.append(text)
    return notes


def show_run(report: BenchmarkReport) -> None:
    """Section "Run": what was measured, on which machine, and what cold and warm mean."""
    import pandas as pd

    show_heading("Run")
    data = report.result.data
    measured = data[~data["warmup"]]
    show_text(
        f"{len(measured)} measured iterations ({int(data['warmup'].sum())} warm-up) of "
        f"{data['scenario'].nunique()} scenario(s), baseline {report.baseline}. Every time "
        "is the median of the iterations of a group, in the unit its size calls for; every "
        "ratio is a ratio of medians."
    )
    meta = report.result.metadata
    cols = [c for c in ("run_id", "rrperf_version", "git_revision", "python_version",
                        "platform", "cpu_model", "cpu_count", "memory_total_mb") if c in meta]
    show_table(pd.DataFrame(meta[cols]), empty="no run metadata")
    notes = cache_state_notes(report.result)
    if notes:
        show_heading("Cold and warm", 3)
        for note in notes:
            show_text(note)


def summary_table(data: pd.DataFrame) -> pd.DataFrame:
    """Per group, the wall time's median with its interval, min and max, and the CPU time and
    memory beside it, as pyperf and hyperfine print them.

    Parameters
    ----------
    data : DataFrame
        A measurement table (warm-ups and failed iterations are left out).

    Returns
    -------
    DataFrame
        The group columns, then ``n, median, ci_low, ci_high`` (95 % percentile-bootstrap
        interval of the median), ``min, max``, ``cpu_s`` (median CPU time, the process and its
        children) and ``mem_mb`` (median peak memory above the iteration's start, MiB); raw
        numbers in seconds.
    """
    from rrperf.bench.stats import group_columns, measured_rows, summarize

    by = group_columns(data, None)
    summary = summarize(data, by=by, center="median", n_resamples=2000)
    rows = measured_rows(data, "wall_s")
    extra = rows.groupby(by, sort=False, observed=True, dropna=False).agg(
        min=("wall_s", "min"), max=("wall_s", "max"), cpu_s=("cpu_s", "median"),
        mem_mb=("peak_rss_mb", "median"),
    ).reset_index()
    out = summary[[*by, "n", "median", "ci_low", "ci_high"]].merge(extra, on=by, how="left")
    return out


def _megabytes(frame: pd.DataFrame) -> pd.DataFrame:
    """``*_mb`` columns as text with two decimals (a table for people)."""
    out = frame.copy()
    for col in out.columns:
        if str(col).endswith("_mb"):
            out[col] = ["" if v != v else f"{float(v):.2f}" for v in frame[col]]
    return out


def _summary_caption() -> str:
    return ("wall time: median of the measured iterations with its 95 % interval (bootstrap), "
            "min and max; cpu_s: median CPU time (process and children); mem_mb: median peak "
            "memory above the iteration's start, in MiB")


def show_summary(report: BenchmarkReport) -> None:
    """Section "Summary": per group the median with its interval, min, max, CPU time and
    memory, and per cache state a chart of every iteration with the medians."""
    from rrperf.report.plots import distribution_chart

    show_heading("Summary")
    data = report.result.data
    show_table(_megabytes(format_table(_with_variant(summary_table(data)))),
               caption=_summary_caption())
    measured = data[~data["warmup"]]
    for state in dict.fromkeys(measured["cache_state"].astype(str)):
        part = measured[measured["cache_state"].astype(str) == state]
        if part["wall_s"].notna().sum() == 0:
            continue
        n_variants = int(part[["system", "strategy"]].drop_duplicates().shape[0])
        ax = distribution_chart(part, ax=_figure(4, width=8.0 + 0.25 * n_variants))
        ax.set_title(f"wall time, {state} cache: every iteration, median with its 95 % interval")
        show_figure(ax)


def show_comparison(report: BenchmarkReport) -> None:
    """Section "Comparison": each variant against the baseline, with a forest plot."""
    from rrperf.report.plots import comparison_chart

    show_heading("Comparison")
    comp = report.comparison
    show_text(f"Ratio of medians variant / {report.baseline} (below 1 is faster).")
    cols = ["scenario", "system", "strategy", "cache_state", "ratio", "ratio_ci_low",
            "ratio_ci_high", "p_value", "verdict"]
    show_table(
        format_table(_with_variant(comp[[c for c in cols if c in comp.columns]]))
        if len(comp) else comp,
        empty="no comparison: a single variant was measured",
    )
    if len(comp) and comp["ratio"].notna().any():
        show_figure(comparison_chart(comp, ax=_figure(len(comp))))


def show_correctness(report: BenchmarkReport) -> None:
    """Section "Correctness": did every variant write the baseline's files?"""
    show_heading("Correctness")
    corr = report.correctness
    cols = ["scenario", "system", "strategy", "baseline", "matches_baseline", "note"]
    show_table(_with_variant(corr[cols]) if len(corr) else corr,
               empty="no variant besides the baseline")


def _shown_path(path: Path, report: BenchmarkReport) -> str:
    """A path as a report shows it: relative to the report's folder when it is absolute (a
    report names no folder of the machine it was made on)."""
    if not path.is_absolute() or not report.files:
        return str(path)
    return os.path.relpath(path, report.files[0].parent)


def _worst_first(reg: pd.DataFrame) -> pd.DataFrame:
    """Regressions first, then improvements, then the rest; within each, the largest change
    (``|log ratio|``) first."""
    import numpy as np

    change = np.abs(np.log(reg["ratio"].to_numpy(dtype=float)))
    flagged = [
        0 if bool(r) else (1 if bool(i) else 2)
        for r, i in zip(reg.get("regression", [False] * len(reg)),
                        reg.get("improvement", [False] * len(reg)), strict=True)
    ]
    order = np.lexsort((-np.nan_to_num(change, nan=-1.0), np.asarray(flagged)))
    return reg.iloc[order]


def show_regressions(report: BenchmarkReport) -> None:
    """Section "Regressions": this run against the previous one in the history, with the
    history chart of the group that changed most."""

    from rrperf.report.plots import regression_chart, time_unit

    show_heading("Regressions")
    if report.history_path is None:
        show_text("No history store was given (history_path), so there is nothing to compare.")
        return
    if report.previous_run_id is None:
        show_text(
            f"First run in the history {_shown_path(report.history_path, report)}: the next run "
            "will be compared "
            "with this one."
        )
    else:
        show_text(f"Compared with run {report.previous_run_id} from "
                  f"{_shown_path(report.history_path, report)}.")
        reg = report.regressions
        if len(reg) and reg["ratio"].notna().any():
            reg = _worst_first(reg)
        cols = ["scenario", "system", "strategy", "cache_state", "ratio", "ratio_ci_low",
                "ratio_ci_high", "p_adjusted", "regression", "improvement"]
        show_table(
            format_table(_with_variant(reg[[c for c in cols if c in reg.columns]]))
            if len(reg) else reg,
            empty="no group was measured in both runs",
        )
    show_table(report.change_points, caption="change points over the history",
               empty="no change point in the history")
    history = report.history
    if len(history) == 0:
        return
    runs = history["run_id"].nunique()
    if runs < 2:
        show_text("The history holds one run: its chart appears from the second run on.")
        return
    keys = ["scenario", "system", "strategy", "cache_state"]
    reg = report.regressions
    groups: list[tuple[Any, ...]] = []
    if len(reg) and reg["ratio"].notna().any():
        ranked = _worst_first(reg)
        groups = [tuple(r) for r in ranked[keys].head(_REGRESSION_CHARTS).itertuples(
            index=False, name=None)]
        show_text(
            f"History of the {len(groups)} group(s) that changed most since the previous run, "
            "largest change first (the table above lists every group)."
        )
    else:
        groups = [tuple(history[keys].iloc[-1])]
    factor, unit = time_unit(history["wall_s"])
    scaled = history.assign(**{f"wall_{unit}": history["wall_s"] * factor})
    for group in groups:
        ax = regression_chart(scaled, value=f"wall_{unit}", group=group,
                              change_points=report.change_points
                              if len(report.change_points) else None, ax=_figure(4, width=9.0))
        show_figure(ax)


def show_stability(report: BenchmarkReport) -> None:
    """Section "Stability": one sentence, then one line per group, worst first: is the median
    measured precisely enough to be trusted (:func:`rrperf.bench.report.stability_overview`)?"""
    from rrperf.bench.report import stability_overview, stability_verdict

    show_heading("Stability")
    overview = stability_overview(report.result.data)
    show_text(stability_verdict(overview))
    checks = report.stability
    if len(checks):
        failing = checks[["scenario", "system", "strategy", "cache_state"]].drop_duplicates()
        show_text(
            f"The mean-based checks (pyperf's: cv above 10 %, too few iterations for the mean "
            f"to ±5 %) fail for {len(failing)} group(s); they are in the results "
            "(BenchmarkResult.stability()). This report quotes medians."
        )
    comp = report.comparison
    if len(comp) and "verdict" in comp.columns:
        decided = int(comp["verdict"].isin(["faster", "slower", "equivalent"]).sum())
        show_text(
            f"{decided} of {len(comp)} comparisons with {report.baseline} are decided "
            "(faster, slower or equivalent); the paired ratios cancel much of the machine's "
            "drift that widens each group's own interval."
        )
    show_table(
        format_table(_with_variant(overview)),
        caption="median_pm: half-width of the median's 95 % interval relative to the median; "
        "needed: iterations that would bring it to 5 %",
    )


def show_warnings(report: BenchmarkReport | StrategyReport) -> None:
    """Section "Warnings": the warnings raised while the report's measurements ran, one row per
    distinct warning, with how often it was raised and where.

    Like pytest's warnings summary, the section is left out when nothing warned.
    """
    if len(report.warnings) == 0:
        return
    show_heading("Warnings")
    show_table(report.warnings,
               caption="raised while measuring; count includes warm-up iterations")


def show_files(report: BenchmarkReport | StrategyReport) -> None:
    """Section "Results files": the measurements saved beside this report (names only: the
    folder is the report's own)."""
    import pandas as pd

    show_heading("Results files")
    show_text("Saved in the folder of this report:")
    kinds = {".parquet": "measurements (Parquet)", ".csv": "measurements (CSV)",
             ".json": "run metadata of the CSV"}
    show_table(pd.DataFrame({
        "file": [p.name for p in report.files],
        "content": [kinds.get(p.suffix, "") for p in report.files],
    }))


def headline_table(result: BenchmarkResult, *, baseline: str | None = None) -> pd.DataFrame:
    """One row per scenario, cache state and variant: median time, ratio to the baseline and
    verdict.

    The verdict is the comparison's (``faster``, ``slower``, ``equivalent``,
    ``inconclusive``), ``baseline`` for the baseline's own rows (ratio 1), ``failed`` for a
    variant none of whose measured iterations succeeded, and ``wrong output`` for a variant
    whose files differ from the baseline's (:attr:`BenchmarkResult.correctness`).

    Parameters
    ----------
    result : BenchmarkResult
    baseline : str or None
        The reference system; ``result.baseline`` when None.

    Returns
    -------
    DataFrame
        ``scenario, cache_state, variant, median_s, ratio, verdict``, one row per group of the
        measured (non-warm-up) rows, sorted by scenario, system, strategy and cache state.
    """
    import pandas as pd

    from rrperf.report.plots import variant_label

    base = result.baseline if baseline is None else baseline
    keys = ["scenario", "system", "strategy", "cache_state"]
    data = result.data
    groups = (
        data.loc[~data["warmup"], keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    )
    summary = result.summary()
    comp = result.compare(base)
    merged = groups.merge(summary[[*keys, "median"]], on=keys, how="left")
    if len(comp):
        merged = merged.merge(comp[[*keys, "ratio", "verdict"]], on=keys, how="left")
    else:
        merged["ratio"] = math.nan
        merged["verdict"] = None
    corr = result.correctness
    wrong = {
        tuple(r)
        for r in corr.loc[corr["matches_baseline"].eq(False).fillna(False).astype(bool),
                          ["scenario", "system", "strategy"]].itertuples(index=False, name=None)
    }
    verdicts = []
    ratios = []
    records: list[Any] = list(merged.astype(object).itertuples(index=False))
    for row in records:
        ratio = float(row.ratio) if not pd.isna(row.ratio) else math.nan
        if pd.isna(row.median):
            verdict, ratio = "failed", math.nan
        elif str(row.system) == base:
            verdict, ratio = "baseline", 1.0
        elif (row.scenario, row.system, row.strategy) in wrong:
            verdict, ratio = "wrong output", math.nan
        else:
            verdict = "" if pd.isna(row.verdict) else str(row.verdict)
        verdicts.append(verdict)
        ratios.append(ratio)
    return pd.DataFrame({
        "scenario": merged["scenario"].astype(str),
        "cache_state": merged["cache_state"].astype(str),
        "variant": variant_label(merged).to_numpy(),
        "median_s": merged["median"].astype(float),
        "ratio": pd.Series(ratios, dtype="float64"),
        "verdict": pd.Series(verdicts, dtype=object),
    })


# --- The strategy analysis ------------------------------------------------------------------


@dataclass(frozen=True)
class StrategyReport:
    """Everything ``strategy_analysis.ipynb`` shows, computed by :func:`run_strategy_analysis`.

    Attributes
    ----------
    analysis : AnalysisResult
        :meth:`PerformanceOptimizer.run_comprehensive_analysis` of the scenario: the
        recommendation per cache state, its rationale and the benchmark of the strategies.
    summary : DataFrame
        Summary of that benchmark.
    comparison : DataFrame
        That benchmark compared with ``pipeline/sequential`` (empty when it was not measured).
    execution_methods : DataFrame
        :func:`rrperf.bench.speedup.compare_strategies` of the scenario: cold runs of the
        ``sequential`` and ``parallel`` strategies (pool started), the path every strategy
        runs, one row per measured run (``method`` is the strategy).
    cache_strategy : str or None
        The strategy whose cache statistics are in ``cache_report`` (None when no strategy
        has a cache).
    cache_report : DataFrame
        :meth:`CacheOptimizer.cache_efficiency_report` after a cold and a warm run of that
        strategy.
    scaling : DataFrame
        Measurements over the synthetic sizes, with a ``variant`` column.
    warnings : DataFrame
        :func:`warning_table` of the warnings raised while measuring, one row per distinct
        warning.
    files : tuple of Path
        Results written: ``strategy_results`` and ``scaling_results`` as Parquet and CSV.
    """

    analysis: Any
    summary: pd.DataFrame
    comparison: pd.DataFrame
    execution_methods: pd.DataFrame
    cache_strategy: str | None
    cache_report: pd.DataFrame
    scaling: pd.DataFrame
    warnings: pd.DataFrame
    files: tuple[Path, ...] = field(default=())


def _sizes(sizes: Iterable[int]) -> tuple[int, ...]:
    items = tuple(sizes)
    if not items or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in items
    ):
        raise ConfigError(f"sizes: expected positive table counts, got {list(items)!r}")
    return items


def _cache_report(optimizer: Any, scenario: str, order: Iterable[str]) -> tuple[Any, Any]:
    """Run the first strategy of ``order`` that has a cache twice (cold, then warm) and return
    its name and cache report; (None, empty frame) when none has one."""
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="rrperf-cache-run-") as tmp:
        for name in dict.fromkeys(order):
            if name not in optimizer.strategies:
                continue
            optimizer.optimize_generation(scenario, name, out_dir=Path(tmp) / name)
            cache = optimizer.cache_optimizer
            if cache is None:
                continue
            optimizer.optimize_generation(scenario, name, out_dir=Path(tmp) / name)
            return name, cache.cache_efficiency_report()
    return None, pd.DataFrame()


def run_strategy_analysis(
    *,
    scenario: str,
    include_all_strategies: bool = True,
    cache_states: str | Iterable[str] = ("cold", "warm"),
    iterations: int = 5,
    warmup: int = 1,
    sizes: Iterable[int] = (50, 200),
    scaling_iterations: int = 3,
    workers: int | None = None,
    output_dir: str | os.PathLike[str] = "reports",
    seed: int = 0,
    config_file: str | os.PathLike[str] | None = None,
) -> StrategyReport:
    """Analyse the pipeline strategies on a scenario, as ``strategy_analysis.ipynb`` shows it.

    Four measurements, all on this machine:

    1. :meth:`~rrperf.optimize.optimizer.PerformanceOptimizer.run_comprehensive_analysis`:
       the optimizer's recommendation per cache state, checked against a benchmark of the
       strategies (all of them with ``include_all_strategies``);
    2. cold runs of the scenario with the ``sequential`` and ``parallel`` strategies (the
       latter with ``workers`` workers, its pool started before measuring), interleaved
       (:func:`rrperf.bench.speedup.compare_strategies`), for the parallel speedup;
    3. the cache of the recommended strategy (or the first strategy with a cache) after a cold
       and a warm run, for the hit rates;
    4. legacy and the recommended strategy on synthetic schemas of ``sizes`` tables (cold),
       for the scaling exponent.

    The benchmarks are saved to ``output_dir`` as ``strategy_results`` and
    ``scaling_results`` (Parquet and CSV). No warning leaves this function: stability
    warnings are left out (the tables show the intervals), every other warning raised while
    measuring is a row of :attr:`StrategyReport.warnings`.

    Parameters
    ----------
    scenario : str
        A benchmark scenario (see :mod:`rrperf.bench.scenarios`).
    include_all_strategies : bool
        Benchmark every strategy, not only the optimizer's three best predictions.
    cache_states : str or iterable of str
    iterations, warmup, seed : int
        Of the strategy benchmark.
    sizes : iterable of int
        Table counts of the synthetic schemas.
    scaling_iterations : int
        Measured iterations per size.
    workers : int or None
        Workers of the ``parallel`` strategy in the speedup measurement; the CPU count (at
        least 2) when None.
    output_dir : path-like
    config_file : path-like or None
        The project's ``rrperf.toml`` the optimizer and the scaling benchmark run with
        (:func:`project_config`); ``""`` or None: the defaults.

    Returns
    -------
    StrategyReport

    Raises
    ------
    ConfigError, BenchmarkError
        On a bad option or an unknown scenario.
    """
    from rrperf.bench.runner import BenchmarkRunner
    from rrperf.bench.speedup import compare_strategies
    from rrperf.optimize.optimizer import PerformanceOptimizer
    from rrperf.report.plots import variant_label
    from rrperf.schema.sources import load_schema

    project = project_config(config_file)
    size_list = _sizes(sizes)
    if workers is None:
        workers = max(2, usable_cpus())
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _recorded_warnings() as caught:
        with PerformanceOptimizer({"enable_monitoring": False}, project=project) as optimizer:
            analysis = optimizer.run_comprehensive_analysis(
                include_all_strategies, scenario=scenario, cache_states=cache_states,
                iterations=iterations, warmup=warmup, seed=seed,
            )
            recommended = analysis.recommendation.strategy
            cache_strategy, cache_report = _cache_report(
                optimizer, scenario, [recommended, "cache_heavy", *optimizer.strategies]
            )
        from rrperf.bench.scenarios import resolve_scenario

        schema = load_schema(resolve_scenario(scenario).source)
        methods = compare_strategies(
            schema, strategies=("sequential", "parallel"), workers=workers,
            repeats=max(3, iterations),
        )
        # Synthetic schemas have inet columns, which the TypeScript mapping types as unknown;
        # the runner counts that SchemaWarning per iteration in scaling_result.warnings.
        scaling_result = BenchmarkRunner(
            iterations=scaling_iterations, warmup=1, progress=False, seed=seed, config=project,
        ).run(
            [f"synthetic:{n}" for n in size_list], systems=("legacy", "pipeline"),
            strategies=[recommended], cache_states=("cold",),
        )
    bench = analysis.benchmark
    variants = set(variant_label(bench.data))
    import pandas as pd

    comparison = (
        bench.compare("pipeline/sequential") if "pipeline/sequential" in variants
        else pd.DataFrame()
    )
    files = (
        bench.to_parquet(out / "strategy_results.parquet"),
        bench.to_csv(out / "strategy_results.csv"),
        scaling_result.to_parquet(out / "scaling_results.parquet"),
        scaling_result.to_csv(out / "scaling_results.csv"),
    )
    scaling = scaling_result.data
    scaling["variant"] = variant_label(scaling).to_numpy()
    return StrategyReport(
        analysis=analysis,
        summary=bench.summary(),
        comparison=comparison,
        execution_methods=methods,
        cache_strategy=cache_strategy,
        cache_report=cache_report,
        scaling=scaling,
        warnings=warning_table([bench, scaling_result], caught),
        files=files,
    )


def show_recommendation(report: StrategyReport) -> None:
    """Section "Recommendation": the strategy per cache state, why, and how it measured."""
    show_heading("Recommendation")
    analysis = report.analysis
    for state, rec in analysis.recommendations.items():
        show_text(f"{state} cache: {rec.strategy}. {rec.rationale}")
    from rrperf.bench.report import SECONDS_COLUMNS

    seconds = (*SECONDS_COLUMNS, "predicted_s", "recommended_median_s", "best_median_s")
    show_table(format_table(analysis.to_frame(), seconds=seconds),
               caption="recommendation against the measured best (medians)")
    show_table(format_table(analysis.recommendation.to_frame(), seconds=seconds),
               caption="predicted time per strategy (first cache state)")


def show_strategies(report: StrategyReport) -> None:
    """Section "Strategies measured": median, interval, min, max, CPU time and memory of every
    benchmarked strategy, and a chart of every iteration."""
    from rrperf.report.plots import distribution_chart

    show_heading("Strategies measured")
    data = report.analysis.benchmark.data
    show_table(_megabytes(format_table(_with_variant(summary_table(data)))),
               caption=_summary_caption())
    measured = data[~data["warmup"]]
    if measured["wall_s"].notna().any():
        ax = distribution_chart(measured, x="cache_state", ax=_figure(4, width=9.0))
        ax.set_title("wall time per strategy: every iteration, median with its 95 % interval")
        show_figure(ax)
    if len(report.comparison):
        comp = report.comparison
        cols = ["scenario", "system", "strategy", "cache_state", "ratio", "ratio_ci_low",
                "ratio_ci_high", "verdict"]
        show_table(format_table(_with_variant(comp[[c for c in cols if c in comp.columns]])),
                   caption="each strategy against pipeline/sequential (ratio of medians)")


def speedup_fits(methods: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """Amdahl's law fitted to each execution method's speedups, where the data can support it.

    Amdahl's law ``speedup = 1 / (f + (1 - f) / workers)`` has no overhead term: a method
    slower than the sequential run (mean speedup of its runs <= 1 at every worker count) or
    faster than linear (>= workers) lies outside it, and its serial fraction would come out
    below 0 or above 1. Those methods get no fit and a sentence saying why; the others a
    bounded least-squares fit over their runs (:func:`rrperf.bench.stats.fit_amdahl`, ``f`` in
    [0, 1]) with an interval when there are two runs or more.

    Parameters
    ----------
    methods : DataFrame
        As :mod:`rrperf.bench.speedup` returns it (``method, workers, speedup`` at least).

    Returns
    -------
    (table, fits, sentences)
        ``table``: ``method, workers, wall_s, speedup, efficiency, serial_fraction, ci_low,
        ci_high`` (``serial_fraction`` NaN where there is no fit); ``fits``: method -> AmdahlFit
        for the fitted ones; ``sentences``: one plain sentence per method that has more than one
        worker.
    """
    import pandas as pd

    from rrperf.bench.stats import fit_amdahl

    fits: dict[str, Any] = {}
    sentences: list[str] = []
    rows = []
    for name, part in methods.groupby("method", sort=False):
        part = part.loc[part["workers"].notna() & part["speedup"].notna()]
        multi = part.loc[part["workers"].astype(float) > 1]
        fraction = low = high = math.nan
        if len(multi):
            workers = multi["workers"].to_numpy(dtype=float)
            speedup = multi["speedup"].to_numpy(dtype=float)
            counts = ", ".join(str(int(w)) for w in dict.fromkeys(workers))
            # judged on the mean of the runs at each worker count, as the fit weighs them
            mean = multi.groupby("workers")["speedup"].mean()
            if (mean <= 1).all():
                sentences.append(
                    f"{name}: slower than sequential (speedup {float(mean.max()):.2f}x with "
                    f"{counts} workers): its overhead (starting or feeding workers) outweighs "
                    "the parallel gain, which Amdahl's law does not model, so no serial fraction "
                    "is fitted."
                )
            elif (mean >= mean.index.to_numpy(dtype=float)).all():
                sentences.append(
                    f"{name}: speedup {float(mean.max()):.2f}x with {counts} workers is "
                    "linear or better (caches, noise), outside Amdahl's law: no serial "
                    "fraction is fitted."
                )
            else:
                from scipy.optimize import OptimizeWarning

                with warnings.catch_warnings():
                    # One point has no covariance: the fit then has no interval (NaN), which
                    # the sentence below says in words.
                    warnings.simplefilter("ignore", OptimizeWarning)
                    fit = fit_amdahl(workers, speedup)
                fits[str(name)] = fit
                fraction, low, high = fit.serial_fraction, fit.ci_low, fit.ci_high
                if math.isfinite(low) and math.isfinite(high):
                    sentences.append(
                        f"{name}: serial fraction {fraction:.2f} (95 % interval {low:.2f} to "
                        f"{high:.2f}), so at most {fit.max_speedup:.1f}x with any number of "
                        "workers."
                    )
                else:
                    sentences.append(
                        f"{name}: serial fraction {fraction:.2f}, solved from speedups at one "
                        f"worker count ({counts}); it has no interval, and measuring more worker "
                        "counts would test the law itself."
                    )
        for r in part.to_dict("records"):
            rows.append({
                "method": name, "workers": r["workers"], "wall_s": r.get("wall_s", math.nan),
                "speedup": r["speedup"], "efficiency": r.get("efficiency", math.nan),
                "serial_fraction": fraction if float(r["workers"]) > 1 else math.nan,
                "ci_low": low if float(r["workers"]) > 1 else math.nan,
                "ci_high": high if float(r["workers"]) > 1 else math.nan,
            })
    return pd.DataFrame(rows), fits, sentences


def show_speedup(report: StrategyReport) -> None:
    """Section "Parallel speedup": the ``parallel`` strategy against ``sequential`` (cold runs
    of the scenario), with Amdahl's law fitted only where the data can support it."""
    from rrperf.report.plots import speedup_chart

    show_heading("Parallel speedup")
    methods = report.execution_methods
    table, fits, sentences = speedup_fits(methods)
    shown = table.rename(columns={"ci_low": "fraction_low", "ci_high": "fraction_high"})
    show_table(format_table(shown),
               caption="generator run cold by each strategy, pool started (one row per run)")
    for sentence in sentences:
        show_text(sentence)
    ax = speedup_chart(methods, fit=fits, ax=_figure(6, width=7.0))
    ax.set_title("speedup over sequential" + (", with the fitted Amdahl curve" if fits else ""))
    show_figure(ax)


def show_cache(report: StrategyReport) -> None:
    """Section "Cache": hit rates of a caching strategy after a cold and a warm run."""
    from rrperf.report.plots import cache_chart

    show_heading("Cache")
    if report.cache_strategy is None or len(report.cache_report) == 0:
        show_text("No strategy of this installation has a cache.")
        return
    show_text(f"Cache of strategy {report.cache_strategy} after a cold and a warm run.")
    cols = [c for c in ("category", "tier", "hits", "misses", "hit_rate")
            if c in report.cache_report.columns]
    show_table(report.cache_report[cols])
    ax = cache_chart(report.cache_report, ax=_figure(6, width=9.0))
    ax.set_title(f"cache hit rate, {report.cache_strategy}")
    show_figure(ax)


def show_scaling(report: StrategyReport) -> None:
    """Section "Scaling": wall time against table count on synthetic schemas."""
    from rrperf.report.plots import scaling_chart, time_unit

    show_heading("Scaling")
    data = report.scaling
    measured = data[~data["warmup"]]
    table = measured.groupby(["scenario", "variant", "n_tables"], sort=False)["wall_s"].agg(
        ["median", "min", "max"])
    show_table(format_table(table.reset_index()),
               caption="wall time per synthetic size (cold): median, min and max")
    factor, unit = time_unit(measured["wall_s"])
    column = f"wall_{unit}"
    scaled = data.assign(**{column: data["wall_s"] * factor})
    ax = scaling_chart(scaled, x="n_tables", y=column, hue="variant", ax=_figure(6, width=7.0))
    ax.set_title("wall time against table count (log-log, power-law fit)")
    show_figure(ax)
