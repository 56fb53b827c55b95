# ruff: noqa: E501  (the cases quote real schema.rb lines verbatim; wrapping them hides the shape)
"""The db/schema.rb parser: every grammar form and tricky case -> exact model objects."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from rrperf.errors import SchemaParseError, SchemaSourceError, SchemaWarning
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
from rrperf.schema.rails import load_schema_rb, parse_schema_rb

DATA = Path(__file__).resolve().parents[1] / "data" / "schema_rb"
MODERN = "ActiveRecord::Schema[8.0].define(version: 2025_01_01_000000) do"
LEGACY = "ActiveRecord::Schema.define(version: 2019_04_15_194929) do"


def schema_of(body: str, header: str = MODERN, *, path: str | None = None) -> Schema:
    """Wrap ``body`` in a define block: the header is line 1, the body starts on line 2."""
    return parse_schema_rb(f"{header}\n{body}\nend\n", path=path)


def table_of(body: str, header: str = MODERN) -> Table:
    schema = schema_of(body, header)
    assert len(schema.tables) == 1
    return schema.tables[0]


def pk(type_: str = "bigint", name: str = "id", default: Default | None = None) -> Column:
    return Column(name=name, type=type_, null=False, default=default, primary_key=True)


# --------------------------------------------------------------------------------------------
# §2 define line
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "version", "pk_type"),
    [
        (
            "ActiveRecord::Schema[8.2].define(version: 2025_12_12_154340) do",
            "20251212154340",
            "bigint",
        ),
        ("ActiveRecord::Schema.define(version: 2019_04_15_194929) do", "20190415194929", "integer"),
        ("ActiveRecord::Schema.define(version: 20170430022507) do", "20170430022507", "integer"),
        ("ActiveRecord::Schema.define(:version => 20120809201855) do", "20120809201855", "integer"),
        ("ActiveRecord::Schema[7.1].define(version: 0) do", "0", "bigint"),
    ],
    ids=["bracket-8.2", "legacy-underscored", "legacy-plain", "rails3-rocket", "version-0"],
)
def test_define_line_variants(header: str, version: str, pk_type: str) -> None:
    schema = schema_of('  create_table "a", force: :cascade do |t|\n  end', header, path="s.rb")
    assert schema.version == version
    assert schema.source == "s.rb"
    assert schema.associations == ()
    assert schema.tables == (Table(name="a", columns=(pk(pk_type),), line=2),)


# --------------------------------------------------------------------------------------------
# §4 create_table options
# --------------------------------------------------------------------------------------------

UUID_FN = Default("gen_random_uuid()", function=True)


@pytest.mark.parametrize(
    ("line", "header", "columns", "primary_key", "name"),
    [
        ('create_table "t", force: :cascade do |t|', MODERN, (pk(),), ("id",), "t"),
        ('create_table "t", :force => true do |t|', LEGACY, (pk("integer"),), ("id",), "t"),
        (
            'create_table "t", id: :serial, force: :cascade do |t|',
            MODERN,
            (pk("integer"),),
            ("id",),
            "t",
        ),
        (
            'create_table "t", id: :uuid, default: -> { "gen_random_uuid()" }, force: :cascade do |t|',
            MODERN,
            (pk("uuid", default=UUID_FN),),
            ("id",),
            "t",
        ),
        (
            'create_table "t", id: :uuid, default: nil, force: :cascade do |t|',
            MODERN,
            (pk("uuid"),),
            ("id",),
            "t",
        ),
        (
            'create_table "t", id: :bigint, default: -> { "timestamp_id(\'accounts\'::text)" }, force: :cascade do |t|',
            MODERN,
            (pk("bigint", default=Default("timestamp_id('accounts'::text)", function=True)),),
            ("id",),
            "t",
        ),
        (
            'create_table "t", id: :integer, charset: "utf8mb4", collation: "utf8mb4_unicode_ci", force: :cascade do |t|',
            MODERN,
            (pk("integer"),),
            ("id",),
            "t",
        ),
        ('create_table "t", id: false, force: :cascade do |t|', MODERN, (), (), "t"),
        (
            'create_table "t", :primary_key => "cid", :options=>\'ENGINE=MyISAM\', :force => true do |t|',
            LEGACY,
            (pk("integer", "cid"),),
            ("cid",),
            "t",
        ),
        (
            'create_table "t", primary_key: "fornecedor_id", id: :serial, force: :cascade do |t|',
            MODERN,
            (pk("integer", "fornecedor_id"),),
            ("fornecedor_id",),
            "t",
        ),
        (
            'create_table "public.widgets", force: :cascade do |t|',
            MODERN,
            (pk(),),
            ("id",),
            "public.widgets",
        ),
        (
            'create_table "t", id: { type: :string, limit: 36 }, force: :cascade do |t|',
            MODERN,
            (Column("id", "string", null=False, limit=36, primary_key=True),),
            ("id",),
            "t",
        ),
        ("create_table :t do |t|", MODERN, (pk(),), ("id",), "t"),
        ('create_table("t", force: true) do |t|', MODERN, (pk(),), ("id",), "t"),
        (
            'create_table "t", comment: "Widgets", force: :cascade do |t|',
            MODERN,
            (pk(),),
            ("id",),
            "t",
        ),
    ],
    ids=[
        "implicit-id",
        "rocket-force-legacy-integer",
        "serial",
        "uuid-lambda",
        "uuid-default-nil",
        "bigint-lambda",
        "mysql-integer-charset",
        "id-false",
        "rails3-primary-key-rename",
        "primary-key-and-serial",
        "schema-qualified",
        "id-hash",
        "symbol-name",
        "parenthesised",
        "table-comment",
    ],
)
def test_create_table_options(
    line: str, header: str, columns: tuple[Column, ...], primary_key: tuple[str, ...], name: str
) -> None:
    table = table_of(f"  {line}\n  end", header)
    comment = "Widgets" if "comment:" in line else None
    assert table == Table(
        name=name, columns=columns, primary_key=primary_key, comment=comment, line=2
    )


def test_composite_primary_key_marks_body_columns() -> None:
    table = table_of(
        '  create_table "variant_links", primary_key: ["target_variant_id", "source_variant_id"], force: :cascade do |t|\n'
        '    t.bigint "source_variant_id", null: false\n'
        '    t.bigint "target_variant_id", null: false\n'
        '    t.string "kind"\n'
        "  end"
    )
    assert table == Table(
        name="variant_links",
        columns=(
            Column("source_variant_id", "bigint", null=False, primary_key=True),
            Column("target_variant_id", "bigint", null=False, primary_key=True),
            Column("kind", "string"),
        ),
        primary_key=("target_variant_id", "source_variant_id"),
        line=2,
    )


# --------------------------------------------------------------------------------------------
# §5-§7 column forms and tricky cases: one body line -> exact columns after the implicit id
# --------------------------------------------------------------------------------------------

COLUMN_CASES: list[tuple[str, str, tuple[Column, ...]]] = [
    ("plain", 't.string "name"', (Column("name", "string"),)),
    ("null-false", 't.string "name", null: false', (Column("name", "string", null=False),)),
    ("null-true", 't.string "name", null: true', (Column("name", "string"),)),
    ("symbol-name", "t.string :name, null: false", (Column("name", "string", null=False),)),
    (
        "several-names",
        "t.string :first, :last, limit: 20",
        (Column("first", "string", limit=20), Column("last", "string", limit=20)),
    ),
    ("parenthesised", 't.string("name", null: false)', (Column("name", "string", null=False),)),
    ("t-column", 't.column "name", :string, limit: 5', (Column("name", "string", limit=5),)),
    ("open-type-ltree", 't.ltree "path"', (Column("path", "ltree"),)),
    ("open-type-point", 't.point "location"', (Column("location", "point"),)),
    (
        "int-default",
        't.integer "count", default: 0, null: false',
        (Column("count", "integer", null=False, default=Default(0)),),
    ),
    (
        "negative-default",
        't.integer "flags", default: -1',
        (Column("flags", "integer", default=Default(-1)),),
    ),
    (
        "float-default",
        't.float "ratio", default: 0.0',
        (Column("ratio", "float", default=Default(0.0)),),
    ),
    (
        "float-exponent",
        't.float "eps", default: 1.0e-05',
        (Column("eps", "float", default=Default(1.0e-05)),),
    ),
    (
        "underscore-int",
        't.bigint "big", default: 1_000_000',
        (Column("big", "bigint", default=Default(1_000_000)),),
    ),
    (
        "infinity",
        't.float "top", default: ::Float::INFINITY',
        (Column("top", "float", default=Default(float("inf"))),),
    ),
    (
        "bool-default",
        't.boolean "mfa", default: false, null: false',
        (Column("mfa", "boolean", null=False, default=Default(False)),),
    ),
    (
        "explicit-nil-default",
        't.string "name", default: nil',
        (Column("name", "string", default=Default(None)),),
    ),
    (
        "decimal-string-default",
        't.decimal "amount", precision: 10, scale: 2, default: "0.0"',
        (Column("amount", "decimal", default=Default("0.0"), precision=10, scale=2),),
    ),
    (
        "symbol-default",
        't.string "state", default: :draft',
        (Column("state", "string", default=Default("draft")),),
    ),
    (
        "lambda-current-timestamp",
        't.datetime "latest_sync_activity_at", default: -> { "CURRENT_TIMESTAMP" }',
        (
            Column(
                "latest_sync_activity_at",
                "datetime",
                default=Default("CURRENT_TIMESTAMP", function=True),
            ),
        ),
    ),
    (
        "lambda-on-string",
        't.string "secret_token", default: -> { "public.gen_random_uuid()" }',
        (
            Column(
                "secret_token", "string", default=Default("public.gen_random_uuid()", function=True)
            ),
        ),
    ),
    (
        "lambda-mysql-json",
        't.json "fields", default: -> { "(json_object())" }, null: false',
        (Column("fields", "json", null=False, default=Default("(json_object())", function=True)),),
    ),
    (
        "lambda-parens",
        't.uuid "token", default: ->() { "uuid_generate_v4()" }',
        (Column("token", "uuid", default=Default("uuid_generate_v4()", function=True)),),
    ),
    (
        "empty-array-default",
        't.string "email_settings", default: [], null: false, array: true',
        (Column("email_settings", "string", null=False, default=Default([]), array=True),),
    ),
    (
        "bigint-array",
        't.bigint "participant_account_ids", default: [], null: false, array: true',
        (Column("participant_account_ids", "bigint", null=False, default=Default([]), array=True),),
    ),
    (
        "jsonb-array-default",
        't.jsonb "subscriptions", default: ["conversation_status_changed", "conversation_updated"]',
        (
            Column(
                "subscriptions",
                "jsonb",
                default=Default(["conversation_status_changed", "conversation_updated"]),
            ),
        ),
    ),
    (
        "jsonb-string-default",
        't.jsonb "conditions", default: "{}", null: false',
        (Column("conditions", "jsonb", null=False, default=Default("{}")),),
    ),
    (
        "hstore-hash-default",
        't.hstore "metadata", default: {}, null: false',
        (Column("metadata", "hstore", null=False, default=Default({})),),
    ),
    (
        "jsonb-hash-default",
        't.jsonb "prefs", default: { "theme" => "dark", size: 3, :on => true, "x" => nil }',
        (
            Column(
                "prefs",
                "jsonb",
                default=Default({"theme": "dark", "size": 3, "on": True, "x": None}),
            ),
        ),
    ),
    (
        "yaml-default",
        't.text "buffer_response", default: "--- {}\\n"',
        (Column("buffer_response", "text", default=Default("--- {}\n")),),
    ),
    (
        "escaped-quote-default",
        't.string "q", default: "say \\"hi\\""',
        (Column("q", "string", default=Default('say "hi"')),),
    ),
    (
        "escapes",
        't.string "e", default: "a\\tb\\\\c\\#{d}\\u00e9\\u{1F600}"',
        (Column("e", "string", default=Default("a\tb\\c#{d}\u00e9\U0001f600")),),
    ),
    (
        "single-quoted",
        "t.string 'e', default: 'it\\'s \\\\ \\n'",
        (Column("e", "string", default=Default("it's \\ \\n")),),
    ),
    (
        "precision-nil",
        't.datetime "created_at", precision: nil, null: false',
        (Column("created_at", "datetime", null=False),),
    ),
    (
        "precision-6",
        't.datetime "created_at", precision: 6, null: false',
        (Column("created_at", "datetime", null=False, precision=6),),
    ),
    ("limit-nil", 't.string "name", limit: nil', (Column("name", "string"),)),
    (
        "legacy-alignment-rockets",
        't.string   "color",                :limit => 6,  :default => "AB9364", :null => false',
        (Column("color", "string", null=False, default=Default("AB9364"), limit=6),),
    ),
    (
        "legacy-alignment-labels",
        't.integer  "shareable_id",   limit: 4,                    null: false',
        (Column("shareable_id", "integer", null=False, limit=4),),
    ),
    ("mysql-tinyint", 't.integer "flag", limit: 1', (Column("flag", "integer", limit=1),)),
    (
        "mysql-longtext",
        't.text "body", limit: 4294967295',
        (Column("body", "text", limit=4294967295),),
    ),
    (
        "mysql-size-charset",
        't.text "notes", size: :medium, charset: "latin1", collation: "latin1_bin"',
        (Column("notes", "text"),),
    ),
    ("mysql-unsigned", 't.integer "n", unsigned: true', (Column("n", "integer"),)),
    ("sqlite-nocase", 't.string "email", collation: "NOCASE"', (Column("email", "string"),)),
    (
        "comment",
        't.uuid "codaveri_feedback_job_id", comment: "The ID of the codaveri code feedback job"',
        (
            Column(
                "codaveri_feedback_job_id",
                "uuid",
                comment="The ID of the codaveri code feedback job",
            ),
        ),
    ),
    (
        "vector",
        't.vector "embedding", limit: 1536, null: false',
        (Column("embedding", "vector", null=False, limit=1536),),
    ),
    ("non-pk-serial", 't.serial "weight", null: false', (Column("weight", "serial", null=False),)),
    (
        "integer-type-column",
        't.bigint "fee_id"\n    t.integer "fee_type"',
        (Column("fee_id", "bigint"), Column("fee_type", "integer")),
    ),
    (
        "reserved-words",
        't.string "type"\n    t.string "key"\n    t.text "values"\n    t.integer "order"\n'
        '    t.string "default"\n    t.boolean "primary"\n    t.boolean "public"\n    t.string "Club_Name"\n'
        '    t.string "end"\n    t.string "do"',
        tuple(
            Column(n, t)
            for n, t in [
                ("type", "string"),
                ("key", "string"),
                ("values", "text"),
                ("order", "integer"),
                ("default", "string"),
                ("primary", "boolean"),
                ("public", "boolean"),
                ("Club_Name", "string"),
                ("end", "string"),
                ("do", "string"),
            ]
        ),
    ),
    (
        "virtual-newline-sql",
        "t.virtual \"classification\", type: :string, as: \"\\nCASE\\n    WHEN ((accountable_type)::text = ANY ((ARRAY['Loan'::character varying, 'Other'::character varying])::text[])) THEN 'liability'::text\\n    ELSE 'asset'::text\\nEND\", stored: true",
        (Column("classification", "string", virtual=True),),
    ),
    (
        "virtual-decimal",
        't.virtual "total", type: :decimal, precision: 19, scale: 4, as: "(a + b)", stored: true',
        (Column("total", "decimal", precision=19, scale=4, virtual=True),),
    ),
    (
        "comments-inside-block",
        '# a comment line\n    t.string "a" # trailing comment\n    # another\n\n    t.string "b"',
        (Column("a", "string"), Column("b", "string")),
    ),
    (
        "multi-line-array-continuation",
        't.jsonb "events", default: [\n      "a",\n      "b",\n    ], null: false',
        (Column("events", "jsonb", null=False, default=Default(["a", "b"])),),
    ),
    (
        "trailing-comma-continuation",
        't.string "name",\n      null: false',
        (Column("name", "string", null=False),),
    ),
    (
        "word-array-default",
        't.string "tags", default: %w[a b], array: true',
        (Column("tags", "string", default=Default(["a", "b"]), array=True),),
    ),
    ("semicolons", 't.string "a"; t.string "b"', (Column("a", "string"), Column("b", "string"))),
    (
        "timestamps",
        "t.timestamps",
        (
            Column("created_at", "datetime", null=False),
            Column("updated_at", "datetime", null=False),
        ),
    ),
    (
        "timestamps-null-precision",
        "t.timestamps null: true, precision: 6",
        (
            Column("created_at", "datetime", precision=6),
            Column("updated_at", "datetime", precision=6),
        ),
    ),
]


@pytest.mark.parametrize(
    ("body", "columns"), [c[1:] for c in COLUMN_CASES], ids=[c[0] for c in COLUMN_CASES]
)
def test_column_forms(body: str, columns: tuple[Column, ...]) -> None:
    table = table_of(f'  create_table "things", force: :cascade do |t|\n    {body}\n  end')
    assert table.columns == (pk(), *columns)


# --------------------------------------------------------------------------------------------
# indexes and constraints inside the table body
# --------------------------------------------------------------------------------------------

INDEX_CASES: list[tuple[str, str, Index]] = [
    (
        "unique",
        't.index ["key"], name: "index_blobs_on_key", unique: true',
        Index("index_blobs_on_key", ("key",), unique=True),
    ),
    ("multi-column", 't.index ["a", "b"], name: "ix"', Index("ix", ("a", "b"))),
    (
        "escaped-quotes-where",
        't.index ["user_id", "primary"], name: "index_user_emails_on_user_id_and_primary", unique: true, where: "(\\"primary\\" <> false)"',
        Index(
            "index_user_emails_on_user_id_and_primary",
            ("user_id", "primary"),
            unique=True,
            where='("primary" <> false)',
        ),
    ),
    (
        "expression",
        't.index "lower((email)::text)", name: "index_user_emails_on_email", unique: true',
        Index("index_user_emails_on_email", expression="lower((email)::text)", unique=True),
    ),
    (
        "expression-opclass",
        't.index "upper((name)::text) varchar_pattern_ops", name: "index_rubygems_upcase"',
        Index("index_rubygems_upcase", expression="upper((name)::text) varchar_pattern_ops"),
    ),
    (
        "expression-escaped-char",
        't.index "(((setweight(to_tsvector(\'simple\'::regconfig, (display_name)::text), \'A\'::\\"char\\"))))", name: "search_index", using: :gin',
        Index(
            "search_index",
            expression="(((setweight(to_tsvector('simple'::regconfig, (display_name)::text), 'A'::\"char\"))))",
            using="gin",
        ),
    ),
    (
        "mysql-backticks",
        't.index "(ifnull(`parent_id`,0)), `slug`", name: "index_taxonomies_on_parent_id_and_slug", unique: true',
        Index(
            "index_taxonomies_on_parent_id_and_slug",
            expression="(ifnull(`parent_id`,0)), `slug`",
            unique=True,
        ),
    ),
    (
        "gin-opclass-where",
        't.index ["name"], name: "trgm", opclass: :gin_trgm_ops, where: "((owner_type)::text = \'User\'::text)", using: :gin',
        Index("trgm", ("name",), where="((owner_type)::text = 'User'::text)", using="gin"),
    ),
    (
        "order-hash-include-length",
        't.index ["a", "b"], name: "ix", order: { a: :desc, b: "DESC NULLS LAST" }, include: ["c"], length: { a: 70 }',
        Index("ix", ("a", "b")),
    ),
    ("fulltext", 't.index ["body"], name: "ft", type: :fulltext', Index("ft", ("body",))),
    (
        "hnsw",
        't.index ["embedding"], name: "emb", opclass: :vector_cosine_ops, using: :hnsw',
        Index("emb", ("embedding",), using="hnsw"),
    ),
    ("unnamed-gets-rails-name", 't.index ["a", "b"]', Index("index_things_on_a_and_b", ("a", "b"))),
    (
        "bare-column-string",
        't.index "a", unique: true',
        Index("index_things_on_a", ("a",), unique=True),
    ),
    (
        "unique-constraint",
        't.unique_constraint ["a", "b"], name: "uq_ab", deferrable: :immediate',
        Index("uq_ab", ("a", "b"), unique=True),
    ),
]


@pytest.mark.parametrize(
    ("body", "index"), [c[1:] for c in INDEX_CASES], ids=[c[0] for c in INDEX_CASES]
)
def test_index_forms(body: str, index: Index) -> None:
    table = table_of(
        f'  create_table "things", force: :cascade do |t|\n    t.string "a"\n    {body}\n  end'
    )
    assert table.indexes == (index,)


@pytest.mark.parametrize(
    ("expression", "not_null"),
    [
        ("owner_id IS NOT NULL", True),
        ("(owner_id IS NOT NULL)", True),
        ('"owner_id" IS NOT NULL', True),
        ("owner_id is not null", True),
        ("owner_id IS NOT NULL AND owner_type IS NOT NULL", False),
        ("other_id IS NOT NULL", False),
        ("owner_id > 0", False),
    ],
)
def test_check_constraint_not_null(expression: str, not_null: bool) -> None:
    escaped = expression.replace('"', '\\"')
    table = table_of(
        '  create_table "api_keys", force: :cascade do |t|\n'
        '    t.bigint "owner_id"\n'
        f'    t.check_constraint "{escaped}", name: "api_keys_owner_id_null"\n'
        "  end"
    )
    assert table.check_constraints == (CheckConstraint(expression, "api_keys_owner_id_null"),)
    assert table.column("owner_id") == Column("owner_id", "bigint", null=not not_null)


def test_add_check_constraint_top_level_applies_not_null() -> None:
    table = table_of(
        '  create_table "a", force: :cascade do |t|\n    t.bigint "b_id"\n  end\n'
        '  add_check_constraint "a", "b_id IS NOT NULL", name: "a_b_id_null", validate: false'
    )
    assert table.check_constraints == (CheckConstraint("b_id IS NOT NULL", "a_b_id_null"),)
    assert table.column("b_id") == Column("b_id", "bigint", null=False)


def test_exclusion_constraint_is_skipped_with_warning() -> None:
    with pytest.warns(
        SchemaWarning,
        match=r'^x\.rb:4: skipped t\.exclusion_constraint "no_overlap" in table "rooms"',
    ):
        schema = schema_of(
            '  create_table "rooms", force: :cascade do |t|\n'
            '    t.tstzrange "validity"\n'
            '    t.exclusion_constraint "id WITH =, validity WITH &&", using: :gist, where: "x", name: "no_overlap"\n'
            "  end",
            path="x.rb",
        )
    assert schema.tables[0].columns == (pk(), Column("validity", "tstzrange"))
    assert schema.tables[0].indexes == ()


# --------------------------------------------------------------------------------------------
# enums
# --------------------------------------------------------------------------------------------


def test_enums_declared_before_tables_fill_values_and_unused_enum_is_kept() -> None:
    schema = schema_of(
        '  create_enum "account_status", ["ok", "syncing", "error"]\n'
        '  create_enum "customer_account_type", ["customer", "partner"]\n'
        '  create_table "customers", force: :cascade do |t|\n'
        '    t.enum "account_type", default: "customer", null: false, enum_type: "customer_account_type"\n'
        '    t.enum "mood", enum_type: "undeclared_mood"\n'
        "  end"
    )
    assert schema.enums == (
        EnumType("account_status", ("ok", "syncing", "error")),
        EnumType("customer_account_type", ("customer", "partner")),
    )
    assert schema.table("customers").columns == (
        pk(),
        Column(
            "account_type",
            "enum",
            null=False,
            default=Default("customer"),
            enum_type="customer_account_type",
            enum_values=("customer", "partner"),
        ),
        Column("mood", "enum", enum_type="undeclared_mood"),
    )


def test_enum_declared_after_table_still_fills_values() -> None:
    schema = schema_of(
        '  create_table "a", force: :cascade do |t|\n    t.enum "s", enum_type: :state\n  end\n'
        "  create_enum :state, %w[on off]"
    )
    assert schema.table("a").column("s") == Column(
        "s", "enum", enum_type="state", enum_values=("on", "off")
    )


# --------------------------------------------------------------------------------------------
# hand-written forms: references, belongs_to, foreign_key
# --------------------------------------------------------------------------------------------


def test_references_plain_adds_bigint_column_and_index() -> None:
    schema = schema_of('  create_table "posts" do |t|\n    t.references :user\n  end')
    table = schema.table("posts")
    assert table.columns == (pk(), Column("user_id", "bigint"))
    assert table.indexes == (Index("index_posts_on_user_id", ("user_id",)),)
    assert schema.foreign_keys == ()


def test_belongs_to_polymorphic_uuid() -> None:
    schema = schema_of(
        '  create_table "comments" do |t|\n'
        '    t.belongs_to "commentable", polymorphic: true, null: false, type: :uuid, index: false\n'
        "  end"
    )
    assert schema.table("comments").columns == (
        pk(),
        Column("commentable_id", "uuid", null=False),
        Column("commentable_type", "string", null=False),
    )
    assert schema.table("comments").indexes == ()


def test_references_polymorphic_index_is_named_like_rails() -> None:
    table = table_of(
        '  create_table "notes" do |t|\n    t.references :subject, polymorphic: true\n  end'
    )
    assert table.indexes == (Index("index_notes_on_subject", ("subject_type", "subject_id")),)


def test_references_foreign_key_true_pluralizes_target() -> None:
    schema = schema_of(
        '  create_table "posts" do |t|\n'
        "    t.references :person, foreign_key: true, null: false, index: { unique: true }\n"
        "  end"
    )
    assert schema.table("posts").columns == (pk(), Column("person_id", "bigint", null=False))
    assert schema.table("posts").indexes == (
        Index("index_posts_on_person_id", ("person_id",), unique=True),
    )
    assert schema.foreign_keys == (ForeignKey("posts", "people", "person_id"),)


def test_references_foreign_key_to_table() -> None:
    schema = schema_of(
        '  create_table "posts" do |t|\n'
        "    t.references :author, foreign_key: { to_table: :users, on_delete: :cascade }\n"
        '    t.foreign_key "blogs", column: "blog_id"\n'
        "  end"
    )
    assert schema.foreign_keys == (
        ForeignKey("posts", "users", "author_id", on_delete="cascade"),
        ForeignKey("posts", "blogs", "blog_id"),
    )


def test_primary_key_column_forms() -> None:
    table = table_of(
        '  create_table "codes", id: false do |t|\n'
        '    t.string "code", primary_key: true, null: false\n'
        '    t.string "label"\n'
        "  end"
    )
    assert table.primary_key == ("code",)
    assert table.columns == (
        Column("code", "string", null=False, primary_key=True),
        Column("label", "string"),
    )
    table = table_of('  create_table "k", id: false do |t|\n    t.primary_key "uuid", :uuid\n  end')
    assert table.primary_key == ("uuid",)
    assert table.columns == (pk("uuid", "uuid"),)


# --------------------------------------------------------------------------------------------
# top-level statements
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "fk"),
    [
        ('add_foreign_key "bans", "users"', ForeignKey("bans", "users", "user_id")),
        (
            'add_foreign_key "memberships", "people"',
            ForeignKey("memberships", "people", "person_id"),
        ),
        (
            'add_foreign_key "tokens", "o_auth_applications"',
            ForeignKey("tokens", "o_auth_applications", "o_auth_application_id"),
        ),
        ('add_foreign_key "a", "public.users"', ForeignKey("a", "public.users", "user_id")),
        (
            'add_foreign_key "messages", "users", column: "creator_id"',
            ForeignKey("messages", "users", "creator_id"),
        ),
        (
            'add_foreign_key "accounts", "accounts", column: "moved_to_account_id", name: "fk_2320833084", on_delete: :nullify',
            ForeignKey(
                "accounts",
                "accounts",
                "moved_to_account_id",
                name="fk_2320833084",
                on_delete="nullify",
            ),
        ),
        (
            'add_foreign_key "a", "b", column: "b_code", primary_key: "code", on_delete: :cascade, on_update: :cascade, validate: false',
            ForeignKey(
                "a", "b", "b_code", primary_key="code", on_delete="cascade", on_update="cascade"
            ),
        ),
        (
            ":add_foreign_key".lstrip(":") + ' "x", "ys", :column => "y_id", :name => "fk"',
            ForeignKey("x", "ys", "y_id", name="fk"),
        ),
        ("add_foreign_key(:x, :ys)", ForeignKey("x", "ys", "y_id")),
    ],
)
def test_add_foreign_key(statement: str, fk: ForeignKey) -> None:
    assert schema_of(f"  {statement}").foreign_keys == (fk,)


def test_top_level_add_index_legacy_attaches_to_table() -> None:
    schema = schema_of(
        '  create_table "aspects", force: true do |t|\n    t.integer "user_id"\n  end\n\n'
        '  add_index "aspects", ["user_id"], name: "index_aspects_on_user_id", using: :btree\n'
        '  add_index "aspects", ["guid"], :name => "index_aspects_on_guid", :unique => true, :length => {"guid"=>191}\n'
        '  add_index "aspects", :user_id\n'
        '  add_index "aspects", "lower(name)"',
        LEGACY,
    )
    assert schema.table("aspects").indexes == (
        Index("index_aspects_on_user_id", ("user_id",), using="btree"),
        Index("index_aspects_on_guid", ("guid",), unique=True),
        Index("index_aspects_on_user_id", ("user_id",)),
        Index(None, expression="lower(name)"),
    )


def test_silent_statements_leave_no_warning_and_no_model() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema = schema_of(
            '  create_schema "auth"\n'
            '  enable_extension "pg_catalog.plpgsql"\n'
            '  enable_extension "uuid-ossp"\n'
            '  execute "CREATE SCHEMA IF NOT EXISTS auth"\n'
            "  execute <<~SQL\n    CREATE TABLE scratch (x int); -- end do\n  SQL\n"
            '  create_table "a" do |t|\n  end'
        )
    assert schema.table_names == ("a",)
    assert schema.table("a").line == 9


def test_heredoc_views_then_add_index_then_second_view() -> None:
    body = (
        '  create_view "last_hour_events_mv", materialized: true, sql_definition: <<-SQL\n'  # line 2
        "        WITH billable_metric_filters AS (\n"
        "        SELECT 'end' AS do_end FROM x\n"
        "        ) SELECT ((events.properties ->> (billable_metrics.field_name)::text) ~ '^-?\\\\d+(\\\\.\\\\d+)?$'::text) AS is_numeric_field_value\n"
        "    end\n"
        "    SQL\n"
        '  add_index "last_hour_events_mv", ["organization_id"], name: "idx_mv", unique: true\n'  # line 8
        '  create_view "exports_fees", sql_definition: <<-SQL\n'  # line 9
        "      SELECT 1;\n"
        "  SQL\n"
        '  create_table "after_views" do |t|\n'  # line 12
        '    t.string "x"\n'
        "  end"
    )
    with pytest.warns(SchemaWarning) as record:
        schema = schema_of(body, path="db/schema.rb")
    assert [str(w.message) for w in record] == [
        'db/schema.rb:2: skipped create_view "last_hour_events_mv" (views are not modelled)',
        'db/schema.rb:8: skipped add_index on "last_hour_events_mv" (no table "last_hour_events_mv"; views are not modelled)',
        'db/schema.rb:9: skipped create_view "exports_fees" (views are not modelled)',
    ]
    assert schema.tables == (Table("after_views", (pk(), Column("x", "string")), line=12),)


def test_hairtrigger_chain_is_one_warning_and_next_statement_parses() -> None:
    body = (
        '  create_trigger("accounts_after_insert_row_tr", :generated => true, :compatibility => 1).\n'
        '      on("accounts").\n'
        "      after(:insert).\n"
        "      for_each(:row) do\n"
        "    \"execute format('create sequence IF NOT EXISTS conv_dpid_seq_%s', NEW.id);\"\n"
        "  end\n"
        '  create_trigger("b_tr").on("b")\n'
        "    .before(:update) do\n"
        '    "SELECT 1; -- end"\n'
        "  end\n"
        '  create_table "c" do |t|\n'
        "  end"
    )
    with pytest.warns(SchemaWarning) as record:
        schema = schema_of(body, path="file.rb")
    assert [str(w.message) for w in record] == [
        'file.rb:2: skipped create_trigger "accounts_after_insert_row_tr" (triggers are not modelled)',
        'file.rb:8: skipped create_trigger "b_tr" (triggers are not modelled)',
    ]
    assert schema.table_names == ("c",)


def test_create_function_with_raw_heredoc() -> None:
    body = (
        "  create_function :logidze_logger, sql_definition: <<-'SQL'\n"
        "      CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN #{not_interpolated} END; $body$\n"
        "  SQL\n"
        '  create_table "d" do |t|\n  end'
    )
    with pytest.warns(
        SchemaWarning,
        match=r"^file\.rb:2: skipped create_function \"logidze_logger\" \(functions are not modelled\)$",
    ):
        schema = schema_of(body, path="file.rb")
    assert schema.table_names == ("d",)


def test_create_virtual_table_with_option_strings() -> None:
    with pytest.warns(
        SchemaWarning,
        match=r'^file\.rb:12: skipped create_virtual_table "message_search_index" \(virtual tables are not modelled\)$',
    ):
        schema = schema_of(
            "\n" * 10
            + '  create_virtual_table "message_search_index", "fts5", ["body", "content=\'\'", "contentless_delete=1", "tokenize=porter"]',
            path="file.rb",
        )
    assert schema.tables == ()


def test_unknown_statement_is_skipped_with_warning() -> None:
    with pytest.warns(
        SchemaWarning, match=r'^f\.rb:2: skipped create_join_table "users" \(unknown statement\)$'
    ):
        schema_of(
            "  create_join_table :users, :roles do |t|\n    t.index [:user_id]\n  end", path="f.rb"
        )
    with pytest.warns(
        SchemaWarning,
        match=r'^f\.rb:2: skipped ActiveRecord::Base\.connection\.execute "SELECT 1" \(unknown statement\)$',
    ):
        schema_of('  ActiveRecord::Base.connection.execute("SELECT 1")', path="f.rb")


def test_could_not_dump_comment_warns_with_table_and_line() -> None:
    body = (
        '  create_table "authors" do |t|\n  end\n\n'
        '  # Could not dump table "books" because of following StandardError\n'
        "  #   Unknown type 'reference' for column 'author_id'\n\n"
        '  create_table "reviews" do |t|\n  end'
    )
    with pytest.warns(SchemaWarning) as record:
        schema = schema_of(body, path="db/schema.rb")
    assert [str(w.message) for w in record] == [
        'db/schema.rb:5: table "books" is missing: the dump could not dump it (because of '
        "following StandardError: Unknown type 'reference' for column 'author_id')"
    ]
    assert schema.table_names == ("authors", "reviews")


def test_heredoc_variants_and_line_numbers_after_them() -> None:
    # The squiggly heredoc is dedented; both are consumed, and line numbers stay right.
    body = (
        "  execute <<~SQL, <<-'RAW'\n"
        "    SELECT 'end';\n"
        "      -- do\n"
        "  SQL\n"
        "    \\d raw #{x}\n"
        "    RAW\n"
        '  create_table "z" do |t|\n'
        '    t.string "s", default: "a\\\n'
        'b"\n'
        '    t.string "after"\n'
        "  end"
    )
    table = table_of(body)
    assert table.line == 8
    assert table.columns == (
        pk(),
        Column("s", "string", default=Default("ab")),
        Column("after", "string"),
    )


def test_begin_end_comment_and_end_marker() -> None:
    text = (
        f'{MODERN}\n=begin\ncreate_table "ignored" do |t|\n=end\n'
        '  create_table "kept" do |t|\n  end\nend\n__END__\nanything ( [ goes "\n'
    )
    schema = parse_schema_rb(text)
    assert schema.tables == (Table("kept", (pk(),), line=5),)


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


ERROR_CASES: list[tuple[str, str, str, int, int]] = [
    (
        "unterminated-string",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "name\n  end\nend\n',
        r"unterminated string: expected a closing '\"'",
        3,
        14,
    ),
    ("unterminated-single", f"{MODERN}\n  execute 'abc\nend\n", r"unterminated string", 2, 11),
    (
        "unterminated-heredoc",
        f'{MODERN}\n  create_view "v", sql_definition: <<-SQL\n    SELECT 1\nend\n',
        r"unterminated heredoc <<-SQL: expected a line 'SQL', found end of file",
        2,
        36,
    ),
    (
        "missing-table-end-eof",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "x"\n',
        r"missing `end` for create_table \'a\' opened at line 2",
        4,
        1,
    ),
    (
        "missing-table-end-next-table",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "x"\n  create_table "b" do |t|\n  end\nend\n',
        r"found `create_table` \(is the `end` of create_table 'a' missing\?\)",
        4,
        3,
    ),
    (
        "missing-define-end",
        f'{MODERN}\n  create_table "a" do |t|\n  end\n',
        r"missing `end` of the define block opened at line 1",
        4,
        1,
    ),
    (
        "body-line-not-t",
        f'{MODERN}\n  create_table "a" do |t|\n    foo "bar"\n  end\nend\n',
        r'expected `t\.<column type> "name"`, `t\.index \.\.\.` or `end` in the body of create_table \'a\' \(line 2\), found `foo`',
        3,
        5,
    ),
    (
        "body-line-string",
        f'{MODERN}\n  create_table "a" do |t|\n    "bar"\n  end\nend\n',
        r"found string 'bar'",
        3,
        5,
    ),
    (
        "missing-define",
        'create_table "a" do |t|\nend\n',
        r"missing define block|expected `ActiveRecord::Schema\.define",
        1,
        1,
    ),
    (
        "empty-file",
        "# only a comment\n",
        r"missing define block: expected .* found end of file",
        2,
        1,
    ),
    (
        "unbalanced-mismatch",
        f'{MODERN}\n  add_index "a", ["x"), name: "i"\nend\n',
        r"unbalanced brackets: expected '\]' to close '\[' opened at line 2, column 18, found '\)'",
        2,
        22,
    ),
    (
        "unbalanced-unclosed",
        f'{MODERN}\n  add_index "a", ["x", name: "i"\nend\n',
        r"unbalanced brackets: '\[' is never closed",
        2,
        18,
    ),
    (
        "unbalanced-extra-close",
        f'{MODERN}\n  add_index "a", ["x"]]\nend\n',
        r"unbalanced brackets: found '\]' with nothing open",
        2,
        23,
    ),
    (
        "garbage-char",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "x" $$\n  end\nend\n',
        r"unexpected character '\$'",
        3,
        18,
    ),
    (
        "garbage-token",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "x" "y"\n  end\nend\n',
        r"expected ',' or end of line, found string 'y'",
        3,
        18,
    ),
    (
        "after-define-end",
        f'{MODERN}\nend\ncreate_table "late"\n',
        r"expected end of file after the define block's `end`, found `create_table`",
        3,
        1,
    ),
    (
        "interpolation",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "x", default: "#{{Time.now}}"\n  end\nend\n',
        r"found Ruby interpolation '#\{'",
        3,
        28,
    ),
    (
        "bad-null",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "x", null: "no"\n  end\nend\n',
        r"expected true or false for null:, found 'no'",
        3,
        19,
    ),
    (
        "bad-limit",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "x", limit: "5"\n  end\nend\n',
        r"expected an integer or nil for limit:",
        3,
        19,
    ),
    (
        "duplicate-column",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "id"\n  end\nend\n',
        r"column 'id' is declared twice in table 'a'",
        3,
        14,
    ),
    (
        "composite-pk-missing",
        f'{MODERN}\n  create_table "a", primary_key: ["x", "y"] do |t|\n    t.string "x"\n  end\nend\n',
        r"primary_key column 'y' of table 'a' is not declared",
        2,
        3,
    ),
    (
        "positional-after-option",
        f'{MODERN}\n  add_foreign_key "a", column: "x", "b"\nend\n',
        r"positional arguments must come before options",
        2,
        37,
    ),
    (
        "bad-value",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "x", default: Time.now\n  end\nend\n',
        r"expected a value .* found `Time`",
        3,
        28,
    ),
    (
        "lambda-body",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string "x", default: -> {{ 1 }}\n  end\nend\n',
        r"expected a string as the lambda body, found number 1",
        3,
        33,
    ),
    (
        "no-column-name",
        f'{MODERN}\n  create_table "a" do |t|\n    t.string null: false\n  end\nend\n',
        r"expected a column name after t\.string",
        3,
        7,
    ),
    (
        "virtual-without-type",
        f'{MODERN}\n  create_table "a" do |t|\n    t.virtual "v", as: "1"\n  end\nend\n',
        r"expected a type: option on t\.virtual",
        3,
        7,
    ),
    (
        "table-twice",
        f'{MODERN}\n  create_table "a" do |t|\n  end\n  create_table "a" do |t|\n  end\nend\n',
        r"table 'a' is created twice",
        4,
        3,
    ),
    (
        "define-without-do",
        "ActiveRecord::Schema[8.0].define(version: 1)\nend\n",
        r"expected `do` after define\(\.\.\.\), found end of line",
        1,
        45,
    ),
    ("bad-unicode-escape", f'{MODERN}\n  execute "\\u12"\nend\n', r"invalid Unicode escape", 2, 11),
    (
        "polymorphic-fk",
        f'{MODERN}\n  create_table "a" do |t|\n    t.references :x, polymorphic: true, foreign_key: true\n  end\nend\n',
        r"expected no foreign_key: on a polymorphic reference",
        3,
        41,
    ),
]


@pytest.mark.parametrize(
    ("text", "match", "line", "column"),
    [c[1:] for c in ERROR_CASES],
    ids=[c[0] for c in ERROR_CASES],
)
def test_parse_errors(text: str, match: str, line: int, column: int) -> None:
    with pytest.raises(SchemaParseError, match=match) as info:
        parse_schema_rb(text, path="db/schema.rb")
    err = info.value
    assert (err.path, err.line, err.column) == ("db/schema.rb", line, column)
    assert str(err).startswith(f"db/schema.rb:{line}:{column}: ")
    assert isinstance(err, SchemaSourceError)


def test_parse_error_pickles() -> None:
    with pytest.raises(SchemaParseError) as info:
        parse_schema_rb(
            f'{MODERN}\n  create_table "a" do |t|\n    t.string "name\n', path="db/schema.rb"
        )
    err = info.value
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is SchemaParseError
    assert (clone.message, clone.path, clone.line, clone.column) == (
        err.message,
        "db/schema.rb",
        3,
        14,
    )
    assert str(clone) == str(err)


def test_error_without_path_names_string() -> None:
    with pytest.raises(SchemaParseError, match=r"^<string>:1:1: ") as info:
        parse_schema_rb("garbage")
    assert info.value.path is None


# --------------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------------


def test_load_missing_file_names_path() -> None:
    missing = DATA / "no_such_schema.rb"
    with pytest.raises(
        SchemaSourceError, match=r"cannot read schema file .*no_such_schema\.rb"
    ) as info:
        load_schema_rb(missing)
    assert not isinstance(info.value, SchemaParseError)
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_load_non_utf8_file_names_path() -> None:
    with pytest.raises(SchemaSourceError, match=r"cannot read schema file .*latin1\.rb") as info:
        load_schema_rb(DATA / "latin1.rb")
    assert isinstance(info.value.__cause__, UnicodeDecodeError)


def test_load_legacy_mysql_fixture() -> None:
    path = DATA / "legacy_mysql.rb"
    schema = load_schema_rb(path)
    assert schema.source == str(path)
    assert schema.version == "20120809201855"
    assert schema.tables == (
        Table(
            "comments",
            (
                pk("integer", "cid"),
                Column("color", "string", null=False, default=Default("AB9364"), limit=6),
                Column("shareable_id", "integer", null=False, limit=4),
                Column("shareable_type", "string", limit=60),
                Column("body", "text", limit=2147483647),
                Column("flags", "integer", default=Default(-1), limit=1),
                Column("score", "float", default=Default(0.0)),
            ),
            primary_key=("cid",),
            indexes=(
                Index(
                    "index_comments_on_shareable", ("shareable_id", "shareable_type"), unique=True
                ),
                Index("index_comments_on_color", ("color",), using="btree"),
            ),
            line=6,
        ),
        Table(
            "products",
            (pk("integer"), Column("notes", "text"), Column("slug", "string")),
            indexes=(
                Index(
                    "index_products_on_parent_id_and_slug",
                    expression="(ifnull(`parent_id`,0)), `slug`",
                    unique=True,
                ),
                Index("index_products_on_notes", ("notes",)),
            ),
            line=18,
        ),
        Table(
            "filters_tags",
            (Column("filter_id", "bigint", null=False), Column("tag_id", "bigint", null=False)),
            primary_key=(),
            line=25,
        ),
    )


def test_load_postgres_extensions_fixture() -> None:
    path = DATA / "postgres_extensions.rb"
    with pytest.warns(SchemaWarning) as record:
        schema = load_schema_rb(path)
    where = str(path)
    assert [str(w.message) for w in record] == [
        f'{where}:27: skipped create_view "last_hour_events_mv" (views are not modelled)',
        f'{where}:35: skipped add_index on "last_hour_events_mv" (no table "last_hour_events_mv"; views are not modelled)',
        f'{where}:36: skipped create_view "exports_fees" (views are not modelled)',
        f'{where}:40: skipped create_trigger "accounts_after_insert_row_tr" (triggers are not modelled)',
        f'{where}:47: skipped create_function "logidze_logger" (functions are not modelled)',
    ]
    assert all(w.filename == __file__ for w in record)
    assert schema.version == "20250301120000"
    assert schema.table_names == ("customers", "jobs", "tags")
    assert schema.table("customers").columns == (
        pk("uuid", default=UUID_FN),
        Column(
            "account_type",
            "enum",
            null=False,
            default=Default("customer"),
            enum_type="customer_account_type",
            enum_values=("customer", "partner"),
        ),
        Column("classification", "string", virtual=True),
        Column("conditions", "jsonb", null=False, default=Default("{}")),
    )
    assert schema.table("jobs").columns == (pk("uuid"), Column("queue", "string"))
    assert schema.table("tags").line == 57
    assert schema.foreign_keys == (
        ForeignKey("jobs", "customers", "customer_id", on_delete="cascade"),
    )
    assert schema.enums == (
        EnumType("account_status", ("ok", "syncing", "error")),
        EnumType("customer_account_type", ("customer", "partner")),
    )


def test_load_sqlite_fixture_warnings() -> None:
    path = DATA / "sqlite_fts.rb"
    with pytest.warns(SchemaWarning) as record:
        schema = load_schema_rb(path)
    assert [str(w.message) for w in record] == [
        f'{path}:7: table "books" is missing: the dump could not dump it (because of following '
        "StandardError: Unknown type 'reference' for column 'author_id')",
        f'{path}:14: skipped create_virtual_table "people_search" (virtual tables are not modelled)',
    ]
    assert schema.tables == (
        Table(
            "people",
            (pk(), Column("email", "string"), Column("created_at", "datetime", null=False)),
            line=2,
        ),
    )
    assert schema.foreign_keys == (ForeignKey("memberships", "people", "person_id"),)


def test_parsed_schema_round_trips_through_dict() -> None:
    with pytest.warns(SchemaWarning):
        schema = load_schema_rb(DATA / "postgres_extensions.rb")
    assert Schema.from_dict(schema.to_dict()) == schema
    assert pickle.loads(pickle.dumps(schema)) == schema


def test_import_does_not_pull_in_pandas() -> None:
    code = "import sys, rrperf.schema.rails; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_column_index_option_adds_index() -> None:
    table = table_of(
        '  create_table "users" do |t|\n'
        '    t.string :email, null: false, index: { unique: true, name: "by_email" }\n'
        "    t.string :slug, index: true\n"
        "    t.string :bio, index: false\n"
        "  end"
    )
    assert table.indexes == (
        Index("by_email", ("email",), unique=True),
        Index("index_users_on_slug", ("slug",)),
    )


def test_crlf_bom_backslash_continuation_and_string_labels(tmp_path: Path) -> None:
    source = (
        "\ufeff# comment\r\n"
        f"{MODERN}\r\n"
        '  create_table "a", force: :cascade do |t|\r\n'
        '    t.string "x", \\\r\n'
        '      "null": false, default: "v"\r\n'
        "  end\r\n"
        '  add_index "a", ["x"], name: "ix"\r\n'
        "end\r\n"
    )
    path = tmp_path / "schema.rb"
    path.write_bytes(source.encode("utf-8"))
    schema = load_schema_rb(path)
    assert schema.tables == (
        Table(
            "a",
            (pk(), Column("x", "string", null=False, default=Default("v"))),
            indexes=(Index("ix", ("x",)),),
            line=3,
        ),
    )
