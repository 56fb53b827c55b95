"""The cost model's constants, measured on the machine it runs on.

A :class:`~rrperf.optimize.workload.WorkloadProfile` times each step alone (the minimum of a few
repeats); a real run pays more: other processes, cold CPU caches, the garbage collector, the
calls between the steps. A calibration measures what one second of each model term
(:data:`~rrperf.optimize.workload.TERMS`) costs in real runs here, and the fixed cost every run
pays:

1. :func:`measure_observations`: a short real calibration run. For each of
   :data:`CALIBRATION_SCENARIOS`, profile the source and benchmark every candidate strategy
   cold and warm (:data:`CALIBRATION_ITERATIONS` interleaved rounds, the benchmark runner of
   ``rrperf bench``). Each strategy and cache state gives an :class:`Observation`: the model's
   uncalibrated terms and the measured median. Steady-state runs start a process pool only
   from the generator's start threshold on (thousands of tables), so the pool's terms get
   their own runs: :data:`POOL_SCENARIOS`, cold, the strategies whose context has a process
   pool and the serial one with the fewest resources beside them, with each context's pool
   started before the first round (:meth:`rrperf.engine.parallel.ParallelExecutor.start_pool`);
   their observations are made with ``pool_started=True``, so the model describes what ran.
   One more such run, without starting the pools first, is made at the generator's start
   threshold (the first size whose steady state renders on the pool, what ``analyze`` and
   ``benchmarks/bench_crossover.py`` measure above it; at most
   :data:`STEADY_POOL_MAX_TABLES`).
   Each benchmark's observations take the CPUs other processes kept busy during it
   (:class:`rrperf.optimize.profiler.OtherLoad`) for the profile's load, so that the pool's
   share of the machine is what the runs had.
2. :func:`fit`: the factors and the fixed cost minimising the relative error of the predictions
   (:func:`scipy.optimize.least_squares`, robust ``soft_l1`` loss; each factor is pulled gently
   towards 1 so that a term the runs do not exercise keeps its measured value, and kept within
   :data:`~rrperf.optimize.workload.FACTOR_BOUNDS`).
3. The calibration and its observations are kept per machine (:func:`machine_fingerprint`) in
   the history store's ``meta`` table (:meth:`rrperf.bench.history.HistoryStore.meta`).
4. :func:`refresh`: after every analysis its own observations are checked against the stored
   calibration; when the median absolute error exceeds :data:`DRIFT_BOUND`, the calibration is
   fitted again on the newest observations (at most :data:`MAX_OBSERVATIONS`) and stored. A new
   machine fingerprint (other CPU, memory, Python or rrperf version) starts a new calibration.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from rrperf._util import usable_cpus
from rrperf.optimize.workload import (
    FACTOR_BOUNDS,
    TERMS,
    Calibration,
    StrategyLike,
    WorkloadProfile,
    pool_threshold,
    raw_terms,
    tie_break,
)

if TYPE_CHECKING:
    from rrperf.bench.history import HistoryStore
    from rrperf.bench.results import BenchmarkResult
    from rrperf.config import RrperfConfig

__all__ = [
    "CALIBRATION_ITERATIONS",
    "CALIBRATION_SCENARIOS",
    "DRIFT_BOUND",
    "MAX_OBSERVATIONS",
    "POOL_SCENARIOS",
    "STEADY_POOL_MAX_TABLES",
    "Observation",
    "fit",
    "load",
    "machine_fingerprint",
    "measure_observations",
    "model_error",
    "observations",
    "refresh",
    "save",
]

#: Scenarios of the calibration run: a 10-table schema (fixed costs dominate) and 1,000
#: synthetic tables (per-table costs and the pool dominate).
CALIBRATION_SCENARIOS: tuple[str, ...] = ("medium", "synthetic:1000")
#: Scenarios of the calibration's pool runs (cold, process pools started first): the pool's
#: batch, shipping and per-table terms at two sizes.
POOL_SCENARIOS: tuple[str, ...] = ("synthetic:300", "synthetic:1000")
#: The calibration's steady-state pool run is made at the generator's start threshold
#: (:func:`rrperf.optimize.workload.pool_threshold`) rounded up to 100 tables, unless that is
#: above this many tables.
STEADY_POOL_MAX_TABLES = 4000
#: Measured rounds per strategy and cache state in the calibration run.
CALIBRATION_ITERATIONS = 7
#: Median absolute prediction error above which a calibration is fitted again.
DRIFT_BOUND = 0.20
#: Observations kept per machine (the newest).
MAX_OBSERVATIONS = 240
# Pull of each factor towards 1 (in units of relative error).
_PRIOR = 0.01
# v2: the pool's count-based terms (older calibrations lack them and are measured again)
_KEY = "optimizer.calibration.v2:"


def machine_fingerprint() -> str:
    """A short digest of what decides the constants: CPU model and usable count, memory,
    architecture, Python and rrperf versions."""

    import psutil

    from rrperf import __version__
    from rrperf.bench.metadata import collect_metadata

    meta = collect_metadata(run_id="calibration")
    cpus = usable_cpus()
    facts = [meta.cpu_model, cpus, round(psutil.virtual_memory().total / 2**30),
             platform.machine(), platform.python_version(), __version__]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Observation:
    """One strategy and cache state of a real run: the model's uncalibrated terms and the
    measured median (seconds)."""

    scenario: str
    cache_state: str
    strategy: str
    terms: Mapping[str, float]
    measured_s: float


def observations(
    scenario: str,
    profile: WorkloadProfile,
    bench: BenchmarkResult,
    strategies: Mapping[str, StrategyLike],
    *,
    pool_started: bool | None = None,
) -> list[Observation]:
    """The observations of a benchmark of ``strategies`` on the source ``profile`` measured;
    ``pool_started``: the pool state of its runs (None: the steady state, see
    :mod:`rrperf.optimize.workload`)."""
    summary = bench.summary()
    out = []
    part = summary[summary["median"].notna()]
    for name, state, median in zip(part["strategy"], part["cache_state"], part["median"],
                                   strict=True):
        if name in strategies and median > 0:
            seen = replace(profile.with_state(str(state)), pool_started=pool_started)
            terms = raw_terms(seen, strategies[name])
            out.append(Observation(scenario, str(state), str(name), terms, float(median)))
    return out


def _predicted(cal: Calibration, obs: Observation) -> float:
    return cal.fixed_s + sum(cal.factors[t] * obs.terms[t] for t in TERMS)


def model_error(cal: Calibration, obs: Sequence[Observation]) -> float:
    """Median absolute relative error of ``cal``'s predictions of ``obs`` (NaN for none)."""
    if not obs:
        return math.nan
    return statistics.median(abs(_predicted(cal, o) / o.measured_s - 1.0) for o in obs)


