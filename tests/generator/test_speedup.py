"""compare_strategies: the parallel speedup measured on the path the strategies run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from rrperf.errors import ConfigError
from rrperf.generator import speedup


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
    assert list(frame.columns) == [
        "method", "workers", "wall_s", "speedup", "efficiency", "serial_fraction", "repeats",
        "fallback_reason",
    ]
    assert frame["method"].tolist() == ["sequential", "parallel"]
    assert frame["workers"].tolist() == [1, 2]
    assert frame["repeats"].tolist() == [2, 2]
    assert frame["speedup"].iloc[0] == 1.0 and math.isnan(frame["serial_fraction"].iloc[0])
    assert frame["fallback_reason"].tolist() == [None, None]
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
