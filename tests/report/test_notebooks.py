"""rrperf.report.notebooks: parameters, error mapping, display helpers, and every shipped
notebook executed through papermill with tiny parameters (marked slow)."""

from __future__ import annotations

import math
import pickle
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
from markdown_it import MarkdownIt

import rrperf
import rrperf.report as rr
from rrperf.bench.results import BenchmarkResult, measurements_frame, read_result
from rrperf.errors import ConfigError, ReportError
from rrperf.report import display
from rrperf.report import notebooks as nbm
from rrperf.report.notebooks import (
    NotebookExecutionError,
    NotebookParameter,
    ReportTable,
    _papermill_errors,
    headline_table,
    notebook_parameters,
    parse_parameters,
    render_report,
    resolve_notebook,
)

REPO = Path(__file__).resolve().parents[2]
EVIL = "<script>alert(1)</script>|*x*"


def _notebook(path: Path, *cells: str, params: str | None = None) -> Path:
    nb = nbformat.v4.new_notebook()
    if params is not None:
        cell = nbformat.v4.new_code_cell(params)
        cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.cells.extend(nbformat.v4.new_code_cell(src) for src in cells)
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    nbformat.write(nb, str(path))
    return path


# --------------------------------------------------------------------------- finding notebooks


def test_notebooks_dir_is_the_top_level_folder_through_the_package() -> None:
    folder = nbm.notebooks_dir()
    assert folder == Path(rrperf.__file__).resolve().parent / "notebooks"
    assert (REPO / "rrperf" / "notebooks").is_symlink()
    assert folder.resolve() == (REPO / "notebooks").resolve()


def test_available_notebooks_lists_the_shipped_ones() -> None:
    names = nbm.available_notebooks()
    assert names == sorted(names)
    assert {"benchmark_report", "strategy_analysis"} <= set(names)


def test_resolve_by_name_with_or_without_suffix_and_by_path(tmp_path: Path) -> None:
    expected = nbm.notebooks_dir() / "benchmark_report.ipynb"
    assert resolve_notebook("benchmark_report") == expected
    assert resolve_notebook("benchmark_report.ipynb") == expected
    own = _notebook(tmp_path / "mine.ipynb", "1 + 1")
    assert resolve_notebook(own) == own.resolve()
    assert resolve_notebook(str(own)) == own.resolve()


def test_unknown_notebook_lists_available_and_suggests() -> None:
    with pytest.raises(ReportError, match=r"no notebook 'benchmark_reprot' \(did you mean "
                       r"'benchmark_report'\?\); available notebooks: .*benchmark_report"):
        resolve_notebook("benchmark_reprot")


# --------------------------------------------------------------------------- parameters


def test_benchmark_report_declares_the_contract_parameters() -> None:
    params = notebook_parameters("benchmark_report")
    assert list(params) == [
        "title", "scenarios", "systems", "strategies", "iterations", "warmup",
        "cache_states", "baseline", "history_path", "output_dir", "seed", "config_file",
    ]
    assert params["iterations"] == NotebookParameter("iterations", "int", "20", "")
    assert params["scenarios"].kind == "list[str]"
    assert params["scenarios"].default == '["small", "medium", "large", "polymorphic_heavy"]'


def test_parse_parameters_uses_the_declared_types() -> None:
    assert parse_parameters("benchmark_report", [
        ("iterations", "3"), ("scenarios", "small,large"), ("title", "  My <b>run</b> "),
        ("strategies", "['sequential', 'parallel']"), ("cache_states", "warm"),
        ("history_path", ""),
    ]) == {
        "iterations": 3,
        "scenarios": ["small", "large"],
        "title": "  My <b>run</b> ",
        "strategies": ["sequential", "parallel"],
        "cache_states": ["warm"],
        "history_path": "",
    }


def test_parse_parameters_later_pair_wins_and_mapping_accepted() -> None:
    assert parse_parameters("benchmark_report", [("seed", "1"), ("seed", "2")]) == {"seed": 2}
    assert parse_parameters("benchmark_report", {"warmup": "0"}) == {"warmup": 0}


def test_types_inferred_from_defaults_without_annotations(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path / "p.ipynb",
        params="sizes = [50, 200]\nratio = 0.5\nflag = False\nname = 'x'\nmixed = [1, 'a']",
    )
    kinds = {name: p.kind for name, p in notebook_parameters(path).items()}
    assert kinds == {"sizes": "list[int]", "ratio": "float", "flag": "bool", "name": "str",
                     "mixed": "list"}
    assert parse_parameters(path, [
        ("sizes", "20, 40"), ("ratio", "1e-3"), ("flag", "yes"), ("name", "7"), ("mixed", "a,b"),
    ]) == {"sizes": [20, 40], "ratio": 0.001, "flag": True, "name": "7", "mixed": ["a", "b"]}
    assert parse_parameters(path, [("flag", "OFF"), ("sizes", "[1, 2]")]) == {
        "flag": False, "sizes": [1, 2],
    }


