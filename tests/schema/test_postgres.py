"""PostgreSQL sources against a real server, started once per test session (``pg_server``).

The server binaries come from Debian's ``postgresql`` package (``make test`` installs it);
:class:`rrperf.schema.pgserver.LocalPostgres` runs ``initdb`` into a temporary folder and
starts the server on a unix socket there (as the ``postgres`` user when the tests run as
root), logging every statement, and removes it at the end. (No conftest.py here: the test
folders share the module name ``conftest``.)

The same schema loaded from its ``schema.rb`` and from a database holding the equivalent DDL
(:func:`rrperf.schema.ddl.postgres_ddl`) must give the same generated files, except where the
database cannot know: :data:`DATABASE_CANNOT_KNOW` lists those differences, and the tests
assert exactly them.
"""

from __future__ import annotations

import dataclasses
import filecmp
import itertools
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rrperf.generator.api import GenerationResult, generate
from rrperf.schema.database import (
    _introspect_sqlalchemy,
    catalog_fingerprint,
    introspect_database,
)
from rrperf.schema.ddl import postgres_ddl
from rrperf.schema.model import CheckConstraint, Column, Default, EnumType, Index
from rrperf.schema.pgcatalog import FINGERPRINT_SQL, direct_driver
from rrperf.schema.pgserver import LocalPostgres
from rrperf.schema.rails import load_schema_rb
from rrperf.schema.sources import load_schema

APP_RB = Path(__file__).parent / "data" / "pg_app_schema.rb"
SCHEMAS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "schemas"
COURSEMOLOGY_RB = SCHEMAS / "Coursemology__coursemology2__schema.rb"

_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[LocalPostgres]:
    with LocalPostgres(log_statements=True) as server:
        yield server


@pytest.fixture
def pg_database(pg_server: LocalPostgres) -> Callable[[str], str]:
    """Create a fresh database holding ``ddl``; returns its SQLAlchemy URL."""

    def make(ddl: str) -> str:
        return pg_server.create_database(f"t{next(_names)}", ddl)

    return make


#: What a database cannot know of its schema.rb, and where it shows in the generated files:
#: the schema version of the dump (``define(version: ...)``) is written in ``index.ts``.
DATABASE_CANNOT_KNOW = {"index.ts": "schema version"}


def app_ddl() -> str:
    return postgres_ddl(load_schema_rb(APP_RB), extensions=["pgcrypto"])


@pytest.fixture(scope="module")
def app_url(pg_server: LocalPostgres) -> str:
    return pg_server.create_database("app", app_ddl())


def coursemology_ddl() -> str:
    # pgvector is not a Debian package of PostgreSQL 15: its type is a domain over real[]
    # here, and its hnsw index is left out (no column type or association depends on it).
    return postgres_ddl(
        load_schema_rb(COURSEMOLOGY_RB), extensions=["uuid-ossp"],
        stand_ins={"vector": "real[]"},
    )


@pytest.fixture(scope="module")
def coursemology_url(pg_server: LocalPostgres) -> str:
    return pg_server.create_database("coursemology", coursemology_ddl())


def differing_files(left: Path, right: Path) -> dict[str, str]:
    """Relative path -> "left only" / "right only" / "differs" for the two folders."""
    names = {p.relative_to(left).as_posix() for p in left.rglob("*") if p.is_file()}
    others = {p.relative_to(right).as_posix() for p in right.rglob("*") if p.is_file()}
    out = {n: "left only" for n in names - others} | {n: "right only" for n in others - names}
    for name in names & others:
        if not filecmp.cmp(left / name, right / name, shallow=False):
            out[name] = "differs"
    return out


def assert_only_version_differs(from_rb: Path, from_db: Path, version: str, tables: int) -> None:
    assert differing_files(from_rb, from_db) == dict.fromkeys(DATABASE_CANNOT_KNOW, "differs")
    rb_lines = (from_rb / "index.ts").read_text().splitlines()
    db_lines = (from_db / "index.ts").read_text().splitlines()
    changed = [(a, b) for a, b in zip(rb_lines, db_lines, strict=True) if a != b]
    assert len(changed) == 1
    rb_line, db_line = changed[0]
    assert (rb_line, db_line) == (
        f" * Generated models: {tables} tables from schema version {version}.",
        f" * Generated models: {tables} tables from schema version (not declared).",
    )


# --- reading the database -----------------------------------------------------------------

