"""ParallelExecutor: scheduling, errors, timeouts, timings, fallback and a few real process runs."""

from __future__ import annotations

import itertools
import os
import pickle
import tempfile
import threading
import warnings
from pathlib import Path

import pandas as pd
import pytest

from rrperf.engine import Pipeline, Stage
from rrperf.engine.monitor import MonitorConfig, PerformanceMonitor
from rrperf.engine.parallel import (
    TIMING_COLUMNS,
    ExecutorConfig,
    ParallelExecutor,
)
from rrperf.errors import ConfigError, FallbackWarning, SchemaWarning, StageError, StageTimeout

PARENT_PID = os.getpid()


class Boom(Exception):
    """A module-level exception, so it pickles by reference into and out of workers."""


def _counter_clock() -> itertools.count[int]:
    return itertools.count()


def _recorder(calls: list[str], name: str, value: object = None):  # type: ignore[no-untyped-def]
    def func(**inputs: object) -> object:
        calls.append(name)
        return value if value is not None else (name, tuple(sorted(inputs)))

    return func


def _serial(**kw: object) -> ParallelExecutor:
    return ParallelExecutor(backend="serial", enable_monitoring=False, **kw)  # type: ignore[arg-type]


# --- configuration ----------------------------------------------------------------------------


def test_config_validation_messages() -> None:
    with pytest.raises(
        ConfigError, match="backend must be one of thread, process, serial, dask, got 'threads'"
    ):
        ExecutorConfig(backend="threads")
    with pytest.raises(ConfigError, match="max_workers must be a positive integer or None, got 0"):
        ExecutorConfig(max_workers=0)
    with pytest.raises(ConfigError, match="stage_timeout_s must be a positive number"):
        ExecutorConfig(stage_timeout_s=-1)
    with pytest.raises(ConfigError, match="pass either config"):
        ParallelExecutor(2, config=ExecutorConfig())
    with pytest.raises(ConfigError, match="prefetch must be a non-negative integer, got -1"):
        ExecutorConfig(prefetch=-1)
    with pytest.raises(ConfigError, match="prefetch must be a non-negative integer, got True"):
        ExecutorConfig(prefetch=True)
    assert ExecutorConfig(prefetch=0).prefetch == 0
    cfg = ExecutorConfig(backend="process", max_workers=3)
    assert (cfg.backend, cfg.workers) == ("process", 3)
    # the [executor] section of rrperf.toml is checked by rrperf.config alone
    assert not hasattr(ExecutorConfig, "from_mapping")
    assert ExecutorConfig(backend="serial", max_workers=8).workers == 1


# --- results and order --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["serial", "thread"])
def test_results_keyed_in_given_order_with_dependency_inputs(backend: str) -> None:
    calls: list[str] = []
    # given out of topological order on purpose
    stages = [
        Stage("report", lambda left, right: left + right, depends_on=("left", "right")),
        Stage("right", lambda root: root * 3, depends_on=("root",)),
        Stage("left", lambda root: root * 2, depends_on=("root",)),
        Stage("root", _recorder(calls, "root", 7)),
    ]
    with ParallelExecutor(4, backend=backend, enable_monitoring=False) as ex:
        out = ex.execute_with_dependencies(stages)
    assert list(out) == ["report", "right", "left", "root"]
    assert out == {"report": 35, "right": 21, "left": 14, "root": 7}
    assert calls == ["root"]


def test_pipeline_accepted_and_sequential_baseline() -> None:
    pipe = Pipeline([Stage("a", lambda: 1), Stage("b", lambda a: a + 1, depends_on=("a",))])
    with ParallelExecutor(2, enable_monitoring=False) as ex:
        assert ex.execute_sequential(pipe) == {"a": 1, "b": 2}
        assert ex.stage_timings()["backend"].tolist() == ["serial", "serial"]
        assert ex.execute_with_dependencies(pipe) == {"a": 1, "b": 2}
        assert ex.stage_timings()["backend"].tolist() == ["thread", "thread"]


