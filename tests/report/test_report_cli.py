"""``rrperf report``: arguments reach render_report typed; errors exit 1 with one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from rrperf.bench.results import read_result
from rrperf.bench.systems import available_strategies
from rrperf.cli import main
from rrperf.report import notebooks as nbm


def _notebook(path: Path, *cells: str, params: str) -> Path:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells.append(cell)
    nb.cells.extend(nbformat.v4.new_code_cell(src) for src in cells)
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    nbformat.write(nb, str(path))
    return path


def test_cli_passes_typed_parameters_to_render_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[Any, dict[str, Any]]] = []

    def fake_render(notebook: Any, **kws: Any) -> nbm.ReportPaths:
        calls.append((notebook, kws))
        return nbm.ReportPaths(notebook=tmp_path / "n.ipynb", html=tmp_path / "n.html",
                               markdown=None, extras=(tmp_path / "r.csv",))

    monkeypatch.setattr(nbm, "render_report", fake_render)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()  # no rrperf.toml here: the kernel reads none
    code = main(["report", "-p", "scenarios", "small,large", "-p", "iterations", "3",
                 "-p", "title", "A, B", "--out", str(tmp_path), "--format", "html",
                 "--kernel", "k", "--timeout", "9.5"])
    assert code == 0
    assert calls == [("benchmark_report", {
        "parameters": {"scenarios": ["small", "large"], "iterations": 3, "title": "A, B",
                       "config_file": ""},
        "output_dir": str(tmp_path), "formats": ("html",), "kernel_name": "k", "timeout_s": 9.5,
    })]
    assert capsys.readouterr().out.splitlines() == [
        f"executed notebook: {tmp_path / 'n.ipynb'}",
        f"HTML report:       {tmp_path / 'n.html'}",
        f"  also written:    {tmp_path / 'r.csv'}",
    ]
    # the rrperf.toml the command finds goes to the notebook's kernel; -p config_file wins
    (tmp_path / "rrperf.toml").write_text('exclude_tables = ["comm*"]\n')
    calls.clear()
    assert main(["report", "--out", str(tmp_path)]) == 0
    assert calls[0][1]["parameters"] == {"config_file": str(tmp_path / "rrperf.toml")}
    calls.clear()
    assert main(["report", "--out", str(tmp_path), "-p", "config_file", "other.toml"]) == 0
    assert calls[0][1]["parameters"] == {"config_file": "other.toml"}


def test_unknown_parameter_exits_1_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "-p", "iteration", "3"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("rrperf: error: notebook 'benchmark_report' has no parameter "
                          "'iteration' (did you mean 'iterations'?); its parameters are: title,")


def test_bad_value_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "benchmark_report", "-p", "iterations", "many"]) == 1
    assert capsys.readouterr().err == (
        "rrperf: error: parameter 'iterations' expects int, got 'many'\n"
    )


def test_unknown_notebook_exits_1_listing_available(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("rrperf: error: no notebook 'nope'; available notebooks: ")
    assert "benchmark_report" in err and "strategy_analysis" in err


def test_list_shows_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "benchmark_report", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "benchmark_report"
    assert lines[1].split() == ["parameter", "type", "default", "help"]
    rows = {line.split()[0]: line.split()[1] for line in lines[3:]}
    assert rows["iterations"] == "int" and rows["scenarios"] == "list[str]"


def test_bad_format_is_a_usage_free_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--format", "pdf"]) == 1
    assert capsys.readouterr().err == (
        "rrperf: error: report formats must be among html, markdown, got 'pdf'\n"
    )


@pytest.mark.slow
def test_report_command_runs_the_benchmark_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    argv = ["report", "benchmark_report", "-p", "scenarios", "small", "-p", "iterations", "2",
            "-p", "cache_states", "warm", "--out", str(out)]
    if "sequential" in available_strategies():
        argv += ["-p", "strategies", "sequential"]
    assert main(argv) == 0
    for name in ("benchmark_report.ipynb", "benchmark_report.html", "benchmark_report.md",
                 "benchmark_results.parquet", "benchmark_results.csv"):
        assert (out / name).is_file(), name
    data = read_result(out / "benchmark_results.csv").data
    assert set(data["cache_state"]) == {"warm"} and int((~data["warmup"]).sum()) == 4
    # the notebook's default history store, relative to the working directory
    assert (tmp_path / ".rrperf" / "history.sqlite").is_file()
    printed = capsys.readouterr().out
    assert f"HTML report:       {out / 'benchmark_report.html'}" in printed


@pytest.mark.slow
def test_failing_cell_exits_1_naming_the_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _notebook(tmp_path / "broken.ipynb", "import math", "value = math.sqrt(limit)",
                     params="limit: int = 4")
    assert main(["report", str(path), "-p", "limit", "-1", "--out", str(tmp_path / "o")]) == 1
    executed = tmp_path / "o" / "broken.ipynb"
    assert capsys.readouterr().err == (
        "rrperf: error: notebook 'broken' failed in cell 3 ('value = math.sqrt(limit)'): "
        f"ValueError: math domain error; the executed notebook is kept at {executed}\n"
    )
    kept = nbformat.read(str(executed), as_version=4)
    assert any(o.get("ename") == "ValueError" for c in kept.cells for o in c.get("outputs", []))
