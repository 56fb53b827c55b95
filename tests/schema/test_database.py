"""Database introspection, tested on real SQLite files (PostgreSQL is not available in CI)."""

from __future__ import annotations

import pickle
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy.exc as sa_exc
from sqlalchemy import types as sat
from sqlalchemy.dialects import postgresql as pg

from rrperf.errors import MissingDependencyError, SchemaSourceError, SchemaWarning
from rrperf.schema.database import (
    _map_errors,
    introspect_database,
    rails_type,
    redact_url,
)
from rrperf.schema.model import CheckConstraint, Column, Default, ForeignKey, Index
from rrperf.schema.reflected import parse_default

DDL = """
CREATE TABLE users (
  id integer PRIMARY KEY AUTOINCREMENT NOT NULL,
  email varchar(255) NOT NULL,
  name varchar DEFAULT 'it''s',
  admin boolean DEFAULT 0 NOT NULL,
  balance decimal(10,2) DEFAULT '0.0',
  score float DEFAULT 1.5,
  settings json,
  born date,
  created_at datetime(6) DEFAULT CURRENT_TIMESTAMP NOT NULL,
  wake time,
  avatar blob,
  big bigint DEFAULT 3,
  bio text DEFAULT (datetime('now')),
  CONSTRAINT email_length CHECK (length(email) > 3)
);
CREATE UNIQUE INDEX index_users_on_email ON users (email);
CREATE TABLE posts (
  id integer PRIMARY KEY,
  user_id integer NOT NULL,
  editor_id integer,
  title varchar(100),
  CONSTRAINT uq_title UNIQUE (title),
  CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  FOREIGN KEY (editor_id) REFERENCES users (id) ON DELETE SET NULL ON UPDATE RESTRICT
);
CREATE INDEX index_posts_on_user_id ON posts (user_id);
CREATE TABLE memberships (
  user_id integer NOT NULL REFERENCES users (id),
  post_id integer NOT NULL REFERENCES posts (id),
  role varchar DEFAULT 'member' NOT NULL,
  PRIMARY KEY (user_id, post_id)
);
"""


def make_db(path: Path, ddl: str = DDL) -> str:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(ddl)
        conn.commit()
    finally:
        conn.close()
    return f"sqlite:///{path}"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return make_db(tmp_path / "app.db")


def test_tables_in_dialect_order(db_url: str) -> None:
    schema = introspect_database(db_url)
    assert schema.table_names == ("memberships", "posts", "users")
    assert schema.source == db_url
    assert schema.associations == ()
    assert schema.version is None


def test_columns_types_defaults_and_nullability(db_url: str) -> None:
    users = introspect_database(db_url).table("users")
    assert users.primary_key == ("id",)
    assert users.columns == (
        Column("id", "integer", null=False, primary_key=True),
        Column("email", "string", null=False, limit=255),
        Column("name", "string", default=Default("it's")),
        Column("admin", "boolean", null=False, default=Default(False)),
        Column("balance", "decimal", default=Default("0.0"), precision=10, scale=2),
        Column("score", "float", default=Default(1.5)),
        Column("settings", "json"),
        Column("born", "date"),
        Column("created_at", "datetime", null=False,
               default=Default("CURRENT_TIMESTAMP", function=True)),
        Column("wake", "time"),
        Column("avatar", "binary"),
        Column("big", "bigint", default=Default(3)),
        Column("bio", "text", default=Default("datetime('now')", function=True)),
    )
    assert users.indexes == (Index("index_users_on_email", ("email",), unique=True),)
    assert users.check_constraints == (CheckConstraint("length(email) > 3", "email_length"),)
    assert users.comment is None


def test_foreign_keys_unique_constraint_and_indexes(db_url: str) -> None:
    schema = introspect_database(db_url)
    posts = schema.table("posts")
    assert posts.indexes == (
        Index("index_posts_on_user_id", ("user_id",)),
        Index("uq_title", ("title",), unique=True),
    )
    # In the order Rails dumps them (target table, then column), not the catalog's.
    assert schema.foreign_keys_of("posts") == (
        ForeignKey("posts", "users", "editor_id", on_delete="nullify", on_update="restrict"),
        ForeignKey("posts", "users", "user_id", name="fk_user", on_delete="cascade"),
    )


