"""The built-in scenarios: named schema inputs shipped with rrperf.

Four hand-written ``schema.rb`` files live in ``rrperf/data/scenarios/`` (also reachable as
the top-level ``data/`` folder of a checkout); ``synthetic:N[:key=value...]`` names a generated
schema (see :class:`rrperf.schema.synthetic.SyntheticSpec`).

========================  ======  ==========================================================
name                      tables  what it exercises
========================  ======  ==========================================================
``small``                 4       a blog: enum, array, jsonb, lambda default, has_one
``medium``                10      a shop: decimals, check constraints, self-reference,
                                  has_many through a join table, partial unique index
``large``                 18      project management: three enums, citext, inet, two join
                                  tables, many role-named keys (creator_id, assignee_id)
``polymorphic_heavy``     14      comments, attachments, taggings, activities, reactions,
                                  notifications, bookmarks, reports ... on X_type/X_id pairs
========================  ======  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rrperf.errors import SchemaSourceError

__all__ = [
    "SCENARIOS",
    "SCENARIO_DIR",
    "Scenario",
    "get_scenario",
    "list_scenarios",
    "valid_names",
]

#: Folder holding the built-in scenario files.
SCENARIO_DIR: Path = Path(__file__).resolve().parent.parent / "data" / "scenarios"

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
    """

    name: str
    description: str
    path: Path | None
    expected_models: int
    synthetic_size: int | None = None


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
    return ", ".join([*SCENARIOS, "synthetic:N[:seed=S]"])


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
    raise SchemaSourceError(f"unknown scenario {name!r}; valid names: {valid_names()}")
