from __future__ import annotations

import warnings
from collections import Counter

import pytest

from rrperf.errors import SchemaWarning
from rrperf.schema.associations import infer_associations
from rrperf.schema.model import Association, Column, ForeignKey, Index, Schema, Table
from rrperf.schema.rails import load_schema_rb
from rrperf.schema.scenarios import REAL_SCHEMA_DIR

A = Association


def table(name: str, *cols: str | Column, indexes: tuple[Index, ...] = (),
          pk: tuple[str, ...] = ("id",)) -> Table:
    columns = [Column("id", "bigint", null=False, primary_key=True)] if pk == ("id",) else []
    for c in cols:
        if isinstance(c, Column):
            columns.append(c)
        else:
            col_name, _, col_type = c.partition(":")
            columns.append(Column(col_name, col_type or "bigint"))
    return Table(name, tuple(columns), primary_key=pk, indexes=indexes)


def infer(*tables: Table, fks: tuple[ForeignKey, ...] = (), **kw: object) -> tuple[A, ...]:
    return infer_associations(Schema(tables, foreign_keys=fks), **kw).associations  # type: ignore[arg-type]


def test_blog_by_naming_only() -> None:
    got = infer(
        table("users", "name:string"),
        table("posts", "user_id", "title:string"),
        table("comments", "post_id", "user_id", "body:text"),
    )
    # Inverses by owner table name, not schema order (issue 14).
    assert got == (
        A("has_many", "users", "comments", "comments", "user_id"),
        A("has_many", "users", "posts", "posts", "user_id"),
        A("belongs_to", "posts", "user", "users", "user_id"),
        A("has_many", "posts", "comments", "comments", "post_id"),
        A("belongs_to", "comments", "post", "posts", "post_id"),
        A("belongs_to", "comments", "user", "users", "user_id"),
    )


def test_foreign_key_with_custom_column_and_disambiguation() -> None:
    got = infer(
        table("users"),
        table("messages", "creator_id", "user_id", "editor_id", "body:text"),
        fks=(
            ForeignKey("messages", "users", "creator_id"),
            ForeignKey("messages", "users", "user_id"),
            ForeignKey("messages", "users", "editor_id"),
        ),
    )
    assert got == (
        A("has_many", "users", "messages_as_creator", "messages", "creator_id"),
        A("has_many", "users", "messages", "messages", "user_id"),
        A("has_many", "users", "messages_as_editor", "messages", "editor_id"),
        A("belongs_to", "messages", "creator", "users", "creator_id"),
        A("belongs_to", "messages", "user", "users", "user_id"),
        A("belongs_to", "messages", "editor", "users", "editor_id"),
    )


def test_single_non_conventional_inverse_keeps_plain_name() -> None:
    got = infer(table("users"), table("rooms", "creator_id"),
                fks=(ForeignKey("rooms", "users", "creator_id"),))
    assert got == (
        A("has_many", "users", "rooms", "rooms", "creator_id"),
        A("belongs_to", "rooms", "creator", "users", "creator_id"),
    )


def test_creator_id_without_fk_is_not_an_association() -> None:
    assert infer(table("users"), table("rooms", "creator_id")) == ()


def test_foreign_key_column_without_id_suffix() -> None:
    got = infer(table("people"), table("cars", "owner:bigint"),
                fks=(ForeignKey("cars", "people", "owner"),))
    assert got == (
        A("has_many", "people", "cars", "cars", "owner"),
        A("belongs_to", "cars", "person", "people", "owner"),
    )


def test_irregular_plural_and_unique_index_gives_has_one() -> None:
    got = infer(
        table("people"),
        table("profiles", "person_id",
              indexes=(Index("ix", ("person_id",), unique=True),)),
        table("addresses", "person_id", indexes=(Index("ix2", ("person_id",)),)),
        table("badges", "person_id",
              indexes=(Index("ix3", ("person_id", "kind"), unique=True),)),
    )
    assert got == (
        A("has_many", "people", "addresses", "addresses", "person_id"),
        A("has_many", "people", "badges", "badges", "person_id"),
        A("has_one", "people", "profile", "profiles", "person_id"),
        A("belongs_to", "profiles", "person", "people", "person_id"),
        A("belongs_to", "addresses", "person", "people", "person_id"),
        A("belongs_to", "badges", "person", "people", "person_id"),
    )


