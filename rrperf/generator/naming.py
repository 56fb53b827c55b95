"""TypeScript names for tables: model names, file names (kebab case) and literal quoting.

Model and file names follow the original generator: ``model = camelize(singularize(table))``
(``"user_profiles"`` -> ``"UserProfile"``) and ``kebab = dasherize(underscore(singular))``
(``"user-profile"``), both through the ``inflection`` package (Rails' inflector rules).

Hostile names are made valid, deterministically:

* runs of characters that cannot appear in a TypeScript identifier become one ``_`` before
  camelizing (``"foo-bar"`` -> ``"FooBar"``); a name that would start with a digit gets a
  ``T`` prefix (``"2fa_codes"`` -> ``"T2faCode"``); a name with no letters or digits at all
  becomes ``Model``;
* the kebab (file) name is *not* sanitized: a table called ``"../x"`` keeps ``"../x"`` so the
  path check rejects it (:class:`~rrperf.errors.UnsafePathError`) instead of silently
  writing somewhere else;
* property names and string literals are quoted with :func:`ts_property` / :func:`ts_string`.

Clashes between tables (``people`` and ``persons`` both give ``Person``; ``reactive_users``
gives ``ReactiveUser``, which ``users`` also exports) are resolved by
:func:`assign_model_names`, see there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

import inflection

from rrperf.schema.associations import singularize

__all__ = [
    "RESERVED_IDENTIFIERS",
    "ModelNames",
    "assign_model_names",
    "derived_files",
    "derived_identifiers",
    "is_identifier",
    "kebab_name",
    "model_name",
    "ts_property",
    "ts_string",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_SEPARATORS = re.compile(r"[\W_]+")

#: Names the generated modules import from the runtime or that the index exports itself: a
#: model whose derived names include one of these is renamed (``base_records`` would declare
#: ``BaseRecord``, which every model file imports).
RESERVED_IDENTIFIERS: frozenset[str] = frozenset(
    {
        "BaseRecord",
        "JsonObject",
        "ModelConfig",
        "createActiveRecord",
        "createReactiveRecord",
        "declarePolymorphicRelationships",
        "registerModelRelationships",
    }
)

#: File paths the run writes besides the per-table files (the index and the runtime
#: declaration of :mod:`rrperf.generator.runtime_file`, reserved even when it is left out, so
#: that names never depend on that option).
RESERVED_FILES: frozenset[str] = frozenset({"index.ts", "rrperf-runtime.d.ts"})


def is_identifier(name: str) -> bool:
    """Whether ``name`` can be written bare as a TypeScript property name (ASCII rule)."""
    return _IDENTIFIER.match(name) is not None


def ts_string(text: str) -> str:
    """``text`` as a single-quoted TypeScript string literal.

    >>> ts_string("it's")
    "'it\\\\'s'"
    """
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    body = body.replace('\\"', '"').replace("'", "\\'")
    body = body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"'{body}'"


def ts_property(name: str) -> str:
    """``name`` as a property key: bare when it is an identifier, else a quoted string.

    Reserved words (``type``, ``default``, ``class``, ``delete``) are valid bare property names
    in TypeScript interfaces and object literals, so only non-identifiers are quoted.

    >>> ts_property("Club_Name"), ts_property("foo-bar")
    ('Club_Name', "'foo-bar'")
    """
    return name if is_identifier(name) else ts_string(name)


def model_name(table: str) -> str:
    """The base model name of ``table``: ``camelize(singularize(table))``, made an identifier.

    >>> model_name("user_profiles"), model_name("people"), model_name("foo-bar")
    ('UserProfile', 'Person', 'FooBar')
    """
    return _identifier(singularize(table))


def _identifier(text: str) -> str:
    words = [w for w in _SEPARATORS.split(text) if w]
    name = inflection.camelize("_".join(words)) if words else "Model"
    return name if name[0].isalpha() else "T" + name


def kebab_name(table: str) -> str:
    """The file stem of ``table``: ``dasherize(underscore(singularize(table)))``.

    >>> kebab_name("user_profiles"), kebab_name("UserProfiles")
    ('user-profile', 'user-profile')
    """
    return inflection.dasherize(inflection.underscore(singularize(table)))


def derived_identifiers(model: str) -> tuple[str, ...]:
    """Every exported or module-level identifier the files of ``model`` declare."""
    return (
        model,
        f"{model}Config",
        f"{model}Record",
        f"Reactive{model}",
        f"Reactive{model}Config",
        f"{model}Data",
        f"Create{model}Data",
        f"Update{model}Data",
    )


def derived_files(kebab: str) -> tuple[str, str, str]:
    """The three relative paths generated for a table with file stem ``kebab``."""
    return (f"types/{kebab}-data.ts", f"{kebab}.ts", f"reactive-{kebab}.ts")


class ModelNames(Mapping[str, tuple[str, str]]):
    """Read-only ``table -> (model, kebab)`` mapping returned by :func:`assign_model_names`."""

    __slots__ = ("_names",)

    def __init__(self, names: dict[str, tuple[str, str]]):
        self._names = names

    def __getitem__(self, table: str) -> tuple[str, str]:
        return self._names[table]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __reduce__(self) -> tuple[object, ...]:
        return (ModelNames, (self._names,))


def _base_names(table: str) -> tuple[str, str]:
    singular = singularize(table)
    return _identifier(singular), inflection.dasherize(inflection.underscore(singular))


def _candidates(table: str, base_model: str, base_kebab: str) -> Iterable[tuple[str, str]]:
    yield base_model, base_kebab
    yield _identifier(table), inflection.dasherize(inflection.underscore(table))
    n = 2
    while True:
        yield f"{base_model}{n}", f"{base_kebab}-{n}"
        n += 1


def assign_model_names(tables: Iterable[str]) -> ModelNames:
    """Give every table a unique model name and file stem.

    Tables are served shortest base model name first, then by table name, so the plain name
    goes to the most natural owner (``users`` keeps ``User`` and its ``ReactiveUser`` even
    when ``reactive_users`` exists). A table whose derived identifiers
    (:func:`derived_identifiers`) or files (:func:`derived_files`, compared case-insensitively)
    clash with an earlier table's, with the runtime's names or with ``index.ts`` takes the
    next candidate: the camelized *plural* table name (``persons`` -> ``Persons``,
    ``persons.ts``), then numeric suffixes (``Person2``, ``person-2``).

    Names depend on the whole schema only, never on which tables are selected, so a model's
    file content does not change with ``tables=``/``exclude_tables=``.

    Parameters
    ----------
    tables : iterable of str
        Every table name of the schema.

    Returns
    -------
    ModelNames
        ``table -> (model, kebab)``, in the order of ``tables``.
    """
    order = list(tables)
    taken_idents: set[str] = set(RESERVED_IDENTIFIERS)
    taken_files: set[str] = {f.casefold() for f in RESERVED_FILES}
    chosen: dict[str, tuple[str, str]] = {}
    base = {t: _base_names(t) for t in order}
    for table in sorted(order, key=lambda t: (len(base[t][0]), t)):
        for model, kebab in _candidates(table, *base[table]):
            idents = derived_identifiers(model)
            files = [f.casefold() for f in derived_files(kebab)]
            if taken_idents.isdisjoint(idents) and taken_files.isdisjoint(files):
                taken_idents.update(idents)
                taken_files.update(files)
                chosen[table] = (model, kebab)
                break
    return ModelNames({t: chosen[t] for t in order})
