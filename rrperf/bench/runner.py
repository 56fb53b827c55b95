"""BenchmarkRunner: scenarios × systems × strategies × cache states, interleaved iterations.

How a run is laid out (pyperf and asv are the models):

1. Every name is checked first (scenarios, systems, strategies, cache states); a typo raises
   before anything runs, listing the valid names.
2. For each scenario and cache state, the variants (a system with one of its strategies) run in
   rounds. Warm-up rounds come first; they are kept in the table with ``warmup=True``. In every
   round the variants run in an order drawn from ``random.Random(seed)``, recorded in ``order``,
   so slow drift on a noisy machine hits all variants alike. ``iteration`` is the round number,
   counted from 0 with the warm-ups (``warmup=1, iterations=2`` gives rounds 0, 1 and 2).
3. Each variant has its own output folder. ``cold``: the folder is emptied and the system's
   caches cleared before every iteration. ``warm``: folder and caches are kept from the previous
   identical iteration (the warm-up fills them; with ``warmup=0`` the first warm iteration
   starts cold).
4. What is timed is only ``system.run``: wall time with the injected ``clock``
   (:func:`time.perf_counter`), CPU time as a :func:`time.process_time` delta plus the CPU of
   child processes (commands), and the memory the run took (:class:`PeakRssMeter`: its peak
   resident memory above the iteration's start, this process and its children). A command
   reports its own child's peak memory.
   Output digests and file counts that a system does not report are taken from its output
   folder after the clock stops.
5. An iteration whose system raises, or whose command exits non-zero, gets the message in
   ``error`` (``"exit N: <last stderr line>"`` for commands) and missing ``wall_s``, ``cpu_s``,
   ``peak_rss_mb`` and ``output_digest``, so it never enters a statistic; the run continues.
6. With ``isolate=True`` every iteration runs in a fresh worker process (``spawn``), as pyperf
   runs each benchmark in its own process; the worker times itself with
   :func:`time.perf_counter` and only the disk level of the caches survives between iterations.
7. With ``metric="instructions"`` every iteration is counted under Valgrind instead (see
   :mod:`rrperf.bench.metrics`: in-process systems in a forked worker under cachegrind whose
   start-up cancels exactly, commands wrapped whole); the count goes to the
   ``instructions`` column, which is missing in wall-time runs.
8. After every iteration (warm-ups included) the row goes to the history store, if any, and
   then to the ``on_iteration`` callback, if any, as an :class:`IterationEvent`
   ``(done, total, row)``; progress bars and live views hang off that hook.
9. Warnings raised while an iteration sets up, runs and is read back are recorded, not shown
   (a system that warns on every run would print the same lines hundreds of times);
   :class:`~rrperf.errors.RrperfWarning` subclasses always, other warnings as the caller's
   filters say. After the run they are de-duplicated into ``result.warnings`` (one row per
   scenario, system, strategy, category and message, with ``count`` and
   ``first_iteration``) and each distinct one is emitted once more (an RrperfWarning at the
   caller of :meth:`BenchmarkRunner.run`, any other at the place that raised it). The
   recorder is entered and left outside the clock (a recorded warning costs ~2 µs more than
   an ignored one, 2026-11-26). :func:`warnings.catch_warnings` swaps process-wide state, so
   with a benchmark in a background thread, other threads' warnings are recorded too.

Strategies are registered names or :class:`rrperf.engine.strategies.Strategy` objects (a
customized copy such as ``dataclasses.replace(get_strategy("parallel"), workers=1)``); the
``strategy`` column holds :func:`rrperf.bench.systems.strategy_label` of each, so a customized
copy appears as ``parallel[workers=1]``, never as the registered ``parallel``.

With ``client=distributed.Client(...)`` the run goes to a Dask cluster instead, one task per
scenario (see :mod:`rrperf.bench.cluster`; issue 13).

The result is a :class:`rrperf.bench.results.BenchmarkResult`. Its ``correctness`` table flags
variants whose output digest differs from the baseline system (``legacy`` when measured, else
the first system); ``compare()`` leaves them out of the speed verdict.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import random
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from rrperf.bench.recording import Caught, describe_error, recording
from rrperf.bench.recording import caught as caught_warnings
from rrperf.bench.scenarios import BenchScenario, resolve_scenarios
from rrperf.bench.systems import (
    BUILTIN_SYSTEMS,
    CACHE_STATES,
    GeneratorSystem,
    RunContext,
    RunOutcome,
    System,
    as_system,
    available_strategies,
    check_names,
    default_strategy,
    snapshot_folder,
    strategy_label,
)
from rrperf.errors import ConfigError, RrperfError, RrperfWarning

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.bench.history import HistoryStore
    from rrperf.bench.results import BenchmarkResult
    from rrperf.config import RrperfConfig
    from rrperf.engine.strategies import Strategy

__all__ = [
    "DEFAULT_SCENARIOS", "BenchmarkRunner", "IterationEvent", "PeakRssMeter", "StopRule", "Variant",
]

logger = logging.getLogger(__name__)

#: Scenarios of :meth:`BenchmarkRunner.run` when none are given.
DEFAULT_SCENARIOS: tuple[str, ...] = ("small", "medium", "large", "polymorphic_heavy")

# psutil fallback sampling period for the peak-memory meter.
_RSS_SAMPLE_S = 0.005
_CLEAR_REFS = "/proc/self/clear_refs"
_STATUS = "/proc/self/status"


@dataclass(frozen=True)
class Variant:
    """One measured combination: a system and the strategy it runs (``""`` when none).

    ``strategy`` is the label of the ``strategy`` column; ``spec`` is the
    :class:`~rrperf.engine.strategies.Strategy` object when the strategy was given as one
    (None when it was given by name).
    """

    system: str
    strategy: str
    spec: Strategy | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """``system`` or ``system/strategy``."""
        return f"{self.system}/{self.strategy}" if self.strategy else self.system


@dataclass(frozen=True)
class IterationEvent:
    """What :class:`BenchmarkRunner` reports to ``on_iteration`` after each iteration.

    Parameters
    ----------
    done : int
        Iterations finished so far in this run, warm-ups included (1 for the first).
    total : int
        Iterations the run plans: ``scenarios × variants × cache states × (warmup +
        iterations)``.
    row : mapping
        The iteration's row of the measurements table (a read-only copy; missing timings and
        an ``error`` message for a failed iteration).
    """

    done: int
    total: int
    row: Mapping[str, Any]


IterationCallback = Callable[[IterationEvent], None]
#: ``until(rows, rounds)``: called after every complete measured round of a run with
#: ``until`` set, with the rows so far (warm-ups included) and the measured rounds done;
#: True ends the run there.
StopRule = Callable[[Sequence[Mapping[str, Any]], int], bool]


# --- memory ------------------------------------------------------------------------------------


class PeakRssMeter:
    """Memory the work of an interval took: its peak resident memory above the start, in MiB.

    Parameters
    ----------
    above_start : bool
        True (what the benchmark runner uses): the peak above the interval's start, this
        process and its children, as described below. False: this process's own peak RSS
        (its high-water mark over the interval, whatever it held before).

    The host process's own high-water mark says little about one iteration: after the first
    one (and after pandas, numpy and the notebook kernel are loaded) it is the same 250 MB for
    every variant. What an iteration adds is measured instead: the peak RSS during the interval
    minus the RSS at its start, for this process plus its child processes (the ``parallel``
    strategy's pool workers; a worker started during the interval counts whole).

    On Linux, :meth:`start` reads each process's ``VmRSS`` and resets its kernel high-water
    mark (``5`` written to ``/proc/<pid>/clear_refs``, see proc(5)); :meth:`stop` reads
    ``VmHWM``. Both are kernel counters: nothing runs while the work runs, and the peak is
    exact, native allocations included. (tracemalloc would see only Python allocations and
    slows allocation-heavy code severalfold; a sampling thread misses short peaks and takes
    CPU from the work.) A child that exits before :meth:`stop` is not counted. Where
    ``/proc`` cannot be used, a psutil thread samples this process's RSS every 5 ms.

    The figure is the growth above what the process already held: memory that the allocator
    kept from an earlier iteration and reuses is not counted again.
    """

    def __init__(self, *, above_start: bool = False) -> None:
        self.above_start = above_start
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._peak = 0
        self._base = 0
        self._proc_fs = False
        self._children: dict[int, int] = {}

    @staticmethod
    def _read_kib(status: str, field: str) -> int | None:
        try:
            with open(status, encoding="ascii") as fh:
                for line in fh:
                    if line.startswith(field):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return None

    @classmethod
    def _read_hwm_kib(cls) -> int | None:
        return cls._read_kib(_STATUS, "VmHWM:")

    @staticmethod
    def _child_pids() -> list[int]:
        """This process's descendants, from ``/proc/<pid>/task/<tid>/children`` (a few reads),
        else psutil (which scans every process of the machine)."""
        found: list[int] = []
        me = os.getpid()
        todo = [me]
        try:
            if not os.path.exists(f"/proc/{me}/task/{me}/children"):
                raise OSError("no /proc children lists (CONFIG_PROC_CHILDREN)")
            while todo:
                pid = todo.pop()
                for tid in os.listdir(f"/proc/{pid}/task"):
                    try:
                        with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                            kids = [int(k) for k in fh.read().split()]
                    except FileNotFoundError:  # the thread or process ended meanwhile
                        continue
                    found.extend(kids)
                    todo.extend(kids)
            return found
        except OSError:
            pass
        import psutil

        try:
            return [c.pid for c in psutil.Process().children(recursive=True)]
        except psutil.Error:
            return []

    def start(self) -> None:
        """Begin the interval."""
        try:
            with open(_CLEAR_REFS, "w", encoding="ascii") as fh:
                fh.write("5")
            rss = self._read_kib(_STATUS, "VmRSS:")
            self._proc_fs = rss is not None and self._read_hwm_kib() is not None
            self._base = rss or 0
        except OSError:
            self._proc_fs = False
        if not self.above_start:
            self._base = 0
        if self._proc_fs:
            self._children = {}
            for pid in self._child_pids() if self.above_start else ():
                try:
                    with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as fh:
                        fh.write("5")
                except OSError:
                    continue
                rss = self._read_kib(f"/proc/{pid}/status", "VmRSS:")
                if rss is not None:
                    self._children[pid] = rss
            return
        import psutil

        proc = psutil.Process()
        self._peak = proc.memory_info().rss
        self._base = self._peak if self.above_start else 0
        self._stop.clear()

        def sample() -> None:
            while not self._stop.wait(_RSS_SAMPLE_S):
                self._peak = max(self._peak, proc.memory_info().rss)

        self._thread = threading.Thread(target=sample, name="rrperf-rss", daemon=True)
        self._thread.start()

    def stop(self) -> float:
        """End the interval; return the peak resident memory above the start, in MiB."""
        if self._proc_fs:
            hwm = self._read_hwm_kib()
            if hwm is None:
                return float("nan")
            grown = max(0, hwm - self._base)
            for pid in self._child_pids() if self.above_start else ():
                peak = self._read_kib(f"/proc/{pid}/status", "VmHWM:")
                if peak is not None:
                    grown += max(0, peak - self._children.get(pid, 0))
            return grown / 1024
        import psutil

        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._peak = max(self._peak, psutil.Process().memory_info().rss)
        return max(0, self._peak - self._base) / (1024 * 1024)


# --- one iteration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Measure:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    outcome: RunOutcome | None
    error: str | None
    caught: tuple[Caught, ...] = ()
    instructions: float = math.nan


class _WarningLog:
    """The distinct warnings of one run, with their counts and first iterations."""

    def __init__(self) -> None:
        # (scenario, system, strategy, category name, message) -> [count, first iteration]
        self._rows: dict[tuple[str, str, str, str, str], list[int]] = {}
        # (category, message) -> first occurrence, in the order first seen
        self._distinct: dict[tuple[type[Warning], str], Caught] = {}

    def __len__(self) -> int:
        return len(self._distinct)

    def add(
        self, scenario: str, variant: Variant, iteration: int, caught: Iterable[Caught]
    ) -> None:
        for c in caught:
            key = (scenario, variant.system, variant.strategy, c.category.__name__, c.message)
            entry = self._rows.get(key)
            if entry is None:
                self._rows[key] = [1, iteration]
            else:
                entry[0] += 1
                entry[1] = min(entry[1], iteration)
            self._distinct.setdefault((c.category, c.message), c)

    def frame(self) -> pd.DataFrame:
        from rrperf.bench.results import warnings_frame

        return warnings_frame(
            {
                "scenario": scenario, "system": system, "strategy": strategy,
                "category": category, "message": message, "count": count,
                "first_iteration": first,
            }
            for (scenario, system, strategy, category, message), (count, first)
            in self._rows.items()
        )

    def emit(self, stacklevel: int) -> None:
        """Warn once per distinct (category, message), RrperfWarnings as if the caller of this
        method called ``warnings.warn(..., stacklevel=stacklevel)``."""
        for (category, message), first in self._distinct.items():
            if issubclass(category, RrperfWarning):
                warnings.warn(message, category, stacklevel=stacklevel + 1)
            else:
                warnings.warn_explicit(message, category, first.filename, first.lineno)


def _measure(
    system: System, source: str, out_dir: Path, context: RunContext, clock: Callable[[], float]
) -> _Measure:
    """Time one ``system.run``; the clock is read exactly twice."""
    meter = PeakRssMeter(above_start=True)
    meter.start()
    cpu0 = time.process_time()
    t0 = clock()
    outcome: RunOutcome | None = None
    error: str | None = None
    try:
        outcome = system.run(source, out_dir, context=context)
    except Exception as err:  # recorded in the iteration's error column, the run goes on
        error = describe_error(err)
        logger.warning("%s on %s failed: %s", system.name, context.scenario.name, error)
    t1 = clock()
    cpu1 = time.process_time()
    peak = meter.stop()
    return _Measure(t1 - t0, cpu1 - cpu0, peak, outcome, error)


def _isolated_iteration(
    system: System, source: str, out_dir: Path, context: RunContext
) -> _Measure:
    """Entry point of an isolated worker process: prepare, measure, release.

    The warnings raised meanwhile travel back in ``_Measure.caught``.
    """
    with recording() as log:
        try:
            system.prepare(context.cache_state)
            m = _measure(system, source, out_dir, context, time.perf_counter)
        finally:
            system.reset()
    return replace(m, caught=caught_warnings(log))


# --- runner ------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "x"
    if clean != text:
        import hashlib

        clean = f"{clean[:40]}-{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"
    return clean


def _as_strategies(value: Any) -> tuple[tuple[str, Strategy | None], ...]:
    """``(label, object or None)`` per strategy: names stay names, objects get their label."""
    # A single name or Strategy object counts as a one-item list.
    single = isinstance(value, str) or not isinstance(value, Iterable)
    items = (value,) if single else tuple(value)
    out: list[tuple[str, Strategy | None]] = []
    for item in items:
        if isinstance(item, str):
            if not item:
                raise ConfigError("strategies: expected non-empty names, got ''")
            out.append((item, None))
            continue
        try:
            out.append((strategy_label(item), item))
        except ConfigError as err:
            raise ConfigError(
                "strategies: expected names or rrperf.engine.strategies.Strategy objects, "
                f"got {type(item).__name__} {item!r}"
            ) from err
    if not out:
        raise ConfigError("strategies: expected at least one name, got none")
    labels = [label for label, _ in out]
    if len(set(labels)) != len(labels):
        dup = sorted({x for x in labels if labels.count(x) > 1})
        raise ConfigError(f"strategies: each strategy once, got duplicates {', '.join(dup)}")
    return tuple(out)


def _as_names(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ConfigError(f"{what}: expected non-empty strings, got {item!r}")
    if not items:
        raise ConfigError(f"{what}: expected at least one name, got none")
    if len(set(items)) != len(items):
        dup = sorted({i for i in items if items.count(i) > 1})
        raise ConfigError(f"{what}: each name once, got duplicates {', '.join(dup)}")
    return items


class BenchmarkRunner:
    """Measure systems on scenarios with interleaved, seeded, repeated iterations.

    Parameters
    ----------
    output_dir : path-like or None
        Where the systems write (one folder per scenario, cache state and variant, kept after
        the run for inspection); a temporary folder removed after each run when None.
    iterations : int
        Measured rounds per scenario and cache state (>= 1).
    warmup : int
        Warm-up rounds before them (>= 0), kept in the table with ``warmup=True``.
    verbose : bool
        Log one INFO line per iteration on ``rrperf.bench.runner``.
    progress : bool
        Show a tqdm progress bar (a widget in Jupyter) on runs longer than a second.
    history : HistoryStore, path-like or None
        Store every iteration as soon as it is measured (``start_run``, ``append_iteration``
        after each iteration, ``finish_run`` at the end; status ``failed`` on an exception).
    seed : int or None
        Seed of the interleaving order; None draws a fresh one.
    isolate : bool
        Run each iteration in a fresh worker process (see the module docstring).
    metric : {"wall", "instructions"}
        ``"instructions"`` counts every iteration's instructions under Valgrind (the
        ``instructions`` column; see :mod:`rrperf.bench.metrics`); stability checks then
        look at that column. ``"wall"`` (default) leaves it missing.
    config : RrperfConfig or None
        Project configuration (:func:`rrperf.config.load_config`; ``rrperf bench`` passes
        the ``rrperf.toml`` it finds): its ``[systems.NAME]`` commands are registered,
        ``cache.dir`` is the default ``cache_dir``, and the built-in generators run with it
        (``exclude_tables``, ``polymorphic_types``, and the ``[cache]``, ``[executor]`` and
        ``[monitor]`` sections of their strategies' contexts). None: the defaults (no file is
        read).
    cache_dir : path-like or None
        Root of the built-in pipeline's disk caches; a temporary folder when None.
    clock : callable
        Wall clock in seconds, read once before and once after each ``system.run``
        (inject a scripted one in tests). Not used by isolated workers.
    name : str or None
        Label of the runs in the history store and run metadata.
    on_iteration : callable or None
        Called as ``on_iteration(event)`` with an :class:`IterationEvent` after every
        iteration, warm-ups and failed iterations included, once its row is in the history
        store. It runs in the thread of the benchmark, outside the timed region. An exception
        it raises is not caught: it ends the run (systems are reset, a history run is marked
        ``failed``) and propagates to the caller of :meth:`run`.
    client : distributed.Client or None
        Run on this Dask cluster: one task per scenario, each scenario's rounds on one
        worker, the history written by this process only (see :mod:`rrperf.bench.cluster`);
        None runs here.

    Raises
    ------
    ConfigError
        If an argument has the wrong type or value.

    Examples
    --------
    >>> runner = BenchmarkRunner(iterations=3, seed=1, progress=False)   # doctest: +SKIP
    >>> result = runner.run(scenarios=["small"])                         # doctest: +SKIP
    >>> result.compare(baseline="legacy")                                 # doctest: +SKIP
    """

    def __init__(
        self,
        output_dir: str | os.PathLike[str] | None = None,
        *,
        iterations: int = 5,
        warmup: int = 1,
        verbose: bool = False,
        progress: bool = True,
        history: HistoryStore | str | os.PathLike[str] | None = None,
        seed: int | None = None,
        isolate: bool = False,
        config: RrperfConfig | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        name: str | None = None,
        on_iteration: IterationCallback | None = None,
        client: Any = None,
        until: StopRule | None = None,
        metric: str = "wall",
    ) -> None:
        def _int(value: Any, what: str, minimum: int) -> int:
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(f"{what} must be an integer >= {minimum}, got {value!r}")
            return value

        self.iterations = _int(iterations, "iterations", 1)
        self.warmup = _int(warmup, "warmup", 0)
        for flag, value in (("verbose", verbose), ("progress", progress), ("isolate", isolate)):
            if not isinstance(value, bool):
                raise ConfigError(f"{flag} must be True or False, got {value!r}")
        self.verbose = verbose
        self.progress = progress
        self.isolate = isolate
        from rrperf.bench.metrics import metric_column

        self.metric_column = metric_column(metric)
        self.metric = "instructions" if self.metric_column == "instructions" else "wall"
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ConfigError(f"seed must be an integer or None, got {seed!r}")
        self.seed = seed
        if not callable(clock):
            raise ConfigError(f"clock must be a callable returning seconds, got {clock!r}")
        self.clock = clock
        if on_iteration is not None and not callable(on_iteration):
            raise ConfigError(
                f"on_iteration must be a callable taking an IterationEvent or None, "
                f"got {on_iteration!r}"
            )
        self.on_iteration = on_iteration
        from rrperf.bench.cluster import check_client  # issue 13 (imports no dask)

        self.client = check_client(client)
        if until is not None and not callable(until):
            raise ConfigError(
                f"until must be a callable taking (rows, rounds) or None, got {until!r}"
            )
        self.until = until
        if name is not None and (not isinstance(name, str) or not name):
            raise ConfigError(f"name must be a non-empty string or None, got {name!r}")
        self.name = name
        if output_dir is not None and not isinstance(output_dir, str | os.PathLike):
            raise ConfigError(f"output_dir must be a path or None, got {output_dir!r}")
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.history = self._check_history(history)
        from rrperf.config import RrperfConfig

        if config is None:
            config = RrperfConfig()
        else:
            if not isinstance(config, RrperfConfig):
                raise ConfigError(
                    f"config must be an RrperfConfig or None, got {type(config).__name__}"
                )
        self.config = config
        if cache_dir is None and config.cache.get("dir"):
            cache_dir = config.cache["dir"]
        if cache_dir is not None and not isinstance(cache_dir, str | os.PathLike):
            raise ConfigError(f"cache_dir must be a path or None, got {cache_dir!r}")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

        self._systems: dict[str, System] = {
            impl: GeneratorSystem(impl, cache_dir=self.cache_dir, config=config)
            for impl in BUILTIN_SYSTEMS
        }
        base = Path(config.source).parent if config.source else Path.cwd()
        for sys_name, spec in config.systems.items():
            cwd = spec.cwd
            if cwd is not None and not Path(cwd).is_absolute():
                cwd = str(base / cwd)
            from rrperf.bench.systems import Command

            self._systems[sys_name] = Command(spec.command, cwd=cwd, name=sys_name)
        self._n_tables: dict[str, int] = {}

    @staticmethod
    def _check_history(history: Any) -> HistoryStore | str | os.PathLike[str] | None:
        if history is None or isinstance(history, str | os.PathLike):
            return history
        for method in ("start_run", "append_iteration", "finish_run"):
            if not callable(getattr(history, method, None)):
                raise ConfigError(
                    f"history must be a HistoryStore or a path, got {type(history).__name__} "
                    f"(no {method} method)"
                )
        return history  # type: ignore[no-any-return]

    @contextmanager
    def _history_store(self) -> Iterator[HistoryStore | None]:
        """The history store of a run; one opened from a path is closed after the run."""
        if self.history is None or not isinstance(self.history, str | os.PathLike):
            yield self.history
            return
        from rrperf.bench.history import HistoryStore

        with HistoryStore(self.history) as store:
            yield store

    def __repr__(self) -> str:
        return (
            f"BenchmarkRunner(iterations={self.iterations}, warmup={self.warmup}, "
            f"seed={self.seed}, isolate={self.isolate}, systems={list(self._systems)})"
        )

    # -- systems

    @property
    def systems(self) -> tuple[str, ...]:
        """Names of the systems this runner knows (built-ins, configured, registered)."""
        return tuple(self._systems)

    def register_system(self, name: str, system: Any) -> System:
        """Register a system under ``name`` for this runner (replacing one of that name).

        Parameters
        ----------
        name : str
        system : System, Command, str or callable
            A ready :class:`~rrperf.bench.systems.System`; a
            :class:`~rrperf.bench.systems.Command` or a command string; or a callable
            ``fn(schema_source, out_dir)`` (a returned Pipeline is run too).

        Returns
        -------
        System
            What was registered.

        Raises
        ------
        ConfigError
            If ``name`` is empty or ``system`` is of an unsupported kind.
        """
        wrapped = as_system(name, system)
        if name in self._systems:
            logger.debug("system %r replaced", name)
        self._systems[name] = wrapped
        return wrapped

    def system(self, name: str) -> System:
        """The system registered as ``name``.

        Raises
        ------
        ConfigError
            If no system has that name (the message lists the known ones).
        """
        check_names("system", [name], self._systems)
        return self._systems[name]

    # -- planning

    def _variants(
        self,
        systems: tuple[str, ...],
        strategies: tuple[tuple[str, Strategy | None], ...] | None,
    ) -> list[Variant]:
        out: list[Variant] = []
        for sys_name in systems:
            system = self._systems[sys_name]
            if getattr(system, "supports_strategies", False):
                for label, spec in strategies or ((default_strategy(), None),):
                    out.append(Variant(sys_name, label, spec))
            else:
                out.append(Variant(sys_name, ""))
        return out

    def plan(
        self,
        scenarios: str | Iterable[str] = DEFAULT_SCENARIOS,
        *,
        systems: str | Iterable[str] = BUILTIN_SYSTEMS,
        strategies: str | Strategy | Iterable[str | Strategy] | None = None,
        cache_states: str | Iterable[str] = ("cold",),
    ) -> tuple[list[BenchScenario], list[Variant], tuple[str, ...]]:
        """Check every name and return (scenarios, variants, cache states) without running.

        Raises
        ------
        BenchmarkError
            On an unknown scenario (listing the valid ones).
        ConfigError
            On an unknown system, strategy or cache state (listing the valid ones), on
            duplicates (two strategies with one label count as duplicates), on a strategy
            that is neither a name nor a Strategy object, or when strategies are given but
            no chosen system runs strategies.
        """
        scen_names = _as_names(scenarios, "scenarios")
        sys_names = _as_names(systems, "systems")
        check_names("system", sys_names, self._systems)
        states = _as_names(cache_states, "cache_states")
        check_names("cache state", states, CACHE_STATES)
        strat: tuple[tuple[str, Strategy | None], ...] | None = None
        if strategies is not None:
            strat = _as_strategies(strategies)
            labels = [label for label, _ in strat]
            if not any(
                getattr(self._systems[s], "supports_strategies", False) for s in sys_names
            ):
                raise ConfigError(
                    f"strategies {', '.join(labels)} were given, but none of the systems "
                    f"{', '.join(sys_names)} runs strategies (the built-in one is 'pipeline')"
                )
            check_names(
                "strategy", [label for label, spec in strat if spec is None], available_strategies()
            )
        resolved = resolve_scenarios(scen_names)
        return resolved, self._variants(sys_names, strat), states

    # -- running

    def benchmark_scenario(
        self,
        name: str,
        *,
        systems: str | Iterable[str] = BUILTIN_SYSTEMS,
        strategies: str | Strategy | Iterable[str | Strategy] | None = None,
        cache_states: str | Iterable[str] = ("cold",),
    ) -> BenchmarkResult:
        """Benchmark one scenario; see :meth:`run` for the options."""
        if not isinstance(name, str):
            raise ConfigError(f"benchmark_scenario takes one scenario name, got {name!r}")
        return self._run_comparative(
            (name,), systems=systems, strategies=strategies, cache_states=cache_states,
            stacklevel=3,
        )

    def run(
        self,
        scenarios: str | Iterable[str] = DEFAULT_SCENARIOS,
        *,
        systems: str | Iterable[str] = BUILTIN_SYSTEMS,
        strategies: str | Strategy | Iterable[str | Strategy] | None = None,
        cache_states: str | Iterable[str] = ("cold",),
    ) -> BenchmarkResult:
        """Run every scenario × variant × cache state and return the measurements.

        Parameters
        ----------
        scenarios : str or iterable of str
            Scenario names (see :mod:`rrperf.bench.scenarios`).
        systems : str or iterable of str
            Registered system names; the baseline is ``legacy`` when included, else the first.
        strategies : str, Strategy, iterable of str or Strategy, or None
            Strategies for systems that run them (``pipeline``): registered names or
            :class:`~rrperf.engine.strategies.Strategy` objects (customized strategies),
            labelled in the ``strategy`` column by
            :func:`~rrperf.bench.systems.strategy_label` (``parallel[workers=1]``). None
            means the default (``sequential`` once strategies exist, else the plain staged
            pipeline).
        cache_states : str or iterable of str
            ``cold`` and/or ``warm``.

        Returns
        -------
        BenchmarkResult
            One row per iteration, warm-ups included (``scenarios × variants ×
            (warmup + iterations) × cache states`` rows); ``result.warnings`` lists the
            distinct warnings raised during the iterations (see the module notes).

        Raises
        ------
        BenchmarkError, ConfigError
            On an unknown name, before anything runs (see :meth:`plan`).
        Exception
            Whatever the ``on_iteration`` callback raises (the run stops there).

        Warns
        -----
        RrperfWarning
            Each distinct warning raised during the iterations, once, after the run (not
            when the run stops on an exception), then :class:`~rrperf.errors.StabilityWarning`
            per unstable group.
        """
        return self._run_comparative(
            scenarios, systems=systems, strategies=strategies, cache_states=cache_states,
            stacklevel=3,
        )

    #: The seed's name of :meth:`run`.
    run_comparative_benchmark = run

    def _run_comparative(
        self,
        scenarios: str | Iterable[str],
        *,
        systems: str | Iterable[str],
        strategies: str | Strategy | Iterable[str | Strategy] | None,
        cache_states: str | Iterable[str],
        stacklevel: int,
    ) -> BenchmarkResult:
        """The run; ``stacklevel`` 3 points re-emitted warnings at the public method's caller."""
        if self.client is not None:  # issue 13: one task per scenario on a Dask cluster
            from rrperf.bench.cluster import run_on_cluster

            return run_on_cluster(
                self, scenarios, systems=systems, strategies=strategies,
                cache_states=cache_states, stacklevel=stacklevel + 1,
            )
        from rrperf.bench.metadata import (
            BenchmarkPresence,
            canonical_json,
            collect_metadata,
            load_average,
            new_run_id,
        )
        from rrperf.bench.results import BenchmarkResult, measurements_frame

        resolved, variants, states = self.plan(
            scenarios, systems=systems, strategies=strategies, cache_states=cache_states
        )
        sys_names = list(dict.fromkeys(v.system for v in variants))
        baseline = "legacy" if "legacy" in sys_names else sys_names[0]
        run_id = new_run_id()
        run_config = {
            "scenarios": [s.name for s in resolved],
            "variants": [v.label for v in variants],
            "cache_states": list(states),
            "iterations": self.iterations,
            "warmup": self.warmup,
            "seed": self.seed,
            "isolate": self.isolate,
            "until": self.until is not None,
            "metric": self.metric,
            "project": self.config.to_dict(),
        }
        rows: list[dict[str, Any]] = []
        caught = _WarningLog()
        with self._history_store() as store, BenchmarkPresence() as presence:
            machine: dict[str, Any] = {
                "load_avg_start": load_average(),
                "other_benchmarks_at_start": presence.others(),
            }
            run_config["machine"] = machine
            metadata = collect_metadata(run_id=run_id, name=self.name, config=run_config)
            if store is not None:
                store.start_run(metadata, name=self.name, baseline=baseline)
            status = "failed"
            try:
                rows = self._run_all(run_id, resolved, variants, states, store, caught)
                status = "complete"
            finally:
                for sys_name in sys_names:
                    self._systems[sys_name].reset()
                machine.update(
                    load_avg_end=load_average(), other_benchmarks_at_end=presence.others()
                )
                metadata = replace(metadata, config_json=canonical_json(run_config))
                if store is not None:
                    from rrperf.bench.history import HistoryStore

                    if isinstance(store, HistoryStore):
                        store.finish_run(run_id, status, metadata=metadata)
                    else:  # another object with the three methods (see _check_history)
                        store.finish_run(run_id, status)
        result = BenchmarkResult(
            measurements_frame(rows), metadata.to_frame(), baseline=baseline,
            warnings=caught.frame(),
        )
        if len(caught):
            logger.info(
                "%d distinct warning(s) during the benchmark; they are in result.warnings",
                len(caught),
            )
        caught.emit(stacklevel)
        self._check_stability(result)
        return result

    def _check_stability(self, result: BenchmarkResult) -> None:
        from rrperf.bench import stats

        stats.warn_if_unstable(result.data, value=self.metric_column)

    @contextmanager
    def _output_root(self) -> Iterator[Path]:
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            yield self.output_dir
            return
        with tempfile.TemporaryDirectory(prefix="rrperf-bench-") as tmp:
            yield Path(tmp)

    def _run_all(
        self,
        run_id: str,
        scenarios: Sequence[BenchScenario],
        variants: Sequence[Variant],
        states: Sequence[str],
        store: HistoryStore | None,
        caught: _WarningLog,
    ) -> list[dict[str, Any]]:
        from tqdm.auto import tqdm

        rng = random.Random(self.seed)
        rounds = self.warmup + self.iterations
        total = len(scenarios) * len(states) * rounds * len(variants)
        rows: list[dict[str, Any]] = []
        with ExitStack() as stack:
            root = stack.enter_context(self._output_root())
            work_dir = root / "_work"
            work_dir.mkdir(parents=True, exist_ok=True)
            isolated = self.isolate and self.metric == "wall"
            pool = stack.enter_context(self._worker_pool()) if isolated else None
            bar = stack.enter_context(
                tqdm(total=total, delay=1.0, disable=not self.progress, desc="rrperf bench",
                     unit="it", leave=False)
            )
            cells = [(scenario, state) for scenario in scenarios for state in states]
            folders = {
                (scenario.name, state, v): root / _slug(scenario.name) / state / _slug(v.label)
                for scenario, state in cells for v in variants
            }

            def one_round(scenario: BenchScenario, state: str, rnd: int) -> None:
                ordering = rng.sample(list(variants), len(variants))
                for position, variant in enumerate(ordering):
                    row = self._iteration(
                        run_id=run_id, scenario=scenario, variant=variant,
                        cache_state=state, iteration=rnd, order=position,
                        warmup=rnd < self.warmup,
                        out_dir=folders[(scenario.name, state, variant)],
                        work_dir=work_dir, pool=pool, caught=caught,
                    )
                    rows.append(row)
                    if store is not None:
                        store.append_iteration(run_id, row)
                    bar.update(1)
                    if self.on_iteration is not None:
                        self.on_iteration(
                            IterationEvent(len(rows), total, MappingProxyType(dict(row)))
                        )

            if self.until is None:
                for scenario, state in cells:
                    for rnd in range(rounds):
                        one_round(scenario, state, rnd)
            else:
                for rnd in range(rounds):
                    for scenario, state in cells:
                        one_round(scenario, state, rnd)
                    measured = rnd + 1 - self.warmup
                    if measured > 0 and self.until(rows, measured):
                        logger.info("stop rule met after %d measured round(s)", measured)
                        break
        return rows

    @contextmanager
    def _worker_pool(self) -> Iterator[Any]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1
        )
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _iteration(
        self,
        *,
        run_id: str,
        scenario: BenchScenario,
        variant: Variant,
        cache_state: str,
        iteration: int,
        order: int,
        warmup: bool,
        out_dir: Path,
        work_dir: Path,
        pool: Any,
        caught: _WarningLog,
    ) -> dict[str, Any]:
        system = self._systems[variant.system]
        # The recorder is entered and left outside the timed region (_measure reads the
        # clock inside it).
        with recording() as recorded:
            if cache_state == "cold" and out_dir.exists():
                shutil.rmtree(out_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            context = RunContext(
                scenario, variant.strategy, cache_state, work_dir, strategy_spec=variant.spec
            )
            before = snapshot_folder(out_dir)
            started_at = datetime.now(UTC)
            if self.metric == "instructions":
                m = self._measure_instructions(system, scenario.source, out_dir, context)
            elif pool is None:
                system.prepare(cache_state)
                # No young garbage left for the timed region: the collection that another
                # variant's allocations made due (a generator run pauses the collector, so
                # its survivors are all young) would otherwise land in this one's time. The
                # young generations only: a full collection costs ~75 ms with pandas loaded.
                gc.collect(1)
                m = _measure(system, scenario.source, out_dir, context, self.clock)
            else:
                m = self._measure_isolated(pool, system, scenario.source, out_dir, context)
            row = self._row(
                m, run_id=run_id, started_at=started_at, scenario=scenario, variant=variant,
                cache_state=cache_state, iteration=iteration, order=order, warmup=warmup,
                out_dir=out_dir, before=before,
            )
        caught.add(scenario.name, variant, iteration, (*m.caught, *caught_warnings(recorded)))
        log = logger.info if self.verbose else logger.debug
        log(
            "%s %s %s round %d%s: %s", scenario.name, variant.label, cache_state, iteration,
            " (warm-up)" if warmup else "",
            row["error"] if row["error"] else f"{row['wall_s']:.4f} s, "
            f"{row['files_written']}/{row['files_total']} files written",
        )
        return row

    @staticmethod
    def _measure_instructions(
        system: System, source: str, out_dir: Path, context: RunContext
    ) -> _Measure:
        from rrperf.bench import metrics
        from rrperf.bench.systems import Command

        try:
            if isinstance(system, Command):
                count = metrics.count_command(system, source, out_dir, context)
            else:
                count = metrics.count_in_process(system, source, out_dir, context)
        except Exception as err:  # recorded in the iteration's error column, the run goes on
            count = metrics.InstructionCount(
                math.nan, math.nan, math.nan, None, describe_error(err)
            )
        if count.error is not None:
            logger.warning("%s on %s failed: %s", system.name, context.scenario.name, count.error)
        return _Measure(
            count.wall_s, count.cpu_s, math.nan, count.outcome, count.error,
            tuple(count.caught), count.instructions,
        )

    @staticmethod
    def _measure_isolated(
        pool: Any, system: System, source: str, out_dir: Path, context: RunContext
    ) -> _Measure:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return pool.submit(  # type: ignore[no-any-return]
                _isolated_iteration, system, source, out_dir, context
            ).result()
        except BrokenProcessPool as err:
            return _Measure(math.nan, math.nan, math.nan, None, f"worker process died: {err}")

    def _count_tables(self, scenario: BenchScenario) -> int:
        """Tables of a scenario, for systems that do not report them (cached per source)."""
        if scenario.source not in self._n_tables:
            from rrperf.schema.sources import load_schema

            try:
                count = len(load_schema(scenario.source).tables)
            except RrperfError as err:
                logger.warning("cannot count the tables of %s: %s", scenario.name, err)
                count = 0
            self._n_tables[scenario.source] = count
        return self._n_tables[scenario.source]

    def _row(
        self,
        m: _Measure,
        *,
        run_id: str,
        started_at: datetime,
        scenario: BenchScenario,
        variant: Variant,
        cache_state: str,
        iteration: int,
        order: int,
        warmup: bool,
        out_dir: Path,
        before: Mapping[str, tuple[int, int]],
    ) -> dict[str, Any]:
        row: dict[str, Any] = {
            "run_id": run_id,
            "started_at": started_at,
            "scenario": scenario.name,
            "system": variant.system,
            "strategy": variant.strategy,
            "cache_state": cache_state,
            "iteration": iteration,
            "order": order,
            "warmup": warmup,
            "worker": None,  # issue 13: a Dask worker's address when run on a cluster
        }
        nan = math.nan
        if m.outcome is None:
            row.update(
                wall_s=nan, cpu_s=nan, peak_rss_mb=nan, instructions=nan, n_tables=0, files_total=0,
                files_written=0, files_unchanged=0, cache_hits=0, cache_misses=0,
                output_digest=None, error=m.error or "no outcome",
            )
            return row
        from rrperf.generator.digest import output_digest

        out = m.outcome
        files_total, written, unchanged = out.files_total, out.files_written, out.files_unchanged
        if files_total is None or written is None or unchanged is None:
            after = snapshot_folder(out_dir)
            files_total = len(after)
            written = sum(1 for rel, stamp in after.items() if before.get(rel) != stamp)
            unchanged = files_total - written
        row.update(
            wall_s=float(m.wall_s),
            cpu_s=float(m.cpu_s + out.child_cpu_s),
            peak_rss_mb=float(
                out.child_peak_rss_mb if out.child_peak_rss_mb is not None else m.peak_rss_mb
            ),
            instructions=float(m.instructions),
            n_tables=int(
                out.n_tables if out.n_tables is not None else self._count_tables(scenario)
            ),
            files_total=int(files_total),
            files_written=int(written),
            files_unchanged=int(unchanged),
            cache_hits=int(out.cache_hits),
            cache_misses=int(out.cache_misses),
            output_digest=out.output_digest or output_digest(out_dir),
            error=None,
        )
        return row

