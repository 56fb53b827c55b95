"""Small helpers shared by the subcommands (argument parsing, output, the project's
configuration; no logic)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rrperf.config import RrperfConfig


def csv_list(text: str) -> tuple[str, ...]:
    """``"a,b, c"`` -> ``("a", "b", "c")``; empty items dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def print_json(obj: Any) -> None:
    """``obj`` as indented JSON on standard output, in one write (``json.dump`` writes every
    token on its own: thousands of system calls for a large run's file list when the output
    is unbuffered, as ``PYTHONUNBUFFERED`` makes it)."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def format_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain fixed-width text table (for people; machines use --json)."""
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def positive_int(text: str) -> int:
    """An argparse ``type``: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    return value


def project_config() -> RrperfConfig:
    """The project configuration every command runs with: ``rrperf.toml`` (else
    ``pyproject.toml`` ``[tool.rrperf]``) from the current folder upwards, then the
    ``RRPERF_*`` environment variables (:func:`rrperf.config.load_config`).

    Commands call it before they write anything: a malformed file raises
    :class:`~rrperf.errors.ConfigError` naming the file and line, which :func:`rrperf.cli.main`
    prints as one line with exit status 1.
    """
    from rrperf.config import load_config

    return load_config()
