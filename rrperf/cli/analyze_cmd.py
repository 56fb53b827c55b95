"""``rrperf analyze SCENARIO``: recommend a strategy and check it against a benchmark."""

from __future__ import annotations

import argparse
import contextlib
import math

from rrperf.cli._util import format_table, positive_int, print_json, project_config
from rrperf.cli.history_cmd import add_history_option, history_location

_STATES = {"cold": ("cold",), "warm": ("warm",), "both": ("cold", "warm")}
_COLUMNS = [
    "cache_state",
    "recommended",
    "measured_best",
    "ratio",
    "within_5pct",
    "verdict",
]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "analyze",
        help="recommend a strategy for a scenario and check it with a benchmark",
        description="Profile SCENARIO, predict every strategy with the cost model calibrated "
        "on this machine (kept in the history store; measured first when missing, refitted "
        "when a run drifts beyond 20%%), benchmark the three best predictions (or all "
        "strategies) and recommend, among the measured best and the strategies within 5%% of "
        "it (paired 95%% intervals), the one with the fewest resources.",
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
        "--iterations", type=positive_int, default=None, help="measured rounds (default 7)"
    )
    p.add_argument("--cache", choices=tuple(_STATES), default="both", help="cache state(s)")
    add_history_option(p)
    p.add_argument("--no-calibration", action="store_true",
                   help="predict with the uncalibrated model; read and write no history store")
    p.set_defaults(run=run)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


_PRED_COLUMNS = ["cache_state", "strategy", "predicted_ms", "measured_ms", "error", "note"]


def _ms(value: object) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value * 1e3:.2f}"
    return "-"


def _prediction_table(predictions: list[dict[str, object]]) -> tuple[list[dict[str, str]],
                                                                     list[str]]:
    """Rows of the predicted-against-measured table, and the notes printed under it."""
    rows: list[dict[str, str]] = []
    notes: list[str] = []
    for p in predictions:
        error = p["error"]
        marks = [m for m, on in (("recommended", p["recommended"]),
                                 ("measured best", p["measured_best"])) if on]
        if p["same_code_as"]:
            marks.append(f"same code as {p['same_code_as']}")
        note = str(p["note"])
        if note:
            if note not in notes:
                notes.append(note)
            marks.append(f"note {notes.index(note) + 1}")
        rows.append({
            "cache_state": str(p["cache_state"]),
            "strategy": str(p["strategy"]),
            "predicted_ms": _ms(p["predicted_s"]),
            "measured_ms": _ms(p["measured_median_s"]),
            "error": f"{error:+.1%}" if isinstance(error, float) and math.isfinite(error)
            else "-",
            "note": ", ".join(marks),
        })
    return rows, notes


_PRED_TITLE = (
    "Predicted against measured (measured: median of the benchmark's rounds; "
    "error = predicted / measured - 1)"
)
_NOT_MEASURED = (
    "-: not benchmarked (analyze measures the three best predictions; --all-strategies "
    "measures every one)"
)


def _markdown(rows: list[dict[str, object]], predictions: list[dict[str, object]]) -> str:
    from rrperf.document import md_escape, md_table

    parts = [md_table(_COLUMNS, [[_cell(row[c]) for c in _COLUMNS] for row in rows]),
             "\n".join(md_escape(str(row["summary"])) + "  " for row in rows)]
    if predictions:
        pred_rows, notes = _prediction_table(predictions)
        parts += [md_escape(_PRED_TITLE),
                  md_table(_PRED_COLUMNS, [[r[c] for c in _PRED_COLUMNS] for r in pred_rows])]
        legend = _legend(pred_rows, notes)
        # the notes stay a numbered list
        parts += ["\n".join(md_escape(line, line=False) for line in legend)] if legend else []
    return "\n\n".join(parts)


def _legend(pred_rows: list[dict[str, str]], notes: list[str]) -> list[str]:
    """The lines under the predictions table: the notes, and what '-' means."""
    lines = [f"{i}. {note}" for i, note in enumerate(notes, 1)]
    if any(row["measured_ms"] == "-" for row in pred_rows):
        lines.append(_NOT_MEASURED)
    return lines


def run(args: argparse.Namespace) -> int:
    from rrperf.bench.history import HistoryStore
    from rrperf.optimize.optimizer import PerformanceOptimizer

    config = project_config()  # rrperf.toml from here upwards; a bad one: exit 1
    with contextlib.ExitStack() as stack:
        store = None if args.no_calibration else stack.enter_context(
            HistoryStore(history_location(args)))
        optimizer = stack.enter_context(PerformanceOptimizer(project=config, history=store))
        result = optimizer.run_comprehensive_analysis(
            args.all_strategies,
            scenario=args.scenario,
            cache_states=_STATES[args.cache],
            iterations=args.iterations,
        )
    rows = [dict(r) for r in result.rows]
    predictions = [dict(p) for p in result.predictions]
    if args.format == "json":
        print_json(result.to_dict())
    elif args.format == "markdown":
        print(_markdown(rows, predictions))
    else:
        shown = [{c: _cell(r[c]) for c in _COLUMNS} for r in rows]
        print(f"{result.scenario}: strategies benchmarked: {', '.join(result.strategies)}")
        print(format_table(shown, _COLUMNS))
        if predictions:
            pred_rows, notes = _prediction_table(predictions)
            print()
            print(_PRED_TITLE)
            print(format_table(pred_rows, _PRED_COLUMNS))
            for line in _legend(pred_rows, notes):
                print(f"  {line}")
            print()
        for row in rows:
            print(row["summary"])
    return 0
