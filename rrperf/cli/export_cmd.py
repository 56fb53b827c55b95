"""``rrperf export RUN --to FILE``: write one stored run to Parquet or CSV."""

from __future__ import annotations

import argparse

from rrperf.cli.history_cmd import add_history_option, history_location, open_existing_history


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export",
        help="export a stored run to Parquet or CSV",
        description="Write one run of the history store to FILE.parquet or FILE.csv (with its "
        "FILE.meta.json sidecar). RUN is a run id or a saved name (the latest run of that name).",
    )
    p.add_argument("run_id", metavar="RUN", help="run id or saved name")
    p.add_argument("--to", required=True, metavar="FILE", help="FILE.parquet or FILE.csv")
    add_history_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_existing_history(history_location(args)) as store:
        path = store.export_run(args.run_id, args.to)
    print(f"exported {args.run_id} to {path}")
    return 0
