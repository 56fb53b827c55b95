"""Pick, apply and justify a generator execution strategy.

``from rrperf.optimize import PerformanceOptimizer``. The cost model lives in
:mod:`rrperf.optimize.workload`, its measurements in :mod:`rrperf.optimize.profiler` and
:mod:`rrperf.optimize.calibration`, the check against a benchmark in
:mod:`rrperf.optimize.analysis`. Names load on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rrperf._util import lazy_exports

__all__ = [
    "AnalysisResult",
    "Calibration",
    "OptimizationResult",
    "OptimizerConfig",
    "PerformanceOptimizer",
    "Recommendation",
    "WorkloadProfile",
    "predict",
    "profile_workload",
    "recommend",
]

_LAZY: dict[str, tuple[str, ...]] = {
    "rrperf.optimize.analysis": ("AnalysisResult",),
    "rrperf.optimize.optimizer": ("OptimizationResult", "OptimizerConfig", "PerformanceOptimizer"),
    "rrperf.optimize.profiler": ("profile_workload",),
    "rrperf.optimize.workload": (
        "Calibration", "Recommendation", "WorkloadProfile", "predict", "recommend",
    ),
}

if TYPE_CHECKING:
    from rrperf.optimize.analysis import AnalysisResult
    from rrperf.optimize.optimizer import OptimizationResult, OptimizerConfig, PerformanceOptimizer
    from rrperf.optimize.profiler import profile_workload
    from rrperf.optimize.workload import (
        Calibration,
        Recommendation,
        WorkloadProfile,
        predict,
        recommend,
    )


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
