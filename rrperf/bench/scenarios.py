"""Benchmark scenarios: map a scenario argument to the schema source the generator reads.

Resolution is :func:`rrperf.schema.scenarios.resolve_scenario`, the one resolver every command
uses; a scenario argument may be

- a scenario listed by ``rrperf scenarios`` (``small``, ``medium``, ``large``,
  ``polymorphic_heavy``, and the real-world dumps shipped with rrperf: ``campfire``,
  ``rubygems``, ``coursemology``),
- ``synthetic:N[:key=value...]``: a generated schema with ``N`` tables (see
  :class:`rrperf.schema.synthetic.SyntheticSpec`),
- any existing schema path (a ``schema.rb``, a SQLite file or a Rails app folder), labelled by
  its file stem, or a database URL (``scheme://...``), labelled with its password hidden.

Resolution never runs the generator; it only checks that the name means something, so a typo
fails before any measurement starts, with the list of valid names.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rrperf import atomic
from rrperf._util import is_int
from rrperf.errors import BenchmarkError, ConfigError, SchemaSourceError

__all__ = [
    "BenchScenario",
    "available_scenarios",
    "resolve_scenario",
    "resolve_scenarios",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchScenario:
    """A resolved scenario: its label and the source the generator reads.

    Parameters
    ----------
    name : str
        The scenario's label, the ``scenario`` column of the measurement table (the name as
        given, or a path's file stem; see :func:`resolve_scenario`).
    source : str
        What :func:`rrperf.generator.api.generate` and :func:`rrperf.schema.sources.load_schema`
        accept: a file path, a database URL or ``synthetic:N``.
    description : str
        One line for reports.
    schema_path : str or None
        A ``schema.rb`` file holding the schema, when there is one on disk.
    synthetic_size : int or None
        Number of tables of a synthetic scenario (its ``schema.rb`` is rendered on demand).

    Raises
    ------
    ConfigError
        If ``name`` or ``source`` is empty or ``synthetic_size`` is not a positive integer.
    """

    name: str
    source: str
    description: str = ""
    schema_path: str | None = None
    synthetic_size: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"scenario name: expected a non-empty string, got {self.name!r}")
        if not isinstance(self.source, str) or not self.source:
            raise ConfigError(f"scenario source: expected a non-empty string, got {self.source!r}")
        size = self.synthetic_size
        if size is not None and not (is_int(size) and size > 0):
            raise ConfigError(
                f"scenario synthetic_size: expected a positive integer, got {size!r}"
            )

    def schema_rb(self, work_dir: str | os.PathLike[str]) -> Path:
        """Return a ``schema.rb`` file for this scenario (for commands taking ``{schema}``).

        Synthetic scenarios are rendered once into ``work_dir`` and reused.

        Parameters
        ----------
        work_dir : path-like
            Folder where a rendered ``schema.rb`` may be written.

        Returns
        -------
        pathlib.Path

        Raises
        ------
        BenchmarkError
            If the scenario is a database (no ``schema.rb`` exists for it).
        """
        if self.schema_path is not None:
            return Path(self.schema_path)
        if self.synthetic_size is not None:
            from rrperf.schema.synthetic import SyntheticSpec

            spec = SyntheticSpec.parse(self.source)
            target = Path(work_dir) / _file_name(spec.canonical) / "schema.rb"
            if not target.is_file():
                atomic.write_text(target, spec.render())
            return target
        raise BenchmarkError(
            f"scenario {self.name!r} reads {self.source!r}, which is not a schema.rb file; "
            "a command using {schema} needs a schema.rb scenario"
        )


def _file_name(text: str) -> str:
    """A folder name for ``text`` (a synthetic spec): readable prefix and a short hash."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    return f"{re.sub(r'[^A-Za-z0-9]+', '-', text)[:40].strip('-')}-{digest}"


def _builtin_names() -> list[str]:
    from rrperf.schema.scenarios import SCENARIOS

    return list(SCENARIOS)


def available_scenarios() -> list[str]:
    """Names accepted by :func:`resolve_scenario`, besides ``synthetic:N``, paths and URLs.

    Returns
    -------
    list of str
        The scenarios ``rrperf scenarios`` lists, in its order.
    """
    return _builtin_names()


def resolve_scenario(name: str) -> BenchScenario:
    """Resolve a scenario name, ``synthetic:N``, path or URL (see the module docstring).

    Parameters
    ----------
    name : str
        The scenario argument.

    Returns
    -------
    BenchScenario
        ``name`` is the scenario's label: the name as given, a path's file stem, a URL with
        its password hidden.

    Raises
    ------
    BenchmarkError
        If ``name`` is none of the accepted forms; the message lists the valid names.
    """
    from rrperf.schema.scenarios import resolve_scenario as resolve

    try:
        found = resolve(name)
    except SchemaSourceError as err:
        raise BenchmarkError(str(err)) from (err.__cause__ or err)
    return BenchScenario(
        name=found.label,
        source=found.source,
        description=found.description,
        schema_path=None if found.schema_rb is None else str(found.schema_rb),
        synthetic_size=found.synthetic_size,
    )


def resolve_scenarios(names: Iterable[str]) -> list[BenchScenario]:
    """Resolve several scenario arguments; two that get the same label are an error.

    Raises
    ------
    BenchmarkError
        On an unknown scenario, or when two arguments share a label (``a/schema.rb`` and
        ``b/schema.rb`` are both ``schema``): their measurements could not be told apart.
    """
    out: list[BenchScenario] = []
    given: dict[str, str] = {}
    for name in names:
        sc = resolve_scenario(name)
        if sc.name in given:
            raise BenchmarkError(
                f"scenarios {given[sc.name]!r} and {name!r} both have the label {sc.name!r}; "
                "give one of them under another file name"
            )
        given[sc.name] = name
        out.append(sc)
    return out
