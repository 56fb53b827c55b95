"""The regression gate: turn comparisons into one of three answers a CI job can act on.

Every function here is pure (tables in, a :class:`Gate` out) so the decision can be tested on
constructed measurement tables. The statistics are those of :mod:`rrperf.bench.regress`.

Answers: ``pass`` (exit 0: a slowdown beyond the threshold is ruled out), ``slower`` (exit 1),
``inconclusive`` (exit 3), ``error`` (exit 1: nothing could be compared; a gate never passes
on nothing); exit 2 is left to usage errors. When each applies: README, "CI recipe".

Same-run comparisons (:func:`same_run_gate`)
--------------------------------------------
The variants and the baseline run in the same interleaved rounds, so machine drift cancels in
the per-round ratios: :func:`~rrperf.bench.regress.compare` gives the median per-round ratio
and its bootstrap interval. With ``--iterations auto`` the runner adds rounds until
:attr:`Gate.decided` (see :data:`MIN_ROUNDS`, :data:`MAX_ROUNDS`).

The decision is re-checked as rounds are added (from :data:`MIN_ROUNDS` on, each time they
have grown by 10 %: about 30 looks up to 200 rounds). Every look is another chance for the
interval to end the run by chance ("optional stopping"), so ``--iterations auto`` judges at
:data:`AUTO_CONFIDENCE` (99 %) instead of 95 %: a variant truly slower than the threshold
passes one look with probability at most 0.5 % (Bonferroni over ~30 looks bounds the total by
15 %; the looks are strongly correlated, so the real rate is lower, but not measured). A true
ratio right at the threshold stays undecided until the budget is spent: inconclusive.

Stored baselines (:func:`stored_gate`)
--------------------------------------
A stored run was measured at another time, on a machine whose speed drifts between runs
(NOISE.md: up to 2.62x for the same code), so an iteration-level test would read drift as a
code change. With at least :data:`MIN_STORED_RUNS` complete runs, the new run's median is
judged against the spread of the stored runs' medians: ratio = new median / median of the run
medians, interval = the ratio times ``exp(+-t * s * sqrt(1 + 1/k))`` (a Student prediction
interval for one more run; ``s`` the standard deviation of the ``k`` log run medians). With
fewer, the answer is ``inconclusive`` unless the iteration-level interval lies above
``DRIFT_ALLOWANCE * (1 + threshold)`` (slower) or below ``(1 + threshold) / DRIFT_ALLOWANCE``
(pass); :data:`DRIFT_ALLOWANCE` (3.0) is above the largest drift measured here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rrperf.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AUTO_CONFIDENCE",
    "DECISIONS",
    "DEFAULT_TIME_BUDGET_S",
    "DRIFT_ALLOWANCE",
    "EXIT_CODES",
    "MAX_ROUNDS",
    "MIN_ROUNDS",
    "MIN_STORED_RUNS",
    "Gate",
    "classify",
    "combine",
    "failed_variants",
    "rounds_to_decide",
    "same_run_gate",
    "stored_gate",
]

#: Fewest measured rounds before ``--iterations auto`` may stop (Wilcoxon's signed-rank test,
#: used from 8 paired rounds on, can then reach p = 0.002).
MIN_ROUNDS = 10
#: Confidence of the intervals with ``--iterations auto`` (stop rule and answer; see above).
AUTO_CONFIDENCE = 0.99
#: Most measured rounds ``--iterations auto`` runs, whatever the time budget.
MAX_ROUNDS = 400
#: Default ``--time-budget`` in seconds (for ``--iterations auto``).
DEFAULT_TIME_BUDGET_S = 300.0
#: Stored runs of a name needed to judge a new run against their spread.
MIN_STORED_RUNS = 3
#: Machine drift between runs that one stored run cannot tell from a code change.
DRIFT_ALLOWANCE = 3.0
#: Per-comparison decisions.
DECISIONS: tuple[str, ...] = ("not slower", "slower", "undecided")
#: Gate outcome -> exit code with ``--fail-on-regression``.
EXIT_CODES: dict[str, int] = {"pass": 0, "slower": 1, "error": 1, "inconclusive": 3}

_GROUP = ("scenario", "system", "strategy", "cache_state")


@dataclass
class Gate:
    """The answer of a gate.

    Attributes
    ----------
    outcome : {"pass", "slower", "inconclusive", "error"}
    table : pandas.DataFrame
        One row per comparison: the comparison columns plus ``decision`` (one of
        :data:`DECISIONS`), ``spread`` (robust standard deviation of the per-round log ratios
        or of the stored run medians, NaN when unknown) and ``rounds_needed`` (rough
        estimate, missing when it cannot be given).
    messages : list of str
        One line per finding, for people.
    """

    outcome: str
    table: pd.DataFrame
    messages: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 pass, 1 slower or error, 3 inconclusive."""
        return EXIT_CODES[self.outcome]

    @property
    def decided(self) -> bool:
        """True when more rounds cannot change the answer's kind (every row decided)."""
        return self.outcome in ("pass", "slower") and bool(
            (self.table["decision"] != "undecided").all()
        )