def test_thread_timings_name_pool_threads() -> None:
    with ParallelExecutor(2, enable_monitoring=False) as ex:
        ex.execute_parallel([Stage("a", lambda: 1), Stage("b", lambda: 2)])
        frame = ex.stage_timings()
    assert list(frame.columns) == list(TIMING_COLUMNS)
    assert frame["pid"].tolist() == [PARENT_PID, PARENT_PID]
    assert all(t.startswith("rrperf-stage") for t in frame["thread"])
    assert frame["status"].tolist() == ["ok", "ok"]


# --- validation before anything runs ------------------------------------------------------------


@pytest.mark.parametrize("backend", ["serial", "thread"])
def test_unknown_dependency_and_cycle_raise_before_running(backend: str) -> None:
    calls: list[str] = []
    ex = ParallelExecutor(2, backend=backend, enable_monitoring=False)
    unknown = [
        Stage("a", _recorder(calls, "a")),
        Stage("b", _recorder(calls, "b"), depends_on=("c",)),
    ]
    with pytest.raises(ConfigError, match="stage 'b' depends on unknown stage 'c'"):
        ex.execute_with_dependencies(unknown)
    cycle = [
        Stage("a", _recorder(calls, "a")),
        Stage("b", _recorder(calls, "b"), depends_on=("c",)),
        Stage("c", _recorder(calls, "c"), depends_on=("b",)),
    ]
    with pytest.raises(ConfigError, match="dependency cycle: (b -> c -> b|c -> b -> c)"):
        ex.execute_with_dependencies(cycle)
    with pytest.raises(ConfigError, match="expected Stage objects, got int"):
        ex.execute_with_dependencies([1])  # type: ignore[list-item]
    assert calls == []
    ex.shutdown()


def test_execute_parallel_rejects_dependencies() -> None:
    ex = _serial()
    with pytest.raises(
        ConfigError, match="'b' depend on other stages; use execute_with_dependencies"
    ):
        ex.execute_parallel([Stage("a", lambda: 1), Stage("b", lambda a: a, depends_on=("a",))])


@pytest.mark.parametrize("backend", ["serial", "thread"])
def test_on_result_reports_each_stage_once(backend: str) -> None:
    seen: list[tuple[str, object]] = []
    stages = [
        Stage("root", lambda: 7),
        Stage("left", lambda root: root * 2, depends_on=("root",)),
        Stage("right", lambda root: root * 3, depends_on=("root",)),
        Stage("report", lambda left, right: left + right, depends_on=("left", "right")),
    ]
    with ParallelExecutor(2, backend=backend, enable_monitoring=False) as ex:
        out = ex.execute_with_dependencies(stages, on_result=lambda n, v: seen.append((n, v)))
        assert out == {"root": 7, "left": 14, "right": 21, "report": 35}
        assert sorted(seen) == sorted(out.items())
        assert seen[0] == ("root", 7) and seen[-1] == ("report", 35)
        seen.clear()
        assert ex.execute_sequential(stages[:1], on_result=lambda n, v: seen.append((n, v)))
        assert seen == [("root", 7)]
        seen.clear()
        ex.execute_parallel([Stage("a", lambda: 1), Stage("b", lambda: 2)],
                            on_result=lambda n, v: seen.append((n, v)))
        assert sorted(seen) == [("a", 1), ("b", 2)]


def test_on_result_runs_while_the_next_stage_runs() -> None:
    # "b" is submitted before "a" is reported: the callback waits for "b" to start, and "b"
    # waits for the callback, which only works if they overlap
    b_started, reported = threading.Event(), threading.Event()

    def b() -> str:
        b_started.set()
        return "b" if reported.wait(timeout=30) else "b without the report"

    def on_result(name: str, value: object) -> None:
        if name == "a":
            assert b_started.wait(timeout=30), "stage b was not running during the callback"
            reported.set()

    with ParallelExecutor(1, backend="thread", enable_monitoring=False) as ex:
        out = ex.execute_parallel([Stage("a", lambda: "a"), Stage("b", b)], on_result=on_result)
    assert out == {"a": "a", "b": "b"}


