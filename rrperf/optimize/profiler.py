"""Measure a schema source on this machine: a :class:`~rrperf.optimize.workload.WorkloadProfile`.

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
    Per file, in a scratch folder (each the minimum of ``repeats``, a fresh folder for each
    write): an atomic write of the sampled files; the unchanged-file
    check (read and compare) of :func:`~rrperf.generator.writer.write_if_changed`; one
    ``os.stat`` (how an output manifest knows a file is unchanged without reading it).
``ship_s``, ``return_s``
    A pickle round trip of the analysis context (what a process pool's batches receive, in
    slices, all together) and of one rendered table's files (what a batch sends back, per
    table).
``monitor_s``
    One :class:`~rrperf.engine.monitor.PerformanceMonitor` session (start + stop).
``hit_s``, ``miss_mem_s``, ``miss_s``, ``disk_hit_s``, ``schema_miss_s``
    A real :class:`~rrperf.engine.cache.CacheOptimizer` in a scratch folder, with a rendered
    table as the value: a memory hit, a store into a memory-only cache, a store with the disk
    tier (JSON + sqlite), a read from the disk tier, and storing the parsed schema on disk
    (each the minimum of ``repeats``).
``pool_startup_s``, ``dispatch_s``, ``thread_dispatch_s``
    The engine's pools through :class:`~rrperf.engine.parallel.ParallelExecutor`, started as
    the strategies' execution contexts start theirs (forked where possible): the first run
    of a trivial stage on the process pool (start-up + round trip), then the occupancy of one
    trivial task in the warm pool (``wall * workers / tasks`` for a batch of independent trivial
    stages); the same for threads. Measured once per process and worker count, then memoized.
``fork_s``
    What a run that forks its workers (:func:`~rrperf.engine.parallel.fork_map`, a process
    strategy whose pool is not running) pays for the fork itself: ``fork_map`` of trivial
    items on the workers, with the profiled source's schema and analysis in this process's
    heap (the minimum of ``repeats``; 0 where ``fork`` is not available).
``cpu_count``, ``load_avg``, ``memory_available_mb``
    Usable CPUs (affinity); the CPUs other processes kept busy while the profile was measured
    plus one for this process (:class:`OtherLoad`: the load average's meaning without this
    process's own past runs and pools in it, which the 1-minute load average, used where the
    CPU times cannot be read, keeps for a minute); available memory.
``cache_warm``, ``output_present``
    Whether the strategy's caches already hold this source, and whether the output folder
    already holds every file of the run.

"""

from __future__ import annotations

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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf._util import usable_cpus
from rrperf.errors import ConfigError, SchemaWarning
from rrperf.optimize.workload import STEP_KINDS, WorkloadProfile

if TYPE_CHECKING:
    from rrperf.engine.cache import CacheOptimizer

__all__ = ["OtherLoad", "probe_pool", "profile_workload"]

logger = logging.getLogger(__name__)

# Default size of the table sample and repetitions per sampled table.
_SAMPLE = 20
_REPEATS = 3
# Trivial tasks per batch when measuring a pool's dispatch cost.
_PROBE_TASKS = 16


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
        from rrperf.engine.parallel import ExecutorConfig, ParallelExecutor, fork_available
        from rrperf.engine.stages import Stage

        fork = backend == "process" and fork_available()
        executor = ParallelExecutor(config=ExecutorConfig(
            backend=backend, max_workers=workers, enable_monitoring=False,
            start_method="fork" if fork else "loky"))
        try:
            start = clock()
            executor.execute_with_dependencies([Stage("probe", _trivial)])
            startup = clock() - start
            stages = [Stage(f"probe{i}", _trivial) for i in range(_PROBE_TASKS)]
            start = clock()
            executor.execute_with_dependencies(stages)
            dispatch = (clock() - start) * workers / _PROBE_TASKS
        finally:
            if backend == "thread" or fork:  # loky's pool is shared and reused
                executor.shutdown()
        _POOL_PROBES[key] = (startup, dispatch)
        logger.debug(
            "%s pool x%d: start-up %.4f s, %.6f s per task", backend, workers, startup, dispatch
        )
        return startup, dispatch