def test_unknown_parameter_is_an_error_with_a_hint() -> None:
    with pytest.raises(ConfigError, match=r"notebook 'benchmark_report' has no parameter "
                       r"'iteration' \(did you mean 'iterations'\?\); its parameters are: "
                       r"title, scenarios, .*, seed, config_file$"):
        parse_parameters("benchmark_report", [("iteration", "3")])


@pytest.mark.parametrize(("name", "text", "message"), [  # message None: accepted
    ("iterations", "three", r"parameter 'iterations' expects int, got 'three'"),
    ("seed", "1.5", r"parameter 'seed' expects int, got '1.5'"),
    ("scenarios", "[small", r"parameter 'scenarios' expects a list such as a,b"),
    ("scenarios", "['a'] + []", r"parameter 'scenarios' expects a list such as a,b"),
    ("scenarios", "[1, 'b']", r"parameter 'scenarios' expects a list of str, got 1 in"),
    ("title", "", None),
])
def test_unreadable_values_are_config_errors(
    name: str, text: str, message: str | None
) -> None:
    if message is None:  # the empty string is a valid str value
        assert parse_parameters("benchmark_report", [(name, text)]) == {name: text}
        return
    with pytest.raises(ConfigError, match=message):
        parse_parameters("benchmark_report", [(name, text)])


def test_bool_parameter_rejects_other_words(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "b.ipynb", params="flag: bool = True")
    with pytest.raises(ConfigError, match=r"parameter 'flag' expects true or false, got 'maybe'"):
        parse_parameters(path, [("flag", "maybe")])


