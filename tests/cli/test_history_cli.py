"""Tests for ``rrperf history`` and ``rrperf export`` on a store filled with known rows."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from rrperf.bench.history import HistoryStore
from rrperf.bench.results import (
    MEASUREMENT_COLUMNS,
    BenchmarkResult,
    measurements_frame,
    read_result,
)
from rrperf.cli import main

REPO = Path(__file__).resolve().parents[2]
RRPERF = REPO / ".venv" / "bin" / "rrperf"
T0 = datetime(2026, 11, 26, 21, 5, 1, tzinfo=UTC)


def make_row(run_id: str, i: int, system: str, scenario: str = "small") -> dict[str, Any]:
    return {
        "run_id": run_id,
        "started_at": pd.Timestamp(T0) + pd.Timedelta(seconds=i, microseconds=250),
        "scenario": scenario,
        "system": system,
        "strategy": "",
        "cache_state": "cold",
        "iteration": i,
        "order": 0,
        "warmup": False,
        "wall_s": 0.1 + i / 8,
        "cpu_s": 0.05,
        "peak_rss_mb": 40.0,
        "n_tables": 4,
        "files_total": 13,
        "files_written": 13,
        "files_unchanged": 0,
        "cache_hits": 0,
        "cache_misses": 0,
        "output_digest": "d1",
        "error": None,
    }


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A store with run "r1" named nightly (3 rows) and run "r2" without a name (2 rows)."""
    path = tmp_path / "h.sqlite"
    first = BenchmarkResult(
        measurements_frame(
            [make_row("r1", i, "legacy") for i in range(2)] + [make_row("r1", 2, "pipeline")]
        )
    )
    second = BenchmarkResult(
        measurements_frame([make_row("r2", 10 + i, "legacy", "large") for i in range(2)])
    )
    with HistoryStore(path) as store:
        store.save_result(first, name="nightly")
        store.save_result(second)
    return path


EXPECTED_RUNS = [
    {
        "run_id": "r1", "name": "nightly", "started_at": "2026-11-26T21:05:01.000250Z",
        "status": "complete", "rows": 3, "scenarios": "small", "systems": "legacy, pipeline",
    },
    {
        "run_id": "r2", "name": None, "started_at": "2026-11-26T21:05:11.000250Z",
        "status": "complete", "rows": 2, "scenarios": "large", "systems": "legacy",
    },
]


def test_history_json(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--json", "--history", str(history)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert json.loads(out) == EXPECTED_RUNS


def test_history_table(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--history", str(history)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "run_id  name     started_at                        status    rows  scenarios  systems",
        "------  -------  --------------------------------  --------  ----  ---------  "
        "----------------",
        "r1      nightly  2026-11-26T21:05:01.000250+00:00  complete  3     small      "
        "legacy, pipeline",
        "r2               2026-11-26T21:05:11.000250+00:00  complete  2     large      legacy",
    ]


def test_history_default_path_and_empty_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    HistoryStore(".rrperf/history.sqlite").close()
    assert main(["history"]) == 0
    assert capsys.readouterr().out == "no runs in .rrperf/history.sqlite\n"
    assert main(["history", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_history_missing_store_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none" / "h.sqlite"
    assert main(["history", "--history", str(missing)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"rrperf: error: no history store at {str(missing)!r}; save a run first with "
        "`rrperf bench --save NAME`, or pass --history PATH\n"
    )
    assert not missing.parent.exists()  # reading never creates a store


def test_history_not_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite at all, just some bytes" * 4)
    assert main(["history", "--history", str(junk)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"rrperf: error: {str(junk)!r} is not an rrperf history store: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("run", ["r1", "nightly"])
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_export_round_trip(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], run: str, suffix: str
) -> None:
    target = tmp_path / f"out{suffix}"
    assert main(["export", run, "--to", str(target), "--history", str(history)]) == 0
    assert capsys.readouterr().out == f"exported {run} to {target}\n"
    with HistoryStore(history) as store:
        stored = store.load_run("r1")
    exported = read_result(target)
    assert_frame_equal(exported.data, stored.data)
    assert_frame_equal(exported.metadata, stored.metadata)
    assert exported.data["system"].tolist() == ["legacy", "legacy", "pipeline"]
    if suffix == ".csv":
        plain = pd.read_csv(target, keep_default_na=False)
        assert tuple(plain.columns) == MEASUREMENT_COLUMNS
        assert plain["wall_s"].tolist() == [0.1, 0.225, 0.35]


def test_export_unknown_suffix(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.xlsx"
    assert main(["export", "r1", "--to", str(target), "--history", str(history)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"rrperf: error: cannot export to {str(target)!r}: expected a file name ending in "
        ".csv or .parquet, got '.xlsx'\n"
    )
    assert not target.exists()


def test_export_unknown_run(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.csv"
    assert main(["export", "weekly", "--to", str(target), "--history", str(history)]) == 1
    assert capsys.readouterr().err == (
        f"rrperf: error: no run with id or name 'weekly' in history store {str(history)!r}; "
        "known names: 'nightly'\n"
    )
    assert not target.exists()


def test_export_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["export", "r1"])
    assert info.value.code == 2
    assert "the following arguments are required: --to" in capsys.readouterr().err


def test_history_and_export_subprocess_exit_codes(history: Path, tmp_path: Path) -> None:
    listed = subprocess.run(
        [str(RRPERF), "history", "--json", "--history", str(history)],
        capture_output=True, text=True, check=False,
    )
    assert (listed.returncode, listed.stderr) == (0, "")
    assert json.loads(listed.stdout) == EXPECTED_RUNS
    missing = subprocess.run(
        [str(RRPERF), "export", "nightly", "--to", str(tmp_path / "x.parquet"),
         "--history", str(tmp_path / "missing.sqlite")],
        capture_output=True, text=True, check=False,
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("rrperf: error: no history store at ")
    assert missing.stderr.count("\n") == 1
    bad_suffix = subprocess.run(
        [str(RRPERF), "export", "nightly", "--to", str(tmp_path / "x.json"),
         "--history", str(history)],
        capture_output=True, text=True, check=False,
    )
    assert bad_suffix.returncode == 1
    assert ".csv or .parquet" in bad_suffix.stderr
