"""``rrperf history``: list the runs of the benchmark history store.

Also home of the small helpers the history-reading commands share (``bench --compare``,
``export``): opening a store that must already exist, and turning a table into JSON records.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf.cli._util import format_table, print_json
from rrperf.errors import HistoryError

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.bench.history import HistoryStore

logger = logging.getLogger(__name__)

#: Columns shown by ``rrperf history`` (``rows`` is the store's ``n_rows``).
HISTORY_COLUMNS: tuple[str, ...] = (
    "run_id", "name", "started_at", "status", "rows", "scenarios", "systems",
)

HISTORY_HELP = "history store: a SQLite file or sqlite:///path URL (default .rrperf/history.sqlite)"


def add_history_option(p: argparse.ArgumentParser) -> None:
    """The ``--history PATH`` option shared by bench, history and export."""
    p.add_argument("--history", default=None, metavar="PATH", help=HISTORY_HELP)


def history_location(args: argparse.Namespace) -> str:
    """The store named by ``--history``, or the library's default path."""
    from rrperf.bench.history import DEFAULT_HISTORY_PATH

    return str(args.history) if args.history else DEFAULT_HISTORY_PATH


def open_existing_history(location: str) -> HistoryStore:
    """Open a history store that must already exist (reading never creates one).

    Parameters
    ----------
    location : str
        A file path or ``sqlite:///`` URL. URLs are checked by the store itself.

    Returns
    -------
    HistoryStore

    Raises
    ------
    HistoryError
        When ``location`` is a path and no file is there.
    """
    from rrperf.bench.history import HistoryStore

    if "://" not in location and not Path(location).is_file():
        raise HistoryError(
            f"no history store at {location!r}; save a run first with "
            f"`rrperf bench --save NAME`, or pass --history PATH"
        )
    return HistoryStore(location)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as JSON-ready records: missing and NaN -> None, times as ISO 8601 (UTC, us)."""
    import json

    records: list[dict[str, Any]] = json.loads(
        frame.to_json(orient="records", date_format="iso", date_unit="us")
    )
    return records


def text_table(frame: pd.DataFrame, columns: list[str]) -> str:
    """Columns of ``frame`` as an aligned text table (for people; machines use --json)."""
    from rrperf.document import cell_text

    rows = [
        {c: cell_text(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.loc[:, columns].astype(object).itertuples(index=False, name=None)
    ]
    return format_table(rows, columns)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "history",
        help="list the runs of the benchmark history",
        description="List the benchmark runs in the history store, oldest first: run id, name, "
        "start time (UTC), status, number of rows, scenarios and systems.",
    )
    p.add_argument("--json", action="store_true", help="print one JSON list")
    add_history_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    location = history_location(args)
    with open_existing_history(location) as store:
        runs = store.list_runs().rename(columns={"n_rows": "rows"})
    runs = runs.loc[:, list(HISTORY_COLUMNS)]
    if args.json:
        print_json(frame_records(runs))
    elif runs.empty:
        print(f"no runs in {location}")
    else:
        print(text_table(runs, list(HISTORY_COLUMNS)))
    return 0
