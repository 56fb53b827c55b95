"""Render batches on workers that may not share this machine's disk (the ``dask`` backend).

With the ``process`` backend a pool worker renders a batch of tables *and writes* their
files (:func:`rrperf.generator.cached.render_write_batch`): it runs on this machine. A Dask
worker may run on another host, whose disk is not the output folder's, so on the ``dask``
backend a batch is only rendered there (:func:`render_batch`) and sent back; this process
stores the rendered files in its caches and writes the batch (:func:`write_batch`, the same
write-if-changed step and manifest stats a pool worker makes) as soon as it arrives, while
the workers render the next batches. The output is therefore byte for byte that of a local
run (same output digest).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rrperf.generator.cached import (
    BatchOutcome,
    _render_files,
    unpack_context,
    write_batch_files,
)

__all__ = ["REMOTE_RENDER_BACKENDS", "render_batch", "render_stages", "write_batch"]

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
        (name, _render_files(ctx, name)) for name in tables
    )
    return BatchOutcome(rendered, (), (), ())


def render_stages(
    batches: Sequence[tuple[str, ...]], packs: Sequence[tuple[Any, ...]]
) -> list[Any]:
    """One :class:`~rrperf.engine.stages.Stage` per batch, running :func:`render_batch`."""
    from rrperf.engine.stages import Stage

    return [
        Stage(f"batch:{i}", render_batch, kwargs={"packed": packs[i], "tables": batch})
        for i, batch in enumerate(batches)
    ]


def write_batch(
    outcome: BatchOutcome, out_dir: str, *, force: bool, dry_run: bool, with_stats: bool
) -> BatchOutcome:
    """Write a remotely rendered batch here; return it as a pool worker would have (the
    paths written and left unchanged, and their ``stat`` for the output manifest)."""
    files = {rel: text for _, rendered in outcome.rendered for rel, text, _ in rendered}
    return write_batch_files(
        outcome.rendered, files, out_dir, force=force, dry_run=dry_run, with_stats=with_stats
    )
