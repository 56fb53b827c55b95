"""Tests for the SQLite history store, including real crash and concurrency checks."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from rrperf.bench.history import HistoryStore
from rrperf.bench.metadata import RunMetadata
from rrperf.bench.results import (
    MEASUREMENT_DTYPES,
    RESULTS_SCHEMA_VERSION,
    BenchmarkResult,
    measurements_frame,
    read_result,
)
from rrperf.errors import ConfigError, HistoryError, ResultsSchemaError

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 26, 21, 5, 1, tzinfo=UTC)


def make_row(run_id: str, i: int = 0, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": run_id,
        "started_at": pd.Timestamp(T0) + pd.Timedelta(seconds=i, nanoseconds=7),
        "scenario": "small",
        "system": "legacy",
        "strategy": "sequential",
        "cache_state": "cold",
        "iteration": i,
        "order": i,
        "warmup": i == 0,
        "wall_s": 0.1 + i / 3,
        "cpu_s": 0.05,
        "peak_rss_mb": float("nan"),
        "n_tables": 15,
        "files_total": 61,
        "files_written": 61,
        "files_unchanged": 0,
        "cache_hits": 0,
        "cache_misses": 1,
        "output_digest": "d1",
        "error": None,
    }
    row.update(overrides)
    return row


def make_meta(run_id: str, name: str | None = None, *, minute: int = 0) -> RunMetadata:
    return RunMetadata(
        run_id=run_id, name=name, rrperf_version="0.1.0", git_revision="abc", git_dirty=False,
        python_version="3.11.7", platform="Linux", cpu_model=None, cpu_count=2,
        cpu_count_physical=1, memory_total_mb=1024.0, config_json='{"k":1}',
        schema_version=RESULTS_SCHEMA_VERSION,
        started_at=datetime(2026, 11, 26, 21, minute, tzinfo=UTC),
    )


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with HistoryStore(tmp_path / "deep" / "er" / "history.sqlite") as s:
        yield s


def record_run(store: HistoryStore, run_id: str, name: str | None = None, *, n: int = 3,
               minute: int = 0, **row_kws: Any) -> list[dict[str, Any]]:
    store.start_run(make_meta(run_id, name, minute=minute))
    rows = [make_row(run_id, i, **row_kws) for i in range(n)]
    for row in rows:
        store.append_iteration(run_id, row)
    store.finish_run(run_id)
    return rows


# ----------------------------------------------------------------------------- basics


def test_creates_parent_folder_tables_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "h.sqlite"
    with HistoryStore(path) as s:
        assert s.path == path
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"meta", "runs", "measurements"} <= tables
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
            str(RESULTS_SCHEMA_VERSION),
        )
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_round_trip_of_a_recorded_run(store: HistoryStore) -> None:
    rows = record_run(store, "r1", "nightly")
    loaded = store.load_run("r1")
    assert_frame_equal(loaded.data, measurements_frame(rows), check_exact=True)
    assert_frame_equal(loaded.metadata, make_meta("r1", "nightly").to_frame(), check_exact=True)
    assert loaded.baseline == "legacy"


def test_list_runs(store: HistoryStore) -> None:
    record_run(store, "r2", "b", minute=2, system="pipeline")
    record_run(store, "r1", "a", minute=1, n=2)
    store.start_run(make_meta("r3", minute=3))
    store.append_iteration("r3", make_row("r3", scenario="large"))
    store.append_iteration("r3", make_row("r3", scenario="medium", system="pipeline"))
    expected = pd.DataFrame({
        "run_id": ["r1", "r2", "r3"],
        "name": ["a", "b", None],
        "started_at": pd.to_datetime(
            ["2026-11-26T21:01Z", "2026-11-26T21:02Z", "2026-11-26T21:03Z"], utc=True
        ).astype("datetime64[ns, UTC]"),
        "status": ["complete", "complete", "running"],
        "n_rows": [2, 3, 2],
        "scenarios": ["small", "small", "large, medium"],
        "systems": ["legacy", "pipeline", "legacy, pipeline"],
    }).astype({c: "string" for c in ("run_id", "name", "status", "scenarios", "systems")})
    assert_frame_equal(store.list_runs(), expected)


def test_list_runs_of_empty_store(store: HistoryStore) -> None:
    runs = store.list_runs()
    assert len(runs) == 0
    assert runs.dtypes.astype(str).tolist() == [
        "string", "string", "datetime64[ns, UTC]", "string", "int64", "string", "string",
    ]


def test_load_by_name_takes_the_latest(store: HistoryStore) -> None:
    record_run(store, "old", "nightly", minute=1, wall_s=1.0)
    record_run(store, "new", "nightly", minute=5, wall_s=2.0)
    record_run(store, "other", "weekly", minute=9)
    assert store.load_run("nightly").run_ids == ["new"]
    assert store.load_run("old").run_ids == ["old"]


def test_load_unknown_lists_known_names(store: HistoryStore) -> None:
    msg = r"it has no named runs \(see list_runs\(\) for run ids\)$"
    with pytest.raises(HistoryError, match=msg):
        store.load_run("nope")
    for i in range(7):
        record_run(store, f"r{i}", f"name{i}", minute=i, n=1)
    with pytest.raises(
        HistoryError,
        match=r"^no run with id or name 'nope' in history store '.*history\.sqlite'; known names: "
              r"'name6', 'name5', 'name4', 'name3', 'name2', \.\.\.$",
    ):
        store.load_run("nope")


def test_load_history_filters_and_orders(store: HistoryStore) -> None:
    record_run(store, "r2", minute=2, n=2, system="pipeline",
               started_at=pd.Timestamp("2026-11-27T00:00Z"))
    rows1 = record_run(store, "r1", minute=1, n=2)
    everything = store.load_history()
    assert everything["run_id"].tolist() == ["r1", "r1", "r2", "r2"]
    assert everything.dtypes.astype(str).to_dict() == MEASUREMENT_DTYPES
    assert_frame_equal(store.load_history(system="legacy"), measurements_frame(rows1))
    assert len(store.load_history(system=["legacy", "pipeline"], cache_state="cold")) == 4
    assert len(store.load_history(scenario="large")) == 0
    assert len(store.load_history(strategy="sequential", scenario=("small",))) == 4
    with pytest.raises(ConfigError, match=r"^system must be a string or strings, got \[\]$"):
        store.load_history(system=[])


def test_save_result_and_export(store: HistoryStore, tmp_path: Path) -> None:
    rows = [make_row("a", i) for i in range(2)] + [make_row("b", i, system="p") for i in range(3)]
    meta = make_meta("a", "meta-name").to_frame()
    result = BenchmarkResult(measurements_frame(rows), meta, baseline="p")
    assert store.save_result(result, name="saved") == ["a", "b"]
    runs = store.list_runs()
    assert runs[["run_id", "name", "status", "n_rows"]].values.tolist() == [
        ["a", "saved", "complete", 2], ["b", "saved", "complete", 3],
    ]  # 'a' starts at its metadata time (21:00); 'b' has none: at its first iteration (21:05:01)
    loaded = store.load_run("a")
    assert loaded.baseline == "p"
    assert loaded.metadata["name"].tolist() == ["saved"]
    assert_frame_equal(loaded.data, measurements_frame(rows[:2]))
    bare = store.load_run("b").metadata
    assert bare["started_at"].tolist() == [pd.Timestamp(T0) + pd.Timedelta(nanoseconds=7)]
    assert bare["git_revision"].isna().all() and bare["config_json"].tolist() == ["{}"]

    for suffix in (".csv", ".parquet"):
        path = store.export_run("a", tmp_path / "out" / f"a{suffix}")
        back = read_result(path)
        assert_frame_equal(back.data, loaded.data)
        assert_frame_equal(back.metadata, loaded.metadata)
    with pytest.raises(ConfigError, match=r"expected a file name ending in \.csv or \.parquet, "
                                          r"got '\.xlsx'$"):
        store.export_run("a", tmp_path / "a.xlsx")


def test_save_result_is_one_transaction(store: HistoryStore) -> None:
    record_run(store, "b", n=1)
    rows = [make_row("a", 0), make_row("b", 0)]
    with pytest.raises(HistoryError, match=r"^run 'b' is already in history store .*delete_run"):
        store.save_result(BenchmarkResult(measurements_frame(rows)))
    assert store.list_runs()["run_id"].tolist() == ["b"]
    assert len(store.load_history()) == 1


def test_delete_run(store: HistoryStore) -> None:
    record_run(store, "r1")
    record_run(store, "r2", minute=1)
    store.delete_run("r1")
    assert store.list_runs()["run_id"].tolist() == ["r2"]
    assert store.load_history()["run_id"].unique().tolist() == ["r2"]
    with pytest.raises(HistoryError, match=r"^no run 'r1' in history store"):
        store.delete_run("r1")


def test_run_lifecycle_errors(store: HistoryStore) -> None:
    with pytest.raises(HistoryError, match=r"^no run 'ghost' in history store"):
        store.append_iteration("ghost", make_row("ghost"))
    record_run(store, "r1", n=1)
    with pytest.raises(HistoryError, match=r"^run 'r1' is complete, expected it to be running$"):
        store.append_iteration("r1", make_row("r1"))
    with pytest.raises(HistoryError, match=r"^run 'r1' is complete, expected it to be running$"):
        store.finish_run("r1", "failed")
    with pytest.raises(HistoryError, match=r"^run 'r1' is already in history store"):
        store.start_run(make_meta("r1"))
    with pytest.raises(ConfigError, match=r"^status must be 'complete' or 'failed', got 'done'$"):
        store.finish_run("r1", "done")
    store.start_run(make_meta("r2"), name="given")
    with pytest.raises(HistoryError, match=r"^row belongs to run 'r1', not to run 'r2'$"):
        store.append_iteration("r2", make_row("r1"))
    with pytest.raises(ResultsSchemaError, match=r"^measurement column 'iteration' cannot"):
        store.append_iteration("r2", make_row("r2", iteration="x"))
    row = make_row("r2")
    del row["run_id"]
    store.append_iteration("r2", row)
    store.finish_run("r2", "failed")
    assert store.list_runs()[["name", "status", "n_rows"]].values.tolist()[1] == [
        "given", "failed", 1,
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("iteration", "abc"), ("iteration", 1.5), ("iteration", None), ("iteration", True),
        ("iteration", 2**64), ("warmup", "False"), ("warmup", None), ("warmup", 1),
        ("wall_s", "fast"), ("started_at", None), ("started_at", "not a time"),
    ],
)
def test_append_refuses_what_measurements_frame_refuses(
    store: HistoryStore, column: str, value: Any
) -> None:
    store.start_run(make_meta("r1"))
    row = make_row("r1", **{column: value})
    with pytest.raises(ResultsSchemaError) as expected:
        measurements_frame([row])
    prefix = str(expected.value).split(":")[0]
    assert prefix.startswith(f"measurement column {column!r} cannot be read as ")
    with pytest.raises(ResultsSchemaError, match=f"^{re.escape(prefix)}: ") as info:
        store.append_iteration("r1", row)
    assert info.value.__cause__ is not None
    assert len(store.load_history()) == 0


def test_append_accepts_what_measurements_frame_accepts(store: HistoryStore) -> None:
    store.start_run(make_meta("r1"))
    rows = [
        make_row("r1", 0, iteration=np.int64(0), order=np.int32(3), warmup=np.bool_(True),
                 wall_s=np.float64(0.25), cpu_s=1, peak_rss_mb=None, n_tables=15.0),
        make_row("r1", 1, started_at="2026-11-26T22:05:02.5+01:00", strategy="", error=pd.NA),
        make_row("r1", 2, started_at=datetime(2026, 11, 26, 21, 5, 3), output_digest=None,
                 wall_s=float("nan"), scenario=7),
    ]
    for row in rows:
        store.append_iteration("r1", row)
    assert_frame_equal(store.load_run("r1").data, measurements_frame(rows), check_exact=True)
    with pytest.raises(ResultsSchemaError, match=r"^measurement row 0 has unknown columns: x$"):
        store.append_iteration("r1", {**rows[0], "x": 1})
    partial = dict(rows[0])
    del partial["cpu_s"]
    with pytest.raises(ResultsSchemaError, match=r"^measurement row 0 is missing columns: cpu_s$"):
        store.append_iteration("r1", partial)


def test_closed_store(tmp_path: Path) -> None:
    s = HistoryStore(tmp_path / "h.sqlite")
    s.close()
    s.close()
    assert repr(s).endswith("(closed)>")
    with pytest.raises(HistoryError, match=r"^history store '.*h\.sqlite' is closed$"):
        s.list_runs()


# ----------------------------------------------------------------------------- opening


def test_store_written_by_newer_rrperf(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    HistoryStore(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(
        HistoryError,
        match=r"^history store '.*h\.sqlite' was written by a newer rrperf \(schema 3 > 1\); "
              r"upgrade rrperf to use it$",
    ):
        HistoryStore(path)


def test_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("just some text, long enough to fill a header " * 20, encoding="utf-8")
    with pytest.raises(HistoryError, match=r"^'.*notes\.sqlite' is not an rrperf history store: "
                                           r"file is not a database$") as info:
        HistoryStore(path)
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u@h/db", r"^only SQLite history stores are supported, got a 'postgresql' "
                                r"URL; use a file path or sqlite:///path/to/history\.sqlite$"),
        ("sqlite://", r"^the history store needs a database file, got 'sqlite://'"),
        ("sqlite:///:memory:", r"^the history store needs a database file"),
    ],
)
def test_unsupported_locations(url: str, message: str) -> None:
    with pytest.raises(HistoryError, match=message):
        HistoryStore(url)


def test_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with HistoryStore(f"sqlite:///{tmp_path}/abs.sqlite") as s:
        assert s.path == tmp_path / "abs.sqlite"
    monkeypatch.chdir(tmp_path)
    with HistoryStore("sqlite:///rel/h.sqlite") as s:
        assert s.path == Path("rel/h.sqlite")
    assert (tmp_path / "rel" / "h.sqlite").is_file()
    with HistoryStore() as s:
        assert s.path == Path(".rrperf/history.sqlite")
    assert (tmp_path / ".rrperf" / "history.sqlite").is_file()


# ----------------------------------------------------------------------------- locking


def test_retries_while_another_connection_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    HistoryStore(path).close()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            blocker.execute("COMMIT")

    with HistoryStore(path, timeout_s=0.01, retries=5, sleep=sleep) as s:
        s.start_run(make_meta("r1"))
    blocker.close()
    assert waits == [0.05, 0.1]
    with HistoryStore(path) as s:
        assert s.list_runs()["run_id"].tolist() == ["r1"]


def test_gives_up_after_the_retries(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    store = HistoryStore(path, timeout_s=0.01, retries=2, sleep=lambda s: waits.append(s))
    waits: list[float] = []
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(
            HistoryError,
            match=r"^history store '.*h\.sqlite' stayed locked by another process \(start a run, "
                  r"3 attempts of 0\.01 s\): database is locked$",
        ) as info:
            store.start_run(make_meta("r1"))
        assert isinstance(info.value.__cause__, sqlite3.OperationalError)
        assert waits == [0.05, 0.1]
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        store.close()


def test_threads_share_one_store(store: HistoryStore) -> None:
    store.start_run(make_meta("r1"))
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(25):
                store.append_iteration("r1", make_row("r1", i, order=t * 100 + i))
        except BaseException as err:  # surfaced by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(store.load_run("r1").data["order"]) == sorted(
        t * 100 + i for t in range(4) for i in range(25)
    )


# ----------------------------------------------------------------------------- processes

CHILD = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime

    import pandas as pd

    from rrperf.bench.history import HistoryStore
    from rrperf.bench.metadata import collect_metadata

    path, run_id, n, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    store = HistoryStore(path)
    store.start_run(collect_metadata(run_id=run_id, name=run_id))
    print("ready", flush=True)
    if wait == "go":
        sys.stdin.readline()
    for i in range(n):
        store.append_iteration(run_id, {
            "run_id": run_id, "started_at": pd.Timestamp.now(tz="UTC"), "scenario": "small",
            "system": "legacy", "strategy": "sequential", "cache_state": "cold",
            "iteration": i, "order": i, "warmup": False, "wall_s": 0.5, "cpu_s": 0.25,
            "peak_rss_mb": 10.0, "n_tables": 1, "files_total": 1, "files_written": 1,
            "files_unchanged": 0, "cache_hits": 0, "cache_misses": 0,
            "output_digest": "d", "error": None,
        })
    print(f"appended {n}", flush=True)
    if wait == "hang":
        sys.stdin.readline()
    store.finish_run(run_id)
    store.close()
    """
)


