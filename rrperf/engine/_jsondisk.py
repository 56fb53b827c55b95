"""The disk tier's ``diskcache.Disk``: JSON text only, never unpickled.

A module of its own so that :mod:`rrperf.engine.cache` imports diskcache (and sqlite3) only
when a disk tier is first opened: a run whose disk tier is never read or written (a cold
run whose cache database does not exist yet, in a process that leaves the store to another)
does not pay for them.
"""

from __future__ import annotations

from typing import Any

import diskcache
from diskcache.core import MODE_PICKLE

from rrperf.engine.cache import _UnsafeEntryError

__all__ = ["JSONOnlyDisk"]


class JSONOnlyDisk(diskcache.Disk):  # type: ignore[misc]
    """diskcache ``Disk`` that stores and returns JSON text and never unpickles.

    Keys are the hex strings of :func:`~rrperf.engine.cache.cache_key` (stored raw). Values
    are ``str`` (JSON) that this class writes as sqlite TEXT or text files. Reading a row
    whose mode says "pickle", or a key that is not raw, raises instead of calling
    :mod:`pickle` (diskcache's own JSONDisk still unpickles a row whose mode column says so).
    """

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:
            raise _UnsafeEntryError("refusing to unpickle a cache key")
        return super().get(key, raw)

    def store(self, value: Any, read: bool, key: Any = diskcache.core.UNKNOWN) -> Any:
        if read or not isinstance(value, str):
            raise TypeError("the disk tier stores JSON text only")
        return super().store(value, read, key=key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode == MODE_PICKLE or read:
            raise _UnsafeEntryError(f"refusing to load a disk entry in mode {mode}")
        data = super().fetch(mode, filename, value, read)
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as err:
                raise _UnsafeEntryError(f"a disk entry is not UTF-8 text ({err})") from err
        if not isinstance(data, str):
            raise _UnsafeEntryError(f"unexpected {type(data).__name__} in a disk entry")
        return data
