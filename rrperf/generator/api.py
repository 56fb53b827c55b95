"""``generate``: the one entry point for a generator run, from any schema source."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Iterable
from typing import Any

from rrperf.errors import ConfigError
from rrperf.generator.result import GenerationResult
from rrperf.schema.model import Schema

__all__ = ["IMPLEMENTATIONS", "GenerationResult", "generate"]

logger = logging.getLogger(__name__)

#: The generator implementations ``generate(impl=...)`` accepts.
IMPLEMENTATIONS: tuple[str, ...] = ("legacy", "pipeline")


def generate(
    source: Any,
    out_dir: str | os.PathLike[str],
    *,
    impl: str = "pipeline",
    strategy: str | None = None,
    tables: Iterable[str] | None = None,
    exclude_tables: Iterable[str] | None = None,
    dry_run: bool = False,
    force: bool = False,
) -> GenerationResult:
    """Generate the TypeScript models of a schema into ``out_dir``.

    Parameters
    ----------
    source : Schema, str or path
        A :class:`~rrperf.schema.model.Schema`, or anything
        :func:`rrperf.schema.sources.load_schema` accepts (a ``schema.rb`` path, a SQLite
        file, a SQLAlchemy URL, a scenario name, ``synthetic:N``).
    out_dir : path
        The output folder.
    impl : {"pipeline", "legacy"}
        ``pipeline`` writes only changed files; ``legacy`` rewrites every file.
    strategy : str or None
        A pipeline execution strategy. Only ``None`` (sequential) is available in this
        module; strategies are run by the engine.
    tables, exclude_tables : iterable of str or None
        Generate only these tables / all but these (unknown names raise ``ConfigError``).
        Relationships to tables that are not generated are left out.
    dry_run : bool
        Write nothing; the result lists the files that would be written.
    force : bool
        Rewrite every file even when unchanged (``legacy`` always does).

    Returns
    -------
    GenerationResult
        ``wall_s`` covers loading the schema and generating (not interpreter start-up).

    Raises
    ------
    ConfigError
        For an unknown ``impl``, a non-``None`` ``strategy`` or an unknown table name.
    SchemaSourceError
        When the source cannot be loaded.
    UnsafePathError
        When a generated path would leave ``out_dir`` (nothing is written).
    GenerationError
        When a file cannot be written.
    """
    if impl not in IMPLEMENTATIONS:
        raise ConfigError(
            f"impl must be one of {', '.join(repr(i) for i in IMPLEMENTATIONS)}, got {impl!r}"
        )
    if strategy is not None:
        raise ConfigError(
            f"strategies need the engine's executors (rrperf.engine); got strategy={strategy!r}, "
            "use strategy=None for a sequential run"
        )
    start = time.perf_counter()
    if isinstance(source, Schema):
        schema = source
    else:
        from rrperf.schema.sources import load_schema

        schema = load_schema(source)
    if impl == "legacy":
        from rrperf.generator.legacy import generate_legacy

        result = generate_legacy(
            schema, out_dir, tables=tables, exclude_tables=exclude_tables, dry_run=dry_run
        )
    else:
        from rrperf.generator.pipeline import run_pipeline

        result = run_pipeline(
            schema,
            out_dir,
            tables=tables,
            exclude_tables=exclude_tables,
            force=force,
            dry_run=dry_run,
        )
    wall_s = time.perf_counter() - start
    logger.info(
        "%s: %d tables, %d files (%d written) in %.3f s",
        impl, result.n_tables, result.files_total, result.files_written, wall_s,
    )
    return dataclasses.replace(result, wall_s=wall_s)
