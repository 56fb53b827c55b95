"""Plain-Python state and controllers behind the widget panels of :mod:`rrperf.report.widgets`.

Design notes
------------
The panels follow one rule: *widgets display state, they never hold it*. Everything a panel
shows lives in a :class:`PanelState` or :class:`TunerState`, and everything a panel does is a
call to :class:`BenchController` or :class:`TunerController`. None of this module imports
ipywidgets, so a script, a test or another front end can drive the same runs::

    state = PanelState(scenarios=("small",), iterations=2, warmup=0)
    BenchController().run(state)        # state.result is a BenchmarkResult

The states are ordinary mutable dataclasses on purpose: they are the live model of a form, and a
form passes through invalid values while the user types (an empty scenario list, 0 iterations).
Nothing is validated while editing; :meth:`BenchController.run` validates everything before it
measures (mostly by handing the values to :class:`~rrperf.bench.runner.BenchmarkRunner`, whose
messages name what was expected), so an invalid form fails with one :class:`RrperfError`.

Progress comes from the runner's ``on_iteration`` hook
(:class:`~rrperf.bench.runner.IterationEvent`): the controller turns it into
``state.done``/``state.total`` and a ``(done, total)`` callback.
The runner's ``history`` slot stays free for a real :class:`~rrperf.bench.history.HistoryStore`
(``BenchController(history=...)``). Customized strategies (:func:`customize_strategy`) are
handed to the runner as :class:`~rrperf.engine.strategies.Strategy` objects, labelled like
``balanced[workers=1]``.

Warnings raised while measuring (:class:`~rrperf.errors.StabilityWarning` on a short run, for
example) are recorded in ``state.notes`` instead of being printed to the kernel's stderr, where a
panel user would not see them.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rrperf._util import is_int, is_number
from rrperf.engine.strategies import DEFAULT_STRATEGY, get_strategy, strategy_names
from rrperf.errors import ConfigError, RrperfError
from rrperf.optimize.workload import Recommendation

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from rrperf.bench.history import HistoryStore
    from rrperf.bench.results import BenchmarkResult
    from rrperf.bench.runner import BenchmarkRunner, IterationEvent
    from rrperf.config import RrperfConfig
    from rrperf.engine.strategies import Strategy
    from rrperf.optimize.optimizer import PerformanceOptimizer

__all__ = [
    "TRIAL_COLUMNS",
    "BenchController",
    "PanelState",
    "Recommendation",
    "Trial",
    "TunerController",
    "TunerState",
    "customize_strategy",
    "one_line",
    "trials_chart",
]

logger = logging.getLogger(__name__)

#: Columns of :meth:`TunerState.trials_frame`, in order.
TRIAL_COLUMNS: tuple[str, ...] = (
    "trial", "strategy", "workers", "ttl_multiplier", "cache_state", "n", "median_wall_s",
    "ratio_vs_first",
)

Status = Literal["idle", "running", "done", "failed"]
ProgressCallback = Callable[[int, int], None]


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line (whitespace runs collapsed), for a panel's status row.

    >>> one_line(ConfigError("iterations must be an integer >= 1,\\n  got 0"))
    'iterations must be an integer >= 1, got 0'
    """
    return " ".join(str(err).split()) or type(err).__name__


# --- strategies ---------------------------------------------------------------------------------


