"""``rrperf bench``: run a comparative benchmark, print it, save it, check it for regressions.

Output by ``--format``:

* ``table`` (default): the summary and the comparison with the baseline (with the gate's
  ``decision`` per variant) and, with ``--compare``, the check against the stored runs and
  both runs' machine facts side by side, as aligned text for people.
* ``markdown``: the :func:`rrperf.bench.report.generate_report` Markdown report, plus a
  ``Gate`` section and, with ``--compare``, an ``Against stored NAME`` section.
* ``json``: one object with the keys of the JSON report (``metadata, rows, summary, comparison,
  correctness, stability, warnings``), ``gate`` (baseline, metric, outcome, the same-run
  rows, the messages) and, with ``--compare``, ``compared_with`` and ``regressions`` (the
  rows of :func:`rrperf.bench.gate.stored_gate`).
* ``csv``: the measurement table, exactly ``DataFrame.to_csv(index=False)``.

The progress bar goes to stderr, and only for ``table`` and ``markdown``, so stdout stays
machine-readable.

The gate (:mod:`rrperf.bench.gate`): every variant is compared with the in-run baseline
(``--baseline``, default ``legacy`` when measured, else the first system), and with
``--compare NAME`` the run is also judged against the stored complete runs of NAME. Exit
status: README, "CI recipe"; each finding is one ``rrperf: ...`` line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rrperf.cli._cluster import add_cluster_options, cluster_client
from rrperf.cli._util import csv_list, print_json, project_config
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

    from rrperf.bench.gate import Gate
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
_GATE_COLUMNS = [*_COMPARISON_COLUMNS, "decision"]
_STORED_COLUMNS = [
    "scenario", "system", "strategy", "cache_state", "n_runs", "ratio", "ratio_ci_low",
    "ratio_ci_high", "decision",
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


def _iterations(text: str) -> int | str:
    """argparse type of ``--iterations``: a whole number >= 1 or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of rounds >= 1 or 'auto', got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of rounds >= 1, got {text!r}")
    return value


