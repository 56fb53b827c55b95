"""Workload profiles and the cost model that turns one into a strategy recommendation.

:func:`profile_workload` *measures* a schema source on this machine; :func:`predict` and
:func:`recommend` are pure functions of the resulting :class:`WorkloadProfile`, so a
recommendation is reproducible from a profile (tests build profiles by hand).

What is measured (every number of the model comes from one of these fields)
---------------------------------------------------------------------------
``hash_s``, ``templates_s``
    :func:`~rrperf.schema.sources.source_fingerprint` of the source and the templates'
    fingerprint (every strategy run computes both for its cache keys).
``load_s``, ``analyze_s``, ``keys_s``
    :func:`~rrperf.schema.sources.load_schema`, :func:`~rrperf.generator.analyze.analyze_schema`
    and, per table, the content keys the strategy-driven generator derives from the analysis.
``stage_s``, ``sha_s``
    Per-table seconds of each step (``types``, ``relationships``, ``defaults``,
    ``polymorphic``, ``render``) and of hashing a table's three files: the mean over a
    deterministic sample of up to ``sample`` evenly spaced tables, each timed ``repeats`` times
    in this process (the minimum is kept: the deterministic cost, without the noise of other
    processes). Nothing is written to the output folder.
``index_s``
    Rendering ``index.ts``.
``write_s``, ``compare_s``, ``stat_s``
    Per file, in a scratch folder: an atomic write of the sampled files; the unchanged-file
    check (read and compare) of :func:`~rrperf.generator.writer.write_if_changed`; one
    ``os.stat`` (how an output manifest knows a file is unchanged without reading it).
``ship_s``
    A pickle round trip of the analysis context (the most a process-pool batch receives).
``monitor_s``
    One :class:`~rrperf.engine.monitor.PerformanceMonitor` session (start + stop).
``hit_s``, ``miss_mem_s``, ``miss_s``, ``disk_hit_s``, ``schema_miss_s``
    A real :class:`~rrperf.engine.cache.CacheOptimizer` in a scratch folder, with a rendered
    table as the value: a memory hit, a store into a memory-only cache, a store with the disk
    tier (JSON + sqlite), a read from the disk tier, and storing the parsed schema on disk.
``pool_startup_s``, ``dispatch_s``, ``thread_dispatch_s``
    The engine's pools through :class:`~rrperf.engine.parallel.ParallelExecutor`: the first run
    of a trivial stage on the process pool (start-up + round trip), then the occupancy of one
    trivial task in the warm pool (``wall * workers / tasks`` for a batch of independent trivial
    stages); the same for threads. Measured once per process and worker count, then memoized.
``cpu_count``, ``load_avg``, ``memory_available_mb``
    Usable CPUs (affinity), the 1-minute load average and available memory.
``cache_warm``, ``output_present``
    Whether the strategy's caches already hold this source, and whether the output folder
    already holds every file of the run.

The model (seconds of one steady-state run, what a benchmark's median measures)
-------------------------------------------------------------------------------
It follows the strategy-driven generator (:mod:`rrperf.generator.cached`) step by step, for a
strategy whose caches cover the categories ``C``, with ``n`` tables and ``F = 3n + 1`` files::

    head   = hash_s + templates_s
             + schema:   hit_s (warm, cached) | load_s + store (cold, cached) | load_s
             + analysis: 0 (warm: memoized) | analyze_s + n * keys_s (template_render in C)
                         | analyze_s
    tables = n * hit_s                      (template_render lookups, when in C)
             + misses * (per_table_s + sha_s + stores)
                                            (misses: n, or 0 when warm and rendering cached;
                                             stores: one per cached category among
                                             template_render, type_mapping, relationships;
                                             with a disk tier disk_hit_s + miss_s, else
                                             miss_mem_s)
    write  = index_s + F * (stat_s if warm and rendering cached | compare_s if warm
                            | write_s (+ stat_s to record the manifest) if cold)
             (+ write_s for the manifest file with a disk tier for template_render, cold)
    total  = head + tables + write + (monitor_s if the strategy monitors)

With a pool (backend thread or process, and a non-empty plan of the generator's own
:func:`rrperf.generator.cached.plan_batches` for the misses, the pool running) the misses are
rendered *and written* by that plan's batches on the pool::

    tables = n * hit_s + misses * (per_table_s + sha_s + 3 * write_s) / p + misses * stores
    pool   = batches * (dispatch_s + ship_s) / p        (process; threads: thread_dispatch_s)

where ``p = min(workers, free_cpus)`` for processes and 1 for threads (pure-Python rendering
holds the GIL), and ``free_cpus = clip(cpu_count - load_avg + 1, 1, cpu_count)`` is what other
processes leave us (the load average counts this process once). A pool of one worker runs in
the calling thread, as the engine does. Process-pool start-up is paid once per process (a
benchmark's warm-up round pays it) and is reported in the rationale, not in the steady-state
prediction. The type-mapping and relationship stores are costed like a rendered table's (an
upper bound: their values are smaller).

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

from rrperf._util import is_number, usable_cpus
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

# Files per table (types, model, reactive model).
_FILES_PER_TABLE = 3

# Default size of the table sample and repetitions per sampled table.
_SAMPLE = 20
_REPEATS = 3
# Trivial tasks per batch when measuring a pool's dispatch cost.
_PROBE_TASKS = 16


class StrategyLike(Protocol):
    """What the model reads of a strategy (:class:`rrperf.engine.strategies.Strategy`)."""

    @property
    def name(self) -> str: ...
    @property
    def backend(self) -> str: ...
    @property
    def cache_memory(self) -> frozenset[str]: ...
    @property
    def cache_disk(self) -> frozenset[str]: ...
    @property
    def monitoring(self) -> bool: ...
    @property
    def batch_size(self) -> int | None: ...
    def resolved_workers(self) -> int: ...


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
    templates_s: float
    load_s: float
    analyze_s: float
    keys_s: float
    stage_s: Mapping[str, float]
    sha_s: float
    index_s: float
    write_s: float
    compare_s: float
    stat_s: float
    ship_s: float
    monitor_s: float
    hit_s: float
    miss_mem_s: float
    miss_s: float
    disk_hit_s: float
    schema_miss_s: float
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
                if not is_number(value) or not value >= 0 or math.isinf(value):
                    raise ConfigError(
                        f"{f.name} must be a finite number of seconds >= 0, got {value!r}"
                    )
        for name in ("load_avg", "memory_available_mb"):
            value = getattr(self, name)
            if not is_number(value) or not value >= 0:
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
        if not isinstance(self.stage_s, Mapping) or set(self.stage_s) != set(STEP_KINDS):
            got = sorted(self.stage_s) if isinstance(self.stage_s, Mapping) else self.stage_s
            raise ConfigError(
                f"stage_s must map exactly {', '.join(STEP_KINDS)} to seconds, got {got!r}"
            )
        for kind, value in self.stage_s.items():
            if not is_number(value) or not value >= 0:
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

def _store_s(profile: WorkloadProfile, strategy: StrategyLike, category: str) -> float:
    """A miss of ``category``: the failed lookups and the store, per the tiers it has."""
    if category in strategy.cache_disk:
        return profile.disk_hit_s + profile.miss_s
    return profile.miss_mem_s


def pool_batches(strategy: StrategyLike, workers: int, misses: int) -> int:
    """Batches the generator sends to the pool for ``misses`` tables (0: it renders them in
    its own thread): its own plan, :func:`rrperf.generator.cached.plan_batches`, for a pool
    that is running (the profile's runs reuse their pool)."""
    if strategy.backend == "serial":
        return 0
    from rrperf.generator.cached import plan_batches

    return len(plan_batches(misses, workers, strategy.batch_size, pool_started=True))


def predict_parts(profile: WorkloadProfile, strategy: StrategyLike) -> dict[str, float]:
    """The model's terms for one strategy (seconds); their meaning is in the module docstring.

    Returns
    -------
    dict
        ``head, tables, write, monitor, pool, total``: ``total`` is :func:`predict`.

    Raises
    ------
    ConfigError
        On an unknown backend.
    """
    backend = strategy.backend
    if backend not in ("serial", "thread", "process"):
        raise ConfigError(f"strategy {strategy.name!r}: unknown backend {backend!r}")
    workers = 1 if backend == "serial" else max(1, int(strategy.resolved_workers()))
    cats = strategy.cache_memory | strategy.cache_disk
    render_cached = "template_render" in cats
    warm = profile.cache_warm
    n = profile.n_tables

    # head: fingerprint, schema (cached or loaded), template fingerprint, analysis
    head = profile.hash_s + profile.templates_s
    if "schema_introspection" in cats:
        if warm:
            head += profile.hit_s
        elif "schema_introspection" in strategy.cache_disk:
            head += profile.load_s + profile.disk_hit_s + profile.schema_miss_s
        else:
            head += profile.load_s + profile.miss_mem_s
    else:
        head += profile.load_s
    if render_cached:
        head += 0.0 if warm else profile.analyze_s + n * profile.keys_s
    else:
        head += profile.analyze_s

    # tables: render lookups; the misses are computed (here or on a pool) and stored
    misses = 0 if (render_cached and warm) else n
    lookups = n * profile.hit_s if render_cached else 0.0
    compute = profile.per_table_s + profile.sha_s
    stores = 0.0
    if render_cached:
        stores += _store_s(profile, strategy, "template_render")
    pool = 0.0
    files_here = profile.n_files
    n_batches = pool_batches(strategy, workers, misses)
    if n_batches:
        parallel = min(float(workers), profile.free_cpus) if backend == "process" else 1.0
        per_task = (
            profile.dispatch_s + profile.ship_s
            if backend == "process"
            else profile.thread_dispatch_s
        )
        # workers render and write their tables' files; type/relationship caches are bypassed
        work = misses * (compute + _FILES_PER_TABLE * profile.write_s)
        pool = n_batches * per_task / parallel
        tables = lookups + work / parallel + misses * stores
        files_here = 1
    else:
        for category in ("type_mapping", "relationships"):
            if category in cats:
                stores += _store_s(profile, strategy, category)
        tables = lookups + misses * (compute + stores)

    # write: index.ts always; files written (cold), or known unchanged (warm)
    if profile.output_present:
        per_file = profile.stat_s if render_cached else profile.compare_s
    else:
        per_file = profile.write_s + (profile.stat_s if render_cached else 0.0)
    write = profile.index_s + files_here * per_file
    if render_cached and not warm and "template_render" in strategy.cache_disk:
        write += profile.write_s  # the manifest file
    monitor = profile.monitor_s if strategy.monitoring else 0.0
    total = head + tables + write + monitor + pool
    return {
        "head": head,
        "tables": tables,
        "write": write,
        "monitor": monitor,
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
    profile: WorkloadProfile,
    strategies: Mapping[str, StrategyLike] | None = None,
    *,
    warm: Iterable[str] | None = None,
) -> Recommendation:
    """Recommend the strategy with the lowest predicted time (see the module docstring).

    Parameters
    ----------
    profile : WorkloadProfile
    strategies : mapping of str to Strategy or None
        The candidates, in preference order for ties; the engine's registry when None.
    warm : iterable of str or None
        Names of the strategies whose caches hold this source (each strategy has its own);
        None applies ``profile.cache_warm`` to every strategy.

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
    held = None if warm is None else frozenset(warm)
    parts = {
        name: predict_parts(
            profile if held is None else dataclasses.replace(profile, cache_warm=name in held), s
        )
        for name, s in strategies.items()
    }
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
        f"A process-pool batch costs {_ms(per_task)} to dispatch and ship "
        f"({_ms(profile.ship_s)} of pickling) and the pool's one-off start-up is "
        f"{_ms(profile.pool_startup_s)}; {profile.free_cpus:.1f} of {profile.cpu_count} CPUs "
        f"are free (load {profile.load_avg:.2f})."
    )
    if profile.cache_warm:
        lines.append(
            f"The cache already holds this schema: a memory hit costs {_ms(profile.hit_s)} "
            f"per lookup (disk {_ms(profile.disk_hit_s)})."
        )
    else:
        lines.append(
            f"The cache is cold: storing an entry costs {_ms(profile.miss_mem_s)} in memory and "
            f"{_ms(profile.miss_s)} with the disk tier, on top of the computation."
        )
    lines.append(
        "The output folder already holds the files: a manifest knows them unchanged from a "
        f"stat ({_ms(profile.stat_s)} per file), without one they are read and compared "
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
    from rrperf.generator import analyze as an
    from rrperf.generator import cached
    from rrperf.generator.render import render_index, render_table
    from rrperf.generator.writer import write_if_changed
    from rrperf.schema.model import Schema
    from rrperf.schema.sources import load_schema, source_fingerprint

    # repeated like the steps: the first call may include imports of the parser
    hash_s, fingerprint = _timed(lambda: source_fingerprint(source), clock, repeats)
    templates_s, _ = _timed(cached.templates_fingerprint, clock, repeats)
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
        totals = dict.fromkeys((*STEP_KINDS, "sha", "keys"), 0.0)
        files: dict[str, str] = {}
        cached_value: list[list[str]] = []  # a rendered table as the generator caches it
        base = cached.key_base()
        if chosen:  # compile the templates once, untimed (a running generator has them)
            first = chosen[0]
            render_table(ctx, first, *(steps[k](ctx, first) for k in STEP_KINDS[:-1]))
        for table in chosen:
            results = []
            for kind in STEP_KINDS[:-1]:
                seconds, result = _timed(functools.partial(steps[kind], ctx, table), clock, repeats)
                totals[kind] += seconds
                results.append(result)
            seconds, rendered = _timed(
                functools.partial(render_table, ctx, table, *results), clock, repeats
            )
            totals["render"] += seconds
            seconds, shas = _timed(functools.partial(_sha_all, rendered.values()), clock, repeats)
            totals["sha"] += seconds
            seconds, _ = _timed(  # a new packer each time: no columns shared from the last
                functools.partial(_keys_once, ctx, table, base), clock, repeats
            )
            totals["keys"] += seconds
            files.update(rendered)
            if not cached_value:
                cached_value = [
                    [rel, text, sha]
                    for (rel, text), sha in zip(rendered.items(), shas, strict=True)
                ]
        k = len(chosen) or 1
        stage_s = {kind: totals[kind] / k for kind in STEP_KINDS}
        sha_s, keys_s = totals["sha"] / k, totals["keys"] / k
        index_s, _ = _timed(lambda: render_index(ctx), clock, repeats)

    scratch = tempfile.mkdtemp(prefix="rrperf-profile-")
    try:
        write_s = compare_s = stat_s = 0.0
        out = os.path.join(scratch, "out")
        if files:
            start = clock()
            write_if_changed(out, files)
            write_s = (clock() - start) / len(files)
            start = clock()
            write_if_changed(out, files, dry_run=True)
            compare_s = (clock() - start) / len(files)
            targets = [os.path.join(out, rel) for rel in files]
            start = clock()
            for target in targets:
                os.stat(target)
            stat_s = (clock() - start) / len(targets)
        probe = _probe_cache(
            CacheOptimizer,
            CacheConfig,
            cache_key,
            os.path.join(scratch, "cache"),
            cached_value,
            schema,
            Schema,
            clock,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    start = clock()
    pickle.loads(pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL))
    ship_s = clock() - start
    monitor = PerformanceMonitor(MonitorConfig())

    def _session() -> None:
        with monitor.session("probe"):
            pass

    monitor_s, _ = _timed(_session, clock, repeats)

    cpus = usable_cpus()
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
        templates_s=templates_s,
        load_s=load_s,
        analyze_s=analyze_s,
        keys_s=keys_s,
        stage_s=stage_s,
        sha_s=sha_s,
        index_s=index_s,
        write_s=write_s,
        compare_s=compare_s,
        stat_s=stat_s,
        ship_s=ship_s,
        monitor_s=monitor_s,
        pool_startup_s=pool_startup_s,
        dispatch_s=dispatch_s,
        thread_dispatch_s=thread_dispatch_s,
        cpu_count=cpus,
        load_avg=load_avg,
        memory_available_mb=memory_mb,
        cache_warm=warm,
        output_present=_output_present(out_dir, ctx.paths),
        sampled_tables=chosen,
        **probe,
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
    value: Any,
    schema: Any,
    schema_cls: Any,
    clock: Callable[[], float],
) -> dict[str, float]:
    """Seconds of real cache operations on one rendered table (and the schema)."""

    def timed_store(cache: Any, category: str, key: str, **kws: Any) -> float:
        start = clock()
        cache.get_or_compute_key(category, key, lambda: value, force_refresh=True, **kws)
        return clock() - start

    key = key_fn("template_render", "probe")
    opened = key_fn("template_render", "open")
    with optimizer_cls(config_cls(directory=directory)) as cache:
        # the first store opens the disk tier (a one-off of each cache); time the next ones
        cache.get_or_compute_key("template_render", opened, list)
        miss_s = timed_store(cache, "template_render", key)
        start = clock()
        cache.get_or_compute_key("template_render", key, list)
        hit_s = clock() - start
        start = clock()
        cache.get_or_compute_key(
            "schema_introspection",
            key_fn("schema_introspection", "probe"),
            lambda: schema,
            force_refresh=True,
            encode=schema_cls.to_dict,
        )
        schema_miss_s = clock() - start
    with optimizer_cls(config_cls(directory=directory, disk_categories=())) as memory_only:
        miss_mem_s = timed_store(memory_only, "template_render", key)
    with optimizer_cls(config_cls(directory=directory, memory_size=0)) as fresh:
        fresh.get_or_compute_key("template_render", opened, list)
        start = clock()
        fresh.get_or_compute_key("template_render", key, list)
        disk_hit_s = clock() - start
    return {
        "hit_s": hit_s,
        "miss_mem_s": miss_mem_s,
        "miss_s": miss_s,
        "disk_hit_s": disk_hit_s,
        "schema_miss_s": schema_miss_s,
    }


def _keys_once(ctx: Any, table: str, base: str) -> Any:
    """The generator's per-table packing and content keys (the cost to measure), with a new
    packer each time so that no column is shared from the last call."""
    from rrperf.generator.cached import table_keys

    return table_keys(ctx, table, base)


def _sha_all(texts: Iterable[str]) -> list[str]:
    import hashlib

    return [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]


def _cache_holds(cache: CacheOptimizer | None, source: Any, fingerprint: str) -> bool:
    """Whether ``cache`` holds entries of the schema and rendered-file categories."""
    if cache is None:
        return False
    stats = cache.stats()
    held = {t.category for t in stats.tiers if t.entries > 0}
    return {"schema_introspection", "template_render"} <= held
