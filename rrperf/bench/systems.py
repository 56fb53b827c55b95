"""Systems: the implementations a benchmark measures, behind one small protocol.

A :class:`System` turns a schema source into files in an output folder and reports what it did
as a :class:`RunOutcome`. Four kinds are provided:

- :class:`GeneratorSystem`: the built-in ``legacy`` and ``pipeline`` generators (the pipeline
  runs any strategy, registered by name or given as a customized
  :class:`~rrperf.engine.strategies.Strategy` object; each strategy gets an execution context
  whose memory and disk caches live as long as the system, so warm iterations reuse them),
- :class:`CallableSystem`: any Python callable ``fn(schema_source, out_dir)``; if it returns a
  :class:`rrperf.engine.Pipeline`, that pipeline is run as part of the measurement,
- :class:`PipelineSystem`: a factory ``factory(schema_source, out_dir) -> Pipeline``,
- :class:`Command`: a shell command such as ``bin/rails generate zero:active_models``, with
  ``{schema}`` (a ``schema.rb`` path) and ``{out}`` (the output folder) substitutions.

Fields of :class:`RunOutcome` left as ``None`` are filled in by the runner from the output
folder (file counts, digest) and from the schema (table count), outside the timed region.

The registry of systems belongs to one :class:`rrperf.bench.runner.BenchmarkRunner`; nothing
here is global.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rrperf.engine.strategies import (
    DEFAULT_STRATEGY,
    STRATEGIES,
    Strategy,
    get_strategy,
    strategy_names,
)
from rrperf.errors import BenchmarkError, ConfigError

if TYPE_CHECKING:
    from rrperf.bench.scenarios import BenchScenario
    from rrperf.config import RrperfConfig

__all__ = [
    "BUILTIN_SYSTEMS",
    "CACHE_STATES",
    "CallableSystem",
    "Command",
    "GeneratorSystem",
    "PipelineSystem",
    "RunContext",
    "RunOutcome",
    "System",
    "as_system",
    "available_strategies",
    "default_strategy",
    "snapshot_folder",
    "strategy_label",
]

logger = logging.getLogger(__name__)

#: Cache states a benchmark can run in.
CACHE_STATES: tuple[str, ...] = ("cold", "warm")

#: Names of the systems every runner knows.
BUILTIN_SYSTEMS: tuple[str, ...] = ("legacy", "pipeline")

def available_strategies() -> tuple[str, ...]:
    """Names of the pipeline strategies this installation offers
    (:func:`rrperf.engine.strategies.strategy_names`)."""
    return strategy_names()


def default_strategy() -> str:
    """The strategy ``pipeline`` runs when none is asked: what ``rrperf generate`` runs
    without ``--strategy`` (:data:`rrperf.engine.strategies.DEFAULT_STRATEGY`)."""
    return DEFAULT_STRATEGY


def _label_value(value: Any) -> str:
    if isinstance(value, frozenset | set):
        return "{" + ",".join(sorted(map(str, value))) + "}"
    return repr(value)


def strategy_label(strategy: str | Strategy) -> str:
    """The ``strategy`` column value of a strategy name or :class:`Strategy` object.

    A name is its own label. A strategy object is labelled by its ``name`` when it equals the
    registered strategy of that name, or when no strategy of that name is registered. A
    customized copy of a registered strategy (``dataclasses.replace(get_strategy(name),
    ...)``) gets the fields that differ from the registered one in brackets, in field order,
    so it never passes for the registered strategy in a results table.
    :mod:`rrperf.engine.strategies` names a copy like the original, hence this label.

    Parameters
    ----------
    strategy : str or Strategy

    Returns
    -------
    str
        For example ``"parallel"``, ``"parallel[workers=1]"`` or
        ``"sequential[ttl_multiplier=3.0,monitoring=False]"`` (frozensets as ``{a,b}``).

    Raises
    ------
    ConfigError
        If ``strategy`` is neither a non-empty string nor a Strategy object.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from rrperf.engine.strategies import get_strategy
    >>> strategy_label(replace(get_strategy("parallel"), workers=1))
    'parallel[workers=1]'
    >>> strategy_label(get_strategy("parallel"))
    'parallel'
    """
    if isinstance(strategy, str) and strategy:
        return strategy
    if not isinstance(strategy, Strategy):
        raise ConfigError(
            "a strategy must be a registered name or an rrperf.engine.strategies.Strategy, "
            f"got {type(strategy).__name__} {strategy!r}"
        )
    registered = STRATEGIES.get(strategy.name)
    if registered is None or registered == strategy:
        return str(strategy.name)
    changed = [
        f"{f.name}={_label_value(getattr(strategy, f.name))}"
        for f in dataclasses.fields(strategy)
        if f.name != "name" and getattr(strategy, f.name) != getattr(registered, f.name)
    ]
    return f"{strategy.name}[{','.join(changed)}]"


def _folder_name(label: str) -> str:
    """A file-name-safe folder for a strategy label (labels may hold ``[``, ``=``, ``,``)."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._") or "x"
    if clean != label:
        clean = f"{clean[:40]}-{hashlib.sha1(label.encode('utf-8')).hexdigest()[:8]}"
    return clean