def _check(threshold: float, confidence: float) -> None:
    if not 0.0 <= threshold < 1.0:
        raise ConfigError(f"threshold must lie in [0, 1), got {threshold!r}")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")


def classify(low: float, high: float, threshold: float, *, significant: bool = True) -> str:
    """One comparison's decision from its ratio interval.

    Parameters
    ----------
    low, high : float
        Interval of the ratio variant / baseline (NaN when unknown).
    threshold : float
        Relative slowdown that matters.
    significant : bool
        Whether the test behind the interval is significant; ``slower`` needs it.

    Returns
    -------
    str
        ``"slower"`` when ``low > 1 + threshold`` (and significant), ``"not slower"`` when
        ``high <= 1 + threshold``, else ``"undecided"`` (NaN bounds included).
    """
    limit = 1.0 + threshold
    if not (math.isfinite(low) and math.isfinite(high)):
        return "undecided"
    if low > limit and significant:
        return "slower"
    if high <= limit:
        return "not slower"
    return "undecided"


def rounds_to_decide(n: int, ratio: float, low: float, high: float, threshold: float) -> int | None:
    """Rough number of rounds after which the interval would clear ``1 + threshold``.

    An interval's width shrinks as ``1 / sqrt(n)``; the interval must shrink until its
    half-width (in log) is below the distance from the ratio to the threshold, so about
    ``n * (half_width / distance) ** 2`` rounds. None when the ratio sits at the threshold
    (within 0.1 %) or the figures are unknown.
    """
    if n < 1 or not all(math.isfinite(v) and v > 0 for v in (ratio, low, high)):
        return None
    half = (math.log(high) - math.log(low)) / 2.0
    distance = abs(math.log(ratio) - math.log1p(threshold))
    if distance < 1e-3:
        return None
    return max(n, math.ceil(n * (half / distance) ** 2))


def failed_variants(data: pd.DataFrame) -> list[str]:
    """Labels ``scenario system[/strategy] cache_state`` of groups with no successful
    measured iteration (every iteration failed or none was measured)."""
    import pandas as pd

    cols = [c for c in _GROUP if c in data.columns]
    if data.empty or not cols:
        return []
    measured = data[~data["warmup"].astype(bool)] if "warmup" in data.columns else data
    ok = (
        measured["error"].isna() if "error" in measured.columns
        else pd.Series(True, index=measured.index)
    )
    out: list[str] = []
    for key, part in data.groupby(cols, sort=True, dropna=False):
        keys = key if isinstance(key, tuple) else (key,)
        if bool(ok.reindex(part.index, fill_value=False).any()):
            continue
        out.append(_group_label(dict(zip(cols, keys, strict=True))))
    return out


def _group_label(row: Any) -> str:
    def get(key: str) -> Any:
        return row.get(key) if isinstance(row, dict) else getattr(row, key, None)

    system, strategy = get("system"), get("strategy")
    label = f"{system}/{strategy}" if isinstance(strategy, str) and strategy else str(system)
    return " ".join(str(v) for v in (get("scenario"), label, get("cache_state")) if v is not None)


