"""``rrperf scenarios``: list the scenarios every command accepts by name."""

from __future__ import annotations

import argparse

from rrperf.cli._util import format_table, print_json

#: Printed under the table: what else works where a scenario is asked.
FOOTER = (
    "Every command taking a scenario (generate, bench, analyze, report) accepts these names, "
    "synthetic:N[:key=value...],\n"
    "a schema.rb or SQLite path or a Rails app folder (labelled by its file stem: "
    "db/schema.rb -> schema),\n"
    "or a database URL (postgresql://user@host/db). The real-world dumps are third-party "
    "data under the MIT licence;\n"
    "attribution and licence notices: {folder}"
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "scenarios",
        help="list the scenarios (built-in and real-world schemas)",
        description="List the named scenarios: four hand-written schemas, three real dumps of "
        "MIT-licensed Rails applications shipped with rrperf, and an example synthetic one. "
        "Wherever a scenario is asked, a schema.rb or SQLite path, a Rails app folder or a "
        "database URL works too; a path's scenario label is its file stem.",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rrperf.schema.scenarios import REAL_SCHEMA_DIR, list_scenarios

    rows = [
        {
            "name": s.name,
            "models": s.expected_models,
            "origin": s.origin,
            "description": s.description,
        }
        for s in list_scenarios()
    ]
    if args.json:
        print_json(rows)
    else:
        print(format_table(rows, ["name", "models", "origin", "description"]))
        print()
        print(FOOTER.format(folder=REAL_SCHEMA_DIR))
    return 0
