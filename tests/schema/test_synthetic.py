from __future__ import annotations

import warnings
from collections import Counter

import inflection
import pytest

from rrperf.errors import ConfigError
from rrperf.schema.associations import infer_associations
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
from rrperf.schema.rails import parse_schema_rb
from rrperf.schema.synthetic import (
    SyntheticSpec,
    render_schema_rb,
    synthetic_schema,
    synthetic_schema_rb,
    synthetic_table_names,
)


def test_same_inputs_give_equal_schema_and_fingerprint() -> None:
    a = synthetic_schema(200, seed=7)
    b = synthetic_schema(200, seed=7)
    assert a == b
    assert a.fingerprint() == b.fingerprint()
    assert a.source == "synthetic:200:seed=7:fk_density=0.3:polymorphic_share=0.1:enum_share=0.1"


def test_different_seed_or_option_gives_different_schema() -> None:
    base = synthetic_schema(200, seed=7)
    assert synthetic_schema(200, seed=8).fingerprint() != base.fingerprint()
    assert synthetic_schema(200, seed=7, fk_density=0.5).fingerprint() != base.fingerprint()


def test_exact_small_schema() -> None:
    s = synthetic_schema(2, seed=0, fk_density=1.0, polymorphic_share=0.0, enum_share=1.0)
    assert s.table_names == ("accounts", "invoices")
    assert s.version == "20240101000002"
    assert s.table("accounts").columns == (
        Column("id", "bigint", null=False, primary_key=True),
        Column("priority", "enum", null=False, default=Default("low"),
               enum_type="account_priority", enum_values=("low", "normal", "high", "urgent")),
        Column("metadata", "jsonb", null=False, default=Default({})),
        Column("expires_at", "datetime", precision=6),
        Column("created_at", "datetime", null=False),
        Column("updated_at", "datetime", null=False),
    )
    invoices = s.table("invoices")
    assert invoices.column_names == (
        "id", "account_id", "owner_id", "assignee_id", "sender_id", "status", "opens_at",
        "position", "external_uuid", "amount", "last_seen_at", "description", "token",
        "published_on", "locale", "created_at", "updated_at")
    assert invoices.column("external_uuid") == Column(
        "external_uuid", "uuid", null=False, default=Default("gen_random_uuid()", function=True))
    assert invoices.column("last_seen_at") == Column(
        "last_seen_at", "datetime", default=Default("CURRENT_TIMESTAMP", function=True))
    assert invoices.check_constraints == (
        CheckConstraint("amount >= 0", "invoices_amount_non_negative"),)
    assert [(ix.columns, ix.unique) for ix in invoices.indexes] == [
        (("account_id",), False), (("owner_id",), False), (("assignee_id",), False),
        (("sender_id",), False), (("status",), False), (("external_uuid",), True),
        (("token",), True)]
    # account_id has no add_foreign_key (found by naming); role keys always have one.
    assert s.foreign_keys == (
        ForeignKey("invoices", "accounts", "owner_id"),
        ForeignKey("invoices", "accounts", "assignee_id", on_delete="cascade"),
        ForeignKey("invoices", "accounts", "sender_id"),
    )
    assert s.enums == (
        EnumType("account_priority", ("low", "normal", "high", "urgent")),
        EnumType("invoice_status", ("draft", "active", "archived")),
    )
    assert [(a.table, a.kind, a.name) for a in infer_associations(s).associations] == [
        ("accounts", "has_many", "invoices"),
        ("accounts", "has_many", "invoices_as_owner"),
        ("accounts", "has_many", "invoices_as_assignee"),
        ("accounts", "has_many", "invoices_as_sender"),
        ("invoices", "belongs_to", "account"),
        ("invoices", "belongs_to", "owner"),
        ("invoices", "belongs_to", "assignee"),
        ("invoices", "belongs_to", "sender"),
    ]


