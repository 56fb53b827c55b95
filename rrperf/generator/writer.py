"""Safe, atomic, change-detecting file output.

* :func:`safe_join` / :func:`check_relative_path` keep every generated path inside the output
  folder (:class:`~rrperf.errors.UnsafePathError` otherwise);
* :func:`atomic_write` writes a temporary file in the target's folder and ``os.replace``-s it
  over the target, so an interrupted run leaves either the old file or the new one, never a
  partial file, and no temporary file behind (it is atomic with respect to interruption; it
  does not ``fsync``, which would cost more than the generation itself);
* :func:`write_if_changed` checks every path first, then writes only files whose normalized
  content (:func:`normalize_content`) differs from what is on disk.

Files are written as UTF-8 bytes with ``"\\n"`` line endings, whatever the platform.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rrperf import atomic
from rrperf.errors import GenerationError, UnsafePathError

__all__ = [
    "PathGuard",
    "WriteReport",
    "atomic_write",
    "check_relative_path",
    "normalize_content",
    "safe_join",
    "prime_listings",
    "write_if_changed",
]

logger = logging.getLogger(__name__)

# A header line that records when a file was generated ("// Generated at 2024-05-01T10:00:00Z",
# " * Generated on: Mon ...", " * Generated: 2025-07-26 11:37:59 UTC"): it is ignored when
# comparing, so files written by older tools compare equal when nothing else changed.
_TIMESTAMP_LINE = re.compile(
    r"""^[\s/*#-]*            # comment leaders
        generated(?:
            (?:\s+(?:at|on))?\s*:   # "Generated:", "Generated at:", "Generated on:"
          | \s+(?:at|on)\s          # "Generated at 2024-...", "Generated on Mon ..."
        )""",
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class WriteReport:
    """What :func:`write_if_changed` did.

    ``written`` holds the paths written (with ``dry_run``: the paths that would be written);
    ``unchanged`` the paths whose content on disk already matched. Both are sorted.
    """

    written: tuple[str, ...]
    unchanged: tuple[str, ...]


def normalize_content(text: str) -> str:
    """``text`` with timestamp header lines, blank lines and whitespace differences removed.

    Every line is stripped and its inner runs of whitespace become one space; lines that
    are empty afterwards, and "Generated at/on: <time>" lines, are dropped. Whitespace inside
    string literals is collapsed as well: the trade-off the original content normalizer made.

    >>> normalize_content("// Generated at 2024-05-01T10:00:00Z\\r\\nconst  a = 1;  \\n\\n")
    'const a = 1;'
    """
    out = []
    for line in text.splitlines():
        if _TIMESTAMP_LINE.match(line):
            continue
        squeezed = " ".join(line.split())
        if squeezed:
            out.append(squeezed)
    return "\n".join(out)


def check_relative_path(rel: str) -> str:
    """Check that ``rel`` is a relative path that stays below its base folder.

    Returns
    -------
    str
        ``rel`` itself.

    Raises
    ------
    UnsafePathError
        For an empty or absolute path (POSIX or Windows), a drive, a ``..`` part, a
        backslash or a NUL character.
    """
    problem = None
    if not rel or "\x00" in rel:
        problem = "is empty or contains a NUL character"
    elif "\\" in rel:
        problem = "contains a backslash"
    elif rel.startswith("/") or rel[1:2] == ":":
        problem = "is absolute"
    elif ".." in rel.split("/"):
        problem = "contains a '..' part"
    if problem is not None:
        raise UnsafePathError(
            f"generated path {rel!r} {problem}: every generated file must stay inside the "
            "output folder (check the table names)"
        )
    return rel


class PathGuard:
    """Joins relative paths to one output folder, refusing any that would leave it.

    Folders are resolved (symbolic links followed) once each and remembered, so checking
    thousands of paths costs one ``realpath`` per distinct folder.

    Parameters
    ----------
    out_dir : path
        The output folder; it need not exist yet.
    real : str or None
        ``os.path.realpath(out_dir)`` when the caller has it already.
    """

    def __init__(self, out_dir: str | os.PathLike[str], real: str | None = None):
        self.base = os.fspath(out_dir)
        self._real = os.path.realpath(self.base) if real is None else real
        self._prefix = self._real.rstrip(os.sep) + os.sep
        self._ok: dict[str, bool] = {"": True}

    def check_all(self, rels: Iterable[str]) -> None:
        """:meth:`join` every path of ``rels`` without building the joined paths.

        Raises
        ------
        UnsafePathError
            For the first unsafe path, as :meth:`join` does.
        """
        ok = self._ok
        for rel in rels:
            # cheap tests that every safe path in a known-good folder passes; anything else
            # (a new folder, or a path that might be unsafe) gets join()'s exact check
            if (
                not rel
                or ok.get(rel.rpartition("/")[0]) is not True
                or ".." in rel
                or "\\" in rel
                or "\x00" in rel
                or rel[0] == "/"
                or rel[1:2] == ":"
            ):
                self.join(rel)

    def join(self, rel: str) -> str:
        """``out_dir/rel`` as a string.

        Raises
        ------
        UnsafePathError
            When ``rel`` is unsafe (:func:`check_relative_path`) or its folder resolves
            outside ``out_dir``.
        """
        check_relative_path(rel)
        parent = rel.rpartition("/")[0]
        ok = self._ok.get(parent)
        if ok is None:
            real = os.path.realpath(os.path.join(self.base, parent))
            ok = real == self._real or real.startswith(self._prefix)
            self._ok[parent] = ok
        if not ok:
            raise UnsafePathError(
                f"generated path {rel!r} resolves outside the output folder {self.base}"
            )
        return os.path.join(self.base, rel)


def safe_join(out_dir: str | os.PathLike[str], rel: str) -> Path:
    """``out_dir / rel``, after checking that the result stays inside ``out_dir``.

    Symbolic links are resolved for the folders, so a ``types`` link pointing elsewhere is
    rejected too. Use :class:`PathGuard` to check many paths against one folder.

    Raises
    ------
    UnsafePathError
        When ``rel`` is unsafe (:func:`check_relative_path`) or resolves outside ``out_dir``.
    """
    return Path(PathGuard(out_dir).join(rel))


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + ``os.replace``).

    The parent folder must exist. On any failure the temporary file is removed and the old
    file, if any, is left intact. The new file gets the usual permissions (``0o666`` minus
    the umask).

    Raises
    ------
    GenerationError
        When the file cannot be written; ``__cause__`` holds the ``OSError``.
    """
    _write_bytes(os.fspath(path), text.encode("utf-8"))


def _write_bytes(target: str, data: bytes) -> None:
    try:
        atomic.write_bytes(target, data)
    except OSError as err:
        raise GenerationError(f"cannot write {target}: {err}") from err


def _unchanged(target: str, data: bytes, text: str) -> bool:
    try:
        with open(target, "rb") as fh:
            old = fh.read()
    except FileNotFoundError:
        return False
    except OSError as err:
        raise GenerationError(f"cannot read {target}: {err}") from err
    if old == data:
        return True
    return normalize_content(old.decode("utf-8", errors="replace")) == normalize_content(text)


def _listing(folder: str) -> frozenset[str]:
    try:
        return frozenset(os.listdir(folder))
    except FileNotFoundError:
        return frozenset()
    except OSError as err:
        raise GenerationError(f"cannot list {folder}: {err}") from err


def prime_listings(
    out_dir: str | os.PathLike[str] | PathGuard,
    rels: Iterable[str],
    listings: dict[str, frozenset[str]],
) -> None:
    """List now, into ``listings`` (see :func:`write_if_changed`), the folders the paths
    ``rels`` are in: before a run forks processes that write, so that they inherit the
    listings instead of each listing the folders again.

    Raises
    ------
    UnsafePathError
        When a path would leave ``out_dir``.
    GenerationError
        When a folder cannot be listed.
    """
    guard = out_dir if isinstance(out_dir, PathGuard) else PathGuard(out_dir)
    for rel in rels:
        folder = os.path.split(guard.join(rel))[0]
        if folder not in listings:
            listings[folder] = _listing(folder)


def write_if_changed(
    out_dir: str | os.PathLike[str] | PathGuard,
    files: Mapping[str, str],
    *,
    force: bool = False,
    dry_run: bool = False,
    listings: dict[str, frozenset[str]] | None = None,
) -> WriteReport:
    """Write the files whose content changed, atomically.

    Every path is checked before any file is written.

    Parameters
    ----------
    out_dir : path or PathGuard
        The output folder (created when missing, unless ``dry_run``), or the guard of a run
        that checked it already (its resolved folders are reused).
    files : mapping of str to str
        Relative POSIX path -> file text.
    force : bool
        Write every file, changed or not.
    dry_run : bool
        Write nothing; report what would be written.
    listings : dict or None
        The names each folder held, kept across the calls of one run that writes its files
        in several calls (folder -> names, filled here on first need): each folder is then
        listed once per run instead of once per call (a cold 2,000-table run listed its
        two growing folders 31 times, ~30 ms). A run writes each of its files once, so
        what it wrote itself need not be seen again; a file that another process creates in
        the folder meanwhile is taken as new (written over, atomically, and reported
        written). ``None``: listed for this call.

    Returns
    -------
    WriteReport

    Raises
    ------
    UnsafePathError
        When a path would leave ``out_dir``; nothing is written then.
    GenerationError
        When a file cannot be read or written.
    """
    guard = out_dir if isinstance(out_dir, PathGuard) else PathGuard(out_dir)
    targets = {rel: guard.join(rel) for rel in sorted(files)}
    if listings is None:
        listings = {}
    made_dirs: set[str] = set()
    if not dry_run:
        try:
            created = atomic.make_folder(guard.base)
        except OSError as err:
            raise GenerationError(f"cannot create output folder {guard.base}: {err}") from err
        top = os.path.split(os.path.join(guard.base, "_"))[0]  # the form targets' folders take
        made_dirs.add(top)
        if created:  # made now: nothing in it to compare with (a cold run lists nothing)
            listings[top] = frozenset()
    written: list[str] = []
    unchanged: list[str] = []
    for rel, target in targets.items():
        text = files[rel]
        data = text.encode("utf-8")
        folder, name = os.path.split(target)
        existing = listings.get(folder)
        if existing is None:
            existing = listings[folder] = _listing(folder)
        if not force and name in existing and _unchanged(target, data, text):
            unchanged.append(rel)
            continue
        written.append(rel)
        if dry_run:
            continue
        if folder not in made_dirs:
            try:
                atomic.make_folder(folder)
            except OSError as err:
                raise GenerationError(f"cannot create folder {folder}: {err}") from err
            made_dirs.add(folder)
        _write_bytes(target, data)
    logger.debug("%d files written, %d unchanged in %s", len(written), len(unchanged), guard.base)
    return WriteReport(tuple(written), tuple(unchanged))
