"""The PostgreSQL DDL emitter (loaded into a real server by test_postgres.py)."""

from __future__ import annotations

import pytest

from rrperf.schema.ddl import postgres_ddl, quote_ident, quote_literal
from rrperf.schema.model import (
    CheckConstraint,
    Column,
    Default,
    EnumType,
    ForeignKey,
    Index,
    Schema,
    Table,
)


def test_every_kind_of_statement() -> None:
    users = Table(
        "users",
        (
            Column("id", "uuid", null=False, primary_key=True,
                   default=Default("gen_random_uuid()", function=True)),
            Column("email", "citext", null=False),
            Column("role", "enum", enum_type="role", default=Default("member")),
            Column("tags", "string", array=True, default=Default(["a", 'b"c'])),
            Column("prefs", "jsonb", default=Default({"x": 1})),
            Column("score", "decimal", precision=5, scale=2, default=Default("0.0")),
            Column("seen_at", "datetime", precision=6),
            Column("old_at", "datetime"),
            Column("small", "integer", limit=2, default=Default(0)),
            Column("embedding", "vector", limit=3),
            Column("it's", "boolean", default=Default(False), comment="it's"),
        ),
        indexes=(
            Index("ix_email", ("email",), unique=True, where="(role = 'admin'::role)"),
            Index("ix_lower", expression="lower((email)::text)"),
            Index("ix_emb", ("embedding",), using="hnsw"),
        ),
        check_constraints=(CheckConstraint("score >= 0", "score_positive"),),
        comment="people",
    )
    posts = Table("posts", (Column("id", "bigint", null=False, primary_key=True),
                            Column("user_id", "uuid")))
    schema = Schema(
        (users, posts),
        foreign_keys=(ForeignKey("posts", "users", "user_id", name="fk_user",
                                 on_delete="nullify"),),
        enums=(EnumType("role", ("member", "admin")),),
    )
    assert postgres_ddl(schema, extensions=["pgcrypto"]).splitlines() == [
        'CREATE EXTENSION IF NOT EXISTS "pgcrypto";',
        'CREATE EXTENSION IF NOT EXISTS "citext";',
        "CREATE TYPE \"role\" AS ENUM ('member', 'admin');",
        'CREATE TABLE "users" (',
        '  "id" uuid DEFAULT gen_random_uuid() NOT NULL,',
        '  "email" citext NOT NULL,',
        "  \"role\" \"role\" DEFAULT 'member',",
        '  "tags" character varying[] DEFAULT \'{"a","b\\"c"}\',',
        '  "prefs" jsonb DEFAULT \'{"x":1}\',',
        "  \"score\" numeric(5,2) DEFAULT '0.0',",
        '  "seen_at" timestamp(6),',
        '  "old_at" timestamp,',
        '  "small" smallint DEFAULT 0,',
        '  "embedding" vector(3),',
        '  "it\'s" boolean DEFAULT false,',
        '  PRIMARY KEY ("id"),',
        '  CONSTRAINT "score_positive" CHECK (score >= 0)',
        ");",
        'CREATE TABLE "posts" (',
        '  "id" bigserial NOT NULL,',
        '  "user_id" uuid,',
        '  PRIMARY KEY ("id")',
        ");",
        "CREATE UNIQUE INDEX \"ix_email\" ON \"users\" (\"email\") WHERE (role = 'admin'::role);",
        'CREATE INDEX "ix_lower" ON "users" (lower((email)::text));',
        'CREATE INDEX "ix_emb" ON "users" USING hnsw ("embedding");',
        'ALTER TABLE "posts" ADD CONSTRAINT "fk_user" FOREIGN KEY ("user_id") '
        'REFERENCES "users" ("id") ON DELETE SET NULL;',
        "COMMENT ON TABLE \"users\" IS 'people';",
        "COMMENT ON COLUMN \"users\".\"it's\" IS 'it''s';",
    ]
    stood_in = postgres_ddl(schema, stand_ins={"vector": "real[]"})
    assert 'CREATE DOMAIN "vector" AS real[];' in stood_in
    assert '"embedding" vector,' in stood_in and "hnsw" not in stood_in


def test_enum_column_needs_its_type() -> None:
    table = Table("t", (Column("id", "bigint", primary_key=True), Column("s", "enum")))
    with pytest.raises(ValueError, match=r"^t\.s: an enum column needs enum_type$"):
        postgres_ddl(Schema((table,)))


def test_quoting() -> None:
    assert quote_ident('a"b') == '"a""b"'
    assert quote_literal("it's") == "'it''s'"
