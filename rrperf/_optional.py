"""Import a heavy or optional dependency at the point of use, with an actionable error."""

from __future__ import annotations

import importlib
from types import ModuleType

from rrperf.errors import MissingDependencyError


def require(module: str, *, needed_by: str, extra: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the pip command."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        target = f"rrperf[{extra}]" if extra else module.split(".")[0]
        raise MissingDependencyError(
            f"{needed_by} needs {module}; install it with: pip install '{target}'"
        ) from err
