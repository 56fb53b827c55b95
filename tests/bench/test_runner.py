"""BenchmarkRunner: table shape, exact timings from a scripted clock, interleaving, cache states,
correctness gate, commands, configured systems, errors, history durability, progress output."""

from __future__ import annotations

import logging
import math
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from rrperf.bench.history import HistoryStore
from rrperf.bench.results import MEASUREMENT_COLUMNS, MEASUREMENT_DTYPES
from rrperf.bench.runner import BenchmarkRunner
from rrperf.bench.systems import (
    Command,
    PipelineSystem,
    RunOutcome,
    available_strategies,
    default_strategy,
)
from rrperf.config import RrperfConfig, load_config
from rrperf.engine.stages import Pipeline, Stage
from rrperf.errors import BenchmarkError, ConfigError, StabilityWarning
from rrperf.generator.digest import output_digest

# Tiny workloads are always "too short" for pyperf-style checks; one test below asserts the
# warnings, the others silence them.
pytestmark = pytest.mark.filterwarnings("ignore::rrperf.errors.StabilityWarning")

SCHEMA_A = """ActiveRecord::Schema[7.1].define(version: 2024_01_01_000000) do
  create_table "users", force: :cascade do |t|
    t.string "name"
  end
end
"""
SCHEMA_B = """ActiveRecord::Schema[7.1].define(version: 2024_01_02_000000) do
  create_table "posts", force: :cascade do |t|
    t.string "title"
    t.bigint "user_id"
  end

  create_table "users", force: :cascade do |t|
    t.string "name"
  end
end
"""


# --- systems used by the tests (module level, so isolated workers can unpickle them) ---------


def _write_if_changed(path: Path, text: str) -> None:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.write_text(text, encoding="utf-8")


def copy_system(source: str, out_dir: Path) -> None:
    """Writes two files derived from the schema, only when they change."""
    text = Path(source).read_text(encoding="utf-8")
    _write_if_changed(out_dir / "schema.txt", text)
    _write_if_changed(out_dir / "size.txt", str(len(text)))


def other_copy_system(source: str, out_dir: Path) -> None:
    """Same output as copy_system, written another way."""
    text = Path(source).read_text(encoding="utf-8")
    (out_dir / "size.txt").write_text(str(len(text)), encoding="utf-8")
    (out_dir / "schema.txt").write_text(text, encoding="utf-8")


def wrong_system(source: str, out_dir: Path) -> None:
    """Different output: must be flagged by the correctness gate."""
    (out_dir / "schema.txt").write_text("something else", encoding="utf-8")
    (out_dir / "size.txt").write_text("0", encoding="utf-8")


def memory_system(source: str, out_dir: Path) -> None:
    block = b"x" * (64 * 1024 * 1024)  # written bytes, so the pages are resident
    (out_dir / "n.txt").write_text(str(len(block)), encoding="utf-8")
    del block


class CountingSystem:
    """A System (protocol) reporting its own counts and recording prepare/run calls."""

    supports_strategies = False

    def __init__(self, name: str = "counting") -> None:
        self.name = name
        self.calls: list[tuple[str, str]] = []
        self.entries_at_start: list[list[str]] = []

    def prepare(self, cache_state: str) -> None:
        self.calls.append(("prepare", cache_state))

    def run(self, source: str, out_dir: Path, *, context: object) -> RunOutcome:
        self.entries_at_start.append(sorted(os.listdir(out_dir)))
        self.calls.append(("run", Path(source).name))
        (out_dir / "one.txt").write_text("1", encoding="utf-8")
        return RunOutcome(
            n_tables=7, files_total=1, files_written=1, files_unchanged=0,
            cache_hits=3, cache_misses=4, output_digest="d" * 64,
        )

    def reset(self) -> None:
        self.calls.append(("reset", ""))


