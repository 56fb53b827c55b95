"""``generate``: the one entry point for a generator run, from any schema source."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
import os
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rrperf.errors import ConfigError
from rrperf.generator.result import GenerationResult

if TYPE_CHECKING:
    from rrperf.config import RrperfConfig
    from rrperf.engine.strategies import ExecutionContext, Strategy

__all__ = ["IMPLEMENTATIONS", "PLAIN_STRATEGY", "TIMED_IMPORTS", "GenerationResult", "generate"]

logger = logging.getLogger(__name__)

#: The generator implementations ``generate(impl=...)`` accepts.
IMPLEMENTATIONS: tuple[str, ...] = ("legacy", "pipeline")
#: The strategy ``impl="pipeline"`` runs when neither ``strategy`` nor ``context`` is given:
#: the one staged path (:func:`rrperf.generator.cached.run_with_context`) in this thread, with
#: no cache and no output manifest, so that the call leaves nothing behind but the output
#: folder (``sequential`` and ``auto`` keep state under ``cache_dir``). The result's
#: ``strategy`` names it. ``rrperf generate`` without ``--strategy`` runs ``auto`` instead
#: (:data:`rrperf.engine.strategies.DEFAULT_STRATEGY`).
PLAIN_STRATEGY = "minimal"
#: What ``wall_s`` leaves out: the modules each path of :func:`generate` imports, by path
#: (their first import in a process is timed and subtracted; an imported module costs
#: nothing). ``legacy`` and every strategy count from the call otherwise, so that their
#: ``wall_s`` compare like with like in a new process (issue 10). ``engine`` is imported by
#: every strategy run that makes its own context; ``cache`` and ``monitor`` when the
#: strategy caches / monitors.
TIMED_IMPORTS: dict[str, tuple[str, ...]] = {
    "legacy": ("rrperf.generator.legacy", "rrperf.schema.sources"),
    "fast": ("rrperf.engine.strategies", "rrperf.generator.manifest"),
    "pipeline": ("rrperf.generator.cached", "rrperf.schema.sources"),
    "engine": ("rrperf.engine.parallel",),
    "cache": ("rrperf.engine.cache",),
    "monitor": ("rrperf.engine.monitor", "psutil"),
}


def _import_s(part: str) -> float:
    """Import the modules of ``TIMED_IMPORTS[part]`` not imported yet; the seconds it took."""
    missing = [name for name in TIMED_IMPORTS[part] if name not in sys.modules]
    if not missing:
        return 0.0
    start = time.perf_counter()
    for name in missing:
        importlib.import_module(name)
    return time.perf_counter() - start


def generate(
    source: Any,
    out_dir: str | os.PathLike[str],
    *,
    impl: str = "pipeline",
    strategy: str | Strategy | None = None,
    context: ExecutionContext | None = None,
    tables: Iterable[str] | None = None,
    exclude_tables: Iterable[str] | None = None,
    dry_run: bool = False,
    force: bool = False,
    runtime: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    config: RrperfConfig | None = None,
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
        ``pipeline`` writes only changed files; ``legacy`` rewrites every file (the
        baseline). ``pipeline`` is one staged path whatever the strategy
        (:func:`rrperf.generator.cached.run_with_context`); without a strategy or context it
        runs :data:`PLAIN_STRATEGY` (``minimal``: in this thread, nothing cached).
    strategy : str, Strategy or None
        A pipeline execution strategy (:data:`rrperf.engine.strategies.STRATEGIES`:
        ``sequential``, ``parallel``, ``cache_heavy``, ``balanced``, ``minimal``, ``auto``;
        ``auto`` is what ``rrperf generate`` runs without ``--strategy``). A strategy that
        keeps an output manifest answers an unchanged repeat from it before parsing
        anything (:mod:`rrperf.generator.manifest`). ``None`` with ``impl="pipeline"`` runs
        :data:`PLAIN_STRATEGY` (``minimal``), and the result's ``strategy`` says so.
    context : ExecutionContext or None
        The executor, caches and monitor to run the strategy with, kept between calls
        (``get_strategy(name).make_context(cache_dir=...)``). Without one, a context is made
        for this call and closed afterwards, so only its disk tier (default
        ``.rrperf/cache``) outlives the call. Implies its strategy when ``strategy`` is None.
    tables, exclude_tables : iterable of str or None
        Generate only these tables / all but these (unknown names raise ``ConfigError``).
        Relationships to tables that are not generated are left out.
    dry_run : bool
        Write nothing; the result lists the files that would be written.
    force : bool
        Rewrite every file even when unchanged (``legacy`` always does).
    runtime : bool
        Write the declaration of the ``'rrperf-runtime'`` module the models import,
        ``rrperf-runtime.d.ts``, into ``out_dir`` so that the folder type-checks on its own
        (``tsc --strict --noEmit``). ``False`` leaves it out, for an application that
        declares or implements ``'rrperf-runtime'`` itself.
    cache_dir : path or None
        The disk tier and run-to-run state of a strategy run without ``context`` (default:
        ``config.cache["dir"]``, else :data:`~rrperf.engine.strategies.DEFAULT_CACHE_DIR`).
    config : RrperfConfig or None
        The project configuration (:func:`rrperf.config.load_config`; the CLI finds
        ``rrperf.toml``, the API reads none unless given): ``exclude_tables`` and
        ``polymorphic_types`` shape the loaded schema, ``[cache] dir`` is the default
        ``cache_dir``; the ``[cache]``, ``[executor]`` and ``[monitor]`` sections adjust the
        context made for this call (:class:`~rrperf.engine.strategies.ExecutionContext`:
        memory size and TTLs, backend and worker bound, sampling interval). A ``context``
        given by the caller keeps its own resources (make it with ``config=`` too).

    Returns
    -------
    GenerationResult
        ``wall_s`` is the time of this call (loading the schema, making the strategy's
        context and starting its pool, generating, recording the manifest) less the time
        spent importing, for the first time in the process, the modules of the path taken
        (the generator's and the engine's, and the libraries they import, such as Jinja2):
        the same boundary for ``legacy`` and every strategy (:data:`TIMED_IMPORTS`). The
        interpreter's start-up and those imports are part of a whole command's time.

    Raises
    ------
    ConfigError
        For an unknown ``impl`` or strategy, a strategy with ``impl="legacy"``, a
        ``context`` whose strategy differs from ``strategy``, or an unknown table name.
    SchemaSourceError
        When the source cannot be loaded.
    UnsafePathError
        When a generated path would leave ``out_dir`` (nothing is written).
    GenerationError
        When a file cannot be written.
    """
    called = time.perf_counter()
    if impl not in IMPLEMENTATIONS:
        raise ConfigError(
            f"impl must be one of {', '.join(repr(i) for i in IMPLEMENTATIONS)}, got {impl!r}"
        )
    if not isinstance(runtime, bool):
        raise ConfigError(f"runtime must be True or False, got {runtime!r}")
    if config is not None:
        from rrperf.config import RrperfConfig

        if not isinstance(config, RrperfConfig):
            raise ConfigError(f"config must be an RrperfConfig, got {type(config).__name__}")
        if cache_dir is None and config.cache.get("dir") is not None:
            cache_dir = config.cache["dir"]
    if impl == "pipeline" or strategy is not None or context is not None:
        if strategy is None and context is None:
            strategy = PLAIN_STRATEGY  # the one staged path, in this thread, nothing cached
        with _fingerprint_memo(source):
            return _generate_with_strategy(
                source, out_dir, impl=impl, strategy=strategy, context=context, tables=tables,
                exclude_tables=exclude_tables, dry_run=dry_run, force=force,
                cache_dir=cache_dir, called=called, config=config, runtime=runtime,
            )
    imports_s = _import_s("legacy")  # not in wall_s (TIMED_IMPORTS)
    from rrperf.generator.legacy import generate_legacy
    from rrperf.schema.model import Schema

    if isinstance(source, Schema):
        schema = source
    else:
        from rrperf.schema.sources import load_schema

        schema = load_schema(source, config=config)
    result = generate_legacy(
        schema, out_dir, tables=tables, exclude_tables=exclude_tables, dry_run=dry_run,
        runtime=runtime,
    )
    wall_s = time.perf_counter() - called - imports_s
    logger.info(
        "%s: %d tables, %d files (%d written) in %.3f s",
        impl, result.n_tables, result.files_total, result.files_written, wall_s,
    )
    return dataclasses.replace(result, wall_s=wall_s)