def test_render_report_checks_options_before_running(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"has no parameter 'scenario' \(did you mean "
                       r"'scenarios'\?\)"):
        render_report("benchmark_report", parameters={"scenario": ["small"]}, output_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"report formats must be among html, markdown, "
                       r"got 'pdf'"):
        render_report("benchmark_report", formats=("html", "pdf"), output_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"timeout_s must be a positive number of seconds, "
                       r"got 0"):
        render_report("benchmark_report", timeout_s=0, output_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- error mapping


def _pm_error() -> Exception:
    from papermill.exceptions import PapermillExecutionError

    return PapermillExecutionError(
        cell_index=3, exec_count=2, source="\n  x = 1 / 0  # divide\nprint(x)\n",
        ename="ZeroDivisionError", evalue="division by zero", traceback=["tb"],
    )


def test_cell_failure_becomes_notebook_execution_error(tmp_path: Path) -> None:
    executed = tmp_path / "nb.ipynb"
    cause = _pm_error()
    with pytest.raises(NotebookExecutionError) as info:
        with _papermill_errors("nb", executed=executed, timeout_s=5, kernel_name="python3"):
            raise cause
    err = info.value
    assert str(err) == (
        "notebook 'nb' failed in cell 3 ('x = 1 / 0  # divide'): ZeroDivisionError: division "
        f"by zero; the executed notebook is kept at {executed}"
    )
    assert (err.cell_index, err.source_line, err.ename, err.evalue, err.executed) == (
        3, "x = 1 / 0  # divide", "ZeroDivisionError", "division by zero", str(executed),
    )
    assert err.__cause__ is cause
    assert isinstance(err, ReportError)
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is NotebookExecutionError and str(again) == str(err)


def test_multiline_exception_message_stays_on_one_line() -> None:
    err = NotebookExecutionError("n", 1, "f()", "ValueError", "a\nb\n  c", "/x.ipynb")
    assert "\n" not in str(err)
    assert "ValueError: a b c;" in str(err)


def _third_party_errors() -> list[tuple[Exception, str]]:
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillException, PapermillMissingParameterException

    return [
        (CellTimeoutError("t"), r"notebook 'nb': a cell ran longer than timeout_s=5 s; "
                                r"the executed notebook is kept at .*nb\.ipynb$"),
        (DeadKernelError("gone"), r"notebook 'nb': the kernel died: gone; the executed"),
        (NoSuchKernel("py9"), r"no Jupyter kernel named 'python3'; install one for this "
                              r"environment with: python -m ipykernel install --sys-prefix "
                              r"--name python3$"),
        (PapermillMissingParameterException("Missing parameter\n x"),
         r"notebook 'nb': Missing parameter x; the executed"),
        (PapermillException("boom"), r"notebook 'nb': boom; the executed notebook"),
        (nbformat.reader.NotJSONError("bad json"), r"notebook 'nb' is not a valid notebook"),
    ]


@pytest.mark.parametrize(("cause", "message"), _third_party_errors())
def test_every_third_party_error_is_mapped(
    tmp_path: Path, cause: Exception, message: str
) -> None:
    with pytest.raises(ReportError, match=message) as info:
        with _papermill_errors("nb", executed=tmp_path / "nb.ipynb", timeout_s=5,
                               kernel_name="python3"):
            raise cause
    assert info.value.__cause__ is cause
    assert not isinstance(info.value, NotebookExecutionError)


def test_other_errors_pass_through() -> None:
    with pytest.raises(KeyError):
        with _papermill_errors("nb", executed=None, timeout_s=None, kernel_name=None):
            raise KeyError("a bug stays a bug")


def test_kernel_environment_drops_mplbackend_and_restores_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    monkeypatch.setenv("MPLBACKEND", "Agg")
    with nbm._kernel_environment():
        assert "MPLBACKEND" not in os.environ
    assert os.environ["MPLBACKEND"] == "Agg"
    monkeypatch.delenv("MPLBACKEND")
    with nbm._kernel_environment():
        assert "MPLBACKEND" not in os.environ
    assert "MPLBACKEND" not in os.environ


# --------------------------------------------------------------------------- display helpers


def test_report_table_escapes_html_and_markdown() -> None:
    import pandas as pd

    table = ReportTable(
        pd.DataFrame({"scenario": [EVIL], "median": [0.012345678], "n": [3],
                      "memory": [24110.4], "missing": [math.nan]}),
        caption="a <caption>",
    )
    assert table._repr_html_() == "\n".join([
        '<table class="rrperf-table">',
        "<caption>a &lt;caption&gt;</caption>",
        "<thead><tr><th>scenario</th><th>median</th><th>n</th><th>memory</th>"
        "<th>missing</th></tr></thead>",
        "<tbody>",
        "<tr><td>&lt;script&gt;alert(1)&lt;/script&gt;|*x*</td><td>0.01235</td><td>3</td>"
        "<td>24110</td><td></td></tr>",
        "</tbody></table>",
    ])
    md = table._repr_markdown_()
    assert md == (
        "a \\<caption\\>\n\n"
        "| scenario | median | n | memory | missing |\n"
        "|---|---|---|---|---|\n"
        "| \\<script\\>alert(1)\\</script\\>\\|\\*x\\* | 0.01235 | 3 | 24110 |  |\n"
    )
    rendered = MarkdownIt().enable("table").render(md)
    assert "<script>" not in rendered
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;|*x*</td>" in rendered


def test_heading_escapes_and_checks_level() -> None:
    assert rr.notebook_parameters is nbm.notebook_parameters
    assert nbm.heading(EVIL, 2).data == "## \\<script\\>alert(1)\\</script\\>\\|\\*x\\*"
    assert MarkdownIt().render(nbm.heading(EVIL).data) == (
        "<h1>&lt;script&gt;alert(1)&lt;/script&gt;|*x*</h1>\n"
    )
    with pytest.raises(ConfigError, match="heading level must be 1 to 6, got 7"):
        nbm.heading("x", 7)


def test_show_figure_displays_png_with_safe_alt_and_closes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import matplotlib.pyplot as plt

    shown: list[object] = []
    monkeypatch.setattr(display, "_display", shown.append)  # every show_* displays there
    _, ax = plt.subplots()
    ax.set_title("wall <time> [s]")
    nbm.show_figure(ax)
    (image,) = shown
    assert image.data[:8] == b"\x89PNG\r\n\x1a\n"  # type: ignore[attr-defined]
    assert image.metadata == {"alt": "wall time s"}  # type: ignore[attr-defined]
    assert plt.get_fignums() == []


def _row(system: str, strategy: str, i: int, wall: float, *, digest: str = "f" * 64,
         error: str | None = None) -> dict[str, object]:
    return {
        "run_id": "r1", "started_at": datetime(2026, 11, 26, 12, 0, i, tzinfo=UTC),
        "scenario": "small", "system": system, "strategy": strategy,
        "cache_state": "cold", "iteration": i, "order": 0, "warmup": False,
        "wall_s": math.nan if error else wall, "cpu_s": wall, "peak_rss_mb": 50.0,
        "n_tables": 4, "files_total": 13, "files_written": 13, "files_unchanged": 0,
        "cache_hits": 0, "cache_misses": 0, "output_digest": None if error else digest,
        "error": error,
    }


def test_headline_table_gives_median_ratio_and_verdict(caplog: pytest.LogCaptureFixture) -> None:
    legacy = [1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.02, 0.98]
    fast = [0.5, 0.52, 0.48, 0.5, 0.51, 0.49, 0.5, 0.5]
    rows = [_row("legacy", "", i, w) for i, w in enumerate(legacy)]
    rows += [_row("pipeline", "seq", i, w) for i, w in enumerate(fast)]
    rows += [_row("pipeline", "odd", i, w, digest="0" * 64) for i, w in enumerate(fast)]
    rows += [_row("pipeline", "bad", i, 0.1, error="TypeError: boom") for i in range(3)]
    result = BenchmarkResult(measurements_frame(rows), baseline="legacy")
    table = headline_table(result)
    assert list(table.columns) == ["scenario", "cache_state", "variant", "median_s", "ratio",
                                   "verdict"]
    assert table[["variant", "verdict"]].values.tolist() == [
        ["legacy", "baseline"],
        ["pipeline/bad", "failed"],
        ["pipeline/odd", "wrong output"],
        ["pipeline/seq", "faster"],
    ]
    assert set(table["scenario"]) == {"small"} and set(table["cache_state"]) == {"cold"}
    assert table["median_s"].tolist()[0] == 1.0 and table["median_s"].tolist()[2:] == [0.5, 0.5]
    assert math.isnan(table["median_s"].iloc[1])
    ratios = table["ratio"].tolist()
    assert ratios[0] == 1.0 and ratios[3] == 0.5
    assert math.isnan(ratios[1]) and math.isnan(ratios[2])
    assert "left out of the comparison: small / pipeline / odd" in caplog.text


# --------------------------------------------------------------------------- warnings

INET = "audit_events.remote_ip: column type 'inet' has no TypeScript mapping; typed as unknown"


def test_warning_table_counts_results_and_other_recorded_warnings() -> None:
    import warnings

    import pandas as pd

    from rrperf.bench.results import empty_measurements, warnings_frame
    from rrperf.errors import SchemaWarning

    caught = warnings_frame([
        {"scenario": "large", "system": "legacy", "strategy": "", "category": "SchemaWarning",
         "message": INET, "count": 3, "first_iteration": 0},
        {"scenario": "large", "system": "pipeline", "strategy": "sequential",
         "category": "SchemaWarning", "message": INET, "count": 3, "first_iteration": 0},
    ])
    result = BenchmarkResult(empty_measurements(), warnings=caught)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        warnings.warn(INET, SchemaWarning, stacklevel=1)  # the runner's re-emitted one
        warnings.warn("<old> api", DeprecationWarning, stacklevel=1)
        warnings.warn("<old> api", DeprecationWarning, stacklevel=1)
    table = nbm.warning_table([result], record)
    pd.testing.assert_frame_equal(table, pd.DataFrame({
        "category": ["SchemaWarning", "DeprecationWarning"],
        "message": [INET, "<old> api"],
        "count": pd.Series([6, 2], dtype="int64"),
        "places": ["", ""],
        "scenarios": ["large", ""],
        "variants": ["legacy, pipeline/sequential", ""],
    }))
    assert nbm.warning_table([]).empty
    assert list(nbm.warning_table([]).columns) == [
        "category", "message", "count", "places", "scenarios", "variants",
    ]


def test_run_benchmark_report_keeps_warnings_in_the_report(tmp_path: Path) -> None:
    import warnings

    spatial = tmp_path / "spatial.rb"  # a column type without a TypeScript mapping
    spatial.write_text(SPATIAL_SCHEMA, encoding="utf-8")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        report = nbm.run_benchmark_report(
            scenarios=str(spatial), systems=("legacy", "pipeline"), strategies=["sequential"],
            iterations=1, warmup=1, cache_states="cold", history_path=None,
            output_dir=tmp_path,
        )
    assert record == []  # nothing escaped to the caller (or to a notebook cell's stderr)
    assert [{k: v for k, v in r.items() if k != "variants"}
            for r in report.warnings.to_dict("records")] == [
        {"category": "SchemaWarning", "message": UNMAPPED, "count": 4, "places": "",
         "scenarios": "spatial"},
    ]
    assert sorted(report.warnings["variants"].iloc[0].split(", ")) == [
        "legacy", "pipeline/sequential",
    ]
    assert report.result.warnings["count"].tolist() == [2, 2]
    assert read_result(tmp_path / "benchmark_results.parquet").warnings.equals(
        report.result.warnings
    )


def test_show_warnings_displays_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import pandas as pd

    shown: list[object] = []
    monkeypatch.setattr(display, "_display", shown.append)  # every show_* displays there
    table = pd.DataFrame({"category": ["SchemaWarning"], "message": [EVIL],
                          "count": [3], "scenarios": ["large"], "variants": ["legacy"]})
    nbm.show_warnings(types.SimpleNamespace(warnings=table))  # type: ignore[arg-type]
    assert shown[0].data == "## Warnings"  # type: ignore[attr-defined]
    assert isinstance(shown[1], ReportTable)
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;|*x*</td><td>3</td>" in shown[1]._repr_html_()
    assert len(shown) == 2
    shown.clear()
    nbm.show_warnings(types.SimpleNamespace(warnings=table.iloc[0:0]))  # type: ignore[arg-type]
    assert shown == []  # no section when nothing warned


# --------------------------------------------------------------------------- executed notebooks

SMALL = {
    "scenarios": ["small"],
    "iterations": 2,
    "warmup": 1,
    "cache_states": ["cold"],
    "strategies": ["sequential"],
}


def _small_parameters() -> dict[str, object]:
    from rrperf.bench.systems import available_strategies

    params = dict(SMALL)
    if "sequential" not in available_strategies():
        # Until rrperf.engine.strategies exists, the pipeline runs without strategies.
        params["strategies"] = []
    return params


@pytest.fixture(scope="module")
def benchmark_report(tmp_path_factory: pytest.TempPathFactory) -> nbm.ReportPaths:
    out = tmp_path_factory.mktemp("bench-report")
    mp = pytest.MonkeyPatch()
    mp.setenv("MPLBACKEND", "Agg")  # the kernel must not inherit it (images would vanish)
    try:
        return render_report(
            "benchmark_report",
            parameters={**_small_parameters(), "title": "Tiny <b>run</b>",
                        "history_path": str(out / "history.sqlite")},
            output_dir=out / "reports",
        )
    finally:
        mp.undo()


@pytest.mark.slow
def test_benchmark_report_writes_reports_and_results(benchmark_report: nbm.ReportPaths) -> None:
    paths = benchmark_report
    out = paths.notebook.parent
    assert paths.notebook == out / "benchmark_report.ipynb"
    assert paths.html == out / "benchmark_report.html"
    assert paths.markdown == out / "benchmark_report.md"
    names = sorted(p.relative_to(out).as_posix() for p in paths.extras)
    assert [n for n in names if not n.endswith(".png")] == [
        "benchmark_results.csv", "benchmark_results.meta.json", "benchmark_results.parquet",
    ]
    # the summary and comparison charts (the history chart comes from the second run on)
    assert len([n for n in names if n.startswith("benchmark_report_files/")]) >= 2
    parquet = read_result(out / "benchmark_results.parquet")
    csv = read_result(out / "benchmark_results.csv")
    assert parquet.data.equals(csv.data)
    data = parquet.data
    assert sorted(set(data["scenario"])) == ["small"]
    assert sorted(set(data["system"])) == ["legacy", "pipeline"]
    # 2 variants x (1 warm-up + 2 iterations) x 1 cache state
    assert len(data) == 6 and int(data["warmup"].sum()) == 2


@pytest.mark.slow
def test_benchmark_report_html_has_sections_images_and_no_code(
    benchmark_report: nbm.ReportPaths,
) -> None:
    assert benchmark_report.html is not None
    text = benchmark_report.html.read_text(encoding="utf-8")
    assert len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"',
                          text)) >= 2
    assert "<title>Tiny &lt;b&gt;run&lt;/b&gt;</title>" in text
    assert "<b>run</b>" not in text
    for section in ("Run", "Summary", "Comparison", "Correctness", "Regressions", "Stability",
                    "Results files"):
        assert re.search(rf"<h2[^>]*>{section}", text), section
    # code and the parameters are hidden, no script is loaded
    assert "run_benchmark_report(" not in text and "history_path" not in text
    assert "<script" not in text
    assert "Content-Security-Policy" in text


