"""Render batches on workers that may not share this machine's disk (the ``dask`` backend).

With the ``process`` backend a pool worker renders a batch of tables *and writes* their
files (:func:`rrperf.generator.cached.render_write_batch`): it runs on this machine. A Dask
worker may run on another host, whose disk is not the output folder's, so on the ``dask``
backend a batch is only rendered there (:func:`render_batch`) and sent back; this process
stores the rendered files in its caches and writes them with the tables rendered here, through
the same write-if-changed path and output manifest. The output is therefore byte for byte
that of a local run (same output digest).
"""

from __future__ import annotations

from typing import Any

from rrperf.generator.analyze import table_relationships, table_types
from rrperf.generator.cached import BatchOutcome, _render_files, unpack_context

__all__ = ["REMOTE_RENDER_BACKENDS", "render_batch"]

#: Executor backends whose workers render only (this process writes).
REMOTE_RENDER_BACKENDS: tuple[str, ...] = ("dask",)


def render_batch(*, packed: tuple[Any, ...], tables: tuple[str, ...]) -> BatchOutcome:
    """Render ``tables`` from ``packed`` (:func:`~rrperf.generator.cached.pack_context` of the
    part of the analysis they need); write nothing.

    Returns
    -------
    BatchOutcome
        The rendered files per table; nothing written, so no paths and no stats.
    """
    ctx = unpack_context(packed)
    rendered = tuple(
        (name, _render_files(ctx, name, table_types(ctx, name), table_relationships(ctx, name)))
        for name in tables
    )
    return BatchOutcome(rendered, (), (), ())