def _count(minimum: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number >= {minimum}, got {text!r}")
        return value

    return parse


def _seconds(text: str) -> float:
    """argparse type of ``--time-budget``: seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds such as 90, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _metric(text: str) -> str:
    """argparse type of ``--metric``: ``wall`` or ``instructions`` -> the column it measures."""
    from rrperf.bench.metrics import metric_column

    try:
        return metric_column(text)
    except ConfigError:
        raise argparse.ArgumentTypeError(
            f"expected wall, cpu or instructions, got {text!r}"
        ) from None


def _metric_kws(args: argparse.Namespace) -> dict[str, Any]:
    """``metric=`` for the runner, given only for an instruction run (wall is its default)."""
    return {"metric": "instructions"} if args.metric == "instructions" else {}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from rrperf.bench.gate import DEFAULT_TIME_BUDGET_S, MAX_ROUNDS, MIN_ROUNDS

    p = sub.add_parser(
        "bench",
        help="benchmark systems on scenarios, save the run, check it for regressions",
        description="Run every scenario x system x strategy x cache state with interleaved, "
        "seeded iterations; print the summary and the comparison with the baseline "
        "(--baseline; legacy when measured, else the first system). Exit status: 0 success "
        "(with --fail-on-regression: no variant slower beyond --threshold, shown), 1 error or "
        "a variant shown slower, 2 usage error, 3 inconclusive (with --fail-on-regression).",
    )
    p.add_argument(
        "--scenarios", type=csv_list, default=None, metavar="A,B",
        help="scenarios: names of `rrperf scenarios`, synthetic:N, schema.rb / SQLite paths "
        "(labelled by file stem) or database URLs (default: small, medium, large, "
        "polymorphic_heavy)",
    )
    p.add_argument(
        "--systems", type=csv_list, default=None, metavar="A,B",
        help="system names: legacy, pipeline or [systems.NAME] of rrperf.toml "
        "(default: legacy, pipeline; with --against: none beside the two revisions)",
    )
    p.add_argument(
        "--strategies", type=csv_list, default=None, metavar="A,B",
        help="strategies of the systems that run them (pipeline)",
    )
    p.add_argument(
        "--baseline", default=None, metavar="SYSTEM[/STRATEGY]",
        help="the in-run baseline of the comparison and the gate (default: legacy when "
        "measured, else the first system; with --against: the revision)",
    )
    p.add_argument(
        "--against", default=None, metavar="REV",
        help="also measure the generator of git revision REV (a worktree kept under "
        ".rrperf/worktrees/) as a system named after REV, beside 'working' (this tree), "
        "both as whole commands with this environment's dependencies",
    )
    p.add_argument(
        "--iterations", type=_iterations, default=5, metavar="N|auto",
        help=f"measured rounds (5); 'auto' adds rounds until every comparison is clear: at "
        f"least {MIN_ROUNDS}, at most --max-rounds, within --time-budget",
    )
    p.add_argument(
        "--time-budget", type=_seconds, default=None, metavar="SECONDS",
        help=f"with --iterations auto: stop adding rounds after this long "
        f"({DEFAULT_TIME_BUDGET_S:g})",
    )
    p.add_argument(
        "--max-rounds", type=_count(MIN_ROUNDS), default=MAX_ROUNDS, metavar="N",
        help=f"with --iterations auto: most measured rounds ({MAX_ROUNDS})",
    )
    p.add_argument("--warmup", type=_count(0), default=1, metavar="N", help="warm-up rounds (1)")
    p.add_argument(
        "--cache", default="cold", choices=tuple(CACHE_CHOICES), metavar="STATE",
        help="cache state: cold, warm or both (cold)",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (table)")
    p.add_argument("--save", default=None, metavar="NAME", help="store the run under NAME")
    p.add_argument(
        "--compare", default=None, metavar="NAME",
        help="also judge the run against the latest complete stored runs of NAME (or a run "
        "id); needs 3 runs to tell machine drift from a change",
    )
    p.add_argument(
        "--threshold", type=_threshold, default=0.05, metavar="F",
        help="relative slowdown that counts as a regression (0.05)",
    )
    p.add_argument(
        "--fail-on-regression", action="store_true",
        help="exit 1 when a variant is shown slower than the baseline beyond --threshold, "
        "3 when that cannot be ruled out (for CI)",
    )
    p.add_argument(
        "--metric", type=_metric, default="wall_s", metavar="wall|cpu|instructions",
        help="what the summary, the comparison and the gate use: wall time (default); cpu "
        "(CPU time of the process and its children: steadier than wall time when other "
        "processes come and go, but blind to waiting); or instructions counted under Valgrind "
        "(deterministic; with --compare the gate is the ratio of medians against --threshold)",
    )
    add_history_option(p)
    p.add_argument("--seed", type=int, default=None, metavar="N", help="seed of the run order")
    p.add_argument(
        "--isolate", action="store_true", help="run every iteration in a fresh process"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_cluster_options(p, what="measure each scenario on one worker")  # issue 13
    p.set_defaults(run=run, bench_parser=p)


def _label(system: Any, strategy: Any) -> str:
    return f"{system}/{strategy}" if isinstance(strategy, str) and strategy else str(system)


def resolve_baseline(spec: str | None, variants: Sequence[Any]) -> str:
    """The baseline label (``system`` or ``system/strategy``) among the planned variants.

    Parameters
    ----------
    spec : str or None
        ``--baseline``; None picks ``legacy`` when measured, else the first system (named by
        its system name when it is measured with one strategy, else its first variant).
    variants : sequence of Variant
        From :meth:`rrperf.bench.runner.BenchmarkRunner.plan`.

    Raises
    ------
    ConfigError
        When ``spec`` matches no variant, or names a system that runs several strategies
        without one (the message lists the ``system/strategy`` names to choose from).
    """
    labels = [v.label for v in variants]
    if spec is None:
        systems = list(dict.fromkeys(v.system for v in variants))
        system = "legacy" if "legacy" in systems else systems[0]
        mine = [v.label for v in variants if v.system == system]
        return str(system) if len(mine) == 1 else str(mine[0])
    system, slash, strategy = spec.partition("/")
    if slash:
        if spec in labels:
            return str(spec)
        raise ConfigError(
            f"--baseline {spec!r} is not measured; variants: {', '.join(labels)}"
        )
    matches = [v.label for v in variants if v.system == system]
    if not matches:
        raise ConfigError(f"--baseline {spec!r} is not measured; variants: {', '.join(labels)}")
    if len(matches) > 1:
        raise ConfigError(
            f"--baseline {spec!r} runs several strategies ({', '.join(matches)}); name one, "
            f"e.g. --baseline {matches[0]}"
        )
    return str(system)


def _machine(meta: pd.DataFrame) -> dict[str, Any]:
    """Machine facts of a run's metadata table: CPU model, CPUs, load at start and end."""
    import json

    if meta.empty:
        return {}
    row = meta.iloc[0]
    try:
        facts = json.loads(str(row["config_json"])).get("machine", {})
    except (ValueError, AttributeError):
        facts = {}

    def load(key: str) -> str:
        value = facts.get(key) if isinstance(facts, dict) else None
        return ", ".join(f"{v:.2f}" for v in value) if isinstance(value, list) else "unknown"

    others = facts.get("other_benchmarks_at_start") if isinstance(facts, dict) else None
    later = facts.get("other_benchmarks_at_end") if isinstance(facts, dict) else None
    pids = sorted({
        int(o["pid"]) for o in [*(others or []), *(later or [])]
        if isinstance(o, dict) and isinstance(o.get("pid"), int)
    })
    return {
        "run": str(row["run_id"]),
        "cpu model": str(row["cpu_model"]) if row["cpu_model"] is not None else "unknown",
        "cpus": str(row["cpu_count"]),
        "load avg at start (1, 5, 15 min)": load("load_avg_start"),
        "load avg at end": load("load_avg_end"),
        "other benchmarks running": ", ".join(f"pid {p}" for p in pids) if pids else (
            "none" if isinstance(facts, dict) and "load_avg_start" in facts else "unknown"
        ),
    }


def _machine_lines(current: pd.DataFrame, stored: pd.DataFrame) -> list[str]:
    mine, theirs = _machine(current), _machine(stored)
    keys = list(dict.fromkeys([*mine, *theirs]))
    width = max((len(k) for k in keys), default=0)
    col = max([len("this run"), *(len(str(mine.get(k, ""))) for k in keys)])
    lines = [f"{'':{width}}  {'this run':{col}}  stored run"]
    lines += [
        f"{k:{width}}  {mine.get(k, 'unknown'):{col}}  {theirs.get(k, 'unknown')}" for k in keys
    ]
    return lines


def _print_table(
    result: BenchmarkResult,
    *,
    saved: str | None,
    baseline: str,
    same_run: Gate | None,
    stored: Gate | None,
    against: str,
    machine: list[str],
    value: str,
    threshold: float,
) -> None:
    data = result.data
    run_ids = ", ".join(result.run_ids)
    rounds = int(data.loc[~data["warmup"].astype(bool), "iteration"].nunique()) if len(data) else 0
    head = (
        f"run {run_ids}: {len(data)} iterations ({int(data['warmup'].sum())} warm-up), "
        f"{rounds} measured round(s)"
    )
    if saved:
        head += f", saved as {saved}"
    print(head)
    print()
    print(f"Summary ({value}, warm-ups left out)")
    print(text_table(result.summary(value=value), _SUMMARY_COLUMNS))
    print()
    n_variants = len(data.drop_duplicates(["system", "strategy"])) if len(data) else 0
    if (same_run is None or same_run.table.empty) and n_variants > 1:
        print("Comparison: not made (a variant has no successful iteration)")
    elif same_run is None or same_run.table.empty:
        print(f"Comparison: only the baseline {baseline} was measured")
    else:
        print(
            f"Comparison with {baseline} (ratio < 1 is faster; slower means beyond "
            f"+{threshold:g})"
        )
        print(text_table(same_run.table, _GATE_COLUMNS))
    correctness = result.correctness
    wrong = correctness[correctness["note"].notna().to_numpy(dtype=bool)]
    for row in wrong.itertuples(index=False):
        print(
            f"output check: {row.scenario} {_label(row.system, row.strategy)}: {row.note}"
        )
    if stored is not None:
        print()
        print(f"Check against stored {against} (ratio = this run / stored)")
        if stored.table.empty:
            print("no group in common")
        else:
            print(text_table(stored.table, _STORED_COLUMNS))
        if machine:
            print()
            print("Machine")
            for line in machine:
                print(line)


def _json(
    result: BenchmarkResult,
    *,
    same_run: Gate | None,
    stored: Gate | None,
    compared_with: dict[str, Any] | None,
    outcome: str | None,
    baseline: str,
    metric: str,
) -> dict[str, Any]:
    import json

    from rrperf.bench.report import generate_report

    payload: dict[str, Any] = json.loads(generate_report(result, format="json"))
    payload["gate"] = {
        "baseline": baseline,
        "metric": metric,
        "outcome": outcome,
        "same_run": frame_records(same_run.table) if same_run is not None else [],
        "messages": [
            *(same_run.messages if same_run is not None else []),
            *(stored.messages if stored is not None else []),
        ],
    }
    if stored is not None:
        payload["compared_with"] = compared_with
        payload["regressions"] = frame_records(stored.table)
    return payload


class _AutoRounds:
    """The stop rule of ``--iterations auto``: stop when the same-run gate is decided, when
    the time budget is spent, or at ``--max-rounds`` (the runner's ``iterations``)."""

    def __init__(
        self, *, baseline: str, threshold: float, value: str, budget_s: float,
        single: bool,
    ) -> None:
        import time

        from rrperf.bench.gate import MIN_ROUNDS

        self.baseline = baseline
        self.threshold = threshold
        self.value = value
        self.budget_s = budget_s
        self.single = single
        self.min_rounds = MIN_ROUNDS
        self.started = time.perf_counter()
        self.rounds = 0
        self.checked = 0
        self.reason = "max rounds"

    def __call__(self, rows: Sequence[Mapping[str, Any]], rounds: int) -> bool:
        import time

        from rrperf.bench.gate import AUTO_CONFIDENCE, failed_variants, same_run_gate
        from rrperf.bench.results import measurements_frame

        self.rounds = rounds
        if time.perf_counter() - self.started >= self.budget_s:
            self.reason = "time budget spent"
            return True
        if rounds < self.min_rounds:
            return False
        if self.single:
            self.reason = "nothing to compare in the run; minimum rounds"
            return True
        # Look again once the rounds grew by 10 % (fewer looks, less optional stopping; a
        # look costs ~0.1 s at 100 rounds).
        if self.checked and rounds - self.checked < max(1, self.checked // 10):
            return False
        self.checked = rounds
        frame = measurements_frame(list(rows))
        if failed_variants(frame):
            self.reason = "a variant failed every iteration"
            return True
        gate = same_run_gate(
            frame, self.baseline, threshold=self.threshold, value=self.value,
            confidence=AUTO_CONFIDENCE,
        )
        if gate.decided:
            self.reason = "every comparison decided"
            return True
        return False


def _register_against(runner: Any, rev: str) -> list[str]:
    """Set up ``--against REV``: two command systems; returns their names (REV's first)."""
    from rrperf.bench.against import (
        WORKING,
        generator_command,
        prepare_worktree,
        working_code_root,
    )
    from rrperf.bench.systems import Command

    info = prepare_worktree(rev)
    command, env = generator_command(info.worktree)
    runner.register_system(info.name, Command(command, name=info.name, env=env))
    command, env = generator_command(working_code_root())
    runner.register_system(WORKING, Command(command, name=WORKING, env=env))
    print(
        f"against {rev} ({info.commit[:12]}): worktree {info.worktree}; systems "
        f"{info.name!r} and {WORKING!r} run whole commands with this environment's "
        "dependencies",
        file=sys.stderr,
    )
    return [info.name, WORKING]


def run(args: argparse.Namespace) -> int:
    import time

    from rrperf.bench.gate import DEFAULT_TIME_BUDGET_S, combine, failed_variants, same_run_gate
    from rrperf.bench.metadata import BenchmarkPresence, describe_others
    from rrperf.bench.runner import DEFAULT_SCENARIOS, BenchmarkRunner
    from rrperf.bench.systems import BUILTIN_SYSTEMS

    # rrperf.toml from here upwards, read before anything is written; a bad one: exit 1
    config = project_config()
    auto = args.iterations == "auto"
    if args.time_budget is not None and not auto:
        args.bench_parser.error("--time-budget needs --iterations auto")
    if auto and getattr(args, "cluster", None) is not None:
        # each scenario's rounds run as one task on a worker: rounds cannot be added there
        args.bench_parser.error("--iterations auto cannot be combined with --cluster")
    value = str(getattr(args, "metric", None) or "wall_s")
    states = CACHE_CHOICES[args.cache]
    location = history_location(args)
    stored_runs: list[BenchmarkResult] = []
    with contextlib.ExitStack() as stack:
        store = None
        if args.compare is not None:
            # The baseline is loaded before anything runs: a typo fails at once, and
            # --save NAME --compare NAME compares with the previous runs of that name.
            from rrperf.bench.gate import MIN_STORED_RUNS

            store = stack.enter_context(open_existing_history(location))
            stored_runs, skipped = store.complete_runs(args.compare, limit=MIN_STORED_RUNS + 2)
            for run_id, status in skipped:
                print(
                    f"warning: run {run_id} of {args.compare!r} is {status}; a failed or "
                    f"interrupted run is not used as a baseline: comparing with the latest "
                    f"complete run {stored_runs[-1].run_ids[0]}",
                    file=sys.stderr,
                )
        if args.save is not None:
            from rrperf.bench.history import HistoryStore

            if store is None:
                store = stack.enter_context(HistoryStore(location))
            known = store.list_runs()
            same = int((known["name"] == args.save).fillna(False).sum())
            if same:
                print(
                    f"note: {same} run(s) named {args.save!r} already in {location}; this run "
                    "is added beside them (--compare uses the latest complete ones)",
                    file=sys.stderr,
                )
        client = cluster_client(args, stack)  # issue 13: --cluster ADDRESS (None without)
        runner = BenchmarkRunner(
            iterations=args.max_rounds if auto else args.iterations,
            warmup=args.warmup,
            progress=not args.no_progress and args.format in ("table", "markdown"),
            history=store if args.save is not None else None,
            seed=args.seed,
            isolate=args.isolate,
            name=args.save,
            config=config,
            **({"client": client} if client is not None else {}),  # issue 13
            # Only an instruction run says so: wall time is the runner's default.
            **_metric_kws(args),
        )
        systems: tuple[str, ...] = (
            args.systems if args.systems is not None
            else (() if args.against else BUILTIN_SYSTEMS)
        )
        if args.against:
            names = _register_against(runner, args.against)
            systems = (*names, *(s for s in systems if s not in names))
        scenarios = args.scenarios if args.scenarios is not None else DEFAULT_SCENARIOS
        _, variants, _ = runner.plan(
            scenarios, systems=systems, strategies=args.strategies, cache_states=states
        )
        baseline = resolve_baseline(
            args.baseline if args.baseline is not None
            else (variants[0].label if args.against else None),
            variants,
        )
        rule: _AutoRounds | None = None
        if auto:
            rule = _AutoRounds(
                baseline=baseline, threshold=args.threshold, value=value,
                budget_s=args.time_budget or DEFAULT_TIME_BUDGET_S, single=len(variants) < 2,
            )
            runner.until = rule
        others = BenchmarkPresence().others()
        if others:
            print(
                "warning: another benchmark is running on this machine "
                f"({describe_others(others)}); both will be slower and noisier; recorded in "
                "the run's metadata",
                file=sys.stderr,
            )
        started = time.perf_counter()
        result = runner.run(
            scenarios, systems=systems, strategies=args.strategies, cache_states=states,
        )
        elapsed = time.perf_counter() - started
    if result.baseline != baseline:
        result = type(result)(
            result.data, result.metadata, baseline=baseline, warnings=result.warnings
        )

    data = result.data
    failed = data[data["error"].notna().to_numpy(dtype=bool)]
    if len(failed):
        print(
            f"warning: {len(failed)} of {len(data)} iterations failed "
            f"(first: {failed['error'].iloc[0]})",
            file=sys.stderr,
        )
    if rule is not None:
        print(
            f"auto rounds: {rule.rounds} measured round(s) in {elapsed:.0f} s "
            f"({rule.reason})",
            file=sys.stderr,
        )
    dead = failed_variants(data)

    same_run: Gate | None = None
    if len(variants) > 1 and not dead:
        from rrperf.bench.gate import AUTO_CONFIDENCE

        same_run = same_run_gate(
            data, baseline, threshold=args.threshold, value=value,
            confidence=AUTO_CONFIDENCE if auto else 0.95,
        )
    if value == "instructions" and stored_runs and not dead:
        # instruction counts are deterministic: the stored baseline's ratio of medians decides
        return _instruction_gate(args, result, stored_runs[-1])
    stored: Gate | None = None
    compared_with: dict[str, Any] | None = None
    against = ""
    machine: list[str] = []
    if stored_runs and not dead:
        from rrperf.bench.gate import stored_gate

        base_id = stored_runs[-1].run_ids[0]
        compared_with = {
            "name": args.compare, "run_id": base_id, "threshold": args.threshold,
            "run_ids": [r.run_ids[0] for r in stored_runs],
        }
        against = args.compare if args.compare == base_id else f"{args.compare} ({base_id})"
        stored = stored_gate(
            data, [r.data for r in stored_runs], threshold=args.threshold, value=value
        )
        if stored.outcome == "error":
            print(
                f"warning: {against} has no (scenario, system, strategy, cache_state) "
                "group in common with this run; nothing was compared",
                file=sys.stderr,
            )
        machine = _machine_lines(result.metadata, stored_runs[-1].metadata)

    gates = [g for g in (same_run, stored) if g is not None]
    outcome = "error" if dead else combine(gates)
    saved = f"{args.save!r} in {location}" if args.save is not None else None
    if args.format == "csv":
        sys.stdout.write(data.to_csv(index=False))
    elif args.format == "json":
        print_json(_json(
            result, same_run=same_run, stored=stored, compared_with=compared_with,
            outcome=outcome, baseline=baseline, metric=value,
        ))
    elif args.format == "markdown":
        from rrperf.bench.report import generate_report

        sys.stdout.write(generate_report(
            result, format="markdown", same_run=same_run, stored=stored, against=against,
            threshold=args.threshold,
        ))
    else:
        _print_table(
            result, saved=saved, baseline=baseline, same_run=same_run, stored=stored,
            against=against, machine=machine, value=value, threshold=args.threshold,
        )
        if args.cluster is not None:  # issue 13: which worker measured each scenario
            from rrperf.bench.cluster import scenario_workers

            print()
            print(scenario_workers(data))

    if dead:
        print(
            f"rrperf: error: every iteration failed for {', '.join(dead)}; nothing to judge",
            file=sys.stderr,
        )
        return 1
    if not args.fail_on_regression:
        return 0
    for gate in gates:
        for message in gate.messages:
            print(f"rrperf: {message}", file=sys.stderr)
    if not gates:
        print(
            f"rrperf: error: nothing to compare: only {baseline} was measured and no --compare "
            "NAME was given",
            file=sys.stderr,
        )
    from rrperf.bench.gate import EXIT_CODES

    print(f"rrperf: gate: {outcome} (exit {EXIT_CODES[outcome]})", file=sys.stderr)
    return EXIT_CODES[outcome]


_INSTRUCTION_GATE_COLUMNS = [
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
        print(text_table(gate, _INSTRUCTION_GATE_COLUMNS))
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
