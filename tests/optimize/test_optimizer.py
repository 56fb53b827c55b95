"""PerformanceOptimizer: configuration, components, runs checked against legacy, reports."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rrperf.bench.results import BenchmarkResult
from rrperf.errors import ConfigError
from rrperf.optimize.optimizer import (
    ANALYSIS_COLUMNS,
    METRICS_COLUMNS,
    OptimizerConfig,
    PerformanceOptimizer,
)

# --- configuration ----------------------------------------------------------------------------

ORIGINAL_KEYS = {
    "enable_benchmarking",
    "enable_parallel_execution",
    "enable_caching",
    "enable_monitoring",
    "max_parallel_threads",
    "cache_ttl",
    "memory_cache_size",
    "schema_cache_ttl",
    "template_cache_ttl",
    "type_mapping_cache_ttl",
    "enable_real_time_monitoring",
    "alert_thresholds",
}


def test_config_has_every_original_key() -> None:
    cfg = OptimizerConfig()
    assert ORIGINAL_KEYS <= set(cfg.to_dict())
    assert cfg.cache_ttls() == {
        "schema_introspection": 7200.0,
        "template_render": 3600.0,
        "type_mapping": 14400.0,
        "relationships": 3600.0,
    }


def test_unknown_key_suggests_the_nearest() -> None:
    with pytest.raises(
        ConfigError, match="unknown optimizer option 'cache_tll'; did you mean 'cache_ttl'\\?"
    ):
        OptimizerConfig.from_mapping({"cache_tll": 5})
    with pytest.raises(ConfigError, match="did you mean 'enable_caching'"):
        PerformanceOptimizer({"enable_cachng": True}, strategies={"x": object()})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"enable_caching": "yes"}, "enable_caching must be True or False, got 'yes'"),
        ({"max_parallel_threads": 0}, "max_parallel_threads must be an integer >= 1 or None"),
        ({"memory_cache_size": -1}, "memory_cache_size must be an integer >= 0 or None"),
        ({"cache_ttl": "1h"}, "cache_ttl must be a number of seconds >= 0, got '1h'"),
        ({"schema_cache_ttl": float("nan")}, "schema_cache_ttl must be a number of seconds"),
        ({"alert_thresholds": [1]}, "alert_thresholds must be a mapping"),
        ({"alert_thresholds": {"memory_usag": 5}}, "did you mean 'memory_usage'"),
        ({"alert_thresholds": {"error_rate": 150}}, "percentage in 0-100"),
        ({"benchmark_iterations": 0}, "benchmark_iterations must be an integer >= 1"),
        ({"output_dir": 3}, "output_dir must be a non-empty path or None, got 3"),
    ],
)
def test_config_values_are_checked(mapping: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        OptimizerConfig.from_mapping(mapping)


def test_config_is_frozen_and_normalised(tmp_path: Path) -> None:
    cfg = OptimizerConfig.from_mapping({"cache_ttl": 10, "output_dir": tmp_path})
    assert cfg.cache_ttl == 10.0 and isinstance(cfg.cache_ttl, float)
    assert cfg.output_dir == str(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.cache_ttl = 1.0  # type: ignore[misc]
    assert OptimizerConfig.from_mapping(None) == OptimizerConfig()
    assert OptimizerConfig.from_mapping(cfg) is cfg
    with pytest.raises(ConfigError, match="config must be a mapping or an OptimizerConfig"):
        OptimizerConfig.from_mapping([("cache_ttl", 1)])  # type: ignore[arg-type]


# --- components, callables, pipelines -----------------------------------------------------------


@pytest.fixture
def opt(tmp_path: Path) -> Any:
    optimizer = PerformanceOptimizer(
        {
            "output_dir": str(tmp_path / "out"),
            "cache_dir": str(tmp_path / "cache"),
            "enable_real_time_monitoring": False,
        }
    )
    yield optimizer
    optimizer.close()


def test_components(opt: PerformanceOptimizer, tmp_path: Path) -> None:
    from rrperf.bench.runner import BenchmarkRunner
    from rrperf.engine.cache import CacheOptimizer
    from rrperf.engine.monitor import PerformanceMonitor
    from rrperf.engine.parallel import ParallelExecutor

    assert isinstance(opt.benchmark_runner, BenchmarkRunner)
    assert isinstance(opt.parallel_executor, ParallelExecutor)
    assert isinstance(opt.cache_optimizer, CacheOptimizer)
    assert isinstance(opt.performance_monitor, PerformanceMonitor)
    # the cache takes the optimizer's TTLs and lives under cache_dir/<strategy>
    assert opt.cache_optimizer.config.ttl == OptimizerConfig().cache_ttls()
    assert opt.cache_optimizer.directory == tmp_path / "cache" / "balanced"
    opt.cache_optimizer.clear_all_caches()
    path = opt.performance_monitor.export_performance_data(tmp_path / "perf.json", format="json")
    assert json.loads(Path(path).read_text())["sessions"] == []


def test_disabled_components(tmp_path: Path) -> None:
    with PerformanceOptimizer(
        {"enable_benchmarking": False, "enable_monitoring": False, "cache_dir": str(tmp_path)}
    ) as opt:
        assert opt.benchmark_runner is None
        assert opt.performance_monitor is None
        with pytest.raises(ConfigError, match="benchmarking is disabled"):
            opt.run_comprehensive_analysis(scenario="small")
        with pytest.raises(ConfigError, match="monitoring is disabled"):
            opt.set_alert_thresholds(execution_time=1.0)
        assert all(not s.monitoring for s in opt.strategies.values())


def test_filters_and_caps(tmp_path: Path) -> None:
    with PerformanceOptimizer(
        {"enable_parallel_execution": False, "enable_caching": False, "cache_dir": str(tmp_path)}
    ) as opt:
        assert list(opt.strategies) == ["minimal"]
        with pytest.raises(
            ConfigError,
            match="'parallel' runs on a process pool, but enable_parallel_execution is False",
        ):
            opt.optimize_generation(lambda: 1, "parallel")
        with pytest.raises(ConfigError, match="'sequential' caches, but enable_caching is False"):
            opt.optimize_generation(lambda: 1, "sequential")
    with PerformanceOptimizer({"max_parallel_threads": 1, "cache_dir": str(tmp_path)}) as opt:
        assert opt.strategies["parallel"].workers == 1
    with pytest.raises(ConfigError, match="unknown strategy 'fastest'; valid strategies: "):
        with PerformanceOptimizer({"cache_dir": str(tmp_path)}) as opt:
            opt.optimize_generation(lambda: 1, "fastest")


def test_callable_with_ctx(opt: PerformanceOptimizer) -> None:
    seen: dict[str, Any] = {}

    def work(ctx: Any) -> int:
        seen["ctx"] = ctx
        return ctx.cache.get_or_compute("type_mapping", ("string",), lambda: 41) + 1

    first = opt.optimize_generation(work, "sequential")
    assert first.value == 42
    assert first.kind == "callable"
    assert first.strategy == "sequential"
    assert first.rationale == "Given by the caller."
    assert seen["ctx"].strategy.name == "sequential"
    assert first.metrics["cache_hits"] == 0 and first.metrics["cache_misses"] == 1
    second = opt.optimize_generation(work)  # default: the previous run's strategy
    assert second.strategy == "sequential"
    assert second.rationale == "sequential was the strategy of the previous run."
    assert (second.metrics["cache_hits"], second.metrics["cache_misses"]) == (1, 0)
    assert second.metrics["cache_hit_rate"] == 1.0
    assert second.metrics["peak_rss_mb"] > 0
    assert second.output_matches_legacy is None
    assert opt.parallel_executor is seen["ctx"].executor


def test_callable_without_ctx_and_pipeline(opt: PerformanceOptimizer) -> None:
    from rrperf.engine.stages import Pipeline, Stage

    res = opt.optimize_generation(lambda: "plain", "minimal")
    assert res.value == "plain" and res.metrics["cache_hits"] == 0
    pipe = Pipeline(
        [Stage("a", lambda: 2), Stage("b", lambda a: a * 21, depends_on=("a",))], name="demo"
    )
    res = opt.optimize_generation(pipe, "sequential")
    assert res.kind == "pipeline"
    assert res.target == "demo"
    assert res.value == {"a": 2, "b": 42}


def test_failing_callable_is_recorded_as_an_error(opt: PerformanceOptimizer) -> None:
    def boom() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        opt.optimize_generation(boom, "sequential")
    sessions = opt.performance_monitor.summaries
    assert sessions[-1].errors == 1
    assert opt.performance_monitor.active_session is None


def test_metrics_update_and_thresholds(opt: PerformanceOptimizer) -> None:
    opt.optimize_generation(lambda: 1, "minimal")
    opt.optimize_generation(lambda: 2, "minimal")
    opt.optimize_generation(lambda ctx: 3, "sequential")
    m = opt.get_optimization_metrics()
    assert m.columns.tolist() == list(METRICS_COLUMNS)
    assert m.drop(columns="total_wall_s").to_dict("records") == [
        {"strategy": "minimal", "runs": 2, "cache_hits": 0, "cache_misses": 0,
         "cache_hit_rate": 0.0, "legacy_checked": 0, "legacy_matched": 0, "last": False},
        {"strategy": "sequential", "runs": 1, "cache_hits": 0, "cache_misses": 0,
         "cache_hit_rate": 0.0, "legacy_checked": 0, "legacy_matched": 0, "last": True},
    ]
    assert (m["total_wall_s"] > 0).all()
    assert m.attrs["alerts"] == 0
    now = opt.set_alert_thresholds(execution_time=5.0)
    assert now["execution_time"] == 5.0
    assert opt.performance_monitor.thresholds.execution_time == 5.0
    assert opt.config.alert_thresholds == {"execution_time": 5.0}
    with pytest.raises(ConfigError, match="did you mean 'error_rate'"):
        opt.set_alert_thresholds(eror_rate=1.0)
    old_ctx = opt._contexts["sequential"]
    new = opt.update_configuration(cache_ttl=60, alert_thresholds={"memory_usage": 100.0})
    assert new.cache_ttl == 60.0
    assert old_ctx.closed
    assert opt.performance_monitor.thresholds.memory_usage == 100.0
    assert opt.performance_monitor.thresholds.execution_time is None
    assert opt.cache_optimizer.config.ttl["relationships"] == 60.0
    with pytest.raises(ConfigError, match="did you mean 'cache_ttl'"):
        opt.update_configuration(cache_tl=1)
    assert opt.config.cache_ttl == 60.0


# --- reports --------------------------------------------------------------------------------------


def test_reports_escape_user_text(opt: PerformanceOptimizer) -> None:
    def evil() -> int:
        return 1

    evil.__qualname__ = "<script>alert(1)</script>|x"
    opt.optimize_generation(evil, "minimal")
    data = json.loads(opt.generate_comprehensive_report("json"))
    assert data["format_version"] == 2
    assert data["runs"][0]["target"] == "<script>alert(1)</script>|x"
    assert [(m["strategy"], m["runs"]) for m in data["metrics"]] == [("minimal", 1)]
    assert data["analysis"] is None
    assert "runs" not in json.loads(opt.generate_comprehensive_report("json", False))
    page = opt.generate_comprehensive_report("html")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;|x" in page
    md = opt.generate_comprehensive_report("markdown")
    assert "\\<script\\>alert(1)\\</script\\>\\|x" in md
    assert md.startswith("# rrperf optimizer report\n\n## Metrics\n")
    for title in (
        "## Configuration",
        "## Last analysis",
        "## Monitor",
        "## Cache efficiency",
        "## Runs",
    ):
        assert title in md
    with pytest.raises(ConfigError, match="report format must be one of json, markdown, html"):
        opt.generate_comprehensive_report("pdf")


def test_recommend_needs_a_workload(opt: PerformanceOptimizer) -> None:
    with pytest.raises(ConfigError, match="no workload: pass a WorkloadProfile"):
        opt.analyze_and_recommend_strategy()
    with pytest.raises(ConfigError, match="no scenario: pass scenario=NAME"):
        opt.run_comprehensive_analysis()


# --- schema sources: checked against legacy -----------------------------------------------------


def test_optimize_generation_on_small(opt: PerformanceOptimizer, tmp_path: Path) -> None:
    from rrperf.generator.api import generate
    from rrperf.generator.digest import output_digest

    legacy = generate("small", tmp_path / "legacy", impl="legacy")
    first = opt.optimize_generation("small")
    assert first.kind == "source"
    assert first.output_matches_legacy is True
    assert first.output_digest == legacy.output_digest == first.legacy_digest
    assert output_digest(tmp_path / "out") == legacy.output_digest
    assert first.out_dir == str(tmp_path / "out")
    assert first.strategy in opt.strategies
    assert first.rationale.startswith(f"{first.strategy} is predicted fastest at ")
    assert first.metrics["n_tables"] == 4
    assert first.metrics["files_total"] == 14
    assert first.metrics["files_written"] == 14
    assert first.metrics["predicted_s"] > 0
    # an explicit caching strategy: cold, then warm (every file known unchanged)
    cold = opt.optimize_generation("small", "sequential")
    warm = opt.optimize_generation("small", "sequential")
    assert cold.output_matches_legacy and warm.output_matches_legacy
    assert warm.metrics["files_written"] == 0 and warm.metrics["files_unchanged"] == 14
    assert warm.metrics["cache_hits"] > 0
    rec = opt.recommend()  # the last source, sequential's cache is warm
    assert rec.workload.n_tables == 4
    assert rec.workload.output_present is True
    assert PerformanceOptimizer.recommend is PerformanceOptimizer.analyze_and_recommend_strategy
    metrics = opt.get_optimization_metrics().set_index("strategy")
    assert metrics[["legacy_checked", "legacy_matched"]].sum().tolist() == [3, 3]
    assert metrics["cache_hits"].sum() == warm.metrics["cache_hits"]
    opt.cache_optimizer.clear_all_caches()


def test_analysis_on_small(opt: PerformanceOptimizer) -> None:
    import warnings

    from rrperf.errors import StabilityWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)  # one iteration is too few, on purpose
        result = opt.run_comprehensive_analysis(
            scenario="small", cache_states="cold", iterations=1, warmup=0
        )
    assert result.scenario == "small"
    assert len(result.strategies) == 3
    assert result.recommendation.strategy in result.strategies
    (row,) = result.rows
    assert row["cache_state"] == "cold"
    assert row["model_pick"] == result.recommendation.strategy
    # one round decides nothing: no tie can be shown, so the measured best is recommended
    assert row["recommended"] == row["measured_best"] == row["tied"]
    assert row["measured_best"] in result.strategies
    assert row["ratio"] == row["recommended_median_s"] / row["best_median_s"] == 1.0
    assert row["within_5pct"] is True
    frame = result.to_frame()
    assert list(frame.columns) == list(ANALYSIS_COLUMNS)
    # predicted against measured, for every candidate strategy
    assert [p["strategy"] for p in result.predictions] == list(opt.strategies)
    for p in result.predictions:
        assert p["predicted_s"] == result.recommendation.predicted_s(p["strategy"])
        if p["strategy"] in result.strategies:
            assert p["error"] == p["predicted_s"] / p["measured_median_s"] - 1
        else:
            assert math.isnan(p["measured_median_s"]) and math.isnan(p["error"])
    assert [p["strategy"] for p in result.predictions if p["recommended"]] == [
        row["recommended"]]
    assert [p["strategy"] for p in result.predictions if p["measured_best"]] == [
        row["measured_best"]]
    assert result._repr_html_().count("<table class=\"rrperf-table\">") == 2
    data = json.loads(opt.generate_comprehensive_report("json"))
    assert data["analysis"]["rows"][0]["recommended"] == row["recommended"]
    with pytest.raises(ConfigError, match="cache state must be 'cold' or 'warm', got 'hot'"):
        opt.run_comprehensive_analysis(scenario="small", cache_states=("hot",))


def test_analysis_of_a_path_is_labelled_by_its_stem(
    opt: PerformanceOptimizer, tmp_path: Path
) -> None:
    import shutil
    import warnings

    from rrperf.errors import StabilityWarning
    from rrperf.schema.scenarios import get_scenario

    small = get_scenario("small").path
    assert small is not None
    shop = tmp_path / "shop_schema.rb"
    shutil.copyfile(small, shop)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        result = opt.run_comprehensive_analysis(
            scenario=str(shop), cache_states="cold", iterations=1, warmup=0
        )
    assert result.scenario == "shop_schema"
    assert [r["scenario"] for r in result.rows] == ["shop_schema"]
    assert set(result.benchmark.data["scenario"]) == {"shop_schema"}


def _interleaved(times: dict[str, list[float]]) -> BenchmarkResult:
    rows = [
        {"run_id": "r1", "started_at": pd.Timestamp("2026-12-01T10:00:00Z"), "scenario": "large",
         "system": "pipeline", "strategy": name, "cache_state": "warm", "iteration": i,
         "order": k, "warmup": False, "wall_s": v, "cpu_s": v, "peak_rss_mb": 1.0,
         "n_tables": 18, "files_total": 55, "files_written": 0, "files_unchanged": 55,
         "cache_hits": 0, "cache_misses": 0, "output_digest": "d", "error": None}
        for k, (name, values) in enumerate(times.items())
        for i, v in enumerate(values)
    ]
    return BenchmarkResult(pd.DataFrame(rows))


def test_a_measured_tie_goes_to_the_fewest_resources() -> None:
    from rrperf.engine.strategies import STRATEGIES
    from rrperf.optimize.analysis import analysis_rows
    from rrperf.optimize.workload import recommend
    from tests.optimize.test_predictions import PROFILE

    # the machine drifts from round to round; per round, sequential is exactly 1.02 x
    # parallel (a tie at the 5 % margin) and minimal 1.5 x (shown slower)
    drift = [1.0, 1.9, 1.3, 1.0, 1.6, 1.3, 1.6, 1.1, 1.2, 1.0]
    bench = _interleaved({"parallel": [4.0 * d for d in drift],
                          "sequential": [4.08 * d for d in drift],
                          "minimal": [6.0 * d for d in drift]})
    strategies = {n: STRATEGIES[n] for n in ("sequential", "parallel", "minimal")}
    rec = recommend(PROFILE.with_state("warm"), strategies)
    (row,) = analysis_rows("large", ("warm",), {"warm": rec}, bench, strategies)
    assert tuple(row) == ANALYSIS_COLUMNS
    assert (row["recommended"], row["measured_best"], row["tied"]) == (
        "sequential", "parallel", "sequential, parallel")
    assert row["within_5pct"] is True
    assert row["paired_ratio"] == pytest.approx(1.02)
    assert row["sure"] == ("tie with parallel (fewest resources chosen); 1 shown slower "
                           "(95 % paired intervals, 5% margin)")
    assert row["verdict"] == ("within 5% of parallel (medians: 1.020; paired by round: 1.020)")
    assert row["summary"].startswith("large warm: recommend sequential; dominant cost: ")