def test_shared_primary_key_is_has_one() -> None:
    got = infer(table("users"), table("user_settings", "user_id", pk=("user_id",)),
                fks=(ForeignKey("user_settings", "users", "user_id"),))
    assert got == (
        A("has_one", "users", "user_setting", "user_settings", "user_id"),
        A("belongs_to", "user_settings", "user", "users", "user_id"),
    )


def test_primary_key_id_column_without_fk_is_skipped() -> None:
    assert infer(table("users"), table("user_stats", "user_id", pk=("user_id",))) == ()


def test_polymorphic_with_and_without_config() -> None:
    tables = (
        table("posts"),
        table("photos"),
        table("comments", "commentable_type:string", "commentable_id", "post_id"),
    )
    got = infer(*tables)
    assert got == (
        A("has_many", "posts", "comments", "comments", "post_id"),
        A("belongs_to", "comments", "commentable", None, "commentable_id", polymorphic=True),
        A("belongs_to", "comments", "post", "posts", "post_id"),
    )
    got = infer(*tables, polymorphic_types={"commentable": ["posts", "photos"]})
    assert got == (
        A("has_many", "posts", "comments_as_commentable", "comments", "commentable_id",
          as_name="commentable"),
        A("has_many", "posts", "comments", "comments", "post_id"),
        A("has_many", "photos", "comments", "comments", "commentable_id", as_name="commentable"),
        A("belongs_to", "comments", "commentable", None, "commentable_id", polymorphic=True,
          polymorphic_types=("posts", "photos")),
        A("belongs_to", "comments", "post", "posts", "post_id"),
    )


def test_qualified_polymorphic_key_wins_and_unknown_target_warns() -> None:
    tables = (table("posts"), table("notes", "subject_type:text", "subject_id"),
              table("events", "subject_type:citext", "subject_id"))
    with pytest.warns(SchemaWarning, match=r"notes.subject names table 'ghosts'"):
        got = infer(*tables, polymorphic_types={"subject": ["posts"], "notes.subject": ["ghosts"]})
    assert got == (
        A("has_many", "posts", "events", "events", "subject_id", as_name="subject"),
        A("belongs_to", "notes", "subject", None, "subject_id", polymorphic=True,
          polymorphic_types=("ghosts",)),
        A("belongs_to", "events", "subject", None, "subject_id", polymorphic=True,
          polymorphic_types=("posts",)),
    )


def test_integer_type_column_is_not_polymorphic() -> None:
    got = infer(table("fees"), table("adjusted_fees", "fee_type:integer", "fee_id"),
                table("things", "widget_type:integer", "widget_id"))
    assert got == (
        A("has_many", "fees", "adjusted_fees", "adjusted_fees", "fee_id"),
        A("belongs_to", "adjusted_fees", "fee", "fees", "fee_id"),
    )


def test_self_reference() -> None:
    got = infer(table("categories", "parent_id", "name:string"),
                fks=(ForeignKey("categories", "categories", "parent_id"),))
    assert got == (
        A("belongs_to", "categories", "parent", "categories", "parent_id"),
        A("has_many", "categories", "categories", "categories", "parent_id"),
    )


def test_join_table_gives_has_many_through() -> None:
    got = infer(
        table("posts", "title:string"),
        table("tags", "name:string"),
        table("taggings", "post_id", "tag_id", "created_at:datetime", "updated_at:datetime"),
        fks=(ForeignKey("taggings", "posts", "post_id"), ForeignKey("taggings", "tags", "tag_id")),
    )
    assert got == (
        A("has_many", "posts", "taggings", "taggings", "post_id"),
        A("has_many_through", "posts", "tags", "tags", "post_id", through="taggings",
          source="tag"),
        A("has_many", "tags", "taggings", "taggings", "tag_id"),
        A("has_many_through", "tags", "posts", "posts", "tag_id", through="taggings",
          source="post"),
        A("belongs_to", "taggings", "post", "posts", "post_id"),
        A("belongs_to", "taggings", "tag", "tags", "tag_id"),
    )


