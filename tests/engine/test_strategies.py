"""The five strategies as values, the registry, and what their execution contexts hold."""

from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path

import pytest

import rrperf.engine as engine
from rrperf.engine.strategies import (
    ALL_CATEGORIES,
    DEFAULT_STRATEGY,
    STRATEGIES,
    ExecutionContext,
    Strategy,
    get_strategy,
    strategy_names,
)
from rrperf.errors import ConfigError

CPUS = len(os.sched_getaffinity(0))
NO_CACHE: frozenset[str] = frozenset()
SCHEMA_ONLY = frozenset({"schema_introspection"})


def test_registry_order_and_values() -> None:
    assert strategy_names() == (
        "sequential", "parallel", "cache_heavy", "balanced", "minimal", "auto"
    )
    assert DEFAULT_STRATEGY == "auto"  # what `rrperf generate` runs without --strategy
    assert STRATEGIES["sequential"] == Strategy(
        "sequential", "serial", 1, ALL_CATEGORIES, SCHEMA_ONLY, 1.0, True, None
    )
    assert STRATEGIES["parallel"] == Strategy(
        "parallel", "process", None, ALL_CATEGORIES, SCHEMA_ONLY, 1.0, True, None
    )
    assert STRATEGIES["cache_heavy"] == Strategy(
        "cache_heavy", "serial", 1, ALL_CATEGORIES, ALL_CATEGORIES, 2.0, True, None
    )
    assert STRATEGIES["balanced"] == Strategy(
        "balanced", "process", max(1, CPUS // 2), ALL_CATEGORIES, SCHEMA_ONLY, 1.0, True, None
    )
    assert STRATEGIES["minimal"] == Strategy(
        "minimal", "serial", 1, NO_CACHE, NO_CACHE, 1.0, False, None
    )
    assert STRATEGIES["auto"] == Strategy(
        "auto", "process", None, NO_CACHE, NO_CACHE, 1.0, False, None, manifest=True
    )
    assert [s.keeps_manifest for s in STRATEGIES.values()] == [
        True, True, True, True, False, True
    ]
    assert ALL_CATEGORIES == {
        "schema_introspection", "template_render", "type_mapping", "relationships"
    }


def test_resolved_workers() -> None:
    assert [s.resolved_workers() for s in STRATEGIES.values()] == [
        1, CPUS, 1, max(1, CPUS // 2), 1, CPUS
    ]
    assert Strategy("s", "serial", 8, NO_CACHE, NO_CACHE).resolved_workers() == 1
    assert Strategy("t", "thread", 3, NO_CACHE, NO_CACHE).resolved_workers() == 3


def test_registry_is_read_only_and_strategies_frozen() -> None:
    with pytest.raises(TypeError):
        STRATEGIES["mine"] = STRATEGIES["minimal"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        STRATEGIES["minimal"].workers = 2  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(STRATEGIES["parallel"])) == STRATEGIES["parallel"]


def test_get_strategy() -> None:
    assert get_strategy("balanced") is STRATEGIES["balanced"]
    custom = dataclasses.replace(STRATEGIES["parallel"], workers=3)
    assert get_strategy(custom) is custom
    with pytest.raises(ConfigError, match=r"^unknown strategy 'fast'; valid strategies: "
                       r"sequential, parallel, cache_heavy, balanced, minimal, auto$") as info:
        get_strategy("fast")
    assert info.value.__cause__ is None
    with pytest.raises(ConfigError, match="a strategy must be a name or a Strategy, got int 3"):
        get_strategy(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "a strategy name must be a non-empty string, got ''"),
        ({"backend": "gpu"}, "backend must be one of serial, thread, process, dask, got 'gpu'"),
        ({"workers": 0}, "workers must be a positive integer or None, got 0"),
        ({"workers": True}, "workers must be a positive integer or None, got True"),
        ({"batch_size": -1}, "batch_size must be a positive integer or None, got -1"),
        ({"cache_memory": {"templates"}}, "cache_memory: unknown cache category 'templates'"),
        ({"cache_disk": "schema_introspection"}, "cache_disk must be a set of cache category"),
        ({"ttl_multiplier": 0}, "ttl_multiplier must be a number > 0, got 0"),
        ({"monitoring": 1}, "monitoring must be True or False, got 1"),
    ],
)
def test_strategy_validation(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(STRATEGIES["sequential"], **changes)


def test_lazy_exports() -> None:
    assert engine.get_strategy is get_strategy
    assert engine.STRATEGIES is STRATEGIES
    assert engine.Strategy is Strategy and engine.ExecutionContext is ExecutionContext


def test_contexts_hold_what_the_strategy_says(tmp_path: Path) -> None:
    with STRATEGIES["cache_heavy"].make_context(cache_dir=tmp_path / "heavy") as heavy:
        assert heavy.executor.backend == "serial"
        assert heavy.monitor is not None and heavy.executor.monitor is heavy.monitor
        assert heavy.cache is not None
        config = heavy.cache.config
        assert config.directory == str(tmp_path / "heavy")
        assert config.disk_categories == ALL_CATEGORIES
        assert config.enabled_categories == ALL_CATEGORIES
        assert config.effective_ttl("template_render") == 7200.0
        assert config.memory_size["template_render"] == 65_536
    with STRATEGIES["sequential"].make_context(cache_dir=tmp_path / "seq") as seq:
        assert seq.cache is not None
        assert seq.cache.config.disk_categories == SCHEMA_ONLY
        assert seq.cache.config.effective_ttl("template_render") == 3600.0
    with STRATEGIES["minimal"].make_context(cache_dir=tmp_path / "min") as minimal:
        assert (minimal.cache, minimal.monitor) == (None, None)
        assert minimal.executor.config.enable_monitoring is False
        assert minimal.cache_stats() == (0, 0)
    with STRATEGIES["parallel"].make_context(cache_dir=tmp_path / "par") as par:
        expected = "process" if CPUS > 1 else "serial"
        assert (par.executor.backend, par.executor.max_workers) == (expected, CPUS)
    one = Strategy("one", "process", 1, NO_CACHE, NO_CACHE, monitoring=False)
    with one.make_context(cache_dir=tmp_path / "one") as ctx:
        assert ctx.executor.backend == "serial"  # a pool of one only adds pickling


def test_default_cache_dir_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with STRATEGIES["sequential"].make_context() as ctx:
        assert ctx.cache_dir == tmp_path / ".rrperf" / "cache"
        assert ctx.state_dir == tmp_path / ".rrperf" / "cache" / "state"


def test_given_monitor_is_used(tmp_path: Path) -> None:
    from rrperf.engine.monitor import MonitorConfig, PerformanceMonitor

    monitor = PerformanceMonitor(MonitorConfig(background=False))
    with STRATEGIES["sequential"].make_context(cache_dir=tmp_path, monitor=monitor) as ctx:
        assert ctx.monitor is monitor


def test_cache_stats_clear_and_close(tmp_path: Path) -> None:
    ctx = ExecutionContext("cache_heavy", cache_dir=tmp_path / "cache")
    assert ctx.cache is not None
    assert ctx.cache.get_or_compute("type_mapping", ("a",), lambda: 1) == 1
    assert ctx.cache.get_or_compute("type_mapping", ("a",), lambda: 2) == 1
    ctx.count(hits=2, misses=1)
    assert ctx.cache_stats() == (3, 2)
    ctx.state["x"] = 1
    ctx.state_dir.mkdir(parents=True)
    (ctx.state_dir / "manifest.json").write_text("{}")
    ctx.clear()
    assert ctx.state == {} and not ctx.state_dir.exists()
    assert ctx.cache.get_or_compute("type_mapping", ("a",), lambda: 3) == 3  # cold again
    assert ctx.cache_stats() == (3, 3)  # cumulative
    ctx.close()
    ctx.close()  # idempotent
    assert ctx.closed
    assert "ExecutionContext('cache_heavy', backend='serial', workers=1" in repr(ctx)


def test_thread_context_closes_its_pool(tmp_path: Path) -> None:
    from rrperf.engine.stages import Stage

    strategy = Strategy("threads", "thread", 2, NO_CACHE, NO_CACHE, monitoring=False)
    with strategy.make_context(cache_dir=tmp_path) as ctx:
        out = ctx.executor.execute_parallel([Stage("a", lambda: 1), Stage("b", lambda: 2)])
        assert out == {"a": 1, "b": 2}
        assert ctx.executor._thread_pool is not None
    assert ctx.executor._thread_pool is None
