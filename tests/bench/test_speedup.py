"""rrperf.bench.speedup: the parallel speedup of a stage graph per execution method, and of
the generator per strategy (the path the strategies run); one row per measured run."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from rrperf.bench import speedup
from rrperf.bench.speedup import SPEEDUP_COLUMNS, compare_execution_methods
from rrperf.engine import Stage
from rrperf.engine.parallel import ExecutorConfig
from rrperf.errors import ConfigError


@pytest.mark.filterwarnings("ignore:.*has no TypeScript mapping")
def test_compare_strategies_runs_each_strategy_cold_on_the_same_tables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rrperf.generator import api

    runs: list[tuple[str, int, int, bool, int]] = []
    real = api.generate

    def spy(source: Any, out_dir: Any, **kws: Any) -> Any:
        ctx = kws["context"]
        out = Path(out_dir)
        fresh = not out.exists()
        result = real(source, out_dir, **kws)
        runs.append((ctx.strategy.name, result.n_tables, result.files_written, fresh,
                     result.cache_hits))
        return result

    monkeypatch.setattr(api, "generate", spy)
    from rrperf.generator import cached

    pooled: list[int] = []
    real_pool = cached._run_pool

    def pool_spy(context: Any, plan: Any, batches: Any, *args: Any, **kws: Any) -> Any:
        pooled.append(len(batches))
        return real_pool(context, plan, batches, *args, **kws)

    monkeypatch.setattr(cached, "_run_pool", pool_spy)
    frame = speedup.compare_strategies("synthetic:40", workers=2, repeats=2, warmup=1)
    assert tuple(frame.columns) == SPEEDUP_COLUMNS
    assert frame["method"].tolist() == ["sequential", "sequential", "parallel", "parallel"]
    assert frame["workers"].tolist() == [1, 1, 2, 2]
    assert frame["repeat"].tolist() == [0, 1, 0, 1]
    assert frame["speedup"].iloc[:2].tolist() == [1.0, 1.0]
    # each run's speedup is the sequential wall time of its round over its own
    walls = frame["wall_s"].tolist()
    assert frame["speedup"].iloc[2:].tolist() == [walls[0] / walls[2], walls[1] / walls[3]]
    assert frame["efficiency"].iloc[2:].tolist() == [walls[0] / walls[2] / 2,
                                                     walls[1] / walls[3] / 2]
    assert frame["fallback_reason"].tolist() == [None] * 4
    # 3 rounds, interleaved in a rotated order; every run cold: a new output folder, all
    # 122 files written, no cache hit
    assert [r[0] for r in runs] == ["sequential", "parallel", "parallel", "sequential",
                                    "sequential", "parallel"]
    assert {r[1:] for r in runs} == {(40, 122, True, 0)}
    # the parallel runs used the started pool, in the generator's own guided batches
    assert pooled == [len(cached.plan_batches(40, 2))] * 3


@pytest.mark.parametrize(
    ("kws", "message"),
    [
        ({"repeats": 0}, "repeats must be an integer >= 1, got 0"),
        ({"warmup": -1}, "warmup must be an integer >= 0, got -1"),
        ({"workers": 0}, "workers must be a positive integer or None, got 0"),
        ({"strategies": ()}, "strategies: expected a list of strategy names, got ()"),
        ({"strategies": ("sequential", "turbo")}, "unknown strategy 'turbo'"),
    ],
)
def test_compare_strategies_rejects_bad_options(kws: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{message.replace('(', '[(]').replace(')', '[)]')}"):
        speedup.compare_strategies("small", **kws)


def _counter_clock() -> Any:
    return itertools.count().__next__


def test_compare_execution_methods_one_row_per_run_exact_with_counter_clock() -> None:
    # With a counter clock each run's wall time is its number of clock readings:
    # sequential = start + 2 per stage + end = 5; thread = start + 3 per stage (submit, start,
    # end) + end = 7, whatever the interleaving of the threads.
    frame = compare_execution_methods(
        [Stage("a", lambda: 1), Stage("b", lambda: 2)], config=ExecutorConfig(max_workers=2),
        methods=("thread",), repeats=3, clock=_counter_clock(),
    )
    assert tuple(frame.columns) == SPEEDUP_COLUMNS
    assert frame["method"].tolist() == ["sequential"] * 3 + ["thread"] * 3
    assert frame["workers"].tolist() == [1] * 3 + [2] * 3
    assert frame["repeat"].tolist() == [0, 1, 2] * 2
    assert frame["wall_s"].tolist() == [5] * 3 + [7] * 3
    assert frame["speedup"].tolist() == pytest.approx([1.0] * 3 + [5 / 7] * 3)
    assert frame["efficiency"].tolist() == pytest.approx([1.0] * 3 + [5 / 14] * 3)
    assert frame["fallback_reason"].isna().all()


@pytest.mark.parametrize(
    ("kws", "message"),
    [
        ({"methods": ("gpu",)}, "unknown method(s) 'gpu'; expected some of sequential, thread, "
                                "process"),
        ({"repeats": 0}, "repeats must be an integer >= 1, got 0"),
        ({"warmup": True}, "warmup must be an integer >= 0, got True"),
    ],
)
def test_compare_execution_methods_rejects_bad_options(kws: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{message.replace('(', '[(]').replace(')', '[)]')}$"):
        compare_execution_methods([Stage("a", lambda: 1)], **kws)
