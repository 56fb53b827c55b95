"""Generic execution engine: stages, parallel executor, cache, monitor (no Rails knowledge).

Every name loads on first attribute access (PEP 562), so ``import rrperf.engine`` pulls in
neither loky, diskcache, psutil nor pandas, and ``rrperf generate`` answering a repeat from
its output manifest imports only the strategies.
"""

from __future__ import annotations

from rrperf._util import lazy_exports

TYPE_CHECKING = False  # not typing's: a warm command imports no typing (rrperf.cli._warm)

__all__ = [
    "MISS",
    "STRATEGIES",
    "Alert",
    "AlertThresholds",
    "CacheConfig",
    "CacheOptimizer",
    "ExecutionContext",
    "ExecutorConfig",
    "MonitorConfig",
    "ParallelExecutor",
    "PerformanceMonitor",
    "Pipeline",
    "SessionSummary",
    "Stage",
    "Strategy",
    "cache_key",
    "get_strategy",
]

# name -> module that defines it; imported on first attribute access.
_LAZY: dict[str, tuple[str, ...]] = {
    "rrperf.engine.cache": ("MISS", "CacheConfig", "CacheOptimizer", "cache_key"),
    "rrperf.engine.monitor": (
        "Alert", "AlertThresholds", "MonitorConfig", "PerformanceMonitor", "SessionSummary",
    ),
    "rrperf.engine.parallel": ("ExecutorConfig", "ParallelExecutor"),
    "rrperf.engine.stages": ("Pipeline", "Stage"),
    "rrperf.engine.strategies": ("ExecutionContext", "STRATEGIES", "Strategy", "get_strategy"),
}

if TYPE_CHECKING:
    from rrperf.engine.cache import MISS, CacheConfig, CacheOptimizer, cache_key
    from rrperf.engine.monitor import (
        Alert,
        AlertThresholds,
        MonitorConfig,
        PerformanceMonitor,
        SessionSummary,
    )
    from rrperf.engine.parallel import ExecutorConfig, ParallelExecutor
    from rrperf.engine.stages import Pipeline, Stage
    from rrperf.engine.strategies import STRATEGIES, ExecutionContext, Strategy, get_strategy


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
