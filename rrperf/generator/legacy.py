"""The legacy generator: one monolithic pass, table by table, rewriting every file.

This is the straightforward first version a competent engineer writes, kept as the baseline
the staged pipeline is measured and proven against. For each table it computes the types,
relationships, defaults and polymorphic declarations, renders the three files and writes
them at once (atomically), then writes ``index.ts`` and the runtime declaration. It never
compares with what is on disk and uses no stage graph. It shares the helper functions and
templates with the pipeline, which is what makes both outputs byte-identical.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable

from rrperf.errors import GenerationError
from rrperf.generator.analyze import (
    analyze_schema,
    table_defaults,
    table_polymorphic,
    table_relationships,
    table_types,
)
from rrperf.generator.digest import files_digest
from rrperf.generator.render import render_index, render_table
from rrperf.generator.result import GenerationResult
from rrperf.generator.runtime_file import runtime_files
from rrperf.generator.writer import PathGuard, atomic_write
from rrperf.schema.model import Schema

__all__ = ["generate_legacy"]

logger = logging.getLogger(__name__)


def _make_folder(folder: str) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise GenerationError(f"cannot create folder {folder}: {err}") from err


def generate_legacy(
    schema: Schema,
    out_dir: str | os.PathLike[str],
    *,
    tables: Iterable[str] | None = None,
    exclude_tables: Iterable[str] | None = None,
    dry_run: bool = False,
    runtime: bool = True,
) -> GenerationResult:
    """Generate every model file in one pass, always rewriting.

    Parameters
    ----------
    schema : Schema
        The schema, associations inferred.
    out_dir : path
        The output folder (created when missing).
    tables, exclude_tables : iterable of str or None
        Generate only these tables / all but these.
    dry_run : bool
        Render everything, write nothing; ``written`` lists every file.
    runtime : bool
        Also write the runtime declaration ``rrperf-runtime.d.ts`` (see
        :mod:`rrperf.generator.runtime_file`); ``False`` for an app with its own runtime.

    Returns
    -------
    GenerationResult
        With ``impl="legacy"``; ``unchanged`` is always empty.

    Raises
    ------
    ConfigError
        When a table filter names an unknown table.
    UnsafePathError
        When a generated path would leave ``out_dir``; raised before any file is written.
    GenerationError
        When a file cannot be written.
    """
    start = time.perf_counter()
    ctx = analyze_schema(schema, tables=tables, exclude_tables=exclude_tables)
    # Check every path before the first write (the loop below writes as it goes).
    guard = PathGuard(out_dir)
    targets = {rel: guard.join(rel) for rel in ctx.paths}
    made_dirs: set[str] = set()
    files: dict[str, str] = {}
    for name in ctx.selected:
        rendered = render_table(
            ctx,
            name,
            table_types(ctx, name),
            table_relationships(ctx, name),
            table_defaults(ctx, name),
            table_polymorphic(ctx, name),
        )
        for rel, text in rendered.items():
            if not dry_run:
                target = targets[rel]
                folder = os.path.dirname(target)
                if folder not in made_dirs:
                    _make_folder(folder)
                    made_dirs.add(folder)
                atomic_write(target, text)
            files[rel] = text
    last = {"index.ts": render_index(ctx), **runtime_files(runtime)}
    if not dry_run:
        _make_folder(guard.base)
        for rel, text in last.items():
            atomic_write(guard.join(rel), text)
    files.update(last)
    written = tuple(sorted(files))
    logger.debug("legacy: %d tables, %d files", len(ctx.selected), len(files))
    return GenerationResult(
        impl="legacy",
        strategy=None,
        n_tables=len(ctx.selected),
        files_total=len(files),
        files_written=len(written),
        files_unchanged=0,
        output_digest=files_digest(files),
        wall_s=time.perf_counter() - start,
        written=written,
        unchanged=(),
        dry_run=dry_run,
    )
