"""``rrperf analyze``'s predicted-against-measured table, and why two strategies share a
prediction when they run the same code."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from rrperf.engine.strategies import ALL_CATEGORIES, STANDARD_DISK, Strategy
from rrperf.optimize.analysis import (
    PREDICTION_COLUMNS,
    AnalysisResult,
    prediction_rows,
    same_code,
)
from rrperf.optimize.workload import Recommendation, WorkloadProfile, pool_threshold

STANDARD = frozenset(ALL_CATEGORIES)
SEQUENTIAL = Strategy("sequential", "serial", 1, STANDARD, STANDARD_DISK)
PARALLEL = Strategy("parallel", "process", 2, STANDARD, STANDARD_DISK)
BALANCED = Strategy("balanced", "process", 1, STANDARD, STANDARD_DISK)  # half of 2 CPUs
CACHE_HEAVY = Strategy("cache_heavy", "serial", 1, STANDARD, STANDARD, ttl_multiplier=2.0)
MINIMAL = Strategy("minimal", "serial", 1, frozenset(), frozenset(), monitoring=False)
REGISTRY = {s.name: s for s in (SEQUENTIAL, PARALLEL, CACHE_HEAVY, BALANCED, MINIMAL)}

ONE_WORKER = (
    "its process pool resolves to 1 worker on this machine, and a pool of one worker runs in "
    "the calling thread; both use the same cache tiers and monitoring"
)


def test_a_one_worker_pool_runs_the_same_code_as_sequential() -> None:
    for n_tables, warm in ((4, False), (4000, False), (4000, True)):
        twins = same_code(REGISTRY, n_tables, warm=warm)
        assert twins["balanced"] == ("sequential", ONE_WORKER)
        assert "cache_heavy" not in twins and "minimal" not in twins


# The generator's own threshold for starting a pool of 2 (rrperf.generator.cached.plan_batches)
START = pool_threshold(2, pool_started=False) or 0


def _never(n_tables: int) -> str:
    return (f"it forks no workers ({n_tables} tables to render are fewer than the {START} "
            "for which a run forks 1)")


def test_a_pool_that_is_not_used_runs_the_same_code_as_sequential() -> None:
    assert START > 16
    both = "both use the same cache tiers and monitoring"
    assert same_code(REGISTRY, 4, warm=False)["parallel"] == (
        "sequential", f"{_never(4)}; {both}")
    # the step: a pool that no run of this size starts is never used (the steady state)
    assert same_code(REGISTRY, START - 1, warm=False)["parallel"] == (
        "sequential", f"{_never(START - 1)}; {both}")
    assert "parallel" not in same_code(REGISTRY, START, warm=False)
    assert same_code(REGISTRY, 4000, warm=True)["parallel"] == (
        "sequential",
        "its process pool is not used (every table's files are cache hits); both use the same "
        "cache tiers and monitoring",
    )
    # without a render cache a warm run renders every table again: the pool is used
    nocache = Strategy("nocache_pool", "process", 2, frozenset(), frozenset(), monitoring=False)
    assert same_code({"minimal": MINIMAL, "nocache_pool": nocache}, 2 * START, warm=True) == {}
    assert same_code({"minimal": MINIMAL, "nocache_pool": nocache}, 4, warm=True) == {
        "nocache_pool": ("minimal", f"{_never(4)}; {both}")
    }


def test_only_cache_lifetimes_differ() -> None:
    longer = Strategy("longer", "serial", 1, STANDARD, STANDARD, ttl_multiplier=3.0)
    assert same_code({"cache_heavy": CACHE_HEAVY, "longer": longer}, 10, warm=False) == {
        "longer": ("cache_heavy", "both use the same cache tiers and monitoring; only their "
                   "cache lifetimes differ")
    }


PROFILE = WorkloadProfile(
    n_tables=4,
    source_fingerprint="f",
    stage_s=dict.fromkeys(("types", "relationships", "defaults", "polymorphic", "render"), 0.0),
    cpu_count=2,
    load_avg=0.0,
    memory_available_mb=0.0,
    **dict.fromkeys(
        ("hash_s", "templates_s", "load_s", "analyze_s", "keys_s", "sha_s", "index_s",
         "write_s", "compare_s", "stat_s", "ship_s", "monitor_s", "hit_s", "miss_mem_s",
         "miss_s", "disk_hit_s", "schema_miss_s", "pool_startup_s", "dispatch_s",
         "thread_dispatch_s"), 0.0),
)


def _rec(predicted: dict[str, float], chosen: str) -> Recommendation:
    scores = {n: {"predicted_s": p, "score": min(predicted.values()) / p}
              for n, p in predicted.items()}
    return Recommendation(chosen, scores, "because", PROFILE)


class _Bench:
    """The part of a BenchmarkResult the predictions read: its summary's medians."""

    def __init__(self, medians: dict[tuple[str, str], float]) -> None:
        self.medians = medians

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"strategy": s, "cache_state": c, "median": m} for (s, c), m in self.medians.items()]
        )


