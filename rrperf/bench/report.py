"""The comparative benchmark report: one result rendered as Markdown, HTML or JSON.

A report has six parts, always in this order and under these headings: ``Metadata`` (one row
per run), ``Summary`` (per group, with confidence intervals), ``Comparison`` (each variant against
the baseline, with the verdict), ``Correctness`` (the output-digest gate), ``Stability`` (the
warnings of :func:`rrperf.bench.stats.stability_warnings`) and, in JSON only, the raw ``rows``.
Every part is a tidy table computed by the statistics functions; this module only formats.

Every string taken from the data (scenario, system and strategy names, error messages, paths)
is escaped: HTML through Jinja2's autoescaping, Markdown by backslash-escaping ``|``, ``<``,
``>``, backquotes, brackets and backslashes, so a scenario called
``<script>alert(1)</script>`` shows as text.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf.errors import ConfigError, ReportError

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.bench.results import BenchmarkResult

__all__ = ["REPORT_FORMATS", "REPORT_SECTIONS", "generate_report"]

logger = logging.getLogger(__name__)

#: Formats :func:`generate_report` writes.
REPORT_FORMATS: tuple[str, ...] = ("markdown", "json", "html")

#: Section headings, in order (JSON keys are their lower-case forms, plus ``rows``).
REPORT_SECTIONS: tuple[str, ...] = (
    "Metadata", "Summary", "Comparison", "Correctness", "Stability",
)

_TITLE = "rrperf benchmark report"
# Characters that would end a table cell, open HTML, code or a link in a Markdown table cell.
# (Emphasis markers are left alone: they cannot inject anything and escaping them would make
# column names such as cache_state unreadable in the raw file.)
_MD_SPECIAL = re.compile(r"([\\`|<>\[\]])")


def _cell(value: Any) -> str:
    """Plain text of one value: missing -> "", floats with 4 significant digits."""
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.4g}"
    if isinstance(value, datetime | pd.Timestamp):
        return value.isoformat()
    return str(value)


def _md_escape(text: str) -> str:
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    return escaped.replace("\r", " ").replace("\n", " ")


def _md_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_none_"
    cols = [str(c) for c in frame.columns]
    lines = [
        "| " + " | ".join(_md_escape(c) for c in cols) + " |",
        "|" + "|".join("---" for _ in cols) + "|",
    ]
    for row in frame.astype(object).itertuples(index=False, name=None):
        lines.append("| " + " | ".join(_md_escape(_cell(v)) for v in row) + " |")
    return "\n".join(lines)


def _json_safe(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    return str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [str(c) for c in frame.columns]
    return [
        {c: _json_safe(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.astype(object).itertuples(index=False, name=None)
    ]


def _sections(result: BenchmarkResult) -> dict[str, pd.DataFrame]:
    """The report's tables, computed once (statistics come from rrperf.bench.stats)."""
    return {
        "Metadata": result.metadata,
        "Summary": result.summary(),
        "Comparison": result.compare(),
        "Correctness": result.correctness,
        "Stability": result.stability(),
    }


def _markdown(result: BenchmarkResult, tables: dict[str, pd.DataFrame]) -> str:
    parts = [
        f"# {_TITLE}",
        "",
        f"Baseline: {_md_escape(result.baseline)}; "
        f"{len(result.data)} iterations in {len(result.run_ids)} run(s).",
    ]
    for heading in REPORT_SECTIONS:
        parts += ["", f"## {heading}", "", _md_table(tables[heading])]
    return "\n".join(parts) + "\n"


_HTML_TEMPLATE = """<!DOCTYPE html>
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
<p>Baseline: {{ baseline }}; {{ n_rows }} iterations in {{ n_runs }} run(s).</p>
{% for heading, cols, rows in sections %}
<h2>{{ heading }}</h2>
{% if rows %}
<table>
<thead><tr>{% for c in cols %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
{% else %}
<p><em>none</em></p>
{% endif %}
{% endfor %}
</body>
</html>
"""


def _html(result: BenchmarkResult, tables: dict[str, pd.DataFrame]) -> str:
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_HTML_TEMPLATE)
    sections = [
        (
            heading,
            [str(c) for c in frame.columns],
            [[_cell(v) for v in row]
             for row in frame.astype(object).itertuples(index=False, name=None)],
        )
        for heading, frame in tables.items()
    ]
    return template.render(
        title=_TITLE, baseline=result.baseline, n_rows=len(result.data),
        n_runs=len(result.run_ids), sections=sections,
    )


def _json(result: BenchmarkResult, tables: dict[str, pd.DataFrame]) -> str:
    payload = {
        "metadata": _records(tables["Metadata"]),
        "rows": _records(result.data),
        "summary": _records(tables["Summary"]),
        "comparison": _records(tables["Comparison"]),
        "correctness": _records(tables["Correctness"]),
        "stability": _records(tables["Stability"]),
    }
    return json.dumps(payload, indent=2, allow_nan=False) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generate_report(
    result: BenchmarkResult,
    output_file: str | os.PathLike[str] | None = None,
    *,
    format: str = "markdown",
) -> str:
    """Render the comparative report of a benchmark result.

    Parameters
    ----------
    result : BenchmarkResult
        What :meth:`rrperf.bench.runner.BenchmarkRunner.run_comparative_benchmark` returned
        (or :func:`rrperf.bench.results.read_result` read).
    output_file : path-like or None
        When given, the report is also written there (atomically, UTF-8).
    format : {"markdown", "json", "html"}
        Markdown and HTML have the headings of ``REPORT_SECTIONS``; JSON is one object with
        the keys ``metadata, rows, summary, comparison, correctness, stability`` (NaN -> null).

    Returns
    -------
    str
        The report text.

    Raises
    ------
    ConfigError
        If ``format`` is not one of ``REPORT_FORMATS``.
    ReportError
        If the report cannot be written to ``output_file``.
    """
    if format not in REPORT_FORMATS:
        raise ConfigError(
            f"report format must be one of {', '.join(REPORT_FORMATS)}, got {format!r}"
        )
    tables = _sections(result)
    render = {"markdown": _markdown, "json": _json, "html": _html}[format]
    text = render(result, tables)
    if output_file is not None:
        path = Path(output_file)
        try:
            _write_atomic(path, text)
        except OSError as err:
            raise ReportError(f"cannot write the report to {str(path)!r}: {err}") from err
        logger.info("wrote %s report to %s", format, path)
    return text