def _cpu_snapshot() -> tuple[float, float, float] | None:
    """(wall s, busy CPU s of the usable CPUs, CPU s of this process and its reaped children),
    or None where the CPU times cannot be read."""
    try:
        import psutil

        per_cpu = psutil.cpu_times(percpu=True)
        try:
            usable = sorted(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            usable = list(range(len(per_cpu)))
        busy = 0.0
        for i in usable:
            t = per_cpu[i]
            # guest time is already counted in user and nice; steal is another VM's
            busy += t.user + t.nice + t.system + sum(
                getattr(t, f, 0.0) for f in ("irq", "softirq", "steal"))
    except (ImportError, OSError, IndexError):
        return None
    own = os.times()
    return (time.monotonic(), busy,
            own.user + own.system + own.children_user + own.children_system)


class OtherLoad:
    """The CPUs other processes keep busy while a ``with`` block runs.

    The usable CPUs' busy time (``psutil.cpu_times``) minus this process's CPU time and its
    children's (those reaped by the end of the block: a pool shut down in it counts as ours),
    over the wall time; :attr:`load_avg` is that plus one for this process, the quantity
    :attr:`rrperf.optimize.workload.WorkloadProfile.free_cpus` reads.

    Examples
    --------
    >>> with OtherLoad() as other:
    ...     pass
    >>> other.load_avg is None or other.load_avg >= 1.0
    True
    """

    def __init__(self) -> None:
        self._start: tuple[float, float, float] | None = None
        self.load_avg: float | None = None

    def __enter__(self) -> OtherLoad:
        self._start = _cpu_snapshot()
        return self

    def __exit__(self, *exc_info: object) -> None:
        end = _cpu_snapshot()
        if self._start is None or end is None or end[0] - self._start[0] <= 0.05:
            return  # too short to tell: None
        wall = end[0] - self._start[0]
        others = ((end[1] - self._start[1]) - (end[2] - self._start[2])) / wall
        self.load_avg = 1.0 + min(float(usable_cpus()), max(0.0, others))


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
        Seconds (monotonic). With the default, the computing steps (the templates'
        fingerprint, analysis, the per-table steps, hashing, keys, ``index.ts``, the pickle
        round trips) are timed in this thread's CPU time (:func:`time.thread_time`), so that
        other processes' share of the CPUs does not inflate them; reading the source (a file
        or a database) and file and cache operations in wall time. Another clock times
        everything.

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
    from rrperf.engine.monitor import MonitorConfig, PerformanceMonitor
    from rrperf.generator import analyze as an
    from rrperf.generator import cached
    from rrperf.generator.render import render_index, render_table
    from rrperf.generator.writer import write_if_changed
    from rrperf.schema.sources import load_schema, source_fingerprint

    other = OtherLoad().__enter__()
    # computing steps in this thread's CPU time (other processes' share of the CPUs does not
    # inflate them); reading the source (a file, a database), file and cache operations in
    # wall time
    cpu = time.thread_time if clock is time.perf_counter else clock
    # repeated like the steps: the first call may include imports of the parser
    hash_s, fingerprint = _timed(lambda: source_fingerprint(source), clock, repeats)
    templates_s, _ = _timed(cached.templates_fingerprint, cpu, repeats)
    load_s, schema = _timed(lambda: load_schema(source), clock, repeats)
    with warnings.catch_warnings():
        # unmapped column types are reported by the real run; profiling stays quiet
        warnings.simplefilter("ignore", SchemaWarning)
        analyze_s, ctx = _timed(lambda: an.analyze_schema(schema), cpu, repeats)
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
                seconds, result = _timed(functools.partial(steps[kind], ctx, table), cpu, repeats)
                totals[kind] += seconds
                results.append(result)
            seconds, rendered = _timed(
                functools.partial(render_table, ctx, table, *results), cpu, repeats
            )
            totals["render"] += seconds
            seconds, shas = _timed(functools.partial(_sha_all, rendered.values()), cpu, repeats)
            totals["sha"] += seconds
            seconds, _ = _timed(  # a new packer each time: no columns shared from the last
                functools.partial(_keys_once, ctx, table, base), cpu, repeats
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
        index_s, _ = _timed(lambda: render_index(ctx), cpu, repeats)

    scratch = tempfile.mkdtemp(prefix="rrperf-profile-")
    try:
        write_s = compare_s = stat_s = 0.0
        if files:  # the minimum of `repeats` (a fresh folder for each write)
            outs = iter(os.path.join(scratch, f"out{i}") for i in range(repeats))
            write_s = _timed(lambda: write_if_changed(next(outs), files), clock, repeats)[0]
            out = os.path.join(scratch, "out0")
            compare_s = _timed(lambda: write_if_changed(out, files, dry_run=True), clock,
                               repeats)[0]
            targets = [os.path.join(out, rel) for rel in files]
            stat_s = _timed(lambda: [os.stat(t) for t in targets], clock, repeats)[0]
            write_s, compare_s, stat_s = (x / len(files) for x in (write_s, compare_s, stat_s))
        probe = _probe_cache(os.path.join(scratch, "cache"), cached_value, schema, clock,
                             repeats)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def _round_trip(value: Any) -> Any:
        return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    ship_s, _ = _timed(lambda: _round_trip(ctx), cpu, repeats)
    return_s, _ = _timed(lambda: _round_trip(cached_value), cpu, repeats)
    monitor = PerformanceMonitor(MonitorConfig())

    def _session() -> None:
        with monitor.session("probe"):
            pass

    monitor_s, _ = _timed(_session, clock, repeats)

    cpus = usable_cpus()
    n_workers = workers if workers is not None else cpus
    pool_startup_s, dispatch_s = probe_pool("process", n_workers)
    _, thread_dispatch_s = probe_pool("thread", n_workers)
    from rrperf.engine.parallel import fork_available, fork_map

    fork_s = (_timed(lambda: fork_map(int, 2 * n_workers, n_workers), clock, repeats)[0]
              if fork_available() and n_workers > 1 else 0.0)

    warm = bool(cache_warm) if cache_warm is not None else _cache_holds(cache, source, fingerprint)
    other.__exit__(None, None, None)
    if other.load_avg is not None:
        load_avg = other.load_avg
    else:
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
        return_s=return_s,
        monitor_s=monitor_s,
        pool_startup_s=pool_startup_s,
        fork_s=fork_s,
        dispatch_s=dispatch_s,
        thread_dispatch_s=thread_dispatch_s,
        cpu_count=cpus,
        load_avg=load_avg,
        memory_available_mb=memory_mb,
        cache_warm=warm,
        output_present=_output_present(out_dir, ctx.paths),
        sampled_tables=chosen,
        hit_s=probe["hit_s"],
        miss_mem_s=probe["miss_mem_s"],
        miss_s=probe["miss_s"],
        disk_hit_s=probe["disk_hit_s"],
        schema_miss_s=probe["schema_miss_s"],
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
    directory: str, value: Any, schema: Any, clock: Callable[[], float], repeats: int
) -> dict[str, float]:
    """Seconds of real cache operations on one rendered table (and the schema), each the
    minimum of ``repeats``."""
    from rrperf.engine.cache import CacheConfig, CacheOptimizer, cache_key
    from rrperf.schema.model import Schema

    def store(cache: Any, category: str, key: str, compute: Any, **kws: Any) -> float:
        return _timed(lambda: cache.get_or_compute_key(category, key, compute,
                                                       force_refresh=True, **kws),
                      clock, repeats)[0]

    def hit(cache: Any, key: str) -> float:
        return _timed(lambda: cache.get_or_compute_key("template_render", key, list), clock,
                      repeats)[0]

    key = cache_key("template_render", "probe")
    opened = cache_key("template_render", "open")
    with CacheOptimizer(CacheConfig(directory=directory)) as cache:
        # the first store opens the disk tier (a one-off of each cache); time the next ones
        cache.get_or_compute_key("template_render", opened, list)
        miss_s = store(cache, "template_render", key, lambda: value)
        hit_s = hit(cache, key)
        schema_miss_s = store(cache, "schema_introspection",
                              cache_key("schema_introspection", "probe"), lambda: schema,
                              encode=Schema.to_dict)
    with CacheOptimizer(CacheConfig(directory=directory, disk_categories=())) as memory_only:
        miss_mem_s = store(memory_only, "template_render", key, lambda: value)
    with CacheOptimizer(CacheConfig(directory=directory, memory_size=0)) as fresh:
        fresh.get_or_compute_key("template_render", opened, list)
        disk_hit_s = hit(fresh, key)  # no memory tier: every lookup reads the disk
    return {"hit_s": hit_s, "miss_mem_s": miss_mem_s, "miss_s": miss_s,
            "disk_hit_s": disk_hit_s, "schema_miss_s": schema_miss_s}


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
