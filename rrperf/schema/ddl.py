"""PostgreSQL DDL from a :class:`~rrperf.schema.model.Schema`: what ``rails db:schema:load``
would run for the ``schema.rb`` the schema was parsed from.

:func:`postgres_ddl` emits, in this order: ``CREATE EXTENSION`` for the extensions asked for
(and ``citext`` / ``hstore`` when a column uses them), ``CREATE TYPE ... AS ENUM``, one
``CREATE TABLE`` per table (columns, primary key, check constraints), ``CREATE INDEX`` (unique,
partial, expression, ``USING``), foreign keys as ``ALTER TABLE ... ADD CONSTRAINT`` (so tables
may reference each other in any order) and ``COMMENT ON``. Every identifier is quoted.

Rails types map as the PostgreSQL adapter maps them: ``string`` -> ``character varying``,
``datetime`` -> ``timestamp(6)`` (``timestamp`` for ``precision: nil``), ``float`` -> ``double
precision``, ``binary`` -> ``bytea``, an integer primary key without a default -> ``serial`` /
``bigserial``, ``enum`` -> its ``enum_type``; any other type name (``inet``, ``vector``,
``tsvector`` ...) is written as it is, so it must exist in the target database.

Virtual (generated) columns are written as ordinary columns: the model does not keep their
expression.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

from rrperf.schema.model import SQL_ACTIONS, Column, Default, Schema, Table

__all__ = ["BUILTIN_INDEX_METHODS", "postgres_ddl", "quote_ident", "quote_literal"]


_SIMPLE_TYPES = {
    "text": "text",
    "bigint": "bigint",
    "float": "double precision",
    "date": "date",
    "boolean": "boolean",
    "binary": "bytea",
    "json": "json",
    "jsonb": "jsonb",
    "uuid": "uuid",
    "timestamptz": "timestamp with time zone",
    "serial": "integer",
    "bigserial": "bigint",
}

_EXTENSION_TYPES = {"citext": "citext", "hstore": "hstore"}

#: The index methods every PostgreSQL server has.
BUILTIN_INDEX_METHODS = frozenset({"btree", "hash", "gist", "gin", "spgist", "brin"})


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier (``"a""b"``)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a SQL string literal (``'it''s'``)."""
    return "'" + text.replace("'", "''") + "'"


def _sql_type(col: Column, table: Table) -> str:
    t = col.type
    if (
        table.primary_key == (col.name,)
        and t in {"integer", "bigint", "serial", "bigserial"}
        and col.default is None
        and not col.array
    ):
        return "bigserial" if t in {"bigint", "bigserial"} or col.limit == 8 else "serial"
    if t == "enum":
        if not col.enum_type:
            raise ValueError(f"{table.name}.{col.name}: an enum column needs enum_type")
        base = quote_ident(col.enum_type)
    elif t == "string":
        base = f"character varying({col.limit})" if col.limit else "character varying"
    elif t == "integer":
        base = {2: "smallint", 8: "bigint"}.get(col.limit or 4, "integer")
    elif t == "decimal":
        if col.precision is not None and col.scale is not None:
            base = f"numeric({col.precision},{col.scale})"
        elif col.precision is not None:
            base = f"numeric({col.precision})"
        else:
            base = "numeric"
    elif t in {"datetime", "timestamp"}:
        base = "timestamp" if col.precision is None and t == "datetime" else (
            f"timestamp({col.precision if col.precision is not None else 6})"
        )
    elif t == "time":
        base = f"time({col.precision})" if col.precision is not None else "time"
    elif t in _SIMPLE_TYPES:
        base = _SIMPLE_TYPES[t]
    elif t == "vector" and col.limit:
        base = f"vector({col.limit})"
    else:
        base = t
    return base + ("[]" if col.array else "")


def _array_literal(values: list[Any]) -> str:
    def item(v: Any) -> str:
        if isinstance(v, list):
            return _array_literal(v)
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "t" if v else "f"
        text = str(v)
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "{" + ",".join(item(v) for v in values) + "}"


def _default_sql(default: Default, col: Column) -> str | None:
    if default.function:
        return str(default.value)
    value = default.value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not col.array:
        return repr(value)
    if col.array and isinstance(value, list):
        return quote_literal(_array_literal(value))
    if isinstance(value, dict | list):
        return quote_literal(json.dumps(value, separators=(",", ":")))
    return quote_literal(str(value))


def _column_sql(col: Column, table: Table) -> str:
    parts = [quote_ident(col.name), _sql_type(col, table)]
    if col.default is not None:
        sql = _default_sql(col.default, col)
        if sql is not None:
            parts.append(f"DEFAULT {sql}")
    if not col.null:
        parts.append("NOT NULL")
    return " ".join(parts)


