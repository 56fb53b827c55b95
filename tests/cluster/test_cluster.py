"""Scale-out on Dask distributed (issue 13), on a real LocalCluster of worker processes.

The cluster is the session fixture of conftest.py (2 workers, 1 thread each). No timing is
asserted: only where things ran, what was written and that the outputs are identical.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rrperf.bench.history import HistoryStore
from rrperf.bench.runner import BenchmarkRunner
from rrperf.cli import main
from rrperf.errors import ConfigError, MissingDependencyError, SchemaWarning

MATRIX: dict[str, Any] = {
    "scenarios": ["small", "large"],
    "systems": ["legacy", "pipeline"],
    "strategies": ["sequential"],
    "cache_states": ["cold", "warm"],
}
GROUP = ["scenario", "system", "strategy", "cache_state"]
SPATIAL_SCHEMA = """ActiveRecord::Schema[7.1].define(version: 1) do
  create_table "regions", force: :cascade do |t|
    t.string "name", null: false
    t.geometry "boundary"
  end
end
"""


def _runner(tmp_path: Path, **kws: Any) -> BenchmarkRunner:
    return BenchmarkRunner(
        iterations=2, warmup=1, seed=3, progress=False, cache_dir=tmp_path / "cache", **kws
    )


def _digests(data: pd.DataFrame) -> dict[tuple[str, str, str, str], list[str]]:
    out: dict[tuple[str, str, str, str], list[str]] = {}
    for key, part in data.groupby(GROUP, sort=True):
        out[tuple(str(k) for k in key)] = sorted(set(part["output_digest"].dropna()))  # type: ignore[index]
    return out


@pytest.mark.filterwarnings("ignore::rrperf.errors.StabilityWarning")
def test_bench_on_the_cluster_agrees_with_a_local_run(tmp_path: Path, dask_client: Any) -> None:
    # a scenario whose column type has no mapping, so that every run warns (the local cluster's
    # workers see the same file system)
    spatial = tmp_path / "spatial.rb"
    spatial.write_text(SPATIAL_SCHEMA, encoding="utf-8")
    matrix = {**MATRIX, "scenarios": ["small", str(spatial)]}
    with pytest.warns(SchemaWarning, match="'geometry' has no TypeScript mapping"):
        local = _runner(tmp_path / "l").run_comparative_benchmark(**matrix)
    history = tmp_path / "history.sqlite"
    remote = _runner(tmp_path / "r", client=dask_client, history=history, name="c")
    # the warnings the workers recorded are emitted once by the client, as locally
    with pytest.warns(SchemaWarning, match="'geometry' has no TypeScript mapping"):
        on_cluster = remote.run_comparative_benchmark(**matrix)
    order = ["scenario", "system", "strategy", "category", "message"]
    pd.testing.assert_frame_equal(
        local.warnings.sort_values(order, ignore_index=True),
        on_cluster.warnings.sort_values(order, ignore_index=True),
    )

    data = on_cluster.data
    assert data["worker"].notna().all() and data["error"].isna().all()
    assert local.data["worker"].isna().all()
    # each scenario's rounds on one worker; the two scenarios on the two workers
    per_scenario = data.groupby("scenario")["worker"].nunique()
    assert per_scenario.to_dict() == {"small": 1, "spatial": 1}
    workers = set(dask_client.scheduler_info()["workers"])
    assert set(data["worker"]) == workers
    # the same plan: rows, groups, rounds and variants per round
    assert len(data) == len(local.data) == 2 * 2 * 2 * 3  # scenarios x variants x states x rounds
    key = [*GROUP, "iteration", "warmup"]
    assert sorted(data[key].astype(str).itertuples(index=False)) == sorted(
        local.data[key].astype(str).itertuples(index=False)
    )
    # deterministic properties of the verdicts: the same groups compared, the same outputs
    cmp_local, cmp_cluster = local.compare(), on_cluster.compare()
    assert cmp_cluster["host"].tolist() == ["127.0.0.1"] * len(cmp_cluster)
    assert cmp_local[GROUP].astype(str).values.tolist() == cmp_cluster[GROUP].astype(
        str
    ).values.tolist()
    assert _digests(local.data) == _digests(data)
    pd.testing.assert_frame_equal(local.correctness, on_cluster.correctness)
    assert on_cluster.correctness["matches_baseline"].all()
    # the host facts of each worker, and which scenarios it measured
    cluster = json.loads(on_cluster.metadata["config_json"].iloc[0])["cluster"]
    assert cluster["scheduler"] == dask_client.scheduler.address
    measured = {w: f["scenarios"] for w, f in cluster["workers"].items() if "scenarios" in f}
    assert sorted(s for names in measured.values() for s in names) == ["small", "spatial"]
    assert all(f["host"] and f["cpu_count"] >= 1 for f in cluster["workers"].values())
    # the client alone wrote the history: one run, every row, with the client's run id
    with HistoryStore(history) as store:
        runs = store.list_runs()
        assert runs["run_id"].tolist() == on_cluster.run_ids
        assert runs["status"].tolist() == ["complete"]
        stored = store.load_run(on_cluster.run_ids[0]).data
    assert len(stored) == len(data)
    assert sorted(stored["worker"]) == sorted(data["worker"])


@pytest.mark.filterwarnings("ignore::rrperf.errors.RrperfWarning")
def test_generate_on_the_cluster_has_the_local_digest(
    tmp_path: Path, dask_client: Any, scheduler_address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    from rrperf.engine.dask_backend import cluster_threads
    from rrperf.engine.strategies import get_strategy
    from rrperf.generator.api import generate

    assert main(["generate", "synthetic:120", "--out", str(tmp_path / "local"), "--json"]) == 0
    local = json.loads(capsys.readouterr().out)
    args = ["generate", "synthetic:120", "--out", str(tmp_path / "remote"), "--json",
            "--cluster", scheduler_address]
    assert main(args) == 0
    remote = json.loads(capsys.readouterr().out)
    assert remote["output_digest"] == local["output_digest"]
    assert remote["files_written"] == remote["files_total"] == local["files_total"] == 362

    # the render batches ran in the worker processes; this process wrote every file
    strategy = dataclasses.replace(
        get_strategy("parallel"), backend="dask", workers=cluster_threads(dask_client)
    )
    with strategy.make_context(cache_dir=tmp_path / "cache") as ctx:
        result = generate("synthetic:120", tmp_path / "api", context=ctx)
        timings = ctx.executor.stage_timings()
    assert result.output_digest == local["output_digest"]
    worker_pids = set(dask_client.run(os.getpid).values())
    assert set(timings["pid"]) <= worker_pids and len(timings) >= 2
    assert set(timings["backend"]) == {"dask"}
    files = sorted(p.relative_to(tmp_path / "api").as_posix()
                   for p in (tmp_path / "api").rglob("*.ts"))
    assert len(files) == 362  # 3 per table, index.ts, rrperf-runtime.d.ts


@pytest.mark.filterwarnings("ignore::rrperf.errors.RrperfWarning")
def test_bench_cli_cluster_writes_the_worker_column(
    tmp_path: Path, scheduler_address: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["bench", "--scenarios", "small", "--iterations", "1", "--warmup", "0",
                 "--format", "csv", "--cluster", scheduler_address])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    header = out[0].split(",")
    assert header[-1] == "worker"
    workers = {line.rsplit(",", 1)[1] for line in out[1:]}
    assert len(out) == 3 and len(workers) == 1
    assert workers.pop().startswith("tcp://127.0.0.1:")


def test_unreachable_scheduler_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "small", "--out", "unused", "--cluster", "tcp://127.0.0.1:9",
                 "--cluster-timeout", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1
    assert err[0].startswith("rrperf: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert not Path("unused").exists()


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("localhost", "cluster address 'localhost': expected a scheduler address such as "
                      "tcp://host:8786, or local:N"),
        ("local:0", "cluster address 'local:0': local:N needs N >= 1"),
        ("local:x", "cluster address 'local:x': expected local:N with N >= 1"),
    ],
)
def test_malformed_address(address: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--scenarios", "small", "--cluster", address]) == 1
    assert capsys.readouterr().err == f"rrperf: error: {message}\n"


def test_missing_dask_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from rrperf.engine.dask_backend import connect

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError) as info, connect("local:1"):
        pass
    assert str(info.value) == (
        "--cluster local:1 needs distributed; install it with: pip install 'rrperf[cluster]'"
    )


def test_client_must_be_a_client(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^client must be a distributed.Client or None, got"):
        _runner(tmp_path, client=object())


def test_cluster_modules_import_no_dask() -> None:
    code = (
        "import sys, rrperf, rrperf.bench.cluster, rrperf.bench.hosts, rrperf.cli._cluster, "
        "rrperf.engine.dask_backend, rrperf.generator.cached, rrperf.engine.parallel\n"
        "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.filterwarnings("ignore::rrperf.errors.RrperfWarning")
def test_a_lost_worker_reruns_its_scenario_elsewhere(tmp_path: Path, dask_client: Any) -> None:
    """Kill the worker process measuring a scenario: the scenario runs again on another
    worker, nothing else is lost, and the history holds only the client's rows."""
    marker = tmp_path / "first-attempt.pid"

    def first_attempt_hangs(source: str, out_dir: Path) -> None:
        # The first call (on whichever worker gets the scenario) records its process and
        # waits to be killed; every later call generates for real.
        import os
        import time

        from rrperf.generator.api import generate

        if not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(60)
        generate(source, out_dir, impl="legacy")

    history = tmp_path / "history.sqlite"
    runner = _runner(tmp_path, client=dask_client, history=history)
    runner.register_system("hangs-once", first_attempt_hangs)
    pids = {pid: addr for addr, pid in dask_client.run(os.getpid).items()}
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = runner.run_comparative_benchmark(
                ["small"], systems=["legacy", "hangs-once"]
            )
        except BaseException as err:  # handed to the test thread
            outcome["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = int(marker.read_text())
    lost = pids[pid]
    os.kill(pid, signal.SIGKILL)
    thread.join(120)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    data = outcome["result"].data
    assert data["error"].isna().all()
    assert len(data) == 2 * 3  # 2 variants x (1 warm-up + 2 rounds): nothing lost
    assert data["worker"].nunique() == 1 and data["worker"].iloc[0] != lost
    assert outcome["result"].correctness["matches_baseline"].tolist() == [True]
    with HistoryStore(history) as store:
        runs = store.list_runs()
        assert runs["status"].tolist() == ["complete"] and len(runs) == 1
        stored = store.load_run(runs["run_id"].iloc[0]).data
    assert len(stored) == len(data)
    assert set(stored["worker"]) == set(data["worker"])
    dask_client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


def test_parallel_executor_dask_backend_runs_a_stage_graph_on_the_workers(
    dask_client: Any,
) -> None:
    from rrperf.engine.parallel import ParallelExecutor
    from rrperf.engine.stages import Stage

    def square(x: int) -> int:
        return x * x

    def total(a: int, b: int) -> tuple[int, int]:
        import os

        return a + b, os.getpid()

    stages = [
        Stage("a", square, kwargs={"x": 3}),
        Stage("b", square, kwargs={"x": 4}),
        Stage("sum", total, depends_on=("a", "b")),
    ]
    with ParallelExecutor(backend="dask", enable_monitoring=False) as ex:
        assert ex.max_workers == 2  # the cluster's worker threads
        results = ex.execute_with_dependencies(stages)
        timings = ex.stage_timings()
    assert results["a"] == 9 and results["b"] == 16 and results["sum"][0] == 25
    worker_pids = set(dask_client.run(os.getpid).values())
    assert results["sum"][1] in worker_pids
    assert set(timings["pid"]) <= worker_pids
    assert timings["status"].tolist() == ["ok", "ok", "ok"]
