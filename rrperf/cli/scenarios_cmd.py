"""``rrperf scenarios``: list the built-in scenarios."""

from __future__ import annotations

import argparse

from rrperf.cli._util import format_table, print_json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scenarios", help="list the built-in scenarios")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rrperf.schema.scenarios import list_scenarios

    rows = [
        {"name": s.name, "models": s.expected_models, "description": s.description}
        for s in list_scenarios()
    ]
    if args.json:
        print_json(rows)
    else:
        print(format_table(rows, ["name", "models", "description"]))
    return 0