@pytest.mark.slow
def test_benchmark_report_markdown_renders_tables(benchmark_report: nbm.ReportPaths) -> None:
    assert benchmark_report.markdown is not None
    md = benchmark_report.markdown.read_text(encoding="utf-8")
    lines = md.splitlines()
    assert [ln for ln in lines if ln.startswith("#")] == [
        "# Tiny \\<b\\>run\\</b\\>", "## Run", "## Summary", "## Comparison", "## Correctness",
        "## Regressions", "## Stability", "## Results files",
    ]  # no "Warnings": the small scenario raises none
    tokens = MarkdownIt().enable("table").parse(md)
    headers: list[list[str]] = []
    row: list[str] | None = None
    in_head = False
    for i, tok in enumerate(tokens):
        if tok.type == "thead_open":
            in_head, row = True, []
        elif tok.type == "thead_close":
            in_head = False
            headers.append(row or [])
        elif in_head and tok.type == "inline" and tokens[i - 1].type == "th_open":
            assert row is not None
            row.append(tok.content)
    assert ["scenario", "variant", "cache_state", "n", "median", "ci_low", "ci_high", "min",
            "max", "cpu_s", "mem_mb"] in headers
    assert ["scenario", "variant", "cache_state", "ratio", "ratio_ci_low", "ratio_ci_high",
            "p_value", "verdict"] in headers
    assert ["scenario", "variant", "cache_state", "n", "median", "min", "max", "median_pm",
            "cv", "needed", "verdict"] in headers
    assert ["file", "content"] in headers
    # no path of the machine (the results are named relative to the report), no needless escape
    out = benchmark_report.markdown.parent
    assert str(out) not in md and str(out.parent) not in md
    assert not re.search(r"(?<![\w.])/(tmp|home|root|work|var)/", md)
    assert "\\(" not in md and "\\)" not in md and "\\." not in md
    assert "iterations (2 warm-up) of 1 scenario(s)" in md
    assert "First run in the history ../history.sqlite: the next run will be compared" in md
    images = re.findall(r"!\[([^\]]+)\]\((benchmark_report_files/[^)]+\.png)\)", md)
    assert len(images) >= 2
    for _, rel in images:
        assert (benchmark_report.markdown.parent / rel).is_file()
    assert "```" not in md  # no code