@dataclass(frozen=True)
class RunOutcome:
    """What one run of a system did.

    Parameters
    ----------
    n_tables, files_total, files_written, files_unchanged : int or None
        Tables generated and files produced / rewritten / left untouched; ``None`` lets the
        runner count them (tables from the schema, files from the output folder).
    cache_hits, cache_misses : int
        Cache lookups during this run (0 for systems without a cache).
    output_digest : str or None
        :func:`rrperf.generator.digest.output_digest` of the output folder; ``None`` lets the
        runner compute it.
    child_cpu_s : float
        CPU seconds spent in child processes (commands), added to the iteration's ``cpu_s``.
    child_peak_rss_mb : float or None
        Peak resident memory of the child process, reported instead of the worker's.
    """

    n_tables: int | None = None
    files_total: int | None = None
    files_written: int | None = None
    files_unchanged: int | None = None
    cache_hits: int = 0
    cache_misses: int = 0
    output_digest: str | None = None
    child_cpu_s: float = 0.0
    child_peak_rss_mb: float | None = None


@dataclass(frozen=True)
class RunContext:
    """Everything about an iteration a system may need besides the source and output folder.

    Parameters
    ----------
    scenario : BenchScenario
        The scenario being run.
    strategy : str
        The strategy of this variant, as labelled in the ``strategy`` column
        (:func:`strategy_label`; ``""`` for systems without strategies).
    cache_state : str
        ``"cold"`` or ``"warm"``.
    work_dir : pathlib.Path
        A scratch folder of the benchmark run (rendered synthetic schemas go there).
    strategy_spec : Strategy or None
        The strategy object of this variant when it was given as one (a customized strategy);
        None when it was given by name.
    """

    scenario: BenchScenario
    strategy: str
    cache_state: str
    work_dir: Path
    strategy_spec: Strategy | None = None

    @property
    def strategy_arg(self) -> str | Strategy:
        """What to run: the strategy object when there is one, else the name."""
        return self.strategy_spec if self.strategy_spec is not None else self.strategy

    def schema_path(self) -> Path:
        """A ``schema.rb`` file for the scenario (rendered for synthetic scenarios)."""
        return self.scenario.schema_rb(self.work_dir)


@runtime_checkable
class System(Protocol):
    """An implementation the benchmark measures.

    ``prepare(cache_state)`` runs before every iteration, outside the timed region; in the
    ``cold`` state it must empty every cache the system keeps. ``reset()`` runs once after the
    benchmark and releases resources.
    """

    @property
    def name(self) -> str:
        """Registry name (the ``system`` column)."""
        ...

    @property
    def supports_strategies(self) -> bool:
        """Whether the system runs pipeline strategies (else its strategy is ``""``)."""
        ...

    def run(self, source: str, out_dir: Path, *, context: RunContext) -> RunOutcome: ...

    def prepare(self, cache_state: str) -> None: ...

    def reset(self) -> None: ...


# --- output folders ----------------------------------------------------------------------------


