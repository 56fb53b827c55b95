"""The fingerprints of a generator run's schema source, taken once per run.

A run needs its source's fingerprint up to three times: the output manifest's whole-run key
(:mod:`rrperf.generator.manifest`), the cached schema's key and the run key it records. Within
a :func:`fingerprint_memo` block (:func:`rrperf.generator.api.generate` opens one) each is
taken once: a PostgreSQL catalog's by one query before the catalog is read
(:func:`rrperf.schema.pgcatalog.fingerprint`); a ``schema.rb`` file's as the sha256 of the
bytes the parser read (:func:`rrperf.schema.rails.load_schema_rb`), so the recorded key is
that of what was parsed (a file edited during the run is seen by the next run) and the file
is not read again for it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["fingerprint_memo", "run_memo"]

# a URL, or a file's absolute path -> its fingerprint, in the innermost fingerprint_memo()
# block (None outside any block)
_MEMO: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "rrperf_source_fingerprints", default=None
)


@contextlib.contextmanager
def fingerprint_memo() -> Iterator[None]:
    """Take each source's fingerprint once within the block (nested blocks share it)."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def run_memo() -> dict[str, str] | None:
    """The memo of the innermost :func:`fingerprint_memo` block, or None outside any."""
    return _MEMO.get()
