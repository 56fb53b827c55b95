"""The history store keeps the measurement table's optional worker column (issue 13)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from rrperf.bench.history import HistoryStore
from rrperf.bench.metadata import collect_metadata


def _row(i: int, worker: str | None) -> dict[str, object]:
    return {
        "started_at": pd.Timestamp("2026-12-01T10:00:00Z") + pd.Timedelta(seconds=i),
        "scenario": "small", "system": "legacy", "strategy": "", "cache_state": "cold",
        "iteration": i, "order": 0, "warmup": False, "wall_s": 0.5, "cpu_s": 0.4,
        "peak_rss_mb": 10.0, "n_tables": 1, "files_total": 3, "files_written": 3,
        "files_unchanged": 0, "cache_hits": 0, "cache_misses": 0, "output_digest": "d",
        "error": None, "worker": worker,
    }


def test_a_store_made_before_the_worker_column_gets_it(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    with HistoryStore(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE measurements DROP COLUMN worker")  # as stores made before
    conn.close()
    with HistoryStore(path) as store:
        meta = collect_metadata(run_id="r1")
        store.start_run(meta)
        store.append_iteration("r1", _row(0, "tcp://10.0.0.5:4000"))
        old_style = {k: v for k, v in _row(1, None).items() if k != "worker"}
        store.append_iteration("r1", old_style)
        store.finish_run("r1")
        data = store.load_run("r1").data
    assert data["worker"].tolist() == ["tcp://10.0.0.5:4000", pd.NA]
