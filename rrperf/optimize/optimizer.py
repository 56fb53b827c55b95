"""PerformanceOptimizer: pick a strategy from measurements, apply it, prove the output unchanged.

Design notes
------------
* Configuration is one frozen :class:`OptimizerConfig`, built from a mapping with
  :meth:`OptimizerConfig.from_mapping`: an unknown key raises :class:`~rrperf.errors.ConfigError`
  naming it with a did-you-mean hint, every value is type-checked.
* The strategies are an explicit registry (default :data:`rrperf.engine.strategies.STRATEGIES`)
  passed to the optimizer; the configuration narrows it: ``enable_parallel_execution=False``
  keeps the in-thread strategies, ``enable_caching=False`` those without a cache,
  ``max_parallel_threads`` caps every strategy's workers and ``enable_monitoring=False`` turns
  their monitoring off.
* Each strategy gets one execution context (executor, cache, monitor) for the optimizer's
  lifetime, so repeated runs hit the caches. Disk caches live under ``cache_dir`` (a temporary
  folder of the optimizer when not given), one folder per strategy.
* The choice of strategy is :func:`rrperf.optimize.workload.recommend` on a
  :func:`~rrperf.optimize.workload.profile_workload` of the target: measurements, never a
  random or fixed pick. :meth:`PerformanceOptimizer.run_comprehensive_analysis` checks the
  choice against a real benchmark.
* Every schema-source run is checked against the legacy generator: its output digest must
  equal legacy's for the same source (``output_matches_legacy``). Legacy digests are
  memoized per source fingerprint (the generator is deterministic).
"""

from __future__ import annotations

import dataclasses
import difflib
import html
import inspect
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf._util import is_int, is_number
from rrperf.document import cell_text, html_table
from rrperf.errors import ConfigError
from rrperf.optimize.analysis import (
    ANALYSIS_COLUMNS,
    PREDICTION_COLUMNS,
    WITHIN,
    AnalysisResult,
    analysis_rows,
    prediction_rows,
)
from rrperf.optimize.profiler import profile_workload
from rrperf.optimize.report import REPORT_FORMATS, render_report
from rrperf.optimize.workload import Calibration, Recommendation, WorkloadProfile, recommend

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.bench.history import HistoryStore
    from rrperf.bench.runner import BenchmarkRunner
    from rrperf.config import RrperfConfig
    from rrperf.engine.cache import CacheOptimizer
    from rrperf.engine.monitor import PerformanceMonitor
    from rrperf.engine.parallel import ParallelExecutor
    from rrperf.engine.strategies import ExecutionContext, Strategy

__all__ = [
    "ANALYSIS_COLUMNS",
    "METRICS_COLUMNS",
    "PREDICTION_COLUMNS",
    "REPORT_FORMATS",
    "WITHIN",
    "AnalysisResult",
    "OptimizationResult",
    "OptimizerConfig",
    "PerformanceOptimizer",
]

logger = logging.getLogger(__name__)

_REPORT_VERSION = 2

#: Columns of :meth:`PerformanceOptimizer.get_optimization_metrics`.
METRICS_COLUMNS: tuple[str, ...] = (
    "strategy", "runs", "total_wall_s", "cache_hits", "cache_misses", "cache_hit_rate",
    "legacy_checked", "legacy_matched", "last",
)
_CACHE_STATES = ("cold", "warm")


