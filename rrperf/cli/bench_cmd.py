"""``rrperf bench``: run a comparative benchmark, print it, save it, check it for regressions.

Output by ``--format``:

* ``table`` (default): the summary, the comparison with the baseline system and, with
  ``--compare``, the regression check, as aligned text for people.
* ``markdown``: the :func:`rrperf.bench.report.generate_report` Markdown report, plus a
  ``Regressions`` section with ``--compare``.
* ``json``: one object with the keys of the JSON report (``metadata, rows, summary, comparison,
  correctness, stability``) plus ``compared_with`` and ``regressions`` with ``--compare``.
* ``csv``: the measurement table, exactly ``DataFrame.to_csv(index=False)``.

The progress bar goes to stderr, and only for ``table`` and ``markdown``, so stdout stays
machine-readable. ``--fail-on-regression`` exits 1 when the check finds a regression, with one
``rrperf: regression: ...`` line per regression on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import sys
from typing import TYPE_CHECKING, Any

from rrperf.cli._util import csv_list, print_json
from rrperf.cli.history_cmd import (
    add_history_option,
    frame_records,
    history_location,
    open_existing_history,
    text_table,
)
from rrperf.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.bench.results import BenchmarkResult

FORMATS: tuple[str, ...] = ("table", "json", "markdown", "csv")
#: ``--cache`` value -> cache states measured.
CACHE_CHOICES: dict[str, tuple[str, ...]] = {
    "cold": ("cold",),
    "warm": ("warm",),
    "both": ("cold", "warm"),
}

_SUMMARY_COLUMNS = [
    "scenario", "system", "strategy", "cache_state", "n", "median", "ci_low", "ci_high", "cv",
    "outliers",
]
_COMPARISON_COLUMNS = [
    "scenario", "system", "strategy", "cache_state", "baseline", "ratio", "ratio_ci_low",
    "ratio_ci_high", "p_value", "verdict",
]
_REGRESSION_COLUMNS = [
    "scenario", "system", "strategy", "cache_state", "n_current", "n_baseline", "ratio",
    "ratio_ci_low", "ratio_ci_high", "p_adjusted", "regression", "improvement",
]


def _threshold(text: str) -> float:
    """argparse type of ``--threshold``: a fraction in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        msg = f"expected a fraction such as 0.05, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def _metric(text: str) -> str:
    """argparse type of ``--metric``: ``wall`` or ``instructions`` -> the column it measures."""
    from rrperf.bench.metrics import metric_column

    try:
        return metric_column(text)
    except ConfigError:
        raise argparse.ArgumentTypeError(
            f"expected wall or instructions, got {text!r}"
        ) from None


