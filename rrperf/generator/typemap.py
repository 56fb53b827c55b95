"""Rails column types to TypeScript types, and column defaults to TypeScript literals.

The mapping is the TypeScript type of the value a Rails application sends when it renders a
record as JSON (``as_json``)::

    string, text, uuid, date, time          -> string
    integer, bigint, decimal, float         -> number
    boolean                                 -> boolean
    datetime, timestamp                     -> string | number
    json, jsonb                             -> Record<string, unknown>
    binary                                  -> Uint8Array
    hstore                                  -> Record<string, string | null>
    interval                                -> number   (ActiveSupport::Duration#as_json: seconds)
    vector, halfvec (pgvector)              -> number[]
    point                                   -> { x: number; y: number }  (ActiveRecord::Point)
    enum                                    -> union of string literals ('a' | 'b')
    array columns                           -> T[]
    anything else                           -> unknown (and a SchemaWarning)

Other types are spellings of the ones above (:data:`TYPE_ALIASES`): the names introspection
reports (``varchar``, ``timestamptz`` ...), MySQL's (``tinytext``, ``unsigned_integer`` ...),
and the PostgreSQL types Rails hands to JSON as strings (``inet``, ``citext``, the ranges, the
geometric types other than ``point`` ...; README lists them). ``money`` is a ``decimal`` and
``oid`` an ``integer``, as in the PostgreSQL adapter. Types outside both tables (PostGIS
``geometry``, a custom domain ...) stay ``unknown``.

Both functions here are pure: :func:`ts_type` never warns; the analysis step calls
:func:`is_known_type` and warns once per (table, column).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from rrperf.generator.naming import ts_property, ts_string
from rrperf.schema.model import Column, Schema

__all__ = ["BASE_TYPES", "TYPE_ALIASES", "is_known_type", "ts_default", "ts_type"]

#: Rails type -> TypeScript type.
BASE_TYPES: dict[str, str] = {
    "string": "string",
    "text": "string",
    "uuid": "string",
    "date": "string",
    "time": "string",
    "integer": "number",
    "bigint": "number",
    "decimal": "number",
    "float": "number",
    "boolean": "boolean",
    "datetime": "string | number",
    "timestamp": "string | number",
    "json": "Record<string, unknown>",
    "jsonb": "Record<string, unknown>",
    "binary": "Uint8Array",
    "hstore": "Record<string, string | null>",
    "interval": "number",
    "vector": "number[]",
    "point": "{ x: number; y: number }",
}

#: Other spellings of the Rails types above (SQL, adapter and extension names), lower-cased.
TYPE_ALIASES: dict[str, str] = {
    # SQL and introspection spellings
    "varchar": "string",
    "char": "string",
    "character": "string",
    "character varying": "string",
    "bpchar": "string",
    "smallint": "integer",
    "int": "integer",
    "int2": "integer",
    "int4": "integer",
    "int8": "bigint",
    "serial": "integer",
    "smallserial": "integer",
    "bigserial": "bigint",
    "primary_key": "integer",
    "numeric": "decimal",
    "real": "float",
    "double": "float",
    "double precision": "float",
    "float4": "float",
    "float8": "float",
    "bool": "boolean",
    "timestamptz": "datetime",
    "timestamp with time zone": "datetime",
    "timestamp without time zone": "datetime",
    "timetz": "time",
    "time with time zone": "time",
    "time without time zone": "time",
    "bytea": "binary",
    # PostgreSQL types whose JSON is a string
    "citext": "string",
    "inet": "string",
    "cidr": "string",
    "macaddr": "string",
    "macaddr8": "string",
    "ltree": "string",
    "tsvector": "string",
    "tsquery": "string",
    "xml": "string",
    "bit": "string",
    "bit_varying": "string",
    "bit varying": "string",
    "varbit": "string",
    "daterange": "string",
    "tsrange": "string",
    "tstzrange": "string",
    "int4range": "string",
    "int8range": "string",
    "numrange": "string",
    "line": "string",
    "lseg": "string",
    "box": "string",
    "path": "string",
    "polygon": "string",
    "circle": "string",
    # PostgreSQL types Rails reads as numbers
    "money": "decimal",
    "oid": "integer",
    "halfvec": "vector",
    # MySQL
    "tinytext": "text",
    "mediumtext": "text",
    "longtext": "text",
    "blob": "binary",
    "tinyblob": "binary",
    "mediumblob": "binary",
    "longblob": "binary",
    "varbinary": "binary",
    "tinyint": "integer",
    "mediumint": "integer",
    "unsigned_integer": "integer",
    "unsigned_bigint": "bigint",
    "unsigned_float": "float",
    "unsigned_decimal": "decimal",
    "year": "integer",
    "set": "string",
}

_STRING_KINDS = frozenset({"string", "text", "uuid", "date", "time"})
_NUMBER_KINDS = frozenset({"integer", "bigint", "decimal", "float"})
_DATETIME_KINDS = frozenset({"datetime", "timestamp"})
_JSON_KINDS = frozenset({"json", "jsonb"})
_HSTORE_KINDS = frozenset({"hstore"})
# A value that names a database function, for types whose literals can never look like one.
_SQL_FUNCTION = re.compile(
    r"^\s*(?:[A-Za-z_][\w.]*\s*\(.*\)|current_(?:timestamp|date|time)|localtime(?:stamp)?)\s*$",
    re.IGNORECASE | re.DOTALL,
)


def _kind(column: Column) -> str:
    name = column.type.lower()
    return TYPE_ALIASES.get(name, name)


def _enum_values(column: Column, schema: Schema | None) -> tuple[str, ...] | None:
    if column.enum_values:
        return column.enum_values
    if column.enum_type is not None and schema is not None:
        enum = schema.enum(column.enum_type)
        if enum is not None and enum.values:
            return enum.values
    return None


def is_known_type(column: Column, schema: Schema | None = None) -> bool:
    """Whether :func:`ts_type` maps ``column`` to something better than ``unknown``."""
    kind = _kind(column)
    if kind == "enum":
        return _enum_values(column, schema) is not None
    return kind in BASE_TYPES


def ts_type(column: Column, schema: Schema | None = None) -> str:
    """The TypeScript type of ``column`` (without ``?``; nullability is the caller's).

    Parameters
    ----------
    column : Column
        The column; ``column.type`` is the Rails type name.
    schema : Schema or None
        Used to look up the values of a named enum type (``enum_type``).

    Returns
    -------
    str
        For example ``"string"``, ``"string | number"``, ``"'a' | 'b'"``, ``"number[]"``.
        An enum column whose values are unknown, or a type outside the mapping, gives
        ``"unknown"`` (the caller warns).

    Examples
    --------
    >>> ts_type(Column("tags", "string", array=True))
    'string[]'
    >>> ts_type(Column("state", "enum", enum_values=("on", "off")))
    "'on' | 'off'"
    """
    kind = _kind(column)
    if kind == "enum":
        values = _enum_values(column, schema)
        base = " | ".join(ts_string(v) for v in values) if values else "unknown"
    else:
        base = BASE_TYPES.get(kind, "unknown")
    if column.array:
        return f"({base})[]" if " | " in base else f"{base}[]"
    return base


def _number_literal(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number == number.to_integral_value():
        return str(int(number))
    as_float = float(number)
    return repr(as_float) if math.isfinite(as_float) else None


def _boolean_literal(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip().lower()
    if text in ("true", "t", "1", "yes"):
        return "true"
    if text in ("false", "f", "0", "no"):
        return "false"
    return None


def _json_object_literal(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    try:
        return _ts_json(value)
    except (TypeError, ValueError):
        return None


def _ts_json(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = ", ".join(f"{ts_property(str(k))}: {_ts_json(v)}" for k, v in value.items())
        return "{ " + items + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_ts_json(v) for v in value) + "]"
    if isinstance(value, str):
        return ts_string(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("non-finite number")
    return json.dumps(value)


def _scalar_literal(kind: str, value: Any, enum: tuple[str, ...] | None) -> str | None:
    if value is None:
        return None
    if kind == "enum":
        return ts_string(str(value)) if enum is not None and str(value) in enum else None
    if kind in ("string", "text"):
        return ts_string(str(value)) if isinstance(value, str | int | float) else None
    if kind in _STRING_KINDS or kind in _DATETIME_KINDS:
        if not isinstance(value, str) or _SQL_FUNCTION.match(value):
            if kind in _DATETIME_KINDS and isinstance(value, int | float):
                return _number_literal(value)
            return None
        return ts_string(value)
    if kind in _NUMBER_KINDS:
        return _number_literal(value)
    if kind == "boolean":
        return _boolean_literal(value)
    if kind in _JSON_KINDS:
        return _json_object_literal(value)
    if kind in _HSTORE_KINDS:
        return _hstore_literal(value)
    return None


def _hstore_literal(value: Any) -> str | None:
    """An hstore default given as a hash of strings (``default: {}``, ``{"a" => "1"}``)."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in value.items()
    ):
        return None
    return _ts_json(value)


