"""Change points on constructed series: steps are found where they are, stray runs are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rrperf.bench.regress import detect_change_points
from rrperf.errors import ConfigError

# One fixed noise pattern (cv 2 %): the tests below are exact for it.
NOISE = 1.0 + 0.02 * np.random.default_rng(7).standard_normal(80)


def history(values: np.ndarray) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({
        "run_id": [f"r{i:03d}" for i in range(n)],
        "started_at": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"),
        "system": "legacy",
        "wall_s": values,
    })


def positions(values: np.ndarray, **kw: float) -> list[int]:
    return [int(p) for p in detect_change_points(history(values), **kw)["position"]]


def step(at: int, size: float, n: int = 80) -> np.ndarray:
    level = np.where(np.arange(n) < at, 1.0, 1.0 + size)
    return level * NOISE[:n]


def test_a_step_is_found_where_it_starts() -> None:
    out = detect_change_points(history(step(40, 0.10)))
    assert out["position"].tolist() == [40]
    assert out["run_id"].tolist() == ["r040"]
    assert out["change"].iloc[0] == pytest.approx(0.10, abs=0.02)
    assert positions(step(25, -0.08)) == [25]


@pytest.mark.parametrize("at", [0, 1, 20, 41, 60, 78, 79])
@pytest.mark.parametrize("factor", [1.3, 2.0])
def test_one_stray_run_is_not_a_change(at: int, factor: float) -> None:
    values = NOISE.copy()
    values[at] *= factor
    assert positions(values) == []


@pytest.mark.parametrize("at", [0, 20, 41, 60, 78])
@pytest.mark.parametrize("factor", [1.3, 2.0])
def test_two_stray_runs_in_a_row_are_not_a_change(at: int, factor: float) -> None:
    values = NOISE.copy()
    values[at:at + 2] *= factor
    assert positions(values) == []


@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 2])
def test_a_stray_run_next_to_a_step_does_not_move_it(offset: int) -> None:
    values = step(40, 0.10)
    values[40 + offset] *= 1.6
    found = positions(values)
    assert len(found) == 1
    assert abs(found[0] - 40) <= 2


def test_three_runs_at_a_new_level_are_a_change() -> None:
    # A lasting shift (not a stray) at the end of the history: min_size runs are enough.
    values = step(77, 0.25)
    assert positions(values) == [77]


def test_the_stray_filter_can_be_turned_off() -> None:
    values = NOISE.copy()
    values[40:42] *= 2.0
    assert positions(values) == []
    # Plain PELT reads the pair as a level that comes and goes.
    raw = positions(values, stray_window=1, confirm_alpha=1.0)
    assert len(raw) == 2
    assert raw[1] == 42


def test_robust_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="stray_window must be an odd integer >= 1, got 4"):
        detect_change_points(history(NOISE), stray_window=4)
    with pytest.raises(ConfigError, match="stray_limit must be > 0, got 0"):
        detect_change_points(history(NOISE), stray_limit=0)
    with pytest.raises(ConfigError, match=r"confirm_alpha must be in \(0, 1\], got 0"):
        detect_change_points(history(NOISE), confirm_alpha=0)
