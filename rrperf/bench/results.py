"""The measurement-table contract and the result container shared by runner, statistics and reports.

A benchmark result is two tidy tables: the measurements (one row per measured iteration, columns
``MEASUREMENT_COLUMNS`` with ``MEASUREMENT_DTYPES``) and the run metadata (one row per ``run_id``,
``METADATA_COLUMNS`` with ``METADATA_DTYPES``). :class:`BenchmarkResult` holds both, derives a
correctness table (did each variant produce the baseline's output?), delegates statistics to
:mod:`rrperf.bench.stats` and :mod:`rrperf.bench.regress`, and writes and reads CSV and Parquet
files that round-trip every dtype exactly.

Format history (``RESULTS_SCHEMA_VERSION``):

1. 2026-11-26: first version; columns as in DESIGN.md "Data contracts". Metadata adds
   ``git_dirty``, ``cpu_count_physical`` and ``started_at`` after the DESIGN.md columns.
   CSV files carry a ``<stem>.meta.json`` sidecar; Parquet files carry the same JSON in their
   schema metadata.
   2026-11-27: that JSON may hold a ``warnings`` list (records of ``WARNING_COLUMNS``, the
   warnings raised during the run); files without it read as a run without warnings, and
   readers that do not know the key ignore it, so the version stays 1.
   2026-12-02: an optional ``worker`` column (the Dask worker that measured the row, missing
   for a run on this machine; issue 13). Tables and files without it read as a local run.
   2026-12-02: an ``instructions`` column (float64: instructions counted by Valgrind's
   cachegrind with ``--metric instructions``, missing otherwise) follows ``peak_rss_mb``.
   It is optional on reading (``OPTIONAL_MEASUREMENT_COLUMNS``): tables, files and history
   stores written without it read with the column missing (NaN), so the version stays 1.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rrperf import atomic
from rrperf.bench.columns import (
    CHANGE_POINT_COLUMNS,
    COMPARISON_EXTRA_COLUMNS,
    GROUP_COLUMNS,
    SUMMARY_EXTRA_COLUMNS,
    VERDICTS,
)
from rrperf.errors import ConfigError, ResultsSchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CHANGE_POINT_COLUMNS",
    "COMPARISON_EXTRA_COLUMNS",
    "CORRECTNESS_COLUMNS",
    "GROUP_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "MEASUREMENT_DTYPES",
    "METADATA_COLUMNS",
    "METADATA_DTYPES",
    "OPTIONAL_MEASUREMENT_COLUMNS",
    "RESULTS_SCHEMA_VERSION",
    "RESULT_SUFFIXES",
    "SUMMARY_EXTRA_COLUMNS",
    "VALUE_COLUMNS",
    "VERDICTS",
    "WARNING_COLUMNS",
    "WARNING_DTYPES",
    "BenchmarkResult",
    "check_correctness",
    "empty_measurements",
    "empty_warnings",
    "measurements_frame",
    "metadata_frame",
    "metadata_records",
    "read_result",
    "sidecar_path",
    "validate_measurements",
    "validate_metadata",
    "validate_warnings",
    "warnings_frame",
]

logger = logging.getLogger(__name__)

RESULTS_SCHEMA_VERSION = 1

# Column -> pandas dtype. Order is the contract's order.
MEASUREMENT_DTYPES: dict[str, str] = {
    "run_id": "string",
    "started_at": "datetime64[ns, UTC]",
    "scenario": "string",
    "system": "string",
    "strategy": "string",
    "cache_state": "string",
    "iteration": "int64",
    "order": "int64",
    "warmup": "bool",
    "wall_s": "float64",
    "cpu_s": "float64",
    "peak_rss_mb": "float64",
    "instructions": "float64",
    "n_tables": "int64",
    "files_total": "int64",
    "files_written": "int64",
    "files_unchanged": "int64",
    "cache_hits": "int64",
    "cache_misses": "int64",
    "output_digest": "string",
    "error": "string",
    # issue 13: the Dask worker address (tcp://host:port) that ran the row's scenario;
    # missing when the run was on this machine (see OPTIONAL_MEASUREMENT_COLUMNS).
    "worker": "string",
}
MEASUREMENT_COLUMNS: tuple[str, ...] = tuple(MEASUREMENT_DTYPES)
#: Columns added after version 1 first shipped, which a measurement table or row may leave out:
#: missing ones read as missing values (tables written before the column existed read as they
#: were).
OPTIONAL_MEASUREMENT_COLUMNS: tuple[str, ...] = ("instructions", "worker")
#: Columns a benchmark can measure a variant by (``value=`` of summaries and comparisons).
VALUE_COLUMNS: tuple[str, ...] = ("wall_s", "cpu_s", "instructions")


# Metadata column -> pandas dtype; nullable dtypes where a fact can be unknown.
METADATA_DTYPES: dict[str, str] = {
    "run_id": "string",
    "name": "string",
    "rrperf_version": "string",
    "git_revision": "string",
    "python_version": "string",
    "platform": "string",
    "cpu_model": "string",
    "cpu_count": "Int64",
    "memory_total_mb": "float64",
    "config_json": "string",
    "schema_version": "int64",
    "git_dirty": "boolean",
    "cpu_count_physical": "Int64",
    "started_at": "datetime64[ns, UTC]",
}
METADATA_COLUMNS: tuple[str, ...] = tuple(METADATA_DTYPES)

# Warnings raised during a run: one row per (scenario, system, strategy, category, message);
# ``count`` is how often it was raised, ``first_iteration`` the round it was first raised in.
WARNING_DTYPES: dict[str, str] = {
    "scenario": "string",
    "system": "string",
    "strategy": "string",
    "category": "string",
    "message": "string",
    "count": "int64",
    "first_iteration": "int64",
}
WARNING_COLUMNS: tuple[str, ...] = tuple(WARNING_DTYPES)

# One row per (scenario, system, strategy) that is not the baseline system.
CORRECTNESS_COLUMNS: tuple[str, ...] = (
    "scenario", "system", "strategy", "baseline", "output_digest", "baseline_digest",
    "matches_baseline", "note",
)

RESULT_SUFFIXES: tuple[str, ...] = (".csv", ".parquet")

# Keys of the JSON stored in a CSV sidecar and in Parquet schema metadata.
_VERSION_KEY = "rrperf_results_schema_version"
_PARQUET_META_KEY = b"rrperf_results"


# ----------------------------------------------------------------------------- validation


def _coerce(column: pd.Series, col: str, dtype: str, table: str) -> Any:
    """Convert one column to its contract dtype without silent loss; returns a Series."""
    import numpy as np
    import pandas as pd

    series: Any = column  # pandas-stubs reject dtype names given as str

    if dtype.startswith("datetime64"):
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
            series.dtype
        ):
            out = pd.to_datetime(series, utc=True)
        else:
            out = pd.to_datetime(series, utc=True, format="ISO8601")
        out = out.astype(dtype)
        if table == "measurement" and out.isna().any():
            raise ValueError("it has missing values")
        return out
    if dtype == "bool":
        if pd.api.types.is_bool_dtype(series.dtype) and not series.isna().any():
            return series.astype("bool")
        bad = [v for v in series.tolist() if not isinstance(v, (bool, np.bool_))]
        if bad:
            raise ValueError(f"expected True or False, got {bad[0]!r}")
        return series.astype("bool")
    if dtype == "boolean":
        bad = [
            v for v in series.tolist()
            if not (isinstance(v, (bool, np.bool_)) or v is None or v is pd.NA
                    or (isinstance(v, float) and math.isnan(v)))
        ]
        if bad:
            raise ValueError(f"expected True, False or missing, got {bad[0]!r}")
        return series.astype("boolean")
    if dtype in ("int64", "Int64") and pd.api.types.is_float_dtype(series.dtype):
        finite = series.dropna()
        if not (finite == np.floor(finite)).all():
            first = float(finite[finite != np.floor(finite)].iloc[0])
            raise ValueError(f"expected whole numbers, got {first!r}")
    if dtype in ("int64", "Int64") and pd.api.types.is_bool_dtype(series.dtype):
        raise ValueError("expected whole numbers, got booleans")
    return series.astype(dtype)


def _validate(
    df: pd.DataFrame,
    dtypes: Mapping[str, str],
    table: str,
    optional: tuple[str, ...] = (),
) -> pd.DataFrame:
    cols = list(df.columns)
    absent = [c for c in optional if c not in cols]
    if absent:
        import numpy as np

        df = df.assign(**{c: None if dtypes[c] == "string" else np.nan for c in absent})
        cols = list(df.columns)
    missing = [c for c in dtypes if c not in cols]
    if missing:
        raise ResultsSchemaError(f"{table} table is missing columns: {', '.join(missing)}")
    extra = [str(c) for c in cols if c not in dtypes]
    if extra:
        raise ResultsSchemaError(f"{table} table has unknown columns: {', '.join(extra)}")
    out = df.loc[:, list(dtypes)].copy()
    for col, dtype in dtypes.items():
        try:
            out[col] = _coerce(out[col], col, dtype, table)
        except (TypeError, ValueError, OverflowError) as err:
            raise ResultsSchemaError(
                f"{table} column {col!r} cannot be read as {dtype}: {err}"
            ) from err
    return out.reset_index(drop=True)


def validate_measurements(df: pd.DataFrame) -> pd.DataFrame:
    """Check ``df`` against the measurement-table contract and return it with contract dtypes.

    Columns are put in contract order and converted to ``MEASUREMENT_DTYPES``; conversions that
    would lose information (``1.5`` into an integer column, ``"no"`` into a boolean one, a missing
    ``started_at``) are refused. A missing optional column (``OPTIONAL_MEASUREMENT_COLUMNS``,
    added after the first version of the contract) is added with missing values. The input is
    not modified.

    Parameters
    ----------
    df : DataFrame
        Candidate measurement table.

    Returns
    -------
    DataFrame
        A new frame with a fresh RangeIndex.

    Raises
    ------
    ResultsSchemaError
        When a column is missing or unknown, or cannot be converted to its dtype.
    """
    return _validate(df, MEASUREMENT_DTYPES, "measurement", OPTIONAL_MEASUREMENT_COLUMNS)


def validate_metadata(df: pd.DataFrame) -> pd.DataFrame:
    """Check a run-metadata table (``METADATA_COLUMNS``) and return it with contract dtypes.

    Raises
    ------
    ResultsSchemaError
        When a column is missing or unknown, a value cannot be converted, or a ``run_id`` repeats.
    """
    out = _validate(df, METADATA_DTYPES, "metadata")
    dup = out["run_id"][out["run_id"].duplicated()]
    if len(dup):
        raise ResultsSchemaError(f"metadata table repeats run_id {dup.iloc[0]!r}")
    return out


def validate_warnings(df: pd.DataFrame) -> pd.DataFrame:
    """Check a warnings table (``WARNING_COLUMNS``) and return it with contract dtypes.

    Raises
    ------
    ResultsSchemaError
        When a column is missing or unknown, a value cannot be converted, a count is below 1,
        or a (scenario, system, strategy, category, message) repeats.
    """
    out = _validate(df, WARNING_DTYPES, "warnings")
    if (out["count"] < 1).any():
        bad = int(out["count"][out["count"] < 1].iloc[0])
        raise ResultsSchemaError(f"warnings column 'count' must be >= 1, got {bad}")
    keys = ["scenario", "system", "strategy", "category", "message"]
    dup = out[out.duplicated(keys)]
    if len(dup):
        raise ResultsSchemaError(
            f"warnings table repeats {tuple(str(v) for v in dup[keys].iloc[0])!r}"
        )
    return out


def empty_warnings() -> pd.DataFrame:
    """Return a warnings table with no rows and contract dtypes."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in WARNING_DTYPES.items()})


