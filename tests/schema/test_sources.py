from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rrperf.config import RrperfConfig
from rrperf.errors import SchemaParseError, SchemaSourceError
from rrperf.schema.associations import infer_associations
from rrperf.schema.database import introspect_database
from rrperf.schema.model import Association, Column, ForeignKey, Schema, Table
from rrperf.schema.rails import load_schema_rb
from rrperf.schema.scenarios import SCENARIOS
from rrperf.schema.sources import (
    RAILS_INTERNAL_TABLES,
    exclude_tables,
    load_schema,
    source_fingerprint,
)
from rrperf.schema.synthetic import synthetic_schema

SCHEMA_RB = """\
ActiveRecord::Schema[8.0].define(version: 2025_01_01_000000) do
  create_table "ar_internal_metadata", primary_key: "key", id: :string, force: :cascade do |t|
    t.string "value"
  end

  create_table "audit_logs", force: :cascade do |t|
    t.bigint "user_id"
  end

  create_table "comments", force: :cascade do |t|
    t.string "commentable_type"
    t.bigint "commentable_id"
    t.bigint "user_id"
  end

  create_table "schema_migrations", primary_key: "version", id: :string, force: :cascade do |t|
  end

  create_table "users", force: :cascade do |t|
    t.string "email"
  end

  add_foreign_key "audit_logs", "users"
  add_foreign_key "comments", "users"
end
"""

SQLITE_DDL = """
CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY);
CREATE TABLE ar_internal_metadata (key varchar NOT NULL PRIMARY KEY, value varchar);
CREATE TABLE users (id integer PRIMARY KEY AUTOINCREMENT NOT NULL, email varchar NOT NULL);
CREATE TABLE posts (id integer PRIMARY KEY AUTOINCREMENT NOT NULL, user_id integer NOT NULL,
  title varchar, CONSTRAINT fk_rails_1 FOREIGN KEY (user_id) REFERENCES users (id));
"""


def write_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(SQLITE_DDL)
        conn.commit()
    finally:
        conn.close()
    return path


@pytest.fixture
def schema_rb(tmp_path: Path) -> Path:
    path = tmp_path / "schema.rb"
    path.write_text(SCHEMA_RB, encoding="utf-8")
    return path


def test_schema_rb_path_drops_rails_tables_and_infers(schema_rb: Path) -> None:
    for source in (schema_rb, str(schema_rb)):
        schema = load_schema(source)
        assert schema.table_names == ("audit_logs", "comments", "users")
        assert schema.source == str(schema_rb)
        assert schema.associations == (
            Association("belongs_to", "audit_logs", "user", "users", "user_id"),
            Association("belongs_to", "comments", "commentable", None, "commentable_id",
                        polymorphic=True),
            Association("belongs_to", "comments", "user", "users", "user_id"),
            Association("has_many", "users", "audit_logs", "audit_logs", "user_id"),
            Association("has_many", "users", "comments", "comments", "user_id"),
        )


def test_config_exclusions_globs_and_polymorphic_types(schema_rb: Path) -> None:
    config = RrperfConfig(exclude_tables=("audit_*",),
                          polymorphic_types={"commentable": ("users",)})
    schema = load_schema(schema_rb, config=config)
    assert schema.table_names == ("comments", "users")
    assert schema.foreign_keys == (ForeignKey("comments", "users", "user_id"),)
    assert schema.associations == (
        Association("belongs_to", "comments", "commentable", None, "commentable_id",
                    polymorphic=True, polymorphic_types=("users",)),
        Association("belongs_to", "comments", "user", "users", "user_id"),
        Association("has_many", "users", "comments_as_commentable", "comments",
                    "commentable_id", as_name="commentable"),
        Association("has_many", "users", "comments", "comments", "user_id"),
    )


def test_no_inference_when_disabled(schema_rb: Path) -> None:
    schema = load_schema(schema_rb, infer_associations=False)
    assert schema.associations == ()
    assert len(schema.foreign_keys) == 2


