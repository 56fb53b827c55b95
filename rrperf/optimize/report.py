"""The optimizer's report renderer: JSON, Markdown and HTML of
:meth:`rrperf.optimize.optimizer.PerformanceOptimizer.generate_comprehensive_report`.

Moved here unchanged from the optimizer (issue 12); a shared rendering layer replaces it.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Mapping
from typing import Any

from rrperf.errors import ConfigError

__all__ = ["REPORT_FORMATS", "render_report"]

#: Formats of :func:`render_report`.
REPORT_FORMATS: tuple[str, ...] = ("json", "markdown", "html")


def render_report(data: Mapping[str, Any], format: str = "json") -> str:
    """The report of ``data`` (the optimizer's report data) in ``format``.

    Raises
    ------
    ConfigError
        On an unknown format.
    """
    if format not in REPORT_FORMATS:
        raise ConfigError(
            f"report format must be one of {', '.join(REPORT_FORMATS)}, got {format!r}"
        )
    if format == "json":
        return json.dumps(_plain(data), indent=2, default=_json_default, allow_nan=False)
    if format == "markdown":
        return _markdown_report(data)
    return _html_report(data)


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _plain(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None (strict JSON), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)



def _json_default(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


_MD_SPECIAL = "\\`|<>[]*_#"


def _md(value: Any) -> str:
    text = _fmt(value) if value is not None else ""
    out = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)
    return out.replace("\r", " ").replace("\n", " ")


def _md_table(rows: list[Mapping[str, Any]]) -> list[str]:
    if not rows:
        return ["_none_"]
    cols = list(rows[0])
    lines = [
        "| " + " | ".join(_md(c) for c in cols) + " |",
        "|" + "|".join("---" for _ in cols) + "|",
    ]
    lines += ["| " + " | ".join(_md(r.get(c)) for c in cols) + " |" for r in rows]
    return lines


def _kv_rows(mapping: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        {"key": k, "value": json.dumps(v, default=_json_default) if isinstance(v, Mapping) else v}
        for k, v in mapping.items()
    ]


def _sections(data: Mapping[str, Any]) -> list[tuple[str, list[Mapping[str, Any]], str | None]]:
    analysis = data["analysis"]
    sections: list[tuple[str, list[Mapping[str, Any]], str | None]] = [
        ("Metrics", list(data["metrics"]), None),
        ("Configuration", _kv_rows(data["configuration"]), None),
        (
            "Last analysis",
            list(analysis["rows"]) if analysis else [],
            next(iter(analysis["recommendations"].values()))["rationale"] if analysis else None,
        ),
        ("Monitor", list(data["monitor"]), None),
        ("Cache efficiency", list(data["cache_efficiency"]), None),
    ]
    if "runs" in data:
        runs: list[Mapping[str, Any]] = [
            {
                k: r[k]
                for k in (
                    "target",
                    "kind",
                    "strategy",
                    "wall_s",
                    "output_matches_legacy",
                    "output_digest",
                )
            }
            | {"rationale": r["rationale"]}
            for r in data["runs"]
        ]
        sections.append(("Runs", runs, None))
    return sections


def _markdown_report(data: Mapping[str, Any]) -> str:
    lines = ["# rrperf optimizer report", ""]
    for title, rows, note in _sections(data):
        lines += [f"## {title}", ""]
        if note:
            lines += [_md(note), ""]
        lines += _md_table(rows)
        lines.append("")
    return "\n".join(lines)


def _html_table(rows: list[Mapping[str, Any]]) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    cols = list(rows[0])
    head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{_esc(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_report(data: Mapping[str, Any]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>rrperf optimizer report</title></head><body>',
        "<h1>rrperf optimizer report</h1>",
    ]
    for title, rows, note in _sections(data):
        parts.append(f"<h2>{_esc(title)}</h2>")
        if note:
            parts.append(f"<p>{_esc(note)}</p>")
        parts.append(_html_table(rows))
    parts.append("</body></html>")
    return "\n".join(parts)
