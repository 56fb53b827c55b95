"""A recommendation checked against a benchmark: predicted against measured, ties, how sure.

Per cache state, :func:`analysis_rows` judges every benchmarked strategy against the measured
best with the CI gate's same-run logic (:func:`rrperf.bench.gate.same_run_gate`, threshold
:data:`WITHIN`): paired by round, a strategy whose interval of the ratio to the best lies at or
below ``1 + WITHIN`` cannot be told apart from it ("not slower"). The best and those strategies
are a tie, and the recommendation is the tie's member with the fewest resources
(:func:`rrperf.optimize.workload.tie_break`: ``minimal`` before ``sequential`` before caching,
serial before a pool), not whichever median came out lower. So it is right by the analysis'
criterion (the measured best, or within 5 % of it with 95 % confidence), and it only changes
between runs when the tie itself changes. The model's own pick (``model_pick``) is judged by
the same criterion.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rrperf.document import html_table, table_cells
from rrperf.errors import RrperfError
from rrperf.optimize.report import plain
from rrperf.optimize.workload import (
    TERM_NAMES,
    Calibration,
    Recommendation,
    StrategyLike,
    tie_break,
    uses_pool,
)

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.bench.results import BenchmarkResult

__all__ = ["ANALYSIS_COLUMNS", "PREDICTION_COLUMNS", "WITHIN", "AnalysisResult", "same_code"]

#: A strategy whose paired interval against the measured best lies at or below ``1 + WITHIN``
#: is as good as the best (the analysis target and the CI gate's threshold).
WITHIN = 0.05

#: Columns of :meth:`AnalysisResult.to_frame`. ``recommended`` is the choice after the
#: benchmark (see the module docstring), ``tied`` the strategies it was chosen from, ``sure``
#: how the others compared, ``summary`` the one line ``rrperf analyze`` prints.
ANALYSIS_COLUMNS: tuple[str, ...] = (
    "scenario",
    "cache_state",
    "recommended",
    "predicted_s",
    "measured_best",
    "recommended_median_s",
    "best_median_s",
    "ratio",
    "paired_ratio",
    "within_5pct",
    "tied",
    "model_pick",
    "model_within_5pct",
    "sure",
    "verdict",
    "summary",
)


#: Columns of :meth:`AnalysisResult.predictions_frame`: per cache state and strategy, the
#: model's prediction against the measured median. ``error`` is ``predicted / measured - 1``
#: (-0.55: predicted 55 % below what was measured); ``same_code_as`` names an earlier strategy
#: that runs the same code on this machine (hence gets the same prediction), and ``note`` says
#: why.
PREDICTION_COLUMNS: tuple[str, ...] = (
    "cache_state",
    "strategy",
    "predicted_s",
    "measured_median_s",
    "error",
    "recommended",
    "measured_best",
    "same_code_as",
    "note",
)


@dataclass(frozen=True)
class AnalysisResult:
    """A recommendation checked against a benchmark of the candidate strategies.

    Attributes
    ----------
    scenario : str
        The scenario's label (a path's file stem).
    recommendation : Recommendation
        The model's, for the first cache state analysed.
    recommendations : mapping of str to Recommendation
        The model's, per cache state.
    strategies : tuple of str
        The strategies benchmarked.
    benchmark : BenchmarkResult
    rows : tuple of dict
        Per cache state, the :data:`ANALYSIS_COLUMNS`.
    predictions : tuple of dict
        Per cache state and candidate strategy, the :data:`PREDICTION_COLUMNS`: predicted
        against measured (NaN when the strategy was not benchmarked).
    calibration : Calibration or None
        The machine's calibration the predictions used (None: uncalibrated).
    recalibrated : bool
        Whether this run's measurements drifted beyond the bound and the calibration was
        fitted again (for the next run).
    """

    scenario: str
    recommendation: Recommendation
    recommendations: Mapping[str, Recommendation]
    strategies: tuple[str, ...]
    benchmark: BenchmarkResult = field(repr=False, compare=False)
    rows: tuple[Mapping[str, Any], ...] = ()
    predictions: tuple[Mapping[str, Any], ...] = ()
    calibration: Calibration | None = None
    recalibrated: bool = False

    @property
    def within_5pct(self) -> bool:
        """Whether the recommendation was within 5% of the measured best in every state."""
        return all(bool(r["within_5pct"]) for r in self.rows)

    @property
    def prediction_error(self) -> float:
        """Median absolute prediction error over the measured strategies and states."""
        errors = sorted(abs(float(p["error"])) for p in self.predictions
                        if math.isfinite(float(p["error"])))
        if not errors:
            return math.nan
        mid = len(errors) // 2
        return errors[mid] if len(errors) % 2 else (errors[mid - 1] + errors[mid]) / 2

    def to_frame(self) -> pd.DataFrame:
        """One row per cache state (:data:`ANALYSIS_COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame([dict(r) for r in self.rows], columns=list(ANALYSIS_COLUMNS))

    def predictions_frame(self) -> pd.DataFrame:
        """One row per cache state and strategy (:data:`PREDICTION_COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame(
            [dict(r) for r in self.predictions], columns=list(PREDICTION_COLUMNS)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the benchmark's rows are not included)."""
        return {
            "scenario": self.scenario,
            "strategies": list(self.strategies),
            "rows": [plain(dict(r)) for r in self.rows],
            "predictions": [plain(dict(r)) for r in self.predictions],
            "prediction_error": plain(self.prediction_error),
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "recalibrated": self.recalibrated,
            "recommendations": {s: r.to_dict() for s, r in self.recommendations.items()},
        }

    def _repr_html_(self) -> str:
        def table(rows: Iterable[Mapping[str, Any]], columns: tuple[str, ...]) -> str:
            return html_table(*table_cells([{c: r[c] for c in columns} for r in rows]))

        return (
            f"<div><p><b>Strategy analysis of {html.escape(self.scenario)}</b></p>"
            f"<p>{html.escape(self.recommendation.rationale)}</p>"
            f"{table(self.rows, ANALYSIS_COLUMNS)}"
            "<p><b>Predicted against measured</b> (error = predicted / measured - 1)</p>"
            f"{table(self.predictions, PREDICTION_COLUMNS)}</div>"
        )


def _setup(strategy: StrategyLike, n_tables: int, warm: bool) -> tuple[tuple[Any, ...], str]:
    """What decides the code a strategy's run executes here, and why a pool is not used
    (:func:`rrperf.optimize.workload.uses_pool`). Cache lifetimes do not change what a run
    executes."""
    pooled, why = uses_pool(strategy, n_tables, warm)
    key = (
        strategy.backend if pooled else "serial",
        max(1, int(strategy.resolved_workers())) if pooled else 1,
        frozenset(strategy.cache_memory),
        frozenset(strategy.cache_disk),
        bool(strategy.monitoring),
        bool(strategy.manifest),
        strategy.batch_size if pooled else None,
    )
    return key, why


def same_code(
    strategies: Mapping[str, Any], n_tables: int, *, warm: bool
) -> dict[str, tuple[str, str]]:
    """Strategies that run the same code as one listed before them, and why.

    Parameters
    ----------
    strategies : mapping of str to Strategy
        The candidates, in registry order.
    n_tables : int
        Tables of the run.
    warm : bool
        Whether the strategies' caches already hold the schema.

    Returns
    -------
    dict
        ``name -> (earlier strategy, reasons)`` for every strategy whose run executes the same
        code as an earlier one's (same caches and monitoring, and either the same pool or no
        pool used, in the steady state of :func:`~rrperf.optimize.workload.uses_pool`: a run
        of this size that forks no workers renders serially); ``reasons`` says why a configured
        pool is not used.

    Examples
    --------
    >>> from rrperf.engine.strategies import Strategy
    >>> one = Strategy("one", "serial", 1, frozenset(), frozenset())
    >>> pool = Strategy("pool", "process", 2, frozenset(), frozenset())
    >>> twin, why = same_code({"one": one, "pool": pool}, 4, warm=False)["pool"]
    >>> print(twin, why.split(" (")[0])
    one it forks no workers
    >>> same_code({"one": one, "pool": pool}, 100_000, warm=False)
    {}
    """
    first: dict[tuple[Any, ...], str] = {}
    out: dict[str, tuple[str, str]] = {}
    for name, strategy in strategies.items():
        key, why = _setup(strategy, n_tables, warm)
        if key not in first:
            first[key] = name
            continue
        other = first[key]
        _, other_why = _setup(strategies[other], n_tables, warm)
        reasons = [r for r in (why, other_why and f"{other}'s: {other_why}") if r]
        reasons.append("both use the same cache tiers and monitoring")
        if strategy.ttl_multiplier != strategies[other].ttl_multiplier:
            reasons.append("only their cache lifetimes differ")
        out[name] = (other, "; ".join(reasons))
    return out


def _medians(bench: BenchmarkResult, state: str) -> dict[str, float]:
    summary = bench.summary()
    part = summary[(summary["cache_state"] == state) & summary["median"].notna()]
    return {str(n): float(m) for n, m in zip(part["strategy"], part["median"], strict=True)}


def prediction_rows(
    states: tuple[str, ...],
    recs: Mapping[str, Recommendation],
    bench: BenchmarkResult,
    strategies: Mapping[str, Any],
    chosen: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Per cache state and candidate strategy: predicted against measured (see
    :data:`PREDICTION_COLUMNS`); ``chosen``: the recommendation per state (default: the
    model's)."""
    rows: list[dict[str, Any]] = []
    for state in states:
        rec = recs[state]
        pick = (chosen or {}).get(state, rec.strategy)
        twins = same_code(
            {n: strategies[n] for n in rec.scores if n in strategies},
            rec.workload.n_tables, warm=state == "warm",
        )
        medians = _medians(bench, state)
        best = min(medians, key=lambda n: medians[n]) if medians else None
        predicted = {name: float(s["predicted_s"]) for name, s in rec.scores.items()}
        for name, pred in predicted.items():
            measured = medians.get(name, math.nan)
            twin, why = twins.get(name, (None, ""))
            note = ""
            if twin is not None:
                same = predicted.get(twin) == pred
                note = (f"{name} runs the same code as {twin} here"
                        + (", so the model predicts the same time for both: " if same else ": ")
                        + f"{why}.")
            rows.append(
                {
                    "cache_state": state,
                    "strategy": name,
                    "predicted_s": pred,
                    "measured_median_s": measured,
                    "error": pred / measured - 1.0 if measured > 0 else math.nan,
                    "recommended": name == pick,
                    "measured_best": name == best,
                    "same_code_as": twin,
                    "note": note,
                }
            )
    return rows


def _judge(in_state: pd.DataFrame, best: str) -> dict[str, tuple[str, float]]:
    """Per strategy, the gate's decision and paired ratio against ``best`` (the CI gate's
    same-run logic at :data:`WITHIN`); ``best`` itself: ``("best", 1.0)``."""
    from rrperf.bench.gate import same_run_gate

    out = {best: ("best", 1.0)}
    system = in_state.loc[in_state["strategy"] == best, "system"].iloc[0]
    gate = same_run_gate(in_state, f"{system}/{best}", threshold=WITHIN, n_resamples=999)
    table = gate.table
    for name, decision, ratio in zip(table["strategy"], table["decision"], table["ratio"],
                                     strict=True):
        out[str(name)] = (str(decision), float(ratio))
    return out


def _sure(judged: Mapping[str, tuple[str, float]], tied: list[str], chosen: str) -> str:
    slower = sum(1 for d, _ in judged.values() if d == "slower")
    undecided = sorted(n for n, (d, _) in judged.items() if d == "undecided")
    others = [n for n in tied if n != chosen]
    head = (f"tie with {', '.join(others)} (fewest resources chosen)" if others
            else "clear best")
    tail = f"{slower} shown slower"
    if undecided:
        tail += f", {len(undecided)} undecided ({', '.join(undecided)})"
    return f"{head}; {tail} (95 % paired intervals, {WITHIN:.0%} margin)"


def analysis_rows(
    scenario: str,
    states: tuple[str, ...],
    recs: Mapping[str, Recommendation],
    bench: BenchmarkResult,
    strategies: Mapping[str, StrategyLike],
) -> list[dict[str, Any]]:
    """Per cache state, the :data:`ANALYSIS_COLUMNS` (see the module docstring)."""
    data = bench.data
    data = data[~data["warmup"].astype(bool) & data["error"].isna() & data["wall_s"].notna()]
    rows = []
    for state in states:
        medians = _medians(bench, state)
        rec = recs[state]
        if not medians:
            raise RrperfError(f"the benchmark of {scenario} ({state}) produced no measurement")
        best = min(medians, key=lambda n: medians[n])
        judged = _judge(data[data["cache_state"] == state], best) if len(medians) > 1 else {
            best: ("best", 1.0)}
        tied = [n for n in strategies if n in judged and judged[n][0] in ("best", "not slower")]
        chosen = tie_break(tied, {n: strategies[n] for n in tied}, rec.workload.n_tables,
                           state == "warm")
        decision, paired = judged[chosen]
        model = judged.get(rec.strategy, ("not measured", math.nan))[0]
        ratio = medians[chosen] / medians[best]
        predicted = rec.predicted_s(chosen)
        verdict = "best" if chosen == best else (
            f"within {WITHIN:.0%} of {best} (medians: {ratio:.3f}; paired by round: "
            f"{paired:.3f})")
        sure = _sure(judged, tied, chosen)
        dominant = _dominant(rec, chosen, strategies)
        summary = (
            f"{scenario} {state}: recommend {chosen}; dominant cost: {dominant}; predicted "
            f"{predicted * 1e3:.2f} ms, measured {medians[chosen] * 1e3:.2f} ms "
            f"({predicted / medians[chosen] - 1:+.0%}); {sure}"
        )
        rows.append(
            {
                "scenario": scenario,
                "cache_state": state,
                "recommended": chosen,
                "predicted_s": predicted,
                "measured_best": best,
                "recommended_median_s": medians[chosen],
                "best_median_s": medians[best],
                "ratio": ratio,
                "paired_ratio": paired,
                "within_5pct": decision in ("best", "not slower"),
                "tied": ", ".join(tied),
                "model_pick": rec.strategy,
                "model_within_5pct": model in ("best", "not slower"),
                "sure": sure,
                "verdict": verdict,
                "summary": summary,
            }
        )
    return rows


def _dominant(rec: Recommendation, chosen: str, strategies: Mapping[str, StrategyLike]) -> str:
    """The largest term of ``chosen``'s prediction, with its share."""
    from rrperf.optimize.workload import predict_parts

    parts = predict_parts(rec.workload, strategies[chosen], rec.calibration)
    total = parts.pop("total")
    term = max(parts, key=lambda k: parts[k])
    return f"{TERM_NAMES[term]} ({parts[term] / total:.0%})" if total > 0 else TERM_NAMES[term]
