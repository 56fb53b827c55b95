"""generate_report: headings, escaping of user strings, JSON shape, file output, errors."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rrperf.bench import generate_report
from rrperf.bench.metadata import RunMetadata
from rrperf.bench.report import (
    REPORT_SECTIONS,
    format_p_value,
    format_percent,
    format_ratio,
    format_seconds,
    format_table,
    warnings_overview,
)
from rrperf.bench.results import BenchmarkResult, measurements_frame, warnings_frame
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
        "metadata", "rows", "summary", "comparison", "correctness", "stability", "warnings",
    ]
    assert payload["warnings"] == []
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


# --------------------------------------------------------------------------- numbers for people


@pytest.mark.parametrize(("value", "text"), [
    (1.2345, "1.23 s"), (0.04749, "47.5 ms"), (0.0009996, "1.00 ms"), (0.000812, "812 µs"),
    (9e-8, "90.0 ns"), (-0.005132, "-5.13 ms"), (0.0, "0 s"), (12.0, "12.0 s"),
    (1234.5, "1234 s"), (math.nan, ""), (None, ""),
])
def test_format_seconds(value: float | None, text: str) -> None:
    assert format_seconds(value) == text


@pytest.mark.parametrize(("fmt", "value", "text"), [
    (format_ratio, 1.2149, "1.21×"), (format_ratio, 0.40371, "0.404×"),
    (format_ratio, 0.02589, "0.0259×"), (format_ratio, 1523.0, "1523×"),
    (format_ratio, math.nan, ""),
    (format_p_value, 0.0017, "0.0017"), (format_p_value, 0.33333, "0.33"),
    (format_p_value, 0.05, "0.050"), (format_p_value, 1.0, "1.0"),
    (format_p_value, 2e-7, "<0.0001"), (format_p_value, math.nan, ""),
    (format_percent, 0.2021, "20.2 %"), (format_percent, 0.0005, "0.0500 %"),
])
def test_format_ratio_p_value_percent(fmt: Any, value: float, text: str) -> None:
    assert fmt(value) == text


def test_format_table_formats_known_columns_and_keeps_the_input(
    result: BenchmarkResult,
) -> None:
    summary = result.summary()
    shown = format_table(summary)
    assert summary["median"].tolist() == [1.0, 0.5]  # not modified
    assert shown["median"].tolist() == ["1.00 s", "500 ms"]
    assert shown["n"].tolist() == [5, 5]
    assert list(shown.columns) == list(summary.columns)


def _md_rows(text: str, heading: str) -> list[list[str]]:
    block = text.split(f"## {heading}\n\n")[1].split("\n\n")[0].splitlines()
    return [[c.strip() for c in re.split(r"(?<!\\) \| ", ln.strip("| "))] for ln in block]


def test_markdown_times_have_units_and_ratios_a_times_sign(result: BenchmarkResult) -> None:
    text = generate_report(result)
    summary = _md_rows(text, "Summary")
    head = summary[0]
    legacy = dict(zip(head, summary[2], strict=True))
    pipeline = dict(zip(head, summary[3], strict=True))
    assert (legacy["mean"], legacy["median"], legacy["std"], legacy["cv"]) == (
        "1.01 s", "1.00 s", "74.2 ms", "7.34 %")
    assert (pipeline["median"], pipeline["ci_low"], pipeline["ci_high"]) == (
        "500 ms", "484 ms", "520 ms")
    comparison = _md_rows(text, "Comparison")
    row = dict(zip(comparison[0], comparison[2], strict=True))
    assert (row["ratio"], row["ratio_ci_low"], row["ratio_ci_high"]) == (
        "0.500×", "0.473×", "0.533×")
    # paired by round: t test on the per-round log ratios, p = 4.1e-6
    assert (row["p_value"], row["p_adjusted"]) == ("\\<0.0001", "\\<0.0001")
    # JSON keeps the raw numbers
    payload = json.loads(generate_report(result, format="json"))
    assert payload["summary"][0]["median"] == 1.0
    assert payload["comparison"][0]["ratio"] == pytest.approx(0.5)


def test_html_times_have_units(result: BenchmarkResult) -> None:
    page = generate_report(result, format="html")
    assert "<td>1.00 s</td>" in page and "<td>500 ms</td>" in page
    assert "<td>0.500×</td>" in page


# --------------------------------------------------------------------------- warnings section

INET = "audit_events.remote_ip: column type 'inet' has no TypeScript mapping; typed as unknown"


@pytest.fixture
def warned(result: BenchmarkResult) -> BenchmarkResult:
    caught = warnings_frame([
        {"scenario": EVIL, "system": "legacy", "strategy": "", "category": "SchemaWarning",
         "message": INET, "count": 6, "first_iteration": 0},
        {"scenario": EVIL, "system": "pipeline", "strategy": "sequential",
         "category": "SchemaWarning", "message": INET, "count": 6, "first_iteration": 0},
        {"scenario": EVIL, "system": "pipeline", "strategy": "sequential",
         "category": "FallbackWarning", "message": "<b>cache</b> | off", "count": 1,
         "first_iteration": 2},
    ])
    return BenchmarkResult(result.data, result.metadata, warnings=caught)


def test_warnings_overview_is_one_row_per_distinct_warning(warned: BenchmarkResult) -> None:
    overview = warnings_overview(warned.warnings)
    assert overview.to_dict("records") == [
        {"category": "SchemaWarning", "message": INET, "count": 12, "places": "",
         "scenarios": EVIL, "variants": "legacy, pipeline/sequential"},
        {"category": "FallbackWarning", "message": "<b>cache</b> | off", "count": 1,
         "places": "", "scenarios": EVIL, "variants": "pipeline/sequential"},
    ]
    assert warnings_overview(BenchmarkResult(warned.data).warnings).empty


def test_markdown_warnings_section(warned: BenchmarkResult, result: BenchmarkResult) -> None:
    text = generate_report(warned)
    rows = _md_rows(text, "Warnings")
    assert rows[0] == ["category", "message", "count", "places", "scenarios", "variants"]
    assert rows[2] == ["SchemaWarning", INET, "12", "", r"\<script\>alert(1)\</script\>\|x",
                       "legacy, pipeline/sequential"]
    assert rows[3][:3] == ["FallbackWarning", r"\<b\>cache\</b\> \| off", "1"]
    assert len(rows) == 4
    assert text.count(INET) == 1
    assert "## Warnings\n\n_none_\n" in generate_report(result)


def test_html_warnings_section_is_escaped_and_lists_each_warning_once(
    warned: BenchmarkResult,
) -> None:
    page = generate_report(warned, format="html")
    section = page.split("<h2>Warnings</h2>")[1]
    assert "<th>count</th>" in section
    assert "<td>&lt;b&gt;cache&lt;/b&gt; | off</td>" in section
    assert "<b>cache</b>" not in page
    escaped = INET.replace("'", "&#39;")
    assert page.count(escaped) == 1 and f"<td>{escaped}</td><td>12</td>" in section


def test_json_warnings_are_the_raw_rows(warned: BenchmarkResult) -> None:
    payload = json.loads(generate_report(warned, format="json"))
    assert payload["warnings"][0] == {
        "scenario": EVIL, "system": "legacy", "strategy": "", "category": "SchemaWarning",
        "message": INET, "count": 6, "first_iteration": 0,
    }
    assert [r["count"] for r in payload["warnings"]] == [6, 6, 1]


# --------------------------------------------------------------------------- grouped warnings


def _inet(table: str) -> str:
    return f"{table}.ip_address: column type 'inet' has no TypeScript mapping; typed as unknown"


def test_warnings_about_different_places_are_one_row_with_the_count_and_places() -> None:
    tables = ["accounts", "orders", "products", "vendors", "quizzes"]
    caught = warnings_frame([
        {"scenario": f"synthetic:{n}", "system": "legacy", "strategy": "",
         "category": "SchemaWarning", "message": _inet(t), "count": 4, "first_iteration": 0}
        for n in (50, 200) for t in tables
    ] + [
        {"scenario": "large", "system": "pipeline", "strategy": "minimal",
         "category": "SchemaWarning", "message": "db/schema.rb:12:3: view skipped", "count": 2,
         "first_iteration": 0},
    ])
    overview = warnings_overview(caught)
    assert overview.to_dict("records") == [
        {"category": "SchemaWarning",
         "message": "<table>.<column>: column type 'inet' has no TypeScript mapping; typed as "
                    "unknown",
         "count": 40,
         "places": "accounts.ip_address, orders.ip_address, products.ip_address and 2 more "
                   "(5 in all)",
         "scenarios": "synthetic:200, synthetic:50", "variants": "legacy"},
        {"category": "SchemaWarning", "message": "db/schema.rb:12:3: view skipped", "count": 2,
         "places": "", "scenarios": "large", "variants": "pipeline/minimal"},
    ]


def test_warning_template_keeps_messages_without_a_place() -> None:
    from rrperf.bench.report import warning_template

    assert warning_template("a.b: x") == ("<table>.<column>: x", "a.b")
    assert warning_template("<b>cache</b> | off") == ("<b>cache</b> | off", None)
    assert warning_template("worker: died") == ("worker: died", None)


# --------------------------------------------------------------------------- stability


def _stab_rows() -> list[dict[str, object]]:
    steady = [0.100, 0.101, 0.099, 0.100, 0.1005, 0.0995, 0.100, 0.101, 0.099, 0.100]
    outlier = [*steady[:9], 0.400]  # one slow iteration: cv 73 %, the median does not move
    spread = [0.05, 0.10, 0.15, 0.20, 0.25, 0.07, 0.12, 0.17, 0.22, 0.30]
    rows = []
    for system, walls in (("a", steady), ("b", outlier), ("c", spread), ("d", [0.1, 0.2])):
        for i, w in enumerate(walls):
            row = _row(system, i, w)
            row["scenario"] = "s"
            rows.append(row)
    return rows


def test_stability_overview_is_one_line_per_group_worst_first() -> None:
    from rrperf.bench.report import stability_overview, stability_verdict

    ov = stability_overview(measurements_frame(_stab_rows()), timer_resolution_s=1e-9)
    assert ov["system"].tolist() == ["d", "c", "b", "a"]
    assert ov["verdict"].tolist() == ["too few", "imprecise", "ok, outliers", "ok"]
    assert ov["n"].tolist() == [2, 10, 10, 10]
    assert ov.loc[1, ["median", "min", "max"]].tolist() == pytest.approx([0.16, 0.05, 0.30])
    assert ov.loc[2, "cv"] == pytest.approx(0.7298, abs=1e-4)
    assert ov.loc[3, "median_pm"] <= 0.05 and ov.loc[1, "median_pm"] > 0.05
    # the width shrinks as 1/sqrt(n): iterations for +-5 %
    assert ov.loc[1, "needed"] == math.ceil(10 * (ov.loc[1, "median_pm"] / 0.05) ** 2)
    text = stability_verdict(ov)
    assert text.startswith("2 of 4 groups have their median within ±5 % (95 % interval).")
    assert "s d cold has fewer than 3 measured iterations." in text
    assert "1 precise group still varies by more than 10 % (std/mean)" in text


def test_stability_overview_flags_too_short_and_all_ok_sentence() -> None:
    from rrperf.bench.report import stability_overview, stability_verdict

    rows = [r for r in _stab_rows() if r["system"] == "a"]
    ov = stability_overview(measurements_frame(rows), timer_resolution_s=1e-3)
    assert ov["verdict"].tolist() == ["too short"]  # 0.099 s < 1000 x 1 ms
    ov = stability_overview(measurements_frame(rows), timer_resolution_s=1e-9)
    assert stability_verdict(ov) == "The group has its median within ±5 % (95 % interval)."


def test_markdown_stability_is_the_compact_table_with_a_sentence() -> None:
    result = BenchmarkResult(measurements_frame(_stab_rows()), baseline="a")
    text = generate_report(result)
    section = text.split("## Stability\n\n")[1].split("\n## ")[0]
    assert section.startswith("2 of 4 groups have their median within ±5 %")
    table = section.split("\n\n")[1].splitlines()
    rows = [[c.strip() for c in re.split(r"(?<!\\) \| ", ln.strip("| "))] for ln in table]
    assert rows[0] == ["scenario", "system", "strategy", "cache_state", "n", "median", "min",
                       "max", "median_pm", "cv", "needed", "verdict"]
    assert [r[-1] for r in rows[2:]] == ["too few", "imprecise", "ok, outliers", "ok"]
    assert rows[4][9] == "73.0 %"


def test_gate_sections_are_rendered_from_python(result: BenchmarkResult) -> None:
    """The regression section `rrperf bench --format markdown` prints is one call away."""
    import pandas as pd

    from rrperf.bench.gate import Gate

    same = Gate("slower", pd.DataFrame({"ratio": [1.3]}), [f"slower: {EVIL} cold: ratio 1.3"])
    stored = Gate("pass", pd.DataFrame(), [])
    text = generate_report(result, same_run=same, stored=stored, against="base (r1)",
                           threshold=0.05)
    assert text.endswith(
        "## Gate\n\nOutcome: slower (threshold 5.0%)\n\n"
        "- slower: \\<script\\>alert(1)\\</script\\>\\|x cold: ratio 1.3\n\n"
        "## Against stored base (r1)\n\n_no group in common_\n"
    )
    page = generate_report(result, format="html", same_run=same, stored=stored, against="b")
    assert "<li>slower: &lt;script&gt;alert(1)&lt;/script&gt;|x cold: ratio 1.3</li>" in page
    assert "<h2>Against stored b</h2>\n<p><em>no group in common</em></p>" in page
    assert generate_report(result) == generate_report(result, same_run=None, stored=None)
