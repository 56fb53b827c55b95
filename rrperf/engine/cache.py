"""CacheOptimizer: a memory tier in front of a JSON-only disk tier, keyed by content fingerprints.

Design notes
------------
* **Keys** are content fingerprints built by one function, :func:`cache_key`: a sha256 over a
  canonical JSON form of the parts. Paths are replaced by the sha256 of their file's bytes, so a
  changed schema or template is never served stale; callers in a hot loop can pass a
  precomputed fingerprint string (:func:`file_fingerprint`) instead.
* **Memory tier**: one :class:`cachetools.TTLCache` per category (own size and TTL, timed by the
  injected ``clock``), each guarded by its own lock.
* **Disk tier**: a :class:`diskcache.Cache` in a per-project folder (``.rrperf/cache``, created
  with mode 0o700). It stores JSON text only: a value is written as ``[expires_at, payload]``
  and the disk class refuses to unpickle anything, so a cache folder someone else can write to
  can poison values but never run code. Disk TTLs use ``wall_clock`` (``time.time``), because
  entries outlive the process.
* **Single flight**: concurrent requests for the same missing key wait for one computation.
* **Degraded operation**: an unreadable or corrupt disk cache is reported once with a
  :class:`~rrperf.errors.FallbackWarning`, rebuilt when possible (else the disk tier is off for
  the rest of the run), and values are recomputed, so output stays correct. diskcache and
  sqlite3 errors are translated to :class:`~rrperf.errors.CacheError` in one place
  (:meth:`CacheOptimizer._disk_errors`); only explicit disk operations (``invalidate``,
  ``clear_all_caches``, ``stats``) let it escape.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import os
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cachetools

from rrperf._util import did_you_mean, is_int, is_number
from rrperf.engine.categories import CATEGORIES
from rrperf.errors import CacheError, ConfigError, FallbackWarning

if TYPE_CHECKING:
    import diskcache
    import pandas as pd

__all__ = [
    "DEFAULT_VERSION",
    "MISS",
    "JSONText",
    "REPORT_COLUMNS",
    "CacheConfig",
    "CacheOptimizer",
    "CacheStats",
    "TierStats",
    "cache_key",
    "file_fingerprint",
]

logger = logging.getLogger(__name__)


class _Constant:
    """A named sentinel with a readable repr (as diskcache's ``ENOVAL``); pickles by name."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self) -> str:
        return self._name


#: Returned when a key is absent, so that a cached ``None`` is an ordinary hit.
MISS: Any = _Constant("MISS")


class JSONText(str):
    """A value's JSON text, already encoded: what an ``encode`` function may return.

    The disk tier writes it as it is instead of running the JSON encoder over the value. The
    encoder holds the GIL for the whole value (40 ms for a 2,000-table schema), stalling the
    threads that feed a process pool; a large value encoded piece by piece does not. It is
    read back as ordinary JSON data (``decode`` receives the parsed value).
    """

    __slots__ = ()

# Format of the key payload; bump when the canonical form changes.
_KEY_FORMAT = 1
#: The ``version`` part of keys when none is given (:class:`CacheConfig`, :func:`cache_key`).
DEFAULT_VERSION = "1"

TIERS: tuple[str, ...] = ("memory", "disk")

#: Columns of :meth:`CacheOptimizer.cache_efficiency_report`, in order.
REPORT_COLUMNS: tuple[str, ...] = (
    "category",
    "tier",
    "requests",
    "hits",
    "misses",
    "hit_rate",
    "entries",
    "bytes",
    "mean_hit_latency_us",
    "mean_miss_latency_us",
    "expirations",
    "evictions",
)

#: The disk tier's database file in its folder (``diskcache.core.DBNAME``; diskcache and
#: sqlite3 are imported when the disk tier is first opened, not with this module).
_DBNAME = "cache.db"


@functools.cache
def _disk_error_types() -> tuple[type[BaseException], ...]:
    """The errors of diskcache, sqlite3 and the file system that the disk tier maps to
    :class:`CacheError` (an ``except`` clause evaluates this only when something is raised)."""
    import sqlite3

    import diskcache

    return (sqlite3.Error, diskcache.Timeout, OSError, KeyError, ValueError)


def _timeout() -> type[BaseException]:
    import diskcache

    return diskcache.Timeout  # type: ignore[no-any-return]

# Latency samples kept per category, tier and outcome (the most recent ones).
_LATENCY_SAMPLES = 10_000


# --- keys ----------------------------------------------------------------------------------------


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """The content fingerprint of a file: ``"sha256:"`` and the hex digest of its bytes.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    str

    Raises
    ------
    CacheError
        If the file cannot be read.
    """
    try:
        with open(path, "rb") as fh:
            return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as err:
        raise CacheError(
            f"cannot fingerprint {os.fspath(path)!r}: {err.strerror or err}; "
            "pass an existing file or a precomputed fingerprint string"
        ) from err


def _canonical(obj: Any) -> Any:
    """Map a key part to plain JSON data; every container is a tagged list (unambiguous)."""
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            raise CacheError(f"cannot build a cache key from the float {obj!r}")
        return obj
    if isinstance(obj, bytes | bytearray | memoryview):
        return ["B", hashlib.sha256(bytes(obj)).hexdigest()]
    if isinstance(obj, os.PathLike):
        # the same key as the precomputed fingerprint string a caller may pass instead
        return file_fingerprint(obj)
    fingerprint = getattr(obj, "fingerprint", None)
    if callable(fingerprint) and not isinstance(obj, type):
        return ["P", type(obj).__qualname__, fingerprint()]
    if isinstance(obj, Mapping):
        pairs = [(_canonical(k), _canonical(v)) for k, v in obj.items()]
        pairs.sort(key=lambda kv: json.dumps(kv[0], sort_keys=True))
        return ["M", [list(kv) for kv in pairs]]
    if isinstance(obj, list | tuple):
        return ["L", [_canonical(v) for v in obj]]
    if isinstance(obj, set | frozenset):
        items = [_canonical(v) for v in obj]
        items.sort(key=lambda v: json.dumps(v, sort_keys=True))
        return ["S", items]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [
            "D",
            type(obj).__qualname__,
            {f.name: _canonical(getattr(obj, f.name)) for f in dataclasses.fields(obj)},
        ]
    raise CacheError(
        f"cannot build a cache key from a {type(obj).__name__}; use str, numbers, bytes, paths, "
        "mappings, sequences, sets, dataclasses or an object with a fingerprint() method"
    )


def cache_key(category: str, *parts: Any, version: str = DEFAULT_VERSION) -> str:
    """The content fingerprint that keys a cached value.

    The key is the sha256 hex digest of the compact, key-sorted JSON of
    ``[1, version, category, canonical(parts)]``, where the canonical form keeps strings,
    numbers, booleans and None as they are and turns every other part into a tagged list:
    ``["B", sha256(bytes)]``, ``["P", type, obj.fingerprint()]``, ``["M", sorted pairs]``
    for a mapping, ``["L", items]`` for a list or tuple, ``["S", sorted items]`` for a set and
    ``["D", type, fields]`` for a dataclass. A path-like becomes its file's fingerprint
    string (:func:`file_fingerprint`), so passing that string instead of the path gives the
    same key. A ``str`` is never read as a path here.

    Parameters
    ----------
    category : str
        The cache category (part of the key, so categories never collide).
    *parts
        What the value depends on.
    version : str
        The version of whatever computes the values (default :data:`DEFAULT_VERSION`); a
        new version never reads older entries.

    Returns
    -------
    str
        64 hex digits.

    Raises
    ------
    CacheError
        If a part cannot be fingerprinted (unsupported type, NaN, unreadable file).

    Examples
    --------
    >>> cache_key("type_mapping", "string", {"limit": 255}, version="v1")[:16]
    'fd10b65caa4e6bc4'
    """
    payload = [_KEY_FORMAT, version, category, _canonical(list(parts))]
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheConfig:
    """Configuration of a :class:`CacheOptimizer` (immutable, validated).

    Parameters
    ----------
    directory : str or path-like
        Folder of the disk tier (default ``.rrperf/cache``, relative to the working
        directory when the optimizer is created).
    memory_size : int or mapping of str to int
        Entries kept in memory per category; an int applies to every category, a mapping
        overrides the registered defaults (:data:`rrperf.engine.categories.CATEGORIES`). 0
        turns the memory tier off for that category.
    ttl : float or mapping of str to float
        Time to live in seconds per category (registered defaults); an int or
        float applies to every category.
    disk_categories : iterable of str or None
        Categories that also use the disk tier (None: every category).
    enabled_categories : iterable of str or None
        Categories that are cached at all (None: every category); others always compute.
    ttl_multiplier : float
        Multiplies every TTL (a strategy's knob).
    version : str
        Mixed into every key made from key parts (:meth:`CacheOptimizer.get_or_compute`):
        bump it when the values' meaning changes.

    New categories are added by naming them in both ``memory_size`` and ``ttl``.

    Raises
    ------
    ConfigError
        On an unknown category (with a did-you-mean hint) or a bad value.
    """

    directory: str | os.PathLike[str] = ".rrperf/cache"
    memory_size: Any = field(default_factory=dict)
    ttl: Any = field(default_factory=dict)
    disk_categories: Any = None
    enabled_categories: Any = None
    ttl_multiplier: float = 1.0
    version: str = DEFAULT_VERSION

    def __post_init__(self) -> None:
        if not isinstance(self.directory, str | os.PathLike) or not os.fspath(self.directory):
            raise ConfigError(f"directory must be a non-empty path, got {self.directory!r}")
        memory = self._per_category(
            "memory_size", self.memory_size, {n: c.memory_size for n, c in CATEGORIES.items()}
        )
        ttl = self._per_category("ttl", self.ttl, {n: c.ttl_s for n, c in CATEGORIES.items()})
        extra = set(memory) ^ set(ttl)
        if extra:
            name = sorted(extra)[0]
            raise ConfigError(
                f"unknown cache category {name!r}{did_you_mean(name, CATEGORIES)}; "
                f"a new category needs both a memory_size and a ttl"
            )
        for cat, size in memory.items():
            if not (is_int(size) and size >= 0):
                raise ConfigError(f"memory_size[{cat!r}] must be an integer >= 0, got {size!r}")
        for cat, seconds in ttl.items():
            if not is_number(seconds) or seconds < 0:
                raise ConfigError(f"ttl[{cat!r}] must be a number of seconds >= 0, got {seconds!r}")
        if not is_number(self.ttl_multiplier) or not self.ttl_multiplier > 0:
            raise ConfigError(f"ttl_multiplier must be a number > 0, got {self.ttl_multiplier!r}")
        if not isinstance(self.version, str) or not self.version:
            raise ConfigError(f"version must be a non-empty string, got {self.version!r}")
        object.__setattr__(self, "memory_size", memory)
        object.__setattr__(self, "ttl", {k: float(v) for k, v in ttl.items()})
        for name in ("disk_categories", "enabled_categories"):
            value = getattr(self, name)
            chosen = frozenset(memory) if value is None else self._category_set(name, value, memory)
            object.__setattr__(self, name, chosen)

    @staticmethod
    def _per_category(name: str, value: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
        if is_number(value):
            return dict.fromkeys(defaults, value)
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"{name} must be a number or a mapping of category to number, got {value!r}"
            )
        merged = dict(defaults)
        merged.update(value)
        return merged

    @staticmethod
    def _category_set(name: str, value: Any, known: Mapping[str, Any]) -> frozenset[str]:
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ConfigError(f"{name} must be a collection of category names, got {value!r}")
        chosen = frozenset(value)
        for cat in sorted(chosen):
            if cat not in known:
                raise ConfigError(
                    f"{name}: unknown cache category {cat!r}{did_you_mean(cat, known)}; "
                    f"known: {', '.join(sorted(known))}"
                )
        return chosen

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category, defaults first."""
        return tuple(self.memory_size)

    def effective_ttl(self, category: str) -> float:
        """``ttl[category] * ttl_multiplier`` in seconds."""
        return float(self.ttl[category] * self.ttl_multiplier)



# --- statistics ----------------------------------------------------------------------------------


@dataclass
class _Counters:
    requests: int = 0
    hits: int = 0
    misses: int = 0
    expirations: int = 0
    evictions: int = 0
    coalesced: int = 0
    hit_ns: int = 0
    miss_ns: int = 0
    hit_samples: deque[int] = field(default_factory=lambda: deque(maxlen=_LATENCY_SAMPLES))
    miss_samples: deque[int] = field(default_factory=lambda: deque(maxlen=_LATENCY_SAMPLES))

    def hit(self, ns: int) -> None:
        self.requests += 1
        self.hits += 1
        self.hit_ns += ns
        self.hit_samples.append(ns)

    def miss(self, ns: int) -> None:
        self.requests += 1
        self.misses += 1
        self.miss_ns += ns
        self.miss_samples.append(ns)

    def misses_at_once(self, n: int, ns: int) -> None:
        """``n`` misses found together in ``ns`` (each sampled at the mean, ``ns // n``)."""
        self.requests += n
        self.misses += n
        self.miss_ns += ns
        self.miss_samples.extend([ns // n] * min(n, _LATENCY_SAMPLES))


@dataclass(frozen=True)
class TierStats:
    """Counters of one category on one tier.

    ``requests = hits + misses``. On the memory tier a miss is any request not served from
    memory; on the disk tier, a request that reached the disk and found nothing usable. Hit
    latency is the lookup on that tier; miss latency is the time to serve the request after
    missing it (the disk lookup and/or the computation and the stores). ``coalesced`` counts
    memory misses served by waiting for another thread's computation.
    """

    category: str
    tier: str
    requests: int
    hits: int
    misses: int
    expirations: int
    evictions: int
    entries: int
    bytes: int
    mean_hit_latency_us: float
    mean_miss_latency_us: float
    coalesced: int = 0

    @property
    def hit_rate(self) -> float:
        """hits / requests (NaN without requests)."""
        return self.hits / self.requests if self.requests else float("nan")


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of every category's counters.

    Attributes
    ----------
    tiers : tuple of TierStats
        One per category and configured tier.
    computes : mapping of str to int
        Values computed per category (cache misses that ran ``compute``, refreshes included).
    hits : int
        Requests served without computing (either tier, or by waiting for another thread).
    misses : int
        Requests that computed the value.
    disk_disabled_reason : str or None
        Why the disk tier is off for this run, if it is.
    """

    tiers: tuple[TierStats, ...]
    computes: Mapping[str, int]
    hits: int
    misses: int
    disk_disabled_reason: str | None = None

    def get(self, category: str, tier: str) -> TierStats:
        """The counters of ``category`` on ``tier``.

        Raises
        ------
        KeyError
            If that category has no such tier.
        """
        for t in self.tiers:
            if t.category == category and t.tier == tier:
                return t
        raise KeyError((category, tier))

    def to_frame(self) -> pd.DataFrame:
        """One row per category and tier, columns :data:`REPORT_COLUMNS`."""
        import pandas as pd

        rows = [
            {c: t.hit_rate if c == "hit_rate" else getattr(t, c) for c in REPORT_COLUMNS}
            for t in self.tiers
        ]
        return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


# --- tiers ---------------------------------------------------------------------------------------


class _MemoryTier(cachetools.TTLCache):  # type: ignore[type-arg]
    """TTLCache counting expirations and capacity evictions.

    ``TTLCache.__setitem__`` and ``popitem`` call ``self.expire``, so overriding it sees every
    expiry; ``popitem`` is only called to make room, so it counts evictions (both methods as
    cachetools documents them). Values are the cache's entry lists ``[value, bytes]``.
    """

    def __init__(self, maxsize: int, ttl: float, timer: Callable[[], float]) -> None:
        super().__init__(maxsize, ttl, timer=timer)
        self.expirations = 0
        self.evictions = 0

    def expire(self, time: float | None = None) -> Any:
        expired = super().expire(time)
        self.expirations += len(expired)
        return expired

    def popitem(self) -> Any:
        item = super().popitem()
        self.evictions += 1
        return item


class _UnsafeEntryError(Exception):
    """A disk row holds something other than JSON text (e.g. a planted pickle)."""


class _Flight:
    """One computation in progress that other requests for the same key wait for.

    ``done`` is a lock the leader holds while computing (cheaper to create than an Event):
    a waiter acquires and releases it.
    """

    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Lock()
        self.done.acquire()
        self.value: Any = MISS
        self.error: BaseException | None = None


# --- the optimizer -------------------------------------------------------------------------------


def _nothing() -> None:
    """What :meth:`CacheOptimizer.store_key_later` leaves to do without a disk tier."""


class CacheOptimizer:
    """Two-tier cache for generator intermediates, with statistics and recommendations.

    Parameters
    ----------
    config : CacheConfig or None
        Sizes, TTLs, tiers and folder (defaults: :class:`CacheConfig`).
    clock : callable
        Seconds for the memory tier's TTLs (inject a controllable clock in tests).
    wall_clock : callable
        Epoch seconds for the disk tier's TTLs (entries outlive the process).

    Notes
    -----
    Values served from memory are the very objects ``compute`` returned: do not mutate them.
    Values read from disk went through JSON (tuples come back as lists, mapping keys as
    strings) and then ``decode``; give ``encode``/``decode`` for anything that is not plain
    JSON data (a Schema: ``encode=Schema.to_dict, decode=Schema.from_dict``).

    The object pickles as its configuration: unpickled in a worker, it reopens the same disk
    folder with empty memory tiers and zeroed statistics.

    Examples
    --------
    >>> import tempfile
    >>> with CacheOptimizer(CacheConfig(directory=tempfile.mkdtemp())) as cache:
    ...     cache.get_or_compute("type_mapping", ("string",), lambda: "string")
    ...     cache.get_or_compute("type_mapping", ("string",), lambda: "never called")
    'string'
    'string'
    """

    def __init__(
        self,
        config: CacheConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        config = CacheConfig() if config is None else config
        if not isinstance(config, CacheConfig):
            raise ConfigError(f"config must be a CacheConfig, got {type(config).__name__}")
        self.directory = Path(config.directory).expanduser().absolute()
        self.config = dataclasses.replace(config, directory=str(self.directory))
        self._clock = clock
        self._wall_clock = wall_clock
        self._memory: dict[str, _MemoryTier] = {
            cat: _MemoryTier(size, self.config.effective_ttl(cat), clock)
            for cat, size in self.config.memory_size.items()
            if size > 0
        }
        self._locks = {cat: threading.Lock() for cat in self.config.categories}
        self._counters = {
            (cat, tier): _Counters() for cat in self.config.categories for tier in TIERS
        }
        self._computes = dict.fromkeys(self.config.categories, 0)
        self._hot: dict[str, tuple[_MemoryTier, threading.Lock, _Counters]] = {}
        self._index_hot()
        self._flights: dict[tuple[str, str], _Flight] = {}
        self._flights_lock = threading.Lock()
        self._flight_cond = threading.Condition(self._flights_lock)  # notified when one waits
        self._waiting = 0
        self._disk: diskcache.Cache | None = None
        self._disk_lock = threading.Lock()
        self.disk_disabled_reason: str | None = None
        self._warned = False

    def __repr__(self) -> str:
        return f"CacheOptimizer(directory={str(self.directory)!r})"

    # --- pickling and life cycle ----------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        return {"config": self.config, "clock": self._clock, "wall_clock": self._wall_clock}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["config"], clock=state["clock"], wall_clock=state["wall_clock"]
        )

    def __enter__(self) -> CacheOptimizer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the disk tier (it reopens on next use)."""
        with self._disk_lock:
            disk, self._disk = self._disk, None
        if disk is not None:
            with contextlib.suppress(Exception):  # closing a broken cache must not mask anything
                disk.close()

    @property
    def waiting(self) -> int:
        """Requests currently waiting for another thread's computation of the same key."""
        with self._flights_lock:
            return self._waiting

    # --- disk boundary --------------------------------------------------------------------------

    def _cache_error(self, operation: str, err: BaseException) -> CacheError:
        """The one mapping of diskcache/sqlite/OS errors to :class:`CacheError`."""
        error = CacheError(
            f"disk cache {operation} failed in {self.directory}: {type(err).__name__}: {err}"
        )
        error.__cause__ = err
        return error

    @contextlib.contextmanager
    def _disk_errors(self, operation: str) -> Iterator[None]:
        """Raise :meth:`_cache_error` for the disk errors of the body."""
        try:
            yield
        except _disk_error_types() as err:
            raise self._cache_error(operation, err) from err

    def _warn_once(self, message: str) -> None:
        logger.warning("%s", message)
        if not self._warned:
            self._warned = True
            warnings.warn(message, FallbackWarning, stacklevel=_caller_stacklevel())

    def _disable_disk(self, reason: str) -> None:
        self.disk_disabled_reason = reason
        self.close()
        self._warn_once(f"disk cache disabled for this run: {reason}; values are recomputed")

    def _open(self) -> diskcache.Cache:
        import diskcache

        from rrperf.engine._jsondisk import JSONOnlyDisk

        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        if os.stat(self.directory).st_uid == os.getuid():
            os.chmod(self.directory, 0o700)
        # 2026-11-26: eviction_policy "least-recently-stored" makes get() a single SELECT (no
        # UPDATE per read); statistics stay off for the same reason (we count in memory).
        return diskcache.Cache(
            str(self.directory),
            disk=JSONOnlyDisk,
            eviction_policy="least-recently-stored",
            statistics=False,
            tag_index=True,
        )

    def _disk_cache(self) -> diskcache.Cache | None:
        """The open disk tier, opening (or rebuilding) it on first use; None when disabled."""
        if self._disk is not None or self.disk_disabled_reason is not None:
            return self._disk
        with self._disk_lock:
            if self._disk is not None or self.disk_disabled_reason is not None:
                return self._disk
            try:
                with self._disk_errors("open"):
                    self._disk = self._open()
            except CacheError as err:
                self._rebuild(err)
            return self._disk

    def _rebuild(self, err: CacheError) -> None:
        """Replace an unreadable cache database by an empty one, else turn the tier off."""
        self._warn_once(f"disk cache at {self.directory} is unreadable ({err.__cause__}); rebuilt")
        try:
            with self._disk_errors("rebuild"):
                for suffix in ("", "-wal", "-shm"):
                    path = self.directory / f"{_DBNAME}{suffix}"
                    if path.exists():
                        path.unlink()
                self._disk = self._open()
        except CacheError as again:
            self.disk_disabled_reason = f"cannot open or rebuild it: {again.__cause__}"
            logger.warning("disk cache disabled for this run: %s", self.disk_disabled_reason)

    def _disk_hit(
        self,
        category: str,
        key: str,
        decode: Callable[[Any], Any] | None,
        start: int,
        disk_start: int | None = None,
    ) -> Any:
        """The value for ``key`` from the disk tier, kept in memory and counted as a disk hit
        (and a memory miss since ``start``); MISS, counting nothing, if the disk has none."""
        if disk_start is None:
            disk_start = time.perf_counter_ns()
        found = self._disk_read(category, key, decode)
        if found is MISS:
            return MISS
        value, nbytes = found
        self._remember(category, key, value, nbytes)
        now = time.perf_counter_ns()
        with self._locks[category]:
            self._counters[(category, "disk")].hit(now - disk_start)
            if category in self._memory:
                self._counters[(category, "memory")].miss(now - start)
        return value

    def _disk_read(
        self, category: str, key: str, decode: Callable[[Any], Any] | None = None
    ) -> Any:
        """``(value, bytes)`` for ``key`` from disk, or MISS (expired, absent, unusable).

        An entry that ``decode`` rejects (it raises) is unusable: it is removed with one
        warning and the value is recomputed.
        """
        disk = self._disk
        if disk is None:
            if self.disk_disabled_reason is not None or not os.path.exists(
                self.directory / _DBNAME
            ):
                return MISS  # nothing stored yet: a miss, without creating the database
            disk = self._disk_cache()
            if disk is None:
                return MISS
        try:  # inline rather than _disk_errors(): this is the disk tier's hot path
            text = disk.get(key, default=MISS, retry=False)
        except _timeout():  # busy: serve from compute
            logger.debug("disk cache busy on read of %s", key)
            return MISS
        except _disk_error_types() as err:
            self._disable_disk(str(self._cache_error("read", err)))
            return MISS
        except _UnsafeEntryError as err:
            self._drop_bad_entry(disk, key, str(err))
            return MISS
        if text is MISS:
            return MISS
        try:
            # raw_decode: json.loads without its whitespace handling (half its time on a
            # small entry); the entry must still be exactly one JSON value
            entry, end = _RAW_DECODE(text)
            if end != len(text):
                raise ValueError(f"extra data at character {end}")
            expires_at, payload = entry
            nbytes = _text_size(text)
            expires_at = float(expires_at)
        except (ValueError, TypeError) as err:
            self._drop_bad_entry(disk, key, f"not a JSON cache entry ({err})")
            return MISS
        if expires_at <= self._wall_clock():
            with self._locks[category]:
                self._counters[(category, "disk")].expirations += 1
            with contextlib.suppress(CacheError), self._disk_errors("delete"):
                disk.delete(key, retry=True)
            return MISS
        if decode is not None:
            try:
                payload = decode(payload)
            except Exception as err:  # whatever a decoder raises on data it cannot read
                self._drop_bad_entry(disk, key, f"{category} entry not decodable "
                                                f"({type(err).__name__}: {err})")
                return MISS
        return payload, nbytes

    def _drop_bad_entry(self, disk: diskcache.Cache, key: str, why: str) -> None:
        self._warn_once(f"ignored and removed an unusable disk cache entry in {self.directory}: "
                        f"{why}")
        with contextlib.suppress(CacheError), self._disk_errors("delete"):
            disk.delete(key, retry=True)

    def _disk_write(self, category: str, key: str, text: str) -> None:
        self._disk_write_many(category, [(key, text)])

    def _disk_write_many(self, category: str, texts: list[tuple[str, str]]) -> None:
        disk = self._disk_cache()
        if disk is None or not texts:
            return
        try:
            with self._disk_errors("write"):
                if len(texts) == 1:
                    disk.set(texts[0][0], texts[0][1], tag=category, retry=False)
                else:
                    with disk.transact(retry=False):
                        for key, text in texts:
                            disk.set(key, text, tag=category, retry=False)
        except CacheError as err:
            if isinstance(err.__cause__, _timeout()):
                logger.debug("disk cache busy on write of %d entries", len(texts))
                return
            self._disable_disk(str(err))

    # --- lookups --------------------------------------------------------------------------------

    def _check_category(self, category: str) -> None:
        if category not in self._locks:
            raise ConfigError(
                f"unknown cache category {category!r}{did_you_mean(category, self._locks)}; "
                f"known: {', '.join(self.config.categories)}"
            )

    def get_or_compute(
        self,
        category: str,
        key_parts: Any,
        compute: Callable[[], Any],
        *,
        force_refresh: bool = False,
        encode: Callable[[Any], Any] | None = None,
        decode: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Return the cached value for ``key_parts``, computing and storing it on a miss.

        Parameters
        ----------
        category : str
            Cache category (its TTL, memory size and tiers apply).
        key_parts : tuple or list of parts, or a single part
            What the value depends on (see :func:`cache_key`).
        compute : callable
            Called without arguments on a miss.
        force_refresh : bool
            Skip both tiers, compute and overwrite.
        encode, decode : callable or None
            Convert the value to and from plain JSON data for the disk tier.

        Returns
        -------
        object
            The value (a cached ``None`` is a hit).

        Raises
        ------
        ConfigError
            On an unknown category.
        CacheError
            If a key part cannot be fingerprinted, or a value for the disk tier is not JSON
            data (pass ``encode``).
        """
        self._check_category(category)
        if category not in self.config.enabled_categories:
            return compute()
        parts = tuple(key_parts) if isinstance(key_parts, list | tuple) else (key_parts,)
        key = cache_key(category, *parts, version=self.config.version)
        return self.get_or_compute_key(
            category, key, compute, force_refresh=force_refresh, encode=encode, decode=decode
        )

    def get_or_compute_key(
        self,
        category: str,
        key: str,
        compute: Callable[[], Any],
        *,
        force_refresh: bool = False,
        encode: Callable[[Any], Any] | None = None,
        decode: Callable[[Any], Any] | None = None,
    ) -> Any:
        """As :meth:`get_or_compute` with a key already made by :func:`cache_key`.

        For hot loops that reuse a key: it skips the hashing.

        Raises
        ------
        ConfigError, CacheError
            As :meth:`get_or_compute`.
        """
        start = time.perf_counter_ns()
        fast = self._hot.get(category)
        if fast is not None and not force_refresh:
            memory, lock, counters = fast
            with lock:
                # _Counters.hit, inlined: this is the hot path. No expire() here: expired
                # entries (a KeyError here) are counted on the next store or stats().
                # Indexing checks the key once; get() would check it twice (0.7 us).
                try:
                    entry = memory[key]
                except KeyError:
                    pass
                else:
                    ns = time.perf_counter_ns() - start
                    counters.requests += 1
                    counters.hits += 1
                    counters.hit_ns += ns
                    counters.hit_samples.append(ns)
                    return entry[0]
        elif category not in self.config.enabled_categories:
            self._check_category(category)
            return compute()

        disk_read_at = None
        if (
            not force_refresh
            and category in self.config.disk_categories
            and self.disk_disabled_reason is None
        ):
            # A disk read needs no single-flight (it computes nothing): try it first and
            # leave the flight machinery (a lock, a dict, a Lock per flight: ~6 us) to the
            # misses.
            disk_read_at = time.perf_counter_ns()
            value = self._disk_hit(category, key, decode, start, disk_read_at)
            if value is not MISS:
                return value

        flight_key = (category, key)
        with self._flights_lock:
            flight = self._flights.get(flight_key)
            leader = flight is None
            if flight is None:
                flight = self._flights[flight_key] = _Flight()
            else:
                self._waiting += 1
                self._flight_cond.notify_all()
        if not leader:
            flight.done.acquire()
            flight.done.release()
            with self._flights_lock:
                self._waiting -= 1
            with self._locks[category]:
                counters = self._counters[(category, "memory")]
                counters.coalesced += 1
                counters.miss(time.perf_counter_ns() - start)
            if flight.error is not None:
                raise flight.error
            return flight.value
        try:
            flight.value = self._fill(
                category, key, compute, force_refresh, encode, decode, start, disk_read_at
            )
            return flight.value
        except BaseException as err:
            flight.error = err
            raise
        finally:
            with self._flights_lock:
                del self._flights[flight_key]
            flight.done.release()

    def lookup_key(
        self, category: str, key: str, *, decode: Callable[[Any], Any] | None = None
    ) -> Any:
        """The cached value for ``key`` (memory, then disk), or :data:`MISS`; never computes.

        For a caller that computes its misses elsewhere (in a worker process, say) and stores
        them with :meth:`store_key`. Hits and misses are counted per tier as
        :meth:`get_or_compute_key` counts them; there is no single-flight here.

        Raises
        ------
        ConfigError
            On an unknown category.
        """
        start = time.perf_counter_ns()
        if category not in self.config.enabled_categories:
            self._check_category(category)
            return MISS
        memory = self._memory.get(category)
        lock = self._locks[category]
        if memory is not None:
            with lock:
                try:
                    entry = memory[key]
                except KeyError:
                    pass
                else:
                    self._counters[(category, "memory")].hit(time.perf_counter_ns() - start)
                    return entry[0]
        use_disk = category in self.config.disk_categories and self.disk_disabled_reason is None
        disk_start = time.perf_counter_ns()
        if use_disk:
            value = self._disk_hit(category, key, decode, start, disk_start)
            if value is not MISS:
                return value
        now = time.perf_counter_ns()
        with lock:
            if use_disk:
                self._counters[(category, "disk")].miss(now - disk_start)
            if memory is not None:
                self._counters[(category, "memory")].miss(now - start)
        return MISS

    def misses_if_empty(self, category: str, n: int) -> bool:
        """Count ``n`` lookups as memory-tier misses if ``category`` certainly has no entry.

        True when the category is disabled, or has no disk tier and an empty memory tier:
        every lookup would miss, so the caller need not make its keys before computing
        (a cold generator run sends its tables to the workers without hashing them first).
        False otherwise, counting nothing.

        Raises
        ------
        ConfigError
            On an unknown category.
        """
        start = time.perf_counter_ns()
        if category not in self.config.enabled_categories:
            self._check_category(category)
            return True
        if category in self.config.disk_categories and self.disk_disabled_reason is None:
            return False
        memory = self._memory.get(category)
        if memory is None:
            return True
        with self._locks[category]:
            if len(memory):
                return False
            if n > 0:
                self._counters[(category, "memory")].misses_at_once(
                    n, time.perf_counter_ns() - start
                )
        return True

    def store_key(
        self,
        category: str,
        key: str,
        value: Any,
        *,
        encode: Callable[[Any], Any] | None = None,
    ) -> None:
        """Store ``value`` computed by the caller after a :meth:`lookup_key` miss.

        Counted as one computation; the tiers' request counters were counted by the lookup.

        Raises
        ------
        ConfigError, CacheError
            As :meth:`get_or_compute`.
        """
        if category not in self.config.enabled_categories:
            self._check_category(category)
            return
        self._store(category, key, value, encode)
        with self._locks[category]:
            self._computes[category] += 1

    def store_key_later(
        self,
        category: str,
        key: str,
        value: Any,
        *,
        encode: Callable[[Any], Any] | None = None,
    ) -> Callable[[], None]:
        """:meth:`store_key`, with the disk tier's part (encoding ``value`` and writing it)
        returned as a callable to run later, here or in a process forked from this one.

        The memory tier and the counters are updated now (in this process); the callable
        does nothing when the category has no disk tier. A process forked to run it opens its
        own connection to the cache database (diskcache reconnects in a new process).

        Raises
        ------
        ConfigError
            As :meth:`get_or_compute` (now).
        CacheError
            When the value cannot be encoded (by the callable).
        """
        if category not in self.config.enabled_categories:
            self._check_category(category)
            return _nothing
        self._remember(category, key, value, None)  # its byte count taken when asked for
        with self._locks[category]:
            self._computes[category] += 1
        if category not in self.config.disk_categories or self.disk_disabled_reason is not None:
            return _nothing

        def write() -> None:
            self._disk_write(category, key, self._entry_text(category, value, encode))

        return write

    def store_many(
        self,
        category: str,
        items: Iterable[tuple[str, Any]],
        *,
        encode: Callable[[Any], Any] | None = None,
    ) -> None:
        """:meth:`store_key` for many ``(key, value)`` pairs at once.

        One lock and one expiry pass for the memory tier, one transaction for the disk tier
        (a generator stores a batch of rendered tables as it comes back from a worker).

        Raises
        ------
        ConfigError, CacheError
            As :meth:`get_or_compute`.
        """
        if category not in self.config.enabled_categories:
            self._check_category(category)
            return
        pairs = list(items)
        sizes: list[int | None] = [None] * len(pairs)
        if category in self.config.disk_categories and self.disk_disabled_reason is None:
            texts = [(key, self._entry_text(category, value, encode)) for key, value in pairs]
            self._disk_write_many(category, texts)
            sizes = [_text_size(text) for _, text in texts]
        memory = self._memory.get(category)
        with self._locks[category]:
            if memory is not None:
                memory.expire()
                for (key, value), nbytes in zip(pairs, sizes, strict=True):
                    memory[key] = [value, nbytes]
            self._computes[category] += len(pairs)

    def _entry_text(
        self, category: str, value: Any, encode: Callable[[Any], Any] | None
    ) -> str:
        """The JSON text of a disk entry: ``[expires_at, payload]``."""
        payload = encode(value) if encode is not None else value
        expires_at = self._wall_clock() + self.config.effective_ttl(category)
        if isinstance(payload, JSONText):
            return f"[{json.dumps(expires_at, allow_nan=False)},{payload}]"
        try:
            return json.dumps([expires_at, payload], separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as err:
            raise CacheError(
                f"a {category!r} value is not JSON data ({err}); pass encode= and decode= "
                "to convert it, or leave the category out of disk_categories"
            ) from err

    def _store(
        self, category: str, key: str, value: Any, encode: Callable[[Any], Any] | None
    ) -> None:
        """Write ``value`` to the disk tier (if the category has one) and the memory tier."""
        text = None
        if category in self.config.disk_categories and self.disk_disabled_reason is None:
            text = self._entry_text(category, value, encode)
            self._disk_write(category, key, text)
        # the memory tier's byte count is taken when a report asks for it (None until then)
        self._remember(category, key, value, _text_size(text) if text is not None else None)

    def _fill(
        self,
        category: str,
        key: str,
        compute: Callable[[], Any],
        force_refresh: bool,
        encode: Callable[[Any], Any] | None,
        decode: Callable[[Any], Any] | None,
        start: int,
        disk_read_at: int | None = None,
    ) -> Any:
        """The leader's path: memory again, then disk, then compute and store.

        ``disk_read_at``: when the caller's own disk read (a miss) started. The disk is then
        not read again if the category has a memory tier: a value another leader stored since
        is in memory too, and the re-check above finds it.
        """
        memory = self._memory.get(category)
        lock = self._locks[category]
        if memory is not None and not force_refresh:
            with lock:  # another leader may have stored it since our first look
                entry = memory.get(key)
                if entry is not None:
                    self._counters[(category, "memory")].hit(time.perf_counter_ns() - start)
                    return entry[0]
        use_disk = category in self.config.disk_categories and self.disk_disabled_reason is None
        if disk_read_at is not None and memory is not None:
            disk_start = disk_read_at
        else:
            disk_start = time.perf_counter_ns()
            if use_disk and not force_refresh:
                value = self._disk_hit(category, key, decode, start, disk_start)
                if value is not MISS:
                    return value
        value = compute()
        self._store(category, key, value, encode)
        now = time.perf_counter_ns()
        with lock:
            self._computes[category] += 1
            if use_disk and not force_refresh:
                self._counters[(category, "disk")].miss(now - disk_start)
            if memory is not None and not force_refresh:
                self._counters[(category, "memory")].miss(now - start)
        return value

    def _remember(self, category: str, key: str, value: Any, nbytes: int | None) -> None:
        memory = self._memory.get(category)
        if memory is None:
            return
        with self._locks[category]:
            memory.expire()  # count expiries here, not inside __setitem__
            # a list: _memory_bytes fills in a size later; the tier adds expiry and last use
            memory[key] = [value, nbytes]

    # --- maintenance ----------------------------------------------------------------------------

    def invalidate(self, category: str | None = None) -> None:
        """Drop the entries of one category (or all) from both tiers.

        Raises
        ------
        ConfigError
            On an unknown category.
        CacheError
            If the disk tier cannot be cleared.
        """
        categories = self.config.categories if category is None else (category,)
        for cat in categories:
            self._check_category(cat)
        for cat in categories:
            memory = self._memory.get(cat)
            if memory is not None:
                with self._locks[cat]:
                    memory.clear()
        disk = self._disk_cache()
        if disk is None:
            return
        with self._disk_errors("invalidate"):
            if category is None:
                disk.clear(retry=True)
            else:
                disk.evict(category, retry=True)

    def clear_all_caches(self) -> None:
        """Empty every category on both tiers (statistics are kept; see :meth:`reset_stats`).

        Raises
        ------
        CacheError
            If the disk tier cannot be cleared.
        """
        self.invalidate(None)

    def reset_stats(self) -> None:
        """Zero every counter and latency sample."""
        for cat in self.config.categories:
            with self._locks[cat]:
                for tier in TIERS:
                    self._counters[(cat, tier)] = _Counters()
                self._computes[cat] = 0
                memory = self._memory.get(cat)
                if memory is not None:
                    memory.expirations = memory.evictions = 0
        self._index_hot()

    def _index_hot(self) -> None:
        """``category -> (memory tier, lock, memory counters)`` for the memory-hit fast path
        (enabled categories with a memory tier); rebuilt when the counters are replaced."""
        self._hot = {
            cat: (memory, self._locks[cat], self._counters[(cat, "memory")])
            for cat, memory in self._memory.items()
            if cat in self.config.enabled_categories
        }

    def latency_samples(self, category: str, tier: str, outcome: str = "hit") -> list[int]:
        """The most recent latency samples in nanoseconds (``outcome``: "hit" or "miss").

        Raises
        ------
        ConfigError
            On an unknown category, tier or outcome.
        """
        self._check_category(category)
        if tier not in TIERS or outcome not in ("hit", "miss"):
            raise ConfigError(
                f"tier must be one of {TIERS} and outcome 'hit' or 'miss', "
                f"got {tier!r}, {outcome!r}"
            )
        with self._locks[category]:
            counters = self._counters[(category, tier)]
            return list(counters.hit_samples if outcome == "hit" else counters.miss_samples)

    def _disk_usage(self) -> dict[str, tuple[int, int]]:
        """Entries and bytes per category (tag) on disk."""
        if self._disk_cache() is None:
            return {}
        import sqlite3

        db = self.directory / _DBNAME
        query = (
            "SELECT tag, COUNT(*), COALESCE(SUM(CASE WHEN filename IS NULL "
            "THEN LENGTH(CAST(value AS BLOB)) ELSE size END), 0) FROM Cache GROUP BY tag"
        )
        with self._disk_errors("stats"):
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                rows = con.execute(query).fetchall()
            finally:
                con.close()
        return {str(tag): (int(n), int(size)) for tag, n, size in rows}

    def hit_miss_counts(self) -> tuple[int, int]:
        """``(hits, misses)`` as :meth:`stats` counts them, without reading the disk tier.

        Cheap enough to call around every run (no sqlite query, no pass over the entries).
        """
        hits = 0
        for cat in self.config.categories:
            with self._locks[cat]:
                memory = self._counters[(cat, "memory")]
                if cat in self._memory:
                    hits += memory.hits
                hits += memory.coalesced
                if cat in self.config.disk_categories:
                    hits += self._counters[(cat, "disk")].hits
        return hits, sum(self._computes.values())

    def stats(self) -> CacheStats:
        """A snapshot of the counters, entries and bytes of every category and tier.

        Raises
        ------
        CacheError
            If the disk tier's usage cannot be read.
        """
        usage = self._disk_usage()
        tiers: list[TierStats] = []
        hits = 0
        for cat in self.config.categories:
            memory = self._memory.get(cat)
            with self._locks[cat]:
                if memory is not None:
                    memory.expire()
                    entries = len(memory)
                    nbytes = _memory_bytes(memory)
                    mem = self._counters[(cat, "memory")]
                    tiers.append(_tier_stats(cat, "memory", mem, entries, nbytes,
                                             memory.expirations, memory.evictions))
                    hits += mem.hits
                hits += self._counters[(cat, "memory")].coalesced
                if cat in self.config.disk_categories:
                    disk = self._counters[(cat, "disk")]
                    n, size = usage.get(cat, (0, 0))
                    tiers.append(_tier_stats(cat, "disk", disk, n, size, disk.expirations, 0))
                    hits += disk.hits
        computes = dict(self._computes)
        return CacheStats(
            tiers=tuple(tiers),
            computes=computes,
            hits=hits,
            misses=sum(computes.values()),
            disk_disabled_reason=self.disk_disabled_reason,
        )

    def cache_efficiency_report(self) -> pd.DataFrame:
        """Hits, misses, sizes and latencies per category and tier.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`REPORT_COLUMNS`; ``attrs["recommendations"]`` holds
            :meth:`cache_recommendations`.

        Raises
        ------
        CacheError
            As :meth:`stats`.
        """
        stats = self.stats()
        frame = stats.to_frame()
        frame.attrs["recommendations"] = self._recommend(stats)
        return frame

    def cache_recommendations(self, *, min_requests: int = 10) -> list[str]:
        """Plain-language advice derived from the statistics.

        Parameters
        ----------
        min_requests : int
            Rates from fewer requests than this are not judged.

        Returns
        -------
        list of str
            One sentence per finding (empty when nothing stands out).

        Raises
        ------
        CacheError
            As :meth:`stats`.
        """
        return self._recommend(self.stats(), min_requests=min_requests)

    def _recommend(self, stats: CacheStats, *, min_requests: int = 10) -> list[str]:
        advice: list[str] = []
        for t in stats.tiers:
            cat = t.category
            if t.tier == "memory" and t.evictions:
                size = self.config.memory_size[cat]
                advice.append(
                    f"{cat}: the memory tier evicted {t.evictions} entries to stay within "
                    f"memory_size={size}; raise memory_size (e.g. to {2 * size})."
                )
            if t.requests >= min_requests and t.hit_rate < 0.5 and t.expirations:
                advice.append(
                    f"{cat}: {t.tier} hit rate is {t.hit_rate:.0%} with {t.expirations} "
                    f"expirations; raise its ttl (now {self.config.effective_ttl(cat):g} s) "
                    f"or ttl_multiplier."
                )
            if (
                t.tier == "disk"
                and t.hits
                and t.misses
                and t.mean_hit_latency_us >= t.mean_miss_latency_us
            ):
                advice.append(
                    f"{cat}: a disk hit takes {t.mean_hit_latency_us:.1f} µs but recomputing "
                    f"takes {t.mean_miss_latency_us:.1f} µs; leave {cat} out of disk_categories."
                )
        for cat in self.config.categories:
            rows = [t for t in stats.tiers if t.category == cat]
            requests = rows[0].requests if rows else 0  # the first tier sees every request
            served = sum(t.hits + t.coalesced for t in rows)
            churn = sum(t.expirations + t.evictions for t in rows)
            if requests >= min_requests and not served and not churn:
                advice.append(
                    f"{cat}: {requests} requests and no hits: its values are never reused; "
                    f"consider leaving it out of enabled_categories."
                )
        return advice


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside this module."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


_RAW_DECODE = json.JSONDecoder().raw_decode


def _text_size(text: str) -> int:
    """UTF-8 bytes of ``text`` (without encoding it when it is ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _json_size(value: Any) -> int:
    """Bytes of the JSON form of ``value``; its shallow size if it is not JSON data."""
    try:
        return _text_size(json.dumps(value, separators=(",", ":")))
    except (TypeError, ValueError):
        return sys.getsizeof(value)


def _memory_bytes(memory: _MemoryTier) -> int:
    """Bytes of a memory tier's entries, measuring (once) those stored without a size.

    Measuring a value means encoding it as JSON: done when a report asks rather than on
    every store, the hot path of a generator run (2,000 stores: ~0.1 s). The caller holds the
    category's lock.
    """
    total = 0
    for entry in memory.values():
        if entry[1] is None:
            entry[1] = _json_size(entry[0])  # in place: re-inserting would restart its TTL
        total += entry[1]
    return total


def _tier_stats(
    category: str,
    tier: str,
    c: _Counters,
    entries: int,
    nbytes: int,
    expirations: int,
    evictions: int,
) -> TierStats:
    nan = float("nan")
    return TierStats(
        category=category,
        tier=tier,
        requests=c.requests,
        hits=c.hits,
        misses=c.misses,
        expirations=expirations,
        evictions=evictions,
        entries=entries,
        bytes=nbytes,
        mean_hit_latency_us=c.hit_ns / c.hits / 1000 if c.hits else nan,
        mean_miss_latency_us=c.miss_ns / c.misses / 1000 if c.misses else nan,
        coalesced=c.coalesced,
    )