@pytest.fixture(scope="module")
def warned_report(tmp_path_factory: pytest.TempPathFactory) -> nbm.ReportPaths:
    """The report of a scenario whose generation warns: a schema file with a PostGIS column
    (a type without a TypeScript mapping), given by path; its label is the file's stem."""
    out = tmp_path_factory.mktemp("warned-report")
    spatial = out / "spatial.rb"
    spatial.write_text(SPATIAL_SCHEMA, encoding="utf-8")
    return render_report(
        "benchmark_report",
        parameters={**_small_parameters(), "scenarios": [str(spatial)], "history_path": ""},
        output_dir=out,
    )


SPATIAL_SCHEMA = """ActiveRecord::Schema[7.1].define(version: 1) do
  create_table "regions", force: :cascade do |t|
    t.string "name", null: false
    t.geometry "boundary"
  end
end
"""
UNMAPPED = "regions.boundary: column type 'geometry' has no TypeScript mapping; typed as unknown"


@pytest.mark.slow
def test_benchmark_report_shows_warnings_in_a_section_not_on_stderr(
    warned_report: nbm.ReportPaths,
) -> None:
    executed = nbformat.read(str(warned_report.notebook), as_version=4)
    streams = [o for cell in executed.cells for o in cell.get("outputs", [])
               if o.get("output_type") == "stream"]
    assert [o for o in streams if o.get("name") == "stderr"] == []
    assert not any("SchemaWarning" in o.get("text", "") for o in streams)
    assert warned_report.html is not None and warned_report.markdown is not None
    page = warned_report.html.read_text(encoding="utf-8")
    # (nbconvert's HTML sanitizer writes the quotes of the message as plain ')
    assert page.count(UNMAPPED) == 1
    section = page.split('id="Warnings"')[1]
    # warm-up + 2 iterations, for each of legacy and pipeline/sequential
    assert re.search(rf"<td>SchemaWarning</td>\s*<td>{re.escape(UNMAPPED)}</td>\s*<td>6</td>",
                     section)
    md = warned_report.markdown.read_text(encoding="utf-8")
    assert [ln for ln in md.splitlines() if ln.startswith("## ")][-3:] == [
        "## Stability", "## Warnings", "## Results files",
    ]
    warnings_md = md.split("## Warnings")[1].split("##")[0]
    assert "| category | message | count | places | scenarios | variants |" in warnings_md
    assert "| SchemaWarning | regions.boundary: column type 'geometry' has no TypeScript " \
        "mapping; typed as unknown | 6 |  | spatial |" in warnings_md
    # times with units in the summary, ratios with a times sign in the comparison
    summary = md.split("## Summary")[1].split("##")[0]
    # a time with its unit (a one-table schema takes under a millisecond on a quiet machine)
    assert re.search(r"\| spatial \| legacy \| cold \| 2 \| \d+(\.\d+)? (s|ms|µs) \| ", summary)
    comparison = md.split("## Comparison")[1].split("##")[0]
    assert re.search(r"\| \d+(\.\d+)?× \|", comparison)


