"""Reflected rows -> the schema model: the column defaults, indexes and foreign keys as a
``schema.rb`` shows them, shared by SQLAlchemy's reflection (:mod:`rrperf.schema.database`)
and the direct PostgreSQL catalog read (:mod:`rrperf.schema.pgcatalog`). No SQLAlchemy here."""

from __future__ import annotations

import re
import warnings
from typing import Any

from rrperf.errors import SchemaWarning
from rrperf.schema.model import SQL_ACTIONS, Default, ForeignKey, Index

__all__ = ["foreign_keys", "indexes", "parse_default", "structured"]

# SQL referential actions -> the symbols add_foreign_key uses (NO ACTION, the default, is
# not written)
_REFERENTIAL_ACTIONS = {sql: rails for rails, sql in SQL_ACTIONS.items() if sql != "NO ACTION"}

_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_QUOTED = re.compile(r"'((?:[^']|'')*)'(?:::[\w .\[\]\"]+)?")
_TRUE = {"t", "true", "1", "yes", "y"}
_FALSE = {"f", "false", "0", "no", "n"}


def _literal(text: str, rails: str) -> Any:
    """Convert the text of a literal default to the value a Rails dump would show."""
    if rails in {"integer", "bigint"} and _NUMBER.fullmatch(text):
        return int(float(text))
    if rails == "float" and _NUMBER.fullmatch(text):
        return float(text)
    if rails == "boolean":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    return text


def parse_default(raw: str | None, rails: str) -> Default | None:
    """Turn a reflected server default (SQL text) into a :class:`Default`.

    Parameters
    ----------
    raw : str or None
        The default as the database reports it: ``'draft'``, ``'a''b'::character varying``,
        ``0``, ``true``, ``CURRENT_TIMESTAMP``, ``(datetime('now'))``, ``nextval(...)``.
    rails : str
        The Rails type of the column, used to type the literal.

    Returns
    -------
    Default or None
        ``None`` for no default, ``NULL`` and sequence defaults (an autoincrement key);
        a literal ``Default``; or ``Default(text, function=True)`` for anything else.
    """
    if raw is None:
        return None
    text = raw.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    low = text.lower()
    if low in {"", "null"} or low.startswith("null::") or low.startswith("nextval("):
        return None
    quoted = _QUOTED.fullmatch(text)
    if quoted:
        return Default(_literal(quoted.group(1).replace("''", "'"), rails))
    if _NUMBER.fullmatch(text):
        if rails == "decimal":
            return Default(text)
        if rails == "boolean":
            return Default(_literal(text, rails))
        return Default(float(text) if rails == "float" or "." in text else int(text))
    if low in {"true", "false"}:
        return Default(low == "true")
    return Default(text, function=True)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _referential(action: str | None) -> str | None:
    if not action:
        return None
    return _REFERENTIAL_ACTIONS.get(action.upper())


def structured(default: Default | None, rails: str, array: bool) -> Default | None:
    """A literal default of an array or JSON column as the data a ``schema.rb`` shows:
    ``'{a,b}'`` -> ``["a", "b"]``, ``'{"k": 1}'`` (jsonb) -> ``{"k": 1}``."""
    if default is None or default.function or not isinstance(default.value, str):
        return default
    if array:
        items = _array_items(default.value)
        if items is None:
            return default
        return Default([None if v is None else _literal(v, rails) for v in items])
    if rails in {"json", "jsonb"}:
        import json

        try:
            return Default(json.loads(default.value))
        except ValueError:
            return default
    return default


def _array_items(text: str) -> list[str | None] | None:
    """The elements of a one-dimensional PostgreSQL array literal (``None`` if not one)."""
    if not (text.startswith("{") and text.endswith("}")):
        return None
    body, i = text[1:-1], 0
    items: list[str | None] = []
    if not body:
        return []
    while i <= len(body):
        if i < len(body) and body[i] == '"':
            j, chars = i + 1, []
            while j < len(body) and body[j] != '"':
                if body[j] == "\\" and j + 1 < len(body):
                    j += 1
                chars.append(body[j])
                j += 1
            items.append("".join(chars))
            i = j + 1
        else:
            j = body.find(",", i)
            j = len(body) if j < 0 else j
            word = body[i:j]
            if "{" in word or '"' in word:
                return None  # nested arrays: left as text
            items.append(None if word.upper() == "NULL" else word)
            i = j
        if i < len(body) and body[i] != ",":
            return None
        i += 1
    return items


def indexes(index_infos: list[Any], unique_infos: list[Any]) -> tuple[Index, ...]:
    indexes: list[Index] = []
    for ix in index_infos:
        cols = ix.get("column_names") or []
        exprs = ix.get("expressions")
        dialect_options = ix.get("dialect_options", {})
        where = dialect_options.get("postgresql_where") or dialect_options.get("sqlite_where")
        indexes.append(
            Index(
                name=ix.get("name"),
                columns=tuple(c for c in cols if c is not None) if exprs is None else (),
                expression=", ".join(exprs) if exprs is not None and None in cols else None,
                unique=bool(ix.get("unique")),
                where=str(where) if where is not None else None,
                using=dialect_options.get("postgresql_using"),
            )
        )
    for uc in unique_infos:
        uc_cols: tuple[str, ...] = tuple(c for c in uc.get("column_names") or () if c)
        if any(
            ix.unique and (ix.columns == uc_cols or ix.name == uc.get("name")) for ix in indexes
        ):
            continue
        indexes.append(Index(name=uc.get("name"), columns=uc_cols, unique=True))
    return tuple(indexes)


def foreign_keys(name: str, infos: list[Any]) -> list[ForeignKey]:
    """The single-column foreign keys of table ``name``, in the order Rails dumps them
    (by target table, then column); composite ones are skipped with a warning."""
    fks: list[ForeignKey] = []
    for fk in infos:
        local, remote = fk.get("constrained_columns") or [], fk.get("referred_columns") or []
        if len(local) != 1:
            warnings.warn(
                f"skipping the composite foreign key {name}({', '.join(local)}) -> "
                f"{fk.get('referred_table')}: associations need a single key column",
                SchemaWarning,
                stacklevel=3,
            )
            continue
        options = fk.get("options") or {}
        fks.append(
            ForeignKey(
                from_table=name,
                to_table=fk["referred_table"],
                column=local[0],
                primary_key=remote[0] if remote else "id",
                name=fk.get("name"),
                on_delete=_referential(options.get("ondelete")),
                on_update=_referential(options.get("onupdate")),
            )
        )
    fks.sort(key=lambda f: (f.to_table, f.column, f.name or ""))
    return fks
