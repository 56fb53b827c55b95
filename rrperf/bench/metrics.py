"""Deterministic metric: instructions counted with Valgrind, and the gate that judges them.

``BenchmarkRunner(metric="instructions")`` (``rrperf bench --metric instructions``) measures
every iteration under Valgrind's cachegrind tool with ``--cache-sim=no``: no cache model, one
counter, the number of guest instructions executed (``Ir``). The count does not depend on the
machine's speed or on what else runs on it, so a stored baseline is a sound CI gate (wall time
on a shared machine drifts by up to 2x between runs; see ``../shared/docs/NOISE.md``).

How each kind of system is counted (README, "Instruction counts", has the figures)
----------------------------------------------------------------------------------
* **In-process systems** run in a worker started as ``valgrind --tool=cachegrind
  --cache-sim=no --trace-children=yes python -m rrperf.bench.metrics JOB``. It unpickles the
  system (cloudpickle, so lambdas and closures travel too), runs
  ``system.prepare(cache_state)`` and forks twice: child **A** runs the iteration, child **B**
  the same harness without it. Both inherit the parent's counters and cachegrind writes each
  process's totals to ``cachegrind.out.%p`` at exit, so ``A - B`` is the run alone. Processes
  the run starts (loky workers) are traced and added to A's; the worker runs in its own
  process group and the harness waits until every process of it has exited, so their files
  are complete. Each iteration is a fresh process, as with ``isolate=True`` (a ``warm`` one
  finds the output folder and the disk level of the caches, not the memory level).
* **Command systems** are wrapped whole (``valgrind ... <command>``): the count sums every
  process of the command, start-up included.

Every worker gets ``PYTHONHASHSEED`` fixed (:data:`HASH_SEED`), so set iteration order and
dict layout repeat. ``wall_s`` and ``cpu_s`` of an instruction run are those under Valgrind
(20-50x slower) and ``peak_rss_mb`` is missing.

The gate on a stored baseline
-----------------------------
:func:`instruction_gate` judges each group (scenario, system, strategy, cache state) by the
plain ratio of medians, new over stored, against ``threshold`` widened by ``2 cv``, the counts'
own measured noise (the rules: its docstring; exit codes: README, "Instruction counts").
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import math
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf.errors import BenchmarkError, ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.bench.systems import Command, RunContext, RunOutcome, System

__all__ = [
    "GATE_COLUMNS",
    "HASH_SEED",
    "METRICS",
    "VALGRIND_OPTIONS",
    "InstructionCount",
    "count_command",
    "count_in_process",
    "gate_exit_code",
    "instruction_gate",
    "metric_column",
    "read_cachegrind_total",
    "valgrind_executable",
]

logger = logging.getLogger(__name__)

#: ``--metric`` name -> the measurement column it fills and judges by.
METRICS: dict[str, str] = {"wall": "wall_s", "cpu": "cpu_s", "instructions": "instructions"}

#: ``PYTHONHASHSEED`` of every worker under Valgrind (one value for every iteration).
HASH_SEED = 0

#: How cachegrind is run: instruction counts only, every child process followed.
VALGRIND_OPTIONS: tuple[str, ...] = (
    "--tool=cachegrind", "--cache-sim=no", "--branch-sim=no", "--trace-children=yes",
)

#: Columns of :func:`instruction_gate`.
GATE_COLUMNS: tuple[str, ...] = (
    "scenario", "system", "strategy", "cache_state", "value", "n_current", "n_baseline",
    "median_current", "median_baseline", "ratio", "cv_current", "cv_baseline", "margin",
    "threshold", "verdict",
)

# How long the harness waits for the processes of a worker's group after it exits.
_GROUP_EXIT_TIMEOUT_S = 120.0
_OUT_PREFIX = "cachegrind.out."
_JOB = "job.pkl"
_RESULT = "result.pkl"
_PIDS = "pids.json"
_SYS_PATH = "sys_path.json"


def metric_column(metric: str) -> str:
    """The measurement column of a metric name (``wall`` or ``instructions``; column names too).

    Raises
    ------
    ConfigError
        For any other name.

    Examples
    --------
    >>> metric_column("wall"), metric_column("instructions"), metric_column("cpu_s")
    ('wall_s', 'instructions', 'cpu_s')
    """
    if metric in METRICS:
        return METRICS[metric]
    if isinstance(metric, str) and metric in METRICS.values():
        return metric
    raise ConfigError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")


def valgrind_executable() -> str:
    """The path of ``valgrind``.

    Raises
    ------
    BenchmarkError
        When it is not on the PATH (Debian: ``apt-get install valgrind``; ``make valgrind``).
    """
    found = shutil.which("valgrind")
    if found is None:
        raise BenchmarkError(
            "--metric instructions needs Valgrind, which is not on the PATH "
            "(Debian/Ubuntu: apt-get install valgrind; or make valgrind)"
        )
    return found


def read_cachegrind_total(path: str | os.PathLike[str]) -> int:
    """The total instruction count (``Ir``) of one cachegrind output file.

    Raises
    ------
    BenchmarkError
        When the file has no ``summary:`` line or its first event is not ``Ir``.
    """
    events: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("summary:"):
                values = line.split()[1:]
                if not events or events[0] != "Ir" or not values:
                    break
                return int(values[0])
    raise BenchmarkError(f"{os.fspath(path)!r} is not a cachegrind output with an Ir total")


@dataclass(frozen=True)
class InstructionCount:
    """One iteration counted under Valgrind.

    ``instructions`` is NaN and ``error`` says why when the iteration failed; ``wall_s`` and
    ``cpu_s`` are those of the run under Valgrind; ``caught`` holds the warnings the run
    raised (records with ``category``, ``message``, ``filename``, ``lineno``).
    """

    instructions: float
    wall_s: float
    cpu_s: float
    outcome: RunOutcome | None
    error: str | None
    caught: tuple[Any, ...] = ()


def _failed(error: str) -> InstructionCount:
    return InstructionCount(math.nan, math.nan, math.nan, None, error)


def _environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    env["PYTHONHASHSEED"] = str(HASH_SEED)
    return env


def _valgrind_argv(folder: Path) -> list[str]:
    return [
        valgrind_executable(), *VALGRIND_OPTIONS,
        f"--cachegrind-out-file={folder / _OUT_PREFIX}%p",
        f"--log-file={folder / 'valgrind.%p.log'}",
    ]


def _counts(folder: Path) -> dict[int, int]:
    """pid -> instructions of every cachegrind file in ``folder``."""
    out: dict[int, int] = {}
    for path in folder.glob(f"{_OUT_PREFIX}*"):
        suffix = path.name[len(_OUT_PREFIX):]
        if suffix.isdigit():
            out[int(suffix)] = read_cachegrind_total(path)
    return out


def _wait_group(pgid: int) -> bool:
    """Wait until no process of group ``pgid`` is left; kill them after a timeout.

    Returns
    -------
    bool
        True when the group emptied by itself.
    """
    deadline = time.monotonic() + _GROUP_EXIT_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # a process of the group runs as someone else: leave it
            return True
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def _run_group(
    argv: Sequence[str], *, cwd: str | None, env: dict[str, str], stderr: Any
) -> tuple[int, float, float]:
    """Run ``argv`` in a new session; return (exit code, wall seconds, child CPU seconds).

    Waits until every process of the new process group has exited (Valgrind writes a
    process's counts when it exits).
    """
    from rrperf.bench.systems import _reap

    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
        )
    except OSError as err:
        raise BenchmarkError(f"cannot start {argv[0]!r}: {err.strerror or err}") from err
    with proc:
        cpu_s, _ = _reap(proc)
    wall_s = time.perf_counter() - t0
    if not _wait_group(proc.pid):
        raise BenchmarkError(
            f"processes started by the run were still alive {_GROUP_EXIT_TIMEOUT_S:.0f} s "
            "after it ended and were killed; their instructions are unknown"
        )
    return int(proc.returncode), wall_s, cpu_s


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def count_command(
    command: Command, source: str, out_dir: Path, context: RunContext
) -> InstructionCount:
    """Run a command system once under cachegrind and count every process it runs.

    Returns
    -------
    InstructionCount
        The sum of the ``Ir`` totals of the command and all its descendants; a non-zero exit
        gives an error ``"exit N: <last stderr line>"`` as in wall-time runs.
    """
    from rrperf.bench.systems import RunOutcome

    schema = str(context.schema_path()) if "{schema}" in command.command else None
    argv = command.argv(schema=schema, out=str(out_dir))
    with tempfile.TemporaryDirectory(prefix="rrperf-vg-") as tmp:
        folder = Path(tmp)
        err_path = folder / "stderr.txt"
        with open(err_path, "wb") as err_file:
            code, wall_s, cpu_s = _run_group(
                [*_valgrind_argv(folder), *argv], cwd=command.cwd,
                env=_environment(dict(command.env) if command.env else None), stderr=err_file,
            )
        if code != 0:
            raise BenchmarkError(f"exit {code}: {_last_line(err_path)}")
        counts = _counts(folder)
        if not counts:
            raise BenchmarkError(f"cachegrind wrote no counts for {argv[0]!r}")
        total = sum(counts.values())
    return InstructionCount(float(total), wall_s, cpu_s, RunOutcome(child_cpu_s=0.0), None)


def _dumps(obj: Any) -> bytes:
    import cloudpickle  # a dependency of loky

    return bytes(cloudpickle.dumps(obj))


def count_in_process(
    system: System, source: str, out_dir: Path, context: RunContext
) -> InstructionCount:
    """Run one iteration of an in-process system in a worker under cachegrind.

    See the module notes: the count is child A (prepare done, the run) minus child B (the
    same harness without the run), plus the processes the run started.
    """
    from rrperf.bench.systems import GeneratorSystem

    if isinstance(system, GeneratorSystem):
        system.ensure_cache_dir()  # shared by the workers, so warm iterations stay warm
    try:
        job = _dumps((system, source, out_dir, context))
    except Exception as err:  # what cannot be pickled cannot run in a worker
        return _failed(f"cannot send system {system.name!r} to the Valgrind worker: {err}")
    with tempfile.TemporaryDirectory(prefix="rrperf-vg-") as tmp:
        folder = Path(tmp)
        (folder / _JOB).write_bytes(job)
        # The worker imports what the job names from the parent's import path.
        (folder / _SYS_PATH).write_text(json.dumps(sys.path), encoding="utf-8")
        err_path = folder / "stderr.txt"
        argv = [*_valgrind_argv(folder), sys.executable, "-m", "rrperf.bench.metrics", tmp]
        with open(err_path, "wb") as err_file:
            code, _, _ = _run_group(argv, cwd=None, env=_environment(), stderr=err_file)
        if code != 0 or not (folder / _PIDS).exists():
            return _failed(f"Valgrind worker exit {code}: {_last_line(err_path)}")
        pids = json.loads((folder / _PIDS).read_text(encoding="utf-8"))
        counts = _counts(folder)
        a, b, parent = int(pids["a"]), int(pids["b"]), int(pids["parent"])
        if a not in counts or b not in counts:
            return _failed("cachegrind wrote no counts for the measured child")
        before = {int(p) for p in pids["before"]}
        descendants = sum(n for p, n in counts.items() if p not in (a, b, parent, *before))
        with open(folder / _RESULT, "rb") as fh:
            result = pickle.load(fh)
    instructions = counts[a] - counts[b] + descendants
    outcome, error, wall_s, cpu_s, caught = result
    if error is not None:
        return InstructionCount(math.nan, math.nan, math.nan, None, error, caught)
    return InstructionCount(float(instructions), wall_s, cpu_s, outcome, None, caught)


# --- the worker (runs under Valgrind) -----------------------------------------------------------


def _child(folder: Path, job: tuple[Any, ...], measured: bool) -> None:
    """Body of children A (``measured``) and B: identical but for the run itself."""
    from rrperf.bench.recording import caught, describe_error, recording
    from rrperf.bench.systems import RunOutcome

    system, source, out_dir, context = job
    outcome: Any = None
    error: str | None = None
    code = 0
    try:
        with recording() as log:
            c0 = time.process_time()
            t0 = time.perf_counter()
            try:
                outcome = system.run(source, out_dir, context=context) if measured else (
                    RunOutcome()
                )
            except Exception as err:  # recorded as the iteration's error
                error = describe_error(err)
            t1 = time.perf_counter()
            c1 = time.process_time()
        name = _RESULT if measured else f"{_RESULT}.b"
        with open(folder / name, "wb") as fh:
            pickle.dump((outcome, error, t1 - t0, c1 - c0, caught(log)), fh)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _preimport(system: Any) -> None:
    """Import what the built-in generators import on first use, before the fork, so their
    count is the generator's work and not its imports (a callable's own imports on first
    use are part of what it costs in a fresh process, and are counted)."""
    import rrperf.engine.stages  # noqa: F401  (CallableSystem.run checks for a Pipeline)
    from rrperf.bench.systems import GeneratorSystem

    if not isinstance(system, GeneratorSystem):
        return
    import rrperf.generator.api  # noqa: F401
    import rrperf.generator.digest  # noqa: F401

    with contextlib.suppress(ImportError):
        import rrperf.engine.strategies  # noqa: F401


def _worker(folder: Path) -> int:
    import pickle as _pickle

    parent_path = json.loads((folder / _SYS_PATH).read_text(encoding="utf-8"))
    sys.path[:] = [*parent_path, *(p for p in sys.path if p not in parent_path)]
    with open(folder / _JOB, "rb") as fh:
        job = _pickle.load(fh)
    system, _source, _out_dir, context = job
    _preimport(system)
    system.prepare(context.cache_state)
    before = [
        int(p.name[len(_OUT_PREFIX):]) for p in folder.glob(f"{_OUT_PREFIX}*")
        if p.name[len(_OUT_PREFIX):].isdigit()
    ]
    gc.collect()
    sys.stdout.flush()
    sys.stderr.flush()
    pid_b = os.fork()
    if pid_b == 0:
        _child(folder, job, measured=False)
    pid_a = os.fork()
    if pid_a == 0:
        _child(folder, job, measured=True)
    _, status_b = os.waitpid(pid_b, 0)
    _, status_a = os.waitpid(pid_a, 0)
    if os.waitstatus_to_exitcode(status_a) != 0 or os.waitstatus_to_exitcode(status_b) != 0:
        print("rrperf: the measured child of the Valgrind worker failed", file=sys.stderr)
        return 1
    pids = {"a": pid_a, "b": pid_b, "parent": os.getpid(), "before": before}
    (folder / _PIDS).write_text(json.dumps(pids), encoding="utf-8")
    return 0


# --- the gate ------------------------------------------------------------------------------------


def _groups(data: pd.DataFrame, value: str) -> dict[tuple[Any, ...], Any]:
    from rrperf.bench.results import GROUP_COLUMNS, validate_measurements

    frame = validate_measurements(data)
    ok = frame[~frame["warmup"] & frame["error"].isna() & frame[value].notna()]
    return {
        key: part[value].to_numpy(dtype=float)
        for key, part in ok.groupby(list(GROUP_COLUMNS), dropna=False, sort=True)
    }


def _cv(values: Any) -> float:
    import numpy as np

    if len(values) < 2:
        return 0.0
    mean = float(np.mean(values))
    return float(np.std(values, ddof=1) / mean) if mean > 0 else math.nan


def instruction_gate(
    current: pd.DataFrame,
    baseline: pd.DataFrame,
    *,
    threshold: float = 0.02,
    value: str = "instructions",
) -> pd.DataFrame:
    """Judge a run against a stored baseline by the ratio of median counts.

    With ``cv`` the larger coefficient of variation of the two sides: ``slower`` above
    ``1 + threshold + 2 cv``, ``faster`` below ``1 - threshold - 2 cv``, ``equivalent`` within
    ``1 +- (threshold - 2 cv)``, else ``inconclusive`` (or a side has no count).

    Parameters
    ----------
    current, baseline : DataFrame
        Measurement tables (warm-ups, failed iterations and missing values are left out).
    threshold : float
        Relative change that counts, in [0, 1).
    value : str
        The column compared (``instructions``).

    Returns
    -------
    DataFrame
        ``GATE_COLUMNS``, one row per group present in both tables, sorted. Empty when the
        tables have no group in common.

    Raises
    ------
    ConfigError
        If ``threshold`` is outside [0, 1).

    Examples
    --------
    >>> import pandas as pd
    >>> from rrperf.bench.results import measurements_frame
    >>> def rows(run, counts):
    ...     return measurements_frame([
    ...         dict(run_id=run, started_at=pd.Timestamp("2026-12-02", tz="UTC"),
    ...              scenario="s", system="cmd", strategy="", cache_state="cold",
    ...              iteration=i, order=0, warmup=False, wall_s=1.0, cpu_s=1.0,
    ...              peak_rss_mb=1.0, instructions=c, n_tables=1, files_total=0,
    ...              files_written=0, files_unchanged=0, cache_hits=0, cache_misses=0,
    ...              output_digest="d", error=None) for i, c in enumerate(counts)])
    >>> gate = instruction_gate(rows("new", [1030, 1030, 1030]), rows("old", [1000] * 3))
    >>> gate[["ratio", "verdict"]].to_dict("records")
    [{'ratio': 1.03, 'verdict': 'slower'}]
    """
    import pandas as pd

    if not isinstance(threshold, int | float) or not 0.0 <= float(threshold) < 1.0:
        raise ConfigError(f"threshold must be a fraction in [0, 1), got {threshold!r}")
    new, old = _groups(current, value), _groups(baseline, value)
    rows: list[dict[str, Any]] = []
    for key in sorted(set(new) & set(old), key=lambda k: tuple(map(str, k))):
        a, b = new[key], old[key]
        row: dict[str, Any] = dict(zip(("scenario", "system", "strategy", "cache_state"), key,
                                       strict=True))
        row.update(value=value, n_current=len(a), n_baseline=len(b), threshold=float(threshold))
        if len(a) == 0 or len(b) == 0:
            row.update(median_current=math.nan, median_baseline=math.nan, ratio=math.nan,
                       cv_current=math.nan, cv_baseline=math.nan, margin=math.nan,
                       verdict="inconclusive")
            rows.append(row)
            continue
        import numpy as np

        m_new, m_old = float(np.median(a)), float(np.median(b))
        ratio = m_new / m_old if m_old > 0 else math.nan
        cv_new, cv_old = _cv(a), _cv(b)
        margin = 2.0 * max(cv_new, cv_old)
        if math.isnan(ratio) or math.isnan(margin):
            verdict = "inconclusive"
        elif ratio > 1 + threshold + margin:
            verdict = "slower"
        elif ratio < 1 - threshold - margin:
            verdict = "faster"
        elif 1 - threshold + margin <= ratio <= 1 + threshold - margin:
            verdict = "equivalent"
        else:
            verdict = "inconclusive"
        row.update(median_current=m_new, median_baseline=m_old, ratio=ratio, cv_current=cv_new,
                   cv_baseline=cv_old, margin=margin, verdict=verdict)
        rows.append(row)
    frame = pd.DataFrame.from_records(rows, columns=list(GATE_COLUMNS))
    return frame.astype({
        "scenario": "string", "system": "string", "strategy": "string",
        "cache_state": "string", "value": "string", "n_current": "int64",
        "n_baseline": "int64", "median_current": "float64", "median_baseline": "float64",
        "ratio": "float64", "cv_current": "float64", "cv_baseline": "float64",
        "margin": "float64", "threshold": "float64", "verdict": "string",
    })


def gate_exit_code(gate: pd.DataFrame) -> int:
    """Exit status of a gate table: 1 any ``slower``, 3 any ``inconclusive`` (or no row), else 0.

    Examples
    --------
    >>> import pandas as pd
    >>> gate_exit_code(pd.DataFrame({"verdict": ["equivalent", "faster"]}))
    0
    >>> gate_exit_code(pd.DataFrame({"verdict": ["equivalent", "slower", "inconclusive"]}))
    1
    """
    verdicts: Iterable[Any] = gate["verdict"].tolist()
    seen = set(map(str, verdicts))
    if "slower" in seen:
        return 1
    if "inconclusive" in seen or not seen:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(_worker(Path(sys.argv[1])))