def _fingerprint_memo(source: Any) -> contextlib.AbstractContextManager[None]:
    """For a database or a file, one fingerprint for the whole run: the fast path's key, the
    cached schema's key and the recorded run key (:func:`rrperf.schema.memo.fingerprint_memo`:
    a catalog's before it is read, a ``schema.rb``'s of the bytes parsed)."""
    if isinstance(source, str | os.PathLike):
        from rrperf.schema.memo import fingerprint_memo

        return fingerprint_memo()
    return contextlib.nullcontext()


def _generate_with_strategy(
    source: Any,
    out_dir: str | os.PathLike[str],
    *,
    impl: str,
    strategy: str | Strategy | None,
    context: ExecutionContext | None,
    tables: Iterable[str] | None,
    exclude_tables: Iterable[str] | None,
    dry_run: bool,
    force: bool,
    runtime: bool,
    cache_dir: str | os.PathLike[str] | None,
    called: float,
    config: RrperfConfig | None,
) -> GenerationResult:
    imports_s = _import_s("fast")  # not in wall_s (TIMED_IMPORTS), nor those below
    from rrperf.engine.strategies import ExecutionContext, get_strategy

    if context is None and strategy is not None and impl == "pipeline" and not (
        dry_run or force
    ):
        fast = _fast_path(source, out_dir, get_strategy(strategy), cache_dir, tables,
                          exclude_tables, called + imports_s, config, runtime)
        if fast is not None:
            return fast
    imports_s += _import_s("pipeline")
    if context is None and strategy is not None:
        chosen = get_strategy(strategy)
        imports_s += _import_s("engine")
        if chosen.caching:
            imports_s += _import_s("cache")
        if chosen.monitoring:
            imports_s += _import_s("monitor")
    from rrperf.generator.cached import run_with_context

    if impl != "pipeline":
        raise ConfigError(
            f"strategies run the staged pipeline; got impl={impl!r} with "
            f"strategy={getattr(strategy, 'name', strategy)!r} (use impl='pipeline', or no "
            "strategy for legacy)"
        )
    if context is not None:
        if not isinstance(context, ExecutionContext):
            raise ConfigError(
                f"context must be an ExecutionContext, got {type(context).__name__}"
            )
        if strategy is not None:
            wanted = strategy if isinstance(strategy, str) else get_strategy(strategy).name
            if wanted != context.strategy.name or (
                not isinstance(strategy, str) and strategy != context.strategy
            ):
                raise ConfigError(
                    f"strategy={wanted!r} does not match the context's strategy "
                    f"{context.strategy.name!r}; pass one or the other"
                )
        result = run_with_context(
            source, out_dir, context, tables=tables, exclude_tables=exclude_tables,
            dry_run=dry_run, force=force, runtime=runtime, config=config,
        )
    else:
        assert strategy is not None
        with _one_shot(get_strategy(strategy)).make_context(
            cache_dir=cache_dir, config=config
        ) as own:
            result = run_with_context(
                source, out_dir, own, tables=tables, exclude_tables=exclude_tables,
                dry_run=dry_run, force=force, runtime=runtime, config=config,
            )
        # the context's making (monitor, caches, pool) counts too, as loading does
        result = dataclasses.replace(
            result, wall_s=time.perf_counter() - called - imports_s
        )
    logger.info(
        "pipeline/%s: %d tables, %d files (%d written), %d cache hits in %.3f s",
        result.strategy, result.n_tables, result.files_total, result.files_written,
        result.cache_hits, result.wall_s,
    )
    return result


