"""The frozen Schema model every schema source produces and the generator consumes.

All containers are tuples, so a Schema is immutable and pickles cheaply to worker processes.
Column defaults keep three cases apart: no default (``default is None``), a literal default
(``Default(value=..., function=False)``, where ``value`` may itself be ``None`` for an explicit
``default: nil``) and a runtime function default (``Default(value="gen_random_uuid()",
function=True)``, from a Ruby lambda or a SQL function default).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "Association",
    "AssociationKind",
    "CheckConstraint",
    "Column",
    "Default",
    "EnumType",
    "ForeignKey",
    "Index",
    "SQL_ACTIONS",
    "Schema",
    "Table",
]

AssociationKind = Literal["belongs_to", "has_many", "has_one", "has_many_through"]


@dataclass(frozen=True, slots=True)
class Default:
    """A column default: a literal value, or a database function evaluated at insert time."""

    value: Any
    function: bool = False


@dataclass(frozen=True, slots=True)
class Column:
    """One column. ``type`` is the Rails type name (``"string"``, ``"jsonb"``, ``"enum"`` ...)."""

    name: str
    type: str
    null: bool = True
    default: Default | None = None
    limit: int | None = None
    precision: int | None = None
    scale: int | None = None
    array: bool = False
    comment: str | None = None
    enum_type: str | None = None
    enum_values: tuple[str, ...] = ()
    primary_key: bool = False
    virtual: bool = False


@dataclass(frozen=True, slots=True)
class Index:
    """An index: ``columns`` for a column index, ``expression`` for an expression index."""

    name: str | None
    columns: tuple[str, ...] = ()
    expression: str | None = None
    unique: bool = False
    where: str | None = None
    using: str | None = None


@dataclass(frozen=True, slots=True)
class CheckConstraint:
    expression: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """``from_table.column`` references ``to_table.primary_key``."""

    from_table: str
    to_table: str
    column: str
    primary_key: str = "id"
    name: str | None = None
    on_delete: str | None = None
    on_update: str | None = None


#: The referential actions a foreign key's ``on_delete``/``on_update`` holds (the symbols of
#: ``add_foreign_key``), and their SQL.
SQL_ACTIONS: dict[str, str] = {
    "cascade": "CASCADE",
    "nullify": "SET NULL",
    "restrict": "RESTRICT",
    "set_default": "SET DEFAULT",
    "no_action": "NO ACTION",
}


@dataclass(frozen=True, slots=True)
class EnumType:
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Association:
    """An inferred ActiveRecord association, owned by ``table``.

    ``target`` is the target table (``None`` for a polymorphic belongs_to); ``foreign_key`` is
    the column that holds the key (on ``table`` for belongs_to, on ``target`` for has_many /
    has_one); for has_many_through, ``through`` is the join table and ``source`` the association
    on the join table that leads to ``target``.
    """

    kind: AssociationKind
    table: str
    name: str
    target: str | None
    foreign_key: str
    polymorphic: bool = False
    as_name: str | None = None
    through: str | None = None
    source: str | None = None
    polymorphic_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ("id",)
    indexes: tuple[Index, ...] = ()
    check_constraints: tuple[CheckConstraint, ...] = ()
    comment: str | None = None
    line: int = 0

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True, slots=True)
class Schema:
    """A whole database schema: tables in source order, foreign keys, enums, associations.

    ``version`` is the schema version the source declares (the ``define(version: ...)`` of a
    dump), used in generated file headers instead of a wall-clock time. ``source`` names where
    it came from (a path or a URL with the password removed).
    """

    tables: tuple[Table, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    enums: tuple[EnumType, ...] = ()
    associations: tuple[Association, ...] = ()
    version: str | None = None
    source: str | None = None
    _by_name: dict[str, Table] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({t.name: t for t in self.tables})

    def table(self, name: str) -> Table:
        """The table called ``name``; ``KeyError`` when there is none."""
        return self._by_name[name]

    def has_table(self, name: str) -> bool:
        """Whether the schema has a table called ``name``."""
        return name in self._by_name

    @property
    def table_names(self) -> tuple[str, ...]:
        """The table names, in schema order."""
        return tuple(t.name for t in self.tables)

    def associations_of(self, table: str) -> tuple[Association, ...]:
        """The associations declared on ``table``."""
        return tuple(a for a in self.associations if a.table == table)

    def foreign_keys_of(self, table: str) -> tuple[ForeignKey, ...]:
        """The foreign keys from ``table``."""
        return tuple(fk for fk in self.foreign_keys if fk.from_table == table)

    def enum(self, name: str) -> EnumType | None:
        """The enum type called ``name``, or None."""
        for e in self.enums:
            if e.name == name:
                return e
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-serialisable), for fingerprints and the cache's disk tier."""
        return {
            "tables": [asdict(t) for t in self.tables],
            "foreign_keys": [asdict(fk) for fk in self.foreign_keys],
            "enums": [asdict(e) for e in self.enums],
            "associations": [asdict(a) for a in self.associations],
            "version": self.version,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Inverse of :meth:`to_dict`."""

        def col(d: dict[str, Any]) -> Column:
            d = dict(d)
            dflt = d.pop("default")
            d["enum_values"] = tuple(d["enum_values"])
            return Column(default=Default(**dflt) if dflt is not None else None, **d)

        def tab(d: dict[str, Any]) -> Table:
            return Table(
                name=d["name"],
                columns=tuple(col(c) for c in d["columns"]),
                primary_key=tuple(d["primary_key"]),
                indexes=tuple(
                    Index(**{**i, "columns": tuple(i["columns"])}) for i in d["indexes"]
                ),
                check_constraints=tuple(CheckConstraint(**c) for c in d["check_constraints"]),
                comment=d["comment"],
                line=d["line"],
            )

        return cls(
            tables=tuple(tab(t) for t in data["tables"]),
            foreign_keys=tuple(ForeignKey(**f) for f in data["foreign_keys"]),
            enums=tuple(EnumType(e["name"], tuple(e["values"])) for e in data["enums"]),
            associations=tuple(
                Association(**{**a, "polymorphic_types": tuple(a["polymorphic_types"])})
                for a in data["associations"]
            ),
            version=data["version"],
            source=data["source"],
        )

    def fingerprint(self) -> str:
        """A content hash of the model (sources excluded), stable across processes."""
        data = self.to_dict()
        data.pop("source")
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=repr)
        return hashlib.sha256(blob.encode()).hexdigest()
