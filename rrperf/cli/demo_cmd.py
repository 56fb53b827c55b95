"""``rrperf demo``: the comparative benchmark, as a report, in one command.

It runs ``benchmark_report.ipynb`` (legacy against the pipeline and every strategy this
installation offers, cold and warm caches, on the four built-in scenarios), which measures the
benchmark once and saves it beside the report, then reads those saved results to print a short
summary table: per scenario, cache state and variant the median wall time, its ratio to legacy
and the verdict. ``--quick`` (small scenario, 2 iterations) is for tests and smoke checks.
"""

from __future__ import annotations

import argparse
import math

from rrperf.cli._util import format_table, positive_int, project_config

#: The four built-in scenarios the demo measures.
DEMO_SCENARIOS: tuple[str, ...] = ("small", "medium", "large", "polymorphic_heavy")
DEMO_TITLE = "rrperf demo: legacy generator vs staged pipeline"


def _ms(seconds: float) -> str:
    return "" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def _ratio(ratio: float) -> str:
    return "" if math.isnan(ratio) else f"{ratio:.2f}x"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="benchmark legacy vs pipeline on the built-in scenarios and write the report",
        description="Run the comparative benchmark (legacy vs pipeline and its strategies, cold "
        "and warm) on the built-in scenarios through benchmark_report.ipynb; write the HTML and "
        "Markdown reports and the results (Parquet, CSV) to --out and print a summary.",
    )
    p.add_argument("--out", default="reports", help="output folder (default: reports)")
    p.add_argument(
        "--iterations", type=positive_int, default=20,
        help="measured iterations per variant (default 20, after 1 warm-up)",
    )
    p.add_argument(
        "--quick", action="store_true", help="small scenario and 2 iterations (for tests)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rrperf.bench.results import read_result
    from rrperf.report.notebooks import RESULTS_STEM, headline_table, render_report

    config = project_config()  # rrperf.toml from here upwards; a bad one: exit 1
    scenarios = ["small"] if args.quick else list(DEMO_SCENARIOS)
    iterations = 2 if args.quick else args.iterations
    out = Path(args.out)
    print(
        f"rrperf demo: {', '.join(scenarios)}; legacy vs pipeline strategies, cold and warm; "
        f"{iterations} iterations after 1 warm-up"
    )
    paths = render_report(
        "benchmark_report",
        parameters={
            "title": DEMO_TITLE,
            "scenarios": scenarios,
            "systems": ["legacy", "pipeline"],
            "strategies": [],
            "cache_states": ["cold", "warm"],
            "iterations": iterations,
            "warmup": 1,
            "baseline": "legacy",
            "config_file": config.source or "",  # the kernel reads the same file
        },
        output_dir=out,
    )
    results = out.resolve() / f"{RESULTS_STEM}.parquet"
    result = read_result(results)
    table = headline_table(result, baseline="legacy")
    rows = [
        {
            "scenario": r["scenario"],
            "cache": r["cache_state"],
            "variant": r["variant"],
            "median": _ms(float(r["median_s"])),
            "vs legacy": "" if r["verdict"] == "baseline" else _ratio(float(r["ratio"])),
            "verdict": r["verdict"],
        }
        for r in table.to_dict("records")
    ]
    print()
    print(format_table(rows, ["scenario", "cache", "variant", "median", "vs legacy", "verdict"]))
    print()
    from rrperf.bench.report import stability_overview, stability_verdict

    compared = [r for r in rows if r["verdict"] not in ("baseline", "")]
    decided = sum(r["verdict"] in ("faster", "slower", "equivalent") for r in compared)
    print(f"{decided} of {len(compared)} comparisons with legacy are decided. "
          + stability_verdict(stability_overview(result.data)))
    print()
    print(f"HTML report:     {paths.html}")
    print(f"Markdown report: {paths.markdown}")
    print(f"results:         {results}")
    print(f"                 {results.with_suffix('.csv')}")
    print(f"executed notebook (for inspection): {paths.notebook}")
    return 0
