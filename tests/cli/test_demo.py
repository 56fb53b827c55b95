"""``rrperf demo --quick``: one benchmark run through the notebook, reports and a summary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rrperf.bench.results import read_result
from rrperf.cli import main


def test_demo_parser_rejects_bad_iterations(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--iterations", "0"])
    assert info.value.code == 2
    assert "expected a number >= 1, got '0'" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_quick_writes_reports_and_prints_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--quick", "--out", "rep"]) == 0
    out = (tmp_path / "rep").resolve()
    for name in ("benchmark_report.html", "benchmark_report.md", "benchmark_report.ipynb",
                 "benchmark_results.parquet", "benchmark_results.csv"):
        assert (out / name).is_file(), name
    result = read_result(out / "benchmark_results.parquet")
    data = result.data
    # the benchmark ran once: one run id, small only, cold and warm, 1 warm-up + 2 iterations
    assert len(set(data["run_id"])) == 1
    assert set(data["scenario"]) == {"small"}
    assert set(data["cache_state"]) == {"cold", "warm"}
    assert sorted(set(data["iteration"])) == [0, 1, 2]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("rrperf demo: small; legacy vs pipeline strategies, cold and warm; "
                        "2 iterations after 1 warm-up")
    header = lines[2].split()
    assert header == ["scenario", "cache", "variant", "median", "vs", "legacy", "verdict"]
    rows = [line.split() for line in lines[4:] if line.startswith("small")]
    variants = {(r[1], r[2]) for r in rows}
    assert {("cold", "legacy"), ("warm", "legacy")} <= variants
    n_variants = len({r[2] for r in rows})
    assert len(rows) == 2 * n_variants and n_variants >= 2
    assert all(r[-1] == "baseline" for r in rows if r[2] == "legacy")
    assert not [r for r in rows if r[-1] in ("failed", "wrong output")], rows
    # one line says how far the run can be trusted (2 iterations: not at all)
    (trust,) = [line for line in lines if " comparisons with legacy are decided. " in line]
    assert re.match(r"\d+ of \d+ comparisons with legacy are decided\. 0 of \d+ groups have "
                    r"their median within ±5 % \(95 % interval\)\. .* has fewer than 3 "
                    r"measured iterations\.$", trust), trust
    assert f"HTML report:     {out / 'benchmark_report.html'}" in lines
    assert f"Markdown report: {out / 'benchmark_report.md'}" in lines
    assert f"results:         {out / 'benchmark_results.parquet'}" in lines
