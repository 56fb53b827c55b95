"""``rrperf analyze``: arguments reach run_comprehensive_analysis exactly; errors exit 1."""

from __future__ import annotations

import json
from typing import Any

import pytest

import rrperf.optimize.optimizer as optimizer_mod
from rrperf.cli import main
from rrperf.errors import BenchmarkError
from rrperf.optimize.optimizer import AnalysisResult
from rrperf.optimize.workload import Recommendation, WorkloadProfile

_TIMES = (
    "hash_s",
    "templates_s",
    "load_s",
    "analyze_s",
    "keys_s",
    "sha_s",
    "index_s",
    "write_s",
    "compare_s",
    "stat_s",
    "ship_s",
    "monitor_s",
    "hit_s",
    "miss_mem_s",
    "miss_s",
    "disk_hit_s",
    "schema_miss_s",
    "pool_startup_s",
    "dispatch_s",
    "thread_dispatch_s",
)
PROFILE = WorkloadProfile(
    n_tables=4,
    source_fingerprint="f",
    stage_s=dict.fromkeys(("types", "relationships", "defaults", "polymorphic", "render"), 0.0),
    cpu_count=1,
    load_avg=0.0,
    memory_available_mb=0.0,
    **dict.fromkeys(_TIMES, 0.0),
)
REC = Recommendation(
    "minimal", {"minimal": {"predicted_s": 0.01, "score": 1.0}}, "Because <it> | is.", PROFILE
)
ROW = {
    "scenario": "small",
    "cache_state": "cold",
    "recommended": "minimal",
    "predicted_s": 0.01,
    "measured_best": "sequential",
    "recommended_median_s": 0.0102,
    "best_median_s": 0.01,
    "ratio": 1.02,
    "within_5pct": True,
    "verdict": "within 5% of sequential",
    "summary": "small cold: recommend minimal; dominant cost: rendering the tables (55%); "
               "predicted 10.00 ms, measured 10.20 ms (-2%); tie with sequential (fewest "
               "resources chosen); 0 shown slower (95 % paired intervals, 5% margin)",
}


PREDICTIONS = (
    {"cache_state": "cold", "strategy": "sequential", "predicted_s": 0.09,
     "measured_median_s": 0.201, "error": 0.09 / 0.201 - 1, "recommended": False,
     "measured_best": True, "same_code_as": None, "note": ""},
    {"cache_state": "cold", "strategy": "balanced", "predicted_s": 0.09,
     "measured_median_s": float("nan"), "error": float("nan"), "recommended": False,
     "measured_best": False, "same_code_as": "sequential",
     "note": "balanced runs the same code as sequential here, so the model predicts the same "
             "time for both: its process pool resolves to 1 worker."},
    {"cache_state": "cold", "strategy": "minimal", "predicted_s": 0.01,
     "measured_median_s": 0.0102, "error": 0.01 / 0.0102 - 1, "recommended": True,
     "measured_best": False, "same_code_as": None, "note": ""},
)


class Recorder:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    error: Exception | None = None

    def __init__(self, config: Any = None, *, project: Any = None, history: Any = None) -> None:
        self.closed = False
        self.project = project  # the rrperf.toml the command found (defaults here)
        self.history = history

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True

    def run_comprehensive_analysis(self, *args: Any, **kwargs: Any) -> AnalysisResult:
        Recorder.calls.append((args, kwargs))
        if Recorder.error is not None:
            raise Recorder.error
        return AnalysisResult(
            scenario="small",
            recommendation=REC,
            recommendations={"cold": REC},
            strategies=("minimal", "sequential"),
            benchmark=None,
            rows=(ROW,),  # type: ignore[arg-type]
            predictions=PREDICTIONS,
        )


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the history store of the calibration goes to ./.rrperf/


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> type[Recorder]:
    Recorder.calls = []
    Recorder.error = None
    monkeypatch.setattr(optimizer_mod, "PerformanceOptimizer", Recorder)
    return Recorder


