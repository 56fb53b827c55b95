"""Schema model and schema sources.

The model's classes are loaded on first use (PEP 562): a warm run from a database checks its
catalog fingerprint (:mod:`rrperf.schema.pgcatalog`) without importing them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'rrperf.schema' has no attribute {name!r}")
    value = getattr(importlib.import_module("rrperf.schema.model"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
