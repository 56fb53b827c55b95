"""The per-machine calibration: fitting, storing, refreshing on drift; the tie rule's order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rrperf.bench.history import HistoryStore
from rrperf.engine.strategies import STRATEGIES
from rrperf.errors import HistoryError
from rrperf.optimize import calibration
from rrperf.optimize.calibration import Observation, fit, model_error, refresh
from rrperf.optimize.workload import (
    FACTOR_BOUNDS,
    TERMS,
    Calibration,
    resource_rank,
    tie_break,
)

TRUE = Calibration({"head": 1.5, "render": 3.0, "write": 0.25, "manifest": 8.0}, fixed_s=0.002)


def _observations(scale: float = 1.0) -> list[Observation]:
    out = []
    for i in range(12):
        terms = dict.fromkeys(TERMS, 0.0)
        terms.update(head=0.001 * (i + 1), render=0.004 * (i % 5), write=0.01 * (i % 3),
                     manifest=0.0005 * (i % 4))
        measured = TRUE.fixed_s + sum(TRUE.factors[t] * v for t, v in terms.items())
        out.append(Observation("s", "cold", f"x{i}", terms, measured * scale))
    return out


def test_fit_recovers_the_factors_of_exact_observations() -> None:
    obs = _observations()
    cal = fit(obs, "m")
    assert (cal.machine, cal.n_runs) == ("m", 12)
    for term in ("head", "render", "write", "manifest"):
        assert cal.factors[term] == pytest.approx(TRUE.factors[term], rel=0.05)
    assert cal.fixed_s == pytest.approx(TRUE.fixed_s, rel=0.05)
    # terms the observations never exercise keep their measured value (factor 1)
    assert cal.factors["pool"] == 1.0 and cal.factors["store"] == 1.0
    assert cal.factors["ship"] == 1.0 and cal.factors["batch"] == 1.0
    assert cal.error < 0.01 and model_error(cal, obs) == cal.error
    assert fit([], "m") == Calibration(machine="m")


def test_the_pool_factors_stay_within_their_bounds() -> None:
    # runs whose pool costs 10x and 0.01x its profiled terms: the fit stops at the bounds
    for scale, bound in ((10.0, 1), (0.01, 0)):
        obs = []
        for term in ("pool", "ship", "batch"):
            for i in range(4):
                terms = dict.fromkeys(TERMS, 0.0)
                terms.update({"head": 0.001, term: 0.002 * (i + 1)})
                measured = 0.001 + scale * terms[term]
                obs.append(Observation("s", "cold", f"{term}{i}", terms, measured))
        cal = fit(obs, "m")
        for term in ("pool", "ship", "batch"):
            assert cal.factors[term] == pytest.approx(FACTOR_BOUNDS[term][bound]), term
        assert cal.factors["pool_start"] == 1.0  # never exercised: its measured value
    assert all(low <= 1.0 <= high for low, high in FACTOR_BOUNDS.values())


def test_observations_model_the_pool_state_the_runs_had() -> None:
    import pandas as pd

    from tests.optimize.test_workload import REGISTRY, make_profile

    class Bench:
        def summary(self) -> pd.DataFrame:
            return pd.DataFrame([{"strategy": "parallel", "cache_state": "cold", "median": 2.0},
                                 {"strategy": "minimal", "cache_state": "cold", "median": 1.0}])

    profile = make_profile(n_tables=32)
    two = {"parallel": REGISTRY["parallel"], "minimal": REGISTRY["minimal"]}  # 2 workers
    steady = calibration.observations("s", profile, Bench(), two)  # type: ignore[arg-type]
    started = calibration.observations("s", profile, Bench(),  # type: ignore[arg-type]
                                       two, pool_started=True)
    assert [(o.strategy, o.measured_s) for o in started] == [("parallel", 2.0), ("minimal", 1.0)]
    # 32 tables: no run starts a pool, so the steady state renders here; a started pool renders
    assert steady[0].terms["pool"] == 0.0 and steady[0].terms["render"] > 0.0
    assert started[0].terms["pool"] > 0.0 and started[0].terms["render"] == 0.0
    assert started[1].terms == steady[1].terms  # minimal is serial either way


def test_refresh_fits_when_missing_or_drifted_and_keeps_it_per_machine(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        assert calibration.load(store, "m") == (None, [])
        first, fitted = refresh(store, "m", _observations())
        assert fitted and first.n_runs == 12
        # the same behaviour again: within the bound, nothing is fitted
        again, fitted = refresh(store, "m", _observations(1.1))
        assert not fitted and again == first
        # the machine got twice as slow: beyond DRIFT_BOUND, fitted on old and new runs
        drifted, fitted = refresh(store, "m", _observations(2.0))
        assert fitted and drifted.n_runs == 24
        loaded, kept = calibration.load(store, "m")
        assert loaded == drifted and len(kept) == 24
        assert calibration.load(store, "other") == (None, [])  # another machine starts afresh


def test_a_calibration_round_trips_through_the_history_store(tmp_path: Path) -> None:
    obs = _observations()
    cal = fit(obs, "m")
    with HistoryStore(tmp_path / "h.sqlite") as store:
        # a calibration of the model before the pool's count-based terms is not read
        store.set_meta("optimizer.calibration:m", '{"calibration": {}, "observations": []}')
        assert calibration.load(store, "m") == (None, [])
        calibration.save(store, cal, obs)
    with HistoryStore(tmp_path / "h.sqlite") as store:
        loaded, kept = calibration.load(store, "m")
    assert loaded == cal and kept == obs
    assert set(loaded.factors) == set(TERMS)


def test_history_meta_round_trip(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        assert store.meta("k") is None
        store.set_meta("k", "v1")
        store.set_meta("k", "v2")
        assert store.meta("k") == "v2"
        with pytest.raises(HistoryError, match="belongs to the history store"):
            store.set_meta("schema_version", "9")


def test_machine_fingerprint_is_stable() -> None:
    fp = calibration.machine_fingerprint()
    assert re.fullmatch(r"[0-9a-f]{16}", fp) and fp == calibration.machine_fingerprint()


def test_resource_order_of_the_tie_rule() -> None:
    names = ["parallel", "cache_heavy", "sequential", "minimal", "auto"]
    order = sorted(names, key=lambda n: (resource_rank(STRATEGIES[n], 4000, False),
                                         list(STRATEGIES).index(n)))
    # serial first (no caches, then caches, then more on disk); pools last
    assert order[:3] == ["minimal", "sequential", "cache_heavy"]
    assert tie_break(names, STRATEGIES, 4000, False) == "minimal"
    assert tie_break(["parallel", "sequential"], STRATEGIES, 4000, False) == "sequential"


def test_a_small_real_calibration_run_observes_the_pool_it_started(tmp_path: Path) -> None:
    from rrperf._util import usable_cpus

    two = {"parallel": STRATEGIES["parallel"], "minimal": STRATEGIES["minimal"]}
    obs = calibration.measure_observations(
        two, scenarios=("small",), pool_scenarios=("synthetic:40",), steady_pool=False,
        iterations=1,
    )
    steady = [(o.scenario, o.cache_state, o.strategy) for o in obs if o.scenario == "small"]
    assert sorted(steady) == [("small", state, name) for state in ("cold", "warm")
                              for name in ("minimal", "parallel")]
    pooled = {o.strategy: o for o in obs if o.scenario == "synthetic:40"}
    if usable_cpus() < 2:  # parallel's context runs serially: no pool to observe
        assert pooled == {}
        return
    # parallel with its pool started before the runs, minimal beside it, cold
    assert sorted(pooled) == ["minimal", "parallel"]
    assert {o.cache_state for o in pooled.values()} == {"cold"}
    assert pooled["parallel"].terms["pool"] > 0.0 and pooled["parallel"].terms["render"] == 0.0
    assert pooled["minimal"].terms["pool"] == 0.0 and pooled["minimal"].terms["render"] > 0.0
    assert all(o.measured_s > 0 for o in obs)