def fit(obs: Sequence[Observation], machine: str = "") -> Calibration:
    """The factors and fixed cost that best predict ``obs`` (see the module docstring)."""
    import numpy as np
    from scipy.optimize import least_squares

    if not obs:
        return Calibration(machine=machine)
    a = np.array([[o.terms[t] for t in TERMS] + [1.0] for o in obs]) / np.array(
        [[o.measured_s] for o in obs]
    )
    k = len(TERMS)

    def residuals(x: Any) -> Any:
        return np.concatenate([a @ x - 1.0, _PRIOR * (x[:k] - 1.0)])

    scale = min(o.measured_s for o in obs)
    low = [FACTOR_BOUNDS[t][0] for t in TERMS] + [0.0]
    high = [FACTOR_BOUNDS[t][1] for t in TERMS] + [10.0 * scale]
    x0 = np.clip(np.array([1.0] * k + [0.0]), low, high)
    result = least_squares(residuals, x0, loss="soft_l1", f_scale=0.1, bounds=(low, high))
    cal = Calibration(dict(zip(TERMS, map(float, result.x[:k]), strict=True)),
                      float(result.x[k]), machine, n_runs=len(obs))
    return Calibration(cal.factors, cal.fixed_s, machine, model_error(cal, obs), len(obs))


def load(store: HistoryStore, machine: str) -> tuple[Calibration | None, list[Observation]]:
    """The calibration stored for ``machine`` and its observations (None, [] when none)."""
    text = store.meta(_KEY + machine)
    if text is None:
        return None, []
    data = json.loads(text)
    return (Calibration.from_dict(data["calibration"]),
            [Observation(**o) for o in data["observations"]])


def save(store: HistoryStore, cal: Calibration, obs: Sequence[Observation]) -> None:
    """Keep ``cal`` and the observations it was fitted to in ``store`` (for its machine)."""
    data = {"calibration": cal.to_dict(), "observations": [asdict(o) for o in obs]}
    store.set_meta(_KEY + cal.machine, json.dumps(data))


def refresh(
    store: HistoryStore, machine: str, new: Sequence[Observation]
) -> tuple[Calibration, bool]:
    """Check the stored calibration against ``new`` observations; fit it again when there is
    none or it has drifted beyond :data:`DRIFT_BOUND`.

    Returns
    -------
    tuple
        The calibration now stored, and whether it was fitted again.
    """
    cal, old = load(store, machine)
    if cal is not None and not model_error(cal, new) > DRIFT_BOUND:
        return cal, False
    kept = [*old, *new][-MAX_OBSERVATIONS:]
    cal = fit(kept, machine)
    save(store, cal, kept)
    return cal, True


