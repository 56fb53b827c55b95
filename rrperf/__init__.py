"""rrperf: measure, speed up and prove the performance of the ReactiveRecord generator.

Everyday names are re-exported here and loaded lazily on first use, so ``import rrperf`` stays
light (no pandas, scipy, matplotlib, seaborn, ipywidgets or papermill).
"""

from __future__ import annotations

import rrperf.generator.categories  # noqa: F401  (registers the generator's cache categories)
from rrperf._util import lazy_exports
from rrperf.errors import RrperfError

TYPE_CHECKING = False  # not typing's: a warm command imports no typing (rrperf.cli._warm)

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

# defining module -> the names it defines; imported on first attribute access (PEP 562).
_LAZY: dict[str, tuple[str, ...]] = {
    "rrperf._version": ("__version__",),
    "rrperf.bench.runner": ("BenchmarkRunner",),
    "rrperf.engine.cache": ("CacheOptimizer",),
    "rrperf.engine.monitor": ("PerformanceMonitor",),
    "rrperf.engine.parallel": ("ParallelExecutor",),
    "rrperf.generator.api": ("generate",),
    "rrperf.optimize.optimizer": ("PerformanceOptimizer",),
    "rrperf.schema.model": ("Schema",),
    "rrperf.schema.sources": ("load_schema",),
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
