"""Stage and Pipeline: a named graph of callables, generic (it knows nothing of Rails).

A :class:`Stage` names a callable and the stages whose results it needs. When it runs, ``func``
receives those results as keyword arguments named after the dependencies::

    parse = Stage("parse", lambda: 21)
    double = Stage("double", lambda parse: parse * 2, depends_on=("parse",))
    Pipeline([parse, double]).run()["double"]  # 42

A dependency name may be any valid Python identifier; stage names that are not identifiers
(``"render:users"``) can still be depended on when ``func`` takes ``**kwargs``.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rrperf.errors import ConfigError, StageError

__all__ = ["Pipeline", "Stage"]


@dataclass(frozen=True)
class Stage:
    """One unit of work in a pipeline.

    Parameters
    ----------
    name : str
        Unique name; results are keyed by it.
    func : callable
        Called with the results of ``depends_on`` as keyword arguments.
    depends_on : tuple of str
        Names of the stages whose results ``func`` needs.
    cache_category : str or None
        The cache category whose policy applies to this stage's result, if any.
    """

    name: str
    func: Callable[..., Any]
    depends_on: tuple[str, ...] = ()
    cache_category: str | None = None
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"a stage name must be a non-empty string, got {self.name!r}")
        if isinstance(self.depends_on, str):
            object.__setattr__(self, "depends_on", (self.depends_on,))
        else:
            object.__setattr__(self, "depends_on", tuple(self.depends_on))
        if not callable(self.func):
            raise ConfigError(f"stage {self.name!r}: func must be callable, got {self.func!r}")

    def call(self, results: Mapping[str, Any]) -> Any:
        """Run ``func`` with the results of its dependencies (and fixed ``kwargs``)."""
        inputs = {dep: results[dep] for dep in self.depends_on}
        return self.func(**self.kwargs, **inputs)


class Pipeline:
    """An ordered, validated collection of stages forming a DAG.

    Raises
    ------
    ConfigError
        On a duplicate stage name, an unknown dependency or a cycle, before anything runs.
    """

    def __init__(self, stages: Iterable[Stage], *, name: str = "pipeline"):
        self.name = name
        self.stages: tuple[Stage, ...] = tuple(stages)
        self._by_name: dict[str, Stage] = {}
        for st in self.stages:
            if st.name in self._by_name:
                raise ConfigError(f"duplicate stage name {st.name!r} in pipeline {name!r}")
            self._by_name[st.name] = st
        for st in self.stages:
            for dep in st.depends_on:
                if dep not in self._by_name:
                    raise ConfigError(
                        f"stage {st.name!r} depends on unknown stage {dep!r}; "
                        f"known stages: {', '.join(sorted(self._by_name)) or '(none)'}"
                    )
        self._order = self._toposort()

    def _toposort(self) -> tuple[str, ...]:
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for st in self.stages:
            sorter.add(st.name, *st.depends_on)
        try:
            return tuple(sorter.static_order())
        except graphlib.CycleError as err:
            cycle = " -> ".join(err.args[1])
            raise ConfigError(f"pipeline {self.name!r} has a dependency cycle: {cycle}") from err

    def __getitem__(self, name: str) -> Stage:
        return self._by_name[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.stages)

    def __len__(self) -> int:
        return len(self.stages)

    @property
    def order(self) -> tuple[str, ...]:
        """A deterministic topological order of stage names."""
        return self._order

    def run(self) -> dict[str, Any]:
        """Run every stage in topological order in this thread; results keyed by stage name.

        A failing stage raises :class:`StageError` naming it, with the original exception as
        ``__cause__``; later stages are not run.
        """
        results: dict[str, Any] = {}
        for name in self._order:
            st = self._by_name[name]
            try:
                results[name] = st.call(results)
            except StageError:
                raise
            except Exception as err:
                raise StageError._during(name, err) from err
        return {st.name: results[st.name] for st in self.stages}
