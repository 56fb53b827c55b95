"""rrperf.toml takes effect in every command, through an explicit ``config=``; every key it
accepts changes behaviour; the library reads no file by itself."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from rrperf.cli import main
from rrperf.config import RrperfConfig, load_config
from rrperf.engine.strategies import get_strategy
from rrperf.generator.api import generate
from rrperf.generator.digest import output_digest

SMALL_TABLES = 4  # tables of the ``small`` scenario; ``comm*`` matches one of them


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # the configuration search stops here
    for var in ("RRPERF_EXCLUDE_TABLES", "RRPERF_CACHE_DIR", "RRPERF_MAX_WORKERS"):
        monkeypatch.delenv(var, raising=False)
    # a private folder for the pid files of running benchmarks: the benchmarks here are not
    # seen by (and do not add a warning to) benchmarks running in other tests
    monkeypatch.setenv("RRPERF_RUNNING_DIR", str(tmp_path / "running"))


def _config(tmp_path: Path, text: str) -> RrperfConfig:
    (tmp_path / "rrperf.toml").write_text(text, "utf-8")
    return load_config(tmp_path / "rrperf.toml", env={})


# --- the library reads no file unless given one ------------------------------------------------


def test_library_reads_no_file_implicitly(tmp_path: Path) -> None:
    from rrperf.bench.runner import BenchmarkRunner
    from rrperf.optimize.optimizer import PerformanceOptimizer

    (tmp_path / "rrperf.toml").write_text(
        'exclude_tables = ["comm*"]\n[systems.gen]\ncommand = "true"\n[cache]\ndir = "cc"\n'
    )
    runner = BenchmarkRunner(progress=False)
    assert runner.config == RrperfConfig() and runner.cache_dir is None
    with PerformanceOptimizer() as optimizer:
        assert optimizer.project == RrperfConfig()
    result = generate("small", tmp_path / "out", strategy="sequential",
                      cache_dir=tmp_path / "c")
    assert result.n_tables == SMALL_TABLES
    assert not (tmp_path / "cc").exists()


# --- [cache] memory_size and ttl_* ---------------------------------------------------------------


def _render_memory(ctx: Any) -> Any:
    return ctx.cache.stats().get("template_render", "memory")


def test_cache_memory_size_bounds_the_strategy_memory_tier(tmp_path: Path) -> None:
    sequential = get_strategy("sequential")
    with sequential.make_context(cache_dir=tmp_path / "a") as ctx:
        generate("small", tmp_path / "out_a", context=ctx)
        default = _render_memory(ctx)
    config = _config(tmp_path, "[cache]\nmemory_size = 1\n")
    with sequential.make_context(cache_dir=tmp_path / "b", config=config) as ctx:
        assert ctx.cache is not None
        assert set(ctx.cache.config.memory_size.values()) == {1}
        generate("small", tmp_path / "out_b", context=ctx)
        bounded = _render_memory(ctx)
    assert default.entries > 1 and default.evictions == 0
    assert bounded.entries == 1 and bounded.evictions == default.entries - 1
    assert output_digest(tmp_path / "out_a") == output_digest(tmp_path / "out_b")


def test_cache_ttl_expires_the_category(tmp_path: Path) -> None:
    def twice(ctx: Any, out: Path) -> Any:
        generate("small", out, context=ctx)
        generate("small", out, context=ctx, force=True)  # renders again, from the cache
        return _render_memory(ctx)

    sequential = get_strategy("sequential")
    with sequential.make_context(cache_dir=tmp_path / "a") as ctx:
        kept = twice(ctx, tmp_path / "out_a")
    config = _config(tmp_path, "[cache]\nttl_template_render = 0\nttl_type_mapping = 30\n")
    with sequential.make_context(cache_dir=tmp_path / "b", config=config) as ctx:
        assert ctx.cache is not None
        assert ctx.cache.config.effective_ttl("template_render") == 0.0
        assert ctx.cache.config.effective_ttl("type_mapping") == 30.0
        expired = twice(ctx, tmp_path / "out_b")
    assert kept.hits > 0 and kept.expirations == 0
    assert expired.hits == 0 and expired.expirations > 0
    # the strategy's multiplier applies on top of the file's TTL (cache_heavy: 2x)
    with get_strategy("cache_heavy").make_context(cache_dir=tmp_path / "c", config=config) as h:
        assert h.cache is not None and h.cache.config.effective_ttl("type_mapping") == 60.0


# --- [executor] backend and max_workers ---------------------------------------------------------



@pytest.mark.filterwarnings("ignore:.*has no TypeScript mapping")
def test_executor_backend_replaces_the_strategy_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: list[int]
) -> None:
    from rrperf.generator import cached

    # a pool that is not started yet pays off only from POOL_START_MIN_TABLES (1,500) tables;
    # 300 tables keep the test quick
    monkeypatch.setattr(cached, "POOL_START_MIN_TABLES", 256)
    threads: list[int] = []
    real_t = concurrent.futures.ThreadPoolExecutor

    def spy_t(max_workers: int | None = None, **kws: Any) -> Any:
        threads.append(int(max_workers or 0))
        return real_t(max_workers=max_workers, **kws)

    monkeypatch.setattr(concurrent.futures, "ThreadPoolExecutor", spy_t)
    two = dataclasses.replace(get_strategy("parallel"), workers=2)
    legacy = generate("synthetic:300", tmp_path / "legacy", impl="legacy")

    config = _config(tmp_path, '[executor]\nbackend = "thread"\n')
    with two.make_context(cache_dir=tmp_path / "c1", config=config) as ctx:
        assert (ctx.executor.backend, ctx.executor.max_workers) == ("thread", 2)
        result = generate("synthetic:300", tmp_path / "t", context=ctx)
    assert forked == [] and 2 in threads
    assert result.output_digest == legacy.output_digest

    config = _config(tmp_path, '[executor]\nbackend = "serial"\n')
    threads.clear()
    with two.make_context(cache_dir=tmp_path / "c2", config=config) as ctx:
        assert ctx.executor.backend == "serial"
        result = generate("synthetic:300", tmp_path / "s", context=ctx)
    assert forked == [] and 2 not in threads
    assert result.output_digest == legacy.output_digest

    with two.make_context(cache_dir=tmp_path / "c3") as ctx:  # without: its own processes
        assert (ctx.executor.backend, ctx.executor.max_workers) == ("process", 2)
        generate("synthetic:300", tmp_path / "p", context=ctx)
    # two workers: this process and one forked; and a process storing the schema's cache entry
    assert len(forked) == 2
    # a serial strategy stays serial whatever the pool backend
    config = _config(tmp_path, '[executor]\nbackend = "process"\nmax_workers = 4\n')
    with get_strategy("sequential").make_context(cache_dir=tmp_path / "c4", config=config) as c:
        assert c.executor.backend == "serial"


def test_executor_section_reaches_generate_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: list[int]
) -> None:
    (tmp_path / "rrperf.toml").write_text('[executor]\nbackend = "serial"\n')
    code = main(["generate", "synthetic:300", "--out", "out", "--strategy", "parallel"])
    assert code == 0 and forked == []


# --- [monitor] interval_s ----------------------------------------------------------------------


def test_monitor_interval_sets_the_sampling_rate(tmp_path: Path) -> None:
    def samples(config: RrperfConfig | None, folder: str) -> tuple[float, int]:
        with get_strategy("sequential").make_context(
            cache_dir=tmp_path / folder, config=config
        ) as ctx:
            generate("synthetic:200", tmp_path / folder / "out", context=ctx)
            assert ctx.monitor is not None
            return ctx.monitor.config.interval_s, len(ctx.monitor.samples_frame())

    slow = _config(tmp_path, "[monitor]\ninterval_s = 3600\n")
    fast = _config(tmp_path, "[monitor]\ninterval_s = 0.001\n")
    interval, n_slow = samples(slow, "slow")
    assert interval == 3600.0
    interval, n_fast = samples(fast, "fast")
    assert interval == 0.001
    # an hour apart: only the samples taken when the session starts and ends
    assert n_slow <= 2 < n_fast
    from rrperf.engine.monitor import MonitorConfig
    from rrperf.optimize.optimizer import PerformanceOptimizer

    assert samples(None, "none")[0] == MonitorConfig().interval_s
    with PerformanceOptimizer(project=fast) as optimizer:
        assert optimizer.performance_monitor is not None
        assert optimizer.performance_monitor.config.interval_s == 0.001


# --- every command reads the file -------------------------------------------------------------


def test_bench_runs_with_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rrperf.toml").write_text(
        'exclude_tables = ["comm*"]\n[cache]\ndir = "cc"\nmemory_size = 1\n'
    )
    argv = ["bench", "--scenarios", "small", "--systems", "pipeline", "--strategies",
            "sequential", "--cache", "warm", "--iterations", "1", "--warmup", "0",
            "--format", "json", "--no-progress"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert {r["n_tables"] for r in rows} == {SMALL_TABLES - 1}
    assert list((tmp_path / "cc" / "pipeline" / "sequential" / "state").glob("manifest-*"))


def test_analyze_runs_with_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rrperf.optimize import optimizer as module

    results: list[Any] = []
    projects: list[RrperfConfig] = []

    class Spy(module.PerformanceOptimizer):
        def run_comprehensive_analysis(self, *args: Any, **kws: Any) -> Any:
            projects.append(self.project)
            results.append(super().run_comprehensive_analysis(*args, **kws))
            return results[-1]

    monkeypatch.setattr(module, "PerformanceOptimizer", Spy)
    (tmp_path / "rrperf.toml").write_text('exclude_tables = ["comm*"]\n')
    argv = ["analyze", "small", "--iterations", "1", "--cache", "cold",
            "--format", "json", "--no-calibration"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["rows"]
    assert projects == [load_config(tmp_path / "rrperf.toml", env={})]
    assert set(results[0].benchmark.data["n_tables"]) == {SMALL_TABLES - 1}


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--scenarios", "small", "--systems", "legacy", "--iterations", "1",
         "--warmup", "0", "--save", "x", "--no-progress"],
        ["analyze", "small", "--iterations", "1"],
        ["report", "--out", "reports"],
        ["demo", "--quick", "--out", "reports"],
    ],
    ids=["bench", "analyze", "report", "demo"],
)
def test_malformed_file_stops_every_command(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rrperf.toml").write_text('exclude_tables = ["a"]\n[cache\ndir = "x"\n')
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"rrperf: error: {tmp_path / 'rrperf.toml'}: invalid TOML")
    assert "line 2" in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git", "rrperf.toml"]  # no running/


def test_bad_value_names_the_key_for_bench(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rrperf.toml").write_text('[executor]\nbackend = "threads"\n')
    argv = ["bench", "--scenarios", "small", "--systems", "legacy", "--iterations", "1",
            "--warmup", "0", "--save", "x", "--no-progress"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err == (
        f"rrperf: error: {tmp_path / 'rrperf.toml'}: executor.backend must be one of "
        "process, thread, serial, got 'threads'\n"
    )
    assert not (tmp_path / ".rrperf").exists()


def test_report_passes_the_file_to_the_notebook(tmp_path: Path) -> None:
    from rrperf.report.notebooks import notebook_parameters, project_config

    for notebook in ("benchmark_report", "strategy_analysis"):
        assert notebook_parameters(notebook)["config_file"].default == '""'
    (tmp_path / "rrperf.toml").write_text('exclude_tables = ["comm*"]\n')
    assert project_config(str(tmp_path / "rrperf.toml")).exclude_tables == ("comm*",)
    assert project_config("") == load_config(search=False)


def test_benchmark_report_runs_with_the_config_file(tmp_path: Path) -> None:
    from rrperf.report.notebooks import run_benchmark_report

    (tmp_path / "rrperf.toml").write_text('exclude_tables = ["comm*"]\n')
    report = run_benchmark_report(
        scenarios="small", systems=("legacy", "pipeline"), strategies="minimal", iterations=1,
        warmup=0, cache_states="cold",
        output_dir=tmp_path / "reports", config_file=str(tmp_path / "rrperf.toml"),
    )
    assert set(report.result.data["n_tables"]) == {SMALL_TABLES - 1}
    report = run_benchmark_report(
        scenarios="small", systems=("legacy", "pipeline"), strategies="minimal", iterations=1,
        warmup=0, cache_states="cold",
        output_dir=tmp_path / "reports2",
    )
    assert set(report.result.data["n_tables"]) == {SMALL_TABLES}


def test_load_config_without_search_reads_no_file(tmp_path: Path) -> None:
    (tmp_path / "rrperf.toml").write_text('[cache]\nttl_type_mapping = 5\nmemory_size = 3\n')
    assert load_config(search=False, env={}) == RrperfConfig()
    assert load_config(search=False, env={"RRPERF_MAX_WORKERS": "3"}).executor == {
        "max_workers": 3
    }
    found = load_config(env={})
    assert found.cache_ttls() == {"type_mapping": 5.0}
    assert found.source == str(tmp_path / "rrperf.toml")


def test_file_that_is_not_utf8_stops_generate_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rrperf.toml").write_bytes(b'exclude_tables = ["\xe9"]\n')
    assert main(["generate", "small", "--out", "out"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"rrperf: error: {tmp_path / 'rrperf.toml'}: invalid TOML: not UTF-8 text "
        "(byte 0xe9 at line 1)\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git", "rrperf.toml"]
