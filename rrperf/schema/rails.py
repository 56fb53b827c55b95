"""Parse a Rails ``db/schema.rb`` dump into the frozen :class:`~rrperf.schema.model.Schema` model.

The parser has two stages, both single-pass:

1. A tokenizer driven by one compiled master regex with named groups. It understands the Ruby
   subset that schema dumps (and hand-edited schema files) use: double-quoted strings with
   escapes, single-quoted strings, heredocs (``<<SQL``, ``<<-SQL``, ``<<~SQL``, quoted
   identifiers), symbols, ``key:`` labels, ``=>``, ``->``, numbers with ``_`` separators,
   ``%w[]``/``%i[]`` word arrays, comments, ``=begin``/``=end`` and ``__END__``. It tracks the
   line and column of every token, and it folds line continuations away: newlines inside
   ``( [ {``, after a trailing ``,`` ``.`` ``=>`` ``->`` ``::`` or label, and before a leading
   ``.`` are not statement ends.
2. A recursive-descent statement parser over that token list. ``create_table``, ``add_index``,
   ``add_foreign_key``, ``add_check_constraint`` and ``create_enum`` are modelled;
   ``enable_extension``, ``create_schema`` and ``execute`` are consumed silently; every other
   statement (scenic ``create_view``, SQLite ``create_virtual_table``, hairtrigger
   ``create_trigger`` chains, fx ``create_function``, unknown calls) is consumed token by token,
   including any ``do ... end`` block, and reported with one :class:`~rrperf.errors.SchemaWarning`.

Modelling choices worth knowing:

- The implicit primary key column is inserted as the first column. Its type is ``uuid`` for
  ``id: :uuid``, ``integer`` for ``id: :serial``/``:integer``, ``bigint`` for ``:bigint`` and
  ``:bigserial``, the symbol's name for any other ``id:`` type, ``type:`` of an ``id: {...}``
  hash, and when ``id:`` is absent ``bigint`` for ``ActiveRecord::Schema[x.y]`` dumps and
  ``integer`` for legacy ``ActiveRecord::Schema.define`` dumps. A lambda ``default:`` on the
  table becomes ``Default(body, function=True)``; ``default: nil`` there means "no database
  default" and gives ``default=None``.
- ``t.unique_constraint`` is modelled as a unique :class:`~rrperf.schema.model.Index` (PostgreSQL
  backs a unique constraint with a unique index, and inference only needs uniqueness).
  ``t.exclusion_constraint`` is skipped with a warning.
- A check constraint whose SQL is exactly ``<column> IS NOT NULL`` makes that column
  ``null=False`` (rubygems.org declares NOT NULL this way).
- An index without ``name:`` gets Rails' default name ``index_<table>_on_<a>_and_<b>``;
  an unnamed expression index keeps ``name=None``.
- Top-level ``add_index`` / ``add_check_constraint`` attach to their table wherever it is
  declared; when the table does not exist (scenic materialized views) the statement is skipped
  with a warning.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import logging
import os
import re
import warnings
from collections.abc import Callable
from typing import Any, Final

import inflection

from rrperf.errors import SchemaParseError, SchemaSourceError, SchemaWarning
from rrperf.schema.memo import run_memo
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

__all__ = ["load_schema_rb", "parse_schema_rb"]

logger = logging.getLogger(__name__)

# --- Tokens -----------------------------------------------------------------------------------

# A token is a plain tuple (kind, value, line, column, offset) for speed: a large dump has tens
# of thousands of them. ``kind`` is one of the names below, or the punctuation itself for
# operators ("(", ",", "=>" ...), so the parser compares kinds directly.
_NL: Final = "newline"
_STR: Final = "string"
_SYM: Final = "symbol"
_LABEL: Final = "label"
_INT: Final = "integer"
_FLOAT: Final = "float"
_IDENT: Final = "identifier"
_WORDS: Final = "word array"
_EOF: Final = "end of file"

Token = tuple[str, Any, int, int, int]

# Whitespace is folded into each match (one regex call per token, not two); the alternatives
# are ordered by how often they occur in dumps, with longer forms before their prefixes
# (label before identifier, float before int, numbers and "->" before the "-" operator).
_MASTER_RE: Final = re.compile(
    r"""
    [ \t\f\r]*
    (?:
      (?P<dstr>"(?:[^"\\]|\\.)*")
    | (?P<label>[A-Za-z_]\w*[?!]?:(?!:))
    | (?P<ident>[A-Za-z_]\w*[?!]?)
    | (?P<nl>\n|;)
    | (?P<float>-?\d[\d_]*(?:\.\d[\d_]*(?:[eE][+-]?\d+)?|[eE][+-]?\d+))
    | (?P<int>-?\d[\d_]*)
    | (?P<op>=>|->|::|&\.|[()\[\]{},.|\-])
    | (?P<symbol>:(?:[A-Za-z_]\w*(?:[?!]|=(?![>=~]))?|"(?:[^"\\]|\\.)*"))
    | (?P<comment>\#[^\n]*)
    | (?P<cont>\\\r?\n)
    | (?P<sstr>'(?:[^'\\]|\\.)*')
    | (?P<heredoc><<(?P<hflavour>[-~]?)
        (?:(?P<hquote>['"])(?P<hquoted>[A-Za-z_]\w*)(?P=hquote)|(?P<hbare>[A-Za-z_]\w*)))
    | (?P<words>%[wWiI](?:\[[^\]]*\]|\([^)]*\)|\{[^}]*\}|<[^>]*>))
    | (?P<bad>["'].*|.)
    )
    """,
    re.VERBOSE | re.DOTALL,
)
_BEGIN_END_RE: Final = re.compile(r"^=end\b[^\n]*(?:\n|\Z)", re.M)

_OPENERS: Final = {"(": ")", "[": "]", "{": "}"}
_CLOSERS: Final = {")": "(", "]": "[", "}": "{"}
# After these tokens a newline does not end the statement.
_CONTINUES: Final = frozenset({",", ".", "&.", "=>", "->", "::", "-", _LABEL})

_ESCAPE_RE: Final = re.compile(
    r"\\(u\{[0-9a-fA-F ]*\}|u[0-9a-fA-F]{4}|u|x[0-9a-fA-F]{1,2}|[0-7]{1,3}|\r?\n|.)"
    r"|#(?=\{|@@?[A-Za-z_]|\$[A-Za-z_])",
    re.DOTALL,
)
_SIMPLE_ESCAPES: Final = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "s": " ",
    "e": "\x1b",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}
_COULD_NOT_DUMP_RE: Final = re.compile(r'#\s*Could not dump table "([^"]*)"(.*)')
_NEXT_COMMENT_RE: Final = re.compile(r"\n[ \t]*#[ \t]*([^\n]*)")


# inflection's rule lists are regex searches (about 0.3 ms a word); dumps repeat the same few
# hundred table names, so memoize. Both are pure functions of the word.
_singularize: Final = functools.lru_cache(maxsize=4096)(inflection.singularize)
_pluralize: Final = functools.lru_cache(maxsize=4096)(inflection.pluralize)


def _where(path: str | None) -> str:
    return path or "<string>"


def _q(name: str) -> str:
    """A name in double quotes, as Ruby writes it (used in warning messages)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _describe(tok: Token) -> str:
    """How a token is named in error messages ("string \"x\"", "`end`", "end of file")."""
    kind, value = tok[0], tok[1]
    if kind == _EOF:
        return "end of file"
    if kind == _NL:
        return "end of line"
    if kind == _STR:
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"string {text!r}"
    if kind == _SYM:
        return f"symbol :{value}"
    if kind == _LABEL:
        return f"`{value}:`"
    if kind in (_INT, _FLOAT):
        return f"number {value}"
    if kind == _IDENT:
        return f"`{value}`"
    if kind == _WORDS:
        return "word array"
    return f"`{kind}`"


def _decode_double(raw: str, path: str | None, line: int, col: int) -> str:
    """Apply Ruby double-quoted escapes; reject interpolation, which cannot be evaluated."""

    def replace(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc is None:
            raise SchemaParseError(
                "expected a literal string, found Ruby interpolation "
                f"{raw[m.start() : m.start() + 2]!r} (write \\# to keep a literal #)",
                path=path,
                line=line,
                column=col,
            )
        first = esc[0]
        if first == "u":
            if esc == "u":
                raise SchemaParseError(
                    "invalid Unicode escape: expected \\u and 4 hex digits, or \\u{hex digits}",
                    path=path,
                    line=line,
                    column=col,
                )
            if esc[1] == "{":
                return "".join(chr(int(h, 16)) for h in esc[2:-1].split())
            return chr(int(esc[1:], 16))
        if first == "x" and len(esc) > 1:
            return chr(int(esc[1:], 16))
        if first in "01234567":
            return chr(int(esc, 8))
        if first in "\r\n":
            return ""
        return _SIMPLE_ESCAPES.get(first, first)

    return _ESCAPE_RE.sub(replace, raw)


def _decode_single(raw: str) -> str:
    if "\\" not in raw:
        return raw
    return re.sub(r"\\([\\'])", r"\1", raw)


def _dedent_squiggly(body: str) -> str:
    lines = body.split("\n")
    widths = [
        len(ln.expandtabs(8)) - len(ln.expandtabs(8).lstrip(" ")) for ln in lines if ln.strip()
    ]
    if not widths:
        return body
    cut = min(widths)
    out = []
    for ln in lines:
        expanded = ln.expandtabs(8)
        out.append(expanded[cut:] if expanded[:cut].strip() == "" else expanded.lstrip(" "))
    return "\n".join(out)


def _tokenize(text: str, path: str | None) -> tuple[list[Token], list[tuple[int, str]]]:
    """Split ``text`` into tokens; return them and the ``Could not dump table`` notes.

    Raises
    ------
    SchemaParseError
        On an unterminated string or heredoc, unbalanced brackets or a character that cannot
        start a token.
    """
    tokens: list[Token] = []
    notes: list[tuple[int, str]] = []
    append = tokens.append
    finditer = _MASTER_RE.finditer
    stack: list[tuple[str, int, int]] = []
    pending: list[tuple[int, str, str, str]] = []  # (token index, flavour, quote, identifier)
    line = 1
    line_start = 0
    pos = 0
    n = len(text)
    last_kind = _NL  # a virtual newline before the first token

    def fail(message: str, at_line: int, at_col: int) -> SchemaParseError:
        return SchemaParseError(message, path=path, line=at_line, column=at_col)

    stop = False
    while not stop:
        for m in finditer(text, pos):
            group = m.lastgroup
            start = m.start(group)  # type: ignore[arg-type]
            col = start - line_start + 1
            if group == "dstr":
                end = m.end()
                raw = text[start + 1 : end - 1]
                value = _decode_double(raw, path, line, col) if ("\\" in raw or "#" in raw) else raw
                kind = _STR
                if text.startswith(":", end) and not text.startswith("::", end):
                    kind = _LABEL  # "key": value
                append((kind, value, line, col, start))
                last_kind = kind
                if "\n" in raw:
                    line += raw.count("\n")
                    line_start = start + 1 + raw.rfind("\n") + 1
                if kind == _LABEL:
                    pos = end + 1
                    break  # resume after the ':'
            elif group == "label":
                append((_LABEL, m.group(group)[:-1], line, col, start))
                last_kind = _LABEL
            elif group == "ident":
                append((_IDENT, m.group(group), line, col, start))
                last_kind = _IDENT
            elif group == "nl":
                if stack or last_kind in _CONTINUES or last_kind == _NL:
                    pass
                else:
                    append((_NL, None, line, col, start))
                    last_kind = _NL
                if text[start] == "\n":
                    line += 1
                    pos = line_start = m.end()
                    if pending:
                        pos, line, line_start = _read_heredocs(
                            text, pos, line, pending, tokens, path
                        )
                        pending.clear()
                    # =begin ... =end block comments and __END__ start at column 1.
                    if text.startswith("=begin", pos):
                        end_m = _BEGIN_END_RE.search(text, pos)
                        if end_m is None:
                            raise fail("unterminated =begin comment: no =end line", line, 1)
                        line += text.count("\n", pos, end_m.end())
                        pos = line_start = end_m.end()
                    elif text.startswith("__END__", pos) and text[pos + 7 : pos + 8] in (
                        "",
                        "\n",
                        "\r",
                    ):
                        stop = True
                    if pos != m.end() or stop:
                        break
            elif group == "op":
                op = m.group(group)
                if op in _OPENERS:
                    stack.append((op, line, col))
                elif op in _CLOSERS:
                    if not stack:
                        raise fail(
                            f"unbalanced brackets: found {op!r} with nothing open", line, col
                        )
                    opener, oline, ocol = stack.pop()
                    if _OPENERS[opener] != op:
                        raise fail(
                            f"unbalanced brackets: expected {_OPENERS[opener]!r} to close "
                            f"{opener!r} opened at line {oline}, column {ocol}, found {op!r}",
                            line,
                            col,
                        )
                elif (op == "." or op == "&.") and last_kind == _NL and tokens:
                    tokens.pop()  # a leading-dot method chain continues the previous line
                append((op, op, line, col, start))
                last_kind = op
            elif group == "symbol":
                raw = m.group(group)[1:]
                if raw.startswith('"'):
                    raw = _decode_double(raw[1:-1], path, line, col)
                append((_SYM, raw, line, col, start))
                last_kind = _SYM
            elif group == "int":
                append((_INT, int(m.group(group).replace("_", "")), line, col, start))
                last_kind = _INT
            elif group == "float":
                append((_FLOAT, float(m.group(group).replace("_", "")), line, col, start))
                last_kind = _FLOAT
            elif group == "comment":
                value = m.group(group)
                if "Could not dump table" in value:
                    note = _could_not_dump(value, text, m.end(), path, line)
                    if note is not None:
                        notes.append((line, note))
            elif group == "cont":
                line += 1
                line_start = m.end()
            elif group == "sstr":
                raw = m.group(group)[1:-1]
                append((_STR, _decode_single(raw), line, col, start))
                last_kind = _STR
                if "\n" in raw:
                    line += raw.count("\n")
                    line_start = start + 1 + raw.rfind("\n") + 1
            elif group == "heredoc":
                ident = m.group("hquoted") or m.group("hbare")
                pending.append((len(tokens), m.group("hflavour"), m.group("hquote") or "", ident))
                append((_STR, None, line, col, start))
                last_kind = _STR
            elif group == "words":
                append((_WORDS, m.group(group)[3:-1].split(), line, col, start))
                last_kind = _WORDS
            else:  # "bad"
                ch = text[start]
                if ch in "\"'":
                    other = "'" if ch == '"' else '"'
                    raise fail(
                        f"unterminated string: expected a closing {other}{ch}{other}, "
                        "found end of file",
                        line,
                        col,
                    )
                raise fail(f"unexpected character {ch!r}", line, col)
        else:
            stop = True
    pos = n

    if pending:
        _, flavour, quote, ident = pending[0]
        tok = tokens[pending[0][0]]
        raise fail(
            f"unterminated heredoc <<{flavour}{quote}{ident}{quote}: expected a line "
            f"{ident!r}, found end of file",
            tok[2],
            tok[3],
        )
    if stack:
        opener, oline, ocol = stack[-1]
        raise fail(
            f"unbalanced brackets: {opener!r} is never closed "
            f"(expected {_OPENERS[opener]!r}, found end of file)",
            oline,
            ocol,
        )
    if tokens and last_kind != _NL:
        append((_NL, None, line, pos - line_start + 1, pos))
    append((_EOF, None, line, pos - line_start + 1, pos))
    return tokens, notes


def _could_not_dump(comment: str, text: str, end: int, path: str | None, line: int) -> str | None:
    """The warning for a ``# Could not dump table "x" because of ...`` comment (and its reason)."""
    m = _COULD_NOT_DUMP_RE.match(comment)
    if m is None:
        return None
    reason = m.group(2).strip()
    nxt = _NEXT_COMMENT_RE.match(text, end)
    if nxt is not None and nxt.group(1).strip():
        detail = nxt.group(1).strip()
        reason = f"{reason}: {detail}" if reason else detail
    suffix = f" ({reason})" if reason else ""
    return (
        f"{_where(path)}:{line}: table {_q(m.group(1))} is missing: "
        f"the dump could not dump it{suffix}"
    )


def _read_heredocs(
    text: str,
    pos: int,
    line: int,
    pending: list[tuple[int, str, str, str]],
    tokens: list[Token],
    path: str | None,
) -> tuple[int, int, int]:
    """Consume the bodies of the heredocs opened on the line that just ended."""
    for index, flavour, quote, ident in pending:
        tok = tokens[index]
        indent = r"[ \t]*" if flavour else ""
        term = re.compile(rf"^{indent}{re.escape(ident)}[ \t]*\r?$", re.M)
        m = term.search(text, pos)
        if m is None:
            raise SchemaParseError(
                f"unterminated heredoc <<{flavour}{quote}{ident}{quote}: expected a line "
                f"{ident!r}, found end of file",
                path=path,
                line=tok[2],
                column=tok[3],
            )
        body = text[pos : m.start()]
        if flavour == "~":
            body = _dedent_squiggly(body)
        if quote != "'":
            body = _decode_double(body, path, tok[2], tok[3])
        tokens[index] = (_STR, body, tok[2], tok[3], tok[4])
        line += text.count("\n", pos, m.end()) + 1
        pos = m.end() + 1 if m.end() < len(text) else m.end()
    return pos, line, pos


# --- Values -----------------------------------------------------------------------------------


class _Symbol(str):
    """A Ruby symbol; a ``str`` so it compares with names, but distinguishable from a string."""

    __slots__ = ()


@dataclasses.dataclass(frozen=True, slots=True)
class _Lambda:
    body: str


def _plain(value: Any) -> Any:
    """A parsed Ruby value as plain Python data (symbols become str, hashes dicts)."""
    if isinstance(value, _Symbol):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


_NAME_RE: Final = re.compile(r"^\w+$")
_NOT_NULL_RE: Final = re.compile(
    r'^\s*(\(\s*)*"?([A-Za-z_]\w*)"?\s+IS\s+NOT\s+NULL\s*(\)\s*)*$', re.IGNORECASE
)


def _not_null_column(expression: str) -> str | None:
    m = _NOT_NULL_RE.match(expression)
    if m is None or expression.count("(") != expression.count(")"):
        return None
    return m.group(2)


# --- Parser -----------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class _TableBuilder:
    name: str
    line: int
    columns: list[Column]
    primary_key: tuple[str, ...]
    comment: str | None
    indexes: list[Index] = dataclasses.field(default_factory=list)
    checks: list[CheckConstraint] = dataclasses.field(default_factory=list)
    positions: dict[str, int] = dataclasses.field(default_factory=dict)

    def add_column(self, column: Column, tok: Token, path: str | None) -> None:
        if column.name in self.positions:
            raise SchemaParseError(
                f"column {column.name!r} is declared twice in table {self.name!r}",
                path=path,
                line=tok[2],
                column=tok[3],
            )
        self.positions[column.name] = len(self.columns)
        self.columns.append(column)

    def replace_column(self, name: str, **changes: Any) -> bool:
        index = self.positions.get(name)
        if index is None:
            return False
        self.columns[index] = dataclasses.replace(self.columns[index], **changes)
        return True

    def add_check(self, check: CheckConstraint) -> None:
        self.checks.append(check)
        column = _not_null_column(check.expression)
        if column is not None:
            self.replace_column(column, null=False)

    def build(self) -> Table:
        return Table(
            name=self.name,
            columns=tuple(self.columns),
            primary_key=self.primary_key,
            indexes=tuple(self.indexes),
            check_constraints=tuple(self.checks),
            comment=self.comment,
            line=self.line,
        )


_OptionMap = dict[str, tuple[Any, Token]]

# Why each skipped statement is skipped, for the warning message.
_SKIP_REASONS: Final = {
    "create_view": "views are not modelled",
    "update_view": "views are not modelled",
    "create_virtual_table": "virtual tables are not modelled",
    "create_trigger": "triggers are not modelled",
    "create_function": "functions are not modelled",
    "update_function": "functions are not modelled",
    "create_aggregate": "functions are not modelled",
}
_SILENT: Final = frozenset({"enable_extension", "create_schema", "execute"})
# Keywords that open a block closed by `end` when they start a statement.
_BLOCK_STARTERS: Final = frozenset(
    {"begin", "case", "class", "def", "for", "if", "module", "unless", "until", "while"}
)


class _Parser:
    def __init__(self, text: str, path: str | None) -> None:
        self.text = text
        self.path = path
        self.tokens, notes = _tokenize(text, path)
        self.warnings: list[tuple[int, str]] = list(notes)
        self.pos = 0
        self.tables: dict[str, _TableBuilder] = {}
        self.foreign_keys: list[ForeignKey] = []
        self.enums: dict[str, EnumType] = {}
        self.late_indexes: list[tuple[str, Index, Token]] = []
        self.late_checks: list[tuple[str, CheckConstraint, Token]] = []
        self.version: str | None = None
        self.default_pk_type = "bigint"

    # --- helpers ------------------------------------------------------------------------------

    def error(self, message: str, tok: Token) -> SchemaParseError:
        return SchemaParseError(message, path=self.path, line=tok[2], column=tok[3])

    def warn(self, tok: Token, message: str) -> None:
        self.warnings.append((tok[2], f"{_where(self.path)}:{tok[2]}: {message}"))

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, kind: str, what: str) -> Token:
        tok = self.tokens[self.pos]
        if tok[0] != kind:
            raise self.error(f"expected {what}, found {_describe(tok)}", tok)
        self.pos += 1
        return tok

    def expect_ident(self, value: str, what: str) -> Token:
        tok = self.tokens[self.pos]
        if tok[0] != _IDENT or tok[1] != value:
            raise self.error(f"expected {what}, found {_describe(tok)}", tok)
        self.pos += 1
        return tok

    def at_ident(self, value: str) -> bool:
        tok = self.tokens[self.pos]
        return tok[0] == _IDENT and tok[1] == value

    def skip_newlines(self) -> Token:
        tokens = self.tokens
        while tokens[self.pos][0] == _NL:
            self.pos += 1
        return tokens[self.pos]

    def end_statement(self, what: str) -> None:
        tok = self.tokens[self.pos]
        if tok[0] == _NL:
            self.pos += 1
        elif tok[0] != _EOF and not (tok[0] == _IDENT and tok[1] == "end"):
            raise self.error(f"expected end of line after {what}, found {_describe(tok)}", tok)

    # --- values -------------------------------------------------------------------------------

    def value(self) -> Any:
        tok = self.next()
        kind = tok[0]
        if kind == _STR or kind == _INT or kind == _FLOAT:
            return tok[1]
        if kind == _SYM:
            return _Symbol(tok[1])
        if kind == _IDENT:
            word = tok[1]
            if word == "true":
                return True
            if word == "false":
                return False
            if word == "nil":
                return None
            if word in ("lambda", "proc") and self.tokens[self.pos][0] == "{":
                return self.lambda_body(tok)
            if word in ("Float", "BigDecimal"):
                return self.constant(tok, negative=False)
        if kind == "[":
            items: list[Any] = []
            while self.tokens[self.pos][0] != "]":
                items.append(self.value())
                if self.tokens[self.pos][0] == ",":
                    self.pos += 1
                elif self.tokens[self.pos][0] != "]":
                    bad = self.tokens[self.pos]
                    raise self.error(f"expected ',' or ']' in array, found {_describe(bad)}", bad)
            self.pos += 1
            return items
        if kind == "{":
            return self.hash_literal()
        if kind == "->":
            if self.tokens[self.pos][0] == "(":
                self.pos += 1
                self.expect(")", "')' after '->('")
            return self.lambda_body(tok)
        if kind == _WORDS:
            return [str(w) for w in tok[1]]
        if kind == "(":
            inner = self.value()
            self.expect(")", "')'")
            return inner
        if kind == "::" and self.at_ident("Float"):
            return self.constant(self.next(), negative=False)
        if kind == "-":
            nxt = self.tokens[self.pos]
            if nxt[0] == "::":
                self.pos += 1
            if self.at_ident("Float"):
                return self.constant(self.next(), negative=True)
        raise self.error(
            "expected a value (string, number, symbol, true/false/nil, array, hash or "
            f'-> {{ "..." }}), found {_describe(tok)}',
            tok,
        )

    def constant(self, tok: Token, *, negative: bool) -> float:
        self.expect("::", "'::' after Float")
        name = self.expect(_IDENT, "INFINITY or NAN")
        if name[1] == "INFINITY":
            return float("-inf") if negative else float("inf")
        if name[1] == "NAN":
            return float("nan")
        raise self.error(f"expected Float::INFINITY or Float::NAN, found Float::{name[1]}", name)

    def lambda_body(self, start: Token) -> _Lambda:
        opener = self.next()
        if opener[0] != "{" and not (opener[0] == _IDENT and opener[1] == "do"):
            raise self.error(f"expected '{{' after '->', found {_describe(opener)}", opener)
        body = self.skip_newlines()
        if body[0] != _STR:
            raise self.error(f"expected a string as the lambda body, found {_describe(body)}", body)
        self.pos += 1
        closer = self.skip_newlines()
        if opener[0] == "{":
            self.expect("}", "'}' closing the lambda")
        else:
            if closer[0] != _IDENT or closer[1] != "end":
                raise self.error(
                    f"expected `end` closing the lambda, found {_describe(closer)}", closer
                )
            self.pos += 1
        return _Lambda(body[1])

    def hash_literal(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        tokens = self.tokens
        while tokens[self.pos][0] != "}":
            tok = tokens[self.pos]
            if tok[0] == _LABEL:
                self.pos += 1
                key: Any = tok[1]
            else:
                key = self.value()
                self.expect("=>", "'=>' after a hash key")
            result[str(key) if isinstance(key, str) else key] = self.value()
            if tokens[self.pos][0] == ",":
                self.pos += 1
            elif tokens[self.pos][0] != "}":
                bad = tokens[self.pos]
                raise self.error(f"expected ',' or '}}' in hash, found {_describe(bad)}", bad)
        self.pos += 1
        return result

    def arguments(self) -> tuple[list[tuple[Any, Token]], _OptionMap]:
        """Call arguments, parenthesised or not: positional values, then ``key: value`` options."""
        tokens = self.tokens
        positional: list[tuple[Any, Token]] = []
        options: _OptionMap = {}
        tok = tokens[self.pos]
        prev = tokens[self.pos - 1]
        parenthesised = tok[0] == "(" and tok[4] == prev[4] + len(str(prev[1]))
        if parenthesised:
            self.pos += 1
            closing = ")"
        else:
            closing = ""
        while True:
            tok = tokens[self.pos]
            kind = tok[0]
            if parenthesised:
                if kind == ")":
                    self.pos += 1
                    break
            elif kind == _NL or kind == _EOF or (kind == _IDENT and tok[1] in ("do", "end")):
                break
            if kind == _LABEL:
                self.pos += 1
                options[tok[1]] = (self.value(), tok)
            else:
                value = self.value()
                if tokens[self.pos][0] == "=>":
                    self.pos += 1
                    options[str(value)] = (self.value(), tok)
                else:
                    if options:
                        raise self.error(
                            "expected `key: value` (positional arguments must come before "
                            f"options), found {_describe(tok)}",
                            tok,
                        )
                    positional.append((value, tok))
            nxt = tokens[self.pos]
            if nxt[0] == ",":
                self.pos += 1
                continue
            if parenthesised:
                if nxt[0] != closing:
                    raise self.error(f"expected ',' or ')', found {_describe(nxt)}", nxt)
                continue
            if nxt[0] not in (_NL, _EOF) and not (nxt[0] == _IDENT and nxt[1] in ("do", "end")):
                raise self.error(f"expected ',' or end of line, found {_describe(nxt)}", nxt)
        return positional, options

    # --- option readers -----------------------------------------------------------------------

    def opt_bool(self, options: _OptionMap, key: str, default: bool) -> bool:
        if key not in options:
            return default
        value, tok = options[key]
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(f"expected true or false for {key}:, found {value!r}", tok)
        return value

    def opt_int(self, options: _OptionMap, key: str) -> int | None:
        if key not in options:
            return None
        value, tok = options[key]
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected an integer or nil for {key}:, found {value!r}", tok)
        return value

    def opt_str(self, options: _OptionMap, key: str) -> str | None:
        if key not in options:
            return None
        value, tok = options[key]
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(f"expected a string or symbol for {key}:, found {value!r}", tok)
        return str(value)

    def name_of(self, value: Any, tok: Token, what: str) -> str:
        if not isinstance(value, str):
            raise self.error(f"expected {what} (a string or symbol), found {_describe(tok)}", tok)
        return str(value)

    def default_of(self, value: Any) -> Default:
        if isinstance(value, _Lambda):
            return Default(value.body, function=True)
        return Default(_plain(value))

    # --- file ---------------------------------------------------------------------------------

    def parse(self) -> Schema:
        self.define()
        for table_name, index, tok in self.late_indexes:
            builder = self.tables.get(table_name)
            if builder is None:
                self.warn(
                    tok,
                    f"skipped add_index on {_q(table_name)} (no table {_q(table_name)}; "
                    "views are not modelled)",
                )
            else:
                builder.indexes.append(index)
        for table_name, check, tok in self.late_checks:
            builder = self.tables.get(table_name)
            if builder is None:
                self.warn(
                    tok,
                    f"skipped add_check_constraint on {_q(table_name)} (no table {_q(table_name)})",
                )
            else:
                builder.add_check(check)
        self.fill_enum_values()
        return Schema(
            tables=tuple(b.build() for b in self.tables.values()),
            foreign_keys=tuple(self.foreign_keys),
            enums=tuple(self.enums.values()),
            associations=(),
            version=self.version,
            source=self.path,
        )

    def fill_enum_values(self) -> None:
        if not self.enums:
            return
        for builder in self.tables.values():
            for i, col in enumerate(builder.columns):
                if col.enum_type is not None and not col.enum_values:
                    enum = self.enums.get(col.enum_type) or self.enums.get(
                        col.enum_type.rsplit(".", 1)[-1]
                    )
                    if enum is not None:
                        builder.columns[i] = dataclasses.replace(col, enum_values=enum.values)

    def define(self) -> None:
        tok = self.skip_newlines()
        what = "`ActiveRecord::Schema.define(version: ...) do` (the define block)"
        if tok[0] == _EOF:
            raise self.error(f"missing define block: expected {what}, found end of file", tok)
        if tok[0] == "::":
            self.pos += 1
        self.expect_ident("ActiveRecord", what)
        self.expect("::", what)
        self.expect_ident("Schema", what)
        self.default_pk_type = "integer"
        if self.tokens[self.pos][0] == "[":
            self.pos += 1
            tag = self.next()
            if tag[0] not in (_FLOAT, _INT):
                raise self.error(
                    "expected a Rails version such as 8.0 in ActiveRecord::Schema[...], "
                    f"found {_describe(tag)}",
                    tag,
                )
            self.expect("]", "']'")
            self.default_pk_type = "bigint"
        self.expect(".", what)
        self.expect_ident("define", what)
        _, options = self.arguments()
        if "version" in options:
            value, vtok = options["version"]
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise self.error(f"expected an integer version, found {value!r}", vtok)
            self.version = str(value).replace("_", "")
        do = self.expect_ident("do", "`do` after define(...)")
        self.body(do)

    def body(self, do: Token) -> None:
        tokens = self.tokens
        while True:
            tok = self.skip_newlines()
            kind = tok[0]
            if kind == _EOF:
                raise self.error(
                    f"missing `end` of the define block opened at line {do[2]}: found end of file",
                    tok,
                )
            if kind == _IDENT:
                word = tok[1]
                if word == "end":
                    self.pos += 1
                    rest = self.skip_newlines()
                    if rest[0] != _EOF:
                        raise self.error(
                            f"expected end of file after the define block's `end`, "
                            f"found {_describe(rest)}",
                            rest,
                        )
                    return
                self.pos += 1
                if word in _BLOCK_STARTERS:
                    self.consume_block(tok)
                    self.consume_statement()
                    self.warn(tok, f"skipped {word} block (Ruby control flow is not modelled)")
                    continue
                if tokens[self.pos][0] in ("::", "."):
                    self.skip_statement(tok, None)
                    continue
                handler = self.STATEMENTS.get(word)
                if handler is not None:
                    handler(self, tok)
                elif word in _SILENT:
                    self.consume_statement()
                else:
                    self.skip_statement(tok, _SKIP_REASONS.get(word))
                continue
            raise self.error(f"expected a statement or `end`, found {_describe(tok)}", tok)

    # --- skipped statements -------------------------------------------------------------------

    def consume_statement(self) -> None:
        """Consume tokens to the end of the statement, including any ``do ... end`` block."""
        tokens = self.tokens
        while True:
            tok = tokens[self.pos]
            kind = tok[0]
            if kind == _NL:
                self.pos += 1
                return
            if kind == _EOF:
                return
            if kind == _IDENT:
                if tok[1] == "end":
                    return
                if tok[1] == "do":
                    self.pos += 1
                    self.consume_block(tok)
                    continue
            self.pos += 1

    def consume_block(self, opener: Token) -> None:
        tokens = self.tokens
        depth = 1
        at_start = True
        while True:
            tok = tokens[self.pos]
            kind = tok[0]
            self.pos += 1
            if kind == _EOF:
                raise self.error(
                    f"missing `end` for the `do` block opened at line {opener[2]}: "
                    "found end of file",
                    tok,
                )
            if kind == _IDENT:
                word = tok[1]
                if word == "end":
                    depth -= 1
                    if depth == 0:
                        return
                elif word == "do" or (at_start and word in _BLOCK_STARTERS):
                    depth += 1
            at_start = kind == _NL

    def skip_statement(self, tok: Token, reason: str | None) -> None:
        name_tok = self.tokens[self.pos]
        if name_tok[0] == "(":
            name_tok = self.tokens[self.pos + 1]
        callee = tok[1]
        if self.tokens[self.pos][0] in ("::", "."):
            parts = [tok[1]]
            i = self.pos
            while self.tokens[i][0] in ("::", ".") and self.tokens[i + 1][0] == _IDENT:
                parts.append(self.tokens[i][0] + self.tokens[i + 1][1])
                i += 2
            callee = "".join(parts)
            name_tok = self.tokens[i + 1] if self.tokens[i][0] == "(" else self.tokens[i]
        self.consume_statement()
        label = callee
        if name_tok[0] in (_STR, _SYM):
            label = f"{callee} {_q(name_tok[1])}"
        self.warn(tok, f"skipped {label} ({reason or 'unknown statement'})")

    # --- modelled top-level statements --------------------------------------------------------

    def create_enum(self, tok: Token) -> None:
        positional, _ = self.arguments()
        if len(positional) != 2 or not isinstance(positional[1][0], list):
            raise self.error(
                'expected create_enum "name", ["value", ...]',
                positional[0][1] if positional else tok,
            )
        name = self.name_of(*positional[0], "an enum name")
        values = positional[1][0]
        for v in values:
            if not isinstance(v, str):
                raise self.error(f"expected string enum values, found {v!r}", positional[1][1])
        self.enums[name] = EnumType(name, tuple(str(v) for v in values))
        self.end_statement("create_enum")

    def add_foreign_key(self, tok: Token) -> None:
        positional, options = self.arguments()
        if len(positional) != 2:
            raise self.error(
                'expected add_foreign_key "from_table", "to_table", options; found '
                f"{len(positional)} positional argument(s)",
                tok,
            )
        self.foreign_keys.append(self.foreign_key(positional, options, None))
        self.end_statement("add_foreign_key")

    def foreign_key(
        self, positional: list[tuple[Any, Token]], options: _OptionMap, from_table: str | None
    ) -> ForeignKey:
        if from_table is None:
            from_table = self.name_of(*positional[0], "the referencing table")
            positional = positional[1:]
        to_table = self.name_of(*positional[0], "the referenced table")
        column = self.opt_str(options, "column")
        if column is None:
            column = _singularize(to_table.rsplit(".", 1)[-1]) + "_id"
        return ForeignKey(
            from_table=from_table,
            to_table=to_table,
            column=column,
            primary_key=self.opt_str(options, "primary_key") or "id",
            name=self.opt_str(options, "name"),
            on_delete=self.opt_str(options, "on_delete"),
            on_update=self.opt_str(options, "on_update"),
        )

    def add_index(self, tok: Token) -> None:
        positional, options = self.arguments()
        if len(positional) != 2:
            raise self.error(
                'expected add_index "table", ["column", ...] or "expression", options; '
                f"found {len(positional)} positional argument(s)",
                tok,
            )
        table = self.name_of(*positional[0], "a table name")
        index = self.index(table, positional[1], options, unique_default=False)
        self.late_indexes.append((table, index, tok))
        self.end_statement("add_index")

    def add_check_constraint(self, tok: Token) -> None:
        positional, options = self.arguments()
        if len(positional) != 2 or not isinstance(positional[1][0], str):
            raise self.error('expected add_check_constraint "table", "SQL", options', tok)
        table = self.name_of(*positional[0], "a table name")
        check = CheckConstraint(str(positional[1][0]), self.opt_str(options, "name"))
        self.late_checks.append((table, check, tok))
        self.end_statement("add_check_constraint")

    def index(
        self, table: str, target: tuple[Any, Token], options: _OptionMap, *, unique_default: bool
    ) -> Index:
        value, vtok = target
        columns: tuple[str, ...] = ()
        expression: str | None = None
        if isinstance(value, list):
            for v in value:
                if not isinstance(v, str):
                    raise self.error(f"expected column names in the index, found {v!r}", vtok)
            columns = tuple(str(v) for v in value)
        elif isinstance(value, _Symbol) or (isinstance(value, str) and _NAME_RE.match(value)):
            columns = (str(value),)
        elif isinstance(value, str):
            expression = value
        else:
            raise self.error(
                f"expected an array of columns or an expression string, found {_describe(vtok)}",
                vtok,
            )
        name = self.opt_str(options, "name")
        if name is None and columns:
            name = f"index_{table}_on_{'_and_'.join(columns)}"
        return Index(
            name=name,
            columns=columns,
            expression=expression,
            unique=self.opt_bool(options, "unique", unique_default),
            where=self.opt_str(options, "where"),
            using=self.opt_str(options, "using"),
        )

    # --- create_table -------------------------------------------------------------------------

    def create_table(self, tok: Token) -> None:
        positional, options = self.arguments()
        if len(positional) != 1:
            raise self.error(
                f'expected create_table "name", options; found {len(positional)} '
                "positional argument(s)",
                tok,
            )
        name = self.name_of(*positional[0], "a table name")
        if name in self.tables:
            raise self.error(f"table {name!r} is created twice", tok)
        builder = _TableBuilder(
            name=name,
            line=tok[2],
            columns=[],
            primary_key=(),
            comment=self.opt_str(options, "comment"),
        )
        composite = self.table_primary_key(builder, options, tok)
        self.tables[name] = builder
        if self.at_ident("do"):
            do = self.next()
            self.table_body(builder, do)
        else:
            self.end_statement(f"create_table {name!r}")
        if composite is not None:
            for col_name in composite:
                if not builder.replace_column(col_name, primary_key=True):
                    raise self.error(
                        f"primary_key column {col_name!r} of table {name!r} is not declared in "
                        "its body",
                        tok,
                    )

    def table_primary_key(
        self, builder: _TableBuilder, options: _OptionMap, tok: Token
    ) -> tuple[str, ...] | None:
        """Add the implicit primary key column; return the composite key to check, if any."""
        pk_value, pk_tok = options.get("primary_key", (None, tok))
        id_value, id_tok = options.get("id", (_Symbol("primary_key"), tok))
        if isinstance(pk_value, list):
            names = tuple(self.name_of(v, pk_tok, "a primary key column") for v in pk_value)
            builder.primary_key = names
            return names
        if id_value is False:
            return None
        pk_name = "id" if pk_value is None else self.name_of(pk_value, pk_tok, "a primary key")
        limit = None
        comment = None
        if isinstance(id_value, dict):
            id_opts = {k: (v, id_tok) for k, v in id_value.items()}
            type_name = self.opt_str(id_opts, "type") or "primary_key"
            limit = self.opt_int(id_opts, "limit")
            comment = self.opt_str(id_opts, "comment")
        elif isinstance(id_value, str):
            type_name = str(id_value)
        elif id_value is True:
            type_name = "primary_key"
        else:
            raise self.error(
                f"expected id: to be a type symbol, a hash or false, found {id_value!r}", id_tok
            )
        pk_type = {
            "primary_key": self.default_pk_type,
            "serial": "integer",
            "bigserial": "bigint",
        }.get(type_name, type_name)
        default: Default | None = None
        if "default" in options:
            value = options["default"][0]
            if value is not None:
                default = self.default_of(value)
        builder.primary_key = (pk_name,)
        builder.add_column(
            Column(
                name=pk_name,
                type=pk_type,
                null=False,
                default=default,
                limit=limit,
                comment=comment,
                primary_key=True,
            ),
            tok,
            self.path,
        )
        return None

    def table_body(self, builder: _TableBuilder, do: Token) -> None:
        tokens = self.tokens
        receiver = "t"
        if tokens[self.pos][0] != _NL:
            self.expect("|", "'|' starting the block parameter (do |t|)")
            receiver = self.expect(_IDENT, "the block parameter name (do |t|)")[1]
            self.expect("|", "'|' closing the block parameter (do |t|)")
        shape = f'`{receiver}.<column type> "name"`, `{receiver}.index ...` or `end`'
        while True:
            tok = self.skip_newlines()
            kind = tok[0]
            if kind == _IDENT and tok[1] == "end":
                self.pos += 1
                self.end_statement(f"the `end` of create_table {builder.name!r}")
                return
            if kind == _EOF:
                raise self.error(
                    f"missing `end` for create_table {builder.name!r} opened at line "
                    f"{builder.line}: found end of file",
                    tok,
                )
            if kind != _IDENT or tok[1] != receiver or tokens[self.pos + 1][0] != ".":
                hint = ""
                if kind == _IDENT and tok[1] in self.STATEMENTS:
                    hint = f" (is the `end` of create_table {builder.name!r} missing?)"
                raise self.error(
                    f"expected {shape} in the body of create_table {builder.name!r} "
                    f"(line {builder.line}), found {_describe(tok)}{hint}",
                    tok,
                )
            method_tok = tokens[self.pos + 2]
            if method_tok[0] != _IDENT:
                raise self.error(
                    f"expected a method name after '{receiver}.', found {_describe(method_tok)}",
                    method_tok,
                )
            self.pos += 3
            positional, options = self.arguments()
            self.table_statement(builder, method_tok, positional, options)
            self.end_statement(f"{receiver}.{method_tok[1]}")

    def table_statement(
        self,
        builder: _TableBuilder,
        method_tok: Token,
        positional: list[tuple[Any, Token]],
        options: _OptionMap,
    ) -> None:
        method = method_tok[1]
        special = self.TABLE_METHODS.get(method)
        if special is not None:
            special(self, builder, method_tok, positional, options)
            return
        if method == "column":
            if len(positional) != 2:
                raise self.error('expected t.column "name", :type, options', method_tok)
            col_type = self.name_of(*positional[1], "a column type")
            positional = positional[:1]
        elif method == "virtual":
            col_type = self.opt_str(options, "type") or ""
            if not col_type:
                raise self.error("expected a type: option on t.virtual", method_tok)
        else:
            col_type = method
        if not positional:
            raise self.error(f"expected a column name after t.{method}", method_tok)
        for value, tok in positional:
            name = self.name_of(value, tok, "a column name")
            builder.add_column(
                self.column(name, col_type, options, virtual=method == "virtual"), tok, self.path
            )
            if self.opt_bool(options, "primary_key", False) and name not in builder.primary_key:
                builder.primary_key = (*builder.primary_key, name)
            if "index" in options:  # hand-written `t.string :email, index: { unique: true }`
                self.column_index(builder, name, options["index"])

    def column_index(self, builder: _TableBuilder, name: str, option: tuple[Any, Token]) -> None:
        value, tok = option
        if value is None or value is False:
            return
        index_opts: _OptionMap = {}
        if isinstance(value, dict):
            index_opts = {k: (v, tok) for k, v in value.items()}
        elif value is not True:
            raise self.error(f"expected true, false or a hash for index:, found {value!r}", tok)
        builder.indexes.append(
            self.index(builder.name, ([name], tok), index_opts, unique_default=False)
        )

    def column(self, name: str, col_type: str, options: _OptionMap, *, virtual: bool) -> Column:
        default = None
        if "default" in options:
            default = self.default_of(options["default"][0])
        enum_values: tuple[str, ...] = ()
        if "values" in options and isinstance(options["values"][0], list):
            enum_values = tuple(str(v) for v in options["values"][0])
        return Column(
            name=name,
            type=col_type,
            null=self.opt_bool(options, "null", True),
            default=default,
            limit=self.opt_int(options, "limit"),
            precision=self.opt_int(options, "precision"),
            scale=self.opt_int(options, "scale"),
            array=self.opt_bool(options, "array", False),
            comment=self.opt_str(options, "comment"),
            enum_type=self.opt_str(options, "enum_type"),
            enum_values=enum_values,
            primary_key=self.opt_bool(options, "primary_key", False),
            virtual=virtual,
        )

    def t_index(
        self,
        builder: _TableBuilder,
        tok: Token,
        positional: list[tuple[Any, Token]],
        options: _OptionMap,
    ) -> None:
        if len(positional) != 1:
            raise self.error('expected t.index ["column", ...] or "expression", options', tok)
        builder.indexes.append(
            self.index(builder.name, positional[0], options, unique_default=False)
        )

    def t_unique_constraint(
        self,
        builder: _TableBuilder,
        tok: Token,
        positional: list[tuple[Any, Token]],
        options: _OptionMap,
    ) -> None:
        if len(positional) != 1:
            raise self.error('expected t.unique_constraint ["column", ...], options', tok)
        builder.indexes.append(
            self.index(builder.name, positional[0], options, unique_default=True)
        )

    def t_check_constraint(
        self,
        builder: _TableBuilder,
        tok: Token,
        positional: list[tuple[Any, Token]],
        options: _OptionMap,
    ) -> None:
        if len(positional) != 1 or not isinstance(positional[0][0], str):
            raise self.error('expected t.check_constraint "SQL", name: "..."', tok)
        builder.add_check(CheckConstraint(str(positional[0][0]), self.opt_str(options, "name")))

    def t_exclusion_constraint(
        self,
        builder: _TableBuilder,
        tok: Token,
        positional: list[tuple[Any, Token]],
        options: _OptionMap,
    ) -> None:
        name = self.opt_str(options, "name")
        label = f" {_q(name)}" if name else ""
        self.warn(
            tok,
            f"skipped t.exclusion_constraint{label} in table {_q(builder.name)} "
            "(exclusion constraints are not modelled)",
        )

    def t_timestamps(
        self,
        builder: _TableBuilder,
        tok: Token,
        positional: list[tuple[Any, Token]],
        options: _OptionMap,
    ) -> None:
        null = self.opt_bool(options, "null", False)
        precision = self.opt_int(options, "precision")
        for name in ("created_at", "updated_at"):
            builder.add_column(
                Column(name=name, type="datetime", null=null, precision=precision), tok, self.path
            )

    def t_primary_key(
        self,
        builder: _TableBuilder,
        tok: Token,
        positional: list[tuple[Any, Token]],
        options: _OptionMap,
    ) -> None:
        if not positional:
            raise self.error('expected t.primary_key "name"[, :type]', tok)
        name = self.name_of(*positional[0], "a column name")
        col_type = (
            self.name_of(*positional[1], "a column type")
            if len(positional) > 1
            else self.default_pk_type
        )
        column = self.column(name, col_type, options, virtual=False)
        builder.add_column(
            dataclasses.replace(column, primary_key=True, null=False), positional[0][1], self.path
        )
        if name not in builder.primary_key:
            builder.primary_key = (*builder.primary_key, name)

    def t_foreign_key(
        self,
        builder: _TableBuilder,
        tok: Token,
        positional: list[tuple[Any, Token]],
        options: _OptionMap,
    ) -> None:
        if len(positional) != 1:
            raise self.error('expected t.foreign_key "to_table", options', tok)
        self.foreign_keys.append(self.foreign_key(positional, options, builder.name))

    def t_references(
        self,
        builder: _TableBuilder,
        tok: Token,
        positional: list[tuple[Any, Token]],
        options: _OptionMap,
    ) -> None:
        if not positional:
            raise self.error(f"expected a reference name after t.{tok[1]}", tok)
        polymorphic_value = options.get("polymorphic", (False, tok))[0]
        polymorphic = polymorphic_value is not False and polymorphic_value is not None
        col_type = self.opt_str(options, "type") or "bigint"
        null = self.opt_bool(options, "null", True)
        fk_value, fk_tok = options.get("foreign_key", (False, tok))
        index_value = options.get("index", (True, tok))[0]
        for value, name_tok in positional:
            ref = self.name_of(value, name_tok, "a reference name")
            id_column = self.column(f"{ref}_id", col_type, options, virtual=False)
            builder.add_column(dataclasses.replace(id_column, null=null), name_tok, self.path)
            if polymorphic:
                builder.add_column(
                    Column(name=f"{ref}_type", type="string", null=null), name_tok, self.path
                )
            if index_value is not False and index_value is not None:
                index_opts: _OptionMap = {}
                if isinstance(index_value, dict):
                    index_opts = {k: (v, tok) for k, v in index_value.items()}
                elif index_value is not True:
                    raise self.error(
                        f"expected true, false or a hash for index:, found {index_value!r}", tok
                    )
                columns = [f"{ref}_type", f"{ref}_id"] if polymorphic else [f"{ref}_id"]
                if polymorphic and "name" not in index_opts:
                    index_opts["name"] = (f"index_{builder.name}_on_{ref}", tok)
                builder.indexes.append(
                    self.index(builder.name, (columns, tok), index_opts, unique_default=False)
                )
            if fk_value is not False and fk_value is not None:
                if polymorphic:
                    raise self.error(
                        "expected no foreign_key: on a polymorphic reference (Rails cannot add "
                        "a foreign key to a polymorphic relation)",
                        fk_tok,
                    )
                fk_opts: _OptionMap = {}
                if isinstance(fk_value, dict):
                    fk_opts = {k: (v, fk_tok) for k, v in fk_value.items()}
                elif fk_value is not True:
                    raise self.error(
                        f"expected true or a hash for foreign_key:, found {fk_value!r}", fk_tok
                    )
                to_table = self.opt_str(fk_opts, "to_table") or _pluralize(ref)
                fk_opts["column"] = (f"{ref}_id", fk_tok)
                self.foreign_keys.append(
                    self.foreign_key([(to_table, fk_tok)], fk_opts, builder.name)
                )

    STATEMENTS: Final[dict[str, Callable[[_Parser, Token], None]]] = {
        "create_table": create_table,
        "create_enum": create_enum,
        "add_foreign_key": add_foreign_key,
        "add_index": add_index,
        "add_check_constraint": add_check_constraint,
    }
    TABLE_METHODS: Final[
        dict[
            str,
            Callable[[_Parser, _TableBuilder, Token, list[tuple[Any, Token]], _OptionMap], None],
        ]
    ] = {
        "index": t_index,
        "unique_constraint": t_unique_constraint,
        "check_constraint": t_check_constraint,
        "exclusion_constraint": t_exclusion_constraint,
        "timestamps": t_timestamps,
        "primary_key": t_primary_key,
        "foreign_key": t_foreign_key,
        "references": t_references,
        "belongs_to": t_references,
    }


# --- Public API -------------------------------------------------------------------------------


def parse_schema_rb(text: str, *, path: str | None = None) -> Schema:
    """Parse the text of a ``db/schema.rb`` dump.

    Parameters
    ----------
    text : str
        The Ruby source.
    path : str or None
        Where the text came from; used in messages and stored as ``Schema.source``.

    Returns
    -------
    Schema
        Tables in file order, foreign keys, enums; ``associations`` is empty (inference lives in
        :mod:`rrperf.schema.associations`). ``version`` is the define version without ``_``.

    Raises
    ------
    SchemaParseError
        When the text is not a well-formed schema file; ``line`` and ``column`` point at the
        offending token and the message says what was expected and what was found.

    Warns
    -----
    SchemaWarning
        Once per statement that is consumed but not modelled (views, virtual tables, triggers,
        functions, unknown calls, exclusion constraints, ``add_index`` on a missing table), and
        once per ``# Could not dump table`` comment, each naming the file and line.
    """
    return _parse(text, path, stacklevel=3)


def _parse(text: str, path: str | None, *, stacklevel: int) -> Schema:
    parser = _Parser(text, path)
    schema = parser.parse()
    # Warnings are collected during the parse and emitted in line order once it succeeded.
    for _, message in sorted(parser.warnings, key=lambda w: w[0]):
        warnings.warn(message, SchemaWarning, stacklevel=stacklevel)
    logger.debug(
        "parsed %s: %d tables, %d foreign keys, %d enums",
        _where(path),
        len(schema.tables),
        len(schema.foreign_keys),
        len(schema.enums),
    )
    return schema


def load_schema_rb(path: str | os.PathLike[str]) -> Schema:
    """Read a ``db/schema.rb`` file (UTF-8) and parse it.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    Returns
    -------
    Schema
        As :func:`parse_schema_rb`, with ``source`` set to ``path``.

    Raises
    ------
    SchemaSourceError
        When the file cannot be read or is not UTF-8 (the message names the path).
    SchemaParseError
        When the file is malformed.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            data = handle.read()
        # decoded as open(name, encoding=...) does (universal newlines); utf-8-sig: an
        # editor-added byte order mark is not part of the Ruby source.
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig").read()
    except (OSError, UnicodeDecodeError) as err:
        raise SchemaSourceError(f"cannot read schema file {name!r}: {err}") from err
    memo = run_memo()
    if memo is not None:  # a generator run: its run key is the sha256 of what was parsed
        memo[os.path.abspath(name)] = hashlib.sha256(data).hexdigest()
    return _parse(text, name, stacklevel=3)
