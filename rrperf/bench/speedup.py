"""Parallel speedup, measured: a stage graph per execution method, the generator per strategy.

Both routines run their variants interleaved (each round runs every variant, in a rotated
order, so that machine noise spreads evenly) after ``warmup`` unmeasured rounds, and return one
row per measured run, columns :data:`SPEEDUP_COLUMNS`: ``speedup`` is the baseline's wall time
in the same round over this run's, ``efficiency`` is speedup / workers. Amdahl's serial
fraction is fitted over the rows by :func:`rrperf.bench.stats.fit_amdahl`.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf._util import is_int
from rrperf.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.engine.parallel import ExecutorConfig
    from rrperf.engine.stages import Pipeline, Stage

__all__ = ["COMPARISON_METHODS", "SPEEDUP_COLUMNS", "compare_execution_methods",
           "compare_strategies"]

#: The methods :func:`compare_execution_methods` knows; ``"sequential"`` is the baseline.
COMPARISON_METHODS: tuple[str, ...] = ("sequential", "thread", "process")
#: Columns of what both routines return, in order (one row per measured run).
SPEEDUP_COLUMNS: tuple[str, ...] = (
    "method", "workers", "repeat", "wall_s", "speedup", "efficiency", "fallback_reason",
)


def _counts(repeats: Any, warmup: Any) -> None:
    for name, value, least in (("repeats", repeats, 1), ("warmup", warmup, 0)):
        if not (is_int(value) and value >= least):
            raise ConfigError(f"{name} must be an integer >= {least}, got {value!r}")


def _interleaved(
    order: Sequence[str],
    run_once: Callable[[str], tuple[float, str | None]],
    workers: dict[str, int],
    repeats: int,
    warmup: int,
) -> pd.DataFrame:
    """Run ``run_once(name) -> (wall_s, fallback_reason)`` in rotated rounds; one row per
    measured run, speedups over ``order[0]`` in the same round."""
    import pandas as pd

    runs: dict[str, list[tuple[float, str | None]]] = {name: [] for name in order}
    for round_ in range(warmup + repeats):
        shift = round_ % len(order)
        for name in [*order[shift:], *order[:shift]]:
            measured = run_once(name)
            if round_ >= warmup:
                runs[name].append(measured)
    rows = []
    for name in order:
        n = workers[name]
        for i, ((wall, reason), (base, _)) in enumerate(
            zip(runs[name], runs[order[0]], strict=True)
        ):
            speedup = base / wall if wall > 0 else float("nan")
            rows.append((name, n, i, wall, speedup, speedup / n, reason))
    return pd.DataFrame(rows, columns=list(SPEEDUP_COLUMNS))


def compare_execution_methods(
    stages: Iterable[Stage] | Pipeline,
    *,
    config: ExecutorConfig | None = None,
    methods: Sequence[str] = COMPARISON_METHODS,
    repeats: int = 3,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> pd.DataFrame:
    """Run any stage graph with a fresh executor per method and compare wall times (the
    generator's own speedup is :func:`compare_strategies`). The warm-up rounds start the
    process pool (loky's shared one, left running for later calls).

    Parameters
    ----------
    stages : iterable of Stage, or Pipeline
        The graph to run.
    config : ExecutorConfig or None
        Workers, stage timeout, fallback and start method of every executor (its backend and
        monitoring are replaced per method); None: the defaults.
    methods : sequence of {"sequential", "thread", "process"}
        Which methods to compare; ``"sequential"`` is the baseline and always included.
    repeats : int
        Measured runs per method.
    warmup : int
        Unmeasured rounds before measuring.
    clock : callable
        Returns seconds; the executors time their runs with it.

    Returns
    -------
    pandas.DataFrame
        One row per measured run, columns :data:`SPEEDUP_COLUMNS` (``workers`` is 1 for
        ``sequential``, the resolved pool size otherwise).

    Raises
    ------
    ConfigError
        On a bad method name or count.
    StageError
        When a stage fails under any method.
    """
    from rrperf.engine.parallel import ExecutorConfig, ParallelExecutor, _as_pipeline

    pipeline = _as_pipeline(stages)
    _counts(repeats, warmup)
    unknown = [m for m in methods if m not in COMPARISON_METHODS]
    if unknown:
        raise ConfigError(
            f"unknown method(s) {', '.join(map(repr, unknown))}; "
            f"expected some of {', '.join(COMPARISON_METHODS)}"
        )
    order = ["sequential", *[m for m in dict.fromkeys(methods) if m != "sequential"]]
    base = ExecutorConfig() if config is None else config
    executors = {
        m: ParallelExecutor(
            config=dataclasses.replace(
                base, backend="serial" if m == "sequential" else m, enable_monitoring=False
            ),
            clock=clock,
        )
        for m in order
    }

    def run_once(method: str) -> tuple[float, str | None]:
        ex = executors[method]
        ex.run(pipeline)
        assert ex.last_wall_s is not None
        return ex.last_wall_s, ex.fallback_reason

    try:
        workers = {m: ex.max_workers for m, ex in executors.items()}
        return _interleaved(order, run_once, workers, repeats, warmup)
    finally:
        for m in ("sequential", "thread"):
            if m in executors:
                executors[m].shutdown()


def compare_strategies(
    source: Any,
    *,
    strategies: Sequence[str] = ("sequential", "parallel"),
    workers: int | None = None,
    repeats: int = 3,
    warmup: int = 1,
) -> pd.DataFrame:
    """Time :func:`~rrperf.generator.api.generate` under each strategy's context on the same
    tables, cold (caches, manifest and output folder emptied before every run, each context's
    process pool started once before measuring): the speedup as users run the strategies.

    Parameters
    ----------
    source : Schema, str or path
        What :func:`~rrperf.generator.api.generate` accepts; loaded once, so every run
        generates the same tables.
    strategies : sequence of str
        Strategy names; the first is the baseline (``speedup`` 1).
    workers : int or None
        Workers of the strategies with a pool (None: each strategy's own count).
    repeats : int
        Measured runs per strategy.
    warmup : int
        Unmeasured rounds first (they compile templates and warm the file system).

    Returns
    -------
    pandas.DataFrame
        One row per measured run, columns :data:`SPEEDUP_COLUMNS` (``method`` is the
        strategy; ``workers`` is what its executor resolved, 1 for a serial one).

    Raises
    ------
    ConfigError
        For an unknown strategy, an empty list or a bad count.
    """
    from rrperf.engine.strategies import get_strategy
    from rrperf.generator.api import generate
    from rrperf.generator.cached import _warm_worker
    from rrperf.schema.model import Schema
    from rrperf.schema.sources import load_schema

    _counts(repeats, warmup)
    if workers is not None and not (is_int(workers) and workers > 0):
        raise ConfigError(f"workers must be a positive integer or None, got {workers!r}")
    if isinstance(strategies, str) or not strategies:
        raise ConfigError(f"strategies: expected a list of strategy names, got {strategies!r}")
    order = list(dict.fromkeys(strategies))
    chosen = {}
    for name in order:
        strategy = get_strategy(name)
        if workers is not None and strategy.backend != "serial":
            strategy = dataclasses.replace(strategy, workers=workers)
        chosen[name] = strategy
    schema = source if isinstance(source, Schema) else load_schema(source)
    with tempfile.TemporaryDirectory(prefix="rrperf-speedup-") as tmp:
        contexts = {
            name: chosen[name].make_context(cache_dir=Path(tmp) / "cache" / name)
            for name in order
        }

        def run_once(name: str) -> tuple[float, str | None]:
            ctx = contexts[name]
            out = os.path.join(tmp, "out", name)
            shutil.rmtree(out, ignore_errors=True)
            ctx.clear()  # cold: no cached analysis, renders or manifest
            wall = generate(schema, out, context=ctx).wall_s
            return wall, ctx.executor.fallback_reason

        try:
            for ctx in contexts.values():
                if ctx.executor.backend == "process":
                    ctx.executor.start_pool(_warm_worker)
            n = {name: ctx.executor.max_workers for name, ctx in contexts.items()}
            return _interleaved(order, run_once, n, repeats, warmup)
        finally:
            for ctx in contexts.values():
                ctx.close()