def customize_strategy(
    name: str | Strategy, *, workers: int | None = None, ttl_multiplier: float | None = None
) -> Strategy:
    """The strategy ``name`` with its worker count and/or cache TTLs changed.

    The runner takes the returned object as it is
    (``run_comparative_benchmark(strategies=[...])``) and labels its rows with the fields
    that differ from the registered strategy, e.g. ``parallel[workers=1]``.

    Parameters
    ----------
    name : str or Strategy
        A strategy of :func:`rrperf.engine.strategies.get_strategy`, or a strategy object
        (customized again).
    workers : int or None
        Worker count (>= 1); None keeps the strategy's own.
    ttl_multiplier : float or None
        Factor on the strategy's cache lifetimes (> 0); None keeps them.

    Returns
    -------
    Strategy
        ``dataclasses.replace(get_strategy(name), ...)`` (``get_strategy(name)`` itself when
        nothing changes).

    Raises
    ------
    ConfigError
        When strategies are unavailable, ``name`` is unknown, or a value is out of range or not
        a field of that strategy.
    """
    if workers is not None and not (is_int(workers) and workers >= 1):
        raise ConfigError(f"workers must be an integer >= 1 or None, got {workers!r}")
    if ttl_multiplier is not None and not (is_number(ttl_multiplier) and ttl_multiplier > 0):
        raise ConfigError(f"ttl_multiplier must be a number > 0 or None, got {ttl_multiplier!r}")
    base = get_strategy(name)
    changes: dict[str, Any] = {}
    if workers is not None:
        changes["workers"] = workers
    if ttl_multiplier is not None:
        changes["ttl_multiplier"] = float(ttl_multiplier)
    if not changes:
        return base
    try:
        return dataclasses.replace(base, **changes)
    except TypeError as err:  # not a field of this strategy's dataclass
        raise ConfigError(
            f"strategy {base.name!r} cannot be customized with {', '.join(changes)}: {err}"
        ) from err


# --- the control panel --------------------------------------------------------------------------


@dataclass
class PanelState:
    """What the control panel shows: the form, the run's progress and its outcome.

    Parameters
    ----------
    scenarios, systems, cache_states : tuple of str
        Passed to :meth:`BenchmarkRunner.run_comparative_benchmark`.
    strategies : tuple of str or Strategy
        Strategies of the ``pipeline`` system, by name or as (customized) strategy objects;
        empty means its default.
    iterations, warmup : int
        Measured and warm-up rounds.
    workers : int or None
        Worker count given to every chosen strategy; None keeps each strategy's own.
    seed : int or None
        Seed of the interleaving order.

    Attributes
    ----------
    status : {"idle", "running", "done", "failed"}
    done, total : int
        Iterations measured so far and in all (warm-ups included).
    result : BenchmarkResult or None
        The last successful run's result (kept when a later run fails).
    error : str or None
        The one-line message of the last failed run.
    notes : list of str
        Warnings raised during the last run.
    """

    scenarios: tuple[str, ...] = ("small",)
    systems: tuple[str, ...] = ("legacy", "pipeline")
    strategies: tuple[str | Strategy, ...] = ()
    cache_states: tuple[str, ...] = ("cold",)
    iterations: int = 3
    warmup: int = 1
    workers: int | None = None
    seed: int | None = None
    status: Status = "idle"
    done: int = 0
    total: int = 0
    result: BenchmarkResult | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def _record(notes: list[str], caught: Iterable[warnings.WarningMessage]) -> None:
    for w in caught:
        text = " ".join(str(w.message).split())
        logger.debug("warning during a panel run: %s", text)
        if text not in notes:
            notes.append(text)


