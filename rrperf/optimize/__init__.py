"""Pick, apply and justify a generator execution strategy.

``from rrperf.optimize import PerformanceOptimizer``; the model lives in
:mod:`rrperf.optimize.workload`. Names load on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rrperf._util import lazy_exports

__all__ = [
    "AnalysisResult",
    "OptimizationResult",
    "OptimizerConfig",
    "PerformanceOptimizer",
    "Recommendation",
    "WorkloadProfile",
    "predict",
    "profile_workload",
    "recommend",
]

_LAZY: dict[str, str] = {
    "AnalysisResult": "rrperf.optimize.optimizer",
    "OptimizationResult": "rrperf.optimize.optimizer",
    "OptimizerConfig": "rrperf.optimize.optimizer",
    "PerformanceOptimizer": "rrperf.optimize.optimizer",
    "Recommendation": "rrperf.optimize.workload",
    "WorkloadProfile": "rrperf.optimize.workload",
    "predict": "rrperf.optimize.workload",
    "profile_workload": "rrperf.optimize.workload",
    "recommend": "rrperf.optimize.workload",
}

if TYPE_CHECKING:
    from rrperf.optimize.optimizer import (
        AnalysisResult,
        OptimizationResult,
        OptimizerConfig,
        PerformanceOptimizer,
    )
    from rrperf.optimize.workload import (
        Recommendation,
        WorkloadProfile,
        predict,
        profile_workload,
        recommend,
    )


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
