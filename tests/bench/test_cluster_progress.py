"""The cluster-wide progress bar of rrperf.bench.cluster (no cluster needed)."""

from __future__ import annotations

from rrperf.bench.cluster import PROGRESS_TOPIC, _Progress


class Bar:
    def __init__(self) -> None:
        self.n = 0
        self.updates: list[int] = []

    def update(self, n: int) -> None:
        self.n += n
        self.updates.append(n)


def _event(key: str, worker: str, done: int) -> tuple[float, dict[str, object]]:
    return (0.0, {"key": key, "worker": worker, "done": done, "total": 6})


def test_a_rerun_moves_the_bar_back_and_finished_tasks_count_fully() -> None:
    assert PROGRESS_TOPIC == "rrperf-bench-progress"
    bar = Bar()
    progress = _Progress(bar, ["k1", "k2"])
    for done in (1, 2, 3):
        progress.event(_event("k1", "tcp://a:1", done))
    progress.event(_event("k2", "tcp://b:1", 1))
    progress.event(_event("other-run", "tcp://b:1", 5))  # another run's task: ignored
    progress.event((0.0, {"no": "key"}))  # malformed: ignored
    assert bar.n == 4
    # k1's worker is lost after 3 iterations; the rerun on another worker starts from 1
    progress.event(_event("k1", "tcp://c:1", 1))
    assert bar.n == 2
    progress.finished("k1", "tcp://c:1", 6)
    progress.event(_event("k1", "tcp://a:1", 4))  # a late event of the lost attempt
    progress.finished("k2", "tcp://b:1", 6)
    assert bar.n == 12
    assert bar.updates == [1, 1, 1, 1, -2, 5, 5]
