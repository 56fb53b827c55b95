"""The scenarios: named schema inputs shipped with rrperf, and the one resolver of scenario
arguments that every command (``generate``, ``bench``, ``analyze``, ``report``) goes through.

Seven ``schema.rb`` files ship in ``rrperf/data/scenarios/`` (also reachable as the top-level
``data/`` folder of a checkout): four hand-written ones and, in ``real/``, three real dumps of
MIT-licensed Rails applications, byte-for-byte as published (attribution and licence notices
in ``real/README.md`` and ``real/LICENSES.md``). ``synthetic:N[:key=value...]`` names a generated
schema (see :class:`rrperf.schema.synthetic.SyntheticSpec`).

The names, their tables and what each exercises are :data:`SCENARIOS` (``rrperf scenarios``
lists them; README, "Using it", has their origins).

Besides a name, a scenario argument may be the path of a ``schema.rb`` file, of a SQLite
database or of a Rails application folder (holding ``db/schema.rb``), or a database URL
(``postgresql://...``). :func:`resolve_scenario` turns any of them into a
:class:`ResolvedScenario`; its ``label`` (the ``scenario`` column of measurements) is the name
as given, a path's file stem (``db/schema.rb`` -> ``schema``) or folder name, or a URL with
its password hidden.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rrperf.errors import SchemaSourceError

__all__ = [
    "REAL_SCHEMA_DIR",
    "SCENARIOS",
    "SCENARIO_DIR",
    "ResolvedScenario",
    "Scenario",
    "get_scenario",
    "list_scenarios",
    "resolve_scenario",
    "scenario_label",
    "unknown_scenario_message",
    "valid_names",
]

#: Folder holding the built-in scenario files.
SCENARIO_DIR: Path = Path(__file__).resolve().parent.parent / "data" / "scenarios"
#: Folder holding the three real-world schemas (with their README and LICENSES).
REAL_SCHEMA_DIR: Path = SCENARIO_DIR / "real"

_SYNTHETIC_EXAMPLE = "synthetic:1000"


@dataclass(frozen=True)
class Scenario:
    """A named schema input.

    Parameters
    ----------
    name : str
        What users type (``"small"``, ``"synthetic:1000"``).
    description : str
        One line for listings and reports.
    path : Path or None
        The ``schema.rb`` file of a built-in scenario; ``None`` for a synthetic one.
    expected_models : int
        Number of tables (hence generated models) the scenario yields.
    synthetic_size : int or None
        Number of tables of a synthetic scenario; ``None`` for a file.
    origin : str
        Where the schema comes from: ``"rrperf"`` (hand-written), ``"synthetic"``, or the
        repository, commit and licence of a real-world dump.
    """

    name: str
    description: str
    path: Path | None
    expected_models: int
    synthetic_size: int | None = None
    origin: str = "rrperf"


SCENARIOS: Mapping[str, Scenario] = {
    "small": Scenario(
        "small",
        "4-table blog: users, profiles (has_one), posts, comments",
        SCENARIO_DIR / "small.rb",
        4,
    ),
    "medium": Scenario(
        "medium",
        "10-table shop: customers, orders, products, a join table, a self-referencing tree",
        SCENARIO_DIR / "medium.rb",
        10,
    ),
    "large": Scenario(
        "large",
        "18-table project tracker: organizations, projects, tasks, two join tables, billing",
        SCENARIO_DIR / "large.rb",
        18,
    ),
    "polymorphic_heavy": Scenario(
        "polymorphic_heavy",
        "14-table social app where most tables use polymorphic X_type/X_id pairs",
        SCENARIO_DIR / "polymorphic_heavy.rb",
        14,
    ),
    "campfire": Scenario(
        "campfire",
        "15-table chat app (real dump, SQLite): rooms, messages, memberships, FTS5 search",
        REAL_SCHEMA_DIR / "basecamp__once-campfire__schema.rb",
        15,
        origin="basecamp/once-campfire@9310b00, MIT",
    ),
    "rubygems": Scenario(
        "rubygems",
        "56-table package registry (real dump, PostgreSQL): hstore, inet, interval, arrays",
        REAL_SCHEMA_DIR / "rubygems__rubygems.org__schema.rb",
        56,
        origin="rubygems/rubygems.org@3c8ea0d, MIT",
    ),
    "coursemology": Scenario(
        "coursemology",
        "176-table teaching platform (real dump, PostgreSQL): 338 foreign keys, pgvector",
        REAL_SCHEMA_DIR / "Coursemology__coursemology2__schema.rb",
        176,
        origin="Coursemology/coursemology2@6a98b34, MIT",
    ),
}


def _synthetic(name: str) -> Scenario:
    from rrperf.errors import ConfigError
    from rrperf.schema.synthetic import SyntheticSpec

    try:
        spec = SyntheticSpec.parse(name)
    except ConfigError as err:
        raise SchemaSourceError(f"invalid synthetic scenario {name!r}: {err}") from err
    extras = "" if name == f"synthetic:{spec.n_tables}" else f" ({spec.canonical})"
    return Scenario(
        name=name,
        description=f"synthetic schema with {spec.n_tables} tables{extras}",
        path=None,
        expected_models=spec.n_tables,
        synthetic_size=spec.n_tables,
        origin="synthetic",
    )


def list_scenarios() -> list[Scenario]:
    """The built-in scenarios in size order, then an example synthetic one (``synthetic:1000``).

    Returns
    -------
    list of Scenario
    """
    return [*SCENARIOS.values(), _synthetic(_SYNTHETIC_EXAMPLE)]


def valid_names() -> str:
    """The accepted names, for error messages."""
    return ", ".join([*SCENARIOS, "synthetic:N[:key=value...]"])


def unknown_scenario_message(name: str) -> str:
    """The one message every command gives for a scenario argument it cannot resolve."""
    return (
        f"unknown scenario {name!r} (and no such file); valid names: {valid_names()}; "
        "or a schema.rb or SQLite path, a Rails app folder, or a database URL"
    )


def get_scenario(name: str) -> Scenario:
    """Look a scenario up by name.

    Parameters
    ----------
    name : str
        A built-in name or ``synthetic:N[:key=value...]``.

    Returns
    -------
    Scenario

    Raises
    ------
    SchemaSourceError
        If the name is unknown (the message lists the valid names) or a synthetic
        specification is malformed.

    Examples
    --------
    >>> get_scenario("small").expected_models
    4
    >>> get_scenario("synthetic:250:seed=3").synthetic_size
    250
    """
    scenario = SCENARIOS.get(name)
    if scenario is not None:
        return scenario
    if name.startswith("synthetic:") or name == "synthetic":
        return _synthetic(name)
    raise SchemaSourceError(unknown_scenario_message(name))


# --- the one resolver of scenario arguments ----------------------------------------------------

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_URL_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*):[^@/?#]*@")


@dataclass(frozen=True)
class ResolvedScenario:
    """A scenario argument resolved: what to call it and what to read.

    Parameters
    ----------
    label : str
        The scenario's label in results and reports: a name as given, a path's file stem, a
        folder's name, or a database URL with its password hidden.
    source : str
        What :func:`rrperf.schema.sources.load_schema` reads: a file or folder path, a database
        URL or ``synthetic:N...``.
    kind : str
        ``"named"`` (a listed scenario), ``"synthetic"``, ``"path"`` or ``"database"``.
    description : str
        One line for listings and reports.
    schema_rb : Path or None
        The ``schema.rb`` file holding the schema, when there is one on disk.
    synthetic_size : int or None
        Number of tables of a synthetic scenario.
    """

    label: str
    source: str
    kind: str
    description: str
    schema_rb: Path | None = None
    synthetic_size: int | None = None


def scenario_label(argument: str) -> str:
    """The label of a scenario argument (see :class:`ResolvedScenario`), without resolving it.

    >>> scenario_label("db/schema.rb"), scenario_label("large")
    ('schema', 'large')
    >>> scenario_label("postgresql://app:secret@db/app")
    'postgresql://app:***@db/app'
    """
    if argument in SCENARIOS or argument.startswith("synthetic:") or argument == "synthetic":
        return argument
    if _URL.match(argument):
        return _URL_PASSWORD.sub(r"\1:***@", argument)
    path = Path(argument).expanduser()
    return path.stem or path.resolve().name


def resolve_scenario(argument: str) -> ResolvedScenario:
    """Resolve a scenario argument: a listed name, ``synthetic:N``, a path or a database URL.

    A listed name wins over a file of the same name in the working folder unless the argument
    has a folder separator or a suffix (``./small`` and ``small.rb`` are paths).

    Parameters
    ----------
    argument : str
        What the user typed.

    Returns
    -------
    ResolvedScenario

    Raises
    ------
    SchemaSourceError
        For an empty argument, a malformed ``synthetic:`` specification, a folder without a
        ``schema.rb``, or anything that is neither a listed name nor an existing path nor a URL
        (``unknown scenario 'x' (and no such file); valid names: ...``).

    Examples
    --------
    >>> resolve_scenario("campfire").schema_rb.name
    'basecamp__once-campfire__schema.rb'
    >>> resolve_scenario("synthetic:40").synthetic_size
    40
    """
    if not isinstance(argument, str) or not argument:
        raise SchemaSourceError(f"a scenario must be a non-empty string, got {argument!r}")
    if argument.startswith("synthetic:") or argument == "synthetic":
        sc = _synthetic(argument)
        return ResolvedScenario(
            argument, argument, "synthetic", sc.description, synthetic_size=sc.synthetic_size
        )
    if _URL.match(argument):
        label = scenario_label(argument)
        return ResolvedScenario(label, argument, "database", f"database {label}")
    path = Path(argument).expanduser()
    looks_like_path = "/" in argument or os.sep in argument or bool(path.suffix)
    named = SCENARIOS.get(argument)
    if named is not None and not (looks_like_path and path.exists()):
        assert named.path is not None
        return ResolvedScenario(
            argument, str(named.path), "named", named.description, schema_rb=named.path
        )
    if path.is_dir():
        for candidate in (path / "db" / "schema.rb", path / "schema.rb"):
            if candidate.is_file():
                return ResolvedScenario(
                    scenario_label(argument), argument, "path",
                    f"schema file {candidate}", schema_rb=candidate,
                )
        raise SchemaSourceError(
            f"{path} is a folder without db/schema.rb or schema.rb; "
            "pass a schema.rb file, a SQLite file, a database URL or a scenario name"
        )
    if path.is_file():
        return ResolvedScenario(
            scenario_label(argument), argument, "path", f"schema file {path.name}",
            schema_rb=path if path.suffix == ".rb" else None,
        )
    raise SchemaSourceError(unknown_scenario_message(argument))
