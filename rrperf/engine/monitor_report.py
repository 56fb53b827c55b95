"""What a :class:`~rrperf.engine.monitor.PerformanceMonitor` collected, as a report or a file.

The sampler lives in :mod:`rrperf.engine.monitor`; it hands this module its tables (this
module imports nothing back). Reports are rendered by :mod:`rrperf.document` (Markdown and
HTML), files written by :mod:`rrperf.atomic`.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf import atomic
from rrperf.document import Section, json_records, render_document
from rrperf.errors import BenchmarkError, ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import pandas as pd

__all__ = ["export_performance_data", "performance_report"]

# Format of the exported JSON and of the JSON report.
_FORMAT_VERSION = 1
_ALERT_SHOWN = ("session", "level", "metric", "value", "threshold", "message")


def performance_report(
    sessions: list[dict[str, Any]], alerts: list[dict[str, Any]], format: str = "json", *,
    session_columns: Sequence[str],
) -> str:
    """The finished sessions and alerts as a JSON, Markdown or HTML document.

    Parameters
    ----------
    sessions, alerts : list of dict
        A monitor's session and alert rows.
    format : {"json", "markdown", "html"}
        Output format; every value is escaped for it (:mod:`rrperf.document`).
    session_columns : sequence of str
        The session rows' columns, in order (``metadata`` is left out of the tables).

    Returns
    -------
    str

    Raises
    ------
    ConfigError
        On an unknown format.
    """
    if format == "json":
        return json.dumps(
            {"format_version": _FORMAT_VERSION, "sessions": json_records(sessions),
             "alerts": json_records(alerts)},
            indent=2, sort_keys=True,
        )
    if format not in ("markdown", "html"):
        raise ConfigError(f"format must be 'json', 'markdown' or 'html', got {format!r}")
    session_cols = [c for c in session_columns if c != "metadata"]
    sections = [
        Section(heading, cols, [[_format_cell(r[c]) for c in cols] for r in rows], empty=empty)
        for heading, cols, rows, empty in (
            ("Sessions", session_cols, sessions, "No sessions."),
            ("Alerts", list(_ALERT_SHOWN), alerts, "No alerts."),
        )
    ]
    return render_document("Performance report", sections, format)


def export_performance_data(
    frames: Mapping[str, Callable[[], pd.DataFrame]], path: str | os.PathLike[str],
    format: str = "json", *, table: str | None = None,
) -> Path:
    """Write the collected data to ``path`` atomically (temporary file, then rename).

    Parameters
    ----------
    frames : mapping of str to callable
        A monitor's tables by name (``samples``, ``sessions``, ``alerts``), each made when
        written.
    path : str or path-like
        Destination file.
    format : {"json", "csv", "parquet"}
        JSON holds every table (``{"format_version", "samples", "sessions", "alerts"}``,
        each a list of records); CSV and Parquet hold one table.
    table : {"samples", "sessions", "alerts"} or None
        The table for CSV/Parquet (default ``"samples"``); for JSON, only that table.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ConfigError
        On an unknown format or table.
    BenchmarkError
        If the file cannot be written.
    """
    if format not in ("json", "csv", "parquet"):
        raise ConfigError(f"format must be 'json', 'csv' or 'parquet', got {format!r}")
    if table is not None and table not in frames:
        raise ConfigError(f"table must be one of {', '.join(frames)} or None, got {table!r}")
    target = Path(path)

    def write(tmp: Path) -> None:
        if format == "json":
            chosen = [table] if table is not None else list(frames)
            doc: dict[str, Any] = {"format_version": _FORMAT_VERSION}
            for name in chosen:
                doc[name] = json_records(frames[name]())
            tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        elif format == "csv":
            frames[table or "samples"]().to_csv(tmp, index=False)
        else:
            frames[table or "samples"]().to_parquet(tmp, index=False)

    try:
        atomic.write_with(target, write)
    except OSError as err:
        raise BenchmarkError(f"cannot write {target}: {err.strerror or err}") from err
    return target


def _format_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
