"""The benchmark history store: every run and every measured iteration, in one SQLite file.

Design notes
------------
* Storage is the standard library's :mod:`sqlite3`, not SQLAlchemy: the store is one local
  file, and the runner appends a row after every iteration, so the thin driver keeps the
  per-row cost low. ``sqlite:///path`` URLs are accepted for symmetry with the schema sources;
  other URL schemes raise :class:`~rrperf.errors.HistoryError`.
* Durability: each :meth:`HistoryStore.append_iteration` is its own committed transaction, so a
  run killed mid-way (even by SIGKILL) keeps every iteration it completed. The journal is in WAL
  mode with ``synchronous=NORMAL``: committed transactions survive a crash of the process;
  the last ones may be lost on power failure, which we accept to keep fsyncs out of the
  benchmark loop.
* Concurrency: several processes may write at once. Writers take the lock up front
  (``BEGIN IMMEDIATE``), wait up to ``timeout_s`` for it (SQLite busy timeout), and retry with
  exponential back-off when SQLite still reports ``database is locked``. Inside one process the
  store is thread-safe: one connection guarded by a lock.
* Every :mod:`sqlite3` error is translated to :class:`~rrperf.errors.HistoryError` at one
  boundary (:meth:`HistoryStore._run`), with the original as ``__cause__``.
* Tables: ``meta`` (key/value, including ``schema_version``), ``runs`` (one row per run, its
  status and metadata as JSON) and ``measurements`` (one row per iteration, every contract
  column, plus the contract version it was written with). Times are stored as integer
  nanoseconds since the epoch (UTC) so they round-trip exactly and sort correctly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rrperf.bench.results import (
    MEASUREMENT_COLUMNS,
    MEASUREMENT_DTYPES,
    METADATA_COLUMNS,
    OPTIONAL_MEASUREMENT_COLUMNS,
    RESULT_SUFFIXES,
    RESULTS_SCHEMA_VERSION,
    BenchmarkResult,
    metadata_frame,
    metadata_records,
)
from rrperf.errors import ConfigError, HistoryError, ResultsSchemaError

if TYPE_CHECKING:
    import pandas as pd

    from rrperf.bench.metadata import RunMetadata

__all__ = ["DEFAULT_HISTORY_PATH", "RUN_STATUSES", "HistoryStore"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_HISTORY_PATH = ".rrperf/history.sqlite"
RUN_STATUSES: tuple[str, ...] = ("running", "complete", "failed")
LIST_RUNS_COLUMNS: tuple[str, ...] = (
    "run_id", "name", "started_at", "status", "n_rows", "scenarios", "systems",
)

_SQL_TYPES = {
    "string": "TEXT",
    "datetime64[ns, UTC]": "INTEGER",
    "int64": "INTEGER",
    "bool": "INTEGER",
    "float64": "REAL",
}
# Columns of the contract that may not be missing in a stored row.
_NOT_NULL = {c for c, d in MEASUREMENT_DTYPES.items() if d != "string" and d != "float64"}


def _q(name: str) -> str:
    """Quote an SQL identifier (``order`` is a keyword)."""
    return '"' + name.replace('"', '""') + '"'


_MEASUREMENT_COLS_SQL = ", ".join(_q(c) for c in MEASUREMENT_COLUMNS)
_SCHEMA_SQL = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY,
        name TEXT,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
        baseline TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        metadata TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS runs_name ON runs (name, started_at)",
    "CREATE TABLE IF NOT EXISTS measurements (\n"
    "    id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    + "".join(
        f"    {_q(c)} {_SQL_TYPES[d]}{' NOT NULL' if c in _NOT_NULL else ''}"
        + (" REFERENCES runs (run_id) ON DELETE CASCADE" if c == "run_id" else "")
        + ",\n"
        for c, d in MEASUREMENT_DTYPES.items()
    )
    + "    schema_version INTEGER NOT NULL\n)",
    "CREATE INDEX IF NOT EXISTS measurements_run ON measurements (run_id)",
    "CREATE INDEX IF NOT EXISTS measurements_group ON measurements (scenario, system, started_at)",
]


def _resolve_path(path_or_url: str | os.PathLike[str]) -> Path:
    if isinstance(path_or_url, os.PathLike):
        return Path(path_or_url)
    if not isinstance(path_or_url, str) or not path_or_url:
        raise ConfigError(f"history location must be a path or sqlite:/// URL, got {path_or_url!r}")
    if "://" not in path_or_url:
        return Path(path_or_url)
    scheme, _, rest = path_or_url.partition("://")
    if scheme.lower() != "sqlite":
        raise HistoryError(
            f"only SQLite history stores are supported, got a {scheme!r} URL; use a file path "
            f"or sqlite:///path/to/history.sqlite"
        )
    # sqlite:///relative/path and sqlite:////absolute/path, as in SQLAlchemy.
    if not rest.startswith("/") or rest in ("/", "/:memory:"):
        raise HistoryError(
            f"the history store needs a database file, got {path_or_url!r}; "
            f"use sqlite:///path/to/history.sqlite"
        )
    return Path(rest[1:])


def _is_locked(err: sqlite3.Error) -> bool:
    text = str(err).lower()
    return isinstance(err, sqlite3.OperationalError) and (
        "database is locked" in text or "database is busy" in text
    )


def _sql_rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Contract frame -> tuples for INSERT (times as ns integers, missing as NULL)."""
    columns: list[list[Any]] = []
    for col, dtype in MEASUREMENT_DTYPES.items():
        series = frame[col]
        if dtype.startswith("datetime64"):
            values: list[Any] = [int(v) for v in series.astype("int64").tolist()]
        elif dtype in ("int64", "bool"):
            values = [int(v) for v in series.tolist()]
        elif dtype == "float64":
            values = [None if math.isnan(v) else float(v) for v in series.tolist()]
        else:
            values = [str(v) if isinstance(v, str) else None for v in series.tolist()]
        columns.append(values)
    return list(zip(*columns, strict=True))


