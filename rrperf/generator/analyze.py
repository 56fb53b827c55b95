"""Schema analysis and the four independent per-table computations of the generator.

:func:`analyze_schema` runs once per generation: it names every model
(:func:`~rrperf.generator.naming.assign_model_names`), splits the associations per table and
kind with one pass over them, checks every planned path, and warns once per (table, column)
about unmapped types. The result, :class:`SchemaContext`, is plain frozen data (it pickles to
worker processes) holding every lookup the per-table steps need, so none of them scans the
whole schema: the total work is linear in the number of tables, columns and associations.

The per-table functions :func:`table_types`, :func:`table_relationships`,
:func:`table_defaults` and :func:`table_polymorphic` depend only on the context and the table
name, not on each other, and return small frozen dataclasses of strings ready for the
templates.

Relationships to tables that are not generated (filtered out with ``tables=`` or
``exclude_tables=``, or absent from the schema) are left out, so the runtime is never told
about a model that does not exist. Polymorphic ``allowedTypes`` are type names stored in the
database and are kept as they are.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rrperf.errors import ConfigError, SchemaWarning
from rrperf.generator.naming import assign_model_names, derived_files, ts_property, ts_string
from rrperf.generator.typemap import is_known_type, ts_default, ts_type
from rrperf.generator.writer import check_relative_path
from rrperf.schema.model import Association, Schema, Table

__all__ = [
    "DefaultsResult",
    "PolymorphicField",
    "PolymorphicResult",
    "Property",
    "Relationship",
    "RelationshipsResult",
    "SchemaContext",
    "TableInfo",
    "TypesResult",
    "analyze_schema",
    "table_defaults",
    "table_polymorphic",
    "table_relationships",
    "table_types",
]

logger = logging.getLogger(__name__)

#: Columns left out of ``Create<Model>Data`` / ``Update<Model>Data`` besides the primary key.
AUTO_COLUMNS: tuple[str, ...] = ("id", "created_at", "updated_at")

#: Members every object literal inherits in TypeScript's ``Object`` interface.
OBJECT_PROTOTYPE_MEMBERS: frozenset[str] = frozenset(
    {
        "constructor",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "toString",
        "valueOf",
    }
)


@dataclass(frozen=True, slots=True)
class TableInfo:
    """One table with its names and its associations split by kind."""

    table: Table
    model: str
    kebab: str
    belongs_to: tuple[Association, ...] = ()
    polymorphic: tuple[Association, ...] = ()
    has_many: tuple[Association, ...] = ()
    has_one: tuple[Association, ...] = ()
    through: tuple[Association, ...] = ()

    @property
    def files(self) -> tuple[str, str, str]:
        """Relative paths of the table's three files (types, model, reactive model)."""
        return derived_files(self.kebab)


@dataclass(frozen=True)
class SchemaContext:
    """Everything the per-table steps and the renderers need, computed once.

    Attributes
    ----------
    tables : mapping
        ``table name -> TableInfo`` for every table of the schema (selected or not), in
        schema order.
    selected : tuple of str
        The tables to generate, in schema order.
    version : str or None
        The schema version of the dump, written in ``index.ts``.
    enum_schema : Schema
        A schema holding only the named enum types, for :func:`~rrperf.generator.typemap.ts_type`.
    """

    tables: Mapping[str, TableInfo]
    selected: tuple[str, ...]
    version: str | None = None
    source: str | None = None
    enum_schema: Schema = field(default_factory=lambda: Schema(tables=()))
    selected_set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "selected_set", frozenset(self.selected))

    def info(self, table: str) -> TableInfo:
        return self.tables[table]

    @property
    def paths(self) -> tuple[str, ...]:
        """Every relative path the run writes, in generation order (index last)."""
        out = [p for t in self.selected for p in self.tables[t].files]
        out.append("index.ts")
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Property:
    """One interface property: quoted-if-needed key, TypeScript type, optional flag."""

    key: str
    type: str
    optional: bool
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class TypesResult:
    model: str
    properties: tuple[Property, ...]
    omit: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Relationship:
    """One ``registerModelRelationships`` entry; every text field is a TS literal or None."""

    key: str
    kind: str
    model: str
    foreign_key: str | None = None
    through: str | None = None
    source: str | None = None
    as_name: str | None = None


@dataclass(frozen=True, slots=True)
class RelationshipsResult:
    relationships: tuple[Relationship, ...]


@dataclass(frozen=True, slots=True)
class DefaultsResult:
    """``(property key, TypeScript literal)`` pairs, in column order."""

    defaults: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class PolymorphicField:
    key: str
    type_field: str
    id_field: str
    allowed_types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolymorphicResult:
    belongs_to: tuple[PolymorphicField, ...]
    has_many: tuple[PolymorphicField, ...]

    @property
    def any(self) -> bool:
        return bool(self.belongs_to or self.has_many)


