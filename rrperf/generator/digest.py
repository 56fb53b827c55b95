"""Output digests: one hash over the relative paths and bytes of every generated file.

Equal digests mean identical output. The digest of files on disk (:func:`output_digest`) and
of the same files held in memory (:func:`files_digest`) are equal: both hash, in order of
the relative POSIX path, ``path NUL bytes NUL`` for every file with SHA-256.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["files_digest", "output_digest"]


def _digest(items: Iterable[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for rel, data in items:
        h.update(rel.encode("utf-8"))
        h.update(b"\x00")
        h.update(data)
        h.update(b"\x00")
    return h.hexdigest()


def files_digest(files: Mapping[str, str | bytes]) -> str:
    """The digest of in-memory files (``relative POSIX path -> text or bytes``).

    Text is hashed as UTF-8, as :func:`~rrperf.generator.writer.write_if_changed` writes it.

    >>> files_digest({"a.ts": "x"}) == files_digest({"a.ts": b"x"})
    True
    """
    return _digest(
        (rel, data.encode("utf-8") if isinstance(data, str) else data)
        for rel, data in sorted(files.items())
    )


def output_digest(out_dir: str | os.PathLike[str]) -> str:
    """The digest of every file under ``out_dir`` (recursively; folders themselves do not count).

    Parameters
    ----------
    out_dir : path
        The output folder.

    Returns
    -------
    str
        A SHA-256 hex digest.
    """
    base = Path(out_dir)
    rels = sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
    return _digest((rel, (base / rel).read_bytes()) for rel in rels)
