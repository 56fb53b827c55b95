"""The optimizer's report: JSON, Markdown or HTML of
:meth:`rrperf.optimize.optimizer.PerformanceOptimizer.generate_comprehensive_report`, the
latter two through the one rendering layer (:mod:`rrperf.document`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from rrperf.document import Section, json_value, render_document
from rrperf.errors import ConfigError

__all__ = ["REPORT_FORMATS", "plain", "render_report"]

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
        return json.dumps(plain(data), indent=2, allow_nan=False)
    sections = [Section.of(title, rows, note=note or "") for title, rows, note in _sections(data)]
    return render_document("rrperf optimizer report", sections, format)


def plain(value: Any) -> Any:
    """``value`` as strict JSON data, recursively: NaN and infinities None, sets sorted,
    paths as text, other scalars by :func:`rrperf.document.json_value`."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return [plain(v) for v in sorted(value)]
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return json_value(value)


def _kv_rows(mapping: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        {"key": k, "value": json.dumps(plain(v)) if isinstance(v, Mapping) else v}
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
