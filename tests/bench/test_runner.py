"""BenchmarkRunner: table shape, exact timings from a scripted clock, interleaving, cache states,
correctness gate, commands, configured systems, errors, history durability, progress output."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import pickle
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rrperf.bench.history import HistoryStore
from rrperf.bench.results import MEASUREMENT_COLUMNS, MEASUREMENT_DTYPES, warnings_frame
from rrperf.bench.runner import BenchmarkRunner, IterationEvent
from rrperf.bench.scenarios import resolve_scenario
from rrperf.bench.systems import (
    Command,
    GeneratorSystem,
    PipelineSystem,
    RunContext,
    RunOutcome,
    available_strategies,
    default_strategy,
    strategy_label,
)
from rrperf.config import RrperfConfig, load_config
from rrperf.engine.stages import Pipeline, Stage
from rrperf.engine.strategies import Strategy, get_strategy
from rrperf.errors import (
    BenchmarkError,
    ConfigError,
    FallbackWarning,
    SchemaWarning,
    StabilityWarning,
)
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


INET = "t.ip: column type 'inet' has no TypeScript mapping; typed as unknown"


def warning_system(source: str, out_dir: Path) -> None:
    """copy_system that warns on every run, as the generator does for an unmapped type."""
    warnings.warn(INET, SchemaWarning, stacklevel=2)
    copy_system(source, out_dir)


def mixed_warning_system(source: str, out_dir: Path) -> None:
    """Warns twice per run with one RrperfWarning and once with a plain UserWarning."""
    warnings.warn(INET, SchemaWarning, stacklevel=2)
    warnings.warn(INET, SchemaWarning, stacklevel=2)
    warnings.warn("plain <user> warning", UserWarning, stacklevel=1)
    copy_system(source, out_dir)


class WarningPrepareSystem:
    """A System whose set-up warns (a FallbackWarning per prepare)."""

    name = "prep"
    supports_strategies = False

    def prepare(self, cache_state: str) -> None:
        warnings.warn(f"{cache_state} caches off", FallbackWarning, stacklevel=2)

    def run(self, source: str, out_dir: Path, *, context: object) -> RunOutcome:
        (out_dir / "one.txt").write_text("1", encoding="utf-8")
        return RunOutcome(n_tables=1, files_total=1, files_written=1, files_unchanged=0)

    def reset(self) -> None:
        pass


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
        "a_schema": [1], "b_schema": [2],  # a path's label is its file stem
    }
    # the memory the iteration took (peak RSS above its start): small, never negative
    assert (data["peak_rss_mb"] >= 0).all() and data["peak_rss_mb"].notna().all()
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


def test_garbage_is_collected_before_every_timed_iteration(
    tmp_path: Path, schemas: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    from rrperf.bench import runner as runner_module

    events: list[str] = []
    clock = ScriptedClock()

    def collect(generation: int = 2) -> int:
        events.append(f"collect({generation})")
        return 0

    def timed() -> float:
        events.append("clock")
        return clock()

    monkeypatch.setattr(runner_module.gc, "collect", collect)
    runner = make_runner(tmp_path, clock=timed)
    runner.run_comparative_benchmark(schemas[0], systems=("copy", "copy2"))
    # 6 iterations (warm-up included): a collection, then the two clock readings
    assert events == ["collect(1)", "clock", "clock"] * 6
    assert gc.collect is collect


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


def test_runner_reads_no_rrperf_toml_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the library takes its configuration explicitly; only the CLI finds the file
    (tmp_path / "rrperf.toml").write_text("[systems.x]\ncommand = 'true'\n[cache\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    runner = BenchmarkRunner()
    assert runner.config == RrperfConfig()
    assert runner.systems == ("legacy", "pipeline")


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
    with pytest.raises(BenchmarkError, match=r"unknown scenario 'no_such' \(and no such file\); "
                       r"valid names: .*small.*synthetic:N\[:key=value\.\.\.\]"):
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
        ({"on_iteration": "log"}, r"^on_iteration must be a callable taking an IterationEvent "
         r"or None, got 'log'$"),
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

    def finish_run(self, run_id: str, status: str = "complete", **kws: Any) -> None:
        super().finish_run(run_id, status, **kws)
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


def test_on_iteration_reports_each_iteration_in_order(tmp_path: Path) -> None:
    events: list[IterationEvent] = []
    # scenario "small", one system, warmup=1 + iterations=2: three events
    runner = make_runner(tmp_path, clock=ScriptedClock(), on_iteration=events.append)
    result = runner.run_comparative_benchmark("small", systems="copy")
    assert [(e.done, e.total) for e in events] == [(1, 3), (2, 3), (3, 3)]
    assert {e.row["scenario"] for e in events} == {"small"}
    assert [(e.row["iteration"], e.row["warmup"], e.row["wall_s"]) for e in events] == [
        (0, True, 0.25), (1, False, 0.5), (2, False, 0.75),
    ]
    # each event carries the iteration's row of the result, read-only
    expected = result.data.to_dict("records")
    for event, row in zip(events, expected, strict=True):
        assert dict(event.row).keys() == row.keys()
        assert event.row["run_id"] == row["run_id"]
        assert event.row["output_digest"] == row["output_digest"]
    with pytest.raises(TypeError):
        events[0].row["wall_s"] = 0.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].done = 9  # type: ignore[misc]


def test_on_iteration_total_counts_every_planned_iteration(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    seen: list[tuple[int, int, str, str]] = []

    def record(e: IterationEvent) -> None:
        seen.append((e.done, e.total, e.row["system"], e.row["cache_state"]))

    runner = make_runner(tmp_path, warmup=0, iterations=1, on_iteration=record)
    runner.run_comparative_benchmark(
        schemas, systems=("copy", "copy2"), cache_states=("cold", "warm")
    )
    # 2 scenarios x 2 cache states x 1 round x 2 variants, in the order they ran
    assert [(d, t) for d, t, _, _ in seen] == [(n, 8) for n in range(1, 9)]
    assert [c for _, _, _, c in seen] == ["cold", "cold", "warm", "warm"] * 2
    assert sorted(s for _, _, s, _ in seen) == ["copy"] * 4 + ["copy2"] * 4


def test_on_iteration_sees_the_row_already_in_history(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    path = tmp_path / "h.sqlite"
    stored: list[int] = []

    def check(event: IterationEvent) -> None:
        with HistoryStore(path) as other:
            stored.append(int(other.list_runs()["n_rows"].iloc[0]))

    make_runner(tmp_path, history=path, on_iteration=check).run_comparative_benchmark(
        schemas[0], systems="copy"
    )
    assert stored == [1, 2, 3]


def test_on_iteration_exception_ends_the_run_and_propagates(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    system = CountingSystem()
    path = tmp_path / "h.sqlite"

    def stop_after_two(event: IterationEvent) -> None:
        if event.done == 2:
            raise KeyboardInterrupt("stop")

    runner = make_runner(tmp_path, history=path, on_iteration=stop_after_two)
    runner.register_system("counting", system)
    with pytest.raises(KeyboardInterrupt, match="stop"):
        runner.run_comparative_benchmark(schemas[0], systems="counting")
    assert [c for c, _ in system.calls] == ["prepare", "run", "prepare", "run", "reset"]
    with HistoryStore(path) as store:
        runs = store.list_runs()
    assert runs[["status", "n_rows"]].values.tolist() == [["failed", 2]]


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
        "a_schema copy cold round 0 (warm-up): 0.2500 s, 2/2 files written",
        "a_schema copy cold round 1: 0.5000 s, 2/2 files written",
        "a_schema copy cold round 2: 0.7500 s, 2/2 files written",
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


# --- strategy objects --------------------------------------------------------------------------


def _tuned(name: str, **changes: Any) -> Strategy:
    return dataclasses.replace(get_strategy(name), **changes)


def test_strategy_label_names_the_fields_that_differ() -> None:
    assert strategy_label("balanced") == "balanced"
    assert strategy_label(get_strategy("parallel")) == "parallel"
    assert strategy_label(_tuned("parallel", workers=1)) == "parallel[workers=1]"
    assert strategy_label(_tuned("parallel")) == "parallel"  # an equal copy is the original
    assert strategy_label(
        _tuned("sequential", ttl_multiplier=3.0, monitoring=False, cache_disk=frozenset())
    ) == "sequential[cache_disk={},ttl_multiplier=3.0,monitoring=False]"
    assert strategy_label(
        _tuned("minimal", cache_memory={"type_mapping", "relationships"})
    ) == "minimal[cache_memory={relationships,type_mapping}]"
    own = Strategy("mine", "serial", 1, cache_memory=frozenset(), cache_disk=frozenset())
    assert strategy_label(own) == "mine"
    with pytest.raises(ConfigError, match=r"^a strategy must be a registered name or an "
                       r"rrperf\.engine\.strategies\.Strategy, got int 3$"):
        strategy_label(3)  # type: ignore[arg-type]


def test_runner_accepts_customized_strategy_objects(tmp_path: Path) -> None:
    tuned = _tuned("sequential", ttl_multiplier=4.0)
    parallel1 = _tuned("parallel", workers=1)
    runner = BenchmarkRunner(
        iterations=1, warmup=0, progress=False, seed=5, config=RrperfConfig(),
        cache_dir=tmp_path / "cache", output_dir=tmp_path / "out",
    )
    _, variants, _ = runner.plan(
        "small", systems="pipeline", strategies=[tuned, "sequential", parallel1]
    )
    assert [(v.system, v.strategy, v.spec) for v in variants] == [
        ("pipeline", "sequential[ttl_multiplier=4.0]", tuned),
        ("pipeline", "sequential", None),
        ("pipeline", "parallel[workers=1]", parallel1),
    ]
    result = runner.run_comparative_benchmark(
        "small", systems=("legacy", "pipeline"), strategies=[tuned, "sequential", parallel1]
    )
    data = result.data
    assert data["error"].isna().all()
    assert sorted(data.loc[data["system"] == "pipeline", "strategy"]) == [
        "parallel[workers=1]", "sequential", "sequential[ttl_multiplier=4.0]",
    ]
    # every variant is a real pipeline run with its own (cold) cache, and matches legacy
    assert data.loc[data["system"] == "pipeline", "cache_misses"].gt(0).all()
    assert result.correctness["matches_baseline"].tolist() == [True, True, True]
    assert data["output_digest"].nunique() == 1
    assert sorted(p.name for p in (tmp_path / "out" / "small" / "cold").iterdir()) == [
        "legacy", "pipeline_parallel_workers_1-" + _sha8("pipeline/parallel[workers=1]"),
        "pipeline_sequential-" + _sha8("pipeline/sequential"),
        "pipeline_sequential_ttl_multiplier_4.0-"
        + _sha8("pipeline/sequential[ttl_multiplier=4.0]"),
    ]


def _sha8(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def test_generator_system_keeps_one_context_per_strategy_object(tmp_path: Path) -> None:
    tuned = _tuned("sequential", ttl_multiplier=4.0)
    system = GeneratorSystem("pipeline", cache_dir=tmp_path / "cache")
    scenario = resolve_scenario("small")
    context = RunContext(
        scenario, strategy_label(tuned), "cold", tmp_path / "work", strategy_spec=tuned
    )
    assert context.strategy_arg is tuned
    assert pickle.loads(pickle.dumps(context)) == context  # crosses to isolated workers
    try:
        outcome = system.run(scenario.source, tmp_path / "out", context=context)
        assert system.context(tuned).strategy is tuned
        assert system.context("sequential").strategy is get_strategy("sequential")
        assert system.context(tuned) is not system.context("sequential")
        folders = sorted(p.name for p in (tmp_path / "cache" / "pipeline").iterdir())
        assert folders == [
            "sequential", "sequential_ttl_multiplier_4.0-"
            + _sha8("sequential[ttl_multiplier=4.0]"),
        ]
    finally:
        system.reset()
    assert outcome.n_tables == 4
    assert outcome.cache_misses > 0
    assert RunContext(scenario, "minimal", "cold", tmp_path).strategy_arg == "minimal"


@pytest.mark.parametrize(
    ("strategies", "error", "message"),
    [
        (["sequential", _tuned("sequential")], ConfigError,
         r"^strategies: each strategy once, got duplicates sequential$"),
        ([_tuned("parallel", workers=1), _tuned("parallel", workers=1)], ConfigError,
         r"^strategies: each strategy once, got duplicates parallel\[workers=1\]$"),
        ([3], ConfigError, r"^strategies: expected names or rrperf\.engine\.strategies\."
         r"Strategy objects, got int 3$"),
        ([""], ConfigError, r"^strategies: expected non-empty names, got ''$"),
        ([], ConfigError, r"^strategies: expected at least one name, got none$"),
    ],
)
def test_bad_strategy_lists_are_refused(
    tmp_path: Path, strategies: list[Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as info:
        make_runner(tmp_path).plan("small", systems="pipeline", strategies=strategies)
    if strategies == [3]:
        assert isinstance(info.value.__cause__, ConfigError)


def test_single_strategy_object_and_unknown_names_beside_objects(tmp_path: Path) -> None:
    runner = make_runner(tmp_path)
    tuned = _tuned("minimal", ttl_multiplier=2.0)
    _, variants, _ = runner.plan("small", systems="pipeline", strategies=tuned)
    assert [v.label for v in variants] == ["pipeline/minimal[ttl_multiplier=2.0]"]
    with pytest.raises(ConfigError, match=r"^unknown strategy 'fastest'; expected one of"):
        runner.plan("small", systems="pipeline", strategies=[tuned, "fastest"])
    with pytest.raises(ConfigError, match=r"^strategies minimal\[ttl_multiplier=2\.0\] were "
                       r"given, but none of the systems copy runs strategies"):
        runner.plan("small", systems="copy", strategies=tuned)


# --- warnings raised during iterations ---------------------------------------------------------


def _own(record: Any) -> list[warnings.WarningMessage]:
    """The warnings of a record other than the runner's StabilityWarnings."""
    return [w for w in record if w.category is not StabilityWarning]


