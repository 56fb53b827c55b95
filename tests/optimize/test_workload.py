"""The workload profile and the cost model: exact predictions from hand-built profiles."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from rrperf.errors import ConfigError
from rrperf.optimize.profiler import profile_workload
from rrperf.optimize.workload import (
    STEP_KINDS,
    Calibration,
    Recommendation,
    WorkloadProfile,
    forks_per_run,
    pool_plan,
    pool_threshold,
    predict,
    predict_parts,
    recommend,
    uses_pool,
)

ALL = frozenset({"schema_introspection", "template_render", "type_mapping", "relationships"})


@dataclass(frozen=True)
class Strat:
    """A strategy with the attributes the model reads (as rrperf.engine.strategies.Strategy)."""

    name: str
    backend: str
    workers: int
    cache_memory: frozenset[str] = frozenset()
    cache_disk: frozenset[str] = frozenset()
    monitoring: bool = True
    batch_size: int | None = None
    manifest: bool = False

    def resolved_workers(self) -> int:
        return self.workers


SCHEMA = frozenset({"schema_introspection"})
REGISTRY = {
    "sequential": Strat("sequential", "serial", 1, ALL, SCHEMA),
    "parallel": Strat("parallel", "process", 2, ALL, SCHEMA),
    "cache_heavy": Strat("cache_heavy", "serial", 1, ALL, ALL),
    "threaded": Strat("threaded", "thread", 2, frozenset({"template_render"})),
    "minimal": Strat("minimal", "serial", 1, monitoring=False),
}


def make_profile(**changes: object) -> WorkloadProfile:
    # Binary fractions, so every prediction below is exact.
    base = WorkloadProfile(
        n_tables=4,
        source_fingerprint="abc",
        hash_s=0.5,
        templates_s=0.25,
        load_s=2.0,
        analyze_s=1.0,
        keys_s=0.125,
        stage_s={
            "types": 0.5,
            "relationships": 0.25,
            "defaults": 0.125,
            "polymorphic": 0.125,
            "render": 1.0,
        },
        sha_s=0.25,
        index_s=0.5,
        write_s=0.25,
        compare_s=0.125,
        stat_s=0.0625,
        ship_s=0.5,
        monitor_s=0.25,
        hit_s=0.03125,
        miss_mem_s=0.0625,
        miss_s=0.5,
        disk_hit_s=0.25,
        schema_miss_s=1.0,
        pool_startup_s=8.0,
        dispatch_s=1.0,
        thread_dispatch_s=0.125,
        cpu_count=2,
        load_avg=1.0,
        memory_available_mb=1024.0,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_derived_fields() -> None:
    p = make_profile()
    assert p.per_table_s == 2.0
    assert p.n_files == 13
    assert p.free_cpus == 2.0
    assert make_profile(load_avg=5.0).free_cpus == 1.0
    assert make_profile(load_avg=0.0).free_cpus == 2.0


def test_parts_of_sequential_cold() -> None:
    assert predict_parts(make_profile(), REGISTRY["sequential"]) == {
        # hash + templates + (load + disk lookup + schema store) + (analyze + 4 keys)
        "head": 0.75 + 3.25 + 1.5,
        # 4 * (steps + sha)
        "render": 4 * 2.25,
        # 4 render lookups; 4 * three memory stores
        "lookup": 0.125,
        "store": 4 * 3 * 0.0625,
        # index + 13 files written, and stat'ed for the manifest
        "write": 0.5 + 13 * 0.25,
        "manifest": 13 * 0.0625,
        "monitor": 0.25,
        "pool": 0.0,
        "batch": 0.0,
        "ship": 0.0,
        "pool_start": 0.0,
        "fixed": 0.0,
        "total": 20.1875,
    }


def test_calibration_scales_each_term_and_adds_the_fixed_cost() -> None:
    cal = Calibration({"render": 2.0, "write": 0.5}, fixed_s=1.0)
    parts = predict_parts(make_profile(), REGISTRY["minimal"], cal)
    # minimal cold: head 3.75, render 9 (x2), write 3.75 (x0.5), fixed 1
    assert (parts["render"], parts["write"], parts["fixed"]) == (18.0, 1.875, 1.0)
    assert parts["total"] == 3.75 + 18.0 + 1.875 + 1.0
    assert Calibration.from_dict(cal.to_dict()) == cal
    with pytest.raises(ConfigError, match="calibration factors must be finite and >= 0"):
        Calibration({"render": -1.0})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sequential", 20.1875),
        # 4 tables are too few for a pool: parallel runs like sequential
        ("parallel", 20.1875),
        # three disk stores (0.25 + 0.5) per table, plus the manifest file
        ("cache_heavy", 28.6875),
        # no schema cache; render cached in memory only
        ("threaded", 18.4375),
        # head 0.75 + 2 + 1, tables 4 * 2.25, write 0.5 + 13 * 0.25
        ("minimal", 16.5),
    ],
)
def test_predict_cold(name: str, expected: float) -> None:
    assert predict(make_profile(), REGISTRY[name]) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # head 0.75 + hit, 4 render hits, index + 13 stat calls, monitor
        ("sequential", 2.46875),
        ("cache_heavy", 2.46875),
        # renders again; 13 files read and compared
        ("minimal", 14.875),
    ],
)
def test_predict_warm(name: str, expected: float) -> None:
    assert predict(make_profile().with_state("warm"), REGISTRY[name]) == expected


def test_pool_for_many_tables() -> None:
    big = make_profile(n_tables=32, pool_started=True)  # a context whose pool is running
    parts = predict_parts(big, REGISTRY["parallel"])
    # 32 * (steps + sha + 3 writes) / 2 workers; the generator's 7 guided batches (8, 6, 5, 4,
    # 4, 4, 1) / 2 workers; one analysis shipped in slices (renders cached: no extra packing)
    assert (parts["pool"], parts["batch"], parts["ship"]) == (48.0, 3.5, 0.5)
    assert parts["pool_start"] == 0.0
    # 32 render lookups, 32 render stores in memory
    assert (parts["lookup"], parts["store"], parts["render"]) == (1.0, 2.0, 0.0)
    # only index.ts is written here
    assert parts["write"] == 0.75
    assert parts["total"] == 71.0625
    assert predict(big, REGISTRY["minimal"]) == 100.5
    assert recommend(big, REGISTRY).strategy == "parallel"
    batched = dataclasses.replace(REGISTRY["parallel"], batch_size=16)
    assert predict_parts(big, batched)["batch"] == 2 * 1.0 / 2
    # a busy machine leaves one CPU: no speed-up
    assert predict(dataclasses.replace(big, load_avg=2.0), REGISTRY["parallel"]) == 122.5625
    # without a render cache each table is packed for its batch, and its files come back
    bare = dataclasses.replace(REGISTRY["parallel"], cache_memory=frozenset(),
                               cache_disk=frozenset())
    shipped = predict_parts(dataclasses.replace(big, return_s=0.03125), bare)["ship"]
    assert shipped == 0.5 + 32 * (0.03125 + 0.125)


@pytest.mark.parametrize("workers", [2, 3, 4, 8])
@pytest.mark.parametrize("n_tables", [1, 15, 16, 32, 100, 255, 256, 1499, 1500, 2000, 10_000])
@pytest.mark.parametrize("batch_size", [None, 25])
@pytest.mark.parametrize("pool_started", [None, True, False])
def test_model_batches_are_the_generators(
    n_tables: int, workers: int, batch_size: int | None, pool_started: bool | None
) -> None:
    from rrperf.generator.cached import plan_batches

    strategy = Strat("p", "process", workers, ALL, SCHEMA, batch_size=batch_size)
    # a context whose pool is not running forks its workers for a run whose misses have a
    # not-started pool's plan (the generator's fork_map); a started pool plans as running
    running = bool(pool_started)
    expected = plan_batches(n_tables, workers, batch_size, pool_started=running)
    starts, batches = pool_plan(strategy, workers, n_tables, n_tables, pool_started)
    assert batches == expected
    assert starts == int(not running and bool(expected))
    assert forks_per_run(strategy, pool_started) is (not running)
    assert uses_pool(strategy, n_tables, False, pool_started=pool_started)[0] == bool(expected)
    if n_tables == 2000 and workers == 2 and batch_size is None:
        assert len(expected) == 15  # the figure of issue 10 (the old model assumed 8)
    # threads start at once: always the running pool's plan; serial: never a pool
    thread = dataclasses.replace(strategy, backend="thread")
    assert pool_plan(thread, workers, n_tables, n_tables, pool_started) == (
        0, plan_batches(n_tables, workers, batch_size, pool_started=True))
    assert pool_plan(dataclasses.replace(strategy, backend="serial"), 1, n_tables, n_tables,
                     pool_started) == (0, [])


def test_the_step_where_a_pool_is_started() -> None:
    from rrperf.generator.cached import plan_batches

    start = pool_threshold(2, pool_started=False)
    running = pool_threshold(2, pool_started=True)
    assert start is not None and running is not None and running < start
    assert not plan_batches(start - 1, 2, pool_started=False)
    assert plan_batches(start, 2, pool_started=False)
    below = make_profile(n_tables=start - 1, return_s=0.03125, fork_s=0.0625)
    at = make_profile(n_tables=start, return_s=0.03125, fork_s=0.0625)
    # steady state: below the start threshold no run forks, parallel runs the code of
    # sequential; from it on every run forks its workers (paying the fork each time), which
    # inherit the analysis: only the tables' files come back
    assert predict(below, REGISTRY["parallel"]) == predict(below, REGISTRY["sequential"])
    parts = predict_parts(at, REGISTRY["parallel"])
    assert parts["pool"] > 0.0 and parts["pool_start"] == 0.0625  # the fork, not a pool start
    assert parts["ship"] == start * at.return_s
    # a new process forks alike
    fresh = dataclasses.replace(at, pool_started=False)
    assert predict(fresh, REGISTRY["parallel"]) == predict(at, REGISTRY["parallel"])
    assert predict_parts(dataclasses.replace(below, pool_started=False),
                         REGISTRY["parallel"])["pool_start"] == 0.0
    # a running pool renders from far fewer tables, starts nothing, and is shipped the
    # analysis' slices (parallel caches renders: its tables' keys are made anyway)
    started = predict_parts(dataclasses.replace(below, pool_started=True), REGISTRY["parallel"])
    assert started["pool"] > 0.0 and started["pool_start"] == 0.0
    assert started["ship"] == below.ship_s + (start - 1) * below.return_s
    assert uses_pool(REGISTRY["parallel"], start - 1, False) == (False, (
        f"it forks no workers ({start - 1} tables to render are fewer than the {start} for "
        "which a run forks 1)"))
    assert uses_pool(REGISTRY["parallel"], 4, False, pool_started=True) == (False, (
        f"its process pool is not used (4 tables to render are fewer than the {running} a "
        "pool of 2 needs)"))
    with pytest.raises(ConfigError, match="pool_started must be None, True or False"):
        make_profile(pool_started="yes")


def test_one_worker_pool_runs_in_thread() -> None:
    one = Strat("one", "process", 1, ALL, SCHEMA)
    big = make_profile(n_tables=32)
    assert predict(big, one) == predict(big, REGISTRY["sequential"])


def test_unknown_backend() -> None:
    with pytest.raises(ConfigError, match="unknown backend 'gpu'"):
        predict(make_profile(), Strat("x", "gpu", 1))


def test_recommend_cold_and_warm() -> None:
    cold = recommend(make_profile(), REGISTRY)
    assert cold.strategy == "minimal"
    assert list(cold.scores) == list(REGISTRY)
    assert cold.scores["minimal"] == {"predicted_s": 16.5, "score": 1.0}
    assert cold.scores["cache_heavy"]["score"] == 16.5 / 28.6875
    assert cold.predicted_s("sequential") == 20.1875
    assert cold.rationale == ("minimal is predicted fastest at 16500.00 ms for 4 tables; "
                              "dominant cost: rendering the tables (55%).")
    assert (cold.tied, cold.dominant) == (("minimal",), "render")
    warm = recommend(make_profile().with_state("warm"), REGISTRY)
    # sequential, parallel and cache_heavy tie: fewest resources (parallel's pool is not used
    # when every render is a hit, so it ranks with sequential; then registry order)
    assert warm.strategy == "sequential"
    assert warm.tied == ("sequential", "parallel", "cache_heavy")
    assert warm.scores["cache_heavy"]["score"] == 1.0
    assert warm.rationale == (
        "sequential is predicted fastest at 2468.75 ms for 4 tables, tied within 5% with "
        "parallel, cache_heavy (a tie goes to the fewest resources); dominant cost: the output "
        "manifest's stat of every file (33%)."
    )
    assert warm.workload.cache_warm and warm.workload.output_present
    assert recommend(make_profile().with_state("warm"), REGISTRY) == warm


def test_a_tie_goes_to_the_fewest_resources() -> None:
    close = make_profile(n_tables=32, dispatch_s=8.5, pool_started=True)
    # parallel: 19.0625 + 96 / 2 + 7 * 8.5 / 2 + 0.5 = 97.3125, within 5% of minimal's 100.5
    assert predict(close, REGISTRY["parallel"]) == 97.3125
    rec = recommend(close, REGISTRY)
    assert (rec.strategy, rec.tied) == ("minimal", ("parallel", "minimal"))
    assert rec.scores["parallel"]["score"] == 1.0
    assert "tied within 5% with parallel (a tie goes to the fewest resources)" in rec.rationale
    # a clear gap is no tie
    assert recommend(make_profile(n_tables=32, pool_started=True), REGISTRY).strategy == (
        "parallel")


def test_recommend_needs_a_strategy() -> None:
    with pytest.raises(ConfigError, match="at least one strategy"):
        recommend(make_profile(), {})


def test_recommendation_frame_and_dict() -> None:
    rec = recommend(make_profile(), REGISTRY)
    frame = rec.to_frame()
    assert list(frame.columns) == ["strategy", "predicted_s", "score", "recommended"]
    assert frame["recommended"].tolist() == [False, False, False, False, True]
    data = rec.to_dict()
    assert data["strategy"] == "minimal"
    assert data["workload"]["per_table_s"] == 2.0
    assert "<td>minimal</td>" in rec._repr_html_()
    assert isinstance(rec, Recommendation)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"load_s": -1.0}, "load_s must be a finite number of seconds >= 0, got -1.0"),
        ({"n_tables": True}, "n_tables must be an integer >= 0, got True"),
        ({"cpu_count": 0}, "cpu_count must be an integer >= 1, got 0"),
        ({"stage_s": {"types": 1.0}}, "stage_s must map exactly types, relationships"),
        ({"cache_warm": 1}, "cache_warm must be True or False, got 1"),
    ],
)
def test_profile_validation(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_profile(**changes)


def test_with_state_rejects_unknown_state() -> None:
    with pytest.raises(ConfigError, match="cache_state must be 'cold' or 'warm', got 'hot'"):
        make_profile().with_state("hot")


def test_real_profile_of_small(tmp_path: object) -> None:
    p = profile_workload("small", workers=1, repeats=1)
    assert p.n_tables == 4
    assert p.sampled_tables == ("comments", "posts", "profiles", "users")
    assert p.n_files == 13
    for kind in STEP_KINDS:
        assert p.stage_s[kind] > 0
    for name in (
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
        "return_s",
        "monitor_s",
        "hit_s",
        "miss_mem_s",
        "miss_s",
        "disk_hit_s",
        "schema_miss_s",
        "pool_startup_s",
        "dispatch_s",
        "thread_dispatch_s",
    ):
        assert getattr(p, name) > 0, name
    assert p.cache_warm is False and p.output_present is False
    assert len(p.source_fingerprint) == 64


def test_profile_sees_the_output_folder(tmp_path: object) -> None:
    from pathlib import Path

    from rrperf.generator.api import generate

    out = Path(str(tmp_path)) / "out"
    generate("small", out)
    p = profile_workload("small", out_dir=out, workers=1, repeats=1, sample=2)
    assert p.output_present is True
    assert p.sampled_tables == ("comments", "profiles")
    (out / "index.ts").unlink()
    assert profile_workload("small", out_dir=out, workers=1, repeats=1).output_present is False


def test_profile_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="sample must be an integer >= 1, got 0"):
        profile_workload("small", sample=0)