def test_table_with_extra_column_is_not_a_join_table() -> None:
    got = infer(table("posts"), table("tags"),
                table("taggings", "post_id", "tag_id", "weight:integer"))
    assert [a.kind for a in got].count("has_many_through") == 0
    assert len(got) == 4


def test_self_join_table_and_through_name_collision() -> None:
    got = infer(
        table("users"),
        table("follows", "follower_id", "followed_id", pk=()),
        table("groups", "user_id"),
        table("memberships", "user_id", "group_id", "id"),
        fks=(ForeignKey("follows", "users", "follower_id"),
             ForeignKey("follows", "users", "followed_id")),
    )
    assert got == (
        A("has_many", "users", "follows_as_follower", "follows", "follower_id"),
        A("has_many", "users", "follows_as_followed", "follows", "followed_id"),
        A("has_many", "users", "groups", "groups", "user_id"),
        A("has_many", "users", "memberships", "memberships", "user_id"),
        A("has_many_through", "users", "followers", "users", "followed_id", through="follows",
          source="follower"),
        A("has_many_through", "users", "followeds", "users", "follower_id", through="follows",
          source="followed"),
        A("has_many_through", "users", "groups_through_memberships", "groups", "user_id",
          through="memberships", source="group"),
        A("belongs_to", "follows", "follower", "users", "follower_id"),
        A("belongs_to", "follows", "followed", "users", "followed_id"),
        A("belongs_to", "groups", "user", "users", "user_id"),
        A("has_many", "groups", "memberships", "memberships", "group_id"),
        A("has_many_through", "groups", "users", "users", "group_id", through="memberships",
          source="user"),
        A("belongs_to", "memberships", "user", "users", "user_id"),
        A("belongs_to", "memberships", "group", "groups", "group_id"),
    )


def test_fk_to_missing_table_is_ignored_and_names_stay_unique() -> None:
    got = infer(table("posts", "blog_id"), fks=(ForeignKey("posts", "blogs", "blog_id"),))
    assert got == ()


def test_names_unique_per_table_on_every_clash() -> None:
    # "sheep" is uncountable: has_one "sheep" (from sheep) and has_many "sheep" collide.
    got = infer(
        table("farms"),
        table("sheep", "farm_id", indexes=(Index(None, ("farm_id",), unique=True),)),
        table("barns", "farm_id"),
    )
    names = [(a.table, a.name) for a in got]
    assert len(names) == len(set(names))
    assert got[:2] == (
        A("has_many", "farms", "barns", "barns", "farm_id"),
        A("has_one", "farms", "sheep", "sheep", "farm_id"),
    )


def test_existing_associations_are_replaced_and_input_unchanged() -> None:
    schema = Schema((table("users"), table("posts", "user_id")),
                    associations=(A("has_many", "users", "old", "posts", "user_id"),),
                    version="1", source="x.rb")
    out = infer_associations(schema)
    assert out.associations == (
        A("has_many", "users", "posts", "posts", "user_id"),
        A("belongs_to", "posts", "user", "users", "user_id"),
    )
    assert (out.tables, out.version, out.source) == (schema.tables, "1", "x.rb")
    assert schema.associations[0].name == "old"
    assert out.table("posts") is schema.table("posts")


