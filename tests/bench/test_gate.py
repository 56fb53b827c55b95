"""The gate's decisions on constructed measurement tables (exact, deterministic)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from rrperf.bench.gate import (
    DRIFT_ALLOWANCE,
    EXIT_CODES,
    MIN_STORED_RUNS,
    Gate,
    classify,
    combine,
    failed_variants,
    rounds_to_decide,
    same_run_gate,
    stored_gate,
)
from rrperf.errors import BenchmarkError, ConfigError

# Per-round machine speed: a drift of 2x over the run and bursts, shared by both variants
# of a round (what interleaving cancels).
SPEED = [1.0, 1.3, 0.9, 2.0, 1.1, 1.6, 0.8, 1.2, 1.9, 1.0, 1.4, 0.95]


def run(variants: dict[tuple[str, str], list[float]], *, run_id: str = "r1",
        errors: dict[tuple[str, str], str] | None = None, value: str = "wall_s") -> pd.DataFrame:
    rows = []
    for (system, strategy), values in variants.items():
        for i, v in enumerate(values):
            err = (errors or {}).get((system, strategy))
            rows.append({
                "run_id": run_id, "scenario": "small", "system": system, "strategy": strategy,
                "cache_state": "cold", "iteration": i, "warmup": False,
                value: math.nan if err else v, "error": err,
            })
    return pd.DataFrame(rows)


def noisy(factor: float, wobble: float = 0.02, n: int = 12) -> list[float]:
    """Per-round times: the shared machine speed times ``factor`` times a fixed +-wobble."""
    signs = [1, -1, 1, 1, -1, -1, 1, -1, 1, -1, -1, 1] * (n // 12 + 1)
    return [0.3 * SPEED[i % 12] * factor * (1 + wobble * signs[i]) for i in range(n)]


# ----------------------------------------------------------------------------- classify


@pytest.mark.parametrize(
    ("low", "high", "significant", "expected"),
    [
        (0.97, 1.04, True, "not slower"),      # inside the band
        (0.50, 0.60, True, "not slower"),      # much faster is not slower
        (0.97, 1.05, True, "not slower"),      # the upper bound may touch 1 + threshold
        (1.06, 1.20, True, "slower"),
        (1.06, 1.20, False, "undecided"),      # slower needs the test too
        (0.99, 1.08, True, "undecided"),       # straddles 1.05
        (math.nan, 1.0, True, "undecided"),
        (1.1, math.inf, True, "undecided"),
    ],
)
def test_classify(low: float, high: float, significant: bool, expected: str) -> None:
    assert classify(low, high, 0.05, significant=significant) == expected


def test_rounds_to_decide() -> None:
    # ratio 1.0, interval 0.9..1.1 (half-width ~0.1 in log) vs distance log(1.05) ~0.0488
    half = (math.log(1.1) - math.log(0.9)) / 2
    expected = math.ceil(10 * (half / math.log(1.05)) ** 2)
    assert rounds_to_decide(10, 1.0, 0.9, 1.1, 0.05) == expected == 43
    assert rounds_to_decide(10, 1.05, 0.95, 1.15, 0.05) is None  # at the threshold
    assert rounds_to_decide(10, math.nan, 0.9, 1.1, 0.05) is None
    assert rounds_to_decide(30, 1.0, 0.99, 1.01, 0.05) == 30  # never fewer than done


# ----------------------------------------------------------------------------- same run


def test_identical_code_under_drift_passes() -> None:
    data = run({("a", ""): noisy(1.0), ("b", ""): noisy(1.0, wobble=-0.02)})
    gate = same_run_gate(data, "a")
    assert gate.outcome == "pass" and gate.exit_code == 0 and gate.decided
    row = gate.table.iloc[0]
    assert row["decision"] == "not slower"
    assert row["ratio_ci_high"] <= 1.05
    assert gate.messages == []


def test_twenty_percent_slower_fails_with_a_message() -> None:
    data = run({("a", ""): noisy(1.0), ("b", ""): noisy(1.2)})
    gate = same_run_gate(data, "a")
    assert (gate.outcome, gate.exit_code, gate.decided) == ("slower", 1, True)
    row = gate.table.iloc[0]
    assert row["ratio"] == pytest.approx(1.2)
    assert len(gate.messages) == 1
    assert gate.messages[0].startswith("slower: small b cold: ratio 1.200 (95% CI ")
    assert gate.messages[0].endswith("over 12 rounds against a, beyond +5%")


def test_noise_wider_than_the_band_is_inconclusive_and_says_why() -> None:
    signs = [1, -1, 1, -1, -1, 1, 1, -1, 1, -1, 1, -1]
    a = noisy(1.0, wobble=0.0)
    b = [v * (1 + 0.25 * s) for v, s in zip(a, signs, strict=True)]
    gate = same_run_gate(run({("a", ""): a, ("b", ""): b}), "a")
    assert (gate.outcome, gate.exit_code, gate.decided) == ("inconclusive", 3, False)
    row = gate.table.iloc[0]
    assert row["decision"] == "undecided"
    # the per-round log ratios are log(1.25) and log(0.75), six each
    d = np.log(np.array([1.25 if s > 0 else 0.75 for s in signs]))
    assert row["spread"] == pytest.approx(1.4826 * np.median(np.abs(d - np.median(d))))
    assert row["rounds_needed"] is pd.NA or row["rounds_needed"] > 12
    (message,) = gate.messages
    assert message.startswith("inconclusive: small b cold: ratio ")
    assert "straddles 1 + 0.05" in message
    assert f"per-round ratios spread +-{row['spread'] * 100:.1f} % (robust sd)" in message


def test_value_column_is_a_parameter() -> None:
    # wall time says slower, the cpu_s column says identical: the gate compares what it is told
    data = run({("a", ""): noisy(1.0), ("b", ""): noisy(1.3)})
    data["cpu_s"] = run({("a", ""): noisy(1.0), ("b", ""): noisy(1.0)})["wall_s"]
    assert same_run_gate(data, "a").outcome == "slower"
    assert same_run_gate(data, "a", value="cpu_s").outcome == "pass"


def test_baseline_can_be_a_strategy() -> None:
    data = run({
        ("pipeline", "sequential"): noisy(1.0), ("pipeline", "parallel"): noisy(1.3),
        ("legacy", ""): noisy(1.0, wobble=-0.02),
    })
    gate = same_run_gate(data, "pipeline/sequential")
    assert gate.table[["system", "strategy", "decision"]].values.tolist() == [
        ["legacy", "", "not slower"], ["pipeline", "parallel", "slower"],
    ]
    assert gate.outcome == "slower"
    with pytest.raises(BenchmarkError) as info:
        same_run_gate(data, "pipeline")
    assert str(info.value) == (
        "baseline 'pipeline' matches several variants in one group: pipeline/parallel, "
        "pipeline/sequential; name one as system/strategy, e.g. baseline='pipeline/parallel' "
        "(rrperf bench --baseline pipeline/parallel)"
    )


def test_nothing_to_compare_is_an_error() -> None:
    gate = same_run_gate(run({("a", ""): noisy(1.0)}), "a")
    assert (gate.outcome, gate.exit_code) == ("error", 1)
    assert gate.messages == ["nothing to compare: no variant was measured beside the baseline a"]


def test_bad_options() -> None:
    data = run({("a", ""): noisy(1.0), ("b", ""): noisy(1.0)})
    with pytest.raises(ConfigError, match="threshold"):
        same_run_gate(data, "a", threshold=1.5)
    with pytest.raises(ConfigError, match="confidence"):
        same_run_gate(data, "a", confidence=1.0)


# ----------------------------------------------------------------------------- failures


def test_failed_variants() -> None:
    data = run(
        {("a", ""): noisy(1.0), ("b", "x"): noisy(1.0)}, errors={("b", "x"): "exit 3: boom"}
    )
    assert failed_variants(data) == ["small b/x cold"]
    assert failed_variants(run({("a", ""): noisy(1.0)})) == []
    # a group with only warm-ups measured nothing
    warm = run({("a", ""): noisy(1.0, n=2)})
    warm["warmup"] = True
    assert failed_variants(warm) == ["small a cold"]


def test_combine_and_exit_codes() -> None:
    empty = pd.DataFrame({"decision": []})

    def g(outcome: str) -> Gate:
        return Gate(outcome, empty)

    assert combine([]) == "error"
    assert combine([g("pass"), g("pass")]) == "pass"
    assert combine([g("pass"), g("inconclusive")]) == "inconclusive"
    assert combine([g("inconclusive"), g("slower")]) == "slower"
    assert combine([g("slower"), g("error")]) == "error"
    assert EXIT_CODES == {"pass": 0, "slower": 1, "error": 1, "inconclusive": 3}


# ----------------------------------------------------------------------------- stored runs


def one_group(values: list[float], run_id: str) -> pd.DataFrame:
    return run({("legacy", ""): values}, run_id=run_id)


def test_one_stored_run_is_inconclusive_within_the_drift_allowance() -> None:
    base = one_group([0.10, 0.11, 0.09, 0.10, 0.105, 0.095], "old")
    # 2.2x slower: what machine drift alone produced on the development machine
    current = one_group([v * 2.2 for v in [0.10, 0.11, 0.09, 0.10, 0.105, 0.095]], "new")
    gate = stored_gate(current, [base])
    assert (gate.outcome, gate.exit_code) == ("inconclusive", 3)
    assert gate.table["decision"].tolist() == ["undecided"]
    assert gate.table["n_runs"].tolist() == [1]
    assert gate.messages[-1].startswith(
        "inconclusive: 1 stored run(s) of this name; one stored run cannot separate machine "
        f"drift (up to {DRIFT_ALLOWANCE:g}x between runs) from a code change"
    )
    # unchanged code cannot pass on one stored run either
    assert stored_gate(base.assign(run_id="new"), [base]).outcome == "inconclusive"


def test_one_stored_run_beyond_the_drift_allowance() -> None:
    values = [0.10, 0.11, 0.09, 0.10, 0.105, 0.095]
    base = one_group(values, "old")
    slower = stored_gate(one_group([v * 5 for v in values], "new"), [base])
    assert slower.outcome == "slower"
    assert "beyond the drift allowance of 3x" in slower.messages[0]
    faster = stored_gate(one_group([v / 5 for v in values], "new"), [base])
    assert faster.outcome == "pass"


def test_three_stored_runs_judge_against_their_spread() -> None:
    values = [0.10, 0.11, 0.09, 0.10, 0.105, 0.095]
    levels = [1.0, 1.005, 0.995]  # t(2) = 4.30 widens the prediction interval 4.3x
    stored = [one_group([v * f for v in values], f"old{i}") for i, f in enumerate(levels)]
    assert len(stored) == MIN_STORED_RUNS
    same = stored_gate(one_group(values, "new"), stored)
    assert same.outcome == "pass"
    row = same.table.iloc[0]
    logs = np.log([0.1 * f for f in levels])
    s = float(np.std(logs, ddof=1))
    assert row["spread"] == pytest.approx(s)
    assert row["n_runs"] == 3
    assert row["ratio"] == pytest.approx(1.0)
    slow = stored_gate(one_group([v * 1.5 for v in values], "new"), stored)
    assert slow.outcome == "slower"
    assert slow.messages[0].startswith("slower: small legacy cold: run median / median of 3")


def test_stored_runs_that_drift_stay_inconclusive() -> None:
    values = [0.10, 0.11, 0.09, 0.10, 0.105, 0.095]
    stored = [one_group([v * f for v in values], f"old{i}") for i, f in enumerate([1, 2, 1.3])]
    gate = stored_gate(one_group([v * 1.2 for v in values], "new"), stored)
    assert gate.outcome == "inconclusive"
    assert "stored run medians spread" in gate.messages[0]


def test_no_group_in_common_is_an_error() -> None:
    base = one_group([0.1, 0.1, 0.1], "old")
    other = run({("pipeline", "x"): [0.1, 0.1, 0.1]}, run_id="new")
    gate = stored_gate(other, [base])
    assert (gate.outcome, gate.exit_code) == ("error", 1)
    assert gate.messages[-1].startswith("no (scenario, system, strategy, cache_state) group")
    assert stored_gate(other, []).outcome == "error"


def _tables(gate: Gate) -> Any:
    return gate.table.columns.tolist()


def test_table_columns() -> None:
    values = [0.10, 0.11, 0.09]
    gate = stored_gate(one_group(values, "new"), [one_group(values, "old")])
    assert _tables(gate) == [
        "scenario", "system", "strategy", "cache_state", "n_runs", "ratio", "ratio_ci_low",
        "ratio_ci_high", "decision", "spread", "rounds_needed",
    ]
