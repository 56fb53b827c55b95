"""rrperf.document: the one rendering layer (escaping, tables, documents) of every report."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from rrperf.document import Section, cell_text, html_table, md_escape, md_table, render_document


@pytest.mark.parametrize(
    ("text", "escaped", "html"),
    [
        ("480 iterations (48 warm-up) of 4 scenario(s)", "480 iterations (48 warm-up) of 4 "
         "scenario(s)", "<p>480 iterations (48 warm-up) of 4 scenario(s)</p>"),
        ("run_id cache_state", "run_id cache_state", "<p>run_id cache_state</p>"),
        ("_x_ *b* ~~s~~", "\\_x\\_ \\*b\\* \\~\\~s\\~\\~", "<p>_x_ *b* ~~s~~</p>"),
        ("# not a heading", "\\# not a heading", "<p># not a heading</p>"),
        ("1. not a list", "1\\. not a list", "<p>1. not a list</p>"),
        ("-5 % [l](u) a & b", "\\-5 % \\[l\\](u) a \\& b", "<p>-5 % [l](u) a &amp; b</p>"),
    ],
)
def test_markdown_escapes_only_what_markdown_would_read(
    text: str, escaped: str, html: str
) -> None:
    assert md_escape(text) == escaped
    assert MarkdownIt().render(escaped).strip() == html
    assert "\\(" not in md_escape(text)


def test_table_cells_do_not_escape_line_starts() -> None:
    assert md_escape("1.5 ms", line=False) == "1.5 ms"
    assert md_escape("-3.2 ms", line=False) == "-3.2 ms"
    assert md_escape("1.5 ms") == "1\\.5 ms"


def test_cell_text() -> None:
    values = [None, math.nan, pd.NA, pd.NaT, 0.012345678, 24110.4, -1e5, 3, "a|b",
              datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC)]
    assert [cell_text(v) for v in values] == [
        "", "", "", "", "0.01235", "24110", "-100000", "3", "a|b", "2026-12-02T03:04:05+00:00",
    ]


def test_tables_escape_every_cell() -> None:
    assert html_table(["name", "n"], [["<b>'", "3"]], caption="a & b") == (
        '<table class="rrperf-table">\n<caption>a &amp; b</caption>\n'
        "<thead><tr><th>name</th><th>n</th></tr></thead>\n<tbody>\n"
        "<tr><td>&lt;b&gt;&#39;</td><td>3</td></tr>\n</tbody></table>"
    )
    assert html_table(["a"], []) == (
        '<table class="rrperf-table">\n<thead><tr><th>a</th></tr></thead>\n<tbody>\n'
        "</tbody></table>"
    )
    assert md_table(["a_b", "#"], [["-1 | 2", "*x*"]], caption="1. c") == (
        "1\\. c\n\n| a_b | # |\n|---|---|\n| -1 \\| 2 | \\*x\\* |"
    )


def test_render_document_markdown() -> None:
    sections = [
        Section.of("Runs", [{"name": "<x>", "wall_s": 0.5}], note="two *runs*"),
        Section("Findings", items=["- slower: a", "b"]),
        Section.of("Alerts", pd.DataFrame({"a": []}), empty="No alerts."),
    ]
    assert render_document("T <1>", sections, intro=["Base: x_"]) == (
        "# T \\<1\\>\n\nBase: x\\_\n\n"
        "## Runs\n\ntwo \\*runs\\*\n\n| name | wall_s |\n|---|---|\n| \\<x\\> | 0.5 |\n\n"
        "## Findings\n\n- - slower: a\n- b\n\n"
        "## Alerts\n\n_No alerts._\n"
    )


def test_render_document_html_is_escaped_and_has_no_script() -> None:
    page = render_document("<T>", [
        Section.of("<h>", [{"v": "<script>"}], note="<n>"),
        Section("I", items=["<i>"]),
        Section("E", empty="<e>"),
    ], "html", intro=["<p>"])
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert "<script" not in page
    for fragment in ("<title>&lt;T&gt;</title>", "<h1>&lt;T&gt;</h1>\n<p>&lt;p&gt;</p>",
                     "<h2>&lt;h&gt;</h2>\n<p>&lt;n&gt;</p>\n<table",
                     "<td>&lt;script&gt;</td>", "<ul>\n<li>&lt;i&gt;</li>\n</ul>",
                     "<p><em>&lt;e&gt;</em></p>"):
        assert fragment in page
    with pytest.raises(ValueError, match="format must be one of markdown, html, got 'pdf'"):
        render_document("T", [], "pdf")


def test_json_records_are_strict_json() -> None:
    import json

    import numpy as np

    from rrperf.document import json_records

    frame = pd.DataFrame({
        "n": pd.Series([1, 2], dtype="int64"), "x": [0.5, math.inf], "ok": [True, None],
        "at": [pd.Timestamp("2026-12-02T03:04:05Z"), pd.NaT], "s": ["a", pd.NA],
    })
    expected = [
        {"n": 1, "x": 0.5, "ok": True, "at": "2026-12-02T03:04:05+00:00", "s": "a"},
        {"n": 2, "x": None, "ok": None, "at": None, "s": None},
    ]
    assert json_records(frame) == expected
    assert json.dumps(json_records(frame), allow_nan=False)
    assert json_records([{"a": np.float32("nan"), "b": np.int64(3), "c": (1, 2)}]) == [
        {"a": None, "b": 3, "c": "(1, 2)"}
    ]