def _round_spread(data: pd.DataFrame, comparison: pd.DataFrame, baseline: str,
                  value: str) -> list[float]:
    """Robust standard deviation (1.4826 MAD) of the per-round log ratios of each comparison."""
    import numpy as np

    from rrperf.bench.stats import measured_rows

    rows = measured_rows(data, value)
    b_system, _, b_strategy = baseline.partition("/")
    keys = [c for c in ("run_id", "iteration") if c in rows.columns]
    outer = [c for c in ("scenario", "cache_state") if c in rows.columns]
    is_base = rows["system"].astype(str) == b_system
    if b_strategy and "strategy" in rows.columns:
        is_base &= rows["strategy"].astype(str) == b_strategy
    base = rows[is_base.to_numpy(dtype=bool)]
    out: list[float] = []
    for rec in _records(comparison):
        sel = rows["system"].astype(str) == str(rec.system)
        if "strategy" in rows.columns:
            sel &= rows["strategy"].astype(str) == str(getattr(rec, "strategy", ""))
        for c in outer:
            sel &= rows[c].astype(str) == str(getattr(rec, c))
        mine = rows[sel.to_numpy(dtype=bool)]
        theirs = base
        for c in outer:
            theirs = theirs[theirs[c].astype(str) == str(getattr(rec, c))]
        if not keys or mine.empty or theirs.empty:
            out.append(math.nan)
            continue
        merged = mine[[*keys, value]].merge(theirs[[*keys, value]], on=keys, suffixes=("", "_b"))
        d = np.log(merged[value].to_numpy(float) / merged[f"{value}_b"].to_numpy(float))
        d = d[np.isfinite(d)]
        if len(d) < 2:
            out.append(math.nan)
            continue
        out.append(float(1.4826 * np.median(np.abs(d - np.median(d)))))
    return out


def _records(frame: pd.DataFrame) -> list[Any]:
    """Rows as objects with attribute access (typed loosely: the cells are of many kinds)."""
    from types import SimpleNamespace

    return [SimpleNamespace(**{str(k): v for k, v in r.items()}) for r in frame.to_dict("records")]


def _outcome(decisions: Sequence[str]) -> str:
    if not decisions:
        return "error"
    if "slower" in decisions:
        return "slower"
    if all(d == "not slower" for d in decisions):
        return "pass"
    return "inconclusive"


def same_run_gate(
    data: pd.DataFrame,
    baseline: str,
    *,
    threshold: float = 0.05,
    value: str = "wall_s",
    confidence: float = 0.95,
    seed: int = 0,
    n_resamples: int = 9999,
) -> Gate:
    """Judge every variant against the in-run ``baseline`` (``system`` or ``system/strategy``).

    Parameters
    ----------
    data : pandas.DataFrame
        A measurement table (one interleaved run).
    baseline : str
        The baseline variant.
    threshold : float
        Relative slowdown that matters.
    value : str
        The compared column (``wall_s``, ``cpu_s``, or another numeric column).
    confidence, seed, n_resamples
        Passed to :func:`rrperf.bench.regress.compare`.

    Returns
    -------
    Gate
        ``error`` when there is nothing to compare (no variant beside the baseline, or no
        successful iteration on one side of a comparison).
    """
    import pandas as pd

    from rrperf.bench.regress import compare

    _check(threshold, confidence)
    table = compare(
        data, baseline, value=value, threshold=threshold, confidence=confidence, seed=seed,
        n_resamples=n_resamples,
    )
    alpha = 1.0 - confidence
    decisions: list[str] = []
    needed: list[int | None] = []
    messages: list[str] = []
    spreads = _round_spread(data, table, baseline, value) if len(table) else []
    for rec, spread in zip(_records(table), spreads, strict=True):
        p = float(rec.p_adjusted)
        decision = classify(
            float(rec.ratio_ci_low), float(rec.ratio_ci_high), threshold,
            significant=math.isfinite(p) and p < alpha,
        )
        if rec.n < 2 or rec.n_baseline < 2:
            decision = "undecided"
        decisions.append(decision)
        rounds = None if decision != "undecided" else rounds_to_decide(
            int(rec.n), float(rec.ratio), float(rec.ratio_ci_low), float(rec.ratio_ci_high),
            threshold,
        )
        needed.append(rounds)
        label = _group_label(rec)
        interval = (
            f"ratio {rec.ratio:.3f} ({confidence:.0%} CI {rec.ratio_ci_low:.3f} to "
            f"{rec.ratio_ci_high:.3f}) over {rec.n} rounds against {baseline}"
        )
        if decision == "slower":
            messages.append(f"slower: {label}: {interval}, beyond +{threshold:.0%}")
        elif decision == "undecided":
            noise = (
                f"per-round ratios spread +-{spread * 100:.1f} % (robust sd)"
                if math.isfinite(spread) else "too few successful rounds to measure the noise"
            )
            more = (
                f"about {rounds} rounds would decide" if rounds is not None
                else "the ratio sits at the threshold; more rounds will not settle it soon"
            )
            messages.append(
                f"inconclusive: {label}: {interval} straddles 1 + {threshold:g}; {noise}; {more}"
            )
    table = table.assign(decision=decisions)
    table["spread"] = pd.array(spreads, dtype="float64")
    table["rounds_needed"] = pd.array(needed, dtype="Int64")
    outcome = _outcome(decisions)
    if outcome == "error":
        messages.append(
            f"nothing to compare: no variant was measured beside the baseline {baseline}"
        )
    return Gate(outcome, table, messages)


