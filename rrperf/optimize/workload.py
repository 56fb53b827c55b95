"""Workload profiles and the cost model that turns one into a strategy recommendation.

:func:`profile_workload` *measures* a schema source on this machine; :func:`predict` and
:func:`recommend` are pure functions of the resulting :class:`WorkloadProfile`, so a
recommendation is reproducible from a profile (tests build profiles by hand).

What is measured (every number of the model comes from one of these fields)
---------------------------------------------------------------------------
``hash_s``
    :func:`~rrperf.schema.sources.source_fingerprint` of the source (a cache key needs it).
``load_s``, ``analyze_s``
    :func:`~rrperf.schema.sources.load_schema` and
    :func:`~rrperf.generator.analyze.analyze_schema` (the serial head of every run).
``stage_s``
    Per-table seconds of each per-table step (``types``, ``relationships``, ``defaults``,
    ``polymorphic``, ``render``), the mean over a deterministic sample of up to ``sample``
    evenly spaced tables, each timed ``repeats`` times in this process (minimum kept: the
    deterministic cost, without the noise of other processes). Nothing is written.
``index_s``
    Rendering ``index.ts``.
``write_s``, ``compare_s``
    Per file: an atomic write of the sampled files into a scratch folder, and the
    unchanged-file check of :func:`~rrperf.generator.writer.write_if_changed` on them.
``ship_s``
    A pickle round trip of the analysis context (what a process-pool task receives).
``overhead_s``
    Bookkeeping of the engine's serial executor per stage (a pipeline of trivial stages).
``monitor_s``
    One :class:`~rrperf.engine.monitor.PerformanceMonitor` session (start + stop).
``hit_s``, ``miss_s``, ``disk_hit_s``
    One cache lookup of a rendered table on a real :class:`~rrperf.engine.cache.CacheOptimizer`
    in a scratch folder: a memory hit, a miss that stores (key + JSON + disk write), and a hit
    read from the disk tier by a fresh cache.
``pool_startup_s``, ``dispatch_s``, ``thread_dispatch_s``
    The engine's process pool (loky's reusable executor, through
    :class:`~rrperf.engine.parallel.ParallelExecutor`): the first run of a trivial stage
    (start-up + round trip), then the occupancy of one trivial task in a warm pool
    (``wall * workers / tasks`` for a batch of independent trivial stages); the same for the
    thread backend. Measured once per process and worker count, then memoized.
``cpu_count``, ``load_avg``, ``memory_available_mb``
    Usable CPUs (affinity), the 1-minute load average and available memory.
``cache_warm``, ``output_present``
    Whether the given cache already answers this source's lookups, and whether the output
    folder already holds every file of the run.

The model (seconds of one steady-state run; a benchmark's median)
-----------------------------------------------------------------
For a strategy with backend ``b``, ``w`` workers, cache tiers ``C`` and ``n`` tables
(``F = 3n + 1`` files, ``S`` stages: ``5n + 3``, or ``ceil(n / batch) + 3`` with a batch size)::

    head   = load_s + analyze_s                 (schema read; with the schema cached:
                                                 hash_s + hit cost on a warm cache,
                                                 load_s + hash_s + miss_s on a cold one)
    table  = sum of the per-table step costs    (a cached step costs its hit cost when the
                                                 cache is warm, compute + miss_s when cold)
    write  = F * (compare_s if output_present else write_s)
    fixed  = head + index_s + write + S * overhead_s + (monitor_s if monitoring)

    serial  : fixed + n * table
    thread  : fixed + n * table + S * thread_dispatch_s / w      (pure-Python steps hold the
                                                                  GIL: no compute speed-up)
    process : fixed + (n * table + S * (dispatch_s + ship_s)) / min(w, free_cpus)

``free_cpus = clip(cpu_count - load_avg + 1, 1, cpu_count)``: the CPUs other processes leave
us (the load average counts this process once). The hit cost is ``hit_s`` with a memory tier
and ``disk_hit_s`` with a disk tier only. Process-pool start-up is paid once per process
(the benchmark's warm-up round pays it) and is reported in the rationale, not in the
steady-state prediction.

Safety margin: a strategy that runs on a pool must be predicted faster than the best
in-thread strategy by :data:`POOL_MARGIN` to be recommended, because pool runs vary more
(scheduling on a shared machine). Ties go to the strategy listed first in the registry.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
import pickle
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rrperf.errors import ConfigError, SchemaWarning

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.engine.cache import CacheOptimizer

__all__ = [
    "POOL_MARGIN",
    "STEP_KINDS",
    "Recommendation",
    "StrategyLike",
    "WorkloadProfile",
    "predict",
    "profile_workload",
    "recommend",
]

logger = logging.getLogger(__name__)

#: The per-table steps of the generator, in pipeline order.
STEP_KINDS: tuple[str, ...] = ("types", "relationships", "defaults", "polymorphic", "render")

#: Safety margin (fraction): a pool strategy must be predicted this much faster than the best
#: in-thread strategy to be recommended. Pools add scheduling variance on a shared machine;
#: 10% is twice the 5% the analysis accepts as "as good as the best".
POOL_MARGIN = 0.10

# Stages per table when not batched (four steps + render) and stages of every run
# (analyze, render:index, write): counts of rrperf.generator.pipeline.build_pipeline.
_STAGES_PER_TABLE = 5
_FIXED_STAGES = 3
_FILES_PER_TABLE = 3

# Default size of the table sample and repetitions per sampled table.
_SAMPLE = 20
_REPEATS = 3
# Trivial tasks per batch when measuring a pool's dispatch cost.
_PROBE_TASKS = 16


class StrategyLike(Protocol):
    """What the model reads of a strategy (:class:`rrperf.engine.strategies.Strategy`)."""

    name: str
    backend: str
    cache_memory: frozenset[str]
    cache_disk: frozenset[str]
    monitoring: bool
    batch_size: int | None

    def resolved_workers(self) -> int: ...


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class WorkloadProfile:
    """Measurements of one schema source on this machine (see the module docstring).

    Times are seconds; ``stage_s`` maps each of :data:`STEP_KINDS` to seconds per table.

    Raises
    ------
    ConfigError
        On a negative or non-numeric time, a missing step kind or a bad count.
    """

    n_tables: int
    source_fingerprint: str
    hash_s: float
    load_s: float
    analyze_s: float
    stage_s: Mapping[str, float]
    index_s: float
    write_s: float
    compare_s: float
    ship_s: float
    overhead_s: float
    monitor_s: float
    hit_s: float
    miss_s: float
    disk_hit_s: float
    pool_startup_s: float
    dispatch_s: float
    thread_dispatch_s: float
    cpu_count: int
    load_avg: float
    memory_available_mb: float
    cache_warm: bool = False
    output_present: bool = False
    sampled_tables: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if (
            isinstance(self.n_tables, bool)
            or not isinstance(self.n_tables, int)
            or self.n_tables < 0
        ):
            raise ConfigError(f"n_tables must be an integer >= 0, got {self.n_tables!r}")
        if (
            isinstance(self.cpu_count, bool)
            or not isinstance(self.cpu_count, int)
            or self.cpu_count < 1
        ):
            raise ConfigError(f"cpu_count must be an integer >= 1, got {self.cpu_count!r}")
        if not isinstance(self.source_fingerprint, str):
            raise ConfigError(
                f"source_fingerprint must be a string, got {type(self.source_fingerprint).__name__}"
            )
        for f in dataclasses.fields(self):
            if f.name.endswith("_s") and f.name != "stage_s":
                value = getattr(self, f.name)
                if not _number(value) or not value >= 0 or math.isinf(value):
                    raise ConfigError(
                        f"{f.name} must be a finite number of seconds >= 0, got {value!r}"
                    )
        for name in ("load_avg", "memory_available_mb"):
            value = getattr(self, name)
            if not _number(value) or not value >= 0:
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
        if not isinstance(self.stage_s, Mapping) or set(self.stage_s) != set(STEP_KINDS):
            got = sorted(self.stage_s) if isinstance(self.stage_s, Mapping) else self.stage_s
            raise ConfigError(
                f"stage_s must map exactly {', '.join(STEP_KINDS)} to seconds, got {got!r}"
            )
        for kind, value in self.stage_s.items():
            if not _number(value) or not value >= 0:
                raise ConfigError(
                    f"stage_s[{kind!r}] must be a number of seconds >= 0, got {value!r}"
                )
        object.__setattr__(self, "stage_s", {k: float(self.stage_s[k]) for k in STEP_KINDS})
        for name in ("cache_warm", "output_present"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")

    @property
    def per_table_s(self) -> float:
        """Seconds of the per-table steps of one table (sum of ``stage_s``)."""
        return sum(self.stage_s.values())

    @property
    def n_files(self) -> int:
        """Files of a run: three per table plus ``index.ts``."""
        return _FILES_PER_TABLE * self.n_tables + 1

    @property
    def free_cpus(self) -> float:
        """CPUs other processes leave free: ``clip(cpu_count - load_avg + 1, 1, cpu_count)``."""
        return min(float(self.cpu_count), max(1.0, self.cpu_count - self.load_avg + 1.0))

    def with_state(self, cache_state: str) -> WorkloadProfile:
        """This profile as a ``"cold"`` or ``"warm"`` benchmark iteration would see it.

        Raises
        ------
        ConfigError
            On another cache state.
        """
        if cache_state not in ("cold", "warm"):
            raise ConfigError(f"cache_state must be 'cold' or 'warm', got {cache_state!r}")
        warm = cache_state == "warm"
        return dataclasses.replace(self, cache_warm=warm, output_present=warm)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        data = dataclasses.asdict(self)
        data["stage_s"] = dict(self.stage_s)
        data["sampled_tables"] = list(self.sampled_tables)
        data["per_table_s"] = self.per_table_s
        return data


# --- the model ---------------------------------------------------------------------------------

#: Which cache category holds each step's result when a strategy caches it (the engine's
#: mapping of pipeline stage categories to :data:`rrperf.engine.cache.CATEGORIES`).
STEP_CACHE: Mapping[str, str] = {
    "analysis": "schema_introspection",
    "types": "type_mapping",
    "relationships": "relationships",
    "defaults": "type_mapping",
    "polymorphic": "relationships",
    "render": "template_render",
}


def _cached_cost(
    profile: WorkloadProfile, strategy: StrategyLike, category: str, compute_s: float
) -> float:
    """Cost of one lookup-or-compute of ``category`` under ``strategy``."""
    memory = category in strategy.cache_memory
    disk = category in strategy.cache_disk
    if not (memory or disk):
        return compute_s
    if profile.cache_warm:
        return profile.hit_s if memory else profile.disk_hit_s
    return compute_s + profile.miss_s


def _n_stages(profile: WorkloadProfile, strategy: StrategyLike) -> int:
    batch = strategy.batch_size
    if batch is None:
        return _STAGES_PER_TABLE * profile.n_tables + _FIXED_STAGES
    return math.ceil(profile.n_tables / batch) + _FIXED_STAGES


def predict_parts(profile: WorkloadProfile, strategy: StrategyLike) -> dict[str, float]:
    """The model's terms for one strategy (seconds); their meaning is in the module docstring.

    Returns
    -------
    dict
        ``head, tables, write, fixed_overhead, pool, total``: ``total`` is :func:`predict`.

    Raises
    ------
    ConfigError
        On an unknown backend.
    """
    backend = strategy.backend
    if backend not in ("serial", "thread", "process"):
        raise ConfigError(f"strategy {strategy.name!r}: unknown backend {backend!r}")
    workers = 1 if backend == "serial" else max(1, int(strategy.resolved_workers()))
    if workers == 1:
        # the engine runs a one-worker pool in the calling thread (nothing to pickle)
        backend = "serial"
    schema_cat = STEP_CACHE["analysis"]
    if schema_cat in strategy.cache_memory or schema_cat in strategy.cache_disk:
        lookup = _cached_cost(profile, strategy, schema_cat, profile.load_s)
        head = profile.hash_s + lookup + profile.analyze_s
    else:
        head = profile.load_s + profile.analyze_s
    table = 0.0
    for kind in STEP_KINDS:
        compute = profile.stage_s[kind]
        if strategy.batch_size is not None and kind != "render":
            # a batch stage computes the steps inline and caches only the rendered files
            table += compute
        else:
            table += _cached_cost(profile, strategy, STEP_CACHE[kind], compute)
    tables = profile.n_tables * table
    write = profile.n_files * (profile.compare_s if profile.output_present else profile.write_s)
    stages = _n_stages(profile, strategy)
    fixed = stages * profile.overhead_s + (profile.monitor_s if strategy.monitoring else 0.0)
    if backend == "serial":
        pool = 0.0
        body = tables
    elif backend == "thread":
        pool = stages * profile.thread_dispatch_s / workers
        body = tables
    else:
        parallel = min(float(workers), profile.free_cpus)
        pool = stages * (profile.dispatch_s + profile.ship_s) / parallel
        body = tables / parallel
    total = head + profile.index_s + write + fixed + pool + body
    return {
        "head": head,
        "tables": body,
        "write": write,
        "fixed_overhead": fixed,
        "pool": pool,
        "total": total,
    }


def predict(profile: WorkloadProfile, strategy: StrategyLike) -> float:
    """Predicted seconds of one steady-state run of ``strategy`` on ``profile``.

    Parameters
    ----------
    profile : WorkloadProfile
    strategy : Strategy
        Anything with the attributes of :class:`StrategyLike`.

    Returns
    -------
    float

    Raises
    ------
    ConfigError
        On an unknown backend.
    """
    return predict_parts(profile, strategy)["total"]


@dataclass(frozen=True)
class Recommendation:
    """The recommended strategy for a workload, with the predictions behind it.

    Attributes
    ----------
    strategy : str
        The recommended strategy's name.
    scores : mapping of str to dict
        Per strategy (registry order): ``predicted_s`` and ``score`` (best predicted time
        over this one's: 1.0 for the fastest, lower is slower).
    rationale : str
        Plain-language reasons.
    workload : WorkloadProfile
        The measurements the prediction used.
    """

    strategy: str
    scores: Mapping[str, Mapping[str, float]]
    rationale: str
    workload: WorkloadProfile

    def predicted_s(self, strategy: str | None = None) -> float:
        """Predicted seconds of ``strategy`` (default: the recommended one)."""
        return float(self.scores[strategy or self.strategy]["predicted_s"])

    def to_frame(self) -> pd.DataFrame:
        """One row per strategy: ``strategy, predicted_s, score, recommended``."""
        import pandas as pd

        rows = [
            {
                "strategy": name,
                "predicted_s": s["predicted_s"],
                "score": s["score"],
                "recommended": name == self.strategy,
            }
            for name, s in self.scores.items()
        ]
        return pd.DataFrame(rows, columns=["strategy", "predicted_s", "score", "recommended"])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "strategy": self.strategy,
            "scores": {k: dict(v) for k, v in self.scores.items()},
            "rationale": self.rationale,
            "workload": self.workload.to_dict(),
        }

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{s['predicted_s'] * 1e3:.2f}</td>"
            f"<td>{s['score']:.3f}</td><td>{'&#10003;' if name == self.strategy else ''}</td></tr>"
            for name, s in self.scores.items()
        )
        return (
            f"<div><p><b>Recommended:</b> {html.escape(self.strategy)}</p>"
            f"<p>{html.escape(self.rationale)}</p>"
            "<table><thead><tr><th>strategy</th><th>predicted ms</th><th>score</th>"
            f"<th>recommended</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def recommend(
    profile: WorkloadProfile, strategies: Mapping[str, StrategyLike] | None = None
) -> Recommendation:
    """Recommend the strategy with the lowest predicted time (see the module docstring).

    Parameters
    ----------
    profile : WorkloadProfile
    strategies : mapping of str to Strategy or None
        The candidates, in preference order for ties; the engine's registry when None.

    Returns
    -------
    Recommendation

    Raises
    ------
    ConfigError
        With no candidate strategy.
    """
    if strategies is None:
        from rrperf.engine.strategies import STRATEGIES

        strategies = STRATEGIES
    if not strategies:
        raise ConfigError("recommend() needs at least one strategy")
    parts = {name: predict_parts(profile, s) for name, s in strategies.items()}
    times = {name: p["total"] for name, p in parts.items()}
    in_thread = [n for n, s in strategies.items() if s.backend != "process"]
    best_any = min(times, key=lambda n: times[n])  # first of equal minima (registry order)
    chosen = best_any
    margin_note = ""
    if strategies[best_any].backend == "process" and in_thread:
        best_local = min(in_thread, key=lambda n: times[n])
        if times[best_any] > times[best_local] * (1.0 - POOL_MARGIN):
            chosen = best_local
            margin_note = (
                f" {best_any} was predicted {_ms(times[best_any])}, less than "
                f"{POOL_MARGIN:.0%} faster than {best_local}, not enough to pay for the "
                "variance of a process pool."
            )
    fastest = min(times.values())
    scores = {
        name: {"predicted_s": t, "score": (fastest / t) if t > 0 else 1.0}
        for name, t in times.items()
    }
    rationale = _rationale(profile, strategies, parts, chosen) + margin_note
    return Recommendation(chosen, scores, rationale, profile)


def _rationale(
    profile: WorkloadProfile,
    strategies: Mapping[str, StrategyLike],
    parts: Mapping[str, Mapping[str, float]],
    chosen: str,
) -> str:
    n = profile.n_tables
    strat = strategies[chosen]
    table_work = n * profile.per_table_s
    lines = [
        f"{chosen} is predicted fastest at {_ms(parts[chosen]['total'])} for {n} tables.",
        f"Per-table work is {_ms(profile.per_table_s)} ({_ms(table_work)} in all); "
        f"loading and analysing the schema take {_ms(profile.load_s + profile.analyze_s)}.",
    ]
    per_task = profile.dispatch_s + profile.ship_s
    lines.append(
        f"A process-pool task costs {_ms(per_task)} to dispatch and ship the analysis "
        f"({_ms(profile.ship_s)} of pickling), against "
        f"{_ms(profile.per_table_s / _STAGES_PER_TABLE)} "
        f"of work per stage; the pool's one-off start-up is {_ms(profile.pool_startup_s)}; "
        f"{profile.free_cpus:.1f} of {profile.cpu_count} CPUs are free "
        f"(load {profile.load_avg:.2f})."
    )
    if profile.cache_warm:
        lines.append(
            f"The cache already holds this schema: a memory hit costs {_ms(profile.hit_s)} "
            f"per lookup (disk {_ms(profile.disk_hit_s)})."
        )
    else:
        lines.append(
            f"The cache is cold: storing an entry costs {_ms(profile.miss_s)} per lookup on top "
            "of the computation."
        )
    lines.append(
        "The output folder already holds the files, so unchanged files are only compared "
        f"({_ms(profile.compare_s)} per file)."
        if profile.output_present
        else "The output folder is empty, so every file is written "
        f"({_ms(profile.write_s)} per file)."
    )
    if strat.backend == "process":
        lines.append("The per-table work outweighs the pool's dispatch cost.")
    elif any(s.backend == "process" for s in strategies.values()):
        lines.append("At this size the pool's dispatch cost outweighs the per-table work.")
    return " ".join(lines)


# --- measuring ---------------------------------------------------------------------------------

# Pool probes: (backend, workers) -> (start-up s, per-task occupancy s). Measured once per
# process, because the engine's process pool is shared per process and stays alive.
_POOL_PROBES: dict[tuple[str, int], tuple[float, float]] = {}
_POOL_LOCK = threading.Lock()


def _trivial() -> int:
    return 0


def probe_pool(
    backend: str, workers: int, *, clock: Callable[[], float] = time.perf_counter
) -> tuple[float, float]:
    """Start-up and per-task occupancy of the engine's ``backend`` pool with ``workers``.

    Memoized per process and ``(backend, workers)``; see the module docstring.

    Returns
    -------
    tuple of float
        ``(startup_s, dispatch_s)``.
    """
    key = (backend, workers)
    with _POOL_LOCK:
        if key in _POOL_PROBES:
            return _POOL_PROBES[key]
        from rrperf.engine.parallel import ParallelExecutor
        from rrperf.engine.stages import Stage

        executor = ParallelExecutor(workers, backend=backend, enable_monitoring=False)
        try:
            start = clock()
            executor.execute_with_dependencies([Stage("probe", _trivial)])
            startup = clock() - start
            stages = [Stage(f"probe{i}", _trivial) for i in range(_PROBE_TASKS)]
            start = clock()
            executor.execute_with_dependencies(stages)
            dispatch = (clock() - start) * workers / _PROBE_TASKS
        finally:
            if backend == "thread":
                executor.shutdown()
        _POOL_PROBES[key] = (startup, dispatch)
        logger.debug(
            "%s pool x%d: start-up %.4f s, %.6f s per task", backend, workers, startup, dispatch
        )
        return startup, dispatch


def _usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _sample(names: tuple[str, ...], k: int) -> tuple[str, ...]:
    """Up to ``k`` evenly spaced names (deterministic)."""
    n = len(names)
    if n <= k:
        return names
    return tuple(names[(i * n) // k] for i in range(k))


def _timed(fn: Callable[[], Any], clock: Callable[[], float], repeats: int) -> tuple[float, Any]:
    best = math.inf
    value: Any = None
    for _ in range(repeats):
        start = clock()
        value = fn()
        best = min(best, clock() - start)
    return best, value


def _output_present(out_dir: str | os.PathLike[str] | None, paths: Iterable[str]) -> bool:
    if out_dir is None:
        return False
    base = Path(out_dir)
    return base.is_dir() and all((base / rel).is_file() for rel in paths)


def profile_workload(
    source: Any,
    *,
    cache: CacheOptimizer | None = None,
    cache_warm: bool | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    sample: int = _SAMPLE,
    repeats: int = _REPEATS,
    clock: Callable[[], float] = time.perf_counter,
) -> WorkloadProfile:
    """Measure ``source`` on this machine (see the module docstring for each field).

    Parameters
    ----------
    source : str, path-like or Schema
        Anything :func:`rrperf.schema.sources.load_schema` accepts.
    cache : CacheOptimizer or None
        The cache a run would use; with it, ``cache_warm`` is whether its schema category
        already holds this source (a real lookup that computes nothing on a miss).
    cache_warm : bool or None
        Overrides the cache check (the optimizer knows which sources its caches hold).
    out_dir : path-like or None
        The output folder a run would write; ``output_present`` is whether it holds every file.
    workers : int or None
        Pool size to probe; every usable CPU when None.
    sample : int
        Tables timed (evenly spaced, at least 1).
    repeats : int
        Timings per sampled step (the minimum is kept, at least 1).
    clock : callable
        Seconds (monotonic).

    Returns
    -------
    WorkloadProfile

    Raises
    ------
    ConfigError
        On a bad option.
    SchemaSourceError
        When the source cannot be loaded.
    """
    for name, value in (("sample", sample), ("repeats", repeats)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
    from rrperf.engine.cache import CacheConfig, CacheOptimizer, cache_key
    from rrperf.engine.monitor import MonitorConfig, PerformanceMonitor
    from rrperf.engine.parallel import ParallelExecutor
    from rrperf.engine.stages import Stage
    from rrperf.generator import analyze as an
    from rrperf.generator.render import render_index, render_table
    from rrperf.generator.writer import write_if_changed
    from rrperf.schema.sources import load_schema, source_fingerprint

    # repeated like the steps: the first call may include imports of the parser
    hash_s, fingerprint = _timed(lambda: source_fingerprint(source), clock, repeats)
    load_s, schema = _timed(lambda: load_schema(source), clock, repeats)
    with warnings.catch_warnings():
        # unmapped column types are reported by the real run; profiling stays quiet
        warnings.simplefilter("ignore", SchemaWarning)
        analyze_s, ctx = _timed(lambda: an.analyze_schema(schema), clock, repeats)
        chosen = _sample(ctx.selected, sample)
        steps: dict[str, Callable[[Any, str], Any]] = {
            "types": an.table_types,
            "relationships": an.table_relationships,
            "defaults": an.table_defaults,
            "polymorphic": an.table_polymorphic,
        }
        totals = dict.fromkeys(STEP_KINDS, 0.0)
        files: dict[str, str] = {}
        if chosen:  # compile the templates once, untimed (a running generator has them)
            first = chosen[0]
            render_table(ctx, first, *(steps[k](ctx, first) for k in STEP_KINDS[:-1]))
        for table in chosen:
            results = []
            for kind in STEP_KINDS[:-1]:
                seconds, value = _timed(functools.partial(steps[kind], ctx, table), clock, repeats)
                totals[kind] += seconds
                results.append(value)
            seconds, rendered = _timed(
                functools.partial(render_table, ctx, table, *results), clock, repeats
            )
            totals["render"] += seconds
            files.update(rendered)
        stage_s = {k: (v / len(chosen) if chosen else 0.0) for k, v in totals.items()}
        index_s, _ = _timed(lambda: render_index(ctx), clock, repeats)

    scratch = tempfile.mkdtemp(prefix="rrperf-profile-")
    try:
        write_s = compare_s = 0.0
        if files:
            start = clock()
            write_if_changed(os.path.join(scratch, "out"), files)
            write_s = (clock() - start) / len(files)
            start = clock()
            write_if_changed(os.path.join(scratch, "out"), files, dry_run=True)
            compare_s = (clock() - start) / len(files)
        hit_s, miss_s, disk_hit_s = _probe_cache(
            CacheOptimizer,
            CacheConfig,
            cache_key,
            os.path.join(scratch, "cache"),
            fingerprint,
            chosen[0] if chosen else "",
            files,
            clock,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    start = clock()
    pickle.loads(pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL))
    ship_s = clock() - start

    executor = ParallelExecutor(backend="serial", enable_monitoring=False)
    trivial = [Stage(f"t{i}", _trivial) for i in range(_PROBE_TASKS)]
    overhead_s, _ = _timed(lambda: executor.execute_with_dependencies(trivial), clock, repeats)
    overhead_s /= _PROBE_TASKS
    monitor = PerformanceMonitor(MonitorConfig())

    def _session() -> None:
        with monitor.session("probe"):
            pass

    monitor_s, _ = _timed(_session, clock, repeats)

    cpus = _usable_cpus()
    n_workers = workers if workers is not None else cpus
    pool_startup_s, dispatch_s = probe_pool("process", n_workers)
    _, thread_dispatch_s = probe_pool("thread", n_workers)

    warm = bool(cache_warm) if cache_warm is not None else _cache_holds(cache, source, fingerprint)
    try:
        load_avg = float(os.getloadavg()[0])
    except (AttributeError, OSError):  # not available on this platform
        load_avg = 0.0
    import psutil

    memory_mb = psutil.virtual_memory().available / 2**20
    profile = WorkloadProfile(
        n_tables=len(ctx.selected),
        source_fingerprint=fingerprint,
        hash_s=hash_s,
        load_s=load_s,
        analyze_s=analyze_s,
        stage_s=stage_s,
        index_s=index_s,
        write_s=write_s,
        compare_s=compare_s,
        ship_s=ship_s,
        overhead_s=overhead_s,
        monitor_s=monitor_s,
        hit_s=hit_s,
        miss_s=miss_s,
        disk_hit_s=disk_hit_s,
        pool_startup_s=pool_startup_s,
        dispatch_s=dispatch_s,
        thread_dispatch_s=thread_dispatch_s,
        cpu_count=cpus,
        load_avg=load_avg,
        memory_available_mb=memory_mb,
        cache_warm=warm,
        output_present=_output_present(out_dir, ctx.paths),
        sampled_tables=chosen,
    )
    logger.info(
        "profiled %s: %d tables, %.3f ms per table, pool start-up %.3f s",
        getattr(schema, "source", source),
        profile.n_tables,
        profile.per_table_s * 1e3,
        pool_startup_s,
    )
    return profile


def _probe_cache(
    optimizer_cls: Any,
    config_cls: Any,
    key_fn: Callable[..., str],
    directory: str,
    fingerprint: str,
    table: str,
    files: Mapping[str, str],
    clock: Callable[[], float],
) -> tuple[float, float, float]:
    """(memory hit, miss with store, disk hit) seconds of one rendered-table lookup."""
    value = {k: v for k, v in files.items() if table and table in k} or dict(files)
    key = key_fn("template_render", fingerprint, table)
    with optimizer_cls(config_cls(directory=directory)) as cache:
        # the first store opens the disk tier (a one-off of each cache); time the next one
        cache.get_or_compute_key("template_render", key_fn("template_render", "open"), dict)
        start = clock()
        cache.get_or_compute_key("template_render", key, lambda: value)
        miss_s = clock() - start
        start = clock()
        cache.get_or_compute_key("template_render", key, lambda: value)
        hit_s = clock() - start
    with optimizer_cls(config_cls(directory=directory)) as fresh:
        fresh.get_or_compute_key("template_render", key_fn("template_render", "open"), dict)
        start = clock()
        fresh.get_or_compute_key("template_render", key, lambda: value)
        disk_hit_s = clock() - start
    return hit_s, miss_s, disk_hit_s


def _cache_holds(cache: CacheOptimizer | None, source: Any, fingerprint: str) -> bool:
    """Whether ``cache`` holds entries of the schema and rendered-file categories."""
    if cache is None:
        return False
    stats = cache.stats()
    held = {t.category for t in stats.tiers if t.entries > 0}
    return {"schema_introspection", "template_render"} <= held
