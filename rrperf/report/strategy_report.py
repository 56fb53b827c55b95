"""The strategy analysis workflow: what ``strategy_analysis.ipynb`` computes and shows.

Conventions (warnings, units, escaping) are those of :mod:`rrperf.report.benchmark_report`.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf.bench.report import format_table
from rrperf.errors import ConfigError
from rrperf.report.benchmark_report import (
    _figure,
    _megabytes,
    _recorded_warnings,
    _summary_caption,
    _with_variant,
    project_config,
    summary_table,
    warning_table,
)
from rrperf.report.display import show_figure, show_heading, show_table, show_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "StrategyReport",
    "run_strategy_analysis",
    "show_cache",
    "show_recommendation",
    "show_scaling",
    "show_speedup",
    "show_strategies",
    "speedup_fits",
]


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
        :func:`rrperf.generator.speedup.compare_strategies` of the scenario: cold runs of the
        ``sequential`` and ``parallel`` strategies (pool started), the path every strategy
        runs, in the frame of :meth:`ParallelExecutor.compare_execution_methods` (``method``
        is the strategy).
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
       (:func:`rrperf.generator.speedup.compare_strategies`), for the parallel speedup;
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
    from rrperf.generator.speedup import compare_strategies
    from rrperf.optimize.optimizer import PerformanceOptimizer
    from rrperf.report.plots import variant_label
    from rrperf.schema.sources import load_schema

    project = project_config(config_file)
    size_list = _sizes(sizes)
    if workers is None:
        workers = max(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else (os.cpu_count() or 2))
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
        ).run_comparative_benchmark(
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
    slower than the sequential run (speedup <= 1) or faster than linear (speedup >= workers)
    lies outside it, and its serial fraction would come out below 0 or above 1. Those methods
    get no fit and a sentence saying why; the others a bounded least-squares fit
    (:func:`rrperf.bench.stats.fit_amdahl`, ``f`` in [0, 1]) with an interval when there are
    speedups at two or more worker counts.

    Parameters
    ----------
    methods : DataFrame
        As :meth:`ParallelExecutor.compare_execution_methods` returns it (``method, workers,
        speedup`` at least).

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
            if (speedup <= 1).all():
                sentences.append(
                    f"{name}: slower than sequential (speedup {float(speedup.max()):.2f}x with "
                    f"{counts} workers): its overhead (starting or feeding workers) outweighs "
                    "the parallel gain, which Amdahl's law does not model, so no serial fraction "
                    "is fitted."
                )
            elif (speedup >= workers).all():
                sentences.append(
                    f"{name}: speedup {float(speedup.max()):.2f}x with {counts} workers is "
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
               caption="generator run cold by each strategy, pool started (median wall time)")
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
