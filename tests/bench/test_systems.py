"""Systems and scenario resolution: Command quoting and reaping, wrapping, scenario names."""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

import pytest

from rrperf.bench import runner as runner_mod
from rrperf.bench.runner import PeakRssMeter
from rrperf.bench.scenarios import (
    BenchScenario,
    available_scenarios,
    resolve_scenario,
    resolve_scenarios,
)
from rrperf.bench.systems import (
    CallableSystem,
    Command,
    GeneratorSystem,
    RunContext,
    System,
    as_system,
    snapshot_folder,
)
from rrperf.config import SystemConfig
from rrperf.errors import BenchmarkError, ConfigError


def _context(tmp_path: Path, scenario: BenchScenario) -> RunContext:
    return RunContext(scenario, "", "cold", tmp_path / "work")


# --- Command -----------------------------------------------------------------------------------


def test_command_substitutes_and_quotes_placeholders() -> None:
    cmd = Command("gen --schema {schema} --out {out}/models")
    assert cmd.argv(schema="/a b/schema.rb", out="/o'ut") == [
        "gen", "--schema", "/a b/schema.rb", "--out", "/o'ut/models",
    ]


def test_command_without_schema_path_for_schema_placeholder() -> None:
    with pytest.raises(BenchmarkError, match=r"command 'gen \{schema\}' needs \{schema\}"):
        Command("gen {schema}").argv(schema=None, out="/o")


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("", r"command: expected a non-empty string, got ''"),
        ("   ", r"command: expected a non-empty string, got '   '"),
        ("echo 'unclosed", r"command \"echo 'unclosed\" cannot be split: No closing quotation"),
    ],
)
def test_command_validation(command: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Command(command)


def test_command_run_reports_child_usage(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    cmd = Command(f"{sys.executable} -c \"open('x.txt', 'w').write('hi')\"", cwd=str(out))
    scenario = BenchScenario(name="s", source="synthetic:1", synthetic_size=1)
    outcome = cmd.run("synthetic:1", out, context=_context(tmp_path, scenario))
    assert (out / "x.txt").read_text() == "hi"
    assert outcome.child_peak_rss_mb is not None and outcome.child_peak_rss_mb > 1
    assert outcome.child_cpu_s > 0
    assert outcome.files_total is None and outcome.output_digest is None


def test_command_exit_status_and_last_stderr_line(tmp_path: Path) -> None:
    cmd = Command(
        f"{sys.executable} -c \"import sys; print('out'); sys.stderr.write('a\\n  b  \\n'); "
        "sys.exit(5)\""
    )
    scenario = BenchScenario(name="s", source="x.rb", schema_path="x.rb")
    with pytest.raises(BenchmarkError, match=r"^exit 5: b$"):
        cmd.run("x.rb", tmp_path, context=_context(tmp_path, scenario))


def test_command_missing_program(tmp_path: Path) -> None:
    scenario = BenchScenario(name="s", source="x.rb", schema_path="x.rb")
    with pytest.raises(BenchmarkError, match=r"cannot start 'no-such-program-rrperf'") as info:
        Command("no-such-program-rrperf --x").run(
            "x.rb", tmp_path, context=_context(tmp_path, scenario)
        )
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_command_renders_synthetic_schema_for_schema_placeholder(tmp_path: Path) -> None:
    from rrperf.schema.synthetic import synthetic_schema_rb

    out = tmp_path / "out"
    out.mkdir()
    cmd = Command(
        f"{sys.executable} -c \"import shutil, sys; shutil.copy(sys.argv[1], sys.argv[2])\" "
        "{schema} {out}"
    )
    scenario = resolve_scenario("synthetic:3")
    cmd.run("synthetic:3", out, context=_context(tmp_path, scenario))
    assert (out / "schema.rb").read_text(encoding="utf-8") == synthetic_schema_rb(3)
    rendered = list((tmp_path / "work").glob("*/schema.rb"))
    assert [p.parent.name.split("-")[:2] for p in rendered] == [["synthetic", "3"]]
    # a spec with options is another schema and another file
    seeded = resolve_scenario("synthetic:3:seed=4").schema_rb(tmp_path / "work")
    assert seeded.read_text(encoding="utf-8") == synthetic_schema_rb(3, seed=4)
    assert seeded != rendered[0]


# --- wrapping ----------------------------------------------------------------------------------


def _fn(source: str, out_dir: Path) -> None:
    return None


def test_as_system_kinds() -> None:
    cmd = as_system("rails", Command("bin/rails generate zero:active_models", cwd="app"))
    assert cmd == Command("bin/rails generate zero:active_models", cwd="app", name="rails")
    assert as_system("c", SystemConfig(command="make", cwd="x")) == Command(
        "make", cwd="x", name="c"
    )
    assert as_system("s", "echo hi") == Command("echo hi", name="s")
    wrapped = as_system("f", _fn)
    assert isinstance(wrapped, CallableSystem) and wrapped.name == "f" and wrapped.fn is _fn
    gen = GeneratorSystem("legacy")
    assert as_system("legacy", gen) is gen
    for system in (cmd, wrapped, gen):
        assert isinstance(system, System)


def test_as_system_rejects_bad_names() -> None:
    with pytest.raises(ConfigError, match=r"a system name must be a non-empty string, got ''"):
        as_system("", _fn)


def test_generator_system_validation_and_strategy_support() -> None:
    with pytest.raises(ConfigError, match=r"impl must be one of legacy, pipeline, got 'new'"):
        GeneratorSystem("new")
    assert GeneratorSystem("pipeline").supports_strategies is True
    assert GeneratorSystem("legacy").supports_strategies is False


def test_systems_pickle_for_isolated_workers(tmp_path: Path) -> None:
    gen = GeneratorSystem("pipeline", cache_dir=tmp_path)
    copy = pickle.loads(pickle.dumps(gen))
    assert (copy.impl, copy.name, copy._cache_dir) == ("pipeline", "pipeline", tmp_path)
    cmd = Command("echo {out}", name="e")
    assert pickle.loads(pickle.dumps(cmd)) == cmd


def test_snapshot_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.ts").write_text("12345")
    (tmp_path / "y.ts").write_text("1")
    snap = snapshot_folder(tmp_path)
    assert sorted(snap) == ["a/x.ts", "y.ts"]
    assert snap["a/x.ts"][0] == 5
    assert snapshot_folder(tmp_path / "missing") == {}


# --- scenarios ---------------------------------------------------------------------------------


def test_synthetic_scenario() -> None:
    sc = resolve_scenario("synthetic:25")
    assert sc == BenchScenario(
        name="synthetic:25", source="synthetic:25",
        description="synthetic schema with 25 tables", synthetic_size=25,
    )


def test_synthetic_zero_tables_is_refused() -> None:
    with pytest.raises(BenchmarkError, match=r"invalid synthetic scenario 'synthetic:0': "
                       r"n_tables must be an integer between 1 and 100_000, got 0") as info:
        resolve_scenario("synthetic:0")
    assert isinstance(info.value.__cause__, ConfigError)


def test_path_and_url_scenarios(tmp_path: Path) -> None:
    rb = tmp_path / "schema.rb"
    rb.write_text("ActiveRecord::Schema.define do\nend\n")
    sc = resolve_scenario(str(rb))
    # a path's label is the file's stem, not the full path
    assert (sc.name, sc.source, sc.schema_path) == ("schema", str(rb), str(rb))
    db = tmp_path / "app.sqlite3"
    db.write_bytes(b"")
    assert (resolve_scenario(str(db)).name, resolve_scenario(str(db)).schema_path) == (
        "app", None)
    url = resolve_scenario("postgresql://u:pw@localhost/app")
    assert (url.name, url.source, url.schema_path) == (
        "postgresql://u:***@localhost/app", "postgresql://u:pw@localhost/app", None)
    with pytest.raises(BenchmarkError, match=r"'postgresql://u:\*\*\*@localhost/app' reads "
                       r"'postgresql://u:pw@localhost/app', which is not a schema.rb file"):
        url.schema_rb(tmp_path)


def test_two_paths_with_one_label_are_refused(tmp_path: Path) -> None:
    for app in ("a", "b"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "schema.rb").write_text("ActiveRecord::Schema.define do\nend\n")
    a, b = str(tmp_path / "a" / "schema.rb"), str(tmp_path / "b" / "schema.rb")
    assert [s.name for s in resolve_scenarios(["small", a])] == ["small", "schema"]
    with pytest.raises(BenchmarkError, match=rf"^scenarios '{a}' and '{b}' both have the label "
                       r"'schema'; give one of them under another file name$"):
        resolve_scenarios([a, b])


def test_builtin_scenario_resolves_to_a_loadable_source() -> None:
    from rrperf.schema.scenarios import get_scenario

    sc = resolve_scenario("small")
    assert sc.name == "small"
    assert sc.description == get_scenario("small").description
    assert available_scenarios() == [
        "small", "medium", "large", "polymorphic_heavy", "campfire", "rubygems", "coursemology",
    ]


@pytest.mark.parametrize("name", ["campfire", "rubygems", "coursemology"])
def test_real_world_scenarios_come_from_the_package(name: str) -> None:
    from rrperf.schema.scenarios import REAL_SCHEMA_DIR, get_scenario

    sc = resolve_scenario(name)
    path = get_scenario(name).path
    assert path is not None and path.parent == REAL_SCHEMA_DIR and path.is_file()
    assert (sc.name, sc.source, sc.schema_path) == (name, str(path), str(path))


def test_unknown_scenario_lists_valid_names() -> None:
    with pytest.raises(BenchmarkError) as info:
        resolve_scenario("smal")
    assert str(info.value) == (
        "unknown scenario 'smal' (and no such file); valid names: small, medium, large, "
        "polymorphic_heavy, campfire, rubygems, coursemology, synthetic:N[:key=value...]; "
        "or a schema.rb or SQLite path, a Rails app folder, or a database URL"
    )


def test_bench_scenario_validation() -> None:
    with pytest.raises(ConfigError, match=r"scenario synthetic_size: expected a positive "
                       r"integer, got 0"):
        BenchScenario(name="x", source="synthetic:0", synthetic_size=0)


# --- memory meter ------------------------------------------------------------------------------


def test_peak_rss_meter_falls_back_to_psutil(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(runner_mod, "_CLEAR_REFS", str(tmp_path / "no" / "clear_refs"))
    meter = PeakRssMeter(above_start=True)
    meter.start()
    assert meter._thread is not None
    block = b"y" * (48 * 1024 * 1024)
    time.sleep(0.05)  # the sampler reads every 5 ms
    grown = meter.stop()
    del block
    assert meter._thread is None
    assert grown >= 40


def test_peak_rss_meter_measures_the_growth_not_the_process() -> None:
    ballast = b"z" * (64 * 1024 * 1024)  # held before the interval: not the work's memory
    meter = PeakRssMeter(above_start=True)
    meter.start()
    block = b"y" * (48 * 1024 * 1024)
    peak_with = meter.stop()
    del block
    meter.start()
    peak_without = meter.stop()
    del ballast
    assert 40 <= peak_with < 100
    assert peak_without < 8
    whole = PeakRssMeter()  # the process's own high-water mark, ballast included
    whole.start()
    assert whole.stop() > 64


def test_peak_rss_meter_counts_child_processes() -> None:
    import subprocess
    import sys

    meter = PeakRssMeter(above_start=True)
    meter.start()
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; b = b'y' * (64 * 1024 * 1024); print('ready', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        grown = meter.stop()
    finally:
        child.communicate("")
    assert grown >= 64


def test_generator_system_cold_state_removes_unopened_strategy_caches(tmp_path: Path) -> None:
    stale = tmp_path / "pipeline" / "parallel" / "cache.db"
    stale.parent.mkdir(parents=True)
    stale.write_text("x")
    gen = GeneratorSystem("pipeline", cache_dir=tmp_path)
    gen.prepare("warm")
    assert stale.exists()
    gen.prepare("cold")
    assert not stale.parent.exists()
    assert (tmp_path / "pipeline").is_dir()