class ScriptedClock:
    """Returns 10*k at the k-th start and 10*k + 0.25*(k+1) at the k-th stop."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.fail_after = fail_after

    def __call__(self) -> float:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("clock broke")
        k, stop = divmod(self.calls, 2)
        self.calls += 1
        return 10.0 * k + (0.25 * (k + 1) if stop else 0.0)


@pytest.fixture
def schemas(tmp_path: Path) -> tuple[str, str]:
    a = tmp_path / "schemas" / "a_schema.rb"
    b = tmp_path / "schemas" / "b_schema.rb"
    a.parent.mkdir()
    a.write_text(SCHEMA_A, encoding="utf-8")
    b.write_text(SCHEMA_B, encoding="utf-8")
    return str(a), str(b)


def make_runner(tmp_path: Path, **kws: object) -> BenchmarkRunner:
    opts: dict[str, object] = {
        "iterations": 2, "warmup": 1, "progress": False, "seed": 7,
        "config": RrperfConfig(), "output_dir": tmp_path / "out",
    }
    opts.update(kws)
    runner = BenchmarkRunner(**opts)  # type: ignore[arg-type]
    runner.register_system("copy", copy_system)
    runner.register_system("copy2", other_copy_system)
    return runner


# --- shape -------------------------------------------------------------------------------------


def test_rows_columns_dtypes_and_count(tmp_path: Path, schemas: tuple[str, str]) -> None:
    runner = make_runner(tmp_path)
    result = runner.run_comparative_benchmark(
        schemas, systems=("copy", "copy2"), cache_states=("cold", "warm")
    )
    data = result.data
    # 2 scenarios x 2 variants x (1 warm-up + 2 iterations) x 2 cache states
    assert len(data) == 2 * 2 * 3 * 2
    assert tuple(data.columns) == MEASUREMENT_COLUMNS
    assert {c: str(t) for c, t in data.dtypes.items()} == MEASUREMENT_DTYPES
    assert data["run_id"].nunique() == 1
    assert data["warmup"].tolist().count(True) == 2 * 2 * 1 * 2
    assert sorted(set(data["iteration"])) == [0, 1, 2]
    assert data.loc[data["iteration"] == 0, "warmup"].all()
    assert not data.loc[data["iteration"] > 0, "warmup"].any()
    assert set(data["strategy"]) == {""}
    assert data["error"].isna().all()
    # schema A has 1 table, B 2 (counted from the schema for callables)
    assert data.groupby("scenario")["n_tables"].unique().map(list).to_dict() == {
        schemas[0]: [1], schemas[1]: [2],
    }
    assert (data["peak_rss_mb"] > 0).all()
    assert (data["cpu_s"] >= 0).all()
    assert result.metadata["run_id"].tolist() == [data["run_id"].iloc[0]]
    assert result.baseline == "copy"


def test_exact_wall_times_from_injected_clock(tmp_path: Path, schemas: tuple[str, str]) -> None:
    clock = ScriptedClock()
    runner = make_runner(tmp_path, clock=clock)
    result = runner.run_comparative_benchmark(schemas[0], systems=("copy", "copy2"))
    # 2 variants x 3 rounds, run in table order; iteration k lasted 0.25 * (k + 1) s
    assert result.data["wall_s"].tolist() == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5]
    assert clock.calls == 12


def test_system_reported_counts_are_used(tmp_path: Path, schemas: tuple[str, str]) -> None:
    runner = make_runner(tmp_path, warmup=0, iterations=1)
    runner.register_system("counting", CountingSystem())
    row = runner.run_comparative_benchmark(schemas[0], systems="counting").data.iloc[0]
    assert (row["n_tables"], row["files_total"], row["files_written"], row["files_unchanged"],
            row["cache_hits"], row["cache_misses"], row["output_digest"]) == (
        7, 1, 1, 0, 3, 4, "d" * 64)


# --- interleaving ------------------------------------------------------------------------------


def _orders(result_data: pd.DataFrame) -> list[tuple[str, ...]]:
    out = []
    for _, part in result_data.groupby(["scenario", "cache_state", "iteration"], sort=True):
        out.append(tuple(part.sort_values("order")["system"]))
    return out


def test_interleaving_is_a_seeded_permutation_per_round(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    def run(seed: int) -> pd.DataFrame:
        runner = make_runner(tmp_path, seed=seed, iterations=3)
        runner.register_system("copy3", other_copy_system)
        return runner.run_comparative_benchmark(
            schemas[0], systems=("copy", "copy2", "copy3")
        ).data

    first, again, other = run(1), run(1), run(2)
    for _, part in first.groupby(["scenario", "cache_state", "iteration"]):
        assert sorted(part["order"]) == [0, 1, 2]
        assert sorted(part["system"]) == ["copy", "copy2", "copy3"]
    # rows are in execution order: order counts 0, 1, 2 within each round
    assert first["order"].tolist() == [0, 1, 2] * 4
    assert _orders(first) == _orders(again)
    assert _orders(first) != _orders(other)
    assert len(set(_orders(first))) > 1  # not the same order every round


# --- cache states ------------------------------------------------------------------------------


def test_cold_starts_empty_and_warm_writes_nothing_after_warmup(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    runner = make_runner(tmp_path, iterations=3)
    result = runner.run_comparative_benchmark(
        schemas[0], systems="copy", cache_states=("cold", "warm")
    )
    data = result.data
    cold = data[data["cache_state"] == "cold"]
    assert cold["files_total"].tolist() == [2, 2, 2, 2]
    assert cold["files_written"].tolist() == [2, 2, 2, 2]
    warm = data[data["cache_state"] == "warm"]
    assert warm["warmup"].tolist() == [True, False, False, False]
    assert warm["files_written"].tolist() == [2, 0, 0, 0]
    assert warm["files_unchanged"].tolist() == [0, 2, 2, 2]
    assert data["output_digest"].nunique() == 1


def test_cold_folder_is_emptied_and_caches_cleared(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    system = CountingSystem()
    runner = make_runner(tmp_path)
    runner.register_system("counting", system)
    runner.run_comparative_benchmark(schemas[0], systems="counting", cache_states=("cold", "warm"))
    # cold: every run saw an empty folder; warm: only the warm-up did
    assert system.entries_at_start == [[], [], [], [], ["one.txt"], ["one.txt"]]
    assert [c for c in system.calls if c[0] == "prepare"] == (
        [("prepare", "cold")] * 3 + [("prepare", "warm")] * 3
    )
    assert system.calls[-1] == ("reset", "")


# --- correctness gate --------------------------------------------------------------------------


def test_correctness_gate_flags_and_excludes_a_different_output(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    runner = make_runner(tmp_path)
    runner.register_system("wrong", wrong_system)
    result = runner.run_comparative_benchmark(schemas[0], systems=("copy", "copy2", "wrong"))
    corr = result.correctness.set_index("system")
    assert result.baseline == "copy"
    assert corr.loc["copy2", "matches_baseline"] == True  # noqa: E712 (nullable boolean)
    assert corr.loc["wrong", "matches_baseline"] == False  # noqa: E712
    assert corr.loc["wrong", "note"] == "output differs from the baseline"
    assert corr.loc["copy2", "output_digest"] == corr.loc["copy2", "baseline_digest"]
    compared = result.compare()
    assert "wrong" not in set(compared["system"])
    assert "copy2" in set(compared["system"])


# --- commands ----------------------------------------------------------------------------------


COPY_CMD = (
    f"{sys.executable} -c \"import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])\" "
    "{schema} {out}"
)


def test_command_system_with_schema_and_out_placeholders(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    runner = make_runner(tmp_path, warmup=0, iterations=1)
    runner.register_system("cmd", Command(COPY_CMD))
    data = runner.run_comparative_benchmark(schemas[0], systems="cmd").data
    row = data.iloc[0]
    assert pd.isna(row["error"])
    assert (row["files_total"], row["files_written"], row["n_tables"]) == (1, 1, 1)
    expected = tmp_path / "expected"
    expected.mkdir()
    (expected / "a_schema.rb").write_text(SCHEMA_A, encoding="utf-8")
    assert row["output_digest"] == output_digest(expected)
    # the child's own peak memory: a Python interpreter needs several MiB
    assert row["peak_rss_mb"] > 1
    assert not math.isnan(row["cpu_s"])


def test_failing_command_records_error_and_run_continues(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    runner = make_runner(tmp_path)
    failing = (
        f"{sys.executable} -c \"import sys; sys.stderr.write('first\\nboom: last line\\n'); "
        "sys.exit(3)\""
    )
    runner.register_system("bad", failing)
    data = runner.run_comparative_benchmark(schemas[0], systems=("copy", "bad")).data
    assert len(data) == 6
    bad = data[data["system"] == "bad"]
    assert bad["error"].tolist() == ["exit 3: boom: last line"] * 3
    assert bad["wall_s"].isna().all()
    assert bad["output_digest"].isna().all()
    assert data.loc[data["system"] == "copy", "error"].isna().all()


def test_systems_declared_in_rrperf_toml(tmp_path: Path, schemas: tuple[str, str]) -> None:
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "app" / "extra.txt").write_text("from cwd", encoding="utf-8")
    # cwd is relative to the configuration file; the command reads a file relative to it
    (project / "rrperf.toml").write_text(
        "[systems.copier]\n"
        f"command = '''{sys.executable} -c \"import shutil, sys; "
        "shutil.copy('extra.txt', sys.argv[1])\" {out}'''\n"
        'cwd = "app"\n',
        encoding="utf-8",
    )
    config = load_config(project / "rrperf.toml", env={})
    runner = make_runner(tmp_path, config=config, warmup=0, iterations=1)
    assert runner.systems == ("legacy", "pipeline", "copier", "copy", "copy2")
    system = runner.system("copier")
    assert isinstance(system, Command)
    assert system.cwd == str(project / "app")
    row = runner.run_comparative_benchmark(schemas[0], systems="copier").data.iloc[0]
    assert pd.isna(row["error"])
    out = tmp_path / "out"
    copied = [p for p in out.rglob("extra.txt")]
    assert [p.read_text(encoding="utf-8") for p in copied] == ["from cwd"]


def test_pipeline_factory_and_callable_returning_pipeline(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    def factory(source: str, out_dir: Path) -> Pipeline:
        read = Stage("read", lambda: Path(source).read_text(encoding="utf-8"))
        write = Stage(
            "write", lambda read: (out_dir / "s.txt").write_text(read, encoding="utf-8"),
            depends_on=("read",),
        )
        return Pipeline([read, write])

    runner = make_runner(tmp_path, warmup=0, iterations=1)
    runner.register_system("staged", PipelineSystem(factory, name="staged"))
    runner.register_system("returns_pipeline", factory)
    runner.register_system("not_a_pipeline", PipelineSystem(copy_system, name="not_a_pipeline"))
    data = runner.run_comparative_benchmark(
        schemas[0], systems=("staged", "returns_pipeline", "not_a_pipeline")
    ).data.set_index("system")
    assert data.loc["staged", "files_written"] == 1
    assert data.loc["returns_pipeline", "output_digest"] == data.loc["staged", "output_digest"]
    assert data.loc["not_a_pipeline", "error"] == (
        "system 'not_a_pipeline': the factory must return a Pipeline, got NoneType"
    )


# --- errors ------------------------------------------------------------------------------------


def test_unknown_names_raise_before_anything_runs(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    system = CountingSystem()
    runner = make_runner(tmp_path)
    runner.register_system("counting", system)
    with pytest.raises(ConfigError, match=r"unknown system 'nope'; expected one of: legacy, "
                       r"pipeline, copy, copy2, counting$"):
        runner.run_comparative_benchmark(schemas[0], systems=("counting", "nope"))
    with pytest.raises(ConfigError, match=r"unknown cache state 'hot'; expected one of: cold, "
                       r"warm$"):
        runner.run_comparative_benchmark(schemas[0], systems="counting", cache_states="hot")
    offered = available_strategies()
    strategy_error = (
        rf"unknown strategy 'fastest'; expected one of: {', '.join(offered)}$" if offered
        else r"strategies fastest were asked, but this installation offers none"
    )
    with pytest.raises(ConfigError, match=strategy_error):
        runner.run_comparative_benchmark(schemas[0], systems="pipeline", strategies="fastest")
    with pytest.raises(ConfigError, match="none of the systems counting runs strategies"):
        runner.run_comparative_benchmark(
            schemas[0], systems="counting", strategies="sequential"
        )
    with pytest.raises(BenchmarkError, match=r"unknown scenario 'no_such'; expected one of: "
                       r".*small.*synthetic:N\[:key=value\.\.\.\]"):
        runner.run_comparative_benchmark((schemas[0], "no_such"), systems="counting")
    assert system.calls == []
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("kws", "message"),
    [
        ({"iterations": 0}, r"iterations must be an integer >= 1, got 0"),
        ({"warmup": -1}, r"warmup must be an integer >= 0, got -1"),
        ({"iterations": True}, r"iterations must be an integer >= 1, got True"),
        ({"seed": "x"}, r"seed must be an integer or None, got 'x'"),
        ({"clock": 3}, r"clock must be a callable returning seconds, got 3"),
        ({"progress": "no"}, r"progress must be True or False, got 'no'"),
        ({"history": 5}, r"history must be a HistoryStore or a path, got int"),
    ],
)
def test_invalid_arguments(tmp_path: Path, kws: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_runner(tmp_path, **kws)


def test_register_system_rejects_unknown_kinds(tmp_path: Path) -> None:
    runner = make_runner(tmp_path)
    with pytest.raises(ConfigError, match=r"system 'x': expected a System, Command, command "
                       r"string or callable, got int"):
        runner.register_system("x", 42)


# --- history, progress, logging ----------------------------------------------------------------


class RecordingStore(HistoryStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.events: list[str] = []

    def append_iteration(self, run_id: str, row: object) -> None:  # type: ignore[override]
        super().append_iteration(run_id, row)  # type: ignore[arg-type]
        # durability: the row is committed and visible to another connection at once
        with HistoryStore(self.path) as other:
            n = int(other.list_runs()["n_rows"].iloc[0])
        self.events.append(f"append {n}")

    def finish_run(self, run_id: str, status: str = "complete") -> None:
        super().finish_run(run_id, status)
        self.events.append(f"finish {status}")


def test_history_gets_every_iteration_as_it_runs(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    with RecordingStore(tmp_path / "h.sqlite") as store:
        runner = make_runner(tmp_path, history=store, name="nightly")
        result = runner.run_comparative_benchmark(schemas[0], systems=("copy", "copy2"))
        assert store.events == [f"append {n}" for n in range(1, 7)] + ["finish complete"]
        runs = store.list_runs()
        assert runs[["name", "status", "n_rows"]].values.tolist() == [["nightly", "complete", 6]]
        loaded = store.load_run("nightly")
    pd.testing.assert_frame_equal(loaded.data, result.data)


def test_history_marks_a_crashed_run_failed(tmp_path: Path, schemas: tuple[str, str]) -> None:
    path = tmp_path / "h.sqlite"
    runner = make_runner(tmp_path, history=path, clock=ScriptedClock(fail_after=6))
    with pytest.raises(RuntimeError, match="clock broke"):
        runner.run_comparative_benchmark(schemas[0], systems=("copy", "copy2"))
    with HistoryStore(path) as store:
        runs = store.list_runs()
    assert runs[["status", "n_rows"]].values.tolist() == [["failed", 3]]


def test_progress_false_prints_nothing(
    tmp_path: Path, schemas: tuple[str, str], capfd: pytest.CaptureFixture[str]
) -> None:
    make_runner(tmp_path).run_comparative_benchmark(schemas[0], systems=("copy", "copy2"))
    assert capfd.readouterr() == ("", "")


def test_verbose_logs_one_info_line_per_iteration(
    tmp_path: Path, schemas: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    runner = make_runner(tmp_path, verbose=True, clock=ScriptedClock())
    with caplog.at_level(logging.INFO, logger="rrperf.bench.runner"):
        runner.run_comparative_benchmark(schemas[0], systems="copy")
    lines = [r.getMessage() for r in caplog.records if r.name == "rrperf.bench.runner"]
    assert lines == [
        f"{schemas[0]} copy cold round 0 (warm-up): 0.2500 s, 2/2 files written",
        f"{schemas[0]} copy cold round 1: 0.5000 s, 2/2 files written",
        f"{schemas[0]} copy cold round 2: 0.7500 s, 2/2 files written",
    ]


# --- memory and isolation ----------------------------------------------------------------------


def test_peak_memory_is_per_iteration(tmp_path: Path, schemas: tuple[str, str]) -> None:
    runner = make_runner(tmp_path, warmup=0, iterations=1)
    runner.register_system("memory", memory_system)
    data = runner.run_comparative_benchmark(schemas[0], systems=("copy", "memory")).data
    peak = data.set_index("system")["peak_rss_mb"]
    assert peak["memory"] - peak["copy"] >= 60


def test_isolated_iterations_run_in_worker_processes(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    runner = make_runner(tmp_path, warmup=0, iterations=2, isolate=True)
    data = runner.run_comparative_benchmark(schemas[0], systems="copy").data
    assert data["error"].isna().all()
    assert data["files_written"].tolist() == [2, 2]
    assert data["wall_s"].notna().all()
    assert data["output_digest"].nunique() == 1


@pytest.mark.filterwarnings("error::rrperf.errors.StabilityWarning")
def test_unstable_measurements_warn_and_are_listed(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    runner = make_runner(tmp_path, clock=ScriptedClock())
    with pytest.warns(StabilityWarning, match=r"wall_s varies by 28\.3% \(std/mean\)"):
        result = runner.run_comparative_benchmark(schemas[0], systems="copy")
    checks = result.stability()
    assert checks["check"].tolist() == ["high_cv", "too_few_iterations"]


# --- built-in systems --------------------------------------------------------------------------


def test_builtin_legacy_and_pipeline_on_small(tmp_path: Path) -> None:
    runner = BenchmarkRunner(
        iterations=1, warmup=1, progress=False, seed=3, config=RrperfConfig(),
        cache_dir=tmp_path / "cache",
    )
    result = runner.benchmark_scenario("small", cache_states=("cold", "warm"))
    data = result.data
    assert len(data) == 2 * 2 * 2
    assert set(data["n_tables"]) == {4}
    assert data["error"].isna().all()
    assert data.loc[data["system"] == "legacy", "strategy"].tolist() == [""] * 4
    assert set(data.loc[data["system"] == "pipeline", "strategy"]) == {default_strategy()}
    measured_warm = data[(data["cache_state"] == "warm") & ~data["warmup"]].set_index("system")
    total = int(measured_warm.loc["pipeline", "files_total"])
    # the pipeline writes only changed files; legacy rewrites every file
    assert measured_warm.loc["pipeline", "files_written"] == 0
    assert measured_warm.loc["pipeline", "files_unchanged"] == total
    assert measured_warm.loc["legacy", "files_written"] == total
    cold = data[data["cache_state"] == "cold"]
    assert (cold["files_written"] == cold["files_total"]).all()
    assert result.baseline == "legacy"
    assert result.correctness["matches_baseline"].tolist() == [True]
    assert data["output_digest"].nunique() == 1
