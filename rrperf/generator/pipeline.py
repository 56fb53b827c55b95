"""The staged generator: the legacy generator's work as a graph of named stages.

::

    analyze ──┬─► types:<t> ─────────┐
              ├─► relationships:<t> ─┤
              ├─► defaults:<t> ──────┼─► render:<t> ──┐
              ├─► polymorphic:<t> ───┘                ├─► write (write-if-changed)
              └─► render:index ───────────────────────┘

The four per-table stages are independent of each other, so an executor may run them in
parallel and cache them (``cache_category``). With ``batch_size=k`` the per-table work of
``k`` tables is fused into one ``batch:<i>`` stage (``analyze -> batch:<i> -> write``), which
cuts the scheduling and pickling overhead of process pools; the output is the same.

Every stage function is a module-level function and the table names are bound through
``Stage.kwargs``, so stages pickle to worker processes. Stage results are plain frozen data.

A table literally called ``index`` would give a per-table stage ``render:index``, the name of
the index stage: its per-table stages are named ``<kind>:index (table)`` instead.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rrperf.engine.stages import Pipeline, Stage
from rrperf.errors import ConfigError, RrperfError, StageError
from rrperf.generator.analyze import (
    DefaultsResult,
    PolymorphicResult,
    RelationshipsResult,
    SchemaContext,
    TypesResult,
    analyze_schema,
    select_tables,
    table_defaults,
    table_polymorphic,
    table_relationships,
    table_types,
)
from rrperf.generator.digest import files_digest
from rrperf.generator.render import render_index, render_table
from rrperf.generator.result import GenerationResult
from rrperf.generator.runtime_file import runtime_files
from rrperf.generator.writer import PathGuard, WriteReport, write_if_changed
from rrperf.schema.model import Schema

__all__ = [
    "GENERATE_BATCH_SIZE",
    "INDEX_STAGE",
    "WriteOutcome",
    "WrittenBatch",
    "build_pipeline",
    "result_from_outcome",
    "run_pipeline",
    "stage_name",
]

logger = logging.getLogger(__name__)

INDEX_STAGE = "render:index"
PER_TABLE_KINDS = ("types", "relationships", "defaults", "polymorphic")

#: Tables per fused stage when :func:`~rrperf.generator.api.generate` runs the pipeline. A
#: sequential run gains nothing from one stage per step and table, and building 50,000
#: Stage objects and sorting them with graphlib cost ~1.5 s at 10,000 tables (2026-11-26).
GENERATE_BATCH_SIZE = 128


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """Result of the ``write`` stage: the write report plus what a GenerationResult needs."""

    report: WriteReport
    n_tables: int
    files_total: int
    output_digest: str
    dry_run: bool


def stage_name(kind: str, table: str) -> str:
    """The name of the ``kind`` stage of ``table`` (``"types:users"``)."""
    return f"{kind}:{table} (table)" if table == "index" else f"{kind}:{table}"


# --- stage functions (module level, so that they pickle) -----------------------------------


def _analyze(
    *,
    schema: Schema,
    tables: tuple[str, ...] | None,
    exclude_tables: tuple[str, ...] | None,
) -> SchemaContext:
    return analyze_schema(schema, tables=tables, exclude_tables=exclude_tables)


def _types(*, table: str, analyze: SchemaContext) -> TypesResult:
    return table_types(analyze, table)


def _relationships(*, table: str, analyze: SchemaContext) -> RelationshipsResult:
    return table_relationships(analyze, table)


def _defaults(*, table: str, analyze: SchemaContext) -> DefaultsResult:
    return table_defaults(analyze, table)


def _polymorphic(*, table: str, analyze: SchemaContext) -> PolymorphicResult:
    return table_polymorphic(analyze, table)


def _render(*, table: str, **inputs: Any) -> dict[str, str]:
    return render_table(
        inputs["analyze"],
        table,
        inputs[stage_name("types", table)],
        inputs[stage_name("relationships", table)],
        inputs[stage_name("defaults", table)],
        inputs[stage_name("polymorphic", table)],
    )


def _render_index(*, analyze: SchemaContext, runtime: bool = True) -> dict[str, str]:
    return {"index.ts": render_index(analyze), **runtime_files(runtime)}


def _batch(*, tables: tuple[str, ...], analyze: SchemaContext) -> dict[str, str]:
    files: dict[str, str] = {}
    for table in tables:
        kind = "types"
        try:
            types = table_types(analyze, table)
            kind = "relationships"
            relationships = table_relationships(analyze, table)
            kind = "defaults"
            defaults = table_defaults(analyze, table)
            kind = "polymorphic"
            polymorphic = table_polymorphic(analyze, table)
            kind = "render"
            files.update(
                render_table(analyze, table, types, relationships, defaults, polymorphic)
            )
        except RrperfError:
            raise
        except Exception as err:
            # name the per-table step that failed, as the unfused pipeline would
            raise StageError._during(stage_name(kind, table), err) from err
    return files


def _write(
    *,
    out_dir: str,
    force: bool,
    dry_run: bool,
    analyze: SchemaContext,
    **renders: Mapping[str, str],
) -> WriteOutcome:
    files: dict[str, str] = {}
    for rendered in renders.values():
        files.update(rendered)
    report = write_if_changed(out_dir, files, force=force, dry_run=dry_run)
    return WriteOutcome(
        report=report,
        n_tables=len(analyze.selected),
        files_total=len(files),
        output_digest=files_digest(files),
        dry_run=dry_run,
    )


@dataclass(frozen=True, slots=True)
class WrittenBatch:
    """Result of a ``batch:<i>`` stage that writes its own files (``write_in_batches``)."""

    files: Mapping[str, str]
    report: WriteReport


def _check_paths(*, out_dir: str, analyze: SchemaContext) -> int:
    guard = PathGuard(out_dir)
    for rel in analyze.paths:
        guard.join(rel)
    return len(analyze.paths)


def _batch_write(
    *,
    tables: tuple[str, ...],
    out_dir: str,
    force: bool,
    dry_run: bool,
    analyze: SchemaContext,
    paths: int,
) -> WrittenBatch:
    files = _batch(tables=tables, analyze=analyze)
    return WrittenBatch(files, write_if_changed(out_dir, files, force=force, dry_run=dry_run))


def _write_rest(
    *,
    out_dir: str,
    force: bool,
    dry_run: bool,
    analyze: SchemaContext,
    **parts: Any,
) -> WriteOutcome:
    files: dict[str, str] = {}
    written: list[str] = []
    unchanged: list[str] = []
    for part in parts.values():
        if isinstance(part, WrittenBatch):
            files.update(part.files)
            written.extend(part.report.written)
            unchanged.extend(part.report.unchanged)
    index = parts[INDEX_STAGE]
    files.update(index)
    report = write_if_changed(out_dir, index, force=force, dry_run=dry_run)
    written.extend(report.written)
    unchanged.extend(report.unchanged)
    return WriteOutcome(
        report=WriteReport(tuple(sorted(written)), tuple(sorted(unchanged))),
        n_tables=len(analyze.selected),
        files_total=len(files),
        output_digest=files_digest(files),
        dry_run=dry_run,
    )


# --- building and running -------------------------------------------------------------------


def build_pipeline(
    schema: Schema,
    out_dir: str | os.PathLike[str],
    *,
    tables: Iterable[str] | None = None,
    exclude_tables: Iterable[str] | None = None,
    force: bool = False,
    dry_run: bool = False,
    batch_size: int | None = None,
    write_in_batches: bool = False,
    runtime: bool = True,
) -> Pipeline:
    """The generator as a :class:`~rrperf.engine.stages.Pipeline` of named stages.

    Parameters
    ----------
    schema : Schema
        The schema, associations inferred.
    out_dir : path
        The output folder.
    tables, exclude_tables : iterable of str or None
        Generate only these tables / all but these.
    force : bool
        Rewrite every file, changed or not.
    dry_run : bool
        Write nothing; the write stage reports what would be written.
    batch_size : int or None
        Fuse the per-table stages of this many tables into one ``batch:<i>`` stage.
    write_in_batches : bool
        With ``batch_size``: a ``paths`` stage checks every path first, then each
        ``batch:<i>`` stage writes its own files (``write`` writes ``index.ts`` and merges
        the reports). Writing as the rendering goes, rather than in one burst at the end,
        spreads the file creations the way the legacy generator does; on a busy ext4 the
        kernel spent ~15 % less system time creating 6,000 files so (2026-11-26).
    runtime : bool
        Write the runtime declaration ``rrperf-runtime.d.ts`` with ``index.ts`` (see
        :mod:`rrperf.generator.runtime_file`); ``False`` for an app with its own runtime.

    Returns
    -------
    Pipeline
        Stages ``analyze``, per table ``types:<t>``, ``relationships:<t>``, ``defaults:<t>``,
        ``polymorphic:<t>``, ``render:<t>`` (or ``batch:<i>``), ``render:index`` (``index.ts``
        and the runtime declaration) and ``write``, whose result is a :class:`WriteOutcome`.

    Raises
    ------
    ConfigError
        For an unknown table in ``tables``/``exclude_tables``, a ``batch_size`` below 1, or
        ``write_in_batches`` without ``batch_size``.
    """
    if write_in_batches and batch_size is None:
        raise ConfigError("write_in_batches needs a batch_size (the tables per batch stage)")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ConfigError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    tables = tuple(tables) if tables is not None and not isinstance(tables, str) else tables
    exclude_tables = (
        tuple(exclude_tables)
        if exclude_tables is not None and not isinstance(exclude_tables, str)
        else exclude_tables
    )
    selected = select_tables(schema, tables=tables, exclude_tables=exclude_tables)
    stages: list[Stage] = [
        Stage(
            "analyze",
            _analyze,
            cache_category="analysis",
            kwargs={"schema": schema, "tables": tables, "exclude_tables": exclude_tables},
        )
    ]
    render_names: list[str] = []
    if batch_size is None:
        funcs = {
            "types": _types,
            "relationships": _relationships,
            "defaults": _defaults,
            "polymorphic": _polymorphic,
        }
        for table in selected:
            for kind in PER_TABLE_KINDS:
                stages.append(
                    Stage(
                        stage_name(kind, table),
                        funcs[kind],
                        depends_on=("analyze",),
                        cache_category=kind,
                        kwargs={"table": table},
                    )
                )
            name = stage_name("render", table)
            stages.append(
                Stage(
                    name,
                    _render,
                    depends_on=("analyze", *(stage_name(k, table) for k in PER_TABLE_KINDS)),
                    cache_category="render",
                    kwargs={"table": table},
                )
            )
            render_names.append(name)
    elif write_in_batches:
        write_kws = {"out_dir": os.fspath(out_dir), "force": force, "dry_run": dry_run}
        stages.append(
            Stage(
                "paths", _check_paths, depends_on=("analyze",),
                kwargs={"out_dir": os.fspath(out_dir)},
            )
        )
        for i in range(0, len(selected), batch_size):
            name = f"batch:{i // batch_size}"
            stages.append(
                Stage(
                    name,
                    _batch_write,
                    depends_on=("analyze", "paths"),
                    cache_category="render",
                    kwargs={"tables": selected[i : i + batch_size], **write_kws},
                )
            )
            render_names.append(name)
    else:
        for i in range(0, len(selected), batch_size):
            name = f"batch:{i // batch_size}"
            stages.append(
                Stage(
                    name,
                    _batch,
                    depends_on=("analyze",),
                    cache_category="render",
                    kwargs={"tables": selected[i : i + batch_size]},
                )
            )
            render_names.append(name)
    stages.append(
        Stage(INDEX_STAGE, _render_index, depends_on=("analyze",), cache_category="render",
              kwargs={"runtime": runtime})
    )
    render_names.append(INDEX_STAGE)
    stages.append(
        Stage(
            "write",
            _write_rest if write_in_batches else _write,
            depends_on=("analyze", *render_names),
            kwargs={"out_dir": os.fspath(out_dir), "force": force, "dry_run": dry_run},
        )
    )
    return Pipeline(stages, name="generate")


def result_from_outcome(
    outcome: WriteOutcome, *, wall_s: float, impl: str = "pipeline", strategy: str | None = None
) -> GenerationResult:
    """The :class:`GenerationResult` of a pipeline run, from its ``write`` stage result."""
    report = outcome.report
    return GenerationResult(
        impl=impl,
        strategy=strategy,
        n_tables=outcome.n_tables,
        files_total=outcome.files_total,
        files_written=len(report.written),
        files_unchanged=len(report.unchanged),
        output_digest=outcome.output_digest,
        wall_s=wall_s,
        written=report.written,
        unchanged=report.unchanged,
        dry_run=outcome.dry_run,
    )


def run_pipeline(
    schema: Schema,
    out_dir: str | os.PathLike[str],
    *,
    tables: Iterable[str] | None = None,
    exclude_tables: Iterable[str] | None = None,
    force: bool = False,
    dry_run: bool = False,
    batch_size: int | None = None,
    write_in_batches: bool = False,
    runtime: bool = True,
) -> GenerationResult:
    """Build the pipeline and run it sequentially (:meth:`Pipeline.run`).

    Parameters are those of :func:`build_pipeline`.

    Returns
    -------
    GenerationResult
        With ``impl="pipeline"``, ``strategy=None``.

    Raises
    ------
    ConfigError, UnsafePathError, GenerationError
        An rrperf error raised inside a stage is re-raised as itself (its stage is logged);
        any other failure is a :class:`~rrperf.errors.StageError` naming the stage.
    """
    start = time.perf_counter()
    pipeline = build_pipeline(
        schema,
        out_dir,
        tables=tables,
        exclude_tables=exclude_tables,
        force=force,
        dry_run=dry_run,
        batch_size=batch_size,
        write_in_batches=write_in_batches,
        runtime=runtime,
    )
    try:
        results = pipeline.run()
    except StageError as err:
        cause = err.__cause__
        if isinstance(cause, RrperfError):
            logger.debug("stage %s failed: %s", err.stage, cause)
            raise cause from cause.__cause__
        raise
    outcome: WriteOutcome = results["write"]
    logger.debug("pipeline: %d stages, %d files", len(pipeline), outcome.files_total)
    if not outcome.report.written:
        logger.info("no changes: all %d files unchanged in %s", outcome.files_total, out_dir)
    return result_from_outcome(outcome, wall_s=time.perf_counter() - start)
