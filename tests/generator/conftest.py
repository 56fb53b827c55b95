"""Shared schemas for the generator tests, built by hand from the Schema model."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from rrperf.errors import SchemaWarning
from rrperf.schema.model import (
    Association,
    Column,
    Default,
    EnumType,
    Schema,
    Table,
)
from rrperf.schema.scenarios import REAL_SCHEMA_DIR as PACKAGED_REAL_SCHEMAS


def _ts(*cols: Column) -> tuple[Column, ...]:
    return (
        Column("id", "bigint", null=False, primary_key=True),
        *cols,
        Column("created_at", "datetime", null=False),
        Column("updated_at", "datetime", null=False),
    )


def build_blog_schema() -> Schema:
    """Five tables exercising every template branch: enums, defaults, every association kind."""
    tables = (
        Table(
            "users",
            _ts(
                Column("email", "string", null=False),
                Column("name", "string", comment="Display name, shown */ publicly"),
                Column(
                    "role", "enum", null=False, enum_type="user_role", default=Default("member")
                ),
                Column("settings", "jsonb", null=False, default=Default("{}")),
                Column("admin", "boolean", null=False, default=Default(False)),
                Column("balance", "decimal", precision=10, scale=2, default=Default("0.0")),
                Column("tags", "string", array=True, default=Default("{}")),
                Column("avatar", "binary"),
                Column("token", "uuid", default=Default("gen_random_uuid()", function=True)),
                Column("discarded_at", "datetime"),
            ),
        ),
        Table(
            "posts",
            _ts(
                Column("user_id", "bigint", null=False),
                Column("title", "string", null=False, default=Default("Untitled")),
                Column("type", "string"),
                Column("order", "integer", null=False, default=Default(0)),
                Column("published_on", "date"),
            ),
        ),
        Table(
            "comments",
            _ts(
                Column("commentable_type", "string", null=False),
                Column("commentable_id", "bigint", null=False),
                Column("user_id", "bigint"),
                Column("body", "text", null=False, default=Default("it's")),
            ),
        ),
        Table(
            "tags",
            _ts(Column("label", "citext", null=False), Column("Club_Name", "string")),
        ),
        Table(
            "post_tags",
            (Column("post_id", "bigint", null=False), Column("tag_id", "bigint", null=False)),
            primary_key=("post_id", "tag_id"),
        ),
    )
    associations = (
        Association("belongs_to", "posts", "user", "users", "user_id"),
        Association(
            "belongs_to",
            "comments",
            "commentable",
            None,
            "commentable_id",
            polymorphic=True,
            polymorphic_types=("Post", "User"),
        ),
        Association("belongs_to", "comments", "user", "users", "user_id"),
        Association("belongs_to", "post_tags", "post", "posts", "post_id"),
        Association("belongs_to", "post_tags", "tag", "tags", "tag_id"),
        Association("has_many", "users", "posts", "posts", "user_id"),
        Association("has_many", "users", "comments", "comments", "user_id"),
        Association(
            "has_many", "users", "comments_as_commentable", "comments", "commentable_id",
            as_name="commentable",
        ),
        Association(
            "has_many", "posts", "comments", "comments", "commentable_id", as_name="commentable"
        ),
        Association("has_many", "posts", "post_tags", "post_tags", "post_id"),
        Association("has_one", "tags", "post_tag", "post_tags", "tag_id"),
        Association(
            "has_many_through", "posts", "tags", "tags", "post_id", through="post_tags",
            source="tag",
        ),
        Association(
            "has_many_through", "tags", "posts", "posts", "tag_id", through="post_tags",
            source="post",
        ),
    )
    return Schema(
        tables=tables,
        enums=(EnumType("user_role", ("member", "admin")),),
        associations=associations,
        version="20240501100000",
        source="hand-built",
    )


def build_hostile_schema() -> Schema:
    """Table and column names that clash with TypeScript globals, keywords and each other."""
    plain = (Column("id", "bigint", null=False, primary_key=True),)
    names = [
        "records", "objects", "arrays", "dates", "maps", "promises", "functions", "strings",
        "symbols", "errors", "partials", "omits", "people", "persons", "users",
        "reactive_users", "index", "indices", "base_records", "models", "foo-bar",
        "2fa_codes", "public.accounts", "Users_Archive",
    ]
    tables = [Table(n, plain) for n in names]
    tables.append(
        Table(
            "keywords",
            (
                *plain,
                *(
                    Column(n, "string", null=False)
                    for n in ("type", "default", "class", "delete", "order", "public")
                ),
                Column("Club_Name", "string"),
                Column("foo-bar", "integer", default=Default(1)),
                Column("with space", "string", default=Default("a 'quoted' \\ value")),
                Column("1abc", "boolean", default=Default("t")),
                Column("constructor", "string"),
                Column("valueOf", "integer", null=False),
                Column("__proto__", "string"),
                Column("data", "json", default=Default('{"a": [1, 2], "b-c": null}')),
                Column("state", "enum", enum_values=("on", "off"), array=True,
                       default=Default(["on"])),
            ),
        )
    )
    assocs = (
        Association("belongs_to", "keywords", "record", "records", "record_id"),
        Association("has_many", "records", "keywords", "keywords", "record_id"),
        Association("has_many", "records", "class", "objects", "record_id"),
    )
    return Schema(tables=tuple(tables), associations=assocs, version=None)


@pytest.fixture
def blog_schema() -> Schema:
    return build_blog_schema()


@pytest.fixture
def hostile_schema() -> Schema:
    return build_hostile_schema()


#: Every built-in scenario plus a small synthetic one.
SCENARIO_NAMES = ("small", "medium", "large", "polymorphic_heavy", "synthetic:50")
#: The real Rails schemas shipped for tests.
REAL_SCHEMA_DIR = PACKAGED_REAL_SCHEMAS
REAL_SCHEMAS = tuple(sorted(p.name for p in REAL_SCHEMA_DIR.glob("*.rb")))


def load_quietly(source: str | Path) -> Schema:
    """``load_schema(source)`` with SchemaWarnings (skipped statements) silenced."""
    from rrperf.schema.sources import load_schema

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)
        return load_schema(source)