def test_composite_primary_key(db_url: str) -> None:
    memberships = introspect_database(db_url).table("memberships")
    assert memberships.primary_key == ("user_id", "post_id")
    assert [(c.name, c.primary_key, c.null) for c in memberships.columns] == [
        ("user_id", True, False), ("post_id", True, False), ("role", False, False)]
    assert memberships.column("role") == Column(
        "role", "string", null=False, default=Default("member"))


def test_composite_foreign_key_is_skipped_with_warning(tmp_path: Path) -> None:
    url = make_db(tmp_path / "c.db", """
        CREATE TABLE a (x integer, y integer, PRIMARY KEY (x, y));
        CREATE TABLE b (id integer PRIMARY KEY, x integer, y integer,
                        FOREIGN KEY (x, y) REFERENCES a (x, y));
    """)
    with pytest.warns(SchemaWarning, match=r"composite foreign key b\(x, y\) -> a"):
        schema = introspect_database(url)
    assert schema.foreign_keys == ()


def test_expression_index_warning_becomes_schema_warning(tmp_path: Path) -> None:
    url = make_db(tmp_path / "e.db", """
        CREATE TABLE t (id integer PRIMARY KEY, title varchar);
        CREATE INDEX ix_lower ON t (lower(title));
    """)
    with pytest.warns(SchemaWarning, match=r"expression-based index ix_lower") as record:
        schema = introspect_database(url)
    assert schema.table("t").indexes == ()
    assert len(record) == 1


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(SchemaSourceError, match=r"no such file .*missing\.db"):
        introspect_database(f"sqlite:///{missing}")
    assert not missing.exists()


def test_not_a_database_maps_to_schema_source_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("hello, this is not sqlite" * 10)
    with pytest.raises(SchemaSourceError, match=r"cannot introspect database sqlite:///.*bad\.db: "
                       r"\(sqlite3.DatabaseError\) file is not a database") as info:
        introspect_database(f"sqlite:///{bad}")
    assert isinstance(info.value.__cause__, sa_exc.DatabaseError)


def test_invalid_url_and_unknown_dialect() -> None:
    with pytest.raises(SchemaSourceError, match=r"introspect database nonsense://x: ") as info:
        introspect_database("nonsense://x")
    assert isinstance(info.value.__cause__, sa_exc.NoSuchModuleError)


@pytest.mark.parametrize(
    "error",
    [
        sa_exc.OperationalError("connect", {}, Exception("password s3cret rejected")),
        sa_exc.ArgumentError("bad s3cret"),
        sa_exc.NoSuchTableError("s3cret"),
        sa_exc.InterfaceError("x", {}, Exception("s3cret")),
    ],
)
def test_boundary_maps_sqlalchemy_errors_and_hides_password(error: Exception) -> None:
    url = "postgresql://bob:s3cret@db.example/app"
    with pytest.raises(SchemaSourceError) as info:
        with _map_errors(url):
            raise error
    text = str(info.value)
    assert text.startswith("cannot introspect database postgresql://bob@db.example/app: ")
    assert "s3cret" not in text
    assert info.value.__cause__ is error
    assert str(pickle.loads(pickle.dumps(info.value))) == text


@pytest.mark.parametrize(
    ("module", "package"),
    [("psycopg2", "psycopg2-binary"), ("MySQLdb", "mysqlclient"), ("pymysql", "PyMySQL")],
)
def test_boundary_maps_missing_driver(module: str, package: str) -> None:
    # The message names the pip package, not the module (MySQLdb comes from mysqlclient).
    err = ModuleNotFoundError(f"No module named {module!r}", name=module)
    with pytest.raises(MissingDependencyError) as info:
        with _map_errors("mysql://bob:pw@h/db"):
            raise err
    assert str(info.value) == (
        f"introspecting mysql://bob@h/db needs {module}; install it with: pip install {package}"
    )
    assert info.value.__cause__ is err


