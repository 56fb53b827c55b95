"""generate_report: headings, escaping of user strings, JSON shape, file output, errors."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rrperf.bench import generate_report
from rrperf.bench.metadata import RunMetadata
from rrperf.bench.report import REPORT_SECTIONS
from rrperf.bench.results import BenchmarkResult, measurements_frame
from rrperf.errors import ConfigError, ReportError

EVIL = "<script>alert(1)</script>|x"
RUN = "20261126T120000Z-abcdef"
WALLS = {"legacy": [1.0, 1.1, 0.9, 1.0, 1.05], "pipeline": [0.5, 0.52, 0.48, 0.5, 0.51]}

pytestmark = pytest.mark.filterwarnings("ignore::rrperf.errors.StabilityWarning")


def _row(system: str, i: int, wall: float, error: str | None = None) -> dict[str, object]:
    return {
        "run_id": RUN, "started_at": datetime(2026, 11, 26, 12, 0, i, tzinfo=UTC),
        "scenario": EVIL, "system": system, "strategy": "",
        "cache_state": "cold", "iteration": i, "order": 0, "warmup": False,
        "wall_s": math.nan if error else wall, "cpu_s": wall, "peak_rss_mb": 50.0,
        "n_tables": 2, "files_total": 8, "files_written": 8, "files_unchanged": 0,
        "cache_hits": 0, "cache_misses": 0, "output_digest": None if error else "f" * 64,
        "error": error,
    }


@pytest.fixture
def result() -> BenchmarkResult:
    rows = [
        _row(system, i, wall) for system, walls in WALLS.items() for i, wall in enumerate(walls)
    ]
    rows.append(_row("pipeline", 5, 0.0, error="exit 1: <boom>"))
    meta = RunMetadata(
        run_id=RUN, name="a|b", rrperf_version="0.1.0", git_revision=None, git_dirty=None,
        python_version="3.11.7", platform="Linux", cpu_model=None, cpu_count=2,
        cpu_count_physical=1, memory_total_mb=1024.0, config_json="{}", schema_version=1,
        started_at=datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC),
    )
    return BenchmarkResult(measurements_frame(rows), meta.to_frame(), baseline="legacy")


def test_markdown_headings_and_escaping(result: BenchmarkResult) -> None:
    text = generate_report(result)
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == ["# rrperf benchmark report", *[f"## {h}" for h in REPORT_SECTIONS]]
    assert "<script>" not in text and "<boom>" not in text
    assert r"\<script\>alert(1)\</script\>\|x" in text
    assert "| " + r"a\|b" + " |" in text
    assert "Baseline: legacy; 11 iterations in 1 run(s)." in text
    # every table row has the same number of unescaped cell separators as its header
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.startswith("|")]
        if lines:
            counts = {len(re.findall(r"(?<!\\)\|", ln)) for ln in lines}
            assert len(counts) == 1


def test_markdown_comparison_has_the_verdict(result: BenchmarkResult) -> None:
    text = generate_report(result, format="markdown")
    comparison = text.split("## Comparison\n\n")[1].split("\n\n")[0].splitlines()
    header = [c.strip() for c in comparison[0].strip("|").split(" | ")]
    assert header[:4] == ["scenario", "system", "strategy", "cache_state"]
    assert "verdict" in header
    row = [c.strip() for c in re.split(r"(?<!\\) \| ", comparison[2].strip("| "))]
    assert row[1] == "pipeline"
    assert row[header.index("verdict")] == "faster"


def test_html_escapes_every_user_string(result: BenchmarkResult) -> None:
    html = generate_report(result, format="html")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script>" not in html and "<boom>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;|x" in html
    assert "exit 1: &lt;boom&gt;" not in html  # raw rows are not in the HTML report
    assert re.findall(r"<h2>(.*?)</h2>", html) == list(REPORT_SECTIONS)
    assert "<h1>rrperf benchmark report</h1>" in html


def test_json_report_is_one_object_with_nulls(result: BenchmarkResult) -> None:
    payload = json.loads(generate_report(result, format="json"))
    assert list(payload) == [
        "metadata", "rows", "summary", "comparison", "correctness", "stability",
    ]
    assert len(payload["rows"]) == 11
    failed = payload["rows"][-1]
    assert failed["wall_s"] is None and failed["output_digest"] is None
    assert failed["error"] == "exit 1: <boom>"
    assert failed["started_at"] == "2026-11-26T12:00:05+00:00"
    assert payload["rows"][0]["wall_s"] == 1.0
    assert payload["metadata"][0]["run_id"] == RUN
    assert payload["metadata"][0]["git_revision"] is None
    assert [(r["system"], r["verdict"]) for r in payload["comparison"]] == [
        ("pipeline", "faster")
    ]
    assert [r["system"] for r in payload["summary"]] == ["legacy", "pipeline"]
    assert [r["n"] for r in payload["summary"]] == [5, 5]
    assert payload["correctness"][0]["matches_baseline"] is True


def test_report_is_written_to_a_file(result: BenchmarkResult, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "bench.md"
    text = generate_report(result, target)
    assert target.read_text(encoding="utf-8") == text
    assert [p.name for p in target.parent.iterdir()] == ["bench.md"]


def test_unknown_format(result: BenchmarkResult) -> None:
    with pytest.raises(ConfigError, match=r"report format must be one of markdown, json, html, "
                       r"got 'pdf'"):
        generate_report(result, format="pdf")


def test_unwritable_target(result: BenchmarkResult, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportError, match=r"cannot write the report to ") as info:
        generate_report(result, blocker / "sub" / "r.md")
    assert isinstance(info.value.__cause__, OSError)