def test_schema_rb_recognised_by_content_and_app_folder(tmp_path: Path) -> None:
    odd = tmp_path / "dump.txt"
    odd.write_text(SCHEMA_RB, encoding="utf-8")
    assert load_schema(odd).table_names == ("audit_logs", "comments", "users")
    app = tmp_path / "app"
    (app / "db").mkdir(parents=True)
    (app / "db" / "schema.rb").write_text(SCHEMA_RB, encoding="utf-8")
    schema = load_schema(app)
    assert schema.source == str(app / "db" / "schema.rb")
    assert len(schema.tables) == 3


def test_sqlite_file_detected_by_header(tmp_path: Path) -> None:
    path = write_sqlite(tmp_path / "development.sqlite3")
    schema = load_schema(path)
    assert schema.table_names == ("posts", "users")
    assert schema.source == str(path)
    assert schema.table("users").columns == (
        Column("id", "integer", null=False, primary_key=True),
        Column("email", "string", null=False),
    )
    assert schema.associations == (
        Association("belongs_to", "posts", "user", "users", "user_id"),
        Association("has_many", "users", "posts", "posts", "user_id"),
    )
    no_suffix = tmp_path / "blob"
    no_suffix.write_bytes(path.read_bytes())
    assert load_schema(no_suffix).table_names == ("posts", "users")


def test_database_url(tmp_path: Path) -> None:
    path = write_sqlite(tmp_path / "app.db")
    url = f"sqlite:///{path}"
    schema = load_schema(url, config=RrperfConfig(exclude_tables=("posts",)))
    assert schema.table_names == ("users",)
    assert schema.source == url
    assert schema.foreign_keys == () and schema.associations == ()


def test_scenario_and_synthetic_sources() -> None:
    small = load_schema("small")
    assert small == infer_associations(load_schema_rb(SCENARIOS["small"].path))  # type: ignore[arg-type]
    synth = load_schema("synthetic:40:seed=2")
    assert synth.tables == synthetic_schema(40, seed=2).tables
    assert synth.source == ("synthetic:40:seed=2:fk_density=0.3:polymorphic_share=0.1:"
                            "enum_share=0.1")
    assert synth.associations == infer_associations(synthetic_schema(40, seed=2)).associations


def test_schema_object_source() -> None:
    users = Table("users", (Column("id", "bigint", primary_key=True),))
    posts = Table("posts", (Column("id", "bigint", primary_key=True), Column("user_id", "bigint")))
    internal = Table("schema_migrations", (Column("version", "string"),), primary_key=())
    schema = load_schema(Schema((users, posts, internal)))
    assert schema.table_names == ("users", "posts")
    assert [a.name for a in schema.associations] == ["posts", "user"]
    given = (Association("has_many", "users", "articles", "posts", "user_id"),)
    kept = load_schema(Schema((users, posts), associations=given))
    assert kept.associations == given


def test_exclude_tables_prunes_associations_and_polymorphic_targets() -> None:
    schema = Schema(
        (Table("a", ()), Table("b", ()), Table("j", ())),
        foreign_keys=(ForeignKey("j", "a", "a_id"), ForeignKey("j", "b", "b_id")),
        associations=(
            Association("has_many_through", "a", "bs", "b", "a_id", through="j", source="b"),
            Association("belongs_to", "a", "x", None, "x_id", polymorphic=True,
                        polymorphic_types=("a", "j", "b")),
            Association("has_many", "b", "as", "a", "b_id"),
        ),
    )
    out = exclude_tables(schema, ["j"])
    assert out.table_names == ("a", "b")
    assert out.foreign_keys == ()
    assert out.associations == (
        Association("belongs_to", "a", "x", None, "x_id", polymorphic=True,
                    polymorphic_types=("a", "b")),
        Association("has_many", "b", "as", "a", "b_id"),
    )
    assert exclude_tables(schema, ["nope", "z*"]) is schema
    assert RAILS_INTERNAL_TABLES == ("schema_migrations", "ar_internal_metadata")