class BenchController:
    """Runs the benchmark a :class:`PanelState` describes and stores the outcome in it.

    Parameters
    ----------
    output_dir, cache_dir : path-like or None
        Passed to :class:`~rrperf.bench.runner.BenchmarkRunner` (temporary folders when None).
    config : RrperfConfig or None
        Project configuration (configured systems); None loads it from the current directory.
    history : HistoryStore, path-like or None
        Passed to the runner of every run, which stores each iteration there as it is
        measured (see :class:`~rrperf.bench.runner.BenchmarkRunner`); None keeps no history.

    Raises
    ------
    ConfigError
        From :meth:`runner` (and so from :meth:`run` and :meth:`system_names`) when
        ``history`` is neither a history store nor a path.

    Examples
    --------
    >>> state = PanelState(scenarios=("small",), iterations=2, warmup=0)  # doctest: +SKIP
    >>> BenchController().run(state).summary()                            # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        output_dir: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        config: RrperfConfig | None = None,
        history: HistoryStore | str | os.PathLike[str] | None = None,
    ) -> None:
        self.output_dir = output_dir
        self.cache_dir = cache_dir
        self.config = config
        self.history = history

    def runner(
        self,
        *,
        iterations: int = 1,
        warmup: int = 0,
        seed: int | None = None,
        on_iteration: Callable[[IterationEvent], None] | None = None,
    ) -> BenchmarkRunner:
        """A :class:`~rrperf.bench.runner.BenchmarkRunner` with this controller's folders and
        history store.

        Raises
        ------
        ConfigError
            When ``iterations``, ``warmup``, ``seed`` or the history is invalid (the runner's
            message).
        """
        from rrperf.bench.runner import BenchmarkRunner

        return BenchmarkRunner(
            self.output_dir, iterations=iterations, warmup=warmup, seed=seed, progress=False,
            history=self.history, config=self.config, cache_dir=self.cache_dir,
            on_iteration=on_iteration,
        )

    def system_names(self) -> tuple[str, ...]:
        """Systems a run can measure: the built-in ones and those of the configuration."""
        return self.runner().systems

    @staticmethod
    def strategy_names() -> tuple[str, ...]:
        """The registered strategies (:func:`rrperf.engine.strategies.strategy_names`)."""
        return strategy_names()

    @staticmethod
    def scenario_names() -> list[str]:
        """Named scenarios (``synthetic:N``, paths and URLs are accepted too)."""
        from rrperf.bench.scenarios import available_scenarios

        return available_scenarios()

    def run(
        self, state: PanelState, *, on_progress: ProgressCallback | None = None
    ) -> BenchmarkResult:
        """Validate ``state``, run its benchmark and store the outcome in it.

        On success ``state.result`` is the new result and ``state.error`` None; on failure
        ``state.error`` holds the one-line message, ``state.result`` keeps the previous result,
        and the error is raised. ``state.done``/``state.total`` follow the run and
        ``on_progress(done, total)`` is called after every iteration.

        Returns
        -------
        BenchmarkResult

        Raises
        ------
        RrperfError
            For an invalid form (unknown scenario, system, strategy or cache state; bad
            iteration, warm-up or worker count) before anything is measured, or when the
            benchmark itself fails.
        """
        state.status, state.error, state.notes, state.done, state.total = "running", None, [], 0, 0

        def progress(done: int, total: int) -> None:
            state.done, state.total = done, total
            if on_progress is not None:
                on_progress(done, total)

        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    result = self._run(state, progress)
                finally:
                    _record(state.notes, caught)
        except RrperfError as err:
            state.status, state.error = "failed", one_line(err)
            logger.info("panel run failed: %s", state.error)
            raise
        state.status, state.result = "done", result
        return result

    def _run(self, state: PanelState, progress: ProgressCallback) -> BenchmarkResult:
        strategies: tuple[str | Strategy, ...] | None = tuple(state.strategies) or None

        def on_iteration(event: IterationEvent) -> None:
            progress(event.done, event.total)

        runner = self.runner(
            iterations=state.iterations, warmup=state.warmup, seed=state.seed,
            on_iteration=on_iteration,
        )
        if state.workers is not None:
            if not strategies:
                raise ConfigError(
                    f"workers={state.workers} applies to pipeline strategies; choose at least "
                    "one strategy, or leave workers at the strategies' default"
                )
            strategies = tuple(customize_strategy(s, workers=state.workers) for s in strategies)
        kws: dict[str, Any] = {
            "systems": tuple(state.systems),
            "strategies": strategies,
            "cache_states": tuple(state.cache_states),
        }
        # Planning checks every name before anything runs and gives the total for the bar.
        scenarios, variants, states = runner.plan(tuple(state.scenarios), **kws)
        total = len(scenarios) * len(variants) * len(states) * (state.warmup + state.iterations)
        logger.info("panel run: %d iterations", total)
        progress(0, total)
        return runner.run_comparative_benchmark(tuple(state.scenarios), **kws)


# --- the strategy tuner -------------------------------------------------------------------------


@dataclass(frozen=True)
class Trial:
    """One run of the tuner: the settings tried and the timing obtained.

    Parameters
    ----------
    trial : int
        1-based trial number.
    strategy : str
    workers : int or None
        None when the strategy's own worker count was used.
    ttl_multiplier : float
    cache_state : str
    n : int
        Measured iterations that succeeded.
    median_wall_s : float
        Median wall time of those iterations.
    result : BenchmarkResult
        The trial's measurements.
    """

    trial: int
    strategy: str
    workers: int | None
    ttl_multiplier: float
    cache_state: str
    n: int
    median_wall_s: float
    result: BenchmarkResult = field(repr=False, compare=False)


@dataclass
class TunerState:
    """What the strategy tuner shows: the settings to try next and the trials so far.

    Parameters
    ----------
    scenario : str
        The scenario every trial runs.
    strategy : str
        Strategy of the next trial; ``""`` means the pipeline's default strategy.
    workers : int or None
        Worker count of the next trial; None keeps the strategy's own.
    ttl_multiplier : float
        Factor on the strategy's cache lifetimes (1.0 keeps them).
    cache_state : {"cold", "warm"}
    iterations, warmup : int
        Measured and warm-up rounds per trial.
    seed : int or None

    Attributes
    ----------
    trials : list of Trial
        Every successful trial, oldest first.
    recommendation : Recommendation or None
    recommendation_error : str or None
        Why there is no recommendation.
    status, done, total, error, notes
        As in :class:`PanelState`, for the last trial.
    """

    scenario: str = "small"
    strategy: str = ""
    workers: int | None = None
    ttl_multiplier: float = 1.0
    cache_state: str = "cold"
    iterations: int = 3
    warmup: int = 1
    seed: int | None = None
    trials: list[Trial] = field(default_factory=list)
    recommendation: Recommendation | None = None
    recommendation_error: str | None = None
    status: Status = "idle"
    done: int = 0
    total: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def result(self) -> BenchmarkResult | None:
        """The last trial's measurements."""
        return self.trials[-1].result if self.trials else None

    def trials_frame(self) -> pd.DataFrame:
        """One row per trial (:data:`TRIAL_COLUMNS`); ``ratio_vs_first`` is the median wall
        time over the first trial's (1.0 for the first)."""
        import pandas as pd

        first = self.trials[0].median_wall_s if self.trials else float("nan")
        rows = [
            {
                "trial": t.trial,
                "strategy": t.strategy,
                "workers": t.workers,
                "ttl_multiplier": t.ttl_multiplier,
                "cache_state": t.cache_state,
                "n": t.n,
                "median_wall_s": t.median_wall_s,
                "ratio_vs_first": t.median_wall_s / first,
            }
            for t in self.trials
        ]
        frame = pd.DataFrame(rows, columns=list(TRIAL_COLUMNS))
        return frame.astype({"trial": "int64", "workers": "Int64", "n": "int64",
                             "ttl_multiplier": "float64", "median_wall_s": "float64",
                             "ratio_vs_first": "float64"})