def test_defaults(recorder: type[Recorder], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "small"]) == 0
    assert recorder.calls == [
        ((False,), {"scenario": "small", "cache_states": ("cold", "warm"), "iterations": None})
    ]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "small: strategies benchmarked: minimal, sequential"
    assert out[1].split() == [
        "cache_state",
        "recommended",
        "measured_best",
        "ratio",
        "within_5pct",
        "verdict",
    ]
    assert out[3].split()[:5] == ["cold", "minimal", "sequential", "1.020", "True"]
    assert out[-1] == ROW["summary"]
    # predicted against measured, for every strategy, with the error and the reasons
    start = out.index("Predicted against measured (measured: median of the benchmark's rounds; "
                      "error = predicted / measured - 1)")
    assert out[start + 1].split() == [
        "cache_state", "strategy", "predicted_ms", "measured_ms", "error", "note"]
    assert [line.split() for line in out[start + 3 : start + 6]] == [
        ["cold", "sequential", "90.00", "201.00", "-55.2%", "measured", "best"],
        ["cold", "balanced", "90.00", "-", "-", "same", "code", "as", "sequential,", "note", "1"],
        ["cold", "minimal", "10.00", "10.20", "-2.0%", "recommended"],
    ]
    assert out[start + 6 : start + 9] == [
        "  1. balanced runs the same code as sequential here, so the model predicts the same "
        "time for both: its process pool resolves to 1 worker.",
        "  -: not benchmarked (analyze measures the three best predictions; --all-strategies "
        "measures every one)",
        "",
    ]


def test_options(recorder: type[Recorder], capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "analyze",
        "large",
        "--all-strategies",
        "--iterations",
        "3",
        "--cache",
        "warm",
        "--format",
        "json",
    ]
    assert main(argv) == 0
    assert recorder.calls == [
        ((True,), {"scenario": "large", "cache_states": ("warm",), "iterations": 3})
    ]
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] == [ROW]
    assert data["strategies"] == ["minimal", "sequential"]
    assert [(p["strategy"], p["predicted_s"], p["measured_median_s"], p["error"])
            for p in data["predictions"]] == [
        ("sequential", 0.09, 0.201, PREDICTIONS[0]["error"]),
        ("balanced", 0.09, None, None),
        ("minimal", 0.01, 0.0102, PREDICTIONS[2]["error"]),
    ]
    assert data["predictions"][1]["same_code_as"] == "sequential"


def test_markdown_escapes(recorder: type[Recorder], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "small", "--format", "markdown", "--cache", "cold"]) == 0
    out = capsys.readouterr().out
    # one Markdown escaper for every report: "_" inside a word is left alone
    assert "| cache_state | recommended |" in out
    assert "predicted 10.00 ms, measured 10.20 ms (-2%)" in out
    assert "| cache_state | strategy | predicted_ms | measured_ms | error | note |" in out
    assert "| cold | sequential | 90.00 | 201.00 | -55.2% | measured best |" in out
    assert "1. balanced runs the same code as sequential here" in out


def test_error_is_one_line(recorder: type[Recorder], capsys: pytest.CaptureFixture[str]) -> None:
    recorder.error = BenchmarkError("unknown scenario 'smal'; did you mean 'small'?")
    assert main(["analyze", "smal"]) == 1
    err = capsys.readouterr().err
    assert err == "rrperf: error: unknown scenario 'smal'; did you mean 'small'?\n"


def test_bad_iterations_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["analyze", "small", "--iterations", "0"])
    assert exc.value.code == 2
    assert "expected a number >= 1, got '0'" in capsys.readouterr().err


def test_unknown_scenario_through_the_real_optimizer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "no_such_scenario", "--cache", "cold"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rrperf: error: ")
    assert "no_such_scenario" in err
    assert err.count("\n") == 1
