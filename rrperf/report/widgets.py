"""ipywidgets panels: run benchmarks and tune strategies from a notebook.

Two panels, both thin views over plain-Python state (see :mod:`rrperf.report._panel_state`):

- :class:`ControlPanel`: choose scenarios, systems, strategies, cache states, iterations,
  warm-ups and workers; *Run* measures with :class:`~rrperf.bench.runner.BenchmarkRunner` while
  a progress bar counts iterations; the summary table and the confidence-interval chart
  (:func:`rrperf.report.plots.ci_chart`) appear below. ``panel.result`` is the last
  :class:`~rrperf.bench.results.BenchmarkResult`.
- :class:`StrategyTuner`: change the strategy, its worker count and its cache lifetimes, rerun,
  and compare each trial with the first in a growing table and chart, beside the
  :class:`~rrperf.optimize.optimizer.PerformanceOptimizer`'s recommendation.

Each widget change updates the state object (``panel.state``); a click calls the controller,
which stores the outcome in the state; the panel then redraws from the state. A failed run shows
its one-line :class:`~rrperf.errors.RrperfError` message in ``panel.message`` and never raises
out of the click handler. Runs are synchronous by default, so a notebook cell or a test that
calls ``button.click()`` sees the finished result; ``background=True`` runs clicks in a thread.
ipywidgets is imported by the constructors, so ``import rrperf.report.widgets`` stays light.
Progress and history: see :mod:`rrperf.report._panel_state`.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rrperf._optional import require
from rrperf.document import html_table, table_cells
from rrperf.errors import ConfigError, ReportError, RrperfError
from rrperf.report._panel_state import (
    BenchController,
    PanelState,
    Recommendation,
    Trial,
    TunerController,
    TunerState,
    trials_chart,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from rrperf.bench.history import HistoryStore
    from rrperf.bench.results import BenchmarkResult

__all__ = ["ControlPanel", "StrategyTuner"]

logger = logging.getLogger(__name__)

# Summary columns shown in the control panel's table, in order (those present are kept).
_SUMMARY_COLUMNS = (
    "scenario", "system", "strategy", "cache_state", "n", "median", "mean", "ci_low", "ci_high",
    "cv", "outliers",
)
_ERROR_STYLE = "color:#b00020"
_NOTE_STYLE = "color:#8a6d00"


# --- rendering helpers (no ipywidgets needed) -----------------------------------------------------


def _html_output(markup: str, text: str) -> dict[str, Any]:
    """A ``display_data`` output for an Output widget's ``outputs``."""
    return {
        "output_type": "display_data",
        "data": {"text/html": markup, "text/plain": text},
        "metadata": {},
    }


def _figure_output(fig: Figure, text: str) -> dict[str, Any]:
    """A ``display_data`` output holding ``fig`` as a PNG image."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"),
                 "text/plain": text},
        "metadata": {},
    }


def _table_html(frame: pd.DataFrame, css_class: str) -> str:
    return html_table(*table_cells(frame), css_class=css_class)


def _message_html(status: str, error: str | None, notes: Sequence[str], ok: str) -> str:
    """The one-line status shown under a panel's Run button (every text escaped)."""
    lines: list[str] = []
    if error is not None:
        lines.append(f'<span class="rrperf-error" style="{_ERROR_STYLE}">'
                     f"✖ {html.escape(error)}</span>")
    elif status == "done":
        lines.append(f'<span class="rrperf-ok">✔ {html.escape(ok)}</span>')
    elif status == "running":
        lines.append('<span class="rrperf-running">running…</span>')
    lines.extend(
        f'<span class="rrperf-note" style="{_NOTE_STYLE}">⚠ {html.escape(n)}</span>'
        for n in notes
    )
    return "<br>".join(lines)


def _names(text: str) -> tuple[str, ...]:
    """``"small, medium"`` -> ``("small", "medium")`` (empty items dropped)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _workers(value: int) -> int | None:
    """The workers field: 0 means each strategy's own count."""
    return None if value == 0 else value


def _summary_outputs(result: BenchmarkResult) -> tuple[list[dict[str, Any]], list[str]]:
    """The summary table and CI chart of ``result`` as outputs, plus notes on what failed."""
    from matplotlib.figure import Figure

    from rrperf.report.plots import ci_chart

    summary = result.summary()
    shown = summary[[c for c in _SUMMARY_COLUMNS if c in summary.columns]]
    outputs = [_html_output(_table_html(shown, "rrperf-summary"), shown.to_string(index=False))]
    notes = _failure_notes(result)
    try:
        fig = Figure(figsize=(6.0, 3.5))
        ci_chart(summary, ax=fig.subplots())
        outputs.append(_figure_output(fig, "<CI chart>"))
    except ReportError as err:
        notes.append(f"no chart: {' '.join(str(err).split())}")
    return outputs, notes


