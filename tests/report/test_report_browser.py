"""The HTML benchmark report in a real headless Chromium (Playwright), and its Markdown twin.

The report is rendered by a real run of ``benchmark_report.ipynb`` titled
``Report <script>alert(1)</script>``, on two scenarios: ``small`` and a scenario labelled
``<svg onload=alert(1)>``. The latter is a path-based scenario (a path's label, the
``scenario`` column, is its file stem): the file ``<svg onload=alert(1)>``, a copy of the small
scenario's schema.rb, in the kernel's working directory.
The test process has ``MPLBACKEND=Agg`` set, as CI runs often do; the report must still carry
its images.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from rrperf.bench.systems import available_strategies
from rrperf.report.notebooks import ReportPaths, render_report
from rrperf.schema.scenarios import SCENARIO_DIR

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
EVIL = "<script>alert(1)</script>"
EVIL_SCENARIO = "<svg onload=alert(1)>"  # a file name: no slash, no suffix

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReportPaths]:
    work = tmp_path_factory.mktemp("browser")
    shutil.copyfile(SCENARIO_DIR / "small.rb", work / EVIL_SCENARIO)
    mp = pytest.MonkeyPatch()
    mp.chdir(work)
    mp.setenv("MPLBACKEND", "Agg")
    strategies = ["sequential"] if "sequential" in available_strategies() else []
    try:
        yield render_report(
            "benchmark_report",
            parameters={
                "title": f"Report {EVIL}",
                "scenarios": [EVIL_SCENARIO, "small"],
                "strategies": strategies,
                "iterations": 2,
                "warmup": 1,
                "cache_states": ["cold"],
                "history_path": "",
            },
            output_dir=work / "reports",
        )
    finally:
        mp.undo()


def _chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium; run `make test` "
            "(its `browser` target installs it)"
        )
    return CHROMIUM


def test_html_report_in_chromium(report: ReportPaths) -> None:
    from playwright.sync_api import sync_playwright

    assert report.html is not None
    executable = _chromium()
    console: list[str] = []
    page_errors: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: page_errors.append(str(e)))

            def on_dialog(dialog: object) -> None:
                dialogs.append(dialog.message)  # type: ignore[attr-defined]
                dialog.dismiss()  # type: ignore[attr-defined]

            page.on("dialog", on_dialog)
            page.goto(report.html.resolve().as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.complete, i.naturalWidth, "
                "i.naturalHeight, i.src.slice(0, 22)])"
            )
            n_tables = page.locator("table").count()
            headings = page.locator("h1, h2").all_inner_texts()
            body_text = page.inner_text("body")
            evil_cells = page.get_by_role("cell", name=EVIL_SCENARIO, exact=True)
            n_evil_cells = evil_cells.count()
            evil_visible = evil_cells.first.is_visible()
            injected = page.evaluate(
                "Array.from(document.scripts).length"
            )
        finally:
            browser.close()
    assert console == [] and page_errors == []
    assert dialogs == []
    assert injected == 0
    assert len(images) >= 2  # summary and comparison charts (no history: no regression chart)
    assert all(done and w > 0 and h > 0 and src == "data:image/png;base64,"
               for done, w, h, src in images), images
    assert n_tables >= 5
    assert headings == [f"Report {EVIL}", "Run", "Summary", "Comparison", "Correctness",
                        "Regressions", "Stability", "Results files"]
    # the hostile scenario name is shown as text, in the summary, comparison, correctness and
    # stability tables
    assert n_evil_cells >= 3 and evil_visible
    assert body_text.count(EVIL_SCENARIO) >= 3 and EVIL in body_text


def test_html_source_escapes_the_scenario_name(report: ReportPaths) -> None:
    assert report.html is not None
    text = report.html.read_text(encoding="utf-8")
    assert EVIL not in text and EVIL_SCENARIO not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;svg onload=alert(1)&gt;" in text
    assert len(re.findall(r'src="data:image/png;base64,', text)) >= 2


def test_markdown_report_escapes_the_scenario_name(report: ReportPaths) -> None:
    assert report.markdown is not None
    md = report.markdown.read_text(encoding="utf-8")
    assert EVIL not in md and EVIL_SCENARIO not in md
    rendered = MarkdownIt().enable("table").render(md)
    assert "<script>" not in rendered and "<svg" not in rendered
    assert "<h1>Report &lt;script&gt;alert(1)&lt;/script&gt;</h1>" in rendered
    assert "<td>&lt;svg onload=alert(1)&gt;</td>" in rendered
    tokens = MarkdownIt().enable("table").parse(md)
    assert sum(1 for t in tokens if t.type == "table_open") >= 5


def test_results_keep_the_scenario_name(report: ReportPaths) -> None:
    from rrperf.bench.results import read_result

    result = read_result(report.notebook.parent / "benchmark_results.parquet")
    assert sorted(set(result.data["scenario"])) == [EVIL_SCENARIO, "small"]
