"""The one rendering layer of every report: escaping, tables and whole documents.

A report is a title, intro paragraphs and :class:`Section` s (a heading, an optional note,
then a table, or else a list of items, or else an "empty" text); :func:`render_document` writes
it as Markdown or as a self-contained HTML page, :func:`md_table` and :func:`html_table` one
table. HTML is escaped by Jinja2's autoescaping; Markdown by :func:`md_escape`. Cells are
formatted by :func:`cell_text`. Bottom layer of the package; Jinja2 is imported on first use.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2
    import pandas as pd

__all__ = [
    "Section",
    "cell_text",
    "html_table",
    "is_missing",
    "json_records",
    "json_value",
    "md_escape",
    "md_table",
    "render_document",
    "table_cells",
]

# Characters that can start Markdown syntax anywhere in a line: code, emphasis, links and
# images, HTML, table cells, strikethrough, entities. Parentheses, braces, dots and the like
# are literal unless they follow one of these, so they are left alone (a report reads
# "4 scenario(s)", not "4 scenario\\(s\\)").
_MD_SPECIAL = re.compile(r"([\\`*\[\]|<>~&])")
# "_" opens emphasis only at a word boundary: cache_state stays as it is.
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# What makes a line a heading, quote, list item, rule or setext underline when it starts it.
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>+=-])|(\d+)([.)]))")


def md_escape(text: str, *, line: bool = True) -> str:
    """``text`` shown literally in Markdown, on one line: only what Markdown would read as
    syntax is backslash-escaped (``cache_state`` and ``4 scenario(s)`` stay as they are).
    ``line=False`` for a table cell or list item, where a leading ``#``, ``-`` or ``1.``
    starts nothing."""
    flat = " ".join(text.split())
    escaped = _MD_UNDERSCORE.sub(r"\\_", _MD_SPECIAL.sub(r"\\\1", flat))
    return _MD_LINE_START.sub(_escape_line_start, escaped) if line else escaped


def _escape_line_start(m: re.Match[str]) -> str:
    if m.group(2):
        return f"{m.group(1)}\\{m.group(2)}"
    return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"


def is_missing(value: Any) -> bool:
    """None, NaN, pandas' NA or NaT (pandas is not imported)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def cell_text(value: Any) -> str:
    """Text of one table cell: missing -> ``""``; floats with 4 significant digits (whole
    from 10,000 up); dates in ISO 8601; anything else ``str``."""
    if is_missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1e4 else f"{value:.4g}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def json_value(value: Any) -> Any:
    """A value for strict JSON: missing and non-finite -> None, numpy scalars -> Python ones,
    dates -> ISO 8601, anything else not a bool, int or str -> ``str``."""
    if is_missing(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value if isinstance(value, bool | int | str) else str(value)


def json_records(data: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a frame, or records, as JSON-safe dicts (:func:`json_value`)."""
    if isinstance(data, Sequence):
        return [{str(k): json_value(v) for k, v in r.items()} for r in data]
    cols = [str(c) for c in data.columns]
    return [dict(zip(cols, map(json_value, row), strict=True))
            for row in data.astype(object).itertuples(index=False, name=None)]


def table_cells(
    data: pd.DataFrame | Sequence[Mapping[str, Any]],
) -> tuple[list[str], list[list[str]]]:
    """Column names and cell texts of a frame or of records (the first record's keys)."""
    if isinstance(data, Sequence):
        columns = [str(c) for c in data[0]] if data else []
        return columns, [[cell_text(r.get(c)) for c in columns] for r in data]
    return [str(c) for c in data.columns], [
        [cell_text(v) for v in row]
        for row in data.astype(object).itertuples(index=False, name=None)
    ]


def md_table(columns: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str = "") -> str:
    """A pipe table of already formatted cells (escaped here), after the caption's line."""
    lines = [md_escape(caption), ""] if caption else []
    lines.append("| " + " | ".join(md_escape(c, line=False) for c in columns) + " |")
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines += ["| " + " | ".join(md_escape(v, line=False) for v in row) + " |" for row in rows]
    return "\n".join(lines)


_TEMPLATES = {
    "table": """\
{% macro table(columns, rows, caption="", css_class="rrperf-table") -%}
<table class="{{ css_class }}">
{% if caption %}<caption>{{ caption }}</caption>
{% endif %}
<thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}
</tbody></table>
{%- endmacro %}""",
    "document": """\
{% from "table" import table %}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
{% for p in intro %}<p>{{ p }}</p>
{% endfor %}
{% for s in sections %}
<h2>{{ s.heading }}</h2>
{% if s.note %}<p>{{ s.note }}</p>
{% endif %}
{% if s.rows %}{{ table(s.columns, s.rows) }}
{% elif s.items %}<ul>
{% for item in s.items %}<li>{{ item }}</li>
{% endfor %}</ul>
{% else %}<p><em>{{ s.empty }}</em></p>
{% endif %}
{% endfor %}
</body>
</html>
""",
}


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.DictLoader(_TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
    )


def html_table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str = "",
    css_class: str = "rrperf-table",
) -> str:
    """An HTML table of already formatted cells, every text escaped."""
    macro = _environment().get_template("table").module.table  # type: ignore[attr-defined]
    return str(macro(list(columns), [list(r) for r in rows], caption, css_class))


@dataclass(frozen=True)
class Section:
    """One part of a report: a heading, an optional note, then a table (``columns`` and
    ``rows`` of cell texts; :meth:`of` makes them from a frame or records), or else a list of
    ``items``, or else the ``empty`` text in italics."""

    heading: str
    columns: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()
    note: str = ""
    items: Sequence[str] = ()
    empty: str = "none"

    @classmethod
    def of(
        cls, heading: str, data: pd.DataFrame | Sequence[Mapping[str, Any]], *,
        note: str = "", empty: str = "none",
    ) -> Section:
        """A section showing the table ``data`` (a frame, or records with the same keys)."""
        columns, rows = table_cells(data)
        return cls(heading, columns, rows, note=note, empty=empty)


def render_document(
    title: str, sections: Iterable[Section], format: str = "markdown", *,
    intro: Sequence[str] = (),
) -> str:
    """A whole report (``format`` ``"markdown"`` or ``"html"``, a page with an inline style
    and no script): the title as the top heading, the ``intro`` paragraphs, the sections.
    Raises ValueError on another format (callers check it against their own list first)."""
    sections = list(sections)
    if format == "html":
        page = _environment().get_template("document")
        return page.render(title=title, intro=list(intro), sections=sections)
    if format != "markdown":
        raise ValueError(f"format must be one of markdown, html, got {format!r}")
    parts = [f"# {md_escape(title)}", *(md_escape(p) for p in intro)]
    for s in sections:
        parts.append(f"## {md_escape(s.heading)}" + (f"\n\n{md_escape(s.note)}" if s.note else ""))
        if s.rows:
            parts.append(md_table(s.columns, s.rows))
        elif s.items:
            parts.append("\n".join(f"- {md_escape(item, line=False)}" for item in s.items))
        else:
            parts.append(f"_{md_escape(s.empty)}_")
    return "\n\n".join(parts) + "\n"
