"""Schema model and schema sources."""

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
