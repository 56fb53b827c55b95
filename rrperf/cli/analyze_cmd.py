"""``rrperf analyze SCENARIO``: recommend a strategy and check it against a benchmark."""

from __future__ import annotations

import argparse

from rrperf.cli._util import format_table, print_json

_STATES = {"cold": ("cold",), "warm": ("warm",), "both": ("cold", "warm")}
_COLUMNS = [
    "cache_state",
    "recommended",
    "measured_best",
    "ratio",
    "within_5pct",
    "verdict",
]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "analyze",
        help="recommend a strategy for a scenario and check it with a benchmark",
        description="Profile SCENARIO, recommend the strategy the model predicts fastest, "
        "benchmark the three best predictions (or all strategies) and report whether the "
        "recommendation was the measured best or within 5%% of it.",
    )
    p.add_argument(
        "scenario",
        help="a scenario of `rrperf scenarios` (small, large, campfire...), synthetic:N, a "
        "schema.rb / SQLite path (labelled by its file stem) or a database URL",
    )
    p.add_argument(
        "--all-strategies", action="store_true", help="benchmark every strategy, not the top 3"
    )
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    p.add_argument(
        "--iterations", type=_positive_int, default=None, help="measured rounds (default 7)"
    )
    p.add_argument("--cache", choices=tuple(_STATES), default="both", help="cache state(s)")
    p.set_defaults(run=run)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _markdown(rows: list[dict[str, object]], rationale: str) -> str:
    def esc(text: str) -> str:
        return "".join("\\" + ch if ch in "\\`|<>[]*_" else ch for ch in text)

    lines = [
        "| " + " | ".join(esc(c) for c in _COLUMNS) + " |",
        "|" + "|".join("---" for _ in _COLUMNS) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(esc(_cell(row[c])) for c in _COLUMNS) + " |")
    return "\n".join([*lines, "", esc(rationale)])


def run(args: argparse.Namespace) -> int:
    from rrperf.optimize.optimizer import PerformanceOptimizer

    with PerformanceOptimizer() as optimizer:
        result = optimizer.run_comprehensive_analysis(
            args.all_strategies,
            scenario=args.scenario,
            cache_states=_STATES[args.cache],
            iterations=args.iterations,
        )
    rows = [dict(r) for r in result.rows]
    if args.format == "json":
        print_json(result.to_dict())
    elif args.format == "markdown":
        print(_markdown(rows, result.recommendation.rationale))
    else:
        shown = [{c: _cell(r[c]) for c in _COLUMNS} for r in rows]
        print(f"{result.scenario}: strategies benchmarked: {', '.join(result.strategies)}")
        print(format_table(shown, _COLUMNS))
        print(result.recommendation.rationale)
    return 0