def test_app_schema_read_back(app_url: str) -> None:
    schema = introspect_database(app_url)
    assert schema.table_names == ("comments", "posts", "taggings", "users")
    assert schema.enums == (EnumType("post_status", ("draft", "published", "archived")),)
    posts = schema.table("posts")
    assert posts.primary_key == ("id",)
    assert posts.columns[:7] == (
        Column("id", "uuid", null=False, primary_key=True,
               default=Default("gen_random_uuid()", function=True)),
        Column("author_id", "uuid", null=False),
        Column("editor_id", "uuid"),
        Column("title", "string", null=False, limit=200),
        Column("status", "enum", null=False, default=Default("draft"),
               enum_type="post_status", enum_values=("draft", "published", "archived")),
        Column("tags", "string", null=False, array=True, default=Default([])),
        Column("metadata", "jsonb", null=False, default=Default({})),
    )
    assert posts.check_constraints == (
        CheckConstraint("word_count >= 0", "word_count_not_negative"),
    )
    assert Index("index_posts_on_published_at", ("published_at",),
                 where="(status = 'published'::post_status)") in posts.indexes
    assert [(fk.to_table, fk.column, fk.on_delete) for fk in schema.foreign_keys] == [
        ("users", "author_id", None),
        ("users", "author_id", "cascade"),
        ("users", "editor_id", "nullify"),
        ("posts", "post_id", None),
        ("users", "user_id", None),
    ]


def test_same_files_from_database_and_schema_rb(app_url: str, tmp_path: Path) -> None:
    generate(APP_RB, tmp_path / "rb")
    generate(app_url, tmp_path / "db")
    assert_only_version_differs(tmp_path / "rb", tmp_path / "db", "20261130120000", 4)


def test_coursemology2_same_files_from_database_and_schema_rb(
    coursemology_url: str, tmp_path: Path
) -> None:
    # 176 tables, 338 foreign keys: association order and name clashes (users.topics ...)
    # must not follow the catalog's order.
    # every column type is mapped (inet, vector ...): no warning in either run (warnings are
    # errors in the test suite)
    generate(COURSEMOLOGY_RB, tmp_path / "rb")
    generate(coursemology_url, tmp_path / "db")
    assert_only_version_differs(tmp_path / "rb", tmp_path / "db", "20260804222525", 176)