def _failure_notes(result: BenchmarkResult) -> list[str]:
    """One note per scenario and variant with failed iterations: the count and first error."""
    data = result.data
    failed = data[data["error"].notna()]
    notes: list[str] = []
    keys = ["scenario", "system", "strategy", "cache_state"]
    for (scenario, system, strategy, state), rows in failed.groupby(keys, sort=False):
        variant = f"{system}/{strategy}" if strategy else str(system)
        notes.append(
            f"{len(rows)} failed iteration(s) of {variant} on {scenario} ({state}): "
            f"{' '.join(str(rows['error'].iloc[0]).split())}"
        )
    return notes


class _Runs:
    """Runs a panel's action on click, synchronously or in a thread, one at a time."""

    def __init__(self, button: Any, action: Callable[[], None], *, background: bool) -> None:
        self.button = button
        self.action = action
        self.background = background
        self.thread: threading.Thread | None = None

    def click(self, _button: Any = None) -> None:
        if self.thread is not None and self.thread.is_alive():
            return  # the button is disabled meanwhile; a programmatic click is ignored too
        if not self.background:
            self.action()
            return
        self.thread = threading.Thread(target=self.action, name="rrperf-panel", daemon=True)
        self.thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        thread = self.thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True


class _Panel(ABC):
    """What both panels share: waiting, display, form setters, the Run click, the progress bar."""

    run_button: Any
    message: Any
    progress: Any
    controller: Any
    state: Any
    widget: Any
    last_error: RrperfError | None
    _runs: _Runs

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background run; return True when none is running any more."""
        return self._runs.wait(timeout)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _setter(self, attr: str, convert: Callable[[Any], Any]) -> Callable[[dict[str, Any]], None]:
        def update(change: dict[str, Any]) -> None:
            setattr(self.state, attr, convert(change["new"]))

        return update

    @abstractmethod
    def _show(self) -> None:
        """Show the finished run's result in the panel."""

    def _on_progress(self, done: int, total: int) -> None:
        bar = self.progress
        bar.max = max(total, 1)
        bar.value = min(done, bar.max)
        bar.description = f"{done}/{total}"

    def _run_and_show(self) -> None:
        """A Run click: run the panel's controller on its state, then show the outcome."""
        self.run_button.disabled = True
        self.message.value = _message_html("running", None, (), "")
        try:
            self.last_error = None
            try:
                self.controller.run(self.state, on_progress=self._on_progress)
            except RrperfError as err:
                # The controller stored the one-line message in state.error; shown below.
                self.last_error = err
            self._show()
        finally:
            self.run_button.disabled = False