def _warning_rows(*rows: tuple[str, str, str, str, str, int, int]) -> pd.DataFrame:
    cols = ("scenario", "system", "strategy", "category", "message", "count", "first_iteration")
    return warnings_frame(dict(zip(cols, row, strict=True)) for row in rows)


def test_warnings_are_recorded_counted_and_reemitted_once(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    clock = ScriptedClock()
    runner = make_runner(tmp_path, clock=clock)
    runner.register_system("warn", warning_system)
    with pytest.warns(SchemaWarning) as record:
        result = runner.run_comparative_benchmark(
            schemas[0], systems=("copy", "warn"), cache_states=("cold", "warm")
        )
    # (1 warm-up + 2 iterations) x 2 cache states, one warning each; copy never warns
    pd.testing.assert_frame_equal(
        result.warnings, _warning_rows(("a_schema", "warn", "", "SchemaWarning", INET, 6, 0))
    )
    own = _own(record)
    assert [(w.category, str(w.message)) for w in own] == [(SchemaWarning, INET)]
    # it points at the caller of run_comparative_benchmark: this test
    assert own[0].filename == __file__
    # recording costs no clock reads: two per iteration, as without warnings
    assert clock.calls == 2 * 12
    assert result.data["error"].isna().all()


def test_benchmark_scenario_reemits_at_its_caller(tmp_path: Path, schemas: tuple[str, str]) -> None:
    runner = make_runner(tmp_path, warmup=0, iterations=1)
    runner.register_system("warn", warning_system)
    with pytest.warns(SchemaWarning, match=r"^t\.ip: column type 'inet'") as record:
        result = runner.benchmark_scenario(schemas[0], systems="warn")
    own = _own(record)
    assert len(own) == 1 and own[0].filename == __file__
    assert result.warnings["count"].tolist() == [1]


def test_distinct_warnings_per_variant_and_other_categories(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    runner = make_runner(tmp_path, warmup=1, iterations=1)
    runner.register_system("mixed", mixed_warning_system)
    runner.register_system("warn", warning_system)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = runner.run_comparative_benchmark(schemas, systems=("mixed", "warn"))
    a, b = "a_schema", "b_schema"  # the labels: the files' stems
    expected = _warning_rows(
        *[(scenario, "mixed", "", "SchemaWarning", INET, 4, 0) for scenario in (a,)],
        (a, "mixed", "", "UserWarning", "plain <user> warning", 2, 0),
        (a, "warn", "", "SchemaWarning", INET, 2, 0),
        (b, "mixed", "", "SchemaWarning", INET, 4, 0),
        (b, "mixed", "", "UserWarning", "plain <user> warning", 2, 0),
        (b, "warn", "", "SchemaWarning", INET, 2, 0),
    )
    got = result.warnings.sort_values(["scenario", "system", "category"], ignore_index=True)
    pd.testing.assert_frame_equal(got, expected)
    # each distinct (category, message) once, in the order first raised; the UserWarning
    # unchanged, where it was raised
    assert [(w.category, str(w.message)) for w in _own(record)] == [
        (SchemaWarning, INET), (UserWarning, "plain <user> warning"),
    ]
    plain = next(w for w in record if w.category is UserWarning)
    assert plain.filename == __file__
    assert plain.lineno == mixed_warning_system.__code__.co_firstlineno + 4
    schema = next(w for w in record if w.category is SchemaWarning)
    assert schema.filename == __file__ and schema.lineno != plain.lineno


def test_setup_warnings_are_recorded_with_their_first_iteration(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    runner = make_runner(tmp_path, warmup=1, iterations=2)
    runner.register_system("prep", WarningPrepareSystem())
    with pytest.warns(FallbackWarning) as record:
        result = runner.run_comparative_benchmark(
            schemas[0], systems="prep", cache_states=("cold", "warm")
        )
    pd.testing.assert_frame_equal(result.warnings, _warning_rows(
        ("a_schema", "prep", "", "FallbackWarning", "cold caches off", 3, 0),
        ("a_schema", "prep", "", "FallbackWarning", "warm caches off", 3, 0),
    ))
    assert [str(w.message) for w in _own(record)] == ["cold caches off", "warm caches off"]


def test_ignored_warnings_are_still_recorded(tmp_path: Path, schemas: tuple[str, str]) -> None:
    runner = make_runner(tmp_path, warmup=0, iterations=3)
    runner.register_system("warn", warning_system)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("ignore", SchemaWarning)
        result = runner.run_comparative_benchmark(schemas[0], systems="warn")
    assert [w for w in record if w.category is SchemaWarning] == []
    assert result.warnings["count"].tolist() == [3]


def test_error_filter_raises_after_the_run_not_inside_an_iteration(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    rows: list[Any] = []
    runner = make_runner(tmp_path, on_iteration=lambda e: rows.append(e.row))
    runner.register_system("warn", warning_system)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SchemaWarning)
        with pytest.raises(SchemaWarning, match=r"^t\.ip: column type 'inet'"):
            runner.run_comparative_benchmark(schemas[0], systems="warn")
    assert len(rows) == 3
    assert [r["error"] for r in rows] == [None, None, None]


def test_isolated_workers_send_their_warnings_back(
    tmp_path: Path, schemas: tuple[str, str]
) -> None:
    runner = make_runner(tmp_path, warmup=0, iterations=2, isolate=True)
    runner.register_system("warn", warning_system)
    with pytest.warns(SchemaWarning) as record:
        result = runner.run_comparative_benchmark(schemas[0], systems="warn")
    assert len(_own(record)) == 1
    pd.testing.assert_frame_equal(
        result.warnings, _warning_rows(("a_schema", "warn", "", "SchemaWarning", INET, 2, 0))
    )


def test_unmapped_column_type_warns_once_per_run(tmp_path: Path) -> None:
    runner = BenchmarkRunner(
        iterations=2, warmup=1, progress=False, seed=3, config=RrperfConfig(),
        cache_dir=tmp_path / "cache", output_dir=tmp_path / "out",
    )
    spatial = tmp_path / "spatial.rb"  # a PostGIS column: no TypeScript mapping
    spatial.write_text(
        'ActiveRecord::Schema[7.1].define(version: 1) do\n  create_table "regions" do |t|\n'
        '    t.geometry "boundary"\n  end\nend\n', encoding="utf-8",
    )
    with pytest.warns(SchemaWarning) as record:
        result = runner.run_comparative_benchmark(str(spatial), systems="legacy")
    message = (
        "regions.boundary: column type 'geometry' has no TypeScript mapping; typed as unknown"
    )
    assert [str(w.message) for w in _own(record)] == [message]
    pd.testing.assert_frame_equal(
        result.warnings, _warning_rows(("spatial", "legacy", "", "SchemaWarning", message, 3, 0))
    )
    assert result.data["error"].isna().all()