class StatementCounter:
    """Every statement a SQLAlchemy engine sends, BEGIN/COMMIT/ROLLBACK included."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __enter__(self) -> StatementCounter:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self._cursor)
        event.listen(Engine, "begin", self._begin)
        event.listen(Engine, "commit", self._commit)
        event.listen(Engine, "rollback", self._rollback)
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.remove(Engine, "before_cursor_execute", self._cursor)
        event.remove(Engine, "begin", self._begin)
        event.remove(Engine, "commit", self._commit)
        event.remove(Engine, "rollback", self._rollback)

    def _cursor(self, conn: object, cursor: object, statement: str, *rest: object) -> None:
        self.statements.append(statement)

    def _begin(self, conn: object) -> None:
        self.statements.append("BEGIN")

    def _commit(self, conn: object) -> None:
        self.statements.append("COMMIT")

    def _rollback(self, conn: object) -> None:
        self.statements.append("ROLLBACK")


def test_coursemology2_read_in_at_most_20_statements(
    pg_server: LocalPostgres, coursemology_url: str
) -> None:
    # Counted where they arrive: in the server's statement log.
    with pg_server.statements("coursemology") as statements:
        schema = introspect_database(coursemology_url)
    assert len(schema.tables) == 176 and len(schema.foreign_keys) == 338
    assert statements[0] == "BEGIN" and statements[-1] == "ROLLBACK"
    assert statements.count("BEGIN") == 1  # one transaction
    assert len(statements) == 7, statements


def test_sqlalchemy_path_reads_the_same_in_at_most_20_statements(coursemology_url: str) -> None:
    # The inspector's get_multi_* path (other drivers, other dialects): the same Schema,
    # statements counted by a SQLAlchemy event listener.
    with StatementCounter() as counter:
        through_sqlalchemy = _introspect_sqlalchemy(coursemology_url)
    assert counter.statements.count("BEGIN") == 1
    assert counter.statements[-1] == "ROLLBACK"
    assert len(counter.statements) <= 20, counter.statements
    assert through_sqlalchemy == introspect_database(coursemology_url)


def test_both_drivers_and_sqlalchemy_agree_on_the_app_schema(app_url: str) -> None:
    # A plain URL is read with psycopg2, postgresql+psycopg:// with psycopg 3.
    psycopg3_url = app_url.replace("postgresql://", "postgresql+psycopg://", 1)
    assert (direct_driver(app_url), direct_driver(psycopg3_url)) == ("psycopg2", "psycopg")
    read = introspect_database(app_url)
    assert dataclasses.replace(introspect_database(psycopg3_url), source=read.source) == read
    assert _introspect_sqlalchemy(app_url) == read
    assert catalog_fingerprint(psycopg3_url) == catalog_fingerprint(app_url)


def test_catalog_fingerprint_follows_every_schema_change(
    pg_server: LocalPostgres, pg_database: Callable[[str], str]
) -> None:
    url = pg_database(app_ddl())
    name = url.split("@/")[1].split("?")[0]
    seen = [catalog_fingerprint(url)]
    assert catalog_fingerprint(url) == seen[0]  # stable
    pg_server.execute(
        "INSERT INTO users (email, created_at, updated_at) VALUES ('a@b.c', now(), now()); "
        "ANALYZE users;", name
    )
    pg_server.execute("VACUUM ANALYZE", name)
    assert catalog_fingerprint(url) == seen[0]  # data and statistics are not the schema
    for ddl in [
        "ALTER TABLE users ADD COLUMN nickname varchar",
        "ALTER TABLE users ALTER COLUMN nickname SET DEFAULT 'xy'",
        "UPDATE users SET nickname = 'xy'; ALTER TABLE users ALTER COLUMN nickname SET NOT NULL",
        "ALTER TABLE users ALTER COLUMN nickname TYPE text",
        "ALTER TYPE post_status ADD VALUE 'hidden'",
        "CREATE INDEX ix_nick ON users (nickname) WHERE admin",
        "ALTER TABLE users ADD CONSTRAINT nick_len CHECK (length(nickname) > 1)",
        "COMMENT ON COLUMN users.nickname IS 'shown name'",
        "COMMENT ON TABLE users IS 'people'",
        "ALTER TABLE comments ADD FOREIGN KEY (commentable_id) REFERENCES posts (id)",
        "CREATE TABLE extra (id bigserial PRIMARY KEY)",
        "ALTER TABLE extra RENAME TO extras",
        "ALTER TABLE users DROP COLUMN nickname",
    ]:
        pg_server.execute(ddl, name)
        now = catalog_fingerprint(url)
        assert now not in seen, ddl
        seen.append(now)


def test_warm_cached_run_reads_only_the_fingerprint(
    pg_server: LocalPostgres, app_url: str, tmp_path: Path
) -> None:
    from rrperf.engine.strategies import get_strategy

    def run(out: str) -> str:
        context = get_strategy("cache_heavy").make_context(cache_dir=tmp_path / "cache")
        return generate(app_url, tmp_path / out, strategy="cache_heavy",
                        context=context).output_digest

    with pg_server.statements("app") as cold_statements:
        cold = run("cold")
    with pg_server.statements("app") as warm_statements:
        warm = run("warm")
    assert len(cold_statements) == 10  # fingerprint (BEGIN, query, ROLLBACK) + full read (7)
    # One query: the catalog fingerprint (the log shows a statement's first line).
    assert warm_statements == ["BEGIN", FINGERPRINT_SQL.splitlines()[0], "ROLLBACK"]
    assert warm == cold


@pytest.mark.parametrize("strategy", ["cache_heavy", "auto"])
def test_warm_run_is_one_query_until_the_schema_changes(
    pg_server: LocalPostgres, pg_database: Callable[[str], str], tmp_path: Path, strategy: str
) -> None:
    # As `rrperf generate URL --strategy S` runs it: no context kept between the runs, so a
    # warm run is answered from the output manifest, keyed by the catalog fingerprint.
    url = pg_database(app_ddl())
    name = url.split("@/")[1].split("?")[0]

    def run() -> GenerationResult:
        return generate(url, tmp_path / "out", strategy=strategy, cache_dir=tmp_path / "cache")

    with pg_server.statements(name) as statements:
        cold = run()
    assert cold.files_written == cold.files_total == 14
    # auto caches no schema: one transaction, the fingerprint first; cache_heavy needs it for
    # the cached schema's key before it knows whether to read
    assert statements.count("BEGIN") == (1 if strategy == "auto" else 2)
    assert statements[:2] == ["BEGIN", FINGERPRINT_SQL.splitlines()[0]]
    assert len(statements) == (8 if strategy == "auto" else 10)
    for _ in range(2):  # the first repeat also verifies the just-written files by content
        with pg_server.statements(name) as statements:
            warm = run()
        assert warm.files_written == 0 and warm.output_digest == cold.output_digest
        assert statements == ["BEGIN", FINGERPRINT_SQL.splitlines()[0], "ROLLBACK"]

    pg_server.execute("ALTER TABLE users ADD COLUMN nickname varchar(40)", name)
    with pg_server.statements(name) as statements:
        changed = run()
    assert len(statements) == 10  # the fingerprint (a new one), then the whole catalog
    assert changed.written == ("types/user-data.ts",)  # the new column, nothing else
    generate(url, tmp_path / "fresh")  # byte-identical to a run from scratch
    assert differing_files(tmp_path / "out", tmp_path / "fresh") == {}
    with pg_server.statements(name) as statements:
        again = run()
    assert again.files_written == 0 and again.output_digest == changed.output_digest
    assert len(statements) == 3


def test_warm_cli_run_imports_no_generator_or_sqlalchemy(
    pg_server: LocalPostgres, pg_database: Callable[[str], str], tmp_path: Path
) -> None:
    # The warm command (rrperf.cli._warm) parses the URL, sends one query with the driver,
    # stats the files: no parser, logging, configuration, generator or SQLAlchemy.
    import re

    url = pg_database(app_ddl())
    name = url.split("@/")[1].split("?")[0]
    argv = ["generate", url, "--out", "out", "--strategy", "cache_heavy"]
    code = (
        "import sys\n"
        "from rrperf.cli import main\n"
        f"assert main({argv!r}) == 0\n"
        "print(sorted(m for m in ('jinja2', 'sqlalchemy', 'psycopg', 'diskcache', 'psutil', "
        "'argparse', 'logging', 'typing', 'dataclasses', 'rrperf.config', "
        "'rrperf.engine.strategies', 'rrperf.generator.cached', 'rrperf.engine.cache', "
        "'rrperf.schema.model') if m in sys.modules))\n"
    )

    def command(source: str = code) -> list[str]:
        proc = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                              check=False, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()

    lines = [command() for _ in range(2)]  # cold, warm (verifies the new files by content)
    with pg_server.statements(name) as statements:
        lines.append(command())
    assert "(14 written, 0 unchanged)" in lines[0][0]
    assert lines[2][0].startswith("pipeline/cache_heavy: 4 tables, 14 files (no changes: ")
    assert lines[2][1] == "[]"
    assert statements == ["BEGIN", FINGERPRINT_SQL.splitlines()[0], "ROLLBACK"]
    # the full command line (the parser, then the library's fast path) prints the same
    full = command(f"from rrperf.cli import _run\nassert _run({argv!r}) == 0\n")
    assert [re.sub(r" in \d+\.\d+ s ", " ", line) for line in (lines[2][0], full[0])] == [
        re.sub(r" in \d+\.\d+ s ", " ", full[0])
    ] * 2
    pg_server.execute("ALTER TABLE users ADD COLUMN nickname varchar(40)", name)
    changed = command()  # a changed catalog: the full command
    assert "(1 written, 13 unchanged)" in changed[0] and "rrperf.config" in changed[1]
    assert command()[1] == "[]"  # and the next repeat is warm again


# --- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg"])
def test_unreachable_server_is_one_line_without_password(tmp_path: Path, scheme: str) -> None:
    from rrperf.errors import SchemaSourceError

    url = f"{scheme}://bob:s3cret@/app?host={tmp_path}&port=1"
    for read in (introspect_database, catalog_fingerprint, load_schema):
        with pytest.raises(SchemaSourceError) as info:
            read(url)
        text = str(info.value)
        assert "\n" not in text and "s3cret" not in text
        assert text.startswith(f"cannot introspect database {scheme}://bob@/app?host=")
        assert "connection to server" in text


def test_cli_unreachable_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rrperf.cli import main

    url = f"postgresql://bob:s3cret@/app?host={tmp_path}&port=1"
    code = main(["generate", url, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "s3cret" not in err and "Traceback" not in err
    assert err.startswith("rrperf: error: cannot introspect database postgresql://bob@/app?")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+pg8000://bob:pw@h/db",
         "introspecting postgresql+pg8000://bob@h/db needs pg8000; "
         "install it with: pip install pg8000"),
        ("mysql://bob:pw@h/db",
         "introspecting mysql://bob@h/db needs a mysql driver; "
         "install one with: pip install mysqlclient or PyMySQL"),
    ],
)
def test_missing_driver_names_the_package(url: str, message: str) -> None:
    from rrperf.errors import MissingDependencyError

    with pytest.raises(MissingDependencyError) as info:
        introspect_database(url)
    assert str(info.value) == message
