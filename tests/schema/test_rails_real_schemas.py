"""The schema.rb parser on three real, unmodified Rails dumps (campfire, rubygems, coursemology).

Table and foreign-key counts are checked against an independent grep of the file, and a few
columns per file are compared field by field with what the file says.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rrperf.errors import SchemaWarning
from rrperf.schema.model import CheckConstraint, Column, Default, ForeignKey, Index, Schema
from rrperf.schema.rails import load_schema_rb
from rrperf.schema.scenarios import REAL_SCHEMA_DIR

SCHEMAS = REAL_SCHEMA_DIR  # shipped in the package: rrperf/data/scenarios/real
CAMPFIRE = SCHEMAS / "basecamp__once-campfire__schema.rb"
RUBYGEMS = SCHEMAS / "rubygems__rubygems.org__schema.rb"
COURSEMOLOGY = SCHEMAS / "Coursemology__coursemology2__schema.rb"

# (file, exact number of tables)
REAL = [(CAMPFIRE, 15), (RUBYGEMS, 56), (COURSEMOLOGY, 176)]
REAL_IDS = ["campfire", "rubygems", "coursemology"]


def load(path: Path) -> Schema:
    if path == CAMPFIRE:  # its create_virtual_table is reported, checked in its own test
        with pytest.warns(SchemaWarning):
            return load_schema_rb(path)
    return load_schema_rb(path)


def test_real_schema_folder_exists() -> None:
    assert SCHEMAS.is_dir(), f"the real Rails schemas are expected in {SCHEMAS}"
    assert [p.exists() for p, _ in REAL] == [True, True, True], f"missing files in {SCHEMAS}"


@pytest.mark.parametrize(("path", "n_tables"), REAL, ids=REAL_IDS)
def test_every_create_table_is_parsed(path: Path, n_tables: int) -> None:
    text = path.read_text(encoding="utf-8")
    grepped = re.findall(r'^\s*create_table "([^"]+)"', text, flags=re.M)
    schema = load(path)
    assert len(schema.tables) == n_tables
    assert list(schema.table_names) == grepped
    assert schema.source == str(path)
    assert schema.associations == ()


@pytest.mark.parametrize(("path", "n_tables"), REAL, ids=REAL_IDS)
def test_every_foreign_key_is_parsed(path: Path, n_tables: int) -> None:
    text = path.read_text(encoding="utf-8")
    lines = re.findall(r"^\s*add_foreign_key .*$", text, flags=re.M)
    schema = load(path)
    assert len(schema.foreign_keys) == len(lines)
    assert [fk.from_table for fk in schema.foreign_keys] == [
        re.match(r'\s*add_foreign_key "([^"]+)"', line).group(1)  # type: ignore[union-attr]
        for line in lines
    ]


@pytest.mark.parametrize(("path", "n_tables"), REAL, ids=REAL_IDS)
def test_table_lines_point_at_create_table(path: Path, n_tables: int) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    for table in load(path).tables:
        assert lines[table.line - 1].lstrip().startswith(f'create_table "{table.name}"')


def test_campfire_spot_checks() -> None:
    with pytest.warns(SchemaWarning) as record:
        schema = load_schema_rb(CAMPFIRE)
    assert [str(w.message) for w in record] == [
        f'{CAMPFIRE}:182: skipped create_virtual_table "message_search_index" '
        "(virtual tables are not modelled)"
    ]
    assert schema.version == "20251212154340"
    accounts = schema.table("accounts")
    assert accounts.columns[0] == Column("id", "bigint", null=False, primary_key=True)
    assert accounts.column("singleton_guard") == Column(
        "singleton_guard", "integer", null=False, default=Default(0)
    )
    assert accounts.indexes == (
        Index("index_accounts_on_singleton_guard", ("singleton_guard",), unique=True),
    )
    assert schema.table("boosts").column("content") == Column(
        "content", "string", null=False, limit=16
    )
    assert schema.table("memberships").column("involvement") == Column(
        "involvement", "string", default=Default("mentions")
    )
    assert schema.table("rooms").column_names == (
        "id",
        "created_at",
        "creator_id",
        "name",
        "type",
        "updated_at",
    )
    assert schema.foreign_keys[:3] == (
        ForeignKey("active_storage_attachments", "active_storage_blobs", "blob_id"),
        ForeignKey("active_storage_variant_records", "active_storage_blobs", "blob_id"),
        ForeignKey("bans", "users", "user_id"),
    )
    assert schema.foreign_keys[5] == ForeignKey("messages", "users", "creator_id")
    assert schema.enums == ()


def test_rubygems_spot_checks() -> None:
    schema = load_schema_rb(RUBYGEMS)
    assert schema.version == "20260818000002"
    api_keys = schema.table("api_keys")
    # No `null: false` in the file, but `t.check_constraint "owner_id IS NOT NULL"`.
    assert api_keys.column("owner_id") == Column("owner_id", "bigint", null=False)
    assert api_keys.column("scopes") == Column("scopes", "string", null=False, array=True)
    assert api_keys.column("expires_at") == Column("expires_at", "datetime")
    assert api_keys.check_constraints[0] == CheckConstraint(
        "owner_id IS NOT NULL", "api_keys_owner_id_null"
    )
    assert api_keys.indexes[1] == Index(
        "index_api_keys_on_name_trigram_for_users",
        ("name",),
        where="((owner_type)::text = 'User'::text)",
        using="gin",
    )
    assert schema.table("good_jobs").columns[0] == Column(
        "id",
        "uuid",
        null=False,
        default=Default("gen_random_uuid()", function=True),
        primary_key=True,
    )
    assert schema.table("deletions").columns[0] == Column(
        "id", "integer", null=False, primary_key=True
    )
    assert schema.table("versions").column("metadata") == Column(
        "metadata", "hstore", null=False, default=Default({})
    )
    assert schema.table("users").column("mfa_hashed_recovery_codes") == Column(
        "mfa_hashed_recovery_codes", "string", default=Default([]), array=True
    )
    assert schema.table("good_job_executions").column("duration") == Column("duration", "interval")
    assert ForeignKey("ownerships", "users", "user_id", on_delete="cascade") in schema.foreign_keys
    assert (
        ForeignKey("linksets", "rubygems", "rubygem_id", name="linksets_rubygem_id_fk")
        in schema.foreign_keys
    )


def test_coursemology_spot_checks() -> None:
    schema = load_schema_rb(COURSEMOLOGY)
    assert schema.version == "20260804222525"
    assert schema.table("attachment_references").columns[:3] == (
        Column(
            "id",
            "uuid",
            null=False,
            default=Default("uuid_generate_v4()", function=True),
            primary_key=True,
        ),
        Column("attachable_id", "integer"),
        Column("attachable_type", "string", limit=255),
    )
    assert schema.table("course_assessment_answer_programming").columns == (
        Column("id", "integer", null=False, primary_key=True),
        Column(
            "codaveri_feedback_job_id", "uuid", comment="The ID of the codaveri code feedback job"
        ),
    )
    assert schema.table("course_forum_discussions").column("embedding") == Column(
        "embedding", "vector", null=False, limit=1536
    )
    assert schema.table("polyglot_languages").column("weight") == Column(
        "weight", "serial", null=False
    )
    assert schema.table("course_assessment_question_text_response_compre_points").column(
        "point_grade"
    ) == Column("point_grade", "decimal", null=False, default=Default("0.0"), precision=4, scale=1)
    assert (
        ForeignKey(
            "course_assessment_answer_programming",
            "jobs",
            "codaveri_feedback_job_id",
            on_delete="nullify",
        )
        in schema.foreign_keys
    )
