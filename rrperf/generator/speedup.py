"""Parallel speedup of the staged generator, measured on the path the strategies run.

:func:`compare_strategies` runs :func:`rrperf.generator.api.generate` with each strategy's
:class:`~rrperf.engine.strategies.ExecutionContext` on the same tables, cold (caches, output
manifest and output folder emptied before every run), with the process pool of each context
started once before measuring, interleaved, and returns the frame of
:meth:`~rrperf.engine.parallel.ParallelExecutor.compare_execution_methods` (``method`` is the
strategy's name), so that the report's "parallel speedup" is the speedup of ``parallel``
over ``sequential`` as users run them, not of a graph the strategies do not run.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["compare_strategies"]


def compare_strategies(
    source: Any,
    *,
    strategies: Sequence[str] = ("sequential", "parallel"),
    workers: int | None = None,
    repeats: int = 3,
    warmup: int = 1,
) -> pd.DataFrame:
    """Time cold runs of the generator under each strategy; speedups over the first.

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
        Measured runs per strategy; ``wall_s`` is their median (``wall_s`` of the result).
    warmup : int
        Unmeasured rounds first (they compile templates and warm the file system).

    Returns
    -------
    pandas.DataFrame
        One row per strategy: ``method, workers, wall_s, speedup, efficiency,
        serial_fraction, repeats, fallback_reason`` (``workers`` is what the executor
        resolved, 1 for a serial one; ``serial_fraction`` as
        :func:`~rrperf.engine.parallel.amdahl_serial_fraction`).

    Raises
    ------
    ConfigError
        For an unknown strategy, an empty list or a bad count.
    """
    import pandas as pd

    from rrperf.engine.parallel import amdahl_serial_fraction
    from rrperf.engine.strategies import get_strategy
    from rrperf.generator.api import generate
    from rrperf.generator.cached import _warm_worker
    from rrperf.schema.model import Schema
    from rrperf.schema.sources import load_schema

    for name, value, least in (("repeats", repeats, 1), ("warmup", warmup, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"{name} must be an integer >= {least}, got {value!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
    ):
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
    walls: dict[str, list[float]] = {name: [] for name in order}
    fallbacks: dict[str, str | None] = dict.fromkeys(order)
    with tempfile.TemporaryDirectory(prefix="rrperf-speedup-") as tmp:
        contexts = {
            name: chosen[name].make_context(cache_dir=Path(tmp) / "cache" / name)
            for name in order
        }
        try:
            for ctx in contexts.values():
                if ctx.executor.backend == "process":
                    ctx.executor.start_pool(_warm_worker)
            for round_ in range(warmup + repeats):
                shift = round_ % len(order)
                for name in order[shift:] + order[:shift]:
                    ctx = contexts[name]
                    out = os.path.join(tmp, "out", name)
                    shutil.rmtree(out, ignore_errors=True)
                    ctx.clear()  # cold: no cached analysis, renders or manifest
                    result = generate(schema, out, context=ctx)
                    if round_ >= warmup:
                        walls[name].append(result.wall_s)
                        fallbacks[name] = fallbacks[name] or ctx.executor.fallback_reason
        finally:
            for ctx in contexts.values():
                ctx.close()
    base = statistics.median(walls[order[0]])
    rows = []
    for name in order:
        wall = statistics.median(walls[name])
        n = contexts[name].executor.max_workers
        speedup = base / wall if wall > 0 else float("nan")
        rows.append({
            "method": name,
            "workers": n,
            "wall_s": wall,
            "speedup": speedup,
            "efficiency": speedup / n,
            "serial_fraction": amdahl_serial_fraction(speedup, n),
            "repeats": repeats,
            "fallback_reason": fallbacks[name],
        })
    return pd.DataFrame(rows)