def _check_names(schema: Schema, names: Iterable[str] | None, option: str) -> tuple[str, ...]:
    if names is None:
        return ()
    if isinstance(names, str):
        raise ConfigError(f"{option} must be a list of table names, got the string {names!r}")
    out = tuple(names)
    unknown = [n for n in out if not schema.has_table(n)]
    if unknown:
        raise ConfigError(
            f"{option}: unknown table {', '.join(repr(n) for n in unknown)}; "
            f"the schema has {len(schema.tables)} tables"
            + (f" (e.g. {', '.join(schema.table_names[:5])})" if schema.tables else "")
        )
    return out


def select_tables(
    schema: Schema,
    *,
    tables: Iterable[str] | None = None,
    exclude_tables: Iterable[str] | None = None,
) -> tuple[str, ...]:
    """The tables to generate, in schema order.

    Raises
    ------
    ConfigError
        When ``tables`` or ``exclude_tables`` names a table the schema does not have.
    """
    wanted = _check_names(schema, tables, "tables")
    excluded = set(_check_names(schema, exclude_tables, "exclude_tables"))
    keep = set(wanted) if tables is not None else None
    return tuple(
        t.name
        for t in schema.tables
        if (keep is None or t.name in keep) and t.name not in excluded
    )


def analyze_schema(
    schema: Schema,
    *,
    tables: Iterable[str] | None = None,
    exclude_tables: Iterable[str] | None = None,
) -> SchemaContext:
    """Name the models, group the associations and check the paths of a generation run.

    Parameters
    ----------
    schema : Schema
        The schema, with its associations already inferred.
    tables, exclude_tables : iterable of str or None
        Generate only these tables / all but these.

    Returns
    -------
    SchemaContext

    Raises
    ------
    ConfigError
        When a table filter names an unknown table.
    UnsafePathError
        When a planned file path would leave the output folder (a table called ``../x``).

    Warns
    -----
    SchemaWarning
        Once per selected (table, column) whose type has no TypeScript mapping.
    """
    selected = select_tables(schema, tables=tables, exclude_tables=exclude_tables)
    names = assign_model_names(schema.table_names)
    groups: dict[str, dict[str, list[Association]]] = {t: {} for t in schema.table_names}
    for assoc in schema.associations:
        per_table = groups.get(assoc.table)
        if per_table is None:
            continue
        if assoc.kind == "belongs_to":
            kind = "polymorphic" if assoc.polymorphic or assoc.target is None else "belongs_to"
        elif assoc.kind == "has_many_through":
            kind = "through"
        else:
            kind = assoc.kind
        per_table.setdefault(kind, []).append(assoc)
    infos: dict[str, TableInfo] = {}
    for table in schema.tables:
        model, kebab = names[table.name]
        g = groups[table.name]
        infos[table.name] = TableInfo(
            table=table,
            model=model,
            kebab=kebab,
            belongs_to=tuple(g.get("belongs_to", ())),
            polymorphic=tuple(g.get("polymorphic", ())),
            has_many=tuple(g.get("has_many", ())),
            has_one=tuple(g.get("has_one", ())),
            through=tuple(g.get("through", ())),
        )
    ctx = SchemaContext(
        tables=infos,
        selected=selected,
        version=schema.version,
        source=schema.source,
        enum_schema=Schema(tables=(), enums=schema.enums),
    )
    for path in ctx.paths:
        check_relative_path(path)
    known: dict[tuple[str, str | None, tuple[str, ...]], bool] = {}  # a few distinct types
    for name in selected:
        for col in infos[name].table.columns:
            col_type = (col.type, col.enum_type, col.enum_values)
            ok = known.get(col_type)
            if ok is None:
                ok = known[col_type] = is_known_type(col, ctx.enum_schema)
            if not ok:
                what = (
                    f"enum type {col.enum_type!r} has no known values"
                    if col.type.lower() == "enum"
                    else f"column type {col.type!r} has no TypeScript mapping"
                )
                warnings.warn(
                    f"{name}.{col.name}: {what}; typed as unknown", SchemaWarning, stacklevel=2
                )
    logger.debug("analyzed %d tables (%d selected)", len(infos), len(selected))
    return ctx