def test_on_result_error_stops_the_run_and_propagates_unchanged() -> None:
    calls: list[str] = []
    b_started = threading.Event()

    def b() -> str:
        b_started.set()
        calls.append("b")
        return "b"

    def on_result(name: str, value: object) -> None:
        b_started.wait(timeout=30)  # so that "b" is running (no longer cancellable)
        raise Boom(f"cannot store {name}")

    stages = [Stage("a", _recorder(calls, "a")), Stage("b", b), Stage("c", _recorder(calls, "c"))]
    ex = ParallelExecutor(1, backend="thread", enable_monitoring=False)
    with pytest.raises(Boom, match="cannot store a"):
        ex.execute_parallel(stages, on_result=on_result)
    # "b" was already running when "a" was reported: it finishes; "c" never starts
    assert calls == ["a", "b"]
    frame = ex.stage_timings()
    assert dict(zip(frame["stage"], frame["status"], strict=True)) == {
        "a": "ok", "b": "ok", "c": "not_run"
    }
    with pytest.raises(Boom, match="cannot store a"):
        _serial().execute_sequential(stages, on_result=on_result)
    assert calls == ["a", "b", "a"]
    ex.shutdown()


# --- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["serial", "thread"])
def test_failing_stage_raises_stage_error_and_later_stages_do_not_run(backend: str) -> None:
    calls: list[str] = []

    def fail() -> None:
        calls.append("fail")
        raise Boom("bad input")

    stages = [
        Stage("fail", fail),
        Stage("after", _recorder(calls, "after"), depends_on=("fail",)),
        Stage("independent", _recorder(calls, "independent")),
    ]
    # one worker: "independent" is next in line but must never start
    ex = ParallelExecutor(1, backend=backend, enable_monitoring=False)
    with pytest.raises(StageError, match=r"stage 'fail' failed: Boom: bad input") as info:
        ex.execute_with_dependencies(stages)
    assert info.value.stage == "fail"
    assert isinstance(info.value.__cause__, Boom)
    assert calls == ["fail"]
    frame = ex.stage_timings()
    assert dict(zip(frame["stage"], frame["status"], strict=True)) == {
        "fail": "error",
        "after": "not_run",
        "independent": "not_run",
    }
    assert frame.loc[frame["stage"] == "after", "wall_s"].isna().all()
    ex.shutdown()


def test_stage_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(StageError._during("render", Boom("x"))))
    assert (type(err), err.stage, str(err)) == (
        StageError,
        "render",
        "stage 'render' failed: Boom: x",
    )
    timeout = pickle.loads(pickle.dumps(StageTimeout("slow", "ran longer")))
    assert (type(timeout), timeout.stage) == (StageTimeout, "slow")


def test_stage_timeout_with_jumping_clock() -> None:
    release = threading.Event()
    calls: list[str] = []

    def slow() -> str:
        release.wait(30)
        return "late"

    # every clock reading is 10 s after the previous: the 5 s timeout has passed at once
    clock = (10.0 * i for i in itertools.count())
    ex = ParallelExecutor(
        2, backend="thread", enable_monitoring=False, stage_timeout_s=5, clock=lambda: next(clock)
    )
    try:
        with pytest.raises(
            StageTimeout, match=r"stage 'slow' failed: ran longer than its timeout of 5 s"
        ) as info:
            ex.execute_with_dependencies(
                [Stage("slow", slow), Stage("next", _recorder(calls, "next"), depends_on=("slow",))]
            )
        assert isinstance(info.value.__cause__, TimeoutError)
        frame = ex.stage_timings()
        assert dict(zip(frame["stage"], frame["status"], strict=True)) == {
            "slow": "timeout",
            "next": "not_run",
        }
    finally:
        release.set()
    assert calls == []


# --- timings with an injected clock ---------------------------------------------------------------