def _array_elements(value: Any) -> list[Any] | None:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text in ("{}", "[]"):
            return []
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                return None
            return parsed if isinstance(parsed, list) else None
    return None


def ts_default(column: Column, schema: Schema | None = None) -> str | None:
    """The column default as a TypeScript literal, or ``None`` when it is skipped.

    Skipped: no default, an explicit ``default: nil``, a runtime function default
    (``Default(function=True)``, or a date/time/uuid value that is an SQL call such as
    ``now()`` or ``CURRENT_TIMESTAMP``), a value that does not fit the column's type (an enum
    value outside the enum, a JSON default that is not an object, an hstore default that is
    not a hash of strings), binary, interval, vector, point and unknown types.

    Examples
    --------
    >>> from rrperf.schema.model import Default
    >>> ts_default(Column("price", "decimal", default=Default("0.0")))
    '0'
    >>> ts_default(Column("settings", "jsonb", default=Default("{}")))
    '{}'
    >>> ts_default(Column("id", "uuid", default=Default("gen_random_uuid()", function=True)))
    """
    default = column.default
    if default is None or default.function or default.value is None:
        return None
    kind = _kind(column)
    enum = _enum_values(column, schema) if kind == "enum" else None
    if column.array:
        elements = _array_elements(default.value)
        if elements is None:
            return None
        literals = [_scalar_literal(kind, v, enum) for v in elements]
        if any(lit is None for lit in literals):
            return None
        return "[" + ", ".join(lit for lit in literals if lit is not None) + "]"
    return _scalar_literal(kind, default.value, enum)
