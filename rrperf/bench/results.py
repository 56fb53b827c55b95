"""The measurement-table contract shared by the runner, statistics, history and reports.

Format history (``RESULTS_SCHEMA_VERSION``):

1. 2026-11-26: first version; columns as in DESIGN.md "Data contracts".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rrperf.errors import ResultsSchemaError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CHANGE_POINT_COLUMNS",
    "COMPARISON_EXTRA_COLUMNS",
    "GROUP_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "MEASUREMENT_DTYPES",
    "METADATA_COLUMNS",
    "RESULTS_SCHEMA_VERSION",
    "SUMMARY_EXTRA_COLUMNS",
    "VERDICTS",
    "validate_measurements",
]

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
    "n_tables": "int64",
    "files_total": "int64",
    "files_written": "int64",
    "files_unchanged": "int64",
    "cache_hits": "int64",
    "cache_misses": "int64",
    "output_digest": "string",
    "error": "string",
}
MEASUREMENT_COLUMNS: tuple[str, ...] = tuple(MEASUREMENT_DTYPES)

# A group is one (scenario, system, strategy, cache state).
GROUP_COLUMNS: tuple[str, ...] = ("scenario", "system", "strategy", "cache_state")

SUMMARY_EXTRA_COLUMNS: tuple[str, ...] = (
    "n", "mean", "median", "std", "cv", "ci_low", "ci_high", "ci_method", "outliers",
)
COMPARISON_EXTRA_COLUMNS: tuple[str, ...] = (
    "baseline", "ratio", "ratio_ci_low", "ratio_ci_high", "p_value", "test", "verdict",
)
CHANGE_POINT_COLUMNS: tuple[str, ...] = ("position", "run_id", "before", "after", "change")
VERDICTS: tuple[str, ...] = ("faster", "slower", "equivalent", "inconclusive")

METADATA_COLUMNS: tuple[str, ...] = (
    "run_id", "name", "rrperf_version", "git_revision", "python_version", "platform",
    "cpu_model", "cpu_count", "memory_total_mb", "config_json", "schema_version",
)


def validate_measurements(df: pd.DataFrame) -> pd.DataFrame:
    """Check ``df`` against the measurement-table contract and return it with contract dtypes.

    Raises
    ------
    ResultsSchemaError
        When a column is missing, extra, out of order or cannot be converted.
    """
    cols = list(df.columns)
    missing = [c for c in MEASUREMENT_COLUMNS if c not in cols]
    if missing:
        raise ResultsSchemaError(f"measurement table is missing columns: {', '.join(missing)}")
    extra = [c for c in cols if c not in MEASUREMENT_DTYPES]
    if extra:
        raise ResultsSchemaError(f"measurement table has unknown columns: {', '.join(extra)}")
    out = df.loc[:, list(MEASUREMENT_COLUMNS)].copy()
    for col, dtype in MEASUREMENT_DTYPES.items():
        try:
            if dtype.startswith("datetime64"):
                import pandas as pd

                out[col] = pd.to_datetime(out[col], utc=True).astype(dtype)
            else:
                out[col] = out[col].astype(dtype)
        except (TypeError, ValueError) as err:
            raise ResultsSchemaError(
                f"measurement column {col!r} cannot be read as {dtype}: {err}"
            ) from err
    return out.reset_index(drop=True)
