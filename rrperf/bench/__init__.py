"""Benchmarks: runner, systems, scenarios, results, statistics, history and reports.

Names are loaded on first use (PEP 562), so ``import rrperf.bench`` pulls in neither pandas nor
scipy::

    from rrperf.bench import BenchmarkRunner, generate_report

    result = BenchmarkRunner(iterations=5, seed=1).run(["small"])
    print(generate_report(result, format="markdown"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rrperf._util import lazy_exports

__all__ = [
    "BenchScenario",
    "BenchmarkResult",
    "BenchmarkRunner",
    "CallableSystem",
    "Command",
    "GeneratorSystem",
    "HistoryStore",
    "PipelineSystem",
    "RunContext",
    "RunMetadata",
    "RunOutcome",
    "System",
    "collect_metadata",
    "compare",
    "detect_regressions",
    "generate_report",
    "read_result",
    "resolve_scenario",
    "stability_warnings",
    "summarize",
]

_LAZY: dict[str, tuple[str, ...]] = {
    "rrperf.bench.history": ("HistoryStore",),
    "rrperf.bench.metadata": ("RunMetadata", "collect_metadata"),
    "rrperf.bench.regress": ("compare", "detect_regressions"),
    "rrperf.bench.report": ("generate_report",),
    "rrperf.bench.results": ("BenchmarkResult", "read_result"),
    "rrperf.bench.runner": ("BenchmarkRunner",),
    "rrperf.bench.scenarios": ("BenchScenario", "resolve_scenario"),
    "rrperf.bench.stats": ("stability_warnings", "summarize"),
    "rrperf.bench.systems": (
        "CallableSystem", "Command", "GeneratorSystem", "PipelineSystem", "RunContext",
        "RunOutcome", "System",
    ),
}

if TYPE_CHECKING:
    from rrperf.bench.history import HistoryStore
    from rrperf.bench.metadata import RunMetadata, collect_metadata
    from rrperf.bench.regress import compare, detect_regressions
    from rrperf.bench.report import generate_report
    from rrperf.bench.results import BenchmarkResult, read_result
    from rrperf.bench.runner import BenchmarkRunner
    from rrperf.bench.scenarios import BenchScenario, resolve_scenario
    from rrperf.bench.stats import stability_warnings, summarize
    from rrperf.bench.systems import (
        CallableSystem,
        Command,
        GeneratorSystem,
        PipelineSystem,
        RunContext,
        RunOutcome,
        System,
    )


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
