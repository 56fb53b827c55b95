"""The Jupyter layer: charts, widget panels and report notebooks.

Import it explicitly (``import rrperf.report as rr``); ``import rrperf`` never loads it. Names
are resolved on first use (PEP 562), so importing this package pulls in neither matplotlib nor
papermill nor ipywidgets::

    import rrperf.report as rr

    rr.ci_chart(result.summary())
    paths = rr.render_report("benchmark_report", parameters={"scenarios": ["small"]})
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rrperf._util import lazy_exports

__all__ = [
    "ControlPanel",
    "NotebookExecutionError",
    "ReportPaths",
    "StrategyTuner",
    "available_notebooks",
    "cache_chart",
    "ci_chart",
    "comparison_chart",
    "distribution_chart",
    "headline_table",
    "memory_timeline",
    "notebook_parameters",
    "parse_parameters",
    "regression_chart",
    "render_report",
    "scaling_chart",
    "speedup_chart",
    "variant_label",
]

_LAZY: dict[str, tuple[str, ...]] = {
    "rrperf.report.notebooks": (
        "NotebookExecutionError", "ReportPaths", "available_notebooks", "headline_table",
        "notebook_parameters", "parse_parameters", "render_report",
    ),
    "rrperf.report.plots": (
        "cache_chart", "ci_chart", "comparison_chart", "distribution_chart", "memory_timeline",
        "regression_chart", "scaling_chart", "speedup_chart", "variant_label",
    ),
    "rrperf.report.widgets": ("ControlPanel", "StrategyTuner"),
}

if TYPE_CHECKING:
    from rrperf.report.notebooks import (
        NotebookExecutionError,
        ReportPaths,
        available_notebooks,
        headline_table,
        notebook_parameters,
        parse_parameters,
        render_report,
    )
    from rrperf.report.plots import (
        cache_chart,
        ci_chart,
        comparison_chart,
        distribution_chart,
        memory_timeline,
        regression_chart,
        scaling_chart,
        speedup_chart,
        variant_label,
    )
    from rrperf.report.widgets import ControlPanel, StrategyTuner


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