def _table_sql(table: Table) -> str:
    lines = [_column_sql(c, table) for c in table.columns]
    if table.primary_key:
        lines.append(f"PRIMARY KEY ({', '.join(quote_ident(c) for c in table.primary_key)})")
    for check in table.check_constraints:
        name = f"CONSTRAINT {quote_ident(check.name)} " if check.name else ""
        lines.append(f"{name}CHECK ({check.expression})")
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {quote_ident(table.name)} (\n  {body}\n);"


def _index_sql(table: Table) -> Iterable[str]:
    for ix in table.indexes:
        unique = "UNIQUE " if ix.unique else ""
        name = f"{quote_ident(ix.name)} " if ix.name else ""
        using = f" USING {ix.using}" if ix.using else ""
        target = ix.expression if ix.expression is not None else ", ".join(
            quote_ident(c) for c in ix.columns
        )
        where = f" WHERE {ix.where}" if ix.where else ""
        yield f"CREATE {unique}INDEX {name}ON {quote_ident(table.name)}{using} ({target}){where};"


def _with_stand_ins(schema: Schema, stand_ins: Mapping[str, str]) -> Schema:
    """Columns of a stand-in type lose their type modifier; indexes of other methods go."""
    tables = []
    for table in schema.tables:
        columns = tuple(
            dataclasses.replace(c, limit=None) if c.type in stand_ins else c
            for c in table.columns
        )
        indexes = tuple(
            ix for ix in table.indexes
            if ix.using is None or ix.using.lower() in BUILTIN_INDEX_METHODS
        )
        tables.append(dataclasses.replace(table, columns=columns, indexes=indexes))
    return dataclasses.replace(schema, tables=tuple(tables))


def postgres_ddl(
    schema: Schema,
    *,
    extensions: Iterable[str] = (),
    stand_ins: Mapping[str, str] | None = None,
) -> str:
    """The PostgreSQL statements that create ``schema``, as one script.

    Parameters
    ----------
    schema : Schema
        Tables, enums, indexes, constraints and foreign keys to create (associations and
        ``version`` are not part of a database).
    extensions : iterable of str
        Extensions to create first (``"uuid-ossp"`` for ``uuid_generate_v4()`` defaults);
        ``citext`` and ``hstore`` are added when a column uses them.
    stand_ins : mapping of str to str, optional
        Types of extensions the target server lacks, each created as a domain over a
        built-in type (``{"vector": "real[]"}`` for pgvector's ``vector``): columns of such a
        type lose their type modifier, and indexes using a method that is not built in
        (``hnsw``, ``ivfflat``) are left out.

    Returns
    -------
    str
        Statements separated by newlines, each ending in ``;``.

    Examples
    --------
    >>> from rrperf.schema.model import Column, Schema, Table
    >>> users = Table("users", (Column("id", "bigint", null=False, primary_key=True),
    ...                         Column("name", "string", limit=80)))
    >>> print(postgres_ddl(Schema((users,))))
    CREATE TABLE "users" (
      "id" bigserial NOT NULL,
      "name" character varying(80),
      PRIMARY KEY ("id")
    );
    """
    if stand_ins:
        schema = _with_stand_ins(schema, stand_ins)
    wanted = list(dict.fromkeys(extensions))
    for table in schema.tables:
        for col in table.columns:
            ext = _EXTENSION_TYPES.get(col.type)
            if ext and ext not in wanted:
                wanted.append(ext)
    out = [f"CREATE EXTENSION IF NOT EXISTS {quote_ident(e)};" for e in wanted]
    for name, base in (stand_ins or {}).items():
        out.append(f"CREATE DOMAIN {quote_ident(name)} AS {base};")
    for enum in schema.enums:
        values = ", ".join(quote_literal(v) for v in enum.values)
        out.append(f"CREATE TYPE {quote_ident(enum.name)} AS ENUM ({values});")
    for table in schema.tables:
        out.append(_table_sql(table))
    for table in schema.tables:
        out.extend(_index_sql(table))
    for fk in schema.foreign_keys:
        name = f"CONSTRAINT {quote_ident(fk.name)} " if fk.name else ""
        actions = ""
        if fk.on_delete:
            actions += f" ON DELETE {SQL_ACTIONS.get(fk.on_delete, fk.on_delete.upper())}"
        if fk.on_update:
            actions += f" ON UPDATE {SQL_ACTIONS.get(fk.on_update, fk.on_update.upper())}"
        out.append(
            f"ALTER TABLE {quote_ident(fk.from_table)} ADD {name}FOREIGN KEY "
            f"({quote_ident(fk.column)}) REFERENCES {quote_ident(fk.to_table)} "
            f"({quote_ident(fk.primary_key)}){actions};"
        )
    for table in schema.tables:
        if table.comment:
            out.append(f"COMMENT ON TABLE {quote_ident(table.name)} IS "
                       f"{quote_literal(table.comment)};")
        for col in table.columns:
            if col.comment:
                out.append(
                    f"COMMENT ON COLUMN {quote_ident(table.name)}.{quote_ident(col.name)} IS "
                    f"{quote_literal(col.comment)};"
                )
    return "\n".join(out)