class ControlPanel(_Panel):
    """Run comparative benchmarks from a notebook.

    Parameters
    ----------
    scenarios : iterable of str
        Initial scenarios (typed as a comma-separated list; ``synthetic:N`` and paths work).
    systems : iterable of str or None
        Initially selected systems; ``legacy`` and ``pipeline`` when None.
    strategies : iterable of str
        Initially selected strategies of ``pipeline``; none means its default.
    cache_states : iterable of str
        ``cold`` and/or ``warm``.
    iterations, warmup : int
        Measured and warm-up rounds.
    workers : int or None
        Worker count for every selected strategy; None keeps their own (shown as 0).
    seed : int or None
        Seed of the interleaving order.
    controller : BenchController or None
        Runs the benchmark (choose output and cache folders there); a default one when None.
    history : HistoryStore, path-like or None
        Store every run of the panel there (iteration by iteration, as the runner does);
        shorthand for ``controller=BenchController(history=...)``.
    background : bool
        Run clicks in a thread (see the module notes); False runs them synchronously.

    Attributes
    ----------
    state : PanelState
        Everything shown; updated by the widgets and by runs.
    widget : ipywidgets.VBox
        The whole panel (displaying the panel displays it).
    scenarios, systems, strategies, cache_states, iterations, warmup, workers : widgets
        The form fields.
    run_button : ipywidgets.Button
    progress : ipywidgets.IntProgress
        Iterations measured out of the total.
    message : ipywidgets.HTML
        The last run's outcome: an escaped one-line error, or a success line, and warnings.
    last_error : RrperfError or None
        The exception of the last run when it failed.
    output : ipywidgets.Output
        The summary table (HTML) and the CI chart (PNG) of the last successful run.

    Raises
    ------
    MissingDependencyError
        When ipywidgets is not installed.
    ConfigError
        When both ``controller`` and ``history`` are given (give the history to the
        controller), or ``history`` is neither a store nor a path.

    Examples
    --------
    >>> panel = ControlPanel(scenarios=["small"], iterations=2, warmup=0)  # doctest: +SKIP
    >>> panel                        # displays the panel; click Run   # doctest: +SKIP
    >>> panel.result.summary()                                          # doctest: +SKIP
    """

    state: PanelState
    controller: BenchController

    def __init__(
        self,
        *,
        scenarios: Iterable[str] = ("small",),
        systems: Iterable[str] | None = None,
        strategies: Iterable[str] = (),
        cache_states: Iterable[str] = ("cold",),
        iterations: int = 3,
        warmup: int = 1,
        workers: int | None = None,
        seed: int | None = None,
        controller: BenchController | None = None,
        history: HistoryStore | str | os.PathLike[str] | None = None,
        background: bool = False,
    ) -> None:
        w = require("ipywidgets", needed_by="ControlPanel")
        if controller is not None and history is not None:
            raise ConfigError(
                "ControlPanel takes history= or controller=, not both; pass the history to "
                "the controller: BenchController(history=...)"
            )
        self.controller = (
            controller if controller is not None else BenchController(history=history)
        )
        self.state = PanelState(
            scenarios=tuple(scenarios),
            systems=tuple(systems) if systems is not None else ("legacy", "pipeline"),
            strategies=tuple(strategies),
            cache_states=tuple(cache_states),
            iterations=iterations,
            warmup=warmup,
            workers=workers,
            seed=seed,
        )
        from rrperf.bench.systems import CACHE_STATES

        wide = {"description_width": "90px"}
        known_systems = self.controller.system_names()
        known_strategies = self.controller.strategy_names()
        self.scenarios = w.Text(
            value=", ".join(self.state.scenarios), description="scenarios", style=wide,
            tooltip="comma-separated: small, medium, synthetic:200, a schema path",
        )
        self.scenario_hint = w.HTML(
            "known: " + html.escape(", ".join(self.controller.scenario_names()))
            + ", synthetic:N, a schema path"
        )
        self.systems = w.SelectMultiple(
            options=known_systems,
            value=tuple(s for s in self.state.systems if s in known_systems),
            description="systems", style=wide, rows=min(4, max(2, len(known_systems))),
        )
        self.strategies = w.SelectMultiple(
            options=known_strategies,
            value=tuple(s for s in self.state.strategies if s in known_strategies),
            description="strategies", style=wide, rows=min(5, max(2, len(known_strategies))),
            disabled=not known_strategies,
        )
        self.cache_states = w.SelectMultiple(
            options=CACHE_STATES,
            value=tuple(s for s in self.state.cache_states if s in CACHE_STATES),
            description="cache", style=wide, rows=2,
        )
        self.iterations = w.IntText(value=iterations, description="iterations", style=wide)
        self.warmup = w.IntText(value=warmup, description="warm-up", style=wide)
        self.workers = w.IntText(
            value=workers or 0, description="workers", style=wide,
            tooltip="0 keeps each strategy's own worker count",
        )
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="0/0", style=wide)
        self.message = w.HTML("")
        self.output = w.Output()
        self.widget = w.VBox([
            w.HBox([w.VBox([self.scenarios, self.scenario_hint, self.iterations, self.warmup,
                            self.workers]),
                    w.VBox([self.systems, self.strategies, self.cache_states])]),
            w.HBox([self.run_button, self.progress]),
            self.message,
            self.output,
        ])

        bind: list[tuple[Any, str, Callable[[Any], Any]]] = [
            (self.scenarios, "scenarios", _names),
            (self.systems, "systems", tuple),
            (self.strategies, "strategies", tuple),
            (self.cache_states, "cache_states", tuple),
            (self.iterations, "iterations", int),
            (self.warmup, "warmup", int),
            (self.workers, "workers", _workers),
        ]
        for widget, attr, convert in bind:
            widget.observe(self._setter(attr, convert), names="value")
        self.last_error: RrperfError | None = None
        self._runs = _Runs(self.run_button, self._run_and_show, background=background)
        self.run_button.on_click(self._runs.click)

    # -- public

    @property
    def result(self) -> BenchmarkResult | None:
        """The last successful run's result (None before the first)."""
        return self.state.result

    def run(self) -> BenchmarkResult:
        """Run with the current settings, as the Run button does, but raise on failure.

        The panel shows the outcome either way (for notebooks and scripts that drive it).

        Returns
        -------
        BenchmarkResult

        Raises
        ------
        RrperfError
            When the run fails; its message is shown in :attr:`message` too.
        """
        self._run_and_show()
        if self.last_error is not None:
            raise self.last_error
        assert self.state.result is not None  # set by every successful run
        return self.state.result

    def __repr__(self) -> str:
        s = self.state
        return (f"ControlPanel(scenarios={list(s.scenarios)}, systems={list(s.systems)}, "
                f"status={s.status!r})")

    # -- click

    def _show(self) -> None:
        s = self.state
        notes = list(s.notes)
        result = s.result
        if s.error is None and result is not None:
            outputs, chart_notes = _summary_outputs(result)
            notes.extend(chart_notes)
            self.output.outputs = tuple(outputs)
        d = result.data if result is not None else None
        ok = "" if d is None else (
            f"{len(d)} iterations ({int(d['warmup'].sum())} warm-up), "
            f"{int(d['error'].notna().sum())} failed; run {result.run_ids[-1]}"  # type: ignore[union-attr]
        )
        self.message.value = _message_html(s.status, s.error, notes, ok)


