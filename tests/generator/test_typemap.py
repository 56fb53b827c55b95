"""Rails column -> TypeScript type and default literal, one row per mapping rule."""

from __future__ import annotations

import pytest

from rrperf.generator.typemap import is_known_type, ts_default, ts_type
from rrperf.schema.model import Column, Default, EnumType, Schema

ENUM_SCHEMA = Schema(tables=(), enums=(EnumType("mood", ("happy", "sad")),))


@pytest.mark.parametrize(
    ("rails_type", "expected"),
    [
        ("string", "string"),
        ("text", "string"),
        ("uuid", "string"),
        ("date", "string"),
        ("time", "string"),
        ("integer", "number"),
        ("bigint", "number"),
        ("decimal", "number"),
        ("float", "number"),
        ("boolean", "boolean"),
        ("datetime", "string | number"),
        ("timestamp", "string | number"),
        ("json", "Record<string, unknown>"),
        ("jsonb", "Record<string, unknown>"),
        ("binary", "Uint8Array"),
        ("citext", "string"),
        ("serial", "number"),
        ("timestamptz", "string | number"),
        ("BIGINT", "number"),
        ("geometry", "unknown"),
        ("my_domain", "unknown"),
    ],
)
def test_ts_type_mapping(rails_type: str, expected: str) -> None:
    assert ts_type(Column("c", rails_type)) == expected


#: What a Rails app sends as JSON for the column types PostgreSQL and MySQL dumps use.
DATABASE_TYPES = {
    # PostgreSQL: structured values
    "hstore": "Record<string, string | null>",  # a Hash of strings
    "interval": "number",  # ActiveSupport::Duration#as_json is the seconds
    "vector": "number[]",  # pgvector (neighbor): an Array of floats
    "halfvec": "number[]",
    "point": "{ x: number; y: number }",  # ActiveRecord::Point, a Struct
    # PostgreSQL: strings
    "inet": "string", "cidr": "string",  # IPAddr#as_json is its text
    "macaddr": "string", "macaddr8": "string", "citext": "string", "ltree": "string",
    "tsvector": "string", "tsquery": "string", "xml": "string",
    "bit": "string", "bit_varying": "string", "bit varying": "string", "varbit": "string",
    "daterange": "string", "tsrange": "string", "tstzrange": "string",  # Range#as_json: to_s
    "int4range": "string", "int8range": "string", "numrange": "string",
    "line": "string", "lseg": "string", "box": "string", "path": "string",
    "polygon": "string", "circle": "string",
    "bpchar": "string", "timetz": "string", "time with time zone": "string",
    # PostgreSQL: numbers
    "money": "number", "oid": "number", "smallserial": "number",
    # MySQL
    "tinytext": "string", "mediumtext": "string", "longtext": "string",
    "blob": "Uint8Array", "tinyblob": "Uint8Array", "mediumblob": "Uint8Array",
    "longblob": "Uint8Array", "varbinary": "Uint8Array",
    "tinyint": "number", "mediumint": "number",
    "unsigned_integer": "number", "unsigned_bigint": "number", "unsigned_float": "number",
    "unsigned_decimal": "number", "year": "number", "set": "string",
}


@pytest.mark.parametrize(("db_type", "expected"), DATABASE_TYPES.items())
def test_database_types_map_to_their_json(db_type: str, expected: str) -> None:
    column = Column("c", db_type)
    assert (ts_type(column), is_known_type(column)) == (expected, True)
    assert ts_type(Column("c", db_type.upper())) == expected


@pytest.mark.parametrize(
    ("db_type", "expected"),
    [
        ("inet", "string[]"),
        ("hstore", "(Record<string, string | null>)[]"),
        ("vector", "number[][]"),
        ("point", "{ x: number; y: number }[]"),
        ("int4range", "string[]"),
    ],
)
def test_database_type_arrays(db_type: str, expected: str) -> None:
    assert ts_type(Column("c", db_type, array=True)) == expected


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (Column("c", "string", array=True), "string[]"),
        (Column("c", "integer", array=True), "number[]"),
        (Column("c", "datetime", array=True), "(string | number)[]"),
        (Column("c", "enum", enum_values=("a", "b'c")), "'a' | 'b\\'c'"),
        (Column("c", "enum", enum_type="mood"), "'happy' | 'sad'"),
        (Column("c", "enum", enum_type="mood", array=True), "('happy' | 'sad')[]"),
        (Column("c", "enum", enum_type="missing"), "unknown"),
        (Column("c", "geometry", array=True), "unknown[]"),
    ],
)
def test_ts_type_enums_and_arrays(column: Column, expected: str) -> None:
    assert ts_type(column, ENUM_SCHEMA) == expected