@pytest.mark.parametrize("seed", range(6))
def test_same_associations_whatever_the_order_of_tables_and_keys(seed: int) -> None:
    # A database lists tables and foreign keys in catalog order, a schema.rb alphabetically:
    # each table must get the same associations, names and order either way (issue 14).
    import random

    tables = [
        table("users"),
        table("topics", "user_id", "creator_id", "forum_id"),
        table("forums", "user_id"),
        table("posts", "topic_id", "user_id", "editor_id"),
        table("memberships", "user_id", "forum_id"),
        table("tags", "user_id"),
        table("topic_users", "topic_id", "user_id"),
    ]
    fks = [
        ForeignKey("topics", "users", "creator_id"),
        ForeignKey("topics", "users", "user_id"),
        ForeignKey("posts", "users", "editor_id"),
        ForeignKey("posts", "users", "user_id"),
        ForeignKey("posts", "topics", "topic_id"),
    ]
    baseline = infer(*sorted(tables, key=lambda t: t.name), fks=tuple(fks))
    rng = random.Random(seed)
    rng.shuffle(tables)
    rng.shuffle(fks)
    got = infer(*tables, fks=tuple(fks))
    for t in tables:
        assert [a for a in got if a.table == t.name] == [a for a in baseline if a.table == t.name]
    assert sorted(got, key=repr) == sorted(baseline, key=repr)
    users = [(a.kind, a.name, a.foreign_key) for a in baseline if a.table == "users"]
    assert users == [
        ("has_many", "forums", "user_id"),
        ("has_many", "memberships", "user_id"),
        ("has_many", "posts", "user_id"),
        ("has_many", "posts_as_editor", "editor_id"),
        ("has_many", "tags", "user_id"),
        ("has_many", "topic_users", "user_id"),
        ("has_many", "topics", "user_id"),
        ("has_many", "topics_as_creator", "creator_id"),
        ("has_many_through", "forums_through_memberships", "user_id"),
        ("has_many_through", "topics_through_topic_users", "user_id"),
    ]


def test_deterministic() -> None:
    tables = (table("users"), table("posts", "user_id", "editor_id"))
    fks = (ForeignKey("posts", "users", "editor_id"),)
    assert infer(*tables, fks=fks) == infer(*tables, fks=fks)


SCHEMAS = REAL_SCHEMA_DIR  # shipped in the package: rrperf/data/scenarios/real


def real(file_name: str) -> Schema:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SchemaWarning)  # skipped virtual tables etc.
        return infer_associations(load_schema_rb(SCHEMAS / file_name))


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("Coursemology__coursemology2__schema.rb",
         {"belongs_to": 354, "has_many": 315, "has_many_through": 32, "has_one": 24,
          "polymorphic": 15}),
        ("basecamp__once-campfire__schema.rb",
         {"belongs_to": 14, "has_many": 12, "polymorphic": 2}),
        ("rubygems__rubygems.org__schema.rb",
         {"belongs_to": 58, "has_many": 51, "has_many_through": 4, "has_one": 1,
          "polymorphic": 6}),
    ],
)
def test_counts_on_real_schemas(file_name: str, expected: dict[str, int]) -> None:
    schema = real(file_name)
    counts = Counter(a.kind for a in schema.associations)
    counts["polymorphic"] = sum(a.polymorphic for a in schema.associations)
    assert dict(counts) == expected
    names = [(a.table, a.name) for a in schema.associations]
    assert len(names) == len(set(names))


def test_coursemology_details() -> None:
    schema = real("Coursemology__coursemology2__schema.rb")
    assert len(schema.associations_of("users")) == 143
    links = [(a.kind, a.name, a.target) for a in schema.associations_of("course_assessments")
             if a.through == "course_assessment_links" or
             a.target == "course_assessment_links"]
    assert links == [
        ("has_many", "course_assessment_links_as_assessment", "course_assessment_links"),
        ("has_many", "course_assessment_links_as_linked_assessment", "course_assessment_links"),
        ("has_many_through", "assessments", "course_assessments"),
        ("has_many_through", "linked_assessments", "course_assessments"),
    ]
    assert [a.name for a in schema.associations if a.polymorphic] == [
        "object", "attachable", "actable", "actable", "source", "actable", "actable",
        "conditional", "actable", "actable", "actable", "owner", "actable", "readable", "reader"]


# --- compiled inflection: the same first matching rule as inflection's own ------------------


