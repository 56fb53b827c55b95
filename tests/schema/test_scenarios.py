from __future__ import annotations

import dataclasses
import warnings
from collections import Counter
from pathlib import Path

import pytest

from rrperf.errors import SchemaSourceError, SchemaWarning
from rrperf.schema.rails import load_schema_rb
from rrperf.schema.scenarios import (
    REAL_SCHEMA_DIR,
    SCENARIO_DIR,
    SCENARIOS,
    ResolvedScenario,
    Scenario,
    get_scenario,
    list_scenarios,
    resolve_scenario,
    scenario_label,
)
from rrperf.schema.sources import load_schema

BUILTINS = ("small", "medium", "large", "polymorphic_heavy")
REAL = ("campfire", "rubygems", "coursemology")


def test_registry_is_explicit_and_ordered() -> None:
    assert tuple(SCENARIOS) == (*BUILTINS, *REAL)
    assert [s.name for s in list_scenarios()] == [*BUILTINS, *REAL, "synthetic:1000"]
    assert [s.expected_models for s in list_scenarios()] == [4, 10, 18, 14, 15, 56, 176, 1000]
    assert list_scenarios()[-1] == Scenario(
        "synthetic:1000", "synthetic schema with 1000 tables", None, 1000, 1000, "synthetic")


def test_scenario_files_are_in_the_package_and_the_data_symlink() -> None:
    assert SCENARIO_DIR == Path(__file__).resolve().parents[2] / "rrperf" / "data" / "scenarios"
    for name in BUILTINS:
        scenario = SCENARIOS[name]
        assert scenario.path == SCENARIO_DIR / f"{name}.rb"
        assert scenario.path.is_file()
        assert scenario.synthetic_size is None
        assert (Path(__file__).resolve().parents[2] / "data" / "scenarios" / f"{name}.rb").is_file()


def test_real_schemas_ship_in_the_package_with_attribution() -> None:
    assert REAL_SCHEMA_DIR == SCENARIO_DIR / "real"
    files = {
        "campfire": "basecamp__once-campfire__schema.rb",
        "rubygems": "rubygems__rubygems.org__schema.rb",
        "coursemology": "Coursemology__coursemology2__schema.rb",
    }
    readme = (REAL_SCHEMA_DIR / "README.md").read_text(encoding="utf-8")
    licences = (REAL_SCHEMA_DIR / "LICENSES.md").read_text(encoding="utf-8")
    for name, file_name in files.items():
        scenario = SCENARIOS[name]
        assert scenario.path == REAL_SCHEMA_DIR / file_name
        assert scenario.origin.endswith(", MIT")
        assert f"| `{name}` | `{file_name}` |" in readme
        assert f"(`{file_name}`)" in licences
    assert sorted(p.name for p in REAL_SCHEMA_DIR.iterdir()) == sorted(
        [*files.values(), "LICENSES.md", "README.md"])
    assert licences.count("The above copyright notice and this permission notice shall be") == 3


@pytest.mark.parametrize("name", REAL)
def test_real_scenarios_load_with_expected_models(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)  # campfire's skipped virtual table
        schema = load_schema(name)
    assert len(schema.tables) == SCENARIOS[name].expected_models
    assert schema.source == str(SCENARIOS[name].path)


def test_scenario_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCENARIOS["small"].name = "x"  # type: ignore[misc]