class TunerController:
    """Runs tuner trials and asks the optimizer for its recommendation.

    Parameters
    ----------
    bench : BenchController or None
        Where the runner's folders and configuration come from; a default one when None.
    optimizer : PerformanceOptimizer or None
        Asked by :meth:`recommend`; when None a default
        :class:`~rrperf.optimize.optimizer.PerformanceOptimizer` is made (and closed) per
        recommendation.
    """

    def __init__(
        self, *, bench: BenchController | None = None,
        optimizer: PerformanceOptimizer | None = None,
    ) -> None:
        self.bench = bench if bench is not None else BenchController()
        self.optimizer = optimizer

    def recommend(self, state: TunerState) -> Recommendation | None:
        """Store the optimizer's recommendation for ``state.scenario`` in ``state``.

        The optimizer profiles the scenario's schema source
        (``recommend(workload=source)``). A failure
        (:class:`RrperfError`) is stored as ``recommendation_error`` rather than raised: the
        tuner works without advice.
        """
        try:
            from rrperf.bench.scenarios import resolve_scenario

            source = resolve_scenario(state.scenario).source
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    if self.optimizer is not None:
                        advice = self.optimizer.recommend(workload=source)
                    else:
                        from rrperf.optimize.optimizer import PerformanceOptimizer

                        with PerformanceOptimizer() as optimizer:
                            advice = optimizer.recommend(workload=source)
                finally:
                    _record(state.notes, caught)
            state.recommendation, state.recommendation_error = advice, None
        except RrperfError as err:
            state.recommendation, state.recommendation_error = None, one_line(err)
            logger.info("no recommendation for %s: %s", state.scenario, state.recommendation_error)
        return state.recommendation

    def run(self, state: TunerState, *, on_progress: ProgressCallback | None = None) -> Trial:
        """Run one trial with the settings in ``state`` and append it to ``state.trials``.

        Returns
        -------
        Trial

        Raises
        ------
        RrperfError
            For invalid settings (stored in ``state.error`` too) or a failed run.
        """
        state.status, state.error, state.notes, state.done, state.total = (
            "running", None, [], 0, 0)
        panel = PanelState()
        try:
            strategy = state.strategy or DEFAULT_STRATEGY
            if not is_number(state.ttl_multiplier):
                raise ConfigError(
                    f"ttl_multiplier must be a number > 0, got {state.ttl_multiplier!r}"
                )
            ttl = None if state.ttl_multiplier == 1.0 else state.ttl_multiplier
            tuned = customize_strategy(strategy, workers=state.workers, ttl_multiplier=ttl)
            panel = PanelState(
                scenarios=(state.scenario,), systems=("pipeline",), strategies=(tuned,),
                cache_states=(state.cache_state,), iterations=state.iterations,
                warmup=state.warmup, seed=state.seed,
            )
            result = self.bench.run(panel, on_progress=on_progress)
        except RrperfError as err:
            state.status, state.error, state.notes = "failed", one_line(err), panel.notes
            state.done, state.total = panel.done, panel.total
            raise
        state.done, state.total, state.notes = panel.done, panel.total, panel.notes
        summary = result.summary()
        n = int(summary["n"].sum())
        if len(summary) != 1 or n == 0:
            errors = result.data["error"].dropna()
            message = (
                f"trial of {strategy!r} on {state.scenario!r} measured no successful "
                f"iteration" + (f": {errors.iloc[0]}" if len(errors) else "")
            )
            state.status, state.error = "failed", one_line(RrperfError(message))
            from rrperf.errors import BenchmarkError

            raise BenchmarkError(message)
        trial = Trial(
            trial=len(state.trials) + 1,
            strategy=strategy,
            workers=state.workers,
            ttl_multiplier=float(state.ttl_multiplier),
            cache_state=state.cache_state,
            n=n,
            median_wall_s=float(summary["median"].iloc[0]),
            result=result,
        )
        state.trials.append(trial)
        state.status = "done"
        return trial


