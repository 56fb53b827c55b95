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
        ("hstore", "unknown"),
        ("inet", "unknown"),
        ("interval", "unknown"),
        ("vector", "unknown"),
    ],
)
def test_ts_type_mapping(rails_type: str, expected: str) -> None:
    assert ts_type(Column("c", rails_type)) == expected


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
        (Column("c", "hstore", array=True), "unknown[]"),
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
        (Column("c", "vector"), False),
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
