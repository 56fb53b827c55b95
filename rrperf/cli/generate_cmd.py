"""``rrperf generate SOURCE --out DIR``: run the generator once and print a summary."""

from __future__ import annotations

import argparse

from rrperf.cli._util import csv_list, print_json


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "generate",
        help="generate TypeScript models from a schema",
        description="Generate TypeScript ActiveRecord/ReactiveRecord models from SOURCE: a "
        "schema.rb path, a SQLite file, a SQLAlchemy URL, a scenario name or synthetic:N.",
    )
    p.add_argument("source", help="schema.rb, SQLite file, SQLAlchemy URL, scenario or synthetic:N")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--impl", choices=("legacy", "pipeline"), default="pipeline")
    p.add_argument(
        "--strategy",
        default=None,
        help="pipeline strategy: auto (the default), sequential, parallel, cache_heavy, "
        "balanced, minimal",
    )
    p.add_argument(
        "--cache-dir", default=None,
        help="disk cache and output manifests of the strategy (default .rrperf/cache)",
    )
    p.add_argument("--tables", type=csv_list, default=None, help="only these tables (a,b)")
    p.add_argument("--exclude-tables", type=csv_list, default=None, help="skip these tables")
    p.add_argument("--dry-run", action="store_true", help="list the files, write nothing")
    p.add_argument("--force", action="store_true", help="rewrite every file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rrperf.config import load_config
    from rrperf.generator.api import generate

    config = load_config()  # rrperf.toml (or [tool.rrperf]) from here upwards; a bad one: exit 1
    strategy = args.strategy
    if strategy is None and args.impl == "pipeline":
        from rrperf.engine.strategies import DEFAULT_STRATEGY

        strategy = DEFAULT_STRATEGY
    result = generate(
        args.source,
        args.out,
        impl=args.impl,
        strategy=strategy,
        cache_dir=args.cache_dir,
        config=config,
        tables=args.tables,
        exclude_tables=args.exclude_tables,
        dry_run=args.dry_run,
        force=args.force,
    )
    if args.json:
        print_json(result.to_dict())
        return 0
    label = args.impl if strategy is None else f"{args.impl}/{strategy}"
    if result.dry_run:
        print(f"dry run ({label}): {result.files_total} files for {result.n_tables} tables "
              f"would be written to {args.out}")
        for path in result.written:
            print(f"  {path}")
        return 0
    if result.files_written == 0:
        change = f"no changes: all {result.files_total} files unchanged"
    else:
        change = f"{result.files_written} written, {result.files_unchanged} unchanged"
    print(
        f"{label}: {result.n_tables} tables, {result.files_total} files ({change}) "
        f"in {result.wall_s:.3f} s -> {args.out}  digest {result.output_digest[:12]}"
    )
    return 0
