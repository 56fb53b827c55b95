"""ParallelExecutor: run a stage graph on threads, processes or this thread.

Design notes
------------
* The graph is validated by :class:`~rrperf.engine.stages.Pipeline` (duplicate names, unknown
  dependencies, cycles raise :class:`~rrperf.errors.ConfigError`) before anything runs.
* Scheduling uses :class:`graphlib.TopologicalSorter`: a stage is submitted as soon as all of its
  dependencies are done. At most ``workers`` stages are in flight at once, so nothing waits in a
  pool queue: a submitted stage starts at once, a per-stage timeout counts from submission, and
  after a failure no stage that was not yet started is ever run.
* The worker function returns an outcome record (value or exception, timings, pid, thread)
  instead of raising, so a stage's failure is told apart from a failure of the pool itself.
  Exceptions are checked to survive a pickle round trip in the worker; one that does not is
  replaced by a :class:`RuntimeError` carrying its type, text and traceback.
* Process pools come from ``loky.get_reusable_executor`` (cloudpickle ships functions defined
  in a notebook). The pool is shared per process and kept alive between calls, so its start-up
  (about 0.4-1 s) is paid once. Dependency results are pickled and shipped with every task that
  needs them: stages passing large results between each other should be coarsened into batch
  stages (one stage per group of tables rather than per table), or run on threads.
* When the pool itself fails (a worker dies, a stage cannot be pickled), the stages that have
  not completed are rerun sequentially in this thread; ``fallback_reason`` says why and one
  :class:`~rrperf.errors.FallbackWarning` is issued per run.
* Timestamps come from an injectable ``clock`` (default :func:`time.perf_counter`, which on
  Linux is ``CLOCK_MONOTONIC`` and so comparable between processes of one machine).
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import logging
import os
import pickle
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, wait
from concurrent.futures import TimeoutError as FuturesTimeoutError
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rrperf._util import is_int, is_number, usable_cpus
from rrperf.engine.stages import Pipeline, Stage
from rrperf.errors import ConfigError, FallbackWarning, StageError, StageTimeout

if TYPE_CHECKING:
    from concurrent.futures import Executor

    import pandas as pd

    from rrperf.engine.monitor import PerformanceMonitor

__all__ = [
    "BACKENDS",
    "TIMING_COLUMNS",
    "ExecutorConfig",
    "ParallelExecutor",
    "ForkedCall",
    "StageTiming",
    "fork_call",
    "fork_map",
]

logger = logging.getLogger(__name__)

Backend = Literal["thread", "process", "serial", "dask"]
BACKENDS: tuple[str, ...] = ("thread", "process", "serial", "dask")
# Backends whose stages run in other processes (results and errors are pickled); "dask"
# (issue 13) submits to the current distributed.Client, see rrperf.engine.dask_backend.
_REMOTE_BACKENDS: tuple[str, ...] = ("process", "dask")

#: Columns of :meth:`ParallelExecutor.stage_timings`, in order.
TIMING_COLUMNS: tuple[str, ...] = (
    "run",
    "backend",
    "stage",
    "pid",
    "thread",
    "start_s",
    "end_s",
    "wall_s",
    "status",
    "fallback_reason",
)

# Idle workers of the reusable loky pool stay alive this long (loky's default is 10 s, which
# would make a notebook pay the pool start-up again after every pause).
_POOL_IDLE_TIMEOUT_S = 300


#: How the process backend may start its workers (:attr:`ExecutorConfig.start_method`).
START_METHODS: tuple[str, ...] = ("loky", "fork")


def fork_available() -> bool:
    """Whether worker processes can be forked here (Linux; macOS and Windows cannot safely)."""
    import sys

    return sys.platform.startswith("linux") and hasattr(os, "fork")


@dataclass(frozen=True)
class ExecutorConfig:
    """How a :class:`ParallelExecutor` runs stages.

    Parameters
    ----------
    backend : {"thread", "process", "serial", "dask"}
        Where stages run: a thread pool, a (loky) process pool, this thread, or the workers
        of the current Dask client (:mod:`rrperf.engine.dask_backend`).
    max_workers : int or None
        Pool size; None means the number of CPUs this process may use (for ``dask``: the
        worker threads of the cluster).
    enable_monitoring : bool
        Record each run as a :class:`~rrperf.engine.monitor.PerformanceMonitor` session.
    stage_timeout_s : float or None
        Longest a single stage may run (from its submission) before :class:`StageTimeout`.
        Not applied by the serial backend, which cannot interrupt the running stage.
    fallback : bool
        Rerun the remaining stages sequentially when the pool itself fails.
    prefetch : int
        Ready stages submitted ahead per worker on the process backend, so that a worker
        finishing a stage finds the next one already sent instead of waiting for the round
        trip through this process (20-25 ms per stage measured here with 250 KB arguments,
        2026-11-26). A queued stage checks, before it starts, whether the run has failed
        meanwhile and is then not run. 0 submits a stage only when a worker is free; with
        ``stage_timeout_s`` set nothing is submitted ahead (timeouts count from submission).
    start_method : {"loky", "fork"}
        How the process backend starts its workers. ``"loky"``: loky's reusable pool, shared
        by the process; each worker is a new interpreter that imports what its stages need
        (1.5 s for two workers on this machine under load, 2026-12-02), and stages may be
        closures (cloudpickle). ``"fork"``: a pool of this executor, forked from this process
        on first use, so the workers start with every module already imported (0.04-0.06 s
        for two); stage functions must be importable (standard pickle). ``"fork"`` is only
        available where the operating system forks (:func:`fork_available`).

    Raises
    ------
    ConfigError
        If a value has the wrong type or range.
    """

    backend: str = "thread"
    max_workers: int | None = None
    enable_monitoring: bool = True
    stage_timeout_s: float | None = None
    fallback: bool = True
    prefetch: int = 1
    start_method: str = "loky"

    def __post_init__(self) -> None:
        if self.start_method not in START_METHODS:
            raise ConfigError(
                f"start_method must be one of {', '.join(START_METHODS)}, "
                f"got {self.start_method!r}"
            )
        if self.start_method == "fork" and not fork_available():
            raise ConfigError("start_method 'fork' is not available on this platform")
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
            )
        if self.max_workers is not None and not (is_int(self.max_workers) and self.max_workers > 0):
            raise ConfigError(
                f"max_workers must be a positive integer or None, got {self.max_workers!r}"
            )
        timeout = self.stage_timeout_s
        if timeout is not None and not (is_number(timeout) and timeout > 0):
            raise ConfigError(
                f"stage_timeout_s must be a positive number of seconds or None, got {timeout!r}"
            )
        if not (is_int(self.prefetch) and self.prefetch >= 0):
            raise ConfigError(f"prefetch must be a non-negative integer, got {self.prefetch!r}")
        for name in ("enable_monitoring", "fallback"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")

    @property
    def workers(self) -> int:
        """The resolved pool size (1 for the serial backend)."""
        if self.backend == "serial":
            return 1
        if self.max_workers is None and self.backend == "dask":
            from rrperf.engine.dask_backend import cluster_threads

            return cluster_threads()
        return self.max_workers if self.max_workers is not None else usable_cpus()



@dataclass(frozen=True)
class StageTiming:
    """When and where one stage ran (one row of :meth:`ParallelExecutor.stage_timings`)."""

    run: int
    backend: str
    stage: str
    pid: int | None
    thread: str | None
    start_s: float
    end_s: float
    wall_s: float
    status: str  # "ok", "error", "timeout" or "not_run"
    fallback_reason: str | None = None


@dataclass
class _Outcome:
    """What a worker sends back for one stage (always picklable)."""

    name: str
    ok: bool
    value: Any
    error: BaseException | None
    start: float
    end: float
    pid: int
    thread: str
    #: Warnings a process worker raised: (category, message, filename, lineno). A worker's
    #: stderr is not the caller's, so they are replayed in the parent (see ``_record``).
    warned: tuple[tuple[type[Warning], str, str, int], ...] = ()
    #: True when the stage was not run: it was queued ahead and the run had failed.
    skipped: bool = False


def _portable_error(err: BaseException) -> BaseException:
    """Return ``err`` if it survives a pickle round trip, else a RuntimeError describing it."""
    try:
        import cloudpickle

        pickle.loads(cloudpickle.dumps(err))
    except Exception as pickling_err:  # any failure means "cannot cross the process boundary"
        text = "".join(traceback.format_exception(err)).rstrip()
        portable = RuntimeError(f"{type(err).__qualname__}: {err}")
        portable.add_note(f"(the original exception could not be pickled: {pickling_err})")
        portable.add_note(text)
        return portable
    return err


def _execute_stage(
    stage: Stage,
    inputs: Mapping[str, Any],
    clock: Callable[[], float],
    remote: bool,
    abort: str | None = None,
) -> _Outcome:
    """Run one stage and report its value or exception (the task function of every backend).

    ``abort`` is the path of the run's abort marker: if that file exists when the stage is
    about to start (the run failed while the stage waited in a worker's queue), the stage is
    not run; a stage that fails creates it, before its error travels back.
    """
    pid = os.getpid()
    thread = threading.current_thread().name
    start = clock()
    if abort is not None and os.path.exists(abort):
        return _Outcome(stage.name, False, None, None, start, start, pid, thread, skipped=True)
    with warnings.catch_warnings(record=remote) as caught:
        if remote:
            warnings.simplefilter("always")
        try:
            value = stage.call(inputs)
        except Exception as err:
            end = clock()
            if abort is not None:  # no stage queued behind this one starts from now on
                with contextlib.suppress(OSError):
                    open(abort, "a").close()  # noqa: SIM115 - only its existence matters
            shipped: BaseException = err
            if remote:
                err.add_note("".join(traceback.format_exception(err)).rstrip())
                shipped = _portable_error(err)
            return _Outcome(
                stage.name, False, None, shipped, start, end, pid, thread, _warned(caught)
            )
    return _Outcome(stage.name, True, value, None, start, clock(), pid, thread, _warned(caught))


def _warned(
    caught: list[warnings.WarningMessage] | None,
) -> tuple[tuple[type[Warning], str, str, int], ...]:
    return tuple((w.category, str(w.message), w.filename, w.lineno) for w in caught or ())


def _is_pool_failure(err: BaseException) -> bool:
    """True when ``err`` means the pool (not the stage) failed."""
    if isinstance(err, BrokenExecutor | pickle.PicklingError):
        return True
    from rrperf.engine.dask_backend import is_cluster_failure

    if is_cluster_failure(err):
        return True
    from loky.process_executor import ShutdownExecutorError

    return isinstance(err, ShutdownExecutorError)


class _PoolFailure(Exception):
    """Internal: the pool broke; carries the reason and the original error."""

    def __init__(self, reason: str, error: BaseException):
        super().__init__(reason)
        self.reason = reason
        self.error = error


@dataclass
class _Run:
    """Book-keeping of one execution (results, timings, fallback)."""

    index: int
    backend: str
    t0: float
    timings: list[StageTiming] = field(default_factory=list)
    fallback_reason: str | None = None
    #: Called with ``(name, value)`` once per stage that succeeded (see ``on_result``).
    on_result: Callable[[str, Any], None] | None = None
    notified: set[str] = field(default_factory=set)

    def notify(self, name: str, value: Any) -> None:
        """Report a stage's result to ``on_result`` (once per stage)."""
        if self.on_result is not None and name not in self.notified:
            self.notified.add(name)
            self.on_result(name, value)


class ParallelExecutor:
    """Run a graph of :class:`~rrperf.engine.stages.Stage` objects, in parallel where possible.

    Parameters
    ----------
    max_workers : int or None
        Pool size; None means the number of CPUs this process may use.
    backend : {"thread", "process", "serial"}
        ``"thread"`` suits stages that release the GIL or do I/O; ``"process"`` suits
        CPU-bound pure-Python stages with small inputs and outputs; ``"serial"`` runs
        everything in this thread.
    enable_monitoring : bool
        Record each run as a session of ``monitor`` (created on first use when not given).
    config : ExecutorConfig or None
        All options at once; pass either ``config`` or the arguments above, not both.
    monitor : PerformanceMonitor or None
        Monitor to record runs into (injected, e.g. shared with a benchmark).
    clock : callable
        Returns seconds; timestamps stages (it must pickle for the process backend).
    stage_timeout_s : float or None
        Shortcut for ``ExecutorConfig.stage_timeout_s``.

    Raises
    ------
    ConfigError
        On a bad option, or when ``config`` is combined with explicit options.

    Examples
    --------
    >>> from rrperf.engine import Stage
    >>> with ParallelExecutor(2, backend="thread", enable_monitoring=False) as ex:
    ...     out = ex.run([
    ...         Stage("a", lambda: 2), Stage("b", lambda a: a * 21, depends_on=("a",))])
    >>> out
    {'a': 2, 'b': 42}
    """

    def __init__(
        self,
        max_workers: int | None = None,
        backend: str = "thread",
        enable_monitoring: bool = True,
        *,
        config: ExecutorConfig | None = None,
        monitor: PerformanceMonitor | None = None,
        clock: Callable[[], float] = time.perf_counter,
        stage_timeout_s: float | None = None,
    ) -> None:
        if config is None:
            config = ExecutorConfig(
                backend=backend,
                max_workers=max_workers,
                enable_monitoring=enable_monitoring,
                stage_timeout_s=stage_timeout_s,
            )
        elif (max_workers, backend, enable_monitoring, stage_timeout_s) != (
            None,
            "thread",
            True,
            None,
        ):
            raise ConfigError(
                "pass either config=ExecutorConfig(...) or max_workers/backend/"
                "enable_monitoring/stage_timeout_s, not both"
            )
        if not isinstance(config, ExecutorConfig):
            raise ConfigError(f"config must be an ExecutorConfig, got {type(config).__name__}")
        self.config = config
        self._monitor = monitor
        self._clock = clock
        self._thread_pool: Executor | None = None
        self._fork_pool: Executor | None = None
        self._loky_used = False
        self._runs: list[_Run] = []
        self._lock = threading.Lock()
        #: Why the last run fell back to sequential execution (None if it did not).
        self.fallback_reason: str | None = None
        #: Wall-clock seconds of the last run (None before the first run).
        self.last_wall_s: float | None = None

    # --- properties -------------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """The configured backend."""
        return self.config.backend

    @property
    def max_workers(self) -> int:
        """The resolved pool size."""
        return self.config.workers

    @property
    def monitor(self) -> PerformanceMonitor | None:
        """The monitor runs are recorded into (None when monitoring is off)."""
        if not self.config.enable_monitoring:
            return self._monitor
        if self._monitor is None:
            from rrperf.engine.monitor import PerformanceMonitor

            self._monitor = PerformanceMonitor()
        return self._monitor

    def __repr__(self) -> str:
        return (
            f"ParallelExecutor(max_workers={self.max_workers}, backend={self.backend!r}, "
            f"enable_monitoring={self.config.enable_monitoring})"
        )

    # --- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> ParallelExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def shutdown(self, *, wait: bool = True, kill_workers: bool = False) -> None:
        """Release the pools.

        The thread pool belongs to this executor. The process pool is loky's reusable pool,
        shared by every executor of this process: shutting it down makes the next process run
        start a new one.

        Parameters
        ----------
        wait : bool
            Wait for running stages to finish.
        kill_workers : bool
            Terminate the worker processes at once (process backend).
        """
        with self._lock:
            pool, self._thread_pool = self._thread_pool, None
            forked, self._fork_pool = self._fork_pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
        if forked is not None:
            if kill_workers:
                _kill_workers(forked)
            forked.shutdown(wait=wait, cancel_futures=True)
        if self.backend == "process" and self.config.start_method == "loky":
            import loky

            self._loky_used = False
            loky.get_reusable_executor(
                max_workers=self.max_workers, timeout=_POOL_IDLE_TIMEOUT_S
            ).shutdown(wait=wait, kill_workers=kill_workers)

    @property
    def pool_started(self) -> bool:
        """Whether this executor's pool is up (a run then pays no start-up); thread and
        serial backends count as started (they start in microseconds)."""
        if self.backend != "process":
            return True
        if self.config.start_method == "fork":
            return self._fork_pool is not None
        return self._loky_used

    def start_pool(self, warm: Callable[[], Any] | None = None) -> None:
        """Start the process pool now, so that its start-up overlaps what this process does
        until the first stage is submitted; ``warm`` (an importable function) runs once per
        worker as it starts, e.g. to compile templates. Does nothing on other backends."""
        if self.backend != "process" or self.pool_started:
            return
        pool = self._pool("process")
        for _ in range(self.max_workers):
            pool.submit(_noop if warm is None else warm)

    def _pool(self, backend: str) -> Executor:
        if backend == "dask":  # the current client's executor; the client is not ours to close
            from rrperf.engine.dask_backend import executor_for

            return executor_for()
        if backend == "process" and self.config.start_method == "fork":
            with self._lock:
                if self._fork_pool is None:
                    import gc
                    import multiprocessing
                    from concurrent.futures import ProcessPoolExecutor

                    # forked now, with every module this process imported: nothing to load
                    self._fork_pool = ProcessPoolExecutor(
                        max_workers=self.max_workers,
                        mp_context=multiprocessing.get_context("fork"),
                        initializer=gc.enable,  # a run may have paused it when forking
                    )
                return self._fork_pool
        if backend == "process":
            import loky

            self._loky_used = True
            shared: Executor = loky.get_reusable_executor(
                max_workers=self.max_workers, timeout=_POOL_IDLE_TIMEOUT_S
            )
            return shared
        with self._lock:
            if self._thread_pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._thread_pool = ThreadPoolExecutor(
                    max_workers=self.max_workers, thread_name_prefix="rrperf-stage"
                )
            return self._thread_pool

    def _discard_pool(self, backend: str) -> None:
        """Abandon a pool whose worker is stuck in a timed-out stage."""
        if backend == "process" and self.config.start_method == "fork":
            with self._lock:
                forked, self._fork_pool = self._fork_pool, None
            if forked is not None:
                _kill_workers(forked)
                forked.shutdown(wait=False, cancel_futures=True)
            return
        if backend == "process":
            import loky

            loky.get_reusable_executor(
                max_workers=self.max_workers, timeout=_POOL_IDLE_TIMEOUT_S
            ).shutdown(wait=False, kill_workers=True)
            return
        with self._lock:
            pool, self._thread_pool = self._thread_pool, None
        if pool is not None:
            # A Python thread cannot be killed: the timed-out stage keeps running to its end.
            logger.warning("abandoning a thread pool whose stage timed out; it runs to its end")
            pool.shutdown(wait=False, cancel_futures=True)

    # --- public entry points ------------------------------------------------------------------

    def run(
        self,
        stages: Iterable[Stage] | Pipeline,
        *,
        on_result: Callable[[str, Any], None] | None = None,
    ) -> dict[str, Any]:
        """Run every stage as soon as the stages it depends on are done.

        Parameters
        ----------
        stages : iterable of Stage, or Pipeline
            The graph. Each ``func`` receives its dependencies' results as keyword arguments.
        on_result : callable or None
            Called in this thread as ``on_result(name, value)`` once per stage that
            succeeded, as the results arrive (in completion order, after the stages that
            became ready were submitted, so the pool keeps working meanwhile). Lets the
            caller consume results while later stages run. An exception it raises stops
            the run: stages not yet started are not run, started ones are waited for, and
            the exception propagates unchanged.

        Returns
        -------
        dict
            Results keyed by stage name, in the order the stages were given.

        Raises
        ------
        ConfigError
            On a duplicate name, an unknown dependency or a cycle (nothing runs).
        StageError
            When a stage raises; ``__cause__`` is the original exception. Stages not yet
            started are not run.
        StageTimeout
            When a stage runs longer than ``stage_timeout_s``.
        """
        pipeline = _as_pipeline(stages)
        if self.backend == "serial":
            return self._observed(pipeline, "serial", self._run_serial, on_result)
        return self._observed(pipeline, self.backend, self._run_pool, on_result)

    #: The seed's name of :meth:`run`.
    execute_with_dependencies = run

    def execute_parallel(
        self,
        stages: Iterable[Stage] | Pipeline,
        *,
        on_result: Callable[[str, Any], None] | None = None,
    ) -> dict[str, Any]:
        """Run independent stages (none may have ``depends_on``) concurrently.

        ``on_result`` is as for :meth:`run`.

        Raises
        ------
        ConfigError
            If a stage has dependencies (use :meth:`run`).
        StageError, StageTimeout
            As :meth:`run`.
        """
        pipeline = _as_pipeline(stages)
        dependent = [st.name for st in pipeline if st.depends_on]
        if dependent:
            raise ConfigError(
                "execute_parallel runs independent stages, but "
                f"{', '.join(map(repr, dependent))} depend on other stages; "
                "use execute_with_dependencies"
            )
        return self.run(pipeline, on_result=on_result)

    def execute_sequential(
        self,
        stages: Iterable[Stage] | Pipeline,
        *,
        on_result: Callable[[str, Any], None] | None = None,
    ) -> dict[str, Any]:
        """Run every stage in topological order in this thread (the baseline).

        ``on_result`` is as for :meth:`run`.

        Raises
        ------
        ConfigError, StageError
            As :meth:`run`.
        """
        return self._observed(_as_pipeline(stages), "serial", self._run_serial, on_result)

    def stage_timings(self, *, all_runs: bool = False) -> pd.DataFrame:
        """Per-stage timings of the last run (or of every run of this executor).

        Returns
        -------
        pandas.DataFrame
            Columns :data:`TIMING_COLUMNS`; ``start_s``/``end_s`` are seconds from the start of
            the run; stages that never started have status ``"not_run"`` and NaN times.
        """
        import pandas as pd

        with self._lock:
            runs = list(self._runs) if all_runs else self._runs[-1:]
        rows = [vars(t) for run in runs for t in run.timings]
        frame = pd.DataFrame(rows, columns=list(TIMING_COLUMNS))
        return frame.astype({"run": "int64", "start_s": "float64", "end_s": "float64"})

    # --- running --------------------------------------------------------------------------------

    def _observed(
        self,
        pipeline: Pipeline,
        backend: str,
        runner: Callable[[Pipeline, _Run], dict[str, Any]],
        on_result: Callable[[str, Any], None] | None = None,
    ) -> dict[str, Any]:
        """Run ``runner`` inside a monitor session (when monitoring) and record the run."""
        self.fallback_reason = None
        monitor = self.monitor if self.config.enable_monitoring else None
        own_session = monitor is not None and monitor.active_session is None
        if own_session:
            assert monitor is not None
            monitor.start_monitoring_session(
                f"{pipeline.name}[{backend}]", {"stages": len(pipeline), "backend": backend}
            )
        with self._lock:  # the run's clock starts after the monitor's own start-up
            run = _Run(index=len(self._runs), backend=backend, t0=self._clock(),
                       on_result=on_result)
            self._runs.append(run)
        try:
            results = runner(pipeline, run)
            for st in pipeline:  # e.g. stages a failing pool finished before the fallback
                run.notify(st.name, results[st.name])
        finally:
            self.last_wall_s = self._clock() - run.t0
            self.fallback_reason = run.fallback_reason
            self._record_not_run(pipeline, run)
            if monitor is not None:
                for t in run.timings:
                    if t.status != "not_run":
                        monitor.record_operation(ok=t.status == "ok")
                if own_session:
                    monitor.end_monitoring_session()
        return {st.name: results[st.name] for st in pipeline}

    def _record_not_run(self, pipeline: Pipeline, run: _Run) -> None:
        seen = {t.stage for t in run.timings}
        nan = float("nan")
        for st in pipeline:
            if st.name not in seen:
                run.timings.append(
                    StageTiming(run.index, run.backend, st.name, None, None, nan, nan, nan,
                                "not_run", run.fallback_reason)
                )

    def _record(self, run: _Run, out: _Outcome, backend: str, status: str) -> None:
        for category, message, filename, lineno in out.warned:
            # Replayed where the caller's warning filters and recorders apply.
            warnings.warn_explicit(message, category, filename, lineno)
        run.timings.append(
            StageTiming(
                run=run.index,
                backend=backend,
                stage=out.name,
                pid=out.pid,
                thread=out.thread,
                start_s=out.start - run.t0,
                end_s=out.end - run.t0,
                wall_s=out.end - out.start,
                status=status,
                fallback_reason=run.fallback_reason,
            )
        )

    def _run_serial(
        self,
        pipeline: Pipeline,
        run: _Run,
        results: dict[str, Any] | None = None,
        backend: str = "serial",
    ) -> dict[str, Any]:
        results = {} if results is None else results
        for name in pipeline.order:
            if name in results:
                continue
            out = _execute_stage(pipeline[name], results, self._clock, False)
            self._record(run, out, backend, "ok" if out.ok else "error")
            if not out.ok:
                assert out.error is not None
                raise StageError._during(name, out.error) from out.error
            results[name] = out.value
            run.notify(name, out.value)
        return results

    def _run_pool(self, pipeline: Pipeline, run: _Run) -> dict[str, Any]:
        results: dict[str, Any] = {}
        try:
            return self._schedule(pipeline, run, results)
        except _PoolFailure as failure:
            if not self.config.fallback:
                raise StageError(
                    "<pool>", f"the {self.backend} pool failed: {failure.reason}"
                ) from failure.error
            run.fallback_reason = failure.reason
            remaining = [n for n in pipeline.order if n not in results]
            logger.warning(
                "%s pool failed (%s); running %d remaining stage(s) sequentially",
                self.backend, failure.reason, len(remaining),
            )
            warnings.warn(
                f"the {self.backend} pool failed ({failure.reason}); "
                f"ran the {len(remaining)} remaining stage(s) sequentially",
                FallbackWarning,
                stacklevel=4,
            )
            return self._run_serial(pipeline, run, results, backend="serial-fallback")

    def _schedule(self, pipeline: Pipeline, run: _Run, results: dict[str, Any]) -> dict[str, Any]:
        timeout = self.config.stage_timeout_s
        remote = self.backend in _REMOTE_BACKENDS
        ahead = self.config.prefetch if remote and timeout is None else 0
        abort = None
        if ahead and self.backend == "process":  # a marker file on this machine
            import secrets

            abort = os.path.join(
                tempfile.gettempdir(), f"rrperf-abort-{os.getpid()}-{secrets.token_hex(8)}"
            )
        try:
            return self._schedule_on(pipeline, run, results, ahead, abort)
        finally:
            if abort is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(abort)

    def _schedule_on(
        self,
        pipeline: Pipeline,
        run: _Run,
        results: dict[str, Any],
        ahead: int,
        abort: str | None,
    ) -> dict[str, Any]:
        backend = self.backend
        remote = backend in _REMOTE_BACKENDS
        pool = self._pool(backend)
        workers = self.max_workers
        limit = workers * (1 + ahead)
        timeout = self.config.stage_timeout_s
        index = {st.name: i for i, st in enumerate(pipeline)}
        sorter: Any = _sorter(pipeline)
        ready: list[tuple[int, str]] = []
        running: dict[Future[_Outcome], tuple[str, float]] = {}

        def settle() -> _Outcome | None:
            """Stop submitting and let started stages finish; return the first failed one.

            Stages queued ahead in a worker see the abort marker and are not run.
            """
            if abort is not None and running:
                with contextlib.suppress(OSError):
                    open(abort, "a").close()  # noqa: SIM115 - only its existence matters
            for fut in running:
                fut.cancel()
            done, _ = wait(list(running))
            failed = None
            for fut in sorted(done, key=lambda f: index[running[f][0]]):
                if fut.cancelled() or fut.exception() is not None:
                    continue
                out = fut.result()
                if out.skipped:
                    continue
                self._record(run, out, backend, "ok" if out.ok else "error")
                if out.ok:
                    results[out.name] = out.value
                elif failed is None:
                    failed = out
            running.clear()
            return failed

        def drain(failure: _PoolFailure | None, error: BaseException | None, name: str) -> None:
            """Stop submitting, let started stages finish, then raise."""
            failed = settle()
            if failed is not None and error is None and failure is not None:
                # a real stage failure outranks the pool failure
                assert failed.error is not None
                error, name, failure = failed.error, failed.name, None
            if failure is not None:
                raise failure
            assert error is not None
            raise StageError._during(name, error) from error

        def report(arrived: list[str]) -> None:
            """Hand the arrived results to ``on_result`` (the next stages are running)."""
            try:
                for name in arrived:
                    run.notify(name, results[name])
            except BaseException:
                settle()
                raise
            arrived.clear()

        arrived: list[str] = []
        while sorter.is_active():
            for name in sorter.get_ready():
                heapq.heappush(ready, (index[name], name))
            while ready and len(running) < limit:
                _, name = heapq.heappop(ready)
                stage = pipeline[name]
                inputs = {dep: results[dep] for dep in stage.depends_on}
                try:
                    fut = pool.submit(_execute_stage, stage, inputs, self._clock, remote, abort)
                except Exception as err:
                    if _is_pool_failure(err) or isinstance(err, RuntimeError):
                        drain(_PoolFailure(_reason(err), err), None, name)
                    raise
                running[fut] = (name, self._clock())
            report(arrived)
            wait_s = None
            if timeout is not None:
                earliest = min(started for _, started in running.values())
                wait_s = max(0.0, earliest + timeout - self._clock())
            done, _ = wait(list(running), timeout=wait_s, return_when=FIRST_COMPLETED)
            if not done:
                self._timed_out(running, run, backend, timeout)
            for fut in sorted(done, key=lambda f: index[running[f][0]]):
                name, _ = running.pop(fut)
                transport_error = fut.exception()
                if transport_error is not None:
                    if _is_pool_failure(transport_error):
                        drain(_PoolFailure(_reason(transport_error), transport_error), None, name)
                    # the outcome could not be sent back (e.g. an unpicklable result)
                    drain(None, transport_error, name)
                out = fut.result()
                if out.skipped:
                    # queued ahead behind a stage that failed; that stage's outcome comes
                    # later in this batch or is still running, and raises (drain)
                    continue
                self._record(run, out, backend, "ok" if out.ok else "error")
                if not out.ok:
                    assert out.error is not None
                    drain(None, out.error, name)
                results[name] = out.value
                sorter.done(name)
                arrived.append(name)
        report(arrived)
        return results

    def _timed_out(
        self,
        running: dict[Future[_Outcome], tuple[str, float]],
        run: _Run,
        backend: str,
        timeout: float | None,
    ) -> None:
        name, started = min(running.values(), key=lambda item: item[1])
        now = self._clock()
        run.timings.append(
            StageTiming(run.index, backend, name, None, None, started - run.t0, now - run.t0,
                        now - started, "timeout", run.fallback_reason)
        )
        for fut in running:
            fut.cancel()
        self._discard_pool(backend)
        err = FuturesTimeoutError(f"stage {name!r} still running after {timeout} s")
        raise StageTimeout(name, f"ran longer than its timeout of {timeout} s") from err


def fork_map(
    work: Callable[[int], Any],
    n_items: int,
    workers: int,
    *,
    lead: Callable[[], Any] | None = None,
    on_result: Callable[[int, Any], Any] | None = None,
    on_lost: Callable[[int], Any] | None = None,
) -> list[Any]:
    """``[work(0), ..., work(n_items - 1)]`` computed by this process and ``workers - 1``
    processes forked from it, which share the items through a queue.

    The children inherit everything this process holds (copy-on-write): no argument is
    pickled and no pool is started; only each item's result travels back, pickled by the
    child as soon as it is done into an in-memory file (``memfd``) that this process reads
    between its own items, so that little is left to receive at the end. This process works
    on the items too, after ``lead()`` (work of its own that the children need not wait
    for). The items are handed out in order, one at a time, through a pipe holding their
    numbers (each read of 4 bytes is atomic), so whoever is free takes the next one.
    ``on_result(item, result)`` is called here as each result is done or received (in no
    particular order), so that merging overlaps the work.

    A failure stops the handing out: the others finish the item they hold, and the first
    error (this process's, else a child's) is raised as it was, or as a
    :class:`~rrperf.errors.StageError` when it cannot cross the process boundary. A child
    that dies gives a :class:`~rrperf.errors.StageError` naming its process id and how it
    ended, after ``on_lost(pid)`` (to clean up what it left). Warnings a child issued are
    issued here again. Linux only (:func:`fork_available`).

    Raises
    ------
    ConfigError
        If processes cannot be forked here, or more than 16,000 items.
    """
    if not fork_available():
        raise ConfigError("fork_map needs fork (Linux)")
    if n_items > 16_000:  # the queue must fit a pipe's buffer (64 KiB)
        raise ConfigError(f"fork_map takes at most 16,000 items, got {n_items}")
    queue_r = _item_queue(n_items)
    inboxes: list[_Inbox] = []
    results: dict[int, Any] = {}
    error: BaseException | None = None
    try:
        for _ in range(min(workers, n_items) - 1):
            inboxes.append(_fork_worker(work, queue_r, "fork_map"))
        try:
            if lead is not None:
                lead()
            for item in _queued(queue_r):
                results[item] = work(item)
                if on_result is not None:
                    on_result(item, results[item])
                for inbox in inboxes:
                    inbox.receive(on_result)
        except BaseException as err:
            error = err
            _drain(queue_r)
        while inboxes:
            inbox = inboxes.pop()
            got = inbox.finish(None if error else on_result)
            if isinstance(got, _Lost) and on_lost is not None:
                on_lost(inbox.pid)
            if isinstance(got, BaseException):
                error = error or got
            elif error is None:
                results.update(inbox.results)
    finally:
        os.close(queue_r)
        for inbox in inboxes:  # interrupted: stop the rest
            for step in (functools.partial(os.kill, inbox.pid, 9),
                         functools.partial(os.waitpid, inbox.pid, 0),
                         functools.partial(os.close, inbox.fd)):
                with contextlib.suppress(OSError):
                    step()
    if error is not None:
        raise error
    return [results[i] for i in range(n_items)]


def fork_call(task: Callable[[], Any], name: str = "fork_call") -> ForkedCall:
    """Start ``task()`` in a process forked from this one; :meth:`ForkedCall.wait` gives its
    result. ``name`` is the stage an error names when the process dies.

    The child inherits everything this process holds (copy-on-write), so ``task`` needs no
    pickling; its result or error comes back as in :func:`fork_map` (pickled into an
    in-memory file), its warnings are issued again here when waited for. For work that this
    process need not wait for until later (a cache store while it goes on analysing). Linux
    only (:func:`fork_available`).

    Raises
    ------
    ConfigError
        If processes cannot be forked here.
    """
    if not fork_available():
        raise ConfigError("fork_call needs fork (Linux)")
    queue_r = _item_queue(1)
    try:
        return ForkedCall(_fork_worker(lambda _: task(), queue_r, name))
    finally:
        os.close(queue_r)


class ForkedCall:
    """A call running in a forked process (:func:`fork_call`)."""

    __slots__ = ("_done", "_inbox")

    def __init__(self, inbox: _Inbox) -> None:
        self._inbox = inbox
        self._done = False

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._inbox.pid

    def wait(self) -> Any:
        """Wait for the call to end; its result, or its error raised here (a
        :class:`~rrperf.errors.StageError` when the child died or its error cannot cross
        the process boundary). Once: a second call returns None."""
        if self._done:
            return None
        self._done = True
        got = self._inbox.finish()
        if isinstance(got, BaseException):
            raise got
        return self._inbox.results.get(0)


def _item_queue(n_items: int) -> int:
    """The read end of a pipe holding the item numbers ``0 .. n_items - 1`` (4 bytes each;
    its write end closed, so that the emptied queue reads as end of file)."""
    import struct

    queue_r, queue_w = os.pipe()
    try:
        os.write(queue_w, struct.pack(f"<{n_items}I", *range(n_items)))
    finally:
        os.close(queue_w)
    return queue_r


def _fork_worker(work: Callable[[int], Any], queue_r: int, stage: str) -> _Inbox:
    """Fork a child that works through ``queue_r`` (:func:`_fork_child`); its inbox here
    (``stage``: what an error names when the child dies)."""
    fd = os.memfd_create(f"rrperf-{stage}", os.MFD_CLOEXEC)
    try:
        pid = os.fork()
    except BaseException:
        os.close(fd)
        raise
    if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
        _fork_child(work, queue_r, fd)
    return _Inbox(pid, fd, stage)


def _queued(queue_r: int) -> Iterable[int]:
    """The item numbers read from the queue of :func:`fork_map`, until it is empty."""
    while len(data := os.read(queue_r, 4)) == 4:
        yield int.from_bytes(data, "little")


def _drain(queue_r: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(queue_r, 65536):
            pass


def _send(fd: int, message: Any) -> None:
    """Append ``message`` to the child's file: its pickle's length (8 bytes), then it."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view):]


def _fork_child(work: Callable[[int], Any], queue_r: int, fd: int) -> None:
    """A child of :func:`fork_map`: work through the queue, sending each result as it is
    done, then ``("ok" | "error", error, warnings)``; exit at once (``os._exit``: no
    ``atexit``, no flushing of the parent's buffers, no teardown)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                for item in _queued(queue_r):
                    _send(fd, (item, work(item)))
                final: tuple[Any, ...] = ("ok", None, _warned(caught))
            except BaseException as err:
                _drain(queue_r)
                err.add_note("".join(traceback.format_exception(err)).rstrip())
                final = ("error", _portable_error(err), _warned(caught))
        try:
            _send(fd, (None, final))
        except Exception as err:
            _send(fd, (None, ("error", StageError("fork_map", f"cannot send back: {err}"), ())))
    finally:
        os._exit(0)


class _Inbox:
    """What one child of :func:`fork_map` (or :func:`fork_call`: ``stage``) sent: its results
    so far, then its final word."""

    __slots__ = ("fd", "final", "offset", "pid", "results", "stage")

    def __init__(self, pid: int, fd: int, stage: str) -> None:
        self.pid = pid
        self.fd = fd
        self.stage = stage
        self.offset = 0
        self.results: dict[int, Any] = {}
        self.final: tuple[str, BaseException | None, Any] | None = None

    def receive(self, on_result: Callable[[int, Any], Any] | None = None) -> None:
        """Read the messages the child has completely written since the last call (the file
        grows as it is written: whatever lies below its size is there); pass each result to
        ``on_result``."""
        size = os.fstat(self.fd).st_size
        while size - self.offset >= 8:
            length = int.from_bytes(os.pread(self.fd, 8, self.offset), "little")
            if size - self.offset - 8 < length:
                return
            item, value = pickle.loads(os.pread(self.fd, length, self.offset + 8))
            self.offset += 8 + length
            if item is None:
                self.final = value
            else:
                self.results[item] = value
                if on_result is not None:
                    on_result(item, value)

    def finish(self, on_result: Callable[[int, Any], Any] | None = None) -> BaseException | None:
        """Wait for the child to exit, read the rest (see :meth:`receive`); its error (or why
        it is lost) or None. The child's warnings are issued here."""
        try:
            _, status = os.waitpid(self.pid, 0)
            self.receive(on_result)
        finally:
            os.close(self.fd)
        if self.final is None:
            how = (f"was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                   else f"exited with status {os.waitstatus_to_exitcode(status)}")
            return _Lost(self.stage, f"worker process {self.pid} {how} before sending its "
                                     "results")
        kind, err, warned = self.final
        for category, message, filename, lineno in warned:
            warnings.warn_explicit(message, category, filename, lineno)
        return err if kind == "error" else None


class _Lost(StageError):
    """A child of :func:`fork_map` or :func:`fork_call` ended without sending its results."""


def _noop() -> None:
    """The task :meth:`ParallelExecutor.start_pool` sends to start a worker."""


def _kill_workers(pool: Executor) -> None:
    """Terminate the worker processes of a ``concurrent.futures`` process pool."""
    processes = getattr(pool, "_processes", None) or {}
    for proc in list(processes.values()):
        with contextlib.suppress(Exception):
            proc.terminate()


def _as_pipeline(stages: Iterable[Stage] | Pipeline) -> Pipeline:
    if isinstance(stages, Pipeline):
        return stages
    stages = list(stages)
    bad = [s for s in stages if not isinstance(s, Stage)]
    if bad:
        raise ConfigError(f"expected Stage objects, got {type(bad[0]).__name__}: {bad[0]!r}")
    return Pipeline(stages)


def _sorter(pipeline: Pipeline) -> Any:
    import graphlib

    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for st in pipeline:
        sorter.add(st.name, *st.depends_on)
    sorter.prepare()
    return sorter


def _reason(err: BaseException) -> str:
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {first}" if first else type(err).__name__
