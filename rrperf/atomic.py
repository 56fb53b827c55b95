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

__all__ = [
    "create_bytes", "make_folder", "remove_leftovers", "write_bytes", "write_text", "write_with",
]

_COUNTER = itertools.count()
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _temporary_name(folder: str, name: str, pid: int, n: int) -> str:
    return os.path.join(folder, f".{name}.{pid}-{n}.tmp")


def _open_temporary(target: str) -> tuple[int, str]:
    head, tail = os.path.split(target)
    for _ in range(100):
        tmp = _temporary_name(head, tail, os.getpid(), next(_COUNTER))
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
        _write_all(fd, data)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def create_bytes(path: str, data: bytes, *, folder_mode: int = 0o777) -> bool:
    """Write ``data`` straight into the new file ``path`` (``O_EXCL``: no temporary file, no
    rename; its folder made with ``folder_mode`` if missing); False, writing nothing, if the
    file exists. Not atomic: a reader may see the file half-written, so only for files whose
    readers reject a partial one (a truncated JSON document). Raises ``OSError`` (the partial
    file removed)."""
    try:
        fd = os.open(path, _FLAGS, 0o666)
    except FileExistsError:
        return False
    except FileNotFoundError:
        make_folder(os.path.dirname(path), folder_mode)
        try:
            fd = os.open(path, _FLAGS, 0o666)
        except FileExistsError:
            return False
    try:
        _write_all(fd, data)
    except BaseException:
        _remove(path)
        raise
    return True


def make_folder(folder: str, mode: int = 0o777) -> bool:
    """Make ``folder`` (and missing parents) unless it exists; True if it did not exist.
    One ``mkdir`` when the parent exists (``os.makedirs`` checks the parent first). Raises
    ``OSError`` (``FileExistsError`` when a file is in its place)."""
    try:
        os.mkdir(folder, mode)
    except FileNotFoundError:
        os.makedirs(folder, mode=mode, exist_ok=True)
    except FileExistsError:
        if not os.path.isdir(folder):
            raise
        return False
    return True


def remove_leftovers(folder: str, pid: int) -> None:
    """Remove the temporary files process ``pid`` (which died writing) left in ``folder``."""
    import re

    left = re.compile(rf"\..+\.{pid}-\d+\.tmp")  # the names _temporary_name makes
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            if left.fullmatch(name):
                _remove(os.path.join(folder, name))


def _write_all(fd: int, data: bytes) -> None:
    """Write ``data`` to ``fd`` and close it (os calls, not a file object: every cold
    generator run writes here)."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


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
