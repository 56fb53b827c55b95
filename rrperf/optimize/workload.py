"""Workload profiles and the cost model that turns one into a strategy recommendation.

The profile's fields are measured by :func:`rrperf.optimize.profiler.profile_workload` (its
module docstring says how).

The model (seconds of one steady-state run, what a benchmark's median measures)
-------------------------------------------------------------------------------
It follows the strategy-driven generator (:mod:`rrperf.generator.cached`) step by step, for a
strategy whose caches cover the categories ``C``, with ``n`` tables and ``F = 3n + 1`` files::

    head   = hash_s + templates_s
             + schema:   hit_s (warm, cached) | load_s + store (cold, cached) | load_s
             + analysis: 0 (warm: memoized) | analyze_s + n * keys_s (template_render in C)
                         | analyze_s
    tables = n * hit_s                      (template_render lookups, when in C)
             + misses * (per_table_s + sha_s + stores)
                                            (misses: n, or 0 when warm and rendering cached;
                                             stores: one per cached category among
                                             template_render, type_mapping, relationships;
                                             with a disk tier disk_hit_s + miss_s, else
                                             miss_mem_s)
    write  = index_s + F * (0 if warm and rendering cached | compare_s if warm | write_s)
             (+ write_s for the manifest file with a disk tier for template_render, cold)
    manifest = F * stat_s                   (a strategy that keeps an output manifest)
    total  = head + tables + write + manifest + (monitor_s if the strategy monitors)

With a pool (backend thread or process, and a non-empty plan of the generator's own
:func:`rrperf.generator.cached.plan_batches` for the misses) the misses are rendered *and
written* by that plan's batches on the pool, and the model counts what the pool costs::

    tables     = n * hit_s + misses * stores
    pool       = misses * (per_table_s + sha_s + 3 * write_s) / p
    batch      = batches * dispatch_s / p   (threads: thread_dispatch_s)
    ship       = ship_s + misses * (return_s + keys_s when the keys are not made anyway)
                                        (processes: the analysis' slices out, about one
                                         ship_s in all; each table packed, and its files
                                         pickled back)
    pool_start = starts * pool_startup_s    (0 or 1: see "Pool state" below; a run that forks
                                             its workers pays fork_s instead)

where ``p = min(workers, free_cpus)`` for processes and 1 for threads (pure-Python rendering
holds the GIL), and ``free_cpus = clip(cpu_count - load_avg + 1, 1, cpu_count)`` is what other
processes leave us (``load_avg`` counts this process once: the profiler measures it as the
CPUs other processes keep busy, plus one). A pool of one worker runs in
the calling thread, as the engine does.

Pool state (``WorkloadProfile.pool_started``): a process strategy whose context has no running
pool (a pool is started only by ``executor.start_pool()``) forks its workers for each run
where ``fork`` is available (:func:`forks_per_run`; :func:`rrperf.engine.parallel.fork_map`),
when ``plan_batches(misses, workers, pool_started=False)`` has batches (a higher threshold
than for a running pool): they inherit the analysis, so ``ship`` is only ``misses *
return_s`` and ``pool_start`` (the fork) is paid by every such run. So

* ``None`` (the default, the steady state of repeated runs of one source in one context, what
  a benchmark's median and ``rrperf analyze`` measure) and ``False`` (a new process): every
  run from the start threshold on forks; below it ``parallel`` renders serially, as
  ``sequential`` does: the step. (Without ``fork``: ``None``, the pool is running when a run
  of this size starts it, the warm-up round did; ``False``, the run pays one start.)
* ``True``: a pool started before (``start_pool()``, as the speedup measurements do): the
  running pool's plan, pickled slices of the analysis out, no start.

Every decision goes through :func:`rrperf.generator.cached.plan_batches` (:func:`pool_plan`),
so the model follows the generator when its thresholds move.

The terms (:data:`TERMS`, described by :data:`TERM_NAMES`) split the lines above: the
``tables`` line into ``render``, ``lookup`` and ``store``; ``manifest`` out of ``write``.
A strategy that keeps an output manifest without caching answers a warm repeat from the
manifest: ``head = hash_s`` and ``manifest = F * stat_s``.

Calibration: each term is multiplied by a factor measured on this machine, within the bounds
of :data:`FACTOR_BOUNDS`, and a fixed cost per run is added (:class:`Calibration`, fitted by
:mod:`rrperf.optimize.calibration` from real runs); uncalibrated, every factor is 1 and
nothing is fixed.

Ties: strategies predicted within :data:`TIE` of the fastest are a tie, which goes to the
fewest resources (:func:`resource_rank`: serial before a pool, fewer caches, no monitoring),
then to the registry order.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from rrperf._util import is_int, is_number
from rrperf.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FACTOR_BOUNDS",
    "STEP_KINDS",
    "TERMS",
    "TIE",
    "Calibration",
    "Recommendation",
    "StrategyLike",
    "WorkloadProfile",
    "predict",
    "recommend",
]

#: The per-table steps of the generator, in pipeline order.
STEP_KINDS: tuple[str, ...] = ("types", "relationships", "defaults", "polymorphic", "render")

# Files per table (types, model, reactive model).
_FILES_PER_TABLE = 3

class StrategyLike(Protocol):
    """What the model reads of a strategy (:class:`rrperf.engine.strategies.Strategy`)."""

    @property
    def name(self) -> str: ...
    @property
    def backend(self) -> str: ...
    @property
    def cache_memory(self) -> frozenset[str]: ...
    @property
    def cache_disk(self) -> frozenset[str]: ...
    @property
    def monitoring(self) -> bool: ...
    @property
    def batch_size(self) -> int | None: ...
    @property
    def manifest(self) -> bool: ...
    def resolved_workers(self) -> int: ...


@dataclass(frozen=True)
class WorkloadProfile:
    """Measurements of one schema source on this machine (see the module docstring).

    Times are seconds; ``stage_s`` maps each of :data:`STEP_KINDS` to seconds per table;
    ``return_s`` is a table's rendered files pickled back from a worker (0: not measured);
    ``fork_s`` what a run that forks its workers pays for the fork (0: not measured).
    ``pool_started`` is the situation predicted: see "Pool state" in the module docstring.

    Raises
    ------
    ConfigError
        On a negative or non-numeric time, a missing step kind or a bad count.
    """

    n_tables: int
    source_fingerprint: str
    hash_s: float
    templates_s: float
    load_s: float
    analyze_s: float
    keys_s: float
    stage_s: Mapping[str, float]
    sha_s: float
    index_s: float
    write_s: float
    compare_s: float
    stat_s: float
    ship_s: float
    monitor_s: float
    hit_s: float
    miss_mem_s: float
    miss_s: float
    disk_hit_s: float
    schema_miss_s: float
    pool_startup_s: float
    dispatch_s: float
    thread_dispatch_s: float
    cpu_count: int
    load_avg: float
    memory_available_mb: float
    cache_warm: bool = False
    output_present: bool = False
    sampled_tables: tuple[str, ...] = field(default=(), compare=False)
    return_s: float = 0.0
    pool_started: bool | None = None
    fork_s: float = 0.0

    def __post_init__(self) -> None:
        if not (is_int(self.n_tables) and self.n_tables >= 0):
            raise ConfigError(f"n_tables must be an integer >= 0, got {self.n_tables!r}")
        if not (is_int(self.cpu_count) and self.cpu_count >= 1):
            raise ConfigError(f"cpu_count must be an integer >= 1, got {self.cpu_count!r}")
        if not isinstance(self.source_fingerprint, str):
            raise ConfigError(
                f"source_fingerprint must be a string, got {type(self.source_fingerprint).__name__}"
            )
        for f in dataclasses.fields(self):
            if f.name.endswith("_s") and f.name != "stage_s":
                value = getattr(self, f.name)
                if not is_number(value) or not value >= 0 or math.isinf(value):
                    raise ConfigError(
                        f"{f.name} must be a finite number of seconds >= 0, got {value!r}"
                    )
        for name in ("load_avg", "memory_available_mb"):
            value = getattr(self, name)
            if not is_number(value) or not value >= 0:
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
        if not isinstance(self.stage_s, Mapping) or set(self.stage_s) != set(STEP_KINDS):
            got = sorted(self.stage_s) if isinstance(self.stage_s, Mapping) else self.stage_s
            raise ConfigError(
                f"stage_s must map exactly {', '.join(STEP_KINDS)} to seconds, got {got!r}"
            )
        for kind, value in self.stage_s.items():
            if not is_number(value) or not value >= 0:
                raise ConfigError(
                    f"stage_s[{kind!r}] must be a number of seconds >= 0, got {value!r}"
                )
        object.__setattr__(self, "stage_s", {k: float(self.stage_s[k]) for k in STEP_KINDS})
        for name in ("cache_warm", "output_present"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.pool_started not in (None, True, False):
            raise ConfigError(
                f"pool_started must be None, True or False, got {self.pool_started!r}")

    @property
    def per_table_s(self) -> float:
        """Seconds of the per-table steps of one table (sum of ``stage_s``)."""
        return sum(self.stage_s.values())

    @property
    def n_files(self) -> int:
        """Files of a run: three per table plus ``index.ts``."""
        return _FILES_PER_TABLE * self.n_tables + 1

    @property
    def free_cpus(self) -> float:
        """CPUs other processes leave free: ``clip(cpu_count - load_avg + 1, 1, cpu_count)``."""
        return min(float(self.cpu_count), max(1.0, self.cpu_count - self.load_avg + 1.0))

    def with_state(self, cache_state: str) -> WorkloadProfile:
        """This profile as a ``"cold"`` or ``"warm"`` benchmark iteration would see it.

        Raises
        ------
        ConfigError
            On another cache state.
        """
        if cache_state not in ("cold", "warm"):
            raise ConfigError(f"cache_state must be 'cold' or 'warm', got {cache_state!r}")
        warm = cache_state == "warm"
        return dataclasses.replace(self, cache_warm=warm, output_present=warm)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        data = dataclasses.asdict(self)
        data["stage_s"] = dict(self.stage_s)
        data["sampled_tables"] = list(self.sampled_tables)
        data["per_table_s"] = self.per_table_s
        return data


# --- the model ---------------------------------------------------------------------------------

def _store_s(profile: WorkloadProfile, strategy: StrategyLike, category: str) -> float:
    """A miss of ``category``: the failed lookups and the store, per the tiers it has."""
    if category in strategy.cache_disk:
        return profile.disk_hit_s + profile.miss_s
    return profile.miss_mem_s


def forks_per_run(strategy: StrategyLike, pool_started: bool | None = None) -> bool:
    """Whether a run of ``strategy`` forks its own workers (:func:`rrperf.engine.parallel.fork_map`:
    a process backend whose pool is not running, where ``fork`` is available), which inherit
    the analysis: no pool start-up, nothing shipped out, each run pays the fork."""
    if strategy.backend != "process" or pool_started:
        return False
    from rrperf.engine.parallel import fork_available

    return fork_available()


def pool_plan(
    strategy: StrategyLike, workers: int, n_tables: int, misses: int,
    pool_started: bool | None = None,
) -> tuple[int, list[int]]:
    """Pool starts or forks (0 or 1) of a run and the batches it sends to its workers for
    ``misses`` of its ``n_tables`` tables (``[]``: it renders them in its own thread), by the
    generator's own :func:`rrperf.generator.cached.plan_batches`; ``pool_started`` as in the
    module docstring ("Pool state"). Thread pools start in microseconds: always counted as
    started."""
    if strategy.backend == "serial" or workers <= 1:
        return 0, []
    from rrperf.generator.cached import plan_batches

    if forks_per_run(strategy, pool_started):  # the run forks when its misses have batches
        batches = plan_batches(misses, workers, strategy.batch_size, pool_started=False)
        return int(bool(batches)), batches
    starts = 0
    if strategy.backend != "process" or pool_started:
        started = True
    else:  # the generator starts the pool when a not-started pool's plan for the run has batches
        started = bool(plan_batches(n_tables, workers, pool_started=False))
        starts = int(started and pool_started is False)
    return starts, plan_batches(misses, workers, strategy.batch_size, pool_started=started)


def pool_threshold(workers: int, *, pool_started: bool, limit: int = 1 << 20) -> int | None:
    """The fewest tables for which :func:`rrperf.generator.cached.plan_batches` sends
    batches to a pool of ``workers`` (started or not); None: none up to ``limit``. Found by
    bisection on the generator's own plan (which uses a pool from some table count on)."""
    from rrperf.generator.cached import plan_batches

    if not plan_batches(limit, workers, pool_started=pool_started):
        return None
    lo, hi = 0, limit  # plan(lo) is empty (no tables), plan(hi) is not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if plan_batches(mid, workers, pool_started=pool_started):
            hi = mid
        else:
            lo = mid
    return hi