# --- StrategyTuner --------------------------------------------------------------------------------


def _recommendation_html(rec: Recommendation | None, error: str | None) -> str:
    if rec is None:
        why = html.escape(error) if error else "not asked"
        return ('<div class="rrperf-recommendation"><b>Optimizer</b>: '
                f"no recommendation ({why})</div>")
    rows = [
        [name, f"{s['score']:.3g}", f"{s['predicted_s'] * 1e3:.3g}"]
        for name, s in sorted(rec.scores.items(), key=lambda kv: -kv[1]["score"])
    ]
    columns = ["strategy", "score", "predicted ms"]
    table = html_table(columns, rows, css_class="rrperf-scores") if rows else ""
    return (
        '<div class="rrperf-recommendation"><b>Optimizer recommends</b>: '
        f"<code>{html.escape(rec.strategy)}</code><br>{html.escape(rec.rationale)}{table}</div>"
    )


class StrategyTuner(_Panel):
    """Tune the pipeline on one scenario: change settings, rerun, compare with earlier trials.

    Parameters
    ----------
    scenario : str
        The scenario every trial runs.
    strategy : str or None
        Initial strategy; the optimizer's recommendation (else the pipeline's default) when
        None.
    workers : int or None
        Initial worker count; None keeps the strategy's own (shown as 0).
    ttl_multiplier : float
        Initial factor on the strategy's cache lifetimes.
    cache_state : {"cold", "warm"}
    iterations, warmup : int
        Measured and warm-up rounds per trial.
    seed : int or None
    recommend : bool
        Ask the optimizer for a recommendation when the tuner is built.
    controller : TunerController or None
        Runs trials and asks the optimizer; a default one when None.
    background : bool
        Run clicks in a thread (see the module notes).

    Attributes
    ----------
    state : TunerState
        Settings, trials and the recommendation.
    widget : ipywidgets.HBox
        The tuner (controls and trials on the left, the recommendation on the right).
    strategy, workers, ttl_multiplier, cache_state, iterations : widgets
        The settings of the next trial.
    run_button, use_recommended : ipywidgets.Button
    progress : ipywidgets.IntProgress
    message : ipywidgets.HTML
    last_error : RrperfError or None
        The exception of the last trial when it failed.
    trials_output : ipywidgets.Output
        The trials table (HTML) and chart (PNG).
    recommendation : ipywidgets.HTML

    Raises
    ------
    MissingDependencyError
        When ipywidgets is not installed.
    """

    state: TunerState
    controller: TunerController

    def __init__(
        self,
        scenario: str,
        *,
        strategy: str | None = None,
        workers: int | None = None,
        ttl_multiplier: float = 1.0,
        cache_state: str = "cold",
        iterations: int = 3,
        warmup: int = 1,
        seed: int | None = None,
        recommend: bool = True,
        controller: TunerController | None = None,
        background: bool = False,
    ) -> None:
        w = require("ipywidgets", needed_by="StrategyTuner")
        self.controller = controller if controller is not None else TunerController()
        self.state = TunerState(
            scenario=scenario, workers=workers, ttl_multiplier=ttl_multiplier,
            cache_state=cache_state, iterations=iterations, warmup=warmup, seed=seed,
        )
        if recommend:
            self.controller.recommend(self.state)
        from rrperf.bench.systems import CACHE_STATES, default_strategy

        options = self.controller.bench.strategy_names()
        rec = self.state.recommendation
        if strategy is None:
            strategy = rec.strategy if rec is not None and rec.strategy in options else (
                default_strategy())
        self.state.strategy = strategy
        wide = {"description_width": "110px"}
        self.strategy = w.Dropdown(
            options=options, value=strategy if strategy in options else None,
            description="strategy", style=wide, disabled=not options,
        )
        self.workers = w.IntText(
            value=workers or 0, description="workers", style=wide,
            tooltip="0 keeps the strategy's own worker count",
        )
        self.ttl_multiplier = w.FloatText(
            value=ttl_multiplier, description="TTL multiplier", style=wide, step=0.5,
        )
        self.cache_state = w.ToggleButtons(
            options=CACHE_STATES, value=cache_state if cache_state in CACHE_STATES else None,
            description="cache", style=wide,
        )
        self.iterations = w.IntText(value=iterations, description="iterations", style=wide)
        self.run_button = w.Button(description="Run trial", button_style="primary", icon="play")
        self.use_recommended = w.Button(
            description="Use recommended", disabled=rec is None or rec.strategy not in options,
        )
        self.progress = w.IntProgress(value=0, min=0, max=1, description="0/0", style=wide)
        self.message = w.HTML("")
        self.trials_output = w.Output()
        self.recommendation = w.HTML(
            _recommendation_html(rec, self.state.recommendation_error),
            layout=w.Layout(max_width="360px", margin="0 0 0 16px"),
        )
        controls = w.VBox([
            w.HTML(f"<b>Tuning</b> <code>{html.escape(scenario)}</code>"),
            self.strategy, self.workers, self.ttl_multiplier, self.cache_state, self.iterations,
            w.HBox([self.run_button, self.use_recommended]), self.progress, self.message,
            self.trials_output,
        ])
        self.widget = w.HBox([controls, self.recommendation])

        bind: list[tuple[Any, str, Callable[[Any], Any]]] = [
            (self.strategy, "strategy", lambda v: v or ""),
            (self.workers, "workers", _workers),
            (self.ttl_multiplier, "ttl_multiplier", float),
            (self.cache_state, "cache_state", lambda v: v or ""),
            (self.iterations, "iterations", int),
        ]
        for widget, attr, convert in bind:
            widget.observe(self._setter(attr, convert), names="value")
        self.last_error: RrperfError | None = None
        self._runs = _Runs(self.run_button, self._run_and_show, background=background)
        self.run_button.on_click(self._runs.click)
        self.use_recommended.on_click(self._apply_recommendation)

    # -- public

    @property
    def trials(self) -> list[Trial]:
        """Every successful trial, oldest first."""
        return list(self.state.trials)

    @property
    def result(self) -> BenchmarkResult | None:
        """The last trial's measurements."""
        return self.state.result

    def run(self) -> Trial:
        """Run one trial with the current settings, as the button does, but raise on failure.

        Returns
        -------
        Trial

        Raises
        ------
        RrperfError
            When the trial fails; its message is shown in :attr:`message` too.
        """
        self._run_and_show()
        if self.last_error is not None:
            raise self.last_error
        return self.state.trials[-1]

    def __repr__(self) -> str:
        return f"StrategyTuner({self.state.scenario!r}, trials={len(self.state.trials)})"

    # -- clicks

    def _apply_recommendation(self, _button: Any = None) -> None:
        rec = self.state.recommendation
        if rec is not None and rec.strategy in self.strategy.options:
            self.strategy.value = rec.strategy  # the observer updates the state

    def _show(self) -> None:
        s = self.state
        notes = list(s.notes)
        if s.trials:
            frame = s.trials_frame()
            shown = frame.assign(workers=frame["workers"].astype("string").fillna("default"))
            outputs = [_html_output(_table_html(shown, "rrperf-trials"),
                                    shown.to_string(index=False))]
            from matplotlib.figure import Figure

            fig = Figure(figsize=(4.5, 3.0))
            trials_chart(frame, ax=fig.subplots())
            outputs.append(_figure_output(fig, "<trials chart>"))
            self.trials_output.outputs = tuple(outputs)
        last = s.trials[-1] if s.trials else None
        ok = "" if last is None else (
            f"trial {last.trial}: median {last.median_wall_s:.4g} s over {last.n} iterations"
        )
        self.message.value = _message_html(s.status, s.error, notes, ok)