def test_serial_timings_exact_with_counter_clock() -> None:
    clock = _counter_clock()
    ex = ParallelExecutor(backend="serial", enable_monitoring=False, clock=lambda: next(clock))
    ex.execute_with_dependencies(
        [Stage("a", lambda: 1), Stage("b", lambda a: a, depends_on=("a",))]
    )
    frame = ex.stage_timings()
    # clock readings: run start 0; a: 1-2; b: 3-4; run end 5
    expected = pd.DataFrame(
        {
            "run": [0, 0],
            "backend": ["serial", "serial"],
            "stage": ["a", "b"],
            "pid": [PARENT_PID, PARENT_PID],
            "thread": [threading.current_thread().name] * 2,
            "start_s": [1.0, 3.0],
            "end_s": [2.0, 4.0],
            "wall_s": [1, 1],
            "status": ["ok", "ok"],
            "fallback_reason": [None, None],
        }
    )
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    assert ex.last_wall_s == 5
    ex.execute_with_dependencies([Stage("c", lambda: 3)])
    assert ex.stage_timings(all_runs=True)["run"].tolist() == [0, 0, 1]
    assert ParallelExecutor.execute_with_dependencies is ParallelExecutor.run  # the seed's name


def test_monitor_records_runs_and_errors() -> None:
    monitor = PerformanceMonitor(MonitorConfig(background=False))
    ex = ParallelExecutor(2, backend="thread", monitor=monitor)

    def bad() -> None:
        raise Boom("no")

    ex.execute_parallel([Stage("a", lambda: 1), Stage("b", lambda: 2)])
    with pytest.raises(StageError):
        ex.execute_with_dependencies([Stage("bad", bad)])
    first, second = monitor.summaries
    assert (first.name, first.operations, first.errors) == ("pipeline[thread]", 2, 0)
    assert (second.operations, second.errors) == (1, 1)
    assert first.metadata == {"stages": 2, "backend": "thread"}
    ex.shutdown()


# --- real process pools (few: the pool start-up costs about a second) -----------------------------


def _square(x: int) -> int:
    return x * x


def _seed() -> int:
    return 12


def _fail_in_worker(marker: str) -> None:
    Path(marker).write_text(str(os.getpid()))
    raise Boom("from a worker")


def _touch(path: str) -> str:
    Path(path).write_text("ran")
    return path


def _die_in_worker(seed: int, parent: int) -> int:
    # ``parent`` comes as an argument: a worker re-imports this module with its own PARENT_PID
    if os.getpid() != parent:
        os._exit(3)  # the worker process dies without a word
    return seed + 1


class _Unpicklable:
    """A callable that refuses to be pickled (cloudpickle can ship lambdas, not this)."""

    def __call__(self, seed: int) -> int:
        return seed * 2

    def __reduce__(self):  # type: ignore[no-untyped-def]
        raise TypeError("this stage cannot be pickled")


def _warn_in_worker() -> int:
    warnings.warn("typed as unknown in a worker", SchemaWarning, stacklevel=1)
    return 7


def test_a_stage_queued_ahead_is_not_run_once_the_run_has_failed(tmp_path: Path) -> None:
    from rrperf.engine.parallel import _execute_stage

    calls: list[str] = []
    stage = Stage("queued", _recorder(calls, "queued"))
    abort = tmp_path / "abort"
    ran = _execute_stage(stage, {}, lambda: 5.0, True, str(abort))
    assert (ran.ok, ran.skipped, ran.value, calls) == (True, False, ("queued", ()), ["queued"])
    abort.touch()
    out = _execute_stage(stage, {}, lambda: 5.0, True, str(abort))
    assert (out.ok, out.skipped, out.error, out.start, out.end) == (False, True, None, 5.0, 5.0)
    assert calls == ["queued"]
    # a failing stage creates the marker itself (before its error reaches the parent)
    abort.unlink()

    def fail() -> None:
        raise Boom("no")

    failed = _execute_stage(Stage("fail", fail), {}, lambda: 5.0, False, str(abort))
    assert (failed.ok, failed.skipped, type(failed.error)) == (False, False, Boom)
    assert abort.exists()


