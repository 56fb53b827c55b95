"""Schema model and schema sources.

The model's classes are loaded on first use (PEP 562): a warm run from a database checks its
catalog fingerprint (:mod:`rrperf.schema.pgcatalog`) without importing them.
"""

from __future__ import annotations

from rrperf._util import lazy_exports

TYPE_CHECKING = False  # not typing's: a warm command imports no typing (rrperf.cli._warm)

__all__ = [
    "Association",
    "CheckConstraint",
    "Column",
    "Default",
    "EnumType",
    "ForeignKey",
    "Index",
    "Schema",
    "Table",
]

if TYPE_CHECKING:
    from rrperf.schema.model import (
        Association,
        CheckConstraint,
        Column,
        Default,
        EnumType,
        ForeignKey,
        Index,
        Schema,
        Table,
    )


__getattr__, __dir__ = lazy_exports(__name__, {"rrperf.schema.model": __all__}, __all__)