def test_nullability_is_not_part_of_the_type() -> None:
    assert ts_type(Column("c", "string", null=True)) == ts_type(Column("c", "string", null=False))


@pytest.mark.parametrize(
    ("column", "known"),
    [
        (Column("c", "string"), True),
        (Column("c", "vector"), True),
        (Column("c", "geometry"), False),
        (Column("c", "enum", enum_type="mood"), True),
        (Column("c", "enum", enum_type="missing"), False),
        (Column("c", "enum"), False),
    ],
)
def test_is_known_type(column: Column, known: bool) -> None:
    assert is_known_type(column, ENUM_SCHEMA) is known


def _col(rails_type: str, value: object, *, function: bool = False, **kw: object) -> Column:
    return Column("c", rails_type, default=Default(value, function=function), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        (_col("string", "draft"), "'draft'"),
        (_col("text", "it's \"q\" \\ \n"), "'it\\'s \"q\" \\\\ \\n'"),
        (_col("text", "--- {}\n"), "'--- {}\\n'"),
        (_col("string", 5), "'5'"),
        (_col("integer", 0), "0"),
        (_col("integer", "42"), "42"),
        (_col("bigint", -7), "-7"),
        (_col("decimal", "0.0"), "0"),
        (_col("decimal", "12.50"), "12.5"),
        (_col("float", 1.5), "1.5"),
        (_col("float", "abc"), None),
        (_col("float", "NaN"), None),
        (_col("integer", True), None),
        (_col("boolean", True), "true"),
        (_col("boolean", False), "false"),
        (_col("boolean", "true"), "true"),
        (_col("boolean", "f"), "false"),
        (_col("boolean", "maybe"), None),
        (_col("jsonb", "{}"), "{}"),
        (
            _col("json", '{"a": 1, "b-c": [true, null], "d": "x"}'),
            "{ a: 1, 'b-c': [true, null], d: 'x' }",
        ),
        (_col("jsonb", {"k": {"n": 1.5}}), "{ k: { n: 1.5 } }"),
        (_col("jsonb", "[]"), None),
        (_col("jsonb", "--- {}\n"), None),
        (_col("jsonb", "not json"), None),
        (_col("uuid", "gen_random_uuid()", function=True), None),
        (_col("uuid", "gen_random_uuid()"), None),
        (_col("datetime", "CURRENT_TIMESTAMP", function=True), None),
        (_col("datetime", "CURRENT_TIMESTAMP"), None),
        (_col("datetime", "now()"), None),
        (_col("datetime", "2024-01-01 00:00:00"), "'2024-01-01 00:00:00'"),
        (_col("date", "2024-01-01"), "'2024-01-01'"),
        (_col("datetime", 0), "0"),
        (_col("string", None), None),
        (_col("binary", "abc"), None),
        (_col("hstore", "a=>1"), None),
        (_col("hstore", {}), "{}"),
        (_col("hstore", {"a": "1", "b-c": None}), "{ a: '1', 'b-c': null }"),
        (_col("hstore", {"a": 1}), None),
        (_col("inet", "127.0.0.1"), "'127.0.0.1'"),
        (_col("citext", "x"), "'x'"),
        (_col("money", "0.0"), "0"),
        (_col("year", 2024), "2024"),
        (_col("interval", "P1D"), None),
        (_col("vector", "[1,2]"), None),
        (_col("point", "(1,2)"), None),
        (_col("geometry", "POINT(0 0)"), None),
        (_col("enum", "on", enum_values=("on", "off")), "'on'"),
        (_col("enum", "dim", enum_values=("on", "off")), None),
        (_col("enum", "sad", enum_type="mood"), "'sad'"),
        (_col("string", "{}", array=True), "[]"),
        (_col("string", ["a", "b"], array=True), "['a', 'b']"),
        (_col("integer", "[1, 2]", array=True), "[1, 2]"),
        (_col("integer", "{1,2}", array=True), None),
        (_col("integer", ["x"], array=True), None),
        (Column("c", "string"), None),
    ],
)
def test_ts_default(column: Column, expected: str | None) -> None:
    assert ts_default(column, ENUM_SCHEMA) == expected