def test_structure_is_realistic_and_a_dag() -> None:
    s = synthetic_schema(2000, seed=1)
    position = {name: i for i, name in enumerate(s.table_names)}
    assert len(position) == 2000
    assert all(position[fk.to_table] < position[fk.from_table] for fk in s.foreign_keys)
    types = Counter(c.type for t in s.tables for c in t.columns)
    for kind in ("string", "text", "integer", "bigint", "decimal", "float", "boolean", "json",
                 "jsonb", "date", "datetime", "time", "uuid", "binary", "enum", "inet"):
        assert types[kind] > 0, kind
    columns = [c for t in s.tables for c in t.columns]
    assert any(c.array for c in columns)
    assert any(c.default is not None and c.default.function for c in columns)
    assert any(c.default is not None and not c.default.function for c in columns)
    assert {c.null for c in columns} == {True, False}
    assert any(ix.unique for t in s.tables for ix in t.indexes)
    assert any(t.check_constraints for t in s.tables)
    kinds = Counter(a.kind for a in infer_associations(s).associations)
    assert set(kinds) == {"belongs_to", "has_many", "has_one", "has_many_through"}
    poly = [a for a in infer_associations(s).associations if a.polymorphic]
    assert 100 < len(poly) < 300  # polymorphic_share 0.1 of ~1900 regular tables


def test_zero_densities_give_plain_tables() -> None:
    s = synthetic_schema(300, fk_density=0.0, polymorphic_share=0.0, enum_share=0.0)
    assert s.foreign_keys == () and s.enums == ()
    assert infer_associations(s).associations == ()


def test_table_names_unique_and_inflect_cleanly_up_to_10000() -> None:
    names = synthetic_table_names(10_000)
    assert len({n for n, _ in names}) == 10_000
    assert names[:2] == [("accounts", "account"), ("invoices", "invoice")]
    assert names[112] == ("archived_accounts", "archived_account")
    for plural, singular in names[::7]:
        assert inflection.singularize(plural) == singular
        assert inflection.pluralize(singular) == plural


def test_large_schema_table_count_and_unique_names() -> None:
    s = synthetic_schema(10_000, seed=3)
    assert len(s.tables) == 10_000
    assert len(set(s.table_names)) == 10_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_tables": 0}, r"n_tables must be an integer between 1 and 100_000, got 0"),
        ({"n_tables": 100_001}, r"got 100001"),
        ({"n_tables": 2.0}, r"got 2.0"),
        ({"n_tables": True}, r"got True"),
        ({"n_tables": 5, "seed": "x"}, r"seed must be an integer, got 'x'"),
        ({"n_tables": 5, "fk_density": 1.5}, r"fk_density must be a number between 0 and 1, "
         r"got 1.5"),
        ({"n_tables": 5, "polymorphic_share": -0.1}, r"polymorphic_share must be"),
        ({"n_tables": 5, "enum_share": "0.1"}, r"enum_share must be"),
    ],
)
def test_parameter_validation(kwargs: dict[str, object], message: str) -> None:
    n = kwargs.pop("n_tables")
    with pytest.raises(ConfigError, match=message):
        synthetic_schema(n, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=message):
        synthetic_schema_rb(n, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("synthetic:10", SyntheticSpec(10)),
        ("synthetic:10_000", SyntheticSpec(10_000)),
        ("synthetic:50:seed=7", SyntheticSpec(50, seed=7)),
        ("synthetic:50:enum_share=0:seed=2:fk_density=0.5:polymorphic_share=1",
         SyntheticSpec(50, 2, 0.5, 1.0, 0.0)),
    ],
)
def test_spec_parse(text: str, expected: SyntheticSpec) -> None:
    assert SyntheticSpec.parse(text) == expected


def test_spec_canonical_round_trips() -> None:
    spec = SyntheticSpec(50, seed=3, enum_share=0.25)
    assert spec.canonical == (
        "synthetic:50:seed=3:fk_density=0.3:polymorphic_share=0.1:enum_share=0.25")
    assert SyntheticSpec.parse(spec.canonical) == spec
    assert SyntheticSpec.parse("synthetic:50:seed=0").canonical == SyntheticSpec(50).canonical


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("synthetic", r"expected 'synthetic:N\[:key=value...\]', got 'synthetic'"),
        ("synthetic:abc", r"the table count must be an integer, got 'abc'"),
        ("synthetic:5:sead=1", r"expected key=value with a key among seed, fk_density, "
         r"polymorphic_share, enum_share, got 'sead=1'"),
        ("synthetic:5:seed", r"got 'seed'"),
        ("synthetic:5:seed=x", r"seed must be a number, got 'x'"),
        ("synthetic:0", r"n_tables must be an integer between 1 and 100_000"),
    ],
)
def test_spec_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SyntheticSpec.parse(text)