@pytest.mark.slow
def test_kernel_runs_this_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    path = _notebook(
        tmp_path / "which.ipynb",
        "import os, sys\nprint(sys.executable)\nprint(os.environ.get('MPLBACKEND', '-'))",
    )
    paths = render_report(path, output_dir=tmp_path / "out", formats=())
    executed = nbformat.read(str(paths.notebook), as_version=4)
    printed = "".join(o.get("text", "") for o in executed.cells[0].outputs).split()
    # ipykernel chose the inline backend: the kernel did not inherit MPLBACKEND=Agg
    assert printed == [sys.executable, "module://matplotlib_inline.backend_inline"]
    assert paths.html is None and paths.markdown is None


@pytest.mark.slow
def test_failing_cell_names_the_cell_and_keeps_the_notebook(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "bad.ipynb", "x = 1", "\nraise ValueError('no <good>')\n",
                     params="n: int = 1")
    with pytest.raises(NotebookExecutionError) as info:
        render_report(path, parameters={"n": 2}, output_dir=tmp_path / "out")
    err = info.value
    executed = tmp_path / "out" / "bad.ipynb"
    assert str(err) == (
        "notebook 'bad' failed in cell 3 (\"raise ValueError('no <good>')\"): ValueError: "
        f"no <good>; the executed notebook is kept at {executed}"
    )
    assert executed.is_file()
    assert not (tmp_path / "out" / "bad.html").exists()
    from papermill.exceptions import PapermillExecutionError

    assert isinstance(err.__cause__, PapermillExecutionError)


