"""What the gate relies on outside gate.py: rounds until a stop rule, baseline selection in the
history store, machine facts and other benchmarks in the run metadata."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rrperf.bench.history import HistoryStore
from rrperf.bench.metadata import (
    RUNNING_DIR_ENV,
    BenchmarkPresence,
    RunMetadata,
    describe_others,
    load_average,
    running_dir,
)
from rrperf.bench.results import RESULTS_SCHEMA_VERSION
from rrperf.bench.runner import BenchmarkRunner
from rrperf.cli import main
from rrperf.config import RrperfConfig
from rrperf.errors import ConfigError, HistoryError

pytestmark = pytest.mark.filterwarnings("ignore::rrperf.errors.StabilityWarning")

SCHEMA = """ActiveRecord::Schema[7.1].define(version: 2024_01_01_000000) do
  create_table "users", force: :cascade do |t|
    t.string "name"
  end
end
"""


def copy_system(source: str, out_dir: Path) -> None:
    (out_dir / "schema.txt").write_text(Path(source).read_text("utf-8"), encoding="utf-8")


@pytest.fixture
def schema(tmp_path: Path) -> str:
    path = tmp_path / "s_schema.rb"
    path.write_text(SCHEMA, encoding="utf-8")
    return str(path)


@pytest.fixture(autouse=True)
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "running"
    monkeypatch.setenv(RUNNING_DIR_ENV, str(folder))
    return folder


def runner(tmp_path: Path, **kws: Any) -> BenchmarkRunner:
    r = BenchmarkRunner(
        progress=False, seed=3, config=RrperfConfig(), output_dir=tmp_path / "out", **kws
    )
    r.register_system("a", copy_system)
    r.register_system("b", copy_system)
    return r


# ----------------------------------------------------------------------------- stop rule


def test_until_stops_after_the_round_it_says_so(tmp_path: Path, schema: str) -> None:
    seen: list[tuple[int, int]] = []

    def until(rows: Sequence[Mapping[str, Any]], rounds: int) -> bool:
        seen.append((len(rows), rounds))
        return rounds == 3

    r = runner(tmp_path, iterations=50, warmup=1, until=until)
    result = r.run_comparative_benchmark(
        [schema], systems=("a", "b"), cache_states=("cold", "warm")
    )
    # each round runs both cache states of the scenario, then asks: 4 rows per round
    assert seen == [(8, 1), (12, 2), (16, 3)]
    data = result.data
    assert len(data) == 16
    assert sorted(set(data["iteration"])) == [0, 1, 2, 3]
    # rounds are the outer loop: every round has every (cache state, variant) once
    assert data.groupby("iteration").size().tolist() == [4, 4, 4, 4]
    config = json.loads(result.metadata["config_json"].iloc[0])
    assert (config["iterations"], config["until"]) == (50, True)


def test_until_is_bounded_by_iterations(tmp_path: Path, schema: str) -> None:
    r = runner(tmp_path, iterations=4, warmup=0, until=lambda rows, n: False)
    data = r.run_comparative_benchmark([schema], systems=("a", "b")).data
    assert sorted(set(data["iteration"])) == [0, 1, 2, 3]


def test_until_must_be_callable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^until must be a callable taking \(rows, rounds\)"):
        runner(tmp_path, until=3)


def test_auto_rounds_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two commands with identical output and no difference worth a gate: a fixed command that
    # exits at once. The rule checks the gate each round from round 10 on; the time budget
    # bounds the run whatever the machine does.
    monkeypatch.chdir(tmp_path)
    fast = f'{sys.executable} -c "pass"'
    (tmp_path / "rrperf.toml").write_text(
        f"[systems.a]\ncommand = '{fast}'\n[systems.b]\ncommand = '{fast}'\n", "utf-8"
    )
    argv = ["bench", "--scenarios", "small", "--systems", "a,b", "--iterations", "auto",
            "--max-rounds", "12", "--time-budget", "60", "--warmup", "0", "--format", "json",
            "--seed", "1"]
    code = main(argv)
    out, err = capsys.readouterr()
    payload = json.loads(out)
    rounds = len({r["iteration"] for r in payload["rows"]})
    assert 10 <= rounds <= 12 or "time budget spent" in err
    line = next(x for x in err.splitlines() if x.startswith("auto rounds: "))
    assert line.startswith(f"auto rounds: {rounds} measured round(s) in ")
    assert code == 0  # without --fail-on-regression the answer does not set the exit status


# ----------------------------------------------------------------------------- history


def meta(run_id: str, name: str | None, minute: int) -> RunMetadata:
    return RunMetadata(
        run_id=run_id, name=name, rrperf_version="0.1.0", git_revision=None, git_dirty=None,
        python_version="3.11.7", platform="Linux", cpu_model="cpu", cpu_count=2,
        cpu_count_physical=1, memory_total_mb=1024.0, config_json="{}",
        schema_version=RESULTS_SCHEMA_VERSION,
        started_at=datetime(2026, 11, 26, 21, minute, tzinfo=UTC),
    )


def row(run_id: str, i: int) -> dict[str, Any]:
    return {
        "run_id": run_id, "started_at": datetime(2026, 11, 26, 21, 0, i, tzinfo=UTC),
        "scenario": "small", "system": "legacy", "strategy": "", "cache_state": "cold",
        "iteration": i, "order": 0, "warmup": False, "wall_s": 0.1, "cpu_s": 0.1,
        "peak_rss_mb": 1.0, "n_tables": 1, "files_total": 1, "files_written": 1,
        "files_unchanged": 0, "cache_hits": 0, "cache_misses": 0, "output_digest": "d",
        "error": None,
    }


def record(store: HistoryStore, run_id: str, name: str, minute: int, status: str | None) -> None:
    store.start_run(meta(run_id, name, minute))
    for i in range(2):
        store.append_iteration(run_id, row(run_id, i))
    if status is not None:
        store.finish_run(run_id, status)


def test_latest_complete_runs_skip_failed_and_running(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        record(store, "c1", "base", 1, "complete")
        record(store, "c2", "base", 2, "complete")
        record(store, "f3", "base", 3, "failed")      # stopped by an error or Ctrl-C
        record(store, "r4", "base", 4, None)          # killed: still "running"
        runs, skipped = store.complete_runs("base")
        assert [r.run_ids[0] for r in runs] == ["c1", "c2"]  # newest last
        assert skipped == [("r4", "running"), ("f3", "failed")]
        runs, skipped = store.complete_runs("base", limit=1)
        assert [r.run_ids[0] for r in runs] == ["c2"]
        runs, skipped = store.complete_runs("c1")
        assert ([r.run_ids[0] for r in runs], skipped) == (["c1"], [])


def test_no_complete_run_is_an_error(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite") as store:
        record(store, "f1", "base", 1, "failed")
        record(store, "r2", "base", 2, None)
        with pytest.raises(HistoryError) as info:
            store.complete_runs("base")
        assert str(info.value) == (
            f"no complete run named 'base' in history store {str(tmp_path / 'h.sqlite')!r} "
            "(2 run(s): r2 running, f1 failed); a failed or interrupted run is not used as a "
            "baseline"
        )
        with pytest.raises(HistoryError, match=r"^run 'f1' is failed; a failed or interrupted"):
            store.complete_runs("f1")
        with pytest.raises(HistoryError, match=r"^no run with id or name 'ghost'"):
            store.complete_runs("ghost")
        with pytest.raises(ConfigError, match="limit"):
            store.complete_runs("base", limit=0)


def test_compare_says_which_run_it_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with HistoryStore(".rrperf/history.sqlite") as store:
        record(store, "c1", "base", 1, "complete")
        record(store, "f2", "base", 2, "failed")
    (tmp_path / "rrperf.toml").write_text(
        f"[systems.legacy2]\ncommand = '{sys.executable} -c pass'\n", "utf-8"
    )
    argv = ["bench", "--scenarios", "small", "--systems", "legacy", "--iterations", "2",
            "--warmup", "0", "--compare", "base", "--format", "csv"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert (
        "warning: run f2 of 'base' is failed; a failed or interrupted run is not used as a "
        "baseline: comparing with the latest complete run c1"
    ) in err.splitlines()
    with HistoryStore(".rrperf/history.sqlite") as store:
        record(store, "f3", "only_failed", 3, "failed")
    assert main([*argv[:-4], "--compare", "only_failed", "--format", "csv"]) == 1
    assert capsys.readouterr().err.startswith(
        "rrperf: error: no complete run named 'only_failed'"
    )


def test_history_command_shows_each_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "h.sqlite"
    with HistoryStore(path) as store:
        record(store, "c1", "base", 1, "complete")
        record(store, "f2", "base", 2, "failed")
        record(store, "r3", "base", 3, None)
    assert main(["history", "--history", str(path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["run_id"], r["status"]) for r in listed] == [
        ("c1", "complete"), ("f2", "failed"), ("r3", "running"),
    ]


# ----------------------------------------------------------------------------- machine facts


def test_run_metadata_records_load_and_other_benchmarks(
    tmp_path: Path, schema: str, running: Path
) -> None:
    # Another "benchmark": a live process with a pid file in the running folder.
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import psutil

        running.mkdir(parents=True)
        (running / f"{other.pid}.json").write_text(json.dumps({
            "pid": other.pid, "create_time": psutil.Process(other.pid).create_time(),
            "started_at": "2026-12-01T00:00:00+00:00", "argv": ["rrperf", "bench"],
        }), encoding="utf-8")
        # A stale file (a process that is gone) is ignored and removed.
        (running / "999999999.json").write_text(
            json.dumps({"pid": 999999999, "create_time": 1.0}), encoding="utf-8"
        )
        with HistoryStore(tmp_path / "h.sqlite") as store:
            r = runner(tmp_path, iterations=1, warmup=0, history=store)
            result = r.run_comparative_benchmark([schema], systems=("a",))
            stored = store.load_run(result.run_ids[0])
    finally:
        other.kill()
        other.wait()
    machine = json.loads(result.metadata["config_json"].iloc[0])["machine"]
    assert sorted(machine) == [
        "load_avg_end", "load_avg_start", "other_benchmarks_at_end", "other_benchmarks_at_start",
    ]
    assert len(machine["load_avg_start"]) == 3 and len(machine["load_avg_end"]) == 3
    assert machine["other_benchmarks_at_start"] == [{
        "pid": other.pid, "started_at": "2026-12-01T00:00:00+00:00", "argv": ["rrperf", "bench"],
    }]
    assert not (running / "999999999.json").exists()
    assert not (running / f"{os.getpid()}.json").exists()  # removed at the end of the run
    # the stored run has the facts known at the end too
    assert stored.metadata["config_json"].iloc[0] == result.metadata["config_json"].iloc[0]


def test_presence_sees_another_process_and_not_itself(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    with BenchmarkPresence(folder) as mine:
        assert (folder / f"{os.getpid()}.json").is_file()
        assert mine.others() == []
        code = (
            "import sys, time; from rrperf.bench.metadata import BenchmarkPresence\n"
            f"with BenchmarkPresence({str(folder)!r}):\n"
            "    print('in', flush=True); sys.stdin.readline()\n"
        )
        with subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        ) as child:
            assert child.stdout is not None and child.stdin is not None
            assert child.stdout.readline() == "in\n"
            others = mine.others()
            assert [o["pid"] for o in others] == [child.pid]
            assert describe_others(others) == (
                f"pid {child.pid} (started {others[0]['started_at']})"
            )
            child.stdin.write("\n")
            child.stdin.close()
            child.wait()
        assert mine.others() == []
    assert not (folder / f"{os.getpid()}.json").exists()


def test_running_dir_and_load_average(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(RUNNING_DIR_ENV, str(tmp_path / "x"))
    assert running_dir() == tmp_path / "x"
    monkeypatch.delenv(RUNNING_DIR_ENV)
    assert running_dir().name == f"rrperf-running-{os.getuid()}"
    load = load_average()
    assert load is not None and len(load) == 3 and all(v >= 0 for v in load)


def test_bench_warns_about_another_benchmark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    running: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    with BenchmarkPresence(running):
        # this process is "the other one": the CLI in a child process sees it
        proc = subprocess.run(
            [sys.executable, "-m", "rrperf", "bench", "--scenarios", "small", "--systems",
             "legacy", "--iterations", "1", "--warmup", "0", "--format", "csv"],
            capture_output=True, text=True, check=False, cwd=tmp_path,
        )
    assert proc.returncode == 0, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith(
        f"warning: another benchmark is running on this machine (pid {os.getpid()} (started "
    )
    assert first.endswith("both will be slower and noisier; recorded in the run's metadata")
