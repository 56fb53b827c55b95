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
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from rrperf.errors import GenerationError, UnsafePathError

__all__ = [
    "WriteReport",
    "atomic_write",
    "check_relative_path",
    "normalize_content",
    "safe_join",
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
_FILE_MODE = 0o644


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


def check_relative_path(rel: str) -> PurePosixPath:
    """Check that ``rel`` is a relative path that stays below its base folder.

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
    elif PurePosixPath(rel).is_absolute() or PureWindowsPath(rel).drive or rel.startswith("/"):
        problem = "is absolute"
    elif ".." in PurePosixPath(rel).parts:
        problem = "contains a '..' part"
    if problem is not None:
        raise UnsafePathError(
            f"generated path {rel!r} {problem}: every generated file must stay inside the "
            "output folder (check the table names)"
        )
    return PurePosixPath(rel)


def safe_join(out_dir: str | os.PathLike[str], rel: str) -> Path:
    """``out_dir / rel``, after checking that the result stays inside ``out_dir``.

    Symbolic links are resolved for the folders, so a ``types`` link pointing elsewhere is
    rejected too.

    Raises
    ------
    UnsafePathError
        When ``rel`` is unsafe (:func:`check_relative_path`) or resolves outside ``out_dir``.
    """
    return _safe_join(Path(out_dir), Path(out_dir).resolve(), rel, {})


def _safe_join(base: Path, base_resolved: Path, rel: str, resolved: dict[str, bool]) -> Path:
    parts = check_relative_path(rel)
    target = base.joinpath(*parts.parts)
    parent = str(parts.parent)
    ok = resolved.get(parent)
    if ok is None:
        real = (base / parent).resolve()
        ok = real == base_resolved or base_resolved in real.parents
        resolved[parent] = ok
    if not ok:
        raise UnsafePathError(f"generated path {rel!r} resolves outside the output folder {base}")
    return target


def atomic_write(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + ``os.replace``).

    The parent folder must exist. On any failure the temporary file is removed and the old
    file, if any, is left intact.

    Raises
    ------
    GenerationError
        When the file cannot be written; ``__cause__`` holds the ``OSError``.
    """
    _write_bytes(Path(path), text.encode("utf-8"))


def _write_bytes(target: Path, data: bytes) -> None:
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp_name, _FILE_MODE)
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as err:
        raise GenerationError(f"cannot write {target}: {err}") from err
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                # Best effort: the temporary file may not exist (mkstemp failed).
                logger.debug("could not remove temporary file %s", tmp_name)


def _unchanged(target: Path, data: bytes, text: str) -> bool:
    try:
        old = target.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as err:
        raise GenerationError(f"cannot read {target}: {err}") from err
    if old == data:
        return True
    return normalize_content(old.decode("utf-8", errors="replace")) == normalize_content(text)


def write_if_changed(
    out_dir: str | os.PathLike[str],
    files: Mapping[str, str],
    *,
    force: bool = False,
    dry_run: bool = False,
) -> WriteReport:
    """Write the files whose content changed, atomically.

    Every path is checked before any file is written.

    Parameters
    ----------
    out_dir : path
        The output folder (created when missing, unless ``dry_run``).
    files : mapping of str to str
        Relative POSIX path -> file text.
    force : bool
        Write every file, changed or not.
    dry_run : bool
        Write nothing; report what would be written.

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
    base = Path(out_dir)
    if not dry_run:
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise GenerationError(f"cannot create output folder {base}: {err}") from err
    base_resolved = base.resolve()
    resolved: dict[str, bool] = {}
    targets = {rel: _safe_join(base, base_resolved, rel, resolved) for rel in sorted(files)}
    written: list[str] = []
    unchanged: list[str] = []
    made_dirs: set[Path] = {base}
    for rel, target in targets.items():
        text = files[rel]
        data = text.encode("utf-8")
        if not force and _unchanged(target, data, text):
            unchanged.append(rel)
            continue
        written.append(rel)
        if dry_run:
            continue
        if target.parent not in made_dirs:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise GenerationError(f"cannot create folder {target.parent}: {err}") from err
            made_dirs.add(target.parent)
        _write_bytes(target, data)
    logger.debug("%d files written, %d unchanged in %s", len(written), len(unchanged), base)
    return WriteReport(tuple(written), tuple(unchanged))