def warnings_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a validated warnings table from records with exactly the keys ``WARNING_COLUMNS``.

    Raises
    ------
    ResultsSchemaError
        When a record lacks a column or has an unknown one, or a value has the wrong type.
    """
    frame = _frame_from_rows(records, WARNING_COLUMNS, "warnings")
    return empty_warnings() if frame is None else validate_warnings(frame)


def empty_measurements() -> pd.DataFrame:
    """Return a measurement table with no rows and contract dtypes."""
    import pandas as pd

    return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in MEASUREMENT_DTYPES.items()})


def _empty_metadata() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({c: pd.Series([], dtype=d) for c, d in METADATA_DTYPES.items()})


def _frame_from_rows(
    rows: Iterable[Mapping[str, Any]],
    columns: tuple[str, ...],
    table: str,
    optional: tuple[str, ...] = (),
) -> pd.DataFrame | None:
    import pandas as pd

    records = []
    for i, row in enumerate(rows):
        missing = [c for c in columns if c not in row and c not in optional]
        if missing:
            raise ResultsSchemaError(f"{table} row {i} is missing columns: {', '.join(missing)}")
        extra = [str(k) for k in row if k not in columns]
        if extra:
            raise ResultsSchemaError(f"{table} row {i} has unknown columns: {', '.join(extra)}")
        records.append([row.get(c) for c in columns])
    return pd.DataFrame.from_records(records, columns=list(columns)) if records else None


def measurements_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a validated measurement table from row mappings (one per iteration).

    Parameters
    ----------
    rows : iterable of Mapping
        Each mapping has the keys ``MEASUREMENT_COLUMNS`` (those of
        ``OPTIONAL_MEASUREMENT_COLUMNS`` may be left out: missing values) and no other.

    Returns
    -------
    DataFrame
        Contract columns and dtypes; :func:`empty_measurements` when ``rows`` is empty.

    Raises
    ------
    ResultsSchemaError
        When a row lacks a column or has an unknown one, or a value has the wrong type.
    """
    frame = _frame_from_rows(
        rows, MEASUREMENT_COLUMNS, "measurement", OPTIONAL_MEASUREMENT_COLUMNS
    )
    return empty_measurements() if frame is None else validate_measurements(frame)