def _inflection_words() -> list[str]:
    from rrperf.schema.synthetic import synthetic_table_names

    words = [w for pair in synthetic_table_names(3000) for w in pair]
    for path in sorted(REAL_SCHEMA_DIR.glob("*.rb")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SchemaWarning)  # campfire's virtual table
            schema = load_schema_rb(path)
        words += [t.name for t in schema.tables]
        words += [c.name for t in schema.tables for c in t.columns]
    ends = ["zombies", "kine", "KINE", "kInE", "Cow", "oxen", "Oxen\n", "axes", "AXIS",
            "crises", "testes", "shoes", "oes", "buses", "bus", "mice", "LICE", "boxes",
            "churches", "misses", "wishes", "movies", "series", "flies", "quies", "wolves",
            "knives", "tives", "hives", "theses", "synopsis", "bases", "analyses", "data",
            "media", "news", "ss", "s", "S", "", "x", "person", "quiz", "octopus", "virus",
            "status", "alias", "passerby", "matrix", "vertex", "buffalo", "fe", "lf", "y",
            "\u017f", "\u0131es", "\u00e9s", "caf\u00e9", "s\n", "a_b_cs"]
    return words + [head + end for head in ("", "user_", "Big", "x") for end in ends]


@pytest.mark.parametrize("extra", [
    [],
    # rules an application adds (inflection.singular/plural put them first): verbose and
    # multi-line flags, a scoped flag, a choice at the top, a back-reference, a repeat,
    # a negated set, \Z, a non-ASCII literal
    [(r"(?i)(octop)odes$", r"\1us"), (r"(?x) (c) acti $", r"\1actus"), (r"(?m)ees$", "ee"),
     (r"(?i:S)ES$", "S"), (r"(?i)(quiz)zes|foo$", r"\1"), (r"(a)\1s$", "aa"),
     (r"ab{2}s$", "abb"), (r"[^aeiou]ks$", "k"), (r"(?i)geese\Z", "goose"),
     (r"(?i)\u00e9s$", "\u00e9"), (r"(?i)(x)(ies)?$", r"\1")],
], ids=["inflection", "added rules"])
def test_compiled_inflection_matches_inflection_for_every_word(
    extra: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import inflection

    from rrperf.schema import associations

    monkeypatch.setattr(inflection, "SINGULARS", extra + list(inflection.SINGULARS))
    monkeypatch.setattr(inflection, "PLURALS", extra + list(inflection.PLURALS))
    words = _inflection_words()
    assert [associations.singularize(w) for w in words] == [
        inflection.singularize(w) for w in words]
    assert [associations.pluralize(w) for w in words] == [inflection.pluralize(w) for w in words]


def test_required_endings_read_from_the_expressions() -> None:
    import re

    from rrperf.schema.associations import _required_endings

    def endings(rule: str) -> tuple[tuple[str, ...] | None, bool]:
        return _required_endings(re.compile(rule))

    assert endings(r"(?i)(m|l)ice$") == (("lice", "mice"), True)
    assert endings(r"(?i)(alias|status)(es)?$") == (
        ("alias", "aliases", "status", "statuses"), True)
    assert endings(r"(?i)([^aeiouy]|qu)ies$") == (("ies", "quies"), True)
    assert endings(r"c[oO][wW]$") == (("cOW", "cOw", "coW", "cow"), False)
    assert endings(r"(?i)SS\Z") == (("ss",), True)
    # nothing to go by: no end anchor, an optional whole, a choice at the top, multi-line,
    # a scoped flag, a back-reference
    for rule in [r"(?i)^(ox)en", r"(?i)(bus)?$", r"$", r"s$|x", r"(?m)s$", r"(?i:s)$",
                 r"(a)\1$"]:
        assert endings(rule)[0] is None, rule
    # at most 32 endings: the last five characters here (64 of six)
    many = endings(r"[ab][cd][ef][gh][ij][kl]$")[0]
    assert many is not None and len(many) == 32 and {len(e) for e in many} == {5}
    assert endings(r"(?i:S)ES$") == (("ES",), False)