def table_types(ctx: SchemaContext, table: str) -> TypesResult:
    """The ``<Model>Data`` properties and the keys ``Create``/``Update`` types leave out.

    Nullable columns are optional properties. A primary-key column the table does not list
    (a dump's implicit ``id``) is added as a required ``number``.
    """
    info = ctx.tables[table]
    tab = info.table
    seen: set[str] = set()
    props: list[Property] = []
    for pk in tab.primary_key:
        if tab.column(pk) is None and pk not in seen:
            seen.add(pk)
            props.append(Property(ts_property(pk), "number", optional=False))
    for col in tab.columns:
        if col.name in seen:
            continue
        seen.add(col.name)
        comment = col.comment.replace("*/", "*\\/") if col.comment else None
        props.append(
            Property(
                ts_property(col.name),
                ts_type(col, ctx.enum_schema),
                optional=col.null and col.name not in tab.primary_key,
                comment=" ".join(comment.split()) if comment else None,
            )
        )
    omit = list(AUTO_COLUMNS)
    omit.extend(pk for pk in tab.primary_key if pk not in omit)
    omit.extend(c.name for c in tab.columns if c.virtual and c.name not in omit)
    return TypesResult(info.model, tuple(props), tuple(ts_string(k) for k in omit))


def _relationship(ctx: SchemaContext, assoc: Association, kind: str) -> Relationship | None:
    selected = ctx.selected_set
    if assoc.target is None or assoc.target not in selected:
        return None
    if assoc.through is not None and assoc.through not in selected:
        return None
    return Relationship(
        key=ts_property(assoc.name),
        kind=kind,
        model=ts_string(ctx.tables[assoc.target].model),
        foreign_key=ts_string(assoc.foreign_key) if assoc.foreign_key else None,
        through=ts_string(assoc.through) if assoc.through else None,
        source=ts_string(assoc.source) if assoc.source else None,
        as_name=ts_string(assoc.as_name) if assoc.as_name else None,
    )


def table_relationships(ctx: SchemaContext, table: str) -> RelationshipsResult:
    """The non-polymorphic relationships to register: belongsTo, hasMany, hasOne, through.

    Order: belongs_to, has_many, has_one, has_many_through (each in association order). A
    name that appears twice keeps its first association.
    """
    info = ctx.tables[table]
    out: list[Relationship] = []
    seen: set[str] = set()
    groups = (
        (info.belongs_to, "belongsTo"),
        (info.has_many, "hasMany"),
        (info.has_one, "hasOne"),
        (info.through, "hasMany"),
    )
    for assocs, kind in groups:
        for assoc in assocs:
            if assoc.name in seen:
                continue
            rel = _relationship(ctx, assoc, kind)
            if rel is not None:
                seen.add(assoc.name)
                out.append(rel)
    return RelationshipsResult(tuple(out))


def table_defaults(ctx: SchemaContext, table: str) -> DefaultsResult:
    """Literal column defaults as TypeScript literals (function defaults are skipped).

    A column named like a member of ``Object.prototype`` (``constructor``, ``toString`` ...)
    without a default is listed as ``undefined``: otherwise TypeScript checks the inherited
    member (``constructor: Function``) of the object literal against the column's type and
    rejects the configuration.
    """
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for col in ctx.tables[table].table.columns:
        if col.name in seen:
            continue
        seen.add(col.name)
        literal = None if col.virtual else ts_default(col, ctx.enum_schema)
        if literal is None and col.name in OBJECT_PROTOTYPE_MEMBERS:
            literal = "undefined"
        if literal is not None:
            out.append((ts_property(col.name), literal))
    return DefaultsResult(tuple(out))


def _type_field(id_field: str, name: str) -> str:
    return id_field[:-3] + "_type" if id_field.endswith("_id") else f"{name}_type"


def table_polymorphic(ctx: SchemaContext, table: str) -> PolymorphicResult:
    """Polymorphic belongs_to (``X_type`` + ``X_id``) and the ``as:`` has_many/has_one side."""
    info = ctx.tables[table]
    belongs: list[PolymorphicField] = []
    seen: set[str] = set()
    for assoc in info.polymorphic:
        if assoc.name in seen:
            continue
        seen.add(assoc.name)
        belongs.append(
            PolymorphicField(
                key=ts_property(assoc.name),
                type_field=ts_string(_type_field(assoc.foreign_key, assoc.name)),
                id_field=ts_string(assoc.foreign_key),
                allowed_types=tuple(ts_string(t) for t in assoc.polymorphic_types),
            )
        )
    has: list[PolymorphicField] = []
    seen = set()
    selected = ctx.selected_set
    for assoc in (*info.has_many, *info.has_one):
        if assoc.as_name is None or assoc.name in seen:
            continue
        if assoc.target is None or assoc.target not in selected:
            continue
        seen.add(assoc.name)
        has.append(
            PolymorphicField(
                key=ts_property(assoc.name),
                type_field=ts_string(f"{assoc.as_name}_type"),
                id_field=ts_string(assoc.foreign_key),
                allowed_types=(ts_string(info.model),),
            )
        )
    return PolymorphicResult(tuple(belongs), tuple(has))
