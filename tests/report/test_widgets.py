"""ControlPanel and StrategyTuner driven without a browser: set widget values, click, assert.

Runs are real and tiny (scenario ``small``, 2 iterations, no warm-up). Nothing here depends on
how long a run takes: timings are only compared with each other through exact arithmetic.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import logging
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from rrperf.bench.history import HistoryStore
from rrperf.bench.results import BenchmarkResult
from rrperf.errors import BenchmarkError, ConfigError, MissingDependencyError, RrperfError
from rrperf.report._panel_state import (
    TRIAL_COLUMNS,
    BenchController,
    PanelState,
    Recommendation,
    TunerController,
    customize_strategy,
    one_line,
    trials_chart,
)
from rrperf.report.widgets import ControlPanel, StrategyTuner

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL_RUN = {"scenarios": ["small"], "iterations": 2, "warmup": 0, "seed": 1}


@pytest.fixture(autouse=True)
def no_swallowed_callback_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """ipywidgets logs (and swallows) exceptions raised in click handlers: there must be none."""
    caplog.set_level(logging.WARNING)
    yield
    swallowed = [r.getMessage() for r in caplog.records if "Exception in callback" in r.msg]
    assert not swallowed, swallowed


def _html_of(output: dict[str, object]) -> str:
    data = output["data"]
    assert isinstance(data, dict)
    return str(data["text/html"])


def _table_cells(markup: str) -> list[list[str]]:
    """Rows of the first HTML table, as cell texts (header row first)."""

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[list[str]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag: str) -> None:
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append("".join(self.cell).strip())
                self.cell = None

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    parser = Cells()
    parser.feed(markup)
    return parser.rows


def _png_of(output: dict[str, object]) -> bytes:
    data = output["data"]
    assert isinstance(data, dict)
    return base64.b64decode(str(data["image/png"]))


@pytest.fixture(scope="module")
def ran_panel() -> ControlPanel:
    """One panel that ran one real benchmark by a click (legacy and pipeline on ``small``)."""
    panel = ControlPanel(**SMALL_RUN)  # type: ignore[arg-type]
    panel.run_button.click()
    return panel


# --- a click runs a real benchmark ----------------------------------------------------------------


def test_click_stores_a_real_result(ran_panel: ControlPanel) -> None:
    result = ran_panel.result
    assert isinstance(result, BenchmarkResult)
    assert ran_panel.state.status == "done"
    assert ran_panel.state.error is None
    data = result.data
    assert len(data) == 4  # 2 systems x 2 iterations
    assert sorted(data["system"]) == ["legacy", "legacy", "pipeline", "pipeline"]
    assert set(data["scenario"]) == {"small"}
    assert set(data["cache_state"]) == {"cold"}
    assert not data["warmup"].any()
    assert data["error"].isna().all()
    assert (data["wall_s"] > 0).all()


def test_progress_bar_counts_every_iteration(ran_panel: ControlPanel) -> None:
    bar = ran_panel.progress
    assert (bar.value, bar.max, bar.description) == (4, 4, "4/4")
    assert (ran_panel.state.done, ran_panel.state.total) == (4, 4)


def test_output_shows_summary_table_then_ci_chart(ran_panel: ControlPanel) -> None:
    outputs = ran_panel.output.outputs
    assert [o["output_type"] for o in outputs] == ["display_data", "display_data"]
    table = _html_of(outputs[0])
    assert table.startswith('<table class="rrperf-summary">')  # rrperf.document.html_table
    header, *rows = _table_cells(table)
    assert header == [
        "scenario", "system", "strategy", "cache_state", "n", "median", "mean", "ci_low",
        "ci_high", "cv", "outliers",
    ]
    assert [r[1] for r in rows] == ["legacy", "pipeline"]
    assert [r[4] for r in rows] == ["2", "2"]
    assert _png_of(outputs[1]).startswith(PNG_MAGIC)


def test_success_message_and_warnings_are_shown(ran_panel: ControlPanel) -> None:
    run_id = ran_panel.result.run_ids[0]  # type: ignore[union-attr]
    lines = ran_panel.message.value.split("<br>")
    assert lines[0] == (
        f'<span class="rrperf-ok">✔ 4 iterations (0 warm-up), 0 failed; run {run_id}</span>'
    )
    # Warnings of the run (stability checks on 2 iterations) are lines of the panel, not
    # exceptions or stderr text; each is escaped.
    assert lines[1:] == [
        f'<span class="rrperf-note" style="color:#8a6d00">⚠ {html.escape(n)}</span>'
        for n in ran_panel.state.notes
    ]


def test_run_button_is_enabled_after_the_run(ran_panel: ControlPanel) -> None:
    assert ran_panel.run_button.disabled is False


# --- widgets update the state --------------------------------------------------------------------


def test_widget_changes_update_the_state() -> None:
    panel = ControlPanel()
    assert panel.state == PanelState()
    panel.scenarios.value = " small, synthetic:20 ,, "
    panel.systems.value = ("pipeline",)
    panel.cache_states.value = ("cold", "warm")
    panel.iterations.value = 7
    panel.warmup.value = 0
    panel.workers.value = 3
    s = panel.state
    assert s.scenarios == ("small", "synthetic:20")
    assert s.systems == ("pipeline",)
    assert s.cache_states == ("cold", "warm")
    assert (s.iterations, s.warmup, s.workers) == (7, 0, 3)
    panel.workers.value = 0
    assert panel.state.workers is None


def test_initial_widgets_reflect_the_arguments() -> None:
    panel = ControlPanel(scenarios=["small", "medium"], systems=["legacy"], iterations=4,
                         warmup=2, workers=None, cache_states=["warm"])
    assert panel.scenarios.value == "small, medium"
    assert panel.systems.value == ("legacy",)
    assert panel.cache_states.value == ("warm",)
    assert (panel.iterations.value, panel.warmup.value, panel.workers.value) == (4, 2, 0)
    assert panel.progress.value == 0
    assert panel.output.outputs == ()
    assert panel.result is None


# --- errors are one line in the panel ------------------------------------------------------------


def _error_line(panel: ControlPanel | StrategyTuner) -> str:
    prefix = '<span class="rrperf-error" style="color:#b00020">✖ '
    value = panel.message.value
    assert value.startswith(prefix), value
    return value[len(prefix):].split("</span>")[0]


def test_unknown_scenario_typed_shows_escaped_message() -> None:
    panel = ControlPanel(**SMALL_RUN)  # type: ignore[arg-type]
    panel.scenarios.value = "<b>nosuch</b>"
    assert panel.run_button.click() is None  # the handler does not raise
    assert panel.state.status == "failed"
    assert panel.state.error is not None
    assert panel.state.error.startswith(
        "unknown scenario '<b>nosuch</b>' (and no such file); valid names: small")
    assert _error_line(panel) == html.escape(panel.state.error)
    assert "<b>nosuch" not in panel.message.value
    assert panel.result is None
    assert panel.output.outputs == ()
    assert panel.progress.value == 0
    assert panel.run_button.disabled is False


def test_invalid_iteration_count_shows_runner_message() -> None:
    panel = ControlPanel(**SMALL_RUN)  # type: ignore[arg-type]
    panel.iterations.value = 0
    panel.run_button.click()
    assert _error_line(panel) == "iterations must be an integer &gt;= 1, got 0"


def test_empty_scenarios_and_unknown_cache_state() -> None:
    panel = ControlPanel(**SMALL_RUN)  # type: ignore[arg-type]
    panel.scenarios.value = " , "
    panel.run_button.click()
    assert _error_line(panel) == "scenarios: expected at least one name, got none"
    panel.scenarios.value = "small"
    panel.cache_states.value = ()
    panel.run_button.click()
    assert _error_line(panel) == "cache_states: expected at least one name, got none"


def test_workers_without_strategy_is_refused() -> None:
    panel = ControlPanel(**SMALL_RUN)  # type: ignore[arg-type]
    panel.workers.value = 2
    panel.run_button.click()
    assert _error_line(panel) == (
        "workers=2 applies to pipeline strategies; choose at least one strategy, or leave "
        "workers at the strategies&#x27; default"
    )


def test_run_method_raises_what_the_panel_shows() -> None:
    panel = ControlPanel(**SMALL_RUN)  # type: ignore[arg-type]
    panel.iterations.value = -1
    with pytest.raises(ConfigError, match=r"^iterations must be an integer >= 1, got -1$") as info:
        panel.run()
    assert panel.last_error is info.value
    assert _error_line(panel) == "iterations must be an integer &gt;= 1, got -1"


# --- background runs -----------------------------------------------------------------------------


def test_background_click_finishes_after_wait() -> None:
    panel = ControlPanel(scenarios=["nosuch-scenario"], background=True)
    panel.run_button.click()
    assert panel.wait(timeout=60) is True
    assert panel.state.status == "failed"
    assert _error_line(panel).startswith("unknown scenario &#x27;nosuch-scenario&#x27;")


# --- the controller without widgets --------------------------------------------------------------


def test_controller_error_is_stored_and_raised() -> None:
    state = PanelState(scenarios=("nosuch",), iterations=1, warmup=0)
    with pytest.raises(BenchmarkError, match=r"^unknown scenario 'nosuch' \(and no such file\); "
                       r"valid names"):
        BenchController().run(state)
    assert state.status == "failed"
    assert state.error is not None and state.error.startswith("unknown scenario 'nosuch'")
    assert state.result is None


def test_controller_reports_progress_sequence() -> None:
    calls: list[tuple[int, int]] = []
    state = PanelState(scenarios=("small",), systems=("pipeline",), iterations=2, warmup=1,
                       seed=3)
    result = BenchController().run(state, on_progress=lambda d, t: calls.append((d, t)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert state.result is result
    assert list(result.data["warmup"]) == [True, False, False]
    assert list(result.data["iteration"]) == [0, 1, 2]


def test_controller_progress_comes_from_on_iteration_and_history_is_real(
    tmp_path: Path,
) -> None:
    calls: list[tuple[int, int, int]] = []
    path = tmp_path / "h.sqlite"
    controller = BenchController(history=path)
    state = PanelState(scenarios=("small",), systems=("pipeline",), iterations=1, warmup=1,
                       seed=3)

    def progress(done: int, total: int) -> None:
        # the runner stored the iteration before reporting it
        with HistoryStore(path) as store:
            runs = store.list_runs()
        calls.append((done, total, int(runs["n_rows"].sum()) if len(runs) else 0))

    result = controller.run(state, on_progress=progress)
    assert calls == [(0, 2, 0), (1, 2, 1), (2, 2, 2)]
    assert controller.runner().on_iteration is None
    assert controller.runner().history == path
    with HistoryStore(path) as store:
        runs = store.list_runs()
        assert runs[["status", "n_rows"]].values.tolist() == [["complete", 2]]
        loaded = store.load_run(result.run_ids[0])
    pd.testing.assert_frame_equal(loaded.data, result.data)


def test_controller_runs_customized_workers_as_strategy_objects() -> None:
    state = PanelState(scenarios=("small",), systems=("pipeline",),
                       strategies=("parallel", "sequential"), iterations=1, warmup=0,
                       workers=1, seed=2)
    result = BenchController().run(state)
    data = result.data
    # sequential already has one worker: unchanged; parallel gets a labelled copy
    assert sorted(data["strategy"]) == ["parallel[workers=1]", "sequential"]
    assert data["error"].isna().all()
    assert data["cache_misses"].gt(0).all()  # each ran with its own (cold) cache
    assert state.strategies == ("parallel", "sequential")  # the form is left as typed


def test_controller_accepts_strategy_objects_in_the_state() -> None:
    tuned = customize_strategy("minimal", ttl_multiplier=2.0)
    state = PanelState(scenarios=("small",), systems=("pipeline",), strategies=(tuned,),
                       iterations=1, warmup=0, seed=2)
    data = BenchController().run(state).data
    assert list(data["strategy"]) == ["minimal[ttl_multiplier=2.0]"]
    assert data["error"].isna().all()


def test_panel_history_is_passed_to_the_runner(tmp_path: Path) -> None:
    panel = ControlPanel(scenarios=["small"], systems=["legacy"], iterations=1, warmup=0,
                         history=tmp_path / "h.sqlite")
    assert panel.controller.history == tmp_path / "h.sqlite"
    result = panel.run()
    with HistoryStore(tmp_path / "h.sqlite") as store:
        runs = store.list_runs()
    assert runs["run_id"].tolist() == result.run_ids
    assert runs[["status", "n_rows"]].values.tolist() == [["complete", 1]]


def test_panel_refuses_history_beside_a_controller(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^ControlPanel takes history= or controller=, "
                       r"not both; pass the history to the controller: "
                       r"BenchController\(history=\.\.\.\)$"):
        ControlPanel(controller=BenchController(), history=tmp_path / "h.sqlite")


def test_controller_with_a_bad_history_fails_in_one_line() -> None:
    state = PanelState(scenarios=("small",), iterations=1, warmup=0)
    with pytest.raises(ConfigError, match=r"^history must be a HistoryStore or a path, got int"):
        BenchController(history=5).run(state)  # type: ignore[arg-type]
    assert state.status == "failed"
    assert state.error is not None and state.error.startswith("history must be a HistoryStore")


def test_one_line() -> None:
    assert one_line(ConfigError("a\n  b\tc ")) == "a b c"
    assert one_line(RrperfError()) == "RrperfError"


# --- optimizer answers ---------------------------------------------------------------------------


# --- import hygiene ------------------------------------------------------------------------------


def test_missing_ipywidgets_raises_actionable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(
        MissingDependencyError,
        match=r"^ControlPanel needs ipywidgets; install it with: pip install 'ipywidgets'$",
    ) as info:
        ControlPanel()
    assert isinstance(info.value.__cause__, ImportError)


def test_import_is_light() -> None:
    code = (
        "import sys, rrperf.report.widgets\n"
        "heavy = [m for m in ('ipywidgets', 'matplotlib', 'papermill', 'seaborn')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_trial_columns() -> None:
    assert TRIAL_COLUMNS == (
        "trial", "strategy", "workers", "ttl_multiplier", "cache_state", "n", "median_wall_s",
        "ratio_vs_first",
    )


# --- StrategyTuner --------------------------------------------------------------------------------

TUNER_RUN = {"iterations": 2, "warmup": 0, "seed": 1, "recommend": False}


@pytest.fixture(scope="module")
def tuned() -> StrategyTuner:
    """A tuner that ran three real trials by clicks, changing strategy, workers and TTLs."""
    tuner = StrategyTuner("small", strategy="sequential", **TUNER_RUN)  # type: ignore[arg-type]
    tuner.run_button.click()
    tuner.strategy.value = "minimal"
    tuner.run_button.click()
    tuner.strategy.value = "balanced"
    tuner.workers.value = 1
    tuner.ttl_multiplier.value = 3.0
    tuner.run_button.click()
    return tuner


def test_trials_table_grows_with_each_click(tuned: StrategyTuner) -> None:
    assert tuned.state.error is None
    frame = tuned.state.trials_frame()
    assert list(frame.columns) == list(TRIAL_COLUMNS)
    assert list(frame["trial"]) == [1, 2, 3]
    assert list(frame["strategy"]) == ["sequential", "minimal", "balanced"]
    assert frame["workers"].tolist() == [pd.NA, pd.NA, 1]
    assert list(frame["ttl_multiplier"]) == [1.0, 1.0, 3.0]
    assert list(frame["cache_state"]) == ["cold"] * 3
    assert list(frame["n"]) == [2, 2, 2]
    medians = [t.median_wall_s for t in tuned.trials]
    assert list(frame["median_wall_s"]) == medians
    assert list(frame["ratio_vs_first"]) == [m / medians[0] for m in medians]
    assert frame["ratio_vs_first"].iloc[0] == 1.0


def test_each_trial_is_a_real_pipeline_run_of_its_strategy(tuned: StrategyTuner) -> None:
    from rrperf.engine.strategies import get_strategy

    # trial 3 ran balanced with workers=1 and TTLs x3: its rows name what differs from the
    # registered balanced (whose worker count depends on the CPUs of this machine)
    workers_differ = get_strategy("balanced").workers != 1
    labels = ["sequential", "minimal",
              "balanced[" + ("workers=1," if workers_differ else "") + "ttl_multiplier=3.0]"]
    for trial, label in zip(tuned.trials, labels, strict=True):
        data = trial.result.data
        assert list(data["system"]) == ["pipeline", "pipeline"]
        assert list(data["strategy"]) == [label] * 2
        assert data["error"].isna().all()
        assert trial.median_wall_s == float(data["wall_s"].median())
    assert tuned.result is tuned.trials[-1].result


def test_trials_output_has_table_and_chart(tuned: StrategyTuner) -> None:
    outputs = tuned.trials_output.outputs
    header, *rows = _table_cells(_html_of(outputs[0]))
    assert header == list(TRIAL_COLUMNS)
    assert [r[:4] for r in rows] == [
        ["1", "sequential", "default", "1"], ["2", "minimal", "default", "1"],
        ["3", "balanced", "1", "3"],
    ]
    assert rows[0][-1] == "1"
    assert _png_of(outputs[1]).startswith(PNG_MAGIC)
    last = tuned.trials[-1]
    assert tuned.message.value.split("<br>")[0] == (
        f'<span class="rrperf-ok">✔ trial 3: median {last.median_wall_s:.4g} s over 2 '
        "iterations</span>"
    )
    assert (tuned.progress.value, tuned.progress.max, tuned.progress.description) == (2, 2, "2/2")


def test_trials_chart_draws_one_bar_per_trial(tuned: StrategyTuner) -> None:
    frame = tuned.state.trials_frame()
    ax = trials_chart(frame)
    heights = [p.get_height() for p in ax.patches]
    assert heights == list(frame["median_wall_s"])
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "#1 sequential", "#2 minimal", "#3 balanced",
    ]


def test_customize_strategy_changes_only_the_asked_fields() -> None:
    from rrperf.engine.strategies import get_strategy

    base = get_strategy("balanced")
    assert customize_strategy("balanced") is base
    tuned = customize_strategy("balanced", workers=1, ttl_multiplier=3)
    assert tuned == dataclasses.replace(base, workers=1, ttl_multiplier=3.0)


def test_customize_strategy_accepts_a_strategy_object() -> None:
    once = customize_strategy("parallel", workers=2)
    twice = customize_strategy(once, ttl_multiplier=5)
    assert (twice.name, twice.workers, twice.ttl_multiplier) == ("parallel", 2, 5.0)
    assert customize_strategy(once) is once


@pytest.mark.parametrize(
    ("kws", "message"),
    [
        ({"workers": 0}, r"^workers must be an integer >= 1 or None, got 0$"),
        ({"ttl_multiplier": -1.0}, r"^ttl_multiplier must be a number > 0 or None, got -1.0$"),
    ],
)
def test_customize_strategy_rejects_bad_values(kws: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        customize_strategy("sequential", **kws)  # type: ignore[arg-type]


def test_tuner_error_is_one_line_and_adds_no_trial() -> None:
    tuner = StrategyTuner("small", strategy="sequential", **TUNER_RUN)  # type: ignore[arg-type]
    tuner.ttl_multiplier.value = -2.0
    tuner.run_button.click()
    assert _error_line(tuner) == "ttl_multiplier must be a number &gt; 0 or None, got -2.0"
    tuner.ttl_multiplier.value = 1.0
    tuner.workers.value = -1
    with pytest.raises(ConfigError, match=r"^workers must be an integer >= 1 or None, got -1$"):
        tuner.run()
    assert tuner.trials == []
    assert tuner.trials_output.outputs == ()
    assert tuner.state.status == "failed"


def test_tuner_unknown_scenario() -> None:
    tuner = StrategyTuner("nosuch", strategy="sequential", **TUNER_RUN)  # type: ignore[arg-type]
    tuner.run_button.click()
    assert _error_line(tuner).startswith(
        "unknown scenario &#x27;nosuch&#x27; (and no such file); valid names: small"
    )


class _Advisor:
    """An optimizer answering with a fixed recommendation (the tuner's display is tested)."""

    def __init__(self) -> None:
        self.asked: list[object] = []

    def recommend(self, workload: object = None) -> Recommendation:
        from tests.optimize.test_predictions import PROFILE

        self.asked.append(workload)
        return Recommendation(
            "minimal",
            {"sequential": {"predicted_s": 0.004, "score": 0.5},
             "minimal": {"predicted_s": 0.002, "score": 1.0}},
            "small <schema>",
            PROFILE,
        )


def test_recommendation_is_shown_and_can_be_applied() -> None:
    advisor = _Advisor()
    tuner = StrategyTuner(
        "small", strategy="sequential", controller=TunerController(optimizer=advisor),
        iterations=1, warmup=0,
    )
    from rrperf.bench.scenarios import resolve_scenario

    assert advisor.asked == [resolve_scenario("small").source]
    assert tuner.recommendation.value == (
        '<div class="rrperf-recommendation"><b>Optimizer recommends</b>: <code>minimal</code>'
        "<br>small &lt;schema&gt;"
        '<table class="rrperf-scores">\n<thead><tr><th>strategy</th><th>score</th>'
        "<th>predicted ms</th></tr></thead>\n<tbody>\n"
        "<tr><td>minimal</td><td>1</td><td>2</td></tr>\n"
        "<tr><td>sequential</td><td>0.5</td><td>4</td></tr>\n</tbody></table></div>"
    )
    assert tuner.strategy.value == "sequential"
    tuner.use_recommended.click()
    assert (tuner.strategy.value, tuner.state.strategy) == ("minimal", "minimal")


def test_tuner_starts_from_the_real_optimizers_recommendation() -> None:
    from rrperf.engine.strategies import strategy_names

    tuner = StrategyTuner("small", iterations=1, warmup=0)
    rec = tuner.state.recommendation
    assert rec is not None, tuner.state.recommendation_error
    assert list(rec.scores) == list(strategy_names())
    assert rec.strategy in rec.tied  # predicted fastest, or tied with it at the fewest resources
    assert (tuner.strategy.value, tuner.state.strategy) == (rec.strategy, rec.strategy)
    assert tuner.recommendation.value.startswith(
        '<div class="rrperf-recommendation"><b>Optimizer recommends</b>: '
        f"<code>{rec.strategy}</code>"
    )