def _value(col: str, dtype: str, value: Any) -> Any:
    """One contract value -> its SQL form, as strictly as :func:`validate_measurements`."""
    import numpy as np

    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if not missing and type(value).__name__ in ("NAType", "NaTType"):
        missing = True
    if dtype == "string":
        return None if missing else str(value)
    if dtype == "float64":
        return None if missing else float(value)
    if missing:
        raise ValueError("it has missing values" if dtype.startswith("datetime64")
                         else f"expected a value, got {value!r}")
    if dtype == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"expected True or False, got {value!r}")
        return int(bool(value))
    if dtype == "int64":
        if isinstance(value, (bool, np.bool_)):
            raise ValueError("expected whole numbers, got booleans")
        if isinstance(value, (float, np.floating)) and not float(value).is_integer():
            raise ValueError(f"expected whole numbers, got {float(value)!r}")
        number = int(value)
        if not -(2**63) <= number < 2**63:
            raise OverflowError(f"{number} is outside the int64 range")
        return number
    return _ns(value)


def _row_values(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """Check one measurement row without pandas (append_iteration runs once per iteration).

    Accepts and refuses the same values as :func:`~rrperf.bench.results.measurements_frame`,
    with the same messages, at a fraction of the cost.
    """
    if any(c not in row for c in OPTIONAL_MEASUREMENT_COLUMNS):
        row = {**{c: None for c in OPTIONAL_MEASUREMENT_COLUMNS}, **row}
    missing = [c for c in MEASUREMENT_COLUMNS if c not in row]
    if missing:
        raise ResultsSchemaError(f"measurement row 0 is missing columns: {', '.join(missing)}")
    extra = [str(k) for k in row if k not in MEASUREMENT_DTYPES]
    if extra:
        raise ResultsSchemaError(f"measurement row 0 has unknown columns: {', '.join(extra)}")
    out = []
    for col, dtype in MEASUREMENT_DTYPES.items():
        try:
            out.append(_value(col, dtype, row.get(col)))
        except (TypeError, ValueError, OverflowError) as err:
            raise ResultsSchemaError(
                f"measurement column {col!r} cannot be read as {dtype}: {err}"
            ) from err
    return tuple(out)


def _frame_from_sql(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    import pandas as pd

    from rrperf.bench.results import empty_measurements, validate_measurements

    if not rows:
        return empty_measurements()
    frame = pd.DataFrame.from_records(rows, columns=list(MEASUREMENT_COLUMNS))
    frame["started_at"] = pd.to_datetime(frame["started_at"].astype("int64"), unit="ns", utc=True)
    frame["warmup"] = frame["warmup"].astype("int64").astype(bool)
    for col, dtype in MEASUREMENT_DTYPES.items():
        if dtype == "float64":
            frame[col] = frame[col].astype("float64")
    return validate_measurements(frame)


def _ns(value: Any) -> int:
    import pandas as pd

    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value)


class HistoryStore:
    """A SQLite file holding benchmark runs and their measurements.

    Parameters
    ----------
    path_or_url : path or str
        A file path or a ``sqlite:///path`` URL. The parent folder is created.
    timeout_s : float
        How long one attempt waits for another process's write lock (SQLite busy timeout).
    retries : int
        Further attempts, with exponential back-off, when SQLite still reports
        ``database is locked``.
    sleep : callable
        Used for the back-off waits (injectable for tests).

    Raises
    ------
    HistoryError
        When the location is not a SQLite file or URL, the file is not a SQLite database, or it
        was written by a newer rrperf.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from rrperf.bench.history import HistoryStore
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with HistoryStore(pathlib.Path(tmp) / "h.sqlite") as store:
    ...         len(store.list_runs())
    0
    """

    def __init__(
        self,
        path_or_url: str | os.PathLike[str] = DEFAULT_HISTORY_PATH,
        *,
        timeout_s: float = 30.0,
        retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not timeout_s > 0:
            raise ConfigError(f"timeout_s must be > 0, got {timeout_s!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigError(f"retries must be an int >= 0, got {retries!r}")
        self._path = _resolve_path(path_or_url)
        self._timeout_s = float(timeout_s)
        self._retries = retries
        self._sleep = sleep
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise HistoryError(
                f"cannot create the folder of history store {self._where}: {err}"
            ) from err
        self._conn = self._run(self._connect, "open")
        try:
            self._run(self._initialize, "open")
        except BaseException:
            self.close()
            raise

    # -- plumbing

    @property
    def path(self) -> Path:
        """The SQLite file."""
        return self._path

    @property
    def _where(self) -> str:
        return repr(str(self._path))

    def __repr__(self) -> str:
        state = "closed" if self._conn is None else "open"
        return f"<HistoryStore {str(self._path)!r} ({state})>"

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; further calls raise :class:`HistoryError`. Idempotent."""
        with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    def _connect(self, _: sqlite3.Connection | None) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, timeout=self._timeout_s, isolation_level=None, check_same_thread=False,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout_s * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                logger.warning("history store %s is in %s journal mode, not WAL", self._path, mode)
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _initialize(self, conn: sqlite3.Connection) -> None:
        with self._transaction(conn):
            has_meta = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()
            if has_meta:
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is not None:
                    self._check_version(row[0])
            for statement in _SCHEMA_SQL:
                conn.execute(statement)
            # Stores made before an optional contract column existed get it (missing values).
            present = {r[1] for r in conn.execute("PRAGMA table_info(measurements)")}
            for col in OPTIONAL_MEASUREMENT_COLUMNS:
                if col not in present:
                    sql_type = _SQL_TYPES[MEASUREMENT_DTYPES[col]]
                    conn.execute(f"ALTER TABLE measurements ADD COLUMN {_q(col)} {sql_type}")
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(RESULTS_SCHEMA_VERSION),),
            )

    def _check_version(self, value: str) -> None:
        try:
            version = int(value)
        except (TypeError, ValueError) as err:
            raise HistoryError(
                f"history store {self._where} has an unreadable schema_version {value!r}"
            ) from err
        if version > RESULTS_SCHEMA_VERSION:
            raise HistoryError(
                f"history store {self._where} was written by a newer rrperf (schema {version} > "
                f"{RESULTS_SCHEMA_VERSION}); upgrade rrperf to use it"
            )

    @staticmethod
    @contextlib.contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
        # IMMEDIATE takes the write lock at BEGIN, so a busy store fails fast here (and is
        # retried) rather than half-way through, and readers in WAL mode are never blocked.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def _run(self, fn: Callable[[sqlite3.Connection], T], action: str) -> T:
        """Run ``fn(connection)`` under the lock, retrying on lock contention.

        This is the one place where :mod:`sqlite3` errors become :class:`HistoryError`.
        """
        delay = 0.05
        with self._lock:
            for attempt in range(self._retries + 1):
                conn = self._conn
                if conn is None and action != "open":
                    raise HistoryError(f"history store {self._where} is closed")
                try:
                    return fn(conn)  # type: ignore[arg-type]
                except sqlite3.Error as err:
                    if _is_locked(err) and attempt < self._retries:
                        logger.warning(
                            "history store %s is locked (%s); retry %d of %d in %.2f s",
                            self._path, action, attempt + 1, self._retries, delay,
                        )
                        self._sleep(delay)
                        delay = min(delay * 2, 2.0)
                        continue
                    raise self._translate(err, action) from err
        raise AssertionError("unreachable")  # pragma: no cover

    def _translate(self, err: sqlite3.Error, action: str) -> HistoryError:
        text = str(err)
        if isinstance(err, sqlite3.DatabaseError) and "not a database" in text:
            return HistoryError(f"{self._where} is not an rrperf history store: {text}")
        if _is_locked(err):
            return HistoryError(
                f"history store {self._where} stayed locked by another process ({action}, "
                f"{self._retries + 1} attempts of {self._timeout_s:g} s): {text}"
            )
        return HistoryError(f"history store {self._where}: cannot {action}: {text}")

    def meta(self, key: str) -> str | None:
        """The value stored under ``key`` in the store's ``meta`` table (None when absent)."""
        row = self._run(lambda c: c.execute("SELECT value FROM meta WHERE key = ?", (key,))
                        .fetchone(), "read meta")
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (replacing it; ``schema_version`` is the store's own).

        Raises
        ------
        HistoryError
            For the key ``schema_version``, or when the store cannot be written.
        """
        if key == "schema_version":
            raise HistoryError("the key 'schema_version' belongs to the history store")

        def write(conn: sqlite3.Connection) -> None:
            with self._transaction(conn):
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             (key, value))

        self._run(write, "write meta")

    # -- writing

    def start_run(
        self, metadata: RunMetadata, *, name: str | None = None, baseline: str = "legacy"
    ) -> str:
        """Record a new run with status ``running``.

        Parameters
        ----------
        metadata : RunMetadata
            The run's metadata (see :func:`rrperf.bench.metadata.collect_metadata`).
        name : str, optional
            Overrides ``metadata.name``; names need not be unique.
        baseline : str
            Reference system stored with the run (used by loaded results).

        Returns
        -------
        str
            The run id.

        Raises
        ------
        HistoryError
            When the run id is already in the store.
        """
        record = metadata.to_dict()
        if name is not None:
            record["name"] = name
        self._run(lambda conn: self._insert_run(conn, record, "running", baseline), "start a run")
        logger.info("history: started run %s (%s)", metadata.run_id, record["name"])
        return metadata.run_id

    def _insert_run(
        self, conn: sqlite3.Connection, record: Mapping[str, Any], status: str, baseline: str,
        *, finished: bool = False, own_transaction: bool = True,
    ) -> None:
        def insert() -> None:
            run_id = record["run_id"]
            exists = conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if exists:
                raise HistoryError(
                    f"run {run_id!r} is already in history store {self._where}; "
                    f"delete it first with delete_run"
                )
            started = _ns(record["started_at"])
            conn.execute(
                "INSERT INTO runs (run_id, name, started_at, finished_at, status, baseline, "
                "schema_version, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id, record["name"], started, time.time_ns() if finished else None,
                    status, baseline, RESULTS_SCHEMA_VERSION,
                    json.dumps(dict(record), sort_keys=True, allow_nan=False),
                ),
            )

        if own_transaction:
            with self._transaction(conn):
                insert()
        else:
            insert()

    def _insert_rows(self, conn: sqlite3.Connection, frame: pd.DataFrame) -> None:
        qmarks = ", ".join("?" for _ in range(len(MEASUREMENT_COLUMNS) + 1))
        conn.executemany(
            f"INSERT INTO measurements ({_MEASUREMENT_COLS_SQL}, schema_version) "
            f"VALUES ({qmarks})",
            [(*row, RESULTS_SCHEMA_VERSION) for row in _sql_rows(frame)],
        )

    def append_iteration(self, run_id: str, row: Mapping[str, Any]) -> None:
        """Store one measured iteration of a running run and commit it at once.

        Parameters
        ----------
        run_id : str
            A run started with :meth:`start_run` and not finished yet.
        row : Mapping
            One measurement row (``MEASUREMENT_COLUMNS``); ``run_id`` may be left out.

        Raises
        ------
        HistoryError
            When the run is unknown or finished, or the row names another run.
        ResultsSchemaError
            When the row breaks the measurement contract.
        """
        if "run_id" in row and row["run_id"] != run_id:
            raise HistoryError(
                f"row belongs to run {row['run_id']!r}, not to run {run_id!r}"
            )
        values = _row_values({**row, "run_id": run_id})
        qmarks = ", ".join("?" for _ in range(len(values) + 1))

        def append(conn: sqlite3.Connection) -> None:
            with self._transaction(conn):
                self._require_status(conn, run_id, "running")
                conn.execute(
                    f"INSERT INTO measurements ({_MEASUREMENT_COLS_SQL}, schema_version) "
                    f"VALUES ({qmarks})",
                    (*values, RESULTS_SCHEMA_VERSION),
                )

        self._run(append, "append an iteration")

    def _require_status(self, conn: sqlite3.Connection, run_id: str, status: str) -> None:
        found = conn.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if found is None:
            raise HistoryError(f"no run {run_id!r} in history store {self._where}")
        if found[0] != status:
            raise HistoryError(f"run {run_id!r} is {found[0]}, expected it to be {status}")

    def finish_run(
        self, run_id: str, status: str = "complete", *, metadata: RunMetadata | None = None
    ) -> None:
        """Mark a running run ``complete`` or ``failed``.

        Parameters
        ----------
        run_id : str
        status : {"complete", "failed"}
        metadata : RunMetadata, optional
            The run's metadata as it stands at the end; its ``config_json`` replaces the
            stored one (the runner adds facts known only at the end, such as the load average
            at the end of the run). The other fields stay as stored by :meth:`start_run`.

        Raises
        ------
        ConfigError
            When ``status`` is not ``complete`` or ``failed``.
        HistoryError
            When the run is unknown or already finished.
        """
        if status not in ("complete", "failed"):
            raise ConfigError(f"status must be 'complete' or 'failed', got {status!r}")

        def finish(conn: sqlite3.Connection) -> None:
            with self._transaction(conn):
                self._require_status(conn, run_id, "running")
                conn.execute(
                    "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                    (status, time.time_ns(), run_id),
                )
                if metadata is not None:
                    found = conn.execute(
                        "SELECT metadata FROM runs WHERE run_id = ?", (run_id,)
                    ).fetchone()
                    record = json.loads(found[0])
                    record["config_json"] = metadata.config_json
                    conn.execute(
                        "UPDATE runs SET metadata = ? WHERE run_id = ?",
                        (json.dumps(record, sort_keys=True, allow_nan=False), run_id),
                    )

        self._run(finish, "finish a run")
        logger.info("history: run %s %s", run_id, status)

    def save_result(self, result: BenchmarkResult, *, name: str | None = None) -> list[str]:
        """Store a whole result (every run in it, status ``complete``) in one transaction.

        Runs without a metadata row are stored with unknown machine facts and the earliest
        iteration time as their start.

        Parameters
        ----------
        result : BenchmarkResult
        name : str, optional
            Name given to every stored run (overrides the metadata's ``name``).

        Returns
        -------
        list of str
            The run ids stored, in the result's order.

        Raises
        ------
        HistoryError
            When one of the runs is already in the store (nothing is stored then).
        """
        data = result.data
        records = {r["run_id"]: r for r in metadata_records(result.metadata)}
        run_ids = list(dict.fromkeys([*result.run_ids, *records]))
        plan: list[tuple[dict[str, Any], pd.DataFrame]] = []
        for run_id in run_ids:
            part = data[data["run_id"] == run_id]
            record = dict(records.get(run_id) or self._bare_record(run_id, part))
            if record["started_at"] is None and len(part):
                record["started_at"] = part["started_at"].min().isoformat()
            if record["started_at"] is None:
                raise HistoryError(f"run {run_id!r} has no start time and no measurements")
            if name is not None:
                record["name"] = name
            plan.append((record, part))

        def save(conn: sqlite3.Connection) -> None:
            with self._transaction(conn):
                for record, part in plan:
                    self._insert_run(
                        conn, record, "complete", result.baseline, finished=True,
                        own_transaction=False,
                    )
                    self._insert_rows(conn, part)

        self._run(save, "save a result")
        logger.info("history: saved %d run(s), %d rows", len(plan), len(data))
        return run_ids

    @staticmethod
    def _bare_record(run_id: str, part: pd.DataFrame) -> dict[str, Any]:
        record: dict[str, Any] = dict.fromkeys(METADATA_COLUMNS)
        record.update(
            run_id=run_id, config_json="{}", schema_version=RESULTS_SCHEMA_VERSION,
            started_at=part["started_at"].min().isoformat() if len(part) else None,
        )
        return record

    def delete_run(self, run_id: str) -> None:
        """Remove a run and its measurements.

        Raises
        ------
        HistoryError
            When there is no such run.
        """

        def delete(conn: sqlite3.Connection) -> None:
            with self._transaction(conn):
                cur = conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
                if cur.rowcount == 0:
                    raise HistoryError(f"no run {run_id!r} in history store {self._where}")

        self._run(delete, "delete a run")

    # -- reading

    def list_runs(self) -> pd.DataFrame:
        """Return one row per run, oldest first.

        Returns
        -------
        DataFrame
            ``run_id, name, started_at (UTC), status, n_rows, scenarios, systems``; the last two
            are the distinct values joined with ``", "``.
        """
        import pandas as pd

        def query(conn: sqlite3.Connection) -> tuple[list[Any], list[Any]]:
            runs = conn.execute(
                "SELECT r.run_id, r.name, r.started_at, r.status, COUNT(m.id) FROM runs r "
                "LEFT JOIN measurements m ON m.run_id = r.run_id "
                "GROUP BY r.run_id ORDER BY r.started_at, r.rowid"
            ).fetchall()
            pairs = conn.execute(
                "SELECT DISTINCT run_id, scenario, system FROM measurements"
            ).fetchall()
            return runs, pairs

        runs, pairs = self._run(query, "list runs")
        scenarios: dict[str, set[str]] = {}
        systems: dict[str, set[str]] = {}
        for run_id, scenario, system in pairs:
            scenarios.setdefault(run_id, set()).add(scenario)
            systems.setdefault(run_id, set()).add(system)
        frame = pd.DataFrame.from_records(
            [
                (*r, ", ".join(sorted(scenarios.get(r[0], ()))),
                 ", ".join(sorted(systems.get(r[0], ()))))
                for r in runs
            ],
            columns=list(LIST_RUNS_COLUMNS),
        )
        frame["started_at"] = pd.to_datetime(
            frame["started_at"].astype("int64"), unit="ns", utc=True
        ).astype("datetime64[ns, UTC]")
        return frame.astype({
            "run_id": "string", "name": "string", "status": "string", "n_rows": "int64",
            "scenarios": "string", "systems": "string",
        })

    def _find_run(self, conn: sqlite3.Connection, run_id_or_name: str) -> tuple[Any, ...]:
        cols = "run_id, baseline, metadata"
        row = conn.execute(
            f"SELECT {cols} FROM runs WHERE run_id = ?", (run_id_or_name,)
        ).fetchone()
        if row is None:
            row = conn.execute(
                f"SELECT {cols} FROM runs WHERE name = ? ORDER BY started_at DESC, rowid DESC "
                "LIMIT 1",
                (run_id_or_name,),
            ).fetchone()
        if row is None:
            names = [
                r[0] for r in conn.execute(
                    "SELECT name FROM runs WHERE name IS NOT NULL GROUP BY name "
                    "ORDER BY MAX(started_at) DESC LIMIT 6"
                )
            ]
            if names:
                shown = ", ".join(repr(n) for n in names[:5]) + (", ..." if len(names) > 5 else "")
                hint = f"known names: {shown}"
            else:
                hint = "it has no named runs (see list_runs() for run ids)"
            raise HistoryError(
                f"no run with id or name {run_id_or_name!r} in history store {self._where}; {hint}"
            )
        return tuple(row)

    def load_run(self, run_id_or_name: str) -> BenchmarkResult:
        """Load one run by id, or the latest run with that name.

        Raises
        ------
        HistoryError
            When no run has that id or name (the message lists a few known names).
        """

        def load(conn: sqlite3.Connection) -> tuple[tuple[Any, ...], list[Any]]:
            found = self._find_run(conn, run_id_or_name)
            rows = conn.execute(
                f"SELECT {_MEASUREMENT_COLS_SQL} FROM measurements WHERE run_id = ? ORDER BY id",
                (found[0],),
            ).fetchall()
            return found, rows

        (run_id, baseline, meta_json), rows = self._run(load, "load a run")
        record = json.loads(meta_json)
        return BenchmarkResult(_frame_from_sql(rows), metadata_frame([record]), baseline=baseline)

    def complete_runs(
        self, run_id_or_name: str, *, limit: int = 5
    ) -> tuple[list[BenchmarkResult], list[tuple[str, str]]]:
        """The complete runs a comparison may use as its baseline, newest last.

        A run id gives that run, which must be complete. A name gives up to ``limit`` of the
        latest complete runs of that name; runs of that name newer than the latest complete
        one (``failed``: stopped by an error or Ctrl-C; ``running``: still running or killed)
        are skipped and returned so the caller can say so.

        Returns
        -------
        (runs, skipped) : list of BenchmarkResult, list of (run_id, status)
            ``skipped`` newest first.

        Raises
        ------
        HistoryError
            When no run has that id or name, when the run named by id is not complete, or
            when no run of that name is complete.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigError(f"limit must be an integer >= 1, got {limit!r}")

        def query(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            found = conn.execute(
                "SELECT run_id, status FROM runs WHERE run_id = ?", (run_id_or_name,)
            ).fetchall()
            if found:
                return [tuple(r) for r in found]
            return [
                tuple(r) for r in conn.execute(
                    "SELECT run_id, status FROM runs WHERE name = ? "
                    "ORDER BY started_at DESC, rowid DESC",
                    (run_id_or_name,),
                )
            ]

        rows = self._run(query, "find baseline runs")
        if not rows:
            self._run(lambda conn: self._find_run(conn, run_id_or_name), "find a run")
        if len(rows) == 1 and rows[0][0] == run_id_or_name and rows[0][1] != "complete":
            raise HistoryError(
                f"run {run_id_or_name!r} is {rows[0][1]}; a failed or interrupted run is not "
                "used as a baseline"
            )
        complete = [r[0] for r in rows if r[1] == "complete"]
        if not complete:
            statuses = ", ".join(f"{rid} {st}" for rid, st in rows[:5])
            raise HistoryError(
                f"no complete run named {run_id_or_name!r} in history store {self._where} "
                f"({len(rows)} run(s): {statuses}); a failed or interrupted run is not used "
                "as a baseline"
            )
        newest = rows.index(next(r for r in rows if r[1] == "complete"))
        skipped = [(str(rid), str(st)) for rid, st in rows[:newest]]
        runs = [self.load_run(rid) for rid in reversed(complete[:limit])]
        return runs, skipped

    def load_history(
        self,
        *,
        scenario: str | Iterable[str] | None = None,
        system: str | Iterable[str] | None = None,
        strategy: str | Iterable[str] | None = None,
        cache_state: str | Iterable[str] | None = None,
    ) -> pd.DataFrame:
        """Return every stored measurement row, oldest first, optionally filtered.

        Parameters
        ----------
        scenario, system, strategy, cache_state : str or iterable of str, optional
            Keep only rows whose column equals the value (or one of the values).

        Returns
        -------
        DataFrame
            The measurement contract (columns and dtypes), ordered by ``started_at``.
        """
        clauses: list[str] = []
        params: list[Any] = []
        for col, value in (
            ("scenario", scenario), ("system", system), ("strategy", strategy),
            ("cache_state", cache_state),
        ):
            if value is None:
                continue
            values = [value] if isinstance(value, str) else list(value)
            if not values or not all(isinstance(v, str) for v in values):
                raise ConfigError(f"{col} must be a string or strings, got {value!r}")
            clauses.append(f"{_q(col)} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            f"SELECT {_MEASUREMENT_COLS_SQL} FROM measurements{where} ORDER BY started_at, id"
        )
        rows = self._run(lambda conn: conn.execute(sql, params).fetchall(), "load history")
        return _frame_from_sql(rows)

    def export_run(self, run_id_or_name: str, path: str | os.PathLike[str]) -> Path:
        """Write one run to ``.parquet`` or ``.csv`` (chosen by the suffix of ``path``).

        Raises
        ------
        ConfigError
            When the suffix is not one of ``RESULT_SUFFIXES``.
        HistoryError
            When the run is unknown.
        """
        p = Path(path)
        if p.suffix.lower() not in RESULT_SUFFIXES:
            raise ConfigError(
                f"cannot export to {str(p)!r}: expected a file name ending in "
                f"{' or '.join(RESULT_SUFFIXES)}, got {p.suffix or 'no suffix'!r}"
            )
        return self.load_run(run_id_or_name).save(p)
