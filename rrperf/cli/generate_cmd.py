"""``rrperf generate SOURCE --out DIR``: run the generator once and print a summary."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from rrperf.cli._cluster import add_cluster_options, cluster_client
from rrperf.cli._util import csv_list, print_json
from rrperf.cli._warm import summary_line


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "generate",
        help="generate TypeScript models from a schema",
        description="Generate TypeScript ActiveRecord/ReactiveRecord models from SOURCE: a "
        "scenario listed by `rrperf scenarios` (small, large, campfire, coursemology...), "
        "synthetic:N, or a path (schema.rb, SQLite file, Rails app folder) or database URL. "
        "The output folder also gets rrperf-runtime.d.ts, the declaration of the "
        "'rrperf-runtime' module the models import, so that it type-checks on its own: "
        "npx tsc --strict --noEmit OUT/*.ts OUT/types/*.ts",
    )
    p.add_argument(
        "source",
        help="a scenario name (see `rrperf scenarios`), synthetic:N, a schema.rb / SQLite / "
        "Rails app path, or a database URL",
    )
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
    p.add_argument(
        "--no-runtime", dest="runtime", action="store_false",
        help="do not write rrperf-runtime.d.ts (the declaration of the 'rrperf-runtime' module "
        "the models import) into the output folder: for an app that brings its own runtime",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_cluster_options(p, what="render the tables' batches")  # issue 13
    p.set_defaults(run=run, generate_parser=p)


def run(args: argparse.Namespace) -> int:
    import contextlib

    from rrperf.cli._util import project_config
    from rrperf.generator.api import generate
    from rrperf.schema.scenarios import resolve_scenario

    if args.cluster is not None and args.impl != "pipeline":
        args.generate_parser.error("--cluster needs --impl pipeline")
    config = project_config()  # rrperf.toml from here upwards; a bad one: exit 1
    strategy: Any = args.strategy
    if strategy is None and args.impl == "pipeline":
        from rrperf.engine.strategies import DEFAULT_STRATEGY

        strategy = DEFAULT_STRATEGY
    label = args.impl if strategy is None else f"{args.impl}/{strategy}"
    with contextlib.ExitStack() as stack:
        client = cluster_client(args, stack)  # issue 13: --cluster ADDRESS
        if client is not None:
            from rrperf.engine.dask_backend import cluster_threads
            from rrperf.engine.strategies import get_strategy

            name = args.strategy or "parallel"
            label = f"{args.impl}/{name} on {args.cluster}"
            strategy = dataclasses.replace(
                get_strategy(name), backend="dask", workers=cluster_threads(client),
            )
        result = generate(
            resolve_scenario(args.source).source,
            args.out,
            impl=args.impl,
            strategy=strategy,
            cache_dir=args.cache_dir,
            config=config,
            tables=args.tables,
            exclude_tables=args.exclude_tables,
            dry_run=args.dry_run,
            force=args.force,
            runtime=args.runtime,
        )
    if args.json:
        print_json(result.to_dict())
        return 0
    if result.dry_run:
        print(f"dry run ({label}): {result.files_total} files for {result.n_tables} tables "
              f"would be written to {args.out}")
        for path in result.written:
            print(f"  {path}")
        return 0
    print(summary_line(
        label, result.n_tables, result.files_total, result.files_written,
        result.files_unchanged, result.wall_s, args.out, result.output_digest,
    ))
    return 0