def test_redact_url() -> None:
    assert redact_url("postgresql://bob:s3cret@host:5432/db?sslmode=require") == (
        "postgresql://bob@host:5432/db?sslmode=require")
    assert redact_url("sqlite:///a/b.db") == "sqlite:///a/b.db"
    assert redact_url("not a url") == "not a url"
    # Without SQLAlchemy: the password is what follows the user's ':' before the host's '@'.
    assert redact_url("postgresql://bob:p%40ss:w@host/db") == "postgresql://bob@host/db"
    assert redact_url("postgresql://bob@/db?host=/tmp/s&port=5") == (
        "postgresql://bob@/db?host=/tmp/s&port=5")
    assert redact_url("postgresql://h/db?x=a@b") == "postgresql://h/db?x=a@b"


@pytest.mark.parametrize(
    ("sa_type", "expected"),
    [
        (sat.VARCHAR(40), {"type": "string", "limit": 40}),
        (sat.TEXT(), {"type": "text"}),
        (sat.INTEGER(), {"type": "integer"}),
        (sat.SMALLINT(), {"type": "integer", "limit": 2}),
        (sat.BIGINT(), {"type": "bigint"}),
        (sat.BOOLEAN(), {"type": "boolean"}),
        (sat.NUMERIC(12, 3), {"type": "decimal", "precision": 12, "scale": 3}),
        (sat.DECIMAL(), {"type": "decimal", "precision": None, "scale": None}),
        (sat.FLOAT(), {"type": "float"}),
        (sat.REAL(), {"type": "float"}),
        (sat.DATE(), {"type": "date"}),
        (sat.DATETIME(), {"type": "datetime"}),
        (sat.TIMESTAMP(timezone=True), {"type": "datetime"}),
        (sat.TIME(), {"type": "time"}),
        (sat.BLOB(), {"type": "binary"}),
        (pg.BYTEA(), {"type": "binary"}),
        (sat.JSON(), {"type": "json"}),
        (pg.JSONB(), {"type": "jsonb"}),
        (pg.UUID(), {"type": "uuid"}),
        (sat.Uuid(), {"type": "uuid"}),
        (pg.ARRAY(sat.VARCHAR()), {"type": "string", "limit": None, "array": True}),
        (pg.ARRAY(sat.INTEGER()), {"type": "integer", "array": True}),
        (pg.ENUM("draft", "open", name="status"),
         {"type": "enum", "enum_type": "status", "enum_values": ("draft", "open")}),
        (pg.INET(), {"type": "inet"}),
        (pg.INTERVAL(), {"type": "interval"}),
        (pg.TSVECTOR(), {"type": "tsvector"}),
        (pg.HSTORE(), {"type": "hstore"}),
    ],
)
def test_rails_type(sa_type: object, expected: dict[str, object]) -> None:
    assert rails_type(sa_type) == expected


@pytest.mark.parametrize(
    ("raw", "rails", "expected"),
    [
        (None, "string", None),
        ("NULL", "string", None),
        ("NULL::character varying", "string", None),
        ("nextval('users_id_seq'::regclass)", "integer", None),
        ("'draft'::character varying", "string", Default("draft")),
        ("'a''b'", "string", Default("a'b")),
        ("'5'", "integer", Default(5)),
        ("'0.0'::numeric", "decimal", Default("0.0")),
        ("0.0", "decimal", Default("0.0")),
        ("42", "integer", Default(42)),
        ("-1", "bigint", Default(-1)),
        ("2.5", "float", Default(2.5)),
        ("1", "boolean", Default(True)),
        ("'f'", "boolean", Default(False)),
        ("true", "boolean", Default(True)),
        ("FALSE", "boolean", Default(False)),
        ("'{}'::jsonb", "jsonb", Default("{}")),
        ("CURRENT_TIMESTAMP", "datetime", Default("CURRENT_TIMESTAMP", function=True)),
        ("now()", "datetime", Default("now()", function=True)),
        ("(datetime('now'))", "datetime", Default("datetime('now')", function=True)),
        ("gen_random_uuid()", "uuid", Default("gen_random_uuid()", function=True)),
        ("(1) + (2)", "integer", Default("(1) + (2)", function=True)),
    ],
)
def test_parse_default(raw: str | None, rails: str, expected: Default | None) -> None:
    assert parse_default(raw, rails) == expected