def test_rendered_text_parses_back_to_the_same_schema() -> None:
    s = synthetic_schema(400, seed=5)
    text = synthetic_schema_rb(400, seed=5)
    assert text == render_schema_rb(s)
    assert text.startswith("# This file is auto-generated")
    assert "ActiveRecord::Schema[8.0].define(version: 2024_06_01_000400) do\n" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_schema_rb(text)
    assert parsed.table_names == s.table_names
    for mine, theirs in zip(s.tables, parsed.tables, strict=True):
        assert theirs.columns == mine.columns, mine.name
        assert theirs.primary_key == mine.primary_key
        assert theirs.indexes == mine.indexes
        assert theirs.check_constraints == mine.check_constraints
    assert parsed.foreign_keys == s.foreign_keys
    assert parsed.enums == s.enums
    assert parsed.version == s.version
    assert infer_associations(parsed).associations == infer_associations(s).associations


def test_render_exact_text_of_a_hand_built_schema() -> None:
    s = Schema(
        tables=(
            Table("users", (
                Column("id", "uuid", null=False, primary_key=True,
                       default=Default("gen_random_uuid()", function=True)),
                Column("email", "string", null=False, comment='the "login"'),
                Column("prefs", "jsonb", default=Default({"a": 1})),
                Column("tags", "string", array=True, default=Default([])),
                Column("mood", "enum", enum_type="mood", enum_values=("ok", "bad")),
                Column("bio", "text", default=Default("line\n#{x}")),
            ), indexes=(Index("ix_email", ("email",), unique=True, where="email IS NOT NULL"),
                        Index(None, expression="lower(email)", using="btree"))),
            Table("pairs", (Column("a_id", "bigint", null=False, primary_key=True),
                            Column("b_id", "integer", null=False, primary_key=True)),
                  primary_key=("a_id", "b_id"), comment="links"),
            Table("logs", (Column("line", "text"),), primary_key=()),
            Table("posts", (Column("id", "integer", null=False, primary_key=True),
                            Column("author_id", "uuid"), Column("user_id", "uuid")),
                  check_constraints=(CheckConstraint("length(title) > 0"),)),
        ),
        foreign_keys=(
            ForeignKey("posts", "users", "author_id", on_delete="cascade"),
            ForeignKey("posts", "users", "user_id", name="fk_x", on_update="cascade"),
        ),
        enums=(EnumType("mood", ("ok", "bad")),),
        version="20250102030405",
    )
    text = render_schema_rb(s)
    body = text.split("\n", 4)[4]
    assert body == '''\
ActiveRecord::Schema[8.0].define(version: 2025_01_02_030405) do
  # These are extensions that must be enabled in order to support this database
  enable_extension "pg_catalog.plpgsql"

  # Custom types defined in this database.
  # Note that some types may not work with other database engines. Be careful if changing database.
  create_enum "mood", ["ok", "bad"]

  create_table "users", id: :uuid, default: -> { "gen_random_uuid()" }, force: :cascade do |t|
    t.string "email", null: false, comment: "the \\"login\\""
    t.jsonb "prefs", default: { "a" => 1 }
    t.string "tags", default: [], array: true
    t.enum "mood", enum_type: "mood"
    t.text "bio", default: "line\\n\\#{x}"
    t.index ["email"], name: "ix_email", unique: true, where: "email IS NOT NULL"
    t.index "lower(email)", using: :btree
  end

  create_table "pairs", primary_key: ["a_id", "b_id"], comment: "links", force: :cascade do |t|
    t.bigint "a_id", null: false
    t.integer "b_id", null: false
  end

  create_table "logs", id: false, force: :cascade do |t|
    t.text "line"
  end

  create_table "posts", id: :serial, force: :cascade do |t|
    t.uuid "author_id"
    t.uuid "user_id"
    t.check_constraint "length(title) > 0"
  end

  add_foreign_key "posts", "users", column: "author_id", on_delete: :cascade
  add_foreign_key "posts", "users", name: "fk_x", on_update: :cascade
end
'''
    parsed = parse_schema_rb(text)
    for mine, theirs in zip(s.tables, parsed.tables, strict=True):
        assert theirs.columns == mine.columns
        assert theirs.primary_key == mine.primary_key
    assert parsed.foreign_keys == s.foreign_keys
