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

_LAZY: dict[str, str] = {
    "ControlPanel": "rrperf.report.widgets",
    "NotebookExecutionError": "rrperf.report.notebooks",
    "ReportPaths": "rrperf.report.notebooks",
    "StrategyTuner": "rrperf.report.widgets",
    "available_notebooks": "rrperf.report.notebooks",
    "cache_chart": "rrperf.report.plots",
    "ci_chart": "rrperf.report.plots",
    "comparison_chart": "rrperf.report.plots",
    "distribution_chart": "rrperf.report.plots",
    "headline_table": "rrperf.report.notebooks",
    "memory_timeline": "rrperf.report.plots",
    "notebook_parameters": "rrperf.report.notebooks",
    "parse_parameters": "rrperf.report.notebooks",
    "regression_chart": "rrperf.report.plots",
    "render_report": "rrperf.report.notebooks",
    "scaling_chart": "rrperf.report.plots",
    "speedup_chart": "rrperf.report.plots",
    "variant_label": "rrperf.report.plots",
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