def metadata_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a validated metadata table from JSON-style records (see :func:`metadata_records`).

    Raises
    ------
    ResultsSchemaError
        When a record lacks a column or a value has the wrong type. Unknown keys are refused too.
    """
    frame = _frame_from_rows(records, METADATA_COLUMNS, "metadata")
    return _empty_metadata() if frame is None else validate_metadata(frame)


def _json_value(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return str(value)


def metadata_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a metadata table as JSON-ready dicts (missing -> None, times as ISO 8601 text)."""
    meta = validate_metadata(df)
    return [
        {col: _json_value(value) for col, value in zip(METADATA_COLUMNS, row, strict=True)}
        for row in meta.itertuples(index=False, name=None)
    ]


# ----------------------------------------------------------------------------- correctness


def check_correctness(data: pd.DataFrame, *, baseline: str = "legacy") -> pd.DataFrame:
    """Say, per scenario and variant, whether its output digest equals the baseline system's.

    Every iteration (warm-ups included) with an output digest counts. A variant is correct
    when all its iterations produced one digest and the baseline system produced that same
    single digest for the scenario.

    Parameters
    ----------
    data : DataFrame
        Measurement table.
    baseline : str
        The reference system (default ``"legacy"``), or one variant ``system/strategy``.

    Returns
    -------
    DataFrame
        ``CORRECTNESS_COLUMNS``, one row per (scenario, system, strategy) whose system is not
        ``baseline``, sorted. ``matches_baseline`` is nullable: missing when there is no single
        baseline digest to compare with; ``note`` says why a variant does not match.
    """
    import pandas as pd

    data = validate_measurements(data)
    rows: list[dict[str, Any]] = []
    base_digests: dict[Any, list[str]] = {}
    scenario: Any
    b_system, _, b_strategy = baseline.partition("/")
    is_base = data["system"] == b_system
    if b_strategy:
        is_base &= data["strategy"] == b_strategy
    is_base = is_base.fillna(False).astype(bool)
    for scenario, part in data[is_base].groupby("scenario", dropna=False):
        base_digests[scenario] = sorted(set(part["output_digest"].dropna()))
    variants = data[~is_base]
    keys = ["scenario", "system", "strategy"]
    key: Any
    for key, part in variants.groupby(keys, dropna=False, sort=True):
        scenario, system, strategy = key
        digests = sorted(set(part["output_digest"].dropna()))
        base = base_digests.get(scenario, [])
        out_digest = digests[0] if len(digests) == 1 else None
        base_digest = base[0] if len(base) == 1 else None
        matches: bool | None
        note: str | None = None
        if not base:
            matches, note = None, f"baseline {baseline!r} has no output digest for this scenario"
        elif len(base) > 1:
            matches = None
            note = f"baseline {baseline!r} output differs between iterations ({len(base)} digests)"
        elif not digests:
            matches, note = False, "no output digest (every iteration failed)"
        elif len(digests) > 1:
            matches, note = False, f"output differs between iterations ({len(digests)} digests)"
        elif out_digest == base_digest:
            matches = True
        else:
            matches, note = False, "output differs from the baseline"
        rows.append({
            "scenario": scenario, "system": system, "strategy": strategy, "baseline": baseline,
            "output_digest": out_digest, "baseline_digest": base_digest,
            "matches_baseline": matches, "note": note,
        })
    dtypes = {
        "scenario": "string", "system": "string", "strategy": "string", "baseline": "string",
        "output_digest": "string", "baseline_digest": "string", "matches_baseline": "boolean",
        "note": "string",
    }
    frame = pd.DataFrame.from_records(rows, columns=list(CORRECTNESS_COLUMNS))
    return frame.astype(dtypes).reset_index(drop=True)


