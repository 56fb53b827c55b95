"""Infer ActiveRecord associations from columns and foreign keys.

A schema dump says nothing about associations; Rails apps declare them in model classes. This
module recovers the conventional ones from the schema alone, with Rails' own inflector rules
(the ``inflection`` package), and no list of known model names.

Rules, applied to every table in schema order and every column in column order:

* **belongs_to from a foreign key.** ``add_foreign_key "messages", "users", column:
  "creator_id"`` gives ``messages belongs_to creator`` targeting ``users``: the name is the
  column minus ``_id`` (for a key column without ``_id``, the singular of the target table).
* **belongs_to by naming.** An ``X_id`` column with no foreign key, which is not the table's
  whole primary key, gives ``belongs_to X`` when ``pluralize(X)`` is a table.
* **polymorphic belongs_to.** ``X_id`` next to a string-typed (``string``, ``text``,
  ``citext``) ``X_type`` column gives a polymorphic ``belongs_to X`` (target ``None``). An
  integer ``X_type`` is an enum, not a type name, so then the naming rule above applies.
  The possible targets come from ``polymorphic_types``: the key ``"<owner table>.X"`` wins
  over the key ``"X"``; a schema alone cannot tell them.
* **inverse has_many / has_one.** Every non-polymorphic belongs_to gives its target a
  ``has_many`` named after the owner table, or a ``has_one`` named after the singular of the
  owner table when the key column carries a unique single-column index (or is the whole
  primary key). Every configured target of a polymorphic belongs_to gets a ``has_many`` named
  after the owner table with ``as_name=X``.
* **has_many through.** A join table whose only columns are two belongs_to keys plus any of
  ``id``, ``created_at``, ``updated_at`` gives each of the two targets a ``has_many_through``
  of the other, through the join table, named ``pluralize(<other belongs_to name>)`` with
  ``source`` set to that belongs_to name. ``foreign_key`` is the join-table column that points
  back at the owner.

**Naming collisions.** Association names are unique per table (they are not checked against
column names: a ``user`` column beside ``user_id`` may coexist with ``belongs_to user``, and
the generator decides how to expose both). When several inverses on one table would share a
name, the conventional one (key column ``<singular of target>_id``) keeps the plain name and
the others become ``<name>_as_<belongs_to name>`` (``messages.creator_id`` and
``messages.user_id`` give ``users has_many messages`` and ``users has_many
messages_as_creator``; a polymorphic inverse counts as non-conventional). A has_many_through
whose name is taken becomes ``<name>_through_<join table>``. Any remaining clash gets a
numeric suffix ``_2``, ``_3``... in the deterministic order below.

Associations are grouped by owning table (schema order); within a table come belongs_to
(column order), inverses (by owner table name, then key column position) and has_many_through
(by join table name, then column position). Names, clash resolution and the order within a
table look at no order of tables or foreign keys in the source, so a database and its
``schema.rb`` dump (or two databases whose catalogs list tables differently) give each table
the same associations with the same names in the same order. Table names compare as plain
strings (code points).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import operator
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import inflection

from rrperf.errors import SchemaWarning
from rrperf.schema.model import Association, Column, Schema, Table

__all__ = [
    "POLYMORPHIC_TYPE_COLUMN_TYPES",
    "infer_associations",
    "inflection_memo",
    "pluralize",
    "singularize",
]

logger = logging.getLogger(__name__)

#: Column types a polymorphic ``X_type`` column may have (it stores a class name).
POLYMORPHIC_TYPE_COLUMN_TYPES: frozenset[str] = frozenset({"string", "text", "citext"})

# Columns a join table may carry besides its two keys.
_JOIN_TABLE_EXTRAS = frozenset({"id", "created_at", "updated_at"})


# (compiled rule, replacement, the endings a matching word has (lower case when the rule
# ignores case) or None, whether it ignores case)
_Rule = tuple[re.Pattern[str], str, tuple[str, ...] | None, bool]


class _RuleSet:
    """Inflection rules compiled once, tried in their order; the first that matches applies.

    Most rules can only match a word with one of a few endings (``(?i)(m|l)ice$`` needs
    ``mice`` or ``lice``), read from each expression by :func:`_required_endings`. For a
    word of ASCII characters without a newline (``$`` also matches before a final newline)
    the rules whose endings it lacks are passed over with a string comparison instead of a
    regular-expression search, among the rules its last two characters allow: the same first
    match as searching with every rule, one or two searches per word instead of ~40 (the
    2,000 table names of ``synthetic:2000``: 7.6 ms in a new process, 3.4 ms once the
    endings seen are sorted out, instead of 17 ms, 2026-12-02). Any other word is searched
    with every rule.
    """

    __slots__ = ("by_last", "rules", "uncountable")

    def __init__(self, rules: Sequence[tuple[str, str]], uncountable: re.Pattern[str] | None):
        self.uncountable = uncountable
        self.rules: list[_Rule] = []
        for rule, repl in rules:
            compiled = re.compile(rule)
            self.rules.append((compiled, repl, *_required_endings(compiled)))
        # last two characters of a word -> the rules whose endings allow them
        self.by_last: dict[str, list[_Rule]] = {}

    def apply(self, word: str) -> str:
        """Apply the first rule whose expression matches ``word`` (``word`` if none does)."""
        if word.isascii() and "\n" not in word:
            last = word[-2:]
            rules = self.by_last.get(last)
            if rules is None:
                rules = self.by_last[last] = [r for r in self.rules if _may_end(r, last)]
            folded = word.lower()
            for rule, replacement, endings, ignore_case in rules:
                if endings is None or (folded if ignore_case else word).endswith(endings):
                    if rule.search(word):
                        return rule.sub(replacement, word)
            return word
        for rule, replacement, _, _ in self.rules:
            if rule.search(word):
                return rule.sub(replacement, word)
        return word


def _may_end(rule: _Rule, last: str) -> bool:
    """Whether a word whose last (up to two) characters are ``last`` may match ``rule``."""
    endings, ignore_case = rule[2], rule[3]
    if endings is None:
        return True
    if ignore_case:
        last = last.lower()
    return any(e.endswith(last) if len(e) >= len(last) else last.endswith(e) for e in endings)


#: At most this many endings are kept per rule (``k[iI][nN][eE]$`` has 8).
_MAX_ENDINGS = 32


def _required_endings(rule: re.Pattern[str]) -> tuple[tuple[str, ...] | None, bool]:
    """The texts one of which a word must end with for ``rule`` to match it (lower case when
    the rule ignores case), and whether it ignores case; ``(None, False)`` when the
    expression does not say.

    Read from the parsed expression: what stands right before a final ``$`` or ``\\Z``, as
    far as it is ASCII literal text, character sets of such text, groups, choices and
    optional parts of it. Valid for words of ASCII characters without a newline.
    """
    try:
        from re import _constants as sre  # type: ignore[attr-defined]
        from re import _parser  # type: ignore[attr-defined]

        parsed = _parser.parse(rule.pattern, rule.flags)
        flags = parsed.state.flags
        items = list(parsed)
    except Exception:  # noqa: BLE001 - another Python's internals: no prefilter, same result
        return None, False
    if flags & (sre.SRE_FLAG_LOCALE | sre.SRE_FLAG_MULTILINE) or not items:
        return None, False
    op, arg = items[-1]
    if op is not sre.AT or arg not in (sre.AT_END, sre.AT_END_STRING):
        return None, False
    endings, _ = _endings(items[:-1], sre)
    if "" in endings:
        return None, False
    ignore_case = bool(flags & sre.SRE_FLAG_IGNORECASE)
    folded = {e.lower() for e in endings} if ignore_case else endings
    return tuple(sorted(folded)), ignore_case


def _endings(items: Sequence[Any], sre: Any) -> tuple[set[str], bool]:
    """The texts every match of the parsed ``items`` ends with one of, and whether they are
    all of its matches (``items`` match exactly these texts)."""
    acc = {""}
    for op, arg in reversed(items):
        part, whole = _item_endings(op, arg, sre)
        joined = {p + a for p in part for a in acc}
        if len(joined) > _MAX_ENDINGS:
            return acc, False
        acc = joined
        if not whole:
            return acc, False
    return acc, True


def _item_endings(op: Any, arg: Any, sre: Any) -> tuple[set[str], bool]:
    if op is sre.LITERAL and arg < 128:
        return {chr(arg)}, True
    if op is sre.IN and all(o is sre.LITERAL and a < 128 for o, a in arg):
        return {chr(a) for _, a in arg}, True
    if op is sre.SUBPATTERN and not arg[1] and not arg[2]:  # no flags set inside
        return _endings(list(arg[3]), sre)
    if op is sre.BRANCH:
        found: set[str] = set()
        whole = True
        for alt in arg[1]:
            part, alt_whole = _endings(list(alt), sre)
            found |= part
            whole = whole and alt_whole
        return found, whole
    if op is sre.MAX_REPEAT and arg[0] == 0 and arg[1] == 1:  # optional
        part, whole = _endings(list(arg[2]), sre)
        return part | {""}, whole
    return {""}, False


# (len(SINGULARS), len(UNCOUNTABLES)) -> rules with the uncountable regex
_SINGULAR_RULES: dict[tuple[int, int], _RuleSet] = {}
# len(PLURALS) -> rules (plurals check uncountables by set)
_PLURAL_RULES: dict[int, _RuleSet] = {}


def _singular_rules() -> _RuleSet:
    key = (len(inflection.SINGULARS), len(inflection.UNCOUNTABLES))
    rules = _SINGULAR_RULES.get(key)
    if rules is None:
        words = sorted(inflection.UNCOUNTABLES)
        alternatives = "|".join(f"(?:{w})" for w in words)
        uncountable = re.compile(rf"(?i)\b({alternatives})\Z") if words else None
        rules = _SINGULAR_RULES[key] = _RuleSet(inflection.SINGULARS, uncountable)
    return rules


def _plural_rules() -> _RuleSet:
    key = len(inflection.PLURALS)
    rules = _PLURAL_RULES.get(key)
    if rules is None:
        rules = _PLURAL_RULES[key] = _RuleSet(inflection.PLURALS, None)
    return rules


# word -> result maps of the innermost inflection_memo() block (None outside any block)
_MEMO: contextvars.ContextVar[tuple[dict[str, str], dict[str, str]] | None] = (
    contextvars.ContextVar("rrperf_inflection_memo", default=None)
)


@contextlib.contextmanager
def inflection_memo() -> Iterator[None]:
    """Remember :func:`singularize` and :func:`pluralize` results within the block.

    One generator run singularizes each table name when inferring associations and again
    when naming models (3,000 calls for a 2,000-table schema, ~25 us each); in the block
    the second costs a dict lookup. Rules added to ``inflection`` inside the block are not
    seen by words already inflected there. Nested blocks share the outer memo.
    """
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set(({}, {}))
    try:
        yield
    finally:
        _MEMO.reset(token)


def singularize(word: str) -> str:
    """``inflection.singularize(word)`` with its rules compiled once.

    The same rules in the same order (an uncountable word is returned as it is, else the
    first matching rule applies); ``inflection.singularize`` looks up each of its ~60 regular
    expressions in ``re``'s cache per call, which made it a third of the analysis of a
    10,000-table schema (2026-11-26 profile). Rules added with ``inflection.singular()`` or
    ``inflection.uncountable()`` later are picked up (the compiled form is keyed by the rule
    counts).

    Parameters
    ----------
    word : str
        A word or underscored name.

    Returns
    -------
    str
        Its singular form, exactly as ``inflection.singularize`` gives it.

    Examples
    --------
    >>> singularize("people"), singularize("sheep"), singularize("CamelOctopi")
    ('person', 'sheep', 'CamelOctopus')
    """
    return _through_memo(0, word, _singularize)


def _singularize(word: str) -> str:
    rules = _singular_rules()
    if rules.uncountable is not None and rules.uncountable.search(word):
        return word
    return rules.apply(word)


def pluralize(word: str) -> str:
    """``inflection.pluralize(word)`` with its rules compiled once (see :func:`singularize`).

    Parameters
    ----------
    word : str
        A word or underscored name.

    Returns
    -------
    str
        Its plural form, exactly as ``inflection.pluralize`` gives it.

    Examples
    --------
    >>> pluralize("person"), pluralize("sheep"), pluralize("CamelOctopus")
    ('people', 'sheep', 'CamelOctopi')
    """
    return _through_memo(1, word, _pluralize)


def _through_memo(which: int, word: str, inflect: Callable[[str], str]) -> str:
    """``inflect(word)``, remembered in the active :func:`inflection_memo` (map ``which``)."""
    memo = _MEMO.get()
    if memo is None:
        return inflect(word)
    found = memo[which].get(word)
    if found is None:
        found = memo[which][word] = inflect(word)
    return found


def _pluralize(word: str) -> str:
    if not word or word.lower() in inflection.UNCOUNTABLES:
        return word
    return _plural_rules().apply(word)


class _Candidate(NamedTuple):
    """An association before its final name is chosen (a named tuple: one is built per
    association, ~5,000 for a 2,000-table schema, and a frozen dataclass takes three times as
    long to build)."""

    # (owning table's position in the schema, group, other table, column position)
    sort_key: tuple[int, int, str, int]
    assoc: Association  # with the preferred name
    alt_name: str  # used when the preferred name is taken
    conventional: bool = True  # keeps the preferred name in a same-name group


def _with_associations(schema: Schema, associations: tuple[Association, ...]) -> Schema:
    return Schema(
        tables=schema.tables,
        foreign_keys=schema.foreign_keys,
        enums=schema.enums,
        associations=associations,
        version=schema.version,
        source=schema.source,
    )


_sort_key = operator.attrgetter("sort_key")


def _has_unique_index(table: Table, column: str) -> bool:
    if table.primary_key == (column,):
        return True
    return any(
        ix.unique and ix.expression is None and ix.columns == (column,) for ix in table.indexes
    )


def _polymorphic_targets(
    polymorphic_types: Mapping[str, Sequence[str]] | None, table: str, name: str
) -> tuple[str, ...]:
    if not polymorphic_types:
        return ()
    qualified = f"{table}.{name}"
    if qualified in polymorphic_types:
        return tuple(polymorphic_types[qualified])
    return tuple(polymorphic_types.get(name, ()))


def _belongs_to(
    schema: Schema,
    table_index: Mapping[str, int],
    polymorphic_types: Mapping[str, Sequence[str]] | None,
    singular: Callable[[str], str],
    plural: Callable[[str], str],
) -> list[tuple[int, Association]]:
    """The belongs_to associations of every table, with their column positions."""
    fk_targets: dict[str, dict[str, str]] = {}  # table -> key column -> target table
    # A column with several foreign keys belongs to the first target by name, whatever the
    # order the source lists its keys in.
    for fk in sorted(schema.foreign_keys, key=lambda f: (f.from_table, f.column, f.to_table)):
        if fk.to_table in table_index:
            fk_targets.setdefault(fk.from_table, {}).setdefault(fk.column, fk.to_table)

    found: list[tuple[int, Association]] = []
    for table in schema.tables:
        owner = table.name
        targets = fk_targets.get(owner, {})
        by_name: dict[str, Column] | None = None  # made when a key column needs it
        taken: set[str] = set()
        for position, column in enumerate(table.columns):
            col = column.name
            target = targets.get(col)
            assoc: Association | None = None
            if target is not None:
                name = col[:-3] if col.endswith("_id") and len(col) > 3 else ""
                assoc = Association("belongs_to", owner, name or singular(target), target, col)
            elif col.endswith("_id") and len(col) > 3 and table.primary_key != (col,):
                stem = col[:-3]
                if by_name is None:  # the first column of a name, as Table.column finds it
                    by_name = {c.name: c for c in reversed(table.columns)}
                type_column = by_name.get(f"{stem}_type")
                if type_column is not None and type_column.type in POLYMORPHIC_TYPE_COLUMN_TYPES:
                    assoc = Association(
                        "belongs_to",
                        owner,
                        stem,
                        None,
                        col,
                        polymorphic=True,
                        polymorphic_types=_polymorphic_targets(polymorphic_types, owner, stem),
                    )
                else:
                    plural_stem = plural(stem)
                    if plural_stem in table_index:
                        assoc = Association("belongs_to", owner, stem, plural_stem, col)
            if assoc is None:
                continue
            if assoc.name in taken:  # only possible for a key column without "_id"
                assoc = _renamed(assoc, f"{assoc.name}_by_{col}", taken)
            taken.add(assoc.name)
            found.append((position, assoc))
    return found


def _renamed(assoc: Association, name: str, taken: set[str]) -> Association:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}_{n}", n + 1
    return Association(
        kind=assoc.kind,
        table=assoc.table,
        name=candidate,
        target=assoc.target,
        foreign_key=assoc.foreign_key,
        polymorphic=assoc.polymorphic,
        as_name=assoc.as_name,
        through=assoc.through,
        source=assoc.source,
        polymorphic_types=assoc.polymorphic_types,
    )


def infer_associations(
    schema: Schema, *, polymorphic_types: Mapping[str, Sequence[str]] | None = None
) -> Schema:
    """Return a copy of ``schema`` with ``associations`` inferred (any existing ones replaced).

    Parameters
    ----------
    schema : Schema
        Tables, columns, indexes and foreign keys to infer from.
    polymorphic_types : mapping of str to sequence of str, optional
        Target tables of polymorphic associations, keyed ``"X"`` or ``"<owner table>.X"``
        (see the module docstring). Without it polymorphic belongs_to have no inverses.

    Returns
    -------
    Schema
        The same schema with ``associations`` filled, in deterministic order.

    Warns
    -----
    SchemaWarning
        When ``polymorphic_types`` names a target table that is not in the schema.

    Examples
    --------
    >>> from rrperf.schema.model import Column, ForeignKey, Schema, Table
    >>> users = Table("users", (Column("id", "bigint", primary_key=True),))
    >>> posts = Table("posts", (Column("id", "bigint", primary_key=True),
    ...                         Column("user_id", "bigint")))
    >>> s = infer_associations(Schema((users, posts)))
    >>> [(a.table, a.kind, a.name) for a in s.associations]
    [('users', 'has_many', 'posts'), ('posts', 'belongs_to', 'user')]
    """
    table_index = {t.name: i for i, t in enumerate(schema.tables)}
    # Names repeat (targets, owners): memoize for this call only, so rules added to
    # ``inflection`` between calls still apply.
    singular = functools.cache(singularize)
    plural = functools.cache(pluralize)
    belongs = _belongs_to(schema, table_index, polymorphic_types, singular, plural)
    candidates: list[_Candidate] = []

    for position, bt in belongs:
        owner = bt.table
        candidates.append(_Candidate((table_index[owner], 0, "", position), bt, bt.name))
        if bt.polymorphic:
            for target in bt.polymorphic_types:
                if target not in table_index:
                    warnings.warn(
                        f"polymorphic_types for {owner}.{bt.name} names table {target!r}, "
                        "which is not in the schema; no inverse association for it",
                        SchemaWarning,
                        stacklevel=2,
                    )
                    continue
                inverse = Association(
                    "has_many", target, owner, owner, bt.foreign_key, as_name=bt.name
                )
                candidates.append(
                    _Candidate(
                        (table_index[target], 1, owner, position),
                        inverse,
                        f"{owner}_as_{bt.name}",
                        conventional=False,
                    )
                )
            continue
        assert bt.target is not None
        owner_table = schema.table(owner)
        if _has_unique_index(owner_table, bt.foreign_key):
            inverse = Association(
                "has_one", bt.target, singular(owner), owner, bt.foreign_key
            )
        else:
            inverse = Association("has_many", bt.target, owner, owner, bt.foreign_key)
        candidates.append(
            _Candidate(
                (table_index[bt.target], 1, owner, position),
                inverse,
                f"{inverse.name}_as_{bt.name}",
                conventional=bt.name == singular(bt.target),
            )
        )

    by_table: dict[str, list[tuple[int, Association]]] = {}
    for position, bt in belongs:
        by_table.setdefault(bt.table, []).append((position, bt))
    for table in schema.tables:
        keys = by_table.get(table.name, [])
        if len(keys) != 2 or any(bt.polymorphic for _, bt in keys):
            continue
        key_columns = {bt.foreign_key for _, bt in keys}
        if not set(table.column_names) - key_columns <= _JOIN_TABLE_EXTRAS:
            continue
        for (_, this), (other_pos, other) in (keys, keys[::-1]):
            assert this.target is not None and other.target is not None
            name = plural(other.name)
            through = Association(
                "has_many_through",
                this.target,
                name,
                other.target,
                this.foreign_key,
                through=table.name,
                source=other.name,
            )
            candidates.append(
                _Candidate(
                    (table_index[this.target], 2, table.name, other_pos),
                    through,
                    f"{name}_through_{table.name}",
                )
            )

    # Grouped by owning table in schema order; within a table the order depends on names and
    # column positions only.
    candidates.sort(key=_sort_key)
    # How many inverses on each table want each name: a shared name goes to the conventional one.
    wanted = Counter((c.assoc.table, c.assoc.name) for c in candidates if c.sort_key[1] == 1)
    taken: dict[str, set[str]] = {}
    result: list[Association] = []
    for cand in candidates:
        used = taken.setdefault(cand.assoc.table, set())
        assoc = cand.assoc
        crowded = wanted[(assoc.table, assoc.name)] > 1 and not cand.conventional
        if (cand.sort_key[1] == 1 and crowded) or assoc.name in used:
            assoc = _renamed(assoc, cand.alt_name, used)
        used.add(assoc.name)
        result.append(assoc)
    logger.debug("inferred %d associations for %d tables", len(result), len(schema.tables))
    return _with_associations(schema, tuple(result))