def _run_medians(runs: Sequence[pd.DataFrame], value: str) -> pd.DataFrame:
    """One row per (run index, group): the median of the run's measured iterations."""
    import pandas as pd

    from rrperf.bench.stats import measured_rows

    parts = []
    for i, frame in enumerate(runs):
        rows = measured_rows(frame, value)
        cols = [c for c in _GROUP if c in rows.columns]
        med = rows.groupby(cols, sort=True, dropna=False)[value].median().reset_index()
        med["__run"] = i
        parts.append(med)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def stored_gate(
    current: pd.DataFrame,
    stored: Sequence[pd.DataFrame],
    *,
    threshold: float = 0.05,
    value: str = "wall_s",
    confidence: float = 0.95,
    seed: int = 0,
    drift_allowance: float = DRIFT_ALLOWANCE,
) -> Gate:
    """Judge a run against stored complete runs of one name (newest last).

    See the module notes: with ``len(stored) >= MIN_STORED_RUNS`` the run's group medians
    are set against the spread of the stored runs' medians; with fewer, the
    iteration-level comparison with the newest stored run
    (:func:`~rrperf.bench.regress.detect_regressions`) decides only beyond
    ``drift_allowance``.

    Returns
    -------
    Gate
        ``table`` has the group columns, ``n_runs``, ``ratio``, ``ratio_ci_low``,
        ``ratio_ci_high``, ``decision``, ``spread`` and ``rounds_needed`` (always missing:
        rounds do not remove drift between runs). ``error`` when no group is in common.
    """
    import numpy as np
    import pandas as pd
    import scipy.stats

    _check(threshold, confidence)
    if drift_allowance < 1.0:
        raise ConfigError(f"drift_allowance must be >= 1, got {drift_allowance!r}")
    if not stored:
        return Gate("error", pd.DataFrame(), ["no stored run to compare with"])
    k = len(stored)
    messages: list[str] = []
    records: list[dict[str, Any]] = []
    if k >= MIN_STORED_RUNS:
        base = _run_medians(stored, value)
        cur = _run_medians([current], value)
        cols = [c for c in _GROUP if c in cur.columns and c in base.columns]
        t = float(scipy.stats.t.ppf(0.5 + confidence / 2.0, k - 1))
        for key, part in cur.groupby(cols, sort=True, dropna=False):
            keys = key if isinstance(key, tuple) else (key,)
            match = np.ones(len(base), dtype=bool)
            for c, v in zip(cols, keys, strict=True):
                match &= (base[c].astype(str) == str(v)).to_numpy()
            levels = base.loc[match, value].to_numpy(float)
            levels = levels[np.isfinite(levels) & (levels > 0)]
            if len(levels) < MIN_STORED_RUNS:
                continue
            logs = np.log(levels)
            s = float(np.std(logs, ddof=1))
            center = float(np.exp(np.median(logs)))
            ratio = float(part[value].iloc[0]) / center
            half = t * s * math.sqrt(1.0 + 1.0 / len(levels))
            lo, hi = ratio * math.exp(-half), ratio * math.exp(half)
            decision = classify(lo, hi, threshold)
            records.append({
                **dict(zip(cols, keys, strict=True)), "n_runs": len(levels), "ratio": ratio,
                "ratio_ci_low": lo, "ratio_ci_high": hi, "decision": decision, "spread": s,
            })
            if decision != "not slower":
                messages.append(
                    f"{'slower' if decision == 'slower' else 'inconclusive'}: "
                    f"{_group_label(records[-1])}: run median / median of {len(levels)} stored "
                    f"runs {ratio:.3f}, {confidence:.0%} prediction interval {lo:.3f} to "
                    f"{hi:.3f} (stored run medians spread +-{s * 100:.1f} %)"
                )
    else:
        from rrperf.bench.regress import detect_regressions

        reg = detect_regressions(
            current, stored[-1], threshold=threshold, alpha=1.0 - confidence, value=value,
            seed=seed,
        )
        for rec in _records(reg):
            lo, hi = float(rec.ratio_ci_low), float(rec.ratio_ci_high)
            if math.isfinite(lo) and lo > drift_allowance * (1.0 + threshold):
                decision = "slower"
            elif math.isfinite(hi) and hi <= (1.0 + threshold) / drift_allowance:
                decision = "not slower"
            else:
                decision = "undecided"
            row = {c: getattr(rec, c) for c in _GROUP if hasattr(rec, c)}
            records.append({
                **row, "n_runs": 1, "ratio": float(rec.ratio), "ratio_ci_low": lo,
                "ratio_ci_high": hi, "decision": decision, "spread": math.nan,
            })
            if decision == "slower":
                messages.append(
                    f"slower: {_group_label(row)}: time ratio {rec.ratio:.3g} ({confidence:.0%} "
                    f"CI {lo:.3g} to {hi:.3g}) against one stored run, beyond the drift "
                    f"allowance of {drift_allowance:g}x"
                )
        undecided = [r for r in records if r["decision"] == "undecided"]
        if undecided:
            shown = ", ".join(
                f"{_group_label(r)} {r['ratio']:.3g}" for r in undecided[:3]
            ) + (", ..." if len(undecided) > 3 else "")
            messages.append(
                f"inconclusive: {k} stored run(s) of this name; one stored run cannot separate "
                f"machine drift (up to {drift_allowance:g}x between runs) from a code change "
                f"(ratios {shown}); store at least {MIN_STORED_RUNS} complete runs, or gate "
                "on a same-run A/B (--baseline, --against)"
            )
    table = pd.DataFrame.from_records(
        records,
        columns=[*_GROUP, "n_runs", "ratio", "ratio_ci_low", "ratio_ci_high", "decision",
                 "spread"],
    )
    table["rounds_needed"] = pd.array([None] * len(table), dtype="Int64")
    decisions = table["decision"].tolist()
    outcome = _outcome(decisions)
    if outcome == "error":
        messages.append(
            "no (scenario, system, strategy, cache_state) group in common with the stored "
            "run(s); nothing was compared"
        )
    return Gate(outcome, table, messages)


def combine(gates: Sequence[Gate]) -> str:
    """One outcome for several gates: error, then slower, then inconclusive, else pass.

    An empty sequence is an ``error`` (nothing was checked).
    """
    outcomes = [g.outcome for g in gates]
    if not outcomes or "error" in outcomes:
        return "error"
    if "slower" in outcomes:
        return "slower"
    if "inconclusive" in outcomes:
        return "inconclusive"
    return "pass"