def trials_chart(trials: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Median wall time per trial, as bars labelled with their ratio to the first trial.

    Parameters
    ----------
    trials : pandas.DataFrame
        :meth:`TunerState.trials_frame` (columns ``trial``, ``strategy``, ``median_wall_s``,
        ``ratio_vs_first``).
    ax : matplotlib.axes.Axes or None
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes
        With one bar per trial, labelled ``"#<trial> <strategy>"``.

    Raises
    ------
    ReportError
        When a column is missing or there is no trial.
    """
    from rrperf.errors import ReportError

    missing = [c for c in ("trial", "strategy", "median_wall_s", "ratio_vs_first")
               if c not in trials.columns]
    if missing:
        raise ReportError(f"trials_chart needs the columns {', '.join(missing)}")
    if trials.empty:
        raise ReportError("trials_chart needs at least one trial, got an empty table")
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(4.5, 3.0)).subplots()
    labels = [f"#{t} {s}" for t, s in zip(trials["trial"], trials["strategy"], strict=True)]
    bars = ax.bar(range(len(trials)), trials["median_wall_s"].to_numpy(dtype=float))
    ax.bar_label(bars, labels=[f"{r:.2f}x" for r in trials["ratio_vs_first"]], fontsize=8)
    ax.set_xticks(range(len(trials)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("median wall_s")
    ax.set_title("trials (ratio vs first)")
    return ax