def spawn(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    if not script.exists():
        script.write_text(CHILD, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(script), *args], cwd=REPO, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_sigkill_keeps_every_completed_iteration(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    child = spawn(tmp_path, str(path), "killed", "7", "hang")
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        assert child.stdout.readline() == "appended 7\n"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    assert Path(f"{path}-wal").exists()  # the committed rows were only in the WAL file
    with HistoryStore(path) as s:
        runs = s.list_runs()
        assert runs[["run_id", "status", "n_rows"]].values.tolist() == [["killed", "running", 7]]
        assert s.load_run("killed").data["iteration"].tolist() == list(range(7))
        assert s.load_run("killed").metadata["name"].tolist() == ["killed"]


def test_two_processes_write_at_once_and_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    HistoryStore(path).close()
    children = [spawn(tmp_path, str(path), f"w{k}", "200", "go") for k in range(2)]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
        for child in children:  # both are connected and waiting: release them together
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=300) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()
    assert [c.returncode for c in children] == [0, 0], outputs
    assert [o[0] for o in outputs] == ["appended 200\n", "appended 200\n"]
    with HistoryStore(path) as s:
        runs = s.list_runs().sort_values("run_id")
        assert runs[["run_id", "status", "n_rows"]].values.tolist() == [
            ["w0", "complete", 200], ["w1", "complete", 200],
        ]
        history = s.load_history()
        assert len(history) == 400
        for k in range(2):
            part = history[history["run_id"] == f"w{k}"]
            assert sorted(part["iteration"]) == list(range(200))