@pytest.mark.parametrize("name", BUILTINS)
def test_each_scenario_loads_with_expected_models(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the files parse cleanly, no skipped statements
        schema = load_schema(name)
    assert len(schema.tables) == SCENARIOS[name].expected_models
    assert schema.source == str(SCENARIOS[name].path)
    raw = load_schema_rb(SCENARIOS[name].path)  # type: ignore[arg-type]
    assert len(raw.tables) == len(schema.tables)


def assoc_counts(name: str) -> dict[str, int]:
    schema = load_schema(name)
    counts = Counter(a.kind for a in schema.associations)
    counts["polymorphic"] = sum(a.polymorphic for a in schema.associations)
    return dict(counts)


def test_exact_inference_counts_per_scenario() -> None:
    assert assoc_counts("small") == {"belongs_to": 4, "has_many": 3, "has_one": 1,
                                     "polymorphic": 0}
    assert assoc_counts("medium") == {"belongs_to": 12, "has_many": 11, "has_one": 1,
                                      "has_many_through": 2, "polymorphic": 0}
    assert assoc_counts("large") == {"belongs_to": 31, "has_many": 30, "has_one": 1,
                                     "has_many_through": 4, "polymorphic": 0}
    assert assoc_counts("polymorphic_heavy") == {"belongs_to": 25, "has_many": 14,
                                                 "polymorphic": 11}


def test_scenarios_exercise_the_features_they_promise() -> None:
    small = load_schema("small")
    assert [(a.kind, a.name) for a in small.associations_of("users")] == [
        ("has_many", "comments"), ("has_many", "posts"), ("has_one", "profile")]
    medium = load_schema("medium")
    assert [(a.name, a.target, a.through) for a in medium.associations
            if a.kind == "has_many_through"] == [
        ("products", "products", "product_categories"),
        ("categories", "categories", "product_categories")]
    assert ("belongs_to", "parent", "categories") in [
        (a.kind, a.name, a.target) for a in medium.associations_of("categories")]
    large = load_schema("large")
    assert {e.name for e in large.enums} == {"membership_role", "task_priority", "task_state"}
    assert [a.name for a in large.associations_of("users") if a.kind == "has_many"][:4] == [
        "attachments", "audit_events", "comments", "memberships"]
    heavy = load_schema("polymorphic_heavy")
    assert [a.name for a in heavy.associations if a.polymorphic] == [
        "trackable", "owner", "attachable", "bookmarkable", "commentable", "mentionable",
        "notifiable", "actor", "reactable", "reportable", "taggable"]
    # attachments.storage_type is an integer: storage_id is not polymorphic
    assert "storage" not in [a.name for a in heavy.associations_of("attachments")]
    features = [c for s in (small, medium, large, heavy) for t in s.tables for c in t.columns]
    assert {"enum", "json", "jsonb", "decimal", "citext", "inet", "uuid", "binary"} <= {
        c.type for c in features}
    assert any(c.array for c in features)
    assert any(c.default is not None and c.default.function for c in features)


def test_get_scenario_synthetic_forms() -> None:
    assert get_scenario("synthetic:250") == Scenario(
        "synthetic:250", "synthetic schema with 250 tables", None, 250, 250, "synthetic")
    scenario = get_scenario("synthetic:30:seed=7")
    assert scenario.description == ("synthetic schema with 30 tables (synthetic:30:seed=7:"
                                    "fk_density=0.3:polymorphic_share=0.1:enum_share=0.1)")
    assert (scenario.expected_models, scenario.synthetic_size, scenario.path) == (30, 30, None)


UNKNOWN_SMAL = (
    "unknown scenario 'smal' (and no such file); valid names: small, medium, large, "
    "polymorphic_heavy, campfire, rubygems, coursemology, synthetic:N[:key=value...]; "
    "or a schema.rb or SQLite path, a Rails app folder, or a database URL"
)


def test_unknown_scenario_lists_valid_names() -> None:
    for resolve in (get_scenario, resolve_scenario, load_schema):
        with pytest.raises(SchemaSourceError) as info:
            resolve("smal")
        assert str(info.value) == UNKNOWN_SMAL


def test_resolver_names_synthetic_and_urls() -> None:
    campfire = resolve_scenario("campfire")
    assert campfire == ResolvedScenario(
        "campfire", str(SCENARIOS["campfire"].path), "named", SCENARIOS["campfire"].description,
        schema_rb=SCENARIOS["campfire"].path,
    )
    assert resolve_scenario("synthetic:7:seed=2") == ResolvedScenario(
        "synthetic:7:seed=2", "synthetic:7:seed=2", "synthetic",
        "synthetic schema with 7 tables (synthetic:7:seed=2:fk_density=0.3:"
        "polymorphic_share=0.1:enum_share=0.1)", synthetic_size=7,
    )
    url = resolve_scenario("postgresql://app:s3cret@db.example/app_production")
    assert url == ResolvedScenario(
        "postgresql://app:***@db.example/app_production",
        "postgresql://app:s3cret@db.example/app_production", "database",
        "database postgresql://app:***@db.example/app_production",
    )
    assert resolve_scenario("sqlite:///x.db").label == "sqlite:///x.db"


def test_resolver_paths_are_labelled_by_their_stem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = tmp_path / "shop"
    (app / "db").mkdir(parents=True)
    rb = app / "db" / "schema.rb"
    rb.write_text("ActiveRecord::Schema.define do\nend\n")
    db = tmp_path / "app.sqlite3"
    db.write_bytes(b"")
    assert resolve_scenario(str(rb)) == ResolvedScenario(
        "schema", str(rb), "path", "schema file schema.rb", schema_rb=rb)
    assert resolve_scenario(str(app)) == ResolvedScenario(
        "shop", str(app), "path", f"schema file {rb}", schema_rb=rb)
    assert resolve_scenario(str(db)) == ResolvedScenario(
        "app", str(db), "path", "schema file app.sqlite3")
    # a listed name wins over a file of the same name, unless written as a path
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small").write_text("ActiveRecord::Schema.define do\nend\n")
    assert resolve_scenario("small").kind == "named"
    assert resolve_scenario("./small") == ResolvedScenario(
        "small", "./small", "path", "schema file small")
    assert scenario_label("db/schema.rb") == "schema"
    with pytest.raises(SchemaSourceError, match=r"^unknown scenario 'missing/schema.rb' \(and "
                       r"no such file\); valid names: small, "):
        resolve_scenario("missing/schema.rb")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SchemaSourceError, match="empty is a folder without db/schema.rb"):
        resolve_scenario(str(tmp_path / "empty"))
    with pytest.raises(SchemaSourceError, match="a scenario must be a non-empty string"):
        resolve_scenario("")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("synthetic:lots", r"invalid synthetic scenario 'synthetic:lots': .*table count must be"),
        ("synthetic:0", r"invalid synthetic scenario 'synthetic:0': n_tables must be"),
        ("synthetic", r"invalid synthetic scenario 'synthetic'"),
    ],
)
def test_bad_synthetic_scenario(name: str, message: str) -> None:
    with pytest.raises(SchemaSourceError, match=message) as info:
        get_scenario(name)
    assert type(info.value.__cause__).__name__ == "ConfigError"