def snapshot_folder(folder: str | os.PathLike[str]) -> dict[str, tuple[int, int]]:
    """Map each file under ``folder`` (relative POSIX path) to ``(size, mtime_ns)``."""
    root = Path(folder)
    out: dict[str, tuple[int, int]] = {}
    if not root.is_dir():
        return out
    for path in root.rglob("*"):
        if path.is_file():
            st = path.stat()
            out[path.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


# --- built-in generators -----------------------------------------------------------------------


class GeneratorSystem:
    """The built-in ``legacy`` or ``pipeline`` generator of :mod:`rrperf.generator.api`.

    Parameters
    ----------
    impl : {"legacy", "pipeline"}
        Which generator.
    name : str or None
        Registry name; ``impl`` when None.
    cache_dir : path-like or None
        Root of the disk caches of the strategies' execution contexts (one sub-folder per
        strategy); a temporary folder owned by this system when None.
    config : RrperfConfig or None
        The project configuration every run uses (``generate(config=...)``) and every
        strategy context is made with (``make_context(config=...)``); None: the defaults.

    Notes
    -----
    Each strategy gets one execution
    context (``get_strategy(strategy).make_context(cache_dir=...)``), reused by every
    iteration, so warm iterations hit its memory and disk caches; ``prepare("cold")`` clears
    them. A strategy is a registered name or a :class:`~rrperf.engine.strategies.Strategy`
    object (``RunContext.strategy_spec``, e.g. a customized copy of a registered one); contexts
    are kept per :func:`strategy_label`, so a customized copy never shares the registered
    strategy's caches.

    Raises
    ------
    ConfigError
        If ``impl`` is not ``legacy`` or ``pipeline``.
    """

    def __init__(
        self,
        impl: str,
        *,
        name: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        config: RrperfConfig | None = None,
    ) -> None:
        if impl not in BUILTIN_SYSTEMS:
            raise ConfigError(f"impl must be one of {', '.join(BUILTIN_SYSTEMS)}, got {impl!r}")
        self.impl = impl
        self.name = name or impl
        self.supports_strategies = impl == "pipeline"
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._contexts: dict[str, Any] = {}
        self.config = config

    def __repr__(self) -> str:
        return f"GeneratorSystem({self.impl!r}, name={self.name!r})"

    def __getstate__(self) -> dict[str, Any]:
        # Execution contexts hold executors and open caches: a copy sent to a worker process
        # starts without them (its caches are rebuilt from the disk level).
        state = self.__dict__.copy()
        state["_contexts"] = {}
        state["_tmp"] = None
        if self._cache_dir is None and self._tmp is not None:
            state["_cache_dir"] = Path(self._tmp.name)
        return state

    def ensure_cache_dir(self) -> Path:
        """The root of this system's disk caches, made now (a temporary folder) if unset.

        Worker processes that receive a copy of the system (isolated or Valgrind iterations)
        then share that folder, so warm iterations find the disk level of the caches.
        """
        if self._cache_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="rrperf-cache-")
            self._cache_dir = Path(self._tmp.name)
        return self._cache_dir

    def context(self, strategy: str | Strategy) -> Any | None:
        """The execution context of ``strategy`` (a name or a Strategy), made on first use.

        Returns
        -------
        ExecutionContext or None
            None for ``""`` (a system without strategies).

        Raises
        ------
        ConfigError
            For an unknown strategy name or a value that is no strategy.
        """
        if isinstance(strategy, str) and not strategy:
            return None
        label = strategy_label(strategy)
        ctx = self._contexts.get(label)
        if ctx is None:
            folder = self.ensure_cache_dir() / self.name / _folder_name(label)
            folder.mkdir(parents=True, exist_ok=True)
            ctx = get_strategy(strategy).make_context(cache_dir=folder, config=self.config)
            self._contexts[label] = ctx
        return ctx

    def run(self, source: str, out_dir: Path, *, context: RunContext) -> RunOutcome:
        """Generate ``source`` into ``out_dir`` and report the generator's own counts."""
        from rrperf.generator.api import generate

        strategy: str | Strategy = context.strategy_arg if self.supports_strategies else ""
        ctx = self.context(strategy)
        if ctx is not None:
            hits0, misses0 = ctx.cache_stats()
            res = generate(source, out_dir, impl=self.impl, strategy=strategy,
                           config=self.config, context=ctx)
            hits1, misses1 = ctx.cache_stats()
            hits, misses = hits1 - hits0, misses1 - misses0
        else:
            res = generate(source, out_dir, impl=self.impl, strategy=strategy or None,
                           config=self.config)
            hits = misses = 0
        return RunOutcome(
            n_tables=res.n_tables,
            files_total=res.files_total,
            files_written=res.files_written,
            files_unchanged=res.files_unchanged,
            cache_hits=int(hits),
            cache_misses=int(misses),
        )

    def prepare(self, cache_state: str) -> None:
        """Empty every strategy's caches before a cold iteration.

        Open contexts are cleared; cache folders of strategies without an open context (a
        fresh isolated worker has none) are removed, so their disk level starts empty too.
        """
        if cache_state != "cold":
            return
        for ctx in self._contexts.values():
            ctx.clear()
        root = self._cache_dir / self.name if self._cache_dir is not None else None
        if root is not None and root.is_dir():
            open_folders = {_folder_name(label) for label in self._contexts}
            for folder in root.iterdir():
                if folder.is_dir() and folder.name not in open_folders:
                    shutil.rmtree(folder)

    def reset(self) -> None:
        """Close the execution contexts and remove a temporary cache folder."""
        contexts, self._contexts = self._contexts, {}
        for ctx in contexts.values():
            ctx.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self._cache_dir = None