# ----------------------------------------------------------------------------- files


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """Return the metadata sidecar of a CSV file: ``results.csv`` -> ``results.meta.json``."""
    p = Path(path)
    return p.with_name(f"{p.stem}.meta.json")


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in RESULT_SUFFIXES:
        raise ConfigError(
            f"cannot tell the results format of {str(path)!r}: expected a file name ending in "
            f"{' or '.join(RESULT_SUFFIXES)}, got {suffix or 'no suffix'!r}"
        )
    return suffix


def _check_version(version: Any, path: Path) -> None:
    if isinstance(version, bool) or not isinstance(version, int):
        raise ResultsSchemaError(
            f"{str(path)!r} is not an rrperf results file: no valid {_VERSION_KEY} "
            f"(got {version!r})"
        )
    if version > RESULTS_SCHEMA_VERSION:
        raise ResultsSchemaError(
            f"{str(path)!r} was written by a newer rrperf (schema {version} > "
            f"{RESULTS_SCHEMA_VERSION}); upgrade rrperf to read it"
        )


_STRING_COLUMNS: tuple[str, ...] = tuple(c for c, d in MEASUREMENT_DTYPES.items() if d == "string")
_FLOAT_COLUMNS: tuple[str, ...] = tuple(c for c, d in MEASUREMENT_DTYPES.items() if d == "float64")


