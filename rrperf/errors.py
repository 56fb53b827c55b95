"""Every exception and warning rrperf raises.

The tree (one root, so ``except RrperfError`` catches everything rrperf means to raise)::

    RrperfError
    ├── ConfigError(RrperfError, ValueError)      bad option, unknown config key, bad value
    ├── SchemaSourceError                         a schema source cannot be read or introspected
    │   └── SchemaParseError                      malformed schema.rb (file, line, column)
    ├── GenerationError                           the generator cannot produce the output
    │   ├── UnsafePathError                       a generated path would leave the output folder
    │   ├── StageError                            a pipeline stage failed (stage, cause)
    │   └── StageTimeout                          a pipeline stage ran past its timeout
    ├── CacheError                                the cache cannot be used (diskcache/sqlite)
    ├── BenchmarkError                            a benchmark cannot run (psutil, bad scenario...)
    ├── ResultsSchemaError                        a results table breaks the data contract
    ├── HistoryError                              the history store cannot be used
    ├── ReportError                               a report or notebook failed
    ├── ClusterError                              a Dask cluster cannot be reached or started
    └── MissingDependencyError(RrperfError, ImportError)

    RrperfWarning(UserWarning)
    ├── SchemaWarning                             a schema statement was skipped or a type unknown
    ├── FallbackWarning                           degraded operation (parallel -> serial, cache off)
    └── StabilityWarning                          measurements are too noisy or too short

Every exception pickles (they cross process boundaries in the executor): exceptions whose
``__init__`` arguments differ from ``args`` implement ``__reduce__``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: a warm command imports no typing (rrperf.cli._warm)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "BenchmarkError",
    "CacheError",
    "ClusterError",
    "ConfigError",
    "FallbackWarning",
    "GenerationError",
    "HistoryError",
    "MissingDependencyError",
    "ReportError",
    "ResultsSchemaError",
    "RrperfError",
    "RrperfWarning",
    "SchemaParseError",
    "SchemaSourceError",
    "SchemaWarning",
    "StabilityWarning",
    "StageError",
    "StageTimeout",
    "UnsafePathError",
]


class RrperfError(Exception):
    """Root of every error rrperf raises on purpose."""


class ConfigError(RrperfError, ValueError):
    """An option, a configuration file key or a value is invalid."""


class SchemaSourceError(RrperfError):
    """A schema source cannot be read, found or introspected."""


class SchemaParseError(SchemaSourceError):
    """A ``schema.rb`` file is malformed.

    Parameters
    ----------
    message : str
        What was expected and what was found.
    path : str or None
        The file, when known.
    line, column : int
        1-based position of the offending token.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int = 0, column: int = 0):
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        where = f"{path or '<string>'}:{line}:{column}"
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_parse_error, (self.message, self.path, self.line, self.column))


def _rebuild_parse_error(
    message: str, path: str | None, line: int, column: int
) -> SchemaParseError:
    return SchemaParseError(message, path=path, line=line, column=column)


class GenerationError(RrperfError):
    """The generator cannot produce its output."""


class UnsafePathError(GenerationError):
    """A generated file path would leave the output folder."""


class StageError(GenerationError):
    """A pipeline stage failed; ``__cause__`` holds the original exception.

    Parameters
    ----------
    stage : str
        Name of the stage that failed.
    message : str
        Short description (usually the original exception's text).
    """

    def __init__(self, stage: str, message: str = ""):
        self.stage = stage
        self.message = message
        text = f"stage {stage!r} failed"
        super().__init__(f"{text}: {message}" if message else text)

    @classmethod
    def _during(cls, stage: str, err: BaseException) -> StageError:
        return cls(stage, f"{type(err).__name__}: {err}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.stage, self.message))


class StageTimeout(StageError):
    """A pipeline stage ran longer than its timeout."""


class CacheError(RrperfError):
    """The cache cannot be used."""


class BenchmarkError(RrperfError):
    """A benchmark cannot be run or measured."""


class ResultsSchemaError(RrperfError):
    """A results table does not follow the measurement-table contract."""


class HistoryError(RrperfError):
    """The benchmark history store cannot be opened, read or written."""


class ReportError(RrperfError):
    """A report, chart or notebook could not be produced."""


class ClusterError(RrperfError):
    """A Dask cluster cannot be reached or started (the message names the address)."""


class MissingDependencyError(RrperfError, ImportError):
    """An optional package is needed for this function and is not installed."""


class RrperfWarning(UserWarning):
    """Root of rrperf's warnings."""


class SchemaWarning(RrperfWarning):
    """A schema statement was skipped, or a column type has no TypeScript mapping."""


class FallbackWarning(RrperfWarning):
    """rrperf fell back to a degraded mode (serial execution, cache disabled...)."""


class StabilityWarning(RrperfWarning):
    """Measurements are too noisy, too few or too short to be trusted."""