# --- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizerConfig:
    """Options of a :class:`PerformanceOptimizer` (immutable, validated).

    Parameters
    ----------
    enable_benchmarking : bool
        Allow :meth:`PerformanceOptimizer.run_comprehensive_analysis`.
    enable_parallel_execution : bool
        Offer the strategies that run on a thread or process pool.
    enable_caching : bool
        Offer the strategies that cache.
    enable_monitoring : bool
        Record runs in a :class:`~rrperf.engine.monitor.PerformanceMonitor`.
    max_parallel_threads : int or None
        Cap on every strategy's workers (None: the strategy's own).
    cache_ttl : float
        Seconds to live of the ``relationships`` cache category (and the default of the
        others).
    memory_cache_size : int or None
        Memory-tier entries per cache category (None: the cache's per-category defaults).
    schema_cache_ttl, template_cache_ttl, type_mapping_cache_ttl : float
        Seconds to live of the ``schema_introspection``, ``template_render`` and
        ``type_mapping`` categories.
    enable_real_time_monitoring : bool
        Sample memory and CPU in a background thread during runs (else only at the ends).
    alert_thresholds : mapping
        ``execution_time`` (s), ``memory_usage`` (MB), ``error_rate`` and ``cache_hit_rate``
        (%); see :class:`~rrperf.engine.monitor.AlertThresholds`. Unset ones are off.
    output_dir : str or None
        Where schema-source targets are generated (a temporary folder per optimizer when None).
    cache_dir : str or None
        Root of the strategies' disk caches (a temporary folder per optimizer when None).
    benchmark_iterations : int
        Measured rounds per strategy in :meth:`PerformanceOptimizer.run_comprehensive_analysis`.

    Raises
    ------
    ConfigError
        On a value of the wrong type or range, naming the key.
    """

    enable_benchmarking: bool = True
    enable_parallel_execution: bool = True
    enable_caching: bool = True
    enable_monitoring: bool = True
    max_parallel_threads: int | None = None
    cache_ttl: float = 3600.0
    memory_cache_size: int | None = None
    schema_cache_ttl: float = 7200.0
    template_cache_ttl: float = 3600.0
    type_mapping_cache_ttl: float = 14400.0
    enable_real_time_monitoring: bool = True
    alert_thresholds: Mapping[str, float | None] = field(default_factory=dict)
    output_dir: str | None = None
    cache_dir: str | None = None
    benchmark_iterations: int = 7

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("enable_"):
                if not isinstance(value, bool):
                    raise ConfigError(f"{f.name} must be True or False, got {value!r}")
            elif f.name.endswith("_ttl"):
                if not (is_number(value) and math.isfinite(value)) or value < 0:
                    raise ConfigError(f"{f.name} must be a number of seconds >= 0, got {value!r}")
                object.__setattr__(self, f.name, float(value))
        for name, minimum in (("max_parallel_threads", 1), ("memory_cache_size", 0)):
            value = getattr(self, name)
            if value is not None and not (is_int(value) and value >= minimum):
                raise ConfigError(f"{name} must be an integer >= {minimum} or None, got {value!r}")
        iters = self.benchmark_iterations
        if not (is_int(iters) and iters >= 1):
            raise ConfigError(f"benchmark_iterations must be an integer >= 1, got {iters!r}")
        for name in ("output_dir", "cache_dir"):
            value = getattr(self, name)
            if value is not None:
                if not isinstance(value, str | os.PathLike) or not os.fspath(value):
                    raise ConfigError(f"{name} must be a non-empty path or None, got {value!r}")
                object.__setattr__(self, name, os.fspath(value))
        thresholds = self.alert_thresholds
        if not isinstance(thresholds, Mapping):
            raise ConfigError(
                "alert_thresholds must be a mapping of metric to number, "
                f"got {type(thresholds).__name__}"
            )
        from rrperf.engine.monitor import AlertThresholds

        AlertThresholds().replace(**dict(thresholds))  # checks names (did-you-mean), ranges
        object.__setattr__(self, "alert_thresholds", dict(thresholds))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | OptimizerConfig | None) -> OptimizerConfig:
        """Build from a mapping of option names (missing keys keep their defaults).

        Raises
        ------
        ConfigError
            On an unknown key (``did you mean`` the nearest valid one) or a bad value.
        """
        if mapping is None:
            return cls()
        if isinstance(mapping, OptimizerConfig):
            return mapping
        if not isinstance(mapping, Mapping):
            raise ConfigError(
                f"config must be a mapping or an OptimizerConfig, got {type(mapping).__name__}"
            )
        known = [f.name for f in dataclasses.fields(cls)]
        for key in mapping:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(
                    f"unknown optimizer option {key!r}{hint} (valid: {', '.join(known)})"
                )
        return cls(**dict(mapping))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (keys in declaration order)."""
        data = dataclasses.asdict(self)
        data["alert_thresholds"] = dict(self.alert_thresholds)
        return data

    def cache_ttls(self) -> dict[str, float]:
        """Seconds to live per cache category."""
        return {
            "schema_introspection": self.schema_cache_ttl,
            "template_render": self.template_cache_ttl,
            "type_mapping": self.type_mapping_cache_ttl,
            "relationships": self.cache_ttl,
        }


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizationResult:
    """What one :meth:`PerformanceOptimizer.optimize_generation` call did.

    Attributes
    ----------
    target : str
        Description of the target (the source, ``Pipeline 'name'`` or the callable's name).
    kind : str
        ``"source"``, ``"pipeline"`` or ``"callable"``.
    strategy : str
        The strategy applied.
    rationale : str
        Why it was chosen.
    wall_s : float
        Seconds of the run (``time.perf_counter``), the legacy check excluded.
    metrics : mapping
        ``cache_hits, cache_misses, cache_hit_rate, peak_rss_mb`` and, for a source,
        ``n_tables, files_total, files_written, files_unchanged, predicted_s``.
    output_digest : str or None
        Digest of the generated files (sources only).
    output_matches_legacy : bool or None
        Whether it equals the legacy generator's digest (sources only).
    legacy_digest : str or None
    out_dir : str or None
    value : object
        What the run returned (GenerationResult, the pipeline's results or the callable's
        value); not compared.
    """

    target: str
    kind: str
    strategy: str
    rationale: str
    wall_s: float
    metrics: Mapping[str, Any]
    output_digest: str | None = None
    output_matches_legacy: bool | None = None
    legacy_digest: str | None = None
    out_dir: str | None = None
    value: Any = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``value`` left out)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.compare}
        data["metrics"] = dict(self.metrics)
        return data

    def _repr_html_(self) -> str:
        rows = html_table(["metric", "value"], [[k, cell_text(v)] for k, v in self.metrics.items()])
        match = {True: "yes", False: "NO", None: "not checked"}[self.output_matches_legacy]
        return (
            f"<div><p><b>{html.escape(self.kind)}</b> {html.escape(self.target)}: strategy "
            f"<b>{html.escape(self.strategy)}</b>, {self.wall_s * 1e3:.2f} ms; "
            "output matches legacy: "
            f"{match}</p><p>{html.escape(self.rationale)}</p>{rows}</div>"
        )


# --- the optimizer ------------------------------------------------------------------------------


def _accepts_ctx(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return "ctx" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _describe(target: Any) -> str:
    if isinstance(target, str | os.PathLike):
        return os.fspath(target)
    name = getattr(target, "__qualname__", None) or getattr(target, "name", None)
    return str(name) if name else type(target).__name__


class PerformanceOptimizer:
    """Choose, apply and justify a generator execution strategy.

    Parameters
    ----------
    config : mapping, OptimizerConfig or None
        Options (see :class:`OptimizerConfig`); unknown keys raise with a did-you-mean hint.
    strategies : mapping of str to Strategy or None
        The candidate registry (default :data:`rrperf.engine.strategies.STRATEGIES`).
    clock : callable
        Seconds (monotonic) for timing runs.
    project : RrperfConfig or None
        The project configuration (``rrperf analyze`` passes the ``rrperf.toml`` it finds;
        None: the defaults, no file is read). ``[cache] dir`` is the default of ``cache_dir``;
        the strategies' contexts are made with it (``[cache] memory_size`` unless
        ``memory_cache_size`` is set, ``[cache] ttl_*`` over the TTL options, ``[executor]
        backend`` and ``max_workers``), ``[monitor] interval_s`` is the monitor's sampling
        interval, and the benchmark, :meth:`optimize_generation` and its legacy check run with it
        (systems, ``exclude_tables``, ``polymorphic_types``). The workload profile behind a
        recommendation is made of the whole schema.
    history : HistoryStore or None
        Where this machine's calibration of the cost model is kept
        (:mod:`rrperf.optimize.calibration`): predictions use it, :meth:`run_comprehensive_analysis`
        makes one when there is none and refreshes it when it drifts. None: uncalibrated.

    Raises
    ------
    ConfigError
        On a bad option or an empty strategy registry.

    Examples
    --------
    >>> with PerformanceOptimizer({"enable_monitoring": False}) as opt:  # doctest: +SKIP
    ...     result = opt.optimize_generation("small")
    >>> result.output_matches_legacy                                     # doctest: +SKIP
    True
    """

    def __init__(
        self,
        config: Mapping[str, Any] | OptimizerConfig | None = None,
        *,
        strategies: Mapping[str, Strategy] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        project: RrperfConfig | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        self.config = OptimizerConfig.from_mapping(config)
        self.history = history
        self._calibration: Calibration | None = None
        from rrperf.config import RrperfConfig

        if project is None:
            project = RrperfConfig()
        elif not isinstance(project, RrperfConfig):
            raise ConfigError(
                f"project must be an RrperfConfig or None, got {type(project).__name__}"
            )
        self.project = project
        if strategies is None:
            from rrperf.engine.strategies import STRATEGIES

            strategies = STRATEGIES
        if not isinstance(strategies, Mapping) or not strategies:
            raise ConfigError("strategies must be a non-empty mapping of name to Strategy")
        self._registry: dict[str, Strategy] = dict(strategies)
        self._clock = clock
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._contexts: dict[str, ExecutionContext] = {}
        self._monitor: PerformanceMonitor | None = None
        self._runner: BenchmarkRunner | None = None
        self._current: str | None = None
        self._warm: dict[str, set[str]] = {}  # strategy -> source fingerprints its cache holds
        self._legacy: dict[str, str] = {}  # source fingerprint -> legacy output digest
        self._runs: list[OptimizationResult] = []
        self._last_source: Any = None
        self._last_analysis: AnalysisResult | None = None

    def __repr__(self) -> str:
        return f"PerformanceOptimizer(strategies={list(self.strategies)}, runs={len(self._runs)})"

    # --- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> PerformanceOptimizer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every execution context and remove the optimizer's temporary folders."""
        contexts, self._contexts = self._contexts, {}
        for ctx in contexts.values():
            ctx.close()
        self._warm.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _scratch(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="rrperf-optimizer-")
        return Path(self._tmp.name)

    @property
    def output_dir(self) -> Path:
        """Where schema-source targets are generated."""
        if self.config.output_dir is not None:
            return Path(self.config.output_dir)
        return self._scratch() / "output"

    @property
    def cache_dir(self) -> Path:
        """Root of the strategies' disk caches."""
        if self.config.cache_dir is not None:
            return Path(self.config.cache_dir)
        if self.project.cache.get("dir") is not None:
            return Path(self.project.cache["dir"])
        return self._scratch() / "cache"

    # --- strategies and components ------------------------------------------------------------

    @property
    def strategies(self) -> dict[str, Strategy]:
        """The candidate strategies, narrowed and adjusted by the configuration."""
        cfg = self.config
        out: dict[str, Strategy] = {}
        for name, strategy in self._registry.items():
            if not cfg.enable_parallel_execution and strategy.backend != "serial":
                continue
            if not cfg.enable_caching and (strategy.cache_memory or strategy.cache_disk):
                continue
            out[name] = self._adjust(strategy)
        return out

    def _adjust(self, strategy: Strategy) -> Strategy:
        cfg = self.config
        changes: dict[str, Any] = {}
        if cfg.max_parallel_threads is not None and strategy.backend != "serial":
            if strategy.resolved_workers() > cfg.max_parallel_threads:
                changes["workers"] = cfg.max_parallel_threads
        if not cfg.enable_monitoring and strategy.monitoring:
            changes["monitoring"] = False
        return dataclasses.replace(strategy, **changes) if changes else strategy

    def _strategy(self, strategy: str | Strategy | None) -> Strategy:
        from rrperf.engine.strategies import get_strategy

        if strategy is None:
            raise ConfigError("a strategy is needed")
        if isinstance(strategy, str):
            if strategy in self._registry:
                resolved = self._registry[strategy]
            else:
                resolved = get_strategy(strategy)
        else:
            resolved = get_strategy(strategy)
        cfg = self.config
        if not cfg.enable_parallel_execution and resolved.backend != "serial":
            raise ConfigError(
                f"strategy {resolved.name!r} runs on a {resolved.backend} pool, but "
                "enable_parallel_execution is False"
            )
        if not cfg.enable_caching and (resolved.cache_memory or resolved.cache_disk):
            raise ConfigError(f"strategy {resolved.name!r} caches, but enable_caching is False")
        return self._adjust(resolved)

    @property
    def performance_monitor(self) -> PerformanceMonitor | None:
        """The monitor every run is recorded in (None when ``enable_monitoring`` is False)."""
        if not self.config.enable_monitoring:
            return None
        if self._monitor is None:
            from rrperf.engine.monitor import AlertThresholds, MonitorConfig, PerformanceMonitor

            interval = self.project.monitor.get("interval_s")
            self._monitor = PerformanceMonitor(
                MonitorConfig(
                    **({} if interval is None else {"interval_s": interval}),
                    background=self.config.enable_real_time_monitoring,
                    thresholds=AlertThresholds().replace(**dict(self.config.alert_thresholds)),
                )
            )
        return self._monitor

    def _context(self, strategy: Strategy) -> ExecutionContext:
        ctx = self._contexts.get(strategy.name)
        if ctx is None or ctx.strategy != strategy:
            if ctx is not None:
                ctx.close()
                self._warm.pop(strategy.name, None)
            folder = self.cache_dir / strategy.name
            folder.mkdir(parents=True, exist_ok=True)
            ctx = self._make_context(strategy, folder)
            self._contexts[strategy.name] = ctx
        return ctx

    def _make_context(self, strategy: Strategy, folder: Path) -> ExecutionContext:
        """The strategy's context, with this optimizer's monitor, cache TTLs and sizes."""
        monitor = self.performance_monitor if strategy.monitoring else None
        ctx = strategy.make_context(cache_dir=folder, monitor=monitor, config=self.project)
        if ctx.cache is not None:
            from rrperf.engine.cache import CacheOptimizer

            base = ctx.cache.config
            size = self.config.memory_cache_size
            sizes = dict(base.memory_size)
            if size is not None:
                sizes = {cat: (size if n > 0 else 0) for cat, n in sizes.items()}
            ctx.cache.close()  # not opened yet: its disk tier opens on first use
            ttl = {**self.config.cache_ttls(), **self.project.cache_ttls()}
            ctx.cache = CacheOptimizer(dataclasses.replace(base, memory_size=sizes, ttl=ttl))
        return ctx

    def _current_context(self) -> ExecutionContext:
        if self._current is None:
            candidates = self.strategies
            name = "balanced" if "balanced" in candidates else next(iter(candidates))
            return self._context(candidates[name])
        return self._context(self._strategy(self._current))

    @property
    def parallel_executor(self) -> ParallelExecutor:
        """The executor of the current strategy (the last applied; ``balanced`` before any)."""
        return self._current_context().executor

    @property
    def cache_optimizer(self) -> CacheOptimizer | None:
        """The cache of the current strategy (None for a strategy without a cache)."""
        return self._current_context().cache

    @property
    def benchmark_runner(self) -> BenchmarkRunner | None:
        """The benchmark runner of :meth:`run_comprehensive_analysis` (None when disabled)."""
        if not self.config.enable_benchmarking:
            return None
        if self._runner is None:
            from rrperf.bench.runner import BenchmarkRunner

            self._runner = BenchmarkRunner(
                iterations=self.config.benchmark_iterations, warmup=1, progress=False, seed=0,
                config=self.project,
            )
        return self._runner

    def clear_all_caches(self) -> None:
        """Empty the caches of every strategy context (and forget which sources they held)."""
        for ctx in self._contexts.values():
            ctx.clear()
        self._warm.clear()

    # --- recommending ---------------------------------------------------------------------------

    def _profile(self, source: Any, out_dir: Path | None = None) -> WorkloadProfile:
        """Measure ``source``; cache warmth is per strategy (see :meth:`_warm_strategies`)."""
        return profile_workload(
            source,
            cache_warm=False,
            out_dir=self.output_dir if out_dir is None else out_dir,
            workers=self.config.max_parallel_threads,
            clock=self._clock,
        )

    def recommend(self, workload: Any = None) -> Recommendation:
        """Measure the workload and recommend the fastest predicted strategy.

        Parameters
        ----------
        workload : WorkloadProfile, schema source or None
            A profile (used as is), a schema source (profiled now) or None (the last source
            given to :meth:`optimize_generation`).

        Returns
        -------
        Recommendation

        Raises
        ------
        ConfigError
            When ``workload`` is None and no source was optimized yet, or no strategy is left
            after the configuration's filters.
        SchemaSourceError
            When the source cannot be loaded.
        """
        if workload is None:
            if self._last_source is None:
                raise ConfigError(
                    "no workload: pass a WorkloadProfile or a schema source, or call "
                    "optimize_generation(source) first"
                )
            workload = self._last_source
        warm = None
        if not isinstance(workload, WorkloadProfile):
            workload = self._profile(workload)
            warm = self._warm_strategies(workload.source_fingerprint)
        candidates = self.strategies
        if not candidates:
            raise ConfigError(
                "no strategy is left: enable_parallel_execution and enable_caching exclude "
                "every registered strategy"
            )
        return recommend(workload, candidates, warm=warm, calibration=self.calibration)

    #: The seed's long name of :meth:`recommend`.
    analyze_and_recommend_strategy = recommend

    @property
    def calibration(self) -> Calibration | None:
        """This machine's calibration in :attr:`history` (None: none yet, or no history)."""
        if self._calibration is None and self.history is not None:
            from rrperf.optimize import calibration

            self._calibration, _ = calibration.load(
                self.history, calibration.machine_fingerprint()
            )
        return self._calibration

    def calibrate(self, **options: Any) -> Calibration:
        """Run the calibration (:func:`rrperf.optimize.calibration.measure_in_new_process`, with
        ``options``), fit the model's constants and keep them in :attr:`history`.

        Raises
        ------
        ConfigError
            Without a history store.
        """
        from rrperf.optimize import calibration

        if self.history is None:
            raise ConfigError("calibrate() needs a history store (history=HistoryStore(...))")
        obs = calibration.measure_in_new_process(
            self.strategies, workers=self.config.max_parallel_threads, config=self.project,
            **options,
        )
        machine = calibration.machine_fingerprint()
        self._calibration = calibration.fit(obs, machine)
        calibration.save(self.history, self._calibration, obs)
        return self._calibration

    def _warm_strategies(self, fingerprint: str) -> list[str]:
        """The strategies whose caches hold the source with this fingerprint."""
        return [name for name, held in self._warm.items() if fingerprint in held]

    # --- applying -------------------------------------------------------------------------------

    def optimize_generation(
        self,
        target: Any,
        strategy: str | Strategy | None = None,
        *,
        out_dir: str | os.PathLike[str] | None = None,
    ) -> OptimizationResult:
        """Run ``target`` under a strategy and report what happened.

        Parameters
        ----------
        target : schema source, Pipeline or callable
            A schema source is generated into ``out_dir`` with
            :func:`rrperf.generator.api.generate` and checked against the legacy generator;
            a :class:`~rrperf.engine.stages.Pipeline` is run by the strategy's executor; a
            callable is called (with ``ctx=`` the execution context when it takes a ``ctx``
            argument), timed and monitored.
        strategy : str, Strategy or None
            None: recommended from a workload profile for a source; for a pipeline or a
            callable, the last recommendation's strategy, else ``balanced``.
        out_dir : path-like or None
            Output folder of a source (default: :attr:`output_dir`).

        Returns
        -------
        OptimizationResult

        Raises
        ------
        ConfigError
            On an unknown or disabled strategy.
        RrperfError
            Whatever the run raises (generation, stage, cache errors).
        """
        from rrperf.engine.stages import Pipeline

        if isinstance(target, Pipeline):
            return self._run_other(target, "pipeline", strategy)
        if callable(target) and not isinstance(target, str | os.PathLike):
            return self._run_other(target, "callable", strategy)
        return self._run_source(target, strategy, out_dir)

    def _default_for_other(self) -> tuple[Strategy, str]:
        candidates = self.strategies
        if self._runs:
            last = self._runs[-1].strategy
            if last in candidates:
                return candidates[last], f"{last} was the strategy of the previous run."
        name = "balanced" if "balanced" in candidates else next(iter(candidates))
        return candidates[name], (
            f"{name}: no workload measurements exist for a pipeline or a callable, so the "
            "default strategy is used."
        )

    def _run_other(
        self, target: Any, kind: str, strategy: str | Strategy | None
    ) -> OptimizationResult:
        if strategy is None:
            chosen, why = self._default_for_other()
        else:
            chosen, why = self._strategy(strategy), "Given by the caller."
        ctx = self._context(chosen)
        self._current = chosen.name
        hits0, misses0 = ctx.cache_stats()
        label = f"{kind}:{_describe(target)}"

        def run() -> Any:
            if kind == "pipeline":
                return ctx.executor.execute_with_dependencies(target)
            if _accepts_ctx(target):
                return target(ctx=ctx)
            return target()

        value, wall_s, peak = self._observe(label, chosen, run)
        hits1, misses1 = ctx.cache_stats()
        metrics = _cache_metrics(hits1 - hits0, misses1 - misses0)
        metrics["peak_rss_mb"] = peak
        result = OptimizationResult(
            target=_describe(target),
            kind=kind,
            strategy=chosen.name,
            rationale=why,
            wall_s=wall_s,
            metrics=metrics,
            value=value,
        )
        self._runs.append(result)
        return result

    def _observe(
        self, label: str, strategy: Strategy, run: Callable[[], Any]
    ) -> tuple[Any, float, float]:
        """Run ``run`` timed, in a monitor session when monitoring; (value, wall_s, peak MB)."""
        from rrperf.bench.runner import PeakRssMeter

        monitor = self.performance_monitor
        meter = PeakRssMeter()
        session = (
            monitor.session(label, {"strategy": strategy.name})
            if monitor is not None and strategy.monitoring and monitor.active_session is None
            else None
        )
        if session is not None:
            session.__enter__()
        meter.start()
        start = self._clock()
        ok = False
        try:
            value = run()
            ok = True
        finally:
            wall_s = self._clock() - start
            peak = meter.stop()
            if session is not None:
                if ok:
                    session.__exit__(None, None, None)
                else:
                    monitor.record_error()  # type: ignore[union-attr]
                    monitor.end_monitoring_session()  # type: ignore[union-attr]
        return value, wall_s, peak

    def _run_source(
        self, source: Any, strategy: str | Strategy | None, out_dir: str | os.PathLike[str] | None
    ) -> OptimizationResult:
        from rrperf.generator.api import generate
        from rrperf.schema.sources import source_fingerprint

        target = Path(out_dir) if out_dir is not None else self.output_dir
        rec: Recommendation | None = None
        if strategy is None:
            profile = self._profile(source, target)
            candidates = self.strategies
            if not candidates:
                raise ConfigError("no strategy is left after the configuration's filters")
            rec = recommend(
                profile, candidates, warm=self._warm_strategies(profile.source_fingerprint),
                calibration=self.calibration,
            )
            chosen = candidates[rec.strategy]
            why = rec.rationale
        else:
            chosen, why = self._strategy(strategy), "Given by the caller."
        ctx = self._context(chosen)
        self._current = chosen.name
        hits0, misses0 = ctx.cache_stats()
        res, wall_s, peak = self._observe(
            f"generate:{_describe(source)}",
            chosen,
            lambda: generate(source, target, strategy=chosen, context=ctx, config=self.project),
        )
        hits1, misses1 = ctx.cache_stats()
        fingerprint = source_fingerprint(source)
        if ctx.cache is not None:
            self._warm.setdefault(chosen.name, set()).add(fingerprint)
        legacy = self._legacy_digest(source, fingerprint)
        metrics = _cache_metrics(hits1 - hits0, misses1 - misses0)
        metrics.update(
            peak_rss_mb=peak,
            n_tables=res.n_tables,
            files_total=res.files_total,
            files_written=res.files_written,
            files_unchanged=res.files_unchanged,
        )
        if rec is not None:
            metrics["predicted_s"] = rec.predicted_s()
        self._last_source = source
        result = OptimizationResult(
            target=_describe(source),
            kind="source",
            strategy=chosen.name,
            rationale=why,
            wall_s=wall_s,
            metrics=metrics,
            output_digest=res.output_digest,
            output_matches_legacy=res.output_digest == legacy,
            legacy_digest=legacy,
            out_dir=str(target),
            value=res,
        )
        if not result.output_matches_legacy:
            logger.warning(
                "strategy %s changed the output of %s: digest %s, legacy %s",
                chosen.name,
                result.target,
                res.output_digest,
                legacy,
            )
        self._runs.append(result)
        return result

    def _legacy_digest(self, source: Any, fingerprint: str) -> str:
        digest = self._legacy.get(fingerprint)
        if digest is None:
            from rrperf.generator.api import generate

            folder = tempfile.mkdtemp(prefix="rrperf-legacy-", dir=self._scratch())
            try:
                digest = generate(
                    source, folder, impl="legacy", config=self.project
                ).output_digest
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            self._legacy[fingerprint] = digest
        return digest

    # --- analysis -------------------------------------------------------------------------------

    def run_comprehensive_analysis(
        self,
        include_all_strategies: bool = False,
        *,
        scenario: str | None = None,
        cache_states: str | Iterable[str] = _CACHE_STATES,
        iterations: int | None = None,
        warmup: int = 1,
        seed: int = 0,
    ) -> AnalysisResult:
        """Benchmark the top three (or all) strategies and recommend from the measurements.

        For each cache state the model predicts on the workload profile as that state sees it
        (cold: empty caches and output folder; warm: both filled), with this machine's
        calibration (made first when :attr:`history` has none); the strategies benchmarked are
        the union of each state's three best predictions (all with ``include_all_strategies``).
        The recommendation is then the tie of the measured best with the fewest resources
        (:mod:`rrperf.optimize.analysis`). The run's measurements refresh the calibration when
        its predictions drifted (:func:`rrperf.optimize.calibration.refresh`).

        Parameters
        ----------
        include_all_strategies : bool
            Benchmark every candidate strategy.
        scenario : str or None
            A benchmark scenario name (see :mod:`rrperf.bench.scenarios`); None: the last
            source given to :meth:`optimize_generation`, when it was a string.
        cache_states : str or iterable of str
            ``"cold"`` and/or ``"warm"``.
        iterations : int or None
            Measured rounds (default ``benchmark_iterations``).
        warmup : int
            Warm-up rounds (they also pay the process pool's start-up).
        seed : int
            Seed of the interleaving order.

        Returns
        -------
        AnalysisResult

        Raises
        ------
        ConfigError
            When benchmarking is disabled, on a bad option or unknown cache state, or when no
            scenario is known.
        BenchmarkError
            On an unknown scenario.
        """
        from rrperf.bench.runner import BenchmarkRunner
        from rrperf.bench.scenarios import resolve_scenario

        if not self.config.enable_benchmarking:
            raise ConfigError("benchmarking is disabled (enable_benchmarking=False)")
        if not isinstance(include_all_strategies, bool):
            raise ConfigError(
                f"include_all_strategies must be True or False, got {include_all_strategies!r}"
            )
        if scenario is None:
            if not isinstance(self._last_source, str):
                raise ConfigError(
                    "no scenario: pass scenario=NAME, or optimize a source given by name first"
                )
            scenario = self._last_source
        states = (cache_states,) if isinstance(cache_states, str) else tuple(cache_states)
        for state in states:
            if state not in _CACHE_STATES:
                raise ConfigError(f"cache state must be 'cold' or 'warm', got {state!r}")
        if not states:
            raise ConfigError("cache_states must name at least one state")
        resolved = resolve_scenario(scenario)
        base = self._profile(resolved.source)
        candidates = self.strategies
        if not candidates:
            raise ConfigError("no strategy is left after the configuration's filters")
        if self.history is not None and self.calibration is None:
            self.calibrate()
        recs = {
            s: recommend(base.with_state(s), candidates, calibration=self.calibration)
            for s in states
        }
        if include_all_strategies:
            chosen = list(candidates)
        else:
            picked: set[str] = set()
            for rec in recs.values():
                ranked = sorted(rec.scores, key=lambda n: rec.scores[n]["predicted_s"])
                picked.update(ranked[:3])
                picked.add(rec.strategy)
            chosen = [n for n in candidates if n in picked]
        runner = BenchmarkRunner(
            iterations=self.config.benchmark_iterations if iterations is None else iterations,
            warmup=warmup,
            progress=False,
            seed=seed,
            config=self.project,
        )
        self._runner = runner
        from rrperf.optimize.profiler import OtherLoad

        with OtherLoad() as other:
            bench = runner.run_comparative_benchmark(
                [scenario], systems=("pipeline",), strategies=chosen, cache_states=states
            )
        rows = tuple(analysis_rows(resolved.name, states, recs, bench, candidates))
        used, recalibrated = self.calibration, False
        if self.history is not None:
            from rrperf.optimize import calibration

            self._calibration, recalibrated = calibration.refresh(
                self.history, calibration.machine_fingerprint(),
                calibration.observations(  # with the CPUs other processes left the runs
                    resolved.name, base if other.load_avg is None
                    else dataclasses.replace(base, load_avg=other.load_avg), bench, candidates),
            )
        result = AnalysisResult(
            scenario=resolved.name,
            recommendation=recs[states[0]],
            recommendations=recs,
            strategies=tuple(chosen),
            benchmark=bench,
            rows=rows,
            predictions=tuple(prediction_rows(
                states, recs, bench, candidates,
                {str(r["cache_state"]): str(r["recommended"]) for r in rows},
            )),
            calibration=used,
            recalibrated=recalibrated,
        )
        self._last_analysis = result
        return result

    # --- metrics, reports, configuration --------------------------------------------------------

    def get_optimization_metrics(self) -> pd.DataFrame:
        """Totals over this optimizer's runs, one row per strategy used (in order of first use).

        Returns
        -------
        pandas.DataFrame
            Columns :data:`METRICS_COLUMNS`: ``runs``, ``total_wall_s``, ``cache_hits``,
            ``cache_misses``, ``cache_hit_rate``, ``legacy_checked``, ``legacy_matched``
            (runs whose output equals the legacy generator's) and ``last`` (the strategy of the
            last run). ``attrs["alerts"]`` is the monitor's alert count.
        """
        import pandas as pd

        rows: dict[str, dict[str, Any]] = {}
        for r in self._runs:
            row = rows.setdefault(r.strategy, dict.fromkeys(METRICS_COLUMNS[1:], 0))
            row["runs"] += 1
            row["total_wall_s"] += r.wall_s
            row["cache_hits"] += int(r.metrics.get("cache_hits", 0))
            row["cache_misses"] += int(r.metrics.get("cache_misses", 0))
            row["legacy_checked"] += r.output_matches_legacy is not None
            row["legacy_matched"] += bool(r.output_matches_legacy)
        for name, row in rows.items():
            total = row["cache_hits"] + row["cache_misses"]
            row["cache_hit_rate"] = row["cache_hits"] / total if total else 0.0
            row["last"] = bool(self._runs) and self._runs[-1].strategy == name
        frame = pd.DataFrame([{"strategy": n, **row} for n, row in rows.items()],
                             columns=list(METRICS_COLUMNS))
        frame.attrs["alerts"] = len(self._monitor.alerts) if self._monitor is not None else 0
        return frame

    def update_configuration(self, **options: Any) -> OptimizerConfig:
        """Change options (validated like the constructor) and rebuild what depends on them.

        Returns
        -------
        OptimizerConfig
            The configuration now in force.

        Raises
        ------
        ConfigError
            On an unknown option (did-you-mean hint) or a bad value; nothing changes then.
        """
        new = OptimizerConfig.from_mapping({**self.config.to_dict(), **options})
        old, self.config = self.config, new
        changed = {k for k in options if getattr(old, k) != getattr(new, k)}
        monitor_keys = {"enable_monitoring", "enable_real_time_monitoring"}
        if changed & monitor_keys:
            self._monitor = None
        elif "alert_thresholds" in changed and self._monitor is not None:
            self._monitor.set_alert_thresholds(
                **{
                    **{
                        k: None
                        for k in ("execution_time", "memory_usage", "error_rate", "cache_hit_rate")
                    },
                    **dict(new.alert_thresholds),
                }
            )
        context_keys = (
            changed
            - monitor_keys
            - {"alert_thresholds", "enable_benchmarking", "benchmark_iterations", "output_dir"}
        )
        if context_keys or (changed & {"enable_monitoring"}):
            contexts, self._contexts = self._contexts, {}
            for ctx in contexts.values():
                ctx.close()
            self._warm.clear()
        if changed & {"enable_benchmarking", "benchmark_iterations"}:
            self._runner = None
        logger.info("optimizer configuration changed: %s", ", ".join(sorted(changed)) or "nothing")
        return new

    def set_alert_thresholds(self, **thresholds: float | None) -> Mapping[str, float | None]:
        """Change alert thresholds on the monitor (``None`` turns one off).

        Returns
        -------
        mapping
            The thresholds now in force.

        Raises
        ------
        ConfigError
            On an unknown name or bad value, or when monitoring is disabled.
        """
        monitor = self.performance_monitor
        if monitor is None:
            raise ConfigError("monitoring is disabled (enable_monitoring=False): no alerts")
        now = monitor.set_alert_thresholds(**thresholds)
        merged = {**self.config.alert_thresholds, **thresholds}
        self.config = dataclasses.replace(self.config, alert_thresholds=merged)
        return dataclasses.asdict(now)

    def generate_comprehensive_report(
        self, format: str = "json", include_history: bool = True
    ) -> str:
        """A report of the configuration, metrics, last analysis, monitor and cache.

        Parameters
        ----------
        format : {"json", "markdown", "html"}
        include_history : bool
            Include every run (else only the totals).

        Returns
        -------
        str
            User text (targets, rationales, strategy names) is escaped for the format.

        Raises
        ------
        ConfigError
            On an unknown format.
        """
        return render_report(self._report_data(include_history), format)

    def _report_data(self, include_history: bool) -> dict[str, Any]:
        monitor = self._monitor
        sessions: list[dict[str, Any]] = []
        if monitor is not None:
            for s in monitor.summaries:
                sessions.append(
                    {
                        "session": s.name,
                        "duration_s": s.duration_s,
                        "peak_rss_mb": s.peak_rss_mb,
                        "errors": s.errors,
                        "alerts": len(s.alerts),
                    }
                )
        cache_rows: list[dict[str, Any]] = []
        for name, ctx in self._contexts.items():
            cache = ctx.cache
            if cache is None:
                continue
            for t in cache.stats().tiers:
                if t.requests:
                    cache_rows.append(
                        {
                            "strategy": name,
                            "category": t.category,
                            "tier": t.tier,
                            "requests": t.requests,
                            "hits": t.hits,
                            "hit_rate": t.hit_rate,
                        }
                    )
        analysis = self._last_analysis
        data: dict[str, Any] = {
            "format_version": _REPORT_VERSION,
            "configuration": self.config.to_dict(),
            "metrics": self.get_optimization_metrics().to_dict("records"),
            "analysis": analysis.to_dict() if analysis is not None else None,
            "monitor": sessions,
            "cache_efficiency": cache_rows,
        }
        if include_history:
            data["runs"] = [r.to_dict() for r in self._runs]
        return data


def _cache_metrics(hits: int, misses: int) -> dict[str, Any]:
    total = hits + misses
    return {
        "cache_hits": int(hits),
        "cache_misses": int(misses),
        "cache_hit_rate": (hits / total) if total else 0.0,
    }