def test_process_backend_results_errors_and_fallbacks(tmp_path: Path) -> None:
    ex = ParallelExecutor(2, backend="process", enable_monitoring=False)
    # results and pids cross the process boundary
    out = ex.execute_with_dependencies(
        [Stage("seed", _seed), Stage("sq", lambda seed: _square(seed), depends_on=("seed",))]
    )
    assert out == {"seed": 12, "sq": 144}
    assert PARENT_PID not in set(ex.stage_timings()["pid"])

    # a warning raised in a worker is replayed here, once, with its category and origin
    with pytest.warns(SchemaWarning, match="typed as unknown in a worker") as record:
        assert ex.execute_parallel([Stage("w", _warn_in_worker)]) == {"w": 7}
    assert len(record) == 1
    assert record[0].filename == __file__

    # a failing stage: StageError with the original exception (pickled back) as cause, and
    # the stage queued behind it (one worker) never runs
    marker, later = tmp_path / "failed-in", tmp_path / "later-ran"
    one = ParallelExecutor(1, backend="process", enable_monitoring=False)
    with pytest.raises(StageError, match="stage 'boom' failed: Boom: from a worker") as info:
        one.execute_with_dependencies(
            [
                Stage("boom", _fail_in_worker, kwargs={"marker": str(marker)}),
                Stage("later", _touch, kwargs={"path": str(later)}),
            ]
        )
    assert isinstance(info.value.__cause__, Boom)
    assert int(marker.read_text()) != PARENT_PID
    assert not later.exists()
    # "later" was sent ahead (prefetch=1) and saw the run's abort marker, which is gone now
    assert dict(zip(one.stage_timings()["stage"], one.stage_timings()["status"],
                    strict=True)) == {"boom": "error", "later": "not_run"}
    assert list(Path(tempfile.gettempdir()).glob(f"rrperf-abort-{PARENT_PID}-*")) == []

    # an unpicklable stage: the rest runs sequentially here, with one FallbackWarning
    stages = [Stage("seed", _seed), Stage("double", _Unpicklable(), depends_on=("seed",))]
    seen: list[tuple[str, object]] = []
    with pytest.warns(FallbackWarning, match="process pool failed") as record:
        assert ex.execute_with_dependencies(
            stages, on_result=lambda n, v: seen.append((n, v))
        ) == {"seed": 12, "double": 24}
    assert len(record) == 1
    # each stage reported once, whether the pool or the fallback ran it
    assert sorted(seen) == [("double", 24), ("seed", 12)]
    assert ex.fallback_reason is not None and ex.fallback_reason.startswith("PicklingError")
    frame = ex.stage_timings()
    assert frame.loc[frame["stage"] == "double", "backend"].item() == "serial-fallback"
    assert frame.loc[frame["stage"] == "double", "fallback_reason"].item() == ex.fallback_reason

    # a worker that dies: same fallback, output still correct
    stages = [
        Stage("seed", _seed),
        Stage("next", _die_in_worker, depends_on=("seed",), kwargs={"parent": PARENT_PID}),
    ]
    with pytest.warns(FallbackWarning, match="TerminatedWorkerError") as record:
        assert ex.execute_with_dependencies(stages) == {"seed": 12, "next": 13}
    assert len(record) == 1
    assert ex.fallback_reason is not None
    assert ex.fallback_reason.startswith("TerminatedWorkerError")
    ex.shutdown()


# --- fork_map: workers forked per call, sharing a queue of items --------------------------------


