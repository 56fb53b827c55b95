"""Model names, file stems, quoting and deterministic collision handling."""

from __future__ import annotations

import pytest

from rrperf.generator.naming import (
    assign_model_names,
    derived_files,
    derived_identifiers,
    kebab_name,
    model_name,
    ts_property,
    ts_string,
)


@pytest.mark.parametrize(
    ("table", "model", "kebab"),
    [
        ("users", "User", "user"),
        ("user_profiles", "UserProfile", "user-profile"),
        ("people", "Person", "person"),
        ("UserProfiles", "UserProfile", "user-profile"),
        ("news", "News", "news"),
        ("records", "Record", "record"),
        ("foo-bar", "FooBar", "foo-bar"),
        ("2fa_codes", "T2faCode", "2fa-code"),
        ("public.accounts", "PublicAccount", "public.account"),
        ("../x", "X", "../x"),
        ("___", "Model", "---"),
        ("a__b", "AB", "a--b"),
    ],
)
def test_model_and_kebab_names(table: str, model: str, kebab: str) -> None:
    assert model_name(table) == model
    assert kebab_name(table) == kebab


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("email", "email"),
        ("Club_Name", "Club_Name"),
        ("type", "type"),
        ("default", "default"),
        ("class", "class"),
        ("$ok", "$ok"),
        ("foo-bar", "'foo-bar'"),
        ("with space", "'with space'"),
        ("1abc", "'1abc'"),
        ("it's", "'it\\'s'"),
        ("", "''"),
    ],
)
def test_ts_property(name: str, expected: str) -> None:
    assert ts_property(name) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "'plain'"),
        ("a'b", "'a\\'b'"),
        ('a"b', "'a\"b'"),
        ("a\\b", "'a\\\\b'"),
        ("line\nbreak\ttab", "'line\\nbreak\\ttab'"),
        ("\u2028", "'\\u2028'"),
        ("é", "'é'"),
    ],
)
def test_ts_string(text: str, expected: str) -> None:
    assert ts_string(text) == expected


def test_derived_names() -> None:
    assert derived_identifiers("User") == (
        "User", "UserConfig", "UserRecord", "ReactiveUser", "ReactiveUserConfig", "UserData",
        "CreateUserData", "UpdateUserData",
    )
    assert derived_files("user") == ("types/user-data.ts", "user.ts", "reactive-user.ts")


def test_collisions_are_resolved_deterministically() -> None:
    names = assign_model_names(
        ["persons", "people", "reactive_users", "users", "index", "base_records", "models"]
    )
    assert dict(names) == {
        "persons": ("Persons", "persons"),
        "people": ("Person", "person"),
        "reactive_users": ("ReactiveUsers", "reactive-users"),
        "users": ("User", "user"),
        "index": ("Index2", "index-2"),
        "base_records": ("BaseRecords", "base-records"),
        "models": ("Models", "models"),
    }
    assert list(names) == ["persons", "people", "reactive_users", "users", "index",
                           "base_records", "models"]


def test_names_do_not_depend_on_table_order() -> None:
    tables = ["persons", "people", "Users", "users", "user"]
    assert dict(assign_model_names(tables)) == dict(assign_model_names(reversed(tables)))


def test_case_insensitive_file_clash_gets_a_suffix() -> None:
    names = assign_model_names(["Users", "users", "user"])
    # All three singularize to User/user; the plural candidates "Users"/"users" clash too.
    assert dict(names) == {
        "Users": ("User", "user"),
        "user": ("User2", "user-2"),
        "users": ("Users", "users"),
    }


def test_every_assignment_is_unique() -> None:
    tables = [f"t{i}" for i in range(5)] + ["t_1s", "t1", "T1", "t1s"]
    names = assign_model_names(tables)
    models = [m for m, _ in names.values()]
    kebabs = [k.casefold() for _, k in names.values()]
    assert len(set(models)) == len(models)
    assert len(set(kebabs)) == len(kebabs)


@pytest.mark.parametrize(
    "module",
    [
        "rrperf.generator.naming",
        "rrperf.generator.typemap",
        "rrperf.generator.writer",
        "rrperf.generator.digest",
    ],
)
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


def test_a_table_never_takes_the_runtime_declarations_file_name() -> None:
    from rrperf.generator.naming import RESERVED_FILES
    from rrperf.generator.runtime_file import RUNTIME_PATH

    assert RUNTIME_PATH in RESERVED_FILES
    names = assign_model_names(["rrperf_runtime.d", "users"])
    assert names["rrperf_runtime.d"] == ("RrperfRuntimeD2", "rrperf-runtime.d-2")