def test_exclude_tables_patterns_match_as_fnmatchcase() -> None:
    import fnmatch

    names = ["audit_log", "Audit_x", "audits", "a[1]", "a1", "x.y", "xzy", "schema_migrations",
             "tmp_", "tmp_2024", "a\nb", "ab"]
    schema = Schema(tuple(Table(n, ()) for n in names))
    for patterns in (["audit_*"], ["a[1]", "x.y"], ["[!a]*"], ["tmp_?*", "*s"], ["a?b"],
                     ["*"], ["A*", "a[!1]*"]):
        kept = exclude_tables(schema, patterns).table_names
        assert kept == tuple(n for n in names
                             if not any(fnmatch.fnmatchcase(n, p) for p in patterns)), patterns
    assert exclude_tables(schema, []) is schema


def test_unknown_scenario_name() -> None:
    with pytest.raises(SchemaSourceError, match=r"^unknown scenario 'mediun' \(and no such "
                       r"file\); valid names: small, medium, large, polymorphic_heavy"):
        load_schema("mediun")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "db" / "schema.rb"
    with pytest.raises(SchemaSourceError, match=rf"^schema file not found: {missing}$"):
        load_schema(missing)
    with pytest.raises(SchemaSourceError, match=r"^schema file not found: nope\.rb$"):
        load_schema("nope.rb")


def test_file_that_is_neither(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    with pytest.raises(SchemaSourceError, match=r"notes\.txt is neither a schema\.rb file .* nor "
                       r"a SQLite database"):
        load_schema(path)


def test_folder_without_schema(tmp_path: Path) -> None:
    with pytest.raises(SchemaSourceError, match=r"is a folder without db/schema\.rb"):
        load_schema(tmp_path)


def test_malformed_schema_rb_raises_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "schema.rb"
    path.write_text("ActiveRecord::Schema[8.0].define(version: 1) do\n  create_table \n")
    with pytest.raises(SchemaParseError):
        load_schema(path)


def test_wrong_source_type() -> None:
    with pytest.raises(SchemaSourceError, match=r"got int 42$"):
        load_schema(42)  # type: ignore[arg-type]
    with pytest.raises(SchemaSourceError, match=r"got float 1.5$"):
        source_fingerprint(1.5)  # type: ignore[arg-type]


def test_fingerprint_of_files(schema_rb: Path, tmp_path: Path) -> None:
    expected = hashlib.sha256(SCHEMA_RB.encode()).hexdigest()
    assert source_fingerprint(schema_rb) == expected
    assert source_fingerprint(str(schema_rb)) == expected
    schema_rb.write_text(SCHEMA_RB + "\n")
    assert source_fingerprint(schema_rb) != expected
    db = write_sqlite(tmp_path / "app.db")
    assert source_fingerprint(db) == hashlib.sha256(db.read_bytes()).hexdigest()


def test_fingerprint_of_scenarios_synthetic_urls_and_schemas(tmp_path: Path) -> None:
    small = SCENARIOS["small"].path
    assert small is not None
    assert source_fingerprint("small") == hashlib.sha256(small.read_bytes()).hexdigest()
    assert source_fingerprint("synthetic:100") == (
        "synthetic:100:seed=0:fk_density=0.3:polymorphic_share=0.1:enum_share=0.1@format=1")
    assert source_fingerprint("synthetic:100:seed=0") == source_fingerprint("synthetic:100")
    assert source_fingerprint("synthetic:100:seed=1") != source_fingerprint("synthetic:100")
    url = f"sqlite:///{write_sqlite(tmp_path / 'app.db')}"
    assert source_fingerprint(url) == introspect_database(url).fingerprint()
    schema = synthetic_schema(5)
    assert source_fingerprint(schema) == schema.fingerprint()


def test_fingerprint_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaSourceError, match=r"^unknown scenario 'huge'"):
        source_fingerprint("huge")
    with pytest.raises(SchemaSourceError, match=r"^schema file not found: "):
        source_fingerprint(tmp_path / "x.rb")


def test_import_stays_light() -> None:
    code = ("import sys, rrperf.schema.sources, rrperf.schema.scenarios, rrperf.config; "
            "print(sorted(m for m in ('sqlalchemy', 'pandas', 'numpy', 'rrperf.schema.rails') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