def _fast_path(
    source: Any,
    out_dir: str | os.PathLike[str],
    strategy: Strategy,
    cache_dir: str | os.PathLike[str] | None,
    tables: Iterable[str] | None,
    exclude_tables: Iterable[str] | None,
    called: float,
    config: RrperfConfig | None,
    runtime: bool = True,
) -> GenerationResult | None:
    """A warm repeat answered from the output manifest (before parsing anything), or None.

    Its ``wall_s`` counts from ``called`` (the call of :func:`generate`, moved on by the
    time its imports took).
    """
    if not strategy.keeps_manifest:
        return None  # ``minimal`` always runs in full
    if isinstance(tables, str) or isinstance(exclude_tables, str):
        return None  # the full run reports the mistake
    from rrperf.engine.strategies import state_dir_for
    from rrperf.generator.manifest import fast_path, options_token

    answer = fast_path(
        state_dir_for(cache_dir), source, os.path.realpath(out_dir), impl="pipeline",
        tables=None if tables is None else tuple(tables),
        exclude_tables=None if exclude_tables is None else tuple(exclude_tables),
        config=options_token(config, runtime),
    )
    if answer is None:
        return None
    wall_s = time.perf_counter() - called
    logger.info(
        "pipeline/%s: no changes: all %d files unchanged (output manifest) in %.4f s",
        strategy.name, len(answer.files), wall_s,
    )
    return GenerationResult(
        impl="pipeline",
        strategy=strategy.name,
        n_tables=answer.n_tables,
        files_total=len(answer.files),
        files_written=0,
        files_unchanged=len(answer.files),
        output_digest=answer.output_digest,
        wall_s=wall_s,
        written=(),
        unchanged=answer.files,
        cache_hits=1,
    )


def _one_shot(strategy: Strategy) -> Strategy:
    """``strategy`` for a context made for one call: no memory tier where there is no disk tier.

    The context is closed when the call returns, so a memory-only cache category could only
    serve hits within the run, and a run looks up each key once: its keys and stores would
    be pure cost (a cold ``sequential`` ``synthetic:2000`` run in a new process: 1.57 s with
    them, 1.16 s without, medians of 5, 2026-12-02). The disk tier, and the memory tier in
    front of it, are kept, and so is the output manifest of a strategy that keeps one.
    """
    lean = strategy.cache_memory & strategy.cache_disk
    if lean == strategy.cache_memory:
        return strategy
    return dataclasses.replace(strategy, cache_memory=lean, manifest=strategy.keeps_manifest)