def _csv_text(data: pd.DataFrame) -> tuple[bytes, str]:
    """Render the CSV; returns its bytes and the marker used for missing text values.

    CSV readers cannot tell an empty field from an empty string, and ``""`` is a real value
    (the runner's strategy of a system without strategies), so missing text is written as
    ``\\N`` (PostgreSQL's COPY convention), lengthened until no cell equals it. Missing
    floats are empty fields. Floats use repr, the shortest text that reads back exactly.
    """
    out = data.copy()
    marker = "\\N"
    cells = {v for c in _STRING_COLUMNS for v in data[c].dropna().tolist()}
    while marker in cells:
        marker += "N"
    for col in _STRING_COLUMNS:
        out[col] = data[col].astype(object).where(data[col].notna(), marker)
    # ISO 8601 with nanoseconds and an explicit offset: read back exactly by pd.to_datetime.
    out["started_at"] = data["started_at"].map(lambda t: t.isoformat())
    text: str = out.to_csv(index=False, na_rep="", lineterminator="\n")
    return text.encode("utf-8"), marker


def _read_csv(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pandas as pd

    side = sidecar_path(path)
    try:
        sidecar = json.loads(side.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ResultsSchemaError(
            f"{str(path)!r} has no metadata sidecar {side.name!r}; CSV results are written "
            f"by BenchmarkResult.to_csv together with that file"
        ) from err
    except (OSError, ValueError) as err:
        raise ResultsSchemaError(f"cannot read the metadata sidecar {str(side)!r}: {err}") from err
    if not isinstance(sidecar, dict):
        raise ResultsSchemaError(f"{str(side)!r} is not an rrperf metadata sidecar")
    _check_version(sidecar.get(_VERSION_KEY), side)
    try:
        payload = path.read_bytes()
    except OSError as err:
        raise ResultsSchemaError(f"cannot read results file {str(path)!r}: {err}") from err
    if hashlib.sha256(payload).hexdigest() != sidecar.get("data_sha256"):
        raise ResultsSchemaError(
            f"{str(path)!r} does not match its sidecar {side.name!r} (the CSV was changed or "
            f"only one of the two files was replaced); write both again with to_csv"
        )
    import io

    dtypes = {c: d for c, d in MEASUREMENT_DTYPES.items() if not d.startswith("datetime64")}
    dtypes["started_at"] = "string"
    marker = sidecar.get("na_rep", "\\N")
    if not isinstance(marker, str) or not marker:
        raise ResultsSchemaError(f"{str(side)!r} has an invalid na_rep {marker!r}")
    # pandas 3 parses floats exactly by default (and deprecates the option); pandas 2 needs
    # float_precision="round_trip" to read back repr() text bit for bit.
    exact: dict[str, Any] = {}
    if int(pd.__version__.split(".")[0]) < 3:
        exact["float_precision"] = "round_trip"
    try:
        frame = pd.read_csv(
            io.BytesIO(payload), dtype=dtypes, keep_default_na=False,
            na_values={c: [marker] for c in _STRING_COLUMNS} | {c: [""] for c in _FLOAT_COLUMNS},
            encoding="utf-8", **exact,
        )
    except (ValueError, TypeError) as err:
        raise ResultsSchemaError(f"cannot read results file {str(path)!r}: {err}") from err
    return frame, sidecar


def _read_parquet(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except FileNotFoundError as err:
        raise ResultsSchemaError(f"no results file at {str(path)!r}") from err
    except (OSError, pa.ArrowException) as err:
        raise ResultsSchemaError(f"cannot read results file {str(path)!r}: {err}") from err
    raw = (table.schema.metadata or {}).get(_PARQUET_META_KEY)
    try:
        info = json.loads(raw) if raw is not None else {}
    except ValueError as err:
        raise ResultsSchemaError(f"{str(path)!r} has unreadable rrperf metadata: {err}") from err
    if not isinstance(info, dict):
        info = {}
    _check_version(info.get(_VERSION_KEY), path)
    return table.to_pandas(), info


def read_result(path: str | os.PathLike[str]) -> BenchmarkResult:
    """Read a result written by :meth:`BenchmarkResult.to_csv` or ``to_parquet``.

    Parameters
    ----------
    path : path
        A ``.csv`` file (with its ``.meta.json`` sidecar) or a ``.parquet`` file.

    Returns
    -------
    BenchmarkResult
        Measurements and metadata with exactly the dtypes they were written with.

    Raises
    ------
    ConfigError
        When the suffix is neither ``.csv`` nor ``.parquet``.
    ResultsSchemaError
        When the file is missing, unreadable, not an rrperf result, written by a newer rrperf,
        or breaks the contract.
    """
    p = Path(path)
    suffix = _check_suffix(p)
    if suffix == ".csv":
        if not p.exists():
            raise ResultsSchemaError(f"no results file at {str(p)!r}")
        frame, info = _read_csv(p)
    else:
        frame, info = _read_parquet(p)
    records = info.get("metadata", [])
    baseline = info.get("baseline", "legacy")
    # Files written before warnings were recorded have no "warnings" key.
    caught = info.get("warnings", [])
    if (
        not isinstance(records, list) or not isinstance(baseline, str)
        or not isinstance(caught, list) or not all(isinstance(r, dict) for r in caught)
    ):
        raise ResultsSchemaError(f"{str(p)!r} has malformed rrperf metadata")
    return BenchmarkResult(
        frame, metadata_frame(records), baseline=baseline, warnings=warnings_frame(caught)
    )


# ----------------------------------------------------------------------------- result


class BenchmarkResult:
    """Measurements and run metadata of one or more benchmark runs.

    Parameters
    ----------
    data : DataFrame
        Measurement table; validated with :func:`validate_measurements` (and copied).
    metadata : DataFrame, optional
        Run metadata keyed by ``run_id`` (``METADATA_COLUMNS``); empty when omitted.
    baseline : str
        The reference system for :attr:`correctness` and the default of :meth:`compare`.
    warnings : DataFrame, optional
        The warnings raised during the run (``WARNING_COLUMNS``, see :attr:`warnings`); empty
        when omitted.

    Notes
    -----
    The object never changes after construction: :attr:`data`, :attr:`metadata` and
    :meth:`to_frame` return copies. Correctness is derived from the output digests on demand
    (see :func:`check_correctness`), so it can never disagree with the measurements.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        metadata: pd.DataFrame | None = None,
        *,
        baseline: str = "legacy",
        warnings: pd.DataFrame | None = None,
    ) -> None:
        if not isinstance(baseline, str) or not baseline:
            raise ConfigError(f"baseline must be a non-empty system name, got {baseline!r}")
        self._data = validate_measurements(data)
        self._metadata = _empty_metadata() if metadata is None else validate_metadata(metadata)
        self._baseline = baseline
        self._warnings = empty_warnings() if warnings is None else validate_warnings(warnings)

    # -- tables

    @property
    def data(self) -> pd.DataFrame:
        """The measurement table (a copy)."""
        return self._data.copy()

    @property
    def metadata(self) -> pd.DataFrame:
        """The run-metadata table, one row per ``run_id`` (a copy)."""
        return self._metadata.copy()

    @property
    def warnings(self) -> pd.DataFrame:
        """The warnings raised while the iterations ran (a copy).

        One row per scenario, system, strategy, warning category (class name) and message,
        with ``count`` (times raised, warm-ups included) and ``first_iteration`` (the round
        it was first raised in); see :mod:`rrperf.bench.runner`.
        """
        return self._warnings.copy()

    @property
    def value(self) -> str:
        """The column the run was measured by: ``instructions`` when any row has a count
        (a ``--metric instructions`` run), else ``wall_s``. :meth:`summary`, :meth:`compare`
        and :meth:`stability` use it unless given ``value=``."""
        return "instructions" if self._data["instructions"].notna().any() else "wall_s"

    @property
    def baseline(self) -> str:
        """The reference system used by :attr:`correctness`."""
        return self._baseline

    @property
    def run_ids(self) -> list[str]:
        """Distinct run ids of the measurements, in first-seen order."""
        return [str(r) for r in self._data["run_id"].dropna().unique()]

    @property
    def correctness(self) -> pd.DataFrame:
        """Per scenario and variant, whether the output matched :attr:`baseline` (see
        :func:`check_correctness`)."""
        return check_correctness(self._data, baseline=self._baseline)

    def to_frame(self) -> pd.DataFrame:
        """Return the measurement table (a copy), the tidy form every plot helper takes."""
        return self.data

    # -- statistics (rrperf.bench.stats, imported on use)

    def summary(
        self,
        value: str | None = None,
        by: Sequence[str] | None = None,
        confidence: float = 0.95,
        method: str = "t",
        *,
        center: str = "mean",
        seed: int = 0,
        n_resamples: int = 9999,
    ) -> pd.DataFrame:
        """Summarize each group with :func:`rrperf.bench.stats.summarize`, whose parameters
        these are; ``value`` None means :attr:`value`."""
        from rrperf.bench import stats

        return stats.summarize(
            self._data, value=value or self.value, by=by, confidence=confidence, method=method,
            center=center, seed=seed, n_resamples=n_resamples,
        )

    def compare(self, baseline: str | None = None, **kws: Any) -> pd.DataFrame:
        """Compare each variant with ``baseline`` via :func:`rrperf.bench.regress.compare`.

        Variants whose output differs from the baseline's (``matches_baseline`` is False in
        :func:`check_correctness`) are dropped before comparing: a speed-up that produces other
        files is not a speed-up. They are listed, with the reason, in :attr:`correctness` and
        logged at WARNING level. Variants whose correctness is unknown stay in.

        Parameters
        ----------
        baseline : str, optional
            Reference system; defaults to :attr:`baseline`.
        **kws
            Passed to :func:`rrperf.bench.regress.compare` (``value``, ``by``, ``confidence``...);
            ``value`` defaults to :attr:`value`.
        """
        from rrperf.bench.regress import compare

        if self.value != "wall_s":  # the statistics' own default is wall_s
            kws.setdefault("value", self.value)
        base = self._baseline if baseline is None else baseline
        corr = check_correctness(self._data, baseline=base)
        wrong = corr[corr["matches_baseline"].eq(False).fillna(False).astype(bool)]
        data = self._data
        if len(wrong):
            keys = ["scenario", "system", "strategy"]
            bad = set(wrong[keys].itertuples(index=False, name=None))
            mask = [k in bad for k in data[keys].itertuples(index=False, name=None)]
            import numpy as np

            data = data[~np.asarray(mask, dtype=bool)].reset_index(drop=True)
            for row in wrong.itertuples(index=False):
                logger.warning(
                    "left out of the comparison: %s / %s / %s: %s",
                    row.scenario, row.system, row.strategy, row.note,
                )
        return compare(data, baseline=base, **kws)

    def stability(
        self,
        value: str | None = None,
        by: Sequence[str] | None = None,
        *,
        cv_threshold: float = 0.10,
        precision: float = 0.05,
        timer_resolution_s: float | None = None,
    ) -> pd.DataFrame:
        """Stability checks of each group with :func:`rrperf.bench.stats.stability_warnings`,
        whose parameters these are; ``value`` None means :attr:`value`."""
        from rrperf.bench import stats

        return stats.stability_warnings(
            self._data, value=value or self.value, by=by, cv_threshold=cv_threshold,
            precision=precision, timer_resolution_s=timer_resolution_s,
        )

    # -- files

    def _info(self) -> dict[str, Any]:
        return {
            _VERSION_KEY: RESULTS_SCHEMA_VERSION,
            "baseline": self._baseline,
            "metadata": metadata_records(self._metadata),
            "warnings": [
                {c: _json_value(v) for c, v in zip(WARNING_COLUMNS, row, strict=True)}
                for row in self._warnings.itertuples(index=False, name=None)
            ],
        }

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the measurements to ``path`` and the metadata to its ``.meta.json`` sidecar.

        Both files are written atomically. The sidecar holds the schema version, the baseline,
        the metadata records, the :attr:`warnings` records and a SHA-256 of the CSV, so a CSV
        edited by hand or paired with another run's sidecar is refused on reading. Missing text
        is written as ``\\N`` (see the sidecar's ``na_rep``), so empty strings and missing
        values both round-trip.

        Returns
        -------
        Path
            The CSV path.

        Raises
        ------
        ConfigError
            When ``path`` does not end in ``.csv``.
        """
        p = Path(path)
        if _check_suffix(p) != ".csv":
            raise ConfigError(f"to_csv needs a path ending in .csv, got {str(p)!r}")
        payload, marker = _csv_text(self._data)
        info = {
            **self._info(), "data_sha256": hashlib.sha256(payload).hexdigest(), "na_rep": marker,
        }
        atomic.write_with(p, lambda tmp: tmp.write_bytes(payload), fsync=True)
        side = json.dumps(info, indent=2, sort_keys=True, allow_nan=False) + "\n"
        atomic.write_with(sidecar_path(p), lambda tmp: tmp.write_bytes(side.encode()), fsync=True)
        logger.info("wrote %d measurement rows to %s", len(self._data), p)
        return p

    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write measurements to a Parquet file, with the run metadata and the :attr:`warnings`
        records as JSON in its schema metadata (atomic).

        Returns
        -------
        Path
            The Parquet path.

        Raises
        ------
        ConfigError
            When ``path`` does not end in ``.parquet``.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        p = Path(path)
        if _check_suffix(p) != ".parquet":
            raise ConfigError(f"to_parquet needs a path ending in .parquet, got {str(p)!r}")
        table = pa.Table.from_pandas(self._data, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[_PARQUET_META_KEY] = json.dumps(self._info(), sort_keys=True).encode("utf-8")
        table = table.replace_schema_metadata(meta)
        atomic.write_with(p, lambda tmp: pq.write_table(table, tmp), fsync=True)
        logger.info("wrote %d measurement rows to %s", len(self._data), p)
        return p

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``.csv`` or ``.parquet`` according to the suffix of ``path``."""
        p = Path(path)
        return self.to_csv(p) if _check_suffix(p) == ".csv" else self.to_parquet(p)

    # -- display

    def _overview(self) -> pd.DataFrame:
        measured = self._data[~self._data["warmup"]]
        grouped = measured.groupby(list(GROUP_COLUMNS), dropna=False, sort=True)
        out = grouped.agg(
            n=("wall_s", "size"),
            median_wall_s=("wall_s", "median"),
            min_wall_s=("wall_s", "min"),
            max_wall_s=("wall_s", "max"),
            errors=("error", "count"),
        )
        return out.reset_index()

    def __repr__(self) -> str:
        d = self._data
        return (
            f"<BenchmarkResult runs={d['run_id'].nunique()} rows={len(d)} "
            f"scenarios={d['scenario'].nunique()} systems={d['system'].nunique()} "
            f"baseline={self._baseline!r}>"
        )

    def _repr_html_(self) -> str:
        import pandas as pd

        esc = html.escape
        d = self._data
        names = {
            str(rid): str(name)
            for rid, name in zip(self._metadata["run_id"], self._metadata["name"], strict=True)
            if not pd.isna(name)
        }
        runs = ", ".join(
            f"<code>{esc(rid)}</code>" + (f" ({esc(names[rid])})" if names.get(rid) else "")
            for rid in self.run_ids
        )
        parts = [
            '<div class="rrperf-result">',
            f"<p><strong>BenchmarkResult</strong>: {len(d)} rows "
            f"({int(d['warmup'].sum())} warm-up), baseline <code>{esc(self._baseline)}</code>"
            + (f"; runs: {runs}" if runs else "") + "</p>",
            self._overview().to_html(
                index=False, escape=True, na_rep="", float_format=lambda v: f"{v:.4g}",
                border=0, classes="rrperf-summary",
            ),
        ]
        corr = self.correctness
        flagged = corr[corr["note"].notna()]
        if len(flagged):
            items = "".join(
                f"<li>{esc(str(r.scenario))} / {esc(str(r.system))} / {esc(str(r.strategy))}: "
                f"{esc(str(r.note))}</li>"
                for r in flagged.astype(object).itertuples(index=False)
            )
            parts.append(f"<p>Correctness notes:</p><ul>{items}</ul>")
        if len(self._warnings):
            totals: dict[tuple[str, str], int] = {}
            for category, message, count in self._warnings[
                ["category", "message", "count"]
            ].itertuples(index=False, name=None):
                key = (str(category), str(message))
                totals[key] = totals.get(key, 0) + int(count)
            items = "".join(
                f"<li>{esc(category)} (×{count}): {esc(message)}</li>"
                for (category, message), count in totals.items()
            )
            parts.append(
                f"<p>Warnings during the run (<code>.warnings</code>):</p><ul>{items}</ul>"
            )
        parts.append("</div>")
        return "\n".join(parts)
