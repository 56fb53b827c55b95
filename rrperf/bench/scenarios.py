"""Benchmark scenarios: map a scenario name to the schema source the generator reads.

A scenario name given to the runner may be

- a built-in scenario of :mod:`rrperf.schema.scenarios` (``small``, ``medium``, ``large``,
  ``polymorphic_heavy`` ...),
- ``synthetic:N[:key=value...]``: a generated schema with ``N`` tables (see
  :class:`rrperf.schema.synthetic.SyntheticSpec`),
- an alias of a real-world schema (``campfire``, ``rubygems``, ``coursemology``), offered only
  when the folder holding those schemas exists: ``$RRPERF_SCHEMAS_DIR``, else
  ``../shared/data/schemas`` next to the repository checkout,
- any existing schema path (a ``schema.rb`` or a SQLite file) or a database URL (``scheme://...``).

Resolution never runs the generator; it only checks that the name means something, so a typo
fails before any measurement starts, with the list of valid names.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rrperf.errors import BenchmarkError, ConfigError

__all__ = [
    "REAL_WORLD_ALIASES",
    "BenchScenario",
    "available_scenarios",
    "real_schemas_dir",
    "resolve_scenario",
]

logger = logging.getLogger(__name__)

#: Alias -> file name of a real-world schema in the schemas folder (see :func:`real_schemas_dir`).
REAL_WORLD_ALIASES: Mapping[str, str] = {
    "campfire": "basecamp__once-campfire__schema.rb",
    "rubygems": "rubygems__rubygems.org__schema.rb",
    "coursemology": "Coursemology__coursemology2__schema.rb",
}

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


@dataclass(frozen=True)
class BenchScenario:
    """A resolved scenario: the name it was asked by and the source the generator reads.

    Parameters
    ----------
    name : str
        The name as given (it is the ``scenario`` column of the measurement table).
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
        if self.synthetic_size is not None and (
            isinstance(self.synthetic_size, bool)
            or not isinstance(self.synthetic_size, int)
            or self.synthetic_size < 1
        ):
            raise ConfigError(
                f"scenario synthetic_size: expected a positive integer, got {self.synthetic_size!r}"
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
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(".rb.tmp")
                tmp.write_text(spec.render(), encoding="utf-8")
                os.replace(tmp, target)
            return target
        raise BenchmarkError(
            f"scenario {self.name!r} reads {self.source!r}, which is not a schema.rb file; "
            "a command using {schema} needs a schema.rb scenario"
        )


def _file_name(text: str) -> str:
    """A folder name for ``text`` (a synthetic spec): readable prefix and a short hash."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]
    return f"{re.sub(r'[^A-Za-z0-9]+', '-', text)[:40].strip('-')}-{digest}"


def real_schemas_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """Return the folder of real-world schemas, or None when it does not exist.

    ``$RRPERF_SCHEMAS_DIR`` wins; otherwise ``../shared/data/schemas`` relative to the folder
    holding the ``rrperf`` package checkout (a sibling of the repository).

    Parameters
    ----------
    env : mapping or None
        Environment to read; ``os.environ`` when None.
    """
    environ = os.environ if env is None else env
    configured = environ.get("RRPERF_SCHEMAS_DIR")
    if configured:
        folder = Path(configured)
        return folder if folder.is_dir() else None
    repo = Path(__file__).resolve().parents[2]
    folder = repo.parent / "shared" / "data" / "schemas"
    return folder if folder.is_dir() else None


def _real_world(env: Mapping[str, str] | None) -> dict[str, Path]:
    folder = real_schemas_dir(env)
    if folder is None:
        return {}
    found = {alias: folder / fname for alias, fname in REAL_WORLD_ALIASES.items()}
    return {alias: path for alias, path in found.items() if path.is_file()}


def _builtin_names() -> list[str]:
    from rrperf.schema.scenarios import SCENARIOS

    return list(SCENARIOS)


def _file_scenario(name: str, path: Path) -> BenchScenario:
    return BenchScenario(
        name=name, source=str(path), description=f"schema file {path.name}",
        schema_path=str(path) if path.suffix == ".rb" else None,
    )


def available_scenarios(env: Mapping[str, str] | None = None) -> list[str]:
    """Names accepted by :func:`resolve_scenario`, besides ``synthetic:N``, paths and URLs.

    Returns
    -------
    list of str
        The built-in scenarios, then the real-world aliases whose schema file exists.
    """
    return [*_builtin_names(), *sorted(_real_world(env))]


def resolve_scenario(name: str, *, env: Mapping[str, str] | None = None) -> BenchScenario:
    """Resolve a scenario name, alias, ``synthetic:N``, path or URL.

    Parameters
    ----------
    name : str
        See the module docstring for the accepted forms.
    env : mapping or None
        Environment for ``RRPERF_SCHEMAS_DIR``; ``os.environ`` when None.

    Returns
    -------
    BenchScenario

    Raises
    ------
    BenchmarkError
        If ``name`` is none of the accepted forms; the message lists the valid names.
    """
    if not isinstance(name, str) or not name:
        raise BenchmarkError(f"a scenario must be a non-empty string, got {name!r}")
    if name.startswith("synthetic:"):
        from rrperf.schema.synthetic import SyntheticSpec

        try:
            spec = SyntheticSpec.parse(name)
        except ConfigError as err:
            raise BenchmarkError(f"invalid synthetic scenario {name!r}: {err}") from err
        return BenchScenario(
            name=name,
            source=name,
            description=f"synthetic schema with {spec.n_tables} tables",
            synthetic_size=spec.n_tables,
        )
    if _URL.match(name):
        return BenchScenario(name=name, source=name, description=f"database {name}")
    path = Path(name).expanduser()
    # A name with a folder separator or a suffix is a path, never a built-in scenario name.
    if ("/" in name or os.sep in name or path.suffix) and path.is_file():
        return _file_scenario(name, path)
    from rrperf.schema.scenarios import SCENARIOS, get_scenario

    if name in SCENARIOS:
        sc = get_scenario(name)
        sc_path = getattr(sc, "path", None)
        size = getattr(sc, "synthetic_size", None)
        if sc_path is not None:
            return BenchScenario(
                name=name, source=str(sc_path), description=sc.description,
                schema_path=str(sc_path) if str(sc_path).endswith(".rb") else None,
            )
        if size is not None:
            return BenchScenario(
                name=name, source=f"synthetic:{size}", description=sc.description,
                synthetic_size=int(size),
            )
        return BenchScenario(name=name, source=name, description=sc.description)
    real = _real_world(env)
    if name in real:
        return BenchScenario(
            name=name, source=str(real[name]),
            description=f"real-world schema {REAL_WORLD_ALIASES[name]}",
            schema_path=str(real[name]),
        )
    if path.is_file():
        return _file_scenario(name, path)
    valid = ", ".join(available_scenarios(env))
    raise BenchmarkError(
        f"unknown scenario {name!r}; expected one of: {valid}, synthetic:N[:key=value...], "
        "a schema.rb or SQLite path, or a database URL"
    )
