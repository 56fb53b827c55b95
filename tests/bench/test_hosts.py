"""Rows of two hosts are never paired (rrperf.bench.hosts; issue 13)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from rrperf.bench.hosts import host_of, with_hosts
from rrperf.bench.regress import compare, detect_change_points, detect_regressions
from rrperf.bench.results import measurements_frame

A = "tcp://10.0.0.5:40321"
B = "tcp://10.0.0.6:39001"


def test_host_of() -> None:
    assert host_of(A) == "10.0.0.5"
    assert host_of("tcp://[::1]:8786") == "::1"
    assert host_of("10.0.0.7:8786") == "10.0.0.7"
    assert host_of(None) is None
    assert host_of(pd.NA) is None


def _rows(run_id: str, system: str, worker: str | None, walls: list[float],
          minute: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "run_id": run_id, "started_at": pd.Timestamp(f"2026-12-01T10:{minute:02d}:00Z"),
            "scenario": "small", "system": system, "strategy": "", "cache_state": "cold",
            "iteration": i, "order": 0, "warmup": False, "wall_s": w, "cpu_s": w,
            "peak_rss_mb": 1.0, "n_tables": 1, "files_total": 1, "files_written": 1,
            "files_unchanged": 0, "cache_hits": 0, "cache_misses": 0, "output_digest": "d",
            "error": None, "worker": worker,
        }
        for i, w in enumerate(walls)
    ]


def test_with_hosts_adds_a_host_column_only_for_cluster_rows() -> None:
    local = measurements_frame(_rows("r1", "legacy", None, [1.0, 1.1]))
    (same,), extra = with_hosts(local)
    assert extra == [] and "host" not in same.columns
    cluster = measurements_frame(_rows("r2", "legacy", A, [1.0, 1.1]))
    (a, b), extra = with_hosts(local, cluster)
    assert extra == ["host"]
    assert a["host"].isna().all() and b["host"].tolist() == ["10.0.0.5", "10.0.0.5"]


def test_compare_never_pairs_a_variant_with_a_baseline_of_another_host() -> None:
    walls = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0]
    data = measurements_frame(
        _rows("r", "legacy", A, walls) + _rows("r", "pipeline", B, [w / 2 for w in walls])
        + _rows("r", "pipeline", A, walls)
    )
    out = compare(data, baseline="legacy")
    assert out[["system", "host", "n", "n_baseline"]].astype(str).values.tolist() == [
        ["pipeline", "10.0.0.5", "6", "6"],
        ["pipeline", "10.0.0.6", "6", "0"],
    ]
    other = out[out["host"] == "10.0.0.6"].iloc[0]
    assert math.isnan(other["ratio"]) and other["verdict"] == "inconclusive"


def test_regressions_are_checked_per_host() -> None:
    walls = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0]
    baseline = measurements_frame(_rows("b", "legacy", A, walls))
    on_b = measurements_frame(_rows("c", "legacy", B, [w * 2 for w in walls]))
    assert detect_regressions(on_b, baseline).empty
    on_a = measurements_frame(_rows("c", "legacy", "tcp://10.0.0.5:1234", [w * 2 for w in walls]))
    found = detect_regressions(on_a, baseline)
    assert found[["host", "regression"]].values.tolist() == [["10.0.0.5", True]]
    local = measurements_frame(_rows("c", "legacy", None, [w * 2 for w in walls]))
    assert detect_regressions(local, baseline).empty


def test_change_points_are_looked_for_per_host() -> None:
    # one run per minute; host A steps from 1.0 to 2.0 s half-way, host B stays at 1.5 s
    rows: list[dict[str, Any]] = []
    for k in range(12):
        level = 1.0 if k < 6 else 2.0
        rows += _rows(f"a{k:02d}", "legacy", f"tcp://10.0.0.5:{4000 + k}",
                      [level * (1 + 0.01 * (i % 3)) for i in range(3)], minute=k)
        rows += _rows(f"b{k:02d}", "legacy", f"tcp://10.0.0.6:{4000 + k}",
                      [1.5 * (1 + 0.01 * (i % 3)) for i in range(3)], minute=k)
    out = detect_change_points(measurements_frame(rows))
    assert out[["host", "position", "run_id"]].values.tolist() == [["10.0.0.5", 6, "a06"]]
