"""The value object every generator run returns."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from rrperf.errors import ConfigError

__all__ = ["GenerationResult"]


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """What one generator run did.

    Attributes
    ----------
    impl : str
        ``"legacy"`` or ``"pipeline"``.
    strategy : str or None
        The pipeline strategy, ``None`` for a plain sequential run.
    n_tables : int
        Number of tables generated (after ``tables``/``exclude_tables``).
    files_total : int
        Number of generated files (3 per table + ``index.ts``).
    files_written, files_unchanged : int
        ``len(written)`` and ``len(unchanged)``.
    output_digest : str
        :func:`~rrperf.generator.digest.files_digest` of the generated content, equal to
        :func:`~rrperf.generator.digest.output_digest` of a folder holding exactly this run's
        files as written (a fresh folder, or ``force=True``).
    wall_s : float
        Seconds (``time.perf_counter``) spent generating; through
        :func:`~rrperf.generator.api.generate`, loading the schema is included, interpreter
        and import start-up are not.
    written : tuple of str
        Relative paths written (with ``dry_run``: that would be written), sorted.
    unchanged : tuple of str
        Relative paths left alone because their content had not changed, sorted.
    dry_run : bool
        Nothing was written.
    cache_hits, cache_misses : int
        Cache lookups of this run served from a cache / computed (0 without a strategy, or
        with one that caches nothing).
    """

    impl: str
    strategy: str | None
    n_tables: int
    files_total: int
    files_written: int
    files_unchanged: int
    output_digest: str
    wall_s: float
    written: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    dry_run: bool = False
    cache_hits: int = 0
    cache_misses: int = 0

    def __post_init__(self) -> None:
        if self.files_written != len(self.written):
            raise ConfigError(
                f"files_written must equal len(written), got {self.files_written} and "
                f"{len(self.written)}"
            )
        if self.files_unchanged != len(self.unchanged):
            raise ConfigError(
                f"files_unchanged must equal len(unchanged), got {self.files_unchanged} and "
                f"{len(self.unchanged)}"
            )
        if self.wall_s < 0:
            raise ConfigError(f"wall_s must be >= 0, got {self.wall_s}")
        if self.cache_hits < 0 or self.cache_misses < 0:
            raise ConfigError(
                f"cache_hits and cache_misses must be >= 0, got {self.cache_hits} and "
                f"{self.cache_misses}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (tuples become lists)."""
        # shallow: the fields are numbers, strings and tuples of strings (``asdict`` would
        # copy the 6,002 paths of a 2,000-table run one by one, ~3 ms)
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["written"] = list(self.written)
        data["unchanged"] = list(self.unchanged)
        return data
