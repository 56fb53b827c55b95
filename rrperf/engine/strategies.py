"""Execution strategies: how a staged pipeline runs (workers, caches, monitoring).

A :class:`Strategy` is a frozen value object; :meth:`Strategy.make_context` turns it into an
:class:`ExecutionContext` holding the live resources a run needs: a
:class:`~rrperf.engine.parallel.ParallelExecutor`, a
:class:`~rrperf.engine.cache.CacheOptimizer` and a
:class:`~rrperf.engine.monitor.PerformanceMonitor`. The generator
(:func:`rrperf.generator.api.generate` with ``strategy=``) reads both: the strategy says what
to do, the context holds the pool and the caches that survive between runs.

The five strategies of the original design and the default (:data:`STRATEGIES`):

============  =========  ==================  ==================================  ==========
name          backend    workers             caches                              monitoring
============  =========  ==================  ==================================  ==========
sequential    serial     1                   standard                            on
parallel      process    every usable CPU    standard                            on
cache_heavy   serial     1                   every category, memory + disk, 2x   on
                                             TTLs
balanced      process    half the CPUs (>=1) standard                            on
minimal       serial     1                   none                                off
auto          process    every usable CPU    none; the output manifest           off
============  =========  ==================  ==================================  ==========

``auto`` is what ``rrperf generate`` runs without ``--strategy`` (:data:`DEFAULT_STRATEGY`):
the generator's output manifest answers an unchanged repeat, even in a new process, from a
``stat`` per file (:mod:`rrperf.generator.manifest`), in this process or a new one; a cold
run pays no cache stores and runs serially below the size where a pool pays off
(:func:`rrperf.generator.cached.plan_batches`), on forked workers above it.

"Standard caching" is the memory tier for every cache category plus the disk tier for
``schema_introspection``, so a new process re-parses nothing that did not change.

Design notes
------------
* A pool of one worker only adds pickling: a context whose strategy resolves to one worker
  runs its stages in the calling thread (``executor.backend == "serial"``), whatever the
  strategy's backend. On a 2-core machine ``balanced`` therefore runs like ``sequential``.
* On Linux (``ExecutorConfig.start_method="fork"``) a generator run whose context has no
  running pool forks its workers for that run only, once its analysis is done
  (:func:`rrperf.engine.parallel.fork_map`: they inherit it, nothing is pickled for them),
  and, when the strategy keeps the loaded schema in the disk cache, one process for that
  store as soon as the schema is loaded (:func:`rrperf.engine.parallel.fork_call`);
  a pool started with ``executor.start_pool()`` is forked once, belongs to the context and
  is shut down when the context closes. Elsewhere the pool is loky's.
* The registry is an explicit mapping built from constants; the only fact read when this
  module is imported is the number of CPUs this process may use (for ``balanced``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from rrperf._util import is_int, is_number, usable_cpus
from rrperf.engine.categories import CATEGORIES
from rrperf.errors import ConfigError

if TYPE_CHECKING:
    from rrperf.config import RrperfConfig
    from rrperf.engine.cache import CacheOptimizer
    from rrperf.engine.monitor import PerformanceMonitor
    from rrperf.engine.parallel import ParallelExecutor

__all__ = [
    "ALL_CATEGORIES",
    "DEFAULT_CACHE_DIR",
    "DEFAULT_STRATEGY",
    "STANDARD_DISK",
    "STRATEGIES",
    "ExecutionContext",
    "Strategy",
    "get_strategy",
    "state_dir_for",
    "strategy_names",
]

logger = logging.getLogger(__name__)

#: The registered cache categories (:mod:`rrperf.engine.categories`; the generator's four).
ALL_CATEGORIES: frozenset[str] = frozenset(CATEGORIES)
#: The disk tier of "standard caching": the categories registered as ``standard_disk``.
STANDARD_DISK: frozenset[str] = frozenset(n for n, c in CATEGORIES.items() if c.standard_disk)
#: Where contexts keep their disk tier when no ``cache_dir`` is given (relative to the working
#: directory at the time the context is made).
DEFAULT_CACHE_DIR = ".rrperf/cache"
BACKENDS: tuple[str, ...] = ("serial", "thread", "process", "dask")  # dask: issue 13


def state_dir_for(cache_dir: str | os.PathLike[str] | None) -> Path:
    """The :attr:`ExecutionContext.state_dir` a context made with ``cache_dir`` has."""
    return _cache_root(cache_dir) / "state"


def _cache_root(cache_dir: str | os.PathLike[str] | None) -> Path:
    return Path(cache_dir if cache_dir is not None else DEFAULT_CACHE_DIR).expanduser().absolute()


def _categories(name: str, value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, frozenset | set | tuple | list):
        raise ConfigError(f"{name} must be a set of cache category names, got {value!r}")
    chosen = frozenset(value)
    unknown = sorted(chosen - ALL_CATEGORIES)
    if unknown:
        raise ConfigError(
            f"{name}: unknown cache category {unknown[0]!r}; "
            f"expected some of {', '.join(sorted(ALL_CATEGORIES))}"
        )
    return chosen


@dataclass(frozen=True)
class Strategy:
    """How a pipeline runs: backend, worker count, cache tiers and monitoring.

    Parameters
    ----------
    name : str
        The strategy's name (``--strategy NAME``).
    backend : {"serial", "thread", "process", "dask"}
        Where per-table work runs (``dask``: on the current Dask client's workers, see
        :mod:`rrperf.engine.dask_backend`).
    workers : int or None
        Pool size; None means every CPU this process may use (:meth:`resolved_workers`).
    cache_memory : frozenset of str
        Cache categories with a memory tier.
    cache_disk : frozenset of str
        Cache categories with a disk tier (they persist between processes).
    ttl_multiplier : float
        Multiplies every cache TTL.
    monitoring : bool
        Record each run as a :class:`~rrperf.engine.monitor.PerformanceMonitor` session.
    batch_size : int or None
        Tables per task sent to a pool; None lets the runner choose (a few batches per
        worker).
    manifest : bool
        Keep an output manifest even without caching rendered files: a run whose run key and
        files are unchanged is answered from it, before anything is parsed.

    Raises
    ------
    ConfigError
        On a bad value (with what was expected).

    Examples
    --------
    >>> get_strategy("cache_heavy").ttl_multiplier
    2.0
    >>> get_strategy("sequential").resolved_workers()
    1
    """

    name: str
    backend: str
    workers: int | None
    cache_memory: frozenset[str]
    cache_disk: frozenset[str]
    ttl_multiplier: float = 1.0
    monitoring: bool = True
    batch_size: int | None = None
    manifest: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"a strategy name must be a non-empty string, got {self.name!r}")
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"strategy {self.name!r}: backend must be one of {', '.join(BACKENDS)}, "
                f"got {self.backend!r}"
            )
        for attr in ("workers", "batch_size"):
            value = getattr(self, attr)
            if value is not None and not (is_int(value) and value > 0):
                raise ConfigError(
                    f"strategy {self.name!r}: {attr} must be a positive integer or None, "
                    f"got {value!r}"
                )
        object.__setattr__(self, "cache_memory", _categories("cache_memory", self.cache_memory))
        object.__setattr__(self, "cache_disk", _categories("cache_disk", self.cache_disk))
        if not (is_number(self.ttl_multiplier) and self.ttl_multiplier > 0):
            raise ConfigError(
                f"strategy {self.name!r}: ttl_multiplier must be a number > 0, "
                f"got {self.ttl_multiplier!r}"
            )
        for flag in ("manifest", "monitoring"):
            if not isinstance(value := getattr(self, flag), bool):
                raise ConfigError(
                    f"strategy {self.name!r}: {flag} must be True or False, got {value!r}"
                )

    def resolved_workers(self) -> int:
        """The worker count: 1 for the serial backend, else ``workers`` or every usable CPU."""
        if self.backend == "serial":
            return 1
        return self.workers if self.workers is not None else usable_cpus()

    @property
    def keeps_manifest(self) -> bool:
        """Whether runs keep an output manifest (``manifest``, or rendered files cached): an
        unchanged repeat is then answered from it (:mod:`rrperf.generator.manifest`)."""
        return self.manifest or "template_render" in (self.cache_memory | self.cache_disk)

    @property
    def caching(self) -> bool:
        """Whether any cache category is on."""
        return bool(self.cache_memory or self.cache_disk)

    def make_context(
        self,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        monitor: PerformanceMonitor | None = None,
        config: RrperfConfig | None = None,
    ) -> ExecutionContext:
        """The live resources for running with this strategy.

        Parameters
        ----------
        cache_dir : path or None
            Folder of the disk tier and of run-to-run state (default :data:`DEFAULT_CACHE_DIR`).
        monitor : PerformanceMonitor or None
            Monitor to record runs into (one is created when monitoring is on and none given;
            ignored when monitoring is off).
        config : RrperfConfig or None
            The project configuration whose ``[cache]``, ``[executor]`` and ``[monitor]``
            sections adjust the context (see :class:`ExecutionContext`).

        Returns
        -------
        ExecutionContext
        """
        return ExecutionContext(self, cache_dir=cache_dir, monitor=monitor, config=config)


_CPUS = usable_cpus()

#: The built-in strategies by name (an explicit, read-only mapping).
STRATEGIES: Mapping[str, Strategy] = MappingProxyType(
    {
        "sequential": Strategy(
            "sequential", "serial", 1, cache_memory=ALL_CATEGORIES, cache_disk=STANDARD_DISK
        ),
        "parallel": Strategy(
            "parallel", "process", None, cache_memory=ALL_CATEGORIES, cache_disk=STANDARD_DISK
        ),
        "cache_heavy": Strategy(
            "cache_heavy",
            "serial",
            1,
            cache_memory=ALL_CATEGORIES,
            cache_disk=ALL_CATEGORIES,
            ttl_multiplier=2.0,
        ),
        "balanced": Strategy(
            "balanced",
            "process",
            max(1, _CPUS // 2),
            cache_memory=ALL_CATEGORIES,
            cache_disk=STANDARD_DISK,
        ),
        "minimal": Strategy(
            "minimal", "serial", 1, cache_memory=frozenset(), cache_disk=frozenset(),
            monitoring=False,
        ),
        "auto": Strategy(
            "auto", "process", None, cache_memory=frozenset(), cache_disk=frozenset(),
            monitoring=False, manifest=True,
        ),
    }
)


#: What ``rrperf generate`` runs without ``--strategy`` (and ``rrperf bench`` measures as the
#: ``pipeline`` system's strategy when none is asked).
DEFAULT_STRATEGY = "auto"


def strategy_names() -> tuple[str, ...]:
    """The names of :data:`STRATEGIES`, in registry order."""
    return tuple(STRATEGIES)


def get_strategy(name: str | Strategy) -> Strategy:
    """The strategy called ``name`` (a :class:`Strategy` is returned as it is).

    Raises
    ------
    ConfigError
        For an unknown name (listing the valid ones) or a value of another type.

    Examples
    --------
    >>> get_strategy("parallel").backend
    'process'
    """
    if isinstance(name, Strategy):
        return name
    if not isinstance(name, str):
        raise ConfigError(
            f"a strategy must be a name or a Strategy, got {type(name).__name__} {name!r}"
        )
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ConfigError(
            f"unknown strategy {name!r}; valid strategies: {', '.join(STRATEGIES)}"
        ) from None


@dataclass
class _Counts:
    hits: int = 0
    misses: int = 0


class ExecutionContext:
    """The executor, caches and monitor of one strategy, reused from run to run.

    Parameters
    ----------
    strategy : Strategy or str
        The strategy.
    cache_dir : path or None
        Folder of the disk tier and of :attr:`state_dir` (default :data:`DEFAULT_CACHE_DIR`).
    monitor : PerformanceMonitor or None
        Monitor to record runs into (created when monitoring is on and none is given).
    config : RrperfConfig or None
        The project configuration (:func:`rrperf.config.load_config`): ``[cache] dir`` is the
        default of ``cache_dir``; ``[cache]`` memory size and TTLs (before the strategy's
        ``ttl_multiplier``), ``[executor]`` backend and worker bound, and ``[monitor]``
        interval adjust the strategy's resources (every key: README, "Configuration").

    Attributes
    ----------
    strategy : Strategy
    executor : ParallelExecutor
        Serial when the strategy resolves to one worker.
    cache : CacheOptimizer or None
        None when the strategy caches nothing.
    monitor : PerformanceMonitor or None
        None when monitoring is off.
    state : dict
        Client bookkeeping kept between runs (emptied by :meth:`clear`).
    state_dir : Path
        A folder for client state that must outlive the process (removed by :meth:`clear`).

    Notes
    -----
    Use it as a context manager, or call :meth:`close`, to release the pool and the disk
    cache. It is meant for one thread at a time.
    """

    def __init__(
        self,
        strategy: Strategy | str,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        monitor: PerformanceMonitor | None = None,
        config: RrperfConfig | None = None,
    ) -> None:
        from rrperf.engine.parallel import ExecutorConfig, ParallelExecutor, fork_available

        if config is not None:
            from rrperf.config import RrperfConfig

            if not isinstance(config, RrperfConfig):
                raise ConfigError(
                    f"config must be an RrperfConfig or None, got {type(config).__name__}"
                )
            if cache_dir is None and config.cache.get("dir") is not None:
                cache_dir = config.cache["dir"]
        self.config = config
        self.strategy = get_strategy(strategy)
        self.cache_dir = _cache_root(cache_dir)
        self.state_dir = state_dir_for(cache_dir)
        self.state: dict[str, Any] = {}
        self.lock = threading.Lock()
        s = self.strategy
        executor_section: Mapping[str, Any] = config.executor if config is not None else {}
        backend = s.backend
        if s.backend in ("thread", "process") and "backend" in executor_section:
            backend = str(executor_section["backend"])  # a dask strategy keeps its cluster
        workers = 1 if backend == "serial" else s.resolved_workers()
        bound = executor_section.get("max_workers")
        if bound is not None:
            workers = min(workers, int(bound))
        # (a one-thread Dask cluster still takes the work off this machine: issue 13)
        backend = "serial" if workers == 1 and backend != "dask" else backend
        if s.monitoring:
            if monitor is None:
                from rrperf.engine.monitor import MonitorConfig, PerformanceMonitor

                interval = config.monitor.get("interval_s") if config is not None else None
                monitor = PerformanceMonitor(
                    MonitorConfig() if interval is None else MonitorConfig(interval_s=interval)
                )
            self.monitor: PerformanceMonitor | None = monitor
        else:
            self.monitor = None
        self.executor: ParallelExecutor = ParallelExecutor(
            config=ExecutorConfig(
                backend=backend, max_workers=workers, enable_monitoring=s.monitoring,
                # the generator's stages are importable functions: fork its workers, which
                # then start without importing anything (0.05 s instead of 1.5 s for two)
                start_method="fork" if fork_available() else "loky",
            ),
            monitor=self.monitor,
        )
        self.cache: CacheOptimizer | None = None
        if s.caching:
            from rrperf.engine.cache import CacheConfig, CacheOptimizer

            enabled = s.cache_memory | s.cache_disk
            size = config.cache.get("memory_size") if config is not None else None
            self.cache = CacheOptimizer(
                CacheConfig(
                    directory=self.cache_dir,
                    memory_size={
                        name: (cat.context_memory_size if size is None else int(size))
                        if name in s.cache_memory else 0
                        for name, cat in CATEGORIES.items()
                    },
                    disk_categories=s.cache_disk,
                    enabled_categories=enabled,
                    ttl=config.cache_ttls() if config is not None else {},
                    ttl_multiplier=float(s.ttl_multiplier),
                )
            )
        self._extra = _Counts()
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"ExecutionContext({self.strategy.name!r}, backend={self.executor.backend!r}, "
            f"workers={self.executor.max_workers}, cache_dir={str(self.cache_dir)!r})"
        )

    def __enter__(self) -> ExecutionContext:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def count(self, *, hits: int = 0, misses: int = 0) -> None:
        """Add lookups a client served from its own state (e.g. a memoized analysis)."""
        self._extra.hits += hits
        self._extra.misses += misses

    def cache_stats(self) -> tuple[int, int]:
        """Cumulative cache hits and misses of this context (0, 0 without caching).

        """
        if self.cache is None:
            return self._extra.hits, self._extra.misses
        hits, misses = self.cache.hit_miss_counts()
        return hits + self._extra.hits, misses + self._extra.misses

    def clear(self) -> None:
        """Empty the caches (memory and disk) and the client state: the next run is cold.

        Statistics are kept (:meth:`cache_stats` stays cumulative).

        Raises
        ------
        CacheError
            If the disk tier cannot be cleared.
        """
        self.state.clear()
        if self.cache is not None:
            self.cache.clear_all_caches()
        if self.state_dir.is_dir():
            import shutil

            shutil.rmtree(self.state_dir)
        logger.debug("cleared the caches of %r", self)

    def close(self) -> None:
        """Shut the pool down and close the disk cache (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.executor.shutdown()
        if self.cache is not None:
            self.cache.close()
        self.state.clear()