def measure_in_new_process(
    strategies: Mapping[str, StrategyLike], **options: Any
) -> list[Observation]:
    """:func:`measure_observations` in a new (spawned) process. The heap a calibration leaves
    (1,000 tables, their caches) slowed every run measured after it in the same process (up
    to 8x on ``small``); the new process stops its process pool when done."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_measure_and_stop, dict(strategies), options).result()


def _measure_and_stop(
    strategies: Mapping[str, StrategyLike], options: Mapping[str, Any]
) -> list[Observation]:
    from rrperf.engine.parallel import ParallelExecutor

    try:
        return measure_observations(strategies, **options)
    finally:  # the pool's idle workers would keep this process alive for minutes
        ParallelExecutor(2, backend="process", enable_monitoring=False).shutdown(
            kill_workers=True)


def measure_observations(
    strategies: Mapping[str, StrategyLike],
    *,
    scenarios: Sequence[str] = CALIBRATION_SCENARIOS,
    pool_scenarios: Sequence[str] = POOL_SCENARIOS,
    steady_pool: bool = True,
    iterations: int = CALIBRATION_ITERATIONS,
    workers: int | None = None,
    config: RrperfConfig | None = None,
) -> list[Observation]:
    """The calibration run: profile and benchmark every strategy on each scenario (steady
    state, both cache states), then the pool runs on each of ``pool_scenarios`` and (with
    ``steady_pool``) at the start threshold (see the module docstring)."""
    import warnings

    from rrperf.bench.runner import BenchmarkRunner
    from rrperf.bench.scenarios import resolve_scenario
    from rrperf.errors import SchemaWarning, StabilityWarning
    from rrperf.optimize.profiler import OtherLoad, profile_workload

    def during(profile: WorkloadProfile, other: OtherLoad) -> WorkloadProfile:
        # the CPUs other processes left the runs, not those they left the profile
        return profile if other.load_avg is None else replace(profile, load_avg=other.load_avg)

    def runner() -> BenchmarkRunner:
        return BenchmarkRunner(iterations=iterations, warmup=1, progress=False, seed=0,
                               config=config)

    out: list[Observation] = []
    with warnings.catch_warnings():  # the calibration's own runs: their noise is fitted over
        warnings.simplefilter("ignore", StabilityWarning)
        warnings.simplefilter("ignore", SchemaWarning)
        for scenario in scenarios:
            profile = profile_workload(resolve_scenario(scenario).source, cache_warm=False,
                                       workers=workers)
            with OtherLoad() as other:
                bench = runner().run_comparative_benchmark(
                    [scenario], systems=("pipeline",), strategies=list(strategies),
                    cache_states=("cold", "warm"),
                )
            out += observations(scenario, during(profile, other), bench, strategies)
        # the pool's runs: the strategies whose context has a process pool, and beside them
        # the serial strategy with the fewest resources, measured the same moment
        serial = [n for n in strategies if strategies[n].backend == "serial"]
        beside = [tie_break(serial, strategies, 0, False)] if serial else []
        probe = runner().system("pipeline")
        pooled = {n: probe.context(n).executor.max_workers  # type: ignore[attr-defined]
                  for n in strategies
                  if probe.context(n).executor.backend == "process"}  # type: ignore[attr-defined]
        probe.reset()
        if not pooled:
            return out
        runs = [(scenario, True) for scenario in pool_scenarios]
        start = pool_threshold(max(pooled.values()), pool_started=False)
        if steady_pool and start is not None and start <= STEADY_POOL_MAX_TABLES:
            runs.append((f"synthetic:{-(-start // 100) * 100}", False))
        for scenario, prestart in runs:
            pools = runner()
            if prestart:
                system = pools.system("pipeline")
                for name in pooled:  # the contexts the runs will use, made now
                    system.context(name).executor.start_pool()  # type: ignore[attr-defined]
            profile = profile_workload(resolve_scenario(scenario).source, cache_warm=False,
                                       workers=workers)
            with OtherLoad() as other:
                bench = pools.run_comparative_benchmark(
                    [scenario], systems=("pipeline",), strategies=[*pooled, *beside],
                    cache_states=("cold",),
                )
            out += observations(scenario, during(profile, other), bench, strategies,
                                pool_started=True if prestart else None)
    return out
