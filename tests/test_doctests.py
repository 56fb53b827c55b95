"""Every docstring example in rrperf runs (diskcache's tests/test_doctest.py does the same).

Examples marked ``+SKIP`` in a docstring are illustrations of long runs (a full benchmark); the
doctest module leaves them out by design, and every other example must pass.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import rrperf


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(rrperf.__path__, prefix="rrperf."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_the_package_has_examples() -> None:
    attempted = 0
    for name in MODULES:
        finder = doctest.DocTestFinder()
        attempted += sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
    assert attempted >= 20


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_pass(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