def _metric_kws(args: argparse.Namespace) -> dict[str, Any]:
    """``metric=`` for the runner, given only for an instruction run (wall is its default)."""
    return {"metric": "instructions"} if args.metric == "instructions" else {}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark systems on scenarios, save the run, check it for regressions",
        description="Run every scenario x system x strategy x cache state with interleaved, "
        "seeded iterations; print the summary and the comparison with the baseline system "
        "(legacy when measured, else the first). Exit status: 0 success, 1 error or (with "
        "--fail-on-regression) a regression, 2 usage error.",
    )
    p.add_argument(
        "--scenarios", type=csv_list, default=None, metavar="A,B",
        help="scenario names (default: small, medium, large, polymorphic_heavy)",
    )
    p.add_argument(
        "--systems", type=csv_list, default=None, metavar="A,B",
        help="system names: legacy, pipeline or [systems.NAME] of rrperf.toml "
        "(default: legacy, pipeline)",
    )
    p.add_argument(
        "--strategies", type=csv_list, default=None, metavar="A,B",
        help="strategies of the systems that run them (pipeline)",
    )
    p.add_argument("--iterations", type=int, default=5, metavar="N", help="measured rounds (5)")
    p.add_argument("--warmup", type=int, default=1, metavar="N", help="warm-up rounds (1)")
    p.add_argument(
        "--cache", default="cold", metavar="STATE", help="cache state: cold, warm or both (cold)"
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (table)")
    p.add_argument("--save", default=None, metavar="NAME", help="store the run under NAME")
    p.add_argument(
        "--compare", default=None, metavar="NAME",
        help="check for regressions against the latest stored run of NAME (or a run id)",
    )
    p.add_argument(
        "--threshold", type=_threshold, default=0.05, metavar="F",
        help="relative slowdown that counts as a regression (0.05)",
    )
    p.add_argument(
        "--fail-on-regression", action="store_true",
        help="exit 1 when --compare finds a regression (for CI)",
    )
    p.add_argument(
        "--metric", type=_metric, default="wall_s", metavar="wall|instructions",
        help="what to measure: wall time (default) or instructions counted under Valgrind "
        "(deterministic; with --compare the gate is the ratio of medians against --threshold)",
    )
    add_history_option(p)
    p.add_argument("--seed", type=int, default=None, metavar="N", help="seed of the run order")
    p.add_argument(
        "--isolate", action="store_true", help="run every iteration in a fresh process"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run, bench_parser=p)


def _label(system: Any, strategy: Any) -> str:
    return f"{system}/{strategy}" if isinstance(strategy, str) and strategy else str(system)


def _regression_line(row: Any, against: str) -> str:
    """One regression or improvement, in words."""
    kind = "regression" if row.regression else "improvement"
    return (
        f"{kind}: {row.scenario} {_label(row.system, row.strategy)} {row.cache_state}: "
        f"time ratio {row.ratio:.3g} (95% CI {row.ratio_ci_low:.3g} to "
        f"{row.ratio_ci_high:.3g}, adjusted p {row.p_adjusted:.2g}) against {against}"
    )


def _changes(regressions: pd.DataFrame) -> pd.DataFrame:
    flagged = regressions["regression"] | regressions["improvement"]
    return regressions[flagged.to_numpy(dtype=bool)]


def _print_table(
    result: BenchmarkResult,
    *,
    saved: str | None,
    regressions: pd.DataFrame | None,
    against: str,
) -> None:
    data = result.data
    run_ids = ", ".join(result.run_ids)
    head = f"run {run_ids}: {len(data)} iterations ({int(data['warmup'].sum())} warm-up)"
    if saved:
        head += f", saved as {saved}"
    print(head)
    print()
    unit = "instructions" if result.value == "instructions" else "wall time in seconds"
    print(f"Summary ({unit}, warm-ups left out)")
    print(text_table(result.summary(), _SUMMARY_COLUMNS))
    comparison = result.compare()
    print()
    if comparison.empty:
        print(f"Comparison: only the baseline {result.baseline} was measured")
    else:
        print(f"Comparison with {result.baseline} (ratio < 1 is faster)")
        print(text_table(comparison, _COMPARISON_COLUMNS))
    correctness = result.correctness
    wrong = correctness[correctness["note"].notna().to_numpy(dtype=bool)]
    for row in wrong.itertuples(index=False):
        print(
            f"output check: {row.scenario} {_label(row.system, row.strategy)}: {row.note}"
        )
    if regressions is not None:
        print()
        print(f"Regression check against {against} (ratio = this run / that run)")
        if regressions.empty:
            print("no group in common")
        else:
            print(text_table(regressions, _REGRESSION_COLUMNS))
            n_reg = int(regressions["regression"].sum())
            n_imp = int(regressions["improvement"].sum())
            print(f"{n_reg} regression(s), {n_imp} improvement(s) in {len(regressions)} group(s)")


def _markdown(
    result: BenchmarkResult, *, regressions: pd.DataFrame | None, against: str, threshold: float
) -> str:
    from rrperf.bench.report import generate_report

    text = generate_report(result, format="markdown")
    if regressions is None:
        return text
    changes = _changes(regressions)
    lines = [f"## Regressions against {against}", ""]
    if changes.empty:
        lines.append(
            f"_none_ ({len(regressions)} group(s) checked, threshold {threshold:.1%})"
            if len(regressions) else "_no group in common_"
        )
    else:
        # Names come from the data: escape them so a name cannot inject HTML.
        lines += [
            f"- {html.escape(_regression_line(row, against), quote=False)}"
            for row in changes.itertuples()
        ]
    return text + "\n" + "\n".join(lines) + "\n"


def _json(
    result: BenchmarkResult,
    *,
    regressions: pd.DataFrame | None,
    compared_with: dict[str, Any] | None,
) -> dict[str, Any]:
    import json

    from rrperf.bench.report import generate_report

    payload: dict[str, Any] = json.loads(generate_report(result, format="json"))
    if regressions is not None:
        payload["compared_with"] = compared_with
        payload["regressions"] = frame_records(regressions)
    return payload


def run(args: argparse.Namespace) -> int:
    if args.fail_on_regression and args.compare is None:
        args.bench_parser.error("--fail-on-regression needs --compare NAME")
    states = CACHE_CHOICES.get(args.cache)
    if states is None:
        raise ConfigError(f"--cache must be cold, warm or both, got {args.cache!r}")

    from rrperf.bench.regress import detect_regressions
    from rrperf.bench.runner import DEFAULT_SCENARIOS, BenchmarkRunner
    from rrperf.bench.systems import BUILTIN_SYSTEMS

    location = history_location(args)
    with contextlib.ExitStack() as stack:
        baseline: BenchmarkResult | None = None
        store = None
        if args.compare is not None:
            # The baseline is loaded before anything runs: a typo fails at once, and
            # --save NAME --compare NAME compares with the previous run of that name.
            store = stack.enter_context(open_existing_history(location))
            baseline = store.load_run(args.compare)
        elif args.save is not None:
            from rrperf.bench.history import HistoryStore

            store = stack.enter_context(HistoryStore(location))
        runner = BenchmarkRunner(
            iterations=args.iterations,
            warmup=args.warmup,
            progress=not args.no_progress and args.format in ("table", "markdown"),
            history=store if args.save is not None else None,
            seed=args.seed,
            isolate=args.isolate,
            name=args.save,
            # Only an instruction run says so: wall time is the runner's default.
            **_metric_kws(args),
        )
        result = runner.run_comparative_benchmark(
            args.scenarios if args.scenarios is not None else DEFAULT_SCENARIOS,
            systems=args.systems if args.systems is not None else BUILTIN_SYSTEMS,
            strategies=args.strategies,
            cache_states=states,
        )

    data = result.data
    failed = data[data["error"].notna().to_numpy(dtype=bool)]
    if len(failed):
        print(
            f"warning: {len(failed)} of {len(data)} iterations failed "
            f"(first: {failed['error'].iloc[0]})",
            file=sys.stderr,
        )

    if args.metric == "instructions" and baseline is not None:
        return _instruction_gate(args, result, baseline)

    regressions: pd.DataFrame | None = None
    compared_with: dict[str, Any] | None = None
    against = ""
    if baseline is not None:
        base_ids = baseline.run_ids
        base_id = base_ids[0] if base_ids else str(baseline.metadata["run_id"].iloc[0])
        compared_with = {"name": args.compare, "run_id": base_id, "threshold": args.threshold}
        against = args.compare if args.compare == base_id else f"{args.compare} ({base_id})"
        regressions = detect_regressions(data, baseline.data, threshold=args.threshold)
        if regressions.empty:
            print(
                f"warning: {against} has no (scenario, system, strategy, cache_state) "
                "group in common with this run; nothing was compared",
                file=sys.stderr,
            )

    saved = f"{args.save!r} in {location}" if args.save is not None else None
    if args.format == "csv":
        sys.stdout.write(data.to_csv(index=False))
    elif args.format == "json":
        print_json(_json(result, regressions=regressions, compared_with=compared_with))
    elif args.format == "markdown":
        sys.stdout.write(
            _markdown(result, regressions=regressions, against=against, threshold=args.threshold)
        )
    else:
        _print_table(result, saved=saved, regressions=regressions, against=against)

    if regressions is not None and args.fail_on_regression:
        found = regressions[regressions["regression"].to_numpy(dtype=bool)]
        for row in found.itertuples(index=False):
            print(f"rrperf: {_regression_line(row, against)}", file=sys.stderr)
        if len(found):
            return 1
    return 0


_GATE_COLUMNS = [
    "scenario", "system", "strategy", "cache_state", "n_current", "n_baseline",
    "median_current", "median_baseline", "ratio", "cv_current", "cv_baseline", "verdict",
]


def _instruction_gate(
    args: argparse.Namespace, result: BenchmarkResult, baseline: BenchmarkResult
) -> int:
    """``--metric instructions --compare NAME``: the ratio-of-medians gate of
    :func:`rrperf.bench.metrics.instruction_gate`; exit 1 slower, 3 inconclusive, else 0
    (with ``--fail-on-regression``; always 0 without it)."""
    from rrperf.bench.metrics import gate_exit_code, instruction_gate

    gate = instruction_gate(result.data, baseline.data, threshold=args.threshold)
    if gate.empty:
        print(
            f"rrperf: error: {args.compare} has no (scenario, system, strategy, cache_state) "
            "group with instruction counts in common with this run",
            file=sys.stderr,
        )
        return 1 if args.fail_on_regression else 0
    if args.format == "json":
        print_json({"gate": frame_records(gate), "threshold": args.threshold})
    elif args.format == "csv":
        sys.stdout.write(result.data.to_csv(index=False))
    else:
        print(f"Instruction gate against {args.compare} (ratio = this run / that run, "
              f"threshold {args.threshold:.1%})")
        print(text_table(gate, _GATE_COLUMNS))
    if not args.fail_on_regression:
        return 0
    code = gate_exit_code(gate)
    for rec in gate.to_dict("records"):
        if rec["verdict"] in ("slower", "inconclusive"):
            print(
                f"rrperf: {rec['verdict']}: {rec['scenario']} "
                f"{_label(rec['system'], rec['strategy'])} {rec['cache_state']}: instructions "
                f"ratio {rec['ratio']:.4f} (cv {rec['cv_current']:.2%} / "
                f"{rec['cv_baseline']:.2%}) against {args.compare}",
                file=sys.stderr,
            )
    return code
