"""Run a comparative benchmark on a Dask distributed cluster: one task per scenario.

``BenchmarkRunner(..., client=distributed.Client(...))`` and ``rrperf bench --cluster ADDRESS``
come here (:func:`run_on_cluster`). What a user sees (one task per scenario on one worker,
the client alone writes the history, lost workers, progress, ``config_json["cluster"]``):
README, "Scale-out on a Dask cluster". Details the code decides:

* Every name is checked on the client first (:meth:`BenchmarkRunner.plan`), as for a local run.
* Each scenario's task (:func:`scenario_task`) runs a
  :class:`~rrperf.bench.runner.BenchmarkRunner` for that scenario alone with the client
  runner's settings and no history; a per-process lock makes a worker with several threads
  measure one scenario at a time. It returns its table, its warnings and its host's facts.
* Each scenario's rounds are ordered as a local run of that scenario alone with the same
  seed would order them.
* A scenario that still fails after Dask's retries is *reported failed*: its planned rows
  are kept with ``error`` set and no timings.
* Progress events are logged by the workers on the scheduler (``Worker.log_event``, topic
  :data:`PROGRESS_TOPIC`); a rerun scenario moves the bar back.

Comparisons and change points never pair rows of different hosts: see
:func:`rrperf.bench.hosts.with_host` (the host is that of the worker's address).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from rrperf.errors import ConfigError, RrperfWarning

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.bench.results import BenchmarkResult
    from rrperf.bench.runner import BenchmarkRunner
    from rrperf.bench.scenarios import BenchScenario
    from rrperf.engine.strategies import Strategy

__all__ = [
    "PROGRESS_TOPIC",
    "ScenarioSpec",
    "run_on_cluster",
    "scenario_task",
    "scenario_workers",
    "worker_facts",
]

logger = logging.getLogger(__name__)

#: Scheduler event topic of the per-iteration progress events.
PROGRESS_TOPIC = "rrperf-bench-progress"

# One scenario at a time per worker process, whatever its thread count.
_SCENARIO_LOCK = threading.Lock()


def worker_facts() -> dict[str, Any]:
    """Facts about the host and process this runs in (called on a worker)."""
    import os
    import platform
    import socket

    import psutil

    from rrperf.bench.metadata import _cpu_model

    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "platform": platform.platform(),
        "python_version": platform.python_version(),
        "cpu_model": _cpu_model(),
        "cpu_count": psutil.cpu_count(logical=True),
        "memory_total_mb": round(psutil.virtual_memory().total / (1024 * 1024), 1),
    }


def _facts_on(dask_worker: Any) -> dict[str, Any]:
    """:func:`worker_facts` for ``Client.run`` (which passes the worker as ``dask_worker``)."""
    return worker_facts()


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything a worker needs to measure one scenario (it pickles)."""

    run_id: str
    index: int
    scenario: str
    #: The scenario as the user gave it (a name, a path or a URL): what the worker resolves.
    #: ``scenario`` is its label, which for a path is only the file's stem.
    argument: str
    systems: tuple[str, ...]
    strategies: tuple[str | Strategy, ...] | None
    cache_states: tuple[str, ...]
    iterations: int
    warmup: int
    seed: int | None
    isolate: bool
    verbose: bool
    config: Any
    extra_systems: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The task key (unique per run and scenario)."""
        return f"rrperf-bench-{self.run_id}-{self.index}"


def scenario_task(spec: ScenarioSpec) -> dict[str, Any]:
    """Measure one scenario on this worker (the task function; runs on the worker).

    Returns
    -------
    dict
        ``data`` (the measurement table), ``warnings`` (the warnings table), ``worker`` (this
        worker's address) and ``facts`` (:func:`worker_facts`).
    """
    from distributed import get_worker

    from rrperf.bench.runner import BenchmarkRunner, IterationEvent

    worker = get_worker()
    address = str(worker.address)

    def progress(event: IterationEvent) -> None:
        worker.log_event(
            PROGRESS_TOPIC,
            {"key": spec.key, "worker": address, "done": event.done, "total": event.total},
        )

    with _SCENARIO_LOCK:
        runner = BenchmarkRunner(
            iterations=spec.iterations, warmup=spec.warmup, verbose=spec.verbose,
            progress=False, seed=spec.seed, isolate=spec.isolate, config=spec.config,
            on_iteration=progress,
        )
        for name, system in spec.extra_systems.items():
            runner.register_system(name, system)
        # The warnings are returned in result.warnings and re-emitted once by the client.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = runner.run(
                [spec.argument], systems=spec.systems, strategies=spec.strategies,
                cache_states=spec.cache_states,
            )
    return {
        "data": result.data,
        "warnings": result.warnings,
        "worker": address,
        "facts": worker_facts(),
    }


class _Progress:
    """The cluster-wide bar: per scenario task, how far its current attempt got."""

    def __init__(self, bar: Any, keys: Iterable[str]) -> None:
        self.bar = bar
        self.keys = frozenset(keys)  # events of other runs on the same scheduler are ignored
        self.lock = threading.Lock()
        self.seen: dict[str, tuple[str, int]] = {}
        self.finished_keys: set[str] = set()

    def _move(self, key: str, worker: str, done: int, final: bool = False) -> None:
        # The bar counts, per task, the iterations of its latest attempt: a rerun elsewhere
        # starts again from 0 and the bar moves back by what the lost attempt had counted.
        with self.lock:
            if key in self.finished_keys:
                return
            _, prev = self.seen.get(key, (worker, 0))
            self.seen[key] = (worker, done)
            if final:
                self.finished_keys.add(key)
            if done != prev:
                self.bar.update(done - prev)

    def event(self, event: Any) -> None:
        """Handler of :data:`PROGRESS_TOPIC` events, ``(timestamp, message)``."""
        try:
            _, msg = event
            if str(msg["key"]) in self.keys:
                self._move(str(msg["key"]), str(msg["worker"]), int(msg["done"]))
        except Exception:  # a malformed event must not break the client's event loop
            logger.debug("ignored progress event %r", event, exc_info=True)

    def finished(self, key: str, worker: str, rows: int) -> None:
        """A scenario task came back with ``rows`` rows (counts it fully)."""
        self._move(key, worker, rows, final=True)


def _failed_rows(
    run_id: str,
    scenario: BenchScenario,
    variants: Iterable[Any],
    states: Iterable[str],
    rounds: int,
    warmup: int,
    reason: str,
) -> list[dict[str, Any]]:
    """The planned rows of a scenario whose task failed: no timings, ``error`` = reason."""
    now = datetime.now(UTC)
    nan = math.nan
    variants = list(variants)
    return [
        {
            "run_id": run_id, "started_at": now, "scenario": scenario.name,
            "system": v.system, "strategy": v.strategy, "cache_state": state,
            "iteration": rnd, "order": position, "warmup": rnd < warmup,
            "wall_s": nan, "cpu_s": nan, "peak_rss_mb": nan, "n_tables": 0,
            "files_total": 0, "files_written": 0, "files_unchanged": 0, "cache_hits": 0,
            "cache_misses": 0, "output_digest": None, "error": reason, "worker": None,
        }
        for state in states
        for rnd in range(rounds)
        for position, v in enumerate(variants)
    ]


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"scenario failed on the cluster: {type(err).__name__}" + (f": {text}" if text else "")


def _emit(warning_frames: list[pd.DataFrame], stacklevel: int) -> None:
    """Warn once per distinct (category, message) the workers recorded (rrperf's own
    categories; others are only in ``result.warnings``)."""
    import rrperf.errors as errors

    seen: set[tuple[str, str]] = set()
    for frame in warning_frames:
        for category, message in frame[["category", "message"]].itertuples(index=False):
            key = (str(category), str(message))
            if key in seen:
                continue
            seen.add(key)
            cls = getattr(errors, key[0], None)
            if isinstance(cls, type) and issubclass(cls, RrperfWarning):
                warnings.warn(key[1], cls, stacklevel=stacklevel + 1)


def run_on_cluster(
    runner: BenchmarkRunner,
    scenarios: str | Iterable[str],
    *,
    systems: str | Iterable[str],
    strategies: str | Strategy | Iterable[str | Strategy] | None,
    cache_states: str | Iterable[str],
    stacklevel: int,
) -> BenchmarkResult:
    """The cluster run of :meth:`BenchmarkRunner.run` (see the module
    notes); ``runner.client`` is the :class:`distributed.Client`."""
    import pandas as pd
    from distributed import as_completed
    from tqdm.auto import tqdm

    from rrperf.bench.metadata import canonical_json, collect_metadata, new_run_id
    from rrperf.bench.results import (
        BenchmarkResult,
        empty_warnings,
        measurements_frame,
        validate_measurements,
    )
    from rrperf.bench.runner import IterationEvent
    from rrperf.bench.systems import BUILTIN_SYSTEMS

    client = runner.client
    arguments = (scenarios,) if isinstance(scenarios, str) else tuple(scenarios)
    resolved, variants, states = runner.plan(
        scenarios, systems=systems, strategies=strategies, cache_states=cache_states
    )
    sys_names = tuple(dict.fromkeys(v.system for v in variants))
    baseline = "legacy" if "legacy" in sys_names else sys_names[0]
    strat: tuple[str | Strategy, ...] | None = None
    if strategies is not None:
        items = (strategies,) if isinstance(strategies, str) or not isinstance(
            strategies, Iterable
        ) else tuple(strategies)
        strat = tuple(items)
    extra = {
        name: runner.system(name) for name in sys_names if name not in BUILTIN_SYSTEMS
    }
    run_id = new_run_id()
    scheduler = str(client.scheduler.address) if client.scheduler is not None else "?"
    try:
        facts: dict[str, dict[str, Any]] = dict(client.run(_facts_on))
    except Exception as err:  # noqa: BLE001 - a worker that cannot answer is left out
        logger.warning("could not read the workers' facts: %s", err)
        facts = {}
    run_config = {
        "scenarios": [s.name for s in resolved],
        "variants": [v.label for v in variants],
        "cache_states": list(states),
        "iterations": runner.iterations,
        "warmup": runner.warmup,
        "seed": runner.seed,
        "isolate": runner.isolate,
        "project": runner.config.to_dict(),
        "cluster": {"scheduler": scheduler, "workers": facts},
    }
    metadata = collect_metadata(run_id=run_id, name=runner.name, config=run_config)
    rounds = runner.warmup + runner.iterations
    per_scenario = len(states) * rounds * len(variants)
    total = per_scenario * len(resolved)
    specs = [
        ScenarioSpec(
            run_id=run_id, index=i, scenario=s.name, argument=arg, systems=sys_names,
            strategies=strat,
            cache_states=tuple(states), iterations=runner.iterations, warmup=runner.warmup,
            seed=runner.seed, isolate=runner.isolate, verbose=runner.verbose,
            config=runner.config, extra_systems=extra,
        )
        for i, (s, arg) in enumerate(zip(resolved, arguments, strict=True))
    ]
    frames: dict[int, pd.DataFrame] = {}
    warning_frames: list[pd.DataFrame] = []
    measured_by: dict[str, list[str]] = {}
    done_rows = 0
    with runner._history_store() as store, tqdm(
        total=total, delay=1.0, disable=not runner.progress, desc="rrperf bench (cluster)",
        unit="it", leave=False,
    ) as bar:
        progress = _Progress(bar, (spec.key for spec in specs))
        if store is not None:
            store.start_run(metadata, name=runner.name, baseline=baseline)
        status = "failed"
        client.subscribe_topic(PROGRESS_TOPIC, progress.event)
        futures = {
            client.submit(scenario_task, spec, key=spec.key, pure=False): spec for spec in specs
        }
        try:
            for fut in as_completed(list(futures)):  # type: ignore[no-untyped-call]
                spec = futures[fut]
                scenario = resolved[spec.index]
                try:
                    out = fut.result()
                except Exception as err:
                    logger.warning("scenario %s failed on the cluster: %s", spec.scenario, err)
                    rows = _failed_rows(
                        run_id, scenario, variants, states, rounds, runner.warmup, _reason(err)
                    )
                    frame = measurements_frame(rows)
                    worker = ""
                else:
                    worker = str(out["worker"])
                    frame = validate_measurements(
                        out["data"].assign(run_id=run_id, worker=worker)
                    )
                    warning_frames.append(out["warnings"])
                    facts[worker] = {**facts.get(worker, {}), **out["facts"]}
                    measured_by.setdefault(worker, []).append(spec.scenario)
                frames[spec.index] = frame
                records: list[dict[str, Any]] = [
                    {str(k): v for k, v in rec.items()} for rec in frame.to_dict("records")
                ]
                for row in records:
                    done_rows += 1
                    if store is not None:
                        store.append_iteration(run_id, row)
                    if runner.on_iteration is not None:
                        runner.on_iteration(
                            IterationEvent(done_rows, total, MappingProxyType(dict(row)))
                        )
                progress.finished(spec.key, worker, len(records))
            status = "complete"
        finally:
            client.unsubscribe_topic(PROGRESS_TOPIC)
            if status != "complete":
                client.cancel(list(futures))
            if store is not None:
                store.finish_run(run_id, status)
    for worker, names in measured_by.items():
        facts.setdefault(worker, {})["scenarios"] = names
    final_meta = dataclasses.replace(metadata, config_json=canonical_json(run_config))
    data = pd.concat([frames[i] for i in sorted(frames)], ignore_index=True)
    warned = [w for w in warning_frames if len(w)]
    result = BenchmarkResult(
        validate_measurements(data), final_meta.to_frame(), baseline=baseline,
        warnings=pd.concat(warned, ignore_index=True) if warned else empty_warnings(),
    )
    _emit(warned, stacklevel + 1)
    runner._check_stability(result)
    return result


def scenario_workers(data: pd.DataFrame) -> str:
    """``Workers: small on tcp://..., large on tcp://...`` (the table output of a cluster
    run); a scenario reported failed shows as ``failed``."""
    parts = []
    for scenario, part in data.groupby("scenario", sort=False):
        workers = sorted(str(w) for w in part["worker"].dropna().unique())
        parts.append(f"{scenario} on {', '.join(workers) if workers else 'failed'}")
    n = data["worker"].dropna().nunique()
    return f"Workers ({n} used): " + "; ".join(parts)


def check_client(client: Any) -> Any:
    """``client`` if it looks like a :class:`distributed.Client`, else ConfigError."""
    if client is None:
        return None
    for method in ("submit", "run", "subscribe_topic"):
        if not callable(getattr(client, method, None)):
            raise ConfigError(
                f"client must be a distributed.Client or None, got {type(client).__name__}"
            )
    return client
