"""Tests for ``rrperf bench``: formats, the exact API calls, save/compare/regressions, errors.

The regression check runs a real command system ``gen`` (Python that starts and exits),
declared in an ``rrperf.toml``, timed by a scripted clock injected into the runner
(:data:`TIMES`: each iteration lasts exactly 0.500, 0.505, 0.510 or 0.515 s whatever the
machine does), against stored runs constructed around it, so every ratio and answer is exact.
"""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rrperf.bench.runner as runner_module
from rrperf.bench.history import HistoryStore
from rrperf.bench.regress import detect_regressions
from rrperf.bench.results import MEASUREMENT_COLUMNS, MEASUREMENT_DTYPES, validate_measurements
from rrperf.bench.systems import available_strategies, default_strategy
from rrperf.cli import main
from rrperf.config import RrperfConfig

pytestmark = pytest.mark.filterwarnings("ignore::rrperf.errors.StabilityWarning")

REPO = Path(__file__).resolve().parents[2]
RRPERF = REPO / ".venv" / "bin" / "rrperf"
FAST = f'{sys.executable} -c "pass"'
TINY = ["--scenarios", "small", "--iterations", "2", "--warmup", "0", "--seed", "1"]
REPORT_KEYS = [
    "metadata", "rows", "summary", "comparison", "correctness", "stability", "warnings",
]


def group_tokens(system: str, cache_state: str = "cold") -> list[str]:
    """The first cells of a text-table row; the pipeline runs the default strategy."""
    strategy = default_strategy() if system == "pipeline" else ""
    return ["small", system, *([strategy] if strategy else []), cache_state]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the current directory (no rrperf.toml above it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private folder for the pid files of running benchmarks, so that benchmarks running
    elsewhere on the machine (other tests, other users) do not add a warning here."""
    folder = tmp_path / "running"
    monkeypatch.setenv("RRPERF_RUNNING_DIR", str(folder))
    return folder


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, dict[str, Any]]]:
    """Record how the CLI constructs and calls the real BenchmarkRunner."""
    seen: list[tuple[str, Any, dict[str, Any]]] = []

    class RecordingRunner(runner_module.BenchmarkRunner):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen.append(("init", args, kwargs))
            super().__init__(*args, **kwargs)

        def plan(self, *args: Any, **kwargs: Any) -> Any:
            if not getattr(self, "_running", False):  # the CLI's own call, not the run's
                seen.append(("plan", args, kwargs))
            return super().plan(*args, **kwargs)

        def run(self, *args: Any, **kwargs: Any) -> Any:
            seen.append(("run", args, kwargs))
            self._running = True
            return super().run(*args, **kwargs)

    monkeypatch.setattr(runner_module, "BenchmarkRunner", RecordingRunner)
    return seen


#: How long each iteration lasts by the scripted clock of :func:`scripted`, in order.
TIMES = (0.500, 0.505, 0.510, 0.515)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every BenchmarkRunner the CLI makes times its iterations with a clock that moves by
    exactly TIMES[i % 4] between the two readings of iteration i (and by 1 s between
    iterations): the runner reads its clock exactly twice per iteration."""

    def clock() -> Callable[[], float]:
        def readings() -> Iterator[float]:
            now = 0.0
            for duration in itertools.cycle(TIMES):
                yield now
                now += duration
                yield now
                now += 1.0
        return readings().__next__

    class ScriptedRunner(runner_module.BenchmarkRunner):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, clock=clock(), **kwargs)

    monkeypatch.setattr(runner_module, "BenchmarkRunner", ScriptedRunner)


def declare(project: Path, command: str) -> None:
    (project / "rrperf.toml").write_text(f"[systems.gen]\ncommand = '{command}'\n", "utf-8")


