"""Deterministic synthetic schemas of any size, and a schema.rb renderer.

Benchmarks need inputs larger than any real schema, with the same texture: varied column
types, nullability, literal and function defaults, indexes, foreign keys, has_one keys,
polymorphic pairs, enums and join tables. :func:`synthetic_schema` builds one from a seed with
:class:`random.Random`, so the same arguments always give an equal Schema (and fingerprint);
:func:`synthetic_schema_rb` renders it as ``schema.rb`` text, so a benchmark can include parsing.
:func:`render_schema_rb` renders any Schema the same way.

How a table is made (table ``i`` in generation order):

* about 4% of tables (from the third on, when ``fk_density > 0``) are join tables: ``id``, two
  keys to two different earlier tables, ``created_at``/``updated_at``, a unique index on the
  key pair and two ``add_foreign_key``;
* every other table has an ``id``; four candidate foreign keys, each kept with probability
  ``fk_density`` and pointing at an earlier table (a third of them at one of the first eight
  "hub" tables), so the foreign keys form a DAG. A second key to the same table takes a role
  name (``reviewer_id``). Keys are indexed (10% unique, which infers a has_one), 85% of
  conventional keys get an ``add_foreign_key`` (the rest are found by naming) and role keys
  always do;
* with probability ``polymorphic_share`` a ``X_type``/``X_id`` pair (``commentable`` ...),
  with probability ``enum_share`` an enum column backed by a ``create_enum`` type;
* two to nine columns drawn from a pool of realistic ones, then the timestamps.

Table names are ``<qualifier>_..._<noun>s`` in a bijective numbering over 112 regular nouns and
104 qualifiers, so they are unique for every allowed size and inflect cleanly both ways
(``archived_invoices`` <-> ``archived_invoice``).
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rrperf.errors import ConfigError
from rrperf.schema.associations import pluralize, singularize
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

__all__ = [
    "MAX_SYNTHETIC_TABLES",
    "SYNTHETIC_FORMAT",
    "SyntheticSpec",
    "render_schema_rb",
    "synthetic_schema",
    "synthetic_schema_rb",
    "synthetic_table_names",
]

logger = logging.getLogger(__name__)

#: Upper bound on ``n_tables``.
MAX_SYNTHETIC_TABLES = 100_000
#: Bumped whenever the generator's output for given parameters changes (part of fingerprints).
SYNTHETIC_FORMAT = 1

# Nouns with regular plurals that inflection round-trips; none is a qualifier, a role or a
# polymorphic name, so generated names never collide and key columns infer their tables.
_NOUNS: tuple[str, ...] = tuple(
    """account invoice order product customer payment shipment warehouse supplier category
    review ticket project task milestone comment message thread channel report budget contract
    vendor employee department team meeting event venue booking reservation room guest course
    lesson quiz answer question grade student teacher enrollment badge reward coupon discount
    cart wishlist bundle listing offer auction bid campaign audience segment newsletter
    subscriber article author editor chapter page section document folder file_asset upload
    video playlist track album artist device sensor reading alert incident deployment release
    build pipeline job worker schedule shift route stop vehicle driver trip parcel label region
    country city address contact lead opportunity note survey poll vote feedback rating plan
    feature permission role token session""".split()
)
_QUALIFIERS: tuple[str, ...] = tuple(
    """archived active pending primary secondary internal external legacy global local regional
    daily weekly monthly yearly draft public private shared custom default featured premium
    basic standard annual quarterly partner vendor_side client remote onsite mobile desktop web
    api batch manual automatic scheduled recurring temporary permanent historical current
    future bulk single multi verified unverified trusted blocked hidden visible pinned starred
    flagged approved rejected submitted reviewed billing shipping marketing sales support
    finance legal hr it ops field retail wholesale online offline beta alpha stable nightly
    test staging live mirror backup cached indexed ranked sorted grouped linked nested root
    leaf north south east west central core edge prime extra""".split()
)
_ROLES = ("creator", "owner", "reviewer", "approver", "assignee", "sender", "recipient", "manager")
_POLYMORPHIC = ("commentable", "attachable", "taggable", "trackable", "notifiable", "reviewable")
_ENUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("status", ("draft", "active", "archived")),
    ("kind", ("standard", "premium", "trial")),
    ("visibility", ("private", "internal", "public")),
    ("priority", ("low", "normal", "high", "urgent")),
)
_NOW = Default("CURRENT_TIMESTAMP", function=True)

# name, type, fixed Column kwargs, null policy ("yes", "no", "random"), unique index?
_POOL: tuple[tuple[str, str, dict[str, Any], str, bool], ...] = (
    ("name", "string", {}, "no", False),
    ("title", "string", {}, "random", False),
    ("description", "text", {}, "yes", False),
    ("body", "text", {}, "random", False),
    ("email", "string", {}, "random", True),
    ("slug", "string", {}, "no", True),
    ("token", "string", {}, "random", True),
    ("position", "integer", {"default": Default(0)}, "no", False),
    ("quantity", "integer", {"default": Default(1)}, "no", False),
    ("views_count", "bigint", {"default": Default(0)}, "no", False),
    ("amount", "decimal", {"precision": 12, "scale": 2, "default": Default("0.0")}, "no", False),
    ("price", "decimal", {"precision": 10, "scale": 2}, "yes", False),
    ("weight", "decimal", {"precision": 8, "scale": 3}, "random", False),
    ("rating", "float", {}, "yes", False),
    ("active", "boolean", {"default": Default(True)}, "no", False),
    ("archived", "boolean", {"default": Default(False)}, "no", False),
    ("metadata", "jsonb", {"default": Default({})}, "no", False),
    ("settings", "json", {}, "yes", False),
    ("published_on", "date", {}, "yes", False),
    ("starts_at", "datetime", {}, "random", False),
    ("ends_at", "datetime", {}, "yes", False),
    ("opens_at", "time", {}, "yes", False),
    ("last_seen_at", "datetime", {"default": _NOW}, "random", False),
    ("external_uuid", "uuid", {"default": Default("gen_random_uuid()", function=True)}, "no", True),
    ("checksum", "binary", {}, "yes", False),
    ("labels", "string", {"array": True, "default": Default([])}, "no", False),
    ("scores", "integer", {"array": True}, "yes", False),
    ("notes", "text", {"comment": "Free-form notes from staff"}, "yes", False),
    ("ip_address", "inet", {}, "yes", False),
    ("color", "string", {"limit": 7, "default": Default("#ffffff")}, "no", False),
    ("locale", "string", {"limit": 10, "default": Default("en")}, "no", False),
    ("expires_at", "datetime", {"precision": 6}, "yes", False),
)


def _check_share(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class SyntheticSpec:
    """The parameters of a synthetic schema, validated; also its scenario-string form.

    The string form is ``synthetic:N`` optionally followed by ``:key=value`` parts for
    ``seed``, ``fk_density``, ``polymorphic_share`` and ``enum_share``, in any order:
    ``synthetic:1000``, ``synthetic:1000:seed=7``, ``synthetic:500:seed=3:fk_density=0.5``.
    ``N`` may use ``_`` separators (``synthetic:10_000``).

    Raises
    ------
    ConfigError
        If ``n_tables`` is not an integer in 1..100_000, ``seed`` is not an integer, or a
        share or density is not a number in [0, 1].
    """

    n_tables: int
    seed: int = 0
    fk_density: float = 0.3
    polymorphic_share: float = 0.1
    enum_share: float = 0.1

    def __post_init__(self) -> None:
        n = self.n_tables
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SYNTHETIC_TABLES:
            raise ConfigError(
                f"n_tables must be an integer between 1 and {MAX_SYNTHETIC_TABLES:_}, got {n!r}"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}")
        for name in ("fk_density", "polymorphic_share", "enum_share"):
            object.__setattr__(self, name, _check_share(name, getattr(self, name)))

    @classmethod
    def parse(cls, text: str) -> SyntheticSpec:
        """Parse ``synthetic:N[:key=value...]``.

        Raises
        ------
        ConfigError
            If the text is malformed or a value is out of range.
        """
        parts = text.split(":")
        if parts[0] != "synthetic" or len(parts) < 2:
            raise ConfigError(f"expected 'synthetic:N[:key=value...]', got {text!r}")
        try:
            n_tables = int(parts[1])
        except ValueError:
            raise ConfigError(
                f"{text!r}: the table count must be an integer, got {parts[1]!r}"
            ) from None
        options: dict[str, Any] = {}
        for part in parts[2:]:
            key, sep, raw = part.partition("=")
            if not sep or key not in _SPEC_KEYS:
                raise ConfigError(
                    f"{text!r}: expected key=value with a key among "
                    f"{', '.join(_SPEC_KEYS)}, got {part!r}"
                )
            try:
                options[key] = int(raw) if key == "seed" else float(raw)
            except ValueError:
                raise ConfigError(f"{text!r}: {key} must be a number, got {raw!r}") from None
        return cls(n_tables, **options)

    @property
    def canonical(self) -> str:
        """The full parameter string; equal specs give equal strings."""
        return (
            f"synthetic:{self.n_tables}:seed={self.seed}:fk_density={self.fk_density!r}"
            f":polymorphic_share={self.polymorphic_share!r}:enum_share={self.enum_share!r}"
        )

    def build(self) -> Schema:
        """The synthetic Schema (``associations`` empty)."""
        return _generate(self)

    def render(self) -> str:
        """The synthetic schema as ``schema.rb`` text."""
        return render_schema_rb(_generate(self))


_SPEC_KEYS = ("seed", "fk_density", "polymorphic_share", "enum_share")


def synthetic_table_names(n_tables: int) -> list[tuple[str, str]]:
    """The first ``n_tables`` regular table names as (plural table name, singular) pairs."""
    n_nouns, n_quals = len(_NOUNS), len(_QUALIFIERS)
    plurals = {noun: pluralize(noun) for noun in _NOUNS}
    names = []
    for k in range(n_tables):
        noun = _NOUNS[k % n_nouns]
        rest = k // n_nouns
        prefix: list[str] = []
        while rest > 0:  # bijective base-n_quals digits: every k gets a distinct prefix
            rest -= 1
            prefix.append(_QUALIFIERS[rest % n_quals])
            rest //= n_quals
        head = "_".join(reversed(prefix))
        if head:
            names.append((f"{head}_{plurals[noun]}", f"{head}_{noun}"))
        else:
            names.append((plurals[noun], noun))
    return names


def _generate(spec: SyntheticSpec) -> Schema:
    rng = random.Random(spec.seed)
    names = iter(synthetic_table_names(spec.n_tables))
    tables: list[Table] = []
    fks: list[ForeignKey] = []
    enums: list[EnumType] = []
    regular: list[tuple[str, str]] = []  # (table, singular) of non-join tables, for targets
    used: set[str] = set()
    id_col = Column("id", "bigint", null=False, primary_key=True)
    timestamps = (Column("created_at", "datetime", null=False),
                  Column("updated_at", "datetime", null=False))
    # Columns are frozen values: equal ones are built once and shared between tables (a
    # Column costs a few microseconds to build, and a 2,000-table schema has ~20,000 of them).
    shared: dict[tuple[str, str, bool], Column] = {}

    for i in range(spec.n_tables):
        if i >= 2 and spec.fk_density > 0 and len(regular) >= 2 and rng.random() < 0.04:
            (a, sa), (b, sb) = rng.sample(regular, 2)
            name = f"{sa}_{b}"
            if name not in used:
                used.add(name)
                ka, kb = f"{sa}_id", f"{sb}_id"
                tables.append(Table(
                    name,
                    (id_col, Column(ka, "bigint", null=False), Column(kb, "bigint", null=False),
                     *timestamps),
                    indexes=(Index(f"index_{name}_on_{ka}_and_{kb}", (ka, kb), unique=True),
                             Index(f"index_{name}_on_{kb}", (kb,))),
                ))
                fks.append(ForeignKey(name, a, ka))
                fks.append(ForeignKey(name, b, kb))
                continue
        table, singular = next(names)
        while table in used:  # a join table took the name (cannot happen with disjoint words)
            table, singular = next(names)
        used.add(table)
        columns: list[Column] = [id_col]
        indexes: list[Index] = []
        checks: list[CheckConstraint] = []
        key_columns: set[str] = set()
        roles = list(_ROLES)

        for _ in range(4):
            if not regular or rng.random() >= spec.fk_density:
                continue
            if rng.random() < 1 / 3:
                target, target_singular = regular[rng.randrange(min(8, len(regular)))]
            else:
                target, target_singular = regular[rng.randrange(len(regular))]
            column = f"{target_singular}_id"
            conventional = column not in key_columns
            if not conventional:
                column = f"{roles.pop(rng.randrange(len(roles)))}_id"
            key_columns.add(column)
            nullable = rng.random() < 0.25
            key_col = shared.get((column, "bigint", nullable))
            if key_col is None:
                key_col = shared[(column, "bigint", nullable)] = Column(column, "bigint",
                                                                        null=nullable)
            columns.append(key_col)
            indexes.append(Index(f"index_{table}_on_{column}", (column,),
                                 unique=rng.random() < 0.1))
            if not conventional or rng.random() < 0.85:
                on_delete = rng.choice((None, None, "cascade", "nullify" if nullable else None))
                fks.append(ForeignKey(table, target, column, on_delete=on_delete))

        if rng.random() < spec.polymorphic_share:
            poly = rng.choice(_POLYMORPHIC)
            columns.append(Column(f"{poly}_type", "string", null=False))
            columns.append(Column(f"{poly}_id", "bigint", null=False))
            indexes.append(Index(f"index_{table}_on_{poly}", (f"{poly}_type", f"{poly}_id")))

        if rng.random() < spec.enum_share:
            field_name, values = rng.choice(_ENUMS)
            enum = EnumType(f"{singular}_{field_name}", values)
            enums.append(enum)
            columns.append(Column(field_name, "enum", null=False, default=Default(values[0]),
                                  enum_type=enum.name, enum_values=values))
            indexes.append(Index(f"index_{table}_on_{field_name}", (field_name,)))

        for col_name, col_type, fixed, null_policy, unique in rng.sample(_POOL, rng.randint(2, 9)):
            null = null_policy == "yes" or (null_policy == "random" and rng.random() < 0.5)
            col = shared.get((col_name, col_type, null))
            if col is None:  # pool names are distinct from key names (no "_id" suffix)
                col = shared[(col_name, col_type, null)] = Column(col_name, col_type, null=null,
                                                                  **fixed)
            columns.append(col)
            if unique:
                indexes.append(Index(f"index_{table}_on_{col_name}", (col_name,), unique=True))
            if col_name == "amount":
                checks.append(CheckConstraint("amount >= 0", f"{table}_amount_non_negative"))

        columns.extend(timestamps)
        tables.append(Table(table, tuple(columns), indexes=tuple(indexes),
                            check_constraints=tuple(checks)))
        regular.append((table, singular))

    version = f"2024{spec.seed % 12 + 1:02d}01{spec.n_tables % 1_000_000:06d}"
    logger.debug("generated %s: %d tables, %d foreign keys", spec.canonical, len(tables), len(fks))
    return Schema(tuple(tables), tuple(fks), tuple(enums), version=version,
                  source=spec.canonical)


def synthetic_schema(
    n_tables: int,
    *,
    seed: int = 0,
    fk_density: float = 0.3,
    polymorphic_share: float = 0.1,
    enum_share: float = 0.1,
) -> Schema:
    """Build a deterministic synthetic schema of ``n_tables`` tables.

    Parameters
    ----------
    n_tables : int
        Number of tables, 1 to 100_000.
    seed : int
        Seed of the :class:`random.Random` that drives every choice.
    fk_density : float
        Probability, in [0, 1], that each of a table's four candidate foreign keys exists
        (0.3 gives about 1.2 foreign keys per table). 0 also disables join tables.
    polymorphic_share : float
        Share of tables, in [0, 1], with a polymorphic ``X_type``/``X_id`` pair.
    enum_share : float
        Share of tables, in [0, 1], with an enum column.

    Returns
    -------
    Schema
        Equal (and with an equal fingerprint) for equal arguments; ``associations`` empty,
        ``source`` the canonical parameter string.

    Raises
    ------
    ConfigError
        If a parameter is out of range.

    Examples
    --------
    >>> s = synthetic_schema(3, seed=1)
    >>> s.table_names
    ('accounts', 'invoices', 'orders')
    >>> s == synthetic_schema(3, seed=1)
    True
    """
    return SyntheticSpec(n_tables, seed, fk_density, polymorphic_share, enum_share).build()


def synthetic_schema_rb(
    n_tables: int,
    *,
    seed: int = 0,
    fk_density: float = 0.3,
    polymorphic_share: float = 0.1,
    enum_share: float = 0.1,
) -> str:
    """:func:`synthetic_schema` rendered as ``schema.rb`` text (see :func:`render_schema_rb`).

    Raises
    ------
    ConfigError
        If a parameter is out of range.
    """
    return SyntheticSpec(n_tables, seed, fk_density, polymorphic_share, enum_share).render()


# --- rendering ---------------------------------------------------------------------------------

_RB_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "#": "#"}


def _rb_str(text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch == "#" and text[i + 1 : i + 2] in {"{", "$", "@"}:
            out.append("\\#")
        else:
            out.append(_RB_ESCAPES.get(ch, ch))
    return '"' + "".join(out) + '"'


def _rb(value: Any) -> str:
    """A Ruby literal for a plain Python value."""
    if value is None:
        return "nil"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _rb_str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_rb(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_rb(str(k))} => {_rb(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot render {value!r} as a Ruby literal")


def _rb_default(default: Default) -> str:
    if default.function:
        return "-> { " + _rb_str(str(default.value)) + " }"
    return _rb(default.value)


def _options(pairs: Sequence[tuple[str, str]]) -> str:
    return "".join(f", {key}: {value}" for key, value in pairs)


def _column_line(col: Column) -> str:
    opts: list[tuple[str, str]] = []
    if col.virtual:
        opts.append(("type", f":{col.type}"))
    if col.limit is not None:
        opts.append(("limit", repr(col.limit)))
    if col.precision is not None:
        opts.append(("precision", repr(col.precision)))
    if col.scale is not None:
        opts.append(("scale", repr(col.scale)))
    if col.default is not None:
        opts.append(("default", _rb_default(col.default)))
    if not col.null:
        opts.append(("null", "false"))
    if col.array:
        opts.append(("array", "true"))
    if col.comment is not None:
        opts.append(("comment", _rb_str(col.comment)))
    if col.enum_type is not None:
        opts.append(("enum_type", _rb_str(col.enum_type)))
    kind = "virtual" if col.virtual else col.type
    return f"    t.{kind} {_rb_str(col.name)}{_options(opts)}"


def _create_table_line(table: Table) -> tuple[str, set[str]]:
    """The ``create_table`` line and the columns it declares implicitly."""
    opts: list[tuple[str, str]] = []
    implicit: set[str] = set()
    pk = table.primary_key
    if not pk:
        opts.append(("id", "false"))
    elif len(pk) > 1:
        opts.append(("primary_key", _rb(list(pk))))
    else:
        col = table.column(pk[0])
        if col is not None and col.type in {"bigint", "integer", "uuid", "string"}:
            implicit.add(col.name)
            if col.name != "id":
                opts.append(("primary_key", _rb_str(col.name)))
            if col.type == "integer":
                opts.append(("id", ":serial"))
            elif col.type != "bigint":
                opts.append(("id", f":{col.type}"))
            if col.default is not None:
                opts.append(("default", _rb_default(col.default)))
            if col.comment is not None:
                opts.append(("comment", _rb_str(col.comment)))
        else:  # an unusual key type: declare the column in the body
            opts.append(("primary_key", _rb_str(pk[0])))
            opts.append(("id", "false"))
    if table.comment is not None:
        opts.append(("comment", _rb_str(table.comment)))
    opts.append(("force", ":cascade"))
    return f"  create_table {_rb_str(table.name)}{_options(opts)} do |t|", implicit


def _index_line(index: Index) -> str:
    target = _rb_str(index.expression) if index.expression else _rb(list(index.columns))
    opts: list[tuple[str, str]] = []
    if index.name is not None:
        opts.append(("name", _rb_str(index.name)))
    if index.unique:
        opts.append(("unique", "true"))
    if index.where is not None:
        opts.append(("where", _rb_str(index.where)))
    if index.using is not None:
        opts.append(("using", f":{index.using}"))
    return f"    t.index {target}{_options(opts)}"


def _version_literal(version: str | None) -> str:
    if version is None or not re.fullmatch(r"\d+", version):
        return "0"
    if len(version) == 14:
        return f"{version[:4]}_{version[4:6]}_{version[6:8]}_{version[8:]}"
    return version


def render_schema_rb(schema: Schema) -> str:
    """Render a Schema as ``db/schema.rb`` text in the Rails 8 dump layout.

    Tables keep the schema's order (a real dump sorts them); associations are not rendered
    (a dump has none). Parsing the text gives back the same tables, columns, indexes, check
    constraints, foreign keys and enums.

    Parameters
    ----------
    schema : Schema
        Any schema.

    Returns
    -------
    str
        The Ruby source, ending with a newline.
    """
    lines = [
        "# This file is auto-generated from the current state of the database. Instead",
        "# of editing this file, please use the migrations feature of Active Record to",
        "# incrementally modify your database, and then regenerate this schema definition.",
        "",
        f"ActiveRecord::Schema[8.0].define(version: {_version_literal(schema.version)}) do",
        "  # These are extensions that must be enabled in order to support this database",
        '  enable_extension "pg_catalog.plpgsql"',
        "",
    ]
    if schema.enums:
        lines.append("  # Custom types defined in this database.")
        lines.append("  # Note that some types may not work with other database engines. "
                     "Be careful if changing database.")
        for enum in schema.enums:
            lines.append(f"  create_enum {_rb_str(enum.name)}, {_rb(list(enum.values))}")
        lines.append("")
    for table in schema.tables:
        head, implicit = _create_table_line(table)
        lines.append(head)
        lines.extend(_column_line(c) for c in table.columns if c.name not in implicit)
        lines.extend(_index_line(ix) for ix in table.indexes)
        for check in table.check_constraints:
            name = _options([("name", _rb_str(check.name))]) if check.name else ""
            lines.append(f"    t.check_constraint {_rb_str(check.expression)}{name}")
        lines.append("  end")
        lines.append("")
    for fk in schema.foreign_keys:
        opts: list[tuple[str, str]] = []
        if fk.column != f"{singularize(fk.to_table)}_id":
            opts.append(("column", _rb_str(fk.column)))
        if fk.primary_key != "id":
            opts.append(("primary_key", _rb_str(fk.primary_key)))
        if fk.name is not None:
            opts.append(("name", _rb_str(fk.name)))
        if fk.on_delete is not None:
            opts.append(("on_delete", f":{fk.on_delete}"))
        if fk.on_update is not None:
            opts.append(("on_update", f":{fk.on_update}"))
        lines.append(
            f"  add_foreign_key {_rb_str(fk.from_table)}, {_rb_str(fk.to_table)}{_options(opts)}"
        )
    if lines[-1] == "":
        lines.pop()
    lines.append("end")
    return "\n".join(lines) + "\n"
