"""Run metadata: where, when and with what a benchmark run was measured.

One :class:`RunMetadata` describes one run (one ``run_id``): the rrperf version, the git revision
of the working directory, the interpreter, the machine and the configuration used. It is the
second table of a result, keyed by ``run_id`` (DESIGN.md "Data contracts"), and is kept apart
from the measurements the way pyperf keeps ``common_metadata`` apart from values.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import logging
import os
import platform
import subprocess
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf.bench.results import RESULTS_SCHEMA_VERSION, metadata_frame
from rrperf.errors import BenchmarkError, ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RUNNING_DIR_ENV", "BenchmarkPresence", "RunMetadata", "canonical_json", "collect_metadata",
    "describe_others", "load_average", "new_run_id", "running_dir",
]

logger = logging.getLogger(__name__)

# A git call that takes longer than this (network file system, huge repository) is abandoned and
# the revision recorded as unknown rather than delaying the benchmark.
_GIT_TIMEOUT_S = 5.0


@dataclasses.dataclass(frozen=True)
class RunMetadata:
    """Facts about one benchmark run, stored next to its measurements.

    Parameters
    ----------
    run_id : str
        Identifier shared with the measurement rows (see :func:`new_run_id`).
    name : str or None
        Optional user label (``--save NAME``); names need not be unique.
    rrperf_version : str
        ``rrperf.__version__`` of the measuring process.
    git_revision : str or None
        ``git rev-parse HEAD`` of the working directory, None outside a repository.
    git_dirty : bool or None
        Whether tracked files had uncommitted changes; None outside a repository.
    python_version, platform : str
        Interpreter version and ``platform.platform()``.
    cpu_model : str or None
        CPU model name, None when the system does not say.
    cpu_count, cpu_count_physical : int or None
        Logical and physical CPU counts (psutil), None when unknown.
    memory_total_mb : float or None
        Total physical memory in MiB.
    config_json : str
        The configuration used, as canonical JSON text (see :func:`canonical_json`).
    schema_version : int
        Results format version the run was written with.
    started_at : datetime
        Timezone-aware UTC start time of the run.
    """

    run_id: str
    name: str | None
    rrperf_version: str
    git_revision: str | None
    git_dirty: bool | None
    python_version: str
    platform: str
    cpu_model: str | None
    cpu_count: int | None
    cpu_count_physical: int | None
    memory_total_mb: float | None
    config_json: str
    schema_version: int
    started_at: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.run_id, str) or not self.run_id:
            raise ConfigError(f"run_id must be a non-empty string, got {self.run_id!r}")
        if self.name is not None and not isinstance(self.name, str):
            raise ConfigError(f"name must be a string or None, got {self.name!r}")
        if not isinstance(self.started_at, datetime) or self.started_at.utcoffset() is None:
            raise ConfigError(
                f"started_at must be a timezone-aware datetime, got {self.started_at!r}"
            )
        if isinstance(self.schema_version, bool) or not isinstance(self.schema_version, int):
            raise ConfigError(f"schema_version must be an int, got {self.schema_version!r}")
        try:
            json.loads(self.config_json)
        except (TypeError, ValueError) as err:
            raise ConfigError(
                f"config_json must be JSON text, got {self.config_json!r}"
            ) from err

    @property
    def config(self) -> Any:
        """The configuration, decoded from :attr:`config_json`."""
        return json.loads(self.config_json)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``started_at`` as ISO 8601 text in UTC)."""
        out = dataclasses.asdict(self)
        out["started_at"] = self.started_at.astimezone(UTC).isoformat()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunMetadata:
        """Rebuild from :meth:`to_dict` output (unknown keys are ignored).

        Raises
        ------
        ConfigError
            When a required key is missing or a value is invalid.
        """
        fields = {f.name for f in dataclasses.fields(cls)}
        missing = sorted(fields - set(data))
        if missing:
            raise ConfigError(f"run metadata is missing keys: {', '.join(missing)}")
        kwargs = {k: data[k] for k in fields}
        started = kwargs["started_at"]
        if isinstance(started, str):
            kwargs["started_at"] = datetime.fromisoformat(started)
        elif hasattr(started, "to_pydatetime"):  # pandas Timestamp
            kwargs["started_at"] = started.to_pydatetime()
        return cls(**kwargs)

    def to_frame(self) -> pd.DataFrame:
        """Return a one-row metadata table (``METADATA_COLUMNS``, ``METADATA_DTYPES``)."""
        return metadata_frame([self.to_dict()])


def new_run_id(*, now: datetime | None = None) -> str:
    """Return a unique run id that sorts by start time, e.g. ``"20261126T210501Z-3f9a1c"``.

    Parameters
    ----------
    now : datetime, optional
        Start time (timezone-aware); defaults to the current UTC time.

    Returns
    -------
    str
        UTC timestamp to the second, a dash, and 6 hex digits of a random UUID4.
    """
    when = datetime.now(UTC) if now is None else now
    if when.utcoffset() is None:
        raise ConfigError(f"now must be a timezone-aware datetime, got {when!r}")
    return f"{when.astimezone(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def _json_default(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def canonical_json(config: Mapping[str, Any] | None) -> str:
    """Encode a configuration as canonical JSON: sorted keys, no spaces, ASCII only.

    Paths become strings, enums their values, dataclasses dicts and sets sorted lists, so equal
    configurations always give equal text.

    Raises
    ------
    ConfigError
        When a value cannot be represented in JSON.
    """
    if config is None:
        return "{}"
    if not isinstance(config, Mapping):
        raise ConfigError(f"config must be a mapping or None, got {type(config).__name__}")
    try:
        return json.dumps(
            dict(config), sort_keys=True, separators=(",", ":"), default=_json_default,
            allow_nan=False,
        )
    except (TypeError, ValueError) as err:
        raise ConfigError(f"config cannot be stored as JSON: {err}") from err


