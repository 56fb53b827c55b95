"""PerformanceOptimizer: configuration, components, runs checked against legacy, reports."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from rrperf.errors import ConfigError
from rrperf.optimize.optimizer import OptimizerConfig, PerformanceOptimizer

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