# --- user systems ------------------------------------------------------------------------------


class CallableSystem:
    """A Python callable ``fn(schema_source, out_dir)`` measured as a system.

    Its return value is ignored, except that a returned :class:`rrperf.engine.stages.Pipeline`
    is run (inside the measurement). File counts and the digest come from the output folder.

    Parameters
    ----------
    fn : callable
    name : str

    Raises
    ------
    ConfigError
        If ``fn`` is not callable.
    """

    supports_strategies = False

    def __init__(self, fn: Callable[[str, Path], Any], *, name: str) -> None:
        if not callable(fn):
            raise ConfigError(f"system {name!r}: expected a callable, got {fn!r}")
        self.fn = fn
        self.name = name

    def __repr__(self) -> str:
        return f"CallableSystem({self.fn!r}, name={self.name!r})"

    def run(self, source: str, out_dir: Path, *, context: RunContext) -> RunOutcome:
        """Call ``fn(source, out_dir)`` (and run the Pipeline it returns, if any)."""
        from rrperf.engine.stages import Pipeline

        value = self.fn(source, out_dir)
        if isinstance(value, Pipeline):
            value.run()
        return RunOutcome()

    def prepare(self, cache_state: str) -> None:
        """Nothing to clear: a callable keeps no caches rrperf knows of."""

    def reset(self) -> None:
        """Nothing to release."""


class PipelineSystem(CallableSystem):
    """A factory ``factory(schema_source, out_dir) -> Pipeline``; building and running are timed.

    Raises
    ------
    BenchmarkError
        At run time, if the factory returns something other than a Pipeline.
    """

    def run(self, source: str, out_dir: Path, *, context: RunContext) -> RunOutcome:
        """Build the pipeline for ``source`` and run it."""
        from rrperf.engine.stages import Pipeline

        pipeline = self.fn(source, out_dir)
        if not isinstance(pipeline, Pipeline):
            raise BenchmarkError(
                f"system {self.name!r}: the factory must return a Pipeline, "
                f"got {type(pipeline).__name__}"
            )
        pipeline.run()
        return RunOutcome()


