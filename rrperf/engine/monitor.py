"""PerformanceMonitor: sample memory and CPU during named sessions, raise alerts.

Its reports and exported files are made by :mod:`rrperf.engine.monitor_report`.

Design notes
------------
* A session (``start_monitoring_session``/``end_monitoring_session``, or ``with
  monitor.session(name):``) is a named span of work. While it runs, a background thread samples
  the process (and, optionally, its children) every ``interval_s`` seconds: RSS and CPU percent
  through psutil, reusing the same ``psutil.Process`` objects (CPU percent is a difference
  between two calls) inside ``oneshot()``. The loop timer is ``threading.Event.wait``, so
  stopping is immediate. The children list is refreshed at most every ``children_refresh_s``
  because listing them scans every process of the machine.
* ``sample_once()`` takes one sample on demand: tests drive it with an injected clock and
  process, without the thread.
* The peak RSS of a session is the largest sample; for this process it is corrected by
  ``getrusage(RUSAGE_SELF).ru_maxrss`` when the process reached a new high-water mark during the
  session (a spike between two samples).
* Alerts: ``execution_time`` (s) and ``memory_usage`` (MB) are maxima checked at every sample and
  at the end; ``error_rate`` (%) is a maximum and ``cache_hit_rate`` (%) a minimum, checked at
  the end. A value past its threshold makes a ``warning``; twice past it (or under half the
  minimum) a ``critical`` alert. Each (metric, level) alerts once per session. Alerts are logged
  (``logging``) and passed to the registered callbacks.
* psutil errors are translated to :class:`~rrperf.errors.BenchmarkError` in one place
  (:func:`_psutil_errors`). psutil and pandas are imported when first needed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf._util import did_you_mean
from rrperf.errors import BenchmarkError, ConfigError

if TYPE_CHECKING:
    import pandas as pd
    import psutil

__all__ = [
    "ALERT_METRICS",
    "Alert",
    "AlertThresholds",
    "MonitorConfig",
    "PerformanceMonitor",
    "RealTimeMetrics",
    "Sample",
    "SessionSummary",
]

logger = logging.getLogger(__name__)

#: Alert metrics and their units.
ALERT_METRICS: Mapping[str, str] = {
    "execution_time": "s",
    "memory_usage": "MB",
    "error_rate": "%",
    "cache_hit_rate": "%",
}
_PERCENT = frozenset({"error_rate", "cache_hit_rate"})
_MINIMUM = frozenset({"cache_hit_rate"})

SAMPLE_COLUMNS: tuple[str, ...] = ("session", "t_s", "rss_mb", "cpu_percent", "n_children")
SESSION_COLUMNS: tuple[str, ...] = (
    "session",
    "started_s",
    "duration_s",
    "peak_rss_mb",
    "mean_cpu_percent",
    "n_samples",
    "operations",
    "errors",
    "error_rate",
    "cache_hits",
    "cache_misses",
    "cache_hit_rate",
    "alerts",
    "monitor_cpu_s",
    "metadata",
)
ALERT_COLUMNS: tuple[str, ...] = (
    "session",
    "time_s",
    "level",
    "metric",
    "value",
    "threshold",
    "message",
)


def _check_threshold(name: str, value: Any) -> float | None:
    if name not in ALERT_METRICS:
        raise ConfigError(
            f"unknown alert threshold {name!r}{did_you_mean(name, ALERT_METRICS)}; "
            f"known: {', '.join(ALERT_METRICS)}"
        )
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"threshold {name!r} must be a number or None, got {value!r}")
    if name in _PERCENT:
        if not 0 <= value <= 100:
            raise ConfigError(f"threshold {name!r} is a percentage in 0-100, got {value!r}")
    elif not value > 0:
        raise ConfigError(
            f"threshold {name!r} must be a positive number of {ALERT_METRICS[name]}, "
            f"got {value!r}"
        )
    return float(value)


@dataclass(frozen=True)
class AlertThresholds:
    """Alert thresholds; None turns a check off.

    Parameters
    ----------
    execution_time : float or None
        Longest session duration, seconds.
    memory_usage : float or None
        Largest RSS (process and children), MB.
    error_rate : float or None
        Largest percentage of failed operations, 0-100.
    cache_hit_rate : float or None
        Smallest cache hit percentage, 0-100.

    Raises
    ------
    ConfigError
        On a value that is not positive (durations, sizes) or not within 0-100 (percentages).
    """

    execution_time: float | None = None
    memory_usage: float | None = None
    error_rate: float | None = None
    cache_hit_rate: float | None = None

    def __post_init__(self) -> None:
        for name in ALERT_METRICS:
            object.__setattr__(self, name, _check_threshold(name, getattr(self, name)))

    def replace(self, **changes: float | None) -> AlertThresholds:
        """A copy with some thresholds changed (unknown names raise with a did-you-mean hint).

        Raises
        ------
        ConfigError
            On an unknown name or a bad value.
        """
        for name, value in changes.items():
            _check_threshold(name, value)
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class MonitorConfig:
    """Configuration of a :class:`PerformanceMonitor`.

    Parameters
    ----------
    interval_s : float
        Seconds between background samples (> 0).
    include_children : bool
        Add the RSS and CPU of child processes (process pools) to each sample.
    thresholds : AlertThresholds or mapping
        Alert thresholds (a mapping is converted, names checked).
    background : bool
        Sample in a background thread during sessions (False: only ``sample_once``).
    children_refresh_s : float
        Longest time between two listings of the child processes (> 0).

    Raises
    ------
    ConfigError
        On a bad value.
    """

    interval_s: float = 0.1
    include_children: bool = True
    thresholds: Any = field(default_factory=AlertThresholds)
    background: bool = True
    children_refresh_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("interval_s", "children_refresh_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}")
        for name in ("include_children", "background"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if isinstance(self.thresholds, Mapping):
            object.__setattr__(self, "thresholds", AlertThresholds().replace(**self.thresholds))
        elif not isinstance(self.thresholds, AlertThresholds):
            raise ConfigError(
                f"thresholds must be AlertThresholds or a mapping, got {self.thresholds!r}"
            )



@dataclass(frozen=True)
class Sample:
    """One measurement: clock time, RSS (MB) and CPU percent of the process (+ children)."""

    session: str | None
    t_s: float
    rss_mb: float
    cpu_percent: float
    n_children: int


@dataclass(frozen=True)
class Alert:
    """A threshold breach."""

    level: str  # "warning" or "critical"
    metric: str
    value: float
    threshold: float
    session: str | None
    time_s: float
    message: str


@dataclass(frozen=True)
class SessionSummary:
    """What a monitoring session measured.

    ``peak_rss_mb`` and ``mean_cpu_percent`` are NaN without samples. ``monitor_cpu_s`` is
    the CPU time the monitor itself used for the session (its sampler thread, and the
    starting and final samples taken in the caller's thread): an upper bound on what
    monitoring added to the run, ``monitor_cpu_s / duration_s`` as a fraction.
    """

    name: str
    duration_s: float
    peak_rss_mb: float
    mean_cpu_percent: float
    n_samples: int
    errors: int
    alerts: tuple[Alert, ...]
    operations: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    started_s: float = 0.0
    metadata: Mapping[str, Any] = field(default_factory=dict)
    monitor_cpu_s: float = 0.0

    @property
    def error_rate(self) -> float:
        """Failed operations, % (NaN without operations)."""
        return 100.0 * self.errors / self.operations if self.operations else float("nan")

    @property
    def cache_hit_rate(self) -> float:
        """Cache hits, % (NaN without cache requests)."""
        total = self.cache_hits + self.cache_misses
        return 100.0 * self.cache_hits / total if total else float("nan")


@dataclass(frozen=True)
class RealTimeMetrics(Mapping[str, Any]):
    """The latest figures, readable as attributes or as a mapping."""

    session: str | None
    elapsed_s: float
    rss_mb: float
    cpu_percent: float
    n_samples: int

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)


@dataclass
class _Active:
    name: str
    metadata: dict[str, Any]
    started_s: float
    first_sample: int
    ru_maxrss_start: float | None
    errors: int = 0
    monitor_cpu_s: float = 0.0  # the monitor's own CPU time so far (caller-thread parts)
    operations: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    alerted: set[tuple[str, str]] = field(default_factory=set)
    alerts: list[Alert] = field(default_factory=list)


@contextlib.contextmanager
def _psutil_errors(action: str) -> Iterator[None]:
    """The one place where ``psutil.Error`` becomes :class:`BenchmarkError`."""
    import psutil

    try:
        yield
    except psutil.Error as err:
        raise BenchmarkError(f"cannot {action}: {type(err).__name__}: {err}") from err


def _ru_maxrss_mb() -> float | None:
    """This process's high-water RSS in MB (``ru_maxrss`` is kB on Linux, bytes on macOS)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _proc_children(pid: int) -> list[int] | None:
    """Descendant pids from Linux's ``/proc/<pid>/task/<tid>/children`` (None if unavailable).

    psutil's ``children(recursive=True)`` reads the status of every process on the machine
    (2026-11-26: 6.7 ms on the CI container, against about 0.05 ms here), which would cost
    more than the sampling itself.
    """
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tids = os.listdir(f"/proc/{parent}/task")
        except OSError:
            if parent == pid:
                return None
            continue  # that child has just ended
        for tid in tids:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except FileNotFoundError:
                if parent == pid and tid == tids[0]:
                    return None  # kernel without CONFIG_PROC_CHILDREN
                continue
            except OSError:
                continue
            found.extend(kids)
            pending.extend(kids)
    return found


class _SessionContext:
    """``with monitor.session(name) as s:``; ``s.summary`` is set on exit."""

    def __init__(self, monitor: PerformanceMonitor, name: str, metadata: Mapping[str, Any] | None):
        self._monitor = monitor
        self._name = name
        self._metadata = metadata
        self.summary: SessionSummary | None = None

    def __enter__(self) -> _SessionContext:
        self._monitor.start_monitoring_session(self._name, self._metadata)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None:
            self._monitor.record_error()
        self.summary = self._monitor.end_monitoring_session()


class PerformanceMonitor:
    """Sample memory and CPU during named sessions, raise alerts and report.

    Parameters
    ----------
    config : MonitorConfig or None
        Interval, children, thresholds (defaults: :class:`MonitorConfig`).
    clock : callable
        Seconds (monotonic); timestamps samples, sessions and alerts.
    process : psutil.Process or None
        The process to watch (default: this one). An injected process is used as given
        (no ``ru_maxrss`` correction, which only describes this process).

    Examples
    --------
    >>> monitor = PerformanceMonitor(MonitorConfig(background=False))
    >>> with monitor.session("demo") as run:
    ...     _ = monitor.sample_once()
    >>> run.summary.name, run.summary.n_samples
    ('demo', 1)
    """

    def __init__(
        self,
        config: MonitorConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        process: psutil.Process | None = None,
    ) -> None:
        config = MonitorConfig() if config is None else config
        if not isinstance(config, MonitorConfig):
            raise ConfigError(f"config must be a MonitorConfig, got {type(config).__name__}")
        self.config = config
        self._clock = clock
        self._own_process = process is None
        self._process = process
        self._children: dict[int, Any] = {}
        self._children_listed_at = -math.inf
        self._lock = threading.RLock()
        self._samples: list[Sample] = []
        self._sessions: list[SessionSummary] = []
        self._alerts: list[Alert] = []
        self._alerted_outside: set[tuple[str, str]] = set()
        self._callbacks: list[Callable[[Alert], Any]] = []
        self._active: _Active | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sampler_cpu_s = 0.0  # CPU time of the last sampler thread (set when it ends)
        #: The error that stopped the background sampler, if any.
        self.sampler_error: BenchmarkError | None = None

    def __repr__(self) -> str:
        return (
            f"PerformanceMonitor(interval_s={self.config.interval_s}, "
            f"sessions={len(self._sessions)})"
        )

    # --- configuration ----------------------------------------------------------------------------

    @property
    def thresholds(self) -> AlertThresholds:
        """The current alert thresholds."""
        return self.config.thresholds  # type: ignore[no-any-return]

    def set_alert_thresholds(self, **thresholds: float | None) -> AlertThresholds:
        """Change alert thresholds (``None`` turns one off).

        Parameters
        ----------
        **thresholds
            ``execution_time`` (s), ``memory_usage`` (MB), ``error_rate`` (%, 0-100),
            ``cache_hit_rate`` (%, 0-100, a minimum).

        Returns
        -------
        AlertThresholds
            The thresholds now in force.

        Raises
        ------
        ConfigError
            On an unknown name (with a did-you-mean hint) or a bad value; nothing changes.
        """
        with self._lock:
            new = self.thresholds.replace(**thresholds)
            self.config = dataclasses.replace(self.config, thresholds=new)
            return new

    def add_alert_callback(self, callback: Callable[[Alert], Any]) -> None:
        """Call ``callback(alert)`` for every new alert (from the thread that raised it).

        Raises
        ------
        ConfigError
            If ``callback`` is not callable.
        """
        if not callable(callback):
            raise ConfigError(f"an alert callback must be callable, got {callback!r}")
        with self._lock:
            self._callbacks.append(callback)

    # --- sessions ---------------------------------------------------------------------------------

    @property
    def active_session(self) -> str | None:
        """The name of the running session, if any."""
        with self._lock:
            return self._active.name if self._active is not None else None

    def session(
        self, name: str, metadata: Mapping[str, Any] | None = None
    ) -> _SessionContext:
        """A context manager around a session; an exception in the body counts as an error
        (and propagates). The summary is on the context object's ``summary`` afterwards.

        Raises
        ------
        BenchmarkError, ConfigError
            As :meth:`start_monitoring_session`.
        """
        return _SessionContext(self, name, metadata)

    def start_monitoring_session(
        self, name: str, metadata: Mapping[str, Any] | None = None
    ) -> None:
        """Start a named session (and the background sampler when configured).

        Parameters
        ----------
        name : str
            Session name (shown in reports).
        metadata : mapping or None
            JSON-serialisable facts about the session.

        Raises
        ------
        ConfigError
            On an empty name or bad metadata.
        BenchmarkError
            If a session is already running, or the process cannot be read.
        """
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a session name must be a non-empty string, got {name!r}")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise ConfigError(f"metadata must be a mapping or None, got {metadata!r}")
        cpu0 = time.thread_time()
        with self._lock:
            if self._active is not None:
                raise BenchmarkError(
                    f"session {self._active.name!r} is still running; end it before starting "
                    f"{name!r}"
                )
            with _psutil_errors("read the process CPU time"):
                self._proc().cpu_percent(interval=None)  # first call starts the CPU interval
            self._active = _Active(
                name=name,
                metadata=dict(metadata or {}),
                started_s=self._clock(),
                first_sample=len(self._samples),
                ru_maxrss_start=_ru_maxrss_mb() if self._own_process else None,
            )
        logger.debug("monitoring session %s started", name)
        if self.config.background:
            self._stop.clear()
            self.sampler_error = None
            self._sampler_cpu_s = 0.0
            self._thread = threading.Thread(
                target=self._sample_loop, name=f"rrperf-monitor-{name}", daemon=True
            )
            self._thread.start()
        self._active.monitor_cpu_s += time.thread_time() - cpu0

    def end_monitoring_session(self) -> SessionSummary:
        """Stop the running session and summarise it.

        Returns
        -------
        SessionSummary

        Raises
        ------
        BenchmarkError
            If no session is running, or the final sample cannot be taken.
        """
        cpu0 = time.thread_time()
        thread, self._thread = self._thread, None
        sampler_cpu_s = 0.0
        if thread is not None:
            self._stop.set()
            thread.join()
            sampler_cpu_s = self._sampler_cpu_s
            if self.sampler_error is None:
                self.sample_once()  # the end of the session is always sampled
        with self._lock:
            active = self._active
            if active is None:
                raise BenchmarkError("no monitoring session is running")
            monitor_cpu_s = active.monitor_cpu_s + sampler_cpu_s + time.thread_time() - cpu0
            end = self._clock()
            duration = end - active.started_s
            samples = self._samples[active.first_sample :]
            peak = max((s.rss_mb for s in samples), default=math.nan)
            if active.ru_maxrss_start is not None:
                high_water = _ru_maxrss_mb()
                if high_water is not None and high_water > active.ru_maxrss_start:
                    peak = high_water if math.isnan(peak) else max(peak, high_water)
            cpu = [s.cpu_percent for s in samples]
            new_alerts = [self._check("execution_time", duration, active, end)]
            if active.operations:
                new_alerts.append(
                    self._check("error_rate", 100.0 * active.errors / active.operations,
                                active, end)
                )
            cache_total = active.cache_hits + active.cache_misses
            if cache_total:
                new_alerts.append(
                    self._check("cache_hit_rate", 100.0 * active.cache_hits / cache_total,
                                active, end)
                )
            summary = SessionSummary(
                name=active.name,
                duration_s=duration,
                peak_rss_mb=peak,
                mean_cpu_percent=sum(cpu) / len(cpu) if cpu else math.nan,
                n_samples=len(samples),
                errors=active.errors,
                alerts=tuple(active.alerts),
                operations=active.operations,
                cache_hits=active.cache_hits,
                cache_misses=active.cache_misses,
                started_s=active.started_s,
                metadata=active.metadata,
                monitor_cpu_s=monitor_cpu_s,
            )
            self._sessions.append(summary)
            self._active = None
        self._notify([a for a in new_alerts if a is not None])
        logger.debug("monitoring session %s ended after %.3f s", summary.name, duration)
        return summary

    @property
    def summaries(self) -> tuple[SessionSummary, ...]:
        """Every finished session, oldest first."""
        with self._lock:
            return tuple(self._sessions)

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Every alert raised, oldest first."""
        with self._lock:
            return tuple(self._alerts)

    # --- feeding counters ---------------------------------------------------------------------

    def _require_active(self) -> _Active:
        if self._active is None:
            raise BenchmarkError("no monitoring session is running; start one first")
        return self._active

    def record_error(self, n: int = 1) -> None:
        """Count ``n`` failed operations in the running session.

        Raises
        ------
        BenchmarkError
            If no session is running.
        """
        with self._lock:
            active = self._require_active()
            active.errors += n
            active.operations += n

    def record_operation(self, *, ok: bool = True) -> None:
        """Count one operation (a stage run...) in the running session.

        Raises
        ------
        BenchmarkError
            If no session is running.
        """
        if not ok:
            self.record_error()
            return
        with self._lock:
            self._require_active().operations += 1

    def record_cache_stats(self, hits: int, misses: int) -> None:
        """Add cache hits and misses to the running session (feeds ``cache_hit_rate``).

        Raises
        ------
        ConfigError
            On negative or non-integer counts.
        BenchmarkError
            If no session is running.
        """
        for name, value in (("hits", hits), ("misses", misses)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
        with self._lock:
            active = self._require_active()
            active.cache_hits += hits
            active.cache_misses += misses

    # --- sampling -----------------------------------------------------------------------------

    def _proc(self) -> Any:
        if self._process is None:
            import psutil

            self._process = psutil.Process(os.getpid())
        return self._process

    def _sample_loop(self) -> None:
        cpu0 = time.thread_time()
        try:
            while not self._stop.wait(self.config.interval_s):
                try:
                    self.sample_once()
                except BenchmarkError as err:
                    self.sampler_error = err
                    logger.warning("background sampling stopped: %s", err)
                    return
        finally:  # read by end_monitoring_session after joining this thread
            self._sampler_cpu_s = time.thread_time() - cpu0

    def _refresh_children(self, proc: Any, now: float) -> None:
        if now - self._children_listed_at < self.config.children_refresh_s:
            return
        self._children_listed_at = now
        pids = _proc_children(proc.pid) if self._own_process else None
        if pids is None:
            current = {child.pid: child for child in proc.children(recursive=True)}
        else:
            import psutil

            current = {}
            for pid in pids:
                if pid in self._children:
                    current[pid] = self._children[pid]
                    continue
                with contextlib.suppress(psutil.Error):  # it ended since the listing
                    current[pid] = psutil.Process(pid)
        # keep the existing objects: their cpu_percent() measures from the previous call
        self._children = {pid: self._children.get(pid, child) for pid, child in current.items()}

    def sample_once(self) -> Sample:
        """Measure RSS and CPU now and record the sample (checking the alert thresholds).

        Returns
        -------
        Sample

        Raises
        ------
        BenchmarkError
            If the process cannot be read.
        """
        import psutil

        now = self._clock()
        proc = self._proc()
        with _psutil_errors("sample the process memory and CPU"):
            with proc.oneshot():
                rss = proc.memory_info().rss
                cpu = proc.cpu_percent(interval=None)
            if self.config.include_children:
                self._refresh_children(proc, now)
                for pid, child in list(self._children.items()):
                    try:
                        with child.oneshot():
                            rss += child.memory_info().rss
                            cpu += child.cpu_percent(interval=None)
                    except psutil.Error:  # the child ended between listing and reading
                        self._children.pop(pid, None)
        with self._lock:
            active = self._active
            sample = Sample(
                session=active.name if active is not None else None,
                t_s=now,
                rss_mb=rss / (1024 * 1024),
                cpu_percent=float(cpu),
                n_children=len(self._children) if self.config.include_children else 0,
            )
            self._samples.append(sample)
            alerts = [self._check("memory_usage", sample.rss_mb, active, now)]
            if active is not None:
                alerts.append(self._check("execution_time", now - active.started_s, active, now))
        self._notify([a for a in alerts if a is not None])
        return sample

    # --- alerts -------------------------------------------------------------------------------

    def _check(self, metric: str, value: float, active: _Active | None, now: float) -> Alert | None:
        """Record an alert if ``value`` breaches ``metric``'s threshold (call under the lock)."""
        threshold = getattr(self.thresholds, metric)
        if threshold is None:
            return None
        if metric in _MINIMUM:
            breached, critical = value < threshold, value < threshold / 2
        else:
            breached, critical = value > threshold, value >= 2 * threshold
        if not breached:
            return None
        level = "critical" if critical else "warning"
        seen = active.alerted if active is not None else self._alerted_outside
        if (metric, level) in seen:
            return None
        seen.add((metric, level))
        unit = ALERT_METRICS[metric]
        relation = "below the minimum" if metric in _MINIMUM else "above"
        session = active.name if active is not None else None
        message = (
            f"{metric} is {value:.4g} {unit}, {relation} {threshold:g} {unit}"
            + (f" (session {session!r})" if session is not None else "")
        )
        alert = Alert(level, metric, float(value), float(threshold), session, now, message)
        self._alerts.append(alert)
        if active is not None:
            active.alerts.append(alert)
        return alert

    def _notify(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        with self._lock:
            callbacks = list(self._callbacks)
        for alert in alerts:
            logger.warning("%s alert: %s", alert.level, alert.message)
            for callback in callbacks:
                try:
                    callback(alert)
                except Exception:
                    # A broken callback must not stop monitoring or the measured work.
                    logger.exception("alert callback %r failed", callback)

    # --- reading ------------------------------------------------------------------------------

    def get_real_time_metrics(self) -> RealTimeMetrics:
        """The latest sample and the running session's elapsed time.

        Returns
        -------
        RealTimeMetrics
            ``rss_mb``/``cpu_percent`` of the latest sample (NaN before the first one).
        """
        with self._lock:
            active = self._active
            latest = self._samples[-1] if self._samples else None
            n = len(self._samples) - (active.first_sample if active is not None else 0)
            return RealTimeMetrics(
                session=active.name if active is not None else None,
                elapsed_s=self._clock() - active.started_s if active is not None else 0.0,
                rss_mb=latest.rss_mb if latest is not None else math.nan,
                cpu_percent=latest.cpu_percent if latest is not None else math.nan,
                n_samples=n,
            )

    def _session_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            sessions = list(self._sessions)
        return [
            {
                "session": s.name,
                "started_s": s.started_s,
                "duration_s": s.duration_s,
                "peak_rss_mb": s.peak_rss_mb,
                "mean_cpu_percent": s.mean_cpu_percent,
                "n_samples": s.n_samples,
                "operations": s.operations,
                "errors": s.errors,
                "error_rate": s.error_rate,
                "cache_hits": s.cache_hits,
                "cache_misses": s.cache_misses,
                "cache_hit_rate": s.cache_hit_rate,
                "alerts": len(s.alerts),
                "monitor_cpu_s": s.monitor_cpu_s,
                "metadata": json.dumps(dict(s.metadata), sort_keys=True, default=str),
            }
            for s in sessions
        ]

    def _alert_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{c: getattr(a, c) for c in ALERT_COLUMNS} for a in self._alerts]

    def _sample_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{c: getattr(s, c) for c in SAMPLE_COLUMNS} for s in self._samples]

    def samples_frame(self) -> pd.DataFrame:
        """Every sample: ``session, t_s, rss_mb, cpu_percent, n_children``."""
        import pandas as pd

        return pd.DataFrame(self._sample_rows(), columns=list(SAMPLE_COLUMNS)).astype(
            {"t_s": "float64", "rss_mb": "float64", "cpu_percent": "float64", "n_children": "int64"}
        )

    def sessions_frame(self) -> pd.DataFrame:
        """One row per finished session (columns ``SESSION_COLUMNS``; metadata as JSON)."""
        import pandas as pd

        return pd.DataFrame(self._session_rows(), columns=list(SESSION_COLUMNS))

    def alerts_frame(self) -> pd.DataFrame:
        """One row per alert (columns ``ALERT_COLUMNS``)."""
        import pandas as pd

        return pd.DataFrame(self._alert_rows(), columns=list(ALERT_COLUMNS))

    # --- reports and export (rrperf.engine.monitor_report) ---------------------------------

    def generate_performance_report(self, format: str = "json") -> str:
        """The finished sessions and alerts as a JSON, Markdown or HTML document
        (:func:`rrperf.engine.monitor_report.performance_report`)."""
        from rrperf.engine.monitor_report import performance_report

        return performance_report(self._session_rows(), self._alert_rows(), format,
                                  session_columns=SESSION_COLUMNS)

    def export_performance_data(
        self, path: str | os.PathLike[str], format: str = "json", *, table: str | None = None
    ) -> Path:
        """Write the collected data to ``path`` atomically
        (:func:`rrperf.engine.monitor_report.export_performance_data`)."""
        from rrperf.engine.monitor_report import export_performance_data

        frames = {"samples": self.samples_frame, "sessions": self.sessions_frame,
                  "alerts": self.alerts_frame}
        return export_performance_data(frames, path, format, table=table)
