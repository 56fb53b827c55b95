"""rrperf: measure, speed up and prove the performance of the ReactiveRecord generator.

Everyday names are re-exported here and loaded lazily on first use, so ``import rrperf`` stays
light (no pandas, scipy, matplotlib, seaborn, ipywidgets or papermill).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import rrperf.generator.categories  # noqa: F401  (registers the generator's cache categories)
from rrperf._util import lazy_exports
from rrperf.errors import RrperfError

__all__ = [
    "BenchmarkRunner",
    "CacheOptimizer",
    "ParallelExecutor",
    "PerformanceMonitor",
    "PerformanceOptimizer",
    "RrperfError",
    "Schema",
    "__version__",
    "generate",
    "load_schema",
]

# name -> module that defines it; imported on first attribute access (PEP 562).
_LAZY: dict[str, str] = {
    "__version__": "rrperf._version",
    "BenchmarkRunner": "rrperf.bench.runner",
    "CacheOptimizer": "rrperf.engine.cache",
    "ParallelExecutor": "rrperf.engine.parallel",
    "PerformanceMonitor": "rrperf.engine.monitor",
    "PerformanceOptimizer": "rrperf.optimize.optimizer",
    "Schema": "rrperf.schema.model",
    "generate": "rrperf.generator.api",
    "load_schema": "rrperf.schema.sources",
}

if TYPE_CHECKING:
    from rrperf._version import __version__
    from rrperf.bench.runner import BenchmarkRunner
    from rrperf.engine.cache import CacheOptimizer
    from rrperf.engine.monitor import PerformanceMonitor
    from rrperf.engine.parallel import ParallelExecutor
    from rrperf.generator.api import generate
    from rrperf.optimize.optimizer import PerformanceOptimizer
    from rrperf.schema.model import Schema
    from rrperf.schema.sources import load_schema


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
