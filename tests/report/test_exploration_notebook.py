"""notebooks/exploration.ipynb executes headless with papermill and shows what it promises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "exploration.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _source(cell: Any) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _cell(nb: Any, startswith: str) -> Any:
    found = [c for c in nb.cells if c.cell_type == "code" and _source(c).startswith(startswith)]
    assert len(found) == 1, f"expected one cell starting with {startswith!r}, got {len(found)}"
    return found[0]


def _mimes(cell: Any) -> list[str]:
    return [m for out in cell.get("outputs", []) for m in out.get("data", {})]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import os

    import nbformat
    import papermill

    work = tmp_path_factory.mktemp("exploration")
    out = work / "exploration.out.ipynb"
    # An inherited MPLBACKEND=Agg would strip inline images from the kernel's outputs; the
    # kernel inherits this process's environment.
    backend = os.environ.pop("MPLBACKEND", None)
    try:
        papermill.execute_notebook(
            str(NOTEBOOK), str(out),
            parameters={"scenario": "small", "iterations": 2, "warmup": 0, "seed": 5},
            kernel_name="python3", cwd=str(work), progress_bar=False,
        )
    except papermill.PapermillExecutionError:
        pass  # the executed notebook is written anyway; test_runs_headless reports the error
    finally:
        if backend is not None:
            os.environ["MPLBACKEND"] = backend
    return nbformat.read(out, as_version=4)


def test_parameters_cell_is_tagged_and_plain() -> None:
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert _source(tagged[0]).splitlines()[1:] == [
        'scenario = "small"', "iterations = 3", "warmup = 1", "seed = 1",
    ]
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
def test_runs_headless_without_errors(executed: Any) -> None:
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    assert errors == []
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert 'scenario = "small"' in _source(injected[0])


@pytest.mark.slow
def test_panels_are_displayed_as_widgets(executed: Any) -> None:
    assert WIDGET_VIEW in _mimes(_cell(executed, "panel = ControlPanel("))
    assert WIDGET_VIEW in _mimes(_cell(executed, "tuner = StrategyTuner("))


@pytest.mark.slow
def test_programmatic_run_shows_a_result(executed: Any) -> None:
    run = _cell(executed, "result = panel.run()")
    html = "".join(o.data["text/html"] for o in run.outputs if "text/html" in o.get("data", {}))
    assert "<strong>BenchmarkResult</strong>: 4 rows (0 warm-up), baseline <code>legacy</code>" in (
        html)
    summary = _cell(executed, "result.summary()")
    table = "".join(o.data["text/html"] for o in summary.outputs if "text/html" in o.data)
    assert table.count("<td>small</td>") == 2
    assert "<td>legacy</td>" in table and "<td>pipeline</td>" in table


@pytest.mark.slow
def test_programmatic_trial_shows_the_trials_table(executed: Any) -> None:
    trial = _cell(executed, "trial = tuner.run()")
    table = "".join(o.data["text/html"] for o in trial.outputs if "text/html" in o.data)
    for column in ("trial", "strategy", "workers", "ttl_multiplier", "median_wall_s",
                   "ratio_vs_first"):
        assert f"<th>{column}</th>" in table
    assert "<td>1.0</td>" in table  # ratio_vs_first of the first trial