def read_csv(text: str) -> pd.DataFrame:
    """Parse ``rrperf bench --format csv`` back into the contract (empty text stays empty)."""
    text_cols = [c for c, d in MEASUREMENT_DTYPES.items() if d == "string"]
    missing = [c for c, d in MEASUREMENT_DTYPES.items() if d == "float64"]
    frame = pd.read_csv(
        io.StringIO(text), keep_default_na=False,
        na_values={c: [""] for c in [*missing, "output_digest", "error"]},
        dtype={c: "string" for c in text_cols},
    )
    return validate_measurements(frame)


def test_csv_is_the_measurement_table(
    project: Path, calls: list[tuple[str, Any, dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", *TINY, "--systems", "legacy,pipeline", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert calls == [
        ("init", (), {
            "iterations": 2, "warmup": 0, "progress": False, "history": None, "seed": 1,
            "isolate": False, "name": None, "config": RrperfConfig(),  # no rrperf.toml here
        }),
        ("plan", (("small",),), {
            "systems": ("legacy", "pipeline"), "strategies": None, "cache_states": ("cold",),
        }),
        ("run", (("small",),), {
            "systems": ("legacy", "pipeline"), "strategies": None, "cache_states": ("cold",),
        }),
    ]
    data = read_csv(out)
    assert tuple(data.columns) == MEASUREMENT_COLUMNS
    assert data.to_csv(index=False) == out  # exactly the DataFrame's to_csv
    assert len(data) == 4
    assert sorted(data["system"]) == ["legacy", "legacy", "pipeline", "pipeline"]
    assert sorted(data["iteration"]) == [0, 0, 1, 1]
    assert not data["warmup"].any()
    assert data["error"].isna().all()
    assert data["n_tables"].tolist() == [4] * 4
    assert data["files_total"].tolist() == [14] * 4  # with rrperf-runtime.d.ts
    assert data["output_digest"].nunique() == 1
    assert data["run_id"].nunique() == 1
    assert not (project / ".rrperf").exists()  # nothing saved without --save


def test_json_has_the_report_keys(
    project: Path, calls: list[tuple[str, Any, dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["bench", *TINY, "--systems", "legacy,pipeline", "--cache", "both", "--format", "json"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert calls[0][2]["progress"] is False
    assert calls[2][2]["cache_states"] == ("cold", "warm")
    payload = json.loads(out)
    assert list(payload) == [*REPORT_KEYS, "gate"]
    assert payload["gate"]["baseline"] == "legacy"
    assert {r["decision"] for r in payload["gate"]["same_run"]} <= {
        "not slower", "slower", "undecided",
    }
    assert len(payload["gate"]["same_run"]) == 2
    assert len(payload["rows"]) == 8
    assert list(payload["rows"][0]) == list(MEASUREMENT_COLUMNS)
    assert len(payload["metadata"]) == 1
    assert payload["metadata"][0]["run_id"] == payload["rows"][0]["run_id"]
    assert [(r["system"], r["cache_state"], r["n"]) for r in payload["summary"]] == [
        ("legacy", "cold", 2), ("legacy", "warm", 2), ("pipeline", "cold", 2),
        ("pipeline", "warm", 2),
    ]
    assert [(r["system"], r["cache_state"], r["baseline"]) for r in payload["comparison"]] == [
        ("pipeline", "cold", "legacy"), ("pipeline", "warm", "legacy"),
    ]
    assert all(r["verdict"] in ("faster", "slower", "equivalent", "inconclusive")
               for r in payload["comparison"])
    assert [(r["system"], r["matches_baseline"]) for r in payload["correctness"]] == [
        ("pipeline", True),
    ]


def test_table_and_markdown_for_people(
    project: Path, calls: list[tuple[str, Any, dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", *TINY, "--systems", "legacy,pipeline"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert calls[0][2]["progress"] is True  # the bar (stderr) is on for people
    assert lines[0].startswith("run ")
    assert lines[0].endswith(": 4 iterations (0 warm-up), 2 measured round(s)")
    assert lines[2] == "Summary (wall_s, warm-ups left out)"
    assert lines[3].split() == [
        "scenario", "system", "strategy", "cache_state", "n", "median", "ci_low", "ci_high",
        "cv", "outliers",
    ]
    assert [line.split()[:-6] for line in lines[5:7]] == [
        group_tokens("legacy"), group_tokens("pipeline"),
    ]
    assert lines[8] == "Comparison with legacy (ratio < 1 is faster; slower means beyond +0.05)"
    assert lines[9].split() == [
        "scenario", "system", "strategy", "cache_state", "baseline", "ratio", "ratio_ci_low",
        "ratio_ci_high", "p_value", "verdict", "decision",
    ]
    assert lines[11].split()[:5] == [*group_tokens("pipeline"), "legacy"]
    assert len(lines) == 12  # output matches: no correctness line

    assert main(["bench", *TINY, "--systems", "pipeline", "--format", "markdown",
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert calls[3][2]["progress"] is False
    assert text.startswith(
        "# rrperf benchmark report\n\nBaseline: pipeline; 2 iterations in 1 run(s).\n"
    )
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Metadata", "## Summary", "## Comparison", "## Correctness", "## Stability",
        "## Warnings",
    ]


def store_fake_run(name: str, wall_s: float, *, system: str = "gen") -> str:
    """Store a complete run of ``system`` on ``small`` whose 4 iterations took
    ``wall_s * (1 + i / 100)`` (i = 0..3), as the scripted clock's runs do for 0.5 s."""
    from rrperf.bench.results import BenchmarkResult, measurements_frame

    rows = [{
        "run_id": f"{name}-run", "started_at": pd.Timestamp("2026-11-01T00:00:00Z"),
        "scenario": "small", "system": system, "strategy": "", "cache_state": "cold",
        "iteration": i, "order": 0, "warmup": False, "wall_s": wall_s * (1 + i / 100),
        "cpu_s": wall_s, "peak_rss_mb": 5.0, "n_tables": 4, "files_total": 0,
        "files_written": 0, "files_unchanged": 0, "cache_hits": 0, "cache_misses": 0,
        "output_digest": "d", "error": None,
    } for i in range(4)]
    with HistoryStore(".rrperf/history.sqlite") as store:
        store.save_result(BenchmarkResult(measurements_frame(rows)), name=name)
    return f"{name}-run"


def test_save_compare_fail_on_regression(
    project: Path, scripted: None, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["bench", "--scenarios", "small", "--systems", "gen", "--iterations", "4",
              "--warmup", "0", "--seed", "3"]
    declare(project, FAST)
    assert main([*common, "--save", "base", "--format", "csv"]) == 0
    capsys.readouterr()
    store_path = project / ".rrperf" / "history.sqlite"  # the default history path
    with HistoryStore(store_path) as store:
        runs = store.list_runs()
    assert runs[["name", "status", "n_rows", "systems"]].astype(object).values.tolist() == [
        ["base", "complete", 4, "gen"],
    ]

    with HistoryStore(store_path) as store:
        assert store.load_run("base").data["wall_s"].tolist() == pytest.approx(TIMES, abs=1e-12)

    # Against a stored run of 0.1 s per iteration this run (0.5 s) is exactly 5 times slower:
    # beyond the drift allowance of one stored run (3x), so slower, exit 1, one stderr line
    # per finding.
    tiny_id = store_fake_run("tiny", 0.1)
    argv = [*common, "--compare", "tiny", "--fail-on-regression", "--save", "now",
            "--format", "json"]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    findings = [line for line in err.splitlines() if line.startswith("rrperf: ")]
    assert len(findings) == 2
    assert findings[0].startswith("rrperf: slower: small gen cold: time ratio ")
    assert findings[0].endswith("against one stored run, beyond the drift allowance of 3x")
    assert findings[1] == "rrperf: gate: slower (exit 1)"
    payload = json.loads(out)
    assert list(payload) == [*REPORT_KEYS, "gate", "compared_with", "regressions"]
    assert payload["compared_with"] == {
        "name": "tiny", "run_id": tiny_id, "threshold": 0.05, "run_ids": [tiny_id],
    }
    assert payload["gate"]["outcome"] == "slower"
    [row] = payload["regressions"]
    assert (row["scenario"], row["system"], row["strategy"], row["cache_state"]) == (
        "small", "gen", "", "cold",
    )
    assert (row["n_runs"], row["decision"]) == (1, "slower")
    # The ratio and interval are detect_regressions' on the stored rows.
    with HistoryStore(store_path) as store:
        now = store.load_run("now")
        tiny = store.load_run("tiny")
    oracle = detect_regressions(now.data, tiny.data, threshold=0.05)
    assert row["ratio"] == pytest.approx(float(oracle["ratio"].iloc[0]))
    assert row["ratio_ci_low"] == pytest.approx(float(oracle["ratio_ci_low"].iloc[0]))
    assert now.data["wall_s"].tolist() == pytest.approx(TIMES, abs=1e-12)
    assert row["ratio"] == pytest.approx(5.0)  # the stored run is this one scaled by 1/5
    assert row["ratio_ci_low"] > 3 * 1.05

    # Against a stored run of 2.5 s per iteration: exactly 5 times faster, exit 0.
    huge_id = store_fake_run("huge", 2.5)
    assert main([*common, "--compare", "huge", "--fail-on-regression", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert [line for line in err.splitlines() if line.startswith("rrperf: ")] == [
        "rrperf: gate: pass (exit 0)",
    ]
    lines = out.splitlines()
    title = f"Check against stored huge ({huge_id}) (ratio = this run / stored)"
    assert title in lines
    table = lines[lines.index(title) + 3]
    assert table.split()[:4] == ["small", "gen", "cold", "1"]
    assert table.split()[4] == "0.2"  # exactly 5 times faster
    assert table.split()[-2:] == ["not", "slower"]
    at = lines.index("Machine")
    assert lines[at + 1].split() == ["this", "run", "stored", "run"]
    assert lines[at + 2].split()[0] == "run"
    assert [line.split("  ")[0] for line in lines[at + 3:]] == [
        "cpu model", "cpus", "load avg at start (1, 5, 15 min)", "load avg at end",
        "other benchmarks running",
    ]
    # this run knows its load and the other benchmarks; the constructed one does not
    assert lines[-1].split()[-2:] == ["none", "unknown"]

    # A second run of a name: saving keeps both and says so.
    assert main([*common, "--save", "base", "--format", "csv"]) == 0
    assert "note: 1 run(s) named 'base' already in .rrperf/history.sqlite; this run is added " \
        "beside them" in capsys.readouterr().err
    with HistoryStore(store_path) as store:
        assert store.list_runs()["name"].tolist().count("base") == 2

    # Without --fail-on-regression the finding is reported and the exit status stays 0.
    assert main([*common, "--compare", "tiny", "--format", "markdown", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert not [line for line in err.splitlines() if line.startswith("rrperf: ")]
    section = out[out.index("## Against stored"):].splitlines()
    assert section[0] == f"## Against stored tiny ({tiny_id})"
    assert section[2] == "Outcome: slower (1 group(s) checked, threshold 5.0%)"
    assert section[4].startswith("- slower: small gen cold: time ratio ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--scenarios", "nope"], "unknown scenario 'nope' (and no such file); valid names: "),
        (["--systems", "nope"], "unknown system 'nope'; expected one of: legacy, pipeline\n"),
        (["--systems", "legacy", "--strategies", "sequential"],
         "strategies sequential were given, but none of the systems legacy runs strategies "
         "(the built-in one is 'pipeline')\n"),
        (["--strategies", "bogus"],
         f"unknown strategy 'bogus'; expected one of: {', '.join(available_strategies())}\n"),
        (["--baseline", "pipeline/parallel"],
         "--baseline 'pipeline/parallel' is not measured; variants: legacy, "
         f"pipeline/{default_strategy()}\n"),
        (["--strategies", "sequential,minimal", "--baseline", "pipeline"],
         "--baseline 'pipeline' runs several strategies (pipeline/sequential, "
         "pipeline/minimal); name one, e.g. --baseline pipeline/sequential\n"),
        (["--compare", "base"],
         "no history store at '.rrperf/history.sqlite'; save a run first with "
         "`rrperf bench --save NAME`, or pass --history PATH\n"),
    ],
)
def test_user_mistakes_exit_1(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["bench", "--scenarios", "small", *argv]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"rrperf: error: {message}")
    assert err.count("\n") == 1
    assert not (project / ".rrperf").exists()


def test_unknown_compare_name_exit_1(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "elsewhere.sqlite"
    HistoryStore(history).close()
    assert main(["bench", *TINY, "--compare", "nightly", "--history", str(history)]) == 1
    assert capsys.readouterr().err == (
        f"rrperf: error: no run with id or name 'nightly' in history store {str(history)!r}; "
        "it has no named runs (see list_runs() for run ids)\n"
    )


def test_options_reach_the_runner(
    project: Path, calls: list[tuple[str, Any, dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The unknown scenario stops the run after the runner is built, before anything runs.
    argv = ["bench", "--scenarios", "nope", "--isolate", "--seed", "7", "--save", "x",
            "--iterations", "3", "--warmup", "2", "--history", "h.sqlite"]
    assert main(argv) == 1
    init = calls[0][2]
    history = init.pop("history")
    assert isinstance(history, HistoryStore)
    assert history.path == Path("h.sqlite")
    assert init == {
        "iterations": 3, "warmup": 2, "progress": True, "seed": 7, "isolate": True, "name": "x",
        "config": RrperfConfig(),
    }
    assert calls[1] == ("plan", (("nope",),), {
        "systems": ("legacy", "pipeline"), "strategies": None, "cache_states": ("cold",),
    })
    assert len(calls) == 2  # nothing ran


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "xml"], "argument --format: invalid choice: 'xml' (choose from "
         "'table', 'json', 'markdown', 'csv')"),
        (["--cache", "hot"], "argument --cache: invalid choice: 'hot' (choose from 'cold', "
         "'warm', 'both')"),
        (["--cache", "tepid"], "argument --cache: invalid choice: 'tepid' (choose from "
         "'cold', 'warm', 'both')"),
        (["--iterations", "0"], "argument --iterations: expected a number of rounds >= 1, "
         "got '0'"),
        (["--warmup", "-1"], "argument --warmup: expected a number >= 0, got '-1'"),
        (["--time-budget", "60"], "--time-budget needs --iterations auto"),
        (["--iterations", "auto", "--time-budget", "0"],
         "argument --time-budget: expected a positive number of seconds, got '0'"),
        (["--iterations", "auto", "--max-rounds", "3"],
         "argument --max-rounds: expected a number >= 10, got '3'"),
        (["--threshold", "1.5"], "argument --threshold: expected a fraction in [0, 1), got '1.5'"),
        (["--threshold", "x"], "argument --threshold: expected a fraction such as 0.05, got 'x'"),
        (["--iterations", "two"], "argument --iterations: expected a number of rounds >= 1 or "
         "'auto', got 'two'"),
    ],
)
def test_usage_errors_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["bench", *argv])
    assert info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"rrperf bench: error: {message}"


def test_subprocess_exit_codes_and_clean_stdout(project: Path) -> None:
    def rrperf(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(RRPERF), *argv], capture_output=True, text=True, check=False, cwd=project
        )

    ok = rrperf("bench", *TINY, "--systems", "pipeline", "--format", "csv")
    assert ok.returncode == 0, ok.stderr
    assert "Traceback" not in ok.stderr
    assert len(read_csv(ok.stdout)) == 2
    mistake = rrperf("bench", "--systems", "nope")
    assert (mistake.returncode, mistake.stdout) == (1, "")
    assert mistake.stderr == (
        "rrperf: error: unknown system 'nope'; expected one of: legacy, pipeline\n"
    )
    for usage in (rrperf("bench", "--format", "xml"), rrperf("bench", "--cache", "tepid")):
        assert (usage.returncode, usage.stdout) == (2, "")
        assert usage.stderr.splitlines()[-1].startswith("rrperf bench: error: argument ")


def test_a_variant_whose_iterations_all_failed_is_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    declare(project, f'{sys.executable} -c "import sys; sys.stderr.write(chr(98)); sys.exit(3)"')
    for extra in ([], ["--fail-on-regression"]):
        argv = ["bench", *TINY, "--systems", "legacy,gen", *extra, "--format", "json"]
        assert main(argv) == 1
        out, err = capsys.readouterr()
        assert err.splitlines()[-2:] == [
            "warning: 2 of 4 iterations failed (first: exit 3: b)",
            "rrperf: error: every iteration failed for small gen cold; nothing to judge",
        ]
        payload = json.loads(out)
        assert sorted({r["error"] or "" for r in payload["rows"]}) == ["", "exit 3: b"]
        assert payload["gate"]["outcome"] == "error"


def test_nothing_in_common_is_an_error_under_fail_on_regression(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rrperf.bench.results import BenchmarkResult, measurements_frame

    row = {
        "run_id": "old", "started_at": pd.Timestamp("2026-11-01T00:00:00Z"), "scenario": "large",
        "system": "legacy", "strategy": "", "cache_state": "cold", "iteration": 0, "order": 0,
        "warmup": False, "wall_s": 0.5, "cpu_s": 0.5, "peak_rss_mb": 50.0, "n_tables": 18,
        "files_total": 55, "files_written": 55, "files_unchanged": 0, "cache_hits": 0,
        "cache_misses": 0, "output_digest": "d", "error": None,
    }
    with HistoryStore(".rrperf/history.sqlite") as store:
        store.save_result(BenchmarkResult(measurements_frame([row])), name="old")
    declare(project, FAST)
    argv = ["bench", *TINY, "--systems", "gen", "--compare", "old", "--format", "json"]
    assert main(argv) == 0  # reported, not judged
    out, err = capsys.readouterr()
    assert [line for line in err.splitlines() if line.startswith("warning: ")] == [
        "warning: old has no (scenario, system, strategy, cache_state) group in common "
        "with this run; nothing was compared",
    ]
    payload = json.loads(out)
    assert payload["regressions"] == []
    assert payload["compared_with"] == {
        "name": "old", "run_id": "old", "threshold": 0.05, "run_ids": ["old"],
    }
    assert main([*argv, "--fail-on-regression"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-2:] == [
        "rrperf: no (scenario, system, strategy, cache_state) group in common with the stored "
        "run(s); nothing was compared",
        "rrperf: gate: error (exit 1)",
    ]


def test_fail_on_regression_without_anything_to_compare_is_an_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    declare(project, FAST)
    argv = ["bench", *TINY, "--systems", "gen", "--fail-on-regression", "--format", "csv"]
    assert main(argv) == 1
    assert capsys.readouterr().err.splitlines()[-2:] == [
        "rrperf: error: nothing to compare: only gen was measured and no --compare NAME was "
        "given",
        "rrperf: gate: error (exit 1)",
    ]


def test_strategies_are_variants_of_the_pipeline(
    project: Path, calls: list[tuple[str, Any, dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["bench", *TINY, "--systems", "legacy,pipeline", "--strategies", "sequential,minimal",
            "--format", "json"]
    assert main(argv) == 0
    assert calls[2][2]["strategies"] == ("sequential", "minimal")
    payload = json.loads(capsys.readouterr().out)
    assert sorted({(r["system"], r["strategy"]) for r in payload["rows"]}) == [
        ("legacy", ""), ("pipeline", "minimal"), ("pipeline", "sequential"),
    ]
    assert [(r["system"], r["strategy"]) for r in payload["comparison"]] == [
        ("pipeline", "minimal"), ("pipeline", "sequential"),
    ]
    assert [(r["strategy"], r["matches_baseline"]) for r in payload["correctness"]] == [
        ("minimal", True), ("sequential", True),
    ]