#: The model's terms (seconds), each scaled by its own factor of a :class:`Calibration`.
TERMS: tuple[str, ...] = (
    "head", "render", "lookup", "store", "write", "manifest", "pool", "batch", "ship",
    "pool_start", "monitor",
)

#: The bounds of each term's calibration factor: what one second of the term as profiled may
#: cost in a real run. The pool's count-based terms stay near their measured cost, so that a
#: calibration whose runs exercise them little cannot price the pool out (or in) by itself.
FACTOR_BOUNDS: Mapping[str, tuple[float, float]] = {
    **dict.fromkeys(TERMS, (0.0, 50.0)),
    "pool": (0.5, 3.0),
    "batch": (0.25, 4.0),
    "ship": (0.25, 4.0),
    "pool_start": (0.25, 4.0),
}

#: Predicted times within this fraction of the fastest are a tie (the margin the analysis
#: accepts as "as good as the best"); a tie goes to the fewest resources (:func:`resource_rank`).
TIE = 0.05


@dataclass(frozen=True)
class Calibration:
    """The model's constants as measured on one machine (see :mod:`rrperf.optimize.calibration`).

    Attributes
    ----------
    factors : mapping of str to float
        Per term of :data:`TERMS`, what one second of that term costs in a real run here
        (1.0 for a term not calibrated).
    fixed_s : float
        Seconds every run pays that no term describes (the call itself, set-up, bookkeeping).
    machine : str
        Fingerprint of the machine it was measured on.
    error : float
        Median absolute relative error of the calibrated model on the runs it was fitted to
        (NaN when not fitted).
    n_runs : int
        Measured medians it was fitted to.
    """

    factors: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(TERMS, 1.0))
    fixed_s: float = 0.0
    machine: str = ""
    error: float = math.nan
    n_runs: int = 0

    def __post_init__(self) -> None:
        factors = {t: float(self.factors.get(t, 1.0)) for t in TERMS}
        if not all(math.isfinite(v) and v >= 0 for v in (*factors.values(), self.fixed_s)):
            raise ConfigError(f"calibration factors must be finite and >= 0, got {factors}")
        object.__setattr__(self, "factors", factors)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (:meth:`from_dict` reads it back)."""
        return {"factors": dict(self.factors), "fixed_s": self.fixed_s, "machine": self.machine,
                "error": None if math.isnan(self.error) else self.error, "n_runs": self.n_runs}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """The inverse of :meth:`to_dict`."""
        error = data.get("error")
        return cls(dict(data["factors"]), float(data["fixed_s"]), str(data["machine"]),
                   math.nan if error is None else float(error), int(data.get("n_runs", 0)))


def raw_terms(profile: WorkloadProfile, strategy: StrategyLike) -> dict[str, float]:
    """The model's :data:`TERMS` for one strategy, uncalibrated (see the module docstring).

    Raises
    ------
    ConfigError
        On an unknown backend.
    """
    backend = strategy.backend
    if backend not in ("serial", "thread", "process"):
        raise ConfigError(f"strategy {strategy.name!r}: unknown backend {backend!r}")
    workers = 1 if backend == "serial" else max(1, int(strategy.resolved_workers()))
    cats = strategy.cache_memory | strategy.cache_disk
    render_cached = "template_render" in cats
    warm = profile.cache_warm
    n, files = profile.n_tables, profile.n_files
    terms = dict.fromkeys(TERMS, 0.0)
    terms["monitor"] = profile.monitor_s if strategy.monitoring else 0.0
    if strategy.manifest or render_cached:  # the manifest records (or checks) a stat per file
        terms["manifest"] = files * profile.stat_s
    if warm and profile.output_present and strategy.manifest and not cats:
        # the output manifest answers an unchanged repeat: the source's hash, a stat per file
        terms["head"] = profile.hash_s
        return terms

    # head: fingerprint, schema (cached or loaded), template fingerprint, analysis
    head = profile.hash_s + profile.templates_s
    if "schema_introspection" in cats:
        if warm:
            head += profile.hit_s
        elif "schema_introspection" in strategy.cache_disk:
            head += profile.load_s + profile.disk_hit_s + profile.schema_miss_s
        else:
            head += profile.load_s + profile.miss_mem_s
    else:
        head += profile.load_s
    if render_cached:
        head += 0.0 if warm else profile.analyze_s + n * profile.keys_s
    else:
        head += profile.analyze_s
    terms["head"] = head

    # render lookups; the misses are computed (here or on a pool) and stored
    misses = 0 if (render_cached and warm) else n
    terms["lookup"] = n * profile.hit_s if render_cached else 0.0
    compute = profile.per_table_s + profile.sha_s
    stores = _store_s(profile, strategy, "template_render") if render_cached else 0.0
    files_here = files
    starts, batches = pool_plan(strategy, workers, n, misses, profile.pool_started)
    forked = forks_per_run(strategy, profile.pool_started)
    terms["pool_start"] = starts * (profile.fork_s if forked else profile.pool_startup_s)
    if batches:
        parallel = min(float(workers), profile.free_cpus) if backend == "process" else 1.0
        # workers render and write their tables' files; type/relationship caches are bypassed
        terms["pool"] = misses * (compute + _FILES_PER_TABLE * profile.write_s) / parallel
        if backend == "process":
            terms["batch"] = len(batches) * profile.dispatch_s / parallel
            if forked:
                # forked workers inherit the analysis; each table's files come back pickled
                terms["ship"] = misses * profile.return_s
            else:
                # each batch carries the slice of the analysis its tables need (about one
                # whole analysis over all batches); each table is packed (its content keys,
                # made anyway when renders are cached) and its files come back pickled
                packing = 0.0 if render_cached else profile.keys_s
                terms["ship"] = profile.ship_s + misses * (profile.return_s + packing)
        else:
            terms["batch"] = len(batches) * profile.thread_dispatch_s
        files_here = 1
    else:
        for category in ("type_mapping", "relationships"):
            if category in cats:
                stores += _store_s(profile, strategy, category)
        terms["render"] = misses * compute
    terms["store"] = misses * stores

    # write: index.ts always; files written (cold), compared (warm, nothing cached), or known
    # unchanged from the manifest (warm, rendering cached: its stat is the manifest term)
    if not profile.output_present:
        terms["write"] = profile.index_s + files_here * profile.write_s
    elif render_cached:
        terms["write"] = profile.index_s
    else:
        terms["write"] = profile.index_s + files_here * profile.compare_s
    if render_cached and not warm and "template_render" in strategy.cache_disk:
        terms["write"] += profile.write_s  # the manifest file
    return terms


def predict_parts(
    profile: WorkloadProfile, strategy: StrategyLike, calibration: Calibration | None = None
) -> dict[str, float]:
    """The model's terms for one strategy, calibrated (seconds).

    Returns
    -------
    dict
        Each of :data:`TERMS` times its factor, ``fixed`` (the calibration's ``fixed_s``) and
        ``total``, their sum: :func:`predict`.

    Raises
    ------
    ConfigError
        On an unknown backend.
    """
    cal = calibration or Calibration()
    parts = {t: v * cal.factors[t] for t, v in raw_terms(profile, strategy).items()}
    parts["fixed"] = cal.fixed_s
    parts["total"] = sum(parts.values())
    return parts


def predict(
    profile: WorkloadProfile, strategy: StrategyLike, calibration: Calibration | None = None
) -> float:
    """Predicted seconds of one steady-state run of ``strategy`` on ``profile``.

    Parameters
    ----------
    profile : WorkloadProfile
    strategy : Strategy
        Anything with the attributes of :class:`StrategyLike`.
    calibration : Calibration or None
        This machine's factors (None: every factor 1, nothing fixed).

    Raises
    ------
    ConfigError
        On an unknown backend.
    """
    return predict_parts(profile, strategy, calibration)["total"]


def uses_pool(
    strategy: StrategyLike, n_tables: int, warm: bool, *, pool_started: bool | None = None
) -> tuple[bool, str]:
    """Whether a run of ``strategy`` renders on a pool here (by default in the steady state:
    ``pool_started`` as in the module docstring), and why not.

    The generator uses a pool only with more than one worker and enough tables to render
    (:func:`pool_plan`, which follows :func:`rrperf.generator.cached.plan_batches`; a warm
    run whose renders are cached renders none); a pool of one worker runs in the calling
    thread.
    """
    if strategy.backend == "serial":
        return False, ""
    workers = max(1, int(strategy.resolved_workers()))
    if workers == 1:
        return False, (f"its {strategy.backend} pool resolves to 1 worker on this machine, and "
                       "a pool of one worker runs in the calling thread")
    caches = strategy.cache_memory | strategy.cache_disk
    misses = 0 if warm and "template_render" in caches else n_tables
    starts, batches = pool_plan(strategy, workers, n_tables, misses, pool_started)
    if batches:
        return True, ""
    if misses == 0:
        return False, (f"its {strategy.backend} pool is not used (every table's files are "
                       "cache hits)")
    if forks_per_run(strategy, pool_started):
        least = pool_threshold(workers, pool_started=False)
        return False, (f"it forks no workers ({misses} tables to render are fewer than the "
                       f"{least} for which a run forks {workers - 1})")
    if strategy.backend == "process" and not pool_started and not starts:
        least = pool_threshold(workers, pool_started=False)
        if least is None:
            return False, "its process pool is never started"
        if n_tables < least:
            return False, (f"its process pool is never started (a run starts a pool of "
                           f"{workers} from {least} tables; this one has {n_tables})")
    least = pool_threshold(workers, pool_started=True)
    return False, (f"its {strategy.backend} pool is not used ({misses} tables to render are "
                   f"fewer than the {least} a pool of {workers} needs)")


def resource_rank(strategy: StrategyLike, n_tables: int, warm: bool) -> tuple[int, ...]:
    """The order of the tie rule, fewest resources first: serial before a pool (then fewer
    workers), fewer cache categories, fewer on disk, no monitoring before monitoring. So
    ``minimal`` comes before ``sequential`` before ``cache_heavy`` before ``parallel``."""
    pooled, _ = uses_pool(strategy, n_tables, warm)
    workers = max(1, int(strategy.resolved_workers())) if pooled else 1
    return (int(pooled), workers, len(strategy.cache_memory | strategy.cache_disk),
            len(strategy.cache_disk), int(strategy.monitoring))


def tie_break(names: Iterable[str], strategies: Mapping[str, StrategyLike], n_tables: int,
              warm: bool) -> str:
    """The first of ``names`` by :func:`resource_rank` (registry order among equals)."""
    order = {n: i for i, n in enumerate(strategies)}
    return min(names, key=lambda n: (resource_rank(strategies[n], n_tables, warm), order[n]))


@dataclass(frozen=True)
class Recommendation:
    """The recommended strategy for a workload, with the predictions behind it.

    Attributes
    ----------
    strategy : str
        The recommended strategy's name.
    scores : mapping of str to dict
        Per strategy (registry order): ``predicted_s`` and ``score`` (best predicted time
        over this one's: 1.0 for the fastest, lower is slower).
    rationale : str
        Plain-language reasons.
    workload : WorkloadProfile
        The measurements the prediction used.
    tied : tuple of str
        The strategies predicted within :data:`TIE` of the fastest (the recommendation is the
        one with the fewest resources among them).
    dominant : str
        The largest term of the recommendation's prediction (one of :data:`TERMS` or
        ``fixed``).
    calibration : Calibration or None
        The machine's calibration the predictions used (None: uncalibrated).
    """

    strategy: str
    scores: Mapping[str, Mapping[str, float]]
    rationale: str
    workload: WorkloadProfile
    tied: tuple[str, ...] = ()
    dominant: str = ""
    calibration: Calibration | None = field(default=None, compare=False, repr=False)

    def predicted_s(self, strategy: str | None = None) -> float:
        """Predicted seconds of ``strategy`` (default: the recommended one)."""
        return float(self.scores[strategy or self.strategy]["predicted_s"])

    def to_frame(self) -> pd.DataFrame:
        """One row per strategy: ``strategy, predicted_s, score, recommended``."""
        import pandas as pd

        rows = [
            {
                "strategy": name,
                "predicted_s": s["predicted_s"],
                "score": s["score"],
                "recommended": name == self.strategy,
            }
            for name, s in self.scores.items()
        ]
        return pd.DataFrame(rows, columns=["strategy", "predicted_s", "score", "recommended"])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "strategy": self.strategy,
            "scores": {k: dict(v) for k, v in self.scores.items()},
            "rationale": self.rationale,
            "tied": list(self.tied),
            "dominant": self.dominant,
            "workload": self.workload.to_dict(),
        }

    def _repr_html_(self) -> str:
        import html

        return (
            f"<div><p><b>Recommended:</b> {html.escape(self.strategy)}</p>"
            f"<p>{html.escape(self.rationale)}</p>{self.to_frame().to_html(index=False)}</div>"
        )


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


#: What each term stands for, in a rationale.
TERM_NAMES: dict[str, str] = {
    "head": "loading and analysing the schema",
    "render": "rendering the tables",
    "lookup": "cache lookups",
    "store": "cache stores",
    "write": "writing or comparing the files",
    "manifest": "the output manifest's stat of every file",
    "pool": "rendering and writing on the pool",
    "batch": "dispatching the pool's batches",
    "ship": "shipping tables to the pool and back",
    "pool_start": "starting the process pool",
    "monitor": "monitoring",
    "fixed": "the fixed cost of a run",
}


def recommend(
    profile: WorkloadProfile,
    strategies: Mapping[str, StrategyLike] | None = None,
    *,
    warm: Iterable[str] | None = None,
    calibration: Calibration | None = None,
) -> Recommendation:
    """Recommend the strategy predicted fastest; a :data:`TIE` goes to the fewest resources.

    Parameters
    ----------
    profile : WorkloadProfile
    strategies : mapping of str to Strategy or None
        The candidates, in registry order; the engine's registry when None.
    warm : iterable of str or None
        Names of the strategies whose caches hold this source (each strategy has its own);
        None applies ``profile.cache_warm`` to every strategy.
    calibration : Calibration or None
        This machine's factors (None: uncalibrated).

    Returns
    -------
    Recommendation

    Raises
    ------
    ConfigError
        With no candidate strategy.
    """
    if strategies is None:
        from rrperf.engine.strategies import STRATEGIES

        strategies = STRATEGIES
    if not strategies:
        raise ConfigError("recommend() needs at least one strategy")
    held = None if warm is None else frozenset(warm)
    parts = {
        name: predict_parts(
            profile if held is None else dataclasses.replace(profile, cache_warm=name in held),
            s, calibration,
        )
        for name, s in strategies.items()
    }
    times = {name: p["total"] for name, p in parts.items()}
    fastest = min(times.values())
    tied = tuple(n for n, t in times.items() if t <= fastest * (1.0 + TIE))
    chosen = tie_break(tied, strategies, profile.n_tables, profile.cache_warm)
    mine = {k: v for k, v in parts[chosen].items() if k != "total"}
    dominant = max(mine, key=lambda k: mine[k])
    scores = {
        name: {"predicted_s": t, "score": (fastest / t) if t > 0 else 1.0}
        for name, t in times.items()
    }
    total = parts[chosen]["total"]
    share = mine[dominant] / total if total > 0 else 1.0
    others = [n for n in tied if n != chosen]
    rationale = (
        f"{chosen} is predicted fastest at {_ms(total)} for {profile.n_tables} tables"
        + (f", tied within {TIE:.0%} with {', '.join(others)} (a tie goes to the fewest "
           "resources)" if others else "")
        + f"; dominant cost: {TERM_NAMES[dominant]} ({share:.0%})."
    )
    return Recommendation(chosen, scores, rationale, profile, tied, dominant, calibration)
