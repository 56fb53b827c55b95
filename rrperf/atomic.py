"""Atomic file writes: the one implementation every module uses.

A file is written to a temporary file beside the target and ``os.replace``-d over it, so a
reader sees the old file or the complete new one, never a partial file; when anything fails
the temporary file is removed and the old file is left intact. The new file gets the mode
:func:`open` would give it (``0o666`` minus the umask; :func:`tempfile.mkstemp` would make it
private). No ``fsync`` unless asked: it would cost more than generating the code.

This module sits at the bottom of the package (standard library only).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_bytes", "write_text", "write_with"]

_COUNTER = itertools.count()
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _open_temporary(target: str) -> tuple[int, str]:
    head, tail = os.path.split(target)
    for _ in range(100):
        tmp = os.path.join(head, f".{tail}.{os.getpid()}-{next(_COUNTER)}.tmp")
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:  # a leftover of a killed run with the same process id
            continue
    raise FileExistsError(f"no free temporary file name next to {target}")


def write_bytes(path: str | os.PathLike[str], data: bytes, *, parents: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (the generator's hot path: no ``pathlib``).

    ``parents`` creates the missing folders first. Raises ``OSError``.
    """
    target = os.fspath(path)
    if parents:
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    fd, tmp = _open_temporary(target)
    try:
        try:  # os calls, not a file object: every cold generator run writes here
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def write_text(path: str | os.PathLike[str], text: str, *, parents: bool = True) -> None:
    """Write ``text`` to ``path`` atomically as UTF-8 with ``"\\n"`` line ends."""
    write_bytes(path, text.encode("utf-8"), parents=parents)


def write_with(
    path: str | os.PathLike[str], write: Callable[[Path], object], *, fsync: bool = False
) -> None:
    """Run ``write(tmp)`` on an empty temporary file beside ``path``, then rename it over
    ``path`` (for writers that take a path: pandas, pyarrow). Missing folders are created;
    ``fsync`` flushes the file to the disk before the rename. Raises ``OSError`` and whatever
    ``write`` raises."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _open_temporary(str(target))
    os.close(fd)
    try:
        write(Path(tmp))
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def _remove(tmp: str) -> None:
    with contextlib.suppress(OSError):  # already gone
        os.unlink(tmp)