def test_prediction_rows_show_predicted_measured_and_error_for_every_strategy() -> None:
    predicted = {"sequential": 0.09, "parallel": 0.12, "cache_heavy": 0.1, "balanced": 0.09,
                 "minimal": 0.09}
    bench = _Bench({("sequential", "cold"): 0.18, ("balanced", "cold"): 0.2,
                    ("minimal", "cold"): 0.201})
    rows = prediction_rows(("cold",), {"cold": _rec(predicted, "minimal")}, bench,
                            REGISTRY)  # type: ignore[arg-type]
    assert [tuple(r) for r in rows] == [PREDICTION_COLUMNS] * 5
    got = [(r["strategy"], r["predicted_s"], r["measured_median_s"], r["error"],
            r["recommended"], r["measured_best"], r["same_code_as"]) for r in rows]
    nan = pytest.approx(math.nan, nan_ok=True)
    assert got == [
        ("sequential", 0.09, 0.18, pytest.approx(-0.5), False, True, None),
        ("parallel", 0.12, nan, nan, False, False, "sequential"),
        ("cache_heavy", 0.1, nan, nan, False, False, None),
        ("balanced", 0.09, 0.2, pytest.approx(-0.55), False, False, "sequential"),
        ("minimal", 0.09, 0.201, pytest.approx(0.09 / 0.201 - 1), True, False, None),
    ]
    notes = {r["strategy"]: r["note"] for r in rows}
    assert notes["balanced"] == (
        "balanced runs the same code as sequential here, so the model predicts the same time "
        f"for both: {ONE_WORKER}."
    )
    # parallel's pool is never started on 4 tables; its prediction differs all the same
    assert notes["parallel"].startswith("parallel runs the same code as sequential here: it ")
    assert notes["sequential"] == notes["minimal"] == notes["cache_heavy"] == ""


def _analysis(predictions: list[dict[str, Any]]) -> AnalysisResult:
    return AnalysisResult(
        scenario="small", recommendation=_rec({"minimal": 0.09}, "minimal"),
        recommendations={}, strategies=("minimal",), benchmark=None,  # type: ignore[arg-type]
        predictions=tuple(predictions),
    )


def test_analysis_result_carries_the_predictions_in_frame_dict_and_html() -> None:
    row = {"cache_state": "cold", "strategy": "minimal", "predicted_s": 0.09,
           "measured_median_s": math.nan, "error": math.nan, "recommended": True,
           "measured_best": False, "same_code_as": None, "note": "x < y"}
    result = _analysis([row])
    assert result.predictions_frame().columns.tolist() == list(PREDICTION_COLUMNS)
    assert result.to_dict()["predictions"] == [
        {**row, "measured_median_s": None, "error": None}
    ]
    page = result._repr_html_()
    assert "Predicted against measured" in page and "x &lt; y" in page