def test_report_package_exports_are_sorted_lazy_and_resolvable() -> None:
    import json
    import subprocess

    assert rr.__all__ == sorted(rr.__all__)
    for name in rr.__all__:
        assert getattr(rr, name) is not None, name
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        rr.nope  # noqa: B018
    probe = (
        "import sys, json, rrperf.report\n"
        "print(json.dumps([m for m in ('pandas', 'matplotlib', 'papermill', 'nbconvert', "
        "'ipywidgets', 'IPython') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True)
    assert json.loads(out.stdout) == []


@pytest.mark.slow
def test_strategy_analysis_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    paths = render_report(
        "strategy_analysis",
        parameters={"scenario": "small", "iterations": 2, "sizes": [20, 40],
                    "scaling_iterations": 2, "cache_states": ["cold", "warm"]},
        output_dir=tmp_path,
    )
    assert paths.markdown is not None and paths.html is not None
    md = paths.markdown.read_text(encoding="utf-8")
    assert [ln for ln in md.splitlines() if ln.startswith("#")] == [
        "# rrperf strategy analysis", "## Recommendation", "## Strategies measured",
        "## Parallel speedup", "## Cache", "## Scaling", "## Results files",
    ]  # no Warnings section: every column type of small and synthetic:N has a mapping
    assert re.search(r"^cold cache: \w+\. \w+ is predicted fastest", md, re.M)
    assert re.search(r"^warm cache: \w+\. ", md, re.M)
    images = re.findall(r"!\[([^\]]+)\]\(strategy_analysis_files/[^)]+\.png\)", md)
    assert images[0] == "wall time per strategy: every iteration, median with its 95 % interval"
    assert images[1].startswith("speedup over sequential")
    # the serial fraction is fitted in [0, 1] or not at all, with a sentence per method
    speedup = md.split("## Parallel speedup")[1].split("##")[0]
    # the strategies' own path: cold ``parallel`` runs against ``sequential``
    assert re.search(r"^parallel: (serial fraction 0\.\d\d|slower than sequential|speedup )",
                     speedup, re.M)
    assert "run cold by each strategy" in speedup
    assert "\\(" not in md and str(tmp_path) not in md
    assert images[-1] == "wall time against table count log-log, power-law fit"
    assert len(images) == 4  # the cache chart too (cache_heavy has a cache)
    html_text = paths.html.read_text(encoding="utf-8")
    assert html_text.count('src="data:image/png;base64,') == 4
    tokens = MarkdownIt().enable("table").parse(md)
    assert sum(1 for t in tokens if t.type == "table_open") >= 6
    strategies = read_result(tmp_path / "strategy_results.parquet").data
    assert set(strategies["system"]) == {"pipeline"}
    assert {"sequential", "parallel", "cache_heavy", "balanced", "minimal", "auto"} == set(
        strategies["strategy"]
    )
    scaling = read_result(tmp_path / "scaling_results.csv").data
    assert sorted(set(scaling["scenario"])) == ["synthetic:20", "synthetic:40"]
    assert sorted(set(scaling["n_tables"])) == [20, 40]


# --------------------------------------------------------------------------- speedup fits


def _methods(thread: float, process: float) -> Any:
    import pandas as pd

    return pd.DataFrame({
        "method": ["sequential", "thread", "process"], "workers": [1, 2, 2],
        "wall_s": [0.1, 0.1 / thread, 0.1 / process], "speedup": [1.0, thread, process],
        "efficiency": [1.0, thread / 2, process / 2],
    })


def test_speedup_fits_are_bounded_and_say_when_the_data_cannot_support_one() -> None:
    # thread: 1 / (f + (1 - f) / 2) = 1.6 -> f = 0.25; process 10x slower: no fit (the
    # unbounded formula gives 18.9); a speedup of 2.5 on 2 workers is beyond Amdahl.
    table, fits, sentences = nbm.speedup_fits(_methods(1.6, 0.1005))
    assert list(fits) == ["thread"]
    assert fits["thread"].serial_fraction == pytest.approx(0.25, abs=1e-9)
    assert table["serial_fraction"].tolist()[1] == pytest.approx(0.25, abs=1e-9)
    assert math.isnan(table["serial_fraction"].iloc[0])
    assert math.isnan(table["serial_fraction"].iloc[2])
    assert sentences == [
        "thread: serial fraction 0.25, solved from speedups at one worker count (2); it has no "
        "interval, and measuring more worker counts would test the law itself.",
        "process: slower than sequential (speedup 0.10x with 2 workers): its overhead "
        "(starting or feeding workers) outweighs the parallel gain, which Amdahl's law does "
        "not model, so no serial fraction is fitted.",
    ]
    _, fits, sentences = nbm.speedup_fits(_methods(2.5, 1.0))
    assert fits == {}
    assert sentences[0].startswith("thread: speedup 2.50x with 2 workers is linear or better")
    assert sentences[1].startswith("process: slower than sequential (speedup 1.00x")


def test_speedup_fits_judge_the_runs_of_a_method_by_their_mean() -> None:
    import pandas as pd

    # one row per run, as rrperf.bench.speedup returns them: parallel's runs 0.9x and 1.3x
    # (mean 1.1x) are fitted, f = 2 / 1.1 - 1 = 0.818; serial's 0.8x and 1.1x (mean 0.95x)
    # are slower than sequential, although one run is faster.
    methods = pd.DataFrame({"method": ["parallel", "parallel", "serial", "serial"],
                            "workers": [2] * 4, "speedup": [0.9, 1.3, 0.8, 1.1]})
    table, fits, sentences = nbm.speedup_fits(methods)
    assert list(fits) == ["parallel"]
    assert fits["parallel"].serial_fraction == pytest.approx(2 / 1.1 - 1, abs=1e-6)
    assert len(table) == 4 and fits["parallel"].n == 2
    assert sentences[1].startswith("serial: slower than sequential (speedup 0.95x with 2 workers)")


def test_speedup_fit_over_several_worker_counts_has_an_interval() -> None:
    import pandas as pd

    from rrperf.bench.stats import amdahl_speedup

    workers = [1, 2, 4, 8]
    speedup = amdahl_speedup(workers, 0.2).tolist()
    methods = pd.DataFrame({"method": ["sequential"] + ["process"] * 3, "workers": workers,
                            "speedup": speedup})
    table, fits, sentences = nbm.speedup_fits(methods)
    assert fits["process"].serial_fraction == pytest.approx(0.2, abs=1e-6)
    assert sentences == ["process: serial fraction 0.20 (95 % interval 0.20 to 0.20), so at "
                         "most 5.0x with any number of workers."]
    assert table["serial_fraction"].iloc[1:].tolist() == pytest.approx([0.2] * 3, abs=1e-6)


# --------------------------------------------------------------------------- summary, cold/warm


def _cw_result() -> BenchmarkResult:
    rows = []
    walls = {("legacy", "cold"): [0.010, 0.011, 0.012], ("legacy", "warm"): [0.030] * 3,
             ("pipeline", "cold"): [0.020] * 3, ("pipeline", "warm"): [0.002, 0.003, 0.004]}
    for (system, state), values in walls.items():
        for i, w in enumerate(values):
            rows.append({
                "run_id": "r1", "started_at": datetime(2026, 12, 1, tzinfo=UTC),
                "scenario": "large", "system": system,
                "strategy": "" if system == "legacy" else "sequential", "cache_state": state,
                "iteration": i, "order": 0, "warmup": False, "wall_s": w, "cpu_s": w / 2,
                "peak_rss_mb": 0.5 * i, "n_tables": 18, "files_total": 55,
                "files_written": 55, "files_unchanged": 0, "cache_hits": 0, "cache_misses": 0,
                "output_digest": "a" * 64, "error": None,
            })
    return BenchmarkResult(measurements_frame(rows), baseline="legacy")


def test_summary_table_has_median_interval_min_max_cpu_and_memory() -> None:
    table = nbm.summary_table(_cw_result().data)
    assert list(table.columns) == ["scenario", "system", "strategy", "cache_state", "n",
                                   "median", "ci_low", "ci_high", "min", "max", "cpu_s",
                                   "mem_mb"]
    row = table[(table["system"] == "legacy") & (table["cache_state"] == "cold")].iloc[0]
    assert (row["n"], row["median"], row["min"], row["max"]) == (3, 0.011, 0.010, 0.012)
    assert row["cpu_s"] == pytest.approx(0.0055) and row["mem_mb"] == 0.5
    assert row["ci_low"] <= row["median"] <= row["ci_high"]


def test_cache_state_notes_explain_each_system_and_legacy_warm() -> None:
    notes = nbm.cache_state_notes(_cw_result())
    assert notes[0].startswith("legacy has no cache. Cold: its output folder is emptied")
    assert notes[1].startswith("pipeline: cold empties the output folder and clears")
    assert notes[2].startswith("Here legacy's warm median is 2.7x its cold median")
    result = _cw_result()
    cold_only = BenchmarkResult(result.data[result.data["cache_state"] == "cold"])
    assert nbm.cache_state_notes(cold_only) == []