def _git(args: list[str], cwd: str | os.PathLike[str] | None) -> str | None:
    # GIT_OPTIONAL_LOCKS=0: `git status` must not take index.lock in a tree others commit to.
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=_GIT_TIMEOUT_S,
            check=False, env=env,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        logger.debug("git %s failed: %s", " ".join(args), err)
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout


def _git_state(cwd: str | os.PathLike[str] | None) -> tuple[str | None, bool | None]:
    head = _git(["rev-parse", "HEAD"], cwd)
    if head is None or not head.strip():
        return None, None
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    dirty = None if status is None else bool(status.strip())
    return head.strip(), dirty


def _cpu_model() -> str | None:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor() or None


def collect_metadata(
    *,
    run_id: str,
    name: str | None = None,
    config: Mapping[str, Any] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    started_at: datetime | None = None,
) -> RunMetadata:
    """Describe the current machine, interpreter and working directory for one run.

    Parameters
    ----------
    run_id : str
        The run's id (see :func:`new_run_id`).
    name : str, optional
        User label for the run.
    config : Mapping, optional
        The configuration used; stored as canonical JSON.
    cwd : path, optional
        Directory whose git revision is recorded (default: the process's working directory).
    started_at : datetime, optional
        Timezone-aware start time; defaults to now (UTC).

    Returns
    -------
    RunMetadata

    Raises
    ------
    ConfigError
        When ``config`` cannot be stored as JSON or an argument is invalid.
    BenchmarkError
        When psutil cannot read the CPU or memory figures.
    """
    import psutil

    import rrperf

    config_json = canonical_json(config)
    revision, dirty = _git_state(cwd)
    try:
        logical = psutil.cpu_count(logical=True)
        physical = psutil.cpu_count(logical=False)
        memory_mb = psutil.virtual_memory().total / (1024 * 1024)
    except psutil.Error as err:
        raise BenchmarkError(f"cannot read CPU or memory information: {err}") from err
    return RunMetadata(
        run_id=run_id,
        name=name,
        rrperf_version=rrperf.__version__,
        git_revision=revision,
        git_dirty=dirty,
        python_version=platform.python_version(),
        platform=platform.platform(),
        cpu_model=_cpu_model(),
        cpu_count=logical,
        cpu_count_physical=physical,
        memory_total_mb=float(memory_mb),
        config_json=config_json,
        schema_version=RESULTS_SCHEMA_VERSION,
        started_at=datetime.now(UTC) if started_at is None else started_at,
    )



# --- machine facts and benchmarks running side by side -----------------------------------------

#: Environment variable naming the folder where running benchmarks leave their pid files
#: (default: ``rrperf-running-<uid>`` in the temporary folder, one per user and machine).
RUNNING_DIR_ENV = "RRPERF_RUNNING_DIR"


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (rounded to 0.01), None where unknown."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def running_dir() -> Path:
    """The folder of pid files of running benchmarks (see :data:`RUNNING_DIR_ENV`)."""
    import tempfile

    env = os.environ.get(RUNNING_DIR_ENV)
    if env:
        return Path(env)
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"rrperf-running-{uid}"


class BenchmarkPresence:
    """Announce this benchmark on the machine and see the others that are running.

    Entering writes ``<pid>.json`` (pid, start time, command line) into :func:`running_dir`;
    leaving removes it. :meth:`others` lists the files of other processes that are still
    alive (checked with psutil, comparing the process start time so a reused pid does not
    count) and removes stale ones. Two benchmarks on a 2-core machine slow each other down;
    the runner records what it saw in the run's metadata and ``rrperf bench`` warns.

    Parameters
    ----------
    folder : path or None
        Where the pid files live; :func:`running_dir` when None.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else running_dir()
        self._mine: Path | None = None

    def __enter__(self) -> BenchmarkPresence:
        import sys

        import psutil

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            me = psutil.Process()
            record = {
                "pid": me.pid,
                "create_time": me.create_time(),
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "argv": sys.argv[:6],
            }
            path = self.folder / f"{me.pid}.json"
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(record), encoding="utf-8")
            tmp.replace(path)
            self._mine = path
        except (OSError, psutil.Error) as err:
            logger.debug("cannot announce the benchmark in %s: %s", self.folder, err)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._mine is not None:
            with contextlib.suppress(OSError):
                self._mine.unlink()
            self._mine = None

    def others(self) -> list[dict[str, Any]]:
        """Other benchmarks running now: ``{"pid", "started_at", "argv"}`` each, by pid."""
        import psutil

        out: list[dict[str, Any]] = []
        try:
            files = sorted(self.folder.glob("*.json"))
        except OSError:
            return out
        for path in files:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                pid = int(record["pid"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if pid == os.getpid():
                continue
            try:
                alive = abs(psutil.Process(pid).create_time() - float(record["create_time"])) < 1
            except (psutil.Error, ValueError, KeyError, TypeError):
                alive = False
            if not alive:
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            out.append({k: record.get(k) for k in ("pid", "started_at", "argv")})
        return out


def describe_others(others: list[dict[str, Any]]) -> str:
    """``"pid 123 (started 2026-...)"`` joined with commas."""
    return ", ".join(f"pid {o['pid']} (started {o.get('started_at')})" for o in others)