@dataclass(frozen=True)
class Command:
    """A shell command measured as a system.

    Parameters
    ----------
    command : str
        The command line. ``{schema}`` becomes the scenario's ``schema.rb`` path (synthetic
        schemas are rendered to a file first) and ``{out}`` the output folder; both are quoted
        with :func:`shlex.quote`. The line is split with :func:`shlex.split` and run without a
        shell (so pipes and redirections need an explicit ``sh -c '...'``).
    cwd : str or None
        Working directory; relative folders are taken from the current directory.
    name : str
        Registry name (set by :func:`as_system`).
    env : mapping or None
        Extra environment variables for the command.

    Notes
    -----
    The child is started with :class:`subprocess.Popen` and reaped with :func:`os.wait4`, whose
    resource usage gives the child's CPU time and peak resident memory. A non-zero exit raises
    :class:`BenchmarkError` ``"exit N: <last stderr line>"``, which the runner records in the
    iteration's ``error`` column. Output that a command writes elsewhere than ``{out}`` is not
    part of the digest.

    Raises
    ------
    ConfigError
        If ``command`` is empty or cannot be split.
    """

    command: str
    cwd: str | None = None
    name: str = "command"
    env: Mapping[str, str] | None = field(default=None, compare=False)

    supports_strategies = False

    def __post_init__(self) -> None:
        if not isinstance(self.command, str) or not self.command.strip():
            raise ConfigError(f"command: expected a non-empty string, got {self.command!r}")
        try:
            shlex.split(self.command)
        except ValueError as err:
            raise ConfigError(f"command {self.command!r} cannot be split: {err}") from err
        if self.cwd is not None and not isinstance(self.cwd, str):
            raise ConfigError(f"command cwd: expected a string or None, got {self.cwd!r}")

    def argv(self, *, schema: str | None, out: str) -> list[str]:
        """The argument vector for one run, with {schema} and {out} substituted and quoted."""
        line = self.command.replace("{out}", shlex.quote(out))
        if "{schema}" in line:
            if schema is None:
                raise BenchmarkError(f"command {self.command!r} needs {{schema}}")
            line = line.replace("{schema}", shlex.quote(schema))
        return shlex.split(line)

    def run(self, source: str, out_dir: Path, *, context: RunContext) -> RunOutcome:
        """Run the command once; measure the child's CPU time and peak memory."""
        schema = str(context.schema_path()) if "{schema}" in self.command else None
        argv = self.argv(schema=schema, out=str(out_dir))
        env = {**os.environ, **self.env} if self.env else None
        with tempfile.TemporaryFile() as err_file:
            try:
                proc = subprocess.Popen(
                    argv, cwd=self.cwd, env=env,
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err_file,
                )
            except OSError as err:
                raise BenchmarkError(f"cannot start {argv[0]!r}: {err.strerror or err}") from err
            with proc:
                cpu_s, rss_mb = _reap(proc)
            if proc.returncode != 0:
                err_file.seek(0)
                lines = err_file.read().decode("utf-8", "replace").strip().splitlines()
                last = lines[-1].strip() if lines else ""
                raise BenchmarkError(f"exit {proc.returncode}: {last}")
        return RunOutcome(child_cpu_s=cpu_s, child_peak_rss_mb=rss_mb)

    def prepare(self, cache_state: str) -> None:
        """Commands keep their own caches; rrperf cannot clear them."""

    def reset(self) -> None:
        """Nothing to release."""


def _reap(proc: subprocess.Popen[bytes]) -> tuple[float, float | None]:
    """Wait for ``proc``; return (child CPU seconds, child peak RSS in MB or None)."""
    if hasattr(os, "wait4"):
        _, status, usage = os.wait4(proc.pid, 0)
        # Tell Popen the child is reaped, so it neither waits again nor warns.
        proc.returncode = os.waitstatus_to_exitcode(status)
        # ru_maxrss is in KiB on Linux (bytes on macOS).
        kib = usage.ru_maxrss / 1024 if os.uname().sysname == "Darwin" else usage.ru_maxrss
        return usage.ru_utime + usage.ru_stime, kib / 1024
    proc.wait()
    return 0.0, None


# --- registry helpers --------------------------------------------------------------------------


def as_system(name: str, system: Any) -> System:
    """Wrap what the user registers into a :class:`System`.

    Parameters
    ----------
    name : str
        Registry name.
    system : System, Command, SystemConfig, str or callable
        A ready System (used as is), a :class:`Command` or configured ``SystemConfig`` (a
        command), a string (a command line) or a callable (a :class:`CallableSystem`).

    Returns
    -------
    System

    Raises
    ------
    ConfigError
        If ``name`` is empty or ``system`` is none of these.
    """
    from rrperf.config import SystemConfig

    if not isinstance(name, str) or not name:
        raise ConfigError(f"a system name must be a non-empty string, got {name!r}")
    if isinstance(system, Command):
        return Command(system.command, cwd=system.cwd, name=name, env=system.env)
    if isinstance(system, SystemConfig):
        return Command(system.command, cwd=system.cwd, name=name)
    if isinstance(system, str):
        return Command(system, name=name)
    if isinstance(system, System):
        return system
    if callable(system):
        return CallableSystem(system, name=name)
    raise ConfigError(
        f"system {name!r}: expected a System, Command, command string or callable, "
        f"got {type(system).__name__}"
    )


def check_names(kind: str, asked: Iterable[str], valid: Iterable[str]) -> None:
    """Raise :class:`ConfigError` naming the unknown entries of ``asked`` and the valid ones."""
    valid_list = list(valid)
    unknown = [a for a in asked if a not in valid_list]
    if unknown:
        raise ConfigError(
            f"unknown {kind} {', '.join(map(repr, unknown))}; "
            f"expected one of: {', '.join(valid_list) or '(none)'}"
        )
