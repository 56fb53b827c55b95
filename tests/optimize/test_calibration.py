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
from rrperf.optimize.workload import TERMS, Calibration, resource_rank, tie_break

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
    assert cal.error < 0.01 and model_error(cal, obs) == cal.error
    assert fit([], "m") == Calibration(machine="m")


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
