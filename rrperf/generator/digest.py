"""Output digests: one hash over the relative paths and contents of every generated file.

Equal digests mean identical output. The digest of files on disk (:func:`output_digest`), of
the same files held in memory (:func:`files_digest`) and of their per-file hashes
(:func:`shas_digest`) are equal: each hashes with SHA-256, in order of the relative POSIX
path, ``path NUL sha NUL`` for every file, where ``sha`` is the hex SHA-256 of the file's
bytes (the hash the output manifest keeps per file). Hashing the per-file hashes rather than
the bytes themselves lets a run that already hashed each file for its manifest, or whose
worker processes did, digest its output without holding or hashing its text again (rrperf
before 2026-12-02 hashed the bytes themselves: digests it recorded differ from these for the
same output).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["files_digest", "output_digest", "shas_digest"]


def shas_digest(shas: Mapping[str, str]) -> str:
    """The digest of files given by their hex SHA-256 (``relative POSIX path -> sha``).

    >>> shas_digest({"a.ts": hashlib.sha256(b"x").hexdigest()}) == files_digest({"a.ts": "x"})
    True
    """
    return _digest((rel, shas[rel]) for rel in sorted(shas))


def _digest(items: Iterable[tuple[str, str]]) -> str:
    return hashlib.sha256("".join(f"{rel}\0{sha}\0" for rel, sha in items).encode()).hexdigest()


def files_digest(files: Mapping[str, str | bytes]) -> str:
    """The digest of in-memory files (``relative POSIX path -> text or bytes``).

    Text is hashed as UTF-8, as :func:`~rrperf.generator.writer.write_if_changed` writes it.

    >>> files_digest({"a.ts": "x"}) == files_digest({"a.ts": b"x"})
    True
    """
    return _digest(
        (rel, hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest())
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
    return _digest((rel, hashlib.sha256((base / rel).read_bytes()).hexdigest()) for rel in rels)