def _all_reaped(pids: list[int]) -> bool:
    """Whether every one of ``pids`` has exited and been waited for (no zombie left)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return bool(pids)


def _child_took_one(mark: Path) -> None:
    """Wait (up to 30 s) until ``mark`` exists: a ``lead`` waits until a forked child has
    done an item, so that the tests know both processes worked."""
    import time

    deadline = time.monotonic() + 30
    while not mark.exists() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_fork_map_shares_the_items_between_this_process_and_forked_children(
    tmp_path: Path, forked: list[int]
) -> None:
    from rrperf.engine.parallel import fork_map

    parent = os.getpid()
    table = {i: f"item {i}" for i in range(40)}  # inherited by the child, never pickled
    mark = tmp_path / "child-worked"
    led: list[int] = []

    def work(i: int) -> tuple[str, int]:
        if os.getpid() != parent:
            mark.touch()
            _child_took_one(tmp_path / "parent-worked")  # and wait for this process to work
        else:
            (tmp_path / "parent-worked").touch()
        return table[i], os.getpid()

    arrived: list[tuple[int, str]] = []
    out = fork_map(work, 40, 2, lead=lambda: (_child_took_one(mark), led.append(1)),
                   on_result=lambda i, value: arrived.append((i, value[0])))
    assert [text for text, _ in out] == [f"item {i}" for i in range(40)]
    assert sorted(arrived) == [(i, f"item {i}") for i in range(40)]  # each once, as it came
    pids = {pid for _, pid in out}
    assert len(pids) == 2 and parent in pids  # this process and one child
    assert led == [1]
    assert _all_reaped(forked)
    # one worker: everything here, nothing forked
    assert fork_map(lambda i: (i, os.getpid()), 3, 1) == [(0, parent), (1, parent), (2, parent)]


def test_fork_map_raises_a_childs_error_as_itself_and_relays_its_warnings(
    tmp_path: Path, forked: list[int]
) -> None:
    from rrperf.engine.parallel import fork_map

    parent = os.getpid()
    mark = tmp_path / "child-worked"

    def work(i: int) -> int:
        if os.getpid() != parent:
            mark.touch()
            warnings.warn(f"from the child, item {i}", SchemaWarning, stacklevel=1)
            raise ValueError(f"item {i} is bad")
        return i

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as info:
            fork_map(work, 20, 2, lead=lambda: _child_took_one(mark))
    assert str(info.value) == "item 0 is bad"  # the child took the first item
    assert "in work" in info.value.__notes__[0]  # its traceback
    assert [str(w.message)[:21] for w in caught] == ["from the child, item "]
    assert caught[0].category is SchemaWarning
    assert _all_reaped(forked)


def test_fork_map_names_a_child_that_died_and_reports_it(
    tmp_path: Path, forked: list[int]
) -> None:
    from rrperf.engine.parallel import fork_map

    parent = os.getpid()
    lost: list[int] = []

    def work(i: int) -> int:
        if os.getpid() != parent:
            (tmp_path / "dying").touch()
            os.kill(os.getpid(), 9)
        return i

    with pytest.raises(StageError, match=r"^stage 'fork_map' failed: worker process (\d+) was "
                                         r"killed by signal 9 before sending its results$"
                       ) as info:
        fork_map(work, 20, 2, lead=lambda: _child_took_one(tmp_path / "dying"),
                 on_lost=lost.append)
    assert lost == [int(str(info.value).split()[5])]
    assert _all_reaped(forked)


def test_fork_map_stops_handing_out_items_after_this_processs_failure(
    forked: list[int],
) -> None:
    from rrperf.engine.parallel import fork_map

    def lead() -> None:
        raise KeyError("lead failed")

    with pytest.raises(KeyError, match="lead failed"):
        fork_map(lambda i: i, 10, 2, lead=lead)
    assert _all_reaped(forked)
    with pytest.raises(ConfigError, match="^fork_map takes at most 16,000 items, got 16001$"):
        fork_map(lambda i: i, 16_001, 2)


# --- fork_call: one call in a forked process ------------------------------------------------------


def test_fork_call_returns_the_childs_result_once(forked: list[int]) -> None:
    from rrperf.engine.parallel import fork_call

    table = {"answer": 42}  # inherited, never pickled
    call = fork_call(lambda: (table["answer"], os.getpid()))
    assert call.pid == forked[0] != os.getpid()
    assert call.wait() == (42, call.pid)
    assert call.wait() is None  # waited for once
    assert _all_reaped(forked)


def test_fork_call_raises_the_childs_error_and_relays_its_warnings(forked: list[int]) -> None:
    from rrperf.engine.parallel import fork_call

    def task() -> None:
        warnings.warn("from the call", SchemaWarning, stacklevel=1)
        raise ValueError("the call failed")

    call = fork_call(task)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as info:
            call.wait()
    assert str(info.value) == "the call failed"
    assert "in task" in info.value.__notes__[0]  # its traceback
    assert [(str(w.message), w.category) for w in caught] == [("from the call", SchemaWarning)]
    dying = fork_call(lambda: os.kill(os.getpid(), 9), "the call")
    with pytest.raises(StageError, match=rf"^stage 'the call' failed: worker process "
                                         rf"{dying.pid} was killed by signal 9 before sending "
                                         r"its results$"):
        dying.wait()
    assert _all_reaped(forked)
