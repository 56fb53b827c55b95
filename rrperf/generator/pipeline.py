"""The staged generator: one path, whatever the strategy.

``impl="pipeline"`` has a single implementation, :func:`rrperf.generator.cached.run_with_context`
(its module notes draw the path), run with the executor, caches and output manifest of the
strategy's :class:`~rrperf.engine.strategies.ExecutionContext`. The strategies of
:mod:`rrperf.engine.strategies` are configurations of that path (backend and workers, cache
tiers and TTLs, batching, manifest).

A failure that is not an rrperf error is a :class:`~rrperf.errors.StageError` naming the
per-table step (``"defaults:users"``, :func:`~rrperf.generator.cached.stage_name`).

:func:`run_pipeline` is that path for a loaded schema; without a strategy it runs
:data:`~rrperf.generator.api.PLAIN_STRATEGY` (``minimal``: this thread, nothing cached),
as :func:`rrperf.generator.api.generate` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rrperf.generator.cached import stage_name
from rrperf.generator.result import GenerationResult

if TYPE_CHECKING:
    from rrperf.engine.strategies import ExecutionContext, Strategy

__all__ = ["run_pipeline", "stage_name"]


def run_pipeline(
    source: Any,
    out_dir: str | os.PathLike[str],
    *,
    strategy: str | Strategy | None = None,
    context: ExecutionContext | None = None,
    tables: Iterable[str] | None = None,
    exclude_tables: Iterable[str] | None = None,
    force: bool = False,
    dry_run: bool = False,
    runtime: bool = True,
) -> GenerationResult:
    """Run the staged generator: :func:`rrperf.generator.api.generate` with ``impl="pipeline"``.

    Parameters are those of :func:`~rrperf.generator.api.generate`.

    Returns
    -------
    GenerationResult
        With ``impl="pipeline"`` and ``strategy`` the strategy that ran (``"minimal"``
        when none was given).

    Raises
    ------
    ConfigError, UnsafePathError, GenerationError
        An rrperf error is raised as itself; any other failure is a
        :class:`~rrperf.errors.StageError` naming the per-table step.
    """
    from rrperf.generator.api import generate

    return generate(
        source, out_dir, impl="pipeline", strategy=strategy, context=context, tables=tables,
        exclude_tables=exclude_tables, force=force, dry_run=dry_run, runtime=runtime,
    )
