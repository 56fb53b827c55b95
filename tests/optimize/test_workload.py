"""The workload profile and the cost model: exact predictions from hand-built profiles."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from rrperf.errors import ConfigError
from rrperf.optimize.workload import (
    POOL_MARGIN,
    STEP_KINDS,
    Recommendation,
    WorkloadProfile,
    predict,
    predict_parts,
    profile_workload,
    recommend,
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

    def resolved_workers(self) -> int:
        return self.workers


REGISTRY = {
    "sequential": Strat("sequential", "serial", 1),
    "parallel": Strat("parallel", "process", 2),
    "cache_heavy": Strat("cache_heavy", "serial", 1, ALL, ALL),
    "balanced": Strat("balanced", "thread", 2, frozenset({"template_render"})),
    "minimal": Strat("minimal", "serial", 1, monitoring=False),
}


def make_profile(**changes: object) -> WorkloadProfile:
    # Binary fractions, so every prediction below is exact.
    base = WorkloadProfile(
        n_tables=4,
        source_fingerprint="abc",
        hash_s=0.5,
        load_s=2.0,
        analyze_s=1.0,
        stage_s={
            "types": 0.5,
            "relationships": 0.25,
            "defaults": 0.125,
            "polymorphic": 0.125,
            "render": 1.0,
        },
        index_s=0.5,
        write_s=0.25,
        compare_s=0.125,
        ship_s=0.5,
        overhead_s=0.0625,
        monitor_s=0.25,
        hit_s=0.03125,
        miss_s=0.0625,
        disk_hit_s=0.125,
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


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # head 3 + index 0.5 + write 13*0.25 + stages 23*0.0625 + monitor 0.25 + tables 4*2
        ("sequential", 16.4375),
        ("minimal", 16.1875),
        # pool 23*(1+0.5)/2 = 17.25, tables 8/2
        ("parallel", 29.6875),
        # schema: hash + load + miss; each of 5 steps pays a miss of 0.0625
        ("cache_heavy", 18.25),
        # render pays a miss, thread dispatch 23*0.125/2
        ("balanced", 18.125),
    ],
)
def test_predict_cold(name: str, expected: float) -> None:
    assert predict(make_profile(), REGISTRY[name]) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sequential", 14.8125),  # write becomes 13 * compare 0.125
        ("minimal", 14.5625),
        # head 0.5 + 0.03125 + 1, five memory hits per table, compare instead of write
        ("cache_heavy", 5.96875),
    ],
)
def test_predict_warm(name: str, expected: float) -> None:
    assert predict(make_profile().with_state("warm"), REGISTRY[name]) == expected


def test_disk_only_cache_pays_disk_hits() -> None:
    disk_only = Strat("disk", "serial", 1, frozenset(), ALL)
    warm = make_profile(cache_warm=True)
    # head 0.5 + 0.125 + 1; 5 disk hits per table = 0.625 * 4; write 3.25; fixed 1.6875
    assert predict(warm, disk_only) == 0.5 + 0.125 + 1.0 + 0.5 + 3.25 + 1.6875 + 2.5


def test_batches_cut_stages_and_cache_only_renders() -> None:
    batched = Strat("b", "serial", 1, frozenset({"template_render"}), batch_size=2)
    parts = predict_parts(make_profile(), batched)
    # ceil(4/2) + 3 = 5 stages
    assert parts["fixed_overhead"] == 5 * 0.0625 + 0.25
    assert parts["tables"] == 4 * (1.0 + 1.0 + 0.0625)
    assert parts["total"] == sum(v for k, v in parts.items() if k != "total") + 0.5


def test_one_worker_pool_runs_in_thread() -> None:
    one = Strat("one", "process", 1)
    assert predict(make_profile(), one) == predict(make_profile(), REGISTRY["sequential"])


def test_unknown_backend() -> None:
    with pytest.raises(ConfigError, match="unknown backend 'gpu'"):
        predict(make_profile(), Strat("x", "gpu", 1))


def test_recommend_cold_and_warm() -> None:
    cold = recommend(make_profile(), REGISTRY)
    assert cold.strategy == "minimal"
    assert list(cold.scores) == list(REGISTRY)
    assert cold.scores["minimal"] == {"predicted_s": 16.1875, "score": 1.0}
    assert cold.scores["parallel"]["score"] == 16.1875 / 29.6875
    assert cold.predicted_s("sequential") == 16.4375
    assert cold.rationale.startswith("minimal is predicted fastest at 16187.50 ms for 4 tables.")
    assert "The cache is cold" in cold.rationale
    assert "dispatch cost outweighs the per-table work" in cold.rationale
    warm = recommend(make_profile().with_state("warm"), REGISTRY)
    assert warm.strategy == "cache_heavy"
    assert warm.scores["cache_heavy"]["score"] == 1.0
    assert "The cache already holds this schema" in warm.rationale
    assert warm.workload.cache_warm and warm.workload.output_present


def test_recommend_is_deterministic_and_ties_go_to_registry_order() -> None:
    p = make_profile(monitor_s=0.0)  # sequential and minimal now predict the same
    first = recommend(p, REGISTRY)
    assert first.strategy == "sequential"
    assert recommend(p, REGISTRY) == first


def test_pool_strategy_needs_the_safety_margin() -> None:
    no_cost = make_profile(dispatch_s=0.0, ship_s=0.0)
    # parallel: 3 + 0.5 + 3.25 + 1.6875 + 8/2 = 12.4375 < 0.9 * minimal (16.1875)
    assert recommend(no_cost, REGISTRY).strategy == "parallel"
    close = make_profile(dispatch_s=0.25, ship_s=0.0)
    # parallel: 12.4375 + 23*0.25/2 = 15.3125, faster than minimal but by less than 10%
    assert predict(close, REGISTRY["parallel"]) == 15.3125
    assert 15.3125 > 16.1875 * (1 - POOL_MARGIN)
    rec = recommend(close, REGISTRY)
    assert rec.strategy == "minimal"
    assert rec.scores["parallel"]["score"] == 1.0
    assert "less than 10% faster than minimal" in rec.rationale


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
        "load_s",
        "analyze_s",
        "index_s",
        "write_s",
        "compare_s",
        "ship_s",
        "overhead_s",
        "monitor_s",
        "hit_s",
        "miss_s",
        "disk_hit_s",
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
